"""The catalogue: each handout model in a few lines on top of ``graph.py``.

A catalogue entry builds a :class:`~symgrad.graph.Model` from options
(activation, loss) and knows how to derive it.  ``CATALOGUE`` is the single
list that the CLI, the docs, the code generator and the checker iterate over.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import sympy as sp

from symgrad.catalogue.names import ABSTRACT, ACTIVATION_CHOICES, CONTENTS, LOSS_CHOICES, catalogue_names
from symgrad.derivation.derive import derive, derive_sigmoid_identity
from symgrad.derivation.steps import Derivation
from symgrad.errors import UnknownModel
from symgrad.model.functions import (
    ACTIVATIONS,
    LOSSES,
    one_hot_facts,
    softmax,
    softmax_cross_entropy_loss,
    softmax_rewrites,
)
from symgrad.model.graph import Model, Node, Notation

__all__ = ["ABSTRACT", "ACTIVATION_CHOICES", "CATALOGUE", "LOSS_CHOICES", "UnknownModel", "catalogue_names",
           "derive_named", "lookup"]



def logistic_regression() -> Model:
    """h(x) = s(Σ_i w_i x_i) with the cross-entropy loss; j and k stay symbolic."""
    i, j = sp.symbols("i j", integer=True, positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    w, x = sp.IndexedBase("w"), sp.IndexedBase("x")
    y, gamma, h, loss, eta = sp.symbols("y gamma h L eta")
    x_vec, w_vec = sp.Symbol(r"\mathbf{x}"), sp.Symbol(r"\mathbf{w}")
    nodes = (
        Node(gamma, sp.Sum(w[i] * x[i], (i, 1, k))),
        Node(h, ACTIVATIONS["sigmoid"](gamma)),
        Node(loss, LOSSES["cross-entropy"](h, y)),
    )
    notation = Notation(
        symbols={h: r"h(\mathbf{x})"},
        functions={"sigmoid": "s"},
        partial="d",
        label_first=True,
    )
    return Model(
        name="logistic-regression",
        description="Logistic regression with the cross-entropy loss",
        inputs=(x[j],),
        label=y,
        params=(w[j],),
        nodes=nodes,
        step_size=eta,
        notation=notation,
        vector_forms={x[j]: x_vec, w[j]: w_vec},
    )


def logistic_regression_bias() -> Model:
    """z = Σ_i w_i x_i + b, σ(z) with the cross-entropy loss: logistic regression with a bias."""
    i, j = sp.symbols("i j", integer=True, positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    w, x = sp.IndexedBase("w"), sp.IndexedBase("x")
    y, z, p, b, loss, eta = sp.symbols("y z p b L eta")
    x_vec, w_vec = sp.Symbol(r"\mathbf{x}"), sp.Symbol(r"\mathbf{w}")
    nodes = (
        Node(z, sp.Add(sp.Sum(w[i] * x[i], (i, 1, k)), b, evaluate=False)),
        Node(p, ACTIVATIONS["sigmoid"](z)),
        Node(loss, LOSSES["cross-entropy"](p, y)),
    )
    return Model(
        name="logistic-regression-bias",
        description="Logistic regression with a bias and the cross-entropy loss",
        inputs=(x[j],),
        label=y,
        params=(w[j], b),
        nodes=nodes,
        step_size=eta,
        notation=Notation(symbols={p: r"\sigma(z)"}),
        vector_forms={x[j]: x_vec, w[j]: w_vec},
    )


def _layer_indices() -> tuple[sp.Symbol, ...]:
    """Input index i, hidden-unit index j, class index l, a second class index q, and the sizes m, k, C."""
    return sp.symbols("i j l q m k C", integer=True, positive=True)


def mlp(shared_bias: bool = False) -> Model:
    """m inputs, one hidden layer of k sigmoid units, a sigmoid output and the cross-entropy loss.

    z_j = Σ_i w_ij x_i + b_j, h_j = σ(z_j), u = Σ_j v_j h_j + c, p = σ(u).  With
    ``shared_bias`` every hidden unit adds the same b, so ∂L/∂b sums over the units.
    """
    i, j, _, _, m, k, _ = _layer_indices()
    x, w, v, z, h = (sp.IndexedBase(name) for name in ("x", "w", "v", "z", "h"))
    y, u, p, c, loss, eta = sp.symbols("y u p c L eta")
    bias = sp.Symbol("b") if shared_bias else sp.IndexedBase("b")[j]
    nodes = (
        Node(z[j], sp.Add(sp.Sum(w[i, j] * x[i], (i, 1, m)), bias, evaluate=False)),
        Node(h[j], ACTIVATIONS["sigmoid"](z[j])),
        Node(u, sp.Add(sp.Sum(v[j] * h[j], (j, 1, k)), c, evaluate=False)),
        Node(p, ACTIVATIONS["sigmoid"](u)),
        Node(loss, LOSSES["cross-entropy"](p, y)),
    )
    shared = " sharing one bias b" if shared_bias else ""
    return Model(
        name="mlp-shared-bias" if shared_bias else "mlp",
        description=f"One hidden layer of k sigmoid units{shared}, a sigmoid output and the cross-entropy loss",
        inputs=(x[i],),
        label=y,
        params=(v[j], c, w[i, j], bias),
        nodes=nodes,
        step_size=eta,
        index_ranges={i: (1, m), j: (1, k)},
    )


def _softmax_node(probability: sp.Indexed, scores: sp.Indexed, classes: tuple) -> Node:
    """p_j = e^{z_j} / Σ_l e^{z_l}, with its rewrite e^{z_j} = p_j Σ_l e^{z_l} (``softmax_rewrites``)."""
    value = softmax(scores, classes)
    return Node(probability, value, rewrites=softmax_rewrites(probability, value))


def softmax_regression() -> Model:
    """C classes: z_j = Σ_i w_ij x_i + b_j, p = softmax(z), a one-hot y and the cross-entropy loss."""
    i, j, l, _, m, _, classes = _layer_indices()  # noqa: E741 (the handouts' class index l)
    x, w, b, z, p, y = (sp.IndexedBase(name) for name in ("x", "w", "b", "z", "p", "y"))
    loss, eta = sp.symbols("L eta")
    nodes = (
        Node(z[j], sp.Add(sp.Sum(w[i, j] * x[i], (i, 1, m)), b[j], evaluate=False)),
        _softmax_node(p[j], z[j], (l, 1, classes)),
        Node(loss, softmax_cross_entropy_loss(p[j], y[j], (l, 1, classes))),
    )
    return Model(
        name="softmax-regression",
        description="Softmax regression over C classes with a one-hot label and the cross-entropy loss",
        inputs=(x[i],),
        label=y[j],
        params=(w[i, j], b[j]),
        nodes=nodes,
        step_size=eta,
        index_ranges={i: (1, m), j: (1, classes), l: (1, classes)},
        assumptions=one_hot_facts(nodes[-1].expr, y[j]),
    )


def mlp_softmax() -> Model:
    """A hidden layer of k sigmoid units under a softmax output over C classes, with the cross-entropy loss.

    z_j = Σ_i w_ij x_i + b_j, h_j = σ(z_j), u_l = Σ_j v_jl h_j + c_l, p = softmax(u).
    """
    i, j, l, q, m, k, classes = _layer_indices()  # noqa: E741 (the handouts' class index l)
    x, w, b, z, h, v, c, u, p, y = (sp.IndexedBase(name) for name in ("x", "w", "b", "z", "h", "v", "c", "u", "p", "y"))
    loss, eta = sp.symbols("L eta")
    nodes = (
        Node(z[j], sp.Add(sp.Sum(w[i, j] * x[i], (i, 1, m)), b[j], evaluate=False)),
        Node(h[j], ACTIVATIONS["sigmoid"](z[j])),
        Node(u[l], sp.Add(sp.Sum(v[j, l] * h[j], (j, 1, k)), c[l], evaluate=False)),
        _softmax_node(p[l], u[l], (q, 1, classes)),
        Node(loss, softmax_cross_entropy_loss(p[l], y[l], (q, 1, classes))),
    )
    return Model(
        name="mlp-softmax",
        description="One hidden layer of k sigmoid units, a softmax output over C classes and the cross-entropy loss",
        inputs=(x[i],),
        label=y[l],
        params=(v[j, l], c[l], w[i, j], b[j]),
        nodes=nodes,
        step_size=eta,
        index_ranges={i: (1, m), j: (1, k), l: (1, classes), q: (1, classes)},
        assumptions=one_hot_facts(nodes[-1].expr, y[l]),
    )


def two_weight_chain(
    activation: str = "sigmoid", loss: str = "quadratic",
    hidden_activation: str | None = None, output_activation: str | None = None,
) -> Model:
    """z1 = x w1, a1 = g1(z1), z2 = a1 w2, a2 = g2(z2), Loss(a2, y*): the backpropagation handout's network."""
    x, w1, w2, z1, a1, z2, a2, y, loss_symbol, alpha = sp.symbols("x w_1 w_2 z_1 a_1 z_2 a_2 y^* Loss alpha")
    g1 = _activation(hidden_activation or activation, "g_1")
    g2 = _activation(output_activation or activation, "g_2")
    nodes = (
        Node(z1, sp.Mul(x, w1, evaluate=False)),
        Node(a1, g1(z1)),
        Node(z2, sp.Mul(a1, w2, evaluate=False)),
        Node(a2, g2(z2)),
        Node(loss_symbol, _loss(loss, a2, y)),
    )
    notation = Notation(
        functions={"sigmoid": r"\sigma"},
    )
    chosen = {"hidden activation": hidden_activation or activation,
              "output activation": output_activation or activation, "loss": loss}
    defaults = {"hidden activation": "sigmoid", "output activation": "sigmoid", "loss": "quadratic"}
    differences = ", ".join(f"{key} {value}" for key, value in chosen.items() if value != defaults[key])
    return Model(
        name="two-weight-chain",
        description="Two-weight chain network" + (f" ({differences})" if differences else ""),
        inputs=(x,),
        label=y,
        params=(w2, w1),
        nodes=nodes,
        step_size=alpha,
        notation=notation,
        options=chosen,
    )


