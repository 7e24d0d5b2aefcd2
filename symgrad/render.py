"""Derivation → LaTeX fragment, standalone .tex document, Markdown, plain text, JSON.

Every format walks the same steps and prints every expression through the
model's handout printers (``printing.py``); nothing here knows any formula.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import sympy as sp

from . import __version__
from .derivation import ASSIGN, Derivation, Equation, Text
from .functions import relu, sigmoid
from .printing import printers_for

FORMATS = ("latex", "tex", "markdown", "text", "json")

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


def equation_latex(derivation: Derivation, equation: Equation, align: bool = False) -> str:
    """One equation as LaTeX; with ``align``, ``&`` marks and ``\\\\`` between its members."""
    latex, _ = printers_for(derivation.model)
    lhs = latex.doprint(equation.lhs)
    relation = _relation_latex(equation.relation)
    members = [latex.doprint(r) for r in equation.rhs]
    if not align:
        return f"{lhs} {relation} " + " = ".join(members)
    rows = [f"{lhs} &{relation} {members[0]}"] + [f"&= {m}" for m in members[1:]]
    return " \\\\\n".join(rows)


def _inline(derivation: Derivation, text: Text, math: Callable[[str], str], escape: Callable[[str], str]) -> str:
    latex, _ = printers_for(derivation.model)
    return "".join(escape(part) if isinstance(part, str) else math(latex.doprint(part)) for part in text)


def to_latex(derivation: Derivation, standalone: bool = False, inline_only: bool = False) -> str:
    """The derivation as LaTeX: a fragment (amsmath ``align*`` per step) or a whole document."""
    if inline_only:  # one aligned block, for notebook display through MathJax
        rows = []
        for step in derivation.steps:
            title = _inline(derivation, step.title, lambda m: f"${m}$", lambda t: t.replace("$", ""))
            rows.append(rf"&\text{{{title}}}")
            rows.extend(equation_latex(derivation, eq, align=True) for eq in step.equations)
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def text(t: Text) -> str:
        return _inline(derivation, t, lambda m: f"${m}$", _escape_tex)

    parts = [rf"\section*{{{_escape_tex(derivation.title)}}}"]
    for step in derivation.steps:
        parts.append(rf"\subsection*{{{text(step.title)}}}")
        parts.append(text(step.explanation))
        if step.equations:
            body = " \\\\\n".join(equation_latex(derivation, eq, align=True) for eq in step.equations)
            parts.append("\\begin{align*}\n" + body + "\n\\end{align*}")
    fragment = "\n\n".join(parts) + "\n"
    if not standalone:
        return fragment
    return (
        "\\documentclass[11pt]{article}\n"
        "\\usepackage[margin=2cm]{geometry}\n"
        "\\usepackage{amsmath,amssymb}\n"
        + _tex_comment(f"Written by symgrad {__version__}: {derivation.reproduce} --format tex")
        + "\\begin{document}\n\n" + fragment + "\n\\end{document}\n"
    )


def to_markdown(derivation: Derivation) -> str:
    """GitHub- and Jupyter-flavoured Markdown: prose, with each step's equations in a ``$$`` block."""

    def text(t: Text) -> str:
        return _inline(derivation, t, lambda m: f"${m}$", lambda s: s)

    lines = [f"# {_escape_markdown(derivation.title)}", "",
             f"*Derived by symgrad {__version__} ({_code_span(derivation.reproduce)}); "
             "every equation below is proven by SymPy.*", ""]
    for number, step in enumerate(derivation.steps, 1):
        lines += [f"## {number}. {text(step.title)}", "", text(step.explanation), ""]
        for equation in step.equations:
            lines += ["$$", "\\begin{aligned}", equation_latex(derivation, equation, align=True), "\\end{aligned}", "$$", ""]
    return "\n".join(lines)


def to_text(derivation: Derivation) -> str:
    """Plain Unicode for a terminal."""
    _, plain = printers_for(derivation.model)

    def text(t: Text) -> str:
        return "".join(part if isinstance(part, str) else plain.doprint(part) for part in t)

    lines = [derivation.title, "=" * len(derivation.title), ""]
    for number, step in enumerate(derivation.steps, 1):
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
    latex, _ = printers_for(derivation.model)
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
            for step in derivation.steps
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
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
