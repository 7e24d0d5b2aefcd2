"""Derivation → LaTeX fragment, standalone .tex document, Markdown, plain text, JSON.

Every format walks the same steps and prints every expression through the
model's handout printers (``printing.py``); nothing here knows any formula.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace

import sympy as sp

from symgrad import __version__
from symgrad.derivation.steps import ASSIGN, Derivation, Equation, Result, Step, Text
from symgrad.model.functions import relu, sigmoid
from symgrad.model.graph import Notation
from symgrad.rendering.printing import HandoutLatexPrinter, HandoutTextPrinter, printers_for

FORMATS = ("latex", "tex", "markdown", "text", "json", "html")

_TEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                 "<": r"\textless{}", ">": r"\textgreater{}"}


def _escape_tex(text: str) -> str:
    return "".join(_TEX_SPECIALS.get(c, c) for c in text)


def _tex_comment(text: str) -> str:
    """``text`` as LaTeX comment lines: a line break in it (a file name may hold one) cannot end the comment."""
    return "".join(f"% {line}\n" for line in text.splitlines() or [""])


#: Characters that Markdown reads as syntax anywhere in a heading's text (CommonMark, GitHub's $ math and ~~
#: strikethrough, HTML tags and entities, a closing #); each is written backslash-escaped.  The others
#: (- + . ! | ( )) are syntax only at a line's start or after one of these, so a title keeps them as typed.
_MARKDOWN_SPECIALS = set("\\`*_{}[]<>#$&~")


def _escape_markdown(text: str) -> str:
    """``text`` shown as it is written in Markdown: no tag (<script>), no math ($$), no emphasis or link,
    on one line (a heading ends at a line break)."""
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIALS else c for c in " ".join(text.split()))


def _code_span(text: str) -> str:
    """``text`` as a Markdown code span, fenced with more backticks than any run of them inside it."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{' '.join(text.splitlines())}{padding}{fence}"


def _relation_latex(relation: str) -> str:
    return r"\leftarrow" if relation == ASSIGN else "="


def _relation_text(relation: str) -> str:
    return "←" if relation == ASSIGN else "="


#: A derivation without a model (the sigmoid identity) is about a function of one variable: s(γ), d/dγ.
_ONE_VARIABLE = Notation(functions={"sigmoid": "s"}, partial="d")


def _printers(derivation: Derivation) -> tuple[HandoutLatexPrinter, HandoutTextPrinter]:
    """The printers for ``derivation``: its model's notation, with its chain-rule products set apart."""
    return printers_for(derivation.model, derivation.chains, notation=_ONE_VARIABLE)


def shown_steps(derivation: Derivation) -> list[Step]:
    """The steps as printed: in each equation, a member that prints exactly as the one before it is left out
    (σ(z)(1 - σ(z)) = σ(z)(1 - σ(z)) where the model names its output σ(z)), and so is an equation that is left
    with nothing to say (σ(z) = σ(z)).  The derivation itself keeps them: they differ as SymPy trees."""
    latex, _ = _printers(derivation)
    shown = []
    for step in derivation.steps:
        equations = []
        for equation in step.equations:
            members, previous = [], latex.doprint(equation.lhs)
            for member in equation.rhs:
                printed = latex.doprint(member)
                if printed != previous:
                    members.append(member)
                previous = printed
            if members:
                equations.append(replace(equation, rhs=tuple(members)))
        shown.append(replace(step, equations=tuple(equations)))
    return shown


def equation_latex(derivation: Derivation, equation: Equation, align: bool = False) -> str:
    """One equation as LaTeX; with ``align``, ``&`` marks and ``\\\\`` between its members."""
    latex, _ = _printers(derivation)
    lhs = latex.doprint(equation.lhs)
    relation = _relation_latex(equation.relation)
    members = [latex.doprint(r) for r in equation.rhs]
    if not align:
        return f"{lhs} {relation} " + " = ".join(members)
    rows = []
    for position, (member, text) in enumerate(zip(equation.rhs, members, strict=True)):
        first, *rest = _broken(latex, member, text)
        rows.append(f"{lhs} &{relation} {first}" if position == 0 else f"&= {first}")
        rows += [rf"&\quad {line}" for line in rest]
    return " \\\\\n".join(rows)


#: How many characters of a formula, roughly, fit on a line of the page beside its left side.
_LINE_WIDTH = 60


def _broken(latex: HandoutLatexPrinter, member: sp.Expr, text: str) -> list[str]:
    """A display's member as rows: itself, or, when it is a sum too wide for the page, one term a row (the next
    rows begin with their sign, and are indented), as a textbook breaks a long formula at its + and -."""
    if not isinstance(member, sp.Add) or _visible_width(text) <= _LINE_WIDTH:
        return [text]
    terms = [latex.doprint(term) for term in member.args]
    if any("=" in term for term in terms[1:]):
        # symgrad check reads a row with an "=" in it (a sum's limits, j=1) as a relation of its own, not as the
        # rest of the row above: such a formula stays on one row, however wide
        return [text]
    return [terms[0]] + [term if term.startswith("-") else f"+ {term}" for term in terms[1:]]


