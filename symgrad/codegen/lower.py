"""Lowering: any model's derivation becomes a :class:`~symgrad.codegen.plan.Plan` of array code.

One path for every model.  A scalar model (the two-weight chain) is an indexed model with no
indices, logistic regression has one index over the features, a network has layers of units:
each is per-sample index notation, and ``tensor.py`` turns index notation into whole-array nodes.
The steps follow SymForce's ``print_code``:

1. the forward nodes, lowered, become assignments under their model names (``z1``, ``H``, ``p``);
2. the loss (in stable form, ``rewrite.py``) and each parameter's gradient ``derivation.gradient(p)``
   are the per-sample outputs; one ``sympy.cse`` runs over all of them, so the loss and every
   gradient share one forward pass, and the temporaries are named ``t0, t1, …``;
3. each output becomes a mean over the samples (``np.mean(t)``, ``(h - y) @ X / len(X)``);
4. each update is the derivation's update rule, with ∂L/∂w read from the gradient.

Nothing here types a formula.  What the arrays cannot hold is refused before anything is derived
(``shapes.why_not_held``); what the lowering cannot write as array code is refused with one line
naming it (``tensor.py``).
"""

from __future__ import annotations

import sympy as sp

from symgrad.codegen.names import check_names, model_names, symbol_map
from symgrad.codegen.plan import GRADIENTS, Assignment, IndexForm, Param, Plan, UnitAssignment, update_rule
from symgrad.codegen.rewrite import log_softmax, softmax_parts, stable_loss
from symgrad.codegen.shapes import index_ranges, indices_of, shapes, size_name, sizes, why_not_held
from symgrad.codegen.tensor import SAMPLE, Array, Lowering
from symgrad.derivation.steps import Derivation
from symgrad.errors import UsageError
from symgrad.model.graph import Model


def why_not_generated(model: Model | None) -> str | None:
    """Why a model has no generated module, or None when it can have one.

    Read from the graph alone (no derivation), so that listing what can be generated is instant.
    """
    if model is None or not model.params:
        return "it has no parameters to train"
    undefined = {type(f).__name__ for node in model.nodes for f in node.value.atoms(sp.core.function.AppliedUndef)}
    if undefined:
        return f"its functions {', '.join(sorted(undefined))} are abstract, with no formula to compute"
    return why_not_held(model)


def lower(derivation: Derivation, name: str) -> Plan:
    """The derivation of model ``name`` as a :class:`Plan`; a one-line UsageError when it cannot be one."""
    model = derivation.model
    reason = why_not_generated(model)
    if reason:
        raise UsageError(f"cannot generate {name}: {reason}")
    names = model_names(model)
    check_names(name, names)
    python = symbol_map(names)  # each quantity (and its indexed base) → the symbol of its Python name
    lowering = Lowering(_arrays(model, python), list(index_ranges(model)), name)
    data = python[model.inputs[0]]

    forward, unit_forward, softmaxes = _forward(model, lowering, python, name)
    loss, loss_rules = stable_loss(model)

    def is_log_softmax(e: sp.Expr) -> bool:
        return isinstance(e, sp.log) and isinstance(e.args[0], sp.Indexed) and e.args[0].base in softmaxes

    loss = loss.replace(is_log_softmax, lambda e: log_softmax(*softmaxes[e.args[0].base], at=e.args[0]))
    if lowering.axes(loss) != {SAMPLE}:
        raise UsageError(f"cannot generate {name}: the loss is not one number per sample")
    per_sample = [loss, *(_gradient(derivation, param, lowering, name) for param in model.params)]
    temporaries, unit_temporaries, reduced = _shared_subexpressions(
        per_sample, lowering, set(python.values()) | {GRADIENTS})

    params = tuple(Param(python[p].name, _shape(model, p, python)) for p in model.params)
    gradients = tuple((param.key, lowering.sample_mean(expr, data))
                      for param, expr in zip(params, reduced[1:], strict=True))
    stable_notes = tuple((sp.log(symbol), lowering.lower(log_softmax(symbol, scores, total, at=symbol)))
                         for symbol, scores, total in softmaxes.values())
    return Plan(
        name=name,
        model=model,
        names=tuple(names),
        data=data,
        label=python[model.label],
        params=params,
        sizes=sizes(model, python),
        shapes=shapes(model, python),
        assignments=(*forward, *temporaries),
        prediction=forward[-1].target,
        loss=lowering.sample_mean(reduced[0], data),
        loss_rules=tuple(loss_rules),
        stable_notes=stable_notes,
        gradients=gradients,
        updates=tuple((python[p].name, update_rule(derivation, p, python, name)) for p in model.params),
        per_sample=IndexForm(
            arrays=dict(lowering.arrays),
            rows=frozenset(_key(q) for q in (model.inputs[0], model.label)),
            ranges=_unit_ranges(model, python, [a.expr for a in (*unit_forward, *unit_temporaries)] + reduced),
            assignments=(*unit_forward, *unit_temporaries),
            outputs=tuple(reduced),
        ),
    )


