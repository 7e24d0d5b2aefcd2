"""The Numba target: its modules' text (names, imports, no formula in the template), its ``_exp``, and its
results against the NumPy modules on data large enough to be cut into many runs.

The three-way agreement with the derivation and with central differences, the handout updates, z = ±1000
and dtypes are test_agreement.py's, which holds every module in generated/ of both targets to them.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symgrad.catalogue.models import derive_named
from symgrad.codegen import generatable_names, generate_source
from symgrad.codegen.lower import lower
from symgrad.codegen.names import NUMBA_TEMPLATE_NAMES, NUMBA_TEMPLATE_NUMBERED, model_names
from symgrad.codegen.render import NUMBA_TEMPLATE
from symgrad.codegen.unit_loops import NUMBERED, loop_names

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "generated"
#: The argument checks every module defines (templates/common/arguments.py.jinja).
ARGUMENT_CHECKS = set(re.findall(r"^def (\w+)\(", (REPO / "templates/common/arguments.py.jinja").read_text(), re.M))
#: Module-level helpers: each has its own scope, apart from the model's names.
HELPERS = {"_as", "_floating", "_mean", "_mean_row", "_chunks", "_exp", "_exp64", "_exp32", "_power_of_2_64",
           "_power_of_2_32", "_exp_for", "_sigmoid", "_heaviside", "_row_dot", "_add_row",
           "_block_dots", "_block_sum", "_block_rows", "_chunk_of", "_numba_threads", "_parallel", "_free_threads",
           "_ticks", "_total", "_total_row", *ARGUMENT_CHECKS}


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return {name: generate_source(name, "numba") for name in generatable_names("numba")}


def load(stem: str):
    spec = importlib.util.spec_from_file_location(stem, GENERATED / f"{stem}.py")
    module = sys.modules[stem] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_uncached(stem: str):
    """The module under another name, so that its loops are compiled afresh (and can be inspected), not loaded."""
    spec = importlib.util.spec_from_file_location(f"uncached_{stem}", GENERATED / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_model_with_a_numpy_module_has_a_numba_module():
    """The layered models' too (until issue 21 the numba target refused them)."""
    numpy_modules = {p.stem for p in GENERATED.glob("*.py") if not p.stem.endswith(("_numba", "_torch"))}
    assert {"mlp", "mlp_softmax", "softmax_regression"} <= numpy_modules
    assert {p.stem for p in GENERATED.glob("*_numba.py")} == {stem + "_numba" for stem in numpy_modules}


