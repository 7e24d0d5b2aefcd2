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
