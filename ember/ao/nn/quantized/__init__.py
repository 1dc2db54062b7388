"""``torch.ao.nn.quantized``: PyTorch's quantized modules, importable by name; ember has no quantized tensors, so
each refuses by name when made."""
from ...quantization._unbuilt import Unbuilt
from . import dynamic  # noqa: F401

__all__ = ['BatchNorm2d', 'BatchNorm3d', 'Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d',
           'ConvTranspose3d', 'DeQuantize', 'ELU', 'Embedding', 'EmbeddingBag', 'GroupNorm', 'Hardswish',
           'InstanceNorm1d', 'InstanceNorm2d', 'InstanceNorm3d', 'LayerNorm', 'LeakyReLU', 'Linear', 'LSTM',
           'MultiheadAttention', 'Quantize', 'ReLU6', 'Sigmoid', 'Softmax', 'Dropout', 'PReLU', 'FloatFunctional',
           'FXFloatFunctional', 'QFunctional']
globals().update({n: Unbuilt(n, __name__.replace('ember.', 'torch.', 1)) for n in __all__})
