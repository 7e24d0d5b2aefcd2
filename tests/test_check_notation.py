"""The notations real answer keys use (issue 17, §3), each read as the quantity it means, against SymPy built here."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.model.graph import Partial
from symgrad.notation.latex import (
    NABLA,
    SIZE,
    LatexParseError,
    Relation,
    parse_expression,
    parse_relation,
    parse_relations,
)

x, y, z, b, m = sp.symbols("x y z b m")
w1, w2, a1, a2, z1, z2 = sp.symbols("w_1 w_2 a_1 a_2 z_1 z_2")
big_l, big_j, big_e, eta, alpha = sp.symbols("L J E eta alpha")
i, j, k, l, n, big_k = sp.symbols("i j k l n K", integer=True, positive=True)  # noqa: E741 - the keys' l
y_hat = sp.Symbol(r"\hat{y}")
sigma, g, g1 = sp.Function("sigma"), sp.Function("g"), sp.Function("g_1")


def indexed(name: str, index: sp.Symbol) -> sp.Indexed:
    return sp.Indexed(sp.IndexedBase(name), index)


def parses(text: str) -> sp.Expr:
    return parse_expression(text)


def refused(text: str, unsupported: bool) -> LatexParseError:
    """The error ``text`` raises, which must say whether it is the tool's limit (unsupported) or broken LaTeX."""
    with pytest.raises(LatexParseError) as caught:
        parse_relations(text)
    assert caught.value.unsupported is unsupported, caught.value
    assert str(caught.value).startswith("column ") and "\n" not in str(caught.value)
    return caught.value


# ---- 1. accents: a quantity of its own --------------------------------------------------------------------------
@pytest.mark.parametrize("text", [r"\hat{y}", r"\hat y", r"\hat{ y }", r"\widehat{y}"])
def test_a_hat_is_a_name_of_its_own_however_it_is_spaced(text: str) -> None:
    assert parses(text) == y_hat


def test_bar_and_tilde_are_names_of_their_own() -> None:
    assert parses(r"\bar{x} + \tilde{y}") == sp.Symbol(r"\bar{x}") + sp.Symbol(r"\tilde{y}")
    assert parses(r"\hat{\theta}") == sp.Symbol(r"\hat{\theta}")


@pytest.mark.parametrize(("text", "expected"), [
    (r"\hat{y}_i", indexed(r"\hat{y}", i)), (r"\hat{y}_{j}", indexed(r"\hat{y}", j)),
    (r"\hat{y_j}", indexed(r"\hat{y}", j)), (r"\hat{y}_1", sp.Symbol(r"\hat{y}_1")),
])
def test_a_hat_takes_a_subscript_as_any_name_does(text: str, expected: sp.Expr) -> None:
    assert parses(text) == expected


def test_a_relation_of_hats_is_judged_not_refused() -> None:
    assert parse_relation(r"\frac{\partial E}{\partial \hat{y}} = \hat{y} - y") == Relation(
        Partial(big_e, y_hat), (y_hat - y,), "=")
    assert parse_relation(r"\frac{\mathrm{d}\hat{y}}{\mathrm{d}z} = \hat{y}(1 - \hat{y})").lhs == Partial(y_hat, z)


def test_a_hat_over_an_expression_is_unsupported_and_an_open_one_broken() -> None:
    refused(r"z = \hat{x + 1}", unsupported=True)
    refused(r"z_1 = \bar{x w_1", unsupported=False)


# ---- 2. dot products over the features -------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    r"\mathbf{w}^T\mathbf{x}", r"\mathbf{w}^\top \mathbf{x}", r"\mathbf{w}^{\mathsf T}\mathbf{x}",
    r"\mathbf{w}^{T}\mathbf{x}", r"\mathbf{w}^\intercal\mathbf{x}", "w^T x", r"\mathbf{w}\cdot\mathbf{x}",
    r"\langle \mathbf{w}, \mathbf{x} \rangle",
])
def test_a_dot_product_is_the_sum_over_the_features(text: str) -> None:
    written_out = parses(r"\sum_i w_i x_i")
    assert written_out == sp.Sum(indexed("w", i) * indexed("x", i), (i, 1, SIZE))
    assert parses(text) == written_out


