"""PyTorch's float32 normal kernel, ``normal_fill_16_AVX2``, bit for bit in NumPy passes: rows of 16 uniforms
u (the low 24 bits of 16 words over 2**24) give radius * cos(theta) in columns 0-7 and radius * sin(theta) in
columns 8-15, radius = sqrt(-2 log(1 - u[:8])) and theta = 2 pi u[8:], through Cephes' float32 ``log`` and
``sincos`` from ``avx_mathfun.h`` with the FMA contractions PyTorch's build makes.

A float32 fma(a, b, c) is emulated as a * b + c in float64 (the product of two floats is exact there), rounded
once to float32 (a double rounding can differ only on an exact float64 tie: none in 10^6 samples). Where a
product is exact in float32 already (an integer of a few bits times a short constant), plain float32
arithmetic does the step. Work goes in chunks of rows whose scratch stays in cache, every pass in place.
The mantissa and exponent of 1 - u come from ``frexp`` (the kernel's masks and shifts were 14 integer passes);
``fma(v, std, mean)`` stays in float32 when mean is zero or std one. Both checked equal to the previous passes
(themselves checked against PyTorch) on every one of the 2**24 uniforms of each half."""
import math

import numpy as np

_F32, _F64, _I32, _U32 = np.float32, np.float64, np.int32, np.uint32
_LOG_P = tuple(float(_F32(p)) for p in (
    7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
    -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1))
# the cos and sin polynomials as the two rows of a (2, k) array, one pass doing both
_CS_P = [np.array([[c], [s]], _F32).astype(_F64) for c, s in (
    (2.443315711809948e-5, -1.9515295891e-4), (-1.388731625493765e-3, 8.3321608736e-3),
    (4.166664568298827e-2, -1.6666654611e-1))]
# sincos256_ps reduces x by j * (DP1 + DP2 + DP3) in three fmas. The first two are exact in float32 (Sterbenz;
# DP1 and DP2 have 8 and 11 bits, j <= 8), and the three constants sum exactly in float64 (48 bits), so the
# reduction is x + j * _DP rounded once to float32, exact in float64 before that rounding.
_DP = float(_F32(-0.78515625)) + float(_F32(-2.4187564849853515625e-4)) + float(_F32(-3.77489497744594108e-8))
_ROWS = 2048    # rows of 16 per chunk: 4096 and 2048 measured best of 1024..16384 (9.3-10.0 ms for 10^6 normals,
                # 1024 11.6, whole arrays 30); 2048's scratch is half as large (1.6 MB)


class _Scratch:
    """The buffers of one chunk of k rows' halves (k * 8 elements), reused by every chunk."""

    def __init__(self, k):
        self.f1, self.f2, self.f3, self.f4 = (np.empty(k, _F32) for _ in range(4))
        self.i1, self.i2, self.i3 = (np.empty(k, _I32) for _ in range(3))
        self.d1 = np.empty(k, _F64)
        self.words = np.empty((2, k), _U32)
        self.cs = np.empty((2, k), _F32)
        self.dd1, self.dd2, self.dd3 = (np.empty((2, k), _F64) for _ in range(3))

    def head(self, k):
        """The first k elements of every buffer (the last, shorter chunk)."""
        s = _Scratch.__new__(_Scratch)
        for name, arr in vars(self).items():
            setattr(s, name, arr[..., :k])
        return s


def _horner(x64, coeffs, out, t):
    """Horner's rule in float32 with an fma per step, into ``out``: each step y * x + c in float64 (``t``),
    rounded to float32 and back."""
    np.multiply(x64, coeffs[0], out=t)
    np.add(t, coeffs[1], out=t)
    for c in coeffs[2:]:
        np.copyto(out, t, casting='same_kind')
        np.copyto(t, out)
        np.multiply(t, x64, out=t)
        np.add(t, c, out=t)
    np.copyto(out, t, casting='same_kind')
    return out


def _radius(u, s):
    """sqrt(-2 log(1 - u)) for the uniforms u (float32), ``log256_ps`` step by step."""
    x = s.f1
    np.subtract(_F32(1), u, out=x)                # 1 - u, exact
    bits = x.view(_I32)
    e = s.i2
    np.frexp(x, out=(x, e))                       # the mantissa in [0.5, 1), as the kernel's bit masks make it
    small = s.i3                                  # 1 where the mantissa < float(sqrt(0.5)): it is doubled
    np.subtract(bits, 0x3f3504f3, out=small)
    np.right_shift(small.view(_U32), 31, out=small.view(_U32))
    np.ldexp(x, small, out=x)
    ef = s.f2
    np.subtract(e, small, out=ef, casting='unsafe')
    xr = s.f3
    np.subtract(x, _F32(1), out=xr)               # exact
    x64 = s.d1
    np.copyto(x64, xr)
    z = s.f4
    np.multiply(xr, xr, out=z)
    y = _horner(x64, _LOG_P, x, s.dd1[0])
    np.multiply(y, xr, out=y)
    t = s.dd1[0]
    np.multiply(y, z, out=t, dtype=_F64)
    np.multiply(ef, _F32(-2.12194440e-4), out=y)
    np.add(t, y, out=t)                           # fma(y, z, e * q1)
    np.copyto(y, t, casting='same_kind')
    np.multiply(z, _F32(0.5), out=z)
    np.subtract(y, z, out=y)                      # fma(z, -0.5, y): the product is exact
    np.add(xr, y, out=xr)
    # fma(e, q2, x) * -2, as -2 x + e * (-2 q2): e has 5 bits and q2 9, the products and the scaling exact
    np.multiply(ef, _F32(-2 * 0.693359375), out=ef)
    np.multiply(xr, _F32(-2), out=xr)
    np.add(xr, ef, out=xr)
    return np.sqrt(xr, out=xr)


