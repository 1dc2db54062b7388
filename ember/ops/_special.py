"""erf, erfc and erfinv on float64 NumPy arrays, without SciPy.

Piecewise polynomials fitted by tools/special_coefficients.py (rerun it to regenerate the tables below),
each within about one float64 ulp, so a float32 input computed here and rounded once is correctly rounded.
erfc(x) for x >= 0.5 is exp(-x*x) times a smooth factor, with x*x split exactly (Dekker) so that its
rounding error does not grow with x; erfinv refines a closed-form estimate with two Halley steps."""
import math

import numpy as np

from .. import _bf16, _layout, _parallel

# erf(sqrt(y)) / sqrt(y) on [0, 4], degree 16: worst error 1.00 x 2**-52
_ERF_SMALL = (2.0, (
    0.674933236039655, -0.13055593046562244, 0.029869784652462955,
    -0.006082847181147319, 0.0010705215357386946, -0.0001635898698696709,
    2.195455349402521e-05, -2.618308871837665e-06, 2.8047269005742956e-07,
    -2.723880242058585e-08, 2.4177747355353626e-09, -1.9752076311045972e-10,
    1.4940683446797326e-11, -1.0502480537432029e-12, 6.917467794739607e-14,
    -4.521963706244463e-15, 2.619882931797671e-16))

# exp(x*x) * erfc(x) on [0.5, 2], degree 18: worst error 1.00 x 2**-52
_ERFCX_MID = (1.25, (
    0.3678229164523611, -0.2088218759646102, 0.10679557149659888,
    -0.050218274395869365, 0.022011364250847418, -0.009081627634127992,
    0.0035531099035342175, -0.0013257829127515989, 0.00047397030596022346,
    -0.00016296013925133016, 5.4054092895471115e-05, -1.7343494354731172e-05,
    5.395510924839193e-06, -1.6322773246505447e-06, 4.800179855650226e-07,
    -1.3495543222071708e-07, 3.782128556692057e-08, -1.2698965108345007e-08,
    3.3712729956417845e-09))

# exp(x*x) * erfc(x) on [2, 4], degree 18: worst error 1.00 x 2**-52
_ERFCX_HIGH = (3.0, (
    0.17900115118138996, -0.05437226000717289, 0.01588437115987134,
    -0.004479431018371144, 0.0012230390523765237, -0.00032412554452200884,
    8.355413963369297e-05, -2.0989464259545496e-05, 5.146436522511331e-06,
    -1.2333685934914701e-06, 2.8926684651166363e-07, -6.64646639786765e-08,
    1.4977253627698686e-08, -3.316229237177357e-09, 7.20516363335066e-10,
    -1.5077563830210874e-10, 3.1724792006762475e-11, -8.134236373235494e-12,
    1.6482525468969957e-12))

# sqrt(pi) * x * exp(x*x) * erfc(x) in s = 1 / (x*x), for x >= 4. on [0, 0.0625], degree 13: worst error 0.51 x 2**-52
_ERFC_ASYM = (0.03125, (
    0.9850557060634584, -0.45793430599670515, 0.6054761579345811,
    -1.269686152702744, 3.558593977470589, -12.276519474555293,
    49.67742378125616, -228.49545709476445, 1168.9906520802522,
    -6542.012330516987, 39000.76513280349, -251512.96302162454,
    2141398.368987504, -15830867.112101553))

# log2(1 / Phi(x) - 1) / x, x = sqrt(u), on u in [0, 8.05], degree 5, for float32 evaluation in t = s * u as a monic
# polynomial (coefficients of degree 0..4; see ndtr_f32): s, the coefficients, t's bound (u = 8) for the tail, and
# the leading coefficient
_PHI_LOG2_F32 = (np.float32(0.04849049110371535), tuple(np.float32(c) for c in (
    -2.302208620988081, -2.162040199934501, 0.042232217409026655,
    1.3705659466925428, -1.9026238990461455)), np.float32(8 * 0.04849049110371535), 1)

