"""PyTorch's "shell" dtypes (uint16, uint32, uint64): the ops that have no kernel for them and how they refuse,
in one table, so that no op silently computes them in another dtype (the rest of ember computes them in NumPy).

The refusals are gates put on ember's functions and Tensor's methods, each a set lookup of the first argument's
dtype, but ~200 ns a call (x + y is ~0.9 us): so they are put on only when a program first meets one of these
dtypes (``arm``: the names torch.uint16/32/64, a tensor made of such an array, an unpickled dtype), and a program
that never uses them pays nothing."""
import functools
import inspect

import numpy as np

_SHELL_NP = frozenset(np.dtype(t) for t in (np.uint16, np.uint32, np.uint64))


def promotion(a, b):
    """Refuse to promote a shell dtype with another non-floating dtype, as c10's promoteTypes does."""
    from ._dtype import scalar_name
    raise RuntimeError('Promotion for uint16, uint32, uint64 types is not supported, attempted to promote '
                       f'{scalar_name(a)} and {scalar_name(b)}')


def _element(v, np_dtype, bits):
    """Python number ``v`` as an element of a uint tensor torch.tensor builds: uint16/uint32 take integers down
    to -max (wrapping) and floats in range (truncated); uint64 takes non-negative integers only."""
    if isinstance(v, complex) or not isinstance(v, (int, float)):
        if bits == 64:
            raise TypeError('an integer is required')
        raise TypeError(f"'{type(v).__name__}' object cannot be interpreted as an integer")
    if bits == 64:
        if isinstance(v, float):
            raise TypeError('an integer is required')
        if v < 0:
            raise OverflowError("can't convert negative int to unsigned")
        if v >= 1 << 64:
            raise OverflowError('int too big to convert')
        return int(v)
    top = (1 << bits) - 1
    if isinstance(v, float):
        if not 0 <= v <= top:
            raise RuntimeError(f'value cannot be converted to type {np_dtype.name} without overflow')
        return int(v)
    if not -2 ** 63 <= v < 2 ** 63:
        raise ValueError('Overflow when unpacking long long')
    if not -top <= v <= top:
        raise RuntimeError(f'value cannot be converted to type {np_dtype.name} without overflow')
    return v & top


def from_python(data, np_dtype):
    """The array torch.tensor(data, dtype=uint16/32/64) builds from nested Python numbers, element by element
    as PyTorch converts them (NumPy's casts would wrap floats and reject uint64's top half)."""
    bits = np_dtype.itemsize * 8

    def walk(x):
        if isinstance(x, (list, tuple)):
            return [walk(v) for v in x]
        return _element(x, np_dtype, bits)
    return np.array(walk(data), dtype=np_dtype)


# -- the refusals ----------------------------------------------------------------------------------------------
# An entry names PyTorch's CPU kernel that has no loop for these dtypes: a string, or a function of the call's
# arguments after ``input`` giving the kernel (None: the call is served). 'E' ops are elementwise: they refuse
# only when their computing dtype (with the other operands, promotion first) is a shell one; the others refuse
# on ``input``'s dtype.
def _by_dim(whole, dim):
    """A reduction whose kernel differs with and without ``dim``."""
    return lambda a, k: dim if (a and not _is_tensor(a[0])) or 'dim' in k else whole


def _minmax(whole, binary, dim):
    """max/min: of all, against a tensor, along a dim."""
    return lambda a, k: binary if (a and _is_tensor(a[0])) or _is_tensor(k.get('other')) else \
        dim if a or 'dim' in k else whole


def _clamp(lo, hi):
    """clamp/clip: tensor bounds take maximum/minimum, number bounds the scalar kernels."""
    def kernel(a, k):
        low = a[0] if a else k.get('min')
        high = a[1] if len(a) > 1 else k.get('max')
        if _is_tensor(low) and _is_tensor(high):
            return 'clamp_cpu'
        if _is_tensor(low) or _is_tensor(high):
            return 'maximum_cpu' if low is not None else 'minimum_cpu'
        return 'clamp_scalar_cpu' if low is not None and high is not None else lo if low is not None else hi
    return kernel


