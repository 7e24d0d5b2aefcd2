"""``symgrad trajectory`` on the command line: CSV out, the checker's verdicts and exit codes, every user error.

A user error is one line on stderr starting ``symgrad: error:``, exit status 2,
no traceback.  None of these tests needs matplotlib (the missing-matplotlib
error is simulated in-process).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symgrad.trajectory
from symgrad.cli import main
from symgrad.commands import trajectory as trajectory_command
from symgrad.trajectory import PLOT_HINT


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["trajectory", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status: int, err: str, message: str) -> None:
    assert status == 2
    assert err.startswith("symgrad: error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert "Traceback" not in err


def bowl_gradient(x: float, y: float) -> np.ndarray:
    return np.array([2 * x + y, x + 8 * y])


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ---- drawing without a picture: CSV ------------------------------------------------------------------------
def test_csv_holds_one_path_per_step_size_and_start(capsys, tmp_path):
    target = tmp_path / "paths.csv"
    status, out, err = run(
        capsys,
        "--objective",
        "bowl",
        "--step",
        "0.1",
        "--step",
        "0.2",
        "--start=-2,1",
        "--start",
        "1,1",
        "--steps",
        "5",
        "--csv",
        str(target),
    )
    assert (status, err) == (0, "")
    assert f"wrote {target}" in out
    rows = list(csv.DictReader(line for line in target.read_text().splitlines() if not line.startswith("#")))
    assert list(rows[0]) == ["path", "step", "x", "y"]
    assert [label for label in dict.fromkeys(row["path"] for row in rows)] == ["1", "2", "3", "4"]
    first = [row for row in rows if row["path"] == "1"]
    assert len(first) == 6 and first[0]["step"] == "0.1"
    x0, y0 = float(first[0]["x"]), float(first[0]["y"])
    x1, y1 = float(first[1]["x"]), float(first[1]["y"])
    assert (x0, y0) == (-2.0, 1.0)
    np.testing.assert_allclose([x1, y1], np.array([x0, y0]) - 0.1 * bowl_gradient(x0, y0), rtol=1e-12)


def test_csv_to_standard_output(capsys):
    status, out, err = run(
        capsys, "--objective", "x^2 + 3y^2", "--start", "1,1", "--step", "0.1", "--steps", "3", "--csv", "-"
    )
    assert status == 0
    lines = [line for line in out.splitlines() if not line.startswith("#")]
    assert lines[0] == "path,step,x,y" and lines[1] == "1,0.1,1.0,1.0"
    assert "# objective: x^2 + 3y^2" in out
    assert "path 1:" in err  # the summary goes to stderr, so that stdout is pure CSV


# ---- checking ---------------------------------------------------------------------------------------------
def test_generated_paths_pass_the_check_and_fail_the_opposite_check(capsys, tmp_path):
    target = tmp_path / "chain.csv"
    assert run(capsys, "--objective", "chain", "--csv", str(target))[0] == 0
    status, out, _ = run(capsys, "--check", str(target), "--descent")  # the objective comes from the file
    assert status == 0, out
    assert "objective chain" in out and "4 of 4 paths feasible" in out
    status, out, _ = run(capsys, "--check", str(target), "--ascent")
    assert status == 1
    assert "path 1: infeasible: step 1 goes against the gradient (ascent must go uphill" in out
    assert "0 of 4 paths feasible" in out


def test_check_reports_the_first_bad_step_of_a_hand_drawn_path(capsys, tmp_path):
    # Two exact descent steps with eta = 0.1, then a step straight along the x axis.
    p0 = np.array([-2.0, 1.0])
    p1 = p0 - 0.1 * bowl_gradient(*p0)
    p2 = p1 - 0.1 * bowl_gradient(*p1)
    p3 = p2 + np.array([0.5, 0.0])
    answer = write(
        tmp_path / "answer.csv", "x,y\n" + "".join(f"{float(x)!r},{float(y)!r}\n" for x, y in (p0, p1, p2, p3))
    )
    status, out, _ = run(capsys, "--check", str(answer), "--descent", "--objective", "bowl")
    assert status == 1
    expected = np.degrees(np.arccos(np.dot([1.0, 0.0], -bowl_gradient(*p2)) / np.linalg.norm(bowl_gradient(*p2))))
    assert f"path 1: infeasible: step 3 is at {expected:.1f}° to the gradient (tolerance 10°)" in out
    status, out, _ = run(
        capsys, "--check", str(answer), "--descent", "--objective", "bowl", "--tolerance", f"{expected + 1:.1f}"
    )
    assert status == 0, out


def test_constant_step_reports_the_step_sizes(capsys, tmp_path):
    p0 = np.array([2.0, 1.0])
    points = [p0]
    for eta in (0.05, 0.05, 0.1, 0.05):
        points.append(points[-1] - eta * bowl_gradient(*points[-1]))
    answer = write(tmp_path / "answer.csv", "x,y\n" + "".join(f"{float(x)!r},{float(y)!r}\n" for x, y in points))
    status, out, _ = run(capsys, "--check", str(answer), "--descent", "--objective", "bowl")
    assert status == 0 and "step sizes η = ‖step‖/‖∇f‖ from 0.05 to 0.1" in out
    status, out, _ = run(capsys, "--check", str(answer), "--descent", "--objective", "bowl", "--constant-step")
    assert status == 1
    assert "step 3 has step size η = 0.1, but the common step size is η = 0.05 (tolerance 5%)" in out


def test_a_file_with_several_paths_gets_a_verdict_for_each(capsys, tmp_path):
    p0 = np.array([-2.0, 1.0])
    good = [p0, p0 - 0.1 * bowl_gradient(*p0)]
    bad = [p0, p0 + 0.1 * bowl_gradient(*p0)]
    rows = [f"A,,{float(x)!r},{float(y)!r}" for x, y in good] + [f"B,,{float(x)!r},{float(y)!r}" for x, y in bad]
    answer = write(tmp_path / "answers.csv", "path,step,x,y\n" + "\n".join(rows) + "\n")
    status, out, _ = run(capsys, "--check", str(answer), "--descent", "--objective", "bowl")
    assert status == 1
    assert "path A: feasible" in out and "path B: infeasible: step 1 goes against the gradient" in out
    assert "1 of 2 paths feasible" in out


# ---- errors: one line, exit 2 -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--objective", "x^2 +", "--csv", "-"], "cannot read the objective 'x^2 +': column 6"),
        (["--objective", "x + y + z", "--csv", "-"], "must have exactly two variables, found 3: x, y, z"),
        (["--objective", "chian", "--csv", "-"], "unknown objective 'chian'; choose from chain, bowl, bumps"),
        (["--objective", "bowl"], "say where to write"),
        (["--start", "1", "--csv", "-"], "argument --start: expected X,Y"),
        (["--start", "a,b", "--csv", "-"], "argument --start: expected X,Y"),
        (["--step", "0", "--csv", "-"], "the step size must be a positive number"),
        (["--step", "-1", "--csv", "-"], "argument --step: the step size must be a positive number, not '-1'"),
        (["--steps", "0", "--csv", "-"], "expected a whole number of steps"),
        (["--range=3,-3,0,1", "--csv", "-"], "needs XMIN < XMAX"),
        (["--size", "big", "-o", "x.png"], "expected WxH"),
        (["--tolerance", "5", "--csv", "-"], "--tolerance is for --check"),
        (["--ascent", "--descent", "--csv", "-"], "not allowed with argument"),
        (["--title", "bowl", "--csv", "-"], "--title is for the picture; give -o FILE"),
        (["--title", "", "--csv", "-"], "--title is for the picture"),
        (["--size", "800x600", "--csv", "-"], "--size is for the picture"),
        (["--dpi", "300", "--csv", "-"], "--dpi is for the picture"),
        (["--no-field", "--csv", "-"], "--no-field is for the picture"),
        (["--csv", ""], "argument --csv: expected a file or folder name, not ''"),
        (["-o", "", "--csv", "-"], "argument -o/--output: expected a file or folder name"),
        # pictures bounded by their pixels, whatever the units (20x20in at 1000 dpi took 1.7 GB; larger, bad_alloc)
        (["--size", "100x100in", "--dpi", "1200", "-o", "x.png"], "has 14,400,000,000 pixels; symgrad draws at most"),
        (["--size", "20x20in", "--dpi", "1000", "-o", "x.png"], "a picture of 20x20in at 1000 dpi has 400,000,000"),
        (["--size", "10000x10000", "-o", "x.png"], "a picture of 10000x10000 has 100,000,000 pixels"),
        (["--objective", "x^{2^{50000}}", "--csv", "-"], "a number too large to work with"),
    ],
)
def test_drawing_errors(capsys, args, message):
    assert_one_line_error(*run(capsys, *args)[::2], message)


def test_an_objective_with_an_absolute_value_has_a_gradient(capsys):
    """d|x|/dx is sign(x) (the variables are real); it was a derivative of re(x), which NumPy cannot compute."""
    status, out, err = run(capsys, "--objective", "|x| + y^2", "--start", "1,1", "--step", "0.1", "--steps", "3",
                           "--csv", "-")
    assert status == 0, err
    rows = list(csv.DictReader(line for line in out.splitlines() if not line.startswith("#")))
    assert [float(r["x"]) for r in rows] == pytest.approx([1.0, 0.9, 0.8, 0.7])


def test_check_errors(capsys, tmp_path):
    good = write(tmp_path / "good.csv", "x,y\n0,1\n0,0.5\n")
    cases = [
        (["--check", str(tmp_path / "missing.csv"), "--descent", "--objective", "bowl"], "cannot read"),
        (["--check", str(good), "--objective", "bowl"], "--check needs --ascent or --descent"),
        (["--check", str(good), "--descent"], "does not name its objective; give --objective"),
        (["--check", str(good), "--descent", "--objective", "nosuch"], "unknown objective 'nosuch'"),
        (["--check", str(good), "--descent", "--objective", "a b c"], "exactly two variables"),
        (["--check", str(good), "--descent", "--objective", "bowl", "--step", "0.1"], "--step is for drawing"),
        (["--check", str(good), "--descent", "--objective", "bowl", "--tolerance", "95"], "between 0 and 90"),
        (
            ["--check", str(good), "--descent", "--objective", "bowl", "--step-tolerance", "0.1"],
            "is for --constant-step",
        ),
        (
            ["--check", str(write(tmp_path / "bad.csv", "x,y\n0,1\n0,one\n")), "--descent", "--objective", "bowl"],
            "bad.csv, line 3: y is not a number: 'one'",
        ),
        (
            ["--check", str(write(tmp_path / "nan.csv", "x,y\n0,1\nnan,2\n")), "--descent", "--objective", "bowl"],
            "line 3: x is not finite",
        ),
        (
            ["--check", str(write(tmp_path / "ragged.csv", "x,y\n0,1\n2\n")), "--descent", "--objective", "bowl"],
            "line 3: expected 2 values",
        ),
        (["--check", str(write(tmp_path / "binary.csv", "")), "--descent", "--objective", "bowl"], "has no points"),
        (["--check", str(good), "--descent", "--objective", "bowl", "--range=0,1,0,1"], "--range is for the picture"),
        (["--check", str(good), "--descent", "--objective", "bowl", "--title", "t"], "--title is for the picture"),
        (["--check", "", "--descent"], "argument --check: expected a file or folder name"),
    ]
    (tmp_path / "latin1.csv").write_bytes(b"x,y\n\xff,1\n")
    cases.append((["--check", str(tmp_path / "latin1.csv"), "--descent", "--objective", "bowl"], "not UTF-8"))
    for args, message in cases:
        assert_one_line_error(*run(capsys, *args)[::2], message)


def test_without_matplotlib_a_picture_is_a_one_line_error(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    for loaded in [name for name in sys.modules if name.startswith("matplotlib.")]:  # and so does every submodule,
        monkeypatch.setitem(sys.modules, loaded, None)  # even when an earlier test imported it
    monkeypatch.delitem(sys.modules, "symgrad.trajectory.drawing", raising=False)
    monkeypatch.delattr(symgrad.trajectory, "drawing", raising=False)
    status, out, err = run(capsys, "--objective", "bowl", "-o", str(tmp_path / "bowl.png"))
    assert_one_line_error(status, err, PLOT_HINT)
    assert err == f"symgrad: error: {PLOT_HINT}\n"
    assert not list(tmp_path.iterdir())
    # the CSV and the checker do not need matplotlib
    assert run(capsys, "--objective", "bowl", "--csv", str(tmp_path / "paths.csv"))[0] == 0
    assert run(capsys, "--check", str(tmp_path / "paths.csv"), "--descent")[0] == 0


def test_errors_are_one_line_in_a_real_process(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "symgrad", "trajectory", "--check", str(tmp_path / "none.csv"), "--descent"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and completed.stderr.startswith("symgrad: error: cannot read")


def test_a_csv_written_over_the_drawn_path_or_the_picture_is_refused(tmp_path, capsys):
    drawn = tmp_path / "hand.csv"
    assert main(["trajectory", "--step", "0.1", "--csv", str(drawn)]) == 0
    kept = drawn.read_text()
    assert main(["trajectory", "--draw", str(drawn), "--csv", str(drawn)]) == 2
    picture = str(tmp_path / "same.svg")
    assert main(["trajectory", "--step", "0.1", "-o", picture, "--csv", picture]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert [line.split(": it is the same file as ")[0] for line in errors[-2:]] == [
        f"symgrad: error: cannot write {drawn}", f"symgrad: error: cannot write {picture}"]
    assert drawn.read_text() == kept and not Path(picture).exists()


# ---- paths on which f stops being finite: flagged, exit 1 ------------------------------------------------------
def paths_in(text: str) -> dict[str, np.ndarray]:
    """The points of each path in CSV text, by label."""
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    labels = dict.fromkeys(row["path"] for row in rows)
    return {label: np.array([(float(r["x"]), float(r["y"])) for r in rows if r["path"] == label]) for label in labels}


def test_a_path_that_overflows_is_flagged_and_exits_1(capsys, tmp_path):
    """η = 0.5 is twice the bowl's limit 2/λ_max: with enough steps f overflows to inf, which used to exit 0."""
    target = tmp_path / "diverging.csv"
    status, out, err = run(capsys, "--objective", "bowl", "--step", "0.5", "--steps", "2000", "--csv", str(target))
    assert status == 1 and err == ""
    paths = paths_in(target.read_text())  # the files are still written, whole
    x, y = paths["1"][:, 0], paths["1"][:, 1]
    with np.errstate(over="ignore", invalid="ignore"):
        first_inf = int(np.flatnonzero(~np.isfinite(x**2 + x * y + 4 * y**2))[0])
    lines = out.splitlines()
    assert lines[0].startswith("path 1:") and f"f is inf at step {first_inf}," in lines[0]
    assert f"{len(paths)} of {len(paths)} paths reach a point where f is not finite" in out
    assert f"wrote {target}" in out


