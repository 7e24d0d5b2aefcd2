"""`symgrad check`: correct keys pass, planted mistakes are flagged at their line with the right reason,
every derivation symgrad prints checks out, and bad input gets a clear message."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symgrad.catalogue.models import catalogue_names
from symgrad.check.checker import Checker
from symgrad.check.keys import extract
from symgrad.check.report import to_text
from symgrad.cli import main

KEYS = Path(__file__).parent / "keys"
CORRECT_KEYS = sorted(KEYS.glob("*.md"))


def run_check(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """``symgrad check ARGS`` run in this process, as the command line runs it (``cli.main``): the same parser,
    exit status and streams, without a new interpreter's half-second start for each of these tests.
    (test_cli.py and test_check_many.py run the real ``python -m symgrad``.)"""
    out, err = io.StringIO(), io.StringIO()
    standard_input = io.TextIOWrapper(io.BytesIO((stdin or "").encode("utf-8")), encoding="utf-8")
    saved_stdin = sys.stdin
    sys.stdin = standard_input
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(["check", *args])
    finally:
        sys.stdin = saved_stdin
    return subprocess.CompletedProcess(["symgrad", "check", *args], status, out.getvalue(), err.getvalue())


def test_there_is_a_correct_key_for_every_catalogue_model():
    assert {p.stem for p in CORRECT_KEYS} >= set(catalogue_names()) - {"two-weight-chain-abstract"}


@pytest.mark.parametrize("key", CORRECT_KEYS, ids=lambda p: p.stem)
def test_correct_keys_have_nothing_wrong_or_unrecognized(key):
    verdicts = Checker().check_text(key.read_text())
    assert len(verdicts) >= 5
    assert [(v.line, v.verdict, v.reason) for v in verdicts if v.verdict != "correct"] == []


# (key, text to replace, its replacement, what the reason must say)
PLANTED = [
    ("two-weight-chain", r"\frac{\partial a_2}{\partial z_2}\frac{\partial z_2}{\partial w_2}$$",
     r"\frac{\partial a_1}{\partial z_2}\frac{\partial z_2}{\partial w_2}$$", "wrong node in factor 2"),
    ("two-weight-chain", r"$\frac{\partial z_2}{\partial a_1} = w_2$", r"$\frac{\partial z_2}{\partial w_1} = w_2$",
     "wrong denominator"),
    ("two-weight-chain",
     r"\frac{\partial a_2}{\partial z_2}\frac{\partial z_2}{\partial a_1}\frac{\partial a_1}{\partial z_1}",
     r"\frac{\partial a_2}{\partial z_2}\frac{\partial a_1}{\partial z_1}", "a chain factor is missing"),
    ("two-weight-chain", r"&= (a_2 - y^*) a_2 (1 - a_2) w_2 a_1 (1 - a_1) x", r"&= (a_2 - y^*) a_2 (1 - a_2) w_2 x",
     "a chain factor is missing"),
    ("logistic-regression", r"$$\frac{dL}{dw_j} = -x_j(y - h(\mathbf{x}))$$",
     r"$$\frac{dL}{dw_j} = x_j(y - h(\mathbf{x}))$$", "sign error"),
    ("two-weight-chain", r"$$w_1 \leftarrow w_1 - \alpha", r"$$w_1 \leftarrow w_1 + \alpha", "gradient ascent"),
    ("logistic-regression", r"\mathbf{w} + \eta\, \mathbf{x}", r"\mathbf{w} + \alpha\, \mathbf{x}", "wrong step size"),
    ("two-weight-chain-cross-entropy", r"w_2 \leftarrow w_2 - \alpha (a_2 - y^*) a_1",
     r"w_2 \leftarrow w_2 - 2\alpha (a_2 - y^*) a_1", "wrong step size"),
    ("two-weight-chain", r"&= (a_2 - y^*) \cdot a_2(1 - a_2) \cdot a_1", r"&= (a_2 - y^*) \cdot y^*(1 - y^*) \cdot a_1",
     "two different quantities"),
    # layers: sums over units, the softmax Jacobian, shared parameters
    ("softmax-regression",  # a single path through p_j: every p_l depends on z_j
     r"\frac{\partial L}{\partial w_{ij}} = \sum_{l=1}^{C} \frac{\partial L}{\partial p_l}"
     r"\frac{\partial p_l}{\partial z_j}\frac{\partial z_j}{\partial w_{ij}}",
     r"\frac{\partial L}{\partial w_{ij}} = \frac{\partial L}{\partial p_j}\frac{\partial p_j}{\partial z_j}"
     r"\frac{\partial z_j}{\partial w_{ij}}",
     "the sum over the units is missing"),
    ("softmax-regression", r"\frac{\partial L}{\partial w_{ij}} = (p_j - y_j) x_i",
     r"\frac{\partial L}{\partial w_{ij}} = (y_j - p_j) x_i", "sign error"),
    ("softmax-regression", r"&= p_l(\delta_{jl} - p_j)", r"&= p_l(1 - p_j)", "not equal to"),
    ("mlp-shared-bias", r"\frac{\partial L}{\partial b} &= \sum_{j=1}^{k} (p - y) v_j h_j (1 - h_j)",
     r"\frac{\partial L}{\partial b} &= (p - y) v_j h_j (1 - h_j)", "the sum over the units is missing"),
    ("mlp-shared-bias", r"\frac{\partial L}{\partial b} = \sum_{j=1}^{k} \frac{\partial L}{\partial p}",
     r"\frac{\partial L}{\partial b} = \frac{\partial L}{\partial p}", "the sum over the units is missing"),
    ("mlp", r"$$v_j \leftarrow v_j - \eta", r"$$v_j \leftarrow v_j + \eta", "gradient ascent"),
    ("mlp", r"$$c \leftarrow c - \eta (p - y)$$", r"$$c \leftarrow c - \alpha (p - y)$$", "wrong step size"),
    ("mlp", r"&= (p - y) v_j h_j (1 - h_j) x_i", r"&= (p - y) h_j (1 - h_j) x_i", "a chain factor is missing"),
    ("mlp-softmax", r"\frac{\partial L}{\partial w_{ij}} = \sum_{l=1}^{C} \sum_{q=1}^{C}",
     r"\frac{\partial L}{\partial w_{ij}} = \sum_{q=1}^{C}", "the sum over the units is missing"),
    ("mlp-softmax", r"&= \sum_{l=1}^{C} (p_l - y_l) v_{jl} h_j (1 - h_j) x_i",
     r"&= (p_l - y_l) v_{jl} h_j (1 - h_j) x_i", "the sum over the units is missing"),
]


@pytest.mark.parametrize(("key", "old", "new", "reason"), PLANTED, ids=[f"{k}:{r}" for k, _, _, r in PLANTED])
def test_planted_mistake_is_flagged_at_its_line_and_nothing_else(key, old, new, reason):
    text = (KEYS / f"{key}.md").read_text()
    assert text.count(old) == 1, "the planted mistake must replace exactly one place"
    mutated = text.replace(old, new)
    line = text[: text.index(old)].count("\n") + 1  # every planted change is on one line
    flagged = [v for v in Checker().check_text(mutated) if v.verdict != "correct"]
    assert len(flagged) == 1, [(v.line, v.verdict, v.reason) for v in flagged]
    verdict = flagged[0]
    assert (verdict.line, verdict.verdict) == (line, "wrong")
    assert reason in verdict.reason
    assert verdict.expected


def test_a_wrong_value_shows_a_point_where_the_sides_differ():
    text = (KEYS / "logistic-regression.md").read_text().replace(r"$$\frac{dL}{dw_j} = -x_j(y - h(\mathbf{x}))$$",
                                                                 r"$$\frac{dL}{dw_j} = -x_j(y - 2h(\mathbf{x}))$$")
    wrong = [v for v in Checker().check_text(text) if v.verdict == "wrong"]
    assert len(wrong) == 1 and wrong[0].point and wrong[0].values
    claimed, expected = wrong[0].values
    assert abs(claimed - expected) > 1e-6


def test_a_wrong_value_about_a_layer_shows_the_unit_indices_where_the_sides_differ():
    text = (KEYS / "softmax-regression.md").read_text().replace(r"$$\frac{\partial L}{\partial b_j} = p_j - y_j$$",
                                                                r"$$\frac{\partial L}{\partial b_j} = p_j - 2 y_j$$")
    wrong = [v for v in Checker().check_text(text) if v.verdict == "wrong"]
    assert len(wrong) == 1 and {"j", "w[1, 2]", "b[2]"} <= set(wrong[0].point)
    claimed, expected = wrong[0].values
    assert abs(claimed - expected) > 1e-6


def test_a_variant_can_be_forced_and_its_shared_parameter_needs_its_sum():
    text = "The bias: $\\frac{\\partial L}{\\partial b} = (p - y) v_j h_j (1 - h_j)$\n"
    (verdict,) = Checker("mlp-shared-bias").check_text(text)
    assert verdict.verdict == "wrong" and "the sum over the units is missing" in verdict.reason
    assert verdict.model == "mlp --shared-bias True"


@pytest.mark.parametrize("name", catalogue_names())
def test_round_trip_every_printed_derivation_checks_out(name):
    markdown = subprocess.run([sys.executable, "-m", "symgrad", "derive", name, "--format", "markdown"],
                              capture_output=True, text=True, check=True).stdout
    completed = run_check("-", "--format", "json", stdin=markdown)
    verdicts = json.loads(completed.stdout)
    assert completed.returncode == 0, completed.stderr
    not_correct = [v for v in verdicts if v["verdict"] != "correct"]
    assert verdicts and not not_correct, not_correct


def test_exit_status_and_formats(tmp_path):
    good = KEYS / "two-weight-chain.md"
    assert run_check(str(good)).returncode == 0
    bad = tmp_path / "bad.md"
    bad.write_text(good.read_text().replace(r"$$w_1 \leftarrow w_1 - \alpha", r"$$w_1 \leftarrow w_1 + \alpha"))
    text = run_check(str(bad))
    assert text.returncode == 1 and "✗ wrong" in text.stdout and "why: wrong direction" in text.stdout
    rows = json.loads(run_check(str(bad), "--format", "json").stdout)
    assert {"line", "latex", "verdict", "reason", "expected"} <= set(rows[0])
    markdown = run_check(str(bad), "--format", "markdown").stdout
    assert markdown.startswith("# Neural nets") and "> ✗ line" in markdown and "> ✓ line" in markdown


@pytest.mark.parametrize(
    ("model", "claim", "computed"),
    [("logistic-regression", r"\eta = 0.1", False), ("logistic-regression", "N = 100", False),
     ("logistic-regression", "k = 10", False), ("logistic-regression", "x_1 = 2", False),
     ("two-weight-chain", r"\alpha = 0.01", False), ("two-weight-chain", "w_1 = 0.3", False),
     ("two-weight-chain", "y^* = 1", False), ("two-weight-chain", "a_2 = 0.62", True),
     ("two-weight-chain", r"\mathrm{Loss} = 0.1", True)],
)
def test_a_number_for_a_quantity_is_an_example_not_a_wrong_claim(model, claim, computed):
    """"With step size η = 0.1" sets up an example: as an identity over every input it was judged wrong."""
    (verdict,) = Checker(model).check_text(f"${claim}$\n")
    assert (verdict.verdict, verdict.kind, verdict.malformed) == ("unrecognized", "value", False)
    assert ("worked out" in verdict.reason) == computed, verdict.reason


def test_a_formula_with_a_worked_number_is_judged_by_its_formula():
    text = "$z_1 = x w_1 = 0.5$\n\n$z_1 = x w_2 = 0.5$\n\n$z_1 = 0.5 = x w_1$\n"
    verdicts = Checker("two-weight-chain").check_text(text)
    assert [v.verdict for v in verdicts] == ["correct", "wrong", "correct"]
    assert verdicts[0].reason.endswith(r"\frac{1}{2}: a worked value, not checked")
    assert "    note: \\frac{1}{2}: a worked value, not checked" in to_text(verdicts, "key").splitlines()


def test_a_number_for_an_expression_is_still_judged():
    verdicts = Checker("sigmoid").check_text("$s(0) = 0.5$\n\n$s(0) = 0.4$\n\n$s'(0) = s(0)(1 - s(0)) = 0.3$\n")
    assert [v.verdict for v in verdicts] == ["correct", "wrong", "wrong"]


def test_the_sigmoid_fallback_takes_claims_in_two_variables_only_about_the_sigmoid():
    """With no model to name them, a and b were judged as an identity in two variables, and a = b called wrong;
    s(a) = s(b) names the sigmoid, and is judged (false as an identity)."""
    text = ("$a = b$\n\n$s(a) = s(b)$\n\n"
            "$\\frac{d}{d\\gamma}(1+e^{-\\gamma})^{-1} = \\frac{e^{-\\gamma}}{(1+e^{-\\gamma})^{2}}$"
            "\n\n$s(\\gamma) = 1 - s(\\gamma)$\n")
    assert [v.verdict for v in Checker().check_text(text)] == ["unrecognized", "wrong", "correct", "wrong"]


def test_a_node_written_of_itself_is_a_product():
    """h(1 - h) is h times (1 - h), as a reader takes it; it was read as "h of something", that is h."""
    text = ("# Logistic regression\n\n$\\frac{dh}{d\\gamma} = h(1 - h)$\n\n$\\frac{dh}{d\\gamma} = h(1 + h)$\n\n"
            "$\\frac{dL}{dw_j} = \\left(\\frac{1 - y}{1 - h} - \\frac{y}{h}\\right) h(1 - h) x_j$\n\n"
            "$\\frac{dL}{dw_j} = (h(\\mathbf{x}) - y) x_j$\n")
    assert [v.verdict for v in Checker().check_text(text)] == ["correct", "wrong", "correct", "correct"]


def test_valid_latex_the_parser_does_not_read_is_unrecognized_and_broken_latex_fails(tmp_path):
    r"""An integral, a limit, a second derivative: the tool's limits, reported without failing the check.  A typo'd
    command (\fracc) is broken LaTeX, which fails it as a missing brace does.  (\hat and transposes were among
    the limits; they are read now.)"""
    unsupported = [r"\int_0^1 s(\gamma) d\gamma = 1", r"\lim_{\gamma \to \infty} s(\gamma) = 1",
                   r"\frac{d^2 s}{d\gamma^2} = 0"]
    key = tmp_path / "key.md"
    key.write_text("# Logistic regression\n\n" + "".join(f"${claim}$\n\n" for claim in unsupported)
                   + "$s'(\\gamma) = s(\\gamma)(1 - s(\\gamma))$\n", encoding="utf-8")
    verdicts = Checker().check_text(key.read_text(encoding="utf-8"))
    assert [(v.verdict, v.malformed, v.reason.startswith("not supported")) for v in verdicts[:3]] == [
        ("unrecognized", False, True)] * 3
    result = run_check(str(key))
    assert result.returncode == 0 and "1 correct, 0 wrong, 3 unrecognized" in result.stdout, result.stdout
    key.write_text("$\\frac{dL}{dw_j} = \\fracc{1}{2}$\n", encoding="utf-8")
    result = run_check(str(key))
    assert result.returncode == 1 and "unknown command '\\fracc'" in result.stdout, result.stdout


def test_the_handouts_vectors_written_out_are_unsupported_and_an_unclosed_list_is_broken():
    text = ("$\\mathbf{x} = [x_1, \\dots, x_k]^T$\n\n"
            "$\\nabla_{\\mathbf{w}} L = \\left[\\frac{dL}{dw_1}, \\frac{dL}{dw_2}, ..., \\frac{dL}{dw_k}\\right]^T$\n\n"
            "$\\frac{dL}{dw_j} = (h(\\mathbf{x}), y$\n")
    verdicts = Checker("logistic-regression").check_text(text)
    assert [(v.verdict, v.malformed) for v in verdicts] == [("unrecognized", False)] * 2 + [("unrecognized", True)]


@pytest.mark.parametrize("operator", [r"\quad \times", r"\cdot", r"\times"])
def test_a_product_broken_over_align_rows_is_one_claim(operator):
    """A row that begins with an operator carries on the row above; judged alone, the first half was wrong."""
    text = ("# Neural nets (quadratic loss, sigmoid)\n\n\\begin{align*}\n"
            "\\frac{\\partial Loss}{\\partial w_1} &= (a_2 - y^*) \\, a_2 (1 - a_2) \\\\\n"
            f"&{operator} w_2 \\, a_1 (1 - a_1) \\, x\n\\end{{align*}}\n")
    verdicts = Checker().check_text(text)
    assert [(v.line, v.verdict) for v in verdicts] == [(4, "correct")]
    assert verdicts[0].latex.endswith(r"w_2 \, a_1 (1 - a_1) \, x")


def test_an_align_row_of_its_own_is_not_joined_to_the_row_above():
    """A condition or a remark on the next row must not swallow the claim above it (a review's finding)."""
    text = ("# Two-weight chain\n\n\\begin{align*}\n"
            "w_1 &\\leftarrow w_1 + \\alpha (a_2 - y^*) a_2 (1 - a_2) w_2 a_1 (1 - a_1) x \\\\\n"
            "&\\alpha > 0\n\\end{align*}\n\n"
            "\\begin{align*}\n\\frac{\\partial z_1}{\\partial w_1} &= w_2 \\\\\n&- 1 < x\n\\end{align*}\n\n"
            "\\begin{align*}\n\\frac{\\partial Loss}{\\partial w_2} &= (a_2 - y^*) a_2 (1 - a_2) a_1 \\\\\n"
            "&\\quad (\\text{by the chain rule})\n\\end{align*}\n")
    verdicts = Checker().check_text(text)
    assert [v.verdict for v in verdicts] == ["wrong", "wrong", "correct"]


def test_a_formula_that_comes_to_a_constant_is_judged_not_taken_for_a_worked_value():
    """What counts as a worked number is what the key wrote: a_1 w_2 - w_2 a_1 is 0 once SymPy builds it, and
    y - y^* is 0 once y reads as the label, but both are formulas to judge."""
    text = ("# Two-weight chain\n\n$Loss = \\frac{1}{2}(y - y^*)^2$\n\n$z_2 = a_1 w_2 - w_2 a_1$\n\n"
            "$Loss = \\frac{1}{2}(a_2 - y^*)^2 = \\frac{1}{2}(y - y^*)^2$\n\n$z_1 = x w_1 = -0.5$\n\n$x = \\tfrac12$\n")
    verdicts = Checker().check_text(text)
    # the first two define the loss (in y and y^*) and z_2 (as 0 when built): definitions are no claims to call
    # wrong (issue 17), whatever SymPy makes of them; the third's second equality is a claim, and wrong
    assert [(v.verdict, v.kind) for v in verdicts] == [("unrecognized", "definition")] * 2 + [
        ("wrong", "definition"), ("correct", "definition"), ("unrecognized", "value")]


@pytest.mark.parametrize("text", [r"\quad \text{for } x = 2", r"\text{, so } a_1 = 0.5"])
def test_a_number_in_prose_after_a_formula_is_no_worked_value(text):
    """The number in the prose after a formula is not a side of its claim; a relation after the prose is a
    claim of its own (a_1 = 0.5, a value given)."""
    verdict, *rest = Checker("two-weight-chain").check_text(f"$z_1 = x w_2 {text}$\n")
    assert verdict.verdict == "wrong", verdict.reason
    assert [(v.verdict, v.kind) for v in rest] in ([], [("unrecognized", "value")])


def test_a_sigmoid_claim_in_a_second_variable_is_judged_wrong():
    text = "# The sigmoid\n\n$s'(\\gamma) = s(x)(1 - s(x))$\n\n$\\sigma(z) = \\frac{1}{1 + e^{-x}}$\n"
    assert [v.verdict for v in Checker().check_text(text)] == ["wrong", "wrong"]


@pytest.mark.parametrize(("claim", "malformed"), [
    ("z_1 = ((x, w_1)", True), (r"\frac{\partial Loss}{\partial a_2} = a_2 - y^* \1", True),
    (r"z_1 = \bar{x w_1", True), (r"z_1 = \hat{x} w_1 + \frac{1}{2", True), (r"z_1 = x w_1 \begin{pmatrix", True),
    (r"\frac{dL}{dw_j} = 2\hat{y} - y", False), (r"\mathbf{x} = \begin{bmatrix} x_1 & x_2 \end{bmatrix}", False),
])
def test_broken_latex_fails_and_valid_latex_beyond_the_parser_does_not(claim, malformed):
    (verdict,) = Checker("logistic-regression").check_text(f"${claim}$\n")
    assert (verdict.verdict, verdict.malformed) == ("unrecognized", malformed), verdict.reason


def test_a_key_that_gives_its_step_size_passes(tmp_path):
    key = tmp_path / "key.md"
    key.write_text("# Two-weight chain\n\nWith $\\alpha = 0.01$:\n\n"
                   "$w_1 \\leftarrow w_1 - \\alpha (a_2 - y^*) a_2 (1 - a_2) w_2 a_1 (1 - a_1) x$\n", encoding="utf-8")
    result = run_check(str(key))
    assert result.returncode == 0, result.stdout
    assert "1 correct, 0 wrong, 1 unrecognized" in result.stdout


def test_model_can_be_forced():
    text = "The update: $w_2 \\leftarrow w_2 - \\alpha (a_2 - y^*) a_1$\n"
    (guessed,) = Checker().check_text(text)  # by its symbols the quadratic-loss chain, where it is wrong
    assert guessed.verdict == "unrecognized" and guessed.model_from == "symbols"
    assert "it would be wrong" in guessed.reason and "--model" in guessed.reason
    assert Checker("two-weight-chain").check_text(text)[0].verdict == "wrong"
    assert Checker("two-weight-chain-cross-entropy").check_text(text)[0].verdict == "correct"


def test_unknown_symbols_are_unrecognized_not_wrong():
    verdicts = Checker().check_text("$\\frac{\\partial Q}{\\partial v_7} = q_3 r$\n")
    assert [v.verdict for v in verdicts] == ["unrecognized"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\x00\x01\x02binary\xff", "not UTF-8"),
        (b"just prose, no math at all\n", "has no equations"),
    ],
)
def test_unusable_input_is_one_line_and_exit_2(tmp_path, content, message):
    key = tmp_path / "key.md"
    key.write_bytes(content)
    completed = run_check(str(key))
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and message in completed.stderr


