"""All tensor ops, and their binding as ``Tensor`` methods and operators."""
import numpy as _np

from . import pointwise, reduction, shape, indexing, blas, creation, random, inplace, special
from .. import _sparse
from . import _old_overloads
from .pointwise import *  # noqa: F401,F403
from .pointwise import (add, sub, rsub, mul, div, pow, neg, abs, clamp, where, maximum, minimum, eq, ne, lt, le,
                        gt, ge, floor_divide, remainder, logical_not, bitwise_not, bitwise_and, bitwise_or,
                        bitwise_xor, round, bitwise_left_shift, bitwise_right_shift, fmax, fmin)
from .reduction import (sum, mean, prod, max, min, amax, amin, argmax, argmin, var, std, norm, logsumexp,
                        softmax, log_softmax, cumsum, cumprod, all, any, vector_norm, return_types, kthvalue,
                        mode)
from .shape import (view, reshape, flatten, unflatten, squeeze, unsqueeze, transpose, t, permute, expand,
                    expand_as, repeat, clone, contiguous, to, flip, cat, stack, split, chunk, unbind, narrow,
                    movedim, view_as, reshape_as, type_as, repeat_interleave, roll, select, ravel)
from .indexing import (getitem, setitem, gather, scatter, scatter_add, index_select, masked_fill, nonzero,
                       masked_select, sort, argsort, topk, index_put, take, tril, triu, index_add)
from .blas import matmul, mm, bmm, mv, dot, outer, einsum, addmm, linear, trace
from .creation import (tensor, as_tensor, from_numpy, frombuffer, from_file, zeros, ones, empty, full, zeros_like, ones_like,
                       empty_like, full_like, eye, arange, linspace)
from .random import rand, randn, randint, randperm, manual_seed, Generator, uniform_, normal_
from .inplace import make_inplace, make_reshape_inplace, zero_, fill_, copy_
from .special import lgamma, digamma, polygamma, xlogy, mvlgamma, logit, sinc, i0, igamma, igammac
from .nn_forms import *  # noqa: F401,F403
from .matrices import tril_indices, triu_indices, rot90, kron, block_diag, diag_embed, cartesian_prod
from .indexed import index_copy, index_fill, masked_scatter, scatter_reduce, isin
from . import matrices, indexed
from .composites import (combinations, cov, corrcoef, copysign, signbit, heaviside, unique_consecutive,
                         unravel_index)
from . import composites
from .quantiles import quantile, nanquantile
from .layout_ops import as_strided_scatter
from . import layout_ops
from . import frontdoor
from .frontdoor import (empty_strided, empty_permuted, nonzero_static, msort, split_with_sizes, trapezoid, trapz, cumulative_trapezoid, vander, gradient,
                        narrow_copy)
globals().update(frontdoor.COPY_FORMS)
row_stack, arctan2 = shape.vstack, pointwise.atan2
from ..tensor import Tensor

diagonal = indexing.diagonal_
diag = indexing.diag


def _eq_operator(self, other):
    """``t == other``; an operand that is no tensor, number or ndarray (a list, a string, None) is not one, so
    Python compares identities (False), as PyTorch. The wrapper costs one frame: 0.66 -> 0.69 us for ``t == u``
    on 4 elements. An ndarray is compared as a tensor (``==`` is the one operator PyTorch takes it for; ``eq``
    itself refuses one, see _util.as_operand)."""
    if isinstance(other, _np.ndarray):
        from .creation import _native
        other = Tensor._make(_native(other))
    try:
        return eq(self, other)
    except TypeError:
        if not isinstance(other, Tensor):
            return NotImplemented
        raise


def _ne_operator(self, other):
    """``t != other`` (True for a list or a string, as PyTorch; for an ndarray too, see _numpy_operand)."""
    if isinstance(other, _np.ndarray):
        return NotImplemented
    try:
        return ne(self, other)
    except TypeError:
        if not isinstance(other, Tensor):
            return NotImplemented
        raise


