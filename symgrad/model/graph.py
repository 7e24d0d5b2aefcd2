"""A model as a small computation graph of named SymPy nodes.

A :class:`Model` holds inputs, a label, parameters and an ordered list of
:class:`Node` s (forward order, the loss last).  Everything downstream (the
derivation, the printers, the code generator, the checker) reads the graph and
never retypes a formula.  The graph also owns the one meaning of a partial
derivative, :meth:`Model.partial`, so that proofs, printing and checking agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import sympy as sp


class Partial(sp.Expr):
    """The partial derivative ∂u/∂v of graph quantity ``u`` with respect to ``v``, unevaluated.

    It stays a symbol-like factor so that a chain-rule product keeps its factors
    in chain order and never cancels algebraically; :meth:`Model.partial` says
    what it is worth.
    """

    is_commutative = True

    def __new__(cls, of: sp.Expr, wrt: sp.Expr) -> Partial:
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

    ``rewrites`` are (pattern, replacement) pairs that write other expressions in
    this node's value, for nodes whose definition is not a single subexpression
    (softmax: e^{z_l} = p_l Σ_q e^{z_q}); every equation they help print is still proven.

    ``expr`` may be an unevaluated, handout-shaped tree (``x·w_1``,
    ``-[y ln h + …]``); ``value`` is the same expression in SymPy's canonical
    form, which is what algebra and proofs use.
    """

    symbol: sp.Expr
    expr: sp.Expr
    rewrites: tuple[tuple[sp.Expr, sp.Expr], ...] = ()
    value: sp.Expr = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", evaluated(self.expr))

    def reindexed(self, symbol: sp.Indexed) -> Node:
        """This indexed node under another index (h_j defined as σ(z_j) gives h_l = σ(z_l))."""
        if symbol == self.symbol:
            return self
        renaming = dict(zip(self.symbol.indices, symbol.indices, strict=False))
        expr = fresh_bound_indices(self.expr, avoid=symbol.indices)
        rewrites = tuple((p.xreplace(renaming), v.xreplace(renaming)) for p, v in self.rewrites)
        return Node(symbol, expr.xreplace(renaming), rewrites)


