"""Loss functions. The hot ones (cross_entropy, nll_loss, mse_loss, smooth_l1/huber, binary cross
entropy with or without logits, soft margin) are single fused nodes with NumPy forward and backward,
named like PyTorch's grad_fn; the rest are composed from differentiable ops."""
import math
import re

import numpy as np

from ... import _bf16, _dtype, _exact, _quiet, ops
from ..._dtype import scalar_name
from ..._warn import warn_user
from ...autograd import dual, forward_refusal
from ...backend import select
from ...autograd._handoff import hand_on
from ...autograd.grad_mode import GRAD, no_grad
from ...ops import _composite
from ...ops import shape as _shape
from ...ops._sumorder import cascade_sum, ordered_sum
from ...ops._util import all_below, broadcast_mismatch, need_float, arg_error, check_tensor_args, not_implemented
from ...ops import _vec_exp
from ...ops._sleef_expm1 import libm_f32, libm_loop
from ...ops.pointwise import _broadcast_error, _div_scalar
from ...ops.reduction import _log_softmax_arr, log_softmax as _log_softmax
from ...tensor import Tensor
from ._fused import fused, record
from ._activation import _log_sigmoid_arr, _softplus_arr, logsigmoid
from ...amp import _state as _autocast

__all__ = ['mse_loss', 'l1_loss', 'smooth_l1_loss', 'huber_loss', 'cross_entropy', 'nll_loss',
           'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'kl_div', 'soft_margin_loss',
           'cosine_embedding_loss', 'margin_ranking_loss', 'hinge_embedding_loss', 'poisson_nll_loss',
           'gaussian_nll_loss', 'triplet_margin_loss', 'triplet_margin_with_distance_loss',
           'multilabel_soft_margin_loss', 'multi_margin_loss', 'multilabel_margin_loss']


# -- reductions -------------------------------------------------------------------------------------------
def legacy_get_string(size_average, reduce, emit_warning=True):
    """The reduction string the deprecated ``size_average``/``reduce`` flags stand for."""
    return _legacy(size_average, reduce, emit_warning, 2)


def _legacy(size_average, reduce, emit_warning, up):
    """legacy_get_string, warning from ember's frame ``up`` levels above this one: PyTorch's warns from its own
    caller inside torch (one line for every loss module, one per functional), so the default filter shows it once
    per such line, not once per user's line."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = 'mean' if (size_average and reduce) else 'sum' if reduce else 'none'
    if emit_warning:
        warn_user(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  inside=up)
    return ret


def _reduction(reduction, size_average=None, reduce=None):
    if size_average is not None or reduce is not None:
        reduction = _legacy(size_average, reduce, True, 2)
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f'{reduction} is not a valid value for reduction')
    return reduction


def _reduce(t, reduction):
    """Apply a reduction to a tensor of elementwise losses."""
    if reduction == 'mean':
        return ops.mean(t)
    if reduction == 'sum':
        return ops.sum(t)
    return t


def _reduce_arr(a, reduction):
    """An elementwise loss array reduced as PyTorch reduces it: the sum in PyTorch's addition order where
    ops._sumorder reproduces it (NumPy's pairwise sum made nn.MSELoss print 164.57504 for 164.57503), the mean
    that sum over the count, as PyTorch's CPU mean divides its sum."""
    if reduction == 'none':
        return a
    s = ordered_sum(a) if a.size else None
    if s is None:
        return np.asarray(a.mean() if reduction == 'mean' else a.sum(), a.dtype)
    return np.asarray(s / a.dtype.type(a.size) if reduction == 'mean' else s, a.dtype)


def _grad_scale(g, reduction, n):
    """The upstream gradient spread over the elements: g / n for 'mean', g otherwise."""
    return g / n if reduction == 'mean' else g


def _weighted_mean(d, w, reduction, n):
    """(d * w) / n ('mean'; w None: no weight), d holding the upstream gradient already: the binary cross entropies'
    backward in PyTorch's order, each step rounded (d * (g / n) put 12% of float32 values of mean losses a step off)."""
    if w is not None:
        d = d * w
    return d / n if reduction == 'mean' else d


def _size_warning(input, target):
    if target.shape != input.shape:
        warn_user(f'Using a target size ({target.shape}) that is different to the input size ({input.shape}). '
                  'This will likely lead to incorrect results due to broadcasting. Please ensure they have '
                  'the same size.')


def _check_tensor(x, name, fn):
    if not isinstance(x, Tensor):
        raise arg_error(fn, name, None, x)


# -- elementwise regression losses (one fused node each) -------------------------------------------------
def _loss_dtype(x, t):
    """The dtype a loss of input ``x`` and target ``t`` computes in: PyTorch's promotion of the two when
    both are floating (float32 with float64 gives float64), else the input's dtype."""
    if t.dtype == x.dtype or x.dtype.kind != 'f':
        return x.dtype
    if t.dtype.kind != 'f':
        return x.dtype
    return _dtype.promote_types(_dtype.from_np(x.dtype), _dtype.from_np(t.dtype)).np


def _int_input(input, target, kernel, keep_input_dtype):
    """An integer or bool input of mse/smooth_l1/huber_loss as PyTorch takes it: converted to its promotion with
    the target when that is floating (and, for huber_loss, castable back to the input's dtype), else refused."""
    p = _dtype.promote_types(input.dtype, target.dtype)
    if keep_input_dtype and not _dtype.can_cast(p, input.dtype):
        raise RuntimeError(f"result type {scalar_name(p)} can't be cast to the desired output type "
                           f'{scalar_name(input.dtype)}')
    if not p.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(p)}\'')
    return input.to(p)


def _mixed_dtype_backward(xd, td, need):
    """PyTorch's huber_loss backward refuses an input and a target of different dtypes, naming first the
    dtype of the one that needs no gradient (the input's gradient is computed first)."""
    from ..._dtype import scalar_name
    found, expected = (td, xd) if need[0] else (xd, td)
    raise RuntimeError(f'Found dtype {scalar_name(found)} but expected {scalar_name(expected)}')


def _mse_low_grad(d, g, reduction):
    """mse_loss's float16/bf16 input gradient as PyTorch's CPU kernel: norm * (input - target) * grad on values of
    that dtype, the norm (2 / numel for 'mean', else 2) itself one and each product rounded."""
    rnd = dual.rounder(d.dtype)
    norm = rnd(np.float32(2.0 / d.size if reduction == 'mean' else 2.0))
    return dual.narrow(rnd(norm * dual.wide(d.copy())) * dual.wide(g), d.dtype)


def _is_low(dt):
    return dt == np.float16 or _bf16.is_bf16(dt)


def _low_huber_smooth(name, D, p, dt):
    """huber/smooth_l1_loss's elementwise float16/bf16 loss of the float32 differences ``D``, as PyTorch's CPU
    kernels: float16 huber and bf16 smooth_l1 in float32 rounded once (p as a float32), the others each op
    rounded with p rounded to the dtype."""
    rnd, half = dual.rounder(dt), np.float32(0.5)
    huber = name == 'HuberLossBackward0'
    if huber == (dt == np.float16):
        z, q = np.abs(D), np.float32(p)
        return rnd(np.where(z < q, half * z * z, q * (z - half * q)) if huber else
                   np.where(z < q, half * z * z / q, z - half * q))
    z, q = rnd(np.abs(D)), rnd(np.float32(p))
    small = rnd(rnd(half * z) * z)
    return np.where(z < q, small if huber else rnd(small / q), rnd(q * rnd(z - rnd(half * q))) if huber else
                    rnd(z - rnd(half * q)))


