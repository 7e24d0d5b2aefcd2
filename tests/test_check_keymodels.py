"""A key defines its model (issue 17): definitions and prose build it, sections change it, claims are judged
against it; worked numbers are arithmetic, side conditions restrict the points, names for derivatives stand
for them, and a wrong verdict's point shows what the claim reads."""

from __future__ import annotations

import json

import pytest

from symgrad.check.checker import Checker, Verdict
from symgrad.check.definitions import read_bindings
from symgrad.cli import main
from symgrad.commands import check as command

LINEAR = r"""# Homework 3: a network with linear hidden units

The network: $z_1 = x w_1$, $a_1 = z_1$ (linear units), $z_2 = a_1 w_2$, $a_2 = \sigma(z_2)$.
The loss is $L = \frac{1}{2}(a_2 - y)^2$, with step size $\eta$.

$$\frac{\partial L}{\partial w_2} = (a_2 - y) a_2 (1 - a_2) a_1$$
$$\frac{\partial L}{\partial w_1} = (a_2 - y) a_2 (1 - a_2) w_2 x$$
$$\frac{\partial a_1}{\partial z_1} = 1$$
$$\frac{\partial L}{\partial w_1} = (y - a_2) a_2 (1 - a_2) w_2 x$$
$$w_1 \leftarrow w_1 - \eta (a_2 - y) a_2 (1 - a_2) w_2 x$$
$$w_2 \leftarrow w_2 + \eta (a_2 - y) a_2 (1 - a_2) a_1$$
"""


def check(text: str) -> list[Verdict]:
    return Checker().check_text(text)


def test_claims_are_judged_against_the_model_the_key_defines():
    """Linear hidden units are no catalogue model: judged against the two-weight chain, the first and fifth
    claims were false alarms."""
    verdicts = check(LINEAR)
    assert [v.verdict for v in verdicts] == ["correct"] * 8 + ["wrong", "correct", "wrong"]
    assert all(v.model_from == "definitions" for v in verdicts)
    assert [v.kind for v in verdicts[:5]] == ["definition"] * 5
    assert "sign error" in verdicts[8].reason and "gradient ascent" in verdicts[10].reason


