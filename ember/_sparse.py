"""Sparse COO tensors (``torch.sparse_coo_tensor``, ``Tensor.to_sparse``) as graph programs use them: an
adjacency or feature matrix built sparse, multiplied into dense activations (``torch.spmm``, ``torch.mm``,
``@``, ``torch.sparse.mm``), added to dense tensors, summed, scaled, transposed and coalesced.

A ``SparseTensor`` stores PyTorch's parts only (int64 ``indices`` of shape (sparse_dim, nnz), ``values`` of
shape (nnz, *dense dims), the coalesced flag, the size), so a 10^6 x 10^6 matrix of 100 entries takes 100
entries' memory: ops written here keep the sparse layout as PyTorch does; any other op reads ``_data``, a
read-only dense array made from the parts on each access, and returns a strided tensor (the values PyTorch
gives, in the strided layout). ``nn.Embedding(sparse=True)`` gives its weight such a gradient (nn/functional/
_embedding.py), which accumulates sparse + sparse, and SparseAdam, SGD and Adagrad step on (optim/).

Gradients: the dense operand of a product takes one; a sparse tensor requiring grad (a leaf, or
``sparse_coo_tensor`` of values requiring grad) takes PyTorch's through products (torch.sparse.mm: sparse, at its
indices; mm / spmm / @: dense), ``to_dense``, ``torch.sparse.sum`` (sparse), ``Tensor.sum`` (dense), and neg,
* and / by a number, +, -, t, transpose, coalesce and clone (recorded under PyTorch's grad_fn names). The other
layout-keeping ops refuse such an input by name (their results would lose the gradient).
"""
import os

import numpy as np

from . import _layout
from ._dtype import scalar_name, to_np
from ._warn import warn_user
from .autograd import dual
from .autograd.grad_mode import GRAD
from .autograd.graph import Node
from ._dtype import FROM_NP
from .ops._fused import fma32
from ._torch_function import _disabled_torch_function_impl
from .tensor import Size, Tensor, _check_device, _wrap_dim

_INVARIANTS_OFF = ('Sparse invariant checks are implicitly disabled. Memory errors (e.g. SEGFAULT) will occur when '
                   'operating on a sparse tensor which violates the invariants, but checks incur performance '
                   'overhead. To silence this warning, explicitly opt in or out. See '
                   '`torch.sparse.check_sparse_tensor_invariants.__doc__` for guidance. ')
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_INVARIANTS = [False, False]    # [checks enabled, chosen explicitly] (check_sparse_tensor_invariants)


def warn_invariants_off():
    """PyTorch's once-a-process warning (from its C++ Context) when a sparse tensor is made without choosing
    invariant checks (POT's ``coo_matrix`` in its torch backend shows it)."""
    from . import jit
    if not jit.scripted_caller(_PACKAGE_DIR):   # (PyTorch's check is in its Python binding, which TorchScript skips)
        warn_user(_INVARIANTS_OFF, once=True, internally='aten/src/ATen/Context.cpp:816')


_NO_GRAD = ("ember differentiates a sparse tensor through torch.sparse.mm / mm / spmm / @ (with a dense operand), "
            "to_dense, sums of all values, sparse_coo_tensor, neg, * and / by a number, +, -, t, transpose, "
            "coalesce and clone, not through {}; use .to_dense() first")


