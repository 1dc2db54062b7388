"""Sparse compressed tensors (CSR and CSC, 2-D) as scientific and graph code uses them: a matrix converted with
``to_sparse_csr()`` (or built by ``torch.sparse_csr_tensor``), its parts read (``crow_indices``, ``col_indices``,
``values``), multiplied into dense tensors (``@``, ``torch.mm``, ``torch.sparse.mm``, ``torch.mv``), scaled,
added, transposed (CSR <-> CSC) and converted back (``to_dense``, ``to_sparse``).

A compressed tensor is a COO ``SparseTensor`` (``_sparse``) whose entries are unique and stored in the compressed
order (row by row for CSR, column by column for CSC), so the COO products, sums and dense conversions serve it
unchanged; the compressed index arrays are made from the COO ones when read. Not differentiated: a compressed
tensor cannot require grad here (its dense operand of a product can), and batched (3-D) ones are refused."""
import numpy as np

from . import _layout, _sparse
from ._warn import warn_user
from .autograd.grad_mode import GRAD
from .tensor import Tensor

_BETA = ('Sparse CSR tensor support is in beta state. If you miss a functionality in the sparse tensor support, '
         'please submit a feature request to https://github.com/pytorch/pytorch/issues.')
_NAMES = {_layout.sparse_coo: 'Sparse', _layout.sparse_csr: 'SparseCsr', _layout.sparse_csc: 'SparseCsc'}


class _Compressed(_sparse.SparseTensor):
    """A 2-D compressed tensor: ``_idx`` (int64, (2, nnz)) and ``_vals`` in compressed order, ``_coal`` True (the
    entries are unique). ``_axis``: the compressed dim (0 for CSR, 1 for CSC)."""
    is_sparse = False
    _axis = 0
    _fused_products = False

    # -- parts -------------------------------------------------------------------------------------------
    def _compressed(self):
        """PyTorch's crow_indices (CSR) / ccol_indices (CSC): where each row's (column's) entries start."""
        counts = np.bincount(self._idx[self._axis], minlength=self._shape[self._axis])
        return Tensor._make(np.concatenate([np.zeros(1, np.int64), np.cumsum(counts, dtype=np.int64)]))

    def _plain(self):
        """col_indices (CSR) / row_indices (CSC)."""
        return Tensor._make(self._idx[1 - self._axis])

    def values(self):
        return Tensor._make(self._vals)

    def _refuse(self, name, wants='sparse coordinate tensor layout'):
        raise RuntimeError(f'{name} expected {wants} but got {_NAMES[self.layout]}')

    def indices(self):
        self._refuse('indices')

    def _indices(self):
        self._refuse('_indices')

    def _values(self):
        self._refuse('_values')

    def coalesce(self):
        self._refuse('coalesce')

    def is_coalesced(self):
        self._refuse('is_coalesced')

    def crow_indices(self):
        if self._axis != 0:
            self._refuse('crow_indices', 'sparse row compressed tensor layout')
        return self._compressed()

    def col_indices(self):
        if self._axis != 0:
            self._refuse('col_indices', 'sparse row compressed tensor layout')
        return self._plain()

    def ccol_indices(self):
        if self._axis != 1:
            self._refuse('ccol_indices', 'sparse column compressed tensor layout')
        return self._compressed()

    def row_indices(self):
        if self._axis != 1:
            self._refuse('row_indices', 'sparse column compressed tensor layout')
        return self._plain()

    # -- conversions -----------------------------------------------------------------------------------------
    def _coo(self):
        """The same entries as a coalesced COO tensor (row-major order)."""
        if self._axis == 0:
            return _sparse._make(self._idx, self._vals, self._shape, True, check=False)
        order = np.lexsort((self._idx[1], self._idx[0]))
        return _sparse._make(self._idx[:, order], self._vals[order], self._shape, True, check=False)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout in (_layout.sparse_csr, _layout.sparse_csc):
            return from_coo(self._coo(), layout)
        if self._axis:      # PyTorch's COO of a CSC tensor keeps its column-major order, uncoalesced
            return _sparse._make(self._idx.copy(), self._vals, self._shape, False, check=False)
        return self._coo()

    def to_sparse_csr(self, dense_dim=None):
        return self if self._axis == 0 else from_coo(self._coo(), _layout.sparse_csr)

    def to_sparse_csc(self, dense_dim=None):
        return self if self._axis == 1 else from_coo(self._coo(), _layout.sparse_csc)

    def numpy(self, *, force=False):
        raise TypeError(f"can't convert {_NAMES[self.layout]} layout tensor to numpy. Use Tensor.to_dense() first.")

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            raise RuntimeError(f'Unimplemented backend {_NAMES[self.layout]}CPU')
        return _sparse.SparseTensor.type(self, dtype)

    def requires_grad_(self, requires_grad=True):
        if requires_grad:
            raise NotImplementedError('ember does not differentiate sparse compressed (CSR/CSC) tensors: use a COO '
                                      'tensor (to_sparse()) or a dense one')
        return self

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import sparse_repr
        return sparse_repr(self)

    def _repr_parts(self):
        """(name, array) of each part, in PyTorch's printed order."""
        c, p = ('crow_indices', 'col_indices') if self._axis == 0 else ('ccol_indices', 'row_indices')
        return [(c, self._compressed()._data), (p, self._plain()._data), ('values', self._vals)]

    # -- layout-keeping ops: computed on the COO form, compressed back -------------------------------------
    def _same_layout(self, coo):
        return from_coo(coo, self.layout) if isinstance(coo, _sparse.SparseTensor) else coo

    def to(self, *args, **kwargs):
        coo = self._coo()
        r = _sparse.SparseTensor.to(coo, *args, **kwargs)
        return self if r is coo else self._same_layout(r)

    def clone(self, *, memory_format=None):
        return self._same_layout(self._coo().clone())

    def detach(self):
        return self._same_layout(self._coo())

    def neg(self):
        return self._same_layout(self._coo().neg())

    __neg__ = neg

    def mul(self, other):
        other = other._coo() if isinstance(other, _Compressed) else other
        return self._same_layout(self._coo().mul(other))

    __mul__ = __rmul__ = mul


    def add(self, other, *, alpha=1):
        other = other._coo() if isinstance(other, _Compressed) else other
        return self._same_layout(self._coo().add(other, alpha=alpha))

    __add__ = add

    def _unsupported(self, *args, **kwargs):
        raise RuntimeError(f'unsupported tensor layout: {_NAMES[self.layout]}')

    div = __truediv__ = sub = __sub__ = _unsupported

    def t(self):
        """The transpose in the other compressed layout (CSR <-> CSC), its parts the same arrays."""
        return _make(self._idx[::-1], self._vals, self._shape[::-1], 1 - self._axis)

    def transpose(self, dim0, dim1):
        if (dim0 - dim1) % 2 == 0:
            return self
        return self.t()

    def zero_(self):
        raise NotImplementedError('ember does not change sparse compressed (CSR/CSC) tensors in place')

    mul_ = add_ = zero_



