"""3-D pooling over (N, C, D, H, W) or (C, D, H, W) input: ``max_pool3d``, ``avg_pool3d`` and
``adaptive_avg_pool3d``, each a loop over the window's offsets (strided slices), recorded as PyTorch's
MaxPool3DWithIndicesBackward0, AvgPool3DBackward0 and AdaptiveAvgPool3DBackward0, and differentiable again
(their *BackwardBackward0 nodes: see _Twice)."""
import itertools
import math

import numpy as np

from ... import _layout, _quiet
from ...amp import _state as _autocast
from ...autograd import dual
from ...autograd.grad_mode import GRAD
from ...autograd.graph import Node
from ...ops._util import not_implemented, check_tensor_args
from ...tensor import Tensor
from . import _pool
from ._pool import _low, int_mean, need_tensor

__all__ = ['max_pool3d', 'max_pool3d_with_indices', 'avg_pool3d', 'adaptive_avg_pool3d', 'adaptive_max_pool3d', 'adaptive_max_pool3d_with_indices',
           'lp_pool3d', 'max_unpool3d']


def _plain(a):
    """bfloat16/float16 as native float32 (summed in float and rounded once, as PyTorch)."""
    return np.asarray(a, np.float32) if a.dtype.kind == 'f' and a.dtype.itemsize < 4 or \
        (a.dtype.kind == 'f' and not a.dtype.isnative) else a


def _triple(v, name):
    v = (int(v),) * 3 if isinstance(v, (int, np.integer)) else tuple(int(i) for i in v)
    if len(v) == 1:
        v = v * 3
    if len(v) != 3:
        raise RuntimeError(f'{name} must either be a single int, or a tuple of three ints')
    return v


def _five(input, name):
    """The input as 5-D arrays, and whether it was unbatched."""
    need_tensor(input, name)
    x = input._data
    if x.ndim not in (4, 5):
        raise RuntimeError(f'{name}: Expected 4D or 5D tensor for input, but got: {list(x.shape)}')
    return (x[None], True) if x.ndim == 4 else (x, False)


def _out_len(n, k, s, p, d, ceil):
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, name):
    k = _triple(kernel_size, 'kernel_size')
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _triple(stride, 'stride')
    p, d = _triple(padding, 'padding'), _triple(dilation, 'dilation')
    if any(si <= 0 for si in s):
        raise RuntimeError('stride should be greater than zero, but got dT: {} dH: {} dW: {}'.format(*s))
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise RuntimeError(f'{name}: pad should be smaller than or equal to half of kernel size, but got '
                           f'padT = {p[0]}, padW = {p[2]}, padH = {p[1]}, kT: {k[0]} kW: {k[2]} kH: {k[1]}')
    out = tuple(_out_len(n, ki, si, pi, di, ceil_mode) for n, ki, si, pi, di in zip(x.shape[2:], k, s, p, d))
    if any(o <= 0 for o in out):
        raise RuntimeError(f'Given input size: ({"x".join(map(str, x.shape[1:]))}). Calculated output size: '
                           f'({x.shape[1]}x{"x".join(map(str, out))}). Output size is too small')
    return k, s, p, d, out


def _pads(shape, k, s, p, d, out):
    """(before, after) padding of each spatial dim: p before, and after enough for every window (ceil_mode
    windows may pass the end)."""
    return [(pi, max(0, (o - 1) * si + di * (ki - 1) + 1 - n - pi)) for n, ki, si, pi, di, o in
            zip(shape[2:], k, s, p, d, out)]


def _padded(x, k, s, p, d, out, fill):
    """x padded with ``fill`` so that every window lies inside; x itself when no window passes its edges."""
    pads = _pads(x.shape, k, s, p, d, out)
    if not any(a or b for a, b in pads):
        return x
    return np.pad(x, [(0, 0), (0, 0)] + pads, constant_values=fill)


def _taps(k, s, d, out):
    for idx in itertools.product(*(range(ki) for ki in k)):
        yield idx, (Ellipsis,) + tuple(slice(i * di, i * di + si * (o - 1) + 1, si)
                                       for i, di, si, o in zip(idx, d, s, out))


def _finish(y, node, unbatched):
    return Tensor._make(y[0] if unbatched else y, node)


def _batched(g):
    """The gradient as 5-D (an unbatched input's node receives it 4-D)."""
    return g if g.ndim == 5 else g[None]


