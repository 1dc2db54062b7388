"""PyTorch's float32 normal kernel, ``normal_fill_16_AVX2``, bit for bit in NumPy passes: rows of 16 uniforms
u (the low 24 bits of 16 words over 2**24) give radius * cos(theta) in columns 0-7 and radius * sin(theta) in
columns 8-15, radius = sqrt(-2 log(1 - u[:8])) and theta = 2 pi u[8:], through Cephes' float32 ``log`` and
``sincos`` from ``avx_mathfun.h`` with the FMA contractions PyTorch's build makes.

A float32 fma(a, b, c) is emulated as a * b + c in float64 (the product of two floats is exact there), rounded
once to float32 (a double rounding can differ only on an exact float64 tie: none in 10^6 samples). Where a
product is exact in float32 already (an integer of a few bits times a short constant), plain float32
arithmetic does the step. Work goes in chunks of rows whose scratch stays in cache, every pass in place.
The mantissa and exponent of 1 - u come from its bits in 7 integer and float32 passes (``_radius``; the
kernel's masks and shifts were 14, ``frexp`` and ``ldexp`` 9); ``fma(v, std, mean)`` stays in float32 when mean
is zero or std one. Each rewrite is checked equal to the previous passes (themselves checked against PyTorch) on
every one of the 2**24 uniforms of each half, and tests/test_random_normal_bits.py draws the edge uniforms
through PyTorch itself.

A small draw costs what its ~80 NumPy calls cost, so every call is the cheapest form of itself: constants are
0-d arrays of the operand's dtype (a Python float costs ~0.33 us more a call), ``out`` is positional (~0.05 us
less than the keyword), and a float64 -> float32 rounding is an item assignment (~0.1 us less than ``copyto``).
Mixed-dtype ufuncs (float32 operands into a float64 loop) were measured and refused: ~0.8 us a call on small
arrays and 20 times a plain pass's time on 16k values."""
import math

import numpy as np

_F32, _F64, _I32, _U32 = np.float32, np.float64, np.int32, np.uint32


def _c(value, dtype):
    """A 0-d array constant (see the module's note on call costs)."""
    return np.array(value, dtype)


_LOG_P = tuple(_c(_F32(p), _F64) for p in (
    7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
    -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1))
# the cos and sin polynomials as the two rows of a (2, 1) array, one pass doing both
_CS_P = [np.array([[c], [s]], _F32).astype(_F64) for c, s in (
    (2.443315711809948e-5, -1.9515295891e-4), (-1.388731625493765e-3, 8.3321608736e-3),
    (4.166664568298827e-2, -1.6666654611e-1))]
# sincos256_ps reduces x by j * (DP1 + DP2 + DP3) in three fmas. The first two are exact in float32 (Sterbenz;
# DP1 and DP2 have 8 and 11 bits, j <= 8), and the three constants sum exactly in float64 (48 bits), so the
# reduction is x + j * _DP rounded once to float32, exact in float64 before that rounding.
_DP = _c(float(_F32(-0.78515625)) + float(_F32(-2.4187564849853515625e-4)) + float(_F32(-3.77489497744594108e-8)),
         _F64)
