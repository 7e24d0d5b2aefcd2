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

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import sympy as sp

from symgrad.check.layers import Layers, agree, as_number
from symgrad.check.mistakes import name_the_mistake, writes_minus_one
from symgrad.check.vocabulary import STEP_NAMES
from symgrad.derivation.forms import handout_form, product
from symgrad.derivation.identity import Unsupported, sides_agree
from symgrad.derivation.numeric import Point, evaluate, random_point
from symgrad.derivation.prove import as_rational, to_elementary
from symgrad.derivation.steps import Derivation
from symgrad.model.graph import Partial
from symgrad.rendering.printing import printers_for

POINTS = 5
#: What SymPy makes of 1/0 and \log 0 (zoo), of 0/0, ∞ - ∞ and 0·∞ (nan), and of \infty: no side of a true
#: claim about these models is any of them.
NOT_FINITE = {
    sp.zoo: "divides by zero (or takes the logarithm of 0)",
    sp.nan: "is undefined (0/0, ∞ - ∞ or 0·∞)",
    sp.oo: "is infinite",
    -sp.oo: "is infinite",
}


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
        self.layers = Layers(self.model, self.rng) if self.model is not None and self.model.index_ranges else None
        self._field: dict[tuple[sp.Expr, sp.Expr], bool] = {}
        self.written = ""  # the claim's right side as the key wrote it, for mistakes seen only in writing
        self.conditions: tuple[sp.Basic, ...] = ()  # the claim's side conditions on its indices (l ≠ j)

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

    def _values(self, expr: sp.Expr, point: Point) -> sp.Expr:
        return evaluate(self.model, expr, point)

    def differs(self, left: sp.Expr, right: sp.Expr) -> tuple[Point, sp.Expr, sp.Expr] | None:
        """A point where ``left`` and ``right`` differ, or None when they agree at every point tried.

        Exact evaluation in a prime field settles equal sides at once (``derivation/identity.py``); only sides it cannot
        show equal are evaluated at random points of the model's domain, for the counterexample to report."""
        if self.equal_in_the_field(left, right):
            return None
        if self.layers is not None:
            return self.layers.differs(left, right, self.conditions)
        for point in self._points(left, right):
            a, b = self._values(left, point), self._values(right, point)
            if not agree(a, b):
                return point, a, b
        return None

    def equal_in_the_field(self, left: sp.Expr, right: sp.Expr) -> bool:
        """Whether the sides are equal by exact evaluation at random points of a prime field (remembered)."""
        key = (left, right, self.conditions)
        if key not in self._field:
            try:
                self._field[key] = sides_agree(self.model, left, right, conditions=self.conditions)
            except (Unsupported, TypeError, ValueError, ZeroDivisionError, RecursionError):
                self._field[key] = False
        return self._field[key]

    def proven(self, left: sp.Expr, right: sp.Expr) -> bool:
        """A proof of left = right: in the prime field, else by cancelling a rational form (no slow ``simplify``)."""
        if self.equal_in_the_field(left, right):
            return True
        if self.layers is not None:
            return self.layers.proven(left, right)
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
            chain = _chain(rhs)
            if chain is not None:
                return self.judge_chain(lhs, *chain)
            return self.judge_partial(lhs, rhs)
        return self.judge_value(lhs, rhs, kind="identity" if self.model is None else "definition")

    def given_value(self, quantity: sp.Expr) -> Judgement:
        """The verdict on ``η = 0.1``, ``N = 100``, ``x_1 = 2`` or ``a_2 = 0.62``: a number the key wrote for a
        quantity sets up or works through an example; as an identity over every input it would be wrong for all
        values but one, and so would mark a key wrong for naming its step size.  Formulas are what symgrad checks."""
        computed = isinstance(quantity, (Partial, sp.Derivative)) or self.model is not None and (
            self.model.node(quantity) is not None or quantity == self.model.loss.symbol)
        if computed:
            reason = (f"a number for {self.show(quantity)}, a value worked out at inputs the key chose: "
                      "symgrad checks formulas, not worked examples")
        else:
            reason = f"a value given to {self.show(quantity)}: it sets up an example and claims nothing to check"
        return Judgement("unrecognized", "value", reason)

    def judge_value(self, lhs: sp.Expr, rhs: sp.Expr, kind: str,
                    expected: sp.Expr | Callable[[], sp.Expr] | None = None) -> Judgement:
        """``lhs = rhs`` as values.  ``expected`` (the correct answer in the handout's shape, or what makes it: a
        form costs a symbolic partial) is worked out only for a wrong claim, which shows it and is named by it."""
        unbounded = _not_finite(lhs, rhs)
        if unbounded:
            expected = expected() if callable(expected) else expected
            return Judgement("wrong", kind, unbounded, expected=self.show(expected) if expected is not None else None)
        counterexample = self.differs(lhs, rhs)
        if counterexample is None:
            note = "" if self.proven(lhs, rhs) else f"equal at {POINTS} random points (not proven symbolically)"
            return Judgement("correct", kind, note)
        expected = expected() if callable(expected) else expected
        shown = self.show(expected) if expected is not None else None
        point, claimed, true = counterexample[0], counterexample[2], counterexample[1]
        reason = _not_finite_at_point(true, claimed) or self._why(lhs, rhs, kind, expected) + _beyond_floats(
            true, claimed)
        return Judgement("wrong", kind, reason, shown, self._point_of(point.describe(), lhs, rhs),
                         (_real(claimed), _real(true)))

    def _point_of(self, point: dict[str, float], lhs: sp.Expr, rhs: sp.Expr) -> dict[str, float]:
        """The point where the sides differ, as far as the claim reads it: the quantities it uses, directly or
        through its nodes (not the step size of a claim about a gradient, nor an input it never reads)."""
        try:
            explicit = self.model.explicit(lhs - rhs) if self.model is not None else lhs - rhs
        except Exception:  # noqa: BLE001 - a claim the model cannot write out: show the whole point
            return point
        names = {str(s) for s in explicit.free_symbols} | {str(a.base) for a in explicit.atoms(sp.Indexed)}
        kept = {key: value for key, value in point.items()
                if key.split("[")[0] in names or key in names or (self.model is not None and key in map(
                    str, self.model.index_ranges))}
        return kept or point

    def _why(self, lhs: sp.Expr, rhs: sp.Expr, kind: str, expected: sp.Expr | None = None) -> str:
        stray = self._stray_index(lhs, rhs)
        if stray:
            return stray
        if expected is not None and self.equal_in_the_field(-expected, rhs) and not writes_minus_one(self.written):
            return "sign error: the right side is the negative of the correct value"
        collision = self._collision(lhs, rhs)  # the label for the output: a mistake of its own name
        if collision:
            return collision
        if expected is not None and self.model is not None:
            named = name_the_mistake(self.model, expected, rhs, self.equal_in_the_field, self.show, self.written, lhs)
            if named:
                return named
        if self.differs(lhs, -rhs) is None:
            return "sign error: the right side is the negative of the correct value"
        if isinstance(lhs, Partial) and self.model is not None:
            node = self.model.node(lhs.of)
            direct = self.model.direct_inputs(node) if node is not None else []
            if node is not None and lhs.of != self.model.loss.symbol and not _among(lhs.wrt, direct):
                inputs = ", ".join(self.show(i) for i in direct)
                return (f"wrong denominator: {self.show(lhs.of)} is computed from {inputs}, not directly from "
                        f"{self.show(lhs.wrt)}")
            missing = self._missing_factor(lhs, rhs)
            if missing is not None:
                return f"a chain factor is missing: {self.show(missing)}"
        collision = self._collision(lhs, rhs)
        if collision:
            return collision
        return f"the right side is not equal to {self.show(lhs)}"

    def _stray_index(self, lhs: sp.Expr, rhs: sp.Expr) -> str:
        """A unit index free on the right but not on the left: ∂L/∂b = (p - y) v_j … lacks its Σ_j."""
        if self.model is None or not self.model.index_ranges:
            return ""
        stray = sorted((s for s in rhs.free_symbols - lhs.free_symbols if s in self.model.index_ranges), key=str)
        for index in stray:
            low, high = self.model.index_ranges[index]
            total = sp.Sum(rhs, (index, low, high))
            if self.differs(lhs, total) is None:
                return (f"the sum over the units is missing: the right side still depends on the unit index "
                        f"{self.show(index)}, but {self.show(lhs)} collects from every unit; it needs "
                        f"{self.show(total)}")
        if stray:
            return (f"the right side depends on the unit index {self.show(stray[0])}, which {self.show(lhs)} does "
                    f"not have: a sum over the units is missing, or the index is wrong")
        return ""

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
        is_edge = node is not None and _among(lhs.wrt, model.direct_inputs(node))
        kind = "node partial" if is_edge and lhs.of != model.loss.symbol else "derivative"
        return self.judge_value(lhs, rhs, kind, lambda: self._local_form(lhs) if is_edge else self._gradient_form(lhs))

    def _gradient_form(self, lhs: Partial) -> sp.Expr:
        for result in self.derivation.results:
            if result.kind == "gradient" and result.lhs == lhs:
                return result.form
        for result in self.derivation.results:  # ∂L/∂w_jk for the model's ∂L/∂w_ik: the same, under the claim's indices
            wrt = result.lhs.wrt if result.kind == "gradient" and isinstance(result.lhs, Partial) else None
            if (isinstance(wrt, sp.Indexed) and isinstance(lhs.wrt, sp.Indexed) and wrt.base == lhs.wrt.base
                    and len(wrt.indices) == len(lhs.wrt.indices) and result.lhs.of == lhs.of):
                return result.form.xreplace(dict(zip(wrt.indices, lhs.wrt.indices, strict=True)))
        return self._local_form(lhs)

    def judge_chain(self, lhs: Partial, factors: list[Partial], sums: tuple = ()) -> Judgement:
        """A product of node partials (under sums over units): every factor an edge, each linked to the next,
        loss to parameter, summed over every layer of units that all depend on the quantity below."""
        model = self.model
        expected_chain = self._expected_chain(lhs)
        shown = self.show(expected_chain) if expected_chain is not None else None
        if factors[0].of != lhs.of:
            return Judgement("wrong", "chain rule", f"the chain must start at {self.show(lhs.of)}, not at "
                             f"{self.show(factors[0].of)}", shown)
        for position, factor in enumerate(factors, 1):
            node = model.node(factor.of)
            inputs = model.direct_inputs(node) if node is not None else []
            if _among(factor.wrt, inputs) or (node is not None and model.node_depends_on(node, factor.wrt)):
                continue  # an edge; or ∂L/∂z, a stretch of the chain taken in one step, still a link of it
            what = (f"{self.show(factor.of)} is computed from {', '.join(self.show(i) for i in inputs)}"
                    if inputs else f"{self.show(factor.of)} is not a node of the graph")
            return Judgement("wrong", "chain rule", f"wrong node in factor {position}: {self.show(factor)} is "
                             f"not a node partial, since {what}", shown)
        factors = self._with_unit_factors(lhs, factors)
        for position, (factor, following) in enumerate(zip(factors, factors[1:], strict=False), 1):
            if following.of != factor.wrt:
                return Judgement("wrong", "chain rule", f"broken link after factor {position}: {self.show(factor)} "
                                 f"is followed by {self.show(following)}, but the next factor must be a partial of "
                                 f"{self.show(factor.wrt)} (a chain factor is missing)", shown)
        if factors[-1].wrt != lhs.wrt:
            return Judgement("wrong", "chain rule", f"the chain ends at {self.show(factors[-1].wrt)} but must reach "
                             f"{self.show(lhs.wrt)} (a chain factor is missing)", shown)
        if model.index_ranges or sums:
            problem = self._sums_of_chain(lhs, factors, sums)
            if problem:
                return Judgement("wrong", "chain rule", problem, shown)
        return Judgement("correct", "chain rule", expected=shown)

    def _with_unit_factors(self, lhs: Partial, factors: list[Partial]) -> list[Partial]:
        """The chain with each factor it leaves out because it is 1 put back (∂L/∂b = ∂L/∂z for z = w x + b is
        ∂L/∂z · ∂z/∂b), so that its links and its sums over units are checked as a whole chain."""
        whole = [factors[0]]
        for following in factors[1:]:
            if following.of != whole[-1].wrt and self._is_one(whole[-1].wrt, following.of):
                whole.append(Partial(whole[-1].wrt, following.of))
            whole.append(following)
        if whole[-1].wrt != lhs.wrt and self._is_one(whole[-1].wrt, lhs.wrt):
            whole.append(Partial(whole[-1].wrt, lhs.wrt))
        return whole

    def _is_one(self, of: sp.Expr, wrt: sp.Expr) -> bool:
        """Whether ∂of/∂wrt is 1 (∂z/∂b for z = w x + b): a chain may leave such a factor out, as keys do in
        ∂L/∂b = δ = ∂L/∂z.  Only for quantities of the graph; any doubt keeps the factor required."""
        model = self.model
        node = model.node(of) if model is not None and of != wrt else None
        if node is None or not _among(wrt, model.direct_inputs(node)):
            return False  # only an edge of the graph may be left out: a longer stretch is no factor of 1
        try:
            return sp.simplify(model.partial(of, wrt) - 1) == 0
        except Exception:  # noqa: BLE001 - a partial SymPy cannot take is no proof that the factor is 1
            return False

    def _sums_of_chain(self, lhs: Partial, factors: list[Partial], sums: tuple) -> str:
        """Why the units and sums of a chain do not follow a path of the graph ("" when they do).

        A path's summed index (l in Σ_l ∂L/∂p_l ∂p_l/∂z_j …) may be written with any letter, as long as
        the claim sums over that letter; written as a free index (p_j) it is a single path through one unit.
        """
        claimed = (factors[0].of, *(f.wrt for f in factors))
        summed = {limit[0]: limit for limit in sums}
        paths = [p for p in self.model.paths(lhs.wrt) if len(p.quantities) == len(claimed)]
        if not paths and any(not _among(factor.wrt, self.model.direct_inputs(self.model.node(factor.of)))
                             for factor in factors if self.model.node(factor.of) is not None):
            return ""  # a stretch taken in one step (∂E/∂q past ŷ): its sums are the value check's to judge
        missing = None
        for path in paths:
            renaming = _unify(path.quantities, claimed, {limit[0] for limit in path.sums})
            if renaming is None:
                continue
            unsummed = [(limit, renaming.get(limit[0])) for limit in path.sums
                        if tuple(summed.get(renaming.get(limit[0]), ())[1:]) != tuple(limit[1:])]
            if not unsummed:
                extra = set(summed) - {renaming.get(limit[0]) for limit in path.sums}
                if extra:
                    return (f"the chain sums over {', '.join(sorted(map(str, extra)))}, but no layer of units "
                            f"along it needs a sum there")
                return ""
            missing = missing or (path, unsummed)
        if missing is None:
            return ("the units in the chain do not follow the graph: no path from the loss to "
                    f"{self.show(lhs.wrt)} goes through them")
        path, unsummed = missing
        (index, low, high), written = unsummed[0]
        position = max(n for n, q in enumerate(path.quantities) if index in q.free_symbols)  # the layer read
        every, below = path.quantities[position], path.quantities[position + 1]
        single = every.xreplace({index: written}) if written is not None else every
        return (f"the sum over the units is missing: every {self.show(every)} depends on {self.show(below)}, so the "
                f"chain must run through all of them and sum over {self.show(index)} from {self.show(low)} to "
                f"{self.show(high)}, not follow the single unit {self.show(single)}")

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
        if model is None or (lhs not in model.params and lhs not in model.vector_forms.values()
                             and not _a_unit_of(lhs, model.params)):
            return Judgement("unrecognized", "update", f"{self.show(lhs)} is not a parameter of this model")
        gradient = Partial(model.loss.symbol, lhs)
        alpha = model.step_size
        expected = self._expected_update(lhs)
        shown = self.show(expected)
        unbounded = _not_finite(lhs, rhs)
        if unbounded:
            return Judgement("wrong", "update", unbounded, shown)
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