class SparseTensor(Tensor):
    """A sparse COO tensor: ``_idx`` (int64, (sparse_dim, nnz)), ``_vals`` (an ndarray, (nnz, *dense dims)),
    ``_coal`` (PyTorch's coalesced flag) and ``_shape`` (a tuple of ints); ``_data`` is the dense array they make,
    made anew (read-only) on each access."""
    layout = _layout.sparse_coo
    is_sparse = True
    _fused_products = True      # products with dense tensors add each entry's as one fused multiply-add (_spmm)
    __torch_function__ = _disabled_torch_function_impl    # a plain tensor's ops (a layout in PyTorch)

    @property
    def _data(self):
        arr = _dense(self)
        arr.flags.writeable = False     # a write into it would be lost: in-place ops on sparse tensors go by parts
        return arr

    # -- metadata without the dense array ------------------------------------------------------------------
    @property
    def shape(self):
        return tuple.__new__(Size, self._shape)

    def size(self, dim=None):
        if dim is None:
            return tuple.__new__(Size, self._shape)
        return self._shape[_wrap_dim(dim, len(self._shape), 'size', scalar=False)]

    @property
    def dtype(self):
        return FROM_NP[self._vals.dtype]

    def dim(self):
        return len(self._shape)

    ndimension = dim

    @property
    def ndim(self):
        return len(self._shape)

    def numel(self):
        return int(np.prod(self._shape, dtype=np.int64))

    nelement = numel

    def is_floating_point(self):
        return self._vals.dtype.kind == 'f'

    def is_complex(self):
        return self._vals.dtype.kind == 'c'

    def is_same_size(self, other):
        return tuple(self._shape) == tuple(other.shape)

    def __len__(self):
        if not self._shape:
            raise TypeError('len() of a 0-d tensor')
        return self._shape[0]

    # -- parts -------------------------------------------------------------------------------------------
    def _indices(self):
        return Tensor._make(self._idx)

    def _values(self):
        return Tensor._make(self._vals)

    def indices(self):
        self._need_coalesced('indices')
        return Tensor._make(self._idx)

    def values(self):
        self._need_coalesced('values')
        return Tensor._make(self._vals)

    def _need_coalesced(self, what):
        if not self._coal:
            raise RuntimeError(f'Cannot get {what} on an uncoalesced tensor, please call .coalesce() first')

    def _nnz(self):
        return self._idx.shape[1]

    def sparse_dim(self):
        return self._idx.shape[0]

    def dense_dim(self):
        return self._vals.ndim - 1

    def is_coalesced(self):
        return self._coal

    def _coalesced_(self, coalesced):
        """Set the coalesced flag in place, trusting the caller (PyG marks the sorted, unique indices it built)."""
        self._coal = bool(coalesced)
        return self

    def coalesce(self):
        """Indices sorted and unique, duplicates' values summed (in their stored order)."""
        if self._coal:
            return self
        out = _make(*_coalesced(self._idx, self._vals, self._shape[:self.sparse_dim()]), self._shape, True)
        return _tracked(out, 'CoalesceBackward0', (self,), lambda g: (g,))

    def to_dense(self, dtype=None, *, masked_grad=None):
        arr = _dense(self)
        arr = arr if dtype is None else arr.astype(to_np(dtype))
        if self._requires_grad and GRAD.enabled:
            return Tensor._make(arr, _node(ToDenseBackward0, self))
        return Tensor._make(arr)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout in (_layout.sparse_csr, _layout.sparse_csc):
            return _compressed(self, layout)
        _coo_only(layout)
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError('to_sparse: conversion from Sparse to Sparse with sparse_dim argument != '
                               'self.sparse_dim() is not supported')
        return self

    def to_sparse_csr(self, dense_dim=None):
        return _compressed(self, _layout.sparse_csr)

    def to_sparse_csc(self, dense_dim=None):
        return _compressed(self, _layout.sparse_csc)

    # -- rows: indexing by an integer, iteration, unbind (sentence-transformers' SparseEncoder.encode) -------------
    def select(self, dim, index):
        if not self.is_sparse:      # a compressed layout (CSR/CSC): by its dense array, as before
            return Tensor.select(self, dim, index)
        return select(self, dim, index)

    def unbind(self, dim=0):
        if not self.is_sparse:
            return Tensor.unbind(self, dim)
        return tuple(select(self, dim, i) for i in range(self._shape[_wrap_dim(dim, len(self._shape), 'unbind')]))

    def __getitem__(self, key):
        """``t[i]`` (an int or integer 0-d tensor, or ``(:, ..., i)``) of a COO tensor selects as PyTorch does,
        keeping the layout; any other key, or layout, indexes the dense array (a strided result)."""
        if not self.is_sparse:
            return Tensor.__getitem__(self, key)
        parts = key if isinstance(key, tuple) else (key,)
        lead = 0
        while lead < len(parts) and isinstance(parts[lead], slice) and parts[lead] == slice(None):
            lead += 1
        if lead == len(parts) - 1 and _is_index(parts[lead]):
            return select(self, lead, int(parts[lead]))
        if parts and all(_is_index(k) for k in parts):
            out = self
            for k in parts:
                out = out[int(k)]
            return out
        return Tensor.__getitem__(self, key)

    # -- what PyTorch refuses or answers differently for a sparse tensor -------------------------------------
    def numpy(self, *, force=False):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")

    def storage(self):
        raise NotImplementedError('Cannot access storage of SparseTensorImpl')

    untyped_storage = storage

    def stride(self, dim=None):
        return (0,) * len(self._shape) if dim is None else 0

    def is_contiguous(self, memory_format=None):
        return False

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._vals.dtype.kind not in 'fc':
            raise RuntimeError('only Tensors of floating point dtype can require gradients')
        return Tensor.requires_grad_(self, requires_grad)

    def _no_graph(self, op):
        """Refuse a layout-keeping op that ember does not differentiate on a sparse tensor requiring grad (its
        result would silently lose the gradient)."""
        if self._requires_grad and GRAD.enabled:
            raise NotImplementedError(_NO_GRAD.format(op))

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return Tensor.type(Tensor._make(self._vals)).replace('torch.', 'torch.sparse.', 1)
        return self.to(Tensor.type(Tensor._make(self._vals[:0]), dtype).dtype)

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import sparse_repr
        return sparse_repr(self)

    # -- conversions keeping the layout ---------------------------------------------------------------------
    def to(self, *args, **kwargs):
        dtype = kwargs.pop('dtype', None)
        _check_device(kwargs.pop('device', None))
        kwargs.pop('non_blocking', None)
        kwargs.pop('copy', None)
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, int)) or type(a).__name__ == 'device':
                _check_device(a)
            elif a is not None:
                dtype = a
        nd = to_np(dtype)
        if nd is None or nd == self._vals.dtype:
            return self
        self._no_graph('to')
        return _make(self._idx, self._vals.astype(nd), self._shape, self._coal)

    def float(self, memory_format=None):
        return self.to(np.float32)

    def double(self, memory_format=None):
        return self.to(np.float64)

    def half(self, memory_format=None):
        return self.to(np.float16)

    def long(self, memory_format=None):
        return self.to(np.int64)

    def int(self, memory_format=None):
        return self.to(np.int32)

    def bool(self, memory_format=None):
        return self.to(np.bool_)

    def clone(self, *, memory_format=None):
        out = _make(self._idx.copy(), self._vals.copy(), self._shape, self._coal)
        return _tracked(out, 'CloneBackward0', (self,), lambda g: (g,))

    def detach(self):
        return self._alias()

    def cpu(self, memory_format=None):
        return self

    # -- layout-keeping arithmetic ----------------------------------------------------------------------
    def t(self):
        if self.sparse_dim() + self.dense_dim() > 2:
            raise RuntimeError(f't() expects a tensor with <= 2 sparse and 0 dense dimensions, but got '
                               f'{self.sparse_dim()} sparse and {self.dense_dim()} dense dimensions')
        if len(self._shape) < 2:
            return self
        return _tracked(self._reordered((1, 0), False), 'TBackward0', (self,), lambda g: (_swap(g, 0, 1),))

    def transpose(self, dim0, dim1):
        n, nd = self.sparse_dim(), len(self._shape)
        d0, d1 = _wrap_dim(dim0, nd, 'transpose'), _wrap_dim(dim1, nd, 'transpose')
        if d0 >= n or d1 >= n:
            raise RuntimeError(f'sparse transpose: transposed dimensions must be sparse Got sparse_dim: {n}, d0: {d0}, '
                               f'd1: {d1}')
        order = list(range(nd))
        order[d0], order[d1] = d1, d0
        out = self._reordered(order, self._coal and d0 == d1)
        return _tracked(out, 'TransposeBackward0', (self,), lambda g: (_swap(g, d0, d1),))

    def _permute(self, perm, first):
        """The dims reordered (``perm`` checked and wrapped by ops.shape.permute, ``first`` its first dim as given):
        sparse dims among themselves (the index rows), dense dims among themselves (the values' axes), as PyTorch
        allows; still flagged coalesced when ``first`` is 0 (PyTorch's rule, though the other dims may move)."""
        if sorted(perm[:self.sparse_dim()]) != list(range(self.sparse_dim())):
            raise RuntimeError('permute(sparse_coo): transpositions between sparse and dense dimensions are not '
                               'allowed.Only transpositions within sparse and dense dimensions are supported.')
        back = tuple(int(d) for d in np.argsort(perm))
        out = self._reordered(perm, self._coal and first == 0)
        return _tracked(out, 'PermuteBackward0', (self,), lambda g: (_permuted(g, back),))

    def _reordered(self, perm, coalesced):
        """The tensor with dims in the order ``perm`` (within the sparse and within the dense dims)."""
        n = self.sparse_dim()
        vals = self._vals.transpose((0,) + tuple(d - n + 1 for d in perm[n:]))
        return _make(self._idx[list(perm[:n])], vals, tuple(self._shape[d] for d in perm), coalesced, check=False)

    def conj_physical(self):
        """The complex conjugate of the values (a real tensor as it is); mH and adjoint use it, as PyTorch's do."""
        if not np.iscomplexobj(self._vals):
            return self
        out = _make(self._idx, np.conj(self._vals), self._shape, self._coal, check=False)
        return _tracked(out, 'ConjPhysicalBackward0', (self,), lambda g: (_conjugated(g),))

    conj = conj_physical    # (PyTorch has no lazy conjugate for sparse tensors: its conj() is this)

    def unsqueeze(self, dim):
        """A size-1 dim at ``dim``, as PyTorch's: a sparse dim (an index row of zeros) up to ``sparse_dim()``, a
        dense dim of the values beyond (norse unsqueezes its sparse spike inputs)."""
        d = _wrap_dim(dim, len(self._shape) + 1, 'unsqueeze')
        sd = self.sparse_dim()
        shape = self._shape[:d] + (1,) + self._shape[d:]
        if d <= sd:
            out = _make(np.insert(self._idx, d, 0, 0), self._vals, shape, False, check=False)
        else:
            out = _make(self._idx, np.expand_dims(self._vals, d - sd + 1), shape, False, check=False)
        return _tracked(out, 'UnsqueezeBackward0', (self,), lambda g: (_squeezed(g, d, sd),))

    def neg(self):
        out = _make(self._idx, -self._vals, self._shape, self._coal)
        return _tracked(out, 'NegBackward0', (self,), lambda g: (-g,))

    __neg__ = neg

    def mul(self, other):
        if isinstance(other, np.ndarray):   # a saved factor's array, in a backward (ops take no ndarray operand)
            other = Tensor._make(other)
        if isinstance(other, SparseTensor):
            self._no_graph('mul')
            other._no_graph('mul')
            return _sparse_mul(self, other)
        if isinstance(other, Tensor) and other.dim() > 0:
            return Tensor.mul(self, other)      # PyTorch's result is sparse too; computed densely here
        _constant(other, 'mul')
        v = Tensor.mul(Tensor._make(self._vals), other)._data
        out = _make(self._idx, v, self._shape, self._coal)
        c = getattr(other, '_data', other)
        return _tracked(out, 'MulBackward0', (self,), lambda g: (g * c,))

    __mul__ = __rmul__ = mul

    def div(self, other, *, rounding_mode=None):
        if isinstance(other, Tensor) and other.dim() > 0:
            return Tensor.div(self, other, rounding_mode=rounding_mode)
        if rounding_mode is not None:
            self._no_graph('div with a rounding_mode')
        _constant(other, 'div')
        v = Tensor.div(Tensor._make(self._vals), other, rounding_mode=rounding_mode)._data
        out = _make(self._idx, v, self._shape, self._coal)
        c = getattr(other, '_data', other)
        return _tracked(out, 'DivBackward0', (self,), lambda g: (g / c,))

    __truediv__ = div

    def add(self, other, *, alpha=1):
        if not isinstance(other, SparseTensor):
            if isinstance(other, Tensor):
                raise RuntimeError('add(sparse, dense) is not supported. Use add(dense, sparse) instead.')
            return Tensor.add(self, other, alpha=alpha)
        if other._shape != self._shape:
            raise RuntimeError(f'add: expected \'self\' and \'other\' to have same size, but self has size '
                               f'{list(self._shape)} while other has size {list(other._shape)} '
                               '(FYI: dense-sparse addition does not currently support broadcasting)')
        out = _merge_add(self, other, alpha)
        return _tracked(out, 'AddBackward0', (self, other), lambda g: (g, g if alpha == 1 else g * alpha))

    __add__ = add

    def sub(self, other, *, alpha=1):
        if isinstance(other, SparseTensor):
            return self.add(other, alpha=-alpha)
        if isinstance(other, Tensor):
            raise RuntimeError('sub(sparse, dense) is not supported. Use sub(dense, sparse) instead.')
        return Tensor.sub(self, other, alpha=alpha)

    __sub__ = sub

    def sum(self, dim=None, keepdim=False, dtype=None):
        """All values summed (a strided 0-d tensor, its gradient dense as PyTorch's Tensor.sum gives it), or
        sparse dims summed away (a coalesced sparse tensor)."""
        return sparse_sum(self, dim, keepdim, dtype, _dense_grad=True)

    # -- in place, by parts (a gradient zeroed, scaled or accumulated; an optimizer's sparse state) ----------------
    def _set_parts(self, other):
        self._idx, self._vals, self._coal = other._idx, other._vals, other._coal
        self.__dict__.pop('_round_cache', None)
        self._bump()
        return self

    def _alias(self):
        """A new sparse tensor sharing these parts (PyTorch's shallow copy of a first gradient): the parts of a
        sparse tensor are never written in place (its in-place ops replace them)."""
        return _make(self._idx, self._vals, self._shape, self._coal, check=False)

    def new(self, *args, device=None):
        """The legacy ``Tensor.new`` of a sparse tensor (pytorch_optimizer's SM3): ``new(indices, values[, size])``
        a COO tensor of those parts (values' dtype; as PyTorch, the indices unchecked), ``new(*size)`` an empty one
        of that size, ``new()`` an empty 1-d one."""
        _check_device(device)
        if len(args) in (2, 3) and all(isinstance(a, Tensor) for a in args[:2]):
            if len(args) == 2:
                return sparse_coo_tensor(args[0], args[1])
            idx = np.array(args[0]._data, np.int64, ndmin=2)
            return _make(idx, np.array(args[1]._data), tuple(args[2]), False, check=False)
        if any(isinstance(a, Tensor) for a in args) or (len(args) == 1 and isinstance(args[0], list)):
            raise TypeError(f'new() received an invalid combination of arguments - got '
                            f'({", ".join(type(a).__name__ for a in args)}), but expected one of: (*, device), '
                            '(Tensor indices, Tensor values, *, device), (Tensor indices, Tensor values, tuple of '
                            'ints size, *, device), (tuple of ints size, *, device)')
        shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], tuple) else tuple(args) or (0,)
        return _make(np.zeros((len(shape), 0), np.int64), np.zeros((0,), self._vals.dtype), shape, True)

    def resize_as_(self, the_template, memory_format=None):
        """As PyTorch's ``resize_as_sparse_``: no entries, the template's size and sparse/dense dims."""
        sd = the_template.sparse_dim() if isinstance(the_template, SparseTensor) else the_template.dim()
        shape = tuple(the_template.shape)
        self._shape = shape
        return self._set_parts(_make(np.zeros((sd, 0), np.int64), np.zeros((0,) + shape[sd:], self._vals.dtype),
                                     shape, True))

    def zero_(self):
        """No entries left (PyTorch's sparse zero_: nnz 0, coalesced), the size kept."""
        return self._set_parts(_make(np.zeros((self.sparse_dim(), 0), np.int64),
                                     np.zeros((0,) + self._vals.shape[1:], self._vals.dtype), self._shape, True))

    def mul_(self, other):
        if isinstance(other, Tensor) and (other.is_sparse or other.dim() > 0):
            raise NotImplementedError('ember scales a sparse tensor in place by a number only')
        v = Tensor.mul(Tensor._make(self._vals), other)._data.astype(self._vals.dtype, copy=False)
        return self._set_parts(_make(self._idx, v, self._shape, self._coal, check=False))

    def add_(self, other, *, alpha=1):
        if not isinstance(other, SparseTensor):
            raise RuntimeError('add_(sparse, dense) is not supported by ember: the result would be dense')
        out = self.add(other, alpha=alpha)
        return self._set_parts(out.to(self.dtype))

    # -- products -------------------------------------------------------------------------------------------
    def mm(self, mat2):
        return mm(self, mat2)

    matmul = spmm = __matmul__ = mm


