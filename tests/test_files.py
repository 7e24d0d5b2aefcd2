"""Files symgrad writes: never through a planted symlink, a replaced file keeps its mode, and the temporaries a
killed run leaves behind are removed by the next run into their folder (but never a running one's).

Each rule is tested through the command line (``main`` returns the exit status) for all six ways of writing:
``derive -o``, ``derive --all --out-dir``, ``generate -o``, ``generate --out``, ``trajectory -o`` and
``trajectory --csv``.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from symgrad import files
from symgrad.cli import main

#: the cheapest model file there is: one weight, the quadratic loss
ONE_WEIGHT = """\
name = "one-weight"
description = "one weight"
inputs = ["x"]
label = "y"
params = ["w"]

[nodes]
z = "x * w"

[loss]
formula = "quadratic(z, y)"
"""

SECRET = "someone else's notes\n"
NOT_A_SYMLINK = ("symgrad: error: cannot write {}: it is a symbolic link; "
                 "give --follow-symlinks to replace the file it points to\n")

needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib")


@dataclass(frozen=True)
class Writer:
    """One way of writing: the command line that writes into ``folder``, and the names of the files it writes
    there, in the order it writes them (a test plants its link at the last: after the first, for a command
    that writes several)."""

    args: Callable[[Path], list[str]]
    outputs: tuple[str, ...]


WRITERS = [
    pytest.param(Writer(lambda d: ["derive", "sigmoid", "-o", str(d / "sigmoid.md")], ("sigmoid.md",)),
                 id="derive -o"),
    pytest.param(Writer(lambda d: ["derive", "--all", "--format", "markdown", "--out-dir", str(d)],
                        ("sigmoid.md", "two-weight-chain.md")), id="derive --all --out-dir"),
    pytest.param(Writer(lambda d: ["generate", "--model-file", str(d.parent / "one.toml"), "-o", str(d / "one.py")],
                        ("one.py",)), id="generate -o"),
    pytest.param(Writer(lambda d: ["generate", "two-weight-chain", "--target", "numpy", "--target", "numba",
                                   "--out", str(d)], ("two_weight_chain.py", "two_weight_chain_numba.py")),
                 id="generate --out"),
    pytest.param(Writer(lambda d: ["trajectory", "--steps", "3", "--csv", str(d / "paths.csv"),
                                   "-o", str(d / "paths.png")], ("paths.csv", "paths.png")),
                 id="trajectory -o", marks=needs_matplotlib),
    pytest.param(Writer(lambda d: ["trajectory", "--steps", "3", "--csv", str(d / "paths.csv")], ("paths.csv",)),
                 id="trajectory --csv"),
]


@pytest.fixture(autouse=True)
def small_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    """``derive --all`` over the two cheapest models, not the whole catalogue: the files are the point here."""
    monkeypatch.setattr("symgrad.commands.derive.catalogue_names", lambda: ["sigmoid", "two-weight-chain"])


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """A known umask (022), so that a new file's mode is known; the old one is put back."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """The folder the commands write into; the model file of ``generate -o`` lies beside it."""
    (tmp_path / "one.toml").write_text(ONE_WEIGHT)
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A private file in another folder: what a planted link points at."""
    (tmp_path / "elsewhere").mkdir()
    path = tmp_path / "elsewhere" / "notes.txt"
    path.write_text(SECRET)
    path.chmod(0o600)
    return path


@pytest.fixture
def live_pid() -> Iterator[int]:
    """The process number of another process that runs while the test does: a concurrent writer."""
    process = subprocess.Popen(["sleep", "600"])
    yield process.pid
    process.kill()
    process.wait()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def dead_pid() -> int:
    """The process number of a process that has ended (and been waited for): a writer that is gone."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def temporary_name(name: str, pid: int, host: str | None = None, random: str = "abcd1234") -> str:
    """The name symgrad gives a temporary of ``name`` written by process ``pid`` on ``host`` (default: this one);
    ``random`` is the part ``mkstemp`` chooses, which tells apart two temporaries of one writer."""
    return f".{name}.symgrad-{host or files._host()}-{pid}-{random}.tmp"


