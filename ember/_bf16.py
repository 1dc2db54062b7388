"""bfloat16 storage on NumPy, which has no such type. A bf16 array is a float32 array in the non-native byte
order: its dtype differs from float32's, so ember's dtype lookups and promotion (keyed on the NumPy dtype)
tell the two apart. ``BF16Array``, an ndarray subclass, runs every ufunc and NumPy function in native
float32; a tensor's array is rounded to bfloat16 (round to nearest even) when the op that made it wraps it
(``adopt``), so an op rounds once, as PyTorch's CPU kernels compute bf16 ops in float and round the result. Chosen over uint16 storage
(which NumPy would add and multiply as integers) and over a tag on Tensor (a field on the hot path)."""
import sys

import numpy as np

from . import _quiet
from ._complex import ComplexArray
from ._meta import MetaArray, placeholder

NP = np.dtype(np.float32).newbyteorder('>' if sys.byteorder == 'little' else '<')
_F32 = np.dtype(np.float32)


def is_bf16(dt):
    return dt.kind == 'f' and dt.itemsize == 4 and not dt.isnative


def round_f32(x):
    """Float32 values rounded to the nearest bfloat16 (ties to even; NaN stays NaN), still float32."""
    x = np.array(x, dtype=_F32, order='C')
    bits = x.view(np.uint32)
    out = ((bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) & np.uint32(0xFFFF0000))
    out = out.view(np.float32)
    nan = np.isnan(x)
    return np.where(nan, x, out) if nan.any() else out


def from_f32(x):
    """A BF16Array of the values ``x`` (any real dtype: converted to float32, then rounded)."""
    return np.asarray(round_f32(np.asarray(x, dtype=_F32))).astype(NP).view(BF16Array)


def from_bits(bits):
    """A BF16Array of 16-bit bfloat16 patterns (as PyTorch stores them); a 1-D storage stays one block."""
    bits = np.asarray(bits, np.uint16)
    if bits.ndim == 0:   # NumPy's shift of a 0-d array gives a scalar
        return from_bits(bits.reshape(1)).reshape(())
    return (bits.astype(np.uint32) << np.uint32(16)).view(_F32).astype(NP).view(BF16Array)


def to_bits(a):
    """The 16-bit patterns (uint16) of bf16 array ``a``, same shape and memory order (C order when broadcast)."""
    if np.ndim(a) == 0:
        return to_bits(np.asarray(a).reshape(1)).reshape(())
    return (to_f32(a).view(np.uint32) >> np.uint32(16)).astype(np.uint16)


def bits_view(a, nd):
    """Array ``a`` read as NumPy dtype ``nd`` byte for byte as PyTorch stores it, where ``a`` or ``nd`` is bf16:
    a bf16 element is the 16-bit top half of its float32 word (exact, as the values are rounded). A copy in the
    same memory order (ember's bf16 arrays hold 4-byte words, so no 2-byte view of them exists); the caller
    checks PyTorch's shape and stride conditions."""
    src = to_bits(a) if is_bf16(a.dtype) else a
    raw = np.dtype(np.uint16) if is_bf16(nd) else nd
    if src.ndim == 0:
        src = src.reshape(1)
        out = src.view(raw).reshape(())
    else:
        if src.itemsize != raw.itemsize and src.strides[-1] != src.itemsize:   # a last dim of size 1
            src = np.ascontiguousarray(src)
        out = src.view(raw)
    return from_bits(out) if is_bf16(nd) else out


_SHADOWS = {}   # id(root array) -> (weakref to it, uint16 patterns of its memory); see shadow_ptr


def _forget(key):
    return lambda ref: _SHADOWS.pop(key, None)


def shadow_ptr(a):
    """The address PyTorch's ``data_ptr()`` would give bf16 array ``a``: into a 2-byte-per-element copy of its
    root memory's patterns, refreshed on each call and kept while the root lives, so that code reading
    ``numel * 2`` bytes from it through ctypes (safetensors' writer) reads PyTorch's bytes, and pointer sums
    (``t[1].data_ptr() - t.data_ptr() == 2``, shared-memory checks) agree with PyTorch's. ``None`` when the root
    memory is not one dense block."""
    import weakref
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not (root.flags.c_contiguous or root.flags.f_contiguous) or not root.size:
        return None
    words = root.view(np.ndarray).ravel(order='K')
    entry = _SHADOWS.get(id(root))
    if entry is None or entry[0]() is not root or entry[1].size != words.size:
        entry = _SHADOWS[id(root)] = (weakref.ref(root, _forget(id(root))), np.empty(words.size, np.uint16))
    shadow = entry[1]
    shadow[...] = to_bits(words)
    start = root.__array_interface__['data'][0]
    return shadow.__array_interface__['data'][0] + (a.__array_interface__['data'][0] - start) // 2


# id(version cell) -> (the cell, [(source array, weakref to its copy), ...]): the array a dtype view across bfloat16
# was taken from and the view's own (a copy, see bits_view), kept in step by sync while the copy lives; the source is
# held, as a PyTorch view holds its storage
LINKED = {}


