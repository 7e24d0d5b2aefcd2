"""The derivation data model: equations, steps, results.

A :class:`Derivation` is what every printer, the code generator and the
checker read.  Its equations are SymPy trees (handout-shaped, unevaluated
where order matters); :class:`DerivationBuilder` proves each one as it is
added, so a derivation that exists is a derivation that checks out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import sympy as sp

from .graph import Model
from .prove import ProofError, are_equal

#: A piece of a step's explanation: prose, or an expression to print inline.
Text = tuple[Union[str, sp.Expr], ...]

EQUALS = "="
ASSIGN = "<-"


@dataclass(frozen=True)
class Equation:
    """``lhs relation rhs[0] = rhs[1] = …``.

    With ``definition=True`` the first relation holds by definition (a forward
    pass, an update rule); every later ``=`` is still proven.
    """

    lhs: sp.Expr
    rhs: tuple[sp.Expr, ...]
    relation: str = EQUALS
    definition: bool = False

    def obligations(self) -> list[tuple[sp.Expr, sp.Expr]]:
        """The pairs of sides that must be proven equal: each ``=`` of the chain, but the first when it is a definition."""
        sides = list(self.rhs) if self.definition else [self.lhs, *self.rhs]
        return list(zip(sides, sides[1:]))


@dataclass(frozen=True)
class Step:
    title: Text
    explanation: Text
    equations: tuple[Equation, ...]


@dataclass(frozen=True)
class Result:
    """A final answer: ``lhs`` (a Partial or a parameter being updated) and its value.

    ``value`` is the canonical SymPy expression in forward-pass and input
    symbols; ``form`` is the same value shaped as the handout writes it.
    """

    name: str
    kind: str  # "gradient", "update" or "identity"
    lhs: sp.Expr
    value: sp.Expr
    form: sp.Expr
    relation: str = EQUALS


@dataclass
class Derivation:
    """An ordered, proven list of steps and the final results they lead to."""

    name: str
    title: str
    model: Model | None
    steps: list[Step] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    #: the command line that reproduces it, for the rendered documents (default: ``symgrad derive <name>``)
    command: str | None = None

    @property
    def reproduce(self) -> str:
        return self.command or f"symgrad derive {self.name}"

    def result(self, name: str) -> Result:
        for result in self.results:
            if result.name == name:
                return result
        known = ", ".join(r.name for r in self.results)
        raise KeyError(f"no result {name!r} in {self.name}; results: {known}")

    def gradient(self, param: sp.Expr) -> sp.Expr:
        """∂Loss/∂param, as a SymPy expression in forward-pass values."""
        for result in self.results:
            if result.kind == "gradient" and result.lhs.wrt == param:
                return result.value
        raise KeyError(f"{self.name} has no gradient for {param}")

    def _repr_latex_(self) -> str:
        from .render import to_latex

        return "$\\displaystyle " + to_latex(self, standalone=False, inline_only=True) + "$"

    def _repr_markdown_(self) -> str:
        from .render import to_markdown

        return to_markdown(self)


class DerivationBuilder:
    """Collects steps, proving every equation before it is accepted.

    ``verify=False`` skips the proofs: the steps are the same (they are built, not searched for),
    so a caller that only needs the results, such as code generation, can trust the derivation
    that ``symgrad derive`` and the test suite prove, and spend a tenth of the time.
    """

    def __init__(self, name: str, title: str, model: Model | None, verify: bool = True) -> None:
        self.derivation = Derivation(name=name, title=title, model=model)
        self.verify = verify

    def step(self, title: Text | str, explanation: Text | str, *equations: Equation) -> None:
        title = (title,) if isinstance(title, str) else tuple(title)
        for equation in equations if self.verify else ():
            self._prove(title, equation)
        explanation = (explanation,) if isinstance(explanation, str) else tuple(explanation)
        self.derivation.steps.append(Step(title, explanation, tuple(equations)))

    def result(self, result: Result) -> None:
        self.derivation.results.append(result)

    def build(self) -> Derivation:
        return self.derivation

    def _prove(self, title: Text, equation: Equation) -> None:
        model = self.derivation.model
        for left, right in equation.obligations():
            if not are_equal(model, left, right):
                heading = "".join(str(part) for part in title)
                raise ProofError(f"{self.derivation.name}: step {heading!r}: cannot prove {left} = {right}")
