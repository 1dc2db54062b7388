"""Normalisation: batch, layer, group, instance and RMS norm as fused nodes (NumPy forward and the closed-form
backward), plus ``normalize``, ``cosine_similarity``, ``pairwise_distance`` and ``local_response_norm``."""
import math

import numpy as np

from ... import _bf16, _dtype, _exact, _layout, _parallel, _quiet, func as _func, ops
from ...backend import col_sums, gemm, ones_vector as _ones
from ...autograd import dual, forward_refusal
from ...autograd.grad_mode import GRAD, no_grad
from ...ops import _composite
from ...ops._util import need_float, node_class, not_implemented, check_tensor_args
from ...tensor import Tensor
from . import _bn_planes, _bn_rows, _gn_exact, _ln_exact
from ._fused import fused, record

try:    # NumPy 2 (NumPy 1: numpy.core)
    from numpy._core.multiarray import c_einsum as _c_einsum
except ImportError:
    from numpy.core.multiarray import c_einsum as _c_einsum

__all__ = ['batch_norm', 'layer_norm', 'group_norm', 'instance_norm', 'rms_norm', 'normalize',
           'cosine_similarity', 'pairwise_distance', 'pdist', 'local_response_norm']


def _bshape(ndim, axis_len):
    """Shape that broadcasts a per-channel vector against (N, C, *)."""
    return (1, axis_len) + (1,) * (ndim - 2)


def _norm_grad_x(gxhat, xhat, invstd, axes):
    """d/dx of a normalisation over ``axes`` given d/dxhat (the closed form shared by all the norms)."""
    m = 1
    for a in axes:
        m *= gxhat.shape[a]
    s1 = gxhat.sum(axis=axes, keepdims=True)
    s2 = (gxhat * xhat).sum(axis=axes, keepdims=True)
    return (gxhat - s1 / m - xhat * (s2 / m)) * invstd


# -- batch norm -------------------------------------------------------------------------------------------------
def _opmath(a):
    """A float32/float64 array as it is; half types (float16, bfloat16) as float32, PyTorch's opmath type."""
    a = np.asarray(a)
    if a.dtype.isnative and a.dtype.type in (np.float32, np.float64):
        return a
    return a.astype(np.float64 if a.dtype.itemsize == 8 else np.float32)