def _visible_width(text: str) -> int:
    """Characters a formula shows on a line, roughly: its LaTeX without commands, braces, scripts' marks or spaces."""
    text = re.sub(r"\\(left|right|cdot|quad)\b", "", text)
    text = re.sub(r"\\[A-Za-z]+", "x", text)
    return len(re.sub(r"[{}^_ &]", "", text))


def _inline(derivation: Derivation, text: Text, math: Callable[[str], str], escape: Callable[[str], str]) -> str:
    """Prose with math in it (an explanation, a heading): the math as a line of text sets it, ∂Loss/∂a₂."""
    latex = _printers(derivation)[0].inline_printer()
    return "".join(escape(part) if isinstance(part, str) else math(latex.doprint(part)) for part in text)


def to_latex(derivation: Derivation, standalone: bool = False, inline_only: bool = False) -> str:
    """The derivation as LaTeX: a fragment (amsmath ``align*`` per step) or a whole document."""
    if inline_only:
        return _notebook_latex(derivation)

    def text(t: Text) -> str:
        return _inline(derivation, t, lambda m: f"${m}$", _escape_tex)

    parts = [rf"\section*{{\raggedright {_title_tex(derivation.title)}}}"]  # a long title is not justified
    for step in shown_steps(derivation):
        # the display follows its explanation with no blank line between: it is part of the paragraph, so
        # LaTeX never breaks the page before it (\predisplaypenalty), and the heading stays with both
        display = "\n\\begin{align*}\n" + _align_body(derivation, step) + "\n\\end{align*}" if step.equations else ""
        parts.append(rf"\subsection{{{text(step.title)}}}" + "\n" + text(step.explanation) + display)
    fragment = "\n\n".join(parts) + "\n"
    if not standalone:
        return fragment
    return (
        "\\documentclass[11pt]{article}\n"
        "\\usepackage[a4paper,hmargin=2.5cm,vmargin=2.2cm]{geometry}\n"
        "\\usepackage{amsmath,amssymb}\n"
        + _tex_comment(f"Written by symgrad {__version__}{_origin(derivation, 'tex')}")
        + _TEX_PREAMBLE
        + "\\begin{document}\n\n" + fragment + "\n\\end{document}\n"
    )


#: Steps numbered 1, 2, … as in the Markdown (not 0.1, 0.2 under an unnumbered section); no page break after
#: the first or before the last line of a paragraph, so that a heading is never left at a page's foot: after it
#: come its explanation (two or three lines) and its display, which LaTeX never breaks from the line before.
_TEX_PREAMBLE = r"""\renewcommand{\thesubsection}{\arabic{subsection}}
\clubpenalty=10000
\widowpenalty=10000
"""


#: A letter standing alone in a title is a quantity (k units, C classes, a bias b), set in math italic; "a" is the
#: article, and "A" and "I" words.
_LONE_LETTER = re.compile(r"(?<![A-Za-z0-9\\'’_-])([b-zB-HJ-Z])(?![A-Za-z0-9\\'’_-])")


def _title_tex(title: str) -> str:
    """A derivation's title in LaTeX: escaped, with a lone letter in math italic, as the text around it uses it."""
    return _LONE_LETTER.sub(r"$\1$", _escape_tex(title))


def _align_body(derivation: Derivation, step: Step) -> str:
    """A step's equations as the rows of one ``align*``.  Where an equation runs over several rows, the
    equations are set a little apart, so that the eye sees where one ends and the next begins."""
    separated = len(step.equations) > 1 and any(len(eq.rhs) > 1 for eq in step.equations)
    gap = " \\\\[1.5ex]\n" if separated else " \\\\\n"
    return gap.join(equation_latex(derivation, eq, align=True) for eq in step.equations)


def _notebook_latex(derivation: Derivation) -> str:
    """One ``aligned`` block for MathJax (Jupyter's text/latex): each step's number and title in bold on a row of
    its own, set apart from the equations below it; the title's math stays math, in bold."""
    latex, _ = _printers(derivation)
    rows: list[str] = []
    for number, step in enumerate(shown_steps(derivation), 1):
        title = "".join(rf"\textbf{{{part.replace('$', '')}}}" if isinstance(part, str)
                        else rf"\boldsymbol{{{latex.doprint(part)}}}" for part in (f"{number}. ", *step.title))
        if rows:
            rows[-1] += r" \\[2ex]"
        rows.append(rf"&{title}" + (r" \\[0.5ex]" if step.equations else ""))
        rows.append(" \\\\\n".join(equation_latex(derivation, eq, align=True) for eq in step.equations))
    return "\\begin{aligned}\n" + "\n".join(row for row in rows if row) + "\n\\end{aligned}"