def _is_index(k):
    """Whether index key ``k`` is one integer (a Python or NumPy int, or an integer 0-d tensor)."""
    if isinstance(k, Tensor):
        return k.dim() == 0 and k._data.dtype.kind in 'iu'
    return isinstance(k, (int, np.integer)) and not isinstance(k, bool)


def select(input, dim, index):
    """``select`` of a sparse COO tensor, as PyTorch's: along a sparse dim the entries at ``index`` with that
    index row dropped (uncoalesced; the summed values as a dense tensor when it was the only sparse dim), along a
    dense dim each entry's value sliced."""
    n = len(input._shape)
    if not n:
        raise IndexError('select() cannot be applied to a 0-dim tensor.')
    d = _wrap_dim(dim, n, 'select')
    i = int(index)
    if not -input._shape[d] <= i < input._shape[d]:
        raise IndexError(f'index {i} is out of bounds for dimension {d} with size {input._shape[d]}')
    i %= input._shape[d]
    input._no_graph('select')
    shape = input._shape[:d] + input._shape[d + 1:]
    sd = input.sparse_dim()
    if d >= sd:
        return _make(input._idx, np.take(input._vals, i, axis=d - sd + 1), shape, False, check=False)
    keep = input._idx[d] == i
    if sd == 1:
        return Tensor._make(np.add.reduce(input._vals[keep], 0))
    return _make(np.delete(input._idx[:, keep], d, 0), input._vals[keep], shape, False, check=False)


def stack(tensors, dim):
    """``torch.stack`` of sparse COO tensors of one size: a sparse tensor whose new sparse dim ``dim`` numbers
    them (entries in order, uncoalesced), the values promoted to one dtype."""
    from .ops.shape import _promote_all
    for i, t in enumerate(tensors):
        if not isinstance(t, SparseTensor):
            raise RuntimeError(f'Concatenating sparse tensors, but a dense tensor was found at position {i}.')
        if t._shape != tensors[0]._shape:
            from .ops._util import fmt_shape
            raise RuntimeError(f'stack expects each tensor to be equal size, but got {fmt_shape(tensors[0]._shape)} '
                               f'at entry 0 and {fmt_shape(t._shape)} at entry {i}')
    first = tensors[0]
    d = _wrap_dim(dim, len(first._shape) + 1, 'stack')
    if d > first.sparse_dim() or any(t.sparse_dim() != first.sparse_dim() for t in tensors):
        raise NotImplementedError(f'ember stacks sparse tensors along a new sparse dim only (dim <= sparse_dim() = '
                                  f'{first.sparse_dim()}), not dim {dim}; stack their to_dense()')
    idx = np.concatenate([np.insert(t._idx, d, k, 0) for k, t in enumerate(tensors)], 1)
    vals = np.concatenate(_promote_all([Tensor._make(t._vals) for t in tensors], 'stack'))
    out = _make(idx, vals, first._shape[:d] + (len(tensors),) + first._shape[d:], False, check=False)
    return _tracked(out, 'StackBackward0', tuple(tensors), lambda g: _unstacked(g, d, len(tensors)))