def _activation(name: str, abstract_name: str) -> Callable[[sp.Expr], sp.Expr]:
    if name == ABSTRACT:
        return sp.Function(abstract_name)
    if name not in ACTIVATIONS:
        raise UnknownModel(f"unknown activation {name!r}; choose from {', '.join(ACTIVATION_CHOICES)}")
    return ACTIVATIONS[name]


def _loss(name: str, prediction: sp.Expr, label: sp.Expr) -> sp.Expr:
    if name == ABSTRACT:
        return sp.Function("Loss")(prediction, label)
    if name not in LOSSES:
        raise UnknownModel(f"unknown loss {name!r}; choose from {', '.join(LOSS_CHOICES)}")
    return LOSSES[name](prediction, label)


@dataclass(frozen=True)
class CatalogueEntry:
    """One built-in model: how to build its graph (if it has one) and derive it."""

    name: str
    summary: str
    #: the function that builds the graph (None: the sigmoid identity, a derivation of its own)
    builder: Callable[..., Model] | None
    options: tuple[str, ...] = ()
    variants: dict[str, dict[str, str]] = field(default_factory=dict)

    def build(self, **options: str) -> Model:
        """The model with these options, carrying the command line that builds it again (``Model.command``)."""
        if self.builder is None:
            raise UnknownModel(f"model {self.name!r} has no graph: it is a derivation of its own")
        model = self.builder(**options)
        return replace(model, command=command_for(self.name, model))

    def derive(self, verify: bool = True, **options: str) -> Derivation:
        unknown = set(options) - set(self.options)
        if unknown:
            raise UnknownModel(f"model {self.name!r} takes no option {sorted(unknown)[0]!r}")
        if self.builder is None:
            return derive_sigmoid_identity()
        return derive(self.build(**options), verify)


