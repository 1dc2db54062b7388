"""``torch.ao.nn``: the fused (intrinsic) modules that fuse_modules builds and the dynamically quantized modules
that quantize_dynamic swaps in."""
from . import intrinsic, quantized  # noqa: F401
