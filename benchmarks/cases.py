"""The benchmark's cases: a model from generated/, a size and a dtype, with its data made once.

Data are random and fixed by a seed, so every contender sees the same arrays and a rerun sees the
same numbers.  X is made C-contiguous in the case's dtype, as a user would pass it.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np

from symgrad.codegen.names import module_name

GENERATED = Path(__file__).resolve().parent.parent / "generated"

#: The issue's grid: logistic regression over N × k, the two-weight chain over N; both dtypes.
SIZES = (1, 64, 10_000, 1_000_000)
FEATURES = (10, 100)
DTYPES = ("float64", "float32")
MODELS = ("logistic-regression", "two-weight-chain")


@cache
def load_generated(model: str, target: str = "numpy") -> ModuleType:
    """The module generated/ holds for ``model`` (``…_numba.py`` for the numba target), imported from its file.

    Under its own name and registered in sys.modules, as ``import`` would: a Numba module then caches
    its compiled loops on disk, and the next run does not compile them again.
    """
    path = GENERATED / f"{module_name(model, target)}.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = sys.modules[path.stem] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Case:
    """One row group of the table: the data and parameters every contender is given."""

    model: str
    n: int
    k: int | None
    dtype: str
    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    params: dict = field(repr=False)

    @property
    def module(self) -> ModuleType:
        return load_generated(self.model)

    @property
    def label(self) -> str:
        features = f" k={self.k}" if self.k else ""
        return f"{self.model} N={self.n}{features} {self.dtype}"


def make_case(model: str, n: int, k: int | None, dtype: str, seed: int = 0) -> Case:
    """Data for one case: standard normal inputs, labels 0/1 (logistic) or in [0, 1] (chain)."""
    rng = np.random.default_rng(seed)
    kind = np.dtype(dtype)
    if model == "logistic-regression":
        X = rng.standard_normal((n, k), dtype=np.float64).astype(kind)
        y = (rng.random(n) < 0.5).astype(kind)
        params = {"w": (rng.standard_normal(k) / np.sqrt(k)).astype(kind)}
    else:
        X = rng.standard_normal(n, dtype=np.float64).astype(kind)
        y = rng.random(n).astype(kind)
        params = {"w2": kind.type(0.7), "w1": kind.type(-1.2)}
    return Case(model, n, k, dtype, X, y, params)


def grid(sizes=SIZES, features=FEATURES, dtypes=DTYPES, models=MODELS) -> list[tuple]:
    """The (model, N, k, dtype) of every case, small first; k is None for the chain."""
    specs = []
    for dtype in dtypes:
        for model in models:
            for k in (features if model == "logistic-regression" else (None,)):
                specs += [(model, n, k, dtype) for n in sizes]
    return specs
