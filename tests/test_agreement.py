"""Three-way agreement, and the generated modules used the way the handouts use them.

For every module in generated/: the gradient as the derivation states it (lambdified by SymPy into
mpmath at 2000 digits, sample by sample), the module's ``gradient`` and a central difference of the module's
``loss`` agree at points drawn by hypothesis, including |z| in the thousands and batches of one.
The updates are compared with the handouts' formulas, typed here independently in NumPy; the
modules train; they stay finite without warnings at |z| = 1000; float32 stays float32.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy as sp
from conftest import require_torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symgrad.catalogue.models import derive_named
from symgrad.codegen.names import TARGETS, module_name

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "generated"
EPS = np.finfo(np.float64).eps

#: The modules the issue asks for, with their PARAMS written out: the interface, independently of the generator.
EXPECTED_PARAMS = {
    "logistic-regression": {"w": ("k",)},
    "two-weight-chain": {"w2": (), "w1": ()},
    "two-weight-chain-cross-entropy": {"w2": (), "w1": ()},
}
#: The layered models' modules (matrix parameters, one-hot labels): test_codegen_layers.py holds them to the same
#: three-way agreement, with points of their shapes.
LAYERED = {"mlp", "mlp-shared-bias", "softmax-regression", "mlp-softmax"}
def module_key(stem: str) -> str:
    """A module's key in these tests: its model's name, and ``:numba`` for the Numba target's module."""
    for target, suffix in TARGETS.items():
        if suffix and stem.endswith(suffix):
            return stem[: -len(suffix)].replace("_", "-") + f":{target}"
    return stem.replace("_", "-")


def model_of(key: str) -> str:
    """The catalogue model a module key is about: ``two-weight-chain:numba`` → ``two-weight-chain``."""
    return key.partition(":")[0]


#: Every other module in generated/, of every target (a model added to the catalogue and generated is
#: tested too, and each target's module is held to the same tests).
MODELS = sorted(module_key(p.stem) for p in GENERATED.glob("*.py") if p.stem != "__init__"
                and model_of(module_key(p.stem)) not in LAYERED)


def handout_key(symbol: sp.Expr) -> str:
    """A parameter's key in params: its handout name without the subscript mark (w_1 → w1, w_j → w)."""
    return (symbol.base.name if isinstance(symbol, sp.Indexed) else symbol.name).replace("_", "")


def load(key: str):
    model, _, target = key.partition(":")
    if target == "torch":
        return TorchAsNumPy(_load_torch_module(model))
    path = GENERATED / f"{module_name(model, target or 'numpy')}.py"
    # Under its own name and in sys.modules, as `import` would: a Numba module then caches its loops.
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


class _Loaded(dict):
    """Modules loaded when first asked for: a target whose library is missing skips only its own tests."""

    def __missing__(self, key: str):
        self[key] = load(key)
        return self[key]


@pytest.fixture(scope="module")
def modules():
    return _Loaded()


def _load_torch_module(model: str):
    """The PyTorch module of ``model``; without torch, a skip with the reason (a failure where CI requires torch)."""
    require_torch()
    path = GENERATED / f"{module_name(model, 'torch')}.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TorchAsNumPy:
    """A PyTorch module seen through NumPy: arrays in (it takes them), tensors out turned back into arrays.

    Only the types change (``Tensor.numpy()`` shares the memory and keeps the dtype), so every numeric test of
    this file holds the PyTorch module to exactly what it holds the NumPy and Numba modules to.
    """

    def __init__(self, module) -> None:
        self.module = module
        self.PARAMS = module.PARAMS

    @staticmethod
    def _numpy(value):
        if isinstance(value, dict):
            return {key: TorchAsNumPy._numpy(item) for key, item in value.items()}
        if isinstance(value, tuple):
            return tuple(TorchAsNumPy._numpy(item) for item in value)
        return value.detach().numpy()

    def __getattr__(self, function: str):
        wrapped = getattr(self.module, function)
        return lambda *args, **kwargs: self._numpy(wrapped(*args, **kwargs))


# ---------------------------------------------------------------------------------------------
# The derivation, evaluated by SymPy
# ---------------------------------------------------------------------------------------------

