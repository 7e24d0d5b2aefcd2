"""The derivation data model: equations, steps, results.

A :class:`Derivation` is what every printer, the code generator and the
checker read.  Its equations are SymPy trees (handout-shaped, unevaluated
where order matters); :class:`DerivationBuilder` proves each one as it is
added, so a derivation that exists is a derivation that checks out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import sympy as sp

from symgrad.derivation.prove import ProofError, are_equal
from symgrad.model.graph import Model, UnknownName, name_key

#: A piece of a step's explanation: prose, or an expression to print inline.
Text = tuple[str | sp.Expr, ...]

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
        """The pairs of sides that must be proven equal: each ``=`` of the chain, but the first when it is a
        definition."""
        sides = list(self.rhs) if self.definition else [self.lhs, *self.rhs]
        return list(zip(sides, sides[1:], strict=False))


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
    #: the model whose notation prints it (set by :class:`DerivationBuilder`), and the products in it to print
    #: as chains; neither is part of what the result *is*
    model: Model | None = field(default=None, compare=False, repr=False)
    chains: frozenset = field(default=frozenset(), compare=False, repr=False)

    def __str__(self) -> str:
        """The result as the handout writes it, factors in chain order: ``∂Loss/∂w2 = (a2 - y*)·a2·(1 - a2)·a1``
        (SymPy's own printing would sort them: ``a_1*a_2*(1 - a_2)*(a_2 - y^*)``)."""
        from symgrad.rendering.render import result_text

        return result_text(self)

    def __repr__(self) -> str:
        return f"<Result {self.name}: {self}>"

    @property
    def latex(self) -> str:
        """The result as one LaTeX equation, in the handout's notation."""
        from symgrad.rendering.render import result_latex

        return result_latex(self)

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex}$"


@dataclass
class Derivation:
    """An ordered, proven list of steps and the final results they lead to.

    ``str(derivation)`` is its text rendering, ``repr`` one line; in Jupyter it shows itself as Markdown.
    """

    name: str
    title: str
    model: Model | None
    steps: list[Step] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    #: the command line that reproduces it, when its model's does not say (a model file's, a catalogue variant's,
    #: the sigmoid identity's); see :attr:`reproduce`
    command: str | None = None
    #: the products that are chain-rule products, printed with a dot between their factors
    chains: frozenset = field(default=frozenset(), repr=False, compare=False)

    @property
    def reproduce(self) -> str | None:
        """The command that prints this derivation again, with every option it was derived with
        (``symgrad derive two-weight-chain --loss cross-entropy``): the one it was given (a model file's, a
        catalogue variant's), or its model's (the catalogue's); None for a model built in Python
        (:class:`~symgrad.ModelBuilder`, or a :class:`~symgrad.Model` made by hand), which no command knows."""
        if self.command is not None:
            return self.command
        return self.model.command if self.model is not None else None

    def __repr__(self) -> str:
        """One line: what was derived, how, and how long it is (the dataclass's own repr ran to 4,756 characters)."""
        how = self.reproduce
        origin = how.removeprefix("symgrad derive ") if how else f"{self.name}, built in Python"
        return f"<Derivation {origin}: {len(self.steps)} steps, {len(self.results)} results>"

    def __str__(self) -> str:
        from symgrad.rendering.render import render

        return render(self, "text")

    def result(self, name: str | sp.Expr) -> Result:
        """The result called ``name`` (``"dLoss/dw_1"``, ``"update_w_1"``), or the gradient for the parameter
        ``name`` names (``"w1"``, ``"w_1"``, the symbol itself).  It prints in chain order (``print(result)``)."""
        for result in self.results:
            if isinstance(name, str) and result.name == name:
                return result
        try:
            param = self._quantity(name)
        except UnknownName:
            param = None
        for result in self.results:
            if param is not None and result.kind == "gradient" and result.lhs.wrt == param:
                return result
        known = ", ".join(r.name for r in self.results)
        raise UnknownName(f"no result {str(name)!r} in {self.name}; results: {known}")

    def gradient(self, param: str | sp.Expr) -> sp.Expr:
        """∂Loss/∂param as a SymPy expression in forward-pass values, for further algebra.  ``param`` is the
        parameter or its name: ``gradient(w1)``, ``gradient("w1")`` and ``gradient("w_1")`` are the same.  To
        print it as the handout does, print :meth:`result` instead."""
        wanted = self._quantity(param)
        for result in self.results:
            if result.kind == "gradient" and result.lhs.wrt == wanted:
                return result.value
        having = ", ".join(str(r.lhs.wrt) for r in self.results if r.kind == "gradient")
        raise UnknownName(f"{self.name} has no gradient for {param}; it has gradients for {having or 'nothing'}")

    def _quantity(self, name: str | sp.Expr) -> sp.Expr:
        """``name`` as the model's quantity; a SymPy expression is taken as it is."""
        if not isinstance(name, str):
            return name
        if self.model is None:
            raise UnknownName(f"{self.name} has no model, so no quantity {name!r}")
        vectors = {name_key(str(v)): v for v in self.model.vector_forms.values()}
        return vectors.get(name_key(name)) or self.model[name]

    def _repr_latex_(self) -> str:
        from symgrad.rendering.render import to_latex

        return "$\\displaystyle " + to_latex(self, standalone=False, inline_only=True) + "$"

    def _repr_markdown_(self) -> str:
        from symgrad.rendering.render import to_markdown

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
        self.derivation.results.append(replace(result, model=self.derivation.model))

    def chain(self, product: sp.Expr) -> sp.Expr:
        """Mark ``product`` as a chain-rule product (printed with a dot between its factors); returns it."""
        self.derivation.chains = self.derivation.chains | {product}
        return product

    def build(self) -> Derivation:
        chains = self.derivation.chains
        self.derivation.results = [replace(r, chains=chains) for r in self.derivation.results]
        return self.derivation

    def _prove(self, title: Text, equation: Equation) -> None:
        model = self.derivation.model
        for left, right in equation.obligations():
            if not are_equal(model, left, right):
                heading = "".join(str(part) for part in title)
                raise ProofError(f"{self.derivation.name}: step {heading!r}: cannot prove {left} = {right}")