# -- double backward ---------------------------------------------------------------------------------------------
class _Twice(Node):
    """A pooling's input gradient under create_graph=True (edges: the upstream gradient g, the input). The
    gradient is linear in g with coefficients that do not depend on the input, so its own gradient is the
    pooling's adjoint applied to the incoming one (``again``: the pooling itself, or a gather at the maxima's
    indices, in ember ops so that every further order records too) and zero for the input (PyTorch's
    zeros_like(self))."""
    __slots__ = ('again', 'shape')

    def backward(self, h):
        if dual.is_array(h):
            return self.again(Tensor._make(h))._data, np.zeros(self.shape, h.dtype)
        return self.again(h), dual.zeros(self.shape, h)


def _twice_class(name):
    return type(name, (_Twice,), {'__slots__': ()})


def _recorded(node, g, grad_of, again):
    """The input gradient ``grad_of(g array)`` as a Tensor whose node (node's name + Backward0) differentiates it
    by ``again``."""
    x, = node.saved()
    twice = _TWICE[type(node).__name__]((g, x))
    twice.again, twice.shape = again, tuple(x.shape)
    return Tensor._make(grad_of(g._data), twice)


def _gather_maxima(idx, unbatched):
    """The adjoint of a max pooling's backward: the values of h at each window's maximum (idx flat per plane)."""
    def again(h):
        n, c = idx.shape[:2]
        hb = h.unsqueeze(0) if unbatched else h
        out = hb.reshape(n * c, -1).gather(1, Tensor._make(idx.reshape(n * c, -1))).reshape(idx.shape)
        return out[0] if unbatched else out
    return again


# -- max ---------------------------------------------------------------------------------------------------------
class MaxPool3DWithIndicesBackward0(Node):
    """Each output's gradient goes to the input element its window's maximum came from."""
    __slots__ = ('idx', 'shape')

    def backward(self, g):
        if not dual.is_array(g):
            return (_recorded(self, g, self._grad, _gather_maxima(self.idx, g.ndim == 4)),)
        return (self._grad(g),)

    def _grad(self, g):
        """Each output's gradient added at its maximum's index (plane offsets made global, one bincount; np.add.at
        took 3x as long on (2, 8, 16, 32, 32) with 2x2x2 windows)."""
        n, c = self.shape[:2]
        size = int(np.prod(self.shape[2:]))
        flat = (self.idx.reshape(n * c, -1) + (np.arange(n * c) * size)[:, None]).ravel()
        gx = np.bincount(flat, _batched(g).reshape(-1), n * c * size).astype(g.dtype, copy=False)
        return gx.reshape(self.shape if g.ndim == 5 else self.shape[1:])


def _window_max(xp, dims, k, s, p, d, out):
    """(maxima, plane indices) of the windows of the padded xp over an input of spatial ``dims``, by PyTorch's
    kernel's rule: the first maximum among ties, and NaN wins (the last NaN of a window). The maxima are one
    np.maximum per window offset (it keeps NaN); the indices then go offset by offset in reverse order to where
    the value equals the maximum, so the first such offset is written last (and, only where a maximum is NaN, in
    order to its NaNs). Per offset a comparison, a select and an index grid plus a constant, where the running
    (v > best) | isnan(v) update made a mask, two selects and three index grids: (4, 64, 16, 28, 28) 2x2x2 windows,
    forward, min of 7 interleaved, one thread: 21.4 -> 11.9 ms; 3x3x3 stride 2 with padding on (2, 32, 8, 56, 56)
    23.4 -> 11.2."""
    taps = list(_taps(k, s, d, out))
    best = xp[taps[0][1]].copy()
    for _, sl in taps[1:]:
        np.maximum(best, xp[sl], out=best)
    first = np.add.outer(np.add.outer((np.arange(out[0]) * s[0] - p[0]) * (dims[1] * dims[2]),
                                      (np.arange(out[1]) * s[1] - p[1]) * dims[2]), np.arange(out[2]) * s[2] - p[2])
    arg = np.empty(best.shape, np.int64)

    def flat(idx):
        return first + ((idx[0] * d[0] * dims[1] + idx[1] * d[1]) * dims[2] + idx[2] * d[2])

    def inside(idx):
        """Which windows have offset idx inside the input (padding equals the maximum of a window of -inf)."""
        rows = [(np.arange(o) * si - pi + i * di) for o, si, pi, i, di in zip(out, s, p, idx, d)]
        return np.logical_and.outer(np.logical_and.outer((rows[0] >= 0) & (rows[0] < dims[0]),
                                                         (rows[1] >= 0) & (rows[1] < dims[1])),
                                    (rows[2] >= 0) & (rows[2] < dims[2]))
    padded = xp.shape[2:] != tuple(dims) or any(p)
    for idx, sl in reversed(taps):
        hit = xp[sl] == best
        if padded:
            hit &= inside(idx)
        np.copyto(arg, flat(idx), where=hit)
    if best.dtype.kind not in 'biu' and np.isnan(best).any():
        for idx, sl in taps:
            np.copyto(arg, flat(idx), where=np.isnan(xp[sl]))
    return best, arg


