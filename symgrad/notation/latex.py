r"""A small, safe parser for the LaTeX in answer keys: one display in, SymPy relations out.

Answer keys are untrusted text, so nothing here evaluates text: no ``eval``, no
``sympify`` of strings, and not ``sympy.parsing.latex`` (it needs a pinned ANTLR
runtime and silently drops what it does not understand).  :func:`tokenize`
turns the text into tokens; :class:`_Display` cuts them into the relations of a
display (``z_1 = x w_1, \quad a_1 = g_1(z_1)``) and their side conditions
(``\text{for } l \ne j``, ``\text{where } …``); :class:`_Parser` climbs the
precedence levels (relation, sum, product, sign, power, primary) of each one,
one method each, and builds SymPy objects directly.

Names follow symgrad's models exactly (``w_2``, ``y^*``, ``\mathbf{x}``,
``Loss``, the indexed ``w_j``), so a parsed claim compares with a derivation
without renaming.  A written derivative ∂u/∂v (also ``\partial_v u``) becomes a
:class:`~symgrad.graph.Partial`, which never cancels against its neighbours.
The notations of real keys read as the quantity they mean: ``\hat{y}`` is a name
of its own, ``\mathbf{w}^T\mathbf{x}`` is ``\sum_i w_i x_i``, ``1(y = k)`` is
Kronecker's delta, ``x^{(i)}`` and ``\frac{1}{m}\sum_{i=1}^{m}`` are the one
sample's ``x`` (the relation says ``per_sample``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TypeVar

import sympy as sp
from sympy.core.function import AppliedUndef

from symgrad.model.graph import Partial

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

#: ``\nabla L`` with no subscript is the gradient by "the parameter of the update it appears in"
#: (w \leftarrow w - \eta \nabla L): it reads as Partial(L, NABLA), and the reader of the update puts w in its place.
NABLA = sp.Symbol("\\nabla")
#: The size of an unbounded ``\sum_i`` and of a dot product ``\mathbf{w}^T\mathbf{x}``: the models' number of
#: features, the same symbol in both, so that the two spellings of one sum are one expression.
SIZE = sp.Symbol("k", integer=True, positive=True)

#: Multi-letter names that a run of letters keeps whole (any other run is a product: xy = x·y).
DEFAULT_NAMES = frozenset({"Loss", "ReLU", "relu", "tanh", "softmax", "sigmoid"})
#: Names that are applications when a parenthesis follows; any other name before ``(`` multiplies.
#: J, E and \ell are the loss as keys name it (J(\theta), E(\mathbf{w}), \ell(\hat{y}, y)).
DEFAULT_FUNCTIONS = DEFAULT_NAMES | {"g", "g_1", "g_2", "s", "h", "f", "Loss", "L", "J", "E", "ell", "sigma", "exp",
                                     "ln", "log", "phi", "varphi"}
#: Subscript letters that index (w_j is the j-th w); \ell is the layer index of backprop notes (\delta_\ell).
INDEX_LETTERS = frozenset({*"ijklmnq", "ell"})

_GREEK = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon phi chi psi "
    "omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega ell".split()
)
_GREEK_VARIANTS = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varrho": "rho", "varsigma": "sigma"}
#: Letter-like commands that are no word of their own: a run of letters "ell" is e·l·l, never \ell.
_COMMAND_LETTERS = frozenset({"ell"})
_BUILTINS = {"ln": sp.log, "log": sp.log, "exp": sp.exp, "tanh": sp.tanh, "sin": sp.sin, "cos": sp.cos}
_RENAMED_FUNCTIONS = {"ReLU": "relu"}  # symgrad's activation is called relu
#: \quad and \qquad are spacing inside a formula, and the usual gap between two relations of one display.
_SPACING = frozenset({"quad", "qquad"})
_IGNORED_COMMANDS = frozenset(
    {",", ";", ":", "!", " ", ">", "\\", "(", ")", "[", "]", "left", "right", "middle"}
    | {"displaystyle", "textstyle", "limits", "nolimits"}
    | {size + side for size in ("big", "Big", "bigg", "Bigg") for side in ("", "l", "r", "m")}
)
_COMMAND_OPS = {
    "{": "\\{", "}": "\\}", "lbrace": "\\{", "rbrace": "\\}", "lvert": "|", "rvert": "|", "vert": "|",
    "cdot": "*", "times": "*", "ast": "*", "star": "*",
    "leftarrow": "<-", "gets": "<-", "coloneqq": "<-", "coloneq": "<-", "longleftarrow": "<-", "Leftarrow": "<-",
    "Longleftarrow": "<-", "|": "‖", "Vert": "‖", "lVert": "‖", "rVert": "‖",
}
_TEXT_COMMANDS = frozenset({"text", "textrm", "textit", "textnormal", "textup", "textsf", "textbf", "mbox", "hbox"})
_BOLD_COMMANDS = frozenset({"mathbf", "boldsymbol", "bm", "vec"})
_NAME_COMMANDS = _TEXT_COMMANDS | _BOLD_COMMANDS | {"mathrm", "mathit", "mathsf", "operatorname", "mathcal"}
#: Commands whose argument ``1`` (or ``I``, for the blackboard ones) is the indicator function.
_INDICATOR_COMMANDS = {"mathbb": frozenset("1I"), **dict.fromkeys(("mathbbm", "mathds", "mathbf", "boldsymbol", "bm"),
                                                                  frozenset("1"))}
#: Accents make a quantity of its own (the prediction \hat{y} is no function of the label y).
_ACCENTS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde", "widetilde": "tilde"}
NOT_EQUATION = frozenset({
    "<", ">", "in", "notin", "le", "leq", "ge", "geq", "ne", "neq", "approx", "sim", "propto", "equiv", "to",
    "rightarrow", "Rightarrow", "mapsto", "implies", "iff", "subset", "subseteq", "leqslant", "geqslant", "ll", "gg",
})
#: Arrows that make an update only in its shape, w \to w - \eta g (x \to z_1 \to a_1 draws a graph).
_MAPS_TO = frozenset({"to", "mapsto"})
#: The relations a side condition may state, as SymPy builds them.
_CONDITIONS: dict[str, type[sp.Basic]] = {
    "=": sp.Eq, "<": sp.StrictLessThan, ">": sp.StrictGreaterThan, "ne": sp.Ne, "neq": sp.Ne,
    "le": sp.LessThan, "leq": sp.LessThan, "leqslant": sp.LessThan,
    "ge": sp.GreaterThan, "geq": sp.GreaterThan, "geqslant": sp.GreaterThan,
}
_DOTS = frozenset({"dots", "ldots", "cdots"})
_SINGLE_OPS = frozenset("+-*/^_()[]{}=,.;'|<>!:")
#: Unicode that keys paste into math (MathJax shows it as LaTeX would): each character as the tokens it stands for.
_UNICODE: dict[str, tuple[tuple[str, str], ...]] = {
    "−": (("op", "-"),), "·": (("op", "*"),), "×": (("op", "*"),), "′": (("op", "'"),), "←": (("op", "<-"),),
    "‖": (("op", "‖"),), "²": (("op", "^"), ("num", "2")), "³": (("op", "^"), ("num", "3")),
    "ŷ": (("cmd", "hat"), ("word", "y")), "ȳ": (("cmd", "bar"), ("word", "y")),
    **{ch: (("cmd", name),) for ch, name in zip(
        "αβγδεηθλμστφωℓ∂∇∑∏∞≠≤≥≈∈→↦…⋯⊤",
        "alpha beta gamma delta epsilon eta theta lambda mu sigma tau phi omega ell partial nabla sum prod infty "
        "ne le ge approx in to mapsto dots cdots top".split(), strict=True)},
}
#: Brackets, and what closes each; | and ‖ (an absolute value, a norm) both open and close.
_GROUPS = {"(": ")", "[": "]", "{": "}", "\\{": "\\}", "|": "|", "‖": "‖"}
_T = TypeVar("_T")

#: Words of prose, which a one-word ``\text{…}`` is (any other word there is a name: \text{loss}, \text{MSE}).
_PROSE_WORDS = frozenset("""
    and or for if iff where with let so then thus hence since when whenever given all each every any otherwise
    else by as is are be using because therefore also note see at on in of to the a an from here now which that
    while holds gives yields finally similarly same ie eg etc provided assuming
""".split())
#: How strongly a separator parts two relations: prose names what follows ("where" a definition, "for" a
#: condition), and of several separators in a row (``, \qquad \text{where }``) the strongest one tells.
_JOINT_RANK = {"space": 0, "comma": 1, "and": 2, "prose": 3, "start": 4, "condition": 5, "where": 6}


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
    sinh cosh coth arcsin arccos arctan sec csc cot
    therefore because color textcolor colorbox intertext hspace vspace thinspace medspace thickspace enspace
    hfill newline qed eqqcolon eqref ref label mathrel mathbin mathop over atop
""".split())
#: Every command a dropped piece of prose may hold without being broken LaTeX (the parser's own, and the others).
_KNOWN_COMMANDS = (_OTHER_LATEX | _GREEK | set(_GREEK_VARIANTS) | NOT_EQUATION | set(_ACCENTS) | set(_BUILTINS)
                   | {"frac", "dfrac", "tfrac", "cfrac", "substack", "leqslant", "geqslant"})


