"""SymPy's NumPy printer, extended for symgrad's functions and batched nodes.

New functions enter through ``_print_X`` methods, as in ``sympy/printing/numpy.py``.  The sigmoid
is printed as s(z) = e^{min(z, 0)} / (1 + e^{-|z|}): both exponents are ≤ 0, so nothing overflows
(1/(1 + e^{-z}) overflows at z = -1000), and for z < 0 it is e^z/(1 + e^z), which keeps full
relative precision in the small tail, where 0.5 + 0.5·tanh(z/2) rounds s(-40) ≈ 4e-18 to 0 and
the gradients (a2 - y)·a2·… would lose all their digits.  It is also fast: five cheap ufunc passes,
about 2.5 ns an element in float64 against about 20 ns for the earlier exp(-logaddexp(0, -z)).
Every NumPy name is written ``np.…``.

With ``sums=True`` the batch reductions print as sums over the samples (``np.sum(…)``, ``c @ X``)
rather than means: the generated code adds those up block by block and divides once at the end.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE

from .nodes import FeatureMean, Item, MatVec, SampleMean


class SymgradNumPyPrinter(NumPyPrinter):
    """Prints one expression as NumPy code; ``stable_forms`` lists the stable rewrites it used."""

    def __init__(self, sums: bool = False) -> None:
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False, "strict": True})
        self.stable_forms: list[str] = []
        self.sums = sums

    def doprint(self, expr: sp.Expr, assign_to: object = None) -> str:  # noqa: D102
        self.stable_forms = []
        return super().doprint(expr, assign_to)

    def _module_format(self, fqn: str, register: bool = True) -> str:
        name = super()._module_format(fqn, register)
        return "np." + name[len("numpy."):] if name.startswith("numpy.") else name

    def _np(self, name: str) -> str:
        return self._module_format("numpy." + name)

    # ---- symgrad's activations ----------------------------------------
    def _print_sigmoid(self, expr: sp.Expr) -> str:
        self.stable_forms.append("sigmoid")
        z = self._print(expr.args[0])
        exp, minimum, absolute = self._np("exp"), self._np("minimum"), self._np("abs")
        # np.divide rather than "/": a call, so it needs no parentheses inside a product or a quotient.
        return f"{self._np('divide')}({exp}({minimum}({z}, 0)), 1 + {exp}(-{absolute}({z})))"

    def _print_relu(self, expr: sp.Expr) -> str:
        return f"{self._np('maximum')}(0, {self._print(expr.args[0])})"

    def _print_softplus(self, expr: sp.Expr) -> str:
        """ln(1 + e^u) as logaddexp(0, u), which cannot overflow."""
        return f"{self._np('logaddexp')}(0, {self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sp.Expr) -> str:
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"{self._np('heaviside')}({self._print(expr.args[0])}, {self._print(at_zero)})"

    # ---- numbers -------------------------------------------------------
    def _print_Rational(self, expr: sp.Rational) -> str:
        """½ as ``0.5`` when the decimal is exact; a Python float keeps float32 arrays float32."""
        value = float(expr)
        if sp.Rational(value) == expr:
            return repr(value)
        return f"{expr.p}/{expr.q}"

    _print_Half = _print_Rational

    def _print_Mul(self, expr: sp.Mul) -> str:
        """``0.5*(a2 - y)**2`` rather than SymPy's ``(1/2)*…``."""
        coefficient, rest = expr.as_coeff_Mul()
        if coefficient.is_Rational and not coefficient.is_Integer and sp.Rational(float(coefficient)) == coefficient:
            sign = "-" if coefficient < 0 else ""
            return f"{sign}{float(abs(coefficient))!r}*{self.parenthesize(rest, PRECEDENCE['Mul'])}"
        return super()._print_Mul(expr)

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        """Positive terms first, as the handouts write them: ``w - lr*g``, ``y - h``."""
        terms = self._as_ordered_terms(expr, order=order)
        terms = sorted(terms, key=lambda term: term.could_extract_minus_sign())
        return super()._print_Add(sp.Add(*terms, evaluate=False), order="none")

    # ---- batched nodes (nodes.py) --------------------------------------
    def _print_MatVec(self, expr: MatVec) -> str:
        matrix, vector = expr.args
        return f"{self._print(matrix)} @ {self.parenthesize(vector, PRECEDENCE['Mul'], strict=True)}"

    def _print_SampleMean(self, expr: SampleMean) -> str:
        return f"{self._np('sum' if self.sums else 'mean')}({self._print(expr.args[0])})"

    def _print_FeatureMean(self, expr: FeatureMean) -> str:
        matrix, coefficient = expr.args
        shown = self._print(coefficient)
        if not coefficient.is_Atom:
            shown = f"({shown})"
        data = self._print(matrix)
        if self.sums:  # Σ_n c_n·x_n as a vector-matrix product: one BLAS pass over the rows
            return f"{shown} @ {data}"
        return f"{data}.T @ {shown} / len({data})"

    def _print_Item(self, expr: Item) -> str:
        container, key = expr.args
        return f'{self._print(container)}["{key.name}"]'
