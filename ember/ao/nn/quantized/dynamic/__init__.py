"""``torch.ao.nn.quantized.dynamic``: PyTorch's dynamically quantized modules: Linear, LSTM and GRU are built;
the others are importable by name and refuse when made."""
from ....quantization._unbuilt import Unbuilt
from .modules import GRU, LSTM, Linear  # noqa: F401
from .modules.linear import LinearPackedParams  # noqa: F401

_NAMES = ('Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d', 'ConvTranspose3d', 'GRUCell', 'LSTMCell',
          'RNNCell')
globals().update({n: Unbuilt(n, __name__.replace('ember.', 'torch.', 1)) for n in _NAMES})