def _squeezed(g, d, sd):
    """An unsqueeze's gradient: ``g`` with dim ``d`` (a sparse dim when ``d <= sd``) dropped."""
    if isinstance(g, SparseTensor):
        if d <= sd:
            return _make(np.delete(g._idx, d, 0), g._vals, g._shape[:d] + g._shape[d + 1:], False, check=False)
        return _make(g._idx, np.squeeze(g._vals, d - sd + 1), g._shape[:d] + g._shape[d + 1:], False, check=False)
    return g.squeeze(d) if isinstance(g, Tensor) else np.squeeze(g, d)


def _unstacked(g, d, n):
    """A stack's gradient (norse stacks its cells' sparse spikes over time): the slices of ``g`` along ``d``."""
    if isinstance(g, Tensor):
        return tuple(g.select(d, k) for k in range(n))
    return tuple(np.take(g, k, axis=d) for k in range(n))


def _layout_name(t):
    return {_layout.sparse_csr: 'CSR', _layout.sparse_csc: 'CSC', _layout.sparse_bsr: 'BSR',
            _layout.sparse_bsc: 'BSC'}.get(t.layout)


def joined(tensors, op):
    """torch.cat/stack (and hstack, vstack... through them) of tensors among which one is sparse: PyTorch picks
    the kernel by the first tensor's layout, so a dense first one fails on the sparse ones (NotImplementedError,
    aten::_values), a sparse COO first one refuses dense ones; compressed layouts have no strides. Raises those;
    returns when every tensor is sparse COO."""
    first = tensors[0]
    if _layout_name(first):
        raise RuntimeError(f'Sparse {_layout_name(first)} tensors do not have is_contiguous')
    for i, t in enumerate(tensors):
        if _layout_name(t):
            raise RuntimeError(f'Sparse {_layout_name(t)} tensors do not have '
                               f'{"strides" if first.is_sparse else "is_contiguous"}')
    if not first.is_sparse:
        raise NotImplementedError(
            "Could not run 'aten::_values' with arguments from the 'CPU' backend. This could be because the operator "
            "doesn't exist for this backend, or was omitted during the selective/custom build process (if using "
            f"custom build). (torch.{op} of a dense tensor first and a sparse one: PyTorch runs the dense kernel, "
            'which cannot read a sparse tensor; join t.to_dense(), or put the sparse tensors first and make them all '
            'sparse)')
    for i, t in enumerate(tensors):
        if not t.is_sparse:
            raise RuntimeError(f'Concatenating sparse tensors, but a dense tensor was found at position {i}.')


def cat(tensors, dim):
    """``torch.cat`` of sparse COO tensors: along a sparse dim each one's indices shifted past the ones before,
    along a dense dim each one's values zero-padded into its slice (PyTorch's result: entries in order,
    uncoalesced), the values promoted to one dtype."""
    from .ops.shape import _promote_all
    first = tensors[0]
    for t in tensors:
        t._no_graph('cat')
    d = _wrap_dim(dim, len(first._shape), 'cat')
    for i, t in enumerate(tensors):
        if len(t._shape) != len(first._shape) or t.sparse_dim() != first.sparse_dim() or \
                any(a != b for k, (a, b) in enumerate(zip(t._shape, first._shape)) if k != d):
            raise RuntimeError(f'All tensors must have the same shape: {list(first._shape)} (except in the '
                               f'concatenating dimension), but found shape: {list(t._shape)} at position {i}.')
    sizes = [t._shape[d] for t in tensors]
    total, offsets = sum(sizes), np.cumsum([0] + sizes[:-1])
    vals = _promote_all([Tensor._make(t._vals) for t in tensors], 'cat')
    sd = first.sparse_dim()
    if d < sd:
        idx = [t._idx.copy() for t in tensors]
        for i, off in zip(idx, offsets):
            i[d] += off
    else:
        idx, padded = [t._idx for t in tensors], []
        for v, off, size in zip(vals, offsets, sizes):
            shape = list(v.shape)
            shape[d - sd + 1] = total
            out = np.zeros(shape, v.dtype)
            out[(slice(None),) * (d - sd + 1) + (slice(off, off + size),)] = v
            padded.append(out)
        vals = padded
    shape = first._shape[:d] + (total,) + first._shape[d + 1:]
    return _make(np.concatenate(idx, 1), np.concatenate(vals), shape, False, check=False)


def _tracked(out, name, inputs, backward):
    """``out`` (sparse) as the result of a recorded op named ``name`` over sparse ``inputs`` when one requires grad:
    ``backward(g)`` gives their gradients from out's (sparse, dense, or a tensor under create_graph)."""
    if GRAD.enabled and any(t._requires_grad for t in inputs):
        node = _OP_NODES.get(name)
        if node is None:
            node = _OP_NODES[name] = type(name, (_SparseOpBackward,), {'__slots__': ()})
        n = node(inputs)
        n.fn = backward
        out.grad_fn, out._requires_grad = n, True
    return out


def _constant(other, op):
    if isinstance(other, Tensor) and other._requires_grad and GRAD.enabled:
        raise NotImplementedError(f'ember does not differentiate a sparse tensor {op} with respect to the number')


def _swap(g, d0, d1):
    """A transpose's gradient: the same dims swapped back (a sparse gradient by its indices)."""
    if isinstance(g, SparseTensor):
        return g.transpose(d0, d1)
    return np.swapaxes(g, d0, d1) if not isinstance(g, Tensor) else g.transpose(d0, d1)


def _permuted(g, perm):
    """A permute's gradient: the dims put back in order ``perm`` (a sparse gradient by its parts)."""
    if isinstance(g, SparseTensor):
        return g._reordered(perm, g._coal and perm[0] == 0)
    return np.transpose(g, perm) if not isinstance(g, Tensor) else g.permute(perm)


def _conjugated(g):
    """A conjugation's gradient: the conjugate (a sparse gradient by its values)."""
    if isinstance(g, SparseTensor):
        return g.conj_physical()
    return np.conj(g) if not isinstance(g, Tensor) else g.conj_physical()


def _compressed(input, layout):
    """``input`` (strided or COO) in a sparse compressed layout (see _sparse_csr)."""
    from ._sparse_csr import to_compressed
    return to_compressed(input, layout)


def to_sparse_csr(input, dense_dim=None):
    """``Tensor.to_sparse_csr``: a 2-D tensor's nonzero entries in the CSR layout."""
    return _compressed(input, _layout.sparse_csr)


def to_sparse_csc(input, dense_dim=None):
    """``Tensor.to_sparse_csc``: a 2-D tensor's nonzero entries in the CSC layout."""
    return _compressed(input, _layout.sparse_csc)


def _coo_only(layout):
    if layout is not None and layout is not _layout.sparse_coo:
        raise NotImplementedError(f'ember converts to the sparse COO layout only, not {layout}')


def _make(idx, vals, shape, coalesced, check=True):
    """A SparseTensor from its parts (``idx`` int64 (sparse_dim, nnz), ``vals`` (nnz, *dense dims)); ``check``:
    whether the indices fit ``shape`` (skipped for parts made from a checked tensor's)."""
    t = object.__new__(SparseTensor)
    shape = tuple(int(s) for s in shape)
    if check:
        for d in range(idx.shape[0]):
            if idx.shape[1] and (idx[d].max() >= shape[d] or idx[d].min() < 0):
                bad = idx[d].max() if idx[d].max() >= shape[d] else idx[d].min()
                raise RuntimeError(f'size is inconsistent with indices: for dim {d}, size is {shape[d]} but found '
                                   f'index {bad}')
    t._shape = shape
    t._requires_grad = False
    t._grad = None
    t.grad_fn = None
    t._idx, t._vals, t._coal = idx, vals, coalesced or idx.shape[1] < 2   # as PyTorch: <= 1 entry is coalesced
    return t


def _dense(t):
    """The dense array sparse ``t`` stands for (a new, writable one): duplicates summed."""
    dense = np.zeros(t._shape, t._vals.dtype)
    if t._idx.shape[1]:
        if t._coal:
            dense[tuple(t._idx)] = t._vals
        else:
            np.add.at(dense, tuple(t._idx), t._vals)
    return dense


