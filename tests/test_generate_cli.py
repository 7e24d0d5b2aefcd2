"""``symgrad generate``: writing, --check, determinism, the committed generated/ folder, and refusals."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

import symgrad.codegen.pipeline as pipeline
from symgrad.catalogue.models import two_weight_chain
from symgrad.cli import main
from symgrad.codegen import generatable_names, generate, module_name
from symgrad.codegen.safe_text import docstring_text
from symgrad.derivation.derive import derive
from symgrad.errors import UsageError
from symgrad.model.graph import Model, Node

REPO = Path(__file__).resolve().parent.parent


def every_module() -> list[tuple[str, str]]:
    """(model, target) of every module generate() writes by default: NumPy, then Numba, then PyTorch."""
    return [(name, target) for target in ("numpy", "numba", "torch") for name in generatable_names(target)]


def file_names() -> set[str]:
    return {f"{module_name(name, target)}.py" for name, target in every_module()}


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["generate", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """Every module, generated once into a folder the tests copy from."""
    folder = tmp_path_factory.mktemp("generated")
    generate(out_dir=folder)
    return folder


def copy_of(written: Path, tmp_path: Path) -> Path:
    target = tmp_path / "out"
    target.mkdir()
    for path in written.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def test_the_committed_generated_folder_is_current():
    """What CI runs: `symgrad generate --check`; and no module is left over from a model that is gone."""
    report = generate(out_dir=REPO / "generated", check=True)
    assert [(f.model, f.target, f.status) for f in report] == [(*module, "current") for module in every_module()]
    on_disk = {p.name for p in (REPO / "generated").glob("*.py")}
    assert on_disk == file_names()


def test_check_reports_missing_files_and_writes_nothing(capsys, tmp_path):
    status, out, _ = run_cli(capsys, "--check", "--out", str(tmp_path / "out"))
    assert status == 1
    assert out.splitlines() == [f"missing: {tmp_path / 'out' / (module_name(*m) + '.py')}" for m in every_module()]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # seconds: see the marker in pyproject.toml
def test_check_fails_on_a_stale_file_and_passes_after_regenerating(capsys, written, tmp_path):
    out = copy_of(written, tmp_path)
    status, text, _ = run_cli(capsys, "--check", "--out", str(out))
    assert status == 0 and text.startswith("up to date: ")

    stale = out / "two_weight_chain.py"
    edited = stale.read_text(encoding="utf-8").replace("t0**2", "t0**2 + 0.0")
    stale.write_text(edited, encoding="utf-8")
    status, text, _ = run_cli(capsys, "--check", "--out", str(out))
    assert status == 1
    assert text.splitlines() == [f"stale: {stale}"]
    assert stale.read_text(encoding="utf-8") == edited  # --check writes nothing

    status, text, _ = run_cli(capsys, "--out", str(out))
    assert status == 0
    assert f"wrote {stale}" in text.splitlines()
    assert sum(line.startswith("unchanged ") for line in text.splitlines()) == len(every_module()) - 1
    status, _, _ = run_cli(capsys, "--check", "--out", str(out))
    assert status == 0
    assert stale.read_bytes() == (written / "two_weight_chain.py").read_bytes()


def test_named_models_only(capsys, tmp_path):
    status, text, _ = run_cli(capsys, "two-weight-chain", "--out", str(tmp_path))
    assert status == 0
    written = ["two_weight_chain.py", "two_weight_chain_numba.py", "two_weight_chain_torch.py"]
    assert sorted(p.name for p in tmp_path.iterdir()) == written
    assert text == "".join(f"wrote {tmp_path / name}\n" for name in written)


@pytest.mark.parametrize(("target", "models", "files"), [
    ("numpy", ["two-weight-chain", "mlp"], ["mlp.py", "two_weight_chain.py"]),
    ("numba", ["two-weight-chain"], ["two_weight_chain_numba.py"]),
    ("torch", ["two-weight-chain", "mlp"], ["mlp_torch.py", "two_weight_chain_torch.py"]),
])
def test_one_target(capsys, tmp_path, target, models, files):
    status, _, _ = run_cli(capsys, *models, "--target", target, "--out", str(tmp_path))
    assert status == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == files


def test_a_layered_model_has_a_module_for_every_target(capsys, tmp_path):
    """Named with --target numba alone, it gets its Numba module (once refused: its loops held numbers only)."""
    status, text, _ = run_cli(capsys, "mlp", "--target", "numba", "--out", str(tmp_path))
    assert status == 0 and text == f"wrote {tmp_path / 'mlp_numba.py'}\n"
    status, text, _ = run_cli(capsys, "mlp", "--out", str(tmp_path))
    assert status == 0 and text == (f"wrote {tmp_path / 'mlp.py'}\nunchanged {tmp_path / 'mlp_numba.py'}\n"
                                    f"wrote {tmp_path / 'mlp_torch.py'}\n")


def test_an_unknown_target_is_refused(capsys, tmp_path):
    status, _, err = run_cli(capsys, "--target", "cuda", "--out", str(tmp_path))
    assert status == 2 and "invalid choice: 'cuda'" in err and err.count("\n") == 1
    with pytest.raises(UsageError, match="unknown target 'cuda'; choose from numpy, numba"):
        generate(out_dir=tmp_path, targets=("cuda",))
    assert not any(tmp_path.iterdir())


def test_unchanged_files_are_not_rewritten(written, tmp_path):
    out = copy_of(written, tmp_path)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    report = generate(out_dir=out)
    assert {f.status for f in report} == {"unchanged"}
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


@pytest.mark.slow  # seconds: see the marker in pyproject.toml
def test_output_is_the_same_bytes_whatever_the_hash_seed(tmp_path):
    seeds = ("0", "4242", "random")
    folders = []
    for seed in seeds:
        folder = tmp_path / f"seed-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-m", "symgrad", "generate", "--out", str(folder)],
                                cwd=REPO, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        folders.append(folder)
    first, *others = ({p.name: p.read_bytes() for p in f.iterdir()} for f in folders)
    assert all(other == first for other in others)
    assert set(first) == file_names()


def test_unknown_model_is_one_line_listing_the_choices(capsys, tmp_path):
    status, out, err = run_cli(capsys, "no-such-model", "--out", str(tmp_path))
    assert status == 2 and out == ""
    assert err.count("\n") == 1
    assert "unknown model 'no-such-model'; choose from " + ", ".join(generatable_names()) in err


@pytest.mark.parametrize(("name", "reason"), [
    ("sigmoid", "it has no parameters to train"),
    ("two-weight-chain-abstract", "are abstract"),
])
def test_a_model_without_a_module_says_why(capsys, tmp_path, name, reason):
    status, _, err = run_cli(capsys, name, "--out", str(tmp_path))
    assert status == 2
    assert err.startswith(f"symgrad: error: cannot generate {name}: ") and reason in err
    assert err.count("\n") == 1
    assert not any(tmp_path.iterdir())


def test_help_names_the_models_without_a_module(capsys):
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = capsys.readouterr().out
    assert "\n  sigmoid: it has no parameters to train\n" in text
    assert "\n  two-weight-chain-abstract: its functions Loss, g_1, g_2 are abstract" in text
    assert "--check" in text and "--out DIR" in text


def test_an_unwritable_folder_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    status, _, err = run_cli(capsys, "two-weight-chain", "--out", str(blocker))
    assert status == 2 and err.startswith("symgrad: error: cannot write ") and err.count("\n") == 1


@pytest.mark.parametrize(("blocker", "which"), [("folder", 0), ("fifo", -1)])  # each generates the whole set thrice
@pytest.mark.slow  # seconds: see the marker in pyproject.toml
def test_a_bad_target_anywhere_in_the_set_writes_nothing(capsys, tmp_path, blocker, which):
    """A folder or a FIFO where one module goes, even the last one written, fails the run before the first
    module is written: a failed generate leaves no half-written set behind."""
    name, target = every_module()[which]
    out = tmp_path / "out"
    out.mkdir()
    bad = out / f"{module_name(name, target)}.py"
    if blocker == "folder":
        bad.mkdir()
    else:
        os.mkfifo(bad)
    status, text, err = run_cli(capsys, "--out", str(out))
    assert status == 2 and text == ""
    assert err == f"symgrad: error: cannot write {bad}: not a regular file\n"
    assert [p.name for p in out.iterdir()] == [bad.name]
    with pytest.raises(OSError, match="not a regular file"):
        generate(out_dir=out)
    assert [p.name for p in out.iterdir()] == [bad.name]
    status, text, _ = run_cli(capsys, "--check", "--out", str(out))  # --check writes nothing and says so
    assert status == 1 and f"missing: {bad}" in text.splitlines()


# ---------------------------------------------------------------------------------------------
# Names that cannot become Python identifiers
# ---------------------------------------------------------------------------------------------

def chain_with_weight_named(name: str) -> Model:
    """The two-weight chain with w_1 renamed: what a catalogue entry with an unusable name would be."""
    model = two_weight_chain()
    w1 = next(p for p in model.params if p.name == "w_1")
    renamed = sp.Symbol(name)
    nodes = tuple(Node(n.symbol, n.expr.xreplace({w1: renamed})) for n in model.nodes)
    params = tuple(renamed if p == w1 else p for p in model.params)
    return Model(model.name, model.description, model.inputs, model.label, params, nodes, model.step_size,
                 model.notation, model.vector_forms, model.options)


@pytest.mark.parametrize(("name", "problem"), [
    ("lambda", "is a Python keyword"),
    ("sum", "would shadow the Python builtin"),
    ("np", "is a name the generated module uses itself"),
    ("l", "is ambiguous"),
    ("w'", "is not a Python identifier"),
    ("z_{1}", "which is also the name of the parameter 'z1'"),
])
def test_a_bad_name_is_refused_before_anything_is_written(monkeypatch, capsys, tmp_path, name, problem):
    bad = derive(chain_with_weight_named(name))
    real = pipeline.derive_named
    monkeypatch.setattr(pipeline, "derive_named",
                        lambda n, **options: bad if n == "two-weight-chain" else real(n, **options))
    with pytest.raises(UsageError) as refused:
        generate(["logistic-regression", "two-weight-chain"], tmp_path / "out")
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("cannot generate two-weight-chain: the ") and problem in message
    assert not (tmp_path / "out").exists()  # not even the module that was fine

    status, _, err = run_cli(capsys, "two-weight-chain", "--out", str(tmp_path / "out"))
    assert status == 2 and err == f"symgrad: error: {message}\n"
    assert not (tmp_path / "out").exists()


def test_the_renamed_model_is_otherwise_fine(tmp_path):
    """The refusals above are about the name alone: a good new name generates."""
    derivation = derive(chain_with_weight_named("omega"))
    from symgrad.codegen.context import build_context
    from symgrad.codegen.lower import lower
    from symgrad.codegen.render import NUMPY_TEMPLATE, render_template

    source = render_template(NUMPY_TEMPLATE, build_context(lower(derivation, "two-weight-chain"), derivation))
    assert "z1 = omega*x" in source and 'PARAMS = {"w2": (), "omega": ()}' in source


# ---------------------------------------------------------------------------------------------
# Options that do not go together, and folders a failed run leaves behind
# ---------------------------------------------------------------------------------------------

EXAMPLE = REPO / "docs" / "examples" / "three-weight-chain.toml"


def test_out_and_o_together_are_refused_before_anything_is_written(capsys, tmp_path):
    folder, target = tmp_path / "folder", tmp_path / "net.py"
    status, out, err = run_cli(capsys, "--model-file", str(EXAMPLE), "--out", str(folder), "-o", str(target))
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("symgrad: error: ") and "--out" in err and "-o" in err
    assert not any(tmp_path.iterdir())  # --out used to be ignored: the module went to -o alone


def test_an_empty_folder_name_is_refused_not_taken_for_the_current_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = run_cli(capsys, "two-weight-chain", "--out", "")
    assert status == 2 and err == "symgrad: error: argument --out/--out-dir: expected a file or folder name, not ''\n"
    assert not any(tmp_path.iterdir())


def test_a_failed_generate_leaves_no_folder_it_made(capsys, tmp_path, monkeypatch):
    """The folder is made, then the rename of the module's temporary fails (a full disk): the run fails and
    must take the folder away again.  (A module name near the file system's limit once did this; the
    temporary's name no longer grows with the module's, see tests/test_files.py.)"""
    from symgrad import files

    def full_disk(source, target):
        raise OSError(28, "No space left on device")

    model_file = tmp_path / "chain.toml"
    model_file.write_text(EXAMPLE.read_text())
    monkeypatch.setattr(files.os, "replace", full_disk)
    status, _, err = run_cli(capsys, "--model-file", str(model_file), "--out", str(tmp_path / "new" / "sub"))
    assert status == 2 and err.startswith("symgrad: error: cannot write ") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chain.toml"]


# ---------------------------------------------------------------------------------------------
# A model file's text reaches the module as text: no code, and a module that compiles (issue 22)
# ---------------------------------------------------------------------------------------------

PAYLOAD = '"""; __import__("os").system("touch PWNED"); """'
#: Descriptions that once broke out of the docstring (code run on import) or broke the module (no compile).
HOSTILE_DESCRIPTIONS = [
    PAYLOAD,
    "'''; __import__('os').system('touch PWNED'); '''",
    'two\nlines\n"""\n__import__("os").system("touch PWNED")\n"""',
    "a backslash at the end\\",
    r"escapes \N{DIGIT ONE} \N{ \x4 \x41 \u00 \U0001 \0 \n \" \\",
    'ends with a quote"',
    'ends with two quotes""',
    '"starts with a quote',
    "a line\u2028separator, a paragraph\u2029separator, a next line\x85and a form\x0cfeed",
    "a carriage\rreturn, a tab\tand a NUL\x00inside, a \u202eright-to-left override",
]


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes and backslashes escaped, every other unprintable character as \\u."""
    escaped = "".join("\\" + c if c in '"\\' else c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)
    return f'"{escaped}"'


