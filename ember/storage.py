"""Tensor storages as PyTorch shows them: ``t.untyped_storage()`` (the bytes) and the deprecated ``t.storage()``
(typed elements), both over the memory a tensor shares with its base. ``data_ptr()`` is the start of that memory,
so the Tensor Views tutorial's ``t.storage().data_ptr() == b.storage().data_ptr()`` holds for a view of ``t`` and
not for a clone; writing an element writes the tensor, as in PyTorch."""
import numpy as np

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


def _memory(a):
    """The whole memory ``a`` shares with its base, as a flat uint8 array (a view of it)."""
    base = a
    while isinstance(base.base, np.ndarray):
        base = base.base
    if not base.flags.c_contiguous:
        base = np.ascontiguousarray(base)
    return base.reshape(-1).view(np.uint8)


def _text(values, info):
    """PyTorch's printed storage: one element a line, each after a space, then the bracketed description."""
    return ' ' + '\n '.join(str(v) for v in values) + '\n' + info


class UntypedStorage(metaclass=TorchNamedType):
    """The bytes of a tensor's memory (``tensor.untyped_storage()``)."""

    def __init__(self, tensor):
        self._bytes = _memory(tensor._data)

    @property
    def device(self):
        from .tensor import device
        return device('cpu')

    def data_ptr(self):
        return self._bytes.__array_interface__['data'][0]

    def nbytes(self):
        return self._bytes.size

    size = nbytes

    def __len__(self):
        return self._bytes.size

    def __sizeof__(self):
        """The object plus its bytes, as PyTorch's (torchinfo sums ``sys.getsizeof`` of input storages)."""
        return object.__sizeof__(self) + self.nbytes()

    def element_size(self):
        return 1

    def tolist(self):
        return self._bytes.tolist()

    def __getitem__(self, i):
        return self._bytes[i].tolist()

    def __setitem__(self, i, value):
        self._bytes[i] = value

    def __iter__(self):
        return iter(self.tolist())

    def __repr__(self):
        return _text(self.tolist(), f'[torch.storage.UntypedStorage(device=cpu) of size {len(self)}]')

    __str__ = __repr__


class TypedStorage(metaclass=TorchNamedType):
    """A tensor's memory as elements of its dtype (``tensor.storage()``, deprecated in PyTorch: it warns once)."""

    def __init__(self, tensor):
        self._untyped = UntypedStorage(tensor)
        self.dtype = tensor.dtype
        self._items = self._untyped._bytes.view(tensor._data.dtype)

    @property
    def device(self):
        return self._untyped.device

    def _untyped_storage(self):
        return self._untyped

    def untyped(self):
        return self._untyped

    def data_ptr(self):
        return self._untyped.data_ptr()

    def size(self):
        return self._items.size

    def __len__(self):
        return self._items.size

    def element_size(self):
        return self._items.itemsize

    def nbytes(self):
        return self._untyped.nbytes()

    def __sizeof__(self):
        return object.__sizeof__(self) + self.nbytes()

    def tolist(self):
        from .tensor import Tensor
        return Tensor._make(self._items).tolist()

    def __getitem__(self, i):
        from .tensor import Tensor
        if isinstance(i, slice):
            raise RuntimeError('slices are only supported in UntypedStorage.__getitem__')
        return Tensor._make(self._items[i:i + 1] if i != -1 else self._items[-1:]).tolist()[0]

    def __setitem__(self, i, value):
        self._items[i] = value

    def __iter__(self):
        return iter(self.tolist())

    def __repr__(self):
        return _text(self.tolist(), f'[torch.storage.TypedStorage(dtype={self.dtype}, device=cpu) of size '
                                    f'{len(self)}]')

    __str__ = __repr__


def untyped_storage(self):
    """The tensor's memory as bytes (an UntypedStorage)."""
    return UntypedStorage(self)


def storage(self):
    """The tensor's memory as elements of its dtype; PyTorch's deprecation warning, once a process."""
    warn_user(_DEPRECATED, once=True)
    return TypedStorage(self)


class _LegacyStorageType(TorchNamedType):
    """Metaclass of the legacy storage classes: a TypedStorage of the class's dtype is an instance (PyTorch's
    _LegacyStorageMeta), and the class prints as ``<class 'torch.FloatStorage'>``."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, TypedStorage) and instance.dtype == cls.dtype


class _LegacyStorage(TypedStorage, metaclass=_LegacyStorageType):
    """``torch.FloatStorage(n)`` (n elements: uninitialised in PyTorch, zeros here), ``(sequence)`` or ``()``:
    a TypedStorage of the class's dtype over new memory."""
    dtype = None

    def __new__(cls, *args):
        from .ops.creation import tensor, zeros
        if not args:
            data = zeros(0, dtype=cls.dtype)
        elif len(args) == 1 and isinstance(args[0], int) and not isinstance(args[0], bool):
            data = zeros(args[0], dtype=cls.dtype)
        elif len(args) == 1 and isinstance(args[0], (list, tuple)):
            data = tensor(args[0], dtype=cls.dtype)
        else:
            raise TypeError(f'new(): invalid data type {type(args[0]).__name__!r}')
        out = object.__new__(TypedStorage)
        TypedStorage.__init__(out, data)
        return out


def _legacy_class(name, dtype_name):
    from . import _dtype
    return _LegacyStorageType(name, (_LegacyStorage,), {'dtype': getattr(_dtype, dtype_name if dtype_name != 'bool'
                                                                         else 'bool_'),
                                                         '__module__': 'ember', '__qualname__': name,
                                                         '__doc__': f'Legacy storage of {dtype_name} elements.'})


def legacy_classes():
    """{name: class} of the legacy typed storages, made once."""
    if not _CLASSES:
        _CLASSES.update((n, _legacy_class(n, d)) for n, d in LEGACY.items())
    return _CLASSES


_CLASSES = {}


def storage_type(self):
    """The legacy storage class of the tensor's dtype (``torch.FloatStorage`` for float32)."""
    name = next(n for n, d in LEGACY.items() if d == str(self.dtype).split('.')[-1])
    return legacy_classes()[name]
