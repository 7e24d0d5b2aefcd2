"""Lowering: a derivation becomes numbered assignments and batched outputs, all SymPy.

The pipeline follows SymForce's ``print_code``: collect every output (the loss and each gradient,
per sample), run one ``sympy.cse`` over all of them together so the loss and the gradients share
one forward pass, name the temporaries deterministically (``t0, t1, …``), then wrap each output in
its batch reduction.  The forward nodes come first as assignments under their model names (``z1``,
``a1``, …); the derived results are already written in forward-pass values, so CSE only has to find
what the results share beyond the nodes.

Nothing here types a formula: the forward pass is the model's nodes, the loss is the model's loss
(in stable form, ``rewrite.py``), the gradients are the derivation's results, and each update is the
derivation's update rule with ∂L/∂w read from the gradient.
"""

from __future__ import annotations

import sympy as sp

from symgrad.codegen.layers import is_layered, why_not_layered
from symgrad.codegen.names import check_names, model_names, symbol_map
from symgrad.codegen.nodes import FeatureMean, MatVec, SampleMean
from symgrad.codegen.plan import GRADIENTS, Assignment, Param, Plan, update_rule
from symgrad.codegen.rewrite import stable_loss
from symgrad.derivation.steps import Derivation
from symgrad.errors import UsageError
from symgrad.model.graph import Model


def why_not_generated(model: Model | None) -> str | None:
    """Why a catalogue entry has no NumPy module, or None when it can have one.

    Read from the graph alone (no derivation), so that listing what can be generated is instant.
    Besides models with nothing to train or with abstract functions, this backend leaves out
    shapes it does not batch: more than one input, and the layered shapes (matrix parameters w_ij,
    layers of units h_j) that ``layers.py`` does not lower, for the reason it gives.
    """
    if model is None or not model.params:
        return "it has no parameters to train"
    undefined = {type(f).__name__ for node in model.nodes for f in node.value.atoms(sp.core.function.AppliedUndef)}
    if undefined:
        return f"its functions {', '.join(sorted(undefined))} are abstract, with no formula to compute"
    if is_layered(model):
        return why_not_layered(model)
    if len(model.inputs) != 1:
        return f"it has {len(model.inputs)} inputs; the NumPy backend takes one"
    vectors = [q for q in (*model.inputs, *model.params) if isinstance(q, sp.Indexed)]
    if any(q not in model.vector_forms for q in vectors):
        return ("its vectors are not an input x_i and a weight w_i met only in sums Σ_i w_i x_i, "
                "the shape that becomes X @ w")
    return None


def lower(derivation: Derivation, name: str) -> Plan:
    """The derivation of catalogue model ``name`` as a :class:`Plan`; one-line UsageError if it cannot be."""
    model = derivation.model
    reason = why_not_generated(model)
    if reason:
        raise UsageError(f"cannot generate {name}: {reason}")

    if is_layered(model):
        raise UsageError(f"cannot generate {name}: it has layers, which layers.lower_layers lowers, not lower")
    names = model_names(model)
    check_names(name, names)
    rename = symbol_map(names)
    if len(model.inputs) != 1:
        raise UsageError(f"cannot generate {name}: the generated interface takes one input, not {len(model.inputs)}")
    data = rename[model.inputs[0]]
    data_vector = model.vector_forms.get(model.inputs[0])

    forward = []
    for node in model.forward_nodes:
        expr = _lower_sums(node.value, model, name).xreplace(rename)
        forward.append(Assignment(rename[node.symbol], expr, _text(model, node.expr)))

    loss, loss_rules = stable_loss(model)
    outputs = [loss]
    for param in model.params:
        outputs.append(_per_sample_gradient(derivation, param, data_vector, name))
    outputs = [expr.xreplace(rename) for expr in outputs]
    computed = {a.target for a in forward} | {rename[model.label], data} | {rename[p] for p in model.params}
    _check_free_symbols(outputs, computed, name)

    used = set(rename.values()) | {GRADIENTS}
    temporaries, reduced = sp.cse(outputs, symbols=sp.numbered_symbols("t", exclude=used))
    assignments = [*forward, *(Assignment(t, e) for t, e in temporaries)]

    params = tuple(Param(rename[p].name, _dims(model, p, rename)) for p in model.params)
    gradients = []
    for param, per_sample in zip(params, reduced[1:], strict=True):
        total = FeatureMean(data, per_sample) if param.dims else SampleMean(per_sample)
        gradients.append((param.key, total))
    updates = tuple((rename[p].name, update_rule(derivation, p, rename, name)) for p in model.params)
    return Plan(
        name=name,
        model=model,
        names=tuple(names),
        data=data,
        label=rename[model.label],
        params=params,
        dims=_data_dims(model, rename),
        assignments=tuple(assignments),
        prediction=forward[-1].target,
        loss=SampleMean(reduced[0]),
        loss_rules=tuple(loss_rules),
        gradients=tuple(gradients),
        updates=updates,
    )