def _braces_close(text: str) -> bool:
    """Whether every ``{`` of ``text`` is closed by a ``}`` (``\\{`` and ``\\}`` are characters): the one check of
    a formula too long to read that tells a long formula from a broken one."""
    depth = 0
    for match in re.finditer(r"\\.|[{}]", text, re.S):
        depth += {"{": 1, "}": -1}.get(match.group(), 0)
        if depth < 0:
            return False
    return depth == 0


def _unbalanced(tokens: list[Token]) -> Token | None:
    """The first token where the (, [, { and \\{ among ``tokens`` stop closing by their own kind, in order, or
    None when they all do (| and ‖ are left out: they both open and close)."""
    open_groups: list[tuple[str, Token]] = []
    for token in tokens:
        if token.kind != "op" or token.text in ("|", "‖"):
            continue
        if token.text in _GROUPS:
            open_groups.append((_GROUPS[token.text], token))
        elif token.text in _GROUPS.values() and (not open_groups or open_groups.pop()[0] != token.text):
            return token
    return open_groups[0][1] if open_groups else None


def _balanced(tokens: list[Token]) -> bool:
    """Whether every (, [, { and \\{ among ``tokens`` is closed by its own kind, in order."""
    return _unbalanced(tokens) is None


#: Errors that, in a formula whose brackets and braces all close, mean the parser met notation it does not read
#: (``\\left. f \\right|_{w=0}``, ``L(\\mathbf{w}; \\mathbf{x})``, ``w_{t+1}``, ``\\triangleq``), not a formula
#: missing a brace or an argument: such a formula is unrecognized, and does not fail the check as broken.
_STUCK = ("expected an operator or the end", "expected ')' to close", "expected ']' to close",
          "expected '}' to close", "expected a subscript of letters and digits", "expected an expression")


#: The names a number of samples goes by (the 1/m of a mean).
_SAMPLE_SIZES = frozenset({"m", "M", "n", "N"})
#: Letters for the iterate of gradient descent in a superscript: w^{(t)}, w^{(\\tau+1)}, θ^{(s)}.
_STEP_LETTERS = frozenset({"t", "tau", "s", "r"})


class LatexParseError(ValueError):
    """LaTeX this parser cannot read; the one-line message names the column and what was expected.

    ``unsupported`` tells valid LaTeX this parser does not read (a transpose of a matrix, a second derivative),
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
    ``"="`` or ``"<-"`` (an update: ``\\leftarrow``, ``\\gets``, ``:=``, ``\\mapsto``).
    """

    lhs: sp.Expr | None
    rhs: tuple[sp.Expr, ...]
    relation: str
    #: Each right side as the key wrote it: 0.5 is a worked number there, where a side that SymPy reduces to
    #: a constant when it builds it (a_1 w_2 - w_2 a_1) is a formula.
    written: tuple[str, ...] = field(default=(), compare=False)
    #: Where the relation starts in the text (1-based), so that a verdict on the second relation of a display
    #: can point at it.
    column: int = field(default=1, compare=False)
    #: Side conditions on the indices or values (``\text{for } l \ne j`` → Ne(l, j)): the claim holds only where
    #: they do, so a counterexample must satisfy them.  "for all j" adds none.
    conditions: tuple[sp.Basic, ...] = ()
    #: Stated after ``\text{where}`` (or with, let, given): a definition the key gives, not a claim to judge.
    where: bool = False
    #: Sample superscripts (x^{(i)}) or an average over the samples (\frac{1}{m}\sum_i) were removed: the
    #: relation is the per-sample claim.
    per_sample: bool = False
    #: For the left side and each right side: how the sums over the samples dropped from it were written, a mean
    #: (\frac{1}{m}\sum_i) or a total (\sum_i alone); ("", "mean", "total") for J, its mean and a total.  A per-sample
    #: claim reads both the same; a key that defines its loss as a mean and states its gradient as a total has
    #: dropped the 1/m.
    scales: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Token:
    """``kind`` is num, word (a run of letters), name (a protected name), function (\\operatorname), cmd, op,
    space (\\quad, \\qquad), text (prose in \\text{…}), indicator (\\mathbb{1}) or end."""

    kind: str
    text: str
    column: int


def parse_expression(text: str, functions: frozenset[str] = DEFAULT_FUNCTIONS) -> sp.Expr:
    """The SymPy value of one LaTeX expression (no relation); ``functions`` are the names applied before ``(``.

    Spacing is spacing here, and prose (``x w_1 \\text{ at the start}``) ends the expression.
    """
    tokens = _expression_tokens(_tokens(text, functions))
    return _parse(tokens, text, functions, _letters(tokens), lambda parser: parser.expression())


def parse_condition(text: str) -> list[sp.Basic]:
    """A formula that is only a side condition on indices (``$l \\ne k$`` in the prose before a display), as the
    SymPy relations a relation's ``conditions`` hold; raises :class:`LatexParseError` for anything else."""
    tokens = _expression_tokens(_tokens(text, DEFAULT_FUNCTIONS))
    return _parse(tokens, text, DEFAULT_FUNCTIONS, _letters(tokens), lambda parser: parser.condition(INDEX_LETTERS))


def parse_relations(text: str, functions: frozenset[str] = DEFAULT_FUNCTIONS,
                    indices: frozenset[str] = frozenset(), rows: frozenset[str] = frozenset(),
                    samples: frozenset[str] = frozenset()) -> list[Relation]:
    """Every relation of one display, in order, with its side conditions.

    Relations are separated at the top level by ``,``, ``;``, ``\\quad``, ``\\qquad`` and prose (``\\text{and}``);
    a relation after ``\\text{where }`` is a definition (``where=True``); a piece without a relation is a condition
    of the relation before it (``l \\ne j``) or prose, which is dropped.  Raises :class:`LatexParseError` when a
    piece cannot be read, or when the display holds no relation ("not an equation").  ``indices`` are letters that
    index besides :data:`INDEX_LETTERS`: those the whole key sums over (``\\sum_{c=1}^{C}`` makes z_c an entry).
    ``rows`` are the letters of vectors ``\\mathbf{w}_c`` that the key writes as rows of a matrix (w_{cj}, the
    class first), whose components put their own subscript first.  ``samples`` are letters that the key writes
    as a subscript for the sample (Bishop's x_n, t_n, as x^{(n)} is read): dropped as the superscript is.
    """
    return _Display(text, functions, indices, rows, samples).relations()


def parse_relation(text: str, functions: frozenset[str] = DEFAULT_FUNCTIONS) -> Relation:
    """One LaTeX equation, update rule or continuation line as a :class:`Relation`.

    A display of several relations gives its first one (with its conditions): :func:`parse_relations` gives them all.
    """
    return parse_relations(text, functions)[0]


def _tokens(text: str, functions: frozenset[str]) -> list[Token]:
    """The tokens of ``text``, refusing what is no text at all and what holds nothing but spacing."""
    if not isinstance(text, str):
        raise LatexParseError(f"expected a string, got {type(text).__name__}", 1)
    tokens = tokenize(text, functions)
    if all(token.kind in ("space", "end") for token in tokens):
        raise LatexParseError("empty input, expected an expression", tokens[-1].column)
    return tokens


def _expression_tokens(tokens: list[Token]) -> list[Token]:
    """An expression's tokens: spacing dropped, and cut at the first prose outside braces (as LaTeX reads it, what
    follows \\text{…} is the sentence's, not the formula's)."""
    kept, depth, end = [], 0, tokens[-1].column
    for token in tokens[:-1]:
        if token.kind == "text" and depth == 0:
            end = token.column
            break
        depth = max(0, depth + _depth_change(token))
        if token.kind != "space":
            kept.append(token)
    return [*kept, Token("end", "", end)]


def _letters(tokens: list[Token]) -> frozenset[str]:
    """Every letter a formula writes, which the summation index of its dot products must not be."""
    return frozenset(c for token in tokens if token.kind == "word" for c in token.text)


def _parse(tokens: list[Token], text: str, functions: frozenset[str], letters: frozenset[str],
           parse: Callable[[_Parser], _T], indices: frozenset[str] = INDEX_LETTERS,
           rows: frozenset[str] = frozenset(), samples: frozenset[str] = frozenset()) -> _T:
    """Parse ``tokens`` (ending with an ``end`` token), turning every failure (even one inside SymPy) into a
    one-line LatexParseError."""
    if tokens[0].kind == "end":
        raise LatexParseError("empty input, expected an expression", tokens[0].column)
    parser = _Parser(tokens, functions, text, letters, indices, rows, samples)
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

    Thin spacing, sizing (``\\left``, ``\\big``), ``&`` and ``$`` vanish here, so the
    parser only sees mathematics; ``\\quad`` and prose (``\\text{for all } j``) stay
    as tokens, because they separate the relations of a display.  Trailing ``,``
    ``.`` ``;`` are dropped.
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
        elif ch in _SINGLE_OPS:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            tokens.append(Token("op", ch, start + 1))
            i += 1
        elif ch in _UNICODE:
            tokens.extend(Token(kind, value, start + 1) for kind, value in _UNICODE[ch])
            i += 1
        elif ch == "\\":
            i = _command(text, i, tokens, names, depth)
        else:
            raise LatexParseError(f"unexpected character {ch!r}", start + 1)
    while tokens and tokens[-1].kind == "op" and tokens[-1].text in ",.;":
        tokens.pop()
    tokens.append(Token("end", "", min(i, len(text)) + 1))
    return tokens


