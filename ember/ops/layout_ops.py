"""Ops about a tensor's memory layout that PyTorch 2.x added: ``Tensor.dim_order()`` (the dims from outermost to
innermost in memory) and ``torch.as_strided_scatter`` (src written where ``as_strided`` would look)."""
import numpy as np

from .._layout import channels_last, memory_format as _memory_format
from ..tensor import Tensor
from ._composite import composite, node_class
from .indexing import index_put
from ._util import check_tensor_args

AsStridedScatterBackward0 = node_class('AsStridedScatterBackward0', unchecked=(0, 1))   # (linear: saves neither)

_BAD_CHECK = 'The ambiguity_check argument must be a bool or a list of memory formats.'


def _strides(t):
    return tuple(s // t._data.itemsize for s in t._data.strides)


def _outer_first(t, i, j):
    """Whether dim i lies outside dim j in memory (1), inside it (-1), or either (0): PyTorch's comparison for
    an elementwise result's layout (a zero stride says nothing; equal strides put the longer dim outside)."""
    shape, stride = t._data.shape, _strides(t)
    si, sj = stride[i], stride[j]
    if si == 0 or sj == 0:
        return 0

    def at_least(a, b):
        return b == 0 or (a != 0 and (a >= b or a % b == 0))
    if si == sj:
        return 0 if at_least(shape[j], shape[i]) else 1
    if at_least(sj, si):
        return -1
    return 1 if at_least(si, sj) else 0


def _is_cl(t):
    return t._data.ndim == 4 and t.is_contiguous(memory_format=channels_last)


def dim_order(self, *, ambiguity_check=False):
    """The dims of this dense tensor from outermost to innermost in memory; ``ambiguity_check`` (True, or a list
    of memory formats of which exactly one must fit) refuses a tensor whose order is not unique."""
    if self.is_sparse:
        raise AttributeError(f"Can't get dim order on sparse type: {self.type()} Use Tensor.to_dense() to convert "
                             'to a dense tensor first.')
    if not isinstance(ambiguity_check, bool) and not (
            isinstance(ambiguity_check, list) and all(isinstance(m, _memory_format) for m in ambiguity_check)):
        raise TypeError(_BAD_CHECK)
    shape, stride = self._data.shape, _strides(self)
    formats = ambiguity_check if isinstance(ambiguity_check, list) else []
    if ambiguity_check is not False or formats:
        several = 1 in shape or any(a == b for a, b in zip(stride, stride[1:]))
        if several and sum(bool(self.is_contiguous(memory_format=m)) for m in formats) != 1:
            raise RuntimeError('The tensor does not have unique dim order, or cannot map to exact one of the given '
                               'memory formats.')
    n = len(shape)
    if n < 2:
        return tuple(range(n))
    contiguous, cl = self.is_contiguous(), _is_cl(self)
    if contiguous and not cl:
        return tuple(range(n))
    if cl and not contiguous:
        return (0,) + tuple(range(2, n)) + (1,)
    order = list(range(n))[::-1]      # innermost first while sorting: an insertion sort, stopping at a "keep"
    for i in range(1, n):
        k = i
        for m in range(i - 1, -1, -1):
            c = _outer_first(self, order[m], order[k])
            if c > 0:
                order[m], order[k] = order[k], order[m]
                k = m
            elif c < 0:
                break
    if ambiguity_check and any(_outer_first(self, a, b) != -1 for a, b in zip(order, order[1:])):
        raise RuntimeError('The tensor does not have unique dim order.')
    return tuple(order[::-1])


def _storage_positions(a):
    """For each storage slot of a dense (gap-free, non-overlapping) array ``a``, the flat C-order index of the
    element kept there; None when ``a``'s memory has gaps or overlaps."""
    item = a.itemsize
    stride = np.array([s // item for s in a.strides], np.int64)
    if a.size == 0:
        return np.zeros(0, np.int64)
    grids = np.indices(a.shape, sparse=True)
    pos = sum((g * s for g, s in zip(grids, stride)), np.zeros((1,) * a.ndim, np.int64)).reshape(-1)
    pos = np.broadcast_to(pos, (a.size,)) if pos.size == 1 else pos
    lo = pos.min()
    if pos.max() - lo + 1 != a.size:
        return None
    inv = np.full(a.size, -1, np.int64)
    inv[pos - lo] = np.arange(a.size)
    return None if (inv < 0).any() else inv


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """``input`` (a copy keeping its layout) with ``src`` written into ``copy.as_strided(size, stride,
    storage_offset)`` (the offset 0 by default, into the copy's own storage)."""
    try:
        a = input._data
        size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
        offset = 0 if storage_offset is None else int(storage_offset)
        if tuple(src.shape) != size:
            raise RuntimeError(f'expected src to have a size equal to the slice of self. src size = {list(src.shape)}, '
                               f'slice size = {list(size)}')
        need = 0 if 0 in size else offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        if need > a.size:
            raise RuntimeError(f'setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and '
                               f'itemsize {a.itemsize} requiring a storage size of {need * a.itemsize} are out of bounds '
                               f'for storage of size {a.size * a.itemsize}')
        inv = _storage_positions(a)
        if inv is None:
            raise NotImplementedError('ember scatters as_strided into a tensor whose elements fill their memory only '
                                      '(not a strided slice or an expanded tensor): call .contiguous() first')
        where = offset + sum((np.arange(n, dtype=np.int64).reshape((-1,) + (1,) * (len(size) - k - 1)) * s
                              for k, (n, s) in enumerate(zip(size, stride))), np.zeros(size, np.int64))
        at = (Tensor._make(inv[where]),)

        def compose(x, s):
            return index_put(x.reshape(-1), at, s.to(x.dtype)).reshape(a.shape)
        return composite(AsStridedScatterBackward0, compose, (input, src))
    except (AttributeError, TypeError):
        check_tensor_args('as_strided_scatter', 'input', 'src')
        raise
