"""``symgrad check`` on hostile keys: every run is bounded, and nothing a key holds escapes as a traceback.

Speed is asserted only as generous bounds that tell linear from quadratic or unbounded (the old figures are in
each test's docstring); what is asserted first is behaviour: the limit is checked before the work, the budget's
reason appears, a formula symgrad cannot evaluate is unrecognized and leaves the exit status alone.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from symgrad.check.checker import Checker
from symgrad.check.keys import extract
from symgrad.cli import main

#: A formula SymPy takes far longer than a claim's 10 s over (nested tanh, written out and differentiated).
SLOW = r"s'(\gamma) = " + r"\tanh(" * 40 + r"\gamma" + ")" * 40


def check(key: Path, *options: str) -> tuple[int, list[dict], str]:
    """``symgrad check KEY --format json`` in this process: the exit status, the verdicts and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["check", str(key), "--format", "json", *options])
    return status, (json.loads(out.getvalue()) if out.getvalue() else []), err.getvalue()


def many_headings(formulas: int, headings_each: int = 100) -> str:
    """A key of ``formulas`` formulas, each under ``headings_each`` headings of its own."""
    return "".join("# h\n" * headings_each + f"## Part {n}\n$a_1 = x w_{{{n}}}$\n" for n in range(formulas))


# -- extraction is linear, and the formula limit comes first --------------------------------------------------
def test_formulas_under_many_headings_are_found_in_linear_time():
    """2,000 formulas under 200,000 headings: each formula looked through every heading (54 s); now ~0.6 s."""
    text = many_headings(2000)
    start = time.perf_counter()
    statements = extract(text)
    assert time.perf_counter() - start < 10
    assert len(statements) == 2000
    assert statements[-1].heading == "h / Part 1999" and statements[-1].latex == "a_1 = x w_{1999}"
    assert statements[-1].line == text.count("\n")


def test_the_rows_of_a_huge_align_are_numbered_in_linear_time():
    """100,000 rows: each row's line was counted from the block's start (28 s); now ~1 s."""
    rows = "".join(f"a_{{{n % 10}}} &= x \\\\\n" for n in range(100_000))
    text = "Text\n\\begin{align*}\n" + rows + "\\end{align*}\n"
    start = time.perf_counter()
    statements = extract(text)
    assert time.perf_counter() - start < 10
    assert len(statements) == 100_000
    assert [(s.line, s.latex) for s in statements[-2:]] == [(100_001, "a_{8} = x"), (100_002, "a_{9} = x")]


def test_a_formula_carried_on_over_a_huge_align_is_joined_in_linear_time():
    """150,000 rows that each carry on the formula above were joined one by one, copying it each time (34 s);
    now ~1 s."""
    text = "\\begin{align*}\na &= x \\\\\n" + "&+ x \\\\\n" * 150_000 + "\\end{align*}\n"
    start = time.perf_counter()
    (statement,) = extract(text)
    assert time.perf_counter() - start < 10
    assert statement.latex == "a = x" + " + x" * 150_000 and statement.line == 2


def test_reading_stops_at_the_formula_past_the_limit():
    from symgrad.check.keys import TooManyStatements

    text = many_headings(5) + "$$" + "a_1 = x \\\\ " * 10 + "$$\n"  # 15 formulas, 10 of them in one block
    assert len(extract(text, most=15)) == 15
    for most in (14, 5, 0):
        with pytest.raises(TooManyStatements):
            extract(text, most=most)


def test_a_key_past_the_formula_limit_is_refused_before_any_work(tmp_path):
    """The count comes first: before any model is derived (here, a model file that does not even exist), and
    without reading a whole key of 2,001 formulas under 200,000 headings (54 s before the error, once)."""
    key = tmp_path / "many.md"
    key.write_text(many_headings(2001) + "\\begin{align*}\n" + "a_1 &= x \\\\\n" * 50_000 + "\\end{align*}\n")
    start = time.perf_counter()
    status, verdicts, error = check(key, "--model-file", str(tmp_path / "no-such-model.toml"))
    assert time.perf_counter() - start < 10
    assert status == 2 and not verdicts
    assert error.count("\n") == 1 and "has more than 2,000 equations" in error and "at most 2,000" in error


