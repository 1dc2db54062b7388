"""PyTorch's float32 softmax / log_softmax CPU kernels where it runs their AVX-512 build, bit for bit: SLEEF's
``expf``/``logf`` (Sleef_expf16_u10, Sleef_logf16_u10: ``Vectorized<float>::exp``/``log``) and glibc's expf (the
kernels' scalar tails) step by step with their fused multiply-adds, and the kernels' sum orders (vec::reduce_all's lane
tree for the last dim, sums down the dim from 0 otherwise). SLEEF's expf differs from the correctly rounded exp in
9.4% of arguments over [-20, 0], its logf in 0.07% of sums over [1, 5000], so NumPy's exp and log gave other last bits.
Each float32 step is computed in float64 and rounded once; a fused step's float64 sum (the product of two float32s is
exact in float64) rounds twice only on a float32 midpoint, which a whole-block test finds (_fused._no_midpoint) and
_fused.fma32 then redoes exactly."""
import functools

import numpy as np

from ._distributions import fma64
from ._fused import _no_midpoint, fma32
from ._halfgemm import cpu_has
from .. import _exact, _parallel
from ..backend import row_max

_F32, _F64, _I64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)
_R_LN2 = np.float32(1.442695040888963407359924681001892137426645954152985934135449406931)
_L2U, _L2L = float(np.float32(0.693145751953125)), float(np.float32(1.428606765330187045e-06))
# expf's polynomial in the reduced argument, highest power first (0.5 last)
_EXP_POLY = tuple(float(np.float32(c)) for c in (0.00139304355252534151077271, 0.00833336077630519866943359,
                                                 0.0416664853692054748535156, 0.166666671633720397949219, 0.5))
_EXP_TOP = np.float32(0.000198527617612853646278381)
_LN2_HI, _LN2_LO = np.float32(0.69314718246459960938), np.float32(-1.904654323148236017e-09)
_LOG_POLY = tuple(np.float32(c) for c in (0.3027294874, 0.3996108174, 0.6666694880))
# elements a block: expf of (12, 4, 64, 64) float32, min of 15 (ms, loaded host): 4096 3.6, 8192 2.6, 16384 2.1,
# 32768 2.6 (noisy; (768, 65): 0.92, 0.70, 0.58, 0.51): each block costs ~60 NumPy calls
BLOCK = 1 << 15


def _round32(t, out, f32):
    """``out`` (float64) = the float64 ``t`` rounded to float32, through the float32 scratch ``f32``."""
    np.copyto(f32, t, casting='same_kind')
    np.copyto(out, f32)
    return out


def _no_tiny(d, bits):
    """Whether no float32 of ``d`` is nonzero and below 2**-125 (``bits``: int32 scratch): the only arguments whose
    last fused step, s*s*u + s ~ s, may fall below float32's normal range and round twice there."""
    np.bitwise_and(d.view(np.int32), 0x7fffffff, out=bits)
    bits -= 1                                   # zero wraps to the largest uint32
    return np.minimum.reduce(bits.view(np.uint32)) >= 0x01000000 - 1


class _Scratch:
    """One block's arrays, allocated once per expf call: float64 t, s, u, q, the float32 and int64 scratch."""

    def __init__(self, n):
        self.t, self.s, self.u, self.q = (np.empty(n) for _ in range(4))
        self.f32, self.i64, self.i32 = np.empty(n, _F32), np.empty(n, _I64), np.empty(n, np.int32)

    def cut(self, n):
        """The first n elements of each array."""
        if n == self.t.size:
            return self
        cut = object.__new__(_Scratch)
        cut.__dict__.update({k: v[:n] for k, v in self.__dict__.items()})
        return cut


def _fma_step(w, u, s, c):
    """``u = round32(u * s + c)`` in place (u, s float64 arrays holding float32 values, c a number; ``w`` the
    _Scratch): once in float64, exactly by fma32 where that could round twice (u is near c, never subnormal)."""
    t = np.multiply(u, s, out=w.t)
    t += c
    if not _no_midpoint(t, w.i64):
        t[...] = fma32(u, s, np.float32(c))
    _round32(t, u, w.f32)


