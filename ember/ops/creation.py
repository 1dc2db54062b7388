"""Tensor creation: from data (``tensor``, ``as_tensor``, ``from_numpy``) and by shape (``zeros``,
``arange``, ...), with PyTorch's dtype inference (Python floats give the default dtype)."""

import os

import numpy as np

from .. import _bf16, _dtype, _layout, _meta, _quiet, _shell, _sparse
from .._warn import warn_user
from .._dtype import DEFAULT, SHELL_NP as _SHELL_NP, to_np
from ..storage import UntypedStorage
from ..tensor import Tensor, Size, _check_device
from ._util import shape_arg, via_float, check_tensor_args, short_type_name


def _finish(t, requires_grad, out=None, name=None, meta=False):
    """Apply ``requires_grad``; with ``out``, write t into it instead (PyTorch's out=; as in PyTorch only
    arange, fftfreq and rfftfreq warn when they resize a non-empty out); ``meta``: t made a meta tensor (see
    ember._meta)."""
    if meta and type(t._data) is not _meta.MetaArray:
        t._data = _meta.placeholder(t._data.shape, t._data.dtype)
    if requires_grad and t._data.dtype.kind not in 'fc':
        raise RuntimeError('Only Tensors of floating point and complex dtype can require gradients')
    if out is not None:   # PyTorch fills out, then makes it a leaf that requires grad
        from .inplace import write_out
        t = write_out(name, t, out, warn=name in ('arange', 'fftfreq', 'rfftfreq'))
    return t.requires_grad_(True) if requires_grad else t


def _factory(device=None, layout=None, pin_memory=False, name='torch', dtype=None, out=None):
    """Refuse what a CPU-only, strided ember cannot honour (device, layout, pinned memory) and a ``dtype`` that is
    not ``out``'s; True when the tensor is to be made on the meta device (``device``, or the default device when
    None)."""
    if out is not None:     # (factories run often: no call without out=)
        out_dtype_check(dtype, out)
    meta = _check_device(device)
    if layout is not None:
        _layout.check(name, layout)
    if pin_memory:
        raise RuntimeError('Cannot access accelerator device when none is available.')
    return meta


def _like_meta(input, device, layout, pin_memory, name):
    """_factory for a tensor made like ``input``: on input's device unless ``device`` is given."""
    if device is None and layout is None and not pin_memory:
        return type(input._data) is _meta.MetaArray
    meta = _factory(device, layout, pin_memory, name)
    return meta if device is not None else type(input._data) is _meta.MetaArray


def out_dtype_check(dtype, out):
    """PyTorch's factories refuse a dtype= other than out='s (ember made the tensor in out's dtype)."""
    if dtype is not None and isinstance(out, Tensor) and to_np(dtype) != out._data.dtype:
        raise RuntimeError(f'dtype {_dtype.scalar_name(to_np(dtype))} does not match dtype of out parameter '
                           f'({_dtype.scalar_name(out._data.dtype)})')


def _default_dtype(dtype, out, default):
    """The requested dtype, else out's (PyTorch fills ``out`` in its own dtype), else ``default``."""
    nd = to_np(dtype)
    if nd is not None:
        return nd
    return out._data.dtype if isinstance(out, Tensor) else default


def _native(arr):
    """``arr``, refused as PyTorch refuses it when its byte order is not the machine's (ember keeps the other
    order of float32 for bfloat16)."""
    if not arr.dtype.isnative and arr.dtype.itemsize > 1:
        raise ValueError('given numpy array has byte order different from the native byte order. Conversion '
                         'between byte orders is currently not supported.')
    return arr