# -- a time limit for the whole key ---------------------------------------------------------------------------
@pytest.mark.slow  # seconds: see the marker in pyproject.toml
def test_the_time_limit_bounds_the_whole_key(tmp_path):
    """Five formulas of 10 s each took 50 s; under --time-limit 2 the first has 2 s and the rest none, and all
    are unrecognized with the reason, without failing the check."""
    key = tmp_path / "key.md"
    key.write_text("# The sigmoid\n\n" + "".join(f"${SLOW}$\n\n" for _ in range(5)))
    start = time.perf_counter()
    status, verdicts, _ = check(key, "--time-limit", "2")
    assert time.perf_counter() - start < 20
    assert status == 0 and len(verdicts) == 5
    assert all(v["verdict"] == "unrecognized" and "time limit for the whole key (2 s) was reached" in v["reason"]
               for v in verdicts), [v["reason"] for v in verdicts]


@pytest.mark.slow  # seconds: see the marker in pyproject.toml
def test_past_the_time_limit_an_unclosed_formula_still_fails_the_check(tmp_path):
    """The budget leaves the exit status alone, and a broken key is still told: reporting it costs no time."""
    key = tmp_path / "key.md"
    key.write_text(f"# The sigmoid\n\n${SLOW}$\n\n$z_1 = x w_2$\n\n$z_1 = \\frac{{1}}{{2}} x w_1\n")
    status, verdicts, _ = check(key, "--time-limit", "1")
    assert status == 1
    assert [v["verdict"] for v in verdicts] == ["unrecognized"] * 3
    assert ["time limit" in v["reason"] for v in verdicts] == [True, True, False]
    assert "never closed" in verdicts[2]["reason"]


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf"])
def test_a_time_limit_must_be_a_positive_number_of_seconds(tmp_path, value):
    key = tmp_path / "key.md"
    key.write_text("$z_1 = x w_1$\n")
    status, _, error = check(key, f"--time-limit={value}")
    assert status == 2 and error.count("\n") == 1 and "positive number of seconds" in error


# -- valid LaTeX symgrad cannot evaluate ----------------------------------------------------------------------
CANNOT_EVALUATE = [
    "3!", "(x + 1)! w_1", r"1.0000001^{99999}", r"10^{10^{10^{10}}}", r"2^{50000}", r"x^{2^{50000}}",
    r"e^{2^{70}}", r"\exp(2^{70})", "9" * 5000, "(" * 51 + "x" + ")" * 51, r"\frac{" * 51 + "x}{2}" * 51,
    " + ".join(["x"] * 6000),  # 24 KB: longer than a formula symgrad reads
]


@pytest.mark.parametrize("rhs", CANNOT_EVALUATE, ids=[r[:24] for r in CANNOT_EVALUATE])
def test_valid_latex_symgrad_cannot_evaluate_is_unrecognized_and_leaves_the_exit_status_alone(tmp_path, rhs):
    """These exited 1 as broken LaTeX ("number too large", "expected an operator … found '!'")."""
    key = tmp_path / "key.md"
    key.write_text(f"# Two-weight chain\n\n$z_1 = {rhs}$\n\n$z_1 = x w_1$\n")
    status, verdicts, _ = check(key, "--model", "two-weight-chain")
    assert status == 0, verdicts[0]["reason"]
    assert verdicts[0]["verdict"] == "unrecognized" and verdicts[0]["reason"].startswith("not supported: ")
    assert verdicts[1]["verdict"] == "correct"


def test_a_number_too_large_for_a_float_is_not_a_division_by_zero():
    """2^{5000} is a number, if far beyond a float: it was "divides by zero or is undefined there"."""
    (verdict,) = Checker().check_text("# The sigmoid\n\n$s'(\\gamma) = 2^{5000}$\n")
    assert verdict.verdict == "wrong" and "divides by zero" not in verdict.reason
    assert "about 1.41e+1505, too large for a float" in verdict.reason
    claim = r"s'(\gamma) = s(\gamma)(1 - s(\gamma)) + 2^{5000} - 2^{5000}"
    (verdict,) = Checker().check_text(f"# The sigmoid\n\n${claim}$\n")
    assert verdict.verdict == "correct"