def _low_huber_smooth_grad(name, D, p, g, reduction, dt):
    """Their float16/bf16 input gradient as PyTorch's CPU kernels: smooth_l1 in float32 rounded once; huber each op
    rounded, its 32-element vector blocks scaling sign * delta by the norm, the scalar tail norm * grad by
    delta (position in the flattened order decides; both forms checked against PyTorch on sizes 1-70)."""
    rnd = dual.rounder(dt)
    G = dual.wide(g)
    if name == 'SmoothL1LossBackward0':
        norm, q = np.float32(1 / D.size if reduction == 'mean' else 1), np.float32(p)
        return dual.narrow(np.where(D <= -q, -norm * G, np.where(D >= q, norm * G, norm * D * G / q)), dt)
    norm, q, x = rnd(np.float32(1 / D.size if reduction == 'mean' else 1)), rnd(np.float32(p)), rnd(D)
    inner = rnd(rnd(norm * x) * G)
    out = np.broadcast_to(np.sign(x), np.broadcast_shapes(x.shape, G.shape)).copy().reshape(-1)
    edge = (np.abs(x) >= np.float32(p)).reshape(-1) if x.size else np.zeros(0, bool)
    Gf = np.broadcast_to(G, x.shape).reshape(-1)
    k = (x.size // 32) * 32
    sv, st = out[:k], out[k:]
    out[:k] = rnd(rnd(norm * sv * q) * Gf[:k])
    out[k:] = rnd(rnd(norm * st * Gf[k:]).astype(np.float64) * p)
    edge[:k] = (np.abs(x).reshape(-1)[:k] >= q)
    return dual.narrow(np.where(edge.reshape(x.shape), out.reshape(x.shape), inner), dt)


def _negative_zeros(x, t):
    """Where target - input is -0.0 (a -0.0 target, a +0.0 input), which 0 - (input - target) cannot tell; None
    where there is none."""
    with np.errstate(invalid='ignore'):
        m = (t == 0) & np.signbit(t) & (x == 0) & ~np.signbit(x)
    return m if m.any() else None


def _negated(d, neg0):
    """target - input from d = input - target: 0 - d (+0.0 where d is 0), -0.0 at ``neg0``."""
    r = np.subtract(0, d)
    if neg0 is not None:
        r = np.where(np.broadcast_to(neg0, r.shape), -r, r).astype(r.dtype, copy=False)
    return r


def _regression(name, loss_fn, grad_fn, ref_fn, keep_input_dtype=False):
    """A fused loss of d = input - target: loss_fn(d, p) elementwise, grad_fn(d, p) = d loss / d d. Mixed
    float dtypes compute in the promoted dtype; the result has it (or the input's, ``keep_input_dtype``,
    as PyTorch's huber_loss, whose backward then refuses mixed dtypes)."""
    def np_backward(self, g):
        d, red, p, xs, ts, xd, td, neg0 = self.ctx
        if keep_input_dtype and xd != td:
            _mixed_dtype_backward(xd, td, self.need)
        low = xd if xd == td and _is_low(xd) else None     # float16/bf16: PyTorch's kernels' roundings
        gx = dual.sum_to(_grad(d, g, red, p, low), xs).astype(xd, copy=False) if self.need[0] else None
        # the target's as PyTorch's: the same formula on target - input (+0.0 where they are equal, not -0.0)
        gt = dual.sum_to(_grad(_negated(d, neg0), g, red, p, low), ts).astype(td, copy=False) if self.need[1] else None
        return gx, gt

    def _grad(d, g, red, p, low):
        if name == 'MseLossBackward0':
            if dual.is_low(d):
                return _mse_low_grad(d, g, red)
            # PyTorch's (2 / numel) * d * g, in that order: 2 * d would overflow first near the dtype's max
            return np.asarray(2.0 / d.size if red == 'mean' else 2.0, d.dtype) * d * g
        if low is not None:
            return _low_huber_smooth_grad(name, d, p, g, red, low)
        return grad_fn(d, p) * _grad_scale(g, red, d.size)

    def reference(ctx, x, t):
        red, p = ctx[1], ctx[2]
        if keep_input_dtype and ctx[5] != ctx[6]:
            _mixed_dtype_backward(ctx[5], ctx[6], (x.requires_grad, t.requires_grad))
        return _reduce(ref_fn(x - t, p), red)

    cls = fused(name, np_backward, reference, checks=(0, 1))
    op_name = re.sub(r'(?<!^)(?=[A-Z])', '_', name[:-len('Backward0')]).lower()    # MseLossBackward0: mse_loss

    def op(input, target, reduction, p=None):
        x, t = input._data, target._data
        if x.dtype.kind != 'f':
            input = _int_input(input, target, op_name.replace('_loss', '_cpu'), keep_input_dtype)
            return op(input, target, reduction, p)
        ct = _loss_dtype(x, t)
        try:
            d = x.astype(ct, copy=False) - t.astype(ct, copy=False)
        except ValueError:
            raise _broadcast_error(op_name, input, target) from None
        if name == 'MseLossBackward0' and type(d) is _bf16.BF16Array:
            d = _bf16.adopt(d)  # PyTorch squares the bf16 difference, rounds the square, then reduces
            sq = _bf16.adopt(d * d)
            out = _bf16.from_f32(_reduce_arr(_bf16.to_f32(sq), reduction)) if reduction != 'none' and sq.size \
                else _reduce_arr(sq, reduction)   # summed in float32, rounded once
        elif name != 'MseLossBackward0' and x.dtype == t.dtype and _is_low(x.dtype):
            d = dual.wide(x) - dual.wide(t)   # the float32 differences (the node keeps them)
            el = _low_huber_smooth(name, d, p, x.dtype)
            out = dual.narrow(_reduce_arr(el, reduction), x.dtype) if d.size or reduction == 'none' else \
                _reduce_arr(dual.narrow(el, x.dtype), reduction)
        else:
            out = _reduce_arr(loss_fn(d, p), reduction)
        if keep_input_dtype:
            out = out.astype(x.dtype, copy=False)
        neg0 = _negative_zeros(x, t) if target._requires_grad and GRAD.enabled else None
        return record(cls, (input, target), out, ctx=(d, reduction, p, x.shape, t.shape, x.dtype, t.dtype, neg0))
    return op


_mse = _regression('MseLossBackward0', lambda d, p: d * d, None, lambda d, p: d * d)    # (its gradient: _grad)


def _smooth_l1_np(d, beta):
    """0.5 d^2 / beta where |d| < beta, else |d| - beta / 2; blended by select, not np.where, which branches per
    element (see _huber_np)."""
    z = np.abs(d)
    return select(z < beta, (0.5 * d * d / beta).astype(d.dtype, copy=False),
                  (z - 0.5 * beta).astype(d.dtype, copy=False))


def _smooth_l1_ref(d, beta):
    z = ops.abs(d)
    return ops.where(z < beta, d * d * (0.5 / beta), z - 0.5 * beta)


_smooth_l1 = _regression('SmoothL1LossBackward0', _smooth_l1_np,
                         lambda d, beta: np.clip(d / beta, -1, 1).astype(d.dtype, copy=False), _smooth_l1_ref)


def _huber_np(d, delta):
    """0.5 d^2 where |d| < delta, else delta (|d| - delta / 2); blended by select, not np.where, which branches
    per element: fwd+bwd of (512, 256) float32, min of 25 interleaved, 1 thread: smooth_l1 252 -> 213 us, huber 236
    -> 209 us."""
    z = np.abs(d)
    return select(z < delta, (0.5 * d * d).astype(d.dtype, copy=False),
                  (delta * (z - 0.5 * delta)).astype(d.dtype, copy=False))


def _huber_ref(d, delta):
    z = ops.abs(d)
    return ops.where(z < delta, d * d * 0.5, (z - 0.5 * delta) * delta)


_huber = _regression('HuberLossBackward0', _huber_np,
                     lambda d, delta: np.clip(d, -delta, delta).astype(d.dtype, copy=False), _huber_ref,
                     keep_input_dtype=True)


def _weighted(loss, weight, input, reduction):
    """PyTorch's manual weighting: elementwise loss * weight, 'mean' divides by sum(weight)."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError('Weights and input must have the same size.')
    w = loss * weight
    if reduction == 'none':
        return w
    if reduction == 'sum':
        return ops.sum(w)
    return ops.sum(w) / ops.sum(weight)


@_autocast.fp32
@_quiet.rerun
def mse_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """Mean squared error between input and target."""
    try:
        _check_tensor(input, 'input', 'mse_loss')
        _size_warning(input, target)
        reduction = _reduction(reduction, size_average, reduce)
        if weight is not None:
            x, t = _shape.broadcast_tensors(input, target)
            return _weighted((x - t) ** 2, weight, input, reduction)
        return _mse(input, target, reduction)
    except (AttributeError, TypeError):
        check_tensor_args('mse_loss', 'input', 'target')
        raise


@_autocast.fp32
def l1_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """Mean absolute error between input and target."""
    _size_warning(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    loss = ops.abs(input - target)
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _reduce(loss, reduction)


@_autocast.fp32
@_quiet.rerun
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction='mean', beta=1.0):
    """Squared error below ``beta``, absolute error above it."""
    try:
        _size_warning(input, target)
        reduction = _reduction(reduction, size_average, reduce)
        if beta < 0:
            raise RuntimeError('smooth_l1_loss does not support negative values for beta.')
        if beta == 0.0:
            return l1_loss(input, target, reduction=reduction)
        return _smooth_l1(input, target, reduction, beta)
    except (AttributeError, TypeError):
        check_tensor_args('smooth_l1_loss', 'input', 'target')
        raise


@_autocast.fp32
@_quiet.rerun
def huber_loss(input, target, reduction='mean', delta=1.0, weight=None):
    """Squared error below ``delta``, delta-scaled absolute error above it."""
    try:
        _size_warning(input, target)
        reduction = _reduction(reduction)
        if delta <= 0:
            raise RuntimeError('huber_loss does not support non-positive values for delta.')
        if weight is not None:
            return _weighted(_huber_ref(input - target, delta), weight, input, reduction)
        return _huber(input, target, reduction, delta)
    except (AttributeError, TypeError):
        check_tensor_args('huber_loss', 'input', 'target')
        raise


# -- classification: cross entropy and nll -------------------------------------------------------------------
def _log_softmax_rows(x2):
    return _log_softmax_arr(x2, 1)


def _as_rows(x):
    """(M, C) view of input with classes on dim 1 (or dim 0 for unbatched 1-D input)."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _at_targets(x, tc):
    """x's value at each row's target class, rows in _as_rows's order. A spatial (N, C, ...) input is read in place
    along its class axis: _as_rows moved C last, a copy of the whole input (nll_loss after log_softmax on
    (8, 21, 64, 64) segmentation logits)."""
    if x.ndim <= 2 or not x.size:
        return _as_rows(x)[np.arange(tc.shape[0]), tc]
    n = x.shape[0]
    return np.take_along_axis(x.reshape(n, x.shape[1], -1), tc.reshape(n, 1, -1), 1).reshape(-1)


def _targets_grad(v, tc, shape, dtype):
    """Zeros of the input's shape with ``v`` (a scalar or one value per row) at each row's target class, built in
    the input's layout: _from_rows's channels-last view made log_softmax's backward run on a transposed
    gradient."""
    if len(shape) <= 2 or not tc.size:
        res = np.zeros((tc.shape[0], shape[1] if len(shape) > 1 else shape[0]), dtype)
        res[np.arange(res.shape[0]), tc] = v
        return _from_rows(res, shape)
    n, C = shape[:2]
    res = np.zeros((n, C, tc.shape[0] // n if n else 0), dtype)
    v = np.asarray(v, dtype)
    np.put_along_axis(res, tc.reshape(n, 1, -1), v.reshape(n, 1, -1) if v.ndim else v, 1)
    return res.reshape(shape)


def _from_rows(r, shape):
    if len(shape) <= 2:
        return r.reshape(shape)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return np.moveaxis(r.reshape(moved), -1, 1)


def _rows_ref(x):
    """The differentiable (M, C) arrangement of x (for the create_graph references)."""
    if x.dim() == 1:
        return x.reshape(1, -1)
    if x.dim() == 2:
        return x
    return ops.movedim(x, 1, -1).reshape(-1, x.shape[1])




def _check_target(x, t):
    """PyTorch's checks between (N, C, d...) input and (N, d...) class-index target, in its order (the batch size,
    then a 1-D/2-D/4-D input's target rank, then the dtype, then the spatial sizes; a 3-D or 5-D+ input's sizes
    before the dtype): a soft-label target of the wrong shape is refused for its rank, as there."""
    if x.ndim > 1 and x.shape[0] != (t.shape[0] if t.ndim else 0):
        raise ValueError(f'Expected input batch_size ({x.shape[0]}) to match target batch_size '
                         f'({t.shape[0] if t.ndim else 0}).')
    if x.ndim <= 2 and t.ndim > 1:
        raise RuntimeError('0D or 1D target tensor expected, multi-target not supported')
    if x.ndim == 4 and t.ndim != 3:
        raise RuntimeError(f'only batches of spatial targets supported (3D tensors) but got targets of dimension: '
                           f'{t.ndim}')
    want = x.shape[:1] + x.shape[2:]
    if x.ndim > 2 and x.ndim != 4 and t.shape != want:
        raise RuntimeError(f'Expected target size {list(want)}, got {list(t.shape)}')
    if t.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f'expected target dtype to be Long or Byte, but got {scalar_name(t.dtype)}')
    if x.ndim == 4 and t.shape != want:
        raise RuntimeError(f'size mismatch (got input: {list(x.shape)} , target: {list(t.shape)}')


class _Coeffs:
    """Per-row coefficients of a class-index loss: loss_i = -sum_c a_ic * logp_ic, with
    a = wt_i (1 - eps) at the target class plus eps / C * w_c * valid_i everywhere."""
    __slots__ = ('tc', 'wt', 'valid', 'w', 'eps', 'C', 'denom', 'plain')

    def __init__(self, t, C, weight, ignore_index, eps, dtype):
        t = t.reshape(-1)
        self.plain = weight is None and not eps and _all_classes(t, C, ignore_index)
        if self.plain:      # unit weights (wt None), nothing masked: nll_loss of (32, 27) 11.3 -> 7.9 us
            self.tc, self.wt, self.valid, self.w, self.eps, self.C = t, None, None, None, 0.0, C
            self.denom = np.dtype(dtype).type(t.size)
            return
        valid = t != ignore_index
        tc = np.where(valid, t, 0)
        bad = (tc < 0) | (tc >= C)
        if bad.any():
            raise IndexError(f'Target {int(t[bad][0])} is out of bounds.')
        w = None if weight is None else weight._data.astype(dtype, copy=False)
        wt = valid.astype(dtype) if w is None else w[tc] * valid
        self.tc, self.wt, self.valid, self.w, self.eps, self.C = tc, wt, valid, w, eps, C
        self.denom = wt.sum()

    def losses(self, logp):
        """Each row's loss from log-probabilities: (M, C) rows, or without label smoothing the (N, C, ...) input."""
        if self.plain:
            return -_at_targets(logp, self.tc)
        loss = -_at_targets(logp, self.tc) * self.wt
        if type(loss) is _bf16.BF16Array:   # (PyTorch's bf16 data * weight: a rounded product)
            loss = _bf16.adopt(loss)
        if self.eps:
            # np.add.reduce, not .sum: a warning from ember's frame, which backend's filter hides (see _quiet.rerun)
            smooth = -(np.add.reduce(logp, 1) if self.w is None else logp @ self.w) * self.valid
            loss = loss * (1 - self.eps) + smooth * (self.eps / self.C)
        return loss

    def dense(self, dtype):
        a = np.zeros((self.tc.shape[0], self.C), dtype)
        a[np.arange(self.tc.shape[0]), self.tc] = (1.0 if self.wt is None else self.wt) * (1 - self.eps)
        if self.eps:
            w = np.ones(self.C, dtype) if self.w is None else self.w
            a += (self.eps / self.C) * self.valid[:, None] * w[None, :]
        return a


def _all_classes(t, C, ignore_index):
    """Whether every target of the int64 array ``t`` (fewer than 2**24, so that their count is exact in float32)
    is a class index in [0, C) and none is ignore_index."""
    return t.dtype == np.int64 and 0 < t.size < 1 << 24 and not 0 <= ignore_index < C and all_below(t, C)


def _row_grads(g, red, denom):
    """Upstream gradient per row: g / denom for 'mean', g for 'sum', g flattened for 'none'."""
    if red == 'none':
        return np.asarray(g).reshape(-1)
    if red == 'mean' and not denom:     # every target ignored: the loss is NaN, the gradient zero (PyTorch)
        return np.zeros((), np.asarray(g).dtype)
    return np.asarray(g / denom if red == 'mean' else g).reshape(())


def _ce_index_backward(self, g):
    logp, co, red, shape = self.ctx
    gr = _row_grads(g, red, co.denom)
    p = np.exp(logp)
    total = co.wt * (1 - co.eps)
    if co.eps:
        wsum = co.C if co.w is None else co.w.sum()
        total = total + (co.eps / co.C) * wsum * co.valid
    res = p * (total * gr)[:, None]
    if co.eps:
        w = 1.0 if co.w is None else co.w[None, :]
        res -= ((co.eps / co.C) * co.valid * gr)[:, None] * w
    res[np.arange(res.shape[0]), co.tc] -= gr * co.wt * (1 - co.eps)
    return _from_rows(res.astype(logp.dtype, copy=False), shape), None, None


def _nll_backward(self, g):
    co, red, shape, dtype = self.ctx
    gr = _row_grads(g, red, co.denom)
    if _bf16.is_bf16(dtype):    # PyTorch's bf16 scalars: -(g / total_weight), then times the weight, each rounded
        gr = _bf16.round_f32(gr).reshape(np.shape(gr))
        v = -gr if co.plain else -_bf16.round_f32(gr * _bf16.to_f32(co.wt))
    else:
        v = -gr if co.plain else -(gr * co.wt)
    if co.valid is not None and not co.plain:      # an ignored target's slot keeps +0, as PyTorch's zeroed gradient
        v = np.where(co.valid, v, 0)
    res = _targets_grad(v, co.tc, shape, dtype)
    return hand_on(self, res, (co.tc, np.asarray(v, dtype)) if len(shape) == 2 else None), None, None


def _index_ref(logp, red, co, tshape):
    """Differentiable loss from log-probabilities (M, C) and the dense coefficient matrix."""
    a = Tensor._make(co.dense(logp._data.dtype))
    rows = -(logp * a).sum(1)
    if red == 'mean':
        return rows.sum() / float(co.denom) if co.denom else rows.sum() + float('nan')
    if red == 'sum':
        return rows.sum()
    return rows.reshape(tshape)


def _ce_index_ref(ctx, x, t, w):
    _, co, red, _ = ctx
    logp = ops.log_softmax(_rows_ref(x), 1)
    return _index_ref(logp, red, co, tuple(t.shape))


def _nll_ref(ctx, x, t, w):
    co, red, _, _ = ctx
    return _index_ref(_rows_ref(x), red, co, tuple(t.shape))


def _ce_prob_backward(self, g):
    logp, a, w, red, shape, eps, tshape, tdt, wdt = self.ctx
    M = logp.shape[0]
    gr = _row_grads(g, red, M)
    grc = gr[:, None] if gr.ndim else gr
    gx = gt = gw = None
    if self.need[0]:
        gx = _from_rows((np.exp(logp) * a.sum(1, keepdims=True) - a) * grc, shape).astype(logp.dtype, copy=False)
    if self.need[1]:
        gt = _from_rows(-logp * (1 - eps) * (1.0 if w is None else w[None, :]) * grc, tshape).astype(tdt, copy=False)
    if self.need[2]:
        gw = (-((a / w[None, :]) * logp * grc).sum(0)).astype(wdt, copy=False)
    return gx, gt, gw


def _ce_prob_ref(ctx, x, t, w):
    _, _, wa, red, _, eps, _, _, _ = ctx
    logp = ops.log_softmax(_rows_ref(x), 1)
    a = _rows_ref(t) * (1 - eps) + eps / x.shape[1 if x.dim() > 1 else 0]
    if w is not None:
        a = a * w
    rows = -(logp * a).sum(1)
    if red == 'mean':
        return rows.sum() / float(logp.shape[0])
    if red == 'sum':
        return rows.sum()
    shape = tuple(t.shape)
    return rows.reshape(shape[:1] + shape[2:] if len(shape) > 1 else ())


_CE_NODES = {}


def _not_differentiable(fn, **args):
    """PyTorch's refusal, under grad mode, of an argument its kernel has no derivative for that requires grad (a
    class weight, a target), checked before the kernel's own checks."""
    if GRAD.enabled:
        for name, t in args.items():
            if isinstance(t, Tensor) and t._requires_grad:
                raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument '{name}'. This "
                                   f"input cannot have requires_grad True.")


def _node(kind, name):
    key = (kind, name)
    cls = _CE_NODES.get(key)
    if cls is None:
        bw, ref = {'ce': (_ce_index_backward, _ce_index_ref), 'nll': (_nll_backward, _nll_ref),
                   'prob': (_ce_prob_backward, _ce_prob_ref)}[kind]
        checks = (0, 1, 2) if kind == 'nll' and name != 'ViewBackward0' else ()   # (PyTorch's cross_entropy saves
        cls = _CE_NODES[key] = fused(name, bw, ref, checks=checks)                 # log_softmax's result only)
    return cls


def _nll_name(ndim, red):
    if ndim <= 2:
        return 'NllLossBackward0'
    if ndim != 4 and red == 'none':
        return 'ViewBackward0'
    return 'NllLoss2DBackward0'


def _index_out(loss_rows, co, red, tshape, dtype):
    if red == 'mean':
        if co.denom:        # np.errstate costs 0.4 us: only for a zero denominator (all ignored or weighted 0)
            return np.asarray(np.add.reduce(loss_rows) / co.denom, dtype)
        with np.errstate(invalid='ignore', divide='ignore'):
            return np.asarray(np.add.reduce(loss_rows, None) / co.denom, dtype)
    if red == 'sum':    # np.add.reduce, not .sum: an overflow's warning from this frame, which backend's filter hides
        return np.asarray(np.add.reduce(loss_rows, None), dtype)
    return loss_rows.reshape(tshape).astype(dtype, copy=False)


_CASCADED = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16), _bf16.NP)   # (half: adds rounded)


