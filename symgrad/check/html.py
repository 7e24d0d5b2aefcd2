"""``symgrad check --format html``: the keys themselves as one web page, each formula marked ✓, ✗ or ?.

Each key is shown as its author wrote it (its Markdown rendered, its math typeset: ``symgrad/rendering/webpage.py``),
with the marks of the claims each formula holds right after it, and, after the paragraph or display that
holds a ✗ or a ?, a note with the reason, the expected expression and the point where the sides differ.
With several keys, a summary table comes first, each row linked to its key's part of the page.

A key's claims are found by ``keys.py`` and its Markdown by markdown-it: the two are matched by line (and,
where a line holds several formulas, by the formula's text).  A claim that matches no formula the Markdown
shows (math in a place Markdown reads otherwise) gets its note after the block that holds its line, with its
formula typeset there: no verdict is dropped.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from symgrad.check.checker import Verdict
from symgrad.check.outcome import KeyResult, where_it_fails
from symgrad.check.report import MARKS, REASON_WIDTH, clip, summary
from symgrad.rendering.webpage import MATH_TOKENS, escape, markdown_parser, math, math_source, page

#: Seconds one key's page may take; past them the key is shown as plain text with every note after it.
RENDER_SECONDS = 20.0


@dataclass
class _Span:
    """A formula of the rendered key (or one row of a display): its token, the key's lines (1-based) it
    spans, its LaTeX, and the token after which its notes go (None: its own)."""

    token: Any
    first: int
    last: int
    latex: str
    holder: Any = None
    row: bool = False
    verdicts: list[tuple[int, Verdict]] = field(default_factory=list)

    @property
    def squashed(self) -> str:
        return _squash(self.latex)


def anchor_of(index: int) -> str:
    """The id of the ``index``-th key's section (from its number, never from its name)."""
    return f"key-{index + 1}"


def note_id(anchor: str, number: int) -> str:
    """The id of a key's ``number``-th verdict's note."""
    return f"{anchor}-v{number + 1}"


# ---- the page -------------------------------------------------------------------------------------------
def report(results: Sequence[KeyResult]) -> str:
    """The whole page: the summary of several keys, then each key's section (made in its worker, or here)."""
    sections = [result.section or key_section(result, index) for index, result in enumerate(results)]
    if len(results) == 1:
        title = f"symgrad check: {results[0].file}"
        return page(title, f"<h1>symgrad check</h1>\n{sections[0]}")
    body = _summary_section(results) + "\n".join(sections)
    return page(f"symgrad check: {len(results)} keys", body)


def _summary_section(results: Sequence[KeyResult]) -> str:
    """The index: one row per key (its counts and first failing line), each linked to its section."""
    rows = []
    for index, result in enumerate(results):
        anchor = anchor_of(index)
        name = f'<a href="#{anchor}">{escape(result.file)}</a>'
        if result.error is not None:
            rows.append(f'<tr class="error"><td>{name}</td><td class="error" colspan="4">error: '
                        f"{escape(clip(result.error, REASON_WIDTH))}</td></tr>")
            continue
        counts, first = result.counts, result.first_failure
        where = "–" if first is None else \
            f'<a href="#{note_id(anchor, result.verdicts.index(first))}">line {where_it_fails(first)}</a>'
        row_class = "failed" if first is not None else "passed"
        rows.append(f'<tr class="{row_class}"><td>{name}</td><td>{counts["correct"]}</td><td>{counts["wrong"]}</td>'
                    f'<td>{counts["unrecognized"]}</td><td>{where}</td></tr>')
    failed = sum(1 for r in results if r.error is None and r.first_failure is not None)
    errors = sum(1 for r in results if r.error is not None)
    return (
        f'<section id="summary">\n<h1>symgrad check: {len(results)} keys</h1>\n'
        f"<p>{len(results) - failed - errors} pass, {failed} fail, {errors} could not be checked.</p>\n"
        '<table class="summary">\n<thead><tr><th>file</th><th>correct</th><th>wrong</th><th>unrecognized</th>'
        "<th>first wrong line</th></tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n</section>\n"
    )