_ONE, _HALF, _MINUS_TWO = (_c(v, _F32) for v in (1, 0.5, -2))
# M for _cs_horner's rounding: 1.5 * 2**52 float32 quanta of the binade of each row's first step (2**-10, 2**-7)
_CS_MAGIC = np.array([[1.5 * 2.0 ** (52 - 10 - 23)], [1.5 * 2.0 ** (52 - 7 - 23)]])
_CS_P1_MAGIC = _CS_P[1] + _CS_MAGIC               # exact: the coefficients are multiples of those quanta
# _radius's v = -(1 - u) * 2**24 has the bits of 1 - u plus 24 in the exponent and the sign bit: subtracting
# this gives bits(1 - u) - bits(float(sqrt(1/2))) (mod 2**32)
_V_TO_SPLIT = _c(np.uint32((0x3f3504f3 + (24 << 23) + (1 << 31)) & 0xFFFFFFFF).view(np.int32), _I32)
_I23, _EXP_MASK, _HIGH8 = (_c(v, _I32) for v in (23, -1 << 23, -1 << 24))
_MINUS_TWO_POW_M24 = _c(-2.0 ** -24, _F32)
_MINUS_HALF64 = _c(-0.5, _F64)
_FOUR_OVER_PI = _c(1.27323954473516, _F32)
# float(2 pi) * 2**-24, exact: float(2 pi) * u = float(2 pi) * k * 2**-24 rounds as k times this (a power of two
# commutes with the rounding), so the uniform u = k * 2**-24 is never made (one float32 pass a chunk)
_TWO_PI_M24 = _c(float(_F32(2.0 * math.pi)) * 2.0 ** -24, _F32)
_LOG_Q1, _LOG_Q2X2 = _c(-2.12194440e-4, _F32), _c(-2 * 0.693359375, _F32)
_I1, _NOT1, _I29, _I31, _SIGN_MASK = (_c(v, _I32) for v in (1, ~1, 29, 31, -1 << 31))
_U31, _LOW24 = _c(31, _U32), _c(0xFFFFFF, _U32)
_ROWS = 2048    # rows of 16 per chunk: 4096 and 2048 measured best of 1024..16384 (9.3-10.0 ms for 10^6 normals,
                # 1024 11.6, whole arrays 30); 2048's scratch is half as large (1.5 MB)
_BIG_ROWS = 4096        # rows per chunk of a draw of _BIG_FROM rows or more: half the passes' per-call cost, for a
_BIG_FROM = 4 * 4096    # scratch (3 MB) under the draw's own words and result (10^6 normals, 1 thread, min of 8
                        # interleaved runs of 3: 6.37 ms at 2048, 6.18 at 3072, 5.82 at 4096, 5.87 at 6144, 5.89 at
                        # 8192); smaller draws (LeNet's batch of 196608 inputs) keep 2048's scratch and peak memory


class _Scratch:
    """The buffers of one chunk of k rows' halves (k * 8 elements), reused by every chunk: rows of three blocks,
    one per dtype (3 allocations, not 13: ~2 us of a small draw)."""

    def __init__(self, k):
        self._rows(np.empty((6, k), _F32), np.empty((5, k), _I32), np.empty((6, k), _F64))

    def _rows(self, f, i, d):
        self.blocks = f, i, d
        self.f1, self.f2, self.f3, self.f4, self.cs = f[0], f[1], f[2], f[3], f[4:6]
        self.i1, self.i2, self.i3, self.words = i[0], i[1], i[2], i[3:5].view(_U32)
        # dd2 = (z, x) and dd3 = (-z / 2, x): the fma operands of _sincos's last step share their row x
        self.d1, self.dd1, self.dd2, self.dd3 = d[0], d[1:3], d[3:5], d[5:3:-1]

    def head(self, k):
        """The first k elements of every buffer (the last, shorter chunk)."""
        s = _Scratch.__new__(_Scratch)
        s._rows(*(b[:, :k] for b in self.blocks))
        return s


def _horner(x64, coeffs, out, t):
    """Horner's rule in float32 with an fma per step, into ``out``: each step y * x + c in float64 (``t``),
    rounded to float32 and back."""
    mul, add = np.multiply, np.add
    mul(x64, coeffs[0], t)
    add(t, coeffs[1], t)
    for c in coeffs[2:]:
        out[...] = t
        t[...] = out
        mul(t, x64, t)
        add(t, c, t)
    out[...] = t
    return out


def _cs_horner(z64, cs, t):
    """The cos and sin polynomials in z (rows of ``cs``, float32), two fma steps. The first step's results lie in
    one binade per row for every z in [0, (pi/4)**2] (cos -1.389e-3..-1.373e-3, sin 8.21e-3..8.33e-3), so adding
    c + M (M = 1.5 * 2**52 quanta of that binade's float32 spacing) rounds the exact p * z + c once to float32,
    as the fma does, and subtracting M leaves it exact in float64: one pass less than a float32 round trip."""
    np.multiply(z64, _CS_P[0], t)
    np.add(t, _CS_P1_MAGIC, t)
    np.subtract(t, _CS_MAGIC, t)
    np.multiply(t, z64, t)
    np.add(t, _CS_P[2], t)
    cs[...] = t
    return cs


