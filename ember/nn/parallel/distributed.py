"""``nn.parallel.DistributedDataParallel``: importable (so scripts that only test ``isinstance`` or
wrap conditionally run), refused when built since ember has no ``torch.distributed``."""
from ...aliasing import unsupported
from ..modules.module import Module

__all__ = ['DistributedDataParallel']


class DistributedDataParallel(Module):
    """Refused when constructed: ember has no process groups to synchronise gradients over."""
    __ember_unsupported__ = True  # ``ember run --check`` lists it

    def __init__(self, module, *args, **kwargs):
        __tracebackhide__ = True  # noqa: F841 (IPython hides this frame)
        raise NotImplementedError(unsupported(
            'torch.nn.parallel.DistributedDataParallel',
            'ember has no torch.distributed; train the module itself in one process'))
