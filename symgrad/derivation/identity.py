"""Deciding an identity exactly, at random points of a prime field (the Schwartz–Zippel lemma).

Why: proving an equation of a derivation by algebra (write both sides out down to the inputs,
differentiate, cancel) costs seconds for a layer of softmax units and grows steeply with a
chain's depth.  Evaluating both sides *exactly*, at a random point of the integers modulo the
prime p = 2^61 - 1, costs milliseconds and decides the same question: a rational function of
degree d that is not identically zero vanishes at a uniformly random point with probability at
most d/p (Schwartz–Zippel).  Every equation is tested at two independent points for each layer
size and index assignment, so a false equation passes with probability below (d/p)^2, about
10^-31 for the degrees met here.  No rounding is involved anywhere: every value is an integer
mod p.

The exponential and the logarithm have no values in a finite field.  Each is a new variable:
e^u gets a random value the first time an argument with u's value is met, so the same function
of the inputs always gets the same value (e^{-u} and e^{cu} for a written integer c are the
powers of that value); its derivative is e^u · u'.  ln u is treated the same way, with
derivative u'/u.  The sigmoid, tanh and softplus are evaluated from their definitions in these
terms, never from the derivative identities in ``functions.py``.  An identity that holds with
these new variables holds for the real functions.  The converse can fail (a relation between
exponentials that the field does not see, such as e^{a+b} = e^a e^b written apart), so a point
where the sides differ proves nothing: :func:`differ_everywhere_tested` reports it, and the
caller falls back to algebra.

Derivatives are carried out by forward-mode differentiation: every value is a pair (value,
derivative by the one quantity being differentiated).  A partial ∂u/∂v of the graph holds every
other node fixed, as :meth:`~symgrad.graph.Model.partial` says it does.  Layers are evaluated
at concrete sizes, with every sum carried out term by term: at size 2 for every assignment of the
equation's free indices, then at a larger size with the free indices all different; a one-hot label
gets values that sum to 1.

What the field cannot evaluate (a fractional power, ReLU's kink, an abstract function of a
derivative, a second derivative) raises :class:`Unsupported`, and the caller falls back.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator

import sympy as sp
from sympy.core.function import AppliedUndef

from symgrad.model.functions import relu, sigmoid, softplus
from symgrad.model.graph import Model, Partial, depends_on

#: A Mersenne prime: the field's size.  Large enough that a random point hits a root of a
#: nonzero polynomial of degree d with probability d / 2.3e18.
PRIME = (1 << 61) - 1

#: Independent random points per size and index assignment.
ROUNDS = 2

#: The layer size at which every free index takes every value: 2 lets each pair of free indices be both
#: equal and different (δ_jl = 1 and δ_jl = 0).  Then a larger size, with every free index different
#: (three free indices need three units), which refutes identities that hold only for two units.
SMALL_SIZE = 2

#: Free indices at most: with more, the assignments (2^n, then n!) would cost more than algebra.
MAX_FREE_INDICES = 5

Dual = tuple[int, int]


class Unsupported(Exception):
    """An expression the field cannot evaluate; the caller decides the equation another way."""


class _ZeroDenominator(Exception):
    """A denominator that vanishes at this random point (probability ~ d/p): draw another point."""


def _inverse(value: int) -> int:
    if value == 0:
        raise _ZeroDenominator
    return pow(value, PRIME - 2, PRIME)


def _times(a: Dual, b: Dual) -> Dual:
    return a[0] * b[0] % PRIME, (a[0] * b[1] + a[1] * b[0]) % PRIME


def _divided(a: Dual, b: Dual) -> Dual:
    inverse = _inverse(b[0])
    quotient = a[0] * inverse % PRIME
    return quotient, (a[1] - quotient * b[1]) * inverse % PRIME


def _power(base: Dual, exponent: int) -> Dual:
    if exponent < 0:
        return _divided((1, 0), _power(base, -exponent))
    if exponent == 0:
        return 1, 0
    value = pow(base[0], exponent, PRIME)
    return value, exponent * pow(base[0], exponent - 1, PRIME) * base[1] % PRIME


def _number(number: sp.Expr) -> int:
    """A rational number as a field element (a float is the exact binary fraction it stores)."""
    if isinstance(number, sp.Float):
        number = sp.Rational(number)
    if not isinstance(number, sp.Rational):
        raise Unsupported(f"the number {number}")
    return number.p % PRIME * _inverse(number.q % PRIME) % PRIME


class FieldPoint:
    """One random point: values for the model's leaves, its exponentials and logarithms, at one layer size.

    Leaves (inputs, parameters, the label, the step size, any other symbol) get a uniformly random
    field element the first time they are read; nodes are evaluated from their definitions.
    """

    def __init__(self, model: Model | None, rng: random.Random, size: int, sizes: frozenset) -> None:
        self.model = model
        self.rng = rng
        self.size = size
        self.sizes = sizes
        self.leaves: dict[tuple, int] = {}
        self.exponentials: dict[int, int] = {}
        self.logarithms: dict[int, int] = {}
        self.abstract: dict[tuple, int] = {}
        self.node_values: dict[tuple, int] = {}
        self.partials: dict[tuple, Dual] = {}
        self.nodes = {_base(node.symbol): node for node in model.nodes} if model is not None else {}
        self.one_hot = _one_hot_labels(model)

    # -- leaves and nodes --------------------------------------------------------------------
    def leaf(self, key: tuple) -> int:
        value = self.leaves.get(key)
        if value is None:
            base, indices = key
            if base in self.one_hot and indices:
                value = self._one_hot_entry(base, indices)
            else:
                value = self.rng.randrange(1, PRIME)
            self.leaves[key] = value
        return value

    def _one_hot_entry(self, base: sp.Basic, indices: tuple[int, ...]) -> int:
        """Entries of a label that sums to 1 over its last index: the last entry is 1 minus the others."""
        low = self.one_hot[base]
        *outer, last = indices
        if last != self.size:
            return self.rng.randrange(1, PRIME)
        others = sum(self.leaf((base, (*outer, i))) for i in range(low, self.size))
        return (1 - others) % PRIME

    def node_value(self, base: sp.Basic, indices: tuple[int, ...]) -> int:
        key = (base, indices)
        value = self.node_values.get(key)
        if value is None:
            node = self.nodes[base]
            bound = dict(zip(node.symbol.indices, indices, strict=True)) if indices else {}
            value = _Evaluation(self, None).dual(node.value, bound)[0]
            self.node_values[key] = value
        return value

    # -- functions with no value in the field ---------------------------------------------------
    def exponential(self, argument: Dual, multiple: int) -> Dual:
        """e^{multiple·u} given u·multiple's dual: a new variable per value of u, shared by e^{-u} and e^{cu}."""
        value = argument[0] * _inverse(multiple % PRIME) % PRIME
        if value not in self.exponentials and (PRIME - value) % PRIME in self.exponentials:
            base = _inverse(self.exponentials[(PRIME - value) % PRIME])
        else:
            base = self.exponentials.setdefault(value, self.rng.randrange(2, PRIME))
        power = pow(base, multiple % (PRIME - 1), PRIME)
        return power, power * argument[1] % PRIME

    def logarithm(self, argument: Dual) -> Dual:
        value = self.logarithms.setdefault(argument[0], self.rng.randrange(1, PRIME))
        return value, argument[1] * _inverse(argument[0]) % PRIME

    def abstract_value(self, name: str, orders: tuple[int, ...], arguments: tuple[int, ...]) -> int:
        return self.abstract.setdefault((name, orders, arguments), self.rng.randrange(1, PRIME))


