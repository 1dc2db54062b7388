"""Fractional max pooling (Graham, 2014): windows of a fixed size whose starts step by a random non-integer
amount, one random offset per plane and spatial dim, so that the output has any size below the input's. The
starts follow PyTorch's generate_intervals in the samples' own precision, so the same samples pick the same
windows; the offsets are drawn with ember.rand as PyTorch draws them (the same numbers after manual_seed)."""
import numpy as np

from ... import _bf16
from ...amp import _state as _autocast
from ...autograd import dual
from ...autograd.grad_mode import GRAD
from ...autograd.graph import Node
from ...tensor import Tensor
from . import _pool
from ._pool import _nan_aware_argmax
from ...ops._util import check_tensor_args

__all__ = ['fractional_max_pool2d', 'fractional_max_pool2d_with_indices', 'fractional_max_pool3d',
           'fractional_max_pool3d_with_indices']


class _FractionalBackward(Node):
    """Each output's gradient goes to the input element its window's maximum came from (summed where windows
    overlap, in output order as PyTorch adds them)."""
    __slots__ = ('idx', 'shape')

    def backward(self, g):
        planes = self.idx.shape[0]
        if not dual.is_array(g):
            z = Tensor._make(np.zeros((planes, int(np.prod(self.shape[-self.n:]))), g._data.dtype))
            return z.scatter_add(1, Tensor._make(self.idx), g.reshape(planes, -1)).reshape(self.shape)
        gx = np.zeros((planes, int(np.prod(self.shape[-self.n:]))), g.dtype)
        np.add.at(gx, (np.arange(planes)[:, None], self.idx), g.reshape(planes, -1))
        return gx.reshape(self.shape)


FractionalMaxPool2DBackward0 = type('FractionalMaxPool2DBackward0', (_FractionalBackward,), {'__slots__': (), 'n': 2})
FractionalMaxPool3DBackward0 = type('FractionalMaxPool3DBackward0', (_FractionalBackward,), {'__slots__': (), 'n': 3})


def _starts(sample, n_in, n_out, k):
    """(planes, n_out) window starts from each plane's offset ``sample`` in [0, 1): int((i + u) alpha) -
    int(u alpha) with alpha = (n_in - k) / (n_out - 1), in the samples' dtype; the last window ends the input."""
    starts = np.empty((sample.shape[0], n_out), np.int64)
    if n_out > 1:
        if _bf16.is_bf16(sample.dtype):     # c10::BFloat16 rounds after each operation
            r, sample, t = _bf16.round_f32, _bf16.to_f32(sample), np.float32
        else:                               # float16/32/64 round natively
            r, t = (lambda v: v), sample.dtype.type
        alpha = r(r(t(n_in - k)) / r(t(n_out - 1)))
        i = r(np.arange(n_out - 1).astype(t))
        starts[:, :-1] = r(r(i + sample[:, None]) * alpha).astype(np.int64) - \
            r(sample * alpha).astype(np.int64)[:, None]
    if n_out > 0:
        starts[:, -1] = n_in - k
    return starts


def _sizes(x, n, kernel_size, output_size, output_ratio, name):
    """(kernel, output size) tuples of n ints, from output_size or output_ratio as PyTorch's Python layer does."""
    tup = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,) * n   # noqa: E731
    if output_size is None and output_ratio is None:
        raise ValueError(f'{name} requires specifying either an output_size or an output_ratio')
    if output_size is None:
        # the 2-D form takes len() of the ratio (a bare number: TypeError, as in PyTorch); the 3-D form does not
        if n == 2 and len(output_ratio) > n:
            raise ValueError(f'{name} requires output_ratio to either be a single Int or tuple of Ints.')
        ratio = tup(output_ratio)
        output_size = [int(x.shape[-n + i] * ratio[i]) for i in range(n)]
    return tup(kernel_size), tup(output_size)


def _check(x, n, k, o, samples, name):
    """PyTorch's checks, in its order and words (which differ between its 2-D and 3-D kernels)."""
    ints = 'Ints' if n == 2 else 'three Ints'
    if len(k) != n:
        raise RuntimeError(f'{name}: kernel_size must either be a single Int or tuple of {ints}')
    if len(o) != n:
        raise RuntimeError(f'{name}: output_size must either be a single Int or tuple of {ints}')
    if min(k) < 1:
        raise RuntimeError(f'{name}: ember needs a positive kernel_size, got {k}')
    where = f'{name}()' if n == 2 else f'{name}_out()'
    if x.ndim not in (n + 1, n + 2):
        raise RuntimeError(f'{where}: Expected {n + 1}D or {n + 2}D tensor, but got: {list(x.shape)}')
    for d in range(x.ndim - n - 1, x.ndim):
        if x.shape[d] == 0:
            raise RuntimeError(f'{where}: Expected input to have non-zero size for non-batch dimensions, but got'
                               f'{list(x.shape)} with dimension {d} being empty.')
    if n == 2:
        if samples.ndim != 3:
            raise RuntimeError(f'Expect _random_samples to have 3 dimensions, got {samples.ndim}')
        if samples.shape[1] != x.shape[-3]:
            raise RuntimeError('Expect _random_samples.size(1) equals to input channel size.')
    if samples.ndim != 3 or samples.shape[2] != n:
        raise RuntimeError(f'Expect _random_samples.size(2) equals to {n}; got {samples.shape[-1]}.')
    if samples.shape[0] < (1 if x.ndim == n + 1 else x.shape[0]) or samples.shape[1] < x.shape[-n - 1]:
        raise RuntimeError(f'{name}: _random_samples {list(samples.shape)} has fewer rows than the input has '
                           f'samples or channels ({list(x.shape)})')
    for d, (size, ki, oi) in enumerate(zip(x.shape[-n:], k, o)):
        # the 2-D kernel lets the last window end the input; the 3-D one wants it to end before
        if oi + ki - 1 > size or (n == 3 and oi + ki - 1 == size):
            what = ('time', 'height', 'width')[d + 3 - n]
            raise RuntimeError(f'{where}: pool {what} {ki} too large relative to input {what} {size}')


