"""``torch.ao.nn.quantized``: PyTorch's quantized modules: Quantize, DeQuantize and Linear are built (convert swaps
them in); the others are importable by name and refuse by name when made."""
from ...quantization._unbuilt import Unbuilt
from . import dynamic, modules  # noqa: F401
from .modules import DeQuantize, Linear, Quantize  # noqa: F401

__all__ = ['BatchNorm2d', 'BatchNorm3d', 'Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d',
           'ConvTranspose3d', 'DeQuantize', 'ELU', 'Embedding', 'EmbeddingBag', 'GroupNorm', 'Hardswish',
           'InstanceNorm1d', 'InstanceNorm2d', 'InstanceNorm3d', 'LayerNorm', 'LeakyReLU', 'Linear', 'LSTM',
           'MultiheadAttention', 'Quantize', 'ReLU6', 'Sigmoid', 'Softmax', 'Dropout', 'PReLU', 'FloatFunctional',
           'FXFloatFunctional', 'QFunctional']
globals().update({n: Unbuilt(n, __name__.replace('ember.', 'torch.', 1)) for n in __all__
                 if n not in ('DeQuantize', 'Linear', 'Quantize')})
