"""The Numba target's context: the same :class:`~symgrad.codegen.plan.Plan` as the NumPy module's,
printed as the body of one loop over the samples.

NumPy evaluates a formula one whole-array operation at a time, so every intermediate value makes a
trip through memory; a compiled loop computes each sample's forward pass, loss and gradient terms
in registers and adds them to per-thread totals, reading the data once.  Only the loop structure is
new here: the assignments, the per-sample loss and gradient terms, the names and the docstrings
are the plan's, so the targets cannot disagree on a formula.  The loop takes one of two forms
(:func:`loops_over_units`): a sample that is a value or a row is printed from the array Plan by the Numba
printer (which differs from NumPy's in how it writes numbers, powers and per-sample reads), its
Σ_i w_i x_i a block of rows at a time; a sample that holds vectors (a layer) is printed from the Plan's
index form as loops over its units (``fused_units.py``).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from symgrad.codegen import array_nodes
from symgrad.codegen.array_nodes import BatchAverage, BatchMean, MatrixProduct, Transposed
from symgrad.codegen.context import build_context
from symgrad.codegen.fused_units import units_bodies
from symgrad.codegen.names import NUMBA_TEMPLATE_NAMES, NUMBA_TEMPLATE_NUMBERED, check_names, module_name
from symgrad.codegen.numba_helpers import NUMBA_HELPERS, USES_MATH
from symgrad.codegen.plan import Plan
from symgrad.codegen.printer import SymgradNumbaPrinter, helper_sources
from symgrad.codegen.shapes import indices_of
from symgrad.derivation.steps import Derivation


def loops_over_units(plan: Plan) -> bool:
    """Whether ``plan``'s loop runs over each sample's units (``fused_units.py``) rather than its numbers.

    The loop over a sample's numbers holds its values as numbers and takes its one Σ_i w_i x_i a block of
    rows at a time; a layer of units (h_j, a matrix w_ij, a one-hot label y_l), a sum over a parameter alone
    (Σ_i w_i², an L2 term) or over the input alone (Σ_i x_i), or a mean it cannot add up as a row's total,
    has no form there, and takes the loops over units, which print any plan.
    """
    model = plan.model
    per_sample = [model.label, *(node.symbol for node in model.forward_nodes)]
    if any(indices_of(q) for q in per_sample) or any(len(indices_of(p)) > 1 for p in model.params):
        return True
    params = {sp.Symbol(p.key) for p in plan.params}
    for assignment in plan.assignments:
        for node in assignment.expr.atoms(sp.Function):
            is_row_dot = isinstance(node, MatrixProduct) and node.args[0] == plan.data and node.args[1] in params
            if not is_row_dot and type(node).__module__ == array_nodes.__name__:
                return True
    outputs = (plan.loss, *(g for _, g in plan.gradients))
    return any(sample_total(o, plan.data) is None for o in outputs)


def sample_total(output: sp.Expr, data: sp.Symbol) -> tuple[bool, sp.Expr] | None:
    """How a loop adds up a mean over the samples: (row, term) for Σ_n term_n (row False) or Σ_n term_n·x_n
    (row True, one total per feature), or None when ``output`` is neither.

    The Plan writes the two means as ``BatchMean(t, 1)`` (``np.mean(t)``) and ``BatchAverage(t @ X, X)``
    (``t @ X / len(X)``, X transposed or not), with any factor that is the same for every sample (a
    number, a scalar parameter) outside; the loop multiplies each sample's term by it instead.
    """
    factors = sp.Mul.make_args(output)
    means = [f for f in factors if isinstance(f, (BatchMean, BatchAverage))]
    outside = sp.Mul(*(f for f in factors if f not in means))
    if len(means) != 1 or outside.has(BatchMean, BatchAverage, MatrixProduct, Transposed):
        return None
    (mean,) = means
    if isinstance(mean, BatchMean) and int(mean.args[1]) == 1:
        return False, outside * mean.args[0]
    if isinstance(mean, BatchAverage) and isinstance(mean.args[0], MatrixProduct):
        left, right = mean.args[0].args
        for term, matrix in ((left, right), (right, left)):
            if matrix in (data, Transposed(data)):
                return True, outside * term
    return None


def fused_context(plan: Plan, derivation: Derivation) -> dict[str, Any]:
    """Every string the Numba module template fills in; the NumPy context's names and docstrings, plus its kernels."""
    check_names(plan.name, list(plan.names), NUMBA_TEMPLATE_NAMES, NUMBA_TEMPLATE_NUMBERED)
    context = build_context(plan, derivation)
    context.update(target="numba", numpy_module=f"{module_name(plan.name)}.py", units=loops_over_units(plan))
    bodies, printers = units_bodies(plan) if context["units"] else _rows_bodies(plan)
    used = set().union(*(printer.helpers_used for printer in printers))
    context.update(bodies, helpers=helper_sources(NUMBA_HELPERS, *printers), imports_math=bool(used & USES_MATH))
    return context


