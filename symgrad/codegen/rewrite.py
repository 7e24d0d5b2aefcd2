"""Numerically stable forms, as rewrite rules applied to the derived expressions.

After ``sympy/codegen/rewriting.py``: each rule is data (a query and a replacement, wrapped in
SymPy's ``ReplaceOptim``) and ``optimize`` applies the list.  The derived log-loss reads
``ln s(γ)`` and ``ln(1 - s(γ))``; evaluated as written, s(γ) rounds to 0 or 1 for large |γ| and the
log is -inf.  Since ln s(γ) = -ln(1 + e^{-γ}) = -logaddexp(0, -γ) and ln(1 - s(γ)) = ln s(-γ), the
rules rewrite both into ``logaddexp``, which NumPy evaluates without overflow for any γ.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.codegen.numpy_nodes import logaddexp
from sympy.codegen.rewriting import ReplaceOptim, optimize

from symgrad.model.functions import sigmoid
from symgrad.model.graph import Model


def _sigmoid_argument(expr: sp.Expr, complement: bool) -> sp.Expr | None:
    """u when ``expr`` is s(u) (or 1 - s(u) with ``complement``), else None."""
    if complement:
        rest = sp.expand(1 - expr)
        return rest.args[0] if isinstance(rest, sigmoid) else None
    return expr.args[0] if isinstance(expr, sigmoid) else None


def _is_log_of(complement: bool):
    return lambda e: isinstance(e, sp.log) and _sigmoid_argument(e.args[0], complement) is not None


@dataclass(frozen=True)
class Rule:
    """A rewrite, and an expression it applies to, which a docstring shows before and after when it fired."""

    optimization: ReplaceOptim
    example: sp.Expr

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        return optimize(expr, [self.optimization])


_u = sp.Symbol("u")
LOG_SIGMOID = Rule(
    ReplaceOptim(_is_log_of(False), lambda e: -logaddexp(0, -_sigmoid_argument(e.args[0], False))),
    sp.log(sigmoid(_u)),
)
LOG_ONE_MINUS_SIGMOID = Rule(
    ReplaceOptim(_is_log_of(True), lambda e: -logaddexp(0, _sigmoid_argument(e.args[0], True))),
    sp.log(1 - sigmoid(_u)),
)

#: The rules applied to every loss, in this order.
LOSS_RULES: tuple[Rule, ...] = (LOG_SIGMOID, LOG_ONE_MINUS_SIGMOID)


def apply_rules(expr: sp.Expr, rules: tuple[Rule, ...]) -> tuple[sp.Expr, list[Rule]]:
    """``expr`` rewritten by each rule in turn, and the rules that changed it."""
    fired = []
    for rule in rules:
        rewritten = rule(expr)
        if rewritten != expr:
            fired.append(rule)
        expr = rewritten
    return expr, fired


def stable_loss(model: Model) -> tuple[sp.Expr, list[Rule]]:
    """The per-sample loss in forward-pass values, with its logs of activations in stable form.

    The loss reads activations by name (ln a_2); to see the sigmoid inside, each forward node the
    loss reads is replaced by its definition (a_2 → s(z_2)), the rules rewrite what they can, and
    any definition left over is named again (s(z_2) → a_2), so that it reuses the forward pass.
    """
    definitions = {node.symbol: node.value for node in model.forward_nodes}
    expanded = model.loss.value.xreplace(definitions)
    rewritten, fired = apply_rules(expanded, LOSS_RULES)
    if not fired:
        return model.loss.value, []
    names = {node.value: node.symbol for node in model.forward_nodes}
    return rewritten.xreplace(names), fired


def softmax_parts(node_value: sp.Expr) -> tuple[sp.Indexed, sp.Sum] | None:
    """(u_l, Σ_q e^{u_q}) when ``node_value`` is the softmax e^{u_l} / Σ_q e^{u_q}, else None."""
    numerator, denominator = sp.fraction(node_value)
    if not (isinstance(numerator, sp.exp) and isinstance(numerator.args[0], sp.Indexed)):
        return None
    if not (isinstance(denominator, sp.Sum) and isinstance(denominator.function, sp.exp)):
        return None
    (index, _, _), = denominator.limits
    if denominator.function.args[0].xreplace({index: numerator.args[0].indices[-1]}) != numerator.args[0]:
        return None
    return numerator.args[0], denominator


def log_softmax(symbol: sp.Indexed, scores: sp.Indexed, total: sp.Sum, at: sp.Indexed) -> sp.Expr:
    """ln p at the unit ``at`` (p_q for a node p_l): u_q - ln Σ_r e^{u_r}, the sum's index kept apart from q.

    Computed this way, with ln Σ e^u as the module's log-sum-exp, a softmax neither overflows at
    u = 1000 nor takes the log of an underflowed 0.
    """
    renaming = dict(zip(symbol.indices, at.indices, strict=True))
    (bound, low, high), = total.limits
    taken = {s.name for s in at.free_symbols | scores.free_symbols}
    fresh = bound
    while fresh.name in taken:
        fresh = sp.Symbol(fresh.name + "'", integer=True, positive=True)
    summand = total.function.xreplace({bound: fresh})
    return scores.xreplace(renaming) - sp.log(sp.Sum(summand, (fresh, low, high)))
