"""Reductions (sum, mean, prod, max/min, var/std, norm, logsumexp), softmax/log_softmax and scans,
with PyTorch's result dtypes, ``(values, indices)`` named tuples and backward formulas."""
import math

import numpy as np

from .. import _bf16, _complex, _meta, _parallel, _quiet
from .._dtype import DEFAULT, scalar_name, to_np
from .._warn import warn_user
from ..autograd import dual
from ..backend import row_max, row_sums, transposed
from ..autograd.grad_mode import GRAD, OFF, INFERENCE
from ..autograd.graph import SEQ, Node, StaleView, edge, saved_attributes, saved_properties
from ..autograd._handoff import one_hot, take
from ..tensor import Tensor, INFERENCE_CELL
from . import _composite, _linear_twice, _moments64, _sleef
from ._fused import fma32 as _fma32
from ._util import wrap_dims, wrap_dim, reduce_dims, dim_aliases, not_implemented, check_tensor_args
from ._sumorder import ordered_sum, sum_plan, serial_sum, lastdim_squares_sum
from ..amp import _state as _autocast


_ONE_SEQUENCE = object()   # _ReturnType's second argument when called with one sequence


class _ReturnType(tuple):
    """A named tuple printed as ``torch.return_types.max(values=..., indices=...)``."""
    _fields = __match_args__ = ('values', 'indices')   # pattern matching's fields, as PyTorch's structseqs have
    n_fields = n_sequence_fields = 2
    n_unnamed_fields = 0
    _name = 'max'

    def __new__(cls, values, indices=_ONE_SEQUENCE):
        if indices is _ONE_SEQUENCE:   # PyTorch's structseq call: one 2-sequence (tensordict's ``max((v, i))``)
            seq = tuple(values)
            if len(seq) != 2:
                raise TypeError(f'torch.return_types.{cls._name}() takes a 2-sequence ({len(seq)}-sequence given)')
            values, indices = seq
        node = getattr(values, 'grad_fn', None)
        if node is not None and isinstance(indices, Tensor):
            node.guard(outputs=(indices,))   # every such PyTorch node saves the indices (changing them raises)
        return tuple.__new__(cls, (values, indices))

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])

    def __repr__(self):
        return f'torch.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})'


def _return_type(name):
    return type(name, (_ReturnType,), {'_name': name, '__slots__': ()})


class return_types:
    """Named tuples returned by reductions over a dim."""
    max = _return_type('max')
    min = _return_type('min')
    sort = _return_type('sort')
    topk = _return_type('topk')
    kthvalue = _return_type('kthvalue')
    median = _return_type('median')
    nanmedian = _return_type('nanmedian')
    mode = _return_type('mode')
    cummax = _return_type('cummax')
    cummin = _return_type('cummin')
    aminmax = type('aminmax', (tuple,), {
        '__match_args__': ('min', 'max'), 'n_fields': 2, 'n_sequence_fields': 2, 'n_unnamed_fields': 0,
        'min': property(lambda s: s[0]), 'max': property(lambda s: s[1]),
        '__repr__': lambda s: f'torch.return_types.aminmax(\nmin={s[0]!r},\nmax={s[1]!r})'})
    frexp = type('frexp', (tuple,), {
        '__match_args__': ('mantissa', 'exponent'), 'n_fields': 2, 'n_sequence_fields': 2, 'n_unnamed_fields': 0,
        'mantissa': property(lambda s: s[0]), 'exponent': property(lambda s: s[1]),
        '__repr__': lambda s: f'torch.return_types.frexp(\nmantissa={s[0]!r},\nexponent={s[1]!r})'})


def _aliases(dim, keepdim, axis, keepdims):
    """NumPy's spellings ``axis`` and ``keepdims``, which PyTorch accepts instead of dim and keepdim."""
    if axis is not None and dim is not None:
        raise TypeError("got both 'dim' and its alias 'axis'; pass one of them")
    return (dim if axis is None else axis), (keepdim if keepdims is None else keepdims)


def _kshape(shape, dims):
    """``shape`` with the reduced dims kept as size 1."""
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _expand_back(g, shape, dims, keepdim):
    """``g`` broadcast back over the reduced ``dims`` of ``shape``. Under create_graph each reduced dim is
    unsqueezed, as PyTorch's sum_backward does (UnsqueezeBackward0 nodes, so a double backward's graph has
    PyTorch's SqueezeBackward1 where a reshape would give ViewBackward0)."""
    if not keepdim and dims:
        if dual.is_array(g) or not shape:
            g = g.reshape(_kshape(shape, dims))
        else:
            for d in sorted(d % len(shape) for d in dims):
                g = g.unsqueeze(d)
    return dual.expand(g, shape)


def _mean_back(g, shape, dims, keepdim, n):
    """A mean's backward: an array divided before it is broadcast (fewer divisions); a tensor (create_graph)
    broadcast and then divided, PyTorch's order, so the graph of a double backward is PyTorch's."""
    if dual.is_array(g):
        return _expand_back(g / n, shape, dims, keepdim)
    return _expand_back(g, shape, dims, keepdim) / n


def _record(input, arr, cls, **state):
    """A ``cls`` node for ``input``'s reduction to ``arr`` when it needs one; an integer or bool ``arr`` (from a
    ``dtype=``) refused as PyTorch's set_history refuses it."""
    if GRAD.enabled and input._requires_grad:
        if arr is not None and arr.dtype.kind in 'biu':
            from .._dtype import scalar_name
            raise RuntimeError(f'Autograd not support dtype: {scalar_name(arr.dtype)}')
        node = cls((input,))
        for k, v in state.items():
            setattr(node, k, v)
        return node
    return None


_empty = np.empty   # prebound for _sum_backward (with _sumorder's, a.sum().backward() of (4, 4) 3582 -> 3494 ns)


def _node(name, backward, slots, saves_input=False):
    return type(name, (Node,), {'__slots__': slots, 'backward': backward,
                                '__doc__': f'Backward of a reduction ({name}).'})


# -- sum and mean ----------------------------------------------------------------------------------------
def _sum_backward(self, g):
    """The gradient of a full sum: ``g`` copied into every element."""
    if type(g) is np.ndarray and g.dtype.isnative:
        out = _empty(self.shape, g.dtype)
        out[...] = g
        return out
    return dual.expand(g, self.shape)


SumBackward0 = _node('SumBackward0', _sum_backward, ('shape',))
SumBackward1 = _node('SumBackward1', lambda self, g: _expand_back(g, self.shape, self.dims, self.keep),
                     ('shape', 'dims', 'keep', 'arg'))
MeanBackward0 = _node('MeanBackward0', lambda self, g: _mean_back(g, self.shape, None, False, self.n), ('shape', 'n'))
saved_attributes(SumBackward0, self_sym_sizes=lambda node: tuple(node.shape))
saved_attributes(MeanBackward0, self_sym_sizes=lambda node: tuple(node.shape), self_sym_numel=lambda node: node.n)
MeanBackward1 = _node('MeanBackward1', lambda self, g: _mean_back(g, self.shape, self.dims, self.keep, self.n),
                      ('shape', 'dims', 'keep', 'n', 'arg'))


def _saved_dims(node):
    """PyTorch's _saved_dim of a reduction: the dims as given, each an int64 read as unsigned (-1 is 2**64 - 1)."""
    arg = getattr(node, 'arg', node.dims)
    return tuple(d % (1 << 64) for d in ((arg,) if isinstance(arg, int) else arg))


saved_attributes(SumBackward1, dim=_saved_dims, keepdim=lambda node: node.keep,
                 self_sym_sizes=lambda node: tuple(node.shape))
saved_attributes(MeanBackward1, dim=_saved_dims, keepdim=lambda node: node.keep,
                 self_sym_sizes=lambda node: tuple(node.shape), self_sym_numel=lambda node: math.prod(node.shape))


def _c(r):
    """``r`` C-contiguous: PyTorch's reductions, scans and softmax allocate their results contiguous whatever the
    input's layout (x.permute(2, 1, 0).sum(2).view(-1) works), where NumPy's follow a permuted input's order. A
    copy only for such inputs: the flag check costs ~40 ns elsewhere. A size-1 dim (keepdim) gets its C stride too
    (NumPy's flag ignores it: amax(dim=-1, keepdim=True) of a transposed (2, 4, 3) had strides (3, 1, 3), PyTorch's
    (3, 1, 1)), through a view of the flat array. A meta result stays as it is (no data to lay out)."""
    if type(r) is _meta.MetaArray:
        return r
    if not r.flags.c_contiguous:
        return r.copy(order='C')
    return r.reshape(-1).reshape(r.shape) if 1 in r.shape and r.ndim > 1 else r


def _sum_dtype(a, dtype):
    nd = to_np(dtype)
    if nd is not None:
        return nd
    return np.dtype(np.int64) if a.dtype.kind in 'biu' else a.dtype


def _real_cast(input, dtype):
    """A complex input of a reduction given a real ``dtype=``, cast first (its real parts, PyTorch's warning), as
    PyTorch's reduction converts it: the gradient then goes back through the cast (ToCopyBackward0)."""
    if dtype is not None and input._data.dtype.kind == 'c' and to_np(dtype).kind != 'c':
        return input.to(dtype)
    return input


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Sum of all elements, or over ``dim`` (ints and bools sum to int64)."""
    a = input._data
    if dim is None and dtype is None and axis is None and not keepdim and not keepdims:
        # the hot path: a small float sum of everything, built inline; its plan (see _sumorder.flat_sum) looked up
        # by size in a dict of the dtype's, with no _real_cast call (dtype is None) and no flat_sum frame or key
        # tuple: (4, 4) sum forward 2305 -> 2141 ns (in-process A/B against main, alternating, medians of 41, load 5)
        dt, n = a.dtype, a.size
        if (dt is _F32 or dt is _F64) and n <= _SMALL and a.flags.c_contiguous:
            plans = _F32_PLANS if dt is _F32 else _F64_PLANS
            plan = plans.get(n)
            if plan is None:
                plan = plans[n] = sum_plan(n, dt.itemsize)
            # a 1-d array is its own ravel: no new view (sum of 4 float32s 2589 -> 2492 ns, A/B as above, load 6.5)
            try:
                r = plan(a if a.ndim == 1 else a.ravel())
            except RuntimeWarning:   # NumPy's inf - inf or overflow, an error by the user's filter (see _quiet)
                return _quiet.again(sum, input)
            t = _new_node(Tensor)
            # a float32/64 NumPy scalar needs only asarray, not _bf16.adopt's checks (sum of 4: 1.70 -> 1.53 us)
            t._data = r if type(r) is np.ndarray else np.asarray(r)
            t._grad = None
            if input._requires_grad and (not OFF or GRAD.enabled):   # (see grad_mode.OFF)
                t.grad_fn = node = _new_node(SumBackward0)
                node._seq = next(SEQ)
                fn = input.grad_fn      # edge() inline for an op's result (see pointwise.binary)
                node.next_functions = ((fn, input._output_nr) if fn is not None and fn.__class__ is not StaleView else edge(input),)
                node.shape = a.shape
                t._requires_grad = True
            else:
                t.grad_fn = None
                t._requires_grad = False
                if INFERENCE and GRAD.inference:   # made here, not by Tensor._make: marked here (an inference tensor)
                    t._vc = INFERENCE_CELL
            return t
    input = _real_cast(input, dtype)
    a = input._data
    dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    if type(input) is not Tensor and input.is_sparse:
        from .._sparse import sparse_sum
        return sparse_sum(input, dim, keepdim, dtype, _dense_grad=True)
    nd = _sum_dtype(a, dtype)
    if dim is None and not keepdim:
        r = _sum(a, None, False, nd)
        node = _record(input, r, SumBackward0, shape=a.shape)
    elif isinstance(dim, (tuple, list)) and not dim and not keepdim:   # (PyTorch's overload with a dim list)
        r = _sum(a, None, False, nd)
        node = _record(input, r, SumBackward1, shape=a.shape, dims=tuple(range(a.ndim)), keep=False, arg=dim)
    else:
        dims = reduce_dims(dim, a.ndim)
        r = _c(_sum(a, dims, keepdim, nd))
        node = _record(input, r, SumBackward1, shape=a.shape, dims=dims, keep=keepdim, arg=dim)
    return Tensor._make(r, node)


_BF16 = _bf16.NP
_new_node = object.__new__   # make a Node without running __init__ (edges are set by the caller)
_SMALL = 512            # full sums this small take the short path to PyTorch's addition order
_F32_PLANS, _F64_PLANS = {}, {}     # their plans by size (at most _SMALL each)
_F32, _F64, _F16 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16)


def _cast_arr(a, nd):
    """Array ``a`` converted to NumPy dtype ``nd`` first, as PyTorch converts a reduction's input to its
    ``dtype=`` (to or from bfloat16 through float32, rounding; NumPy's ``dtype=`` refuses the bf16 dtype)."""
    if nd is None or nd == a.dtype:
        return a
    if a.dtype.kind == 'c' and nd.kind != 'c':   # PyTorch's cast keeps the real parts, with its warning
        warn_user('Casting complex values to real discards the imaginary part', once=True,
                  internally='aten/src/ATen/native/Copy.cpp:307')
        return _cast_arr(a.real if nd.kind != 'b' else a != 0, nd)
    if _bf16.is_bf16(nd):
        return _bf16.from_f32(a)
    return (_bf16.to_f32(a) if _bf16.is_bf16(a.dtype) else a).astype(nd)


def _sum(a, dims, keepdim, nd):
    """NumPy's sum, in PyTorch's addition order where that is reproducible (see _sumorder); a bf16 sum adds
    in float32 and rounds once, as PyTorch's does. inf - inf and overflow give NaN/inf silently (see _quiet)."""
    q = _quiet.enter()
    try:
        a = _cast_arr(a, nd)
        if nd is _BF16 and a.dtype is _BF16:   # identity tests: no cost to other sums
            return _bf16.out_like(a, _sum(_bf16.to_f32(a), dims, keepdim, np.dtype(np.float32)))
        if nd == a.dtype:
            if nd == _F16:   # PyTorch accumulates float16 in float32 (NumPy's strided float16 sums overflow at 65504)
                return np.asarray(a.sum(axis=dims, keepdims=keepdim, dtype=np.float32)).astype(_F16)
            r = ordered_sum(a, dims, keepdim)
            if r is not None:
                return r
        return a.sum(axis=dims, keepdims=keepdim, dtype=nd)
    finally:
        _quiet.leave(q)


class NansumBackward0(Node):
    """The gradient of a sum that skips NaNs: g times (the input is not NaN), as PyTorch's formula multiplies (an
    infinite or NaN g gives NaN at NaN inputs, -g gives -0.0: nanmean of all-NaN rows has NaN gradients)."""
    __slots__ = ('shape', 'dims', 'keep')

    def backward(self, g):
        (x,) = self.saved()
        g = _expand_back(g, self.shape, self.dims, self.keep)
        ok = ~np.isnan(dual.data(x))
        return g * (ok if dual.is_array(g) else Tensor._make(ok.astype(g._data.dtype)))


@_quiet.quietly
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating NaN as zero (ints and bools sum to int64)."""
    a = input._data
    if a.dtype.kind == 'c':
        raise RuntimeError('nansum on CPU does not support complex inputs')
    nd = _sum_dtype(a, dtype)
    dims = wrap_dims(dim if dim != [] and dim != () else None, a.ndim)
    clean = np.where(np.isnan(a), 0, a) if a.dtype.kind == 'f' else a
    r = _c(np.asarray(_sum(clean, dims, keepdim, nd)))
    node = _record(input, r, NansumBackward0, shape=a.shape, dims=dims, keep=keepdim)
    if node is not None:
        node.save(input)
    return Tensor._make(r, node)


def _need_float(a, op, dtype=None):
    if to_np(dtype) is not None:
        return to_np(dtype)
    if a.dtype.kind not in 'fc':
        raise RuntimeError(f'{op}(): could not infer output dtype. Input dtype must be either a floating point or '
                           f'complex dtype. Got: {_type_word(a.dtype)}')
    return a.dtype


def _float_dtype_arg(op, dtype):
    """PyTorch's refusal of an integer or bool ``dtype=`` for mean/nanmean (their result must be a float)."""
    nd = to_np(dtype)
    if nd is not None and nd.kind not in 'fc':
        raise RuntimeError(f'{op}(): could not infer output dtype. Optional dtype must be either a floating point or '
                           f'complex dtype. Got: {_type_word(nd)}')


def _type_word(np_dtype):
    return scalar_name(np_dtype)


@_quiet.quietly
def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Arithmetic mean (floating dtypes only, as in PyTorch)."""
    dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    input = _real_cast(input, dtype)
    a = input._data
    _float_dtype_arg('mean', dtype)
    nd = _need_float(a, 'mean', dtype)
    if a.dtype != nd:
        a = _cast_arr(a, nd) if a.dtype.kind == 'c' else a.astype(nd)
    if dim is None and not keepdim or isinstance(dim, (tuple, list)) and not dim and not keepdim:
        r = np.asarray(_mean_sum(a, None, False, nd) / _mean_n(a, a.size) if a.size else np.asarray(np.nan, nd))
        node = _record(input, r, MeanBackward0, shape=a.shape, n=a.size) if dim is None else \
            _record(input, r, MeanBackward1, shape=a.shape, dims=tuple(range(a.ndim)), keep=False, n=a.size, arg=dim)
    else:
        dims = reduce_dims(dim, a.ndim)
        n = 1
        for d in dims:
            n *= a.shape[d]
        r = np.asarray(_mean_sum(a, dims, keepdim, nd) / _mean_n(a, n) if n else
                       a.mean(axis=dims, keepdims=keepdim))
        node = _record(input, r, MeanBackward1, shape=a.shape, dims=dims, keep=keepdim, n=n, arg=dim)
    return Tensor._make(_c(r.astype(nd, copy=False)), node)


def _mean_sum(a, dims, keepdim, nd):
    """The sum a mean divides: of float16 and bfloat16, kept in float32 so that the mean rounds once, as
    PyTorch's (the mean of float16 [6e4, 6e4] is 6e4, not the sum's inf over 2; bfloat16 rows of 1000: 13 of 64
    means one step off when the sum was rounded first)."""
    if a.dtype == _F16:
        return a.sum(axis=dims, keepdims=keepdim, dtype=np.float32)
    if a.dtype is _BF16:
        return _sum(_bf16.to_f32(a), dims, keepdim, _F32)
    return _sum(a, dims, keepdim, nd)


def _mean_n(a, n):
    return np.float32(n) if a.dtype == _F16 or a.dtype is _BF16 else a.dtype.type(n)


@_quiet.quietly
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of the non-NaN elements: nansum / their count (as PyTorch computes it, so grad_fn is DivBackward0)."""
    from .pointwise import div
    a = input._data
    if a.dtype.kind not in 'fc':
        raise RuntimeError(f'nanmean(): expected input to have floating point or complex dtype but got '
                           f'{_type_word(a.dtype)}')
    _float_dtype_arg('nanmean', dtype)
    dims = wrap_dims(dim if dim != [] and dim != () else None, a.ndim)
    count = Tensor._make(np.asarray((~np.isnan(a)).sum(axis=dims, keepdims=keepdim)))
    return div(nansum(input, dim, keepdim, dtype=dtype), count)