def _expf_block(d, out, w):
    """Sleef_expf16_u10 of the float32 block ``d`` into ``out`` for arguments in [-104, 100] and NaN (callers mask the
    rest; ``w`` the _Scratch): q = rint(d / ln2), s = d - q ln2 in two parts (d - q*L2U exact: q*L2U has 24 bits
    and Sterbenz; adding q*L2L in float64 is exact, the sum spanning < 53 bits, so one rounding), the degree-6
    polynomial by fused steps, 1 + (s*s*u + s), times 2**q. Every step in float64 on float32 values (NumPy's
    mixed float32/float64 products cast through buffers: 4x slower)."""
    t, s, u, q = w.t, w.s, w.u, w.q
    np.multiply(d, _R_LN2, out=w.f32)           # (float32, as SLEEF's)
    np.rint(w.f32, out=w.f32)
    np.copyto(q, w.f32)
    np.copyto(w.i32, w.f32, casting='unsafe')   # q as int32, for the final ldexp (NaN's is masked by expf)
    np.multiply(q, -_L2U, out=t)
    t += d
    np.multiply(q, -_L2L, out=s)
    t += s
    _round32(t, s, w.f32)
    u.fill(float(_EXP_TOP))
    for c in _EXP_POLY:
        _fma_step(w, u, s, c)
    ss = _round32(np.multiply(s, s, out=q), q, w.f32)
    np.multiply(ss, u, out=t)
    t += s
    if not (_no_midpoint(t, w.i64) and _no_tiny(d, w.i64.view(np.int32)[:d.size])):
        t[...] = fma32(ss, u, s)
    _round32(t, u, w.f32)
    u += 1.0                                    # (exact: u is 1 + a float32 of at most ~0.5)
    _round32(u, u, w.f32)
    np.ldexp(u, w.i32, out=u)
    np.copyto(out, u, casting='same_kind')


def blockwise(fn, x, block):
    """fn (a float32 array -> a new float32 array of its shape) over ``x`` ``block`` values at a time: the SLEEF
    emulations' tens of temporaries stay in the cache (see each caller's measured block)."""
    if x.size <= block:
        return fn(x)
    flat, out = x.reshape(-1), np.empty(x.shape, _F32)
    res = out.reshape(-1)
    for i in range(0, flat.size, block):
        res[i:i + block] = fn(flat[i:i + block])
    return out


def expf(d, out=None):
    """Sleef_expf16_u10 of a float32 array (NaN -> NaN, below -104 -> 0, above 100 -> inf), a new array or ``out``."""
    d = np.asarray(d, _F32)
    if out is None:
        out = np.empty(d.shape, _F32)
    flat, res = d.reshape(-1), out.reshape(-1)
    w = _Scratch(min(BLOCK, flat.size))
    with np.errstate(invalid='ignore', over='ignore', under='ignore'):
        for i in range(0, flat.size, BLOCK):
            blk, r = flat[i:i + BLOCK], res[i:i + BLOCK]
            wb = w.cut(blk.size)
            if blk.min(initial=0) >= -104 and blk.max(initial=0) <= 100:
                _expf_block(blk, r, wb)
                continue
            _expf_block(np.clip(blk, -104, 100), r, wb)
            r[blk < -104] = 0
            r[blk > 100] = np.inf
            nan = np.isnan(blk)
            r[nan] = blk[nan]
    return out


def _two_sum_fast(x, y):
    """SLEEF's dfadd2 of float32 x and y: the rounded sum and its error (float32 steps)."""
    r = x + y
    v = r - x
    return r, (x - (r - v)) + (y - v)


def _fma(a, b, c):
    """float32 ``a * b + c`` rounded once, for logf's short arrays: in float64, by fma32 only where that could round
    twice (fma32's own passes cost ~20 us a call there)."""
    t = np.multiply(a, b, dtype=_F64)
    t += c
    a64 = np.abs(t)
    if not _no_midpoint(t.reshape(-1), np.empty(t.size, _I64)) or \
            np.minimum.reduce(a64, where=a64 != 0, initial=np.inf, axis=None) < 2.0 ** -126:
        return fma32(a, b, c)
    return t.astype(_F32)


