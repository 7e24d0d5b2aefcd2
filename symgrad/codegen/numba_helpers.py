'''The scalar functions a Numba module defines for its loops, as source text the template writes.

The counterpart of ``printer.SIGMOID_HELPER`` for the NumPy target: the printer prints ``_sigmoid(u)``
and ``_row_dot(X, n, w)``, and ``NUMBA_HELPERS`` names them for the printer's record of what it called.

``_exp`` is there because libm's exp is a function call, and a loop that calls a function is not
vectorised: numba's loops over the samples would run one sample at a time (about 8 ns a sample
for the two-weight chain's two sigmoids, against about 1 ns with 8 samples per instruction).
'''

from __future__ import annotations

import ast

#: e^u by Cody and Waite's reduction and a Taylor polynomial, in each precision.
EXP_HELPER = '''#: e^u = 2^k·e^r with k = round(u/ln 2) and |r| ≤ ln(2)/2: ln 2 in two parts, so that k times the
#: first is exact (Cody and Waite); a Taylor polynomial of e^r; and 2^k made from its bits, in two
#: halves so that each is a normal float down to e^-745.  libm's exp is a call, which stops a loop
#: from being vectorised; this is arithmetic only, so the loops run over 8 or 16 samples at a time.
#: float32 has its own version, not float64's rounded: float64 arithmetic would halve the samples
#: per instruction, and float32 needs fewer terms (the degree-7 polynomial's error, r^8/8!, is below
#: 1e-8 relative; the degree-13 one's, r^14/14!, below 1e-17).
_LOG2_E = 1.4426950408889634
_TAYLOR = np.array([1 / math.factorial(power) for power in range(14)])
_TAYLOR32 = _TAYLOR[:8].astype(np.float32)


def _exp64(u):
    """e^u for a float64 u, within 2 units in the last place: inf above 709.78, 0 below -745.2.

    Compiled through _exp (below), for the loops.
    """
    u = min(max(u, -746.0), 710.0)
    k = np.floor(u * _LOG2_E + 0.5)
    k = k if k == k else 0.0  # NaN in, NaN out (through r), and k stays a valid exponent
    r = (u - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10
    power_series = _TAYLOR[13]
    for power in range(12, -1, -1):
        power_series = power_series * r + _TAYLOR[power]
    half = np.int64(k) >> 1
    return power_series * _power_of_2_64(half) * _power_of_2_64(np.int64(k) - half)


@_scalar
def _power_of_2_64(k):
    """2^k for an integer -1022 ≤ k ≤ 1023, from its bits: exponent k + 1023, mantissa 0."""
    return np.int64((k + 1023) << 52).view(np.float64)


def _exp32(u):
    """e^u for a float32 u, in float32, within 2 units in the last place: inf above 88.72, 0 below -103.97.

    Compiled through _exp (below), for the loops.
    """
    u = min(max(u, np.float32(-104.0)), np.float32(89.0))
    k = np.floor(u * np.float32(_LOG2_E) + np.float32(0.5))
    k = k if k == k else np.float32(0.0)
    r = (u - k * np.float32(0.693359375)) - k * np.float32(-2.12194440e-4)
    power_series = _TAYLOR32[7]
    for power in range(6, -1, -1):
        power_series = power_series * r + _TAYLOR32[power]
    half = np.int32(k) >> np.int32(1)
    return power_series * _power_of_2_32(half) * _power_of_2_32(np.int32(k) - half)


@_scalar
def _power_of_2_32(k):
    """2^k for an integer -126 ≤ k ≤ 127, from its bits: exponent k + 127, mantissa 0."""
    return np.int32((k + np.int32(127)) << np.int32(23)).view(np.float32)


def _exp(u):
    """e^u in u's precision.  Outside the compiled loops this is np.exp; inside, Numba compiles
    _exp32 for a float32 u and _exp64 for any other (below)."""
    return np.exp(u)


@numba.extending.overload(_exp, jit_options={"fastmath": _EXACT, "error_model": "numpy"})
def _exp_for(u):
    """Which _exp the loops compile for u's Numba type."""
    return _exp32 if u == numba.types.float32 else _exp64
'''

