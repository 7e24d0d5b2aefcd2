"""The Numba target's loop for a model whose sample holds vectors: each kernel's body, from the Plan's index form.

A layer of units (h_j), a matrix parameter (w_ij) or a one-hot label (y_l) makes a sample's values
vectors.  Then the loop over the samples keeps, per run of samples, one buffer per layer (``H``, the
sample's h_j, overwritten sample after sample) and one float64 total of each parameter's shape; for
each sample it fills the buffers and adds its terms to the totals, with sums over units as inner loops
(``unit_loops.py``).  Measured against the NumPy module, whose layers are whole-array products
(``benchmarks/numba_layers.py``, docs/performance.md): reading each sample once and keeping its
layer in cache beats NumPy's passes over (N, k) temporaries.

The structure is the template's (``templates/numba/module.py.jinja``, the ``units`` branches); this
module only prints the plan's own assignments and outputs into it.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from symgrad.codegen.plan import Plan, reads
from symgrad.codegen.shapes import indices_of
from symgrad.codegen.unit_loops import UnitLoopPrinter


def units_bodies(plan: Plan) -> tuple[dict[str, Any], list[UnitLoopPrinter]]:
    """The template's ``forward``, ``loss``, ``gradient`` and ``loss_and_gradient`` bodies, and the printers
    that printed them (whose record says which helpers the module defines)."""
    form = plan.per_sample
    loss, *gradients = form.outputs
    axes = [indices_of(param) for param in plan.model.params]
    keys = [key for key, _ in plan.gradients]
    printers: list[UnitLoopPrinter] = []

    def body(outputs: list[tuple[sp.Expr, tuple[sp.Symbol, ...]]], forward: bool = False) -> dict[str, Any]:
        needed = form.needed(*(o for o, _ in outputs))
        read = set().union(*(reads(o) for o, _ in outputs), *(reads(a.expr) for a in needed))
        names = {form.arrays[key].name.name for key in read if key in form.arrays}
        unpack = [p for p in plan.params if p.key in names]
        label = plan.label.name in names
        printer = UnitLoopPrinter(form, _size_codes(plan, unpack, label))
        printers.append(printer)
        lines = [line for a in needed for line in printer.unit_assignment(a)]
        buffers = [{"name": a.target, "shape": printer.buffer_shape(a.axes)} for a in needed if a.axes]
        totals = []
        for number, (output, output_axes) in enumerate(outputs):
            if forward:
                lines += printer.assign("out", output, output_axes, row=True)
                continue
            lines += printer.assign(f"total{number}", output, output_axes, "+=")
            shape = ", ".join(printer.size(a) for a in output_axes)
            # "shape" for a run's row of the kernel's totals, np.zeros((chunks, shape)); "zeros" for one run's
            totals.append({"row": bool(output_axes), "shape": shape, "zeros": printer.buffer_shape(output_axes)})
        return {"unpack": unpack, "label": label, "real": True, "buffers": buffers,
                "run_lines": printer.run_scope.lines, "loop_lines": lines, "totals": totals,
                "out_shape": ", ".join(printer.size(a) for a in outputs[0][1]) if forward else None}

    prediction = next(a for a in form.assignments if a.target == plan.prediction.name)
    gradient_outputs = list(zip(gradients, axes, strict=True))
    bodies = {
        "forward": body([(_read_of(prediction.key, prediction.axes), prediction.axes)], forward=True),
        "loss": body([(loss, ())]),
        "gradient": {**body(gradient_outputs), "keys": keys},
        "loss_and_gradient": {**body([(loss, ()), *gradient_outputs]), "keys": keys},
    }
    return bodies, printers


def _read_of(key: sp.Basic, axes: tuple[sp.Symbol, ...]) -> sp.Expr:
    """The expression that reads quantity ``key`` at the units ``axes``: ``p`` or ``P_l``."""
    return sp.Indexed(key, *axes) if axes else key


def _size_codes(plan: Plan, params, label: bool) -> dict[str, str]:
    """Each size name → the code that reads it from a kernel's arguments: the data's, label's or a parameter's shape."""
    arrays = [(plan.data.name, plan.shape(plan.data.name))]
    if label:
        arrays.append((plan.label.name, plan.shape(plan.label.name)))
    arrays += [(p.key, p.dims) for p in params]
    codes: dict[str, str] = {}
    for name, dims in arrays:
        for axis, dim in enumerate(dims):
            codes.setdefault(dim, f"{name}.shape[{axis}]")
    return codes