# ---- symlinks ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("writer", WRITERS)
def test_a_symlink_as_an_output_is_refused_before_anything_is_written(writer, out, victim, capsys):
    link = out / writer.outputs[-1]
    link.symlink_to(victim)
    assert main(writer.args(out)) == 2
    assert capsys.readouterr().err == NOT_A_SYMLINK.format(link)
    assert victim.read_text() == SECRET and mode(victim) == 0o600
    assert list(out.iterdir()) == [link] and link.is_symlink()  # not even the files written before it


@pytest.mark.parametrize("writer", WRITERS)
def test_follow_symlinks_replaces_the_file_linked_to_and_keeps_its_mode(writer, out, victim):
    link = out / writer.outputs[-1]
    link.symlink_to(victim)
    assert main([*writer.args(out), "--follow-symlinks"]) == 0
    assert link.is_symlink() and victim.read_bytes() != SECRET.encode()
    assert mode(victim) == 0o600
    assert sorted(p.name for p in out.iterdir()) == sorted(writer.outputs)


def test_a_dangling_symlink_is_refused_and_creates_nothing(tmp_path, capsys):
    """A link to a file that is not there yet would make the run create a file where the link's maker chose."""
    link, target = tmp_path / "out.md", tmp_path / "elsewhere.md"
    link.symlink_to(target)
    assert main(["derive", "sigmoid", "-o", str(link)]) == 2
    assert capsys.readouterr().err == NOT_A_SYMLINK.format(link)
    assert not target.exists()


def test_a_linked_output_folder_is_followed_but_a_link_planted_inside_it_is_refused(
    tmp_path, victim, monkeypatch, capsys
):
    """The folder the user names (or symgrad's default folder, in the folder the user runs in) may be a
    symlink; the file written inside it may not."""
    real = tmp_path / "real"
    real.mkdir()
    linked = tmp_path / "linked"
    linked.symlink_to(real, target_is_directory=True)
    assert main(["derive", "sigmoid", "-o", str(linked / "sigmoid.md")]) == 0
    assert main(["generate", "two-weight-chain", "--target", "numpy", "--out", str(linked)]) == 0
    monkeypatch.chdir(tmp_path)
    Path("generated").symlink_to(real, target_is_directory=True)
    assert main(["generate", "logistic-regression", "--target", "numpy"]) == 0
    assert sorted(p.name for p in real.iterdir()) == ["logistic_regression.py", "sigmoid.md", "two_weight_chain.py"]
    capsys.readouterr()
    planted = real / "two-weight-chain.md"
    planted.symlink_to(victim)
    assert main(["derive", "--all", "--format", "markdown", "--out-dir", str(linked)]) == 2
    assert capsys.readouterr().err == NOT_A_SYMLINK.format(linked / "two-weight-chain.md")
    assert victim.read_text() == SECRET and planted.is_symlink()


# ---- modes ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("writer", WRITERS)
def test_a_replaced_file_keeps_its_mode(writer, out):
    modes = dict(zip(writer.outputs, (0o600, 0o640), strict=False))  # a second file (if any): another mode
    for name, private in modes.items():
        (out / name).write_text("old\n")
        (out / name).chmod(private)
    assert main(writer.args(out)) == 0
    for name, private in modes.items():
        assert (out / name).read_bytes() != b"old\n" and mode(out / name) == private


def test_a_new_file_gets_0666_less_the_umask_and_no_set_id_bit_is_kept(tmp_path):
    os.umask(0o027)
    assert main(["derive", "sigmoid", "-o", str(tmp_path / "new.md")]) == 0
    assert mode(tmp_path / "new.md") == 0o640
    (tmp_path / "new.md").chmod(0o4755)  # set-user-ID: granted to the old content, not to what replaces it
    assert main(["derive", "sigmoid", "-o", str(tmp_path / "new.md"), "--format", "text"]) == 0  # new content
    assert mode(tmp_path / "new.md") == 0o755