def _command(text: str, i: int, tokens: list[Token], names: frozenset[str], depth: int) -> int:
    """Read the command at ``text[i] == '\\'`` into ``tokens``; the index after it."""
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
        return j
    if name in _SPACING:
        tokens.append(Token("space", name, i + 1))
        return j
    if name in _IGNORED_COMMANDS:
        if name in ("left", "right"):  # \left. and \right. are invisible delimiters
            k = _skip_spaces(text, j)
            return k + 1 if text.startswith(".", k) else j
        return j
    if name in _COMMAND_OPS:
        tokens.append(Token("op", _COMMAND_OPS[name], i + 1))
        return j
    if name in _INDICATOR_COMMANDS:
        argument = _read_argument(text, j)
        if argument is not None and argument[0].strip() in _INDICATOR_COMMANDS[name]:
            tokens.append(Token("indicator", argument[0].strip(), i + 1))  # \mathbb{1}, \mathbf{1}: not a letter's name
            return argument[1]
    if name in _NAME_COMMANDS:
        return _name_command(text, i, j, name, tokens, names, depth)
    if not (name.isascii() and name.isalpha()):
        raise LatexParseError(f"unsupported command {chr(92) + name!r}", i + 1)
    tokens.append(Token("cmd", name, i + 1))
    return j


def _skip_spaces(text: str, k: int) -> int:
    while k < len(text) and text[k] in " \t\r\n":
        k += 1
    return k


def _read_argument(text: str, j: int) -> tuple[str, int] | None:
    """The argument of the command that ends at ``j``: a braced group's content (as written), one letter or digit,
    or one command (``\\theta``); and the index after it.  None when there is none, or its brace never closes."""
    k = _skip_spaces(text, j)
    if text.startswith("{", k):
        end, level = k + 1, 1
        while end < len(text) and level:
            level += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        return None if level else (text[k + 1 : end - 1], end)
    if k < len(text) and text[k].isascii() and text[k].isalnum():
        return text[k], k + 1
    if text.startswith("\\", k) and k + 1 < len(text) and text[k + 1].isalpha():
        end = k + 1
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        return text[k:end], end
    return None


def _name_command(
    text: str, i: int, j: int, name: str, tokens: list[Token], names: frozenset[str], depth: int
) -> int:
    """``\\mathbf{x}``, ``\\mathrm{Loss}``, ``\\mathcal{L}``, ``\\operatorname{ReLU}``, ``\\text{…}``: names, not xy."""
    if name == "operatorname" and text.startswith("*", j):  # \operatorname*{argmax}: limits below, the same name
        j += 1
    argument = _read_argument(text, j)
    if argument is None:
        k = _skip_spaces(text, j)
        if text.startswith("{", k):
            raise LatexParseError(f"unbalanced '{{' after \\{name}", k + 1)
        raise LatexParseError(f"expected '{{' after \\{name}", k + 1)
    raw, end = argument
    content = raw.strip()
    column = i + 1
    letters = content.isascii() and content.isalpha()
    if name in _TEXT_COMMANDS:
        if not content:
            return end  # \text{ } is spacing
        one_word = letters and raw == content and content.lower() not in _PROSE_WORDS  # \text{loss}: a name
        if content in names or (letters and (len(content) == 1 or depth > 0 or one_word)):
            tokens.append(Token("word" if len(content) == 1 else "name", content, column))
            return end
        if depth > 0:
            raise LatexParseError(f"unsupported \\{name}{{...}} inside braces", column, unsupported=True)
        tokens.append(Token("text", content, column))  # prose: it separates, or conditions, the relations
        return end
    if name in _BOLD_COMMANDS:
        greek = content.startswith("\\") and content[1:] in _GREEK
        if content.isdigit():  # \mathbf{0}: a vector of zeros, valid LaTeX that symgrad does not read
            raise LatexParseError(f"a vector of numbers (\\{name}{{{content}}}) is not supported", column,
                                  unsupported=True)
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
    return end


# ---- a display: its relations, their conditions, and prose ----------------------------------------------------
@dataclass
class _Piece:
    """A stretch of a display between two top-level separators, and how it joins what precedes it."""

    tokens: list[Token]
    joint: str  # start, space, comma, and, prose, condition or where (see _JOINT_RANK)
    end: int  # the column where it ends, which its end token carries


def _depth_change(token: Token) -> int:
    """+1 where a bracket opens, -1 where one closes: commas inside them (f(a, b), w_{1,2}) separate nothing."""
    if token.kind == "op":
        return 1 if token.text in ("(", "[", "{", "\\{") else -1 if token.text in (")", "]", "}", "\\}") else 0
    if token.kind == "cmd":
        return 1 if token.text == "langle" else -1 if token.text == "rangle" else 0
    return 0


def _is_dots(token: Token) -> bool:
    """``\\dots``, ``\\ldots``, ``\\cdots`` or a ``.`` of ``...``: what makes the commas around it a list's."""
    return (token.kind == "cmd" and token.text in _DOTS) or (token.kind == "op" and token.text == ".")


def _neighbour(tokens: list[Token], n: int, step: int) -> Token:
    """The token beside ``tokens[n]`` (``step`` is -1 or 1), spacing skipped."""
    k = n + step
    while 0 <= k < len(tokens) and tokens[k].kind == "space":
        k += step
    return tokens[k] if 0 <= k < len(tokens) else tokens[-1]


def _separator(tokens: list[Token], n: int) -> str | None:
    """How ``tokens[n]``, at the top level, parts what is before it from what is after (a joint of _JOINT_RANK),
    or None when it parts nothing: the commas of a list (x_1, \\dots, x_k) belong to the list."""
    token = tokens[n]
    if token.kind == "space":
        return "space"
    if token.kind == "text":
        return _prose_joint(token.text)
    if token.kind == "op" and token.text in (",", ";", ":"):  # for l \ne j: …, too
        if _is_dots(_neighbour(tokens, n, -1)) or _is_dots(_neighbour(tokens, n, 1)):
            return None
        return "comma"
    if token.kind == "cmd" and token.text == "approx":  # L = -\ln 0.5 \approx 0.693: the rounding is no claim
        return "prose"
    return None


def _prose_joint(content: str) -> str:
    """What the prose between two formulas makes of the next one: "where"/"with"/"let"/"given" a definition,
    "for"/"if"/"when" a condition, "and" or a comma another relation, anything else (so, hence) prose."""
    words = re.findall(r"[a-z]+", content.lower())
    if words[:1] == ["and"] and len(words) > 1:
        words = words[1:]
    if not words or words == ["and"]:
        return "and"
    if words[0] in ("where", "with", "let", "given"):
        return "where"
    quantifier = set(words[1:]) <= {"all", "every", "each", "any", "some", "that"}  # not "for the sigmoid,"
    if words[0] in ("for", "if", "when", "whenever", "provided", "assuming") and quantifier:
        return "condition"
    return "prose"


def _split(tokens: list[Token]) -> list[_Piece]:
    """The pieces of a display between its top-level separators, each with the strongest joint before it."""
    pieces: list[_Piece] = []
    current: list[Token] = []
    joint, depth = "start", 0
    for n, token in enumerate(tokens[:-1]):
        separator = _separator(tokens, n) if depth == 0 else None
        if separator is not None:
            if current:
                pieces.append(_Piece(current, joint, token.column))
                current, joint = [], separator
            elif _JOINT_RANK[separator] > _JOINT_RANK[joint]:
                joint = separator
            continue
        depth = max(0, depth + _depth_change(token))
        if token.kind != "space":
            current.append(token)
    if current:
        pieces.append(_Piece(current, joint, tokens[-1].column))
    return pieces


def _merge_spacing(pieces: list[_Piece]) -> list[_Piece]:
    """Join back what a \\quad only spaced: ``(1 - a_2) \\quad \\times w_2`` is one product; a \\quad before a
    relation, a condition or prose (``\\quad (\\text{by the chain rule})``) does separate."""
    merged: list[_Piece] = []
    for piece in pieces:
        spaced = piece.joint == "space" and merged and _kind(piece.tokens) == "plain"
        if spaced and not any(t.kind == "text" or _is_dots(t) or t.text == "forall" for t in piece.tokens):
            merged[-1] = _Piece(merged[-1].tokens + piece.tokens, merged[-1].joint, piece.end)
        else:
            merged.append(piece)
    return merged


def _top_signs(tokens: list[Token]) -> set[str]:
    """The relation signs of ``tokens`` outside brackets (=, <-, \\ne, \\in, …)."""
    signs: set[str] = set()
    depth = 0
    for token in tokens:
        relation = (token.kind == "op" and token.text in ("=", "<-", "<", ">")) or (
            token.kind == "cmd" and token.text in NOT_EQUATION)
        if depth == 0 and relation:
            signs.add(token.text)
        depth = max(0, depth + _depth_change(token))
    return signs


