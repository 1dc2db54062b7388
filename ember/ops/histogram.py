"""``torch.histc`` and ``torch.histogram``: PyTorch's CPU histogram kernel (equal-width bins from linspace
edges in the input's dtype, the bin found by one division in that dtype; histogram then corrects it against
the edges, histc does not), its edge rules and errors."""
import math
from collections import namedtuple

import numpy as np

from .. import _bf16, _quiet
from .._dtype import scalar_name, cpp_name, from_np
from ..autograd.grad_mode import GRAD
from ..tensor import Tensor
from ._util import undifferentiable, check_tensor_args
from .creation import _linspace
from .reduction import return_types


class histogram_result(namedtuple('histogram', ['hist', 'bin_edges'])):
    """``torch.return_types.histogram``, printed as PyTorch prints it."""
    __slots__ = ()

    def __repr__(self):
        return f'torch.return_types.histogram(\nhist={self.hist!r},\nbin_edges={self.bin_edges!r})'


return_types.histogram = HistogramResult = histogram_result
# PyTorch records the op but has no derivative for it
HistogramBackward = undifferentiable('NotImplemented', 'derivative for aten::histogram is not implemented',
                                     'torch::autograd::NotImplemented')
def _type_name(dt):
    """The C++ name of a NumPy dtype (bfloat16's array dtype included) in PyTorch's histogram errors."""
    return cpp_name(from_np(dt))


def _rounder(dt):
    """Rounding to ``dt`` after each step, for the float32 work arrays of bfloat16/float16 inputs (PyTorch's
    kernel computes in the input's type)."""
    if _bf16.is_bf16(dt):
        return _bf16.round_f32
    if dt == np.float16:
        return lambda v: np.asarray(v).astype(np.float16).astype(np.float32)
    return lambda v: v


def _count(x, edges, weight, local_search, dt=None):
    """Bin counts of the flat float array ``x`` over the linear-progression ``edges`` (PyTorch's
    LINEAR_INTERPOLATION kernel, each step in ``dt``; ``local_search`` checks the neighbouring edges as
    torch.histogram does)."""
    n = len(edges) - 1
    keep, pos = _positions(x, edges, local_search, dt)
    w = None if weight is None else weight[keep]
    return np.bincount(pos, weights=w, minlength=n)[:n]


def _positions(x, edges, local_search, dt=None):
    """(kept, bin): which elements of ``x`` fall in [edges[0], edges[-1]] and the bin of each kept one."""
    n = len(edges) - 1
    lo, hi = edges[0], edges[-1]
    keep = (x >= lo) & (x <= hi)   # drops NaN too
    v = x[keep]
    r = _rounder(dt if dt is not None else x.dtype)
    with np.errstate(all='ignore'):
        pos = r(r(r(v - lo) * r(v.dtype.type(n))) / r(hi - lo)).astype(np.int64)
    if local_search:
        pos = np.clip(pos, 0, n)
        lower = np.maximum(pos - 1, 0)
        # upper_bound over edges[lower : pos + 2]: the last edge <= v among those
        cand = np.stack([lower, lower + 1, lower + 2], -1)
        inside = cand < np.minimum(pos + 2, n + 1)[:, None]
        le = inside & (edges[np.minimum(cand, n)] <= v[:, None])
        pos = lower + le.sum(-1) - 1
    return keep, np.where(pos >= n, n - 1, pos)


def _check_float(a, kernel, low=True):
    """PyTorch's dispatch error for a non-float input (``low=False``: for bfloat16 and float16 too)."""
    if a.dtype.kind != 'f' or (not low and (_bf16.is_bf16(a.dtype) or a.dtype == np.float16)):
        name = 'BFloat16' if _bf16.is_bf16(a.dtype) else scalar_name(a.dtype)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')


def _work(a):
    """The array the kernel computes in: bfloat16 and float16 in float32 (the counts rounded back once)."""
    return a.astype(np.float32) if _bf16.is_bf16(a.dtype) or a.dtype == np.float16 else a


def _edges(lo, hi, bins, dt):
    """linspace(lo, hi, bins + 1) in ``dt`` (bfloat16 rounded as a tensor of that dtype holds it)."""
    e = _linspace(lo, hi, bins + 1, dt)
    return _bf16.adopt(e) if _bf16.is_bf16(dt) else e