def _cascades(ndim, co, dtype):
    """Whether nll_loss adds its losses in PyTorch's order (_cascade_out): 1-D/2-D input always; (N, C, H, W), whose
    nll_loss2d kernel adds them in the same cascade over the (N, H, W) losses in memory order, unless targets are
    ignored and ember._exact is off (cascade_sum's skipping path cost cross_entropy forward+backward of (4, 10, 16, 16)
    2.6x, 107 -> 280 us, and of (8, 21, 64, 64) 1.6x; with none ignored 91 -> 135 and 2220 -> 2311 us, min of 15);
    float16/bfloat16 always (its float32 pairwise sum left float16 losses with ignored targets a step off)."""
    if ndim <= 2:
        return True
    return ndim == 4 and (_exact.ON[0] or co.plain or co.valid.all() or dtype == np.float16 or _bf16.is_bf16(dtype))


def _cascade_out(losses, co, red, dtype):
    """nll_loss's sum or mean in PyTorch's addition order (its kernels' cascade of partial sums, for the losses and
    the weights both): NumPy's pairwise sum differed from it in the last bit of half the
    losses of (n, 3) batches, so fastai's valid_loss differed from PyTorch's in its 7th digit."""
    total = cascade_sum(losses, co.valid)
    if red == 'sum':
        return _bf16.cast(np.asarray(total, np.float32), dtype) if _bf16.is_bf16(dtype) else np.asarray(total, dtype)
    if co.w is not None:    # the backward divides by this total weight too, as PyTorch's by its saved total_weight
        co.denom = cascade_sum(co.wt, co.valid)
    if _bf16.is_bf16(dtype):    # PyTorch's total weight is a bf16 value (its count rounded), the mean a bf16 quotient
        co.denom = _bf16.round_f32(np.float32(co.denom))[()]
        with np.errstate(invalid='ignore', divide='ignore'):
            return _bf16.cast(np.asarray(np.float32(total) / co.denom, np.float32), dtype)
    denom = co.denom
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.asarray(total / denom, dtype)


