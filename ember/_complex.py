"""Complex tensors (complex64, complex128) on NumPy's complex arrays, and the guard that keeps ops written for real
numbers from giving a silently wrong answer on them.

A complex tensor's array is a ``ComplexArray``, an ndarray subclass. Its ``__array_ufunc__`` runs only the ufuncs
whose complex meaning is PyTorch's (arithmetic, exp/log/sqrt, trigonometry, equality, sums and products) and
refuses the rest (comparisons, max/min, floor, sign, ...: NumPy orders complex numbers lexicographically where
PyTorch has no order); its ``__array_function__`` refuses NumPy's sorts, arg-extrema, clips and quantiles; its
``astype`` refuses a cast to a real dtype (which would drop the imaginary part where an op written for real
numbers casts its input). The error names the ember op that was called, found on the call stack. Real tensors
never meet any of this (plain ndarrays), so their ops pay nothing for it.
"""
import sys

import numpy as np

from ._meta import MetaArray

C64, C128 = np.dtype(np.complex64), np.dtype(np.complex128)

# ufunc -> the methods allowed on complex operands ('__call__' elementwise, 'reduce' for sums and products...)
_CALL = ('__call__',)
_ALLOWED = {u: _CALL for u in (
    np.subtract, np.true_divide, np.negative, np.positive, np.conjugate, np.absolute, np.exp, np.exp2,
    np.expm1, np.log, np.log2, np.log10, np.log1p, np.sqrt, np.square, np.reciprocal, np.power, np.float_power,
    np.sin, np.cos, np.tan, np.arcsin, np.arccos, np.arctan, np.sinh, np.cosh, np.tanh, np.arcsinh, np.arccosh,
    np.arctanh, np.equal, np.not_equal, np.isnan, np.isinf, np.isfinite, np.logical_not, np.matmul, np.vecdot)}
_ALLOWED.update({np.add: ('__call__', 'reduce', 'accumulate', 'at', 'reduceat'),
                 np.multiply: ('__call__', 'reduce', 'accumulate', 'outer'),
                 np.logical_and: ('__call__', 'reduce'), np.logical_or: ('__call__', 'reduce'),
                 np.logical_xor: ('__call__',)})

# NumPy functions whose complex answer is not PyTorch's (PyTorch refuses complex there)
_REFUSED = {np.sort, np.argsort, np.argmax, np.argmin, np.max, np.min, np.amax, np.amin, np.clip, np.partition,
            np.argpartition, np.median, np.percentile, np.quantile, np.nanmax, np.nanmin, np.nanargmax,
            np.nanargmin, np.nanmedian, np.nanpercentile, np.nanquantile, np.searchsorted, np.lexsort, np.ptp,
            np.round, np.around, np.fix, np.histogram, np.histogram_bin_edges, np.unique, np.sign, np.floor,
            np.ceil, np.trunc, np.maximum, np.minimum, np.fmax, np.fmin, np.heaviside, np.copysign}

_KERNEL = {np.dtype(np.complex64): 'ComplexFloat', np.dtype(np.complex128): 'ComplexDouble'}


_GENERIC = {'op', 'f', 'fn', 'wrapper', 'method', 'inner', 'call', 'forward', 'apply', 'gated'}   # (gated: _shell's dtype gates)


def _op_name():
    """The op the user called: the outermost ember frame with a telling name (a generic wrapper's closure
    variable ``name`` when it has one, else the function's own name; private helpers and wrappers skipped)."""
    f = sys._getframe(2)
    name = None
    while f is not None:
        mod = f.f_globals.get('__name__', '')
        if mod.startswith('ember.') and mod != __name__:
            cand = f.f_locals.get('name') if f.f_code.co_name in _GENERIC else f.f_code.co_name
            if isinstance(cand, str) and cand.isidentifier() and not cand.startswith('_') and cand not in _GENERIC:
                name = cand
        elif name is not None:
            break
        f = f.f_back
    return name


def refuse(what, dt=C64):
    """The error for an op ember does not run on complex tensors (named after ``what`` or the calling op)."""
    op = _op_name() or what
    return NotImplementedError(f'"{op}" is not supported for complex tensors by ember '
                               f'({_KERNEL.get(np.dtype(dt), "Complex")}; NumPy {what})')


