"""Sampling ops (``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``, ``multinomial``,
``poisson`` and the in-place samplers), drawing PyTorch's numbers from PyTorch's generator
(``ember.random``) through PyTorch's kernels (``ember.ops._distributions``)."""
import math

import numpy as np

from .. import _dtype, _layout, _meta, _quiet
from .._dtype import DEFAULT, to_np, scalar_name
from ..random import (Generator, default_generator, manual_seed, seed, initial_seed, get_rng_state,  # noqa: F401
                      set_rng_state)
from ..tensor import Tensor
from . import _distributions as D
from ._util import arg_error, combination_error, need_float, shape_arg, undifferentiable, check_tensor_args
from .creation import _factory, _finish, _like_meta, empty_like



def _gen(generator):
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f'generator must be a torch.Generator, not {type(generator).__name__}')
    return generator


def _size(size, kw_size, op):
    if size and kw_size is not None:
        raise TypeError(f'{op}() received the size both as positional and keyword arguments')
    if not size and kw_size is None:    # PyTorch's parser: no size matches no overload (a 0-d draw is ``rand(())``)
        raise combination_error(op, ())
    return _nonneg(shape_arg(size if size else (kw_size if kw_size is not None else ()), op))


def _nonneg(shape):
    """The shape, refused as PyTorch refuses a negative dimension."""
    for s in shape:
        if s < 0:
            raise RuntimeError(f'Trying to create tensor with negative dimension {s}: {list(shape)}')
    return shape


def _float_np(dtype, kernel, complex_ok=False):
    nd = to_np(dtype) if dtype is not None else DEFAULT.np
    if nd.kind != 'f' and not (complex_ok and nd.kind == 'c'):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(nd)}\'')
    return nd


def _emit(arr, shape, out, requires_grad, op):
    """The result tensor, or ``arr`` written into ``out`` (PyTorch's out=, see ops/_out.py)."""
    arr = arr.reshape(shape)
    if out is None:
        return _finish(Tensor._make(arr), requires_grad)
    from ._out import write
    return write(op, Tensor._make(arr), out)


def _strided_out(out, shape, nd):
    """Whether ``out=`` keeps its own non-contiguous layout: PyTorch's rand/randn/randint(out=) resize ``out`` (a
    no-op at its shape) and fill it in place, so such an ``out`` takes its draws in memory order, as ``normal_``
    on it would."""
    return out is not None and tuple(out.shape) == shape and out._data.dtype == nd and \
        not out._data.flags.c_contiguous


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, **kw):
    """Uniform samples in [0, 1)."""
    shape = _size(size, _only_size(kw, 'rand'), 'rand')
    meta = _factory(device, layout, pin_memory, 'rand', dtype, out)
    nd = _float_np(dtype if dtype is not None or out is None else out.dtype, 'check_uniform_bounds', complex_ok=True)
    if meta:
        return _undrawn(shape, nd, requires_grad)
    if _strided_out(out, shape, nd):
        return uniform_(out, 0.0, 1.0, generator=generator)
    if nd.kind == 'c':      # (real, imaginary) pairs drawn as 2n reals, as PyTorch fills a complex tensor's real view
        return _emit(D.uniform(_gen(generator), 2 * math.prod(shape), _real_of(nd), 0.0, 1.0).view(nd), shape, out,
                     requires_grad, 'rand')
    arr = D.uniform(_gen(generator), math.prod(shape), nd, 0.0, 1.0)
    return _emit(arr, shape, out, requires_grad, 'rand')


def _real_of(nd):
    """The real dtype of complex dtype ``nd``."""
    return np.dtype(np.float32 if nd == np.complex64 else np.float64)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, **kw):
    """Standard normal samples (complex: real and imaginary parts each of variance 1/2)."""
    shape = _size(size, _only_size(kw, 'randn'), 'randn')
    meta = _factory(device, layout, pin_memory, 'randn', dtype, out)
    nd = _float_np(dtype if dtype is not None or out is None else out.dtype, 'normal_kernel_cpu', complex_ok=True)
    if meta:
        return _undrawn(shape, nd, requires_grad)
    if _strided_out(out, shape, nd):
        return normal_(out, 0.0, 1.0, generator=generator)
    arr = _standard_normal(_gen(generator), math.prod(shape), nd)
    return _emit(arr, shape, out, requires_grad, 'randn')


def _standard_normal(g, n, nd, contiguous=True):
    """n standard normal draws of dtype nd; a complex dtype draws its (real, imaginary) pairs as 2n real
    normals of standard deviation 1/sqrt(2), as PyTorch fills the real view of a complex tensor."""
    if nd.kind == 'c':
        return D.normal(g, 2 * n, _real_of(nd), 0.0, 1.0 / math.sqrt(2), contiguous=contiguous).view(nd)
    return D.normal(g, n, nd, 0.0, 1.0, contiguous=contiguous)


def _only_size(kw, op):
    """The ``size=`` keyword; any other stray keyword is a TypeError, as in PyTorch."""
    size = kw.pop('size', None)
    if kw:
        raise TypeError(f"{op}() got an unexpected keyword argument '{next(iter(kw))}'")
    return size


def _check_range(low, high, nd):
    """``random_(low, high)``'s checks, as PyTorch's ``random_from_to_impl`` makes them; for a floating dtype the
    bounds moved inward to integers the dtype holds (``D.float_bounds``), with PyTorch's warning for bounds past
    the dtype's exact-integer range. Returns the bounds to draw in."""
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if nd.kind in 'iub':
        lo, hi = _INT_BOUNDS[nd]
        if low < lo or low > hi:
            raise RuntimeError(f'from is out of bounds for {_C_NAMES[nd.name]}')
        if high - 1 < lo or high - 1 > hi:
            raise RuntimeError(f'to - 1 is out of bounds for {_C_NAMES[nd.name]}')
        return low, high
    digits, name, big = D.FLOAT_LIMITS[nd]
    for value, what in ((low, 'from'), (high - 1, 'to - 1')):
        if not -big <= value <= big:
            raise RuntimeError(f'{what} is out of bounds for {name}')
    low, high = D.float_bounds(low, high, nd)
    if low >= high:
        raise RuntimeError("random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, but got "
                           f"from={low} >= to={high}")
    for value, what in ((low, 'from'), (high - 1, 'to - 1')):
        if not -(1 << digits) <= value <= 1 << digits:
            from .._warn import warn_user
            warn_user(f'{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations {name} '
                      'can support discrete uniform distribution only within this range. This warning will '
                      'become an error in version 1.7 release, please fix the code in advance')
    return low, high