def magnitude(expr: sp.Expr) -> sp.Expr:
    """The expression with every term made positive: the size S of what it adds up.

    Float64 rounding errors are relative to S, not to the result: (1 - a) at a = 1 - 1e-12, or
    a - y at a ≈ y, cancel, and no float64 code keeps all of their surviving digits.  So the
    tolerance is 1e-7·|g| + 1e-10·S: 1e-7 relative, plus a thousand-fold margin over the rounding
    error a float64 forward pass can leave in S (a few eps per operation, |z|·eps through s(z)).
    """
    if expr.is_Add:
        return sp.Add(*(magnitude(a) for a in expr.args))
    if expr.is_Mul:
        return sp.Mul(*(magnitude(a) for a in expr.args))
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        return magnitude(expr.base) ** expr.exp
    return sp.Abs(expr)


class Derived:
    """One model's derivation, evaluated by SymPy sample by sample from the exact float64 inputs.

    Each node's definition, the loss and each gradient formula are lambdified into mpmath and run
    at 2000 digits, so ln(1 - s(1000)) keeps hundreds of correct digits after its cancellation
    (|z| here stays below 3000, and e^{-3000} ≈ 10^{-1303}).  Only the final means become floats.
    """

    WORKING_DIGITS = 2000

    def __init__(self, name: str) -> None:
        self.derivation = derive_named(name)
        self.model = self.derivation.model
        self.params = {handout_key(p): p for p in self.model.params}
        self.vector_input = isinstance(self.model.inputs[0], sp.Indexed)
        self.binary = self.model.loss.value.has(sp.log)  # a log-loss wants labels in [0, 1]
        self._compiled: dict[int, tuple] = {}

    def _concrete(self, expr: sp.Expr, features: int) -> sp.Expr:
        """Σ_{i=1}^{k} written out for ``features`` terms, components x_i as plain symbols, s as exponentials."""
        def expand(total: sp.Sum) -> sp.Expr:
            (_, _, upper), = total.limits
            return total.subs(upper, features).doit()

        expr = expr.replace(lambda e: isinstance(e, sp.Sum), expand).rewrite(sp.exp)
        return expr.replace(lambda e: isinstance(e, sp.Indexed), lambda e: sp.Symbol(f"{e.base}#{e.indices[0]}"))

    def _components(self, quantity: sp.Expr, features: int) -> list[sp.Symbol]:
        if isinstance(quantity, sp.Indexed):
            return [sp.Symbol(f"{quantity.base}#{i + 1}") for i in range(features)]
        return [quantity]

    def compiled(self, features: int) -> tuple:
        """(argument symbols, node functions, loss, loss magnitude, {key: [(gradient, magnitude)] per component})."""
        if features in self._compiled:
            return self._compiled[features]
        model = self.model
        (data,) = model.inputs
        args = [*self._components(data, features), model.label]
        for symbol in self.params.values():
            args += self._components(symbol, features)
        args += [node.symbol for node in model.forward_nodes]

        def function(expr: sp.Expr):
            return sp.lambdify(args, self._concrete(expr, features), modules="mpmath")

        nodes = [function(node.value) for node in model.forward_nodes]
        loss = (function(model.loss.value), function(magnitude(model.loss.value)))
        gradients = {}
        for key, symbol in self.params.items():
            formula = self.derivation.gradient(symbol)
            parts = [formula]
            if isinstance(symbol, sp.Indexed):  # ∂L/∂w_j for j = 1 … k
                parts = [formula.xreplace({symbol.indices[0]: i + 1}) for i in range(features)]
            gradients[key] = [(function(p), function(magnitude(p))) for p in parts]
        self._compiled[features] = (args, nodes, loss, gradients)
        return self._compiled[features]

    def sample(self, params: dict, x, y) -> tuple:
        """(loss, {key: gradient components}, {key: their magnitudes}, loss magnitude) for one sample, as mpf."""
        x = np.atleast_1d(np.asarray(x, dtype=float))
        _, nodes, (loss, loss_size), gradients = self.compiled(len(x))
        values = [mpmath.mpf(float(v)) for v in x] + [mpmath.mpf(float(y))]
        for key in self.params:
            values += [mpmath.mpf(float(v)) for v in np.atleast_1d(params[key])]
        computed = [mpmath.mpf(0)] * len(nodes)
        for i, node in enumerate(nodes):
            computed[i] = node(*values, *computed)
            assert abs(computed[i]) < 4000, "2000 digits cover e^-|z| only for |z| < 4000"
        values += computed
        gradient = {key: [g(*values) for g, _ in parts] for key, parts in gradients.items()}
        sizes = {key: [m(*values) for _, m in parts] for key, parts in gradients.items()}
        return loss(*values), gradient, sizes, loss_size(*values)

    def batch(self, params: dict, X, y) -> tuple[float, dict, dict, float]:
        """The mean over the samples of each, as float64 at the end."""
        with mpmath.workdps(self.WORKING_DIGITS):
            samples = [self.sample(params, X[n], y[n]) for n in range(len(y))]
            count = len(samples)
            loss = float(mpmath.fsum(s[0] for s in samples) / count)
            loss_size = float(mpmath.fsum(s[3] for s in samples) / count)
            gradient, sizes = {}, {}
            for key, value in params.items():
                shape = np.shape(value)
                gradient[key] = self._mean([s[1][key] for s in samples]).reshape(shape)
                sizes[key] = self._mean([s[2][key] for s in samples]).reshape(shape)
        return loss, gradient, sizes, loss_size

    @staticmethod
    def _mean(per_sample: list[list]) -> np.ndarray:
        """Componentwise mean over the samples, summed exactly (fsum) before rounding to float64."""
        return np.array([float(mpmath.fsum(c) / len(per_sample)) for c in zip(*per_sample, strict=True)])


