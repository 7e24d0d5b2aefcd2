"""Finding the equations in an answer key.

An answer key is Markdown (or a text export of a PDF) with LaTeX math between
prose.  This module knows only the *containers* of math: ``$…$``, ``$$…$$``,
``\\(…\\)``, ``\\[…\\]`` and ``align``/``aligned``/``equation``/``gather``
environments, with ``&=`` rows split on ``\\\\``.  Each row becomes a
:class:`Statement` that remembers its 1-based line in the key, whether it
continues the previous statement (a row or display that starts with ``=``), and
the nearest Markdown heading above it (a hint for which model it is about).
An inline ``$…$`` may wrap onto the next lines, as in LaTeX and Markdown, where
only a blank line ends a paragraph.  A container that is never closed (no
closing ``$``, ``$$``, ``\\]``, ``\\)`` or ``\\end{…}`` before a blank line, where
LaTeX gives up too) becomes one Statement with a ``problem``, to be reported
rather than dropped.

A ``$`` in Markdown code is a shell prompt or a variable, not math: inline code
spans are blanked before the scan (an escaped ``\\``` opens none), and a ``$`` on
a line of a fenced or indented code block reaches no further than its line and
is never reported as unclosed.  A ``# …`` line in a code block is a comment, no
heading.
A LaTeX document (``\\documentclass``) is not Markdown: there `` opens a
quotation and indentation means nothing, so it has no code.
Parsing the LaTeX itself is ``latex.py``'s job.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass

from symgrad.notation.latex import NOT_EQUATION

#: Where a math container opens (the same openers, in the same order, LaTeX and Markdown renderers know).
_OPEN = re.compile(
    r"\$\$"
    r"|\\\["
    r"|\\begin\{(?P<env>align|aligned|equation|gather|eqnarray|multline)(?P<star>\*?)\}"
    r"|\\\("
    r"|(?<![\\$])\$(?!\$)"
)
#: A blank line ends a paragraph, and LaTeX ends any math left open there with an error.
_PARAGRAPH_END = r"\n[ \t\r]*\n"
#: Inline ``$…$`` math: characters up to the closing ``$`` or the paragraph's end (``\$`` is a dollar inside it).
_INLINE_BODY = re.compile(rf"(?:[^$\\\n]+|\\[^\n]?|(?!{_PARAGRAPH_END})\n)*(?P<close>\$)?")
_CLOSERS = {"$$": "$$", "\\[": "\\]", "\\(": "\\)"}
_DROP = re.compile(r"\\(?:nonumber|notag|displaystyle|label\{[^}]*\}|tag\*?\{[^}]*\})")
_INNER_ENV = re.compile(r"\\(?:begin|end)\{(?:aligned|align\*?|split|gathered|array)\}(?:\{[^}]*\})?")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
#: A Markdown list item's marker and the spaces after it: its text starts where they end.
_LIST_ITEM = re.compile(r"(?P<marker>[ \t]*(?:[-+*]|\d{1,9}[.)]))(?P<gap>[ \t]+|$)")
_BACKTICKS = re.compile(r"`+")
_LATEX_DOCUMENT = re.compile(r"^[ \t]*\\(?:documentclass|begin\{document\})", re.M)
#: The start of a display row that carries on the row above: alignment and spacing, then a binary operator.
_CONTINUED = re.compile(r"(?:&|\s|\\(?:quad|qquad|[,;:! ])(?![a-zA-Z])|\{\})*"
                        r"(?:[+\-*]|\\(?:times|cdot|ast)(?![a-zA-Z]))")
#: Relations that are no claim of symgrad's but make a row a statement of its own (-1 < x, \\alpha \\in …):
#: the parser's own list of them.
_CONDITION = re.compile(r"[<>]|\\(?:" + "|".join(sorted(c for c in NOT_EQUATION if c.isalpha())) + r")(?![a-zA-Z])")
_RELATION = re.compile(r"=|\\leftarrow|\\gets|:=|\\coloneqq|\\Leftarrow|\\to\b")

def _has_relation(row: str) -> bool:
    """Whether an align row holds a relation of its own: an ``=`` inside braces (a sum's limits,
    ``\\sum_{j=1}^{k}``) is no relation of the row."""
    depth = 0
    for position, character in enumerate(row):
        if character == "{" and (position == 0 or row[position - 1] != "\\"):
            depth += 1
        elif character == "}" and (position == 0 or row[position - 1] != "\\"):
            depth = max(0, depth - 1)
        elif depth == 0 and _RELATION.match(row, position):
            return True
    return False


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


class TooManyStatements(ValueError):
    """An answer key with more equations than may be checked at once (found before the rest was read)."""

    def __init__(self, most: int) -> None:
        super().__init__(f"more than {most:,} equations")
        self.most = most


@dataclass(frozen=True)
class _Container:
    """One math container: where its body lies and, for one never closed, why.  Never closed, it ends
    (``closed_at``) where LaTeX gives up, at the end of the paragraph, or at the Markdown code block that
    ends it; its body runs there too, but for a ``$``, whose body is its own line only (see _line_end)."""

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


def _headings(lines: list[str], code: set[int]) -> list[tuple[int, int, str]]:
    """(line, level, title) of each Markdown heading: a ``# …`` line in a code block (``code``) is a comment."""
    found = []
    for number, line in enumerate(lines, 1):
        match = _HEADING.match(line) if number not in code else None
        if match:
            found.append((number, len(match.group(1)), match.group(2).strip()))
    return found