# -- prod -------------------------------------------------------------------------------------------------
def _prod_grad(x, axis):
    """d prod / dx along ``axis`` (None: all), exact with zeros (products of the other elements)."""
    if not x.size:
        return np.zeros_like(x)
    if axis is None:
        flat = x.reshape(-1)
        return _prod_grad(flat, 0).reshape(x.shape)
    xm = np.moveaxis(x, axis, -1)
    ones = np.ones(xm.shape[:-1] + (1,), x.dtype)
    # running products as PyTorch's cumprod keeps them (float32 in float64: 3e38 * 3e38 * 0 is 0, not NaN)
    left = _scan(np.multiply, np.concatenate([ones, xm[..., :-1]], -1), xm.ndim - 1, None)
    right = np.flip(_scan(np.multiply, np.concatenate([ones, np.flip(xm[..., 1:], -1)], -1), xm.ndim - 1, None), -1)
    return np.moveaxis(left * right, -1, axis)


def _prod_bw(self, g):
    (x,) = self.saved()
    if type(x) is _bf16.BF16Array and x.ndim and not (x == 0).any():   # PyTorch's grad * (result / input)
        g = g if self.dim is None or self.keep else np.expand_dims(g, self.dim)
        return g * dual.r16(_bf16_prod(x, self.dim, True) / x)
    if dual.is_array(x):
        if x.ndim and x.dtype in (_F16, _F32, _F64) and not (x == 0).any():
            # PyTorch's prod / x (NaN at an infinite factor), float16's quotient in float32, rounded once
            r = np.prod(x, axis=self.dim, keepdims=True)
            gx = (r / x) if x.dtype != _F16 else (r.astype(_F32) / x.astype(_F32)).astype(_F16)
        else:
            gx = _prod_grad(x, self.dim)
        g = g if self.dim is None or self.keep else np.expand_dims(g, self.dim)
        return g * gx
    return _prod_bw_graph(g, x, self.dim, self.keep)


def _prod_bw_graph(g, x, dim, keep):
    """prod's gradient in differentiable ops (create_graph=True), by PyTorch's prod_backward: g * prod / x where no
    factor is zero, else the products of the other factors from running products on both sides."""
    xd = x._data
    zero = xd == 0
    if dim is None:
        if not xd.ndim:
            return g
        if not zero.any():
            return g * (prod(x) / x)
        return (g * _exclusive_products(x.reshape(-1), 0)).reshape(xd.shape)
    g = g if keep else g.unsqueeze(dim)
    if not zero.any():
        return g * (prod(x, dim, keepdim=True) / x)
    return g * _exclusive_products(x, dim)


def _exclusive_products(x, dim):
    """The product of the other elements along ``dim`` at each position, exact with zeros: running products from
    the left (exclusive) times those from the right (PyTorch's prod_safe_zeros_backward), in differentiable ops."""
    from .shape import cat, flip
    n = x.shape[dim]
    if x.numel() == 0 or n == 1:
        return Tensor._make(np.ones(x.shape, x._data.dtype))
    ones = Tensor._make(np.ones(x.shape[:dim] + (1,) + x.shape[dim + 1:], x._data.dtype))
    left = cumprod(cat([ones, x.narrow(dim, 0, n - 1)], dim), dim)
    right = flip(cumprod(cat([ones, flip(x.narrow(dim, 1, n - 1), (dim,))], dim), dim), (dim,))
    return left * right


ProdBackward0 = _node('ProdBackward0', _prod_bw, ('dim', 'keep'))
ProdBackward1 = _node('ProdBackward1', _prod_bw, ('dim', 'keep'))


def _saving_result(input, r, node):
    """``r`` as the output of ``node`` (or none), which saves ``input`` for its formula and guards the result, as
    PyTorch's prod and cumprod nodes save both (the formula recomputes from the input)."""
    out = Tensor._make(r, node)
    if node is not None:
        node.save(input)
        node.guard(outputs=(out,))
    return out