@pytest.fixture(scope="module")
def derived():
    references = {model: Derived(model) for model in dict.fromkeys(map(model_of, MODELS))}
    return {key: references[model_of(key)] for key in MODELS}


# ---------------------------------------------------------------------------------------------
# Central differences of the generated loss
# ---------------------------------------------------------------------------------------------

def central_difference(module, params: dict, X, y, key: str, index: tuple, step: float) -> tuple[float, float]:
    """(∂loss/∂params[key][index] by central difference, an estimate of that difference's error).

    The error estimate is the truncation error (from halving the step: D(h) - D(h/2) ≈ 3× the
    truncation of D(h/2)) plus the rounding of the loss divided by the step.
    """
    def shifted(delta: float) -> float:
        moved = {k: np.array(v, dtype=float, copy=True) for k, v in params.items()}
        moved[key][index] += delta
        moved = {k: (v if v.shape else float(v)) for k, v in moved.items()}
        return float(module.loss(moved, X, y))

    def difference(h: float) -> tuple[float, float]:
        up, down = shifted(h), shifted(-h)
        return (up - down) / (2 * h), 32 * EPS * (abs(up) + abs(down)) / (2 * h)

    coarse, _ = difference(step)
    fine, rounding = difference(step / 2)
    return fine, abs(coarse - fine) + rounding


def relative_step(value: float) -> float:
    return 1e-5 * max(1.0, abs(value))


# ---------------------------------------------------------------------------------------------
# Points
# ---------------------------------------------------------------------------------------------

def floats(low: float, high: float):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


@st.composite
def points(draw, reference: Derived, module):
    """A batch of 1 to 5 samples and parameters, half of the time large: |z| reaches the thousands.

    Inputs stay within ±2 and weights within ±1000 (vector entries ±300), so |z| < 4000.
    """
    n = draw(st.integers(1, 5))
    k = draw(st.integers(1, 4))
    shape = (n, k) if reference.vector_input else (n,)
    size = int(np.prod(shape))
    X = np.array(draw(st.lists(floats(-2, 2), min_size=size, max_size=size))).reshape(shape)
    labels = st.one_of(st.sampled_from([0.0, 1.0]), floats(0, 1)) if reference.binary else floats(-1, 2)
    y = np.array(draw(st.lists(labels, min_size=n, max_size=n)))
    params = {}
    for key, dims in module.PARAMS.items():
        if dims:
            entry = st.one_of(floats(-3, 3), floats(-300, 300))
            params[key] = np.array(draw(st.lists(entry, min_size=k, max_size=k)))
        else:
            params[key] = draw(st.one_of(floats(-3, 3), floats(-1000, 1000)))
    return params, X, y


def extremes(reference: Derived, module) -> list:
    """One sample, every weight ±1000 and inputs 1: |z| = 1000 (or a sum of such) at every node."""
    X = np.ones((1, 1)) if reference.vector_input else np.ones(1)
    cases = []
    for sign in (1.0, -1.0):
        params = {key: sign * 1000.0 * (np.ones(1) if dims else 1.0) for key, dims in module.PARAMS.items()}
        for label in ((0.0, 1.0) if reference.binary else (0.25,)):
            cases.append((params, X, np.array([label])))
    return cases


def tolerance(value, size):
    """1e-7 relative, plus what float64 rounding may leave where terms cancel (see ``magnitude``)."""
    return 1e-7 * np.abs(value) + 1e-10 * size + 1e-300