def _radius(v, s):
    """sqrt(-2 log(1 - u)) for the uniforms u, ``log256_ps`` step by step. ``v`` holds -(1 - u) * 2**24 (float32,
    exact; overwritten), whose bits give 1 - u = m * 2**e with m in [sqrt(1/2), sqrt(2)) by integer passes, as
    musl's logf splits its argument: the kernel's frexp, mask and doubling of m below sqrt(1/2) in one subtraction
    (bits(1 - u) - bits(sqrt(1/2)): e in its high 9 bits, m's bits the rest), 7 passes for 1 - u's 9."""
    bits = v.view(_I32)
    t = s.i3
    np.subtract(bits, _V_TO_SPLIT, t)             # bits(1 - u) - bits(float(sqrt(1/2))), mod 2**32
    e = s.i2
    np.right_shift(t, _I23, e)                    # e (arithmetic shift)
    ef = s.f2
    ef[...] = e
    np.bitwise_and(t, _EXP_MASK, t)
    np.subtract(bits, t, bits)                    # v = -m * 2**24
    xr = s.f3
    np.multiply(v, _MINUS_TWO_POW_M24, xr)        # m, exact
    np.subtract(xr, _ONE, xr)                     # m - 1, exact
    x64 = s.d1
    x64[...] = xr
    z = s.f4
    np.multiply(xr, xr, z)
    x = s.f1
    y = _horner(x64, _LOG_P, x, s.dd1[0])
    np.multiply(y, xr, y)
    t, w = s.dd1
    t[...] = y
    w[...] = z
    np.multiply(t, w, t)                          # y * z, exact
    np.multiply(ef, _LOG_Q1, y)
    w[...] = y
    np.add(t, w, t)                               # fma(y, z, e * q1)
    y[...] = t
    np.multiply(z, _HALF, z)
    np.subtract(y, z, y)                          # fma(z, -0.5, y): the product is exact
    np.add(xr, y, xr)
    # fma(e, q2, x) * -2, as -2 x + e * (-2 q2): e has 5 bits and q2 9, the products and the scaling exact
    np.multiply(ef, _LOG_Q2X2, ef)
    np.multiply(xr, _MINUS_TWO, xr)
    np.add(xr, ef, xr)
    return np.sqrt(xr, xr)


def _sincos(k, s):
    """cos and sin of 2 pi u for the uniforms u = k * 2**-24 (k: float32 integers), ``sincos256_ps`` step by step,
    as the two rows of a (2, k) array."""
    x = s.f1
    np.multiply(k, _TWO_PI_M24, x)                # float(2 pi) * u
    j = s.i2
    np.multiply(x, _FOUR_OVER_PI, s.f2)
    j[...] = s.f2                                 # truncation, as _mm256_cvttps_epi32
    np.add(j, _I1, j)
    np.bitwise_and(j, _NOT1, j)
    zx, add = s.dd2, s.dd3                        # rows: (z, x) and (-z / 2, x), the fma operands below
    x64 = zx[1]                                   # the same row as add[1]
    jd = s.dd1[0]                                 # free until the polynomial; two plain passes each for
    jd[...] = j                                   # j * _DP and x + j * _DP (the mixed-dtype forms: 25.5 -> 18.6 us
    np.multiply(jd, _DP, jd)                      # a chunk)
    x64[...] = x
    np.add(x64, jd, x64)
    x[...] = x64
    x64[...] = x
    z = s.f3
    np.multiply(x, x, z)
    z64 = zx[0]
    z64[...] = z
    np.multiply(z64, _MINUS_HALF64, add[0])
    cs, t = s.cs, s.dd1
    _cs_horner(z64, cs, t)
    np.multiply(cs, z, cs)
    t[...] = cs
    np.multiply(t, zx, t)
    np.add(t, add, t)                             # fma(c, z, -z / 2) and fma(s, x, x)
    cs[...] = t
    np.add(cs[0], _ONE, cs[0])
    c, sn = cs[0].view(_I32), cs[1].view(_I32)
    h = s.i3
    np.left_shift(j, _I29, h)                     # bit 31: j & 4, bit 30: j & 2 (j <= 8: bit 3 falls off)
    flip = s.i1
    np.left_shift(h, _I1, flip)                   # bit 31 alone: j & 2 (bit 30 is j & 1 = 0)
    swap = j
    np.right_shift(flip, _I31, swap)              # all ones where j & 2: sin and cos trade polynomials
    d, sign = s.words.view(_I32)                  # two free rows
    np.bitwise_xor(sn, c, d)
    np.bitwise_and(d, swap, d)                    # c ^ s where they trade, else 0
    np.bitwise_and(h, _SIGN_MASK, sign)           # the sign of sin: bit 2 of j
    np.bitwise_xor(d, sign, d)
    np.bitwise_xor(sn, d, sn)
    # the sign of cos, bit 2 of j + 2 (j even), is bit 2 of j xor bit 1: 10 single-row passes for 13 (two rows
    # a pass, one of them broadcast) before
    np.bitwise_xor(d, flip, d)
    np.bitwise_xor(c, d, c)
    return cs


