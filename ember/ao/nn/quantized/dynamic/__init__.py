"""``torch.ao.nn.quantized.dynamic``: PyTorch's dynamically quantized modules: Linear, LSTM, GRU and the three
cells are built; the convolutions are importable by name and refuse when made."""
from ....quantization._unbuilt import Unbuilt
from .modules import GRU, LSTM, GRUCell, Linear, LSTMCell, RNNCell  # noqa: F401

_NAMES = ('Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d', 'ConvTranspose3d')
globals().update({n: Unbuilt(n, __name__.replace('ember.', 'torch.', 1)) for n in _NAMES})
