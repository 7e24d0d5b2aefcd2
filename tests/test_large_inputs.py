"""Inputs beyond a small in-memory array: NumPy arrays large enough to be processed in row blocks,
memmaps, and chunked Dask arrays, which the generated functions take without loading them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pytest

GENERATED = Path(__file__).resolve().parent.parent / "generated"
#: The NumPy modules: the Numba ones (test_codegen_numba.py) take in-memory arrays and loop over runs, not blocks.
MODELS = sorted(p.stem for p in GENERATED.glob("*.py")
                if p.stem != "__init__" and not p.stem.endswith(("_numba", "_torch")))  # NumPy's block loop, Dask


def load(stem: str):
    spec = importlib.util.spec_from_file_location(f"large_{stem}", GENERATED / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data(module, n: int, seed: int = 0, k: int = 7):
    rng = np.random.default_rng(seed)
    vector = any(module.PARAMS.values())
    X = rng.normal(size=(n, k)) if vector else rng.normal(size=n)
    classes = any("C" in dims for dims in module.PARAMS.values())  # the softmax models take one-hot labels
    y = np.eye(3)[rng.integers(0, 3, size=n)] if classes else (rng.random(n) < 0.5).astype(float)
    sizes = {"k": k, "m": k, "C": 3}  # features k (m in the layered models), hidden units k, classes 3
    params = {key: (rng.normal(size=tuple(sizes[d] for d in dims)) if dims else float(rng.normal()))
              for key, dims in module.PARAMS.items()}
    return params, X, y


@pytest.mark.parametrize("stem", MODELS)
def test_blocked_gradient_equals_the_one_pass_gradient(stem):
    """X spans many blocks (and a ragged last one): the block sums add up to the whole-array sums."""
    module = load(stem)
    params, X, y = data(module, 3 * module._BLOCK_BYTES // 8 + 37)
    assert X.nbytes > 2 * module._BLOCK_BYTES  # the block loop runs
    unpacked = [np.asarray(params[key]) for key in module.PARAMS]
    whole = module._gradient_sums(X, y, *unpacked)  # one call over every row, no blocks
    got = module.gradient(params, X, y)
    for key, total in zip(module.PARAMS, whole, strict=True):
        np.testing.assert_allclose(got[key], total / len(X), rtol=1e-10, atol=1e-15)
    loss, grads = module.loss_and_gradient(params, X, y)
    assert loss == pytest.approx(float(module.loss(params, X, y)), rel=1e-10)
    for key in module.PARAMS:
        np.testing.assert_allclose(grads[key], got[key], rtol=1e-10, atol=1e-15)


def test_rows_without_features_are_blocked_too():
    """X of shape (N, 0) holds no bytes: more rows than two blocks still take the block loop, by rows."""
    module = load("logistic_regression")
    X = np.zeros((2 * module._BLOCK_ROWS + 5, 0))
    y = (np.arange(len(X)) % 2).astype(float)
    grads = module.gradient({"w": np.zeros(0)}, X, y)
    assert grads["w"].shape == (0,)
    assert module.loss({"w": np.zeros(0)}, X, y) == pytest.approx(np.log(2))  # every h is s(0) = 1/2


def test_a_memmap_is_blocked_like_an_array(tmp_path):
    module = load("logistic_regression")
    params, X, y = data(module, 60_000)
    stored = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=X.dtype, shape=X.shape)
    stored[:] = X
    stored.flush()
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    np.testing.assert_allclose(module.gradient(params, mapped, y)["w"], module.gradient(params, X, y)["w"], rtol=1e-12)


@pytest.mark.parametrize("stem", MODELS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_chunked_dask_array_gives_the_numpy_gradient(stem, dtype):
    """Full-batch gradient, loss and update over a chunked dask.array equal NumPy's; results stay lazy."""
    module = load(stem)
    params, X, y = data(module, 1000, seed=1)
    X, y = X.astype(dtype), y.astype(dtype)
    chunks = (128, X.shape[1]) if X.ndim == 2 else 128
    lazy_X, lazy_y = da.from_array(X, chunks=chunks), da.from_array(y, chunks=(128, *y.shape[1:]))
    rtol = 1e-12 if dtype == np.float64 else 1e-4
    expected = module.gradient(params, X, y)
    got = module.gradient(params, lazy_X, lazy_y)
    assert all(isinstance(v, da.Array) for v in got.values())  # nothing was loaded by np.asarray
    (computed,) = dask.compute(got)
    for key in module.PARAMS:
        np.testing.assert_allclose(computed[key], expected[key], rtol=rtol, atol=1e-7 * rtol)
        assert np.asarray(computed[key]).dtype == dtype
    loss, grads = dask.compute(*module.loss_and_gradient(params, lazy_X, lazy_y))
    assert float(loss) == pytest.approx(float(module.loss(params, X, y)), rel=rtol)
    stepped = dask.compute(module.update(params, lazy_X, lazy_y, 0.1))[0]
    for key, value in module.update(params, X, y, 0.1).items():
        np.testing.assert_allclose(stepped[key], value, rtol=rtol, atol=1e-7 * rtol)