@_quiet.quietly
@_autocast.fp32
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements or along ``dim``."""
    input = _real_cast(input, dtype)
    a = input._data
    nd = _sum_dtype(a, dtype)
    a = _cast_arr(a, nd)
    if dim is None:
        r = np.asarray(a.prod(dtype=nd)) if nd is not _BF16 else _bf16_prod(a, None, False)
        node = _record(input, r, ProdBackward0, dim=None, keep=False)
    else:
        d = wrap_dim(dim, a.ndim)
        r = _c(np.asarray(a.prod(axis=d, keepdims=keepdim, dtype=nd))) if nd is not _BF16 or not a.ndim else \
            _bf16_prod(a, d, keepdim)
        node = _record(input, r, ProdBackward1, dim=d if a.ndim else None, keep=keepdim)   # 0-d: as no dim
    return _saving_result(input, r, node)


def _bf16_prod(a, d, keepdim):
    """A bf16 product as PyTorch's CPU kernel makes it: each multiply rounded to bf16. Along the last axis (or over
    the whole tensor) in its vectorised order: 4 accumulators of 16 lanes over blocks of 64 elements, combined as
    (0*1)*(2*3), then its lanes and the tail multiplied in order; along another axis in order (measured against
    PyTorch 2.13 on AVX-512 for 3 to 1000 elements; one rounding of a float32 product was off in 40 of 50 rows)."""
    x = _bf16.to_f32(a).reshape(-1) if d is None else np.moveaxis(_bf16.to_f32(a), d, -1)
    rnd = lambda v: _bf16.round_f32(v).reshape(np.shape(v))
    n = x.shape[-1]
    out = np.ones(x.shape[:-1], _F32)
    start = 0
    if d is None or d == a.ndim - 1:
        count = n // 64
        if count:
            acc = x[..., :64].reshape(x.shape[:-1] + (4, 16))
            for i in range(1, count):
                acc = rnd(acc * x[..., 64 * i:64 * (i + 1)].reshape(acc.shape))
            lanes = rnd(rnd(acc[..., 0, :] * acc[..., 1, :]) * rnd(acc[..., 2, :] * acc[..., 3, :]))
            for j in range(16):
                out = rnd(out * lanes[..., j])
            start = 64 * count
    for i in range(start, n):
        out = rnd(out * x[..., i])
    if keepdim and d is not None:
        out = np.expand_dims(out, d)
    return _bf16.from_f32(out)


# -- max / min -------------------------------------------------------------------------------------------
def _even_bw(self, g):
    """Full max/min: the gradient is shared evenly by all elements equal to the result."""
    x, y = self.saved()
    xd, yd = dual.data(x), dual.data(y)
    hit = xd == yd
    if yd.dtype.kind == 'f' and np.isnan(yd):      # a NaN result: shared by the NaN elements (PyTorch)
        hit = np.isnan(xd)
    share = hit / hit.sum()
    return g * dual.const(share, g) if not dual.is_array(g) else g * share.astype(g.dtype)


MaxBackward1 = _node('MaxBackward1', _even_bw, ())
MinBackward1 = _node('MinBackward1', _even_bw, ())
AmaxBackward0 = _node('AmaxBackward0', lambda self, g: _amax_bw(self, g), ('dims', 'keep'))
AminBackward0 = _node('AminBackward0', lambda self, g: _amax_bw(self, g), ('dims', 'keep'))


def _index_bw(self, g):
    """max/min over a dim: the gradient goes to the selected index (a 0-d input's is the gradient itself)."""
    shape, d = self.shape, self.dim
    if not shape:
        return g
    idx = np.expand_dims(self.idx, d)
    if not self.keep:
        g = g.reshape(_kshape(shape, (d,)))
    if dual.is_array(g):
        out = np.zeros(shape, g.dtype)
        np.put_along_axis(out, idx, g, d)
        return out
    from .indexing import scatter
    from .creation import zeros
    return scatter(zeros(shape, dtype=g.dtype), d, Tensor._make(idx), g)


MaxBackward0 = _node('MaxBackward0', _index_bw, ('idx', 'shape', 'dim', 'keep'))
MinBackward0 = _node('MinBackward0', _index_bw, ('idx', 'shape', 'dim', 'keep'))


def _extreme(name, np_red, np_arg, full_cls, dim_cls, binary):
    def op(input, dim=None, keepdim=False, *, out=None):
        if out is not None:
            from ._out import write
            return write(name, op(input, dim, keepdim), out)
        if isinstance(dim, Tensor):
            return binary(input, dim)
        a = input._data
        if dim is None:
            if a.size == 0:
                raise RuntimeError(f'{name}(): Expected reduction dim to be specified for input.numel() == 0. '
                                   'Specify the reduction dim with the \'dim\' argument.')
            r = np.asarray(np_red(a))
            if GRAD.enabled and input._requires_grad:
                return _full_result(input, r, full_cls((input,)))
            return Tensor._make(r)
        d = wrap_dim(dim, a.ndim)
        if a.ndim == 0:
            return _of_scalar(name, input, dim_cls)
        if a.shape[d] == 0:
            raise IndexError(f'{name}(): Expected reduction dim {d} to have non-zero size.')
        idx = np_arg(a, axis=d)
        vals = _c(np.take_along_axis(a, np.expand_dims(idx, d), d))
        if not keepdim:
            vals = vals.squeeze(d)
        node = _record(input, vals, dim_cls, idx=idx, shape=a.shape, dim=d, keep=keepdim)
        out_idx = np.expand_dims(idx, d) if keepdim else idx
        return getattr(return_types, name)(Tensor._make(vals, node), Tensor._make(_c(out_idx.astype(np.int64))))
    op.__name__ = name
    op.__doc__ = f'{name} of all elements, or (values, indices) along ``dim``, or elementwise with a tensor.'
    return op


def _of_scalar(name, input, cls):
    """max/min/median of a 0-d tensor along dim 0: its value (recorded as ``cls``) and index 0; complex values
    refused as PyTorch's kernels refuse them (mode takes them)."""
    if input._data.dtype.kind == 'c' and name != 'mode':
        if name in ('max', 'min'):
            raise RuntimeError(f'{name}(): does not support complex input')
        raise not_implemented('median_out', input._data.dtype)
    vals = input._data.copy()
    node = _record(input, vals, cls, idx=np.array(0), shape=(), dim=0, keep=False)
    return getattr(return_types, name)(Tensor._make(vals, node), Tensor._make(np.array(0)))


def _full_result(input, r, node):
    """The result of a reduction whose backward needs both its input and its output."""
    node.save(input)
    res = Tensor._make(r, node)
    node.save_output(res)
    return res


def _binary_max(a, b):
    from .pointwise import maximum
    return maximum(a, b)


def _binary_min(a, b):
    from .pointwise import minimum
    return minimum(a, b)


# NumPy's argmax and argmin stop at the first NaN, which is PyTorch's answer too: the isnan pass that checked
# for one took 1.2 of argmax's 3.5 us on (8, 32)
max = _extreme('max', np.max, np.argmax, MaxBackward1, MaxBackward0, _binary_max)
min = _extreme('min', np.min, np.argmin, MinBackward1, MinBackward0, _binary_min)


def _amax_bw(self, g):
    x, y = self.saved()
    return _shared(g, x, y, self.dims, self.keep)


def _shared(g, x, y, dims, keep):
    """The gradient of an extreme ``y`` of ``x`` over ``dims``, shared evenly among the elements that equal it."""
    xd, yd = dual.data(x), dual.data(y)
    if not keep:
        yd = yd.reshape(_kshape(xd.shape, dims))
        g = g.reshape(_kshape(xd.shape, dims))
    hit = xd == yd
    share = hit / hit.sum(axis=dims, keepdims=True)
    return g * (share.astype(xd.dtype) if dual.is_array(g) else dual.const(share, g))


def _aminmax_bw(self, gmin, gmax):
    x, lo, hi = self.saved()
    return _shared(gmin, x, lo, self.dims, self.keep) + _shared(gmax, x, hi, self.dims, self.keep)


AminmaxBackward0 = _node('AminmaxBackward0', _aminmax_bw, ('dims', 'keep'))


def _amax(name, np_red, cls):
    def op(input, dim=(), keepdim=False):
        a = input._data
        dims = reduce_dims(dim, a.ndim)
        _check_nonempty(name, a, dims, dim)
        r = np_red(a, axis=dims, keepdims=keepdim)
        r = r if type(r) is _meta.MetaArray else _c(np.asarray(r))
        if GRAD.enabled and input._requires_grad:
            node = cls((input,))
            node.dims, node.keep = dims, keepdim
            return _full_result(input, r, node)
        return Tensor._make(r)
    return op


def _check_nonempty(name, a, dims, dim, sep='():'):
    """PyTorch's refusal of a reduction without identity (amax, aminmax) over an empty dim: RuntimeError when
    the dims were not given (every dim), else IndexError naming the first empty one."""
    empty = [d for d in dims if a.shape[d] == 0]
    if not empty:
        return
    if dim is None or isinstance(dim, (tuple, list)) and not dim:
        if name == 'aminmax':
            raise RuntimeError('aminmax(): cannot compute aminmax over an empty dimension as the operation has no '
                               'identity.')
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    given = empty[0] if name == 'aminmax' else (dim[dims.index(empty[0])] if isinstance(dim, (tuple, list)) else dim)
    raise IndexError(f'{name}{sep} Expected reduction dim {given} to have non-zero size.')   # amax/amin: as passed


amax = _amax('amax', np.max, AmaxBackward0)
amin = _amax('amin', np.min, AminBackward0)


def argmax(input, dim=None, keepdim=False):
    """Index of the largest value (flattened when dim is None)."""
    a = input._data
    if a.dtype.kind == 'b':
        raise RuntimeError('argmax(): does not support bool input')
    if dim is None:
        if not a.size:
            raise IndexError('argmax(): Expected reduction dim to be specified for input.numel() == 0.')
        r = np.asarray(np.argmax(a.reshape(-1)), dtype=np.int64)   # keepdim: every dim kept as 1, as PyTorch
        return Tensor._make(r.reshape((1,) * a.ndim) if keepdim else r)
    d = wrap_dim(dim, a.ndim)
    if a.ndim and not a.shape[d]:
        raise IndexError(f'argmax(): Expected reduction dim {d} to have non-zero size.')
    r = a.argmax(d)
    return Tensor._make(np.asarray(np.expand_dims(r, d) if keepdim and a.ndim else r, dtype=np.int64))


def argmin(input, dim=None, keepdim=False):
    """Index of the smallest value (flattened when dim is None)."""
    a = input._data
    if a.dtype.kind == 'b':
        raise RuntimeError('argmin(): does not support bool input')
    if dim is None:
        if not a.size:
            raise IndexError('argmin(): Expected reduction dim to be specified for input.numel() == 0.')
        r = np.asarray(np.argmin(a.reshape(-1)), dtype=np.int64)   # keepdim: every dim kept as 1, as PyTorch
        return Tensor._make(r.reshape((1,) * a.ndim) if keepdim else r)
    d = wrap_dim(dim, a.ndim)
    if a.ndim and not a.shape[d]:
        raise IndexError(f'argmin(): Expected reduction dim {d} to have non-zero size.')
    r = a.argmin(d)
    return Tensor._make(np.asarray(np.expand_dims(r, d) if keepdim and a.ndim else r, dtype=np.int64))


MedianBackward0 = _node('MedianBackward0', _even_bw, ())
NanmedianBackward0 = _node('NanmedianBackward0', _even_bw, ())
MedianBackward1 = _node('MedianBackward1', _index_bw, ('idx', 'shape', 'dim', 'keep'))
NanmedianBackward1 = _node('NanmedianBackward1', _index_bw, ('idx', 'shape', 'dim', 'keep'))


def _median_index(a, d, skip_nan):
    """Index along ``d`` of the lower median (PyTorch's): with NaN present, the first NaN for ``median``;
    ``nanmedian`` takes the median of the other values."""
    order = np.argsort(a, axis=d, kind='stable')      # NaN sorts last, in order of position
    n = a.shape[d]
    nan = np.isnan(a).sum(axis=d, keepdims=True) if a.dtype.kind == 'f' else np.zeros((), np.int64)
    k = np.maximum(n - nan - 1, 0) // 2 if skip_nan else np.where(nan > 0, n - nan, (n - 1) // 2)
    k = np.broadcast_to(k, order.shape[:d] + (1,) + order.shape[d + 1:])
    return np.take_along_axis(order, k, d).squeeze(d)


def _median(name, skip_nan, full_cls, dim_cls):
    def op(input, dim=None, keepdim=False):
        a = input._data
        if a.dtype.kind == 'b':
            raise not_implemented('median_cpu' if dim is None else 'median_out', a.dtype)
        if dim is None:
            flat = a.reshape(-1)
            r = np.asarray(flat[_median_index(flat, 0, skip_nan)]) if flat.size else np.asarray(np.nan, a.dtype)
            if GRAD.enabled and input._requires_grad:
                return _full_result(input, r, full_cls((input,)))
            return Tensor._make(r)
        d = wrap_dim(dim, a.ndim)
        if a.ndim == 0:
            return _of_scalar(name, input, dim_cls)
        if a.shape[d] == 0:   # nanmedian's message names median too, as PyTorch's
            raise IndexError(f'median(): Expected reduction dim {d} to have non-zero size.')
        idx = _median_index(a, d, skip_nan)
        vals = _c(np.take_along_axis(a, np.expand_dims(idx, d), d))
        if not keepdim:
            vals = vals.squeeze(d)
        node = _record(input, vals, dim_cls, idx=idx, shape=a.shape, dim=d, keep=keepdim)
        out_idx = np.expand_dims(idx, d) if keepdim else idx
        return getattr(return_types, name)(Tensor._make(vals, node), Tensor._make(_c(out_idx.astype(np.int64))))
    op.__name__ = name
    op.__doc__ = (f'The lower median of all elements, or (values, indices) along ``dim``'
                  f'{" ignoring NaN" if skip_nan else "; NaN if any element is NaN"}.')
    return op


median = _median('median', False, MedianBackward0, MedianBackward1)
nanmedian = _median('nanmedian', True, NanmedianBackward0, NanmedianBackward1)


def aminmax(input, *, dim=None, keepdim=False):
    """(amin, amax) over ``dim`` (all elements when None), one node for both."""
    a = input._data
    dims = wrap_dims(dim, a.ndim)
    _check_nonempty('aminmax', a, dims, dim, sep=':')
    lo, hi = np.asarray(np.min(a, axis=dims, keepdims=keepdim)), np.asarray(np.max(a, axis=dims, keepdims=keepdim))
    return return_types.aminmax(_two_outputs(input, lo, hi, AminmaxBackward0, save_outputs=True, dims=dims,
                                             keep=keepdim))


def _two_outputs(input, r0, r1, cls, save_outputs=False, **state):
    """Two results of one ``cls`` node over ``input`` (saving the input, and the results when asked)."""
    r0, r1 = _c(r0), _c(r1)
    node = _record(input, None, cls, **state)
    if node is None:
        return Tensor._make(r0), Tensor._make(r1)
    node._out_meta = [(r0.shape, r0.dtype), (r1.shape, r1.dtype)]
    node.save(input)
    t0, t1 = Tensor._make(r0, node), Tensor._make(r1, node)
    t1._output_nr = 1
    if save_outputs:
        node.save_output(t0)
        node.save_output(t1)
    return t0, t1


# -- variance, std, norm -----------------------------------------------------------------------------------
def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _var_args(dim, unbiased, correction):
    if isinstance(dim, bool):
        return None, dim, correction
    return dim, unbiased, correction


def _mean_of(x, dims, n):
    """The mean of array ``x`` over ``dims`` (kept), summed in PyTorch's order (it shows next to +-1e40); a bf16
    or float16 one summed and divided in float32, rounded once, as PyTorch's CPU mean."""
    if type(x) is _bf16.BF16Array and n:
        return _bf16.from_f32(_sum(_bf16.to_f32(x), dims, True, _F32) / _F32.type(n))
    if x.dtype == _F16 and n:
        return (_sum(x.astype(_F32), dims, True, _F32) / _F32.type(n)).astype(_F16)
    return _sum(x, dims, True, x.dtype) / x.dtype.type(n) if n else x.mean(axis=dims, keepdims=True)


def _var_bw(self, g):
    (x,) = self.saved()[:1]
    dims, keep, n, c = self.dims, self.keep, self.n, self.c
    if dual.is_array(x):
        mu = _mean_of(x, dims, n)
        g = g if keep else g.reshape(_kshape(x.shape, dims))
        with np.errstate(invalid='ignore'):   # PyTorch: 2 / (n - c) (inf at n == c, negative past it)
            k = 2.0 / (n - c) if n != c else math.inf
            if x.dtype == _F16 or type(x) is _bf16.BF16Array:   # PyTorch's k * grad * (self - mean), each op rounded
                return _low_mul(_low_scale(k, g), x - mu)
            return g * k * (x - mu)
    mu = mean(x, dims, keepdim=True)
    g = g if keep else g.reshape(_kshape(x.shape, dims))
    return g * (2.0 / (n - c) if n != c else math.inf) * (x - mu)


def _std_bw(self, g):
    x, y = self.saved()
    dims, keep, n, c = self.dims, self.keep, self.n, self.c
    if not keep:
        g = g.reshape(_kshape(x.shape, dims))
        y = y.reshape(_kshape(x.shape, dims))
    if dual.is_array(x) and (x.dtype == _F16 or type(x) is _bf16.BF16Array):
        # PyTorch's var_backward of grad / (result * 2) (0 where the std is 0), each op rounded to x's dtype
        with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
            ratio = np.where(y == 0, np.zeros((), g.dtype), dual.r16(g / dual.r16(y * 2)))
            k = 2.0 / (n - c) if n != c else math.inf
            return _low_mul(_low_scale(k, ratio), x - _mean_of(x, dims, n))
    if dual.is_array(x):   # PyTorch masks the gradient to 0 where the std is 0
        with np.errstate(divide='ignore', invalid='ignore'):
            return np.where(y == 0, 0, g * (x - _mean_of(x, dims, n)) / (y * (n - c))).astype(x.dtype, copy=False)
    yd = dual.data(y)
    if np.all(yd):
        return g * (x - mean(x, dims, keepdim=True)) / (y * (n - c))
    ratio = dual.where(yd == 0, dual.const(0, g), g / y)   # PyTorch's masked_fill(std == 0, 0), as there
    return ratio * (x - mean(x, dims, keepdim=True)) / (n - c)


def _low_scale(k, a):
    """k * a for a float16/bf16 array ``a``, rounded once: PyTorch multiplies by a number in float32."""
    return dual.r16(dual.scale(a, float(k)))


def _low_mul(a, b):
    """a * b of float16/bf16 arrays, ``b`` a difference made by one op: each rounded as PyTorch's tensors."""
    return dual.r16(a) * dual.r16(b)


def _mean_part(self, g):
    """The mean output's share of var_mean/std_mean's gradient (broadcasts against the input's shape)."""
    return (g if self.keep else g.reshape(_kshape(self.shape, self.dims))) / self.n


VarBackward0 = _node('VarBackward0', _var_bw, ('dims', 'keep', 'n', 'c'))
StdBackward0 = _node('StdBackward0', _std_bw, ('dims', 'keep', 'n', 'c'))
def _plus_mean_part(self, g, gm):
    """A var/std gradient ``g`` plus the mean output's share, each a bf16 tensor in PyTorch's sum."""
    return dual.r16(g) + dual.r16(_mean_part(self, gm))


VarMeanBackward0 = _node('VarMeanBackward0', lambda self, gv, gm: _plus_mean_part(self, _var_bw(self, gv), gm),
                         ('dims', 'keep', 'n', 'c', 'shape'))
StdMeanBackward0 = _node('StdMeanBackward0', lambda self, gs, gm: _plus_mean_part(self, _std_bw(self, gs), gm),
                         ('dims', 'keep', 'n', 'c', 'shape'))


def _moments(input, dim, unbiased, keepdim, correction, op):
    dim, unbiased, correction = _var_args(dim, unbiased, correction)
    a = input._data
    if a.dtype.kind not in 'fc':
        raise RuntimeError(f"{'std and var' if op in ('std', 'var') else op} only support floating point and complex "
                           'dtypes')
    dims = reduce_dims(dim, a.ndim)
    c = _correction(unbiased, correction)
    n = 1
    for d in dims:
        n *= a.shape[d]
    if n - c <= 0 or not a.size:   # (PyTorch's reduction factor, numel over output numel, is 0 for no elements)
        warn_user(f'{op}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction '
                  'factor (input numel divided by output numel).', internally='aten/src/ATen/native/ReduceOps.cpp:1861')
    return a, dims, c, n


def _spread(a, dims, c, n, keepdim, sqrt, ordered=True):
    """The variance (or std) of ``a`` over ``dims`` with ``c`` as the correction: the sum of squared deviations
    over max(0, n - c), as PyTorch divides, so n - c <= 0 gives inf (NaN where the deviations are all 0, or
    n == 0; the warning is PyTorch's, given by _moments). Real floats accumulate in double as PyTorch's CPU
    var/std do (Welford, or two passes for all elements): float16/bfloat16 squares would overflow in float32. A
    C-contiguous float64 ``a`` goes in PyTorch's own order where _exact64 reproduces it (``ordered``)."""
    if n == 0 or type(a) is _meta.MetaArray:    # (a meta input's result is meta: nothing to compute)
        shape = _kshape(a.shape, dims) if keepdim else tuple(s for i, s in enumerate(a.shape) if i not in dims)
        dt = _real_np(a.dtype)
        return _meta.placeholder(shape, dt) if type(a) is _meta.MetaArray else np.full(shape, np.nan, dt)
    exact = _exact64(a, dims, c, n, keepdim, sqrt, False) if ordered else None
    if exact is not None:
        return _c(exact[0])
    x = np.asarray(a, np.float64) if a.dtype.kind == 'f' else a
    with np.errstate(divide='ignore', invalid='ignore'):
        if n - c > 0:
            r = x.std(axis=dims, ddof=c, keepdims=keepdim) if sqrt else x.var(axis=dims, ddof=c, keepdims=keepdim)
        else:
            r = x.var(axis=dims, keepdims=keepdim) * n / 0.0
            r = np.sqrt(r) if sqrt else r
    return _c(np.asarray(r).astype(_real_np(a.dtype)))


def _exact64(a, dims, c, n, keepdim, sqrt, with_mean):
    """(var or std, Welford mean or None) of a C-contiguous float64 ``a`` over ``dims`` in PyTorch's order (see
    _moments64: two passes for var/std of all elements, ``with_mean`` or any other reduction a Welford pass); None
    where it is not reproduced (other dtypes and layouts, n - c <= 0, long Welford passes)."""
    if type(a) is not np.ndarray or a.dtype != _F64 or not a.flags.c_contiguous or n - c <= 0:
        return None
    dims = tuple(sorted(dims))
    shape = _kshape(a.shape, dims) if keepdim else tuple(s for i, s in enumerate(a.shape) if i not in dims)
    if math.prod(shape) == 1 and not with_mean:
        if not _moments64.two_pass_takes(a.size):
            return None
        mean = float(np.asarray(_mean_of(a, dims, n)).reshape(-1)[0])
        mu, m2 = None, np.float64(_moments64.two_pass(a, mean, _parallel.threads()))
    else:
        r = _moments64.welford(a, dims, _parallel.threads())
        if r is None:
            return None
        mu, m2 = r
    v = m2 / np.float64(n - c)
    v = np.sqrt(v) if sqrt else v
    return np.asarray(v).reshape(shape), None if mu is None else np.asarray(mu).reshape(shape)


_F16_NP = np.dtype(np.float16)


def _real_np(dt):
    """The real NumPy dtype of ``dt`` (complex64 -> float32); a real dtype itself."""
    return dt if dt.kind != 'c' else np.dtype(dt.char.lower())


@_quiet.quietly
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance with Bessel's correction by default (``correction=1``)."""
    a, dims, c, n = _moments(input, dim, unbiased, keepdim, correction, 'var')
    r = _spread(a, dims, c, n, keepdim, False)
    if GRAD.enabled and input._requires_grad:
        node = VarBackward0((input,))
        node.dims, node.keep, node.n, node.c = dims, keepdim, n, c
        node.save(input)
        return Tensor._make(r, node)
    return Tensor._make(r)


@_quiet.quietly
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation with Bessel's correction by default."""
    a, dims, c, n = _moments(input, dim, unbiased, keepdim, correction, 'std')
    r = _spread(a, dims, c, n, keepdim, True)
    if GRAD.enabled and input._requires_grad:
        node = StdBackward0((input,))
        node.dims, node.keep, node.n, node.c = dims, keepdim, n, c
        return _full_result(input, r, node)
    return Tensor._make(r)


@_quiet.quietly
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim``, one node for both (as PyTorch records)."""
    return _with_mean('var_mean', VarMeanBackward0, input, dim, unbiased, keepdim, correction)


@_quiet.quietly
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim``, one node for both (as PyTorch records)."""
    return _with_mean('std_mean', StdMeanBackward0, input, dim, unbiased, keepdim, correction)


def _with_mean(op, cls, input, dim, unbiased, keepdim, correction):
    a, dims, c, n = _moments(input, dim, unbiased, keepdim, correction, op)
    is_std = op == 'std_mean'
    exact = None if not n else _exact64(a, dims, c, n, keepdim, is_std, True)
    if exact is not None:
        v, m = _c(exact[0]), exact[1]
    elif n:   # PyTorch's Welford pass accumulates in double: not the order of torch.mean's sum (nor var's two passes)
        v = _spread(a, dims, c, n, keepdim, is_std, ordered=False)
        wide = np.complex128 if a.dtype.kind == 'c' else np.float64
        m = np.asarray(a.mean(axis=dims, keepdims=keepdim, dtype=wide)).astype(a.dtype)
    else:
        v = _spread(a, dims, c, n, keepdim, is_std)
        m = np.full(v.shape, np.nan, a.dtype)
    t0, t1 = _two_outputs(input, v, m, cls, dims=dims, keep=keepdim, n=n, c=c, shape=a.shape)
    if is_std and t0.grad_fn is not None:
        t0.grad_fn.save_output(t0)
    return t0, t1


def _vnorm_bw(self, g):
    x, y = self.saved()     # (first: PyTorch's node checks what it saved, even for the 0-norm)
    if self.p == 0:   # PyTorch's 0-norm (a count) passes no gradient: the input's grad stays None
        return None
    p, dims, keep = self.p, self.dims, self.keep
    if not keep and dims:
        g = g.reshape(_kshape(x.shape, dims))
        y = y.reshape(_kshape(x.shape, dims))
    if dual.is_array(x):
        with np.errstate(divide='ignore', invalid='ignore'):
            if p == 2:      # g * (x / norm), 0 where the norm is 0 (np.where's pass only then)
                r = np.asarray(x / y)
                if not np.all(y):
                    r = np.where(y == 0, 0, r)
                if type(x) is _bf16.BF16Array:   # x / norm is a bf16 tensor in PyTorch's formula
                    return g * _bf16.from_f32(r)
                if r.dtype == x.dtype and r.shape == x.shape and type(r) is np.ndarray and r.ndim:
                    return np.multiply(g, r, out=r)
                return g * r.astype(x.dtype)
            elif p == 1:   # sign(NaN) is 0 in PyTorch's norm (pdist's own kernel keeps NaN: nan_sign)
                r = np.sign(x) if getattr(self, 'nan_sign', False) else _sign0(x)
            elif p == float('inf') or p == float('-inf'):
                hit = _norm_hits(x, y)
                return (_sign0(x) * hit * (g / hit.sum(axis=dims, keepdims=True))).astype(x.dtype)
            elif p == 0:
                r = np.zeros_like(x)
            elif p < 1:     # PyTorch: 0 where x is 0
                r = np.where(x == 0, 0, np.sign(x) * np.abs(x) ** (p - 1) / y ** (p - 1))
            else:   # PyTorch masks g / norm ** (p - 1) where the norm is 0: 0 there whatever g holds (even NaN)
                scale = np.where(y == 0, 0, g / y ** (p - 1))
                # x |x|^(p-2) from p = 2 on (-0.0 keeps its sign), sgn(x) |x|^(p-1) below, as PyTorch
                scaled = x * np.abs(x) ** (p - 2) if p >= 2 else _sign0(x) * np.abs(x) ** (p - 1)
                return (scaled * scale).astype(x.dtype)
        return g * r.astype(x.dtype)
    return _vnorm_graph(g, x, y, p, dims)


def _vnorm_graph(g, x, y, p, dims):
    """The vector norm's gradient as a graph (create_graph), in PyTorch's norm_backward form: its masked_fill of
    the entries at a zero norm (``_masked``) keeps their derivatives PyTorch's, NaN where its are."""
    yd = dual.data(y)
    if p == float('inf') or p == float('-inf'):   # the gradient splits evenly among the entries at the norm
        hit = _norm_hits(dual.data(x), yd)
        return x.sgn() * (g * dual.const(hit / hit.sum(axis=dims, keepdims=True), x))
    if p == 1:
        return g * x.sgn()
    if p == 2:
        return g * _masked(x / y, yd)
    if p < 1:
        return _masked(x.sgn() * x.abs() ** (p - 1), dual.data(x)) * g * y ** (1 - p)
    scaled = x.sgn() * x.abs() ** (p - 1) if p < 2 else x * x.abs() ** (p - 2)
    return scaled * _masked(g / y ** (p - 1), yd)


def _sign0(x):
    """np.sign with 0 at NaN, PyTorch's sign."""
    r = np.sign(x)
    return np.where(np.isnan(r), r.dtype.type(0), r) if r.dtype.kind == 'f' and np.isnan(r).any() else r


def _norm_hits(x, y):
    """The entries an inf-norm's gradient splits among: |x| at the norm, or NaN where the norm is NaN (PyTorch's
    norm_backward; the count was 0 there and every entry's gradient NaN)."""
    return (np.abs(x) == y) | (np.isnan(x) & np.isnan(y))


def _masked(t, values):
    """PyTorch's ``t.masked_fill_(values == 0, 0)`` (``values`` an array broadcasting to ``t``)."""
    zero = values == 0
    if not zero.any():
        return t
    return dual.where(np.broadcast_to(zero, tuple(t.shape)), dual.const(0, t), t)


LinalgVectorNormBackward0 = _node('LinalgVectorNormBackward0', _vnorm_bw, ('p', 'dims', 'keep', 'nan_sign'))


@_quiet.quietly
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The p-norm of the elements (over ``dim``, or all); of a complex tensor, the norm of its magnitudes.
    ``dtype`` converts the input first (it must not narrow it, as PyTorch checks); float16 accumulates in float32,
    and a norm over one element is its magnitude (no overflow of x * x), as PyTorch's kernel gives."""
    if isinstance(ord, str):   # ('fro' and 'nuc' are matrix norms)
        raise TypeError("linalg_vector_norm(): argument 'ord' must be Number, not str")
    if x._data.dtype.kind not in 'fc':   # PyTorch checks the input itself, before any dtype= conversion
        raise RuntimeError('linalg.vector_norm: Expected a floating point or complex tensor as input. Got '
                           f'{_type_word(x._data.dtype)}')
    if dtype is not None and to_np(dtype) != x._data.dtype:
        return vector_norm(_norm_input(x, dtype), ord, dim, keepdim)
    a = x._data
    if a.dtype.kind == 'c':
        from .pointwise import abs as abs_
        return vector_norm(abs_(x), ord, dim, keepdim, dtype=dtype)
    _need_float(a, 'linalg.vector_norm', dtype)
    dims = reduce_dims(dim, a.ndim)
    p = float(ord)
    wide = a.astype(np.float32) if a.dtype == np.float16 else a
    if int(np.prod([a.shape[d] for d in dims])) == 1 and p != 0:
        ab = np.abs(a)
        r = ab if keepdim else ab.reshape(tuple(s for i, s in enumerate(a.shape) if i not in dims))
    elif p == float('inf') or p == float('-inf'):
        _check_extreme_norm(a, dims, dim, p)
        r = (np.abs(a).max if p > 0 else np.abs(a).min)(axis=dims, keepdims=keepdim)
    elif p == 0:
        r = (a != 0).sum(axis=dims, keepdims=keepdim).astype(a.dtype)
    elif p in (1, 2):
        r = _p12_norm(wide, dims, keepdim, p)
    else:   # (bfloat16 in float32 too: its 1 / 3 rounded to bfloat16 gave 210 for PyTorch's 208)
        wide = _bf16.to_f32(a) if _bf16.is_bf16(a.dtype) else wide
        r = (np.abs(wide) ** p).sum(axis=dims, keepdims=keepdim) ** (1.0 / p)
    r = _c(np.asarray(r).astype(a.dtype, copy=False))
    if GRAD.enabled and x._requires_grad:
        node = LinalgVectorNormBackward0((x,))
        node.p, node.dims, node.keep = p, dims, keepdim
        return _full_result(x, r, node)
    return Tensor._make(r)


def _p12_norm(a, dims, keepdim, p):
    """The 1- or 2-norm of ``a`` over ``dims``, its terms added in PyTorch's order where that is known (float32
    and float64: see _sumorder.serial_sum and lastdim_squares_sum), else in NumPy's."""
    if 1 in a.shape and a.size:   # TensorIterator drops size-1 dims: a (7, 1) column's norm over dim 0 is an inner sum
        shape = _kshape(a.shape, dims) if keepdim else tuple(s for i, s in enumerate(a.shape) if i not in dims)
        left = [i for i, s in enumerate(a.shape) if s != 1]
        squeezed = tuple(left.index(d) for d in dims if a.shape[d] != 1)
        return _p12_norm(a.reshape([a.shape[i] for i in left]), squeezed, False, p).reshape(shape)
    terms = np.abs(a) if p == 1 else a * a
    r = None
    if a.dtype.type in (np.float32, np.float64) and a.size:
        if p == 2 and _inner_block(a, dims):    # PyTorch's vectorised kernel, known for float32
            if a.dtype.type is np.float32:
                r = lastdim_squares_sum(a.reshape(a.shape[:a.ndim - len(dims)] + (-1,)))
        else:
            r = serial_sum(terms, dims)
        if r is not None and keepdim:
            r = r.reshape(_kshape(a.shape, dims))
    if r is None:
        r = terms.sum(axis=dims, keepdims=keepdim)
    return np.sqrt(r) if p == 2 else r


def _inner_block(a, dims):
    """Whether ``dims`` are a's trailing dims and contiguous there: one last dim to PyTorch's TensorIterator."""
    k = len(dims)
    if tuple(sorted(dims)) != tuple(range(a.ndim - k, a.ndim)):
        return False
    step = a.itemsize
    for d in range(a.ndim - 1, a.ndim - k - 1, -1):
        if a.shape[d] != 1 and a.strides[d] != step:
            return False
        step *= a.shape[d]
    return True


def _check_extreme_norm(a, dims, dim, p):
    """PyTorch's refusal of an inf/-inf norm over an empty dim (max/min have no identity)."""
    empty = [i for i, d in enumerate(dims) if a.shape[d] == 0]
    if not empty:
        return
    if dim is None or isinstance(dim, (tuple, list)) and len(dim) == 0:
        raise RuntimeError(f'linalg.vector_norm cannot compute the {p} norm on an empty tensor because the operation '
                           'does not have an identity')
    given = dim[empty[0]] if isinstance(dim, (tuple, list)) else dim   # the dim as passed (-1 stays -1)
    raise RuntimeError(f'linalg.vector_norm cannot compute the {p} norm on the dimension {given}because this '
                       'dimension is empty and the operation does not have an identity')


def _norm_input(x, dtype):
    """vector_norm's input converted to ``dtype``, refused where that narrows it (PyTorch's check)."""
    from .._dtype import promote_types, scalar_name
    if promote_types(x.dtype, dtype) is not dtype:
        raise RuntimeError(f'linalg.vector_norm: the dtype of the input ({scalar_name(x.dtype)}) should be '
                           f'convertible without narrowing to the specified dtype ({scalar_name(dtype)})')
    return x.to(dtype)


@_quiet.quietly
def norm(input, p='fro', dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm: the vector 2-norm by default ('fro' over all elements is the same); ``out`` comes before
    ``dtype`` as in PyTorch's signature (the Tensor method, norm_method, has no out)."""
    r = norm_method(input, p, dim, keepdim, dtype)
    if out is None:
        return r
    from ._out import write
    return write('linalg.vector_norm', r, out)


def norm_method(input, p='fro', dim=None, keepdim=False, dtype=None):
    """Tensor.norm. 'fro' over at most 2 dims is the vector 2-norm; 'nuc' (and 'fro' over more dims) is a matrix
    norm over exactly 2 dims (all of them when dim is None), as PyTorch dispatches."""
    matrix = p == 'nuc' or p == 'fro' and isinstance(dim, (tuple, list)) and len(dim) > 2
    if isinstance(p, str) and p not in ('fro', 'nuc'):
        raise RuntimeError(f'linalg.matrix_norm: Order {p} not supported.')
    if p == 'fro' or p is None:
        p = 2
    if matrix:
        dims = tuple(range(input.ndim)) if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) != 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
        from ..linalg import matrix_norm
        return matrix_norm(input, 'nuc' if p == 'nuc' else 'fro', dims, keepdim)
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def _dist(input, other, p):
    from .pointwise import sub
    return vector_norm(sub(input, other), p)


DistBackward0 = _composite.node_class('DistBackward0', result=True)


def dist(input, other, p=2):
    """The p-norm of input - other (one DistBackward0 node over both, as PyTorch records it)."""
    if not (isinstance(input, Tensor) and isinstance(other, Tensor)):
        check_tensor_args('dist', 'input', 'other')
    return _composite.composite(DistBackward0, _dist, (input, other), p=p)


# -- logsumexp, softmax ------------------------------------------------------------------------------------
def _lse_bw(self, g):
    x, y = self.saved()
    if not self.keep:
        g = g.reshape(_kshape(x.shape, self.dims))
        y = y.reshape(_kshape(x.shape, self.dims))
    r = dual.r16    # (bf16: each op of grad * (self - result).exp() rounded, as PyTorch's tensors)
    return r(g * r(dual.exp(r(x - y))))


LogsumexpBackward0 = _node('LogsumexpBackward0', _lse_bw, ('dims', 'keep'))


def _half_logsumexp(a, m, dims):
    """logsumexp of a float16/bfloat16 array as PyTorch composes it: each step (a - max, exp, the sum -- in float32,
    rounded once --, log, + max) rounded to the half type."""
    def rnd(v):
        v = np.asarray(v, np.float32)
        return _bf16.from_f32(v) if a.dtype is _BF16 else v.astype(_F16)
    f = _bf16.to_f32(a) if a.dtype is _BF16 else a.astype(np.float32)
    mf = np.asarray(_bf16.to_f32(m) if a.dtype is _BF16 else m, np.float32)
    with np.errstate(divide='ignore'):
        e = np.asarray(rnd(np.exp(np.asarray(rnd(f - mf), np.float32))), np.float32)
        s = np.asarray(rnd(e.sum(axis=dims, keepdims=True, dtype=np.float32)), np.float32)
        return rnd(np.asarray(rnd(np.log(s)), np.float32) + mf)


@_quiet.quietly
def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, computed without overflow."""
    a = input._data
    if a.dtype.kind not in 'fc':
        a = a.astype(DEFAULT.np)
    dims = reduce_dims(dim, a.ndim)
    re = a.real if a.dtype.kind == 'c' else a   # (complex: shifted by the largest real part, as PyTorch's)
    m = np.max(re, axis=dims, keepdims=True) if a.size else np.zeros(_kshape(a.shape, dims), re.dtype)
    m = np.where(np.isfinite(m), m, 0)
    if a.dtype == _F16 or a.dtype is _BF16:
        r = _half_logsumexp(a, m, dims)
    else:
        with np.errstate(divide='ignore'):
            r = np.log(np.exp(a - m).sum(axis=dims, keepdims=True)) + m
    if not keepdim:
        r = r.reshape(tuple(s for i, s in enumerate(a.shape) if i not in dims))
    r = _c(np.asarray(r).astype(a.dtype, copy=False))
    if GRAD.enabled and input._requires_grad:
        node = LogsumexpBackward0((input,))
        node.dims, node.keep = dims, keepdim
        return _full_result(input, r, node)
    return Tensor._make(r)


# bytes of rows a block of _by_rows holds: log_softmax of (700, 10000) float32 forward / backward, min of 12
# interleaved (ms): 1 thread (thread time) 256 KiB 5.38 / 4.71, 1 MiB 4.77 / 4.29, 2 MiB 4.69 / 4.27; 2 threads
# (wall, chrt -r 10) 5.69 / 5.13, 3.00 / 3.41, 2.74 / 2.85: each block costs ~10 NumPy calls of Python, and at 2
# threads the two threads' calls queue for the GIL. softmax of (12, 4, 64, 64) unchanged (0.34 ms).
_BLOCK_BYTES = 1 << 21


def _by_rows(kernel, *arrays, out=None):
    """``kernel(*blocks, out)`` over blocks of about _BLOCK_BYTES of rows of same-shape arrays, for a softmax-like
    op on the last dim: each block's passes run in cache. log_softmax of (700, 10000) float32 (an LSTM LM's
    decoder): its training step 148.9 -> 139.2 ms (min of interleaved runs). Above _parallel.MIN_BYTES the
    blocks are shared out between set_num_threads's threads (same blocks, same values): at 2 threads the
    calling thread's CPU time for that log_softmax went 6.3 -> 3.2 ms forward, 5.6 -> 2.7 ms backward. ``out``: a
    C-contiguous array of the same shape to write into (it may be one of the arrays, which the kernel then must
    read before it writes), returned."""
    a = arrays[0]
    if a.nbytes <= _BLOCK_BYTES:     # one block: no reshapes, no pool (softmax of (1, 65): 8.0 -> 5.1 us)
        if out is None:
            out = np.empty_like(a)
        kernel(*arrays, out)
        return out
    n = a.shape[-1]
    rows = [a.reshape(-1, n) for a in arrays]
    res = np.empty_like(rows[0]) if out is None else out.reshape(-1, n)
    k = _BLOCK_BYTES // (n * res.itemsize) or 1

    def part(lo, hi):       # blocks lo..hi-1: the same blocks at any thread count, so the same sums
        for i in range(lo * k, hi * k, k):
            kernel(*(r[i:i + k] for r in rows), res[i:i + k])
    _parallel.run(part, -(-res.shape[0] // k), res.nbytes)
    return res.reshape(a.shape) if out is None else out


def _rowwise(d, *arrays):
    """Whether ``_by_rows`` applies: reduction over the last dim of C-contiguous arrays of one dtype."""
    a = arrays[0]
    if d != a.ndim - 1 or not a.size:
        return False
    for b in arrays:
        if type(b) is not np.ndarray or not b.flags.c_contiguous or b.dtype != a.dtype or b.shape != a.shape:
            return False
    return True


def _softmax_rows(x, out):
    """exp(x - max) times the reciprocal of its row sums, as PyTorch's kernel scales (a product, not a quotient:
    equal to its values in 44% of the elements against 36% for (512, 256) float32, and a faster pass)."""
    np.subtract(x, row_max(x), out=out)
    np.exp(out, out=out)
    s = row_sums(out)
    out *= np.divide(1, s, out=s)


def _log_softmax_rows(x, out):
    np.subtract(x, row_max(x), out=out)
    out -= np.log(row_sums(np.exp(out)))


def _half_in_f32(a):
    """float16 values as float32, which PyTorch's CPU softmax kernels compute in (rounding the result once)."""
    return a.astype(np.float32) if a.dtype == _F16 else a


