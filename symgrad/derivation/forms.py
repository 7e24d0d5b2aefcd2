"""Handout forms: write an expression the way the handouts do, without changing its value.

SymPy's canonical forms reorder factors and distribute signs (``-(1 - a)``
becomes ``a - 1``).  The handouts write ``a_2(1 - a_2)`` and ``(a_2 - y^*)``
with factors in chain order.  The functions here build *unevaluated* SymPy
trees in that shape; printers keep them as built (``order='none'``), and
``expr.doit()`` recovers the canonical value.
"""

from __future__ import annotations

import sympy as sp


def product(*factors: sp.Expr) -> sp.Expr:
    """An unevaluated product that keeps its factors in the order given (chain order)."""
    kept = [f for f in factors if f != 1]
    if not kept:
        return sp.S.One
    if len(kept) == 1:
        return kept[0]
    return sp.Mul(*kept, evaluate=False)


def negate(expr: sp.Expr) -> sp.Expr:
    """-expr, without letting SymPy distribute the sign into a sum."""
    if isinstance(expr, sp.Mul) and expr.args and expr.args[0] == -1:
        return product(*expr.args[1:])
    return sp.Mul(sp.S.NegativeOne, expr, evaluate=False)


def is_negated(expr: sp.Expr) -> bool:
    """Whether a handout form starts with a minus sign."""
    return isinstance(expr, sp.Mul) and bool(expr.args) and expr.args[0].is_number and expr.args[0] < 0


def orient_sum(terms: sp.Add, label: sp.Expr | None, label_first: bool) -> tuple[sp.Expr, bool]:
    """Write a sum as the handouts do: ``1 - a`` (constant first, positive) and
    ``a - y`` or ``y - a`` for a residual.  Returns the form and whether it was negated."""
    args = list(sp.Add.make_args(terms))
    constants = [t for t in args if t.is_number]
    flipped = False
    if constants and constants[0] < 0:
        flipped = True
    elif label is not None and len(args) == 2 and (label in args or -label in args):
        label_positive = label in args
        flipped = label_positive != label_first
    if flipped:
        args = [-t for t in args]

    def rank(term: sp.Expr) -> tuple[int, int]:
        if term.is_number:
            return (0, 0)
        if label is not None and term in (label, -label):
            return (1 if label_first else 3, 0)
        return (2, 1 if sp.Mul(term).could_extract_minus_sign() else 0)

    args.sort(key=rank)
    if len(args) == 1:
        return args[0], flipped
    return sp.Add(*args, evaluate=False), flipped


def handout_form(expr: sp.Expr, label: sp.Expr | None = None, label_first: bool = False) -> sp.Expr:
    """The shortest of ``expr`` and its factored form, with sums oriented and the sign pulled to the front."""
    expr = sp.sympify(expr)
    if expr.is_Atom:
        return expr
    candidates = [expr]
    try:
        candidates.append(sp.factor(sp.cancel(expr)))
    except sp.PolynomialError:
        pass
    best = min(candidates, key=lambda e: (sp.count_ops(e), candidates.index(e)))

    coefficient, factors = best.as_coeff_mul()
    numerator: list[sp.Expr] = []
    denominator: list[sp.Expr] = []
    for factor in factors:
        base, exponent = factor.as_base_exp()
        if not exponent.is_number:  # e^{z}: a power of e, kept as it is
            numerator.append(factor)
            continue
        if isinstance(base, sp.Add):
            base, flipped = orient_sum(base, label, label_first)
            if flipped and exponent.is_integer and exponent % 2 == 1:
                coefficient = -coefficient
        shaped = base if abs(exponent) == 1 else sp.Pow(base, abs(exponent), evaluate=False)
        (numerator if exponent.is_positive or not exponent.is_number else denominator).append(shaped)

    numerator.sort(key=lambda f: 1 if isinstance(f, sp.Add) else 0)
    magnitude, sign = abs(coefficient), (-1 if coefficient < 0 else 1)
    parts = ([magnitude] if magnitude != 1 else []) + numerator
    if denominator:
        parts.append(sp.Pow(product(*denominator), -1, evaluate=False))
    shaped_product = product(*parts) if parts else sp.S.One
    return negate(shaped_product) if sign < 0 else shaped_product


def substitute(expr: sp.Expr, mapping: dict[sp.Expr, sp.Expr]) -> sp.Expr:
    """Replace subexpressions without re-evaluating sums and products, so a handout form keeps its shape."""
    if expr in mapping:
        return mapping[expr]
    if not expr.args or isinstance(expr, (sp.Derivative, sp.Subs, sp.Sum)):
        return expr.xreplace(mapping) if expr.args else expr
    new_args = [substitute(arg, mapping) for arg in expr.args]
    if all(new is old for new, old in zip(new_args, expr.args, strict=True)):
        return expr
    if isinstance(expr, (sp.Add, sp.Mul, sp.Pow, sp.Function)):
        # not re-evaluated: SymPy's tanh (and others) would inspect the whole argument at every level
        # of a deep chain, and the handout's form keeps the shape it was written in
        return expr.func(*new_args, evaluate=False)
    return expr.func(*new_args)