# The same function at degree 4, for GELU of contiguous float32 arrays (where PyTorch's oneDNN kernel is 1.2e-6 off):
# weighted minimax (an IRLS fit) of this function's error times ln 2 Phi(x) (1 - Phi(x)) x max(0.8, x), which is
# Phi's error (then the gradient's) below x = 0.8 and x * Phi's above. x * Phi within 1.02e-6 of its exact value on
# [-8, 8], Phi within 9.1e-7, two passes fewer than degree 5; its leading coefficient in t is -1
_PHI_LOG2_F32_GELU = (np.float32(0.04843273628349976), tuple(np.float32(c) for c in (
    -2.3021835416454763, -2.166560393787601, 0.08059172449170318, 1.0862408305048503)),
    np.float32(8 * 0.04843273628349976), -1)

_BLOCK = 32768   # elements per block in ``blocked``


def _small(fn, a):
    """``fn`` on a float array of at most _BLOCK values (a float64 value beyond float32's range rounds to inf,
    silently as PyTorch)."""
    with np.errstate(over='ignore'):
        return fn(a) if a.dtype == np.float64 else fn(a.astype(np.float64)).astype(a.dtype)


def blocked(fn, a):
    """``fn`` (a float64 kernel of this module) on any float array, a block at a time so that its 30-40
    passes stay in cache, rounded once to a's dtype: 2.8 ms against 6.3 ms at once for erf of 393k float32
    values (min of 15 runs). The blocks are shared out between ember._parallel's threads (the same blocks at any
    thread count, so the same values): each is compute-bound, cache-sized and long against a hand-over (float64
    tanh of a block took 1 ms where NumPy has no SIMD tanh), so even two pay, below _parallel.MIN_BYTES."""
    if type(a) is _bf16.BF16Array:   # bf16: in float64 too, rounded to bf16 once
        return _bf16.from_f32(blocked(fn, _bf16.to_f32(a)))
    if not a.ndim:      # the kernels index their arguments
        return blocked(fn, a.reshape(1)).reshape(())
    if not a.flags.c_contiguous:   # (a broadcast or permuted input: the result laid out as PyTorch's)
        return _layout.follow(blocked(fn, np.ascontiguousarray(a)) if a.size > _BLOCK else _small(fn, a), (a,))
    if a.size <= _BLOCK:
        return _small(fn, a)
    with np.errstate(over='ignore'):
        flat = a.reshape(-1)
        out = np.empty(flat.shape, a.dtype)
        err = np.geterr()   # a pool thread has its own

        def block(i):
            with np.errstate(**err):
                out[i:i + _BLOCK] = fn(np.asarray(flat[i:i + _BLOCK], np.float64))
        _parallel.each(block, [(i,) for i in range(0, flat.size, _BLOCK)])
    return out.reshape(a.shape)


_SQRT_PI = math.sqrt(math.pi)
_2_SQRTPI = 2.0 / _SQRT_PI
_SPLIT = 134217729.0   # 2**27 + 1: Dekker's splitting constant for float64


def _poly(piece, t):
    """Horner's rule in powers of (t - centre), in place on one buffer."""
    c, coefs = piece
    u = t - c
    r = u * coefs[-1]
    r += coefs[-2]
    for k in coefs[-3::-1]:
        r *= u
        r += k
    return r


def _square_split(x):
    """x*x = p + e exactly (Dekker's split of x): p rounded, e its rounding error."""
    xh = x * _SPLIT
    xh -= xh - x
    xl = x - xh
    p = x * x
    return p, ((xh * xh - p) + 2.0 * xh * xl) + xl * xl


def _exp_neg_square(x):
    """exp(-x*x) within about an ulp: exp(-p) * (1 - e) with x*x = p + e exactly."""
    p, e = _square_split(x)
    return np.exp(-p) * (1.0 - e)