def _numpy_operand(fn):
    """Tensor operator ``fn`` giving an ndarray operand to NumPy, as PyTorch's operators do: they return
    NotImplemented for one, so ``t + a`` is NumPy's ``a.__radd__(t)`` on the tensor's array (NumPy's promotion:
    a float32 tensor plus an int64 array is float64; a tensor that requires grad refuses, as its ``__array__``
    does), made a tensor by ``Tensor.__array_wrap__``; ``a + t`` is a TypeError (NumPy defers to the tensor's
    ``__array_priority__``, which declines), and ``t += a`` rebinds t to ``t + a``. ``==`` takes the array as
    a tensor in PyTorch, and ``a / t`` is ``t.reciprocal() * a``; add, sub, mul and div test it in their own
    slow path (``binary``'s ``operator``, and the comparisons', ``+=``'s and ``-=``'s), keeping them one call.
    An operand of another type that the op refuses (TypeError) is NotImplemented too, as PyTorch's operators turn
    that TypeError into: Python then asks the operand (``t @ m`` is ``m.__rmatmul__(t)``, as TransformerLens'
    FactoredMatrix needs) or says "unsupported operand type(s)"."""
    def operator(self, other):
        if isinstance(other, _np.ndarray):
            return NotImplemented
        try:
            return fn(self, other)
        except TypeError:
            if isinstance(other, Tensor):
                raise
            return NotImplemented
    operator.__name__ = getattr(fn, '__name__', 'operator')
    operator.__doc__ = fn.__doc__
    return operator


def _rtruediv(self, other):
    """``other / t``: PyTorch's ``t.reciprocal() * other`` (NumPy's product for an ndarray ``other``); an operand
    mul refuses is NotImplemented (Python's "unsupported operand type(s) for /"), as PyTorch's."""
    r = pointwise.reciprocal(self)
    if isinstance(other, _np.ndarray):
        return r * other
    try:
        return mul(r, other)
    except TypeError:
        if isinstance(other, Tensor):
            raise
        return NotImplemented


def _invert(self):
    """``~x``: logical not of bool, bitwise not of integers; PyTorch's TypeError for floating types."""
    if self._data.dtype.kind == 'f':
        raise TypeError('~ (operator.invert) is only implemented on integer and Boolean-type tensors')
    return logical_not(self) if self._data.dtype.kind == 'b' else bitwise_not(self)


def _storage_offset(t):
    """Elements from the start of the memory t shares with its base (0 for a tensor that owns its memory)."""
    from .shape import _memory_root
    a = t._data
    base = _memory_root(a)
    return (a.__array_interface__['data'][0] - base.__array_interface__['data'][0]) // a.itemsize if a.itemsize else 0


_COMPARISONS = ('eq', 'ne', 'lt', 'le', 'gt', 'ge')


def _recorded_comparison(fn, name):
    """The comparison ``fn`` for its in-place form: written into a tensor that requires grad, PyTorch records it
    as <Name>Backward0 (with a number) or <Name>Backward1 (with a tensor), zero gradients to its inputs (the
    tensor kept its old history, passing gradients through values it no longer holds)."""
    from ..autograd.grad_mode import GRAD

    def op(self, other):
        r = fn(self, other)
        tensor = isinstance(other, Tensor)
        if GRAD.enabled and (self.requires_grad or (tensor and other.requires_grad)):
            node = random._zero_node(f'{name.capitalize()}Backward{int(tensor)}')((self, other) if tensor else (self,))
            r = Tensor._make(r._data, node)
        return r
    return op


