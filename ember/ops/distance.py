"""``torch.cdist``: p-norm distances between the rows of two batches of matrices, by PyTorch's two paths (the
direct one, CdistBackward0, and for p=2 on more than 25 rows the matrix-product one, EuclideanDistBackward0)."""
import math

import numpy as np

from .. import _dtype, backend
from . import _fused
from ._util import not_implemented, check_tensor_args
from ..autograd import dual, forward_refusal
from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import fmt_shape, undifferentiable
from ..amp import _state as _autocast

_MODES = {'use_mm_for_euclid_dist_if_necessary': 0, 'use_mm_for_euclid_dist': 1, 'donot_use_mm_for_euclid_dist': 2}
_NAMES = {'float32': 'Float', 'float64': 'Double', 'float16': 'Half', 'int64': 'Long', 'int32': 'Int', 'int16': 'Short',
          'int8': 'Char', 'uint8': 'Byte', 'bool': 'Bool'}
CdistBackwardBackward = undifferentiable('CdistBackwardBackward0', "the derivative for '_cdist_backward' is not "
                                         'implemented.')


def _check(a, b, p, compute_mode):
    for name, x in (('X1', a), ('X2', b)):
        if x.dtype.kind != 'f':
            raise RuntimeError(f'cdist only supports floating-point dtypes, {name} got: '
                               f'{_NAMES.get(x.dtype.name, x.dtype.name)}')
    for name, x in (('X1', a), ('X2', b)):
        if x.ndim < 2:
            raise RuntimeError(f'cdist only supports at least 2D tensors, {name} got: {x.ndim}D')
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f'X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: {b.shape[-1]}')
    if a.dtype != b.dtype:
        raise RuntimeError(f'expected scalar type {_NAMES[a.dtype.name]} but found {_NAMES[b.dtype.name]}')
    if not p >= 0:
        raise RuntimeError('cdist only supports non-negative p values')
    if compute_mode is not None and compute_mode not in _MODES:
        raise ValueError(f'{compute_mode} is not a valid value for compute_mode')
    try:
        return np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f'cdist: the batch dims of X1 {fmt_shape(a.shape)} and X2 {fmt_shape(b.shape)} do not '
                           'broadcast') from None


def _pnorm(diff, p):
    """The p-norm over the last dim of the (.., P, R, M) differences (in the inputs' dtype), as PyTorch's kernel
    (other p than 0, 1, 2 and inf in float64)."""
    d = np.abs(diff)
    if p == 0:
        return (d != 0).sum(-1).astype(np.float64)
    if p == 1:
        return _serial_sum(d, d.dtype)
    if p == 2:
        return np.sqrt(_serial_sum(d * d, d.dtype, d))
    d = d.astype(np.float64)
    if math.isinf(p):   # PyTorch's std::max(agg, |diff|) from 0: a NaN difference is passed over
        return np.fmax.reduce(d, axis=-1, initial=0.0)
    return (d ** p).sum(-1) ** (1.0 / p)


def _serial_sum(t, dt, fused=None):
    """Sum over the last dim one term after another from 0, as PyTorch's cdist loop (sequential in the dtype, not
    float64 rounded once: a float32 sum of squares overflows to inf there). With ``fused`` (the differences of a
    2-norm), the terms after the last whole 16 bytes of a row are added as fma(d, d, sum), as PyTorch's compiled
    loop does (measured: float32 rows of 1..101 columns, 0 of 105 distances differ each, float64 too)."""
    m = t.shape[-1]
    if not m:
        return np.zeros(t.shape[:-1], dt)
    body = m // (16 // dt.itemsize) * (16 // dt.itemsize) if fused is not None else m
    acc = np.cumsum(t[..., :body], -1, dtype=dt)[..., -1] if body else np.zeros(t.shape[:-1], dt)
    for k in range(body, m):
        acc = _fused.fma(fused[..., k], fused[..., k], acc, dt)
    return acc


class CdistBackward0(Node):
    """PyTorch's _cdist_backward, for x1 and (transposed) for x2, each summed back to its batch shape."""
    __slots__ = ('p', 'shapes', 'need')

    def backward(self, g):
        x1, x2, res = self.saved()
        if not dual.is_array(g):   # create_graph: PyTorch has no derivative for _cdist_backward
            arrays = self._grads(g._data, x1._data, x2._data, res._data)
            node = CdistBackwardBackward((g, x1, x2))
            return tuple(None if a is None else Tensor._make(a, node) for a in arrays)
        return self._grads(g, x1, x2, res)

    def _grads(self, g, x1, x2, res):
        g1 = _cdist_grad(g, x1, x2, res, self.p, self.shapes[0]) if self.need[0] else None
        g2 = _cdist_grad(np.swapaxes(g, -1, -2), x2, x1, np.swapaxes(res, -1, -2), self.p, self.shapes[1]) \
            if self.need[1] else None
        return g1, g2


