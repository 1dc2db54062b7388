"""Indexed writes and reductions beyond scatter/index_add: index_copy, index_fill, masked_scatter and
scatter_reduce (sum, prod, mean, amax, amin), with PyTorch's gradients; and isin."""
import numpy as np

from .. import _layout, _quiet
from .._dtype import scalar_name
from ..amp import _state as _autocast
from ..autograd import dual
from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import wrap_dim, checked_scalar, check_tensor_args


def _vector_index(index, op, n, dim):
    """The int64 vector ``index`` as an array, checked as PyTorch's index ops check it."""
    ix = index._data if isinstance(index, Tensor) else np.asarray(index)
    if ix.ndim > 1:
        raise IndexError(f'{op}(): Index is supposed to be a vector')
    if ix.dtype != np.int64:
        if op == 'index_fill_':
            raise IndexError('index_fill_(): Expected dtype int64 for index.')
        raise RuntimeError(f'{op}(): Expected a long tensor for index, but got {scalar_name(ix.dtype)}')
    ix = ix.reshape(-1)
    low = -n if op == 'index_fill_' else 0       # (index_copy_ takes no negative index)
    if ix.size and (ix.min() < low or ix.max() >= n):
        bad = int(ix[np.argmax((ix < low) | (ix >= n))])     # the first, as PyTorch's kernels name it
        where = 'index_copy_(): ' if op == 'index_copy_' else ''
        raise IndexError(f'{where}index {bad} is out of bounds for dimension {dim} with size {n}')
    return ix % n if ix.size and ix.min() < 0 else ix


def _at(d, ix):
    return (slice(None),) * d + (ix,)


def _select_rows(g, d, ix):
    if dual.is_array(g):
        return np.take(g, ix, axis=d)
    from .indexing import index_select
    return index_select(g, d, Tensor._make(ix))


def _zero_rows(g, d, ix):
    if dual.is_array(g):
        out = g.copy()
        out[_at(d, ix)] = 0
        return out
    return index_fill(g, d, Tensor._make(ix), 0)


class IndexCopyBackward0(Node):
    """The copied rows take no gradient from the input; the source gets the gradient's rows at ``index``."""
    __slots__ = ('dim', 'index', 'source_0d')

    def backward(self, g):
        gs = _select_rows(g, self.dim, self.index) if g.ndim else g.reshape(1)[self.index]
        return _zero_rows(g, self.dim, self.index) if g.ndim else g * 0, gs.reshape(()) if self.source_0d else gs


@_autocast.promote
def index_copy(input, dim, index, source):
    """``input`` with the rows of ``source`` copied in at ``index`` along ``dim``."""
    try:
        a, src = input._data, source._data
        d = wrap_dim(dim, a.ndim)
        shape = a.shape or (1,)
        ix = _vector_index(index, 'index_copy_', shape[d], d)
        if source.dtype is not input.dtype:   # (bfloat16 shares float32's array dtype)
            raise RuntimeError(f'index_copy_(): self and source expected to have the same dtype, but got (self) '
                               f'{scalar_name(input.dtype)} and (source) {scalar_name(source.dtype)}')
        expect = shape[:d] + (ix.size,) + shape[d + 1:]
        if src.reshape(-1).size != int(np.prod(expect)) or (src.ndim and src.shape != expect[:max(a.ndim, 1)]):
            raise RuntimeError(f'index_copy_(): Source/destination tensor must have same slice shapes. Destination '
                               f'slice shape: {list(shape[:d] + shape[d + 1:])} at dimension {d} and source slice '
                               f'shape: {list(src.shape[:d] + src.shape[d + 1:])} at dimension 0.')
        out = _layout.like_copy(a.reshape(shape))   # (a clone: a transposed input's result stays transposed)
        out[_at(d, ix)] = src.reshape(expect)
        out = out.reshape(a.shape)
        if GRAD.enabled and (input._requires_grad or source._requires_grad):
            node = IndexCopyBackward0((input, source))
            node.dim, node.index, node.source_0d = d, ix, src.ndim == 0
            node.guard(index, source if source._requires_grad else None)
            return Tensor._make(out, node)
        return Tensor._make(out)
    except Exception:
        check_tensor_args('index_copy', 'input', 'index', 'source')
        raise


class IndexFillBackward0(Node):
    """The filled rows take no gradient (a Python number as the value)."""
    __slots__ = ('dim', 'index')

    def backward(self, g):
        return _zero_rows(g, self.dim, self.index) if g.ndim else g * 0


class IndexFillBackward1(IndexFillBackward0):
    """A 0-d tensor as the value: it gets the sum of the filled rows' gradient."""
    __slots__ = ()

    def backward(self, g):
        rows = _select_rows(g, self.dim, self.index) if g.ndim else g.reshape(1)[self.index]
        return IndexFillBackward0.backward(self, g), rows.sum()


