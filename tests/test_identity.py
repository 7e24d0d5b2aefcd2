"""The prime-field identity test proves what the derivations state, refutes what is changed, and keeps the
graph's meaning of a partial (an edge holds every other node fixed; a partial through nodes is total)."""

from __future__ import annotations

import pytest
import sympy as sp

from symgrad.catalogue.build import ModelBuilder
from symgrad.catalogue.models import catalogue_names, derive_named
from symgrad.derivation import prove
from symgrad.derivation.derive import derive
from symgrad.derivation.identity import Unsupported, sides_agree
from symgrad.model.functions import relu, sigmoid
from symgrad.model.graph import Partial

x, u, v = sp.symbols("x u v")


@pytest.fixture(scope="module")
def catalogue_obligations():
    """Every pair of sides each catalogue derivation proves, with its model (built unproven: cheap)."""
    pairs = []
    for name in catalogue_names():
        derivation = derive_named(name, verify=False)
        for step in derivation.steps:
            for equation in step.equations:
                pairs += [(name, derivation.model, left, right) for left, right in equation.obligations()]
    return pairs


def test_the_field_proves_every_step_of_every_catalogue_derivation(catalogue_obligations):
    unproven = [(name, str(left), str(right)) for name, model, left, right in catalogue_obligations
                if not sides_agree(model, left, right)]
    assert len(catalogue_obligations) > 200
    assert unproven == []


@pytest.mark.parametrize("change", ["twice", "plus one", "negated"])
def test_a_changed_right_side_is_refuted(catalogue_obligations, change):
    """No step survives a change of its right side (the field's test is not a rubber stamp)."""
    survivors = []
    for name, model, left, right in catalogue_obligations:
        if right == 0:
            continue
        changed = {"twice": 2 * right, "plus one": right + 1, "negated": -right}[change]
        if sides_agree(model, left, changed):
            survivors.append((name, str(left), str(changed)))
    assert survivors == []


@pytest.mark.slow
@pytest.mark.parametrize("name", catalogue_names())
def test_algebra_agrees_with_the_field_on_every_step(catalogue_obligations, name):
    """The fallback (write out, differentiate, cancel) proves the same steps, so it stays a working prover."""
    pairs = [(model, left, right) for n, model, left, right in catalogue_obligations if n == name]
    assert pairs
    assert all(prove.equal_by_algebra(model, left, right) for model, left, right in pairs)


@pytest.mark.parametrize("lhs, rhs, equal", [
    (sp.exp(2 * x), sp.exp(x) ** 2, True),
    (sp.exp(-x) * sp.exp(x), 1, True),
    (sp.exp(x) * sp.exp(x), sp.exp(2 * x), True),
    (sp.tanh(x), (sp.exp(2 * x) - 1) / (sp.exp(2 * x) + 1), True),
    (sigmoid(x), 1 / (1 + sp.exp(-x)), True),
    (sigmoid(x), 1 / (1 + sp.exp(x)), False),
    (sp.Derivative(sigmoid(x), x), sigmoid(x) * (1 - sigmoid(x)), True),
    (sp.Derivative(sigmoid(x), x), sigmoid(x) * (sigmoid(x) - 1), False),
    (sp.Derivative(sp.log(1 + sp.exp(x)), x), sigmoid(x), True),
    (sp.Derivative(sp.tanh(u * x), u), x * (1 - sp.tanh(u * x) ** 2), True),
    (sp.Derivative(sp.tanh(u * x), u), (1 - sp.tanh(u * x) ** 2), False),
    ((u + v) ** 2, u**2 + 2 * u * v + v**2, True),
    ((u + v) ** 2, u**2 + v**2, False),
])
def test_elementary_identities(lhs, rhs, equal):
    assert sides_agree(None, lhs, rhs) is equal


def test_a_relation_the_field_does_not_see_is_left_to_algebra():
    """e^{-x}·e^{x+1} = e: the field gives e^{x+1} a value of its own (it knows only integer multiples of one
    exponent), so the sides differ there; that proves nothing, and the algebra proves the identity."""
    assert not sides_agree(None, sp.exp(-x) * sp.exp(x + 1), sp.E)
    assert prove.are_equal(None, sp.exp(-x) * sp.exp(x + 1), sp.E)


def test_what_the_field_cannot_evaluate_is_unsupported_and_algebra_decides():
    with pytest.raises(Unsupported):
        sides_agree(None, sp.Derivative(relu(x), x), sp.Heaviside(x, 0))
    with pytest.raises(Unsupported):
        sides_agree(None, sp.sqrt(x + 1), x)
    assert prove.are_equal(None, sp.Derivative(relu(u * x), u), x * sp.Heaviside(u * x, 0))
    assert not prove.are_equal(None, sp.Derivative(relu(u * x), u), sp.Heaviside(u * x, 0))


@pytest.fixture(scope="module")
def skip_model():
    """z1 = x·w1, a1 = tanh(z1), z2 = a1·w2 + z1 (a skip connection around a1), L = ½(z2 - y)²."""
    net = ModelBuilder("skip")
    net.input("x")
    net.label("y")
    net.params("w1 w2")
    net.node("z1", "x * w1")
    net.node("a1", "tanh(z1)")
    net.node("z2", "a1 * w2 + z1")
    net.loss("L", "quadratic(z2, y)")
    return net.build()


def test_an_edge_partial_holds_the_other_nodes_fixed(skip_model):
    z1, a1, z2, w2 = sp.symbols("z_1 a_1 z_2 w_2")
    assert sides_agree(skip_model, Partial(z2, z1), sp.S.One)
    assert not sides_agree(skip_model, Partial(z2, z1), w2 * (1 - a1**2) + 1)


def test_a_partial_through_nodes_is_the_total_derivative(skip_model):
    z1, a1, z2, w1, w2, x, y, loss = sp.symbols("z_1 a_1 z_2 w_1 w_2 x y L")
    through = (z2 - y) * (w2 * (1 - a1**2) + 1)
    assert sides_agree(skip_model, Partial(loss, z1), through)
    assert not sides_agree(skip_model, Partial(loss, z1), z2 - y)
    assert sides_agree(skip_model, Partial(loss, w1), through * x)


def test_a_one_hot_label_sums_to_one_only_in_a_model_that_says_so():
    model = derive_named("softmax-regression", verify=False).model
    total = next(iter(model.assumptions))  # Σ_l y_l
    assert sides_agree(model, total, sp.S.One)
    assert not sides_agree(None, total, sp.S.One)


def test_a_deep_chain_is_proven_without_algebra(monkeypatch):
    """A chain of 20 tanh nodes: every step in the field, none left to the algebra (whose cost grows steeply)."""
    net = ModelBuilder("deep-chain")
    net.input("x")
    net.label("y")
    net.params(" ".join(f"w{n}" for n in range(1, 21)))
    previous = "x"
    for n in range(1, 21):
        net.node(f"z{n}", f"{previous} * w{n}")
        net.node(f"a{n}", f"tanh(z{n})")
        previous = f"a{n}"
    net.loss("L", f"quadratic({previous}, y)")

    def no_algebra(*args):
        raise AssertionError("a step of the chain fell back to algebra")

    monkeypatch.setattr(prove, "equal_by_algebra", no_algebra)
    derivation = derive(net.build())
    assert len([r for r in derivation.results if r.kind == "gradient"]) == 20
