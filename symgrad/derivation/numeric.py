"""Numbers behind the symbols: random points in a model's domain, and evaluating a claim there.

The checker decides equality symbolically, but a numeric check at random points
backs every verdict and supplies the counterexample a "wrong" verdict shows.
Points are drawn from each quantity's domain: labels in {0, 1}, step sizes in
(0, 1), inputs and parameters in (-2, 2).  A model with a symbolic feature
count k is evaluated at k = 3, and a free index j at each of 1..3.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from symgrad.derivation.prove import to_elementary
from symgrad.model.graph import Model, derivative_as_subs

CONCRETE_SIZE = 3
PRECISION = 30


@dataclass(frozen=True)
class Point:
    """Values for a model's independent quantities (and the free index), as SymPy Floats."""

    values: dict[sp.Expr, sp.Expr]
    index: int

    def describe(self) -> dict[str, float]:
        """The point for people: ``{"w_1": 0.3, …}``."""
        return {str(k): float(v) for k, v in sorted(self.values.items(), key=lambda kv: str(kv[0]))}


def independent_quantities(model: Model) -> list[sp.Expr]:
    """Inputs, label, parameters and step size; indexed ones expanded to components 1..k."""
    quantities: list[sp.Expr] = []
    for quantity in [*model.inputs, *model.params]:
        if isinstance(quantity, sp.Indexed):
            quantities += [quantity.base[i] for i in range(1, CONCRETE_SIZE + 1)]
        else:
            quantities.append(quantity)
    return quantities


def random_point(model: Model | None, rng: random.Random, extra: tuple[sp.Symbol, ...] = ()) -> Point:
    """A point in the model's domain; ``extra`` symbols (a foreign step size, say) get step-size values."""
    values: dict[sp.Expr, sp.Expr] = {}
    if model is not None:
        for quantity in independent_quantities(model):
            values[quantity] = sp.Float(rng.uniform(-2, 2), PRECISION)
        values[model.label] = sp.Integer(rng.choice([0, 1]))
        values[model.step_size] = sp.Float(rng.uniform(0.05, 1), PRECISION)
    for symbol in extra:
        values.setdefault(symbol, sp.Float(rng.uniform(0.05, 1), PRECISION))
    return Point(values, rng.randint(1, CONCRETE_SIZE))


def concrete(expr: sp.Expr, index: int) -> sp.Expr:
    """Give symbolic sizes (k) and free indices (j) numbers, and carry out the now-finite sums."""
    sizes = {}
    for symbol in expr.free_symbols:
        if isinstance(symbol, sp.Symbol) and symbol.is_integer:
            # SymPy integers, not ints: an expression that is only a size (the claim "p = k") becomes a number
            # that still has .doit()
            sizes[symbol] = sp.Integer(CONCRETE_SIZE if symbol.name in ("k", "m", "n", "C") else index)
    return expr.xreplace(sizes).doit() if sizes else expr


def stand_in(application: AppliedUndef) -> sp.Expr:
    """A fixed smooth function in place of an abstract one (g_1, Loss), so abstract claims have values too.

    Two sides that agree for every g agree for this one; two that differ almost surely differ here.
    """
    coefficients = random.Random(zlib.crc32(type(application).__name__.encode()))
    total = sp.S.Zero
    for argument in application.args:
        c, d, e = (sp.Rational(coefficients.randint(3, 17), 10) for _ in range(3))
        total += sp.tanh(c * argument + d) + e * argument**2 / 3
    if len(application.args) > 1:
        total += sp.Mul(*application.args) / 2
    return total


def _by_symbols(derivative: sp.Derivative) -> sp.Expr:
    """∂f/∂g(u) as Subs(∂f/∂t, t, g(u)): a derivative by a function value, ready for g to get a stand-in."""
    if all(isinstance(v, (sp.Symbol, sp.Indexed)) for v in derivative.variables):
        return derivative
    return derivative_as_subs(derivative)


def evaluate(model: Model | None, expr: sp.Expr, point: Point) -> sp.Expr:
    """``expr`` (a claim side, in the model's symbols) as a number at ``point``."""
    explicit = model.explicit(expr) if model is not None else expr
    explicit = explicit.replace(lambda e: isinstance(e, sp.Derivative), _by_symbols)
    explicit = explicit.replace(lambda e: isinstance(e, AppliedUndef), stand_in)
    elementary = to_elementary(explicit)  # derivatives are carried out first: relu' is the Heaviside step
    elementary = elementary.rewrite(sp.Max)  # relu as max(0, z) (its own rewrite), a number at last
    number = concrete(elementary, point.index).xreplace(point.values)
    return sp.N(number.doit(), PRECISION)

