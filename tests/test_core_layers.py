"""The indexed models (mlp, mlp-shared-bias, softmax-regression, mlp-softmax): derived once for general
sizes, and right.

Each derived gradient is checked three ways that do not share code with the derivation: against the
formulas the course writes down (typed here, from the issue), against central differences of the loss
written out at concrete sizes, and by the prover refusing the chains a student gets wrong.
"""

from __future__ import annotations

import itertools
import random

import mpmath
import pytest
import sympy as sp

from symgrad.catalogue.models import derive_named, lookup
from symgrad.derivation.derive import derive
from symgrad.derivation.forms import product
from symgrad.derivation.prove import are_equal
from symgrad.derivation.steps import Equation
from symgrad.model.graph import Partial

i, j, l, q = sp.symbols("i j l q", integer=True, positive=True)  # noqa: E741 (the handouts' class index l)
m, k, C = sp.symbols("m k C", integer=True, positive=True)
x, w, b, v, c, h, z, u, p, y = (sp.IndexedBase(n) for n in ("x", "w", "b", "v", "c", "h", "z", "u", "p", "y"))
p_out, y_out, c_out, b_shared = sp.symbols("p y c b")

LAYERED = ("mlp", "mlp-shared-bias", "softmax-regression", "mlp-softmax")

#: The course's answers, in forward-pass values (issue 5).
EXPECTED = {
    "mlp": {
        v[j]: (p_out - y_out) * h[j],
        c_out: p_out - y_out,
        w[i, j]: (p_out - y_out) * v[j] * h[j] * (1 - h[j]) * x[i],
        b[j]: (p_out - y_out) * v[j] * h[j] * (1 - h[j]),
    },
    "mlp-shared-bias": {
        b_shared: sp.Sum((p_out - y_out) * v[j] * h[j] * (1 - h[j]), (j, 1, k)),
    },
    "softmax-regression": {
        w[i, j]: (p[j] - y[j]) * x[i],
        b[j]: p[j] - y[j],
    },
    "mlp-softmax": {
        v[j, l]: (p[l] - y[l]) * h[j],
        c[l]: p[l] - y[l],
        w[i, j]: x[i] * h[j] * (1 - h[j]) * sp.Sum(v[j, l] * (p[l] - y[l]), (l, 1, C)),
        b[j]: h[j] * (1 - h[j]) * sp.Sum(v[j, l] * (p[l] - y[l]), (l, 1, C)),
    },
}


@pytest.fixture(scope="module")
def layered():
    return {name: derive_named(name) for name in LAYERED}


def _same(a: sp.Expr, b_: sp.Expr) -> bool:
    """Equal as expressions once products and sums are expanded (sums compared term by term)."""
    def expanded(e):
        return sp.expand(e.replace(lambda s: isinstance(s, sp.Sum), lambda s: sp.Sum(sp.expand(s.function), *s.limits)))
    return sp.simplify(expanded(a) - expanded(b_)) == 0


@pytest.mark.parametrize("name", LAYERED)
def test_gradients_are_the_course_s_formulas(layered, name):
    derivation = layered[name]
    for param, expected in EXPECTED[name].items():
        assert _same(derivation.gradient(param), expected), (name, param, derivation.gradient(param))


def test_the_derivation_is_general_in_the_sizes(layered):
    """One derivation for every m, k and C: the sizes appear only as symbols in sum ranges."""
    for name, derivation in layered.items():
        for step in derivation.steps:
            for equation in step.equations:
                for side in (equation.lhs, *equation.rhs):
                    numbers = {n for n in sp.sympify(side).atoms(sp.Integer) if abs(n) > 2}
                    assert not numbers, (name, side)
    assert any(isinstance(s, sp.Sum) and s.limits[0][2] == C
               for s in layered["softmax-regression"].model.loss.value.atoms(sp.Sum))


# ---- central differences of the loss, written out at concrete sizes ---------------------------------

SIZES = {m: 3, k: 4, C: 3}


