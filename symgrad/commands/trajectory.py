"""``symgrad trajectory``: draw gradient descent/ascent paths on contours, or check whether a path is feasible.

Two modes:

* drawing: ``symgrad trajectory --objective bowl --step 0.05 --step 0.2 -o bowl.png --csv bowl.csv``
  computes one path per (step size, start), draws them over the labelled contours and the gradient
  field, and saves the paths as CSV;
* checking: ``symgrad trajectory --check answer.csv --descent [--objective chain] [--constant-step]``
  says, for each path in the file, whether it is a feasible gradient path and, if not, which step is
  the first one that is not, and why.  Exit status 0: all feasible, 1: some path is infeasible,
  2: the input cannot be used.
"""

from __future__ import annotations

import argparse
import math
import re
import sys

import numpy as np

from symgrad.errors import UsageError
from symgrad.files import (
    add_follow_symlinks_option,
    add_quiet_option,
    announce,
    check_writable,
    file_name,
    following_symlinks,
    refuse_same_file,
    write_if_changed,
)
from symgrad.trajectory import PLOT_HINT, drawing_module
from symgrad.trajectory.feasibility import DEFAULT_STEP_TOLERANCE, DEFAULT_TOLERANCE_DEGREES, check_path, describe_sizes
from symgrad.trajectory.objectives import BUILTIN_OBJECTIVES, Objective, objective
from symgrad.trajectory.paths import (
    MAX_STEPS,
    STATIONARY,
    TOO_SMALL,
    Trajectory,
    format_csv,
    generate,
    next_point,
    read_csv,
    stays_put,
)

DEFAULT_SIZE = "800x650"
DEFAULT_DPI = 100.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "CSV files have one row per point, columns path,step,x,y (a plain x,y file is one path); '#' lines are "
        "comments, and '# objective: NAME' names the objective for --check and --draw.  --check exits with 0 when "
        "every path is feasible, 1 when one is not, 2 when the input cannot be used.  Drawing exits with 1, after "
        "writing its files, when a path it computes reaches a point where f is not finite (it overflows: the step "
        "is too large; or it leaves f's domain), or takes no step from a start where gradient descent moves (its "
        "first step overflows, say).  A path started at a stationary point (∇f = 0), or where ∇f is too small "
        "for a step to move the point in floating point, is that one point: written, drawn and checked as a "
        "path that stays there.  Negative numbers need '=': "
        f"--start=-2,1.5 --range=-3,3,-2,2.  Without matplotlib, -o fails with: {PLOT_HINT}"
    )
    parser.add_argument(
        "--objective",
        metavar="NAME|EXPR",
        help=f"a built-in objective ({', '.join(BUILTIN_OBJECTIVES)}) or an expression in two variables, "
        "such as 'x^2 + 3y^2' or 'w_1^2 + w_1 w_2' (default: bowl; with --check or --draw, the "
        "objective named in the CSV file)",
    )
    direction = parser.add_mutually_exclusive_group()
    direction.add_argument(
        "--ascent", dest="ascent", action="store_true", default=None, help="gradient ascent (uphill)"
    )
    direction.add_argument(
        "--descent", dest="ascent", action="store_false", help="gradient descent (downhill; the default when drawing)"
    )
    drawing = parser.add_argument_group("drawing")
    drawing.add_argument(
        "--step", metavar="ETA", action="append", type=_positive, help="a step size η (repeat for several)"
    )
    drawing.add_argument(
        "--start", metavar="X,Y", action="append", type=_pair, help="a start point (repeat for several)"
    )
    drawing.add_argument("--steps", metavar="N", type=_count, help="the number of steps of each path")
    drawing.add_argument("--range", metavar="XMIN,XMAX,YMIN,YMAX", type=_bounds, help="the window to draw")
    drawing.add_argument(
        "-o", "--output", metavar="FILE", type=file_name, help="write the picture to FILE: .png, .svg or .pdf"
    )
    drawing.add_argument(
        "--size",
        metavar="WxH",
        type=_size,
        help=f"the picture's size: pixels (800x600) or inches with 'in' (8x6in); default {DEFAULT_SIZE} pixels",
    )
    drawing.add_argument(
        "--dpi",
        metavar="N",
        type=_dpi,
        help="dots per inch: turns a size in inches into pixels for PNG (default 100)",
    )
    drawing.add_argument(
        "--title", metavar="TEXT", help="the picture's title ('' for none; default names the objective)"
    )
    drawing.add_argument("--no-field", action="store_true", help="do not draw the gradient field's arrows")
    drawing.add_argument(
        "--csv",
        metavar="FILE",
        type=file_name,
        help="write the paths as CSV (path,step,x,y) to FILE ('-' for standard output)",
    )
    drawing.add_argument(
        "--draw",
        metavar="CSV",
        type=file_name,
        help="also draw the paths in this CSV file (hand-made answers, say); with it, paths are computed only "
        "when --step, --start or --steps is given",
    )
    add_follow_symlinks_option(parser)
    add_quiet_option(parser)
    checking = parser.add_argument_group("checking")
    checking.add_argument(
        "--check", metavar="CSV", type=file_name, help="check whether each path in CSV is a feasible gradient path"
    )
    checking.add_argument(
        "--tolerance",
        metavar="DEGREES",
        type=_degrees,
        help=f"the largest angle between a step and ∓∇f (default {DEFAULT_TOLERANCE_DEGREES:g})",
    )
    checking.add_argument(
        "--constant-step", action="store_true", help="also require one common step size η for all steps"
    )
    checking.add_argument(
        "--step-tolerance",
        metavar="FRACTION",
        type=_fraction,
        help="with --constant-step, how far each η may differ from the common one "
        f"(default {DEFAULT_STEP_TOLERANCE:g})",
    )