def _softmax_arr(a, d):
    if _rowwise(d, a):
        return _by_rows(_softmax_rows, a)
    if not a.size:
        return a.copy()
    m = a.max(axis=d, keepdims=True)
    e = np.exp(a - m)
    s = e.sum(axis=d, keepdims=True)
    if type(e) is not np.ndarray:   # bfloat16, whose every step rounds: one quotient, as PyTorch's float32 opmath
        e /= s
        return e
    e *= np.divide(1, s, out=s)     # (as _softmax_rows)
    return e


def _softmax_mid_reduced(a, d):
    """bfloat16/float16 softmax over a dim that is not the last as PyTorch's kernel (_vec_softmax) computes it, in
    float32: exp(x - max) summed down the dim from 0; its vector lanes (_sleef.thread_lanes, 32 wide on AVX-512,
    which depend on the thread count) round exp / sum once, its scalar tails keep the rounded exps in the output
    and divide those by the sum. (64, 33) bf16 over dim 0 at 1 thread: 529 of 2112 values a step off -> 0."""
    half = a.dtype == _F16
    e = _sleef._mid(a.astype(_F32) if half else _bf16.to_f32(a), d)     # a new array: computed in place
    e -= e.max(axis=1, keepdims=True)
    lanes = _sleef.thread_lanes(e.shape[0], e.shape[2], _parallel.threads(), _sleef.reduced_width())
    tail = None if lanes.all() else np.broadcast_to(~lanes[:, None, :], e.shape)
    if _sleef.emulated():   # SLEEF's exp in the vector lanes, glibc's in the tails (as _sleef.softmax_mid)
        z = e.copy()
        _sleef.expf(z, out=e)
        if tail is not None:
            e[tail] = _sleef.glibc_expf(z[tail])
    else:
        np.exp(e, out=e)
    # in order down the dim: NumPy adds whole rows in order, but a contiguous axis (inner 1) pairwise
    s = np.add.accumulate(e, axis=1)[:, -1:] if e.shape[2] == 1 else e.sum(axis=1, keepdims=True)
    if tail is not None:
        e[tail] = e[tail].astype(_F16) if half else _bf16.round_f32(e[tail])
    e /= s
    e = e.reshape(a.shape)
    return e.astype(_F16) if half else _bf16.from_f32(e)


