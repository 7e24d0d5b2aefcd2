"""`symgrad check FILE… | DIR`: many keys, each judged on its own; one unusable key is its own error row;
a summary last; the exit status is the worst; text, JSON, CSV and Markdown reports; -o; the progress line."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symgrad.check import many, outcome
from symgrad.commands.check import _InOrder

KEYS = Path(__file__).parent / "keys"
SIGMOID = (KEYS / "sigmoid.md").read_text()
#: the sigmoid key with its last row wrong (line 9)
WRONG = SIGMOID.replace(r"&= s(\gamma)(1 - s(\gamma))", r"&= s(\gamma)(1 + s(\gamma))")


def run_check(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symgrad", "check", *args], input=stdin, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A class's folder: a good key, a wrong one, and three that cannot be checked (binary, empty, a link)."""
    root = tmp_path_factory.mktemp("submissions")
    (root / "alice.md").write_text(SIGMOID)
    (root / "bob.md").write_text(WRONG)
    (root / "carol.md").write_bytes(b"\xff\xfe\x00binary")
    (root / "dave.txt").write_text("")
    (root / "eve.md").symlink_to(KEYS / "sigmoid.md")
    (root / "notes.pdf").write_text("not a key")  # not named like a key: not judged
    return root


def test_a_folder_is_judged_key_by_key_with_a_summary_last_and_the_worst_status(folder):
    completed = run_check(str(folder))
    assert completed.returncode == 2, completed.stderr
    out = completed.stdout
    assert f"{folder}/bob.md:9: ✗ wrong" in out and f"{folder}/alice.md:9: ✓ correct" in out
    assert f"{folder}/carol.md: error: cannot read {folder}/carol.md: not UTF-8 text" in out
    assert f"{folder}/dave.txt: error: {folder}/dave.txt is empty" in out
    assert "eve.md is a symbolic link" in out and "notes.pdf" not in out
    table = out[out.index("file  "):].splitlines()
    assert table[0].split() == ["file", "correct", "wrong", "unrecognized", "first", "wrong", "line"]
    rows = {line.split()[0]: line.split()[1:] for line in table[1:]}
    assert rows[f"{folder}/alice.md"] == ["6", "0", "0", "-"]
    assert rows[f"{folder}/bob.md"] == ["5", "1", "0", "9"]
    assert rows[f"{folder}/carol.md"][0] == "error:"
    assert table[-1].split()[:6] == ["all", "5", "keys", "11", "1", "0"]
    assert out.index("alice.md:") < out.index("bob.md:") < out.index("carol.md:")  # in the order named
    assert completed.stderr == ""  # no progress line when standard error is no terminal


def test_the_worst_status_of_keys_that_could_all_be_checked_is_one(folder):
    assert run_check(str(folder / "alice.md"), str(folder / "bob.md"), "--format", "json").returncode == 1
    assert run_check(str(folder / "alice.md"), "-", stdin=SIGMOID).returncode == 0


def test_json_gives_one_object_per_key_and_one_key_the_list_of_old(folder):
    rows = json.loads(run_check(str(folder), "--format", "json").stdout)
    assert [Path(row["file"]).name for row in rows] == ["alice.md", "bob.md", "carol.md", "dave.txt", "eve.md"]
    assert [row["status"] for row in rows] == [0, 1, 2, 2, 2]
    bob = rows[1]
    assert bob["error"] is None and {"line", "latex", "verdict", "reason", "expected"} <= set(bob["verdicts"][0])
    assert [v["line"] for v in bob["verdicts"] if v["verdict"] == "wrong"] == [9]
    assert rows[2]["verdicts"] == [] and "not UTF-8" in rows[2]["error"]
    alone = json.loads(run_check(str(folder / "bob.md"), "--format", "json").stdout)
    assert isinstance(alone, list) and alone == bob["verdicts"]


