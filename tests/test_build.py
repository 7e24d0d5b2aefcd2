"""ModelBuilder: a user-defined graph is the same Model the catalogue builds, derives correctly, and
every malformed declaration is a one-line ModelError that says where."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

import symgrad as sg
from symgrad.catalogue.build import ModelBuilder, ModelError, default_latex
from symgrad.catalogue.models import two_weight_chain
from symgrad.derivation.derive import derive
from symgrad.errors import UsageError
from symgrad.model.functions import sigmoid
from symgrad.rendering.render import render


def chain(name: str, activations: list[str], loss: str, label_latex: str | None = "y^*") -> ModelBuilder:
    """x → w1 → g1 → w2 → g2 … → loss, as a user would declare it; weights in backpropagation order."""
    net = ModelBuilder(name, f"{name} ({', '.join(activations)}, {loss})")
    net.input("x")
    net.label("y", latex=label_latex)
    depth = len(activations)
    net.params([f"w{k}" for k in range(depth, 0, -1)])
    previous = "x"
    for k, activation in enumerate(activations, start=1):
        net.node(f"z{k}", f"{previous} * w{k}")
        net.node(f"a{k}", f"{activation}(z{k})")
        previous = f"a{k}"
    net.loss("Loss", f"{loss}({previous}, y)")
    return net


@pytest.mark.parametrize(
    ("activations", "loss", "options"),
    [
        (["sigmoid", "sigmoid"], "quadratic", {}),
        (["tanh", "sigmoid"], "cross_entropy", {"hidden_activation": "tanh", "loss": "cross-entropy"}),
    ],
)
def test_builder_gives_the_catalogue_two_weight_chain(activations, loss, options):
    catalogue = sg.CATALOGUE["two-weight-chain"].build(**options)  # the catalogue's model, which knows its command
    built = chain("two-weight-chain", activations, loss)
    built.description = catalogue.description
    model = built.build()
    assert model == dataclasses.replace(catalogue, options={})
    ours, theirs = derive(model), derive(catalogue)
    assert [(r.name, r.kind, r.lhs, r.value, r.form) for r in ours.results] == [
        (r.name, r.kind, r.lhs, r.value, r.form) for r in theirs.results
    ]
    # the same document but for its origin: a model built in Python has no command line that makes it again
    assert "from a model built in Python" in render(ours, "markdown") and theirs.reproduce
    assert render(ours, "markdown").splitlines()[3:] == render(theirs, "markdown").splitlines()[3:]


def test_a_different_builder_graph_gives_a_different_derivation():
    """The equality above can fail: a tanh output is not the catalogue's sigmoid chain."""
    model = chain("two-weight-chain", ["sigmoid", "tanh"], "quadratic").build()
    ours, theirs = derive(model), derive(two_weight_chain())
    assert [r.value for r in ours.results] != [r.value for r in theirs.results]


@pytest.mark.parametrize(
    ("activations", "loss"),
    [
        (["tanh", "softplus", "identity"], "quadratic"),
        (["relu", "sigmoid"], "cross_entropy"),
        (["softplus", "tanh", "sigmoid"], "cross_entropy"),
        (["identity", "relu", "tanh", "sigmoid"], "quadratic"),
    ],
)
def test_builder_chains_agree_with_finite_differences(activations, loss, gradient_pairs):
    derivation = derive(chain("deep", activations, loss).build())
    pairs = gradient_pairs(derivation, seed=len(activations))
    assert len(pairs) == 3 * len(activations)
    for param, symbolic, numeric in pairs:
        assert symbolic == pytest.approx(numeric, rel=1e-5, abs=1e-7), param


def test_formulas_may_be_sympy_expressions_over_the_declared_symbols(gradient_pairs):
    net = sg.ModelBuilder("with-bias")
    x, y = net.input("x"), net.label("y")
    w, b = net.params("w b")
    z = net.node("z", x * w + b)
    p = net.node("p", sigmoid(z))
    net.loss("L", -(y * sp.log(p) + (1 - y) * sp.log(1 - p)))
    derivation = derive(net.build())
    assert sp.simplify(derivation.gradient(b) - (p - y)) == 0
    for param, symbolic, numeric in gradient_pairs(derivation, seed=7):
        assert symbolic == pytest.approx(numeric, rel=1e-5, abs=1e-7), param


def test_names_are_written_as_the_handouts_write_them():
    assert [default_latex(n) for n in ("w1", "a12", "alpha", "w_1", "h")] == ["w_1", "a_12", "alpha", "w_1", "h"]
    net = ModelBuilder("names")
    assert net.input("x1") == sp.Symbol("x_1")
    assert net.label("y", latex="y^{*}") == sp.Symbol("y^*")  # as the key reader reads it
    assert net.param("w", latex=r"\omega") == sp.Symbol("omega")


