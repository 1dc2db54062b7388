"""``torch.quantization``: PyTorch's older name for torch.ao.quantization, re-exporting its names (not
fuse_modules_qat, which PyTorch's keeps under torch.ao.quantization only)."""
from ..ao import quantization as _ao
from ..ao.quantization import fuser_method_mappings, stubs  # noqa: F401

__all__ = [n for n in _ao.__all__ if n not in ('fuse_modules_qat', 'fuse_known_modules')]
globals().update({n: getattr(_ao, n) for n in __all__})