CATALOGUE: dict[str, CatalogueEntry] = {
    contents.name: CatalogueEntry(
        contents.name,
        contents.description,
        globals()[contents.builder] if contents.builder is not None else None,
        contents.options,
        {name: dict(variant.options) for name, variant in contents.variants.items()},
    )
    for contents in CONTENTS
}


#: The command-line flag of each catalogue option that has one.
CLI_FLAGS = {"loss": "--loss", "activation": "--activation", "hidden_activation": "--hidden-activation",
             "output_activation": "--output-activation"}


def catalogue_options(name: str, model: Model | None) -> tuple[str, dict[str, str]] | None:
    """The catalogue name and command-line flags that build ``model`` again (``("two-weight-chain",
    {"--loss": "cross-entropy"})``), trying ``name`` first and then the other names of its entry; None when no
    command does (a model built in Python, even one named like a catalogue model).  Each answer is checked by
    building its model and comparing it with ``model``, so a flag is never guessed."""
    try:
        entry, _ = lookup(name)
    except UnknownModel:
        return None
    if entry.builder is None:  # the sigmoid identity: a derivation with no model and no options
        return (name, {}) if model is None else None
    if model is None:
        return None
    siblings = [n for n in catalogue_names() if lookup(n)[0] is entry]
    for candidate in dict.fromkeys([name, *siblings]):
        implied = lookup(candidate)[1]
        flags = _fewest_flags(entry, implied, model)
        if flags is not None:
            return candidate, flags
    return None