@_quiet.rerun
@_autocast.fp32
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction='mean', label_smoothing=0.0):
    """Cross entropy of logits (classes on dim 1) against class indices or class probabilities; one fused
    log_softmax + nll node (backward: softmax minus the target distribution)."""
    _check_tensor(input, 'input', 'cross_entropy')
    _check_tensor(target, 'target', 'cross_entropy')
    reduction = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f'label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}')
    x = input._data
    if x.ndim == 0:
        raise RuntimeError('cross_entropy: input must have at least 1 dimension (got a 0-d tensor)')
    if x.dtype.kind != 'f':
        kernel = 'log_softmax_lastdim_kernel_impl' if x.ndim <= 2 else 'log_softmax_kernel_impl'
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(x.dtype)}\'')
    C = x.shape[1] if x.ndim > 1 else x.shape[0]
    t = target._data
    if t.shape != x.shape:
        _not_differentiable('nll_loss_forward', weight=weight)
    _check_class_weight(weight, C, 1 if t.shape == x.shape else x.ndim, 'cross_entropy: ' * (t.shape == x.shape))
    if t.shape == x.shape:
        if t.dtype.kind != 'f':
            raise RuntimeError(f'Expected floating point type for target with class probabilities, got '
                               f'{scalar_name(t.dtype)}')
        if ignore_index >= 0:   # PyTorch's check (a negative ignore_index is accepted, and ignored)
            raise RuntimeError('ignore_index is not supported for floating point target')
        if _low(x):
            return _ce_probs_ops(input, target, weight, reduction, label_smoothing, C)
        return _ce_probs(input, target, weight, reduction, label_smoothing, C)
    _check_weight_dtype('cross_entropy', weight, x)
    _check_target(x, t)
    if not label_smoothing:     # PyTorch's graph: NllLossBackward0 <- LogSoftmaxBackward0
        # their bodies, past their _quiet.rerun wrappers: this one's reruns them (cross_entropy (8, 64) ~0.4 us)
        return nll_loss.__wrapped__(_log_softmax.__wrapped__(input, 1 if x.ndim > 1 else 0), target, weight, None,
                                    ignore_index, None, reduction)
    if (_exact.enabled() and weight is None and x.ndim <= 2) or _low(x):
        return _ce_smoothed_ops(input, target, weight, ignore_index, reduction, label_smoothing, C)
    logp = _log_softmax_rows(_as_rows(x))
    co = _Coeffs(t, C, weight, ignore_index, label_smoothing, x.dtype)
    out = _index_out(co.losses(logp), co, reduction, t.shape, x.dtype)
    name = _nll_name(x.ndim, reduction) if not label_smoothing else 'AddBackward0'
    return _guarded(record(_node('ce', name), (input, target, weight), out, ctx=(logp, co, reduction, x.shape)),
                    target)


