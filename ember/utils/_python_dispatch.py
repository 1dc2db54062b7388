"""``torch.utils._python_dispatch``: ``TorchDispatchMode`` imports and can be subclassed (ptflops' aten backend
defines one at import), but entering one raises NotImplementedError: a dispatch mode sees the aten ops below
autograd, and ember has no dispatcher below its public functions (``TorchFunctionMode`` sees those; FLOPs are
counted by ``torch.utils.flop_counter.FlopCounterMode``)."""
from ..aliasing import unsupported

__all__ = ['TorchDispatchMode', 'is_traceable_wrapper_subclass', 'is_traceable_wrapper_subclass_type']


class TorchDispatchMode:
    """A mode whose ``__torch_dispatch__`` would see every aten op run inside it; ember refuses entering one."""

    def __init__(self, _dispatch_key=None):
        self._dispatch_key = _dispatch_key

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self):
        raise NotImplementedError(unsupported(
            f'torch.utils._python_dispatch.TorchDispatchMode ({type(self).__name__})',
            'ember has no dispatcher below its public functions: a TorchFunctionMode sees those, and '
            'torch.utils.flop_counter.FlopCounterMode counts FLOPs'))

    def __exit__(self, *exc):
        return False

    @classmethod
    def push(cls, *args, **kwargs):
        return cls(*args, **kwargs)


def _has_flatten_protocol(t):
    return hasattr(t, '__tensor_flatten__') and hasattr(t, '__tensor_unflatten__')


def is_traceable_wrapper_subclass(t):
    """Whether ``t`` is an instance of a Tensor subclass with ``__tensor_flatten__``/``__tensor_unflatten__`` (the
    protocol PyTorch's compiler traces wrapper subclasses by); tensordict asks at import."""
    from ..tensor import Tensor
    return isinstance(t, Tensor) and type(t) is not Tensor and _has_flatten_protocol(t)


def is_traceable_wrapper_subclass_type(t):
    """``is_traceable_wrapper_subclass`` for a class."""
    from ..tensor import Tensor
    return issubclass(t, Tensor) and t is not Tensor and _has_flatten_protocol(t)
