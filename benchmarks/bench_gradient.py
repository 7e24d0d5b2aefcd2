"""Time symgrad's generated gradient against naive NumPy and the autodiff peers, in one run.

    python benchmarks/bench_gradient.py            # the issue's full grid (a few minutes)
    python benchmarks/bench_gradient.py --quick    # a smoke run: small sizes, few repeats
    python benchmarks/bench_gradient.py --csv out.csv --json out.json --plot out.png

For each case (model, N, k, dtype) every contender is first checked: its gradient must match the
generated one (np.allclose, with a tolerance for the dtype), or it is reported and not timed.
Then each is timed: a warm-up call (JAX compiles there), an inner loop long enough to time, and
the median of several repeats, each contender after a short pause that lets the others' threads
go idle.  Each time is printed as a ratio to naive NumPy's and as a multiple of the one-pass
bound bytes(X) / bandwidth, the bandwidth measured in the same run by streaming sums over a large
array on every core.  A peer that is not installed is skipped with a note.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCHMARKS), str(BENCHMARKS.parent)]  # cases.py, contenders.py; symgrad, also uninstalled

from cases import Case, grid, make_case  # noqa: E402
from contenders import BASELINE, CONTENDERS, Prepared, Unavailable  # noqa: E402

#: Relative tolerance of the correctness gate, against the largest entry of the reference gradient.
TOLERANCE = {"float64": 1e-7, "float32": 2e-3}


@dataclass
class Row:
    """One contender on one case. ``status`` is ``timed``, ``rejected`` or ``skipped``."""

    model: str
    n: int
    k: int | None
    dtype: str
    contender: str
    status: str
    seconds: float | None = None
    vs_naive: float | None = None
    vs_bound: float | None = None
    note: str = ""


def calibrate(function: Callable[[], object], min_seconds: float) -> int:
    """Calls per timing so that one timing lasts ≥ ``min_seconds``, after a warm-up call (JAX compiles there)."""
    function()
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds or number >= 1 << 20:
            return number
        number *= 2 if elapsed > min_seconds / 4 else 10


def seconds_per_call(function: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        function()
    return (time.perf_counter() - start) / number


#: Seconds of rest before each contender is timed: the peers' thread pools (PyTorch's OpenMP, XLA's)
#: spin for a while after their last call, and on two cores that would slow whoever runs next.
PAUSE = 0.25


def median_times(functions: dict[str, Callable[[], object]], repeats: int, min_seconds: float,
                 pause: float = PAUSE) -> dict[str, float]:
    """Median seconds per call of each function: a pause, a warm-up and calibration, then its repeats.

    (Taking the repeats in turns across contenders was tried: then each contender ran right after
    another's threads had spun up, and NumPy's BLAS threads, which the blocked gradient calls many
    times, lost most to that; so each contender is timed on its own, after a pause.)
    """
    times = {}
    for name, function in functions.items():
        time.sleep(pause)
        number = calibrate(function, min_seconds)
        times[name] = statistics.median(seconds_per_call(function, number) for _ in range(repeats))
    return times


def cores() -> int:
    """The CPUs this process may run on (its affinity), which is what the threaded contenders use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def read_bandwidth(megabytes: int, repeats: int, threads: int) -> float:
    """Bytes a second of one streaming read of a large float64 array: the best of the repeats.

    ``threads`` threads each sum one slice at the same time (np.sum lets go of the GIL), so with all the
    cores this is the machine's bandwidth, the one the bound must use: the Numba loops and the BLAS
    inside the peers read with every core, and one core alone reads about half as fast here.
    The best, not the median: the bound is what the memory can deliver, and on a shared machine a
    slow repeat measures the neighbours.  ``run`` measures it again between the large cases and
    keeps the best, so a busy moment at the start does not make every bound too loose.
    """
    data = np.ones(megabytes * (1 << 20) // 8)
    slices = np.array_split(data, threads)
    with ThreadPoolExecutor(threads) as pool:
        read = lambda: list(pool.map(np.sum, slices))  # noqa: E731
        read()
        best = min(seconds_per_call(read, 1) for _ in range(max(repeats, 5)))
    return data.nbytes / best


def check(prepared: Prepared, reference: dict[str, np.ndarray], dtype: str) -> str:
    """Empty if the contender's gradient matches the reference, else why not."""
    try:
        got = prepared.result()
    except Exception as error:  # a contender that crashes is rejected, not fatal
        return f"raised {type(error).__name__}: {error}"
    if set(got) != set(reference):
        return f"keys {sorted(got)} instead of {sorted(reference)}"
    for key, expected in reference.items():
        value = np.asarray(got[key], dtype=np.float64)
        expected = np.asarray(expected, dtype=np.float64)
        scale = float(np.max(np.abs(expected))) if expected.size else 0.0
        rtol = TOLERANCE[dtype]
        if value.shape != expected.shape or not np.allclose(value, expected, rtol=rtol, atol=rtol * scale + 1e-300):
            worst = float(np.max(np.abs(value - expected))) if value.shape == expected.shape else float("nan")
            return f"gradient[{key!r}] differs from the generated one (max |diff| {worst:.3g})"
    return ""


def run_case(case: Case, contenders: dict[str, Callable[[Case], Prepared]], repeats: int, min_seconds: float,
             notes: dict[str, str]) -> list[Row]:
    """Gate every contender on one case, then time those that passed together; ``finish`` adds ratios."""
    reference = dict(case.module.gradient(case.params, case.X, case.y))
    rows, passed = [], {}
    for name, make in contenders.items():
        row = Row(case.model, case.n, case.k, case.dtype, name, "skipped")
        rows.append(row)
        if name in notes:
            row.note = notes[name]
            continue
        try:
            prepared = make(case)
        except Unavailable as missing:
            notes[name] = row.note = str(missing)
            continue
        problem = check(prepared, reference, case.dtype)
        if problem:
            row.status, row.note = "rejected", problem
        else:
            row.status = "timed"
            passed[name] = prepared.run
    times = median_times(passed, repeats, min_seconds, pause=PAUSE if min_seconds >= 0.05 else 0.0)
    for row in rows:
        row.seconds = times.get(row.contender)
    del passed
    gc.collect()
    return rows


def finish(rows: list[Row], data_bytes: int, bandwidth: float) -> None:
    """Each timed row's ratio to naive NumPy on the same case, and to the bound data_bytes / bandwidth."""
    baseline = next((r.seconds for r in rows if r.contender == BASELINE and r.seconds), None)
    for row in rows:
        if row.seconds:
            row.vs_bound = row.seconds / (data_bytes / bandwidth)
            if baseline:
                row.vs_naive = row.seconds / baseline


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def table(rows: Sequence[Row]) -> str:
    """A Markdown table, one line per contender and case."""
    lines = ["| case | contender | median | × naive | × bound | note |", "|---|---|---|---|---|---|"]
    for r in rows:
        case = f"{r.model} N={r.n:g}" + (f" k={r.k}" if r.k else "") + f" {r.dtype}"
        ratio = f"{r.vs_naive:.2f}" if r.vs_naive is not None else "-"
        bound = f"{r.vs_bound:.3g}" if r.vs_bound is not None else "-"
        lines.append(f"| {case} | {r.contender} | {format_seconds(r.seconds)} | {ratio} | {bound} | {r.note} |")
    return "\n".join(lines)


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    return {
        "python": platform.python_version(), "numpy": np.__version__, "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "cores_used": cores(),
    }


def plot(rows: Sequence[Row], path: Path) -> None:
    """Time against N, one panel per model/k/dtype, one line per contender (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({(r.model, r.k or 0, r.dtype) for r in rows}, key=lambda g: (g[2], g[0], g[1]))
    columns = 3
    lines = -(-len(groups) // columns)
    figure, axes = plt.subplots(lines, columns, figsize=(5 * columns, 3.6 * lines), squeeze=False)
    for axis, (model, k, dtype) in zip(axes.flat, groups, strict=False):
        for contender in dict.fromkeys(r.contender for r in rows):
            points = [(r.n, r.seconds) for r in rows if (r.model, r.k or 0, r.dtype, r.contender) ==
                      (model, k, dtype, contender) and r.seconds]
            if points:
                axis.loglog(*zip(*points, strict=True), marker="o", label=contender)
        axis.set_title(f"{model}" + (f" k={k}" if k else "") + f" {dtype}", fontsize=9)
        axis.set_xlabel("N (samples)")
        axis.set_ylabel("seconds per gradient")
        axis.grid(True, which="both", alpha=0.3)
    for axis in list(axes.flat)[len(groups):]:
        axis.axis("off")
    axes.flat[0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def run(specs: Sequence[tuple], contenders: dict[str, Callable[[Case], Prepared]] | None = None, repeats: int = 5,
        min_seconds: float = 0.05, bandwidth_mb: int = 512, echo: Callable[[str], None] = print
        ) -> tuple[list[Row], float]:
    """Every case of ``specs`` ((model, N, k, dtype) tuples); returns the rows and the measured bandwidth.

    The bandwidth is measured on every core this process may use (``cores``) before the first case,
    after every case whose data exceed 64 MiB, and after the last; the best of these is the one every
    bound uses.  One core's is measured once and printed, for comparison.
    """
    contenders = dict(CONTENDERS if contenders is None else contenders)
    threads = cores()
    one_core = read_bandwidth(bandwidth_mb, repeats, 1)
    bandwidths = [read_bandwidth(bandwidth_mb, repeats, threads)]
    notes: dict[str, str] = {}
    groups: list[tuple[list[Row], int]] = []
    for spec in specs:
        case = make_case(*spec)
        case_rows = run_case(case, contenders, repeats, min_seconds, notes)
        for row in case_rows:
            if row.status == "rejected":
                echo(f"REJECTED {row.contender} on {case.label}: {row.note}")
        groups.append((case_rows, case.X.nbytes))
        if case.X.nbytes > 64 << 20:
            bandwidths.append(read_bandwidth(bandwidth_mb, repeats, threads))
        del case
        gc.collect()
    bandwidths.append(read_bandwidth(bandwidth_mb, repeats, threads))
    bandwidth = max(bandwidths)
    shown = ", ".join(f"{b / 1e9:.1f}" for b in bandwidths)
    echo(f"memory-read bandwidth: {bandwidth / 1e9:.2f} GB/s, best of {shown} GB/s (np.sum over {bandwidth_mb} MiB"
         f" on {threads} cores; one core: {one_core / 1e9:.1f} GB/s)")
    rows: list[Row] = []
    for case_rows, data_bytes in groups:
        finish(case_rows, data_bytes, bandwidth)
        rows += case_rows
    for name, note in notes.items():
        echo(f"skipped {name}: {note}")
    return rows, bandwidth


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: N ≤ 10⁴, 3 repeats, short loops")
    parser.add_argument("--sizes", help="comma-separated N values (overrides the grid's)")
    parser.add_argument("--features", help="comma-separated k values for logistic regression")
    parser.add_argument("--dtypes", help="float64,float32 by default")
    parser.add_argument("--models", help="logistic-regression,two-weight-chain by default")
    parser.add_argument("--contenders", help=f"comma-separated, from: {', '.join(CONTENDERS)}")
    parser.add_argument("--repeats", type=int, help="timed repeats per contender (median); 7, or 3 with --quick")
    parser.add_argument("--csv", type=Path, help="write the rows as CSV")
    parser.add_argument("--json", type=Path, help="write the rows, bandwidth and machine as JSON")
    parser.add_argument("--plot", type=Path, help="write a PNG plot (needs matplotlib)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    split = lambda text, kind=str: tuple(kind(float(v)) if kind is int else kind(v) for v in text.split(","))  # noqa: E731
    sizes = split(args.sizes, int) if args.sizes else ((1, 64, 10_000) if args.quick else None)
    options = {
        "sizes": sizes, "features": split(args.features, int) if args.features else None,
        "dtypes": split(args.dtypes) if args.dtypes else None, "models": split(args.models) if args.models else None,
    }
    specs = grid(**{key: value for key, value in options.items() if value})
    chosen = CONTENDERS
    if args.contenders:
        unknown = [c for c in split(args.contenders) if c not in CONTENDERS]
        if unknown:
            print(f"unknown contenders {unknown}; choose from {list(CONTENDERS)}", file=sys.stderr)
            return 2
        chosen = {c: CONTENDERS[c] for c in split(args.contenders)}
    repeats = args.repeats or (3 if args.quick else 7)
    rows, bandwidth = run(specs, chosen, repeats=repeats, min_seconds=0.005 if args.quick else 0.1,
                          bandwidth_mb=64 if args.quick else 1024)
    print()
    print(table(rows))
    if args.csv:
        with args.csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(asdict(rows[0])))
            writer.writeheader()
            writer.writerows(asdict(r) for r in rows)
    if args.json:
        document = {"command": " ".join(["python", "benchmarks/bench_gradient.py", *(argv or sys.argv[1:])]),
                    "bandwidth_bytes_per_second": bandwidth, "machine": machine(), "rows": [asdict(r) for r in rows]}
        args.json.write_text(json.dumps(document, indent=1), encoding="utf-8")
    if args.plot:
        try:
            plot(rows, args.plot)
        except ImportError:
            print("no plot: matplotlib is not installed (pip install '.[plot]')", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
