"""SymPy's NumPy printer, extended for symgrad's functions and batched nodes.

New functions enter through ``_print_X`` methods, as in ``sympy/printing/numpy.py``.  Every NumPy
name is written ``np.…``.

The sigmoid is printed as a call of the module's ``_sigmoid`` helper (``SIGMOID_HELPER``, which the
template writes into each module that uses it).  Both of its forms keep full relative precision in
both tails wherever s(z) is a normal float (z > -708): 0.5 + 0.5·tanh(z/2), although fast, rounds
s(-40) ≈ 4e-18 to 0, and the gradients (a2 - y)·a2·… would lose all their digits there.  A large
NumPy array takes 1/(1 + e^{-z}) in three passes, e^{-z} computed and then updated in place: its
overflow at z < -709.8 gives 1/(1 + inf) = 0, the right value but for a subnormal, and is not
reported (np.errstate).  That is half the time of e^{min(z, 0)} / (1 + e^{-|z|}), the seven-pass
form that needs no errstate (≈0.8 against 1.6 ns an element in float32 on 16384 elements).  Small
arrays, where each NumPy call costs more than the elements and an errstate more than the call,
and Dask arrays, whose arithmetic runs later, outside any errstate, take exp(-logaddexp(0, -z)),
which cannot overflow.

With ``sums=True`` the batch reductions print as sums over the samples (``np.sum(…)``, ``c @ X``)
rather than means: the generated code adds those up block by block and divides once at the end.

A module defines the helpers its code calls (``_sigmoid``, ``_logsumexp``); which ones is data the
printer records as it prints (``helpers_used``), so no one scans the printed text for them.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE

from symgrad.codegen.array_nodes import (
    Aligned,
    AxisSum,
    BatchAverage,
    BatchMean,
    Item,
    LogSumExp,
    MatrixProduct,
    Transposed,
)

#: The sigmoid of the generated modules; see the module docstring for its two forms.
SIGMOID_HELPER = '''def _sigmoid(values):
    """s(values) = 1/(1 + e^-values), elementwise, to full relative precision wherever s is a normal float.

    A large NumPy array takes the fewest passes: 1/(1 + e^-v), with e^-v updated in place; its
    overflow (e^1000 = inf, so s = 1/(1 + inf) = 0, as it should be) is not reported.  Any other
    (a few values, or a Dask array, which computes later) takes exp(-logaddexp(0, -v)), which
    cannot overflow.
    """
    if isinstance(values, np.ndarray) and values.size > 64:
        with np.errstate(over="ignore"):
            total = np.exp(-values)
        total += 1
        return np.reciprocal(total, out=total)
    return np.exp(-np.logaddexp(0, -values))
'''

#: ln Σ e^v along an axis, as the generated modules define it (``LogSumExp`` prints a call of it).
#: The largest value is taken out before the exponentials, so nothing overflows at v = 1000 and the
#: largest term is exactly 1, so the log never sees an underflowed 0.  Only NumPy functions that
#: Dask arrays dispatch (max, exp, sum, log, squeeze): a chunked array stays lazy, which
#: ``np.logaddexp.reduce`` (a ufunc method) would not allow.
LOGSUMEXP_HELPER = '''def _logsumexp(values, axis):
    """ln Σ exp(values) along axis, without overflow: the largest value is taken out first."""
    top = np.max(values, axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(values - top), axis=axis))'''

#: Each helper a NumPy module may call, by the name the printer records, in the order a module defines them.
NUMPY_HELPERS = {"sigmoid": (SIGMOID_HELPER,), "logsumexp": (LOGSUMEXP_HELPER,)}


def _axis(axes: sp.Tuple) -> str:
    """``1`` for one axis, ``(0, 2)`` for several."""
    numbers = [str(int(a)) for a in axes]
    return numbers[0] if len(numbers) == 1 else "(" + ", ".join(numbers) + ")"


def helper_sources(helpers: dict[str, tuple[str, ...]], *printers: SymgradNumPyPrinter) -> list[str]:
    """The definitions, from ``helpers`` and in its order, of every helper that ``printers`` have printed a call of."""
    used = set().union(*(printer.helpers_used for printer in printers))
    wanted = [source for name, sources in helpers.items() if name in used for source in sources]
    return list(dict.fromkeys(wanted))  # a definition two helpers need (Numba's _exp) once


class SymgradNumPyPrinter(NumPyPrinter):
    """Prints one expression as NumPy code.

    ``stable_forms`` lists the stable rewrites the last expression used (for its comment);
    ``helpers_used`` collects, over every expression printed, the module helpers the code calls.
    """

    def __init__(self, sums: bool = False) -> None:
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False, "strict": True})
        self.stable_forms: list[str] = []
        self.helpers_used: set[str] = set()
        self.sums = sums


    def doprint(self, expr: sp.Expr, assign_to: object = None) -> str:  # noqa: D102
        self.stable_forms = []
        return super().doprint(expr, assign_to)

    def _module_format(self, fqn: str, register: bool = True) -> str:
        name = super()._module_format(fqn, register)
        return "np." + name[len("numpy."):] if name.startswith("numpy.") else name

    def _np(self, name: str) -> str:
        """The array library's function ``name``: ``np.sum`` here, ``torch.sum`` in the torch printer."""
        return self._module_format("numpy." + name)

    # ---- symgrad's activations ----------------------------------------
    def _print_sigmoid(self, expr: sp.Expr) -> str:
        self.stable_forms.append("sigmoid")
        self.helpers_used.add("sigmoid")
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_relu(self, expr: sp.Expr) -> str:
        return f"{self._np('maximum')}({self._print(sp.S.Zero)}, {self._print(expr.args[0])})"

    def _print_softplus(self, expr: sp.Expr) -> str:
        """ln(1 + e^u) as logaddexp(0, u), which cannot overflow."""
        return f"{self._np('logaddexp')}({self._print(sp.S.Zero)}, {self._print(expr.args[0])})"

    #: The step function's name in the printed code; None for NumPy's (the Numba printer has its own).
    heaviside: str | None = None

    def _print_Heaviside(self, expr: sp.Expr) -> str:
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        if self.heaviside:
            self.helpers_used.add("heaviside")
        function = self.heaviside or self._np("heaviside")
        return f"{function}({self._print(expr.args[0])}, {self._print(at_zero)})"

    # ---- numbers -------------------------------------------------------
    def _print_Rational(self, expr: sp.Rational) -> str:
        """½ as ``0.5`` when the decimal is exact; a Python float keeps float32 arrays float32."""
        value = float(expr)
        if sp.Rational(value) == expr:
            return repr(value)
        return f"{expr.p}/{expr.q}"

    _print_Half = _print_Rational

    def _print_Mul(self, expr: sp.Mul) -> str:
        """``0.5*(a2 - y)**2`` rather than SymPy's ``(1/2)*…``."""
        coefficient, rest = expr.as_coeff_Mul()
        if coefficient.is_Rational and not coefficient.is_Integer and sp.Rational(float(coefficient)) == coefficient:
            sign = "-" if coefficient < 0 else ""
            return f"{sign}{self._print(abs(coefficient))}*{self.parenthesize(rest, PRECEDENCE['Mul'])}"
        return super()._print_Mul(expr)

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        """Positive terms first, as the handouts write them: ``w - lr*g``, ``y - h``."""
        terms = self._as_ordered_terms(expr, order=order)
        terms = sorted(terms, key=lambda term: term.could_extract_minus_sign())
        return super()._print_Add(sp.Add(*terms, evaluate=False), order="none")

    # ---- the array nodes (array_nodes.py) -------------------------------
    def _print_Aligned(self, expr: Aligned) -> str:
        array, pattern = expr.args
        slots = ", ".join(":" if int(flag) else "None" for flag in pattern)
        return f"{self.parenthesize(array, PRECEDENCE['Atom'], strict=True)}[{slots}]"

    def _print_Transposed(self, expr: Transposed) -> str:
        return f"{self.parenthesize(expr.args[0], PRECEDENCE['Atom'], strict=True)}.T"

    def _print_MatrixProduct(self, expr: MatrixProduct) -> str:
        left, right = expr.args
        # @ binds like * and from the left: a*b @ c is (a*b) @ c, but a @ (b*c) needs its parentheses
        return (f"{self.parenthesize(left, PRECEDENCE['Mul'], strict=True)} @ "
                f"{self.parenthesize(right, PRECEDENCE['Mul'], strict=False)}")

    #: The keyword that names the axis of a reduction: NumPy's ``axis``, torch's ``dim``.
    axis_keyword = "axis"

    def _print_AxisSum(self, expr: AxisSum) -> str:
        array, axes = expr.args
        return f"{self._np('sum')}({self._print(array)}, {self.axis_keyword}={_axis(axes)})"

    def _print_LogSumExp(self, expr: LogSumExp) -> str:
        array, axes = expr.args
        self.stable_forms.append("logsumexp")
        self.helpers_used.add("logsumexp")
        return f"_logsumexp({self._print(array)}, {_axis(axes)})"

    def _print_BatchMean(self, expr: BatchMean) -> str:
        array, rank = expr.args
        reduce = self._np("sum" if self.sums else "mean")
        if int(rank) == 1:
            return f"{reduce}({self._print(array)})"
        return f"{reduce}({self._print(array)}, {self.axis_keyword}=0)"

    def _print_BatchAverage(self, expr: BatchAverage) -> str:
        total, data = expr.args
        if self.sums:
            return self._print(total)
        return f"{self.parenthesize(total, PRECEDENCE['Mul'], strict=False)}/len({self._print(data)})"

    def _print_Item(self, expr: Item) -> str:
        container, key = expr.args
        return f'{self._print(container)}["{key.name}"]'


