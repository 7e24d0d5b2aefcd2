"""Model files end to end: the example derives (right gradients), generates (a module whose gradient is
the finite difference of its loss) and checks (its key passes, planted mistakes are caught); every bad
file is one line naming the file, the key and the column, exit 2, no traceback and no output file."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symgrad.catalogue.build import MAX_NODES, ModelBuilder, ModelError
from symgrad.catalogue.modelfile import ModelFileError, derive_model_file, load_model_file, parse_model_file
from symgrad.check.checker import Checker
from symgrad.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "docs" / "examples" / "three-weight-chain.toml"
KEY = REPO / "docs" / "examples" / "three-weight-chain-key.md"


@pytest.fixture(scope="module")
def example():
    return derive_model_file(EXAMPLE)


def test_the_example_file_is_the_model_the_builder_makes():
    net = ModelBuilder("three-weight-chain", load_model_file(EXAMPLE).description)
    net.input("x")
    net.label("y", latex="y^*")
    net.params("w1 w2 w3")
    for name, formula in [("z1", "x * w1"), ("a1", "tanh(z1)"), ("z2", "a1 * w2"), ("a2", "softplus(z2)"),
                          ("z3", "a2 * w3")]:
        net.node(name, formula)
    net.loss("Loss", "quadratic(z3, y)")
    assert load_model_file(EXAMPLE) == net.build()


def test_the_example_derivation_agrees_with_finite_differences(example, gradient_pairs):
    pairs = gradient_pairs(example, seed=5, points=4)
    assert [p for p, _, _ in pairs[:3]] == ["w_1", "w_2", "w_3"]
    for param, symbolic, numeric in pairs:
        assert symbolic == pytest.approx(numeric, rel=1e-6, abs=1e-8), param


def _load_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"user_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_generates_a_module_whose_gradient_is_its_loss_slope(tmp_path, capsys):
    assert main(["generate", "--model-file", str(EXAMPLE), "--out", str(tmp_path)]) == 0
    assert f"wrote {tmp_path / 'three_weight_chain.py'}" in capsys.readouterr().out
    module = _load_module(tmp_path / "three_weight_chain.py")
    assert module.PARAMS == {"w1": (), "w2": (), "w3": ()}
    rng = np.random.default_rng(3)
    for _ in range(5):
        x, y = rng.normal(size=20), rng.normal(size=20)
        params = {key: rng.normal() for key in module.PARAMS}
        gradient = module.gradient(params, x, y)
        for key in params:
            up, down = dict(params), dict(params)
            up[key] += 1e-6
            down[key] -= 1e-6
            slope = (module.loss(up, x, y) - module.loss(down, x, y)) / 2e-6
            assert gradient[key] == pytest.approx(slope, rel=1e-5, abs=1e-9), key
    header = (tmp_path / "three_weight_chain.py").read_text()
    assert "of the model three-weight-chain." in header and "symgrad generate --model-file" in header
    assert "regenerates every model" not in header  # that is the catalogue's command, not this file's


@pytest.mark.slow  # seconds: see the marker in pyproject.toml
def test_the_example_s_numba_module_agrees_with_its_numpy_module(tmp_path, capsys):
    assert main(["generate", "--model-file", str(EXAMPLE), "--target", "numba", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'three_weight_chain_numba.py'}\n"
    assert main(["generate", "--model-file", str(EXAMPLE), "--out", str(tmp_path)]) == 0
    fused = _load_module(tmp_path / "three_weight_chain_numba.py")
    whole = _load_module(tmp_path / "three_weight_chain.py")
    assert "symgrad generate --target numba --model-file" in (tmp_path / "three_weight_chain_numba.py").read_text()
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=50_000), rng.normal(size=50_000)
    params = {key: rng.normal() for key in whole.PARAMS}
    expected = whole.gradient(params, x, y)
    for key, value in fused.gradient(params, x, y).items():
        assert value == pytest.approx(expected[key], rel=1e-10, abs=1e-14), key


def test_one_model_file_gives_one_target(tmp_path, capsys):
    command = ["generate", "--model-file", str(EXAMPLE), "--target", "numpy", "--target", "numba",
               "--out", str(tmp_path)]
    assert main(command) == 2
    assert "--model-file writes one module; give one --target" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_generate_to_one_file_and_check_it(tmp_path, capsys):
    target = tmp_path / "net.py"
    assert main(["generate", "--model-file", str(EXAMPLE), "-o", str(target)]) == 0
    assert main(["generate", "--model-file", str(EXAMPLE), "-o", str(target), "--check"]) == 0
    target.write_text(target.read_text() + "# edited\n")
    assert main(["generate", "--model-file", str(EXAMPLE), "-o", str(target), "--check"]) == 1
    assert f"stale: {target}" in capsys.readouterr().out


def test_derive_model_file_on_the_command_line(tmp_path, capsys):
    assert main(["derive", "--model-file", str(EXAMPLE), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["model"] == "three-weight-chain"
    assert [r["name"] for r in document["results"]][:3] == ["dLoss/dw_1", "dLoss/dw_2", "dLoss/dw_3"]
    target = tmp_path / "net.md"
    assert main(["derive", "--model-file", str(EXAMPLE), "-o", str(target)]) == 0
    text = target.read_text()
    assert f"`symgrad derive --model-file {EXAMPLE} --format markdown`" in text
    assert r"(z_{3} - y^{*}) \cdot w_{3} \cdot \sigma(z_{2}) \cdot w_{2} \cdot (1 - a_{1}^{2}) \cdot x" in text


def test_the_example_key_passes(example):
    verdicts = Checker.for_derivation(example).check_text(KEY.read_text())
    assert len(verdicts) >= 15
    not_correct = [(v.line, v.latex, v.reason) for v in verdicts if v.verdict != "correct"]
    assert not not_correct
    assert main(["check", "--model-file", str(EXAMPLE), str(KEY)]) == 0


@pytest.mark.parametrize(
    ("correct", "planted", "reason"),
    [
        (r"w_2 \leftarrow w_2 - \alpha", r"w_2 \leftarrow w_2 + \alpha", "wrong direction"),
        (r"&= (z_3 - y^*)\, a_2", r"&= (y^* - z_3)\, a_2", "sign"),
        (r"\frac{\partial a_1}{\partial z_1} &= 1 - a_1^2", r"\frac{\partial a_1}{\partial z_1} &= a_1(1 - a_1)", ""),
    ],
)
def test_planted_mistakes_are_flagged(example, correct, planted, reason, tmp_path, capsys):
    text = KEY.read_text()
    assert correct in text
    wrong_key = text.replace(correct, planted, 1)
    line = text[: text.index(correct)].count("\n") + 1
    verdicts = Checker.for_derivation(example).check_text(wrong_key)
    wrong = [v for v in verdicts if v.verdict == "wrong"]
    assert [v.line for v in wrong] == [line]
    assert reason in wrong[0].reason
    path = tmp_path / "wrong.md"
    path.write_text(wrong_key)
    assert main(["check", "--model-file", str(EXAMPLE), str(path)]) == 1
    assert "1 wrong" in capsys.readouterr().out


GOOD = EXAMPLE.read_text()


def _edit(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_edit('a1 = "tanh(z1)"', '''a1 = "tanh(z1) * __import__('os').system('echo hi')"'''),
         "nodes.a1, column 12: '__import__' is not allowed"),
        (_edit('a1 = "tanh(z1)"', 'a1 = "tanh(os)"'), "nodes.a1, column 6: unknown name 'os'"),
        (_edit('a1 = "tanh(z1)"', 'a1 = "z1.__class__"'), "nodes.a1, column 3: attribute access"),
        (_edit('a1 = "tanh(z1)"', 'a1 = "(lambda: z1)()"'), "nodes.a1, column 2: 'lambda' is a Python keyword"),
        (_edit('a1 = "tanh(z1)"', 'a1 = "swish(z1)"'), "nodes.a1, column 1: unknown function 'swish'"),
        (_edit('a1 = "tanh(z1)"', 'a1 = "tanh(z2)"'), "nodes.a1, column 6: unknown name 'z2'"),
        (_edit('a1 = "tanh(z1)"', 'a1 = "tanh(z1 * y)"'), "nodes.a1, column 11: 'y' is the label"),
        (_edit('a1 = "tanh(z1)"', "a1 = 3"), "nodes.a1: expected a string, found an integer"),
        (_edit('formula = "quadratic(z3, y)"', 'formula = "quadratic(z3 y)"'),
         "loss.formula, column 14: expected ')' to close the call of quadratic"),
        (_edit('formula = "quadratic(z3, y)"', 'formula = "quadratic(a2, y)"'),
         "nodes.z3: the loss never uses this node"),
        (_edit('z3 = "a2 * w3"', 'z3 = "a2 * w2"'), "loss.formula: the loss does not depend on the parameter 'w3'"),
        (_edit('formula = "quadratic(z3, y)"', 'formula = "quadratic(z3, y) + 0.01 * w1^2"'),
         "loss.formula: the loss uses the parameter 'w1' both directly and through the node 'z3'; "
         "the loss may read a parameter only one way"),
        (_edit('formula = "quadratic(z3, y)"', 'formula = "(z3 - y)^2 + w3 * w3"'),
         "loss.formula: the loss uses the parameter 'w3' both directly and through the node 'z3'"),
        (_edit('label = "y"', 'label = "y y"'), "label: 'y y' is not an identifier"),
        (_edit('params = ["w1", "w2", "w3"]', 'params = ["w1", "w2", "w2"]'), "params: 'w2' is already declared"),
        (_edit('params = ["w1", "w2", "w3"]', 'params = ["w1", "w2", 3]'), "params: item 3 is an integer"),
        (_edit('params = ["w1", "w2", "w3"]', 'params = ["w1", "w2", "__init__"]'),
         "params: '__init__' starts with '_'"),
        (_edit('label = "y"', 'lable = "y"'), "unknown key 'lable'; did you mean label?"),
        (_edit('name = "Loss"', 'nam = "Loss"'), "unknown key loss.'nam'"),
        (_edit('label = "y"\n', ""), "missing key label"),
        (_edit('y = "y^*"', r'y = "\\dot{y}"'), r"latex.y: '\\dot{y}' is not a LaTeX name"),
        (_edit('y = "y^*"', 'q = "q"'), "latex.q: 'q' is not a declared name"),
        (_edit('name = "three-weight-chain"', 'name = "three weight chain"'),
         "name: 'three weight chain' is not a model"),
        (_edit("[nodes]", "nodes = 3\n[other]"), "unknown key 'other'"),
        (_edit('z1 = "x * w1"', 'z1 = "x * w1"\nz1 = "x"'), "not valid TOML"),
        ('name = "x\n', "not valid TOML"),
        ("", "missing key name"),
        # hostile constants: each made SymPy run for minutes, fill the memory or raise a traceback
        (_edit('z1 = "x * w1"', 'z1 = "x * w1 * exp(1e400)"'), "column 14: the number 1e400 is out of range"),
        (_edit('z1 = "x * w1"', 'z1 = "x * w1 * exp(1e25)"'),
         "column 10: the number exp(1000000000000000… is out of range"),
        (_edit('z1 = "x * w1"', f'z1 = "x * w1 * {"7" * 5000}"'),
         "column 10: the number 77777777777777777777… has too"),
        (_edit('z1 = "x * w1"', f'z1 = "x * w1 * {"7" * 4000}^0.5"'), "has too many digits (at most 30)"),
        (_edit('z1 = "x * w1"', 'z1 = "x * w1 * 2^1000"'), "column 11: 2^1000 is out of range"),
        (_edit('z1 = "x * w1"', 'z1 = "x * w1 * 1e-40"'), "the number 1e-40 is out of range"),
        (_edit('z1 = "x * w1"', 'z1 = "x * w1 * 1e99999999"'), "the number 1e99999999 is out of range"),
        (_edit('z1 = "x * w1"', 'z1 = "x * w1 + log(-1)"'), "column 10: log(-1) is not a real number"),
        (_edit('z1 = "x * w1"', 'z1 = "x * w1 * (-8)^0.5"'), "is not a real number"),
        (_edit('z1 = "x * w1"', 'z1 = "x * w1 + log(0)"'), "log(0) is not a real number"),
        ("a = " + "[" * 1000 + "]" * 1000 + "\n", "its arrays or tables nest too deeply"),
    ],
)
def test_bad_model_files_are_one_line_errors(text, message, tmp_path, capsys):
    path = tmp_path / "net.toml"
    path.write_text(text)
    out = tmp_path / "out"
    for command in (["derive", "--model-file", str(path), "-o", str(tmp_path / "d.md")],
                    ["generate", "--model-file", str(path), "--out", str(out)],
                    ["check", "--model-file", str(path), str(KEY)]):
        assert main(command) == 2
        error = capsys.readouterr().err
        assert error.startswith(f"symgrad: error: {path}: "), error
        assert message in error, error
        assert error.count("\n") == 1
    assert not (tmp_path / "d.md").exists() and not out.exists()


@pytest.mark.parametrize("operator", ["*", "+"])
def test_a_flat_product_or_sum_of_4000_terms_derives(operator, tmp_path, capsys):
    """Read as one flat sum or product, not 4,000 nested ones (a RecursionError before)."""
    path = tmp_path / "flat.toml"
    path.write_text(_edit('z1 = "x * w1"', f'z1 = "x*w1{f"{operator}x" * 4000}"'))
    assert main(["derive", "--model-file", str(path), "--format", "json"]) == 0
    results = {r["name"]: r["sympy"] for r in json.loads(capsys.readouterr().out)["results"]}
    if operator == "*":  # ∂z1/∂w1 = x^4001 is a factor of the gradient of w1
        assert "Integer(4001)" in results["dLoss/dw_1"]


def test_a_model_of_more_than_the_largest_size_is_refused_at_once(tmp_path, capsys):
    nodes = "".join(f'z{n} = "{"x" if n == 1 else f"z{n - 1}"} * w1"\n' for n in range(1, MAX_NODES + 2))
    text = (f'name = "big"\ninputs = ["x"]\nlabel = "y"\nparams = ["w1"]\n[nodes]\n{nodes}'
            f'[loss]\nformula = "quadratic(z{MAX_NODES + 1}, y)"\n')
    path = tmp_path / "big.toml"
    path.write_text(text)
    assert main(["derive", "--model-file", str(path)]) == 2
    assert f"nodes.z{MAX_NODES + 1}: a model has at most {MAX_NODES} nodes" in capsys.readouterr().err


def test_python_in_a_model_file_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.toml"
    path.write_text(_edit('a1 = "tanh(z1)"', f'''a1 = "__import__('os').system('touch {marker}')"'''))
    completed = subprocess.run([sys.executable, "-m", "symgrad", "derive", "--model-file", str(path)],
                               capture_output=True, text=True, cwd=REPO, timeout=120)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert re.fullmatch(r"symgrad: error: .*evil\.toml: nodes\.a1, column 1: '__import__' is not allowed: .*\n",
                        completed.stderr)
    assert not marker.exists()


def test_unreadable_files(tmp_path, capsys):
    assert main(["derive", "--model-file", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["derive", "--model-file", str(tmp_path)]) == 2  # a folder
    assert "cannot read" in capsys.readouterr().err
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00name")
    assert main(["derive", "--model-file", str(binary)]) == 2
    assert "not UTF-8" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["derive", "two-weight-chain", "--model-file", "x.toml"], "give no MODEL or --all"),
        (["derive", "--all", "--model-file", "x.toml"], "give no MODEL or --all"),
        (["derive", "--model-file", "x.toml", "--loss", "quadratic"], "a model file states its own"),
        (["generate", "two-weight-chain", "--model-file", "x.toml"], "give no MODEL with it"),
        (["generate", "-o", "x.py"], "-o FILE is for one model from --model-file"),
        (["check", "key.md", "--model", "two-weight-chain", "--model-file", "x.toml"], "give no --model"),
    ],
)
def test_model_file_excludes_a_catalogue_model(args, message, capsys):
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_parse_model_file_names_its_source():
    with pytest.raises(ModelFileError, match=r"^mine\.toml: missing key name$"):
        parse_model_file("", "mine.toml")


def test_the_documented_example_is_valid():
    """Every TOML block in docs/model-files.md is a model file symgrad accepts (or is marked as a fragment)."""
    page = (REPO / "docs" / "model-files.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", page, flags=re.S)
    complete = [b for b in blocks if b.lstrip().startswith("name =")]
    assert complete, "docs/model-files.md shows no complete model file"
    for block in complete:
        model = parse_model_file(block, "docs/model-files.md")
        assert model.params
    assert EXAMPLE.read_text().split("\nname =", 1)[1] in page  # the page shows the example file itself


def test_the_readme_example_runs(capsys):
    """The README's ten-line Python example builds, derives and renders as it says."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Your own model", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 12
    exec(compile(code, "README.md", "exec"), {})  # our own documentation, not user input
    out = capsys.readouterr().out
    assert r"\frac{\partial \mathrm{Loss}}{\partial w_{3}}" in out