def _coalesced(idx, vals, sparse_shape):
    """Sorted unique indices and each duplicate run's values summed one by one, in the order PyTorch's
    coalesce takes them (see _sort_order)."""
    if not idx.shape[1]:
        return idx, vals
    lin = np.ravel_multi_index(tuple(idx), sparse_shape)
    order = _sort_order(lin)
    lin_sorted = lin[order]
    starts = np.flatnonzero(np.r_[True, lin_sorted[1:] != lin_sorted[:-1]])
    summed = _run_sums(vals[order], starts)
    new_idx = np.stack(np.unravel_index(lin_sorted[starts], sparse_shape)).astype(np.int64).reshape(idx.shape[0], -1)
    return new_idx, summed


# PyTorch's CPU sort of a 1-D int64 tensor (coalesce sorts the flattened indices) is a stable radix sort from
# this many elements (at::internal::GRAIN_SIZE); below it, libstdc++'s std::sort, which leaves equal keys in
# an order of its own
_RADIX_FROM = 32768


def _sort_order(lin):
    """The permutation torch.sort(lin) gives: a stable sort where that is PyTorch's, or where no key repeats
    (any sort agrees then); otherwise std::sort replayed (ember/ops/_topk.py)."""
    order = np.argsort(lin, kind='stable')
    if len(lin) >= _RADIX_FROM or not (np.diff(lin[order]) == 0).any():
        return order
    from .ops._topk import _sort
    pairs = list(zip(lin.tolist(), range(len(lin))))
    _sort(pairs, 0, len(pairs))
    return np.array([i for _, i in pairs], np.int64)


def _run_sums(vals, starts):
    """Sums of the runs of ``vals`` beginning at ``starts``, each added left to right (the k-th element of
    every run in one NumPy pass)."""
    out = vals[starts].copy()
    lengths = np.diff(np.r_[starts, len(vals)])
    for k in range(1, int(lengths.max()) if len(lengths) else 0):
        runs = np.flatnonzero(lengths > k)
        out[runs] = out[runs] + vals[starts[runs] + k]
    return out


def _merge_add(t, s, alpha):
    """``t + alpha * s`` as PyTorch adds two sparse tensors: one pass over both entry lists in stored order,
    taking the entry with the smaller index, or both summed when the indices are equal (for coalesced operands
    the union of their entries; for others whatever that pass pairs up, as in PyTorch)."""
    shape = t._shape[:t.sparse_dim()]
    dt = np.result_type(t._vals, s._vals)
    tv = t._vals.astype(dt, copy=False)
    sv = s._vals * alpha if alpha != 1 else s._vals.astype(dt, copy=False)
    if not (tv.flags.c_contiguous and sv.flags.c_contiguous):
        # PyTorch's add of values not contiguous (a sum's expanded gradient, as embedding's values): both entry
        # lists concatenated, uncoalesced
        return _make(np.concatenate([t._idx, s._idx], 1), np.concatenate([tv, sv.astype(dt, copy=False)]),
                     t._shape, False, check=False)
    lt, ls = (np.ravel_multi_index(tuple(x._idx), shape) if x._idx.shape[1] else np.zeros(0, np.int64)
              for x in (t, s))
    if t._coal and s._coal:
        lin = np.union1d(lt, ls)
        vals = np.zeros((len(lin),) + tv.shape[1:], dt)
        vals[np.searchsorted(lin, lt)] = tv
        vals[np.searchsorted(lin, ls)] += sv.astype(dt, copy=False)
        idx = np.stack(np.unravel_index(lin, shape)).astype(np.int64).reshape(len(shape), -1)
        return _make(idx, vals, t._shape, True)
    i = j = 0
    out_lin, out_vals = [], []
    while i < len(lt) or j < len(ls):
        if j == len(ls) or (i < len(lt) and lt[i] < ls[j]):
            out_lin.append(lt[i])
            out_vals.append(tv[i])
            i += 1
        elif i == len(lt) or ls[j] < lt[i]:
            out_lin.append(ls[j])
            out_vals.append(sv[j])
            j += 1
        else:
            out_lin.append(lt[i])
            out_vals.append(tv[i] + sv[j])
            i, j = i + 1, j + 1
    idx = np.stack(np.unravel_index(np.asarray(out_lin, np.int64), shape)).astype(np.int64).reshape(len(shape), -1)
    vals = np.asarray(out_vals, dt).reshape((len(out_vals),) + tv.shape[1:])
    return _make(idx, vals, t._shape, False)


def _sparse_mul(a, b):
    """Elementwise product of two sparse tensors of one shape: the entries both hold (a coalesced result)."""
    if a._shape != b._shape:
        raise RuntimeError(f'mul operands have incompatible sizes {list(a._shape)} and {list(b._shape)}')
    a, b = a.coalesce(), b.coalesce()
    shape = a._shape[:a.sparse_dim()]
    la, lb = (np.ravel_multi_index(tuple(t._idx), shape) for t in (a, b))
    common, ia, ib = np.intersect1d(la, lb, assume_unique=True, return_indices=True)
    vals = Tensor.mul(Tensor._make(a._vals[ia]), Tensor._make(b._vals[ib]))._data
    idx = np.stack(np.unravel_index(common, shape)).astype(np.int64).reshape(len(shape), -1)
    return _make(idx, vals, a._shape, True)


def sparse_sum(input, dim=None, keepdim=False, dtype=None, _dense_grad=False):
    """``torch.sparse.sum``: all values (a strided 0-d tensor, its gradient sparse at the input's indices) or
    sparse dims summed away (coalesced). ``_dense_grad``: Tensor.sum's (torch.sum's) dense gradient instead."""
    if not isinstance(input, SparseTensor):
        return Tensor.sum(input, dim, keepdim, dtype=dtype)
    if dim is None:
        out = Tensor.sum(Tensor._make(input._vals), dtype=dtype)
        if input._requires_grad and GRAD.enabled:
            return Tensor._make(out._data, _node(_DenseSumBackward if _dense_grad else SumBackward0, input))
        return out
    input._no_graph('torch.sparse.sum over some dims')
    ndim = len(input._shape)
    dims = sorted({d % ndim for d in (dim if isinstance(dim, (tuple, list)) else (dim,))})
    n = input.sparse_dim()
    vals = input._vals
    dense_dims = [d - n + 1 for d in dims if d >= n]
    if dense_dims:
        vals = vals.sum(tuple(dense_dims), keepdims=keepdim)
    if dtype is not None:
        vals = vals.astype(to_np(dtype))
    elif vals.dtype.kind in 'biu':
        vals = vals.astype(np.int64)
    keep = [d for d in range(n) if d not in dims]
    if keepdim:
        shape = [1 if d in dims else s for d, s in enumerate(input._shape[:n])]
    else:
        shape = [s for d, s in enumerate(input._shape[:n]) if d not in dims]
    shape += list(vals.shape[1:])
    if not keep and not keepdim:
        return Tensor._make(np.asarray(vals.sum(0)))
    if keepdim:
        idx = input._idx.copy()
        idx[[d for d in dims if d < n]] = 0
    else:
        idx = input._idx[keep]
    sparse_shape = tuple(shape[:idx.shape[0]])
    idx, vals = _coalesced(idx, vals, sparse_shape)
    return _make(idx, vals, shape, True)


# -- construction ---------------------------------------------------------------------------------------------
def _as_array(x):
    """The values of ``x`` as ``torch.tensor(x)`` reads them (lists of floats in the default dtype, NumPy arrays
    in theirs)."""
    if isinstance(x, Tensor):
        return x._data
    from .ops.creation import tensor
    return tensor(x)._data


