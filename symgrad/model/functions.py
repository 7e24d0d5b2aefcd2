"""The activation and loss library, as SymPy objects.

Each activation is a SymPy ``Function`` whose ``fdiff`` is the textbook local
derivative, so that SymPy's chain rule produces the handout forms directly
(``sigmoid'(z) = sigmoid(z)(1 - sigmoid(z))`` rather than a fraction of
exponentials).  Proofs never rely on these derivatives: the prover rewrites
``sigmoid`` into exponentials before it differentiates (see ``prove.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp


class sigmoid(sp.Function):  # noqa: N801  (SymPy functions are lower case)
    """The logistic function s(x) = 1 / (1 + e^{-x})."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        if arg.is_zero:
            return sp.S.Half
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        value = sigmoid(self.args[0])
        return value * (1 - value)

    def _eval_rewrite_as_exp(self, arg: sp.Expr, **kwargs: object) -> sp.Expr:
        return 1 / (1 + sp.exp(-arg))


class relu(sp.Function):  # noqa: N801
    """The rectifier max(0, x); its derivative is taken as H(x) with H(0) = 0,
    the subgradient every deep-learning library uses at the kink."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        return sp.Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Max(self, arg: sp.Expr, **kwargs: object) -> sp.Expr:
        return sp.Max(0, arg)

    def _eval_evalf(self, prec: int) -> sp.Expr | None:
        """A number at a numeric argument (a claim checked at a random point), as max(0, x) gives it."""
        value = self.args[0].evalf(prec)
        return sp.Max(0, value) if value.is_number and value.is_real else None


class softplus(sp.Function):  # noqa: N801
    """softplus(x) = ln(1 + e^x), a smooth rectifier; its derivative is the sigmoid."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, arg: sp.Expr, **kwargs: object) -> sp.Expr:
        return sp.log(1 + sp.exp(arg))


def identity(arg: sp.Expr) -> sp.Expr:
    """The identity activation, for linear output layers."""
    return arg


Activation = Callable[[sp.Expr], sp.Expr]

ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": sigmoid,
    "tanh": sp.tanh,
    "relu": relu,
    "softplus": softplus,
    "identity": identity,
}


def quadratic_loss(prediction: sp.Expr, label: sp.Expr) -> sp.Expr:
    """½(a - y)², the handout's regression-style loss."""
    return sp.Rational(1, 2) * (prediction - label) ** 2


def cross_entropy_loss(prediction: sp.Expr, label: sp.Expr) -> sp.Expr:
    """-[y ln a + (1 - y) ln(1 - a)], kept unevaluated so it prints as written."""
    inner = sp.Add(
        sp.Mul(label, sp.log(prediction)),
        sp.Mul(1 - label, sp.log(1 - prediction)),
        evaluate=False,
    )
    return sp.Mul(sp.S.NegativeOne, inner, evaluate=False)


def softmax(scores: sp.Indexed, classes: tuple[sp.Symbol, sp.Expr, sp.Expr]) -> sp.Expr:
    """e^{z_j} / Σ_l e^{z_l}: the unit ``scores`` (z_j) of a layer, over the ``classes`` range (l, 1, C)."""
    index, low, high = classes
    others = scores.base[(*scores.indices[:-1], index)]
    return sp.exp(scores) / sp.Sum(sp.exp(others), (index, low, high))


def softmax_cross_entropy_loss(
    prediction: sp.Indexed, label: sp.Indexed, classes: tuple[sp.Symbol, sp.Expr, sp.Expr]
) -> sp.Expr:
    """-Σ_l y_l ln p_l for class probabilities p and a one-hot label y, summed over ``classes`` (l, 1, C)."""
    index, low, high = classes
    term = label.base[index] * sp.log(prediction.base[index])
    return sp.Mul(sp.S.NegativeOne, sp.Sum(term, (index, low, high)), evaluate=False)


def softmax_rewrites(probability: sp.Indexed, value: sp.Expr) -> tuple[tuple[sp.Expr, sp.Expr], ...]:
    """For a node p_j defined as the softmax e^{z_j}/Σ_l e^{z_l}: the rewrite e^{z_j} = p_j Σ_l e^{z_l},
    which writes its derivatives back in forward-pass values (p_j(δ_jl - p_l)); none for other nodes."""
    numerator, normaliser = sp.sympify(value).as_numer_denom()
    if (isinstance(probability, sp.Indexed) and isinstance(numerator, sp.exp)
            and isinstance(numerator.args[0], sp.Indexed)
            and isinstance(normaliser, sp.Sum) and isinstance(normaliser.function, sp.exp)):
        return ((numerator, probability * normaliser),)
    return ()


def one_hot_facts(loss: sp.Expr, label: sp.Expr) -> dict[sp.Expr, sp.Expr]:
    """Σ_l y_l = 1 when ``loss`` is the softmax cross-entropy -Σ_l y_l ln p_l of the indexed ``label``:
    that loss is only meant for a one-hot label.  Any other loss (a multi-label sum of binary
    cross-entropies, say) states nothing about its label."""
    total = sp.Mul(sp.S.NegativeOne, loss)  # evaluated, also when the loss is an unevaluated -(…)
    if not isinstance(label, sp.Indexed) or not isinstance(total, sp.Sum) or len(total.limits) != 1:
        return {}
    index, low, high = total.limits[0]
    entry, log = label.base[index], sp.Wild("log")
    match = total.function.match(entry * log)
    if match is None or not isinstance(match[log], sp.log):
        return {}
    return {sp.Sum(entry, (index, low, high)): sp.S.One}


Loss = Callable[[sp.Expr, sp.Expr], sp.Expr]

LOSSES: dict[str, Loss] = {
    "quadratic": quadratic_loss,
    "cross-entropy": cross_entropy_loss,
}
