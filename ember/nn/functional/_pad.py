"""``pad``: constant padding (negative amounts crop) by slice assignment, and reflect / replicate /
circular padding by slab copies (a gather with one index vector per padded dim where a circular pad crops; the
backward sums the gradient back through the same slabs or indices)."""
import numpy as np

from ...amp import _state as _autocast
from ...autograd import dual
from ...autograd.grad_mode import GRAD
from ...autograd.graph import Node
from ... import _bf16, _dtype, _layout
from ...ops._util import checked_scalar, not_implemented, check_tensor_args
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
    __slots__ = ('idx', 'sizes', 'slabs', 'pairs')

    def backward(self, g):
        if dual.is_low(g) and type(self).__name__.startswith(('Reflection', 'Replication')):
            return _scatter_rounded(g, self.idx, self.sizes)
        if dual.is_low(g) and self.slabs is not None and type(self).__name__.endswith('CopySlices'):
            return _circular_rounded(g, self.pairs, self.sizes)
        if self.slabs is not None and dual.is_array(g):
            return _unslab(g, self.slabs)
        k = len(self.idx)
        for j, (idx, n) in enumerate(zip(self.idx, self.sizes)):
            g = _scatter_axis(g, idx, n, g.ndim - k + j)
        return g


def _scatter_rounded(g, idx, sizes):
    """Reflection/replication backward in float16/bfloat16 as PyTorch's kernel: each output position's gradient
    added onto its source in turn, in output (row-major) order, every add rounded to the dtype."""
    k = len(idx)
    n_in = int(np.prod(sizes))
    src = np.ravel_multi_index(np.ix_(*idx), sizes).reshape(-1)     # source of each output position
    order = np.argsort(src, kind='stable')
    starts = np.searchsorted(src[order], np.arange(n_in))
    rank = np.empty_like(src)
    rank[order] = np.arange(src.size) - starts[src[order]]          # its place among its source's adds
    lead = g.shape[:g.ndim - k]
    gv = np.asarray(g, np.float32).reshape(lead + (-1,))
    bf16 = _bf16.is_bf16(g.dtype)
    acc = np.zeros(lead + (n_in,), np.float32)
    for r in range(int(rank.max()) + 1 if rank.size else 0):
        sel = rank == r
        s = acc[..., src[sel]] + gv[..., sel]
        acc[..., src[sel]] = _bf16.round_f32(s) if bf16 else s.astype(np.float16)
    acc = acc.reshape(lead + tuple(sizes))
    return _bf16.from_f32(acc) if bf16 else acc.astype(np.float16)


def _circular_rounded(g, pairs, sizes):
    """Circular padding's backward in float16/bfloat16 as PyTorch's CopySlices chain gives it (its _pad_circular copies
    the input into the centre, then for the last dim first each end's wrapped slab from inside the result): in reverse,
    each copied slab's gradient moved onto its source slab, one add rounded to the dtype per slab (summed in float32,
    a corner's several contributions were rounded once: 5-16 of 40-72 gradient values a step off)."""
    rnd = dual.rounder(g.dtype)
    acc = np.array(dual.wide(g), np.float32)
    k, nd = len(pairs), acc.ndim
    copies = []
    for j in reversed(range(k)):
        dim, (lo, hi) = nd - k + j, pairs[j]
        m = acc.shape[dim]
        if lo > 0:
            copies.append((dim, slice(0, lo), slice(m - lo - hi, m - hi)))
        if hi > 0:
            copies.append((dim, slice(m - hi, m), slice(lo, lo + hi)))
    for dim, dst, src in reversed(copies):
        at = (slice(None),) * dim
        part = acc[at + (dst,)].copy()
        acc[at + (dst,)] = 0
        acc[at + (src,)] = rnd(acc[at + (src,)] + part)
    centre = tuple(slice(lo, lo + n) for (lo, _), n in zip(pairs, sizes))
    return dual.narrow(np.ascontiguousarray(acc[(Ellipsis,) + centre]), g.dtype)


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


# Reflect / replicate / circular padding without cropping copies the input into the middle of the result, then
# fills each padded dim's borders from the result itself, dim after dim (later dims over the earlier ones' full
# extent, so corners come out as PyTorch's): a few slab copies instead of a gather with np.ix_, and a backward of
# slab adds in reverse instead of np.add.at. Fast-neural-style and CycleGAN pad every conv's input this way. One
# thread, min of 5 (ms), gather+np.add.at -> slabs: reflect 1 of (4, 128, 64, 64) forward 11.4 -> 0.46, backward
# 109 -> 0.65; replicate 3 of (16, 3, 320, 480) 34 -> 2.3, 479 -> 6.0. Values bitwise equal; the backward's sums
# in another order (rounding).
def _border_runs(idx, lo, hi):
    """(dst start, length, src start, step) runs covering the result positions [0, lo) and [len - hi, len) of one
    padded dim, each a source moving by +1, -1 or 0 through the middle (in result positions: input index + lo)."""
    runs, m = [], len(idx)
    for d0, d1 in ((0, lo), (m - hi, m)):
        d = d0
        while d < d1:
            e = d + 1
            step = int(idx[e] - idx[d]) if e < d1 else 1
            if step not in (-1, 0, 1):
                step = 1
            while e < d1 and idx[e] - idx[e - 1] == step:
                e += 1
            runs.append((d, e - d, int(idx[d]) + lo, step))
            d = e
    return runs


