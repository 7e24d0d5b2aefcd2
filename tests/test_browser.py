"""The HTML reports read in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright.

What a reader sees: every formula drawn as MathML (no LaTeX left where a formula is), each ✓ / ✗ beside its
formula or its row of a display, the summary's links landing on their key, and nothing run or fetched from a
hostile key (dialogs, console errors, page errors and requests are all listened for, once with the page's
Content-Security-Policy bypassed, so that the escaping alone is what is tested).  Screenshots are saved in
tests/artifacts/ (or $SYMGRAD_ARTIFACTS), which git ignores.

Skipped, with the reason, where Chromium or Playwright is missing, unless SYMGRAD_REQUIRE_BROWSER is set
(.ci/run sets it: CI installs both).  Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
#: As root (CI), Chromium needs --no-sandbox; the rest keep it off this machine's closed network.
ARGUMENTS = ["--no-sandbox", "--disable-gpu", "--headless", "--disable-dev-shm-usage", "--no-first-run",
             "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("SYMGRAD_ARTIFACTS") or Path(__file__).parent / "artifacts")
KEYS = Path(__file__).parent / "keys"

#: A key with two claims on line 3 (✓ then ✗) and a display whose rows 6 and 7 are each ✓.
BOB = ("# Logistic regression with a bias\n\n"
       r"Two claims: $\frac{\partial L}{\partial z} = \sigma(z) - y$ and "
       r"$\frac{\partial L}{\partial b} = y - \sigma(z)$." "\n\n"
       "\\begin{align*}\n"
       r"\frac{\partial L}{\partial w_j} &= x_j(\sigma(z) - y) \\" "\n"
       r"\frac{\partial L}{\partial b} &= \sigma(z) - y" "\n"
       "\\end{align*}\n")
#: Every way a key might try to run something in its reader's browser, and one real claim.
MALLORY = """# Hostile <script>alert("heading")</script>

<script>alert("script")</script>

<img src=x onerror=alert("img")>

<div onclick="alert('div')" onmouseover="alert('div')">raw block</div>

