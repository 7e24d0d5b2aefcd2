"""The generated modules of the layered models: mlp, mlp-shared-bias, softmax-regression, mlp-softmax.

Each module's ``gradient`` is held against three others: central differences of its own ``loss``,
the derivation's per-sample gradient evaluated by SymPy (index by index, sums written out), and
backpropagation written by hand in NumPy below (independent of the derivation and the generator).
Then: the softmax loss stays finite and exact at logits of ±1000, float32 stays float32, the code
does not depend on the sizes (the same code for k = 2 and k = 1024), and what the backend does not
lower is refused in one line.

Each model is tested through its module in generated/ and its derivation by the engine; the tests
of code size derive the models again with sizes made numbers.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import itertools
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from symgrad.catalogue.models import derive_named, lookup
from symgrad.codegen.array_nodes import MatrixProduct, Transposed
from symgrad.codegen.lower import lower, why_not_generated
from symgrad.codegen.pipeline import derivation_source, module_name
from symgrad.codegen.printer import SymgradNumPyPrinter
from symgrad.derivation.derive import derive
from symgrad.derivation.steps import Result
from symgrad.errors import UsageError
from symgrad.model.functions import ACTIVATIONS, LOSSES
from symgrad.model.graph import Model, Node, Partial

REPO = Path(__file__).resolve().parent.parent
#: The argument checks every module defines (templates/common/arguments.py.jinja).
ARGUMENT_CHECKS = set(re.findall(r"^def (\w+)\(", (REPO / "templates/common/arguments.py.jinja").read_text(), re.M))
LAYERED = ["mlp", "mlp-shared-bias", "softmax-regression", "mlp-softmax"]


def model_of(name: str) -> Model:
    entry, options = lookup(name)
    return entry.build(**options)


def derivation_for(name: str):
    """The engine's derivation (unproven: test_core_layers.py and the docs tests prove it)."""
    return derive_named(name, verify=False)
SOFTMAX = {"softmax-regression", "mlp-softmax"}


def load_source(source: str, folder: Path, stem: str):
    path = folder / f"{stem}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"layered_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: Each layered model's NumPy module and its Numba module (``name:numba``), held to the same tests.
MODULES = [*LAYERED, *(f"{name}:numba" for name in LAYERED)]
SOFTMAX_MODULES = [*sorted(SOFTMAX), *(f"{name}:numba" for name in sorted(SOFTMAX))]


def base(key: str) -> str:
    """The model a module key is about: ``mlp:numba`` → ``mlp``."""
    return key.partition(":")[0]


def load_generated(stem: str):
    """A module of generated/ under its own name: a Numba module caches its compiled loops beside it, for every
    test process (and the next run) to load rather than compile again."""
    spec = importlib.util.spec_from_file_location(stem, REPO / "generated" / f"{stem}.py")
    module = sys.modules[stem] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """key → (module, derivation, source): each module in generated/ and the engine's derivation."""
    folder = tmp_path_factory.mktemp("layered")
    result = {}
    for name in LAYERED:
        source = (REPO / "generated" / f"{module_name(name)}.py").read_text(encoding="utf-8")
        derivation = derivation_for(name)
        result[name] = (load_source(source, folder, module_name(name)), derivation, source)
        stem = module_name(name, "numba")
        result[f"{name}:numba"] = (load_generated(stem), derivation, (REPO / "generated" / f"{stem}.py").read_text())
    return result


# ---------------------------------------------------------------------------------------------
# Points
# ---------------------------------------------------------------------------------------------

def init(module, X, Y, rng, hidden):
    options = {"hidden": hidden} if "hidden" in inspect.signature(module.init_params).parameters else {}
    return module.init_params(X, Y, rng=rng, **options)


