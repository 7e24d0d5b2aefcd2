"""Judging one claim against a model's derivation.

A claim is ``lhs <relation> rhs``, already translated into the model's symbols.
What it is decides how it is judged:

* an update (``w ← w - α ∂Loss/∂w``): direction, step size, gradient;
* a product of node partials (``∂Loss/∂a_2 ∂a_2/∂z_2 …``): each factor an edge
  of the graph, consecutive factors linked, from the loss to the parameter;
* a node partial or a derivative: equal to the graph's value;
* anything else (a forward-pass definition, the composed loss): equal as values.

Equality is decided numerically at random points of the model's domain first
(that is also where a counterexample comes from) and then proven symbolically;
a wrong verdict says why in one sentence.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

from ..derivation import Derivation
from ..forms import handout_form, product
from ..graph import Partial
from ..numeric import Point, evaluate, random_point
from ..printing import printers_for
from ..prove import as_rational, to_elementary
from .vocabulary import STEP_NAMES

POINTS = 5
TOLERANCE = 1e-9


@dataclass
class Judgement:
    """The verdict on one claim (``verdict`` is "correct", "wrong" or "unrecognized")."""

    verdict: str
    kind: str
    reason: str = ""
    expected: str | None = None
    point: dict[str, float] | None = None
    values: tuple[float, float] | None = None


class Judge:
    """Judges claims about one derivation's model (None for the sigmoid identity, which has no graph)."""

    def __init__(self, derivation: Derivation, seed: int = 0) -> None:
        self.derivation = derivation
        self.model = derivation.model
        self.latex = printers_for(self.model)[0]
        self.rng = random.Random(seed)

    # -- numbers ---------------------------------------------------------------
    def _points(self, *exprs: sp.Expr) -> list[Point]:
        known = set(self._point_template().values) if self.model is not None else set()
        extra = tuple(sorted({s for e in exprs for s in e.free_symbols if isinstance(s, sp.Symbol)
                              and not s.is_integer and s not in known and self._is_free(s)}, key=str))
        return [random_point(self.model, self.rng, extra) for _ in range(POINTS)]

    def _point_template(self) -> Point:
        return random_point(self.model, random.Random(0))

    def _is_free(self, symbol: sp.Symbol) -> bool:
        return self.model is None or self.model.node(symbol) is None

    def _values(self, expr: sp.Expr, point: Point) -> complex:
        return complex(evaluate(self.model, expr, point))

    def differs(self, left: sp.Expr, right: sp.Expr) -> tuple[Point, complex, complex] | None:
        """A point where ``left`` and ``right`` differ, or None when they agree at every point tried."""
        for point in self._points(left, right):
            a, b = self._values(left, point), self._values(right, point)
            if abs(a - b) > TOLERANCE * max(1.0, abs(a), abs(b)):
                return point, a, b
        return None

    def proven(self, left: sp.Expr, right: sp.Expr) -> bool:
        """A symbolic proof of left = right by cancelling a rational form (no slow ``simplify``)."""
        explicit = self.model.explicit if self.model is not None else (lambda e: e)
        try:
            difference = to_elementary(explicit(left)) - to_elementary(explicit(right))
            return sp.cancel(sp.together(as_rational(difference))) == 0
        except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
            return False

    def show(self, expr: sp.Expr) -> str:
        return self.latex.doprint(expr)

    # -- verdicts --------------------------------------------------------------
    def judge(self, lhs: sp.Expr, rhs: sp.Expr, relation: str) -> Judgement:
        if relation == "<-" or self._looks_like_update(lhs, rhs):
            return self.judge_update(lhs, rhs)
        if isinstance(lhs, Partial) and self.model is not None:
            factors = _partial_factors(rhs)
            if factors is not None:
                return self.judge_chain(lhs, factors)
            return self.judge_partial(lhs, rhs)
        return self.judge_value(lhs, rhs, kind="identity" if self.model is None else "definition")

    def judge_value(self, lhs: sp.Expr, rhs: sp.Expr, kind: str, expected: sp.Expr | None = None) -> Judgement:
        shown = self.show(expected) if expected is not None else None
        counterexample = self.differs(lhs, rhs)
        if counterexample is None:
            note = "" if self.proven(lhs, rhs) else f"equal at {POINTS} random points (not proven symbolically)"
            return Judgement("correct", kind, note, expected=shown)
        point, claimed, true = counterexample[0], counterexample[2], counterexample[1]
        reason = self._why(lhs, rhs, kind)
        return Judgement("wrong", kind, reason, shown, point.describe(), (_real(claimed), _real(true)))

    def _why(self, lhs: sp.Expr, rhs: sp.Expr, kind: str) -> str:
        if self.differs(lhs, -rhs) is None:
            return "sign error: the right side is the negative of the correct value"
        if isinstance(lhs, Partial) and self.model is not None:
            node = self.model.node(lhs.of)
            if node is not None and lhs.of != self.model.loss.symbol and lhs.wrt not in self.model.direct_inputs(node):
                inputs = ", ".join(self.show(i) for i in self.model.direct_inputs(node))
                return (f"wrong denominator: {self.show(lhs.of)} is computed from {inputs}, not directly from "
                        f"{self.show(lhs.wrt)}")
            missing = self._missing_factor(lhs, rhs)
            if missing is not None:
                return f"a chain factor is missing: {self.show(missing)}"
        collision = self._collision(lhs, rhs)
        if collision:
            return collision
        return f"the right side is not equal to {self.show(lhs)}"

    def _missing_factor(self, lhs: Partial, rhs: sp.Expr) -> sp.Expr | None:
        """Whether rhs times one node partial of the chain would be right."""
        for path in self.model.paths(lhs.wrt) if lhs.of == self.model.loss.symbol else []:
            for of, wrt in path.edges:
                factor = Partial(of, wrt)
                if self.differs(lhs, rhs * factor) is None:
                    return self._local_form(factor)
        return None

    def _collision(self, lhs: sp.Expr, rhs: sp.Expr) -> str:
        """One symbol used for two quantities: swapping one occurrence of the label and the output fixes it."""
        if self.model is None:
            return ""
        label = self.model.label
        output = self.model.forward_nodes[-1].symbol if self.model.forward_nodes else None
        if output is None:
            return ""
        for a, b in ((label, output), (output, label)):
            for variant in _swap_one(rhs, a, b):
                if self.differs(lhs, variant) is None:
                    return (f"{self.show(a)} stands where {self.show(b)} belongs: the label {self.show(label)} "
                            f"and the output {self.show(output)} are two different quantities")
        return ""

    def _local_form(self, factor: Partial) -> sp.Expr:
        local = self.model.partial(factor.of, factor.wrt)
        return handout_form(self.model.in_forward_values(local), self.model.label, self.model.notation.label_first)

    def judge_partial(self, lhs: Partial, rhs: sp.Expr) -> Judgement:
        model = self.model
        node = model.node(lhs.of)
        is_edge = node is not None and lhs.wrt in model.direct_inputs(node)
        kind = "node partial" if is_edge and lhs.of != model.loss.symbol else "derivative"
        expected = self._local_form(lhs) if is_edge else self._gradient_form(lhs)
        return self.judge_value(lhs, rhs, kind, expected)

    def _gradient_form(self, lhs: Partial) -> sp.Expr:
        for result in self.derivation.results:
            if result.kind == "gradient" and result.lhs == lhs:
                return result.form
        return self._local_form(lhs)

    def judge_chain(self, lhs: Partial, factors: list[Partial]) -> Judgement:
        """A product of node partials: every factor an edge, each linked to the next, loss to parameter."""
        model = self.model
        expected_chain = self._expected_chain(lhs)
        shown = self.show(expected_chain) if expected_chain is not None else None
        if factors[0].of != lhs.of:
            return Judgement("wrong", "chain rule", f"the chain must start at {self.show(lhs.of)}, not at "
                             f"{self.show(factors[0].of)}", shown)
        for position, factor in enumerate(factors, 1):
            node = model.node(factor.of)
            inputs = model.direct_inputs(node) if node is not None else []
            if factor.wrt in inputs or (node is not None and model.node_depends_on(node, factor.wrt)):
                continue  # an edge; or ∂L/∂z, a stretch of the chain taken in one step, still a link of it
            what = (f"{self.show(factor.of)} is computed from {', '.join(self.show(i) for i in inputs)}"
                    if inputs else f"{self.show(factor.of)} is not a node of the graph")
            return Judgement("wrong", "chain rule", f"wrong node in factor {position}: {self.show(factor)} is "
                             f"not a node partial, since {what}", shown)
        for position, (factor, following) in enumerate(zip(factors, factors[1:]), 1):
            if following.of != factor.wrt:
                return Judgement("wrong", "chain rule", f"broken link after factor {position}: {self.show(factor)} "
                                 f"is followed by {self.show(following)}, but the next factor must be a partial of "
                                 f"{self.show(factor.wrt)} (a chain factor is missing)", shown)
        if factors[-1].wrt != lhs.wrt:
            return Judgement("wrong", "chain rule", f"the chain ends at {self.show(factors[-1].wrt)} but must reach "
                             f"{self.show(lhs.wrt)} (a chain factor is missing)", shown)
        return Judgement("correct", "chain rule", expected=shown)

    def _expected_chain(self, lhs: Partial) -> sp.Expr | None:
        paths = self.model.paths(lhs.wrt) if self.model.node(lhs.of) is not None else []
        if len(paths) != 1:
            return None
        path = paths[0]
        if path.quantities[0] != lhs.of:
            return None
        chain = product(*(Partial(u, v) for u, v in path.edges))
        for limit in reversed(path.sums):
            chain = sp.Sum(chain, limit)
        return chain

    # -- updates ---------------------------------------------------------------
    def _looks_like_update(self, lhs: sp.Expr, rhs: sp.Expr) -> bool:
        if self.model is None:
            return False
        parameters = set(self.model.params) | set(self.model.vector_forms.values())
        return lhs in parameters and rhs.has(lhs)

    def judge_update(self, lhs: sp.Expr, rhs: sp.Expr) -> Judgement:
        model = self.model
        if model is None or (lhs not in model.params and lhs not in model.vector_forms.values()):
            return Judgement("unrecognized", "update", f"{self.show(lhs)} is not a parameter of this model")
        gradient = Partial(model.loss.symbol, lhs)
        alpha = model.step_size
        expected = self._expected_update(lhs)
        shown = self.show(expected)
        step = sp.expand(rhs - lhs)
        foreign = sorted((s for s in step.free_symbols if isinstance(s, sp.Symbol) and self._is_step_name(s)
                          and s != alpha), key=str)
        if foreign and not step.has(alpha):
            return Judgement("wrong", "update", f"wrong step size: the step size here is {self.show(alpha)}, not "
                             f"{self.show(foreign[0])}", shown)
        if self.differs(step, -alpha * gradient) is None:
            return Judgement("correct", "update", expected=shown)
        if self.differs(step, alpha * gradient) is None:
            return Judgement("wrong", "update", "wrong direction: it adds the gradient (gradient ascent); descent on "
                             "a loss subtracts it", shown)
        for factor in (2, sp.Rational(1, 2), -1):
            if factor != -1 and self.differs(step, -factor * alpha * gradient) is None:
                return Judgement("wrong", "update", f"wrong step size: the step is {self.show(factor * alpha)} times "
                                 f"the gradient, not {self.show(alpha)}", shown)
        judgement = self.judge_value(lhs - alpha * gradient, rhs, "update", expected)
        judgement.reason = "the gradient in the update is wrong: " + (judgement.reason or "")
        return judgement

    def _is_step_name(self, symbol: sp.Symbol) -> bool:
        return symbol.name in STEP_NAMES

    def _expected_update(self, param: sp.Expr) -> sp.Expr:
        for result in self.derivation.results:
            if result.kind == "update" and result.lhs == param:
                return result.form
        return param - self.model.step_size * Partial(self.model.loss.symbol, param)


def _partial_factors(expr: sp.Expr) -> list[Partial] | None:
    """The factors of a product made only of node partials, in written order; None otherwise."""
    if isinstance(expr, Partial):
        return [expr]
    if isinstance(expr, sp.Mul) and all(isinstance(a, Partial) for a in expr.args):
        return list(expr.args)
    return None


def _swap_one(expr: sp.Expr, old: sp.Expr, new: sp.Expr, most: int = 6):
    """Every variant of ``expr`` with some (not all, unless there is one) occurrences of ``old`` made ``new``."""
    count = sum(1 for e in sp.preorder_traversal(expr) if e == old)
    if count == 0 or count > most:
        return
    for chosen in range(1, 2**count):
        if chosen == 2**count - 1 and count > 1:
            continue  # renaming every occurrence is a different notation, not a collision
        position = {"seen": -1}

        def replace(e: sp.Expr) -> sp.Expr:
            if e == old:
                position["seen"] += 1
                return new if chosen >> position["seen"] & 1 else e
            if not e.args:
                return e
            return e.func(*(replace(a) for a in e.args))

        yield replace(expr)


def _real(value: complex) -> float:
    return float(value.real) if abs(value.imag) < 1e-12 else float("nan")
