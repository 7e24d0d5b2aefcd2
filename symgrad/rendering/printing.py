"""SymPy printers that write a model in its handout's notation.

They extend SymPy's own LaTeX and string printers through ``_print_X``
methods (the way ``sympy/printing/numpy.py`` does), rather than building
strings: ``Partial`` prints as ∂u/∂v (or du/dv, or ∇), a one-argument
derivative as g'(z), and the sigmoid under the name the handout uses.
Printers keep the order of unevaluated products (``order='none'``), which
is how chain-rule factors stay in chain order.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter, greek_letters_set, tex_greek_dictionary
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from symgrad.model.graph import Model, Notation, Partial

_GREEK_TEXT = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "eta": "η", "sigma": "σ", "nabla": "∇",
    "partial": "∂", "leftarrow": "←", "cdot": "·",
}


def latex_to_text(latex: str) -> str:
    """A terminal rendering of a short LaTeX name: ``y^{*}`` → ``y*``, ``\\mathbf{x}`` → ``x``, ``\\gamma`` → ``γ``."""
    text = re.sub(r"\\(?:mathbf|mathrm|operatorname)\{([^{}]*)\}", r"\1", latex)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _GREEK_TEXT.get(m.group(1), m.group(1)), text)
    text = text.replace("^{*}", "*").replace("^*", "*")
    text = re.sub(r"_\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"_([A-Za-z0-9])", r"\1", text)
    return text.replace("{", "").replace("}", "")


_LATEX_FUNCTION_NAMES = {
    "sigmoid": r"\sigma", "relu": r"\operatorname{ReLU}", "tanh": r"\tanh", "softplus": r"\operatorname{softplus}",
}
_TEXT_FUNCTION_NAMES = {"sigmoid": "σ", "relu": "ReLU", "tanh": "tanh", "softplus": "softplus"}


#: Names that LaTeX writes as commands of their own (\\gamma, \\ln): never set upright as a word.
_LATEX_WORDS = set(greek_letters_set) | set(tex_greek_dictionary) | {"ell", "hbar", "nabla", "partial"}


def is_word(name: str) -> bool:
    """Whether a symbol's name is a word (``Loss``, ``lr``), which a textbook sets upright (\\mathrm{Loss}) rather
    than as a product of italic letters; a single letter, a Greek letter or a name with a sub- or superscript
    (a_1, y^*) is not."""
    return len(name) > 1 and name.isascii() and name.isalpha() and name not in _LATEX_WORDS


class HandoutLatexPrinter(LatexPrinter):
    """LaTeX in a model's handout notation.

    ``chains`` are the unevaluated products that are chain-rule products: their factors are set apart by
    ``\\cdot`` (``(a_2 - y^*) \\cdot a_2 (1 - a_2) \\cdot w_2``), where juxtaposed they would run together
    (w₂a₁(1−a₁)x).  Other products stay juxtaposed, as a textbook writes x w_1.
    """

    def __init__(self, notation: Notation | None = None, vectors: frozenset = frozenset(),
                 chains: frozenset = frozenset(), inline: bool = False) -> None:
        self.notation = notation or Notation()
        self.vectors = vectors
        self.chains = chains
        self.inline = inline
        symbol_names = {s: name for s, name in self.notation.symbols.items() if isinstance(s, sp.Symbol)}
        super().__init__({"order": "none", "ln_notation": True, "symbol_names": symbol_names,
                          "fold_short_frac": inline})

    def inline_printer(self) -> HandoutLatexPrinter:
        """The same notation for math inside a line of prose or a heading, where a textbook writes ∂Loss/∂a₂ and
        1/u with a slash: a \\frac there is set in small type, squeezed between the lines."""
        return HandoutLatexPrinter(self.notation, self.vectors, self.chains, inline=True)

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        if expr not in self._settings["symbol_names"] and is_word(expr.name):
            return rf"\mathrm{{{expr.name}}}"
        return super()._print_Symbol(expr, style)

    def _function_name(self, name: str) -> str:
        if name in self.notation.functions:
            return self.notation.functions[name]
        if name in _LATEX_FUNCTION_NAMES:
            return _LATEX_FUNCTION_NAMES[name]
        return self._print(sp.Symbol(name))

    def _print_Mul(self, expr: sp.Mul) -> str:
        first = expr.args[0]
        if expr in self.chains and first != -1:
            return r" \cdot ".join(self._factor(arg, i) for i, arg in enumerate(expr.args))
        if first.is_Rational and not first.is_Integer and abs(first.p) == 1 and len(expr.args) > 1:
            # ½(a - y)², as the handouts write it, rather than (a - y)²/2
            rest = sp.Mul(*expr.args[1:], evaluate=False) if len(expr.args) > 2 else expr.args[1]
            sign = "- " if first.p < 0 else ""
            return rf"{sign}\frac{{1}}{{{first.q}}} {self.parenthesize(rest, PRECEDENCE['Mul'])}"
        if first == -1 and len(expr.args) > 1:
            rest = sp.Mul(*expr.args[1:], evaluate=False) if len(expr.args) > 2 else expr.args[1]
            body = self._print(rest)
            return f"-{self._add_parens(body)}" if isinstance(rest, sp.Add) else f"- {body}"
        if _is_product_of_fractions(expr):
            return r" \cdot ".join(self._factor(arg, i) for i, arg in enumerate(expr.args))
        return super()._print_Mul(expr)

    def _factor(self, arg: sp.Expr, position: int) -> str:
        text = self._print(arg)
        if isinstance(arg, sp.Add) or (position > 0 and text.startswith("-")):
            return self._add_parens(text)
        return text

    def _print_Function(self, expr: sp.Expr, exp: str | None = None) -> str:
        name = type(expr).__name__
        if name in self.notation.functions or isinstance(expr, sp.core.function.AppliedUndef):
            text = self._call(self._function_name(name), expr.args)
            return rf"{text}^{{{exp}}}" if exp else text
        return super()._print_Function(expr, exp)

    def _print_sigmoid(self, expr: sp.Expr, exp: str | None = None) -> str:
        return self._apply(self._function_name("sigmoid"), expr, exp)

    def _print_relu(self, expr: sp.Expr, exp: str | None = None) -> str:
        return self._apply(self._function_name("relu"), expr, exp)

    def _print_softplus(self, expr: sp.Expr, exp: str | None = None) -> str:
        return self._apply(self._function_name("softplus"), expr, exp)

    def _print_Heaviside(self, expr: sp.Expr, exp: str | None = None) -> str:
        text = rf"\mathbb{{1}}\left[{self._print(expr.args[0])} > 0\right]"
        return rf"{text}^{{{exp}}}" if exp else text

    def _apply(self, name: str, expr: sp.Expr, exp: str | None) -> str:
        text = self._call(name, expr.args)
        return rf"{text}^{{{exp}}}" if exp else text

    def _call(self, name: str, args: tuple[sp.Expr, ...]) -> str:
        """``g_1(z_1)`` with plain parentheses; ``\\left(…\\right)`` only around tall arguments."""
        return name + self._add_parens(", ".join(self._print(a) for a in args))

    def doprint(self, expr: sp.Expr) -> str:
        return tight_parentheses(super().doprint(expr))

    def _add_parens(self, s: str) -> str:
        """(…) as a textbook sets it: plain parentheses, which sit close, a₂(1 − a₂) and −(y − h); ``\\left(…\\right)``,
        which SymPy uses everywhere and which adds space around them, only where they must grow around a tall
        fraction or sum."""
        if any(tall in s for tall in _TALL):
            return rf"\left({s}\right)"
        return f"({s})"

    def _print_log(self, expr: sp.Expr, exp: str | None = None) -> str:
        """``\\ln a_2`` and ``\\ln h(\\mathbf{x})`` as textbooks write them; parentheses only around a sum or a
        product, ``\\ln(1 - a_2)``."""
        argument = expr.args[0]
        inside = self._print(argument)
        single = argument.is_Atom or isinstance(argument, (sp.Indexed, sp.Function))
        text = rf"\ln {inside}" if single and not exp else r"\ln" + self._add_parens(inside)
        return rf"{text}^{{{exp}}}" if exp else text

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        inner, variables = expr.expr, expr.variables
        d = self.notation.partial
        space = " " if d.startswith("\\") else ""
        if len(variables) == 1 and isinstance(inner, sp.Function) and variables[0] in inner.args:
            name = self._function_name(type(inner).__name__)
            if len(inner.args) == 1:
                return self._call(f"{name}'", variables)  # g_1'(z_1)
            return self._fraction(f"{d}{space}{name}", f"{d}{space}{self._print(variables[0])}")  # ∂Loss/∂a_2
        denominator = " ".join(rf"{d}{space}{self._variable(v)}" for v in variables)
        body = self._print(inner)
        if self.inline:  # d(1/u)/du
            return f"{d}({body})/{denominator}"
        if not (inner.is_Atom or isinstance(inner, (sp.Function, sp.Sum, sp.Pow))):
            body = self._add_brackets(body)
        return rf"\frac{{{d}}}{{{denominator}}} {body}"

    def _add_brackets(self, s: str) -> str:
        """[…] around what is differentiated when it holds parentheses of its own: a textbook's outer bracket,
        d/dh [-(y ln h + …)], so that it is not one more pair among them; else (…), ∂/∂w_2 (a_1 w_2)."""
        if "(" not in s:
            return self._add_parens(s)
        return rf"\left[{s}\right]" if any(tall in s for tall in _TALL) else f"[{s}]"

    def _print_Pow(self, expr: sp.Pow) -> str:
        if self.inline and expr.exp.is_Integer and expr.exp < 0:  # 1/u^2 in a line of prose
            below = expr.base if expr.exp == -1 else sp.Pow(expr.base, -expr.exp, evaluate=False)
            return f"1/{self.parenthesize(below, PRECEDENCE['Mul'])}"
        return super()._print_Pow(expr)

    def _fraction(self, numerator: str, denominator: str) -> str:
        """numerator/denominator: a \\frac in a display, a slash in a line of prose."""
        return f"{numerator}/{denominator}" if self.inline else rf"\frac{{{numerator}}}{{{denominator}}}"

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        indices = "".join(self._print(i) for i in expr.indices)
        return f"{self._print(expr.base.label)}_{{{indices}}}"  # w_{j}, where SymPy writes {w}_{j}

    def _print_Partial(self, expr: Partial) -> str:
        if expr.wrt in self.vectors:
            return rf"\nabla_{{{self._print(expr.wrt)}}} {self._print(expr.of)}"
        d = self.notation.partial
        space = " " if d.startswith("\\") else ""
        return self._fraction(f"{d}{space}{self._variable(expr.of)}", f"{d}{space}{self._variable(expr.wrt)}")

    def _variable(self, expr: sp.Expr) -> str:
        """A quantity as the variable of a derivative: dh, not dh(\\mathbf{x}); but ∂σ(z) stays whole."""
        text = self._print(expr)
        name = text.split("(")[0]
        return name if len(name) == 1 else text


class HandoutTextPrinter(StrPrinter):
    """Plain Unicode text in a model's handout notation, for terminals."""

    printmethod = "_handout_text"  # not "_sympystr": Indexed would print itself as w[j]

    def doprint(self, expr: sp.Expr) -> str:
        return super().doprint(expr).replace("**", "^")

    def __init__(self, notation: Notation | None = None, vectors: frozenset = frozenset(),
                 chains: frozenset = frozenset()) -> None:
        super().__init__({"order": "none"})
        self.notation = notation or Notation()
        self.vectors = vectors
        self.chains = chains

    def _print_Equality(self, expr: sp.Eq) -> str:
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        if expr in self.notation.symbols:
            return latex_to_text(self.notation.symbols[expr])
        return latex_to_text(sp.latex(expr))

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        return f"{expr.base}_{''.join(str(i) for i in expr.indices)}"

    def _print_KroneckerDelta(self, expr: sp.KroneckerDelta) -> str:
        return f"δ_{''.join(self._print(i) for i in expr.args)}"

    def _function_name(self, name: str) -> str:
        if name in self.notation.functions:
            return latex_to_text(self.notation.functions[name])
        return _TEXT_FUNCTION_NAMES.get(name, latex_to_text(name))

    def _print_Function(self, expr: sp.Expr) -> str:
        return f"{self._function_name(type(expr).__name__)}({', '.join(self._print(a) for a in expr.args)})"

    _print_sigmoid = _print_relu = _print_tanh = _print_softplus = _print_Function

    def _print_log(self, expr: sp.Expr) -> str:
        return f"ln({self._print(expr.args[0])})"

    def _print_Sum(self, expr: sp.Sum) -> str:
        signs = " ".join(f"Σ_{self._print(i)}={self._print(low)}..{self._print(high)}"
                         for i, low, high in reversed(expr.limits))
        return f"{signs} {self._print(expr.function)}"  # SymPy lists the innermost limit first

    def _print_Mul(self, expr: sp.Mul) -> str:
        """Factors joined by '·' (a '*' would run into the label's star: y*·ln(a))."""
        args = list(expr.args)
        if expr in self.chains and args[0] != -1:  # a fraction in a chain keeps to itself: -(1/u^2)·d/dγ (u)
            return "·".join(self._chain_factor(arg) for arg in args)
        if args and args[0].is_number and args[0] < 0:
            rest = sp.Mul(-args[0], *args[1:], evaluate=False) if args[0] != -1 else (
                sp.Mul(*args[1:], evaluate=False) if len(args) > 2 else args[1])
            return "-" + self.parenthesize(rest, PRECEDENCE["Mul"], strict=True)
        if _is_product_of_fractions(expr):
            parts = [self._print(a) for a in args]

            def kept(i: int, a: sp.Expr, p: str) -> str:
                if i == 0 and not isinstance(a, sp.Add):
                    return p
                return f"({p})" if isinstance(a, sp.Add) or p.startswith("-") or "/" in p else p

            return "·".join(kept(i, a, p) for i, (a, p) in enumerate(zip(args, parts, strict=True)))
        args = _flat_factors(expr)
        numerator = [a for a in args if not (isinstance(a, sp.Pow) and a.exp.is_number and a.exp < 0)]
        denominator = [sp.Pow(a.base, -a.exp) for a in args if a not in numerator]
        text = "·".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=True) for a in numerator) or "1"
        if denominator:
            below = "·".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=True) for a in denominator)
            grouped = len(denominator) > 1 or isinstance(denominator[0], sp.Mul)
            text += "/" + (f"({below})" if grouped else below)
        return text

    def _chain_factor(self, arg: sp.Expr) -> str:
        """One factor of a chain: in parentheses when it is a sum, starts with a sign or is a fraction of its own
        (a partial such as ∂Loss/∂a2 reads as one factor without them)."""
        text = self._print(arg)
        fraction = isinstance(arg, (sp.Pow, sp.Mul)) and "/" in text
        return f"({text})" if isinstance(arg, sp.Add) or text.startswith("-") or fraction else text

    def _print_Heaviside(self, expr: sp.Expr) -> str:
        return f"1[{self._print(expr.args[0])} > 0]"

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        inner, variables = expr.expr, expr.variables
        d = latex_to_text(self.notation.partial)
        if len(variables) == 1 and isinstance(inner, sp.Function) and variables[0] in inner.args:
            name = self._function_name(type(inner).__name__)
            if len(inner.args) == 1:
                return f"{name}'({self._print(variables[0])})"
            return f"{d}{name}/{d}{self._print(variables[0])}"
        return f"{d}/{d}{self._print(variables[0])} ({self._print(inner)})"

    def _print_Partial(self, expr: Partial) -> str:
        if expr.wrt in self.vectors:
            return f"∇_{self._print(expr.wrt)} {self._print(expr.of)}"
        d = latex_to_text(self.notation.partial)
        return f"{d}{self._print(expr.of)}/{d}{self._print(expr.wrt)}"