#: The sigmoid for one value; one exp, and no branch, so that the loops that call it vectorise.
SIGMOID_HELPER = '''@_scalar
def _sigmoid(u):
    """s(u) = 1/(1 + e^-u), in u's precision: in IEEE arithmetic this never fails (e^1000 = inf gives
    0) and keeps full relative precision in both tails."""
    real = type(u)
    return real(1) / (real(1) + _exp(-u))
'''

#: A sample's Σ_i w_i x_i, and its term c·x of a vector gradient.
ROW_HELPERS = '''@_inline
def _row_dot(matrix, n, vector):
    """Σ_i matrix[n, i]·vector[i], the sum over one sample's features, in the matrix's precision."""
    total = matrix.dtype.type(0)
    for i in range(vector.shape[0]):
        total += matrix[n, i] * vector[i]
    return total


@_inline
def _add_row(row_total, coefficient, matrix, n):
    """row_total += coefficient·matrix[n], one sample's term of a gradient Σ_n c_n·x_n."""
    for i in range(row_total.shape[0]):
        row_total[i] += coefficient * matrix[n, i]
'''

#: The same for a block of rows at a time, for the loops that take the samples in blocks (_block_rows).
BLOCK_HELPERS = '''#: The loops over rows take a block at a time: first every row's Σ_i w_i x_i (_block_dots), then the
#: rest of each sample's formulas, which vectorise across the block (8 or 16 sigmoids an instruction,
#: against one when each row is finished before the next), then the rows' terms of the gradient
#: (_block_sum).  A block's rows are so read twice: from memory for their Σ_i w_i x_i, then for the
#: gradient's sum from the core's L1 cache, if the block fits there (48 KiB a core here, 32 KiB on
#: many others).  Blocks of 16 to 32 KiB of rows took the least time: logistic regression's gradient
#: at N = 10⁶, k = 100, two cores, 32 rows of float64 (25 KiB) or 64 of float32 against 256 rows (200
#: or 100 KiB, read again from L2) took 0.93 and 0.95 of the time; 8 or 16 rows took more, for the
#: loops around each block.
_BLOCK_BYTES = 1 << 15
#: Rows a block takes at most: short rows gain nothing from larger blocks (k = 10: 64 to 256 rows
#: took the same time), and the block's arrays stay small.
_MAX_ROWS = 256
#: Rows of at least this many features go one at a time through _block_dots, shorter rows four at a
#: time.  A row shorter than a vector register (16 float32 lanes, 8 float64) alone is one chain of
#: dependent adds, and four rows keep four sums in flight: 0.5-0.9 of one row's time for k = 4 to 48,
#: rows in cache.  From memory, one row at a time reads one stream where four rows read four: at
#: N = 10⁶, two cores, blocks in L1, it took 0.91-0.97 of four rows' time for k = 84, 100 and 128 in
#: float64 (0.97 for k = 100 in float32), 1.02 for k = 96 and 1.04 for k = 64.
_LONG_ROW = 80


@_scalar
def _block_rows(matrix):
    """The rows a block takes: the largest power of two from 8 to _MAX_ROWS whose rows fit in
    _BLOCK_BYTES, or 8 if none do."""
    row_bytes = matrix.shape[1] * matrix.itemsize
    rows = 8
    while rows < _MAX_ROWS and 2 * rows * row_bytes <= _BLOCK_BYTES:
        rows *= 2
    return rows


@_scalar
def _block_dots(dots, matrix, start, rows, vector):
    """dots[r] = Σ_i matrix[start + r, i]·vector[i] for r < rows: the rows' sums over their features."""
    features = vector.shape[0]
    # the rows taken four at a time (none if they are long); the rest go one at a time
    fours = 0 if features >= _LONG_ROW else rows - rows % 4
    real = matrix.dtype.type
    for r in range(0, fours, 4):
        n = start + r
        dot0, dot1, dot2, dot3 = real(0), real(0), real(0), real(0)
        for i in range(features):
            dot0 += matrix[n, i] * vector[i]
            dot1 += matrix[n + 1, i] * vector[i]
            dot2 += matrix[n + 2, i] * vector[i]
            dot3 += matrix[n + 3, i] * vector[i]
        dots[r], dots[r + 1], dots[r + 2], dots[r + 3] = dot0, dot1, dot2, dot3
    for r in range(fours, rows):
        dots[r] = _row_dot(matrix, start + r, vector)


@_scalar
def _block_sum(row_total, coefficients, matrix, start, rows):
    """row_total = Σ_r coefficients[r]·matrix[start + r] over r < rows: a block's term of Σ_n c_n·x_n.

    Eight rows at a time: each feature's entry of row_total is loaded and stored once for eight rows.
    Against four, at N = 10⁶ on two cores: 0.96-0.97 of the time for k = 100 in float64, the same in
    float32, 1.02-1.07 for k = 10 (where the targets have room to spare).
    """
    features = row_total.shape[0]
    eights = rows - rows % 8  # the rows taken eight at a time; the last rows % 8 go one at a time
    real = matrix.dtype.type
    row_total[:] = real(0)
    for r in range(0, eights, 8):
        n = start + r
        c0, c1, c2, c3 = coefficients[r], coefficients[r + 1], coefficients[r + 2], coefficients[r + 3]
        c4, c5, c6, c7 = coefficients[r + 4], coefficients[r + 5], coefficients[r + 6], coefficients[r + 7]
        for i in range(features):
            row_total[i] += (c0 * matrix[n, i] + c1 * matrix[n + 1, i] + c2 * matrix[n + 2, i] + c3 * matrix[n + 3, i]
                             + c4 * matrix[n + 4, i] + c5 * matrix[n + 5, i] + c6 * matrix[n + 6, i]
                             + c7 * matrix[n + 7, i])
    for r in range(eights, rows):
        _add_row(row_total, coefficients[r], matrix, start + r)
'''


