"""Proving that two sides of an equation are equal, from the definitions alone.

Both sides are written out down to the model's inputs and parameters, every
sigmoid is rewritten as 1/(1 + e^{-x}) *before* anything is differentiated (so
no proof leans on the derivative identities stored in ``functions.py``), and
the difference must reduce to zero.

Reducing to zero is done on a rational function: each exponential e^{±u}
becomes a fresh symbol t_u (or 1/t_u), innermost first, and each surviving sum
Σ_i w_i x_i becomes one opaque symbol; then ``cancel`` decides.  This is fast
and exact; ``simplify`` is kept only as the last resort.
"""

from __future__ import annotations

import itertools
import random

import sympy as sp

from symgrad.derivation.identity import Unsupported, sides_agree
from symgrad.model.functions import sigmoid, softplus
from symgrad.model.graph import Model, Partial, canonical_sums, depends_on, drop_index_range, fresh_bound_indices


class ProofError(ValueError):
    """An equation that a derivation wanted to state could not be proven."""


def to_elementary(expr: sp.Expr) -> sp.Expr:
    """Rewrite symgrad's named functions into elementary ones and carry out derivatives."""
    elementary = expr.replace(lambda e: isinstance(e, sigmoid), lambda e: 1 / (1 + sp.exp(-e.args[0])))
    elementary = elementary.replace(lambda e: isinstance(e, softplus), lambda e: sp.log(1 + sp.exp(e.args[0])))
    # Carry out derivatives only: a blanket doit() would also try to evaluate Σ_i w_i x_i in closed form.
    elementary = elementary.replace(lambda e: isinstance(e, sp.Derivative), _with_fresh_bound_indices)
    elementary = elementary.replace(
        lambda e: isinstance(e, (sp.Derivative, sp.Subs)), lambda e: e.doit(deep=not e.has(sp.Sum))
    )
    elementary = elementary.replace(lambda e: isinstance(e, sp.Sum) and e.has(sp.KroneckerDelta), lambda e: e.doit())
    return drop_index_range(elementary)


def _with_fresh_bound_indices(derivative: sp.Derivative) -> sp.Derivative:
    """d/dw_{ij} of Σ_i w_{ij} x_i: rename the bound i first, so it is not the free i of w_{ij}."""
    avoid = set().union(*(v.free_symbols for v in derivative.variables))
    return sp.Derivative(fresh_bound_indices(derivative.expr, avoid), *derivative.variable_count)


def as_rational(expr: sp.Expr) -> sp.Expr:
    """``expr`` with sums and exponentials replaced by symbols, so that it is a rational function."""
    expr = canonical_sums(expr)
    expr = expr.xreplace({s: sp.Dummy("sum") for s in expr.atoms(sp.Sum)})
    exponent_symbols: dict[sp.Expr, sp.Dummy] = {}
    while True:
        innermost = [e for e in expr.atoms(sp.exp) if not e.args[0].has(sp.exp)]
        if not innermost:
            return expr
        replacements = {}
        for power in innermost:
            # e^{2u} is (e^u)^2 and e^{-u} is 1/e^u: one symbol per exponent up to an integer multiple
            coefficient, key = sp.factor_terms(power.args[0]).as_coeff_Mul()
            if not coefficient.is_Integer:
                coefficient, key = sp.S.One, power.args[0]
            if key.could_extract_minus_sign():
                coefficient, key = -coefficient, -key
            symbol = exponent_symbols.setdefault(key, sp.Dummy("t", positive=True))
            replacements[power] = symbol**coefficient
        expr = expr.xreplace(replacements)


def is_zero(expr: sp.Expr) -> bool:
    """Whether ``expr`` is identically zero."""
    if expr == 0:
        return True
    if sp.cancel(sp.together(as_rational(expr))) == 0:
        return True
    if _clearly_nonzero(expr):
        return False
    return sp.simplify(expr) == 0


def _clearly_nonzero(expr: sp.Expr) -> bool:
    """A value far from 0 at one point disproves an identity at once, sparing ``simplify``'s long search."""
    labels = {a.base.label for a in expr.atoms(sp.Indexed)}
    entries = [a for a in expr.atoms(sp.Indexed) if all(i.is_number for i in a.indices)]
    atoms = [*entries, *(s for s in expr.free_symbols if s not in labels and not isinstance(s, sp.Indexed))]
    rng = random.Random(20261202)
    point = {a: sp.Float(rng.uniform(0.2, 0.9), 30) for a in atoms if not getattr(a, "is_integer", False)}
    try:
        value = expr.xreplace(point).evalf(30)
    except (TypeError, ValueError, ZeroDivisionError):
        return False
    return bool(value.is_number and value.is_finite and abs(value) > 1e-12)


#: The layer size at which equations about indexed models are checked exactly; 2 lets every pair
#: of free indices be both equal and different (δ_jl = 1 and δ_jl = 0 both get checked).
PROOF_SIZE = 2


def are_equal(model: Model | None, lhs: sp.Expr, rhs: sp.Expr) -> bool:
    """Whether ``lhs`` and ``rhs`` are equal once written out in the model's inputs and parameters.

    First by exact evaluation at random points of a prime field (``identity.py``: milliseconds, and
    a false equation passes with probability below 10^-30); where the field cannot evaluate a side
    (ReLU's kink, a fractional power) or the sides differ there, by algebra (:func:`equal_by_algebra`).
    """
    try:
        if sides_agree(model, lhs, rhs):
            return True
    except Unsupported:
        pass
    return equal_by_algebra(model, lhs, rhs)