def _div(a, k):
    mode = k.get('rounding_mode')
    return {'floor': 'div_floor_cpu', 'trunc': 'div_trunc_cpu'}.get(mode)


def _sum_dtype(a, k):
    d = k.get('dtype')
    return 'sum_cpu' if d is not None and getattr(d, 'np', None) in _SHELL_NP else None


def _matmul(t, a, k):
    """Two tensors of the same shell dtype, each at least 1-d (matmul refuses other pairs itself)."""
    other = a[0] if a else k.get('other')
    if not _is_tensor(other) or other._data.dtype != t._data.dtype or not (t._data.ndim and other._data.ndim):
        return None
    if t._data.ndim == 1:
        return 'dot' if other._data.ndim == 1 else 'addmm_impl_cpu_'
    return 'addmv_impl_cpu' if other._data.ndim == 1 else 'addmm_impl_cpu_' if t._data.ndim == 2 else 'bmm'


def _matrix_power(a, k):
    n = a[0] if a else k.get('n')
    return 'eye' if n == 0 else None if n == 1 else 'addmm_impl_cpu_'


def _tensor_other(kernel):
    """A binary op whose ``other`` must be a tensor (the op itself refuses a number)."""
    return lambda a, k: kernel if _is_tensor(a[0] if a else k.get('other')) else None


def _softmax(kernel):
    """softmax/log_softmax: the kernel along the last dim has its own name."""
    def rule(t, a, k):
        dim = a[0] if a else k.get('dim')
        last = dim is None or dim % max(t._data.ndim, 1) == max(t._data.ndim, 1) - 1
        return kernel.replace('_kernel', '_lastdim_kernel') if last else kernel
    return rule


def _tensordot(t, a, k):
    """tensordot: a contraction of every dim is one dot, any other a matrix product."""
    other, dims = (a[0] if a else k.get('b')), (a[1] if len(a) > 1 else k.get('dims', 2))
    n = dims if isinstance(dims, int) else len(dims[0])
    return 'dot' if _is_tensor(other) and n == t._data.ndim == other._data.ndim else 'addmm_impl_cpu_'


def _bucketize(t, a, k):
    """bucketize promotes (boundaries, input), in that order; in a floating dtype it computes."""
    from ._dtype import FROM_NP, SHELL, promote_types
    b = a[0] if a else k.get('boundaries')
    if _is_tensor(b) and promote_types(FROM_NP[b._data.dtype], FROM_NP[t._data.dtype]) not in SHELL:
        return None
    return 'searchsorted_out_cpu'


def _heaviside(t, a, k):
    """heaviside refuses operands of different dtypes itself, before its kernel."""
    v = a[0] if a else k.get('values')
    return 'heaviside_cpu' if _is_tensor(v) and v._data.dtype == t._data.dtype else None


def _sub(a, k):
    """Subtracting a bool is refused by sub itself, before its kernel."""
    v = a[0] if a else k.get('other')
    return None if type(v) is bool or _is_tensor(v) and v._data.dtype == bool else 'add_stub'


def _setitem(t, a, k):
    """``t[key] = value``: a mask writes through masked_fill, index tensors through index_put; ints and slices
    are copies."""
    keys = a[0] if isinstance(a[0], tuple) else (a[0],)
    tensors = [v for v in keys if _is_tensor(v) and v._data.ndim]
    if any(v._data.dtype == bool for v in tensors):
        return 'masked_fill'
    return 'index_put' if tensors or any(isinstance(v, list) for v in keys) else None


def _pow(a, k):
    """A Python integer exponent 0 or 1 is served (ones, a copy); a negative one is refused by pow itself."""
    e = a[0] if a else k.get('exponent')
    return None if type(e) in (int, bool) and e <= 1 else 'pow'


def _rpow(a, k):
    """``base ** t``: the base 1 is served (ones)."""
    return None if type(a[0]) in (int, bool) and a[0] == 1 else 'pow'