def _log_softmax_arr(a, d):
    if _rowwise(d, a):
        return _by_rows(_log_softmax_rows, a)
    if not a.size:
        return a.copy()
    m = a.max(axis=d, keepdims=True)
    s = a - m
    total = np.exp(s).sum(axis=d, keepdims=True)
    if d == a.ndim - 1 and type(a) is _bf16.BF16Array:
        # PyTorch's last-dim kernel keeps the sum and its log as bfloat16 (measured on four shapes against
        # float32 for both: 1451 of 8000 values of (8, 1000) one step off -> 0, (16, 300) 689 of 4800 -> 0)
        s -= _bf16.from_f32(np.log(_bf16.from_f32(total)))
        return s
    s -= np.log(total)
    return s


def _log_softmax_half_last(a):
    """float16 log_softmax over the last dim as PyTorch's kernel computes it: float32 steps with the sum and its
    log kept as float16 (as for bfloat16 in _log_softmax_arr; 2424 of 8000 values of (8, 1000) one step off -> 0)."""
    x = a.astype(np.float32)
    x -= x.max(axis=-1, keepdims=True)
    total = np.exp(x).sum(axis=-1, keepdims=True, dtype=np.float32).astype(_F16)
    x -= np.log(total.astype(np.float32)).astype(_F16)
    return x


def _softmax_bw_rows(y, g, out):
    np.multiply(g, y, out=out)
    np.subtract(g, row_sums(out), out=out)
    out *= y


def _log_softmax_bw_rows(y, g, out):
    if _sleef_rows(y, y.ndim - 1):     # PyTorch's AVX-512 kernel's values
        return _sleef.log_softmax_bw_rows(y, g, out)
    np.exp(y, out=out)
    out *= row_sums(g)
    np.subtract(g, out, out=out)


