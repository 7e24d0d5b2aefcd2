"""The Numba target's context: the same :class:`~symgrad.codegen.lower.Plan` as the NumPy module's,
printed as the body of one loop over the samples.

NumPy evaluates a formula one whole-array operation at a time, so every intermediate value makes a
trip through memory; a compiled loop computes each sample's forward pass, loss and gradient terms
in registers and adds them to per-thread totals, reading the data once.  Only the loop structure is
new here: the assignments, the per-sample loss and gradient terms, the names and the docstrings
are the plan's, printed by the NumPy module's printers (the Numba printer differs only in how it
writes numbers, powers and per-sample reads), so the two targets cannot disagree on a formula.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from symgrad.codegen.context import build_context
from symgrad.codegen.names import NUMBA_TEMPLATE_NAMES, NUMBA_TEMPLATE_NUMBERED, check_names, module_name
from symgrad.codegen.nodes import FeatureMean, MatVec, SampleMean
from symgrad.codegen.numba_helpers import helpers_for
from symgrad.codegen.plan import Plan
from symgrad.codegen.printer import SymgradNumbaPrinter
from symgrad.derivation.steps import Derivation
from symgrad.model.functions import sigmoid


def fused_context(plan: Plan, derivation: Derivation) -> dict[str, Any]:
    """Every string the Numba module template fills in; the NumPy context's names and docstrings, plus its kernels."""
    check_names(plan.name, list(plan.names), NUMBA_TEMPLATE_NAMES, NUMBA_TEMPLATE_NUMBERED)
    context = build_context(plan, derivation)
    data = plan.data.name
    per_sample = {plan.label.name} | (set() if plan.dims else {data})
    printer = SymgradNumbaPrinter(per_sample)
    block_printer = SymgradNumbaPrinter(per_sample, sample="start + r", dot="dots[r]")
    params = {p.key: p for p in plan.params}
    products = {m for a in plan.assignments for m in a.expr.atoms(MatVec)}
    row_blocks = len(products) == 1  # one Σ_i w_i x_i: the sums can take a block of rows at a time

    def kernel(*outputs: sp.Expr) -> dict[str, Any]:
        """The loop body that ``outputs`` need: its assignments, and one accumulator per sum over the samples."""
        terms = [o.args[0] if isinstance(o, SampleMean) else o.args[1] if isinstance(o, FeatureMean) else o
                 for o in outputs]
        assignments = plan.needed(*terms)
        read = set().union(*(sp.sympify(t).free_symbols for t in terms), *(a.expr.free_symbols for a in assignments))
        names = {s.name for s in read}
        casts = printer.casts
        totals, block_totals = [], []
        for output, term in zip(outputs, terms, strict=True):
            if isinstance(output, (FeatureMean, SampleMean)):  # Σ_n c_n·x_n (one total per feature), Σ_n c_n
                row = isinstance(output, FeatureMean)
                totals.append({"row": row, "code": printer.doprint(term)})
                block_totals.append({"row": row, "code": block_printer.doprint(term)})
        (product,) = products if row_blocks else (None,)
        blocked = row_blocks and any(a.expr.has(MatVec) for a in assignments)
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
    every_body = [plan.prediction, plan.loss, *gradients, *(a.expr for a in plan.assignments)]
    context.update(
        target="numba",
        numpy_module=f"{module_name(plan.name)}.py",
        forward=forward,
        loss=kernel(plan.loss),
        gradient={**kernel(*gradients), "keys": [key for key, _ in plan.gradients]},
        loss_and_gradient={**kernel(plan.loss, *gradients), "keys": [key for key, _ in plan.gradients]},
        helpers=helpers_for(
            sigmoid=any(sp.sympify(e).has(sigmoid) for e in every_body),
            rows=any(sp.sympify(e).has(MatVec) for e in every_body),
            heaviside=any(sp.sympify(e).has(sp.Heaviside) for e in every_body),
            blocks=row_blocks,
        ),
    )
    return context

