"""Gradient descent and ascent paths, and the CSV format that stores them.

A path is a polyline p₀, p₁, …, pₙ in the plane of the objective's two
variables.  :func:`descend` makes one by the update p ← p ∓ η∇f(p); the
checker (:mod:`.feasibility`) asks whether any polyline could have been made
that way.

CSV format (what ``--csv`` writes and ``--check`` and ``--draw`` read)::

    # symgrad trajectory paths: one row per point; path = which path, step = its step size η
    # objective: bowl
    # direction: descent
    path,step,x,y
    1,0.05,-2.6,1.6
    1,0.05,-2.42,1.0899999999999999
    ...
    2,0.2,-2.6,1.6
    ...

* one row per point, in order along the path; ``#`` lines are comments; a path of one point stays at
  its start (gradient descent started at a stationary point, where ∇f = 0, does not move, nor does it where
  ∇f is so small that a step of η∇f cannot move the point in floating point);
* ``path`` names the path the point belongs to (any text: ``1``, ``A``); the rows of one path are
  consecutive;
* ``step`` is the step size η that generated the path, or empty for a path drawn by hand;
* ``x``, ``y`` are the two variables of the objective in its order (w₁, w₂ for ``chain``), written
  with full precision so that a path read back is the path written;
* the ``# objective:`` comment names the objective (a built-in name or the expression), so that
  ``--check`` needs no ``--objective`` for a file symgrad wrote.

A plain file of two columns ``x,y`` (with or without that header line) is also accepted: it is one
path.  A header may list the columns in any order; ``path`` and ``step`` are optional.  Columns may
also be separated by spaces or tabs instead of commas.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from symgrad.errors import UsageError
from symgrad.files import read_text, write_atomic
from symgrad.trajectory.objectives import Objective

#: A gradient shorter than this counts as zero: the point is stationary and a gradient path stops there.
#: The checker uses the same threshold, so a generated path never ends in a step it would refuse.
GRADIENT_ZERO = 1e-12
#: :func:`descend` stops once a step would move the point by less than this fraction of its size:
#: beyond that, rounding, not the gradient, decides the step's direction.
CONVERGED = 1e-9
#: Why a path takes no step at all from a point where ∇f = 0 (see :func:`next_point`).
STATIONARY = "stationary point (∇f = 0)"
#: Why a path takes no step from a point where ∇f ≠ 0 but η∇f is too small to change it (see :func:`next_point`).
TOO_SMALL = "the step is too small to move the point in floating point (∇f is nearly 0 there)"
#: The reasons of :func:`next_point` for which gradient descent rightly stays where it is: a path of one point
#: that stopped for one of them is a gradient path (it has converged); one that stopped for any other is not.
#: The command's summary and the checker both ask :func:`stays_put`, so they never disagree about such a path.
STAYS_PUT = frozenset({STATIONARY, TOO_SMALL})
#: The most steps one path may take (a guard for ``--steps``).
MAX_STEPS = 100_000
COLUMNS = ("path", "step", "x", "y")


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One path: its points (shape (n, 2)), a label, and the step size η that made it (None if drawn by hand)."""

    label: str
    points: np.ndarray
    step: float | None = None
    line: int = field(default=0, compare=False)  # the CSV line the path starts on, for messages

    @property
    def start(self) -> tuple[float, float]:
        return (float(self.points[0, 0]), float(self.points[0, 1]))

    def legend(self) -> str:
        """What the plot's legend calls this path: its step size (and start) if known, else its label."""
        if self.step is None:
            return f"path {self.label}" if self.label.isdigit() else self.label
        x, y = self.start
        name = "" if self.label.isdigit() else f"{self.label}: "
        return f"{name}η = {self.step:g}, start ({x:g}, {y:g})"