def _log_softmax_bw_rows_over(y, g, out):
    """_log_softmax_bw_rows's values where ``out`` may be ``g`` itself (g read before it is written)."""
    if _sleef_rows(y, y.ndim - 1):
        return _sleef.log_softmax_bw_rows(y, g, out)
    e = np.exp(y)
    e *= row_sums(g)
    np.subtract(g, e, out=out)


def _log_softmax_bw_one_hot(y, g, tc, v):
    """_log_softmax_bw_rows's values, written into ``g``, for a 2-D ``g`` that is zeros but the one negative finite
    value ``v`` at each row's column ``tc`` (nll_loss's gradient, handed on): g's row sums are v, so the result is
    exp(y) * -v but at the targets, v + that (the same roundings: -(e * v) is exact, and 0 - e * v is +0 where
    it is 0, as e * -v is for v < 0). Two passes over y and g instead of four, g never read: the LSTM LM's
    (700, 10000) nll_loss + log_softmax backward, min / median of 40 interleaved (chrt, load 6.6), 1 thread 6.73 /
    9.01 -> 4.87 / 6.37 ms, 2 threads 5.31 / 5.91 -> 3.55 / 3.84. False, with g untouched, for anything else (v per
    row, zero, positive). Where _sleef emulates PyTorch's AVX-512 kernel: SLEEF's exp, v - e * v fused at the
    targets."""
    if y.ndim != 2 or v.ndim or not (np.isfinite(v) and v < 0):
        return False
    neg = -v
    exact = _sleef_rows(y, 1)
    exp = _sleef.expf if exact else np.exp

    def kernel(yb, out):
        exp(yb, out=out)
        out *= neg
    _by_rows(kernel, y, out=g)
    rows = np.arange(g.shape[0])
    if exact:   # PyTorch's v - exp(y) * v fused (GCC's fnmadd) at the targets
        g[rows, tc] = _fma32(_sleef.expf(y[rows, tc]), neg, v)
    else:
        g[rows, tc] += v
    return True


def _softmax_bw(self, g):
    (y,) = self.saved()
    if not dual.is_array(g):    # create_graph: PyTorch's one SoftmaxBackwardDataBackward0 node
        return _linear_twice.record(SoftmaxBackwardDataBackward0, _softmax_grad, g, y, (self.dim, self.arg))
    return _softmax_grad(g, y, self.dim)


def _softmax_grad(g, y, d, arg=None):
    """_softmax_backward_data(g, y, d) on arrays: y * (g - sum(g * y)) (``arg``: the dim as given, unread)."""
    if y.dtype is _F16_NP:     # float16 in float32, rounded once, as PyTorch's kernel (its opmath)
        return _softmax_bw_f32(y, g, d)
    if _sleef_rows(y, d) and type(g) is np.ndarray and g.dtype == _F32:    # PyTorch's AVX-512 kernel's values
        return _by_rows(_sleef.softmax_bw_rows, np.ascontiguousarray(y), np.ascontiguousarray(g))
    if _sleef_mid(y, d) and type(g) is np.ndarray and g.dtype == _F32:
        return _sleef.softmax_bw_mid(y, g, d)
    if _rowwise(d, y, g):
        return _by_rows(_softmax_bw_rows, y, g)
    return y * (g - (g * y).sum(axis=d, keepdims=True))


def _softmax_second(self, h, g, y):
    """softmax_double_backward(h, g, dim, y): g * h - sum(y * g) * h - g * sum(y * h)."""
    d = self.ctx[0]
    return g * h - (y * g).sum(axis=d, keepdims=True) * h - g * (y * h).sum(axis=d, keepdims=True)


SoftmaxBackwardDataBackward0 = _linear_twice.node_class('SoftmaxBackwardDataBackward0', _softmax_second)


def _softmax_bw_f32(y, g, d):
    """_softmax_bw of float16 arrays: ``y * (g - sum(g * y))`` in float32, rounded once (NumPy's float16 steps each
    round: 498 of 512 values of an (8, 64) gradient differed from PyTorch's)."""
    y32, g32 = y.astype(np.float32), np.asarray(g).astype(np.float32)
    return (y32 * (g32 - (g32 * y32).sum(axis=d, keepdims=True))).astype(y.dtype)


def _log_softmax_bw(self, g):
    """g - exp(y) * g's sums over dim; written into g itself when the node before handed it on (_handoff: an
    nll_loss gradient), which keeps the LSTM LM step's freed heap under glibc's trim threshold."""
    (y,) = self.saved()
    d = self.dim
    if not dual.is_array(g):    # create_graph: PyTorch's one LogSoftmaxBackwardDataBackward0 node
        return _linear_twice.record(LogSoftmaxBackwardDataBackward0, _log_softmax_grad, g, y, (d, self.arg))
    if y.dtype == _F16 or type(y) is _bf16.BF16Array:
        return _log_softmax_bw_half(y, g, d)
    if _rowwise(d, y, g):
        hot = one_hot(g)
        if take(self, g):
            if hot is not None and _log_softmax_bw_one_hot(y, g, *hot):
                return g
            return _by_rows(_log_softmax_bw_rows_over, y, g, out=g)
        return _by_rows(_log_softmax_bw_rows, y, g)
    if _sleef_mid(y, d) and type(g) is np.ndarray and g.dtype == _F32:
        return _sleef.log_softmax_bw_mid(y, g, d)
    return g - dual.exp(y) * g.sum(axis=d, keepdims=True)


def _log_softmax_bw_half(y, g, d):
    """float16/bf16 log_softmax gradient as PyTorch's kernels compute it: g's sums, exp(y), the product and the
    difference in float32, rounded once (float16 steps left 25 of 300 values of (6, 50) a step off, over dim 0 of
    (64, 33) 213 of 2112; bf16 cross_entropy's one-hot path 406 of 1500 values of (3, 5))."""
    g = dual.wide(g)
    r = np.array(np.exp(dual.wide(y)), _F32, ndmin=0)   # (an array for out= below, a 0-d input's too)
    r *= g.sum(axis=d, keepdims=True)
    np.subtract(g, r, out=r)
    return dual.narrow(r, y.dtype)


def _log_softmax_grad(g, y, d, arg=None):
    """_log_softmax_backward_data(g, y, d) on arrays: g - exp(y) * sum(g) (``arg``: the dim as given, unread)."""
    if y.dtype == _F16:
        return _log_softmax_bw_half(y, g, d)
    if _rowwise(d, y, g):
        return _by_rows(_log_softmax_bw_rows, y, g)
    if _sleef_mid(y, d) and type(g) is np.ndarray and g.dtype == _F32:
        return _sleef.log_softmax_bw_mid(y, g, d)
    return g - np.exp(y) * g.sum(axis=d, keepdims=True)


def _log_softmax_again(self, h, y):
    """derivatives.yaml's gradient of _log_softmax_backward_data in grad_output: h - sum(h * exp(y))."""
    return h - (h * dual.exp(y)).sum(axis=self.ctx[0], keepdims=True)


def _log_softmax_second(self, h, g, y):
    """Its gradient in the output y: -sum(g) * exp(y) * h."""
    return -g.sum(axis=self.ctx[0], keepdims=True) * dual.exp(y) * h


LogSoftmaxBackwardDataBackward0 = _linear_twice.node_class('LogSoftmaxBackwardDataBackward0', _log_softmax_second,
                                                           _log_softmax_again)


SoftmaxBackward0 = _node('SoftmaxBackward0', _softmax_bw, ('dim', 'arg'))
LogSoftmaxBackward0 = _node('LogSoftmaxBackward0', _log_softmax_bw, ('dim', 'arg'))
for _cls in (SoftmaxBackward0, LogSoftmaxBackward0):    # PyTorch's _saved_dim: the dim as given, as an unsigned int64
    for _name, _prop in saved_properties('result').items():
        setattr(_cls, _name, _prop)
    saved_attributes(_cls, dim=lambda node: node.arg % (1 << 64))
for _cls in (SoftmaxBackwardDataBackward0, LogSoftmaxBackwardDataBackward0):
    _linear_twice.expose(_cls, 'output', dim=lambda node: node.ctx[1] % (1 << 64))


_NO_DIM = object()


def _softmax_dim(dim, ndim, op, position):
    """``dim`` wrapped: torch.softmax and Tensor.softmax require it (only F.softmax picks one, with a warning);
    ``position``: dim's place in PyTorch's message (2 in the function, 1 in the method)."""
    if dim is _NO_DIM:
        raise TypeError(f'{op}() missing 1 required positional arguments: "dim"')
    if dim is None:
        raise TypeError(f"{op}(): argument 'dim' (position {position}) must be int, not NoneType")
    return wrap_dim(dim, ndim)


def softmax_method(input, dim=_NO_DIM, dtype=None, *, axis=None):
    """Tensor.softmax: softmax, dim counted from the method's first argument in PyTorch's error."""
    return softmax(input, dim, dtype, axis=axis, _position=1)


def log_softmax_method(input, dim=_NO_DIM, dtype=None, *, axis=None):
    """Tensor.log_softmax: log_softmax, dim counted from the method's first argument in PyTorch's error."""
    return log_softmax(input, dim, dtype, axis=axis, _position=1)


def _softmax_dtype_error(op, a, d):
    """PyTorch's refusal of an integer or bool input (pass dtype= to compute in a float dtype)."""
    kernel = f'{op}_lastdim_kernel_impl' if d == a.ndim - 1 else f'{op}_kernel_impl'
    return NotImplementedError(f'"{kernel}" not implemented for \'{_type_word(a.dtype)}\'')


@_quiet.quietly
def softmax(input, dim=_NO_DIM, dtype=None, *, _stacklevel=3, axis=None, _position=2):
    """exp(x) / sum(exp(x)) along ``dim``, computed stably."""
    dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
    a = input._data
    a = _cast_arr(a, to_np(dtype))
    d = _softmax_dim(dim, a.ndim, 'softmax', _position)
    if a.dtype.kind != 'f':
        raise _softmax_dtype_error('softmax', a, d)
    if _sleef_rows(a, d):     # PyTorch's AVX-512 kernel's values
        return _softmax_out(input, _by_rows(_sleef.softmax_rows, np.ascontiguousarray(a)), d, dim)
    if _sleef_mid(a, d):
        return _softmax_out(input, _sleef.softmax_mid(a, d, _parallel.threads()), d, dim)
    if (a.dtype == _F16 or type(a) is _bf16.BF16Array) and d < a.ndim - 1 and a.size:
        return _softmax_out(input, _softmax_mid_reduced(a, d), d, dim)
    if (a.dtype == _F16 or type(a) is _bf16.BF16Array) and d == a.ndim - 1 and a.size and _sleef.emulated():
        r = _by_rows(_sleef.softmax_rows_reduced, np.ascontiguousarray(a.astype(_F32) if a.dtype == _F16 else
                                                                       _bf16.to_f32(a)))
        return _softmax_out(input, r.astype(_F16) if a.dtype == _F16 else _bf16.from_f32(r), d, dim)
    # 0-d: 1, or NaN of inf/NaN as PyTorch's exp(x - max(x))
    r = _softmax_arr(_half_in_f32(a), d) if a.ndim else np.exp(a - a)
    return _softmax_out(input, _c(r.astype(a.dtype, copy=False)), d, dim)


def _sleef_rows(a, d):
    """Whether softmax/log_softmax of ``a`` over ``d`` is PyTorch's float32 last-dim kernel emulated by _sleef."""
    return a.dtype == _F32 and type(a) is np.ndarray and d == a.ndim - 1 and a.size and _sleef.emulated()


def _sleef_mid(a, d):
    """Whether softmax/log_softmax of ``a`` over ``d`` is PyTorch's float32 kernel for a dim that is not the last,
    emulated by _sleef."""
    return a.dtype == _F32 and type(a) is np.ndarray and a.ndim and d < a.ndim - 1 and a.size and _sleef.emulated()


def _softmax_out(input, r, d, dim):
    """softmax's result tensor from its array ``r``, with its SoftmaxBackward0 node where grad is recorded."""
    if GRAD.enabled and input._requires_grad:
        node = SoftmaxBackward0((input,))
        node.dim, node.arg = d, d if dim is None else dim
        out = Tensor._make(r, node)
        node.save_output(out)
        return out
    return Tensor._make(r)


@_quiet.rerun
def log_softmax(input, dim=_NO_DIM, dtype=None, *, _stacklevel=3, axis=None, _position=2):
    """log(softmax(x)) along ``dim``, computed stably (no log of 0 for large logits)."""
    dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
    a = input._data
    a = _cast_arr(a, to_np(dtype))
    d = _softmax_dim(dim, a.ndim, 'log_softmax', _position)
    if a.dtype.kind != 'f':
        raise _softmax_dtype_error('log_softmax', a, d)
    if _sleef_rows(a, d):     # PyTorch's AVX-512 kernel's values
        r = _by_rows(_sleef.log_softmax_rows, np.ascontiguousarray(a))
    elif _sleef_mid(a, d):
        r = _sleef.log_softmax_mid(a, d)
    elif a.dtype == _F16 and a.ndim and d == a.ndim - 1 and a.size:
        r = _log_softmax_half_last(a)
    else:
        r = _log_softmax_arr(_half_in_f32(a), d) if a.ndim else a - a
    r = _c(r.astype(a.dtype, copy=False))
    if GRAD.enabled and input._requires_grad:
        node = LogSoftmaxBackward0((input,))
        node.dim, node.arg = d, d if dim is None else dim
        out = Tensor._make(r, node)
        node.save_output(out)
        return out
    return Tensor._make(r)


# -- scans --------------------------------------------------------------------------------------------------
def _cumsum_bw(self, g):
    d = self.dim
    if not np.ndim(dual.data(g)):       # a 0-d input: the running sum is the identity
        return g
    if dual.is_array(g):
        return _scan(np.add, g, d, None, reverse=True)
    from .shape import flip
    return flip(cumsum(flip(g, (d,)), d), (d,))


CumsumBackward0 = _node('CumsumBackward0', _cumsum_bw, ('dim',))


