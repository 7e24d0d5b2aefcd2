"""Whole-array NumPy operations, as SymPy nodes that print themselves.

Lowering a layered model (``tensor.py``) turns index notation (h_j, w_ij, Σ_i) into operations on
whole arrays: broadcasting one array against another's axes, a matrix product, a sum or a
log-sum-exp along an axis, a mean over the samples (a sum, for the block loop's printer).  Each
is a node here, so that the lowering decides the batching as data and the printer only spells it.
Each node prints itself through ``_numpycode`` (the hook SymPy's NumPy printer calls before its
own methods), so ``printer.py`` needs no method for them.

``precedence`` makes the printer parenthesize: ``@`` binds like ``*`` in Python but the product
``a*(X @ W)`` is not ``(a*X) @ W`` for arrays, so a matrix product prints in parentheses inside
a product and bare inside a sum.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE


def _axis(printer, axes: sp.Tuple) -> str:
    """``1`` for one axis, ``(0, 2)`` for several."""
    numbers = [str(int(a)) for a in axes]
    return numbers[0] if len(numbers) == 1 else "(" + ", ".join(numbers) + ")"


class Aligned(sp.Function):
    """An array indexed so that it broadcasts against more axes: ``p[:, None]``, ``X[:, :, None]``.

    The second argument lists, from the array's first axis on, 1 for an axis it has and 0 for a
    new one (trailing new axes need no index; NumPy broadcasting adds leading ones itself).
    """

    nargs = 2
    precedence = PRECEDENCE["Atom"]

    def _numpycode(self, printer) -> str:
        array, pattern = self.args
        slots = ", ".join(":" if int(flag) else "None" for flag in pattern)
        return f"{printer.parenthesize(array, PRECEDENCE['Atom'], strict=True)}[{slots}]"


class Transposed(sp.Function):
    """A matrix with its two axes swapped: ``W.T``."""

    nargs = 1
    precedence = PRECEDENCE["Atom"]

    def _numpycode(self, printer) -> str:
        return f"{printer.parenthesize(self.args[0], PRECEDENCE['Atom'], strict=True)}.T"


class MatrixProduct(sp.Function):
    """A matrix (or matrix-vector) product ``A @ B``: one index summed between two arrays."""

    nargs = 2
    precedence = PRECEDENCE["Add"]

    def _numpycode(self, printer) -> str:
        left, right = self.args
        # @ binds like * and from the left: a*b @ c is (a*b) @ c, but a @ (b*c) needs its parentheses
        return (f"{printer.parenthesize(left, PRECEDENCE['Mul'], strict=True)} @ "
                f"{printer.parenthesize(right, PRECEDENCE['Mul'], strict=False)}")


class AxisSum(sp.Function):
    """The sum of an array along some axes: ``np.sum(A, axis=1)``."""

    nargs = 2
    precedence = PRECEDENCE["Atom"]

    def _numpycode(self, printer) -> str:
        array, axes = self.args
        return f"{printer._module_format('numpy.sum')}({printer._print(array)}, axis={_axis(printer, axes)})"


#: ln Σ e^v along an axis, as the generated modules define it (``LogSumExp`` prints a call of it).
#: The largest value is taken out before the exponentials, so nothing overflows at v = 1000 and the
#: largest term is exactly 1, so the log never sees an underflowed 0.  Only NumPy functions that
#: Dask arrays dispatch (max, exp, sum, log, squeeze): a chunked array stays lazy, which
#: ``np.logaddexp.reduce`` (a ufunc method) would not allow.
LOGSUMEXP_HELPER = '''def _logsumexp(values, axis):
    """ln Σ exp(values) along axis, without overflow: the largest value is taken out first."""
    top = np.max(values, axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(values - top), axis=axis))'''


class LogSumExp(sp.Function):
    """ln Σ e^a along an axis, without overflow: ``_logsumexp(A, 1)`` (``LOGSUMEXP_HELPER``)."""

    nargs = 2
    precedence = PRECEDENCE["Atom"]

    def _numpycode(self, printer) -> str:
        array, axes = self.args
        getattr(printer, "stable_forms", []).append("logsumexp")
        return f"_logsumexp({printer._print(array)}, {_axis(printer, axes)})"


class BatchMean(sp.Function):
    """The mean over the samples (axis 0) of a batched array: ``np.mean(A, axis=0)``; of a column, ``np.mean(a)``.

    A printer with ``sums`` set (the block loop's, which divides the totals itself) prints the sum.
    """

    nargs = 2
    precedence = PRECEDENCE["Atom"]

    def _numpycode(self, printer) -> str:
        array, rank = self.args
        reduce = printer._module_format("numpy.sum" if getattr(printer, "sums", False) else "numpy.mean")
        return f"{reduce}({printer._print(array)})" if int(rank) == 1 else f"{reduce}({printer._print(array)}, axis=0)"


class BatchAverage(sp.Function):
    """A total over the samples divided by their number: ``(X.T @ D)/len(X)``.

    A printer with ``sums`` set prints the total alone: the block loop adds the totals of its
    blocks and divides once.
    """

    nargs = 2
    precedence = PRECEDENCE["Add"]

    def _numpycode(self, printer) -> str:
        total, data = self.args
        if getattr(printer, "sums", False):
            return printer._print(total)
        return f"{printer.parenthesize(total, PRECEDENCE['Mul'], strict=False)}/len({printer._print(data)})"