def _base(symbol: sp.Expr) -> sp.Basic:
    return symbol.base if isinstance(symbol, sp.Indexed) else symbol


def _one_hot_labels(model: Model | None) -> dict[sp.Basic, int]:
    """Each label base the model assumes sums to 1 (a one-hot label), with its index's first value."""
    labels = {}
    for total, value in (model.assumptions.items() if model is not None else ()):
        entry = total.function
        over_last_index = (isinstance(entry, sp.Indexed) and len(total.limits) == 1
                           and entry.indices[-1] == total.limits[0][0])
        if value == 1 and over_last_index:
            labels[entry.base] = int(total.limits[0][1])
    return labels


class _Evaluation:
    """Evaluating expressions at one point, as (value, derivative by ``seed``) pairs."""

    def __init__(self, point: FieldPoint, seed: tuple | None, through_nodes: bool = False) -> None:
        self.point = point
        self.seed = seed
        #: a total derivative: nodes are differentiated through their definitions, not held fixed
        self.through_nodes = through_nodes and seed is not None
        self.node_duals: dict[tuple, Dual] = {}

    def dual(self, expr: sp.Expr, bound: dict) -> Dual:
        handler = _HANDLERS.get(type(expr))
        if handler is None:
            handler = _handler_for(expr)
        return handler(self, expr, bound)

    def integer(self, expr: sp.Expr, bound: dict) -> int:
        """An index or a size as a Python int (a free index bound by a sum or an assignment, a size)."""
        if isinstance(expr, sp.Integer):
            return int(expr)
        if isinstance(expr, sp.Symbol):
            if expr in bound and isinstance(bound[expr], int):
                return bound[expr]
            if expr in self.point.sizes:
                return self.point.size
            raise Unsupported(f"the index {expr} has no value")
        if isinstance(expr, sp.Add):
            return sum(self.integer(a, bound) for a in expr.args)
        if isinstance(expr, sp.Mul):
            result = 1
            for a in expr.args:
                result *= self.integer(a, bound)
            return result
        raise Unsupported(f"the index {expr}")

    def _constant(self, value: int, key: tuple) -> Dual:
        return value, 1 if key == self.seed else 0

    def node(self, base: sp.Basic, indices: tuple[int, ...]) -> Dual:
        """A node's value, held fixed (a constant) or, for a total derivative, differentiated through its definition."""
        key = (base, indices)
        if not self.through_nodes or key == self.seed:
            return self._constant(self.point.node_value(base, indices), key)
        result = self.node_duals.get(key)
        if result is None:
            node = self.point.nodes[base]
            result = self.dual(node.value, dict(zip(node.symbol.indices, indices, strict=True)) if indices else {})
            self.node_duals[key] = result
        return result