def check_three_way(module, reference: Derived, params: dict, X, y) -> None:
    loss_ref, grad_ref, sizes, loss_size = reference.batch(params, X, y)
    generated = module.gradient(params, X, y)
    assert list(generated) == list(module.PARAMS) == list(reference.params)
    assert abs(float(module.loss(params, X, y)) - loss_ref) <= tolerance(loss_ref, loss_size)
    for key, value in params.items():
        got = np.asarray(generated[key], dtype=float)
        assert got.shape == np.shape(value)
        # (1) the derivation, (2) the generated gradient: 1e-7 relative to the size of the terms.
        np.testing.assert_array_less(np.abs(got - grad_ref[key]), tolerance(grad_ref[key], sizes[key]),
                                     err_msg=f"{key}: generated {got} vs derivation {grad_ref[key]}")
        # (3) a central difference of the generated loss, within 1e-7 plus its own error.
        for index in np.ndindex(np.shape(value)):
            step = relative_step(np.asarray(value)[index])
            difference, error = central_difference(module, params, X, y, key, index, step)
            allowed = tolerance(got[index], sizes[key][index]) + error
            assert abs(difference - got[index]) <= allowed, (key, index, difference, got[index], allowed)


@pytest.mark.parametrize("name", MODELS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_three_way_agreement(modules, derived, name, data):
    module, reference = modules[name], derived[name]
    params, X, y = data.draw(points(reference, module))
    check_three_way(module, reference, params, X, y)


@pytest.mark.parametrize("name", MODELS)
def test_three_way_agreement_at_z_1000(modules, derived, name):
    for params, X, y in extremes(derived[name], modules[name]):
        check_three_way(modules[name], derived[name], params, X, y)


def test_the_issue_s_modules_are_generated():
    assert set(EXPECTED_PARAMS) <= set(MODELS)
    assert {f"{name}:numba" for name in EXPECTED_PARAMS} <= set(MODELS)  # and their fused loops


@pytest.mark.parametrize("name", MODELS)
def test_the_comparison_can_fail(modules, derived, name):
    """A gradient off by 1e-5 relative is caught by both the derivation and the central difference."""
    module = modules[name]
    X = np.array([[1.0, 2.0], [-0.5, 0.4]]) if derived[name].vector_input else np.array([0.7, -1.1])
    y = np.array([0.2, 0.9])
    scalars = iter([0.8, -1.3, 0.4])
    params = {key: (np.array([0.3, -0.7]) if dims else next(scalars)) for key, dims in module.PARAMS.items()}
    _, grad_ref, sizes, _ = derived[name].batch(params, X, y)
    for key, value in params.items():
        wrong = np.asarray(module.gradient(params, X, y)[key], dtype=float) * (1 + 1e-5)
        assert np.all(np.abs(wrong - grad_ref[key]) > tolerance(grad_ref[key], sizes[key]))
        index = next(iter(np.ndindex(np.shape(value))))
        step = relative_step(np.asarray(value)[index])
        difference, error = central_difference(module, params, X, y, key, index, step)
        assert abs(difference - wrong[index]) > tolerance(wrong[index], sizes[key][index]) + error


@pytest.mark.parametrize("name", MODELS)
def test_interface(modules, derived, name):
    module = modules[name]
    expected = module.PARAMS
    if model_of(name) in EXPECTED_PARAMS:
        assert module.PARAMS == EXPECTED_PARAMS[model_of(name)]
    X = np.ones((3, 4)) if derived[name].vector_input else np.ones(3)
    y = np.array([0.0, 1.0, 1.0])
    params = module.init_params(X, y)
    assert list(params) == list(expected)
    for key, shape in expected.items():
        sizes = {"k": 4}
        assert np.shape(params[key]) == tuple(sizes[d] for d in shape)
        assert not np.shape(params[key]) or isinstance(params[key], np.ndarray)
    assert module.forward(params, X).shape == (3,)
    assert np.shape(module.loss(params, X, y)) == ()
    new = module.update(params, X, y, 0.1)
    assert list(new) == list(expected) and new is not params
    loss, grads = module.loss_and_gradient(params, X, y)
    assert loss == module.loss(params, X, y)
    for key in expected:
        np.testing.assert_array_equal(grads[key], module.gradient(params, X, y)[key])
    again = module.init_params(X, y)
    for key in expected:
        np.testing.assert_array_equal(params[key], again[key])  # rng=None is seed 0: reproducible


# ---------------------------------------------------------------------------------------------
# The handouts' updates, typed here
# ---------------------------------------------------------------------------------------------

def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def logistic_regression_update(params, x, y, step):
    """w ← w + η x (y - h(x)), h(x) = s(Σ_i w_i x_i)."""
    w = params["w"]
    h = sigmoid(x @ w)
    return {"w": w + step * x * (y - h)}


def chain_update(params, x, y, step, cross_entropy):
    """w2 ← w2 - α (a2 - y*) a2(1 - a2) a1 and w1 ← w1 - α (a2 - y*) a2(1 - a2) w2 a1(1 - a1) x;
    after a sigmoid, cross-entropy's ∂Loss/∂a2 · a2(1 - a2) is a2 - y*."""
    w1, w2 = params["w1"], params["w2"]
    a1 = sigmoid(x * w1)
    a2 = sigmoid(a1 * w2)
    delta = a2 - y if cross_entropy else (a2 - y) * a2 * (1 - a2)
    return {"w2": w2 - step * delta * a1, "w1": w1 - step * delta * w2 * a1 * (1 - a1) * x}


HANDOUT_UPDATES = {
    "logistic-regression": logistic_regression_update,
    "two-weight-chain": lambda p, x, y, step: chain_update(p, x, y, step, cross_entropy=False),
    "two-weight-chain-cross-entropy": lambda p, x, y, step: chain_update(p, x, y, step, cross_entropy=True),
}


@pytest.mark.parametrize("name", [key for key in MODELS if model_of(key) in HANDOUT_UPDATES])
@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_update_with_one_sample_is_the_handout_update(modules, name, seed):
    rng = np.random.default_rng(seed)
    step = rng.uniform(0.01, 2.0)
    if model_of(name) == "logistic-regression":
        k = int(rng.integers(1, 5))
        params, x, y = {"w": rng.normal(size=k)}, rng.normal(size=k), float(rng.integers(0, 2))
        X = x[None, :]
    else:
        params, x, y = {"w2": rng.normal(), "w1": rng.normal()}, rng.normal(), rng.uniform()
        X = np.array([x])
    got = modules[name].update(params, X, np.array([y]), step)
    expected = HANDOUT_UPDATES[model_of(name)](params, x, y, step)
    assert set(got) == set(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [key for key in MODELS if model_of(key) == "logistic-regression"])
def test_logistic_regression_trains_to_95_percent_on_separable_data(modules, name):
    module = modules[name]
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 3))
    X = np.hstack([X, np.ones((400, 1))])  # a constant feature, so the boundary need not pass through 0
    truth = np.array([2.0, -1.0, 0.5, 0.3])
    y = (X @ truth > 0).astype(float)
    params = module.init_params(X, y, rng=1)
    for _ in range(300):
        params = module.update(params, X, y, 1.0)
    accuracy = np.mean((module.forward(params, X) > 0.5) == (y == 1))
    assert accuracy >= 0.95


