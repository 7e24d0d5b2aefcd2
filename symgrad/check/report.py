"""Verdicts → text for people, JSON for tools, or the key itself annotated with ✓ / ✗ notes."""

from __future__ import annotations

import json
import math
from collections import Counter

from .checker import Verdict

FORMATS = ("text", "json", "markdown")
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
    rows = [
        {
            "line": v.line, "latex": v.latex, "verdict": v.verdict, "reason": v.reason, "expected": v.expected,
            "model": v.model, "model_from": v.model_from, "kind": v.kind, "point": v.point,
            "values": None if v.values is None else {"claimed": _number(v.values[0]),
                                                     "expected": _number(v.values[1])},
        }
        for v in verdicts
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


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