@_autocast.fp32
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum of each window (NaN wins, the last NaN among several, the first maximum among ties); indices into
    each D*H*W plane."""
    x, unbatched = _five(input, 'max_pool3d')
    k, s, p, d, out = _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, 'max_pool3d')
    if x.dtype == np.bool_:
        raise not_implemented('max_pool3d', x.dtype)
    xp = _padded(x, k, s, p, d, out, _low(x.dtype))
    best, arg = _window_max(xp, x.shape[2:], k, s, p, d, out)
    # a channels-last-3d input's result and indices stay NDHWC, as PyTorch's kernel lays them out
    best, arg = _layout.keep_channels_last(x, best), _layout.keep_channels_last(x, arg)
    node = None
    if GRAD.enabled and input._requires_grad:
        node = MaxPool3DWithIndicesBackward0((input,))
        node.idx, node.shape = arg, x.shape
        node.save(input)
    y = _finish(best, node, unbatched)
    if return_indices:
        return y, Tensor._make(arg[0] if unbatched else arg)
    return y


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# -- average -----------------------------------------------------------------------------------------------------
def _divisors(shape, k, s, p, out, count_include_pad, divisor_override):
    """PyTorch's divide factor of each window: the override, else the window's size within the padded
    input (count_include_pad) or within the input."""
    if divisor_override is not None:
        return np.asarray(float(divisor_override))
    per_axis = []
    for n, ki, si, pi, o in zip(shape, k, s, p, out):
        start = np.arange(o) * si - pi
        end = np.minimum(start + ki, n + pi)
        size = end - start
        if not count_include_pad:
            size = np.minimum(end, n) - np.maximum(start, 0)
        per_axis.append(size)
    return per_axis[0][:, None, None] * per_axis[1][None, :, None] * per_axis[2][None, None, :]


class AvgPool3DBackward0(Node):
    """Each output's gradient, divided by its window's divisor, spread over the window (under create_graph=True
    differentiated again by avg_pool3d itself, with the call's arguments ``args``)."""
    __slots__ = ('geom', 'div', 'shape', 'args')

    def backward(self, g):
        if not dual.is_array(g):
            return (_recorded(self, g, self._grad, lambda h: avg_pool3d(h, *self.args)),)
        return (self._grad(g),)

    def _grad(self, g):
        k, s, p, out = self.geom
        pads = _pads(self.shape, k, s, p, (1, 1, 1), out)
        gp = np.zeros(self.shape[:2] + tuple(n + a + b for n, (a, b) in zip(self.shape[2:], pads)), np.float64)
        share = _batched(g) / self.div
        for _, sl in _taps(k, s, (1, 1, 1), out):
            gp[sl] += share
        crop = tuple(slice(pi, pi + n) for pi, n in zip(p, self.shape[2:]))
        gx = np.ascontiguousarray(gp[(Ellipsis,) + crop]).astype(g.dtype)
        return gx if g.ndim == 5 else gx[0]


@_autocast.fp32
@_quiet.quietly
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each window (divisor as PyTorch's: see _divisors)."""
    x, unbatched = _five(input, 'avg_pool3d')
    if x.dtype.kind != 'f' and x.dtype != np.int64:    # PyTorch's CPU kernel: floating types and Long
        raise not_implemented('avg_pool3d_out_frame', x.dtype)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError('divisor must be not zero')
    k, s, p, _, out = _geometry(x, kernel_size, stride, padding, 1, ceil_mode, 'avg_pool3d')
    t, h, w = x.shape[2:]
    if t < k[0] or h < k[1] or w < k[2]:   # PyTorch's check, padding or not
        raise RuntimeError(f'input image (T: {t} H: {h} W: {w}) smaller than kernel size (kT: {k[0]} kH: {k[1]} '
                           f'kW: {k[2]})')
    xp = _padded(_plain(x), k, s, p, (1, 1, 1), out, 0)
    acc = np.zeros(x.shape[:2] + out, np.float64 if x.dtype.kind == 'f' and x.dtype.itemsize <= 4 else x.dtype)
    for _, sl in _taps(k, s, (1, 1, 1), out):
        acc += xp[sl]
    div = _divisors(x.shape[2:], k, s, p, out, count_include_pad, divisor_override)
    y = int_mean(acc, div) if x.dtype == np.int64 else (acc / div).astype(x.dtype)
    node = None
    if GRAD.enabled and input._requires_grad:
        node = AvgPool3DBackward0((input,))
        node.geom, node.div, node.shape = (k, s, p, out), div, x.shape
        node.args = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
        node.save(input)
    return _finish(y, node, unbatched)


# -- adaptive average ----------------------------------------------------------------------------------------------
def _avg_matrix(n, o):
    """(o, n): row i averages input positions floor(i n / o) .. ceil((i + 1) n / o) - 1."""
    m = np.zeros((o, n))
    for i in range(o):
        a, b = (i * n) // o, math.ceil((i + 1) * n / o)
        m[i, a:b] = 1.0 / (b - a)
    return m


class AdaptiveAvgPool3DBackward0(Node):
    """Each output's gradient spread evenly over its bin (under create_graph=True differentiated again by
    adaptive_avg_pool3d itself to ``size``)."""
    __slots__ = ('mats', 'size')

    def backward(self, g):
        if not dual.is_array(g):
            return (_recorded(self, g, self._grad, lambda h: adaptive_avg_pool3d(h, self.size)),)
        return (self._grad(g),)

    def _grad(self, g):
        a, b, c = self.mats
        gx = np.einsum('ncdhw,dx,hy,wz->ncxyz', _batched(g), a, b, c, optimize=True).astype(g.dtype)
        return gx if g.ndim == 5 else gx[0]


@_autocast.fp32
@_quiet.quietly
def adaptive_avg_pool3d(input, output_size):
    """Average pooling to ``output_size`` (D, H, W; None keeps that size), with PyTorch's bins."""
    try:
        if not isinstance(output_size, (int, np.integer)) and input._data.ndim <= len(output_size):   # PyTorch's Python check
            raise ValueError(f'Input dimension should be at least {len(output_size) + 1}')
        x, unbatched = _five(input, 'adaptive_avg_pool3d')
        if output_size == 1 or (isinstance(output_size, (tuple, list)) and tuple(output_size) == (1, 1, 1)):
            return input.mean(dim=(-3, -2, -1), keepdim=True)   # PyTorch's (MeanBackward1), empty windows giving nan
        size = _triple(output_size, 'output_size') if not isinstance(output_size, (tuple, list)) or None not in \
            output_size else tuple(x.shape[2 + i] if o is None else int(o) for i, o in enumerate(output_size))
        if len(size) != 3:
            raise RuntimeError('adaptive_avg_pool3d: output_size must be 3')
        if any(n == 0 for n in x.shape[2:]):
            raise RuntimeError(f'adaptive_avg_pool3d(): Expected input to have non-zero size for non-batch dimensions, '
                               f'but input has sizes {list(input.shape)} with dimension {input._data.ndim - 3} being '
                               'empty')
        if x.dtype.kind != 'f':
            raise not_implemented('adaptive_avg_pool3d_cpu', x.dtype)
        mats = [_avg_matrix(n, o) for n, o in zip(x.shape[2:], size)]
        y = np.einsum('ncdhw,xd,yh,zw->ncxyz', _plain(x), *mats, optimize=True).astype(x.dtype, order='C')
        if not np.isfinite(y).all():   # an inf or NaN reaches every window through the matrices' zeros
            from ._pool import window_means
            y = window_means(_plain(x), size).astype(x.dtype)
        node = None
        if GRAD.enabled and input._requires_grad:
            node = AdaptiveAvgPool3DBackward0((input,))
            node.mats, node.size = mats, size
            node.save(input)
        return _finish(y, node, unbatched)
    except (AttributeError, TypeError):
        check_tensor_args('adaptive_avg_pool3d', 'input')
        raise


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling: (sum over each window of x^p)^(1/p), composed from avg_pool3d as PyTorch does."""
    from ._pool import _lp_extreme
    r = _lp_extreme(input, norm_type, max_pool3d, kernel_size, stride, ceil_mode)
    if r is not None:
        return r
    k = _triple(kernel_size, 'lp_pool3d')
    out = avg_pool3d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(k[0] * k[1] * k[2]).pow(1.0 / norm_type)


@_autocast.fp32
def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Place each value at its index in a zero (N, C, D, H, W) output (the partial inverse of max_pool3d)."""
    try:
        from ._pool import MaxUnpool3DBackward0, max_unpool
        k = _triple(kernel_size, 'max_unpool3d')
        s = k if stride is None else _triple(stride, 'max_unpool3d')
        return max_unpool(input, indices, k, s, _triple(padding, 'max_unpool3d'), output_size, MaxUnpool3DBackward0)
    except (AttributeError, TypeError):
        check_tensor_args('max_unpool3d', 'input', 'indices')
        raise


AdaptiveMaxPool3DBackward0 = type('AdaptiveMaxPool3DBackward0', (MaxPool3DWithIndicesBackward0,), {'__slots__': ()})


@_autocast.fp32
def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows of the last three dims (None keeps a size); indices flat over the
    volume, the first maximum (a NaN wins, its last one) as PyTorch picks."""
    try:
        from ._pool import _adaptive_index, _nan_aware_argmax
        x = input._data
        if x.dtype.kind != 'f':
            raise not_implemented('adaptive_max_pool3d_cpu', x.dtype)
        if not isinstance(output_size, (int, np.integer)) and x.ndim <= len(output_size):   # PyTorch's Python check
            raise ValueError(f'Input dimension should be at least {len(output_size) + 1}')
        if x.ndim not in (4, 5):
            raise RuntimeError(f'adaptive_max_pool3d(): Expected 4D or 5D tensor, but got: {list(x.shape)}')
        xb, unbatched = (x[None], True) if x.ndim == 4 else (x, False)
        o = (int(output_size),) * 3 if isinstance(output_size, (int, np.integer)) else \
            tuple(xb.shape[2 + i] if v is None else int(v) for i, v in enumerate(output_size))
        if len(o) != 3:
            raise RuntimeError('adaptive_max_pool3d: internal error: output_size.size() must be 3')
        d, h, w = xb.shape[2:]
        i0, i1, i2 = (_adaptive_index(n, m) for n, m in zip((d, h, w), o))
        planes = _plain(xb).reshape((-1, d, h, w))
        win = planes[:, i0[:, None, None, :, None, None], i1[None, :, None, None, :, None],
                     i2[None, None, :, None, None, :]]
        k1, k2 = i1.shape[1], i2.shape[1]
        win = win.reshape(win.shape[:4] + (-1,))
        am = _nan_aware_argmax(win)
        out = np.take_along_axis(win, am[..., None], -1)[..., 0].astype(x.dtype)
        r0, r1, r2 = np.ix_(np.arange(o[0]), np.arange(o[1]), np.arange(o[2]))
        idx = (i0[r0, am // (k1 * k2)] * h + i1[r1, am // k2 % k1]) * w + i2[r2, am % k2]
        full = xb.shape[:2] + o
        node = None
        if GRAD.enabled and input._requires_grad:
            node = AdaptiveMaxPool3DBackward0((input,))
            node.idx, node.shape = idx.reshape(full), xb.shape
            node.save(input)
        res = _finish(out.reshape(full), node, unbatched)
        if return_indices:
            i = idx.reshape(full).astype(np.int64, copy=False)
            return res, Tensor._make(i[0] if unbatched else i)
        return res
    except (AttributeError, TypeError):
        check_tensor_args('adaptive_max_pool3d', 'input')
        raise


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    try:
        return adaptive_max_pool3d(input, output_size, True)
    except (AttributeError, TypeError):
        check_tensor_args('adaptive_max_pool3d_with_indices', 'input')
        raise


_TWICE = {n: _twice_class(n[:-1] + 'Backward0') for n in (
    'MaxPool3DWithIndicesBackward0', 'AvgPool3DBackward0', 'AdaptiveAvgPool3DBackward0', 'AdaptiveMaxPool3DBackward0')}


for _name in ('max_pool3d', 'max_pool3d_with_indices', 'avg_pool3d', 'adaptive_avg_pool3d', 'adaptive_max_pool3d',
              'adaptive_max_pool3d_with_indices'):
    globals()[_name] = _pool.saving_input(globals()[_name])