def _low(x):
    """Whether array ``x`` is float16/bfloat16, whose composite losses run PyTorch's ops one by one (each rounded)."""
    return x.dtype == np.float16 or _bf16.is_bf16(x.dtype)


def _class_view(weight, ndim, dim):
    """A class weight shaped to broadcast along the class dim of an ndim-D input."""
    return weight.reshape(tuple(-1 if i == dim else 1 for i in range(ndim)))


def _ce_smoothed_ops(input, target, weight, ignore_index, reduction, eps, C):
    """Cross entropy of class indices with label smoothing as PyTorch composes it (LossNLL.cpp's
    cross_entropy_loss_label_smoothing): nll_loss of log_softmax, and minus the rows' sums of log_softmax (times the
    class weight), masked where ignored, summed and divided by the kept count or their weights (mean), each op
    rounding as PyTorch's. Under the exact kernels (no weight, 1-2 dims: the fused node's float32 loss and gradient
    differed in the last bit; over (N, C, d...) a value in 50-300 of reduction='none' still differed: not found), and
    for float16/bfloat16 inputs, whose fused float32 node left 8-40 of 45 gradient values a step off."""
    dim = 1 if input.dim() > 1 else 0
    logp = _log_softmax(input, dim)
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    ignored = target == ignore_index
    terms = logp if weight is None else logp * _class_view(weight, input.dim(), dim)
    smooth = ops.neg(terms.sum(dim)).masked_fill(ignored, 0.0)
    if reduction == 'mean' and weight is not None:
        smooth = smooth.sum() / weight.gather(0, target.masked_select(ops.logical_not(ignored)).flatten()).sum()
    elif reduction == 'mean':
        smooth = smooth.sum() / ops.logical_not(ignored).sum()
    elif reduction == 'sum':
        smooth = smooth.sum()
    return nll * (1 - eps) + smooth * (eps / C)


