"""``nn.DataParallel`` as PyTorch keeps it without GPUs: a thin wrapper that runs the module in this
process (its state dict keys start with ``module.``, as PyTorch's do)."""
from ..modules.module import Module

__all__ = ['DataParallel', 'data_parallel']


class DataParallel(Module):
    """Wraps ``module``; with no GPU, PyTorch ignores ``device_ids`` and calls the module directly."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """The functional ``DataParallel``: PyTorch refuses it without GPUs, and so does ember."""
    raise RuntimeError('device type could not be determined')
