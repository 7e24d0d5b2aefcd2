"""Self-contained HTML pages with typeset math, for the reports of ``check`` and ``derive``.

A page is one file: its style inline, no script, no font or image from the network, so that it opens the same
on a laptop offline, from an e-mail or from a course's shared drive, and its Content-Security-Policy forbids
every script and every request as a second line of defence.

* **Math** is converted on the way out from LaTeX to MathML with ``latex2mathml`` (every current browser draws
  MathML itself).  The MathML is not trusted either: latex2mathml copies ``\\text{…}`` and unknown commands
  into its output as they are, so it is parsed, checked against the MathML elements and attributes a formula
  needs, and written out again escaped.  A formula that cannot be converted (or that would come out with a
  LaTeX command as text) is shown as its LaTeX source in a code box, never dropped.
* **Prose** is Markdown rendered by ``markdown-it-py`` with raw HTML off (a ``<script>`` in a key is text),
  links checked (only ``http``, ``https``, ``mailto`` and in-page ``#`` links are links; ``javascript:`` is
  text) and images shown as their description and address, never fetched.  The math in it is found by
  ``mdit-py-plugins``' ``dollarmath`` and ``amsmath`` plugins and a rule of this module for ``\\(…\\)``,
  ``\\[…\\]`` and the environments inside a paragraph, the containers ``symgrad check`` reads.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Sequence
from typing import Any

from symgrad import __version__
from symgrad.errors import UsageError

MATHML = "{http://www.w3.org/1998/Math/MathML}"
#: The longest formula typeset; a longer one is shown as its source (latex2mathml's time grows with it).
MAX_MATH_CHARACTERS = 20_000

#: The MathML a formula may hold (MathML Core and the presentation elements latex2mathml writes).
_ELEMENTS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac", "msqrt",
    "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mlabeledtr", "mstyle", "mpadded",
    "mphantom", "menclose", "merror", "mmultiscripts", "mprescripts", "none", "semantics", "mfenced",
})
_ATTRIBUTES = frozenset({
    "display", "mathvariant", "stretchy", "accent", "accentunder", "fence", "separator", "separators", "lspace",
    "rspace", "linebreak", "width", "height", "depth", "columnalign", "columnspacing", "rowspacing",
    "columnlines", "rowlines", "displaystyle", "scriptlevel", "minsize", "maxsize", "movablelimits", "symmetric",
    "largeop", "form", "notation", "frame", "framespacing", "equalrows", "equalcolumns", "mathsize",
    "linethickness", "mathcolor", "mathbackground", "open", "close", "align", "rowalign", "columnspan", "rowspan",
})
#: An attribute's value: sizes, names, colours.  No quote, colon or parenthesis: no URL, no script, no CSS.
_ATTRIBUTE_VALUE = re.compile(r"[A-Za-z0-9 .#%+\-]{0,64}")

#: Environments latex2mathml lays out as rows only when written as ``align*`` (it reads ``aligned`` as text).
_ROW_ENVIRONMENTS = re.compile(r"\\(begin|end)\{(?:aligned|align|split|gathered|gather|multline|eqnarray|alignat)"
                               r"\*?\}(?:\{\d*\})?")
_EQUATION_ENVIRONMENT = re.compile(r"\\(?:begin|end)\{equation\*?\}")
_NUMBERING = re.compile(r"\\(?:nonumber|notag)(?![A-Za-z])|\\(?:label|tag\*?)\{[^{}]*\}")
_ROW_BREAK = re.compile(r"\\\\")
#: Functions latex2mathml writes as a bare identifier, run into their neighbours ("y ln h" as "ylnh").
_FUNCTION_NAMES = re.compile(r"\\(ln|log|exp|tanh|sinh|cosh|sin|cos|tan|max|min|arg|det|sgn)(?![A-Za-z])")


def _library(name: str) -> Any:
    """One of the libraries of the ``html`` extra, or a one-line error that says how to install them."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise UsageError(f"HTML reports need {name.split('.')[0]} (markdown-it-py, mdit-py-plugins, latex2mathml); "
                         "install them with: pip install 'symgrad[html]'") from None


