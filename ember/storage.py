"""Tensor storages as PyTorch shows them: ``t.untyped_storage()`` (the bytes) and the deprecated ``t.storage()``
(typed elements), both over the memory a tensor shares with its base. ``data_ptr()`` is the start of that memory,
so the Tensor Views tutorial's ``t.storage().data_ptr() == b.storage().data_ptr()`` holds for a view of ``t`` and
not for a clone; writing an element writes the tensor, as in PyTorch."""
import numpy as np

from ._torch_names import TorchNamedType
from ._warn import warn_user

__all__ = ['UntypedStorage', 'TypedStorage']

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
