"""The formula reader: arithmetic as written, only declared names and library functions, and Python refused."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad.notation.expressions as expressions
from symgrad.model.functions import cross_entropy_loss, quadratic_loss, relu, sigmoid, softplus
from symgrad.notation.expressions import ExpressionError, Scope, parse, tokenize

x, y, w = sp.symbols("x y w_1")
SCOPE = Scope({"x": x, "y": y, "w1": w})


def value(text: str) -> sp.Expr:
    return sp.simplify(parse(text, SCOPE).doit())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2*3^2", sp.Integer(19)),
        ("2^3^2", sp.Integer(512)),  # right-associative
        ("2**3", sp.Integer(8)),
        ("-x^2", -(x**2)),  # the power binds tighter than the sign
        ("(-x)^2", x**2),
        ("x - y - w1", x - y - w),  # left-associative
        ("x / y / w1", x / (y * w)),
        ("x * -y", -x * y),
        ("2^-1 * x", x / 2),
        ("0.1 * x", sp.Rational(1, 10) * x),  # exact, not a float
        ("1.5e-3", sp.Rational(3, 2000)),
        (".5 + 1.", sp.Rational(3, 2)),
        ("exp(log(x))", x),
        ("+x", x),
    ],
)
def test_arithmetic_reads_as_written(text, expected):
    assert sp.simplify(value(text) - expected) == 0


def test_products_keep_the_written_order():
    assert parse("x * w1", SCOPE).args == (x, w)
    assert parse("w1 * x", SCOPE).args == (w, x)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sigmoid(x)", sigmoid(x)),
        ("tanh(x)", sp.tanh(x)),
        ("relu(x)", relu(x)),
        ("softplus(x)", softplus(x)),
        ("identity(x)", x),
        ("quadratic(x, y)", quadratic_loss(x, y)),
        ("cross_entropy(sigmoid(x), y)", cross_entropy_loss(sigmoid(x), y)),
    ],
)
def test_library_functions(text, expected):
    assert parse(text, SCOPE) == expected


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("__import__('os').system('echo hi')", 1, "'__import__' is not allowed"),
        ("x + __builtins__", 5, "cannot start with '_'"),
        ("x.__class__", 2, "attribute access"),
        ("sigmoid(x).real", 11, "attribute access"),
        ("lambda: 0", 1, "'lambda' is a Python keyword"),
        ("x if y else w1", 3, "'if' is a Python keyword"),
        ("'os'", 1, "strings are not allowed"),
        ('"x"', 1, "strings are not allowed"),
        ("x[0]", 2, "'x' is not indexed, so it takes no subscript"),
        ("os[0]", 1, "unknown name 'os'"),
        ("[x for x in y]", 1, "a model formula has no lists"),
        ("eval('1')", 1, "unknown function 'eval'"),
        ("open(x)", 1, "unknown function 'open'"),
        ("x; y", 2, "';' is not allowed"),
        ("x = 1", 3, "'=' is not allowed"),
        ("sigmoid(x=1)", 10, "'=' is not allowed"),
        ("x @ y", 3, "'@' is not allowed"),
        ("\\sigma(x)", 1, "backslashes"),
        ("x # comment", 3, "unexpected character '#'"),
        ("y(x)", 2, "'y' is a value, not a function"),
        ("sigmoid", 1, "'sigmoid' is a function"),
        ("x y", 3, "expected an operator or the end"),
        ("(x", 3, "expected ')'"),
        ("x)", 2, "')' without a matching '('"),
        ("x +", 4, "ends where a value was expected"),
        ("", 1, "empty"),
        ("x / 0", 3, "division by zero"),
        ("9^9^9^9", 4, "9^387420489 is out of range"),  # 9^9 is computed; 9^(9^9) is not
        ("1e999999", 1, "out of range"),
        ("quadratic(x)", 1, "quadratic takes 2 arguments, not 1"),
    ],
)
def test_refusals_name_the_column(text, column, fragment):
    with pytest.raises(ExpressionError) as caught:
        parse(text, SCOPE)
    assert caught.value.column == column, str(caught.value)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"column {column}: ")


def test_code_in_a_formula_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(ExpressionError):
        parse(f"__import__('os').system('touch {marker}')", SCOPE)
    with pytest.raises(ExpressionError):
        parse(f"open('{marker}', 'w')", SCOPE)
    assert not marker.exists()


def test_unavailable_names_say_why():
    scope = Scope({"x": x}, {"y": "is the label; only the loss may use it"})
    with pytest.raises(ExpressionError, match="column 5: 'y' is the label"):
        parse("x * y", scope)


def test_nesting_and_length_are_bounded():
    with pytest.raises(ExpressionError, match="nests deeper"):
        parse("(" * 500 + "x" + ")" * 500, SCOPE)
    with pytest.raises(ExpressionError, match="longer than"):
        tokenize("x+" * 10_000 + "x")


def test_the_reader_never_evaluates_text():
    """No eval, exec, compile, sympify or parse_expr anywhere in the module's code (docstrings may name them)."""
    tree = ast.parse(Path(expressions.__file__).read_text())
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    imports = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    imported = {alias.name for node in imports for alias in node.names}
    assert not names & {"eval", "exec", "compile", "__import__", "sympify", "parse_expr", "getattr"}
    assert not attributes & {"sympify", "parse_expr", "eval", "exec", "evalf"}
    assert not imported & {"sympify", "parse_expr", "eval"}
    assert "parse" in dir(expressions)  # the walk saw the real module


ALPHABET = "xyw1 ()+-*/^,.[]_'\"0123456789eE" + "sigmoidtanhrelulogexp" + "\\;=@#λ"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_any_text_is_a_formula_or_one_clear_error(text):
    """Whatever the text, the reader returns a SymPy expression or raises ExpressionError with a column inside it."""
    try:
        result = parse(text, SCOPE)
    except ExpressionError as error:
        assert 1 <= error.column <= len(text) + 1
        assert "\n" not in str(error)
    else:
        assert isinstance(result, sp.Expr)
