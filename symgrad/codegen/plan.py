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

    @property
    def key(self) -> sp.Symbol:
        """How the other expressions read it: by its target."""
        return self.target


@dataclass(frozen=True)
class UnitAssignment:
    """``target = expr`` for one sample, in index notation: one value per unit of ``axes`` (none: one number).

    ``key`` is the quantity's own symbol or IndexedBase, as the other expressions read it (h_j reads ``h``).
    """

    key: sp.Basic
    target: str
    expr: sp.Expr
    axes: tuple[sp.Symbol, ...]


@dataclass(frozen=True, eq=False)
class IndexForm:
    """The plan for one sample, in the derivation's index notation: what a target that loops over a
    sample's units prints (the Numba target, for a layered model).  The array form above and this one
    come from the same lowering, the same CSE and the same temporaries.

    ``arrays`` gives each leaf and temporary its Python name and axes (``tensor.Array``); ``rows`` are the
    keys read from the data's row of the sample (the input, the label); ``ranges`` each index's size,
    as a size name (``m``, ``k``) or a number; ``outputs`` the per-sample loss and then each parameter's
    gradient, in the order of ``Plan.gradients``.
    """

    arrays: dict
    rows: frozenset
    ranges: dict
    assignments: tuple[UnitAssignment, ...]
    outputs: tuple[sp.Expr, ...]

    def needed(self, *outputs: sp.Expr) -> tuple[UnitAssignment, ...]:
        """The assignments that ``outputs`` read, directly or through each other, in order."""
        return needed(self.assignments, outputs)


def needed(assignments, outputs) -> tuple:
    """Of ``assignments`` (each with the ``key`` its readers name it by), those ``outputs`` read, directly or
    through each other, in their order."""
    wanted = set().union(*(reads(o) for o in outputs))
    kept = []
    for assignment in reversed(assignments):
        if assignment.key in wanted:
            kept.append(assignment)
            wanted |= reads(assignment.expr)
    return tuple(reversed(kept))


def reads(expr: sp.Expr) -> set[sp.Basic]:
    """The quantities ``expr`` reads: the bases of its indexed leaves and its plain symbols."""
    expr = sp.sympify(expr)
    return {i.base for i in expr.atoms(sp.Indexed)} | {s for s in expr.free_symbols if isinstance(s, sp.Symbol)}


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
    per_sample: IndexForm  # the same plan for one sample, in index notation

    def shape(self, python_name: str) -> tuple[str, ...]:
        """The shape of the array named ``python_name``."""
        return dict(self.shapes)[python_name]

    def needed(self, *outputs: sp.Expr) -> tuple[Assignment, ...]:
        """The assignments that ``outputs`` read, directly or through each other, in order."""
        return needed(self.assignments, outputs)


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
