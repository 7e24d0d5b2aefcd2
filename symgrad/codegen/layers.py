"""Lowering a layered model (h_j, w_ij, softmax) into a :class:`~symgrad.codegen.lower.Plan`.

The scalar and vector models go through ``lower.py``; a model with a layer of units, a matrix
parameter or a one-hot label comes here.  The steps are the same (forward nodes as assignments,
one CSE over the loss and every gradient, each gradient a mean over the samples, the derivation's
update rules), but every expression is in index notation for one sample, and ``tensor.py`` turns
it into code on whole arrays.  Nothing here types a formula: the forward pass is the model's
nodes, the loss is the model's loss and the gradients are ``derivation.gradient(param)``.

Two stable forms are applied, both as rewrites of the model's own expressions:

- a softmax node p_l = e^{u_l} / Σ_q e^{u_q} is computed as e^{u_l - ln Σ_q e^{u_q}}, and the loss's
  ln p_l as u_l - ln Σ_q e^{u_q}, where ln Σ e^u is the module's ``_logsumexp`` (no overflow at
  u = 1000, no log of an underflowed 0);
- the logs of a sigmoid output go through ``rewrite.py``'s rules, as in the scalar models.

``Layout`` says where each size comes from when ``init_params`` makes the parameters: an axis of
the input or of the one-hot label, or, for the hidden layer, the keyword ``hidden``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symgrad.codegen.names import check_names, model_names, symbol_map
from symgrad.codegen.plan import GRADIENTS, Assignment, Param, Plan, update_rule
from symgrad.codegen.rewrite import stable_loss
from symgrad.codegen.tensor import SAMPLE, Array, Lowering
from symgrad.derivation.steps import Derivation
from symgrad.errors import UsageError
from symgrad.model.graph import Model

#: The keyword of ``init_params`` that sets a size the data does not fix (the hidden layer's k).
HIDDEN = "hidden"
#: Its default.
HIDDEN_DEFAULT = 16


@dataclass(frozen=True)
class Size:
    """A size symbol (m, k, C): its Python name, the code that reads it in ``init_params``, and what it is."""

    name: str
    code: str
    meaning: str


@dataclass(frozen=True)
class Layout:
    """What a layered module needs beyond the Plan: its sizes and the shapes of its arrays."""

    sizes: tuple[Size, ...]
    shapes: dict[str, tuple[str, ...]]  # Python name → shape, "N" for the samples
    loss_notes: tuple[tuple[sp.Expr, sp.Expr], ...]  # (ln p_l, its stable array form), for the docstring


def is_layered(model: Model | None) -> bool:
    """Whether ``model`` has a layer of units, a matrix parameter or an indexed label: this module's models."""
    if model is None:
        return False
    quantities = [model.label, *model.params, *(n.symbol for n in model.nodes)]
    return any(isinstance(q, sp.Indexed) and (q in model.params and len(q.indices) > 1 or q not in model.params)
               for q in quantities)


def why_not_layered(model: Model) -> str | None:
    """Why this backend cannot lower a layered model, in one line, or None when it can."""
    if len(model.inputs) != 1:
        return f"it has {len(model.inputs)} inputs; the NumPy backend takes one"
    data = model.inputs[0]
    if not isinstance(data, sp.Indexed) or len(data.indices) != 1:
        return f"its input {data} is not a vector x_i; a layered module takes one row of features per sample"
    quantities = [data, model.label, *model.params, *(n.symbol for n in model.nodes)]
    for quantity in quantities:
        if not isinstance(quantity, sp.Indexed):
            continue
        unknown = [i for i in quantity.indices if i not in model.index_ranges]
        if unknown:
            return f"the range of the index {unknown[0]} of {quantity} is not in the model's index_ranges"
        if any(model.index_ranges[i][0] != 1 for i in quantity.indices):
            return f"an index of {quantity} does not start at 1"
    order = list(model.index_ranges)
    for quantity in (*model.params, *(n.symbol for n in model.forward_nodes)):
        indices = quantity.indices if isinstance(quantity, sp.Indexed) else ()
        if [order.index(i) for i in indices] != sorted(order.index(i) for i in indices):
            return f"{quantity} lists its indices out of the model's order; its array would need transposing"
    if len(_free_sizes(model)) > 1:
        return "it has more than one layer size that the data does not fix; init_params takes one (hidden)"
    return None