@pytest.mark.parametrize("name", [key for key in MODELS if model_of(key).startswith("two-weight-chain")])
def test_chain_loss_decreases_over_100_steps(modules, name):
    module = modules[name]
    rng = np.random.default_rng(3)
    x = rng.normal(size=64)
    y = sigmoid(sigmoid(1.5 * x) * 2.0)  # targets a chain with w1 = 1.5, w2 = 2 produces
    params = module.init_params(x, y, rng=0)
    losses = [module.loss(params, x, y)]
    for _ in range(100):
        params = module.update(params, x, y, 0.5)
        losses.append(module.loss(params, x, y))
    assert losses[-1] < losses[0]
    assert np.all(np.diff(losses) <= 1e-12)  # a small step: every step goes downhill


# ---------------------------------------------------------------------------------------------
# Stability and dtypes
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_finite_without_warnings_at_z_1000(modules, derived, name, dtype):
    """Overflow, invalid operations and division by zero raise; underflow is allowed, because
    s(-1000) = e^-1000 is below the smallest float and must round to 0 (even np.logaddexp
    underflows internally)."""
    module = modules[name]
    for params, X, y in extremes(derived[name], module):
        X = X.astype(dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                outputs = [module.forward(params, X), module.loss(params, X, y)]
                outputs += [*module.gradient(params, X, y).values(), *module.update(params, X, y, 0.1).values()]
        for output in outputs:
            assert np.all(np.isfinite(output))


@pytest.mark.parametrize("name", [key for key in MODELS if model_of(key) == "logistic-regression"])
def test_loss_at_z_1000_is_the_exact_value(modules, name):
    """Cross-entropy of a confident wrong answer at γ = 1000 is 1000, not inf."""
    module = modules[name]
    params, X = {"w": np.array([1000.0])}, np.array([[1.0]])
    assert float(module.loss(params, X, np.array([0.0]))) == pytest.approx(1000.0, rel=1e-15)
    assert 0.0 <= float(module.loss(params, X, np.array([1.0]))) < 1e-300


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("label_dtype", [np.int64, np.float64])
def test_dtype_is_preserved(modules, derived, name, dtype, label_dtype):
    module = modules[name]
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(5, 3)) if derived[name].vector_input else rng.normal(size=5)).astype(dtype)
    y = rng.integers(0, 2, size=5).astype(label_dtype)
    params = module.init_params(X, y)
    loss, grads = module.loss_and_gradient(params, X, y)
    outputs = [module.forward(params, X), module.loss(params, X, y), loss, *grads.values(), *params.values(),
               *module.gradient(params, X, y).values(), *module.update(params, X, y, 0.1).values()]
    for output in outputs:
        assert np.asarray(output).dtype == dtype
    for output in (*module.gradient(params, X, y).values(), *module.update(params, X, y, 0.1).values()):
        assert isinstance(output, (np.ndarray, np.floating))