def test_a_path_that_leaves_the_domain_of_f_is_flagged_and_exits_1(capsys):
    """ln x: from x = 1 with η = 0.5 the first step lands at 0.5 and the second at 0.5 − 0.5/0.5 < 0."""
    status, out, err = run(
        capsys, "--objective", "ln(x) + y^2", "--start", "1,1", "--step", "0.5", "--steps", "5", "--csv", "-"
    )
    assert status == 1
    step = int(np.flatnonzero(paths_in(out)["1"][:, 0] <= 0)[0])
    assert f"f is undefined (NaN) at step {step}" in err  # the report goes to stderr when the CSV is on stdout
    assert "1 of 1 path reaches a point where f is not finite" in err


def test_paths_on_which_f_stays_finite_exit_0(capsys):
    status, _, err = run(capsys, "--objective", "bowl", "--step", "0.2", "--steps", "200", "--csv", "-")
    assert status == 0 and "not finite" not in err


def test_a_byte_order_mark_before_the_header_is_read(capsys, tmp_path):
    """Excel's 'CSV UTF-8' starts with a byte-order mark; the header after it is still path,step,x,y."""
    written = tmp_path / "paths.csv"
    assert run(capsys, "--objective", "bowl", "--csv", str(written))[0] == 0
    rows = [line for line in written.read_text().splitlines() if not line.startswith("#")]
    marked = tmp_path / "marked.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + "\n".join(rows).encode())
    status, out, _ = run(capsys, "--check", str(marked), "--descent", "--objective", "bowl")
    count = len(paths_in(written.read_text()))
    assert status == 0 and f"{count} of {count} paths feasible" in out, out


