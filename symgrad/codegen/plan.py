"""The Plan: what lowering hands the templates, still as SymPy (every model, scalar or layered).

Both lowerings (``lower.py`` for scalar and vector models, ``layers.py`` for layers of units) build one; the
contexts of the NumPy and Numba templates read it.  It lives apart from either lowering so that neither
imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symgrad.codegen.names import Name
from symgrad.codegen.nodes import Item
from symgrad.codegen.rewrite import Rule
from symgrad.derivation.steps import ASSIGN, Derivation
from symgrad.errors import UsageError
from symgrad.model.graph import Model, Partial

#: The name of the dict that ``update`` reads the gradients from (``grads["w"]``).
GRADIENTS = sp.Symbol("grads")


@dataclass(frozen=True)
class Assignment:
    """``target = expr``; ``note`` is the handout's definition for a forward node, else empty."""

    target: sp.Symbol
    expr: sp.Expr
    note: str = ""


@dataclass(frozen=True)
class Param:
    """A parameter: its key in the params dict and its shape as data dimension names (``()`` for a scalar)."""

    key: str
    dims: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """Everything a template needs, still as SymPy: printing happens in ``render.py``."""

    name: str
    model: Model
    names: tuple[Name, ...]
    data: sp.Symbol
    label: sp.Symbol
    params: tuple[Param, ...]
    dims: tuple[tuple[str, int], ...]  # dimension name → axis of the data
    assignments: tuple[Assignment, ...]
    prediction: sp.Symbol
    loss: sp.Expr
    loss_rules: tuple[Rule, ...]  # the stable rewrites the loss went through
    gradients: tuple[tuple[str, sp.Expr], ...]
    updates: tuple[tuple[str, sp.Expr], ...]

    def needed(self, *outputs: sp.Expr) -> tuple[Assignment, ...]:
        """The assignments that ``outputs`` read, directly or through each other, in order."""
        wanted: set[sp.Symbol] = set().union(*(sp.sympify(o).free_symbols for o in outputs))
        kept = []
        for assignment in reversed(self.assignments):
            if assignment.target in wanted:
                kept.append(assignment)
                wanted |= assignment.expr.free_symbols
        return tuple(reversed(kept))


def update_rule(derivation: Derivation, param: sp.Expr, rename: dict[sp.Basic, sp.Symbol], name: str) -> sp.Expr:
    """The derivation's update rule ``w ← w - α·∂L/∂w``, with ∂L/∂w read from ``grads`` and α named ``lr``."""
    model = derivation.model
    target = model.vector_forms.get(param, param)
    rules = [e for step in derivation.steps for e in step.equations if e.relation == ASSIGN and e.lhs == target]
    if not rules:
        raise UsageError(f"cannot generate {name}: the derivation has no update rule for {target}")
    rule = rules[0].rhs[0]
    key = rename[param]
    lowered = rule.xreplace({Partial(model.loss.symbol, target): Item(GRADIENTS, key)}).xreplace(rename)
    if lowered.free_symbols - {key, rename[model.step_size], GRADIENTS} or lowered.has(Partial):
        raise UsageError(f"cannot generate {name}: the update rule for {target} is not written with its gradient")
    return lowered
