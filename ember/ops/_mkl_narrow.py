"""PyTorch's float32 Linear with 1-11 outputs (or 1-3 rows) bit for bit: MKL's sgemm on this AVX-512 host (found by
experiment against PyTorch 2.13) sums each row's dot product as: the first p values one by one, that sum put in
lane 0 of an L-lane accumulator, then each whole block of L values added lane by lane (product rounded, then added:
no fused multiply-add), the lanes halved (l + l+L/2, ...), then the remaining values one by one; with fewer than L
values after the first p, all one by one. Outputs in groups of 4 (N >= 4): L = 4; the last 1-3 (N mod 4, or N itself
where 2 or 3): L = 8; both with p = floats up to the row's own next 16-byte boundary (2+ rows). One output: L = 4,
p = (K - f) mod 4, or 4 where that is 0, f = the first row's address in floats mod 4, the same p for every row (a row
count that is a multiple of 4: the last M mod 4 rows sum otherwise, not found).
One row (M = 1) or one output (N = 1, any M: x's rows the outputs) is MKL's matrix-vector kernel: the matrix's rows
in groups of 4 with L = 4, p = (K - f) mod 4 or 4 (f: the matrix's address in floats mod 4); the last 1-3 with p =
(4 - v) mod 4 or 4 (v: the vector's address) and L = 8, but the second of them L = 4 in blocks of 8 values (two vectors
a block into the same lanes; with fewer than 8 values after p, all one by one). Checked for K 1-4096, N 1-1000 at 1
and 2 threads (0 of 544 shapes differing, with and without a bias; was 289 of 420 outside 1, 4, 5, 8, 9), and with
both operands at every address mod 16 (and N = 1: M 2-100, which differed but for multiples of 4). Two or three rows
take the 2+ row rule at any N (K 2-2048, N 12-1000: 0 of 144 differing, was 143). addmm adds the bias after, rounded
once. Checked for K 1-1024, M 1-256 at 1 and 2 threads; 12+ outputs of 4+ rows take other kernels (not emulated).
A weight's gradient g.T @ x (MKL's sgemm with the other transposes; g (M, N), x (M, K)) sums each value over the M
rows in one of two orders: products rounded and added one after another (no fused multiply-add) where N is 1, where N
is 2 or 3 and K a multiple of 4, and where K is 1-4 or 8; fused multiply-adds one after another where N is 4+ and K
12+, in blocks of 192 rows (M of 193-384: two halves and a lone last row for odd M) whose sums are added in turn; at 2
threads N of 5-11 leaves its last N mod 4 rows to the first order (another thread's kernel) from M of 17. Checked
against PyTorch for M 1-4096, N 1-2048, K 1-5000 at 1 and 2 threads; K of 5-7 or 9-11 (N 2+), N of 2-3 with other K,
and other thread counts sum otherwise (not emulated). An input gradient g @ w takes the same kernels (N summed)."""
import numpy as np

_F32 = np.float32
_MANY = tuple(range(2, 12))
_GRAD_COLUMNS = (1, 2, 3, 4, 8)
_GRAD_CHUNK = 1 << 20   # products held at once by _added_rows
_SPLIT_ROWS = 17        # rows from which MKL always splits N of 5-11 over 2 threads (from 2-5 for some K: not emulated)


def applies(x, w):
    """Whether ``x @ w.T`` is a product this module emulates: float32, x 2-D C-contiguous, w (N, K) C-contiguous
    with N 2-11, or one row, or one output, or 2-3 rows."""
    if not (x.dtype == _F32 and w.dtype == _F32 and x.ndim == 2 and w.ndim == 2 and x.shape[1] == w.shape[1]
            and x.shape[1] > 0 and x.flags.c_contiguous and w.flags.c_contiguous):
        return False
    m, n = x.shape[0], w.shape[0]
    return m > 0 and n > 0 and (m == 1 or n == 1 or n in _MANY or m <= 3)


def linear(x, w, bias=None):
    """``x @ w.T (+ bias)`` in MKL's order (module docstring); ``applies(x, w)`` must hold."""
    m, k = x.shape
    if m == 1:
        out = _one_row(x, w)
    elif w.shape[0] == 1:
        out = _one_row(w, x).reshape(m, 1)     # MKL's matrix-vector kernel, x's rows its outputs
    else:
        n4 = w.shape[0] // 4 * 4
        out = np.empty((m, w.shape[0]), _F32)
        peel = ((-(x.ctypes.data + np.arange(m) * (4 * k))) % 16) // 4
        for p in np.unique(peel):
            rows = np.flatnonzero(peel == p)
            xr = x[rows]
            if n4:
                out[rows, :n4] = _rows(xr, w[:n4], int(p), 4)
            if n4 < w.shape[0]:
                out[rows, n4:] = _rows(xr, w[n4:], int(p), 8)
    if bias is not None:
        out += np.asarray(bias, _F32)
    return out


