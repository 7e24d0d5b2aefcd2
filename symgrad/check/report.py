"""Verdicts → text for people, JSON for tools, CSV for a gradebook, or the key itself annotated with ✓ / ✗
notes (Markdown here; HTML in ``html.py``).  The ``*_many`` functions report several keys, each as one of
:class:`~symgrad.check.outcome.KeyResult`, with a summary."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from symgrad.check.checker import Verdict

if TYPE_CHECKING:
    from symgrad.check.outcome import KeyResult

FORMATS = ("text", "json", "markdown", "csv", "html")
MARKS = {"correct": "✓", "wrong": "✗", "unrecognized": "?"}
#: The most of a formula the text report echoes (the key has it whole; the JSON report carries it whole).
ECHO_WIDTH = 200
#: The most of a reason a report shows: a reason may quote the key (the unknown symbols of a long formula).
REASON_WIDTH = 600


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the last one '…' when cut: a 100 KB formula must not flood a report."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _number(value: float) -> float | None:
    """A value for JSON, which has no NaN or infinity (a claim that divides by zero gives them)."""
    return value if math.isfinite(value) else None


def summary(verdicts: list[Verdict]) -> str:
    counts = Counter(v.verdict for v in verdicts)
    return f"{counts['correct']} correct, {counts['wrong']} wrong, {counts['unrecognized']} unrecognized"


def _point_text(verdict: Verdict) -> str:
    if not verdict.point:
        return ""
    where = ", ".join(f"{name} = {value:.4g}" for name, value in verdict.point.items())
    claimed, true = verdict.values or (float("nan"), float("nan"))
    return f"at {where}: the claim gives {claimed:.6g}, the derivation {true:.6g}"


def to_text(verdicts: list[Verdict], source: str) -> str:
    return "".join(text_lines(v, source) for v in verdicts) + summary(verdicts) + "\n"


def text_lines(v: Verdict, source: str) -> str:
    """One verdict as the text report shows it (a few lines): what ``symgrad check`` prints as each is judged."""
    lines = [f"{source}:{v.line}: {MARKS[v.verdict]} {v.verdict}: {clip(v.latex, ECHO_WIDTH)}"]
    if v.verdict != "correct":
        if v.reason:
            lines.append(f"    why: {clip(v.reason, REASON_WIDTH)}")
        if v.expected:
            lines.append(f"    expected: {v.expected}")
        if v.point:
            lines.append(f"    {_point_text(v)}")
    elif v.reason:  # what a correct verdict did not cover: a worked number, or no symbolic proof
        lines.append(f"    note: {clip(v.reason, REASON_WIDTH)}")
    return "\n".join(lines) + "\n"


def to_json(verdicts: list[Verdict]) -> str:
    return json.dumps(json_rows(verdicts), indent=2, ensure_ascii=False) + "\n"


def json_rows(verdicts: list[Verdict]) -> list[dict]:
    """The verdicts as the JSON report gives them (one object each)."""
    return [
        {
            "line": v.line, "latex": v.latex, "verdict": v.verdict, "reason": v.reason, "expected": v.expected,
            "model": v.model, "model_from": v.model_from, "kind": v.kind, "point": v.point,
            "values": None if v.values is None else {"claimed": _number(v.values[0]),
                                                     "expected": _number(v.values[1])},
        }
        for v in verdicts
    ]


def to_markdown(verdicts: list[Verdict], text: str, end_lines: dict[int, int]) -> str:
    """The key, with a quoted note after each math block that holds a checked statement."""
    notes: dict[int, list[str]] = {}
    for v in verdicts:
        note = f"> {MARKS[v.verdict]} line {v.line}: {v.verdict}"
        note += f": {clip(v.reason, REASON_WIDTH)}" if v.reason else ""
        if v.verdict != "correct":
            note += f"; expected ${v.expected}$" if v.expected else ""
        notes.setdefault(end_lines.get(v.line, v.line), []).append(note)
    out = []
    lines = text.split("\n")  # as the key's line numbers count: splitlines() would also split on \f and U+2028
    if lines[-1] == "":
        lines.pop()  # the key's last line end, which the join below puts back
    for number, line in enumerate(lines, 1):
        out.append(line)
        if number in notes:
            out += ["", *notes[number], ""]
    return "\n".join(out) + "\n"


# ---- many keys ------------------------------------------------------------------------------------------
SUMMARY_COLUMNS = ("file", "correct", "wrong", "unrecognized", "first wrong line")


def summary_table(results: Sequence[KeyResult]) -> str:
    """The table that ends a report of several keys: each key's counts and the first line that fails it (a
    wrong claim or broken LaTeX), or its error; then the totals."""
    from symgrad.check.outcome import display_name, where_it_fails

    rows = []
    for result in results:
        name = display_name(result.file)
        if result.error is not None:
            rows.append((name, f"error: {display_name(clip(result.error, REASON_WIDTH))}"))
            continue
        counts, first = result.counts, result.first_failure
        rows.append((name, str(counts["correct"]), str(counts["wrong"]), str(counts["unrecognized"]),
                     where_it_fails(first)))
    total = Counter()
    for result in results:
        total.update(result.counts)
    errors = sum(1 for result in results if result.error is not None)
    rows.append((f"all {len(results)} keys", str(total["correct"]), str(total["wrong"]), str(total["unrecognized"]),
                 f"{errors} could not be checked" if errors else ""))
    width = max(len(row[0]) for row in [SUMMARY_COLUMNS, *rows])
    numbers = [len(column) for column in SUMMARY_COLUMNS[1:4]]
    lines = [_summary_row(SUMMARY_COLUMNS, width, numbers)]
    lines += [_summary_row(row, width, numbers) for row in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _summary_row(row: Sequence[str], width: int, numbers: list[int]) -> str:
    """One row of the summary: the name, then the counts right-aligned under their headings (an error row
    has its message in their place)."""
    if len(row) == 2:
        return f"{row[0]:<{width}}  {row[1]}"
    counts = "  ".join(f"{cell:>{size}}" for cell, size in zip(row[1:4], numbers, strict=True))
    return f"{row[0]:<{width}}  {counts}  {row[4]}"


def file_text(result: KeyResult) -> str:
    """One key's part of the text report: its verdicts and counts as ``symgrad check KEY`` prints them, or its
    error in one line."""
    from symgrad.check.outcome import display_name

    name = display_name(result.file)
    if result.error is not None:
        return f"{name}: error: {display_name(result.error)}\n"
    return to_text(result.verdicts, name)


def to_json_many(results: Sequence[KeyResult]) -> str:
    """One object per key: its file, exit status, error (or null) and verdicts (the one-key report's list)."""
    rows = [{"file": r.file, "status": r.status, "error": r.error, "verdicts": json_rows(r.verdicts)}
            for r in results]
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = ("file", "line", "verdict", "reason", "model", "model_from", "kind", "expected", "formula")
#: What makes a spreadsheet read a cell as a formula to compute (a key's ``= (a - y)`` row, ``-x_j``): such a
#: cell is written with a leading apostrophe, as spreadsheets themselves mark text (OWASP's "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def to_csv(results: Sequence[KeyResult]) -> str:
    """One row per claim (and one per key that could not be checked, its verdict ``error``), under a header
    row: for a spreadsheet or a gradebook.  RFC 4180: quoted where needed, CRLF line ends."""
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(CSV_COLUMNS)
    for result in results:
        if result.error is not None:
            writer.writerow([_cell(result.file), "", "error", _cell(result.error), "", "", "", "", ""])
        for v in result.verdicts:
            writer.writerow([_cell(result.file), v.line, v.verdict, _cell(v.reason), _cell(v.model or ""),
                             v.model_from or "", v.kind or "", _cell(v.expected or ""), _cell(v.latex)])
    return stream.getvalue()


def _cell(text: str) -> str:
    """A text cell that a spreadsheet shows as text, never computes."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_markdown_many(results: Sequence[KeyResult]) -> str:
    """Each key annotated as ``--format markdown`` does one, under a heading with its name, then the summary
    as a table."""
    parts = []
    for result in results:
        parts.append(f"# {_markdown_text(result.file)}\n\n")
        if result.error is not None:
            parts.append(f"> error: {_markdown_text(result.error)}\n\n")
        else:
            parts.append(to_markdown(result.verdicts, result.text, result.end_lines) + "\n")
        parts.append("---\n\n")
    from symgrad.check.outcome import where_it_fails

    parts.append("# Summary\n\n| " + " | ".join(SUMMARY_COLUMNS) + " |\n|---|---:|---:|---:|---:|\n")
    for result in results:
        name = _markdown_text(result.file)
        if result.error is not None:
            parts.append(f"| {name} | | | | error: {_markdown_text(result.error)} |\n")
            continue
        counts, first = result.counts, result.first_failure
        parts.append(f"| {name} | {counts['correct']} | {counts['wrong']} | {counts['unrecognized']} | "
                     f"{where_it_fails(first)} |\n")
    return "".join(parts)


def _markdown_text(text: str) -> str:
    """Text shown as written in Markdown, on one line: no tag, math, emphasis, link or table cell break."""
    return "".join(f"\\{c}" if c in "\\`*_{}[]<>#$&~|" else c for c in " ".join(text.split()))
