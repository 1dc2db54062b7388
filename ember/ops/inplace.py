"""In-place ops (``add_``, ``mul_``, ``+=``, ...): computed out of place, then written into the tensor's
own array, with PyTorch's checks (leaves that require grad, dtype casts) and version bumps."""
import numpy as np

from .._dtype import FROM_NP, can_cast
from ..autograd.grad_mode import GRAD
from ..tensor import Tensor

_LEAF = 'a leaf Variable that requires grad is being used in an in-place operation.'
_VIEW_LEAF = 'a view of a leaf Variable that requires grad is being used in an in-place operation.'


def check_inplace(t, *others):
    """Raise for an in-place change autograd forbids; True when the change must be recorded."""
    if not GRAD.enabled:
        return False
    if t._requires_grad and t.grad_fn is None:
        raise RuntimeError(_LEAF)
    b = t._base
    if b is not None and b._requires_grad and b.grad_fn is None and t._requires_grad:
        raise RuntimeError(_VIEW_LEAF)
    return t._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)


def commit(t, r):
    """Write result ``r`` into ``t`` and make ``r``'s grad_fn the history of ``t``."""
    if r._data.dtype != t._data.dtype and not can_cast(FROM_NP[r._data.dtype], FROM_NP[t._data.dtype]):
        raise RuntimeError(f'result type {_tname(r)} can\'t be cast to the desired output type {_tname(t)}')
    if r._data.shape != t._data.shape:
        try:
            np.broadcast_to(r._data, t._data.shape)
        except ValueError:
            raise RuntimeError(f'output with shape [{", ".join(map(str, t._data.shape))}] doesn\'t match the '
                               f'broadcast shape [{", ".join(map(str, r._data.shape))}]') from None
        if r.grad_fn is not None:
            raise RuntimeError(f'output with shape [{", ".join(map(str, t._data.shape))}] doesn\'t match the '
                               f'broadcast shape [{", ".join(map(str, r._data.shape))}]')
    np.copyto(t._data, r._data, casting='unsafe')
    if r.grad_fn is not None:
        t.grad_fn = r.grad_fn
        t._output_nr = r._output_nr
        t._requires_grad = True
    t._bump()
    return t


def _tname(t):
    return {'float32': 'Float', 'float64': 'Double', 'float16': 'Half', 'int64': 'Long', 'int32': 'Int',
            'int16': 'Short', 'int8': 'Char', 'uint8': 'Byte', 'bool': 'Bool'}[t._data.dtype.name]


def _snapshot(t):
    """The value of ``t`` before the change, still attached to its history (saved by the new node)."""
    s = Tensor._make(t._data.copy(), t.grad_fn)
    s._output_nr = t._output_nr
    s._requires_grad = t._requires_grad
    return s


def make_inplace(fn, name):
    """The in-place variant ``name`` of the out-of-place op ``fn(self, *args)``."""
    def op_(self, *args, **kwargs):
        if check_inplace(self, *args):
            return commit(self, fn(_snapshot(self), *args, **kwargs))
        return commit(self, fn(self, *args, **kwargs))
    op_.__name__ = name
    op_.__doc__ = f'In-place version of ``{fn.__name__}`` (returns self).'
    return op_


def make_reshape_inplace(fn, name):
    """In-place shape change (``unsqueeze_``, ``squeeze_``, ``t_``...): self takes the view's shape."""
    def op_(self, *args, **kwargs):
        if self._requires_grad and self.grad_fn is None and GRAD.enabled:
            r = fn(self, *args, **kwargs)
            self._data = r._data
            return self
        r = fn(self, *args, **kwargs)
        self._data = r._data
        if r.grad_fn is not None:
            self.grad_fn, self._output_nr = r.grad_fn, r._output_nr
        return self
    op_.__name__ = name
    op_.__doc__ = f'In-place version of ``{fn.__name__}``: changes this tensor\'s shape (returns self).'
    return op_


def zero_(t):
    """Fill with zeros in place."""
    check_inplace(t)
    t._data[...] = 0
    t._bump()
    return t


def fill_(t, value):
    """Fill with ``value`` in place."""
    if check_inplace(t, value):
        from .pointwise import add, mul
        return commit(t, add(mul(_snapshot(t), 0), value))
    t._data[...] = value._data if isinstance(value, Tensor) else value
    t._bump()
    return t


def copy_(t, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast to t's dtype) into t."""
    if not isinstance(src, Tensor):
        src = Tensor._make(np.asarray(src))
    if check_inplace(t, src):
        from .shape import expand, to
        r = expand(to(src, t.dtype), t.shape) if src._data.shape != t._data.shape else to(src, t.dtype)
        if r.grad_fn is None:
            r = Tensor._make(r._data)
        from .pointwise import add, mul
        return commit(t, add(mul(_snapshot(t), 0), r))
    try:
        np.copyto(t._data, src._data, casting='unsafe')
    except ValueError:
        raise RuntimeError(f'The size of tensor a ({t._data.shape}) must match the size of tensor b '
                           f'({src._data.shape}) for copy_') from None
    t._bump()
    return t
