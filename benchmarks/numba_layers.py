"""Would a fused Numba loop beat the generated NumPy module on a layered model?  The measurement behind the rule.

The numba target fuses one loop over the samples: each sample's forward pass, loss and gradient terms in
registers.  For a layered model a sample's values are vectors (h_j, a row of w_ij), so the loop body holds
small matrix-vector products.  This benchmark writes that loop for the one-hidden-layer network (``mlp``:
sigmoid hidden layer, sigmoid output, cross-entropy), parallel over chunks of samples as the generated Numba
modules are, and times it against ``generated/mlp.py`` (NumPy, whose products go to BLAS) on the same data,
after checking that both give the same gradient.  The loop is typed here, from the textbook formulas, as a
candidate: it is what the target would have to generate.

    python benchmarks/numba_layers.py                 # N = 64, 10^4, 10^6; m = 10 features; k = 4, 16, 64
    python benchmarks/numba_layers.py --quick         # N ≤ 10^4

It prints one row per case: the median time of each, and the ratio (fused loop / NumPy; below 1, the
loop is faster).  docs/performance.md quotes a run, and ``codegen/fused.py:why_not_fused`` states the rule.
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


def fused_loop():
    """The candidate loop, compiled by Numba (imported here: the benchmark needs numba, symgrad does not)."""
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

    return gradient


def median_seconds(run, repeats: int) -> float:
    """The median of ``repeats`` timings, each of as many calls as fill about 50 ms."""
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N up to 10^4, 3 repeats")
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--hidden", default="4,16,64", help="comma-separated hidden sizes k")
    args = parser.parse_args(argv)
    import numba

    sizes = [64, 10_000] if args.quick else [64, 10_000, 1_000_000]
    repeats = 3 if args.quick else 7
    module = load_generated("mlp")
    loop = fused_loop()
    chunks = numba.get_num_threads() * 4
    print(f"mlp, m = {args.features} features, float64, {numba.get_num_threads()} Numba threads; median of {repeats}")
    print(f"{'N':>9} {'k':>4} {'NumPy (generated)':>18} {'fused loop':>12} {'loop / NumPy':>13}")
    for samples in sizes:
        for hidden in (int(h) for h in args.hidden.split(",")):
            rng = np.random.default_rng(0)
            X = rng.standard_normal((samples, args.features))
            y = (rng.random(samples) < 0.5).astype(float)
            params = module.init_params(X, y, rng=1, hidden=hidden)
            expected = module.gradient(params, X, y)
            got = dict(zip(("v", "c", "w", "b"),
                           loop(X, y, params["w"], params["b"], params["v"], float(params["c"]), chunks), strict=True))
            for key, value in expected.items():
                np.testing.assert_allclose(got[key], value, rtol=1e-9, atol=1e-12, err_msg=key)
            numpy_time = median_seconds(functools.partial(module.gradient, params, X, y), repeats)
            arguments = (X, y, params["w"], params["b"], params["v"], float(params["c"]), chunks)
            loop_time = median_seconds(functools.partial(loop, *arguments), repeats)
            print(f"{samples:>9} {hidden:>4} {numpy_time * 1e6:>15.1f} µs {loop_time * 1e6:>9.1f} µs "
                  f"{loop_time / numpy_time:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