def _parenthesised(tokens: list[Token]) -> list[Token] | None:
    """The inside of ``tokens`` when one pair of parentheses encloses them all (``(l \\neq j)``), else None."""
    if len(tokens) < 2 or not (tokens[0].kind == "op" and tokens[0].text == "(" and tokens[-1].text == ")"):
        return None
    depth = 0
    for token in tokens[:-1]:
        depth += _depth_change(token)
        if depth <= 0:
            return None
    return tokens[1:-1]


def _is_letter(token: Token, letters: frozenset[str] | None = None) -> bool:
    """A bare one-letter name (``j``, ``\\ell``), one of ``letters`` if given."""
    name = token.text if token.kind == "word" and len(token.text) == 1 else (
        token.text if token.kind == "cmd" and token.text in _GREEK else None)
    return name is not None and (letters is None or name in letters)


def _is_range(tokens: list[Token]) -> bool:
    """``j = 1, \\dots, k``: an index and the values it runs through, which is no equation."""
    return len(tokens) > 2 and _is_letter(tokens[0]) and tokens[1].text == "=" and any(map(_is_dots, tokens))


def _is_index_equation(tokens: list[Token]) -> bool:
    """``j = l`` or ``k = 1`` after a relation: a condition on its indices, not a claim."""
    return (len(tokens) == 3 and _is_letter(tokens[0], INDEX_LETTERS) and tokens[1].text == "="
            and (_is_letter(tokens[2], INDEX_LETTERS) or tokens[2].kind == "num"))


def _kind(tokens: list[Token]) -> str:
    """What a piece says: a relation, the range of an index, an arrow (maybe an update), a condition, or plain."""
    signs = _top_signs(tokens)
    if signs & {"=", "<-"}:
        return "range" if _is_range(tokens) else "relation"
    if tokens and tokens[0].kind == "cmd" and tokens[0].text == "forall":
        return "condition"
    if signs and signs <= _MAPS_TO:
        return "arrow"
    inner = _parenthesised(tokens)
    return "condition" if signs or (inner is not None and _top_signs(inner)) else "plain"


def _refuse_broken(tokens: list[Token]) -> None:
    """Prose dropped from a display is not read, but it is still LaTeX: a bracket that does not close or an unknown
    command (\\fracc) is broken there as anywhere else."""
    token = _unbalanced(tokens)
    if token is not None:
        what = "is never closed" if token.text in _GROUPS else "closes nothing"
        raise LatexParseError(f"'{token.text}' {what}", token.column)
    for token in tokens:
        if token.kind == "cmd" and token.text not in _KNOWN_COMMANDS:
            raise LatexParseError(f"unknown command '\\{token.text}'", token.column)


class _Display:
    """One display cut into its relations and their side conditions (see :func:`parse_relations`)."""

    def __init__(self, text: str, functions: frozenset[str], indices: frozenset[str] = frozenset(),
                 rows: frozenset[str] = frozenset(), samples: frozenset[str] = frozenset()) -> None:
        self.text, self.functions, self.indices, self.rows = text, functions, INDEX_LETTERS | indices, rows
        self.sample_letters = samples
        tokens = _tokens(text, functions)
        self.letters = _letters(tokens)
        self.pieces = _merge_spacing(_split(tokens))
        self.found: list[Relation] = []
        self.pending: list[sp.Basic] = []  # conditions stated before the relation they belong to

    def relations(self) -> list[Relation]:
        """The relations in order; a display with none is not an equation (a mention, a condition, prose)."""
        for piece in self.pieces:
            self.read(piece)
        if not self.found:
            raise self.no_relation()
        return self.found

    def read(self, piece: _Piece) -> None:
        """Add what ``piece`` says: a relation, a condition on the last one, or nothing (prose, "for all j")."""
        kind = _kind(piece.tokens)
        index_equation = piece.joint not in ("start", "where") and _is_index_equation(piece.tokens)
        if kind in ("relation", "arrow") and piece.joint != "condition" and not index_equation:
            relation = self.relation(piece, quiet=kind == "arrow")
            if relation is not None:
                self.found.append(replace(relation, conditions=(*relation.conditions, *self.pending)))
                self.pending = []
                return
        if kind in ("relation", "arrow", "condition"):
            self.condition(piece)
        elif kind == "range":
            _refuse_broken(piece.tokens)  # j = 1, \dots, k: no claim, and no condition
        else:
            self.prose(piece.tokens, piece.end)

    def parse(self, tokens: list[Token], end: int, parse: Callable[[_Parser], _T]) -> _T:
        """Parse one piece on its own (its columns still the display's), knowing every letter the display uses."""
        return _parse([*tokens, Token("end", "", end)], self.text, self.functions, self.letters, parse, self.indices,
                      self.rows, self.sample_letters)

    def relation(self, piece: _Piece, quiet: bool) -> Relation | None:
        """The relation of ``piece``; None when ``quiet`` and it is none (x \\to z_1 \\to a_1 is a graph)."""
        try:
            relation = self.parse(piece.tokens, piece.end, lambda parser: parser.relation())
        except LatexParseError as error:
            if quiet and (error.unsupported or error.message.startswith("not an equation")):
                return None  # \\mathbb{R} \\to \\mathbb{R}: no update, and no claim
            raise
        return replace(relation, where=piece.joint == "where")

    def condition(self, piece: _Piece) -> None:
        """Read a side condition (``l \\ne j``, ``(l \\neq j)``, ``\\forall j \\ne l``) onto the last relation;
        one that symgrad cannot state (``y \\in \\{0, 1\\}``) restricts nothing."""
        tokens, end = piece.tokens, piece.end
        if tokens[0].kind == "cmd" and tokens[0].text == "forall":
            tokens = tokens[1:]
        inner = _parenthesised(tokens)
        if inner is not None:
            tokens, end = inner, tokens[-1].column
        if not tokens or not _top_signs(tokens):  # \forall j, \text{for all } j: every j, no condition
            self.prose(tokens, end)
            return
        indices = self.indices | {s.name for r in self.found[-1:] for side in (r.lhs, *r.rhs) if side is not None
                                   for s in side.atoms(sp.Symbol) if s.is_integer}
        try:
            conditions = self.parse(tokens, end, lambda parser: parser.condition(indices))
        except LatexParseError as error:
            if error.unsupported:
                return
            raise
        if self.found:
            self.found[-1] = replace(self.found[-1], conditions=(*self.found[-1].conditions, *conditions))
        else:
            self.pending.extend(conditions)

    def prose(self, tokens: list[Token], end: int) -> None:
        """Drop math that states nothing (``, \\text{ the first node}``, ``x_1, \\dots, x_k``), but not broken LaTeX:
        it must read as an expression, or be one that is beyond this parser."""
        if not tokens:
            return
        try:
            self.parse(tokens, end, lambda parser: parser.expression())
        except LatexParseError as error:
            if not error.unsupported:
                raise

    def no_relation(self) -> LatexParseError:
        """Why a display with no relation is not an equation, in the words its first piece gives."""
        if not self.pieces:
            return LatexParseError("not an equation: only prose, no relation", 1)
        first = self.pieces[0]
        if all(_kind(piece.tokens) == "plain" for piece in self.pieces):  # a mention: \sum_{l=1}^{C} y_l
            return LatexParseError("not an equation: expected '=' or '\\leftarrow'", first.end)
        if _kind(first.tokens) == "range":
            return LatexParseError(f"not an equation: the range of the index {first.tokens[0].text}",
                                   first.tokens[0].column)
        try:
            self.parse(first.tokens, first.end, lambda parser: parser.relation())
        except LatexParseError as error:
            return error
        return LatexParseError("not an equation: a condition, no relation", first.tokens[0].column)


def _vector_letter(value: sp.Expr) -> str | None:
    """The letter that names the components of a vector: ``\\mathbf{w}`` → w (as ``w_i`` is named),
    ``\\boldsymbol{\\theta}`` → theta, and a bare letter (``w^T x``); None for anything else."""
    if not isinstance(value, sp.Symbol):
        return None
    match = re.fullmatch(r"\\mathbf\{\\?([A-Za-z]+)\}(?:_([A-Za-z]))?", value.name)
    if match:
        return match.group(1)
    return value.name if (len(value.name) == 1 and value.name.isalpha()) or value.name in _GREEK else None


def _component(vector: sp.Expr, letter: str, index: sp.Symbol, row: bool = False) -> sp.Indexed:
    """A vector's component at ``index``: w_i of \\mathbf{w}; of the k-th vector \\mathbf{w}_k (a column of a
    matrix, as softmax regression's class weights are), w_{ik}: its own subscript comes last, unless the key
    writes the vector as a row (``row``: its components are w_{kj}, the class first)."""
    column = re.fullmatch(r".*\}_([A-Za-z])", vector.name) if isinstance(vector, sp.Symbol) else None
    if column:
        own = sp.Symbol(column.group(1), integer=True, positive=True)
        return sp.IndexedBase(letter)[(own, index) if row else (index, own)]
    return sp.IndexedBase(letter)[index]