def index_fill(input, dim, index, value):
    """``input`` with the rows at ``index`` along ``dim`` set to ``value`` (a number or a 0-d tensor)."""
    try:
        a = input._data
        d = wrap_dim(dim, a.ndim)
        shape = a.shape or (1,)
        ix = _vector_index(index, 'index_fill_', shape[d], d)
        vt = isinstance(value, Tensor)
        if vt and value._data.ndim:
            raise RuntimeError(f'index_fill_ only supports a 0-dimensional value tensor, but got tensor with '
                               f'{value._data.ndim} dimension(s).')
        out = _layout.like_copy(a.reshape(shape))   # (a clone: a transposed input's result stays transposed)
        out[_at(d, ix)] = value._data if vt else checked_scalar(value, input.dtype)   # PyTorch's checked conversion
        out = out.reshape(a.shape)
        if GRAD.enabled and (input._requires_grad or (vt and value._requires_grad)):
            node = (IndexFillBackward1 if vt else IndexFillBackward0)((input, value) if vt else (input,))
            node.dim, node.index = d, ix
            node.guard(index)
            return Tensor._make(out, node)
        return Tensor._make(out)
    except Exception:
        check_tensor_args('index_fill', 'input', 'index', 'value#')
        raise


class MaskedScatterBackward0(Node):
    """Masked positions take no gradient from the input; the source's first elements get theirs in order."""
    __slots__ = ('mask', 'source_shape')

    def backward(self, g):
        mask = np.broadcast_to(self.mask, g.shape)
        n = int(np.prod(self.source_shape))
        if dual.is_array(g):
            gi = np.where(mask, 0, g).astype(g.dtype, copy=False)
            gs = np.zeros(n, g.dtype)
            taken = g[mask]
            gs[:taken.size] = taken
            return gi, gs.reshape(self.source_shape)
        from . import masked_fill, masked_select
        from .shape import cat
        m = Tensor._make(np.asarray(mask, order="C"))
        taken = masked_select(g, m)
        gs = cat([taken, g.new_zeros(n - taken.shape[0])]) if n > taken.shape[0] else taken
        return masked_fill(g, m, 0), gs.reshape(self.source_shape)


def masked_scatter(input, mask, source):
    """``input`` with the positions where ``mask`` is True filled, in order, by the elements of ``source``."""
    try:
        a, m, src = input._data, mask._data, source._data
        if m.dtype != np.bool_:
            raise RuntimeError(f'masked_scatter_ only supports boolean masks, but got mask with dtype '
                               f'{scalar_name(m.dtype)}')
        if src.dtype != a.dtype:
            raise RuntimeError(f'masked_scatter: expected self and source to have same dtypes but got'
                               f'{scalar_name(a.dtype)} and {scalar_name(src.dtype)}')
        try:
            shape = np.broadcast_shapes(a.shape, m.shape)
        except ValueError:
            from ._util import broadcast_mismatch
            raise broadcast_mismatch([a.shape, m.shape]) from None
        if shape != a.shape:     # the out-of-place form broadcasts input against mask (masked_scatter_ cannot grow)
            from .shape import expand
            input = expand(input, shape)
            a = input._data
        full = np.broadcast_to(m, shape)
        k = int(full.sum())
        if k > src.size:
            raise RuntimeError('masked_scatter: expected source to have at least as many elements as the ones in '
                               'mask')
        out = a.copy()
        out[full] = src.reshape(-1)[:k]
        if GRAD.enabled and (input._requires_grad or source._requires_grad):
            node = MaskedScatterBackward0((input, source))
            node.mask, node.source_shape = m, src.shape
            node.guard(mask)
            return Tensor._make(out, node)
        return Tensor._make(out)
    except (AttributeError, TypeError):
        check_tensor_args('masked_scatter', 'input', 'mask', 'source')
        raise


def _guard_reduce(r, input, index, src):
    """``r`` (scatter_reduce's or index_reduce's), its node guarding what PyTorch's saves (its inputs, index and
    result; ember's backward reads the weights it computed)."""
    if r.grad_fn is not None:
        r.grad_fn.guard(input, index, src, outputs=(r,))
    return r


@_quiet.rerun
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``input`` with the elements of ``src`` reduced into the positions ``index`` gives along ``dim``
    (``reduce``: 'sum', 'prod', 'mean', 'amax', 'amin'; ``include_self``: whether input's own values take part)."""
    try:
        from .indexing import (_check_index, _check_index_dtype, _scatter_reduce_core, _refuse_bool, _REDUCES,
                               ScatterReduceBackward0)
        _check_index_dtype(index)   # PyTorch's order: the index's dtype, the source's, then the reduce name
        if src._data.dtype != input._data.dtype:
            raise RuntimeError('scatter(): Expected self.dtype to be equal to src.dtype')
        kind = {'max': 'amax', 'min': 'amin'}.get(reduce, reduce)     # PyTorch still takes the old names
        if kind not in _REDUCES:
            raise RuntimeError(f'reduce argument must be either sum, prod, mean, amax or amin, got {reduce}')
        d = wrap_dim(dim, input._data.ndim)
        _check_index(input, d, index, 'scatter')
        if kind == 'mean':
            _refuse_bool(input, 'scatter_gather_tensor_cpu_reduce_mean')
        r = _scatter_reduce_core(input, d, index._data, src, kind, include_self, ScatterReduceBackward0, reduce)
        return _guard_reduce(r, input, index, src)
    except Exception:
        check_tensor_args('scatter_reduce', 'input', 'index', 'src')
        raise


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each of ``elements`` is among ``test_elements`` (either may be a number)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError('isin() received an invalid combination of arguments - got (' +
                        f'{type(elements).__name__}, {type(test_elements).__name__}), but expected a Tensor')
    e = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    if e.dtype == np.bool_ or t.dtype == np.bool_:
        raise RuntimeError('Unsupported input type encountered for isin(): Bool')
    return Tensor._make(np.isin(e, t, invert=invert))
