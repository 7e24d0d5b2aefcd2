"""Pictures: the requested size and format, not blank, and what a student reads off them.

Runs without a display: MPLBACKEND is forced to Agg before matplotlib loads
(and symgrad draws on an explicit Agg canvas anyway).  Skipped, with the reason
stated, only where matplotlib is not installed; CI installs it with ``.[test]``.
"""

from __future__ import annotations

import os

os.environ["MPLBACKEND"] = "Agg"

import re  # noqa: E402
import struct  # noqa: E402
import xml.etree.ElementTree as ElementTree  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip(
    "matplotlib", reason="the picture tests need matplotlib: pip install 'symgrad[plot]' (CI installs it)"
)

from matplotlib.image import imread  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402

from symgrad.cli import main  # noqa: E402
from symgrad.trajectory import descend, generate, objective, plot, save  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["trajectory", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def assert_not_blank(path: Path) -> None:
    pixels = imread(path)
    colours = np.unique(np.round(pixels[..., :3] * 255).astype(int).reshape(-1, 3), axis=0)
    assert len(colours) > 200, "the picture has almost no colours: blank?"
    not_white = np.any(pixels[..., :3] < 0.95, axis=-1).mean()
    assert not_white > 0.3, f"only {not_white:.0%} of the picture is not white"


def no_leftovers(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]


# ---- files: format, size, content ---------------------------------------------------------------------
@pytest.mark.parametrize(("name", "ascent"), [("bowl", False), ("chain", False), ("bumps", True)])
def test_png_has_the_requested_pixels_and_is_not_blank(capsys, tmp_path, name, ascent):
    target = tmp_path / f"{name}.png"
    args = ["--objective", name, "-o", str(target), "--size", "641x479"] + (["--ascent"] if ascent else [])
    status, out, err = run(capsys, *args)
    assert (status, err) == (0, ""), err
    assert f"wrote {target}" in out
    assert png_size(target) == (641, 479)
    assert_not_blank(target)
    assert no_leftovers(tmp_path)


def test_png_size_in_inches_uses_the_dpi(capsys, tmp_path):
    target = tmp_path / "bowl.png"
    assert run(capsys, "-o", str(target), "--size", "5x4in", "--dpi", "120")[0] == 0
    assert png_size(target) == (5 * 120, 4 * 120)


def test_svg_has_the_requested_size(capsys, tmp_path):
    target = tmp_path / "bowl.svg"
    assert run(capsys, "-o", str(target), "--size", "8x6in")[0] == 0
    root = ElementTree.parse(target).getroot()
    assert root.tag.endswith("svg")
    assert (root.get("width"), root.get("height")) == (f"{8 * 72}pt", f"{6 * 72}pt")  # 72 points per inch
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 50


def test_pdf_has_the_requested_size(capsys, tmp_path):
    target = tmp_path / "chain.pdf"
    assert run(capsys, "--objective", "chain", "-o", str(target), "--size", "900x600")[0] == 0
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    (box,) = set(re.findall(rb"/MediaBox\s*\[\s*([\d.\s]+)\]", data))
    assert [float(v) for v in box.split()] == [0, 0, 900 / 100 * 72, 600 / 100 * 72]


@pytest.mark.parametrize("name", ["out.jpg", "out", "out.PNG.txt"])
def test_an_unknown_picture_suffix_is_a_one_line_error(capsys, tmp_path, name):
    status, _, err = run(capsys, "-o", str(tmp_path / name))
    assert status == 2 and err.count("\n") == 1 and "a picture is .png, .svg or .pdf" in err
    assert not list(tmp_path.iterdir())


def test_a_missing_folder_is_a_one_line_error(capsys, tmp_path):
    status, _, err = run(capsys, "-o", str(tmp_path / "no" / "such.png"))
    assert status == 2 and err.count("\n") == 1 and "does not exist" in err


def test_the_checker_can_draw_the_paths_it_judges(capsys, tmp_path):
    answer = tmp_path / "answer.csv"
    answer.write_text("path,step,x,y\nA,,-2.6,1.6\nA,,-2.4,1.0\nA,,-1.0,0.5\nA,,0,0\n")
    target = tmp_path / "answer.png"
    status, out, _ = run(capsys, "--check", str(answer), "--descent", "--objective", "bowl", "-o", str(target))
    assert status == 1 and "path A: infeasible: step 2" in out
    assert png_size(target) == (800, 650)
    assert_not_blank(target)


def test_drawing_hand_made_paths_with_generated_ones(capsys, tmp_path):
    answer = tmp_path / "answer.csv"
    answer.write_text("# objective: bumps\npath,step,x,y\nA,,-2,2\nA,,-1,1\nA,,0,1\n")
    csv_out = tmp_path / "all.csv"
    status, out, _ = run(
        capsys,
        "--draw",
        str(answer),
        "--ascent",
        "--step",
        "0.3",
        "--start",
        "2,-1",
        "-o",
        str(tmp_path / "all.png"),
        "--csv",
        str(csv_out),
    )
    assert status == 0
    text = csv_out.read_text()
    assert "A,,-2.0,2.0" in text and "\n1,0.3,2.0,-1.0\n" in text and "# objective: bumps" in text


# ---- what the student sees ----------------------------------------------------------------------------------
def test_the_figure_has_labelled_contours_orthogonal_arrows_and_a_legend_of_step_sizes():
    bowl = objective("bowl")
    paths = generate(bowl, [0.05, 0.2], [(-2.6, 1.6)], 20)
    figure = plot(bowl, paths)
    axes = figure.axes[0]
    assert axes.get_aspect() == 1.0  # equal aspect: a right angle in (x, y) is a right angle on paper
    labels = [t.get_text() for t in axes.texts if t.get_text()]  # the arrowheads on the paths are empty annotations
    assert len(labels) >= 8 and all(re.fullmatch(r"-?[\d.e+-]+", t) for t in labels)  # clabel values
    (quiver,) = [c for c in axes.collections if isinstance(c, Quiver)]
    # every arrow points along -grad f (hand-derived) at its base: so it is orthogonal to the contour there
    x, y = quiver.X, quiver.Y
    gradient = np.stack([2 * x + y, x + 8 * y], axis=-1)
    arrows = np.stack([quiver.U, quiver.V], axis=-1)
    cosines = np.einsum("ij,ij->i", arrows, -gradient) / (
        np.linalg.norm(arrows, axis=1) * np.linalg.norm(gradient, axis=1)
    )
    assert len(cosines) > 100 and np.all(cosines > 1 - 1e-9)
    lengths = np.linalg.norm(arrows, axis=1)
    np.testing.assert_allclose(lengths, lengths[0])  # normalised: direction only
    legend = " | ".join(t.get_text() for t in figure.legends[0].get_texts())
    assert "η = 0.05" in legend and "η = 0.2" in legend and "−∇f" in legend
    title = axes.get_title()
    assert "Gradient descent" in title and "bowl" in title


def test_ascent_arrows_point_uphill_and_the_title_says_ascent():
    x_sq = objective("x^2 + 3y^2")
    figure = plot(x_sq, [descend(x_sq, (1.0, 1.0), 0.1, 5, ascent=True)], ascent=True)
    axes = figure.axes[0]
    (quiver,) = [c for c in axes.collections if isinstance(c, Quiver)]
    along = quiver.U * 2 * quiver.X + quiver.V * 6 * quiver.Y
    assert np.all(along[(quiver.X != 0) | (quiver.Y != 0)] > 0)
    assert axes.get_title().startswith("Gradient ascent on $f(x, y) =")


def test_save_writes_each_format(tmp_path):
    figure = plot(objective("bumps"), [], size=(4, 3), dpi=50)
    for suffix, magic in ((".png", PNG_SIGNATURE), (".svg", b"<?xml"), (".pdf", b"%PDF")):
        save(figure, tmp_path / f"bumps{suffix}")
        assert (tmp_path / f"bumps{suffix}").read_bytes().startswith(magic)
    assert png_size(tmp_path / "bumps.png") == (200, 150)
    assert no_leftovers(tmp_path)


def test_a_path_that_stays_at_its_start_is_drawn_as_a_point(capsys, tmp_path):
    """Descent from the bowl's minimum is one point: drawn as its start marker (with --draw too), not refused."""
    bowl = objective("bowl")
    still = descend(bowl, (0.0, 0.0), 0.1, 10)
    figure = plot(bowl, [still])
    drawn = [line for line in figure.axes[0].get_lines() if len(line.get_xdata()) == 1]
    assert drawn and all(tuple(line.get_xydata()[0]) == (0.0, 0.0) for line in drawn)

    paths = tmp_path / "still.csv"
    status, _, _ = run(capsys, "--objective", "bowl", "--start=0,0", "--csv", str(paths), "-o", str(tmp_path / "a.png"))
    assert status == 0
    target = tmp_path / "b.png"
    status, out, err = run(capsys, "--draw", str(paths), "-o", str(target))
    assert (status, err) == (0, "") and f"wrote {target}" in out
    assert png_size(target) == (800, 650)
    assert_not_blank(target)