def test_missing_file_and_unknown_model():
    assert "cannot read" in run_check("/no/such/key.md").stderr
    completed = run_check(str(KEYS / "sigmoid.md"), "--model", "nope")
    assert completed.returncode == 2 and "unknown model 'nope'" in completed.stderr


def test_hostile_math_is_unrecognized_not_a_crash():
    deep = "$" + "{" * 5000 + "x" + "}" * 5000 + " = 1$\n"
    text = deep + "$a_1 = \\frac{1}{$\n$$\\frac{\\partial Loss}{\\partial w_2} = $$\n"
    verdicts = Checker().check_text(text)
    assert [v.verdict for v in verdicts] == ["unrecognized"] * len(verdicts) and verdicts


def test_a_formula_whose_latex_cannot_be_read_is_reported_and_fails_the_check(tmp_path):
    """Malformed LaTeX is a mistake in the key: its line says why, and the exit status is 1, as for a wrong claim."""
    key = tmp_path / "key.md"
    key.write_text((KEYS / "sigmoid.md").read_text() + "\nAnd: $a_2 = \\sigma(z_2)}$\n")
    completed = run_check(str(key))
    assert completed.returncode == 1, completed.stdout
    assert "cannot read the LaTeX" in completed.stdout and completed.stdout.endswith(" 0 wrong, 1 unrecognized\n")
    assert run_check(str(KEYS / "sigmoid.md")).returncode == 0  # the same key without it passes