@pytest.mark.parametrize("name", ["mlp", "softmax-regression"])
def test_indexed_example_files_are_the_catalogue_graphs(name):
    import dataclasses

    from symgrad.catalogue import models
    model = load_model_file(REPO / "docs" / "examples" / f"{name}.toml")
    reference = getattr(models, name.replace("-", "_"))()
    assert model == dataclasses.replace(reference, notation=model.notation)


def test_the_mlp_file_derives_and_its_gradients_are_right(indexed_gradient_pairs, capsys, tmp_path):
    path = REPO / "docs" / "examples" / "mlp.toml"
    assert main(["derive", "--model-file", str(path), "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert "= w_ij - η·(p - y)·v_j·h_j·(1 - h_j)·x_i" in text
    for unit, symbolic, numeric in indexed_gradient_pairs(derive_model_file(path), {"m": 3, "k": 2}, seed=4):
        assert symbolic == pytest.approx(numeric, rel=1e-6, abs=1e-8), unit
    status = main(["generate", "--model-file", str(path), "--out", str(tmp_path)])
    if status == 2:  # the NumPy backend does not batch matrix parameters yet: a clear refusal, no file
        assert capsys.readouterr().err.startswith("symgrad: error: cannot generate mlp: ")
        assert not any(tmp_path.iterdir())
    else:
        assert status == 0 and (tmp_path / "mlp.py").is_file()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('i = "m"', 'i = "m m"', "indices.i: 'm m' is not an identifier"),
        ('i = "m"', "i = true", "indices.i: expected a size"),
        ('i = "m"', 'i = [1, "m", 3]', "indices.i: expected [start, size]"),
        ('"h[j]" = "sigmoid(z[j])"', '"h[j]" = "sigmoid(z[q])"', "nodes.h[j], column 11: 'q' is not a declared index"),
        ('u = "sum(v[j] * h[j], j) + c"', 'u = "v[j] * h[j] + c"', "nodes.u: the index j is free"),
        ('params = ["v[j]", "c", "w[i, j]", "b[j]"]', 'params = ["v[j]", "c", "w[i, q]", "b[j]"]',
         "params: 'w[i, q]' uses 'q', which is not a declared index"),
    ],
)
def test_indexed_file_errors(old, new, message, tmp_path, capsys):
    text = (REPO / "docs" / "examples" / "mlp.toml").read_text()
    assert old in text
    path = tmp_path / "net.toml"
    path.write_text(text.replace(old, new, 1))
    assert main(["derive", "--model-file", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"symgrad: error: {path}: ") and message in error, error


CHAIN = """name = "chain"
inputs = ["x"]
label = "y"
params = ["w1", "w2"]
[nodes]
z1 = "x * w1"
a1 = "{0}(z1)"
z2 = "a1 * w2"
a2 = "{1}(z2)"
[loss]
formula = "{2}(a2, y)"
"""


@pytest.mark.parametrize(
    ("hidden", "output", "loss"),
    [("relu", "identity", "quadratic"), ("identity", "sigmoid", "cross_entropy"), ("tanh", "relu", "quadratic")],
)
def test_every_activation_derives_generates_and_checks(hidden, output, loss, tmp_path):
    """The derivation, rendered, is a key the checker finds nothing wrong in; the module's gradient is its slope."""
    from symgrad.codegen.pipeline import derivation_source
    from symgrad.rendering.render import render

    text = CHAIN.format(hidden, output, loss)
    derivation = derive_model_file(_write(tmp_path / "chain.toml", text))
    verdicts = Checker.for_derivation(derivation).check_text(render(derivation, "markdown"))
    wrong = [(v.latex, v.reason) for v in verdicts if v.verdict == "wrong"]
    assert not wrong
    assert sum(v.verdict == "correct" for v in verdicts) >= 15
    module = _load_module(_write(tmp_path / "chain.py", derivation_source(derivation, "chain")))
    rng = np.random.default_rng(8)
    x = rng.normal(size=30)
    y = rng.integers(0, 2, size=30).astype(float) if loss == "cross_entropy" else rng.normal(size=30)
    params = {"w1": 0.7, "w2": -1.3}
    gradient = module.gradient(params, x, y)
    for key in params:
        up, down = dict(params), dict(params)
        up[key] += 1e-6
        down[key] -= 1e-6
        slope = (module.loss(up, x, y) - module.loss(down, x, y)) / 2e-6
        assert gradient[key] == pytest.approx(slope, rel=1e-5, abs=1e-8), key


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("activation", ["relu", "identity"])
def test_catalogue_relu_and_identity_derivations_check_clean(activation, derived):
    """The two checker fixes this work needed (relu evaluated as max(0, z); ∂z₂/∂z₂ of an identity node is 1)
    hold for the catalogue's chain too: its own derivation, as a key, has nothing wrong."""
    from symgrad.rendering.render import render

    derivation = derived("two-weight-chain", activation=activation)
    checker = Checker("two-weight-chain", {"activation": activation})
    verdicts = checker.check_text(render(derivation, "markdown"))
    assert not [(v.latex, v.reason) for v in verdicts if v.verdict == "wrong"]
    assert sum(v.verdict == "correct" for v in verdicts) >= 18


def test_a_model_file_cannot_overwrite_a_catalogue_module(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path / "chain.toml", CHAIN.format("sigmoid", "sigmoid", "quadratic").replace(
        'name = "chain"', 'name = "two-weight-chain"'))
    assert main(["generate", "--model-file", str(path)]) == 2
    assert "is a catalogue model's name" in capsys.readouterr().err
    assert not (tmp_path / "generated").exists()
    assert main(["generate", "--model-file", str(path), "--out", "mine"]) == 0
    assert (tmp_path / "mine" / "two_weight_chain.py").is_file()
    # Nor the catalogue's Numba module, through a model named after it.
    numba_named = _write(tmp_path / "lrn.toml", CHAIN.format("sigmoid", "sigmoid", "quadratic").replace(
        'name = "chain"', 'name = "two-weight-chain-numba"'))
    assert main(["generate", "--model-file", str(numba_named)]) == 2
    assert "names a catalogue module; its module would replace the catalogue's generated/two_weight_chain_numba.py" \
        in capsys.readouterr().err
    assert not (tmp_path / "generated").exists()
    # However generated/ is spelled.
    for spelling in ("./generated", "generated/", str(tmp_path / "generated")):
        assert main(["generate", "--model-file", str(path), "--out", spelling]) == 2
        assert "is a catalogue model's name" in capsys.readouterr().err
    assert not (tmp_path / "generated").exists()


def test_the_softmax_file_derives_as_the_catalogue_model_does(indexed_gradient_pairs, derived):
    derivation = derive_model_file(REPO / "docs" / "examples" / "softmax-regression.toml")
    catalogue = derived("softmax-regression")
    assert [(r.name, r.value) for r in derivation.results] == [(r.name, r.value) for r in catalogue.results]
    pairs = indexed_gradient_pairs(derivation, {"m": 2, "C": 3}, seed=2)
    assert len(pairs) == 2 * (6 + 3)
    for unit, symbolic, numeric in pairs:
        assert symbolic == pytest.approx(numeric, rel=1e-6, abs=1e-8), unit


LOGISTIC_WITH_BIAS = """name = "my-logistic"
description = "logistic regression with a bias, written by a user"
inputs = ["x[i]"]
label = "y"
params = ["w[i]", "b"]
step_size = "eta"

[indices]
i = "k"

[nodes]
z = "sum(w[i] * x[i], i) + b"
p = "sigmoid(z)"

[loss]
name = "L"
formula = "cross_entropy(p, y)"
"""


@pytest.mark.parametrize("target", ["numpy", "numba"])
@pytest.mark.slow  # seconds: see the marker in pyproject.toml
def test_a_logistic_regression_file_generates_what_the_catalogue_module_computes(tmp_path, capsys, target):
    """Inputs x_i and weights w_i get their vector forms (**x**, **w**), as the catalogue's models have them, so
    the module takes X as rows; it used to fail with an AttributeError traceback in the NumPy backend."""
    path = _write(tmp_path / "mine.toml", LOGISTIC_WITH_BIAS)
    derivation = derive_model_file(str(path))
    assert any(r.kind == "gradient" and str(r.lhs.wrt) == r"\mathbf{w}" for r in derivation.results)
    assert main(["generate", "--model-file", str(path), "--target", target, "--out", str(tmp_path)]) == 0
    suffix = "_numba" if target == "numba" else ""
    mine = _load_module(tmp_path / f"my_logistic{suffix}.py")
    catalogue = _load_module(REPO / "generated" / "logistic_regression_bias.py")
    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(300, 4)), (rng.random(300) < 0.5).astype(float)
    params = {"w": rng.normal(size=4), "b": 0.3}
    assert mine.PARAMS == catalogue.PARAMS
    assert mine.loss(params, X, y) == pytest.approx(catalogue.loss(params, X, y), rel=1e-12)
    expected = catalogue.gradient(params, X, y)
    for key, value in mine.gradient(params, X, y).items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-10, atol=1e-15)


