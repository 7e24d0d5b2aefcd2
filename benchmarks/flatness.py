"""Derivation time and generated-code size of the mlp for hidden sizes k = 1, 2, 4, … 1024.

The issue asks that neither grows with k: the derivation is done once in index notation and the
generated code is vectorized.  This script makes k a concrete integer in the model (the range of
the hidden index and the bound of every Σ_j), derives the model, generates its NumPy module, and
prints per k:

- the derivation time (``derive(model)``);
- the code-generation time (lowering, printing, rendering);
- the module's size in bytes, and the size of its code alone (docstrings stripped), whose only
  difference between sizes is the digits of k in ``init_params``.

When the engine fails to derive a size (or takes longer than ``--derive-limit``), the script says
so and falls back to the stand-in derivation the tests use (``tests/layer_standins.py``); then
only the code generation is measured for that size, and the derivation column reads "n/a".

    python benchmarks/flatness.py              # mlp, k = 1 … 1024
    python benchmarks/flatness.py mlp-softmax --max 256
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import signal
import sys
import time
from pathlib import Path

import sympy as sp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from symgrad.derive import derive  # noqa: E402
from symgrad.graph import Model, Node  # noqa: E402


def with_sizes(model: Model, sizes: dict[str, int]) -> Model:
    """``model`` with the named size symbols (``{"k": 64}``) replaced by integers everywhere they occur."""
    symbols = {s: sp.Integer(sizes[s.name]) for _, (_, high) in model.index_ranges.items()
               for s in high.free_symbols if s.name in sizes}
    nodes = tuple(Node(n.symbol, n.expr.xreplace(symbols)) for n in model.nodes)
    ranges = {i: (low, high.xreplace(symbols)) for i, (low, high) in model.index_ranges.items()}
    return dataclasses.replace(model, nodes=nodes, index_ranges=ranges)


def code_only(source: str) -> str:
    """The module without its docstrings: what runs."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        docstring = isinstance(body, list) and body and isinstance(body[0], ast.Expr)
        if docstring and isinstance(body[0].value, ast.Constant):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def _stop(signum, frame):
    raise TimeoutError("the derivation took longer than the time limit")


def derivation_of(model: Model, limit: float):
    """(the derivation, seconds it took) from the engine, or (the tests' stand-in, why not) when the engine
    fails or takes longer than ``limit`` seconds (0: no derivation attempted)."""
    sys.path.insert(0, str(REPO / "tests"))
    from layer_standins import standin

    if limit <= 0:
        return standin(model), "not attempted (--derive-limit 0)"
    previous = signal.signal(signal.SIGALRM, _stop)
    signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.perf_counter()
    try:
        derivation = derive(model)
    except Exception as error:  # noqa: BLE001 - report and fall back; the engine is not this script's subject
        return standin(model), f"{type(error).__name__}: {str(error)[:100]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return derivation, time.perf_counter() - start


def measure(name: str, k: int, limit: float = 120.0) -> dict:
    """One row: the times and sizes for model ``name`` with hidden size ``k``."""
    from symgrad.codegen.pipeline import render_derivation

    sys.path.insert(0, str(REPO / "tests"))
    from layer_standins import BUILDERS

    model = with_sizes(BUILDERS[name](), {"k": k})
    derivation, derive_seconds = derivation_of(model, limit)
    start = time.perf_counter()
    source = render_derivation(derivation, name)
    generate_seconds = time.perf_counter() - start
    return {"k": k, "derive": derive_seconds, "generate": generate_seconds, "bytes": len(source.encode()),
            "code": len(code_only(source))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="mlp", help="mlp, mlp-shared-bias or mlp-softmax (default: mlp)")
    parser.add_argument("--max", type=int, default=1024, help="the largest k, a power of 2 (default: 1024)")
    parser.add_argument("--derive-limit", type=float, default=120.0, metavar="SECONDS",
                        help="give up a derivation after this long, use the stand-in (default 120; 0: never derive)")
    args = parser.parse_args(argv)
    sizes = [2**e for e in range(args.max.bit_length()) if 2**e <= args.max]
    print(f"{args.model}: hidden size k as a concrete integer")
    print(f"{'k':>6}  {'derive (s)':>10}  {'generate (s)':>12}  {'module (bytes)':>14}  {'code (chars)':>12}")
    notes = set()
    for k in sizes:
        row = measure(args.model, k, args.derive_limit)
        if isinstance(row["derive"], str):
            notes.add(row["derive"])
            derive_text = "n/a"
        else:
            derive_text = f"{row['derive']:.3f}"
        print(f"{k:>6}  {derive_text:>10}  {row['generate']:>12.3f}  {row['bytes']:>14}  {row['code']:>12}")
    for note in sorted(notes):
        print(f"derivation not measured: {note}; the code was generated from the tests' stand-in derivation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