def _cdist_grad(g, x1, x2, res, p, shape):
    """d(sum g * cdist(x1, x2)) / d x1, in the inputs' dtype as PyTorch (p=inf compares |diff| with the
    rounded distance)."""
    diff = x1[..., :, None, :] - x2[..., None, :, :]
    g, dist = g[..., None], res[..., None]
    with np.errstate(all='ignore'):
        if p == 0:
            t = np.zeros_like(diff)
        elif p == 1:
            t = g * np.sign(diff)
        elif p == 2:
            t = np.where(dist == 0, 0, g * diff / dist)
        elif math.isinf(p):   # PyTorch's (|diff| == dist) as 1 - min(1, ceil(||diff| - dist|)): NaN at inf - inf
            t = g * np.sign(diff) * (1 - np.minimum(1, np.ceil(np.abs(np.abs(diff) - dist))))
        elif p < 2:
            t = np.where((dist == 0) | ((diff == 0) & (p < 1)), 0,
                         np.sign(diff) * np.abs(diff) ** (p - 1) * g / dist ** (p - 1))
        else:
            t = np.where(dist == 0, 0, diff * np.abs(diff) ** (p - 2) * g / dist ** (p - 1))
    return dual.sum_to(np.asarray(t.sum(-2), x1.dtype), shape)


class EuclideanDistBackward0(Node):
    """PyTorch's _euclidean_dist_backward, written in ops that record their own graph under create_graph."""
    __slots__ = ()

    def backward(self, g):
        x1, x2, res = self.saved()
        ratio = dual.mask(g / dual.where(dual.data(res) == 0, dual.const(1, res), res), dual.data(res) != 0)
        g1 = x1 * ratio.sum(-1, keepdims=True) if dual.is_array(ratio) else x1 * ratio.sum(-1, keepdim=True)
        g1 = g1 - dual.matmul(ratio, x2)
        s2 = ratio.sum(-2)
        g2 = x2 * s2.reshape(tuple(s2.shape) + (1,)) - dual.matmul(ratio.swapaxes(-1, -2) if dual.is_array(ratio)
                                                                  else ratio.mT, x1)
        return g1, g2


def _euclid(a, b):
    """PyTorch's matrix-product form: sqrt(max(|a|^2 + |b|^2 - 2 a.b, 0)) through one padded product."""
    an, bn = (a * a).sum(-1, keepdims=True), (b * b).sum(-1, keepdims=True)
    left = np.concatenate([a * a.dtype.type(-2), an, np.ones_like(an)], -1)
    right = np.concatenate([b, np.ones_like(bn), bn], -1)
    r = backend.gemm(left, np.swapaxes(right, -1, -2))
    return np.sqrt(np.maximum(r, 0)).astype(a.dtype)


@_autocast.fp32
def cdist(x1, x2, p=2.0, compute_mode='use_mm_for_euclid_dist_if_necessary'):
    """Distances ``(*batch, P, R)`` between the rows of x1 ``(*batch, P, M)`` and of x2 ``(*batch, R, M)``."""
    try:
        a, b = x1._data, x2._data
        if x1.dtype in (_dtype.float16, _dtype.bfloat16):   # PyTorch's cdist kernel: float, double (and complex)
            raise not_implemented('cdist', x1.dtype)
        batch = _check(a, b, p, compute_mode)
        mode = _MODES.get(compute_mode, 0)
        r1, r2 = a.shape[-2], b.shape[-2]
        need = GRAD.enabled and (x1._requires_grad or x2._requires_grad)
        if a.size and b.size and p == 2 and (mode == 1 or (mode == 0 and (r1 > 25 or r2 > 25))):
            return _mm_path(x1, x2, batch, need)
        ea, eb = np.broadcast_to(a, batch + a.shape[-2:]), np.broadcast_to(b, batch + b.shape[-2:])
        with np.errstate(all='ignore'):
            r = _pnorm(ea[..., :, None, :] - eb[..., None, :, :], p).astype(a.dtype, order='C')
        if not need:
            return Tensor._make(r)
        node = CdistBackward0((x1, x2))
        node.p, node.shapes, node.need = p, (a.shape, b.shape), (x1._requires_grad, x2._requires_grad)
        out = Tensor._make(r, node)
        node.save(x1, x2)
        node.save_output(out)
        return out
    except (AttributeError, TypeError):
        check_tensor_args('cdist', 'x1', 'x2')
        raise


def _mm_path(x1, x2, batch, need):
    """cdist_impl's matrix-product path: batches expanded and flattened, _euclidean_dist, then a view."""
    from .shape import expand, reshape
    a, b = x1._data, x2._data
    shape = batch + (a.shape[-2], b.shape[-2])
    n = int(np.prod(batch, dtype=np.int64))
    e1 = reshape(expand(x1, batch + a.shape[-2:]), (n,) + a.shape[-2:])
    e2 = reshape(expand(x2, batch + b.shape[-2:]), (n,) + b.shape[-2:])
    r = _euclid(e1._data, e2._data)
    if not need:
        return Tensor._make(r.reshape(shape))
    node = EuclideanDistBackward0((e1, e2))
    out = Tensor._make(r, node)
    node.save(e1, e2)
    node.save_output(out)
    return out.view(shape)


# PyTorch has no forward-mode formula for either of cdist's kernels
forward_refusal.refusing(CdistBackward0, '_cdist_forward')
forward_refusal.refusing(EuclideanDistBackward0, '_euclidean_dist')