_INT_BOUNDS = {np.dtype(t): (int(np.iinfo(t).min), int(np.iinfo(t).max)) for t in
               (np.uint8, np.int8, np.int16, np.int32, np.int64, np.uint16, np.uint32, np.uint64)}
_INT_BOUNDS[np.dtype(np.bool_)] = (0, 1)
_C_NAMES = {'uint8': 'unsigned char', 'int8': 'signed char', 'int16': 'short', 'int32': 'int', 'int64': 'long',
            'bool': 'bool', 'uint16': 'short unsigned int', 'uint32': 'unsigned int',
            'uint64': 'long unsigned int'}


def _check_randint_form(args, size, high):
    """PyTorch's parser errors where randint's arguments fit neither (high, size) nor (low, high, size), size a
    sequence: ``randint(0, 10, 5)`` (NumPy's form) names the combination, ``randint(0, 10)`` the size."""
    n, seq = len(args), (lambda v: isinstance(v, (tuple, list)))
    kw = None if size is None else {'size': size}
    if n > 3 or n == 3 and (size is not None or not seq(args[2])) or n == 2 and size is not None and not seq(size):
        raise combination_error('randint', args, kw)
    if n == 2 and size is None and not seq(args[1]):
        raise arg_error('randint', 'size', 2, args[1], 'tuple of ints')
    if n == 1 and size is None and high is None:
        raise combination_error('randint', args)
    if n <= 1 and size is not None and not seq(size):
        raise arg_error('randint', 'size', None, size, 'tuple of ints')


def randint(*args, size=None, low=None, high=None, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False, pin_memory=False):
    """Integers in [low, high) (int64 by default): ``randint(high, size)`` or ``randint(low, high, size)``."""
    _check_randint_form(args, size, high)
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    position = len(args) + 1    # where size stood, for the error on a non-integer size
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    if high is None or size is None:
        raise TypeError('randint() missing required arguments: high and size')
    meta = _factory(device, layout, pin_memory, 'randint', dtype, out)
    low = 0 if low is None else int(low)
    high = int(high)
    if not -2 ** 63 <= low < 2 ** 63 or not -2 ** 63 <= high < 2 ** 63:   # the bounds are read as int64
        raise ValueError('Overflow when unpacking long long')
    shape = _nonneg(shape_arg((size,) if not isinstance(size, int) else ((size,),), 'randint', position=position))
    nd = to_np(dtype) if dtype is not None else (out._data.dtype if out is not None else np.dtype(np.int64))
    low, high = _check_range(low, high, nd)
    if meta:
        return _undrawn(shape, nd, requires_grad)
    if _strided_out(out, shape, nd):
        return random_(out, low, high, generator=generator)
    arr = D.randint(_gen(generator), math.prod(shape), low, high, nd)
    return _emit(arr, shape, out, requires_grad, 'randint')


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of 0..n-1 (int64 by default), drawn as PyTorch's CPU kernel draws it."""
    meta = _factory(device, layout, pin_memory, 'randperm', dtype, out)
    n = int(n)
    if n < 0:
        raise RuntimeError(f'Trying to create tensor with negative dimension {n}: [{n}]')
    nd = to_np(dtype) if dtype is not None else (out._data.dtype if isinstance(out, Tensor) else np.dtype(np.int64))
    if nd.kind in 'iu' and n > 0 and n - 1 > np.iinfo(nd).max:
        raise RuntimeError(f'value cannot be converted to type {nd.name}_t without overflow')
    if nd.kind == 'f' and n > 0 and n - 1 > 2 ** np.finfo(nd).nmant * 2:
        raise RuntimeError(f'n cannot be greater than {2 ** (np.finfo(nd).nmant + 1)} for {nd.name}')
    if meta:
        return _undrawn((n,), nd, requires_grad)
    arr = D.randperm(_gen(generator), n).astype(nd)
    return _emit(arr, (n,), out, requires_grad, 'randperm')


def _undrawn(shape, nd, requires_grad):
    """A meta tensor from a random factory: nothing drawn (the generator does not advance, as in PyTorch)."""
    return _finish(Tensor._make(_meta.placeholder(shape, nd)), requires_grad)


def _like(input, dtype, layout, device, pin_memory, name):
    """The NumPy dtype of a random tensor made like ``input``, None when it is to be a meta tensor."""
    meta = _like_meta(input, device, layout, pin_memory, name)
    nd = to_np(dtype) if dtype is not None else input._data.dtype
    return None if meta else nd