def _rows_bodies(plan: Plan) -> tuple[dict[str, Any], list[SymgradNumbaPrinter]]:
    """The kernels' bodies for a model whose sample is a value or a row (a loop over the sample's numbers),
    and the printers that printed them."""
    data = plan.data
    per_sample = {plan.label.name} | (set() if len(plan.shape(data.name)) > 1 else {data.name})
    printer = SymgradNumbaPrinter(per_sample)
    block_printer = SymgradNumbaPrinter(per_sample, sample="start + r", dot="dots[r]")
    params = {p.key: p for p in plan.params}
    products = {m for a in plan.assignments for m in a.expr.atoms(MatrixProduct)}
    row_blocks = len(products) == 1  # one Σ_i w_i x_i: the sums can take a block of rows at a time

    def totals_of(outputs: tuple[sp.Expr, ...]) -> list[tuple[bool, sp.Expr]]:
        return [sample_total(o, data) for o in outputs]  # none is None: loops_over_units said so

    def kernel(*outputs: sp.Expr) -> dict[str, Any]:
        """The loop body that ``outputs`` need: its assignments, and one accumulator per sum over the samples."""
        sums = totals_of(outputs) if outputs != (plan.prediction,) else []
        terms = [term for _, term in sums] or list(outputs)
        assignments = plan.needed(*terms)
        read = set().union(*(sp.sympify(t).free_symbols for t in terms), *(a.expr.free_symbols for a in assignments))
        names = {s.name for s in read}
        casts = printer.casts
        totals = [{"row": row, "code": printer.doprint(term), "shape": f"{data}.shape[1]"} for row, term in sums]
        if any(row for row, _ in sums):  # a total per feature adds rows with the row helpers
            printer.helpers_used.add("row_dot")
        block_totals = [{"row": row, "code": block_printer.doprint(term)} for row, term in sums]
        (product,) = products if row_blocks else (None,)
        blocked = row_blocks and any(a.expr.has(MatrixProduct) for a in assignments)
        lines = [{"target": a.target.name, "code": printer.doprint(a.expr)} for a in assignments]
        prints_numbers = printer.casts > casts  # as real(…): the loop needs real, the data's float type
        return {
            "lines": lines,
            "prints_numbers": prints_numbers,
            # so do the sums' parts, which start from real(0)
            "real": prints_numbers or not all(t["row"] for t in totals),
            "block_lines": [{"target": a.target.name, "code": block_printer.doprint(a.expr)} for a in assignments],
            "block_totals": block_totals,
            "blocked": {"matrix": printer.doprint(product.args[0]), "vector": printer.doprint(product.args[1])}
            if blocked else None,
            "unpack": [params[key] for key in params if key in names],
            "label": plan.label.name in names,
            "totals": totals,
        }

    gradients = [g for _, g in plan.gradients]
    forward = kernel(plan.prediction)
    casts = printer.casts
    forward["result"] = printer.doprint(plan.prediction)
    forward["real"] = forward["prints_numbers"] or printer.casts > casts  # a loop with no sums
    bodies = dict(
        forward={**forward, "out_shape": None},
        loss=kernel(plan.loss),
        gradient={**kernel(*gradients), "keys": [key for key, _ in plan.gradients]},
        loss_and_gradient={**kernel(plan.loss, *gradients), "keys": [key for key, _ in plan.gradients]},
    )
    if row_blocks:
        printer.helpers_used.add("blocks")
    return bodies, [printer, block_printer]