def test_steps_with_draw_computes_paths_beside_the_drawn_ones(capsys, tmp_path):
    """--draw alone draws the file's paths; --steps used to be ignored with it, as --step and --start were not."""
    drawn = write(tmp_path / "hand.csv", "x,y\n-2,1\n-1.5,0.5\n")
    status, out, _ = run(capsys, "--draw", str(drawn), "--steps", "3", "--csv", "-")
    assert status == 0
    paths = paths_in(out)
    assert len(paths["1"]) == 2 and len(paths) > 1
    assert all(len(points) == 4 for label, points in paths.items() if label != "1")


# ---- paths that take no step ---------------------------------------------------------------------------------
def test_a_start_at_a_stationary_point_is_written_read_back_drawn_and_checked(capsys, tmp_path):
    """Descent from the bowl's minimum (∇f = (2x + y, x + 8y) = 0 at the origin) stays there: the CSV holds that
    one point, and --check and --draw read it back instead of refusing it."""
    assert not bowl_gradient(0.0, 0.0).any()
    target = tmp_path / "still.csv"
    status, out, err = run(capsys, "--objective", "bowl", "--start=0,0", "--start=-2,1", "--step", "0.1",
                           "--csv", str(target))
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == (
        "path 1: η = 0.1, start (0, 0): 0 steps, f = 0; starts at a stationary point (∇f = 0) and stays there"
    )
    assert lines[1].startswith("path 2: η = 0.1, start (-2, 1): ") and "stationary" not in lines[1]
    paths = paths_in(target.read_text())
    np.testing.assert_array_equal(paths["1"], [[0.0, 0.0]])
    assert len(paths["2"]) > 2

    status, out, _ = run(capsys, "--check", str(target), "--descent")
    assert status == 0, out
    assert "path 1: feasible: starts at a stationary point (∇f = 0), (0, 0), where gradient descent stays put" in out
    assert "2 of 2 paths feasible" in out

    status, out, err = run(capsys, "--draw", str(target), "--csv", "-")
    assert status == 0 and err == ""
    again = paths_in(out)
    np.testing.assert_array_equal(again["1"], paths["1"])
    np.testing.assert_array_equal(again["2"], paths["2"])


