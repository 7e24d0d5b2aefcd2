"""The arrays of a generated module: each quantity's shape, and where each size comes from.

Every model is held the same way.  A quantity written with indices is an array with one axis per
index, and a per-sample quantity (the input, the label, every forward node) has the samples first:
x → ``x`` (N,), x_i → ``X`` (N, k), h_j → ``H`` (N, k), y_l → ``Y`` (N, C), w_ij → ``w`` (m, k), and a
scalar parameter is a float.  So a scalar model is the special case with no indices, and logistic
regression the one with a single index over the features.

A size (k, m, C) is read from the data where the data has that axis (``X.shape[1]``, a one-hot
label's columns); the one size the data does not fix (a hidden layer's k) is ``init_params``'s
keyword ``hidden``.  A model whose shapes this cannot hold is refused with the reason, in one line,
before anything is derived (:func:`why_not_held`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symgrad.codegen.names import SAMPLES
from symgrad.model.graph import Model

#: The keyword of ``init_params`` that sets a size the data does not fix (the hidden layer's k).
HIDDEN = "hidden"
#: Its default.
HIDDEN_DEFAULT = 16


@dataclass(frozen=True)
class Size:
    """A size symbol (m, k, C): its Python name, where ``init_params`` reads it, and what it is.

    ``array`` and ``axis`` name the argument whose shape has it (``X``, 1); ``array`` is None for the
    size the data does not fix, which is ``init_params``'s keyword ``hidden``.
    """

    name: str
    array: str | None
    axis: int
    meaning: str


def index_ranges(model: Model) -> dict[sp.Symbol, tuple[sp.Expr, sp.Expr]]:
    """Each index's range: the model's own ``index_ranges``, else what the sums say.

    A layered model states its ranges; logistic regression states only Σ_{i=1}^{k} w_i x_i, whose
    limits are the range of i and of the axis of x and of w that i runs over, so the x_j and w_j the
    model names as its input and parameter have j from 1 to k too.
    """
    ranges = dict(model.index_ranges)
    axes = {}  # (IndexedBase, position) → the range a sum gives that axis
    for expr in (*(node.value for node in model.nodes), model.loss.value):
        for total in expr.atoms(sp.Sum):
            for index, low, high in total.limits:
                ranges.setdefault(index, (low, high))
                for term in total.function.atoms(sp.Indexed):
                    for position, written in enumerate(term.indices):
                        if written == index:
                            axes.setdefault((term.base, position), (low, high))
    for quantity in (*model.inputs, model.label, *model.params, *(node.symbol for node in model.nodes)):
        for position, index in enumerate(indices_of(quantity)):
            if index not in ranges and (quantity.base, position) in axes:
                ranges[index] = axes[quantity.base, position]
    return ranges


def indices_of(quantity: sp.Expr) -> tuple[sp.Expr, ...]:
    """The indices a quantity is written with (none for a scalar)."""
    return tuple(quantity.indices) if isinstance(quantity, sp.Indexed) else ()


def why_not_held(model: Model) -> str | None:
    """Why the arrays of a module cannot hold ``model``'s quantities, in one line, or None when they can."""
    if len(model.inputs) != 1:
        return f"it has {len(model.inputs)} inputs; a generated module takes one"
    data = model.inputs[0]
    if len(indices_of(data)) > 1:
        return f"its input {data} has {len(indices_of(data))} indices; a module takes a value or a row per sample"
    ranges = index_ranges(model)
    quantities = [data, model.label, *model.params, *(n.symbol for n in model.nodes)]
    for quantity in quantities:
        unknown = [i for i in indices_of(quantity) if i not in ranges]
        if unknown:
            return f"the range of the index {unknown[0]} of {quantity} is not known (no sum or index_ranges gives it)"
        if any(ranges[i][0] != 1 for i in indices_of(quantity)):
            return f"an index of {quantity} does not start at 1"
    order = list(ranges)
    for quantity in (*model.params, *(n.symbol for n in model.forward_nodes)):
        positions = [order.index(i) for i in indices_of(quantity)]
        if positions != sorted(positions):
            return f"{quantity} lists its indices out of the model's order; its array would need transposing"
    if len(_free_sizes(model)) > 1:
        return "it has more than one layer size that the data does not fix; init_params takes one (hidden)"
    return None


def _data_sizes(model: Model) -> dict[sp.Expr, tuple[sp.Expr, int, str]]:
    """Each size the data fixes → (the quantity that has it, its axis, what the size counts)."""
    ranges = index_ranges(model)
    sizes = {}
    for quantity, what in ((model.inputs[0], "features"), (model.label, "classes")):
        for axis, index in enumerate(indices_of(quantity), start=1):
            sizes.setdefault(ranges[index][1], (quantity, axis, what))
    return sizes


def _free_sizes(model: Model) -> list[sp.Expr]:
    """The sizes of the parameters that the data does not fix (the hidden layer's k), in model order."""
    ranges = index_ranges(model)
    fixed = _data_sizes(model)
    free = []
    for param in model.params:
        for index in indices_of(param):
            size = ranges[index][1]
            if size not in fixed and size not in free:
                free.append(size)
    return free


def sizes(model: Model, python: dict) -> tuple[Size, ...]:
    """Each size symbol, read from the data's shape or from ``hidden`` (a size fixed as a number needs neither)."""
    fixed = _data_sizes(model)
    found = []
    for size in [*fixed, *_free_sizes(model)]:
        if size not in python:
            continue
        name = python[size].name
        if size in fixed:
            quantity, axis, what = fixed[size]
            array = python[quantity].name
            found.append(Size(name, array, axis, f"the number of {what}, {array}.shape[{axis}]"))
        else:
            meaning = f"the number of hidden units, init_params's {HIDDEN} (default {HIDDEN_DEFAULT})"
            found.append(Size(name, None, 0, meaning))
    return tuple(found)


def shapes(model: Model, python: dict) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each array's Python name and shape in size names, samples first (``N``)."""
    ranges = index_ranges(model)
    per_sample = [model.inputs[0], model.label, *(n.symbol for n in model.forward_nodes)]
    found = []
    for quantity in (*per_sample, *model.params):
        dims = tuple(size_name(ranges[i][1], python) for i in indices_of(quantity))
        found.append((python[quantity].name, ((SAMPLES,) if quantity in per_sample else ()) + dims))
    return tuple(found)


def size_name(size: sp.Expr, python: dict) -> str:
    """A size as the code names it: its Python name (``m``, ``k``), or the number a model fixes it to (``3``)."""
    return str(python.get(size, size))