def test_a_large_key_is_handled(tmp_path):
    body = (KEYS / "two-weight-chain.md").read_text()
    prose = "Prose between the formulas, written at length. " * 200 + "\n"
    key = tmp_path / "large.md"
    key.write_text((prose * 120) + body)
    assert key.stat().st_size > 1_000_000
    completed = run_check(str(key))
    assert completed.returncode == 0, completed.stderr[-500:]


def test_a_key_of_too_many_equations_is_refused_quickly(tmp_path):
    key = tmp_path / "many.md"
    key.write_text("$a_1 = x$\n" * 150_000)  # 1.5 MB of equations
    completed = run_check(str(key))
    assert completed.returncode == 2 and "at most" in completed.stderr


def test_extraction_of_delimiters_rows_and_continuations():
    text = "\n".join([
        "# Part",
        r"Inline $a = b$ and \(c = d\) and a mention $w_2$.",
        r"\[ e = f \]",
        "$$",
        r"\begin{aligned}",
        r"g &= h \\",
        r"&= i",
        r"\end{aligned}",
        "$$",
        r"\begin{align*} j &= k \end{align*}",
        r"Cost: \$5, not math.",
    ])
    found = [(s.line, s.latex, s.continues) for s in extract(text)]
    assert found == [(2, "a = b", False), (2, "c = d", False), (3, "e = f", False), (6, "g = h", False),
                     (7, "= i", True), (10, "j = k", False)]
    assert all(s.heading == "Part" for s in extract(text))