def _origin(derivation: Derivation, fmt: str) -> str:
    """Where the document came from, to follow "Written by symgrad X.Y": the exact command that writes it again
    (``: symgrad derive two-weight-chain --loss cross-entropy --format tex``), or that its model was built in
    Python, which no command can rebuild."""
    command = derivation.reproduce
    if command is None:
        return " from a model built in Python (symgrad.ModelBuilder); no command line derives it"
    return f": {command} --format {fmt}"


def result_text(result: Result) -> str:
    """``result`` as one line of text in its model's notation, factors in chain order."""
    _, plain = printers_for(result.model, result.chains, notation=_ONE_VARIABLE)
    return f"{plain.doprint(result.lhs)} {_relation_text(result.relation)} {plain.doprint(result.form)}"


def result_latex(result: Result) -> str:
    """``result`` as one LaTeX equation in its model's notation, chain products set apart."""
    latex, _ = printers_for(result.model, result.chains, notation=_ONE_VARIABLE)
    return f"{latex.doprint(result.lhs)} {_relation_latex(result.relation)} {latex.doprint(result.form)}"


def to_markdown(derivation: Derivation) -> str:
    """GitHub- and Jupyter-flavoured Markdown: prose, with each step's equations in a ``$$`` block."""

    def text(t: Text) -> str:
        return _inline(derivation, t, lambda m: f"${m}$", lambda s: s)

    command = derivation.reproduce
    origin = f"({_code_span(command + ' --format markdown')})" if command else "from a model built in Python"
    lines = [f"# {_escape_markdown(derivation.title)}", "",
             f"*Derived by symgrad {__version__} {origin}; every equation below is proven by SymPy.*", ""]
    for number, step in enumerate(shown_steps(derivation), 1):
        lines += [f"## {number}. {text(step.title)}", "", text(step.explanation), ""]
        for equation in step.equations:
            aligned = equation_latex(derivation, equation, align=True)
            lines += ["$$", "\\begin{aligned}", aligned, "\\end{aligned}", "$$", ""]
    return "\n".join(lines)


def to_text(derivation: Derivation) -> str:
    """Plain Unicode for a terminal."""
    _, plain = _printers(derivation)

    def text(t: Text) -> str:
        return "".join(part if isinstance(part, str) else plain.doprint(part) for part in t)

    lines = [derivation.title, "=" * len(derivation.title), ""]
    for number, step in enumerate(shown_steps(derivation), 1):
        heading = f"{number}. {text(step.title)}"
        lines += [heading, "-" * len(heading), text(step.explanation)]
        for equation in step.equations:
            lhs = plain.doprint(equation.lhs)
            members = [plain.doprint(r) for r in equation.rhs]
            lines.append(f"  {lhs} {_relation_text(equation.relation)} {members[0]}")
            lines += [f"  {' ' * len(lhs)} = {m}" for m in members[1:]]
        lines.append("")
    return "\n".join(lines)


def portable(expr: sp.Expr) -> sp.Expr:
    """``expr`` with symgrad's own functions as plain undefined functions, so its srepr rebuilds in bare SymPy."""
    return expr.replace(lambda e: isinstance(e, (sigmoid, relu)), lambda e: sp.Function(type(e).__name__)(*e.args))


def to_json(derivation: Derivation) -> str:
    """Machine-readable: steps with LaTeX, and results with LaTeX and ``sympy.srepr``."""
    latex, _ = _printers(derivation)
    document = {
        "model": derivation.name,
        "title": derivation.title,
        "symgrad": __version__,
        "options": dict(derivation.model.options) if derivation.model else {},
        "steps": [
            {
                "title": _inline(derivation, step.title, lambda m: f"${m}$", lambda s: s),
                "explanation": _inline(derivation, step.explanation, lambda m: f"${m}$", lambda s: s),
                "equations": [{"latex": equation_latex(derivation, eq)} for eq in step.equations],
            }
            for step in shown_steps(derivation)
        ],
        "results": [
            {
                "name": result.name,
                "kind": result.kind,
                "latex": f"{latex.doprint(result.lhs)} {_relation_latex(result.relation)} {latex.doprint(result.form)}",
                "sympy": sp.srepr(portable(result.value)),
            }
            for result in derivation.results
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render(derivation: Derivation, fmt: str) -> str:
    """``derivation`` in one of :data:`FORMATS`."""
    if fmt == "latex":
        return to_latex(derivation)
    if fmt == "tex":
        return to_latex(derivation, standalone=True)
    if fmt == "markdown":
        return to_markdown(derivation)
    if fmt == "text":
        return to_text(derivation)
    if fmt == "json":
        return to_json(derivation)
    if fmt == "html":  # the Markdown as a self-contained web page, math as MathML (webpage.py)
        from symgrad.rendering.webpage import markdown_page
        return markdown_page(derivation.title, to_markdown(derivation))
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
