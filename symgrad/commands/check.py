"""``symgrad check KEY…``: each key's equations, line by line, against the derivations.

One key is reported as it always was (text as each claim is judged, JSON as a list).  Several keys, or a
folder of them, are judged each on its own on every core (``many.py``), and the report ends with a summary;
the exit status is the worst of the keys'.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable

from symgrad.catalogue.models import ACTIVATION_CHOICES, LOSS_CHOICES, catalogue_names
from symgrad.check import many
from symgrad.check.checker import TIME_LIMIT, Checker
from symgrad.check.definitions import read_bindings
from symgrad.check.many import MAX_KEY_CHARACTERS, MAX_STATEMENTS, Settings  # noqa: F401 - MAX_*: their old home
from symgrad.check.outcome import KeyResult, status_of
from symgrad.check.report import (
    FORMATS,
    file_text,
    summary,
    summary_table,
    text_lines,
    to_csv,
    to_json,
    to_json_many,
    to_markdown,
    to_markdown_many,
)
from symgrad.errors import UsageError
from symgrad.files import (
    add_follow_symlinks_option,
    check_writable,
    file_name,
    following_symlinks,
    read_text,
    refuse_same_file,
    write_atomic,
)

#: The libraries ``--format html`` needs, and the extra that installs them.
HTML_LIBRARIES = ("markdown_it", "mdit_py_plugins", "latex2mathml")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("keys", nargs="+", metavar="KEY",
                        help="an answer key (Markdown or text with LaTeX math), or a folder of them (its .md, "
                             ".markdown and .txt files); several are judged each on its own; - reads stdin")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="report format (default: text); csv is one row per claim, html a web page")
    parser.add_argument("-o", "--output", metavar="FILE", type=file_name,
                        help="write the report to FILE instead of standard output")
    add_follow_symlinks_option(parser)
    parser.add_argument("--model", metavar="MODEL",
                        help=f"judge every claim against one model: {', '.join(catalogue_names())}")
    parser.add_argument("--model-file", metavar="FILE",
                        help="judge every claim against the model defined in a TOML model file (docs/model-files.md)")
    parser.add_argument("--loss", choices=LOSS_CHOICES, help="with --model: the network's loss")
    parser.add_argument("--activation", choices=ACTIVATION_CHOICES, help="with --model: the network's activations")
    parser.add_argument("--time-limit", metavar="SECONDS", type=_seconds, default=TIME_LIMIT,
                        help=f"the most time for checking each key (default: {TIME_LIMIT:g}); formulas left "
                             "when it is up are unrecognized")
    parser.add_argument("-j", "--jobs", metavar="N", type=_count, default=None,
                        help="with several keys: how many to judge at once (default: one per core)")


def _seconds(text: str) -> float:
    """A --time-limit: a positive, finite number of seconds (argparse makes the error one line of usage)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text!r}")
    return seconds


