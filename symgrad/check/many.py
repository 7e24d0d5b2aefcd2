"""Judging many answer keys at once: a class's submissions, each on its own, on every core.

``symgrad check FILE… | DIR`` gives each key to a worker process.  A key is judged exactly as one key is
judged alone (the same limits, the same time limit), and whatever goes wrong with one key (it cannot be read,
it is binary, it has no equations, its worker process dies) becomes that key's own error row with exit status
2: the other keys are judged all the same.  A progress line (``tqdm``) shows on a terminal when the run takes
more than a moment.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import stat
import sys
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TextIO

from symgrad.check.checker import Checker
from symgrad.check.definitions import read_bindings
from symgrad.check.keys import Statement, TooManyStatements, UnreadableKey, extract
from symgrad.check.outcome import UNUSABLE, KeyResult, status_of
from symgrad.errors import UnknownModel, UsageError
from symgrad.files import OutputError, read_text

MAX_KEY_CHARACTERS = 2_000_000
MAX_STATEMENTS = 2_000
#: What a folder's keys are named: Markdown, or the text a PDF exports.
KEY_SUFFIXES = (".md", ".markdown", ".txt")
#: Seconds a run goes on before its progress line appears: a quick run should not flash one.
PROGRESS_DELAY = 1.5

@dataclass(frozen=True)
class Settings:
    """What every key of a run is judged with (the command's options); sent to each worker."""

    model: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    model_file: str | None = None
    time_limit: float | None = None
    #: Keep the key's text in the result (the Markdown report annotates it) or an HTML section of it.
    keep_text: bool = False
    html: bool = False


@dataclass(frozen=True)
class Job:
    """One key to judge: a file to read, the text of standard input, or a file refused before it was read."""

    index: int
    source: str  # the name the reports give it
    path: str | None = None
    text: str | None = None
    refusal: str | None = None


# ---- which files ----------------------------------------------------------------------------------------
def is_many(arguments: list[str]) -> bool:
    """Whether the command judges many keys: more than one argument, or a folder (whatever it holds).  One
    file keeps the one-key reports as they were (a JSON list, the errors of old)."""
    return len(arguments) > 1 or any(argument != "-" and os.path.isdir(argument) for argument in arguments)


def jobs_for(arguments: list[str], read_stdin: Callable[[], str], report: str | None = None) -> list[Job]:
    """The keys the arguments name, in their order: a file as named, a folder's keys by name (not its
    subfolders).  A name given twice is judged once; standard input (``-``) may be named once.  The file the
    report goes to (``-o class/report.md``) is no key of the folder's, though named like one."""
    if arguments.count("-") > 1:
        raise UsageError("standard input (-) can be read once; name it once")
    jobs: list[Job] = []
    seen: set[str] = set()
    for argument in arguments:
        if argument == "-":
            jobs.append(Job(len(jobs), "<stdin>", text=read_stdin()))
            continue
        entries = _folder_entries(argument, report) if os.path.isdir(argument) else [(argument, None)]
        for path, refusal in entries:
            if path not in seen:
                seen.add(path)
                jobs.append(Job(len(jobs), path, path=path, refusal=refusal))
    return jobs


def _folder_entries(folder: str, report: str | None = None) -> list[tuple[str, str | None]]:
    """The keys in ``folder`` (named ``*.md``, ``*.markdown`` or ``*.txt``, not hidden, and not the folder's
    README, which describes the keys rather than being one), sorted by name, each with the reason it is refused
    unread, if it is.  A submission folder is not trusted: a symbolic link
    there (to a private file, which the report would quote) and anything that is not a regular file (a FIFO
    would block the run) are refused; a link named on the command line is read, the user chose it."""
    try:
        names = sorted(os.listdir(folder))
    except OSError as error:
        raise UsageError(f"cannot read folder {folder}: {error.strerror or error}") from None
    entries = []
    for name in names:
        if name.startswith(".") or not name.lower().endswith(KEY_SUFFIXES) or _is_readme(name):
            continue
        path = os.path.join(folder, name)
        if report is None or not _same_path(path, report):
            entries.append((path, _refusal(path)))
    if not entries:
        raise UsageError(f"{folder} holds no answer keys (files named *.md, *.markdown or *.txt)")
    return entries


def _is_readme(name: str) -> bool:
    """README.md, readme.txt: a folder's description.  Named on the command line, it is read as a key."""
    return name.lower().rpartition(".")[0] == "readme"


def _same_path(first: str, second: str) -> bool:
    """Whether two names are one file (or would be, for one not yet written)."""
    try:
        return os.path.samefile(first, second)
    except OSError:
        return os.path.abspath(first) == os.path.abspath(second)


def _refusal(path: str) -> str | None:
    """Why a file found in a folder is not read (a link, not a regular file), or None to read it."""
    try:
        info = os.lstat(path)
    except OSError as error:
        return f"cannot read {path}: {error.strerror or error}"
    if stat.S_ISLNK(info.st_mode):
        return f"{path} is a symbolic link; name it on the command line to check the file it points to"
    if not stat.S_ISREG(info.st_mode):
        return f"{path} is not a regular file"
    return None


# ---- judging one key ------------------------------------------------------------------------------------
def statements_of(text: str, source: str) -> list[Statement]:
    """The key's statements, or a one-line :class:`UsageError` for a key that cannot be checked (too large,
    empty, binary, too many equations, none at all): counted first, so that no model is derived for it."""
    if len(text) > MAX_KEY_CHARACTERS:
        raise UsageError(f"{source} is larger than {MAX_KEY_CHARACTERS:,} characters; split the key")
    if not text.strip():
        raise UsageError(f"{source} is empty")
    try:
        statements = extract(text, most=MAX_STATEMENTS)
    except UnreadableKey as error:
        raise UsageError(f"{source}: {error}") from None
    except TooManyStatements:
        raise UsageError(f"{source} has more than {MAX_STATEMENTS:,} equations; symgrad checks at most "
                         f"{MAX_STATEMENTS:,} at a time (split the key)") from None
    if not statements:
        raise UsageError(f"{source} has no equations in $…$, $$…$$, \\(…\\), \\[…\\] or align blocks")
    return statements


#: Model files derived in this process, by path: a worker derives each once for all its keys (and a forked
#: worker inherits the one the command derived to check the file before the run).
_MODEL_FILES: dict[str, object] = {}


def checker_for(settings: Settings) -> Checker:
    """A fresh checker for one key (a checker keeps what it learns of a key's sections, keyed by object
    identity, so one key's must not meet another's)."""
    if settings.model_file is None:
        return Checker(settings.model, dict(settings.options))
    from symgrad.catalogue.modelfile import derive_model_file

    if settings.model_file not in _MODEL_FILES:
        _MODEL_FILES[settings.model_file] = derive_model_file(settings.model_file)
    derivation = _MODEL_FILES[settings.model_file]
    return Checker.for_derivation(derivation, f"{derivation.name} (--model-file {settings.model_file})")


def judge_text(text: str, source: str, settings: Settings) -> KeyResult:
    """One key judged whole; raises :class:`UsageError` (or the model's errors) for a key it cannot judge."""
    started = time.monotonic()
    statements = statements_of(text, source)
    verdicts = list(checker_for(settings).verdicts(statements, settings.time_limit, read_bindings(text)))
    result = KeyResult(source, status_of(verdicts), verdicts, seconds=time.monotonic() - started)
    if settings.keep_text or settings.html:
        result.text, result.end_lines = text, {s.line: s.end_line for s in statements}
    return result


def judge_job(job: Job, settings: Settings) -> KeyResult:
    """One key, never raising: whatever keeps it from being judged is its error row (status 2).  Runs in a
    worker process; the HTML section is made there too, so that the run's cores share that work."""
    started = time.monotonic()
    try:
        if job.refusal is not None:
            raise UsageError(job.refusal)
        text = job.text if job.text is not None else read_text(job.path or job.source)
        result = judge_text(text, job.source, settings)
    except (UsageError, OutputError, UnknownModel) as error:
        result = KeyResult(job.source, UNUSABLE, error=str(error))
    except Exception as error:  # noqa: BLE001 - a hostile key must not stop the others; its row says what
        result = KeyResult(job.source, UNUSABLE, error=f"{job.source}: cannot be checked ({type(error).__name__})")
    result.seconds = time.monotonic() - started
    if settings.html:
        from symgrad.check.html import key_section

        result.section = key_section(result, job.index)
        if not settings.keep_text:
            result.text = ""
    return result


# ---- judging many keys ----------------------------------------------------------------------------------
def judge_all(jobs: list[Job], settings: Settings, workers: int,
              done: Callable[[int, KeyResult], None] = lambda index, result: None,
              judge: Callable[[Job, Settings], KeyResult] = judge_job) -> list[KeyResult]:
    """Every job's result, in the jobs' order; ``done(index, result)`` is told of each as it finishes.

    With more than one worker, the keys are shared among worker processes.  A worker that dies (killed, out
    of memory) breaks the pool, and every key then unfinished is judged again alone, in a pool of its own,
    so that only the key that kills its process gets the error row."""
    results: dict[int, KeyResult] = {}

    def finish(job: Job, result: KeyResult) -> None:
        results[job.index] = result
        done(job.index, result)

    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            finish(job, judge(job, settings))
    else:
        for job in _judge_in_pool(jobs, settings, workers, finish, judge):  # those left by a broken pool
            if not _judge_in_pool([job], settings, 1, finish, judge):
                continue
            finish(job, KeyResult(job.source, UNUSABLE, error=f"{job.source}: the process checking it stopped "
                                                              "(killed, or out of memory)"))
    return [results[job.index] for job in jobs]


def _judge_in_pool(jobs: list[Job], settings: Settings, workers: int, finish: Callable[[Job, KeyResult], None],
                   judge: Callable[[Job, Settings], KeyResult]) -> list[Job]:
    """Judge ``jobs`` in a pool of ``workers`` processes, telling ``finish`` of each; return the jobs left
    unjudged because a worker died.  Interrupted (Ctrl-C), the workers are stopped at once."""
    pool = concurrent.futures.ProcessPoolExecutor(min(workers, len(jobs)), initializer=_ignore_interrupts)
    futures = {pool.submit(judge, job, settings): job for job in jobs}
    left: list[Job] = []
    try:
        for future in concurrent.futures.as_completed(futures):
            job = futures[future]
            try:
                result = future.result()
            except BrokenProcessPool:
                left.append(job)
                continue
            except Exception as error:  # noqa: BLE001 - a result that could not come back: that key's row
                result = KeyResult(job.source, UNUSABLE, error=f"{job.source}: cannot be checked "
                                                               f"({type(error).__name__})")
            finish(job, result)
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()
    return sorted(left, key=lambda job: job.index)


def _ignore_interrupts() -> None:
    """In a worker: Ctrl-C is the command's to handle (it stops the workers), not each worker's traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Stop a pool's workers now, mid-key: an interrupted run must not wait for each key's time limit."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


# ---- progress -------------------------------------------------------------------------------------------
class Progress:
    """The progress line of a run, on a terminal only: keys done, keys left and the time left (tqdm's
    estimate), shown once the run has taken :data:`PROGRESS_DELAY` seconds."""

    def __init__(self, total: int, stream: TextIO | None = None, delay: float = PROGRESS_DELAY) -> None:
        from tqdm import tqdm

        stream = sys.stderr if stream is None else stream
        tqdm.monitor_interval = 0  # no monitor thread: the worker processes are forked from this one
        terminal = _is_terminal(stream)
        width = _width(stream) if terminal else 0
        self._bar = tqdm(total=total, file=stream, delay=delay, unit="key", leave=False, disable=not terminal,
                         dynamic_ncols=width > 0, ncols=None if width > 0 else 80,
                         nrows=None if width > 0 else 24, postfix=f"{total} to go",
                         bar_format="checking: {n_fmt}/{total_fmt} keys done{postfix}, {remaining} left {bar:16}")

    def advance(self) -> None:
        """One more key done."""
        self._bar.set_postfix_str(f"{self._bar.total - self._bar.n - 1} to go", refresh=False)
        self._bar.update(1)

    def write(self, text: str, stream: TextIO) -> None:
        """Write ``text`` to ``stream`` with the progress line out of its way (it is drawn again after)."""
        with self._bar.external_write_mode(file=stream):
            stream.write(text)
            stream.flush()

    def close(self) -> None:
        """Take the progress line off the terminal."""
        self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _width(stream: TextIO) -> int:
    """The terminal's width in columns; 0 when it does not say (a pseudo-terminal nobody sized), where tqdm
    would hide its line (it reads a height of -1)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a file
        return False