#: Vectors used otherwise than in Σ_i w_i x_i: the derivation keeps components (no **x**, **w**). Each used to
#: end in an AttributeError traceback; then each was refused. Since one lowering serves every model (index
#: notation → array nodes, and the same plan per sample), every target computes them: the numba module takes a
#: row's Σ_i w_i x_i a block at a time, and loops over the sample's units for the others.
NOT_X_AT_W = {
    "wj": ('params = ["w[j]"]', "i = \"k\"\nj = \"k\"", 'z = "sum(w[j] * x[j], j)"'),
    "l2": ('params = ["w[i]"]', 'i = "k"', 'z = "sum(w[i] * x[i], i) + sum(w[i] * w[i], i)"'),
    "sum-of-x": ('params = ["w[i]", "b"]', 'i = "k"', 'z = "sum(w[i] * x[i], i) + b * sum(x[i], i)"'),
}
#: ∂L/∂b_i is the same for every i (b_i sums to one number): no array of b's shape holds it.
BIAS_VECTOR = ('params = ["w[i]", "b[i]"]', 'i = "k"', 'z = "sum(w[i] * x[i] + b[i], i)"')


def _vector_model(tmp_path, name, params, indices, node):
    text = (f'name = "{name}"\ninputs = ["x[i]"]\nlabel = "y"\n{params}\n[indices]\n{indices}\n'
            f'[nodes]\n{node}\np = "sigmoid(z)"\n[loss]\nformula = "cross_entropy(p, y)"\n')
    return _write(tmp_path / f"{name}.toml", text)