def _flips_inner(t, dims):
    """Whether flipping ``dims`` of ``t`` reverses its innermost dim in memory (of those longer than 1): only
    that needs the dtype's flip kernel; flipping outer dims is a copy of whole rows."""
    arr = t._data
    long = [d for d in range(arr.ndim) if arr.shape[d] > 1]
    if not long:
        return False
    inner = min(long, key=lambda d: (abs(arr.strides[d]), -d))
    return inner in {d % arr.ndim for d in dims}


def _flip(t, a, k):
    """flip: a dim out of range is PyTorch's IndexError (a repeated one, flip's own error)."""
    from .ops._util import wrap_dims
    dims = tuple(a) if len(a) > 1 else a[0] if a else k.get('dims', ())
    try:
        dims = wrap_dims(dims, t._data.ndim)
    except (TypeError, RuntimeError):
        return None
    return 'flip_cpu' if _flips_inner(t, dims) else None


def _k_in_range(kernel, low):
    """topk (k from 0) and kthvalue (from 1) refuse a k beyond their dim themselves, before the kernel."""
    def rule(t, a, k):
        n = a[0] if a else k.get('k')
        dim = a[1] if len(a) > 1 else k.get('dim', -1)
        size = t._data.shape[dim] if t._data.ndim and isinstance(dim, int) else 1
        return kernel if isinstance(n, int) and low <= n <= size else None
    return rule


def _rot90(t, a, k):
    """rot90 flips dims[1] (k = 1), both (k = 2) or dims[0] (k = 3), then transposes."""
    turns = (a[0] if a else k.get('k', 1)) % 4
    dims = a[1] if len(a) > 1 else k.get('dims', (0, 1))
    from .ops._util import wrap_dims
    if len(dims) != 2 or t._data.ndim < 2:   # (rot90's own checks come first)
        return None
    try:
        wrap_dims(dims, t._data.ndim)   # (out of range: PyTorch's IndexError, before the kernel)
    except (TypeError, RuntimeError):
        return None
    flipped = {0: (), 1: (dims[1],), 2: tuple(dims), 3: (dims[0],)}[turns]
    return 'flip_cpu' if _flips_inner(t, flipped) else None


def _bernoulli(a, k):
    p = a[0] if a else k.get('p')
    return 'bernoulli_tensor_cpu_self_' if p is None or _is_tensor(p) else 'bernoulli_scalar_cpu_'


def _bernoulli_(a, k):
    p = a[0] if a else k.get('p', 0.5)
    return 'bernoulli_tensor_cpu_self_' if _is_tensor(p) else 'bernoulli_scalar_cpu_'


def _einsum_pair(left, right, contracted, np_dtype):
    """One step of einsum's left-to-right fold, both operands of shell dtype ``np_dtype`` (label -> size): a
    label contracted with size > 1 on both sides goes through bmm; one of size 1 on one side is first summed on
    the other (into int64), which bmm (when it leads) or mul then refuses. None: served (mul, or empty)."""
    if 0 in left.values() or 0 in right.values():
        return None
    real = any(left[c] > 1 and right[c] > 1 for c in contracted)
    left_long = any(left[c] > 1 and right[c] == 1 for c in contracted)
    right_long = any(left[c] == 1 and right[c] > 1 for c in contracted)
    if real:
        if left_long:
            from ._dtype import scalar_name
            return RuntimeError(f'expected scalar type Long but found {scalar_name(np_dtype)}')
        return 'bmm'
    if left_long or right_long:
        long = np.dtype(np.int64)
        try:
            promotion(long if left_long else np_dtype, long if right_long else np_dtype)
        except RuntimeError as e:
            return e
    return None