def hostile_model_file(folder: Path, description: str) -> Path:
    """The three-weight chain's model file with ``description``, in ``folder`` (made if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("description = ")
    end = text.index("\n", start)
    path = folder / "model.toml"
    path.write_text(text[:start] + f"description = {toml_string(description)}" + text[end:], encoding="utf-8")
    return path


def import_in(folder: Path, module: Path) -> str:
    """Compile ``module`` with warnings as errors (an invalid escape such as "\\," warns today), then import it
    in a fresh Python whose working folder is ``folder`` (a payload's `touch PWNED` would land there), and
    return its docstring."""
    script = ("import importlib.util, json, sys, warnings\n"
              "with warnings.catch_warnings():\n"
              "    warnings.simplefilter('error')\n"
              "    compile(open(sys.argv[1], encoding='utf-8').read(), 'hostile', 'exec')\n"
              "spec = importlib.util.spec_from_file_location('hostile', sys.argv[1])\n"
              "module = importlib.util.module_from_spec(spec)\n"
              "spec.loader.exec_module(module)\n"
              "print(json.dumps(module.__doc__))\n")
    result = subprocess.run([sys.executable, "-c", script, os.fsencode(module)], capture_output=True, text=True,
                            cwd=folder)
    assert result.returncode == 0, result.stderr
    assert not (folder / "PWNED").exists()
    return json.loads(result.stdout)


def flat(text: str) -> str:
    """``text`` without its whitespace: the docstring wraps the description's lines."""
    return "".join(text.split())


def generate_model_file(capsys, model_file: Path, output: Path, target: str) -> tuple[int, str]:
    status, _, err = run_cli(capsys, "--model-file", str(model_file), "--target", target, "-o", str(output))
    return status, err


def refused_at_the_parse(status: int, err: str, model_file: Path, output: Path) -> bool:
    """Whether the model file's reader refused the text in one line (a description may not need every
    character), writing nothing: an outcome as safe as a module that keeps the text as text."""
    if status == 0:
        return False
    assert status == 2 and err.count("\n") == 1 and err.startswith(f"symgrad: error: {model_file}")
    assert not output.exists()
    return True


#: Every description for the NumPy and Numba targets; the PyTorch modules' docstrings go through the same filter
#: (templates' ``docstring``), so they take the three that once ran code and the two that once broke the quoting,
#: each importing torch in a fresh process (two seconds each).
#: The PyTorch cases are marked slow (each imports torch in a new process): the quick subset keeps the others.
DESCRIPTION_CASES = [pytest.param(target, index, description, id=f"{index}-{target}",
                                  marks=[pytest.mark.slow] if target == "torch" else [])
                     for index, description in enumerate(HOSTILE_DESCRIPTIONS)
                     for target in ("numpy", "numba", "torch") if target != "torch" or index in (0, 1, 2, 3, 6)]


@pytest.mark.parametrize(("target", "index", "description"), DESCRIPTION_CASES)
def test_a_description_stays_text_in_the_module(capsys, tmp_path, description, index, target):
    """Before issue 22, the first three ran `touch PWNED` when the module was imported, and those with a
    backslash or a trailing quote wrote a module that did not compile, with exit status 0."""
    model_file = hostile_model_file(tmp_path / "in", description)
    output = tmp_path / "hostile.py"
    status, err = generate_model_file(capsys, model_file, output, target)
    if refused_at_the_parse(status, err, model_file, output):
        return
    assert status == 0, err
    if target == "numba" and importlib.util.find_spec("numba") is None:
        pytest.skip("numba is not installed")
    if target == "torch" and importlib.util.find_spec("torch") is None and not os.environ.get("SYMGRAD_REQUIRE_TORCH"):
        pytest.skip("PyTorch is not installed (pip install torch==2.13.0; .ci/run does)")
    docstring = import_in(tmp_path, output)
    assert flat(description) in flat(docstring)


FOLDER_NAMES = [
    'p"""; __import__("os").system("touch PWNED"); """',
    "a folder ending in a backslash\\",
    'a folder ending in a quote"',
    "it's a folder with a single quote",
    "two\nlines",
    r"\N{ and \x",
]


@pytest.mark.parametrize("folder", FOLDER_NAMES, ids=range(len(FOLDER_NAMES)))
def test_the_model_file_s_path_stays_text_in_the_module(capsys, tmp_path, folder):
    """The path lands in the docstring's "regenerate it with" line: before issue 22, the first folder's name ran
    `touch PWNED` on import, and the next two wrote a module that did not compile.  The line is now a command
    the shell reads back as the path."""
    model_file = hostile_model_file(tmp_path / folder, "A chain")
    output = tmp_path / "hostile.py"
    status, err = generate_model_file(capsys, model_file, output, "numpy")
    assert status == 0, err
    docstring = import_in(tmp_path, output)
    assert shlex.quote(str(model_file)) in docstring
    if "\n" not in folder:
        command = next(line.strip() for line in docstring.split("\n") if "symgrad generate" in line)
        assert shlex.split(command) == ["symgrad", "generate", "--model-file", str(model_file)]


def test_an_undecodable_folder_name_stays_text_in_the_module(capsys, tmp_path):
    """A folder whose name is not UTF-8 reaches Python as lone surrogates, which no UTF-8 file can hold as they
    are: the module writes them as escapes."""
    folder = os.fsdecode(os.fsencode(tmp_path) + b"/latin1-\xe9t\xe9")
    try:
        model_file = hostile_model_file(Path(folder), "A chain")
    except (OSError, UnicodeError):
        pytest.skip("this file system takes only UTF-8 names")
    output = tmp_path / "hostile.py"
    status, err = generate_model_file(capsys, model_file, output, "numpy")
    assert status == 0, err
    assert "\\udce9t\\udce9" in output.read_text(encoding="utf-8")
    assert shlex.quote(str(model_file)) in import_in(tmp_path, output)


def test_a_module_that_does_not_compile_is_refused_and_not_written(monkeypatch, capsys, tmp_path):
    """The last line of defence: were the escaping ever to miss something, the module is compiled before it is
    written, and refused in one line (exit 2) rather than written broken or hostile."""
    real = pipeline.render_template

    def unescaped(template, context):  # the description put back raw, as before issue 22
        source = real(template, context)
        return source.replace(docstring_text(context["title"]), context["title"], 1)

    monkeypatch.setattr(pipeline, "render_template", unescaped)
    for description, reason in [(r"a \N{", "would not compile"), ("ends in a backslash\\", "would not compile"),
                                (PAYLOAD, "the model's text would not stay in the module's docstring")]:
        model_file = hostile_model_file(tmp_path / "in", description)
        output = tmp_path / "out.py"
        status, err = generate_model_file(capsys, model_file, output, "numpy")
        assert status == 2 and err.count("\n") == 1 and reason in err, err
        assert err.startswith("symgrad: error: cannot generate three-weight-chain: ")
        assert not output.exists()