def equal_by_algebra(model: Model | None, lhs: sp.Expr, rhs: sp.Expr) -> bool:
    """Whether ``lhs`` and ``rhs`` are equal, decided by algebra on both sides written out.

    For a model with layers (``index_ranges``) the derivation itself is general in m, k
    and C, but SymPy cannot cancel nested symbolic sums of exponentials reliably.  So an
    equation about layers is checked exactly, with every weight, input and label still a
    symbol, at layer size 2 and for every assignment of its free indices: the sums are
    written out, the derivatives taken, and the difference must cancel to zero.

    Size 2 alone would pass an identity that holds only for two units (or with a size symbol
    outside a sum, such as k - 1 = 1), and cannot give three free indices three different
    values.  So the equation is also evaluated, at a random point, at a larger size with every
    free index different; a value away from zero refutes it.
    """
    if model is None or not model.index_ranges:
        if model is not None:
            lhs, rhs = model.explicit(lhs), model.explicit(rhs)
        return is_zero(to_elementary(lhs) - to_elementary(rhs))  # facts about the data belong to layered models
    difference = model.explicit(local_partials(model, lhs)) - model.explicit(local_partials(model, rhs))
    written_out = write_out_sums(model, difference)
    free = sorted(set(model.index_ranges) & written_out.atoms(sp.Symbol), key=str)
    for values in itertools.product(range(1, PROOF_SIZE + 1), repeat=len(free)):
        instance = written_out.xreplace(dict(zip(free, values, strict=True)))
        instance = apply_one_hot(model, to_elementary(instance))
        if not is_zero(instance):
            return False
    return holds_at_a_larger_size(model, difference, free)


def holds_at_a_larger_size(model: Model, difference: sp.Expr, free: list[sp.Symbol]) -> bool:
    """Whether ``difference`` (written out down to the inputs, sums still symbolic) is not clearly
    nonzero at a random point, at a layer size above 2 with every free index different."""
    larger = max(PROOF_SIZE + 1, len(free) + 1)
    distinct = write_out_sums(model, difference, larger).xreplace({f: n for n, f in enumerate(free, start=1)})
    return not _clearly_nonzero(apply_one_hot(model, to_elementary(distinct), larger))


def local_partials(model: Model, expr: sp.Expr) -> sp.Expr:
    """Each chain factor ∂u/∂h_j by a node, worked out from u's definition (sigmoids as exponentials).

    A node stands for every unit of its layer, so ∂(Σ_j v_j h_j)/∂h_l must be taken while the
    sum is still symbolic (it is v_l); once the node is replaced by its definition there is no
    variable h_l left to differentiate by.  The same holds for an edge to a parameter that is
    also read further down (a bias in two layers): the edge's partial holds the other reads fixed.
    """
    nodes = {node.symbol.base if isinstance(node.symbol, sp.Indexed) else node.symbol for node in model.nodes}

    def by_node(partial: Partial) -> bool:
        wrt = partial.wrt
        return (wrt.base if isinstance(wrt, sp.Indexed) else wrt) in nodes

    def is_edge(partial: Partial) -> bool:
        node = model.node(partial.of)
        return by_node(partial) or (node is not None and depends_on(node.value, partial.wrt))

    local = {p: to_elementary(model.partial_unevaluated(p.of, p.wrt)) for p in expr.atoms(Partial) if is_edge(p)}
    expr = expr.xreplace(local)
    # a written-out derivative, ∂/∂b (b + Σ_j h_j v_j), means the same: the nodes in it are held fixed
    return expr.xreplace({d: to_elementary(d) for d in expr.atoms(sp.Derivative)})


def write_out_sums(model: Model, expr: sp.Expr, size: int = PROOF_SIZE) -> sp.Expr:
    """Every layer size set to ``size`` and every sum written out term by term, innermost first."""
    # sp.Integer, not int: an expression that is only a size (``k``) would otherwise come back as a Python int
    sizes = {high: sp.Integer(size) for _, high in model.index_ranges.values() if isinstance(high, sp.Symbol)}
    expr = expr.xreplace(sizes)

    def write_out(total: sp.Sum) -> sp.Expr:  # a layer of 1024 units is checked at the small size as well
        limits = [(i, low, sp.Min(high, size) if high.is_number else high) for i, low, high in total.limits]
        return sp.Sum(total.function, *limits).doit(deep=False)

    return expr.replace(lambda e: isinstance(e, sp.Sum), write_out)


def apply_one_hot(model: Model, expr: sp.Expr, size: int = PROOF_SIZE) -> sp.Expr:
    """Apply the model's facts about its data at layer size ``size`` (Σ_l y_l = 1 gives y_2 = 1 - y_1)."""
    for total, value in model.assumptions.items():
        (index, low, _), = total.limits
        last = total.function.xreplace({index: size})
        others = sum(total.function.xreplace({index: n}) for n in range(int(low), size))
        expr = expr.xreplace({last: value - others})
    return expr
