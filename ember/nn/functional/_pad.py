"""``pad``: constant padding (negative amounts crop) by slice assignment, and reflect / replicate /
circular padding as a gather with one index vector per padded dim (its backward sums the gradient back
through the same indices)."""
import numpy as np

from ...autograd import dual
from ...autograd.grad_mode import GRAD
from ...autograd.graph import Node
from ...ops._util import not_implemented
from ...tensor import Tensor

__all__ = ['pad']

_MODES = ('constant', 'reflect', 'replicate', 'circular')


def _pairs(pad, ndim):
    """((before, after) per padded dim, ...) ordered from the first padded dim to the last."""
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError('Padding length must be divisible by 2')
    if len(pad) // 2 > ndim:
        raise RuntimeError(f'Padding length should be less than or equal to two times the input dimension but '
                           f'got padding length {len(pad)} and input of dimension {ndim}')
    return [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)][::-1]


def _constant_arr(a, pairs, value):
    k = len(pairs)
    lead = a.shape[:a.ndim - k]
    shape = list(lead)
    src, dst = [slice(None)] * len(lead), [slice(None)] * len(lead)
    for n, (lo, hi) in zip(a.shape[a.ndim - k:], pairs):
        m = n + lo + hi
        shape.append(m)
        src.append(slice(max(-lo, 0), n - max(-hi, 0)))
        dst.append(slice(max(lo, 0), m - max(hi, 0)))
    out = np.full(shape, value, a.dtype) if value else np.zeros(shape, a.dtype)
    out[tuple(dst)] = a[tuple(src)]
    return out


def _index(mode, n, lo, hi):
    i = np.arange(-lo, n + hi)
    if mode == 'reflect':
        i = np.abs(i)
        return np.where(i > n - 1, 2 * (n - 1) - i, i)
    if mode == 'replicate':
        return np.clip(i, 0, n - 1)
    start, stop = max(-lo, 0), n - max(-hi, 0)   # circular: crop the negative amounts first, then wrap what is
    m = stop - start                              # left (PyTorch's _pad_circular fills the ends from the centre)
    if m <= 0:
        return np.arange(start, max(stop, start))
    return start + np.arange(-max(lo, 0), m + max(hi, 0)) % m


class ConstantPadNdBackward0(Node):
    """Backward of constant padding: the gradient cropped (or zero-padded where the forward cropped)."""
    __slots__ = ('pad',)

    def backward(self, g):
        neg = tuple(-p for p in self.pad)
        if dual.is_array(g):
            return _constant_arr(g, _pairs(neg, g.ndim), 0)
        return pad(g, neg)


class _GatherPadBackward(Node):
    """Backward of reflect/replicate/circular padding: sum the gradient back through each dim's indices."""
    __slots__ = ('idx', 'sizes')

    def backward(self, g):
        k = len(self.idx)
        for j, (idx, n) in enumerate(zip(self.idx, self.sizes)):
            g = _scatter_axis(g, idx, n, g.ndim - k + j)
        return g


def _scatter_axis(g, idx, n, axis):
    if dual.is_array(g):
        shape = list(g.shape)
        shape[axis] = n
        out = np.zeros(shape, g.dtype)
        np.add.at(out, (slice(None),) * axis + (idx,), g)
        return out
    onehot = np.zeros((len(idx), n), g._data.dtype)
    onehot[np.arange(len(idx)), idx] = 1
    return (g.movedim(axis, -1) @ Tensor._make(onehot)).movedim(-1, axis)


_NODES = {}


def _node_class(mode, k):
    name = {'reflect': f'ReflectionPad{k}DBackward0', 'replicate': f'ReplicationPad{k}DBackward0',
            'circular': 'torch::autograd::CopySlices'}[mode]
    cls = _NODES.get(name)
    if cls is None:
        cls = _NODES[name] = type(name, (_GatherPadBackward,), {'__slots__': ()})
    return cls


def _check_gather(mode, a, pairs, npad):
    k = len(pairs)
    if k > 3 or a.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f'Padding size {npad} is not supported for {a.ndim}D input tensor.\nSupported combinations for '
            'non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads last dimension)\n  - 3D or 4D input: '
            'padding size = 4 (pads last 2 dimensions)\n  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)')
    if mode != 'circular' and a.dtype.kind == 'b':
        raise not_implemented(f'{"reflection" if mode == "reflect" else "replication"}_pad{k}d', a.dtype)
    if mode != 'circular' and 0 in a.shape[a.ndim - k - 1:]:
        raise RuntimeError(f'Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other '
                           f'non-zero dimensions for input, but got: [{", ".join(map(str, a.shape))}]')
    for j, (n, (lo, hi)) in enumerate(zip(a.shape[a.ndim - k:], pairs)):
        dim = a.ndim - k + j
        if mode == 'reflect' and (lo >= n or hi >= n):
            raise RuntimeError(f'Argument #4: Padding size should be less than the corresponding input dimension, but '
                               f'got: padding ({lo}, {hi}) at dimension {dim} of input '
                               f'[{", ".join(map(str, a.shape))}]')
        if mode == 'circular' and (lo > n or hi > n):
            raise RuntimeError('Padding value causes wrapping around more than once.')


def pad(input, pad, mode='constant', value=None):
    """Pad the last len(pad)//2 dims; ``pad`` lists (before, after) amounts starting from the last dim."""
    if mode not in _MODES:
        raise NotImplementedError(f'Unrecognised padding mode {mode}')
    a = input._data
    pairs = _pairs(pad, a.ndim)
    if mode == 'constant':
        for j, (n, (lo, hi)) in enumerate(zip(a.shape[a.ndim - len(pairs):], pairs)):
            if n + lo + hi < 0:
                raise RuntimeError(f'The input size {n}, plus negative padding {lo} and {hi} resulted in a negative '
                                   f'output size, which is invalid. Check dimension {a.ndim - len(pairs) + j} of '
                                   'your input.')
        out = _constant_arr(a, pairs, 0 if value is None else value)
        if GRAD.enabled and input._requires_grad:
            node = ConstantPadNdBackward0((input,))
            node.pad = tuple(int(p) for p in pad)
            return Tensor._make(out, node)
        return Tensor._make(out)
    if value:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument.')
    _check_gather(mode, a, pairs, len(pad))
    k = len(pairs)
    sizes = a.shape[a.ndim - k:]
    idx = [_index(mode, n, lo, hi) for n, (lo, hi) in zip(sizes, pairs)]
    out = a[(Ellipsis,) + np.ix_(*idx)]
    if GRAD.enabled and input._requires_grad:
        node = _node_class(mode, k)((input,))
        node.idx, node.sizes = idx, sizes
        return Tensor._make(out, node)
    return Tensor._make(out)
