"""The contenders: ways to compute the same gradient, each built for one benchmark case.

A contender is a factory ``make(case) -> Prepared | None``.  ``Prepared.run()`` is what gets timed
(inputs are converted to the contender's own array type beforehand, outside the timing), and
``Prepared.result()`` returns the gradient as a dict of NumPy arrays for the correctness gate.
A factory returns None, or raises :class:`Unavailable`, when its library is not installed.

The hand-written ones (naive NumPy, the JAX, PyTorch and autograd losses) are typed here from the
models' textbook formulas, independently of the generator, so that the gate compares two sources.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from cases import Case, load_generated

#: The step size the ``update`` contender uses; its value does not matter for the timing.
STEP = 0.1


class Unavailable(Exception):
    """The contender's library is not installed; the message says which one."""


@dataclass
class Prepared:
    """A contender set up for one case: ``run`` is timed, ``result`` is checked first."""

    run: Callable[[], Any]
    result: Callable[[], dict[str, np.ndarray]]


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise Unavailable(f"{module} is not installed (pip install '.[bench]')")


# ---- symgrad's generated modules ------------------------------------------------------------

def generated_gradient(case: Case) -> Prepared:
    module, params, X, y = case.module, case.params, case.X, case.y
    return Prepared(lambda: module.gradient(params, X, y), lambda: dict(module.gradient(params, X, y)))


def generated_update(case: Case) -> Prepared:
    """Timed as update(); checked by reading the gradient back out of the step: (w - w') / lr."""
    module, params, X, y = case.module, case.params, case.X, case.y

    def result() -> dict[str, np.ndarray]:
        new = module.update(params, X, y, STEP)
        return {key: (np.asarray(params[key]) - np.asarray(new[key])) / X.dtype.type(STEP) for key in params}

    return Prepared(lambda: module.update(params, X, y, STEP), result)


def generated_numba(case: Case) -> Prepared:
    """The numba target's module (generated/<model>_numba.py): one compiled loop over the samples."""
    _require("numba")
    module = load_generated(case.model, "numba")
    params, X, y = case.params, case.X, case.y
    return Prepared(lambda: module.gradient(params, X, y), lambda: dict(module.gradient(params, X, y)))


def generated_torch(case: Case) -> Prepared:
    """The torch target's module (generated/<model>_torch.py): the derivation's gradient on tensors, no autograd."""
    _require("torch")
    import torch

    module = load_generated(case.model, "torch")
    X, y = torch.from_numpy(case.X), torch.from_numpy(case.y)
    params = {key: torch.as_tensor(np.asarray(value), dtype=X.dtype) for key, value in case.params.items()}
    return Prepared(lambda: module.gradient(params, X, y),
                    lambda: {key: value.numpy() for key, value in module.gradient(params, X, y).items()})


# ---- hand-written NumPy -------------------------------------------------------------------------

def _naive_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def naive_numpy(case: Case) -> Prepared:
    """What one writes by hand: the textbook formulas, one full-array operation at a time."""
    X, y, params = case.X, case.y, case.params
    if case.model == "logistic-regression":
        w = params["w"]

        def run():
            h = _naive_sigmoid(X @ w)
            return {"w": X.T @ (h - y) / len(X)}
    else:
        w1, w2 = X.dtype.type(params["w1"]), X.dtype.type(params["w2"])

        def run():
            a1 = _naive_sigmoid(w1 * X)
            a2 = _naive_sigmoid(w2 * a1)
            delta = (a2 - y) * a2 * (1 - a2)
            return {"w2": np.mean(delta * a1), "w1": np.mean(delta * w2 * a1 * (1 - a1) * X)}

    return Prepared(run, run)


# ---- sympy.lambdify of the unsimplified derivative ----------------------------------------

