"""PyTorch's float32 Linear with 1-11 outputs bit for bit: MKL's sgemm on this AVX-512 host (found by
experiment against PyTorch 2.13) sums each row's dot product as: the first p values one by one, that sum put in
lane 0 of an L-lane accumulator, then each whole block of L values added lane by lane (product rounded, then added:
no fused multiply-add), the lanes halved (l + l+L/2, ...), then the remaining values one by one; with fewer than L
values after the first p, all one by one. Outputs in groups of 4 (N >= 4): L = 4; the last 1-3 (N mod 4, or N itself
where 2 or 3): L = 8; both with p = floats up to the row's own next 16-byte boundary (2+ rows). One output: L = 4,
p = (K - f) mod 4, or 4 where that is 0, f = the first row's address in floats mod 4, the same p for every row (a row
count that is a multiple of 4: the last M mod 4 rows sum otherwise, not found).
One row (M = 1) of 1, 4, 5, 8 or 9 outputs: groups of 4 with L = 4, p = K mod 4 or 4; a last lone output with
L = 8, p = (4 - f) mod 4 or 4 (one row of 2, 3, 6, 7, 10 or 11 outputs sums otherwise at K over 16, not found).
addmm adds the bias after, rounded once. Checked for K 1-1024, M 1-256 at 1 and 2 threads; 12+ outputs take other
kernels (not emulated).
A weight's gradient g.T @ x (MKL's sgemm with the other transposes) of 1-4 or 8 columns (in_features) sums each value
over the rows one product after another, each rounded, no fused multiply-add: checked for rows 1-20000 and 1-4096
outputs at 1 and 2 threads; 5-7 and 9-11 columns sum their first K mod 4 columns otherwise (not found)."""
import numpy as np

_F32 = np.float32
_MANY = tuple(range(2, 12))
_GRAD_COLUMNS = (1, 2, 3, 4, 8)
_GRAD_CHUNK = 1 << 20   # products held at once by weight_grad


def applies(x, w):
    """Whether ``x @ w.T`` is a product this module emulates: float32, x 2-D C-contiguous, w (N, K) C-contiguous
    with N 2-11 and 2+ rows, N 1 and a multiple of 4 rows, or one row and N 1, 4, 5, 8 or 9."""
    if not (x.dtype == _F32 and w.dtype == _F32 and x.ndim == 2 and w.ndim == 2 and x.shape[1] == w.shape[1]
            and x.shape[1] > 0 and x.flags.c_contiguous and w.flags.c_contiguous):
        return False
    if x.shape[0] == 1:
        return w.shape[0] in (1, 4, 5, 8, 9)
    return x.shape[0] >= 2 and w.shape[0] in _MANY or w.shape[0] == 1 and x.shape[0] % 4 == 0 and x.shape[0] > 0


def linear(x, w, bias=None):
    """``x @ w.T (+ bias)`` in MKL's order (module docstring); ``applies(x, w)`` must hold."""
    m, k = x.shape
    if m == 1:
        out = _one_row(x, w)
    elif w.shape[0] == 1:
        out = _rows(x, w, (k - x.ctypes.data // 4) % 4 or 4, 4)
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
    """A single row's product (module docstring): groups of 4 outputs, then a lone last one."""
    k, n4 = x.shape[1], w.shape[0] // 4 * 4
    parts = [_rows(x, w[:n4], k % 4 or 4, 4)] if n4 else []
    if n4 < w.shape[0]:
        parts.append(_rows(x, w[n4:], (4 - x.ctypes.data // 4) % 4 or 4, 8))
    return np.concatenate(parts, axis=1)


def _rows(x, w, p, lanes):
    """The rows of ``x`` that share the peel count ``p``, ``lanes`` wide."""
    k = x.shape[1]
    if k - p < lanes:
        return _one_by_one(x, w, np.zeros((x.shape[0], w.shape[0]), _F32), 0, k)
    s = _one_by_one(x, w, np.zeros((x.shape[0], w.shape[0]), _F32), 0, p)
    nb, end = (k - p) // lanes, p + (k - p) // lanes * lanes
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


def grad_applies(g, x):
    """Whether ``g.T @ x`` (a linear layer's weight gradient, g (M, N) and x (M, K), both float32 C-contiguous) is
    one weight_grad emulates: K 1-4 or 8."""
    return g.dtype == _F32 and x.dtype == _F32 and g.ndim == 2 and x.ndim == 2 and g.shape[0] == x.shape[0] and \
        x.shape[1] in _GRAD_COLUMNS and g.flags.c_contiguous and x.flags.c_contiguous


def weight_grad(g, x):
    """``g.T @ x`` in MKL's order (module docstring): the rows' products added one after another, a chunk of rows at a
    time, the running sum folded into each chunk's first row."""
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
