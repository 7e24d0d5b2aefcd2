"""HTML reports without a browser: a hostile key runs nothing (each attack on its own), math is MathML or its
LaTeX in a code box (never dropped), each mark sits by its formula and row, and the derivation's page."""

from __future__ import annotations

import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from symgrad.check import html, many, outcome
from symgrad.check.checker import Verdict
from symgrad.commands import check as command
from symgrad.errors import UsageError
from symgrad.rendering.render import render
from symgrad.rendering.webpage import markdown_parser, math

KEYS = Path(__file__).parent / "keys"
SIGMOID = (KEYS / "sigmoid.md").read_text()
CLAIM = "\n\n$$ s'(\\gamma) = s(\\gamma)(1 - s(\\gamma)) $$\n"

#: Every element a report may hold: its own HTML and MathML; anything else came from a key.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "section", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "p",
    "a", "span", "code", "pre", "ol", "ul", "li", "strong", "em", "div", "table", "thead", "tbody", "tr", "th",
    "td", "blockquote", "hr", "br",
    "math", "mrow", "mi", "mn", "mo", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac", "msqrt", "mroot",
    "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom",
}


class _Elements(HTMLParser):
    """Every element of a page as a browser's parser sees it: its tag and attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def elements(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(page)
    return parser.elements


def assert_inert(page: str) -> None:
    """Nothing in the page can run or fetch: only the report's own elements, no event handler, no script or
    data link, nothing loaded from anywhere, and the policy that forbids both."""
    found = elements(page)
    assert {tag for tag, _ in found} <= ALLOWED_TAGS, {tag for tag, _ in found} - ALLOWED_TAGS
    for tag, attributes in found:
        assert not [name for name in attributes if name.startswith("on")], (tag, attributes)
        assert "src" not in attributes and "style" not in attributes, (tag, attributes)
        href = attributes.get("href")
        assert href is None or href.startswith(("#", "https://", "http://", "mailto:")), href
    assert sum(1 for tag, _ in found if tag == "style") == 1
    policy = [a["content"] for tag, a in found if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert policy == ["default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"]


def report_of(text: str, name: str = "key.md") -> str:
    """The HTML report of one key, judged here."""
    return html.report([many.judge_text(text, name, many.Settings(html=True))])


HOSTILE = {
    "script element": ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    "onerror attribute": ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
    "raw html block": ('<div onclick="alert(1)">click</div>', "&lt;div onclick="),
    "inline raw html": ("Some <b onmouseover=alert(1)>bold</b> <svg onload=alert(1)>", "&lt;svg onload"),
    "javascript link": ("[click](javascript:alert(1))", "[click](javascript:alert(1))"),
    "javascript autolink": ("<javascript:alert(1)>", "&lt;javascript:alert(1)&gt;"),
    "entity-encoded javascript link": ("[click](jav&#x61;script:alert(1))", "[click](javascript:alert(1))"),
    "data link": ("[click](data:text/html,hi)", "[click](data:text/html,hi)"),
    "image fetched from the network": ("![pixel](http://tracker.example/p.png)",
                                       "[image: pixel <code>http://tracker.example/p.png</code>]"),
    "script in the math's text": (r"$s(\gamma) = \text{<script>alert(1)</script>}$",
                                  r"\text{&lt;script&gt;alert(1)&lt;/script&gt;}</code>"),
    "link in the math": (r"$\href{javascript:alert(1)}{s} = 1$", r"\href{javascript:alert(1)}{s} = 1</code>"),
    "attribute in the math": (r'$\color{red" onload="alert(1)}{s} = 1$', "\\color{red&quot; onload=&quot;"),
}


@pytest.mark.parametrize(("attack", "shown"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_key_is_shown_as_text_and_runs_nothing(attack, shown):
    page = report_of(f"# Quiz\n\n{attack}\n{CLAIM}")
    assert_inert(page)
    assert shown in page  # the reader sees what the key holds, as text


def test_a_hostile_file_name_is_escaped_everywhere():
    name = '"><script>alert(1)</script><img src=x onerror=alert(2)>.md'
    results = [many.judge_text(SIGMOID, name, many.Settings(html=True)),
               outcome.KeyResult("other.md", 2, error=f"{name}: <b>bad</b>")]
    page = html.report(results)
    assert_inert(page)
    assert page.count("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # the title, the index, the section
    assert "error: " + "&lt;b&gt;bad&lt;/b&gt;" in page.replace(html.escape(name) + ": ", "")


def test_math_is_mathml_or_its_latex_in_a_code_box_never_dropped():
    assert "<mfrac>" in math(r"\frac{a}{b}") and math(r"\frac{a}{b}").startswith("<math")
    rows = math(r"\begin{aligned} a &= b \\ &= c \end{aligned}", display=True)
    assert "<mtable" in rows and "&amp;" not in rows  # aligned is laid out as rows, not shown as '&'
    for latex in (r"\fracc{a}{b}", "{" * 3000 + "x" + "}" * 3000, r"\text{a < b}", r"x \nonexistent y"):
        shown = math(latex)
        assert shown.startswith('<code class="latex"') and html.escape(latex)[:200] in shown


def test_each_mark_is_beside_its_formula_and_each_row_of_a_display():
    key = ("# Logistic regression with a bias\n\n"
           r"Two claims: $\frac{\partial L}{\partial z} = \sigma(z) - y$ and "
           r"$\frac{\partial L}{\partial b} = y - \sigma(z)$."
           "\n\n\\begin{align*}\n"
           r"\frac{\partial L}{\partial w_j} &= x_j(\sigma(z) - y) \\" "\n"
           r"\frac{\partial L}{\partial b} &= \sigma(z) - y" "\n"
           "\\end{align*}\n")
    page = report_of(key)
    assert_inert(page)
    good, bad = page.index('data-line="3" data-verdict="correct"'), page.index('data-line="3" data-verdict="wrong"')
    first_math = page.index("<math", page.index("Two claims"))
    assert first_math < good < page.index("<math", good) < bad  # formula ✓ formula ✗, in the line's order
    note = page.index('<li id="key-1-v2" class="wrong" data-line="3">')
    assert bad < note < page.index('<span class="row" data-line="6">')  # after its paragraph, before the display
    assert "expected: <math" in page[note:] and "the claim gives" in page[note:]
    for line in (6, 7):  # each row of the display holds its own mark, and only its own
        start = page.index(f'<span class="row" data-line="{line}">')
        following = page.find('<span class="row"', start + 1)
        row = page[start : following if following > 0 else page.index("</section>", start)]
        assert row.count('class="mark ') == 1 and f'data-line="{line}" data-verdict="correct"' in row
    assert 'class="latex' not in page  # every formula typeset


def test_a_verdict_no_formula_shows_still_gets_its_note_with_its_formula():
    verdicts = [Verdict(1, "a = b", "wrong", "planted", expected="c"), Verdict(99, "d = e", "unrecognized", "past")]
    result = outcome.KeyResult("k.md", 1, verdicts, text="# Title\n\nProse.\n")
    page = html.report([result])
    heading = page.index("<h3>Title</h3>")
    assert heading < page.index('<li id="key-1-v1" class="wrong" data-line="1">') < page.index("<p>Prose.</p>")
    assert page.index("<p>Prose.</p>") < page.index('<li id="key-1-v2" class="unrecognized" data-line="99">')
    assert page.count("formula: <math") == 2


def test_a_key_too_slow_to_lay_out_is_shown_as_written_with_every_note(monkeypatch):
    monkeypatch.setattr(html, "RENDER_SECONDS", 1e-6)
    page = report_of("# <b>Quiz</b>\n" + CLAIM)
    assert_inert(page)
    assert "<pre># &lt;b&gt;Quiz&lt;/b&gt;" in page and '<li id="key-1-v1" class="correct"' in page


def test_a_key_the_renderer_fails_on_is_shown_as_written_with_every_note(monkeypatch):
    def broken(result, anchor):
        raise RecursionError("deep")

    monkeypatch.setattr(html, "_key_html", broken)
    page = report_of("# <b>Quiz</b>\n" + CLAIM)
    assert "could not be laid out" in page and "<pre># &lt;b&gt;Quiz&lt;/b&gt;" in page
    assert '<li id="key-1-v1" class="correct"' in page


def test_the_index_links_each_key_and_its_first_wrong_line():
    wrong = SIGMOID.replace(r"&= s(\gamma)(1 - s(\gamma))", r"&= s(\gamma)(1 + s(\gamma))")
    results = [many.judge_text(text, name, many.Settings(html=True)) for name, text in (("a.md", SIGMOID),
                                                                                         ("b.md", wrong))]
    results.append(outcome.KeyResult("c.md", 2, error="c.md is empty"))
    page = html.report(results)
    assert '<td><a href="#key-1">a.md</a></td><td>6</td><td>0</td><td>0</td><td>–</td>' in page
    assert '<td><a href="#key-2">b.md</a></td><td>5</td><td>1</td><td>0</td><td><a href="#key-2-v6">line 9</a>' \
           in page
    assert '<li id="key-2-v6" class="wrong" data-line="9">' in page
    assert '<section class="key" id="key-3">\n<h2>c.md</h2>\n<p class="error">error: c.md is empty</p>' in page


def test_markdown_math_rules_read_a_paragraph_of_unclosed_openers_in_linear_time():
    parser = markdown_parser()
    started = time.monotonic()
    parser.render("x " + r"\( a " * 40_000 + "\n\n" + r"\begin{align} b " * 20_000)
    assert time.monotonic() - started < 10


def test_a_dollar_amount_is_no_formula():
    assert "<math" not in markdown_parser().render("It costs $5 and $10.")


def test_html_without_its_libraries_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(command, "HTML_LIBRARIES", ("symgrad_no_such_library",))
    with pytest.raises(UsageError, match=r"pip install 'symgrad\[html\]'"):
        command._need_html_libraries()


def test_a_derivation_as_a_web_page_has_every_equation_as_math(derived, tmp_path):
    derivation = derived("two-weight-chain")
    page = render(derivation, "html")
    assert_inert(page)
    assert f"<title>{html.escape(derivation.title)}</title>" in page and 'class="latex' not in page
    equations = sum(len(step.equations) for step in derivation.steps)
    assert page.count('<math display="block"') == equations and page.count("<mtable") >= equations
    out = tmp_path / "sigmoid.html"
    completed = subprocess.run([sys.executable, "-m", "symgrad", "derive", "sigmoid", "-o", str(out)],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert out.read_text().startswith("<!DOCTYPE html>") and "<math" in out.read_text()
