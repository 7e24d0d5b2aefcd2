"""The array operations that SymPy has no node for: the one vocabulary of the lowered code.

Every model's derivation is per sample and in index notation (x_i, h_j, w_ij, Σ_i; a scalar model
has no index at all).  The generated code runs on whole batches, one sample per row, so lowering
(``tensor.py``) turns each expression into these nodes: an array broadcast onto more axes, a
matrix product, a sum or a log-sum-exp along an axis, a mean over the samples.  The batching is
decided once, as data; each target's printer (``printer.py``: NumPy, the Numba loop body, PyTorch)
gives each node its spelling through a ``_print_<Node>`` method, so a new target adds a printer,
never a second vocabulary.

``precedence`` makes the printers parenthesize: ``@`` binds like ``*`` in Python, but ``a*(X @ W)``
is not ``(a*X) @ W`` for arrays, so a matrix product prints in parentheses inside a product and bare
inside a sum.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE


class Aligned(sp.Function):
    """An array indexed so that it broadcasts against more axes: ``p[:, None]``, ``X[:, :, None]``.

    The second argument lists, from the array's first axis on, 1 for an axis it has and 0 for a
    new one (trailing new axes need no index; broadcasting adds leading ones itself).
    """

    nargs = 2
    precedence = PRECEDENCE["Atom"]


class Transposed(sp.Function):
    """A matrix with its two axes swapped: ``W.T``."""

    nargs = 1
    precedence = PRECEDENCE["Atom"]


class MatrixProduct(sp.Function):
    """A matrix (or matrix-vector, or vector-matrix) product ``A @ B``: one index summed between two arrays."""

    nargs = 2
    precedence = PRECEDENCE["Add"]


class AxisSum(sp.Function):
    """The sum of an array along some axes (a tuple of axis numbers): ``np.sum(A, axis=1)``."""

    nargs = 2
    precedence = PRECEDENCE["Atom"]


class LogSumExp(sp.Function):
    """ln Σ e^a along some axes, without overflow: the module's ``_logsumexp(A, 1)``."""

    nargs = 2
    precedence = PRECEDENCE["Atom"]


class BatchMean(sp.Function):
    """The mean over the samples (axis 0) of a batched array; the second argument is the array's rank.

    A printer that sums (the block loop's, which divides the totals itself) prints the sum instead.
    """

    nargs = 2
    precedence = PRECEDENCE["Atom"]


class BatchAverage(sp.Function):
    """A total over the samples (a contraction over axis 0, ``X.T @ D``) divided by their number, ``len(X)``.

    A printer that sums prints the total alone: the block loop adds the totals of its blocks and divides once.
    """

    nargs = 2
    precedence = PRECEDENCE["Add"]


class Item(sp.Function):
    """One entry of a dict of arrays, ``grads["w"]``: the gradient an update step reads."""

    nargs = 2