def sparse_coo_tensor(indices=None, values=None, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """A sparse COO tensor with ``values`` at ``indices`` (one column an entry), as given: duplicates are kept
    (uncoalesced) until ``coalesce()``; the size defaults to one past the largest index of each dim. With a
    size alone (``sparse_coo_tensor(size)``, PyTorch's third overload) an empty one of that size."""
    _check_device(device)
    if check_invariants is None and not _INVARIANTS[1]:
        warn_invariants_off()
    if values is None:
        return _empty_coo(size if indices is None else indices, dtype, device, requires_grad)
    idx = _as_array(indices)
    vals = _as_array(values)
    if dtype is not None:
        vals = vals.astype(to_np(dtype))
    idx = idx.astype(np.int64)
    if idx.ndim == 1:       # PyTorch reads a 1-D index list as one column (sparse_dim = its length)
        idx = idx[:, None]
    if idx.ndim != 2:
        raise RuntimeError(f'indices must be sparse_dim x nnz, but got: {list(idx.shape)}')
    if vals.ndim == 0:
        vals = vals.reshape(1)
    n = idx.shape[0]
    if size is None:
        size = tuple(int(m) + 1 for m in idx.max(1)) if idx.shape[1] else (0,) * n
        size = size + vals.shape[1:]
    size = tuple(int(s) for s in size)
    if len(size) != n + vals.ndim - 1:
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
                           f'sparse_dim = {n}, dense_dim = {vals.ndim - 1}')
    if idx.shape[1] != vals.shape[0]:
        raise RuntimeError(f'indices and values must have same nnz, but got nnz from indices: {idx.shape[1]}, '
                           f'nnz from values: {vals.shape[0]}')
    out = _make(idx, vals, size, bool(is_coalesced))
    if isinstance(values, Tensor) and values._requires_grad and GRAD.enabled:
        node = SparseCooTensorWithDimsAndTensorsBackward0((values,))
        node.sparse = out
        out.grad_fn, out._requires_grad = node, True
    elif requires_grad:
        out.requires_grad_()
    return out


def _empty_coo(size, dtype, device, requires_grad):
    """``sparse_coo_tensor(size)``: no entries, every dim sparse, in the default dtype unless ``dtype``."""
    from ._dtype import get_default_dtype
    if not isinstance(size, (tuple, list)) or not all(isinstance(n, int) and not isinstance(n, bool) for n in size):
        raise TypeError('sparse_coo_tensor(): expected (indices, values[, size]) or a size (tuple of ints), got '
                        f'{"nothing" if size is None else type(size).__name__}')
    if any(n < 0 for n in size):
        raise RuntimeError(f'sparse_coo_tensor(): negative dimension in size {list(size)}')
    return no_entries(tuple(size), to_np(dtype or get_default_dtype()), device, requires_grad)


def add_into(arr, s, alpha=1):
    """``dense += alpha * s`` in place on ndarray ``arr`` (PyTorch's ``dense.add_(sparse, alpha=)``): each entry
    added in stored order, duplicates one by one; nothing of ``arr``'s size is made. A float32/float64 entry with
    an alpha adds as one fused multiply-add, as PyTorch's kernel (product rounded first: SGD's sparse step on an
    Embedding was 1 ulp off in 62 of 100 draws)."""
    at = tuple(s._idx)
    if alpha != 1 and arr.dtype in (np.float32, np.float64) and len(s._idx):
        keys = np.ravel_multi_index(s._idx, s._shape[:len(s._idx)]) if len(s._idx) > 1 else s._idx[0]
        for sel in [slice(None)] if s._coal else _rank_groups(keys):
            fused_add_at(arr, tuple(i[sel] for i in at), s._vals[sel], alpha)
        return
    v = s._vals if alpha == 1 else np.multiply(s._vals, alpha, dtype=arr.dtype)
    if s._coal:
        arr[at] += v.astype(arr.dtype, copy=False)
    else:
        np.add.at(arr, at, v.astype(arr.dtype, copy=False))


def fused_add_at(arr, at, v, alpha):
    """``arr[at] += alpha * v`` for float32/float64 ``arr`` and distinct positions ``at``, each a fused multiply-add
    (one rounding), as PyTorch's dense-plus-sparse kernel adds an entry scaled by alpha."""
    v = np.asarray(v).astype(arr.dtype, copy=False)
    fma = fma32 if arr.dtype == np.float32 else _fma
    arr[at] = fma(v, arr.dtype.type(alpha), arr[at])


def no_entries(shape, np_dtype, device=None, requires_grad=False):
    """``torch.zeros(*shape, layout=torch.sparse_coo)`` (and ``empty``): all dims sparse, no entries."""
    _check_device(device)
    out = _make(np.zeros((len(shape), 0), np.int64), np.zeros((0,), np_dtype), shape, True)
    return out.requires_grad_() if requires_grad else out


def sparse_mask(input, mask):
    """``Tensor.sparse_mask``: ``input``'s values at a sparse COO ``mask``'s indices (as stored, duplicates kept), a
    COO tensor of mask's indices and coalesced flag; differentiable in ``input`` (pytorch_optimizer's MADGRAD)."""
    if not isinstance(mask, Tensor):
        cls = type(mask)
        kind = cls.__name__ if cls.__module__ == 'builtins' else f'{cls.__module__}.{cls.__name__}'
        raise TypeError(f"sparse_mask(): argument 'mask' (position 1) must be Tensor, not {kind}")
    if not isinstance(mask, SparseTensor):
        if getattr(mask, 'layout', None) in (_layout.sparse_csr, _layout.sparse_csc):
            raise NotImplementedError(f'ember: sparse_mask with a {mask.layout} mask is not supported (a COO mask '
                                      'is: mask.to_sparse())')
        raise NotImplementedError("Could not run 'aten::sparse_mask' with arguments from the 'CPU' backend. This "
                                  "could be because the operator doesn't exist for this backend (the mask must be "
                                  'a sparse tensor)')
    if tuple(input.shape) != tuple(mask.shape):
        raise RuntimeError(f'sparse_mask(): operands have incompatible sizes; self has size {list(input.shape)} but '
                           f'mask has size {list(mask.shape)}')
    if not mask._coal and input._requires_grad and GRAD.enabled:   # to_dense's gradient here comes coalesced
        raise NotImplementedError('ember differentiates sparse_mask with a coalesced mask only (PyTorch gives each '
                                  'duplicate index its own entry); call mask.coalesce() first')
    dense = _dense(input) if isinstance(input, SparseTensor) else input._data
    vals = np.ascontiguousarray(dense[tuple(mask._idx)])
    out = _make(mask._idx.copy(), vals, mask._shape, mask._coal, check=False)
    return _tracked(out, 'SparseMaskBackward0', (input,), lambda g: (_sum_to_dense(g, input),))


def _sum_to_dense(g, like):
    """sparse_mask's gradient: the output's (sparse) gradient summed into ``like``'s dense shape (as PyTorch's
    sparse_mask_backward: duplicate entries each add)."""
    if isinstance(g, SparseTensor):
        g = _dense(g)
    g = Tensor._make(np.asarray(getattr(g, '_data', g)))
    return g.to_sparse() if isinstance(like, SparseTensor) else g


