"""The generated gradient on a quiet machine and with one core kept busy by another process (issue 22).

    python benchmarks/busy_core.py                      # the Numba chain and logistic regression, N = 10⁶
    python benchmarks/busy_core.py --targets numba,numpy --calls 400 --rounds 4
    python benchmarks/busy_core.py --json out.json

A teaching server is shared: another process may hold a core while the Numba loops run.  The loops cut
the samples into runs that the threads share out; a thread that the operating system deschedules for
another process's time slice used to hold up the call at the end of the parallel loop, while the other
thread waited for it.  This times each call on its own (``time.perf_counter``), in rounds that alternate
a quiet phase with a busy one, in which a second Python process spins (``while True: pass``) on what
the operating system gives it, about one core; and prints, for each case, the median, the 90th
percentile and the slowest call of each phase, and busy over quiet as ratios.  The machine's other
load (other users) is in both phases alike, which is why the phases alternate.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCHMARKS), str(BENCHMARKS.parent)]  # cases.py; symgrad, also uninstalled

from cases import GENERATED, make_case  # noqa: E402

from symgrad.codegen.names import module_name  # noqa: E402

#: What the busy process runs: one core's worth of pure Python, no memory traffic to speak of, until its parent
#: (this benchmark) is gone, whatever ended it.
SPIN = ("import os\n"
        "parent = os.getppid()\n"
        "while os.getppid() == parent:\n"
        "    for _ in range(1_000_000):\n"
        "        pass\n")
#: The default cases: the issue's chain at N = 10⁶, and logistic regression's two widths.
CASES = (("two-weight-chain", 1_000_000, None), ("logistic-regression", 1_000_000, 10),
         ("logistic-regression", 1_000_000, 100))


@dataclass
class Phase:
    """One case's calls in one phase (quiet or busy) of one round, and the other load the machine had then."""

    model: str
    n: int
    k: int | None
    target: str
    phase: str
    round: int
    seconds: list[float]
    foreign_cores: float  # cores' worth of CPU time that neither this process nor its busy process used

    @property
    def key(self) -> tuple:
        return self.model, self.n, self.k, self.target


def summary(seconds: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(seconds), "p90": float(np.percentile(seconds, 90)), "max": max(seconds)}


