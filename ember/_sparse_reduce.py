"""``torch.sparse.mm(csr, dense, reduce)``: a CSR matrix times a dense one where each output row reduces its
entries' products ``v * dense[col]`` by sum, mean, amax or amin (PyG's SAGEConv/spmm with ``aggr='mean'``/``'max'``
on a sparse adjacency). As PyTorch's CPU kernel: each product rounded, then added in stored order; a row without
entries gives 0; amax/amin send the gradient to the first entry reaching the extreme. Only the dense operand is
differentiated (ember's compressed tensors never require grad), recorded as SparseMmReduceImplBackward0."""
import numpy as np

from . import _layout
from ._sparse import _spmm
from .autograd import dual
from .autograd.grad_mode import GRAD
from .autograd.graph import Node
from .tensor import Tensor

_REDUCES = ('sum', 'prod', 'mean', 'amax', 'amin')
_NAMES = {np.dtype(np.float32): 'Float', np.dtype(np.float64): 'Double', np.dtype(np.float16): 'Half'}


def _check(mat1, mat2, reduce):
    """PyTorch's refusals, in its order: the reduction's name, the layouts, the dtypes and shapes."""
    if reduce not in _REDUCES:
        raise RuntimeError(f'reduce argument must be either sum, prod, mean, amax or amin, got {reduce}')
    if getattr(mat1, 'layout', None) is not _layout.sparse_csr:
        got = {_layout.sparse_coo: 'SparseCPU', _layout.sparse_csc: 'SparseCsc'}.get(getattr(mat1, 'layout', None))
        if got == 'SparseCsc':
            raise RuntimeError('sparse_mm_reduce: expect self to be SparseCsr, got SparseCsc')
        raise NotImplementedError(f"Could not run 'aten::_sparse_mm_reduce_impl' with arguments from the "
                                  f"'{got or 'CPU'}' backend. torch.sparse.mm with reduce= takes a sparse CSR "
                                  f"first operand (convert it with .to_sparse_csr())")
    if reduce == 'prod':
        raise RuntimeError('sparse_mm_reduce: reduce type of prod has not been enabled.')
    if isinstance(mat2, Tensor) and getattr(mat2, 'is_sparse', False):
        raise NotImplementedError("ember's torch.sparse.mm with reduce= takes a strided second operand")
    if mat2.dim() != 2:
        raise RuntimeError(f'sparse_mm_reduce: expect other to be 2D tensor, got {mat2.dim()}D tensor')
    da, db = mat1._vals.dtype, mat2._data.dtype
    if da != db:
        raise RuntimeError(f"Expected tensor for argument #1 'other' to have scalar type {_NAMES.get(da, da)}; but "
                           f"got torch.{_NAMES.get(db, db)}Tensor instead (while checking arguments for "
                           f"sparse_mm_reduce)")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and '
                           f'{mat2.shape[0]}x{mat2.shape[1]})')


def _extreme(s, x, reduce):
    """Each row's amax/amin of its products (0 for an empty row) and, per output element, the entry reaching it
    first (-1 where the row is empty)."""
    rows, cols = s._idx
    n, k = s._shape[0], x.shape[1]
    out = np.zeros((n, k), x.dtype)
    arg = np.full((n, k), -1, np.int64)
    if not len(rows):
        return out, arg
    prod = s._vals[:, None] * x[cols]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])     # CSR: rows ascending, entries grouped
    best = (np.maximum if reduce == 'amax' else np.minimum).reduceat(prod, starts, axis=0)
    owner = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(rows)]))
    hit = prod == best[owner]
    first = np.where(hit, np.arange(len(rows))[:, None], len(rows))
    out[rows[starts]] = best
    arg[rows[starts]] = np.minimum.reduceat(first, starts, axis=0)
    return out, arg


def sparse_mm_reduce(mat1, mat2, reduce):
    """The reduced product, recorded when ``mat2`` requires grad."""
    _check(mat1, mat2, reduce)
    x = mat2._data
    arg = None
    if reduce in ('sum', 'mean'):
        out = _spmm(mat1, 0, x)
        if reduce == 'mean':
            count = np.bincount(mat1._idx[0], minlength=mat1._shape[0]).astype(x.dtype)
            out /= np.maximum(count, 1)[:, None]
    else:
        out, arg = _extreme(mat1, x, reduce)
    if GRAD.enabled and mat2._requires_grad:
        node = SparseMmReduceImplBackward0((None, mat2))
        node.sparse, node.reduce, node.arg, node.n_other = mat1, reduce, arg, x.shape[0]
        return Tensor._make(out, node)
    return Tensor._make(out)


class SparseMmReduceImplBackward0(Node):
    """The dense operand's gradient: each entry's value (over its row's count for mean) times the gradient of its
    row, added into its column's row (sum/mean), or only the winning entry's (amax/amin). Under create_graph the
    same sums are built from recorded ops, so the gradient differentiates again."""
    __slots__ = ('sparse', 'reduce', 'arg', 'n_other')

    def backward(self, g):
        s = self.sparse
        rows, cols = s._idx
        if self.reduce in ('sum', 'mean'):
            w = s._vals
            if self.reduce == 'mean':
                count = np.bincount(rows, minlength=s._shape[0]).astype(w.dtype)
                w = w / count[rows]
            src_rows, dst, w = rows, cols, w[:, None]
        else:
            r, k = np.nonzero(self.arg >= 0)
            e = self.arg[r, k]
            src_rows, dst, w = (r, k), (cols[e], k), s._vals[e]
        if dual.is_array(g):
            out = np.zeros((self.n_other,) + g.shape[1:], g.dtype)
            np.add.at(out, dst, w * g[src_rows])
            return (None, out)
        at = tuple(Tensor._make(i) for i in src_rows) if isinstance(src_rows, tuple) else Tensor._make(src_rows)
        contrib = g[at] * Tensor._make(np.asarray(w, g._data.dtype))
        zero = Tensor._make(np.zeros((self.n_other,) + tuple(g.shape[1:]), g._data.dtype))
        if isinstance(dst, tuple):
            return (None, zero.index_put(tuple(Tensor._make(i) for i in dst), contrib, accumulate=True))
        return (None, zero.index_add(0, Tensor._make(dst), contrib))