def test_a_side_that_is_no_number_is_wrong_wherever_it_stands():
    """\\frac{1}{0} looked like a worked number (as \\frac{1}{2} is) and was let through as a value given to α,
    where \\infty was wrong: every side that is no number is wrong, never correct, in every position."""
    for side in (r"\frac{1}{0}", r"\infty", r"\log 0", "0/0", r"-\tfrac{3}{0}"):
        claims = [rf"\alpha = {side}", f"z_1 = {side}", rf"\frac{{\partial Loss}}{{\partial w_2}} = {side}"]
        verdicts = Checker().check_text("# Two-weight chain\n\n" + "".join(f"${claim}$\n\n" for claim in claims))
        assert [v.verdict for v in verdicts] == ["wrong"] * 3, (side, verdicts[0].reason)
        assert all("the right side" in v.reason and "not a finite value" in v.reason for v in verdicts)


# -- no SymPy message, no traceback ---------------------------------------------------------------------------
@pytest.mark.parametrize(("where", "error", "reason"), [
    ("candidates", RecursionError("maximum recursion depth exceeded while calling a Python object"),
     "nested too deeply"),
    ("candidates", MemoryError(), "too large for symgrad"),
    ("_judge", ValueError("Poly(x**2, x, domain='ZZ')\nis not a polynomial"), "symgrad cannot work with this formula"),
])
def test_what_goes_wrong_inside_sympy_is_a_one_line_verdict_in_symgrads_words(tmp_path, monkeypatch, where,
                                                                               error, reason):
    """A RecursionError outside the judging escaped as a traceback, and SymPy's message was the reason."""
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(Checker, where, fail)
    key = tmp_path / "key.md"
    key.write_text("# Two-weight chain\n\n$z_1 = x w_1$\n")
    status, verdicts, _ = check(key)
    assert status == 0
    (verdict,) = verdicts
    assert verdict["verdict"] == "unrecognized" and reason in verdict["reason"]
    assert "\n" not in verdict["reason"] and "Poly" not in verdict["reason"] and "maximum" not in verdict["reason"]


def test_a_claim_symgrad_cannot_judge_gives_a_reason_without_sympys_message(monkeypatch):
    from symgrad.check.judge import Judge

    def fail(*args, **kwargs):
        raise TypeError("Cannot convert complex to float")

    monkeypatch.setattr(Judge, "judge", fail)
    (verdict,) = Checker("two-weight-chain").check_text("$z_1 = x w_1$\n")
    assert verdict.reason == "cannot judge it: symgrad cannot work with this formula"


# -- fuzzing ----------------------------------------------------------------------------------------------------
_NAMES = ["x", "w_1", "w_2", "a_1", "a_2", "y^*", "z_1", r"\alpha", r"\gamma", r"s(\gamma)", "Loss", "w_j", "x_j"]
_NUMBERS = ["0", "1", "2", "0.5", "3", "9" * 4000, "9" * 4500, r"10^{10^{10}}", r"2^{50000}", r"1.0000001^{99999}",
            r"2^{5000}", r"\infty", r"\frac{1}{0}"]
_ATOMS = st.sampled_from(_NAMES + _NUMBERS)


