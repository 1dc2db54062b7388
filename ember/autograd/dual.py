"""Helpers for backward formulas that work on NumPy arrays (a plain backward) and on Tensors
(``create_graph=True``). Operators (+ - * / ** @), indexing, ``.reshape``, ``.sum(axis=, keepdims=)``,
``.swapaxes`` and ``.astype``-free code work on both as they are; what differs is spelled here."""
import numpy as np

from .. import _bf16, _meta
from ..backend import gemm, keep, select
from ..ops._sumorder import ordered_sum


def is_array(x):
    """True for NumPy arrays and scalars (0-d results), False for Tensors."""
    return type(x) is np.ndarray or isinstance(x, (np.ndarray, np.generic))   # bf16: an ndarray subclass


def _T():
    from ..tensor import Tensor
    return Tensor


def _ops():
    from .. import ops
    return ops


def sum_to(g, shape):
    """Sum a broadcast gradient back to ``shape`` (the input's shape)."""
    gs = g.shape
    if gs == shape:
        return g
    if not shape and not is_array(g):   # PyTorch's sum_to: a whole sum (SumBackward0 where a reshape gives a view)
        return g.sum()
    lead = len(gs) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gs[i + lead] != 1)
    if axes:
        if not is_array(g):
            g = g.sum(axis=axes, keepdims=True)
        elif _bf16.is_bf16(g.dtype):    # PyTorch's bf16 gradient tensor: its values rounded, then their sum
            f = _bf16.to_f32(_bf16.adopt(g))   # added in float32 (a BF16Array's own sums round each step)
            r = ordered_sum(f, axes, True)
            g = _bf16.from_f32(f.sum(axis=axes, keepdims=True) if r is None else r)
        elif g.dtype == np.float16:     # added in float32 and rounded once, as PyTorch's (NumPy's add in float16)
            f = g.astype(np.float32)
            r = ordered_sum(f, axes, True)
            g = (f.sum(axis=axes, keepdims=True) if r is None else r).astype(np.float16)
        else:
            r = ordered_sum(g, axes, True)
            g = g.sum(axis=axes, keepdims=True) if r is None else r
    if lead:
        g = g.reshape(shape)
    return g


def expand(g, shape):
    """Broadcast ``g`` to ``shape`` (a new array, or an ExpandBackward node for tensors)."""
    if is_array(g):
        if type(g) is _meta.MetaArray:      # (a meta gradient: no memory at any shape)
            return _meta.placeholder(shape, g.dtype)
        out = np.empty(shape, g.dtype)
        out[...] = g
        # (a bf16 gradient stays a BF16Array: as a plain array of its non-native dtype, the next formula's NumPy
        # ops would give native float32 values, never rounded)
        return out if g.dtype.isnative else out.view(_bf16.BF16Array)
    return g.expand(shape)


def cast(g, np_dtype):
    """Cast a gradient to an input's dtype (for ops that promoted their inputs)."""
    if is_array(g):
        if g.dtype.kind == 'c' and np.dtype(np_dtype).kind != 'c':   # a real input of a complex op: the real part
            g = g.real
        if g.dtype == np_dtype:
            return g
        return _bf16.from_f32(g) if _bf16.is_bf16(np.dtype(np_dtype)) else g.astype(np_dtype)   # rounded to bf16
    from .._dtype import from_np
    if g._data.dtype.kind == 'c' and np.dtype(np_dtype).kind != 'c':
        g = g.real
    return g.to(from_np(np_dtype))


def permute(g, perm):
    return g.transpose(perm) if is_array(g) else g.permute(perm)


def matmul(a, b):
    """``a @ b``: through the BLAS thread policy for arrays (see ember.backend.gemm)."""
    if is_array(a) and is_array(b):
        return gemm(a, b)
    return a @ b


def zeros(shape, like):
    if is_array(like):
        return np.zeros(shape, like.dtype)
    return _ops().zeros(shape, dtype=like.dtype)


def where(cond, a, b):
    """Elementwise choice; ``cond`` is always a boolean array (never differentiated)."""
    if is_array(a) or is_array(b):
        return select(cond, a, b)
    T = _T()
    return _ops().where(T._make(cond), a, b)


def mask(g, cond):
    """g where cond is True, else +0 (same dtype as g; exact for negative and infinite g, as PyTorch)."""
    if is_array(g):
        return keep(cond, g)
    return g * _T()._make(cond.astype(g._data.dtype))


def _unary(np_fn, name):
    def f(x):
        if is_array(x):
            return np_fn(x)
        return getattr(_ops(), name)(x)
    f.__name__ = name
    f.__doc__ = f'{name} of an array or a tensor.'
    return f


exp = _unary(np.exp, 'exp')
log = _unary(np.log, 'log')


def _wide(np_fn):
    """``np_fn`` with a float32 array evaluated in float64 and rounded once, as the forward op is (NumPy's float32
    sin/cos can be 1 ulp off: SinBackward0 at 2.0 gave -0.41614681 where PyTorch's cos gives -0.41614684)."""
    def f(x):
        return np_fn(x.astype(np.float64)).astype(np.float32) if x.dtype == np.float32 else np_fn(x)
    return f