def link(cell, src, view):
    """Keep array ``view`` (``src`` read through bits_view) and ``src`` in step: an in-place write to a tensor
    sharing version ``cell`` with them (Tensor._bump) copies the written side's bytes into the other, so a dtype
    view across bfloat16 reads and writes its source as PyTorch's shared-memory view does."""
    import weakref
    entry = LINKED.get(id(cell))
    if entry is None or entry[0] is not cell:
        entry = LINKED[id(cell)] = (cell, [])
    entry[1].append((src, weakref.ref(view, _unlink(id(cell)))))


def _unlink(key):
    """The callback that drops a link, and with it the held source, once its copy is gone."""
    def drop(ref):
        entry = LINKED.get(key)
        if entry is not None:
            entry[1][:] = [pair for pair in entry[1] if pair[1] is not ref]
            if not entry[1]:
                del LINKED[key]
    return drop


def _root(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def sync(cell, written):
    """After an in-place write to array ``written`` in ``cell``'s family: each linked pair copied from the side
    ``written`` belongs to onto the other (links whose arrays are gone are dropped)."""
    entry = LINKED.get(id(cell))
    if entry is None or entry[0] is not cell:
        return
    root, alive = _root(written), []
    for pair in entry[1]:
        src, view = pair[0], pair[1]()
        if view is not None:
            alive.append((pair, src, view))
    for _, src, view in alive:     # the written copies into their sources first, then every other copy refreshed
        if _root(view) is root:
            np.copyto(src.view(np.ndarray), bits_view(view, src.dtype).view(np.ndarray))
    for _, src, view in alive:
        if _root(view) is not root:
            np.copyto(view.view(np.ndarray), bits_view(src, view.dtype).view(np.ndarray))
    alive = [pair for pair, _, _ in alive]
    if alive:
        entry[1][:] = alive
    else:
        del LINKED[id(cell)]


def to_f32(a):
    """The native float32 array of bf16 array ``a``, in its memory order; C order for a broadcast (stride 0)
    array, whose own order NumPy would make column-major (PyTorch's results of expanded inputs are row-major). A
    meta array (``ember._meta``) gives a float32 one."""
    if type(a) is MetaArray:
        return placeholder(a.shape, _F32)
    a = np.asarray(a)
    return a.astype(_F32, order='C' if 0 in a.strides else 'K')


def adopt(arr):
    """``arr`` as a tensor's array: a bf16 array is rounded here, in place, once per op (NumPy calls inside
    one op keep float32 precision, as PyTorch's kernels do; a view of a stored tensor is already rounded and
    stays a view); a complex array as a ``ComplexArray`` (``ember._complex``); anything else as ``np.asarray``
    gives it."""
    if type(arr) is not BF16Array:
        if type(arr) is ComplexArray:
            return arr
        arr = np.asarray(arr)
        if not is_bf16(arr.dtype):
            return arr.view(ComplexArray) if arr.dtype.kind == 'c' else arr
        arr = arr.view(BF16Array)
    elif not is_bf16(arr.dtype):
        return np.asarray(arr)
    if arr.dtype is not NP:   # one dtype object for bf16, so that ops can test it by identity
        arr = arr.view(NP)
    plain = arr.view(np.ndarray)
    vals = plain.astype(_F32)
    rounded = round_f32(vals).reshape(vals.shape)
    if np.array_equal(rounded, vals, equal_nan=True):
        return arr
    if not plain.flags.writeable:
        return from_f32(rounded)
    np.copyto(plain, rounded)
    return arr


def _unrounded(x):
    """Float32 results of a NumPy call inside an op, as a BF16Array not yet rounded (``adopt`` rounds)."""
    return np.asarray(np.asarray(x, dtype=_F32).astype(NP)).view(BF16Array)


def cast(a, dt):
    """Float32 ``a`` as dtype ``dt``, rounded: a BF16Array for bfloat16 (``astype`` to its dtype alone would
    relabel the float32 values unrounded), else NumPy's ``astype``."""
    return from_f32(a) if dt is NP else a.astype(dt, copy=False)


def f32_in(arr):
    """An op's input array as float32 when it is bf16 (for ops that compute in float32, round once)."""
    return to_f32(arr) if type(arr) is BF16Array else arr


def out_like(arr, out):
    """An op's result: rounded to bf16 when its input ``arr`` was bf16."""
    return from_f32(out) if is_bf16(np.asarray(arr).dtype) else out


def _plain(x, state):
    """An argument of a NumPy call with bf16 arrays as native float32 (``state`` records what was seen)."""
    if isinstance(x, np.ndarray):
        if is_bf16(x.dtype):
            state[0] = True
            return to_f32(x)
        if x.dtype.kind in 'fc':
            state[1] = True
        return x.view(np.ndarray) if isinstance(x, BF16Array) else x
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v, state) for v in x)
    return x