def _symbol(ev: _Evaluation, expr: sp.Symbol, bound: dict) -> Dual:
    if expr in bound:
        value = bound[expr]
        return (value % PRIME, 0) if isinstance(value, int) else value
    if expr in ev.point.sizes:
        return ev.point.size, 0
    key = (expr, ())
    if expr in ev.point.nodes:
        return ev.node(expr, ())
    if expr.is_integer:
        raise Unsupported(f"the index {expr} has no value")
    return ev._constant(ev.point.leaf(key), key)


def _indexed(ev: _Evaluation, expr: sp.Indexed, bound: dict) -> Dual:
    indices = tuple(ev.integer(i, bound) for i in expr.indices)
    key = (expr.base, indices)
    if expr.base in ev.point.nodes:
        return ev.node(expr.base, indices)
    return ev._constant(ev.point.leaf(key), key)


def _add(ev: _Evaluation, expr: sp.Add, bound: dict) -> Dual:
    value = derivative = 0
    for term in expr.args:
        v, d = ev.dual(term, bound)
        value += v
        derivative += d
    return value % PRIME, derivative % PRIME


def _mul(ev: _Evaluation, expr: sp.Mul, bound: dict) -> Dual:
    result: Dual = (1, 0)
    for factor in expr.args:
        result = _times(result, ev.dual(factor, bound))
    return result


def _pow(ev: _Evaluation, expr: sp.Pow, bound: dict) -> Dual:
    base, exponent = expr.args
    if base is sp.E:
        return _exp_of(ev, exponent, bound)
    if not isinstance(exponent, sp.Integer):
        raise Unsupported(f"the power {expr}")
    return _power(ev.dual(base, bound), int(exponent))


def _exp_of(ev: _Evaluation, argument: sp.Expr, bound: dict) -> Dual:
    """e^u, with a written integer coefficient of u (e^{-z}, e^{2z}) taken as a power of e^{z}."""
    coefficient, _ = argument.as_coeff_Mul()
    multiple = int(coefficient) if isinstance(coefficient, sp.Integer) and coefficient != 0 else 1
    return ev.point.exponential(ev.dual(argument, bound), multiple)


def _scaled(value: Dual, factor: int) -> Dual:
    return value[0] * factor % PRIME, value[1] * factor % PRIME


def _exp(ev: _Evaluation, expr: sp.exp, bound: dict) -> Dual:
    return _exp_of(ev, expr.args[0], bound)