def _einsum(args, kwargs):
    """einsum: its operands folded left to right as PyTorch's einsum folds them (an operand with a label of its
    own is summed into int64 first; ember's einsum raises what that leads to)."""
    from .ops.blas import _parse, _sublist_equation
    equation, ops = _sublist_equation(args) if len(args) >= 2 and not isinstance(args[0], str) else (args[0], args[1:])
    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
        ops = tuple(ops[0])
    arrays = [o._data for o in ops]
    subs, out = _parse(equation, arrays)
    if any(len(s) != a.ndim for s, a in zip(subs, arrays)) or arrays[0].dtype not in _SHELL_NP:
        return None   # (a left operand of another dtype: bmm's dtype check or mul's promotion, ember's own)
    sizes = [dict(zip(s, a.shape)) for s, a in zip(subs, arrays)]
    if any(len({d[c] for d in sizes if c in d} - {1}) > 1 for c in set(''.join(subs))):
        return None   # operands that do not broadcast
    for i, s in enumerate(subs):
        if any(c not in out and not any(c in t for j, t in enumerate(subs) if j != i) for c in s):
            return None   # summed into int64 first
    cur = sizes[0]
    for i in range(1, len(subs)):
        later = set(out).union(*subs[i + 1:])
        contracted = [c for c in cur if c in sizes[i] and c not in later]
        if arrays[i].dtype != arrays[0].dtype:   # bmm picks its kernel by the left operand's dtype, then checks
            real = any(cur[c] > 1 and sizes[i][c] > 1 for c in contracted)
            return 'bmm' if real and 0 not in cur.values() and 0 not in sizes[i].values() else None
        refusal = _einsum_pair(cur, sizes[i], contracted, arrays[0].dtype) if contracted else None
        if refusal is not None:
            return refusal
        cur = {c: max(cur.get(c, 1), sizes[i].get(c, 1)) for c in {**cur, **sizes[i]} if c not in contracted}
    return None


def _multi_dot(args, kwargs):
    """linalg.multi_dot: addmm for every product, once its own checks pass; a chain with an empty dim is served."""
    ts = list(args[0] if args else kwargs.get('tensors', ()))
    if len(ts) < 2 or len({t._data.dtype for t in ts}) > 1 or ts[0].dim() not in (1, 2) or \
            ts[-1].dim() not in (1, 2) or any(t.dim() != 2 for t in ts[1:-1]):
        return None
    mats = [t._data.reshape(1, -1) if i == 0 and t.dim() == 1 else t._data.reshape(-1, 1) if t.dim() == 1 else
            t._data for i, t in enumerate(ts)]
    if any(a.shape[1] != b.shape[0] for a, b in zip(mats, mats[1:])) or any(0 in a.shape for a in mats):
        return None
    return 'addmm_impl_cpu_'


# ops whose tensors come as operands (einsum's list, multi_dot's list): function's module name -> rule
OPERANDS = {'einsum': _einsum, 'multi_dot': _multi_dot}


