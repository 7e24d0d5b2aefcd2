"""The printers and formats: handout notation, JSON that rebuilds, notebook display, LaTeX that compiles."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import sympy as sp

from symgrad.catalogue.models import catalogue_names
from symgrad.rendering.render import FORMATS, portable, render


def test_two_weight_chain_latex_uses_handout_notation(derived):
    latex = render(derived("two-weight-chain"), "latex")
    for fragment in (
        r"\frac{\partial \mathrm{Loss}}{\partial w_{2}} &= \frac{\partial \mathrm{Loss}}{\partial a_{2}} \cdot "
        r"\frac{\partial a_{2}}{\partial z_{2}} \cdot \frac{\partial z_{2}}{\partial w_{2}}",
        r"(a_{2} - y^{*}) \cdot a_{2} (1 - a_{2}) \cdot a_{1}",
        r"w_{1} &\leftarrow w_{1} - \alpha \frac{\partial \mathrm{Loss}}{\partial w_{1}}",
        r"\frac{1}{2} (a_{2} - y^{*})^{2}",
    ):
        assert fragment in latex


def test_logistic_regression_latex_uses_handout_notation(derived):
    latex = render(derived("logistic-regression"), "latex")
    for fragment in (r"\frac{dL}{dw_{j}}", r"h(\mathbf{x})", r"(y - h(\mathbf{x}))", r"\eta", r"\nabla_{\mathbf{w}} L"):
        assert fragment in latex
    assert r"\mathbf{w} &\leftarrow \mathbf{w} - \eta \nabla_{\mathbf{w}} L \\" in latex
    assert r"&= \mathbf{w} + \eta \mathbf{x} (y - h(\mathbf{x}))" in latex


def test_abstract_chain_prints_primes(derived):
    latex = render(derived("two-weight-chain-abstract"), "latex")
    assert "g_{2}'(z_{2})" in latex and "g_{1}'(z_{1})" in latex


def test_one_minus_not_minus_one(derived):
    for name in catalogue_names():
        latex = render(derived(name), "latex")
        assert "a_{2} - 1" not in latex and "a_{1} - 1" not in latex and "h(\\mathbf{x}) - 1" not in latex


@pytest.mark.parametrize("name", catalogue_names())
def test_json_results_rebuild_with_plain_sympy(derived, name):
    derivation = derived(name)
    document = json.loads(render(derivation, "json"))
    assert document["model"] == name
    assert [r["name"] for r in document["results"]] == [r.name for r in derivation.results]
    assert all(step["equations"] for step in document["steps"])
    for entry, result in zip(document["results"], derivation.results, strict=False):
        rebuilt = sp.parse_expr(entry["sympy"], local_dict={})  # bare SymPy: no symgrad names needed
        assert sp.simplify(rebuilt - portable(result.value)) == 0


def test_json_chain_results_equal_the_known_answers(derived):
    document = json.loads(render(derived("two-weight-chain"), "json"))
    by_name = {r["name"]: sp.parse_expr(r["sympy"]) for r in document["results"]}
    x, w2, a1, a2, y = sp.symbols("x w_2 a_1 a_2 y^*")
    assert sp.simplify(by_name["dLoss/dw_2"] - (a2 - y) * a2 * (1 - a2) * a1) == 0
    assert sp.simplify(by_name["dLoss/dw_1"] - (a2 - y) * a2 * (1 - a2) * w2 * a1 * (1 - a1) * x) == 0


def test_markdown_and_notebook_reprs(derived):
    derivation = derived("two-weight-chain")
    markdown = render(derivation, "markdown")
    assert markdown.count("$$") % 2 == 0 and "\\begin{aligned}" in markdown
    assert derivation._repr_markdown_() == markdown
    latex = derivation._repr_latex_()
    assert latex.startswith("$") and latex.endswith("$") and "\\begin{aligned}" in latex


def test_text_reads_in_a_terminal(derived):
    text = render(derived("two-weight-chain"), "text")
    assert "∂Loss/∂w2 = ∂Loss/∂a2·∂a2/∂z2·∂z2/∂w2" in text
    assert "(a2 - y*)·a2·(1 - a2)·a1" in text
    assert "\\" not in text


def test_render_rejects_unknown_format(derived):
    with pytest.raises(ValueError, match="choose from"):
        render(derived("sigmoid"), "pdf")
    assert "tex" in FORMATS


@pytest.mark.parametrize("name", catalogue_names())
def test_tex_compiles_with_pdflatex(derived, name, tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed here (CI installs texlive-latex-base and runs this test)")
    (tmp_path / "doc.tex").write_text(render(derived(name), "tex"), encoding="utf-8")
    completed = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