# ---------------------------------------------------------------------------------------------
# Wrong arguments: refused in one line by every module, the same way (issue 22)
# ---------------------------------------------------------------------------------------------

#: Every module in generated/, both targets and the layered models too: all check their arguments alike.
#: (The PyTorch modules check theirs in their own way, with torch's types: test_codegen_torch.py.)
EVERY_MODULE = sorted(module_key(p.stem) for p in GENERATED.glob("*.py") if p.stem != "__init__"
                      and not p.stem.endswith(TARGETS["torch"]))


@pytest.fixture(scope="module")
def every_module():
    return {name: load(name) for name in EVERY_MODULE}


@dataclass(frozen=True)
class Call:
    """The arguments of one call of each public function: valid ones, or with one made wrong."""

    params: Any
    X: Any
    y: Any
    lr: Any = 0.1


#: Each public function, how it is called, and which of Call's arguments it checks.
FUNCTIONS: dict[str, tuple[Callable, set[str]]] = {
    "init_params": (lambda m, c: m.init_params(c.X, c.y), {"X"}),  # and y, where it sizes the classes (one-hot)
    "forward": (lambda m, c: m.forward(c.params, c.X), {"X", "params"}),
    "loss": (lambda m, c: m.loss(c.params, c.X, c.y), {"X", "y", "params"}),
    "gradient": (lambda m, c: m.gradient(c.params, c.X, c.y), {"X", "y", "params"}),
    "loss_and_gradient": (lambda m, c: m.loss_and_gradient(c.params, c.X, c.y), {"X", "y", "params"}),
    "update": (lambda m, c: m.update(c.params, c.X, c.y, c.lr), {"X", "y", "params", "lr"}),
}


def names_of(module) -> tuple[str, str]:
    """The model's names for the data and the label (x or X, y or Y): gradient's second and third arguments."""
    return module.gradient.__code__.co_varnames[1:3]


def valid_call(module) -> Call:
    """Four samples: values (N,) or rows of three features (N, 3); labels (N,) or one-hot over three classes."""
    data, label = names_of(module)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4, 3)) if data.isupper() else rng.normal(size=4)
    y = np.eye(3)[[0, 1, 2, 0]] if label.isupper() else np.array([0.0, 1.0, 1.0, 0.0])
    return Call(module.init_params(X, y), X, y)


def shape_text(dims: tuple, sizes: tuple) -> str:
    """``(k,) = (3,)``: a shape's names and the sizes that the data and the other arguments give them."""
    comma = "," if len(dims) == 1 else ""
    return f"({', '.join(dims)}{comma}) = ({', '.join(map(str, sizes))}{comma})"


def first_key(module) -> str:
    return next(iter(module.PARAMS))


def last_array_key(module) -> str | None:
    """The last parameter with axes: by then every size it names is known (from the data, or earlier parameters)."""
    return next((key for key, dims in reversed(module.PARAMS.items()) if dims), None)


def first_number_key(module) -> str | None:
    return next((key for key, dims in module.PARAMS.items() if not dims), None)


#: A case that a module does not have (an array for a number where every parameter is an array).
NONE_HERE = object()


@dataclass(frozen=True)
class Wrong:
    """One wrong argument, made from a valid call's, and the whole one-line message it must be refused with.

    ``change`` maps the valid argument (X, y, lr, the params dict, or with ``key`` the parameter params[key(module)])
    to the wrong one, or to NONE_HERE.  ``message`` is the text with {fields} (see ``fields``) and "…" for words of
    NumPy's own.
    """

    name: str
    argument: str
    change: Callable
    error: type
    message: str
    key: Callable | None = None
    targets: tuple[str, ...] = ("numpy", "numba")
    skip_functions: tuple[str, ...] = ()