def _erfc_tail(x):
    """erfc(x) for x >= 0.5 (NaN stays NaN; inf gives 0)."""
    x = np.minimum(x, 30.0)   # erfc underflows to 0 long before 30
    out = np.empty_like(x)
    lo, hi = x < 2.0, x >= 4.0
    mid = ~(lo | hi)
    for mask, f in ((lo, lambda v: _poly(_ERFCX_MID, v)), (mid, lambda v: _poly(_ERFCX_HIGH, v)),
                    (hi, lambda v: _poly(_ERFC_ASYM, 1.0 / (v * v)) / (v * _SQRT_PI))):
        if mask.all():
            return _exp_neg_square(x) * f(x)
        if mask.any():
            v = x[mask]
            out[mask] = _exp_neg_square(v) * f(v)
    return out


def erf(a):
    """erf of a float64 array: the polynomial everywhere (one pass, no gather), then the few elements
    at or beyond 2 replaced by 1 - erfc (gathering only those halved erf's time on normal data)."""
    out = a * _poly(_ERF_SMALL, a * a)
    big = np.abs(a) >= 2.0
    big |= np.isnan(a)
    if big.any():
        v = a[big]
        out[big] = np.copysign(1.0 - _erfc_tail(np.abs(v)), v)
    return out


def ndtr_f32(a, out=None, scratch=None, coarse=False):
    """Phi(a), the normal CDF, of a float32 array in float32, for GELU: 1 / (1 + 2**(a * W(a*a))) below 2 sqrt(2) in
    magnitude (W = log2(1 / Phi - 1) / a, degree 5: within 1.1e-7 of Phi, 1.8e-6 relative for negative a), the
    few values beyond from the float64 tail. W goes as a monic polynomial in t = s * a*a (_PHI_LOG2_F32), which
    saves Horner's first multiply and the centring pass, and exp2, + 1 and a reciprocal replace (1 + tanh) / 2:
    NumPy's float32 exp2 took 118 us on 393k values, tanh 148, a pass 31. GELU forward on GPT's (12, 64, 512), see
    _activation._gelu_f32. ``out``: a float32 array of a's shape to write into; ``scratch``: another, free, for
    the t temporary; ``coarse``: W of degree 4 (_PHI_LOG2_F32_GELU, a * Phi within 1.02e-6), two passes fewer."""
    flat = a.reshape(-1)
    s, coefs, bound, lead = _PHI_LOG2_F32_GELU if coarse else _PHI_LOG2_F32
    t = np.square(flat, out=None if scratch is None else scratch.reshape(-1))     # (a unary pass: 39 -> 33 us on 393k)
    t *= s
    far = _sparse_true(t >= bound)     # NaN compares False and stays NaN through the polynomial
    if not far.size:
        return _phi_log2(flat, t, coefs, lead, out).reshape(a.shape)
    with np.errstate(over='ignore', invalid='ignore'):    # the far values' polynomial may overflow: replaced below
        r = _phi_log2(flat, t, coefs, lead, out, far)
    r[far] = _phi_far(flat[far])
    return r.reshape(a.shape)


# Up to this many values _phi_far takes math.erfc one value at a time: the vectorised tail's ~60 small NumPy calls
# cost ~30-90 us whatever the count (a GPT GELU's few dozen values past 2 sqrt 2), the loop ~0.3 us a value. Both
# give the same float32 values (equal on 2.4M values in [2.83, 14] of either sign).
_FEW_FAR = 64


def _phi_far(x):
    """Phi of the float32 values ``x`` (|x| >= 2 sqrt 2, or infinite) in float64, from erfc."""
    if x.size <= _FEW_FAR:
        return [0.5 * math.erfc(-v * _SQRT1_2) for v in x.tolist()]
    v = x.astype(np.float64) * _SQRT1_2
    half = 0.5 * _erfc_tail(np.abs(v))
    return np.where(v > 0, 1.0 - half, half)


_SQRT1_2 = 1.0 / math.sqrt(2.0)
_EIGHT = np.arange(8)


