"""The picture: labelled contours, the gradient field, and the paths, drawn with matplotlib.

matplotlib is an optional extra (``pip install 'symgrad[plot]'``), so this
module is imported only when a picture is asked for.  It never touches pyplot
or the global backend: figures are :class:`matplotlib.figure.Figure` objects
on an explicit Agg canvas, so drawing works without a display (CI, SSH) and
does not switch the backend of a notebook that imports it.

What a student should be able to read off the picture:

* contour lines with their values written on them (``clabel``);
* arrows of one length showing the direction of ∓∇f, drawn in data
  coordinates on axes of equal aspect ratio, so that an arrow crosses a
  contour at a visible right angle;
* each path as points joined by arrows, one colour per step size, one line
  style per start, and a legend that names the step sizes.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.mathtext import MathTextParser
from matplotlib.ticker import FuncFormatter, MaxNLocator

from symgrad.errors import UsageError
from symgrad.files import OutputError, write_atomic
from symgrad.trajectory.objectives import Bounds, Objective
from symgrad.trajectory.paths import Trajectory

#: picture formats by file suffix
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
#: one colour per step size; none of them is close to the contour colours
PATH_COLOURS = ("#d62728", "#ff7f0e", "#9467bd", "#e377c2", "#8c564b", "#17becf", "#bcbd22", "#000000")
LINE_STYLES = ("-", "--", ":", "-.")
#: arrows of the gradient field along the longer side of the window
FIELD_ARROWS = 19


def plot(
    objective: Objective,
    paths: Sequence[Trajectory | np.ndarray] = (),
    *,
    ascent: bool = False,
    bounds: Bounds | None = None,
    size: tuple[float, float] = (8.0, 6.5),
    dpi: float = 100,
    title: str | None = None,
    field: bool = True,
    marks: dict[int, int] | None = None,
    resolution: int = 240,
) -> Figure:
    """The contour plot of ``objective`` with its gradient field and ``paths``; returns the Figure.

    ``size`` is in inches (times ``dpi`` gives pixels).  ``paths`` are :class:`Trajectory` objects or
    (n, 2) arrays.  ``marks`` maps a path's index to a step (counted from 1) to draw in red as
    infeasible.  ``title=""`` draws no title.
    """
    bounds = tuple(float(v) for v in (bounds or objective.bounds))
    x_min, x_max, y_min, y_max = bounds
    if not (x_min < x_max and y_min < y_max):
        raise UsageError(f"the plot range must have x_min < x_max and y_min < y_max, not {bounds}")
    paths = [
        p if isinstance(p, Trajectory) else Trajectory(str(i + 1), np.asarray(p, dtype=float))
        for i, p in enumerate(paths)
    ]
    figure = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    _contours(figure, axes, objective, bounds, resolution)
    handles: list[Line2D] = []
    if field:
        handles.append(_field(axes, objective, bounds, ascent))
    handles += _paths(axes, paths, marks or {}, bounds)
    axes.set_xlim(x_min, x_max)
    axes.set_ylim(y_min, y_max)
    axes.set_aspect("equal", adjustable="box")  # a right angle on paper is a right angle in (x, y)
    first, second = (f"${_latex_name(v)}$" for v in objective.variables)
    axes.set_xlabel(first)
    axes.set_ylabel(second)
    if title is None:
        title = _title(objective, ascent)
    check_title(title)
    if title:
        axes.set_title(title, fontsize=10)
    if handles:
        figure.legend(
            handles=handles,
            loc="outside lower center",
            ncols=2 if len(handles) > 3 else len(handles),
            fontsize=8,
            frameon=False,
        )
    return figure


def save(figure: Figure, target: Path | str, dpi: float | None = None) -> Path:
    """Write ``figure`` to ``target`` in the format its suffix names, all or nothing."""
    target = Path(target)
    fmt = picture_format(target)
    if not target.parent.is_dir():
        raise OutputError(f"cannot write {target}: folder {target.parent} does not exist")
    write_atomic(target, picture_bytes(figure, fmt, dpi))
    return target


def picture_bytes(figure: Figure, fmt: str, dpi: float | None = None) -> bytes:
    """``figure`` as the bytes of a ``fmt`` file (png, svg, pdf).  No dates in SVG and PDF, so the same picture
    gives the same bytes: friendly to version control, and a command can tell an unchanged file."""
    buffer = io.BytesIO()
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt)
    figure.savefig(buffer, format=fmt, dpi=dpi or figure.dpi, metadata=metadata)
    return buffer.getvalue()


def picture_format(target: Path | str) -> str:
    """The matplotlib format for ``target``'s suffix, or a one-line UsageError."""
    suffix = Path(target).suffix.lower()
    if suffix not in FORMATS:
        named = f"suffix {suffix!r}" if suffix else "no suffix"
        raise UsageError(f"cannot write {target}: {named}; a picture is .png, .svg or .pdf")
    return FORMATS[suffix]