def _written_out(model, expr: sp.Expr) -> sp.Expr:
    expr = model.explicit(expr).xreplace(SIZES)
    return expr.replace(lambda s: isinstance(s, sp.Sum), lambda s: s.doit(deep=False))


def _random_point(expr: sp.Expr, rng: random.Random, one_hot: sp.IndexedBase | None) -> dict:
    point = {a: sp.Float(rng.uniform(-1.5, 1.5), 30) for a in expr.atoms(sp.Indexed) | expr.atoms(sp.Symbol)
             if not (isinstance(a, sp.Symbol) and a.is_integer)}
    if one_hot is not None:
        hot = rng.randrange(1, SIZES[C] + 1)
        point.update({one_hot[n]: sp.Integer(n == hot) for n in range(1, SIZES[C] + 1)})
    else:
        point[y_out] = sp.Integer(rng.randrange(2))
    return point


@pytest.mark.parametrize("name", LAYERED)
def test_gradients_agree_with_central_differences(layered, name):
    derivation = layered[name]
    model = derivation.model
    one_hot = y if isinstance(model.label, sp.Indexed) else None
    loss = _written_out(model, model.loss.symbol)
    mpmath.mp.dps = 40
    rng = random.Random(5)
    point = _random_point(loss, rng, one_hot)
    variables = sorted(point, key=str)
    loss_at = sp.lambdify(variables, loss, "mpmath")
    values = [point[a] for a in variables]
    step = sp.Float("1e-12", 30)
    for param in model.params:
        free = [index for index in (param.indices if isinstance(param, sp.Indexed) else ())]
        for entries in itertools.product(*(range(1, SIZES[model.index_ranges[f][1]] + 1) for f in free)):
            assignment = dict(zip(free, entries, strict=True))
            entry = param.xreplace(assignment)
            position = variables.index(entry)
            up, down = list(values), list(values)
            up[position] += step
            down[position] -= step
            numeric = (loss_at(*up) - loss_at(*down)) / (2 * step)
            gradient = _written_out(model, derivation.gradient(param).xreplace(assignment))
            symbolic = gradient.xreplace(point).evalf(30)
            assert abs(symbolic - numeric) < 1e-9, (name, entry, symbolic, numeric)


# ---- the prover refuses what students get wrong ------------------------------------------------------

def test_a_single_path_through_the_softmax_is_refused():
    entry, _ = lookup("softmax-regression")
    model = entry.build()
    single = product(Partial(model.loss.symbol, p[j]), Partial(p[j], z[j]), Partial(z[j], w[i, j]))
    summed = sp.Sum(product(Partial(model.loss.symbol, p[l]), Partial(p[l], z[j]), Partial(z[j], w[i, j])), (l, 1, C))
    target = Partial(model.loss.symbol, w[i, j])
    assert are_equal(model, target, summed)
    assert not are_equal(model, target, single)


def test_the_softmax_jacobian_is_shown_and_proven(layered):
    derivation = layered["softmax-regression"]
    jacobian = [eq for step in derivation.steps for eq in step.equations if eq.lhs == Partial(p[l], z[j])]
    assert jacobian, "the node partial ∂p_l/∂z_j is a step"
    assert _same(jacobian[0].rhs[-1], p[l] * (sp.KroneckerDelta(j, l) - p[j]))
    entry, _ = lookup("softmax-regression")
    wrong = Equation(Partial(p[l], z[j]), (p[l] * (1 - p[j]),))
    assert not are_equal(entry.build(), wrong.lhs, wrong.rhs[0])


def test_the_reason_for_the_sum_is_explained(layered):
    text = " ".join(str(part) for step in layered["softmax-regression"].steps for part in step.explanation)
    assert "depends on" in text and "single path" in text


# ---- a numeric layer size is derived as a symbol: nothing grows with it -------------------------------

