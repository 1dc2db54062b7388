"""The meta device: tensors that have a shape and a dtype and no data (``device='meta'``), to reason about shapes
and to build a large model without memory (``with torch.device('meta'): model = Net()``, then
``model.load_state_dict(sd, assign=True)`` or ``model.to_empty(device='cpu')``).

How: a meta tensor is an ordinary Tensor whose array is a ``MetaArray``, an ndarray subclass viewing one zero with
every stride 0, so it costs no memory at any shape. Ops compute on it as on any array (on zeros; a result's memory
lives only while the op runs) and their results are meta again: NumPy carries the subclass through ufuncs and
array functions (the hooks below make sure of their results), ``Tensor._make`` turns a MetaArray result back into
a placeholder, and where an op's code strips the subclass on the way (``np.asarray``) the op is still recognised:
a MetaArray's hooks note the user's line that started the op, and a tensor made for that same line is made meta
(``_make_meta``, installed on ``Tensor._make`` once a meta tensor exists).

Supported: the factories with ``device='meta'`` or under ``with torch.device('meta')`` / ``set_default_device``
(random ones draw nothing), ``*_like`` of a meta tensor, layers built with ``device='meta'``, ``Tensor.to('meta')``
and ``Module.to('meta')``, ``Module.to_empty(device=...)``, ``load_state_dict(..., assign=True)`` (copying into a
meta parameter without ``assign`` is PyTorch's no-op with its warning), autograd's graph (grad_fn names as on the
CPU), in-place random initialisation (a no-op, as PyTorch's). Refused as PyTorch refuses them: ``item()``,
``tolist()``, ``numpy()``, ``cpu()`` / ``to('cpu')``, and ops whose output shape depends on the values
(``nonzero``, ``masked_select``, ``unique``...: NotImplementedError naming the op). Tested against PyTorch: the
ops of tests/test_reports_b.py (pointwise, reductions, matmul/linear/conv/pooling, norms, attention, indexing,
a transformer layer, backward). Meta and CPU operands of an elementwise op or of cat/stack/where are refused with
PyTorch's device message (its first operand's device the expected one; a 0-d CPU tensor passes as a scalar, and
matrix products and in-place ops pass as in PyTorch); var/std, bfloat16 elementwise ops, reductions, products and
norms, bfloat16 cat/stack/where, and a complex tensor's real/imag stay meta. Not done: meta strides are always
contiguous ones; some ops on complex meta tensors still give CPU (complex cumsum, angle) results;
the grad_fn of an LSTM or MultiheadAttention differs (PyTorch's meta kernels record other nodes than its CPU
ones, which ember's follow). Cost: a program that never makes a meta tensor pays nothing; once one exists, every
tensor creation checks the claim (one thread-local read), and meta ops walk the stack."""
import math
import sys
import threading

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple


