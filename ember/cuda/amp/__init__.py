"""``ember.cuda.amp`` (``torch.cuda.amp``): PyTorch's deprecated CUDA spellings of ``torch.amp``. With no
CUDA they warn as PyTorch does and run disabled."""
import warnings

from ...amp import autocast_mode as _autocast_mode, grad_scaler as _grad_scaler

__all__ = ['autocast', 'GradScaler', 'custom_fwd', 'custom_bwd']


def _deprecated(old, new):
    warnings.warn(f'`torch.cuda.amp.{old}(args...)` is deprecated. Please use `{new}` instead.', FutureWarning,
                  stacklevel=3)


class autocast(_autocast_mode.autocast):
    """``torch.cuda.amp.autocast``: ``torch.amp.autocast('cuda', ...)``, disabled without CUDA."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        _deprecated('autocast', "torch.amp.autocast('cuda', args...)")
        super().__init__('cuda', dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_grad_scaler.GradScaler):
    """``torch.cuda.amp.GradScaler``: ``torch.amp.GradScaler('cuda', ...)``, disabled without CUDA."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        _deprecated('GradScaler', "torch.amp.GradScaler('cuda', args...)")
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            super().__init__('cuda', init_scale, growth_factor, backoff_factor, growth_interval, enabled)
        if enabled:
            warnings.warn('torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.',
                          stacklevel=2)


def custom_fwd(fwd=None, *, cast_inputs=None):
    """``torch.cuda.amp.custom_fwd``: ``torch.amp.custom_fwd(device_type='cuda')``."""
    _deprecated('custom_fwd', "torch.amp.custom_fwd(args..., device_type='cuda')")
    return _autocast_mode.custom_fwd(fwd, device_type='cuda', cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    """``torch.cuda.amp.custom_bwd``: ``torch.amp.custom_bwd(device_type='cuda')``."""
    _deprecated('custom_bwd', "torch.amp.custom_bwd(args..., device_type='cuda')")
    return _autocast_mode.custom_bwd(bwd, device_type='cuda')