def _infer(data, want=None):
    """NumPy array for nested Python data, with torch's dtype inference. With a requested NumPy dtype
    ``want``, Python floats stay float64 (never rounded through float32) so the final cast is exact."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        return _native(data)
    if isinstance(data, np.generic):
        return np.asarray(data)
    if isinstance(data, bool):
        return np.array(data, np.bool_)
    if isinstance(data, int):
        if want is not None and want.kind == 'f':
            return np.array(float(data), np.float64)
        if not -2**63 <= data < 2**63:
            raise ValueError('Overflow when unpacking long long')
        return np.array(data, np.int64)
    if isinstance(data, float):
        return np.array(data, DEFAULT.np if want is None else np.float64)
    if isinstance(data, complex):
        return np.array(data, _dtype.default_complex().np if want is None else np.complex128)
    if isinstance(data, (list, tuple, range)):
        return _from_sequence(data, want)
    if hasattr(data, '__array__'):
        return np.asarray(data)
    if _is_sequence(data):
        return _from_sequence(_listify(data), want)
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    raise RuntimeError(f'Could not infer dtype of {short_type_name(data)}')


def _is_sequence(x):
    """Whether torch.tensor reads ``x`` as a sequence (Python's sequence protocol: deque, bytearray, a
    class with ``__len__`` and ``__getitem__``; not dict, str or bytes; generators and sets are not)."""
    cls = type(x)
    return (not isinstance(x, (dict, str, bytes)) and hasattr(cls, '__getitem__') and hasattr(cls, '__len__'))


def _listify(x):
    """``x`` with every nested sequence other than a tensor or array made a list."""
    if isinstance(x, (Tensor, np.ndarray)) or not (isinstance(x, (list, tuple, range)) or _is_sequence(x)):
        return x
    return [_listify(x[i]) for i in range(len(x))]


class _OtherSequence(Exception):
    """A nested sequence of another type (deque...) was met: the data is made lists and read again."""


def _from_sequence(data, want=None):
    """Array for nested sequences: the dtype promotes over all leaves (Python scalars, NumPy scalars and
    arrays, one-element tensors), as torch.tensor infers it. With a requested dtype ``want``, floats are
    left in float64 for one exact cast to it."""
    try:
        dt, has_tensor = _scan(data, None)
    except _OtherSequence:
        data = _listify(data)
        dt, has_tensor = _scan(data, None)
    if has_tensor:
        _read_tensor_leaves(data, _dtype.from_np(want) if want is not None else dt)
    nested = _unwrap(data) if has_tensor else data
    try:
        arr = np.array(nested)
    except ValueError:
        raise ValueError(_ragged_message(data)) from None
    if dt is None:
        return arr.astype(DEFAULT.np)
    if want is not None and (dt.is_floating_point or want.kind == 'f') and arr.dtype.kind in 'biuf':
        return arr
    if want is not None and want.kind == 'f' and arr.dtype == object:
        return arr.astype(np.float64)
    if dt is _dtype.int64 and arr.dtype.kind not in 'ib':
        raise ValueError('Overflow when unpacking long long')
    if arr.dtype.kind == 'f' and dt.np != arr.dtype:
        with np.errstate(over='ignore'):   # 1e40 in float32 is inf, as PyTorch gives, without NumPy's warning
            return arr.astype(dt.np)
    return arr.astype(dt.np, copy=False)


def _leaf_dtype(v):
    if isinstance(v, Tensor):
        return v.dtype
    if isinstance(v, (np.ndarray, np.generic)):
        return _dtype.from_np(v.dtype)
    if isinstance(v, bool):
        return _dtype.bool_
    if isinstance(v, int):
        return _dtype.int64
    if isinstance(v, float):
        return DEFAULT.dtype
    if isinstance(v, complex):
        return _dtype.default_complex()
    if isinstance(v, str):
        raise ValueError("too many dimensions 'str'")
    if _is_sequence(v):
        raise _OtherSequence
    raise RuntimeError(f'Could not infer dtype of {short_type_name(v)}')


_PY_NUMBERS = {bool, int, float}
_LIST_OF_ARRAYS = ('Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider converting the '
                   'list to a single numpy.ndarray with numpy.array() before converting to a tensor.')


def warn_list_of_arrays(data):
    """PyTorch's once-per-process warning when nested lists/tuples hold a NumPy array of one or more dimensions
    (a tensor is built element by element from them)."""
    for v in data:
        if isinstance(v, np.ndarray) and v.ndim or isinstance(v, (list, tuple)) and warn_list_of_arrays(v):
            warn_user(_LIST_OF_ARRAYS, once=True, internally='torch/csrc/utils/tensor_new.cpp:252')
            return True
    return False


def _scan(x, dt, has_tensor=False):
    """``dt`` promoted with the dtype of every leaf of the nested sequence ``x``, and whether a leaf is a
    tensor. A list of plain Python numbers is typed at once from the set of its element types."""
    types = set(map(type, x))
    if types and types <= _PY_NUMBERS:
        d = DEFAULT.dtype if float in types else _dtype.int64 if int in types else _dtype.bool_
        return (d if dt is None else _dtype.promote_types(dt, d)), has_tensor
    for v in x:
        if isinstance(v, (list, tuple, range)):
            dt, has_tensor = _scan(v, dt, has_tensor)
            continue
        if isinstance(v, np.ndarray) and v.ndim:
            warn_user(_LIST_OF_ARRAYS, once=True, internally='torch/csrc/utils/tensor_new.cpp:252')   # as warn_list_of_arrays, inline in this walk
        d = _leaf_dtype(v)
        has_tensor = has_tensor or isinstance(v, Tensor)
        dt = d if dt is None else _dtype.promote_types(dt, d)
    return dt, has_tensor


def _read_tensor_leaves(x, dt):
    """PyTorch reads each tensor leaf of a nested list as a Python number of ``dt``'s kind: as ``float()`` does to a
    float or complex ``dt``, with its once-a-process warning for a leaf requiring grad (piq's inception score makes
    ``torch.tensor(scores)`` of KL divergences), and as an index to an integer or bool ``dt``, which a float or
    complex tensor refuses."""
    if dt.is_floating_point or dt.is_complex:
        for v in x:
            if isinstance(v, Tensor) and v.requires_grad:
                return v._warn_scalar()
            if isinstance(v, (list, tuple)):
                _read_tensor_leaves(v, dt)
        return None
    for v in x:
        if isinstance(v, Tensor) and (v.dtype.is_floating_point or v.dtype.is_complex):
            raise TypeError('only integer tensors of a single element can be converted to an index')
        if isinstance(v, (list, tuple)):
            _read_tensor_leaves(v, dt)
    return None


def _unwrap(x):
    """Nested lists with tensors replaced by their single value (torch reads them as scalars)."""
    if isinstance(x, Tensor):
        if x._data.size != 1:
            raise ValueError('only one element tensors can be converted to Python scalars')
        return x._data.reshape(())[()]
    if isinstance(x, (list, tuple)):
        return [_unwrap(v) for v in x]
    return x


def _ragged_message(x, dim=0):
    """torch's message for nested sequences of unequal lengths."""
    subs = [v for v in x if isinstance(v, (list, tuple, range))]
    if subs and len(subs) != len(x):
        return 'not a sequence'
    lens = {len(v) for v in subs}
    if len(lens) > 1:
        n = len(subs[0])
        got = next(len(v) for v in subs if len(v) != n)
        return f'expected sequence of length {n} at dim {dim + 1} (got {got})'
    for v in subs:
        msg = _ragged_message(v, dim + 1)
        if msg:
            return msg
    return '' if dim else 'expected sequences of equal length to build a tensor'


