"""``ember.cuda.amp.grad_scaler`` (``torch.cuda.amp.grad_scaler``): the deprecated ``torch.cuda.amp.GradScaler``,
disabled with a warning without CUDA, and ``OptState`` as PyTorch keeps it here."""
from ...amp import grad_scaler as _grad_scaler
from ...amp.grad_scaler import OptState
from .autocast_mode import _deprecated

__all__ = ['GradScaler']


class GradScaler(_grad_scaler.GradScaler):
    """``torch.cuda.amp.GradScaler``: ``torch.amp.GradScaler('cuda', ...)``, disabled without CUDA."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        _deprecated('GradScaler', "torch.amp.GradScaler('cuda', args...)")
        # the base class warns from this line, as PyTorch's does: one location, so the default filter shows the
        # 'CUDA is not available' warning once a process however many scalers a program makes
        super().__init__('cuda', init_scale, growth_factor, backoff_factor, growth_interval, enabled)
