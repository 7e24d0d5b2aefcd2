"""The NumPy template's context: a :class:`~symgrad.codegen.plan.Plan` printed into strings.

Code is printed by the NumPy printer (``printer.py``); docstring formulas by the handout text
printer (``rendering/printing.py``), from the derivation's own results, so a docstring shows exactly
the formula that the code below it computes.  The template only arranges these strings.  The Numba
and PyTorch contexts start from this one and replace the code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from symgrad import __version__
from symgrad.codegen.plan import Assignment, Param, Plan
from symgrad.codegen.printer import NUMPY_HELPERS, SymgradNumPyPrinter, helper_sources
from symgrad.codegen.shapes import HIDDEN, HIDDEN_DEFAULT, Size
from symgrad.derivation.steps import Derivation
from symgrad.rendering.printing import printers_for

#: What each role is, for the module docstring's table of names.
_ROLES = {
    "input": "the input",
    "label": "the label",
    "parameter": "a parameter",
    "node": "a forward-pass value",
    "loss": "the loss of one sample; loss() returns the mean over the samples",
    "step size": "the step size, update()'s lr",
}


def build_context(
    plan: Plan, derivation: Derivation, printer_class: type[SymgradNumPyPrinter] = SymgradNumPyPrinter
) -> dict[str, Any]:
    """Every string the NumPy module template fills in; another target passes its own printer class.

    ``gradient`` and ``loss_and_gradient`` are printed twice over: their per-block bodies with the
    reductions as sums (``sums``, the private ``_…_sums`` functions the block loop calls), and the
    division of each total by the number of samples (``results``), so a mean is taken once.
    """
    printer = printer_class()
    summing = printer_class(sums=True)
    model = plan.model
    _, text = printers_for(model)
    data = plan.data.name
    params = {p.key: p for p in plan.params}

    def body(*outputs: sp.Expr) -> dict[str, Any]:
        """The assignments ``outputs`` need, printed, and which parameters and data they read."""
        assignments = plan.needed(*outputs)
        lines = [_line(printer, a) for a in assignments]
        read = set().union(*(sp.sympify(o).free_symbols for o in outputs), *(a.expr.free_symbols for a in assignments))
        names = {s.name for s in read}
        return {
            "lines": lines,
            "unpack": [params[key] for key in params if key in names],
            "label": plan.label.name in names,
        }

    gradient_exprs = [g for _, g in plan.gradients]
    gradient_sums = [summing.doprint(g) for g in gradient_exprs]
    gradient_results = [(key, _mean(i, data)) for i, (key, _) in enumerate(plan.gradients)]
    gradients_doc = [f"{text.doprint(r.lhs)} = {text.doprint(r.form)}" for r in _gradient_results(derivation)]
    updates_doc = [f"{text.doprint(r.lhs)} ← {text.doprint(r.form)}" for r in derivation.results if r.kind == "update"]
    update_reads = {s.name for _, u in plan.updates for s in u.free_symbols}
    hidden = [size.name for size in plan.sizes if size.array is None]
    label_dims = plan.shape(plan.label.name)
    context = {
        **argument_shapes(data, plan.shape(data), label_dims, plan.params),
        "init_reads_label": len(label_dims) > 1,  # init_params sizes C from a one-hot label's columns
        "target": "numpy",
        "version": __version__,
        "name": plan.name,
        "title": model.description,
        "data": data,
        "label": plan.label.name,
        "names": _name_rows(plan),
        "params_literal": "{" + ", ".join(f'"{p.key}": {_shape_literal(p.dims)}' for p in plan.params) + "}",
        "params": list(plan.params),
        "dims": [{"name": size.name, "size": _size_code(size, data)} for size in plan.sizes],
        "init_options": [{"name": HIDDEN, "default": HIDDEN_DEFAULT}] if hidden else [],
        "init_doc": [f"{HIDDEN} is the number of hidden units {hidden[0]} (default {HIDDEN_DEFAULT}); "
                     "the data fixes the other sizes."] if hidden else [],
        "prediction": text.doprint(model.forward_nodes[-1].symbol),
        "forward_doc": _equations(text, [(n.symbol, n.expr) for n in model.forward_nodes]),
        "loss_doc": [f"{text.doprint(model.loss.symbol)} = {text.doprint(model.loss.expr)}"],
        "loss_notes": [f"{text.doprint(r.example)} = {printer.doprint(r(r.example))}" for r in plan.loss_rules]
        + [f"{text.doprint(lhs)} = {printer.doprint(rhs)}" for lhs, rhs in plan.stable_notes],
        "gradients_doc": gradients_doc,
        "updates_doc": updates_doc,
        "step_size": text.doprint(model.step_size),
        "forward": {**body(plan.prediction), "result": printer.doprint(plan.prediction)},
        "loss": {**body(plan.loss), "result": printer.doprint(plan.loss)},
        "gradient": {**body(*gradient_exprs), "sums": gradient_sums, "results": gradient_results,
                     "means": [(key, printer.doprint(g)) for key, g in plan.gradients]},
        "loss_and_gradient": {
            **body(plan.loss, *gradient_exprs),
            "sums": [summing.doprint(plan.loss), *gradient_sums],
            "loss": _mean(0, data),
            "results": [(key, _mean(i + 1, data)) for i, (key, _) in enumerate(plan.gradients)],
            "means": [(key, printer.doprint(g)) for key, g in plan.gradients],
        },
        "update": {
            "unpack": [params[key] for key in params if key in update_reads],
            "results": [(key, printer.doprint(u)) for key, u in plan.updates],
        },
    }
    # every piece of code is printed by now: the helpers it calls are the printers' record of them
    context["helpers"] = helper_sources(NUMPY_HELPERS, printer, summing)
    return context


def _size_code(size: Size, data: str) -> str:
    """How ``init_params`` reads a size: the data's shape (checked), a label's (``np.shape``), or ``hidden``."""
    if size.array is None:
        return HIDDEN
    if size.array == data:
        return f"{data}.shape[{size.axis}]"
    return f"np.shape({size.array})[{size.axis}]"


def argument_shapes(
    data: str, data_dims: tuple[str, ...], label_dims: tuple[str, ...], params: Sequence[Param]
) -> dict[str, Any]:
    """What the argument checks (templates/common/arguments.py.jinja) compare shapes with, as code and as text.

    Each axis is named by its size (N samples, k features, C classes, a hidden layer's k); each function
    reads the data's sizes into ``sizes`` (``sizes_literal``), and a parameter's check adds those it introduces.
    """
    sizes = ", ".join(f'"{dim}": {data}.shape[{axis}]' for axis, dim in enumerate(data_dims))
    return {
        "data_dims": data_dims,
        "label_dims": label_dims,
        "data_shape": shape_text(data_dims),
        "label_shape": shape_text(label_dims),
        "data_layout": "one sample per row" if len(data_dims) > 1 else "one value per sample",
        "sizes_literal": "{" + sizes + "}",
        "label_dims_literal": _tuple_literal(label_dims),
        "data_dims_literal": _tuple_literal(data_dims),
        "label_sizes": _tuple_code([f'sizes.get("{dim}")' for dim in label_dims]),
        "param_dims": {p.key: _tuple_literal(p.dims) for p in params},
        "keys": [p.key for p in params],
    }


def shape_text(dims: tuple[str, ...]) -> str:
    """A shape as Python prints one: ``(N,)``, ``(N, k)``."""
    return f"({', '.join(dims)}{',' if len(dims) == 1 else ''})"


def _tuple_literal(names: tuple[str, ...]) -> str:
    """A tuple of strings as code: ``("N",)``, ``("k", "C")``."""
    return _tuple_code([f'"{name}"' for name in names])


def _tuple_code(items: list[str]) -> str:
    """A tuple of expressions as code: ``(a,)``, ``(a, b)``."""
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"


def _mean(index: int, data: str) -> str:
    """The mean from the ``index``-th total the block loop returns: ``sums[0] / len(X)``."""
    return f"sums[{index}] / len({data})"


def _equations(text, pairs: list[tuple[sp.Expr, sp.Expr]]) -> list[str]:
    """``lhs = rhs`` lines, leaving out those the notation makes read ``σ(z) = σ(z)``."""
    lines = []
    for lhs, rhs in pairs:
        left, right = text.doprint(lhs), text.doprint(rhs)
        if left != right:
            lines.append(f"{left} = {right}")
    return lines


def _line(printer: SymgradNumPyPrinter, assignment: Assignment) -> dict[str, str]:
    code = printer.doprint(assignment.expr)
    comment = f"{assignment.note}, in a form that cannot overflow" if printer.stable_forms and assignment.note else ""
    return {"target": assignment.target.name, "code": code, "comment": comment}


def _gradient_results(derivation: Derivation) -> list:
    """One gradient result per parameter: the vector form (∇_w L) where the model has one."""
    model = derivation.model
    vectors = set(model.vector_forms.values())
    results = []
    for param in model.params:
        wanted = model.vector_forms.get(param, param)
        results += [r for r in derivation.results if r.kind == "gradient" and r.lhs.wrt == wanted]
    return [r for r in results if r.lhs.wrt in vectors or r.lhs.wrt in model.params]


def _shape_literal(dims: tuple[str, ...]) -> str:
    if not dims:
        return "()"
    return "(" + ", ".join(f'"{d}"' for d in dims) + ",)"


def _name_rows(plan: Plan) -> list[dict[str, str]]:
    """The module docstring's table of names: handout name, Python name, and what it holds with its shape."""
    sizes = {size.name: size for size in plan.sizes}
    shapes = dict(plan.shapes)
    rows = []
    for name in plan.names:
        if name.role == "dimension":
            meaning = sizes[name.python].meaning if name.python in sizes else "a size"
        elif name.python in shapes:
            shape = shapes[name.python]
            role = _ROLES[name.role]
            if name.role == "label" and len(shape) > 1:
                role = "the one-hot label"
            elif name.role == "input":
                role = "the input, one sample per row" if len(shape) > 1 else "the input, one value per sample"
            meaning = f"{role}, shape {shape_text(shape)}" if shape else f"{role}, a float"
        else:
            meaning = _ROLES[name.role]
        rows.append({"handout": name.handout, "python": name.python, "meaning": meaning})
    width_h = max(len(r["handout"]) for r in rows)
    width_p = max(len(r["python"]) for r in rows)
    for row in rows:
        row["line"] = f"{row['handout'].ljust(width_h)}  {row['python'].ljust(width_p)}  {row['meaning']}"
    return rows