def fields(name: str, module, valid: Call, case: Wrong, key: str | None, value, function: str) -> dict[str, str]:
    """What a message says, from the module and the valid call: names, shapes and what was expected.

    init_params has no parameters yet: there a one-hot label gives the number of classes C, which no other
    argument has given.
    """
    data, label = names_of(module)
    if not data.isupper():
        data_shape = "(N,)"
    else:
        data_shape = "(N, m)" if model_of(name) in LAYERED else "(N, k)"
    label_dims = ("N", "C") if label.isupper() else ("N",)
    label_sizes = (len(valid.X), "C" if function == "init_params" else 3)[:len(label_dims)]
    return {
        "data": data, "label": label, "data_shape": data_shape, "key": str(key),
        "layout": "one sample per row" if data.isupper() else "one value per sample",
        "label_shape": shape_text(label_dims, label_sizes),
        "param_shape": shape_text(module.PARAMS[key], np.shape(valid.params[key])) if key else "",
        "wanted": ("real numbers" if module.PARAMS[key] else "a real number") if key else "",
        "keys": ", ".join(f'"{k}"' for k in module.PARAMS), "last": list(module.PARAMS)[-1],
        "shape": str(np.shape(value)) if case.error is ValueError else "",
        "dtype": str(np.asarray(value).dtype) if "{dtype}" in case.message else "",
    }


WRONG = [
    # the data: the chain's x of shape (N, 1) gave an N×N loss and an N times too large gradient
    Wrong("data with an extra axis", "X", lambda X: X[..., None], ValueError,
          "{data} has shape {shape}; expected {data_shape}: {layout}"),
    Wrong("data without an axis", "X", lambda X: X[0], ValueError,
          "{data} has shape {shape}; expected {data_shape}: {layout}"),
    Wrong("0-d data", "X", lambda X: np.float64(1.5), ValueError,
          "{data} has shape {shape}; expected {data_shape}: {layout}"),
    Wrong("data of objects", "X", lambda X: X.astype(object), TypeError,
          "{data} has dtype object; expected real numbers"),
    Wrong("data of strings", "X", lambda X: X.astype(str), TypeError,
          "{data} has dtype {dtype}; expected real numbers"),
    Wrong("complex data", "X", lambda X: X + 0j, TypeError, "{data} has dtype complex128; expected real numbers"),
    Wrong("no data", "X", lambda X: None, TypeError, "{data} is None; expected real numbers"),
    Wrong("ragged data", "X", lambda X: [[1.0, 2.0], [3.0]] if X.ndim == 2 else [1.0, [2.0, 3.0]], TypeError,
          "{data} is not an array of numbers (…); expected real numbers"),
    Wrong("long double data", "X",  # where long double is longer than float64; the NumPy modules compute in it
          lambda X: X.astype(np.longdouble) if np.dtype(np.longdouble).itemsize > 8 else NONE_HERE, TypeError,
          "{data} has dtype {dtype}; expected float32 or float64, which the compiled loops take "
          "({data}.astype(np.float64), or the NumPy module …)", targets=("numba",)),
    # the label
    Wrong("a label with an extra axis", "y", lambda y: y[..., None], ValueError,
          "{label} has shape {shape}; expected {label_shape}"),
    Wrong("a label short of a sample", "y", lambda y: y[:3], ValueError,
          "{label} has shape {shape}; expected {label_shape}"),
    Wrong("a one-hot label short of a class", "y", lambda y: y[:, :2] if y.ndim == 2 else NONE_HERE, ValueError,
          "{label} has shape {shape}; expected {label_shape}",
          skip_functions=("init_params",)),  # there the label gives the number of classes
    Wrong("a label of strings", "y", lambda y: y.astype(str), TypeError,
          "{label} has dtype {dtype}; expected real numbers"),
    Wrong("no label", "y", lambda y: None, TypeError, "{label} is None; expected real numbers"),
    # the parameters
    Wrong("a missing parameter", "params", lambda params: dict(list(params.items())[:-1]), ValueError,
          'params has no "{last}"; expected the keys {keys}'),
    Wrong("params as a list", "params", lambda params: list(params.values()), TypeError,
          "params is a list; expected a dict with the keys {keys}"),
    Wrong("no params", "params", lambda params: None, TypeError,
          "params is None; expected a dict with the keys {keys}"),
    Wrong("a parameter that is None", "params", lambda p: None, TypeError, 'params["{key}"] is None; expected {wanted}',
          key=first_key),
    Wrong("a parameter that is a string", "params", lambda p: "0.5", TypeError,
          'params["{key}"] is a string; expected {wanted}', key=first_key),
    Wrong("a complex parameter", "params", lambda p: p + 0.5j, TypeError,
          'params["{key}"] has dtype complex128; expected {wanted}', key=first_key),
    Wrong("an array for a number", "params", lambda p: np.array([p, p]), ValueError,
          'params["{key}"] has shape (2,); expected a real number', key=first_number_key),
    # logistic regression's forward took w of shape (k, 2) and returned (N, 2)
    Wrong("a parameter with an extra axis", "params", lambda p: np.stack([p, p], axis=-1), ValueError,
          'params["{key}"] has shape {shape}; expected {param_shape}', key=last_array_key),
    Wrong("a parameter one entry too long", "params", lambda p: np.concatenate([p, p[:1]]), ValueError,
          'params["{key}"] has shape {shape}; expected {param_shape}', key=last_array_key),
    # the step size: None gave NaN parameters, an array turned number parameters into arrays
    Wrong("no step size", "lr", lambda lr: None, TypeError, "lr is None; expected a real number"),
    Wrong("an array of step sizes", "lr", lambda lr: np.array([0.1, 0.2, 0.3]), ValueError,
          "lr has shape (3,); expected a real number"),
    Wrong("a step size that is a string", "lr", lambda lr: "0.1", TypeError, "lr is a string; expected a real number"),
]