def logf(d):
    """Sleef_logf16_u10 (its AVX-512 branch) of a float32 array of positive finite values (softmax's row sums);
    anything else is NumPy's float32 log there (inf, 0, NaN and negatives give log's special values as SLEEF's)."""
    d = np.asarray(d, _F32)
    with np.errstate(all='ignore'):
        e = (np.frexp(d * np.float32(1 / 0.75))[1] - 1).astype(_F32)     # getexp: floor(log2)
        fr = np.frexp(d)[0]
        m = np.where(fr < 0.75, fr * 2, fr).astype(_F32)                # getmant: [0.75, 1.5)
        sx = _LN2_HI * e
        sy = _fma(_LN2_LO, e, _fma(_LN2_HI, e, -sx))
        nx, ny = _two_sum_fast(np.float32(-1), m)
        dx, dy = _two_sum_fast(np.float32(1), m)
        t = np.float32(1) / dx                                          # dfdiv with fused steps
        qx = nx * t
        qy = _fma(-dy, t, _fma(-dx, t, np.float32(1)))
        qy = _fma(qx, qy, _fma(ny, t, _fma(t, nx, -qx)))
        x2 = qx * qx
        p = _fma(_fma(_LOG_POLY[0], x2, _LOG_POLY[1]), x2, _LOG_POLY[2])
        a, b = qx * np.float32(2), qy * np.float32(2)
        rx = sx + a
        sy = ((sx - rx) + a + sy) + b
        y = (x2 * qx) * p
        sx = rx + y
        sy = ((rx - sx) + y) + sy
        r = sx + sy
        bad = ~(np.isfinite(d) & (d > 0))
        if bad.any():
            r = np.where(bad, np.log(d), r)
    return r.astype(_F32)


def emulated():
    """Whether the bit-for-bit kernels are on (ember._exact: opt-in, they cost ~10x) and PyTorch runs its AVX-512
    kernels here (its capability needs AVX-512 F, BW, VL and DQ), whose float32 softmax/log_softmax this module's
    functions reproduce. AVX2 hosts (8 lanes, their own reduction tree) keep NumPy's exp and sums."""
    return _exact.ON[0] and _avx512()


@functools.lru_cache(maxsize=None)
def _avx512():
    return cpu_has('AVX512F', 'AVX512BW', 'AVX512VL', 'AVX512DQ')