def _copy_as(arr, nd):
    """A copy of the inferred array ``arr`` in ``nd`` (None: its own dtype), float16 by way of float32 (tensor's)."""
    return np.array(arr if nd is None else via_float(arr, nd), dtype=nd if nd is not None else arr.dtype, copy=True)


def _check_int_range(src, nd):
    """PyTorch's check of Python numbers stored into a narrower integer dtype (``tensor(300, dtype=torch.uint8)``):
    integers in range (an unsigned type also takes them down to -max, wrapping), floats in range and not NaN
    (a NumPy array's values are cast unchecked, as there)."""
    info = np.iinfo(nd)
    if src.size and src.dtype.kind in 'iuf':
        lo = -int(info.max) if nd.kind == 'u' and src.dtype.kind != 'f' else info.min
        if np.isnan(src).any() if src.dtype.kind == 'f' else False:
            lo = np.inf
        if not lo <= src.min() or not src.max() <= info.max:
            raise RuntimeError(f'value cannot be converted to type {nd.name} without overflow')


def _refuse_complex(arr, nd, data):
    """PyTorch's refusal of Python complex numbers stored into a real dtype (``tensor(3+0j, dtype=torch.int8)``;
    bool takes them, NumPy data is cast as there)."""
    if arr.dtype.kind == 'c' and nd.kind not in 'cb' and not isinstance(data, np.generic):
        raise TypeError("'complex' object cannot be interpreted as an integer" if nd.kind in 'iu' else
                        'must be real number, not complex')


def _holds_complex(data):
    """Whether nested Python data holds a complex number."""
    return isinstance(data, complex) or isinstance(data, (list, tuple)) and any(map(_holds_complex, data))


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor (always a copy) from nested lists, numbers, NumPy arrays or tensors."""
    meta = _check_device(device)
    if isinstance(data, Tensor):
        warn_user('To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() '
                  'or sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).')
    nd = to_np(dtype)
    if isinstance(data, np.ndarray):
        refuse_negative_strides(data)
    elif nd is not None and nd.kind in 'iu' and nd.itemsize < 8 and not isinstance(data, Tensor):
        _check_int_range(_infer(data), nd)
    if nd in _SHELL_NP and isinstance(data, (list, tuple, int, float, complex)):
        if _holds_complex(data):    # (not _infer: it refuses uint64's values past int64's)
            _refuse_complex(np.array(0j), nd, data)
        return _finish(Tensor._make(_shell.from_python(data, nd)), requires_grad, meta=meta)
    arr = _infer(data, nd)
    if nd is not None and not isinstance(data, (np.ndarray, Tensor)):
        _refuse_complex(arr, nd, data)
    try:    # (the copy written out here: a call fewer on this path)
        arr = np.array(arr if nd is None else via_float(arr, nd), dtype=nd if nd is not None else arr.dtype, copy=True)
    except RuntimeWarning:  # a value beyond nd's range, inf as PyTorch makes it: raised by the user's filter (_quiet)
        arr = _quiet.again(_copy_as, arr, nd)
    if arr.dtype not in _dtype.FROM_NP:
        arr = arr.astype(_dtype.from_np(arr.dtype).np)
    arr = _dtype.canonical(arr)
    return _finish(Tensor._make(arr), requires_grad, meta=meta)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array or tensor when the dtype allows."""
    return _as_tensor(data, dtype, device, True)


def _as_tensor(data, dtype, device, warn):
    """``as_tensor``; ``warn``: PyTorch's warning for a read-only NumPy array (asarray warns only when it shares)."""
    _check_device(device)
    nd = to_np(dtype)
    if isinstance(data, Tensor):
        return data if nd is None or nd == data._data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray):
        _dtype.from_np(_native(data).dtype)
        refuse_negative_strides(data)
        if warn:
            _warn_not_writable(data)
        return Tensor._make(_shared(data) if nd is None or nd == data.dtype else via_float(data, nd).astype(nd, copy=False))
    arr = _infer(data, nd)
    if nd is not None:
        _refuse_complex(arr, nd, data)
    if nd is not None and nd.kind in 'iu' and nd.itemsize < 8:
        _check_int_range(arr, nd)
    return Tensor._make(arr if nd is None else via_float(arr, nd).astype(nd))


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """``torch.asarray``: ``as_tensor`` that shares memory unless ``copy`` is True (``copy=False`` refuses to
    copy); a tensor keeps its graph unless ``requires_grad=False`` detaches it, and ``requires_grad=True`` makes
    the (possibly shared) result require grad."""
    if requires_grad is None and isinstance(obj, Tensor) and obj.requires_grad:
        warn_user('torch.asarray: unspecified requires_grad now defaults to obj.requires_grad instead of False. Pass '
                  'requires_grad=False explicitly to get the old behavior and silence this warning.', once=True)
    if isinstance(obj, UntypedStorage):
        obj = obj._as_tensor(dtype)   # its bytes read as dtype, shared (safetensors' safe_open reads so)
    out = _as_tensor(obj, dtype, device, False)
    if copy is False and out is not obj and not _holds(out, obj):
        src = obj._data.dtype if isinstance(obj, Tensor) else getattr(obj, 'dtype', None)
        if src is not None and np.dtype(src) != out._data.dtype:
            raise ValueError(f"can't alias tensor with dtype '{_dtype.scalar_name(np.dtype(src))}' into dtype "
                             f"'{_dtype.scalar_name(out._data.dtype)}'.")
    if copy and (out is obj or not isinstance(obj, Tensor) and np.shares_memory(out._data, np.asarray(obj))):
        out = out.clone()
    if _holds(out, obj):
        _warn_not_writable(obj)
    if requires_grad is False and out.requires_grad:
        out = out.detach()
    elif requires_grad and not out.requires_grad:
        out.requires_grad_()
    return out


