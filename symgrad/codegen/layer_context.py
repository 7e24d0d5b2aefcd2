"""The template's context for a layered model: ``context.py``'s, with shapes and sizes for layers.

``build_context`` prints the code, the formulas and the docstrings the same way for every model.
A layered model differs only in what the module's header and ``init_params`` say about shapes:
arrays of several axes (H is (N, k), w is (m, k)), a one-hot label (N, C), and a hidden size that
the data does not fix and ``init_params`` takes as the keyword ``hidden``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from symgrad.codegen.array_nodes import LOGSUMEXP_HELPER
from symgrad.codegen.context import argument_shapes, build_context, shape_text
from symgrad.codegen.layers import HIDDEN, HIDDEN_DEFAULT, Layout
from symgrad.codegen.plan import Plan
from symgrad.codegen.printer import SymgradNumPyPrinter
from symgrad.derivation.steps import Derivation
from symgrad.rendering.printing import printers_for

_ROLES = {
    "input": "the input, one sample per row",
    "label": "the label",
    "parameter": "a parameter",
    "node": "a forward-pass value",
}


def layered_context(plan: Plan, layout: Layout, derivation: Derivation) -> dict[str, Any]:
    """Every string the NumPy module template fills in, for a model with layers."""
    without_sizes = dataclasses.replace(plan, names=tuple(n for n in plan.names if n.role != "dimension"))
    context = build_context(without_sizes, derivation)
    _, text = printers_for(plan.model)
    printer = SymgradNumPyPrinter()
    context["names"] = _name_rows(plan, layout, context["names"])
    context["dims"] = [{"name": size.name, "size": size.code} for size in layout.sizes]
    label_dims = layout.shapes[plan.label.name]
    context.update(argument_shapes(plan.data.name, layout.shapes[plan.data.name], label_dims, plan.params))
    context["init_reads_label"] = len(label_dims) > 1  # init_params sizes C from a one-hot label's columns
    if any(size.code == HIDDEN for size in layout.sizes):
        hidden = next(size.name for size in layout.sizes if size.code == HIDDEN)
        context["init_options"] = [{"name": HIDDEN, "default": HIDDEN_DEFAULT}]
        context["init_doc"] = [f"{HIDDEN} is the number of hidden units {hidden} (default {HIDDEN_DEFAULT}); "
                               "the data fixes the other sizes."]
    if "_logsumexp(" in repr(context):  # a softmax: the module defines the helper it calls
        context["helpers"] = [*context["helpers"], LOGSUMEXP_HELPER]
    context["loss_notes"] = context["loss_notes"] + [
        f"{text.doprint(lhs)} = {printer.doprint(rhs)}" for lhs, rhs in layout.loss_notes
    ]
    return context


def _name_rows(plan: Plan, layout: Layout, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The table of names with each array's shape; the sizes say where init_params reads them."""
    sizes = {size.name: size for size in layout.sizes}
    by_name = {row["python"]: row for row in rows}
    table = []
    for name in plan.names:
        if name.role == "dimension":
            meaning = sizes[name.python].meaning if name.python in sizes else "a size"
        elif name.role in _ROLES:
            shape = layout.shapes[name.python]
            if not shape:
                meaning = f"{_ROLES[name.role]}, a float"
            else:
                role = "the one-hot label" if name.role == "label" and len(shape) > 1 else _ROLES[name.role]
                meaning = f"{role}, shape {shape_text(shape)}"
        else:
            meaning = by_name[name.python]["meaning"]
        table.append({"handout": name.handout, "python": name.python, "meaning": meaning})
    width_h = max(len(r["handout"]) for r in table)
    width_p = max(len(r["python"]) for r in table)
    for row in table:
        row["line"] = f"{row['handout'].ljust(width_h)}  {row['python'].ljust(width_p)}  {row['meaning']}"
    return table