def _finite_difference(module, params, X, y, key, step=1e-6):
    value = np.asarray(params[key], dtype=float)
    estimate = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        for sign in (1, -1):
            moved = {k: np.array(v, dtype=float, copy=True) for k, v in params.items()}
            moved[key][index] += sign * step
            estimate[index] += sign * module.loss(moved, X, y) / (2 * step)
    return estimate


@pytest.mark.slow  # each compiles a Numba module (seconds)
@pytest.mark.parametrize("name", sorted(NOT_X_AT_W))
def test_vectors_outside_a_weighted_sum_are_generated_by_the_one_lowering(tmp_path, capsys, name):
    path = _vector_model(tmp_path, name, *NOT_X_AT_W[name])
    assert derive_model_file(str(path)).model.vector_forms == {}
    out = tmp_path / "out"
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(40, 3)), (rng.random(40) < 0.5).astype(float)
    for target, suffix in (("numpy", ""), ("numba", "_numba")):
        assert main(["generate", "--model-file", str(path), "--target", target, "--out", str(out)]) == 0, \
            capsys.readouterr().err
        module = _load_module(out / f"{name.replace('-', '_')}{suffix}.py")
        params = module.init_params(X, y, rng=2)
        gradient = module.gradient(params, X, y)
        for key in params:
            np.testing.assert_allclose(gradient[key], _finite_difference(module, params, X, y, key),
                                       rtol=1e-6, atol=1e-9, err_msg=f"{target} {key}")


