"""Naming a mistake by the smallest edit of the correct answer that reproduces it.

A teacher wants to hear "sign error" or "the factor w₂ is missing", not "the right side is not equal".
So when a claim is wrong, the correct answer (the derivation's, in the handout's shape) is edited in the
small ways students go wrong, and each edit is compared with the claim, exactly, in the prime field
(``derivation/identity.py``: a millisecond an edit):

* a sign flipped, and (a − 1) written for (1 − a);
* a factor missing, or an extra one (a node partial of the chain, a node, an input, a parameter);
* two quantities swapped (w₁ for w₂, a₁ for x), or one written for another;
* a wrong index (x_i for x_j);
* a sum over units dropped (the summand alone);
* a factor 2 or ½.

The first edit that equals the claim names the mistake; when none does, the caller says the sides differ.
STACK's potential-response trees hand-code such edits per question; here they come from the graph.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator

import sympy as sp

from symgrad.model.graph import Model, Partial

#: Edits tried at most per claim: each costs one exact comparison.
MAX_EDITS = 400

Show = Callable[[sp.Expr], str]


def name_the_mistake(model: Model | None, expected: sp.Expr, claim: sp.Expr,
                     equal: Callable[[sp.Expr, sp.Expr], bool], show: Show, written: str = "",
                     lhs: sp.Expr | None = None) -> str | None:
    """The reason naming the edit of ``expected`` that gives ``claim`` (``equal`` decides), or None.  With the
    claim's left side a gradient, the chain-rule product's node partials are edited too (one dropped)."""
    edits = itertools.chain(_edits(model, expected, show, written), _chain_edits(model, lhs, show))
    for count, (reason, edited) in enumerate(edits):
        if count >= MAX_EDITS:
            return None
        try:
            if equal(edited, claim):
                return reason
        except Exception:  # noqa: BLE001 - an edit SymPy cannot build or compare names nothing
            continue
    return None


def _edits(model: Model | None, expected: sp.Expr, show: Show, written: str) -> Iterator[tuple[str, sp.Expr]]:
    factors = _factors(expected)
    if writes_minus_one(written):
        for factor in factors:
            flipped = _one_minus_flipped(factor)
            if flipped is not None:
                yield (f"(a − 1) written for (1 − a): {show(-factor)} where {show(factor)} belongs",
                       _replaced_factor(expected, factor, flipped))
    yield "sign error: the right side is the negative of the correct value", -expected
    for factor in factors:
        if factor.is_number:
            continue
        yield f"a chain factor is missing: {show(factor)}", _replaced_factor(expected, factor, sp.S.One)
    yield "a factor 2 too many: the right side is twice the correct value", 2 * expected
    yield "a factor ½ too many: the right side is half the correct value", expected / 2
    yield from _dropped_sums(expected, show)
    yield from _wrong_indices(expected, show)
    quantities = _quantities(model, expected)
    for a, b in itertools.combinations(quantities, 2):
        if expected.has(a) and expected.has(b):
            yield f"{show(a)} and {show(b)} are swapped", expected.xreplace({a: b, b: a})
    for a, b in itertools.permutations(quantities, 2):
        if expected.has(a):
            yield f"{show(b)} is written where {show(a)} belongs", expected.xreplace({a: b})
            for variant in _some_occurrences(expected, a, b):
                yield f"{show(b)} is written where {show(a)} belongs", variant
    for extra in _extra_factors(model, factors):
        yield f"an extra factor {show(extra)}", expected * extra


def writes_minus_one(written: str) -> bool:
    """Whether the key wrote a factor ending in "- 1)" (``(a - 1)``, ``\\left(a - 1\\right)``)."""
    return re.search(r"-\s*1\s*(?:\\right)?\s*\)", written) is not None


def _chain_edits(model: Model | None, lhs: sp.Expr | None, show: Show) -> Iterator[tuple[str, sp.Expr]]:
    """The chain rule's product of node partials (in forward-pass values) with one partial left out."""
    if model is None or not isinstance(lhs, Partial) or lhs.of != model.loss.symbol:
        return
    try:
        paths = model.paths(lhs.wrt)
    except Exception:  # noqa: BLE001 - a quantity the graph cannot walk from gives no chain to edit
        return
    if len(paths) != 1 or paths[0].sums:
        return
    locals_ = [model.in_forward_values(model.partial(u, v)) for u, v in paths[0].edges]
    for position, factor in enumerate(locals_):
        if factor != 1:
            rest = sp.Mul(*locals_[:position], *locals_[position + 1:])
            yield f"a chain factor is missing: {show(factor)}", rest