def _in_like_layout(input, memory_format, name, draw, requires_grad):
    """``draw(shape, contiguous)`` (an array of random values drawn in memory order) laid out as PyTorch lays out
    a tensor made like ``input`` (_layout.like_order): a transposed input's result is filled in its own memory
    order, so the same seed puts the same values at the same places as in PyTorch."""
    _layout.check_format(name, memory_format, input._data.ndim)
    order = _layout.like_order(input._data, memory_format)
    if _layout.is_c_order(order):
        arr = draw(tuple(input.shape), True)
    else:
        arr = _layout.laid_out(draw(tuple(input.shape[d] for d in order), False), input._data.shape, order)
    return _finish(Tensor._make(arr), requires_grad)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
              pin_memory=False, generator=None):
    try:
        nd = _like(input, dtype, layout, device, pin_memory, 'rand_like')
        if nd is None:
            return empty_like(input, dtype=dtype, device='meta', requires_grad=requires_grad)
        nd = _dtype.FROM_NP[nd]
        return _in_like_layout(input, memory_format, 'rand_like',
                               lambda shape, c: rand(tuple(shape), dtype=nd, generator=generator)._data, requires_grad)
    except (AttributeError, TypeError):
        check_tensor_args('rand_like', 'input')
        raise


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
               pin_memory=False, generator=None):
    try:
        nd = _like(input, dtype, layout, device, pin_memory, 'randn_like')
        if nd is None:
            return empty_like(input, dtype=dtype, device='meta', requires_grad=requires_grad)
        if input._data.size:   # PyTorch's normal kernel refuses integer types; an empty tensor never reaches it
            _float_np(_dtype.FROM_NP[nd], 'normal_kernel_cpu', complex_ok=True)

        def draw(shape, contiguous):
            # a non-contiguous tensor is filled element by element (PyTorch's normal_kernel serial path), not in
            # normal_fill's blocks of 16
            return _standard_normal(_gen(generator), math.prod(shape), nd, contiguous).reshape(shape)
        return _in_like_layout(input, memory_format, 'randn_like', draw, requires_grad)
    except (AttributeError, TypeError):
        check_tensor_args('randn_like', 'input')
        raise


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None, pin_memory=False, generator=None):
    try:
        nd = _like(input, dtype, layout, device, pin_memory, 'randint_like')
        if nd is None:
            return empty_like(input, dtype=dtype, device='meta', requires_grad=requires_grad)
        nd = _dtype.FROM_NP[nd]
        if nd.is_complex:
            raise RuntimeError('check_random_bounds handles only integral, floating-point and boolean types')
        if high is None:
            low, high = 0, low
        return _in_like_layout(input, memory_format, 'randint_like',
                               lambda shape, c: randint(low, high, shape, dtype=nd, generator=generator)._data,
                               requires_grad)
    except Exception:
        check_tensor_args('randint_like', 'input')
        raise


# -- normal with tensor parameters ---------------------------------------------------------------------
def _check_std(std):
    if isinstance(std, Tensor):
        if std._data.size and not (std._data >= 0).all():
            raise RuntimeError('normal expects all elements of std >= 0.0')
    elif std < 0:
        raise RuntimeError(f'normal expects std >= 0.0, but found std {_fmt(std)}')


def _fmt(v):
    return f'{v:g}' if isinstance(v, float) else str(v)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           pin_memory=False, requires_grad=False):
    """Normal samples: ``normal(mean, std, size)`` with numbers, or elementwise with tensor mean and/or std
    (a standard normal draw, then ``* std + mean`` as PyTorch computes it; zero gradient to mean and std)."""
    try:
        if size is not None:
            mean, std = _as_number(mean), _as_number(std)
        _check_std(std)
        g = _gen(generator)
        mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
        if not mt and not st:
            if size is None:
                raise TypeError('normal() missing required argument: size (with number mean and std)')
            _factory(device, layout, pin_memory, 'normal')
            nd = _float_np(dtype if dtype is not None or out is None else out.dtype, 'normal_kernel_cpu')
            shape = _nonneg(shape_arg((size,), 'normal', position=3))
            arr = D.normal(g, math.prod(shape), nd, float(mean), float(std))
            return _emit(arr, shape, out, requires_grad, 'normal')
        if size is not None:
            raise TypeError('normal(): size is only accepted with number mean and std')
        if dtype is not None or requires_grad:
            raise TypeError('normal(): dtype and requires_grad are not accepted with tensor mean or std')
        if out is not None and mt and not st:
            return _normal_mean_out(g, mean, float(std), out)
        return _normal_tensors(g, mean, std, out)
    except Exception:
        check_tensor_args('normal', 'mean#', 'std#')
        raise


def _as_number(v):
    """A 0-d tensor that needs no grad passes where PyTorch's parser takes a float (``normal(tensor(0.),
    tensor(1.), (n,))``, as torch-audiomentations calls it); anything else is left for the overload check."""
    if isinstance(v, Tensor) and v.ndim == 0 and not v.requires_grad and not v.is_complex():
        return v.item()
    return v


def _normal_mean_out(g, mean, std, out):
    """``normal(Tensor, float, out=)`` as PyTorch computes it: ``out`` is filled with normal(0, std) samples in
    its own shape and dtype, then ``mean`` is added into it (so an ``out`` that does not broadcast with
    ``mean``, an empty one included, raises PyTorch's size error)."""
    from ..autograd.grad_mode import GRAD
    if GRAD.enabled and mean.requires_grad:
        from ._out import write
        return write('normal', mean, out)   # refused, as in PyTorch: the result would need grad
    from .pointwise import add
    normal_(out, 0.0, std, generator=g)
    return add(mean, out, out=out)


def _normal_tensors(g, mean, std, out):
    from ..autograd.grad_mode import GRAD
    tm, ts = isinstance(mean, Tensor), isinstance(std, Tensor)
    if tm and ts:
        shape = np.broadcast_shapes(mean._data.shape, std._data.shape)
        nd = np.result_type(mean._data.dtype, std._data.dtype)
    else:
        shape = (mean if tm else std)._data.shape
        nd = (mean if tm else std)._data.dtype
    if nd.kind != 'f':
        raise NotImplementedError(f'"normal_kernel_cpu" not implemented for \'{scalar_name(nd)}\'')
    arr = D.normal(g, math.prod(shape), nd, 0.0, 1.0 if ts else float(std)).reshape(shape)
    q = _quiet.enter()  # after the draw: inf/NaN/huge mean or std scale it silently, as PyTorch (see _quiet)
    try:
        if ts:
            arr = arr * std._data.astype(nd, copy=False)
        arr = (arr + (mean._data if tm else nd.type(mean))).astype(nd, copy=False)
    finally:
        _quiet.leave(q)
    res = Tensor._make(arr)
    parents = tuple(t for t in (mean, std) if isinstance(t, Tensor))
    if GRAD.enabled and any(t.requires_grad for t in parents):
        name = 'NormalBackward3' if tm and ts else 'NormalBackward1' if tm else 'NormalBackward2'
        res = Tensor._make(arr, _zero_node(name)(parents))
    if out is None:
        return res
    from ._out import write
    return write('normal', res, out)   # refused, as in PyTorch, when the result needs grad


