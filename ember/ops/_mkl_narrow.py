"""PyTorch's float32 Linear with 2 or 3 outputs bit for bit: MKL's sgemm on this AVX-512 host (found by experiment
against PyTorch 2.13, /work/prof notes of session 42) sums each row's dot product as: the first p values one by one
(p = floats up to the row's next 16-byte boundary), that sum put in lane 0 of an 8-lane accumulator, then each
whole block of 8 values added lane by lane (product rounded, then added: no fused multiply-add), the lanes halved
(l + l+4, l + l+2, l + l+1), then the remaining values one by one; with fewer than 8 values after the first p, all
one by one. addmm adds the bias after, rounded once. Checked for M 2-256, K 1-1024 at 1 and 2 threads; one row
(M = 1) and other output counts take other kernels (not emulated)."""
import numpy as np

_F32 = np.float32


def applies(x, w):
    """Whether ``x @ w.T`` is a product this module emulates: float32, x 2-D C-contiguous with 2+ rows, w (2|3, K)."""
    return (x.dtype == _F32 and w.dtype == _F32 and x.ndim == 2 and w.ndim == 2 and x.shape[0] >= 2
            and w.shape[0] in (2, 3) and x.shape[1] == w.shape[1] and x.shape[1] > 0 and x.flags.c_contiguous)


def linear(x, w, bias=None):
    """``x @ w.T (+ bias)`` in MKL's order (module docstring); ``applies(x, w)`` must hold."""
    m, k = x.shape
    out = np.empty((m, w.shape[0]), _F32)
    peel = ((-(x.ctypes.data + np.arange(m) * (4 * k))) % 16) // 4
    for p in np.unique(peel):
        rows = np.flatnonzero(peel == p)
        out[rows] = _rows(x[rows], w, int(p))
    if bias is not None:
        out += np.asarray(bias, _F32)
    return out


def _rows(x, w, p):
    """The rows of ``x`` that share the peel count ``p``."""
    k = x.shape[1]
    if k - p < 8:
        return _one_by_one(x, w, np.zeros((x.shape[0], w.shape[0]), _F32), 0, k)
    s = _one_by_one(x, w, np.zeros((x.shape[0], w.shape[0]), _F32), 0, p)
    nb = (k - p) // 8
    prod = x[:, p:p + 8 * nb].reshape(x.shape[0], nb, 8, 1) * w[:, p:p + 8 * nb].T.reshape(1, nb, 8, w.shape[0])
    prod[:, 0, 0] += s
    acc = prod[:, 0].copy()
    for j in range(1, nb):                  # lane by lane, block after block (a reduce might pair them)
        acc += prod[:, j]
    while acc.shape[1] > 1:
        h = acc.shape[1] // 2
        acc = acc[:, :h] + acc[:, h:]
    return _one_by_one(x, w, acc[:, 0], p + 8 * nb, k)


def _one_by_one(x, w, s, lo, hi):
    """``s`` plus the products of columns lo..hi-1, each rounded, added in order."""
    for j in range(lo, hi):
        s = s + x[:, j:j + 1] * w[:, j]
    return s