def test_a_gradient_without_the_parameters_indices_is_refused_in_one_line(tmp_path, capsys):
    path = _vector_model(tmp_path, "bias-vector", *BIAS_VECTOR)
    for target in ("numpy", "numba"):
        assert main(["generate", "--model-file", str(path), "--target", target, "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot generate bias-vector: the gradient for b[i] has free indices" in err
    assert not (tmp_path / "out").exists()


def test_a_leading_byte_order_mark_is_accepted(tmp_path, capsys):
    """Windows editors save UTF-8 with a byte-order mark (EF BB BF); it is not part of the TOML."""
    marked = tmp_path / "marked.toml"
    marked.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.read_bytes())
    plain = load_model_file(EXAMPLE)
    for model in (load_model_file(marked), parse_model_file("\ufeff" + EXAMPLE.read_text(encoding="utf-8"))):
        assert [model.name, model.params, model.nodes, model.loss] == [
            plain.name, plain.params, plain.nodes, plain.loss]
    assert main(["derive", "--model-file", str(marked), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == plain.name
    assert main(["generate", "--model-file", str(marked), "--out", str(tmp_path / "out")]) == 0


def test_the_page_says_what_generate_does_with_matrix_parameters(tmp_path, capsys):
    """docs/model-files.md said that generate refuses matrix parameters, while its mlp example (w[i, j]) generates."""
    import sympy as sp

    mlp = REPO / "docs" / "examples" / "mlp.toml"
    assert any(isinstance(p, sp.Indexed) and len(p.indices) == 2 for p in load_model_file(mlp).params)
    assert main(["generate", "--model-file", str(mlp), "--out", str(tmp_path)]) == 0
    assert main(["generate", "--model-file", str(mlp), "--target", "numba", "--out", str(tmp_path / "numba")]) == 0
    capsys.readouterr()
    page = " ".join((REPO / "docs" / "model-files.md").read_text().split())
    assert "refuses matrix parameters" not in page
    assert "`symgrad generate` writes the NumPy, Numba and PyTorch modules of such a model" in page


# ---- a loss that reads a parameter ----------------------------------------------------------------------------
PENALISED = _edit('z3 = "a2 * w3"', 'z3 = "a2 * w3"\npenalty = "0.01 * w1^2"').replace(
    'formula = "quadratic(z3, y)"', 'formula = "quadratic(z3, y) + penalty"')


def test_a_penalty_in_a_node_of_its_own_derives_the_penalised_gradient(tmp_path, gradient_pairs):
    """The route the refusal names: L2 on w1 as a node.  The gradient agrees with a finite difference of the
    composed loss, and differs from the unpenalised example's by exactly d(0.01 w1²)/dw1 = w1/50 (by hand)."""
    import sympy as sp

    path = tmp_path / "penalised.toml"
    path.write_text(PENALISED)
    penalised, plain = derive_model_file(path), derive_model_file(EXAMPLE)
    for param, symbolic, numeric in gradient_pairs(penalised, seed=7, points=3):
        assert symbolic == pytest.approx(numeric, rel=1e-6, abs=1e-8), param
    w1, w2, w3 = penalised.model.params
    for param, extra in ((w1, w1 / 50), (w2, 0), (w3, 0)):
        difference = penalised.model.explicit(penalised.gradient(param)) - plain.model.explicit(plain.gradient(param))
        assert sp.simplify(difference - extra) == 0, param


def test_a_parameter_the_loss_reads_only_itself_still_derives(tmp_path, gradient_pairs):
    """One way to the loss is fine: an output bias added inside the loss reaches it directly and no other way."""
    path = tmp_path / "bias.toml"
    path.write_text(_edit('params = ["w1", "w2", "w3"]', 'params = ["w1", "w2", "w3", "c"]').replace(
        'formula = "quadratic(z3, y)"', 'formula = "quadratic(z3 + c, y)"'))
    derivation = derive_model_file(path)
    for param, symbolic, numeric in gradient_pairs(derivation, seed=8, points=3):
        assert symbolic == pytest.approx(numeric, rel=1e-6, abs=1e-8), param


#: The reason both the model-file builder and derive() give for a loss that reads a parameter two ways.
ONE_WAY_REASON = ("the loss uses the parameter {param} both directly and through the node {node}; the loss may read "
                  "a parameter only one way: make the term with {param} a node of its own")


def test_derive_refuses_a_hand_built_model_whose_loss_reads_a_weight_two_ways(tmp_path):
    """A Model made without the builder gets the same reason from derive() as a model file gets from the builder,
    not an unprovable chain rule."""
    import dataclasses

    from symgrad.catalogue.modelfile import derive_model
    from symgrad.model.graph import Node

    model = load_model_file(EXAMPLE)
    w1 = model.params[0]
    loss = Node(model.loss.symbol, model.loss.expr + w1**2 / 100)
    with pytest.raises(ModelFileError) as refused:
        derive_model(dataclasses.replace(model, nodes=(*model.forward_nodes, loss)), "net.toml")
    message = str(refused.value)
    assert "\n" not in message and "cannot prove" not in message
    assert ONE_WAY_REASON.format(param="w_1", node="z_3") in message  # the symbols: w1 and z3 are w_1 and z_3

    path = tmp_path / "penalised.toml"  # the same loss in a model file: the builder refuses it first
    path.write_text(_edit('formula = "quadratic(z3, y)"', 'formula = "quadratic(z3, y) + w1^2 / 100"'))
    with pytest.raises(ModelFileError) as refused_early:
        load_model_file(path)
    assert ONE_WAY_REASON.format(param="'w1'", node="'z3'") in str(refused_early.value)


HOSTILE_DESCRIPTION = r"<script>alert(1)</script> $$\int$$ `code` *bold* [a](javascript:alert(1)) & # 1."


def test_a_description_is_printed_as_text_in_markdown_and_latex(tmp_path, capsys):
    """Markdown took the description as it was: a <script> tag, $$ math, a javascript: link all became syntax."""
    folder = tmp_path / 'p"""; x; `y` """'
    folder.mkdir()
    path = folder / "m.toml"
    path.write_text(_edit('description = "Three-weight chain: tanh and softplus hidden units, a linear output, '
                          'the quadratic loss"', f"description = '{HOSTILE_DESCRIPTION}'"))
    assert main(["derive", "--model-file", str(path), "--format", "markdown"]) == 0
    heading, _, credit = capsys.readouterr().out.splitlines()[:3]
    unescaped = re.sub(r"\\(.)", "", heading[2:])  # what is left once every escaped character is taken away
    assert not set(unescaped) & set("<>$`*[]&#\\")
    assert re.sub(r"\\(.)", r"\1", heading[2:]) == HOSTILE_DESCRIPTION
    assert "``symgrad derive --model-file '" in credit and "y` \"\"\"/m.toml' --format markdown``" in credit
    assert main(["derive", "--model-file", str(path), "--format", "tex"]) == 0
    tex = capsys.readouterr().out
    assert r"\section*{\raggedright \textless{}script\textgreater{}alert(1)\textless{}/script\textgreater{}" in tex
    assert r"\$\$\textbackslash{}int\$\$" in tex


@pytest.mark.parametrize("description, reason", [
    ("line one\nline two", "character 9 is U+000A"),
    ("bell \a", "character 6 is U+0007"),
    ("escape \x1b]0;title\a", "character 8 is U+001B"),
    ("right-to-left \u202e override", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("paragraph\u2029break", "U+2029 (PARAGRAPH SEPARATOR)"),
    ("x" * 301, "longer than 300 characters"),
])
def test_a_description_is_one_line_of_printable_text(description, reason):
    with pytest.raises(ModelError, match=re.escape(reason)):
        ModelBuilder("m", description)


def test_a_layer_of_a_fixed_size_derives(tmp_path, capsys):
    """j = 1024 in [indices]: the size was kept as a Python int, which the derivation could not read."""
    path = tmp_path / "wide.toml"
    path.write_text('name = "wide"\ninputs = ["x[i]"]\nlabel = "y"\nparams = ["w[i, j]", "v[j]"]\n'
                    '[indices]\ni = 3\nj = 1024\n[nodes]\n"z[j]" = "sum(w[i, j] * x[i], i)"\n"h[j]" = "sigmoid(z[j])"\n'
                    'u = "sum(v[j] * h[j], j)"\n[loss]\nformula = "quadratic(u, y)"\n')
    assert main(["derive", "--model-file", str(path), "--format", "json"]) == 0
    assert "1024" in capsys.readouterr().out