E, T = 'E', 'T'   # T: the rule also reads the tensor
RULES = {
    'add': (E, 'add_stub'), 'sub': (E, _sub), 'subtract': (E, _sub), 'rsub': (E, _sub),
    'lt': (E, 'lt_cpu'), 'less': (E, 'lt_cpu'), 'le': (E, 'le_cpu'), 'less_equal': (E, 'le_cpu'),
    'gt': (E, 'gt_cpu'), 'greater': (E, 'gt_cpu'), 'ge': (E, 'ge_cpu'), 'greater_equal': (E, 'ge_cpu'),
    'floor_divide': (E, 'div_floor_cpu'), 'div': (E, _div), 'divide': (E, _div), 'true_divide': (E, _div),
    'remainder': (E, 'remainder_cpu'), 'fmod': (E, 'fmod_cpu'), 'pow': (E, _pow), 'rpow': (E, _rpow),
    'bitwise_left_shift': (E, 'lshift_cpu'), 'bitwise_right_shift': (E, 'rshift_cpu'),
    'maximum': (E, _tensor_other('maximum_cpu')), 'minimum': (E, _tensor_other('minimum_cpu')), 'fmax': (E, _tensor_other('maximum_cpu')),
    'fmin': (E, _tensor_other('minimum_cpu')), 'heaviside': (T, _heaviside), 'gcd': (E, _tensor_other('gcd_cpu')), 'lcm': (E, _tensor_other('lcm_cpu')),
    'hypot': (E, _tensor_other('hypot_cpu')), 'logaddexp': (E, _tensor_other('logaddexp_cpu')), 'logaddexp2': (E, _tensor_other('logaddexp2_cpu')),
    'nextafter': (E, _tensor_other('nextafter_cpu')), 'igamma': (E, _tensor_other('igamma_cpu')), 'igammac': (E, _tensor_other('igammac_cpu')),
    'logical_and': (E, _tensor_other('logical_and_cpu')), 'logical_or': (E, _tensor_other('logical_or_cpu')),
    'logical_xor': (E, _tensor_other('logical_xor_cpu')), 'dist': (E, 'add_stub'),
    'clamp': (E, _clamp('clamp_min_scalar_cpu', 'clamp_max_scalar_cpu')),
    'clip': (E, _clamp('clamp_min_scalar_cpu', 'clamp_max_scalar_cpu')),
    'clamp_min': (E, lambda a, k: 'maximum_cpu' if _is_tensor((a or [k.get('min')])[0]) else 'clamp_min_scalar_cpu'),
    'clamp_max': (E, lambda a, k: 'minimum_cpu' if _is_tensor((a or [k.get('max')])[0]) else 'clamp_max_scalar_cpu'),
    'max': (None, _minmax('max_all', 'maximum_cpu', 'max_cpu')),
    'min': (None, _minmax('min_all', 'minimum_cpu', 'min_cpu')),
    'neg': (None, 'neg_cpu'), 'negative': (None, 'neg_cpu'), 'abs': (None, 'abs_cpu'), 'absolute': (None, 'abs_cpu'),
    'sign': (None, 'sign_cpu'), 'sgn': (None, 'sign_cpu'), 'bitwise_not': (None, 'bitwise_not_cpu'),
    'logical_not': (None, 'logical_not_cpu'), 'square': (None, 'pow'), 'frac': (None, 'frac_cpu'),
    'relu': (None, 'clamp_min_scalar_cpu'), 'hardshrink': (None, 'hardshrink_cpu'),
    'amax': (None, 'max_values_cpu'), 'amin': (None, 'min_values_cpu'), 'aminmax': (None, 'aminmax_cpu'),
    'argmax': (None, 'argmax_cpu'), 'argmin': (None, 'argmin_cpu'), 'cummax': (None, 'cummax_cpu'),
    'cummin': (None, 'cummin_cpu'), 'logcumsumexp': (None, 'logcumsumexp_out_cpu'),
    'median': (None, _by_dim('median_cpu', 'median_out')), 'nanmedian': (None, _by_dim('median_cpu', 'median_out')),
    'mode': (None, 'mode_cpu'), 'kthvalue': (T, _k_in_range('kthvalue_cpu', 1)), 'topk': (T, _k_in_range('topk_cpu', 0)),
    'nonzero': (None, 'nonzero_count_cpu'), 'argwhere': (None, 'nonzero_count_cpu'),
    'count_nonzero': (None, _by_dim('nonzero_count_cpu', None)), 'nonzero_static': (None, 'nonzero_count_cpu'),
    'sum': (None, _sum_dtype), 'nansum': (None, _sum_dtype), 'trace': (None, 'trace'),
    'histc': (None, 'aminmax_cpu'), 'histogram': (None, 'histogramdd'), 'bincount': (None, 'bincount_cpu'),
    'tril': (None, 'tril'), 'triu': (None, 'triu'), 'flip': (T, _flip),
    'fliplr': (T, lambda t, a, k: _flip(t, (1,), {}) if t._data.ndim > 1 else None), 'flipud': (T, lambda t, a, k: _flip(t, (0,), {}) if t._data.ndim else None),
    'rot90': (T, _rot90), 'diff': (None, lambda a, k: None if (a[0] if a else k.get('n', 1)) == 0 else 'add_stub'), 'cholesky_solve': (None, 'cholesky_solve_cpu'),
    'bernoulli': (None, _bernoulli), 'bernoulli_': (None, _bernoulli_),
    'random_': (None, lambda a, k: None if a or k else 'random_kernel_cpu'),
    'cumsum_': (None, 'cumsum_out_cpu'), 'cumprod_': (None, 'cumprod_out_cpu'),
    'to_sparse': (None, 'nonzero_count_cpu'), 'to_sparse_coo': (None, 'nonzero_count_cpu'),
    'to_sparse_csr': (None, 'index_select'), 'to_sparse_csc': (None, 'index_select'),
    'matmul': (T, _matmul), 'mm': (None, 'addmm_impl_cpu_'), 'bmm': (None, 'bmm'), 'dot': (None, 'dot'),
    'inner': (None, 'addmm_impl_cpu_'), 'matrix_power': (None, _matrix_power), 'mv': (None, 'addmv_impl_cpu'),
    'masked_fill': (None, 'masked_fill'), 'index_select': (None, 'index_select'),
    'gather': (None, 'scatter_gather_tensor_cpu'), 'scatter': (None, 'scatter_gather_tensor_cpu'),
    'index_put': (None, 'index_put'), 'addcmul': (None, 'addcmul_cpu_out'), 'addcdiv': (None, 'addcdiv_cpu_out'),
    'lerp': (None, 'lerp_kernel_scalar'), 'cholesky': (None, 'cholesky_cpu'),
    'log_softmax': (T, _softmax('log_softmax_kernel_impl')), 'softmax': (T, _softmax('softmax_kernel_impl')),
    'isin': (None, 'isin_default_cpu'), 'vdot': (None, 'dot'), 'addmm': (None, 'addmm_impl_cpu_'),
    'baddbmm': (None, 'baddbmm'), 'cross': (None, 'cross'), 'tensordot': (T, _tensordot),
    'chain_matmul': (None, lambda a, k: 'addmm_impl_cpu_' if a else None),
    'searchsorted': (E, 'searchsorted_out_cpu'), 'bucketize': (T, _bucketize),
    'where': (None, lambda a, k: None if a or k else 'nonzero_count_cpu'),
    'masked_select': (None, 'masked_select'), 'take': (None, 'take_cpu'), '__setitem__': (T, _setitem),
}
# Tensor's operators, by the op they run
OPERATORS = {'__add__': 'add', '__radd__': 'add', '__iadd__': 'add', '__sub__': 'sub', '__rsub__': 'sub',
             '__isub__': 'sub', '__lt__': 'lt', '__le__': 'le', '__gt__': 'gt', '__ge__': 'ge',
             '__floordiv__': 'floor_divide', '__rfloordiv__': 'floor_divide', '__ifloordiv__': 'floor_divide',
             '__mod__': 'remainder', '__rmod__': 'remainder', '__imod__': 'remainder', '__pow__': 'pow',
             '__rpow__': 'rpow', '__ipow__': 'pow', '__lshift__': 'bitwise_left_shift',
             '__rlshift__': 'bitwise_left_shift', '__ilshift__': 'bitwise_left_shift',
             '__rshift__': 'bitwise_right_shift', '__rrshift__': 'bitwise_right_shift',
             '__irshift__': 'bitwise_right_shift', '__neg__': 'neg', '__abs__': 'abs', '__invert__': 'bitwise_not',
             '__matmul__': 'matmul', '__rmatmul__': 'matmul'}
