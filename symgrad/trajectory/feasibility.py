"""Is a polyline a feasible gradient descent (or ascent) path?

Gradient descent moves from pₖ to pₖ₊₁ = pₖ − ηₖ∇f(pₖ) with ηₖ > 0, so a step
is feasible when it leaves its start point

* along the gradient's line, which is orthogonal to the contour through pₖ
  (within an angle tolerance, because exam pictures are drawn by hand),
* in the right direction: downhill (−∇f) for descent, uphill (+∇f) for ascent,
* with positive length.

A large η may overshoot the valley and zig-zag, and every step is still
feasible; only the direction at the start of each step matters.  With
``constant_step`` every step must also use one common η (ηₖ = ‖step‖/‖∇f‖),
as plain gradient descent with a fixed learning rate does.

The checker reports the first infeasible step and why, in words a student can
act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from symgrad.errors import UsageError
from symgrad.trajectory.objectives import Objective
from symgrad.trajectory.paths import STATIONARY, TOO_SMALL, is_stationary, next_point, stays_put

DEFAULT_TOLERANCE_DEGREES = 10.0
#: With ``constant_step``, each ηₖ may differ from the common η by this fraction of it.
DEFAULT_STEP_TOLERANCE = 0.05


@dataclass(frozen=True, eq=False)
class Feasibility:
    """The verdict on one path.

    ``first_bad_step`` counts from 1 (step k goes from point k−1 to point k, points counted from 0), and is
    None for a feasible path.  ``angles[k−1]`` is the angle in degrees between step k and the direction
    it should take (−∇f for descent, +∇f for ascent); ``step_sizes[k−1]`` is ηₖ = ‖step‖/‖∇f‖.  Both are
    NaN where ∇f = 0.  ``common_step`` is the η that ``constant_step`` compared against.
    """

    feasible: bool
    first_bad_step: int | None
    reason: str
    angles: np.ndarray = field(repr=False)
    step_sizes: np.ndarray = field(repr=False)
    common_step: float | None = None
    ascent: bool = False
    tolerance_degrees: float = DEFAULT_TOLERANCE_DEGREES

    def __bool__(self) -> bool:
        return self.feasible


def check_path(
    objective: Objective,
    points: np.ndarray | list[tuple[float, float]],
    ascent: bool = False,
    tolerance_degrees: float = DEFAULT_TOLERANCE_DEGREES,
    constant_step: bool = False,
    step_tolerance: float = DEFAULT_STEP_TOLERANCE,
    step: float | None = None,
) -> Feasibility:
    """Whether ``points`` (an (n, 2) polyline, n ≥ 1) is a feasible gradient descent/ascent path of ``objective``.

    A path of one point takes no step: it is feasible exactly where gradient descent stays put, which is at a
    stationary point (∇f = 0) and, when ``step`` (the η that made the path, such as the CSV's step column)
    is known, where η∇f is too small to move the point in floating point: :func:`~.paths.descend` stops
    there by the same rule (:func:`~.paths.next_point`).  Anywhere else its missing step 1 is the infeasible
    one.  ``step`` is used for nothing else: the steps of a longer path say what η they used.

    Raises :class:`~symgrad.errors.UsageError` for input that cannot be judged: no points, a non-finite
    coordinate, a tolerance outside (0°, 90°), or a point where ∇f is undefined.
    """
    points = _validated(points)
    if not (isinstance(tolerance_degrees, (int, float)) and 0 < tolerance_degrees < 90):
        raise UsageError(f"the angle tolerance must be between 0 and 90 degrees, not {tolerance_degrees!r}")
    if not (isinstance(step_tolerance, (int, float)) and 0 < step_tolerance < 1):
        raise UsageError(f"the step-size tolerance must be a fraction between 0 and 1, not {step_tolerance!r}")
    if step is not None and not (isinstance(step, (int, float)) and math.isfinite(step) and step > 0):
        raise UsageError(f"the step size must be a positive number, not {step!r}")
    if len(points) == 1:
        return _stays_put(objective, points[0], ascent, float(tolerance_degrees), step)
    starts, moves = points[:-1], np.diff(points, axis=0)
    gradients = objective.gradient(starts[:, 0], starts[:, 1])
    undefined = np.flatnonzero(~np.all(np.isfinite(gradients), axis=1))
    if undefined.size:
        k = int(undefined[0])
        raise UsageError(
            f"the gradient of the objective is not defined at the start of step {k + 1}, {_point(starts[k])}"
        )
    direction = gradients if ascent else -gradients  # where each step should go
    gradient_lengths = np.hypot(direction[:, 0], direction[:, 1])
    move_lengths = np.hypot(moves[:, 0], moves[:, 1])
    too_long = np.flatnonzero(~np.isfinite(move_lengths))
    if too_long.size:
        k = int(too_long[0])
        raise UsageError(f"step {k + 1} is too long to measure in floating point, from {_point(starts[k])}")
    stationary = is_stationary(gradients)
    with np.errstate(all="ignore"):  # unit vectors first: products of huge coordinates would overflow
        unit_moves = moves / move_lengths[:, None]
        unit_direction = direction / gradient_lengths[:, None]
        dots = np.einsum("ij,ij->i", unit_moves, unit_direction)
        crosses = unit_moves[:, 0] * unit_direction[:, 1] - unit_moves[:, 1] * unit_direction[:, 0]
        angles = np.where(stationary | (move_lengths == 0), np.nan, np.degrees(np.arctan2(np.abs(crosses), dots)))
        sizes = np.where(stationary, np.nan, move_lengths / gradient_lengths)
    common = _common_step(sizes) if constant_step else None
    goal = "ascent must go uphill, along +∇f" if ascent else "descent must go downhill, along −∇f"
    wanted = "+∇f" if ascent else "−∇f"

    def verdict(k: int | None, reason: str) -> Feasibility:
        return Feasibility(
            feasible=k is None,
            first_bad_step=k,
            reason=reason,
            angles=angles,
            step_sizes=sizes,
            common_step=common,
            ascent=ascent,
            tolerance_degrees=float(tolerance_degrees),
        )

    for index in range(len(moves)):
        k = index + 1
        if move_lengths[index] == 0:
            return verdict(k, f"step {k} has zero length (step size must be positive)")
        if stationary[index]:
            return verdict(
                k,
                f"step {k} starts where ∇f = 0, {_point(starts[index])}, but moves; gradient "
                f"{'ascent' if ascent else 'descent'} stays put at a stationary point",
            )
        angle = float(angles[index])
        if not math.isfinite(angle):  # pragma: no cover - unit vectors of finite, non-zero vectors have an angle
            raise UsageError(f"cannot measure the angle of step {k} at {_point(starts[index])}")
        if dots[index] < 0:
            how = (
                f"along {'−∇f' if ascent else '+∇f'}"
                if angle >= 180 - tolerance_degrees
                else f"at {_degrees(angle)} to {wanted}"
            )
            return verdict(
                k, f"step {k} goes against the gradient ({goal}): it goes {'downhill' if ascent else 'uphill'}, {how}"
            )
        if angle > tolerance_degrees:
            return verdict(
                k,
                f"step {k} is at {_degrees(angle, tolerance_degrees)} to the gradient "
                f"(tolerance {tolerance_degrees:g}°): it crosses the contour at a slant instead of at a right angle",
            )
        if common is not None and abs(sizes[index] - common) > step_tolerance * common:
            return verdict(
                k,
                f"step {k} has step size η = {sizes[index]:.4g}, but the common step size is "
                f"η = {common:.4g} (tolerance {step_tolerance * 100:g}%)",
            )
    largest = float(np.nanmax(angles)) if np.any(np.isfinite(angles)) else 0.0
    reason = (
        f"feasible: all {len(moves)} step{'s' if len(moves) != 1 else ''} within {tolerance_degrees:g}° of {wanted} "
        f"(largest {_degrees(largest)})"
    )
    if common is not None:
        reason += f", common step size η = {common:.4g} (each within {step_tolerance * 100:g}%)"
    return verdict(None, reason)


def _stays_put(
    objective: Objective, point: np.ndarray, ascent: bool, tolerance_degrees: float, step: float | None
) -> Feasibility:
    """The verdict on a path of one point: right where gradient descent does not move, by the rule that stops
    :func:`~.paths.descend` (a stationary point; with a known η, also a step too small to move the point)."""
    gradient = objective.gradient_at(point)
    if not np.all(np.isfinite(gradient)):
        raise UsageError(f"the gradient of the objective is not defined at the path's only point, {_point(point)}")
    if step is None:
        why = STATIONARY if is_stationary(gradient) else None
    else:
        why = next_point(objective, point, step, ascent)[1]
    stays = stays_put(why)
    return Feasibility(
        feasible=stays,
        first_bad_step=None if stays else 1,
        reason=_one_point_reason(why, point, gradient, ascent, step),
        angles=np.empty(0),
        step_sizes=np.empty(0),
        ascent=ascent,
        tolerance_degrees=tolerance_degrees,
    )


def _one_point_reason(
    why: str | None, point: np.ndarray, gradient: np.ndarray, ascent: bool, step: float | None
) -> str:
    """Why a path of one point is feasible or not, given :func:`~.paths.next_point`'s reason for staying."""
    kind = "ascent" if ascent else "descent"
    if why == STATIONARY:
        return f"feasible: starts at a stationary point (∇f = 0), {_point(point)}, where gradient {kind} stays put"
    if why == TOO_SMALL:
        return (
            f"feasible: starts where ∇f is too small for a step of η = {step:g} to move it in floating point "
            f"(‖∇f‖ = {float(np.hypot(*gradient)):.2g}), {_point(point)}, where gradient {kind} stays put"
        )
    return (
        f"the path has no steps, but ∇f ≠ 0 at its start {_point(point)}: gradient {kind} moves from there "
        "(a path of one point is feasible only at a stationary point, or where its step size η is known and too "
        "small to move it)"
    )


def _validated(points: np.ndarray | list[tuple[float, float]]) -> np.ndarray:
    try:
        array = np.asarray(points, dtype=float)
    except (TypeError, ValueError):
        raise UsageError("a path is an array of (x, y) points, shape (n, 2)") from None
    if array.ndim != 2 or array.shape[1] != 2:
        raise UsageError(f"a path is an array of (x, y) points, shape (n, 2), not shape {array.shape}")
    if len(array) < 1:
        raise UsageError("a path needs at least one point, got none")
    bad = np.flatnonzero(~np.all(np.isfinite(array), axis=1))
    if bad.size:
        raise UsageError(f"point {int(bad[0])} of the path is not finite: {tuple(array[bad[0]])}")
    return array


def _common_step(sizes: np.ndarray) -> float | None:
    """The step size most steps share: the (lower) median of the ηₖ, so a single odd step is the one reported."""
    finite = np.sort(sizes[np.isfinite(sizes) & (sizes > 0)])
    if finite.size == 0:
        return None
    return float(finite[(finite.size - 1) // 2])


def _point(point: np.ndarray) -> str:
    return f"({point[0]:.4g}, {point[1]:.4g})"


def _degrees(angle: float, tolerance: float | None = None) -> str:
    """An angle with one decimal, or more when one decimal would not show that it exceeds ``tolerance``."""
    for decimals in range(1, 7):
        text = f"{angle:.{decimals}f}"
        if tolerance is None or float(text) > tolerance or decimals == 6:
            return f"{text}°"
    return f"{angle}°"  # pragma: no cover


def describe_sizes(result: Feasibility) -> str:
    """'η from 0.1 to 0.1' for a report: the range of ‖step‖/‖∇f‖ over the steps."""
    sizes = result.step_sizes[np.isfinite(result.step_sizes) & (result.step_sizes > 0)]
    if sizes.size == 0:
        return "no step sizes (∇f = 0 everywhere on the path)"
    low, high = float(sizes.min()), float(sizes.max())
    if math.isclose(low, high, rel_tol=1e-6):
        return f"step size η = {low:.4g} for every step"
    return f"step sizes η = ‖step‖/‖∇f‖ from {low:.4g} to {high:.4g}"