def test_a_layer_claim_true_only_for_two_units_is_wrong():
    """(p - y)(k - 1) equals p - y at k = 2, the size claims are written out at; it is still wrong."""
    text = ("# mlp\n$$\\frac{\\partial L}{\\partial c} = (p - y)(k - 1)$$\n"
            "$$\\frac{\\partial L}{\\partial c} = p - y$$\n")
    verdicts = Checker().check_text(text)
    assert [(v.line, v.verdict) for v in verdicts] == [(2, "wrong"), (3, "correct")]


# ---- a `$` never closed, a side that is not finite, a formula too long to echo ----------------------------------
SIGMOID_CLAIM = r"\frac{d}{d\gamma} s(\gamma) = s(\gamma)(1 - s(\gamma))"


def test_an_unclosed_dollar_is_reported_on_its_line_and_fails_the_check(tmp_path):
    key = tmp_path / "key.md"
    key.write_text(f"Here ${SIGMOID_CLAIM}$ and then $s(\\gamma) = 1\n")
    completed = run_check(str(key))
    assert completed.returncode == 1, completed.stdout
    lines = completed.stdout.splitlines()
    assert lines[0] == f"{key}:1: ✓ correct: {SIGMOID_CLAIM}"
    assert lines[1] == f"{key}:1: ? unrecognized: s(\\gamma) = 1"
    assert "never closed" in lines[2] and "`$`" in lines[2]


@pytest.mark.parametrize(
    ("opener", "closer"),
    [("$", "$"), ("$$", "$$"), (r"\[", r"\]"), (r"\(", r"\)"), (r"\begin{align}", r"\end{align}"),
     (r"\begin{equation*}", r"\end{equation*}")],
)
def test_every_kind_of_unclosed_math_is_reported_where_it_opens(opener, closer):
    """The unclosed formula is one malformed row on its opener's line; the math after the paragraph still counts,
    and its closer is not taken for the unclosed one's."""
    text = "\n".join([
        "# Sigmoid",
        "Prose.",
        f"Then {opener} s(\\gamma) = 1",
        "s(\\gamma) = 2",
        "",
        f"And {opener} {SIGMOID_CLAIM} {closer} at last.",
    ]) + "\n"
    statements = extract(text)
    assert [(s.line, bool(s.problem)) for s in statements] == [(3, True), (6, False)]
    assert "never closed" in statements[0].problem and opener in statements[0].problem
    assert statements[1].latex == SIGMOID_CLAIM
    verdicts = Checker().check_text(text)
    assert [(v.line, v.verdict, v.malformed) for v in verdicts] == [(3, "unrecognized", True), (6, "correct", False)]
    assert verdicts[0].reason.startswith("cannot read the LaTeX: ")