# factories: refused when asked for a shell dtype
FACTORIES = {'arange': 'arange_cpu', 'range': 'arange_cpu', 'linspace': 'linspace_cpu',
             'logspace': 'logspace_cpu', 'eye': 'eye', 'randperm': 'randperm', 'rand': 'check_uniform_bounds',
             'rand_like': 'check_uniform_bounds', 'randn': 'normal_kernel_cpu', 'randn_like': 'normal_kernel_cpu'}


def _is_tensor(v):
    return hasattr(v, '_data') and hasattr(v, 'grad_fn')


def _floating(v):
    """Whether operand ``v`` makes an elementwise op compute in a floating (or complex) dtype."""
    if isinstance(v, (float, complex)):
        return True
    return _is_tensor(v) and v._data.dtype.kind in 'fcV'


def _check(kind, rule, tensor, args, kwargs):
    """Raise PyTorch's refusal when ``tensor`` (of a shell dtype) meets a kernel with no loop for its dtype;
    ``args``/``kwargs``: the call's other arguments."""
    from ._dtype import SHELL, result_type, scalar_name
    if kind == E:
        others = [v for v in args[:2] if _is_tensor(v) or isinstance(v, (int, float, complex))]
        others += [kwargs[n] for n in ('other', 'exponent', 'min', 'max') if kwargs.get(n) is not None]
        if result_type(tensor, *others) not in SHELL:   # computed in a floating dtype (promotion may raise)
            return
    kernel = rule if not callable(rule) else rule(tensor, args, kwargs) if kind == T else rule(args, kwargs)
    if kernel is not None:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(tensor._data.dtype)}\'')


