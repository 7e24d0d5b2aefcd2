'''The scalar functions a Numba module defines for its loops, as source text the template writes.

The counterpart of ``printer.SIGMOID_HELPER`` for the NumPy target: the printer prints ``_sigmoid(u)``
and ``_row_dot(X, n, w)``, and :func:`helpers_for` says which of these definitions a module needs.

``_exp`` is there because libm's exp is a function call, and a loop that calls a function is not
vectorised: numba's loops over the samples would run one sample at a time (about 8 ns a sample
for the two-weight chain's two sigmoids, against about 1 ns with 8 samples per instruction).
'''

from __future__ import annotations

#: e^u by Cody and Waite's reduction, a Taylor polynomial and a table of powers of 2.
EXP_HELPER = '''#: e^u = 2^k·e^r with k = round(u/ln 2) and |r| ≤ ln(2)/2: ln 2 in two parts, so that r is exact
#: (Cody and Waite), the degree-13 Taylor polynomial of e^r (its error, r^14/14!, is below 1e-17
#: relative), and 2^k read from a table.  libm's exp is a call that stops a loop from being
#: vectorised; this is arithmetic and one table read, so the loops run over 4 or 8 samples at a time.
_LOG2_E = 1.4426950408889634
_LN2_HIGH = 6.93147180369123816490e-01
_LN2_LOW = 1.90821492927058770002e-10
_TAYLOR = np.array([1 / math.factorial(power) for power in range(14)])
_LOWEST_POWER = -1080
_POWERS_OF_2 = np.ldexp(1.0, np.arange(_LOWEST_POWER, 1024))  # 2^-1080 to 2^1023; 2^-1080 rounds to 0


@numba.njit(fastmath=_EXACT, error_model="numpy", cache=_CACHE)
def _exp(u):
    """e^u to within a few units in the last place, for every float u (inf above 709.78, 0 below -745)."""
    u = min(max(u, -746.0), 710.0)
    k = math.floor(u * _LOG2_E + 0.5)
    k = k if k == k else 0.0  # NaN in, NaN out (through r), and the table index stays in range
    r = (u - k * _LN2_HIGH) - k * _LN2_LOW
    power_series = _TAYLOR[13]
    for power in range(12, -1, -1):
        power_series = power_series * r + _TAYLOR[power]
    return (2.0 * power_series) * _POWERS_OF_2[int(k) - 1 - _LOWEST_POWER]
'''

#: The sigmoid for one value; one exp, and no branch, so that the loops that call it vectorise.
SIGMOID_HELPER = '''@_scalar
def _sigmoid(u):
    """s(u) = 1/(1 + e^-u): in IEEE arithmetic this never fails (e^1000 = inf gives 0) and keeps full
    relative precision in both tails."""
    return 1.0 / (1.0 + _exp(-u))
'''

#: A sample's Σ_i w_i x_i, and its term c·x of a vector gradient.
ROW_HELPERS = '''@_scalar
def _row_dot(matrix, n, vector):
    """Σ_i matrix[n, i]·vector[i], the sum over one sample's features."""
    total = 0.0
    for i in range(vector.shape[0]):
        total += matrix[n, i] * vector[i]
    return total


@_scalar
def _add_row(row_total, coefficient, matrix, n):
    """row_total += coefficient·matrix[n], one sample's term of a gradient Σ_n c_n·x_n."""
    for i in range(row_total.shape[0]):
        row_total[i] += coefficient * matrix[n, i]
'''


#: The step function of ReLU's derivative, which Numba does not compile as np.heaviside.
HEAVISIDE_HELPER = '''@_scalar
def _heaviside(u, at_zero):
    """H(u) as np.heaviside: 0 below 0, at_zero at 0, 1 above (and NaN for NaN)."""
    return 0.0 if u < 0 else 1.0 if u > 0 else at_zero if u == 0 else u
'''


def helpers_for(sigmoid: bool, rows: bool, heaviside: bool = False) -> list[str]:
    """The definitions a module needs: the sigmoid (and its exp) if it has one, the step function if
    it has one, and the row helpers for a row input."""
    return [*([EXP_HELPER, SIGMOID_HELPER] if sigmoid else []), *([HEAVISIDE_HELPER] if heaviside else []),
            *([ROW_HELPERS] if rows else [])]
