"""Ops that build or rearrange matrices: triangle indices, rot90, kron, block_diag, diag_embed, cartesian_prod and
fill_diagonal_, each recorded under PyTorch's grad_fn."""
import numpy as np

from .. import _layout
from .._dtype import scalar_name, to_np
from ..autograd import dual
from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import wrap_dim, check_tensor_args


def _triangle_indices(np_fn, row, col, offset, dtype):
    """The (2, n) row and column indices of a triangle of a ``row`` x ``col`` matrix, row by row."""
    if row < 0 or col < 0:
        raise RuntimeError(f'row must be non-negative, got{row}' if row < 0 else f'col must be non-negative, got{col}')
    nd = to_np(dtype) or np.dtype(np.int64)
    if nd not in (np.int32, np.int64):   # PyTorch's kernel takes the index types only
        raise NotImplementedError(f'"{np_fn.__name__}" not implemented for \'{scalar_name(nd)}\'')
    r, c = np_fn(row, offset, col)
    return Tensor._make(np.stack([r, c]).astype(nd).reshape(2, -1))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Indices of the lower triangle (on and below diagonal ``offset``) of a row x col matrix."""
    return _triangle_indices(np.tril_indices, row, col, offset, dtype)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Indices of the upper triangle (on and above diagonal ``offset``) of a row x col matrix."""
    return _triangle_indices(np.triu_indices, row, col, offset, dtype)


class Rot90Backward0(Node):
    """The gradient rotated back."""
    __slots__ = ('k', 'dims')

    def backward(self, g):
        return _rot90_arr(g, -self.k, self.dims) if dual.is_array(g) else rot90(g, -self.k, self.dims)


def _rot90_arr(a, k, dims):
    """``a`` rotated k quarter turns from dims[0] towards dims[1], laid out as PyTorch's copy (a flip, then
    a transposed view for odd k)."""
    d0, d1 = dims
    k %= 4
    if k == 1:
        return np.swapaxes(_flipped(a, d1), d0, d1)
    if k == 2:
        return _flipped(a, (d0, d1))
    if k == 3:
        return np.swapaxes(_flipped(a, d0), d0, d1)
    return a.copy()


