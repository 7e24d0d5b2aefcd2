"""Make the two pictures on the README's first screen, from the repository's own outputs, never by hand.

* ``docs/images/two-weight-chain.png``: page 1 of ``docs/derivations/two-weight-chain.tex`` as pdflatex sets it,
  rendered by pdftoppm and cropped to the text (the page number left out);
* ``docs/images/trajectory-chain.png``: the picture ``symgrad trajectory`` draws for the README's example, written
  together with the paths it draws, ``docs/examples/chain-paths.csv`` (the README's ``trajectory --check`` reads it).

Each picture records what it was made from in a PNG text chunk (``symgrad-source``): the SHA-256 of the .tex
file, and the trajectory command with the SHA-256 of its CSV.  ``tests/test_front_door.py`` reads them back and
fails when either is stale, without pdflatex: run this script again after changing a derivation's printing or the
trajectory drawing.

    python scripts/readme_images.py            # needs pdflatex and pdftoppm (texlive, poppler-utils)
    python scripts/readme_images.py --check    # exit 1 naming each stale picture, 0 when both are current
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEX = ROOT / "docs" / "derivations" / "two-weight-chain.tex"
DERIVATION_PNG = ROOT / "docs" / "images" / "two-weight-chain.png"
TRAJECTORY_PNG = ROOT / "docs" / "images" / "trajectory-chain.png"
TRAJECTORY_CSV = ROOT / "docs" / "examples" / "chain-paths.csv"
#: The README's trajectory example, as it is run here (with the files above in place of chain.png, chain.csv).
TRAJECTORY_ARGS = ("trajectory", "--objective", "chain", "--step", "10", "--step", "100")
#: Dots per inch of the derivation's page: 110 makes an A4 text block about 700 pixels wide, sharp on GitHub.
DPI = 110
#: Pixels of white kept around the text when the page is cropped.
PADDING = 24
KEY = "symgrad-source"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def derivation_source() -> str:
    """What the derivation's picture is made from: the .tex file, by its hash."""
    return f"{TEX.relative_to(ROOT)} sha256 {sha256(TEX)}"


def trajectory_source() -> str:
    """What the trajectory picture is made from: the command, and the paths it drew, by the CSV's hash."""
    return f"symgrad {' '.join(TRAJECTORY_ARGS)} -> {TRAJECTORY_CSV.relative_to(ROOT)} sha256 {sha256(TRAJECTORY_CSV)}"


# ---- PNG text chunks ------------------------------------------------------------------------------------
def with_text(png: bytes, key: str, text: str) -> bytes:
    """``png`` with a tEXt chunk ``key: text`` right after its header (any earlier one of that key dropped)."""
    own = key.encode("latin-1") + b"\0"
    chunks = [chunk for chunk in _chunks(png) if not (chunk[0] == b"tEXt" and chunk[1].startswith(own))]
    data = key.encode("latin-1") + b"\0" + text.encode("latin-1")
    chunks.insert(1, (b"tEXt", data))
    return png[:8] + b"".join(_chunk(kind, body) for kind, body in chunks)


def text_of(png: bytes, key: str = KEY) -> str | None:
    """The text of ``png``'s tEXt chunk ``key``, or None."""
    for kind, body in _chunks(png):
        name, _, value = body.partition(b"\0")
        if kind == b"tEXt" and name == key.encode("latin-1"):
            return value.decode("latin-1")
    return None


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    chunks, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset:offset + 4])
        kind = png[offset + 4:offset + 8]
        chunks.append((kind, png[offset + 8:offset + 8 + length]))
        offset += 12 + length
    return chunks


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


# ---- the derivation's page ------------------------------------------------------------------------------
def render_derivation(tex: Path = TEX, target: Path = DERIVATION_PNG, dpi: int = DPI) -> Path:
    """Typeset ``tex`` with pdflatex, render its first page with pdftoppm and crop it to the text."""
    for tool in ("pdflatex", "pdftoppm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install texlive-latex-recommended poppler-utils)")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        unnumbered = "\\pagestyle{empty}\n\\begin{document}"
        document = tex.read_text(encoding="utf-8").replace("\\begin{document}", unnumbered, 1)
        (work / "page.tex").write_text(document, encoding="utf-8")  # the same page, without its number
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "page.tex"], cwd=work, check=True,
                       capture_output=True, timeout=120)
        left, top, right, bottom = _text_box(work / "page.pdf", dpi)
        box = [str(max(left - PADDING, 0)), str(max(top - PADDING, 0)),
               str(right - left + 2 * PADDING), str(bottom - top + 2 * PADDING)]
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile",
                        "-x", box[0], "-y", box[1], "-W", box[2], "-H", box[3], "page.pdf", "page"],
                       cwd=work, check=True, capture_output=True, timeout=120)
        png = (work / "page.png").read_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(with_text(png, KEY, derivation_source()))
    return target


def _text_box(pdf: Path, dpi: int) -> tuple[int, int, int, int]:
    """The box (left, top, right, bottom) in pixels around everything that is not white on page 1."""
    gray = subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(pdf)],
                          check=True, capture_output=True, timeout=120).stdout
    width, height, pixels = _pgm(gray)
    rows = [y for y in range(height) if min(pixels[y * width:(y + 1) * width]) < 250]
    columns = [x for x in range(width) if min(pixels[x::width]) < 250]
    return columns[0], rows[0], columns[-1] + 1, rows[-1] + 1


def _pgm(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the pixel bytes of a binary PGM (P5) image, as pdftoppm -gray writes it."""
    fields, offset = [], 0
    while len(fields) < 4:
        while data[offset:offset + 1].isspace():
            offset += 1
        start = offset
        while not data[offset:offset + 1].isspace():
            offset += 1
        fields.append(data[start:offset])
    if fields[0] != b"P5":
        raise ValueError("pdftoppm -gray did not write a binary PGM")
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[offset + 1:offset + 1 + width * height]


# ---- the trajectory picture -----------------------------------------------------------------------------
def render_trajectory(png: Path = TRAJECTORY_PNG, csv: Path = TRAJECTORY_CSV) -> Path:
    """Run the README's trajectory command, writing the picture and the CSV of its paths, and record both."""
    from symgrad.cli import main

    png.parent.mkdir(parents=True, exist_ok=True)
    csv.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):  # its summary of each path is the command's, not news here
        status = main([*TRAJECTORY_ARGS, "-o", str(png), "--csv", str(csv), "-q"])
    if status != 0:
        raise SystemExit(f"symgrad {' '.join(TRAJECTORY_ARGS)} exited with {status}")
    png.write_bytes(with_text(png.read_bytes(), KEY, trajectory_source()))
    return png


# ---- staleness ------------------------------------------------------------------------------------------
def stale() -> list[str]:
    """Each picture whose recorded source is not what it would be made from now, with why."""
    problems = []
    for picture, expected in ((DERIVATION_PNG, derivation_source), (TRAJECTORY_PNG, trajectory_source)):
        if not picture.is_file():
            problems.append(f"{picture.relative_to(ROOT)}: missing")
            continue
        recorded = text_of(picture.read_bytes())
        if recorded != expected():
            problems.append(f"{picture.relative_to(ROOT)}: made from {recorded!r}, now {expected()!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 naming each stale picture")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale()
        print("\n".join(problems) if problems else "both README pictures are current")
        return 1 if problems else 0
    for made in (render_derivation(), render_trajectory()):
        print(f"wrote {made.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
