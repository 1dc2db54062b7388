"""Indexing: ``t[...]`` (basic, advanced, boolean masks, None, ellipsis) and ``t[...] = v``, plus
gather/scatter/index_select/masked_fill/nonzero, all differentiable where PyTorch's are."""
import functools

import re

import numbers

import numpy as np

from .. import _layout, _meta, _quiet
from .._dtype import SHELL_NP as _SHELL_NP, scalar_name
from .._warn import warn_user
from ..autograd import dual, forward_refusal
from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node
from ..tensor import Tensor
from ._scatter import _FLOATS, add_at, index_add_at, index_add_rows
from ._topk import topk_indices
from ._views import view_of
from ._util import wrap_dim, fmt_shape, undifferentiable, checked_scalar, broadcast_mismatch, check_tensor_args, \
    check_call
from ._composite import composite, node_class
from . import _index_layout


def _convert_index(idx, ndim=None):
    """A NumPy index from a PyTorch one (tensors become arrays; lists become int/bool arrays); ``ndim``, the
    indexed tensor's, reads several ``...`` as PyTorch does."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    dots = 0
    for i in idx:
        if isinstance(i, Tensor):
            a = i._data
            if a.dtype.kind not in 'biu' or a.ndim and a.dtype in _SHELL_NP:   # a 0-d one is read as an int
                raise IndexError('tensors used as indices must be long, int, byte or bool tensors')
            if a.dtype == np.uint8:     # a byte tensor is a mask, as in old PyTorch code (deprecated)
                warn_user('indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead.')
                a = a.astype(np.bool_)
            out.append(a if a.ndim or a.dtype == np.bool_ else int(a))
        elif isinstance(i, (list, tuple)):
            a = np.asarray([x._data if isinstance(x, Tensor) else x for x in i])
            out.append(a.astype(np.int64) if not a.size and a.dtype.kind == 'f' else a)   # [] is an empty long index
        elif isinstance(i, slice):
            for v in (i.start, i.stop, i.step):
                if isinstance(v, Tensor):
                    i = slice(*(int(x) if isinstance(x, Tensor) else x for x in (i.start, i.stop, i.step)))
                    break
            if i.step is not None and i.step <= 0:
                raise ValueError('step must be greater than zero')
            out.append(i)
        elif isinstance(i, np.ndarray) and i.dtype.kind == 'f':
            raise IndexError('tensors used as indices must be long, int, byte or bool tensors')
        else:
            dots += i is Ellipsis
            out.append(i)
    if dots == 1 and ndim is not None:
        return _empty_ellipsis_dropped(tuple(out), ndim)
    return tuple(out) if dots < 2 or ndim is None else _several_ellipses(tuple(out), ndim)


def _empty_ellipsis_dropped(idx, ndim):
    """``idx`` without its ``...`` where that stands for no dim and index arrays are present: PyTorch expands it
    to nothing, so the arrays on either side stay one adjacent group (``x[:, i, ..., j]`` of a 3-d x is
    (n, len(i))-shaped), where NumPy reads the ``...`` as a separator and puts the group first."""
    used, arrays = 0, False
    for i in idx:
        if isinstance(i, np.ndarray):
            arrays = arrays or i.ndim > 0
            used += i.ndim if i.dtype == np.bool_ else 1
        elif i is not None and i is not Ellipsis and not isinstance(i, (bool, np.bool_)):
            used += 1
    if not arrays or used != ndim:
        return idx
    return tuple(i for i in idx if i is not Ellipsis)


def _check_empty_masks(shape, idx):
    """PyTorch's mask shape check for a mask with no elements, which NumPy lets through whatever the indexed
    dims (``x[torch.zeros(0, dtype=torch.bool)]`` of a 3-row x is an IndexError in PyTorch, not an empty result);
    NumPy's own error covers every other mismatch."""
    if not any(isinstance(i, np.ndarray) and i.dtype == np.bool_ and not i.size for i in idx):
        return
    dim, shape = 0, list(shape)   # (PyTorch's message shows the shape with the None dims inserted)
    rest = len(shape) - sum(j.ndim if isinstance(j, np.ndarray) and j.dtype == np.bool_ else 1
                            for j in idx if j is not None and j is not Ellipsis and not isinstance(j, bool))
    for i in idx:
        if i is None or isinstance(i, bool):   # (True/False index no dim: an unsqueeze, as None)
            shape.insert(dim, 1)
            dim += 1
        elif i is Ellipsis:
            dim += rest
        elif isinstance(i, np.ndarray) and i.dtype == np.bool_:
            for k, n in enumerate(i.shape):
                if dim + k < len(shape) and n != shape[dim + k]:
                    raise IndexError(f'The shape of the mask {fmt_shape(i.shape)} at index {k} does not match the '
                                     f'shape of the indexed tensor {fmt_shape(shape)} at index {dim + k}')
            dim += i.ndim
        else:
            dim += 1


def _is_full_slice(i):
    return type(i) is slice and i.start in (None, 0) and i.step in (None, 1)


def _several_ellipses(idx, ndim):
    """PyTorch's reading of an index with several ``...`` (NumPy allows one), as a NumPy index: each ``...``
    skips the dims the other indices leave unspecified, counted afresh each time, so ``x[..., None, ...]`` is
    ``x[..., None]``; an index (other than a full slice) landing past the last dim fails."""
    specified = sum(i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1 for i in idx
                    if i is not None and i is not Ellipsis and not isinstance(i, (bool, np.bool_)))
    skip = ndim - specified
    out, dim, rank = [], 0, ndim        # dim: PyTorch's position in the result so far, of rank dims
    for i in idx:
        if i is Ellipsis:
            out += [slice(None)] * skip
            dim += skip
            continue
        limit = rank + 1 if i is None or isinstance(i, (bool, np.bool_)) else rank
        if dim >= limit and not _is_full_slice(i):
            raise IndexError(f'Dimension out of range (expected to be in range of [{-limit}, {limit - 1}], '
                             f'but got {dim})')
        out.append(i)
        if i is None or isinstance(i, (bool, np.bool_)):
            rank += 1
        elif isinstance(i, (int, np.integer)):
            rank -= 1
            continue
        dim += i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1
    while out and _is_full_slice(out[-1]):     # trailing full slices, even past the last dim, change nothing
        out.pop()
    return tuple(out)


def _basic_name(index, idx, shape):
    """PyTorch's grad_fn name for basic indexing: that of the last view op it applies (a bare slice, even
    ``x[:]``, is a slice; full slices inside a tuple are no-ops)."""
    if type(index) is slice:
        return 'SliceBackward0'
    name = None
    dim = 0
    for i in idx:
        if i is None:
            name = 'UnsqueezeBackward0'
            dim += 1
        elif i is Ellipsis:
            dim += len(shape) - sum(1 for j in idx if j is not None and j is not Ellipsis)
        elif isinstance(i, slice):
            n = shape[dim] if dim < len(shape) else 0
            if not (i.start in (None, 0) and (i.stop is None or i.stop >= n) and i.step in (None, 1)):
                name = 'SliceBackward0'
            dim += 1
        else:
            name = 'SelectBackward0'
            dim += 1
    return name or 'AliasBackward0'


def _is_basic(idx):
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) and not isinstance(i, bool)
               for i in idx)


def _keep_index_versions(node, index):
    """Save the tensors of an advanced index with their versions, so that backward refuses (PyTorch's error) once
    one was changed in place, instead of scattering by the changed values."""
    tensors = [i for i in (index if isinstance(index, tuple) else (index,)) if isinstance(i, Tensor)]
    if tensors:
        node.save(*tensors)


def _index_bw(self, g):
    if self._saved:
        self.saved()   # the index tensors unchanged since the forward (or PyTorch's error)
    if dual.is_array(g):
        out = np.zeros(self.shape, g.dtype)
        if self.basic:
            out[self.idx] = g
        else:
            index_add_at(out, self.idx if len(self.idx) != 1 else self.idx[0], g)
        return out
    return index_put_grad(self.shape, self.idx, g)


_INDEX_NODES = {name: type(name, (Node,), {'__slots__': ('shape', 'idx', 'basic'), 'backward': _index_bw,
                                           '__doc__': 'Backward of indexing: scatter the gradient back.'})
                for name in ('SelectBackward0', 'SliceBackward0', 'UnsqueezeBackward0', 'AliasBackward0',
                             'IndexBackward0')}


def slice_node():
    """The SliceBackward0 class of indexing (narrow and tensor_split record it even for a full slice)."""
    return _INDEX_NODES['SliceBackward0']


def _check_bounds(a, idx):
    dim = 0
    for i in idx:
        if i is None:
            continue
        if i is Ellipsis:
            dim += max(0, a.ndim - sum(1 for j in idx if j is not None and j is not Ellipsis and
                                       not (isinstance(j, np.ndarray) and j.dtype == np.bool_)))
            continue
        if isinstance(i, (int, np.integer)) and dim < a.ndim:
            n = a.shape[dim]
            if not -n <= i < n:
                raise IndexError(f'index {i} is out of bounds for dimension {dim} with size {n}')
        if dim >= a.ndim and not (isinstance(i, np.ndarray) and i.dtype == np.bool_ and i.ndim == 0):
            raise IndexError(f'too many indices for tensor of dimension {a.ndim}')
        dim += i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1


_PLAIN = frozenset((int, type(None)))
_ELLIPSIS = type(Ellipsis)


_SEQUENCE_INDEX = ('Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in '
                   'pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as '
                   'tensor index, x[torch.tensor(seq)], which will result either in an error or a different result')


def _list_as_tuple(index):
    """A list index holding a tensor, sequence, slice, ``...`` or None is read as a tuple (with PyTorch's
    deprecation warning): MONAI's sliding_window_inference indexes with ``inputs[[slice(None), slice(0, 8), ...]]``."""
    if len(index) < 32:
        for i in index:
            if i is None or i is Ellipsis or isinstance(i, (Tensor, slice, list, tuple, range, np.ndarray)):
                warn_user(_SEQUENCE_INDEX)
                return tuple(index)
    return index


def _plain_index(index, ndim):
    """``index`` as a tuple when it is basic and NumPy's already (ints, slices of ints with a positive step,
    None, ...), else None. One pass of exact type checks: ``x[:, -1, :]`` 4.25 -> 3.1 us, ``d[5:69]`` 1.70 -> 1.3."""
    idx = index if type(index) is tuple else (index,)
    dots = 0
    for i in idx:
        t = type(i)
        if t is slice:
            if type(i.start) not in _PLAIN or type(i.stop) not in _PLAIN or \
                    i.step is not None and (type(i.step) is not int or i.step <= 0):
                return None
        elif t not in _PLAIN:
            if t is not _ELLIPSIS:
                return None
            dots += 1
    return idx if dots < 2 else _several_ellipses(idx, ndim)


def rows_at(a, i):
    """``a[i]`` for one index; an integer array on the first dim goes through ndarray.take, the same array as
    NumPy's fancy indexing (and the same IndexError) 3-4x faster: makemore's C[Xb], (27, 24) by (32, 8),
    2.6 -> 0.65 us, (27, 64) by (32, 16) 4.7 -> 1.4 us (min of interleaved runs)."""
    if type(i) is np.ndarray and i.ndim and a.ndim and i.dtype.kind in 'iu':
        return a.take(i, axis=0)
    return a[i]


