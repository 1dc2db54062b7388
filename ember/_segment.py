"""``torch.segment_reduce`` (``torch._segment_reduce``) and the CSR index conversions
``torch._convert_indices_from_coo_to_csr``/``_csr_to_coo``: private torch functions that PyTorch Geometric calls
(utils/_segment.py, index.py, edge_index.py). A reduction runs segment by segment along axis 0, each segment's
length from ``lengths`` or consecutive ``offsets``; it is composed of ember's index_add/scatter_reduce and recorded
as PyTorch's one SegmentReduceBackward0 node."""
import numpy as np

from . import _quiet
from .autograd import forward_refusal
from .ops._composite import composite, node_class
from .tensor import Tensor

# (PyTorch saves the output; it has no forward-mode formula)
_SegmentReduceBackward0 = forward_refusal.refusing(node_class('SegmentReduceBackward0', result=True), 'segment_reduce')
_IDENTITY = {'sum': 0.0, 'mean': 0.0, 'amax': -np.inf, 'amin': np.inf, 'prod': 1.0}


@_quiet.quietly
def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0, unsafe=False, initial=None):
    """Reduce ``data`` ('sum', 'mean', 'amax'/'max', 'amin'/'min', 'prod') over consecutive segments of axis 0;
    ``initial`` starts each segment's reduction (an empty segment gives it; a mean without it gives NaN)."""
    reduce = {'max': 'amax', 'min': 'amin'}.get(reduce, reduce)
    if reduce not in _IDENTITY:
        raise RuntimeError(f'reduce argument must be either sum, prod, mean, amax or amin, got {reduce}')
    if indices is not None:
        raise RuntimeError('segment_reduce(): indices based reduction is not supported yet.')
    if lengths is None and offsets is None:
        raise RuntimeError('segment_reduce(): Either lengths or offsets must be defined.')
    if data.dtype.is_complex or not data.dtype.is_floating_point:
        raise NotImplementedError(f'"_segment_reduce_cpu" not implemented for \'{_type_name(data)}\'')
    start, sizes = _segments(data, lengths, offsets, axis, unsafe)
    seg = np.repeat(np.arange(sizes.size), sizes)
    out = composite(_SegmentReduceBackward0, _reduce, (data,), reduce=reduce, start=start, seg=seg, sizes=sizes,
                    initial=initial)
    if out.grad_fn is not None:
        out.grad_fn.guard(lengths, offsets)   # (and lengths or offsets, which ember's backward read as arrays)
    return out


def _type_name(t):
    return str(t.dtype).rpartition('.')[2].capitalize().replace('Int64', 'Long').replace('Int32', 'Int')


def _segments(data, lengths, offsets, axis, unsafe):
    """(first element, segment sizes) along axis 0 from ``lengths`` (preferred, as PyTorch) or ``offsets``."""
    bounds = lengths if lengths is not None else offsets
    if bounds.dim() != 1 or axis not in (0, -data.dim()):
        raise NotImplementedError('segment_reduce with multi-dimensional lengths/offsets or axis other than 0 is '
                                  'not supported by ember yet')
    values = bounds.detach().numpy().astype(np.int64)
    if lengths is not None:
        start, sizes = 0, values
        if (values < 0).any() or values.sum() != data.shape[0]:
            raise RuntimeError('segment_reduce(): Expected all rows of lengths along axis to sum to '
                               'data.size(lengths.dim()-1) when !unsafe.')
        return start, sizes
    sizes = np.diff(values)
    if values.size == 0 or (sizes < 0).any() or values[0] < 0 or values[-1] > data.shape[0]:
        raise RuntimeError(f'segment_reduce(): offsets must be non-decreasing and within the {data.shape[0]} '
                           f'elements of data along axis 0, got {values.tolist()}')
    return int(values[0]), sizes


def _reduce(data, *, reduce, start, seg, sizes, initial):
    """The reduction in ember ops (differentiable in ``data``)."""
    from . import full, where
    part = data.narrow(0, start, seg.size)
    fill = _IDENTITY[reduce] if initial is None else initial
    base = full((sizes.size,) + tuple(data.shape[1:]), fill, dtype=data.dtype)
    index = Tensor._make(seg)
    if reduce in ('sum', 'mean'):
        out = base.index_add(0, index, part)
        if reduce == 'mean':
            count = Tensor._make(sizes.reshape((-1,) + (1,) * (data.dim() - 1)).astype(data._data.dtype))
            empty = fill if initial is not None else float('nan')
            out = where(count > 0, out / count.clamp(min=1), empty)
        return out
    expanded = index.reshape((-1,) + (1,) * (data.dim() - 1)).expand(part.shape)
    return base.scatter_reduce(0, expanded, part, reduce, include_self=True)


def _convert_indices_from_coo_to_csr(input, size, *, out_int32=False, out=None):
    """The CSR row pointer (``size + 1`` entries) of sorted COO row indices ``input``."""
    from .ops.inplace import write_out
    rows = input.detach().numpy()
    ptr = np.searchsorted(rows, np.arange(size + 1), side='left').astype(np.int32 if out_int32 else np.int64)
    result = Tensor._make(ptr)
    return result if out is None else write_out('_convert_indices_from_coo_to_csr', result, out)


def _convert_indices_from_csr_to_coo(crow_indices, col_indices, *, out_int32=False, transpose=False, out=None):
    """The 2 x nnz COO indices (rows, columns; the reverse with ``transpose``) of CSR ``crow_indices``/``col_indices``."""
    from .ops.inplace import write_out
    ptr, cols = crow_indices.detach().numpy(), col_indices.detach().numpy()
    rows = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
    pair = (cols, rows) if transpose else (rows, cols)
    result = Tensor._make(np.stack(pair).astype(np.int32 if out_int32 else np.int64))
    return result if out is None else write_out('_convert_indices_from_csr_to_coo', result, out)