def run(args: argparse.Namespace) -> int:
    """The command; its picture and CSV follow a symlink only with ``--follow-symlinks``."""
    with following_symlinks(args.follow_symlinks):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    _picture_options(args)
    if args.check:
        return _check(args)
    return _draw(args)


def _picture_options(args: argparse.Namespace) -> None:
    """Refuse the options that shape the picture when there is no picture (no -o): they would be ignored.
    With --check, --range is one of them; when drawing, it also bounds the summary's 'leaves the drawn range'.
    Then fill in the defaults of --size and --dpi."""
    if not args.output:
        given = {"--size": args.size, "--dpi": args.dpi, "--title": args.title, "--no-field": args.no_field or None}
        if args.check:
            given["--range"] = args.range
        for flag, value in given.items():
            if value is not None:
                raise UsageError(f"{flag} is for the picture; give -o FILE.png|.svg|.pdf with it")
    args.size = args.size or _size(DEFAULT_SIZE)
    args.dpi = args.dpi or DEFAULT_DPI
    _refuse_huge_pictures(args.size, args.dpi)


#: Pixels a picture may have, whatever the units it is given in: 25 million (5000 × 5000) takes about
#: 100 MB as RGBA; 20 × 20 inches at 1,000 dots per inch (400 million) took 1.7 GB, and larger ended in bad_alloc.
MAX_PIXELS = 25_000_000


def _refuse_huge_pictures(size: tuple[float, float, str], dpi: float) -> None:
    width, height = _inches(size, dpi)
    pixels = round(width * dpi) * round(height * dpi)
    if pixels > MAX_PIXELS:
        given = f"{size[0]:g}x{size[1]:g}" + (f"in at {dpi:g} dpi" if size[2] == "in" else "")
        raise UsageError(f"a picture of {given} has {pixels:,} pixels; symgrad draws at most {MAX_PIXELS:,} "
                         "(lower --size or --dpi)")


