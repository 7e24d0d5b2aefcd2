"""The catalogue's table of contents: every built-in model's name, its named variants, what each one is,
and the activation and loss names.

Plain data, with no SymPy in it, so that the command line can list the models, offer their names and
check an option before it loads SymPy (``symgrad --help`` and ``symgrad list`` answer at once).
``models.py`` builds each entry's graph from the builder named here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The activation library (``functions.ACTIVATIONS`` holds their SymPy functions, in this order).
ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "softplus", "identity")
#: The loss library (``functions.LOSSES``).
LOSS_NAMES = ("quadratic", "cross-entropy")
#: An activation or a loss left as an unnamed function g(z), Loss(a, y): the general chain rule.
ABSTRACT = "abstract"
ACTIVATION_CHOICES = (*ACTIVATION_NAMES, ABSTRACT)
LOSS_CHOICES = (*LOSS_NAMES, ABSTRACT)


@dataclass(frozen=True)
class Variant:
    """A named variant of a model: its options, and what it is, in words."""

    options: dict[str, str | bool]
    description: str


@dataclass(frozen=True)
class Contents:
    """One built-in model: its name, what it is, the builder in ``models.py`` (None: a derivation of its own),
    the options the builder takes and the named variants."""

    name: str
    description: str
    builder: str | None
    options: tuple[str, ...] = ()
    variants: dict[str, Variant] = field(default_factory=dict)


CONTENTS: tuple[Contents, ...] = (
    Contents("sigmoid", "The sigmoid s(γ) = 1/(1 + e^-γ) and the identity s'(γ) = s(γ)(1 - s(γ))", None),
    Contents(
        "logistic-regression",
        "Logistic regression with cross-entropy: dL/dw_j, the gradient vector and the SGD update",
        "logistic_regression",
    ),
    Contents(
        "logistic-regression-bias",
        "Logistic regression with a bias b: dL/dw_j = x_j(σ(z) - y) and dL/db = σ(z) - y",
        "logistic_regression_bias",
    ),
    Contents(
        "mlp",
        "One hidden layer of k sigmoid units, sigmoid output, cross-entropy: dL/dv_j, dL/dc, dL/dw_ij, dL/db_j",
        "mlp",
        options=("shared_bias",),
        variants={"mlp-shared-bias": Variant(
            {"shared_bias": True},
            "The same network with one bias shared by every hidden unit, so its gradient sums over the units",
        )},
    ),
    Contents(
        "softmax-regression",
        "Softmax over C classes with a one-hot label: the softmax Jacobian and dL/dw_ij = (p_j - y_j) x_i",
        "softmax_regression",
    ),
    Contents(
        "mlp-softmax",
        "A hidden layer of k sigmoid units under a softmax output over C classes, with cross-entropy",
        "mlp_softmax",
    ),
    Contents(
        "two-weight-chain",
        "The chain network x -> w1 -> g1 -> w2 -> g2 -> Loss: backpropagation and the GD update",
        "two_weight_chain",
        options=("activation", "loss", "hidden_activation", "output_activation"),
        variants={
            "two-weight-chain-general": Variant(
                {"activation": ABSTRACT},
                "The handout's general chain: g1 and g2 left unnamed, the quadratic loss: "
                "(a2 - y*)·g2'(z2)·w2·g1'(z1)·x",
            ),
            "two-weight-chain-abstract": Variant(
                {"activation": ABSTRACT, "loss": ABSTRACT},
                "The same chain with g1, g2 and the loss all left as unnamed functions: the chain rule alone",
            ),
            "two-weight-chain-cross-entropy": Variant(
                {"loss": "cross-entropy"},
                "The same chain with the cross-entropy loss, which cancels the output sigmoid's partial",
            ),
        },
    ),
)


def catalogue_names() -> list[str]:
    """Every name ``symgrad derive`` accepts: each model, then its named variants."""
    names = []
    for entry in CONTENTS:
        names += [entry.name, *entry.variants]
    return names


def descriptions() -> dict[str, str]:
    """Each name ``symgrad derive`` accepts, with what it is in words."""
    described = {}
    for entry in CONTENTS:
        described[entry.name] = entry.description
        described.update({name: variant.description for name, variant in entry.variants.items()})
    return described