def sympy_lambdify(case: Case) -> Prepared:
    """SymPy's derivative of the per-sample loss, not simplified, lambdified to NumPy.

    For logistic regression the derivative is taken with respect to γ = x·w and multiplied by X
    (k separate symbolic derivatives would be k expressions over k-term sums).
    """
    import sympy as sp

    X, y, params = case.X, case.y, case.params
    sigmoid = lambda u: 1 / (1 + sp.exp(-u))  # noqa: E731
    label = sp.Symbol("y")
    if case.model == "logistic-regression":
        gamma = sp.Symbol("gamma")
        h = sigmoid(gamma)
        loss = -(label * sp.log(h) + (1 - label) * sp.log(1 - h))
        dloss = sp.lambdify((gamma, label), sp.diff(loss, gamma), "numpy")
        w = params["w"]

        def run():
            return {"w": X.T @ dloss(X @ w, y) / len(X)}
    else:
        x, w1, w2 = sp.symbols("x w1 w2")
        a2 = sigmoid(w2 * sigmoid(w1 * x))
        loss = (a2 - label) ** 2 / 2
        d2 = sp.lambdify((x, label, w1, w2), sp.diff(loss, w2), "numpy")
        d1 = sp.lambdify((x, label, w1, w2), sp.diff(loss, w1), "numpy")
        v1, v2 = X.dtype.type(params["w1"]), X.dtype.type(params["w2"])

        def run():
            return {"w2": np.mean(d2(X, y, v1, v2)), "w1": np.mean(d1(X, y, v1, v2))}

    def quiet():
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return run()

    return Prepared(quiet, quiet)


# ---- peers with automatic differentiation ------------------------------------------------------

def jax_jit_grad(case: Case) -> Prepared:
    _require("jax")
    import jax

    jax.config.update("jax_enable_x64", True)  # float64 stays float64; float32 stays float32
    import jax.numpy as jnp

    X, y = jax.device_put(case.X), jax.device_put(case.y)
    if case.model == "logistic-regression":
        def loss(p, X, y):
            gamma = X @ p["w"]
            return jnp.mean(y * jax.nn.softplus(-gamma) + (1 - y) * jax.nn.softplus(gamma))
        params = {"w": jax.device_put(case.params["w"])}
    else:
        def loss(p, x, y):
            a2 = jax.nn.sigmoid(p["w2"] * jax.nn.sigmoid(p["w1"] * x))
            return jnp.mean((a2 - y) ** 2 / 2)
        params = {key: jnp.asarray(value, dtype=case.X.dtype) for key, value in case.params.items()}
    gradient = jax.jit(jax.grad(loss))

    def run():
        return jax.block_until_ready(gradient(params, X, y))

    return Prepared(run, lambda: {key: np.asarray(value) for key, value in run().items()})


def pytorch_autograd(case: Case) -> Prepared:
    _require("torch")
    import torch

    X, y = torch.from_numpy(case.X), torch.from_numpy(case.y)
    dtype = X.dtype
    if case.model == "logistic-regression":
        def loss(p):
            gamma = X @ p["w"]
            return torch.mean(y * torch.nn.functional.softplus(-gamma) + (1 - y) * torch.nn.functional.softplus(gamma))
    else:
        def loss(p):
            a2 = torch.sigmoid(p["w2"] * torch.sigmoid(p["w1"] * X))
            return torch.mean((a2 - y) ** 2 / 2)
    start = {key: torch.as_tensor(np.asarray(value), dtype=dtype) for key, value in case.params.items()}

    def run():
        params = {key: value.clone().requires_grad_() for key, value in start.items()}
        loss(params).backward()
        return {key: value.grad for key, value in params.items()}

    return Prepared(run, lambda: {key: value.numpy() for key, value in run().items()})


def hips_autograd(case: Case) -> Prepared:
    _require("autograd")
    import autograd
    import autograd.numpy as anp

    X, y, dtype = case.X, case.y, case.X.dtype
    if case.model == "logistic-regression":
        def loss(p):
            gamma = anp.dot(X, p["w"])
            return anp.mean(y * anp.logaddexp(0, -gamma) + (1 - y) * anp.logaddexp(0, gamma))
    else:
        def loss(p):
            a1 = 1 / (1 + anp.exp(-p["w1"] * X))
            a2 = 1 / (1 + anp.exp(-p["w2"] * a1))
            return anp.mean((a2 - y) ** 2 / 2)
    params = {key: (np.asarray(v, dtype=dtype) if np.ndim(v) else dtype.type(v)) for key, v in case.params.items()}
    gradient = autograd.grad(loss)

    def run():
        return gradient(params)

    return Prepared(run, lambda: {key: np.asarray(value) for key, value in run().items()})


#: Every contender, in the order the table shows them; naive NumPy is the reference for ratios.
CONTENDERS: dict[str, Callable[[Case], Prepared]] = {
    "generated gradient": generated_gradient,
    "generated update": generated_update,
    "generated numba": generated_numba,
    "generated torch": generated_torch,
    "naive numpy": naive_numpy,
    "sympy lambdify": sympy_lambdify,
    "jax jit(grad)": jax_jit_grad,
    "pytorch autograd": pytorch_autograd,
    "hips autograd": hips_autograd,
}
BASELINE = "naive numpy"