def _affine(cs, mean, std, t):
    """cs = fma(cs, std, mean), in place. With mean = +-0 that is cs * std + mean (adding a zero keeps a
    nonzero product and gives the fma's sign to a zero one), with std = 1 cs + mean: float32 passes. Otherwise
    in float64 (t), the product exact there, rounded once."""
    if mean == 0:
        np.multiply(cs, std, cs)
        np.add(cs, mean, cs)
    elif std == 1:
        np.add(cs, mean, cs)
    else:
        t[...] = cs
        np.multiply(t, _c(std, _F64), t)
        np.add(t, _c(mean, _F64), t)
        cs[...] = t


def _chunk(halves, out, r, n, mean, std, s):
    """Rows r..r+n of the draw into out, with the scratch s. The uniforms go where these rows' normals will: a
    buffer as large as the result, free until the last pass writes it."""
    w = s.words
    w.view('V32').reshape(2, n)[...] = halves[r:r + n].T
    np.bitwise_and(w[1], _LOW24, w[1])            # k, the uniform's 24 bits
    iw = w[0].view(_I32)
    np.bitwise_or(iw, _HIGH8, iw)                 # k - 2**24 = -(1 - u) * 2**24
    u = out[r:r + n].reshape(2, n * 8)
    u[...] = w.view(_I32)
    cs = _sincos(u[1], s)
    radius = _radius(u[0], s)
    np.multiply(cs, radius, cs)
    if std != 1 or mean != 0:
        _affine(cs, _c(mean, _F32), _c(std, _F32), s.dd1)
    elif not radius.all():      # u = 0 (1 in 2**24): the kernel's fma(r * c, 1, +0) makes a -0 product +0
        np.add(cs, _c(mean, _F32), cs)
    dst, src = out[r:r + n].view('V32'), cs.view('V32')
    dst[:, 0] = src[0]                            # a copy per column: 23 -> 16 us a chunk of 4096 rows against
    dst[:, 1] = src[1]                            # one transposing copy


def box_muller16_f32(words, mean, std, out, whole=None):
    """Normals into ``out`` (rows of 16 float32, C-contiguous) from as many raw words (uint32), as
    ``normal_fill_16_AVX2`` makes them from those words' uniforms; ``fma(v, std, mean)`` when not standard.
    ``whole``: the rows of the whole draw this is a piece of (sets the chunk size), else these rows."""
    rows = words.shape[0]
    halves = words.view('V32')                    # 8 words or floats as one item: no strided passes
    step = _BIG_ROWS if (whole or rows) >= _BIG_FROM else _ROWS
    # made per call, not kept: a kept 1.6 MB per drawing thread counted in the LeNet batch 64 peak memory
    # (10.5 -> 8.7 MB at one thread); once glibc has raised its mmap threshold (any freed array of a few hundred
    # KB does) fresh buffers come from the heap without page faults (0 a call at 10^6, 196608, 65536, 32768 normals)
    full = _Scratch(min(rows, step) * 8)
    for r in range(0, rows, step):
        n = min(step, rows - r)
        _chunk(halves, out, r, n, mean, std, full if n == step else full.head(n * 8))