@functools.cache
def _numpy_module_and_call(model: str) -> tuple[Any, Call]:
    module = load(model)
    return module, valid_call(module)


def case_applies(name: str, case: Wrong) -> bool:
    """Whether the module has the case at all (an array for a number, where every parameter is an array, it has
    not).  Decided at collection from the model's NumPy module, which has the same parameters and names as its
    Numba twin and imports in a blink, so that a case a module lacks is never collected rather than skipped."""
    model, _, target = name.partition(":")
    if (target or "numpy") not in case.targets:
        return False
    module, valid = _numpy_module_and_call(model)
    if case.key:
        key = case.key(module)
        return key is not None and case.change(valid.params[key]) is not NONE_HERE
    return case.change(getattr(valid, case.argument)) is not NONE_HERE


#: Every (module, wrong argument) pair that the module has.
WRONG_CALLS = [pytest.param(name, case, id=f"{name}-{case.name.replace(' ', '-')}")
               for case in WRONG for name in EVERY_MODULE if case_applies(name, case)]


@pytest.mark.parametrize(("name", "case"), WRONG_CALLS)
def test_a_wrong_argument_is_refused_in_one_line(every_module, name, case):
    """Each function that takes the argument refuses it before computing anything, with one line that names the
    argument, says what it is and what was expected, the same in every module of either target."""
    module = every_module[name]
    valid = valid_call(module)
    key = case.key(module) if case.key else None
    given = valid.params[key] if key else getattr(valid, case.argument)
    value = case.change(given)
    wrong = dataclasses.replace(valid, **{case.argument: {**valid.params, key: value} if key else value})
    one_hot = names_of(module)[1].isupper()
    called = []
    for function, (run, takes) in FUNCTIONS.items():
        takes = takes | ({"y"} if function == "init_params" and one_hot else set())
        if case.argument not in takes or function in case.skip_functions:
            continue
        text = case.message.format(**fields(name, module, valid, case, key, value, function))
        expected = ".+".join(re.escape(part) for part in text.split("…"))
        with pytest.raises(case.error) as refused:
            run(module, wrong)
        assert re.fullmatch(expected, str(refused.value)), (function, str(refused.value), text)
        called.append(function)
    assert called


@pytest.mark.parametrize("name", EVERY_MODULE)
def test_a_0d_step_size_and_long_double_data_are_taken(every_module, name):
    """What the checks must let through: a 0-d array is one number, and the NumPy modules compute in long double."""
    module = every_module[name]
    valid = valid_call(module)
    stepped = module.update(valid.params, valid.X, valid.y, np.array(0.1))
    for key, value in module.update(valid.params, valid.X, valid.y, 0.1).items():
        assert np.shape(stepped[key]) == np.shape(value)
        np.testing.assert_array_equal(stepped[key], value)
    if not name.endswith(":numba") and np.dtype(np.longdouble).itemsize > 8:
        gradient = module.gradient(valid.params, valid.X.astype(np.longdouble), valid.y)
        assert all(np.asarray(g).dtype == np.longdouble for g in gradient.values())