def _binds(fn, args, kwargs):
    """Whether ``fn`` takes these arguments; a ``dim`` out of range raises PyTorch's IndexError here, as
    PyTorch wraps dims before it picks a kernel (a dim of a wrong type or repeated: ``fn`` refuses it itself)."""
    from .ops._util import wrap_dims
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError:
        return False
    except ValueError:   # no signature to read
        return True
    dims = bound.arguments.get('dim')
    if dims is not None and not (isinstance(dims, (tuple, list)) and not dims):
        try:
            wrap_dims(dims, args[0]._data.ndim)
        except (TypeError, RuntimeError):
            return False
    return True


_MADE = {}   # Tensor subclass -> whether its _data is a property (made on access, or refused)


def _shell_tensor(x):
    """Whether ``x`` is a tensor of a shell dtype, without making its array: a sparse tensor's ``_data`` is its
    dense array (7 TiB for a 10^6 x 10^6 matrix), so its values' dtype is read; ``x.dtype`` would dispatch to a
    subclass's ``__torch_function__``."""
    if not isinstance(x, _TENSOR[0]):
        return False
    made = _MADE.get(type(x))
    if made is None:
        made = _MADE[type(x)] = isinstance(inspect.getattr_static(type(x), '_data', None), property)
    if made:
        vals = getattr(x, '_vals', None)
        return vals is not None and vals.dtype in _SHELL_NP
    return x._data.dtype in _SHELL_NP


def _gated(fn, kind, rule, reflected=None):
    """``fn`` refusing, before it runs, a call whose first argument is a tensor of a shell dtype that ``rule``
    refuses (``reflected``: the rule for a number first and such a tensor second, torch.pow(2, t)). The check is
    one set lookup of the array's dtype (~70 ns a call)."""
    tensor = _TENSOR[0]

    @functools.wraps(fn)
    def gated(*args, **kwargs):
        first = args[0] if args else None
        shell = first._data.dtype in _SHELL_NP if type(first) is tensor else _shell_tensor(first)
        if reflected and not shell and not isinstance(first, tensor) and len(args) > 1 and _shell_tensor(args[1]):
            _check(*reflected, args[1], (args[0],) + args[2:], kwargs)
        if shell and _binds(fn, args, kwargs):   # (arguments fn refuses are refused by fn, first)
            _check(kind, rule, args[0], args[1:], kwargs)
        return fn(*args, **kwargs)
    return gated


def _shell_operand(args):
    """The first tensor of a shell dtype among a call's arguments, one list deep (None: none)."""
    for v in args:
        for t in v if isinstance(v, (list, tuple)) else (v,):
            if _shell_tensor(t):   # (a sparse operand's array is not made)
                return t
    return None