sin = _unary(_wide(np.sin), 'sin')
cos = _unary(_wide(np.cos), 'cos')
tanh = _unary(np.tanh, 'tanh')
sqrt = _unary(np.sqrt, 'sqrt')
cosh = _unary(np.cosh, 'cosh')
reciprocal = _unary(np.reciprocal, 'reciprocal')


def _sgn(x):
    """sign of a real array (0 at NaN, as PyTorch's sign); of a complex one z/|z| (0 at 0), which PyTorch's backward
    formulas use there (sgn)."""
    if x.dtype.kind == 'c':
        return np.sign(x.view(np.ndarray)).view(type(x))
    r = np.sign(x)
    nan = r != r
    return np.where(nan, 0, r).astype(r.dtype, copy=False) if nan.any() else r


sign = _unary(_sgn, 'sign')
sgn = _unary(_sgn, 'sgn')    # (PyTorch's formulas call sgn: its node is SgnBackward0)
abs = _unary(np.abs, 'abs')


def r16(x):
    """A bf16 array that one op of a backward formula made, rounded as that op's bf16 tensor is in PyTorch (NumPy
    calls on a BF16Array keep float32 until adopted); anything else as it is."""
    return _bf16.adopt(x) if type(x) is _bf16.BF16Array else x


def is_low(x):
    """True for a float16 or bfloat16 array (whose backward formulas round each op as PyTorch's tensors)."""
    return is_array(x) and (x.dtype == np.float16 or _bf16.is_bf16(x.dtype))


def wide(x):
    """The float32 values of a float16/bf16 array."""
    return _bf16.to_f32(_bf16.adopt(x)) if _bf16.is_bf16(x.dtype) else np.asarray(x, np.float32)


def narrow(v, dt):
    """Float32 values ``v`` rounded to the float16/bf16 dtype ``dt``, as an array of that dtype."""
    return _bf16.from_f32(v) if _bf16.is_bf16(dt) else np.asarray(v).astype(np.float16)


def rounder(dt):
    """v -> float32 values ``v`` rounded to float16/bf16 ``dt`` (still float32): one op of a low-precision formula."""
    if _bf16.is_bf16(dt):
        return lambda v: _bf16.round_f32(v).reshape(np.shape(v))
    return lambda v: np.asarray(v).astype(np.float16).astype(np.float32)


def scale(x, s):
    """x * s for a number s: on tensors C++'s mul.Scalar (MulBackward1), as PyTorch's formulas record it; a float16
    array times float32(s), rounded once, as PyTorch's kernel (NumPy would round s to float16 first)."""
    if is_array(x):
        if x.dtype == np.float16 and type(s) is float:
            return (x.astype(np.float32) * np.float32(s)).astype(np.float16)
        return x * s
    return _ops().pointwise._mul_scalar(x, s)


def shift(x, s):
    """x + s for a number s: on tensors C++'s add.Scalar (AddBackward1), as PyTorch's formulas record it."""
    return x + s if is_array(x) else _ops().pointwise._add_scalar(x, s)


def const(value, like):
    """An array or a (non-differentiable) tensor holding ``value`` in ``like``'s dtype."""
    arr = np.asarray(value, dtype=like.dtype if is_array(like) else like._data.dtype)
    return arr if is_array(like) else _T()._make(arr)


class _Ones(dict):
    """``ONE[x.dtype]``: 1 as an operand for ``x``, a read-only 0-d array of its dtype for a NumPy array (NumPy
    takes a Python number ~250 ns slower than a 0-d array on tiny arrays: ``1 - y``, 16 float32s 470 -> 220 ns),
    the number 1 for a Tensor (an ember dtype) or a bf16 array. A dict lookup, not a call: tanh's backward of
    (4, 4) float32, fwd+bwd per op of 64 tanh 2299 -> 2249 ns (min of interleaved runs)."""

    def __missing__(self, dt):
        if isinstance(dt, np.dtype) and dt != _bf16.NP:
            c = np.ones((), dt)
            c.flags.writeable = False
        else:
            c = 1
        self[dt] = c
        return c


ONE = _Ones()


def one(like):
    """``ONE[like.dtype]`` as a call."""
    return ONE[like.dtype]


def data(x):
    """The array behind an array or tensor (for masks and indices)."""
    return x if is_array(x) else x._data


def index_add(shape, index, g):
    """Zeros of ``shape`` with ``g`` added at ``index`` (duplicates accumulate): backward of indexing."""
    if is_array(g):
        out = np.zeros(shape, g.dtype)
        if _is_basic(index):
            out[index] = g
        else:
            from ..ops._scatter import index_add_at
            index_add_at(out, index, g)
        return out
    return _ops().indexing.index_put_grad(shape, index, g)


def _is_basic(index):
    if not isinstance(index, tuple):
        index = (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in index)
