"""The Plan: what lowering hands every target, still as SymPy.

``lower.py`` builds one for any model; each target's context (``context.py`` for NumPy, ``fused.py`` for
Numba, ``torch_context.py`` for PyTorch) prints it with its own printer.  It lives apart from the lowering
so that a target reads the Plan and never the lowering's internals.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symgrad.codegen.array_nodes import Item
from symgrad.codegen.names import Name
from symgrad.codegen.rewrite import Rule
from symgrad.codegen.shapes import Size
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
    """Everything a target needs, still as SymPy: its context prints it."""

    name: str
    model: Model
    names: tuple[Name, ...]
    data: sp.Symbol
    label: sp.Symbol
    params: tuple[Param, ...]
    sizes: tuple[Size, ...]  # each size symbol and where init_params reads it
    shapes: tuple[tuple[str, tuple[str, ...]], ...]  # each array's Python name → its shape, "N" for the samples
    assignments: tuple[Assignment, ...]
    prediction: sp.Symbol
    loss: sp.Expr  # the mean over the samples
    loss_rules: tuple[Rule, ...]  # the stable rewrites the loss went through
    stable_notes: tuple[tuple[sp.Expr, sp.Expr], ...]  # (ln p_l, its stable array form), for the docstring
    gradients: tuple[tuple[str, sp.Expr], ...]  # each parameter's key → the mean of its gradient
    updates: tuple[tuple[str, sp.Expr], ...]

    def shape(self, python_name: str) -> tuple[str, ...]:
        """The shape of the array named ``python_name``."""
        return dict(self.shapes)[python_name]

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
