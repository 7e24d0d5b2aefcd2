"""Stand-in derivations of the layered models, for testing code generation before the engine derives them.

The gradients are typed here from the issue's statement of the results, in the models' own symbols,
and packaged as a :class:`~symgrad.derivation.Derivation` (results and update rules, no proof
steps).  The code generator reads them exactly as it reads a real derivation.  Once the engine
derives a model, ``derivation_for`` returns the real derivation instead.
"""

from __future__ import annotations

import functools

import sympy as sp

from symgrad.derivation import ASSIGN, Derivation, Equation, Result, Step
from symgrad.graph import Model, Partial
from symgrad.models import catalogue_names, derive_named, mlp, mlp_softmax, softmax_regression

BUILDERS = {
    "mlp": mlp,
    "mlp-shared-bias": lambda: mlp(shared_bias=True),
    "softmax-regression": softmax_regression,
    "mlp-softmax": mlp_softmax,
}


def _symbols(model: Model) -> dict[str, sp.Basic]:
    """Every base and symbol of the model by name: x, y, w, b, z, h, u, p, …"""
    found = {}
    for quantity in (*model.inputs, model.label, *model.params, *(n.symbol for n in model.nodes)):
        base = quantity.base if isinstance(quantity, sp.Indexed) else quantity
        found[str(base)] = base
    found.update({str(i): i for i in model.index_ranges})
    return found


def expected_gradients(model: Model) -> dict[sp.Expr, sp.Expr]:
    """∂L/∂param for one sample, in forward-pass values, as the issue states them."""
    s = _symbols(model)
    i, j = s["i"], s["j"]
    x = s["x"]
    if model.name.startswith("mlp") and model.name != "mlp-softmax":
        v, c, w, h, p, y = s["v"], s["c"], s["w"], s["h"], s["p"], s["y"]
        k = model.index_ranges[j][1]
        delta = v[j] * h[j] * (1 - h[j]) * (p - y)
        bias = model.params[3]
        b_gradient = sp.Sum(delta, (j, 1, k)) if isinstance(bias, sp.Symbol) else delta
        return {v[j]: h[j] * (p - y), c: p - y, w[i, j]: x[i] * delta, bias: b_gradient}
    if model.name == "softmax-regression":
        w, b, p, y = s["w"], s["b"], s["p"], s["y"]
        return {w[i, j]: x[i] * (p[j] - y[j]), b[j]: p[j] - y[j]}
    l = s["l"]  # noqa: E741  (the model's class index)
    v, c, w, b, h, p, y = s["v"], s["c"], s["w"], s["b"], s["h"], s["p"], s["y"]
    classes = model.index_ranges[l][1]
    back = sp.Sum(v[j, l] * (p[l] - y[l]), (l, 1, classes))
    return {v[j, l]: h[j] * (p[l] - y[l]), c[l]: p[l] - y[l], w[i, j]: x[i] * h[j] * (1 - h[j]) * back,
            b[j]: h[j] * (1 - h[j]) * back}


def standin(model: Model) -> Derivation:
    """A Derivation holding the expected gradients and the gradient-descent updates of ``model``."""
    loss = model.loss.symbol
    derivation = Derivation(name=model.name, title=model.description, model=model)
    updates = []
    for param, value in expected_gradients(model).items():
        target = Partial(loss, param)
        derivation.results.append(Result(f"d{loss}/d{param}", "gradient", target, value, value))
        rule = param - model.step_size * target
        updates.append(Equation(param, (rule,), relation=ASSIGN, definition=True))
        derivation.results.append(Result(f"update_{param}", "update", param, param - model.step_size * value,
                                         param - model.step_size * value, relation=ASSIGN))
    derivation.steps.append(Step(("Gradient-descent update",), ("",), tuple(updates)))
    return derivation


@functools.cache
def derivation_for(name: str) -> Derivation:
    """The real derivation of ``name`` once the catalogue has the model (the engine derives it), else the stand-in."""
    if name in catalogue_names():
        return derive_named(name)
    return standin(BUILDERS[name]())