def point(name: str, module, seed: int, n: int = 5, m: int = 3, k: int = 4, classes: int = 3, scale: float = 1.0):
    """Random data and parameters: X (n, m), a 0/1 or one-hot label, every parameter entry ~ N(0, scale²)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m))
    if name in SOFTMAX:
        Y = np.eye(classes)[rng.integers(0, classes, size=n)]
    else:
        Y = rng.integers(0, 2, size=n).astype(float)
    shapes = {key: np.shape(value) for key, value in init(module, X, Y, seed, k).items()}
    params = {key: rng.normal(scale=scale, size=shape) for key, shape in shapes.items()}
    return {key: (value if value.shape else float(value)) for key, value in params.items()}, X, Y


def central_differences(module, params: dict, X, Y, step: float = 1e-6) -> dict:
    """∂loss/∂θ for every parameter entry θ, by central differences of the module's own loss."""
    result = {}
    for key, value in params.items():
        value = np.asarray(value, dtype=float)
        estimate = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            moved = []
            for sign in (1.0, -1.0):
                shifted = {k: np.array(v, dtype=float) for k, v in params.items()}
                h = step * max(1.0, abs(value[index]))
                shifted[key][index] += sign * h
                moved.append(float(module.loss(shifted, X, Y)))
            estimate[index] = (moved[0] - moved[1]) / (2 * h)
        result[key] = estimate
    return result


# ---------------------------------------------------------------------------------------------
# The derivation, evaluated by SymPy sample by sample
# ---------------------------------------------------------------------------------------------

def entries(base: sp.Basic, array) -> dict:
    """{x[1]: X[0], …} for an indexed quantity's array (1-based indices, as in the derivation)."""
    array = np.asarray(array, dtype=float)
    if not array.shape:
        return {base: sp.Float(float(array), 30)}
    return {base[tuple(i + 1 for i in index)]: sp.Float(float(array[index]), 30) for index in np.ndindex(array.shape)}


def evaluate(expr: sp.Expr, sizes: dict, values: dict) -> sp.Float:
    """``expr`` with the sizes fixed, its sums written out and every quantity replaced by its number."""
    expr = expr.xreplace(sizes).doit().xreplace(values).rewrite(sp.exp)
    number = sp.N(expr, 30)
    assert number.is_number, f"left over: {number.free_symbols}"
    return number


def derived_gradient(derivation, params: dict, X, Y) -> dict:
    """The mean over the samples of ``derivation.gradient(param)``, each entry evaluated by SymPy."""
    model = derivation.model
    arrays = {model.inputs[0]: X[0], model.label: np.asarray(Y)[0], **{p: params[_key(p)] for p in model.params}}
    sizes = {}
    for quantity, array in arrays.items():
        for index, length in zip(getattr(quantity, "indices", ()), np.shape(array), strict=True):
            sizes[model.index_ranges[index][1]] = sp.Integer(length)
    totals = {_key(p): np.zeros(np.shape(params[_key(p)])) for p in model.params}
    for n in range(len(X)):
        values = {}
        for quantity, array in ((model.inputs[0], X[n]), (model.label, np.asarray(Y)[n])):
            values.update(entries(_base(quantity), array))
        for param in model.params:
            values.update(entries(_base(param), params[_key(param)]))
        for node in model.forward_nodes:
            for unit in _units(node.symbol, sizes, model):
                symbol = node.symbol.xreplace(unit)
                values[symbol] = evaluate(node.value.xreplace(unit), sizes, values)
        for param in model.params:
            for unit in _units(param, sizes, model):
                place = tuple(int(unit[i]) - 1 for i in getattr(param, "indices", ()))
                totals[_key(param)][place] += float(evaluate(derivation.gradient(param).xreplace(unit), sizes, values))
    return {key: total / len(X) for key, total in totals.items()}


def _base(quantity):
    return quantity.base if isinstance(quantity, sp.Indexed) else quantity


def _key(param) -> str:
    return str(_base(param))


def _units(quantity, sizes: dict, model: Model):
    """Every assignment of numbers to the indices of ``quantity``: {j: 1}, {j: 2}, …"""
    indices = getattr(quantity, "indices", ())
    ranges = [range(1, int(sizes[model.index_ranges[i][1]]) + 1) for i in indices]
    for combination in itertools.product(*ranges):
        yield dict(zip(indices, map(sp.Integer, combination), strict=True))


# ---------------------------------------------------------------------------------------------
# Backpropagation by hand, independent of symgrad
# ---------------------------------------------------------------------------------------------

def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def softmax_rows(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=1, keepdims=True), shifted - np.log(exps.sum(axis=1, keepdims=True))


