"""The ``symgrad`` command: ``list``, ``derive``, ``generate``, ``check``, ``trajectory``.

Each subcommand is a pair ``configure(parser)`` / ``run(args) -> int`` in its
own module; this file only wires them up and turns every user error into one
line on stderr with exit status 2 (never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import NoReturn

from symgrad import __version__
from symgrad.errors import UnknownModel, UsageError
from symgrad.files import OutputError

#: subcommand → (module that implements it, one-line help)
COMMANDS = {
    "list": ("symgrad.commands.list_models", "name each built-in model with a one-line description"),
    "derive": ("symgrad.commands.derive", "derive a model step by step and print it (LaTeX, Markdown, text, JSON)"),
    "check": ("symgrad.commands.check", "check answer keys (one, several or a folder) against the derivations"),
    "generate": ("symgrad.commands.generate",
                 "write the NumPy module of each model (or a model file's) into generated/"),
    "trajectory": ("symgrad.commands.trajectory",
                   "plot gradient descent/ascent paths on contours, or check whether a path is feasible"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


class _WholeNames(argparse.HelpFormatter):
    """Help text wrapped only at spaces: a model's name (two-weight-chain-cross-entropy) never breaks at a hyphen,
    as argparse's textwrap would break it, so that what the help shows can be copied as one word."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        text = " ".join(text.split())
        return textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if isinstance(self, argparse.RawDescriptionHelpFormatter):  # a command that lays out its own text
            return super()._fill_text(text, width, indent)
        return textwrap.fill(" ".join(text.split()), width, initial_indent=indent, subsequent_indent=indent,
                             break_on_hyphens=False, break_long_words=False)


def _whole_names(formatter: type[argparse.HelpFormatter]) -> type[argparse.HelpFormatter]:
    """``formatter`` (whatever a command chose) with :class:`_WholeNames`' wrapping."""
    if issubclass(formatter, _WholeNames):
        return formatter
    return type(f"WholeNames{formatter.__name__}", (_WholeNames, formatter), {})


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser.  Only the subcommand that ``argv`` names is configured (its module
    imported): the others need their one-line summaries alone, and their modules load SymPy and NumPy.
    With ``argv`` None every subcommand is configured."""
    parser = _Parser(prog="symgrad", formatter_class=_WholeNames,
                     description="Derive, print, generate and check the gradients of small ML models.")
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subcommands.required = True
    wanted = _command_named(argv) if argv is not None else None
    for name, (module_name, summary) in COMMANDS.items():
        sub = subcommands.add_parser(name, help=summary, description=summary)
        if argv is None or name == wanted:
            module = importlib.import_module(module_name)
            module.configure(sub)
            sub.set_defaults(run=module.run)
        sub.formatter_class = _whole_names(sub.formatter_class)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names: its first word that is not an option (``symgrad`` takes no option values)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    if sys.stdout is None:  # started with standard output closed (`>&-`): what goes there is dropped
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        if not argv:  # a bare `symgrad`: what it can do, not only "the following arguments are required"
            hint = "\nRun 'symgrad COMMAND --help' for a command's options.\n"
            sys.stdout.write(build_parser(argv).format_help() + hint)
            return 2
        args = build_parser(argv).parse_args(argv)
        status = int(args.run(args))
        sys.stdout.flush()  # a full disk under standard output fails here, inside the try
        return status
    except (UsageError, UnknownModel, OutputError) as error:
        print(f"symgrad: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symgrad: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `symgrad derive … | head` is not an error
        _drop_standard_output()
        return 0
    except OSError as error:  # standard output on a full disk, say: one line, not a traceback
        _drop_standard_output()
        where = f": {error.filename}" if error.filename else ""
        print(f"symgrad: error: {error.strerror or error}{where}", file=sys.stderr)
        return 2


def _drop_standard_output() -> None:
    """Point standard output at /dev/null: what is still buffered for it would fail again when Python
    flushes it on exit, with a message of its own."""
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError):  # no file descriptor (a test's captured output): nothing to flush
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