def _selects_first(idx):
    """``(selects, rest)`` for an advanced index that also holds integers, else None. PyTorch applies each
    integer as a select before the advanced indexing, so only the tensors form the advanced group: ``x[0, :, i]``
    of a (2, 3, 4) x is (3, len(i)), where NumPy, counting the integer in the group, puts i's dims first."""
    ints = arrays = False
    for i in idx:
        if isinstance(i, (np.ndarray, bool, np.bool_)):   # (a True/False index is a size-1/0 advanced index)
            arrays = True
        elif isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
            ints = True
    if not (ints and arrays):
        return None
    first, rest = [], []
    for i in idx:
        if isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
            first.append(i)
        elif i is Ellipsis:
            first.append(i)
            rest.append(i)
        elif i is None or isinstance(i, (bool, np.bool_)):
            rest.append(i)
        else:   # a slice or an index array: one dim each (a bool mask, its ndim dims)
            first += [slice(None)] * (i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1)
            rest.append(i)
    return tuple(first), tuple(rest)


def _advanced_result(a, idx, arr):
    """NumPy's ``a[idx]`` as PyTorch's index allocates it: a copy, laid out as _index_layout says (rows of a
    C-contiguous array by one contiguous index: dense, NumPy's own, checked without the model)."""
    if arr.base is a:
        arr = arr.copy()
    i = idx[0]
    if len(idx) == 1 and a.flags.c_contiguous and type(i) is np.ndarray and i.dtype.kind in 'iu' and \
            i.flags.c_contiguous:
        return arr if arr.flags.c_contiguous else arr.copy()
    return _index_layout.laid_out(a, idx, arr)


def getitem(input, index):
    """``input[index]`` with PyTorch semantics: basic indexing gives a view, advanced a copy."""
    a = input._data
    if type(index) is list:
        index = _list_as_tuple(index)
    idx = _plain_index(index, a.ndim)
    if idx is not None:
        basic = True
    else:
        idx = _convert_index(index, a.ndim)
        basic = _is_basic(idx)
        if not basic and type(a) is _meta.MetaArray and _meta.has_mask(idx):
            raise _meta.refuse()
        split = None if basic else _selects_first(idx)
        if split is not None:
            return getitem(getitem(input, split[0]), split[1])
        if not basic:
            _check_empty_masks(a.shape, idx)
    if basic:
        if not a.ndim and isinstance(index, (int, np.integer)) and not isinstance(index, bool):
            if index:
                raise IndexError(f'index {index} is out of bounds for dimension 0 with size 0')
            raise IndexError('invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` '
                             'in C++ to convert a 0-dim tensor to a number')     # loss.data[0] of old code
        _check_bounds(a, idx)
    try:
        arr = a[idx] if len(idx) != 1 else rows_at(a, idx[0])
    except IndexError as e:
        raise _numpy_index_error(a.shape, idx, e) from None
    if not isinstance(arr, np.ndarray) or basic and not arr.ndim and type(a) is not np.ndarray and \
            not np.may_share_memory(arr, a):
        # a single element: NumPy gives a scalar (a complex array's subclass, a 0-d copy); the view is x[i, ...]
        arr = a[idx + (Ellipsis,)] if basic else np.asarray(arr)
    if not basic:
        arr = _advanced_result(a, idx, arr)
    node = None
    if GRAD.enabled and input._requires_grad:
        name = _basic_name(index, idx, a.shape) if basic else 'IndexBackward0'
        node = _INDEX_NODES[name]((input,))
        node.shape, node.idx, node.basic = a.shape, idx, basic
        if not basic:
            _keep_index_versions(node, index)
    if basic:
        return view_of(input, arr, node)
    return Tensor._make(arr, node)


def index_put_grad(shape, idx, g):
    """Differentiable (in g) zeros of ``shape`` with g added at ``idx``."""
    from .creation import zeros
    return index_put(zeros(shape, dtype=g.dtype), idx, g, accumulate=True)


class IndexPutBackward0(Node):
    """Backward of ``index_put``: the old values lose their gradient where overwritten."""
    __slots__ = ('idx', 'vshape', 'accumulate', 'basic', 'vdtype')

    def backward(self, g):
        if self._saved:
            self.saved()   # the index tensors unchanged since the forward (or PyTorch's error)
        zero = dual.const(0.0, g)
        if self.accumulate:
            ga = g
        elif dual.is_array(g):
            ga = np.array(g)   # a copy, an array even for a 0-d tensor's NumPy-scalar gradient
            ga[self.idx] = 0
        else:
            ga = index_put(g, self.idx, zero)
        gv = g[self.idx if len(self.idx) != 1 else self.idx[0]]
        if self.vdtype is not None:
            gv = dual.sum_to(gv, self.vshape)
            gv = dual.cast(gv, self.vdtype)
        else:
            gv = None
        return ga, gv


class CopySlices(IndexPutBackward0):
    """What ``x[idx] = v`` records on a tensor that requires grad (PyTorch's name)."""
    __slots__ = ()

    def name(self):
        return 'torch::autograd::CopySlices'


class FillBackward3(IndexPutBackward0):
    """What ``x[...] = v`` (or ``x[:]``) records for a scalar or 0-d v: PyTorch fills the tensor itself."""
    __slots__ = ()


class CopyBackwards(IndexPutBackward0):
    """What ``x[...] = v`` (or ``x[:]``) records for a v of one or more dims: PyTorch copies into the tensor itself."""
    __slots__ = ()

    def name(self):
        return 'torch::autograd::CopyBackwards'


def _whole(idx, shape):
    """Whether ``idx`` (a converted index) selects all of a tensor of ``shape`` with no view op: only ``...`` and
    full slices, which PyTorch's indexing returns as the tensor itself."""
    dots = [k for k, i in enumerate(idx) if i is Ellipsis]
    if len(dots) > 1 or len(idx) - len(dots) > len(shape):
        return False
    for k, i in enumerate(idx):
        if i is Ellipsis:
            continue
        d = k if not dots or k < dots[0] else len(shape) - (len(idx) - k)
        if type(i) is not slice or i.start not in (None, 0) or i.step not in (None, 1) or \
                not (i.stop is None or type(i.stop) is int and i.stop >= shape[d]):
            return False
    return True


def _advanced_only(idx, shape):
    """Whether ``idx`` holds advanced indices (masks, index arrays) beside only ``...`` and full slices: PyTorch's
    indexing then makes no view, and ``x[idx] = v`` is an index_put_ on the tensor itself (IndexPutBackward0, the
    ``safe[mask] = ...`` of notes/autograd.md), where a view first would make it a CopySlices. A slice counts as
    full when it starts at 0, steps by 1 and stops at None or past every dim (exact for any dim it indexes)."""
    advanced = False
    for i in idx:
        if isinstance(i, np.ndarray) and i.ndim:   # a 0-d bool index (x[True]) is an unsqueeze: a view
            advanced = True
        elif i is not Ellipsis and not (type(i) is slice and i.start in (None, 0) and i.step in (None, 1) and
                                        (i.stop is None or type(i.stop) is int and i.stop >= max(shape))):
            return False
    return advanced


def index_put(input, indices, values, accumulate=False, _node=IndexPutBackward0):
    """Out-of-place ``input[indices] = values`` (``+=`` with accumulate), differentiable in both."""
    try:
        idx = _convert_index(indices)
        _check_empty_masks(input._data.shape, idx)
        if _node is IndexPutBackward0 and isinstance(values, Tensor):
            _check_put_dtype(input, idx, values, accumulate)
        a = _layout.like_copy(input._data)
        v = values._data if isinstance(values, Tensor) else values
        try:
            if accumulate:
                _check_put_shape(a, idx, v)
                np.add.at(a, idx if len(idx) != 1 else idx[0], v)
            else:
                a[idx if len(idx) != 1 else idx[0]] = v
        except ValueError:
            raise _mismatch(a, idx, v) from None
        except IndexError as e:
            raise _numpy_index_error(a.shape, idx, e, got=_node is IndexPutBackward0) from None
        vt = isinstance(values, Tensor)
        if GRAD.enabled and (input._requires_grad or (vt and values._requires_grad)):
            node = _node((input, values if vt else None))
            node.idx, node.accumulate, node.basic = idx, accumulate, _is_basic(idx)
            _keep_index_versions(node, indices)
            node.vshape = values._data.shape if vt else None
            node.vdtype = values._data.dtype if vt and values._requires_grad else None
            return Tensor._make(a, node)
        return Tensor._make(a)
    except (AttributeError, TypeError):
        check_tensor_args('index_put', 'input', 'values')
        raise


def _check_put_dtype(input, idx, value, accumulate=False):
    """PyTorch's index_put_ (an advanced-index write) demands value's dtype be input's, except where it
    dispatches to masked_fill (canDispatchToMaskedFill: one bool mask of 1+ dims as the only index tensor,
    a one-element value, no accumulate), which casts; a basic index copies, which casts too."""
    if value.dtype == input.dtype or _is_basic(idx):
        return
    try:   # an index that does not apply raises its IndexError first, as PyTorch checks the index first
        input._data[idx if len(idx) != 1 else idx[0]]
    except IndexError:
        return
    _check_put_shape(input._data, idx, value._data)
    arrays = [i for i in idx if isinstance(i, (np.ndarray, bool))]   # (a True/False index is an index tensor too)
    mask = arrays[0] if len(arrays) == 1 and isinstance(arrays[0], np.ndarray) else None
    if not accumulate and value._data.size == 1 and mask is not None and mask.dtype == np.bool_ and mask.ndim:
        from ._util import checked_scalar   # masked_fill_(mask, value.item()): checked, half types too
        checked_scalar(value._data.reshape(-1)[0].item(), input.dtype)
        return
    raise RuntimeError(f'Index put requires the source and destination dtypes match, got '
                       f'{scalar_name(input.dtype)} for the destination and {scalar_name(value.dtype)} for the source.')


def _checked_fill(v, dt):
    """Number ``v`` as PyTorch converts a fill value to ``dt`` (1e40 into float32, -1.5 into uint8 raise); the
    half types take any float unchecked (1e6 is inf in float16), as PyTorch's do."""
    from .._dtype import bfloat16, float16
    from ._util import checked_scalar
    if dt in (float16, bfloat16) and not isinstance(v, complex):
        return v
    return checked_scalar(v, dt)