def _ce_probs_ops(input, target, weight, reduction, eps, C):
    """Cross entropy of a float16/bfloat16 input against class probabilities as PyTorch composes it
    (cross_entropy_loss_prob_target): log_softmax, the target smoothed, their product (times the class weight), minus
    its sum, over the rows' count for the mean, each op rounded as PyTorch's (the fused float32 node left 12-35 of 45
    gradient values a step off)."""
    dim = 1 if input.dim() > 1 else 0
    logp = _log_softmax(input, dim)
    if eps:
        target = target * (1 - eps) + eps / C
    prod = logp * target
    if weight is not None:
        prod = prod * _class_view(weight, input.dim(), dim)
    if reduction == 'none':
        return ops.neg(prod.sum(dim))
    loss = ops.neg(prod.sum())
    if reduction != 'mean':
        return loss
    return _div_scalar(loss, input.numel() // C)    # (C++'s div(Tensor, Scalar): DivBackward1)


def _ce_probs(input, target, weight, reduction, eps, C):
    """Cross entropy against class probabilities. PyTorch smooths the target in the target's own dtype, then
    multiplies it with the input's log-probabilities (and the weight): the loss has their promoted dtype."""
    x, t = input._data, target._data
    rdt = _dtype.promote_types(input.dtype, target.dtype)
    if weight is not None:
        rdt = _dtype.promote_types(rdt, weight.dtype)
    rdt = rdt.np
    logp = _log_softmax_rows(_as_rows(x))
    a = _as_rows(t)
    if eps:
        a = a * (1 - eps) + eps / C
    a = a.astype(rdt, copy=False)
    w = None if weight is None else weight._data.astype(rdt, copy=False)
    if w is not None:
        a = a * w[None, :]
    rows = -(a * logp.astype(rdt, copy=False)).sum(1)
    M = logp.shape[0]
    if reduction == 'mean':
        out = np.asarray(rows.sum() / M, rdt)
    elif reduction == 'sum':
        out = np.asarray(rows.sum(), rdt)
    else:
        out = rows.reshape(x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()).astype(rdt, copy=False)
    name = 'DivBackward1' if reduction == 'mean' else 'NegBackward0'
    return _guarded(record(_node('prob', name), (input, target, weight), out,
                           ctx=(logp, a, w, reduction, x.shape, eps, t.shape, t.dtype,
                                None if weight is None else weight._data.dtype)), target)


def _check_weight_dtype(op, weight, x):
    """PyTorch's class-index kernels take a class weight of the input's dtype only (no promotion)."""
    if weight is not None and weight._data.dtype != x.dtype:
        want, got = (scalar_name(_dtype.from_np(d)) for d in (x.dtype, weight._data.dtype))   # (bf16: by dtype)
        raise RuntimeError(f'expected scalar type {want} but found {got}\n({op}: convert the class weight with '
                           'weight.to(input.dtype))')


def _check_class_weight(weight, C, ndim, prefix=''):
    """PyTorch's check that a class weight has C entries (its nll_loss2d, for inputs of 3+ dims, words it shorter;
    cross_entropy with class probabilities names itself)."""
    if weight is not None and weight._data.shape != (C,):
        if ndim >= 3:
            raise RuntimeError('weight tensor should be defined either for all or no classes')
        raise RuntimeError(f'{prefix}weight tensor should be defined either for all {C} classes or no classes but got '
                           f'weight tensor of shape: {list(weight.shape)}')


@_quiet.rerun
@_autocast.fp32
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean'):
    """Negative log likelihood of log-probabilities (classes on dim 1) at the target class indices."""
    try:
        _check_tensor(input, 'input', 'nll_loss')
        reduction = _reduction(reduction, size_average, reduce)
        x, t = input._data, target._data
        if x.ndim == 0:
            raise RuntimeError('nll_loss: input must have at least 1 dimension')
        _check_target(x, t)
        need_float(input, 'nll_loss_out_frame' if x.ndim <= 2 else 'nll_loss2d_forward_out_frame')
        C = x.shape[1] if x.ndim > 1 else x.shape[0]
        _not_differentiable('nll_loss_forward', weight=weight)
        _check_class_weight(weight, C, x.ndim)
        _check_weight_dtype('nll_loss', weight, x)
        if (x.ndim == 3 or x.ndim > 4) and x.size:
            # PyTorch's nll_loss_nd: views as (N, C, 1, -1) for nll_loss2d, and the unreduced loss back to (N, ...)
            from ...ops.shape import reshape
            n = x.shape[0]
            r = nll_loss(reshape(input, (n, C, 1, -1)), reshape(target, (n, 1, -1)), weight, None, ignore_index, None,
                         reduction)
            return reshape(r, (n,) + x.shape[2:]) if reduction == 'none' else r
        co = _Coeffs(t, C, weight, ignore_index, 0.0, x.dtype)
        losses = co.losses(x)
        if reduction != 'none' and losses.dtype in _CASCADED and _cascades(x.ndim, co, x.dtype):
            out = _cascade_out(losses, co, reduction, x.dtype)
        else:
            out = _index_out(losses, co, reduction, t.shape, x.dtype)
        r = record(_node('nll', _nll_name(x.ndim, reduction)), (input, target, weight), out,
                   ctx=(co, reduction, x.shape, x.dtype))
        if r.grad_fn is not None:   # PyTorch differentiates the input only: one edge
            r.grad_fn.next_functions = r.grad_fn.next_functions[:1]
        return r
    except (AttributeError, TypeError):
        check_tensor_args('nll_loss', 'input', 'target', 'weight?')
        raise


# -- binary cross entropy -------------------------------------------------------------------------------------
def _clamped_log(a):
    with np.errstate(divide='ignore'):
        return np.maximum(np.log(a), -100)


def _bce_logs(x):
    """log(x) and log(1 - x), each clamped at -100. Float32/64 as PyTorch's kernel, std::log(x) and std::log1p(-x):
    glibc's logf/log1pf under the exact kernels, NumPy's in the input's dtype otherwise (float32 BCE values a step off
    in 200k: log(1 - x) 27024, log1p(-x) 15377, both in float64 rounded once 5279 at 20x the cost, glibc's 0); others
    log(1 - x) in their dtype."""
    if x.dtype == np.float32 and _exact.enabled():
        f = x.reshape(-1)
        logs = (libm_loop(libm_f32('logf'), f, np.log).reshape(x.shape),
                libm_loop(libm_f32('log1pf'), -f, np.log1p).reshape(x.shape))
    elif x.dtype in (np.float32, np.float64):
        with np.errstate(divide='ignore'):
            logs = np.log(x), np.log1p(-x)
    else:
        return _clamped_log(x), _clamped_log(1 - x)
    return tuple(np.maximum(v, x.dtype.type(-100)) for v in logs)


def _bce_backward(self, g):
    x, t, w, red = self.ctx
    gs = _grad_scale(g, red, x.size)
    wv = 1.0 if w is None else w
    gx = gt = None
    if self.need[0]:
        d = g * (x - t) / np.maximum((1 - x) * x, x.dtype.type(1e-12))
        gx = _weighted_mean(d, w, red, x.size).astype(x.dtype, copy=False)
    if self.need[1]:
        with np.errstate(divide='ignore'):   # PyTorch: -logit(x), unclamped (+-inf at x = 0 or 1)
            nl = (-np.log(x.astype(np.float64) / (1 - x.astype(np.float64)))).astype(x.dtype)
        gt = dual.sum_to(wv * nl * gs, t.shape).astype(t.dtype, copy=False)
    return gx, gt, None


def _bce_ref(ctx, x, t, w):
    red = ctx[3]
    loss = -(t * ops.clamp(ops.log(x), min=-100) + (1 - t) * ops.clamp(ops.log(1 - x), min=-100))
    if w is not None:
        loss = loss * w
    return _reduce(loss, red)


class BinaryCrossEntropyBackward0(fused('BinaryCrossEntropyBackward0', _bce_backward, _bce_ref)):
    """BCE's node; under create_graph its gradient is PyTorch's formula in ember ops, w (x - t) / max((1 - x) x,
    1e-12): re-deriving the clamped logs gave 0 * inf = NaN where a sigmoid saturated at exactly 1."""
    __slots__ = ()

    def graph_backward(self, grads):
        (g,) = grads
        x, t, w = self.saved()
        gs = _grad_scale(g, self.ctx[3], x.numel())
        wv = 1.0 if w is None else w
        gx = wv * (x - t) / ops.clamp((1 - x) * x, min=1e-12) * gs if self.need[0] else None
        gt = (-wv * ops.logit(x) * gs).sum_to_size(t.shape) if self.need[1] else None
        return gx, gt, None


def _guarded(out, *tensors):
    """``out``, its node guarding ``tensors`` (see Node.guard): PyTorch's loss node saves them (ember's reads arrays)."""
    if out.grad_fn is not None:
        out.grad_fn.guard(*tensors)
    return out


@_autocast.fp32
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction='mean'):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x, logs clamped at -100 like PyTorch."""
    try:
        reduction = _reduction(reduction, size_average, reduce)
        if target.shape != input.shape:
            raise ValueError(f'Using a target size ({target.shape}) that is different to the input size '
                             f'({input.shape}) is deprecated. Please ensure they have the same size.')
        x, t = input._data, target._data
        if t.dtype != x.dtype:
            raise RuntimeError(f'Found dtype {scalar_name(t.dtype)} but expected {scalar_name(x.dtype)}')
        need_float(input, 'binary_cross_entropy')
        if ((x < 0) | (x > 1)).any() or np.isnan(x).any():
            raise RuntimeError('all elements of input should be between 0 and 1')
        if ((t < 0) | (t > 1)).any():
            raise RuntimeError('all elements of target should be between 0 and 1')
        w = None
        if weight is not None:
            if GRAD.enabled and weight.requires_grad:
                raise RuntimeError("The function 'binary_cross_entropy' is not differentiable with respect to argument "
                                   "'weight'. This input cannot have requires_grad True.")
            w = weight._data.astype(x.dtype, copy=False)
            np.broadcast_shapes(w.shape, x.shape)
        log_x, log_1mx = _bce_logs(x)
        loss = (t - 1) * log_1mx - t * log_x   # PyTorch's order: its signed zeros
        if w is not None:
            loss = loss * w
        out = _reduce_arr(loss.astype(x.dtype, copy=False), reduction)
        return _guarded(record(BinaryCrossEntropyBackward0, (input, target, weight), out, ctx=(x, t, w, reduction)),
                        input, target, weight)
    except Exception:
        check_tensor_args('binary_cross_entropy', 'input', 'target', 'weight?')
        raise


def _softplus_neg(x):
    """log(1 + exp(-x)) without overflow."""
    return _softplus_arr(-x)


def _sigmoid(x):
    """1 / (1 + exp(-x)) in x's dtype: the default mode's cheap sigmoid (pointwise._sigmoid's float64 exp costs ~13x
    NumPy's float32 exp: 200k values 0.15 -> 1.97 ms; it puts 4% of values a step off PyTorch's, this 17%)."""
    with np.errstate(over='ignore'):
        return 1.0 / (1.0 + np.exp(-x))


def _bcel_backward_low(self, g):
    """binary_cross_entropy_with_logits' input and target gradients in float16/bf16: PyTorch's backward formulas
    with each op's tensor rounded ((sigmoid(x) - t) * g * w / n; -x * g * w / n)."""
    x, t, w, pw, red, xd, td = self.ctx
    q, f = dual.rounder(xd), dual.wide
    xf, gf = f(x), f(g)
    wf = None if w is None else f(w)

    def finish(d):
        d = q(d * gf)
        d = d if wf is None else q(d * wf)
        return dual.narrow(d / np.float32(x.size) if red == 'mean' else d, xd)
    gx = gt = None
    if self.need[0]:
        sig = q(1 / (1 + np.exp(-xf.astype(np.float64)).astype(np.float32)))
        if pw is None:
            d = q(sig - f(t))
        else:
            tt = q(f(pw) * f(t))
            d = q(q(q(q(tt + 1) - f(t)) * sig) - tt)
        gx = finish(d)
    if self.need[1]:
        if pw is None:
            gt = finish(-xf)
        else:
            gt = finish(q(q(f(_log_sigmoid_arr(-x))) - q(q(f(_log_sigmoid_arr(x))) * f(pw))))
    return gx, gt


def _bcel_backward(self, g):
    x, t, w, pw, red, xd, td = self.ctx
    low = dual.is_low(x) and xd == td and dual.is_array(g)
    gx, gt = _bcel_backward_low(self, g) if low else (None, None)
    gs = _grad_scale(g, red, x.size)
    wv = 1.0 if w is None else w
    sp = None
    gw = gpw = None
    if self.need[0] and not low:
        s = _vec_exp.sigmoid(x) if _vec_exp.applies(x) else _sigmoid(x)
        if pw is None:
            d = s - t
        else:
            pt = pw * t
            d = (pt + 1 - t) * s - pt
        gx = dual.sum_to(_weighted_mean(d * g, w, red, x.size), x.shape).astype(xd, copy=False)
    if self.need[1] or self.need[3]:
        sp = _softplus_neg(x)
    if self.need[1] and not low:
        dt = -x if pw is None else -x + (pw - 1) * sp
        gt = dual.sum_to(dt * wv * gs, t.shape).astype(td, copy=False)
    if self.need[2]:
        gw = dual.sum_to(_bcel_loss(x, t, pw) * gs, w.shape).astype(w.dtype, copy=False)
    if self.need[3]:
        gpw = dual.sum_to(t * sp * wv * gs, pw.shape).astype(pw.dtype, copy=False)
    return gx, gt, gw, gpw


