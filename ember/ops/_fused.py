"""Fused multiply-add, as PyTorch's CPU kernels compute ``add``/``sub`` with ``alpha``, ``lerp`` and ``addcmul``.

PyTorch 2.13's kernels here are compiled with FMA contraction: ``a + alpha * b`` rounds once, and rounding the
product first differs in the last bit for 5-25% of float32 results (measured on 10^6 values). Float32: the
product of two float32s is exact in float64, so ``p + c`` in float64 rounded to float32 is the fused result
except where double rounding bites (the float64 sum inexact and on a float32 midpoint, or a float32-subnormal
result): only those elements are moved one float64 ulp toward the exact sum (rounding to odd) before the cast.
Float64 uses ``fma64`` (Boldo-Melquiond); float16/bfloat16 are computed as float32 and rounded, as PyTorch does."""
import numpy as np

from .. import _bf16
from ._distributions import fma64, _two_sum

_F32, _F64, _I64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)
_LOW29, _HALF29 = np.int64((1 << 29) - 1), np.int64(1 << 28)    # float64 bits below float32's last mantissa bit
_TINY32 = np.float32(2.0 ** -126)
BLOCK = 1 << 14     # elements of an in-place update done at a time (float64 scratch of 128 KiB stays in cache)


def fma(a, b, c, dtype):
    """``a * b + c`` rounded once to the floating NumPy ``dtype`` (ember's bfloat16 included); operands are
    arrays or numbers, converted to the computing dtype (float32 for the half types) and broadcast."""
    if dtype == _F64:
        return _fma64(a, b, c)
    r = fma32(a, b, c)
    if dtype == _F32:
        return r
    return _bf16.from_f32(r) if _bf16.is_bf16(dtype) else r.astype(dtype)


def _fma64(a, b, c):
    """float64 fma; where the emulation overflows or meets inf/nan (its splits are not finite) the plain
    ``a * b + c`` gives the IEEE result."""
    a, b, c = (np.asarray(v, _F64) for v in (a, b, c))
    shape = np.broadcast_shapes(a.shape, b.shape, c.shape)
    with np.errstate(over='ignore', invalid='ignore'):
        r = np.array(fma64(a, b, c), _F64).reshape(shape)
        bad = ~np.isfinite(r)
        if bad.any():
            plain = np.broadcast_to(a * b + c, shape)
            r[bad] = plain[bad]
    return r


def fma32(a, b, c):
    """float32 ``a * b + c`` rounded once (operands converted to float32 first), a new float32 array."""
    a, b, c = (np.asarray(v, _F32) for v in (a, b, c))
    s = np.multiply(a, b, dtype=_F64)
    s = np.array(np.add(s, c, dtype=_F64), _F64, ndmin=1)
    if s.shape != np.broadcast_shapes(a.shape, b.shape, c.shape):   # 0-d operands
        s = s.reshape(np.broadcast_shapes(a.shape, b.shape, c.shape))
    _to_odd(s, a, b, c)
    return s.astype(_F32)


def _suspects(s):
    """Where rounding the float64 sums ``s`` to float32 might round twice: on a float32 midpoint or subnormal."""
    flat = s.reshape(-1)
    mid = (flat.view(_I64) & _LOW29) == _HALF29
    mid |= np.abs(flat) < _TINY32
    return mid


def _to_odd(s, a, b, c, where=None):
    """Move the float64 sums ``s = a * b + c`` (float32 operands, broadcast to s) that might round twice one
    ulp toward the exact sum, in place, where the sum was inexact and s's last bit is even (round to odd)."""
    sus = _suspects(s) if where is None else where
    if not sus.any():
        return
    idx = np.flatnonzero(sus)
    shape = s.shape
    sv = s.reshape(-1)
    pick = (lambda x: np.broadcast_to(x, shape).reshape(-1)[idx].astype(_F64))
    p = pick(a) * pick(b)
    cc = pick(c)
    sum_, err = _two_sum(p, cc)
    bits = sum_.view(_I64)
    with np.errstate(invalid='ignore'):
        move = ((err > 0) | (err < 0)) & ((bits & 1) == 0)
    if move.any():
        sum_[move] = np.nextafter(sum_[move], np.where(err[move] > 0, np.inf, -np.inf))
    sv[idx] = sum_


def fma_(out, a, b, c):
    """``out = a * b + c`` rounded once, in place, for float32/float64 C-contiguous ``out`` with ``b`` and ``c``
    arrays of its shape and dtype (either may be ``out`` itself) and ``a`` a number (cast to out's dtype, as
    PyTorch casts alpha): ``add_``/``sub_`` with ``alpha``. Float32 runs in blocks of BLOCK elements on
    preallocated float64 scratch, so its ~10 passes stay in cache (explicit casts into the scratch, then
    same-type ufuncs: 5.0 -> 4.6 us a block for the product, measured)."""
    if out.dtype != _F32:
        out[...] = fma(a, b, c, out.dtype)
        return out
    o, bf, cf = out.reshape(-1), b.reshape(-1), c.reshape(-1)
    af = _F64.type(_F32.type(a))
    n = o.size
    m = min(n, BLOCK)
    s, t, low, mid = np.empty(m, _F64), np.empty(m, _F64), np.empty(m, _I64), np.empty(m, bool)
    for lo in range(0, n, BLOCK):
        hi = min(lo + BLOCK, n)
        k = hi - lo
        sk, tk = s[:k], t[:k]
        np.copyto(sk, bf[lo:hi])
        np.multiply(sk, af, out=sk)
        np.copyto(tk, cf[lo:hi])
        np.add(sk, tk, out=sk)
        np.bitwise_and(sk.view(_I64), _LOW29, out=low[:k])     # _suspects, into the block's buffers
        np.equal(low[:k], _HALF29, out=mid[:k])
        sus = mid[:k].any()
        if np.abs(sk, out=tk).min() < _TINY32:
            sus = True
            mid[:k] |= tk < _TINY32
        if sus:
            _to_odd(sk, af, bf[lo:hi], cf[lo:hi], mid[:k])
        np.copyto(o[lo:hi], sk, casting='same_kind')
    return out
