"""``Parameter``: a tensor that a Module registers as one of its learnable parameters, and ``Buffer``,
a tensor a Module registers as state (both share the array of the tensor they are made from)."""
import numpy as np

from .._dtype import DEFAULT
from ..tensor import Tensor, _init, user_state

__all__ = ['Parameter', 'Buffer', 'is_lazy']


class Parameter(Tensor):
    """A leaf tensor that ``Module.__setattr__`` registers as a parameter; requires grad by default."""

    def __new__(cls, data=None, requires_grad=True):
        arr = np.empty(0, DEFAULT.np) if data is None else data._data
        if requires_grad and arr.dtype.kind != 'f':
            raise RuntimeError('Only Tensors of floating point and complex dtype can require gradients')
        self = object.__new__(cls)
        _init(self, arr, None)
        self._requires_grad = bool(requires_grad)
        return self

    def __init__(self, data=None, requires_grad=True):
        """All the work is done in ``__new__`` (the array is shared, not copied)."""

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(Tensor._make(self._data.copy()), self._requires_grad)
        memo[id(self)] = result
        return result

    def __repr__(self):
        return 'Parameter containing:\n' + Tensor.__repr__(self)

    def __reduce_ex__(self, protocol):
        state = user_state(self)
        if not state:
            return (_rebuild_parameter, (self._data, self._requires_grad))
        return (_rebuild_parameter_with_state, (self._data, self._requires_grad, state))


def _rebuild_parameter(arr, requires_grad):
    return Parameter(Tensor._make(arr), requires_grad)


def _rebuild_parameter_with_state(arr, requires_grad, state):
    p = Parameter(Tensor._make(arr), requires_grad)
    p.__dict__.update(state)
    return p


class _BufferMeta(type):
    """``isinstance(t, Buffer)`` holds for tensors made by ``Buffer(...)`` (they are plain Tensors)."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.__dict__.get('_is_buffer', False)


class Buffer(metaclass=_BufferMeta):
    """Marks a tensor as a module buffer when assigned as an attribute (``persistent`` as register_buffer)."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor._make(np.empty(0, DEFAULT.np))
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


def is_lazy(param):
    """ember has no lazy (uninitialised) parameters."""
    return False