def test_csv_is_one_row_per_claim_ready_for_a_spreadsheet(folder, tmp_path):
    report = tmp_path / "grades.csv"
    completed = run_check(str(folder / "bob.md"), str(folder / "carol.md"), "--format", "csv", "-o", str(report))
    assert completed.returncode == 2 and completed.stdout == ""
    data = report.read_bytes()
    assert data.startswith("\ufeff".encode()) and b"\r\n" in data  # UTF-8 for Excel; RFC 4180 line ends
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == ["file", "line", "verdict", "reason", "model", "model_from", "kind", "expected",
                             "formula"]
    bob = [row for row in rows if row["file"].endswith("bob.md")]
    assert len(bob) == 6 and [row["line"] for row in bob if row["verdict"] == "wrong"] == ["9"]
    wrong = next(row for row in bob if row["verdict"] == "wrong")
    assert wrong["formula"] == r"'= s(\gamma)(1 + s(\gamma))"  # a spreadsheet shows it, never computes it
    assert wrong["reason"].startswith("the right side is not equal")
    (error,) = [row for row in rows if row["file"].endswith("carol.md")]
    assert error["verdict"] == "error" and "not UTF-8" in error["reason"] and error["line"] == ""


def test_markdown_annotates_each_key_under_its_name_then_the_summary(folder):
    out = run_check(str(folder / "alice.md"), str(folder / "bob.md"), "--format", "markdown").stdout
    assert out.count("# The sigmoid: answer key") == 2 and "> ✗ line 9: wrong" in out
    assert out.index("alice.md") < out.index("bob.md") < out.index("# Summary")
    assert "| file | correct | wrong | unrecognized | first wrong line |" in out