def _sincos(u, s):
    """cos and sin of 2 pi u for the uniforms u (float32), ``sincos256_ps`` step by step, as the two rows
    of a (2, k) array."""
    x = s.f1
    np.multiply(u, _F32(2.0 * math.pi), out=x)    # float(2 pi) * u
    j = s.i2
    np.multiply(x, _F32(1.27323954473516), out=s.f2)
    np.copyto(j, s.f2, casting='unsafe')          # truncation, as _mm256_cvttps_epi32
    np.add(j, 1, out=j)
    np.bitwise_and(j, ~1, out=j)
    zx, add = s.dd2, s.dd3                        # rows: (z, x) and (-z / 2, x), the fma operands below
    x64 = add[1]
    np.multiply(j, _DP, out=x64)
    np.add(x64, x, out=x64)
    np.copyto(x, x64, casting='same_kind')
    np.copyto(x64, x)
    np.copyto(zx[1], x64)
    z = s.f3
    np.multiply(x, x, out=z)
    z64 = zx[0]
    np.copyto(z64, z)
    np.multiply(z64, -0.5, out=add[0])
    cs, t = s.cs, s.dd1
    _horner(z64, _CS_P, cs, t)
    np.multiply(cs, z, out=cs)
    np.copyto(t, cs)
    np.multiply(t, zx, out=t)
    np.add(t, add, out=t)                         # fma(c, z, -z / 2) and fma(s, x, x)
    np.copyto(cs, t, casting='same_kind')
    np.add(cs[0], _F32(1), out=cs[0])
    c, sn = cs[0].view(_I32), cs[1].view(_I32)
    swap = s.i3
    np.left_shift(j, 30, out=swap)
    np.right_shift(swap, 31, out=swap)            # all ones where j & 2: sin and cos trade polynomials
    d = s.i1
    np.bitwise_xor(sn, c, out=d)
    np.bitwise_and(d, swap, out=d)
    np.bitwise_xor(c, d, out=c)
    np.bitwise_xor(sn, d, out=sn)
    np.bitwise_and(j, 4, out=swap)                # the sign of sin: j & 4
    np.left_shift(swap, 29, out=swap)
    np.bitwise_xor(sn, swap, out=sn)
    np.add(j, 2, out=j)                           # the sign of cos: ~(j - 2) & 4, that is (j + 2) & 4 for even j
    np.bitwise_and(j, 4, out=j)
    np.left_shift(j, 29, out=j)
    np.bitwise_xor(c, j, out=c)
    return cs


def _affine(cs, mean, std, t):
    """cs = fma(cs, std, mean), in place. With mean = +-0 that is cs * std + mean (adding a zero keeps a
    nonzero product and gives the fma's sign to a zero one), with std = 1 cs + mean: float32 passes. Otherwise
    in float64 (t), the product exact there, rounded once."""
    if mean == 0:
        np.multiply(cs, std, out=cs)
        np.add(cs, mean, out=cs)
    elif std == 1:
        np.add(cs, mean, out=cs)
    else:
        np.multiply(cs, float(std), out=t, dtype=_F64)
        np.add(t, float(mean), out=t)
        np.copyto(cs, t, casting='same_kind')


def _chunk(halves, out, r, n, mean, std, s):
    """Rows r..r+n of the draw into out, with the scratch s. The uniforms go where these rows' normals will: a
    buffer as large as the result, free until the last pass writes it."""
    np.copyto(s.words.view('V32').reshape(2, n), halves[r:r + n].T)
    np.bitwise_and(s.words, 0xFFFFFF, out=s.words)
    u = out[r:r + n].reshape(2, n * 8)
    np.copyto(u, s.words.view(_I32), casting='unsafe')
    np.multiply(u, _F32(2.0 ** -24), out=u)       # the uniforms, exact
    cs = _sincos(u[1], s)
    np.multiply(cs, _radius(u[0], s), out=cs)
    if std != 1 or mean != 0:
        _affine(cs, _F32(mean), _F32(std), s.dd1)
    np.copyto(out[r:r + n].view('V32').T, cs.view('V32').reshape(2, n))


def box_muller16_f32(words, mean, std, out):
    """Normals into ``out`` (rows of 16 float32, C-contiguous) from as many raw words (uint32), as
    ``normal_fill_16_AVX2`` makes them from those words' uniforms; ``fma(v, std, mean)`` when not standard."""
    rows = words.shape[0]
    halves = words.view('V32')                    # 8 words or floats as one item: no strided passes
    # made per call, not kept: a kept 1.6 MB per drawing thread counted in the LeNet batch 64 peak memory
    # (10.5 -> 8.7 MB at one thread); once glibc has raised its mmap threshold (any freed array of a few hundred
    # KB does) fresh buffers come from the heap without page faults (0 a call at 10^6, 196608, 65536, 32768 normals)
    full = _Scratch(min(rows, _ROWS) * 8)
    for r in range(0, rows, _ROWS):
        n = min(_ROWS, rows - r)
        _chunk(halves, out, r, n, mean, std, full if n == _ROWS else full.head(n * 8))
