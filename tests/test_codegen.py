"""The code generator's parts: names, stable rewrites, the printer, lowering, templates, packaging,
and what a generated module is (its header, docstrings, imports, names, lint)."""

from __future__ import annotations

import ast
import builtins
import dataclasses
import importlib.metadata
import importlib.util
import json
import re
import shlex
import shutil
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.catalogue.models import derive_named
from symgrad.codegen import generatable_names, generate_source
from symgrad.codegen.context import build_context
from symgrad.codegen.lower import lower
from symgrad.codegen.names import TEMPLATE_NAMES, identifier, model_names
from symgrad.codegen.pipeline import derivation_source
from symgrad.codegen.printer import SIGMOID_HELPER, SymgradNumPyPrinter
from symgrad.codegen.render import NUMPY_TEMPLATE, environment, render_template, template_dirs
from symgrad.codegen.rewrite import LOG_ONE_MINUS_SIGMOID, LOG_SIGMOID, stable_loss
from symgrad.codegen.safe_text import comment_text, docstring_text
from symgrad.commands.generate import regenerate_option
from symgrad.files import OutputError
from symgrad.model.functions import relu, sigmoid

REPO = Path(__file__).resolve().parent.parent
#: The argument checks every module defines (templates/common/arguments.py.jinja): helpers with scopes of their own.
ARGUMENT_CHECKS = set(re.findall(r"^def (\w+)\(", (REPO / "templates/common/arguments.py.jinja").read_text(), re.M))
ISSUE_MODELS = ["logistic-regression", "two-weight-chain", "two-weight-chain-cross-entropy"]


@pytest.fixture(scope="module")
def sources():
    return {name: generate_source(name) for name in generatable_names()}


def functions(source: str) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}


def function_source(source: str, name: str) -> str:
    return ast.get_source_segment(source, functions(source)[name])


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("latex", "capital", "python"), [
    ("a_1", False, "a1"), ("w_2", False, "w2"), ("y^*", False, "y"), ("y^{*}", False, "y"), ("gamma", False, "gamma"),
    (r"\gamma", False, "gamma"), (r"\mathbf{x}", True, "X"), (r"\mathbf{w}", False, "w"), ("w_{12}", False, "w12"),
    ("Loss", False, "Loss"),
])
def test_identifier(latex, capital, python):
    assert identifier(latex, capital=capital) == python


def test_model_names_follow_the_handout():
    chain = {n.python: (n.role, n.handout) for n in model_names(derive_named("two-weight-chain").model)}
    assert chain == {
        "x": ("input", "x"), "y": ("label", "y*"), "w2": ("parameter", "w2"), "w1": ("parameter", "w1"),
        "z1": ("node", "z1"), "a1": ("node", "a1"), "z2": ("node", "z2"), "a2": ("node", "a2"),
        "loss": ("loss", "Loss"), "lr": ("step size", "α"),
    }
    regression = [(n.python, n.role) for n in model_names(derive_named("logistic-regression").model)]
    assert regression == [("X", "input"), ("y", "label"), ("w", "parameter"), ("gamma", "node"), ("h", "node"),
                          ("k", "dimension"), ("loss", "loss"), ("lr", "step size")]


# ---------------------------------------------------------------------------------------------
# Stable rewrites
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule", [LOG_SIGMOID, LOG_ONE_MINUS_SIGMOID])
@pytest.mark.parametrize("u", [-800.0, -37.5, -1.0, 0.0, 0.3, 12.0, 900.0])
def test_rewrite_rules_keep_the_value(rule, u):
    """The rewritten form equals ln s(u) or ln(1 - s(u)), evaluated by mpmath from the definition."""
    rewritten = rule(rule.example)
    assert rewritten != rule.example and not rewritten.has(sigmoid)
    with mpmath.workdps(1000):
        s = 1 / (1 + mpmath.exp(-mpmath.mpf(u)))
        expected = mpmath.log(s) if rule is LOG_SIGMOID else mpmath.log(1 - s)
        got = sp.lambdify(sp.Symbol("u"), rewritten.rewrite(sp.log), "mpmath")(mpmath.mpf(u))
        assert abs(got - expected) <= mpmath.mpf(10) ** -500 * max(1, abs(expected))


