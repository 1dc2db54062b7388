"""``torch.ao.nn.quantized.dynamic``: PyTorch's dynamically quantized modules, importable by name; each refuses by
name when made (ember has no quantize_dynamic yet)."""
from ....quantization._unbuilt import Unbuilt

_NAMES = ('Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d', 'ConvTranspose3d', 'GRU', 'GRUCell',
          'LSTM', 'LSTMCell', 'Linear', 'RNNCell')
globals().update({n: Unbuilt(n, __name__.replace('ember.', 'torch.', 1)) for n in _NAMES})