def _fractional(input, n, kernel_size, output_size, output_ratio, _random_samples, name, node_cls):
    """(output, flat indices) of an n-D fractional max pool over the last n dims of ``input``."""
    from ... import rand
    x = input._data
    k, o = _sizes(x, n, kernel_size, output_size, output_ratio, name)
    if _random_samples is None:
        if x.ndim < n + 1:      # PyTorch's Python layer reads input.size(-n - 1) first
            raise IndexError(f'Dimension out of range (expected to be in range of [{-x.ndim}, {x.ndim - 1}], but '
                             f'got {-n - 1})')
        _random_samples = rand(1 if x.ndim == n + 1 else x.shape[0], x.shape[-n - 1], n, dtype=input.dtype)
    u = _random_samples._data
    _check(x, n, k, o, u, name)
    spatial = x.shape[-n:]
    planes = x.reshape(-1, int(np.prod(spatial)))
    u = u[:1 if x.ndim == n + 1 else x.shape[0], :x.shape[-n - 1]].reshape(-1, n)
    order = (1, 0) if n == 2 else (0, 1, 2)      # PyTorch's sample order: (W, H) for 2-D, (T, H, W) for 3-D
    # each window's flat positions in its plane, (planes, *o, *k): the per-dim starts plus offsets, broadcast
    flat_win = 0
    for d in range(n):
        pos = _starts(u[:, order[d]], spatial[d], o[d], k[d])[:, :, None] + np.arange(k[d])
        shape = (pos.shape[0],) + tuple(o[d] if e == d else 1 for e in range(n)) + \
            tuple(k[d] if e == d else 1 for e in range(n))
        flat_win = flat_win + pos.reshape(shape) * int(np.prod(spatial[d + 1:]))
    flat_win = np.broadcast_to(flat_win, (planes.shape[0],) + tuple(o) + tuple(k)).reshape(
        (planes.shape[0],) + tuple(o) + (-1,))
    win = np.take_along_axis(planes.reshape((-1,) + (1,) * n + planes.shape[1:]), flat_win, -1)
    am = _nan_aware_argmax(win)
    out = np.take_along_axis(win, am[..., None], -1)[..., 0]
    flat = np.take_along_axis(flat_win, am[..., None], -1)[..., 0]
    oshape = x.shape[:-n] + tuple(o)
    idx = flat.reshape(planes.shape[0], -1)
    if GRAD.enabled and input._requires_grad:
        node = node_cls((input,))
        node.idx, node.shape = idx, x.shape
        res = Tensor._make(out.reshape(oshape), node)
    else:
        res = Tensor._make(out.reshape(oshape))
    return res, Tensor._make(flat.reshape(oshape))


@_autocast.fp32
def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """(output, indices) of 2-D fractional max pooling; indices are flat positions in each H*W plane."""
    try:
        return _fractional(input, 2, kernel_size, output_size, output_ratio, _random_samples, 'fractional_max_pool2d',
                           FractionalMaxPool2DBackward0)
    except (AttributeError, TypeError):
        check_tensor_args('fractional_max_pool2d_with_indices', 'input')
        raise


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """2-D fractional max pooling over (N, C, H, W) or (C, H, W); ``return_indices`` adds the indices."""
    r = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio, return_indices,
                                           _random_samples)
    return r if return_indices else r[0]


@_autocast.fp32
def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """(output, indices) of 3-D fractional max pooling; indices are flat positions in each T*H*W volume."""
    try:
        return _fractional(input, 3, kernel_size, output_size, output_ratio, _random_samples, 'fractional_max_pool3d',
                           FractionalMaxPool3DBackward0)
    except (AttributeError, TypeError):
        check_tensor_args('fractional_max_pool3d_with_indices', 'input')
        raise


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """3-D fractional max pooling over (N, C, T, H, W) or (C, T, H, W); ``return_indices`` adds the indices."""
    r = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio, return_indices,
                                           _random_samples)
    return r if return_indices else r[0]


for _name in __all__:
    globals()[_name] = _pool.saving_input(globals()[_name])
