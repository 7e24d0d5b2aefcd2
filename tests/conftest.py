"""Shared fixtures: derivations are pure functions of the catalogue, so derive each once per session."""

from __future__ import annotations

import functools
import os

import pytest

from symgrad.catalogue.models import derive_named

#: Numba's LLVM optimisation level for the loops the tests compile: 1 rather than the default 3. The tests check
#: what the loops compute (to the last bits where they compare), never how fast; at level 1 the same results come
#: out of a fifth less compile time (tests/test_codegen_numba.py alone: 84 s against 104 s on two cores). The
#: benchmarks, and every user, compile at the default level. Set before any generated module imports numba;
#: the processes the tests start inherit it.
os.environ.setdefault("NUMBA_OPT", "1")

#: Test files whose tests take seconds each: Numba compiles its loops, the benchmarks and the answer-key runs
#: start processes and judge whole keys, the field and algebra provers are compared on every step, and the
#: code generator's tests build and compare whole modules.  Their tests are marked slow, so that the quick
#: subset, ``python -m pytest -m "not slow"``, leaves them out; the full run (and CI) keeps them all.
SLOW_FILES = frozenset({
    "test_agreement.py", "test_benchmarks.py", "test_check_many.py", "test_check_styles.py", "test_codegen.py",
    "test_codegen_layers.py", "test_codegen_numba.py", "test_identity.py",
})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of :data:`SLOW_FILES` slow (see pyproject.toml's markers)."""
    for item in items:
        if item.path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)


@functools.cache
def derivation_of(name: str, **options: str):
    return derive_named(name, **options)


@pytest.fixture
def derived():
    """``derived(name, **options)`` → the (cached) Derivation."""
    return derivation_of


def _numeric(expr, values):
    """``expr`` as a float at ``values``: symgrad's functions written out as elementary ones first."""
    import sympy as sp

    from symgrad.model.functions import relu, sigmoid, softplus

    elementary = expr.replace(lambda e: isinstance(e, sigmoid), lambda e: 1 / (1 + sp.exp(-e.args[0])))
    elementary = elementary.replace(lambda e: isinstance(e, softplus), lambda e: sp.log(1 + sp.exp(e.args[0])))
    elementary = elementary.replace(lambda e: isinstance(e, relu), lambda e: sp.Max(0, e.args[0]))
    return float(sp.N(elementary.xreplace(values), 30))


def finite_difference_errors(derivation, seed: int, points: int = 3, step: float = 1e-6):
    """For each parameter at ``points`` random points: (symbolic gradient, central difference of the loss).

    The derivation's gradient is read in forward-pass values, so the forward pass is computed first,
    node by node; the loss is the loss node composed down to the inputs and parameters.
    """
    import random

    import sympy as sp

    model = derivation.model
    rng = random.Random(seed)
    composed = model.loss.value
    for node in reversed(model.forward_nodes):
        composed = composed.xreplace({node.symbol: node.value})
    pairs = []
    for _ in range(points):
        values = {q: sp.Float(rng.uniform(-1.5, 1.5), 30) for q in (*model.inputs, *model.params)}
        values[model.label] = sp.Float(rng.choice([0.0, 1.0]) if composed.has(sp.log) else rng.uniform(-1, 1), 30)
        forward = dict(values)
        for node in model.forward_nodes:
            forward[node.symbol] = sp.Float(_numeric(node.value, forward), 30)
        for param in model.params:
            symbolic = _numeric(derivation.gradient(param), forward)
            up, down = dict(values), dict(values)
            up[param] += step
            down[param] -= step
            numeric = (_numeric(composed, up) - _numeric(composed, down)) / (2 * step)
            pairs.append((str(param), symbolic, numeric))
    return pairs


@pytest.fixture
def gradient_pairs():
    """``gradient_pairs(derivation, seed)`` → [(parameter, symbolic gradient, central difference), …]."""
    return finite_difference_errors


def indexed_finite_differences(derivation, sizes: dict, seed: int, points: int = 2, step: float = 1e-6):
    """Like ``finite_difference_errors`` for layers: every size gets a number (``{"m": 2, "k": 3}``), every sum
    is carried out, every unit becomes its own quantity (h[1], h[2], …), and each parameter's gradient is
    compared with a central difference for every one of its components."""
    import itertools
    import random

    import sympy as sp

    model = derivation.model
    highs = [high for _, high in model.index_ranges.values() if isinstance(high, sp.Symbol)]
    numbers = {high: sp.Integer(sizes[high.name]) for high in highs}

    def concrete(expr):
        return sp.sympify(expr).xreplace(numbers).doit()  # sympify: a range bound may be a plain int

    def units(quantity):
        """Every (assignment of its indices, concrete unit) of an indexed quantity; a scalar is its own unit."""
        if not isinstance(quantity, sp.Indexed):
            return [({}, quantity)]
        ranges = [range(int(model.index_ranges[i][0]), int(concrete(model.index_ranges[i][1])) + 1)
                  for i in quantity.indices]
        assignments = [dict(zip(quantity.indices, values, strict=True)) for values in itertools.product(*ranges)]
        return [(assignment, quantity.xreplace(assignment)) for assignment in assignments]

    definitions = {}
    for node in model.forward_nodes:
        for assignment, unit in units(node.symbol):
            definitions[unit] = concrete(node.value.xreplace(assignment))
    composed = concrete(model.loss.value)
    for _ in range(len(model.nodes) + 1):
        composed = composed.xreplace(definitions)
    rng = random.Random(seed)
    pairs = []
    for _ in range(points):
        values = {}
        for quantity in (*model.inputs, *model.params):
            for _, unit in units(quantity):
                values[unit] = sp.Float(rng.uniform(-1.5, 1.5), 30)
        label_units = [unit for _, unit in units(model.label)]
        hot = rng.randrange(len(label_units))
        for position, unit in enumerate(label_units):
            values[unit] = sp.Float(1.0 if position == hot else 0.0, 30) if len(label_units) > 1 else \
                sp.Float(rng.choice([0.0, 1.0]), 30)
        forward = dict(values)
        for unit, definition in definitions.items():
            forward[unit] = sp.Float(_numeric(definition, forward), 30)
        for param in model.params:
            for assignment, unit in units(param):
                symbolic = _numeric(concrete(derivation.gradient(param).xreplace(assignment)), forward)
                up, down = dict(values), dict(values)
                up[unit] += step
                down[unit] -= step
                numeric = (_numeric(composed, up) - _numeric(composed, down)) / (2 * step)
                pairs.append((str(unit), symbolic, numeric))
    return pairs


@pytest.fixture
def indexed_gradient_pairs():
    """``indexed_gradient_pairs(derivation, sizes, seed)`` → [(parameter unit, symbolic, central difference), …]."""
    return indexed_finite_differences


def require_torch():
    """PyTorch, imported; without it, a skip with the reason, or a failure where CI requires it
    (``.ci/run`` installs torch==2.13.0 and sets SYMGRAD_REQUIRE_TORCH)."""
    try:
        import torch
    except ImportError:
        reason = "PyTorch is not installed (pip install torch==2.13.0; .ci/run does)"
        if os.environ.get("SYMGRAD_REQUIRE_TORCH"):
            pytest.fail(reason)
        pytest.skip(reason)
    return torch