def _data_sizes(model: Model) -> dict[sp.Expr, tuple[str, int, str]]:
    """Each size the data fixes → (which array, its axis, what the size counts)."""
    sizes = {}
    for quantity, what in ((model.inputs[0], "features"), (model.label, "classes")):
        if isinstance(quantity, sp.Indexed):
            for axis, index in enumerate(quantity.indices, start=1):
                sizes.setdefault(model.index_ranges[index][1], (quantity, axis, what))
    return sizes


def _free_sizes(model: Model) -> list[sp.Expr]:
    """The sizes of the parameters that the data does not fix (the hidden layer's k), in model order."""
    fixed = _data_sizes(model)
    free = []
    for param in model.params:
        for index in param.indices if isinstance(param, sp.Indexed) else ():
            size = model.index_ranges[index][1]
            if size not in fixed and size not in free:
                free.append(size)
    return free


def softmax_parts(node_value: sp.Expr) -> tuple[sp.Indexed, sp.Sum] | None:
    """(u_l, Σ_q e^{u_q}) when ``node_value`` is the softmax e^{u_l} / Σ_q e^{u_q}, else None."""
    numerator, denominator = sp.fraction(node_value)
    if not (isinstance(numerator, sp.exp) and isinstance(numerator.args[0], sp.Indexed)):
        return None
    if not (isinstance(denominator, sp.Sum) and isinstance(denominator.function, sp.exp)):
        return None
    (index, _, _), = denominator.limits
    if denominator.function.args[0].xreplace({index: numerator.args[0].indices[-1]}) != numerator.args[0]:
        return None
    return numerator.args[0], denominator


def _log_softmax(symbol: sp.Indexed, scores: sp.Indexed, total: sp.Sum, at: sp.Indexed) -> sp.Expr:
    """ln p at the unit ``at`` (p_q for a node p_l): u_q - ln Σ_r e^{u_r}, the sum's index kept apart from q."""
    renaming = dict(zip(symbol.indices, at.indices, strict=True))
    (bound, low, high), = total.limits
    taken = {s.name for s in at.free_symbols | scores.free_symbols}
    fresh = bound
    while fresh.name in taken:
        fresh = sp.Symbol(fresh.name + "'", integer=True, positive=True)
    summand = total.function.xreplace({bound: fresh})
    return scores.xreplace(renaming) - sp.log(sp.Sum(summand, (fresh, low, high)))


