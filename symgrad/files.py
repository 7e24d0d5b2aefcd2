"""Writing output files safely: whole or not at all, and never through a planted link.

Every file symgrad writes goes through :func:`write_atomic`: the text lands in
a temporary file beside the target and is renamed over it, so an interrupted
run or a full disk leaves the old file intact, never half a file.  Three more rules
say what may be replaced, and what is left behind:

* **Symbolic links.**  The file being written is never a symlink, unless the command is given
  ``--follow-symlinks`` (:func:`following_symlinks`); then the file the link points to is replaced and the
  link stays a link.  In a shared folder, a link planted where an output goes would otherwise make the run
  replace whatever file it points to: someone else's, or the user's own elsewhere.  The *folders* on the way
  are followed, links or not: the user named them (``--out-dir DIR``, ``--out DIR``, ``-o sub/f.md``) or runs
  in the folder that holds symgrad's default one (``generated/``, ``derivations/``), and a linked output
  folder is a common, deliberate set-up.  A link planted as the output file inside a linked folder is still
  refused.
* **Mode.**  A file that is replaced keeps its permission bits (a private 0600 file stays 0600); a new
  file gets 0666 & ~umask, as ``open`` gives it.
* **Leftovers.**  A run killed with SIGKILL (which nothing can catch) leaves its temporary behind.  A
  temporary is named ``.NAME.symgrad-HOST-PID-XXXXXXXX.tmp`` after the host and process that write it, and
  every write removes, from the folder it writes into, symgrad's temporaries whose writer is gone (this
  host's, and that process is no longer running) or that are older than :data:`STALE_AFTER` seconds (another
  host's, or one whose process number was reused).  A concurrent run's temporary (fresh, its writer alive)
  is left alone, and so is every file not named like symgrad's temporaries.
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

#: Whether writes in this context follow a symlink as the file written (``--follow-symlinks``).
_FOLLOW_SYMLINKS: ContextVar[bool] = ContextVar("symgrad_follow_symlinks", default=False)

#: Seconds after which a temporary of symgrad's is stale whoever wrote it.  A write takes far less (the
#: text is complete in memory before the temporary is made), so a temporary this old is no run's work.
STALE_AFTER = 3600

class OutputError(OSError):
    """A file that could not be read or written; the message is one line, for the user."""


def file_name(text: str) -> str:
    """An argparse ``type`` for an option that names a file or folder: an empty name is refused, because
    ``Path("")`` is the current folder, so ``--out ""`` would write there and ``-o ""`` would mean no file."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a file or folder name, not {text!r}")
    return text


def write_atomic(
    path: Path | str, text: str | bytes, make_parents: bool = False, follow_symlinks: bool | None = None
) -> None:
    """Write ``text`` to ``path`` (UTF-8, ``\\n`` line ends; bytes as they are) through a temporary file and a rename.

    ``make_parents`` creates missing folders (for output folders symgrad owns);
    a single output file's folder must already exist.  ``follow_symlinks`` says whether a symlink at ``path``
    is written through (None: as the command said, see :func:`following_symlinks`).  The written file keeps
    the mode of the one it replaces (:func:`_mode_for`), and stale temporaries in its folder are removed.
    """
    path = writable_target(path, follow_symlinks)
    if not make_parents and not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: folder {path.parent} does not exist")
    created: list[Path] = []  # the folders this call makes: a failed write takes them away again
    try:
        if make_parents:
            created = _make_folders(path)
        _remove_stale_temporaries(path.parent)
        mode = _mode_for(path)
        handle, temporary = _make_temporary(path)
    except OSError as error:
        _remove_empty(created)
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        if isinstance(text, bytes):
            with os.fdopen(handle, "wb") as stream:
                stream.write(text)
        else:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
        os.chmod(temporary, mode)  # mkstemp makes 0600: while it is written, the text is never more exposed
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        _remove_empty(created)
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        _remove_empty(created)
        raise


def write_if_changed(path: Path | str, text: str | bytes, make_parents: bool = False) -> bool:
    """Write ``text`` to ``path`` (:func:`write_atomic`) unless the file already holds exactly that; whether it
    wrote.  An unchanged file keeps its modification time, so that it says when its content last changed."""
    target = writable_target(path)
    content = text if isinstance(text, bytes) else text.encode("utf-8")
    try:
        if target.is_file() and target.read_bytes() == content:
            _remove_stale_temporaries(target.parent)  # as a write would: a killed run's leftovers go all the same
            return False
    except OSError:  # unreadable: write it, and let write_atomic say what is wrong
        pass
    write_atomic(path, text, make_parents=make_parents)
    return True