# ---- math -----------------------------------------------------------------------------------------------
def math(latex: str, display: bool = False, style: bool = False) -> str:
    """``latex`` as MathML, or as its source in a code box when it cannot be typeset safely.  ``display``
    sets it apart as a block; ``style`` gives it a display's style (full-size fractions) in the line."""
    mathml = to_mathml(latex, display, style)
    if mathml is not None:
        return mathml
    return f'<code class="latex{" display" if display else ""}" title="not typeset: shown as written">' \
           f"{escape(latex.strip())}</code>"


def to_mathml(latex: str, display: bool = False, style: bool = False) -> str | None:
    """``latex`` as checked, re-escaped MathML; None when latex2mathml fails or writes what is not math."""
    convert = _library("latex2mathml.converter").convert
    source = _for_mathml(latex)
    if not source.strip() or len(source) > MAX_MATH_CHARACTERS:
        return None
    try:
        root = ElementTree.fromstring(convert(source, display="block" if display else "inline"))
        if not _is_math(root):
            return None
        if style:
            root.set("displaystyle", "true")
        return _serialize(root)
    except Exception:  # noqa: BLE001 - any LaTeX may come from a key: RecursionError, parse errors alike
        return None


def _for_mathml(latex: str) -> str:
    """The LaTeX rewritten into what latex2mathml lays out: rows of any amsmath environment as ``align*``
    (without numbers: a report's formulas are not the document's), and rows outside any environment too;
    ``\\ln`` and its kind as operators, spaced from what they apply to."""
    latex = _NUMBERING.sub(" ", latex)
    latex = _FUNCTION_NAMES.sub(r"\\operatorname{\1}", latex)
    latex = _EQUATION_ENVIRONMENT.sub(" ", latex)
    latex = _ROW_ENVIRONMENTS.sub(lambda m: f"\\{m.group(1)}{{align*}}", latex)
    if _ROW_BREAK.search(latex) and "\\begin{" not in latex:
        latex = f"\\begin{{align*}}{latex}\\end{{align*}}"
    return latex


def _is_math(element: ElementTree.Element) -> bool:
    """Whether the tree is MathML a formula may hold: known elements and attributes with plain values, and no
    LaTeX command left as text (latex2mathml writes a command it does not know as an identifier)."""
    for node in element.iter():
        tag = node.tag.removeprefix(MATHML) if isinstance(node.tag, str) else ""
        if tag not in _ELEMENTS:
            return False
        for name, value in node.attrib.items():
            if name not in _ATTRIBUTES or not _ATTRIBUTE_VALUE.fullmatch(value):
                return False
        if "\\" in (node.text or "") or "\\" in (node.tail or ""):
            return False
    return True


def _serialize(element: ElementTree.Element) -> str:
    """The checked tree as HTML, every text and value escaped (``ElementTree.tostring`` would write namespace
    prefixes, which HTML does not read)."""
    tag = element.tag.removeprefix(MATHML)
    attributes = "".join(f' {name}="{escape(value)}"' for name, value in sorted(element.attrib.items()))
    inner = escape(element.text or "") + "".join(_serialize(child) + escape(child.tail or "") for child in element)
    return f"<{tag}{attributes}>{inner}</{tag}>"


# ---- Markdown -------------------------------------------------------------------------------------------
#: What renders a math token: its LaTeX, whether it is a display, and the token (whose ``meta`` a report uses).
MathRule = Callable[[str, bool, Any], str]

#: Where math opens inside a paragraph that dollarmath does not read: \(…\), \[…\] and amsmath environments.
_OPENER = re.compile(r"\\\(|\\\[|\\begin\{(?P<name>align|aligned|equation|gather|eqnarray|multline)(?P<star>\*?)\}")
_CLOSERS = {"\\(": "\\)", "\\[": "\\]"}
#: Link addresses a report may hold; anything else (javascript:, data:, file:, vbscript:) is shown as text.
_SAFE_LINK = re.compile(r"(?:https?://|mailto:|#)[^\s<>\"'`\\]*", re.IGNORECASE)
#: Every token type that holds math, from the plugins and from :func:`_latex_in_paragraph`.
MATH_TOKENS = ("math_inline", "math_inline_double", "math_block", "math_block_label", "amsmath", "math_latex")