def from_numpy(ndarray):
    """A tensor sharing memory with ``ndarray`` (changes to one show in the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f'expected np.ndarray (got {type(ndarray).__name__})')
    _dtype.from_np(_native(ndarray).dtype)
    refuse_negative_strides(ndarray)
    _warn_not_writable(ndarray)
    return Tensor._make(_shared(ndarray))


def _holds(t, obj):
    """Whether tensor ``t`` holds NumPy array ``obj``'s memory as ``_shared`` gave it (the array, or its alias)."""
    if not isinstance(obj, np.ndarray):
        return False
    d = t._data     # or its base, when _shared gave a view of it with NumPy's own dtype object (_dtype.canonical)
    return any(a is obj or getattr(getattr(a, 'base', None), 'owner', None) is obj for a in (d, d.base))


def _shared(ndarray):
    """The array a tensor sharing NumPy array ``ndarray``'s memory holds: ``ndarray``, or for one read-only only by
    its flag a writable alias, since PyTorch's tensor writes into such memory (after its warning) where NumPy's
    assignment raised "assignment destination is read-only"."""
    from ..storage import mark_foreign
    if ndarray.flags.writeable:
        return _dtype.canonical(mark_foreign(ndarray))
    from .inplace import writable_alias
    alias = writable_alias(ndarray)
    return _dtype.canonical(mark_foreign(ndarray if alias is None else alias))


_NOT_WRITABLE = ('The given NumPy array is not writable, and PyTorch does not support non-writable tensors. This '
                 'means writing to this tensor will result in undefined behavior. You may want to copy the array to '
                 'protect its data or make it writable before converting it to a tensor. This type of warning will '
                 'be suppressed for the rest of this program.')


_NEGATIVE_STRIDES = ('At least one stride in the given numpy array is negative, and tensors with negative strides are not '
                     'currently supported. (You can probably work around this by making a copy of your array  with '
                     'array.copy().) ')


def refuse_negative_strides(ndarray):
    """PyTorch's ValueError for a NumPy array with a negative stride (``img[:, :, ::-1]``, ``np.flip``), which
    from_numpy, as_tensor, tensor, the legacy constructors and default_collate all read as memory to share."""
    if any(s < 0 for s in ndarray.strides):
        raise ValueError(_NEGATIVE_STRIDES)


def _warn_not_writable(ndarray):
    """PyTorch's warning, once a process, for a tensor made over a read-only NumPy array (from_numpy, as_tensor,
    asarray, even when converting the dtype): pandas' ``df.values`` is one, as fastai's tabular batches show."""
    if not ndarray.flags.writeable:
        from .._warn import warn_user
        warn_user(_NOT_WRITABLE, once=True, internally='torch/csrc/utils/tensor_numpy.cpp:213')


_READ_ONLY = ('The given buffer is not writable, and PyTorch does not support non-writable tensors. This means you '
              'can write to the underlying (supposedly non-writable) buffer using the tensor. You may want to copy '
              'the buffer to protect its data or make it writable before converting it to a tensor. This type of '
              'warning will be suppressed for the rest of this program.')


def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None, pin_memory=False,
              requires_grad=False):
    """A 1-D tensor of ``size`` elements read from the bytes of file ``filename``: with ``shared``, mapped (its
    changes written to the file, which is created or grown to fit); else mapped copy-on-write (PyTorch's
    MAP_PRIVATE: changes stay in the tensor), the file having to hold them."""
    _check_device(device)
    if not isinstance(filename, str):
        raise TypeError(f"from_file(): argument 'filename' (position 1) must be str, not {type(filename).__name__}")
    nd = to_np(dtype) or DEFAULT.np
    size = int(size)
    nbytes = size * nd.itemsize
    if shared:
        with open(filename, 'ab') as f:     # created if missing; grown (with zeros) to the mapping's size
            if f.tell() < nbytes:
                f.truncate(nbytes)
        arr = np.memmap(filename, nd, 'r+', shape=(size,)).view(np.ndarray) if size else np.zeros(0, nd)
    else:
        try:
            have = os.path.getsize(filename)
        except OSError as e:
            raise RuntimeError(f'unable to open file <{filename}> in read-only mode: {e.strerror} ({e.errno})') \
                from None
        if have < nbytes:
            raise RuntimeError(f'file <{filename}> size <{have}> is smaller than the required mapping size '
                               f'<{nbytes}>')
        arr = np.memmap(filename, nd, 'c', shape=(size,)).view(np.ndarray) if size else np.zeros(0, nd)
    return Tensor._make(arr).requires_grad_(requires_grad)


def _bytes_of(view):
    """A memoryview's bytes, as a flat view."""
    return view.cast('B') if view.ndim != 1 or view.format != 'B' else view


