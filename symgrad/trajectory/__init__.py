"""Gradient descent and ascent trajectories: contour plots, and a checker for exam answers.

For notebooks::

    from symgrad import trajectory as tr

    bowl = tr.objective("bowl")                       # or "chain", "bumps", or "x^2 + 3y^2"
    path = tr.descend(bowl, (-2.6, 1.6), step=0.2, steps=20)
    tr.check_path(bowl, path)                         # Feasibility(feasible=True, ...)
    tr.check_path(bowl, path, ascent=True).reason     # 'step 1 goes against the gradient ...'
    figure = tr.plot(bowl, [path])                    # a matplotlib Figure (needs symgrad[plot])
    tr.save(figure, "bowl.png")

The command line is ``symgrad trajectory`` (:mod:`symgrad.commands.trajectory`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from symgrad.trajectory.feasibility import DEFAULT_STEP_TOLERANCE, DEFAULT_TOLERANCE_DEGREES, Feasibility, check_path
from symgrad.trajectory.objectives import BUILTIN_OBJECTIVES, Objective, objective
from symgrad.trajectory.paths import Trajectory, descend, format_csv, generate, parse_csv, read_csv, write_csv

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

PLOT_HINT = "plotting needs matplotlib: pip install 'symgrad[plot]'"


def drawing_module() -> Any:
    """:mod:`symgrad.trajectory.drawing`, imported on first use; a UsageError naming the extra without matplotlib."""
    try:
        from symgrad.trajectory import drawing
    except ImportError:
        from symgrad.errors import UsageError

        raise UsageError(PLOT_HINT) from None
    return drawing


def plot(objective: Objective | str, paths: Any = (), **options: Any) -> Figure:
    """The contour plot with the gradient field and ``paths`` (see :func:`symgrad.trajectory.drawing.plot`)."""
    from symgrad.trajectory.objectives import objective as resolve

    return drawing_module().plot(resolve(objective), paths, **options)


def save(figure: Figure, target: Any, dpi: float | None = None) -> Any:
    """Write a figure as PNG, SVG or PDF (from the suffix), atomically."""
    return drawing_module().save(figure, target, dpi=dpi)


__all__ = [
    "BUILTIN_OBJECTIVES",
    "DEFAULT_STEP_TOLERANCE",
    "DEFAULT_TOLERANCE_DEGREES",
    "Feasibility",
    "Objective",
    "PLOT_HINT",
    "Trajectory",
    "check_path",
    "descend",
    "format_csv",
    "generate",
    "objective",
    "parse_csv",
    "plot",
    "read_csv",
    "save",
    "write_csv",
]
