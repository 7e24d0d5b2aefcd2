"""``symgrad list``: every model and variant with one line of description (from the catalogue's contents: no SymPy)."""

from __future__ import annotations

import argparse

from symgrad.catalogue.names import descriptions


def configure(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    rows = list(descriptions().items())
    width = max(len(name) for name, _ in rows)
    for name, summary in rows:
        print(f"{name:<{width}}  {summary}")
    return 0