#: What makes a formula tall, so that parentheses around it must grow (``\\left(…\\right)``).
_TALL = (r"\frac", r"\sum", r"\prod", r"\left", r"\binom", r"\dfrac")
#: An innermost ``\\left( … \\right)`` or ``\\left[ … \\right]``: no other \\left or \\right inside.
_INNERMOST_GROWING = re.compile(r"\\left([(\[])((?:(?!\\left[(\[]|\\right[)\]]).)*)\\right([)\]])", re.S)


def tight_parentheses(latex: str) -> str:
    """``latex`` with each ``\\left(…\\right)`` (or ``[…]``) around a formula that is not tall written plain, innermost
    first.  SymPy writes \\left( everywhere; it puts space around the parentheses, a₂ (1 − a₂), where a textbook
    sets a₂(1 − a₂), and it is needed only where the parentheses must grow around a fraction or a sum."""
    while True:
        tightened = _INNERMOST_GROWING.sub(
            lambda m: m.group(0) if any(t in m.group(2) for t in _TALL) else m.group(1) + m.group(2) + m.group(3),
            latex)
        if tightened == latex:
            return latex
        latex = tightened


def _has_denominator(expr: sp.Expr) -> bool:
    if isinstance(expr, sp.Pow):
        return expr.exp.is_number and expr.exp < 0
    if isinstance(expr, sp.Mul):
        return any(_has_denominator(a) for a in expr.args)
    return False