def setitem(input, index, value, _through_view=False):
    """``input[index] = value`` in place; autograd records it as PyTorch does (CopySlices, or IndexPutBackward0
    when PyTorch makes no view first; ``_through_view``: CopySlices whatever the index, for ops PyTorch writes
    through a view of the input, as fill_diagonal_)."""
    from .inplace import check_inplace, check_setitem_overlap, commit
    if index is False:   # PyTorch returns at once: no write, no version bump, no history (nor errors)
        return
    if index is True:   # PyTorch copies into the unsqueezed tensor, as for None (casting), not an index_put_
        index = None
    if type(index) is list:
        index = _list_as_tuple(index)
    given = isinstance(value, Tensor)
    fills = not (given and value._data.ndim) and input._data.ndim   # (a whole write of a 0-d value is a fill)
    if isinstance(value, Tensor) and value._data.ndim and value._data.shape[0] == 1:
        value = _strip_leading_ones(value)
    if isinstance(value, (list, tuple, np.ndarray)):   # PyTorch takes a tensor or a number, not a sequence
        kind = type(value).__name__ if not isinstance(value, np.ndarray) else 'numpy.ndarray'
        raise TypeError(f"can't assign a {kind} to a {input.type()}")
    if not isinstance(value, Tensor):
        if isinstance(index, Tensor) and index._data.dtype == np.uint8:     # PyTorch's masked_fill_ path
            masked_fill(input, index, value)
        if type(value) is int and not -2 ** 63 <= value < 2 ** 63:   # PyTorch reads an int value as int64 here
            raise ValueError('Overflow when unpacking long long')
        if isinstance(value, (int, float, complex)):
            value = _checked_fill(value, input.dtype)
        value = Tensor._make(np.asarray(value, dtype=input._data.dtype))
    idx = _convert_index(index, input._data.ndim)
    split = _selects_first(idx)
    if split is not None:   # through the view of the selects, as PyTorch writes it
        return setitem(getitem(input, split[0]), split[1], value)
    _check_empty_masks(input._data.shape, idx)
    if given:
        _check_put_dtype(input, idx, value)
    check_setitem_overlap(input, idx if len(idx) != 1 else idx[0], value, _is_basic(idx))
    try:
        tracked = check_inplace(input, value)
    except RuntimeError as e:
        raise _setitem_leaf_error(e, idx) from None
    if tracked:
        snap = Tensor._make(input._data.copy(), input.grad_fn)
        snap._output_nr, snap._requires_grad = input._output_nr, input._requires_grad
        if input.grad_fn is None and not input._requires_grad:
            snap._requires_grad = False
        node = CopySlices
        if input._base is None and _whole(idx, input._data.shape):
            node = FillBackward3 if fills else CopyBackwards
        elif input._base is None and not _through_view and _advanced_only(idx, input._data.shape):
            node = IndexPutBackward0
        try:
            r = index_put(snap, idx, value.to(input.dtype) if value._data.dtype != input._data.dtype else value,
                          _node=node)
        except IndexError as e:
            raise _index_error(input, idx, e) from None
        if node in (CopySlices, IndexPutBackward0) and r.grad_fn is not None:
            _keep_index_versions(r.grad_fn, index)
        commit(input, r)
        return
    try:
        from ._util import via_float
        target, key = _write_spot(input._data, idx if len(idx) != 1 else idx[0], _is_basic(idx))
        target[key] = via_float(value._data, input._data.dtype)
    except ValueError:
        raise _mismatch(input._data, idx, value._data) from None
    except IndexError as e:
        raise _index_error(input, idx, e) from None
    input._bump()


def _write_spot(a, key, basic):
    """(array, key) that ``a[key] = v`` writes through: ``(a, key)``, but for a NumPy-read-only expanded tensor
    a writeable alias of the view a basic index selects when that repeats no element (PyTorch writes it) and
    PyTorch's overlap error when it does; an advanced index writes an alias of ``a`` itself, as PyTorch's
    index_put_ does."""
    if a.flags.writeable:
        return a, key
    from .inplace import _fill_target, _write_target, read_only_error
    if not basic:   # (PyTorch's index_put_ takes no overlap check, but warns)
        if any(st == 0 and n > 1 for n, st in zip(a.shape, a.strides)):
            warn_user('Use of index_put_ on expanded tensors is deprecated. Please clone() the tensor before '
                      'performing this operation. This also applies to advanced indexing e.g. tensor[indices] = '
                      'tensor')
        return _fill_target(a), key
    view = a[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]
    if not view.size:
        return np.empty_like(view), Ellipsis   # (nothing to write)
    view = _write_target(view)
    if not view.flags.writeable:
        raise read_only_error(view, 'tensor[index] = value')
    return view, Ellipsis


def _strip_leading_ones(value):
    """The value of ``x[i] = value`` without its leading size-1 dims, as PyTorch strips them before broadcasting
    (slicePrefix1sDims): ``x[2] = tensor([3.])`` assigns the scalar slot."""
    shape = value._data.shape
    k = 0
    while k < len(shape) and shape[k] == 1:
        k += 1
    return value.reshape(shape[k:])


def _index_error(input, idx, e):
    """PyTorch's IndexError for a write ``input[idx] = v`` out of bounds."""
    if _is_basic(idx):
        _check_bounds(input._data, idx)
    return _numpy_index_error(input._data.shape, idx, e)


_NP_BOUNDS = re.compile(r'index (-?\d+) is out of bounds for axis (\d+) with size (\d+)')
_NP_TOO_MANY = re.compile(r'too many indices for array: array is (\d+)-dimensional, but (\d+) were indexed')
_NP_MASK = re.compile(r'boolean index did not match indexed array along (?:axis|dimension) (\d+)')
_NP_BROADCAST = re.compile(r'shape mismatch: indexing arrays could not be broadcast together with shapes '
                           r'((?:\([\d,]*\) ?)+)')


def _numpy_index_error(shape, idx, e, got=False):
    """NumPy's IndexError ``e`` for ``a[idx]`` (``a`` of ``shape``) in PyTorch's words: an index out of bounds
    names the advanced index's position among the index tensors, too many indices the dimension (and, for
    ``index_put_``, ``got``: how many), a mask the shapes, index tensors that do not broadcast their shapes;
    other texts keep NumPy's, with the shape."""
    msg = str(e)
    m = _NP_BOUNDS.match(msg)
    if m:
        axis, k, dim = int(m[2]), 0, 0
        for i in idx:
            if dim > axis or i is None:
                continue
            if i is Ellipsis:
                dim += len(shape) - sum(j.ndim if isinstance(j, np.ndarray) and j.dtype == np.bool_ else 1
                                        for j in idx if j is not None and j is not Ellipsis)
            elif isinstance(i, np.ndarray) and i.dtype == np.bool_:
                dim += i.ndim
            else:
                if isinstance(i, np.ndarray) and dim < axis:
                    k += 1
                dim += 1
        return IndexError(f'index {m[1]} is out of bounds for dimension {k} with size {m[3]}')
    m = _NP_TOO_MANY.match(msg)
    if m:
        return IndexError(f'too many indices for tensor of dimension {m[1]}' + (f' (got {m[2]})' if got else ''))
    m = _NP_MASK.match(msg)
    if m:
        axis, dim = int(m[1]), 0
        for i in idx:
            if isinstance(i, np.ndarray) and i.dtype == np.bool_ and dim <= axis < dim + i.ndim:
                return IndexError(f'The shape of the mask {fmt_shape(i.shape)} at index {axis - dim} does not match '
                                  f'the shape of the indexed tensor {fmt_shape(shape)} at index {axis}')
            dim += 0 if i is None else i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1
    m = _NP_BROADCAST.match(msg)
    if m:       # makemore's prob[torch.arange(32), Y] with Y of every example: PyTorch's list of the index shapes
        dims = re.findall(r'\(([\d,]*)\)', m[1])
        shapes = ', '.join('[' + ', '.join(d for d in t.split(',') if d) + ']' for t in dims)
        return IndexError(f'shape mismatch: indexing tensors could not be broadcast together with shapes {shapes}')
    return IndexError(f'{e} (indexing a tensor of shape {fmt_shape(shape)})')


def _mismatch(a, idx, v):
    """PyTorch's RuntimeError for a value ``v`` that does not broadcast to ``a[idx]``: a basic index writes
    through a view with copy_, whose expand of the value raises; an advanced one names both shapes."""
    target = a[idx if len(idx) != 1 else idx[0]].shape
    if _is_basic(idx):
        from .shape import expand
        expand(Tensor._make(np.asarray(v)), *target)
    return RuntimeError(f'shape mismatch: value tensor of shape {fmt_shape(np.shape(v))} cannot be broadcast to '
                        f'indexing result of shape {fmt_shape(target)}')


def _check_put_shape(a, idx, v):
    """Raise ``_mismatch`` unless ``v`` broadcasts to ``a[idx]`` (checked before dtypes, as PyTorch does)."""
    target = a[idx if len(idx) != 1 else idx[0]].shape
    vshape = np.shape(v)
    if len(vshape) > len(target) or any(n not in (1, t) for n, t in zip(vshape[::-1], target[::-1])):
        raise _mismatch(a, idx, v)


def _setitem_leaf_error(e, idx):
    """PyTorch writes ``x[i] = v`` through a view: on a leaf that requires grad, the error names the view."""
    from .inplace import _LEAF, _VIEW_LEAF
    if str(e) == _LEAF and _is_basic(idx) and any(i is not Ellipsis for i in idx):
        return RuntimeError(_VIEW_LEAF)
    return e


# -- gather / scatter / index_select / masked_fill ----------------------------------------------------------
class GatherBackward0(Node):
    """Scatter-add the gradient back to the gathered positions."""
    __slots__ = ('dim', 'index', 'shape')

    def backward(self, g):
        if not self.shape:
            return np.asarray(g.sum(), g.dtype) if dual.is_array(g) else g.sum()
        if dual.is_array(g):
            out = np.zeros(self.shape, g.dtype)
            _scatter_add_arr(out, self.dim, self.index, g)
            return out
        from .creation import zeros
        return scatter_add(zeros(self.shape, dtype=g.dtype), self.dim, Tensor._make(self.index), g)


def _flat_index(a, d, ix):
    """Where gather/scatter's ``ix`` along ``d`` points in ``a.reshape(-1)``, or None: only along the last dim of a
    non-empty C-contiguous ``a`` whose leading shape ix shares (ix plus each row's offset). Indexing the flat array
    so took 1.5 us on (1, 65), 2.6 on (64, 256); np.take_along_axis 2.9 and 4.9 (np.indices alike)."""
    lead = ix.shape[:-1]
    if not a.size or d != a.ndim - 1 or lead != a.shape[:-1] or not a.flags.c_contiguous:
        return None
    return ix + np.arange(0, a.size, a.shape[-1]).reshape(lead + (1,)) if lead else ix


def _scatter_add_arr(out, dim, index, src):
    flat = _flat_index(out, dim, index)
    if flat is not None and src.shape == index.shape:
        add_at(out.reshape(-1), flat, src)
        return
    idx = list(np.indices(index.shape, sparse=True))
    idx[dim] = index
    np.add.at(out, tuple(idx), src[tuple(slice(0, s) for s in index.shape)])


_UNSIGNED = {np.dtype(np.int64): np.uint64, np.dtype(np.int32): np.uint32}   # an index's bits read unsigned


def _check_index(input, dim, index, op):
    _check_index_dtype(index, op)
    if index._data.ndim != input._data.ndim and not (index._data.ndim <= 1 and input._data.ndim <= 1):
        raise RuntimeError('Index tensor must have the same number of dimensions as input tensor')
    n = input._data.shape[dim] if input._data.ndim else 1
    ix = index._data
    # one reduction over the bits read as uint64 (a negative index is then huge): 1.76 -> 1.31 us on (8, 4),
    # 3.26 -> 2.07 on (64, 256) against min() and max()
    if ix.size and np.maximum.reduce(ix.view(_UNSIGNED[ix.dtype]), axis=None) >= n:
        flat = ix.reshape(-1)
        bad = flat[np.argmax((flat < 0) | (flat >= n))]     # the first one, as PyTorch's message names
        raise RuntimeError(f'index {int(bad)} is out of bounds for dimension {dim} with size {n}')