def announce(path: Path | str, written: bool, quiet: bool = False) -> None:
    """The one line every command prints for a file it was asked to write: ``wrote X`` or ``unchanged X``."""
    if not quiet:
        print(f"{'wrote' if written else 'unchanged'} {path}", flush=True)


def add_quiet_option(parser: argparse.ArgumentParser) -> None:
    """``-q``: no ``wrote``/``unchanged`` line for each file, the same in every command that writes files."""
    parser.add_argument("-q", "--quiet", action="store_true", help="do not name each file written or left unchanged")


def _mode_for(path: Path) -> int:
    """The permission bits the written file gets: those of the file it replaces, so that a private file
    (0600) stays private and a shared one stays shared; for a new file, 0666 & ~umask, as ``open`` gives.

    Set-user-ID, set-group-ID and sticky bits are not carried over: they were granted to the old content,
    not to what symgrad writes in its place."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode) & 0o777
    except FileNotFoundError:
        return 0o666 & ~_umask()


# ---- temporaries ----------------------------------------------------------------------------------------
def _host() -> str:
    """This machine's name as it goes into a temporary's name (letters, digits, '-'): two machines writing
    into one shared folder must not judge each other's temporaries by process numbers of their own."""
    return re.sub(r"[^A-Za-z0-9]+", "-", socket.gethostname()).strip("-")[:32] or "localhost"


#: A temporary of symgrad's: ``.NAME.symgrad-HOST-PID-XXXXXXXX.tmp`` (``mkstemp``'s random part has no '-',
#: so the last two '-' parts are the process number and the random part, whatever the host's name holds).
_TEMPORARY = re.compile(r"\..*\.symgrad-(?P<host>[A-Za-z0-9-]+)-(?P<pid>[0-9]{1,10})-[a-z0-9_]+\.tmp", re.DOTALL)


def _make_temporary(path: Path) -> tuple[int, str]:
    """Create the temporary for ``path`` beside it (a rename never crosses file systems): an open handle and
    its name, which says who writes it (:data:`_TEMPORARY`).  Only the first 40 characters of ``path``'s
    name go into it: a name near the file system's 255-byte limit must not make the temporary's too long."""
    prefix = f".{path.name[:40]}.symgrad-{_host()}-{os.getpid()}-"
    return tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)


def _remove_stale_temporaries(folder: Path | str) -> list[Path]:
    """Remove from ``folder`` the temporaries of symgrad's that no run will rename (:func:`_is_stale`);
    return those removed.  Never fails: one that cannot be removed (another user's, in a sticky folder)
    stays, and the write that asked goes on."""
    removed = []
    try:
        with os.scandir(folder) as entries:
            stale = [Path(entry.path) for entry in entries if _is_stale(entry)]
    except OSError:
        return []
    for temporary in stale:
        try:
            temporary.unlink()
        except OSError:
            continue
        removed.append(temporary)
    return removed