_ZERO_NODES = {}


def _zero_node(name):
    """The backward node class of a sampling op: zero gradient to every input, in its own shape (PyTorch's
    ``normal`` is not reparameterised)."""
    cls = _ZERO_NODES.get(name)
    if cls is None:
        from ..autograd.graph import Node

        def __init__(self, inputs):
            Node.__init__(self, inputs)
            self._shapes = [t._data.shape for t in inputs]

        def backward(self, g):
            zeros = tuple(g.new_zeros(s) if isinstance(g, Tensor) else np.zeros(s, g.dtype) for s in self._shapes)
            return zeros if len(zeros) > 1 else zeros[0]
        cls = _ZERO_NODES[name] = type(name, (Node,), {'__slots__': ('_shapes',), '__init__': __init__,
                                                        'backward': backward})
    return cls


# -- bernoulli, multinomial, poisson ---------------------------------------------------------------------
def bernoulli(input, p=None, *, generator=None, out=None):
    """1 with probability ``input`` (or the number ``p``), else 0, in input's dtype."""
    try:
        if p is not None and out is not None:   # PyTorch's bernoulli(input, p) overload has no out=
            raise TypeError(f'bernoulli() received an invalid combination of arguments - got (Tensor, {type(p).__name__}, '
                            'out=Tensor), but expected one of:\n * (Tensor input, *, torch.Generator generator = None, '
                            'Tensor out = None)\n * (Tensor input, float p, *, torch.Generator generator = None)\n')
        res = Tensor._make(np.empty(input._data.shape, input._data.dtype))    # PyTorch: contiguous output
        if p is None:
            _bernoulli_tensor(res._data, input._data, _gen(generator))
        else:
            bernoulli_(res, p, generator=generator)
        from ..autograd.grad_mode import GRAD
        if GRAD.enabled and input.requires_grad:
            if out is not None:
                from .inplace import write_out
                return write_out('bernoulli', input, out)   # PyTorch's refusal of out= with an input that needs grad
            # PyTorch records the draw: a zero gradient from bernoulli(input), none at all from bernoulli(input, p)
            node = _zero_node('BernoulliBackward0') if p is None else _BernoulliP
            return Tensor._make(res._data, node((input,)))
        return _emit(res._data, res._data.shape, out, False, 'bernoulli')
    except Exception:
        check_tensor_args('bernoulli', 'input', 'p#?')
        raise


_BernoulliP = undifferentiable('NotImplemented', 'derivative for aten::bernoulli is not implemented',
                               'torch::autograd::NotImplemented')


def _bernoulli_tensor(dst, probs, g):
    """PyTorch's tensor-p kernel: one uniform per element (double for double p, else float), u < p."""
    if probs.dtype.kind != 'f':
        raise NotImplementedError(f'"bernoulli_tensor_cpu_p_" not implemented for \'{scalar_name(probs.dtype)}\'')
    p = np.broadcast_to(probs, dst.shape)
    if p.size and not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError('Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error '
                           'message be improved?  If so, please report an enhancement request to PyTorch.)')
    view = _iter_view(dst)
    pv = _iter_view_like(p, dst)
    work = np.float64 if probs.dtype == np.float64 else np.float32
    u = D.unit_uniform(g, dst.size, work).reshape(view.shape)
    view[...] = u < pv.astype(work)