def _plain(x):
    return x.view(np.ndarray) if isinstance(x, ComplexArray) else x


def wrap(r):
    """A NumPy result: complex arrays (and complex scalars) as ComplexArray, anything else unchanged."""
    if isinstance(r, np.ndarray):
        if r.dtype.kind == 'c':
            return r if type(r) is ComplexArray else r.view(ComplexArray)
        return r.view(np.ndarray) if type(r) is ComplexArray else r
    if isinstance(r, np.complexfloating):
        return np.asarray(r).view(ComplexArray)
    if isinstance(r, tuple):
        return tuple(wrap(x) for x in r)
    return r


def _dtype_of(inputs):
    for x in inputs:
        if isinstance(x, np.ndarray) and x.dtype.kind == 'c':
            return x.dtype
    return C64


class ComplexArray(np.ndarray):
    """A complex tensor's array: NumPy calls whose complex meaning differs from PyTorch's raise (see module doc)."""

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if method not in _ALLOWED.get(ufunc, ()):
            raise refuse(ufunc.__name__ if method == '__call__' else f'{ufunc.__name__}.{method}', _dtype_of(inputs))
        args = [_plain(x) for x in inputs]
        if out is not None:
            kwargs['out'] = tuple(_plain(o) for o in out)
        r = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return wrap(r)

    def __array_function__(self, func, types, args, kwargs):
        if func in _REFUSED:
            raise refuse(func.__name__, self.dtype)
        return wrap(super().__array_function__(func, (np.ndarray,), _plain_args(args), _plain_args(kwargs)))

    def __getitem__(self, key):
        r = np.ndarray.__getitem__(self, key)
        return r if isinstance(r, np.ndarray) else np.asarray(r).view(ComplexArray)

    @property
    def real(self):
        return self.view(np.ndarray).real

    @property
    def imag(self):
        return self.view(np.ndarray).imag

    def astype(self, dtype, *args, **kwargs):
        """To a complex dtype: a cast; to a real one: refused (it would drop the imaginary part)."""
        dtype = np.dtype(dtype)
        if dtype.kind != 'c':
            raise refuse(f'cast to {dtype}', self.dtype)
        return wrap(self.view(np.ndarray).astype(dtype, *args, **kwargs))


def _refused(name):
    """An ndarray method that is refused on complex arrays (it orders or rounds complex numbers)."""
    def method(self, *args, **kwargs):
        raise refuse(name, self.dtype)
    method.__name__ = name
    return method


for _name in ('argmax', 'argmin', 'sort', 'argsort', 'max', 'min', 'clip', 'partition', 'argpartition', 'round',
              'ptp', 'searchsorted'):
    setattr(ComplexArray, _name, _refused(_name))


def _plain_args(x):
    if isinstance(x, ComplexArray):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(_plain_args(v) for v in x)
    if isinstance(x, dict):
        return {k: _plain_args(v) for k, v in x.items()}
    return x


def discard_imag(a, np_dtype):
    """The real parts of complex array ``a`` cast to ``np_dtype`` (an explicit ``.to(real)``, as PyTorch's); to bool
    whether the value is nonzero (1j is True)."""
    if np.dtype(np_dtype) == np.bool_:
        return np.asarray(a) != 0
    return np.asarray(a).real.astype(np_dtype)


def adopt(arr):
    """A tensor's array: a plain complex array becomes a ComplexArray view (same memory)."""
    if arr.dtype.kind == 'c' and type(arr) is not ComplexArray:
        return arr.view(ComplexArray)
    return arr


def real_view(a):
    """The real parts of complex array ``a`` as a plain float view (``Tensor.real``); a meta array's stay meta."""
    r = a.view(np.ndarray).real
    return r.view(MetaArray) if type(a) is MetaArray else r


def imag_view(a):
    """The imaginary parts of complex array ``a`` as a plain float view (``Tensor.imag``); a meta array's stay
    meta."""
    r = a.view(np.ndarray).imag
    return r.view(MetaArray) if type(a) is MetaArray else r


