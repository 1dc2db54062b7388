"""batch_norm on rows of channels (a contiguous (N, C) input, or (N, C, 1, ...)): PyTorch's CPU kernel for
these ("NC11 is also channels last") sums each thread's share of the rows in a float32 buffer, its products
accumulated as fused multiply-adds, and adds the threads' buffers in float64. The same sums here, row by row,
so that a BatchNorm1d on a (batch, features) input (tabular models, MLP heads) gives PyTorch's bits."""
import numpy as np

from ... import _exact, _parallel
from . import _bn_planes

F32, F64 = np.float32, np.float64
# the backward's input gradient is computed by vectors of 8 floats with fused multiply-adds; the channels past
# the last whole vector by scalar code without them (measured against PyTorch 2.13 on this CPU: both agree
# bit for bit only so)
_VEC = 8


def takes(x):
    """Whether PyTorch's rows kernel computes batch_norm of ``x`` (N, C, *): a C-contiguous float32/float64 input
    with one value per channel and sample."""
    return x.ndim >= 2 and x.size > 0 and x.size == x.shape[0] * x.shape[1] and x.flags.c_contiguous and \
        x.dtype.type in (F32, F64)


def _spans(N):
    """The rows each thread of PyTorch's ``parallel_for(0, N, 1)`` takes: get_num_threads() (at most N) runs of
    ceil(N / threads) rows."""
    t = max(1, min(_parallel.threads(), N))
    step = -(-N // t)
    return [(lo, min(N, lo + step)) for lo in range(0, N, step)]


def _by_thread(a, spans):
    """Rows (N, C) as (threads, rows a thread, C), the last thread's share padded with zero rows (which leave
    a sum or a multiply-add where it is)."""
    step = spans[0][1] - spans[0][0]
    out = np.zeros((len(spans) * step,) + a.shape[1:], a.dtype)
    out[:a.shape[0]] = a
    return out.reshape(len(spans), step, *a.shape[1:])


def _sums(a, spans):
    """Each thread's float32/64 buffer of its rows' sums, the rows added in order (NumPy reduces a middle axis row
    after row; a single column by cumsum, as its reduce may go pairwise there), the buffers then added in
    float64."""
    rows = _by_thread(a, spans)
    parts = np.add.reduce(rows, axis=1) if a.shape[1] > 1 else np.cumsum(rows, axis=1)[:, -1]
    return _add_threads(parts)


def _fma_sums(a, b, spans):
    """Each thread's buffer of acc = fma(a_i, b_i, acc) over its rows, then the buffers added in float64. Float32:
    the product exact in float64, the sum rounded to float32 each row, the threads side by side (three same-dtype
    ufunc calls a row: one np.add casting float64 into a float32 ``out`` took 57 us a call against 2 for the three,
    (2, 128) rows); float64: the products rounded, or with the exact kernels on fused by _bn_planes's emulation,
    row after row (some 15 NumPy calls a row)."""
    if a.dtype.type is F64:
        if not _exact.enabled():
            return _sums(a * b, spans)
        pa = np.ascontiguousarray(_by_thread(a, spans).transpose(1, 0, 2))
        pb = np.ascontiguousarray(_by_thread(b, spans).transpose(1, 0, 2))
        acc = np.zeros(pa.shape[1:], F64)
        for ra, rb in zip(pa, pb):
            acc = _bn_planes.fma(ra, rb, acc)
        return _add_threads(acc)
    prods = np.ascontiguousarray(_by_thread(np.multiply(a, b, dtype=F64), spans).transpose(1, 0, 2))
    acc, acc32 = np.zeros(prods.shape[1:], F64), np.zeros(prods.shape[1:], F32)
    for p in prods:
        np.add(acc, p, out=acc)
        acc32[...] = acc
        acc[...] = acc32
    return _add_threads(acc32)


def _add_threads(parts):
    """The threads' buffers added in order in float64 (PyTorch's accumulate type)."""
    total = np.zeros(parts.shape[1], F64)
    for p in parts:
        total += p
    return total


def fma(a, b, c):
    """a * b + c with one rounding, as a float32 fused multiply-add (float64 arrays: plain, rounded twice, but with
    the exact kernels on fused as well, by _bn_planes's error-free emulation)."""
    if a.dtype.type is F64:
        return _bn_planes.fma(a, b, c) if _exact.enabled() else a * b + c
    return np.add(np.multiply(a, b, dtype=F64), c, dtype=F64).astype(F32)


def stats(x):
    """Per-channel (mean, sum of squared deviations) of rows x (N, C), both in x's dtype, as PyTorch's rows kernel:
    with more rows than threads, float32 buffers of each thread's sums (the squares by multiply-adds); else the
    sums in float64 of the values and of the rounded squares."""
    N = x.shape[0]
    dt = x.dtype.type
    spans = _spans(N)
    if N > _parallel.threads():
        mean = (_sums(x, spans) / N).astype(dt)
        d = x - mean
        return mean, _fma_sums(d, d, spans).astype(dt)
    mean = (np.cumsum(x, axis=0, dtype=F64)[-1] / N).astype(dt)
    d = x - mean
    return mean, np.cumsum(d * d, axis=0, dtype=F64)[-1].astype(dt)


def affine(x, mean, invstd, w, b):
    """x * alpha + beta by fused multiply-adds, alpha = invstd * w and beta = b - mean * alpha (itself a fused
    multiply-add), all in x's dtype: PyTorch's forward of both batch_norm kernels."""
    dt = x.dtype.type
    alpha = invstd if w is None else invstd * w.astype(dt, copy=False)
    beta = fma(-mean, alpha, np.zeros_like(alpha) if b is None else b.astype(dt, copy=False))
    return fma(x, alpha, beta)


def grads(x, g, mean, invstd, w, training, need):
    """(grad input, grad weight, grad bias) of batch_norm on rows x (N, C) for gradient g, as PyTorch's rows
    kernel: per-thread buffers of g's sums and of the multiply-adds of (x - mean) * g, added in float64 and
    rounded to x's dtype; the input's gradient (g - sum / N - (x - mean) * k) * invstd * w, k = dotp * invstd^2
    / N, by multiply-adds on whole vectors of _VEC channels (four doubles for float64) and plainly on the rest."""
    dt = x.dtype.type
    N, C = x.shape
    spans = _spans(N)
    gsum = _sums(g, spans).astype(dt)
    xm = x - mean
    dotp = _fma_sums(xm, g, spans).astype(dt)
    gx = gw = gb = None
    if need[0]:
        wv = np.ones(C, dt) if w is None else w.astype(dt, copy=False)
        if training:
            k = dotp * invstd * invstd / dt(N)
            t = g - gsum / dt(N)
            body = C - C % (_VEC * 4 // x.itemsize)
            gx = np.empty_like(x)
            gx[:, :body] = fma(-xm[:, :body], k[:body], t[:, :body]) * invstd[:body] * wv[:body]
            gx[:, body:] = (t[:, body:] - xm[:, body:] * k[body:]) * invstd[body:] * wv[body:]
        else:
            gx = g * invstd * wv
    if need[1]:
        gw = dotp * invstd
    if need[2]:
        gb = gsum
    return gx, gw, gb
