"""``symgrad derive``: one model to stdout or a file, or the whole catalogue into a folder."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from symgrad.catalogue.models import ACTIVATION_CHOICES, LOSS_CHOICES, catalogue_names, derive_named
from symgrad.cores import on_every_core
from symgrad.errors import UsageError
from symgrad.files import (
    add_follow_symlinks_option,
    add_quiet_option,
    announce,
    check_writable,
    file_name,
    following_symlinks,
    refuse_same_file,
    write_if_changed,
)
from symgrad.rendering.render import FORMATS, render

#: what ``--all`` writes for each model, and the file suffix of each format
SUFFIXES = {"latex": ".latex.tex", "tex": ".tex", "markdown": ".md", "text": ".txt", "json": ".json", "html": ".html"}
ALL_FORMATS = ("markdown", "tex")
DEFAULT_OUT_DIR = "derivations"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", nargs="?", metavar="MODEL", help=f"one of: {', '.join(catalogue_names())}")
    parser.add_argument("--model-file", metavar="FILE", type=file_name,
                        help="derive the model defined in a TOML model file instead (docs/model-files.md)")
    parser.add_argument("--all", action="store_true", help="derive every model and variant into the folder --out names")
    understood = ", ".join(f"{suffix} ({fmt})" for fmt, suffix in SUFFIXES.items())
    parser.add_argument("--format", choices=FORMATS,
                        help=f"output format (default: text; with -o FILE, the one its suffix names: {understood}; "
                             "text for a FILE without a suffix; any other suffix needs --format)")
    parser.add_argument("-o", "--output", metavar="FILE", type=file_name,
                        help="write to FILE instead of standard output (and say 'wrote FILE', or 'unchanged FILE')")
    parser.add_argument("--out", "--out-dir", dest="out", metavar="DIR", type=file_name,
                        help=f"the folder --all writes into (default: {DEFAULT_OUT_DIR}/); --out-dir is another name "
                             "for it, and generate takes the same --out")
    add_follow_symlinks_option(parser)
    add_quiet_option(parser)
    parser.add_argument("--loss", choices=LOSS_CHOICES, help="the loss of a network model")
    parser.add_argument("--activation", choices=ACTIVATION_CHOICES, help="every activation of a network model")
    parser.add_argument("--hidden-activation", choices=ACTIVATION_CHOICES, help="the hidden activation g1")
    parser.add_argument("--output-activation", choices=ACTIVATION_CHOICES, help="the output activation g2")


def _options(args: argparse.Namespace) -> dict[str, str]:
    names = ("loss", "activation", "hidden_activation", "output_activation")
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _format_for(fmt: str | None, output: str | None) -> str:
    """The format to write: ``fmt`` if given, else the one ``output``'s suffix names (text for standard output
    or a name without a suffix).  Any other suffix is refused rather than given plain text: ``-o s.pdf``
    would otherwise be a text file named like a PDF."""
    if fmt:
        return fmt
    if output is None:
        return "text"
    name = Path(output).name.lower()
    for known, suffix in sorted(SUFFIXES.items(), key=lambda item: -len(item[1])):
        if name.endswith(suffix):
            return known
    if not Path(output).suffix:
        return "text"
    understood = ", ".join(f"{suffix} ({known})" for known, suffix in SUFFIXES.items())
    raise UsageError(f"cannot tell a format from the suffix of {output}; name it {understood}, or give --format")


def write_catalogue(
    out_dir: Path, formats: tuple[str, ...] = ALL_FORMATS, on_file: Callable[[Path, bool], None] | None = None
) -> list[Path]:
    """Derive every model and variant; write one file per format; return the paths written or left unchanged.

    The models are independent, so they are derived on every core at once, and each model's files are
    written (and ``on_file(path, written)`` told) as soon as that model is done.  ``out_dir`` may be a symlink
    to a folder (the user named it); a symlink as one of the files in it is refused, unless the command
    follows symlinks (:func:`~symgrad.files.following_symlinks`)."""
    names = catalogue_names()
    paths = {(name, fmt): out_dir / f"{name}{SUFFIXES[fmt]}" for name in names for fmt in formats}
    check_writable(*paths.values())  # all before any work: a bad one fails the run before it derives anything
    done = []
    for name, texts in _rendered(names, formats):
        for fmt, text in texts.items():  # each checked again as it is written (write_atomic)
            path = paths[(name, fmt)]
            written = write_if_changed(path, text, make_parents=True)
            done.append(path)
            if on_file is not None:
                on_file(path, written)
    return done


def _render_one(job: tuple[str, tuple[str, ...]]) -> tuple[str, dict[str, str]]:
    """One catalogue model derived (and proven) and rendered in each format; runs in a worker process."""
    name, formats = job
    derivation = derive_named(name)
    return name, {fmt: render(derivation, fmt) for fmt in formats}


def _rendered(names: list[str], formats: tuple[str, ...]) -> Iterator[tuple[str, dict[str, str]]]:
    """(name, texts) for each model, in the order they finish, on every core."""
    return on_every_core(_render_one, [(name, formats) for name in names])


def run(args: argparse.Namespace) -> int:
    """The command; every file it writes follows a symlink only with ``--follow-symlinks``."""
    with following_symlinks(args.follow_symlinks):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    if args.out is not None and not args.all:
        raise UsageError("--out is the folder for --all; to write one model to a file, use -o FILE")
    if args.model_file is not None:
        return _run_model_file(args)
    if args.all:
        if args.model or _options(args) or args.output:
            raise UsageError("--all derives every model with its default options; give no MODEL, -o or option with it")
        formats = (args.format,) if args.format else ALL_FORMATS
        write_catalogue(Path(args.out or DEFAULT_OUT_DIR), formats,
                        on_file=lambda path, written: announce(path, written, args.quiet))
        return 0
    if not args.model:
        raise UsageError(f"name a MODEL (one of: {', '.join(catalogue_names())}), or use --all or --model-file FILE")
    fmt = _format_for(args.format, args.output)  # before the derivation: a bad suffix fails at once
    check_writable(args.output)  # and so does a symlink or a folder where the file goes
    _emit(render(derive_named(args.model, **_options(args)), fmt), args.output, args.quiet)
    return 0


def _run_model_file(args: argparse.Namespace) -> int:
    """``--model-file FILE``: the file's model instead of a catalogue name; the catalogue options do not apply."""
    from symgrad.catalogue.modelfile import derive_model_file

    if args.model or args.all:
        raise UsageError("--model-file names the model; give no MODEL or --all with it")
    if _options(args):
        raise UsageError("--loss and the activation options choose catalogue variants; a model file states its own")
    refuse_same_file(args.output, args.model_file)
    fmt = _format_for(args.format, args.output)
    check_writable(args.output)
    _emit(render(derive_model_file(args.model_file), fmt), args.output, args.quiet)
    return 0


def _emit(text: str, output: str | None, quiet: bool = False) -> None:
    """Write ``text`` to the file ``output`` (whole or not at all) and say so as every command does (``wrote X``,
    or ``unchanged X`` for a file that already held it; nothing with ``-q``), or to standard output."""
    if output is not None:
        announce(output, write_if_changed(output, text), quiet)
    else:
        sys.stdout.write(text)
