"""A small, safe reader for the formulas of user-defined models: text in, SymPy out.

A model file is untrusted text, so nothing here evaluates it: no ``eval``, no
``exec``, no ``sympify``/``parse_expr`` of a string.  :func:`tokenize` splits
the text into numbers, names and operators; :class:`_Parser` climbs the
precedence levels (sum, product, sign, power, call) and builds SymPy objects
directly.  Only what the caller declares can appear: the model's own names
(:class:`Scope`) and the functions of :data:`FUNCTIONS`.  Anything else, and
anything that looks like Python (strings, attribute access, keywords,
``__dunder__`` names), is refused with a one-line :class:`ExpressionError`
that carries the 1-based column.

Sums and products are built unevaluated, so a node prints the way it is
written (``x·w_1``, not ``w_1·x``); the graph evaluates them itself.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from symgrad.model.functions import ACTIVATIONS, cross_entropy_loss, quadratic_loss, softmax, softmax_cross_entropy_loss
from symgrad.model.graph import evaluated

#: Longer formulas are certainly a mistake (or an attack); refusing them bounds the work.
MAX_LENGTH = 10_000
#: Each level of parentheses or calls costs a few Python frames; this stays far inside the recursion limit.
MAX_DEPTH = 100
#: Every constant in a formula, written or computed from written ones (2^10, 3/4), lies within 10^±30
#: and has at most 30 significant digits: a model's constants (a step size, an epsilon, a scale) need no
#: more, and larger ones made SymPy run for minutes (e^{10^400}, the square root of a 4,000-digit number)
#: or fail with Python's own limit on reading integers of over 4,300 digits.
MAX_CONSTANT = sp.Integer(10) ** 30
MAX_DIGITS = 30


class ExpressionError(ValueError):
    """A formula that cannot be read; ``column`` is 1-based, ``reason`` the message without it."""

    def __init__(self, reason: str, column: int) -> None:
        super().__init__(f"column {column}: {reason}")
        self.reason = reason
        self.column = column


@dataclass(frozen=True)
class Function:
    """A library function a formula may call: what it builds and how many arguments it takes.

    With ``over_index`` the last argument is not a formula but an index name (``sum(w[i] * x[i], i)``),
    and ``build`` receives it as ``(index, low, high)`` from the index's declared range.
    """

    build: Callable[..., sp.Expr]
    arity: int
    kind: str  # "activation", "function", "loss" or "sum"
    over_index: bool = False


def _sum(term: sp.Expr, limits: tuple[sp.Symbol, sp.Expr, sp.Expr]) -> sp.Expr:
    return sp.Sum(evaluated(term), limits)  # the summand in canonical form, as the catalogue writes Σ_i w_ij x_i


def _unit(expr: sp.Expr, what: str) -> sp.Indexed:
    if not isinstance(expr, sp.Indexed):
        raise ValueError(f"{what} must be one unit of an indexed layer, such as z[j]")
    return expr


def _softmax(scores: sp.Expr, classes: tuple[sp.Symbol, sp.Expr, sp.Expr]) -> sp.Expr:
    return softmax(_unit(scores, "softmax's first argument"), classes)


def _softmax_cross_entropy(prediction: sp.Expr, label: sp.Expr, classes: tuple[sp.Symbol, sp.Expr, sp.Expr]) -> sp.Expr:
    return softmax_cross_entropy_loss(_unit(prediction, "the prediction"), _unit(label, "the one-hot label"), classes)


#: Every function a formula may call: the activation library, exp and log, the losses, and for indexed
#: layers the sum over an index, the softmax and the softmax cross-entropy (over a class index).
FUNCTIONS: dict[str, Function] = {
    **{name: Function(activation, 1, "activation") for name, activation in ACTIVATIONS.items()},
    "exp": Function(sp.exp, 1, "function"),
    "log": Function(sp.log, 1, "function"),
    "quadratic": Function(quadratic_loss, 2, "loss"),
    "cross_entropy": Function(cross_entropy_loss, 2, "loss"),
    "sum": Function(_sum, 2, "sum", over_index=True),
    "softmax": Function(_softmax, 2, "activation", over_index=True),
    "softmax_cross_entropy": Function(_softmax_cross_entropy, 3, "loss", over_index=True),
}


@dataclass(frozen=True)
class Scope:
    """What a formula may name.

    ``names`` maps each usable name to its SymPy quantity: a symbol, or for an indexed name
    (``w`` in ``w[i, j]``) its ``IndexedBase``, whose number of indices ``ranks`` gives.
    ``indices`` maps each index name to ``(symbol, low, high)``.  ``unavailable`` maps a declared
    name that cannot be used here to the reason (the label in a forward node).
    """

    names: Mapping[str, sp.Expr]
    unavailable: Mapping[str, str] | None = None
    ranks: Mapping[str, int] = field(default_factory=dict)
    indices: Mapping[str, tuple[sp.Symbol, sp.Expr, sp.Expr]] = field(default_factory=dict)


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "name", "op", "end", or "error" (its text is the message)
    text: str
    column: int  # 1-based


_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("**", "+", "-", "*", "/", "^", "(", ")", ",", "[", "]")
_PYTHON_HINTS = {
    ".": "attribute access ('.') is not allowed in a model formula",
    "'": "strings are not allowed in a model formula",
    '"': "strings are not allowed in a model formula",
    "=": "'=' is not allowed in a model formula (no assignments or keyword arguments)",
    ";": "';' is not allowed in a model formula (one formula per key)",
    ":": "':' is not allowed in a model formula",
    "@": "'@' is not allowed in a model formula",
    "{": "braces are not allowed in a model formula",
    "}": "braces are not allowed in a model formula",
    "\\": "backslashes are not allowed in a model formula (LaTeX names go in the [latex] table)",
}


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; any character outside the formula language is an error at its column."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the formula is longer than {MAX_LENGTH:,} characters", 1)
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in " \t":
            i += 1
            continue
        number = _NUMBER.match(text, i)
        if number:
            tokens.append(Token("number", number.group(), i + 1))
            i = number.end()
            continue
        name = _NAME.match(text, i)
        if name:
            tokens.append(Token("name", name.group(), i + 1))
            i = name.end()
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if operator:
            tokens.append(Token("op", operator, i + 1))
            i += len(operator)
            continue
        hint = _PYTHON_HINTS.get(char)
        if hint is None:
            shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
            hint = f"unexpected character {shown}"
        # The parser raises this when it gets here, so that an earlier, more telling
        # problem (``__import__`` before its string argument) is the one reported.
        tokens.append(Token("error", hint, i + 1))
        return tokens
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def parse(text: str, scope: Scope) -> sp.Expr:
    """The formula ``text`` as a SymPy expression over the names in ``scope``; raises :class:`ExpressionError`."""
    if not text.strip():
        raise ExpressionError("the formula is empty", 1)
    parser = _Parser(tokenize(text), scope)
    expr = parser.expression()
    parser.expect_end()
    return expr


#: Binary operators: (binding power, right-associative, how to combine).
_BINARY: dict[str, tuple[int, bool, Callable[[sp.Expr, sp.Expr], sp.Expr] | None]] = {
    "+": (10, False, lambda a, b: a + b),  # runs of +, - and * are joined in _Parser.expression; numbers here
    "-": (10, False, lambda a, b: a - b),
    "*": (20, False, lambda a, b: a * b),
    "/": (20, False, lambda a, b: _divide(a, b)),
    "^": (30, True, None),  # powers are checked for size first; see _Parser.power_of
    "**": (30, True, None),
}
#: A leading minus binds looser than a power (-x^2 is -(x^2)) and tighter than a product.
_UNARY_POWER = 25


#: The operators whose runs are joined into one flat sum or product (see ``_Parser.expression``).
_RUNS: dict[str, type] = {"+": sp.Add, "-": sp.Add, "*": sp.Mul}


def _joined(kind: type | None, run: list[sp.Expr], left: sp.Expr) -> sp.Expr:
    """The run's operands as one unevaluated sum or product; ``left`` itself when no run is being collected."""
    return kind(*run, evaluate=False) if run else left