def test_a_hand_drawn_single_point_away_from_a_stationary_point_is_infeasible(capsys, tmp_path):
    answer = write(tmp_path / "short.csv", "x,y\n0,1\n")
    assert bowl_gradient(0.0, 1.0).any()
    status, out, _ = run(capsys, "--check", str(answer), "--descent", "--objective", "bowl")
    assert status == 1
    assert "path 1: infeasible: the path has no steps, but ∇f ≠ 0 at its start (0, 1)" in out
    assert "0 of 1 path feasible" in out


def test_a_path_whose_first_step_overflows_is_flagged_and_the_checker_agrees(capsys, tmp_path):
    """η = 1e308 sends the first step past the largest float: no step is taken, which is no gradient path, so
    the command says why and exits 1; the checker calls the one point it wrote infeasible too."""
    target = tmp_path / "huge.csv"  # f(-2, 1) = 4 - 2 + 4 = 6 by hand
    status, out, _ = run(capsys, "--objective", "bowl", "--start=-2,1", "--step", "1e308", "--csv", str(target))
    assert status == 1
    assert "path 1: η = 1e+308, start (-2, 1): 0 steps, f = 6; it takes no step: the step overflows" in out
    assert "1 of 1 path takes no step from a start where it should move; exit status 1" in out
    assert f"wrote {target}" in out
    status, out, _ = run(capsys, "--check", str(target), "--descent")
    assert status == 1 and "path 1: infeasible: the path has no steps" in out