def _bind():
    """Attach ops to ``Tensor`` as methods, operators and in-place variants (PyTorch's method names)."""
    T = Tensor
    methods = dict(
        add=add, sub=sub, subtract=sub, mul=mul, multiply=mul, div=div, divide=div, true_divide=div, pow=pow,
        neg=neg, negative=neg, abs=abs, absolute=abs, clamp=clamp, clip=clamp, maximum=maximum, minimum=minimum,
        eq=eq, ne=ne, lt=lt, le=le, gt=gt, ge=ge, greater=gt, less=lt, greater_equal=ge, less_equal=le,
        not_equal=ne, floor_divide=floor_divide, remainder=remainder, fmod=pointwise.fmod,
        logical_not=logical_not, logical_and=pointwise.logical_and, logical_or=pointwise.logical_or,
        logical_xor=pointwise.logical_xor, bitwise_not=bitwise_not, round=round, lerp=pointwise.lerp,
        addcmul=pointwise.addcmul, addcdiv=pointwise.addcdiv, clamp_min=pointwise.clamp_min,
        clamp_max=pointwise.clamp_max, isnan=pointwise.isnan, isinf=pointwise.isinf,
        isfinite=pointwise.isfinite, allclose=pointwise.allclose, isclose=pointwise.isclose,
        equal=pointwise.equal, nan_to_num=pointwise.nan_to_num, atan2=pointwise.atan2,
        sum=sum, mean=mean, prod=prod, max=max, min=min, amax=amax, amin=amin, argmax=argmax, argmin=argmin,
        var=var, std=std, norm=reduction.norm_method, logsumexp=logsumexp, softmax=reduction.softmax_method,
        log_softmax=reduction.log_softmax_method,
        cumsum=cumsum, cumprod=cumprod, all=all, any=any, nansum=reduction.nansum, nanmean=reduction.nanmean,
        count_nonzero=reduction.count_nonzero, aminmax=reduction.aminmax, median=reduction.median,
        nanmedian=reduction.nanmedian,
        view=view, reshape=reshape, flatten=flatten, unflatten=unflatten, squeeze=squeeze, unsqueeze=unsqueeze,
        transpose=transpose, swapaxes=transpose, swapdims=transpose, t=t, permute=permute, expand=expand,
        expand_as=expand_as, repeat=repeat, clone=clone, contiguous=contiguous, to=to, flip=shape.flip_method,
        fliplr=shape.fliplr, flipud=shape.flipud, split=shape.split_method, chunk=chunk, unbind=unbind, narrow=narrow,
        movedim=movedim, moveaxis=movedim, view_as=view_as, reshape_as=reshape_as, type_as=type_as,
        repeat_interleave=repeat_interleave, roll=roll, tensor_split=shape.tensor_split,
        float=shape.float_, double=shape.double, half=shape.half, long=shape.long, int=shape.int_,
        short=shape.short, char=shape.char, byte=shape.byte, bool=shape.bool_,
        gather=gather, scatter=scatter, scatter_add=scatter_add, index_select=index_select,
        masked_fill=masked_fill, masked_select=masked_select, nonzero=nonzero, sort=sort, argsort=argsort,
        topk=topk, index_put=index_put, take=take, tril=tril, triu=triu, diagonal=diagonal, diag=diag,
        unique=indexing.unique, bincount=indexing.bincount, argwhere=indexing.argwhere,
        matmul=matmul, mm=mm, bmm=bmm, mv=mv, dot=dot, outer=outer, ger=outer, addmm=addmm, inner=blas.inner,
        uniform_=uniform_, normal_=normal_, bernoulli_=random.bernoulli_, exponential_=random.exponential_,
        random_=random.random_, bernoulli=random.bernoulli, multinomial=random.multinomial,
        cauchy_=random.cauchy_, log_normal_=random.log_normal_, geometric_=random.geometric_,
        zero_=zero_, fill_=fill_, copy_=copy_, __getitem__=getitem, __setitem__=setitem,
    )
    for name in ('exp', 'exp2', 'expm1', 'log', 'log2', 'log10', 'log1p', 'sqrt', 'rsqrt', 'reciprocal', 'sin',
                 'cos', 'tan', 'asin', 'acos', 'atan', 'arcsin', 'arccos', 'arctan', 'sinh', 'cosh', 'tanh',
                 'sigmoid', 'relu', 'sign', 'sgn', 'floor', 'ceil', 'trunc', 'frac', 'square', 'erf', 'erfc',
                 'erfinv'):
        methods[name] = getattr(pointwise, name)
    for name, fn in methods.items():
        setattr(T, name, fn)

    for name in ('add', 'sub', 'subtract', 'mul', 'multiply', 'div', 'divide', 'true_divide', 'pow', 'neg',
                 'negative', 'abs', 'absolute', 'clamp', 'clip', 'exp', 'exp2', 'expm1', 'log', 'log2', 'log10',
                 'log1p', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh',
                 'cosh', 'tanh', 'sigmoid', 'relu', 'sign', 'floor', 'ceil', 'trunc', 'frac', 'square', 'erf', 'erfc', 'erfinv',
                 'clamp_min', 'clamp_max', 'masked_fill', 'scatter', 'scatter_add', 'lerp', 'addcmul', 'addcdiv',
                 'floor_divide', 'remainder', 'fmod', 'round', 'index_put', 'logical_not',
                 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'atan2', 'nan_to_num', 'fill_diagonal'):
        if hasattr(T, name):
            fn = _recorded_comparison(getattr(T, name), name) if name in _COMPARISONS else getattr(T, name)
            setattr(T, name + '_', make_inplace(fn, name + '_'))
    T.relu_ = pointwise._fast_relu_(T.relu_)
    T.masked_fill_ = make_inplace(indexing.masked_fill_self_first, 'masked_fill_')
    for name in ('unsqueeze', 'squeeze', 't', 'transpose', 'resize'):
        if hasattr(T, name):
            setattr(T, name + '_', make_reshape_inplace(getattr(T, name), name + '_'))
    for name in ('bitwise_and', 'bitwise_or', 'bitwise_xor'):   # PyTorch's methods and in-place forms of these too
        setattr(T, name, getattr(pointwise, name))
    T.dist, T.broadcast_to, T.take_along_dim = reduction.dist, shape._broadcast_to_method, indexing.take_along_dim
    T.addmv, T.baddbmm = blas.addmv, blas.baddbmm
    for name in ('logical_and', 'logical_or', 'logical_xor', 'bitwise_and', 'bitwise_or', 'bitwise_xor', 'bitwise_not',
                 'sgn', 'tril', 'triu', 'addmm', 'addmv', 'baddbmm'):
        setattr(T, name + '_', make_inplace(getattr(T, name), name + '_'))
    T.cumsum_, T.cumprod_ = reduction.cumsum_, reduction.cumprod_
    T.requires_grad_ = Tensor.requires_grad_
    T.add_ = inplace.make_accumulate(T.add, 'add_', _np.add, mul)
    T.sub_ = inplace.make_accumulate(T.sub, 'sub_', _np.subtract, mul)
    for name in ('addcmul', 'addcdiv', 'addcmul_', 'addcdiv_'):   # add/sub: their *old, add_/sub_: make_accumulate
        setattr(T, name, _old_overloads.accepting(getattr(T, name), name))
    T.__iadd__, T.__isub__, T.__imul__ = T.add_.operator, T.sub_.operator, _numpy_operand(T.mul_)
    T.__itruediv__, T.__ifloordiv__ = _numpy_operand(T.div_), _numpy_operand(T.floor_divide_)
    T.__imod__, T.__ipow__ = _numpy_operand(T.remainder_), _numpy_operand(T.pow_)
    T.__iand__ = _numpy_operand(make_inplace(bitwise_and, '__iand__'))
    T.__ior__ = _numpy_operand(make_inplace(bitwise_or, '__ior__'))
    T.__ixor__ = _numpy_operand(make_inplace(bitwise_xor, '__ixor__'))

    T.__add__ = T.__radd__ = pointwise._add.operator
    T.__sub__ = pointwise._sub.operator
    T.__rsub__ = pointwise.rsub_.operator
    T.__mul__ = T.__rmul__ = mul.operator
    T.__truediv__ = pointwise._div.operator
    T.__rtruediv__ = _rtruediv
    T.__floordiv__ = _numpy_operand(floor_divide)
    T.__rfloordiv__ = _numpy_operand(lambda self, other: floor_divide(other, self))
    T.__mod__ = _numpy_operand(remainder)
    T.__rmod__ = _numpy_operand(lambda self, other: remainder(other, self))
    T.__pow__ = _numpy_operand(pow)
    T.__rpow__ = _numpy_operand(lambda self, other: pow(other, self))
    T.__matmul__ = _numpy_operand(matmul)
    T.__rmatmul__ = _numpy_operand(lambda self, other: matmul(other, self))
    T.__neg__ = neg
    T.__pos__ = lambda self: self
    T.__abs__ = abs
    T.__invert__ = _invert
    T.__and__ = T.__rand__ = _numpy_operand(bitwise_and)
    T.__or__ = T.__ror__ = _numpy_operand(bitwise_or)
    T.__xor__ = T.__rxor__ = _numpy_operand(bitwise_xor)
    T.__eq__ = _eq_operator
    T.__ne__ = _ne_operator
    T.__lt__, T.__le__, T.__gt__, T.__ge__ = lt.operator, le.operator, gt.operator, ge.operator
    T.__hash__ = lambda self: id(self)
    T.T = property(shape.T_)
    T.mT = property(shape.mT_)
    T.H = property(shape.H_)
    T.mH = property(shape.mH_)
    T.adjoint = shape.adjoint
    T.new_tensor, T.new_zeros, T.new_ones = creation.new_tensor, creation.new_zeros, creation.new_ones
    T.new_empty, T.new_full = creation.new_empty, creation.new_full
    T.new, T.resize_ = creation.new, inplace.resize_
    T.resize_as_, T.as_strided_, T.set_ = inplace.resize_as_, inplace.as_strided_, inplace.set_
    T.to_sparse, T.to_dense = _sparse.to_sparse, _sparse.to_dense
    T.to_sparse_csr, T.to_sparse_csc = _sparse.to_sparse_csr, _sparse.to_sparse_csc
    T.sparse_mask = _sparse.sparse_mask
    T.select, T.ravel, T.index_add = select, ravel, index_add
    T.index_add_ = make_inplace(index_add, 'index_add_')
    T.where = pointwise._where_method
    T.bitwise_left_shift, T.bitwise_right_shift = bitwise_left_shift, bitwise_right_shift
    T.bitwise_left_shift_ = make_inplace(bitwise_left_shift, 'bitwise_left_shift_')
    T.bitwise_right_shift_ = make_inplace(bitwise_right_shift, 'bitwise_right_shift_')
    T.__lshift__, T.__rshift__ = _numpy_operand(bitwise_left_shift), _numpy_operand(bitwise_right_shift)
    T.__rlshift__ = _numpy_operand(lambda self, other: bitwise_left_shift(other, self))
    T.__rrshift__ = _numpy_operand(lambda self, other: bitwise_right_shift(other, self))
    T.__ilshift__ = _numpy_operand(T.bitwise_left_shift_)
    T.__irshift__ = _numpy_operand(T.bitwise_right_shift_)
    T.fmax, T.fmin, T.trace, T.kthvalue, T.mode = fmax, fmin, trace, kthvalue, mode
    for name in ('asinh', 'acosh', 'atanh', 'arcsinh', 'arccosh', 'arctanh', 'deg2rad', 'rad2deg', 'hypot'):
        setattr(T, name, getattr(pointwise, name))
        setattr(T, name + '_', make_inplace(getattr(pointwise, name), name + '_'))
    T.logaddexp, T.logaddexp2 = pointwise.logaddexp, pointwise.logaddexp2
    T.tile, T.unfold, T.diff = shape._tile_method, shape.unfold, shape.diff
    T.cummax, T.cummin = reduction.cummax, reduction.cummin
    T.unsafe_split, T.unsafe_chunk = shape.unsafe_split, shape.unsafe_chunk
    T.unsafe_split_with_sizes = shape.unsafe_split_with_sizes
    T.logcumsumexp, T.rot90, T.kron, T.diag_embed = reduction.logcumsumexp, rot90, kron, diag_embed
    T.fill_diagonal_ = matrices.fill_diagonal_
    for fn in (cov, corrcoef, copysign, signbit, heaviside, unique_consecutive):
        setattr(T, fn.__name__, fn)
    T.quantile, T.nanquantile = quantile, nanquantile
    T.as_strided = shape.as_strided
    T.as_strided_scatter, T.dim_order = as_strided_scatter, layout_ops.dim_order
    T.copysign_, T.heaviside_ = make_inplace(copysign, 'copysign_'), make_inplace(heaviside, 'heaviside_')
    T.storage_offset = lambda self: _storage_offset(self)
    for name, fn in (('index_copy', index_copy), ('index_fill', index_fill), ('masked_scatter', masked_scatter),
                     ('scatter_reduce', scatter_reduce)):
        setattr(T, name, fn)
        setattr(T, name + '_', make_inplace(fn, name + '_'))
    for name in ('ldexp', 'nextafter', 'gcd', 'lcm'):
        setattr(T, name, getattr(pointwise, name))
        setattr(T, name + '_', make_inplace(getattr(pointwise, name), name + '_'))
    T.float_power, T.float_power_ = pointwise.float_power, pointwise._float_power_
    T.frexp, T.isposinf, T.isneginf, T.isreal = pointwise.frexp, pointwise.isposinf, pointwise.isneginf, pointwise.isreal
    T.vsplit, T.hsplit, T.dsplit, T.diagflat = shape.vsplit, shape.hsplit, shape.dsplit, indexing.diagflat
    for mod, names in ((indexing, ('index_reduce', 'put')), (reduction, ('renorm',)), (blas, ('addr', 'addbmm'))):
        for name in names:
            setattr(T, name, getattr(mod, name))
            setattr(T, name + '_', make_inplace(getattr(mod, name), name + '_'))
    T.select_scatter, T.slice_scatter = indexing.select_scatter, indexing.slice_scatter
    T.diagonal_scatter, T.sum_to_size = indexing.diagonal_scatter, reduction.sum_to_size
    _bind_frontdoor(T)
    _bind_method_forms(T)