def _is_stale(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` is a temporary of symgrad's that no run will rename: a regular file named like one,
    written on this host by a process that is gone, or older than :data:`STALE_AFTER` whoever wrote it."""
    match = _TEMPORARY.fullmatch(entry.name)
    if match is None:
        return False
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False
    if time.time() - info.st_mtime > STALE_AFTER:
        return True
    return match["host"] == _host() and not _running(int(match["pid"]))


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine; True when that cannot be told (not POSIX, an
    impossible number), so that only the age rule can remove its temporary."""
    if os.name != "posix" or not 0 < pid < 2**31 or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only asked whether the process is there
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's process, running
        return True
    return True


def _make_folders(path: Path) -> list[Path]:
    """Create the missing folders above ``path``; return those this call made, deepest first, so that a write
    that fails can remove them: a failed command must not leave behind an empty folder it made (and must not
    remove one that another run made meanwhile, see :func:`_make_folder`)."""
    missing, folder = [], path.parent
    while not os.path.lexists(folder):  # lexists: a dangling symlink is there, and mkdir says so
        missing.append(folder)
        folder = folder.parent
    if not folder.is_dir():  # mkdir would say only "File exists" or "Not a directory"
        raise NotADirectoryError(errno.ENOTDIR, f"{folder} is not a folder")
    made: list[Path] = []
    try:
        for new in reversed(missing):
            if _make_folder(new):
                made.insert(0, new)
    except OSError:
        _remove_empty(made)
        raise
    return made


def _make_folder(folder: Path) -> bool:
    """Create ``folder``; True if this call made it, False if another process made it first.

    Two runs writing into the same new folder (``generate`` twice at once) both see it missing, and the
    second ``mkdir`` fails with "File exists": that is no error when the path is now a folder.  The folder is
    then not this call's, so a failed write must not remove it (the other run may be writing into it).
    """
    try:
        folder.mkdir()
    except FileExistsError:
        if not folder.is_dir():
            raise
        return False
    return True


def _remove_empty(folders: list[Path]) -> None:
    """Remove each folder (deepest first) if it is empty; one that is not, or cannot be removed, stays."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def refuse_same_file(output: Path | str | None, *others: Path | str | None) -> None:
    """Refuse, before any work, an output that is the same file as another file the command uses (the
    model file it reads, a path it draws, its other output): writing it would lose that file."""
    for other in others:
        if output is not None and other is not None and _same_file(output, other):
            raise OutputError(f"cannot write {output}: it is the same file as {other}, which this command also uses")


def _same_file(first: Path | str, second: Path | str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist (yet): not the same file
        return Path(first).resolve() == Path(second).resolve()


@contextmanager
def following_symlinks(follow: bool = True) -> Iterator[None]:
    """Within the block, a symlink as the file written is followed (``follow``) or refused (the default).

    A command sets it once, from its ``--follow-symlinks`` option, around all its work: every writer below
    it (codegen's pipeline, the trajectory's CSV and picture) then obeys the option without carrying it
    through each call, and one that forgets to cannot follow a link by default."""
    token = _FOLLOW_SYMLINKS.set(follow)
    try:
        yield
    finally:
        _FOLLOW_SYMLINKS.reset(token)


def add_follow_symlinks_option(parser: argparse.ArgumentParser) -> None:
    """The ``--follow-symlinks`` option, the same in every command that writes files."""
    parser.add_argument(
        "--follow-symlinks", action="store_true",
        help="write through an output file that is a symbolic link, replacing the file it points to "
             "(default: refuse such a file; a linked folder on the way is always followed)",
    )


def writable_target(path: Path | str, follow_symlinks: bool | None = None) -> Path:
    """The file that writing ``path`` replaces: ``path`` itself, or, following symlinks, a symlink's target
    (the link stays a link).  Refused in one line if it is a symlink and symlinks are not followed
    (``follow_symlinks``; None: as :func:`following_symlinks` says), or if it is there and not a regular file
    (a folder, a FIFO, a device would be replaced by a file).  Only the last part of ``path`` is judged: the
    folders on the way are followed (see the module's docstring).

    Commands that write several files check every one of them first (:func:`check_writable`), so that a bad
    one stops them before the first is written."""
    path = Path(path)
    follow = _FOLLOW_SYMLINKS.get() if follow_symlinks is None else follow_symlinks
    try:
        link = path.is_symlink()
        if link and follow:
            path = Path(os.path.realpath(path))
        irregular = path.exists() and not path.is_file()
    except OSError as error:  # a name too long for the file system, say
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    if link and not follow:
        raise OutputError(f"cannot write {path}: it is a symbolic link; "
                          "give --follow-symlinks to replace the file it points to")
    if irregular:
        raise OutputError(f"cannot write {path}: not a regular file")
    return path


def check_writable(*paths: Path | str | None) -> None:
    """Refuse, before anything is written, the first of ``paths`` that cannot be written
    (:func:`writable_target`); None is no file (standard output).  A command that writes several files
    calls it first, so that it writes all of them or none."""
    for path in paths:
        if path is not None:
            writable_target(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Bytes read from an input file at most: every input symgrad reads (answer keys, model files, CSV
#: paths) is far smaller, and an endless one (/dev/zero) must end in an error, not fill the memory.
MAX_INPUT_BYTES = 64 << 20


def read_text(path: Path | str) -> str:
    """Read a UTF-8 text file, or raise :class:`OutputError` with a one-line reason.

    A leading byte-order mark is dropped (``utf-8-sig``): Windows editors and Excel's "CSV UTF-8" write one,
    and it is not part of the text; left in, it would be the first character of a TOML key or a CSV header.
    """
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_INPUT_BYTES + 1)
    except OSError as error:
        raise OutputError(f"cannot read {path}: {error.strerror or error}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise OutputError(f"cannot read {path}: larger than {MAX_INPUT_BYTES >> 20} MiB; not an input symgrad reads")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise OutputError(f"cannot read {path}: not UTF-8 text") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # line ends as text mode reads them