def test_the_report_file_is_written_whole_and_never_through_a_link(folder, tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    link = tmp_path / "report.txt"
    link.symlink_to(target)
    refused = run_check(str(folder / "alice.md"), str(folder / "bob.md"), "-o", str(link))
    assert refused.returncode == 2 and "symbolic link" in refused.stderr and target.read_text() == "keep me"
    followed = run_check(str(folder / "alice.md"), str(folder / "bob.md"), "-o", str(link), "--follow-symlinks")
    assert followed.returncode == 1 and link.is_symlink() and "first wrong line" in target.read_text()
    same = run_check(str(folder / "alice.md"), "-o", str(folder / "alice.md"))
    assert same.returncode == 2 and "same file" in same.stderr and (folder / "alice.md").read_text() == SIGMOID


def test_a_report_written_into_the_folder_is_no_key_of_it_on_the_next_run(folder, tmp_path):
    (tmp_path / "alice.md").write_text(SIGMOID)
    for _ in range(2):
        completed = run_check(str(tmp_path), "--format", "markdown", "-o", str(tmp_path / "report.md"))
        assert completed.returncode == 0, completed.stderr
    summary = (tmp_path / "report.md").read_text().split("# Summary")[1].strip().splitlines()
    assert len(summary) == 3 and summary[2].endswith("alice.md | 6 | 0 | 0 | - |")  # one key: alice's


def test_standard_input_is_read_once():
    completed = run_check("-", "-", stdin=SIGMOID)
    assert completed.returncode == 2 and "standard input (-) can be read once" in completed.stderr


def test_a_folder_without_keys_is_refused(tmp_path):
    (tmp_path / "a.pdf").write_text("x")
    completed = run_check(str(tmp_path))
    assert completed.returncode == 2 and "holds no answer keys" in completed.stderr


def test_a_folders_readme_is_no_key_of_it(tmp_path):
    """A submissions folder with a README that says what the keys are: judged, the README would be an error
    row (no equations) and exit status 2 for the whole run."""
    (tmp_path / "README.md").write_text("# Homework 3\n\nThe submissions of section B.\n")
    (tmp_path / "alice.md").write_text((KEYS / "sigmoid.md").read_text())
    jobs = many.jobs_for([str(tmp_path)], lambda: "")
    assert [os.path.basename(job.source) for job in jobs] == ["alice.md"]
    assert [job.source for job in many.jobs_for([str(tmp_path / "README.md")], lambda: "")] == [
        str(tmp_path / "README.md")]  # named on its own, it is read


def _dies_on_bob(job: many.Job, settings: many.Settings) -> outcome.KeyResult:
    """A judge whose process dies on one key, as one killed for its memory would."""
    if job.source.endswith("bob.md"):
        os._exit(9)
    return many.judge_job(job, settings)


def test_a_key_that_kills_its_worker_costs_only_its_own_row(folder):
    jobs = many.jobs_for([str(folder / name) for name in ("alice.md", "bob.md", "alice.md", "dave.txt")], str)
    assert len(jobs) == 3  # a name given twice is judged once
    told = []
    results = many.judge_all(jobs, many.Settings(), 2, lambda index, result: told.append(index), _dies_on_bob)
    assert [r.status for r in results] == [0, 2, 2] and sorted(told) == [0, 1, 2]
    assert "the process checking it stopped" in results[1].error and "is empty" in results[2].error


def _unsendable_for_bob(job: many.Job, settings: many.Settings) -> outcome.KeyResult:
    """A judge whose result for one key cannot be sent back from its worker (it does not pickle)."""
    if job.source.endswith("bob.md"):
        return outcome.KeyResult(job.source, 0, error=lambda: "no")  # type: ignore[arg-type]
    return many.judge_job(job, settings)


def test_a_result_that_cannot_come_back_from_its_worker_is_its_keys_error_row(folder):
    jobs = many.jobs_for([str(folder / "alice.md"), str(folder / "bob.md")], str)
    results = many.judge_all(jobs, many.Settings(), 2, judge=_unsendable_for_bob)
    assert [r.status for r in results] == [0, 2] and "cannot be checked" in results[1].error


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_shows_keys_done_left_and_time_left_on_a_terminal_only():
    terminal = _Terminal()
    with many.Progress(3, terminal, delay=0) as progress:
        for _ in range(2):
            time.sleep(0.11)  # tqdm redraws at most ten times a second
            progress.advance()
    shown = terminal.getvalue()
    assert "2/3 keys done, 1 to go" in shown and " left" in shown
    quiet = io.StringIO()
    with many.Progress(3, quiet, delay=0) as progress:
        progress.advance()
    assert quiet.getvalue() == ""


def test_a_streamed_report_keeps_the_order_the_keys_were_named():
    shown = []
    printer = _InOrder(lambda result: shown.append(result.file))
    for index in (2, 0, 3, 1):
        printer.add(index, outcome.KeyResult(f"k{index}", 0))
    assert shown == ["k0", "k1", "k2", "k3"]


def test_a_file_name_cannot_drive_the_terminal():
    assert outcome.display_name("a\x1b[2Jb\n.md") == "a\\x1b[2Jb\\n.md"


@pytest.mark.slow
def test_a_run_of_a_few_seconds_shows_its_progress_on_the_terminal(tmp_path):
    """Standard error on a pseudo-terminal (sized, as a terminal window is): the progress line appears once the
    run has taken more than a moment, and is wiped at the end."""
    import fcntl
    import pty
    import struct
    import termios

    # enough keys that the run outlasts the progress line's delay with keys still to go, however fast they are
    keys = [str(path) for path in sorted((KEYS / "styles").glob("*.md"))[:6]]
    main, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "symgrad", "check", *keys, "-j", "1", "--format", "json",
                                "-o", str(tmp_path / "out.json")], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal's other side closed: the run is over
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert process.wait(timeout=120) == 1
    text = shown.decode()
    progress = re.findall(r"checking: (\d+)/6 keys done, (\d+) to go", text)
    shown_counts = [(int(done), int(left)) for done, left in progress]
    assert any(done < 6 for done, _ in shown_counts) and " left " in text
    assert all(done + left == 6 for done, left in shown_counts)
    assert text.endswith("\r") and text.split("\r")[-2].strip() == ""  # wiped at the end