# ---- the pieces -----------------------------------------------------------------------------------------
def _contours(figure: Figure, axes, objective: Objective, bounds: Bounds, resolution: int) -> None:
    x_min, x_max, y_min, y_max = bounds
    xs, ys = np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    values = objective.value(grid_x, grid_y)
    finite = np.isfinite(values)
    if not finite.any():
        raise UsageError(f"the objective is not defined anywhere in the range {bounds}")
    values = np.ma.masked_invalid(values)
    low, high = float(values.min()), float(values.max())
    if high - low <= 1e-12 * max(1.0, abs(high)):
        raise UsageError(f"the objective is constant over the range {bounds}; there are no contours to draw")
    levels = contour_levels(values.compressed())
    filled = axes.contourf(grid_x, grid_y, values, levels=[low, *levels, high], cmap="Blues_r", alpha=0.45, zorder=0)
    lines = axes.contour(grid_x, grid_y, values, levels=levels, colors="0.25", linewidths=0.7, zorder=1)
    axes.clabel(lines, levels=lines.levels, inline=True, fontsize=7, fmt=lambda v: f"{v:.3g}")
    bar = figure.colorbar(filled, ax=axes, shrink=0.85, pad=0.02)
    bar.set_label(f"value of {_plain_name(objective)}", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    bar.set_ticks(lines.levels)  # the labelled contour values, not the window's extremes
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))


def contour_levels(values: np.ndarray, count: int = 13) -> list[float]:
    """About ``count`` contour values for f's ``values`` over the window, rounded for their labels.

    Evenly spaced values put every contour on the steep rim of a bowl and none near its minimum, where
    the paths end; quantiles (bands of equal area) put every contour in the flat tails of a Gaussian
    bump and none near its top.  The mean of the two serves both.
    """
    low, high = float(values.min()), float(values.max())
    span = high - low
    fractions = np.linspace(0, 1, count + 2)[1:-1]
    mixed = (low + fractions * span + np.quantile(values, fractions)) / 2
    levels: list[float] = []
    for value in mixed:
        rounded = _round_level(float(value), span)
        if low < rounded < high and (not levels or rounded > levels[-1] + 1e-9 * span):
            levels.append(rounded)
    return levels or list(MaxNLocator(nbins=8).tick_values(low, high)[1:-1])


def _round_level(value: float, span: float) -> float:
    """``value`` with two significant digits, or as many decimals as a thirtieth of the range of f needs."""
    digits = max(2 - 1 - int(np.floor(np.log10(abs(value)))) if value else 0, -int(np.floor(np.log10(span / 30))))
    return round(value, digits)


def _field(axes, objective: Objective, bounds: Bounds, ascent: bool) -> Line2D:
    """Unit arrows along ∓∇f on a square grid, drawn in data coordinates (so orthogonal to contours)."""
    x_min, x_max, y_min, y_max = bounds
    spacing = max(x_max - x_min, y_max - y_min) / FIELD_ARROWS
    xs = np.arange(x_min + spacing / 2, x_max, spacing)
    ys = np.arange(y_min + spacing / 2, y_max, spacing)
    grid_x, grid_y = np.meshgrid(xs, ys)
    gradient = objective.gradient(grid_x, grid_y)
    direction = gradient if ascent else -gradient
    length = np.hypot(direction[..., 0], direction[..., 1])
    keep = np.isfinite(length) & (length > 0)
    with np.errstate(all="ignore"):
        unit = np.where(keep[..., None], direction / length[..., None], 0.0)
    arrow = 0.6 * spacing
    axes.quiver(
        grid_x[keep],
        grid_y[keep],
        arrow * unit[..., 0][keep],
        arrow * unit[..., 1][keep],
        angles="xy",
        scale_units="xy",
        scale=1,
        pivot="mid",
        color="0.15",
        alpha=0.55,
        width=0.0028,
        headwidth=4,
        headlength=4.5,
        zorder=2,
    )
    label = (
        "direction of +∇f (steepest ascent), unit length"
        if ascent
        else "direction of −∇f (steepest descent), unit length"
    )
    return Line2D(
        [], [], color="0.15", alpha=0.7, marker=r"$\rightarrow$", markersize=12, linestyle="none", label=label
    )