def _gated_operands(fn, rule):
    """``fn`` refusing a call with a tensor of a shell dtype among its operands that ``rule`` refuses; a call
    ``rule`` cannot read (bad arguments) goes to ``fn``, which refuses it itself, first."""
    @functools.wraps(fn)
    def gated(*args, **kwargs):
        shell = _shell_operand(args)
        if shell is None and kwargs:
            shell = _shell_operand(kwargs.values())
        if shell is not None:
            try:
                refusal = rule(args, kwargs)
            except Exception:   # (fn's own error for these arguments comes first)
                refusal = None
            if isinstance(refusal, Exception):
                raise refusal
            if refusal is not None:
                from ._dtype import scalar_name
                raise NotImplementedError(f'"{refusal}" not implemented for \'{scalar_name(shell._data.dtype)}\'')
        return fn(*args, **kwargs)
    return gated


def _factory(fn, kernel):
    """``fn`` refusing a shell ``dtype=``."""
    @functools.wraps(fn)
    def gated(*args, dtype=None, **kwargs):
        if getattr(dtype, 'np', None) in _SHELL_NP:
            from ._dtype import scalar_name
            raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(dtype)}\'')
        return fn(*args, dtype=dtype, **kwargs)
    return gated


_ARMED = []
_TENSOR = [None]   # ember.Tensor, set by install (this module is imported before it exists)
NAMES = ('uint16', 'uint32', 'uint64')
# function replaced by its gate -> the gate: __torch_function__ handlers get the object the program now sees as
# torch.add (PyTorch's functions never change identity; these do once, on arming)
PUBLIC = {}


def arm():
    """Put the gates on, once (on the first use of a shell dtype)."""
    if not _ARMED:
        _ARMED.append(True)
        import ember
        install(ember, ember.Tensor, ember.nn.functional)


def module_getattr(fallback):
    """ember's module ``__getattr__``: the shell dtypes' names arm the gates; any other name goes to ``fallback``."""
    def getattr_(name):
        if name in NAMES:
            from . import _dtype
            arm()
            return getattr(_dtype, name)
        return fallback(name)
    return getattr_


def install(module, tensor_cls, functional):
    """Put the gates on ember's functions, Tensor's methods (and their in-place forms), operators and factories."""
    import types
    _TENSOR[0] = tensor_cls
    for op, (kind, rule) in RULES.items():
        places = [(tensor_cls, op)] if op.endswith('_') else \
            [(module, op), (tensor_cls, op), (functional, op)] + ([] if op + '_' in RULES else [(tensor_cls, op + '_')])
        for owner, name in places:
            fn = owner.__dict__.get(name) if isinstance(owner, type) else _public_function(owner, name)
            if isinstance(fn, types.FunctionType):
                _replace(owner, name, fn, _gated(fn, kind, rule, RULES['rpow'] if owner is module and op == 'pow' else None))
    for name, op in OPERATORS.items():
        fn = tensor_cls.__dict__.get(name)
        if isinstance(fn, types.FunctionType):
            _replace(tensor_cls, name, fn, _gated(fn, *RULES[op]))
    for name, rule in OPERANDS.items():   # (the public names only: ember's own calls stay ungated)
        for owner in (module, module.functional, module.linalg):
            fn = _public_function(owner, name)
            if isinstance(fn, types.FunctionType):
                _replace(owner, name, fn, _gated_operands(fn, rule))
    for name, kernel in FACTORIES.items():
        fn = _public_function(module, name)
        if isinstance(fn, types.FunctionType):
            _replace(module, name, fn, _factory(fn, kernel))


def _public_function(module, name):
    """The Python function behind public ``module.name`` (a builtin where PyTorch's is one), or None."""
    from . import _builtin
    return _builtin.function(module.__dict__.get(name))


def _replace(owner, name, fn, gate):
    """Put ``gate`` where ``fn`` was, remembering which replaced which (PUBLIC): one gate a function, so a
    function that is both torch.X and Tensor.X stays one object; a module's as the builtin PyTorch's is."""
    from . import _builtin
    gate = PUBLIC.setdefault(fn, gate)
    setattr(owner, name, gate if isinstance(owner, type) else _builtin.public(gate, owner.__name__, name))