def _writable_beneath(view, arr):
    """``arr`` (read from read-only memoryview ``view``) over the same memory, writable where the object beneath
    the view is (memoryview(bytearray).toreadonly(), a NumPy array read-only by its flag): PyTorch's tensor shares
    it, writes showing both ways."""
    beneath = view.obj
    if isinstance(beneath, np.ndarray) and not beneath.flags.writeable:
        from .inplace import writable_alias
        beneath = writable_alias(beneath)
    try:
        whole = memoryview(beneath)
    except TypeError:
        return arr
    if whole.readonly or not whole.c_contiguous:
        return arr
    under = np.frombuffer(_bytes_of(whole), np.uint8)
    start = arr.__array_interface__['data'][0] - under.__array_interface__['data'][0]
    if start < 0 or start + arr.nbytes > under.nbytes:
        return arr
    return under[start:start + arr.nbytes].view(arr.dtype)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the bytes of a Python buffer (bytearray, array.array, memoryview, mmap), sharing its
    memory, with PyTorch's checks and messages. A read-only view of writable memory is shared too; memory nothing
    may write (bytes) is copied, after PyTorch's warning: PyTorch's tensor would write into the bytes object. bfloat16 reads the 16-bit patterns
    into new memory (ember keeps bfloat16 widened to float32), so later writes to the buffer do not show."""
    nd = _dtype.to_np(dtype)
    bf16 = _bf16.is_bf16(nd)
    nd = np.dtype(np.uint16) if bf16 else nd
    view = memoryview(buffer)
    n = view.nbytes
    size = nd.itemsize
    if n == 0 or count == 0:
        raise ValueError(f'both buffer length ({n}) and count ({count}) must not be 0')
    if offset < 0 or offset >= n:
        raise ValueError(f'offset ({offset} bytes) must be non-negative and no greater than buffer length ({n} '
                         f'bytes) minus 1')
    if count < 0:
        if (n - offset) % size:
            raise ValueError(f'buffer length ({n - offset} bytes) after offset ({offset} bytes) must be a multiple '
                             f'of element size ({size})')
        count = (n - offset) // size
    elif offset + count * size > n:
        raise ValueError(f'requested buffer length ({count} * {size} bytes) after offset ({offset} bytes) must not '
                         f'be greater than actual buffer length ({n} bytes)')
    from ..storage import mark_foreign
    arr = mark_foreign(np.frombuffer(_bytes_of(view), nd, count, offset))
    if not arr.flags.writeable:
        from .._warn import warn_user
        warn_user(_READ_ONLY, once=True, internally='torch/csrc/utils/tensor_new.cpp:1556')
        arr = _writable_beneath(view, arr)
    if bf16 or not arr.flags.writeable:
        arr = _bf16.from_bits(arr) if bf16 else arr.copy()
    t = Tensor._make(arr)
    return t.requires_grad_() if requires_grad else t


def _by_shape(fill, name):
    def make(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
             memory_format=None, **kw):
        if layout is _layout.sparse_coo and name in ('zeros', 'empty') and out is None and memory_format is None:
            return _sparse.no_entries(shape_arg(size or (kw.get('size', ()),), name),
                                      _default_dtype(dtype, None, DEFAULT.np), device, requires_grad)
        meta = _factory(device, layout, pin_memory, name, dtype, out)
        if set(kw) - {'size'}:
            raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(set(kw) - {'size'}))}'")
        if memory_format is not None and name != 'empty':     # only empty takes a layout in PyTorch
            raise TypeError(f"{name}() got an unexpected keyword argument 'memory_format'")
        if size and kw:
            raise TypeError(f'{name}() received the size both as positional and keyword arguments')
        if not size and not kw:     # PyTorch's parser: no size is no 0-d tensor (that is ``zeros(())``)
            raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
        shape = shape_arg(size or (kw.get('size', ()),), name)
        nd = _default_dtype(dtype, out, DEFAULT.np)
        try:
            arr = with_empty_strides((_meta.placeholder if meta else fill)(shape, nd))
        except ValueError:
            raise RuntimeError(f'Trying to create tensor with negative dimension: {list(shape)}') from None
        if memory_format is not None:
            _layout.check_format(name, memory_format, arr.ndim)
            laid = _layout.in_format(name, arr, memory_format)     # channels_last: NHWC strides
            arr = arr if laid is None else laid
        t = Tensor._make(arr)
        return _finish(t, requires_grad, out, name, meta)
    return make


zeros = _by_shape(np.zeros, 'zeros')
ones = _by_shape(np.ones, 'ones')
empty = _by_shape(np.zeros, 'empty')
zeros.__name__, ones.__name__, empty.__name__ = 'zeros', 'ones', 'empty'
zeros.__doc__ = 'A tensor of zeros of the given size (default dtype float32).'
ones.__doc__ = 'A tensor of ones of the given size (default dtype float32).'
empty.__doc__ = 'An uninitialised tensor (ember fills it with zeros).'


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None, layout=None,
         pin_memory=False):
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from the value)."""
    meta = _factory(device, layout, pin_memory, 'full', dtype, out)
    if not isinstance(fill_value, (bool, int, float, complex, np.generic)) and not (
            isinstance(fill_value, Tensor) and fill_value._data.ndim == 0):
        raise TypeError(f"full(): argument 'fill_value' (position 2) must be Number, not {type(fill_value).__name__}")
    if isinstance(fill_value, np.generic):
        fill_value = _number(fill_value)
    nd = _default_dtype(dtype, out, None)
    if nd is None:
        nd = _infer(fill_value).dtype
    value = _checked_fill(fill_value, nd)
    if nd == np.float16 and isinstance(value, float):   # PyTorch's double -> float -> half (ops/_util.via_float)
        value = np.float32(value)
    shape = shape_arg((size,), 'full')
    arr = _meta.placeholder(shape, nd) if meta else with_empty_strides(np.full(shape, value, dtype=nd))
    return _finish(Tensor._make(arr), requires_grad, out, 'full', meta)


def _number(v):
    """The Python number PyTorch's argument parser reads a NumPy scalar fill value as: integers as int (int64),
    floats as float (the default dtype, not their own width), np.bool_ as a float and np.complex64 (no subclass
    of complex) as its real part as a float, np.complex128 as complex. torch.full((2,), np.float64(1)) is float32."""
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, complex):
        return complex(v)
    return float(v.real)