def test_a_dot_product_of_greek_vectors_names_its_components_by_the_letter() -> None:
    expected = sp.Sum(indexed("theta", i) * indexed("x", i), (i, 1, SIZE))
    assert parses(r"\theta^T x") == expected
    assert parses(r"\boldsymbol{\theta}^\top\mathbf{x}") == expected
    assert parses(r"\theta_i") == indexed("theta", i)  # the name its components have


def test_the_index_of_a_dot_product_is_a_letter_the_formula_does_not_use() -> None:
    value = parses(r"\sigma(\mathbf{w}^\top \mathbf{x} + b)\, x_i")
    assert value == sigma(b + sp.Sum(indexed("w", j) * indexed("x", j), (j, 1, SIZE))) * indexed("x", i)
    relation = parse_relation(r"z_j = \mathbf{w}^T\mathbf{x}, \quad x_i = 1")
    assert relation.rhs[0].variables == [l]  # i and j are taken, anywhere in the display


def test_a_dot_product_in_a_model_definition() -> None:
    relation = parse_relation(r"z = \mathbf{w}^\top \mathbf{x} + b")
    assert relation == Relation(z, (sp.Sum(indexed("w", i) * indexed("x", i), (i, 1, SIZE)) + b,), "=")


def test_a_dot_between_other_than_two_vectors_is_a_product() -> None:
    assert parses(r"w \cdot x") == sp.Symbol("w") * x
    assert parses(r"\mathbf{x} \cdot (y - h)") == sp.Symbol(r"\mathbf{x}") * (y - sp.Symbol("h"))


@pytest.mark.parametrize("text", [r"z = \mathbf{w}^T", r"z = \mathbf{W}^T (\mathbf{x} - \mathbf{c})", r"z = x_j^\top y",
                                  r"z = (a + b)^\top \mathbf{x}"])
def test_a_transpose_not_before_a_vector_is_unsupported(text: str) -> None:
    assert "transpose" in refused(text, unsupported=True).message


# ---- 3. subscript partials and a bare gradient -----------------------------------------------------------------
@pytest.mark.parametrize(("text", "written"), [
    (r"\partial_{w_1} L", r"\frac{\partial L}{\partial w_1}"), (r"\partial_w L", r"\frac{\partial L}{\partial w}"),
    (r"\partial_{z_j} \mathcal{L}", r"\frac{\partial \mathcal{L}}{\partial z_j}"),
    (r"\partial_{\hat{y}} E", r"\frac{\partial E}{\partial \hat{y}}"),
])
def test_a_subscript_partial_is_the_written_derivative(text: str, written: str) -> None:
    assert parses(text) == parses(written)
    assert isinstance(parses(text), Partial)


def test_subscript_partials_in_a_chain() -> None:
    relation = parse_relation(r"\partial_{a_1} L = \partial_{z_2} L \cdot w_2")
    assert relation == Relation(Partial(big_l, a1), (Partial(big_l, z2) * w2,), "=")


def test_a_bare_nabla_is_the_gradient_by_the_updated_parameter() -> None:
    assert NABLA == sp.Symbol("\\nabla")
    assert parses(r"\nabla L") == Partial(big_l, NABLA)
    assert parse_relation(r"\mathbf{w} \leftarrow \mathbf{w} - \eta \nabla J").rhs == (
        sp.Symbol(r"\mathbf{w}") - eta * Partial(big_j, NABLA),)
    assert parses(r"\nabla_{\mathbf{w}} L") == Partial(big_l, sp.Symbol(r"\mathbf{w}"))  # as before


@pytest.mark.parametrize("text", [r"\partial_w^2 L = 0", r"\partial_w \partial_v L = 0"])
def test_higher_subscript_partials_are_unsupported(text: str) -> None:
    refused(text, unsupported=True)