def _chain(expr: sp.Expr) -> tuple[list[Partial], tuple] | None:
    """A chain-rule product, possibly under sums (Σ_l ∂L/∂p_l ∂p_l/∂z_j …): its factors and the sums' limits."""
    limits: tuple = ()
    while isinstance(expr, sp.Sum):
        limits += tuple(tuple(limit) for limit in expr.limits)
        expr = expr.function
    factors = _partial_factors(expr)
    return None if factors is None else (factors, limits)


def _a_unit_of(quantity: sp.Expr, params: tuple[sp.Expr, ...]) -> bool:
    """w_j for a model whose parameter is written w_i: the same layer under another free index."""
    return isinstance(quantity, sp.Indexed) and any(isinstance(p, sp.Indexed) and p.base == quantity.base
                                                    and len(p.indices) == len(quantity.indices) for p in params)


def _among(quantity: sp.Expr, quantities: list[sp.Expr]) -> bool:
    """Whether ``quantity`` is one of ``quantities``, a unit of a layer (h_l) counting as its layer (h_j)."""
    layer = quantity.base if isinstance(quantity, sp.Indexed) else None
    return any(q == quantity or (isinstance(q, sp.Indexed) and q.base == layer) for q in quantities)


def _unify(pattern: tuple, claimed: tuple, variables: set) -> dict | None:
    """A renaming of ``variables`` (a path's summed indices) that makes ``pattern`` the ``claimed`` quantities."""
    renaming: dict = {}
    for want, got in zip(pattern, claimed, strict=False):
        if isinstance(want, sp.Indexed) != isinstance(got, sp.Indexed):
            return None
        if not isinstance(want, sp.Indexed):
            if want != got:
                return None
            continue
        if want.base != got.base or len(want.indices) != len(got.indices):
            return None
        for a, b in zip(want.indices, got.indices, strict=False):
            if a in variables:
                if renaming.setdefault(a, b) != b:
                    return None
            elif a != b:
                return None
    return renaming