# grad_fn names whose backward follows PyTorch's convention for complex numbers (conjugate Wirtinger calculus)
GRAD_OK = set()


# grad_fn names whose real backward formula is, read over the complex numbers, the holomorphic derivative:
# conjugating the incoming gradient and the outgoing ones gives PyTorch's gradient for complex numbers,
# g * conj(f'(z)) (see ``_variant``)
HOLOMORPHIC = frozenset((
    'AddBackward0', 'AddBackward1', 'SubBackward0', 'SubBackward1', 'RsubBackward0', 'RsubBackward1', 'MulBackward0',
    'MulBackward1', 'DivBackward0', 'DivBackward1', 'NegBackward0', 'PowBackward0', 'PowBackward1', 'PowBackward2',
    'ReciprocalBackward0', 'ExpBackward0', 'Exp2Backward0', 'Expm1Backward0', 'LogBackward0', 'Log2Backward0',
    'Log10Backward0', 'Log1PBackward0', 'SqrtBackward0', 'RsqrtBackward0', 'SinBackward0', 'CosBackward0',
    'TanBackward0', 'SinhBackward0', 'CoshBackward0', 'TanhBackward0', 'SigmoidBackward0', 'AsinBackward0',
    'AcosBackward0', 'AtanBackward0', 'AsinhBackward0', 'AcoshBackward0', 'AtanhBackward0', 'MmBackward0',
    'MvBackward0', 'BmmBackward0', 'DotBackward0', 'AddmmBackward0', 'AddmvBackward0', 'AddbmmBackward0',
    'BaddbmmBackward0', 'AddrBackward0', 'LinalgMatmulBackward0', 'AddcmulBackward0', 'AddcdivBackward0',
    'ToCopyBackward0', 'CopySlices', 'torch::autograd::CopySlices', 'EinsumBackward0', 'LerpBackward0',
    'LerpBackward1', 'LogaddexpBackward0', 'LogsumexpBackward0', 'LinalgInvExBackward0', 'LinalgSolveExBackward0',
    'ProdBackward0', 'ProdBackward1', 'CumprodBackward0', 'LinalgDetBackward0', 'LinalgMatrixExpBackward0'))


# grad_fn names whose backward is a linear map with real coefficients (views, copies, sums, indexing, padding):
# right for complex gradients as it is, and run without ``_variant``'s conjugations, which would turn the zeros it
# fills in (a slice's, a pad's cropped border) into 0-0j where PyTorch's are 0+0j
REAL_LINEAR = frozenset((
    'SumBackward0', 'SumBackward1', 'MeanBackward0', 'MeanBackward1', 'CumsumBackward0', 'ViewBackward0',
    'ReshapeAliasBackward0',
    'UnsafeViewBackward0', 'TransposeBackward0', 'TransposeBackward1', 'PermuteBackward0', 'TBackward0',
    'TBackward1', 'UnsqueezeBackward0', 'UnsqueezeBackward1', 'SqueezeBackward0', 'SqueezeBackward1',
    'SqueezeBackward2', 'SqueezeBackward3', 'SqueezeBackward4', 'SqueezeBackward5', 'ExpandBackward0',
    'SelectBackward0', 'SliceBackward0', 'IndexBackward0', 'CloneBackward0', 'CatBackward0', 'StackBackward0',
    'SplitBackward0', 'SplitWithSizesBackward0', 'UnsafeSplitBackward0', 'UnsafeSplitWithSizesBackward0',
    'UnbindBackward0', 'FlipBackward0', 'RollBackward0', 'RepeatBackward0', 'AsStridedBackward0', 'AliasBackward0',
    'TrilBackward0', 'TriuBackward0', 'SelectScatterBackward0', 'SliceScatterBackward0', 'DiagonalScatterBackward0',
    'ZeroBackward0', 'ScatterAddBackward0', 'WhereBackward0', 'MaskedFillBackward0', 'MaskedFillBackward1',
    'FillBackward0', 'FillBackward1', 'FillBackward2', 'FillBackward3', 'ConstantPadNdBackward0',
    'ReflectionPad1DBackward0', 'ReflectionPad2DBackward0', 'ReflectionPad3DBackward0', 'ReplicationPad1DBackward0',
    'ReplicationPad2DBackward0', 'ReplicationPad3DBackward0', 'DiagEmbedBackward0', 'DiagonalBackward0',
    'TraceBackward0', 'IndexSelectBackward0', 'GatherBackward0', 'TakeBackward0', 'MaskedSelectBackward0',
    'DiagonalBackward0_copy', 'UnfoldBackward0', 'IndexPutBackward0'))
