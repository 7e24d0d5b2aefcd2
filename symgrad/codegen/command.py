"""``symgrad generate``: write each model's NumPy module into generated/, or check that they are current."""

from __future__ import annotations

import argparse

from .pipeline import DEFAULT_OUT, generatable_names, skipped


def configure(parser: argparse.ArgumentParser) -> None:
    skip = "".join(f"\n  {name}: {reason}" for name, reason in skipped().items())
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # one model per line, names unbroken
    parser.description = (
        "Render the NumPy module of each model (forward, loss, gradient, update)\n"
        f"from its derivation into {DEFAULT_OUT}/<model>.py.\n\nModels without a module:{skip}"
    )
    choices = ", ".join(generatable_names())
    parser.add_argument("models", nargs="*", metavar="MODEL", help=f"one of: {choices} (default: all)")
    parser.add_argument("--out", metavar="DIR", default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument(
        "--check", action="store_true",
        help="write nothing; exit 1 naming each module that is stale or missing, 0 when all are current",
    )


def run(args: argparse.Namespace) -> int:
    from .pipeline import generate  # jinja2 and the derivations load only when a module is wanted

    report = generate(args.models or None, args.out, check=args.check)
    if args.check:
        outdated = [f for f in report if f.status != "current"]
        for file in outdated:
            print(f"{file.status}: {file.path}")
        if not outdated:
            print(f"up to date: {', '.join(str(f.path) for f in report)}")
        return 1 if outdated else 0
    for file in report:
        print(f"{'wrote' if file.status == 'written' else 'unchanged'} {file.path}")
    return 0
