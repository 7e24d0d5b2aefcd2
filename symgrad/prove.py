"""Proving that two sides of an equation are equal, from the definitions alone.

Both sides are written out down to the model's inputs and parameters, every
sigmoid is rewritten as 1/(1 + e^{-x}) *before* anything is differentiated (so
no proof leans on the derivative identities stored in ``functions.py``), and
the difference must reduce to zero.

Reducing to zero is done on a rational function: each exponential e^{±u}
becomes a fresh symbol t_u (or 1/t_u), innermost first, and each surviving sum
Σ_i w_i x_i becomes one opaque symbol; then ``cancel`` decides.  This is fast
and exact; ``simplify`` is kept only as the last resort.
"""

from __future__ import annotations

import sympy as sp

from .functions import sigmoid, softplus
from .graph import Model, drop_index_range


class ProofError(ValueError):
    """An equation that a derivation wanted to state could not be proven."""


def to_elementary(expr: sp.Expr) -> sp.Expr:
    """Rewrite symgrad's named functions into elementary ones and carry out derivatives."""
    elementary = expr.replace(lambda e: isinstance(e, sigmoid), lambda e: 1 / (1 + sp.exp(-e.args[0])))
    elementary = elementary.replace(lambda e: isinstance(e, softplus), lambda e: sp.log(1 + sp.exp(e.args[0])))
    # Carry out derivatives only: a blanket doit() would also try to evaluate Σ_i w_i x_i in closed form.
    elementary = elementary.replace(
        lambda e: isinstance(e, (sp.Derivative, sp.Subs)), lambda e: e.doit(deep=not e.has(sp.Sum))
    )
    elementary = elementary.replace(lambda e: isinstance(e, sp.Sum) and e.has(sp.KroneckerDelta), lambda e: e.doit())
    return drop_index_range(elementary)


def as_rational(expr: sp.Expr) -> sp.Expr:
    """``expr`` with sums and exponentials replaced by symbols, so that it is a rational function."""
    expr = expr.xreplace({s: sp.Dummy("sum") for s in expr.atoms(sp.Sum)})
    exponent_symbols: dict[sp.Expr, sp.Dummy] = {}
    while True:
        innermost = [e for e in expr.atoms(sp.exp) if not e.args[0].has(sp.exp)]
        if not innermost:
            return expr
        replacements = {}
        for power in innermost:
            exponent = power.args[0]
            negative = exponent.could_extract_minus_sign()
            key = -exponent if negative else exponent
            symbol = exponent_symbols.setdefault(key, sp.Dummy("t", positive=True))
            replacements[power] = 1 / symbol if negative else symbol
        expr = expr.xreplace(replacements)


def is_zero(expr: sp.Expr) -> bool:
    """Whether ``expr`` is identically zero."""
    if expr == 0:
        return True
    if sp.cancel(sp.together(as_rational(expr))) == 0:
        return True
    return sp.simplify(expr) == 0


def are_equal(model: Model | None, lhs: sp.Expr, rhs: sp.Expr) -> bool:
    """Whether ``lhs`` and ``rhs`` are equal once written out in the model's inputs and parameters."""
    if model is not None:
        lhs, rhs = model.explicit(lhs), model.explicit(rhs)
    return is_zero(to_elementary(lhs) - to_elementary(rhs))