# ---- drawing --------------------------------------------------------------------------------------------
def _draw(args: argparse.Namespace) -> int:
    for name in ("tolerance", "step_tolerance"):
        if getattr(args, name) is not None:
            raise UsageError(f"--{name.replace('_', '-')} is for --check")
    if args.constant_step:
        raise UsageError("--constant-step is for --check")
    if not args.output and not args.csv:
        raise UsageError(
            "say where to write: -o FILE.png|.svg|.pdf for the picture, "
            "--csv FILE for the paths (- for standard output)"
        )
    refuse_same_file(args.output, args.draw)
    refuse_same_file(None if args.csv == "-" else args.csv, args.draw, args.output)
    check_writable(args.output, None if args.csv == "-" else args.csv)  # both, before the CSV is written
    drawing = None
    if args.output:
        drawing = drawing_module()  # before any work: without matplotlib, say so at once
        drawing.picture_format(args.output)
        drawing.check_title(args.title)
    drawn: list[Trajectory] = []
    comments: dict[str, str] = {}
    if args.draw:
        drawn, comments = read_csv(args.draw)
    target = objective(args.objective if args.objective is not None else comments.get("objective") or "bowl")
    ascent = bool(args.ascent)
    generated: list[Trajectory] = []
    if not args.draw or args.step or args.start or args.steps:
        generated = generate(
            target,
            args.step or list(target.steps),
            args.start or list(target.starts),
            args.steps or target.num_steps,
            ascent=ascent,
        )
        generated = _relabel(generated, {path.label for path in drawn})
    paths = drawn + generated
    bounds = args.range or target.bounds
    to_stdout = args.csv == "-"
    report = sys.stderr if to_stdout else sys.stdout
    non_finite = stuck = 0
    for path in generated:
        no_step = _no_step(target, path, ascent)
        values = target.value(path.points[:, 0], path.points[:, 1])  # f along the path, for both lines below
        problem = _non_finite(path, values)
        non_finite += problem is not None
        if problem is None:
            problem = _stuck(no_step)
            stuck += problem is not None
        summary = _summary(target, path, values, bounds, no_step)
        print(f"{summary}; {problem}" if problem else summary, file=report)
    if non_finite:
        print(_how_many(non_finite, len(generated), ("reaches", "reach"), "a point where f is not finite"), file=report)
    if stuck:
        print(
            _how_many(stuck, len(generated), ("takes", "take"), "no step from a start where it should move"),
            file=report,
        )
    problems = non_finite + stuck
    if args.csv:
        if to_stdout:
            sys.stdout.write(format_csv(paths, target, ascent))
        else:
            _announce(args.csv, write_if_changed(args.csv, format_csv(paths, target, ascent)), args.quiet, report)
    if drawing is not None:
        width, height = _inches(args.size, args.dpi)
        figure = drawing.plot(
            target,
            paths,
            ascent=ascent,
            bounds=bounds,
            size=(width, height),
            dpi=args.dpi,
            title=args.title,
            field=not args.no_field,
        )
        _save(drawing, figure, args, report)
    return 1 if problems else 0


def _save(drawing, figure, args: argparse.Namespace, report=None) -> None:
    """Write the picture to ``-o FILE`` unless it holds these very bytes, and say which (``wrote``/``unchanged``,
    as every command does; nothing with ``-q``)."""
    content = drawing.picture_bytes(figure, drawing.picture_format(args.output), dpi=args.dpi)
    _announce(args.output, write_if_changed(args.output, content), args.quiet, report)


def _announce(path: str, written: bool, quiet: bool, report=None) -> None:
    """:func:`~symgrad.files.announce` on ``report`` (standard error while the CSV goes to standard output)."""
    if report is None or report is sys.stdout:
        announce(path, written, quiet)
    elif not quiet:
        print(f"{'wrote' if written else 'unchanged'} {path}", file=report)


def _relabel(paths: list[Trajectory], taken: set[str]) -> list[Trajectory]:
    """Number generated paths 1, 2, … skipping labels that drawn paths already use."""
    relabelled, number = [], 0
    for path in paths:
        number += 1
        while str(number) in taken:
            number += 1
        relabelled.append(Trajectory(str(number), path.points, path.step))
    return relabelled


def _how_many(count: int, total: int, verbs: tuple[str, str], rest: str) -> str:
    """The closing line for ``count`` of ``total`` computed paths with a problem, such as '1 of 3 paths reaches
    a point where f is not finite; exit status 1': 'paths' agrees with the total, the verb with the count."""
    singular, plural = verbs
    return (
        f"{count} of {total} path{'' if total == 1 else 's'} {singular if count == 1 else plural} {rest}; exit status 1"
    )


def _no_step(target: Objective, path: Trajectory, ascent: bool) -> str | None:
    """Why a computed path of one point took no step (:func:`next_point`'s reason, in the path's direction);
    None for a path that moved.  Asked once per path, for both the summary and :func:`_stuck`."""
    if len(path.points) != 1 or path.step is None:
        return None
    return next_point(target, path.points[0], path.step, ascent)[1]