@_quiet.quietly
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices sampled from the rows of ``input`` (non-negative weights), as PyTorch's CPU kernels draw them:
    without replacement (or one sample) by the exponential race argmax(p / q), q ~ Exp(1); with replacement
    by inverse-CDF search of one double uniform per sample."""
    try:
        w = input._data
        if w.dtype.kind != 'f':
            raise RuntimeError(f'multinomial only supports floating-point dtypes for input, got: {scalar_name(w.dtype)}')
        if w.ndim not in (1, 2):
            raise RuntimeError('prob_dist must be 1 or 2 dim')
        n = int(num_samples)
        if n <= 0:
            raise RuntimeError('cannot sample n_sample <= 0 samples')
        if not replacement and n > w.shape[-1]:
            raise RuntimeError('cannot sample n_sample > prob_dist.size(-1) samples without replacement')
        g = _gen(generator)
        rows = w.reshape(-1, w.shape[-1])
        if not replacement or n == 1:
            if not (np.isfinite(rows).all() and (rows >= 0).all()):
                raise RuntimeError('probability tensor contains either `inf`, `nan` or element < 0')
            if (rows.sum(-1) == 0).any():
                raise RuntimeError('invalid multinomial distribution (sum of probabilities <= 0)')
            q = _exponential(g, rows.size, 1.0, w.dtype).reshape(rows.shape)
            q = rows / q
            if n == 1:      # PyTorch's argmax for one sample (the first maximum, NaN as the largest)
                res = np.argmax(q, axis=-1)[:, None]
            else:
                res = np.argsort(-q, axis=-1, kind='stable')[:, :n]
        else:
            res = _multinomial_rep(g, rows, n)
        res = res.astype(np.int64)
        return _emit(res, w.shape[:-1] + (n,), out, False, 'multinomial')
    except (AttributeError, TypeError):
        check_tensor_args('multinomial', 'input')
        raise


def _multinomial_rep(g, rows, n):
    """Rows with replacement, as PyTorch's kernel takes them one after another: each row's running sum in the
    input's precision (float for half), normalised, last bucket 1, and n double uniforms searched in it. A bad
    row raises after the rows before it drew their samples, naming its first bad entry as PyTorch does."""
    acc = np.float32 if rows.dtype == np.float16 else rows.dtype
    cum = np.cumsum(rows.astype(acc), axis=-1, dtype=acc)
    total = cum[:, -1]
    good = (rows >= 0).all(-1) & np.isfinite(rows).all(-1) & (total > 0)
    k = rows.shape[0] if good.all() else int(np.argmin(good))
    u = D.unit_uniform(g, k * n, np.float64).reshape(k, n)
    if k < rows.shape[0]:
        _multinomial_refusal(rows[k])
    cum = (cum / total[:, None]).astype(np.float64)
    cum[:, -1] = 1
    return _search_rows(cum, u)


def _multinomial_refusal(row):
    """PyTorch's error for a bad row: its entries are checked in order (``>= 0``, which NaN fails, then finite),
    then the sum."""
    bad = ~(row >= 0) | ~np.isfinite(row)
    if bad.any():
        j = int(np.argmax(bad))
        what = 'probability entry < 0' if not row[j] >= 0 else 'probability entry = infinity or NaN'
        raise RuntimeError(f'invalid multinomial distribution (encountering {what})')
    raise RuntimeError('invalid multinomial distribution (sum of probabilities <= 0)')


def _search_rows(cum, u):
    """For each row i and sample u[i, j], the first bucket with cum[i] >= u[i, j] (PyTorch's binary search):
    the count of buckets below u, in one comparison where a row's comparisons are few and all fit 4 MB (64 rows
    x 5 samples of 100 buckets: 0.87 -> 0.1 ms), else ``searchsorted`` row by row (cum is non-decreasing: the
    same index; 1 row, 100 samples of 1000 buckets: 74 -> 6 us, thread CPU, medians of 200)."""
    if cum.shape[1] * u.shape[1] <= 1 << 12 and cum.size * u.shape[1] <= 1 << 22:
        return np.count_nonzero(cum[:, None, :] < u[:, :, None], axis=-1)
    return np.stack([np.searchsorted(c, v, side='left') for c, v in zip(cum, u)])


def _standard_gamma(input, generator=None):
    """Gamma(alpha, 1) samples for each alpha in ``input`` (``torch._standard_gamma``): PyTorch's CPU
    sampler, Marsaglia and Tsang's method with the boost for alpha < 1, in double precision from double
    uniforms and the scalar normal path (its cached sample included), floored at the dtype's tiny.
    Differentiable in alpha through ``_standard_gamma_grad``, as PyTorch's."""
    alpha = input._data
    if alpha.dtype.kind != 'f':
        raise NotImplementedError(f'"gamma_cpu" not implemented for \'{scalar_name(alpha.dtype)}\'')
    g = _gen(generator)
    out = np.empty(alpha.shape, alpha.dtype)
    view = _iter_view(out)
    work = alpha.dtype.type
    vals = [_gamma_one(g, work(a)) for a in _iter_view_like(alpha, out).ravel().tolist()]
    view[...] = np.maximum(np.array(vals, np.float64), np.finfo(alpha.dtype).tiny).astype(alpha.dtype).reshape(
        view.shape)
    return _record(out, StandardGammaBackward0, input)


def _record(out, node_cls, input):
    """Wrap ``out``; when ``input`` requires grad, ``node_cls`` (saving input and output) is its grad_fn."""
    from ..autograd.grad_mode import GRAD
    if not (GRAD.enabled and input.requires_grad):
        return Tensor._make(out)
    node = node_cls((input,))
    result = Tensor._make(out, node)
    node.save(input)
    node.save_output(result)
    return result


def _graph_node(name, backward):
    from ..autograd.graph import Node
    return type(name, (Node,), {'__slots__': (), 'backward': backward, '__doc__': backward.__doc__})


def _standard_gamma_backward(self, g):
    """grad * _standard_gamma_grad(alpha, sample); that gradient is itself not differentiable."""
    from ..autograd import dual
    from . import _reparam
    alpha, x = self.saved()
    grad = _reparam.standard_gamma_grad_array(dual.data(alpha), dual.data(x))
    return g * (grad if dual.is_array(g) else dual.const(grad, g))


def _not_implemented_backward(self, g):
    """PyTorch has no derivative for this op."""
    raise RuntimeError(f'derivative for aten::{self._op} is not implemented')


StandardGammaBackward0 = _graph_node('StandardGammaBackward0', _standard_gamma_backward)
SampleDirichletBackward0 = _graph_node('SampleDirichletBackward0', _not_implemented_backward)
SampleDirichletBackward0._op = '_sample_dirichlet'


def _float_op(name, *arrays):
    for a in arrays:
        if a.dtype.kind != 'f' or a.dtype == np.float16:
            raise NotImplementedError(f'"{name}" not implemented for \'{_dtype_name(a.dtype)}\'')


def _dtype_name(nd):
    return scalar_name(nd)


def _standard_gamma_grad(self, output):
    """``torch._standard_gamma_grad(alpha, x)``: d x / d alpha of Gamma(alpha, 1) samples x at fixed CDF,
    PyTorch's approximation to the bit (``ops/_reparam.py``)."""
    from . import _reparam      # imported on first use: its C-library lookup (ctypes, ldconfig) takes ~12 ms
    _float_op('_standard_gamma_grad_cpu', self._data, output._data)
    return Tensor._make(_reparam.standard_gamma_grad_array(self._data, output._data.astype(self._data.dtype)))


def _dirichlet_grad(x, alpha, total):
    """``torch._dirichlet_grad(x, alpha, total)``: the reparameterized gradient of Beta(alpha, total - alpha)
    samples x with respect to alpha, divided by 1 - x (PyTorch's approximation, ``ops/_reparam.py``)."""
    from . import _reparam
    _float_op('_dirichlet_grad_cpu', x._data)
    nd = x._data.dtype
    return Tensor._make(_reparam.dirichlet_grad_array(x._data, alpha._data.astype(nd), total._data.astype(nd)))


