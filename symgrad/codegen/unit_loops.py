"""One sample's index notation printed as loops over its units: the body of the Numba target's loop
for a layered model.

A layered model's sample holds vectors (h_j) and its parameters are matrices (w_ij), so the loop over
the samples holds small loops over the units.  The Plan's index form (``plan.IndexForm``) is printed
as it is written:

- ``h_j = s(b_j + Σ_i w_ij x_i)`` becomes a loop over j that fills the sample's buffer ``H[_j]``,
  with the sum as an accumulation loop over i before the assignment;
- each sum is computed in the outermost loop where its value is fixed (a sum that does not read j is
  not redone for every j, and one that reads nothing of the sample, Σ_i w_i², once before the loop over
  the samples), and once in that loop however often the expressions read it;
- ln Σ_q e^{u_q} is a pass for the largest u and a pass for Σ e^{u - largest}, so it cannot overflow,
  as the NumPy module's ``_logsumexp``;
- a gradient adds the sample's term to the run's total, one entry per unit: ``total2[_i, _j] += …``.

Everything else (numbers in the data's precision, the scalar sigmoid, powers as products) prints as in
the Numba target's loop over a sample's numbers: this printer extends ``SymgradNumbaPrinter`` with the
indexed leaves and the sums, and types no formula.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from symgrad.codegen.names import NUMBA_TEMPLATE_NAMES
from symgrad.codegen.numba_helpers import HELPER_NAMES
from symgrad.codegen.plan import IndexForm, UnitAssignment, reads
from symgrad.codegen.printer import SymgradNumbaPrinter
from symgrad.codegen.tensor import SAMPLE
from symgrad.errors import UsageError

INDENT = "    "


@dataclass
class _Scope:
    """One loop of the statement being printed (``index`` None: outside every loop): the lines that run
    in it before what it encloses, and the sums already computed in it."""

    index: sp.Symbol | None
    lines: list[str] = field(default_factory=list)
    sums: dict[sp.Expr, str] = field(default_factory=dict)


class UnitLoopPrinter(SymgradNumbaPrinter):
    """Prints statements of one sample's loop body from the index form; ``sizes`` maps each size name to
    the code that reads it in the kernel (``w.shape[1]``)."""

    def __init__(self, form: IndexForm, sizes: dict[str, str]) -> None:
        super().__init__(per_sample=set())
        self.form = form
        self.sizes = sizes
        self.loop_names = loop_names(form.ranges)
        self.scopes: list[_Scope] = []
        self.counter = 0
        self.sample_scope = _Scope(None)  # what every statement of the sample may read: sums over all its units
        self.run_scope = _Scope(None)  # what no sample changes (Σ_i w_i², an L2 term): before the loop over samples

    # ---- statements ------------------------------------------------------
    def assign(self, target: str, expr: sp.Expr, axes: tuple[sp.Symbol, ...], operator: str = "=",
               row: bool = False) -> list[str]:
        """``target[_j, …] = expr`` for every unit of ``axes`` (a loop per axis), with the sums it reads
        before it.  ``row`` indexes ``target`` by the sample first (``out[n, _l]``)."""
        scopes = [_Scope(None, sums=self.sample_scope.sums), *(_Scope(axis) for axis in axes)]
        self.scopes = scopes
        code = self._print(expr)
        indices = (["n"] if row else []) + [self.loop_names[a] for a in axes]
        where = f"[{', '.join(indices)}]" if indices else ""
        return _nest(scopes, [f"{target}{where} {operator} {code}"], self._loop)

    def unit_assignment(self, assignment: UnitAssignment) -> list[str]:
        """A forward value or temporary of one sample: a number, or the sample's buffer of units."""
        return self.assign(assignment.target, assignment.expr, assignment.axes)

    def buffer_shape(self, axes: tuple[sp.Symbol, ...]) -> str:
        """The shape of a buffer with ``axes``, as code: ``(w.shape[1],)``."""
        sizes = [self.size(a) for a in axes]
        return f"({', '.join(sizes)}{',' if len(sizes) == 1 else ''})"

    def size(self, index: sp.Symbol) -> str:
        """How many units the index runs over, as code."""
        size = self.form.ranges[index]
        if size.isdigit():
            return size
        if size not in self.sizes:
            raise UsageError(f"cannot generate for numba: a loop runs over {size} units, which no argument gives")
        return self.sizes[size]

    def _loop(self, index: sp.Symbol) -> str:
        return f"for {self.loop_names[index]} in range({self.size(index)}):"

    # ---- leaves ----------------------------------------------------------
    def _print_Indexed(self, expr: sp.Indexed) -> str:
        indices = [self.loop_names[i] for i in expr.indices]
        if expr.base in self.form.rows:
            indices.insert(0, "n")
        return f"{self.form.arrays[expr.base].name}[{', '.join(indices)}]"

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        array = self.form.arrays.get(expr)
        if array is None:
            raise TypeError(f"{expr} is not a quantity of the loop")  # the lowering refused it already
        if expr in self.form.rows:
            return f"{array.name}[n]"
        axes = [a for a in (array.axes or ()) if a != SAMPLE]
        if axes:
            return f"{array.name}[{', '.join(self.loop_names[a] for a in axes)}]"
        return array.name.name

    # ---- sums ------------------------------------------------------------
    def _print_Sum(self, expr: sp.Sum) -> str:
        if len(expr.limits) > 1:  # Σ_i Σ_j as Σ_i (Σ_j …), the innermost limit first
            inner = sp.Sum(expr.function, expr.limits[0])
            return self._print(sp.Sum(inner, *expr.limits[1:]))
        (index, _, _), = expr.limits

        def accumulate(scope: _Scope, chain: list[_Scope]) -> str:
            name = self._fresh("_sum")
            body, term = self._in_loop(chain, index, expr.function)
            scope.lines += [f"{name} = {self._print(sp.S.Zero)}", self._loop(index),
                            *_indented([*body.lines, f"{name} += {term}"])]
            return name

        return self._once(expr, expr, accumulate)

    def _print_log(self, expr: sp.log) -> str:
        """ln Σ_q e^{u_q}: the largest u first, then the sum of e^{u - largest}, which cannot overflow."""
        total = expr.args[0]
        if not (isinstance(total, sp.Sum) and len(total.limits) == 1 and isinstance(total.function, sp.exp)):
            return super()._print_log(expr)
        (index, _, _), = total.limits
        exponent = total.function.args[0]

        def two_passes(scope: _Scope, chain: list[_Scope]) -> str:
            top, name, logged = self._fresh("_top"), self._fresh("_sum"), self._fresh("_logsumexp")
            largest, value = self._in_loop(chain, index, exponent)
            summing, again = self._in_loop(chain, index, exponent)
            self.helpers_used.add("exp")
            scope.lines += [f"{top} = {self._real('-np.inf')}", self._loop(index),
                            *_indented([*largest.lines, f"{top} = max({top}, {value})"]),
                            f"{name} = {self._print(sp.S.Zero)}", self._loop(index),
                            *_indented([*summing.lines, f"{name} += _exp({again} - {top})"]),
                            f"{logged} = {top} + {self._np('log')}({name})"]
            return logged

        return self._once(expr, total, two_passes)

    def _print_exp(self, expr: sp.exp) -> str:
        """e^u as the module's ``_exp``: arithmetic, so that a loop over units that takes it is vectorised."""
        self.helpers_used.add("exp")
        return f"_exp({self._print(expr.args[0])})"

    def _once(self, expr: sp.Expr, total: sp.Sum, compute) -> str:
        """The name of ``expr`` (whose loop is the sum ``total``'s), computed by ``compute(scope, enclosing)``
        into the scope where its value is fixed, unless that scope holds it already."""
        scope, chain = self._home(total)
        key = self._canonical(expr)
        if key not in scope.sums:
            scope.sums[key] = compute(scope, chain)
        return scope.sums[key]

    def _home(self, expr: sp.Expr) -> tuple[_Scope, list[_Scope]]:
        """The outermost open loop where ``expr`` has one value (the innermost whose index it reads; before
        the loop over the samples if it reads only parameters), and the scopes that enclose it, itself last."""
        free = self._free_indices(expr)
        for depth in range(len(self.scopes) - 1, 0, -1):
            if self.scopes[depth].index in free:
                return self.scopes[depth], self.scopes[:depth + 1]
        if not free and self._reads_only_parameters(expr):
            return self.run_scope, [self.run_scope]
        return self.scopes[0], self.scopes[:1]

    def _reads_only_parameters(self, expr: sp.Expr) -> bool:
        """Whether every quantity ``expr`` reads is a parameter, given before the loop: not the sample's row, a
        value computed from it, nor a temporary (which the loop computes, sample by sample)."""
        arrays = [self.form.arrays[key] for key in reads(expr) if key in self.form.arrays]
        return all(not array.batched and array.axes is None for array in arrays)

    def _in_loop(self, chain: list[_Scope], index: sp.Symbol, expr: sp.Expr) -> tuple[_Scope, str]:
        """``expr`` printed inside a new loop over ``index``, placed in the last of the scopes ``chain``."""
        outer = self.scopes
        loop = _Scope(index)
        self.scopes = [*chain, loop]
        try:
            return loop, self._print(expr)
        finally:
            self.scopes = outer

    def _free_indices(self, expr: sp.Expr) -> set[sp.Symbol]:
        """The indices ``expr`` depends on, counting those a temporary carries unwritten (``t1`` is t1_j), but
        not those a sum binds (Σ_j t1 does not depend on j)."""
        if isinstance(expr, sp.Sum):
            return self._free_indices(expr.function) - {limit[0] for limit in expr.limits}
        if isinstance(expr, sp.Symbol):
            array = self.form.arrays.get(expr)
            if array is not None and array.axes:
                return {a for a in array.axes if a != SAMPLE}
            return {expr} if expr in self.form.ranges else set()
        if isinstance(expr, sp.Indexed):
            return set().union(*(self._free_indices(i) for i in expr.indices))
        return set().union(set(), *(self._free_indices(a) for a in expr.args))

    def _canonical(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with its temporaries' units written out (t1 as t1(j)) and the indices its sums bind renamed
        in order, so that Σ_q e^{u_q} and Σ_q' e^{u_q'} (the softmax's and its log's) are one sum, computed once,
        and Σ_j t1·v_j (t1 carrying j) is not taken for Σ_l t1·v_l."""
        written = {symbol: sp.Function(symbol.name)(*array.axes) for symbol in expr.free_symbols
                   if (array := self.form.arrays.get(symbol)) is not None and array.axes}
        expr = expr.xreplace(written)
        bound = [limit[0] for total in sorted(expr.atoms(sp.Sum), key=sp.default_sort_key) for limit in total.limits]
        return expr.xreplace({index: sp.Symbol(f"bound {n}") for n, index in enumerate(dict.fromkeys(bound))})

    def _fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"


#: The names this printer gives the partial sums it computes (``_sum1``, ``_top2``, ``_logsumexp3``).
NUMBERED = re.compile(r"_(sum|top|logsumexp)\d+")


def loop_names(ranges: dict) -> dict[sp.Symbol, str]:
    """Each index's loop variable: ``_i`` for i, ``_q_`` for q'.  An underscore more where the name is taken
    (another index's, a helper's such as ``_heaviside`` or ``_exp``, the template's, a partial sum's): no model
    quantity's name begins with an underscore, so these are the only names it could meet."""
    taken = set(NUMBA_TEMPLATE_NAMES) | HELPER_NAMES
    names: dict[sp.Symbol, str] = {}
    for index in ranges:
        name = "_" + re.sub(r"\W", "_", index.name)
        while name in taken or NUMBERED.fullmatch(name):
            name += "_"
        names[index] = name
        taken.add(name)
    return names


def _nest(scopes: list[_Scope], innermost: list[str], loop) -> list[str]:
    """The scopes' lines, each loop enclosing the next, with ``innermost`` in the last."""
    first, rest = scopes[0], scopes[1:]
    body = [*first.lines, *(_nest(rest, innermost, loop) if rest else innermost)]
    if first.index is None:
        return body
    return [loop(first.index), *_indented(body)]


def _indented(lines: list[str]) -> list[str]:
    return [INDENT + line for line in lines]