@dataclass(frozen=True)
class Path:
    """A chain through the graph from the loss down to a parameter.

    ``quantities`` run loss first; ``sums`` are (index, low, high) ranges the chain
    is summed over, for units that all depend on the quantity below them.
    """

    quantities: tuple[sp.Expr, ...]
    sums: tuple[tuple[sp.Symbol, sp.Expr, sp.Expr], ...]

    @property
    def edges(self) -> list[tuple[sp.Expr, sp.Expr]]:
        return list(zip(self.quantities, self.quantities[1:], strict=False))


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
    sizes; nothing is expanded unit by unit.  ``assumptions`` are facts about the
    data the derivation may use (a one-hot label sums to 1).
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
    assumptions: dict[sp.Expr, sp.Expr] = field(default_factory=dict)
    #: the command line that builds this model again (``symgrad derive two-weight-chain --loss cross-entropy``),
    #: set by whoever built it and can say (the catalogue); None for a model built in Python.  Not part of the
    #: model's identity: the same graph is the same model, however it was made.
    command: str | None = field(default=None, compare=False, repr=False)

    # ---- structure -------------------------------------------------------
    def __getitem__(self, name: str) -> sp.Expr:
        """The quantity called ``name``: ``model["a1"]``, ``model["a_1"]`` and ``model["a_{1}"]`` are a_1, so that
        a reader can name what the handout prints without knowing how SymPy spells it (``y*`` for y^*, ``w`` or
        ``w_ij`` for w_{ij}).  An unknown name raises :class:`UnknownName`, which lists the names there are."""
        named = self.quantities()
        found = named.get(name_key(name))
        if found is None:
            names = ", ".join(dict.fromkeys(name_key(str(quantity)) for quantity in named.values()))
            raise UnknownName(f"{self.name} has no quantity {name!r}; its names: {names}")
        return found

    def quantities(self) -> dict[str, sp.Expr]:
        """Every named quantity (inputs, label, parameters, nodes, step size, vectors) by its plain name, in model
        order; an indexed one (w_{ij}) also by its base's name (w)."""
        named: dict[str, sp.Expr] = {}
        everything = (*self.inputs, self.label, *self.params, *(node.symbol for node in self.nodes), self.step_size,
                      *self.vector_forms.values())
        for quantity in everything:
            named.setdefault(name_key(str(quantity)), quantity)
            if isinstance(quantity, sp.Indexed):
                named.setdefault(name_key(str(quantity.base)), quantity)
        return named

    @property
    def loss(self) -> Node:
        return self.nodes[-1]

    @property
    def forward_nodes(self) -> tuple[Node, ...]:
        return self.nodes[:-1]

    def node(self, symbol: sp.Expr) -> Node | None:
        """The node that ``symbol`` names; ``h_l`` names the node ``h_j`` with its index renamed."""
        for node in self.nodes:
            if node.symbol == symbol:
                return node
            if (isinstance(symbol, sp.Indexed) and isinstance(node.symbol, sp.Indexed)
                    and symbol.base == node.symbol.base):
                return node.reindexed(symbol)
        return None

    def direct_inputs(self, node: Node) -> list[sp.Expr]:
        """The graph quantities ``node`` reads directly, in model order."""
        candidates = [*self.inputs, *self.params, *(n.symbol for n in self.nodes)]
        return [c for c in candidates if not _same_quantity(c, node.symbol) and depends_on(node.value, c)]

    def paths(self, param: sp.Expr) -> list[Path]:
        """Every path loss → … → ``param`` through the graph.

        Walked upwards from the parameter: at each node that reads the current
        quantity, the node's unit is the one aligned with it (z_j reads w_ij, so
        z_j) unless the node reads it through a sum or not by index at all (p_l =
        e^{z_l}/Σ_q e^{z_q} reads every z; z_j reads a shared scalar b).  Then every
        unit of the node depends on the current one, the node gets an index of its
        own, and the chain sums over it.
        """
        loss = self.loss.symbol

        def walk(current: sp.Expr, used: frozenset) -> Iterator[Path]:
            if current == loss:
                yield Path((current,), ())
                return
            for node in self.nodes:
                if _same_quantity(node.symbol, current) or not depends_on(node.value, current):
                    continue
                unit, summed = self._reading_unit(node, current, used)
                fresh = frozenset(limit[0] for limit in summed)
                for upper in walk(unit, used | fresh):
                    yield Path((*upper.quantities, current), (*summed, *upper.sums))

        return list(walk(param, frozenset(sp.sympify(param).free_symbols)))

    def _reading_unit(self, node: Node, current: sp.Expr, used: frozenset) -> tuple[sp.Expr, tuple]:
        """The unit of ``node`` that reads ``current``, and the sums the chain needs over its units."""
        if not isinstance(node.symbol, sp.Indexed):
            return node.symbol, ()
        readings = [e.indices for e in node.value.atoms(sp.Indexed)
                    if isinstance(current, sp.Indexed) and e.base == current.base]
        renaming: dict[sp.Symbol, sp.Symbol] = {}
        summed = []
        for index in node.symbol.indices:
            aligned = {current.indices[reading.index(index)] if index in reading else None for reading in readings}
            if len(aligned) == 1 and None not in aligned:
                renaming[index] = aligned.pop()
                continue
            name = self._free_index_like(index, used | set(renaming.values()) | {limit[0] for limit in summed})
            renaming[index] = name
            low, high = self.index_ranges[index]
            summed.append((name, low, high))
        return node.symbol.xreplace(renaming), tuple(summed)

    def _free_index_like(self, index: sp.Symbol, used: set) -> sp.Symbol:
        """``index`` itself if it is free, else another declared index with the same range, else a primed one."""
        if index not in used:
            return index
        bounds = self.index_ranges.get(index)
        for other, other_bounds in self.index_ranges.items():
            if other not in used and bounds is not None and other_bounds == bounds:
                return other
        return primed(index, set(used))

    # ---- the one meaning of a partial derivative -------------------------
    def substitute_nodes(self, expr: sp.Expr, nodes: list[Node]) -> sp.Expr:
        """Replace each of ``nodes`` by its definition, wherever it occurs and under whatever index (h_l → σ(z_l))."""
        for node in nodes:
            if isinstance(node.symbol, sp.Indexed):
                base = node.symbol.base
                expr = expr.replace(  # a derivative *by* h_j first becomes Subs(∂…/∂t, t, h_j)
                    lambda e, base=base: isinstance(e, sp.Derivative)
                    and any(isinstance(v, sp.Indexed) and v.base == base for v in e.variables),
                    derivative_as_subs,
                )
                expr = expr.replace(
                    lambda e, base=base: isinstance(e, sp.Indexed) and e.base == base,
                    lambda e, node=node: node.reindexed(e).value,
                )
            else:
                expr = expr.xreplace({node.symbol: node.value})
        return expr

    def expand_towards(self, expr: sp.Expr, wrt: sp.Expr) -> sp.Expr:
        """Replace every node that depends on ``wrt`` by its definition, until only ``wrt`` carries the dependence."""
        for node in reversed(self.nodes):
            if (not _same_quantity(node.symbol, wrt) and self.node_depends_on(node, wrt)
                    and depends_on(expr, node.symbol)):
                expr = self.substitute_nodes(expr, [node])
        return expr

    def node_depends_on(self, node: Node, wrt: sp.Expr) -> bool:
        if depends_on(node.value, wrt):
            return True
        parents = [self.node(p) for p in self.direct_inputs(node)]
        return any(self.node_depends_on(p, wrt) for p in parents if p is not None and p.symbol != node.symbol)

    def partial_unevaluated(self, of: sp.Expr, wrt: sp.Expr) -> sp.Derivative:
        """∂of/∂wrt as a SymPy Derivative of ``of`` expanded just far enough to show its dependence on ``wrt``."""
        if of == wrt:  # ∂z/∂z = 1, not the derivative of z's definition by the symbol z
            return sp.Derivative(of, wrt)
        node = self.node(of)
        expr = node.value if node is not None else of
        if node is None or not depends_on(expr, wrt):  # reached through other nodes: expand towards it
            expr = self.expand_towards(expr, wrt)
        # else an edge of the graph: the local partial, every other node read here held fixed (a bias
        # used in two layers, a skip connection: each route is its own chain, never counted twice)
        return sp.Derivative(fresh_bound_indices(expr, avoid=sp.sympify(wrt).free_symbols), wrt)

    def partial(self, of: sp.Expr, wrt: sp.Expr) -> sp.Expr:
        """∂of/∂wrt with every other independent quantity held fixed, written in node symbols where possible."""
        derivative = drop_index_range(self.partial_unevaluated(of, wrt).doit().doit())
        return self.assume(canonical_sums(derivative))

    def assume(self, expr: sp.Expr) -> sp.Expr:
        """Apply the model's facts about its data (Σ_l y_l = 1 for a one-hot label)."""
        if not self.assumptions:
            return expr
        return canonical_sums(expr).xreplace({canonical_sums(k): v for k, v in self.assumptions.items()})

    def readable_sums(self, expr: sp.Expr, prefer: Iterable[tuple] = ()) -> sp.Expr:
        """Give canonically named summation indices (i_{0}) back a name: one of the ``prefer`` limits
        (index, low, high) with the same range, so that a sum keeps the name it had a line earlier,
        else the first model index with that range that the expression does not use, else a primed one."""
        canonical = {limit[0]: limit for total in expr.atoms(sp.Sum) for limit in total.limits
                     if limit[0].name.startswith("i_{")}
        if not canonical:
            return expr
        used = set(expr.free_symbols) | {s for s in expr.atoms(sp.Symbol) if not s.name.startswith("i_{")}
        renaming = {}
        for index, low, high in canonical.values():
            preferred = [i for i, lo, hi in prefer if (lo, hi) == (low, high) and i not in used]
            like = next((i for i, bounds in self.index_ranges.items() if bounds == (low, high)), None)
            if preferred:
                name = preferred[0]
            elif like is not None:
                name = self._free_index_like(like, used)
            else:
                name = self._free_index_like(sp.Symbol("n", integer=True, positive=True), used)
            renaming[index] = name
            used.add(name)
        return expr.xreplace(renaming)

    def explicit(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with every Partial as an unevaluated Derivative and every node replaced by its definition.

        A vector (**w**, **x**) stands for its generic component (w_j, x_j): a
        vector equation holds when it holds for every component.
        """
        expr = expr.xreplace({vector: component for component, vector in self.vector_forms.items()})
        partials = {p: self.partial_unevaluated(p.of, p.wrt) for p in expr.atoms(Partial)}
        expr = evaluated(expr.xreplace(partials))
        for node in reversed(self.nodes):
            if isinstance(node.symbol, sp.Indexed):
                expr = self.substitute_nodes(expr, [node])
            else:  # subs, not xreplace: a derivative by a node becomes a Subs
                expr = expr.subs(node.symbol, node.value)
        return expr

    def in_forward_values(self, expr: sp.Expr) -> sp.Expr:
        """Write ``expr`` in forward-pass values: each node's definition becomes its symbol (σ(z₂) → a₂, σ(z_l) → h_l).

        A node's ``rewrites`` (e^{z_l} = p_l Σ e^{z}) are applied first, outside sums, so that the
        normalising sums cancel; then every definition is replaced by its node, under any index.
        """
        definitions, rewrites = [], []
        for node in self.forward_nodes:
            wilds = {}
            if isinstance(node.symbol, sp.Indexed):
                wilds = {i: sp.Wild(f"index_{i}", properties=[lambda e: e.is_integer]) for i in node.symbol.indices}
            definitions.append((canonical_sums(node.value).xreplace(wilds), node.symbol.xreplace(wilds)))
            rewrites += [(canonical_sums(p).xreplace(wilds), canonical_sums(v).xreplace(wilds))
                         for p, v in node.rewrites]
        expr = canonical_sums(expr)
        if rewrites:
            expr = _rewrite_outside_derivatives(expr, rewrites, into_sums=False)
        return _rewrite_outside_derivatives(expr, definitions)

    def vector_form(self, expr: sp.Expr) -> sp.Expr:
        """Replace indexed components (x_j) by their vectors (**x**), for the gradient vector."""
        return expr.xreplace(self.vector_forms)


def name_key(name: str) -> str:
    """A name as a reader might type it, in one spelling: no underscores, braces, brackets, commas, carets or
    spaces (``a_{1}`` → ``a1``, ``y^*`` → ``y*``, ``w[i, j]`` → ``wij``)."""
    return "".join(ch for ch in str(name) if ch not in "_{}[], ^")


class UnknownName(KeyError):
    """A quantity's name that a model or derivation does not have; the message lists the names it has."""

    def __str__(self) -> str:  # KeyError quotes its message; the list of names reads better without
        return str(self.args[0])


def _same_quantity(a: sp.Expr, b: sp.Expr) -> bool:
    if isinstance(a, sp.Indexed) and isinstance(b, sp.Indexed):
        return a.base == b.base
    return a == b


def derivative_as_subs(derivative: sp.Derivative) -> sp.Expr:
    """∂f/∂q as Subs(∂f/∂t, t, q) with a fresh t, so that q may then be replaced by what it stands for."""
    if len(derivative.variables) != 1:
        return derivative
    variable = derivative.variables[0]
    dummy = sp.Dummy("t")
    return sp.Subs(sp.Derivative(derivative.expr.xreplace({variable: dummy}), dummy), dummy, variable)


def evaluated(expr: sp.Expr) -> sp.Expr:
    """``expr`` rebuilt bottom-up so that every unevaluated sum, product and power takes its canonical form."""
    if not expr.args:
        return expr
    return expr.func(*(evaluated(arg) for arg in expr.args))


def depends_on(expr: sp.Expr, var: sp.Expr) -> bool:
    """Whether ``expr`` mentions ``var``; an indexed quantity w_j counts through its base w (Σ_i w_i x_i)."""
    if isinstance(var, sp.Indexed):
        return expr.has(var.base)
    return expr.has(var)


def drop_index_range(expr: sp.Expr) -> sp.Expr:
    """Differentiating Σ_{i=1}^{k} w_i x_i by w_j gives x_j only for 1 ≤ j ≤ k; j is in range by construction."""

    def in_range(piecewise: sp.Piecewise) -> bool:
        first_condition = piecewise.args[0].cond
        return bool(first_condition.free_symbols) and all(s.is_integer for s in first_condition.free_symbols)

    return expr.replace(lambda e: isinstance(e, sp.Piecewise) and in_range(e), lambda e: e.args[0].expr)


def primed(index: sp.Symbol, taken: set) -> sp.Symbol:
    """``index`` with as many primes as it takes to be a name not in ``taken`` (j → j' → j'')."""
    fresh = sp.Symbol(index.name + "'", integer=True, positive=True)
    while fresh in taken:
        fresh = sp.Symbol(fresh.name + "'", integer=True, positive=True)
    return fresh


def fresh_bound_indices(expr: sp.Expr, avoid: Iterable[sp.Symbol] = ()) -> sp.Expr:
    """Rename each summation index that is also used freely (in ``expr`` or in ``avoid``) to a primed one.

    ∂(Σ_j v_j h_j)/∂h_j confuses the free j of h_j with the j the sum runs over; written
    ∂(Σ_{j'} v_{j'} h_{j'})/∂h_j it says what it means, to SymPy and to a reader alike.
    """
    taken = set(avoid) | expr.free_symbols
    if not expr.has(sp.Sum) or not taken:
        return expr

    def rename(total: sp.Sum) -> sp.Sum:
        mapping = {}
        for index, *_ in total.limits:
            if index in taken:
                mapping[index] = primed(index, taken | expr.atoms(sp.Symbol))
        return total.xreplace(mapping) if mapping else total

    return expr.replace(lambda e: isinstance(e, sp.Sum), rename)


def canonical_sums(expr: sp.Expr) -> sp.Expr:
    """Rename every bound summation index to a fixed name by nesting depth, so equal sums compare equal."""

    def rename(e: sp.Expr, depth: int) -> sp.Expr:
        if not e.args:
            return e
        if isinstance(e, sp.Sum):
            body = rename(e.function, depth + len(e.limits))
            mapping = {limit[0]: sp.Symbol(f"i_{{{depth + n}}}", integer=True, positive=True)
                       for n, limit in enumerate(e.limits)}
            limits = [(mapping[v], rename(lo, depth), rename(hi, depth)) for v, lo, hi in e.limits]
            return sp.Sum(body.xreplace(mapping), *limits)
        return e.func(*(rename(a, depth) for a in e.args))

    return rename(expr, 0) if expr.has(sp.Sum) else expr


def _rewrite_outside_derivatives(expr: sp.Expr, rules: list[tuple[sp.Expr, sp.Expr]],
                                 into_sums: bool = True) -> sp.Expr:
    """Bottom-up: rewrite arguments first, then try each rule on the rebuilt expression (never inside a derivative)."""
    if isinstance(expr, (sp.Derivative, sp.Subs)) or not expr.args or (not into_sums and isinstance(expr, sp.Sum)):
        return _apply_rules(expr, rules)
    new_args = [_rewrite_outside_derivatives(arg, rules, into_sums) for arg in expr.args]
    rebuilt = expr if all(n is o for n, o in zip(new_args, expr.args, strict=False)) else expr.func(*new_args)
    return _apply_rules(rebuilt, rules)


def _apply_rules(expr: sp.Expr, rules: list[tuple[sp.Expr, sp.Expr]]) -> sp.Expr:
    for pattern, value in rules:
        if not pattern.has(sp.Wild):
            if expr == pattern:
                return value
            continue
        match = expr.match(pattern)
        if match is not None:
            return value.xreplace(match)
    return expr