def test_declared_order_is_the_derivation_order():
    net = chain("order", ["tanh", "tanh"], "quadratic")
    model = net.build()
    assert [str(p) for p in model.params] == ["w_2", "w_1"]
    assert [str(n.symbol) for n in model.nodes] == ["z_1", "a_1", "z_2", "a_2", "Loss"]
    assert model.nodes[0].expr.args == (sp.Symbol("x"), sp.Symbol("w_1"))


def _started() -> ModelBuilder:
    net = ModelBuilder("m")
    net.input("x")
    net.label("y")
    net.params("w v")
    return net


def _declare(steps):
    net = _started()
    for method, *args in steps:
        getattr(net, method)(*args)
    return net


@pytest.mark.parametrize(
    ("steps", "key", "fragment"),
    [
        ([("param", "w 1")], "params", "'w 1' is not an identifier"),
        ([("param", "lambda")], "params", "is a Python keyword"),
        ([("param", "__class__")], "params", "starts with '_'"),
        ([("param", "x")], "params", "'x' is already declared as the input"),
        ([("param", "w_1"), ("param", "w1")], "params", "would be written 'w_1', like the parameter 'w_1'"),
        ([("param", "exp")], "params", "library function"),
        ([("param", "u", r"\dot{u}")], "latex.u", "not a LaTeX name"),
        ([("param", "u", "ab")], "latex.u", "not as one name"),
        ([("label", "t")], "label", "a model has one label"),
        ([("node", "z", "x * q")], "nodes.z, column 5", "unknown name 'q'"),
        ([("node", "z", "x * w + y")], "nodes.z, column 9", "'y' is the label; only the loss may use it"),
        ([("node", "z", "x * alpha")], "nodes.z, column 5", "is the step size"),
        ([("node", "z", "a * x"), ("node", "a", "w")], "nodes.z, column 1", "unknown name 'a'"),
        ([("node", "z", "swish(x)")], "nodes.z, column 1", "unknown function 'swish'"),
        ([("node", "z", "tanh(x, w)")], "nodes.z, column 1", "tanh takes 1 argument, not 2"),
        ([("node", "z", "x.w")], "nodes.z, column 2", "attribute access"),
        ([("node", "z", ["x"])], "nodes.z", "a formula is text or a SymPy expression, not list"),
        ([("node", "z", sp.Symbol("q") * sp.Symbol("x"))], "nodes.z", "uses q, which is not a declared"),
        ([("node", "z", sp.Symbol("y") * sp.Symbol("x"))], "nodes.z", "'y' is the label"),
        ([("loss", "L", "quadratic(x * w * v, y)"), ("node", "z", "x")], "nodes.z", "cannot come after the loss"),
        ([("loss", "L", "quadratic(x * w * v, y)"), ("loss", "M", "w")], "loss", "a model has one loss"),
    ],
)
def test_declaration_errors_say_where(steps, key, fragment):
    with pytest.raises(ModelError) as caught:
        _declare(steps)
    message = str(caught.value)
    assert message.startswith(key + ":"), message
    assert fragment in message
    assert "\n" not in message and isinstance(caught.value, UsageError)


@pytest.mark.parametrize(
    ("steps", "key", "fragment"),
    [
        ([("loss", "L", "quadratic(x * w, y)")], "loss.formula", "does not depend on the parameter 'v'"),
        ([("loss", "L", "w * v * x")], "loss.formula", "does not use the label 'y'"),
        ([("node", "z", "x * w"), ("node", "u", "z * v"), ("loss", "L", "quadratic(z * v, y)")], "nodes.u",
         "never uses this node"),
        ([], "loss", "declare the loss"),
    ],
)
def test_graph_errors_at_build(steps, key, fragment):
    net = _declare(steps)
    with pytest.raises(ModelError) as caught:
        net.build()
    assert str(caught.value).startswith(key + ":") and fragment in str(caught.value)


def test_missing_declarations_at_build():
    with pytest.raises(ModelError, match="^inputs: declare at least one input$"):
        ModelBuilder("m").build()
    net = ModelBuilder("m")
    net.input("x")
    with pytest.raises(ModelError, match="^label: declare the label$"):
        net.build()
    net.label("y")
    with pytest.raises(ModelError, match="^params: declare at least one parameter$"):
        net.build()


@pytest.mark.parametrize("name", ["", "my net", "9lives", "a/b", None])
def test_model_names_must_make_module_names(name):
    with pytest.raises(ModelError, match="^name: .* is not a model name"):
        ModelBuilder(name)


# ---- indexed layers ---------------------------------------------------------------------------

def mlp_builder(shared_bias: bool = False) -> ModelBuilder:
    net = ModelBuilder("mlp-shared-bias" if shared_bias else "mlp", "", step_size="eta")
    net.index("i", "m")
    net.index("j", "k")
    net.input("x[i]")
    net.label("y")
    net.params("v[j] c w[i, j] b" if shared_bias else "v[j] c w[i, j] b[j]")
    net.node("z[j]", "sum(w[i, j] * x[i], i) + " + ("b" if shared_bias else "b[j]"))
    net.node("h[j]", "sigmoid(z[j])")
    net.node("u", "sum(v[j] * h[j], j) + c")
    net.node("p", "sigmoid(u)")
    net.loss("L", "cross_entropy(p, y)")
    return net