def _log(ev: _Evaluation, expr: sp.log, bound: dict) -> Dual:
    if len(expr.args) != 1:
        raise Unsupported("a logarithm to another base")
    return ev.point.logarithm(ev.dual(expr.args[0], bound))


def _sigmoid(ev: _Evaluation, expr: sigmoid, bound: dict) -> Dual:
    """s(u) = 1/(1 + e^{-u}), from its definition."""
    e = ev.point.exponential(_scaled(ev.dual(expr.args[0], bound), -1), -1)
    return _divided((1, 0), ((1 + e[0]) % PRIME, e[1]))


def _tanh(ev: _Evaluation, expr: sp.tanh, bound: dict) -> Dual:
    """tanh u = (e^{2u} - 1)/(e^{2u} + 1)."""
    e = ev.point.exponential(_scaled(ev.dual(expr.args[0], bound), 2), 2)
    return _divided(((e[0] - 1) % PRIME, e[1]), ((e[0] + 1) % PRIME, e[1]))


def _softplus(ev: _Evaluation, expr: softplus, bound: dict) -> Dual:
    """softplus u = ln(1 + e^u)."""
    e = ev.point.exponential(ev.dual(expr.args[0], bound), 1)
    return ev.point.logarithm(((1 + e[0]) % PRIME, e[1]))


def _number_handler(ev: _Evaluation, expr: sp.Expr, bound: dict) -> Dual:
    return _number(expr), 0


def _euler(ev: _Evaluation, expr: sp.Expr, bound: dict) -> Dual:
    """e itself, which is e^1: the exponential of the argument 1."""
    return ev.point.exponential((1, 0), 1)


def _kronecker(ev: _Evaluation, expr: sp.KroneckerDelta, bound: dict) -> Dual:
    i, j = (ev.integer(a, bound) for a in expr.args[:2])
    return (1 if i == j else 0), 0


def _sum(ev: _Evaluation, expr: sp.Sum, bound: dict) -> Dual:
    terms = [dict(bound)]
    for index, low, high in expr.limits:
        terms = [{**b, index: n} for b in terms for n in range(ev.integer(low, b), ev.integer(high, b) + 1)]
    value = derivative = 0
    for inner in terms:
        v, d = ev.dual(expr.function, inner)
        value += v
        derivative += d
    return value % PRIME, derivative % PRIME


def _seed_key(ev: _Evaluation, variable: sp.Expr, bound: dict) -> tuple:
    if isinstance(variable, sp.Indexed):
        return variable.base, tuple(ev.integer(i, bound) for i in variable.indices)
    if isinstance(variable, sp.Symbol):
        return variable, ()
    raise Unsupported(f"a derivative by {variable}")


def _derivative(ev: _Evaluation, expr: sp.Derivative, bound: dict) -> Dual:
    """d/dv of an expression: a new evaluation with v as its seed (a derivative inside another is not supported).

    v may be a leaf, a node (a local partial: every other node is held fixed) or a variable that a
    ``Subs`` binds (∂f/∂t at t = z_2), whose bound value then carries derivative 1.
    """
    if ev.seed is not None or len(expr.variable_count) != 1 or expr.variable_count[0][1] != 1:
        raise Unsupported("a derivative of a derivative")
    variable = expr.variable_count[0][0]
    if variable in bound:
        value = bound[variable]
        value = value if isinstance(value, int) else value[0]
        inner = _Evaluation(ev.point, ("bound", variable))
        return inner.dual(expr.expr, {**bound, variable: (value, 1)})[1], 0
    return _Evaluation(ev.point, _seed_key(ev, variable, bound)).dual(expr.expr, bound)[1], 0


def _subs(ev: _Evaluation, expr: sp.Subs, bound: dict) -> Dual:
    inner = dict(bound)
    for variable, point in zip(expr.variables, expr.point, strict=True):
        value = ev.dual(point, bound)
        if value[1] and ev.seed is not None and expr.expr.has(sp.Derivative):
            raise Unsupported("a derivative of a derivative")
        inner[variable] = value
    return ev.dual(expr.expr, inner)


