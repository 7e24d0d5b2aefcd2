"""Time the symbolic side as a user meets it: start-up, each derivation, ``--all``, ``generate --check``,
and ``check`` of every key in tests/keys, each a fresh process (cold: no cache, nothing imported).

    python benchmarks/bench_symbolic.py                       # print the table (median of 3 runs each)
    python benchmarks/bench_symbolic.py --runs 5 --write docs/performance.md

Each row is printed with its goal and the ratio time / goal.  A second table compares, in this process,
the two ways symgrad proves a derivation's equations: exact evaluation in a prime field (the default,
``symgrad/derivation/identity.py``) against the algebra it falls back on (write out, differentiate, cancel), for
every catalogue model: the peer here is the prover symgrad used before.  With ``--write FILE`` both
tables replace the part of FILE between the markers ``<!-- symbolic: begin -->`` and
``<!-- symbolic: end -->``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # symgrad, also when it is not installed

BEGIN, END = "<!-- symbolic: begin -->", "<!-- symbolic: end -->"


def _symgrad(*args: str) -> list[str]:
    return [sys.executable, "-m", "symgrad", *args]


def rows(scratch: Path) -> list[tuple[str, list[str], float]]:
    """(what, command, goal in seconds) for every row of the issue's table."""
    from symgrad.catalogue.names import catalogue_names

    heavy = {"mlp", "mlp-shared-bias", "softmax-regression", "mlp-softmax"}
    table = [
        ("symgrad --help", _symgrad("--help"), 0.2),
        ("symgrad list", _symgrad("list"), 0.2),
    ]
    table += [(f"symgrad derive {name}", _symgrad("derive", name), 1.0 if name in heavy else 0.5)
              for name in catalogue_names()]
    table += [
        ("symgrad derive --all (10 models)", _symgrad("derive", "--all", "--out-dir", str(scratch / "all"), "-q"), 3.0),
        ("symgrad generate --check", _symgrad("generate", "--check"), 1.5),
    ]
    keys = sorted((REPO / "tests" / "keys").glob("*.md")) + sorted((REPO / "tests" / "keys" / "styles").glob("*.md"))
    table += [(f"symgrad check {key.relative_to(REPO)}", _symgrad("check", str(key)), 2.0)
              for key in keys if key.name != "README.md"]
    return table


def time_command(command: list[str], runs: int) -> tuple[float, int]:
    """The median wall time of ``runs`` fresh processes, and the exit status of the last."""
    times, status = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        completed = subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        status = completed.returncode
    return statistics.median(times), status


def prover_comparison() -> list[tuple[str, float, float]]:
    """(model, seconds to prove every equation in the field, seconds by algebra), in this process."""
    from symgrad.catalogue.models import derive_named
    from symgrad.catalogue.names import catalogue_names
    from symgrad.derivation import prove

    compared = []
    for name in catalogue_names():
        derivation = derive_named(name, verify=False)
        model = derivation.model
        pairs = [pair for step in derivation.steps for equation in step.equations for pair in equation.obligations()]
        start = time.perf_counter()
        assert all(prove.are_equal(model, left, right) for left, right in pairs)
        field = time.perf_counter() - start
        start = time.perf_counter()
        assert all(prove.equal_by_algebra(model, left, right) for left, right in pairs)
        algebra = time.perf_counter() - start
        compared.append((name, field, algebra))
    return compared


def markdown(timed: list[tuple[str, float, float, int]], compared: list[tuple[str, float, float]], runs: int) -> str:
    cores = os.cpu_count()
    lines = [
        "## The symbolic side: start-up, derivations, generation, checking",
        "",
        f"`python benchmarks/bench_symbolic.py --runs {runs}`: each row a fresh process (cold, no cache), the median "
        f"of {runs} runs, on {platform.processor() or platform.machine()} with {cores} cores, Python "
        f"{platform.python_version()}.",
        "",
        "| command | seconds | goal | time / goal |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| `{what}` | {seconds:.2f} | {goal:g} | {seconds / goal:.2f} |" for what, seconds, goal, _ in timed]
    lines += [
        "",
        "Proving every equation of a derivation, in one process: by exact evaluation at random points of a prime "
        "field (symgrad's prover) and by the algebra it falls back on (symgrad's prover until this version).",
        "",
        "| model | field (s) | algebra (s) | field / algebra |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {field:.3f} | {algebra:.2f} | {field / algebra:.3f} |" for name, field, algebra in compared]
    return "\n".join(lines) + "\n"


def write_between_markers(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
    else:
        before, after = text.rstrip("\n") + "\n\n", "\n"
    path.write_text(f"{before}{BEGIN}\n{section}{END}{after}", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per row (the median is reported)")
    parser.add_argument("--write", metavar="FILE", type=Path, help="put the tables into FILE between the markers")
    parser.add_argument("--no-provers", action="store_true", help="skip the field-against-algebra comparison")
    args = parser.parse_args()
    timed = []
    with tempfile.TemporaryDirectory() as scratch:
        for what, command, goal in rows(Path(scratch)):
            seconds, status = time_command(command, args.runs)
            timed.append((what, seconds, goal, status))
            flag = "" if seconds <= goal else "  (over the goal)"
            print(f"{what:48s} {seconds:6.2f} s  goal {goal:g} s  ratio {seconds / goal:4.2f}  exit {status}{flag}",
                  flush=True)
    compared = [] if args.no_provers else prover_comparison()
    for name, field, algebra in compared:
        print(f"prove {name:32s} field {field:6.3f} s  algebra {algebra:6.2f} s  ratio {field / algebra:.3f}")
    if args.write:
        write_between_markers(args.write, markdown(timed, compared, args.runs))
        print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
