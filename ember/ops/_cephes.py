"""Arithmetic in PyTorch's roundings for the Cephes-derived kernels of torch.special (Bessel J, Y and K, Airy Ai),
on float32 or float64 NumPy arrays, each computed in its own precision as PyTorch's templated kernels are.

PyTorch's CPU kernels are built for AVX2 and AVX-512 with the compiler fusing ``r * z + c`` into one multiply-add
(one rounding), in Horner's and Clenshaw's recurrences and in sums of a product. ``fma`` does the same: a float32
product is exact in float64, so the fused result is the float64 sum rounded once more to float32 (a double rounding
that differs from the fused one only when the float64 sum falls exactly halfway between two float32 values); a
float64 one takes Dekker's exact product and Knuth's exact sum. Evaluated unfused, float32 Bessel J0 on [0, 5]
matched PyTorch's bits on 84% of a sample, fused on 100%. float32 transcendental functions (sin, cos, exp, log)
are taken in float64 and rounded once (glibc's sinf and cosf, which PyTorch's float32 kernels call, differ from
that in the last bit on about 1% of arguments: most of the float32 differences left)."""
import numpy as np

from .. import _layout


def table(coefs):
    """A coefficient table in both precisions: {dtype: its values rounded to that dtype}."""
    return {np.dtype(np.float32): tuple(np.float32(c) for c in coefs),
            np.dtype(np.float64): tuple(np.float64(c) for c in coefs)}


_SPLIT = 134217729.0   # 2**27 + 1: Dekker's splitting constant for float64
_BLOCK = 16384         # elements per block in ``blocked``


def blocked(kernel, a):
    """``kernel`` on a float32 or float64 array of any shape, 0-d included, a block at a time so that its many
    passes stay in cache: float64 J0 of 10^6 values in [-20, 20] took 408 ms at once, 205 ms in blocks (min of 5,
    interleaved)."""
    if not a.ndim:
        return kernel(a.reshape(1)).reshape(())
    if not a.flags.c_contiguous:   # (a broadcast or permuted input: the result laid out as PyTorch's)
        return _layout.follow(kernel(a) if a.size <= _BLOCK else blocked(kernel, np.ascontiguousarray(a)), (a,))
    if a.size <= _BLOCK:
        return kernel(a)
    flat = a.reshape(-1)
    out = np.empty(flat.shape, a.dtype)
    for i in range(0, flat.size, _BLOCK):
        out[i:i + _BLOCK] = kernel(flat[i:i + _BLOCK])
    return out.reshape(a.shape)


def _split(a):
    """a = hi + lo with hi of 26 bits (Dekker), so that products of halves are exact."""
    hi = a * _SPLIT
    hi -= hi - a
    return hi, a - hi


def _fused64(a, b, c, b_split=None):
    """a * b + c for float64, rounded once: Dekker's exact product (b's halves given or split here) and Knuth's
    exact sum, added last (wrong only if the exact result lies within about 2^-106 of a rounding boundary)."""
    ah, al = _split(a)
    bh, bl = _split(b) if b_split is None else b_split
    p = a * b
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    v = s - p
    return s + (((p - (s - v)) + (c - v)) + e)


def fma(a, b, c):
    """a * b + c rounded once (a a float32 or float64 array; b and c arrays or scalars of its dtype)."""
    if a.dtype == np.float32:
        return (a.astype(np.float64) * b + c).astype(np.float32)
    return _fused64(a, b, c)


def horner(z, coefs):
    """sum_k coefs[k] z^(n-k) by Horner's rule, each step fused, from 0 (as PyTorch's loops start)."""
    c = coefs[z.dtype]
    r = np.full_like(z, c[0])
    if z.dtype == np.float32:
        wide = z.astype(np.float64)
        for k in c[1:]:
            r = (r * wide + np.float64(k)).astype(np.float32)
        return r
    zs = _split(z)
    for k in c[1:]:
        r = _fused64(r, z, k, zs)
    return r


def chebyshev(y, coefs):
    """The Chebyshev series sum'_k coefs[k] T_k(y / 2) by Clenshaw's recurrence (Cephes's chbevl), with the
    product in each step fused with its subtraction."""
    c = coefs[y.dtype]
    b0, b1, b2 = np.full_like(y, c[0]), np.zeros_like(y), np.zeros_like(y)
    if y.dtype == np.float32:
        wide = y.astype(np.float64)
        for k in c[1:]:
            b2, b1 = b1, b0
            b0 = (wide * b1 - b2).astype(np.float32) + k
    else:
        ys = _split(y)
        for k in c[1:]:
            b2, b1 = b1, b0
            b0 = _fused64(b1, y, -b2, ys) + k
    return (b0 - b2) * y.dtype.type(0.5)


def libm(fn):
    """NumPy's ``fn`` in float64 for float64, and for float32 in float64 rounded once to float32."""
    def f(a):
        with np.errstate(all='ignore'):
            return fn(a) if a.dtype == np.float64 else fn(a.astype(np.float64)).astype(np.float32)
    f.__name__ = fn.__name__
    return f


sin, cos, exp, log, sqrt = libm(np.sin), libm(np.cos), libm(np.exp), libm(np.log), libm(np.sqrt)


def piecewise(x, fill, cases):
    """An array of x's shape and dtype: ``fill`` where no case holds, else ``fn(x[mask])`` for the first
    (mask, fn) of ``cases`` whose mask holds there (masks taken in order; later ones may overlap earlier)."""
    out = np.full_like(x, fill)
    taken = np.zeros(x.shape, bool)
    for mask, fn in cases:
        m = mask & ~taken
        if m.any():
            with np.errstate(all='ignore'):
                out[m] = fn(x[m])
        taken |= m
    return out