def _columns(prefix: str) -> int:
    """The width of the start of a line, a tab reaching the next multiple of 4 (as in CommonMark)."""
    return len(prefix.expandtabs(4))


def _indent(line: str) -> int:
    """How far ``line`` is indented, in columns: Markdown decides by it what is code and what a list holds."""
    return _columns(line[: len(line) - len(line.lstrip(" \t"))])


def _item_text_column(line: str, item: re.Match[str]) -> int:
    """Where a list item's text starts: after the marker and the blanks after it, unless those are more than 4
    columns (then they begin code inside the item) or nothing follows (CommonMark: one column past the marker)."""
    marker, gap = item.group("marker"), item.group("gap")
    text_column = _columns(marker + gap)
    if item.end() == len(line) or text_column - _columns(marker) > 4:
        return _columns(marker) + 1
    return text_column


def _fenced_lines(lines: list[str]) -> set[int]:
    """The lines of fenced code blocks, fences included."""
    found: set[int] = set()
    fence = ""
    for number, line in enumerate(lines, 1):
        match = _FENCE.match(line)
        if fence:
            found.add(number)
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
        elif match:
            found.add(number)
            fence = match.group(1)
    return found


def _indented_code_lines(lines: list[str], fenced: set[int]) -> set[int]:
    """The lines of indented code blocks: four columns past the text of the list item they are in (if any),
    where no paragraph is open.  An indented line right after text continues that text's paragraph, and one
    after a blank line inside a list item is the item's next paragraph: both are prose, their ``$`` math."""
    found: set[int] = set()
    item_text = 0  # the column where the text of the open list item starts; 0 outside lists
    after_blank = no_paragraph = True
    for number, line in enumerate(lines, 1):
        if number in fenced or not line.strip():
            after_blank = no_paragraph = True
            continue
        indent = _indent(line)
        if after_blank and indent < item_text:
            item_text = 0  # less indented than the item's text after a blank line: the list has ended
        after_blank = False
        if no_paragraph and indent >= item_text + 4:
            found.add(number)
            continue
        if item := _LIST_ITEM.match(line):
            item_text = _item_text_column(line, item)
        no_paragraph = bool(_HEADING.match(line))
    return found


def _code_lines(lines: list[str]) -> set[int]:
    """The lines of Markdown code blocks, fenced or indented: there a lone ``$`` is a shell prompt, not math."""
    fenced = _fenced_lines(lines)
    return fenced | _indented_code_lines(lines, fenced)


def _paragraphs(lines: list[str], code: set[int]) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of each run of text lines that blank lines and code blocks separate."""
    start = offset = 0
    for number, line in enumerate(lines, 1):
        if number in code or not line.strip():
            if start < offset:
                yield start, offset
            start = offset + len(line) + 1
        offset += len(line) + 1
    if start < offset:
        yield start, offset


def _code_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The inline code spans of one paragraph, CommonMark's way: a run of n backticks opens a span that the next
    run of exactly n closes; a run with no such partner is text, and so is a backtick escaped by a backslash
    (where a span opens: inside it a backslash is code).  Linear: each run is looked at once."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text, start, end)]
    later: dict[int, deque[int]] = defaultdict(deque)  # run length → where the runs not yet passed start
    for run_start, run_end in runs:
        later[run_end - run_start].append(run_start)
    spans: list[tuple[int, int]] = []
    inside_until = start
    for run_start, run_end in runs:
        later[run_end - run_start].popleft()  # this run: whole, as a closer (in code a backslash escapes nothing)
        if run_start < inside_until:
            continue
        if _escaped(text, run_start, start):
            run_start += 1  # \` is a literal backtick; the rest of its run may still open a span
        same = later[run_end - run_start]
        if run_end > run_start and same:
            inside_until = same[0] + run_end - run_start
            spans.append((run_start, inside_until))
    return spans


def _escaped(text: str, position: int, start: int) -> bool:
    """Whether the character at ``position`` is backslash-escaped: an odd number of backslashes (after ``start``)
    ends just before it, as ``\\\\``` is a literal backslash and then a backtick that may open code.  Walks back
    over those backslashes only, so that finding spans stays linear."""
    before = position
    while before > start and text[before - 1] == "\\":
        before -= 1
    return (position - before) % 2 == 1


def _without_code_spans(text: str, lines: list[str], code: set[int]) -> str:
    """``text`` with every inline code span blanked to spaces (newlines kept), so that its ``$`` opens no math
    while every offset and line number stays as it was."""
    if "`" not in text:
        return text
    pieces, copied = [], 0
    for start, end in _paragraphs(lines, code):
        for span_start, span_end in _code_spans(text, start, end):
            pieces += [text[copied:span_start], re.sub(r"[^\n]", " ", text[span_start:span_end])]
            copied = span_end
    return "".join([*pieces, text[copied:]])


