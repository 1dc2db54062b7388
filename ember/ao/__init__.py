"""``torch.ao``: of PyTorch's quantization toolkit, only the base classes that code checking a model for
observers imports (fvcore's checkpointer); ember has no quantized tensors."""
from . import quantization  # noqa: F401