def _result(r, state):
    """Round float32 results to bf16 when bf16 operands met no other floating arrays (PyTorch's promotion:
    bf16 with float32/float16 arrays gives float32; with integers, bools and Python floats, bf16)."""
    if not state[0] or state[1]:
        return r
    if isinstance(r, tuple):
        return tuple(_result(x, state) for x in r)
    if isinstance(r, (np.ndarray, np.floating)) and np.asarray(r).dtype == _F32:
        return _unrounded(r)
    return r


def _assign(o, r):
    """Write result ``r`` into the ``out=`` array ``o`` (rounded when ``o`` is bf16)."""
    if isinstance(o, np.ndarray) and is_bf16(o.dtype):
        np.copyto(o.view(np.ndarray), round_f32(np.asarray(r, dtype=_F32)).astype(NP))
    else:
        np.copyto(o.view(np.ndarray) if isinstance(o, BF16Array) else o, r)


# PyTorch's CPU multiply and divide take a Python scalar operand as a float; its other ops first round it
# to bf16 (measured: bf16 1 - (1 + 2**-8 + 2**-10) is -2**-7, 1 / it is 0.99609375)
_SCALAR_AS_FLOAT = {np.multiply, np.true_divide, np.divide}


_DTYPE_QUERIES = {np.result_type}
_WRITES_INTO = {np.copyto: 0, np.put: 0, np.place: 0, np.putmask: 0, np.put_along_axis: 0, np.fill_diagonal: 0}


class BF16Array(np.ndarray):
    """bfloat16 values in a non-native float32 array; NumPy calls on it compute in float32, round once."""

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        q = _quiet.enter()  # inf/NaN results without NumPy's warning, as PyTorch (see _quiet)
        try:
            return self._ufunc(ufunc, method, inputs, out, kwargs)
        finally:
            _quiet.leave(q)

    def _ufunc(self, ufunc, method, inputs, out, kwargs):
        state = [False, False]
        args = [_plain(x, state) for x in inputs]
        if 'dtype' in kwargs and kwargs['dtype'] is not None and is_bf16(np.dtype(kwargs['dtype'])):
            kwargs['dtype'] = _F32
            state[0] = True
        if state[0] and not state[1] and ufunc not in _SCALAR_AS_FLOAT:
            args = [float(round_f32(x)) if type(x) is float else x for x in args]
        if method == 'at' and is_bf16(inputs[0].dtype):   # np.add.at(dst, ...) updates dst in place
            ufunc.at(*args, **kwargs)
            np.ndarray.__setitem__(inputs[0].view(np.ndarray), Ellipsis, round_f32(args[0]).astype(NP))
            return None
        res = _result(getattr(ufunc, method)(*args, **kwargs), state)
        if out is None:
            return res
        res = res if isinstance(res, tuple) else (res,)
        for o, r in zip(out, res):
            _assign(o, r)
        return out[0] if len(out) == 1 else out

    def __array_function__(self, func, types, args, kwargs):
        q = _quiet.enter()
        try:
            return self._function(func, args, kwargs)
        finally:
            _quiet.leave(q)

    def _function(self, func, args, kwargs):
        if func in _DTYPE_QUERIES:   # answered for the float32 values; bf16 itself when nothing else is a float
            state = [False, False]
            r = func(*_plain(args, state), **kwargs)
            return NP if isinstance(r, np.dtype) and r == _F32 and state[0] and not state[1] else r
        target = _WRITES_INTO.get(func)
        if target is not None and is_bf16(args[0].dtype):   # np.copyto(dst, ...) and friends write into dst
            dst = args[0]
            work = to_f32(dst)
            func(work, *_plain(args[1:], [False, False]), **{k: _plain(v, [False, False]) for k, v in kwargs.items()})
            np.ndarray.__setitem__(dst.view(np.ndarray), Ellipsis, round_f32(work).astype(NP))
            return None
        state = [False, False]
        out = kwargs.pop('out', None)
        res = _result(func(*_plain(args, state), **{k: _plain(v, state) for k, v in kwargs.items()}), state)
        if out is None:
            return res
        _assign(out, res)
        return out

    def __getitem__(self, key):
        r = np.ndarray.__getitem__(self, key)
        return r if isinstance(r, np.ndarray) else np.array(r, dtype=NP).view(BF16Array)   # a scalar stays bf16

    def __setitem__(self, key, value):
        if isinstance(value, np.ndarray) and is_bf16(value.dtype):
            value = value.view(np.ndarray)
        else:
            value = round_f32(np.asarray(value, dtype=_F32)).astype(NP)
        np.ndarray.__setitem__(self.view(np.ndarray), key, value)

    def astype(self, dtype, *args, **kwargs):
        """To bf16: a copy; to anything else: the float32 values cast, as a plain array."""
        dtype = np.dtype(dtype)
        if is_bf16(dtype):
            return self.copy()
        with np.errstate(over='ignore', invalid='ignore'):   # out-of-range casts are silent, as in PyTorch
            return np.asarray(self).astype(_F32).astype(dtype, *args, **kwargs)

    def tolist(self):
        return to_f32(self).tolist()

    def item(self, *args):
        return to_f32(self).item(*args)
