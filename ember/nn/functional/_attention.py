"""Attention: ``scaled_dot_product_attention`` as one graph node (NumPy forward, hand-written backward:
dV = P^T dO, dS = P * (dP - rowsum(dP * P)), dQ = dS K, dK = dS^T Q, computed on P^T and dS^T, whose
reductions run down columns; fwd+bwd of GPT's (12, 4, 64, 32) heads 1456 -> 1249 us), and
``multi_head_attention_forward`` composed of differentiable ops (what ``nn.MultiheadAttention`` calls)."""
import functools
import math
import warnings

import numpy as np

from ...autograd import dual, forward_refusal
from ...autograd.grad_mode import GRAD
from ...autograd.graph import Node
from ...backend import gemm, ones_vector
from ... import _bf16, _dtype, _parallel, _quiet
from ...tensor import Tensor
from .. import attention
from ...amp import _state as _autocast
from ...ops import _sleef
from ...ops._fexp_u20 import fexp_u20
from ...ops._util import check_tensor_args

__all__ = ['scaled_dot_product_attention', 'multi_head_attention_forward']


def _bias(mask, causal, ls, dtype):
    """Additive float bias (0 / -inf) from a bool or float attn_mask and the causal flag, or None."""
    bias = None
    if mask is not None:
        m = mask._data
        bias = np.where(m, 0, -np.inf).astype(dtype) if m.dtype == np.bool_ else m.astype(dtype, copy=False)
    if causal:
        c = (_causal if ls[0] * ls[1] <= _CACHED_CAUSAL else _causal.__wrapped__)(ls, np.dtype(dtype))
        bias = c if bias is None else bias + c
    return bias


_FLASH = 'ScaledDotProductFlashAttentionForCpuBackward0'
_CACHED_CAUSAL = 1 << 20    # elements: the cache below holds at most 4 biases of at most 8 MiB each


@functools.lru_cache(maxsize=4)
def _causal(ls, dtype):
    """The causal bias (0 on and below the diagonal, -inf above), built once per shape and dtype (up to
    _CACHED_CAUSAL elements); read-only, and its transpose is contiguous so that adding it to the
    transposed scores runs at copy speed."""
    c = np.ascontiguousarray(np.where(np.tril(np.ones(ls, bool)), 0, -np.inf).astype(dtype).T).T
    c.flags.writeable = False
    return c


def _col_max(a):
    """``a.max(-2, keepdims=True)`` by halving (elementwise maxima of the two halves, then of theirs):
    88 -> 53 us on (12, 4, 64, 64) float32 scores (min of 300)."""
    n = a.shape[-2]
    if n < 2:
        return a.copy()
    h = n // 2
    r = np.maximum(a[..., :h, :], a[..., h:2 * h, :])
    if n % 2:
        np.maximum(r[..., :1, :], a[..., 2 * h:, :], out=r[..., :1, :])
    n = h
    while n > 1:
        h = n // 2
        np.maximum(r[..., :h, :], r[..., h:2 * h, :], out=r[..., :h, :])
        if n % 2:
            np.maximum(r[..., :1, :], r[..., 2 * h:n, :], out=r[..., :1, :])
        n = h
    return r[..., :1, :]


def _col_sum(a):
    """``a.sum(-2, keepdims=True)``, of a float array as ones @ a (batched matrix-vector products): 48 -> 9 us
    on (12, 4, 64, 64) float32 (min of 300); a tensor (double backward) sums as usual."""
    if not dual.is_array(a) or a.dtype.kind != 'f':
        return a.sum(-2, keepdims=True)
    return gemm(ones_vector(a.shape[-2], a.dtype), a)[..., None, :]


def _softmax_columns(st, rows=None):
    """Softmax over axis -2 of transposed scores, in place; columns with no finite score give zeros
    (PyTorch's fully masked rows). NumPy reduces short rows slowly and columns faster: max over 64 keys of
    (12, 4, 64, 64) float32 scores took 195 us along rows, 88 us down columns (see _col_max, _col_sum). ``rows``:
    st's 2-D _key_rows view, which the passes and the max then run on."""
    r = st if rows is None else rows
    m = _col_max(r)
    dead = ~np.isfinite(m)
    r -= np.where(dead, 0, m)
    np.exp(r, out=r)
    tot = _col_sum(st).reshape(m.shape)
    r /= np.where(tot == 0, 1, tot)
    return st


def _sum_to(g, shape):
    return g if g is None or tuple(g.shape) == tuple(shape) else dual.sum_to(g, tuple(shape))


def _mm(a, b, out=None):
    """a @ b on gemm's thread policy: a plain ``@`` ran on OpenBLAS's own thread count whatever set_num_threads said
    (two threads on (2, 2, 512, 256) heads at set_num_threads(1)). Tensors (double backward) multiply as tensors."""
    if not (dual.is_array(a) and dual.is_array(b)):
        return a @ b
    return gemm(a, b, out=out)


# Causal attention with as many keys as queries skips the products' blocks above the diagonal: with h = n // 2, the
# first h queries see only the first h keys, so a quarter of each (n, n) score or probability matrix is masked
# (exact zeros after the softmax) and its products are not computed. The skipped terms are exact zeros, so the
# values are the full products' to rounding (OpenBLAS's kernels for the narrower blocks may round a last bit
# differently); PyTorch's flash kernel skips them too. GPT's attention from its (12, 64, 384) projection, min
# of 300 interleaved: one thread (CPU time) fwd 500 -> 489 us, fwd+bwd 1177 -> 1114 us; two threads (wall, on
# the loaded machine) no change beyond noise (fwd+bwd 807-828 -> 796-804 us).
def _half(q, k, v, causal):
    """h for the block-causal products (see above), or 0: causal, L == S of at least _HALF_MIN, one dtype, the same
    batch dims."""
    n = q.shape[-2]
    return n // 2 if causal and n == k.shape[-2] and n >= _HALF_MIN and q.dtype == k.dtype == v.dtype and \
        q.shape[:-2] == k.shape[:-2] == v.shape[:-2] else 0