def _is_product_of_fractions(expr: sp.Mul) -> bool:
    """An unevaluated product (it nests products) in which some factor is a fraction: print it factor by factor,
    so that ``1/(1+e^{-γ}) · e^{-γ}/(1+e^{-γ})`` is not merged into one fraction."""
    return any(isinstance(a, sp.Mul) for a in expr.args) and any(_has_denominator(a) for a in expr.args)


def _flat_factors(expr: sp.Mul) -> list[sp.Expr]:
    """The factors of a (possibly nested, unevaluated) product, in order; a leading sign stays first."""
    factors: list[sp.Expr] = []
    for arg in expr.args:
        if isinstance(arg, sp.Mul) and not (arg.args[0].is_number and arg.args[0] < 0):
            factors.extend(_flat_factors(arg))
        else:
            factors.append(arg)
    return factors


def printers_for(model: Model | None, chains: frozenset = frozenset(), notation: Notation | None = None
                 ) -> tuple[HandoutLatexPrinter, HandoutTextPrinter]:
    """The LaTeX and text printers for ``model``'s notation (defaults when there is no model, or ``notation``),
    with ``chains`` the chain-rule products to set apart factor by factor (see :class:`HandoutLatexPrinter`)."""
    if model is None:
        notation, vectors = notation or Notation(functions={"sigmoid": "s"}), frozenset()
    else:
        notation, vectors = model.notation, frozenset(model.vector_forms.values())
    return HandoutLatexPrinter(notation, vectors, chains), HandoutTextPrinter(notation, vectors, chains)
