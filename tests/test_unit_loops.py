"""The printer of a sample's loops over its units (codegen/unit_loops.py), on small index forms built here.

Where each sum is computed decides the loops' cost: a sum that does not read a loop's index must run before
that loop, once, not in it; a sum read twice is computed once; ln Σ e^u goes through its largest term.  The
generated modules' results are held to the NumPy modules in test_codegen_layers.py and test_codegen_numba.py.
"""

from __future__ import annotations

import sympy as sp

from symgrad.codegen.plan import IndexForm
from symgrad.codegen.tensor import SAMPLE, Array
from symgrad.codegen.unit_loops import UnitLoopPrinter, loop_names

i, j, q = sp.symbols("i j q", integer=True, positive=True)
q_prime = sp.Symbol("q'", integer=True, positive=True)
m, k, C = sp.symbols("m k C", integer=True, positive=True)
x, w, v, u = sp.IndexedBase("x"), sp.IndexedBase("w"), sp.IndexedBase("v"), sp.IndexedBase("u")


#: Temporaries of the CSE: t_j computed from the sample, and s = e^c from a parameter alone.
t, s, c = sp.symbols("t s c")


def printer() -> UnitLoopPrinter:
    """A sample's x_i (the data's row), parameters w_ij, v_q and c, a layer u_q held in a buffer, and the
    temporaries t (one per unit j, from the sample) and s (one number, from c alone)."""
    arrays = {x: Array(sp.Symbol("X"), True), w: Array(sp.Symbol("w"), False), v: Array(sp.Symbol("v"), False),
              u: Array(sp.Symbol("U"), True), c: Array(sp.Symbol("c"), False), t: Array(t, True, (SAMPLE, j)),
              s: Array(s, False, ())}
    form = IndexForm(arrays=arrays, rows=frozenset({x}), ranges={i: "m", j: "k", q: "C", q_prime: "C"},
                     assignments=(), outputs=())
    return UnitLoopPrinter(form, {"m": "X.shape[1]", "k": "w.shape[1]", "C": "v.shape[0]"})


def test_each_sum_runs_in_the_outermost_loop_where_its_value_is_fixed():
    """h_j = Σ_i w_ij x_i + Σ_q u_q: the sum over i inside the loop over j, the sum over q before it."""
    expr = sp.Sum(w[i, j] * x[i], (i, 1, m)) + sp.Sum(u[q], (q, 1, C))
    lines = printer().assign("H", expr, (j,))
    assert lines == [
        "_sum2 = real(0)",
        "for _q in range(v.shape[0]):",
        "    _sum2 += U[_q]",
        "for _j in range(w.shape[1]):",
        "    _sum1 = real(0)",
        "    for _i in range(X.shape[1]):",
        "        _sum1 += w[_i, _j]*X[n, _i]",
        "    H[_j] = _sum1 + _sum2",
    ], lines


def test_a_sum_read_twice_is_computed_once_whatever_its_index_is_called():
    """Σ_q u_q and Σ_q' u_q' are one sum: the second statement reads the first's, as a softmax's loss reads
    the log-sum-exp its forward pass computed."""
    loops = printer()
    first = loops.assign("a", sp.Sum(u[q], (q, 1, C)) * 2, ())
    second = loops.assign("b", sp.Sum(u[q_prime], (q_prime, 1, C)) + 1, ())
    assert first == ["_sum1 = real(0)", "for _q in range(v.shape[0]):", "    _sum1 += U[_q]", "a = real(2)*_sum1"]
    assert second == ["b = _sum1 + real(1)"]


def test_a_log_sum_exp_takes_out_the_largest_term_and_uses_the_module_s_exp():
    lines = printer().assign("L", sp.log(sp.Sum(sp.exp(u[q]), (q, 1, C))), ())
    assert lines == [
        "_top1 = real(-np.inf)",
        "for _q in range(v.shape[0]):",
        "    _top1 = max(_top1, U[_q])",
        "_sum2 = real(0)",
        "for _q in range(v.shape[0]):",
        "    _sum2 += _exp(U[_q] - _top1)",
        "_logsumexp3 = _top1 + np.log(_sum2)",
        "L = _logsumexp3",
    ], lines


def test_a_gradient_entry_adds_to_its_total_in_loops_over_the_parameter_s_indices():
    loops = printer()
    lines = loops.assign("total0", w[i, j] * x[i], (i, j), "+=")
    assert lines == ["for _i in range(X.shape[1]):", "    for _j in range(w.shape[1]):",
                     "        total0[_i, _j] += w[_i, _j]*X[n, _i]"]
    assert loops.buffer_shape((i, j)) == "(X.shape[1], w.shape[1])"


def test_primed_indices_get_loop_names_of_their_own():
    names = printer().loop_names
    assert (names[q], names[q_prime]) == ("_q", "_q_")
    assert SAMPLE not in names


def test_a_sum_that_no_sample_changes_runs_once_before_the_loop_over_the_samples():
    """z = Σ_j w_ij x_i … + Σ_q v_q²: the parameters' sum (an L2 term) is the same for every sample."""
    loops = printer()
    lines = loops.assign("z", sp.Sum(x[i], (i, 1, m)) + sp.Sum(v[q] ** 2, (q, 1, C)), ())
    assert loops.run_scope.lines == ["_sum1 = real(0)", "for _q in range(v.shape[0]):", "    _sum1 += v[_q]**2"]
    assert lines == ["_sum2 = real(0)", "for _i in range(X.shape[1]):", "    _sum2 += X[n, _i]", "z = _sum1 + _sum2"]


def test_a_sum_over_a_temporary_waits_for_the_loop_that_computes_it():
    """Σ_q s·v_q reads s = e^c, a temporary of the loop's body: it is computed after s, in the sample's loop,
    not before the loop over the samples (where s is not yet defined)."""
    loops = printer()
    lines = loops.assign("z", sp.Sum(s * v[q], (q, 1, C)), ())
    assert loops.run_scope.lines == []
    assert lines == ["_sum1 = real(0)", "for _q in range(v.shape[0]):", "    _sum1 += s*v[_q]", "z = _sum1"]


def test_a_sum_over_the_units_a_temporary_carries_does_not_depend_on_them():
    """Σ_j t (t carrying j unwritten) is one number: inside a statement over j it runs before the loop over j,
    with its own loop over j, and it is not the same sum as Σ_q t·v_q."""
    loops = printer()
    lines = loops.assign("T", w[i, j] * sp.Sum(t, (j, 1, k)), (i, j))
    assert lines[:3] == ["_sum1 = real(0)", "for _j in range(w.shape[1]):", "    _sum1 += t[_j]"]
    assert lines[3:] == ["for _i in range(X.shape[1]):", "    for _j in range(w.shape[1]):",
                         "        T[_i, _j] = w[_i, _j]*_sum1"]
    other = loops.assign("r", sp.Sum(t * v[q], (q, 1, C)), (j,))
    assert "_sum1" not in "".join(other)


def test_an_index_named_like_a_helper_gets_a_loop_variable_of_its_own():
    heaviside, exp64, total = sp.symbols("heaviside exp64 sum1", integer=True)
    names = loop_names({heaviside: "k", exp64: "k", total: "k"})
    assert names == {heaviside: "_heaviside_", exp64: "_exp64_", total: "_sum1_"}
