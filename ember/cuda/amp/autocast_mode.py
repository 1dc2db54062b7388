"""``ember.cuda.amp.autocast_mode`` (``torch.cuda.amp.autocast_mode``): the deprecated CUDA spellings of
``torch.amp``'s autocast and custom_fwd/custom_bwd; with no CUDA they warn as PyTorch does and run disabled."""
import warnings

from ...amp import autocast_mode as _autocast_mode

__all__ = ['autocast', 'custom_fwd', 'custom_bwd']


def _deprecated(old, new):
    warnings.warn(f'`torch.cuda.amp.{old}(args...)` is deprecated. Please use `{new}` instead.', FutureWarning,
                  stacklevel=3)


class autocast(_autocast_mode.autocast):
    """``torch.cuda.amp.autocast``: ``torch.amp.autocast('cuda', ...)``, disabled without CUDA."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        _deprecated('autocast', "torch.amp.autocast('cuda', args...)")
        super().__init__('cuda', dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    """``torch.cuda.amp.custom_fwd``: ``torch.amp.custom_fwd(device_type='cuda')``."""
    _deprecated('custom_fwd', "torch.amp.custom_fwd(args..., device_type='cuda')")
    return _autocast_mode.custom_fwd(fwd, device_type='cuda', cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    """``torch.cuda.amp.custom_bwd``: ``torch.amp.custom_bwd(device_type='cuda')``."""
    _deprecated('custom_bwd', "torch.amp.custom_bwd(args..., device_type='cuda')")
    return _autocast_mode.custom_bwd(bwd, device_type='cuda')