def test_imports(sources):
    for source in sources.values():
        tree = ast.parse(source)
        imports = [(a.name, a.asname) for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        uses_math = "math." in source.replace("import math", "")  # the exp helper's factorials
        assert imports == [("math", None)] * uses_math + [("os", None), ("sys", None), ("time", None),
                                                          ("numba", None), ("numpy", "np")]


def test_names_in_the_model_s_scope_are_declared(sources):
    """In the loops and wrappers, every name is a model quantity, a temporary, or one the template reserves
    (names.NUMBA_TEMPLATE_NAMES), so a model's names can never collide with the template's."""
    for name, source in sources.items():
        derivation = derive_named(name)
        model_side = {n.python for n in model_names(derivation.model)}
        loops = set(loop_names(lower(derivation, name).per_sample.ranges).values())  # _i, _j: a layered model's
        for function in ast.parse(source).body:
            if not isinstance(function, ast.FunctionDef) or function.name in HELPERS:
                continue
            used = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
            used |= {a.arg for a in function.args.args}
            reserved = {u for u in used if NUMBA_TEMPLATE_NUMBERED.fullmatch(u) or NUMBERED.fullmatch(u)
                        or (u[0] == "t" and u[1:].isdigit())} | loops
            stray = used - model_side - reserved - NUMBA_TEMPLATE_NAMES - set(dir(builtins)) - HELPERS
            stray -= {"_forward_values", "_forward_serial", "_forward_run"}
            stray -= {f"_{f}_{kind}" for f in ("loss", "gradient", "loss_and_gradient")
                      for kind in ("means", "serial", "run")}
            assert not stray, (name, function.name, stray)


def test_a_name_the_loops_use_is_refused_for_the_numba_target_only():
    """A weight named n generates a NumPy module, but not a Numba one, whose loop index is n."""
    import sympy as sp

    from symgrad.catalogue.models import two_weight_chain
    from symgrad.codegen.names import Name, check_names
    from symgrad.codegen.pipeline import derivation_source
    from symgrad.derivation.derive import derive
    from symgrad.errors import UsageError
    from symgrad.model.graph import Model, Node

    chain = two_weight_chain()
    w1, n = next(p for p in chain.params if p.name == "w_1"), sp.Symbol("n")
    renamed = Model(chain.name, chain.description, chain.inputs, chain.label,
                    tuple(n if p == w1 else p for p in chain.params),
                    tuple(Node(node.symbol, node.expr.xreplace({w1: n})) for node in chain.nodes),
                    chain.step_size, chain.notation, chain.vector_forms, chain.options)
    derivation = derive(renamed, verify=False)
    assert "z1 = n*x" in derivation_source(derivation, "net")
    with pytest.raises(UsageError, match="would be named 'n', which is a name the generated module uses itself"):
        derivation_source(derivation, "net", target="numba")
    for taken in ("chunk", "total0", "row_part3", "real"):
        check_names("net", [Name(taken, taken, "parameter", ())])  # the NumPy target's names allow them
        with pytest.raises(UsageError, match=f"would be named '{taken}'"):
            check_names("net", [Name(taken, taken, "parameter", ())], NUMBA_TEMPLATE_NAMES, NUMBA_TEMPLATE_NUMBERED)


def test_template_holds_structure_not_math():
    """Formulas arrive printed; the helpers' math comes from numba_helpers.py; the template only loops."""
    shared = sorted((REPO / "templates" / "common").glob("*.jinja"))
    template = "".join(path.read_text(encoding="utf-8") for path in [REPO / "templates" / NUMBA_TEMPLATE, *shared])
    template = re.sub(r"\{#.*?#\}", "", template, flags=re.S)
    template = re.sub(r'""".*?"""', "", template, flags=re.S)
    code = "\n".join(line for line in template.splitlines() if not line.lstrip().startswith("#"))
    for math in ("exp(", "log", "tanh", "sigmoid", "**", "- lr", "1 -", "1.0"):
        assert math not in code, math


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exp_is_within_two_units_in_the_last_place(dtype):
    """_exp in each precision, against e^u correctly rounded to it (NumPy's float64 exp, rounded, for float32)."""
    module = load("two_weight_chain_numba")
    import numba

    exps = numba.njit(lambda u: np.array([module._exp(v) for v in u]))
    top = np.log(np.finfo(dtype).max)
    u = np.concatenate([np.linspace(-1.1 * top, 1.1 * top, 200_001),
                        np.random.default_rng(1).normal(scale=5, size=50_000),
                        [0.0, -0.0, top - 0.01, top, top + 0.01, -top, -1.05 * top, np.inf, -np.inf]]).astype(dtype)
    with np.errstate(over="ignore", under="ignore"):
        expected = np.exp(u.astype(np.float64)).astype(dtype)
    got = exps(u)
    assert got.dtype == dtype
    normal = np.isfinite(expected) & (expected >= np.finfo(dtype).tiny)
    assert np.max(np.abs(got[normal] - expected[normal]) / expected[normal]) <= 2 * np.finfo(dtype).eps
    assert np.array_equal(got[~np.isfinite(expected)], expected[~np.isfinite(expected)])  # e^710 = inf
    subnormal = ~normal & np.isfinite(expected)
    assert subnormal.sum() > 100
    assert np.max(np.abs(got[subnormal] - expected[subnormal])) <= 2 * np.finfo(dtype).smallest_subnormal
    assert exps(np.array([0.0], dtype))[0] == 1.0
    assert np.isnan(exps(np.array([np.nan], dtype))[0])


def compiled_types(module, function: str, dtype) -> dict[str, object]:
    """The Numba types of the named variables (not the compiler's temporaries) in ``function``, compiled for
    ``dtype``."""
    import numba

    dispatcher = getattr(module, function)
    (result,) = [r for signature, r in dispatcher.overloads.items() if signature[0].dtype == numba.typeof(dtype(0))]
    typemap = result.type_annotation.typemap
    return {name.split(".")[0]: kind for name, kind in typemap.items() if not name.startswith(("$", "arg."))}


#: The compiled functions whose types are checked, each with one of its own variables (so that an empty typemap
#: cannot pass): the loops, and the block helpers where a module has them.
LOOPS = {"_forward_run": "n", "_forward_values": "team", "_loss_and_gradient_run": "total0", "_block_dots": "dot0",
         "_block_sum": "c0"}


def assert_computed_in_float32(fused, threaded: bool = True) -> None:
    """Every float the loops of ``fused`` computed for float32 data (forward, and loss_and_gradient, already
    called; forward on the threads too, unless not ``threaded``) is float32, but the float64 totals the sums'
    parts are added to."""
    import numba

    for function, own_variable in LOOPS.items():
        if function == "_forward_values" and not threaded:
            continue
        if not hasattr(fused, function):
            assert function.startswith("_block_") and not hasattr(fused, "_block_rows")
            continue
        types = compiled_types(fused, function, np.float32)
        floats = {name: kind for name, kind in types.items()
                  if isinstance(getattr(kind, "dtype", kind), numba.types.Float)}
        wide = {name for name, kind in floats.items() if getattr(kind, "dtype", kind) != numba.types.float32}
        assert wide == ({name for name in floats if re.fullmatch(r"total\d+", name)}), (function, wide)
        assert own_variable in types, function


#: The models whose sample holds vectors (a layer, a one-hot label): their loops run over the sample's units.
LAYERED = ("mlp", "mlp-shared-bias", "softmax-regression", "mlp-softmax")


def sample_data(model: str, samples: int, rng, dtype=np.float64, features: int = 7):
    """Data of the model's shapes: X (samples, features) or x (samples,), a 0/1 label or, for a softmax, a
    one-hot one; and init_params's options (4 hidden units)."""
    rows = "logistic" in model or model in LAYERED
    X = (rng.normal(size=(samples, features)) if rows else rng.normal(size=samples)).astype(dtype)
    if "softmax" in model:
        y = np.eye(3, dtype=dtype)[rng.integers(0, 3, size=samples)]
    else:
        y = (rng.random(samples) < 0.4).astype(dtype)
    return X, y, {"hidden": 4} if model.startswith("mlp") else {}


@pytest.mark.parametrize("model", generatable_names("numba"))
def test_float32_data_are_computed_in_float32(model):
    """Numba types a literal 1 or 0.5 as int64 or float64, and float32 with either is float64: unless each number
    is cast to the data's precision, a float32 loop runs in float64, on half as many samples an instruction."""
    stem = model.replace("-", "_")
    fused, whole = load_uncached(stem + "_numba"), load(stem)
    X, y, options = sample_data(model, 50, np.random.default_rng(0), np.float32)
    params = whole.init_params(X, y, **options)
    fused.forward(params, X)  # on the calling thread
    fused.forward(params, np.resize(X, (fused._CHUNK, *X.shape[1:])))  # and on the threads
    fused.loss_and_gradient(params, X, y)
    assert_computed_in_float32(fused)


#: Each Numba model, and for those with rows of features, 7 features (fewer than a float32 vector register's 16
#: lanes), 40 and 70 (more, with a remainder of 8 and 6 features after the vectorised part), taken four rows at a
#: time by _block_dots, and 100 (at least _LONG_ROW), taken one at a time: the block loops' eight-row sums run with
#: and without a remainder (N = 100 003 leaves a last block whose rows % 8 rows go one at a time).
ROW_WIDTHS = (7, 40, 70, 100)
#: Of the layered models, the one with the most kinds of loop (a hidden layer, a softmax) runs on the threads
#: here, in float64: each layered module's threaded loops take some ten seconds to compile for each dtype, and
#: they run the runs the serial loops run; every layered module is held to the NumPy module, in both dtypes,
#: on a few samples in test_codegen_layers.py.
MODEL_WIDTHS = [(model, width, dtype) for dtype in (np.float64, np.float32)
                for model in generatable_names("numba") if model not in LAYERED
                for width in (ROW_WIDTHS if "logistic" in model else (1,))] + [("mlp-softmax", 5, np.float64)]


@pytest.mark.parametrize(("model", "features", "dtype"), MODEL_WIDTHS)
def test_many_runs_agree_with_the_numpy_module(model, features, dtype):
    """N = 100 003 is cut into 24 runs of unequal length (and into blocks by the NumPy module)."""
    stem = model.replace("-", "_")
    fused, whole = load(stem + "_numba"), load(stem)
    samples = 100_003
    X, y, options = sample_data(model, samples, np.random.default_rng(5), dtype, features)
    params = whole.init_params(X, y, rng=2, **options)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(fused.forward(params, X), whole.forward(params, X), rtol=rtol)
    np.testing.assert_allclose(fused.loss(params, X, y), whole.loss(params, X, y), rtol=rtol)
    for key, value in whole.gradient(params, X, y).items():
        np.testing.assert_allclose(fused.gradient(params, X, y)[key], value, rtol=rtol * 10, atol=1e-12)
    # One loop for both, vectorised on its own, may add the same terms in another order: equal to rounding.
    fused_loss, fused_grads = fused.loss_and_gradient(params, X, y)
    np.testing.assert_allclose(fused_loss, fused.loss(params, X, y), rtol=8 * np.finfo(dtype).eps)
    for key, value in fused.gradient(params, X, y).items():
        np.testing.assert_allclose(fused_grads[key], value, rtol=64 * np.finfo(dtype).eps, atol=1e-300)


def test_a_layered_model_with_a_scalar_output_agrees_on_the_threads():
    """mlp's threaded loops: a scalar parameter's total (c) and one prediction per sample, which mlp-softmax's
    (above: matrices and a row of predictions per sample) do not have; 3,001 samples make 11 runs of 256."""
    fused, whole = load("mlp_numba"), load("mlp")
    X, y, options = sample_data("mlp", 3_001, np.random.default_rng(8), features=5)
    params = whole.init_params(X, y, rng=3, **options)
    assert len(X) >= fused._CHUNK
    np.testing.assert_allclose(fused.forward(params, X), whole.forward(params, X), rtol=1e-12)
    loss, gradient = fused.loss_and_gradient(params, X, y)
    expected_loss, expected = whole.loss_and_gradient(params, X, y)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    for key, value in expected.items():
        np.testing.assert_allclose(gradient[key], value, rtol=1e-10, atol=1e-15, err_msg=key)


def test_non_contiguous_and_integer_inputs_are_accepted():
    fused, whole = load("logistic_regression_numba"), load("logistic_regression")
    X = np.arange(60).reshape(10, 6)[:, ::2]  # integers, every other column
    y = np.array([0, 1] * 5)
    params = {"w": np.array([0.1, -0.2, 0.05])}
    np.testing.assert_allclose(fused.gradient(params, X, y)["w"], whole.gradient(params, X, y)["w"], rtol=1e-12)


def test_no_samples_give_nan_as_np_mean_does():
    fused = load("two_weight_chain_numba")
    grads = fused.gradient({"w1": 0.5, "w2": -0.3}, np.zeros(0), np.zeros(0))
    assert all(np.isnan(value) for value in grads.values())
    assert fused.forward({"w1": 0.5, "w2": -0.3}, np.zeros(0)).shape == (0,)


def test_loaded_under_another_name_it_runs_without_a_cache(tmp_path):
    """numba's cache finds a module again by its name: one loaded as "m" from a path must not write a cache
    that a later process cannot load, so it compiles in memory only."""
    source = GENERATED / "two_weight_chain_numba.py"
    copy = tmp_path / "chain_copy.py"
    copy.write_bytes(source.read_bytes())
    script = (
        "import importlib.util, sys\n"
        "import numpy as np\n"
        f"spec = importlib.util.spec_from_file_location('m', {str(copy)!r})\n"
        "m = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(m)\n"
        "assert not m._CACHE\n"
        "print(m.gradient({'w1': 0.5, 'w2': -0.3}, np.linspace(-1, 1, 9), np.full(9, 0.25))['w1'])\n"
    )
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert runs[0].stdout == runs[1].stdout
    assert not (tmp_path / "__pycache__").exists()


def test_imported_by_name_it_caches_its_loops_and_a_package_import_does_not_trip_on_them(tmp_path):
    """The second top-level import loads the loops from the cache the first wrote; importing the same file
    as pkg.chain_cached (a name the cache cannot find again) compiles in memory instead of failing."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "chain_cached.py").write_bytes((GENERATED / "two_weight_chain_numba.py").read_bytes())
    call = ("print(m._CACHE, m.gradient({'w1': 0.5, 'w2': -0.3}, np.linspace(-1, 1, 9), np.full(9, 0.25))['w1'], "
            "sum(m._gradient_serial.stats.cache_hits.values()))\n")
    top_level = "import numpy as np, chain_cached as m\n" + call
    runs = [subprocess.run([sys.executable, "-c", top_level], capture_output=True, text=True, cwd=package)
            for _ in range(2)]
    dotted = "import numpy as np, pkg.chain_cached as m\n" + call
    runs.append(subprocess.run([sys.executable, "-c", dotted], capture_output=True, text=True, cwd=tmp_path))
    for run in runs:
        assert run.returncode == 0, run.stderr
    (cached, first, hits_first), (_, second, hits_second), (dotted_cached, third, _) = (
        run.stdout.split() for run in runs)
    assert any((package / "__pycache__").glob("chain_cached*.nbi"))
    assert (cached, dotted_cached) == ("True", "False")
    assert first == second == third
    assert (hits_first, hits_second) == ("0", "1")  # compiled once, then read from the disk


#: The chain with every activation and loss the catalogue offers it: each derivation's Numba module agrees
#: with its NumPy module (tanh is np.tanh, ReLU's step is _heaviside, softplus is np.logaddexp in the loop).
CHAIN_VARIANTS = [{"activation": "tanh"}, {"activation": "relu"}, {"hidden_activation": "softplus"},
                  {"hidden_activation": "relu", "output_activation": "identity"},
                  {"hidden_activation": "tanh", "loss": "cross-entropy"}]


@pytest.mark.parametrize("options", CHAIN_VARIANTS)
def test_chain_variants_agree_with_their_numpy_module(tmp_path, options):
    from symgrad.codegen.pipeline import derivation_source

    derivation = derive_named("two-weight-chain", **options)
    modules = []
    for target in ("numpy", "numba"):
        path = tmp_path / f"variant_{target}.py"
        path.write_text(derivation_source(derivation, "two-weight-chain", target=target), encoding="utf-8")
        spec = importlib.util.spec_from_file_location(path.stem, path)  # not in sys.modules: compiled, not cached
        modules.append(importlib.util.module_from_spec(spec))
        spec.loader.exec_module(modules[-1])
    whole, fused = modules
    rng = np.random.default_rng(6)
    # z1 = 0: ReLU's step at 0.  Fewer samples than _CHUNK: the loops on the calling thread, which the threads'
    # runs call in turn (test_many_runs_agree_with_the_numpy_module); the threaded kernels would double the compile.
    x = np.concatenate([rng.normal(scale=2, size=4_000), [0.0]])
    assert len(x) < fused._CHUNK
    y = rng.uniform(size=len(x))
    params = {"w2": 0.7, "w1": -1.2}
    assert fused.loss(params, x, y) == pytest.approx(whole.loss(params, x, y), rel=1e-12)
    expected = whole.gradient(params, x, y)
    for key, value in fused.gradient(params, x, y).items():
        assert value == pytest.approx(expected[key], rel=1e-10, abs=1e-15), key
    np.testing.assert_allclose(fused.forward(params, x), whole.forward(params, x), rtol=1e-13, atol=1e-300)
    # float32 data: the same values to float32's precision, computed in float32 (relu's and softplus's 0 too)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    np.testing.assert_allclose(fused.forward(params, x32), whole.forward(params, x), rtol=1e-5, atol=1e-30)
    loss32, gradient32 = fused.loss_and_gradient(params, x32, y32)
    assert loss32 == pytest.approx(whole.loss(params, x, y), rel=1e-5)
    for key, value in gradient32.items():
        assert value == pytest.approx(expected[key], rel=1e-3, abs=1e-6), key
    assert_computed_in_float32(fused, threaded=False)


def test_shapes_that_do_not_fit_the_data_are_refused():
    """The compiled loops do not check bounds: a label or weight vector shorter than the data would be read
    past its end, so the wrappers check shapes first (test_agreement.py: every wrong argument, every module)."""
    chain, logistic = load("two_weight_chain_numba"), load("logistic_regression_numba")
    x = np.linspace(-1, 1, 10)
    with pytest.raises(ValueError, match=r"^y has shape \(9,\); expected \(N,\) = \(10,\)$"):
        chain.gradient({"w1": 0.5, "w2": -0.3}, x, np.zeros(9))
    with pytest.raises(ValueError, match=r"^y has shape \(10, 2\)"):
        chain.loss({"w1": 0.5, "w2": -0.3}, x, np.zeros((10, 2)))
    with pytest.raises(ValueError, match=r"^x has shape \(10, 1\); expected \(N,\): one value per sample$"):
        chain.forward({"w1": 0.5, "w2": -0.3}, x[:, None])
    with pytest.raises(ValueError, match=r'^params\["w"\] has shape \(5,\); expected \(k,\) = \(3,\)$'):
        logistic.gradient({"w": np.ones(5)}, np.ones((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r"^X has shape \(3,\); expected \(N, k\): one sample per row$"):
        logistic.update({"w": np.ones(3)}, np.ones(3), np.zeros(3), 0.1)
    with pytest.raises(ValueError, match=r'^params\["w1"\] has shape \(1,\); expected a real number$'):
        chain.gradient({"w1": np.array([0.5]), "w2": -0.3}, x, np.zeros(10))


def test_big_endian_data_are_read_in_native_order():
    chain, whole = load("two_weight_chain_numba"), load("two_weight_chain")
    x, y = np.linspace(-1, 1, 10), np.linspace(0, 1, 10)
    params = {"w1": 0.5, "w2": -0.3}
    got, expected = chain.gradient(params, x.astype(">f8"), y), whole.gradient(params, x, y)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-13)


def mean_term_sizes(module, params: dict, X, y, samples: int = 4096) -> dict:
    """Each gradient entry's mean |term| over the first samples, one sample at a time: the size that a sum's
    rounding errors scale with.  A sum whose terms cancel (the chain's ∂Loss/∂w1 has terms ∝ x, and x is
    symmetric about 0) can be thousands of times smaller than its terms, and float32 terms carry errors
    relative to themselves, not to the sum."""
    terms = [module.gradient(params, X[n:n + 1], y[n:n + 1]) for n in range(samples)]
    return {key: np.mean([np.abs(term[key]) for term in terms], axis=0) for key in params}


@pytest.mark.parametrize("model", ["two-weight-chain", "logistic-regression"])
def test_float32_sums_lose_no_more_than_the_last_bit(model):
    """Terms are summed in float32 only over a part (or block) of samples, then in float64.  One run of 2^20
    samples (the parallel kernel would cut it into 64) gives a mean loss, a sum of positive terms whose rounding
    errors all lean one way, within 2 units in float32's last place of the float64 one, and a gradient within
    half a unit of its terms' mean size (mean_term_sizes).  Summed in float32 throughout, the loss was off by
    up to 835 units and the gradient by up to 3; in parts, 0.4 and 0.12 (8 seeds)."""
    stem = model.replace("-", "_")
    fused, whole = load(stem + "_numba"), load(stem)
    rng = np.random.default_rng(3)
    samples = 1 << 20
    X = (rng.normal(size=(samples, 10)) if "logistic" in model else rng.normal(size=samples)).astype(np.float32)
    y = (rng.random(samples) < 0.4).astype(np.float32)
    params = whole.init_params(X, y, rng=1)
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    exact_loss, exact = whole.loss_and_gradient(params, X64, y64)
    sizes = mean_term_sizes(whole, params, X64, y64)
    totals = fused._loss_and_gradient_run(X, y, *(np.asarray(params[key], np.float32)[()] for key in fused.PARAMS))
    assert abs(totals[0] / samples - exact_loss) <= 2 * np.finfo(np.float32).eps * exact_loss
    for total, key in zip(totals[1:], fused.PARAMS, strict=True):
        error = np.max(np.abs(total / samples - exact[key])) / np.max(sizes[key])
        assert error <= np.finfo(np.float32).eps / 2, (key, error)


def test_the_row_widths_take_both_of_block_dots_paths():
    """Rows shorter than _LONG_ROW go four at a time through _block_dots, longer ones one at a time: the widths
    above must try both."""
    fused = load("logistic_regression_numba")
    assert min(ROW_WIDTHS) < fused._LONG_ROW <= max(ROW_WIDTHS)


# ---------------------------------------------------------------------------------------------
# Runs shared out so that a free thread takes a descheduled one's (issue 22: a busy core)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("chunks", [1, 2, 3, 7, 64])
@pytest.mark.parametrize("teams", [1, 2, 3, 4])
def test_each_thread_turns_over_its_own_runs_then_the_others_from_their_far_end(teams, chunks):
    """_chunk_of: thread t's turns are every run once, its own share first in order, then each other thread's
    share from its end backwards, so that a free thread meets a late one where that one has got to."""
    chunk_of = load("two_weight_chain_numba")._chunk_of.py_func
    teams = min(teams, chunks)
    shares = [list(range(t * chunks // teams, (t + 1) * chunks // teams)) for t in range(teams)]
    for team in range(teams):
        order = [chunk_of(team, teams, chunks, step) for step in range(chunks)]
        assert sorted(order) == list(range(chunks))
        expected = shares[team] + [c for turn in range(1, teams) for c in reversed(shares[(team + turn) % teams])]
        assert order == expected


@pytest.mark.parametrize("stem", ["two_weight_chain_numba", "logistic_regression_numba"])
def test_the_result_is_the_same_bits_whatever_the_threads(stem):
    """The runs' totals are added in the order of the runs, whichever thread computed each (or two of them, at
    once): one share, every thread's, and two shares on one thread, one after the other, give the same bits,
    for the means and for forward."""
    import numba

    module = load(stem)
    X, y, options = sample_data(stem.removesuffix("_numba").replace("_", "-"), 200_003, np.random.default_rng(4),
                                features=10)
    params = module.init_params(X, y, **options)
    unpacked = [np.asarray(params[key], dtype=X.dtype)[()] for key in module.PARAMS]
    reference = module._loss_and_gradient_means(X, y, *unpacked, 1)
    forward = module._forward_values(X, *unpacked, 1)
    got = module._loss_and_gradient_means(X, y, *unpacked, numba.get_num_threads())
    assert all(np.array_equal(mine, theirs) for mine, theirs in zip(got, reference, strict=True))
    assert np.array_equal(module._forward_values(X, *unpacked, numba.get_num_threads()), forward)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        got = module._loss_and_gradient_means(X, y, *unpacked, 2)  # two shares, on the one thread
        assert all(np.array_equal(mine, theirs) for mine, theirs in zip(got, reference, strict=True))
        one = module.loss_and_gradient(params, X, y)
    finally:
        numba.set_num_threads(previous)
    assert one[0] == reference[0]


class _Clock:
    """time, with a monotonic clock the test moves."""

    now = 1000.0
    perf_counter = staticmethod(__import__("time").perf_counter)

    @classmethod
    def monotonic(cls) -> float:
        return cls.now


def test_a_call_uses_a_thread_fewer_for_each_core_other_processes_keep_busy(monkeypatch):
    """_free_threads reads the cores' busy time and this process's from /proc at most every _LOOK seconds: with
    one core of two kept busy by another process, the calls run on one thread (Numba's thread count restored
    after each), with the same bits; when that process stops, on every thread again."""
    import numba

    module = load("two_weight_chain_numba")
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=300_000), rng.random(300_000)
    params = {"w1": 0.5, "w2": -0.3}
    expected = module.loss_and_gradient(params, x, y)
    threads = numba.get_num_threads()
    ticks = os.sysconf("SC_CLK_TCK")
    cores = len(os.sched_getaffinity(0))
    readings = iter([(0, 0), (2 * ticks, ticks), (4 * ticks, 3 * ticks)])  # busy ticks, this process's ticks
    monkeypatch.setattr(module, "_PROC", True)
    monkeypatch.setattr(module, "_ticks", lambda: next(readings))
    monkeypatch.setattr(module, "_looked", (0.0, 0, 0))
    monkeypatch.setattr(module, "time", _Clock)
    monkeypatch.setattr(module, "_free", 1 << 30)
    seen = []
    monkeypatch.setattr(module, "_loss_and_gradient_means",
                        lambda *arguments, means=module._loss_and_gradient_means: (
                            seen.append((arguments[-1], numba.get_num_threads())) or means(*arguments)))
    assert module.loss_and_gradient(params, x, y) == expected  # the first look: no load known yet
    assert seen[-1] == (threads, threads)
    _Clock.now += 1.0  # a second later: the cores spent 2 s busy, this process 1 s; another kept a core busy
    assert module.loss_and_gradient(params, x, y) == expected
    busy_one = min(threads, max(1, cores - 1))
    assert seen[-1] == (busy_one, busy_one) and numba.get_num_threads() == threads
    _Clock.now += 0.01  # sooner than _LOOK: not looked at again
    module.loss_and_gradient(params, x, y)
    assert seen[-1] == (busy_one, busy_one)
    _Clock.now += 1.0  # the cores 2 s busy, all of it this process's: the other process is gone
    assert module.loss_and_gradient(params, x, y) == expected
    assert seen[-1] == (threads, threads)


def test_the_load_is_read_from_this_machine_s_proc():
    """_ticks on this machine: the cores' busy ticks grow at least as fast as this process's own."""
    module = load("two_weight_chain_numba")
    if not module._PROC:
        pytest.skip("no /proc here: every call uses all of Numba's threads")
    busy, mine = module._ticks()
    end = __import__("time").process_time() + 0.2
    while __import__("time").process_time() < end:
        pass
    busy_after, mine_after = module._ticks()
    assert mine_after - mine >= 0.1 * os.sysconf("SC_CLK_TCK")
    assert busy_after - busy >= mine_after - mine - 2


def test_the_busy_core_benchmark_leaves_out_rounds_that_others_made_busy():
    """benchmarks/busy_core.py: busy over the quiet median, from the rounds in which other users of the machine
    used at most a quarter of a core in both phases (a shared machine's noise is in neither)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import busy_core

    def phase(name, round_, seconds, foreign):
        return busy_core.Phase("two-weight-chain", 10, None, "numba", name, round_, seconds, foreign)

    phases = [phase("quiet", 0, [1.0, 1.0, 1.2], 0.0), phase("busy", 0, [1.5, 2.0, 4.0], 0.1),
              phase("quiet", 1, [9.0, 9.0, 9.0], 0.9), phase("busy", 1, [50.0, 50.0, 50.0], 0.0)]
    (row,) = busy_core.ratios(phases)
    assert (row["rounds"], row["of_rounds"]) == (1, 2)
    assert row["quiet_median"] == 1.0 and row["median_ratio"] == 2.0 and row["max_ratio"] == 4.0
    assert "1 of 2" in busy_core.table([row]) and "2.00×" in busy_core.table([row])
    assert busy_core.ratios(phases, most_foreign=0.05) == []