def descend(
    objective: Objective,
    start: tuple[float, float] | np.ndarray,
    step: float,
    steps: int,
    ascent: bool = False,
) -> np.ndarray:
    """The path of ``steps`` gradient steps p ← p − η∇f(p) (or + for ``ascent``), as an (n + 1, 2) array.

    The path stops early, and so has fewer points, where gradient descent itself cannot go on (see
    :func:`next_point`).  Every step it does take is therefore one the checker accepts.  A path started at a
    stationary point, or where the first step is too small to move the point, is that one point: gradient
    descent stays there, and the CSV, the picture and the checker all take a one-point path as "stays at its
    start".
    """
    if not (isinstance(step, (int, float)) and math.isfinite(step) and step > 0):
        raise UsageError(f"the step size must be a positive number, not {step!r}")
    if not (isinstance(steps, (int, np.integer)) and 1 <= steps <= MAX_STEPS):
        raise UsageError(f"the number of steps must be a whole number from 1 to {MAX_STEPS}, not {steps!r}")
    point = np.asarray(start, dtype=float).reshape(-1)
    if point.shape != (2,) or not np.all(np.isfinite(point)):
        raise UsageError(f"a start is two finite numbers x,y, not {start!r}")
    points = [point]
    for _ in range(steps):
        following, _ = next_point(objective, point, step, ascent)
        if following is None:
            break
        points.append(following)
        point = following
    return np.array(points)


def next_point(
    objective: Objective, point: np.ndarray, step: float, ascent: bool = False
) -> tuple[np.ndarray | None, str | None]:
    """The point one gradient step from ``point``, or None and why gradient descent cannot take that step.

    It cannot at a stationary point (:func:`is_stationary`, the reason is :data:`STATIONARY`), where ∇f is
    undefined, where the step overflows, or once it has converged (a step smaller than :data:`CONVERGED`
    times the point's size, the reason is :data:`TOO_SMALL`).  :func:`descend` stops there, and
    ``symgrad trajectory`` says which of these ended a path that took no step at all.
    """
    gradient = objective.gradient_at(point)
    if not np.all(np.isfinite(gradient)):
        return None, "∇f is not defined there"
    if is_stationary(gradient):
        return None, STATIONARY
    with np.errstate(all="ignore"):
        following = point + (1.0 if ascent else -1.0) * step * gradient
    if not np.all(np.isfinite(following)):
        return None, "the step overflows (the step size is too large)"
    if np.hypot(*(following - point)) <= CONVERGED * max(1.0, float(np.hypot(*point))):
        return None, TOO_SMALL
    return following, None


def is_stationary(gradient: np.ndarray) -> np.ndarray | np.bool_:
    """Whether ``gradient`` (one (2,) vector, or an (n, 2) array of them) counts as ∇f = 0.

    One rule, ‖∇f‖ < :data:`GRADIENT_ZERO`, for the generator and the checker alike: if they drew the line
    in different places, a generated path could stop (or move) where the checker says it must not.
    """
    gradient = np.asarray(gradient, dtype=float)
    return np.hypot(gradient[..., 0], gradient[..., 1]) < GRADIENT_ZERO


def stays_put(reason: str | None) -> bool:
    """Whether :func:`next_point`'s ``reason`` for taking no step is one where gradient descent rightly stays
    (:data:`STAYS_PUT`: ∇f = 0, or a step too small to move the point), rather than one that ends the path
    because it cannot go on (an undefined ∇f, an overflowing step)."""
    return reason in STAYS_PUT


def generate(
    objective: Objective,
    steps: tuple[float, ...] | list[float],
    starts: tuple[tuple[float, float], ...] | list[tuple[float, float]],
    num_steps: int,
    ascent: bool = False,
) -> list[Trajectory]:
    """One path per (step size, start), labelled 1, 2, … in that order."""
    paths = []
    for step in steps:
        for start in starts:
            points = descend(objective, start, step, num_steps, ascent=ascent)
            paths.append(Trajectory(label=str(len(paths) + 1), points=points, step=float(step)))
    return paths