def test_paths_whose_first_step_overflows_are_counted_in_the_plural(capsys):
    """Two of three step sizes overflow from (-2, 1), where ∇f = (-3, 6): 6e308 and 6·1.7e308 pass the largest
    float, 0.6 does not.  The closing line counts them: 'paths' for the three, 'take' for the two."""
    assert np.all(bowl_gradient(-2.0, 1.0) == [-3.0, 6.0])
    status, _, err = run(capsys, "--objective", "bowl", "--start=-2,1", "--step", "1e308", "--step", "1.7e308",
                         "--step", "0.1", "--csv", "-")
    assert status == 1
    assert err.count("it takes no step: the step overflows") == 2
    assert "2 of 3 paths take no step from a start where it should move; exit status 1" in err


@pytest.mark.parametrize("direction", ["--descent", "--ascent"])
def test_a_start_too_close_to_the_minimum_to_move_is_converged_not_stuck(capsys, tmp_path, direction):
    """1e-11 from the bowl's minimum ∇f = (2e-11, 1e-11) ≠ 0, but a step of 0.1∇f cannot move the point in floating
    point: the path is that one point, exit 0, and --check accepts it with the CSV's step size (it used to say
    'takes no step from a start that is not stationary', exit 1, and the checker called the path infeasible)."""
    x = 1e-11
    length = float(np.hypot(*bowl_gradient(x, 0.0)))
    assert 1e-12 < length and 0.1 * length < 1e-9  # ∇f ≠ 0, but the move, 2.2e-12, is far below 1e-9 of |p| ≤ 1
    target = tmp_path / "close.csv"
    args = ["--objective", "bowl", f"--start={x},0", "--step", "0.1", "--csv", str(target)]
    status, out, err = run(capsys, *args, *(["--ascent"] if direction == "--ascent" else []))
    assert (status, err) == (0, ""), out
    lines = out.splitlines()
    assert lines[0] == (
        f"path 1: η = 0.1, start ({x:g}, 0): 0 steps, f = {x * x:.4g}; starts where ∇f is too small for the step to "
        f"move it (‖∇f‖ = {length:.2g}) and stays there"
    )
    assert "takes no step" not in out
    np.testing.assert_array_equal(paths_in(target.read_text())["1"], [[x, 0.0]])

    status, out, _ = run(capsys, "--check", str(target), direction)
    assert status == 0, out
    assert "path 1: feasible: starts where ∇f is too small for a step of η = 0.1 to move it in floating point" in out
    assert "1 of 1 path feasible" in out

    hand_drawn = write(tmp_path / "hand.csv", f"x,y\n{x},0\n")  # no step size: ∇f ≠ 0 means it should move
    status, out, _ = run(capsys, "--check", str(hand_drawn), direction, "--objective", "bowl")
    assert status == 1 and f"path 1: infeasible: the path has no steps, but ∇f ≠ 0 at its start ({x:g}, 0)" in out