def test_the_json_says_which_model_and_why(tmp_path, capsys):
    key = tmp_path / "key.md"
    key.write_text(LINEAR, encoding="utf-8")
    assert main(["check", str(key), "--format", "json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert {(row["model"], row["model_from"]) for row in rows} == {("the key's own model", "definitions")}


def test_a_wrong_verdict_shows_only_what_the_claim_reads():
    (wrong,) = [v for v in check(LINEAR) if v.verdict == "wrong" and v.kind == "derivative"]
    assert set(wrong.point) == {"w_1", "w_2", "x", "y"}  # the step size η is no part of ∂L/∂w_1


@pytest.mark.parametrize(("sentence", "expected"), [
    ("$g_1$ and $g_2$ are sigmoids", [("sigmoid", ("g_1", "g_2"))]),
    ("This time $g_1$ is a **linear unit** (the identity) and $g_2$ is the sigmoid.",
     [("identity", ("g_1",)), ("sigmoid", ("g_2",))]),
    ("With $L$ quadratic and sigmoid $g_1, g_2$, we get", [("sigmoid", ("g_1", "g_2"))]),
    ("Use tanh for both units.", [("tanh", ())]),
    ("The hidden units are tanh, the output is linear", [("tanh", ()), ("identity", ())]),
    ("This is logistic regression, a linear combination of the inputs", []),
])
def test_prose_binds_activations(sentence, expected):
    assert [(b.activation, b.functions) for b in read_bindings(sentence) if b.activation] == expected


@pytest.mark.parametrize(("sentence", "loss", "step"), [
    ("We train with the squared loss and step size $\\alpha$.", "quadratic", "alpha"),
    ("Minimise the cross-entropy; $\\eta$ is the learning rate.", "cross-entropy", "eta"),
])
def test_prose_binds_the_loss_and_the_step_size(sentence, loss, step):
    bindings = read_bindings(sentence)
    assert [b.loss for b in bindings if b.loss] == [loss] and [b.step for b in bindings if b.step] == [step]


def test_g_bound_in_prose_gives_the_sigmoid_forms():
    text = ("$z_1 = x w_1$, $a_1 = g_1(z_1)$, $z_2 = a_1 w_2$, $a_2 = g_2(z_2)$, $L = \\frac12(a_2 - y)^2$.\n\n"
            "Here $g_1$ and $g_2$ are sigmoids.\n\n"
            "$$\\frac{\\partial a_2}{\\partial z_2} = a_2(1 - a_2)$$\n\n"
            "$$\\frac{\\partial a_1}{\\partial z_1} = 1 - a_1^2$$\n")
    assert [v.verdict for v in check(text)][-2:] == ["correct", "wrong"]


def test_a_redefinition_starts_a_new_model_from_there_on():
    claim = "$$\\frac{\\partial L}{\\partial z} = h - y$$\n\n"
    text = ("## Part A\n\n$z = w x$, $h = \\sigma(z)$, $L = -y \\ln h - (1 - y) \\ln(1 - h)$\n\n" + claim
            + "## Part B: squared loss\n\n$L = \\frac12 (h - y)^2$\n\n" + claim)
    verdicts = check(text)
    assert [(v.kind, v.verdict) for v in verdicts] == [("definition", "correct")] * 3 + [
        ("derivative", "correct"), ("definition", "correct"), ("derivative", "wrong")]
    assert "redefines L" in verdicts[4].reason
    assert "a chain factor is missing: h" in verdicts[5].reason and "1 - h" in verdicts[5].reason


@pytest.mark.parametrize(("formula", "verdict"), [
    ("h = s(0) = 0.5", "correct"), ("h = s(0) = 0.6", "wrong"), ("h = s(1) = 0.731", "correct"),
    ("h = s(1) = 0.73", "correct"), ("s'(0) = s(0)(1 - s(0)) = 0.3", "wrong"),
    (r"\frac{\partial E}{\partial w_2} = (0 - 1)(1 - 0^2) \cdot 0 = 0", "correct"),
])
def test_worked_numbers_are_checked_as_arithmetic(formula, verdict):
    (judged,) = check(f"${formula}$\n")
    assert (judged.verdict, judged.kind) == (verdict, "arithmetic"), judged.reason


def test_a_value_given_to_several_quantities_is_no_claim():
    (judged,) = check("$z_1 = x w_1$, $a_1 = \\tanh(z_1)$, $L = \\frac12(a_1 - t)^2$. Start at $w_1 = w_2 = 0$.\n")[-1:]
    assert (judged.verdict, judged.kind) == ("unrecognized", "value")


SOFTMAX = ("$z_j = \\sum_i w_{ij} x_i$, $p_j = \\frac{e^{z_j}}{\\sum_l e^{z_l}}$, "
           "$L = -\\sum_j y_j \\ln p_j$.\n\n")


@pytest.mark.parametrize(("claim", "verdict"), [
    ("$$\\frac{\\partial p_k}{\\partial z_l} = -p_k p_l \\quad \\text{for } l \\ne k$$", "correct"),
    ("Off the diagonal, for $l \\ne k$,\n\n$$\\frac{\\partial p_k}{\\partial z_l} = -p_k p_l$$", "correct"),
    ("$$\\frac{\\partial p_k}{\\partial z_l} = -p_k p_l$$", "wrong"),
    ("$$\\frac{\\partial p_k}{\\partial z_l} = p_k p_l \\quad \\text{for } l \\ne k$$", "wrong"),
])
def test_side_conditions_restrict_where_a_claim_is_tested(claim, verdict):
    judged = check(SOFTMAX + claim + "\n")[-1]
    assert judged.verdict == verdict, judged.reason
    if verdict == "wrong" and "ne" in claim:
        assert judged.point["k"] != judged.point["l"] and "sign error" in judged.reason


def test_names_for_derivatives_stand_for_them():
    text = ("$z_1 = x w_1$, $a_1 = \\sigma(z_1)$, $z_2 = a_1 w_2$, $a_2 = \\sigma(z_2)$, $L = \\frac12(a_2 - y)^2$\n\n"
            "Write $\\delta_\\ell = \\frac{\\partial L}{\\partial z_\\ell}$.\n\n"
            "$$\\delta_2 = (a_2 - y) a_2 (1 - a_2)$$\n\n$$\\delta_1 = \\delta_2 w_2 a_1 (1 - a_1)$$\n\n"
            "$$\\frac{\\partial L}{\\partial w_1} = \\delta_1 x$$\n\n$$\\delta_1 = \\delta_2 w_1 a_1 (1 - a_1)$$\n")
    verdicts = check(text)
    assert [v.verdict for v in verdicts][-5:] == ["correct", "correct", "correct", "correct", "wrong"]
    assert "w_{1} is written where w_{2} belongs" in verdicts[-1].reason


def test_the_text_report_prints_each_verdict_as_it_is_judged(tmp_path, monkeypatch, capsys):
    key = tmp_path / "key.md"
    key.write_text("$a_1 = 1$\n\n$a_2 = 2$\n", encoding="utf-8")
    seen = []

    def slowly(self, statements, time_limit=None, bindings=()):
        for line in (1, 3):
            seen.append(capsys.readouterr().out)  # what had reached the terminal before this verdict
            yield Verdict(line, "a = 1", "unrecognized", "a value given")

    monkeypatch.setattr(command.Checker, "verdicts", slowly)
    assert main(["check", str(key)]) == 0
    assert seen[0] == "" and ":1: ? unrecognized" in seen[1]


def test_a_claim_with_unknown_symbols_names_no_model_wrongly():
    (judged,) = check("$$\\frac{\\partial Q}{\\partial v_7} = q_3 r$$\n")
    assert judged.verdict == "unrecognized" and judged.model_from is None


@pytest.mark.parametrize(("claim", "verdict"), [
    (r"\frac{\mathrm{d}\sigma}{\mathrm{d}z} = \frac{e^{-z}}{(1+e^{-z})^2}", "correct"),
    (r"\frac{d\sigma}{dz} = \sigma(1 - \sigma)", "correct"),
    (r"\frac{d\sigma}{dz} = \sigma(\sigma - 1)", "wrong"),
])
def test_sigma_without_its_argument_is_the_sigmoid_of_the_variable(claim, verdict):
    (judged,) = check(f"${claim}$\n")
    assert (judged.verdict, judged.model_from) == (verdict, "notation"), judged.reason