def _sample_dirichlet(input, generator=None):
    """``torch._sample_dirichlet``: Gamma(alpha_i, 1) draws in double precision (whatever the dtype, as
    PyTorch's kernel), normalized over the last dim in double, rounded to the dtype and kept inside
    [tiny, 1) (the largest value below 1)."""
    alpha = input._data
    _float_op('dirichlet', alpha)
    g = _gen(generator)
    gam = np.empty(alpha.shape, np.float64)
    view = _iter_view(gam)
    vals = [_gamma_one(g, np.float64(a)) for a in _iter_view_like(alpha, gam).ravel().tolist()]
    view[...] = np.maximum(np.array(vals, np.float64), np.finfo(np.float64).tiny).reshape(view.shape)
    total = Tensor._make(gam).sum(-1, keepdim=True)._data if gam.ndim else gam
    nd = alpha.dtype
    ret = (gam / total).astype(nd)
    np.clip(ret, np.finfo(nd).tiny, np.nextafter(nd.type(1), nd.type(0)), out=ret)
    return _record(ret, SampleDirichletBackward0, input)


def _gamma_one(g, alpha):
    """One draw of PyTorch's ``sample_gamma``: ``alpha`` keeps the input's float type where PyTorch's does."""
    f32 = np.float32
    scale = 1.0
    if alpha < 1:
        if alpha == 0:
            return 0.0
        scale *= math.pow(1 - _u01(g), float(f32(1) / alpha) if alpha.dtype == f32 else 1.0 / alpha)
        alpha = alpha + alpha.dtype.type(1)
    d = float(alpha - (f32(1) / f32(3) if alpha.dtype == f32 else np.float64(f32(1) / f32(3))))
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = float(D.normal_serial(g, 1, 0.0, 1.0)[0])
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1 - _u01(g)
        xx = x * x
        if u < 1.0 - float(f32(0.0331)) * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def poisson(input, generator=None):
    """Poisson counts with rates ``input`` (PyTorch's sampler: transformed rejection for rates of 10 or more,
    multiplication of uniforms below)."""
    try:
        need_float(input, 'poisson_cpu')   # PyTorch's sampler has floating loops only (Poisson(tensor([4])).sample())
        lam = input._data
        if lam.size and not (lam >= 0).all():
            raise RuntimeError('invalid Poisson rate, expected rate to be non-negative')
        g = _gen(generator)
        # PyTorch draws into a new contiguous tensor, walked in its (row-major) order whatever the rates' strides
        vals = np.array([_poisson_one(g, float(x)) for x in lam.ravel().tolist()], np.float64)
        out = vals.reshape(lam.shape).astype(lam.dtype)
        from ..autograd.grad_mode import GRAD
        if GRAD.enabled and input.requires_grad:   # PyTorch records the draw, with a zero gradient
            return Tensor._make(out, _zero_node('PoissonBackward0')((input,)))
        return Tensor._make(out)
    except (AttributeError, TypeError):
        check_tensor_args('poisson', 'input')
        raise


def _u01(g):
    """One double uniform (``uniform_real_distribution<double>``) as a Python float: the per-element
    loops of poisson and gamma draw one at a time, as PyTorch's do."""
    return (int(g._words64(1)[0]) & ((1 << 53) - 1)) * 2.0 ** -53


def _poisson_one(g, lam):
    if lam >= 10:
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = _u01(g) - 0.5
            v = _u01(g)
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= \
                    (-lam + k * loglam - math.lgamma(k + 1.0)):
                return k
    if lam == 0:
        return 0
    enlam = math.exp(-lam)
    x, prod = 0, 1.0
    while True:
        prod *= _u01(g)
        if prod > enlam:
            x += 1
        else:
            return x


_BinomialNode = undifferentiable('NotImplemented', 'derivative for aten::binomial is not implemented',
                                'torch::autograd::NotImplemented')
# PyTorch's stirling_approx_tail table: log(k!) minus Stirling's approximation of it, k = 0..9
_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                  0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                  0.00925546218271273, 0.00833056343336287)


def binomial(count, prob, generator=None):
    """Binomial draws: successes in ``count`` trials of probability ``prob`` (float tensors of one dtype,
    broadcast), drawn element by element as PyTorch's CPU kernel draws them (inversion for count * p below
    10, BTRS rejection above, on min(p, 1 - p)); not differentiable."""
    try:
        c, p = count._data, prob._data
        if c.dtype.kind != 'f':
            raise ValueError(f'binomial only supports floating-point dtypes for count, got: {_dtype_name(c.dtype).capitalize()}')
        if p.dtype != c.dtype:
            raise RuntimeError(f'Found dtype {_dtype_name(p.dtype).capitalize()} but expected '
                               f'{_dtype_name(c.dtype).capitalize()}')
        shape = np.broadcast_shapes(c.shape, p.shape)   # the result starts in count's shape, resized as out= is
        if shape != c.shape and c.size:
            from .._warn import warn_user
            warn_user(f'An output with one or more elements was resized since it had shape [{", ".join(map(str, c.shape))}], '
                      f'which does not match the required output shape [{", ".join(map(str, shape))}]. This behavior is '
                      'deprecated, and in a future PyTorch release outputs will not be resized unless they have zero '
                      'elements. You can explicitly reuse an out tensor t by resizing it, inplace, to zero elements with '
                      't.resize_(0).')
        g = _gen(generator)
        single = c.dtype != np.float64      # PyTorch's scalar_t arithmetic rounds to float there
        vals = [_binomial_one(g, n, q, single) for n, q in zip(np.broadcast_to(c, shape).ravel().tolist(),
                                                               np.broadcast_to(p, shape).ravel().tolist())]
        out = np.array(vals, np.float64).reshape(shape).astype(c.dtype)
        from ..autograd.grad_mode import GRAD
        if GRAD.enabled and (count.requires_grad or prob.requires_grad):
            return Tensor._make(out, _BinomialNode((count, prob)))
        return Tensor._make(out)
    except (AttributeError, TypeError):
        check_tensor_args('binomial', 'count', 'prob')
        raise


