"""Layer sizes given as numbers are derived as symbols, and the numbers put back afterwards.

A model may fix a layer's size (k = 1024 hidden units).  Differentiating Σ_{j=1}^{1024} v_j h_j
with SymPy writes the sum out term by term, so the derivation would grow with k.  Instead the
derivation runs on the same model with each numeric size replaced by a size symbol, exactly as for
a general k, and the number goes back into every printed equation and result at the end.  The time
and the length of a derivation therefore do not depend on the sizes at all.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from symgrad.derivation.steps import Derivation, Equation, Step
from symgrad.model.graph import Model, Node


def with_symbolic_sizes(model: Model) -> tuple[Model, dict[sp.Symbol, sp.Integer]]:
    """``model`` with every numeric layer size replaced by a symbol, and the symbol → number map."""
    numbers = sorted({high for _, high in model.index_ranges.values() if high.is_Integer}, key=int)
    if not numbers:
        return model, {}
    taken = {s.name for node in model.nodes for s in node.value.free_symbols}
    symbols: dict[sp.Integer, sp.Symbol] = {}
    for number in numbers:
        name = f"n_{{{number}}}"
        while name in taken:
            name += "'"
        symbols[number] = sp.Symbol(name, integer=True, positive=True)

    def general(expr: sp.Expr) -> sp.Expr:
        return expr.replace(
            lambda e: isinstance(e, sp.Sum),
            lambda e: sp.Sum(e.function, *((i, low, symbols.get(high, high)) for i, low, high in e.limits)),
        )

    nodes = tuple(
        Node(node.symbol, general(node.expr), tuple((general(p), general(v)) for p, v in node.rewrites))
        for node in model.nodes
    )
    ranges = {index: (low, symbols.get(high, high)) for index, (low, high) in model.index_ranges.items()}
    assumptions = {general(fact): value for fact, value in model.assumptions.items()}
    generalised = replace(model, nodes=nodes, index_ranges=ranges, assumptions=assumptions)
    return generalised, {symbol: number for number, symbol in symbols.items()}


def with_numbers(derivation: Derivation, model: Model, numbers: dict[sp.Symbol, sp.Integer]) -> Derivation:
    """``derivation`` (of the generalised model) with the numeric sizes back, as a derivation of ``model``."""

    def put(expr):
        return expr.xreplace(numbers) if isinstance(expr, sp.Basic) else expr

    def equation(eq: Equation) -> Equation:
        return replace(eq, lhs=put(eq.lhs), rhs=tuple(put(r) for r in eq.rhs))

    steps = [
        Step(tuple(put(p) for p in s.title), tuple(put(p) for p in s.explanation),
             tuple(equation(e) for e in s.equations))
        for s in derivation.steps
    ]
    results = [replace(r, lhs=put(r.lhs), value=put(r.value), form=put(r.form)) for r in derivation.results]
    return Derivation(derivation.name, derivation.title, model, steps, results, derivation.command)


__all__ = ["with_numbers", "with_symbolic_sizes"]