class _Csr(_Compressed):
    layout = _layout.sparse_csr
    is_sparse_csr = True


class _Csc(_Compressed):
    layout = _layout.sparse_csc
    _axis = 1


def _make(idx, vals, shape, axis):
    """A compressed tensor of parts already in compressed order along ``axis``."""
    warn_user(_BETA, once=True, internally='aten/src/ATen/SparseCsrTensorImpl.cpp:49')
    t = object.__new__(_Csc if axis else _Csr)
    t._shape = tuple(int(s) for s in shape)
    t._requires_grad = False
    t._grad = None
    t.grad_fn = None
    t._idx, t._vals, t._coal = idx, vals, True
    return t


def from_coo(coo, layout):
    """COO tensor ``coo`` (2-D, no dense dims) in ``layout`` (sparse_csr or sparse_csc)."""
    if coo.dim() != 2 or coo.dense_dim():
        raise NotImplementedError(f'ember converts 2-D tensors without dense dims to {layout} only (got '
                                  f'{coo.dim()}-D)')
    if coo._requires_grad and GRAD.enabled:
        raise NotImplementedError("ember's sparse compressed tensors are not differentiated: convert a tensor "
                                  'that needs no gradient (.detach())')
    coo = coo.coalesce()
    idx, vals = coo._idx, coo._vals
    axis = 1 if layout is _layout.sparse_csc else 0
    if axis:
        order = np.lexsort((idx[0], idx[1]))
        idx, vals = idx[:, order], vals[order]
    return _make(idx, vals, coo._shape, axis)


