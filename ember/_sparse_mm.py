"""Sparse-times-dense products that stay sparse: ``torch.sspaddmm`` (and its older name ``saddmm``), ``smm`` and
``hspmm``. The product of a sparse COO (n, m) by a dense (m, p) is kept for the rows the sparse factor has entries
in (sorted, all p columns), as PyTorch's CPU kernels keep it: sspaddmm appends those entries to beta * input's,
uncoalesced; hspmm returns them as a hybrid tensor (one sparse dim, rows of p values). PyTorch has no derivative
for them (NotImplemented nodes)."""
import numpy as np

from ._dtype import scalar_name
from .autograd.grad_mode import GRAD
from .ops._util import arg_error, undifferentiable
from .tensor import Tensor

SspaddmmNotImplemented = undifferentiable('NotImplemented', 'derivative for aten::sspaddmm is not implemented',
                                          'torch::autograd::NotImplemented')
HspmmNotImplemented = undifferentiable('NotImplemented', 'derivative for aten::hspmm is not implemented',
                                       'torch::autograd::NotImplemented')


def _rows_product(op, mat1, mat2):
    """(rows, their rows of mat1 @ mat2): mat1 sparse COO (n, m), mat2 dense (m, p), with PyTorch's checks."""
    from . import _layout
    if mat1.layout is not _layout.sparse_coo:
        raise RuntimeError(f"{op}: expected 'mat1' to have sparse layout, got 'mat1' with layout "
                           f"{'Strided' if not mat1.is_sparse else mat1.layout}")
    if mat2.is_sparse:
        raise RuntimeError(f"{op}: expected 'mat2' to have strided layout, got 'mat2' with layout Sparse")
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f'{op}: Argument #2: Expected 2-D tensors, got {mat1.dim()}-D and {mat2.dim()}-D')
    if mat2.shape[0] != mat1.shape[1]:
        raise RuntimeError(f'{op}: Argument #3: Expected dim 0 size {mat1.shape[1]}, got {mat2.shape[0]}')
    if mat1.dtype != mat2.dtype:
        raise RuntimeError(f'expected scalar type {scalar_name(mat1.dtype)} but found {scalar_name(mat2.dtype)}')
    c = mat1.detach().coalesce()
    idx, vals, dense = c._indices()._data, c._values()._data, mat2._data
    rows = np.unique(idx[0])
    out = np.zeros((rows.size, dense.shape[1]), np.result_type(vals, dense))
    np.add.at(out, np.searchsorted(rows, idx[0]), vals[:, None] * dense[idx[1]])
    return rows, out.astype(vals.dtype)


def _recorded(out, node_cls, inputs):
    if GRAD.enabled and any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        out.grad_fn, out._requires_grad = node_cls(tuple(inputs)), True
    return out


def _tensors(op, named, method):
    """PyTorch's argument errors for the (name, value) pairs, counted from 1 (a method's from its first argument)."""
    for pos, (arg, t) in enumerate(named, 0 if method else 1):
        if not isinstance(t, Tensor):
            raise arg_error(op, arg, pos, t)


def sspaddmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), sparse: input's entries (scaled), then the product's rows."""
    _tensors('sspaddmm', (('input', input), ('mat1', mat1), ('mat2', mat2)), False)
    return _sspaddmm(input, mat1, mat2, beta, alpha)


def sspaddmm_method(self, mat1, mat2, *, beta=1, alpha=1):
    """``Tensor.sspaddmm``."""
    _tensors('sspaddmm', (('input', self), ('mat1', mat1), ('mat2', mat2)), True)
    return _sspaddmm(self, mat1, mat2, beta, alpha)


def _sspaddmm(input, mat1, mat2, beta, alpha):
    from ._sparse import _make
    if not input.is_sparse:
        raise RuntimeError('tensor.sspaddmm(...) can only be called on sparse tensors')
    rows, prod = _rows_product('sspaddmm', mat1, mat2)
    if tuple(input.shape) != (mat1.shape[0], mat2.shape[1]):
        raise RuntimeError(f'sspaddmm: Argument #1: Expected dim {0 if input.shape[0] != mat1.shape[0] else 1} size '
                           f'{mat1.shape[0] if input.shape[0] != mat1.shape[0] else mat2.shape[1]}, got '
                           f'{input.shape[0] if input.shape[0] != mat1.shape[0] else input.shape[1]}')
    p = mat2.shape[1]
    grid = np.stack([np.repeat(rows, p), np.tile(np.arange(p), rows.size)])
    own_idx, own_vals = input._indices()._data, input._values()._data
    idx = np.concatenate([own_idx, grid], 1).astype(np.int64)
    vals = np.concatenate([own_vals * own_vals.dtype.type(beta), prod.reshape(-1) * prod.dtype.type(alpha)])
    return _recorded(_make(idx, vals.astype(own_vals.dtype), input.shape, False, check=False),
                     SspaddmmNotImplemented, (input, mat1, mat2))


def saddmm(input, mat1, mat2, *, beta=1, alpha=1):
    """sspaddmm under its older name."""
    return sspaddmm(input, mat1, mat2, beta=beta, alpha=alpha)


def smm(input, mat2):
    """input (sparse) @ mat2 (dense), sparse: the rows input has entries in."""
    _tensors('smm', (('input', input), ('mat2', mat2)), False)
    return _smm(input, mat2)


def smm_method(self, mat2):
    """``Tensor.smm``."""
    _tensors('smm', (('input', self), ('mat2', mat2)), True)
    return _smm(self, mat2)


def _smm(input, mat2):
    from ._sparse import _make
    if not input.is_sparse:
        raise RuntimeError('tensor.sspaddmm(...) can only be called on sparse tensors')
    rows, prod = _rows_product('sspaddmm', input, mat2)
    p = mat2.shape[1]
    grid = np.stack([np.repeat(rows, p), np.tile(np.arange(p), rows.size)]).astype(np.int64)
    return _recorded(_make(grid, prod.reshape(-1), (input.shape[0], p), False, check=False),
                     SspaddmmNotImplemented, (input, mat2))


def hspmm(mat1, mat2):
    """mat1 (sparse) @ mat2 (dense) as a hybrid sparse tensor: one sparse dim (the rows mat1 has entries in), each
    entry a row of p values."""
    from ._sparse import _make
    _tensors('hspmm', (('mat1', mat1), ('mat2', mat2)), False)
    if not mat1.is_sparse:
        raise NotImplementedError("Could not run 'aten::hspmm' with arguments from the 'CPU' backend. This could be "
                                  "because the operator doesn't exist for this backend, or was omitted during the "
                                  'selective/custom build process (if using custom build). (hspmm takes a sparse COO '
                                  'mat1.)')
    rows, prod = _rows_product('hspmm', mat1, mat2)
    return _recorded(_make(rows.reshape(1, -1).astype(np.int64), prod, (mat1.shape[0], mat2.shape[1]), False,
                           check=False), HspmmNotImplemented, (mat1, mat2))


smm_method.__name__ = smm_method.__qualname__ = 'smm'
sspaddmm_method.__name__ = sspaddmm_method.__qualname__ = 'sspaddmm'