def _summary(
    target: Objective,
    path: Trajectory,
    values: np.ndarray,
    bounds: tuple[float, float, float, float],
    no_step: str | None,
) -> str:
    """One line on a computed path: its steps, how f (``values``, at its points) changed, where it ended;
    ``no_step`` is :func:`_no_step`."""
    x_min, x_max, y_min, y_max = bounds
    points = path.points
    inside = (points[:, 0] >= x_min) & (points[:, 0] <= x_max) & (points[:, 1] >= y_min) & (points[:, 1] <= y_max)
    end = points[-1]
    start = f"path {path.label}: η = {path.step:g}, start ({points[0, 0]:g}, {points[0, 1]:g})"
    if len(points) == 1:
        text = f"{start}: 0 steps, f = {values[0]:.4g}"
    else:
        text = (
            f"{start}: {len(points) - 1} steps, "
            f"f from {values[0]:.4g} to {values[-1]:.4g}, ends at ({end[0]:.4g}, {end[1]:.4g})"
        )
    if no_step == STATIONARY:
        text += f"; starts at a {STATIONARY} and stays there"
    elif no_step == TOO_SMALL:
        norm = float(np.hypot(*target.gradient_at(points[0])))
        text += f"; starts where ∇f is too small for the step to move it (‖∇f‖ = {norm:.2g}) and stays there"
    if not inside.all():
        text += "; leaves the drawn range"
    return text


def _stuck(no_step: str | None) -> str | None:
    """Why a computed path took no step from a start where gradient descent moves (its first step overflows,
    say), from :func:`_no_step`'s reason; None for any other path, including one that stays put rightly (at a
    stationary point, or where the step is too small to move it: it has converged).  A stuck path is no
    gradient path (the checker says its step 1 is missing), so the command flags it and exits 1, as it does
    for a path on which f stops being finite."""
    return None if no_step is None or stays_put(no_step) else f"it takes no step: {no_step}"