def _bind_method_forms(T):
    """The binary ops' method forms, whose argument errors count from ``other`` as PyTorch's methods do
    (``t.mul(a)``: "argument 'other' (position 1)"); bound last, the in-place variants having wrapped the
    function forms (make_inplace rewords their errors itself)."""
    T.add, T.sub, T.div = pointwise._add_method, pointwise._sub_method, pointwise._div_method
    T.subtract, T.divide, T.true_divide = T.sub, T.div, T.div
    for name in ('mul', 'maximum', 'minimum', 'atan2', 'arctan2', 'hypot', 'logical_and', 'logical_or',
                 'logical_xor', 'fmax', 'fmin', 'nextafter', 'ldexp', 'logaddexp', 'logaddexp2'):
        method = getattr(getattr(T, name), 'method', None)
        if method is not None:
            setattr(T, name, method)
    T.multiply = T.mul


def _bind_frontdoor(T):
    """Tensor methods PyTorch has under more names, and frontdoor's methods."""
    from .._torch_forms import positive
    for name in ('new_empty_strided', 'msort', 'split_with_sizes', 'narrow_copy', 'is_nonzero', 'apply_', 'map_',
                 'nonzero_static'):
        setattr(T, name, getattr(frontdoor, name))
    T.arctan2, T.arctan2_ = T.atan2, T.atan2_
    T.greater_, T.greater_equal_, T.less_, T.less_equal_, T.not_equal_ = T.gt_, T.ge_, T.lt_, T.le_, T.ne_
    T.swapaxes_ = T.swapdims_ = T.transpose_
    T.positive = positive
    T.polygamma_ = make_inplace(lambda self, n: polygamma(n, self), 'polygamma_')
    T.mvlgamma_ = make_inplace(mvlgamma, 'mvlgamma_')
    for name in ('asinh', 'acosh', 'atanh'):
        for alias in (name, 'arc' + name[1:]):
            fn = frontdoor.inplace_without_derivative(getattr(pointwise, name), name)
            setattr(T, alias + '_', make_inplace(fn, alias + '_'))