def _binomial_one(g, count, prob, single):
    """PyTorch's sample_binomial for one (count, prob)."""
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return count
    if prob <= 0.5:
        return _binomial_small_p(g, count, prob, single)
    if prob > 0.5:
        q = float(np.float32(1.0) - np.float32(prob)) if single else 1.0 - prob
        k = _binomial_small_p(g, count, q, single)
        return float(np.float32(count) - np.float32(k)) if single else count - k
    return math.nan


def _binomial_small_p(g, count, prob, single):
    f = (lambda x: float(np.float32(x))) if single else (lambda x: x)    # a scalar_t intermediate
    if f(count * prob) >= 10.0:
        return _btrs(g, count, prob, f)
    logprob = f(np.log1p(np.float32(-prob))) if single else math.log1p(-prob)
    geom_sum, num_geom = 0.0, 0.0
    while True:
        geom_sum += math.ceil(math.log(_u01(g)) / logprob)
        if geom_sum > count:
            return num_geom
        num_geom += 1


def _stirling_tail(k):
    if k <= 9:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _btrs(g, count, prob, f):
    """Hormann's transformed rejection (BTRS) as PyTorch writes it; ``f`` rounds its scalar_t intermediates."""
    stddev = f(math.sqrt(f(f(count * prob) * f(1 - prob))))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = f(count * prob) + 0.5
    v_r = 0.92 - 4.2 / b
    r = f(prob / f(1 - prob))
    alpha = (2.83 + 5.1 / b) * stddev
    m = float(math.floor(f((count + 1) * prob)))
    while True:
        u = _u01(g) - 0.5
        v = _u01(g)
        us = 0.5 - abs(u)
        k = f(math.floor((2 * a / us + b) * u + c))
        if k < 0 or k > count:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = math.log(v * alpha / (a / (us * us) + b))
        upper = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1))) +
                 (count + 1) * math.log((count - m + 1) / (count - k + 1)) +
                 (k + 0.5) * math.log(r * (count - k + 1) / (k + 1)) +
                 _stirling_tail(m) + _stirling_tail(count - m) - _stirling_tail(k) - _stirling_tail(count - k))
        if v <= upper:
            return k


# -- in-place samplers (Tensor methods) -------------------------------------------------------------------
def _iter_view(arr):
    """``arr`` with its axes in the order PyTorch's TensorIterator walks it (memory order: the largest
    stride outermost), so that samples land where PyTorch puts them in a strided tensor."""
    return _iter_view_like(arr, arr)


def _iter_view_like(other, like):
    """``other`` (of ``like``'s shape) with its axes in the order TensorIterator walks ``like``."""
    if like.ndim < 2 or like.flags.c_contiguous:
        return other
    order = sorted(range(like.ndim), key=lambda d: -abs(like.strides[d]) if like.shape[d] > 1 else 0)
    return other.transpose(order)


def _fill(t, values, name):
    """Write samples (in TensorIterator order) into ``t``; autograd records ``name`` with zero gradient."""
    from .inplace import check_inplace, overwritten
    tracked = check_inplace(t)
    view = _iter_view(t._data)
    np.copyto(view, values.reshape(view.shape), casting='unsafe')
    t._bump()
    if tracked:
        overwritten(t, name)
    return t


def _meta_fill(t):
    """An in-place random fill of a meta tensor: PyTorch's checks, nothing drawn (its generator does not advance,
    and a layer built on the meta device initialises in no time)."""
    from .inplace import check_inplace
    check_inplace(t)
    return t


def _fill_in_place(t, draw, name):
    """``_fill`` for a contiguous ``t`` of the kernel's dtype: ``draw`` writes the samples straight into its
    memory, no temporary and no copy (10^6 float32 normals: the fresh array's page faults and the copy)."""
    from .inplace import check_inplace, overwritten
    tracked = check_inplace(t)
    draw(t._data.reshape(-1))
    t._bump()
    if tracked:
        overwritten(t, name)
    return t


def _float_inplace(t, kernel):
    nd = t._data.dtype
    if nd.kind != 'f':
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(nd)}\'')
    return nd


def uniform_(t, from_=0.0, to=1.0, *, generator=None, **kw):
    """Fill with uniform samples in [from, to)."""
    from_ = kw.pop('from', from_)
    if kw:
        raise TypeError(f"uniform_() got an unexpected keyword argument '{next(iter(kw))}'")
    if type(t._data) is _meta.MetaArray:
        return _meta_fill(t)
    if t._data.dtype.kind == 'c':       # PyTorch fills the real view
        from .complex import view_as_real
        uniform_(view_as_real(t), from_, to, generator=generator)
        return t
    nd = _float_inplace(t, 'check_uniform_bounds')
    if from_ > to:
        raise RuntimeError(f'uniform_ expects to return a [from, to) range, but found from={_fmt(from_)} > '
                           f'to={_fmt(to)}')
    if to - from_ > np.finfo(nd).max:
        raise RuntimeError(f'uniform_ expects to-from <= std::numeric_limits<{_C_FLOAT[nd.name]}>::max(), '
                           f'but found to={_fmt(to)} and from={_fmt(from_)} which result in to-from to exceed '
                           'the limit')
    return _fill(t, D.uniform(_gen(generator), t._data.size, nd, float(from_), float(to)), 'UniformBackward0')


_C_FLOAT = {'float16': 'c10::Half', 'float32': 'float', 'float64': 'double'}


