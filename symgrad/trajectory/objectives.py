"""Objectives of two variables: a SymPy expression, its gradient by differentiation, both as NumPy functions.

An exam question about gradient paths needs an objective f(x, y) whose
contours one can draw and whose gradient one can trust.  Here the gradient is
never a finite difference: SymPy differentiates the expression once, and
``lambdify`` turns value and gradient into vectorised NumPy functions that the
path generator, the checker and the plot all share, so the three cannot
disagree about what ∇f is.

The built-in objectives are

* ``chain``: the two-weight chain network's quadratic loss over (w₁, w₂),
  averaged over a small fixed data set.  The formula is not retyped: it is
  the model graph's loss written in inputs and parameters
  (``model.explicit(model.loss.symbol)``), with each sample's x and y*
  substituted;
* ``bowl``: a tilted, anisotropic quadratic bowl (the textbook picture where a
  large step zig-zags across the valley);
* ``bumps``: a sum of Gaussian bumps (several peaks, for gradient ascent).

A user's objective is LaTeX or plain infix text (``x^2 + 3y^2``,
``\\exp(-w_1^2) + w_2^2``) read by symgrad's safe parser
(:func:`symgrad.check.latex.parse_expression`): no ``eval``, no ``sympify`` of
text.  Its two free symbols are its variables.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from symgrad.errors import UsageError
from symgrad.model.functions import relu, sigmoid
from symgrad.model.graph import Partial
from symgrad.notation.latex import LatexParseError, parse_expression

#: (x_min, x_max, y_min, y_max)
Bounds = tuple[float, float, float, float]

#: Function names a user's objective may apply (``sin(x)`` then means the sine, not s·i·n·x).
OBJECTIVE_FUNCTIONS = frozenset({"exp", "ln", "log", "sin", "cos", "tanh", "sqrt", "sigma", "sigmoid", "relu", "ReLU"})
#: Undefined functions the parser leaves behind, and what they mean in an objective.
_FUNCTION_MEANINGS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "sigma": sigmoid,
    "sigmoid": sigmoid,
    "relu": relu,
    "ReLU": relu,
    "sqrt": sp.sqrt,
}
#: Constants that the parser reads as symbols: in an objective of two variables they are constants.
_CONSTANT_NAMES = {"pi": sp.pi, "e": sp.E}
#: The data set of the built-in ``chain`` objective: (x, y*) pairs.  The targets are those of a
#: "teacher" network with w₁ = 1.5, w₂ = −2 rounded to two decimals, so the loss has a clear
#: minimum near (1.5, −2) inside the default window, and a plateau where w₂ ≈ 0.
CHAIN_DATA: tuple[tuple[str, str], ...] = (("-2", "0.48"), ("-1", "0.41"), ("1", "0.16"), ("2", "0.13"))


def _np_sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) without overflow warnings: exp(−log(1 + e^{−z}))."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=float)))


def _np_relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(np.asarray(z, dtype=float), 0.0)


#: How lambdify evaluates symgrad's own functions; everything else is plain NumPy.
_MODULES = [{"sigmoid": _np_sigmoid, "relu": _np_relu}, "numpy"]


@dataclass(frozen=True, eq=False)
class Objective:
    """f(v₁, v₂) with its gradient, plus the defaults that make a good picture of it.

    ``value(x, y)`` and ``gradient(x, y)`` take arrays (any matching shapes) and
    return f and ∇f (the latter with a last axis of length 2).  ``name`` is
    what the user typed (a built-in name or the expression text), so that a
    CSV file can record it and the checker can rebuild the same objective.
    """

    name: str
    expression: sp.Expr
    variables: tuple[sp.Symbol, sp.Symbol]
    description: str
    bounds: Bounds = (-3.0, 3.0, -3.0, 3.0)
    starts: tuple[tuple[float, float], ...] = ((-2.4, 2.0),)
    steps: tuple[float, ...] = (0.1,)
    num_steps: int = 30
    _value: Callable[..., object] = field(init=False, repr=False)
    _gradient: tuple[Callable[..., object], Callable[..., object]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # lambdify prints SymPy to NumPy source; it never evaluates user text (the text was parsed safely).
        try:
            value = sp.lambdify(self.variables, self.expression, modules=_MODULES)
            gradient = tuple(sp.lambdify(self.variables, part, modules=_MODULES) for part in self.gradient_expressions)
        except Exception as error:  # noqa: BLE001 - SymPy's printers raise several kinds; the user gets one line
            reason = " ".join(str(error).split())[:120] or type(error).__name__
            raise UsageError(f"cannot compute the objective {self.name!r} or its gradient numerically "
                             f"({reason})") from None
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "_gradient", gradient)

    @functools.cached_property
    def gradient_expressions(self) -> tuple[sp.Expr, sp.Expr]:
        """(∂f/∂v₁, ∂f/∂v₂), by SymPy differentiation."""
        first, second = (sp.diff(self.expression, variable) for variable in self.variables)
        return first, second

    @property
    def variable_names(self) -> tuple[str, str]:
        return (self.variables[0].name, self.variables[1].name)

    def value(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
        """f at the points (x, y), broadcast like NumPy; non-finite where f is undefined."""
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        with np.errstate(all="ignore"):
            result = self._value(x, y)
        return _real(np.broadcast_to(np.asarray(result), x.shape))

    def gradient(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
        """∇f at the points (x, y), shape ``(*broadcast shape, 2)``; non-finite where f is not differentiable."""
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        with np.errstate(all="ignore"):
            parts = [np.broadcast_to(np.asarray(part(x, y)), x.shape) for part in self._gradient]
        return _real(np.stack(parts, axis=-1))

    def gradient_at(self, point: np.ndarray | tuple[float, float]) -> np.ndarray:
        """∇f at one point, shape (2,)."""
        point = np.asarray(point, dtype=float)
        return self.gradient(point[0], point[1])

    def latex(self) -> str:
        """f written in LaTeX (SymPy's printer), for titles."""
        return sp.latex(self.expression)

    def __repr__(self) -> str:
        return f"Objective({self.name!r}: {self.description})"


def _real(values: np.ndarray) -> np.ndarray:
    """Real values, with NaN where NumPy produced a complex one (√ or ln of a negative number)."""
    values = np.asarray(values)
    if np.iscomplexobj(values):
        values = np.where(np.abs(values.imag) > 0, np.nan, values.real)
    return values.astype(float, copy=False)


# ---- the built-in objectives ------------------------------------------------------------------------
def chain_objective() -> Objective:
    """The two-weight chain network's mean quadratic loss over (w₁, w₂) on :data:`CHAIN_DATA`.

    The per-sample loss comes from the model graph (``model.explicit(model.loss.symbol)``), the same
    expression that ``symgrad derive two-weight-chain`` differentiates, so the picture is of the
    network the handout derives, not of a retyped formula.
    """
    from symgrad.catalogue.models import derive_named

    model = derive_named("two-weight-chain").model
    loss = model.explicit(model.loss.symbol)
    (x,) = model.inputs
    weights = tuple(sorted(model.params, key=lambda symbol: _natural_key(symbol.name)))  # (w_1, w_2)
    samples = [loss.subs({x: sp.Rational(xi), model.label: sp.Rational(yi)}) for xi, yi in CHAIN_DATA]
    mean_loss = sp.Add(*samples) / len(samples)
    data = ", ".join(f"({xi},\u00a0{yi})" for xi, yi in CHAIN_DATA)  # no line break inside a pair
    return Objective(
        name="chain",
        expression=mean_loss,
        variables=(weights[0], weights[1]),
        description=f"two-weight chain network's loss: mean of ½(σ(w₂σ(w₁x)) − y*)² over (x, y*) = {data}",
        bounds=(-4.0, 4.0, -4.0, 4.0),
        starts=((0.0, 3.5), (-2.5, -3.5)),
        steps=(10.0, 100.0),
        num_steps=40,
    )


def bowl_objective() -> Objective:
    """f = x² + xy + 4y²: a tilted valley whose curvatures differ by a factor 4.4.

    Gradient descent is smooth for a step below 1/λ_max ≈ 0.12, zig-zags across the valley for a step
    between 0.12 and 2/λ_max ≈ 0.245, and diverges above that: the classic exam picture.
    """
    x, y = sp.symbols("x y")
    return Objective(
        name="bowl",
        expression=x**2 + x * y + 4 * y**2,
        variables=(x, y),
        description="quadratic bowl f(x, y) = x² + xy + 4y²",
        bounds=(-3.0, 3.0, -2.0, 2.0),
        starts=((-2.6, 1.6), (2.5, 1.2)),
        steps=(0.05, 0.2),
        num_steps=30,
    )


def bumps_objective() -> Objective:
    """A tilted elliptical hill, a round hill and a dip: ascent climbs the hill it starts on, and a large
    step zig-zags across the elliptical hill's narrow ridge before it settles on the top."""
    x, y = sp.symbols("x y")
    u, v = x - 1, y - 1
    ridge = 3 * sp.exp(-(u**2 - u * v + 2 * v**2) / 4)  # height 3 at (1, 1), long axis tilted
    hill = 2 * sp.exp(-((x + sp.Rational(3, 2)) ** 2 + (y + 1) ** 2) / 2)  # height 2 at (−1.5, −1)
    dip = sp.exp(-2 * ((x + 1) ** 2 + (y - 2) ** 2))  # depth 1 at (−1, 2)
    return Objective(
        name="bumps",
        expression=ridge + hill - dip,
        variables=(x, y),
        description="Gaussian bumps: a tilted hill of height 3 centred at (1, 1), "
        "a round one of height 2 at (−1.5, −1), a dip at (−1, 2)",
        bounds=(-3.5, 3.5, -3.0, 3.0),
        starts=((-3.0, 1.0), (2.8, -1.0), (0.5, 2.8)),
        steps=(0.1, 0.5),
        num_steps=30,
    )


BUILTIN_OBJECTIVES: dict[str, Callable[[], Objective]] = {
    "chain": chain_objective,
    "bowl": bowl_objective,
    "bumps": bumps_objective,
}
#: Other names a user may reasonably type for a built-in.
ALIASES = {"two-weight-chain": "chain", "quadratic": "bowl", "gaussians": "bumps"}


@functools.cache
def _builtin(name: str) -> Objective:
    return BUILTIN_OBJECTIVES[name]()


def objective(name_or_expression: str | Objective) -> Objective:
    """A built-in objective by name (``chain``, ``bowl``, ``bumps``), or one parsed from an expression.

    An expression must have exactly two free variables (``x^2 + 3y^2``, ``w_1^2 + w_1 w_2``); they are
    ordered by name (x before y, w_1 before w_2).  Raises :class:`~symgrad.errors.UsageError` with a
    one-line reason for anything else.
    """
    if isinstance(name_or_expression, Objective):
        return name_or_expression
    if not isinstance(name_or_expression, str):
        raise UsageError(f"an objective is a name or an expression, not {type(name_or_expression).__name__}")
    text = name_or_expression.strip()
    key = ALIASES.get(text.lower(), text.lower())
    if key in BUILTIN_OBJECTIVES:
        return _builtin(key)
    if re.fullmatch(r"[A-Za-z]{3,}(-[A-Za-z]+)*", text):  # 'chian', 'two-weight': a mistyped name, not x·y·z
        raise UsageError(
            f"unknown objective {text!r}; choose from {', '.join(BUILTIN_OBJECTIVES)}, "
            "or give an expression in two variables such as 'x^2 + 3y^2'"
        )
    return expression_objective(text)


def expression_objective(text: str) -> Objective:
    """The objective written in ``text`` (LaTeX or infix), parsed safely and checked to be usable."""
    if not text.strip():
        raise UsageError("the objective is empty; give a built-in name or an expression such as 'x^2 + 3y^2'")
    try:
        expression = parse_expression(text, OBJECTIVE_FUNCTIONS)
    except LatexParseError as error:
        raise UsageError(f"cannot read the objective {text!r}: {error}") from None
    expression = _resolve(expression, text)
    variables = sorted(expression.free_symbols, key=lambda symbol: _natural_key(symbol.name))
    if len(variables) != 2:
        found = ", ".join(symbol.name for symbol in variables) or "none"
        hint = ""
        if re.search(r"(?<![\\A-Za-z])[A-Za-z][0-9]", text):
            hint = "; write w_1 for a subscript (w1 reads as w·1)"
        elif re.search(r"(?<![\\A-Za-z])[A-Za-z]\s*\(", text) and len(variables) > 2:
            hint = "; f(x) reads as f·x: the functions are " + ", ".join(sorted(OBJECTIVE_FUNCTIONS - {"ReLU"}))
        elif re.search(r"(?<!\\)\b(tan|arctan|max|min|abs)\b", text):
            hint = "; supported functions are " + ", ".join(sorted(OBJECTIVE_FUNCTIONS - {"ReLU"}))
        raise UsageError(
            f"the objective {text!r} must have exactly two variables, found {len(variables)}: {found}{hint}"
        )
    # real variables: d|x|/dx is then sign(x), which NumPy computes, not a derivative of re(x)
    real = {symbol: sp.Symbol(symbol.name, real=True) for symbol in variables}
    expression = expression.xreplace(real)
    first, second = (real[symbol] for symbol in variables)
    return Objective(
        name=text, expression=expression, variables=(first, second), description=f"f({first}, {second}) = {text}"
    )


def _resolve(expression: sp.Expr, text: str) -> sp.Expr:
    """Give the parser's undefined functions and constant-like symbols their meaning; refuse what is not a function."""
    if not isinstance(expression, sp.Expr) or isinstance(expression, sp.MatrixBase):
        raise UsageError(f"the objective {text!r} is not a single expression")
    forbidden = (Partial, sp.Derivative, sp.Integral, sp.Sum, sp.Product, sp.Indexed, sp.IndexedBase, sp.Subs)
    if any(expression.has(kind) for kind in forbidden):
        raise UsageError(f"the objective {text!r} must be a plain expression (no derivatives, sums or indexed names)")
    replacements = {}
    for application in expression.atoms(AppliedUndef):
        name = type(application).__name__
        if name not in _FUNCTION_MEANINGS:
            supported = ", ".join(sorted(OBJECTIVE_FUNCTIONS - {"ReLU"}))
            raise UsageError(f"the objective {text!r} applies an unknown function {name}; supported: {supported}")
        replacements[application] = _FUNCTION_MEANINGS[name](*application.args)
    expression = expression.xreplace(replacements) if replacements else expression
    constants = {
        symbol: _CONSTANT_NAMES[symbol.name] for symbol in expression.free_symbols if symbol.name in _CONSTANT_NAMES
    }
    expression = expression.xreplace(constants) if constants else expression
    if expression.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise UsageError(f"the objective {text!r} is not finite (a division by zero?)")
    if expression.has(sp.I):
        raise UsageError(f"the objective {text!r} is complex; it must be real")
    return expression


def _natural_key(name: str) -> tuple[object, ...]:
    """Sort w_2 before w_10 and x before y."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))