@pytest.mark.parametrize("shared_bias", [False, True])
def test_builder_gives_the_lead_mlp_and_its_gradients(shared_bias, indexed_gradient_pairs):
    from symgrad.catalogue.models import mlp

    net = mlp_builder(shared_bias)
    reference = mlp(shared_bias=shared_bias)
    net.description = reference.description
    model = net.build()
    assert model == dataclasses.replace(reference, notation=model.notation)
    derivation = derive(model)
    assert [(r.name, r.value) for r in derivation.results] == [(r.name, r.value) for r in derive(reference).results]
    pairs = indexed_gradient_pairs(derivation, {"m": 2, "k": 3}, seed=11)
    assert len(pairs) == 2 * (3 + 1 + 6 + (1 if shared_bias else 3))
    for unit, symbolic, numeric in pairs:
        assert symbolic == pytest.approx(numeric, rel=1e-6, abs=1e-8), unit


def test_builder_gives_the_lead_softmax_models():
    from symgrad.catalogue.models import mlp_softmax, softmax_regression

    net = ModelBuilder("softmax-regression", softmax_regression().description, step_size="eta")
    net.index("i", "m")
    net.index("j", "C")
    net.index("l", "C")
    net.input("x[i]")
    net.label("y[j]")
    net.params("w[i, j] b[j]")
    net.node("z[j]", "sum(w[i, j] * x[i], i) + b[j]")
    net.node("p[j]", "softmax(z[j], l)")
    net.loss("L", "softmax_cross_entropy(p[j], y[j], l)")
    model = net.build()
    assert model == dataclasses.replace(softmax_regression(), notation=model.notation)

    net = ModelBuilder("mlp-softmax", mlp_softmax().description, step_size="eta")
    for index, size in (("i", "m"), ("j", "k"), ("l", "C"), ("q", "C")):
        net.index(index, size)
    net.input("x[i]")
    net.label("y[l]")
    net.params("v[j, l] c[l] w[i, j] b[j]")
    net.node("z[j]", "sum(w[i, j] * x[i], i) + b[j]")
    net.node("h[j]", "sigmoid(z[j])")
    net.node("u[l]", "sum(v[j, l] * h[j], j) + c[l]")
    net.node("p[l]", "softmax(u[l], q)")
    net.loss("L", "softmax_cross_entropy(p[l], y[l], q)")
    model = net.build()
    assert model == dataclasses.replace(mlp_softmax(), notation=model.notation)
    q, classes = sp.symbols("q C", integer=True, positive=True)
    assert model.index_ranges[q] == (1, classes)


def _indexed(steps):
    net = ModelBuilder("layers")
    net.index("i", "m")
    net.index("j", "k")
    net.input("x[i]")
    net.label("y")
    net.params("w[i, j] v[j]")
    for method, *args in steps:
        getattr(net, method)(*args)
    return net


@pytest.mark.parametrize(
    ("steps", "key", "fragment"),
    [
        ([("node", "z[j]", "sum(w[i, j] * x[q], i)")], "nodes.z[j], column 17", "'q' is not a declared index"),
        ([("node", "z[j]", "sum(w[i] * x[i], i)")], "nodes.z[j], column 6", "'w' takes 2 indices, not 1"),
        ([("node", "z[j]", "sum(w * x[i], i)")], "nodes.z[j], column 5", "'w' is indexed"),
        ([("node", "z[j]", "sum(w[i, j] * x[i], j)")], "nodes.z[j]", "the index i is free"),
        ([("node", "u", "v[j]")], "nodes.u", "the index j is free in this formula: sum over it with sum(…, j) or make"),
        ([("node", "z[q]", "x[i]")], "nodes.z[q]", "'q', which is not a declared index (i, j)"),
        ([("node", "z[j]", "sum(w[i, j] * x[i], m)")], "nodes.z[j], column 21", "'m' is not a declared index"),
        ([("node", "z[j]", "m * v[j]")], "nodes.z[j], column 1", "'m' is a size"),
        ([("node", "z[j]", "i * v[j]")], "nodes.z[j], column 1", "'i' is an index"),
        ([("node", "p[j]", "softmax(v, i)")], "nodes.p[j], column 9", "'v' is indexed"),
        ([("node", "p", "softmax(sum(v[j], j), i)")], "nodes.p, column 1", "softmax's first argument must be one unit"),
        ([("index", "k", 3)], "indices.k", "'k' is already declared as the size"),
        ([("index", "n", 0)], "indices.n", "the range 1…0 is empty"),
        ([("param", "a[j, j]")], "params", "repeats an index"),
    ],
)
def test_indexed_declaration_errors(steps, key, fragment):
    with pytest.raises(ModelError) as caught:
        _indexed(steps)
    message = str(caught.value)
    assert message.startswith(key + ":") and fragment in message, message
