"""Gradient paths and the feasibility checker, through the Python API.

Expected values never come from the code under test: the bowl's gradient is
written out by hand (∇(x² + xy + 4y²) = (2x + y, x + 8y)), the chain's loss is
recomputed with plain NumPy from the documented data set, rotations and
doublings of steps are applied here, and angles are measured here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from symgrad.errors import UsageError
from symgrad.trajectory import (
    Trajectory,
    check_path,
    descend,
    format_csv,
    generate,
    objective,
    parse_csv,
    read_csv,
    write_csv,
)
from symgrad.trajectory.paths import CONVERGED, GRADIENT_ZERO, STATIONARY, is_stationary, next_point

TOLERANCE = 10.0


# ---- independent references ------------------------------------------------------------------------------
def bowl_gradient(point) -> np.ndarray:
    x, y = point
    return np.array([2 * x + y, x + 8 * y])


def bowl_path(start, eta: float, steps: int, ascent: bool = False) -> np.ndarray:
    """Gradient descent on the bowl with the hand-written gradient: steps + 1 points."""
    sign = 1.0 if ascent else -1.0
    points = [np.asarray(start, dtype=float)]
    for _ in range(steps):
        points.append(points[-1] + sign * eta * bowl_gradient(points[-1]))
    return np.array(points)


def rotated(vector: np.ndarray, degrees: float) -> np.ndarray:
    t = math.radians(degrees)
    return np.array(
        [math.cos(t) * vector[0] - math.sin(t) * vector[1], math.sin(t) * vector[0] + math.cos(t) * vector[1]]
    )


def angle_between(u: np.ndarray, v: np.ndarray) -> float:
    cosine = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
    return math.degrees(math.acos(max(-1.0, min(1.0, cosine))))


def chain_loss_by_hand(w1, w2):
    """The documented data set and the network written out in NumPy: mean of ½(σ(w₂σ(w₁x)) − y*)²."""
    data = [(-2.0, 0.48), (-1.0, 0.41), (1.0, 0.16), (2.0, 0.13)]
    sigma = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    return np.mean([0.5 * (sigma(w2 * sigma(w1 * x)) - y) ** 2 for x, y in data], axis=0)


def finite_difference_gradient(function, point, h: float = 1e-6) -> np.ndarray:
    x, y = point
    return np.array(
        [(function(x + h, y) - function(x - h, y)) / (2 * h), (function(x, y + h) - function(x, y - h)) / (2 * h)]
    )


def consecutive_dots(points: np.ndarray) -> np.ndarray:
    moves = np.diff(points, axis=0)
    return np.einsum("ij,ij->i", moves[:-1], moves[1:])


# ---- objectives -----------------------------------------------------------------------------------------
def test_bowl_gradient_is_the_hand_derivative():
    bowl = objective("bowl")
    rng = np.random.default_rng(7)
    for point in rng.uniform(-3, 3, size=(20, 2)):
        np.testing.assert_allclose(bowl.gradient_at(point), bowl_gradient(point), rtol=1e-12)
        assert bowl.value(*point) == pytest.approx(point[0] ** 2 + point[0] * point[1] + 4 * point[1] ** 2)


def test_chain_is_the_networks_mean_loss_and_its_gradient_agrees_with_finite_differences():
    chain = objective("chain")
    assert [v.name for v in chain.variables] == ["w_1", "w_2"]
    rng = np.random.default_rng(3)
    for point in rng.uniform(-4, 4, size=(12, 2)):
        assert chain.value(*point) == pytest.approx(chain_loss_by_hand(*point), rel=1e-12)
        np.testing.assert_allclose(
            chain.gradient_at(point), finite_difference_gradient(chain_loss_by_hand, point), rtol=1e-5, atol=1e-9
        )


def test_bumps_gradient_agrees_with_finite_differences():
    bumps = objective("bumps")
    function = lambda x, y: float(bumps.value(x, y))  # noqa: E731
    for point in [(0.3, -0.7), (1.2, 1.1), (-2.0, 2.0), (2.5, -2.5)]:
        np.testing.assert_allclose(
            bumps.gradient_at(point), finite_difference_gradient(function, point), rtol=1e-6, atol=1e-9
        )


@pytest.mark.parametrize(
    ("text", "names", "point", "gradient"),
    [
        ("x^2 + 3y^2", ["x", "y"], (1.0, 2.0), (2.0, 12.0)),
        ("3y^2 + x^2", ["x", "y"], (1.0, 2.0), (2.0, 12.0)),
        ("w_1^2 + w_1 w_2", ["w_1", "w_2"], (1.0, 2.0), (4.0, 1.0)),
        (r"\frac{1}{2}(x - 1)^2 + \exp(y)", ["x", "y"], (3.0, 0.0), (2.0, 1.0)),
        ("sin(a) + b", ["a", "b"], (0.0, 5.0), (1.0, 1.0)),
    ],
)
def test_user_expressions_are_parsed_and_differentiated(text, names, point, gradient):
    user = objective(text)
    assert [v.name for v in user.variables] == names
    np.testing.assert_allclose(user.gradient_at(point), gradient, rtol=1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x^2 + y^2 + z", "exactly two variables, found 3: x, y, z"),
        ("x^2", "exactly two variables, found 1: x"),
        ("w1^2 + w2^2", "write w_1 for a subscript"),
        ("x^2 +", "cannot read the objective"),
        ("chian", "unknown objective 'chian'"),
        ("1/0 + x + y", "not finite"),
        (r"\sum_i x_i + y", "plain expression"),
        ("__import__('os').system('true')", "cannot read the objective"),
    ],
)
def test_bad_objectives_are_one_line_usage_errors(text, message):
    with pytest.raises(UsageError) as caught:
        objective(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


# ---- generating paths -----------------------------------------------------------------------------------
def test_descend_takes_the_hand_computed_steps():
    bowl = objective("bowl")
    np.testing.assert_allclose(descend(bowl, (-2.6, 1.6), 0.2, 12), bowl_path((-2.6, 1.6), 0.2, 12), rtol=1e-12)
    np.testing.assert_allclose(
        descend(bowl, (1.0, 0.5), 0.1, 5, ascent=True), bowl_path((1.0, 0.5), 0.1, 5, ascent=True), rtol=1e-12
    )


def test_descend_stops_at_a_stationary_point():
    path = descend(objective("bowl"), (0.0, 0.0), 0.1, 10)
    assert path.shape == (1, 2)


@pytest.mark.parametrize(
    ("name", "ascent"), [("bowl", False), ("chain", False), ("bumps", True), ("x^2 + 3y^2", False)]
)
def test_every_generated_path_is_feasible(name, ascent):
    target = objective(name)
    paths = generate(target, target.steps, target.starts, target.num_steps, ascent=ascent)
    assert len(paths) == len(target.steps) * len(target.starts)
    for path in paths:
        assert len(path.points) > 3
        result = check_path(target, path.points, ascent=ascent)
        assert result.feasible, (path.legend(), result.reason)
        assert check_path(target, path.points, ascent=ascent, constant_step=True).feasible
        assert np.nanmax(result.angles) < 1e-6


@pytest.mark.parametrize(
    ("name", "ascent", "start", "eta", "steps"),
    [
        ("bowl", False, (-2.6, 1.6), 0.2, 12),
        ("chain", False, (0.0, 3.5), 100.0, 20),
        ("bumps", True, (2.8, -1.0), 0.5, 30),
    ],
)
def test_a_large_step_zig_zags_and_is_still_feasible(name, ascent, start, eta, steps):
    target = objective(name)
    path = descend(target, start, eta, steps, ascent=ascent)
    dots = consecutive_dots(path)
    if name == "bowl":  # across the valley every time
        assert np.all(dots < 0), dots
    else:  # it overshoots again and again (and runs straight in between)
        assert np.sum(dots < 0) >= 8, dots
    assert check_path(target, path, ascent=ascent).feasible
    assert check_path(target, path, ascent=ascent, constant_step=True).feasible


def test_a_small_step_does_not_zig_zag_on_the_bowl():
    assert np.all(consecutive_dots(descend(objective("bowl"), (-2.6, 1.6), 0.05, 30)) > 0)


# ---- rotating one step --------------------------------------------------------------------------------------
def path_with_rotated_step(k: int, degrees: float, eta: float, steps: int = 12, start=(-2.6, 1.6)) -> np.ndarray:
    """Bowl gradient descent where step k is rotated by ``degrees`` and the path goes on descending from there."""
    head = bowl_path(start, eta, k - 1)
    corner = head[-1]
    landing = corner + rotated(-eta * bowl_gradient(corner), degrees)
    tail = bowl_path(landing, eta, steps - k)
    return np.vstack([head, tail])


@pytest.mark.parametrize("eta", [0.05, 0.2])
@pytest.mark.parametrize("k", [1, 2, 5, 9, 12])
@pytest.mark.parametrize("degrees", [10.5, -12.0, 37.0, -60.0])
def test_rotating_one_step_beyond_the_tolerance_fails_at_that_step(k, degrees, eta):
    points = path_with_rotated_step(k, degrees, eta)
    assert len(points) == 13
    result = check_path(objective("bowl"), points, tolerance_degrees=TOLERANCE)
    assert not result.feasible
    assert result.first_bad_step == k
    assert result.angles[k - 1] == pytest.approx(abs(degrees), abs=1e-6)
    assert result.reason == (
        f"step {k} is at {abs(degrees):.1f}° to the gradient (tolerance 10°): "
        "it crosses the contour at a slant instead of at a right angle"
    )


@pytest.mark.parametrize("eta", [0.05, 0.2])
@pytest.mark.parametrize("k", [1, 4, 12])
@pytest.mark.parametrize("degrees", [100.0, -135.0, 180.0])
def test_rotating_one_step_backwards_says_it_goes_against_the_gradient(k, degrees, eta):
    result = check_path(objective("bowl"), path_with_rotated_step(k, degrees, eta))
    assert result.first_bad_step == k
    assert result.reason.startswith(f"step {k} goes against the gradient (descent must go downhill")


@pytest.mark.parametrize("eta", [0.05, 0.2])
@pytest.mark.parametrize("k", [1, 2, 5, 12])
@pytest.mark.parametrize("degrees", [9.5, -9.9, 5.0, -3.0])
def test_rotating_one_step_within_the_tolerance_keeps_the_path_feasible(k, degrees, eta):
    result = check_path(objective("bowl"), path_with_rotated_step(k, degrees, eta), tolerance_degrees=TOLERANCE)
    assert result.feasible, result.reason
    assert np.nanmax(result.angles) == pytest.approx(abs(degrees), abs=1e-6)


def test_the_tolerance_is_the_users():
    points = path_with_rotated_step(3, 20.0, 0.05)
    assert check_path(objective("bowl"), points, tolerance_degrees=25).feasible
    assert check_path(objective("bowl"), points, tolerance_degrees=15).first_bad_step == 3


def test_angles_are_measured_against_minus_the_gradient():
    bowl = objective("bowl")
    rng = np.random.default_rng(11)
    points = np.cumsum(rng.normal(size=(9, 2)), axis=0) * 0.3 + np.array([-2.0, 1.0])
    result = check_path(bowl, points, tolerance_degrees=89)
    expected = [angle_between(b - a, -bowl_gradient(a)) for a, b in zip(points[:-1], points[1:], strict=True)]
    bad = result.first_bad_step or len(expected) + 1
    np.testing.assert_allclose(result.angles[: bad - 1], expected[: bad - 1], atol=1e-9)


def test_a_path_straight_at_the_minimum_cuts_the_contours_at_a_slant():
    # From (2.5, 1.2) straight towards the minimum (0, 0): the direction differs from -grad f.
    start = np.array([2.5, 1.2])
    points = np.array([start * (1 - t) for t in np.linspace(0, 0.8, 5)])
    expected = angle_between(-start, -bowl_gradient(start))
    result = check_path(objective("bowl"), points)
    assert expected > 10
    assert result.first_bad_step == 1
    assert f"at {expected:.1f}° to the gradient" in result.reason
    assert check_path(objective("bowl"), points, tolerance_degrees=expected + 0.5).feasible


# ---- direction, zero steps, stationary points --------------------------------------------------------------
@pytest.mark.parametrize("name", ["bowl", "chain"])
def test_a_descent_path_fails_the_ascent_check_at_step_one(name):
    target = objective(name)
    path = descend(target, target.starts[0], target.steps[0], 10)
    assert check_path(target, path).feasible
    result = check_path(target, path, ascent=True)
    assert (result.feasible, result.first_bad_step) == (False, 1)
    assert "against the gradient" in result.reason and "ascent must go uphill" in result.reason


def test_an_ascent_path_fails_the_descent_check_at_step_one():
    bumps = objective("bumps")
    path = descend(bumps, (2.8, -1.0), 0.1, 10, ascent=True)
    assert check_path(bumps, path, ascent=True).feasible
    result = check_path(bumps, path)
    assert result.first_bad_step == 1 and "against the gradient (descent must go downhill" in result.reason


def test_a_path_that_turns_back_uphill_halfway_fails_there():
    down = bowl_path((-2.6, 1.6), 0.05, 4)
    up = bowl_path(down[-1], 0.05, 3, ascent=True)
    result = check_path(objective("bowl"), np.vstack([down, up[1:]]))
    assert result.first_bad_step == 5 and "goes uphill" in result.reason


@pytest.mark.parametrize("k", [1, 3, 6])
def test_a_zero_length_step_is_infeasible(k):
    path = bowl_path((-2.6, 1.6), 0.1, 6)
    repeated = np.insert(path, k, path[k - 1], axis=0)  # point k repeats point k - 1
    result = check_path(objective("bowl"), repeated)
    assert result.first_bad_step == k
    assert result.reason == f"step {k} has zero length (step size must be positive)"


def test_moving_away_from_a_stationary_point_is_infeasible():
    result = check_path(objective("bowl"), [(0.0, 0.0), (0.1, 0.0)])
    assert result.first_bad_step == 1 and "∇f = 0" in result.reason


@pytest.mark.parametrize(
    ("name", "point"),
    [("bowl", (0.0, 0.0)), ("x^2 - y^2", (0.0, 0.0)), ("x^2 + 3y^2", (0.0, 0.0)), ("(x - 1)^2 + (y + 2)^2", (1, -2))],
)
@pytest.mark.parametrize("ascent", [False, True])
def test_a_path_started_at_a_stationary_point_is_one_point_and_feasible(name, point, ascent):
    """The minimum of a bowl, a saddle: gradient descent (and ascent) stays put there; the one-point path it
    makes is the path the checker accepts, with the point named."""
    target = objective(name)
    path = descend(target, point, 0.1, 10, ascent=ascent)
    np.testing.assert_array_equal(path, [point])
    result = check_path(target, path, ascent=ascent)
    assert result.feasible and result.first_bad_step is None
    assert result.reason.startswith("feasible: starts at a stationary point (∇f = 0)")
    assert check_path(target, path, ascent=ascent, constant_step=True).feasible


@pytest.mark.parametrize("point", [(0.0, 1.0), (-2.6, 1.6), (1e-3, 0.0)])
def test_one_point_where_the_gradient_is_not_zero_is_infeasible_at_step_one(point):
    assert np.hypot(*bowl_gradient(point)) > 1e-6  # the hand-written gradient: not a stationary point
    result = check_path(objective("bowl"), [point])
    assert (result.feasible, result.first_bad_step) == (False, 1)
    assert "no steps, but ∇f ≠ 0" in result.reason and "moves from there" in result.reason


def test_one_point_where_the_gradient_is_undefined_is_a_usage_error():
    with pytest.raises(UsageError, match="not defined at the path's only point"):
        check_path(objective(r"\sqrt{x} + y"), [(-1.0, 0.0)])


@pytest.mark.parametrize("ascent", [False, True])
def test_a_start_too_close_to_the_minimum_to_move_is_one_point_and_feasible_given_its_step(ascent):
    """1e-11 from the bowl's minimum ∇f ≠ 0, but a step of η∇f is far below what moves the point in floating
    point: descent stops there, and the checker, told η, accepts the one point it wrote instead of calling it
    a missing step."""
    start, eta = (1e-11, 0.0), 0.1
    length = float(np.hypot(*bowl_gradient(start)))  # (2e-11, 1e-11) by hand
    assert GRADIENT_ZERO < length and eta * length < CONVERGED  # not stationary, yet the step is too small
    bowl = objective("bowl")
    path = descend(bowl, start, eta, 10, ascent=ascent)
    np.testing.assert_array_equal(path, [start])
    result = check_path(bowl, path, ascent=ascent, step=eta)
    assert (result.feasible, result.first_bad_step) == (True, None), result.reason
    assert result.reason.startswith(f"feasible: starts where ∇f is too small for a step of η = {eta:g}")
    assert f"‖∇f‖ = {length:.2g}" in result.reason and "stays put" in result.reason
    unknown = check_path(bowl, path, ascent=ascent)  # without η no step size is too small: ∇f ≠ 0 is a move
    assert (unknown.feasible, unknown.first_bad_step) == (False, 1)


@pytest.mark.parametrize(("point", "eta"), [((0.0, 1.0), 0.1), ((-2.6, 1.6), 1e-3), ((-2.0, 1.0), 1e308)])
def test_one_point_that_its_step_moves_or_overflows_from_is_still_infeasible(point, eta):
    """A known η does not excuse a path that stays where a step of η∇f moves the point (or overflows)."""
    with np.errstate(over="ignore"):
        moved = np.asarray(point) - eta * bowl_gradient(point)
    assert not np.all(np.isfinite(moved)) or np.hypot(*(moved - point)) > CONVERGED
    result = check_path(objective("bowl"), [point], step=eta)
    assert (result.feasible, result.first_bad_step) == (False, 1)
    assert "no steps, but ∇f ≠ 0" in result.reason


@pytest.mark.parametrize("eta", [0.0, -0.1, math.nan, math.inf])
def test_a_step_size_for_the_checker_must_be_positive(eta):
    with pytest.raises(UsageError, match="the step size must be a positive number"):
        check_path(objective("bowl"), [(0.0, 0.0)], step=eta)


def test_generator_and_checker_share_one_rule_for_stationary():
    """∇(x² + y²) = (2x, 2y): just under the threshold every part calls the point stationary, just over it none
    does, whether it asks for one gradient or for the gradients of a whole path."""
    circle = objective("x^2 + y^2")
    still, moving = 0.25 * GRADIENT_ZERO, GRADIENT_ZERO  # ‖∇f‖ = 0.5 and 2 times the threshold
    np.testing.assert_array_equal(is_stationary(np.array([[2 * still, 0.0], [2 * moving, 0.0]])), [True, False])
    assert next_point(circle, np.array([still, 0.0]), 1.0)[1] == STATIONARY
    assert next_point(circle, np.array([moving, 0.0]), 1.0)[1] != STATIONARY
    assert check_path(circle, [(still, 0.0)]).feasible
    assert not check_path(circle, [(moving, 0.0)]).feasible
    away = check_path(circle, [(still, 0.0), (still - 0.1, 0.0)])  # a step along −∇f, from a point it must not leave
    assert away.first_bad_step == 1 and "starts where ∇f = 0" in away.reason
    assert check_path(circle, [(moving, 0.0), (moving - 0.1, 0.0)]).feasible


# ---- one common step size --------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 6, 10])
def test_a_doubled_step_fails_the_constant_step_check_at_that_step(k):
    eta = 0.05
    head = bowl_path((-2.6, 1.6), eta, k - 1)
    landing = head[-1] - 2 * eta * bowl_gradient(head[-1])
    points = np.vstack([head, bowl_path(landing, eta, 10 - k)])
    bowl = objective("bowl")
    assert check_path(bowl, points).feasible  # every step points along -grad f
    result = check_path(bowl, points, constant_step=True)
    assert result.first_bad_step == k
    assert result.common_step == pytest.approx(eta)
    assert result.step_sizes[k - 1] == pytest.approx(2 * eta)
    assert f"step {k} has step size η = 0.1, but the common step size is η = 0.05" in result.reason


def test_a_constant_step_path_reports_its_step_size():
    result = check_path(objective("bowl"), bowl_path((2.5, 1.2), 0.2, 15), constant_step=True)
    assert result.feasible and result.common_step == pytest.approx(0.2)
    np.testing.assert_allclose(result.step_sizes, 0.2, rtol=1e-9)
    assert "common step size η = 0.2" in result.reason


# ---- unusable input -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("points", "message"),
    [
        (np.empty((0, 2)), "at least one point"),
        ([(0.0, 1.0), (float("nan"), 1.0)], "not finite"),
        ([(0.0, 1.0), (float("inf"), 1.0)], "not finite"),
        ([(0.0, 1.0, 2.0), (1.0, 1.0, 1.0)], "shape (n, 2)"),
        ("abc", "shape (n, 2)"),
    ],
)
def test_unusable_paths_are_usage_errors(points, message):
    with pytest.raises(UsageError) as caught:
        check_path(objective("bowl"), points)
    assert message in str(caught.value)


def test_a_point_where_the_gradient_is_undefined_is_a_usage_error():
    with pytest.raises(UsageError, match="not defined at the start of step 2"):
        check_path(objective(r"\sqrt{x} + y"), [(1.0, 0.0), (-1.0, 0.0), (-2.0, 0.0)])


# ---- CSV --------------------------------------------------------------------------------------------------
def test_csv_round_trip_is_exact(tmp_path):
    chain = objective("chain")
    paths = generate(chain, [10.0, 100.0], [(0.0, 3.5)], 15)
    target = tmp_path / "paths.csv"
    write_csv(target, paths, chain, ascent=False)
    text = target.read_text()
    assert text.splitlines()[0].startswith("#") and "path,step,x,y" in text.splitlines()
    read, comments = read_csv(target)
    assert comments["objective"] == "chain" and comments["direction"] == "descent"
    assert [p.label for p in read] == ["1", "2"] and [p.step for p in read] == [10.0, 100.0]
    for original, again in zip(paths, read, strict=True):
        assert np.array_equal(original.points, again.points)  # exact: floats are written in full


def test_a_one_point_path_round_trips_through_csv(tmp_path):
    """What descent from the bowl's minimum writes, the CSV reader reads back: the checker then accepts it."""
    bowl = objective("bowl")
    paths = generate(bowl, [0.1], [(0.0, 0.0), (-2.6, 1.6)], 10)
    assert [len(p.points) for p in paths] == [1, 11]
    target = tmp_path / "paths.csv"
    write_csv(target, paths, bowl, ascent=False)
    read, _ = read_csv(target)
    assert [p.label for p in read] == ["1", "2"] and [p.step for p in read] == [0.1, 0.1]
    for original, again in zip(paths, read, strict=True):
        assert np.array_equal(original.points, again.points)
        assert check_path(bowl, again.points).feasible
    (alone,), _ = parse_csv("x,y\n1,2\n")
    np.testing.assert_array_equal(alone.points, [[1.0, 2.0]])