#: The step function of ReLU's derivative, which Numba does not compile as np.heaviside.
HEAVISIDE_HELPER = '''@_scalar
def _heaviside(u, at_zero):
    """H(u) as np.heaviside, in u's precision: 0 below 0, at_zero at 0, 1 above (and NaN for NaN)."""
    real = type(u)
    return real(0) if u < 0 else real(1) if u > 0 else real(at_zero) if u == 0 else u
'''


#: Each helper a Numba module may call, by the name its printer records (``printer.helpers_used``), with the
#: definitions it needs, in the order a module defines them: the sigmoid with its exp, the step function, the
#: row helpers for a row input, and the block helpers for loops over blocks of rows.
NUMBA_HELPERS = {
    "exp": (EXP_HELPER,),
    "sigmoid": (EXP_HELPER, SIGMOID_HELPER),
    "heaviside": (HEAVISIDE_HELPER,),
    "row_dot": (ROW_HELPERS,),
    "blocks": (BLOCK_HELPERS,),
}

#: The helpers whose definitions use the module ``math`` (``_TAYLOR``'s factorials); a module imports it only then.
USES_MATH = frozenset({"exp", "sigmoid"})

#: Every name the helpers define at a module's top level (``_exp``, ``_exp64``, ``_TAYLOR``, ``_heaviside``):
#: names the loops' own variables must not take.
HELPER_NAMES = frozenset(
    target.id if isinstance(target, ast.Name) else node.name
    for sources in NUMBA_HELPERS.values() for source in sources for node in ast.parse(source).body
    for target in (node.targets if isinstance(node, ast.Assign) else [node])
    if isinstance(target, ast.Name) or isinstance(node, ast.FunctionDef)
)
