"""Read a benchmark's JSON and say, target by target, whether issue 6's ratios were met in that run.

    python benchmarks/targets.py docs/benchmark-results.json

Every ratio comes from the one run in the file: the generated gradient against naive NumPy and the
peers on the same case, and against the one-pass bound bytes(X) / bandwidth measured in that run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PEERS = ("sympy lambdify", "jax jit(grad)", "pytorch autograd", "hips autograd")
LARGE = 1_000_000


def _rows(document: dict) -> dict[tuple, dict]:
    return {(r["model"], r["n"], r["k"], r["dtype"], r["contender"]): r for r in document["rows"]}


#: symgrad's two generated gradients: the NumPy module and the Numba module (generated/*_numba.py).
GENERATED = {"generated gradient": "NumPy", "generated numba": "Numba"}


def evaluate(document: dict) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) per check, for each generated module the run timed; met is None when the run
    lacks the rows to judge."""
    rows = _rows(document)
    out: list[tuple[str, str, bool | None]] = []

    def seconds(model, n, k, dtype, contender):
        row = rows.get((model, n, k, dtype, contender))
        return row["seconds"] if row and row["status"] == "timed" else None

    for contender, target in GENERATED.items():
        for dtype in ("float64", "float32"):
            for k in (10, 100):
                case = ("logistic-regression", LARGE, k, dtype)
                gen, naive = seconds(*case, contender), seconds(*case, "naive numpy")
                label = f"{target}: logistic N=1e6 k={k} {dtype}"
                if gen and naive:
                    out.append((f"{label}: ≤ 0.5× naive", f"{gen / naive:.2f}×", gen / naive <= 0.5))
                peers = {p: seconds(*case, p) for p in PEERS if seconds(*case, p)}
                if gen and peers:
                    best = min(peers, key=peers.get)
                    out.append((f"{label}: faster than every peer", f"{gen / peers[best]:.2f}× {best}",
                                gen < peers[best]))
            row = rows.get(("logistic-regression", LARGE, 100, dtype, contender))
            if row and row["status"] == "timed" and row["vs_bound"]:
                out.append((f"{target}: logistic N=1e6 k=100 {dtype}: ≤ 1.3× one-pass bound", f"{row['vs_bound']:.2f}×",
                            row["vs_bound"] <= 1.3))
        for dtype in ("float64", "float32"):
            for k in (10, 100):
                case = ("logistic-regression", 1, k, dtype)
                gen, naive, jax = (seconds(*case, c) for c in (contender, "naive numpy", "jax jit(grad)"))
                label = f"{target}: logistic N=1 k={k} {dtype}"
                if gen and naive:
                    out.append((f"{label}: ≤ naive", f"{gen / naive:.2f}×", gen <= naive))
                if gen and jax:
                    out.append((f"{label}: ≤ 0.7× JAX", f"{gen / jax:.2f}×", gen <= 0.7 * jax))
        for dtype in ("float64", "float32"):
            case = ("two-weight-chain", LARGE, None, dtype)
            gen, naive, jax = (seconds(*case, c) for c in (contender, "naive numpy", "jax jit(grad)"))
            if gen and naive:
                out.append((f"{target}: chain N=1e6 {dtype}: ≤ 0.2× naive", f"{gen / naive:.2f}×", gen / naive <= 0.2))
            if gen and jax and contender == "generated numba":
                out.append((f"{target}: chain N=1e6 {dtype}: ≤ 1.0× JAX", f"{gen / jax:.2f}×", gen <= jax))
    return out


def table(checks: list[tuple[str, str, bool | None]]) -> str:
    lines = ["| target | this run | met |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {'yes' if ok else 'no' if ok is not None else '?'} |" for t, m, ok in checks]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "docs/benchmark-results.json")
    print(table(evaluate(json.loads(path.read_text(encoding="utf-8")))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