_HALF_MIN = 16


def _mm_upper(a, b, h, out=None):
    """a @ b where only its upper triangle (row <= column) is wanted: the block below the diagonal of the first
    h columns is zeros, not a product."""
    if not h:
        return _mm(a, b, out)
    if out is None:
        out = np.empty(a.shape[:-1] + b.shape[-1:], np.result_type(a, b))
    _mm(a[..., :h, :], b[..., :h], out[..., :h, :h])
    out[..., h:, :h] = 0
    _mm(a, b[..., h:], out[..., h:])
    return out


def _mm_tri(t, b, h, lower, out=None):
    """t @ b for a triangular t (lower: zero right of the diagonal; else zero left of it), the h x h block of
    zeros not multiplied."""
    if not h:
        return _mm(t, b, out)
    if out is None:
        out = np.empty(t.shape[:-1] + b.shape[-1:], np.result_type(t, b))
    if lower:
        _mm(t[..., :h, :h], b[..., :h, :], out[..., :h, :])
        _mm(t[..., h:, :], b, out[..., h:, :])
    else:
        _mm(t[..., :h, :], b, out[..., :h, :])
        _mm(t[..., h:, h:], b[..., h:, :], out[..., h:, :])
    return out


# Unsplit attention (one thread) keeps the transposed scores (..., S, L) in memory as (S, ..., L) rows (_keys_outer),
# and its softmax passes and column max run on their 2-D (S, batch * L) view (_key_rows): S loops of all the heads'
# columns, where the (..., S, L) layout had NumPy run one short loop per (batch, key), 3072 of 64 for GPT's
# (12, 4, 64, 64) scores (a broadcast subtract 44 -> 20 us, the max's halvings 80 -> 35). The column sums stay one
# matrix-vector product per head (one over all the columns summed some columns in another order). The rows are
# _KEY_PAD elements longer than the data: without the gap a head's 64 key rows lie 12 KiB apart, on the same L1
# sets, and the products writing and reading them lost 25% (226 -> 280 us). The same values. GPT's attention at one
# thread, medians of 400 alternating calls (load 10), paired differences: forward -105 us (~900), forward and
# backward -74 us (~2050). The split blocks of two or more threads keep the (..., S, L) layout: a first try, its bias
# still a broadcast add, measured slower there at load 10; retried with _causal_rows' bias (the backward's blocks then
# take the rows route too; the same values), GPT's heads at 2 threads, the process's CPU time per call, min / p25 of
# 400 interleaved (load 8-10), two runs: forward 831 / 1122 -> 995 / 1288 and 784 / 1153 -> 906 / 1297 us, backward
# 926 / 1297 -> 1100 / 1490 and 904 / 1182 -> 1039 / 1482 (one thread, which takes the unsplit route, unchanged).
_KEY_PAD = 16


def _keys_outer(shape, dtype):
    """An empty array of shape (..., S, L) laid out as (S, ..., L) rows (see above)."""
    nb = len(shape) - 2
    n = math.prod(shape[:-2]) * shape[-1]
    rows = np.empty((shape[-2], n + _KEY_PAD), dtype)[:, :n]
    return rows.reshape((shape[-2],) + tuple(shape[:-2]) + (shape[-1],)).transpose(
        tuple(range(1, nb + 1)) + (0, nb + 1))


def _add_bias_rows(rows, bias, causal):
    """rows += the (L, S) bias transposed, for rows the (S, batch * L) _key_rows view of the scores: by the bias
    repeated along the rows, kept for the next call when it is _causal's and small enough (a broadcast add runs a
    loop per (batch, key): GPT's 95 us against 20), else by that broadcast (a large one's loops are long)."""
    n = rows.shape[1] // bias.shape[0]
    if causal and bias.size * n <= _CACHED_CAUSAL:
        rows += _causal_rows(bias.shape, bias.dtype, n)
    else:
        r3 = rows.reshape(rows.shape[0], n, bias.shape[0])
        r3 += bias.T[:, None, :]


@functools.lru_cache(maxsize=4)
def _causal_rows(ls, dtype, n):
    """_causal's bias transposed and repeated n times along its rows (read-only)."""
    r = np.tile(_causal(ls, dtype).T, (1, n))
    r.flags.writeable = False
    return r


def _key_rows(a):
    """The 2-D (S, batch * L) view of an array laid out by _keys_outer (or a block of its leading dim), else ``a``.
    (np.moveaxis cost 2.8 us a call, transpose 0.2.)"""
    nb = a.ndim - 2
    if nb < 1 or a.strides[-1] != a.itemsize:
        return a
    t = a.transpose((nb,) + tuple(range(nb)) + (nb + 1,))
    if not t[0].flags.c_contiguous:
        return a
    r = t.reshape(a.shape[-2], -1)
    return r if np.may_share_memory(r, a) else a