def _one_row(x, w):
    """A single row's product (module docstring): groups of 4 outputs, then the last N mod 4 (the second of them 4
    lanes wide in blocks of 8)."""
    k, n4, n = x.shape[1], w.shape[0] // 4 * 4, w.shape[0]
    parts = [_rows(x, w[:n4], (k - w.ctypes.data // 4) % 4 or 4, 4)] if n4 else []
    p = (4 - x.ctypes.data // 4) % 4 or 4
    for j in range(n4, n):
        parts.append(_rows(x, w[j:j + 1], p, 4, 8) if j == n4 + 1 else _rows(x, w[j:j + 1], p, 8))
    return np.concatenate(parts, axis=1)


def _rows(x, w, p, lanes, block=None):
    """The rows of ``x`` that share the peel count ``p``, ``lanes`` wide, whole ``block``s of values (``lanes`` by
    default) added into them."""
    k, block = x.shape[1], block or lanes
    if k - p < block:
        return _one_by_one(x, w, np.zeros((x.shape[0], w.shape[0]), _F32), 0, k)
    s = _one_by_one(x, w, np.zeros((x.shape[0], w.shape[0]), _F32), 0, p)
    nb, end = (k - p) // block * (block // lanes), p + (k - p) // block * block
    xb = x[:, p:end].reshape(x.shape[0], nb, lanes).transpose(1, 0, 2)[..., None]
    prod = xb * w[:, p:end].T.reshape(nb, 1, lanes, w.shape[0])
    prod[0, :, 0] += s
    # the blocks' axis outermost of a 2-D C-contiguous array: added one after another, lane by lane (its 4-D form
    # reduced over that axis took a strided inner loop: a (64, 784) layer of 10 outputs 1.9 -> 0.61 ms, min of 300)
    acc = np.add.reduce(prod.reshape(nb, -1), axis=0).reshape(prod.shape[1:])
    while acc.shape[1] > 1:
        h = acc.shape[1] // 2
        acc = acc[:, :h] + acc[:, h:]
    return _one_by_one(x, w, acc[:, 0], end, k)


def _one_by_one(x, w, s, lo, hi):
    """``s`` plus the products of columns lo..hi-1, each rounded, added in order."""
    for j in range(lo, hi):
        s = s + x[:, j:j + 1] * w[:, j]
    return s


def grad_applies(g, x, threads):
    """Whether ``g.T @ x`` (a linear layer's weight gradient, g (M, N) and x (M, K), both float32 C-contiguous) is one
    weight_grad emulates at ``threads`` threads (module docstring)."""
    if not (g.dtype == _F32 and x.dtype == _F32 and g.ndim == 2 and x.ndim == 2 and g.shape[0] == x.shape[0] and
            g.flags.c_contiguous and x.flags.c_contiguous and threads in (1, 2)):
        return False
    n, k = g.shape[1], x.shape[1]
    if _added(n, k):
        return True
    tail = _tail(n, threads)
    return n >= 4 and k >= 12 and (not tail or g.shape[0] >= _SPLIT_ROWS and _added(tail, k))


def _added(n, k):
    """Whether an (N, K) gradient's values are products added one after another (no fused multiply-add)."""
    return n == 1 or k in _GRAD_COLUMNS or n in (2, 3) and k % 4 == 0


def _tail(n, threads):
    """The last outputs that MKL leaves to another kernel at 2 threads (N of 5-11: N mod 4), else 0."""
    return n % 4 if threads == 2 and 5 <= n <= 11 else 0


def weight_grad(g, x, threads):
    """``g.T @ x`` in MKL's order at ``threads`` threads (module docstring); grad_applies must hold."""
    n, k = g.shape[1], x.shape[1]
    if not n * k:
        return np.zeros((n, k), _F32)
    if _added(n, k):
        return _added_rows(g, x)
    head = n - _tail(n, threads)
    out = np.empty((n, k), _F32)
    out[:head] = _fused_blocks(g[:, :head], x)
    if head < n:
        out[head:] = _added_rows(g[:, head:], x)
    return out


def _added_rows(g, x):
    """``g.T @ x``: each value's products rounded and added one row after another, a chunk of rows at a time, the
    running sum folded into each chunk's first row."""
    m, n, k = g.shape[0], g.shape[1], x.shape[1]
    acc = np.zeros(n * k, _F32)
    step = max(1, _GRAD_CHUNK // max(1, n * k))
    for lo in range(0, m, step):
        # laid out (rows, k, n): the outputs innermost, so the products and the adds run over rows of n values, not k
        # ((512, 256) x (512, 8): 5.1 -> 1.6 ms, min of 20)
        prod = (x[lo:lo + step, :, None] * g[lo:lo + step, None, :]).reshape(-1, n * k)
        prod[0] += acc
        # reduced over its outer axis, a C-contiguous array's rows are added one after another (NumPy's pairwise
        # summation is only along the contiguous axis, which one column becomes: that is accumulated)
        acc = np.add.reduce(prod, axis=0) if n * k > 1 else np.add.accumulate(prod[:, 0])[-1:]
    return acc.reshape(k, n).T.copy()


def _blocks(m):
    """MKL's blocks of a weight gradient's rows: all of them up to 192; two halves (and a lone last row) up to 384;
    else 192 at a time."""
    if m <= 192:
        return [m]
    if m <= 384:
        return [m // 2] * 2 + [1] * (m % 2)
    return [192] * (m // 192) + [m % 192] * (m % 192 > 0)


def _fused_blocks(g, x):
    """``g.T @ x`` by fused multiply-adds one row after another within each of _blocks, the blocks' sums added in
    turn."""
    out, lo = None, 0
    for b in _blocks(g.shape[0]):
        s = _fused_rows(g[lo:lo + b], x[lo:lo + b])
        out = s if out is None else out + s
        lo += b
    return out.T


_LOW, _HALF = (1 << 29) - 1, 1 << 28     # a float64's 29 bits below float32's precision; half a float32 ulp there


def _fused_rows(g, x):
    """(x.T @ g) as (K, N): float32 fused multiply-adds one row after another, each step's sum taken exactly in
    float64 but for its rounding there. That rounding could make the rounding to float32 a tie that the true sum is
    not: where a sum's low bits show a tie that is not exact (_inexact_ties), the rows are summed again with each step
    checked (_fused_checked). The products are formed a chunk of rows at a time and each step is one add and one
    rounding in place ((64, 48) x (64, 12) 414 -> 150 us against a checked step each, min of 5)."""
    k, n = x.shape[1], g.shape[1]
    s = np.zeros((k, n), _F32)
    step = max(1, _GRAD_CHUNK // max(1, n * k))
    for lo in range(0, x.shape[0], step):
        xs, gs = x[lo:lo + step].astype(np.float64), g[lo:lo + step].astype(np.float64)
        first, sums = s.copy(), xs[:, :, None] * gs[:, None, :]
        for t in sums:
            t += s
            s[...] = t
        if _inexact_ties(sums, first, xs, gs):
            return _fused_checked(g, x)
    return s


def _inexact_ties(sums, first, xs, gs):
    """Whether any of a chunk's float64 step sums (``sums``, from the float32 sum ``first``) is a float32 tie that
    the exact sum is not (a TwoSum error), found from the ties alone (about one sum in 2^24 is one)."""
    r, i, j = np.nonzero((sums.view(np.int64) & _LOW) == _HALF)
    if not r.size:
        return False
    prev = np.where(r > 0, sums[np.maximum(r - 1, 0), i, j].astype(_F32), first[i, j]).astype(np.float64)
    return bool((_two_sum_error(prev, xs[r, i] * gs[r, j], sums[r, i, j]) != 0).any())


def _two_sum_error(a, b, t):
    """The exact a + b less its float64 rounding ``t``."""
    back = t - b
    return (a - back) + (b - (t - back))


def _fused_checked(g, x):
    """_fused_rows with each step's float64 sum that is a float32 tie moved one float64 ulp toward the exact sum
    (its TwoSum error) before the rounding."""
    s = np.zeros((x.shape[1], g.shape[1]), _F32)
    for xr, gr in zip(x.astype(np.float64), g.astype(np.float64)):
        p = xr[:, None] * gr
        t = s + p
        tie = (t.view(np.int64) & _LOW) == _HALF
        if tie.any():
            err = _two_sum_error(s, p, t)
            fix = tie & (err != 0)
            t[fix] = np.nextafter(t[fix], np.copysign(np.inf, err[fix]))
        s = t.astype(_F32)
    return s
