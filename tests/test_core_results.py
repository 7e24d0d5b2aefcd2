"""Every final result equals the handout's textbook form, as a SymPy identity (never a string compare).

The expected forms below are typed from the handouts (../shared/seeds/), not produced by symgrad.
"""

from __future__ import annotations

import pytest
import sympy as sp

from symgrad.model.functions import relu, sigmoid

x, w1, w2, z1, a1, z2, a2, y, alpha = sp.symbols("x w_1 w_2 z_1 a_1 z_2 a_2 y^* alpha")
Loss, g1, g2 = sp.Function("Loss"), sp.Function("g_1"), sp.Function("g_2")


def assert_identity(actual: sp.Expr, expected: sp.Expr) -> None:
    difference = sp.simplify(sp.sympify(actual).doit() - expected)
    assert difference == 0, f"{actual} != {expected}"


def test_sigmoid_identity_is_the_true_derivative(derived):
    gamma = sp.Symbol("gamma")
    result = derived("sigmoid").result("ds/dgamma")
    assert_identity(result.value, sigmoid(gamma) * (1 - sigmoid(gamma)))
    # and it is really the derivative of 1/(1 + e^-γ), checked without symgrad's fdiff
    explicit = result.value.replace(lambda e: isinstance(e, sigmoid), lambda e: 1 / (1 + sp.exp(-e.args[0])))
    assert sp.simplify(explicit - sp.diff(1 / (1 + sp.exp(-gamma)), gamma)) == 0


def test_logistic_regression_gradient_and_update(derived):
    derivation = derived("logistic-regression")
    j = sp.Symbol("j", integer=True, positive=True)
    xj = sp.IndexedBase("x")[j]
    h, label, eta = sp.symbols("h y eta")
    x_vec, w_vec = sp.Symbol(r"\mathbf{x}"), sp.Symbol(r"\mathbf{w}")
    assert_identity(derivation.result("dL/dw[j]").value, -xj * (label - h))
    assert_identity(derivation.gradient(w_vec), -x_vec * (label - h))
    assert_identity(derivation.result(r"update_\mathbf{w}").value, w_vec + eta * x_vec * (label - h))


def test_logistic_regression_keeps_k_and_j_symbolic(derived):
    derivation = derived("logistic-regression")
    gamma_node = derivation.model.forward_nodes[0]
    assert isinstance(gamma_node.value, sp.Sum)
    assert str(gamma_node.value.limits[0][2]) == "k"
    assert derivation.model.params[0].indices == (sp.Symbol("j", integer=True, positive=True),)


def test_two_weight_chain_handout_forms(derived):
    derivation = derived("two-weight-chain")
    assert_identity(derivation.gradient(w2), (a2 - y) * a2 * (1 - a2) * a1)
    assert_identity(derivation.gradient(w1), (a2 - y) * a2 * (1 - a2) * w2 * a1 * (1 - a1) * x)
    assert_identity(derivation.result("update_w_2").value, w2 - alpha * (a2 - y) * a2 * (1 - a2) * a1)
    assert_identity(derivation.result("update_w_1").value,
                    w1 - alpha * (a2 - y) * a2 * (1 - a2) * w2 * a1 * (1 - a1) * x)


def test_two_weight_chain_abstract_is_the_general_chain(derived):
    derivation = derived("two-weight-chain-abstract")
    dloss = sp.Derivative(Loss(a2, y), a2)
    assert_identity(derivation.gradient(w2), dloss * sp.Derivative(g2(z2), z2) * a1)
    assert_identity(derivation.gradient(w1), dloss * sp.Derivative(g2(z2), z2) * w2 * sp.Derivative(g1(z1), z1) * x)


def test_cross_entropy_with_sigmoid_output_collapses(derived):
    derivation = derived("two-weight-chain-cross-entropy")
    assert_identity(derivation.gradient(w2), (a2 - y) * a1)
    assert_identity(derivation.gradient(w1), (a2 - y) * w2 * a1 * (1 - a1) * x)
    collapse = [s for s in derivation.steps if "The error signal at " in s.title]
    assert collapse, "the derivation must show ∂Loss/∂z2 collapsing"
    assert_identity(collapse[0].equations[0].rhs[-1], a2 - y)


@pytest.mark.parametrize(
    ("activation", "local"),
    [
        ("tanh", lambda a, z: 1 - a**2),
        ("relu", lambda a, z: sp.Heaviside(z, 0)),
        ("identity", lambda a, z: sp.Integer(1)),
    ],
)
def test_activation_options(derived, activation, local):
    derivation = derived("two-weight-chain", activation=activation)
    assert_identity(derivation.gradient(w2), (a2 - y) * local(a2, z2) * a1)
    assert_identity(derivation.gradient(w1), (a2 - y) * local(a2, z2) * w2 * local(a1, z1) * x)


def test_relu_derivation_states_its_subgradient(derived):
    derivation = derived("two-weight-chain", activation="relu")
    explanations = " ".join(str(part) for step in derivation.steps for part in step.explanation)
    assert "subgradient" in explanations
    assert derivation.model.forward_nodes[1].expr == relu(z1)


def test_mixed_activations_and_cross_entropy(derived):
    derivation = derived("two-weight-chain", hidden_activation="tanh", output_activation="sigmoid",
                         loss="cross-entropy")
    assert_identity(derivation.gradient(w1), (a2 - y) * w2 * (1 - a1**2) * x)


def test_chain_rule_products_are_unevaluated_node_partials_in_chain_order(derived):

    derivation = derived("two-weight-chain")
    chain_steps = [s for s in derivation.steps if s.title[0] == "The chain rule for "]
    w1_chain = [s for s in chain_steps if s.title[1] == w1][0]
    product = w1_chain.equations[0].rhs[0]
    expected = [(sp.Symbol("Loss"), a2), (a2, z2), (z2, a1), (a1, z1), (z1, w1)]
    assert [(f.of, f.wrt) for f in product.args] == expected