def _text(model: Model, expr: sp.Expr) -> str:
    from symgrad.rendering.printing import printers_for

    return printers_for(model)[1].doprint(expr)


def _lower_sums(expr: sp.Expr, model: Model, name: str) -> sp.Expr:
    """Σ_i w_i x_i (a parameter vector against an input vector) → ``MatVec(X, w)``, one value per sample."""
    input_bases = {q.base: model.vector_forms.get(q) for q in model.inputs if isinstance(q, sp.Indexed)}
    param_bases = {q.base: model.vector_forms.get(q) for q in model.params if isinstance(q, sp.Indexed)}

    def as_matvec(total: sp.Sum) -> sp.Expr:
        (index, low, _), = total.limits if len(total.limits) == 1 else (None,)
        factors = sp.Mul.make_args(total.function)
        bases = {f.base: f for f in factors if isinstance(f, sp.Indexed) and f.indices == (index,)}
        inputs = [b for b in bases if b in input_bases]
        params = [b for b in bases if b in param_bases]
        if low != 1 or len(factors) != 2 or len(inputs) != 1 or len(params) != 1:
            raise UsageError(f"cannot generate {name}: only sums Σ_i w_i x_i of a parameter and an input become X @ w")
        return MatVec(input_bases[inputs[0]], param_bases[params[0]])

    return expr.replace(lambda e: isinstance(e, sp.Sum), as_matvec)


def _per_sample_gradient(derivation: Derivation, param: sp.Expr, data_vector: sp.Symbol | None, name: str) -> sp.Expr:
    """∂L/∂param for one sample; for a parameter vector, the scalar c in ∇_w L = c·**x**."""
    model = derivation.model
    vector = model.vector_forms.get(param)
    if vector is None:
        return derivation.gradient(param)
    gradient = derivation.gradient(vector)
    coefficient = gradient / data_vector if data_vector is not None else gradient
    if data_vector is None or coefficient.has(data_vector) or coefficient.has(sp.Indexed):
        raise UsageError(f"cannot generate {name}: the gradient for {vector} is not a scalar times the input")
    return coefficient


def _check_free_symbols(outputs: list[sp.Expr], known: set[sp.Symbol], name: str) -> None:
    unknown = sorted({s.name for o in outputs for s in o.free_symbols} - {s.name for s in known})
    if unknown:
        missing = ", ".join(unknown)
        raise UsageError(f"cannot generate {name}: the results use {missing}, which the forward pass does not compute")


def _dims(model: Model, param: sp.Expr, rename: dict[sp.Basic, sp.Symbol]) -> tuple[str, ...]:
    """A vector parameter's length is the size of the sum it appears in (k in Σ_{i=1}^{k} w_i x_i)."""
    if not isinstance(param, sp.Indexed):
        return ()
    for node in model.nodes:
        for total in node.value.atoms(sp.Sum):
            if total.has(param.base):
                (_, _, upper), = total.limits
                return (rename[upper].name,)
    raise UsageError(f"cannot generate {model.name}: the size of parameter {param.base} is not known")


def _data_dims(model: Model, rename: dict[sp.Basic, sp.Symbol]) -> tuple[tuple[str, int], ...]:
    """Each dimension name and the axis of the data array that has it (samples are axis 0)."""
    dims = {}
    for node in model.nodes:
        for total in node.value.atoms(sp.Sum):
            (_, _, upper), = total.limits
            dims[rename[upper].name] = 1
    return tuple(sorted(dims.items()))
