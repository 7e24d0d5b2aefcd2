"""Index notation for one sample → array expressions on whole batches (``array_nodes.py``).

Every model's derivation is per sample and in index notation: h_j, w_ij, Σ_i w_ij x_i (a scalar
model is the case with no indices).  The generated code holds every quantity as one array, samples
on axis 0 and then one axis per index: x_i → ``X`` (N, m), h_j → ``H`` (N, k), w_ij → ``w`` (m, k),
a scalar node p → ``p`` (N,), a scalar parameter → a float (``shapes.py``).
Then an expression is an array whose axes are its free indices (plus the samples, if it reads any
per-sample quantity), and

- an elementwise expression broadcasts: each operand is indexed onto the result's axes
  (``p[:, None]``), the axes kept in one fixed order (samples first, then the model's indices);
- a sum Σ_j is a contraction: factors that do not carry j stay outside, the rest become a matrix
  product when two arrays share exactly the summed axis (``X @ w``, ``H @ v``, ``D @ V.T``), and
  a broadcast product summed along the axis (``np.sum(A*B, axis=1)``) otherwise;
- ln Σ_q e^{u_q} is ``_logsumexp(U, 1)``, the module's helper, which cannot overflow;
- the mean over the samples of a gradient is a contraction over the sample axis, divided by N
  (``X.T @ D / len(X)``).

So the code has one line per formula whatever the sizes m, k and C.  What this does not lower (a
derivative left in a result, a Kronecker delta, an index that is not a plain symbol, a sum whose
terms do not depend on its index) is refused with one line naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symgrad.codegen.array_nodes import Aligned, AxisSum, BatchAverage, BatchMean, LogSumExp, MatrixProduct, Transposed
from symgrad.errors import UsageError
from symgrad.model.graph import Partial

#: The sample axis, axis 0 of every batched array.  Internal: it is never printed.
SAMPLE = sp.Symbol("sample axis")

Axes = tuple[sp.Symbol, ...]


@dataclass(frozen=True)
class Array:
    """A quantity held as one array: its Python name, and whether it has one row per sample.

    A leaf of the model (input, label, parameter, node) names its axes by the indices it is written
    with (x_i here, x_q there: the same array); a temporary has fixed ``axes``.
    """

    name: sp.Symbol
    batched: bool
    axes: Axes | None = None


class Lowering:
    """Lowers per-sample expressions of one model; ``arrays`` are keyed by IndexedBase or Symbol."""

    def __init__(self, arrays: dict[sp.Basic, Array], order: list[sp.Symbol], model_name: str) -> None:
        self.arrays = dict(arrays)
        self.order = {index: rank for rank, index in enumerate([SAMPLE, *order])}
        self.model_name = model_name

    # ---- what an expression is, as an array ----------------------------
    def refuse(self, what: str) -> UsageError:
        return UsageError(f"cannot generate {self.model_name}: {what}")

    def canonical(self, axes) -> Axes:
        """Axes in the fixed order: samples, then the model's indices, then any others by name."""
        return tuple(sorted(set(axes), key=lambda a: (self.order.get(a, len(self.order)), a.name)))

    def leaf_axes(self, expr: sp.Expr) -> Axes | None:
        """The axes of a leaf as stored (not sorted), or None when ``expr`` is not a known array."""
        if isinstance(expr, sp.Indexed) and expr.base in self.arrays:
            array = self.arrays[expr.base]
            indices = expr.indices
            if not all(isinstance(i, sp.Symbol) for i in indices):
                raise self.refuse(f"{expr} picks out single units (a sum written out term by term?); "
                                  "this backend lowers whole layers, indexed by symbols like h_j")
            if len(set(indices)) != len(indices):
                raise self.refuse(f"{expr} repeats an index (a diagonal), which this backend does not lower")
            return ((SAMPLE,) if array.batched else ()) + tuple(indices)
        if isinstance(expr, sp.Symbol) and expr in self.arrays:
            array = self.arrays[expr]
            return array.axes if array.axes is not None else ((SAMPLE,) if array.batched else ())
        return None

    def axes(self, expr: sp.Expr) -> frozenset:
        """The free indices of ``expr``, and the sample axis if it reads a per-sample quantity."""
        stored = self.leaf_axes(expr)
        if stored is not None:
            return frozenset(stored)
        if isinstance(expr, sp.Sum):
            bound = {limit[0] for limit in expr.limits}
            return self.axes(expr.function) - bound
        if isinstance(expr, (sp.Derivative, Partial, sp.KroneckerDelta, sp.Piecewise, sp.Subs)):
            raise self.refuse(f"a result still holds {type(expr).__name__} {expr}, which has no array form")
        if isinstance(expr, (sp.Indexed, sp.IndexedBase)):
            raise self.refuse(f"{expr} is not a quantity the forward pass computes")
        if isinstance(expr, sp.Symbol):
            raise self.refuse(f"the results use {expr}, which the forward pass does not compute")
        if not expr.args or expr.is_Number:
            return frozenset()
        return frozenset().union(*(self.axes(a) for a in expr.args))

    # ---- lowering ------------------------------------------------------
    def lower(self, expr: sp.Expr, target: Axes | None = None) -> sp.Expr:
        """``expr`` as an array expression that broadcasts onto ``target`` (default: its own axes)."""
        own = self.canonical(self.axes(expr))
        coefficient, rest = expr.as_coeff_Mul() if expr.is_Mul else (sp.S.One, expr)
        if coefficient != 1:  # -a[:, None], not (-a)[:, None]
            return coefficient * self.lower(rest, target)
        code = self._own(expr, own)
        return self.align(code, own, own if target is None else target)

    def align(self, code: sp.Expr, own: Axes, target: Axes) -> sp.Expr:
        """Index ``code`` (axes ``own``) so that it broadcasts onto ``target``: ``p[:, None]``."""
        if not set(own) <= set(target):
            raise self.refuse(f"cannot broadcast axes {own} onto {target}")  # a lowering bug, not the user's
        if not own or own == target[len(target) - len(own):]:
            return code
        start = target.index(own[0])
        pattern = [1 if axis in own else 0 for axis in target[start:]]
        while pattern and pattern[-1] == 1:
            pattern.pop()
        return Aligned(code, sp.Tuple(*pattern))

    def _own(self, expr: sp.Expr, own: Axes) -> sp.Expr:
        stored = self.leaf_axes(expr)
        if stored is not None:
            array = self.arrays[expr.base if isinstance(expr, sp.Indexed) else expr]
            if stored == own:
                return array.name
            if len(stored) == 2:
                return Transposed(array.name)
            raise self.refuse(f"{expr} would need its axes reordered, which this backend does not do")
        if isinstance(expr, sp.log) and isinstance(expr.args[0], sp.Sum) and isinstance(expr.args[0].function, sp.exp):
            return self._log_sum_exp(expr.args[0], own)
        if isinstance(expr, sp.Sum):
            return self._sum(expr, own)
        if not expr.args or expr.is_Number:
            return expr
        return expr.func(*(self.lower(a, own) for a in expr.args))

    def _bound(self, total: sp.Sum) -> set[sp.Symbol]:
        bound = set()
        for index, low, _ in total.limits:
            if low != 1:
                raise self.refuse(f"the sum {total} does not start at 1")
            if index not in self.axes(total.function):
                raise self.refuse(f"the terms of the sum {total} do not depend on its index {index}")
            bound.add(index)
        return bound

    def _log_sum_exp(self, total: sp.Sum, own: Axes) -> sp.Expr:
        bound = self._bound(total)
        exponent = total.function.args[0]
        inner = self.canonical(self.axes(exponent))
        positions = [inner.index(b) for b in sorted(bound, key=inner.index)]
        return LogSumExp(self.lower(exponent), sp.Tuple(*positions))

    def _sum(self, total: sp.Sum, own: Axes) -> sp.Expr:
        return self.contract(sp.Mul.make_args(total.function), self._bound(total), own)

    # ---- contraction ---------------------------------------------------
    def contract(self, factors, summed: set, out: Axes) -> sp.Expr:
        """Σ over ``summed`` of the product of ``factors``, as an array with axes ``out``."""
        outside = [f for f in factors if not self.axes(f) & summed]
        inside = [f for f in factors if self.axes(f) & summed]
        inner_out = self.canonical(frozenset().union(*(self.axes(f) for f in inside)) - summed)
        reduced = self.align(self._contract_inside(inside, summed, inner_out), inner_out, out)
        return sp.Mul(*(self.lower(f, out) for f in outside), reduced)

    def _contract_inside(self, factors, summed: set, out: Axes) -> sp.Expr:
        groups: dict[frozenset, list] = {}
        for factor in factors:
            groups.setdefault(self.axes(factor), []).append(factor)
        while len(groups) > 2:
            smallest = min(groups, key=lambda g: (len(g), self.canonical(g)))
            supersets = [g for g in groups if g != smallest and smallest <= g]
            if not supersets:
                break
            into = max(supersets, key=lambda g: len(groups[g]))
            groups[into] += groups.pop(smallest)
        operands = [(self.canonical(g), self._product(fs, self.canonical(g))) for g, fs in groups.items()]
        if len(operands) == 2 and len(summed) == 1:
            product = self._matmul(*operands, next(iter(summed)), out)
            if product is not None:
                return product
        union = self.canonical(frozenset().union(*(set(axes) for axes, _ in operands)))
        everything = sp.Mul(*(self.align(code, axes, union) for axes, code in operands))
        positions = [union.index(axis) for axis in union if axis in summed]
        return AxisSum(everything, sp.Tuple(*positions))

    def _product(self, factors, axes: Axes) -> sp.Expr:
        return sp.Mul(*(self.lower(f, axes) for f in factors))

    @staticmethod
    def _matmul(a: tuple[Axes, sp.Expr], b: tuple[Axes, sp.Expr], index: sp.Symbol, out: Axes) -> sp.Expr | None:
        """``A @ B`` when it computes Σ_index A·B with axes ``out``: of the two orders, the one with fewer transposes.

        So Σ_j w_j x_j is ``X @ w`` rather than ``w @ X.T``, and Σ_n c_n x_nj is ``c @ X``.
        """
        candidates = []
        for (left_axes, left), (right_axes, right) in ((a, b), (b, a)):
            if index not in left_axes or index not in right_axes or len(left_axes) > 2 or len(right_axes) > 2:
                return None
            kept_left = tuple(x for x in left_axes if x != index)
            kept_right = tuple(x for x in right_axes if x != index)
            if kept_left + kept_right != out:
                continue
            transposes = (left_axes[-1] != index) + (right_axes[0] != index)
            if left_axes[-1] != index:
                left = Transposed(left)
            if right_axes[0] != index:
                right = Transposed(right)
            candidates.append((transposes, MatrixProduct(left, right)))
        return min(candidates, key=lambda c: c[0])[1] if candidates else None

    # ---- the batch mean of a gradient ----------------------------------
    def sample_mean(self, expr: sp.Expr, data: sp.Symbol) -> sp.Expr:
        """The mean over the samples of a per-sample expression: ``X.T @ D / len(X)``, ``np.mean(t0)``."""
        own = self.canonical(self.axes(expr))
        if SAMPLE not in own:
            return self.lower(expr)
        out = own[1:]
        coefficient, rest = expr.as_coeff_Mul()
        factors = list(sp.Mul.make_args(rest))
        sums = [n for n, f in enumerate(factors) if f.is_Add]
        if coefficient != 1 and sums:  # -(y - h)·x_j: the sign goes into the difference, (h - y)·x_j
            factors[sums[0]], coefficient = coefficient * factors[sums[0]], sp.S.One
        inside = [f for f in factors if SAMPLE in self.axes(f)]
        axes_inside = self.canonical(frozenset().union(*(self.axes(f) for f in inside)))
        if len({self.axes(f) for f in inside} - {frozenset(axes_inside)}) == 0 or len(inside) == 1:
            outside = [f for f in factors if SAMPLE not in self.axes(f)]
            mean = BatchMean(self._product(inside, axes_inside), sp.Integer(len(axes_inside)))
            kept = axes_inside[1:]
            return coefficient * sp.Mul(*(self.lower(f, out) for f in outside), self.align(mean, kept, out))
        return coefficient * BatchAverage(self.contract(factors, {SAMPLE}, out), data)