def lane_sums(e, a=None, b=None):
    """float32 sums over the last axis of the float32 ``e`` (keepdims) in vec::reduce_all's order: rows shorter than
    16 one by one from the left; else 16 lanes each summing its column of 16-blocks top down, the last n mod 16
    values into the first lanes, then the lanes as AVX-512's shuffle tree (lane i takes lane i ^ 8, ^ 4, ^ 2, ^ 1:
    halves of halves). Up to 8 blocks by slices, beyond by NumPy's reduction over a middle axis (which adds whole
    rows in order): (768, 65) 150 -> 54 us. With ``a`` and ``b`` (e = a * b rounded), the tail is added fused,
    acc + a * b rounded once: PyTorch's softmax backward at one thread (measured: at 2 threads its tail is unfused,
    at 1 fused, n = 17 and 40 each telling them apart; another inlined copy of the kernel, compiled otherwise)."""
    n = e.shape[-1]
    if n < 16:
        s = e[..., :1].copy()
        for i in range(1, n):
            s += e[..., i:i + 1]
        return s
    full = n - n % 16
    if full <= 128:
        acc = e[..., :16].copy()
        for i in range(16, full, 16):
            acc += e[..., i:i + 16]
    else:
        acc = e[..., :full].reshape(e.shape[:-1] + (full // 16, 16)).sum(axis=-2, dtype=_F32)
    if a is None:
        acc[..., :n - full] += e[..., full:]
    else:
        acc[..., :n - full] = fma32(a[..., full:], b[..., full:], acc[..., :n - full])
    for half in (8, 4, 2, 1):
        acc = acc[..., :half] + acc[..., half:2 * half]
    return acc


def softmax_rows(x, out):
    """PyTorch's float32 softmax over the last dim (_vec_softmax_lastdim): exp(x - max) by SLEEF, reduce_all's sum,
    times its float32 reciprocal."""
    np.subtract(x, row_max(x), out=out)
    expf(out, out)
    s = lane_sums(out)
    out *= np.divide(np.float32(1), s, out=s)


def softmax_rows_reduced(x, out):
    """PyTorch's bf16/float16 softmax over the last dim (_vec_softmax_lastdim's reduced-float branch) on the float32
    values ``x``, into ``out``: exp(x - max) by SLEEF over whole 16-blocks and glibc's in the tail; the blocks summed as
    reduce_all's lanes and tree, the tail's exps then added in order; times the float32 reciprocal of the sum."""
    z = x - row_max(x)
    n = z.shape[-1]
    full = n - n % 16
    e = np.empty_like(z)
    s = np.zeros(z.shape[:-1] + (1,), _F32)
    if full:
        e[..., :full] = expf(z[..., :full])
        s = lane_sums(e[..., :full])
    if full < n:
        e[..., full:] = glibc_expf(z[..., full:])
        for i in range(full, n):
            s = s + e[..., i:i + 1]
    np.multiply(e, np.float32(1) / s, out=out)


def log_softmax_rows(x, out):
    """PyTorch's float32 log_softmax over the last dim (_vec_log_softmax_lastdim): (x - max) - logf(sum of
    exp(x - max)), SLEEF's exp and log and reduce_all's sum."""
    np.subtract(x, row_max(x), out=out)
    out -= logf(lane_sums(expf(out)))


def softmax_bw_rows(y, g, out):
    """PyTorch's float32 softmax backward over the last dim (_vec_host_softmax_backward_lastdim): (g - s) * y with
    s the reduce_all sum of the rounded products g * y (measured: GCC leaves that sum unfused, 864 of 5000 values
    of a (5, 1000) gradient differed with fused steps, 0 without). One row, or one thread, runs at::parallel_for's
    inline copy, which fuses the tail (lane_sums): its grain of 0 splits only two rows or more."""
    np.multiply(g, y, out=out)
    inline = _parallel.threads() == 1 or out.size == out.shape[-1]
    s = lane_sums(out, g, y) if inline else lane_sums(out)
    np.subtract(g, s, out=out)
    out *= y


def log_softmax_bw_rows(y, g, out):
    """PyTorch's float32 log_softmax backward over the last dim: g - exp(y) * s fused (GCC's fnmadd; unfused, 106
    of 5000 values of a (5, 1000) gradient differed), exp by SLEEF, s the reduce_all sum of g. ``out`` may be g."""
    s = lane_sums(g)
    e = expf(y)
    e *= np.float32(-1)
    out[...] = fma32(e, s, g)


def _mid(a, d):
    """``a`` as a C-contiguous (outer, a.shape[d], inner) array: the layout PyTorch's dim != -1 kernels walk."""
    outer = int(np.prod(a.shape[:d], dtype=np.int64))
    return np.ascontiguousarray(a).reshape(outer, a.shape[d], -1)


def _vector_lanes(inner, n):
    """Which inner positions _vec_logsoftmax and _vec_log_softmax_backward take in vectors (SLEEF's exp) rather than
    in their scalar tails (glibc's expf): inner is cut into chunks of 128 KiB / (n floats), a multiple of 16, and
    each chunk's last size mod 16 positions are the tail."""
    chunk = max(131072 // n // 4, 16) // 16 * 16
    j = np.arange(inner)
    start = j // chunk * chunk
    size = np.minimum(chunk, inner - start)
    return j - start < size - size % 16


def _exp_lanes(z, lanes):
    """exp of the float32 (outer, n, inner) ``z``: SLEEF's at the inner ``lanes``, elsewhere glibc's."""
    e = expf(z)
    if not lanes.all():
        tail = ~lanes
        e[..., tail] = glibc_expf(z[..., tail])
    return e


def log_softmax_mid(a, d):
    """PyTorch's float32 log_softmax over a dim that is not the last (_vec_logsoftmax): per inner position, the sum
    of exp(x - max) down the dim from 0, its log by SLEEF, (x - max) - log."""
    x = _mid(a, d)
    z = x - x.max(axis=1, keepdims=True)
    s = _exp_lanes(z, _vector_lanes(x.shape[2], x.shape[1])).sum(axis=1, keepdims=True, dtype=_F32)
    z -= logf(s)
    return z.reshape(a.shape)


def log_softmax_bw_mid(y, g, d):
    """PyTorch's float32 log_softmax backward over a dim that is not the last (_vec_log_softmax_backward): g's sum
    down the dim from 0, g - exp(y) * sum fused (GCC contracts the vector and the scalar tail's alike)."""
    y3, g3 = _mid(y, d), _mid(g, d)
    s = g3.sum(axis=1, keepdims=True, dtype=_F32)
    e = _exp_lanes(y3, _vector_lanes(y3.shape[2], y3.shape[1]))
    e *= np.float32(-1)
    return fma32(e, s, g3).reshape(y.shape)


def thread_lanes(outer, inner, threads, width=16):
    """Which (outer, inner) positions _vec_softmax takes in ``width``-wide vectors (16 float32 lanes; 32 for
    bfloat16/float16, reduced_width): outer * inner positions are cut into ``threads`` equal spans
    (at::parallel_for, measured: as with no grain), each span walks its rows' pieces from their starts in vectors
    while ``width`` fit, the rest one by one."""
    n = outer * inner
    spans = 1 if threads <= 1 or n <= 1 else threads
    chunk = -(-n // spans)
    p = np.arange(n)
    lo = p // chunk * chunk
    row = p // inner * inner
    start = np.maximum(lo, row)
    stop = np.minimum(np.minimum(lo + chunk, n), row + inner)
    return (p - start < (stop - start) // width * width).reshape(outer, inner)


def reduced_width():
    """Elements of a bfloat16/float16 vector in PyTorch's kernels on this CPU: 32 with AVX-512, else 16 (AVX2)."""
    return 32 if _avx512() else 16


def softmax_mid(a, d, threads):
    """PyTorch's float32 softmax over a dim that is not the last (_vec_softmax): exp(x - max) (SLEEF's in the
    vector lanes, glibc's in the scalar ones: thread_lanes), sums down the dim from 0, each value divided by its
    sum."""
    x = _mid(a, d)
    z = x - x.max(axis=1, keepdims=True)
    lanes = thread_lanes(x.shape[0], x.shape[2], threads)
    e = expf(z)
    if not lanes.all():
        tail = np.broadcast_to(~lanes[:, None, :], z.shape)
        e[tail] = glibc_expf(z[tail])
    s = e.sum(axis=1, keepdims=True, dtype=_F32)
    e /= s
    return e.reshape(a.shape)


def softmax_bw_mid(y, g, d):
    """PyTorch's float32 softmax backward over a dim that is not the last (_vec_softmax_backward): s = sum of g * y
    down the dim from 0 by fused steps (GCC contracts the vectors' and the scalar tails' alike: unfused, 569 of
    42000 values of a (2, 300, 70) gradient differed), then y * (g - s)."""
    y3, g3 = _mid(y, d), _mid(g, d)
    s = np.zeros((y3.shape[0], y3.shape[2]), _F32)
    for k in range(y3.shape[1]):
        s = fma32(g3[:, k], y3[:, k], s)
    r = g3 - s[:, None, :]
    r *= y3
    return r.reshape(y.shape)


# glibc's expf (ARM's optimized routine, its FMA build): 2**(i/32)'s float64 bits less i << 47, the polynomial's
# coefficients scaled by 32**-k, 32/ln2 and the rounding shift
_GLIBC_TAB = np.array([
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51, 0x3fef72b83c7d517b,
    0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1, 0x3fef06fe0a31b715, 0x3feef1a7373aa9cb,
    0x3feedea64c123422, 0x3feece086061892d, 0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429,
    0x3feea47eb03a5585, 0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d, 0x3feee89f995ad3ad,
    0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069, 0x3fef5818dcfba487, 0x3fef7c97337b9b5f,
    0x3fefa4afa2a490da, 0x3fefd0765b6e4540], dtype=np.uint64)
_GLIBC_POLY = (float.fromhex('0x1.c6af84b912394p-5') / 32 ** 3, float.fromhex('0x1.ebfce50fac4f3p-3') / 32 ** 2,
               float.fromhex('0x1.62e42ff0c52d6p-1') / 32)
_GLIBC_INV_LN2 = float.fromhex('0x1.71547652b82fep+0') * 32
_GLIBC_SHIFT = float.fromhex('0x1.8p+52')


def glibc_expf(x):
    """glibc's expf of float32 ``x`` in [-103, 88] (softmax's shifted arguments, sigmoid's tails; others: NumPy's
    float64 exp rounded): x = (k + r) ln2 / 32, 2**(k/32) from the table, a cubic in r with fused steps, rounded once
    to float32. Within 0.502 ulp, so not always the correctly rounded value: PyTorch's scalar tails call it
    (std::exp; sigmoid of 620,000 values in [-103, 88] in 31-value tensors: all equal, 255 off with the correctly
    rounded exp for positive arguments)."""
    xd = x.astype(_F64)
    kd = xd * _GLIBC_INV_LN2
    r = kd.copy()
    kd += _GLIBC_SHIFT
    ki = kd.view(np.uint64).copy()
    kd -= _GLIBC_SHIFT
    r -= kd
    scale = (_GLIBC_TAB[ki % np.uint64(32)] + (ki << np.uint64(47))).view(_F64)
    c0, c1, c2 = (np.full_like(r, c) for c in _GLIBC_POLY)
    y = fma64(fma64(c0, r, c1), r * r, fma64(c2, r, np.ones_like(r)))
    y *= scale
    out = y.astype(_F32)
    odd = ~((x >= -103) & (x <= 88))
    if odd.any():
        with np.errstate(over='ignore', under='ignore', invalid='ignore'):
            out[odd] = np.exp(x[odd].astype(_F64)).astype(_F32)
    return out