# ---- CSV ------------------------------------------------------------------------------------------------
def format_csv(paths: list[Trajectory], objective: Objective | None = None, ascent: bool | None = None) -> str:
    """The CSV text of ``paths`` (see the module docstring); ``repr`` floats, so reading it back is exact."""
    buffer = io.StringIO()
    buffer.write("# symgrad trajectory paths: one row per point; path = which path, step = its step size η\n")
    if objective is not None:
        name = objective.name.replace("\n", " ")
        buffer.write(f"# objective: {name}\n")
        if objective.variable_names != ("x", "y"):
            buffer.write(f"# columns x, y are {objective.variable_names[0]}, {objective.variable_names[1]}\n")
    if ascent is not None:
        buffer.write(f"# direction: {'ascent' if ascent else 'descent'}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for path in paths:
        step = "" if path.step is None else repr(float(path.step))
        for x, y in path.points:
            writer.writerow((path.label, step, repr(float(x)), repr(float(y))))
    return buffer.getvalue()


def write_csv(
    target: Path | str, paths: list[Trajectory], objective: Objective | None = None, ascent: bool | None = None
) -> None:
    """Write :func:`format_csv` to ``target`` atomically."""
    write_atomic(target, format_csv(paths, objective, ascent))


def read_csv(source: Path | str) -> tuple[list[Trajectory], dict[str, str]]:
    """The paths in a CSV file, and its ``# key: value`` comments (``objective``, ``direction``)."""
    return parse_csv(read_text(source), str(source))


def parse_csv(text: str, source: str = "the CSV") -> tuple[list[Trajectory], dict[str, str]]:
    """Parse the CSV format; every problem is a :class:`UsageError` naming the line."""
    comments: dict[str, str] = {}
    rows: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            key, colon, value = stripped.lstrip("#").partition(":")
            if colon and key.strip().isidentifier():
                comments.setdefault(key.strip().lower(), value.strip())
            continue
        try:
            (row,) = list(csv.reader([line]))
        except (csv.Error, ValueError):
            raise UsageError(f"{source}, line {number}: not a CSV row") from None
        if len(row) == 1 and len(row[0].split()) > 1:  # columns separated by spaces or tabs
            row = row[0].split()
        rows.append((number, [cell.strip() for cell in row]))
    if not rows:
        raise UsageError(f"{source} has no points")
    columns, rows = _columns(rows, source)
    paths: list[Trajectory] = []
    current: list[tuple[float, float]] = []
    label, step, first_line = None, None, 0
    finished: set[str] = set()
    for number, row in rows:
        if len(row) != len(columns):
            raise UsageError(
                f"{source}, line {number}: expected {len(columns)} values ({','.join(columns)}), found {len(row)}"
            )
        cells = dict(zip(columns, row, strict=True))
        row_label = cells.get("path", "1")
        row_step = _number(cells["step"], "step", source, number, allow_empty=True) if "step" in cells else None
        point = (_number(cells["x"], "x", source, number), _number(cells["y"], "y", source, number))
        if row_label != label:
            if label is not None:
                paths.append(_path(label, current, step, first_line, source))
                finished.add(label)
            if row_label in finished:
                raise UsageError(
                    f"{source}, line {number}: path {row_label!r} continues after another path; keep its rows together"
                )
            label, step, current, first_line = row_label, row_step, [], number
        elif row_step != step:
            raise UsageError(f"{source}, line {number}: path {label!r} changes its step size from {step} to {row_step}")
        current.append(point)
    paths.append(_path(label, current, step, first_line, source))
    return paths, comments


def _columns(rows: list[tuple[int, list[str]]], source: str) -> tuple[tuple[str, ...], list[tuple[int, list[str]]]]:
    """The column names (from a header, or implied by 2 or 4 columns) and the data rows."""
    number, first = rows[0]
    if not any(_is_number(cell) for cell in first):  # a header: no cell is a number
        names = tuple(cell.lower() for cell in first)
        if set(names) <= set(COLUMNS) and {"x", "y"} <= set(names) and len(set(names)) == len(names):
            return names, rows[1:]
        if len(names) == 2:  # a two-column header names the two variables: w1,w2 or w_1,w_2
            return ("x", "y"), rows[1:]
        raise UsageError(
            f"{source}, line {number}: the header must name the columns x and y once each, and may add path and step"
        )
    if len(first) == 2:
        return ("x", "y"), rows
    if len(first) == 4:
        return COLUMNS, rows
    raise UsageError(
        f"{source}, line {number}: expected a header, or 2 columns (x,y) or 4 (path,step,x,y); found {len(first)}"
    )


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _number(cell: str, column: str, source: str, number: int, allow_empty: bool = False) -> float | None:
    if allow_empty and cell == "":
        return None
    try:
        value = float(cell.replace("−", "-"))
    except ValueError:
        raise UsageError(f"{source}, line {number}: {column} is not a number: {cell[:30]!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"{source}, line {number}: {column} is not finite: {cell[:30]!r}")
    if column == "step" and value <= 0:
        raise UsageError(f"{source}, line {number}: the step size must be positive, not {cell[:30]}")
    return value


def _path(label: str, points: list[tuple[float, float]], step: float | None, line: int, source: str) -> Trajectory:
    """One path of the file.  A single point is a path too: the one gradient descent writes when it starts
    at a stationary point and stays there; whether that is right is the checker's question, not the reader's."""
    return Trajectory(label=label, points=np.array(points, dtype=float), step=step, line=line)
