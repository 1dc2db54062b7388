"""Tensor storages as PyTorch shows them: ``t.untyped_storage()`` (the bytes) and the deprecated ``t.storage()``
(typed elements), both over the memory a tensor shares with its base. ``data_ptr()`` is the start of that memory,
so the Tensor Views tutorial's ``t.storage().data_ptr() == b.storage().data_ptr()`` holds for a view of ``t`` and
not for a clone; writing an element writes the tensor, as in PyTorch."""
import functools
import sys
import weakref

import numpy as np

from . import _bf16
from ._torch_names import TorchNamedType
from ._warn import warn_user

__all__ = ['UntypedStorage', 'TypedStorage']

# the legacy typed storage classes (``torch.FloatStorage``...) and the dtype of each
LEGACY = {'BoolStorage': 'bool', 'ByteStorage': 'uint8', 'CharStorage': 'int8', 'ShortStorage': 'int16',
          'IntStorage': 'int32', 'LongStorage': 'int64', 'HalfStorage': 'float16', 'BFloat16Storage': 'bfloat16',
          'FloatStorage': 'float32', 'DoubleStorage': 'float64', 'ComplexFloatStorage': 'complex64',
          'ComplexDoubleStorage': 'complex128'}

_DEPRECATED = ('TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the only '
               'storage class. This should only matter to you if you are using storages directly.  To access '
               'UntypedStorage directly, use tensor.untyped_storage() instead of tensor.storage()')
_ALWAYS_WARN = [False]


def _warn_typed_storage_removal():
    """PyTorch's TypedStorage deprecation warning, at the caller's line: once a process (the flag lives on this
    function, under PyTorch's name ``has_warned``), or every time after ``_set_always_warn_typed_storage_removal``."""
    if _ALWAYS_WARN[0] or not _warn_typed_storage_removal.__dict__.get('has_warned', False):
        warn_user(_DEPRECATED)
        _warn_typed_storage_removal.__dict__['has_warned'] = True


def _reset_warn_typed_storage_removal():
    """The next deprecated storage call warns again (PyTorch's private reset, which its tests and ours use)."""
    _warn_typed_storage_removal.__dict__['has_warned'] = False


def _get_always_warn_typed_storage_removal():
    return _ALWAYS_WARN[0]


def _set_always_warn_typed_storage_removal(always_warn):
    """Warn at every deprecated storage call (True) or once a process (False), as PyTorch's setter."""
    assert isinstance(always_warn, bool)
    _ALWAYS_WARN[0] = always_warn


def _deprecated(method):
    """A TypedStorage method that warns as PyTorch's does (every public one but ``dtype`` and pickling)."""
    @functools.wraps(method)
    def warned(self, *args, **kwargs):
        _warn_typed_storage_removal()
        return method(self, *args, **kwargs)
    return warned


def _root(a):
    """The whole memory ``a`` shares with its base, as a flat array of its dtype (a view of it)."""
    base = a
    while isinstance(base.base, np.ndarray):
        base = base.base
    if not base.flags.c_contiguous:
        base = np.ascontiguousarray(base)
    return base.reshape(-1)


def _memory(a):
    """The whole memory ``a`` shares with its base, as a flat uint8 array (a view of it)."""
    return _root(a).view(np.uint8)


def _text(values, info):
    """PyTorch's printed storage: one element a line, each after a space, then the bracketed description."""
    return ' ' + '\n '.join(str(v) for v in values) + '\n' + info


def _new_bytes(args, name):
    """The bytes of ``torch.UntypedStorage(n)`` (zeros; uninitialised in PyTorch), ``(sequence of ints)`` (each
    taken mod 256, as PyTorch's uint8 conversion) or ``()``."""
    if not args:
        return np.zeros(0, np.uint8)
    if len(args) > 1:
        raise TypeError(f'{name}() received an invalid combination of arguments - got '
                        f'({", ".join(type(a).__name__ for a in args)}), but expected one of:\n * (*, torch.device '
                        f'device = None)\n * (int size, *, torch.device device = None)\n * (object sequence, *, '
                        f'torch.device device = None)')
    arg = args[0]
    if isinstance(arg, int) and not isinstance(arg, bool):
        if arg < 0:
            raise RuntimeError(f'{name}(): the size must be non-negative, got {arg}')
        return np.zeros(arg, np.uint8)
    items = list(arg) if isinstance(arg, (list, tuple, range, str)) else None
    if items is None:
        raise TypeError(f'{name}(): expected a size or a sequence of ints, got {type(arg).__name__}')
    for item in items:
        if not isinstance(item, int):
            raise RuntimeError(f'{name}(): tried to construct a storage from a sequence ({type(arg).__name__}), '
                               f'but one of the items was of type {type(item).__name__} instead of int')
    return np.array([i % 256 for i in items], np.uint8)