_VARIANTS = {}


def _conj(g):
    """The conjugate of a gradient (an array, a Tensor when create_graph records, or None); real ones as they are."""
    if g is None:
        return None
    if isinstance(g, (np.ndarray, np.generic)):     # a 0-d result's arithmetic gives NumPy scalars
        return np.conjugate(g) if g.dtype.kind == 'c' else g
    return g.conj() if g.is_complex() else g


def _variant(cls):
    """``cls`` with its backward run between conjugations: a formula written for real numbers, f'(z) * g, becomes
    conj(f'(z) * conj(g)) = g * conj(f'(z)), PyTorch's convention. Same name, same slots (the node's class is
    swapped when its result is complex, so real graphs never meet it)."""
    v = _VARIANTS.get(cls)
    if v is None:
        base = cls.backward

        def backward(self, *grads):
            out = base(self, *[_conj(g) for g in grads])
            return tuple(_conj(o) for o in out) if type(out) is tuple else _conj(out)
        v = _VARIANTS[cls] = type(cls.__name__, (cls,), {'__slots__': (), 'backward': backward,
                                                          '__doc__': f'{cls.__name__} on complex numbers.'})
    return v


def check_grad(node):
    """A node recorded for a complex result: kept when written for complex numbers or real-linear, made so by
    ``_variant`` when its formula is holomorphic (by name, or by a class attribute ``holomorphic`` where the name
    is also a real-linear view's: a batched matmul's UnsafeViewBackward0), else refused (an error now rather than
    a wrong gradient later)."""
    name = node.name()
    holomorphic = name in HOLOMORPHIC or getattr(node, 'holomorphic', False)
    if not holomorphic and (name in GRAD_OK or name in REAL_LINEAR):
        return
    if holomorphic:
        if type(node) not in _VARIANTS.values():
            node.__class__ = _variant(type(node))
        return
    raise RuntimeError(f'{name}: ember does not differentiate this op on complex tensors yet (its backward is '
                       'written for real numbers). Run it under torch.no_grad() or on detached inputs.')


def check_leaf_grad():
    """Whether a complex leaf may require grad (once complex autograd is there)."""
    if not LEAF_GRAD[0]:
        raise RuntimeError('ember does not differentiate complex tensors yet: a complex tensor cannot require grad')


LEAF_GRAD = [True]


def real_only(fn, name, grad_only=False):
    """``fn`` refusing complex tensor arguments with an error naming ``name`` (ops whose implementation is written
    for real numbers: a transpose where PyTorch takes the conjugate transpose, a real-only LAPACK path...);
    ``grad_only``: refusing only those that require grad in grad mode (a forward right for complex numbers, a
    backward formula written for real ones)."""
    import functools
    from .autograd.grad_mode import GRAD

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        for a in args:
            d = getattr(a, '_data', None)
            if d is not None and d.dtype.kind == 'c':
                if not grad_only:
                    raise NotImplementedError(f'"{name}" is not supported for complex tensors by ember yet')
                if GRAD.enabled and a._requires_grad:
                    raise NotImplementedError(f'"{name}" is not supported for complex tensors that require grad '
                                              'by ember yet')
        try:
            return fn(*args, **kwargs)
        except Exception:
            from ._torch_function import handle_failed
            result = handle_failed(wrapper, args, kwargs)
            if result is not NotImplemented:
                return result
            from .ops._util import check_call
            check_call(name.replace('.', '_'), fn, args, kwargs)
            raise
    return wrapper


def refuse_in(namespace, prefix, names, grad_only=False):
    """Replace each of ``names`` in ``namespace`` (a module's globals) by its ``real_only`` form."""
    for n in names:
        namespace[n] = real_only(namespace[n], prefix + n, grad_only)