SortBackward0 = type('SortBackward0', (GatherBackward0,), {'__slots__': ()})
SortBackward1 = type('SortBackward1', (GatherBackward0,), {'__slots__': ()})
TopkBackward0 = type('TopkBackward0', (GatherBackward0,), {'__slots__': ()})


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[index[i][j]][j] (for dim=0), and so on."""
    try:
        a = input._data
        d = wrap_dim(dim, a.ndim)
        _check_index(input, d, index, 'gather')
        ix = index._data
        for k, (si, sa) in enumerate(zip(ix.shape, a.shape)):
            if k != d and si > sa:
                raise RuntimeError(f'Size does not match at dimension {k} expected index {fmt_shape(ix.shape)} to be no '
                                   f'larger than self {fmt_shape(a.shape)} apart from dimension {d}')
        # (PyTorch allocates the result dense whatever the index's layout; NumPy's follows the index's)
        return _guard(_gathered(input, d, ix if ix.flags.c_contiguous else np.ascontiguousarray(ix), GatherBackward0),
                      input, index)
    except Exception:
        check_tensor_args('gather', 'input', 'index')
        raise


def _guard(out, *tensors, outputs=()):
    """``out``, its node (where it has one) guarding ``tensors`` and ``outputs`` (see Node.guard): PyTorch's saves them."""
    if out.grad_fn is not None:
        out.grad_fn.guard(*tensors, outputs=outputs)
    return out


def _gathered(input, d, ix, cls):
    """gather(input, d, ix) for a checked int64 array ``ix``, recorded as ``cls`` (sort and topk call it with
    the indices they computed)."""
    a = input._data
    r = _take_along(a, ix, d)
    if GRAD.enabled and input._requires_grad:
        node = cls((input,))
        node.dim, node.index, node.shape = d, ix, a.shape
        return Tensor._make(r, node)
    return Tensor._make(r)


def _take_along(a, ix, d):
    """gather's values: a's entries at ``ix`` along ``d`` (ix no larger than a elsewhere); through the flat index
    where _flat_index gives one (scatter_add's source gradient of (512, 64) from (512, 256): np.take_along_axis
    267 us under cProfile)."""
    flat = _flat_index(a, d, ix)
    if flat is not None:
        return a.reshape(-1)[flat]
    if a.ndim:
        return np.take_along_axis(a[tuple(slice(0, s) if k != d else slice(None) for k, s in enumerate(ix.shape))],
                                  ix, d)
    return a.reshape(1)[ix]


class ScatterBackward0(Node):
    """Gradient of scatter: overwritten positions get none; the source gets the gathered gradient."""
    __slots__ = ('dim', 'index', 'reduce_add', 'src_is_tensor', 'src_shape')

    def backward(self, g):
        ix = Tensor._make(self.index)
        if dual.is_array(g):
            index, g1 = _at_least_1d(self.index, g), _at_least_1d(g, g)
            gi = g
            if not self.reduce_add:
                gi = g1.copy()
                idx = list(np.indices(index.shape, sparse=True))
                idx[self.dim] = index
                gi[tuple(idx)] = 0
                gi = gi.reshape(g.shape)
            gs = _take_along(g1, index, self.dim).reshape(self.index.shape)
        else:
            gi = g if self.reduce_add else scatter(g, self.dim, ix, 0.0)
            gs = gather(g, self.dim, ix)
        if not self.src_is_tensor:
            return gi, None
        if len(self.src_shape) == len(self.index.shape) and self.src_shape != self.index.shape:
            # a source larger than the index: its entries past the index's extent reach nothing (zero gradient;
            # PyTorch gives those zeros for an empty index and refuses a non-empty one)
            gs = dual.index_add(self.src_shape, tuple(slice(0, k) for k in self.index.shape), gs)
        return gi, gs


def _at_least_1d(x, a):
    """A 0-d array (an index, a source, a 0-d input itself) next to a 0-d or 1-d ``a`` read as one element, as
    PyTorch reads it (the transforms tutorial's one-hot ``zeros(10).scatter_(0, tensor(y), value=1)``)."""
    return x.reshape(1) if x.ndim == 0 and a.ndim <= 1 else x


def _check_index_dtype(index, op='scatter'):
    """PyTorch's first check of a scatter: the index's dtype (before the source's dtype and the reduce name)."""
    if not isinstance(index, Tensor) or index._data.dtype not in _UNSIGNED:
        raise RuntimeError(f'{op}(): Expected dtype int32/int64 for index')


_SCATTER_REDUCE_DEPRECATED = ('The reduce argument of torch.scatter with Tensor src is deprecated and will be removed '
                              'in a future PyTorch release. Use torch.scatter_reduce instead for more reduction '
                              'options.')
ScatterReduceNotImplemented = undifferentiable('NotImplemented', 'derivative for aten::scatter is not implemented',
                                               'torch::autograd::NotImplemented')


def _check_scatter_reduce(reduce, src):
    """scatter's ``reduce=``: only 'add' and 'multiply' (PyTorch's check; 'sum', 'mean', ... are scatter_reduce's),
    and with a Tensor src PyTorch's deprecation warning, once."""
    if reduce not in ('add', 'multiply'):
        raise RuntimeError('reduce argument must be either add or multiply.')
    if isinstance(src, Tensor):
        warn_user(_SCATTER_REDUCE_DEPRECATED, once=True,
                  internally='aten/src/ATen/native/TensorAdvancedIndexing.cpp:225')


def _scatter(input, dim, index, src, add, reduce=None):
    _check_index_dtype(index)
    if reduce is not None:
        _check_scatter_reduce(reduce, src)
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        raise RuntimeError('scatter(): Expected self.dtype to be equal to src.dtype')
    a = input._data.copy()
    d = wrap_dim(dim, a.ndim)
    _check_index(input, d, index, 'scatter')
    ix = _at_least_1d(index._data, a)
    s = src._data if isinstance(src, Tensor) else np.full(ix.shape, src, a.dtype)
    s = _at_least_1d(s, a)
    idx = list(np.indices(ix.shape, sparse=True))
    idx[d] = ix
    s = s[tuple(slice(0, k) for k in ix.shape)]
    out = _at_least_1d(a, a)    # a view of the copy a
    flat = _flat_index(out, d, ix) if add or reduce == 'add' else None
    if flat is not None and s.shape == ix.shape:
        add_at(out.reshape(-1), flat, s)
    elif add or reduce == 'add':
        np.add.at(out, tuple(idx), s)
    elif reduce == 'multiply':
        np.multiply.at(out, tuple(idx), s)
    else:
        out[tuple(idx)] = s
    st = isinstance(src, Tensor)
    if GRAD.enabled and (input._requires_grad or (st and src._requires_grad)):
        if reduce is not None:   # PyTorch records scatter with a reduction but has no derivative for it
            return Tensor._make(a, ScatterReduceNotImplemented((input, src if st else None)))
        name = ScatterAddBackward0 if add else ScatterBackward0 if st else ScatterBackward1
        node = name((input, src if st else None))
        node.dim, node.index, node.reduce_add, node.src_is_tensor = d, index._data, add, st
        node.guard(index)
        node.src_shape = src._data.shape if st else None
        return Tensor._make(a, node)
    return Tensor._make(a)


ScatterAddBackward0 = type('ScatterAddBackward0', (ScatterBackward0,), {'__slots__': ()})
ScatterBackward1 = type('ScatterBackward1', (ScatterBackward0,), {'__slots__': ()})


@_quiet.rerun
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """Out-of-place scatter: out[index[i][j]][j] = src[i][j] (for dim=0)."""
    if src is None:
        src = value
    try:
        return _scatter(input, dim, index, src, False, reduce)
    except Exception:
        if not isinstance(src, (Tensor, numbers.Number)):
            check_tensor_args('scatter', 'src', overloads=True)
        check_tensor_args('scatter', 'input', 'index', overloads=True)
        raise


@_quiet.rerun
def scatter_add(input, dim, index, src):
    """Out-of-place scatter with accumulation (duplicates add up)."""
    try:
        return _scatter(input, dim, index, src, True)
    except Exception:
        check_tensor_args('scatter_add', 'input', 'index', 'src')
        raise


class IndexSelectBackward0(Node):
    """Add the gradient rows back at the selected indices."""
    __slots__ = ('dim', 'index', 'shape')

    def backward(self, g):
        if not self.shape:     # a 0-d input: its one element was selected
            return g.reshape(())
        idx = (slice(None),) * self.dim + (self.index,)
        if dual.is_array(g):
            if self.dim == 0:
                return index_add_at(np.zeros(self.shape, g.dtype), (self.index,), g)
            moved = np.moveaxis(g, self.dim, 0)     # the rows of the selected dim, summed in index order
            out = index_add_at(np.zeros((self.shape[self.dim],) + moved.shape[1:], g.dtype),
                               (self.index,), moved)
            return np.ascontiguousarray(np.moveaxis(out, 0, self.dim))
        return index_put_grad(self.shape, idx, g)


def index_select(input, dim, index):
    """The entries of ``input`` at ``index`` along ``dim``."""
    if not isinstance(index, Tensor):
        check_tensor_args('index_select', 'input', 'index')
    try:
        a = input._data
    except (AttributeError, TypeError):
        check_tensor_args('index_select', 'input', 'index')
        raise
    d = wrap_dim(dim, a.ndim)
    ix = index._data
    if ix.ndim > 1:
        raise IndexError('index_select(): Index is supposed to be a vector')
    if ix.dtype.kind not in 'iu':
        raise RuntimeError('index_select(): Expected dtype int32 or int64 for index')
    n = a.shape[d] if a.ndim else 1
    if not a.ndim and ix.size != 1:
        raise RuntimeError(f'index_select(): Index to scalar can have only 1 value, got {ix.size} value(s)')
    if ix.size and (ix.min() < 0 or ix.max() >= n):
        if d != 1:      # PyTorch's CPU kernels differ: dim 1 has its own, checking element by element
            raise IndexError('index out of range in self')
        bad = int(ix.max() if ix.max() >= n else ix.min())
        raise RuntimeError(f'INDICES element is out of DATA bounds, id={bad} axis_dim={n}')
    r = np.take(a, ix.reshape(-1), axis=d) if a.ndim else a.reshape(1)[ix.reshape(-1)].reshape(())
    if GRAD.enabled and input._requires_grad:
        node = IndexSelectBackward0((input,))
        node.dim, node.index, node.shape = d, ix.reshape(-1), a.shape
        node.guard(index)
        return Tensor._make(r, node)
    return Tensor._make(r)


class IndexAddBackward0(Node):
    """The input's gradient passes through; the source's is the gradient at ``index``, times ``alpha``."""
    __slots__ = ('dim', 'index', 'alpha', 'source_0d')

    def backward(self, g):
        if dual.is_array(g):
            gs = np.take(g, self.index, axis=self.dim) if g.ndim else g.reshape(1)[self.index].reshape(())
        else:
            gs = index_select(g, self.dim, Tensor._make(self.index))
        if self.source_0d:
            gs = gs.reshape(())
        return g, (gs * self.alpha if self.alpha != 1 else gs)