def _bcel_loss(x, t, pw):
    """(1 - t) x - log_sigmoid(x) (its log_sigmoid weighted by (pw - 1) t + 1), PyTorch's formula and roundings."""
    r = dual.r16    # (bf16: each op's tensor rounded, as PyTorch's composite forward)
    ls = r(_log_sigmoid_arr(x))
    if pw is None:
        return r(r(r(1 - t) * x) - ls)
    return r(r(r(1 - t) * x) - r(r(r(r(pw - 1) * t) + 1) * ls))


def _bcel_ref(ctx, x, t, w, pw):
    red = ctx[4]
    sp = ops.log1p(ops.exp(-ops.abs(x))) + ops.clamp(-x, min=0)
    loss = (1 - t) * x + (sp if pw is None else ((pw - 1) * t + 1) * sp)
    if w is not None:
        loss = loss * w
    return _reduce(loss, red)


BinaryCrossEntropyWithLogitsBackward0 = fused('BinaryCrossEntropyWithLogitsBackward0', _bcel_backward, _bcel_ref,
                                              checks=(0, 1, 2, 3))


@_autocast.fp32
@_quiet.rerun
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction='mean',
                                     pos_weight=None):
    """Sigmoid + binary cross entropy in one stable fused node (finite for any logit)."""
    try:
        reduction = _reduction(reduction, size_average, reduce)
        if target.shape != input.shape:
            raise ValueError(f'Target size ({target.shape}) must be the same as input size ({input.shape})')
        _not_differentiable('binary_cross_entropy_with_logits', weight=weight, pos_weight=pos_weight)
        x, t = input._data, target._data
        xd, td = x.dtype, t.dtype
        need_float(input, 'log_sigmoid_cpu')
        if td != xd and td.kind != 'f':     # PyTorch writes the result in the target's dtype
            raise RuntimeError(f"result type {scalar_name(xd)} can't be cast to the desired output type "
                               f"{scalar_name(td)}")
        w = None if weight is None else weight._data.astype(x.dtype, copy=False)
        pw = None if pos_weight is None else pos_weight._data.astype(x.dtype, copy=False)
        loss = _bcel_loss(x, t, pw)     # mixed dtypes: the softplus in the input's dtype, the rest promoted
        if w is not None:
            loss = dual.r16(loss * w)
        loss = np.asarray(loss)
        out = _reduce_arr(loss.astype(np.promote_types(xd, td), copy=False), reduction).astype(td, copy=False)
        return record(BinaryCrossEntropyWithLogitsBackward0, (input, target, weight, pos_weight), out,
                      ctx=(x, t, w, pw, reduction, xd, td))
    except Exception:
        check_tensor_args('binary_cross_entropy_with_logits', 'input', 'target', 'weight?')
        raise


# -- soft margin (fused), kl div and the composed losses -------------------------------------------------------
def _soft_margin_backward(self, g):
    x, y, red = self.ctx
    z = np.exp(-y * x)      # z / (1 + z) as PyTorch's formula: NaN where exp(-y x) overflows (its sigmoid would be 1)
    s = z / (1 + z) * _grad_scale(g, red, x.size)
    gx = dual.sum_to(-y * s, x.shape).astype(x.dtype, copy=False) if self.need[0] else None
    gy = dual.sum_to(-x * s, y.shape).astype(y.dtype, copy=False) if self.need[1] else None
    return gx, gy


def _soft_margin_ref(ctx, x, y):
    z = -y * x
    return _reduce(ops.log1p(ops.exp(-ops.abs(z))) + ops.clamp(z, min=0), ctx[2])


SoftMarginLossBackward0 = fused('SoftMarginLossBackward0', _soft_margin_backward, _soft_margin_ref)


def _soft_margin_arr(z):
    """log1p(exp(z)), as PyTorch computes it in the input's dtype: inf where exp(z) overflows there (float16 from
    z > 11.09, float32 from 88.72), the overflow-free softplus elsewhere."""
    out = _softplus_arr(z)
    over = z > math.log(np.finfo(np.float32 if z.dtype.itemsize == 4 else z.dtype).max)
    if over.any():
        out = np.where(over, np.inf, out).astype(out.dtype, copy=False)
    return out


@_autocast.fp32
@_quiet.rerun
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """log(1 + exp(-y x)) for targets y in {-1, 1}."""
    try:
        reduction = _reduction(reduction, size_average, reduce)
        _not_differentiable('soft_margin_loss', target=target)
        x = input._data
        if x.dtype.kind in 'biu':   # PyTorch's kernel writes its float loss into a tensor of the input's dtype
            raise RuntimeError(f"result type Float can't be cast to the desired output type {scalar_name(x.dtype)}")
        y = target._data.astype(x.dtype, copy=False)
        if x.shape != y.shape:
            try:
                np.broadcast_shapes(x.shape, y.shape)
            except ValueError:
                raise broadcast_mismatch([x.shape, y.shape]) from None
        out = _reduce_arr(_soft_margin_arr(-y * x), reduction)
        return _guarded(record(SoftMarginLossBackward0, (input, target), out, ctx=(x, y, reduction)), input, target)
    except (AttributeError, TypeError):
        check_tensor_args('soft_margin_loss', 'input', 'target')
        raise


@_autocast.fp32
def kl_div(input, target, size_average=None, reduce=None, reduction='mean', log_target=False):
    """KL divergence with ``input`` given as log-probabilities (and target too when log_target)."""
    try:
        if size_average is not None or reduce is not None:
            reduction = legacy_get_string(size_average, reduce)
        if reduction == 'mean':
            warn_user("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.")
        if reduction not in ('none', 'mean', 'sum', 'batchmean'):
            raise ValueError(f'{reduction} is not a valid value for reduction')
        if input._data.dtype.kind in 'biu' or target._data.dtype.kind in 'biu':
            raise RuntimeError('kl_div: Integral inputs not supported.')
        if log_target:
            loss = ops.exp(target) * (target - input)
        else:
            loss = ops.xlogy(target, target) - target * input     # NaN for a negative target, as PyTorch
        if reduction == 'batchmean':
            return ops.sum(loss) / input.shape[0] if input.dim() != 0 else ops.sum(loss)
        return _reduce(loss, reduction)
    except (AttributeError, TypeError):
        check_tensor_args('kl_div', 'input', 'target')
        raise


@_autocast.fp32
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction='mean'):
    """1 - cos(x1, x2) for y = 1, max(0, cos(x1, x2) - margin) for y = -1."""
    try:
        reduction = _reduction(reduction, size_average, reduce)
        d = input1.dim() - 1
        eps = 1e-12
        prod = ops.sum(input1 * input2, d)
        m1 = ops.sum(input1 * input1, d) + eps
        m2 = ops.sum(input2 * input2, d) + eps
        cos = prod / ops.sqrt(m1 * m2)
        zeros = ops.zeros_like(cos)
        pos = ops.where(target == 1, 1 - cos, zeros)
        neg = ops.where(target == -1, ops.clamp(cos - margin, min=0), zeros)
        return _reduce(pos + neg, reduction)
    except (AttributeError, TypeError):
        check_tensor_args('cosine_embedding_loss', 'input1', 'input2', 'target')
        raise


@_autocast.fp32
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction='mean'):
    """max(0, -y (x1 - x2) + margin)."""
    reduction = _reduction(reduction, size_average, reduce)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f'margin_ranking_loss : All input tensors should have same dimension but got sizes: '
                           f'input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ')
    # (margin added as the double PyTorch's kernel takes: integer inputs give a float loss)
    return _reduce(ops.clamp_min(-target * (input1 - input2) + float(margin), 0), reduction)