def markdown_parser(render_math: MathRule | None = None) -> Any:
    """A Markdown parser for hostile text: CommonMark without raw HTML, links checked, images not fetched, and
    math rendered by ``render_math`` (default: :func:`math`)."""
    markdown_it = _library("markdown_it")
    amsmath_plugin = _library("mdit_py_plugins.amsmath").amsmath_plugin
    dollarmath_plugin = _library("mdit_py_plugins.dollarmath").dollarmath_plugin
    parser = markdown_it.MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.use(dollarmath_plugin, allow_space=True, allow_digits=False, double_inline=True, allow_labels=False)
    parser.use(amsmath_plugin)
    parser.inline.ruler.before("escape", "math_latex", _latex_in_paragraph)
    parser.validateLink = lambda url: _SAFE_LINK.fullmatch(url.strip()) is not None
    rule = render_math or (lambda latex, display, token: math(latex, display))
    for name in MATH_TOKENS:
        parser.add_render_rule(name, _math_renderer(rule))
    parser.add_render_rule("image", _image_as_text)
    parser.add_render_rule("link_open", _link_open)
    return parser


def math_source(token: Any) -> tuple[str, bool]:
    """A math token's LaTeX and whether it is a display."""
    display = token.type in ("math_block", "math_block_label", "amsmath", "math_inline_double") or \
        bool(token.meta.get("display"))
    return token.content, display


def _math_renderer(rule: MathRule) -> Callable[..., str]:
    def render(renderer: Any, tokens: Sequence[Any], index: int, options: Any, env: Any) -> str:
        latex, display = math_source(tokens[index])
        return rule(latex, display, tokens[index])
    return render


def _latex_in_paragraph(state: Any, silent: bool) -> bool:
    """The inline rule for ``\\(…\\)``, ``\\[…\\]`` and ``\\begin{align}…\\end{align}`` inside a paragraph,
    which a key writes as LaTeX does (dollarmath reads only dollars; a Markdown escape would eat ``\\(``)."""
    opening = _OPENER.match(state.src, state.pos, state.posMax) if state.src.startswith("\\", state.pos) else None
    if opening is None:
        return False
    closer = _CLOSERS.get(opening.group()) or f"\\end{{{opening.group('name')}{opening.group('star')}}}"
    end = _next(state, closer, opening.end())
    if end < 0 or end + len(closer) > state.posMax:
        return False
    if not silent:
        token = state.push("math_latex", "math", 0)
        token.markup = opening.group() if opening.group("name") is None else ""
        token.content = state.src[opening.end():end] if token.markup else state.src[state.pos:end + len(closer)]
        token.meta = {"display": token.markup != "\\("}
    state.pos = end + len(closer)
    return True


def _next(state: Any, closer: str, start: int) -> int:
    """Where ``closer`` next occurs in the paragraph from ``start`` (-1: nowhere).  Remembered per paragraph, so
    that a paragraph of a million unclosed ``\\(`` is read once, not once for each of them."""
    memo = state.env.setdefault("symgrad_closers", {})
    searched_from, found = memo.get((closer, state.src), (None, -1))
    if searched_from is None or start < searched_from or 0 <= found < start:
        searched_from, found = start, state.src.find(closer, start)
        memo[(closer, state.src)] = (searched_from, found)
    return found


def _image_as_text(renderer: Any, tokens: Sequence[Any], index: int, options: Any, env: Any) -> str:
    """An image as its description and address: a report fetches nothing (a tracking pixel, a local file)."""
    token = tokens[index]
    description = "".join(child.content for child in token.children or [])
    return f'<span class="image">[image: {escape(description)} <code>{escape(token.attrGet("src") or "")}' \
           f"</code>]</span>"