def test_a_lone_dollar_that_is_not_a_formula_is_not_reported():
    text = "It costs $5 per seat.\n\n```console\n$ pip install \"a==1\"\n```\n$" + SIGMOID_CLAIM + "$\n"
    assert [(s.line, s.problem) for s in extract(text)] == [(6, "")]


def test_a_note_on_an_unclosed_formula_at_the_end_of_the_key_is_placed(tmp_path):
    key = tmp_path / "key.md"
    key.write_text(f"${SIGMOID_CLAIM}$\n\\[ s(\\gamma) = 1\n")
    markdown = run_check(str(key), "--format", "markdown").stdout
    assert "> ? line 2: unrecognized: cannot read the LaTeX: a `\\[` that is never closed" in markdown


NOT_FINITE = [
    ("1/0", "divides by zero"),
    (r"\frac{1}{0}", "divides by zero"),
    (r"\log(0)", "divides by zero"),
    (r"\log(1 - 1)", "divides by zero"),
    (r"s(\gamma) + \frac{s(\gamma)}{0}", "divides by zero"),
    ("0/0", "undefined"),
    (r"\infty - \infty", "undefined"),
    (r"s(\gamma)(1 - s(\gamma)) + 0 \cdot \infty", "undefined"),
    (r"\infty", "infinite"),
    (r"-\infty", "infinite"),
    (r"s(\gamma) \cdot \infty", "infinite"),
]


@pytest.mark.parametrize(("rhs", "why"), NOT_FINITE, ids=[r for r, _ in NOT_FINITE])
def test_a_side_that_is_not_finite_is_never_correct(tmp_path, rhs, why):
    key = tmp_path / "key.md"
    key.write_text(f"$\\frac{{d}}{{d\\gamma}} s(\\gamma) = {rhs}$\n")
    completed = run_check(str(key), "--format", "json")
    assert completed.returncode == 1, completed.stdout
    (verdict,) = json.loads(completed.stdout)
    assert verdict["verdict"] == "wrong" and "the right side" in verdict["reason"] and why in verdict["reason"]


@pytest.mark.parametrize(
    ("key", "claim"),
    [
        ("mlp", r"\frac{\partial L}{\partial c} = \frac{p - y}{h_j - h_j}"),  # layers, written out
        ("mlp", r"\frac{\partial L}{\partial c} = p - y + \infty"),
        ("mlp", r"c \leftarrow c - \eta \frac{p - y}{0}"),  # an update
        ("two-weight-chain", r"w_2 \leftarrow w_2 - \alpha \frac{1}{0}"),
        ("two-weight-chain", r"\frac{\partial Loss}{\partial w_2} = (a_2 - y^*) a_2 (1 - a_2) a_1 + \log(0)"),
        ("two-weight-chain", r"\frac{1}{0} = (a_2 - y^*) a_2 (1 - a_2) a_1"),  # the left side
    ],
)
def test_a_side_that_is_not_finite_is_wrong_in_every_model(key, claim):
    (verdict,) = Checker(key).check_text(f"$${claim}$$\n")
    assert verdict.verdict == "wrong" and "not a finite value" in verdict.reason, verdict


@pytest.mark.parametrize(
    ("model", "claim"),
    [
        # 1/(σ(γ) - σ(γ)) once s is written out: SymPy cannot see the zero, the numbers can
        (None, r"\frac{d}{d\gamma} s(\gamma) = \frac{1}{s(\gamma) - \frac{1}{1 + e^{-\gamma}}}"),
        # both sides divide by zero: nan and nan are no numbers, so they are not equal numbers
        (None, r"\frac{1}{s(\gamma) - \frac{1}{1 + e^{-\gamma}}} = \frac{2}{s(\gamma) - \frac{1}{1 + e^{-\gamma}}}"),
        ("mlp", r"\frac{\partial L}{\partial c} = \frac{p - y}{p - \sigma(u)}"),  # p is σ(u): layers' numbers
    ],
)
def test_a_side_that_divides_by_zero_at_the_points_tried_is_wrong(model, claim):
    (verdict,) = Checker(model).check_text(f"$${claim}$$\n")
    assert verdict.verdict == "wrong", verdict
    assert "no finite value at this point" in verdict.reason and verdict.point


def test_a_json_report_of_a_value_that_is_no_number_is_strict_json(tmp_path):
    key = tmp_path / "key.md"
    key.write_text(r"$\frac{d}{d\gamma} s(\gamma) = \frac{1}{s(\gamma) - \frac{1}{1 + e^{-\gamma}}}$" + "\n")

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    (verdict,) = json.loads(run_check(str(key), "--format", "json").stdout, parse_constant=refuse)
    assert verdict["values"]["claimed"] is None and isinstance(verdict["values"]["expected"], float)


def test_a_long_formula_is_judged_whole_and_echoed_short(tmp_path):
    """A 12 KB formula that is right is judged right (what is judged is not cut), and its line in the text
    report is cut; the JSON report keeps it whole."""
    formula = SIGMOID_CLAIM + " + 0" * 3000
    key = tmp_path / "key.md"
    key.write_text(f"${formula}$\n")
    completed = run_check(str(key))
    assert completed.returncode == 0, completed.stdout[:500]
    first = completed.stdout.splitlines()[0]
    assert first.startswith(f"{key}:1: ✓ correct: {SIGMOID_CLAIM}") and first.endswith("…")
    assert len(first) < len(str(key)) + 250
    (verdict,) = json.loads(run_check(str(key), "--format", "json").stdout)
    assert verdict["latex"] == formula


def test_a_huge_formula_is_refused_and_echoed_short(tmp_path):
    """Too long to read is the tool's limit (unrecognized, the exit status left alone), unless its braces do not
    close, which is broken LaTeX at any length."""
    key = tmp_path / "key.md"
    key.write_text("$a = " + "x + " * 25_000 + "1$\n")  # 100 KB on one line
    completed = run_check(str(key))
    assert completed.returncode == 0
    assert all(len(line) < 700 for line in completed.stdout.splitlines()), completed.stdout[:300]
    assert "not supported" in completed.stdout and "longer than" in completed.stdout and "…" in completed.stdout
    key.write_text("$a = \\frac{" + "x + " * 25_000 + "1$\n")
    assert run_check(str(key)).returncode == 1


def test_a_reason_that_quotes_a_long_formula_is_cut():
    formula = "Q = " + " + ".join(f"q_{{{n}}}" for n in range(1500))
    (verdict,) = Checker().check_text(f"${formula}$\n")
    assert verdict.verdict == "unrecognized" and "q_1000" in verdict.reason
    assert len(to_text([verdict], "key.md").splitlines()[1]) < 700