def mlp_by_hand(params, X, y):
    """Binary cross-entropy on σ(σ(X w + b) v + c), and its gradient by reverse-mode backpropagation."""
    w, b, v, c = (np.asarray(params[key], dtype=float) for key in ("w", "b", "v", "c"))
    H = sigmoid(X @ w + b)
    p = sigmoid(H @ v + c)
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    d_u = (p - y) / len(X)  # ∂loss/∂u per sample, the mean's 1/N included
    d_z = np.outer(d_u, v) * H * (1 - H)
    d_b = d_z.sum(axis=0) if b.shape else d_z.sum()
    return loss, {"v": H.T @ d_u, "c": d_u.sum(), "w": X.T @ d_z, "b": d_b}


def softmax_regression_by_hand(params, X, Y):
    w, b = (np.asarray(params[key], dtype=float) for key in ("w", "b"))
    P, log_P = softmax_rows(X @ w + b)
    d_z = (P - Y) / len(X)
    return -np.mean(np.sum(Y * log_P, axis=1)), {"w": X.T @ d_z, "b": d_z.sum(axis=0)}


def mlp_softmax_by_hand(params, X, Y):
    w, b, v, c = (np.asarray(params[key], dtype=float) for key in ("w", "b", "v", "c"))
    H = sigmoid(X @ w + b)
    P, log_P = softmax_rows(H @ v + c)
    d_u = (P - Y) / len(X)
    d_z = (d_u @ v.T) * H * (1 - H)
    return -np.mean(np.sum(Y * log_P, axis=1)), {"v": H.T @ d_u, "c": d_u.sum(axis=0), "w": X.T @ d_z,
                                                 "b": d_z.sum(axis=0)}


BY_HAND = {"mlp": mlp_by_hand, "mlp-shared-bias": mlp_by_hand, "softmax-regression": softmax_regression_by_hand,
           "mlp-softmax": mlp_softmax_by_hand}


def close(got: dict, expected: dict, rtol: float, atol: float) -> None:
    assert list(got) == list(expected) or set(got) == set(expected)
    for key in expected:
        np.testing.assert_allclose(np.asarray(got[key], dtype=float), expected[key], rtol=rtol, atol=atol, err_msg=key)