def _probs(q, k, bias, inplace, scale, st=None, h=0, causal=False):
    """softmax(q k^T * scale + bias) as the (..., L, S) view of the transposed probabilities it computes (into
    ``st`` if given, else a _keys_outer array); ``inplace``: the bias does not broadcast the scores to a larger
    shape; ``h``: the causal bias's block products (see _half), with ``inplace``; ``causal``: the bias is
    _causal's."""
    if st is None and inplace and q.shape[:-2] == k.shape[:-2] and q.dtype == k.dtype:
        st = _keys_outer(q.shape[:-2] + (k.shape[-2], q.shape[-2]), q.dtype)
    st = _mm_upper(k, q.swapaxes(-1, -2), h, st)     # the scores transposed, (..., S, L)
    rows = _key_rows(st)
    rows *= scale
    if bias is not None and inplace and rows is not st and bias.ndim == 2:
        _add_bias_rows(rows, bias, causal)
    elif bias is not None and inplace:
        st += bias.swapaxes(-1, -2)
    elif bias is not None:
        st = st + bias.swapaxes(-1, -2)
        rows = None
    _softmax_columns(st, None if rows is st else rows)
    return st.astype(q.dtype, copy=False).swapaxes(-1, -2)


def _grads(p, q, k, v, g, drop, scale, need, out=(None, None, None), h=0):
    """(dQ, dK, dV, dS^T) from the probabilities p (dQ, dK, dV into ``out``'s arrays where given); ``h``: the
    causal products' blocks (see _half)."""
    pt = p.swapaxes(-1, -2)     # transposed, as the forward made it: the reduction runs down columns
    dv = _mm_tri(pt if drop is None else pt * drop, g, h, False, out[2]) if need[2] else None
    rows = dual.is_array(v) and dual.is_array(g) and v.dtype == g.dtype == pt.dtype and \
        v.shape[:-2] == g.shape[:-2] == pt.shape[:-2] and _key_rows(pt) is not pt     # dS^T laid out as P^T
    dpt = _mm_upper(v, g.swapaxes(-1, -2), h, _keys_outer(pt.shape, pt.dtype) if rows else None)
    if drop is not None:
        dpt = dpt * drop
    dst = _dscores(pt, dpt)
    dq = _scaled(_mm_tri(dst.swapaxes(-1, -2), k, h, True, out[0]), scale) if need[0] else None
    dk = _scaled(_mm_tri(dst, q, h, False, out[1]), scale) if need[1] else None
    return dq, dk, dv, dst


def _dscores(pt, dpt):
    """dS^T = P^T * (dP^T - column sums of dP^T * P^T), in dpt's array (a fresh product) when it has pt's dtype and
    shape: two fewer (12, 4, 64, 64) temporaries in GPT's backward, the same values (fwd+bwd of GPT's attention, min
    of 400 interleaved at one thread, two runs: 1085 -> 1078 and 1162 -> 1158 us, p25 1147 -> 1127 and 1204 -> 1194)."""
    if not dual.is_array(dpt) or dpt.dtype != pt.dtype or dpt.shape != pt.shape:
        return pt * (dpt - _col_sum(dpt * pt))
    d, p = _key_rows(dpt), _key_rows(pt)
    if d.ndim != 2 or p.ndim != 2 or dpt.ndim < 3:
        dpt -= _col_sum(dpt * pt)
        dpt *= pt
        return dpt
    prod = _keys_outer(dpt.shape, dpt.dtype)
    np.multiply(d, p, out=_key_rows(prod))
    d -= _col_sum(prod).reshape(1, -1)
    d *= p
    return dpt


def _scaled(a, scale):
    if not dual.is_array(a):
        return a * scale
    a *= scale
    return a


def _split(q, k, v, bias):
    """Whether attention without dropout splits along the batch dim across threads: q, k, v arrays of one float
    dtype that share their batch dims, a bias without them, and enough work. The split runs each batch block's
    products and passes as the whole would (same values). GPT's (12, 4, 64, 32) heads at 2 threads: the
    calling thread's CPU time fwd 597 -> 345 us, bwd 782 -> 428 us (min of 200 interleaved)."""
    if q.ndim < 3 or q.shape[0] < 2 or not (q.dtype == k.dtype == v.dtype) or \
            q.dtype.type not in (np.float32, np.float64) or not (q.shape[:-2] == k.shape[:-2] == v.shape[:-2]):
        return False
    if bias is not None and bias.ndim != 2:
        return False
    # the scores' bytes times the passes over them: about ten, and three products
    return _parallel.threads() > 1 and 10 * q.shape[-2] * k.shape[-2] * q.itemsize * math.prod(q.shape[:-2]) >= \
        _parallel.MIN_BYTES


def _attend_split(q, k, v, bias, scale, out=None, h=0):
    """(p, softmax(...) @ v) by blocks of the batch dim on the pool (see _split), into ``out`` if given."""
    st = np.empty(q.shape[:-2] + (k.shape[-2], q.shape[-2]), q.dtype)
    if out is None:
        out = np.empty(q.shape[:-1] + (v.shape[-1],), q.dtype)

    def part(lo, hi):
        _mm_tri(_probs(q[lo:hi], k[lo:hi], bias, True, scale, st[lo:hi], h), v[lo:hi], h, True, out[lo:hi])
    _parallel.run(part, q.shape[0], st.nbytes * 10)
    return st.swapaxes(-1, -2), out


def _grad_buffers(q, k, v, need):
    """Arrays for dQ, dK and dV (None where not needed) laid out in memory as q, k and v are: GPT's heads are
    transposed views of one (B, T, 3C) projection, so their gradients, transposed back by TransposeBackward0,
    reshape to (B, T, C) without a copy. GPT's attention from its (12, 64, 384) projection to (12, 64, 128), with
    _flash_out, min of 300 interleaved: backward 730 -> 701 us at one thread, 601 -> 587 at two."""
    return tuple((np.empty_like(a) if 0 not in a.strides else np.empty(a.shape, a.dtype)) if n else None
                 for a, n in zip((q, k, v), need))