def key_section(result: KeyResult, index: int) -> str:
    """One key's section: its name, its counts, and the key itself with its marks and notes (or its error)."""
    anchor = anchor_of(index)
    head = f'<section class="key" id="{anchor}">\n<h2>{escape(result.file)}</h2>\n'
    if result.error is not None:
        return head + f'<p class="error">error: {escape(result.error)}</p>\n</section>\n'
    first = result.first_failure
    line = "" if first is None else \
        f' First wrong line: <a href="#{note_id(anchor, result.verdicts.index(first))}">{where_it_fails(first)}</a>.'
    counts = f'<p class="counts">{escape(summary(result.verdicts))}.{line}</p>\n'
    try:
        with _time_limit(RENDER_SECONDS):
            body = _key_html(result, anchor)
    except _OutOfTime:
        body = _plain_key(result, anchor, f"This key took more than {RENDER_SECONDS:g} s to lay out")
    except Exception:  # noqa: BLE001 - a key no renderer expected still gets its verdicts, as plain text
        body = _plain_key(result, anchor, "This key could not be laid out")
    return head + counts + f'<div class="key-text">\n{body}</div>\n</section>\n'


# ---- the key, with its marks and notes ------------------------------------------------------------------
_PARSER: Any = None


def _parser() -> Any:
    """The Markdown parser (made once per process): each formula rendered with the marks and notes that
    :func:`_key_html` left in its token, and each paragraph or heading followed by its formulas' notes."""
    global _PARSER
    if _PARSER is None:
        _PARSER = markdown_parser(_render_math)
        for closing in ("paragraph_close", "heading_close"):
            _PARSER.add_render_rule(closing, _with_notes)
    return _PARSER


def _key_html(result: KeyResult, anchor: str) -> str:
    """The key's Markdown as HTML: each formula (each row of a display) followed by its marks, the notes of
    its ✗ and ? after the paragraph or display that holds it."""
    parser = _parser()
    tokens = parser.parse(result.text, {})
    spans = list(_math_spans(tokens))
    unplaced = _place(result.verdicts, spans)
    _annotate(spans, anchor)
    _lower_headings(tokens)
    parts = []
    for group in _blocks(tokens):  # a verdict no formula took: its note after the block that holds its line
        parts.append(parser.renderer.render(group, parser.options, {}))
        lines = _lines_of(group)
        if lines is not None:
            here = [pair for pair in unplaced if lines[0] <= pair[1].line <= lines[1]]
            unplaced = [pair for pair in unplaced if not lines[0] <= pair[1].line <= lines[1]]
            parts.append(_notes(here, anchor, with_formula=True))
    parts.append(_notes(unplaced, anchor, with_formula=True))  # on lines no block holds: at the end
    return "".join(parts)


def _plain_key(result: KeyResult, anchor: str, why: str) -> str:
    """The key as plain text with every note after it: for a key too large or odd to render in time."""
    notes = _notes(list(enumerate(result.verdicts)), anchor, everything=True, with_formula=True)
    return f'<p class="error">{escape(why)}; it is shown as written.</p>\n<pre>{escape(result.text)}</pre>\n{notes}'


def _math_spans(tokens: Sequence[Any]) -> Iterator[_Span]:
    """Every formula in reading order, with the key's lines it spans; a display with rows, row by row."""
    for index, token in enumerate(tokens):
        if token.type in MATH_TOKENS and token.map:
            yield from _display_rows(token, token.map[0] + 1, token)
        elif token.type == "inline" and token.map and token.children:
            yield from _inline_spans(token, tokens[index + 1] if index + 1 < len(tokens) else None)


def _inline_spans(token: Any, closing: Any) -> Iterator[_Span]:
    """The formulas inside a paragraph, each on the line where its source starts (found in the paragraph's
    text left to right: counting line breaks alone would miss those inside code spans).  Their notes go
    after the paragraph (``closing``)."""
    text, cursor, line = token.content, 0, token.map[0] + 1
    for child in token.children:
        if child.type not in MATH_TOKENS:
            continue
        needle = child.markup + child.content
        found = text.find(needle, cursor)
        at = found if found >= 0 else cursor
        line += text.count("\n", cursor, at)
        if math_source(child)[1]:
            yield from _display_rows(child, line, closing)
        else:
            yield _Span(child, line, line + needle.count("\n"), child.content, holder=closing)
        if found >= 0:
            line += text.count("\n", at, at + len(needle))
            cursor = at + len(needle)


def _display_rows(token: Any, first_line: int, holder: Any) -> Iterator[_Span]:
    """A display's rows (split on ``\\\\``), each a span of its own on its own line: its marks go beside
    its row."""
    content = token.content
    for offset, latex in display_rows(content):
        start = offset + len(latex) - len(latex.lstrip())
        line = first_line + content.count("\n", 0, start)
        yield _Span(token, line, line + latex.strip().count("\n"), latex, holder=holder, row=True)


