"""``torch.ao.nn.quantized.dynamic.modules``: the dynamically quantized modules ember builds (Linear)."""
from .linear import Linear

__all__ = ['Linear']
from .rnn import GRU, LSTM, GRUCell, LSTMCell, RNNCell  # noqa: E402

__all__ += ['LSTM', 'GRU', 'LSTMCell', 'GRUCell', 'RNNCell']
