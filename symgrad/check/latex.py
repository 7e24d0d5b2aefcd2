r"""A small, safe parser for the LaTeX in answer keys: one expression or relation in, SymPy objects out.

Answer keys are untrusted text, so nothing here evaluates text: no ``eval``, no
``sympify`` of strings, and not ``sympy.parsing.latex`` (it needs a pinned ANTLR
runtime and silently drops what it does not understand).  :func:`tokenize`
turns the text into tokens; :class:`_Parser` climbs the precedence levels
(relation, sum, product, sign, power, primary), one method each, and builds
SymPy objects directly.

Names follow symgrad's models exactly (``w_2``, ``y^*``, ``\mathbf{x}``,
``Loss``, the indexed ``w_j``), so a parsed claim compares with a derivation
without renaming.  A written derivative ∂u/∂v becomes a
:class:`~symgrad.graph.Partial`, which never cancels against its neighbours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import sympy as sp

from ..graph import Partial

MAX_LENGTH = 20_000
#: A level of nesting costs up to nine Python frames; 50 levels (far beyond any answer key) stay well inside
#: Python's default recursion limit of 1000 even when the caller is itself deep.
MAX_DEPTH = 50
#: The most digits of a number in a key, written out or computed (2^{50000} has 15,052): Python writes no
#: integer of more than 4,300 digits, so a bigger one could not even be shown in a reason.
MAX_DIGITS = 4_000
#: 10^{10^{10}} must fail at once rather than compute a ten-billion-digit number; this many bits is MAX_DIGITS.
MAX_POWER_BITS = 13_000
#: The most bits of a number that raises a variable (x^{2^{50000}}) or is given to exp: evaluating such a power
#: exactly takes mpmath seconds at 5,000 bits and minutes beyond, and no formula in a key needs 2^64.
MAX_EXPONENT_BITS = 64
#: SymPy factors the base of a fractional power; a root of a 4000-digit number takes it half a minute.
MAX_ROOT_BITS = 256

#: Multi-letter names that a run of letters keeps whole (any other run is a product: xy = x·y).
DEFAULT_NAMES = frozenset({"Loss", "ReLU", "relu", "tanh", "softmax"})
#: Names that are applications when a parenthesis follows; any other name before ``(`` multiplies.
DEFAULT_FUNCTIONS = DEFAULT_NAMES | {"g", "g_1", "g_2", "s", "h", "f", "Loss", "L", "sigma", "exp", "ln", "log"}
INDEX_LETTERS = frozenset("ijklmnq")

_GREEK = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon phi chi psi "
    "omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()
)
_GREEK_VARIANTS = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varrho": "rho", "varsigma": "sigma"}
_BUILTINS = {"ln": sp.log, "log": sp.log, "exp": sp.exp, "tanh": sp.tanh, "sin": sp.sin, "cos": sp.cos}
_RENAMED_FUNCTIONS = {"ReLU": "relu"}  # symgrad's activation is called relu
_IGNORED_COMMANDS = frozenset(
    {",", ";", ":", "!", " ", ">", "\\", "(", ")", "[", "]", "quad", "qquad", "left", "right", "middle"}
    | {"displaystyle", "textstyle", "limits", "nolimits"}
    | {size + side for size in ("big", "Big", "bigg", "Bigg") for side in ("", "l", "r", "m")}
)
_COMMAND_OPS = {
    "{": "\\{", "}": "\\}", "lbrace": "\\{", "rbrace": "\\}", "lvert": "|", "rvert": "|", "vert": "|",
    "cdot": "*", "times": "*", "ast": "*", "star": "*", "leftarrow": "<-", "gets": "<-", "coloneqq": "<-",
}
_TEXT_COMMANDS = frozenset({"text", "textrm", "textit"})
_BOLD_COMMANDS = frozenset({"mathbf", "boldsymbol", "bm", "vec"})
_NAME_COMMANDS = _TEXT_COMMANDS | _BOLD_COMMANDS | {"mathrm", "mathit", "operatorname", "mathcal"}
NOT_EQUATION = frozenset({
    "<", ">", "in", "notin", "le", "leq", "ge", "geq", "ne", "neq", "approx", "sim", "propto", "equiv", "to",
    "rightarrow", "Rightarrow", "mapsto", "implies", "iff", "subset", "subseteq", "leqslant", "geqslant", "ll", "gg",
})
_SINGLE_OPS = frozenset("+-*/^_()[]{}=,.;'|<>!:")
_UNICODE_OPS = {"−": "-", "·": "*", "×": "*", "′": "'"}
_GROUPS = {"(": ")", "[": "]", "{": "}", "\\{": "\\}", "|": "|"}
_T = TypeVar("_T")


#: Math commands of LaTeX and amsmath that this parser does not read.  A key that uses one is valid LaTeX
#: the tool cannot check (unrecognized, the exit status untouched); any other unknown command is most
#: likely a typo (\\fracc), which is broken LaTeX and fails the check as a missing brace does.
_OTHER_LATEX = frozenset("""
    begin end hat widehat bar overline tilde widetilde dot ddot check breve acute grave vec mathring overrightarrow
    underline overbrace underbrace in notin ni mid nmid neq ne leq le geq ge ll gg approx sim simeq cong
    equiv propto subset subseteq supset supseteq cup cap setminus forall exists nexists emptyset varnothing
    dots ldots cdots vdots ddots top intercal perp parallel angle infty lim limsup liminf max min sup inf
    arg argmax argmin det dim ker Pr deg gcd mod bmod pmod pm mp div ast star circ bullet oplus otimes odot
    wedge vee neg lnot land lor implies iff Rightarrow Longrightarrow rightarrow longrightarrow mapsto
    leftrightarrow Leftrightarrow uparrow downarrow int iint oint prod coprod bigcup bigcap binom tbinom
    dbinom choose sqrt mathbb mathcal mathfrak mathscr mathsf mathtt boldsymbol bm pmb operatorname
    overset underset stackrel xrightarrow xleftarrow boxed cancel phantom hphantom vphantom mathstrut
    langle rangle lfloor rfloor lceil rceil lVert rVert lvert rvert Vert vert backslash prime partial nabla
    Re Im aleph hbar ell wp imath jmath sharp flat natural clubsuit triangle square blacksquare checkmark