A [link](javascript:alert('link')), <javascript:alert('auto')>, [entity](jav&#x61;script:alert('entity')),
[data](data:text/html,<script>alert('data')</script>), <b onmouseover=alert('b')>bold</b>, <svg onload=alert('svg')>
and ![pixel](http://127.0.0.1:9/pixel.png).

Math: $s(\\gamma) = \\text{<script>alert('math')</script>}$ and $\\href{javascript:alert('href')}{s} = 1$.

$$ s'(\\gamma) = s(\\gamma)(1 - s(\\gamma)) $$
"""
HOSTILE_NAME = "<img src=x onerror=alert('name')>.md"


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason is not None:
        if os.environ.get("SYMGRAD_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGUMENTS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """The report of a class's folder (good, wrong, hostile and unreadable keys) and a derivation's page,
    written by the command line as a teacher would."""
    root = tmp_path_factory.mktemp("reports")
    folder = root / "submissions"
    folder.mkdir()
    (folder / "alice.md").write_text((KEYS / "sigmoid.md").read_text())
    (folder / "bob.md").write_text(BOB)
    (folder / "carol.md").write_bytes(b"\xff\xfe binary")
    (folder / "mallory.md").write_text(MALLORY)
    (folder / HOSTILE_NAME).write_text(MALLORY)
    report, derivation = root / "report.html", root / "derivation.html"
    for command in (["check", str(folder), "--format", "html", "-o", str(report)],
                    ["derive", "two-weight-chain", "-o", str(derivation)]):
        completed = subprocess.run([sys.executable, "-m", "symgrad", *command], capture_output=True, text=True,
                                   timeout=300)
        assert completed.returncode in (0, 2), completed.stderr
    return {"report": report, "derivation": derivation}


def _artifact(name: str) -> Path:
    """Where a screenshot goes: a folder git ignores (it says so itself)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return ARTIFACTS / name


def _section(page, file_name: str):
    """The section of the key named ``file_name`` (its heading ends with it)."""
    return page.locator("section.key").filter(has=page.locator("h2", has_text=file_name))


#: Whether each formula in ``root`` is drawn by the browser's MathML layout (and takes up room on the page).
ALL_DRAWN_AS_MATH = """root => Array.from(root.querySelectorAll('math')).every(m =>
    getComputedStyle(m).display.includes('math') && m.getBoundingClientRect().width > 0)"""

#: For each mark in ``root``: its line, its sign, and whether it sits just right of its formula, on its level.
MARK_PLACES = """root => Array.from(root.querySelectorAll('.key-text .mark[data-line]')).map(mark => {
    const row = mark.closest('.row');
    const marks = mark.closest('.marks');
    const formula = row ? row.querySelector('.rhs math, .whole math') : marks.previousElementSibling;
    const f = formula.getBoundingClientRect(), m = mark.getBoundingClientRect();
    const middle = (m.top + m.bottom) / 2;
    return {line: Number(mark.dataset.line), sign: mark.textContent, tag: formula.tagName.toLowerCase(),
            level: middle > f.top && middle < f.bottom, right: m.left >= f.right - 1 && m.left - f.right < 80,
            row: row ? Number(row.dataset.line) : null};
})"""


def test_a_teacher_reads_every_formula_as_math_each_mark_by_its_line_and_follows_the_summary(browser, pages):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(pages["report"].as_uri())
    for name in ("alice.md", "bob.md"):
        section = _section(page, name)
        assert section.locator("math").count() >= 4 and section.locator("code.latex").count() == 0
        assert section.evaluate(ALL_DRAWN_AS_MATH)
        text = section.inner_text()
        assert not any(raw in text for raw in ("\\frac", "\\partial", "\\sigma", "\\begin", "$", "\\\\")), text
    marks = _section(page, "bob.md").evaluate(MARK_PLACES)
    assert [(m["line"], m["sign"]) for m in marks] == [(3, "✓"), (3, "✗"), (6, "✓"), (7, "✓")]
    assert all(m["tag"] == "math" and m["level"] and m["right"] for m in marks), marks
    assert [m["row"] for m in marks] == [None, None, 6, 7]
    page.screenshot(path=str(_artifact("check-report.png")), full_page=True)

    links = page.locator("#summary tbody td:first-child a")
    assert links.count() == 5
    for index in range(links.count()):
        link = links.nth(index)
        name, target = link.inner_text(), link.get_attribute("href")
        link.click()
        assert page.evaluate("location.hash") == target
        landed = page.locator(target)
        assert landed.locator("h2").inner_text() == name
        assert landed.evaluate("e => e.getBoundingClientRect().top > -2 && "  # scrolled to, its heading in view
                               "e.getBoundingClientRect().top < innerHeight - 60")
    first_wrong = page.locator("#summary a", has_text="line 3")
    first_wrong.click()
    note = page.locator(first_wrong.get_attribute("href"))
    assert note.get_attribute("data-line") == "3" and "sign error" in note.inner_text() and note.is_visible()
    assert errors == []
    page.close()


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["as-written", "policy-bypassed"])
def test_nothing_from_a_hostile_key_runs_or_loads(browser, pages, bypass_csp):
    context = browser.new_context(bypass_csp=bypass_csp)
    page = context.new_page()
    happened: list[str] = []
    page.on("dialog", lambda dialog: (happened.append(f"dialog {dialog.message}"), dialog.dismiss()))
    page.on("pageerror", lambda error: happened.append(f"page error {error}"))
    page.on("console", lambda message: happened.append(f"console {message.type} {message.text}"))
    page.on("request", lambda request: happened.append(f"request {request.url}")
            if request.url != pages["report"].as_uri() else None)
    page.goto(pages["report"].as_uri())
    for name in ("mallory.md", HOSTILE_NAME):
        section = _section(page, name)
        for element in section.locator(".key-text *").all():  # every handler a key could plant is offered
            element.hover(force=True, timeout=2_000)
        for link in section.locator(".key-text a").all():
            link.click(timeout=2_000)
        assert "<script>alert(\"script\")</script>" in section.inner_text()  # shown, as text
    page.wait_for_timeout(300)
    assert page.evaluate("document.querySelectorAll('script, iframe, object, embed, img, svg').length") == 0
    assert page.evaluate("Array.from(document.querySelectorAll('*')).flatMap(e => e.getAttributeNames())"
                         ".filter(n => n.startsWith('on')).length") == 0
    assert happened == []
    context.close()


def test_a_derivation_page_draws_every_equation_as_math(browser, pages):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(pages["derivation"].as_uri())
    assert page.locator("code.latex").count() == 0
    assert page.locator('math[display="block"]').count() >= 9 and page.locator("mtr").count() >= 20
    assert page.evaluate(f"({ALL_DRAWN_AS_MATH})(document)")
    assert "\\frac" not in page.inner_text("body") and "$$" not in page.inner_text("body")
    assert page.locator("h2").first.inner_text().startswith("1.")
    shot = _artifact("derivation.png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")
    page.close()