def test_a_one_point_path_with_a_step_that_moves_it_is_still_infeasible(capsys, tmp_path):
    """A step size in the CSV excuses only a step too small to move the point: from (0, 1), where ∇f = (1, 8),
    a step of 0.1∇f moves it by 0.8, so the missing step is still the infeasible one."""
    assert np.hypot(*(0.1 * bowl_gradient(0.0, 1.0))) > 0.5
    answer = write(tmp_path / "short.csv", "path,step,x,y\n1,0.1,0,1\n")
    status, out, _ = run(capsys, "--check", str(answer), "--descent", "--objective", "bowl")
    assert status == 1 and "path 1: infeasible: the path has no steps, but ∇f ≠ 0 at its start (0, 1)" in out


def test_ascent_summaries_follow_the_ascent(capsys, monkeypatch):
    """Ascent from the bowl's minimum stays there; from (-2, 1) it climbs, f as the hand-written ascent says.
    Each one-point path asks next_point why it took no step once, in its own direction."""
    asked: list[bool] = []
    original = trajectory_command.next_point

    def recording(target, point, step, ascent=False):
        asked.append(ascent)
        return original(target, point, step, ascent)

    monkeypatch.setattr(trajectory_command, "next_point", recording)
    status, _, err = run(capsys, "--objective", "bowl", "--ascent", "--start=0,0", "--start=-2,1", "--step", "0.1",
                         "--steps", "5", "--csv", "-")
    assert status == 0
    point = np.array([-2.0, 1.0])
    for _ in range(5):
        point = point + 0.1 * bowl_gradient(*point)
    f_end = point[0] ** 2 + point[0] * point[1] + 4 * point[1] ** 2
    lines = err.splitlines()
    assert lines[0] == (
        "path 1: η = 0.1, start (0, 0): 0 steps, f = 0; starts at a stationary point (∇f = 0) and stays there"
    )
    assert lines[1].startswith(f"path 2: η = 0.1, start (-2, 1): 5 steps, f from 6 to {f_end:.4g}, ")
    assert f_end > 6 and "stays there" not in lines[1]
    assert asked == [True]  # once, for path 1, as ascent; path 2 moved and needs no reason