def _paths(axes, paths: list[Trajectory], marks: dict[int, int], bounds: Bounds) -> list[Line2D]:
    x_min, x_max, y_min, y_max = bounds
    diagonal = float(np.hypot(x_max - x_min, y_max - y_min))
    step_sizes = sorted({p.step for p in paths if p.step is not None})
    starts = list(dict.fromkeys(p.start for p in paths))
    handles = []
    for index, path in enumerate(paths):
        if path.step is not None:
            colour = PATH_COLOURS[step_sizes.index(path.step) % len(PATH_COLOURS)]
            style = LINE_STYLES[starts.index(path.start) % len(LINE_STYLES)]
        else:
            colour, style = PATH_COLOURS[index % len(PATH_COLOURS)], "-"
        points = path.points
        label = path.legend()
        bad = marks.get(index)
        if bad is not None:
            label += f" (infeasible at step {bad})"
            segment = points[bad - 1 : bad + 1]  # one point when the path stops where it should move on
            axes.plot(
                segment[:, 0],
                segment[:, 1],
                color="#ffd400",
                linewidth=9,
                marker="o" if len(segment) == 1 else None,
                markersize=16,
                alpha=0.9,
                solid_capstyle="round",
                zorder=3,
            )
            axes.annotate(
                f"step {bad} infeasible",
                segment.mean(axis=0),
                xytext=(7, 7),
                textcoords="offset points",
                color="black",
                fontsize=8,
                fontweight="bold",
                zorder=6,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "#ffd400", "edgecolor": "none", "alpha": 0.9},
            )
        (line,) = axes.plot(
            points[:, 0],
            points[:, 1],
            color=colour,
            linestyle=style,
            linewidth=1.6,
            marker="o",
            markersize=3,
            label=label,
            zorder=4,
        )
        axes.plot(*points[0], marker="s", markersize=7, color=colour, markeredgecolor="black", zorder=5)
        for start, end in zip(points[:-1], points[1:], strict=True):
            move = end - start
            if np.hypot(*move) > 0.035 * diagonal:  # an arrowhead mid-step shows the direction of travel
                axes.annotate(
                    "",
                    xy=start + 0.6 * move,
                    xytext=start + 0.4 * move,
                    arrowprops={
                        "arrowstyle": "-|>",
                        "color": colour,
                        "lw": 1.2,
                        "mutation_scale": 11,
                        "shrinkA": 0,
                        "shrinkB": 0,
                    },
                    zorder=5,
                )
        handles.append(line)
    if paths:
        handles.append(
            Line2D(
                [],
                [],
                marker="s",
                markersize=7,
                color="white",
                markeredgecolor="black",
                linestyle="none",
                label="start of a path",
            )
        )
    return handles


def _title(objective: Objective, ascent: bool) -> str:
    kind = "Gradient ascent" if ascent else "Gradient descent"
    from symgrad.trajectory.objectives import BUILTIN_OBJECTIVES

    if objective.name in BUILTIN_OBJECTIVES:
        return f"{kind} on {objective.name}\n" + "\n".join(textwrap.wrap(objective.description, 80))
    first, second = (_latex_name(v) for v in objective.variables)
    formula = f"$f({first}, {second}) = {objective.latex()}$"
    if len(formula) > 160 or not _mathtext_ok(formula):
        formula = objective.description
    return f"{kind} on {formula}"


def check_title(title: str) -> None:
    """A one-line UsageError for a title whose ``$...$`` mathematics matplotlib cannot typeset."""
    if title and "$" in title and not _mathtext_ok(title):
        raise UsageError(f"cannot typeset the title {title!r}: check its $...$ mathematics")


def _mathtext_ok(text: str) -> bool:
    try:
        MathTextParser("path").parse(text)
    except Exception:  # noqa: BLE001  (matplotlib raises several kinds; any of them means "write it plainly")
        return False
    return True


def _latex_name(symbol) -> str:
    import sympy as sp

    return sp.latex(symbol)


def _plain_name(objective: Objective) -> str:
    return "the loss" if objective.name == "chain" else "f"