def _partial(ev: _Evaluation, expr: Partial, bound: dict) -> Dual:
    """∂u/∂v of the graph: an edge's local partial (u's definition differentiated, every other node
    held fixed), or, where u reads v only through other nodes, the total derivative through them."""
    model = ev.point.model
    if model is None:
        raise Unsupported("a graph partial without a model")
    if ev.seed is not None:
        raise Unsupported("a derivative of a derivative")
    key = (expr, tuple((symbol, bound[symbol]) for symbol in _bound_symbols(expr) if symbol in bound))
    known = ev.point.partials.get(key)  # a chain's factor recurs in every term of a sum and every equation
    if known is None:
        edge = _edge_partial(model, expr)
        if edge is not None:
            known = ev.dual(edge, bound)
        else:
            total = _Evaluation(ev.point, _seed_key(ev, expr.wrt, bound), through_nodes=True)
            known = total.dual(expr.of, bound)[1], 0
        ev.point.partials[key] = known
    return known


_FREE: dict[sp.Expr, tuple[sp.Symbol, ...]] = {}


def _bound_symbols(expr: sp.Expr) -> tuple[sp.Symbol, ...]:
    """The free symbols of ``expr`` that an evaluation may bind (indices, Subs variables), remembered."""
    symbols = _FREE.get(expr)
    if symbols is None:
        symbols = _FREE[expr] = tuple(sorted(expr.free_symbols, key=str))
        if len(_FREE) > 4096:
            _FREE.clear()
            _FREE[expr] = symbols
    return symbols


_EDGES: dict[tuple[int, Partial], tuple[Model, sp.Expr | None]] = {}


def _edge_partial(model: Model, partial: Partial) -> sp.Expr | None:
    """``model.partial_unevaluated`` for an edge of the graph (remembered: it is asked for at every
    point and index assignment), or None when ``partial.of`` reads ``partial.wrt`` only through other nodes."""
    key = (id(model), partial)
    cached = _EDGES.get(key)
    if cached is not None and cached[0] is model:
        return cached[1]
    node = model.node(partial.of)
    edge = None
    if partial.of == partial.wrt or (node is not None and depends_on(node.value, partial.wrt)):
        edge = model.partial_unevaluated(partial.of, partial.wrt)
    if len(_EDGES) > 4096:
        _EDGES.clear()
    _EDGES[key] = (model, edge)
    return edge


def _abstract(ev: _Evaluation, expr: AppliedUndef, bound: dict) -> Dual:
    """g(u_1, …): a new variable per function, derivative order and argument values; derivative Σ_k ∂_k g · u_k'."""
    arguments = [ev.dual(a, bound) for a in expr.args]
    values = tuple(a[0] for a in arguments)
    name = type(expr).__name__
    zero = (0,) * len(values)
    value = ev.point.abstract_value(name, zero, values)
    derivative = 0
    for k, (_, d) in enumerate(arguments):
        if d:
            orders = tuple(1 if n == k else 0 for n in range(len(values)))
            derivative += ev.point.abstract_value(name, orders, values) * d
    return value, derivative % PRIME


def _unsupported(ev: _Evaluation, expr: sp.Expr, bound: dict) -> Dual:
    raise Unsupported(type(expr).__name__)


_HANDLERS: dict[type, Callable[[_Evaluation, sp.Expr, dict], Dual]] = {
    sp.Symbol: _symbol,
    sp.Dummy: _symbol,
    sp.Indexed: _indexed,
    sp.Add: _add,
    sp.Mul: _mul,
    sp.Pow: _pow,
    sp.exp: _exp,
    sp.log: _log,
    sp.tanh: _tanh,
    sigmoid: _sigmoid,
    softplus: _softplus,
    type(sp.E): _euler,
    sp.KroneckerDelta: _kronecker,
    sp.Sum: _sum,
    sp.Derivative: _derivative,
    sp.Subs: _subs,
    Partial: _partial,
}


def _handler_for(expr: sp.Expr) -> Callable[[_Evaluation, sp.Expr, dict], Dual]:
    """The handler of a type not in the table (a number, an abstract function, a subclass), remembered."""
    if expr.is_Number:
        handler = _number_handler
    elif isinstance(expr, AppliedUndef):
        handler = _abstract
    elif isinstance(expr, relu):
        handler = _unsupported
    else:
        handler = next((h for kind, h in _HANDLERS.items() if isinstance(expr, kind)), _unsupported)
    _HANDLERS[type(expr)] = handler
    return handler


