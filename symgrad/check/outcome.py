"""One key's outcome, as every report of a run reads it: its verdicts or its error, its exit status, and where
it first fails.  Apart from ``many.py`` (which judges the keys) so that the reports (``report.py``, ``html.py``)
read outcomes without importing the machinery that makes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from symgrad.check.checker import Verdict

#: Exit statuses, worst last: the run's is the worst of its keys'.
PASSED, FAILED, UNUSABLE = 0, 1, 2


@dataclass
class KeyResult:
    """The outcome for one key: its verdicts, or the one-line error that kept it from being judged."""

    file: str
    status: int
    verdicts: list[Verdict] = field(default_factory=list)
    error: str | None = None
    text: str = ""
    end_lines: dict[int, int] = field(default_factory=dict)
    section: str | None = None  # the key as HTML (symgrad.check.html), made in the worker
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        """How many claims are correct, wrong and unrecognized."""
        counts = {"correct": 0, "wrong": 0, "unrecognized": 0}
        for verdict in self.verdicts:
            counts[verdict.verdict] = counts.get(verdict.verdict, 0) + 1
        return counts

    @property
    def first_failure(self) -> Verdict | None:
        """What the summary's "first wrong line" points at: the first wrong claim, or else the first formula whose
        LaTeX cannot be read (it fails the check too; :func:`where_it_fails` says which)."""
        wrong = next((v for v in self.verdicts if v.verdict == "wrong"), None)
        return wrong or next((v for v in self.verdicts if fails(v)), None)


def fails(verdict: Verdict) -> bool:
    """Whether a verdict fails the check (exit status 1): a wrong claim or broken LaTeX."""
    return verdict.verdict == "wrong" or verdict.malformed


def where_it_fails(verdict: Verdict | None) -> str:
    """A key's first failing line as the summaries show it: its number, marked when it is broken LaTeX rather
    than a wrong claim (a key may then fail with no claim wrong); "-" for none."""
    if verdict is None:
        return "-"
    return f"{verdict.line}" if verdict.verdict == "wrong" else f"{verdict.line} (broken LaTeX)"


def status_of(verdicts: Iterable[Verdict]) -> int:
    """A judged key's exit status: 1 when a claim fails, else 0."""
    return FAILED if any(fails(v) for v in verdicts) else PASSED


def display_name(path: str | Path) -> str:
    """A file name as a terminal may show it: control characters written as escapes (a name holding an
    escape sequence must not rewrite the teacher's terminal)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(path))
