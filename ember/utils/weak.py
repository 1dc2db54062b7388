"""``torch.utils.weak``: dictionaries keyed by object identity that hold their keys weakly, so tensors (which
compare elementwise and so cannot be hashed by value) can key caches; tensordict imports WeakIdKeyDictionary."""
import weakref
from collections.abc import MutableMapping

from ..tensor import Tensor

__all__ = ['TensorWeakRef', 'WeakIdRef', 'WeakIdKeyDictionary', 'WeakTensorKeyDictionary']


class WeakIdRef(weakref.ref):
    """A weak reference hashed by its referent's id; two are equal when they refer to one live object."""
    __slots__ = ['_id']

    def __init__(self, key, callback=None):
        self._id = id(key)
        super().__init__(key, callback)

    def __hash__(self):
        return self._id

    def __eq__(self, other):
        a, b = self(), other()
        return a is b if a is not None and b is not None else self is other


class WeakIdKeyDictionary(MutableMapping):
    """A mapping whose keys are held by ``ref_type`` references (WeakIdRef: by identity); an entry goes when its key
    is collected."""

    def __init__(self, dict=None, ref_type=WeakIdRef):   # noqa: A002 (PyTorch's argument name)
        self.data = {}
        self.ref_type = ref_type
        self_ref = weakref.ref(self)

        def remove(k):
            owner = self_ref()
            if owner is not None:
                owner.data.pop(k, None)
        self._remove = remove
        if dict is not None:
            self.update(dict)

    def __getitem__(self, key):
        return self.data[self.ref_type(key)]

    def __setitem__(self, key, value):
        self.data[self.ref_type(key, self._remove)] = value

    def __delitem__(self, key):
        del self.data[self.ref_type(key)]

    def __contains__(self, key):
        try:
            ref = self.ref_type(key)
        except TypeError:
            return False
        return ref in self.data

    def __iter__(self):
        for ref in list(self.data):
            obj = ref()
            if obj is not None:
                yield obj

    def __len__(self):
        return sum(ref() is not None for ref in list(self.data))

    def __repr__(self):
        return f'<{type(self).__name__} at {id(self):#x}>'

    def keyrefs(self):
        return list(self.data)

    def copy(self):
        return type(self)({k: v for k, v in self.items()}, ref_type=self.ref_type)

    __copy__ = copy


WeakTensorKeyDictionary = WeakIdKeyDictionary


class TensorWeakRef:
    """A weak reference to a tensor, called to get the tensor back (None once it is collected)."""

    def __init__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise AssertionError(f'expected torch.Tensor, got {type(tensor)}.')
        self.ref = weakref.ref(tensor)

    def __call__(self):
        return self.ref()
