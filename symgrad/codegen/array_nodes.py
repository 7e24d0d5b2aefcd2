"""Whole-array NumPy operations, as SymPy nodes that print themselves.

Lowering a layered model (``tensor.py``) turns index notation (h_j, w_ij, Σ_i) into operations on
whole arrays: broadcasting one array against another's axes, a matrix product, a sum or a
log-sum-exp along an axis, a mean over the samples.  Each is a node here, so that the lowering
decides the batching as data and the printer only spells it.  Each node prints itself through
``_numpycode`` (the hook SymPy's NumPy printer calls before its own methods), so ``printer.py``
needs no method for them.

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


class MatMul(sp.Function):
    """A matrix (or matrix-vector) product ``A @ B``: one index summed between two arrays."""

    nargs = 2
    precedence = PRECEDENCE["Add"]

    def _numpycode(self, printer) -> str:
        left, right = self.args
        return (f"{printer.parenthesize(left, PRECEDENCE['Mul'], strict=False)} @ "
                f"{printer.parenthesize(right, PRECEDENCE['Mul'], strict=True)}")


class AxisSum(sp.Function):
    """The sum of an array along some axes: ``np.sum(A, axis=1)``."""

    nargs = 2
    precedence = PRECEDENCE["Atom"]

    def _numpycode(self, printer) -> str:
        array, axes = self.args
        return f"{printer._module_format('numpy.sum')}({printer._print(array)}, axis={_axis(printer, axes)})"


class LogSumExp(sp.Function):
    """ln Σ e^a along an axis, without overflow: ``np.logaddexp.reduce(A, axis=1)``."""

    nargs = 2
    precedence = PRECEDENCE["Atom"]

    def _numpycode(self, printer) -> str:
        array, axes = self.args
        getattr(printer, "stable_forms", []).append("logsumexp")
        reduce = printer._module_format("numpy.logaddexp") + ".reduce"
        return f"{reduce}({printer._print(array)}, axis={_axis(printer, axes)})"


class BatchMean(sp.Function):
    """The mean over the samples (axis 0) of a batched array: ``np.mean(A, axis=0)``; of a column, ``np.mean(a)``."""

    nargs = 2
    precedence = PRECEDENCE["Atom"]

    def _numpycode(self, printer) -> str:
        array, rank = self.args
        mean = printer._module_format("numpy.mean")
        return f"{mean}({printer._print(array)})" if int(rank) == 1 else f"{mean}({printer._print(array)}, axis=0)"


class SampleCount(sp.Function):
    """The number of samples in a batch: ``len(X)``."""

    nargs = 1
    precedence = PRECEDENCE["Atom"]

    def _numpycode(self, printer) -> str:
        return f"len({printer._print(self.args[0])})"
