"""The PyTorch target: one module per model from the same Plan as the NumPy module (docs/architecture.md,
"A code target", followed once).

test_agreement.py holds every PyTorch module to the three-way agreement (the derivation, the module, central
differences), z = ±1000, dtypes and the handout updates, as it does the NumPy and Numba modules.  Here: what
is particular to torch.  The module's gradient against torch's own autograd of the module's loss (a peer that
shares nothing with symgrad's derivation), the layered models too; the same lines as the NumPy module, in
the same order (one Plan); its argument checks; and that no NumPy helper crept in.

Without PyTorch these tests skip with the reason; `.ci/run` installs it and sets SYMGRAD_REQUIRE_TORCH, so
that there they fail instead.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import require_torch

from symgrad.codegen import generatable_names
from symgrad.codegen.names import module_name

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "generated"
MODELS = generatable_names("torch")


@pytest.fixture(scope="module")
def torch():
    return require_torch()


def load(model: str, target: str = "torch"):
    path = GENERATED / f"{module_name(model, target)}.py"
    spec = importlib.util.spec_from_file_location(f"torch_test_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def batch(model: str, n: int = 24, seed: int = 0):
    """Data of the model's shapes: a value or a row of 3 features per sample; a one-hot label of 4 classes."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=n) if model.startswith("two-weight-chain") else rng.normal(size=(n, 3))
    y = np.eye(4)[rng.integers(0, 4, n)] if "softmax" in model else (rng.random(n) < 0.5).astype(float)
    return X, y


def test_every_model_with_a_numpy_module_has_a_torch_module():
    assert MODELS == generatable_names("numpy")
    assert {p.stem for p in GENERATED.glob("*_torch.py")} == {module_name(m, "torch") for m in MODELS}


@pytest.mark.parametrize("model", MODELS)
def test_the_gradient_is_torch_autograd_s_gradient_of_the_loss(torch, model):
    """Autograd differentiates the module's loss as torch runs it; the module's gradient is the derivation's."""
    module = load(model)
    X, y = batch(model)
    params = module.init_params(X, y, rng=3)
    leaves = {key: value.clone().requires_grad_(True) for key, value in params.items()}
    module.loss(leaves, X, y).backward()
    stated = module.gradient(params, X, y)
    assert list(stated) == list(module.PARAMS)
    for key, leaf in leaves.items():
        torch.testing.assert_close(stated[key], leaf.grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("model", MODELS)
def test_loss_and_gradient_match_the_numpy_module(torch, model):
    mine, numpy_module = load(model), load(model, "numpy")
    X, y = batch(model, seed=1)
    params = {key: np.asarray(value) for key, value in numpy_module.init_params(X, y, rng=4).items()}
    loss, grads = mine.loss_and_gradient(params, X, y)
    assert loss.dtype == torch.float64
    np.testing.assert_allclose(loss.item(), numpy_module.loss(params, X, y), rtol=1e-13)
    expected = numpy_module.gradient(params, X, y)
    for key, value in grads.items():
        np.testing.assert_allclose(value.numpy(), expected[key], rtol=1e-11, atol=1e-15)
    stepped = mine.update(params, X, y, 0.5)
    for key, value in stepped.items():
        np.testing.assert_allclose(value.numpy(), params[key] - 0.5 * expected[key], rtol=1e-11, atol=1e-15)


def _assigned(source: str, function: str) -> list[str]:
    """The names a function assigns, in order."""
    tree = ast.parse(source)
    (body,) = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function]
    return [target.id for node in body.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)]


@pytest.mark.parametrize("model", MODELS)
def test_the_same_plan_as_the_numpy_module(model):
    """Forward nodes and CSE temporaries (z1, H, t0, ...) in the same order: both modules print one Plan."""
    torch_source = (GENERATED / f"{module_name(model, 'torch')}.py").read_text(encoding="utf-8")
    numpy_source = (GENERATED / f"{module_name(model)}.py").read_text(encoding="utf-8")
    checks = {"sizes"}  # the modules' argument checks assign their own locals first
    computed = [name for name in _assigned(torch_source, "loss_and_gradient") if name not in checks]
    planned = _assigned(numpy_source, "_loss_and_gradient_sums")
    assert computed[-len(planned):] == planned
    assert "np." not in torch_source and "import numpy" not in torch_source
    assert not re.search(r"^def _(sigmoid|logsumexp)\b", torch_source, re.M)  # torch's stable forms instead


@pytest.mark.parametrize("model", ["logistic-regression", "mlp-softmax"])
def test_float32_stays_float32(torch, model):
    module = load(model)
    X, y = batch(model)
    X = X.astype(np.float32)
    params = module.init_params(X, y)
    assert all(value.dtype == torch.float32 for value in params.values())
    loss, grads = module.loss_and_gradient(params, X, y)
    assert loss.dtype == torch.float32 and all(g.dtype == torch.float32 for g in grads.values())


@pytest.mark.parametrize("model", ["logistic-regression", "two-weight-chain", "softmax-regression"])
def test_wrong_arguments_are_refused_in_one_line(torch, model):
    module = load(model)
    X, y = batch(model)
    params = module.init_params(X, y)
    first = next(iter(params))
    wrong = {
        "label of another length": (params, X, y[:-1], "has shape"),
        "a label that would broadcast": (params, X, y[:, None] if y.ndim == 1 else y[:, :, None], "has shape"),
        "a missing parameter": ({k: v for k, v in params.items() if k != first}, X, y, f'params has no "{first}"'),
        "a parameter of another shape": ({**params, first: torch.zeros(7, 7)}, X, y, "has shape"),
        "text for data": (params, "abc", y, "not an array of real numbers"),
    }
    for what, (p, data, label, message) in wrong.items():
        with pytest.raises(ValueError, match=re.escape(message)) as raised:
            module.gradient(p, data, label)
        assert "\n" not in str(raised.value), what


def test_the_softmax_module_is_finite_at_large_scores(torch):
    """ln p through logsumexp: no overflow at scores of 1000, and the loss of a confident right answer is 0."""
    module = load("softmax-regression")
    X = np.array([[1.0, 0.0, 0.0]])
    y = np.eye(4)[[0]]
    w = np.zeros((3, 4))
    w[0, 0] = 1000.0  # scores (1000, 0, 0, 0): e^1000 overflows, ln p_1 = 1000 - logsumexp = 0
    params = {"w": w, "b": np.zeros(4)}
    loss, grads = module.loss_and_gradient(params, X, y)
    assert loss.item() == 0.0
    assert all(torch.isfinite(g).all() for g in grads.values())
