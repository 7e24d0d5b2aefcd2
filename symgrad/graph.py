"""A model as a small computation graph of named SymPy nodes.

A :class:`Model` holds inputs, a label, parameters and an ordered list of
:class:`Node` s (forward order, the loss last).  Everything downstream (the
derivation, the printers, the code generator, the checker) reads the graph and
never retypes a formula.  The graph also owns the one meaning of a partial
derivative, :meth:`Model.partial`, so that proofs, printing and checking agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import sympy as sp


class Partial(sp.Expr):
    """The partial derivative ∂u/∂v of graph quantity ``u`` with respect to ``v``, unevaluated.

    It stays a symbol-like factor so that a chain-rule product keeps its factors
    in chain order and never cancels algebraically; :meth:`Model.partial` says
    what it is worth.
    """

    is_commutative = True

    def __new__(cls, of: sp.Expr, wrt: sp.Expr) -> "Partial":
        return sp.Expr.__new__(cls, sp.sympify(of), sp.sympify(wrt))

    @property
    def of(self) -> sp.Expr:
        return self.args[0]

    @property
    def wrt(self) -> sp.Expr:
        return self.args[1]


@dataclass(frozen=True)
class Node:
    """A named intermediate quantity: ``symbol`` is defined as ``expr``.

    ``expr`` may be an unevaluated, handout-shaped tree (``x·w_1``,
    ``-[y ln h + …]``); ``value`` is the same expression in SymPy's canonical
    form, which is what algebra and proofs use.
    """

    symbol: sp.Expr
    expr: sp.Expr
    value: sp.Expr = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", evaluated(self.expr))


@dataclass(frozen=True)
class Notation:
    """How a model is written in its handout.

    ``symbols`` maps a SymPy symbol (or indexed base) to its LaTeX; ``functions``
    maps a function's name (``"sigmoid"``, ``"g1"``) to its LaTeX name;
    ``partial`` is ``"\\partial"`` or ``"d"``; ``label_first`` writes a residual
    as ``(y - h)`` (logistic-regression handout) instead of ``(a_2 - y^*)``.
    """

    symbols: dict[sp.Basic, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    partial: str = r"\partial"
    label_first: bool = False


@dataclass(frozen=True)
class Model:
    """A differentiable model: the inputs, label and parameters feed ``nodes``; the last node is the loss.

    A node, input, label or parameter may be indexed (``h_j``, ``w_{ij}``): it then
    stands for every unit of its layer, and ``index_ranges`` says how far each
    free index runs (j from 1 to k).  The derivation is done once for the general
    sizes; nothing is expanded unit by unit.
    """

    name: str
    description: str
    inputs: tuple[sp.Expr, ...]
    label: sp.Expr
    params: tuple[sp.Expr, ...]
    nodes: tuple[Node, ...]
    step_size: sp.Symbol
    notation: Notation = field(default_factory=Notation)
    vector_forms: dict[sp.Expr, sp.Symbol] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    index_ranges: dict[sp.Symbol, tuple[sp.Expr, sp.Expr]] = field(default_factory=dict)

    # ---- structure -------------------------------------------------------
    @property
    def loss(self) -> Node:
        return self.nodes[-1]

    @property
    def forward_nodes(self) -> tuple[Node, ...]:
        return self.nodes[:-1]

    def node(self, symbol: sp.Expr) -> Node | None:
        for node in self.nodes:
            if node.symbol == symbol:
                return node
        return None

    def direct_inputs(self, node: Node) -> list[sp.Expr]:
        """The graph quantities ``node`` reads directly, in model order."""
        candidates = [*self.inputs, *self.params, *(n.symbol for n in self.nodes)]
        return [c for c in candidates if c != node.symbol and depends_on(node.expr, c)]

    def paths(self, param: sp.Expr) -> list[list[sp.Expr]]:
        """Every path loss → … → ``param`` through the graph, as lists of quantities."""

        def walk(current: sp.Expr) -> Iterator[list[sp.Expr]]:
            if current == param:
                yield [current]
                return
            node = self.node(current)
            if node is None:
                return
            for parent in self.direct_inputs(node):
                for rest in walk(parent):
                    yield [current, *rest]

        return list(walk(self.loss.symbol))

    # ---- the one meaning of a partial derivative -------------------------
    def expand_towards(self, expr: sp.Expr, wrt: sp.Expr) -> sp.Expr:
        """Replace every node that depends on ``wrt`` by its definition, until only ``wrt`` carries the dependence."""
        for node in reversed(self.nodes):
            if node.symbol != wrt and self.node_depends_on(node, wrt) and expr.has(node.symbol):
                expr = expr.xreplace({node.symbol: node.value})
        return expr

    def node_depends_on(self, node: Node, wrt: sp.Expr) -> bool:
        if depends_on(node.expr, wrt):
            return True
        return any(self.node_depends_on(self.node(p), wrt) for p in self.direct_inputs(node) if self.node(p))

    def partial_unevaluated(self, of: sp.Expr, wrt: sp.Expr) -> sp.Derivative:
        """∂of/∂wrt as a SymPy Derivative of ``of`` expanded just far enough to show its dependence on ``wrt``."""
        node = self.node(of)
        expr = node.value if node is not None else of
        return sp.Derivative(self.expand_towards(expr, wrt), wrt)

    def partial(self, of: sp.Expr, wrt: sp.Expr) -> sp.Expr:
        """∂of/∂wrt with every other independent quantity held fixed, written in node symbols where possible."""
        return drop_index_range(self.partial_unevaluated(of, wrt).doit().doit())

    def explicit(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with every Partial as an unevaluated Derivative and every node replaced by its definition.

        A vector (**w**, **x**) stands for its generic component (w_j, x_j): a
        vector equation holds when it holds for every component.
        """
        expr = expr.xreplace({vector: component for component, vector in self.vector_forms.items()})
        partials = {p: self.partial_unevaluated(p.of, p.wrt) for p in expr.atoms(Partial)}
        expr = evaluated(expr.xreplace(partials))
        for node in reversed(self.nodes):  # subs, not xreplace: a derivative by a node becomes a Subs
            expr = expr.subs(node.symbol, node.value)
        return expr

    def in_forward_values(self, expr: sp.Expr) -> sp.Expr:
        """Write ``expr`` in forward-pass values: each node's definition becomes its symbol (σ(z₂) → a₂)."""
        definitions = {node.value: node.symbol for node in self.forward_nodes}
        return _replace_outside_derivatives(expr, definitions)

    def vector_form(self, expr: sp.Expr) -> sp.Expr:
        """Replace indexed components (x_j) by their vectors (**x**), for the gradient vector."""
        return expr.xreplace(self.vector_forms)