def _scan(ufunc, a, d, dtype, reverse=False):
    """cumsum's (np.add) or cumprod's (np.multiply) values along ``d`` (from the end when ``reverse``: their
    backward's reversed cumsum), by the ufunc's accumulate that np.cumsum calls after its wrappers: (8, 32)
    float32 2.8 -> 1.6 us. The running value has PyTorch's CPU accumulation type (at::acc_type<T, false>), each
    output rounded from it (no rounding carried along): float16 in float32, float32 in float64, complex64 in
    complex128 (cumsum of (512, 256) float32 along dim 1: PyTorch's values in 19% of the elements with a float32
    running sum, in all with float64)."""
    nd = _sum_dtype(a, dtype)
    a = _cast_arr(a, nd)
    if not a.ndim:
        return a.reshape(1).reshape(())
    acc = _SCAN_ACC.get(nd)
    if acc is not None:
        with np.errstate(over='ignore'):    # a running value beyond float32's range rounds to inf, as PyTorch's
            return _scan_lanes(ufunc, a, d, acc, nd, reverse)
    if reverse:
        return np.flip(_scan(ufunc, np.flip(a, d), d, dtype), d)
    r = ufunc.accumulate(a, axis=d, dtype=None if _bf16.is_bf16(nd) else nd)
    if ufunc is np.add:
        _from_zero(r, d, False)
    return r


def _from_zero(buf, axis, last):
    """A running sum's first value (the last when ``last``) in ``buf`` as PyTorch's, which starts its sum at +0.0:
    -0.0 + 0.0 is +0.0, so a -0.0 that opens the scan gives +0.0 there and after (nothing else changes)."""
    if buf.dtype.kind in 'fc' and buf.ndim and buf.shape[axis]:
        at = [slice(None)] * buf.ndim
        at[axis] = -1 if last else 0
        buf[tuple(at)] += 0


_SCAN_ACC = {_F16: np.dtype(np.float32), _F32: _F64, _F64: _F64, np.dtype(np.complex64): np.dtype(np.complex128),
             np.dtype(np.complex128): np.dtype(np.complex128)}


def _scan_lanes(ufunc, a, d, acc, nd, reverse):
    """The running values of ``a`` along ``d`` in ``acc``, each rounded to ``nd``. A scan over at least as many
    lanes as steps (at least 64 along a leading dim) runs as one ufunc call per step, each a whole slice, on a
    copy with ``d`` first (a C-contiguous float32/64 ``a`` along its last dim transposed by omatcopy): the same
    operations in the same order per element as accumulate, whose loop runs lane by lane (with a cast, buffered)
    and along a leading dim strides through memory. cumsum fwd+bwd of float32, 1 thread, min of 25 interleaved
    (us; main's accumulate in float32): (512, 256) along 1 857 -> 580, along 0 2467 -> 787, (16, 64, 128) along 1
    1021 -> 242, (4096, 16) along 1 414 -> 131; few long rows keep accumulate, in float64 now: (64, 1000) 377 ->
    427, (32, 8192) 1574 -> 1757."""
    n = a.shape[d]
    lanes = a.size // n if n else 0
    if n >= 2 and lanes >= n and d == a.ndim - 1 and a.dtype in (_F32, _F64) and a.flags.c_contiguous:
        buf = transposed(a.reshape(lanes, n)).astype(acc, copy=False)     # a new (n, lanes) array
        if ufunc is np.add:
            _from_zero(buf, 0, reverse)
        _scan_steps(ufunc, buf, reverse)
        return transposed(buf.astype(nd, copy=False)).reshape(a.shape)
    if n >= 2 and lanes >= 64 and d < a.ndim - 1:
        buf = np.array(np.moveaxis(a, d, 0), dtype=acc, order='C')     # always a copy: the steps write into it
        if ufunc is np.add:
            _from_zero(buf, 0, reverse)
        _scan_steps(ufunc, buf, reverse)
        return np.ascontiguousarray(np.moveaxis(buf, 0, d), dtype=nd)
    buf = np.array(np.flip(a, d) if reverse else a, dtype=acc, order='C')   # accumulate in place, uncast:
    if ufunc is np.add:
        _from_zero(buf, d, False)
    ufunc.accumulate(buf, axis=d, out=buf)          # (512, 256) along 1 in float64 789 -> 383 us against dtype=
    r = buf.astype(nd, copy=False)
    return np.flip(r, d) if reverse else r


def _scan_steps(ufunc, buf, reverse):
    """buf[k] = buf[k - 1] op buf[k] down its first dim in place (from the end when ``reverse``)."""
    if reverse:
        for k in range(buf.shape[0] - 2, -1, -1):
            ufunc(buf[k + 1], buf[k], out=buf[k])
    else:
        for k in range(1, buf.shape[0]):
            ufunc(buf[k - 1], buf[k], out=buf[k])


def _no_bool_scan(name, a, dtype):
    """PyTorch's scans have no Bool kernel: a ``dtype=torch.bool`` is refused where the kernel runs, on an array
    ``a`` with dims and elements (a 0-d or empty one is copied; a bool input scans in int64)."""
    nd = to_np(dtype)
    if nd is not None and nd.kind == 'b' and a.ndim and a.size:
        raise not_implemented(f'{name}_out_cpu', nd)


@_quiet.quietly
def cumsum(input, dim, *, dtype=None):
    """Running sum along ``dim``."""
    input = _real_cast(input, dtype)
    a = input._data
    _no_bool_scan('cumsum', a, dtype)
    d = wrap_dim(dim, a.ndim)
    r = _c(_scan(np.add, a, d, dtype))
    node = _record(input, r, CumsumBackward0, dim=d)
    return Tensor._make(r, node)


def _cumprod_bw(self, g):
    (x,) = self.saved()
    d = self.dim
    if not np.ndim(dual.data(x)):       # a 0-d input: the running product is the identity
        return g
    if dual.is_array(x):
        with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
            return _cumprod_bw_arrays(x, g, d)
    if (x._data == 0).any():
        return _cumprod_bw_zeros(g, x, d)
    out = cumprod(x, d)
    from .shape import flip
    return flip(cumsum(flip(g * out, (d,)), d), (d,)) / x


def _cumprod_bw_zeros(g, x, d):
    """cumprod's gradient with zeros in the input, in differentiable ops (create_graph=True): PyTorch's O(n^2)
    form, dy_j/dx_k = prod(x[:k]) cumprod(x[k+1:j]) summed against g[k:], each slice copied into zeros (its
    CopySlices node), where (reversed cumsum of g y) / x divides by zero."""
    from .shape import cat
    n = x.shape[d]
    if x.numel() <= 1 or n == 1:
        return g
    out = Tensor._make(np.zeros(x.shape, g._data.dtype))
    ones = Tensor._make(np.ones(x.shape[:d] + (1,) + x.shape[d + 1:], x._data.dtype))
    for k in range(n):
        until = ones if k == 0 else prod(x.narrow(d, 0, k), d, keepdim=True)
        if k == n - 1:
            omitted = until
        else:
            after = cumprod(x.narrow(d, k + 1, n - k - 1), d)
            omitted = cat([until, after if k == 0 else until * after], d)
        out.select(d, k).copy_((g.narrow(d, k, n - k) * omitted).sum(d))
    return out


def _cumprod_bw_arrays(x, g, d):
    """PyTorch's O(n) cumprod gradient on arrays, each op rounded as its tensor is: (reversed cumsum of g y) / x
    before a lane's first zero, at that zero g's products with what follows it up to the next zero times y just
    before it, 0 past it (so inf/NaN past a zero give 0, and with no zero the division's NaN stays, as PyTorch)."""
    r16 = dual.r16
    y = r16(_scan(np.multiply, x, d, None))
    w = r16(y * g)
    zero = x == 0
    if not zero.any():
        return r16(r16(_scan(np.add, w, d, None, reverse=True)) / x)
    seen = np.cumsum(zero, axis=d)
    before = seen == 0
    nil = np.zeros((), w.dtype)
    r = np.where(before, r16(r16(_scan(np.add, np.where(before, w, nil), d, None, reverse=True)) / x), nil)
    first = zero & (seen == 1)
    between = (seen == 1) & ~zero
    z = np.argmax(first, axis=d)[..., None] if d == x.ndim - 1 else np.expand_dims(np.argmax(first, axis=d), d)
    after = r16(_scan(np.multiply, np.where(between, x, dual.one(x)), d, None))
    s = _sum(r16(after * np.where(seen == 1, g, nil)), (d,), True, after.dtype)
    prev = np.take_along_axis(y, np.maximum(z - 1, 0), d)
    prev = np.where(z == 0, dual.one(prev), prev)
    at = r16(s * prev)
    return np.where(first, at, r)


CumprodBackward0 = _node('CumprodBackward0', _cumprod_bw, ('dim',))


@_quiet.quietly
def cumprod(input, dim, *, dtype=None):
    """Running product along ``dim``."""
    input = _real_cast(input, dtype)
    a = input._data
    _no_bool_scan('cumprod', a, dtype)
    d = wrap_dim(dim, a.ndim)
    r = _c(_scan(np.multiply, a, d, dtype))
    node = _record(input, r, CumprodBackward0, dim=d)
    return _saving_result(input, r, node)


def _cum_inplace(name):
    """``cumsum_``/``cumprod_``: refuse bool as PyTorch's kernel does (the result would not fit back)."""
    def op_(self, dim, *, dtype=None):
        if self._data.dtype.kind == 'b':
            raise not_implemented(f'{name}_out_cpu', self._data.dtype)
        from .inplace import make_inplace
        return make_inplace(globals()[name], name + '_')(self, dim, dtype=dtype)
    op_.__name__ = name + '_'
    op_.__doc__ = f'In-place {name} along ``dim`` (returns self).'
    return op_


cumsum_, cumprod_ = _cum_inplace('cumsum'), _cum_inplace('cumprod')


# -- logical reductions ----------------------------------------------------------------------------------------
def all(input, dim=None, keepdim=False):
    a = input._data
    r = a.all(axis=None if dim is None else wrap_dims(dim, a.ndim), keepdims=keepdim)
    return Tensor._make(_c(np.asarray(r, dtype=np.uint8 if a.dtype == np.uint8 else np.bool_)))


def any(input, dim=None, keepdim=False):
    a = input._data
    r = a.any(axis=None if dim is None else wrap_dims(dim, a.ndim), keepdims=keepdim)
    return Tensor._make(_c(np.asarray(r, dtype=np.uint8 if a.dtype == np.uint8 else np.bool_)))


def count_nonzero(input, dim=None):
    a = input._data
    return Tensor._make(_c(np.asarray(np.count_nonzero(a, axis=None if dim is None else reduce_dims(dim, a.ndim)),
                                      dtype=np.int64)))


# PyTorch accepts NumPy's axis/keepdims wherever it takes dim/keepdim (sum and mean spell them inline).
(max, min, argmax, argmin, amax, amin, median, nanmedian, prod, var, std, var_mean, std_mean, logsumexp, cumsum,
 cumprod, all, any, count_nonzero, nansum, nanmean, aminmax) = map(dim_aliases, (
    max, min, argmax, argmin, amax, amin, median, nanmedian, prod, var, std, var_mean, std_mean, logsumexp, cumsum,
    cumprod, all, any, count_nonzero, nansum, nanmean, aminmax))


KthvalueBackward0 = _node('KthvalueBackward0', _index_bw, ('idx', 'shape', 'dim', 'keep'))