def test_csv_rows_are_the_points_in_order():
    text = format_csv([Trajectory("A", np.array([[1.0, 2.0], [3.0, 4.5]]), None)])
    rows = [line for line in text.splitlines() if not line.startswith("#")]
    assert rows == ["path,step,x,y", "A,,1.0,2.0", "A,,3.0,4.5"]


@pytest.mark.parametrize(
    "text",
    [
        "x,y\n1,2\n3,4\n5,6\n",
        "1,2\n3,4\n5,6\n",
        "w1, w2\n1, 2\n3, 4\n5, 6\n",
        "# my path\n\ny,x\n2,1\n4,3\n6,5\n",
        "path,x,y\nA,1,2\nA,3,4\nA,5,6\n",
        "x y\n1 2\n3\t4\n5   6\n",
    ],
)
def test_plain_two_column_files_are_one_path(text):
    (path,), _ = parse_csv(text)
    np.testing.assert_array_equal(path.points, [[1, 2], [3, 4], [5, 6]])
    assert path.step is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "has no points"),
        ("# only a comment\n", "has no points"),
        ("x,y\n1,2\n3,abc\n", "line 3: y is not a number: 'abc'"),
        ("x,y\n1,2\n3\n", "line 3: expected 2 values"),
        ("x,y\n1,2\nnan,4\n", "line 3: x is not finite"),
        ("x,y\n1,2\n3,inf\n", "line 3: y is not finite"),
        ("1,2,3\n4,5,6\n", "expected a header, or 2 columns"),
        ("path,step,x,y,z\n1,0.1,1,2,3\n", "the header must name the columns"),
        ("path,step,x,y\n1,0.1,0,0\n1,0.1,1,1\n2,0.1,0,0\n2,0.1,1,1\n1,0.1,2,2\n", "continues after another path"),
        ("path,step,x,y\n1,0.1,0,0\n1,0.2,1,1\n", "changes its step size"),
        ("path,step,x,y\n1,-0.1,0,0\n1,-0.1,1,1\n", "step size must be positive"),
    ],
)
def test_malformed_csv_is_a_one_line_usage_error(text, message):
    with pytest.raises(UsageError) as caught:
        parse_csv(text, "answer.csv")
    assert message in str(caught.value)
    assert str(caught.value).startswith("answer.csv") and "\n" not in str(caught.value)