def test_a_derivative_of_a_bracketed_product_is_an_unevaluated_derivative() -> None:
    assert parses(r"\frac{\partial (w_1 w_2)}{\partial w_1}") == sp.Derivative(w1 * w2, w1)


# ---- 4. indicators ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "1(y = k)", r"1\{y = k\}", r"\mathbb{1}[y=k]", r"\mathbb{1}\{y = k\}", r"\mathbf{1}(y=k)", r"\mathbb{I}(y=k)",
    r"\mathbb{1}_{y=k}", r"\mathbb{1}_{\{y = k\}}", r"\mathbbm{1}[y = k]", r"\bm{1}(y = k)",
])
def test_an_indicator_is_kroneckers_delta(text: str) -> None:
    assert parses(text) == sp.KroneckerDelta(y, k, evaluate=False)


def test_an_indicator_in_a_claim_and_under_a_sum() -> None:
    assert parses(r"p_l - \mathbb{1}[y = l]") == indexed("p", l) - sp.KroneckerDelta(y, l, evaluate=False)
    total = parses(r"\sum_{k=1}^{K} \mathbb{1}[y = k] \ln p_k")
    assert total == sp.Sum(sp.KroneckerDelta(y, k, evaluate=False) * sp.log(indexed("p", k)), (k, 1, big_k))
    assert parses(r"1(y \ne k)") == 1 - sp.KroneckerDelta(y, k, evaluate=False)


def test_a_one_before_a_bracket_without_a_relation_multiplies_and_kroneckers_delta_stays() -> None:
    assert parses("1(a + b)") == sp.Symbol("a") + sp.Symbol("b")
    assert parses(r"\delta_{jl}") == sp.Symbol("delta_jl")


def test_a_bare_iverson_bracket_and_an_indicator_without_its_condition_are_unsupported() -> None:
    refused("L = [y = k]", unsupported=True)
    refused(r"L = \mathbb{1} + y", unsupported=True)
    refused(r"L = \mathbb{1}[y \in S]", unsupported=True)
    refused(r"L = \mathbb{1}[y = k", unsupported=False)


# ---- 5. several relations in one display -----------------------------------------------------------------------
@pytest.mark.parametrize("separator", [",", ";", r"\quad", r"\qquad", r"\text{and}", r"\text{ and }",
                                       r"\;\text{and}\;", r"\text{,}", r", \qquad", r"\quad \text{and} \quad"])
def test_several_relations_in_one_display(separator: str) -> None:
    text = rf"z_1 = x w_1{separator} a_1 = g_1(z_1)"
    first, second = parse_relations(text)
    assert (first, second) == (Relation(z1, (x * w1,), "="), Relation(a1, (g1(z1),), "="))
    assert (first.column, second.column) == (1, text.index("a_1") + 1)
    assert first.written == ("x w_1",)


def test_four_relations_and_their_columns() -> None:
    text = r"z_1 = w_1 x + b_1, \quad a_1 = g(z_1), \quad z_2 = w_2 a_1 + b_2, \quad a_2 = g(z_2)"
    relations = parse_relations(text)
    assert [r.lhs for r in relations] == [z1, a1, z2, a2]
    assert [r.column for r in relations] == [text.index(name) + 1 for name in ("z_1 =", "a_1 =", "z_2 =", "a_2 =")]


def test_updates_side_by_side() -> None:
    relations = parse_relations(r"w_1 \leftarrow w_1 - \eta\, \partial_{w_1} L, \qquad w_2 \gets w_2 - \eta a_1")
    assert [(r.lhs, r.relation) for r in relations] == [(w1, "<-"), (w2, "<-")]


@pytest.mark.parametrize(("text", "rhs"), [
    ("w_{1,2} = f(a, b)", sp.Function("f")(sp.Symbol("a"), sp.Symbol("b"))),
    (r"\mathcal{L}(\hat{y}, y) = y", y),
    (r"a = \sum_{i,j} w_{ij}", None),
    (r"a = \left[\frac{1}{2}, 3\right]", None),
])
def test_commas_inside_brackets_separate_nothing(text: str, rhs: sp.Expr | None) -> None:
    try:
        relations = parse_relations(text)
    except LatexParseError as error:  # a sum over a pair, a vector written out: one formula, beyond the parser
        assert rhs is None and error.unsupported
        return
    assert len(relations) == 1 and relations[0].rhs == (rhs,)