def _fewest_flags(entry, implied: dict, model: Model) -> dict[str, str] | None:
    """The fewest command-line options that, on top of a catalogue name's ``implied`` ones, build ``model``;
    None when no choice of them does.  The model records its options (``"hidden activation": "tanh"``)."""
    recorded = {key.replace(" ", "_"): value for key, value in model.options.items()}
    chosen = {key: value for key, value in recorded.items() if key in CLI_FLAGS and key in entry.options}
    if chosen.get("hidden_activation") is not None and chosen.get("hidden_activation") == chosen.get(
            "output_activation") and "activation" in entry.options:
        chosen["activation"] = chosen.pop("hidden_activation")
        chosen.pop("output_activation")

    def builds(options: dict) -> bool:
        try:
            return entry.builder(**{**implied, **options}) == model
        except (KeyError, TypeError, ValueError):
            return False

    if not builds(chosen):
        return None
    for key in list(chosen):  # drop each option the name already implies, or that is the default
        fewer = {k: v for k, v in chosen.items() if k != key}
        if builds(fewer):
            chosen = fewer
    return {CLI_FLAGS[key]: value for key, value in chosen.items()}



def command_for(name: str, model: Model | None) -> str | None:
    """``symgrad derive NAME --flag value …``, the command that derives ``model`` again, or None."""
    options = catalogue_options(name, model)
    if options is None:
        return None
    found, flags = options
    return shlex.join(["symgrad", "derive", found, *(word for flag in flags.items() for word in flag)])


def lookup(name: str) -> tuple[CatalogueEntry, dict[str, str]]:
    """The catalogue entry called ``name`` (a model or a named variant) and the options the name implies."""
    for entry in CATALOGUE.values():
        if name == entry.name:
            return entry, {}
        if name in entry.variants:
            return entry, dict(entry.variants[name])
    raise UnknownModel(f"unknown model {name!r}; choose from {', '.join(catalogue_names())}")


def derive_named(name: str, verify: bool = True, **options: str) -> Derivation:
    """Derive a catalogue model or variant by name; explicit options override the variant's.

    ``verify=False`` builds the same steps without proving them (see ``DerivationBuilder``).
    """
    entry, implied = lookup(name)
    derivation = entry.derive(verify, **{**implied, **options})
    derivation.name = name
    if name != entry.name or entry.builder is None:  # a variant's own name, or the sigmoid identity's
        derivation.command = command_for(name, derivation.model)
    return derivation
