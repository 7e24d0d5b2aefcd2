"""Shared fixtures: derivations are pure functions of the catalogue, so derive each once per session."""

from __future__ import annotations

import functools

import pytest

from symgrad.models import derive_named


@functools.lru_cache(maxsize=None)
def derivation_of(name: str, **options: str):
    return derive_named(name, **options)


@pytest.fixture
def derived():
    """``derived(name, **options)`` → the (cached) Derivation."""
    return derivation_of


def _numeric(expr, values):
    """``expr`` as a float at ``values``: symgrad's functions written out as elementary ones first."""
    import sympy as sp

    from symgrad.functions import relu, sigmoid, softplus

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
