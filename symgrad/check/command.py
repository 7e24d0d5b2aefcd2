"""``symgrad check KEY``: the key's equations, line by line, against the derivations."""

from __future__ import annotations

import argparse
import math
import sys

from ..errors import UsageError
from ..files import read_text
from ..models import ACTIVATION_CHOICES, LOSS_CHOICES, catalogue_names
from .checker import TIME_LIMIT, Checker
from .definitions import read_bindings
from .keys import TooManyStatements, UnreadableKey, extract
from .report import FORMATS, summary, text_lines, to_json, to_markdown

MAX_KEY_CHARACTERS = 2_000_000
MAX_STATEMENTS = 2_000


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", metavar="KEY", help="the answer key (Markdown or text with LaTeX math); - reads stdin")
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    parser.add_argument("--model", metavar="MODEL",
                        help=f"judge every claim against one model: {', '.join(catalogue_names())}")
    parser.add_argument("--model-file", metavar="FILE",
                        help="judge every claim against the model defined in a TOML model file (docs/model-files.md)")
    parser.add_argument("--loss", choices=LOSS_CHOICES, help="with --model: the network's loss")
    parser.add_argument("--activation", choices=ACTIVATION_CHOICES, help="with --model: the network's activations")
    parser.add_argument("--time-limit", metavar="SECONDS", type=_seconds, default=TIME_LIMIT,
                        help=f"the most time for checking the whole key (default: {TIME_LIMIT:g}); formulas left "
                             "when it is up are unrecognized")


def _seconds(text: str) -> float:
    """A --time-limit: a positive, finite number of seconds (argparse makes the error one line of usage)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text!r}")
    return seconds


def _read(key: str) -> str:
    if key == "-":
        data = sys.stdin.buffer.read(MAX_KEY_CHARACTERS * 4 + 1)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError("standard input is not UTF-8 text") from None
    return read_text(key)


def run(args: argparse.Namespace) -> int:
    options = {k: v for k, v in (("loss", args.loss), ("activation", args.activation)) if v is not None}
    if args.model_file is not None and (args.model is not None or options):
        raise UsageError("--model-file names the model; give no --model, --loss or --activation with it")
    if options and args.model is None:
        raise UsageError("--loss and --activation need --model")
    text = _read(args.key)
    source = "<stdin>" if args.key == "-" else args.key
    if len(text) > MAX_KEY_CHARACTERS:
        raise UsageError(f"{source} is larger than {MAX_KEY_CHARACTERS:,} characters; split the key")
    if not text.strip():
        raise UsageError(f"{source} is empty")
    try:
        statements = extract(text, most=MAX_STATEMENTS)  # counted first: no model is derived for a key refused
    except UnreadableKey as error:
        raise UsageError(f"{source}: {error}") from None
    except TooManyStatements:
        raise UsageError(f"{source} has more than {MAX_STATEMENTS:,} equations; symgrad checks at most "
                         f"{MAX_STATEMENTS:,} at a time (split the key)") from None
    if not statements:
        raise UsageError(f"{source} has no equations in $…$, $$…$$, \\(…\\), \\[…\\] or align blocks")
    if args.model_file is not None:
        from ..modelfile import derive_model_file

        derivation = derive_model_file(args.model_file)
        checker = Checker.for_derivation(derivation, f"{derivation.name} (--model-file {args.model_file})")
    else:
        checker = Checker(args.model, options)
    judged = checker.verdicts(statements, args.time_limit, read_bindings(text))
    if args.format == "text":  # each verdict as soon as it is judged: a long key shows its progress
        verdicts = []
        for verdict in judged:
            verdicts.append(verdict)
            sys.stdout.write(text_lines(verdict, source))
            sys.stdout.flush()
        sys.stdout.write(summary(verdicts) + "\n")
    else:
        verdicts = list(judged)
        if args.format == "json":
            sys.stdout.write(to_json(verdicts))
        else:
            sys.stdout.write(to_markdown(verdicts, text, {s.line: s.end_line for s in statements}))
    return 1 if any(v.verdict == "wrong" or v.malformed for v in verdicts) else 0