def to_sparse(input, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """``Tensor.to_sparse``: the nonzero entries (over the first ``sparse_dim`` dims) of a strided tensor, in
    index order (coalesced)."""
    if isinstance(input, SparseTensor):
        return input.to_sparse(sparse_dim, layout=layout)
    if layout in (_layout.sparse_csr, _layout.sparse_csc):
        return _compressed(input, layout)
    _coo_only(layout)
    a = input._data
    n = a.ndim if sparse_dim is None else int(sparse_dim)
    if not 0 < n <= a.ndim and a.ndim:
        raise RuntimeError(f'sparse_dim must be in [1, {a.ndim}] (got {n})')
    lead = a.reshape(a.shape[:n] + (-1,)) if n < a.ndim else a[..., None]
    idx = np.stack(np.nonzero(lead.any(-1))).astype(np.int64).reshape(n, -1)
    out = _make(idx, a[tuple(idx)], a.shape, True)
    name = 'ToSparseBackward1' if sparse_dim is None else 'ToSparseBackward0'   # PyTorch's two overloads
    return _tracked(out, name, (input,), lambda g: (_densified(g),))


def _densified(g):
    """The gradient of a dense tensor made sparse (norse's spiking cells hand back ``z.to_sparse()``): the
    sparse tensor's gradient as a dense one, as PyTorch's ToSparseBackward0 gives it."""
    return g.to_dense() if isinstance(g, SparseTensor) else g


def to_dense(input, dtype=None, *, masked_grad=None):
    """``Tensor.to_dense`` of a strided tensor: the tensor itself (a copy when ``dtype`` changes it)."""
    if isinstance(input, SparseTensor):
        return input.to_dense(dtype)
    return input if dtype is None else input.to(dtype)


# -- products --------------------------------------------------------------------------------------------------
def _spmm(s, axis, x):
    """The product of sparse ``s`` (transposed when ``axis`` is 1) and dense ``x``: out[i] += v * x[j] over
    ``s``'s entries (i, j, v) in stored order (i = the index along ``axis``), as PyTorch's COO product adds
    them, each a fused multiply-add (see _fma). The entries go in rounds (see _rounds), so a round is a few
    NumPy passes over at most one entry an output row. A compressed (CSR/CSC) ``s`` adds each product rounded
    on its own, as PyTorch's compressed kernel does (``_fused_products``)."""
    rows, cols = s._idx[axis], s._idx[1 - axis]
    out = np.zeros((s._shape[axis],) + x.shape[1:], x.dtype)
    v = s._vals.astype(x.dtype, copy=False).reshape((-1,) + (1,) * (x.ndim - 1))
    fma = _fma if s._fused_products else _mul_add
    for sel in _rounds(s, axis):
        r = rows[sel]
        out[r] = fma(v[sel], x[cols[sel]], out[r])
    return out


def _mul_add(a, b, c):
    """a * b + c, each rounded (PyTorch's CSR product)."""
    return a * b + c


def _rounds(s, axis):
    """``s``'s entries grouped so that group k holds the k-th entry (in stored order) of every output row
    that has one; kept on the tensor, whose parts never change (a GCN multiplies one adjacency every step)."""
    cache = s.__dict__.setdefault('_round_cache', {})
    if axis not in cache:
        cache[axis] = _rank_groups(s._idx[axis])
    return cache[axis]


def _rank_groups(rows):
    """Positions of ``rows`` grouped so that group k holds the k-th occurrence (in order) of every value."""
    order = np.argsort(rows, kind='stable')
    r_sorted = rows[order]
    first = np.r_[0, np.flatnonzero(r_sorted[1:] != r_sorted[:-1]) + 1] if len(rows) else np.zeros(0, int)
    rank = np.arange(len(rows)) - np.repeat(first, np.diff(np.r_[first, len(rows)]))
    by_rank = np.argsort(rank, kind='stable')
    bounds = np.searchsorted(rank[by_rank], np.arange(rank.max() + 2)) if len(rows) else [0]
    return [order[by_rank[bounds[k]:bounds[k + 1]]] for k in range(len(bounds) - 1)]


def _fma(a, b, c):
    """a * b + c rounded once, as the fused multiply-add of PyTorch's kernel: float32 through float64 (the
    product is exact there); float64 from the exact product and sum split into high and low parts (Dekker's
    product, Knuth's sum), whose sum then rounds once but for double-rounding ties; other dtypes plainly."""
    if a.dtype == np.float32:
        return (a.astype(np.float64) * b + c).astype(np.float32)
    if a.dtype != np.float64:
        return a * b + c
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = c + p
    bb = s - c
    t = (c - (s - bb)) + (p - bb)
    return s + (t + e)


def _split(a):
    """Veltkamp's split of float64s into 26-bit high and low parts whose products are exact."""
    h = a * 134217729.0
    h = h - (h - a)
    return h, a - h


class _SparseMmBackward(Node):
    """Backward of a product with one sparse operand: the dense operand's gradient through the transposed
    sparse one; the sparse operand's (when it requires grad) the dense product of the gradient and the dense
    operand, which torch.sparse.mm (``masked``) keeps at the sparse operand's coalesced indices only."""
    __slots__ = ('sparse', 'left', 'dense', 'masked')

    def backward(self, g):
        s = self.sparse
        gs = None
        if self.next_functions[0 if self.left else 1][0] is not None:
            gs = _like(g, _sparse_operand_grad(s, self.dense, getattr(g, '_data', g), self.left, self.masked))
        if self.next_functions[1 if self.left else 0][0] is None:
            gd = None
        elif not dual.is_array(g):        # create_graph: the same products, recorded
            gd = mm(s.detach().t(), g) if self.left else mm(g, s.detach().t())
        elif self.left:       # out = S @ D: dD = S^T @ g
            gd = _spmm(s, 1, g)
        else:   # out = D @ S: dD = g @ S^T = (S @ g^T)^T
            gd = np.ascontiguousarray(_spmm(s, 0, g.T).T)
        return (gs, gd) if self.left else (gd, gs)


MmBackward0 = type('MmBackward0', (_SparseMmBackward,), {'__slots__': ()})
SparseAddmmBackward0 = type('SparseAddmmBackward0', (_SparseMmBackward,), {'__slots__': ()})


def _sparse_operand_grad(s, d, g, left, masked):
    """The gradient of sparse ``s`` in ``s @ d`` (``left``) or ``d @ s``: g @ d^T or d^T @ g, dense; ``masked``
    (torch.sparse.mm's): only at s's coalesced indices, a sparse tensor, each value the dot product there."""
    if not masked:
        return g @ d.T if left else d.T @ g
    if left:    # (g @ d^T)[i, j] = g[i] . d[j], at s's coalesced indices
        idx, _ = _coalesced(s._idx, s._vals, s._shape)
        rows, cols = idx
        vals = np.einsum('nk,nk->n', g[rows], d[cols])
    else:       # (d^T @ g)[i, j] = d[:, i] . g[:, j]; PyTorch's through s^T: its coalesced order, transposed back
        idx_t, _ = _coalesced(s._idx[::-1], s._vals, s._shape[::-1])
        idx = np.ascontiguousarray(idx_t[::-1])
        rows, cols = idx
        vals = np.einsum('kn,kn->n', d[:, rows], g[:, cols])
    return _make(idx, vals.astype(s._vals.dtype, copy=False), s._shape, left or idx.shape[1] < 2, check=False)


def _like(g, arr):
    """A gradient computed on arrays, as a tensor when ``g`` is one (create_graph: the gradient of a sparse
    operand is not differentiated further here, it is handed on as a constant)."""
    if isinstance(g, Tensor) and not isinstance(arr, Tensor):
        return Tensor._make(arr)
    return arr


class _SparseOpBackward(Node):
    """A layout-keeping op on sparse tensors: ``fn(g)`` gives its inputs' gradients."""
    __slots__ = ('fn',)

    def backward(self, g):
        out = self.fn(g)
        return out if len(out) > 1 else out[0]


_OP_NODES = {}      # node classes by PyTorch's grad_fn name, made on first use


class _SparseInputBackward(Node):
    """Base of the nodes whose input is the sparse tensor ``sparse``."""
    __slots__ = ('sparse',)


def _node(cls, sparse):
    node = cls((sparse,))
    node.sparse = sparse
    return node


def _at_coalesced(s, values_of):
    """A coalesced sparse tensor at ``s``'s coalesced indices with values ``values_of(indices)``."""
    idx, _ = _coalesced(s._idx, s._vals, s._shape[:s.sparse_dim()])
    vals = np.ascontiguousarray(values_of(idx), dtype=s._vals.dtype)
    return _make(idx, vals, s._shape, True, check=False)


class ToDenseBackward0(_SparseInputBackward):
    """``to_dense``: the dense gradient at the sparse tensor's (coalesced) indices, as PyTorch masks it."""
    __slots__ = ()

    def backward(self, g):
        g = getattr(g, '_data', g)
        return _at_coalesced(self.sparse, lambda idx: g[tuple(idx)])


class SumBackward0(_SparseInputBackward):
    """The sum of all of a sparse tensor's values: the gradient at each of its (coalesced) indices."""
    __slots__ = ()

    def backward(self, g):
        g = np.asarray(getattr(g, '_data', g))
        s = self.sparse
        return _at_coalesced(s, lambda idx: np.broadcast_to(g, (idx.shape[1],) + s._vals.shape[1:]))


class _DenseSumBackward(_SparseInputBackward):
    """Tensor.sum / torch.sum of a sparse tensor: PyTorch's dense gradient (ones times g everywhere)."""
    __slots__ = ()

    def backward(self, g):
        return _like(g, np.full(self.sparse._shape, np.asarray(getattr(g, '_data', g)), self.sparse._vals.dtype))


_DenseSumBackward.__name__ = _DenseSumBackward.__qualname__ = 'SumBackward0'


class SparseCooTensorWithDimsAndTensorsBackward0(_SparseInputBackward):
    """``sparse_coo_tensor(indices, values)``: each entry's value takes the gradient at its index (a dense
    gradient read there, a sparse one looked up, zero where it has no entry)."""
    __slots__ = ()

    def backward(self, g):
        s = self.sparse
        n = s.sparse_dim()
        if not isinstance(g, SparseTensor):
            return _like(g, np.ascontiguousarray(getattr(g, '_data', g)[tuple(s._idx)]))
        gc = g.coalesce()
        out = np.zeros(s._vals.shape, gc._vals.dtype)
        if s._idx.shape[1] and gc._idx.shape[1]:
            lin_g = np.ravel_multi_index(tuple(gc._idx), s._shape[:n])
            lin_s = np.ravel_multi_index(tuple(s._idx), s._shape[:n])
            at = np.minimum(np.searchsorted(lin_g, lin_s), len(lin_g) - 1)
            hit = lin_g[at] == lin_s
            out[hit] = gc._vals[at[hit]]
        return _like(g, out)


def _np_dtype(t):
    return t._vals.dtype if isinstance(t, SparseTensor) else t._data.dtype


def _check_mm(a, b):
    if a.dim() != 2 or b.dim() != 2:
        raise RuntimeError(f'mm: ember multiplies 2-D sparse tensors only (got {a.dim()}-D and {b.dim()}-D)')
    da, db = _np_dtype(a), _np_dtype(b)
    if da != db:
        raise RuntimeError(f'expected scalar type {scalar_name(da)} but found {scalar_name(db)}')
    if a.shape[1] != b.shape[0]:
        if isinstance(a, SparseTensor):
            raise RuntimeError(f'addmm: Argument #3 (dense): Expected dim 0 size {a.shape[1]}, got {b.shape[0]}')
        raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and '
                           f'{b.shape[0]}x{b.shape[1]})')