def _non_finite(path: Trajectory, values: np.ndarray) -> str | None:
    """Where f (``values``, at the path's points) first stops being a finite number along ``path``, in words;
    None if it never does.  From there on the path means nothing (it overflowed, or left f's domain as ln x does
    at x < 0), so the command flags it and exits 1 rather than report it as a path like any other."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size == 0:
        return None
    step = int(bad[0])
    x, y = path.points[step]
    if np.isnan(values[step]):
        return f"f is undefined (NaN) at step {step}, at ({x:.4g}, {y:.4g}): the path leaves f's domain"
    return f"f is {values[step]:g} at step {step}, at ({x:.4g}, {y:.4g}): the path diverges or meets a pole of f"


# ---- checking -------------------------------------------------------------------------------------------
def _check(args: argparse.Namespace) -> int:
    for flag, value in (
        ("--step", args.step),
        ("--start", args.start),
        ("--steps", args.steps),
        ("--csv", args.csv),
        ("--draw", args.draw),
    ):
        if value:
            raise UsageError(f"{flag} is for drawing; --check reads its paths from {args.check}")
    if args.ascent is None:
        raise UsageError("--check needs --ascent or --descent: which kind of path should it be?")
    if args.step_tolerance is not None and not args.constant_step:
        raise UsageError("--step-tolerance is for --constant-step")
    refuse_same_file(args.output, args.draw)
    refuse_same_file(None if args.csv == "-" else args.csv, args.draw, args.output)
    check_writable(args.output)  # before the paths are checked: a symlink or a folder fails at once
    drawing = None
    if args.output:
        drawing = drawing_module()
        drawing.picture_format(args.output)
        drawing.check_title(args.title)
    paths, comments = read_csv(args.check)
    name = args.objective if args.objective is not None else comments.get("objective")
    if not name:
        raise UsageError(
            f"{args.check} does not name its objective; "
            f"give --objective ({', '.join(BUILTIN_OBJECTIVES)} or an expression)"
        )
    target = objective(name)
    tolerance = DEFAULT_TOLERANCE_DEGREES if args.tolerance is None else args.tolerance
    step_tolerance = DEFAULT_STEP_TOLERANCE if args.step_tolerance is None else args.step_tolerance
    kind = "ascent" if args.ascent else "descent"
    print(f"objective {target.name}: {target.description}")
    print(
        f"checking {len(paths)} path{'s' if len(paths) != 1 else ''} as gradient {kind}, angle tolerance {tolerance:g}°"
        + (f", one common step size (within {step_tolerance * 100:g}%)" if args.constant_step else "")
    )
    marks: dict[int, int] = {}
    for index, path in enumerate(paths):
        try:
            result = check_path(
                target,
                path.points,
                ascent=args.ascent,
                tolerance_degrees=tolerance,
                constant_step=args.constant_step,
                step_tolerance=step_tolerance,
                step=path.step,
            )
        except UsageError as error:
            raise UsageError(f"{args.check}, path {path.label!r} (line {path.line}): {error}") from None
        if result.feasible:
            sizes = "" if args.constant_step or len(path.points) == 1 else f"; {describe_sizes(result)}"
            print(f"path {path.label}: {result.reason}{sizes}")
        else:
            marks[index] = result.first_bad_step
            print(f"path {path.label}: infeasible: {result.reason}")
    feasible = len(paths) - len(marks)
    print(f"{feasible} of {len(paths)} path{'s' if len(paths) != 1 else ''} feasible")
    if drawing is not None:
        width, height = _inches(args.size, args.dpi)
        figure = drawing.plot(
            target,
            paths,
            ascent=args.ascent,
            bounds=args.range or target.bounds,
            size=(width, height),
            dpi=args.dpi,
            title=args.title,
            field=not args.no_field,
            marks=marks,
        )
        _save(drawing, figure, args)
    return 0 if not marks else 1


# ---- option values --------------------------------------------------------------------------------------
def _numbers(text: str, count: int, what: str) -> tuple[float, ...]:
    cleaned = text.strip().strip("()[]").replace("−", "-")
    parts = [part.strip() for part in cleaned.split(",")]
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected {what}, not {text!r}")
    return values


def _pair(text: str) -> tuple[float, float]:
    x, y = _numbers(text, 2, "X,Y (two numbers; write --start=-2,1.5 when X is negative)")
    return (x, y)


def _bounds(text: str) -> tuple[float, float, float, float]:
    values = _numbers(text, 4, "XMIN,XMAX,YMIN,YMAX (write --range=-3,3,-2,2)")
    x_min, x_max, y_min, y_max = values
    if not (x_min < x_max and y_min < y_max):
        raise argparse.ArgumentTypeError(f"the range {text!r} needs XMIN < XMAX and YMIN < YMAX")
    return (x_min, x_max, y_min, y_max)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, not {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"the step size must be a positive number, not {text!r}")
    return value


def _count(text: str) -> int:
    if not re.fullmatch(r"\s*\d+\s*", text) or not 1 <= int(text) <= MAX_STEPS:
        raise argparse.ArgumentTypeError(f"expected a whole number of steps from 1 to {MAX_STEPS}, not {text!r}")
    return int(text)


def _degrees(text: str) -> float:
    try:
        value = float(text.strip().rstrip("°"))
    except ValueError:
        value = math.nan
    if not 0 < value < 90:
        raise argparse.ArgumentTypeError(f"expected an angle in degrees between 0 and 90, not {text!r}")
    return value


def _fraction(text: str) -> float:
    stripped = text.strip()
    try:
        value = float(stripped.rstrip("%")) / (100 if stripped.endswith("%") else 1)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1 (0.05, or 5%), not {text!r}")
    return value


def _dpi(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 20 <= value <= 1200:
        raise argparse.ArgumentTypeError(f"expected dots per inch from 20 to 1200, not {text!r}")
    return value


def _size(text: str) -> tuple[float, float, str]:
    """``800x600`` (pixels) or ``8x6in`` (inches) → (width, height, unit)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[x×X*]\s*(\d+(?:\.\d+)?)\s*(px|in)?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected WxH in pixels (800x600) or inches (8x6in), not {text!r}")
    width, height, unit = float(match[1]), float(match[2]), match[3] or "px"
    if unit == "px" and not (
        width.is_integer() and height.is_integer() and 100 <= min(width, height) and max(width, height) <= 10000
    ):
        raise argparse.ArgumentTypeError(f"a size in pixels is two whole numbers from 100 to 10000, not {text!r}")
    if unit == "in" and not (1 <= min(width, height) and max(width, height) <= 100):
        raise argparse.ArgumentTypeError(f"a size in inches is two numbers from 1 to 100, not {text!r}")
    return (width, height, unit)


def _inches(size: tuple[float, float, str] | str, dpi: float) -> tuple[float, float]:
    if isinstance(size, str):
        size = _size(size)
    width, height, unit = size
    return (width / dpi, height / dpi) if unit == "px" else (width, height)