def test_unclosed_math_is_found_in_time_linear_in_the_key():
    """Each unclosed opener used to be searched to the end of the key: 100 KB of them took 10 s."""
    start = time.perf_counter()
    for text in ["\\[ a = " * 20_000, "\\( a " * 20_000, "\\begin{align} " * 20_000, "$a = " * 20_000 + "\n"]:
        extract(text)
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize("model", ["mlp", "logistic-regression-bias"])
def test_a_side_that_is_only_a_size_is_judged(model):
    """p = k used to stop where k was given a number (it became a Python int, without .doit()) as "cannot judge
    it": in the written-out comparison of the layered models, and in numeric.concrete for the others."""
    (verdict,) = Checker(model).check_text("$p = k$\n")
    assert verdict.verdict == "wrong" and verdict.point, verdict


# ---- inline math over two lines, and `$` inside code ----------------------------------------------------------------
WRAPPED_CLAIM = SIGMOID_CLAIM.replace(" = ", " =\n", 1)  # "... s(\gamma) =" / "s(\gamma)(1 - s(\gamma))"


def test_an_inline_formula_may_wrap_onto_the_next_line(tmp_path):
    """Only a blank line ends a paragraph, in LaTeX and in Markdown: the `$` on line 2 closes the formula begun on
    line 1 (it opens nothing), and the formula is one statement on the line where it starts."""
    text = f"The derivative is ${WRAPPED_CLAIM}$ as shown, and $s(\\gamma) = 1$ is a claim too.\n"
    found = [(s.line, s.latex, s.problem, s.end_line) for s in extract(text)]
    assert found == [(1, SIGMOID_CLAIM, "", 2), (2, "s(\\gamma) = 1", "", 2)]
    key = tmp_path / "key.md"
    key.write_text(f"The derivative is ${WRAPPED_CLAIM}$ as shown.\n")
    completed = run_check(str(key))
    assert completed.returncode == 0, completed.stdout
    assert completed.stdout.startswith(f"{key}:1: ✓ correct: {SIGMOID_CLAIM}\n")
    markdown = run_check(str(key), "--format", "markdown").stdout.splitlines()
    assert markdown[markdown.index("> ✓ line 1: correct") - 2].endswith("as shown.")  # the note follows the formula


def test_an_escaped_dollar_does_not_close_a_wrapped_formula():
    text = "The price $p = \\$5 +\n1$ in all.\n"
    assert [(s.line, s.latex, s.problem) for s in extract(text)] == [(1, "p = \\$5 + 1", "")]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("Then $s(\\gamma) = 1\nstill prose\n\nNext $a = b$\n", "the blank line after line 2"),
        ("Then $s(\\gamma) = 1\nstill prose\n \t\r\nNext $a = b$\n", "the blank line after line 2"),
        ("Then $s(\\gamma) = 1\nstill prose\n", "the end of the key"),
        ("Then $s(\\gamma) = 1\nstill prose", "the end of the key"),
        ("Then $s(\\gamma) = 1\nstill prose\n```\n$ make\n```\n", "the code block on line 3"),
    ],
)
def test_an_unclosed_dollar_runs_to_the_end_of_its_paragraph(text, where):
    """Worded like the other delimiters: where LaTeX (or the Markdown paragraph) gives up on it."""
    first = extract(text)[0]
    assert first.line == 1 and first.problem == f"a `$` that is never closed: no `$` before {where}"
    assert first.latex == "s(\\gamma) = 1"  # its own line: what follows is prose, or a formula of its own


def test_a_stray_dollar_is_no_formula_because_an_equals_sign_follows_lines_later():
    """A price in prose opens no formula that fails the check: only the unclosed ``$``'s own line is read."""
    text = f"It costs $5 a unit,\nso the total is x = 3 units.\n\nThen ${SIGMOID_CLAIM}$.\n"
    assert [(s.latex, s.problem) for s in extract(text)] == [(SIGMOID_CLAIM, "")]


@pytest.mark.parametrize(
    "code",
    ["    $ make x=1", "\t$ make x=1", "  \t$ make x=1", "    $ make x=1\n    $ make y=2",
     "```sh\n$ make x=1\n$ make y=2\n```"],
    ids=["spaces", "tab", "spaces-and-tab", "two-prompts", "fenced"],
)
def test_a_dollar_in_a_code_block_is_not_math(code):
    text = f"Build it:\n\n{code}\n\nThen ${SIGMOID_CLAIM}$.\n"
    assert [(s.latex, s.problem) for s in extract(text)] == [(SIGMOID_CLAIM, "")]


def test_an_indented_line_that_continues_a_paragraph_or_a_list_item_is_not_code():
    """Markdown code needs a blank line before it, and inside a list item four columns more than the item's text:
    these `$` are math, and one never closed is reported."""
    text = "\n".join([
        "Prose,",
        "    then $a = 1$ and $b = 2",       # continues the paragraph: unclosed math
        "",
        "1. Part one",
        "",
        "    The derivative is $c =",        # the item's second paragraph, not code
        "    d$.",
        "",
        "        $ make x=1",                # code inside the item: 4 columns past its text
    ]) + "\n"
    found = [(s.line, s.latex, bool(s.problem)) for s in extract(text)]
    assert found == [(2, "a = 1", False), (2, "b = 2", True), (6, "c = d", False)]


@pytest.mark.parametrize(
    "span",
    ["`export N=$HOME`", "`` echo `$x` ``", "```$ a=1```", "`$a\n= b`"],
    ids=["single", "double-with-single-inside", "triple", "over-two-lines"],
)
def test_a_dollar_in_inline_code_is_not_math(span):
    text = f"Set {span} then $w = 2$ here.\n$v = 3$\n"
    lines = span.count("\n")
    assert [(s.line, s.latex, s.problem) for s in extract(text)] == [(1 + lines, "w = 2", ""), (2 + lines, "v = 3", "")]


@pytest.mark.parametrize(
    "text",
    ["A lone ` backtick, $w = 2$\n", "Two `` and one `, $w = 2$\n", "A ` here\n\n$w = 2$ and ` there\n"],
    ids=["lone", "unmatched-lengths", "not-across-a-blank-line"],
)
def test_backticks_without_their_partner_are_text(text):
    assert [s.latex for s in extract(text)] == ["w = 2"]


def test_an_indented_align_body_yields_its_statements():
    """An align indented after a blank line looks like Markdown code, but its body lies inside its container."""
    text = "\n".join([
        "# Sigmoid",
        "",
        "    \\begin{align}",
        f"        {SIGMOID_CLAIM.replace(' = ', ' &= ')} \\\\",
        "        s(\\gamma) &= \\frac{1}{1 + e^{-\\gamma}}",
        "    \\end{align}",
    ]) + "\n"
    found = [(s.line, s.latex, s.problem) for s in extract(text)]
    assert found == [(4, SIGMOID_CLAIM, ""), (5, "s(\\gamma) = \\frac{1}{1 + e^{-\\gamma}}", "")]
    assert [(v.line, v.verdict) for v in Checker().check_text(text)] == [(4, "correct"), (5, "correct")]