def normal_(t, mean=0.0, std=1.0, *, generator=None):
    """Fill with normal samples (PyTorch's vectorised path for contiguous tensors of 16 or more elements,
    its scalar Box-Muller path otherwise)."""
    _check_std(std)
    if type(t._data) is _meta.MetaArray:
        return _meta_fill(t)
    if t._data.dtype.kind == 'c':       # PyTorch fills the real view, each part of standard deviation std / sqrt(2)
        from .complex import view_as_real
        normal_(view_as_real(t), mean, std / math.sqrt(2), generator=generator)
        return t
    nd = _float_inplace(t, 'normal_kernel_cpu')
    g, data = _gen(generator), t._data
    if data.flags.c_contiguous and data.size >= 16 and nd in (np.float32, np.float64):
        return _fill_in_place(t, lambda flat: D.normal_fill(g, flat.size, nd, float(mean), float(std), out=flat),
                              'NormalBackward0')
    vals = D.normal(g, data.size, nd, float(mean), float(std), data.flags.c_contiguous)
    return _fill(t, vals, 'NormalBackward0')


def bernoulli_(t, p=0.5, *, generator=None):
    """Fill with 1 (probability p, a number or a tensor) or 0. A number p draws one double uniform per
    element (the path of PyTorch's released builds on every CPU, docs/RANDOM.md)."""
    try:
        g = _gen(generator)
        from .inplace import check_inplace, overwritten
        if isinstance(p, Tensor):
            tracked = check_inplace(t)
            _bernoulli_tensor(t._data, p._data, g)
            t._bump()
            if tracked:
                overwritten(t, 'BernoulliBackward1')
            return t
        if not 0 <= p <= 1:
            raise RuntimeError(f'bernoulli_ expects p to be in [0, 1], but got p={_fmt(p)}')
        return _fill(t, D.below(g, t._data.size, p), 'BernoulliBackward0')
    except Exception:
        check_tensor_args('bernoulli_', 't:input', 'p#')
        raise


def _exponential(g, n, lambd, nd=np.dtype(np.float64)):
    """n Exp(lambd) samples rounded to nd: -1/lambd * log1p(-u) from double uniforms u (PyTorch's CPU
    transformation; log(1 - u), used before, differed from it in the last place for ~6% of doubles)."""
    u = D.unit_uniform(g, n, np.float64)
    np.negative(u, out=u)
    scale = -1.0 / lambd
    if nd in (np.float32, np.float16):      # coarser than the double result: NumPy's log1p where it rounds alike
        return D.libm_then(math.log1p, u, lambda v: (scale * v).astype(nd))
    return (scale * D.libm(math.log1p, u)).astype(nd, copy=False)


def exponential_(t, lambd=1.0, *, generator=None):
    """Fill with Exp(lambd) samples: -1/lambd * log1p(-u), u a double uniform."""
    if t._data.dtype.kind != 'f':
        raise RuntimeError('Exponential distribution is a continuous probability distribution. dtype must be a '
                           f'floating point but you specified {scalar_name(t._data.dtype)}')
    if not lambd > 0:
        raise RuntimeError(f'exponential_ expects lambda > 0.0, but found lambda={_fmt(lambd)}')
    return _fill(t, _exponential(_gen(generator), t._data.size, float(lambd), t._data.dtype), 'ExponentialBackward0')


def random_(t, from_=0, to=None, *, generator=None, **kw):
    """Fill with integers: [from, to), or [0, to) with one argument, or the dtype's full range with none
    ([0, 2**mantissa] for floating dtypes)."""
    from_ = kw.pop('from', from_)
    if kw:
        raise TypeError(f"random_() got an unexpected keyword argument '{next(iter(kw))}'")
    nd = t._data.dtype
    g = _gen(generator)
    n = t._data.size
    if to is None and from_ == 0 and 'from' not in kw:
        return _fill(t, _random_full(g, n, nd), 'RandomBackward0')
    if to is None:
        low, high = 0, int(from_)
    else:
        low, high = int(from_), int(to)
    low, high = _check_range(low, high, nd)
    return _fill(t, D.randint(g, n, low, high, nd), 'RandomBackward1')


def _random_full(g, n, nd):
    """``random_()`` with no range: a word modulo the dtype's max + 1 (64-bit words for int64 and double)."""
    if nd == np.bool_:
        return (g._words(n) & np.uint64(1)).astype(bool)
    if nd in (np.int64, np.float64):
        w = g._words64(n)
    else:
        w = g._words(n)
    if nd.kind == 'f':
        mod = (1 << D.FLOAT_LIMITS[nd][0]) + 1
    else:
        mod = int(np.iinfo(nd).max) + 1
    return D.cast((w % np.uint64(mod)).astype(np.int64), nd)


def cauchy_(t, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy samples: median + sigma * tan(pi * (u - 0.5)), u a double uniform."""
    _float_inplace(t, 'cauchy_cpu')
    if not sigma > 0:
        raise RuntimeError(f'cauchy_ expects sigma > 0.0, but found sigma={_fmt(sigma)}')
    u = D.unit_uniform(_gen(generator), t._data.size, np.float64)
    tan = D.libm(math.tan, math.pi * (u - 0.5))
    return _fill(t, D.affine64(tan, float(median), float(sigma)), 'CauchyBackward0')


def log_normal_(t, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp of normal samples (always the scalar Box-Muller path)."""
    _float_inplace(t, 'log_normal_cpu')
    if not std > 0:
        raise RuntimeError(f'log_normal_ expects std > 0.0, but found std={_fmt(std)}')
    v = D.normal_serial(_gen(generator), t._data.size, float(mean), float(std))
    return _fill(t, D.libm(math.exp, v), 'LogNormalBackward0')


def geometric_(t, p, *, generator=None):
    """Fill with the number of trials to the first success: ceil(log(u) / log(1 - p))."""
    if not 0 < p < 1:
        raise RuntimeError(f'geometric_ expects p to be in (0, 1), but got p={_fmt(p)}')
    if t._data.dtype == np.bool_:
        raise NotImplementedError('"geometric_cpu" not implemented for \'Bool\'')
    u = D.unit_uniform(_gen(generator), t._data.size, np.float64)
    denom = math.log(1.0 - p)
    return _fill(t, D.libm_then(math.log, u, lambda lg: np.ceil(lg / denom)), 'GeometricBackward0')

