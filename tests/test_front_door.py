"""What a new user meets first (issue 19): the README and its examples, the command line's manners, the Python
API of a derivation, and derivations typeset as a textbook page."""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from symgrad.catalogue.models import catalogue_names, derive_named
from symgrad.cli import main
from symgrad.rendering.render import render

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs" / "derivations"


def blocks(language: str) -> list[str]:
    """The README's fenced code blocks in ``language``."""
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.S | re.M)


def readme_images():
    """scripts/readme_images.py, imported by its path (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("readme_images", ROOT / "scripts" / "readme_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the README --------------------------------------------------------------------------------------------
def test_the_first_screen_says_what_symgrad_is_shows_it_and_only_then_gives_the_two_commands():
    first_screen = README.split("\n## ")[0]
    sentence = first_screen.split("\n\n")[1]
    assert sentence.startswith("symgrad ") and sentence.count(". ") == 0 and sentence.rstrip().endswith(".")
    pictures = re.findall(r'<img src="([^"]+)"', first_screen)
    assert pictures == ["docs/images/two-weight-chain.png", "docs/images/trajectory-chain.png"]
    assert all((ROOT / picture).is_file() for picture in pictures)
    commands = '```bash\npip install . && symgrad derive --all\npip install ".[test]" && python -m pytest\n```'
    assert commands in first_screen  # .ci/run runs the second line verbatim
    assert first_screen.index("<img") < first_screen.index(commands)
    assert "×" not in first_screen and "docs/performance.md" in README  # ratios live there, behind one link


def test_the_readme_pictures_are_current():
    images = readme_images()
    assert images.stale() == [], "run python scripts/readme_images.py"
    assert images.text_of((ROOT / "docs/images/two-weight-chain.png").read_bytes()).startswith(
        "docs/derivations/two-weight-chain.tex sha256 ")


@pytest.mark.slow  # computes the four paths again (2 s)
def test_the_trajectory_picture_draws_the_paths_its_command_computes_now(capsys):
    """The picture records the CSV it was drawn with (test above); this says that CSV is still what the command
    computes, to the last few digits (another NumPy may round the last bit differently)."""
    images = readme_images()
    assert main([*images.TRAJECTORY_ARGS, "--csv", "-", "-q"]) == 0
    now = list(csv.reader(line for line in io.StringIO(capsys.readouterr().out) if not line.startswith("#")))
    kept = list(csv.reader(line for line in open(images.TRAJECTORY_CSV) if not line.startswith("#")))
    assert len(now) == len(kept) and now[0] == kept[0] == ["path", "step", "x", "y"]
    for mine, theirs in zip(now[1:], kept[1:], strict=True):
        assert mine[:2] == theirs[:2]
        assert [float(v) for v in mine[2:]] == pytest.approx([float(v) for v in theirs[2:]], rel=1e-9, abs=1e-12)


def test_the_png_text_chunk_round_trips():
    images = readme_images()
    png = (ROOT / "docs/images/trajectory-chain.png").read_bytes()
    marked = images.with_text(png, "symgrad-source", "a test")
    assert images.text_of(marked) == "a test" and images.with_text(marked, "symgrad-source", "b").count(b"tEXt") == \
        marked.count(b"tEXt")


#: Words in the README's console examples that name files the example reads (outputs it writes are not here).
_INPUT = re.compile(r"(?<![\w/.-])((?:docs|tests|generated|scripts|benchmarks)/[\w./-]+\.(?:md|toml|csv|tex|py))")


def test_every_file_a_readme_example_names_exists():
    named = set()
    for block in blocks("console") + blocks("bash") + blocks("python"):
        named.update(_INPUT.findall(block))
    named.update(link for link in re.findall(r"\]\(((?:docs|tests|generated|scripts)[^)#]*)\)", README))
    assert len(named) > 10
    missing = sorted(name for name in named if not (ROOT / name).exists())
    assert not missing, missing
    assert "key.md" not in " ".join(blocks("console")).replace("-key.md", "")  # no made-up key
    assert "answer.csv" not in " ".join(blocks("console")).replace("bowl-answer.csv", "")


def test_the_training_example_runs_as_written_and_the_loss_goes_down():
    example = next(block for block in blocks("python") if "init_params" in block)
    completed = subprocess.run([sys.executable, "-c", example], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    losses = [float(line.split()[-1]) for line in completed.stdout.splitlines()]
    assert len(losses) == 5 and all(later < earlier for earlier, later in zip(losses, losses[1:], strict=False))
    assert losses[0] == pytest.approx(0.68, abs=0.01) and losses[-1] == pytest.approx(0.12, abs=0.01)  # as it says


def test_the_python_example_runs_and_prints_what_its_comments_say(capsys):
    example = next(block for block in blocks("python") if "derive_named" in block)
    exec(compile(example, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert "\\section*{\\raggedright Two-weight chain network (loss cross-entropy)}" in out
    for printed, comment in re.findall(r"^print\((.+?)\)\s+# (∂.+|symgrad derive.+)$", example, re.M):
        assert comment in out, (printed, comment)
    derivation = derive_named("two-weight-chain", loss="cross-entropy")
    assert re.search(rf"^derivation +# {re.escape(repr(derivation))}$", example, re.M)


@pytest.mark.parametrize(("args", "status", "says"), [
    (["--check", "docs/examples/chain-paths.csv", "--descent"], 0, "4 of 4 paths feasible"),
    (["--check", "docs/examples/bowl-answer.csv", "--descent", "--tolerance", "10", "--constant-step"], 1,
     "infeasible: step 3 "),
])
def test_the_trajectory_checks_in_the_readme_read_files_in_the_repository(args, status, says, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert f"symgrad trajectory {' '.join(args)}" in README
    assert main(["trajectory", *args]) == status
    assert says in capsys.readouterr().out


def test_the_readme_says_how_long_the_tests_take_and_how_to_run_the_quick_subset():
    development = README.split("## Development")[1]
    assert 'python -m pytest -m "not slow"' in development
    durations = re.findall(r"\d+ min(?:utes?)?(?: \d+ s)?|\d+ seconds", development)
    assert len(durations) >= 2 and "TIME_" not in development  # the whole suite's, and the quick subset's


def test_derive_all_writes_into_a_folder_git_ignores_and_docs_derivations_is_not_ignored():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", "derivations/mlp.md"], cwd=ROOT).returncode
    kept = subprocess.run(["git", "check-ignore", "-q", "docs/derivations/mlp.md"], cwd=ROOT).returncode
    assert (ignored, kept) == (0, 1)
    assert "into `derivations/` (a folder git ignores" in README


# ---- the command line --------------------------------------------------------------------------------------
def test_a_bare_python_dash_m_symgrad_shows_the_commands_and_the_hint():
    completed = subprocess.run([sys.executable, "-m", "symgrad"], capture_output=True, text=True, timeout=60)
    assert completed.stdout.startswith("usage: symgrad") and "the following arguments are required" not in \
        completed.stdout + completed.stderr
    assert all(command in completed.stdout for command in ("list", "derive", "check", "generate", "trajectory"))
    assert "Run 'symgrad COMMAND --help'" in completed.stdout


@pytest.mark.parametrize("command", ["derive", "check", "generate"])
def test_help_never_splits_a_model_name_at_a_hyphen(command, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "60")
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert not re.search(r"[a-z]-\n", text), text
    shown = [name for name in catalogue_names() if re.search(rf"\b{re.escape(name)}\b", text)]
    assert len(shown) >= 8  # whole, not broken over two lines


@pytest.mark.parametrize("spelling", ["--out", "--out-dir"])
def test_derive_all_takes_out_and_its_alias_out_dir_and_reports_each_file(spelling, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("symgrad.commands.derive.catalogue_names", lambda: ["sigmoid"])
    assert main(["derive", "--all", spelling, str(tmp_path)]) == 0
    written = [f"wrote {tmp_path / 'sigmoid.md'}", f"wrote {tmp_path / 'sigmoid.tex'}"]
    assert capsys.readouterr().out.splitlines() == written
    assert main(["derive", "--all", spelling, str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith(f"unchanged {tmp_path / 'sigmoid.md'}\n")
    assert main(["derive", "--all", spelling, str(tmp_path), "-q"]) == 0
    assert capsys.readouterr().out == ""


def test_derive_to_a_file_says_wrote_then_unchanged_and_nothing_with_q(tmp_path, capsys):
    target = tmp_path / "s.md"
    for expected in (f"wrote {target}\n", f"unchanged {target}\n"):
        assert main(["derive", "sigmoid", "-o", str(target)]) == 0
        assert capsys.readouterr().out == expected
    target.write_text("old")
    assert main(["derive", "sigmoid", "-o", str(target), "-q"]) == 0
    assert capsys.readouterr().out == "" and target.read_text().startswith("# The derivative of the sigmoid")


@pytest.mark.slow  # draws three pictures with matplotlib
def test_trajectory_says_wrote_then_unchanged_for_its_picture_and_csv_and_nothing_with_q(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    picture, paths = tmp_path / "bowl.png", tmp_path / "bowl.csv"
    args = ["trajectory", "--objective", "bowl", "--step", "0.1", "--steps", "3", "--size", "300x250", "--no-field",
            "-o", str(picture), "--csv", str(paths)]
    assert main(args) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == [f"wrote {paths}", f"wrote {picture}"]
    assert main(args) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == [f"unchanged {paths}", f"unchanged {picture}"]
    assert main([*args, "-q"]) == 0
    assert not [line for line in capsys.readouterr().out.splitlines() if line.startswith(("wrote", "unchanged"))]


def test_list_describes_the_general_chain_in_words(capsys):
    assert main(["list"]) == 0
    rows = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert "g2'(z2)" in rows["two-weight-chain-general"] and "quadratic loss" in rows["two-weight-chain-general"]


# ---- the reproduce line ------------------------------------------------------------------------------------
REPRODUCED = [
    ("sigmoid", {}),
    ("two-weight-chain", {"loss": "cross-entropy"}),
    ("two-weight-chain", {"activation": "tanh", "loss": "cross-entropy"}),
    ("two-weight-chain", {"hidden_activation": "relu"}),
    ("two-weight-chain-abstract", {"loss": "quadratic"}),
    ("two-weight-chain-general", {}),
    ("logistic-regression-bias", {}),
]


@pytest.mark.parametrize(("name", "options"), REPRODUCED)
def test_the_reproduce_line_is_exact_run_it_and_get_the_same_document(name, options, derived, capsys):
    derivation = derived(name, **options)
    command = derivation.reproduce
    words = shlex.split(command)[3:]
    flags = {flag.lstrip("-").replace("-", "_"): value for flag, value in zip(words[::2], words[1::2], strict=True)}
    assert shlex.split(command)[:3] == ["symgrad", "derive", name] and flags == options
    markdown, tex = render(derivation, "markdown"), render(derivation, "tex")
    assert f"(`{command} --format markdown`)" in markdown.splitlines()[2]
    assert "% Written by symgrad " in tex and f": {command} --format tex\n" in tex
    assert main([*shlex.split(command)[1:], "--format", "markdown"]) == 0
    assert capsys.readouterr().out == markdown


def test_a_model_file_derivation_reproduces_with_its_path(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["derive", "--model-file", "docs/examples/three-weight-chain.toml", "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    command = re.search(r"\(`(.+?)`\)", markdown).group(1)
    assert command == "symgrad derive --model-file docs/examples/three-weight-chain.toml --format markdown"
    assert main(shlex.split(command)[1:]) == 0 and capsys.readouterr().out == markdown


def test_a_derivation_of_a_model_built_in_python_says_so_instead_of_a_command_that_cannot_work():
    import symgrad as sg

    net = sg.ModelBuilder("two-weight-chain", "a chain named like the catalogue's, built by hand")
    net.input("x")
    net.label("y", latex="y^*")
    net.params("w1")
    net.node("z1", "x * w1")
    net.loss("Loss", "quadratic(z1, y)")
    derivation = sg.derive(net.build())
    assert derivation.reproduce is None
    assert "from a model built in Python" in render(derivation, "markdown").splitlines()[2]
    assert "symgrad derive" not in render(derivation, "tex").split("\\begin{document}")[0]
    assert repr(derivation).startswith("<Derivation two-weight-chain, built in Python: ")
    catalogue_model = sg.derive(sg.CATALOGUE["two-weight-chain"].build(loss="cross-entropy"))
    assert catalogue_model.reproduce == "symgrad derive two-weight-chain --loss cross-entropy"


# ---- the Python API ----------------------------------------------------------------------------------------
def test_gradient_takes_the_parameter_or_any_spelling_of_its_name(derived):
    derivation = derived("two-weight-chain")
    w1 = sp.Symbol("w_1")
    assert derivation.gradient("w1") == derivation.gradient("w_1") == derivation.gradient(w1) == \
        derivation.gradient("w_{1}")
    assert derivation.model["a1"] == derivation.model["a_1"] == sp.Symbol("a_1")
    assert derivation.model["y*"] == derivation.model["y^*"] == sp.Symbol("y^*")
    layered = derived("mlp").model
    assert layered["w"] == layered["w_ij"] == layered["w[i, j]"] == sp.IndexedBase("w")[sp.Symbol("i", integer=True,
                                                                                            positive=True),
                                                                                  sp.Symbol("j", integer=True,
                                                                                            positive=True)]


def test_an_unknown_name_lists_the_names_there_are(derived):
    derivation = derived("two-weight-chain")
    with pytest.raises(KeyError) as raised:
        derivation.model["a3"]
    assert str(raised.value) == ("two-weight-chain has no quantity 'a3'; its names: x, y*, w2, w1, z1, a1, z2, a2, "
                                 "Loss, alpha")
    with pytest.raises(KeyError, match="its names: x, y\\*, w2"):
        derivation.gradient("w3")
    with pytest.raises(KeyError, match="results: dLoss/dw_2, dLoss/dw_1, update_w_2, update_w_1"):
        derivation.result("nothing")
    with pytest.raises(KeyError, match="has gradients for w_2, w_1"):
        derivation.gradient("a1")


def test_repr_is_one_short_line_and_str_is_the_text_rendering(derived):
    derivation = derived("two-weight-chain", loss="cross-entropy")
    assert repr(derivation) == "<Derivation two-weight-chain --loss cross-entropy: 10 steps, 4 results>"
    assert str(derivation) == render(derivation, "text")
    assert repr(derived("mlp")) == "<Derivation mlp: 16 steps, 8 results>"


def test_a_result_prints_in_chain_order_as_the_handout_does(derived):
    result = derived("two-weight-chain").result("w1")
    assert str(result) == "∂Loss/∂w1 = (a2 - y*)·a2·(1 - a2)·w2·a1·(1 - a1)·x"
    assert result.latex == (r"\frac{\partial \mathrm{Loss}}{\partial w_{1}} = (a_{2} - y^{*}) \cdot a_{2} (1 - a_{2})"
                            r" \cdot w_{2} \cdot a_{1} (1 - a_{1}) \cdot x")
    assert repr(result) == f"<Result dLoss/dw_1: {result}>"
    assert result._repr_latex_() == f"$\\displaystyle {result.latex}$"
    assert str(derived("logistic-regression").result("w")) == "dL/dw_j = -(y - h(x))·x_j"
    assert str(derived("sigmoid").result("ds/dgamma")) == "s'(γ) = s(γ)·(1 - s(γ))"


def test_in_jupyter_the_titles_are_set_apart_from_the_math(derived):
    derivation = derived("two-weight-chain")
    assert derivation._repr_markdown_() == render(derivation, "markdown")
    latex = derivation._repr_latex_()
    assert r"&\textbf{1. }\textbf{Forward pass} \\[0.5ex]" in latex
    assert r"&\textbf{3. }\textbf{The chain rule for }\boldsymbol{w_{2}} \\[0.5ex]" in latex
    assert latex.count(r"\\[2ex]") == len(derivation.steps) - 1  # space before each title but the first


# ---- typesetting -------------------------------------------------------------------------------------------
def tex(name: str) -> str:
    return (DOCS / f"{name}.tex").read_text(encoding="utf-8")


def test_loss_is_upright_and_chain_factors_are_set_apart():
    chain = tex("two-weight-chain")
    assert r"\partial Loss" not in chain and r"\frac{\partial \mathrm{Loss}}{\partial w_{1}}" in chain
    assert (r"\frac{\partial \mathrm{Loss}}{\partial a_{2}} \cdot \frac{\partial a_{2}}{\partial z_{2}} \cdot "
            r"\frac{\partial z_{2}}{\partial a_{1}}") in chain
    assert r"= (a_{2} - y^{*}) \cdot a_{2} (1 - a_{2}) \cdot w_{2} \cdot a_{1} (1 - a_{1}) \cdot x" in chain


def test_headings_hold_no_fractions_and_step_numbers_match_the_markdown():
    for path in DOCS.glob("*.tex"):
        headings = re.findall(r"\\subsection\{(.*)\}", path.read_text(encoding="utf-8"))
        assert headings and not [h for h in headings if "\\frac" in h], path.name
    assert r"\renewcommand{\thesubsection}{\arabic{subsection}}" in tex("mlp")


def test_different_node_partials_are_set_apart_in_their_align():
    chain = tex("two-weight-chain")
    assert "&= a_{2} - y^{*} \\\\[1.5ex]\n\\frac{\\partial a_{2}}{\\partial z_{2}}" in chain
    assert "z_{1} &= x w_{1} \\\\\na_{1}" in chain  # one-row equations stay close


def test_no_heading_can_be_left_at_the_foot_of_a_page():
    """LaTeX never breaks a page between a paragraph's line and a display that follows it, nor after a
    paragraph's first line or before its last (the penalties below): so every heading is followed on its page by
    its explanation and its display, which must come straight after the explanation, with no blank line."""
    for path in DOCS.glob("*.tex"):
        text = path.read_text(encoding="utf-8")
        assert "\\clubpenalty=10000\n\\widowpenalty=10000\n" in text
        for section in text.split("\\subsection{")[1:]:
            heading, _, body = section.partition("}\n")
            step = body.split("\n\n")[0]
            assert "\n" not in step or step.split("\n")[1] == "\\begin{align*}", (path.name, heading)
            assert step.endswith("\\end{align*}") or "\\begin{align*}" not in body.split("\\subsection")[0]


def test_the_sigmoid_shows_the_chain_rule_on_the_reciprocal_with_d_by_d_gamma():
    sigmoid = tex("sigmoid")
    assert r"s'(\gamma) &= \frac{d}{d\gamma} \frac{1}{1 + e^{- \gamma}} \\" in sigmoid
    assert r"&= - \frac{1}{(1 + e^{- \gamma})^{2}} \cdot \frac{d}{d\gamma} (1 + e^{- \gamma}) \\" in sigmoid
    assert r"&= - \frac{1}{(1 + e^{- \gamma})^{2}} \cdot (- e^{- \gamma}) \\" in sigmoid
    assert r"\partial" not in sigmoid and r"$d(1/u)/du" not in sigmoid


def test_docs_hold_the_general_chain_and_the_abstract_one_says_nothing_twice():
    general = (DOCS / "two-weight-chain-general.md").read_text(encoding="utf-8")
    assert (r"\frac{\partial \mathrm{Loss}}{\partial w_{1}} &= (a_{2} - y^{*}) \cdot g_{2}'(z_{2}) \cdot w_{2} \cdot "
            r"g_{1}'(z_{1}) \cdot x") in general
    abstract = tex("two-weight-chain-abstract")
    tautology = r"\frac{\partial \mathrm{Loss}}{\partial a_{2}} &= \frac{\partial \mathrm{Loss}}{\partial a_{2}}"
    assert tautology not in abstract
    assert r"The factor $\partial \mathrm{Loss}/\partial a_{2}$ stays as it is" in abstract


def test_the_w1_section_names_the_node_partials_it_reuses_and_writes_x_w1_in_forward_order():
    chain = tex("two-weight-chain")
    assert (r"The factors $\partial \mathrm{Loss}/\partial a_{2}$ and $\partial a_{2}/\partial z_{2}$ are reused "
            r"from step 4, the node partials for $w_{2}$.") in chain
    assert r"\frac{\partial z_{1}}{\partial w_{1}} &= \frac{\partial}{\partial w_{1}} (x w_{1}) \\" in chain


def test_a_latex_fragment_needs_nothing_beyond_amsmath(derived):
    fragment = render(derived("two-weight-chain"), "latex")
    assert fragment.startswith("\\section*{") and "needspace" not in fragment and "\\makeatletter" not in fragment


@pytest.mark.skipif(os.environ.get("SYMGRAD_NO_LATEX") == "1", reason="asked to skip LaTeX")
def test_every_derivation_compiles_to_pages_without_overfull_lines(tmp_path):
    import shutil

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed here (CI installs it)")
    (tmp_path / "chain.tex").write_text(tex("two-weight-chain"), encoding="utf-8")
    completed = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "chain.tex"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout[-2000:]
    log = (tmp_path / "chain.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log and "Output written on chain.pdf (2 pages" in log


def test_a_sum_too_wide_for_the_page_is_broken_at_its_signs_unless_a_row_would_hold_an_equals_sign():
    from symgrad.rendering.printing import HandoutLatexPrinter
    from symgrad.rendering.render import _broken

    printer = HandoutLatexPrinter()
    names = sp.symbols("w_1:21")
    wide = sp.Add(*names[:10]) - sp.Add(*names[10:])
    rows = _broken(printer, wide, printer.doprint(wide))
    assert len(rows) == 20 and rows[0] == "w_{1}" and "- w_{11}" in rows and "+ w_{2}" in rows
    j, k = sp.symbols("j k", integer=True, positive=True)
    summed = wide + sp.Sum(sp.IndexedBase("v")[j], (j, 1, k))
    assert _broken(printer, summed, printer.doprint(summed)) == [printer.doprint(summed)]  # j=1 would read as a claim
    assert _broken(printer, names[0] + 1, printer.doprint(names[0] + 1)) == ["1 + w_{1}"]  # narrow: as it is