def _cpu_only(device, name):
    if device is not None and str(device) != 'cpu':
        raise RuntimeError(f'{name}: ember storages live on the CPU only, got device={device!r}')



# Memory a tensor borrows rather than owns (from_numpy, as_tensor of an array, frombuffer): PyTorch's storage over it
# is not resizable. Keyed by the id of the borrowed memory's root array, each entry dropped with that array.
_FOREIGN = {}


def _owner(a):
    """The array that owns ``a``'s memory (its last NumPy base), by identity (``_root`` is its flat view)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def mark_foreign(a):
    """Record that arrays over ``a``'s memory borrow it (a NumPy array or buffer the program owns)."""
    root = _owner(a)
    key = id(root)
    _FOREIGN[key] = weakref.ref(root, lambda _, k=key: _FOREIGN.pop(k, None))
    return a


def is_foreign(a):
    """Whether ``a`` views memory borrowed from the program (see mark_foreign): PyTorch's resizable() is False."""
    root = _owner(a)
    ref = _FOREIGN.get(id(root))
    return ref is not None and ref() is root


_NOT_RESIZABLE = 'Trying to resize storage that is not resizable'


class UntypedStorage(metaclass=TorchNamedType):
    """The bytes of a tensor's memory (``tensor.untyped_storage()``), or new bytes (``torch.UntypedStorage(n)``,
    ``(sequence)``, ``()``)."""

    def __init__(self, *args, device=None):
        from .tensor import Tensor
        self._words = None
        if len(args) == 1 and isinstance(args[0], Tensor):
            self._tensor = args[0]
            self._attach(args[0]._data)
            return
        _cpu_only(device, 'torch.UntypedStorage()')
        self._tensor = None
        self._bytes = _new_bytes(args, 'torch.UntypedStorage')

    def _attach(self, a):
        """Take the memory of array ``a``: a bf16 tensor's float32 words are kept (``_words``) and shown as
        PyTorch's 2-byte patterns, read and written through (``_bytes``, ``_write``)."""
        if _bf16.is_bf16(a.dtype):
            self._words = _root(a).view(np.ndarray)
        else:
            self._bytes = _memory(a)

    @property
    def _bytes(self):
        """The bytes, as PyTorch lays them out (for a bf16 tensor's memory, a copy of its 16-bit patterns)."""
        if self._words is not None:
            return _bf16.to_bits(self._words).view(np.uint8)
        return self._raw

    @_bytes.setter
    def _bytes(self, value):
        self._words, self._raw = None, value

    def _write(self, key, value):
        """``bytes[key] = value``, into a bf16 tensor's words too."""
        if self._words is None:
            self._raw[key] = value
            return
        flat = self._bytes
        flat[key] = value
        self._words[...] = _bf16.from_bits(flat.view(np.uint16)).view(np.ndarray)

    def _elements(self, nd):
        """The bytes as a flat array of NumPy dtype ``nd`` (bf16: ember's widened words), sharing memory where
        the layouts agree (a bf16 tensor's storage read as bf16, any other storage read as a plain dtype)."""
        if self._words is not None and _bf16.is_bf16(nd):
            return self._words.view(_bf16.BF16Array)
        raw = self._bytes
        if _bf16.is_bf16(nd):
            return _bf16.from_bits(raw[:raw.size // 2 * 2].view(np.uint16))
        return raw[:raw.size // nd.itemsize * nd.itemsize].view(nd)

    @property
    def device(self):
        from .tensor import device
        return device('cpu')

    @property
    def is_sparse(self):
        return False

    @classmethod
    def from_file(cls, filename, shared=False, nbytes=0):
        """The first ``nbytes`` bytes of ``filename``, memory-mapped: ``shared=True`` writes go to the file,
        ``shared=False`` ones stay private (copy on write), as PyTorch's. safetensors' ``safe_open`` reads
        checkpoints through it."""
        import os
        if not os.path.exists(filename):
            raise RuntimeError(f'unable to open file <{filename}> in read-only mode: No such file or directory (2)')
        size = os.path.getsize(filename)
        if size < nbytes:
            raise RuntimeError(f'file <{filename}> size <{size}> is smaller than the required mapping size <{nbytes}>')
        out = cls()
        if nbytes:
            mapped = np.memmap(filename, dtype=np.uint8, mode='r+' if shared else 'c', shape=(nbytes,))
            out._bytes = mapped.view(np.ndarray)   # a plain array (it keeps the map alive): no memmap subclass
                                                   # reaches the tensors made from it
        return out

    def untyped(self):
        """Itself (an untyped storage), as PyTorch's."""
        return self

    def _as_tensor(self, dtype):
        """Its bytes as a 1-D tensor of whole ``dtype`` elements (int64 when None, as ``torch.asarray`` reads a
        storage), sharing memory; bfloat16 is widened into new float32-backed memory (ember's bfloat16 layout)."""
        from . import _dtype
        from .tensor import Tensor
        dtype = _dtype.int64 if dtype is None else dtype
        return Tensor._make(self._elements(dtype.np))

    def data_ptr(self):
        if self._words is not None and self._words.size:
            return _bf16.shadow_ptr(self._words) or self._words.__array_interface__['data'][0]
        return (self._raw if self._words is None else self._words).__array_interface__['data'][0]

    def nbytes(self):
        return self._raw.size if self._words is None else self._words.size * 2

    size = nbytes

    def __len__(self):
        return self.nbytes()

    def __sizeof__(self):
        """The object plus its bytes, as PyTorch's (torchinfo sums ``sys.getsizeof`` of input storages)."""
        return object.__sizeof__(self) + self.nbytes()

    def element_size(self):
        return 1

    def tolist(self):
        return self._bytes.tolist()

    def __getitem__(self, i):
        if isinstance(i, slice):
            out = UntypedStorage()
            out._bytes = self._bytes[i]
            return out
        if not -len(self) <= i < len(self):
            raise IndexError(f'index {i} out of range for storage of size {len(self)}')
        return self._bytes[i].tolist()

    def __setitem__(self, i, value):
        self._write(i, value % 256)

    def __iter__(self):
        return iter(self.tolist())

    def cpu(self):
        return self

    def clone(self):
        out = UntypedStorage()
        out._bytes = self._bytes.copy()
        return out

    def copy_(self, src, non_blocking=False):
        if src.nbytes() != self.nbytes():
            raise RuntimeError(f'size does not match, self was {self.nbytes()} bytes but src was {src.nbytes()} bytes')
        self._write(Ellipsis, src._bytes)
        return self

    def fill_(self, value):
        self._write(Ellipsis, int(value) % 256)
        return self

    def resize_(self, size):
        """New bytes of ``size`` (the old ones first); a tensor's storage is refused: ember's tensors own
        their arrays, so growing the memory under one is not done."""
        if self._tensor is not None:
            if is_foreign(self._tensor._data):
                raise RuntimeError(_NOT_RESIZABLE)
            raise RuntimeError("resize_: ember does not resize a tensor's storage; resize the tensor "
                               '(t.resize_(...)) or make a new storage with torch.UntypedStorage(n)')
        old = self._bytes
        self._bytes = np.zeros(size, np.uint8)
        self._bytes[:min(size, old.size)] = old[:size]
        return self

    def share_memory_(self):
        """Move the bytes into shared memory, as ``Tensor.share_memory_`` (a tensor's storage moves the tensor
        it came from, or that view's base)."""
        if self._tensor is not None:
            base = self._tensor
            while base._base is not None:
                base = base._base
            base.share_memory_()
            self._attach(base._data)
        elif not self.is_shared():
            from .multiprocessing import _shared
            self._bytes = _shared.shared_copy(self._bytes)
        return self

    def is_shared(self):
        from .multiprocessing._shared import shared_map_of
        return shared_map_of(self._raw if self._words is None else self._words) is not None

    def is_pinned(self, device='cuda'):
        return False

    def pin_memory(self, device='cuda'):
        raise RuntimeError('Cannot access accelerator device when none is available.')

    def to(self, *, device, non_blocking=False):
        """Itself on the CPU (PyTorch's returns the storage when it is already there); another device refused."""
        _moved(device, 'UntypedStorage.to()')
        return self

    def cuda(self, device=None, non_blocking=False):
        _moved('cuda' if device is None else device, 'UntypedStorage.cuda()')

    def hpu(self, device=None, non_blocking=False):
        _moved('hpu', 'UntypedStorage.hpu()')

    def mps(self):
        _moved('mps', 'UntypedStorage.mps()')

    def byteswap(self, dtype):
        """Reverse the bytes of each ``dtype`` element in place (each half of a complex one), as PyTorch's."""
        size = max(dtype.itemsize // 2 if dtype.is_complex else dtype.itemsize, 1)
        if size > 1:
            if self.nbytes() % size:
                raise RuntimeError(f'the length of data is not a multiple of {size}')
            self._write(Ellipsis, self._bytes.reshape(-1, size)[:, ::-1].reshape(-1))

    is_cuda = is_hpu = is_sparse_csr = False
    filename = None

    def resizable(self):
        """PyTorch's answer: a storage over memory the program lent (from_numpy, frombuffer) is not resizable."""
        return self._tensor is None or not is_foreign(self._tensor._data)

    def get_device(self):
        return None     # (PyTorch 2.13's for a CPU storage)

    def type(self):
        return 'torch.storage.UntypedStorage'

    def new(self):
        return UntypedStorage()

    @classmethod
    def from_buffer(cls, buffer, byte_order='native', count=-1, offset=0, dtype=None):
        """New bytes copied from a Python buffer (``dtype``'s elements, ``count`` of them from byte ``offset``)."""
        return _from_buffer(buffer, byte_order, count, offset, dtype or _dtype_named('uint8'))._untyped

    def _typed(self, name):
        """The bytes as a TypedStorage of dtype ``name``: each byte converted, as PyTorch's (uint8 elements)."""
        from .tensor import Tensor
        return _owned(Tensor._make(self._bytes.copy()).to(_dtype_named(name)))

    def __repr__(self):
        return _text(self.tolist(), f'[torch.storage.UntypedStorage(device=cpu) of size {len(self)}]')

    __str__ = __repr__


class TypedStorage(metaclass=TorchNamedType):
    """A tensor's memory as elements of its dtype (``tensor.storage()``, deprecated in PyTorch: it warns once),
    or new elements: ``torch.TypedStorage(n | sequence | (), dtype=None)`` (the default dtype), or
    ``TypedStorage(wrap_storage=untyped, dtype=...)`` over an UntypedStorage's bytes."""

    def __init__(self, *args, dtype=None, device=None, wrap_storage=None):
        from .tensor import Tensor
        if len(args) == 1 and isinstance(args[0], Tensor) and dtype is None and wrap_storage is None:
            self._init_from(args[0])
            return
        _warn_typed_storage_removal()
        _cpu_only(device, 'torch.TypedStorage()')
        from . import _dtype
        from .ops.creation import tensor, zeros
        dt = _dtype.get_default_dtype() if dtype is None else dtype
        if wrap_storage is not None:
            if args:
                raise RuntimeError('No positional arguments should be given when using `wrap_storage`')
            self._untyped = wrap_storage
            self.dtype = dt
            self._items = wrap_storage._elements(zeros(0, dtype=dt)._data.dtype)
            return
        if len(args) == 1 and isinstance(args[0], int) and not isinstance(args[0], bool):
            data = zeros(args[0], dtype=dt)
        elif len(args) == 1 and isinstance(args[0], (list, tuple)):
            data = tensor(args[0], dtype=dt)
        elif not args:
            data = zeros(0, dtype=dt)
        else:
            raise TypeError(f'torch.TypedStorage(): expected a size or a sequence, got '
                            f'{", ".join(type(a).__name__ for a in args)}')
        self._init_from(data, own=True)

    def _init_from(self, tensor, own=False):
        """Over ``tensor``'s memory; ``own``: memory made for this storage (no tensor's: it can be resized)."""
        self._untyped = UntypedStorage(tensor)
        if own:
            self._untyped._tensor = None
        self.dtype = tensor.dtype
        self._items = self._untyped._elements(tensor._data.dtype)

    @_deprecated
    def share_memory_(self):
        self._untyped.share_memory_()
        self._items = self._untyped._elements(self._items.dtype)
        return self

    @_deprecated
    def is_shared(self):
        return self._untyped.is_shared()

    @_deprecated
    def is_pinned(self, device='cuda'):
        return False

    @_deprecated
    def cpu(self):
        return self

    @property
    def device(self):
        _warn_typed_storage_removal()
        return self._untyped.device

    def _untyped_storage(self):
        return self._untyped

    @_deprecated
    def untyped(self):
        return self._untyped

    @_deprecated
    def data_ptr(self):
        return self._untyped.data_ptr()

    @_deprecated
    def size(self):
        return self._items.size

    @_deprecated
    def __len__(self):
        return self._items.size

    @_deprecated
    def element_size(self):
        return self.dtype.itemsize

    @_deprecated
    def nbytes(self):
        return self._untyped.nbytes()

    @_deprecated
    def __sizeof__(self):
        return object.__sizeof__(self) + self._untyped.nbytes()

    def _tolist(self):
        from .tensor import Tensor
        return Tensor._make(self._items).tolist()

    @_deprecated
    def tolist(self):
        return self._tolist()

    @_deprecated
    def __getitem__(self, i):
        from .tensor import Tensor
        if isinstance(i, slice):
            raise RuntimeError('slices are only supported in UntypedStorage.__getitem__')
        return Tensor._make(self._items[i:i + 1] if i != -1 else self._items[-1:]).tolist()[0]

    @_deprecated
    def __setitem__(self, i, value):
        self._items[i] = value

    @_deprecated
    def __iter__(self):
        return iter(self._tolist())

    @_deprecated
    def clone(self):
        return TypedStorage(wrap_storage=self._untyped.clone(), dtype=self.dtype)

    @_deprecated
    def copy_(self, source, non_blocking=None):
        """Copy ``source``'s bytes (a storage of as many bytes, of any dtype, as PyTorch's)."""
        self._untyped.copy_(source._untyped if isinstance(source, TypedStorage) else source)
        return self

    @_deprecated
    def fill_(self, value):
        self._items[...] = value
        return self

    @_deprecated
    def resize_(self, size):
        """``size`` elements, the old ones first (new memory: not a tensor's storage)."""
        self._untyped.resize_(size * self.dtype.itemsize)
        self._items = self._untyped._elements(self._items.dtype)

    @_deprecated
    def type(self, dtype=None, non_blocking=False):
        """Its legacy class name ('torch.FloatStorage'); given a storage class or its name, a converted copy."""
        if dtype is None:
            return f'torch.{_legacy_name(self.dtype)}'
        name = dtype if isinstance(dtype, str) else f'torch.{getattr(dtype, "__name__", dtype)}'
        target = next((d for n, d in LEGACY.items() if f'torch.{n}' == name), None)
        if target is None:
            raise RuntimeError(f'invalid type: {name!r}')
        return self._to(_dtype_named(target))

    def _to(self, dtype):
        from .tensor import Tensor
        return _owned(Tensor._make(self._items).to(dtype).clone())

    @_deprecated
    def pin_memory(self, device='cuda'):
        raise RuntimeError('Cannot access accelerator device when none is available.')

    @_deprecated
    def to(self, *, device, non_blocking=False):
        """A new TypedStorage over the same bytes on the CPU, as PyTorch's; another device refused."""
        _moved(device, 'TypedStorage.to()')
        return TypedStorage(wrap_storage=self._untyped, dtype=self.dtype)

    @_deprecated
    def cuda(self, device=None, non_blocking=False):
        _moved('cuda' if device is None else device, 'TypedStorage.cuda()')

    @_deprecated
    def hpu(self, device=None, non_blocking=False):
        _moved('hpu', 'TypedStorage.hpu()')

    @_deprecated
    def pickle_storage_type(self):
        """The legacy class name its dtype pickles as ('FloatStorage')."""
        try:
            return _legacy_name(self.dtype)
        except StopIteration:
            raise KeyError(f'dtype {self.dtype} is not recognized') from None

    @classmethod
    def from_file(cls, filename, shared, size):
        """``size`` elements of the class's dtype memory-mapped from ``filename`` (UntypedStorage.from_file's
        bytes), on the legacy classes (torch.FloatStorage.from_file) as PyTorch's."""
        _warn_typed_storage_removal()
        if getattr(cls, '_dtype', None) is None:
            raise RuntimeError('from_file can only be called on derived classes')
        untyped = UntypedStorage.from_file(filename, shared, size * cls._dtype.itemsize)
        return TypedStorage(wrap_storage=untyped, dtype=cls._dtype)

    @_deprecated
    def get_device(self):
        return None     # (PyTorch 2.13's for a CPU storage)

    @_deprecated
    def resizable(self):
        return self._untyped.resizable()

    @property
    def is_cuda(self):
        _warn_typed_storage_removal()
        return False

    @property
    def is_sparse(self):
        _warn_typed_storage_removal()
        return False

    @property
    def is_hpu(self):
        _warn_typed_storage_removal()
        return False

    @property
    def filename(self):
        _warn_typed_storage_removal()
        return None

    @classmethod
    def from_buffer(cls, buffer, byte_order='native', count=-1, offset=0, dtype=None):
        """A storage of elements copied from a Python buffer: ``dtype``'s (the class's, for FloatStorage...)."""
        _warn_typed_storage_removal()
        dt = getattr(cls, '_dtype', None) or dtype
        if dt is None:
            raise RuntimeError('from_buffer: must specify a dtype')
        return _from_buffer(buffer, byte_order, count, offset, dt)

    @_deprecated
    def __repr__(self):
        return _text(self._tolist(), f'[torch.storage.TypedStorage(dtype={self.dtype}, device=cpu) of size '
                                     f'{self._items.size}]')

    __str__ = __repr__


# the conversions PyTorch's storages have: storage.float() is a float32 TypedStorage (a copy)
_CONVERSIONS = {'bool': 'bool', 'byte': 'uint8', 'char': 'int8', 'short': 'int16', 'int': 'int32', 'long': 'int64',
                'half': 'float16', 'bfloat16': 'bfloat16', 'float': 'float32', 'double': 'float64',
                'complex_float': 'complex64', 'complex_double': 'complex128', 'float8_e4m3fn': 'float8_e4m3fn',
                'float8_e4m3fnuz': 'float8_e4m3fnuz', 'float8_e5m2': 'float8_e5m2', 'float8_e5m2fnuz': 'float8_e5m2fnuz'}


def _dtype_named(name):
    """The dtype named ``name`` (those ember stores, and the float8 ones it names but refuses to store)."""
    from . import _dtype
    if not isinstance(name, str):
        return name
    return next((d for d in _dtype.ALL if d.name == name), None) or getattr(_dtype, name)


def _moved(device, name):
    """A storage's move to ``device``: nothing for the CPU; ember has no other device, so refused, saying so."""
    from .tensor import _check_device
    if str(device).partition(':')[0] == 'hpu':    # (a device ember's torch.device does not parse)
        raise RuntimeError(f"{name}: ember runs on the CPU only, device 'hpu' is not available; use device='cpu'")
    if _check_device(device):
        raise RuntimeError(f"{name}: ember storages live on the CPU only, not on the meta device; use device='cpu'")


def _legacy_name(dtype):
    return next(n for n, d in LEGACY.items() if d == dtype.name)


def _from_buffer(buffer, byte_order, count, offset, dtype):
    """A TypedStorage of ``dtype`` elements copied from ``buffer`` (``byte_order`` 'native', 'little' or 'big')."""
    if byte_order not in ('native', 'little', 'big'):
        raise ValueError(f"invalid byte_order '{byte_order}' (expected 'big', 'little', or 'native')")
    import warnings
    from .ops.creation import frombuffer
    dt = _dtype_named(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')    # (frombuffer's note on read-only buffers: this copies)
        t = frombuffer(bytearray(memoryview(buffer).cast('B')), dtype=dt, count=count, offset=offset)
    if byte_order != 'native' and byte_order != sys.byteorder and dt.itemsize > 1:
        from .tensor import Tensor
        t = Tensor._make(t._data.byteswap())
    return _owned(t.clone())


def _owned(tensor):
    """A TypedStorage over new memory ``tensor`` holds (resizable: no program's tensor)."""
    out = object.__new__(TypedStorage)
    out._init_from(tensor, own=True)
    return out


def _add_conversions():
    for method, name in _CONVERSIONS.items():
        def typed(self, name=name):
            return self._to(_dtype_named(name))
        typed.__name__ = typed.__qualname__ = method
        setattr(TypedStorage, method, _deprecated(typed))

        def untyped(self, name=name):
            return self._typed(name)
        untyped.__name__ = untyped.__qualname__ = method
        setattr(UntypedStorage, method, untyped)


_add_conversions()


def untyped_storage(self):
    """The tensor's memory as bytes (an UntypedStorage)."""
    return UntypedStorage(self)


def storage(self):
    """The tensor's memory as elements of its dtype; PyTorch's deprecation warning, once a process."""
    _warn_typed_storage_removal()
    return TypedStorage(self)


class _LegacyStorageType(TorchNamedType):
    """Metaclass of the legacy storage classes: a TypedStorage of the class's dtype is an instance (PyTorch's
    _LegacyStorageMeta), and the class prints as ``<class 'torch.FloatStorage'>``."""

    def __instancecheck__(cls, instance):
        if not isinstance(instance, TypedStorage):
            return False
        _warn_typed_storage_removal()   # PyTorch's check reads the storage's (deprecated) device
        return instance.dtype == cls._dtype

    @property
    def dtype(cls):
        """The class's element dtype (``torch.FloatStorage.dtype``): deprecated, so it warns as PyTorch's."""
        _warn_typed_storage_removal()
        return cls._dtype


class _LegacyStorage(TypedStorage, metaclass=_LegacyStorageType):
    """``torch.FloatStorage(n)`` (n elements: uninitialised in PyTorch, zeros here), ``(sequence)`` or ``()``:
    a TypedStorage of the class's dtype over new memory."""
    _dtype = None

    def __new__(cls, *args):
        from .ops.creation import tensor, zeros
        _warn_typed_storage_removal()
        if not args:
            data = zeros(0, dtype=cls._dtype)
        elif len(args) == 1 and isinstance(args[0], int) and not isinstance(args[0], bool):
            data = zeros(args[0], dtype=cls._dtype)
        elif len(args) == 1 and isinstance(args[0], (list, tuple)):
            data = tensor(args[0], dtype=cls._dtype)
        else:
            raise TypeError(f'new(): invalid data type {type(args[0]).__name__!r}')
        out = object.__new__(TypedStorage)
        out._init_from(data, own=True)
        return out


def _legacy_class(name, dtype_name):
    from . import _dtype
    dtype = getattr(_dtype, dtype_name if dtype_name != 'bool' else 'bool_')
    return _LegacyStorageType(name, (_LegacyStorage,), {'_dtype': dtype, '__module__': 'ember', '__qualname__': name,
                                                        '__doc__': f'Legacy storage of {dtype_name} elements.'})


def legacy_classes():
    """{name: class} of the legacy typed storages, made once."""
    if not _CLASSES:
        _CLASSES.update((n, _legacy_class(n, d)) for n, d in LEGACY.items())
    return _CLASSES


_CLASSES = {}


def storage_type(self):
    """The legacy storage class of the tensor's dtype (``torch.FloatStorage`` for float32); deprecated, it warns."""
    _warn_typed_storage_removal()
    name = next(n for n, d in LEGACY.items() if d == str(self.dtype).split('.')[-1])
    return legacy_classes()[name]


def _load_from_bytes(b):
    """The storage ``pickle.loads`` of a PyTorch storage names: ``torch.load`` of the ``torch.save`` bytes ``b``."""
    import io
    from .serialization import load
    return load(io.BytesIO(b), weights_only=False)
