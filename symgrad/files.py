"""Writing output files safely: whole or not at all.

Every file symgrad writes goes through :func:`write_atomic`: the text lands in
a temporary file beside the target and is renamed over it, so an interrupted
run or a full disk leaves the old file intact, never half a file.
"""

from __future__ import annotations

import argparse
import errno
import os
import tempfile
from pathlib import Path


class OutputError(OSError):
    """A file that could not be read or written; the message is one line, for the user."""


def file_name(text: str) -> str:
    """An argparse ``type`` for an option that names a file or folder: an empty name is refused, because
    ``Path("")`` is the current folder, so ``--out ""`` would write there and ``-o ""`` would mean no file."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a file or folder name, not {text!r}")
    return text


def write_atomic(path: Path | str, text: str | bytes, make_parents: bool = False) -> None:
    """Write ``text`` to ``path`` (UTF-8, ``\\n`` line ends; bytes as they are) through a temporary file and a rename.

    ``make_parents`` creates missing folders (for output folders symgrad owns);
    a single output file's folder must already exist.
    """
    path = writable_target(path)
    if not make_parents and not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: folder {path.parent} does not exist")
    created: list[Path] = []  # the folders this call makes: a failed write takes them away again
    try:
        if make_parents:
            created = _make_folders(path)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; a written file gets the usual mode
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        _remove_empty(created)
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        _remove_empty(created)
        raise


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


def writable_target(path: Path | str) -> Path:
    """The file that writing ``path`` replaces: a symlink's target (the link stays a link); refused in one
    line if it is there and not a regular file (a folder, a FIFO, a device would be replaced by a file).

    Commands that write several files check every one of them first, so that a bad one stops them
    before the first is written."""
    path = Path(path)
    try:
        if path.is_symlink():
            path = Path(os.path.realpath(path))
        irregular = path.exists() and not path.is_file()
    except OSError as error:  # a name too long for the file system, say
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    if irregular:
        raise OutputError(f"cannot write {path}: not a regular file")
    return path


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
