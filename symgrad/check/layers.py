"""Judging claims about models with layers (w_ij, h_j, a softmax over C classes) by writing them out.

A claim about a layer speaks of every unit at once, so it is checked the way
``prove.are_equal`` proves the derivation: at layer size ``PROOF_SIZE`` (2), for
every assignment of the claim's free indices (i, j, l: equal and different, so
δ_jl is both 1 and 0), with the sums written out term by term, the derivatives
taken, and a one-hot label.  Each such instance is then compared at random
numbers (which also gives the counterexample a wrong verdict shows) and, when
the numbers agree, cancelled exactly.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import mpmath
import sympy as sp

from symgrad.check.vocabulary import STEP_NAMES
from symgrad.derivation.identity import meets
from symgrad.derivation.prove import (
    PROOF_SIZE,
    apply_one_hot,
    holds_at_a_larger_size,
    is_zero,
    local_partials,
    to_elementary,
    write_out_sums,
)
from symgrad.model.graph import Model

PRECISION = 30
#: random numbers tried for each assignment of the free indices
DRAWS = 2
#: relative difference below which two sides' numbers count as equal
TOLERANCE = 1e-9


#: bits of the mpmath numbers that sides are compared as
COMPARED_BITS = 100


def as_number(value: sp.Expr) -> mpmath.mpc | None:
    """A side's value at a point as an mpmath number, or None when it is no finite number (1/0, 0/0, ∞).

    mpmath's exponent has no bound: 2^{5000} is a number, if far beyond a float, and not the infinity of a
    division by zero.  A value that is no number at all (a symbol left over) raises TypeError, as ``complex``
    does: the claim cannot be judged."""
    if not isinstance(value, sp.Expr) or not value.is_number:
        raise TypeError(f"not a number: {type(value).__name__}")
    if value.is_finite is not True:
        return None
    return mpmath.mpc(value._to_mpmath(COMPARED_BITS))


def agree(a: sp.Expr, b: sp.Expr) -> bool:
    """Whether two sides' numbers are equal: both finite (nan is no number, and nan == nan must not pass
    a claim that divides by zero) and equal up to rounding, however large."""
    x, y = as_number(a), as_number(b)
    return x is not None and y is not None and abs(x - y) <= TOLERANCE * max(1, abs(x), abs(y))


@dataclass(frozen=True)
class LayerPoint:
    """Where two sides were compared: the free indices and every written-out quantity."""

    indices: dict[sp.Symbol, int]
    values: dict[sp.Expr, sp.Expr]

    def describe(self) -> dict[str, float]:
        shown = {str(k): float(v) for k, v in self.indices.items()}
        shown.update({str(k): float(v) for k, v in self.values.items()})
        return dict(sorted(shown.items()))


class Layers:
    """Writes claims about one layered model out at layer size 2, and compares them."""

    def __init__(self, model: Model, rng: random.Random) -> None:
        self.model = model
        self.rng = rng
        self.sizes = {high for _, high in model.index_ranges.values()}
        label = model.label
        self.label_base = label.base if isinstance(label, sp.Indexed) else label
        self._written: dict[sp.Expr, sp.Expr] = {}

    def free_indices(self, *exprs: sp.Expr) -> list[sp.Symbol]:
        found = set().union(*(e.free_symbols for e in exprs))
        return sorted((s for s in found if isinstance(s, sp.Symbol) and s.is_integer and s not in self.sizes), key=str)

    def explicit(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` down to inputs and parameters, node partials worked out, sums still symbolic."""
        return self.model.explicit(local_partials(self.model, expr))

    def written(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` down to inputs and parameters, node partials worked out, sums written out at size 2."""
        if expr not in self._written:
            self._written[expr] = write_out_sums(self.model, self.explicit(expr))
        return self._written[expr]

    def instances(self, left: sp.Expr, right: sp.Expr):
        """(assignment, left instance, right instance) for every assignment of the free indices."""
        free = self.free_indices(left, right)
        for values in itertools.product(range(1, PROOF_SIZE + 1), repeat=len(free)):
            assignment = dict(zip(free, values, strict=False))
            yield assignment, *(apply_one_hot(self.model, to_elementary(self.written(side).xreplace(assignment)))
                                for side in (left, right))

    def larger_instance(self, left: sp.Expr, right: sp.Expr):
        """(assignment, left, right) at a layer size above 2 with every free index different: a claim that
        holds only for two units (k - 1 = 1, or only when C = 2) differs here."""
        free = self.free_indices(left, right)
        size = max(PROOF_SIZE + 1, len(free) + 1)
        assignment = {f: n for n, f in enumerate(free, start=1)}
        return assignment, *(apply_one_hot(self.model, to_elementary(
            write_out_sums(self.model, self.explicit(side), size).xreplace(assignment)), size)
            for side in (left, right))

    def _value(self, quantity: sp.Expr) -> sp.Expr:
        base = quantity.base.label if isinstance(quantity, sp.Indexed) else quantity
        if quantity == self.label_base or (isinstance(quantity, sp.Indexed) and quantity.base == self.label_base):
            return sp.Integer(self.rng.choice([0, 1]))
        if quantity == self.model.step_size or str(base) in STEP_NAMES:
            return sp.Float(self.rng.uniform(0.05, 1), PRECISION)
        return sp.Float(self.rng.uniform(-2, 2), PRECISION)

    def _numbers(self, *exprs: sp.Expr) -> dict[sp.Expr, sp.Expr]:
        quantities = set()
        for expr in exprs:
            indexed = expr.atoms(sp.Indexed)
            labels = {q.base.label for q in indexed}
            quantities |= indexed | {s for s in expr.free_symbols if isinstance(s, sp.Symbol) and s not in labels}
        return {q: self._value(q) for q in sorted(quantities, key=str)}

    def differs(self, left: sp.Expr, right: sp.Expr,
                conditions: tuple[sp.Basic, ...] = ()) -> tuple[LayerPoint, sp.Expr, sp.Expr] | None:
        """A point where the written-out sides differ, or None when they agree at every point tried; the free
        indices take only values that meet the claim's side ``conditions`` (no counterexample at l = j for a
        claim stated for l ≠ j)."""
        for assignment, a, b in [*self.instances(left, right), self.larger_instance(left, right)]:
            if not meets(conditions, assignment):
                continue
            for _ in range(DRAWS):
                values = self._numbers(a, b)
                left_value = sp.N(a.xreplace(values), PRECISION)
                right_value = sp.N(b.xreplace(values), PRECISION)
                if not agree(left_value, right_value):
                    return LayerPoint(assignment, values), left_value, right_value
        return None

    def proven(self, left: sp.Expr, right: sp.Expr) -> bool:
        """Exactly equal at size 2 for every assignment of the free indices, and not refuted at a larger
        size with the indices all different: the two checks ``prove.are_equal`` makes of the derivation."""
        try:
            if not all(is_zero(a - b) for _, a, b in self.instances(left, right)):
                return False
            difference = self.explicit(left) - self.explicit(right)
            return holds_at_a_larger_size(self.model, difference, self.free_indices(left, right))
        except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
            return False