def _channels(x, C, out=None):
    """``x`` (N, C, *) as an array for per-channel arithmetic, and the function that shapes a per-channel vector
    to broadcast against it. NumPy runs a (1, C, 1, 1) operand at half speed (float32 (8, 64, 32, 32) multiply:
    0.100 ms); on (N, C*HW) rows against the vector repeated to a row's length 0.069, and 0.34 against 0.75 for
    (64, 64, 24, 24) (min of 60). A C-contiguous x goes as rows of k samples (see _row_samples), or as the rows of
    ``out`` (a buffer shaped as this gives x, or a channel block's rows of one sample) when given. One sample or
    one value per channel: the plain broadcast, which is faster."""
    N, hw = x.shape[0], math.prod(x.shape[2:])
    if N == 1 or hw == 1:
        return x.reshape(N, C, hw), lambda v: v.reshape(1, C, 1)
    if out is not None:
        k = N // out.shape[0]
    else:
        k = _row_samples(N, C * hw) if x.flags.c_contiguous else 1
    if k == 1:
        return x.reshape(N, C * hw), lambda v: np.repeat(v, hw)
    return x.reshape(N // k, k * C * hw), lambda v: np.concatenate((np.repeat(v, hw),) * k)


# NumPy runs a binary op of a 2-D array against a row vector at about 2/3 speed when the rows are shorter than its
# buffer (8192 elements, float32 or float64): (131072,) float32 as rows of 4096 27.4 us, of 8192 and longer 18.3, a
# same-shape op 18.8 (min of 400). So _channels takes rows of k samples, the smallest k dividing N that reaches it
# (the vectors k times over; the same values). DCGAN's (32, 64, 8, 8) training batch_norm, medians of 300-400
# alternating A/B on the loaded machine (load 4-6), forward / backward (us): 1 thread 272 / 299 -> 259 / 271,
# 2 threads 248 / 277 -> 232 / 254; (32, 128, 4, 4) 155 -> 151 backward, the rest within noise.
_MIN_ROW = 8192


def _row_samples(N, per_sample):
    """The samples per row (a divisor of N) for _channels: the fewest whose row has _MIN_ROW values (all N where
    that is all of them; one where no divisor up to twice the least comes)."""
    least = -(-_MIN_ROW // per_sample)
    if least >= N:
        return N
    for k in range(least, min(N, 2 * least) + 1):
        if N % k == 0:
            return k
    return 1


def _channel_sums(a, b, C):
    """Per-channel sums (float64) of ``a`` (N, C, *), or of ``a * b``: each (n, c) plane summed in a's dtype, then
    the planes in float64, as PyTorch's CPU kernel sums. einsum's row sums and dots instead of NumPy's sum over
    axes (0, 2, 3): float32 (8, 64, 32, 32) 0.087 -> 0.022 ms (dots: 0.155 -> 0.068); a plane's sum is the same
    on a block of channels (see _bn_blocks), where a matrix-vector product's was not (5-9 us more than one at
    ResNet-18's smaller planes). Short planes (see _SHORT_PLANE) go as matrix-vector products instead."""
    N, hw = a.shape[0], math.prod(a.shape[2:])
    rows = a.reshape(N * C, hw)
    if b is not None:
        b = b.reshape(N * C, hw)
        rows = _row_sums(np.multiply(rows, b)) if _short(a, hw) else np.einsum('ij,ij->i', rows, b)
    elif hw > 1:
        rows = _row_sums(rows) if _short(a, hw) else np.einsum('ij->i', rows)
    return rows.reshape(N, C).sum(axis=0, dtype=np.float64)


def _row_sums(rows):
    """Row sums of the 2-D float32/64 ``rows``, in their dtype: one matrix-vector product on gemm's policy (one
    OpenBLAS thread below _GEMM_SIZE) for rows shorter than _LONG_ROW, else einsum's, faster there (min of 100, us,
    float32: (768, 128) 5.1 against 7.0, (512, 1024) 21.8 against 21.4, (64, 8192) 24.6 against 21.1). A plain
    ``rows @ ones`` ran on OpenBLAS's own thread count whatever set_num_threads said: (64, 65536) took 6.5 ms
    there on the loaded machine, 0.2 ms on one thread."""
    n = rows.shape[1]
    if n >= _LONG_ROW or rows.size >= _GEMM_SIZE:
        return np.einsum('ij->i', rows)
    return gemm(rows, _ones(n, rows.dtype))


_LONG_ROW = 1024
# values in an array from which its row and plane sums are einsum's, not matrix-vector products: backend.BIG_GEMM's
# value when these were measured (products below it run on one thread, so the sums do not depend on the thread
# count); kept when that rose to 2^24, so that the sums of arrays in between keep their values
_GEMM_SIZE = 1 << 23


# Planes of at most _SHORT_PLANE values (in arrays of fewer than _GEMM_SIZE, whose products gemm runs on one
# thread, so the values do not depend on the thread count) take their sums as matrix-vector products: einsum's
# per-row loop costs more than the row's work there. Float32, one thread, min of 200 (us), at 4x4 and 8x8: plane
# sums of g (_channel_sums) 13.9 -> 8.0, 10.8 -> 6.6; their dots (a product pass, then the sums) 20.2 -> 13.7,
# 19.3 -> 21.9; float64 totals (_totals64; the values made float64 in a pass of their own) 27.6 -> 18.1, 31.8 ->
# 35.0, of the squares 29.7 -> 24.3, 37.3 -> 45.4. Whole training batch_norm calls at 4x4 (forward, backward):
# (8, 512, 4, 4) 103.4 -> 95.5, 74.6 -> 70.2; (32, 128, 4, 4) 102.9 -> 93.5, 79.5 -> 75.7; at 8x8 no gain (the
# sums of g as products: (8, 256, 8, 8) 130.6 -> 131.2, 93.1 -> 93.7).
_SHORT_PLANE = 16


def _short(a, hw):
    """Whether planes of ``hw`` values of array ``a`` take their sums as matrix-vector products (see _SHORT_PLANE)."""
    return hw <= _SHORT_PLANE and 0 < a.size < _GEMM_SIZE


def _totals64(a, C, square=False):
    """Per-channel float64 totals of ``a`` (N, C, *; float32/64), each value (or, with ``square``, its square rounded
    to a's dtype; ``a`` may be overwritten then) taken exactly in float64: the sums PyTorch's CPU kernel forms for
    batch_norm's statistics. einsum's float64 sums (0.187 -> 0.133 ms for float32 (8, 64, 32, 32) against NumPy's
    sum over axes); short planes (see _SHORT_PLANE) as two matrix-vector products over the values made float64 in
    one pass."""
    N = a.shape[0]
    hw = a.size // (N * C) if a.size else 0
    if not _short(a, hw):
        if square:      # in place: the caller's buffer of deviations is spent
            a = np.multiply(a, a, out=a)
        return np.einsum('nci->c', a.reshape(N, C, hw), dtype=np.float64)
    a = a.reshape(N, C * hw)
    if square:      # the square rounded to a's dtype, then widened, in one pass
        a = np.multiply(a, a, out=np.empty(a.shape, np.float64), dtype=a.dtype)
    else:
        a = a.astype(np.float64, copy=False)
    return gemm(gemm(_ones(N), a).reshape(C, hw), _ones(hw))


_SPLIT_BYTES = 2 << 20    # inputs from which batch_norm's training passes go by channel blocks on the pool


def _bn_blocks(x, C):
    """Channel blocks (lo, hi) for batch_norm's training passes over x (N, C, *): one per thread on ember._parallel's
    pool for an input of at least _SPLIT_BYTES at more than one thread; None otherwise, and where the passes do not
    go by channels (a 2-D or non-contiguous input, one sample, one value per channel), and for short planes, whose
    sums are matrix-vector products (see _short), which round otherwise on a block: the whole batch at once. A
    block runs the same NumPy calls on its channels' rows as the whole batch does (einsum's per-plane sums too), so
    values are one thread's. ResNet-18's five 64x32x32 batch norms (batch 8) at 2 threads, min of 200 (ms):
    forward 4.48 -> 3.95, backward 3.53 -> 3.04 (all twenty layers: 1 MiB and less stay whole, where the GIL's
    round trips between the blocks' short calls lost: 128x16x16 0.21 -> 0.22, 0.15 -> 0.22). Remeasured 7 December
    at 2 threads (host check 1.9-2.2, load 7-10 at nice 19), forward and backward, min of 200 interleaved (us), whole
    -> blocks from 512 KiB: (8, 128, 16, 16) 638 -> 754, (8, 256, 8, 8) 404 -> 498, (32, 64, 8, 8) 404 -> 797,
    (32, 32, 16, 16) 609 -> 737: still whole."""
    if _parallel.threads() < 2 or x.nbytes < _SPLIT_BYTES or x.ndim < 3 or x.shape[0] == 1 or \
            not x.flags.c_contiguous:
        return None
    hw = math.prod(x.shape[2:])
    if hw == 1 or _short(x, hw):
        return None
    return _parallel.spans(C, _parallel.threads())


def _part(v, lo, hi):
    """v[lo:hi] of a per-channel vector, or None."""
    return None if v is None else v[lo:hi]


def _bn_train_grads(x, g, mean, invstd, w, parts):
    """The input gradient of a training batch_norm and the per-channel sums of g and (x - mean) * g (float64), by
    channel blocks (see _bn_blocks), as _bn_backward computes them whole: (g - mean(g) - (x - mean) * dotp *
    invstd^2 / m) * invstd * w, in place in the gradient's buffer, which first holds x - mean."""
    N, C = x.shape[:2]
    hw = x.size // (N * C)
    dt = x.dtype
    m = N * hw
    gx = np.empty(x.shape, dt)
    x3, g3, o3 = (a.reshape(N, C, hw) for a in (x, g, gx))

    def block(lo, hi):
        gb, ob = g3[:, lo:hi], o3[:, lo:hi]
        n2 = (N, (hi - lo) * hw)
        d, g2 = ob.reshape(n2), gb.reshape(n2)
        gsum = np.einsum('nci->nc', gb).sum(axis=0, dtype=np.float64)     # planes in g's dtype, then float64
        np.subtract(x3[:, lo:hi].reshape(n2), np.repeat(mean[lo:hi], hw), out=d)
        dotp = np.einsum('nci,nci->nc', ob, gb).sum(axis=0, dtype=np.float64)
        inv = invstd[lo:hi]
        scale = inv if w is None else inv * w[lo:hi].astype(dt)
        k = dotp.astype(dt) * inv * inv / dt.type(m)
        np.multiply(d, np.repeat(k, hw), out=d)
        np.subtract(g2, d, out=d)
        np.subtract(d, np.repeat((gsum / m).astype(dt), hw), out=d)
        np.multiply(d, np.repeat(scale, hw), out=d)
        return gsum, dotp
    gsum, dotp = _joined(block, parts)
    return gx, gsum, dotp


def _joined(block, parts):
    """The per-channel vectors block(lo, hi) returns, joined over the channel blocks parts (on the pool)."""
    if len(parts) == 1:
        return block(*parts[0])
    return [np.concatenate(r) for r in zip(*_parallel.each(block, parts))]


def _bn_backward(self, g):
    gx, gw, gb = _bn_grads(self, g)
    if (gw is not None and gw is not False) or (gb is not None and gb is not False):
        mean, invstd, _, _, training, _ = self.ctx
        x, w, b = self.saved()
        if training and x.ndim > 2 and dual.is_low(x) and x.flags.c_contiguous and g.flags.c_contiguous and \
                _exact.enabled():
            gsum, dotp = _lane_sums(dual.wide(x), dual.wide(g), mean, x.dtype == np.float16)
            if w is not None and w.dtype == np.float32 and gw is not None and gw is not False:
                gw = dotp * invstd.astype(np.float32)
            if b is not None and b.dtype == np.float32 and gb is not None and gb is not False:
                gb = gsum
    return gx, gw, gb


def _lane_sums(x, g, mean, fused_tail):
    """Per-channel sum(g) and sum((x - mean) * g) of a half input with float32 parameters, as PyTorch's mixed-type
    batch_norm backward adds them: each sample's plane in 8 float32 lanes (fused multiply-adds for the products)
    over its whole 16-element blocks, lanes carried from sample to sample, the rest in one scalar per channel (its
    products fused for float16, not for bfloat16), then the lanes added in sequence after the scalar. Summing the
    planes (ember's float32 order) left 1-8 of 3-8 weight gradients a step off with PyTorch's own mean and invstd.
    With ember._exact on only: its loop over the lane steps made a bf16 (8, 64, 16, 16) backward 1.13 -> 3.30 ms."""
    N, C = x.shape[:2]
    hw = x.size // max(N * C, 1)
    x3, g3 = x.reshape(N, C, hw), g.reshape(N, C, hw)
    d3 = x3 - mean.astype(np.float32).reshape(1, C, 1)
    body = hw - hw % 16
    blocks = lambda a: a[:, :, :body].reshape(N, C, body // 8, 8).transpose(0, 2, 1, 3).reshape(-1, C, 8)
    gb, db = blocks(g3), blocks(d3)
    vs = np.zeros((C, 8), np.float32)
    vd = np.zeros((C, 8), np.float32)
    for k in range(gb.shape[0]):     # (each step rounded to float32, in order: no NumPy reduction keeps it)
        vs += gb[k]
        vd = (vd + db[k].astype(np.float64) * gb[k]).astype(np.float32)
    s = np.zeros(C, np.float32)
    d = np.zeros(C, np.float32)
    for n in range(N):
        for j in range(body, hw):
            s += g3[n, :, j]
            if fused_tail:
                d = (d + d3[n, :, j].astype(np.float64) * g3[n, :, j]).astype(np.float32)
            else:
                d += d3[n, :, j] * g3[n, :, j]
    fs, fd = vs[:, 0].copy(), vd[:, 0].copy()
    for lane in range(1, 8):
        fs += vs[:, lane]
        fd += vd[:, lane]
    return s + fs, d + fd


def _bn_grads(self, g):
    mean, invstd, _, axes, training, _ = self.ctx
    x, w, b = self.saved()
    dt = x.dtype
    rows = _rows_view(x)
    g2 = None if rows is None else _rows_view(np.ascontiguousarray(g, dtype=dt) if _bn_rows.takes(x) else g)
    if g2 is not None:
        gx, gw, gb = _bn_rows.grads(rows, g2, mean, invstd, w, training, self.need)
        return (None if gx is None else _from_rows(gx, x.shape), None if gw is None else gw.astype(w.dtype),
                None if gb is None else gb.astype(b.dtype))
    if _exact.enabled() and _planes_kernel(x, g):
        return _bn_exact_grads(x, g, mean, invstd, w, b, training, self.need)
    x, g = _opmath(x), _opmath(g)
    C = x.shape[1]
    m = x.size // C
    need_x, need_w, need_b = self.need
    parts = _bn_blocks(x, C) if training and need_x else None
    if parts is not None:
        gx, gsum, dotp = _bn_train_grads(x, np.ascontiguousarray(g), mean, invstd, w, parts)
        return (gx.astype(dt, copy=False), None if not need_w else (dotp * invstd).astype(w.dtype),
                None if not need_b else gsum.astype(b.dtype))
    gsum = dotp = d = None
    if need_b or (need_x and training):
        gsum = _channel_sums(g, None, C)
    if need_w or (need_x and training):
        d, ex = _channels(x, C)
        d = np.subtract(d, ex(mean))
        dotp = _channel_sums(d.reshape(x.shape), g, C)
    gx = gw = gb = None
    if need_x:
        scale = invstd if w is None else invstd * w.astype(x.dtype, copy=False)
        if d is None:
            g2, ex = _channels(g, C)
        else:   # g in d's rows (_channels picks them by x's layout)
            g2 = g.reshape(d.shape)
        if training:    # (g - mean(g) - (x - mean) * dotp * invstd^2 / m) * invstd * w, in d's buffer
            k = dotp.astype(x.dtype) * invstd * invstd / x.dtype.type(m)
            np.multiply(d, ex(k), out=d)
            np.subtract(g2, d, out=d)
            np.subtract(d, ex((gsum / m).astype(x.dtype)), out=d)
            gx = np.multiply(d, ex(scale), out=d)
        else:   # (g * invstd) * w, as PyTorch rounds it
            gx = np.multiply(g2, ex(invstd))
            if w is not None:
                np.multiply(gx, ex(w.astype(x.dtype, copy=False)), out=gx)
        gx = gx.reshape(x.shape).astype(dt, copy=False)
    if dt != x.dtype:     # a float16/bf16 input: float32 sums, product and rounding (see _half_param)
        return gx, need_w and _half_param(dotp, invstd, w.dtype), need_b and _half_param(gsum, None, b.dtype)
    if need_w:
        gw = (dotp * invstd).astype(w.dtype)
    if need_b:
        gb = gsum.astype(b.dtype)
    return gx, gw, gb


def _half_param(total, invstd, dt):
    """A weight (dotp * invstd) or bias (sum) gradient of a float16/bf16 batch_norm as PyTorch's kernel forms it: the
    float32 sum times the float32 invstd, rounded once to the parameter's dtype (a bf16 one as well: instance_norm's
    repeated parameters add these per-sample values; left float32, 1-5 of 6 bf16 gradients were a step off)."""
    v = total.astype(np.float32)
    return _bf16.cast(v if invstd is None else v * invstd.astype(np.float32), dt)


def _planes_kernel(x, g):
    """Whether PyTorch's contiguous batch_norm backward kernel (plane by plane) takes x and its gradient g: both
    C-contiguous float32/float64 (N, C, *) arrays with more than one value a plane."""
    return x.ndim >= 3 and x.flags.c_contiguous and g.flags.c_contiguous and x.dtype.type in (np.float32, np.float64) \
        and g.dtype == x.dtype and x.size > x.shape[0] * x.shape[1]


def _bn_exact_grads(x, g, mean, invstd, w, b, training, need):
    """batch_norm's gradients as PyTorch's contiguous kernel computes them (exact kernels): the sums of g and of
    (x - mean) * g plane by plane in its order (_bn_planes), the input gradient ((g - sum / m) - (x - mean) * k) *
    invstd * w with k = dotp * invstd^2 / m, each step rounded in x's dtype."""
    N, C = x.shape[:2]
    dt = x.dtype.type
    m = x.size // C
    x3, g3 = x.reshape(N, C, -1), g.reshape(N, C, -1)

    def ex(v):
        return v.reshape(1, C, 1)
    gsum = _bn_planes.channel_totals(g3, C) if need[2] or (need[0] and training) else None
    xm = x3 - ex(mean) if need[1] or (need[0] and training) else None
    dotp = _bn_planes.channel_totals(xm, C, g3) if xm is not None else None
    gx = gw = gb = None
    if need[0]:
        if training:
            k = dotp.astype(dt) * invstd * invstd / dt(m)
            gx = _bn_exact_dx(g3, (gsum / m).astype(dt), xm, k, ex)
            gx *= ex(invstd)
        else:
            gx = g3 * ex(invstd)
        if w is not None:
            gx *= ex(w.astype(dt, copy=False))
        gx = gx.reshape(x.shape)
    if need[1]:
        gw = (dotp * invstd).astype(w.dtype)
    if need[2]:
        gb = gsum.astype(b.dtype)
    return gx, gw, gb


def _bn_exact_dx(g3, grad_mean, xm, k, ex):
    """(g - grad_mean) - (x - mean) * k per element, the product fused with the difference."""
    return _bn_planes.fma(-xm, ex(k), g3 - ex(grad_mean))


def _bn_ref(ctx, x, w, b):
    _, invstd, _, axes, training, _ = ctx
    shape = _bshape(x.dim(), x.shape[1])
    if training:
        mean = ops.mean(x, axes, keepdim=True)
        xc = x - mean
        var = ops.mean(xc * xc, axes, keepdim=True)
        xhat = xc * ops.rsqrt(var + float(ctx[5]))
    else:
        xhat = (x - Tensor._make(ctx[5].reshape(shape))) * Tensor._make(invstd.reshape(shape))
    if w is not None:
        xhat = xhat * w.reshape(shape)
    if b is not None:
        xhat = xhat + b.reshape(shape)
    return xhat


NativeBatchNormBackward0 = fused('NativeBatchNormBackward0', _bn_backward, _bn_ref)
NativeBatchNormBackward0._unchecked = (2,)   # (the bias, kept for its dtype: PyTorch saves no bias)


def _affine(xhat, w, b, shape, spare=None):
    """xhat * w + b as a new array; written into ``spare`` (a free buffer of xhat's shape and dtype) when w
    and b have xhat's dtype, which gives the same values without two more allocations."""
    same = spare is not None and all(t is None or t.dtype == xhat.dtype for t in (w, b))
    if same and (w is not None or b is not None):
        y = xhat if w is None else np.multiply(xhat, w.reshape(shape), out=spare)
        return y if b is None else np.add(y, b.reshape(shape), out=spare)
    y = xhat if w is None else xhat * w.reshape(shape)
    if b is not None:
        if y is not xhat and y.dtype == np.result_type(y, b):
            y += b.reshape(shape)     # the same sums in y's own fresh array, not a second one
        else:
            y = y + b.reshape(shape)
    return y if y is not xhat else xhat.copy()


def _channel_affine(xhat, w, b):
    """xhat * w + b per channel of xhat (N, C, *) as a new array (a copy without w and b), the same values as
    _affine's: a float32/float64 xhat with w and b of its dtype goes as _channels's (N, C*HW) rows against the
    vectors repeated to a row's length, where NumPy's (1, C, 1, 1) broadcast runs an inner loop per plane. Group
    norm's forward, one thread, SkylakeX, min of 21 (us): (8, 128, 32, 32) 875 -> 680, (8, 96, 32, 32) 462 -> 348,
    (8, 32, 32, 32) 219 -> 175, (8, 64, 16, 16) 109 -> 93, (2, 256, 64, 64) 1826 -> 1637."""
    C = xhat.shape[1]
    if xhat.dtype.type not in (np.float32, np.float64) or xhat.ndim < 3 or \
            any(t is not None and t.dtype != xhat.dtype for t in (w, b)):
        return _affine(xhat, w, b, _bshape(xhat.ndim, C))
    x2, ex = _channels(xhat, C)
    y = x2.copy() if w is None else np.multiply(x2, ex(w))
    if b is not None:
        y += ex(b)
    return y.reshape(xhat.shape)


_UNBATCHED_STATS = ('Batch norm got a batched tensor as input while the running_mean or running_var, which will be '
                    'updated in place, were not batched.\nIf you are using a module and do not need eval mode, please '
                    'set `track_running_stats` to be False.If you are using a prebuilt module and do not need eval '
                    'mode, please see the functorch website for resources on how to patch your module to work with '
                    'vmap')   # PyTorch's vmap refusal of running statistics one entry of the batch would update


def _same_param_dtypes(op, x, params):
    """PyTorch's CPU norm kernels' dtype check: a float32/float64 input's parameters and running statistics must
    have its dtype (a half or bfloat16 input may mix with float32 ones, checked by the kernels themselves)."""
    if x.dtype not in (np.float32, np.float64):
        return
    for name, t in params:
        if t is not None and t._data.dtype != x.dtype:
            first = 'all inputs must share same datatype.' if x.dtype == np.float64 else \
                'expect parameter to have scalar type of Float'
            raise RuntimeError(f'mixed dtype (CPU): {first}\n({op}: input is {_dtype.from_np(x.dtype)}, {name} is '
                               f'{t.dtype}; convert one of them with .to(dtype))')


@_quiet.quietly
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) by batch statistics (training, updating the running stats in place) or by
    the running statistics (eval)."""
    x = input._data
    if x.ndim < 2:
        raise ValueError(f'expected 2D or 3D input (got {x.ndim}D input)')
    need_float(input, 'batch_norm')
    C = x.shape[1]
    stats = (('running_mean', running_mean), ('running_var', running_var), ('weight', weight), ('bias', bias))
    _same_param_dtypes('batch_norm', x, stats)
    for name, t in stats:
        if t is not None and t._data.size != C:
            raise RuntimeError(f'{name} should contain {C} elements not {t._data.size}\n(batch_norm: input of shape '
                               f'{list(x.shape)} has {C} channels in dim 1; build the layer with num_features={C})')
    axes = (0,) + tuple(range(2, x.ndim))
    n = x.size // C if C else 0
    xo = _opmath(x)
    w = None if weight is None else weight._data
    b = None if bias is None else bias._data
    if training:
        if (running_mean is None) != (running_var is None):
            raise ValueError('running_mean and running_var must either both be None or neither be None')
        if running_mean is not None and _func.BATCHED and not (_func.is_batched(running_mean) and
                                                               _func.is_batched(running_var)):
            raise RuntimeError(_UNBATCHED_STATS)
        if n <= 1:
            raise ValueError(f'Expected more than 1 value per channel when training, got input size {input.shape}')
        if xo is not x and all(t is None or t._data.dtype == x.dtype for _, t in stats):
            mean, var_sum, invstd, y = _bn_train_low(xo, C, n, w, b, eps, x.dtype)
        else:
            mean, var_sum, invstd, y = _bn_train(xo, C, n, w, b, eps, _rows_view(x))
        _update_running(running_mean, running_var, mean, var_sum, n, momentum)
        ref_extra = eps
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError('running_mean and running_var must be defined in evaluation mode')
        mean = running_mean._data.astype(xo.dtype, copy=False)
        invstd = (1.0 / np.sqrt(running_var._data.astype(xo.dtype, copy=False) + eps)).astype(xo.dtype, copy=False)
        ref_extra = mean
        rows = _rows_view(x)
        y = _bn_apply(xo, C, mean, invstd, w, b, None) if rows is None else \
            _from_rows(_bn_rows.affine(rows, mean, invstd, w, b), x.shape)
        # the backward's: PyTorch's backward kernels take 1 / sqrt(running_var + eps) in double, its forward in x's type
        invstd = (1.0 / np.sqrt(running_var._data.astype(np.float64) + eps)).astype(xo.dtype)
    y = y.astype(x.dtype, copy=False)
    if _layout.suggests_channels_last(x):   # PyTorch keeps a channels-last input's layout
        y = _layout.in_format('batch_norm', y, _layout.channels_last if x.ndim == 4 else _layout.channels_last_3d)
    elif not y.flags.c_contiguous:            # and makes any other layout contiguous
        y = np.ascontiguousarray(y)
    out = record(NativeBatchNormBackward0, (input, weight, bias), y, ctx=(mean, invstd, w, axes, training, ref_extra))
    if out.grad_fn is not None:
        out.grad_fn.guard(running_mean, running_var)   # (PyTorch's node saves them; a user's change raises)
    return out


def _rows_view(x):
    """x (N, C, *) as the (rows, C) array of PyTorch's rows kernel (see _bn_rows) where that kernel takes it: one
    value per channel and sample, or (exact kernels only) a channels-last float32/float64 input, whose kernels add
    its N * HW rows of channels the same way; None otherwise."""
    if _bn_rows.takes(x):
        return x.reshape(x.shape[0], x.shape[1])
    if not _exact.enabled() or x.dtype.type not in (np.float32, np.float64) or not _layout.suggests_channels_last(x):
        return None
    return x.transpose(0, *range(2, x.ndim), 1).reshape(-1, x.shape[1])


def _from_rows(y2, shape):
    """A result computed on _rows_view's rows, back in the (N, C, *) shape (channels-last strides for such rows)."""
    if y2.shape[0] == shape[0]:
        return y2.reshape(shape)
    nd = len(shape)
    return y2.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)).transpose(0, nd - 1, *range(1, nd - 1))