def _grads_split(p, q, k, v, g, scale, need, h=0):
    """_grads by blocks of the batch dim on the pool (see _split)."""
    out = _grad_buffers(q, k, v, need)

    def part(lo, hi):
        _grads(p[lo:hi], q[lo:hi], k[lo:hi], v[lo:hi], g[lo:hi], None, scale, need,
               tuple(None if a is None else a[lo:hi] for a in out), h)
    _parallel.run(part, q.shape[0], p.nbytes * 10)
    return out


# Causal attention whose inputs hold a NaN or an infinity. PyTorch's CPU flash kernel (4-D inputs) overwrites the
# masked scores with -inf rather than adding a bias, so a NaN key in a future position leaves the earlier queries
# finite; but it multiplies whole blocks (queries by 32, 64 or 256 as L reaches 192 and 768, keys by 512, a key
# block read whole once any of its keys is visible to the query block), so a NaN value reaches every query of a
# block that reads it (0 * NaN), and its backward likewise. Its math path (other shapes, dropout) adds the -inf
# bias to full products, so a NaN reaches every query. ember's fast path (the bias added, _half's skipped blocks)
# differs from both only when something is not finite, which _finite_causal detects from what it computed; such
# calls are redone by these rules (_flash_causal, _flash_causal_grads, or the full products).
def _finite_causal(p, out):
    """Whether causal attention's probabilities ``p`` and output ``out`` show no NaN or infinity in its inputs: a
    NaN or infinite score makes its query's row of p NaN (the masked ones too, as NaN + -inf), a non-finite value
    reaches the last query's output, whose products read every key."""
    if 0 in p.shape or 0 in out.shape:
        return True
    return bool(np.isfinite(out[..., -1, :]).all()) and not np.isnan(p[..., 0]).any()