def test_a_latex_document_has_no_markdown_code():
    """In LaTeX, `` opens a quotation and indentation means nothing: neither hides math."""
    text = "\n".join([
        "\\documentclass{article}",
        "\\begin{document}",
        "The ``derivative'' is $w = 2$, the ``value'' too.",
        "",
        "    \\item Indented after a blank line: $v =",
        "    3$.",
        "\\end{document}",
    ]) + "\n"
    assert [(s.line, s.latex) for s in extract(text)] == [(3, "w = 2"), (5, "v = 3")]


@pytest.mark.parametrize("separator", ["\x0c", "\u2028", "\x1c", "\x85"], ids=["form-feed", "U+2028", "FS", "NEL"])
def test_code_and_headings_are_numbered_like_the_lines_of_the_key(separator):
    """str.splitlines() also splits on these; the key's lines (and the report's line numbers) do not."""
    before = separator.join(["Intro", "more", "more"])
    fenced = extract(f"{before}\n```\n$ make x=1\n```\n")
    assert [s.problem for s in fenced] == []
    (claim,) = extract(f"{before}\n# Sigmoid\n${SIGMOID_CLAIM}$\n")
    assert (claim.line, claim.heading) == (3, "Sigmoid")


@pytest.mark.parametrize("separator", ["\f", "\u2028"])
def test_a_markdown_report_puts_each_note_under_its_own_line(separator):
    """The notes go after the line each statement closes on, counted as the key counts lines (on "\\n" only):
    a form feed or a Unicode line separator inside a line must not shift them."""
    from symgrad.check.report import to_markdown

    text = f"Intro{separator}more\n\n$s(\\gamma) = 7$\n\nlast line\n"
    statements = extract(text)
    verdicts = Checker("sigmoid").check_text(text)
    report = to_markdown(verdicts, text, {s.line: s.end_line for s in statements}).split("\n")
    claim = report.index("$s(\\gamma) = 7$")
    assert report[claim + 1] == "" and report[claim + 2].startswith("> ") and "line 3" in report[claim + 2]
    assert report[-2:] == ["last line", ""]


@pytest.mark.parametrize(
    "block",
    ["```python\n# compute the loss\nloss = f(x)\n```", "~~~\n## compute the loss\n~~~",
     "    # compute the loss\n    loss = f(x)", "\t# compute the loss\n\tloss = f(x)"],
    ids=["backtick-fence", "tilde-fence", "indented-spaces", "indented-tab"],
)
def test_a_hash_line_in_a_code_block_is_no_heading(block):
    """In code, ``# compute the loss`` is a comment: the statement after the block is still under its headings."""
    text = f"# Nets\n\n## Sigmoid\n\n{block}\n\n${SIGMOID_CLAIM}$\n\n# Tanh\n\n$w = 2$\n"
    assert [(s.latex, s.heading) for s in extract(text)] == [(SIGMOID_CLAIM, "Nets / Sigmoid"), ("w = 2", "Tanh")]


@pytest.mark.parametrize(
    "text",
    ["Quote it as \\` then $w = 2$ and `code` here.\n",
     "Type \\``$a = 1$` then $w = 2$.\n",
     "A path `C:\\` then $w = 2$ and `x` here.\n",
     "A backslash \\\\`$a = 1$` then $w = 2$.\n"],
    ids=["escaped-opens-nothing", "rest-of-an-escaped-run-opens", "backslash-in-code-is-literal", "escaped-backslash"],
)
def test_an_escaped_backtick_is_text_not_code(text):
    """``\\``` is a literal backtick, so it hides no math; inside a code span a backslash escapes nothing."""
    assert [s.latex for s in extract(text)] == ["w = 2"]


def test_an_equals_sign_inside_a_sums_limits_does_not_end_a_continued_row():
    """\\sum_{i=1}^{k} on a row carried on from the one above holds no relation of its own: the row joins the one
    above it (judged alone, the first half of the formula was called wrong)."""
    text = ("# Logistic regression\n\n$$\\begin{aligned}\nL &= -y \\ln h - (1 - y) \\ln(1 - h) \\\\\n"
            "&= -y \\ln s\\left(\\sum_{i=1}^{k} w_i x_i\\right) \\\\\n"
            "&\\quad - (1 - y) \\ln\\left(1 - s\\left(\\sum_{i=1}^{k} w_i x_i\\right)\\right)\n\\end{aligned}$$\n")
    assert [v.verdict for v in Checker().check_text(text)] == ["correct", "correct"]


MEAN_LOSS_KEY = r"""
$$h(x^{(i)}) = \sigma\left(\sum_j w_j x_j^{(i)}\right)$$

$$J = -\frac{1}{m} \sum_{i=1}^{m} \left[ y^{(i)} \ln h(x^{(i)}) + (1 - y^{(i)}) \ln(1 - h(x^{(i)})) \right]$$

$$\frac{\partial J}{\partial w_j} = GRADIENT$$
"""


@pytest.mark.parametrize(("gradient", "verdict", "says"), [
    (r"\frac{1}{m} \sum_{i=1}^{m} \left(h(x^{(i)}) - y^{(i)}\right) x_j^{(i)}", "correct", ""),
    (r"\sum_{i=1}^{m} \left(h(x^{(i)}) - y^{(i)}\right) x_j^{(i)}", "wrong", "1/m is missing"),
    (r"\frac{1}{m} \sum_{i=1}^{m} \left(y^{(i)} - h(x^{(i)})\right) x_j^{(i)}", "wrong", "sign"),
    (r"\frac{1}{m} \left(h(x^{(i)}) - y^{(i)}\right) x_j^{(i)}", "wrong", "the sum over the samples is missing"),
])
def test_a_gradient_of_a_mean_loss_stated_as_a_total_has_dropped_the_1_over_m(gradient, verdict, says):
    """Read per sample, the mean and the total are the same claim; the loss's definition tells them apart."""
    *_, judged = Checker().check_text(MEAN_LOSS_KEY.replace("GRADIENT", gradient))
    assert judged.verdict == verdict and says in judged.reason


def test_a_gradient_of_a_total_loss_stated_as_a_mean_has_an_extra_1_over_m():
    key = MEAN_LOSS_KEY.replace(r"-\frac{1}{m} \sum", r"-\sum").replace(
        "GRADIENT", r"\frac{1}{m} \sum_{i=1}^{m} \left(h(x^{(i)}) - y^{(i)}\right) x_j^{(i)}")
    *_, judged = Checker().check_text(key)
    assert judged.verdict == "wrong" and "extra factor 1/m" in judged.reason


@pytest.mark.parametrize("latex", [
    r"z^l_j = \sum_k w^l_{jk} a^{l-1}_k + b^l_j",  # Nielsen's layers above the names
    r"\frac{\partial L}{\partial w} = \left. (a - y) x \right|_{w = 0}",
    r"L(\mathbf{w}; \mathbf{x}, y) = (y - \mathbf{w}^\top \mathbf{x})^2",
    r"w_{t+1} = w_t - \eta g_t",
    r"\mathbf{w} = \mathbf{0}",
    r"\sum_{k \neq c} t_k = 1 - t_c",
    r"\hat{y} = \operatorname*{argmax}_c p_c",
])
def test_valid_latex_in_notations_symgrad_does_not_read_never_fails_the_key_as_broken(latex):
    verdicts = Checker().check_text(f"# Notes\n\n$${latex}$$\n")
    assert all(not v.malformed for v in verdicts) and all(v.verdict != "wrong" for v in verdicts)


