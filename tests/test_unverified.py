"""``verify=False`` (what `symgrad generate` uses) builds exactly the derivation that is proven."""

import pytest

from symgrad.catalogue.models import catalogue_names, derive_named
from symgrad.derivation.prove import ProofError
from symgrad.derivation.steps import DerivationBuilder, Equation


@pytest.mark.parametrize("name", catalogue_names())
def test_unverified_derivation_is_the_proven_one(derived, name):
    quick = derive_named(name, verify=False)
    proven = derived(name)
    assert [(r.name, r.value, r.form) for r in quick.results] == [(r.name, r.value, r.form) for r in proven.results]
    assert [s.equations for s in quick.steps] == [s.equations for s in proven.steps]


def test_only_verification_refuses_a_false_step():
    import sympy as sp

    x = sp.Symbol("x")
    wrong = Equation(sp.Derivative(x**2, x), (3 * x,))
    DerivationBuilder("t", "t", None, verify=False).step("unchecked", "", wrong)
    with pytest.raises(ProofError):
        DerivationBuilder("t", "t", None).step("checked", "", wrong)