@pytest.mark.parametrize("name", ["logistic-regression", "two-weight-chain-cross-entropy"])
def test_stable_loss_is_the_loss(name):
    """The loss the code computes is the derivation's loss: equal at points, in high precision."""
    model = derive_named(name).model
    stable, fired = stable_loss(model)
    assert fired and not stable.has(sp.log)
    output = model.forward_nodes[-1]  # a2 = s(z2), h = s(γ)
    (argument,) = output.value.args
    original = model.loss.value.xreplace({output.symbol: output.value})
    for value in (-700, -3, 0.5, 40, 650):
        for label in (0, 0.3, 1):
            point = {argument: sp.Rational(value), model.label: sp.nsimplify(label)}
            with mpmath.workdps(1000):
                a = sp.lambdify([], original.xreplace(point).rewrite(sp.exp), "mpmath")()
                b = sp.lambdify([], stable.xreplace(point).rewrite(sp.log), "mpmath")()
                assert abs(a - b) <= mpmath.mpf(10) ** -500 * max(1, abs(a))


def test_quadratic_loss_is_not_rewritten():
    model = derive_named("two-weight-chain").model
    assert stable_loss(model) == (model.loss.value, [])


# ---------------------------------------------------------------------------------------------
# The printer
# ---------------------------------------------------------------------------------------------

def printed(expr: sp.Expr):
    """The printed code, and a function evaluating it where the module's helpers are defined."""
    code = SymgradNumPyPrinter().doprint(expr)
    namespace = {"np": np}
    exec(SIGMOID_HELPER, namespace)
    return code, (lambda value: eval(code, namespace, {"z": value}))


