"""The command line: happy paths, and every user error as one line, exit status 2, no traceback, no file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from symgrad.catalogue.models import catalogue_names
from symgrad.cli import main
from symgrad.commands.derive import SUFFIXES


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_list_names_every_model(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in catalogue_names():
        assert name in out


def test_derive_to_stdout_and_file(capsys, tmp_path):
    assert main(["derive", "two-weight-chain", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "two-weight-chain"
    target = tmp_path / "chain.tex"
    assert main(["derive", "two-weight-chain", "-o", str(target)]) == 0
    assert target.read_text().startswith("\\documentclass")  # format taken from the suffix


def test_derive_options_change_the_model(capsys):
    args = ["derive", "two-weight-chain", "--loss", "cross-entropy", "--activation", "tanh", "--format", "text"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "tanh" in out and "ln(" in out


def test_derive_all_writes_markdown_and_tex(tmp_path):
    completed = run_cli("derive", "--all", "--out-dir", str(tmp_path / "out"))
    assert completed.returncode == 0, completed.stderr
    for name in catalogue_names():
        assert (tmp_path / "out" / f"{name}.md").is_file()
        assert (tmp_path / "out" / f"{name}.tex").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["derive", "no-such-model"], "unknown model 'no-such-model'; choose from sigmoid"),
        (["derive", "sigmoid", "--format", "pdf"], "invalid choice: 'pdf'"),
        (["derive", "two-weight-chain", "--loss", "hinge"], "invalid choice: 'hinge'"),
        (["derive", "logistic-regression", "--activation", "tanh"], "takes no option 'activation'"),
        (["derive"], "name a MODEL"),
        (["derive", "--all", "sigmoid"], "--all derives every model"),
        (["derive", "--all", "-o", "all.md"], "--all derives every model"),
        (["derive", "sigmoid", "--out-dir", "folder"], "--out is the folder for --all"),
        (["derive", "sigmoid", "--out", "folder"], "--out is the folder for --all"),
        (["derive", "--model-file", "net.toml", "--out-dir", "folder"], "--out is the folder for --all"),
        (["derive", "sigmoid", "-o", ""], "argument -o/--output: expected a file or folder name, not ''"),
        (["derive", "--all", "--out-dir", ""], "argument --out/--out-dir: expected a file or folder name, not ''"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["--frobnicate"], "required: COMMAND"),
    ],
)
def test_usage_errors_are_one_line_with_status_2(args, message, tmp_path):
    completed = run_cli(*args, cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert not any(tmp_path.iterdir())  # no file or folder written, whatever an option named
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symgrad: error: "), completed.stderr
    assert message in lines[0]
    assert "Traceback" not in completed.stderr


def test_unwritable_output_leaves_no_file(tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "out.tex"
    completed = run_cli("derive", "sigmoid", "-o", str(missing))
    assert completed.returncode == 2 and "cannot write" in completed.stderr
    assert not missing.parent.exists()


def test_failed_write_keeps_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    from symgrad import files

    target = tmp_path / "out.md"
    target.write_text("old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(files.OutputError, match="No space left"):
        files.write_atomic(target, "new")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_python_dash_m_and_version():
    completed = run_cli("--version")
    assert completed.returncode == 0 and completed.stdout.startswith("symgrad ")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux) to fill standard output's disk")
def test_standard_output_on_a_full_disk_is_one_line():
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "symgrad", "derive", "two-weight-chain"], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr == "symgrad: error: No space left on device\n"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero for an endless input")
def test_an_endless_input_is_refused_not_read_to_the_end(capsys):
    assert main(["check", "/dev/zero"]) == 2
    err = capsys.readouterr().err
    assert err == "symgrad: error: cannot read /dev/zero: larger than 64 MiB; not an input symgrad reads\n"


def test_output_through_a_symlink_keeps_the_link_and_a_fifo_is_not_replaced(tmp_path, capsys):
    target, link, fifo = tmp_path / "target.md", tmp_path / "link.md", tmp_path / "pipe.md"
    target.write_text("old\n")
    link.symlink_to(target)
    assert main(["derive", "sigmoid", "-o", str(link), "--follow-symlinks"]) == 0  # without it: tests/test_files.py
    assert link.is_symlink() and target.read_text().startswith("# ")
    os.mkfifo(fifo)
    assert main(["derive", "sigmoid", "-o", str(fifo)]) == 2
    assert capsys.readouterr().err == f"symgrad: error: cannot write {fifo}: not a regular file\n"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path, capsys):
    model_text = (Path(__file__).resolve().parent.parent / "docs" / "examples" / "three-weight-chain.toml").read_text()
    toml = tmp_path / "chain.toml"
    module_named_like_it = tmp_path / "three_weight_chain.py"  # what generate --out tmp_path would write
    for model_file, args in [
        (toml, ["derive", "--model-file", str(toml), "-o", str(toml)]),
        (toml, ["generate", "--model-file", str(toml), "-o", str(toml)]),
        (module_named_like_it, ["generate", "--model-file", str(module_named_like_it), "--out", str(tmp_path)]),
    ]:
        model_file.write_text(model_text)
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith(f"symgrad: error: cannot write {model_file}: it is the same file as "), err
        assert model_file.read_text() == model_text


def test_a_file_name_too_long_for_the_file_system_is_one_line(tmp_path, capsys):
    assert main(["generate", "two-weight-chain", "--out", str(tmp_path / ("a" * 300))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symgrad: error: cannot ") and err.endswith("File name too long\n") and err.count("\n") == 1


def test_derive_all_checks_every_target_before_writing_the_first(tmp_path, capsys):
    (tmp_path / "mlp.md").mkdir()  # a folder where one of the files would go
    assert main(["derive", "--all", "--out-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"symgrad: error: cannot write {tmp_path / 'mlp.md'}: not a regular file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["mlp.md"]  # nothing written beside it


def test_an_output_suffix_that_names_no_format_is_refused_unless_format_says(tmp_path, capsys):
    pdf = tmp_path / "s.pdf"
    assert main(["derive", "sigmoid", "-o", str(pdf)]) == 2  # plain text in a .pdf would be no PDF
    err = capsys.readouterr().err
    assert err.startswith(f"symgrad: error: cannot tell a format from the suffix of {pdf}") and err.count("\n") == 1
    assert "--format" in err and all(suffix in err for suffix in SUFFIXES.values())
    assert not pdf.exists()
    assert main(["derive", "sigmoid", "-o", str(pdf), "--format", "markdown"]) == 0  # an explicit --format wins
    assert capsys.readouterr().out == f"wrote {pdf}\n"
    assert main(["derive", "sigmoid", "--format", "markdown"]) == 0
    assert pdf.read_text() == capsys.readouterr().out


def test_an_output_without_a_suffix_is_text_and_a_suffix_in_capitals_counts(tmp_path, capsys):
    plain, shouted = tmp_path / "notes", tmp_path / "S.MD"
    assert main(["derive", "sigmoid", "-o", str(plain)]) == 0
    assert main(["derive", "sigmoid", "-o", str(shouted)]) == 0
    capsys.readouterr()
    for path, fmt in ((plain, "text"), (shouted, "markdown")):
        assert main(["derive", "sigmoid", "--format", fmt]) == 0
        assert path.read_text() == capsys.readouterr().out


def test_out_dir_without_all_writes_nothing_anywhere(tmp_path):
    completed = run_cli("derive", "sigmoid", "--out-dir", str(tmp_path / "out"))
    assert completed.returncode == 2 and completed.stdout == ""  # it used to print to stdout, ignoring --out-dir
    assert "--out is the folder for --all" in completed.stderr and not (tmp_path / "out").exists()


def test_a_failed_write_removes_the_folders_it_made(tmp_path, monkeypatch):
    from symgrad import files

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(files.OutputError, match="No space left"):
        files.write_atomic(tmp_path / "new" / "deeper" / "out.md", "text", make_parents=True)
    assert list(tmp_path.iterdir()) == []  # neither folder stays behind
    (tmp_path / "kept").mkdir()  # a folder that was there before is not the write's to remove
    with pytest.raises(files.OutputError):
        files.write_atomic(tmp_path / "kept" / "new" / "out.md", "text", make_parents=True)
    assert list(tmp_path.iterdir()) == [tmp_path / "kept"] and not any((tmp_path / "kept").iterdir())


def _another_run_makes(folder: Path, monkeypatch) -> list[Path]:
    """Simulate a second run that creates ``folder`` just after this one found it missing: the first mkdir of
    ``folder`` makes it (as the other run would) and then does what mkdir does when it is there.  Returns the
    folders whose mkdir was called, for the test to see the race happened."""
    original = Path.mkdir
    calls: list[Path] = []

    def racing_mkdir(self, *args, **kwargs):
        calls.append(self)
        if self == folder and calls.count(folder) == 1:
            os.mkdir(self)  # the other run wins
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", racing_mkdir)
    return calls


def test_a_folder_another_run_makes_meanwhile_is_written_into_and_never_removed(tmp_path, monkeypatch):
    """Two runs writing into the same new folder: the one that loses the race to mkdir writes there too, instead
    of failing with 'File exists', and a failed write of its own removes only the folders it made."""
    from symgrad import files

    shared = tmp_path / "shared"
    calls = _another_run_makes(shared, monkeypatch)
    files.write_atomic(shared / "deeper" / "out.md", "text", make_parents=True)
    assert (shared / "deeper" / "out.md").read_text() == "text"
    assert calls[0] == shared  # the race did happen: this run found shared missing and tried to make it

    other = tmp_path / "other"
    calls = _another_run_makes(other, monkeypatch)

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(files.OutputError, match="No space left"):
        files.write_atomic(other / "deeper" / "out.md", "text", make_parents=True)
    assert calls[0] == other
    assert other.is_dir() and list(other.iterdir()) == []  # its own 'deeper' is gone; the other run's folder stays


def test_a_file_made_where_a_folder_was_missing_is_still_refused(tmp_path, monkeypatch):
    """The race excuses 'File exists' only when a folder is there now, not a file."""
    from symgrad import files

    blocker = tmp_path / "taken"
    original = Path.mkdir

    def file_appears(self, *args, **kwargs):
        if self == blocker and not blocker.exists():
            blocker.write_text("kept")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", file_appears)
    with pytest.raises(files.OutputError, match="cannot write .*File exists"):
        files.write_atomic(blocker / "out.md", "text", make_parents=True)
    assert blocker.read_text() == "kept"


def test_an_output_folder_below_a_file_says_which_is_not_a_folder(tmp_path, capsys):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("kept")
    assert main(["derive", "--all", "--out-dir", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symgrad: error: cannot write ") and err.endswith(f": {blocker} is not a folder\n")
    assert blocker.read_text() == "kept"


@pytest.mark.parametrize("argv", [["--help"], ["list"], [], ["--version"]])
def test_help_and_list_start_without_sympy_or_numpy(argv):
    """Start-up: the commands that only print names load neither SymPy nor NumPy (about 0.05 s instead of 1 s)."""
    probe = ("import sys\nfrom symgrad.cli import main\n"
             f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('sympy', 'numpy', 'jinja2', 'matplotlib') if m in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert completed.stdout.splitlines()[-1] == "[]", completed.stdout + completed.stderr


def test_a_bare_symgrad_shows_the_commands(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: symgrad")
    assert all(command in out for command in ("list", "derive", "check", "generate", "trajectory"))
    assert "Run 'symgrad COMMAND --help'" in out


def test_list_describes_every_model_in_words(capsys):
    assert main(["list"]) == 0
    rows = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert list(rows) == catalogue_names()
    assert not any(" with " in description and "True" in description for description in rows.values())