class SymgradNumbaPrinter(SymgradNumPyPrinter):
    """Prints one sample's expression for the body of a Numba loop over the samples ``n``.

    The per-sample arrays (the label, and the input when it has one value per sample) print as
    ``y[n]``; ``Σ_i w_i x_i`` prints as ``_row_dot(X, n, w)``, a loop over one row; the sigmoid as
    the scalar helper ``_sigmoid``, whose form 1/(1 + e^-u) is exact in IEEE arithmetic at any u
    (e^1000 = inf gives 0), so one exp a value suffices.  Numbers print as ``real(…)``, the data's
    float type, and integer powers as multiplications (below).  NumPy's scalar functions
    (``np.exp``, ``np.logaddexp``) are what Numba compiles them as, so the rest prints as in the
    NumPy module.
    """

    heaviside = "_heaviside"  # Numba does not compile np.heaviside

    def __init__(self, per_sample: set[str], sample: str = "n", dot: str | None = None) -> None:
        """``sample`` indexes the per-sample arrays; ``dot``, if given, names Σ_i w_i x_i already computed
        (the loop that takes several samples at a time computes the sums first, as ``dots[r]``)."""
        super().__init__()
        self.per_sample = frozenset(per_sample)
        self.sample = sample
        self.dot = dot
        self.casts = 0  # numbers printed as real(…) so far: a loop that prints none need not define real

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        name = super()._print_Symbol(expr)
        return f"{name}[{self.sample}]" if expr.name in self.per_sample else name

    # ---- numbers, in the data's precision -------------------------------
    # Numba types a literal 1 or 0.5 as int64 or float64, and float32 with either is float64: a
    # float32 loop would run in float64, on half as many samples an instruction.  Each number is
    # cast to the loop's ``real`` (the data's dtype), which LLVM folds into a constant.
    def _real(self, number: str) -> str:
        self.casts += 1
        return f"real({number})"

    def _print_Integer(self, expr: sp.Integer) -> str:
        return self._real(str(expr.p))

    _print_Zero = _print_One = _print_NegativeOne = _print_Integer

    def _print_Rational(self, expr: sp.Rational) -> str:
        return self._real(super()._print_Rational(expr))

    _print_Half = _print_Rational

    def _print_Float(self, expr: sp.Float) -> str:
        return self._real(super()._print_Float(expr))

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        """An integer power as ``u**2`` (a multiplication, in u's precision), its reciprocal as ``real(1)/u**2``."""
        base, exponent = expr.args
        if not exponent.is_Integer:
            return super()._print_Pow(expr, rational)
        power = self.parenthesize(base, PRECEDENCE["Pow"], strict=True)
        if abs(exponent) != 1:
            power = f"{power}**{abs(exponent)}"
        return power if exponent > 0 else f"{self._real('1')}/{power}"

    def _print_MatrixProduct(self, expr: MatrixProduct) -> str:
        """Σ_i w_i x_i for sample n: the lowering's ``X @ w`` read one row at a time."""
        self.helpers_used.add("row_dot")
        if self.dot is not None:
            return self.dot
        matrix, vector = expr.args
        return f"_row_dot({self._print(matrix)}, {self.sample}, {self._print(vector)})"

    def _print_BatchMean(self, expr: sp.Expr) -> str:
        raise TypeError("a loop body holds one sample: its sums are the kernel's accumulators, not printed")

    _print_BatchAverage = _print_Aligned = _print_Transposed = _print_AxisSum = _print_LogSumExp = _print_BatchMean