def _swap_one(expr: sp.Expr, old: sp.Expr, new: sp.Expr, most: int = 6):
    """Every variant of ``expr`` with some (not all, unless there is one) occurrences of ``old`` made ``new``."""
    count = sum(1 for e in sp.preorder_traversal(expr) if e == old)
    if count == 0 or count > most:
        return
    for chosen in range(1, 2**count):
        if chosen == 2**count - 1 and count > 1:
            continue  # renaming every occurrence is a different notation, not a collision
        yield _replace_chosen(expr, old, new, chosen, {"seen": -1})


def _replace_chosen(expr: sp.Expr, old: sp.Expr, new: sp.Expr, chosen: int, position: dict) -> sp.Expr:
    """``expr`` with the occurrences of ``old`` whose bit is set in ``chosen`` (in preorder) made ``new``."""
    if expr == old:
        position["seen"] += 1
        return new if chosen >> position["seen"] & 1 else expr
    if not expr.args:
        return expr
    return expr.func(*(_replace_chosen(a, old, new, chosen, position) for a in expr.args))


def _not_finite(lhs: sp.Expr, rhs: sp.Expr) -> str:
    """Why a side has no finite value, as SymPy has already worked out ("" when both may have one).

    A sum's limits are not looked at: only what is added up must be finite.
    """
    for side, expr in (("left", lhs), ("right", rhs)):
        pending = [expr]
        while pending:
            part = pending.pop()
            if part in NOT_FINITE:
                return f"the {side} side {NOT_FINITE[part]}, so it is not a finite value"
            pending.extend([part.function] if isinstance(part, (sp.Sum, sp.Product)) else part.args)
    return ""


def _not_finite_at_point(left: sp.Expr, right: sp.Expr) -> str:
    """Why a side's number is no number (a division by zero once the model's quantities are put in), or ""."""
    for side, value in (("left", left), ("right", right)):
        if as_number(value) is None:
            return f"the {side} side has no finite value at this point: it divides by zero or is undefined there"
    return ""


def _beyond_floats(left: sp.Expr, right: sp.Expr) -> str:
    """A note on a side too large for a float (2^{5000}): the report's figure for it is inf, but it is a number,
    and nothing divides by zero."""
    for side, value in (("left", left), ("right", right)):
        number = as_number(value)
        if number is not None and not math.isfinite(abs(complex(number))):
            return f" (at this point the {side} side is about {mpmath.nstr(abs(number), 3)}, too large for a float)"
    return ""


def _real(value: sp.Expr) -> float:
    """A side's number for the report: nan when it is none or not real, inf when too large for a float."""
    number = as_number(value)
    if number is None or abs(number.imag) >= 1e-12:
        return float("nan")
    return float(number.real)