def evaluated(expr: sp.Expr) -> sp.Expr:
    """``expr`` rebuilt bottom-up so that every unevaluated sum, product and power takes its canonical form."""
    if not expr.args:
        return expr
    return expr.func(*(evaluated(arg) for arg in expr.args))


def depends_on(expr: sp.Expr, var: sp.Expr) -> bool:
    """Whether ``expr`` mentions ``var``; an indexed parameter w_j counts through its base w (Σ_i w_i x_i)."""
    if isinstance(var, sp.Indexed):
        return expr.has(var.base)
    return expr.has(var)


def drop_index_range(expr: sp.Expr) -> sp.Expr:
    """Differentiating Σ_{i=1}^{k} w_i x_i by w_j gives x_j only for 1 ≤ j ≤ k; j is in range by construction."""

    def in_range(piecewise: sp.Piecewise) -> bool:
        first_condition = piecewise.args[0].cond
        return bool(first_condition.free_symbols) and all(s.is_integer for s in first_condition.free_symbols)

    return expr.replace(lambda e: isinstance(e, sp.Piecewise) and in_range(e), lambda e: e.args[0].expr)


def _replace_outside_derivatives(expr: sp.Expr, mapping: dict[sp.Expr, sp.Expr]) -> sp.Expr:
    if expr in mapping:
        return mapping[expr]
    if isinstance(expr, (sp.Derivative, sp.Subs)) or not expr.args:
        return expr
    new_args = [_replace_outside_derivatives(arg, mapping) for arg in expr.args]
    if all(new is old for new, old in zip(new_args, expr.args)):
        return expr
    return expr.func(*new_args)