def _sparse_true(mask):
    """np.flatnonzero of a 1-D C-contiguous bool array with few True values: its bytes read as uint64 words, the
    words that are not zero found (8x fewer elements), then expanded. NumPy's nonzero fills indices in a second
    pass over every element: a (12, 64, 512) GELU's mask with 50 hits, min of 200: 66 -> 46 us with the compare."""
    n = mask.size // 8 * 8
    words = np.flatnonzero(mask[:n].view(np.uint64) != 0)
    idx = (words[:, None] * 8 + _EIGHT)[mask[:n].reshape(-1, 8)[words]]
    return idx if n == mask.size else np.concatenate((idx, np.flatnonzero(mask[n:]) + n))


def _phi_log2(flat, t, coefs, lead, out, far=None):
    """1 / (1 + 2**(flat * P(t))) for ndtr_f32, P with leading coefficient ``lead`` (1 or -1) and ``coefs`` below
    it, into ``out``. The exponents at the indices ``far`` are zeroed first: NumPy's float32 exp2 is fast only for
    moderate arguments (393k values past its range took 2.7 ms, 20x a pass in range), and those values are replaced
    anyway."""
    r = np.add(t, coefs[-1], out=None if out is None else out.reshape(-1)) if lead > 0 else \
        np.subtract(coefs[-1], t, out=None if out is None else out.reshape(-1))
    for k in coefs[-2::-1]:
        r *= t
        r += k
    r *= flat
    if far is not None and far.size <= flat.size >> 5:
        r[far] = 0
    elif far is not None:
        np.minimum(r, 126, out=r)
        np.maximum(r, -126, out=r)
    np.exp2(r, out=r)
    r += np.float32(1)
    return np.divide(np.float32(1), r, out=r)


def erfc(a):
    """erfc of a float64 array: 1 - erf below 0.5 (no cancellation there), the tail form above."""
    near = a < 0.5
    if near.all():
        return 1.0 - erf(a)
    out = np.empty_like(a)
    out[near] = 1.0 - erf(a[near])
    far = ~near
    out[far] = _erfc_tail(a[far])
    return out


def _exp_square(x):
    """exp(x*x) within about an ulp (x*x split exactly, as in _exp_neg_square); inf once it overflows."""
    p, e = _square_split(x)
    with np.errstate(over='ignore'):
        return np.exp(p) * (1.0 + e)


def _erfcx_pos(x):
    """exp(x*x) erfc(x) for x >= 0.5: the smooth factors of _erfc_tail without their exp(-x*x)."""
    out = np.empty_like(x)
    lo, hi = x < 2.0, x >= 4.0
    mid = ~(lo | hi)
    with np.errstate(divide='ignore'):
        for mask, f in ((lo, lambda v: _poly(_ERFCX_MID, v)), (mid, lambda v: _poly(_ERFCX_HIGH, v)),
                        (hi, lambda v: _poly(_ERFC_ASYM, 1.0 / (v * v)) / (v * _SQRT_PI))):
            if mask.any():
                out[mask] = f(x[mask])
    return out


def erfcx(a):
    """exp(x*x) erfc(x) of a float64 array: the tail factors from 0.5 up (0 at inf), exp(x*x) (1 - erf(x)) below
    0.5 down to -0.5, and 2 exp(x*x) - erfcx(-x) further down (inf once exp(x*x) overflows, near -26.6)."""
    out = np.empty_like(a)
    pos = a >= 0.5
    if pos.any():
        out[pos] = _erfcx_pos(a[pos])
    neg = a <= -0.5
    if neg.any():
        v = a[neg]
        with np.errstate(invalid='ignore'):
            r = 2.0 * _exp_square(v) - _erfcx_pos(-v)
        r[np.isnan(r)] = np.inf   # x*x overflowed on the way (x <= -1.3e154): exp(x*x) is inf there too
        out[neg] = r
    mid = ~(pos | neg)   # and NaN
    if mid.any():
        v = a[mid]
        out[mid] = _exp_square(v) * (1.0 - erf(v))
    return out


