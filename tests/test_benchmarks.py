"""The benchmark runs in its smoke mode with NumPy alone, and its correctness gate rejects a wrong
contender.  Nothing here asserts a time: speed is measured by benchmarks/, not tested."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench_gradient  # noqa: E402
from cases import grid, make_case  # noqa: E402
from contenders import CONTENDERS, Prepared, Unavailable, generated_gradient, naive_numpy  # noqa: E402

NUMPY_ONLY = {name: CONTENDERS[name] for name in ("generated gradient", "generated update", "naive numpy")}
TINY = grid(sizes=(1, 5), features=(3,))


def quiet(_: str) -> None:
    """Swallows the benchmark's progress lines."""


def wrong(case):
    """The naive gradient off by 1 % in every entry: the gate must catch it."""
    naive = naive_numpy(case)
    result = lambda: {key: value * 1.01 for key, value in naive.result().items()}  # noqa: E731
    return Prepared(result, result)


def missing(case):
    raise Unavailable("notalibrary is not installed")


def test_smoke_run_produces_timed_rows_for_every_case():
    rows, bandwidth = bench_gradient.run(TINY, NUMPY_ONLY, repeats=2, min_seconds=0.0, bandwidth_mb=8, echo=quiet)
    assert bandwidth > 0
    assert len(rows) == len(TINY) * len(NUMPY_ONLY)
    assert {(r.model, r.dtype) for r in rows} == {(m, d) for m in ("logistic-regression", "two-weight-chain")
                                                    for d in ("float64", "float32")}
    for row in rows:
        assert row.status == "timed", row
        assert row.seconds > 0 and row.vs_bound > 0
    naive = [r for r in rows if r.contender == "naive numpy"]
    assert all(r.vs_naive == 1.0 for r in naive)


def test_the_gate_rejects_a_wrong_contender_and_does_not_time_it():
    lines = []
    contenders = {"generated gradient": generated_gradient, "naive numpy": naive_numpy, "wrong": wrong}
    rows, _ = bench_gradient.run(TINY[:2], contenders, repeats=2, min_seconds=0.0, bandwidth_mb=8, echo=lines.append)
    rejected = [r for r in rows if r.contender == "wrong"]
    assert rejected and all(r.status == "rejected" and r.seconds is None for r in rejected)
    assert all("differs from the generated one" in r.note for r in rejected)
    assert any(line.startswith("REJECTED wrong") for line in lines)
    assert all(r.status == "timed" for r in rows if r.contender != "wrong")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_gate_accepts_the_naive_gradient_and_rejects_a_small_error(dtype):
    """The tolerance is tight enough to catch 1e-2 relative, loose enough for float32 rounding."""
    case = make_case("logistic-regression", 50, 4, dtype)
    reference = case.module.gradient(case.params, case.X, case.y)
    assert bench_gradient.check(naive_numpy(case), reference, dtype) == ""
    assert "differs" in bench_gradient.check(wrong(case), reference, dtype)


def test_a_missing_peer_is_skipped_with_a_note():
    lines = []
    rows, _ = bench_gradient.run(TINY[:1], {"naive numpy": naive_numpy, "peer": missing}, repeats=1,
                                 min_seconds=0.0, bandwidth_mb=8, echo=lines.append)
    (row,) = [r for r in rows if r.contender == "peer"]
    assert row.status == "skipped" and "not installed" in row.note
    assert "skipped peer: notalibrary is not installed" in lines


def test_command_line_writes_csv_and_json(tmp_path, capsys):
    code = bench_gradient.main(["--quick", "--sizes", "2", "--features", "3", "--dtypes", "float32",
                                "--contenders", "generated gradient,naive numpy", "--repeats", "1",
                                "--csv", str(tmp_path / "rows.csv"), "--json", str(tmp_path / "rows.json")])
    assert code == 0
    table = capsys.readouterr().out
    assert "| logistic-regression N=2 k=3 float32 | generated gradient |" in table
    document = json.loads((tmp_path / "rows.json").read_text(encoding="utf-8"))
    assert len(document["rows"]) == 4 and document["bandwidth_bytes_per_second"] > 0
    assert (tmp_path / "rows.csv").read_text(encoding="utf-8").count("\n") == 5
    assert np.isfinite([r["seconds"] for r in document["rows"]]).all()


def test_targets_are_read_from_one_run():
    """benchmarks/targets.py judges each ratio from the rows of one run: met, and missed."""
    import targets

    def row(contender, seconds, n=1_000_000, k=100, dtype="float64", model="logistic-regression", bound=None):
        return {"model": model, "n": n, "k": k, "dtype": dtype, "contender": contender, "status": "timed",
                "seconds": seconds, "vs_bound": bound}

    rows = [row("generated gradient", 0.04, bound=1.1), row("naive numpy", 0.1), row("jax jit(grad)", 0.05),
            row("generated gradient", 1e-5, n=1), row("naive numpy", 0.9e-5, n=1), row("jax jit(grad)", 2e-5, n=1),
            row("generated gradient", 0.03, k=None, model="two-weight-chain"),
            row("naive numpy", 0.1, k=None, model="two-weight-chain")]
    rows += [row("generated numba", 0.008, k=None, model="two-weight-chain"),
             row("jax jit(grad)", 0.01, k=None, model="two-weight-chain")]
    verdicts = {target: met for target, _, met in targets.evaluate({"rows": rows})}
    assert verdicts["NumPy: logistic N=1e6 k=100 float64: ≤ 0.5× naive"] is True
    assert verdicts["NumPy: logistic N=1e6 k=100 float64: faster than every peer"] is True
    assert verdicts["NumPy: logistic N=1e6 k=100 float64: ≤ 1.3× one-pass bound"] is True
    assert verdicts["NumPy: logistic N=1 k=100 float64: ≤ naive"] is False
    assert verdicts["NumPy: logistic N=1 k=100 float64: ≤ 0.7× JAX"] is True
    assert verdicts["NumPy: chain N=1e6 float64: ≤ 0.2× naive"] is False
    assert verdicts["Numba: chain N=1e6 float64: ≤ 0.2× naive"] is True
    assert verdicts["Numba: chain N=1e6 float64: ≤ 1.0× JAX"] is True
    assert "NumPy: chain N=1e6 float64: ≤ 1.0× JAX" not in verdicts  # the issue asks it of the fused loop only
    assert "Numba: logistic N=1e6 k=100 float64: ≤ 0.5× naive" not in verdicts  # no such row in this run
    table = targets.table(targets.evaluate({"rows": rows}))
    assert "| NumPy: logistic N=1 k=100 float64: ≤ naive | 1.11× | no |" in table


def test_the_numba_contender_is_gated_and_timed():
    lines = []
    contenders = {"generated gradient": generated_gradient, "naive numpy": naive_numpy,
                  "generated numba": CONTENDERS["generated numba"]}
    rows, _ = bench_gradient.run(TINY[:2], contenders, repeats=1, min_seconds=0.0, bandwidth_mb=8, echo=lines.append)
    fused = [r for r in rows if r.contender == "generated numba"]
    assert fused and all(r.status == "timed" and r.seconds > 0 for r in fused), fused