def _arrays(model: Model, python: dict) -> dict[sp.Basic, Array]:
    """Every leaf the code reads, keyed by its IndexedBase or Symbol: batched (one row per sample) or not."""

    def array(quantity: sp.Expr, batched: bool) -> tuple[sp.Basic, Array]:
        return _key(quantity), Array(python[quantity], batched)

    arrays = dict([array(model.inputs[0], True), array(model.label, True)])
    arrays.update(array(p, False) for p in model.params)
    arrays.update(array(n.symbol, True) for n in model.forward_nodes)
    return arrays


def _unit_ranges(model: Model, python: dict, exprs: list[sp.Expr]) -> dict[sp.Symbol, str]:
    """Each index's size as a Python size name (or a number): the model's indices, and those of the sums in
    ``exprs`` (a log-softmax's fresh q')."""
    ranges = {index: high for index, (_, high) in index_ranges(model).items()}
    for expr in exprs:
        for total in expr.atoms(sp.Sum):
            ranges.update({index: high for index, _, high in total.limits if index not in ranges})
    return {index: size_name(high, python) for index, high in ranges.items()}


def _key(quantity: sp.Expr) -> sp.Basic:
    """How expressions name a quantity: h_j by its IndexedBase h, a scalar by its symbol."""
    return quantity.base if isinstance(quantity, sp.Indexed) else quantity


def _forward(model: Model, lowering: Lowering, python: dict, name: str):
    """The forward nodes as assignments (as arrays, and for one sample), and each softmax node's parts."""
    softmaxes = {}
    forward = []
    unit_forward = []
    for node in model.forward_nodes:
        value = node.value
        parts = softmax_parts(value)
        if parts is not None:
            softmaxes[node.symbol.base] = (node.symbol, *parts)
            value = log_softmax(node.symbol, *parts, at=node.symbol)
        if lowering.canonical(lowering.axes(value)) != lowering.leaf_axes(node.symbol):
            raise UsageError(f"cannot generate {name}: the node {node.symbol} is not defined for each of its units")
        code, note = lowering.lower(value), _text(model, node.expr)
        if parts is not None:  # e^{ln p}, built after lowering: SymPy would fold e^{u - ln S} back into e^u / S
            code, note = sp.exp(code), f"softmax({_text(model, parts[0])})"
            value = sp.exp(value, evaluate=False)
        forward.append(Assignment(python[node.symbol], code, note))
        unit_forward.append(UnitAssignment(_key(node.symbol), python[node.symbol].name, value,
                                           indices_of(node.symbol)))
    return forward, unit_forward, softmaxes


def _gradient(derivation: Derivation, param: sp.Expr, lowering: Lowering, name: str) -> sp.Expr:
    """∂L/∂param for one sample, with exactly the free indices of ``param`` (∂L/∂w_j reads x_j)."""
    gradient = derivation.gradient(param)
    free = lowering.axes(gradient) - {SAMPLE}
    if free != set(indices_of(param)):
        raise UsageError(f"cannot generate {name}: the gradient for {param} has free indices "
                         f"{sorted(map(str, free))}, not those of {param}")
    return gradient


def _text(model: Model, expr: sp.Expr) -> str:
    from symgrad.rendering.printing import printers_for

    return printers_for(model)[1].doprint(expr)


def _shared_subexpressions(outputs: list[sp.Expr], lowering: Lowering, taken: set[sp.Symbol]):
    """One CSE over the per-sample loss and gradients; each temporary becomes an array with its own axes.

    Each indexed leaf stands in as a plain symbol during the CSE, so that it is not pulled out as a
    temporary of its own (``t0 = x[i]``); sums keep their bound indices.
    """
    leaves = {}

    def stand_in(expr: sp.Expr) -> sp.Expr:
        if isinstance(expr, sp.Indexed):
            return leaves.setdefault(expr, sp.Symbol(f"leaf {expr}"))
        if not expr.args or isinstance(expr, sp.Tuple):
            return expr
        return expr.func(*(stand_in(a) for a in expr.args))

    hidden = [stand_in(o) for o in outputs]
    back = {symbol: leaf for leaf, symbol in leaves.items()}
    names = sp.numbered_symbols("t", exclude=taken | set(leaves.values()))
    found, reduced = sp.cse(hidden, symbols=names)
    assignments, units = [], []
    for target, expr in found:
        expr = expr.xreplace(back)
        axes = lowering.canonical(lowering.axes(expr))
        assignments.append(Assignment(target, lowering.lower(expr)))
        units.append(UnitAssignment(target, target.name, expr, tuple(a for a in axes if a != SAMPLE)))
        lowering.arrays[target] = Array(target, SAMPLE in axes, axes)
    return tuple(assignments), tuple(units), [r.xreplace(back) for r in reduced]


def _shape(model: Model, param: sp.Expr, python: dict) -> tuple[str, ...]:
    """A parameter's shape as size names (a size the model fixes as a number stays that number)."""
    ranges = index_ranges(model)
    return tuple(size_name(ranges[i][1], python) for i in indices_of(param))
