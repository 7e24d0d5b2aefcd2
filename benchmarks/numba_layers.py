"""The layered models' Numba modules against their NumPy modules, and against a loop typed by hand, in one run.

The numba target compiles one loop over the samples; for a layered model it keeps a sample's layer in a
buffer of its units and writes each sum over units as an inner loop (``codegen/unit_loops.py``).  The NumPy
module computes each layer for a block of samples at once, its products in BLAS.  This benchmark times each
layered model's ``gradient`` in both generated modules on the same data, after checking that they agree, and
for ``mlp`` also a loop typed here from the textbook formulas (parallel over chunks of samples, as the
generated modules are): the candidate that was measured before the target generated these loops, kept as the
yardstick of what a person would write.

    python benchmarks/numba_layers.py                 # N = 64, 10^4, 10^6; m = 10 features; k = 4, 16, 64
    python benchmarks/numba_layers.py --quick         # N ≤ 10^4, k = 4, 16

Each row: the median time of each, and the ratios (below 1, the generated loop is faster).
docs/performance.md quotes a run.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import load_generated  # noqa: E402

#: The layered models with the hidden sizes they take (softmax regression has none), and their classes.
MODELS = {"mlp": True, "mlp-softmax": True, "softmax-regression": False}
CLASSES = 3


def hand_loop():
    """The loop typed by hand for ``mlp``, compiled by Numba (imported here: symgrad does not need numba)."""
    import numba

    @numba.njit(parallel=True, cache=True)
    def gradient(X, y, w, b, v, c, chunks):
        samples, features = X.shape
        hidden = w.shape[1]
        grad_w = np.zeros((chunks, features, hidden))
        grad_b = np.zeros((chunks, hidden))
        grad_v = np.zeros((chunks, hidden))
        grad_c = np.zeros(chunks)
        size = (samples + chunks - 1) // chunks
        for chunk in numba.prange(chunks):
            h = np.empty(hidden)
            for n in range(chunk * size, min(samples, (chunk + 1) * size)):
                u = c
                for j in range(hidden):
                    z = b[j]
                    for i in range(features):
                        z += X[n, i] * w[i, j]
                    h[j] = 1.0 / (1.0 + np.exp(-z))
                    u += h[j] * v[j]
                error = 1.0 / (1.0 + np.exp(-u)) - y[n]
                grad_c[chunk] += error
                for j in range(hidden):
                    grad_v[chunk, j] += error * h[j]
                    delta = error * v[j] * h[j] * (1.0 - h[j])
                    grad_b[chunk, j] += delta
                    for i in range(features):
                        grad_w[chunk, i, j] += X[n, i] * delta
        return (grad_v.sum(axis=0) / samples, grad_c.sum() / samples,
                grad_w.sum(axis=0) / samples, grad_b.sum(axis=0) / samples)

    return lambda *arguments: dict(zip("vcwb", gradient(*arguments), strict=True))


def median_seconds(run, repeats: int) -> float:
    """The median of ``repeats`` timings, each of as many calls as fill about 50 ms, after a warm-up call."""
    start = time.perf_counter()
    run()
    once = max(time.perf_counter() - start, 1e-7)
    calls = max(1, int(0.05 / once))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def data(model: str, samples: int, features: int, rng):
    """Standard normal inputs and a 0/1 label, or a one-hot one for a softmax."""
    X = rng.standard_normal((samples, features))
    if "softmax" in model:
        return X, np.eye(CLASSES)[rng.integers(0, CLASSES, size=samples)]
    return X, (rng.random(samples) < 0.5).astype(float)


def agree(got: dict, expected: dict, what: str) -> None:
    """The correctness gate: a contender that does not give the NumPy module's gradient is not timed."""
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-9, atol=1e-12, err_msg=f"{what}: {key}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N up to 10^4, k = 4 and 16, 3 repeats")
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--hidden", default=None, help="comma-separated hidden sizes k (default 4,16,64)")
    args = parser.parse_args(argv)
    import numba

    sizes = [64, 10_000] if args.quick else [64, 10_000, 1_000_000]
    hidden_sizes = [int(h) for h in (args.hidden or ("4,16" if args.quick else "4,16,64")).split(",")]
    repeats = 3 if args.quick else 7
    loop = hand_loop()
    chunks = numba.get_num_threads() * 4
    print(f"m = {args.features} features, {CLASSES} classes, float64, {numba.get_num_threads()} Numba threads; "
          f"gradient(), median of {repeats}")
    print(f"{'model':<19} {'N':>9} {'k':>4} {'NumPy':>11} {'Numba':>11} {'by hand':>11} "
          f"{'Numba / NumPy':>14} {'Numba / hand':>13}")
    for model, layered in MODELS.items():
        whole, fused = load_generated(model), load_generated(model, "numba")
        for samples in sizes:
            for hidden in hidden_sizes if layered else [None]:
                X, y = data(model, samples, args.features, np.random.default_rng(0))
                params = whole.init_params(X, y, rng=1, **({"hidden": hidden} if layered else {}))
                expected = whole.gradient(params, X, y)
                agree(fused.gradient(params, X, y), expected, "generated numba")
                numpy_time = median_seconds(functools.partial(whole.gradient, params, X, y), repeats)
                numba_time = median_seconds(functools.partial(fused.gradient, params, X, y), repeats)
                hand_time = None
                if model == "mlp":
                    arguments = (X, y, params["w"], params["b"], params["v"], float(params["c"]), chunks)
                    agree(loop(*arguments), expected, "by hand")
                    hand_time = median_seconds(functools.partial(loop, *arguments), repeats)
                by_hand = f"{hand_time * 1e6:>8.1f} µs" if hand_time else f"{'—':>11}"
                versus_hand = f"{numba_time / hand_time:>13.2f}" if hand_time else f"{'—':>13}"
                print(f"{model:<19} {samples:>9} {hidden or '':>4} {numpy_time * 1e6:>8.1f} µs "
                      f"{numba_time * 1e6:>8.1f} µs {by_hand} {numba_time / numpy_time:>14.2f} {versus_hand}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