def _index_source(op, input, dim, index, source):
    """(input array, source array, dim, flat index) of index_add/index_reduce, checked with PyTorch's messages."""
    a, src = input._data, source._data
    d = wrap_dim(dim, a.ndim)
    ix = index._data if isinstance(index, Tensor) else np.asarray(index)
    if ix.ndim > 1:
        raise IndexError(f'{op}(): Index is supposed to be a vector')
    if ix.dtype.kind not in 'iu':
        raise RuntimeError(f'{op}(): Expected dtype int32/int64 for index but got: {_scalar_name(ix.dtype)}')
    if src.dtype != a.dtype:
        raise RuntimeError(f'{op}(): self ({_scalar_name(a.dtype)}) and source ({_scalar_name(src.dtype)}) '
                           'must have the same scalar type')
    return a, src, d, ix.reshape(-1)


@_quiet.rerun
def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added at ``index`` along ``dim`` (duplicate indices add up)."""
    try:
        a, src, d, ix = _index_source('index_add_', input, dim, index, source)
        shape = a.shape or (1,)
        if src.ndim and ix.size != src.shape[d]:
            raise RuntimeError(f'index_add_(): Number of indices ({ix.size}) should be equal to source.size(dim): '
                               f'({src.shape[d]}), for dim: {d}')
        expect = shape[:d] + (ix.size,) + shape[d + 1:]
        if src.shape != expect[:len(a.shape)] and not (src.ndim == 0 and a.ndim == 0):
            raise RuntimeError('source tensor shape must match self tensor shape, excluding the specified dimension. '
                               f'Got self.shape = {list(a.shape)} source.shape = {list(src.shape)}')
        n = shape[d]
        if ix.size and a.size and (ix.min() < 0 or ix.max() >= n):   # (PyTorch adds nothing to an empty self, unchecked)
            _index_add_range_error(ix, n, d, a.ndim, alpha)
        out = a.reshape(shape).copy()
        add = src.reshape(expect)
        if out.dtype.kind in 'iub':   # PyTorch converts alpha to the tensor's type: 0.5 adds nothing to an int tensor,
            alpha = checked_scalar(alpha, input.dtype)   # -1 wraps to 255 for uint8, 300 is refused
        if ix.size and out.size and d == 0 and out.dtype in _FLOATS and out.ndim > 1:   # row sums in index order
            add = add * alpha if alpha != 1 else np.ascontiguousarray(add)
            index_add_rows(out.reshape(n, -1), ix, add.reshape(ix.size, -1), onto=True)
        elif out.size:
            np.add.at(out, (slice(None),) * d + (ix,), add * alpha if alpha != 1 else add)
        out = out.reshape(a.shape)
        if GRAD.enabled and (input._requires_grad or source._requires_grad):
            node = IndexAddBackward0((input, source))
            node.dim, node.index, node.alpha, node.source_0d = d, ix, alpha, src.ndim == 0
            node.guard(index, source if source._requires_grad else None)   # (PyTorch saves source for its grad)
            return Tensor._make(out, node)
        return Tensor._make(out)
    except Exception:
        check_tensor_args('index_add', 'input', 'index', 'source')
        raise


def _index_add_range_error(ix, n, d, ndim, alpha):
    """PyTorch's error for an index_add index outside [0, n): its accumulating index_put path (an int64 index along
    the first or last dim of a tensor of 2 or more dims, alpha 1) names the first bad index; its other kernels give
    IndexError."""
    if ndim > 1 and ix.dtype == np.int64 and alpha == 1 and d in (0, ndim - 1):
        bad = int(ix[np.argmax((ix < 0) | (ix >= n))])
        raise RuntimeError(f'index {bad} is out of bounds for dimension {d} with size {n}')
    raise IndexError('index out of range in self')


def _scalar_name(np_dtype):
    """PyTorch's scalar type name in messages: 'Float', 'Long'..."""
    return scalar_name(np_dtype)


class MaskedFillBackward0(Node):
    """Filled positions get no gradient."""
    __slots__ = ('mask', 'shape')

    def backward(self, g):
        keep = ~self.mask
        return dual.sum_to(dual.mask(g, keep), self.shape)


class MaskedFillBackward1(Node):
    """masked_fill with a 0-d value tensor: the value gets the sum of the gradient at filled positions."""
    __slots__ = ('mask', 'shape')

    def backward(self, g):
        gi = dual.sum_to(dual.mask(g, ~self.mask), self.shape)
        gv = dual.mask(g, self.mask).sum()
        return gi, (np.asarray(gv, g.dtype) if dual.is_array(g) else gv)


def masked_fill_self_first(input, mask, value):
    """masked_fill as masked_fill_ runs it: PyTorch's size error there names the tensor as a and the mask as b."""
    if isinstance(input, Tensor) and isinstance(mask, Tensor):
        try:
            np.broadcast_shapes(tuple(mask.shape), tuple(input.shape))
        except ValueError:
            from .pointwise import _broadcast_error
            raise _broadcast_error('masked_fill_', input, mask) from None
    return masked_fill(input, mask, value)


def masked_fill(input, mask, value):
    """Copy of input with ``value`` where mask is True (mask and input broadcast together, as in PyTorch)."""
    try:
        a, m = input._data, mask._data
    except (AttributeError, TypeError):
        check_tensor_args('masked_fill', 'input', 'mask', overloads=True)
        raise
    if m.dtype != np.bool_:
        from .._dtype import cpp_name
        raise RuntimeError(f'masked_fill_ only supports boolean masks, but got mask with dtype {cpp_name(m.dtype)}')
    vt = isinstance(value, Tensor)
    if vt and value._data.ndim:
        raise RuntimeError(f'masked_fill_ only supports a 0-dimensional value tensor, but got tensor with '
                           f'{value._data.ndim} dimension(s).')
    try:
        v = checked_scalar(value.item() if vt else value, input.dtype)   # PyTorch fills value.item(), checked
    except (TypeError, ValueError):
        check_call('masked_fill', masked_fill, (input, mask, value), {}, overloads=True)
        raise
    try:
        r = np.where(m, np.asarray(v, a.dtype), a)
        if not r.flags.c_contiguous:     # (NumPy keeps a permuted input's order; PyTorch's result is contiguous)
            r = np.ascontiguousarray(r)
    except ValueError:
        from .pointwise import _broadcast_error
        raise _broadcast_error('masked_fill', mask, input) from None
    vg = vt and value._requires_grad
    if GRAD.enabled and (input._requires_grad or vg):
        node = (MaskedFillBackward1 if vt else MaskedFillBackward0)((input, value) if vt else (input,))
        node.mask, node.shape = np.broadcast_to(m, r.shape), a.shape
        node.guard(mask if isinstance(mask, Tensor) else None)
        return Tensor._make(r, node)
    return Tensor._make(r)


class MaskedSelectBackward0(Node):
    """The gradient goes back to the selected positions (summed over broadcast dims)."""
    __slots__ = ('mask', 'shape')

    def backward(self, g):
        m = self.mask
        if dual.is_array(g):
            out = np.zeros(m.shape, g.dtype)
            out[m] = g
            return dual.sum_to(out, self.shape)
        return dual.sum_to(index_put_grad(m.shape, (m,), g), self.shape)


def masked_select(input, mask):
    """The elements of ``input`` where the bool ``mask`` (broadcast) holds, as a 1-D tensor."""
    try:
        m = mask._data if isinstance(mask, Tensor) else mask
        if m.dtype != np.bool_:
            raise RuntimeError('masked_select: expected BoolTensor for mask')
        a = input._data
        if type(a) is _meta.MetaArray or type(m) is _meta.MetaArray:
            raise _meta.refuse()
        try:
            shape = np.broadcast_shapes(a.shape, m.shape)
        except ValueError:
            from .pointwise import _broadcast_error
            raise _broadcast_error('masked_select', Tensor._make(m), input) from None
        m = np.broadcast_to(m, shape)
        r = np.broadcast_to(a, shape)[m]
        if GRAD.enabled and input._requires_grad:
            node = MaskedSelectBackward0((input,))
            node.mask, node.shape = m, a.shape
            node.guard(input, mask)
            return Tensor._make(r, node)
        return Tensor._make(r)
    except Exception:
        check_tensor_args('masked_select', 'input', 'mask')
        raise


class TakeBackward0(Node):
    """The gradient is added back at the flat indices taken (duplicates accumulate)."""
    __slots__ = ('index', 'shape')

    def backward(self, g):
        n = int(np.prod(self.shape))
        if dual.is_array(g):
            out = np.zeros(n, g.dtype)
            np.add.at(out, self.index.reshape(-1), g.reshape(-1))
            return out.reshape(self.shape)
        return index_put_grad((n,), (self.index.reshape(-1),), g.reshape(-1)).reshape(self.shape)


def take(input, index):
    """The elements of ``input``, read as 1-D, at ``index`` (the result has index's shape)."""
    try:
        a, ix = input._data, index._data
    except (AttributeError, TypeError):
        check_tensor_args('take', 'input', 'index')
        raise
    if ix.dtype != np.int64:
        raise RuntimeError(f'take(): Expected a long tensor for index, but got {scalar_name(ix.dtype)}')
    n = a.size
    if ix.size and (ix.min() < -n or ix.max() >= n):
        bad = int(ix.max() if ix.max() >= n else ix.min())
        raise IndexError(f'out of range: tried to access index {bad} on a tensor of {n} elements.')
    ix = np.where(ix < 0, ix + n, ix)
    r = a.reshape(-1)[ix]
    if not r.flags.c_contiguous:   # PyTorch's result is contiguous whatever the index's layout (NumPy's follows it)
        r = r.copy(order='C')
    if GRAD.enabled and input._requires_grad:
        node = TakeBackward0((input,))
        node.index, node.shape = ix, a.shape
        node.guard(input, index)
        return Tensor._make(r, node)
    return Tensor._make(r)


def take_along_dim(input, indices, dim=None, *, axis=None):
    try:
        dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
        if isinstance(indices, Tensor) and indices._data.dtype != np.int64:
            from .._dtype import scalar_name
            raise RuntimeError(f'torch.take_along_dim(): dtype of indices should be Long but got '
                               f'{scalar_name(indices._data.dtype)}')
        if dim is None:
            from .shape import reshape
            return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
        input, indices, d = _take_along_dim_operands(input, indices, dim)
        # PyTorch gathers with a new index tensor (negative indices wrapped): changing ``indices`` later is allowed
        return gather(input, d, Tensor._make(indices._data.copy()))
    except (AttributeError, TypeError):
        check_tensor_args('take_along_dim', 'input', 'indices')
        raise