def lower_layers(derivation: Derivation, name: str) -> tuple[Plan, Layout]:
    """The derivation of layered model ``name`` as a Plan (array code) and its Layout; one-line UsageError if not."""
    model = derivation.model
    reason = why_not_layered(model)
    if reason:
        raise UsageError(f"cannot generate {name}: {reason}")
    names = model_names(model)
    check_names(name, names)
    rename = symbol_map(names)
    python = rename  # each quantity (and its indexed base) → the symbol of its Python name

    def array(quantity: sp.Expr, batched: bool) -> tuple[sp.Basic, Array]:
        key = quantity.base if isinstance(quantity, sp.Indexed) else quantity
        return key, Array(python[quantity], batched)

    arrays = dict([array(model.inputs[0], True), array(model.label, True)])
    arrays.update(array(p, False) for p in model.params)
    arrays.update(array(n.symbol, True) for n in model.forward_nodes)
    lowering = Lowering(arrays, list(model.index_ranges), name)
    data = python[model.inputs[0]]

    softmaxes = {}
    forward = []
    for node in model.forward_nodes:
        value = node.value
        parts = softmax_parts(value)
        if parts is not None:
            softmaxes[node.symbol.base] = (node.symbol, *parts)
            value = _log_softmax(node.symbol, *parts, at=node.symbol)
        stored = lowering.leaf_axes(node.symbol)
        if lowering.canonical(lowering.axes(value)) != stored:
            raise UsageError(f"cannot generate {name}: the node {node.symbol} is not defined for each of its units")
        code, note = lowering.lower(value), _text(model, node.expr)
        if parts is not None:  # e^{ln p}, built after lowering: SymPy would fold e^{u - ln S} back into e^u / S
            code, note = sp.exp(code), f"softmax({_text(model, parts[0])})"
        forward.append(Assignment(python[node.symbol], code, note))

    loss, loss_rules = stable_loss(model)

    def is_log_softmax(e: sp.Expr) -> bool:
        return isinstance(e, sp.log) and isinstance(e.args[0], sp.Indexed) and e.args[0].base in softmaxes

    loss = loss.replace(is_log_softmax, lambda e: _log_softmax(*softmaxes[e.args[0].base], at=e.args[0]))
    if lowering.axes(loss) != {SAMPLE}:
        raise UsageError(f"cannot generate {name}: the loss is not one number per sample")
    notes = tuple((sp.log(symbol), _log_softmax(symbol, scores, total, at=symbol))
                  for symbol, scores, total in softmaxes.values())

    per_sample = [loss]
    for param in model.params:
        gradient = derivation.gradient(param)
        free = lowering.axes(gradient) - {SAMPLE}
        indices = set(param.indices) if isinstance(param, sp.Indexed) else set()
        if free != indices:
            raise UsageError(f"cannot generate {name}: the gradient for {param} has free indices "
                             f"{sorted(map(str, free))}, not those of {param}")
        per_sample.append(gradient)

    temporaries, reduced = _shared_subexpressions(per_sample, lowering, set(python.values()) | {GRADIENTS})
    assignments = [*forward, *temporaries]
    params = tuple(Param(python[p].name, _shape(model, p, python)) for p in model.params)
    gradients = []
    for param, expr in zip(params, reduced[1:], strict=True):
        gradients.append((param.key, lowering.sample_mean(expr, data)))
    updates = tuple((python[p].name, update_rule(derivation, p, rename, name)) for p in model.params)
    plan = Plan(
        name=name,
        model=model,
        names=tuple(names),
        data=data,
        label=python[model.label],
        params=params,
        dims=(),
        assignments=tuple(assignments),
        prediction=forward[-1].target,
        loss=lowering.sample_mean(reduced[0], data),
        loss_rules=tuple(loss_rules),
        gradients=tuple(gradients),
        updates=updates,
    )
    notes = tuple((lhs, lowering.lower(rhs)) for lhs, rhs in notes)
    layout = Layout(_sizes(model, python), _shapes(model, python), notes)
    return plan, layout


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
    assignments = []
    for target, expr in found:
        expr = expr.xreplace(back)
        axes = lowering.canonical(lowering.axes(expr))
        assignments.append(Assignment(target, lowering.lower(expr)))
        lowering.arrays[target] = Array(target, SAMPLE in axes, axes)
    return assignments, [r.xreplace(back) for r in reduced]


def _shape(model: Model, param: sp.Expr, python: dict) -> tuple[str, ...]:
    """A parameter's shape as size names (a size the model fixes as a number stays that number)."""
    if not isinstance(param, sp.Indexed):
        return ()
    sizes = [model.index_ranges[i][1] for i in param.indices]
    return tuple(python[size].name if size in python else str(size) for size in sizes)


def _sizes(model: Model, python: dict) -> tuple[Size, ...]:
    """Each size symbol, read from the data's shape or from ``hidden``."""
    fixed = _data_sizes(model)
    sizes = []
    for size in [*fixed, *_free_sizes(model)]:
        if size not in python:
            continue  # a concrete number, not a name
        name = python[size].name
        if size in fixed:
            quantity, axis, what = fixed[size]
            code = f"np.shape({python[quantity].name})[{axis}]"
            sizes.append(Size(name, code, f"the number of {what}, {python[quantity].name}.shape[{axis}]"))
        else:
            meaning = f"the number of hidden units, init_params's {HIDDEN} (default {HIDDEN_DEFAULT})"
            sizes.append(Size(name, HIDDEN, meaning))
    return tuple(sizes)


def _shapes(model: Model, python: dict) -> dict[str, tuple[str, ...]]:
    """Each array's shape in size names, samples first ("N"): what the module's table of names shows."""
    shapes = {}
    per_sample = [model.inputs[0], model.label, *(n.symbol for n in model.forward_nodes)]
    for quantity in (*per_sample, *model.params):
        indices = quantity.indices if isinstance(quantity, sp.Indexed) else ()
        sizes = tuple(python.get(model.index_ranges[i][1], model.index_ranges[i][1]) for i in indices)
        shapes[python[quantity].name] = (("N",) if quantity in per_sample else ()) + tuple(str(s) for s in sizes)
    return shapes