# ---- temporaries left by a killed run --------------------------------------------------------------------
@pytest.mark.parametrize("writer", WRITERS)
def test_the_next_run_into_a_folder_removes_a_killed_runs_temporary_but_not_a_running_ones(writer, out, live_pid):
    stale = out / temporary_name(writer.outputs[0], dead_pid())
    running = out / temporary_name(writer.outputs[0], live_pid)
    for temporary in (stale, running):
        temporary.write_text("half a fi")
    assert main(writer.args(out)) == 0
    assert not stale.exists() and running.exists()


def test_which_temporaries_are_stale(tmp_path, live_pid):
    """Only regular files named like symgrad's temporaries, in the folder written into, and only when their
    writer is gone (this host), or they are older than files.STALE_AFTER (whatever the host, for a process
    number reused, or another machine's on a shared folder)."""
    sub = tmp_path / "sub"
    sub.mkdir()
    dead, old = dead_pid(), time.time() - files.STALE_AFTER - 60
    removed = {
        "dead writer": tmp_path / temporary_name("out.md", dead),
        "another file's": tmp_path / temporary_name("notes.txt", dead),
        "a name with dashes, dots and a newline": tmp_path / temporary_name("a-1-2.x\ny.md", dead),
        "old, writer's number reused": tmp_path / temporary_name("out.md", live_pid, random="old_1234"),
        "old, another host's": tmp_path / temporary_name("out.md", dead, host="other-host-7", random="old_1234"),
    }
    kept = {
        "running writer": tmp_path / temporary_name("out.md", live_pid),
        "this run's own process": tmp_path / temporary_name("out.md", os.getpid()),
        "another host's, fresh": tmp_path / temporary_name("out.md", dead, host="other-host-7"),
        "not symgrad's naming": tmp_path / ".out.md.abcd1234.tmp",
        "not hidden": tmp_path / temporary_name("out.md", dead)[1:],
        "another folder": sub / temporary_name("out.md", dead),
    }
    for path in [*removed.values(), *kept.values()]:
        path.write_text("half a fi")
    for key in ("old, writer's number reused", "old, another host's"):
        os.utime(removed[key], (old, old))
    link = tmp_path / temporary_name("link.md", dead)
    link.symlink_to(kept["not symgrad's naming"])
    folder = tmp_path / temporary_name("folder", dead)
    folder.mkdir()
    assert main(["derive", "sigmoid", "-o", str(tmp_path / "out.md")]) == 0
    assert [why for why, path in removed.items() if path.exists()] == []
    assert [why for why, path in kept.items() if not path.exists()] == []
    assert link.is_symlink() and folder.is_dir()


#: a symgrad run whose rename never comes: it says when its temporary is written, then waits to be killed
STALLED_RUN = textwrap.dedent("""
    import os, sys, time
    from symgrad.cli import main

    def stall(source, target):
        print("written", flush=True)
        time.sleep(600)

    os.replace = stall
    main(sys.argv[1:])
""")


def test_a_run_killed_mid_write_leaves_a_temporary_the_next_run_removes(tmp_path):
    """A real ``kill -9`` between the temporary's last byte and its rename; a run meanwhile leaves the
    temporary alone (its writer still runs), the first run after the kill removes it."""
    command = [sys.executable, "-c", STALLED_RUN, "derive", "sigmoid", "-o", str(tmp_path / "killed.md")]
    writer = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "written\n"
        (temporary,) = [path for path in tmp_path.iterdir() if path.name.endswith(".tmp")]
        assert main(["derive", "sigmoid", "-o", str(tmp_path / "other.md")]) == 0
        assert temporary.exists()
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    writer.stdout.close()
    assert temporary.exists() and not (tmp_path / "killed.md").exists()  # what kill -9 leaves
    assert main(["derive", "sigmoid", "-o", str(tmp_path / "other.md")]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["other.md"]


def test_an_output_name_near_the_file_system_limit_can_be_written(tmp_path):
    """The temporary's name holds only the start of the output's: a 243-character name plus the temporary's
    dot, random part and suffix would pass the 255-byte limit of a file name."""
    target = tmp_path / ("a" * 240 + ".md")
    assert main(["derive", "sigmoid", "-o", str(target)]) == 0
    assert target.read_text().startswith("# ")