_bind()

_HELPERS = {'Tensor', 'make_inplace', 'make_reshape_inplace', 'getitem', 'setitem',
            # Tensor methods (and F.linear, linalg.vector_norm) that PyTorch has no torch-level function for:
            # `import ember as torch` code calling torch.view(...) fails as it does on PyTorch
            'contiguous', 'copy_', 'expand', 'expand_as', 'linear', 'normal_', 'repeat', 'reshape_as', 'rsub_', 'to',
            'type_as', 'uniform_', 'vector_norm', 'view', 'view_as'}
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith('_') and _n not in _HELPERS and not isinstance(_v, type(pointwise))]

# ember.ops is also torch.ops (the torch alias makes ``torch.ops`` this package): its own names, and any other
# name an operator namespace (``torch.ops.aten``), see ember/_torch_ops.py. Bound after __all__: not torch's.
from .._torch_ops import load_library, loaded_libraries, import_module  # noqa: E402


def __getattr__(name):
    """``torch.ops.<name>``: a submodule of ember.ops not imported yet (``from ember.ops import _reparam``), else
    the operator namespace ``name`` (kept, so that the next lookup finds it). A private name is a namespace only
    once torch.library defined operators in it: tools probe modules for such names (``_is_coroutine``)."""
    import importlib.util
    from .. import _torch_ops
    if not name.startswith('__') and importlib.util.find_spec(f'{__name__}.{name}') is not None:
        return importlib.import_module(f'{__name__}.{name}')
    if name.startswith('__') or (name.startswith('_') and not _torch_ops.has_operators(name)):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = space = _torch_ops.namespace(name)
    return space
