"""``symgrad derive``: one model to stdout or a file, or the whole catalogue into a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UsageError
from ..files import refuse_same_file, writable_target, write_atomic
from ..models import ACTIVATION_CHOICES, LOSS_CHOICES, catalogue_names, derive_named
from ..render import FORMATS, render

#: what ``--all`` writes for each model, and the file suffix of each format
SUFFIXES = {"latex": ".latex.tex", "tex": ".tex", "markdown": ".md", "text": ".txt", "json": ".json"}
ALL_FORMATS = ("markdown", "tex")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", nargs="?", metavar="MODEL", help=f"one of: {', '.join(catalogue_names())}")
    parser.add_argument("--model-file", metavar="FILE",
                        help="derive the model defined in a TOML model file instead (docs/model-files.md)")
    parser.add_argument("--all", action="store_true", help="derive every model and variant into --out-dir")
    parser.add_argument("--format", choices=FORMATS, help="output format (default: text; with -o, from the file suffix)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    parser.add_argument("--out-dir", metavar="DIR", default="derivations", help="folder for --all (default: derivations)")
    parser.add_argument("--loss", choices=LOSS_CHOICES, help="the loss of a network model")
    parser.add_argument("--activation", choices=ACTIVATION_CHOICES, help="every activation of a network model")
    parser.add_argument("--hidden-activation", choices=ACTIVATION_CHOICES, help="the hidden activation g1")
    parser.add_argument("--output-activation", choices=ACTIVATION_CHOICES, help="the output activation g2")


def _options(args: argparse.Namespace) -> dict[str, str]:
    names = ("loss", "activation", "hidden_activation", "output_activation")
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _format_for(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    if args.output:
        for fmt, suffix in sorted(SUFFIXES.items(), key=lambda item: -len(item[1])):
            if args.output.endswith(suffix):
                return fmt
    return "text"


def write_catalogue(out_dir: Path, formats: tuple[str, ...] = ALL_FORMATS) -> list[Path]:
    """Derive every model and variant; write one file per format; return the paths written."""
    documents = {name: derive_named(name) for name in catalogue_names()}
    texts = {out_dir / f"{name}{SUFFIXES[fmt]}": render(derivation, fmt)
             for name, derivation in documents.items() for fmt in formats}
    for path in texts:  # all checked before the first is written: a bad one leaves no set half-written
        writable_target(path)
    for path, text in texts.items():
        write_atomic(path, text, make_parents=True)
    return list(texts)


def run(args: argparse.Namespace) -> int:
    if args.model_file is not None:
        return _run_model_file(args)
    if args.all:
        if args.model or _options(args) or args.output:
            raise UsageError("--all derives every model with its default options; give no MODEL, -o or option with it")
        formats = (args.format,) if args.format else ALL_FORMATS
        for path in write_catalogue(Path(args.out_dir), formats):
            print(f"wrote {path}")
        return 0
    if not args.model:
        raise UsageError(f"name a MODEL (one of: {', '.join(catalogue_names())}), or use --all or --model-file FILE")
    text = render(derive_named(args.model, **_options(args)), _format_for(args))
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _run_model_file(args: argparse.Namespace) -> int:
    """``--model-file FILE``: the file's model instead of a catalogue name; the catalogue options do not apply."""
    from ..modelfile import derive_model_file

    if args.model or args.all:
        raise UsageError("--model-file names the model; give no MODEL or --all with it")
    if _options(args):
        raise UsageError("--loss and the activation options choose catalogue variants; a model file states its own")
    refuse_same_file(args.output, args.model_file)
    text = render(derive_model_file(args.model_file), _format_for(args))
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