# ---------------------------------------------------------------------------------------------
# Three-way agreement
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("seed", range(6))
def test_gradient_matches_central_differences(built, name, seed):
    module = built[name][0]
    rng = np.random.default_rng(100 + seed)
    sizes = {"n": int(rng.integers(1, 7)), "m": int(rng.integers(1, 5)), "k": int(rng.integers(1, 6)),
             "classes": int(rng.integers(2, 5))}
    params, X, Y = point(base(name), module, seed, **sizes, scale=1.5)
    close(module.gradient(params, X, Y), central_differences(module, params, X, Y), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", MODULES)
def test_gradient_matches_the_derivation_evaluated_by_sympy(built, name):
    module, derivation, _ = built[name]
    params, X, Y = point(base(name), module, seed=7, n=3, m=2, k=3, classes=3)
    close(module.gradient(params, X, Y), derived_gradient(derivation, params, X, Y), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("seed", range(4))
def test_loss_and_gradient_match_backpropagation_by_hand(built, name, seed):
    module = built[name][0]
    params, X, Y = point(base(name), module, seed, n=7, m=4, k=5, classes=4)
    loss, gradient = BY_HAND[base(name)](params, X, Y)
    assert float(module.loss(params, X, Y)) == pytest.approx(loss, rel=1e-12, abs=1e-14)
    close(module.gradient(params, X, Y), gradient, rtol=1e-10, atol=1e-14)
    both = module.loss_and_gradient(params, X, Y)
    assert both[0] == module.loss(params, X, Y)
    close(both[1], gradient, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", LAYERED)
def test_the_comparisons_can_fail(built, name):
    """A gradient entry off by 1e-4 relative is caught by all three references."""
    module, derivation, _ = built[name]
    params, X, Y = point(base(name), module, seed=3, n=3, m=2, k=3, classes=3)
    for key in params:
        wrong = {k: np.array(v, dtype=float) for k, v in module.gradient(params, X, Y).items()}
        wrong[key].flat[0] *= 1 + 1e-4
        for reference in (central_differences(module, params, X, Y), derived_gradient(derivation, params, X, Y),
                          BY_HAND[base(name)](params, X, Y)[1]):
            with pytest.raises(AssertionError):
                close(wrong, reference, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------------------
# Stability and dtypes
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SOFTMAX_MODULES)
def test_softmax_loss_is_finite_and_exact_at_logits_of_1000(built, name):
    module = built[name][0]
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    Y = np.eye(3)[[1, 2, 0]]  # the true class has logit -1000, 0 and -1000
    params, _, _ = point(base(name), module, seed=0, n=3, m=2, k=2, classes=3)
    if base(name) == "softmax-regression":
        params = {"w": np.array([[1000.0, -1000.0, 0.0], [-1000.0, 0.0, 1000.0]]), "b": np.zeros(3)}
    else:  # saturated hidden units (h = 1, 0) and output weights of 1000
        params = {"v": np.array([[1000.0, -1000.0, 0.0], [0.0, 1000.0, -1000.0]]), "c": np.zeros(3),
                  "w": np.array([[1000.0, -1000.0], [1000.0, 1000.0]]), "b": np.zeros(2)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            loss, gradient = module.loss_and_gradient(params, X, Y)
    assert np.isfinite(loss) and all(np.all(np.isfinite(g)) for g in gradient.values())
    expected_loss, expected_gradient = BY_HAND[base(name)](params, X, Y)
    assert expected_loss > 500  # the test means something: a log of an underflowed 0 would be inf
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    close(gradient, expected_gradient, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", [key for key in MODULES if base(key) not in SOFTMAX])
def test_sigmoid_models_stay_finite_when_saturated(built, name):
    module = built[name][0]
    params, X, Y = point(base(name), module, seed=1, n=4, m=3, k=3, scale=1000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            loss, gradient = module.loss_and_gradient(params, X, Y)
    assert np.isfinite(loss) and loss > 10
    assert all(np.all(np.isfinite(g)) for g in gradient.values())


@pytest.mark.parametrize("name", MODULES)
def test_float32_stays_float32(built, name):
    module = built[name][0]
    params, X, Y = point(base(name), module, seed=2)
    X32, Y32 = X.astype(np.float32), np.asarray(Y, dtype=np.float32)
    params32 = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
    assert module.forward(params32, X32).dtype == np.float32
    assert np.asarray(module.loss(params32, X32, Y32)).dtype == np.float32
    for outputs in (module.gradient(params32, X32, Y32), module.update(params32, X32, Y32, 0.1),
                    init(module, X32, Y32, 0, 3)):
        assert {k: np.asarray(v).dtype for k, v in outputs.items()} == {k: np.dtype(np.float32) for k in outputs}
    close(module.gradient(params32, X32, Y32), BY_HAND[base(name)](params, X, Y)[1], rtol=2e-3, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# The interface and the code
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", MODULES)
def test_interface(built, name):
    module = built[name][0]
    params, X, Y = point(base(name), module, seed=4, n=6, m=3, k=5, classes=4)
    made = init(module, X, Y, None, 5)
    assert list(made) == list(module.PARAMS) == list(params)
    sizes = {"m": 3, "k": 5, "C": 4}
    for key, shape in module.PARAMS.items():
        assert np.shape(made[key]) == tuple(sizes[d] for d in shape)
    if "hidden" in inspect.signature(module.init_params).parameters:
        default = inspect.signature(module.init_params).parameters["hidden"].default
        assert np.shape(module.init_params(X, Y)["w"]) == (3, default)
    np.testing.assert_array_equal(made["w"], init(module, X, Y, None, 5)["w"])  # rng=None is seed 0
    prediction = module.forward(params, X)
    assert prediction.shape == ((6, 4) if base(name) in SOFTMAX else (6,))
    if base(name) in SOFTMAX:
        np.testing.assert_allclose(prediction.sum(axis=1), 1.0)
    new = module.update(params, X, Y, 0.5)
    gradient = module.gradient(params, X, Y)
    for key in params:
        np.testing.assert_allclose(new[key], np.asarray(params[key]) - 0.5 * gradient[key], rtol=1e-15, atol=0)


def test_mlp_softmax_learns_three_blobs(built):
    module = built["mlp-softmax"][0]
    rng = np.random.default_rng(11)
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    labels = rng.integers(0, 3, size=300)
    X = centres[labels] + 0.5 * rng.normal(size=(300, 2))
    Y = np.eye(3)[labels]
    params = module.init_params(X, Y, rng=1, hidden=8)
    losses = []
    for _ in range(300):
        losses.append(module.loss(params, X, Y))
        params = module.update(params, X, Y, 2.0)
    assert losses[-1] < 0.3 * losses[0]
    assert np.mean(module.forward(params, X).argmax(axis=1) == labels) > 0.95


def test_contractions_are_matrix_products_and_there_are_no_loops(built):
    sources = {name: built[name][2] for name in LAYERED}
    assert "Z = b + X @ w" in sources["mlp"] and "u = c + H @ v" in sources["mlp"]
    assert "X.T @ " in sources["mlp"] and "U = c + H @ v" in sources["mlp-softmax"]
    assert "@ v.T" in sources["mlp-softmax"]  # Σ_l v_jl (p_l - y_l): D @ V.T
    for name in SOFTMAX:
        assert "_logsumexp(" in sources[name] and "def _logsumexp(" in sources[name]
    # the template's block loop (_blockwise) and the argument checks' loops over an array's axes are not the model's
    template_loops = {"_blockwise", *ARGUMENT_CHECKS}
    for name, source in sources.items():
        for function in ast.parse(source).body:
            if isinstance(function, ast.FunctionDef) and function.name not in template_loops:
                for node in ast.walk(function):
                    assert not isinstance(node, (ast.For, ast.While, ast.ListComp, ast.GeneratorExp)), name
        imports = [a.name for n in ast.walk(ast.parse(source)) if isinstance(n, (ast.Import, ast.ImportFrom))
                   for a in n.names]
        assert imports == ["numpy"], name


def test_matrix_products_print_with_the_parentheses_they_need():
    """@ binds like * and from the left, so a product on its right needs parentheses and one on its left does not."""
    a, b, c = (sp.Symbol(s) for s in "abc")
    printer = SymgradNumPyPrinter()
    cases = {
        MatrixProduct(a, b * c): "a @ (b*c)",
        MatrixProduct(a * b, c): "a*b @ c",
        a * MatrixProduct(b, c): "a*(b @ c)",
        a + MatrixProduct(b, c): "a + b @ c",
        MatrixProduct(Transposed(a + b), c): "(a + b).T @ c",
    }
    rng = np.random.default_rng(0)
    values = {"a": rng.normal(size=(3, 3)), "b": rng.normal(size=(3, 3)), "c": rng.normal(size=(3, 3))}
    A, B, C = values["a"], values["b"], values["c"]
    expected = [A @ (B * C), (A * B) @ C, A * (B @ C), A + B @ C, (A + B).T @ C]
    for (expr, code), value in zip(cases.items(), expected, strict=True):
        assert printer.doprint(expr) == code
        np.testing.assert_allclose(eval(code, {"np": np}, values), value)  # noqa: S307 - our own printed code


def load_flatness():
    spec = importlib.util.spec_from_file_location("flatness", REPO / "benchmarks" / "flatness.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("name", "size"), [("mlp", "k"), ("mlp-shared-bias", "k"), ("mlp-softmax", "k"),
                                            ("mlp-softmax", "C"), ("softmax-regression", "C"),
                                            ("softmax-regression", "m")])
def test_the_code_does_not_grow_with_the_sizes(name, size):
    """With a size made a number (37, 512, 1024) the code is the same but for the digits of that number."""
    flatness = load_flatness()
    codes = []
    for value in (37, 512, 1024):
        model = flatness.with_sizes(model_of(name), {size: value})
        code = flatness.code_only(derivation_source(derive(model, verify=False), name))
        codes.append(re.sub(rf"\b{value}\b", "SIZE", code))
    assert codes[0] == codes[1] == codes[2]
    assert len(codes[0]) < 9000  # a few dozen lines of code and the argument checks, whatever the size


def test_the_flatness_script_runs(capsys):
    assert load_flatness().main(["mlp", "--max", "2"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row.split()[0] for row in rows] == ["symbolic", "1", "2"]
    code_sizes = {row.split()[-1] for row in rows[1:]}
    assert len(code_sizes) == 1  # k = 1 and k = 2 give code of one length


# ---------------------------------------------------------------------------------------------
# What is lowered and what is refused
# ---------------------------------------------------------------------------------------------

def test_the_layered_models_are_generatable():
    for name in LAYERED:
        assert why_not_generated(model_of(name)) is None, name


def test_one_lowering_serves_every_model():
    """A scalar model, a vector one and a layered one go through the same ``lower`` into one vocabulary."""
    from symgrad.codegen import array_nodes

    members = [getattr(array_nodes, name) for name in dir(array_nodes)]
    vocabulary = {m for m in members if isinstance(m, type) and issubclass(m, sp.Function)}
    for name in ("two-weight-chain", "logistic-regression", "mlp"):
        plan = lower(derivation_for(name), name)
        outputs = [plan.loss, *(g for _, g in plan.gradients), *(a.expr for a in plan.assignments)]
        used = {type(f) for o in outputs for f in sp.sympify(o).atoms(sp.Function) if type(f).__module__ != "sympy"}
        foreign = {t for t in used if "symgrad.codegen" in t.__module__ and t not in vocabulary}
        assert not foreign, (name, foreign)
        assert plan.loss.has(array_nodes.BatchMean), name  # every loss is a mean over the samples, in one node


def _two_hidden_layers(order_ok: bool = True) -> Model:
    """x → 𝑘 units → K units → σ output: two sizes that the data does not fix."""
    i, j, q = sp.symbols("i j q", integer=True, positive=True)
    m, k, K = sp.symbols("m k K", integer=True, positive=True)
    x, w, z, h, v, g, a = (sp.IndexedBase(s) for s in ("x", "w", "z", "h", "v", "g", "a"))
    u, p, y, loss, eta = sp.symbols("u p y L eta")
    weight = w[i, j] if order_ok else w[j, i]
    nodes = (
        Node(z[j], sp.Sum(weight * x[i], (i, 1, m))),
        Node(h[j], ACTIVATIONS["sigmoid"](z[j])),
        Node(g[q], sp.Sum(v[j, q] * h[j], (j, 1, k))),
        Node(u, sp.Sum(a[q] * g[q], (q, 1, K))),
        Node(p, ACTIVATIONS["sigmoid"](u)),
        Node(loss, LOSSES["cross-entropy"](p, y)),
    )
    return Model("two-layers", "Two hidden layers", (x[i],), y, (weight, v[j, q], a[q]), nodes, eta,
                 index_ranges={i: (1, m), j: (1, k), q: (1, K)})


def test_refusals_are_one_line():
    assert "more than one layer size" in why_not_generated(_two_hidden_layers())
    assert "out of the model's order" in why_not_generated(_two_hidden_layers(order_ok=False))


@pytest.mark.parametrize(("replacement", "message"), [
    (lambda g, j: g * sp.KroneckerDelta(j, 1), "KroneckerDelta"),
    (lambda g, j: g * sp.Symbol("mystery"), "mystery, which the forward pass does not compute"),
    (lambda g, j: g * sp.Derivative(sp.Symbol("p"), sp.Symbol("u")), "Derivative"),
    (lambda g, j: g.xreplace({j: sp.Symbol("q", integer=True)}), "free indices"),
    (lambda g, j: g.xreplace({j: sp.Integer(1)}), "picks out single units"),
])
def test_results_without_an_array_form_are_refused(replacement, message):
    derivation = derivation_for("mlp")  # a fresh one: this test spoils a result
    model = derivation.model
    j = next(i for i in model.index_ranges if i.name == "j")
    spoiled = derivation.results[0]
    derivation.results[0] = Result(spoiled.name, spoiled.kind, spoiled.lhs, replacement(spoiled.value, j), spoiled.form)
    assert isinstance(spoiled.lhs, Partial)
    with pytest.raises(UsageError, match=re.escape(message)) as raised:
        derivation_source(derivation, "mlp")
    assert "\n" not in str(raised.value) and str(raised.value).startswith("cannot generate mlp: ")