class MetaArray(np.ndarray):
    """The array of a meta tensor (see the module docstring). Results of NumPy calls on it are MetaArrays too."""
    __array_priority__ = 1000.0

    def __array_finalize__(self, obj):
        _touch()

    def __array_function__(self, func, types, args, kwargs):
        _touch()
        if func in _JOINS:
            operands = args[0] if func is not np.where else args[1:]
            _check_devices(args[0] if func is not np.where else args)
            bf16 = [False, False]
            for a in operands:
                if isinstance(a, np.ndarray):
                    _native(a, bf16)
            if bf16[0] and not bf16[1]:     # NumPy's join of two bfloat16 (byte-swapped) arrays is native float32
                return _mark(_as_bf16(super().__array_function__(func, types, args, kwargs)))
        if func in _LIKES and type(args[0]) is MetaArray and len(args) == 1 and _big(args[0].shape):
            # (no memory, as _on_one_element)
            return placeholder(kwargs.get('shape') or args[0].shape, kwargs.get('dtype') or args[0].dtype)
        return _mark(super().__array_function__(func, types, args, kwargs))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _touch()
        if ufunc.nin == 2 and method == '__call__' and ufunc is not np.matmul and 'out' not in kwargs:
            _check_devices(inputs)
        bf16 = [False, False]     # (a bfloat16 operand, another floating one): _bf16's promotion
        shape, inputs_in = _all_meta_shape(ufunc, method, inputs, kwargs), inputs
        inputs = [_native(i, bf16) if isinstance(i, np.ndarray) else i for i in inputs]
        out = kwargs.get('out')
        if out is not None:
            kwargs['out'] = tuple(o.view(np.ndarray) if isinstance(o, MetaArray) else o for o in out)
        if shape is not None:
            r = _on_one_element(ufunc, inputs, kwargs, shape)
        elif ufunc is np.matmul and method == '__call__' and out is None and _all_meta(inputs_in):
            r = _matmul(inputs, kwargs)
        elif method == 'reduce' and out is None and type(inputs_in[0]) is MetaArray and _big(inputs[0].shape):
            r = _reduced(ufunc, inputs, kwargs)
        else:
            r = getattr(ufunc, method)(*inputs, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _mark(_as_bf16(r) if bf16[0] and not bf16[1] else r)


def _all_meta_shape(ufunc, method, inputs, kwargs):
    """The broadcast shape of an elementwise call whose array operands are all meta (None where _on_one_element
    does not apply: a CPU operand, an ``out``, a reduction or a generalised ufunc such as matmul, an empty shape)."""
    if method != '__call__' or ufunc.signature is not None:
        return None
    arrays, outs = [i for i in inputs if isinstance(i, np.ndarray)], kwargs.get('out') or ()
    if not arrays or not _all_meta(arrays) or not _all_meta(outs):
        return None
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:      # (NumPy's error, from the ordinary call)
        return None
    return shape if _big(shape) and all(o.shape == shape for o in outs) else None


_SPREAD_FROM = 1 << 24     # elements: a meta op this large runs on one element (smaller ones compute on zeros,
                           # as NumPy's kernels give contiguous results that ember's code may view or reshape)


def _big(shape):
    """Whether a meta op's result (or a reduction's operand) of ``shape`` is one to run on one element."""
    return len(shape) > 0 and 0 not in shape and math.prod(shape) >= _SPREAD_FROM


def _all_meta(inputs):
    return all(type(i) is MetaArray for i in inputs)


def _matmul(inputs, kwargs):
    """A product of meta operands, its shape by matmul's rules and its dtype from one element of each (spread as
    _on_one_element); operands NumPy refuses go to NumPy for its error."""
    a, b = inputs
    if a.ndim == 0 or b.ndim == 0 or a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        return np.matmul(a, b, **kwargs)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    shape = batch + a.shape[-2:-1] + b.shape[-1:] if b.ndim > 1 else batch + a.shape[-2:-1]
    if not _big(shape + a.shape[-1:]):
        return np.matmul(a, b, **kwargs)
    one = [np.lib.stride_tricks.as_strided(x, (1,) * x.ndim, (0,) * x.ndim) for x in (a, b)]
    r = np.asarray(np.matmul(*one, **kwargs))
    return np.lib.stride_tricks.as_strided(r, shape, (0,) * len(shape))


def _reduced(ufunc, inputs, kwargs):
    """A meta operand's ``ufunc.reduce`` run on one element and spread to the reduced shape (strides 0), as
    _on_one_element: NumPy walked every element of a stride-0 operand (hours at the recipe's shape)."""
    a, rest = inputs[0], inputs[1:]
    kw = dict(zip(('axis', 'dtype', 'out'), rest), **kwargs)
    axis, keep = kw.pop('axis', 0), kw.pop('keepdims', False)
    axes = range(a.ndim) if axis is None else normalize_axis_tuple(axis, a.ndim)
    if any(a.shape[i] == 0 for i in axes) or kw.get('where', True) is not True:
        return getattr(ufunc, 'reduce')(*inputs, **kwargs)
    shape = tuple(1 if i in axes else n for i, n in enumerate(a.shape) if keep or i not in axes)
    one = np.lib.stride_tricks.as_strided(a, (1,) * a.ndim, (0,) * a.ndim)
    r = np.asarray(ufunc.reduce(one, axis=None, **kw))
    return np.lib.stride_tricks.as_strided(r, shape, (0,) * len(shape))


def _on_one_element(ufunc, inputs, kwargs, shape):
    """An all-meta elementwise call run on one element of each operand and spread back to ``shape`` with strides
    0: a meta result costs no memory at any size (the reasoning_about_shapes recipe's (1024, 3, 65536, 65536)
    input; computing on the whole stride-0 operand allocated the result)."""
    one = [np.lib.stride_tricks.as_strided(i, (1,) * i.ndim, (0,) * i.ndim) if isinstance(i, np.ndarray) else i
           for i in inputs]
    outs = kwargs.pop('out', None)
    r = ufunc(*one, **kwargs)
    if outs is not None:        # (a meta ``out``: its strides are 0, its one element takes the value)
        for o, v in zip(outs, r if isinstance(r, tuple) else (r,)):
            o.view(np.ndarray)[(0,) * o.ndim] = v.reshape(())
        return outs[0] if len(outs) == 1 else outs
    spread = lambda a: np.lib.stride_tricks.as_strided(a, shape, (0,) * len(shape))  # noqa: E731
    return tuple(map(spread, r)) if isinstance(r, tuple) else spread(r)


def _native(a, bf16):
    """A ufunc operand of a meta op as a plain array; a bfloat16 one (float32 in the other byte order, see _bf16)
    as native float32 bytes, its values being no one's (a meta array's are zeros, the same in either order)."""
    dt = a.dtype
    if dt.kind == 'f' and dt.itemsize == 4 and not dt.isnative:
        bf16[0] = True
        return a.view(np.ndarray).view(np.float32) if type(a) is MetaArray else a.astype(np.float32)
    if dt.kind in 'fc':
        bf16[1] = True
    return a.view(np.ndarray) if type(a) is MetaArray else a


def _as_bf16(r):
    """A meta op's float32 results relabelled bfloat16 (bfloat16 operands met no other floating ones)."""
    if isinstance(r, tuple):
        return tuple(map(_as_bf16, r))
    if isinstance(r, (np.ndarray, np.generic)) and r.dtype == np.float32:
        from ._bf16 import NP
        return np.asarray(r).view(NP)
    return r


_JOINS = (np.concatenate, np.stack, np.where)   # joins whose operands PyTorch requires on one device
_LIKES = (np.empty_like, np.zeros_like)


def _check_devices(arrays):
    """PyTorch's refusal of an elementwise op or a join (cat, stack, where) given meta and CPU tensors together,
    the first operand's device the expected one (a 0-d CPU tensor is a scalar to it, let through). Matrix products
    and in-place ops are left alone: PyTorch lets ``mm(meta, cpu)`` through (a meta result), ``mm(cpu, meta)`` too
    (a CPU one), and ``t.add_(u)`` either way (see _let_through, reached on a mismatch alone)."""
    expected = None
    for a in arrays:
        if isinstance(a, np.ndarray) and a.ndim:
            device = 'meta' if isinstance(a, MetaArray) else 'cpu'
            if expected is None:
                expected = device
            elif device != expected:
                if _let_through(arrays):
                    return
                raise RuntimeError(f'Tensor on device {device} is not on the expected device {expected}!')


def _let_through(arrays):
    """Whether a meta/CPU mix is let through: within an in-place op (``t.add_(u)``, as PyTorch lets them) or a
    backward pass (a meta output's seed gradient is a CPU one of ember's making), or when the CPU array is not a
    tensor given to any ember call on the way from the user's line (a mask dropout draws, a constant an op
    builds); each frame's arguments looked at two containers deep (``cat([t, u])`` behind a dispatching wrapper)."""
    cpu = [a for a in arrays if isinstance(a, np.ndarray) and not isinstance(a, MetaArray) and a.ndim]
    given = False
    f = sys._getframe(2)
    while f is not None:
        module = f.f_globals.get('__name__', '')
        if module == 'ember.autograd.engine':
            return True
        if module.split('.', 1)[0] not in ('ember', 'numpy'):
            break
        if module in _WRAPPERS:
            f = f.f_back
            continue
        name = f.f_code.co_name
        if name.endswith('_') and not name.endswith('__'):
            return True
        given = given or _holds(f.f_locals.values(), cpu, 2)
        f = f.f_back
    return not given


def _holds(values, arrays, depth):
    """Whether a tensor among ``values`` (or in their lists/tuples, ``depth`` deep) has one of ``arrays``."""
    for v in values:
        if isinstance(v, (list, tuple)):
            if depth and _holds(v, arrays, depth - 1):
                return True
        elif any(getattr(v, '_data', None) is a for a in arrays):
            return True
    return False


def _mark(r):
    """A NumPy result (an array, a scalar, or a tuple/list of them) as MetaArrays."""
    if isinstance(r, np.ndarray):
        return r if isinstance(r, MetaArray) else r.view(MetaArray)
    if isinstance(r, np.generic):
        return np.asarray(r).view(MetaArray)
    if isinstance(r, tuple) and hasattr(r, '_fields'):
        return type(r)(*map(_mark, r))
    if isinstance(r, (tuple, list)):
        return type(r)(map(_mark, r))
    return r


def placeholder(shape, dtype):
    """A MetaArray of ``shape`` and ``dtype``: one zero of its own, viewed with strides 0 (writable: in-place ops
    write that one element)."""
    zero = np.zeros((), dtype)
    arr = np.lib.stride_tricks.as_strided(zero, tuple(shape), (0,) * len(shape)).view(MetaArray)
    _activate()
    return arr


# -- the op a MetaArray was used in ---------------------------------------------------------------------------
class _State(threading.local):
    site = None     # (frame id, code, instruction offset) of the user's line whose op last used a MetaArray


STATE = _State()


# modules of generic wrappers around ember's ops (the shell dtypes' gates): their frames name no op
_WRAPPERS = frozenset({'ember._shell'})


def _user_frames():
    """The innermost frame outside ember and NumPy (the line that called into ember), and the ember frame it
    called (the op), from the caller's caller on."""
    f, op = sys._getframe(2), None
    while f is not None:
        name = f.f_globals.get('__name__', '')
        if name.split('.', 1)[0] not in ('ember', 'numpy'):
            return f, op
        if name.startswith('ember.') and name not in _WRAPPERS:
            op = f
        f = f.f_back
    return None, op


def _user_site():
    """The user's line that called into ember, as (frame id, its code, instruction offset)."""
    f, _ = _user_frames()
    return None if f is None else (id(f), f.f_code, f.f_lasti)


def _touch():
    STATE.site = _user_site()


def claim(t):
    """Make ``t`` (a tensor just made) meta when the op that made it used a MetaArray (see _make_meta)."""
    site = STATE.site
    if site is not None:
        if type(t._data) is not MetaArray and _same_site(site, _user_site()):
            t._data = placeholder(t._data.shape, t._data.dtype)
        STATE.site = None
    return t


def _same_site(a, b):
    return b is not None and a[0] == b[0] and a[1] is b[1] and a[2] == b[2]


_ACTIVE = []        # callbacks (tensor.py's) run once, when the first meta array is made


def _activate():
    while _ACTIVE:
        _ACTIVE.pop()()


# -- the default device (``with torch.device('meta')``, ``torch.set_default_device``) -------------------------
class _Default(threading.local):
    stack = ()      # this thread's devices entered as context managers, innermost last


DEFAULT = _Default()
SET_DEFAULT = [None]    # torch.set_default_device's device (for every thread), None for the CPU
DEFAULTS_USED = [False]  # whether either was ever set: until then a factory given no device skips the lookup


def default_device():
    """The device factories use when given none: the innermost ``with torch.device(...)``, else the default."""
    return DEFAULT.stack[-1] if DEFAULT.stack else SET_DEFAULT[0]


def is_meta_device(device):
    """Whether ``device`` (a string, a torch.device or None for the default) is the meta device."""
    if device is None:
        device = default_device() if DEFAULTS_USED[0] else None
        if device is None:
            return False
    return (device if isinstance(device, str) else getattr(device, 'type', '')).split(':')[0] == 'meta'


def to_meta(t):
    """A meta tensor of ``t``'s shape and dtype (no autograd history; requires_grad kept for a leaf)."""
    from .tensor import Tensor
    out = Tensor._make(placeholder(t._data.shape, t._data.dtype))
    if t._requires_grad and t.grad_fn is None:
        out._requires_grad = True
    return out


def no_data():
    """PyTorch's error for reading a meta tensor's values (``tolist``, a copy to the CPU)."""
    return NotImplementedError('Cannot copy out of meta tensor; no data!')


def refuse():
    """The error of an op whose output shape depends on the values, on a meta tensor, naming the op (the ember
    function the user's line called)."""
    _, op = _user_frames()
    name = 'this op' if op is None else op.f_code.co_name
    return NotImplementedError(f'{name}: ember cannot run this op on meta tensors: its result (the shape of its '
                               'output) depends on the values, which a meta tensor does not have')


def has_mask(key):
    """Whether an index (a tuple of NumPy indices) holds a boolean mask: it selects as many elements as its values
    say, so indexing a meta tensor with one is refused."""
    return any(isinstance(k, np.ndarray) and k.dtype == bool and k.ndim for k in
               (key if isinstance(key, tuple) else (key,)))