class _Headings:
    """Line → the enclosing headings, outermost first, joined by " / " (or "").  Each heading's path is worked
    out once, in reading order, and a line finds its nearest heading above by bisection: a key may hold
    thousands of headings and of formulas, and looking through every heading for every formula took a minute."""

    def __init__(self, headings: list[tuple[int, int, str]]) -> None:
        self.lines = [number for number, _, _ in headings]
        self.paths: list[str] = []
        open_headings: list[tuple[int, str]] = []  # (level, title), levels increasing
        for _, level, title in headings:
            while open_headings and open_headings[-1][0] >= level:
                open_headings.pop()
            open_headings.append((level, title))
            self.paths.append(" / ".join(t for _, t in open_headings))

    def __call__(self, line: int) -> str:
        nearest = bisect.bisect_right(self.lines, line) - 1
        return self.paths[nearest] if nearest >= 0 else ""


def _rows(body: str, start_line: int) -> Iterator[tuple[int, str]]:
    """Split a display body into rows on ``\\\\``, keeping each row's line number.  A row that begins with a binary
    operator and holds no relation carries on the formula of the row above (a long product broken over two rows
    of an align); any other row stays its own (``&\\alpha > 0``, ``&\\quad (\\text{by the chain rule})``).

    Linear in the body: the line number is carried from row to row (counting from the block's start for every
    row took 28 s for 100,000 rows), a formula carried on over many rows is joined once, and each row is given
    as soon as the next one shows that it has ended."""
    body = _INNER_ENV.sub(" ", body)
    pending: tuple[int, list[str]] | None = None  # the row read last, which the next may still carry on
    line, counted = start_line, 0  # the line of body[counted]
    for offset, piece in _split_rows(body):
        line += body.count("\n", counted, offset)
        counted = offset
        cleaned = " ".join(_DROP.sub(" ", piece).split())
        if pending and _CONTINUED.match(cleaned) and not _has_relation(cleaned) and not _CONDITION.search(cleaned):
            pending[1].append(cleaned)  # &\quad \times w_2 …: the row above goes on
        elif cleaned:
            if pending:
                yield pending[0], " ".join(pending[1])
            leading = len(piece) - len(piece.lstrip())
            pending = (line + piece.count("\n", 0, leading), [cleaned])
    if pending:
        yield pending[0], " ".join(pending[1])


def _split_rows(body: str) -> Iterator[tuple[int, str]]:
    """``body`` split on the ``\\\\`` that end rows, not on those inside braces (``\\substack{a \\\\ b}``): each row
    with the offset where it starts."""
    start, depth = 0, 0
    for match in re.finditer(r"\\\\(?:\[[^\]]*\])?|\\[{}]|[{}]", body):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(depth - 1, 0)
        elif token.startswith("\\\\") and depth == 0:
            yield start, body[start : match.start()]
            start = match.end()
    yield start, body[start:]


def _code_stop(line_of: _Lines, code: set[int], start: int, end: int) -> int | None:
    """The first line that an inline body from ``start`` to ``end`` may not enter: the next line when it starts on a
    line of code (a prompt's ``$`` pairs with nothing below it), else the first line of a code block it runs into
    (a fence ends a Markdown paragraph without a blank line)."""
    first = line_of(start)
    for number in range(first + 1, line_of(max(end - 1, start)) + 1):
        if first in code or number in code:
            return number
    return None