@_quiet.rerun
def histc(input, bins=100, min=0, max=0):
    """Counts of ``input`` in ``bins`` equal-width bins over [min, max] (the data's range when min == max);
    elements outside the range and NaN are ignored. Not differentiable (PyTorch records nothing)."""
    a = input._data
    _check_float(a, 'histogram_cpu')
    if bins <= 0:
        raise RuntimeError(f'torch.histogram(): bins must be > 0, but got {bins} for dimension 0')
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(np.min(a)), float(np.max(a))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f'torch.histc: range of [{_num(lo)}, {_num(hi)}] is not finite')
    if not lo < hi:
        raise RuntimeError('torch.histc: max must be larger than min')
    edges = _work(_edges(lo, hi, bins, a.dtype))
    return Tensor._make(np.asarray(_count(_work(a).reshape(-1), edges, None, False, a.dtype), a.dtype))


def _num(v):
    return '-nan' if math.isnan(v) else ('inf' if v == math.inf else '-inf' if v == -math.inf else f'{v:g}')


@_quiet.rerun
def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """(hist, bin_edges): counts (or weights, or a density) of ``input`` in ``bins`` equal-width bins over
    ``range`` (default: the data's range), or in the bins whose edges the 1-D tensor ``bins`` gives."""
    try:
        a = input._data
        _check_float(a, 'histogramdd')
        x = a.reshape(-1)
        w = None
        if weight is not None:
            if weight._data.dtype != a.dtype:
                raise RuntimeError('torch.histogramdd: if weight tensor is provided, input tensor and weight tensor should '
                                   f'have the same dtype, but got input({_type_name(a.dtype)}), and '
                                   f'weight({_type_name(weight._data.dtype)})')
            if weight._data.size != x.size or weight._data.ndim > 1 and weight._data.shape != a.shape:
                raise RuntimeError('torch.histogramdd: if weight tensor is provided it should have the same shape as the '
                                   'input tensor excluding its innermost dimension, but got input with shape '
                                   f'[{x.size}, 1] and weight with shape [{", ".join(map(str, weight._data.shape))}]')
            w = weight._data.reshape(-1)
        if isinstance(bins, Tensor):
            if range is not None:
                raise TypeError('histogram(): range= is accepted only with an int bins (with a tensor of bin edges '
                                'the edges give the range), as in PyTorch')
            edges = _edges_given(a, bins._data)
            hist = _binary_search(_work(x), _work(edges), None if w is None else _work(w))
        else:
            if bins <= 0:
                raise RuntimeError(f'torch.histogram(): bins must be > 0, but got {bins} for dimension 0')
            edges = _edges(*_outer(x, range), int(bins), a.dtype)
            hist = _count(_work(x), _work(edges), None if w is None else _work(w), True, a.dtype)
        hist = hist.astype(_work(a).dtype)
        if density:
            hist = (hist / hist.dtype.type(hist.sum(dtype=hist.dtype))) / np.diff(_work(edges))
        needs = GRAD.enabled and (input._requires_grad or (weight is not None and weight._requires_grad))
        hist, edges = np.asarray(hist, a.dtype), edges.copy()
        if not needs:
            return HistogramResult(Tensor._make(hist), Tensor._make(edges))
        node = HistogramBackward((input, weight))
        node._out_meta = [(hist.shape, hist.dtype), (edges.shape, edges.dtype)]
        outs = [Tensor._make(hist, node), Tensor._make(edges, node)]
        outs[1]._output_nr = 1
        return HistogramResult(*outs)
    except Exception:
        check_tensor_args('histogram', 'input', 'bins#')
        raise


def _outer(x, range, dim=0):
    """The leftmost and rightmost edges: ``range``, else the data's min and max (0 and 1 when empty),
    widened by 0.5 each way when equal (as numpy.histogram)."""
    if range is not None:
        if len(range) != 2:
            raise RuntimeError(f'torch.histogramdd: for a 1-dimensional histogram range should have 2 elements, but '
                               f'got {len(range)}')
        lo, hi = float(range[0]), float(range[1])
    elif x.size:
        _check_float(x, 'histogramdd', low=False)   # PyTorch's aminmax dispatch there lacks bfloat16/float16
        lo, hi = float(np.min(x)), float(np.max(x))
    else:
        lo, hi = 0., 1.
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histogramdd: dimension {dim}'s range [{_num(lo)}, {_num(hi)}] is not finite")
    if lo > hi:
        raise RuntimeError(f'torch.histogramdd: min should not exceed max, but got min {_num(lo)} max {_num(hi)} for '
                           f'dimension {dim}')
    return (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)


def _edges_given(a, e, dim=0):
    if e.dtype != a.dtype:
        raise RuntimeError('torch.histogramdd: input tensor and bins tensors should have the same dtype, but got '
                           f'input with dtype {_type_name(a.dtype)} and bins for dimension {dim} with dtype '
                           f'{_type_name(e.dtype)}')
    if e.ndim != 1:
        raise RuntimeError('torch.histogramdd: bins tensor should have one dimension, but got '
                           f'{e.ndim} dimensions in the bins tensor for dimension {dim}')
    if e.size == 0:
        raise RuntimeError('torch.histogramdd: bins tensor should have at least 1 element, but got 0 elements in '
                           f'the bins tensor for dimension {dim}')
    if e.size == 1:
        raise RuntimeError(f'torch.histogram(): bins must be > 0, but got 0 for dimension {dim}')
    return e


