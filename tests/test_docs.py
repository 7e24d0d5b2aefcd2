"""docs/derivations/ is what `symgrad derive --all` writes today; this fails when it is stale."""

from __future__ import annotations

from pathlib import Path

from symgrad.commands.derive import write_catalogue

DOCS = Path(__file__).resolve().parent.parent / "docs" / "derivations"


def test_docs_derivations_are_current(tmp_path):
    written = write_catalogue(tmp_path)
    stale = [p.name for p in written if not (DOCS / p.name).is_file() or (DOCS / p.name).read_bytes() != p.read_bytes()]
    assert not stale, f"regenerate with `symgrad derive --all --out-dir docs/derivations`: stale {stale}"
    in_docs = {p.name for p in DOCS.iterdir() if p.suffix in (".md", ".tex")}
    extra = sorted(in_docs - {p.name for p in written} - {"README.md"})
    assert not extra, f"docs/derivations has files symgrad no longer writes: {extra}"