def log_ndtr(a):
    """log Phi(x) of a float64 array: log(erfcx(-x / sqrt 2) / 2) - x*x/2 below -1, where Phi underflows long
    before its log does, and log1p(-erfc(x / sqrt 2) / 2) above (PyTorch's split)."""
    t = a * math.sqrt(0.5)   # M_SQRT1_2 (1 / math.sqrt(2.0) is an ulp below it)
    out = np.empty_like(a)
    low = a < -1.0
    if low.any():
        v = t[low]
        out[low] = np.log(erfcx(-v) / 2) - v * v
    high = ~low
    if high.any():
        out[high] = np.log1p(-erfc(t[high]) / 2)
    return out


def erfinv(a):
    """Inverse of erf on [-1, 1] (+-inf at +-1, NaN outside): Winitzki's closed form, then two Halley steps.

    The residual erf(x) - y is taken as (1 - y) - erfc(x) above 0.5, where both are exact or accurate
    in relative terms, so the result stays accurate as y approaches 1."""
    shape, a = np.shape(a), np.atleast_1d(a)     # 0-d inputs: NumPy would hand back scalars, not arrays
    y = np.abs(a)
    w = np.log1p(-y * y)
    k = 2.0 / (math.pi * 0.147) + 0.5 * w
    x = np.sqrt(np.sqrt(k * k - w / 0.147) - k)
    upper = y > 0.5
    q = 1.0 - y
    for _ in range(2):
        g = np.where(upper, q - erfc(x), erf(x) - y)
        t = g / (_2_SQRTPI * _exp_neg_square(x))
        x -= t / (1.0 + x * t)
    x[y == 1.0] = np.inf
    x[y > 1.0] = np.nan
    return np.copysign(x, a).reshape(shape)


def _two_prod(a, b):
    """a*b = p + e exactly (Dekker's product; NumPy has no fused multiply-add)."""
    p = a * b
    ah = a * _SPLIT
    ah -= ah - a
    al = a - ah
    bh = b * _SPLIT
    bh -= bh - b
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _dd_mul(xh, xl, yh, yl):
    """(xh + xl) * (yh + yl) as a double-double."""
    p, e = _two_prod(xh, yh)
    e += xh * yl + xl * yh
    h = p + e
    return h, e - (h - p)


def _powering(x, m, mul):
    """x ** m for m >= 1 by binary powering with the product ``mul``."""
    r = None
    while m:
        if m & 1:
            r = x if r is None else mul(r, x)
        m >>= 1
        if m:
            x = mul(x, x)
    return r


def int_power(a, n):
    """a ** n for an integer n != 0, correctly rounded but for rare cases: float32 and float16 by binary
    powering in float64, float64 in double-double (NumPy's float64 pow was about 95% correctly rounded on a
    dense grid, and 30x slower)."""
    if a.dtype == np.float64 and abs(n) > 64:
        return np.power(a, float(n))
    if a.dtype != np.float64:
        r = _powering(a.astype(np.float64), abs(n), np.multiply)
        return (1.0 / r if n < 0 else r).astype(a.dtype)
    m, ex = np.frexp(a)   # a = m * 2**ex, 0.5 <= |m| < 1: m**n neither overflows nor underflows for |n| <= 64
    rh, rl = _powering((m, np.zeros_like(m)), abs(n), lambda x, y: _dd_mul(*x, *y))
    if n < 0:
        q = 1.0 / rh
        p, e = _two_prod(q, rh)
        rh = q + q * (((1.0 - p) - e) - q * rl)
    else:
        rh = rh + rl
    out = np.asarray(np.ldexp(rh, ex * n))   # a 0-d input gives a NumPy scalar: writable array for the fix-up
    bad = ~np.isfinite(a) | (a == 0)
    if bad.any():   # zeros, inf and NaN (signed zeros and infinities as C99's pow gives them)
        out[bad] = np.power(a[bad], float(n))
    return out
