"""``ember.cuda.amp`` (``torch.cuda.amp``): PyTorch's deprecated CUDA spellings of ``torch.amp``, in its
submodules autocast_mode, grad_scaler and common. With no CUDA they warn as PyTorch does and run disabled."""
from . import autocast_mode, common, grad_scaler
from .autocast_mode import autocast, custom_bwd, custom_fwd
from .common import amp_definitely_not_available
from .grad_scaler import GradScaler

__all__ = ['amp_definitely_not_available', 'autocast', 'custom_bwd', 'custom_fwd', 'GradScaler']