def test_sigmoid_is_accurate_in_both_tails_and_never_overflows():
    """Both of the helper's forms: the whole array (the large-array form) and element by element (the small)."""
    code, evaluate = printed(sigmoid(sp.Symbol("z")))
    assert code == "_sigmoid(z)"
    assert "numpy." not in SIGMOID_HELPER
    z = np.concatenate([np.linspace(-740, 740, 2001), [-1000.0, 1000.0, -1e308, 1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            whole = evaluate(z)
            one_by_one = np.array([evaluate(z[i:i + 1])[0] for i in range(len(z))])
    with mpmath.workdps(50):
        expected = np.array([float(1 / (1 + mpmath.exp(-mpmath.mpf(v)))) for v in z])
    # Full relative precision wherever s(z) is a normal float; where it is subnormal (z < -708), within
    # the smallest normal float (the large-array form gives 0 there, from e^{740} = inf).
    tiny = np.finfo(np.float64).tiny
    normal = expected >= tiny
    np.testing.assert_allclose(whole[normal], expected[normal], rtol=1e-13, atol=0)
    np.testing.assert_allclose(one_by_one, expected, rtol=1e-13, atol=0)
    assert np.all(np.abs(whole[~normal] - expected[~normal]) <= tiny) and (~normal).sum() >= 10
    assert evaluate(np.float32(3.0)).dtype == np.float32
    assert evaluate(np.linspace(-5, 5, 100, dtype=np.float32)).dtype == np.float32


def test_the_sigmoid_helper_is_written_only_where_it_is_used(sources):
    for name, source in sources.items():
        assert ("def _sigmoid(" in source) == ("_sigmoid(" in source.replace("def _sigmoid(", "")), name
    assert "def _sigmoid(" in sources["logistic-regression"]


def test_printer_spellings():
    x, y, z = sp.symbols("x y z")
    printer = SymgradNumPyPrinter()
    assert printer.doprint(sp.Rational(1, 2) * (x - y) ** 2) == "0.5*(x - y)**2"
    assert printer.doprint(-x + y) == "y - x"
    assert printer.doprint(relu(z)) == "np.maximum(0, z)"
    assert printer.doprint(sp.Heaviside(z, 0)) == "np.heaviside(z, 0)"
    assert printer.doprint(sp.tanh(z)) == "np.tanh(z)"


# ---------------------------------------------------------------------------------------------
# Lowering and CSE
# ---------------------------------------------------------------------------------------------

def test_forward_nodes_keep_their_names_and_are_computed_once(sources):
    source = sources["two-weight-chain"]
    body = function_source(source, "_loss_and_gradient_sums")  # the body loss_and_gradient runs per block
    for node in ("z1", "a1", "z2", "a2"):
        assert body.count(f"\n    {node} = ") == 1
    assert "x0" not in source and "x1 =" not in source
    assert body.count("a2 - y") == 1  # shared by the loss and both gradients: one temporary
    assert "t0 = a2 - y" in body


def test_loss_reads_only_the_nodes_it_needs(sources):
    """The stable log-loss reads z2, not a2: the loss function does not compute a2."""
    loss = function_source(sources["two-weight-chain-cross-entropy"], "loss")
    assert "z2 = " in loss and "a2 = " not in loss


def test_sums_over_features_are_matrix_products(sources):
    source = sources["logistic-regression"]
    assert "gamma = X @ w" in source
    assert "(h - y) @ X," in function_source(source, "_gradient_sums")  # Σ_n (h_n - y_n) x_n, one block's
    assert '"w": sums[0] / len(X)' in function_source(source, "_gradient")  # the mean, once, at the end
    for name, source in sources.items():
        for function in functions(source).values():
            loops = [n for n in ast.walk(function) if isinstance(n, (ast.For, ast.While, ast.GeneratorExp))]
            if function.name == "_blockwise":  # the one loop: over blocks of rows, never over samples
                assert len(loops) == 1 and isinstance(loops[0], ast.For), name
            elif function.name not in ARGUMENT_CHECKS:  # those loop over an array's axes, never over samples
                assert not loops, (name, function.name)


def test_scalar_gradients_are_means(sources):
    sums = function_source(sources["two-weight-chain"], "_gradient_sums")
    assert sums.count("np.sum(") == 2 and "np.mean(" not in sums
    gradient = function_source(sources["two-weight-chain"], "_gradient")
    assert '"w2": sums[0] / len(x)' in gradient and '"w1": sums[1] / len(x)' in gradient


def test_every_formula_comes_from_the_derivation():
    """Change the derivation (another activation) and the code follows; the template is untouched."""
    cases = (("tanh", "np.tanh(z1)", "np.logaddexp"), ("relu", "np.heaviside(z1, 0)", "np.tanh"))
    for activation, expected, absent in cases:
        derivation = derive_named("two-weight-chain", activation=activation)
        source = render_template(NUMPY_TEMPLATE, build_context(lower(derivation, "two-weight-chain"), derivation))
        assert expected in source and absent not in source


VARIANTS = [{"activation": "tanh"}, {"hidden_activation": "relu", "output_activation": "identity"},
            {"hidden_activation": "tanh", "loss": "cross-entropy"}]


@pytest.mark.parametrize("options", VARIANTS)
def test_variants_agree_with_central_differences(tmp_path, options):
    derivation = derive_named("two-weight-chain", **options)
    source = render_template(NUMPY_TEMPLATE, build_context(lower(derivation, "two-weight-chain"), derivation))
    path = tmp_path / "variant.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("variant", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=8), rng.uniform(size=8)
    params = {"w2": 0.7, "w1": -1.2}
    grads = module.gradient(params, x, y)
    for key in params:
        h = 1e-6
        up, down = dict(params), dict(params)
        up[key] += h
        down[key] -= h
        difference = (module.loss(up, x, y) - module.loss(down, x, y)) / (2 * h)
        assert grads[key] == pytest.approx(difference, rel=1e-6, abs=1e-10)


# ---------------------------------------------------------------------------------------------
# The generated module as a reader sees it
# ---------------------------------------------------------------------------------------------

def test_header(sources):
    for name, source in sources.items():
        header = ast.get_docstring(ast.parse(source))
        assert f"Generated by symgrad {symgrad.__version__}" in header
        assert "Do not edit" in header
        assert f"symgrad generate {name}" in header and "python -m symgrad generate" in header
        assert derive_named(name).model.description in header


def test_docstrings_show_the_handout_formulas(sources):
    chain = functions(sources["two-weight-chain"])
    assert "∂Loss/∂w1 = (a2 - y*)·a2·(1 - a2)·w2·a1·(1 - a1)·x" in ast.get_docstring(chain["gradient"])
    assert "∂Loss/∂w2 = (a2 - y*)·a2·(1 - a2)·a1" in ast.get_docstring(chain["gradient"])
    assert "Loss = 1/2·(a2 - y*)^2" in ast.get_docstring(chain["loss"])
    assert "w1 ← w1 - α·(a2 - y*)·a2·(1 - a2)·w2·a1·(1 - a1)·x" in ast.get_docstring(chain["update"])
    assert "a1 = σ(z1)" in ast.get_docstring(chain["forward"])
    regression = functions(sources["logistic-regression"])
    assert "∇_w L = -x·(y - h(x))" in ast.get_docstring(regression["gradient"])
    assert "w ← w + η·x·(y - h(x))" in ast.get_docstring(regression["update"])
    assert "ln(s(u)) = -np.logaddexp(0, -u)" in ast.get_docstring(regression["loss"])
    for source in sources.values():
        for function in functions(source).values():
            assert ast.get_docstring(function), function.name


def test_imports_numpy_only(sources):
    for source in sources.values():
        imports = [n for n in ast.walk(ast.parse(source)) if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert [(a.name, a.asname) for n in imports for a in n.names] == [("numpy", "np")]


def test_modules_import_and_run_without_sympy():
    script = (
        "import sys, importlib.util\n"
        "sys.modules['sympy'] = None\n"
        "import numpy as np\n"
        f"for path in {[str(p) for p in sorted((REPO / 'generated').glob('*.py'))]!r}:\n"
        "    name = path.rpartition('/')[2][:-3]\n"
        "    spec = importlib.util.spec_from_file_location(name, path)\n"
        "    m = sys.modules[name] = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(m)\n"
        "    X = np.ones((2, 3)) if any(m.PARAMS.values()) else np.ones(2)\n"
        "    y = np.eye(3)[[0, 2]] if 'C' in str(m.PARAMS) else np.array([0.0, 1.0])\n"
        "    m.update(m.init_params(X, y), X, y, 0.1)\n"
        "assert 'sympy' not in {k for k, v in sys.modules.items() if v is not None}\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_template_names_are_declared(sources):
    """Every name a module uses is a model quantity, a temporary, or one the template reserves."""
    for name, source in sources.items():
        model_side = {n.python for n in model_names(derive_named(name).model)}
        tree = ast.parse(source)
        # the argument checks' locals live in their own scopes, where no model name goes
        tree.body = [n for n in tree.body if not (isinstance(n, ast.FunctionDef) and n.name in ARGUMENT_CHECKS)]
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        used |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args}
        used |= set(functions(source))
        temporaries = {u for u in used if u[0] == "t" and u[1:].isdigit()}
        stray = used - model_side - temporaries - TEMPLATE_NAMES - set(dir(builtins))
        assert not stray, (name, stray)


def ruff_command() -> list[str] | None:
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    found = shutil.which("ruff")
    return [found] if found else None


@pytest.mark.skipif(ruff_command() is None, reason="ruff is not installed (pip install '.[test]' installs it)")
def test_generated_modules_pass_ruff(tmp_path, sources):
    for name, source in sources.items():
        (tmp_path / f"{name.replace('-', '_')}.py").write_text(source, encoding="utf-8")
    files = [*sorted(tmp_path.glob("*.py")), *sorted((REPO / "generated").glob("*.py"))]
    command = [*ruff_command(), "check", "--no-cache", "--config", str(REPO / "pyproject.toml"), *map(str, files)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_holds_structure_not_math():
    """The template's code lines (docstring prose and Jinja comments aside) hold no formula, nor do the
    pieces it shares with the Numba template (templates/common/; *_doc.jinja are docstring paragraphs, prose)."""
    shared = sorted(p for p in (REPO / "templates" / "common").glob("*.jinja") if not p.name.endswith("_doc.jinja"))
    template = "".join(path.read_text(encoding="utf-8") for path in [REPO / "templates" / NUMPY_TEMPLATE, *shared])
    template = re.sub(r"\{#.*?#\}", "", template, flags=re.S)
    template = re.sub(r'\{% include "[^"]*" %\}', "", template)  # a path, not a division
    # The block loop's helper does index arithmetic over rows (block sizes), never a formula of a model.
    helper = re.search(r"^def _blockwise\(.*?(?=^def |^\{)", template, flags=re.S | re.M).group(0)
    helper_code = re.sub(r'""".*?"""', "", helper, flags=re.S)
    assert "for start in range(" in helper_code
    for math in ("exp", "log", "tanh", "mean", " @ ", "sum(", "sigmoid"):
        assert math not in helper_code, math
    template = template.replace(helper, "")
    code, in_docstring = [], False
    for line in template.splitlines():
        quotes = line.count('"""')
        if not in_docstring and not quotes:
            code.append(line)
        in_docstring ^= quotes % 2 == 1
    # an error message's prose ("expected", "a/b") is no formula: string literals go, their {fields} stay
    code = re.sub(r"""f?(["'])(?:(?!\1).)*\1""", lambda m: " ".join(re.findall(r"\{[^{}]*\}", m.group(0))),
                  "\n".join(code))
    assert "def update(" in code and "grads = _gradient(" in code
    for math in ("exp", "log", "tanh", "mean", " @ ", "sum(", "**", "sigmoid", "- lr", "-lr", "1 -", "/"):
        assert math not in code, math


# ---------------------------------------------------------------------------------------------
# Finding the templates
# ---------------------------------------------------------------------------------------------

def copy_template(folder: Path) -> None:
    target = folder / NUMPY_TEMPLATE
    target.parent.mkdir(parents=True)
    shutil.copy(REPO / "templates" / NUMPY_TEMPLATE, target)


def test_templates_inside_the_package_are_found(tmp_path):
    """The wheel layout: site-packages/symgrad/templates/numpy/…"""
    package = tmp_path / "site-packages" / "symgrad"
    copy_template(package / "templates")
    assert template_dirs(package) == [package / "templates"]
    assert environment(package).get_template(NUMPY_TEMPLATE).filename.startswith(str(package))


def test_templates_beside_the_package_are_the_fallback(tmp_path):
    """A checkout or an editable install: repo/symgrad and repo/templates."""
    package = tmp_path / "repo" / "symgrad"
    package.mkdir(parents=True)
    copy_template(tmp_path / "repo" / "templates")
    assert template_dirs(package) == [tmp_path / "repo" / "templates"]
    assert environment(package).get_template(NUMPY_TEMPLATE).filename.startswith(str(tmp_path / "repo" / "templates"))


def test_package_templates_come_first(tmp_path):
    package = tmp_path / "symgrad"
    copy_template(package / "templates")
    copy_template(tmp_path / "templates")
    assert template_dirs(package) == [package / "templates", tmp_path / "templates"]


def test_missing_templates_are_a_one_line_error(tmp_path):
    package = tmp_path / "symgrad"
    package.mkdir()
    with pytest.raises(OutputError, match="cannot find symgrad's templates"):
        environment(package)


def test_this_checkout_finds_its_templates():
    assert REPO / "templates" in template_dirs() or Path(symgrad.__file__).parent / "templates" in template_dirs()


def _installed_distribution():
    try:
        distribution = importlib.metadata.distribution("symgrad")
    except importlib.metadata.PackageNotFoundError:
        return None
    return distribution


@pytest.mark.skipif(_installed_distribution() is None, reason="symgrad is not installed as a distribution")
def test_installed_distribution_ships_the_templates():
    distribution = _installed_distribution()
    direct = distribution.read_text("direct_url.json")
    if direct and json.loads(direct).get("dir_info", {}).get("editable"):
        pytest.skip("symgrad is installed in editable mode, which reads the templates from the checkout")
    files = {str(f).replace("\\", "/") for f in distribution.files or []}
    assert f"symgrad/templates/{NUMPY_TEMPLATE}" in files


@pytest.mark.skipif(importlib.util.find_spec("hatchling") is None, reason="hatchling is not installed")
def test_a_built_wheel_generates_from_anywhere(tmp_path):
    """Build the wheel, unpack it away from the checkout, and generate from there: same bytes."""
    build = subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path / "dist")],
                           cwd=REPO, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert f"symgrad/templates/{NUMPY_TEMPLATE}" in archive.namelist()
        assert "symgrad/templates/common/update.py.jinja" in archive.namelist()  # what both templates include
        archive.extractall(tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import symgrad, symgrad.codegen as c; "
        "print(symgrad.__file__); print(c.generate_source('two-weight-chain'), end='\\0'); "
        "print(c.generate_source('two-weight-chain', 'numba'), end='')"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "", "PYTHONHASHSEED": "0"})
    assert result.returncode == 0, result.stderr
    location, _, sources = result.stdout.partition("\n")
    assert location.startswith(str(tmp_path / "site"))
    numpy_source, numba_source = sources.split("\0")
    assert numpy_source == generate_source("two-weight-chain")
    assert numba_source == generate_source("two-weight-chain", "numba")


def test_the_issue_s_models_are_generated_and_the_others_are_not():
    names = generatable_names()
    assert set(ISSUE_MODELS) <= set(names)
    assert "sigmoid" not in names and "two-weight-chain-abstract" not in names


@pytest.mark.parametrize("path", sorted(p for p in (REPO / "generated").glob("*.py")
                                         if not p.stem.endswith(("_numba", "_torch"))), ids=lambda p: p.stem)
def test_a_label_that_would_broadcast_is_refused(path):
    """y of shape (N, 1), or one label for N samples, would broadcast against the predictions without an error
    and give a wrong loss; each NumPy module refuses it in one line (the Numba modules: test_codegen_numba.py;
    the PyTorch ones: test_codegen_torch.py)."""
    spec = importlib.util.spec_from_file_location(f"label_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    one_hot = any("C" in dims for dims in module.PARAMS.values())
    X = np.ones((4, 3)) if any(module.PARAMS.values()) else np.ones(4)
    y = np.eye(3)[[0, 1, 2, 0]] if one_hot else np.array([0.0, 1.0, 1.0, 0.0])
    params = module.init_params(X, y)
    assert np.isfinite(module.loss(params, X, y))
    wrong = [y[:, 0], y[:, :1], y[:1], y[:3]] if one_hot else [y[:, None], y[:1], y[:3]]
    for label in wrong:
        for function in (module.loss, module.gradient, module.loss_and_gradient):
            with pytest.raises(ValueError, match=re.escape(f"has shape {label.shape}; expected (N,")):
                function(params, X, label)
        with pytest.raises(ValueError, match=re.escape(f"has shape {label.shape}; expected (N,")):
            module.update(params, X, label, 0.1)


# ---------------------------------------------------------------------------------------------
# A model's text stays text (issue 22)
# ---------------------------------------------------------------------------------------------

#: Every character, surrogates and controls too, and more often the ones that mean something in a docstring.
ANY_CHARACTER = st.one_of(st.sampled_from(list('"\\\'\n\r\t\x00\x0c\x85\u2028\u2029\u202e{}Nxu ')),
                          st.characters(blacklist_categories=()))
FUZZ_TEXT = st.text(ANY_CHARACTER, max_size=40)


@pytest.fixture(scope="module")
def chain_derivation():
    return derive_named("two-weight-chain", verify=False)


def without_module_docstring(source: str) -> str:
    """The module's syntax tree with its docstring emptied: what a model's text must leave unchanged."""
    tree = ast.parse(source)
    tree.body[0].value.value = ""
    return ast.dump(tree)


_PLAIN_SOURCES: dict[str, str] = {}


def plain_chain_source(chain_derivation, target: str) -> str:
    """The chain's module with a plain description and path, rendered once per target for every example."""
    if target not in _PLAIN_SOURCES:
        _PLAIN_SOURCES[target] = derivation_source(chain_derivation, "net", regenerate=regenerate_option("net.toml"),
                                                   target=target)
    return _PLAIN_SOURCES[target]


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(description=FUZZ_TEXT, path=FUZZ_TEXT)
def test_any_description_and_path_stay_in_the_docstring(chain_derivation, description, path):
    """Whatever the description and the model file's path hold, each module compiles without a warning, its
    docstring holds them (whitespace aside: the description is wrapped), and the rest of the module is the
    same code as with a plain description: nothing got out of the docstring."""
    model = dataclasses.replace(chain_derivation.model, description=description)
    derivation = dataclasses.replace(chain_derivation, model=model)
    for target in ("numpy", "numba"):
        source = derivation_source(derivation, "net", regenerate=regenerate_option(path), target=target)
        plain = plain_chain_source(chain_derivation, target)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compile(source, "fuzzed", "exec")
        assert without_module_docstring(source) == without_module_docstring(plain)
        docstring = "".join(ast.get_docstring(ast.parse(source)).split())
        assert "".join(description.split()) in docstring
        assert "".join(shlex.quote(path).split()) in docstring


@pytest.mark.parametrize(("text", "written"), [
    ("Plain: nothing to escape, (N, k), y*, 'quoted'", "Plain: nothing to escape, (N, k), y*, 'quoted'"),
    ('a "word" in quotes', 'a "word" in quotes'),
    ('"""', '\\"\\"\\"'),
    ('"at both ends"', '\\"at both ends\\"'),
    ('two "" quotes', 'two \\"\\" quotes'),
    ("back\\slash \\N{", "back\\\\slash \\\\N{"),
    ("lines\nand\ttabs", "lines\nand\ttabs"),
    ("NUL\x00 CR\r LS\u2028 RLO\u202e", "NUL\\x00 CR\\r LS\\u2028 RLO\\u202e"),
    ("\udce9", "\\udce9"),
])
def test_docstring_text(text, written):
    assert docstring_text(text) == written
    assert ast.literal_eval(f'"""{written}"""') == text


def test_comment_text_is_one_line():
    assert comment_text("σ(z1)") == "σ(z1)"
    assert comment_text("a\nimport os\r") == "a\\nimport os\\r"


# ---------------------------------------------------------------------------------------------
# What each module says about its arguments and its limits (issue 22)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(p for p in (REPO / "generated").glob("*.py") if not p.stem.endswith("_torch")),
                         ids=lambda p: p.stem)
def test_the_module_docstring_states_the_checks_and_the_limit_of_the_sums(path):
    """Each mean is a sum divided by N: logistic regression's gradient at X = 1e308 (finite) is inf, because the
    sum overflows first.  The modules say so, with the remedy, rather than scale every sum in their hot loops."""
    header = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    flat = " ".join(header.split())
    assert "Every function checks its arguments first and refuses, in one line" in flat
    assert "a sum past the largest float (1.8e308 in float64, 3.4e38 in float32) is inf" in flat
    assert "scale them first" in flat


def test_a_size_named_n_is_refused(capsys, tmp_path):
    """N is the number of samples in every shape the module checks and states: a model's size named N would
    be checked against the number of samples."""
    from symgrad.cli import main

    model_file = tmp_path / "mlp_n.toml"
    model_file.write_text((REPO / "docs/examples/mlp.toml").read_text().replace('i = "m"', 'i = "N"'))
    assert main(["generate", "--model-file", str(model_file), "-o", str(tmp_path / "mlp_n.py")]) == 2
    err = capsys.readouterr().err
    assert err == ("symgrad: error: cannot generate mlp: the dimension 'N' would be named 'N', which is the number "
                   "of samples in the module's shapes (N,) and (N, k)\n")
    assert not (tmp_path / "mlp_n.py").exists()
