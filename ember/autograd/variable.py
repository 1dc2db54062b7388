"""``torch.autograd.Variable``, the pre-0.4 wrapper kept for old code: ``Variable(t)`` is a new leaf that
shares ``t``'s memory (``t`` itself is left as it was), and every tensor is an instance of Variable."""
import warnings

__all__ = ['Variable']


class VariableMeta(type):
    """``isinstance(t, Variable)`` holds for every tensor, as in PyTorch."""

    def __instancecheck__(cls, other):
        from ..tensor import Tensor
        return isinstance(other, Tensor)


class Variable(metaclass=VariableMeta):
    """``Variable(data, requires_grad=False)``: ``data.detach()`` with ``requires_grad`` set."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        from ..tensor import Tensor
        if not isinstance(data, Tensor):
            raise TypeError(f'Variable data has to be a tensor, but got {type(data).__name__}')
        if volatile:
            warnings.warn('volatile was removed and now has no effect. Use `with torch.no_grad():` instead.',
                          UserWarning, stacklevel=2)
        return data.detach().requires_grad_(bool(requires_grad))