def with_empty_strides(arr):
    """``arr``, or when it has no elements an empty array with the strides PyTorch's factories give (those of
    a contiguous tensor, sizes of 0 counting as 1; NumPy reports zeros, which arrays from NumPy keep)."""
    if arr.size or not arr.ndim:
        return arr
    strides, step = [], arr.itemsize
    for n in reversed(arr.shape):
        strides.append(step)
        step *= max(n, 1)
    return np.lib.stride_tricks.as_strided(np.zeros(1, arr.dtype), arr.shape, strides[::-1])


def _like(fill, name):
    def make(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None,
             pin_memory=False):
        try:
            meta = _like_meta(input, device, layout, pin_memory, name)
        except (AttributeError, TypeError):
            check_tensor_args(name, 'input')
            raise
        _layout.check_format(name, memory_format, input._data.ndim)
        nd = to_np(dtype) or input._data.dtype
        if meta:
            return _finish(Tensor._make(_meta.placeholder(input._data.shape, nd)), requires_grad)
        return _finish(Tensor._make(_like_layout(input._data, memory_format, fill, nd)), requires_grad)
    return make


def _like_layout(a, memory_format, fill, nd):
    """``fill(shape, nd)`` in the memory layout PyTorch gives a tensor made like ``a`` (_layout.like_order):
    a transposed or channels-last input gives a result laid out as it is."""
    if a.flags.c_contiguous and memory_format is not _layout.channels_last and (
            memory_format is not _layout.channels_last_3d):
        return fill(a.shape, nd)
    order = _layout.like_order(a, memory_format)
    return _layout.laid_out(fill(tuple(a.shape[d] for d in order), nd), a.shape, order)


zeros_like = _like(np.zeros, 'zeros_like')
ones_like = _like(np.ones, 'ones_like')
empty_like = _like(np.zeros, 'empty_like')
zeros_like.__name__, ones_like.__name__, empty_like.__name__ = 'zeros_like', 'ones_like', 'empty_like'


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None,
              pin_memory=False):
    """A tensor shaped like ``input`` filled with ``fill_value`` (input's dtype unless given)."""
    try:
        meta = _like_meta(input, device, layout, pin_memory, 'full_like')
        _layout.check_format('full_like', memory_format, input._data.ndim)
        nd = to_np(dtype) or input._data.dtype
        fill_value = _checked_fill(fill_value, nd)
        fill = _meta.placeholder if meta else lambda shape, nd: np.full(shape, fill_value, dtype=nd)
        return _finish(Tensor._make(_like_layout(input._data, memory_format, fill, nd)), requires_grad, meta=meta)
    except (AttributeError, TypeError):
        check_tensor_args('full_like', 'input')
        raise


def _checked_fill(value, nd):
    """A Python fill value converted to NumPy dtype ``nd`` by PyTorch's checked conversion (uint8 takes -1 as
    255; 300 for int8, inf for an integer type or 1e39 for float32 raise 'value cannot be converted')."""
    if type(value) in (bool, int, float, complex):
        from ._util import checked_scalar
        return checked_scalar(value, _dtype.FROM_NP[nd])
    return value


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None, layout=None, pin_memory=False):
    """The identity matrix (n x m)."""
    meta = _factory(device, layout, pin_memory, 'eye', dtype, out)
    for name, v in (('n', n), ('m', m)):
        if v is not None and v < 0:
            raise RuntimeError(f'{name} must be greater or equal to 0, got {v}')
    return _finish(Tensor._make(np.eye(n, m, dtype=_default_dtype(dtype, out, DEFAULT.np))), requires_grad, out,
                   'eye', meta)


def arange(start=None, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None, layout=None,
           pin_memory=False):
    """Values in [start, end) spaced by step: int64 for integer arguments, else the default float.
    ``arange(end=n)`` starts at 0, as PyTorch's one-bound overload (ultralytics' make_anchors calls it so)."""
    meta = _factory(device, layout, pin_memory, 'arange', dtype, out)
    dtype = dtype if dtype is not None or out is None else out.dtype
    if start is None and end is None:
        raise TypeError('arange() missing 1 required positional arguments: "end"')
    if start is None:
        start = 0
    elif end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    _no_bool(to_np(dtype), 'arange_cpu')
    if step == 0:
        raise RuntimeError('step must be nonzero')
    if (end - start) / step < 0:
        raise RuntimeError('upper bound and lower bound inconsistent with step sign')
    nd = to_np(dtype)
    if nd is None:
        nd = np.dtype(np.int64) if all(isinstance(v, int) for v in vals) else DEFAULT.np
    _no_bool(nd, 'arange_cpu')
    if nd.kind == 'f':
        arr = _arange_float(float(start), float(step), int(np.ceil((end - start) / step)), nd)
    else:
        arr = _arange_int(start, end, step, nd)
    return _finish(Tensor._make(arr), requires_grad, out, 'arange', meta)


def _arange_int(start, end, step, nd):
    """arange into an integer dtype as PyTorch's kernel: the values step from start and step truncated to
    integers (int64 arithmetic); the length is from the integer bounds for int64, from the given (float)
    bounds for the smaller types. arange(-0.5, 3, dtype=int16) is [0, 1, 2, 3], arange(2.5, dtype=int64) [0, 1]."""
    x0, x1, dx = int(start), int(end), int(step)
    if dx == 0:
        raise RuntimeError('step must be nonzero')
    if nd == np.int64:
        sgn = (dx > 0) - (dx < 0)
        n = _trunc_div(x1 - x0 + dx - sgn, dx)
    else:
        n = int(np.ceil((end - start) / step))
    return (x0 + np.arange(max(n, 0), dtype=np.int64) * dx).astype(nd)