def to_compressed(input, layout):
    """``Tensor.to_sparse_csr()`` / ``to_sparse_csc()`` of a strided or COO tensor."""
    if isinstance(input, _Compressed):
        return input.to_sparse(layout=layout)
    if input.dim() < 2:   # PyTorch's IndexError (it reads dimension 1)
        raise IndexError(f'to_{str(layout).split(".")[-1]}: Dimension out of range (expected to be in range of '
                         f'[-1, 0], but got 1): a compressed layout needs a tensor of 2 or more dimensions, got '
                         f'{input.dim()}-D')
    if input.dim() != 2:
        raise NotImplementedError(f'ember converts 2-D tensors to {layout} only (got {input.dim()}-D)')
    coo = input if isinstance(input, _sparse.SparseTensor) else _sparse.to_sparse(input)
    return from_coo(coo, layout)


def _compressed_tensor(compressed, plain, values, size, dtype, requires_grad, check_invariants, axis, name):
    """torch.sparse_csr_tensor / sparse_csc_tensor: entries given by compressed and plain indices."""
    if check_invariants is None and not _sparse._INVARIANTS[1]:
        _sparse.warn_invariants_off()
    comp = _sparse._as_array(compressed).astype(np.int64)
    plain = _sparse._as_array(plain).astype(np.int64)
    vals = _sparse._as_array(values)
    if dtype is not None:
        from ._dtype import to_np
        vals = vals.astype(to_np(dtype))
    if comp.ndim != 1 or plain.ndim != 1 or vals.ndim != 1:
        raise NotImplementedError(f'ember builds 2-D {name} tensors only (1-D index and value arrays)')
    if len(plain) != len(vals) or comp[-1] != len(vals):
        raise RuntimeError(f'{name}: the last compressed index ({comp[-1]}) must equal the number of values '
                           f'({len(vals)}), as must the number of plain indices ({len(plain)})')
    n = len(comp) - 1
    _check_compressed(comp, plain, axis, check_invariants if check_invariants is not None else _sparse._INVARIANTS[0])
    if size is None:
        size = (n, int(plain.max()) + 1 if len(plain) else 0)
        size = size[::-1] if axis else size
    size = tuple(int(s) for s in size)
    major = np.repeat(np.arange(n, dtype=np.int64), np.diff(comp))
    idx = np.stack([plain, major]) if axis else np.stack([major, plain])
    if requires_grad:
        raise NotImplementedError('ember does not differentiate sparse compressed (CSR/CSC) tensors')
    return _make(idx, vals, size, axis)


def _check_compressed(comp, plain, axis, full):
    """PyTorch's invariants of compressed indices (with its messages); a decreasing compressed index is refused
    even unchecked (ember holds the entries by row and column, so it cannot keep one, as PyTorch does)."""
    c, p = ('ccol_indices', 'row_indices') if axis else ('crow_indices', 'col_indices')
    steps = np.diff(comp)
    if not full:
        if (steps < 0).any():
            raise RuntimeError(f'`0 <= {c}[..., 1:] - {c}[..., :-1]` is not satisfied (ember cannot hold such a '
                               'tensor even unchecked)')
        return
    if len(comp) and comp[0] != 0:
        raise RuntimeError(f'`{c}[..., 0] == 0` is not satisfied.')
    if (steps < 0).any():
        raise RuntimeError(f'`0 <= {c}[..., 1:] - {c}[..., :-1] <= n{"rows" if axis else "cols"}` is not satisfied.')
    if (plain < 0).any():
        raise RuntimeError(f'`0 <= {p}` is not satisfied.')
    rows = np.repeat(np.arange(len(steps)), steps)
    same = rows[1:] == rows[:-1]
    if (same & (np.diff(plain) <= 0)).any():
        raise RuntimeError(f'`{p}[..., {c}[..., i - 1]:{c}[..., i]] for all i = 1, ..., n{"cols" if axis else "rows"} '
                           'are sorted and distinct along the last dimension values` is not satisfied.')


def sparse_csr_tensor(crow_indices, col_indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None):
    """A CSR tensor: row i's entries are ``values[crow_indices[i]:crow_indices[i+1]]`` at those col_indices."""
    _sparse._check_device(device)
    return _compressed_tensor(crow_indices, col_indices, values, size, dtype, requires_grad, check_invariants, 0,
                              'sparse_csr_tensor')


def sparse_csc_tensor(ccol_indices, row_indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None):
    """A CSC tensor: column j's entries are ``values[ccol_indices[j]:ccol_indices[j+1]]`` at those row_indices."""
    _sparse._check_device(device)
    return _compressed_tensor(ccol_indices, row_indices, values, size, dtype, requires_grad, check_invariants, 1,
                              'sparse_csc_tensor')