def test_dask_forward_and_loss_stay_lazy():
    module = load("logistic_regression")
    params, X, y = data(module, 300)
    lazy_X, lazy_y = da.from_array(X, chunks=(64, 7)), da.from_array(y, chunks=64)
    prediction, loss = module.forward(params, lazy_X), module.loss(params, lazy_X, lazy_y)
    assert isinstance(prediction, da.Array) and isinstance(loss, da.Array)
    np.testing.assert_allclose(prediction.compute(), module.forward(params, X), rtol=1e-13)
    assert float(loss.compute()) == pytest.approx(float(module.loss(params, X, y)), rel=1e-12)


def test_out_of_core_example_trains_on_chunks(tmp_path, capsys):
    """benchmarks/out_of_core.py, small: written in blocks, read in chunks, trained with the generated update."""
    import sys

    sys.path.insert(0, str(GENERATED.parent / "benchmarks"))
    import out_of_core

    out_of_core.make(tmp_path, rows=3000, features=5, block=700)
    X = out_of_core.open_chunked(tmp_path / "X.npy", 400)
    assert X.numblocks == (8, 1)
    np.testing.assert_array_equal(X.compute(), np.load(tmp_path / "X.npy"))
    result = out_of_core.train(tmp_path, epochs=30, lr=2.0, rows_per_chunk=400, scheduler=None)
    assert result["cosine_to_truth"] > 0.9 and result["accuracy"] > 0.7
    assert "epoch 30:" in capsys.readouterr().out


def test_a_dask_label_of_the_wrong_length_is_refused():
    """A Dask label is checked like a NumPy one, from its shape (test_dask_forward_and_loss_stay_lazy: and lazily)."""
    module = load("logistic_regression")
    params, X, y = data(module, 40)
    with pytest.raises(ValueError, match=r"^y has shape \(39,\); expected \(N,\) = \(40,\)$"):
        module.gradient(params, da.from_array(X, chunks=10), da.from_array(y[:39], chunks=10))


@pytest.mark.parametrize("stem", ["logistic_regression", "two_weight_chain", "mlp_softmax"])
def test_unknown_chunk_sizes_are_refused_in_one_line_until_they_are_computed(stem):
    """A boolean mask leaves Dask without the chunks' lengths (NaN rows): the means cannot be taken, and
    the refusal says what to do.  The forward pass needs no count and stays lazy."""
    module = load(stem)
    params, X, y = data(module, 40)
    rows = da.from_array(X[:, 0] if X.ndim > 1 else X, chunks=10)
    keep = rows == rows  # every row, but Dask cannot know how many each chunk keeps
    masked_X, masked_y = da.from_array(X, chunks=10)[keep], da.from_array(y, chunks=10)[keep]
    assert np.isnan(masked_X.shape[0])
    data_name, label_name = module.gradient.__code__.co_varnames[1:3]  # the model's names for X and y
    unknown = (r"^{} has an unknown number of rows \(a Dask array with unknown chunk sizes\); "
               r"call {}\.compute_chunk_sizes\(\) first$")
    for X_given, y_given, named in [(masked_X, masked_y, data_name), (X, masked_y, label_name),
                                    (masked_X, y, data_name)]:
        with pytest.raises(ValueError, match=unknown.format(named, named)):
            module.gradient(params, X_given, y_given)
    np.testing.assert_allclose(module.forward(params, masked_X).compute(), module.forward(params, X))
    masked_X.compute_chunk_sizes()
    masked_y.compute_chunk_sizes()
    lazy = module.gradient(params, masked_X, masked_y)
    for key, value in module.gradient(params, X, y).items():
        np.testing.assert_allclose(np.asarray(lazy[key]), value, rtol=1e-12)


def test_a_dask_argument_of_the_wrong_shape_or_dtype_is_refused_before_any_chunk_is_read():
    """The argument checks read a Dask array's metadata only (docs/out-of-core.md): no chunk is computed."""
    module = load("logistic_regression")
    params, X, y = data(module, 40)

    def poisoned(block):
        raise AssertionError("a chunk was computed")

    lazy_X = da.from_array(X, chunks=10).map_blocks(poisoned, dtype=X.dtype)
    lazy_y = da.from_array(y, chunks=10).map_blocks(poisoned, dtype=y.dtype)
    with pytest.raises(ValueError, match=r"^X has shape \(40, 7, 1\); expected \(N, k\): one sample per row$"):
        module.gradient(params, lazy_X[..., None], lazy_y)
    with pytest.raises(TypeError, match=r"^X has dtype <U1; expected real numbers$"):
        module.gradient(params, da.from_array(np.full((40, 7), "a"), chunks=10), lazy_y)
    with pytest.raises(ValueError, match=r'^params\["w"\] has shape \(8,\); expected \(k,\) = \(7,\)$'):
        module.forward({"w": np.ones(8)}, lazy_X)
    lazy = module.gradient(params, lazy_X, lazy_y)  # checked, and still lazy: nothing computed yet
    assert all(isinstance(value, da.Array) for value in lazy.values())