def _trunc_div(a, b):
    """C's integer division (toward zero) of Python ints."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


_LANES = {np.dtype(np.float32): 8, np.dtype(np.float64): 4}


def _arange_float(start, step, n, nd):
    """start + i * step as PyTorch's CPU kernel rounds it (so values print alike): double-precision FMAs,
    and in blocks of two SIMD vectors each lane steps from the vector's first value rounded to ``nd``."""
    i = np.arange(n, dtype=np.float64)
    out = _fma(step, i, start)
    w = _LANES.get(nd)
    if w is not None:
        nvec = n // (2 * w) * 2 * w
        lane = i[:nvec] % w
        base = _fma(step, i[:nvec] - lane, start).astype(nd).astype(np.float64)
        out[:nvec] = _fma(lane, step, base)
    return out.astype(nd)


def _split(x):
    t = 134217729.0 * x
    hi = t - (t - x)
    return hi, x - hi


def _fma(a, b, c):
    """a * b + c in float64 rounded once (a fused multiply-add, from Dekker's exact product)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    v = s - p
    return s + (err + ((p - (s - v)) + (c - v)))


def _no_bool(nd, kernel, complex_ok=False):
    """PyTorch has no bool kernel for the range-like factories (nor complex, but for linspace and logspace)."""
    if nd is not None and (nd == np.bool_ or nd.kind == 'c' and not complex_ok):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_name(nd)}\'')


def range_(start, end, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated torch.range: includes ``end``; default float dtype (warns as PyTorch does)."""
    warn_user("torch.range is deprecated and will be removed in a future release because its behavior is "
              "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
              "[start, end).")
    nd = to_np(dtype) or DEFAULT.np
    _no_bool(nd, 'range_cpu')
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if nd.kind in 'iu':   # PyTorch's kernel steps in int64 from the truncated arguments
        start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise RuntimeError('step must be nonzero')
    if not ((step > 0 and end >= start) or (step < 0 and end <= start)):
        raise RuntimeError('upper bound and lower bound inconsistent with step sign')
    n = _trunc_div(end - start, step) + 1 if nd.kind in 'iu' else int(np.floor((end - start) / step)) + 1
    arr = (start + np.arange(n) * step).astype(nd)
    return _finish(Tensor._make(arr), requires_grad)


_NO_ARG = object()


def _check_range_args(name, args):
    """PyTorch's parser error for linspace/logspace called without all of start, end, steps (``linspace(0, 1)``)."""
    if any(a is _NO_ARG for a in args):
        from ._util import combination_error
        raise combination_error(name, [a for a in args if a is not _NO_ARG])


def linspace(start=_NO_ARG, end=_NO_ARG, steps=_NO_ARG, *, dtype=None, device=None, requires_grad=False, out=None,
             layout=None, pin_memory=False):
    """``steps`` evenly spaced values from start to end inclusive."""
    _check_range_args('linspace', (start, end, steps))
    try:
        meta = _factory(device, layout, pin_memory, 'linspace', dtype, out)
        nd = _default_dtype(dtype, out, _range_default(start, end))
        steps = _steps(steps)
        start, end = _bound_numbers('linspace', start, end)
        if steps > 1:   # (one step is start, no kernel: a bool takes it)
            _no_bool(nd, 'linspace_cpu', complex_ok=True)
        return _finish(Tensor._make(_linspace(start, end, steps, nd)), requires_grad, out, 'linspace', meta)
    except Exception:
        check_tensor_args('linspace', 'start#', 'end#')
        raise


def _range_default(start, end):
    """linspace/logspace's dtype when none is given: the default complex type for a complex bound."""
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    return _dtype.default_complex().np if isinstance(start, complex) or isinstance(end, complex) else DEFAULT.np


def _bound_numbers(name, start, end):
    """linspace/logspace's bounds as numbers: a tensor bound must be 0-d (PyTorch's error otherwise)."""
    out = []
    for which, v in (('start', start), ('end', end)):
        if isinstance(v, Tensor):
            if v.dim():
                raise RuntimeError(f'{name} only supports 0-dimensional start and end tensors, but got {which} with '
                                   f'{v.dim()} dimension(s).')
            v = v.item()
        out.append(v)
    return out


def _steps(steps):
    steps = int(steps)
    if steps < 0:
        raise RuntimeError('number of steps must be non-negative')
    return steps


def _linspace(start, end, steps, nd):
    """PyTorch's CPU linspace: from ``start`` for the first half, back from ``end`` for the rest, with
    fused multiply-adds in the output's float type (double for integer outputs); bfloat16 and float16 round
    after each operation, as PyTorch's kernel computes in those types (matched on 300 random ranges each)."""
    if _bf16.is_bf16(nd) or nd == np.float16:
        return _linspace_reduced(start, end, steps, nd)
    if nd.kind == 'c':
        return _linspace_complex(start, end, steps, nd)
    ct = nd if nd.kind == 'f' else np.dtype(np.float64)
    start, end = ct.type(nd.type(start)), ct.type(nd.type(end))
    if steps == 1:
        return np.array([start], nd)
    step = ct.type((end - start) / ct.type(steps - 1))
    i = np.arange(steps, dtype=np.float64)
    half = steps // 2
    out = np.where(i < half, _fma(step, i, start), _fma(-step, steps - 1 - i, end))
    return out.astype(ct).astype(nd)


