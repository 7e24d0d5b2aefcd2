"""Time ``symgrad check DIR`` on a class's worth of keys: 40 keys of 30 formulas, goal ≤ 30 s on 2 cores.

    python benchmarks/bench_check_many.py                     # 40 keys × 30 formulas, one run
    python benchmarks/bench_check_many.py --runs 3 --jobs 1   # the median of three runs, on one core
    python benchmarks/bench_check_many.py --keys 8 --keep /tmp/class   # keep the generated keys

The keys are made from the test keys (tests/keys/*.md and tests/keys/styles/*.md), as a class's submissions
resemble each other: each starts from a different key, and takes the keys after it, each as a part of its own
under its heading, until it holds 30 formulas; it is cut after the 30th.  Every other key is then given a
student's mistake (a sign flipped in one formula, or two weights swapped), so that the run names mistakes too,
which costs more than passing a correct formula.  Each run is the real command in a fresh process (imports,
the worker processes, the JSON written), timed from start to exit.  It prints the time, the goal and their
ratio, and the verdicts, which must cover every formula.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # symgrad, also when it is not installed

GOAL_SECONDS = 30.0


def sources() -> list[str]:
    """The keys a class's submissions are made from, in a fixed order."""
    paths = sorted((REPO / "tests" / "keys").glob("*.md")) + sorted((REPO / "tests" / "keys" / "styles").glob("*.md"))
    return [path.read_text() for path in paths if path.name != "README.md"]


def make_key(number: int, texts: list[str], formulas: int) -> str:
    """Key ``number``: the test keys from the ``number``-th on, one after another, cut after ``formulas``
    formulas, then (every other key) one student's mistake planted."""
    from symgrad.check.keys import extract

    parts, count, index = [], 0, number
    while count < formulas:
        text = texts[index % len(texts)]
        parts.append(text.rstrip("\n") + "\n")
        count = len(extract("\n".join(parts)))
        index += 1
    key = "\n".join(parts)
    statements = extract(key)
    cut = statements[formulas - 1].end_line
    key = "\n".join(key.split("\n")[:cut]) + "\n"
    return _mistake(key, number) if number % 2 else key


def _mistake(key: str, number: int) -> str:
    """``key`` with one mistake a student makes: a sign flipped in a display row, or w_1 written for w_2."""
    lines = key.split("\n")
    rows = [i for i, line in enumerate(lines) if re.search(r"&= .*\(1 - ", line)]
    if number % 4 == 1 and rows:
        row = rows[len(rows) // 2]
        lines[row] = lines[row].replace("(1 - ", "(1 + ", 1)
        return "\n".join(lines)
    swapped = [i for i, line in enumerate(lines) if "w_2" in line and "=" in line]
    if swapped:
        row = swapped[-1]
        lines[row] = lines[row].replace("w_2", "w_1")
    return "\n".join(lines)


def write_class(folder: Path, keys: int, formulas: int) -> int:
    """Write the class's keys into ``folder``; the number of formulas in all."""
    from symgrad.check.keys import extract

    texts, total = sources(), 0
    for number in range(keys):
        key = make_key(number, texts, formulas)
        total += len(extract(key))
        (folder / f"student-{number + 1:02d}.md").write_text(key)
    return total


def run_once(folder: Path, jobs: int | None) -> tuple[float, float, list[dict]]:
    """One cold run of ``symgrad check FOLDER --format json``: its seconds, the processor seconds it and its
    workers used (on a shared machine the fair figure: wall time there also counts the others' work), and its
    report."""
    out = folder.parent / "report.json"
    command = [sys.executable, "-m", "symgrad", "check", str(folder), "--format", "json", "-o", str(out)]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    processor = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if completed.returncode not in (0, 1):
        raise SystemExit(f"symgrad check failed ({completed.returncode}): {completed.stderr.strip()}")
    return seconds, processor, json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=40, help="how many keys (default: 40)")
    parser.add_argument("--formulas", type=int, default=30, help="formulas per key (default: 30)")
    parser.add_argument("--runs", type=int, default=1, help="runs; the median is reported (default: 1)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--goal", type=float, default=GOAL_SECONDS, help=f"seconds (default: {GOAL_SECONDS:g})")
    parser.add_argument("--keep", metavar="DIR", help="write the keys into DIR (kept) instead of a temporary folder")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep) if args.keep else Path(scratch) / "class"
        folder.mkdir(parents=True, exist_ok=True)
        formulas = write_class(folder, args.keys, args.formulas)
        times, processor_times, report = [], [], []
        for run in range(args.runs):
            seconds, processor, report = run_once(folder, args.jobs)
            times.append(seconds)
            processor_times.append(processor)
            print(f"run {run + 1}: {seconds:.1f} s, {processor:.1f} processor-seconds", flush=True)
    seconds = statistics.median(times)
    counts: dict[str, int] = {}
    for key in report:
        for verdict in key["verdicts"]:
            counts[verdict["verdict"]] = counts.get(verdict["verdict"], 0) + 1
    failing = sum(1 for key in report if key["status"] == 1)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{args.keys} keys, {formulas} formulas ({formulas / args.keys:.0f} a key), {cores} cores, "
          f"jobs {args.jobs or 'one per core'}")
    print(f"verdicts: {counts.get('correct', 0)} correct, {counts.get('wrong', 0)} wrong, "
          f"{counts.get('unrecognized', 0)} unrecognized; {failing} keys fail")
    processor = statistics.median(processor_times)
    quiet = processor / min(cores or 1, args.jobs or cores or 1)
    print(f"time: {seconds:.1f} s (median of {len(times)}), goal {args.goal:g} s, ratio {seconds / args.goal:.2f}")
    print(f"processor time: {processor:.1f} s; over {min(cores or 1, args.jobs or cores or 1)} cores "
          f"{quiet:.1f} s, the time on a quiet machine at best (ratio {quiet / args.goal:.2f}); "
          f"load average now {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"keys": args.keys, "formulas": formulas, "cores": cores,
                                               "jobs": args.jobs, "seconds": times, "median": seconds,
                                               "processor_seconds": processor_times,
                                               "load_average": os.getloadavg()[0],
                                               "goal": args.goal, "ratio": seconds / args.goal,
                                               "verdicts": counts, "failing_keys": failing}, indent=2) + "\n")
    return 0 if seconds <= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