def _bn_train(x, C, n, w, b, eps, rows=None):
    """Batch statistics and output of a training batch_norm of x (float32/64): (mean, sum of squared deviations,
    invstd, y), by channel blocks where _bn_blocks gives them (y's block each block's scratch buffer); by
    PyTorch's rows kernel (see _bn_rows) on ``rows``, x's _rows_view, where given."""
    if rows is not None:
        mean, var_sum = _bn_rows.stats(rows)
        invstd = _invstd(var_sum, n, eps)
        return mean, var_sum, invstd, _from_rows(_bn_rows.affine(rows, mean, invstd, w, b), x.shape)
    if _exact.enabled() and x.dtype.type is np.float64 and x.ndim >= 3 and x.flags.c_contiguous:
        mean, var_sum = _bn_planes.serial_stats(x)
        invstd = _invstd(var_sum, n, eps)
        return mean, var_sum, invstd, _bn_apply(x, C, mean, invstd, w, b, None)
    parts = _bn_blocks(x, C)
    if parts is None:
        mean, var_sum, spare = _batch_stats(x, C, n)
        invstd = _invstd(var_sum, n, eps)
        return mean, var_sum, invstd, _bn_apply(x, C, mean, invstd, w, b, spare)
    y = np.empty(x.shape, x.dtype)
    N = x.shape[0]
    hw = x.size // (N * C)
    y2 = y.reshape(N, C * hw)

    def block(lo, hi):
        xb, out = x[:, lo:hi], y2[:, lo * hw:hi * hw]
        mean, var_sum, _ = _batch_stats(xb, hi - lo, n, out)
        invstd = _invstd(var_sum, n, eps)
        _bn_apply(xb, hi - lo, mean, invstd, _part(w, lo, hi), _part(b, lo, hi), out)
        return mean, var_sum, invstd
    mean, var_sum, invstd = _joined(block, parts)
    return mean, var_sum, invstd, y