def test_a_list_is_not_cut_at_its_commas() -> None:
    assert refused(r"\mathbf{x} = x_1, \dots, x_k", unsupported=True).message.startswith("a list")
    assert refused(r"\mathbf{x} = [x_1, \ldots, x_k]^T", unsupported=True).message.startswith("a list")


def test_prose_after_a_separator_is_dropped() -> None:
    assert parse_relations(r"z_1 = x w_1, \text{ the first node}") == [Relation(z1, (x * w1,), "=")]
    assert parse_relations(r"z_1 = x w_1, \text{so } a_1 = g_1(z_1)")[1] == Relation(a1, (g1(z1),), "=")
    assert parse_relations(r"a_2 = g(z_2) \quad (\text{by the chain rule})") == [Relation(a2, (g(z2),), "=")]
    assert parse_relations(r"a = b, c") == [Relation(sp.Symbol("a"), (b,), "=")]


def test_text_no_longer_drops_the_relation_after_it() -> None:
    """``\\text{…}`` ended the statement, so ``c = d`` was lost."""
    assert len(parse_relations(r"a = b \text{ and } c = d")) == 2


def test_broken_latex_in_dropped_prose_is_still_broken() -> None:
    refused(r"a = b, \fracc x", unsupported=False)
    refused(r"a = b, c = (d", unsupported=False)
    refused(r"a = b, \frac{1}{", unsupported=False)


def test_a_quad_inside_a_formula_is_spacing() -> None:
    """A product carried over an align row (``&\\quad \\times w_2``) is one claim."""
    (relation,) = parse_relations(r"\frac{\partial L}{\partial w_1} = (a_2 - y) \quad \times w_2 x")
    assert relation.rhs == ((a2 - y) * w2 * x,)


def test_a_continuation_row_is_one_relation_and_parse_relation_gives_the_first() -> None:
    assert parse_relations(r"&= a_2 - y \\") == [Relation(None, (a2 - y,), "=")]
    assert parse_relations("a = b = c") == [Relation(sp.Symbol("a"), (b, sp.Symbol("c")), "=")]
    assert parse_relation(r"z_1 = x w_1, \quad a_1 = g_1(z_1)") == Relation(z1, (x * w1,), "=")


@pytest.mark.parametrize("text", [r"y \in \{0, 1\}", "j = 1, \\dots, k", r"\text{for all } j", r"l \ne j",
                                  r"x \to z_1 \to a_1", r"\{(\mathbf{x}^{(i)}, y^{(i)})\}_{i=1}^{m}", r"L \approx 0.5"])
def test_a_display_without_a_relation_is_not_an_equation(text: str) -> None:
    assert refused(text, unsupported=False).message.startswith("not an equation")


def test_a_rounding_after_a_worked_value_is_no_claim() -> None:
    """``L = -\\ln 0.5 \\approx 0.693`` was "not an equation" as a whole."""
    (relation,) = parse_relations(r"L = -\ln 0.5 \approx 0.693")
    assert relation == Relation(big_l, (-sp.log(sp.Rational(1, 2)),), "=")


# ---- 6. side conditions ----------------------------------------------------------------------------------------
_DERIVATIVE = r"\frac{\partial p_l}{\partial z_j} = -p_l p_j"


@pytest.mark.parametrize(("condition", "expected"), [
    (r"\text{for } l \ne j", (sp.Ne(l, j),)), (r"\quad \text{for } l \neq j", (sp.Ne(l, j),)),
    (r"\text{ for all } j", ()), (r"\quad \forall j", ()), (r"\quad (l \neq j)", (sp.Ne(l, j),)),
    (r", \; l \ne j", (sp.Ne(l, j),)), (r"\text{if } j = l", (sp.Eq(j, l),)), (r", \quad j = l", (sp.Eq(j, l),)),
    (r"\qquad j = 1, \dots, k", ()), (r", \quad 1 \le l \le k", (sp.Le(1, l, evaluate=False), sp.Le(l, k))),
    (r"\quad \text{for } y \in \{0, 1\}", ()),
])
def test_a_side_condition_restricts_the_relation(condition: str, expected: tuple[sp.Basic, ...]) -> None:
    (relation,) = parse_relations(f"{_DERIVATIVE} {condition}")
    assert relation.conditions == expected
    assert relation.rhs == (-indexed("p", l) * indexed("p", j),)


