"""Finding the equations in an answer key.

An answer key is Markdown (or a text export of a PDF) with LaTeX math between
prose.  This module knows only the *containers* of math: ``$…$``, ``$$…$$``,
``\\(…\\)``, ``\\[…\\]`` and ``align``/``aligned``/``equation``/``gather``
environments, with ``&=`` rows split on ``\\\\``.  Each row becomes a
:class:`Statement` that remembers its 1-based line in the key, whether it
continues the previous statement (a row or display that starts with ``=``), and
the nearest Markdown heading above it (a hint for which model it is about).
Parsing the LaTeX itself is ``latex.py``'s job.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

#: Every math container, as one alternation scanned once from left to right (a key may be megabytes).
_MATH = re.compile(
    r"\$\$(?P<dollars>.+?)\$\$"
    r"|\\\[(?P<brackets>.+?)\\\]"
    r"|\\begin\{(?P<env>align|aligned|equation|gather|eqnarray|multline)(?P<star>\*?)\}(?P<body>.+?)\\end\{(?P=env)(?P=star)\}"
    r"|\\\((?P<parens>.+?)\\\)"
    r"|(?<![\\$])\$(?!\$)(?P<inline>(?:[^$\\\n]|\\.)+?)\$",
    re.S,
)
_DROP = re.compile(r"\\(?:nonumber|notag|displaystyle|label\{[^}]*\}|tag\*?\{[^}]*\})")
_INNER_ENV = re.compile(r"\\(?:begin|end)\{(?:aligned|align\*?|split|gathered|array)\}(?:\{[^}]*\})?")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
_RELATION = re.compile(r"=|\\leftarrow|\\gets|:=|\\coloneqq|\\Leftarrow|\\to\b")

MAX_KEY_BYTES = 2_000_000


@dataclass(frozen=True)
class Statement:
    """One row of math from the key: its line, its LaTeX, and where it sits."""

    line: int
    latex: str
    continues: bool  # starts with a relation: its left side is the previous statement's
    heading: str  # the enclosing Markdown headings, outermost first ("Neural nets / Part 4"), or ""
    display: bool  # from a display or environment (not inline $…$)
    end_line: int  # the line on which its math container closes (where a note can go)


class UnreadableKey(ValueError):
    """An answer key that cannot be read as text."""


class _Lines:
    """Offset → 1-based line number, by bisection over the line starts (a key may be megabytes)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def __call__(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


def _headings(text: str) -> list[tuple[int, int, str]]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _HEADING.match(line)
        if match:
            found.append((number, len(match.group(1)), match.group(2).strip()))
    return found


def _heading_at(headings: list[tuple[int, int, str]], line: int) -> str:
    """The enclosing headings of ``line``, outermost first, joined by " / "."""
    path: list[tuple[int, str]] = []
    for number, level, title in headings:
        if number > line:
            break
        path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, title)]
    return " / ".join(t for _, t in path)


def _rows(body: str, start_line: int) -> list[tuple[int, str]]:
    """Split a display body into rows on ``\\\\``, keeping each row's line number."""
    body = _INNER_ENV.sub(" ", body)
    rows = []
    position = 0
    for piece in _split_rows(body):
        offset = body.find(piece, position)
        position = offset + len(piece)
        line = start_line + body.count("\n", 0, max(offset, 0))
        leading = len(piece) - len(piece.lstrip())
        line += piece[:leading].count("\n")
        cleaned = " ".join(_DROP.sub(" ", piece).split())
        if cleaned:
            rows.append((line, cleaned))
    return rows


def _split_rows(body: str) -> list[str]:
    """``body`` split on the ``\\\\`` that end rows, not on those inside braces (``\\substack{a \\\\ b}``)."""
    pieces, start, depth = [], 0, 0
    for match in re.finditer(r"\\\\(?:\[[^\]]*\])?|\\[{}]|[{}]", body):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(depth - 1, 0)
        elif token.startswith("\\\\") and depth == 0:
            pieces.append(body[start : match.start()])
            start = match.end()
    pieces.append(body[start:])
    return pieces


def extract(text: str) -> list[Statement]:
    """Every equation-like row of math in ``text``, in reading order."""
    if "\x00" in text:
        raise UnreadableKey("the key is binary data, not text")
    headings = _headings(text)
    _line_of = _Lines(text)
    statements: list[Statement] = []
    for match in _MATH.finditer(text):
        groups = ("dollars", "brackets", "body", "parens", "inline")
        group = next(name for name in groups if match.group(name) is not None)
        body = match.group(group)
        start_line = _line_of(match.start(group))
        for line, row in _rows(body, start_line):
            stripped = row.replace("&", " ").strip()
            if not _RELATION.search(stripped):
                continue  # a mention such as $w_2$, not a statement
            continues = bool(re.match(r"^(=|\\leftarrow|\\gets|:=)", stripped))
            statements.append(Statement(line, " ".join(stripped.split()), continues, _heading_at(headings, line),
                                        group not in ("parens", "inline"), _line_of(match.end())))
    return statements