class SymgradTorchPrinter(SymgradNumPyPrinter):
    """Prints one expression as PyTorch code on whole tensors: the NumPy printer with torch's spellings.

    The same Plan, the same array nodes and the same numbers as the NumPy module; only the names of the
    functions differ (``torch.sum(A, dim=1)``, ``torch.logsumexp``), and torch's own stable forms stand in
    for the NumPy module's helpers: ``torch.sigmoid`` and ``softplus`` (= logaddexp(0, u)) neither overflow
    nor lose the tails, so a PyTorch module defines no helper.  SymPy's own ``TorchPrinter`` (SymPy ≥ 1.14)
    prints matrices and derivatives, not these nodes, and would make symgrad need a newer SymPy.
    """

    axis_keyword = "dim"

    def _module_format(self, fqn: str, register: bool = True) -> str:
        if fqn.startswith("numpy."):
            return "torch." + fqn[len("numpy."):]
        return super()._module_format(fqn, register)

    def _print_sigmoid(self, expr: sp.Expr) -> str:
        self.stable_forms.append("sigmoid")
        return f"{self._np('sigmoid')}({self._print(expr.args[0])})"

    def _print_relu(self, expr: sp.Expr) -> str:
        return f"{self._np('relu')}({self._print(expr.args[0])})"

    def _print_softplus(self, expr: sp.Expr) -> str:
        return f"{self._np('nn.functional.softplus')}({self._print(expr.args[0])})"

    def _print_logaddexp(self, expr: sp.Expr) -> str:
        """ln(e^a + e^b): softplus(b) when a is 0 (torch.logaddexp takes two tensors, not a number)."""
        first, second = expr.args
        if first == 0:
            return f"{self._np('nn.functional.softplus')}({self._print(second)})"
        if second == 0:
            return f"{self._np('nn.functional.softplus')}({self._print(first)})"
        return f"{self._np('logaddexp')}({self._print(first)}, {self._print(second)})"

    def _print_Heaviside(self, expr: sp.Expr) -> str:
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        value = self._print(expr.args[0])
        return f"{self._np('heaviside')}({value}, {self._np('full_like')}({value}, {self._print(at_zero)}))"

    def _print_LogSumExp(self, expr: LogSumExp) -> str:
        array, axes = expr.args
        self.stable_forms.append("logsumexp")
        return f"{self._np('logsumexp')}({self._print(array)}, dim={_axis(axes)})"