def _linspace_complex(start, end, steps, nd):
    """_linspace of a complex type: from start for the first half and back from end, in complex arithmetic."""
    start, end = (nd.type(v.item() if isinstance(v, Tensor) else v) for v in (start, end))
    if steps == 1:
        return np.array([start], nd)
    step = (end - start) / nd.type(steps - 1)
    i = np.arange(steps).astype(nd)
    return np.where(i.real < steps // 2, start + step * i, end - step * (steps - 1 - i)).astype(nd)


def _linspace_reduced(start, end, steps, nd):
    """_linspace in bfloat16 or float16: every product and sum rounded to ``nd``."""
    if _bf16.is_bf16(nd):
        r = _bf16.round_f32
    else:
        def r(v):
            return np.asarray(v, np.float32).astype(np.float16).astype(np.float32)
    start, end = r(np.float32(start)), r(np.float32(end))
    if steps == 1:
        return np.array([start]).astype(nd)
    step = r(r(end - start) / np.float32(steps - 1))
    i = np.arange(steps, dtype=np.float32)
    out = np.where(i < steps // 2, r(start + r(step * i)), r(end - r(step * (steps - 1 - i))))
    return np.asarray(out, np.float32).astype(nd)


def logspace(start=_NO_ARG, end=_NO_ARG, steps=_NO_ARG, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """``base`` to the powers linspace(start, end, steps)."""
    _check_range_args('logspace', (start, end, steps))
    nd = to_np(dtype) or _range_default(start, end)
    steps = _steps(steps)
    start, end = _bound_numbers('logspace', start, end)
    if steps > 1:   # (one step is base ** start, no kernel: True for a bool)
        _no_bool(nd, 'logspace_cpu', complex_ok=True)
    if nd.kind in 'iu' and steps > 1:
        return _finish(Tensor._make(_logspace_int(start, end, steps, base, nd)), requires_grad)
    if nd.kind == 'c':
        return _finish(Tensor._make(np.power(nd.type(base), _linspace(start, end, steps, nd))), requires_grad)
    return _finish(Tensor._make(np.logspace(start, end, steps, base=base).astype(nd)), requires_grad)


def _logspace_int(start, end, steps, base, nd):
    """logspace into an integer dtype as PyTorch's kernel: start and end converted to the integer type first
    by the checked conversion (truncated; -1 is 255 for uint8, -0.5 refused), the base staying a double (base 2.5
    gives 1, 2, 6, 15), the exponents stepped in double from start for the first half and back from end, each
    power truncated."""
    from ._util import checked_scalar
    b = float(base)
    x0, x1 = (float(checked_scalar(v, _dtype.FROM_NP[nd])) for v in (start, end))
    step = (x1 - x0) / (steps - 1)
    i = np.arange(steps, dtype=np.float64)
    with np.errstate(divide='ignore', over='ignore', invalid='ignore'):
        r = np.trunc(np.where(i < steps // 2, np.power(b, x0 + step * i), np.power(b, x1 - step * (steps - 1 - i))))
    # a double out of the integer range converts to the x86 'integer indefinite' (the lowest int32, or int64 for
    # an int64 result), whose low bits the narrower types keep, as PyTorch's compiled kernel gives
    wide = np.int64 if nd == np.int64 else np.int32
    lim = float(2 ** (63 if wide is np.int64 else 31))
    ok = (r >= -lim) & (r < lim)
    return np.where(ok, np.where(ok, r, 0).astype(wide), np.iinfo(wide).min).astype(nd)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor of the number ``s``; an integer dtype takes it by PyTorch's checked conversion (-5 is 251 for
    uint8, 300 for int8 raises its RuntimeError, where NumPy raised OverflowError)."""
    meta = _check_device(device)
    nd = to_np(dtype) or DEFAULT.np
    if nd.kind in 'iu' and isinstance(s, (int, float)):
        from ._util import checked_scalar
        s = checked_scalar(s, _dtype.FROM_NP[nd])
    return _finish(Tensor._make(np.array(s, dtype=nd)), requires_grad, meta=meta)


# -- Tensor.new_*: the tensor's dtype unless given ------------------------------------------------------
def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """A new tensor from ``data`` with this tensor's dtype (unless ``dtype``)."""
    _factory(device, layout, pin_memory, 'new_tensor')
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def new(self, *args, device=None):
    """The legacy ``Tensor.new``: a tensor of this tensor's dtype made from sizes (uninitialised; ember fills
    zeros), from a sequence of data, or an alias of a tensor of the same dtype."""
    _factory(device, None, False)
    if len(args) == 1 and isinstance(args[0], Tensor):
        if args[0].dtype != self.dtype:
            raise TypeError(f'expected {self.dtype} (got {args[0].dtype}): Tensor.new(tensor) aliases a tensor '
                            'of the same dtype')
        return Tensor._make(args[0]._data)
    if len(args) == 1 and not isinstance(args[0], (int, np.integer, Size)):
        if isinstance(args[0], (float, bool, complex, np.floating)):
            raise TypeError(f'new(): data must be a sequence (got {type(args[0]).__name__})')
        return tensor(args[0], dtype=self.dtype)
    return empty(*args, dtype=self.dtype) if args else empty(0, dtype=self.dtype)


def _new_by_shape(name):
    make = globals()[name]

    def new(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False, **kw):
        shape_arg(size or (kw.get('size', ()),), 'new_' + name)   # a bad size named as PyTorch names it
        return make(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad,
                    layout=layout, pin_memory=pin_memory, **kw)
    new.__name__ = 'new_' + name
    new.__doc__ = f'Tensor.new_{name}: ``{name}`` of ``size`` with this tensor\'s dtype (unless ``dtype``).'
    return new


new_zeros, new_ones, new_empty = _new_by_shape('zeros'), _new_by_shape('ones'), _new_by_shape('empty')


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    """Tensor.new_full: ``size`` filled with ``fill_value``, this tensor's dtype unless ``dtype``."""
    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad, layout=layout, pin_memory=pin_memory)
