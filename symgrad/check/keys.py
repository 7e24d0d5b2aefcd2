"""Finding the equations in an answer key.

An answer key is Markdown (or a text export of a PDF) with LaTeX math between
prose.  This module knows only the *containers* of math: ``$…$``, ``$$…$$``,
``\\(…\\)``, ``\\[…\\]`` and ``align``/``aligned``/``equation``/``gather``
environments, with ``&=`` rows split on ``\\\\``.  Each row becomes a
:class:`Statement` that remembers its 1-based line in the key, whether it
continues the previous statement (a row or display that starts with ``=``), and
the nearest Markdown heading above it (a hint for which model it is about).
A container that is never closed (no closing ``$`` on its line, no ``$$``,
``\\]``, ``\\)`` or ``\\end{…}`` before a blank line, where LaTeX gives up too)
becomes one Statement with a ``problem``, to be reported rather than dropped.
Parsing the LaTeX itself is ``latex.py``'s job.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

#: Where a math container opens (the same openers, in the same order, LaTeX and Markdown renderers know).
_OPEN = re.compile(
    r"\$\$"
    r"|\\\["
    r"|\\begin\{(?P<env>align|aligned|equation|gather|eqnarray|multline)(?P<star>\*?)\}"
    r"|\\\("
    r"|(?<![\\$])\$(?!\$)"
)
#: Inline ``$…$`` math: characters up to the closing ``$`` on the same line (``\$`` is a dollar inside it).
_INLINE_BODY = re.compile(r"(?:[^$\\\n]|\\.)*(?P<close>\$)?", re.S)
#: A blank line ends a paragraph, and LaTeX ends any math left open there with an error.
_PARAGRAPH_END = r"\n[ \t\r]*\n"
_CLOSERS = {"$$": "$$", "\\[": "\\]", "\\(": "\\)"}
_DROP = re.compile(r"\\(?:nonumber|notag|displaystyle|label\{[^}]*\}|tag\*?\{[^}]*\})")
_INNER_ENV = re.compile(r"\\(?:begin|end)\{(?:aligned|align\*?|split|gathered|array)\}(?:\{[^}]*\})?")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
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
    #: Why the math cannot be read at all (a ``$`` never closed), or "": such a row is reported, not judged.
    problem: str = ""


class UnreadableKey(ValueError):
    """An answer key that cannot be read as text."""


@dataclass(frozen=True)
class _Container:
    """One math container: where its body lies and, for one never closed, why (its body then runs to where
    LaTeX gives up: the end of the line for ``$``, the end of the paragraph for the others)."""

    display: bool
    start: int
    end: int
    closed_at: int  # just past the closing delimiter; ``end`` when there is none
    problem: str = ""


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


def _code_lines(text: str) -> set[int]:
    """The lines of fenced code blocks, fences included: there a lone ``$`` is a shell prompt, not math."""
    lines: set[int] = set()
    fence = ""
    for number, line in enumerate(text.splitlines(), 1):
        match = _FENCE.match(line)
        if fence:
            lines.add(number)
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
        elif match:
            lines.add(number)
            fence = match.group(1)
    return lines


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


def _containers(text: str, line_of: _Lines) -> list[_Container]:
    """Every math container in ``text``, left to right, in one pass (a key may be megabytes).

    Math never spans a blank line (LaTeX stops there with an error), so an opener without its closer is
    reported where it is, and a closer further down is not taken for its own.
    """
    found = []
    position = 0
    while (opening := _OPEN.search(text, position)) is not None:
        opener, start = opening.group(), opening.end()
        display = opener not in ("$", "\\(")
        if opener == "$":
            body = _INLINE_BODY.match(text, start)
            closed = body.group("close") is not None
            end = body.start("close") if closed else body.end()
            problem = "" if closed else "a `$` that is never closed on its line"
            found.append(_Container(display, start, end, body.end(), problem))
            position = body.end()
            continue
        env = opening.group("env")
        closer = f"\\end{{{env}{opening.group('star')}}}" if env else _CLOSERS[opener]
        closing = re.compile(f"{re.escape(closer)}|{_PARAGRAPH_END}").search(text, start)
        if closing is not None and closing.group() == closer:
            found.append(_Container(display, start, closing.start(), closing.end()))
            position = closing.end()
            continue
        end = closing.start() if closing is not None else len(text)
        where = f"the blank line after line {line_of(end)}" if closing is not None else "the end of the key"
        found.append(_Container(display, start, end, end, f"a `{opener}` that is never closed: no `{closer}` "
                                                          f"before {where}"))
        position = end
    return found


def extract(text: str) -> list[Statement]:
    """Every equation-like row of math in ``text``, in reading order."""
    if "\x00" in text:
        raise UnreadableKey("the key is binary data, not text")
    headings, code = _headings(text), _code_lines(text)
    _line_of = _Lines(text)
    statements: list[Statement] = []
    for container in _containers(text, _line_of):
        body = text[container.start : container.end]
        start_line, end_line = _line_of(container.start), _line_of(container.closed_at - 1)
        if container.problem:
            if _RELATION.search(body) and start_line not in code:  # not "costs $5", not "$ pip install"
                statements.append(Statement(start_line, " ".join(body.split()), False,
                                            _heading_at(headings, start_line), container.display, end_line,
                                            container.problem))
            continue
        for line, row in _rows(body, start_line):
            stripped = row.replace("&", " ").strip()
            if not _RELATION.search(stripped):
                continue  # a mention such as $w_2$, not a statement
            continues = bool(re.match(r"^(=|\\leftarrow|\\gets|:=)", stripped))
            statements.append(Statement(line, " ".join(stripped.split()), continues, _heading_at(headings, line),
                                        container.display, end_line))
    return statements