def _inline(text: str, start: int, line_of: _Lines, code: set[int]) -> _Container:
    """The inline ``$…$`` whose body begins at ``start``: it runs to the closing ``$``, or, never closed, to the end
    of its paragraph (a blank line, the end of the key, or a code block)."""
    body = _INLINE_BODY.match(text, start)
    stop = _code_stop(line_of, code, start, body.end()) if code else None
    if stop is not None:
        end = line_of.starts[stop - 1] - 1  # the newline before the line it may not enter
        where = "on its line" if line_of(start) in code else f"before the code block on line {stop}"
        return _Container(False, start, _line_end(text, start, end), end, f"a `$` that is never closed: no `$` {where}")
    if body.group("close") is not None:
        return _Container(False, start, body.start("close"), body.end())
    end = body.end()
    where = f"the blank line after line {line_of(end)}" if end < len(text) else "the end of the key"
    problem = f"a `$` that is never closed: no `$` before {where}"
    return _Container(False, start, _line_end(text, start, end), end, problem)


def _line_end(text: str, start: int, end: int) -> int:
    """Where the line holding ``start`` ends, at most ``end``.  A ``$`` never closed is reported with its own
    line only: a stray ``$`` in prose ("costs $5") is no formula because an ``=`` turns up lines later."""
    newline = text.find("\n", start, end)
    return end if newline < 0 else newline


def _containers(text: str, line_of: _Lines, code: set[int]) -> Iterator[_Container]:
    """Every math container in ``text``, left to right, in one pass (a key may be megabytes), found as they are
    asked for: a key with too many equations is refused without reading the rest.

    Math never spans a blank line (LaTeX stops there with an error), so an opener without its closer is
    reported where it is, and a closer further down is not taken for its own.
    """
    position = 0
    while (opening := _OPEN.search(text, position)) is not None:
        opener, start = opening.group(), opening.end()
        display = opener not in ("$", "\\(")
        if opener == "$":
            container = _inline(text, start, line_of, code)
            yield container
            position = container.closed_at
            continue
        env = opening.group("env")
        closer = f"\\end{{{env}{opening.group('star')}}}" if env else _CLOSERS[opener]
        closing = re.compile(f"{re.escape(closer)}|{_PARAGRAPH_END}").search(text, start)
        if closing is not None and closing.group() == closer:
            yield _Container(display, start, closing.start(), closing.end())
            position = closing.end()
            continue
        end = closing.start() if closing is not None else len(text)
        where = f"the blank line after line {line_of(end)}" if closing is not None else "the end of the key"
        yield _Container(display, start, end, end, f"a `{opener}` that is never closed: no `{closer}` before {where}")
        position = end


def _markdown_code(text: str, lines: list[str]) -> tuple[set[int], str]:
    """The lines of Markdown code blocks, and ``text`` with its inline code spans blanked: a LaTeX document has
    neither (there `` opens a quotation, and an indented line is no code)."""
    if _LATEX_DOCUMENT.search(text):
        return set(), text
    code = _code_lines(lines)
    return code, _without_code_spans(text, lines, code)


def extract(text: str, most: int | None = None) -> list[Statement]:
    """Every equation-like row of math in ``text``, in reading order.

    With ``most``, stops at the row after the first ``most`` and raises :class:`TooManyStatements`: a key too
    long to check is refused before its rest is read, let alone checked.  Linear in the key throughout."""
    if "\x00" in text:
        raise UnreadableKey("the key is binary data, not text")
    lines = text.split("\n")  # as _Lines counts them: splitlines() would also split on \f and U+2028
    code, scanned = _markdown_code(text, lines)
    heading_at = _Headings(_headings(lines, code))
    _line_of = _Lines(text)
    statements: list[Statement] = []
    for container in _containers(scanned, _line_of, code):
        body = scanned[container.start : container.end]
        start_line, end_line = _line_of(container.start), _line_of(container.closed_at - 1)
        if container.problem:
            if _RELATION.search(body) and start_line not in code:  # not "costs $5", not "$ pip install"
                statements.append(Statement(start_line, " ".join(body.split()), False, heading_at(start_line),
                                            container.display, end_line, container.problem))
        else:
            for line, row in _rows(body, start_line):
                stripped = row.replace("&", " ").strip()
                if not _RELATION.search(stripped):
                    continue  # a mention such as $w_2$, not a statement
                continues = bool(re.match(r"^(=|\\leftarrow|\\gets|:=)", stripped))
                statements.append(Statement(line, " ".join(stripped.split()), continues, heading_at(line),
                                            container.display, end_line))
                _refuse_past(most, statements)
        _refuse_past(most, statements)
    return statements


def _refuse_past(most: int | None, statements: list[Statement]) -> None:
    """Stop reading a key at its statement number ``most + 1``: symgrad will not check it anyway."""
    if most is not None and len(statements) > most:
        raise TooManyStatements(most)
