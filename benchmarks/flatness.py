"""Derivation time and generated-code size of the mlp for hidden sizes k = 1, 2, 4, … 1024.

The issue asks that neither grows with k: the derivation is done once in index notation and the
generated code is vectorized.  This script makes k a concrete integer in the model (the range of
the hidden index and the bound of every Σ_j), derives the model, generates its NumPy module, and
prints per k (and first for k left a symbol, as the catalogue derives it):

- the derivation time (``derive(model)``);
- the code-generation time (lowering, printing, rendering);
- the module's size in bytes, and the size of its code alone (docstrings stripped), whose only
  difference between sizes is the digits of k in ``init_params``.

A numeric k is derived as a symbol and put back afterwards (``symgrad/derivation/sizes.py``), which is why
the derivation time does not move with it.

    python benchmarks/flatness.py              # mlp, k = 1 … 1024
    python benchmarks/flatness.py mlp-softmax --max 256
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import sys
import time
from pathlib import Path

import sympy as sp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from symgrad.derivation.derive import derive  # noqa: E402
from symgrad.model.graph import Model, Node  # noqa: E402


def with_sizes(model: Model, sizes: dict[str, int]) -> Model:
    """``model`` with the named size symbols (``{"k": 64}``) replaced by integers everywhere they occur."""
    symbols = {s: sp.Integer(sizes[s.name]) for _, (_, high) in model.index_ranges.items()
               for s in high.free_symbols if s.name in sizes}
    nodes = tuple(
        Node(n.symbol, n.expr.xreplace(symbols),
             tuple((p.xreplace(symbols), v.xreplace(symbols)) for p, v in n.rewrites))
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


def measure(name: str, k: int | None) -> dict:
    """One row for model ``name`` with hidden size ``k`` (None: k stays a symbol): times and sizes."""
    from symgrad.catalogue.models import lookup
    from symgrad.codegen.pipeline import derivation_source

    entry, options = lookup(name)
    model = entry.build(**options) if k is None else with_sizes(entry.build(**options), {"k": k})
    start = time.perf_counter()
    derivation = derive(model)  # with every step proven, as `symgrad derive` does
    derive_seconds = time.perf_counter() - start
    start = time.perf_counter()
    source = derivation_source(derivation, name)
    generate_seconds = time.perf_counter() - start
    return {"k": "symbolic" if k is None else k, "derive": derive_seconds, "generate": generate_seconds,
            "bytes": len(source.encode()), "code": len(code_only(source))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="mlp", help="mlp, mlp-shared-bias or mlp-softmax (default: mlp)")
    parser.add_argument("--max", type=int, default=1024, help="the largest k, a power of 2 (default: 1024)")
    args = parser.parse_args(argv)
    sizes = [None, *(2**e for e in range(args.max.bit_length()) if 2**e <= args.max)]
    print(f"{args.model}: derivation and generated code with the hidden size k symbolic, then a concrete integer")
    header = f"{'k':>8}  {'derive (s)':>10}  {'generate (s)':>12}  {'module (bytes)':>14}  {'code (chars)':>12}"
    print(header, flush=True)
    for k in sizes:
        row = measure(args.model, k)
        print(f"{row['k']:>8}  {row['derive']:>10.3f}  {row['generate']:>12.3f}  {row['bytes']:>14}  {row['code']:>12}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
