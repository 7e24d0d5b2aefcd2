"""The template's context: a :class:`~symgrad.codegen.lower.Plan` printed into strings.

Code is printed by the NumPy printer (``printer.py``); docstring formulas by the handout text
printer (``symgrad.printing``), from the derivation's own results, so a docstring shows exactly
the formula that the code below it computes.  The template only arranges these strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from symgrad import __version__
from symgrad.codegen.names import SAMPLES
from symgrad.codegen.plan import Assignment, Param, Plan
from symgrad.codegen.printer import SIGMOID_HELPER, SymgradNumPyPrinter
from symgrad.derivation.steps import Derivation
from symgrad.rendering.printing import printers_for

#: What each role is, for the module docstring's table of names.
_ROLES = {
    "label": "the label, shape (N,)",
    "node": "a forward-pass value, shape (N,)",
    "loss": "the loss of one sample; loss() returns the mean over the samples",
    "step size": "the step size, update()'s lr",
}


def build_context(plan: Plan, derivation: Derivation) -> dict[str, Any]:
    """Every string the NumPy module template fills in.

    ``gradient`` and ``loss_and_gradient`` are printed twice over: their per-block bodies with the
    reductions as sums (``sums``, the private ``_…_sums`` functions the block loop calls), and the
    division of each total by the number of samples (``results``), so a mean is taken once.
    """
    printer = SymgradNumPyPrinter()
    summing = SymgradNumPyPrinter(sums=True)
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
    dims = dict(plan.dims)

    forward = {**body(plan.prediction), "result": printer.doprint(plan.prediction)}
    loss_and_gradient = body(plan.loss, *gradient_exprs)
    sigmoid_used = any("_sigmoid(" in line["code"] for line in [*forward["lines"], *loss_and_gradient["lines"]])
    data_dims = (SAMPLES, *(name for name, _ in sorted(plan.dims, key=lambda dim: dim[1])))
    return {
        **argument_shapes(data, data_dims, (SAMPLES,), plan.params),
        "target": "numpy",
        "version": __version__,
        "helpers": [SIGMOID_HELPER] if sigmoid_used else [],
        "name": plan.name,
        "title": model.description,
        "data": data,
        "label": plan.label.name,
        "names": _name_rows(plan, dims),
        "params_literal": "{" + ", ".join(f'"{p.key}": {_shape_literal(p.dims)}' for p in plan.params) + "}",
        "params": list(plan.params),
        "dims": [{"name": n, "size": f"{data}.shape[{axis}]"} for n, axis in plan.dims],
        "init_options": [],  # keyword arguments of init_params beyond rng (layers.py: the hidden size)
        "init_doc": [],
        "prediction": text.doprint(model.forward_nodes[-1].symbol),
        "forward_doc": _equations(text, [(n.symbol, n.expr) for n in model.forward_nodes]),
        "loss_doc": [f"{text.doprint(model.loss.symbol)} = {text.doprint(model.loss.expr)}"],
        "loss_notes": [f"{text.doprint(r.example)} = {printer.doprint(r(r.example))}" for r in plan.loss_rules],
        "gradients_doc": gradients_doc,
        "updates_doc": updates_doc,
        "step_size": text.doprint(model.step_size),
        "forward": forward,
        "loss": {**body(plan.loss), "result": printer.doprint(plan.loss)},
        "gradient": {**body(*gradient_exprs), "sums": gradient_sums, "results": gradient_results},
        "loss_and_gradient": {
            **loss_and_gradient,
            "sums": [summing.doprint(plan.loss), *gradient_sums],
            "loss": _mean(0, data),
            "results": [(key, _mean(i + 1, data)) for i, (key, _) in enumerate(plan.gradients)],
        },
        "update": {
            "unpack": [params[key] for key in params if key in update_reads],
            "results": [(key, printer.doprint(u)) for key, u in plan.updates],
        },
    }


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
        "label_sizes": _tuple_code([f'sizes.get("{dim}")' for dim in label_dims]),
        "param_dims": {p.key: _tuple_literal(p.dims) for p in params},
        "keys": [p.key for p in params],
        "init_reads_label": False,  # layer_context.py: a one-hot label's column count sizes init_params's arrays
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


def _name_rows(plan: Plan, dims: dict[str, int]) -> list[dict[str, str]]:
    params = {p.key: p for p in plan.params}
    feature_dims = [d for d, axis in dims.items() if axis == 1]
    rows = []
    for name in plan.names:
        if name.role == "input":
            if feature_dims:
                meaning = f"the input, one sample per row, shape (N, {', '.join(feature_dims)})"
            else:
                meaning = "the input, one value per sample, shape (N,)"
        elif name.role == "parameter":
            shape = params[name.python].dims
            meaning = f"a parameter, shape ({shape[0]},)" if shape else "a parameter, a float"
        elif name.role == "dimension":
            meaning = f"the number of features, {plan.data.name}.shape[{dims[name.python]}]"
        else:
            meaning = _ROLES[name.role]
        rows.append({"handout": name.handout, "python": name.python, "meaning": meaning})
    width_h = max(len(r["handout"]) for r in rows)
    width_p = max(len(r["python"]) for r in rows)
    for row in rows:
        row["line"] = f"{row['handout'].ljust(width_h)}  {row['python'].ljust(width_p)}  {row['meaning']}"
    return rows