def _sizes_of(model: Model | None, *exprs: sp.Expr) -> frozenset:
    """The layer sizes: upper limits of the model's ranges and of every sum (k, m, C)."""
    sizes = set()
    if model is not None:
        sizes |= {high for _, high in model.index_ranges.values() if isinstance(high, sp.Symbol)}
        for node in model.nodes:
            sizes |= {limit[2] for total in node.value.atoms(sp.Sum) for limit in total.limits}
    for expr in exprs:
        sizes |= {limit[2] for total in expr.atoms(sp.Sum) for limit in total.limits}
    return frozenset(s for s in sizes if isinstance(s, sp.Symbol))


def _assignments(free: list[sp.Symbol], size: int) -> Iterator[dict[sp.Symbol, int]]:
    for values in itertools.product(range(1, size + 1), repeat=len(free)):
        yield dict(zip(free, values, strict=True))


def sides_agree(model: Model | None, lhs: sp.Expr, rhs: sp.Expr, seed: int = 20261206,
                conditions: tuple[sp.Basic, ...] = ()) -> bool:
    """Whether ``lhs`` and ``rhs`` agree at every random point tried: True proves the equation (up to
    the Schwartz–Zippel bound in the module docstring); False proves nothing (see the docstring).
    ``conditions`` on the free indices (l ≠ j) restrict the index values tried to those that meet them.

    Raises :class:`Unsupported` for what the field cannot evaluate.
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    if model is not None and model.vector_forms:
        vectors = {vector: component for component, vector in model.vector_forms.items()}
        lhs, rhs = lhs.xreplace(vectors), rhs.xreplace(vectors)
    sizes = _sizes_of(model, lhs, rhs)
    free = sorted((s for s in (lhs.free_symbols | rhs.free_symbols) if s.is_integer and s not in sizes), key=str)
    if len(free) > MAX_FREE_INDICES:
        raise Unsupported(f"{len(free)} free indices")
    large = max(SMALL_SIZE + 1, len(free))
    plans = [(SMALL_SIZE, list(_assignments(free, SMALL_SIZE)))]
    if free or sizes:
        plans.append((large, [dict(zip(free, values, strict=True))
                              for values in itertools.permutations(range(1, large + 1), len(free))]))
    if conditions:
        plans = [(size, [a for a in assignments if meets(conditions, a)]) for size, assignments in plans]
    for size, assignments in plans:
        for round_ in range(ROUNDS):
            for attempt in range(3):
                try:
                    if not _agree_at_point(_point(model, seed, size, sizes, round_, attempt), lhs, rhs, assignments):
                        return False
                    break
                except _ZeroDenominator:
                    if attempt == 2:
                        raise Unsupported("a denominator that vanishes at every point tried") from None
    return True


def meets(conditions: tuple[sp.Basic, ...], assignment: dict) -> bool:
    """Whether index values meet the side conditions of a claim (a condition on anything else is not tested)."""
    for condition in conditions:
        try:
            value = condition.xreplace(assignment)
        except Exception:  # noqa: BLE001 - a condition SymPy cannot rebuild restricts nothing
            continue
        if value is sp.false or value is False:
            return False
    return True


_POINTS: dict[tuple, FieldPoint] = {}


def _point(model: Model | None, seed: int, size: int, sizes: frozenset, round_: int, attempt: int) -> FieldPoint:
    """The random point for this model, seed, size, round and attempt, shared by every equation tested with
    them: its node values and graph partials, once worked out, serve the next equation too (a derivation's
    34 equations read the same nodes).  The points depend only on the seed, never on the equations."""
    key = (id(model), seed, size, sizes, round_, attempt)
    point = _POINTS.get(key)
    if point is None or point.model is not model:
        if len(_POINTS) > 512:
            _POINTS.clear()
        rng = random.Random(((seed * 1_000_003 + size) * 1009 + round_) * 31 + attempt)
        point = _POINTS[key] = FieldPoint(model, rng, size, sizes)
    return point


def _agree_at_point(point: FieldPoint, lhs: sp.Expr, rhs: sp.Expr, assignments: list[dict]) -> bool:
    for assignment in assignments:
        evaluation = _Evaluation(point, None)
        if evaluation.dual(lhs, assignment)[0] != evaluation.dual(rhs, assignment)[0]:
            return False
    return True