""".split())


def _braces_close(text: str) -> bool:
    """Whether every ``{`` of ``text`` is closed by a ``}`` (``\\{`` and ``\\}`` are characters): the one check of
    a formula too long to read that tells a long formula from a broken one."""
    depth = 0
    for match in re.finditer(r"\\.|[{}]", text, re.S):
        depth += {"{": 1, "}": -1}.get(match.group(), 0)
        if depth < 0:
            return False
    return depth == 0


def _balanced(tokens: list[Token]) -> bool:
    """Whether every (, [, { and \\{ among ``tokens`` is closed by its own kind, in order (| is left out:
    it both opens and closes)."""
    open_groups: list[str] = []
    for token in tokens:
        if token.kind != "op" or token.text == "|":
            continue
        if token.text in _GROUPS:
            open_groups.append(_GROUPS[token.text])
        elif token.text in _GROUPS.values() and (not open_groups or open_groups.pop() != token.text):
            return False
    return not open_groups


class LatexParseError(ValueError):
    """LaTeX this parser cannot read; the one-line message names the column and what was expected.

    ``unsupported`` tells valid LaTeX this parser does not read (\\hat, a transpose, a second derivative),
    which is the tool's limit, from LaTeX that is broken (a brace or an argument missing), the key's fault.
    """

    def __init__(self, message: str, column: int, unsupported: bool = False) -> None:
        super().__init__(f"column {column}: {message}")
        self.column = column
        self.message = message
        self.unsupported = unsupported


@dataclass(frozen=True)
class Relation:
    """One parsed statement ``lhs relation rhs[0] = rhs[1] = …``.

    ``lhs`` is None for a continuation line (``= a_2 - y^*``); ``relation`` is
    ``"="`` or ``"<-"`` (an update: ``\\leftarrow``, ``\\gets``, ``:=``).
    """

    lhs: sp.Expr | None
    rhs: tuple[sp.Expr, ...]
    relation: str
    #: Each right side as the key wrote it: 0.5 is a worked number there, where a side that SymPy reduces to
    #: a constant when it builds it (a_1 w_2 - w_2 a_1) is a formula.
    written: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Token:
    """``kind`` is num, word (a run of letters), name (a protected name), function (\\operatorname), cmd, op or end."""

    kind: str
    text: str
    column: int


def parse_expression(text: str, functions: frozenset[str] = DEFAULT_FUNCTIONS) -> sp.Expr:
    """The SymPy value of one LaTeX expression (no relation); ``functions`` are the names applied before ``(``."""
    return _run(text, functions, lambda parser: parser.expression())


def parse_relation(text: str, functions: frozenset[str] = DEFAULT_FUNCTIONS) -> Relation:
    """One LaTeX equation, update rule or continuation line as a :class:`Relation`."""
    return _run(text, functions, lambda parser: parser.relation())


def _run(text: str, functions: frozenset[str], parse: Callable[[_Parser], _T]) -> _T:
    """Tokenize and parse, turning every failure (even one inside SymPy) into a one-line LatexParseError."""
    if not isinstance(text, str):
        raise LatexParseError(f"expected a string, got {type(text).__name__}", 1)
    tokens = tokenize(text, functions)
    if tokens[0].kind == "end":
        raise LatexParseError("empty input, expected an expression", tokens[0].column)
    parser = _Parser(tokens, functions, text)
    try:
        return parse(parser)
    except LatexParseError:
        raise
    except RecursionError:
        raise LatexParseError("the expression is nested too deeply", parser.peek().column,
                              _balanced(tokens)) from None
    except Exception:  # noqa: BLE001 - SymPy refusing what the parser built: the tool's limit, said in our words
        raise LatexParseError("symgrad cannot build this expression", parser.peek().column,
                              _balanced(tokens)) from None


def tokenize(text: str, functions: frozenset[str] = DEFAULT_FUNCTIONS) -> list[Token]:
    """The tokens of ``text``, ending with an ``end`` token.

    Spacing, sizing (``\\left``, ``\\big``), ``&`` and ``$`` vanish here, so the
    parser only sees mathematics.  Prose (``\\text{for all } j``) ends the
    statement, and trailing ``,`` ``.`` ``;`` are dropped.
    """
    if len(text) > MAX_LENGTH:  # the tool's limit: broken only if its braces do not close
        raise LatexParseError(f"input longer than {MAX_LENGTH:,} characters", MAX_LENGTH + 1, _braces_close(text))
    names = DEFAULT_NAMES | functions
    tokens: list[Token] = []
    i, depth = 0, 0
    while i < len(text):
        ch, start = text[i], i
        if ch in " \t\r\n&~$":
            i += 1
        elif ch.isascii() and ch.isdigit():
            while i < len(text) and text[i].isascii() and text[i].isdigit():
                i += 1
            if text.startswith(".", i) and i + 1 < len(text) and text[i + 1].isascii() and text[i + 1].isdigit():
                i += 1
                while i < len(text) and text[i].isascii() and text[i].isdigit():
                    i += 1
            tokens.append(Token("num", text[start:i], start + 1))
        elif ch.isascii() and ch.isalpha():
            while i < len(text) and text[i].isascii() and text[i].isalpha():
                i += 1
            tokens.append(Token("word", text[start:i], start + 1))
        elif text.startswith(":=", i):
            tokens.append(Token("op", "<-", start + 1))
            i += 2
        elif ch in _SINGLE_OPS or ch in _UNICODE_OPS:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            tokens.append(Token("op", _UNICODE_OPS.get(ch, ch), start + 1))
            i += 1
        elif ch == "\\":
            i, prose = _command(text, i, tokens, names, depth)
            if prose:  # \text{for all } j: the statement ends here
                break
        else:
            raise LatexParseError(f"unexpected character {ch!r}", start + 1)
    while tokens and tokens[-1].kind == "op" and tokens[-1].text in ",.;":
        tokens.pop()
    tokens.append(Token("end", "", min(i, len(text)) + 1))
    return tokens


def _command(text: str, i: int, tokens: list[Token], names: frozenset[str], depth: int) -> tuple[int, bool]:
    """Read the command at ``text[i] == '\\'``: the index after it, and whether it is prose that ends the statement."""
    j = i + 1
    if j >= len(text):
        raise LatexParseError("a lone backslash at the end", i + 1)
    if text[j].isascii() and text[j].isalpha():
        while j < len(text) and text[j].isascii() and text[j].isalpha():
            j += 1
    else:
        j += 1
    name = text[i + 1 : j]
    if name == "\\" and depth > 0:  # a line break inside braces separates the rows of \substack
        tokens.append(Token("op", "\\\\", i + 1))
        return j, False
    if name in _IGNORED_COMMANDS:
        if name in ("left", "right"):  # \left. and \right. are invisible delimiters
            k = _skip_spaces(text, j)
            return (k + 1 if text.startswith(".", k) else j), False
        return j, False
    if name in _COMMAND_OPS:
        tokens.append(Token("op", _COMMAND_OPS[name], i + 1))
        return j, False
    if name in _NAME_COMMANDS:
        return _name_command(text, i, j, name, tokens, names, depth)
    if not (name.isascii() and name.isalpha()):
        raise LatexParseError(f"unsupported command {chr(92) + name!r}", i + 1)
    tokens.append(Token("cmd", name, i + 1))
    return j, False


def _skip_spaces(text: str, k: int) -> int:
    while k < len(text) and text[k] in " \t\r\n":
        k += 1
    return k


def _name_command(
    text: str, i: int, j: int, name: str, tokens: list[Token], names: frozenset[str], depth: int
) -> tuple[int, bool]:
    """``\\mathbf{x}``, ``\\mathrm{Loss}``, ``\\mathcal{L}``, ``\\operatorname{ReLU}``, ``\\text{…}``: names, not xy."""
    k = _skip_spaces(text, j)
    if text.startswith("{", k):
        end, level = k + 1, 1
        while end < len(text) and level:
            level += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        if level:
            raise LatexParseError(f"unbalanced '{{' after \\{name}", k + 1)
        content = text[k + 1 : end - 1].strip()
    elif k < len(text) and text[k].isascii() and text[k].isalnum():
        content, end = text[k], k + 1
    elif text.startswith("\\", k) and k + 1 < len(text) and text[k + 1].isalpha():
        end = k + 1
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        content = text[k:end]
    else:
        raise LatexParseError(f"expected '{{' after \\{name}", k + 1)
    column = i + 1
    letters = content.isascii() and content.isalpha()
    if name in _TEXT_COMMANDS:
        if not content:
            return end, False  # \text{ } is spacing
        if content in names or (letters and (len(content) == 1 or depth > 0)):
            tokens.append(Token("word" if len(content) == 1 else "name", content, column))
            return end, False
        if depth > 0:
            raise LatexParseError(f"unsupported \\{name}{{...}} inside braces", column, unsupported=True)
        return i, True  # prose (\text{for all } j) ends the statement
    if name in _BOLD_COMMANDS:
        greek = content.startswith("\\") and content[1:] in _GREEK
        if not (letters or greek):
            raise LatexParseError(f"expected a letter in \\{name}{{...}}", column)
        tokens.append(Token("name", f"\\mathbf{{{content}}}", column))
    elif not letters:
        raise LatexParseError(f"expected letters in \\{name}{{...}}", column)
    elif name == "operatorname":
        tokens.append(Token("function", content, column))
    elif name == "mathcal" or len(content) > 1:
        tokens.append(Token("name", content, column))  # \mathrm{Loss}, \mathrm{MSE}: upright names stay whole
    else:
        tokens.append(Token("word", content, column))  # \mathrm{d}, \mathrm{e}: the differential, Euler's e
    return end, False


class _Parser:
    """Recursive descent, one method per precedence level: relation < sum < product < sign < power < primary."""

    def __init__(self, tokens: list[Token], functions: frozenset[str], text: str = "") -> None:
        self.tokens = tokens
        self.text = text  # the source the tokens' columns point into
        self.pos = 0
        self.functions = functions
        self.names = DEFAULT_NAMES | {f for f in functions if len(f) > 1 and f.isalpha()}
        self.depth = 0
        self.bound = 0  # > 0 inside \sum limits, whose letters are positive integers (k, as in the models)
        self.indices: list[str] = []  # the letters that \sum binds: x_t indexes x inside \sum_t
        self.commands = {
            "frac": self.fraction, "dfrac": self.fraction, "tfrac": self.fraction, "cfrac": self.fraction,
            "sqrt": self.square_root, "sum": self.big_operator, "prod": self.big_operator,
            "partial": self.slash_derivative, "nabla": self.nabla, "infty": self.infinity,
        }

    # ---- tokens ------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def at(self, *texts: str, kind: str = "op", ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == kind and (not texts or token.text in texts)

    def error(self, message: str, token: Token | None = None, unsupported: bool = False) -> LatexParseError:
        """The error at ``token``; valid LaTeX beyond this parser is ``unsupported`` only in a formula whose
        brackets and braces all close (``\\hat{x w_1`` is broken, whatever the parser stopped at first)."""
        return LatexParseError(message, (token or self.peek()).column, unsupported and _balanced(self.tokens))

    def describe(self, token: Token | None = None) -> str:
        token = token or self.peek()
        if token.kind == "end":
            return "end of input"
        text = ("\\" if token.kind == "cmd" else "") + token.text[:20]
        return f"'{text}'" if text.isprintable() else repr(text)

    def expect(self, text: str, context: str) -> Token:
        if not self.at(text):
            raise self.error(f"expected '{text}' {context}, found {self.describe()}")
        return self.advance()

    def split(self, pieces: list[str]) -> None:
        """Replace the current token by ``pieces`` of its text: LaTeX gives ``x^23`` one digit, ``xy`` two letters."""
        token, column, replacement = self.peek(), self.peek().column, []
        for piece in pieces:
            replacement.append(Token(token.kind, piece, column))
            column += len(piece)
        self.tokens[self.pos : self.pos + 1] = replacement

    def split_first(self) -> None:
        token = self.peek()
        if len(token.text) > 1:
            self.split([token.text[0], token.text[1:]])

    @contextmanager
    def nested(self) -> Iterator[None]:
        """Count nesting, so that hostile input fails with a LatexParseError and never a RecursionError."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise self.error(f"nested deeper than {MAX_DEPTH} levels", unsupported=True)
            yield
        finally:
            self.depth -= 1

    # ---- statements --------------------------------------------------------------
    def relation(self) -> Relation:
        lhs = None if self.at("=", "<-") else self.sum()
        operators, sides, written = [], [], []
        while self.at("=", "<-"):
            operators.append(self.advance())
            start = self.peek().column
            sides.append(self.sum())
            side = self.text[start - 1 : self.peek().column - 1]
            written.append(side.lstrip(" \t\n&").rstrip(" \t\n&,.;\\"))  # less a row's end \\ and punctuation
        self.expect_end()
        if not sides:
            raise self.error("not an equation: expected '=' or '\\leftarrow'")
        arrows = [n for n, op in enumerate(operators) if op.text == "<-"]
        if arrows not in ([], [0]):
            raise self.error("an update arrow must come first, and only once", operators[arrows[-1]])
        return Relation(lhs, tuple(sides), "<-" if arrows else "=", tuple(written))

    def expression(self) -> sp.Expr:
        value = self.sum()
        if self.at("=", "<-"):
            raise self.error(f"expected one expression, found the relation {self.describe()}")
        self.expect_end()
        return value

    def expect_end(self) -> None:
        token = self.peek()
        if token.kind == "end":
            return
        if (token.kind == "op" and token.text in ("<", ">")) or (token.kind == "cmd" and token.text in NOT_EQUATION):
            raise self.error(f"not an equation: {self.describe()} is not '=' or '\\leftarrow'")
        if token.kind == "cmd" and token.text in _OTHER_LATEX:  # 2\\hat{y}: valid LaTeX after a term
            raise self.error(f"unsupported command {self.describe()}", unsupported=True)
        raise self.error(f"expected an operator or the end, found {self.describe()}")

    # ---- precedence levels -------------------------------------------------------
    def sum(self) -> sp.Expr:
        terms = [self.product()]
        while self.at("+", "-"):
            negative = self.advance().text == "-"
            term = self.product()
            terms.append(-term if negative else term)
        return sp.Add(*terms)

    def product(self) -> sp.Expr:
        """Explicit ``*`` ``\\cdot`` ``\\times`` ``/`` and juxtaposition; a sign may follow an explicit operator."""
        factors = [self.signed()]
        while True:
            if self.at("*"):
                self.advance()
                factors.append(self.signed())
            elif self.at("/"):
                self.advance()
                factors.append(sp.Pow(self.signed(), -1))
            elif self.starts_factor():
                factors.append(self.power())
            elif len(factors) > 1 and all(isinstance(f, Partial) for f in factors):
                return sp.Mul(*factors, evaluate=False)  # a chain-rule product keeps its written order
            else:
                return sp.Mul(*factors)

    def starts_factor(self) -> bool:
        token = self.peek()
        if token.kind in ("num", "word", "name", "function"):
            return True
        if token.kind == "op":
            return token.text in ("(", "[", "{", "\\{")  # not '|': it may close an absolute value
        return token.kind == "cmd" and (token.text in self.commands or token.text in _BUILTINS or self.is_greek(token))

    def signed(self) -> sp.Expr:
        negative = False
        while self.at("+", "-"):
            negative ^= self.advance().text == "-"
        value = self.power()
        return -value if negative else value

    def power(self) -> sp.Expr:
        with self.nested():
            base = self.factorial(self.primary())
            if not self.at("^"):
                return base
            caret = self.advance()
            bold = isinstance(base, sp.Symbol) and base.name.startswith("\\mathbf")
            if self.at("top", "intercal", kind="cmd") or (bold and self.at("T", kind="word")):
                raise self.error("transposes are not supported", unsupported=True)
            if self.at("*"):
                raise self.error("a star marks a name such as y^*, not an expression")
            return self.factorial(self.raise_to(base, self.argument("the exponent"), caret))

    def factorial(self, value: sp.Expr) -> sp.Expr:
        """``value``, unless a ``!`` follows: n! is valid LaTeX that symgrad does not evaluate (the tool's limit)."""
        if self.at("!"):
            raise self.error("factorials (n!) are not supported", unsupported=True)
        return value

    def raise_to(self, base: sp.Expr, exponent: sp.Expr, token: Token) -> sp.Expr:
        """``base**exponent``, refusing numbers that would take SymPy long to compute (10^{10^{10}}, \\sqrt{9…9},
        x^{2^{50000}}): valid LaTeX, so the tool's limit (unrecognized), not the key's fault."""
        if isinstance(base, sp.Number) and base in (0, 1, -1):
            return sp.Pow(base, exponent)
        if isinstance(base, sp.Rational) and isinstance(exponent, sp.Rational):
            bits = max(abs(base.p), base.q).bit_length()
            if bits * abs(exponent) > MAX_POWER_BITS or (not exponent.is_Integer and bits > MAX_ROOT_BITS):
                raise self.error(f"a number too large to work with (more than {MAX_DIGITS:,} digits)", token,
                                 unsupported=True)
        self.refuse_huge_exponent(exponent, token)
        return sp.Pow(base, exponent)

    def refuse_huge_exponent(self, exponent: sp.Expr, token: Token) -> None:
        """Refuse an exponent (or an argument of exp) whose number has more than MAX_EXPONENT_BITS bits."""
        if isinstance(exponent, sp.Rational) and max(abs(exponent.p), exponent.q).bit_length() > MAX_EXPONENT_BITS:
            raise self.error("an exponent too large to work with", token, unsupported=True)

    def primary(self) -> sp.Expr:
        token = self.peek()
        if token.kind == "num":
            return self.number()
        if token.kind == "word" and token.text[0] == "d":
            derivative = self.try_d_slash_derivative()
            if derivative is not None:
                return derivative
        if token.kind in ("word", "name", "function") or self.is_greek(token):
            return self.name()
        if token.kind == "op" and token.text in _GROUPS:
            value = self.group()
            return sp.Abs(value) if token.text == "|" else value
        if token.kind == "cmd" and token.text in self.commands:
            return self.commands[token.text]()
        if token.kind == "cmd" and token.text in _BUILTINS:
            return self.builtin()
        if token.kind == "cmd":
            known = token.text in _OTHER_LATEX
            raise self.error(f"{'unsupported' if known else 'unknown'} command {self.describe()}", unsupported=known)
        raise self.error(f"expected an expression, found {self.describe()}")

    # ---- atoms -------------------------------------------------------------------
    def number(self) -> sp.Expr:
        token = self.advance()
        whole, _, fraction = token.text.partition(".")
        if len(whole) + len(fraction) > MAX_DIGITS:  # valid, but more digits than Python converts or prints
            raise self.error(f"a number of more than {MAX_DIGITS:,} digits", token, unsupported=True)
        return sp.Rational(int((whole or "0") + fraction), 10 ** len(fraction))

    def name(self, bare: bool = False) -> sp.Expr:
        """A symbol with its subscript, star and primes, or an application when a function name meets ``(``."""
        token = self.peek()
        if token.kind == "word" and not bare:
            pieces = self.split_word(token.text)
            if len(pieces) > 1:
                self.split(pieces)
        token = self.advance()
        name = _GREEK_VARIANTS.get(token.text, token.text)
        if bare:
            return self.symbol(name)
        if token.kind == "word" and name == "e" and self.at("^") and self.superscript_mark()[0] is None:
            caret = self.advance()
            exponent = self.argument("the exponent of e")
            self.refuse_huge_exponent(exponent, caret)
            return sp.exp(exponent)
        index = None
        if self.at("_"):
            self.advance()
            subscript = self.subscript()
            indexable = token.kind == "cmd" or (token.kind == "word" and len(name) == 1)
            if indexable and (subscript in INDEX_LETTERS or subscript in self.indices):
                index = sp.Symbol(subscript, integer=True, positive=True)
            else:
                name = f"{name}_{subscript}"
        primes = 0
        while True:
            mark, length = self.superscript_mark()
            if mark == "*" and not name.endswith("^*"):
                name += "^*"
            elif mark == "'":
                primes += 1
            else:
                break
            self.pos += length
        if index is None and self.at("(") and (token.kind == "function" or primes or name in self.functions):
            return self.apply(name, self.call_arguments(), primes)
        if primes:
            raise self.error("a prime must be followed by an argument, as in g'(z)")
        if index is not None:
            return sp.Indexed(sp.IndexedBase(name), index)
        return self.symbol(name)

    def symbol(self, name: str) -> sp.Symbol:
        return sp.Symbol(name, integer=True, positive=True) if self.bound else sp.Symbol(name)

    def split_word(self, word: str) -> list[str]:
        """A run of letters as known names (longest first) and single letters: ``xLoss`` is x·Loss."""
        pieces, i = [], 0
        while i < len(word):
            piece = max((n for n in self.names if word.startswith(n, i)), key=len, default=word[i])
            pieces.append(piece)
            i += len(piece)
        return pieces

    def superscript_mark(self) -> tuple[str | None, int]:
        """A star (``^*``, ``^{\\ast}``) or a prime (``'``, ``^\\prime``) after a name, and its length in tokens."""
        if self.at("'"):
            return "'", 1
        if not self.at("^"):
            return None, 0
        for mark, kind, text in (("*", "op", "*"), ("'", "cmd", "prime")):
            if self.at(text, kind=kind, ahead=1):
                return mark, 2
            if self.at("{", ahead=1) and self.at(text, kind=kind, ahead=2) and self.at("}", ahead=3):
                return mark, 4
        return None, 0

    def subscript(self) -> str:
        """The text of a subscript: ``2``, ``{ij}`` → ``ij``, ``\\alpha`` → ``alpha``."""
        if not self.at("{"):
            token = self.peek()
            if token.kind in ("num", "word"):
                self.split_first()
                return self.advance().text
            if self.is_greek(token):
                return _GREEK_VARIANTS.get(self.advance().text, token.text)
            raise self.error(f"expected a subscript, found {self.describe()}")
        self.advance()
        parts = []
        while not self.at("}"):
            token = self.peek()
            if not (token.kind in ("num", "word", "name") or self.is_greek(token) or self.at(",", "'")):
                raise self.error(f"expected a subscript of letters and digits, found {self.describe()}")
            parts.append(_GREEK_VARIANTS.get(token.text, token.text))
            self.advance()
        self.advance()
        if not parts:
            raise self.error("empty subscript")
        return "".join(parts)

    def call_arguments(self) -> list[sp.Expr]:
        opening = self.advance()
        arguments = [self.sum()]
        while self.at(","):
            self.advance()
            arguments.append(self.sum())
        self.expect(")", f"to close the '(' at column {opening.column}")
        return arguments

    def apply(self, name: str, arguments: list[sp.Expr], primes: int) -> sp.Expr:
        """``g_1(z_1)``; with primes, the unevaluated derivative ``g_1'(z_1)`` (a Subs for a compound argument)."""
        function = _BUILTINS.get(name) or sp.Function(_RENAMED_FUNCTIONS.get(name, name))
        if not primes:
            return function(*arguments)
        if len(arguments) != 1:
            raise self.error("a derivative such as g'(z) takes exactly one argument")
        (argument,) = arguments
        if isinstance(argument, (sp.Symbol, sp.Indexed)):
            return sp.Derivative(function(argument), (argument, primes))
        dummy = sp.Dummy("u")
        return sp.Subs(sp.Derivative(function(dummy), (dummy, primes)), dummy, argument)

    def is_greek(self, token: Token) -> bool:
        return token.kind == "cmd" and (token.text in _GREEK or token.text in _GREEK_VARIANTS)

    def group(self) -> sp.Expr:
        opening = self.advance()
        value = self.sum()
        if opening.text == "\\{" and self.at(","):
            raise self.error("not an equation: \\{...\\} is a set, not a value")
        if opening.text in ("(", "[") and self.at(","):
            # [x_1, \dots, x_k]^T, a vector written out: valid LaTeX (if it closes), no value this parser judges
            raise self.error(f"a list of entries in '{opening.text}' is not supported", unsupported=True)
        self.expect(_GROUPS[opening.text], f"to close the '{opening.text}' at column {opening.column}")
        return value

    def argument(self, what: str) -> sp.Expr:
        """A braced group or, as LaTeX reads ``x^2`` and ``\\frac12``, one character or command."""
        if self.at("{"):
            return self.group()
        token = self.peek()
        if token.kind == "num":
            self.split_first()
            return self.number()
        if token.kind in ("word", "name", "function") or self.is_greek(token):
            if token.kind == "word":
                self.split_first()
            return self.name(bare=True)
        if self.at("infty", kind="cmd"):
            return self.infinity()
        raise self.error(f"expected '{{' or one character as {what}, found {self.describe()}")

    # ---- commands ----------------------------------------------------------------
    def fraction(self) -> sp.Expr:
        self.advance()
        derivative = self.frac_derivative() if self.at("{") else None
        if derivative is not None:
            return derivative
        numerator = self.argument("the numerator")
        return numerator * sp.Pow(self.argument("the denominator"), -1)

    def frac_derivative(self) -> Partial | None:
        """``\\frac{\\partial u}{\\partial v}`` or ``\\frac{du}{dv}`` as Partial(u, v); None for a plain fraction."""
        first, close = self.pos + 1, self.matching_brace(self.pos)
        below = close is not None and self.tokens[close + 1].text == "{" and self.is_differential(close + 2)
        bare_marker = self.at("partial", kind="cmd", ahead=1) or self.at("d", kind="word", ahead=1)
        if bare_marker and close == first + 1 and below:
            return self.operator_derivative()
        if self.at("partial", kind="cmd", ahead=1):
            pass
        elif not (self.is_differential(first) and below):
            return None
        self.advance()
        of = self.differential("}", numerator=True)
        self.advance()
        self.expect("{", "before the denominator of a derivative")
        wrt = self.differential("}", numerator=False)
        self.advance()
        return Partial(of, wrt)

    def operator_derivative(self) -> sp.Derivative:
        """``\\frac{\\partial}{\\partial v} f`` (or ``\\frac{d}{dv} f``): the next factor's derivative, unevaluated."""
        self.advance()  # {
        self.advance()  # \partial or d
        self.advance()  # }
        self.expect("{", "before the denominator of a derivative")
        wrt = self.differential("}", numerator=False)
        self.advance()
        return sp.Derivative(self.power(), wrt)

    def slash_derivative(self) -> Partial:
        """``\\partial Loss / \\partial w_2`` (and ``dL/dw``) as Partial(Loss, w_2)."""
        of = self.differential("/", numerator=True)
        self.advance()
        return Partial(of, self.differential(None, numerator=False))

    def try_d_slash_derivative(self) -> Partial | None:
        """``dL/dw_j`` is a derivative only if it parses as one; otherwise ``d`` is an ordinary letter."""
        if not any(self.at("/", ahead=k) for k in range(1, 8)):
            return None
        position, tokens = self.pos, list(self.tokens)
        try:
            return self.slash_derivative()
        except LatexParseError:
            self.pos, self.tokens = position, tokens
            return None

    def differential(self, closing: str | None, numerator: bool) -> sp.Expr:
        """``\\partial u`` or ``d u`` in a derivative: u must be one variable (or a function value, above the line)."""
        marker = self.peek()
        if not self.is_differential(self.pos) and not self.at("d", kind="word"):
            raise self.error(f"expected \\partial or d, found {self.describe()}")
        if marker.kind == "word":
            self.split_first()
        self.advance()
        if self.at("^"):
            raise self.error("higher-order derivatives are not supported", marker, unsupported=True)
        if numerator and closing and self.at(closing):
            message = "the operator form \\frac{\\partial}{\\partial x} f is not supported"
            raise self.error(f"{message}; write \\frac{{\\partial f}}{{\\partial x}}", marker)
        value = self.power()
        allowed = (sp.Symbol, sp.Indexed, sp.Function)  # ∂σ(z), dh(\mathbf{x}): a node written as a function value
        if isinstance(value, sp.Pow):
            raise self.error("higher-order derivatives are not supported", marker, unsupported=True)
        if not isinstance(value, allowed):
            raise self.error(f"expected a variable after {self.describe(marker)}", marker)
        if closing is not None and not self.at(closing):
            if self.is_differential(self.pos):
                raise self.error("mixed and higher-order derivatives are not supported", unsupported=True)
            raise self.error(f"expected '{closing}' after the variable of a derivative, found {self.describe()}")
        return value

    def is_differential(self, position: int) -> bool:
        """Whether a derivative's ``\\partial`` or ``d`` (then a name: ``dL``, ``d w``, ``d^2``) is at ``position``."""
        token = self.tokens[min(position, len(self.tokens) - 1)]
        if token.kind == "cmd" and token.text == "partial":
            return True
        if token.kind != "word" or token.text[0] != "d":
            return False
        after = self.tokens[min(position + 1, len(self.tokens) - 1)]
        following_name = after.kind in ("word", "name", "function") or self.is_greek(after) or after.text == "^"
        return len(token.text) > 1 or (after.kind != "end" and following_name)

    def matching_brace(self, position: int, limit: int = 64) -> int | None:
        """The index of the ``}`` closing the ``{`` at ``position``, if near (a derivative's numerator is short)."""
        level = 0
        for k in range(position, min(position + limit, len(self.tokens))):
            level += {"{": 1, "}": -1}.get(self.tokens[k].text, 0) if self.tokens[k].kind == "op" else 0
            if level == 0:
                return k
        return None

    def nabla(self) -> Partial:
        """``\\nabla_{\\mathbf{w}} L`` as Partial(L, \\mathbf{w})."""
        self.advance()
        if not self.at("_"):
            raise self.error("expected a subscript after \\nabla, as in \\nabla_{\\mathbf{w}} L")
        self.advance()
        wrt = self.argument("the subscript of \\nabla")
        of = self.power()
        if not isinstance(wrt, (sp.Symbol, sp.Indexed)) or not isinstance(of, (sp.Symbol, sp.Indexed, sp.Function)):
            raise self.error("expected \\nabla_{variable} of a quantity")
        return Partial(of, wrt)

    def big_operator(self) -> sp.Expr:
        """``\\sum_{i=1}^{k} w_i x_i``: the summand is a product of factors; it stops at + or -."""
        operator = self.advance()
        if not self.at("_"):
            raise self.error(f"expected an index after \\{operator.text}, as in \\{operator.text}_{{i=1}}^{{k}}")
        self.advance()
        braced = self.at("{")
        if braced:
            self.advance()
        if braced and self.at("substack", kind="cmd"):
            return self.substack_sum(operator)
        if self.peek().kind != "word":
            raise self.error(f"expected a letter as the index of \\{operator.text}, found {self.describe()}")
        self.split_first()
        letter = self.advance().text + self.primes()  # \sum_{l'=1}^{C}: a primed index is another index
        lower, upper = sp.Integer(1), sp.Symbol("k", integer=True, positive=True)
        if braced:
            if self.at("="):
                self.advance()
                lower = self.limit(self.sum)
            self.expect("}", f"to close the index of \\{operator.text}")
        if self.at("^"):
            self.advance()
            upper = self.limit(lambda: self.argument(f"the upper limit of \\{operator.text}"))
        self.indices.append(letter)
        try:
            body = self.product()
        finally:
            self.indices.pop()
        index = sp.Symbol(letter, integer=True, positive=True)
        body = body.xreplace({sp.Symbol(letter): index})
        return (sp.Sum if operator.text == "sum" else sp.Product)(body, (index, lower, upper))

    def primes(self) -> str:
        """The primes after a summation index (``l'``), which make it a name of its own."""
        marks = ""
        while self.at("'"):
            self.advance()
            marks += "'"
        return marks

    def substack_sum(self, operator: Token) -> sp.Expr:
        """``\\sum_{\\substack{1 \\leq q \\leq C \\\\ 1 \\leq l \\leq C}}``: one sum over several indices."""
        self.advance()
        self.expect("{", "after \\substack")
        ranges = []
        while not self.at("}"):
            lower = self.limit(self.sum)
            self.expect_command("leq", "le", context="between a limit and the index of \\substack")
            if self.peek().kind != "word":
                raise self.error(f"expected a letter as an index of \\{operator.text}, found {self.describe()}")
            self.split_first()
            letter = self.advance().text + self.primes()
            self.expect_command("leq", "le", context="between the index of \\substack and its upper limit")
            ranges.append((letter, lower, self.limit(self.sum)))
            if self.at("\\\\"):
                self.advance()
        self.advance()
        self.expect("}", f"to close the index of \\{operator.text}")
        if not ranges:
            raise self.error("an empty \\substack")
        self.indices.extend(letter for letter, _, _ in ranges)
        try:
            body = self.product()
        finally:
            del self.indices[-len(ranges):]
        limits = []
        for letter, lower, upper in ranges:
            index = sp.Symbol(letter, integer=True, positive=True)
            body = body.xreplace({sp.Symbol(letter): index})
            limits.append((index, lower, upper))
        return (sp.Sum if operator.text == "sum" else sp.Product)(body, *limits)

    def expect_command(self, *names: str, context: str) -> Token:
        if not self.at(*names, kind="cmd"):
            raise self.error(f"expected \\{names[0]} {context}, found {self.describe()}")
        return self.advance()

    def limit(self, parse) -> sp.Expr:
        self.bound += 1
        try:
            return parse()
        finally:
            self.bound -= 1

    def square_root(self) -> sp.Expr:
        token = self.advance()
        degree = sp.Integer(2)
        if self.at("["):
            self.advance()
            degree = self.sum()
            self.expect("]", "after the degree of \\sqrt")
        return self.raise_to(self.argument("the argument of \\sqrt"), 1 / degree, token)

    def builtin(self) -> sp.Expr:
        """``\\ln x``, ``\\log(1 - a)``, ``\\log_2 x``, ``\\exp(z)``, ``\\tanh z``: a parenthesis or the next power."""
        token = self.advance()
        base = None
        if token.text == "log" and self.at("_"):
            self.advance()
            base = self.argument("the base of \\log")
        if self.at("^"):
            raise self.error(f"write a power of \\{token.text} as (\\{token.text} x)^2")
        if self.at("("):
            arguments = self.call_arguments()
            if len(arguments) != 1:
                raise self.error(f"\\{token.text} takes one argument", token)
            argument = arguments[0]
        else:
            argument = self.power()
        if token.text == "exp":
            self.refuse_huge_exponent(argument, token)
        return _BUILTINS[token.text](argument) if base is None else sp.log(argument, base)

    def infinity(self) -> sp.Expr:
        self.advance()
        return sp.oo
