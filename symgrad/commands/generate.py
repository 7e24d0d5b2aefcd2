"""``symgrad generate``: write each model's modules (NumPy, Numba, PyTorch) into generated/, or check that they are
current."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from symgrad.codegen.pipeline import DEFAULT_OUT, TARGETS, GeneratedFile, generatable_names, skipped
from symgrad.errors import UsageError
from symgrad.files import (
    add_follow_symlinks_option,
    add_quiet_option,
    announce,
    file_name,
    following_symlinks,
    refuse_same_file,
)


def configure(parser: argparse.ArgumentParser) -> None:
    skip = "".join(f"\n  {name}: {reason}" for name, reason in skipped().items())
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # one model per line, names unbroken
    parser.description = (
        "Render each model's modules (forward, loss, gradient, update) from its derivation:\n"
        f"NumPy into {DEFAULT_OUT}/<model>.py, Numba loops into {DEFAULT_OUT}/<model>_numba.py\n"
        f"and PyTorch into {DEFAULT_OUT}/<model>_torch.py.\n\nModels without a module:{skip}"
    )
    choices = ", ".join(generatable_names())
    parser.add_argument("models", nargs="*", metavar="MODEL", help=f"one of: {choices} (default: all)")
    parser.add_argument("--target", choices=list(TARGETS), action="append",
                        help="numpy, numba or torch; repeat for several "
                             "(default: all three for catalogue models, numpy for --model-file)")
    parser.add_argument("--out", "--out-dir", dest="out", metavar="DIR", type=file_name,
                        help=f"output folder (default: {DEFAULT_OUT}/); --out-dir is another name for it, "
                             "and derive --all takes the same --out")
    parser.add_argument("--model-file", metavar="FILE", type=file_name,
                        help="the module of the model defined in a TOML model file (docs/model-files.md) instead")
    parser.add_argument("-o", "--output", metavar="FILE", type=file_name,
                        help="with --model-file: write the module to FILE instead of DIR/<model>.py (no --out)")
    parser.add_argument(
        "--check", action="store_true",
        help="write nothing; exit 1 naming each module that is stale or missing, 0 when all are current",
    )
    add_follow_symlinks_option(parser)
    add_quiet_option(parser)


def run(args: argparse.Namespace) -> int:
    """The command.  A module file that is a symlink is refused (before the first module is written) unless
    ``--follow-symlinks`` is given; ``--out DIR`` or ``generated/`` may be a linked folder."""
    with following_symlinks(args.follow_symlinks):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from symgrad.codegen.pipeline import generate  # jinja2 and the derivations load only when a module is wanted

    if args.model_file is not None:
        report = [_model_file(args)]
    elif args.output is not None:
        raise UsageError("-o FILE is for one model from --model-file; catalogue modules go into --out DIR")
    else:
        out = args.out or DEFAULT_OUT
        report = generate(args.models or None, out, check=args.check, targets=tuple(args.target or TARGETS))
    if args.check:
        outdated = [f for f in report if f.status != "current"]
        for file in outdated:
            print(f"{file.status}: {file.path}")
        if not outdated:
            print(f"up to date: {', '.join(str(f.path) for f in report)}")
        return 1 if outdated else 0
    for file in report:
        announce(file.path, file.status == "written", args.quiet)
    return 0


def _model_file(args: argparse.Namespace) -> GeneratedFile:
    """``--model-file FILE``: the file's model, rendered in full before anything is written."""
    from symgrad.catalogue.modelfile import derive_model_file
    from symgrad.catalogue.models import catalogue_names
    from symgrad.codegen.pipeline import derivation_source, module_name, write_module

    if args.models:
        raise UsageError("--model-file names the model; give no MODEL with it")
    if args.target and len(set(args.target)) > 1:
        raise UsageError("--model-file writes one module; give one --target")
    if args.output is not None and args.out is not None:
        raise UsageError("-o FILE names the module's file and --out DIR its folder; give one of them")
    target = args.target[0] if args.target else "numpy"
    refuse_same_file(args.output, args.model_file)
    derivation = derive_model_file(args.model_file)
    model = derivation.model
    source = derivation_source(derivation, model.name, regenerate=regenerate_option(args.model_file), target=target)
    if args.output is not None:
        return write_module(model.name, Path(args.output), source, check=args.check, make_parents=False, target=target)
    path = Path(args.out or DEFAULT_OUT) / f"{module_name(model.name, target)}.py"
    catalogue = Path(DEFAULT_OUT).resolve()
    catalogue_files = {catalogue / f"{module_name(name, t)}.py" for t in TARGETS for name in catalogue_names()}
    if path.resolve() in catalogue_files:  # however the folder is spelled: generated, ./generated/, its full path
        whose = "is a catalogue model's name" if model.name in catalogue_names() else "names a catalogue module"
        raise UsageError(f"{args.model_file}: {model.name!r} {whose}; its module would replace "
                         f"the catalogue's {DEFAULT_OUT}/{path.name} (rename the model, or use --out or -o)")
    refuse_same_file(path, args.model_file)
    return write_module(model.name, path, source, check=args.check, target=target)


def regenerate_option(model_file: str) -> str:
    """The options that regenerate a model file's module, as its docstring shows them: the path quoted for the
    shell (a space or a quote in a folder's name), so that the line can be pasted as it reads."""
    return f"--model-file {shlex.quote(str(model_file))}"