def _take_along_dim_operands(input, indices, dim):
    """PyTorch's take_along_dim broadcasting: input and indices broadcast against each other in every dim but
    ``dim`` (where indices keep their length); indices in [-size, 0) count from the end (NumPy's
    take_along_axis, which PyTorch's follows)."""
    if input.ndim != indices.ndim:
        raise RuntimeError(f'torch.take_along_dim(): input and indices should have the same number of dimensions, '
                           f'but got {input.ndim} dimensions for input, and {indices.ndim} dimensions for indices')
    if not input.ndim:
        raise IndexError(f'Dimension specified as {dim} but tensor has no dimensions')
    d = wrap_dim(dim, input.ndim)
    want_i, want_x = list(input.shape), list(indices.shape)
    want_i[d], want_x[d] = indices.shape[d], input.shape[d]
    try:
        shape_i = np.broadcast_shapes(tuple(want_i), tuple(indices.shape))
        shape_x = np.broadcast_shapes(tuple(want_x), tuple(input.shape))
    except ValueError:
        raise broadcast_mismatch([tuple(want_i), tuple(indices.shape)]) from None
    if shape_i != tuple(indices.shape):
        indices = indices.expand(*shape_i)
    input = input.expand(*shape_x)   # (always, as PyTorch: ExpandBackward0 in the graph, the gather saving the view)
    ix = indices._data
    if ix.dtype.kind in 'iu' and ix.size and ix.min() < 0:
        n = input.shape[d]
        indices = Tensor._make(np.where((ix < 0) & (ix >= -n), ix + n, ix))
    return input, indices, d


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one tensor per dim."""
    a = input._data
    if input.is_meta:
        raise _meta.refuse()
    nz = np.nonzero(a) if a.ndim else np.nonzero(a.reshape(1))
    if as_tuple and not a.ndim:
        return (Tensor._make(nz[0].astype(np.int64)),)
    # PyTorch's (n, ndim) result is column-major (strides (1, n)): one row of indices per dim, transposed; its
    # as_tuple form is that result's columns (views: storage offsets 0, n, 2n...)
    rows = np.stack(nz, axis=0).astype(np.int64, copy=False) if a.ndim else np.zeros((0, int(a != 0)), np.int64)
    if as_tuple:
        return tuple(Tensor._make(r) for r in rows)
    if not rows.size:   # NumPy's empty arrays have zero strides, PyTorch's are (1, n) here too
        rows = np.lib.stride_tricks.as_strided(rows, rows.shape, (rows.shape[1] * 8, 8))
    return Tensor._make(rows.T)


def argwhere(input):
    try:
        return nonzero(input)
    except (AttributeError, TypeError):
        check_tensor_args('argwhere', 'input')
        raise


class _TriBackward(Node):
    """Backward of tril/triu: the gradient where the input was kept, zero elsewhere."""
    __slots__ = ('keep',)

    def backward(self, g):
        return dual.mask(g, self.keep)


TrilBackward0 = type('TrilBackward0', (_TriBackward,), {'__slots__': ()})
TriuBackward0 = type('TriuBackward0', (_TriBackward,), {'__slots__': ()})


def _tri(input, keep, cls):
    """Zero outside ``keep`` by selection, not multiplication (so inf/nan outside it give 0, as in PyTorch)."""
    a = input._data
    r = np.where(keep, a, np.zeros((), a.dtype))
    if not r.flags.c_contiguous:    # (PyTorch's result is contiguous; NumPy keeps a permuted input's order)
        r = np.ascontiguousarray(r)
    if GRAD.enabled and input._requires_grad:
        node = cls((input,))
        node.keep = keep
        return Tensor._make(r, node)
    return Tensor._make(r)


def _check_2d(input, op):
    if input._data.ndim < 2:
        raise RuntimeError(f'{op}: input tensor must have at least 2 dimensions')


@functools.lru_cache(maxsize=64)
def _small_tri_mask(n, m, diagonal, upper):
    mask = np.tri(n, m, diagonal - 1, dtype=bool) if upper else np.tri(n, m, diagonal, dtype=bool)
    if upper:
        np.logical_not(mask, out=mask)
    mask.flags.writeable = False
    return mask


def _tri_mask(shape, diagonal, upper):
    """tril's (or triu's) keep-mask of an (n, m) matrix, cached read-only up to 65,536 values: building it took
    4.1 of tril's 6.4 us on (4, 8, 8)."""
    if isinstance(diagonal, bool) or not isinstance(diagonal, (int, np.integer, Tensor)):
        raise TypeError(f"{'triu' if upper else 'tril'}(): argument 'diagonal' (position 2) must be int, "
                        f"not {type(diagonal).__name__}")
    n, m = shape
    if n * m <= 1 << 16:
        return _small_tri_mask(n, m, int(diagonal), upper)
    return np.triu(np.ones(shape, bool), diagonal) if upper else np.tril(np.ones(shape, bool), diagonal)


def tril(input, diagonal=0):
    _check_2d(input, 'tril')
    return _tri(input, _tri_mask(input._data.shape[-2:], diagonal, False), TrilBackward0)


def triu(input, diagonal=0):
    _check_2d(input, 'triu')
    return _tri(input, _tri_mask(input._data.shape[-2:], diagonal, True), TriuBackward0)


class DiagEmbedBackward0(Node):
    """diag of a vector: the gradient is the matrix gradient's diagonal ``offset``."""
    __slots__ = ('offset',)

    def backward(self, g):
        if dual.is_array(g):
            return np.diagonal(g, self.offset).copy()
        return diagonal_(g, self.offset)


def diag(input, diagonal=0):
    """The square matrix with ``input`` (1-D) on diagonal ``diagonal``, or that diagonal of a matrix (a copy)."""
    a = input._data
    if a.ndim not in (1, 2):
        raise RuntimeError(f'diag(): Supports 1D or 2D tensors. Got {a.ndim}D')
    if a.ndim == 1:
        node = None
        if GRAD.enabled and input._requires_grad:
            node = DiagEmbedBackward0((input,))
            node.offset = diagonal
        return Tensor._make(np.diag(a, diagonal), node)
    d = diagonal_(input, diagonal)
    if d.grad_fn is not None:
        d.grad_fn.__class__ = DiagonalBackward0_copy
    return Tensor._make(d._data.copy(), d.grad_fn)


def _diag_view(a, offset, d1, d2):
    """Writable view of the diagonal of dims d1, d2 of ``a``: those dims removed, the diagonal last."""
    b = a[tuple(slice(max(-offset, 0), None) if k == d1 else slice(max(offset, 0), None) if k == d2 else
                slice(None) for k in range(a.ndim))]
    keep = [k for k in range(a.ndim) if k not in (d1, d2)]
    shape = tuple(a.shape[k] for k in keep) + (min(b.shape[d1], b.shape[d2]),)
    strides = tuple(a.strides[k] for k in keep) + (a.strides[d1] + a.strides[d2],)
    return np.lib.stride_tricks.as_strided(b, shape, strides, writeable=a.flags.writeable)


class DiagonalBackward0(Node):
    """The gradient goes back onto the diagonal; zeros elsewhere."""
    __slots__ = ('shape', 'diag')

    def backward(self, g):
        if dual.is_array(g):
            out = np.zeros(self.shape, g.dtype)
            _diag_view(out, *self.diag)[...] = g
            return out
        from .inplace import view_index
        z = np.zeros(self.shape, np.int8)
        return index_put_grad(self.shape, view_index(z, _diag_view(z, *self.diag)), g)


DiagonalBackward0_copy = type('DiagonalBackward0_copy', (DiagonalBackward0,), {'__slots__': ()})


def diagonal_(input, offset=0, dim1=0, dim2=1):
    """The diagonal of dims dim1, dim2 (a view, as in PyTorch), offset above (>0) or below (<0) it."""
    try:
        a = input._data
        d1, d2 = wrap_dim(dim1, a.ndim), wrap_dim(dim2, a.ndim)
        if d1 == d2:
            raise RuntimeError(f'diagonal dimensions cannot be identical {dim1}, {dim2}')
        node = None
        if GRAD.enabled and input._requires_grad:
            node = DiagonalBackward0((input,))
            node.shape, node.diag = a.shape, (offset, d1, d2)
        return view_of(input, _diag_view(a, offset, d1, d2), node)
    except (AttributeError, TypeError):
        check_tensor_args('diagonal_', 'input')
        raise


def _argsort(a, d, descending):
    """Stable argsort along ``d`` with PyTorch's order: NaN counts as the largest value. Descending sorts
    key on ``~a`` for integers and bools (``-a`` wraps for uint8 and int64's minimum)."""
    if not a.ndim:
        return np.zeros((), np.int64)
    if a.dtype == np.float32 and a.size >= 512 and a.shape[d] >= 16:
        packed = _packed_argsort(a, d, descending)
        if packed is not None:
            return packed
    if not descending:
        return np.argsort(a, axis=d, kind='stable')
    if a.dtype.kind in 'biu':
        return np.argsort(~a, axis=d, kind='stable')
    nan = np.isnan(a)
    if not nan.any():
        return np.argsort(-a, axis=d, kind='stable')
    return np.lexsort((np.where(nan, 0, -a), ~nan), axis=d)


def _packed_argsort(a, d, descending):
    """Stable argsort of float32 without NaN as one sort of uint64 keys (the value's order-preserving bits above
    its position, so no two keys tie): NumPy's stable argsort took 427 us for (64, 256) and 17.6 ms for 100,000
    values, this 45 us and 1.0 ms. -0.0 is first made +0.0 so the two tie as in PyTorch. None if there is NaN."""
    key = (np.negative(a) if descending else a) + np.float32(0)
    if np.isnan(key).any():
        return None
    key = np.moveaxis(key, d, -1)
    bits = key.view(np.uint32) if key.flags.c_contiguous else np.ascontiguousarray(key).view(np.uint32)
    packed = np.where(bits >> 31 != 0, ~bits, bits | np.uint32(0x80000000)).astype(np.uint64)
    packed <<= np.uint64(32)
    packed |= np.arange(key.shape[-1], dtype=np.uint64)
    packed.sort(axis=-1)
    return np.moveaxis((packed & np.uint64(0xFFFFFFFF)).astype(np.int64), -1, d)


def sort(input, dim=-1, descending=False, stable=None, *, axis=None):
    """(values, indices) sorted along ``dim`` (always stable; passing ``stable`` is PyTorch's other overload,
    recorded as SortBackward1)."""
    dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
    from .reduction import return_types
    a = input._data
    d = wrap_dim(dim, a.ndim)
    ix = _argsort(a, d, descending).astype(np.int64)
    vals = _gathered(input, d, ix, SortBackward0 if stable is None else SortBackward1)
    if a.ndim > 1 and not a.flags.c_contiguous:   # PyTorch's values and indices are laid out like the input
        from .. import _layout
        order = _layout.like_order(a)
        vals._data, ix = _layout.follow(vals._data, (), order), _layout.follow(ix, (), order)
    return return_types.sort(vals, Tensor._make(ix))


def argsort(input, dim=-1, descending=False, stable=False, *, axis=None):
    try:
        dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
        return sort(input, dim, descending, stable)[1]
    except (AttributeError, TypeError):
        check_tensor_args('argsort', 'input')
        raise