def _numbers(*exprs: sp.Expr) -> bool:
    """Arithmetic on plain numbers is done at once (3/4 is the number ¾, not an unevaluated quotient)."""
    return all(e.is_Number for e in exprs)


def _divide(numerator: sp.Expr, denominator: sp.Expr) -> sp.Expr:
    if _numbers(numerator, denominator):
        return numerator / denominator
    return sp.Mul(numerator, sp.Pow(denominator, -1, evaluate=False), evaluate=False)


def _negative(expr: sp.Expr) -> sp.Expr:
    if expr.is_Number:
        return -expr
    return sp.Mul(sp.S.NegativeOne, expr, evaluate=False)


class _Parser:
    """Precedence climbing over the token list; each method reads one grammatical level."""

    def __init__(self, tokens: list[Token], scope: Scope) -> None:
        self.tokens = tokens
        self.position = 0
        self.scope = scope
        self.depth = 0

    def peek(self) -> Token:
        token = self.tokens[self.position]
        if token.kind == "error":
            raise ExpressionError(token.text, token.column)
        return token

    def advance(self) -> Token:
        token = self.peek()
        self.position += 1
        return token

    def expect(self, text: str, after: str) -> Token:
        token = self.peek()
        if token.kind != "op" or token.text != text:
            raise ExpressionError(f"expected '{text}' {after}, found {_describe(token)}", token.column)
        return self.advance()

    def expect_end(self) -> None:
        token = self.peek()
        if token.kind == "name":  # x if y else z, x for x in y: Python, not a missing operator
            _refuse_python(token.text, token.column)
        if token.kind != "end":
            if token.kind == "op" and token.text == ")":
                raise ExpressionError("')' without a matching '('", token.column)
            found = _describe(token)
            raise ExpressionError(f"expected an operator or the end of the formula, found {found}", token.column)

    def expression(self, min_power: int = 0) -> sp.Expr:
        """Operands joined by binary operators binding at least ``min_power`` (precedence climbing).

        A run of one operator (x + y - z, x*y*z) is collected and joined once, as one flat unevaluated sum or
        product: built pairwise, 4,000 terms would nest 4,000 deep (a RecursionError in every later walk) and
        rebuilding a growing flat one each time costs the square of its length."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"the formula nests deeper than {MAX_DEPTH} levels", self.peek().column)
        left = self.unary()
        run: list[sp.Expr] = []  # the operands of the run being collected, `left` first
        run_kind: type | None = None
        while True:
            token = self.peek()
            if token.kind != "op" or token.text not in _BINARY:
                break
            power, right_associative, combine = _BINARY[token.text]
            if power < min_power:
                break
            self.advance()
            right = self.expression(power if right_associative else power + 1)
            if token.text == "/" and right.is_zero:
                raise ExpressionError("division by zero", token.column)
            kind = _RUNS.get(token.text)
            if kind is not None and (run or not _numbers(left, right)):
                if kind is not run_kind:
                    left, run, run_kind = _joined(run_kind, run, left), [], kind
                    run.append(left)
                run.append(_negative(right) if token.text == "-" else right)
                continue
            left, run, run_kind = _joined(run_kind, run, left), [], None
            if combine is None:
                left = self.power_of(left, right, token)
            else:
                left = combine(left, right)
                if left.is_Number:
                    left = bounded(left, token.column)
        self.depth -= 1
        return _joined(run_kind, run, left)

    def unary(self) -> sp.Expr:
        token = self.peek()
        if token.kind == "op" and token.text in ("-", "+"):
            self.advance()
            operand = self.expression(_UNARY_POWER)
            return _negative(operand) if token.text == "-" else operand
        return self.primary()

    def power_of(self, base: sp.Expr, exponent: sp.Expr, token: Token) -> sp.Expr:
        if base.is_zero and exponent.is_Number and exponent.is_negative:
            raise ExpressionError("division by zero (0 to a negative power)", token.column)
        if base.is_Number and exponent.is_Number:
            if base != 0 and abs(float(exponent)) * abs(math.log10(abs(float(base)))) > 2 * math.log10(MAX_CONSTANT):
                raise ExpressionError(f"{base}^{exponent} is out of range (constants lie within 10^±30)", token.column)
            return bounded(base**exponent, token.column)
        return sp.Pow(base, exponent, evaluate=False)

    def primary(self) -> sp.Expr:
        token = self.advance()
        if token.kind == "number":
            return _number(token)
        if token.kind == "name":
            return self.name(token)
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect(")", "to close the '(' at column " + str(token.column))
            return inner
        if token.kind == "op" and token.text == "[":
            reason = "'[' only follows an indexed name (w[i, j]); a model formula has no lists"
            raise ExpressionError(reason, token.column)
        if token.kind == "end":
            raise ExpressionError("the formula ends where a value was expected", token.column)
        raise ExpressionError(f"expected a value, found {_describe(token)}", token.column)

    def name(self, token: Token) -> sp.Expr:
        text = token.text
        _refuse_python(text, token.column)
        following = self.tokens[self.position]  # a look without raising a pending error: the name is judged first
        calls = following.kind == "op" and following.text == "("
        if text in self.scope.indices:
            raise ExpressionError(f"'{text}' is an index: it goes inside [ ] or last in sum(…, {text})", token.column)
        if text in self.scope.names:
            if calls:
                raise ExpressionError(f"'{text}' is a value, not a function; write '*' to multiply", following.column)
            subscripted = following.kind == "op" and following.text == "["
            rank = self.scope.ranks.get(text, 0)
            if subscripted and not rank:
                raise ExpressionError(f"'{text}' is not indexed, so it takes no subscript", following.column)
            if rank and not subscripted:
                example = ", ".join("ijkl"[:rank])
                reason = f"'{text}' is indexed: write one unit of it, such as {text}[{example}]"
                raise ExpressionError(reason, token.column)
            if rank:
                return self.subscript(text, rank)
            return self.scope.names[text]
        if self.scope.unavailable and text in self.scope.unavailable:
            raise ExpressionError(f"'{text}' {self.scope.unavailable[text]}", token.column)
        if text in FUNCTIONS:
            if not calls:
                raise ExpressionError(f"'{text}' is a function; call it as {text}(…)", token.column)
            return self.call(text, token)
        if calls:
            known = ", ".join(FUNCTIONS)
            raise ExpressionError(f"unknown function '{text}'; the functions are {known}", token.column)
        raise ExpressionError(f"unknown name '{text}' (not an input, parameter or earlier node)", token.column)

    def subscript(self, name: str, rank: int) -> sp.Indexed:
        """``w[i, j]``: the indexed name's unit at declared indices (the name is already read)."""
        opening = self.expect("[", f"after {name}")
        indices = [self.index_name(f"in the subscript of {name}")[0]]
        while self.peek().kind == "op" and self.peek().text == ",":
            self.advance()
            indices.append(self.index_name(f"in the subscript of {name}")[0])
        self.expect("]", f"to close the subscript of {name} at column {opening.column}")
        if len(indices) != rank:
            plural = "index" if rank == 1 else "indices"
            raise ExpressionError(f"'{name}' takes {rank} {plural}, not {len(indices)}", opening.column)
        return self.scope.names[name][tuple(indices)]

    def index_name(self, where: str) -> tuple[sp.Symbol, sp.Expr, sp.Expr]:
        """A declared index's name, as ``(symbol, low, high)``; only names are indices (no i + 1)."""
        token = self.advance()
        if token.kind == "name" and token.text in self.scope.indices:
            return self.scope.indices[token.text]
        known = ", ".join(self.scope.indices) or "none is declared"
        if token.kind == "name":
            _refuse_python(token.text, token.column)
            raise ExpressionError(f"'{token.text}' is not a declared index ({known}) {where}", token.column)
        raise ExpressionError(f"expected an index name ({known}) {where}, found {_describe(token)}", token.column)

    def call(self, name: str, token: Token) -> sp.Expr:
        function = FUNCTIONS[name]
        self.expect("(", f"after {name}")
        arguments: list[sp.Expr] = []
        limits = None
        formulas = function.arity - 1 if function.over_index else function.arity
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            arguments.append(self.expression())
            while self.peek().kind == "op" and self.peek().text == ",":
                self.advance()
                if function.over_index and len(arguments) == formulas:
                    limits = self.index_name(f"as the last argument of {name}")
                    break
                arguments.append(self.expression())
        self.expect(")", f"to close the call of {name} at column {token.column}")
        given = len(arguments) + (limits is not None)
        if given != function.arity or (function.over_index and limits is None):
            plural = "s" if function.arity != 1 else ""
            shape = f" (the last one an index name: {name}(…, i))" if function.over_index else ""
            raise ExpressionError(f"{name} takes {function.arity} argument{plural}{shape}, not {given}", token.column)
        try:
            result = function.build(*arguments, limits) if function.over_index else function.build(*arguments)
        except ValueError as error:
            raise ExpressionError(f"{name}: {error}", token.column) from None
        if result.free_symbols:
            return result
        return bounded(result, token.column, _shortened(f"{name}({', '.join(map(str, arguments))})"))