def test_prose_that_begins_with_for_is_no_condition() -> None:
    relation = parse_relations(r"\text{for the sigmoid, } \sigma'(z) = \sigma(z)(1 - \sigma(z))")[0]
    assert relation.lhs == sp.Derivative(sigma(z), z) and relation.conditions == ()


def test_a_condition_before_its_relation() -> None:
    (relation,) = parse_relations(rf"\text{{for }} l \ne j: {_DERIVATIVE}")
    assert relation.conditions == (sp.Ne(l, j),)


def test_a_condition_on_a_value_keeps_its_variable() -> None:
    (relation,) = parse_relations(r"z_1 = x w_2 \quad \text{for } x = 2")
    assert relation.conditions == (sp.Eq(x, 2),) and relation.written == ("x w_2",)


def test_where_gives_a_definition_of_its_own() -> None:
    text = (r"\frac{\partial E}{\partial w_{ij}} = \delta_j\, x_i \quad \text{and} \quad "
            r"\frac{\partial E}{\partial b_j} = \delta_j, \qquad \text{where } \delta_j = (\hat{y} - y)\, v_j")
    claim, bias, definition = parse_relations(text)
    assert not claim.where and not bias.where and definition.where
    assert definition == Relation(indexed("delta", j), ((y_hat - y) * indexed("v", j),), "=", where=True)
    assert definition.column == text.index(r"\delta_j = (") + 1
    (alone,) = parse_relations(r"\text{where } z_j = \sum_i w_{ij} x_i")
    assert alone.where and alone.lhs == indexed("z", j)


# ---- 7. samples ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("x^{(i)}", x), ("y^{(n)}", y), (r"x_j^{(i)}", indexed("x", j)), (r"x^{(i)}_j", indexed("x", j)),
    (r"\hat{y}^{(i)}", y_hat), (r"\mathbf{x}^{(i)}", sp.Symbol(r"\mathbf{x}")), (r"z^{(i)} + 1", z + 1),
])
def test_a_sample_superscript_is_dropped_never_a_power(text: str, expected: sp.Expr) -> None:
    assert parses(text) == expected


@pytest.mark.parametrize("text", [r"\frac{1}{m}\sum_{i=1}^{m} f^{(i)}", r"\frac{1}{N}\sum_{n} f^{(n)}",
                                  r"\frac{1}{m}\sum_i f^{(i)}", r"\sum_{i=1}^{m} f^{(i)}",
                                  r"\frac{1}{m}\left(\sum_i f^{(i)}\right)"])
def test_an_average_over_the_samples_is_the_one_samples_value(text: str) -> None:
    assert parses(text) == sp.Symbol("f")


def test_a_per_sample_claim_says_so() -> None:
    relation = parse_relation(r"\frac{\partial J}{\partial w_j} = -\frac{1}{m}\sum_{i=1}^{m} (y^{(i)} - \hat{y}^{(i)})"
                              r" x_j^{(i)}")
    assert relation.lhs == Partial(big_j, indexed("w", j)) and relation.per_sample
    assert sp.expand(relation.rhs[0] - (y_hat - y) * indexed("x", j)) == 0
    update = parse_relation(r"w_j := w_j - \frac{\alpha}{m}\sum_{i=1}^{m} (h^{(i)} - y^{(i)}) x_j^{(i)}")
    assert update.rhs == (indexed("w", j) - alpha * (sp.Symbol("h") - y) * indexed("x", j),) and update.per_sample
    assert not parse_relation(r"\frac{\partial L}{\partial w_j} = (h - y) x_j").per_sample