def _with_hidden_units(model, units: int):
    from dataclasses import replace

    from symgrad.model.graph import Node

    def fix(e):
        def concrete(s):
            return sp.Sum(s.function, *[(n, lo, sp.Integer(units) if hi == k else hi) for n, lo, hi in s.limits])

        return e.replace(lambda s: isinstance(s, sp.Sum), concrete)

    nodes = tuple(Node(n.symbol, fix(n.expr), tuple((fix(a), fix(b_)) for a, b_ in n.rewrites)) for n in model.nodes)
    ranges = {n: (lo, sp.Integer(units) if hi == k else hi) for n, (lo, hi) in model.index_ranges.items()}
    return replace(model, nodes=nodes, index_ranges=ranges)


@pytest.mark.parametrize("units", [1, 1024])
def test_a_numeric_hidden_size_gives_the_general_derivation_with_the_number(layered, units):
    entry, options = lookup("mlp-shared-bias")
    fixed = _with_hidden_units(entry.build(**options), units)
    derivation = derive(fixed, verify=False)
    general = layered["mlp-shared-bias"]
    assert derivation.model is fixed
    for mine, theirs in zip(derivation.results, general.results, strict=True):
        assert mine.value == theirs.value.xreplace({k: units}), (mine.name, mine.value)
    assert not any(r.value.has(sp.KroneckerDelta) for r in derivation.results)
    assert any(isinstance(s, sp.Sum) and s.limits[0][2] == units
               for r in derivation.results for s in r.value.atoms(sp.Sum))


# ---- limits of the size-2 check, and graphs with two routes to one parameter ------------------------

def test_identities_true_only_at_size_two_are_refused():
    mlp_model = lookup("mlp")[0].build()
    assert not are_equal(mlp_model, Partial(mlp_model.loss.symbol, c_out), (p_out - y_out) * (k - 1))
    softmax_model = lookup("softmax-regression")[0].build()
    half_trace = sp.Rational(1, 2) * sp.Sum(Partial(p[l], z[l]), (l, 1, C))
    assert not are_equal(softmax_model, Partial(p[j], z[j]), half_trace)
    three_different = (1 - sp.KroneckerDelta(i, j)) * (1 - sp.KroneckerDelta(j, l)) * (1 - sp.KroneckerDelta(i, l))
    assert not are_equal(softmax_model, three_different, sp.S.Zero)


def _tied_bias_model():
    """A bias b read by every hidden unit and by the output: two routes from the loss to b."""
    from symgrad.model.functions import ACTIVATIONS, LOSSES
    from symgrad.model.graph import Model, Node

    nodes = (
        Node(z[j], sp.Add(sp.Sum(w[i, j] * x[i], (i, 1, m)), b_shared, evaluate=False)),
        Node(h[j], ACTIVATIONS["sigmoid"](z[j])),
        Node(u_out := sp.Symbol("u"), sp.Add(sp.Sum(v[j] * h[j], (j, 1, k)), b_shared, evaluate=False)),
        Node(p_out, ACTIVATIONS["sigmoid"](u_out)),
        Node(sp.Symbol("L"), LOSSES["cross-entropy"](p_out, y_out)),
    )
    return Model("tied-bias", "a bias in two layers", (x[i],), y_out, (w[i, j], b_shared), nodes, sp.Symbol("eta"),
                 index_ranges={i: (1, m), j: (1, k)})


def test_a_parameter_read_by_two_layers_sums_both_routes_once():
    derivation = derive(_tied_bias_model())  # every step proven
    expected = (p_out - y_out) + (p_out - y_out) * sp.Sum(v[j] * h[j] * (1 - h[j]), (j, 1, k))
    assert _same(derivation.gradient(b_shared), expected)


def test_only_the_softmax_cross_entropy_makes_its_label_one_hot():
    from symgrad.model.functions import one_hot_facts, softmax_cross_entropy_loss

    softmax_loss = softmax_cross_entropy_loss(p[j], y[j], (l, 1, C))
    assert one_hot_facts(softmax_loss, y[j]) == {sp.Sum(y[l], (l, 1, C)): 1}
    multi_label = -sp.Sum(y[l] * sp.log(p[l]) + (1 - y[l]) * sp.log(1 - p[l]), (l, 1, C))
    assert one_hot_facts(multi_label, y[j]) == {}
