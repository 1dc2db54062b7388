"""The memory layout of an advanced-indexing result, as PyTorch lays it out: ``x[:, idx]`` of a transposed ``x``
keeps ``x``'s order of dims (its strides and ``is_contiguous()`` show it), where NumPy's fancy indexing gives its
own. PyTorch applies the basic parts of the index as a view (None as unsqueeze), turns each bool mask into its
nonzero columns, broadcasts the index tensors, moves them to the front when they are not adjacent, puts them in
the view as stride-0 dims, and lets TensorIterator order the dims by the operands' strides (its
reorder_dimensions) before it allocates the result dense in that order."""
import numpy as np

from .._layout import stride_order


def _view_and_indices(a, idx):
    """PyTorch's view of ``a`` under the basic parts of ``idx`` as (shape, strides, indices): one index entry a
    dim, None or the (shape, strides) of the index tensor there; None where ``idx`` holds something else."""
    shape, strides = a.shape, [s // a.itemsize for s in a.strides]
    consumed = sum(i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1
                   for i in idx if i is not None and i is not Ellipsis)
    out_shape, out_strides, indices, d = [], [], [], 0

    def keep(n, st, index=None):
        out_shape.append(n)
        out_strides.append(st)
        indices.append(index)
    for i in idx:
        if i is None:     # unsqueeze: the stride of the dim it goes before, times that dim's size
            keep(1, shape[d] * strides[d] if d < len(shape) else 1)
        elif i is Ellipsis:
            for _ in range(len(shape) - consumed):
                keep(shape[d], strides[d])
                d += 1
        elif isinstance(i, slice):
            start, stop, step = i.indices(shape[d])
            keep(len(range(start, stop, step)), strides[d] * step)
            d += 1
        elif isinstance(i, np.ndarray) and i.dtype == np.bool_:
            k, nnz = max(i.ndim, 1), int(np.count_nonzero(i))
            for j in range(i.ndim):   # the columns of nonzero's (nnz, k) result
                keep(shape[d], strides[d], ((nnz,), (k,)))
                d += 1
        elif isinstance(i, np.ndarray) and i.dtype.kind in 'iu':
            keep(shape[d], strides[d], (i.shape, tuple(s // i.itemsize for s in i.strides)))
            d += 1
        else:
            return None
    for d in range(d, len(shape)):
        keep(shape[d], strides[d])
    return out_shape, out_strides, indices


def _expanded(shape, strides, to):
    """The strides of a tensor of ``shape`` expanded to shape ``to``."""
    lead = len(to) - len(shape)
    return tuple(0 if k < lead or (shape[k - lead] == 1 and n != 1) else strides[k - lead] for k, n in enumerate(to))


def _view_strides(old_shape, old_strides, new_shape):
    """The strides of ``reshape`` as a view (c10's computeStride), or None where it must copy."""
    if not old_shape:
        return [1] * len(new_shape)
    new_strides = [0] * len(new_shape)
    view_d, base, tensor_n, view_n = len(new_shape) - 1, old_strides[-1], 1, 1
    for d in range(len(old_shape) - 1, -1, -1):
        tensor_n *= old_shape[d]
        if d == 0 or (old_shape[d - 1] != 1 and old_strides[d - 1] != tensor_n * base):
            while view_d >= 0 and (view_n < tensor_n or new_shape[view_d] == 1):
                new_strides[view_d] = view_n * base
                view_n *= new_shape[view_d]
                view_d -= 1
            if view_n != tensor_n:
                return None
            if d > 0:
                base, tensor_n, view_n = old_strides[d - 1], 1, 1
    return None if view_d != -1 else new_strides


def _contiguous(shape):
    strides, acc = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = acc
        acc *= shape[d]
    return strides


def _operands(a, idx):
    """(result shape, [strides of each TensorIterator input]) of PyTorch's index op, or None."""
    found = _view_and_indices(a, idx)
    if found is None:
        return None
    shape, strides, indices = found
    placed = [k for k, i in enumerate(indices) if i is not None]
    if not placed:
        return None
    common = indices[placed[0]][0] if len(placed) == 1 else \
        tuple(np.broadcast_shapes(*(indices[k][0] for k in placed)))
    if placed != list(range(placed[0], placed[-1] + 1)):    # not adjacent: the indexed dims go first
        order = placed + [k for k in range(len(shape)) if k not in placed]
        shape, strides, indices = [shape[k] for k in order], [strides[k] for k in order], [indices[k] for k in order]
        placed = list(range(len(placed)))
    before, after = placed[0], len(shape) - placed[-1] - 1
    out = list(shape[:before]) + list(common) + list(shape[placed[-1] + 1:])
    ops = [list(strides[:before]) + [0] * len(common) + list(strides[placed[-1] + 1:])]
    reshaped = [1] * before + list(common) + [1] * after
    for k in placed:
        st = _view_strides(common, _expanded(*indices[k], common), reshaped)
        st = _contiguous(reshaped) if st is None else st
        ops.append([0 if n == 1 and m != 1 else s for s, n, m in zip(st, reshaped, out)])
    return out, ops


def _order(shape, ops):
    """TensorIterator's order of the dims, fastest first (its reorder_dimensions)."""
    return list(reversed(stride_order(shape, ops)))


def result_order(a, idx):
    """The order of the dims of PyTorch's result of advanced index ``idx`` into array ``a``, fastest first, as
    (shape, order); None where this does not model it."""
    found = _operands(a, idx)
    return None if found is None else (found[0], _order(*found))


def _ordered(a, idx):
    """Whether PyTorch's result is plainly dense: ``a``'s dims (of size > 1) run from slowest to fastest and each
    integer index is C-contiguous, so TensorIterator keeps the dims in order (a mask's nonzero columns, alone in
    the advanced group's place, order nothing)."""
    last = None
    for n, st in zip(a.shape, a.strides):
        if n != 1:
            if last is not None and abs(st) > last:
                return False
            last = abs(st)
    return all(not isinstance(i, np.ndarray) or i.dtype == np.bool_ or i.flags.c_contiguous for i in idx)


def laid_out(a, idx, arr):
    """``arr`` (NumPy's ``a[idx]``) in PyTorch's layout: itself where the strides agree, else a copy so laid out.
    Checked first without the model (about 1 us; the model costs some 30): the plain dense case."""
    if type(arr) is not np.ndarray or not arr.size:
        return arr
    if _ordered(a, idx):
        if arr.flags.c_contiguous and not any(i is None for i in idx):
            return arr
        return np.array(arr, order='C')    # (a new array: strides standard also on its size-1 dims)
    found = result_order(a, idx)
    if found is None or len(found[0]) != arr.ndim:
        return arr
    shape, order = found
    slowest_first = order[::-1]
    out = np.empty(tuple(shape[d] for d in slowest_first), arr.dtype).transpose(np.argsort(slowest_first))
    if out.strides == arr.strides:
        return arr
    out[...] = arr
    return out