def _link_open(renderer: Any, tokens: Sequence[Any], index: int, options: Any, env: Any) -> str:
    """A link that tells the browser not to pass on the report's address or a handle to its window."""
    tokens[index].attrSet("rel", "noopener noreferrer nofollow")
    return renderer.renderToken(tokens, index, options, env)


def markdown_page(title: str, markdown: str) -> str:
    """A whole page of ``markdown`` with its math typeset: how ``symgrad derive MODEL --format html`` shows a
    derivation (its Markdown, the same steps and notation as ``--format markdown``)."""
    body = markdown_parser().render(markdown)
    return page(title, f'<section class="derivation">\n{body}</section>')


# ---- the page -------------------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Text for HTML content or an attribute value (quotes too)."""
    return html.escape(text, quote=True)


#: No script may run, nothing may be fetched: the page needs neither (its style is inline).
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

STYLE = """
:root { color-scheme: light; --ok: #1a7f37; --bad: #cf222e; --unsure: #9a6700; --line: #d0d7de; }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       max-width: 62rem; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.35rem; margin-top: 2.5rem; } h3, h4, h5, h6 { font-size: 1.1rem; }
section.key, section.derivation { border-top: 3px solid var(--line); margin-top: 2.5rem; }
.key-text { overflow-wrap: anywhere; }
math[display="block"] { margin: .6rem 0; overflow-x: auto; overflow-y: hidden; }
mtd[columnalign="right"] { text-align: right; } mtd[columnalign="left"] { text-align: left; }
mtd { padding: .15em 0; }
code, pre { font: 0.9em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code.latex { background: #fff8c5; border: 1px dashed var(--unsure); padding: 0 .25em; white-space: pre-wrap; }
code.latex.display { display: block; padding: .4em; margin: .5em 0; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; }
.marks { white-space: nowrap; margin-left: .2em; }
.display { display: table; margin: .6rem auto; border-spacing: 0 .25rem; }
.display .row { display: table-row; }
.display .cell { display: table-cell; vertical-align: middle; padding: 0 .15rem; }
.display .lhs { text-align: right; } .display .rhs, .display .whole { text-align: left; }
.display .marks-cell { padding-left: .8rem; }
.mark { font-weight: 700; text-decoration: none; padding: 0 .15em; }
.mark.correct { color: var(--ok); } .mark.wrong { color: var(--bad); } .mark.unrecognized { color: var(--unsure); }
ol.notes { list-style: none; margin: .4rem 0 1rem; padding: 0; }
ol.notes li { border-left: 4px solid var(--unsure); background: #fffbea; margin: .35rem 0; padding: .35rem .7rem; }
ol.notes li.wrong { border-color: var(--bad); background: #fff1f0; }
ol.notes li:target { outline: 2px solid #0969da; }
.note-detail { margin-top: .2rem; }
.where { color: #59636e; font-size: .9em; }
table.summary { border-collapse: collapse; margin: 1rem 0; }
table.summary th, table.summary td { border: 1px solid var(--line); padding: .3rem .6rem; text-align: right; }
table.summary th:first-child, table.summary td:first-child, table.summary td.error { text-align: left; }
tr.failed td:first-child { border-left: 4px solid var(--bad); }
tr.error td:first-child { border-left: 4px solid var(--unsure); }
p.error { color: var(--bad); font-weight: 600; }
.image code { font-size: .8em; }
footer { margin-top: 3rem; color: #59636e; font-size: .85em; }
@media print { a.mark { color: inherit; } section.key { break-before: page; } }
"""


def page(title: str, body: str) -> str:
    """A whole HTML document around ``body`` (trusted HTML this package made; ``title`` is escaped)."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="symgrad {escape(__version__)}">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n"
        f"<footer>Written by symgrad {escape(__version__)}. Math is MathML; a formula that could not be typeset "
        "is shown as its LaTeX in a yellow box.</footer>\n</body>\n</html>\n"
    )
