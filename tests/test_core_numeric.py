"""Each derived gradient agrees with a central difference of the model's loss at random points.

The loss is composed from the graph's node definitions and evaluated numerically by SymPy; the
gradient is the derivation's result, evaluated at the same point's forward-pass values.
"""

from __future__ import annotations

import random

import pytest
import sympy as sp

from symgrad.catalogue.models import catalogue_names

K = 3  # a concrete feature count, only for evaluating the symbolic-k logistic regression


def concrete(expr: sp.Expr, model, j: int | None = None) -> sp.Expr:
    """Fix the symbolic sizes of indexed models (k = 3, the index j) so SymPy can evaluate numbers."""
    sizes = {s: K for s in expr.free_symbols if s.name == "k"}
    if j is not None:
        sizes.update({s: j for s in expr.free_symbols if s.name == "j"})
    return expr.xreplace(sizes).doit() if sizes else expr


def forward_values(model, point: dict) -> dict:
    values = dict(point)
    for node in model.nodes:
        values[node.symbol] = sp.N(concrete(node.value, model).xreplace(values), 30)
    return values


def random_point(model, rng: random.Random) -> dict:
    point = {model.label: sp.Integer(rng.choice([0, 1]))}
    bases = {p.base for p in model.params if isinstance(p, sp.Indexed)} | {
        i.base for i in model.inputs if isinstance(i, sp.Indexed)
    }
    for base in bases:
        for index in range(1, K + 1):
            point[base[index]] = sp.Float(rng.uniform(-2, 2), 30)
    for symbol in [*model.params, *model.inputs]:
        if not isinstance(symbol, sp.Indexed):
            point[symbol] = sp.Float(rng.uniform(-2, 2), 30)
    return point


#: Models with layers of units (mlp, softmax) are checked at written-out sizes in test_core_layers.py.
LAYERED = ("mlp", "mlp-shared-bias", "softmax-regression", "mlp-softmax")
ABSTRACT = ("two-weight-chain-general", "two-weight-chain-abstract")  # unnamed functions: nothing to evaluate
TRAINABLE = [name for name in catalogue_names() if name not in ("sigmoid", *ABSTRACT, *LAYERED)]


@pytest.mark.parametrize("name", TRAINABLE)
@pytest.mark.parametrize("seed", range(3))
def test_gradients_match_central_differences(derived, name, seed):
    derivation = derived(name)
    model = derivation.model
    rng = random.Random(seed)
    point = random_point(model, rng)
    values = forward_values(model, point)
    loss_at = lambda p: forward_values(model, p)[model.loss.symbol]  # noqa: E731
    step = sp.Float("1e-12", 30)
    for result in derivation.results:
        if result.kind != "gradient" or result.lhs.wrt in model.vector_forms.values():
            continue
        param = result.lhs.wrt
        components = [param.base[i] for i in range(1, K + 1)] if isinstance(param, sp.Indexed) else [param]
        for index, component in enumerate(components, 1):
            symbolic = concrete(result.value, model, j=index).xreplace(values)
            plus, minus = dict(point), dict(point)
            plus[component] += step
            minus[component] -= step
            numeric = (loss_at(plus) - loss_at(minus)) / (2 * step)
            assert abs(sp.N(symbolic) - numeric) <= 1e-9 * max(1, abs(numeric)), (name, component)


def test_sigmoid_identity_numerically(derived):
    gamma = sp.Symbol("gamma")
    result = derived("sigmoid").result("ds/dgamma")
    for value in (-30, sp.Rational(-5, 2), 0, sp.Rational(7, 10), 12):
        exact = sp.diff(1 / (1 + sp.exp(-gamma)), gamma).subs(gamma, value)
        claimed = result.value.subs(gamma, value).rewrite(sp.exp)
        assert abs(sp.N(exact - claimed, 30)) < 1e-25
