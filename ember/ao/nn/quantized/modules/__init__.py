"""``torch.ao.nn.quantized.modules``: the statically quantized modules convert swaps in (Quantize, DeQuantize,
Linear); the others of PyTorch's refuse by name in ``torch.ao.nn.quantized``."""
from .linear import Linear, LinearPackedParams  # noqa: F401
from .stubs import DeQuantize, Quantize  # noqa: F401