def machine_jiffies() -> int:
    """CPU time the whole machine has spent busy (every core), in clock ticks (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        user, nice, system, _, _, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    return user + nice + system + irq + softirq + steal


def process_jiffies(pid: int | str = "self") -> int:
    """CPU time a process has used (every thread of it), in clock ticks (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def load(folder: Path, model: str, target: str):
    """The module for ``model`` and ``target`` in ``folder`` (generated/, or another checkout's, to compare two
    versions in turns), under its own name, as ``import`` would: a Numba module caches its loops beside it."""
    import importlib.util

    path = Path(folder) / f"{module_name(model, target)}.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = sys.modules[path.stem] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call_times(function: Callable[[], object], calls: int) -> list[float]:
    """Seconds of each of ``calls`` calls, one after another, after one call to warm up."""
    function()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


class BusyCore:
    """A second Python process that spins for as long as the ``with`` block runs, then is stopped."""

    def __enter__(self) -> BusyCore:
        self.process = subprocess.Popen([sys.executable, "-c", SPIN])
        self.pid = self.process.pid
        time.sleep(0.2)  # let it get going, and the scheduler place it
        return self

    def __exit__(self, *_: object) -> None:
        self.process.kill()
        self.process.wait()


class _Quiet:
    """The quiet phase: nothing started."""

    pid = None

    def __enter__(self) -> _Quiet:
        time.sleep(0.2)  # as long as the busy phase waits for its process
        return self

    def __exit__(self, *_: object) -> None:
        pass


def timed_with_load(function: Callable[[], object], calls: int, spinner: int | None) -> tuple[list[float], float]:
    """call_times, and the cores' worth of CPU time the rest of the machine used meanwhile (other users: a
    shared machine's noise, which the summary leaves out)."""
    ticks = os.sysconf("SC_CLK_TCK")
    start = (time.perf_counter(), machine_jiffies(), process_jiffies(), process_jiffies(spinner) if spinner else 0)
    times = call_times(function, calls)
    end = (time.perf_counter(), machine_jiffies(), process_jiffies(), process_jiffies(spinner) if spinner else 0)
    foreign = (end[1] - start[1]) - (end[2] - start[2]) - (end[3] - start[3])
    return times, max(0.0, foreign / ticks / (end[0] - start[0]))


def measure(cases: Sequence[tuple], targets: Sequence[str], calls: int, rounds: int, dtype: str = "float64",
            folder: Path = GENERATED, echo: Callable[[str], None] = print) -> list[Phase]:
    """Each case's gradient, ``calls`` calls a phase, quiet then busy, ``rounds`` times over."""
    prepared = []
    for model, n, k in cases:
        case = make_case(model, n, k, dtype)
        for target in targets:
            module = load(folder, model, target)
            function = functools.partial(module.gradient, case.params, case.X, case.y)
            function()  # a Numba module compiles (or loads its cache) here
            prepared.append(((model, n, k, target), function))
    phases = []
    for round_ in range(rounds):
        for phase in ("quiet", "busy"):
            with BusyCore() if phase == "busy" else _Quiet() as load_:
                for key, function in prepared:
                    times, foreign = timed_with_load(function, calls, load_.pid)
                    phases.append(Phase(*key, phase, round_, times, foreign))
        echo(f"round {round_ + 1} of {rounds}: others used "
             + ", ".join(f"{p.foreign_cores:.2f}" for p in phases if p.round == round_) + " cores")
    return phases


def ratios(phases: Sequence[Phase], most_foreign: float = 0.25) -> list[dict]:
    """Per case: each phase's median, p90 and slowest call, and busy over the quiet median, from the rounds in
    which the other users of the machine used at most ``most_foreign`` of a core in both phases."""
    rows = []
    for key in dict.fromkeys(p.key for p in phases):
        mine = [p for p in phases if p.key == key]
        clean = [r for r in sorted({p.round for p in mine})
                 if all(p.foreign_cores <= most_foreign for p in mine if p.round == r)]
        if not clean:
            continue
        quiet = summary([t for p in mine if p.phase == "quiet" and p.round in clean for t in p.seconds])
        busy = summary([t for p in mine if p.phase == "busy" and p.round in clean for t in p.seconds])
        model, n, k, target = key
        rows.append({"model": model, "n": n, "k": k, "target": target, "rounds": len(clean),
                     "of_rounds": len({p.round for p in mine}),
                     **{f"quiet_{s}": v for s, v in quiet.items()}, **{f"busy_{s}": v for s, v in busy.items()},
                     **{f"{s}_ratio": busy[s] / quiet["median"] for s in busy}})
    return rows


def table(rows: Sequence[dict]) -> str:
    """A Markdown table: milliseconds, and busy over the quiet median (p90 and max too: the tail is the point)."""
    lines = ["| case | target | rounds | quiet median / p90 / max (ms) | busy median / p90 / max (ms) "
             "| busy ÷ quiet median: median, p90, max |", "|---|---|---|---|---|---|"]
    for r in rows:
        case = f"{r['model']} N={r['n']:g}" + (f" k={r['k']}" if r["k"] else "")
        quiet = " / ".join(f"{1e3 * r[f'quiet_{s}']:.2f}" for s in ("median", "p90", "max"))
        busy = " / ".join(f"{1e3 * r[f'busy_{s}']:.2f}" for s in ("median", "p90", "max"))
        ratio = ", ".join(f"{r[f'{s}_ratio']:.2f}×" for s in ("median", "p90", "max"))
        rounds = f"{r['rounds']} of {r['of_rounds']}"
        lines.append(f"| {case} | {r['target']} | {rounds} | {quiet} | {busy} | {ratio} |")
    return "\n".join(lines)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default="numba", help="numba, numpy or both, comma-separated (default: numba)")
    parser.add_argument("--calls", type=int, default=200, help="calls per case, phase and round (default: 200)")
    parser.add_argument("--rounds", type=int, default=3, help="quiet/busy rounds, in turns (default: 3)")
    parser.add_argument("--n", type=int, help="samples per case (default: 10⁶)")
    parser.add_argument("--cases", help="which cases, comma-separated: chain, logistic10, logistic100 (default: all)")
    parser.add_argument("--json", type=Path, help="write every call's time and the ratios as JSON")
    parser.add_argument("--most-foreign", type=float, default=0.25,
                        help="leave out rounds in which other users took more than this many cores (default: 0.25)")
    parser.add_argument("--modules", type=Path, default=GENERATED,
                        help="the folder of generated modules to time (default: generated/)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a killed run still stops its busy process
    names = {"chain": CASES[0], "logistic10": CASES[1], "logistic100": CASES[2]}
    chosen = [names[name] for name in args.cases.split(",")] if args.cases else CASES
    cases = [(model, args.n or n, k) for model, n, k in chosen]
    phases = measure(cases, args.targets.split(","), args.calls, args.rounds, folder=args.modules)
    rows = ratios(phases, args.most_foreign)
    print()
    print(table(rows))
    if args.json:
        document = {"command": " ".join(["python", "benchmarks/busy_core.py", *(argv or sys.argv[1:])]),
                    "rows": rows, "phases": [asdict(p) for p in phases]}
        args.json.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
