"""PyTorch's per-channel sums of a contiguous (N, C, *) batch_norm (exact kernels only). The backward's: each (n, c)
plane is added by its vector reduction (8-float or 4-double lanes, a lane per vector position, the partial last vector into
the first lanes, then the lanes folded), the planes in float64 in sample order. Measured against PyTorch 2.13 on this
CPU: float32 lanes fold as a halving tree, float64 lanes in sequence; the products (x - mean) * dy are rounded in
the whole vectors and fused with the sum in the partial last one. About 10x the cost of einsum's plane sums (so off
by default: (8, 64, 32, 32) float32 29 -> 384 us, loaded machine). The forward's float64 statistics: serial_stats."""
import numpy as np

_SPLIT = 134217729.0    # 2^27 + 1: Veltkamp's split of a double into two 26-bit halves


def _width(a):
    return 32 // a.itemsize


def _seq_columns(a):
    """Each row of (R, k) added left to right."""
    acc = a[:, 0].copy()
    for j in range(1, a.shape[1]):
        acc += a[:, j]
    return acc


def _fold(acc):
    """The lanes (R, W) of each row to one value: float32 by halving (PyTorch's shuffle reduction), float64 in order."""
    if acc.dtype.type is np.float64:
        return _seq_columns(acc)
    while acc.shape[1] > 1:
        h = acc.shape[1] // 2
        acc = acc[:, :h] + acc[:, h:]
    return acc[:, 0]


def _vector_totals(v):
    """(R, nv, W) -> (R, W): the nv vectors of each row added in order (a transposed copy whose rows NumPy adds in
    order)."""
    if v.shape[1] == 1:
        return v[:, 0].copy()
    return np.add.reduce(np.ascontiguousarray(v.transpose(1, 0, 2)), axis=0)


def fma(a, b, c):
    """a * b + c rounded once: float32 through float64 (exact product), float64 by an error-free product and sum."""
    if a.dtype.type is np.float32:
        return np.add(np.multiply(a, b, dtype=np.float64), c, dtype=np.float64).astype(np.float32)
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    z = s - p
    return s + (((p - (s - z)) + (c - z)) + e)


def plane_sums(rows, other=None):
    """Sums of the rows (R, hw) in their dtype, or with ``other`` of the products rows * other, as PyTorch's
    reduce_all (map2_reduce_all) adds a plane."""
    R, hw = rows.shape
    W = _width(rows)
    if hw < W:
        return _seq_columns(rows if other is None else rows * other)
    body = hw - hw % W
    terms = rows[:, :body] if other is None else rows[:, :body] * other[:, :body]
    acc = _vector_totals(terms.reshape(R, body // W, W))
    r = hw - body
    if r:
        if other is None:
            acc[:, :r] += rows[:, body:]
        else:
            acc[:, :r] = fma(rows[:, body:], other[:, body:], acc[:, :r])
    return _fold(acc)


def channel_totals(a, C, other=None):
    """Per-channel float64 totals of the plane sums of a (N, C, *) (of a * other with ``other``), samples in order."""
    N = a.shape[0]
    rows = a.reshape(N * C, -1)
    sums = plane_sums(rows, None if other is None else other.reshape(N * C, -1))
    return _in_order(sums.reshape(N, C).astype(np.float64))


def serial_stats(x):
    """Per-channel mean and sum of squared deviations of a contiguous float64 x (N, C, *) as PyTorch's contiguous
    kernel forms them: each channel's values added one by one (samples, then positions) in double, the squares
    rounded before they are added except, in planes of odd length, the last one's, fused with its add (the compiled
    loop's odd leftover step; measured on planes of 3, 5, 16, 20 and 63). The values go as a channels-last copy whose
    rows NumPy adds in order."""
    N, C = x.shape[:2]
    rows = np.ascontiguousarray(np.moveaxis(x, 1, -1)).reshape(-1, C)
    n = rows.shape[0]
    mean = _in_order(rows) / n
    d = rows - mean
    if n // N % 2 == 0:
        return mean, _in_order(np.multiply(d, d, out=d))
    planes = d.reshape(N, n // N, C)
    acc = np.zeros(C)
    for p in planes:
        acc = _in_order(np.concatenate((acc[None], p[:-1] * p[:-1])))
        acc = fma(p[-1], p[-1], acc)
    return mean, acc


def _in_order(rows):
    """The rows (L, C) added one after another from +0."""
    if rows.shape[1] == 1:      # (NumPy may add a single column pairwise)
        return np.add.accumulate(rows[:, 0])[-1:] + 0.0
    return np.add.reduce(rows, axis=0) + 0.0