def topk(input, k, dim=-1, largest=True, sorted=True, *, axis=None):
    """The k largest (or smallest) values along ``dim`` and their indices, tied values in PyTorch's order."""
    dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
    from .reduction import return_types
    a = input._data
    d = wrap_dim(dim, a.ndim)
    if not 0 <= k <= (a.shape[d] if a.ndim else 1):
        raise RuntimeError('selected index k out of range')
    if a.dtype == np.bool_:
        raise RuntimeError('topk does not support bool dtypes on CPU')
    if a.ndim and (k == 0 or not a.size):   # nothing to choose (an empty dim besides d, or k = 0)
        ix = np.zeros(a.shape[:d] + (k,) + a.shape[d + 1:], np.int64)
    else:
        ix = topk_indices(a, k, d, largest, sorted) if a.ndim else np.zeros((), np.int64)
    vals = _gathered(input, d, ix, TopkBackward0)
    if not vals._data.flags.c_contiguous:   # (PyTorch's are contiguous; NumPy's gather follows a permuted input)
        vals._data = vals._data.copy()      # (copy, not ascontiguousarray: it keeps a meta tensor's MetaArray)
    return return_types.topk(vals, Tensor._make(ix if ix.flags.c_contiguous else ix.copy()))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    if input.is_meta:
        raise _meta.refuse()
    if dim is not None:
        dim = wrap_dim(dim, input._data.ndim)
        _unique_dim_check(input._data.shape, dim)
    r = np.unique(input._data, return_inverse=return_inverse, return_counts=return_counts, axis=dim,
                  **({} if dim is not None else {'equal_nan': False}))   # each NaN its own value, as PyTorch's
    node = None
    if GRAD.enabled and input._requires_grad:
        node = (Unique2Backward0 if dim is None else UniqueDimBackward0)((input,))
    if not isinstance(r, tuple):
        return Tensor._make(r, node)
    inv_shape = input._data.shape if dim is None else (input._data.shape[dim],)   # with dim: one per slice
    out = [Tensor._make(r[0], node)] + [Tensor._make(x.astype(np.int64).reshape(inv_shape) if i == 0 and
                                               return_inverse else x.astype(np.int64)) for i, x in enumerate(r[1:])]
    return tuple(out)


def _unique_dim_check(shape, d):
    """unique/unique_consecutive over dim ``d``: PyTorch refuses a size-0 dim other than ``d``."""
    if any(n == 0 for i, n in enumerate(shape) if i != d):
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")


Unique2Backward0 = undifferentiable('Unique2Backward0', "the derivative for '_unique2' is not implemented.")
UniqueDimBackward0 = undifferentiable('UniqueDimBackward0', "the derivative for 'unique_dim' is not implemented.")
BincountBackward = undifferentiable('NotImplemented', 'derivative for aten::bincount is not implemented',
                                    'torch::autograd::NotImplemented')


def bincount(input, weights=None, minlength=0):
    try:
        if input.is_meta:
            raise _meta.refuse()
        a = input._data
        w = weights._data if weights is not None else None
        if a.dtype.kind not in 'iu':
            raise NotImplementedError(f'"bincount_cpu" not implemented for \'{scalar_name(a.dtype)}\'')
        if minlength < 0:
            raise RuntimeError('minlength should be >= 0')
        if a.ndim != 1 or (a.size and a.min() < 0):
            raise RuntimeError('bincount only supports 1-d non-negative integral inputs.')
        if w is not None and w.shape != a.shape:
            raise RuntimeError('weights should be 1-d and have the same length as input')
        r = np.bincount(a, weights=w, minlength=minlength)
        if w is None or not a.size:   # PyTorch counts an empty input in int64 even with weights
            return Tensor._make(np.zeros(minlength, np.int64) if w is not None else r.astype(np.int64))
        if w is None:
            return Tensor._make(r.astype(np.int64))
        r = r.astype(np.float32 if w.dtype == np.float32 else np.float64)   # PyTorch: float weights keep float32,
        # any others (float16, bfloat16, integers) count in float64
        if GRAD.enabled and weights._requires_grad:
            return Tensor._make(r, BincountBackward((input, weights)))
        return Tensor._make(r)
    except (AttributeError, TypeError):
        check_tensor_args('bincount', 'input', 'weights?')
        raise


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None):
    """Insertion indices of ``values`` in the last dim of ``sorted_sequence`` (1-D, or N-D with the same leading
    dims as ``values``: one search per row); ``sorter``: indices that sort each row."""
    if side not in (None, 'left', 'right'):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
    if right and side == 'left':
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left while "
                           'right was True')
    side = side or ('right' if right else 'left')
    b = sorted_sequence._data
    if sorter is not None:
        b = np.take_along_axis(b, sorter._data, -1)
    v = values._data if isinstance(values, Tensor) else np.asarray(values)
    if b.dtype == np.bool_ and v.dtype == np.bool_:   # (searched in their common dtype, which has no kernel)
        from ._util import not_implemented
        raise not_implemented('searchsorted_out_cpu', b.dtype)
    kind = np.int32 if out_int32 else np.int64
    if b.ndim == 1:
        return Tensor._make(np.asarray(_search(b, v, side), dtype=kind))
    if v.ndim == 0:
        raise RuntimeError(f"torch.searchsorted(): input value can be a scalar only when boundaries tensor dimension "
                           f"is 1, but we got boundaries tensor dim({b.ndim}) and input value's dim(0) numel(1)")
    if b.ndim == 0:
        raise RuntimeError('torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 '
                           'dimension')
    if v.shape[:-1] != b.shape[:-1]:
        raise RuntimeError(f'torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions '
                           f'of boundaries tensor and input value tensor must match, but we got boundaries tensor '
                           f'{fmt_shape(b.shape)} and input value tensor {fmt_shape(v.shape)}')
    b2, v2 = b.reshape(-1, b.shape[-1]), v.reshape(-1, v.shape[-1])
    out = np.empty(v2.shape, kind)
    for r in range(b2.shape[0]):
        out[r] = _search(b2[r], v2[r], side)
    return Tensor._make(out.reshape(v.shape))


def _search(b, v, side):
    """np.searchsorted of ``v`` in the 1-D ``b``; with NaN among the boundaries, PyTorch's own binary search
    (``!(b[mid] >= v)`` moves right; '> v' for side='right'), whose answers NumPy's NaN-last order does not give."""
    if b.dtype.kind != 'f' or not np.isnan(b).any():
        return np.searchsorted(b, v, side=side)
    v = np.asarray(v)
    start, end = np.zeros(v.shape, np.int64), np.full(v.shape, b.shape[0], np.int64)
    with np.errstate(invalid='ignore'):
        while (start < end).any():
            live = start < end
            mid = start + ((end - start) >> 1)
            mv = b[np.minimum(mid, b.shape[0] - 1)]
            go = ~(mv > v) if side == 'right' else ~(mv >= v)
            start, end = np.where(live & go, mid + 1, start), np.where(live & ~go, mid, end)
    return start


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element of ``input`` (a tensor or a number) among the 1-D increasing ``boundaries``:
    boundaries[i-1] < x <= boundaries[i] (``right=True``: boundaries[i-1] <= x < boundaries[i])."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f'boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})')
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# -- ops real programs call (ops2): diagflat, put, select/slice/diagonal_scatter, index_reduce. The embedding ops are
# compositions of index_put recorded as one node named as PyTorch's.
# (linear in both inputs: PyTorch's nodes save neither, but put's saves its source)
PutBackward0 = node_class('PutBackward0', unchecked=(0,))
SelectScatterBackward0 = node_class('SelectScatterBackward0', unchecked=(0, 1))
SliceScatterBackward0 = node_class('SliceScatterBackward0', unchecked=(0, 1))
DiagonalScatterBackward0 = node_class('DiagonalScatterBackward0', unchecked=(0, 1))


def diagflat(input, offset=0):
    """The square matrix with ``input`` flattened on diagonal ``offset``."""
    try:
        from .matrices import diag_embed
        return diag_embed(input.reshape(-1), offset, 0, 1)
    except (AttributeError, TypeError):
        check_tensor_args('diagflat', 'input')
        raise


@_quiet.rerun
def put(input, index, source, accumulate=False):
    """``input`` flattened, with ``source`` written (or added) at the flat positions ``index``."""
    try:
        if not (isinstance(index, Tensor) and isinstance(source, Tensor)):
            check_tensor_args('put', 'input', 'index', 'source')
        a, ix = input._data, index._data
        if ix.dtype != np.int64:
            raise RuntimeError(f"put_(): Expected a long tensor for index, but got {_scalar_name(ix.dtype)}")
        if source._data.dtype != a.dtype:
            raise RuntimeError(f'put_(): self and source expected to have the same dtype, but got self.dtype = '
                               f'{_scalar_name(a.dtype)} and source.dtype = {_scalar_name(source._data.dtype)}')
        if ix.size != source._data.size:
            raise IndexError(f'put_(): Expected source and index to have the same number of elements, but got '
                               f'source.numel() = {source._data.size}, index.numel() = {ix.size}')
        n = a.size
        bad = ix[(ix < -n) | (ix >= n)]
        if bad.size:
            raise IndexError(f'out of range: tried to access index {int(bad.reshape(-1)[0])} on a tensor of {n} elements.')
        flat = ix.reshape(-1)

        def compose(x, s):
            return index_put(x.reshape(-1), (flat,), s.reshape(-1), accumulate).reshape(a.shape)
        r = composite(PutBackward0, compose, (input, source))
        if r.grad_fn is not None:
            r.grad_fn.guard(index)
        return r
    except (AttributeError, TypeError):
        check_tensor_args('put', 'input', 'index', 'source')
        raise


def select_scatter(input, src, dim, index):
    """``input`` with ``src`` embedded as its slice ``index`` along ``dim``."""
    try:
        a = input._data
        d = wrap_dim(dim, a.ndim)
        n = a.shape[d]
        if not -n <= index < n:
            raise IndexError(f'select(): index {index} out of range for tensor of size {fmt_shape(a.shape)} at '
                             f'dimension {d}')
        want = a.shape[:d] + a.shape[d + 1:]
        _embed_check(src, want)
        idx = (slice(None),) * d + (index % n,)
        return composite(SelectScatterBackward0, lambda x, s: index_put(x, idx, s), (input, src))
    except (AttributeError, TypeError):
        check_tensor_args('select_scatter', 'input', 'src')
        raise


def _embed_check(src, want):
    if src._data.shape != tuple(want):
        raise RuntimeError(f'expected src to have a size equal to the slice of self. src size = '
                           f'{fmt_shape(src._data.shape)}, slice size = {fmt_shape(want)}')


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``input`` with ``src`` embedded as its slice ``start:end:step`` along ``dim``."""
    try:
        a = input._data
        d = wrap_dim(dim, a.ndim)
        if step <= 0:
            raise RuntimeError('slice step must be positive')
        sl = slice(start, end, step)
        want = a[(slice(None),) * d + (sl,)].shape
        _embed_check(src, want)
        idx = (slice(None),) * d + (sl,)
        return composite(SliceScatterBackward0, lambda x, s: index_put(x, idx, s), (input, src))
    except (AttributeError, TypeError):
        check_tensor_args('slice_scatter', 'input', 'src')
        raise


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with ``src`` embedded as its diagonal ``offset`` of dims ``dim1``, ``dim2``."""
    try:
        a = input._data
        d1, d2 = wrap_dim(dim1, a.ndim), wrap_dim(dim2, a.ndim)
        if d1 == d2:
            raise RuntimeError(f'diagonal dimensions cannot be identical {dim1}, {dim2}')
        want = _diag_view(a, offset, d1, d2).shape
        _embed_check(src, want)
        # one index array per dim, all of src's shape: the other dims in order, then the diagonal (last in src)
        others = [k for k in range(a.ndim) if k not in (d1, d2)]
        grids = np.indices(want, sparse=True)
        idx = [None] * a.ndim
        for j, k in enumerate(others):
            idx[k] = grids[j]
        idx[d1] = grids[-1] + max(-offset, 0)
        idx[d2] = grids[-1] + max(offset, 0)
        idx = tuple(idx)
        return composite(DiagonalScatterBackward0, lambda x, s: index_put(x, idx, s), (input, src))
    except (AttributeError, TypeError):
        check_tensor_args('diagonal_scatter', 'input', 'src')
        raise