@_autocast.fp32
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction='mean'):
    """x for y = 1, max(0, margin - x) for y = -1."""
    reduction = _reduction(reduction, size_average, reduce)
    try:
        zeros = ops.zeros_like(input)
        out = ops.where(target != 1, ops.clamp(margin - input, min=0), zeros) + ops.where(target != -1, input, zeros)
    except (AttributeError, TypeError):
        check_tensor_args('hinge_embedding_loss', 'input', 'target')
        raise
    return _reduce(out, reduction)


@_autocast.fp32
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction='mean'):
    """Negative log likelihood of a Poisson target (input is the log-rate when log_input)."""
    reduction = _reduction(reduction, size_average, reduce)
    if log_input:
        loss = ops.exp(input) - target * input
    else:
        loss = input - target * ops.log(input + eps)
    if full:
        big = target > 1
        safe = ops.where(big, target, 1.0)
        stirling = target * ops.log(safe) - target + 0.5 * ops.log(safe * (2 * math.pi))
        loss = loss + ops.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


@_quiet.rerun
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction='mean'):
    """Negative log likelihood of a Gaussian target with predicted mean ``input`` and variance ``var``."""
    try:
        if isinstance(var, (int, float)):
            var = ops.full_like(input, float(var))
        if tuple(var.shape) != tuple(input.shape):
            if tuple(input.shape[:-1]) == tuple(var.shape):
                var = ops.unsqueeze(var, -1)
            elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
                raise ValueError('var is of incorrect size')
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(reduction + ' is not valid')
        if (var._data < 0).any():
            raise ValueError('var has negative entry/entries')
        with no_grad():
            shift = Tensor._make(np.maximum(var._data, eps) - var._data)
        var = var + shift
        loss = 0.5 * (ops.log(var) + (input - target) ** 2 / var)
        if full:
            loss = loss + 0.5 * math.log(2 * math.pi)
        return _reduce(loss, reduction)
    except AttributeError:
        check_tensor_args('gaussian_nll_loss', 'input', 'target', 'var')
        raise


def _pairwise(x1, x2, p, eps):
    return ops.vector_norm(x1 - x2 + eps, p, dim=-1)


@_autocast.fp32
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction='mean'):
    """max(0, d(a, p) - d(a, n) + margin) with p-norm distances."""
    reduction = _reduction(reduction, size_average, reduce)
    d_ap = _pairwise(anchor, positive, p, eps)
    d_an = _pairwise(anchor, negative, p, eps)
    if swap:
        d_an = ops.minimum(d_an, _pairwise(positive, negative, p, eps))
    return _reduce(ops.clamp_min(margin + d_ap - d_an, 0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction='mean'):
    """Triplet loss with a custom distance (pairwise L2 by default)."""
    dist = distance_function or (lambda a, b: _pairwise(a, b, 2.0, 1e-6))
    d_ap, d_an = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_an = ops.minimum(d_an, dist(positive, negative))
    return _reduce(ops.clamp_min(margin + d_ap - d_an, 0), _reduction(reduction))


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction='mean'):
    """Per-class binary logistic loss averaged over classes."""
    reduction = _reduction(reduction, size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    d = input.dim() - 1
    loss = ops.sum(loss, d) / input.shape[d]
    return _reduce(loss, reduction)


@_autocast.fp32
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction='mean'):
    """Multi-class hinge loss: sum over j != y of max(0, margin - x_y + x_j)^p / C."""
    try:
        reduction = _reduction(reduction, size_average, reduce)
        if p not in (1, 2):
            raise ValueError('only p == 1 and p == 2 supported')
        if target._data.dtype != np.int64:
            raise RuntimeError(f'expected scalar type Long but found {scalar_name(target._data.dtype)}')
        _check_weight_dtype('multi_margin_loss', weight, input._data)
        if forward_refusal.SOURCES:   # PyTorch has no forward-mode formula (a tangent on weight included)
            forward_refusal.refuse('multi_margin_loss', input, weight)
        if weight is not None and weight.requires_grad and GRAD.enabled:
            raise RuntimeError("The function 'multi_margin_loss' is not differentiable with respect to argument "
                               "'weight'. This input cannot have requires_grad True.")
        _refuse_half(input, 'multi_margin_loss_cpu_kernel')
        return _guarded(_composite.composite(MultiMarginLossBackward0, _multi_margin, (input,), target=target, p=p,
                                             margin=margin, weight=weight, reduction=reduction), target)
    except (AttributeError, TypeError):
        check_tensor_args('multi_margin_loss', 'input', 'target', 'weight?')
        raise


def _refuse_half(input, kernel):
    """PyTorch's NotImplementedError for a float16/bfloat16 input of a loss whose CPU kernel has no half loops."""
    if input.dtype in (_dtype.float16, _dtype.bfloat16):
        raise not_implemented(kernel, input.dtype)


MultiMarginLossBackward0 = _composite.node_class('MultiMarginLossBackward0')
MultilabelMarginLossBackward0 = forward_refusal.refusing(_composite.node_class('MultilabelMarginLossBackward0'),
                                                         'multilabel_margin_loss_forward')


def _multi_margin(input, target, p, margin, weight, reduction):
    x = input if input.dim() == 2 else input.reshape(1, -1)   # (a 0-d input: one class)
    t = target.reshape(-1)
    C = x.shape[1]
    xy = ops.gather(x, 1, ops.unsqueeze(t, 1))
    z = x - xy + margin
    # PyTorch's kernel adds the terms with z > 0 of the other classes (none through a margin of exactly 0, a NaN
    # or the target's own inf - inf): selected, not multiplied by a mask, which kept their NaN
    keep = (z._data > 0) & (np.arange(C)[None, :] != t._data[:, None])
    z = ops.where(Tensor._make(keep), z, 0.0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * ops.unsqueeze(weight[t], 1)
    loss = ops.sum(z, 1) / C
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


@_autocast.fp32
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """Hinge loss between every target class (indices in ``target``, ended by -1) and every other class."""
    try:
        reduction = _reduction(reduction, size_average, reduce)
        _check_multilabel_shapes(input._data.shape, target._data.shape)
        _refuse_half(input, 'multilabel_margin_loss_forward_out_frame')
        return _guarded(_composite.composite(MultilabelMarginLossBackward0, _multilabel_margin, (input,),
                                             target=target, reduction=reduction), target)
    except (AttributeError, TypeError):
        check_tensor_args('multilabel_margin_loss', 'input', 'target')
        raise


def _check_multilabel_shapes(xs, ts):
    """PyTorch's multilabel_margin_loss shape checks: a non-empty vector or matrix (or a 0-d input), and a target
    of its shape (ember read any target of as many elements per row, or of other rows, without a word)."""
    from ...ops._util import fmt_shape
    if not (len(xs) == 2 and xs[1] or len(xs) == 1 and xs[0] or not xs):
        raise RuntimeError(f'Expected non-empty vector or matrix with optional 0-dim batch size, but got: '
                           f'{fmt_shape(xs)}')
    size = int(np.prod(ts))
    if (len(ts) > 1 or size != (xs[0] if xs else 1)) if len(xs) <= 1 else ts != xs:
        raise RuntimeError(f'inconsistent target size: {fmt_shape(ts)} for input of size: {fmt_shape(xs)}')


def _multilabel_margin(input, target, reduction):
    x = input if input.dim() == 2 else input.reshape(1, -1)   # (a 0-d input: one class)
    t = target._data.reshape(x.shape[0], x.shape[1] if x.shape[0] == 0 else -1)
    C = x.shape[1]
    valid = np.cumprod(t >= 0, axis=1).astype(bool)
    tc = np.where(valid, t, 0)
    is_target = np.zeros((x.shape[0], C), bool)
    rows = np.repeat(np.arange(x.shape[0]), t.shape[1])
    is_target[rows[valid.reshape(-1)], tc[valid]] = True
    xt = ops.gather(x, 1, Tensor._make(tc.astype(np.int64)))
    # relu, not clamp(min=0): PyTorch's kernel sends no gradient through a margin of exactly 0 (integer ties)
    margins = ops.unsqueeze(x, 1) - ops.unsqueeze(xt, 2) + 1.0
    # the terms with a margin above 0 (as multi_margin's: a NaN or inf - inf adds nothing), selected
    keep = (margins._data > 0) & valid[:, :, None] & ~is_target[:, None, :]
    loss = ops.sum(ops.where(Tensor._make(keep), margins, 0.0), (1, 2)) / C
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)