def _refuse_python(text: str, column: int) -> None:
    """Names that can only be Python are refused by what they are, not as merely unknown."""
    if text.startswith("_"):
        reason = "a name in a model formula cannot start with '_' (Python internals)"
        raise ExpressionError(f"'{text}' is not allowed: {reason}", column)
    if keyword.iskeyword(text):
        raise ExpressionError(f"'{text}' is a Python keyword; a model formula is arithmetic, not Python", column)


def _number(token: Token) -> sp.Expr:
    """A literal as an exact rational (0.1 is 1/10), so that proofs stay exact; within the bounds of
    :data:`MAX_CONSTANT` and :data:`MAX_DIGITS`, checked before any digit is converted."""
    mantissa, _, exponent = token.text.lower().partition("e")
    digits = mantissa.replace(".", "").lstrip("0")
    if len(digits.rstrip("0")) > MAX_DIGITS:
        raise ExpressionError(f"the number {_shortened(token.text)} has too many digits (at most {MAX_DIGITS})",
                              token.column)
    if len(exponent.lstrip("+-0")) > 3:
        raise ExpressionError(f"the number {_shortened(token.text)} is out of range (constants lie within 10^±30)",
                              token.column)
    value = Fraction(mantissa) * Fraction(10) ** int(exponent or 0)
    return bounded(sp.Rational(value.numerator, value.denominator), token.column, _shortened(token.text))


def _shortened(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}…"


def bounded(constant: sp.Expr, column: int, written: str | None = None) -> sp.Expr:
    """``constant`` (an expression without symbols), once it is known to be a real number within 10^±30."""
    what = written or _shortened(str(constant))
    if constant.has(sp.zoo, sp.oo, -sp.oo, sp.nan) or constant.is_extended_real is False:
        raise ExpressionError(f"{what} is not a real number", column)
    magnitude = abs(sp.N(constant, 15))
    if not magnitude.is_Number:
        raise ExpressionError(f"{what} is not a real number", column)
    if magnitude > MAX_CONSTANT or (magnitude != 0 and magnitude < 1 / MAX_CONSTANT):
        raise ExpressionError(f"the number {what} is out of range (constants lie within 10^±30)", column)
    return constant


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the formula"
    return f"'{token.text}'"
