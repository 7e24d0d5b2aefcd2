"""The answer-key LaTeX parser: each construct against SymPy objects built here, by hand."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.model.graph import Partial
from symgrad.notation.latex import (
    MAX_DEPTH,
    MAX_LENGTH,
    LatexParseError,
    Relation,
    parse_expression,
    parse_relation,
)

x, y, z, a, b, c, e = sp.symbols("x y z a b c e")
w1, w2, a1, a2, z1, z2 = sp.symbols("w_1 w_2 a_1 a_2 z_1 z_2")
y_star, loss, big_l = sp.Symbol("y^*"), sp.Symbol("Loss"), sp.Symbol("L")
gamma, eta, alpha, sigma = sp.symbols("gamma eta alpha sigma")
x_vec, w_vec = sp.Symbol(r"\mathbf{x}"), sp.Symbol(r"\mathbf{w}")
i, j, k = sp.symbols("i j k", integer=True, positive=True)
w_j, x_j = sp.Indexed(sp.IndexedBase("w"), j), sp.Indexed(sp.IndexedBase("x"), j)
g, g1, s, h = sp.Function("g"), sp.Function("g_1"), sp.Function("s"), sp.Function("h")


def parses(text: str) -> sp.Expr:
    return parse_expression(text)


# ---- names -----------------------------------------------------------------------
@pytest.mark.parametrize(("text", "name"), [("x", "x"), ("w_2", "w_2"), ("w_{2}", "w_2"), ("a_1", "a_1"),
                                            ("z_{2}", "z_2"), ("w_{ij}", "w_ij")])
def test_letters_and_subscripts_are_symbols(text: str, name: str) -> None:
    assert parses(text) == sp.Symbol(name)


@pytest.mark.parametrize("text", ["w_j", "w_{j}"])
def test_an_index_letter_subscript_is_indexed(text: str) -> None:
    assert parses(text) == w_j
    assert parses("x_{j}") == x_j


@pytest.mark.parametrize("text", ["y^*", "y^{*}", r"y^{\star}", r"y^\ast"])
def test_a_star_is_part_of_the_name_not_a_power(text: str) -> None:
    assert parses(text) == y_star


def test_greek_letters_and_sigma() -> None:
    assert parses(r"\gamma \eta \alpha") == gamma * eta * alpha
    assert parses(r"\sigma") == sigma
    assert parses(r"\sigma(z)") == sp.Function("sigma")(z)


@pytest.mark.parametrize("text", [r"\mathbf{x}", r"\boldsymbol{x}", r"\vec{x}", r"\mathbf x"])
def test_bold_vectors_share_one_name(text: str) -> None:
    assert parses(text) == x_vec


@pytest.mark.parametrize(("text", "expected"), [("Loss", loss), (r"\mathrm{Loss}", loss), (r"\text{Loss}", loss),
                                                (r"\mathcal{L}", big_l)])
def test_multi_letter_names_are_protected(text: str, expected: sp.Symbol) -> None:
    assert parses(text) == expected


@pytest.mark.parametrize("text", ["ReLU(z)", r"\operatorname{ReLU}(z)"])
def test_relu_is_the_relu_function(text: str) -> None:
    assert parses(text) == sp.Function("relu")(z)


def test_a_run_of_letters_is_a_product() -> None:
    assert parses("xy") == x * y
    assert parses("xLoss") == x * loss


# ---- applications and products ---------------------------------------------------
def test_unknown_names_before_a_parenthesis_multiply() -> None:
    assert parses("a_2(1 - a_2)") == a2 * (1 - a2)
    assert parses(r"x_j(y - h(\mathbf{x}))") == x_j * (y - h(x_vec))


def test_function_names_before_a_parenthesis_apply() -> None:
    assert parses("g_1(z_1)") == g1(z1)
    assert parses(r"h(\mathbf{x})") == h(x_vec)
    assert parses(r"s(\gamma)") == s(gamma)
    assert parses("Loss(a_2, y^*)") == sp.Function("Loss")(a2, y_star)


def test_a_custom_function_set_decides_what_applies() -> None:
    assert parse_expression("f(x)", functions=frozenset()) == sp.Symbol("f") * x
    assert parse_expression("q(x)", functions=frozenset({"q"})) == sp.Function("q")(x)


def test_primes_are_unevaluated_derivatives() -> None:
    assert parses("g'(z)") == sp.Derivative(g(z), z)
    assert parses("g_1'(z_1)") == sp.Derivative(g1(z1), z1)
    assert parses(r"s'(\gamma)") == sp.Derivative(s(gamma), gamma)
    assert parses(r"\sigma'(z)") == sp.Derivative(sp.Function("sigma")(z), z)


# ---- built-ins and arithmetic ----------------------------------------------------
def test_logs_and_exponentials() -> None:
    assert parses(r"\ln(1 - a_2) + \log a_2") == sp.log(1 - a2) + sp.log(a2)
    assert parses(r"\exp(z)") == sp.exp(z)
    assert parses("e^{-z}") == sp.exp(-z)
    assert parses("e") == e
    assert parses(r"\tanh(z)") == sp.tanh(z)
    assert parses(r"\sqrt{x}") == sp.sqrt(x)


def test_sigmoid_definition() -> None:
    assert parses(r"\frac{1}{1 + e^{-\gamma}}") == 1 / (1 + sp.exp(-gamma))


@pytest.mark.parametrize("command", ["frac", "dfrac", "tfrac"])
def test_fractions(command: str) -> None:
    assert parses(rf"\{command}{{a}}{{b}}") == a / b


def test_one_character_arguments_follow_latex() -> None:
    assert parses(r"\frac12") == sp.Rational(1, 2)
    assert parses("x^2") == x**2


def test_half_square_is_a_rational_times_a_power() -> None:
    value = parses(r"\frac{1}{2}(a-b)^2")
    assert value == sp.Rational(1, 2) * (a - b) ** 2
    assert sp.Rational(1, 2) in value.args and not value.atoms(sp.Float)


@pytest.mark.parametrize("text", [r"a \cdot b", r"a \times b", "a * b", "a b", "a(b)"])
def test_multiplication(text: str) -> None:
    assert parses(text) == a * b


def test_unary_minus_binds_looser_than_a_power() -> None:
    assert parses("-x^2") == -(x**2)
    assert parses("a - -b") == a + b


@pytest.mark.parametrize("text", [r"\left( a + b \right) c", r"\left[ a + b \right] c", r"\big( a + b \big) c",
                                  r"\{ a + b \} c", r"[a + b]\,c", r"(a+b)\;\!\quad~c"])
def test_grouping_and_spacing(text: str) -> None:
    assert parses(text) == (a + b) * c


def test_decimal_numbers_are_exact() -> None:
    assert parses("0.5 x") == sp.Rational(1, 2) * x


# ---- sums, gradients and partial derivatives ------------------------------------
def test_sums() -> None:
    w_i, x_i = sp.Indexed(sp.IndexedBase("w"), i), sp.Indexed(sp.IndexedBase("x"), i)
    expected = sp.Sum(w_i * x_i, (i, 1, k))
    assert parses(r"\sum_{i=1}^{k} w_i x_i") == expected
    assert parses(r"\sum_i w_i x_i") == expected
    assert parses(r"\sum_{i} w_i x_i") == expected
    assert parses(r"\sum_{i=1}^{k} w_i x_i + b") == expected + b


def test_nabla_is_a_partial() -> None:
    assert parses(r"\nabla_{\mathbf{w}} L") == Partial(big_l, w_vec)


@pytest.mark.parametrize(("text", "expected"), [
    (r"\frac{\partial Loss}{\partial w_2}", Partial(loss, w2)),
    (r"\frac{\partial L}{\partial w_{2}}", Partial(big_l, w2)),
    (r"\frac{dL}{dw_j}", Partial(big_l, w_j)),
    (r"\frac{d L}{d w_j}", Partial(big_l, w_j)),
    (r"\frac{\mathrm{d} L}{\mathrm{d} w_j}", Partial(big_l, w_j)),
    (r"\frac{\partial \mathcal{L}}{\partial a_2}", Partial(big_l, a2)),
    (r"\frac{\partial \text{Loss}}{\partial w_2}", Partial(loss, w2)),
    (r"\frac{d h(\mathbf{x})}{d w_j}", Partial(h(x_vec), w_j)),
    (r"\partial Loss / \partial w_2", Partial(loss, w2)),
    (r"dL/dw_j", Partial(big_l, w_j)),
])
def test_derivatives_are_partials(text: str, expected: Partial) -> None:
    assert parses(text) == expected


def test_a_chain_of_partials_does_not_cancel() -> None:
    value = parses(r"\frac{\partial Loss}{\partial a_2}\frac{\partial a_2}{\partial z_2}")
    assert isinstance(value, sp.Mul)
    assert list(value.args) == [Partial(loss, a2), Partial(a2, z2)]  # written (chain) order is kept
    assert not value.has(sp.Symbol("partial")) and not value.has(sp.Symbol("d"))


@pytest.mark.parametrize("text", [r"\frac{\partial}{\partial z} f(z)", r"\frac{d}{dz} f(z)"])
def test_operator_form_is_an_unevaluated_derivative(text: str) -> None:
    z = sp.Symbol("z")
    assert parses(text) == sp.Derivative(sp.Function("f")(z), z)


def test_an_ordinary_fraction_with_d_is_not_a_derivative() -> None:
    assert parses(r"\frac{d}{2}") == sp.Symbol("d") / 2


@pytest.mark.parametrize("text", [r"\frac{\partial^2 L}{\partial w^2}", r"\frac{d^2 L}{d w^2}",
                                  r"\frac{\partial L}{\partial w_1 \partial w_2}", r"\frac{\partial L}{w}",
                                  r"\partial L"])
def test_unsupported_derivatives_fail_clearly(text: str) -> None:
    with pytest.raises(LatexParseError, match="column"):
        parses(text)


# ---- relations ------------------------------------------------------------------
def test_an_equation() -> None:
    relation = parse_relation(r"\frac{\partial L}{\partial w_j} = (h(\mathbf{x}) - y) x_j")
    assert relation == Relation(Partial(big_l, w_j), ((h(x_vec) - y) * x_j,), "=")


def test_a_chain_of_equalities() -> None:
    assert parse_relation("a = b = c") == Relation(a, (b, c), "=")


@pytest.mark.parametrize("arrow", [r"\leftarrow", r"\gets", ":=", r"\coloneqq"])
def test_update_rules(arrow: str) -> None:
    relation = parse_relation(rf"w_2 {arrow} w_2 - \alpha \frac{{\partial Loss}}{{\partial w_2}}")
    assert relation == Relation(w2, (w2 - alpha * Partial(loss, w2),), "<-")


def test_a_continuation_line_has_no_lhs() -> None:
    assert parse_relation("= a_2 - y^*") == Relation(None, (a2 - y_star,), "=")
    assert parse_relation(r"&= a_2 - y^* \\") == Relation(None, (a2 - y_star,), "=")


def test_alignment_trailing_punctuation_and_prose_are_dropped() -> None:
    assert parse_relation("a &= b,") == Relation(a, (b,), "=")
    assert parse_relation("a = b.") == Relation(a, (b,), "=")
    assert parse_relation(r"a = x_j \quad\text{for all } j") == Relation(a, (x_j,), "=")  # "for all j": no condition


@pytest.mark.parametrize("text", [r"y \in \{0, 1\}", "a < b", "a > b", r"a \le b", r"\{0, 1\}"])
def test_non_equations_are_refused(text: str) -> None:
    with pytest.raises(LatexParseError, match="not an equation"):
        parse_relation(text)


def test_an_expression_is_not_a_relation() -> None:
    with pytest.raises(LatexParseError, match="column 3"):
        parse_expression("a = b")
    with pytest.raises(LatexParseError, match="not an equation"):
        parse_relation("a + b")


# ---- untrusted input ------------------------------------------------------------
@pytest.mark.parametrize(("text", "column"), [("", 1), ("x + \x00\xff", 5), ("{a + b", 7), ("(a + b", 7),
                                              ("a + b}", 6), (r"\frac{a}", 9), (r"\foo x", 1), ("x + ", 5)])
def test_bad_input_names_the_column(text: str, column: int) -> None:
    with pytest.raises(LatexParseError) as caught:
        parse_relation(text)
    message = str(caught.value)
    assert message.startswith(f"column {column}:") and "\n" not in message
    assert caught.value.column == column


@pytest.mark.parametrize("text", ["(" * 500 + "x" + ")" * 500, "x^{" * 500 + "1" + "}" * 500,
                                  r"\frac{" * 500 + "1}{2}" * 500, r"\ln " * 500 + "x", "g(" * 500 + "x" + ")" * 500])
def test_deep_nesting_is_a_parse_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(LatexParseError):
        parse_expression(text)


def test_nesting_up_to_the_limit_parses() -> None:
    depth = MAX_DEPTH - 1
    assert parses(r"\frac{" * depth + "x" + "}{2}" * depth) == x / 2**depth
    assert parses("-" * 5001 + "x") == -x  # signs are read in a loop, not by recursion


def test_overlong_input_is_refused() -> None:
    with pytest.raises(LatexParseError, match="longer than"):
        parse_expression("x" * (MAX_LENGTH + 1))


def test_huge_numbers_are_refused_not_computed() -> None:
    with pytest.raises(LatexParseError, match="too large"):
        parse_expression("10^{10^{10}}")
    with pytest.raises(LatexParseError, match="too large"):
        parse_expression(r"\sqrt{" + "9" * 4000 + "}")  # SymPy would spend a minute factoring it


_FRAGMENTS = ["x", "w_2", "_", "^", "{", "}", "(", ")", r"\frac", r"\partial", "d", "L", "Loss", "g_1", "'",
              r"\sum_{i=1}^{k}", "=", r"\leftarrow", "-", "+", "/", r"\cdot", r"\mathbf{x}", r"\sqrt", r"\ln", "e",
              "2", "|", r"\left(", r"\right)", r"\{", r"\}", ",", r"\nabla_", r"\text{a b}", "&", r"\sigma", "^*",
              r"\quad", r"\text{where }", r"\hat", "^T", r"\mathbb{1}", "^{(i)}", r"\ne", ";", r"\|", r"\to"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=12).map("".join))
def test_any_input_parses_or_raises_a_parse_error(text: str) -> None:
    try:
        parse_relation(text)
    except LatexParseError as error:
        assert str(error).startswith("column ") and "\n" not in str(error)


def test_a_relation_keeps_each_right_side_as_written():
    """What the checker takes for a worked number is a side as the key wrote it, not the SymPy it builds."""
    assert parse_relation(r"z_1 = x w_1 = 0.5.").written == ("x w_1", "0.5")
    assert parse_relation(r"&= a_1 w_2 - w_2 a_1 \\").written == ("a_1 w_2 - w_2 a_1",)
    # the \quad parts the claim from its condition: it is no longer part of the side
    assert parse_relation(r"z_1 = x w_2 \quad \text{for } x = 2").written == ("x w_2",)


@pytest.mark.parametrize(("text", "unsupported"), [
    ("z = [x_1, x_2]", True), ("z = (x_1, x_2]", False), ("z = [x_1, x_2", False), (r"z = \hat{x} + (y", False),
])
def test_valid_latex_beyond_the_parser_is_told_from_brackets_that_do_not_close(text, unsupported):
    with pytest.raises(LatexParseError) as caught:
        parse_relation(text)
    assert caught.value.unsupported is unsupported, caught.value
