"""Keys in other hands: twelve answer keys in twelve styles (tests/keys/styles/, written without looking at the
parser), each defining its own model and holding planted mistakes of every kind in issue 17's §4.

Each key's ``.expect.json`` says, formula by formula, what it is: a definition, a worked value, a correct claim,
or a planted mistake and its kind.  The checker must flag every planted mistake at its line with a reason that
names the mistake, call nothing else wrong, and leave at most a tenth of the formulas unrecognized.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest

from symgrad.check.checker import Checker, Verdict

#: Twenty keys checked whole: seconds of work, outside the quick subset.
pytestmark = pytest.mark.slow

STYLES = Path(__file__).parent / "keys" / "styles"
KEYS = sorted(path for path in STYLES.glob("*.md") if path.name != "README.md")
#: Eight more keys, written later by another hand, blind to the parser and to the keys above; symgrad was
#: measured on them before anything was changed for them (15 of 25 mistakes caught, 1 false alarm, 31 %
#: unrecognized), and the gaps they showed were then closed in general ways.
HELDOUT = sorted((Path(__file__).parent / "keys" / "heldout").glob("*.md"))

#: What a reason says for each kind of planted mistake.
NAMES = {
    "sign": r"sign error|negative",
    "missing-factor": r"missing",
    "extra-factor": r"extra factor",
    "swap": r"written where|swapped|stands where",
    "index": r"index",
    "missing-sum": r"sum over",
    "factor-2": r"factor 2|factor ½|twice|half",
    "one-minus": r"\(a − 1\) written for \(1 − a\)",
    "ascent": r"ascent|direction",
}


@functools.cache
def _matched(path: Path) -> list[tuple[dict, Verdict | None]]:
    """Each expectation with the verdict on its formula (matched by line and a piece of its LaTeX)."""
    verdicts = Checker().check_text(path.read_text(encoding="utf-8"))
    used: set[int] = set()
    pairs = []
    for expectation in json.loads(path.with_suffix(".expect.json").read_text(encoding="utf-8")):
        same_line = [i for i, v in enumerate(verdicts) if v.line == expectation["line"] and i not in used]
        exact = [i for i in same_line if expectation["latex"] in verdicts[i].latex]
        chosen = (exact or same_line or [None])[0]
        if chosen is not None:
            used.add(chosen)
        pairs.append((expectation, verdicts[chosen] if chosen is not None else None))
    return pairs


def judged_all() -> dict[str, list[tuple[dict, Verdict | None]]]:
    return {path.name: _matched(path) for path in KEYS}


def test_there_are_keys_of_every_style_and_every_mistake():
    kinds = {e["mistake"] for path in KEYS for e in json.loads(path.with_suffix(".expect.json").read_text())
             if e["expect"] == "wrong"}
    assert len(KEYS) >= 6 and kinds == set(NAMES)


@pytest.mark.parametrize("key", [path.name for path in KEYS])
def test_every_planted_mistake_is_caught_at_its_line(key):
    missed = [(e["line"], e["mistake"], v.verdict if v else None, v.reason if v else None)
              for e, v in _matched(STYLES / key) if e["expect"] == "wrong" and (v is None or v.verdict != "wrong")]
    assert missed == []


def test_the_reasons_name_the_mistakes():
    """Nine in ten reasons name the planted edit ("sign error", "a chain factor is missing: w_2"); the others
    say only that the sides differ (a mistake no single edit of the correct answer reproduces)."""
    planted = [(e, v) for key in judged_all().values() for e, v in key if e["expect"] == "wrong"]
    unnamed = [(e["line"], e["mistake"], v.reason) for e, v in planted if not re.search(NAMES[e["mistake"]], v.reason)]
    assert len(unnamed) <= 0.1 * len(planted), unnamed


@pytest.mark.parametrize("path", [*KEYS, *HELDOUT], ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_correct_line_definition_or_worked_number_is_called_wrong(path):
    false_alarms = [(e["line"], e["expect"], v.latex, v.reason) for e, v in _matched(path)
                    if e["expect"] != "wrong" and v is not None and v.verdict == "wrong"]
    assert false_alarms == []


def test_at_most_a_tenth_of_the_formulas_is_unrecognized():
    pairs = [pair for key in judged_all().values() for pair in key]
    unrecognized = [(e["line"], e["latex"]) for e, v in pairs
                    if (v is None or v.verdict == "unrecognized") and e["expect"] != "value"]
    assert len(unrecognized) <= 0.1 * len(pairs), unrecognized


def test_the_held_out_keys_are_checked_nearly_as_well():
    """Most planted mistakes in the held-out keys caught (a few need notations symgrad does not read yet:
    an intercept x_0 = 1 with a sum from 0), and no more than a sixth of their formulas unrecognized."""
    pairs = [pair for path in HELDOUT for pair in _matched(path)]
    planted = [(e, v) for e, v in pairs if e["expect"] == "wrong"]
    caught = [v for e, v in planted if v is not None and v.verdict == "wrong"]
    unrecognized = [e for e, v in pairs if (v is None or v.verdict == "unrecognized") and e["expect"] != "value"]
    assert len(HELDOUT) >= 8 and len(caught) >= 0.85 * len(planted)
    assert len(unrecognized) <= len(pairs) / 6, [(e["line"], e["latex"]) for e in unrecognized]


# ---- keys written blind (tests/keys/blind/README.md) ------------------------------------------------------------
BLIND = sorted(path for path in (Path(__file__).parent / "keys" / "blind").glob("*.md") if path.name != "README.md")


def planted_lines(path: Path) -> set[int]:
    """The lines the key's first comment names as holding planted mistakes: "line 16 (a sign error)"."""
    comment = re.match(r"<!--(.*?)-->", path.read_text(encoding="utf-8"), re.S)
    assert comment, f"{path.name} does not start with the comment naming its planted mistakes"
    return {int(line) for line in re.findall(r"\bline (\d+) \(", comment.group(1))}


@functools.cache
def blind_verdicts(path: Path) -> list[Verdict]:
    return Checker().check_text(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", BLIND, ids=lambda path: path.name)
def test_a_blind_key_has_no_false_alarm_and_no_line_called_broken(path):
    planted = planted_lines(path)
    assert len(planted) >= 2
    false_alarms = [(v.line, v.latex, v.reason) for v in blind_verdicts(path)
                    if v.verdict == "wrong" and v.line not in planted]
    broken = [(v.line, v.latex, v.reason) for v in blind_verdicts(path) if v.reason.startswith("cannot read")]
    assert false_alarms == [] and broken == []


def test_the_blind_keys_planted_mistakes_are_caught_at_least_as_often_as_measured():
    """The first eight: 12 of 24 when they were written; 18 since a class index c, rows \\mathbf{w}_c, a dropped
    1/m or sum, Bishop's sample subscripts (x_n) and iterates (w^{(\\tau+1)}) are read.  The second eight: 21 of
    24 when they were written, with five false alarms; 21 with none since (a claim is no longer called wrong by a
    model that a later part of the key defines; ε and ε_j are two quantities).  Catching fewer fails here."""
    planted = [(path.name, line) for path in BLIND for line in planted_lines(path)]
    caught = [(name, line) for name, line in planted
              if any(v.line == line and v.verdict == "wrong" for v in blind_verdicts(BLIND[0].parent / name))]
    assert len(BLIND) == 16 and len(planted) == 48
    assert len(caught) >= 39, sorted(set(planted) - set(caught))