def test_a_sum_over_other_than_the_samples_stays() -> None:
    value = parses(r"-\frac{1}{m}\sum_{i=1}^{m}\sum_{k=1}^{K} 1(y^{(i)} = k) \ln p_k^{(i)}")
    assert value == -sp.Sum(sp.KroneckerDelta(y, k, evaluate=False) * sp.log(indexed("p", k)), (k, 1, big_k))
    m_limit = sp.Symbol("m", integer=True, positive=True)  # a letter in a limit counts, as in the models
    assert parses(r"\frac{1}{m}\sum_{i=1}^{m} x_i") == sp.Sum(indexed("x", i), (i, 1, m_limit)) / m


@pytest.mark.parametrize("text", [r"z^{[2]} = 1", r"W^{(2)} = 1", r"a^{[l]} = 1"])
def test_layer_superscripts_are_unsupported_not_powers(text: str) -> None:
    refused(text, unsupported=True)


@pytest.mark.parametrize(("text", "relation"), [
    (r"w^{(t+1)} = w^{(t)} - \eta g", "<-"),  # the next iterate: an update, as w \leftarrow w - \eta g is
    (r"\mathbf{w}^{(\tau+1)} = \mathbf{w}^{(\tau)} - \eta g", "<-"),
    (r"w^{(t)} = w^{(t-1)} - \eta g", "="),  # written from the step before: read as it is written, no update
    (r"w^{(t)} = 1", "="),
])
def test_step_superscripts_are_the_iterates_of_gradient_descent(text: str, relation: str) -> None:
    (read,) = parse_relations(text)
    assert read.relation == relation and read.lhs in (sp.Symbol("w"), sp.Symbol(r"\mathbf{w}"))
    assert not read.lhs.has(sp.Pow) and not any(side.has(sp.Symbol("t"), sp.Symbol("tau")) for side in read.rhs)


# ---- 8. a component of a function of a vector ------------------------------------------------------------------
@pytest.mark.parametrize(("text", "vector"), [
    (r"\operatorname{softmax}(\mathbf{z})_j", "z"), (r"\text{softmax}(s)_j", "s"),
    (r"\mathrm{softmax}(\mathbf{s})_j", "s"),
])
def test_a_subscript_after_softmax_is_its_components(text: str, vector: str) -> None:
    assert parses(text) == parses(rf"\mathrm{{softmax}}({vector}_j)") == sp.Function("softmax")(indexed(vector, j))
    assert parses(text.replace("_j", "_2")) == sp.Function("softmax")(sp.Symbol(f"{vector}_2"))


# ---- 9. update arrows ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arrow", [r"\to", r"\mapsto", r"\longleftarrow", ":=", r"\gets", r"\leftarrow", r"\Leftarrow",
                                   r"\coloneqq", "←"])
def test_update_arrows(arrow: str) -> None:
    relation = parse_relation(rf"w_1 {arrow} w_1 - \eta \frac{{\partial L}}{{\partial w_1}}")
    assert relation == Relation(w1, (w1 - eta * Partial(big_l, w1),), "<-")


@pytest.mark.parametrize("text", [r"x \to z_1 \to a_1", r"h \to 0", r"\sigma: z \mapsto \frac{1}{1 + e^{-z}}"])
def test_an_arrow_is_an_update_only_in_an_updates_shape(text: str) -> None:
    assert refused(text, unsupported=False).message.startswith("not an equation")


# ---- 10. what the lead reads: left as it was --------------------------------------------------------------------
def test_a_node_written_of_itself_reads_as_before() -> None:
    assert parses(r"\sigma(z)(1 - \sigma(z))") == sigma(z) * (1 - sigma(z))
    assert parses(r"\sigma(1-\sigma)") == sigma(1 - sp.Symbol("sigma"))
    assert parses("h(1-h)") == sp.Function("h")(1 - sp.Symbol("h"))