def mm(input, mat2, node=None, masked=False):
    """A product with a sparse operand (a strided result), entry by entry as PyTorch adds it: sparse @ dense
    directly, dense @ sparse as (S^T @ D^T)^T. Only the strided operand is differentiated."""
    node = node or MmBackward0
    if isinstance(input, SparseTensor) and not isinstance(mat2, SparseTensor) and mat2.dim() == 1:
        return mm(input, mat2.unsqueeze(1), node, masked).squeeze(1)     # sparse @ vector: PyTorch's mv
    if isinstance(input, SparseTensor) and isinstance(mat2, SparseTensor):
        return _sparse_product(input, mat2)
    _check_mm(input, mat2)
    left = isinstance(input, SparseTensor)
    s, d = (input, mat2) if left else (mat2, input)
    if left:
        arr = _spmm(s, 0, d._data)
    else:
        arr = np.ascontiguousarray(_spmm(s, 1, d._data.T).T)
    if GRAD.enabled and (d._requires_grad or s._requires_grad):
        n = node((s, d) if left else (d, s))
        n.sparse, n.left, n.masked = s, left, masked
        n.dense = d._data if s._requires_grad else None
        return Tensor._make(arr, n)
    return Tensor._make(arr)


_LAYOUT_NAMES = {_layout.sparse_coo: 'Sparse', _layout.sparse_csr: 'SparseCsr', _layout.sparse_csc: 'SparseCsc'}


def _sparse_product(a, b):
    """sparse @ sparse (2-D, no dense dims; PyG's GraphUNet squares its adjacency) as PyTorch's row-by-row
    product: out[i, j] adds the rounded products a[i, k] * b[k, j] over k ascending, structural zeros kept; COO
    operands give a coalesced COO result, compressed ones (CSR or CSC) a CSR one. Not differentiated."""
    if (a.layout is _layout.sparse_coo) != (b.layout is _layout.sparse_coo):
        raise RuntimeError(f'addmm: computation on CPU is not implemented for {_LAYOUT_NAMES[a.layout]} + '
                           f'{_LAYOUT_NAMES[a.layout]} @ {_LAYOUT_NAMES[b.layout]}')
    if a._vals.dtype != b._vals.dtype:
        raise RuntimeError(f'mat1 dtype {scalar_name(a._vals.dtype)} does not match mat2 dtype '
                           f'{scalar_name(b._vals.dtype)}')
    if a.dim() != 2 or b.dim() != 2 or a.dense_dim() or b.dense_dim():
        raise NotImplementedError('ember multiplies 2-D sparse tensors without dense dims only')
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and '
                           f'{b.shape[0]}x{b.shape[1]})')
    if GRAD.enabled and (a._requires_grad or b._requires_grad):
        raise NotImplementedError('ember does not differentiate a product of two sparse tensors; multiply '
                                  'detached ones, or make one operand dense (.to_dense())')
    (ai, ak), av = _row_major(a)
    (bk, bj), bv = _row_major(b)
    lo, hi = np.searchsorted(bk, ak, 'left'), np.searchsorted(bk, ak, 'right')
    counts = hi - lo
    a_of = np.repeat(np.arange(len(ak)), counts)         # each product's a entry, in a's (i, k) order
    b_of = np.repeat(lo, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    n = b.shape[1]
    lin = ai[a_of] * n + bj[b_of]
    order = np.argsort(lin, kind='stable')               # per (i, j): k ascending
    lin_sorted = lin[order]
    starts = np.flatnonzero(np.r_[True, lin_sorted[1:] != lin_sorted[:-1]]) if len(lin) else np.zeros(0, int)
    vals = _run_sums((av[a_of] * bv[b_of])[order], starts) if len(lin) else av[:0]
    idx = np.stack([lin_sorted[starts] // n, lin_sorted[starts] % n]).astype(np.int64).reshape(2, -1)
    shape = (a.shape[0], n)
    if a.layout is _layout.sparse_coo:
        return _make(idx, vals, shape, True, check=False)
    from ._sparse_csr import _make as make_compressed
    return make_compressed(idx, vals, shape, 0)


def _row_major(t):
    """A 2-D sparse tensor's unique entries sorted by (row, column): (indices, values)."""
    idx, vals = (t._idx, t._vals) if t.layout is not _layout.sparse_coo else _coalesced(t._idx, t._vals, t._shape)
    if t.layout is _layout.sparse_csc:
        order = np.lexsort((idx[1], idx[0]))
        idx, vals = idx[:, order], vals[order]
    return idx, vals


def sparse_mm(mat1, mat2, reduce=None):
    """``torch.sparse.mm``: ``mm`` recorded as SparseAddmmBackward0 when ``mat1`` is sparse; with ``reduce``
    given (even 'sum', as PyTorch's overload), the reduced CSR product of _sparse_reduce."""
    if reduce is not None:
        from ._sparse_reduce import sparse_mm_reduce
        return sparse_mm_reduce(mat1, mat2, reduce)
    if not isinstance(mat1, SparseTensor) and not isinstance(mat2, SparseTensor):
        return Tensor.mm(mat1, mat2)
    return mm(mat1, mat2, SparseAddmmBackward0 if isinstance(mat1, SparseTensor) else MmBackward0, masked=True)


def spmm(input, mat2):
    """``torch.spmm``: a matrix product where ``input`` may be sparse."""
    if isinstance(input, SparseTensor) or isinstance(mat2, SparseTensor):
        return mm(input, mat2)
    return Tensor.mm(input, mat2)


dsmm = spmm     # torch.dsmm: spmm under its older name (linear_operator's bdsmm, gpytorch's MultitaskKernel, calls it)


def is_sparse_arg(a, b):
    """Whether either operand of a product is sparse (checked by mm/matmul off their plain-Tensor path)."""
    return isinstance(a, SparseTensor) or isinstance(b, SparseTensor)