@pytest.mark.parametrize("latex", [r"\frac{dL}{dw} = \fracc{1}{2}", r"a = (b + c", r"a_2 = \sigma(z_2)}",
                                   r"\frac{dL}{dw} = \frac{1}"])
def test_broken_latex_still_fails_the_key(latex):
    (verdict,) = Checker().check_text(f"$${latex}$$\n")
    assert verdict.malformed and verdict.reason.startswith("cannot read the LaTeX")


BIAS_NET = r"$z = w x + b$, $a = \sigma(z)$, $L = \frac{1}{2}(a - y)^2$." + "\n"


@pytest.mark.parametrize(("claim", "verdict"), [
    (r"Let $\delta = \frac{\partial L}{\partial z}$. Then $\frac{\partial L}{\partial b} = \delta$.", "correct"),
    (r"$\frac{\partial L}{\partial b} = \frac{\partial L}{\partial z}$", "correct"),  # ∂z/∂b = 1 left out
    (r"Let $\delta = \frac{\partial L}{\partial z}$. Then $\frac{\partial L}{\partial w} = \delta$.", "wrong"),
])
def test_a_chain_may_leave_out_a_factor_that_is_one_and_no_other(claim, verdict):
    *_, judged = Checker().check_text(BIAS_NET + claim + "\n")
    assert judged.verdict == verdict, judged.reason


@pytest.mark.parametrize("line", [r"$a = \sigma(-0.6225) \approx 0.3492$", r"$w \leftarrow 0.2 - 0.5 \cdot (-0.6225)$"])
def test_numbers_put_into_a_node_or_an_update_are_a_worked_example_not_a_wrong_formula(line):
    *_, judged = Checker().check_text(BIAS_NET + line + "\n")
    assert judged.verdict != "wrong", judged.reason


def test_a_claim_is_not_called_wrong_by_a_model_a_later_part_defines():
    """Part (a) without a bias, part (b) with one: a claim of part (a) that its own part cannot judge must not be
    judged wrong against part (b)'s model (it was, by the model with b)."""
    key = "\n".join([
        r"The hypothesis is $h(\mathbf{x}) = \sigma(\mathbf{w}^\top\mathbf{x})$ and the loss on one example is",
        r"$$\ell(\mathbf{w}) = -y \log h(\mathbf{x}) - (1 - y)\log\bigl(1 - h(\mathbf{x})\bigr).$$",
        r"$$\frac{\partial \ell}{\partial w_j} = \bigl(\sigma(\mathbf{w}^\top\mathbf{x}) - y\bigr)\,x_j$$",
        r"$$J(\mathbf{w}) = -\frac{1}{N}\sum_{n=1}^{N}\Bigl[y^{(n)}\log\sigma(\mathbf{w}^\top\mathbf{x}^{(n)})"
        r" + (1 - y^{(n)})\log\bigl(1 - \sigma(\mathbf{w}^\top\mathbf{x}^{(n)})\bigr)\Bigr]$$",
        r"Now $h(\mathbf{x}) = \sigma(\mathbf{w}^\top\mathbf{x} + b)$ with the same loss $\ell$.", ""])
    verdicts = Checker().check_text(key)
    assert not any(v.verdict == "wrong" for v in verdicts), [(v.line, v.reason) for v in verdicts]


def test_a_scalar_and_a_layer_named_with_the_same_letter_are_two_quantities():
    """ε = ∂E/∂q and ε_j = ∂E/∂p_j: ε_j is not the j-th entry of ε (it was, and the line went unrecognized)."""
    key = (r"$p_j = w_j x + b_j$, $o_j = \sigma(p_j)$, $q = \sum_j v_j o_j + c$, $\hat{y} = \sigma(q)$, "
           r"$E = \frac{1}{2}(\hat{y} - y)^2$." "\n\n"
           r"Call $\varepsilon = \frac{\partial E}{\partial q}$ and $\varepsilon_j = \frac{\partial E}{\partial p_j}$."
           "\n\n" r"Then $\varepsilon_j = \varepsilon\, v_j\, o_j (1 - o_j)$"
           r" and $\varepsilon_j = \varepsilon\, o_j (1 - o_j)$." "\n")
    *_, right, wrong = Checker().check_text(key)
    assert (right.verdict, wrong.verdict) == ("correct", "wrong") and "missing" in wrong.reason


#: Keys from a review of the rules for samples and worked values (tests/keys/reviewed/): every line correct, but
#: the last line of the identity's key.
REVIEWED = KEYS / "reviewed"


@pytest.mark.parametrize("name", ["n-outputs-not-samples", "mean-then-sum-in-parts", "chain-through-samples",
                                  "phi-is-the-sigmoid", "sigma-squared", "linear-restated-then-tanh",
                                  "linear-output-then-sigmoid-output"])
def test_outputs_summed_over_n_parts_with_their_own_loss_and_chains_through_samples_are_no_false_alarm(name):
    """N outputs are no samples (x_j, t_j with w_j); part (a)'s mean loss holds part (a)'s gradient, not part (b)'s
    sum; a chain of partials through each sample carries the loss's own 1/m; φ applies as σ does; σ²(z) is
    (σ(z))²; a_1 = z_1 under "g_1 is linear" restates a_1 = g_1(z_1), so part (b)'s tanh reaches a_1; "hidden
    units … and one linear output" makes the output linear, and "φ is the sigmoid" wins over it for φ."""
    verdicts = Checker().check_text((REVIEWED / f"{name}.md").read_text(encoding="utf-8"))
    assert verdicts and not [(v.line, v.reason) for v in verdicts if v.verdict == "wrong"]


def test_an_identity_set_to_a_wrong_number_is_still_wrong_and_a_misspelt_command_still_broken():
    *_, identity = Checker().check_text((REVIEWED / "identity-set-to-a-wrong-number.md").read_text(encoding="utf-8"))
    assert identity.verdict == "wrong"  # σ(z) + σ(-z) is 1 for every z: a claim, not a value worked out
    (typo,) = Checker().check_text("$$z = w \\times x \\cdott b$$\n")
    assert typo.malformed and "cannot read the LaTeX" in typo.reason


@pytest.mark.parametrize("latex", [r"\therefore \sigma'(z) = \sigma(z)(1-\sigma(z))", r"w^{+} = w - \eta g",
                                   r"\color{blue}{\frac{\partial L}{\partial w}} = (a - y) x", r"\hspace{1em} z = w x"])
def test_valid_latex_of_layout_and_emphasis_is_no_broken_key(latex):
    verdicts = Checker().check_text(f"# Notes\n\n$${latex}$$\n")
    assert all(not v.malformed for v in verdicts)