def _flash_blocks(L, S):
    """PyTorch's CPU flash kernel's causal blocks (see above): (first query, end query, keys read) per block."""
    qs = min(256 if L >= 768 else 64 if L >= 192 else 32, L)
    kvs = min(512, S)
    for m in range(0, L, qs):
        e = min(m + qs, L)
        yield m, e, min(S, -(-min(e, S) // kvs) * kvs)


def _flash_causal(q, k, v, scale):
    """(p, out) of causal attention as PyTorch's CPU flash kernel gives them (see above): masked scores filled with
    -inf, each query block's products over the keys its blocks read."""
    L, S = q.shape[-2], k.shape[-2]
    p = np.zeros(q.shape[:-2] + (L, S), q.dtype)
    out = np.empty(q.shape[:-1] + v.shape[-1:], q.dtype)
    for m, e, n in _flash_blocks(L, S):
        s = (q[..., m:e, :] @ k[..., :n, :].swapaxes(-1, -2)) * q.dtype.type(scale)
        masked = np.arange(n) > np.arange(m, e)[:, None]
        s[..., masked] = -np.inf
        mx = s.max(-1, keepdims=True)
        pb = np.exp(s - np.where(mx == -np.inf, 0, mx))
        total = pb.sum(-1, keepdims=True)
        pb /= np.where(total == 0, 1, total)
        pb[..., masked] = 0     # a NaN query's masked probabilities too, as the backward kernel zeroes them
        p[..., m:e, :n] = pb
        out[..., m:e, :] = pb @ v[..., :n, :]
    return p, out


def _flash_causal_grads(p, q, k, v, g, scale, need):
    """(dQ, dK, dV) of _flash_causal by the kernel's blocks, as PyTorch's flash backward reads them."""
    dq, dk, dv = np.zeros(q.shape, q.dtype), np.zeros(k.shape, q.dtype), np.zeros(v.shape, q.dtype)
    sc = q.dtype.type(scale)
    for m, e, n in _flash_blocks(q.shape[-2], k.shape[-2]):
        pb, gb = p[..., m:e, :n], g[..., m:e, :]
        dv[..., :n, :] += pb.swapaxes(-1, -2) @ gb
        dp = gb @ v[..., :n, :].swapaxes(-1, -2)
        ds = pb * (dp - (dp * pb).sum(-1, keepdims=True))
        dq[..., m:e, :] = (ds @ k[..., :n, :]) * sc
        dk[..., :n, :] += (ds.swapaxes(-1, -2) @ q[..., m:e, :]) * sc
    return tuple(a if want else None for a, want in zip((dq, dk, dv), need))


class _SDPABackward(Node):
    """dO -> (dQ, dK, dV, d attn_mask): the softmax-attention backward from the saved probabilities."""
    __slots__ = ('p', 'drop', 'scale', 'bias', 'need', 'shapes', 'causal', 'split', 'flash_causal')

    def backward(self, g):
        q, k, v, mask = self.saved()
        if self.flash_causal == 'exact' and dual.is_array(g):
            return _flash_causal_grads(self.p, q, k, v, g, self.scale, self.need) + (None,)
        h = self.causal if dual.is_array(g) and g.dtype == q.dtype else 0
        grads = self._grads(g, q, k, v, mask, h)
        if (self.flash_causal or h) and not _finite_grad(g, grads[2]):   # see _finite_causal
            if self.flash_causal:
                return _flash_causal_grads(self.p, q, k, v, g, self.scale, self.need) + (None,)
            return self._grads(g, q, k, v, mask, 0)
        return grads

    def _grads(self, g, q, k, v, mask, h):
        if self.split and dual.is_array(g):
            return _grads_split(self.p, q, k, v, g, self.scale, self.need, h) + (None,)
        if dual.is_array(g):
            p = self.p
        else:
            p = _tensor_probs(q, k, mask, self.bias, self.scale)
        drop = None if self.drop is None else self.drop.swapaxes(-1, -2)
        out = _grad_buffers(q, k, v, self.need) if dual.is_array(g) and q.dtype == k.dtype == v.dtype == g.dtype \
            and q.shape[:-2] == k.shape[:-2] == v.shape[:-2] == g.shape[:-2] else (None, None, None)
        dq, dk, dv, dst = _grads(p, q, k, v, g, drop, self.scale, self.need, out, h)
        dm = _sum_to(dst.swapaxes(-1, -2), self.shapes[3]) if self.need[3] else None
        return _sum_to(dq, self.shapes[0]), _sum_to(dk, self.shapes[1]), _sum_to(dv, self.shapes[2]), dm


def _finite_grad(g, dv):
    """Whether the output gradient ``g`` of causal attention is finite: from dV's first key, which every query's
    gradient reaches (through a finite probability: 0 * NaN is NaN), else from ``g`` itself."""
    if not dual.is_array(g):
        return True
    if dv is not None and dv.ndim >= 2 and dv.shape[-2] and 0 not in g.shape:
        return bool(np.isfinite(dv[..., 0, :]).all())
    return bool(np.isfinite(g).all())


def _tensor_probs(q, k, mask, bias, scale):
    """The attention probabilities recomputed from tensors, so double backward flows through q, k and mask."""
    s = (q @ k.swapaxes(-1, -2)) * scale
    if bias is not None:
        finite = np.isfinite(bias)
        if mask is not None:
            s = s + mask.masked_fill(Tensor._make(~finite), 0)
        else:
            s = s + Tensor._make(np.where(finite, bias, 0))
        s = s.masked_fill(Tensor._make(np.broadcast_to(~finite, s.shape)), float('-inf'))
        dead = Tensor._make(np.broadcast_to(~finite.any(-1, keepdims=True), s.shape))
        return s.masked_fill(dead, 0).softmax(-1).masked_fill(dead, 0)
    return s.softmax(-1)


_NODES = {n: type(n, (_SDPABackward,), {'__slots__': ()})
          for n in (_FLASH, 'UnsafeViewBackward0', 'MmBackward0')}


def _node_name(q, k, v, dropout, mask_grad):
    """PyTorch's CPU choice: the flash kernel for plain 4-D attention, else the math path's last matmul (q, k, v:
    the shapes)."""
    if len(q) == len(k) == len(v) == 4 and q[:2] == k[:2] == v[:2] and q[-1] == v[-1] and not dropout and \
            not mask_grad:
        return _FLASH
    return 'MmBackward0' if len(q) == len(k) == len(v) == 2 else 'UnsafeViewBackward0'


def _flash_out(q, v):
    """The output array of PyTorch's flash kernel when its layout is not the contiguous one: (B, L, H, D) in memory
    for q laid out so (GPT's heads, transposed views of one projection), so that ``y.transpose(1, 2)`` is
    contiguous and ``.contiguous().view(B, L, H * D)`` copies nothing, as in PyTorch; None otherwise (a contiguous
    product). GPT's attention from its (12, 64, 384) projection to (12, 64, 128), min of 300 interleaved: forward
    565 -> 557 us at one thread (with _grad_buffers, backward 730 -> 701)."""
    if q.shape[1] < 2 or q.shape[2] < 2 or 0 in q.strides or q.strides[2] <= q.strides[1] or q.dtype != v.dtype:
        return None
    b, h, n = q.shape[:3]
    return np.empty((b, n, h, v.shape[-1]), q.dtype).swapaxes(1, 2)


def _dropout_mask(shape, p, dtype):
    """The math path's ``dropout(attn, p)`` noise: PyTorch's bernoulli draws, divided by 1 - p."""
    from ._dropout import _mask
    return _mask(shape, p, np.dtype(dtype))


def _check_batch(*shapes):
    """PyTorch's broadcast error when the batch dims of query, key and value do not broadcast (whisper's beam search
    with cross-attention keys of another batch), instead of NumPy's from inside the product."""
    try:
        np.broadcast_shapes(*(s[:-2] for s in shapes))
    except ValueError:
        from ...ops._util import broadcast_mismatch
        raise broadcast_mismatch([s[:-2] for s in shapes]) from None


@_autocast.lower_precision
@_quiet.quietly
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(Q K^T * scale + mask) V; a bool mask marks the keys that may be attended to (True = keep)."""
    try:
        if attn_mask is not None and not isinstance(attn_mask, Tensor):
            if not hasattr(attn_mask, '_dispatch'):     # torch.nn.attention.bias.CausalBias has one
                raise TypeError(f"scaled_dot_product_attention(): argument 'attn_mask' (position 4) must be Tensor, "
                                f"not {type(attn_mask).__name__}")
            return attn_mask._dispatch(query, key, value, dropout_p, is_causal, scale, enable_gqa)
        attention.check_backend()
        rep = query.shape[-3] // key.shape[-3] if enable_gqa and key.shape[-3] != query.shape[-3] else 1
        if query.dtype in (_dtype.bfloat16, _dtype.float16) and not (is_causal and attn_mask is not None):
            fgrad = attn_mask is not None and attn_mask._data.dtype != np.bool_ and attn_mask._requires_grad
            if _flash_half_eligible(query, key, value, dropout_p, fgrad, rep):
                return _flash_half(query, key, value, attn_mask, is_causal, scale, rep)
        if rep > 1:
            key, value = key.repeat_interleave(rep, -3), value.repeat_interleave(rep, -3)
        if query.dtype in (_dtype.bfloat16, _dtype.float16):   # PyTorch's math path computes these in float32
            out = scaled_dot_product_attention(query.float(), key.float(), value.float(), attn_mask, dropout_p,
                                               is_causal, scale)
            return out.to(query.dtype)
        q, k, v = query._data, key._data, value._data
        if is_causal and attn_mask is not None:
            raise RuntimeError('_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True')
        if q.shape[-1] != k.shape[-1]:
            raise RuntimeError(f'Expected query and key to have the same embedding dim, got {q.shape[-1]} and '
                               f'{k.shape[-1]}')
        _check_batch(q.shape, k.shape, v.shape)
        scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
        bias = _bias(attn_mask, is_causal, (q.shape[-2], k.shape[-2]), q.dtype)
        fmask = attn_mask if attn_mask is not None and attn_mask._data.dtype != np.bool_ else None
        need = (query._requires_grad, key._requires_grad, value._requires_grad,
                fmask is not None and fmask._requires_grad)
        buf = _flash_out(q, v) if _node_name(q.shape, k.shape, v.shape, dropout_p > 0, need[3]) == _FLASH else None
        split = dropout_p == 0 and _split(q, k, v, bias)
        h = _half(q, k, v, is_causal)
        drop = None
        if split:
            p, out = _attend_split(q, k, v, bias, scale, buf, h)
        else:   # the causal bias alone is (L, S), as the scores' last two dims: added in place
            p = _probs(q, k, bias, attn_mask is None, scale, h=h, causal=is_causal)
            drop = _dropout_mask(p.shape, dropout_p, q.dtype) if dropout_p > 0 else None
            out = _mm_tri(p if drop is None else p * drop, v, h, True,
                          buf if buf is not None and p.shape[:-2] == q.shape[:-2] else None)
        flash_causal = is_causal and _node_name(q.shape, k.shape, v.shape, drop is not None, need[3]) == _FLASH
        if is_causal and not _finite_causal(p, out):    # a NaN or infinity in the inputs: see _finite_causal
            split, h = False, 0
            if flash_causal:
                p, out, flash_causal = *_flash_causal(q, k, v, scale), 'exact'
            else:
                p = _probs(q, k, bias, True, scale, causal=True)
                out = _mm(p if drop is None else p * drop, v)
            if buf is not None:
                buf[...] = out
                out = buf
        if GRAD.enabled and any(need):
            name = _node_name(q.shape, k.shape, v.shape, drop is not None, need[3])
            if forward_refusal.SOURCES and name == _FLASH:   # the CPU flash kernel has no forward-mode formula
                forward_refusal.refuse('_scaled_dot_product_flash_attention_for_cpu', query, key, value)
            node = _NODES[name]((query, key, value, fmask))
            node.p, node.drop, node.scale, node.bias, node.need = p, drop, scale, bias, need
            node.split, node.causal, node.flash_causal = split and not need[3], h, flash_causal
            node.shapes = (q.shape, k.shape, v.shape, None if fmask is None else fmask._data.shape)
            if name == _FLASH:
                node.save(query, key, value, fmask if need[3] else None)
            else:   # PyTorch's math path saves its own scaled q and k and no mask: later in-place changes miss them
                node.save(query.clone(), key.clone(), value, fmask.clone() if need[3] else None)
            return Tensor._make(out, node)
        return Tensor._make(out)
    except (AttributeError, TypeError):
        check_tensor_args('scaled_dot_product_attention', 'query', 'key', 'value', 'attn_mask?')
        raise


def _flash_half_eligible(query, key, value, dropout_p, mask_grad, rep):
    """Whether PyTorch's CPU dispatch picks its flash kernel for these float16/bfloat16 tensors (``rep``: the query
    heads per key head under enable_gqa)."""
    q, k, v = tuple(query.shape), tuple(key.shape), tuple(value.shape)
    if rep > 1 and len(k) == len(v) == 4:
        k, v = k[:1] + (k[1] * rep,) + k[2:], v[:1] + (v[1] * rep,) + v[2:]
    return query.dtype == key.dtype == value.dtype and _node_name(q, k, v, dropout_p > 0, mask_grad) == _FLASH and \
        q[-1] == k[-1] and 0 not in q[-2:] + k[-2:]


def _round_half(a, dt):
    """Float32 ``a`` rounded to the values of the half dtype ``dt`` (float16 or bfloat16), still float32."""
    return _bf16.round_f32(a) if dt is _bf16.NP else a.astype(dt).astype(np.float32)


def _flash_half(query, key, value, attn_mask, is_causal, scale, rep=1):
    """PyTorch's CPU flash kernel on float16/bfloat16 tensors: the scores and their exponentials in float32, the
    unnormalised probabilities rounded to the input's dtype for the product with V, divided by their float32 row
    sums, rounded once (diffusers' attention under autocast(bfloat16): 148 of 512 values one ulp off computing the
    math path in float32, 13 now, which PyTorch's approximate vectorised exp leaves; its kernel also goes through
    long rows of keys in blocks with a running maximum, so the flipped last bits grow with the row: 10 of 64
    outputs at 512 keys, 20 at 1100). The node keeps the float32
    probabilities and rounded output for _FlashHalfBackward. Under enable_gqa each key head serves ``rep`` query
    heads (see _gqa_sum)."""
    dt = query._data.dtype
    q, k, v = (_bf16.to_f32(t._data) for t in (query, key, value))
    if rep > 1:
        k, v = np.repeat(k, rep, -3), np.repeat(v, rep, -3)
    _check_batch(q.shape, k.shape, v.shape)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = (q @ k.swapaxes(-1, -2)) * np.float32(scale)
    bias = _bias(attn_mask, is_causal, (q.shape[-2], k.shape[-2]), np.float32)
    if bias is not None:
        s = s + bias
    m = s.max(-1, keepdims=True)
    e, total = _flash_exp(s - np.where(np.isfinite(m), m, 0))
    total[total == 0] = 1   # a row with every key masked: zeros, as PyTorch's kernel gives
    out = _bf16.cast((_round_half(e, dt) @ v) * (np.float32(1) / total), dt)
    buf = _flash_out(query._data, value._data)
    if buf is not None:
        buf[...] = out
        out = buf
    need = (query._requires_grad, key._requires_grad, value._requires_grad)
    if not (GRAD.enabled and any(need)):
        return Tensor._make(out)
    if forward_refusal.SOURCES:     # the CPU flash kernel has no forward-mode formula
        forward_refusal.refuse('_scaled_dot_product_flash_attention_for_cpu', query, key, value)
    node = _FlashHalfBackward((query, key, value))
    node.arrays, node.p, node.out, node.scale, node.dt, node.need = (q, k, v), _flash_probs(s, m, e, total), \
        _bf16.to_f32(out), np.float32(scale), dt, need
    node.rep = rep
    return Tensor._make(out, node)


def _flash_probs(s, m, e, total):
    """The probabilities PyTorch's flash backward recomputes from the scores ``s``: under the bit-for-bit kernels on an
    AVX-512 host, SLEEF's exp of s minus the forward's float32 logsumexp (row max + log of its sum); else e / total."""
    if not _sleef.emulated():
        return e / total
    return _sleef.expf(s - (np.where(np.isfinite(m), m, 0) + np.log(total)))


def _flash_exp(z):
    """(exp(z), its float32 row sums) of the shifted float32 scores ``z`` as PyTorch's CPU flash kernel takes them for
    float16/bfloat16: under the bit-for-bit kernels on an AVX-512 host (ember._exact), fexp_u20 over whole 16-key
    vectors and glibc's exp on the rest, the vectors summed as reduce_all's lanes and tree and the rest added in
    order (1-ulp flips in 531 of 2048 float16 outputs at 32 keys with NumPy's exp, none now); else NumPy's."""
    if not _sleef.emulated():
        e = np.exp(z)
        return e, e.sum(-1, keepdims=True)
    n = z.shape[-1]
    full = n - n % 16
    e = np.empty_like(z)
    e[..., :full] = fexp_u20(z[..., :full])
    total = _sleef.lane_sums(e[..., :full]) if full else np.zeros(z.shape[:-1] + (1,), np.float32)
    if full < n:
        e[..., full:] = _sleef.glibc_expf(z[..., full:])
        for i in range(full, n):
            total += e[..., i:i + 1]
    return e, total


class _FlashHalfBackward(Node):
    """dO -> (dQ, dK, dV) of _flash_half, as PyTorch's CPU flash backward: in float32 from the saved probabilities,
    dV from them rounded to the input's dtype, dS = P * (dP - rowsum(dO * O)) rounded to it before its products
    with K and Q; each gradient rounded once (equal to PyTorch's but for its approximate exp's flips: 7 to 16 of 512
    values, against 171 to 249 through the float32 math path)."""
    __slots__ = ('arrays', 'p', 'out', 'scale', 'dt', 'need', 'rep')

    def backward(self, g):
        if not dual.is_array(g):
            raise RuntimeError('derivative for aten::_scaled_dot_product_flash_attention_for_cpu_backward is not '
                               'implemented')
        q, k, v = self.arrays
        g = _bf16.to_f32(g)
        dt, p = self.dt, self.p
        dv = _by_query_blocks(_round_half(p, dt), g, dt) if self.need[2] else None
        ds = None
        if self.need[0] or self.need[1]:
            gy = g * self.out
            delta = _sleef.lane_sums(gy) if _sleef.emulated() else gy.sum(-1, keepdims=True)
            ds = _round_half(p * (g @ v.swapaxes(-1, -2) - delta), dt)
        dq = (ds @ k) * self.scale if self.need[0] else None
        dk = _by_query_blocks(ds, q, dt, self.scale) if self.need[1] else None
        if self.rep > 1:    # enable_gqa: each key head's gradient summed over the query heads it served
            dk, dv = (None if a is None else _gqa_sum(a, self.rep, dt) for a in (dk, dv))
        return tuple(None if a is None else _bf16.cast(a, dt) for a in (dq, dk, dv))


def _by_query_blocks(a, b, dt, scale=None):
    """a^T @ b (times ``scale``) as PyTorch's flash backward adds dK and dV: one product per block of 32, 64 or 256
    queries (as L reaches 192 and 768), each added into the gradient of the input's dtype ``dt``, rounded per block
    (2 blocks of 64 queries: 4199 of 16384 float16 dK values off summing all in float32)."""
    n = a.shape[-2]
    step = 32 if n < 192 else 64 if n < 768 else 256
    acc = None
    for lo in range(0, n, step):
        part = a[..., lo:lo + step, :].swapaxes(-1, -2) @ b[..., lo:lo + step, :]
        if scale is not None:
            part = part * scale
        acc = part if acc is None else _round_half(acc, dt) + part
    return acc


def _gqa_sum(a, rep, dt):
    """The float32 gradients ``a`` of the ``rep`` query heads of each key head added into the key head's gradient as
    PyTorch's kernel does: into a buffer of the input's dtype, rounded after each head (all equal to PyTorch's on the
    tests' inputs, against 30 of 128 summed in float32)."""
    heads = a.reshape(a.shape[:-3] + (-1, rep) + a.shape[-2:])
    acc = _round_half(heads[..., 0, :, :], dt)
    for i in range(1, rep):
        acc = _round_half(acc + heads[..., i, :, :], dt)
    return acc


_FlashHalfBackward.__name__ = _FlashHalfBackward.__qualname__ = _FLASH


# -- multi-head attention -------------------------------------------------------------------------------------------
def _canonical_mask(mask, name, dtype, other=None, other_name=''):
    """A bool mask becomes a float one (-inf where True: masked out), as nn.MultiheadAttention reads it; a mask
    of another dtype than the ``other`` mask warns as PyTorch's _canonical_mask does (bool padding masks with a
    float causal mask: the translation tutorial's decoder)."""
    if mask is None:
        return None
    m = mask._data
    if other is not None and other._data.dtype != m.dtype:
        warnings.warn(f'Support for mismatched {name} and {other_name} is deprecated. Use same type for both '
                      'instead.', stacklevel=2)
    if m.dtype == np.bool_:
        return Tensor._make(np.where(m, -np.inf, 0).astype(dtype))
    if m.dtype.kind != 'f':
        raise AssertionError(f'only bool and floating types of {name} are supported')
    return mask


def _in_projection(query, key, value, w, b, sep):
    from ...ops import linear
    e = query.shape[-1]
    if sep is not None:
        wq, wk, wv = sep
        bq, bk, bv = (None, None, None) if b is None else b.chunk(3)
        return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)
    if key is value and query is key:
        qkv = linear(query, w, b)
        return qkv.chunk(3, -1)
    ws = w.split(e)
    bs = (None, None, None) if b is None else b.split(e)
    if key is value:
        q = linear(query, ws[0], bs[0])
        from ...ops import cat
        kv = linear(key, cat([ws[1], ws[2]]), None if b is None else cat([bs[1], bs[2]]))
        return (q,) + tuple(kv.chunk(2, -1))
    return linear(query, ws[0], bs[0]), linear(key, ws[1], bs[1]), linear(value, ws[2], bs[2])


@_quiet.quietly
def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention on (L, N, E) inputs (or unbatched (L, E)); returns (output, weights or None)."""
    from ...ops import cat, linear, zeros
    batched = query.dim() == 3
    if not batched:
        query, key, value = _unsqueeze_same(query, key, value)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f'was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}')
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f'embed_dim {embed_dim} not divisible by num_heads {num_heads}')
    if use_separate_proj_weight and key.shape[:2] != value.shape[:2]:   # (kdim and vdim may differ)
        raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's {value.shape[:2]}")
    if not use_separate_proj_weight and key.shape != value.shape:
        raise AssertionError(f'key shape {key.shape} does not match value shape {value.shape}')
    if is_causal and attn_mask is None:
        raise RuntimeError('Need attn_mask if specifying the is_causal hint. You may use the Transformer module '
                           'method `generate_square_subsequent_mask` to create this mask.')
    dtype = query._data.dtype
    key_padding_mask = _canonical_mask(key_padding_mask, 'key_padding_mask', dtype, attn_mask, 'attn_mask')
    attn_mask = _canonical_mask(attn_mask, 'attn_mask', dtype)
    sep = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight else None
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, sep)
    if attn_mask is not None:
        attn_mask = _check_attn_mask(attn_mask, tgt_len, src_len, bsz * num_heads)
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None else static_k)
    v = (v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None else static_v)
    if add_zero_attn:
        k = cat([k, zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype)], 1)
        v = cat([v, zeros((bsz * num_heads, 1, head_dim), dtype=v.dtype)], 1)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    p = dropout_p if training else 0.0
    if need_weights:
        out, weights = _attend_with_weights(q, k, v, attn_mask, p, head_dim)
    else:
        mask4 = None
        if attn_mask is not None:
            mask4 = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else
                     attn_mask.reshape(bsz, num_heads, -1, src_len))
        q4, k4, v4 = (t.reshape(bsz, num_heads, t.shape[1], head_dim) for t in (q, k, v))
        out = scaled_dot_product_attention(q4, k4, v4, mask4, p)
        out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
        weights = None
    if need_weights:
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias)   # its width is out_proj's: CLIP's AttentionPool2d projects
    out = out.reshape(tgt_len, bsz, out.shape[-1])      # to its output_dim
    if weights is not None:
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            weights = weights.squeeze(0)
    if not batched:
        out = out.squeeze(1)
    return out, weights


def _attend_with_weights(q, k, v, attn_mask, p, head_dim):
    """Explicit softmax(q k^T / sqrt(d) + mask) so the weights can be returned; then weights @ v."""
    from ._dropout import dropout
    from ...ops.blas import baddbmm, bmm
    qs = q * math.sqrt(1.0 / head_dim)
    kt = k.transpose(-2, -1)
    s = bmm(qs, kt) if attn_mask is None else baddbmm(attn_mask, qs, kt)
    w = s.softmax(-1)
    if p > 0:
        w = dropout(w, p)
    return bmm(w, v), w


def _unsqueeze_same(query, key, value):
    """Add the batch dim at 1, keeping ``key is value`` / ``query is key`` identities (the self-attention path)."""
    q = query.unsqueeze(1)
    k = q if key is query else key.unsqueeze(1)
    v = k if value is key else (q if value is query else value.unsqueeze(1))
    return q, k, v


def _check_attn_mask(mask, tgt_len, src_len, n):
    if mask.dim() == 2:
        if tuple(mask.shape) != (tgt_len, src_len):
            raise RuntimeError(f'The shape of the 2D attn_mask is {mask.shape}, but should be {(tgt_len, src_len)}.')
        return mask.unsqueeze(0)
    if mask.dim() == 3:
        if tuple(mask.shape) != (n, tgt_len, src_len):
            raise RuntimeError(f'The shape of the 3D attn_mask is {mask.shape}, but should be '
                               f'{(n, tgt_len, src_len)}.')
        return mask
    raise RuntimeError(f"attn_mask's dimension {mask.dim()} is not supported")


def _pad_last(mask):
    if mask is None:
        return None
    from ._pad import pad
    return pad(mask, (0, 1))