def _times(part: str, wanted: int) -> int:
    """How often to repeat ``part`` in a flat sum: ``wanted`` times, but within 50 KB (a key holds 2 MB)."""
    return max(1, min(wanted, 50_000 // (len(part) + 3)))


def _compound(parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Valid LaTeX built from valid parts: what symgrad reads, and what it knows it does not."""
    pairs = st.tuples(parts, parts)
    return st.one_of(
        pairs.map(lambda p: f"{p[0]} + {p[1]}"), pairs.map(lambda p: f"{p[0]} - {p[1]}"),
        pairs.map(lambda p: f"{p[0]} \\cdot {p[1]}"), pairs.map(lambda p: f"\\frac{{{p[0]}}}{{{p[1]}}}"),
        pairs.map(lambda p: f"{{{p[0]}}}^{{{p[1]}}}"), parts.map(lambda p: f"\\left({p}\\right)"),
        parts.map(lambda p: f"\\sqrt{{{p}}}"), parts.map(lambda p: f"\\log({p})"), parts.map(lambda p: f"e^{{{p}}}"),
        parts.map(lambda p: f"\\tanh({p})"), parts.map(lambda p: f"({p})!"), parts.map(lambda p: f"\\hat{{{p}}}"),
        parts.map(lambda p: f"\\sum_{{j=1}}^{{k}} {p}"), parts.map(lambda p: f"x^{{2^{{{p}}}}}"),
        st.tuples(parts, st.integers(10, 60)).map(lambda p: "(" * p[1] + p[0] + ")" * p[1]),
        st.tuples(parts, st.integers(100, 2000)).map(lambda p: " + ".join([p[0]] * _times(p[0], p[1]))),
    )


VALID = st.recursive(_ATOMS, _compound, max_leaves=6)
#: Broken LaTeX as well: unknown commands, braces and brackets that do not close, stray characters.
_SOUP = st.sampled_from(_NAMES + _NUMBERS + ["{", "}", "(", ")", "[", "^", "_", "!", "'", "|", ",", r"\frac", r"\fracc",
                                            r"\sqrt", r"\partial", r"\sum_{i=1}^{k}", r"\nabla_", r"\begin{pmatrix}",
                                            r"\text{ab}", r"\mathbf{x}", r"\left(", r"\right)", "=", r"\leftarrow"])
BROKEN = st.lists(st.one_of(_SOUP, VALID), min_size=1, max_size=8).map(" ".join)


def _check_snippet(lhs: str, rhs: str, model: str) -> tuple[int, list[dict]]:
    """Check a key of ``lhs = rhs`` and a correct claim in this process, as the command line does."""
    with tempfile.TemporaryDirectory() as folder:
        key = Path(folder) / "key.md"
        key.write_text(f"# Part\n\n$${lhs} = {rhs}$$\n\n$z_1 = x w_1$\n", encoding="utf-8")
        start = time.perf_counter()
        status, verdicts, error = check(key, "--model", model, "--time-limit", "2")
        assert time.perf_counter() - start < 15, (lhs, rhs)  # 2 s of budget; the rest is a generous margin
    assert status in (0, 1), error
    assert verdicts and all("\n" not in v["reason"] for v in verdicts)
    assert all(v["reason"] for v in verdicts if v["verdict"] != "correct")
    broken = any(v["reason"].startswith("cannot read the LaTeX") for v in verdicts)
    assert status == int(broken or any(v["verdict"] == "wrong" for v in verdicts))
    return status, verdicts


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["z_1", "s'(\\gamma)", "\\frac{\\partial Loss}{\\partial w_1}", "\\eta"]), VALID,
       st.sampled_from(["two-weight-chain", "logistic-regression", "sigmoid"]))
@example("z_1", r"x^{2^{50000}} + (3)!", "two-weight-chain")
@example("s'(\\gamma)", SLOW.partition(" = ")[2], "sigmoid")
@pytest.mark.slow  # seconds: see the marker in pyproject.toml
def test_fuzz_valid_latex_never_fails_the_check_as_broken_and_every_run_is_bounded(lhs, rhs, model):
    """Valid LaTeX, however hostile, is judged or unrecognized as the tool's limit: the key is never called
    broken for it, only a wrong claim fails the check, and each run stays within its time limit."""
    _, verdicts = _check_snippet(lhs, rhs, model)
    assert not any(v["reason"].startswith("cannot read the LaTeX") for v in verdicts), verdicts[0]["reason"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["z_1", "\\frac{\\partial Loss}{\\partial w_1}"]), BROKEN,
       st.sampled_from(["two-weight-chain", "logistic-regression"]))
@example("z_1", "{" * 5000 + "x" + "}" * 5000, "two-weight-chain")
@example("z_1", r"\frac{1}{2" + " + x" * 5000, "two-weight-chain")
@pytest.mark.slow  # seconds: see the marker in pyproject.toml
def test_fuzz_no_key_makes_check_raise_and_every_verdict_has_a_one_line_reason(lhs, rhs, model):
    _check_snippet(lhs, rhs, model)