def _place(verdicts: Sequence[Verdict], spans: Sequence[_Span]) -> list[tuple[int, Verdict]]:
    """Give each verdict to the formula (or display row) on its line: the one whose text holds its claim, if
    several do; return, numbered, those no formula's lines hold."""
    by_line: dict[int, list[_Span]] = {}
    for span in spans:
        for line in range(span.first, min(span.last, span.first + 10_000) + 1):
            by_line.setdefault(line, []).append(span)
    unplaced = []
    for number, verdict in enumerate(verdicts):
        candidates = by_line.get(verdict.line, [])
        claim = _squash(verdict.latex)
        chosen = next((span for span in candidates if claim and claim in span.squashed), None)
        chosen = chosen or (candidates[0] if candidates else None)
        if chosen is None:
            unplaced.append((number, verdict))
        else:
            chosen.verdicts.append((number, verdict))
    return unplaced


def _annotate(spans: Sequence[_Span], anchor: str) -> None:
    """Leave in each formula's token what its rendering adds (its rows and their marks, or its marks), and in
    the token that closes its paragraph (or in a block display itself) the notes of its ✗ and ?."""
    rows: dict[int, list[_Span]] = {}
    notes: dict[int, tuple[Any, list[tuple[int, Verdict]]]] = {}
    for span in spans:
        if span.row:
            rows.setdefault(id(span.token), []).append(span)
        else:
            span.token.meta = {**(span.token.meta or {}), "marks": _marks(span.verdicts, anchor)}
        holder = span.holder if span.holder is not None else span.token
        notes.setdefault(id(holder), (holder, []))[1].extend(span.verdicts)
    for display in rows.values():
        token = display[0].token
        token.meta = {**(token.meta or {}), "rows": [(span.latex, _marks(span.verdicts, anchor), span.first)
                                                     for span in display]}
    for holder, pairs in notes.values():
        holder.meta = {**(holder.meta or {}), "notes": _notes(sorted(pairs, key=lambda pair: pair[0]), anchor)}


def _render_math(latex: str, display: bool, token: Any) -> str:
    """A formula as the page shows it: inline, MathML and its marks; a display, its rows side by side with
    their marks (a table of spans, valid inside a paragraph too), then its notes if it stands alone."""
    meta = token.meta or {}
    if not display:
        return math(latex) + meta.get("marks", "")
    rows = meta.get("rows") or [(latex, "", None)]
    cells = "".join(_display_row(row, marks, line) for row, marks, line in rows)
    notes = meta.get("notes", "") if token.block else ""
    return f'<span class="display">{cells}</span>{notes}'


def _display_row(latex: str, marks: str, line: int | None) -> str:
    """One row of a display: its two sides aligned at ``&`` (when it has one), then its marks."""
    left, separator, right = latex.partition("&")
    where = f' data-line="{line}"' if line is not None else ""
    if not separator:
        cells = f'<span class="cell whole">{math(latex.strip(), style=True)}</span><span class="cell"></span>'
    else:
        right = right.replace("&", " ")
        cells = f'<span class="cell lhs">{math(left.strip(), style=True) if left.strip() else ""}</span>' \
                f'<span class="cell rhs">{math(right.strip(), style=True)}</span>'
    return f'<span class="row"{where}>{cells}<span class="cell marks-cell">{marks}</span></span>'


def _with_notes(renderer: Any, tokens: Sequence[Any], index: int, options: Any, env: Any) -> str:
    """A closing paragraph or heading, then the notes of the formulas it held."""
    return renderer.renderToken(tokens, index, options, env) + (tokens[index].meta or {}).get("notes", "")


def _squash(latex: str) -> str:
    """LaTeX without spaces and alignment marks, as ``keys.py`` gives a row: for matching, not for showing."""
    return re.sub(r"[\s&]+", "", latex)


def _marks(verdicts: Sequence[tuple[int, Verdict]], anchor: str) -> str:
    """The ✓ / ✗ / ? of a formula's claims; a ✗ or ? links to its note."""
    if not verdicts:
        return ""
    marks = []
    for number, verdict in verdicts:
        label = f"line {verdict.line}: {verdict.verdict}" + (f": {clip(verdict.reason, 300)}" if verdict.reason else "")
        attributes = f'class="mark {verdict.verdict}" data-line="{verdict.line}" data-verdict="{verdict.verdict}" ' \
                     f'title="{escape(label)}" aria-label="{escape(f"line {verdict.line}: {verdict.verdict}")}"'
        if verdict.verdict == "correct" and not verdict.malformed:
            marks.append(f"<span {attributes}>{MARKS[verdict.verdict]}</span>")
        else:
            marks.append(f'<a {attributes} href="#{note_id(anchor, number)}">{MARKS[verdict.verdict]}</a>')
    return f'<span class="marks">{"".join(marks)}</span>'