def _bn_train_low(x, C, n, w, b, eps, dt):
    """_bn_train for a float16/bf16 input whose parameters share its dtype (float32 ``x``): PyTorch keeps the
    statistics in that dtype, so the mean and invstd are rounded before the affine pass, and for bf16 also the sum
    of squared deviations and the variance (that sum over n, both rounded, as its scalar type divides).
    (8, 3, 5) bf16: 68 of 600 invstd values a step off with one rounding, 0 this way."""
    q = dual.rounder(dt)
    mean, var_sum, spare = _batch_stats(x, C, n)
    if dt == np.float16:    # (measured: float16 keeps the float32 variance, 0 of 600 invstd values off)
        var = var_sum / np.float32(n)
    else:
        var_sum = q(var_sum)
        var = q(var_sum / q(np.float32(n)))
    invstd = q((1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(np.float32))
    mean = q(mean)
    return mean, var_sum, invstd, _bn_apply(x, C, mean, invstd, w, b, spare)


def _invstd(var_sum, n, eps):
    """1 / sqrt(biased variance + eps) from the sum of squared deviations, in its dtype (the root in float64)."""
    var = var_sum / var_sum.dtype.type(n)
    return (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(var_sum.dtype, copy=False)


def _bn_apply(x, C, mean, invstd, w, b, out):
    """x * alpha + beta per channel, alpha = invstd * w and beta = b - mean * alpha, as PyTorch's CPU kernel
    (its beta a fused multiply-add, here in float64), into ``out`` (a free buffer shaped as _channels gives x)
    when given. PyTorch's own formula: no (x - mean) pass, and its values where ember's (x - mean) * invstd *
    w + b differed in 40% of the elements."""
    dt = x.dtype
    alpha = invstd if w is None else invstd * w.astype(dt, copy=False)
    beta = np.multiply(mean, alpha, dtype=np.float64)    # b - mean * alpha is -(mean * alpha) + b to the bit
    if b is None:
        np.negative(beta, out=beta)
    else:
        np.subtract(b, beta, out=beta)
    x2, ex = _channels(x, C, out)
    if dt.type is np.float64 and _exact.enabled():   # both multiply-adds fused in double too
        beta = _bn_planes.fma(-mean, alpha, np.zeros_like(alpha) if b is None else b.astype(dt, copy=False))
        y = _bn_planes.fma(x2, ex(alpha), ex(beta))
        return (y if out is None else np.copyto(out, y) or out).reshape(x.shape)
    if dt.type is np.float32 and _exact.enabled():
        return _fused_affine(x2, ex(alpha), ex(beta.astype(dt)), out).reshape(x.shape)
    y = np.multiply(x2, ex(alpha), out=out)
    np.add(y, ex(beta.astype(dt)), out=y)
    return y.reshape(x.shape)


_FUSED_BLOCK = 1 << 17


def _fused_affine(x2, alpha, beta, out):
    """float32 rows x2 * alpha + beta rounded once, as PyTorch's vectorised kernel's fused multiply-add (exact
    kernels only): the product exact in float64, the sum rounded there and then to float32 (which can differ from
    one rounding only within 2^-29 ulp of a float32 midpoint), by blocks of rows of at most _FUSED_BLOCK values
    so that the float64 scratch stays in cache. Two float32 roundings differed from PyTorch in a third of the
    values ((32, 8, 28, 28) training forward); cost: the whole training batch_norm forward 1.3-1.7x
    ((32, 8, 28, 28) 255 -> 404 us, (64, 64, 16, 16) 1634 -> 2451 us, (128, 64, 32, 32) 30 -> 33 ms, min of 30)."""
    a64, b64 = alpha.astype(np.float64), beta.astype(np.float64)
    if x2.ndim != 2:    # (one sample, or one value a channel: _channels's (N, C, HW) with (1, C, 1) vectors)
        y = np.add(np.multiply(x2, a64), b64).astype(np.float32)
        return y if out is None else np.copyto(out, y) or out
    y = np.empty(x2.shape, np.float32) if out is None else out
    R, L = x2.shape
    k = max(1, _FUSED_BLOCK // L)
    t = np.empty((min(k, R), L), np.float64)
    for r in range(0, R, k):
        tt = t[:min(k, R - r)]
        np.multiply(x2[r:r + k], a64, out=tt)
        tt += b64
        np.copyto(y[r:r + k], tt, casting='same_kind')
    return y


def _batch_stats(x, C, n, out=None):
    """Per-channel mean, the sum of squared deviations (both in x's dtype) and a free buffer shaped as _channels
    gives x (``out`` when given), as PyTorch's CPU kernel computes them for float32/64: the mean summed in
    float64 (a 2-D input in its own dtype, row after row, as PyTorch's channels-last kernel on one thread), the
    squares of the deviations rounded to x's dtype and summed in float64."""
    if x.ndim == 2:   # NumPy reduces axis 0 of a C-ordered array row after row, in x's dtype
        total = np.add.reduce(np.ascontiguousarray(x), axis=0)
    else:
        total = _totals64(x, C)
    mean = np.divide(total, n, dtype=np.float64).astype(x.dtype)
    x2, ex = _channels(x, C, out)
    dev = np.subtract(x2, ex(mean), out=out)
    if x.ndim == 2:
        np.multiply(dev, dev, out=dev)
        var_sum = dev.reshape(x.shape).sum(axis=0, dtype=np.float64)
    else:
        var_sum = _totals64(dev.reshape(x.shape), C, square=True)
    return mean, var_sum.astype(x.dtype), dev


def _update_running(running_mean, running_var, mean, var_sum, n, momentum):
    """running = momentum * batch stat + (1 - momentum) * running (unbiased variance), in the running
    stats' dtype as PyTorch's CPU kernel: the variance's update as one fused multiply-add (emulated in
    float64, exact for float32) of momentum * unbiased + the rounded (1 - momentum) * running. Their versions stay,
    as PyTorch's kernel writes them without counting a change (a module run twice before backward is allowed)."""
    if running_mean is not None:    # on the arrays themselves: no graph to keep out of
        rm = running_mean._data
        m = rm.dtype.type(momentum)
        rm *= rm.dtype.type(1) - m      # (1 - momentum in the stats' dtype, as PyTorch's kernel: 1/3 and 0.9 differ)
        rm += (m * mean).astype(rm.dtype, copy=False)
    if running_var is not None:
        rv = running_var._data
        dt = rv.dtype.type
        unbiased = (var_sum / var_sum.dtype.type(n - 1)).astype(rv.dtype, copy=False)
        fma = np.multiply(unbiased, np.float64(dt(momentum)), dtype=np.float64)
        fma += rv * (dt(1) - dt(momentum))
        rv[...] = fma.astype(rv.dtype, copy=False)


# -- layer norm, rms norm ----------------------------------------------------------------------------------------
def _check_normalized(x, normalized_shape, op='layer_norm', star='*, '):
    """The normalized dims' shape and axes, or PyTorch's error (rms_norm's spells the shape [*1, 3]: ``star``); an int
    is refused as PyTorch's binding does (the modules turn theirs into tuples)."""
    if isinstance(normalized_shape, int):
        raise TypeError(f"{op}(): argument 'normalized_shape' (position 2) must be tuple of ints, not int")
    ns = tuple(normalized_shape)
    k = len(ns)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != ns:
        raise RuntimeError(f'Given normalized_shape={list(ns)}, expected input with shape [{star}'
                           f'{", ".join(map(str, ns))}], but got input of size{list(x.shape)}')
    return ns, tuple(range(x.ndim - k, x.ndim))


def _ln_rows(x2, eps, out=None):
    """(xhat, invstd) of each row of the 2-D float32/float64 x2, its row sums by _row_sums: NumPy's reductions
    along short rows are slow (mean of (768, 128) float32 rows: 25 us, x2 @ ones 4.5 us). Layer norm's rows, and
    group norm's (a sample's group a row). xhat is written into ``out`` when given."""
    n = x2.shape[1]
    mean = _row_sums(x2)
    mean /= n
    xc = np.subtract(x2, mean[:, None], out=out)
    var = _row_dots(xc, xc)
    var /= n
    var += eps
    invstd = np.sqrt(var, out=var)[:, None]
    np.divide(1.0, invstd, out=invstd)
    xc *= invstd
    return xc, invstd


def _ln_grad_rows(gxhat, xh, invstd, out=None):
    """d/dx of layer norm on rows given d/dxhat: _norm_grad_x with row sums as in _ln_rows (into ``out`` when
    given)."""
    n = xh.shape[1]
    s1 = _row_sums(gxhat)
    s1 /= n
    s2 = _row_dots(gxhat, xh)
    s2 /= n
    gx = np.multiply(xh, s2[:, None], out=out)
    np.subtract(gxhat, gx, out=gx)
    gx -= s1[:, None]
    gx *= invstd
    return gx


def _row_dots(a, b):
    """einsum('ij,ij->i', a, b) (its values) by the C function itself: np.einsum's Python wrapper and dispatcher
    cost ~1.5 us a call, three calls a layer norm's forward and backward."""
    return _c_einsum('ij,ij->i', a, b)


def _as_rows(x, k):
    """x as (rows, product of its last k dims) when the row fast path applies (float32/64, not empty)."""
    if x.dtype.type not in (np.float32, np.float64) or not x.size:
        return None
    return x.reshape((-1, math.prod(x.shape[x.ndim - k:])))


def _row_op(f, rows, v, out=None):
    """``f(rows, v)`` for the C-contiguous 2-D ``rows`` and a vector ``v`` of a row's length and rows' dtype (into
    ``out``, of rows' shape, when given): on rows of k of ``rows``'s rows against v repeated k times (see
    _row_samples), the same values. NumPy runs the broadcast an inner loop per row: GPT's (768, 128) float32 times
    its weight 19.8 -> 16.9 us (the repeat 1.7 of it), thread time, median of 300 alternating; 256 rows even."""
    R, n = rows.shape
    k = _row_samples(R, n) if R >= _ROW_OP_MIN and n < _MIN_ROW and rows.flags.c_contiguous else 1
    if k == 1:
        return f(rows, v, out=out)
    wide = np.empty((k, n), v.dtype)
    wide[...] = v
    r = f(rows.reshape(R // k, k * n), wide.reshape(-1), out=None if out is None else out.reshape(R // k, k * n))
    return r.reshape(R, n)


# rows from which _row_op repeats the vector (its cost ~1.7 us, the per-row loop's ~4-8 ns a row)
_ROW_OP_MIN = 512


def _rows_affine(xh, w, b):
    """xh * w + b (a copy without either) as a new array, for the rows (R, n) of layer norm with w and b vectors
    of xh's dtype or None: _affine's values, by _row_op."""
    if w is None:
        y = xh.copy()
    else:
        y = _row_op(np.multiply, xh, w)
    if b is not None:
        _row_op(np.add, y, b, out=y)
    return y


# bytes of rows from which layer norm goes by fixed blocks of rows (_ln_blocks), and the bytes of rows a block covers
# (a multiple of 16 rows). Past the last-level cache each whole-array pass streamed from memory; a block's passes stay
# in L2, and the blocks are shared out on the pool's threads. LayerNorm module, float32, min of 5 interleaved, chrt,
# forward / forward and backward (ms): (64, 197, 768) (ViT-B at batch 64) SkylakeX one thread 19.8 -> 14.7 / 40.1
# -> 31.5, two threads (load 9: the pool's thread rarely ran) 19.3 -> 14.0 / 39.3 -> 28.9, Haswell 19.4 -> 14.6 /
# 40.1 -> 31.5; (8, 1024, 1024) 15.9 -> 12.4 / 34.1 -> 26.5. Whole-array passes over 8 MiB (4096, 512) rows were
# faster (1.68 against 1.86 blocked), so blocks from 16 MiB.
_LN_BLOCKED_FROM, _LN_BLOCK = 16 << 20, 256 << 10


def _ln_blocks(x2):
    """Rows per block for layer norm's blocked passes over the 2-D x2, or None below _LN_BLOCKED_FROM. The blocks
    depend on the shape alone (not the thread count), so each block's sums, and the values, are the same at any
    thread count."""
    if x2.nbytes < _LN_BLOCKED_FROM:
        return None
    return max(16, _LN_BLOCK // (x2.shape[1] * x2.itemsize) // 16 * 16)


# Below _LN_BLOCKED_FROM, at two or more threads, layer norm's rows go as one block per thread from _LN_SPLIT_FROM
# bytes of rows (its forward writes three arrays of them and reads two, so ~4x that moves): each row's statistics,
# xhat, y and input gradient are the whole array's (row sums by gemv split at multiples of _LN_SPLIT_ALIGN rows,
# per-row einsum), and the weight's and bias's gradients are summed whole beside the blocks, so the values do not
# depend on the thread count. Smaller rows lose split: their passes are a few microseconds each, and the two threads
# hand the GIL to and fro between them. Forward and backward at 2 threads, float32 with weight and bias, split against
# whole, min of 20-60 interleaved at real-time priority (us): GPT's (768, 128) 398 against 302 (p25 480 against 310;
# one thread 301), (1024, 256) 552 against 680, (2048, 256) 996 against 1369, (2048, 512) 2337 against 3587 (in
# runs where the second core was busier, up to 1152 KiB lost too). GPT step at 2 threads, 80 interleaved steps each
# (ms, min/p25/median): split from 256 KiB 42.56/54.42/55.95, from 1 MiB (its 9 layer norms whole) 41.89/50.45/51.95.
_LN_SPLIT_FROM, _LN_SPLIT_ALIGN = 1 << 20, 16


def _ln_split(x2):
    """Rows per block for layer norm's rows split across the pool's threads (see _LN_SPLIT_FROM), or None: one
    thread, rows under _LN_SPLIT_FROM bytes, or too few rows for blocks of at least _LN_SPLIT_ALIGN rows (a block of
    one row went to NumPy's dot, whose sum differed from the matrix-vector product's in the last bit)."""
    if x2.nbytes < _LN_SPLIT_FROM:     # before the thread count, which costs ~0.8 us
        return None
    t = _parallel.threads()
    if t < 2:
        return None
    n = x2.shape[0]
    rows = -(-n // t)
    rows = -(-rows // _LN_SPLIT_ALIGN) * _LN_SPLIT_ALIGN
    return rows if n % rows == 0 and rows < n or n % rows >= _LN_SPLIT_ALIGN else None


def _ln_grad_split(g2, xh, invstd, w, need, rows):
    """Layer norm's (gx, gw, gb) with gx by blocks of ``rows`` rows on the pool's threads and gw, gb summed whole
    beside them (_ln_split): the values of the unsplit _ln_backward_arrays."""
    n = g2.shape[0]
    gx = np.empty_like(g2)
    sums = [None, None]

    def task(lo, hi):
        if lo is None:
            if need[1]:
                sums[0] = np.einsum('ij,ij->j', g2, xh)
            if need[2]:
                sums[1] = col_sums(g2)
            return
        gb = g2[lo:hi]
        _ln_grad_rows(gb if w is None else gb * w, xh[lo:hi], invstd[lo:hi], out=gx[lo:hi])
    _parallel.each(task, [(lo, min(n, lo + rows)) for lo in range(0, n, rows)] + [(None, None)])
    return gx, sums[0], sums[1]


def _over_blocks(fn, n, rows):
    """fn(lo, hi, k) for each block k of ``rows`` rows of range(n), runs of whole blocks on the pool's threads."""
    count = -(-n // rows)

    def run(b0, b1):
        for k in range(b0, b1):
            fn(k * rows, min(n, (k + 1) * rows), k)
    _parallel.each(run, _parallel.spans(count, _parallel.threads()))


def _ln_large(x2, eps, w, b, rows):
    """(y, xhat, invstd) of layer norm over the rows of x2 with weight and bias vectors w, b (None or x2's dtype),
    block by block (_ln_blocks): the same row statistics as _ln_rows and the same affine."""
    n = x2.shape[0]
    xhat, y, invstd = np.empty_like(x2), np.empty_like(x2), np.empty((n, 1), x2.dtype)

    def block(lo, hi, _):
        invstd[lo:hi] = _ln_rows(x2[lo:hi], eps, out=xhat[lo:hi])[1]
        yb = y[lo:hi]
        if w is None:
            yb[...] = xhat[lo:hi]
        else:
            np.multiply(xhat[lo:hi], w, out=yb)
        if b is not None:
            yb += b
    _over_blocks(block, n, rows)
    return y, xhat, invstd


def _ln_grad_large(g2, xh, invstd, w, need, rows):
    """Layer norm's (gx, gw, gb) over the rows of g2, xh block by block (_ln_blocks): gx by _ln_grad_rows per block,
    the parameters' gradients as per-block column sums added in block order."""
    n = g2.shape[0]
    count = -(-n // rows)
    gx = np.empty_like(g2) if need[0] else None
    pw = np.empty((count, g2.shape[1]), g2.dtype) if need[1] else None
    pb = np.empty((count, g2.shape[1]), g2.dtype) if need[2] else None

    def block(lo, hi, k):
        gb = g2[lo:hi]
        if need[0]:
            _ln_grad_rows(gb if w is None else gb * w, xh[lo:hi], invstd[lo:hi], out=gx[lo:hi])
        if need[1]:
            np.einsum('ij,ij->j', gb, xh[lo:hi], out=pw[k])
        if need[2]:
            pb[k] = col_sums(gb)
    _over_blocks(block, n, rows)
    return gx, None if pw is None else np.add.reduce(pw, 0), None if pb is None else np.add.reduce(pb, 0)


def _ln_backward(self, g):
    xhat, invstd, w, axes, _, half = self.ctx
    if type(half) is _ln_exact.Saved:
        return _ln_exact_grads(self, g, xhat, invstd, w, axes, half)
    if half is not None:    # float16/bfloat16 (see layer_norm)
        return _ln_half_backward(_bf16.to_f32(g), xhat, invstd, w, axes, half, self.need)
    if len(axes) == 1 and type(g) is np.ndarray and g.dtype == xhat.dtype and xhat.nbytes < _LN_SPLIT_FROM and \
            (w is None or w.dtype == g.dtype):
        return _ln_small_grads(g, xhat, invstd, w, self.need)
    return _ln_backward_arrays(self, g, xhat, invstd, w, axes)


def _ln_exact_grads(self, g, xhat, invstd, w, axes, saved):
    """Layer norm's gradients after the float32 exact forward, as PyTorch's kernel computes them (_ln_exact)."""
    rows = saved.x
    g2 = np.ascontiguousarray(np.broadcast_to(g, xhat.shape), rows.dtype).reshape(rows.shape)
    need = self.need
    gx = gw = gb = None
    if need[0]:
        gx = _ln_exact.input_grad(g2, saved, invstd.reshape(-1), None if w is None else w.reshape(-1))
        gx = gx.reshape(xhat.shape)
    if need[1]:
        gw = _ln_exact.weight_grad(g2, saved, invstd.reshape(-1)).reshape(w.shape)
    if need[2]:
        gb = _ln_exact.bias_grad(g2).reshape(xhat.shape[xhat.ndim - len(axes):])
    return gx, gw, gb


def _ln_small_grads(g, xhat, invstd, w, need):
    """_ln_backward_arrays's rows route (its calls, so its values) for last-dim rows under _LN_SPLIT_FROM bytes
    with g and w of xhat's dtype, without its dispatch (see _ln_small)."""
    n = xhat.shape[-1]
    rows = xhat.reshape(-1, n)
    g2 = g.reshape(rows.shape)
    gx = gw = gb = None
    if need[0]:
        gxhat = g2 if w is None else _row_op(np.multiply, g2, w.reshape(-1))
        gx = _ln_grad_rows(gxhat, rows, invstd.reshape(-1, 1)).reshape(xhat.shape)
    if need[1]:
        gw = _c_einsum('ij,ij->j', g2, rows).reshape(w.shape)
    if need[2]:
        gb = col_sums(g2).reshape(n)
    return gx, gw, gb


def _ln_half_backward(g, x, invstd, w, axes, half, need):
    """Layer norm's gradients of a float16/bfloat16 input, as PyTorch's CPU kernel computes them: per row in
    float32 (``x`` the input in float32, rows of the normalized size), the input's ``rstd * dy * w + b * x + c``
    with the row's coefficients; the weight's and bias's sums of ``dy * (rstd * x - rstd * mean)`` and ``dy``
    accumulated row after row in a buffer of the input's dtype (each row's sum rounded to it), one buffer per
    thread of PyTorch's ``parallel_for`` over the rows (``get_num_threads`` of them, contiguous runs of rows),
    the buffers then added in float32 and rounded to the parameter's dtype."""
    dt, wdt, bdt, mean = half
    shape = x.shape
    n = mean.size
    x, g, a = x.reshape(n, -1), g.reshape(n, -1), invstd.reshape(n, 1)
    mean = mean.reshape(n, 1)
    gx = gw = gb = None
    if need[0]:
        gg = g if w is None else g * w.reshape(-1)
        ds, db = np.einsum('ij,ij->i', gg, x)[:, None], gg.sum(1, keepdims=True)
        scale = np.float32(1 / x.shape[1])
        b = (db * mean - ds) * a * a * a * scale
        c = -b * mean - db * a * scale
        gx = _bf16.cast(((a * g if w is None else a * g * w.reshape(-1)) + b * x + c).reshape(shape), dt)
    if need[1] or need[2]:
        sums = _ln_buffered_sums(g * (a * x + (-a * mean)) if need[1] else None, g if need[2] else None, dt)
        ns = shape[len(shape) - len(axes):]
        gw = None if sums[0] is None else _bf16.cast(sums[0].reshape(ns), wdt)
        gb = None if sums[1] is None else _bf16.cast(sums[1].reshape(ns), bdt)
    return gx, gw, gb


def _ln_buffered_sums(terms_w, terms_b, dt):
    """(column sums of terms_w, of terms_b) as _ln_half_backward accumulates them (None for a None term)."""
    from ... import get_num_threads
    out = []
    for terms in (terms_w, terms_b):
        if terms is None:
            out.append(None)
            continue
        m = terms.shape[0]
        threads = max(1, min(get_num_threads(), m))
        step = -(-m // threads)
        total = np.zeros(terms.shape[1], np.float32)
        for lo in range(0, m, step):
            buf = np.zeros(terms.shape[1], np.float32)
            for row in terms[lo:lo + step]:
                buf = _round_to(buf + row, dt)
            total += buf
        out.append(total)
    return out


def _round_to(a, dt):
    """Float32 ``a`` rounded to the values of dtype ``dt`` (float16 or bfloat16), still float32."""
    return _bf16.round_f32(a) if dt is _bf16.NP else a.astype(dt).astype(np.float32)


def _ln_backward_arrays(self, g, xhat, invstd, w, axes):
    """_ln_backward's (gx, gw, gb) in the saved arrays' dtype."""
    lead = tuple(range(xhat.ndim - len(axes)))
    g = np.asarray(g)
    rows = _as_rows(xhat, len(axes)) if g.dtype == xhat.dtype else None
    blocks = None if rows is None or (w is not None and w.dtype != rows.dtype) else _ln_blocks(rows)
    if blocks is not None:
        gx, gw, gb = _ln_grad_large(np.ascontiguousarray(g).reshape(rows.shape), rows, invstd.reshape(-1, 1),
                                    None if w is None else w.reshape(-1), self.need, blocks)
        tail = xhat.shape[len(lead):]
        return (None if gx is None else gx.reshape(xhat.shape), None if gw is None else gw.reshape(w.shape),
                None if gb is None else gb.reshape(tail))
    split = None if rows is None or not self.need[0] or (w is not None and w.dtype != rows.dtype) else \
        _ln_split(rows)
    if split is not None:
        gx, gw, gb = _ln_grad_split(g.reshape(rows.shape), rows, invstd.reshape(-1, 1),
                                    None if w is None else w.reshape(-1), self.need, split)
        return (gx.reshape(xhat.shape), None if gw is None else gw.reshape(w.shape).astype(w.dtype, copy=False),
                None if gb is None else gb.reshape(xhat.shape[len(lead):]))
    if rows is not None:
        g2 = g.reshape(rows.shape)
        gx = gw = gb = None
        if self.need[0]:
            gxhat = g2 if w is None else _row_op(np.multiply, g2, w.reshape(-1)) \
                if w.dtype == g2.dtype else g2 * w.reshape(-1)
            gx = _ln_grad_rows(gxhat, rows, invstd.reshape(-1, 1)).reshape(xhat.shape)
        if self.need[1]:
            gw = _c_einsum('ij,ij->j', g2, rows).reshape(w.shape).astype(w.dtype, copy=False)
        if self.need[2]:
            gb = col_sums(g2).reshape(xhat.shape[len(lead):])
        return gx, gw, gb
    gxhat = g if w is None else g * w
    gx = _norm_grad_x(gxhat, xhat, invstd, axes).astype(xhat.dtype, copy=False) if self.need[0] else None
    gw = (g * xhat).sum(axis=lead).astype(w.dtype, copy=False) if self.need[1] else None
    gb = np.asarray(g).sum(axis=lead).astype(xhat.dtype, copy=False) if self.need[2] else None
    return gx, gw, gb


def _ln_ref(ctx, x, w, b):
    axes, eps = ctx[3], ctx[4]
    mean = ops.mean(x, axes, keepdim=True)
    xc = x - mean
    y = xc * ops.rsqrt(ops.mean(xc * xc, axes, keepdim=True) + eps)
    if w is not None:
        y = y * w
    return y if b is None else y + b


NativeLayerNormBackward0 = fused('NativeLayerNormBackward0', _ln_backward, _ln_ref, checks=(0, 1, 2))


@_quiet.quietly
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims, then scale and shift elementwise."""
    try:
        y = _ln_small(input, normalized_shape, weight, bias, eps)
        if y is not None:
            return y
        need_float(input, 'LayerNormKernelImpl')
        x = input._data
        _same_param_dtypes('layer_norm', x, (('weight', weight), ('bias', bias)))
        ns, axes = _check_normalized(x, normalized_shape)
        for name, t in (('weight', weight), ('bias', bias)):
            if t is not None and tuple(t._data.shape) != ns:
                raise RuntimeError(f'Expected {name} to be of same shape as normalized_shape, but got {name} of shape '
                                   f'{list(t._data.shape)} and normalized_shape = {list(ns)}')
        w = None if weight is None else weight._data
        b = None if bias is None else bias._data
        if x.dtype.itemsize == 2 or x.dtype is _bf16.NP:
            return _ln_half(input, weight, bias, ns, axes, eps)
        rows = _as_rows(x, len(ns))
        same = (w is None or w.dtype == x.dtype) and (b is None or b.dtype == x.dtype)    # parameters of x's dtype
        if rows is not None and same and x.dtype == np.float32 and _exact.ON[0]:
            y, xhat, invstd, saved = _ln_f32(rows, eps, None if w is None else w.reshape(-1),
                                             None if b is None else b.reshape(-1))
            return record(NativeLayerNormBackward0, (input, weight, bias), y.reshape(x.shape),
                          ctx=(xhat.reshape(x.shape), invstd.reshape(x.shape[:x.ndim - len(ns)] + (1,) * len(ns)), w,
                               axes, eps, saved))
        blocks = _ln_blocks(rows) or _ln_split(rows) if rows is not None and same else None
        if blocks is not None:
            y, xhat, invstd = _ln_large(rows, eps, None if w is None else w.reshape(-1),
                                        None if b is None else b.reshape(-1), blocks)
            y, xhat = y.reshape(x.shape), xhat.reshape(x.shape)
            invstd = invstd.reshape(x.shape[:x.ndim - len(ns)] + (1,) * len(ns))
            return record(NativeLayerNormBackward0, (input, weight, bias), y, ctx=(xhat, invstd, w, axes, eps, None))
        y = None
        if rows is not None:
            xhat, invstd = _ln_rows(rows, eps)
            if same:
                y = _rows_affine(xhat, None if w is None else w.reshape(-1),
                                 None if b is None else b.reshape(-1)).reshape(x.shape)
            xhat, invstd = xhat.reshape(x.shape), invstd.reshape(x.shape[:x.ndim - len(ns)] + (1,) * len(ns))
        else:
            mean = x.mean(axis=axes, keepdims=True)
            xc = x - mean
            invstd = (1.0 / np.sqrt((xc * xc).mean(axis=axes, keepdims=True) + eps)).astype(x.dtype, copy=False)
            xhat = xc * invstd
        if y is None:   # a copy without weight and bias: the output must not be the saved xhat
            y = _affine(xhat, w, b, ns)
        y = y.astype(x.dtype, copy=False)
        if not y.flags.c_contiguous:   # PyTorch's kernel writes a C-contiguous output (a transposed input's too)
            y = np.ascontiguousarray(y)
        return record(NativeLayerNormBackward0, (input, weight, bias), y, ctx=(xhat, invstd, w, axes, eps, None))
    except (AttributeError, TypeError):
        check_tensor_args('layer_norm', 'input', 'weight?', 'bias?')
        raise


def _ln_small(input, normalized_shape, weight, bias, eps):
    """layer_norm over the last dim of a C-contiguous float32/float64 input under _LN_SPLIT_FROM bytes, with weight
    and bias of its dtype or None: the rows route of layer_norm (the same calls, so the same values) with its checks
    and dispatch in one short function, or None for any other case. Inside a training step the interpreter's own
    code and data are cold, and each layer of calls costs there (a (2, 4) forward: 18 us hot, 145 after a 64 MiB
    cache flush). GPT's (768, 128) forward at one thread after a 64 MiB flush, 80 alternating calls, p25 (us): 380 ->
    363 (a second run 400 -> 383), hot even (121); the GPT step's 9 forwards, 60 alternating steps, p25 2.24 -> 2.19
    ms (load ~5, within its noise)."""
    x = input._data
    if x.dtype.type not in (np.float32, np.float64) or not x.dtype.isnative or not x.ndim or not x.size or \
            x.nbytes >= _LN_SPLIT_FROM or not x.flags.c_contiguous:     # (bfloat16: byte-swapped float32)
        return None
    n = x.shape[-1]
    ns = normalized_shape
    if not (isinstance(ns, (tuple, list)) and len(ns) == 1 and ns[0] == n):
        return None
    w = None if weight is None else weight._data
    b = None if bias is None else bias._data
    for t in (w, b):
        if t is not None and (t.dtype != x.dtype or t.shape != (n,)):
            return None
    y, xhat, invstd, saved = _ln_f32(x.reshape(-1, n), eps, w, b)
    y = y.reshape(x.shape)
    return record(NativeLayerNormBackward0, (input, weight, bias), y,
                  ctx=(xhat.reshape(x.shape), invstd.reshape(x.shape[:-1] + (1,)), w, (x.ndim - 1,), eps, saved))


def _ln_f32(rows, eps, w, b):
    """(y, xhat, invstd, saved) of layer norm over the 2-D ``rows`` with weight and bias vectors of their dtype or
    None: float32 as PyTorch's kernel, bit for bit, where ember._exact's kernels are on (_ln_exact; ``saved`` for
    its input gradient), otherwise (and float64) by _ln_rows and _rows_affine (``saved`` None)."""
    if rows.dtype == np.float32 and _exact.ON[0]:
        return _ln_exact.forward(rows, eps, w, b)
    xhat, invstd = _ln_rows(rows, eps)
    return _rows_affine(xhat, w, b), xhat, invstd, None


def _ln_half(input, weight, bias, ns, axes, eps):
    """layer_norm of a float16/bfloat16 input, as PyTorch's CPU kernel: in float32 (its opmath; the parameters may
    be float32 or the input's dtype), ``(x * rstd + (-rstd * mean)) * w + b`` rounded once to the input's dtype
    (on 1024 values of a bfloat16 (64, 16) input all equal to PyTorch's, against 77% computing in bfloat16). The
    node saves the float32 input and each row's mean and rstd for _ln_half_backward, rounded to the input's dtype
    unless a parameter is float32 (PyTorch's mixed-type kernel), as PyTorch saves them (all of the input's gradient
    equal to PyTorch's then, against 61% from float32 statistics)."""
    x = input._data
    dts = (x.dtype, None if weight is None else weight._data.dtype, None if bias is None else bias._data.dtype)
    x, w, b = (None if t is None else _bf16.to_f32(t._data) for t in (input, weight, bias))
    rows = x.reshape(-1, math.prod(ns)) if x.size else x.reshape(0, math.prod(ns))
    n = rows.shape[1]
    mean = (_row_sums(rows) / np.float32(n))[:, None] if rows.size else np.zeros((rows.shape[0], 1), np.float32)
    xc = rows - mean
    rstd = np.float32(1) / np.sqrt(np.einsum('ij,ij->i', xc, xc)[:, None] / np.float32(n) + np.float32(eps))
    y = rows * rstd + (-rstd * mean)
    if w is not None:
        y *= w.reshape(-1)
    if b is not None:
        y += b.reshape(-1)
    if not any(dt == np.float32 for dt in dts[1:]):     # not mixed: PyTorch keeps the statistics in x's dtype
        mean, rstd = _round_to(mean, dts[0]), _round_to(rstd, dts[0])
    return record(NativeLayerNormBackward0, (input, weight, bias), _bf16.cast(y.reshape(x.shape), dts[0]),
                  ctx=(x, rstd, w, axes, eps, dts + (mean,)))


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing dims, times weight."""
    try:
        x = input._data
        ns, axes = _check_normalized(x, normalized_shape, 'rms_norm', star='*')
        if eps is None:
            eps = float(np.finfo(np.float64 if x.dtype == np.float64 else np.float32).eps)
        if x.dtype == np.float16 or _bf16.is_bf16(x.dtype):
            # in float32, PyTorch's opmath, weight included, rounded once (x * x overflowed float16 from 256)
            x32 = input.float()
            y = x32 * ops.rsqrt(ops.mean(x32 * x32, axes, keepdim=True) + eps)
            return _suggested_contiguous(y if weight is None else y * weight.float(), x).to(input.dtype)
        y = input * ops.rsqrt(ops.mean(input * input, axes, keepdim=True) + eps)
        if weight is not None:
            y = y * weight
        y = _suggested_contiguous(y, x)
        return y if y.dtype == input.dtype else y.to(input.dtype)    # PyTorch's result has the input's dtype
    except (AttributeError, TypeError):
        check_tensor_args('rms_norm', 'input', 'weight?')
        raise


def _suggested_contiguous(y, x):
    """``y.contiguous(memory_format=x.suggest_memory_format())``, as PyTorch's rms_norm ends: a transposed input's
    result is a C-contiguous copy (CloneBackward0), a channels-last one's stays channels-last."""
    if y._data.flags.c_contiguous or _layout.suggests_channels_last(x):
        return y
    return y.contiguous()


# -- group norm -------------------------------------------------------------------------------------------------
def _gn_backward(self, g):
    xhat, invstd, w, G, _, half = self.ctx
    if type(half) is _gn_exact.Saved:       # float32 bit for bit (ember._exact)
        return _gn_exact.backward(g, half, w, G, self.need)
    if half is not None:    # float16/bfloat16 (see _gn_half)
        return _gn_half_backward(_bf16.to_f32(g), xhat, invstd, w, G, half, self.need)
    N, C = xhat.shape[:2]
    if xhat.size == 0:
        gw = np.zeros(C, xhat.dtype if w is None else w.dtype) if self.need[1] else None
        return np.zeros_like(g), gw, np.zeros(C, xhat.dtype) if self.need[2] else None
    if g.dtype == xhat.dtype and _as_rows(xhat, 1) is not None:
        return _gn_plane_grads(np.ascontiguousarray(g), xhat, invstd, w, G, self.need)
    shape = _bshape(xhat.ndim, C)
    gxhat = g if w is None else g * w.reshape(shape)
    gx = gw = gb = None
    red = (0,) + tuple(range(2, xhat.ndim))
    if self.need[0]:
        gx = _norm_grad_x(gxhat.reshape(N, G, -1), xhat.reshape(N, G, -1), invstd[:, :, None], (2,))
        gx = gx.reshape(xhat.shape).astype(xhat.dtype, copy=False)
    if self.need[1]:
        gw = (g * xhat).sum(axis=red).astype(w.dtype, copy=False)
    if self.need[2]:
        gb = g.sum(axis=red).astype(xhat.dtype, copy=False)
    return gx, gw, gb


def _gn_plane_grads(g, xhat, invstd, w, G, need):
    """Group norm's (gx, gw, gb) from two sums per (sample, channel) plane, as PyTorch's CPU kernel: sum g and sum
    g * xhat give the bias's and weight's gradients (planes added over the batch in float64) and, weighted by w
    within each group, the input gradient's two group means, so gx = g * (w * invstd) + xhat * B + C with per-plane
    coefficients. The row form (layer norm's, on g * w) multiplied and reduced whole arrays several more times and
    summed the parameters' gradients over axes (0, 2, 3): (8, 256, 28, 28), 32 groups, backward 2.4 -> 1.2 ms."""
    N, C = xhat.shape[:2]
    rows = g.reshape(N * C, -1)
    xr = xhat.reshape(rows.shape)
    sums = _row_sums(rows) if rows.shape[1] > 1 else rows[:, 0].copy()
    dots = np.einsum('ij,ij->i', rows, xr)
    gb = sums.reshape(N, C).sum(0, dtype=np.float64).astype(xhat.dtype) if need[2] else None
    gw = dots.reshape(N, C).sum(0, dtype=np.float64).astype(w.dtype) if need[1] else None
    gx = None
    if need[0]:
        wg = np.ones((G, C // G), xhat.dtype) if w is None else w.reshape(G, C // G).astype(xhat.dtype, copy=False)
        m = xhat.size // (N * G)
        s1 = np.einsum('ngc,gc->ng', sums.reshape(N, G, -1), wg) / m
        s2 = np.einsum('ngc,gc->ng', dots.reshape(N, G, -1), wg) / m
        scale = (invstd[:, :, None] * wg).reshape(-1, 1)
        gx = _gn_input_grad(rows, xr, scale, (-invstd * s2).reshape(-1, 1), (-invstd * s1).reshape(-1, 1))
        gx = gx.reshape(xhat.shape)
    return gx, gw, gb


_GN_CHUNK = 1 << 20     # bytes of g's planes one chunk of group norm's input gradient covers


def _gn_input_grad(g, xhat, scale, b, c):
    """g * scale + (xhat * b + c) for g, xhat (N*C, HW) planes, scale per plane, b and c per (sample, group) row of
    xhat's (N*G, C/G*HW) view: a chunk of whole groups at a time, the temporary reused, so each chunk's three passes
    run in cache. Whole-array passes wrote a fresh temporary as large as g and ran NumPy's per-plane broadcast (half
    speed on planes under 8192 values) from memory: (8, 128, 64, 64), 32 groups, 9.5 -> 3.1 ms (min of 25, one
    thread); the same products, so the same values."""
    groups = b.shape[0]
    cg = g.shape[0] // groups
    x2 = xhat.reshape(groups, -1)
    step = max(1, _GN_CHUNK // max(1, cg * g[:1].nbytes))     # groups a chunk
    gx = np.empty_like(g)
    tmp = np.empty((min(step, groups), x2.shape[1]), g.dtype)
    for lo in range(0, groups, step):
        hi = min(groups, lo + step)
        t = np.multiply(x2[lo:hi], b[lo:hi], out=tmp[:hi - lo])
        t += c[lo:hi]
        out = gx[lo * cg:hi * cg]
        np.multiply(g[lo * cg:hi * cg], scale[lo * cg:hi * cg], out=out)
        out += t.reshape(out.shape)
    return gx


def _gn_ref(ctx, x, w, b):
    G, eps = ctx[3], ctx[4]
    N, C = x.shape[0], x.shape[1]
    xg = x.reshape(N, G, -1)
    mean = ops.mean(xg, 2, keepdim=True)
    xc = xg - mean
    y = (xc * ops.rsqrt(ops.mean(xc * xc, 2, keepdim=True) + eps)).reshape(tuple(x.shape))
    shape = _bshape(x.dim(), C)
    if w is not None:
        y = y * w.reshape(shape)
    return y if b is None else y + b.reshape(shape)


NativeGroupNormBackward0 = fused('NativeGroupNormBackward0', _gn_backward, _gn_ref, checks=(0, 1))


@_quiet.quietly
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each group of channels of each sample, then scale and shift per channel."""
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(f'Expected at least 2 dimensions for input tensor but received {x.ndim}')
    need_float(input, 'GroupNormKernelImpl')
    _same_param_dtypes('group_norm', x, (('weight', weight), ('bias', bias)))
    N, C = x.shape[:2]
    if C % num_groups:
        raise RuntimeError(f'Expected number of channels in input to be divisible by num_groups, but got input of '
                           f'shape {list(x.shape)} and num_groups={num_groups}')
    for name, t in (('weight', weight), ('bias', bias)):
        if t is not None and t._data.shape != (C,):
            raise RuntimeError(f'Expected {name} to be a vector of size equal to the number of channels in input, but '
                               f'got {name} of shape {list(t._data.shape)} and input of shape {list(x.shape)}')
    if N * C // num_groups * math.prod(x.shape[2:]) == 1:   # PyTorch's _verify_batch_size
        raise ValueError(f'Expected more than 1 value per channel when training, got input size '
                         f'{[N * C // num_groups, num_groups] + list(x.shape[2:])}')
    if x.size == 0:     # an empty batch (Opacus's per-sample tests draw N=0): an empty result, zero parameter grads
        return record(NativeGroupNormBackward0, (input, weight, bias), x.copy(),
                      ctx=(x, np.zeros((N, num_groups), x.dtype), None if weight is None else weight._data, num_groups,
                           eps, None))
    if x.dtype.itemsize == 2 or x.dtype is _bf16.NP:
        return _gn_half(input, weight, bias, num_groups, eps)
    w = None if weight is None else weight._data
    b = None if bias is None else bias._data
    if _exact.ON[0] and _gn_exact.takes(x, w, b):
        y, saved = _gn_exact.forward(x, num_groups, w, b, eps)
        return record(NativeGroupNormBackward0, (input, weight, bias), y, ctx=(None, None, w, num_groups, eps, saved))
    rows = _as_rows(x.reshape(N * num_groups, -1), 1)
    if rows is not None:    # layer norm's rows: one (sample, group) a row
        xhat, invstd = _ln_rows(rows, eps)
        xhat, invstd = xhat.reshape(x.shape), invstd.reshape(N, num_groups)
    else:
        xg = x.reshape(N, num_groups, -1)
        mean = xg.mean(axis=2, keepdims=True)
        xc = xg - mean
        invstd = (1.0 / np.sqrt((xc * xc).mean(axis=2) + eps)).astype(x.dtype, copy=False)
        xhat = (xc * invstd[:, :, None]).reshape(x.shape)
    y = _layout.keep_channels_last(x, _channel_affine(xhat, w, b).astype(x.dtype, copy=False))
    return record(NativeGroupNormBackward0, (input, weight, bias), y, ctx=(xhat, invstd, w, num_groups, eps, None))


def _gn_half(input, weight, bias, G, eps):
    """group_norm of a float16/bfloat16 input, as PyTorch's CPU kernel: in float32 (the parameters float32 or the
    input's dtype), ``(x - mean) * rstd * w + b`` rounded once to the input's dtype (diffusers' UNet under
    autocast(bfloat16): 20% of a GroupNorm's values were one ulp off when each step rounded). The node saves the
    float32 input and each group's mean and rstd, rounded to the input's dtype unless a parameter is float32, as
    PyTorch saves them (the input gradient then equal to PyTorch's)."""
    x = input._data
    dts = (x.dtype, None if weight is None else weight._data.dtype, None if bias is None else bias._data.dtype)
    x, w, b = (None if t is None else _bf16.to_f32(t._data) for t in (input, weight, bias))
    N, C = x.shape[:2]
    xg = x.reshape(N, G, -1)
    mean = xg.mean(2, keepdims=True, dtype=np.float64).astype(np.float32)
    xc = xg - mean
    rstd = np.float32(1) / np.sqrt((xc * xc).mean(2, keepdims=True, dtype=np.float64).astype(np.float32)
                                   + np.float32(eps))
    y = (xc * rstd).reshape(N, C, -1)
    if w is not None:
        y *= w[:, None]
    if b is not None:
        y += b[:, None]
    if not any(dt == np.float32 for dt in dts[1:]):     # not mixed: PyTorch keeps the statistics in x's dtype
        mean, rstd = _round_to(mean, dts[0]), _round_to(rstd, dts[0])
    y = _layout.keep_channels_last(input._data, _bf16.cast(y.reshape(x.shape), dts[0]))
    return record(NativeGroupNormBackward0, (input, weight, bias), y, ctx=(x, rstd, w, G, eps, dts + (mean,)))


def _gn_half_backward(g, x, rstd, w, G, half, need):
    """Group norm's gradients of a float16/bfloat16 input in float32 (``x`` and ``g`` float32): per (sample,
    channel) plane the sums ``ds`` of g * x and ``db`` of g; the input's ``rstd * w * g + c2 * x + c3`` with per-group
    coefficients from the w-weighted sums, the weight's sum over samples of ``(ds - db * mean) * rstd``, the bias's
    of ``db``, each rounded once to its tensor's dtype (all equal to PyTorch's on (2, 8, 5, 7) inputs, 4 groups)."""
    dt, wdt, bdt, mean = half
    N, C = x.shape[:2]
    D = C // G
    xr, gr = x.reshape(N, G, D, -1), g.reshape(N, G, D, -1)
    ds = np.einsum('ngdk,ngdk->ngd', gr, xr, dtype=np.float64).astype(np.float32)
    db = gr.sum(3, dtype=np.float64).astype(np.float32)
    gx = gw = gb = None
    if need[0]:
        wg = np.ones((G, D), np.float32) if w is None else w.reshape(G, D)
        dsv = (ds * wg).sum(2, keepdims=True)
        dbv = (db * wg).sum(2, keepdims=True)
        s = np.float32(1 / (D * xr.shape[3]))
        c2 = (dbv * mean - dsv) * rstd * rstd * rstd * s
        c3 = -c2 * mean - dbv * rstd * s
        gx = _bf16.cast(((rstd * wg)[..., None] * gr + c2[..., None] * xr + c3[..., None]).reshape(x.shape), dt)
    if need[1]:
        gw = _bf16.cast(((ds - db * mean) * rstd).reshape(N, C).sum(0, dtype=np.float64).astype(np.float32), wdt)
    if need[2]:
        gb = _bf16.cast(db.reshape(N, C).sum(0, dtype=np.float64).astype(np.float32), bdt)
    return gx, gw, gb


@_quiet.quietly
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its spatial dims (batch norm of a (1, N*C, ...) view)."""
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f'Expected more than 1 spatial element when training, got input size {input.shape}')
    N, C = input.shape[0], input.shape[1]
    x = input.reshape((1, N * C) + tuple(input.shape[2:]))
    rep = (lambda t: None if t is None else t.repeat(N))   # (RepeatBackward0: one sum over the samples, as PyTorch's)
    rm, rv = rep(running_mean), rep(running_var)
    out = batch_norm(x, rm, rv, rep(weight), rep(bias), use_input_stats, momentum, eps)
    if use_input_stats:
        with no_grad():
            if running_mean is not None:
                running_mean._data[...] = rm._data.reshape(N, C).mean(0)
                running_mean._bump()
            if running_var is not None:
                running_var._data[...] = rv._data.reshape(N, C).mean(0)
                running_var._bump()
    return out.reshape(tuple(input.shape))


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Normalise by the sum of squares over ``size`` neighbouring channels."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f'Expected 3D or higher dimensionality input (got {dim} dimensions)')
    if input.numel() == 0:   # PyTorch returns an empty input itself
        return input
    if dim > 3 and input.dtype not in (_dtype.float32, _dtype.float64, _dtype.int64):
        raise not_implemented('avg_pool3d_out_frame', input.dtype)   # PyTorch pools 4-D+ input with avg_pool3d
    sq = input * input
    C = input.shape[1]
    pad_lo, pad_hi = size // 2, (size - 1) // 2
    parts = []
    for c in range(C):
        lo, hi = max(0, c - pad_lo), min(C, c + pad_hi + 1)
        parts.append(ops.sum(ops.narrow(sq, 1, lo, hi - lo), 1, keepdim=True))
    div = ops.cat(parts, 1) * (alpha / size) + k
    return input / div ** beta


# -- distances --------------------------------------------------------------------------------------------------
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps)."""
    denom = ops.clamp(ops.vector_norm(input, p, dim, keepdim=True), min=eps)
    if out is not None:
        from ...ops.inplace import write_out
        return write_out('normalize', input / denom.expand_as(input), out)
    return input / denom.expand_as(input)


@_quiet.quietly
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along ``dim`` (each normalised first, as PyTorch does)."""
    try:
        if x1.shape != x2.shape:   # PyTorch broadcasts the inputs first, then reduces ``dim`` of the common shape
            x1, x2 = ops.shape.broadcast_tensors(x1, x2)
        n1 = ops.vector_norm(x1, 2, dim, keepdim=True)
        n2 = ops.vector_norm(x2, 2, dim, keepdim=True)
        with no_grad():   # n + s is PyTorch's clamp_min(n, eps), s 0 unless n < eps (inf - inf was NaN)
            s1, s2 = (Tensor._make(np.where(n._data < eps, np.maximum(n._data, eps) - n._data, 0).astype(n._data.dtype))
                      for n in (n1, n2))
        return ops.sum((x1 / (n1 + s1)) * (x2 / (n2 + s2)), dim)
    except (AttributeError, TypeError):
        check_tensor_args('cosine_similarity', 'x1', 'x2')
        raise


NormBackward1 = _composite.node_class('NormBackward1', result=True)
PdistBackward0 = forward_refusal.refusing(_composite.node_class('PdistBackward0', zeros=True, result=True), '_pdist_forward')


AddBackward1 = node_class('AddBackward1', lambda self, g: g, doc='Backward of tensor + scalar (C++\'s add.Scalar).')


def _add_scalar(t, c):
    """t + c recorded as PyTorch's C++ add(Tensor, Scalar) is (AddBackward1; Python's + records AddBackward0)."""
    a = t._data
    if a.dtype.kind in 'biu' and isinstance(c, float):   # an integer tensor plus a float: the default float dtype
        a = a.astype(_dtype.get_default_dtype().np)
    r = a + np.asarray(c, a.dtype)
    if GRAD.enabled and t._requires_grad:
        return Tensor._make(r, AddBackward1((t,)))
    return Tensor._make(r)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim, PyTorch's graph: NormBackward1 over AddBackward1 over SubBackward0."""
    try:
        d = max(x1.dim(), x2.dim()) - 1
        return _composite.composite(NormBackward1, ops.vector_norm, (_add_scalar(x1 - x2, eps),), ord=p, dim=d,
                                    keepdim=keepdim)
    except (AttributeError, TypeError):
        check_tensor_args('pairwise_distance', 'x1', 'x2')
        raise


def _pdist(input, p):
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    a = ops.index_select(input, 0, Tensor._make(i.astype(np.int64)))
    b = ops.index_select(input, 0, Tensor._make(j.astype(np.int64)))
    if p == float('inf'):
        return _max_abs_unsplit(a - b)
    r = ops.vector_norm(a - b, p, -1)
    if p == 1 and r.grad_fn is not None:   # PyTorch's pdist backward: sign(NaN) is NaN there, 0 in the norm's
        r.grad_fn.nan_sign = True
    return r


def _max_abs_unsplit(d):
    """max |d| over the last dim with PyTorch's pdist gradient: sign(d) at every tied maximum, whole (vector_norm
    splits it among ties): the sum of |d| over the ties, less (ties - 1) * the max held constant."""
    ad = ops.abs(d)
    top = ad._data.max(axis=-1, keepdims=True) if ad.shape[-1] else np.zeros(ad.shape[:-1] + (1,), ad._data.dtype)
    hit = ad._data == top
    extra = (hit.sum(axis=-1) - 1) * top[..., 0]
    return ops.sum(ad * Tensor._make(hit.astype(ad._data.dtype)), -1) - Tensor._make(extra.astype(ad._data.dtype))


def pdist(input, p=2):
    """Distances between all pairs of rows (upper triangle, row-major; one PdistBackward0 node)."""
    try:
        if input.dim() != 2:
            raise RuntimeError(f'pdist only supports 2D tensors, got: {input.dim()}D')
        if p < 0:
            raise RuntimeError('pdist only supports non-negative p values')
        if input.dtype in (_dtype.float16, _dtype.bfloat16):
            raise not_implemented('pdist', input.dtype)
        return _composite.composite(PdistBackward0, _pdist, (input,), p=p)
    except (AttributeError, TypeError):
        check_tensor_args('pdist', 'input')
        raise