# ---- 11. names of the loss -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    (r"\ell", sp.Symbol("ell")), (r"\mathcal{L}", big_l), (r"\mathcal{J}", big_j), ("E", big_e), ("J", big_j),
    (r"\text{Loss}", sp.Symbol("Loss")), (r"\mathrm{Loss}", sp.Symbol("Loss")), (r"\text{loss}", sp.Symbol("loss")),
    (r"J(\theta)", sp.Function("J")(sp.Symbol("theta"))),
    (r"E(\mathbf{w})", sp.Function("E")(sp.Symbol(r"\mathbf{w}"))), (r"\ell(\hat{y}, y)", sp.Function("ell")(y_hat, y)),
    (r"\delta_\ell", indexed("delta", sp.Symbol("ell", integer=True, positive=True))),
])
def test_the_loss_and_its_names(text: str, expected: sp.Expr) -> None:
    assert parses(text) == expected


# ---- more notations from the handouts and keys -----------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("g_3(z_3)", sp.Function("g_3")(sp.Symbol("z_3"))),
    (r"\tanh^2 z", sp.tanh(z) ** 2), (r"1 - \tanh^2(z)", 1 - sp.tanh(z) ** 2),
    (r"\operatorname{sech}^2 z", sp.Function("sech")(z) ** 2), (r"\operatorname{ReLU} z", sp.Function("relu")(z)),
    (r"\max(0, z)", sp.Max(0, z)), (r"\min\{a_1, a_2\}", sp.Min(a1, a2)),
    (r"\frac{\lambda}{2}\|\mathbf{w}\|^2", sp.Symbol("lambda") / 2 * sp.Sum(indexed("w", i) ** 2, (i, 1, SIZE))),
    (r"\|\mathbf{w}\|_2^2", sp.Sum(indexed("w", i) ** 2, (i, 1, SIZE))),
    ("σ(z)(1 − σ(z))", sigma(z) * (1 - sigma(z))), ("∂L/∂ŷ", Partial(big_l, y_hat)),
    ("η ∇L", eta * Partial(big_l, NABLA)), ("x²", x**2),
])
def test_other_common_notations(text: str, expected: sp.Expr) -> None:
    assert parses(text) == expected


def test_prose_ends_an_expression_as_before() -> None:
    assert parses(r"x w_1 \quad \text{at the start}") == x * w1


# ---- every failure is one error with a column ------------------------------------------------------------------
_FRAGMENTS = ["x", "w_2", "_", "^", "{", "}", "(", ")", r"\frac", r"\partial", "L", "=", r"\leftarrow", "-", ",", ";",
              r"\quad", r"\text{and}", r"\text{for }", r"\text{where }", r"\hat", r"\hat{y}", "^T", r"^\top", r"\ne",
              r"\to", r"\mathbb{1}", "[", "]", "^{(i)}", "^{[2]}", r"\frac{1}{m}", r"\sum_i", r"\dots", "j", "l", "k",
              r"\forall", r"\operatorname{softmax}", r"\|", r"\max", r"\langle", r"\rangle", r"\approx", "ŷ", ":",
              r"\mathbf{w}", r"\mathbf{x}", r"\cdot", r"\nabla", "1", "y", r"\ell", r"\tanh^2", r"\in", "..."]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=14).map(" ".join))
def test_any_display_parses_or_raises_one_parse_error(text: str) -> None:
    for parse in (parse_relations, parse_expression):
        try:
            parse(text)
        except LatexParseError as error:
            assert str(error).startswith("column ") and "\n" not in str(error)


def test_the_kth_weight_vector_is_a_column_of_a_matrix():
    """\\mathbf{w}_k^\\top\\mathbf{x} (softmax regression's class k): Σ_i w_{ik} x_i, its own subscript last, and a
    size that is not the k it is indexed by."""
    (relation,) = parse_relations(r"z_k = \mathbf{w}_k^\top \mathbf{x}")
    (total,) = relation.rhs
    index, low, high = total.limits[0]
    k = sp.Symbol("k", integer=True, positive=True)
    assert total.function == sp.IndexedBase("w")[index, k] * sp.IndexedBase("x")[index] and high != k