def _factors(expr: sp.Expr) -> list[sp.Expr]:
    """The factors of a product in its written order, nested products flattened (a sum under Σ is looked into)."""
    while isinstance(expr, sp.Sum):
        expr = expr.function
    if not isinstance(expr, sp.Mul):
        return [expr]
    return [factor for arg in expr.args if arg != -1 for factor in _factors(arg)]


def _replaced_factor(expr: sp.Expr, factor: sp.Expr, replacement: sp.Expr) -> sp.Expr:
    """``expr`` with a factor of its product (wherever it stands in the written product) replaced."""
    return expr.xreplace({factor: replacement})


def _one_minus_flipped(factor: sp.Expr) -> sp.Expr | None:
    """(a − 1) for a factor (1 − a), else None."""
    base, exponent = factor.as_base_exp()
    if isinstance(base, sp.Add) and len(base.args) == 2 and sp.S.One in base.args:
        other = next(a for a in base.args if a != 1)
        if other.could_extract_minus_sign():
            return (-other - 1) ** exponent
    return None


def _dropped_sums(expected: sp.Expr, show: Show) -> Iterator[tuple[str, sp.Expr]]:
    for total in expected.atoms(sp.Sum):
        yield (f"the sum over the units is missing: {show(total)} collects from every unit",
               expected.xreplace({total: total.function}))


def _some_occurrences(expr: sp.Expr, old: sp.Expr, new: sp.Expr, most: int = 5) -> Iterator[sp.Expr]:
    """``expr`` with some but not all of the occurrences of ``old`` made ``new`` (a₁ for a₂ in one place only)."""
    count = sum(1 for e in sp.preorder_traversal(expr) if e == old)
    if count < 2 or count > most:
        return
    for chosen in range(1, 2**count - 1):
        yield _replace_chosen(expr, old, new, chosen, [-1])


def _replace_chosen(expr: sp.Expr, old: sp.Expr, new: sp.Expr, chosen: int, seen: list[int]) -> sp.Expr:
    if expr == old:
        seen[0] += 1
        return new if chosen >> seen[0] & 1 else expr
    if not expr.args:
        return expr
    return expr.func(*(_replace_chosen(a, old, new, chosen, seen) for a in expr.args))


def _wrong_indices(expected: sp.Expr, show: Show) -> Iterator[tuple[str, sp.Expr]]:
    """x_i for x_j: one free index of one indexed quantity replaced by another free index of the expression."""
    free = sorted((s for s in expected.free_symbols if isinstance(s, sp.Symbol) and s.is_integer), key=str)
    for indexed in sorted(expected.atoms(sp.Indexed), key=str):
        for position, index in enumerate(indexed.indices):
            for other in free:
                if other != index and index in free:
                    indices = list(indexed.indices)
                    indices[position] = other
                    wrong = indexed.base[tuple(indices)]
                    yield f"a wrong index: {show(wrong)} where {show(indexed)} belongs", expected.xreplace(
                        {indexed: wrong})


def _quantities(model: Model | None, expected: sp.Expr) -> list[sp.Expr]:
    """The quantities a student may confuse: the model's inputs, parameters and nodes, and the expression's own."""
    found: list[sp.Expr] = []
    if model is not None:
        found += [q for q in (*model.inputs, *model.params) if not isinstance(q, sp.Indexed)]
        found += [n.symbol for n in model.forward_nodes if not isinstance(n.symbol, sp.Indexed)]
    found += sorted((s for s in expected.free_symbols if isinstance(s, sp.Symbol) and not s.is_integer), key=str)
    return list(dict.fromkeys(found))[:16]


def _extra_factors(model: Model | None, factors: list[sp.Expr]) -> list[sp.Expr]:
    """Factors a student may add: the model's local partials (a₂(1 − a₂), w₂), nodes, inputs and parameters."""
    extra: list[sp.Expr] = []
    if model is not None:
        for node in model.nodes:
            for quantity in model.direct_inputs(node):
                try:
                    extra.append(model.in_forward_values(model.partial(node.symbol, quantity)))
                except Exception:  # noqa: BLE001 - a partial SymPy cannot take adds no candidate
                    continue
        nodes = [n.symbol for n in model.forward_nodes]
        extra += [n * (1 - n) for n in nodes] + [1 - n**2 for n in nodes]  # σ' and tanh' where they do not belong
        extra += nodes + list(model.inputs) + list(model.params)
    unique = [e for e in dict.fromkeys(extra) if e != 1 and not e.is_number and not e.has(Partial)]
    return unique[:60]