def _is_bold(value: sp.Expr) -> bool:
    """A bold name, which is a vector: \\mathbf{w}\\cdot\\mathbf{x} is a dot product, w \\cdot x a product."""
    return isinstance(value, sp.Symbol) and value.name.startswith("\\mathbf{")


class _Parser:
    """Recursive descent, one method per precedence level: relation < sum < product < sign < power < primary."""

    def __init__(self, tokens: list[Token], functions: frozenset[str], text: str = "",
                 letters: frozenset[str] = frozenset(), index_letters: frozenset[str] = INDEX_LETTERS,
                 rows: frozenset[str] = frozenset(), sample_letters: frozenset[str] = frozenset()) -> None:
        self.tokens = tokens
        self.index_letters = index_letters  # the letters that index: INDEX_LETTERS and those the key sums over
        self.rows = rows  # vectors \\mathbf{w}_c that are rows (w_{cj}): see _component
        self.sample_letters = sample_letters  # subscripts that name the sample (x_n): dropped, as x^{(n)} is
        self.text = text  # the source the tokens' columns point into
        self.pos = 0
        self.functions = functions
        self.names = DEFAULT_NAMES | {f for f in functions if len(f) > 1 and f.isalpha()} - _COMMAND_LETTERS
        self.letters = letters  # the letters the whole display writes: a dot product's index is none of them
        self.depth = 0
        self.bound = 0  # > 0 inside \sum limits, whose letters are positive integers (k, as in the models)
        self.indices: list[str] = []  # the letters that \sum binds: x_t indexes x inside \sum_t
        self.samples: list[str] = []  # the letters of the sample superscripts dropped so far (x^{(i)}: i)
        self.averages: list[frozenset[str]] = []  # sums over the samples dropped: the names their 1/m may have
        self.means = 0  # of those, the ones whose 1/m was found: averages (the rest are totals)
        self.steps: list[int] = []  # iterate superscripts dropped from the side being read: +1 for w^{(t+1)}
        self.unsummed = False  # the side being read has a 1/N and one sample's term, but no sum
        self.scales: list[str] = []  # each side's scale (scale_of_side), the left side first
        self.side_samples = 0  # how many sample markers had been dropped when the side began
        self.per_sample = False
        self.norms = 0  # > 0 inside \\| … \\|, where the next \\| closes
        self.commands = {
            "frac": self.fraction, "dfrac": self.fraction, "tfrac": self.fraction, "cfrac": self.fraction,
            "sqrt": self.square_root, "sum": self.big_operator, "prod": self.big_operator,
            "partial": self.partial, "nabla": self.nabla, "infty": self.infinity, "langle": self.inner_product,
            "max": self.extremum, "min": self.extremum,
            **dict.fromkeys(_ACCENTS, self.accent),
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
        at = token or self.peek()
        typo = at.kind == "cmd" and at.text not in _KNOWN_COMMANDS  # \cdott: a misspelt command is broken LaTeX
        stuck = message.startswith(_STUCK) and not typo  # balanced LaTeX the parser lost its way in: its limit
        column = at.column
        return LatexParseError(message, column, (unsupported or stuck) and _balanced(self.tokens))

    def describe(self, token: Token | None = None) -> str:
        token = token or self.peek()
        if token.kind == "end":
            return "end of input"
        if token.kind == "text":
            return "prose (\\text{...})"
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
        if lhs is not None:
            lhs = self.without_lost_average(lhs)
        next_iterate = set(self.steps) == {1}  # w^{(t+1)} = w^{(t)} - …: the next iterate, an update
        self.scales = [self.scale_of_side()]
        if lhs is not None and self.at(*_MAPS_TO, kind="cmd"):
            update = self.maps_to(lhs)
            if update is not None:
                return update
        operators, sides, written = [], [], []
        while self.at("=", "<-"):
            operators.append(self.advance())
            start = self.peek().column
            sides.append(self.without_lost_average(self.sum()))
            self.scales.append(self.scale_of_side())
            written.append(self.written_since(start))
        self.expect_end()
        if not sides:
            raise self.error("not an equation: expected '=' or '\\leftarrow'")
        arrows = [n for n, op in enumerate(operators) if op.text == "<-"]
        if arrows not in ([], [0]):
            raise self.error("an update arrow must come first, and only once", operators[arrows[-1]])
        return self.made(lhs, tuple(sides), "<-" if arrows or next_iterate else "=", tuple(written), self.scales)

    def made(self, lhs: sp.Expr | None, sides: tuple[sp.Expr, ...], relation: str,
             written: tuple[str, ...], scales: list[str] | None = None) -> Relation:
        """The Relation, with where it starts, whether samples were dropped from it and, when it was read side
        by side (not an update through \\mapsto), how each side takes the samples."""
        scales_read = tuple(scales) if scales is not None and len(scales) == len(sides) + 1 else ()
        return Relation(lhs, sides, relation, written, column=self.tokens[0].column, per_sample=self.per_sample,
                        scales=scales_read)

    def scale_of_side(self) -> str:
        """How the side just read wrote the sums over the samples it dropped: "mean", "total", "unsummed" (a 1/N
        before one sample's term, the sum left out), "sample" (one sample's quantities, no sum) or "" (none of
        the samples), and start the next side afresh."""
        sampled = len(self.samples) > self.side_samples
        scale = ("total" if self.averages else "mean" if self.means else "unsummed" if self.unsummed
                 else "sample" if sampled else "")
        self.averages, self.means, self.unsummed, self.side_samples = [], 0, False, len(self.samples)
        self.steps = []
        return scale

    def without_lost_average(self, side: sp.Expr) -> sp.Expr:
        """``\\frac{1}{N}(y_n - t_n)``: one sample's term under the 1/N of a mean whose sum was left out.  The 1/N
        is dropped, as a mean's is, and the side marked "unsummed", so that the sum's absence is told."""
        if self.averages or self.means or len(self.samples) <= self.side_samples:
            return side
        factors = list(sp.Mul.make_args(side))
        for position, factor in enumerate(factors):
            size = factor.base if isinstance(factor, sp.Pow) and factor.exp == -1 else None
            if isinstance(size, sp.Symbol) and size.name in _SAMPLE_SIZES:
                self.unsummed = True
                return sp.Mul(*factors[:position], *factors[position + 1:])
        return side

    def written_since(self, start: int) -> str:
        """The text of a side from column ``start`` to here, less a row's end ``\\\\``, spacing and punctuation."""
        side = self.text[start - 1 : self.peek().column - 1]
        return side.lstrip(" \t\n&").rstrip(" \t\n&,.;\\")

    def maps_to(self, lhs: sp.Expr) -> Relation | None:
        """``w \\to w - \\eta g`` or ``w \\mapsto …`` as an update; None unless it has that shape (a quantity, one
        arrow, and a right side that is it plus a step), since ``x \\to z_1 \\to a_1``, ``h \\to 0`` and
        ``z \\mapsto \\frac{1}{1 + e^{-z}}`` are no updates."""
        if not isinstance(lhs, (sp.Symbol, sp.Indexed)):
            return None
        position, tokens = self.pos, list(self.tokens)
        self.advance()
        start = self.peek().column
        try:
            side = self.sum()
        except LatexParseError:
            side = None
        if side is None or self.peek().kind != "end" or lhs not in sp.Add.make_args(side):
            self.pos, self.tokens = position, tokens
            return None
        return self.made(lhs, (side,), "<-", (self.written_since(start),))

    def condition(self, indices: frozenset[str]) -> list[sp.Basic]:
        """A side condition ``l \\ne j``, ``j = l``, ``1 \\le j \\le k`` as SymPy relations, its letters in ``indices``
        read as the indices they are; any other relation (``\\in``, ``\\approx``) is beyond this parser."""
        values, operators = [self.sum()], []
        while self.at("=", "<", ">") or self.at(*_CONDITIONS, kind="cmd"):
            operators.append(_CONDITIONS[self.advance().text])
            values.append(self.sum())
        if not operators or self.peek().kind != "end":
            raise self.error(f"a condition with {self.describe()} is not supported", unsupported=True)
        values = [self.as_index(value, indices) for value in values]
        return [op(a, b, evaluate=False) for op, a, b in zip(operators, values, values[1:], strict=False)]

    def as_index(self, value: sp.Expr, indices: frozenset[str] | set[str]) -> sp.Expr:
        """``value`` with its bare letters that are indices (j, l) made the positive integers that index w_j."""
        plain = {s: sp.Symbol(s.name, integer=True, positive=True) for s in value.atoms(sp.Symbol)
                 if s.name in indices and not s.is_integer}
        return value.xreplace(plain) if plain else value

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
        if token.kind == "cmd" and token.text in _OTHER_LATEX:  # 2\\ddot{y}: valid LaTeX after a term
            raise self.error(f"unsupported command {self.describe()}", unsupported=True)
        if self.at(",") and any(map(_is_dots, self.tokens[self.pos:])):  # \mathbf{x} = x_1, \dots, x_k
            raise self.error("a list of entries is not supported", unsupported=True)
        if token.kind == "text":
            raise self.error("prose (\\text{...}) inside brackets is not supported", unsupported=True)
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
        averages = len(self.averages)
        factors = [self.signed()]
        while True:
            if self.at("*"):
                star = self.advance()
                factor = self.signed()
                if self.is_dot(star) and _is_bold(factors[-1]) and _is_bold(factor):  # \mathbf{w}\cdot\mathbf{x}
                    factors[-1] = self.dot(factors[-1], factor, star)
                else:
                    factors.append(factor)
            elif self.at("/"):
                self.advance()
                factors.append(sp.Pow(self.signed(), -1))
            elif self.starts_factor():
                factors.append(self.power())
            elif len(factors) > 1 and all(isinstance(f, Partial) for f in factors):
                return sp.Mul(*factors, evaluate=False)  # a chain-rule product keeps its written order
            else:
                return self.without_averages(sp.Mul(*factors), averages)

    def is_dot(self, star: Token) -> bool:
        """Whether the product sign ``star`` was written as a dot (\\cdot, ·), not \\times or *."""
        return self.text.startswith(("\\cdot", "·"), star.column - 1)

    def without_averages(self, value: sp.Expr, start: int) -> sp.Expr:
        """``value`` less the 1/m of each average over the samples whose sum was dropped in it (from
        ``self.averages[start:]``): \\frac{1}{m}\\sum_{i=1}^{m} f^{(i)} is the one sample's f."""
        for n in range(len(self.averages) - 1, start - 1, -1):
            factors = list(sp.Mul.make_args(value))
            for position, factor in enumerate(factors):
                size = factor.base if isinstance(factor, sp.Pow) and factor.exp == -1 else None
                if isinstance(size, sp.Symbol) and size.name in self.averages[n]:
                    value = sp.Mul(*factors[:position], *factors[position + 1:])
                    del self.averages[n]
                    self.means += 1
                    break
        return value

    def starts_factor(self) -> bool:
        token = self.peek()
        if token.kind in ("num", "word", "name", "function", "indicator"):
            return True
        if token.kind == "op":  # not '|': it may close an absolute value; '‖' does only inside a norm
            return token.text in ("(", "[", "{", "\\{") or (token.text == "‖" and not self.norms)
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
            while self.sample_superscript():
                pass
            if not self.at("^"):
                return base
            caret = self.advance()
            transpose = self.transpose_length(base)
            if transpose:
                return self.dot_product(base, caret, transpose)
            if self.at("*"):
                raise self.error("a star marks a name such as y^*, not an expression")
            exponent = self.argument("the exponent")
            if isinstance(base, sp.Symbol) and self.is_function(base.name) and self.at("("):
                # \sigma^2(z) = (σ(z))², as \tanh^2(z) is: the power of a function's value, not σ² times z
                return self.factorial(self.raise_to(self.application(base.name, 0), exponent, caret))
            if self.at("_"):  # z^l_j, w^{[2]}_{jk}: a layer above the name, valid LaTeX that this parser does not read
                raise self.error("a superscript before a subscript (a layer index, as in z^l_j) is not supported",
                                 caret, unsupported=True)
            return self.factorial(self.raise_to(base, exponent, caret))

    def transpose_length(self, base: sp.Expr) -> int:
        """How many tokens after ``^`` mark a transpose (``T``, ``\\top``, ``\\intercal``, ``{\\mathsf T}``, braced or
        not); 0 for an exponent.  A bare T transposes only a vector's name: w^T, \\theta^T, \\mathbf{w}^T."""
        braced = self.at("{")
        token = self.peek(1 if braced else 0)
        if not braced and token.kind == "word" and token.text[0] == "T" and _vector_letter(base) is not None:
            self.split_first()  # w^Tx: LaTeX gives the superscript one letter
            token = self.peek()
        marked = (token.kind == "cmd" and token.text in ("top", "intercal")) or (
            token.kind == "word" and token.text == "T" and _vector_letter(base) is not None)
        if not marked:
            return 0
        if braced:
            return 3 if self.at("}", ahead=2) else 0
        return 1

    def dot_product(self, base: sp.Expr, caret: Token, length: int) -> sp.Expr:
        """``\\mathbf{w}^T\\mathbf{x}``, ``\\theta^\\top x``: the sum over the features, as ``\\sum_i w_i x_i`` reads.
        Any other transpose (of a matrix, or not before a vector) is valid LaTeX beyond this parser."""
        self.pos += length
        if _vector_letter(base) is None or not self.starts_factor():
            raise self.error("transposes are not supported, except in a dot product such as \\mathbf{w}^T\\mathbf{x}",
                             caret, unsupported=True)
        other = self.power()
        if _vector_letter(other) is None:
            raise self.error("transposes are not supported, except in a dot product such as \\mathbf{w}^T\\mathbf{x}",
                             caret, unsupported=True)
        return self.dot(base, other, caret)

    def dot(self, left: sp.Expr, right: sp.Expr, token: Token) -> sp.Sum:
        """Σ_i left_i right_i over the features, i a letter the display uses nowhere else, k the features' number."""
        index = sp.Symbol(self.free_letter(token), integer=True, positive=True)
        left_letter, right_letter = _vector_letter(left), _vector_letter(right)
        assert left_letter is not None and right_letter is not None
        size = SIZE if SIZE.name not in self.letters and SIZE.name not in self.indices else sp.Symbol(
            "n", integer=True, positive=True)  # z_k = \mathbf{w}_k^T\mathbf{x}: k counts classes there
        return sp.Sum(_component(left, left_letter, index, left_letter in self.rows)
                      * _component(right, right_letter, index, right_letter in self.rows), (index, 1, size))

    def free_letter(self, token: Token) -> str:
        """A summation index the display writes nowhere else (i if it can), for a sum it only implies."""
        letter = next((c for c in "ijlqnmprstuv" if c not in self.letters and c not in self.indices), None)
        if letter is None:
            raise self.error("no letter left for the index of a sum over the features", token, unsupported=True)
        return letter

    def sample_superscript(self) -> bool:
        """Drop ``^{(i)}`` (the i-th sample: x^{(i)} is the one sample's x) and say so; ``^{[2]}``, ``^{(2)}`` and
        ``^{(t+1)}`` name a layer or a step, which is valid LaTeX beyond this parser, never a power."""
        if not (self.at("^") and self.at("{", ahead=1) and self.at("(", "[", ahead=2)):
            return False
        inner = self.peek(3)
        letter = inner.kind == "word" and inner.text in self.index_letters
        if self.at("(", ahead=2) and letter and self.at(")", ahead=4) and self.at("}", ahead=5):
            self.samples.append(inner.text)
            self.per_sample = True
            self.pos += 6
            return True
        simple = inner.kind in ("word", "num") and self.at(")", ahead=4) and self.at("}", ahead=5)
        stepping = inner.kind == "word" or inner.kind == "cmd" and inner.text in _GREEK
        step = stepping and self.at("+", "-", ahead=4) and self.peek(5).kind == "num" and self.at(")", ahead=6)
        iteration = stepping and inner.text in _STEP_LETTERS
        if self.at("(", ahead=2) and iteration and (step or self.at(")", ahead=4)):
            # w^{(t+1)} = w^{(t)} - η ∇L: the iterates of gradient descent, an update once they are dropped
            offset = (1 if self.at("+", ahead=4) else -1) * int(self.peek(5).text) if step else 0
            self.steps.append(offset)
            self.pos += 8 if step else 6
            return True
        if self.at("[", ahead=2) or simple or step:
            raise self.error("a layer or step superscript (z^{[2]}, w^{(t)}) is not supported", unsupported=True)
        return False

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
            if token.text == "1" and self.at("(", "[", "\\{", ahead=1) and self.holds_relation(self.pos + 1):
                return self.indicator()  # 1(y = k), 1\{y = k\}
            return self.number()
        if token.kind == "indicator":
            return self.indicator()
        if token.kind == "word" and token.text[0] == "d":
            derivative = self.try_d_slash_derivative()
            if derivative is not None:
                return derivative
        if token.kind in ("word", "name", "function") or self.is_greek(token):
            return self.name()
        if token.kind == "op" and token.text in _GROUPS:
            self.norms += token.text == "‖"
            try:
                value = self.group()
            finally:
                self.norms -= token.text == "‖"
            if token.text == "‖":
                return self.norm(value)
            return sp.Abs(value) if token.text == "|" else value
        if token.kind == "cmd" and token.text in self.commands:
            return self.commands[token.text]()
        if token.kind == "cmd" and token.text in _BUILTINS:
            return self.builtin()
        if token.kind == "cmd":
            known = token.text in _OTHER_LATEX
            raise self.error(f"{'unsupported' if known else 'unknown'} command {self.describe()}", unsupported=known)
        if token.kind == "text":
            raise self.error("prose (\\text{...}) inside brackets is not supported", unsupported=True)
        raise self.error(f"expected an expression, found {self.describe()}")

    def holds_relation(self, position: int) -> bool:
        """Whether the bracket opening at ``position`` holds ``=`` or ``\\ne`` at its own level: 1(y = k) is an
        indicator, 1(a + b) a product."""
        level = 0
        for token in self.tokens[position:]:
            sign = (token.kind == "op" and token.text == "=") or (token.kind == "cmd" and token.text in ("ne", "neq"))
            if level == 1 and sign:
                return True
            level += _depth_change(token)
            if level <= 0 or token.kind == "end":
                return False
        return False

    # ---- atoms -------------------------------------------------------------------
    def number(self) -> sp.Expr:
        token = self.advance()
        whole, _, fraction = token.text.partition(".")
        if len(whole) + len(fraction) > MAX_DIGITS:  # valid, but more digits than Python converts or prints
            raise self.error(f"a number of more than {MAX_DIGITS:,} digits", token, unsupported=True)
        return sp.Rational(int((whole or "0") + fraction), 10 ** len(fraction))

    def indicator(self) -> sp.Expr:
        """``1(y = k)``, ``\\mathbb{1}[y = k]``, ``\\mathbb{1}\\{y = k\\}``, ``\\mathbb{1}_{y=k}``: Kronecker's delta of
        the two sides (1 - δ for ``\\ne``), which the reader of the key maps to the one-hot label's component."""
        token = self.advance()
        if self.at("_"):
            self.advance()
            self.expect("{", "after the '_' of an indicator, as in \\mathbb{1}_{y = k}")
            closers = ["}"]
            if self.at("\\{"):
                self.advance()
                closers.insert(0, "\\}")
        elif self.at("(", "[", "\\{"):
            closers = [_GROUPS[self.advance().text]]
        else:
            raise self.error("an indicator needs its condition, as in \\mathbb{1}[y = k]", token, unsupported=True)
        left = self.sum()
        if self.at(">", "<") or self.at("geq", "ge", "leq", "le", "geqslant", "leqslant", kind="cmd"):
            return self.step_indicator(left, token, closers)  # 1[u > 0]: ReLU's derivative, the step function
        if not (self.at("=") or self.at("ne", "neq", kind="cmd")):
            raise self.error("an indicator of other than '=', '\\ne', '<' or '>' is not supported", unsupported=True)
        equal = self.advance().text == "="
        right = self.sum()
        for closer in closers:
            self.expect(closer, f"to close the condition of the indicator at column {token.column}")
        indices = self.index_letters | set(self.indices)
        delta = sp.KroneckerDelta(self.as_index(left, indices), self.as_index(right, indices), evaluate=False)
        return delta if equal else 1 - delta

    def step_indicator(self, left: sp.Expr, token: Token, closers: list[str]) -> sp.Expr:
        """``1[u > 0]``, ``\\mathbb{1}\\{u \\ge 0\\}``: the step function of the difference (Heaviside's, 0 at
        the kink for a strict inequality, as ReLU's derivative is taken)."""
        relation = self.advance().text
        right = self.sum()
        for closer in closers:
            self.expect(closer, f"to close the condition of the indicator at column {token.column}")
        strict = relation in (">", "<")
        difference = left - right if relation in (">", "geq", "ge", "geqslant") else right - left
        return sp.Heaviside(difference, 0 if strict else 1)

    def name(self, bare: bool = False) -> sp.Expr:
        """A symbol with its subscript, star, primes and sample superscript, or an application when a function
        name meets ``(``."""
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
        indexable = token.kind == "cmd" or (token.kind == "word" and len(name) == 1)
        return self.decorated(name, indexable, applies=token.kind == "function")

    def decorated(self, name: str, indexable: bool, subscript: str | None = None, applies: bool = False) -> sp.Expr:
        """``name`` with what follows it, in any order: a subscript (an index for ``indexable`` names), ``^*``,
        primes and a sample superscript ``^{(i)}``; then its application to ``(…)`` if it is a function."""
        star, primes = False, 0
        while True:
            if subscript is None and self.at("_"):
                self.advance()
                subscript = self.subscript()
                continue
            if self.sample_superscript():
                continue
            mark, length = self.superscript_mark()
            if mark is None:
                break
            star, primes = star or mark == "*", primes + (mark == "'")
            self.pos += length
        if subscript is not None and subscript[0] in self.sample_letters and (
                len(subscript) == 1 or all(c in self.index_letters for c in subscript[1:])):
            self.samples.append(subscript[0])  # x_n, t_n, x_{ni}: the n-th sample's x, t and x_i
            self.per_sample = True
            subscript = subscript[1:] or None
        index = None
        if subscript is not None:
            named = f"{name}_{subscript}"
            # g_k'(z), and g_k(z) once g_k is a function: the function of unit k, not an entry of a vector g
            applied = self.at("(") and (primes or self.is_function(named))
            if indexable and (subscript in self.index_letters or subscript in self.indices) and not applied:
                index = sp.Symbol(subscript, integer=True, positive=True)
            else:
                name = named
                if primes and self.at("("):
                    self.functions = self.functions | {name}
        if star and not name.endswith("^*"):
            name += "^*"
        if index is None and self.at("(") and (applies or primes or self.is_function(name)):
            return self.application(name, primes)
        if index is None and applies and not primes:
            return self.operator(name)
        if primes:
            raise self.error("a prime must be followed by an argument, as in g'(z)")
        if index is not None:
            return sp.Indexed(sp.IndexedBase(name), index)
        return self.symbol(name)

    def operator(self, name: str) -> sp.Expr:
        """``\\operatorname{sech}^2 z`` = (sech z)^2, ``\\operatorname{ReLU} z`` = ReLU(z): an operator name applies
        to the next power, as ``\\tanh`` does (a symbol only when nothing follows it: ``\\operatorname{Loss} = …``)."""
        power = None
        if self.at("^"):
            caret = self.advance()
            power = (caret, self.argument(f"the power of {name}"))
        if self.at("("):
            value = self.application(name, 0)
        elif self.starts_factor():
            value = self.apply(name, [self.power()], 0)
        else:
            value = self.symbol(name)
        return value if power is None else self.raise_to(value, power[1], power[0])

    def is_function(self, name: str) -> bool:
        """Whether ``name`` applies to a parenthesis: a function name, or the activation of any layer (g_3, as g)."""
        base, _, layer = name.partition("_")
        return name in self.functions or (base in ("g", "f") and base in self.functions and layer.isdigit())

    def application(self, name: str, primes: int) -> sp.Expr:
        """``g_1(z_1)``, and ``\\mathrm{softmax}(\\mathbf{z})_j``: a subscript after the application of a function to
        a vector is its component's, as ``\\mathrm{softmax}(z_j)``."""
        arguments = self.call_arguments()
        letter = _vector_letter(arguments[0]) if len(arguments) == 1 and not primes else None
        if letter is not None and self.at("_"):
            self.advance()
            arguments = [self.component(letter, self.subscript())]
        return self.apply(name, arguments, primes)

    def component(self, letter: str, subscript: str) -> sp.Expr:
        """The component ``letter_subscript`` of a vector, named as ``name`` names ``z_j`` and ``z_2``."""
        if subscript in self.index_letters or subscript in self.indices:
            return sp.Indexed(sp.IndexedBase(letter), sp.Symbol(subscript, integer=True, positive=True))
        return self.symbol(f"{letter}_{subscript}")

    def accent(self) -> sp.Expr:
        """``\\hat{y}``, ``\\hat y``, ``\\bar{x}``, ``\\tilde{y}_i``, ``\\hat{y_i}``: a quantity of its own, named
        ``\\hat{y}`` however it is spaced (the prediction ŷ is no function of the label y)."""
        command = self.advance()
        braced = self.at("{")
        if braced:
            self.advance()
        head = self.peek()
        if head.kind == "word":
            self.split_first()
            inner = self.advance().text
        elif self.is_greek(head):
            inner = "\\" + _GREEK_VARIANTS.get(self.advance().text, head.text)
        elif head.kind == "name" and head.text.startswith("\\mathbf{"):
            inner = self.advance().text
        else:
            raise self.error(f"\\{command.text} over an expression is not supported", command, unsupported=True)
        subscript = None
        if braced:
            if self.at("_"):
                self.advance()
                subscript = self.subscript()
            if not self.at("}"):
                raise self.error(f"\\{command.text} over an expression is not supported", command, unsupported=True)
            self.advance()
        return self.decorated(f"\\{_ACCENTS[command.text]}{{{inner}}}", True, subscript)

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
        if self.at("=", "<-", "<", ">") or (self.peek().kind == "cmd" and self.peek().text in NOT_EQUATION):
            # P(Y = 1 \mid X), or an Iverson bracket [y = k] with no \mathbb{1} before it
            raise self.error(f"a relation inside '{opening.text}' is not supported", unsupported=True)
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

    def frac_derivative(self) -> sp.Expr | None:
        """``\\frac{\\partial u}{\\partial v}`` or ``\\frac{du}{dv}`` as Partial(u, v), and ``\\frac{\\partial (w_1
        w_2)}{\\partial w_1}`` as an unevaluated Derivative; None for a plain fraction."""
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
        return self.derivative(of, wrt)

    @staticmethod
    def derivative(of: sp.Expr, wrt: sp.Expr) -> sp.Expr:
        """∂of/∂wrt: a Partial of a quantity, an unevaluated Derivative of a compound (∂(w_1 w_2)/∂w_1)."""
        if isinstance(of, (sp.Symbol, sp.Indexed, sp.Function)):
            return Partial(of, wrt)
        return sp.Derivative(of, wrt)

    def operator_derivative(self) -> sp.Derivative:
        """``\\frac{\\partial}{\\partial v} f`` (or ``\\frac{d}{dv} f``): the next factor's derivative, unevaluated."""
        self.advance()  # {
        self.advance()  # \partial or d
        self.advance()  # }
        self.expect("{", "before the denominator of a derivative")
        wrt = self.differential("}", numerator=False)
        self.advance()
        return sp.Derivative(self.power(), wrt)

    def partial(self) -> sp.Expr:
        """``\\partial_{w_1} L`` (a subscript names the variable) or ``\\partial L / \\partial w_1``."""
        if self.at("_", ahead=1):
            return self.subscript_partial()
        return self.slash_derivative()

    def subscript_partial(self) -> Partial:
        """``\\partial_{w_1} L``, ``\\partial_w L``, ``\\partial_{z_j} \\mathcal{L}``: Partial(L, w_1), exactly as
        ``\\frac{\\partial L}{\\partial w_1}`` reads."""
        marker = self.advance()
        self.advance()  # _
        wrt = self.argument("the variable of \\partial_")
        if self.at("^") or self.at("partial", kind="cmd"):
            raise self.error("mixed and higher-order derivatives are not supported", marker, unsupported=True)
        if not self.starts_factor():
            raise self.error(f"expected the quantity after \\partial_{{...}}, found {self.describe()}")
        of = self.power()
        if not isinstance(wrt, (sp.Symbol, sp.Indexed)) or not isinstance(of, (sp.Symbol, sp.Indexed, sp.Function)):
            raise self.error("expected \\partial_{variable} of a quantity, as in \\partial_{w_1} L", marker)
        return Partial(of, wrt)

    def slash_derivative(self) -> sp.Expr:
        """``\\partial Loss / \\partial w_2`` (and ``dL/dw``) as Partial(Loss, w_2)."""
        of = self.differential("/", numerator=True)
        self.advance()
        return self.derivative(of, self.differential(None, numerator=False))

    def try_d_slash_derivative(self) -> sp.Expr | None:
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
        """``\\partial u`` or ``d u`` in a derivative: u is one variable below the line; above it a variable, a
        function value (∂σ(z), dh(\\mathbf{x}): a node written as one) or a bracketed compound (∂(w_1 w_2))."""
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
        bracketed = self.at("(", "[")
        value = self.power()
        allowed = (sp.Symbol, sp.Indexed, sp.Function)
        if isinstance(value, sp.Pow):
            raise self.error("higher-order derivatives are not supported", marker, unsupported=True)
        if not isinstance(value, allowed) and not (numerator and bracketed):
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
        following_name = (after.kind in ("word", "name", "function") or self.is_greek(after) or after.text == "^"
                          or (after.kind == "cmd" and after.text in _ACCENTS))
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
        """``\\nabla_{\\mathbf{w}} L`` as Partial(L, \\mathbf{w}); ``\\nabla L`` as Partial(L, NABLA), the gradient by
        the parameter of the update it appears in."""
        token = self.advance()
        wrt: sp.Expr = NABLA
        if self.at("_"):
            self.advance()
            wrt = self.argument("the subscript of \\nabla")
        if not self.starts_factor():
            raise self.error(f"expected the quantity after \\nabla, as in \\nabla_{{\\mathbf{{w}}}} L, found "
                             f"{self.describe()}")
        of = self.power()
        if not isinstance(wrt, (sp.Symbol, sp.Indexed)) or not isinstance(of, (sp.Symbol, sp.Indexed, sp.Function)):
            raise self.error("expected \\nabla_{variable} of a quantity", token)
        argument = of.args[0] if isinstance(of, AppliedUndef) and len(of.args) == 1 else None
        if wrt == NABLA and isinstance(argument, sp.Symbol) and _vector_letter(argument) is not None:
            return Partial(sp.Symbol(type(of).__name__), argument)  # \nabla E(\mathbf{w}): E's gradient by w
        return Partial(of, wrt)

    def inner_product(self) -> sp.Expr:
        """``\\langle \\mathbf{w}, \\mathbf{x} \\rangle``: the dot product over the features."""
        opening = self.advance()
        left = self.sum()
        self.expect(",", "between the two vectors of \\langle ... \\rangle")
        right = self.sum()
        self.expect_command("rangle", context=f"to close the \\langle at column {opening.column}")
        if _vector_letter(left) is None or _vector_letter(right) is None:
            raise self.error("an inner product of other than two vectors is not supported", opening, unsupported=True)
        return self.dot(left, right, opening)

    def norm(self, value: sp.Expr) -> sp.Expr:
        """``\\|\\mathbf{w}\\|`` (or ``\\|\\mathbf{w}\\|_2``): the Euclidean norm over the features, so that
        ``\\|\\mathbf{w}\\|^2`` is ``\\sum_i w_i^2``; the norm of a number is its absolute value."""
        if self.at("_") and self.at("2", kind="num", ahead=1):
            self.pos += 2
        letter = _vector_letter(value)
        if letter is None:
            return sp.Abs(value)
        index = sp.Symbol(self.free_letter(self.peek()), integer=True, positive=True)
        return sp.sqrt(sp.Sum(sp.IndexedBase(letter)[index] ** 2, (index, 1, SIZE)))

    def extremum(self) -> sp.Expr:
        """``\\max(0, z)``, ``\\min\\{a, b\\}``: SymPy's Max and Min (ReLU as keys define it)."""
        token = self.advance()
        if not self.at("(", "\\{"):
            raise self.error(f"\\{token.text} other than of a list, as in \\{token.text}(0, z), is not supported",
                             token, unsupported=True)
        opening = self.advance()
        arguments = [self.sum()]
        while self.at(","):
            self.advance()
            arguments.append(self.sum())
        self.expect(_GROUPS[opening.text], f"to close the '{opening.text}' at column {opening.column}")
        return (sp.Max if token.text == "max" else sp.Min)(*arguments)

    def big_operator(self) -> sp.Expr:
        """``\\sum_{i=1}^{k} w_i x_i``: the summand is a product of factors; it stops at + or -.  A sum over the
        samples (its index is the summand's sample superscript, x^{(i)}) is the summand itself: the per-sample claim."""
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
        lower, upper, given = sp.Integer(1), SIZE, False
        if braced:
            if self.at(","):  # \sum_{i,j}: which index runs over what is not written
                raise self.error(f"a \\{operator.text} over several indices is not supported; write one per index",
                                 operator, unsupported=True)
            if self.at("="):
                self.advance()
                lower = self.limit(self.sum)
            elif not self.at("}"):  # \sum_{k \neq c}, \sum_{j \in S}: a sum over a set, valid but not read
                raise self.error(f"a \\{operator.text} over a condition on its index is not supported",
                                 operator, unsupported=True)
            self.expect("}", f"to close the index of \\{operator.text}")
        if self.at("^"):
            self.advance()
            upper, given = self.limit(lambda: self.argument(f"the upper limit of \\{operator.text}")), True
        self.indices.append(letter)
        samples = len(self.samples)
        try:
            body = self.product()
        finally:
            self.indices.pop()
        if operator.text == "sum" and letter in self.samples[samples:]:
            sizes = {upper.name} if given and isinstance(upper, sp.Symbol) else {"m", "M", "n", "N"}
            self.averages.append(frozenset(sizes))
            return body
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

    def limit(self, parse: Callable[[], sp.Expr]) -> sp.Expr:
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
        """``\\ln x``, ``\\log(1 - a)``, ``\\log_2 x``, ``\\exp(z)``, ``\\tanh z``, and ``\\tanh^2 z`` = (\\tanh z)^2:
        a parenthesis or the next power."""
        token = self.advance()
        base = power = None
        primes = 0
        while self.at("'"):  # \tanh'(z): the function's derivative at z
            self.advance()
            primes += 1
        if primes:
            return self.apply(token.text, self.call_arguments() if self.at("(") else [self.power()], primes)
        if not self.starts_factor() and not self.at("(", "^", "_"):
            return sp.Symbol(token.text)  # g_1 = \tanh: the function itself, named (the key binds g_1 to it)
        if token.text == "log" and self.at("_"):
            self.advance()
            base = self.argument("the base of \\log")
        if self.at("^"):
            caret = self.advance()
            power = (caret, self.argument(f"the power of \\{token.text}"))
        if self.at("("):
            arguments = self.call_arguments()
            if len(arguments) != 1:
                raise self.error(f"\\{token.text} takes one argument", token)
            argument = arguments[0]
        else:
            argument = self.power()
        if token.text == "exp":
            self.refuse_huge_exponent(argument, token)
        value = _BUILTINS[token.text](argument) if base is None else sp.log(argument, base)
        return value if power is None else self.raise_to(value, power[1], power[0])

    def infinity(self) -> sp.Expr:
        self.advance()
        return sp.oo