def _count(text: str) -> int:
    """A --jobs: a whole number from 1 up."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 up, not {text!r}")
    return int(text)


def _read(key: str) -> str:
    if key == "-":
        data = sys.stdin.buffer.read(MAX_KEY_CHARACTERS * 4 + 1)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError("standard input is not UTF-8 text") from None
    return read_text(key)


def run(args: argparse.Namespace) -> int:
    """The command; the report file (``-o``) follows a symlink only with ``--follow-symlinks``."""
    with following_symlinks(args.follow_symlinks):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.format == "html":
        _need_html_libraries()
    if args.output is not None:  # before any work: a report that cannot be written fails the run at once
        refuse_same_file(args.output, *(key for key in args.keys if key != "-"), args.model_file)
        check_writable(args.output)
    if many.is_many(args.keys):
        return _run_many(args, settings)
    return _run_one(args, settings)


def _settings(args: argparse.Namespace) -> Settings:
    """The options every key is judged with, refused in one line before any key is read when they clash."""
    options = {k: v for k, v in (("loss", args.loss), ("activation", args.activation)) if v is not None}
    if args.model_file is not None and (args.model is not None or options):
        raise UsageError("--model-file names the model; give no --model, --loss or --activation with it")
    if options and args.model is None:
        raise UsageError("--loss and --activation need --model")
    return Settings(args.model, tuple(sorted(options.items())), args.model_file, args.time_limit,
                    keep_text=args.format == "markdown", html=args.format == "html")


def _need_html_libraries() -> None:
    """Refuse ``--format html`` in one line when its libraries are not installed (``pip install symgrad[html]``)."""
    import importlib.util

    missing = [name for name in HTML_LIBRARIES if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"--format html needs {', '.join(missing)}; install them with: pip install 'symgrad[html]'")


# ---- one key --------------------------------------------------------------------------------------------
def _run_one(args: argparse.Namespace, settings: Settings) -> int:
    """One key, reported as ``symgrad check KEY`` always has: an unusable key is an error (exit 2)."""
    key = args.keys[0]
    text = _read(key)
    source = "<stdin>" if key == "-" else key
    statements = many.statements_of(text, source)
    checker = many.checker_for(settings)
    judged = checker.verdicts(statements, settings.time_limit, read_bindings(text))
    if args.format == "text" and args.output is None:  # each verdict as soon as it is judged: a long key shows
        verdicts = []                                  # its progress
        for verdict in judged:
            verdicts.append(verdict)
            sys.stdout.write(text_lines(verdict, source))
            sys.stdout.flush()
        sys.stdout.write(summary(verdicts) + "\n")
        return status_of(verdicts)
    verdicts = list(judged)
    result = KeyResult(source, status_of(verdicts), verdicts, text=text,
                       end_lines={s.line: s.end_line for s in statements})
    _emit(_one_report(args.format, result), args.output, args.format)
    return result.status


def _one_report(fmt: str, result: KeyResult) -> str:
    """One key's report in ``fmt``: the text, JSON and Markdown of old; CSV and HTML as for several keys."""
    if fmt == "json":
        return to_json(result.verdicts)
    if fmt == "markdown":
        return to_markdown(result.verdicts, result.text, result.end_lines)
    return _many_report(fmt, [result]) if fmt in ("csv", "html") else file_text(result)


# ---- many keys ------------------------------------------------------------------------------------------
def _run_many(args: argparse.Namespace, settings: Settings) -> int:
    """Each key judged on its own, on every core; one unusable key is its own error row, not the run's end."""
    if args.model is not None:
        Checker(args.model, dict(settings.options))  # an unknown model fails now, with the list of names
    if settings.model_file is not None:
        many.checker_for(settings)  # a bad model file fails now; a forked worker inherits the derivation
    jobs = many.jobs_for(args.keys, lambda: _read("-"), args.output)
    workers = min(args.jobs or many.default_workers(), len(jobs))
    streaming = args.format == "text" and args.output is None
    with many.Progress(len(jobs)) as progress:
        printer = _InOrder(lambda result: progress.write(file_text(result) + "\n", sys.stdout))

        def done(index: int, result: KeyResult) -> None:
            progress.advance()
            if streaming:
                printer.add(index, result)

        results = many.judge_all(jobs, settings, workers, done)
    if streaming:
        sys.stdout.write(summary_table(results))
        return max(result.status for result in results)
    _emit(_many_report(args.format, results), args.output, args.format)
    return max(result.status for result in results)


def _many_report(fmt: str, results: list[KeyResult]) -> str:
    """The report of several keys in ``fmt``."""
    if fmt == "json":
        return to_json_many(results)
    if fmt == "csv":
        return to_csv(results)
    if fmt == "markdown":
        return to_markdown_many(results)
    if fmt == "html":
        from symgrad.check.html import report

        return report(results)
    return "".join(file_text(result) + "\n" for result in results) + summary_table(results)


class _InOrder:
    """Prints each key's part of a streamed report as soon as it and every key before it are done, so that a
    run's output is in the order the keys were named whichever finished first."""

    def __init__(self, show: Callable[[KeyResult], None]) -> None:
        self._show: Callable[[KeyResult], None] = show
        self._waiting: dict[int, KeyResult] = {}
        self._next = 0

    def add(self, index: int, result: KeyResult) -> None:
        """The ``index``-th key is done: print it, and those after it that were waiting for it."""
        self._waiting[index] = result
        while self._next in self._waiting:
            self._show(self._waiting.pop(self._next))
            self._next += 1


def _emit(text: str, output: str | None, fmt: str) -> None:
    """Write the report to the file ``output`` (whole or not at all), or to standard output.  A CSV file
    starts with a byte-order mark, by which spreadsheets (Excel) know it is UTF-8."""
    if output is None:
        sys.stdout.write(text)
        return
    write_atomic(output, ("\ufeff" + text) if fmt == "csv" else text)