def _binary_search(x, edges, w):
    """PyTorch's BINARY_SEARCH kernel for arbitrary (increasing) edges; the last bin includes its right edge."""
    n = len(edges) - 1
    keep, pos = _search_positions(x, edges)
    return np.bincount(pos, weights=None if w is None else w[keep], minlength=n)[:n]


def _search_positions(x, edges):
    """(kept, bin) for arbitrary increasing ``edges``, as _positions."""
    n = len(edges) - 1
    keep = (x >= edges[0]) & (x <= edges[-1])
    pos = np.searchsorted(edges, x[keep], side='right') - 1
    return keep, np.where(pos >= n, n - 1, pos)


class histogramdd_result(namedtuple('histogramdd', ['hist', 'bin_edges'])):
    """``torch.return_types.histogramdd``, printed as PyTorch prints it."""
    __slots__ = ()

    def __repr__(self):
        return f'torch.return_types.histogramdd(\nhist={self.hist!r},\nbin_edges={self.bin_edges!r})'


return_types.histogramdd = histogramdd_result
HistogramddBackward = undifferentiable('NotImplemented', 'derivative for aten::_histogramdd_from_bin_cts is not '
                                       'implemented', 'torch::autograd::NotImplemented')


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges) of the points in the rows of ``input`` (..., D): ``bins`` an int for every dimension, D
    ints, or D tensors of edges; ``range`` [lo0, hi0, lo1, hi1, ...]; each dimension binned by histogram's kernel."""
    try:
        a = input._data
        _check_float(a, 'histogramdd')
        d = a.shape[-1] if a.ndim else 1
        x = _work(a.reshape(-1, d))
        if isinstance(bins, int):
            bins = [bins] * d
        if len(bins) != d:
            raise RuntimeError(f'torch.histogramdd: expected {d} sequences of bin edges for each of the {d} dimensions '
                               f'of the input, but got {len(bins)}')
        if range is not None and len(range) != 2 * d:
            raise RuntimeError(f'torch.histogramdd: for a {d}-dimensional histogram range should have {2 * d} elements, '
                               f'but got {len(range)}')
        keep, idx, edges = np.ones(len(x), bool), [], []
        for k, b in enumerate(bins):
            if isinstance(b, Tensor):
                e = _edges_given(a, b._data, k)
                kept, pos = _search_positions(x[:, k], _work(e))
            else:
                if b <= 0:
                    raise RuntimeError(f'torch.histogramdd(): bins must be > 0, but got {b} for dimension {k}')
                r = None if range is None else range[2 * k:2 * k + 2]
                e = _edges(*_outer(a.reshape(-1, d)[:, k], r, k), int(b), a.dtype)
                kept, pos = _positions(x[:, k], _work(e), True, a.dtype)
            full = np.zeros(len(x), np.int64)
            full[kept] = pos
            keep &= kept
            idx.append(full)
            edges.append(e)
        shape = tuple(len(e) - 1 for e in edges)
        flat = np.ravel_multi_index([i[keep] for i in idx], shape) if len(x) else np.zeros(0, np.int64)
        w = None
        if weight is not None:
            w = _work(weight._data).reshape(-1)[keep]
        hist = np.bincount(flat, weights=w, minlength=int(np.prod(shape))).reshape(shape).astype(_work(a).dtype)
        if density:
            hist = hist / hist.dtype.type(hist.sum(dtype=hist.dtype))
            for k, e in enumerate(edges):
                hist = hist / np.diff(_work(e)).reshape((-1,) + (1,) * (d - 1 - k))
        hist, edges = np.asarray(hist, a.dtype), [e.copy() for e in edges]
        if not (GRAD.enabled and (input._requires_grad or (weight is not None and weight._requires_grad))):
            return histogramdd_result(Tensor._make(hist), tuple(Tensor._make(e) for e in edges))
        node = HistogramddBackward((input, weight))     # recorded, not differentiable, as PyTorch's
        node._out_meta = [(o.shape, o.dtype) for o in [hist] + edges]
        outs = [Tensor._make(o, node) for o in [hist] + edges]
        for k, o in enumerate(outs):
            o._output_nr = k
        return histogramdd_result(outs[0], tuple(outs[1:]))
    except (AttributeError, TypeError):
        check_tensor_args('histogramdd', 'input')
        raise
