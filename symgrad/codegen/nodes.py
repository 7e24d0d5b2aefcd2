"""The few batched array operations that SymPy has no node for.

The derivation is per sample; the generated code runs on a batch, one sample per row.  Lowering
(``lower.py``) wraps the derived expressions in these nodes, and the printer (``printer.py``) gives
each its NumPy spelling, so the batching is decided once, as data, and never by string pasting.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE


class MatVec(sp.Function):
    """Σ_i w_i x_i for every sample at once: ``X @ w`` (X is N×k, w has k entries)."""

    nargs = 2
    precedence = PRECEDENCE["Mul"]


class SampleMean(sp.Function):
    """The mean over the samples of a per-sample quantity: ``np.mean(…)``."""

    nargs = 1


class FeatureMean(sp.Function):
    """The mean over the samples of c·**x**, a vector gradient: ``X.T @ c / len(X)``."""

    nargs = 2


class Item(sp.Function):
    """One entry of a dict of arrays, ``grads["w"]``: the gradient a step reads."""

    nargs = 2
