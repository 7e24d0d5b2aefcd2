"""``symgrad list``: every model and variant with one line of description."""

from __future__ import annotations

import argparse

from ..models import CATALOGUE


def configure(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    rows = []
    for entry in CATALOGUE.values():
        rows.append((entry.name, entry.summary))
        for variant, options in entry.variants.items():
            rows.append((variant, f"{entry.name} with " + ", ".join(f"{k} {v}" for k, v in options.items())))
    width = max(len(name) for name, _ in rows)
    for name, summary in rows:
        print(f"{name:<{width}}  {summary}")
    return 0