_REDUCES = ('sum', 'prod', 'mean', 'amax', 'amin')
_REDUCE_UFUNC = {'sum': np.add, 'mean': np.add, 'prod': np.multiply, 'amax': np.maximum, 'amin': np.minimum}


def _reduce_identity(reduce, dt):
    """The value a position not counting itself starts from (PyTorch's include_self=False)."""
    if reduce in ('sum', 'mean'):
        return 0
    if reduce == 'prod':
        return 1
    if dt.kind == 'b':
        return reduce == 'amin'
    if dt.kind == 'f':
        return -np.inf if reduce == 'amax' else np.inf
    return np.iinfo(dt).min if reduce == 'amax' else np.iinfo(dt).max   # (-max misses the lowest value)


def _reduce_into(a, idx, hit, s, reduce, include_self):
    """scatter_reduce's values: ``a`` with ``s`` reduced into the positions ``idx`` (``hit``: where they land)."""
    out = a.copy()
    if not include_self:
        out[hit] = _reduce_identity(reduce, a.dtype)
    _REDUCE_UFUNC[reduce].at(out, idx, s)
    if reduce == 'mean':
        n = _reduce_count(a.shape, idx, include_self)
        out = out // n.astype(a.dtype) if a.dtype.kind in 'iu' else (out / n).astype(a.dtype)
    return out


def _reduce_count(shape, idx, include_self):
    """How many values a mean takes at each position (1 where none: the position keeps its value)."""
    n = np.full(shape, 1.0 if include_self else 0.0)
    np.add.at(n, idx, 1.0)
    n[n == 0] = 1.0
    return n


class _ReduceIntoBackward(Node):
    """The gradients of scatter_reduce and index_reduce (PyTorch's scatter_reduce formulas): for sum, mean, amax
    and amin linear in g with constant weights (``wself`` for self, ``wg`` on g before it is gathered, ``wsrc``
    after; None: 1), so differentiable again; prod's (with its zero cases) on arrays by ``_prod_grads``, and under
    create_graph=True by PyTorch's formulas in differentiable ops (``_prod_grads_graph``)."""
    __slots__ = ('dim', 'index', 'src_shape', 'reduce', 'wself', 'wg', 'wsrc', 'prod', 'include_self')

    def backward(self, g):
        if self.reduce not in _REDUCES:     # scatter_reduce's forward takes 'max'/'min', its backward does not
            raise RuntimeError(f"Expected 'reduce' to be one of 'sum', 'prod', 'mean', 'amax', 'amin' but got "
                               f'{self.reduce}.')
        if self.prod is not None:
            return self.prod(g) if dual.is_array(g) else _prod_grads_graph(self, g, *self.saved())
        ga = g if self.wself is None else g * dual.const(self.wself, g)
        gg = g if self.wg is None else g * dual.const(self.wg, g)
        gs = _gather_grad(gg, self.dim, self.index)
        if self.wsrc is not None:
            gs = gs * dual.const(self.wsrc, g)
        return ga, _pad_to(gs, self.src_shape)


class IndexReduceBackward0(_ReduceIntoBackward):
    __slots__ = ()


forward_refusal.refusing(IndexReduceBackward0, 'index_reduce')   # no forward-mode formula in PyTorch


class ScatterReduceBackward0(_ReduceIntoBackward):
    __slots__ = ()


def _gather_grad(g, d, ix):
    if dual.is_array(g):
        return np.take_along_axis(g[tuple(slice(0, s) if k != d else slice(None) for k, s in enumerate(ix.shape))],
                                  ix, d)
    return gather(g, d, Tensor._make(ix))


def _pad_to(gs, shape):
    """The gradient of src: the gathered values where the index reached, zeros past the index's shape."""
    if tuple(gs.shape) == tuple(shape):
        return gs
    sl = tuple(slice(0, s) for s in gs.shape)
    if dual.is_array(gs):
        out = np.zeros(shape, gs.dtype)
        out[sl] = gs
        return out
    return index_put_grad(tuple(shape), sl, gs)


def _reduce_weights(node, a, idx, hit, s, r, reduce, include_self):
    """The backward's constant weights (see IndexReduceBackward0), or for prod its array closure."""
    node.wself = node.wg = node.wsrc = node.prod = None
    if reduce == 'sum':
        node.wself = None if include_self else ~hit
    elif reduce == 'mean':
        n = _reduce_count(a.shape, idx, include_self)
        node.wself = 1 / n if include_self else ~hit
        node.wg = 1 / n
    elif reduce in ('amax', 'amin'):
        # as PyTorch: self counts among the ties even when left out (include_self=False), then gets no gradient
        value = r[idx]
        self_is = a == r
        src_is = s == value
        n = self_is.astype(np.float64)
        np.add.at(n, idx, src_is)
        n[n == 0] = 1.0
        node.wself, node.wg, node.wsrc = (self_is if include_self else self_is & ~hit) / n, 1 / n, src_is
    else:
        node.prod = functools.partial(_prod_grads, a, idx, hit, s, r, include_self, node.src_shape)


def _prod_grads(a, idx, hit, s, r, include_self, src_shape, g):
    """PyTorch's gradients of a scatter product, exact where inputs are zero (a lone zero among the factors
    gets the product of the others; several zeros give 0)."""
    masked_self = np.where(a == 0, 1, a)
    if include_self:
        ga = g * _reduce_into(masked_self, idx, hit, s, 'prod', True) / masked_self
    else:
        ga = np.where(hit, 0, g)
    zero = s == 0
    nz = np.zeros(a.shape)
    np.add.at(nz, idx, zero)
    single = zero & (nz[idx] == 1)
    masked_src_result = _reduce_into(a, idx, hit, np.where(single, 1, s), 'prod', include_self)
    gs = np.where(single, (g * masked_src_result)[idx], (g * r)[idx] / np.where(zero, 1, s))
    return ga.astype(g.dtype), _pad_to(gs.astype(g.dtype), src_shape)


def _prod_grads_graph(node, g, a, source, r):
    """A scatter product's gradients in differentiable ops (PyTorch's scatter_reduce_backward for 'prod'): g times
    the product of the other factors at each position, a lone zero among them taking the product of the rest;
    where two or more zeros meet, src's gradient (0) carries a node whose backward raises, as PyTorch's
    DelayedError does."""
    from .pointwise import where
    d, ix, include_self = node.dim, node.index, node.include_self
    it = Tensor._make(ix)
    s = source[tuple(slice(0, k) for k in ix.shape)]
    masked_self = a.masked_fill(a == 0, 1)
    ga = g * _scatter_reduce_core(masked_self, d, ix, s, 'prod', include_self, ScatterReduceBackward0) / masked_self
    idx = list(np.indices(ix.shape, sparse=True))
    idx[d] = ix
    zero = s._data == 0
    count = np.zeros(a.shape)
    np.add.at(count, tuple(idx), zero)
    count = count[tuple(idx)]
    single = Tensor._make(zero & (count == 1))
    others = _scatter_reduce_core(a, d, ix, s.masked_fill(single, 1), 'prod', include_self, ScatterReduceBackward0)
    gs = where(single, gather(g * others, d, it), gather(g * r, d, it) / s.masked_fill(Tensor._make(zero), 1))
    if (count > 1).any():
        what = 'source' if isinstance(node, IndexReduceBackward0) else 'src'
        op = 'index_reduce' if what == 'source' else 'scatter_reduce'
        gs = Tensor._make(gs._data, undifferentiable('Error', f'{op}(): Double backward is unsupported for {what} '
                                                              f'when >1 zeros in {what} are scattered to the same '
                                                              'position in self', 'torch::autograd::Error')((gs,)))
    if not include_self:
        ga = scatter(ga, d, it, value=0.0)
    return ga, _pad_to(gs, node.src_shape)


def _scatter_reduce_core(input, d, ix, source, reduce, include_self, cls, name=None):
    """scatter_reduce on a checked index array ``ix`` (of at most source's shape), recorded as ``cls``: the one
    implementation of scatter_reduce and index_reduce. ``name``: the reduction the node reports (scatter_reduce
    keeps the 'max'/'min' it was given, whose backward PyTorch refuses)."""
    a, s = input._data, source._data
    s = s[tuple(slice(0, k) for k in ix.shape)]
    idx = list(np.indices(ix.shape, sparse=True))
    idx[d] = ix
    idx = tuple(idx)
    hit = np.zeros(a.shape, np.bool_)
    hit[idx] = True
    r = _reduce_into(a, idx, hit, s, reduce, include_self)
    if GRAD.enabled and (input._requires_grad or source._requires_grad):
        node = cls((input, source))
        node.dim, node.index, node.src_shape, node.reduce = d, ix, source._data.shape, name or reduce
        node.include_self = include_self
        _reduce_weights(node, a, idx, hit, s, r, reduce, include_self)
        out = Tensor._make(r, node)
        if reduce == 'prod':   # its double backward reads them, as PyTorch saves them for it
            node.save(input, source)
            node.save_output(out)
        return out
    return Tensor._make(r)


def _refuse_bool(input, kernel):
    if input._data.dtype == np.bool_:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


@_quiet.rerun
def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``input`` with the slices of ``source`` reduced (prod, mean, amax, amin) into the positions ``index``
    along ``dim`` (scatter_reduce with the index spread along source's other dims)."""
    try:
        warn_user('index_reduce() is in beta and the API may change at any time.', once=True,
                  internally='aten/src/ATen/native/TensorAdvancedIndexing.cpp:1523')   # TORCH_WARN_ONCE
        if reduce not in ('prod', 'mean', 'amax', 'amin'):
            raise RuntimeError(f'index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.')
        a, src, d, ix = _index_source('index_reduce_', input, dim, index, source)
        if not include_self or a.ndim <= 1:   # PyTorch's 2-d and larger inputs take a kernel that takes bool
            _refuse_bool(input, 'index_func_' if include_self else 'index_reduce_func_exclude_input_init')
        ix = ix.astype(np.int64)
        want = a.shape[:d] + (ix.size,) + a.shape[d + 1:]
        if src.shape != want:
            raise RuntimeError(f'index_reduce_(): Number of indices ({ix.size}) should be equal to source.size(dim): '
                               f'({src.shape[d] if src.ndim > d else 1}), for dim: {d}')
        n = a.shape[d]
        bad = ix[(ix < 0) | (ix >= n)]
        if bad.size:
            raise IndexError('index out of range in self')
        if a.ndim > 1 and reduce == 'mean':
            _refuse_bool(input, 'div_floor_cpu')
        full = np.broadcast_to(ix.reshape(tuple(-1 if k == d else 1 for k in range(a.ndim))), want)
        from .indexed import _guard_reduce
        return _guard_reduce(_scatter_reduce_core(input, d, np.ascontiguousarray(full), source, reduce, include_self,
                                                  IndexReduceBackward0), input, index, source)
    except Exception:
        check_tensor_args('index_reduce', 'input', 'index', 'source')
        raise
