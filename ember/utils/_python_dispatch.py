"""``torch.utils._python_dispatch``: ``TorchDispatchMode`` imports and can be subclassed (ptflops' aten backend
defines one at import), but entering one raises NotImplementedError: a dispatch mode sees the aten ops below
autograd, and ember has no dispatcher below its public functions (``TorchFunctionMode`` sees those; FLOPs are
counted by ``torch.utils.flop_counter.FlopCounterMode``)."""
from ..aliasing import unsupported

__all__ = ['TorchDispatchMode']


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
