"""The prover accepts true identities, rejects false ones, and a derivation cannot state an unproven step."""

from __future__ import annotations

import pytest
import sympy as sp

from symgrad.catalogue.models import mlp, two_weight_chain
from symgrad.derivation.prove import ProofError, are_equal, is_zero, write_out_sums
from symgrad.derivation.steps import DerivationBuilder, Equation
from symgrad.model.functions import sigmoid
from symgrad.model.graph import Partial

gamma = sp.Symbol("gamma")


def test_sigmoid_identity_is_proven_from_the_exponential_form():
    assert are_equal(None, sp.Derivative(sigmoid(gamma), gamma), sigmoid(gamma) * (1 - sigmoid(gamma)))
    assert not are_equal(None, sp.Derivative(sigmoid(gamma), gamma), sigmoid(gamma) * (sigmoid(gamma) - 1))


def test_graph_partials_are_evaluated_by_the_model():
    model = two_weight_chain()
    a2, z2, a1, y = sp.symbols("a_2 z_2 a_1 y^*")
    assert are_equal(model, Partial(a2, z2), a2 * (1 - a2))
    assert not are_equal(model, Partial(a2, z2), a2 * (a2 - 1))
    assert not are_equal(model, Partial(sp.Symbol("Loss"), sp.Symbol("w_2")), (a2 - y) * a1)  # missing a2(1-a2)


def test_a_wrong_step_is_an_error_not_a_printed_step():
    builder = DerivationBuilder("demo", "demo", two_weight_chain())
    a2, z2 = sp.symbols("a_2 z_2")
    with pytest.raises(ProofError, match="cannot prove"):
        builder.step("bad", "wrong on purpose", Equation(Partial(a2, z2), (1 - a2,)))
    assert builder.build().steps == []


def test_is_zero_handles_nested_exponentials():
    x, w1, w2 = sp.symbols("x w1 w2")
    inner = 1 / (1 + sp.exp(-w1 * x))
    outer = 1 / (1 + sp.exp(-w2 * inner))
    assert is_zero(sp.diff(outer, w1) - outer * (1 - outer) * w2 * inner * (1 - inner) * x)
    assert not is_zero(sp.diff(outer, w1) - outer * (1 - outer) * w2 * inner * x)


@pytest.mark.parametrize("size", [2, 5])
def test_a_layer_size_written_out_alone_is_a_sympy_integer(size):
    """xreplace of an expression that is only the size symbol k returns the replacement itself, so a Python int
    in the mapping came back as an int, on which writing out the sums (and every caller) failed."""
    model = mlp()
    k = next(high for _, high in model.index_ranges.values() if str(high) == "k")
    written = write_out_sums(model, k, size)
    assert isinstance(written, sp.Integer) and written == size
    assert isinstance(write_out_sums(model, k - 1, size), sp.Integer)