def _slab_plan(idx, pairs):
    """Per padded dim: (lo, middle length, hi, border runs) for _slab / _unslab."""
    return [(lo, len(i) - lo - hi, hi, _border_runs(i, lo, hi)) for i, (lo, hi) in zip(idx, pairs)]


def _src(start, length, step):
    if step == 0:
        return slice(start, start + 1)
    if step == 1:
        return slice(start, start + length)
    stop = start - length
    return slice(start, stop if stop >= 0 else None, -1)


def _slab_views(ndim, plan, j, dst, src):
    """Index tuples for dim j's dst/src slabs: earlier dims over their full extent, later dims over their middle."""
    k = len(plan)
    head = (slice(None),) * (ndim - k)
    pre = (slice(None),) * j
    post = tuple(slice(lo, lo + n) for lo, n, _, _ in plan[j + 1:])
    return head + pre + (dst,) + post, head + pre + (src,) + post


def _slab(a, plan):
    """``a`` padded as ``plan`` says (see _slab_plan)."""
    k = len(plan)
    out = np.empty(a.shape[:a.ndim - k] + tuple(lo + n + hi for lo, n, hi, _ in plan), a.dtype)
    out[(Ellipsis,) + _middle(plan)] = a
    for j, (_, _, _, runs) in enumerate(plan):
        for d, length, s, step in runs:
            dst, src = _slab_views(out.ndim, plan, j, slice(d, d + length), _src(s, length, step))
            out[dst] = out[src]
    return out


def _middle(plan):
    return tuple(slice(lo, lo + n) for lo, n, _, _ in plan)


def _unslab(g, plan):
    """The adjoint of _slab: each border slab's gradient added onto its source, dims in reverse, then the middle."""
    g = np.array(g)
    for j in range(len(plan) - 1, -1, -1):
        for d, length, s, step in plan[j][3]:
            dst, src = _slab_views(g.ndim, plan, j, slice(d, d + length), _src(s, length, step))
            axis = g.ndim - len(plan) + j
            g[src] += g[dst].sum(axis, keepdims=True) if step == 0 else g[dst]
    return np.ascontiguousarray(g[(Ellipsis,) + _middle(plan)])


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
    for j in reversed(range(k)):   # the last dim first, as PyTorch checks (its pad argument #4, then #6, #8)
        dim = a.ndim - k + j
        n, (lo, hi) = a.shape[dim], pairs[j]
        if mode == 'reflect' and (lo >= n or hi >= n):
            raise RuntimeError(f'Argument #{4 + 2 * (k - 1 - j)}: Padding size should be less than the corresponding '
                               'input dimension, but '
                               f'got: padding ({lo}, {hi}) at dimension {dim} of input '
                               f'[{", ".join(map(str, a.shape))}]')
        if mode == 'circular' and (lo > n or hi > n):
            raise RuntimeError('Padding value causes wrapping around more than once.')


def _fill_value(value, np_dtype):
    """``value`` as PyTorch's pad takes it: a float (a complex is refused), converted to the input's dtype by its
    checked conversion (-1 for uint8, 200 for int8, inf for an integer type raise 'value cannot be converted')."""
    if isinstance(value, Tensor) and value.dim() == 0:
        value = value.item()
    if isinstance(value, complex) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"pad(): argument 'value' (position 4) must be float, not {type(value).__name__}")
    return checked_scalar(float(value), _dtype.FROM_NP[np_dtype])


def pad(input, pad, mode='constant', value=None):
    """Pad the last len(pad)//2 dims; ``pad`` lists (before, after) amounts starting from the last dim."""
    if _autocast.STATE.enabled and (mode, len(pad) // 2) in _FP32_UNDER_AUTOCAST:
        return _pad_fp32(input, pad, mode, value)
    try:
        if mode not in _MODES:
            raise NotImplementedError(f'Unrecognised padding mode {mode}')
        a = input._data
        pairs = _pairs(pad, a.ndim)
        if mode == 'constant':
            for n, (lo, hi) in zip(a.shape[a.ndim - len(pairs):], pairs):
                if n + min(lo, 0) + min(hi, 0) < 0:   # PyTorch crops (narrow) before it checks the padded size
                    raise RuntimeError('narrow(): length must be non-negative.')
            out = _constant_arr(a, pairs, 0 if value is None else _fill_value(value, a.dtype))
            out = _layout.keep_channels_last(a, out)
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
        slabs = _slab_plan(idx, pairs) if all(lo >= 0 and hi >= 0 for lo, hi in pairs) else None
        out = _slab(a, slabs) if slabs is not None else a[(Ellipsis,) + np.ix_(*idx)]
        if mode != 'circular':   # PyTorch's reflection and replication kernels keep a channels-last layout
            out = _layout.keep_channels_last(a, out)
        if GRAD.enabled and input._requires_grad:
            node = _node_class(mode, k)((input,))
            node.idx, node.sizes, node.slabs, node.pairs = idx, sizes, slabs, pairs
            if mode != 'circular':
                node.guard(input)   # (PyTorch's reflection and replication nodes save the input)
            return Tensor._make(out, node)
        return Tensor._make(out)
    except (AttributeError, TypeError):
        check_tensor_args('pad', 'input')
        raise


# PyTorch's CPU autocast runs these kernels in float32 (its fp32 list: reflection_pad1d/2d, replication_pad1d/2d/3d)
_FP32_UNDER_AUTOCAST = {('reflect', 1), ('reflect', 2), ('replicate', 1), ('replicate', 2), ('replicate', 3)}
_pad_fp32 = _autocast.fp32(pad)