def _notes(verdicts: Sequence[tuple[int, Verdict]], anchor: str, everything: bool = False,
           with_formula: bool = False) -> str:
    """The notes of the claims that are not correct (every claim's, with ``everything``)."""
    items = [_note(number, verdict, anchor, with_formula) for number, verdict in verdicts
             if everything or verdict.verdict != "correct"]
    return f'<ol class="notes">\n{"".join(items)}</ol>\n' if items else ""


def _note(number: int, verdict: Verdict, anchor: str, with_formula: bool) -> str:
    """One claim's note: its line, verdict and reason; for a wrong one the expected expression and the point
    where the sides differ; ``with_formula``, the claim itself (for one no formula on the page shows)."""
    mark = MARKS[verdict.verdict]
    reason = f": {escape(clip(verdict.reason, REASON_WIDTH))}" if verdict.reason else ""
    details = [f"formula: {math(verdict.latex)}"] if with_formula else []
    if verdict.expected:
        details.append(f"expected: {math(verdict.expected)}")
    if verdict.point:
        details.append(_point_html(verdict))
    detail = "".join(f'<div class="note-detail">{d}</div>' for d in details)
    return (f'<li id="{note_id(anchor, number)}" class="{verdict.verdict}" data-line="{verdict.line}">'
            f'<span class="mark {verdict.verdict}">{mark}</span> <span class="where">line {verdict.line}</span> '
            f"<strong>{verdict.verdict}</strong>{reason}{detail}</li>\n")


def _point_html(verdict: Verdict) -> str:
    """Where the claim and the derivation differ: each quantity's value, and what each side gives there."""
    where = ", ".join(f"{math(name)}&#8239;=&#8239;{value:.4g}" for name, value in (verdict.point or {}).items())
    claimed, true = verdict.values or (float("nan"), float("nan"))
    return f"at {where}: the claim gives {claimed:.6g}, the derivation {true:.6g}"


# ---- display rows ---------------------------------------------------------------------------------------
_ROW_SYNTAX = re.compile(r"\\\\|\\[{}&]|[{}&]|\\(?:begin|end)\{[^{}]*\}")
_OUTER = re.compile(r"\s*\\begin\{(?P<name>align|aligned|equation|gather|gathered|eqnarray|multline|split)"
                    r"(?P<star>\*?)\}(?:\{\d*\})?(?P<body>.*)\\end\{(?P=name)(?P=star)\}\s*", re.DOTALL)
_NUMBERING = re.compile(r"\\(?:nonumber|notag)(?![A-Za-z])|\\(?:label|tag\*?)\{[^{}]*\}")


def display_rows(latex: str) -> list[tuple[int, str]]:
    """A display's rows: split on the ``\\\\`` that are outside braces and inner environments, within the
    outer ``align``-like environment if it has one; each with its offset in ``latex`` (for its line)."""
    outer = _OUTER.fullmatch(latex)
    base, body = (outer.start("body"), outer.group("body")) if outer else (0, latex)
    rows, start, depth = [], 0, 0
    for match in _ROW_SYNTAX.finditer(body):
        token = match.group()
        if token in ("{",) or token.startswith("\\begin"):
            depth += 1
        elif token in ("}",) or token.startswith("\\end"):
            depth = max(depth - 1, 0)
        elif token == "\\\\" and depth == 0:
            rows.append((base + start, body[start : match.start()]))
            start = match.end()
    rows.append((base + start, body[start:]))
    cleaned = [(offset, _NUMBERING.sub(" ", row)) for offset, row in rows]
    return [(offset, row) for offset, row in cleaned if row.strip()] or [(0, latex)]


# ---- token walking --------------------------------------------------------------------------------------
def _blocks(tokens: Sequence[Any]) -> Iterator[list[Any]]:
    """The top-level blocks (a paragraph, a list, a display) as runs of tokens: the notes go after each."""
    start = 0
    while start < len(tokens):
        end = start
        if tokens[start].nesting == 1:
            level = tokens[start].level
            end = next((i for i in range(start + 1, len(tokens))
                        if tokens[i].level == level and tokens[i].nesting == -1), len(tokens) - 1)
        yield list(tokens[start : end + 1])
        start = end + 1


def _lines_of(group: Sequence[Any]) -> tuple[int, int] | None:
    """The key's lines (1-based, inclusive) a top-level block spans."""
    head = group[0]
    return (head.map[0] + 1, head.map[1]) if head.map else None


def _lower_headings(tokens: Sequence[Any]) -> None:
    """A key's headings two levels down: under the page's title and the key's own name."""
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1:]) + 2)}"


class _OutOfTime(BaseException):
    """Rendering a key took longer than :data:`RENDER_SECONDS` (not an Exception: nothing may swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_OutOfTime` in the block after ``seconds`` (main thread on POSIX; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
