"""Derivation time and generated-code size of the mlp for hidden sizes k = 1, 2, 4, … 1024.

The issue asks that neither grows with k: the derivation is done once in index notation and the
generated code is vectorized.  This script makes k a concrete integer in the model (the range of
the hidden index and the bound of every Σ_j), derives the model, generates its NumPy module, and
prints per k (and first for k left a symbol, as the catalogue derives it):

- the derivation time (``derive(model)``);
- the code-generation time (lowering, printing, rendering);
- the module's size in bytes, and the size of its code alone (docstrings stripped), whose only
  difference between sizes is the digits of k in ``init_params``.

When the engine fails to derive a size (or takes longer than ``--derive-limit``), or derives it in
a form the backend does not lower (a sum written out term by term, with Kronecker deltas), the
script says so and generates the code from the stand-in derivation the tests use
(``tests/layer_standins.py``); the "code from" column says which derivation the code came from.

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
    nodes = tuple(
        Node(n.symbol, n.expr.xreplace(symbols), tuple((p.xreplace(symbols), v.xreplace(symbols)) for p, v in n.rewrites))
        for n in model.nodes
    )
    ranges = {i: (low, high.xreplace(symbols)) for i, (low, high) in model.index_ranges.items()}
    assumptions = {fact.xreplace(symbols): value for fact, value in model.assumptions.items()}
    return dataclasses.replace(model, nodes=nodes, index_ranges=ranges, assumptions=assumptions)


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


def measure(name: str, k: int | None, limit: float = 120.0) -> dict:
    """One row for model ``name`` with hidden size ``k`` (None: k stays a symbol): times, sizes and notes.

    The module is generated from the engine's derivation when there is one and the backend lowers
    it; otherwise from the stand-in, and ``notes`` says why.
    """
    from symgrad.codegen.pipeline import derivation_source
    from symgrad.errors import UsageError

    sys.path.insert(0, str(REPO / "tests"))
    from layer_standins import BUILDERS, standin

    model = BUILDERS[name]() if k is None else with_sizes(BUILDERS[name](), {"k": k})
    derivation, derive_seconds = derivation_of(model, limit)
    notes, source_of = [], "engine"
    if isinstance(derive_seconds, str):
        notes.append(f"no derivation: {derive_seconds}")
        derive_seconds, source_of = None, "stand-in"
    start = time.perf_counter()
    try:
        source = derivation_source(derivation, name)
    except UsageError as error:  # the engine's result has a shape the backend refuses (sums written out)
        notes.append(f"the engine's derivation is not lowered: {error}")
        start, source_of = time.perf_counter(), "stand-in"
        source = derivation_source(standin(model), name)
    generate_seconds = time.perf_counter() - start
    return {"k": "symbolic" if k is None else k, "derive": derive_seconds, "generate": generate_seconds,
            "from": source_of, "bytes": len(source.encode()), "code": len(code_only(source)), "notes": notes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="mlp", help="mlp, mlp-shared-bias or mlp-softmax (default: mlp)")
    parser.add_argument("--max", type=int, default=1024, help="the largest k, a power of 2 (default: 1024)")
    parser.add_argument("--derive-limit", type=float, default=120.0, metavar="SECONDS",
                        help="give up a derivation after this long, use the stand-in (default 120; 0: never derive)")
    args = parser.parse_args(argv)
    sizes = [None, *(2**e for e in range(args.max.bit_length()) if 2**e <= args.max)]
    print(f"{args.model}: derivation and generated code with the hidden size k symbolic, then a concrete integer")
    print(f"{'k':>8}  {'derive (s)':>10}  {'generate (s)':>12}  {'code from':>9}  {'module (bytes)':>14}  "
          f"{'code (chars)':>12}", flush=True)
    for k in sizes:
        row = measure(args.model, k, args.derive_limit)
        derive_text = "n/a" if row["derive"] is None else f"{row['derive']:.3f}"
        print(f"{row['k']:>8}  {derive_text:>10}  {row['generate']:>12.3f}  {row['from']:>9}  {row['bytes']:>14}  "
              f"{row['code']:>12}", flush=True)
        for note in row["notes"]:
            print(f"{'':>8}  {note[:160]}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
