'''Text from a model (its description, its model file's path, its names) printed into a generated module.

A generated module is Python that a teacher imports, often from a colleague's or a student's model file,
so whatever the model supplies must stay text.  It lands in docstrings, where a backslash starts an
escape (``\\N{``, ``\\x``: a module that does not compile) and three quotes end the string (what follows
would be code, run on import); and in comments, which a line break ends.  The template passes every such
piece through a filter from here (``docstring``, ``comment``); both leave ordinary text as it is, so the
catalogue's modules read as before.  :func:`~symgrad.codegen.pipeline.derivation_source` then compiles
each module and checks that its docstring still holds the description, so an escape missed here is
refused rather than written.
'''

from __future__ import annotations

import ast


def docstring_text(text: str) -> str:
    """``text`` written for the inside of a (non-raw) triple-quoted string, where it reads back as itself.

    Backslashes are doubled, so no escape sequence can form.  A quote next to another quote, or at either
    end of ``text`` (where the template's own quotes may follow), is escaped, so no run of three can form.
    A character that is not printable is written as its escape: a NUL (no source may hold one), a carriage
    return (the tokenizer would read a newline), line and paragraph separators, bidirectional controls that
    make a line display other than it reads.  Newlines and tabs stay: a docstring holds lines.
    """
    last = len(text) - 1
    pieces = []
    for position, char in enumerate(text):
        if char == "\\":
            pieces.append("\\\\")
        elif char == '"' and (position in (0, last) or '"' in (text[position - 1], text[position + 1])):
            pieces.append('\\"')
        elif char in "\n\t" or char.isprintable():
            pieces.append(char)
        else:
            pieces.append(_escape(char))
    return "".join(pieces)


def comment_text(text: str) -> str:
    """``text`` for a ``#`` comment: one line, every character that is not printable (a line break above all,
    which would end the comment and start code) written as its escape."""
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _escape(char: str) -> str:
    """Python's escape for one character: ``\\x00``, ``\\r``, ``\\u2028``, ``\\udcff`` (a lone surrogate
    from an undecodable file name, which UTF-8 cannot encode as it is)."""
    return char.encode("unicode_escape").decode("ascii")


def docstring_holds(source: str, texts: list[str]) -> bool:
    """Whether the module docstring of ``source`` (which compiles) holds each of ``texts``, whitespace aside.

    The template wraps the description's lines, which changes only whitespace.  Text that had broken out of
    the docstring would be missing from it: the docstring ends where the text escaped.
    """
    docstring = ast.get_docstring(ast.parse(source)) or ""
    flat = "".join(docstring.split())
    return all("".join(text.split()) in flat for text in texts)