def _flipped(a, dims):
    """``a`` flipped along ``dims``, a copy in a's layout as PyTorch's flip (preserve_format)."""
    order = _layout.like_order(a) if type(a) is np.ndarray and not a.flags.c_contiguous else None
    r = np.flip(a, dims)
    return r.copy() if order is None or order == tuple(range(a.ndim)) else _layout.copy_in_order(r, order)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first dim towards the second)."""
    a = input._data
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f'expected total rotation dims == 2, but got dims = {len(dims)}')
    if a.ndim < 2:
        raise RuntimeError(f'expected total dims >= 2, but got total dims = {a.ndim}')
    d0, d1 = dims
    w0, w1 = wrap_dim(d0, a.ndim), wrap_dim(d1, a.ndim)
    if d0 == d1 or abs(d0 - d1) == a.ndim:
        raise RuntimeError(f'expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}')
    d0, d1 = w0, w1
    r = _rot90_arr(a, k, (d0, d1))
    if GRAD.enabled and input._requires_grad:
        node = Rot90Backward0((input,))
        node.k, node.dims = k, (d0, d1)
        return Tensor._make(r, node)
    return Tensor._make(r)


def kron(input, other):
    """The Kronecker product, as PyTorch composes it: both operands viewed with interleaved unit dims,
    multiplied, and the product viewed as the result (UnsafeViewBackward0 over MulBackward0)."""
    from .pointwise import mul
    from .shape import UnsafeViewBackward0, _result
    try:
        nd = max(input._data.ndim, other._data.ndim)
    except (AttributeError, TypeError):
        check_tensor_args('kron', 'input', 'other')
        raise
    sa = (1,) * (nd - input._data.ndim) + input._data.shape
    sb = (1,) * (nd - other._data.ndim) + other._data.shape
    a = _result(input, input._data.reshape([v for s in sa for v in (s, 1)]), UnsafeViewBackward0, view=False,
                shape=input._data.shape)
    b = _result(other, other._data.reshape([v for s in sb for v in (1, s)]), UnsafeViewBackward0, view=False,
                shape=other._data.shape)
    prod = mul(a, b)
    out = tuple(x * y for x, y in zip(sa, sb))
    return _result(prod, prod._data.reshape(out), UnsafeViewBackward0, view=False, shape=prod._data.shape)


class BlockDiagBackward0(Node):
    """Each input's gradient is its block of the output's."""
    __slots__ = ('blocks',)

    def backward(self, g):
        out = []
        for (r, c, shape, dt) in self.blocks:
            if dt is None:
                out.append(None)
                continue
            piece = g[r:r + (shape[0] if len(shape) == 2 else 1), c:c + (shape[-1] if shape else 1)]
            if dual.is_array(piece):
                out.append(piece.reshape(shape).astype(dt, copy=False))
            else:
                out.append(piece.reshape(shape).to(piece.dtype))
        return tuple(out)


def block_diag(*tensors):
    """The inputs (0-d as 1x1, 1-d as one row) as blocks down the diagonal of one matrix of their promoted dtype."""
    from .._dtype import FROM_NP, promote_types, to_np as np_of
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(f'torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has '
                               f'{t._data.ndim} dimensions')
    dt = None
    for t in tensors:
        dt = FROM_NP[t._data.dtype] if dt is None else promote_types(dt, FROM_NP[t._data.dtype])
    nd = np_of(dt) if dt is not None else np.dtype(np.float32)
    shapes = [t._data.shape if t._data.ndim == 2 else (1, t._data.size if t._data.ndim else 1) for t in tensors]
    out = np.zeros((sum(s[0] for s in shapes), sum(s[1] for s in shapes)), nd)
    r = c = 0
    blocks = []
    for t, s in zip(tensors, shapes):
        out[r:r + s[0], c:c + s[1]] = t._data.reshape(s)
        blocks.append((r, c, t._data.shape, t._data.dtype if t._requires_grad else None))
        r, c = r + s[0], c + s[1]
    if GRAD.enabled and any(t._requires_grad for t in tensors):
        node = BlockDiagBackward0(tuple(tensors))
        node.blocks = blocks
        return Tensor._make(out, node)
    return Tensor._make(out)


class DiagEmbedBackward0(Node):
    """The gradient's diagonal (offset, dim1, dim2), as the input's last dim."""
    __slots__ = ('offset', 'dim1', 'dim2')

    def backward(self, g):
        if dual.is_array(g):
            return np.diagonal(g, self.offset, self.dim1, self.dim2).copy()
        from . import diagonal
        return diagonal(g, self.offset, self.dim1, self.dim2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose diagonals (offset, in the planes of dim1 and dim2) hold the input's last dim."""
    try:
        a = input._data
        nd = a.ndim + 1
        d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
        if d1 == d2:
            raise RuntimeError(f'diagonal dimensions cannot be identical {dim1}, {dim2}')
        n = (a.shape[-1] if a.ndim else 1) + abs(offset)
        rest = list(a.shape[:-1])
        shape = []
        it = iter(rest)
        for d in range(nd):
            shape.append(n if d in (d1, d2) else next(it))
        out = np.zeros(shape, a.dtype)
        idx = np.arange(n - abs(offset))
        rows, cols = (idx, idx + offset) if offset >= 0 else (idx - offset, idx)
        sel = [slice(None)] * nd
        sel[d1], sel[d2] = rows, cols
        # NumPy puts the axis of two advanced indices first when they are not adjacent, else where they stand
        out[tuple(sel)] = np.moveaxis(a.reshape(a.shape or (1,)), -1, 0 if abs(d1 - d2) != 1 else min(d1, d2))
        if GRAD.enabled and input._requires_grad:
            node = DiagEmbedBackward0((input,))
            node.offset, node.dim1, node.dim2 = offset, d1, d2
            return Tensor._make(out, node)
        return Tensor._make(out)
    except (AttributeError, TypeError):
        check_tensor_args('diag_embed', 'input')
        raise


def cartesian_prod(*tensors):
    """Every combination of the inputs' elements as rows (the input itself for one tensor)."""
    if len(tensors) == 1:
        return tensors[0]
    from .shape import meshgrid, stack, flatten
    return stack([flatten(g) for g in meshgrid(*tensors, indexing='ij')], 1)


def fill_diagonal_(input, fill_value, wrap=False):
    """Fill the main diagonal in place (of a 2-d tensor, or an n-d one with equal dims); ``wrap``: for a tall
    matrix, continue below every width + 1 rows as PyTorch's strided fill does. Recorded as CopySlices."""
    a = input._data
    if a.ndim < 2:
        raise RuntimeError('dimensions must larger than 1')
    if a.ndim > 2 and any(s != a.shape[0] for s in a.shape):
        raise RuntimeError('all dimensions of input must be of equal length')
    n = min(a.shape)
    if a.ndim == 2 and wrap and a.shape[0] > a.shape[1] + 1:
        flat = np.arange(0, a.size, a.shape[1] + 1)
        idx = (flat // a.shape[1], flat % a.shape[1])
    else:
        idx = (np.arange(n),) * a.ndim
    from .indexing import setitem
    setitem(input, tuple(Tensor._make(i) for i in idx), fill_value, _through_view=True)
    return input
