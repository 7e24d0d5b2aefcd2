"""The PyTorch target's context: the same :class:`~symgrad.codegen.plan.Plan` as the NumPy module's, printed
by the torch printer.

This target is the proof of the steps in docs/architecture.md ("A code target"): a template folder
(``templates/torch/``), a printer (``SymgradTorchPrinter``, the NumPy printer with torch's spellings), and
this context, which is the NumPy context printed by that printer, with the sizes read the torch way.  No
lowering of its own and no formula: every line comes from the Plan.
"""

from __future__ import annotations

from typing import Any

from symgrad.codegen.context import build_context
from symgrad.codegen.names import TORCH_TEMPLATE_NAMES, check_names
from symgrad.codegen.plan import Plan
from symgrad.codegen.printer import SymgradTorchPrinter
from symgrad.codegen.shapes import HIDDEN
from symgrad.derivation.steps import Derivation


def torch_context(plan: Plan, derivation: Derivation) -> dict[str, Any]:
    """Every string the PyTorch module template fills in."""
    check_names(plan.name, list(plan.names), TORCH_TEMPLATE_NAMES)
    context = build_context(plan, derivation, SymgradTorchPrinter)
    context["target"] = "torch"
    context["helpers"] = []  # torch.sigmoid, softplus and logsumexp are the stable forms; nothing to define
    context["dims"] = [{"name": size.name, "size": HIDDEN if size.array is None else f"{size.array}.shape[{size.axis}]"}
                       for size in plan.sizes]
    return context