def _quickselect_index(row, k):
    """The position in ``row`` of its k-th smallest (0-based) value as PyTorch's CPU kthvalue finds it:
    Sedgewick's quickselect with a median-of-three pivot, NaN counted as largest. The choice among equal
    values depends on the swaps, so the algorithm is followed step by step."""
    vals, pos = list(row), list(range(len(row)))

    def gt(x, y):                       # x > y, NaN greater than everything
        return (x != x and y == y) or x > y

    def swap(i, j):
        vals[i], vals[j] = vals[j], vals[i]
        pos[i], pos[j] = pos[j], pos[i]
    lo, hi = 0, len(vals) - 1
    while hi > lo:
        if hi == lo + 1:
            if gt(vals[lo], vals[hi]):
                swap(lo, hi)
            break
        swap((lo + hi) >> 1, lo + 1)
        if gt(vals[lo + 1], vals[hi]):
            swap(lo + 1, hi)
        if gt(vals[lo], vals[hi]):
            swap(lo, hi)
        if gt(vals[lo + 1], vals[lo]):
            swap(lo + 1, lo)
        i, j, pivot = lo + 1, hi, vals[lo]
        while True:
            i += 1
            while gt(pivot, vals[i]):
                i += 1
            j -= 1
            while gt(vals[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return pos[k]


def kthvalue(input, k, dim=-1, keepdim=False, *, axis=None, keepdims=None):
    """(values, indices) of the k-th smallest element along ``dim``."""
    dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
    keepdim = keepdim if keepdims is None else keepdims
    a = input._data
    if a.dtype.kind == 'b':
        raise not_implemented('kthvalue_out_cpu', a.dtype)
    d = wrap_dim(dim, a.ndim or 1)
    work = a.reshape(1) if a.ndim == 0 else a
    n = work.shape[d]
    if n == 0:
        raise IndexError(f'kthvalue(): Expected reduction dim {d} to have non-zero size.')
    if not 1 <= k <= n:
        raise RuntimeError(f'kthvalue(): selected number k out of range for dimension {d}')
    rows = np.moveaxis(work, d, -1).reshape(-1, n)
    idx = np.array([_quickselect_index(r.tolist(), k - 1) for r in rows], np.int64)
    idx = idx.reshape(np.moveaxis(work, d, -1).shape[:-1])
    vals = _c(np.take_along_axis(work, np.expand_dims(idx, d), d))
    if not keepdim or a.ndim == 0:
        vals = vals.squeeze(d)
    out_idx = np.expand_dims(idx, d) if keepdim and a.ndim else idx
    if a.ndim == 0:
        vals, out_idx = vals.reshape(()), out_idx.reshape(())
    node = _record(input, vals, KthvalueBackward0, idx=idx, shape=a.shape, dim=d, keep=keepdim)
    return return_types.kthvalue(Tensor._make(vals, node), Tensor._make(_c(out_idx)))


ModeBackward0 = _node('ModeBackward0', _index_bw, ('idx', 'shape', 'dim', 'keep'))


def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along ``dim`` (the smallest among equally frequent ones) and
    where it is, as PyTorch's CPU kernel picks it: each row's (value, index) pairs go through std::sort by value,
    and the index is that of the last pair of the winning run."""
    a = input._data
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return _of_scalar('mode', input, ModeBackward0)
    n = a.shape[d]
    if n == 0:
        raise IndexError(f'mode(): Expected reduction dim {d} to have non-zero size.')
    rows = np.moveaxis(a, d, -1).reshape(-1, n)
    idx = _mode_rows(rows).reshape(np.moveaxis(a, d, -1).shape[:-1])
    vals = _c(np.take_along_axis(a, np.expand_dims(idx, d), d))
    if not keepdim:
        vals = vals.squeeze(d)
    node = _record(input, vals, ModeBackward0, idx=idx, shape=a.shape, dim=d, keep=keepdim)
    return return_types.mode(Tensor._make(vals, node), Tensor._make(_c(np.expand_dims(idx, d) if keepdim else idx)))


def _mode_rows(x):
    """The mode's index in each row of ``x`` (m, n). Rows without NaN whose order std::sort leaves as a stable sort
    would (n <= 16: one insertion sort) or whose mode occurs once take NumPy: the smallest of the most frequent
    values, at its last occurrence. The others replay libstdc++'s std::sort (ember/ops/_topk.py)."""
    from ._topk import _sort, _ranks
    m, n = x.shape
    if not m:
        return np.zeros(0, np.int64)
    s = np.sort(x, axis=1)
    cols = np.arange(n)
    new = np.ones(s.shape, np.bool_)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    starts = np.maximum.accumulate(np.where(new, cols, 0), axis=1)
    end = np.ones(s.shape, np.bool_)
    end[:, :-1] = new[:, 1:]
    runs = np.where(end, cols - starts + 1, 0)
    best = np.argmax(runs, axis=1)          # the first longest run: the smallest value (C++ keeps it on ties)
    r = np.arange(m)
    value, count = s[r, best], runs[r, best]
    last = n - 1 - np.argmax((x == value[:, None])[:, ::-1], axis=1)
    replay = (count > 1) & (n > 16)
    nan = np.isnan(x).any(axis=1) if x.dtype.kind == 'f' else np.zeros(m, np.bool_)
    for i in np.flatnonzero(replay | nan):
        # NaN compares false both ways, so those rows are sorted on their values themselves
        keys = x[i].tolist() if nan[i] else _ranks(x[i], False)
        q = list(zip(keys, range(n)))
        _sort(q, 0, n)
        last[i] = _mode_of_sorted(q)
    return last.astype(np.int64)


def _mode_of_sorted(q):
    """PyTorch's scan of the sorted (key, index) pairs: the last index of the first longest run of equal keys."""
    best, modei, run = 0, 0, 0
    for i, (k, pos) in enumerate(q):
        run += 1
        if i == len(q) - 1 or k != q[i + 1][0]:
            if run > best:
                best, modei = run, pos
            run = 0
    return modei


def _cum_extreme_bw(self, g):
    """The gradient of each running extreme goes to the element it came from (summed over repeats)."""
    if not self.shape:
        return g
    if dual.is_array(g):
        out = np.zeros(self.shape, g.dtype)
        idx = list(np.indices(self.idx.shape, sparse=True))
        idx[self.dim] = self.idx
        np.add.at(out, tuple(idx), g)
        return out
    from .indexing import scatter_add
    return scatter_add(g.new_zeros(self.shape), self.dim, Tensor._make(self.idx), g)


CummaxBackward0 = _node('CummaxBackward0', _cum_extreme_bw, ('idx', 'shape', 'dim'))
CumminBackward0 = _node('CumminBackward0', _cum_extreme_bw, ('idx', 'shape', 'dim'))


def _cum_extreme(input, dim, name, ge, cls):
    """Running max (min) along ``dim`` and where it was last reached, as PyTorch's CPU loop: an element
    replaces the running value when it is NaN or ``ge`` it (so ties take the later index, and a NaN holds)."""
    a = input._data
    d = wrap_dim(dim, a.ndim)
    if not a.ndim:
        vals, idx = a.copy(), np.zeros((), np.int64)
    else:
        x = np.moveaxis(a, d, 0)
        vals = np.empty_like(x)
        idx = np.empty(x.shape, np.int64)
        if x.shape[0]:
            cur, pos = np.array(x[0]), np.zeros(x.shape[1:], np.int64)
            floating = a.dtype.kind == 'f'
            for i in range(x.shape[0]):
                xi = x[i]
                upd = ge(xi, cur)
                if floating:
                    upd = np.isnan(xi) | (upd & ~np.isnan(cur))
                np.copyto(cur, xi, where=upd)
                pos[upd] = i
                vals[i], idx[i] = cur, pos
        vals, idx = np.moveaxis(vals, 0, d), np.moveaxis(idx, 0, d)
    vals, idx = _c(vals), _c(idx)
    node = _record(input, vals, cls, idx=idx, shape=a.shape, dim=d)
    if node is not None:
        node.guard(input)   # PyTorch's cummax/cummin nodes save the input too
    return getattr(return_types, name)(Tensor._make(vals, node), Tensor._make(idx))


def cummax(input, dim):
    """(values, indices): the running maximum along ``dim`` and the index where it was last reached."""
    return _cum_extreme(input, dim, 'cummax', np.greater_equal, CummaxBackward0)


def cummin(input, dim):
    """(values, indices): the running minimum along ``dim`` and the index where it was last reached."""
    return _cum_extreme(input, dim, 'cummin', np.less_equal, CumminBackward0)


class LogcumsumexpBackward0(Node):
    """PyTorch's stable gradient of logcumsumexp: the positive and negative parts of the upstream gradient
    in log space, each through a reversed logcumsumexp."""
    __slots__ = ('dim',)

    def backward(self, g):
        x, y = self.saved()
        d = self.dim
        if not g.ndim:      # one element: the identity
            return g
        if dual.data(y).dtype.kind == 'c':
            return _logcumsumexp_complex_grad(g, x, y, d)
        if dual.is_array(g):
            def rev(v):
                return np.flip(_logcumsumexp_arr(np.flip(v, d), d), d)
            low = np.finfo(g.dtype).min
            with np.errstate(divide='ignore'):
                log_abs = np.log(np.abs(g))
            pos = np.exp(rev(np.where(g > 0, log_abs, low) - y) + x)
            neg = np.exp(rev(np.where(g < 0, log_abs, low) - y) + x)
            return pos - neg
        from .shape import flip
        from .pointwise import where, log, exp
        from ..autograd import forward_refusal
        if forward_refusal.SOURCES:   # a forward-mode transform differentiates this in g: a form linear in g
            return _logcumsumexp_linear_grad(g, x, y, d)

        def rev_t(v):
            return flip(logcumsumexp(flip(v, [d]), d), [d])
        low = float(np.finfo(g._data.dtype).min)
        # log|g| of 1 where g is 0 (masked out below): log(0)'s infinite derivative times where's 0 would be NaN
        # in the gradient of this backward (the double-backward trick of jvp and forward AD takes it at g = 0)
        log_abs = log(where(g != 0, g.abs(), 1.0))
        pos = exp(rev_t(where(g > 0, log_abs, low) - y) + x)
        neg = exp(rev_t(where(g < 0, log_abs, low) - y) + x)
        return pos - neg


def _logcumsumexp_complex_grad(g, x, y, d):
    """PyTorch's gradient for complex input: conj(exp(reversed logcumsumexp(log(conj g) - y) + x)), no split of
    the gradient by sign; under a forward-mode transform the form linear in g (``_logcumsumexp_linear_grad``)."""
    if dual.is_array(g):
        with np.errstate(divide='ignore', invalid='ignore'):
            lg = np.log(np.conj(g.view(np.ndarray))) - y.view(np.ndarray)
            r = np.flip(_logcumsumexp_arr(np.flip(lg, d), d), d)
            return np.conj(np.exp(r + x.view(np.ndarray))).view(type(g))
    from .shape import flip
    from .pointwise import log, exp
    from ..autograd import forward_refusal
    if forward_refusal.SOURCES:
        return _logcumsumexp_linear_grad(g, x, y, d)
    return exp(flip(logcumsumexp(flip(log(g.conj()) - y, [d]), d), [d]) + x).conj()


def _logcumsumexp_linear_grad(g, x, y, d):
    """logcumsumexp's gradient as sum over j >= i of g_j exp(x_i - y_j) (each exponent <= 0), linear in ``g``: the
    log-space form's derivative in g is 0 at g = 0, where ember's double-backward trick takes it (forward AD gave
    zero tangents). Tensors; an (n, n) table per slice along ``d``."""
    from .pointwise import where, exp
    n = x.shape[d]
    keep = np.triu(np.ones((n, n), bool)).reshape((1,) * d + (n, n) + (1,) * (x.dim() - d - 1))
    diff = where(Tensor._make(keep), x.unsqueeze(d + 1) - y.unsqueeze(d), float('-inf'))
    if diff.is_complex():   # (PyTorch's convention for complex input)
        diff = diff.conj()
    return (exp(diff) * g.unsqueeze(d)).sum(d + 1)


def _logcumsumexp_arr(a, d):
    """The running log(sum(exp)) along ``d``: each step PyTorch's log_add_exp of the total so far and the next
    value (max + log1p(exp(min - max)), the value itself when both are the same infinity; for complex values the
    min and max by real part, and log(exp + exp) when both real parts are +inf)."""
    if not a.ndim or not a.shape[d]:
        return a.copy()
    cx = a.dtype.kind == 'c'
    x = np.moveaxis(a.view(np.ndarray) if cx else a, d, 0)
    out = np.empty_like(x)
    with np.errstate(invalid='ignore', over='ignore', divide='ignore'):
        if cx:   # (from PyTorch's -inf+0j: a first value whose real part is -inf opens as -inf+0j, a NaN as NaN+NaNj)
            acc = np.full(x.shape[1:], complex(-np.inf, 0), x.dtype)
            for i in range(x.shape[0]):
                acc = out[i] = _log_add_exp_complex(acc, x[i])
            return np.moveaxis(out, 0, d).view(type(a))
        acc = out[0] = x[0] + 0      # PyTorch's log_add_exp(-inf, x0): x0 + log1p(0), so -0.0 opens as +0.0
        for i in range(1, x.shape[0]):
            acc = out[i] = _log_add_exp(acc, x[i])
    return np.moveaxis(out, 0, d)


def _log_add_exp(acc, xi):
    lo, hi = np.minimum(acc, xi), np.maximum(acc, xi)
    return np.where((lo != hi) | np.isfinite(lo), hi + np.log1p(np.exp(lo - hi)), acc)


def _log_add_exp_complex(acc, xi):
    """PyTorch's complex log_add_exp: NaN when either is NaN, the total so far when both real parts are -inf."""
    first = acc.real <= xi.real
    lo, hi = np.where(first, acc, xi), np.where(first, xi, acc)
    step = hi + np.log1p(np.exp(lo - hi))
    same_inf = np.isinf(lo.real) & (lo.real == hi.real)
    step = np.where(same_inf, np.where(lo.real < 0, lo, np.log(np.exp(lo) + np.exp(hi))), step)
    nan = np.isnan(acc) | np.isnan(xi)
    return np.where(nan, complex(np.nan, np.nan), step)


_complex.GRAD_OK.add('LogcumsumexpBackward0')


@_quiet.quietly
def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along ``dim``, without overflow."""
    a = input._data
    if a.dtype.kind not in 'fc':
        raise not_implemented('logcumsumexp_out_cpu', a.dtype)
    d = wrap_dim(dim, a.ndim)
    r = _c(_logcumsumexp_arr(a, d) if a.dtype != _F16 else _logcumsumexp_arr(a.astype(_F32), d).astype(_F16))
    if GRAD.enabled and input._requires_grad:
        node = LogcumsumexpBackward0((input,))
        node.dim = d
        out = Tensor._make(r, node)
        node.save(input)
        node.save_output(out)
        return out
    return Tensor._make(r)


# -- ops real programs call (ops2): renorm, sum_to_size ------------------------------------------------------
_RenormBackward0 = _composite.node_class('RenormBackward0')


def _renorm_compose(x, p, d, maxnorm):
    from .pointwise import where
    dims = tuple(k for k in range(x.dim()) if k != d)
    big = Tensor._make(vector_norm(Tensor._make(x._data), p, dims, keepdim=True)._data > maxnorm)
    # the norms of the slices scaled down only, as PyTorch's renorm_backward selects g where a slice is kept: the
    # kept slices' norm gradient (NaN at a NaN or inf norm) gave 0 * NaN through where's other branch
    norms = vector_norm(where(big, x, 0.0), p, dims, keepdim=True)
    factor = where(big, maxnorm / (norms + 1e-7), 1.0)
    return (x * factor).contiguous()     # (PyTorch's result is contiguous whatever x's layout)


def renorm(input, p, dim, maxnorm):
    """``input`` with each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to norm ``maxnorm``."""
    a = input._data
    if p <= 0:
        raise RuntimeError('renorm: non-positive-norm not supported')
    if maxnorm < 0:
        raise RuntimeError(f'renorm: expected maxnorm to be >= 0 but got {maxnorm}')
    if a.ndim < 2:
        raise RuntimeError(f'renorm: input needs at least 2 dimensions, got {a.ndim} dimensions')
    if a.dtype.kind != 'f':
        raise RuntimeError(f'linalg.vector_norm: Expected a floating point or complex tensor as input. Got '
                           f'{input.dtype}')
    d = wrap_dim(dim, a.ndim)
    return _composite.composite(_RenormBackward0, _renorm_compose, (input,), p=p, d=d, maxnorm=maxnorm)


def sum_to_size(input, *size):
    """``input`` summed down to ``size`` (which must expand to input's shape): self when it already has it."""
    from ._util import shape_arg
    size = tuple(shape_arg(size))
    shape = tuple(input._data.shape)
    lead = len(shape) - len(size)
    if lead < 0 or [s for s, t in zip(size, shape[lead:]) if s != 1 and s != t]:
        raise RuntimeError(f'size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.')
    if not size:   # (before the equal-shape case: a 0-d integer tensor gives its int64 sum, as PyTorch's)
        return input.sum()
    if size == shape:
        return input
    keep = tuple(lead + k for k, s in enumerate(size) if s == 1 and shape[lead + k] != 1)
    r = input.sum(tuple(range(lead)) + keep, keepdim=True) if lead or keep else input
    return r.view(size) if lead else r

