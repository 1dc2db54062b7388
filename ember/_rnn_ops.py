"""PyTorch's functional recurrent ops: ``torch.lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu`` (flat weight lists, the
padded and the packed overloads, PyTorch's tuples) and the one-step ``lstm_cell``, ``gru_cell``, ``rnn_tanh_cell``,
``rnn_relu_cell`` that custom RNN code calls. They run through the kernels of ember's RNN modules
(ember/nn/modules/rnn.py), so values and grad_fns are the modules'."""
import numpy as np

from . import ops
from .ops._util import arg_error, combination_error, type_name
from .tensor import Tensor

_GATES = {'LSTM': 4, 'GRU': 3, 'RNN_TANH': 1, 'RNN_RELU': 1}


def _rnn():
    from .nn.modules import rnn
    return rnn


# -- cells ----------------------------------------------------------------------------------------------------------
def _check_cell(input, states, w_ih, w_hh, mode):
    """PyTorch's cell checks, in its order: the input's width, the weights' gate rows, each state's batch and width."""
    name = mode.lower() + '_cell'
    named = (('input', 1, input), ('hx', 2, states[0]), ('w_ih', 3, w_ih), ('w_hh', 4, w_hh))
    for arg, pos, value in named if mode != 'LSTM' else named[:1] + named[2:]:
        if not isinstance(value, Tensor):
            raise arg_error(name, arg, pos, value)
    if input.size(1) != w_ih.size(1):
        raise RuntimeError(f'input has inconsistent input_size: got {input.size(1)} expected {w_ih.size(1)}')
    hidden, gates = w_hh.size(1), _GATES[mode]
    if w_ih.size(0) != gates * hidden:
        raise RuntimeError(f'weight_ih first dim must be {gates} * hidden_size = {gates * hidden}, but got '
                           f'{w_ih.size(0)}')
    for i, s in enumerate(states):
        if input.size(0) != s.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{i} batch size {s.size(0)}")
        if s.size(1) != hidden:
            raise RuntimeError(f'hidden{i} has inconsistent hidden_size: got {s.size(1)}, expected {hidden}')


def _cell(mode, input, states, w_ih, w_hh, b_ih, b_hh):
    _check_cell(input, states, w_ih, w_hh, mode)
    xw = ops.linear(input, w_ih, b_ih)
    return _rnn()._STEP[mode](xw, states[0], states[1] if len(states) == 2 else None, w_hh, b_hh, mode)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step on 2-D input: (h', c') from hx = (h, c) and the cell's weights (gates i, f, g, o)."""
    if isinstance(hx, Tensor) or len(hx) != 2:
        raise RuntimeError('lstm_cell expects two hidden states')
    return _cell('LSTM', input, tuple(hx), w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step on 2-D input (gates r, z, n); returns h'."""
    return _cell('GRU', input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step: tanh(input w_ih^T + b_ih + hx w_hh^T + b_hh)."""
    return _cell('RNN_TANH', input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step with relu."""
    return _cell('RNN_RELU', input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


# -- whole nets -----------------------------------------------------------------------------------------------------
def _weights_of(params, has_biases, num_layers, dirs, name):
    """``weights(layer, direction)`` over PyTorch's flat list: per layer and direction w_ih, w_hh, then b_ih, b_hh
    when has_biases, then w_hr when the list holds one more per group (LSTM projections)."""
    params = list(params)
    groups = num_layers * dirs
    per = len(params) // groups if groups and len(params) % groups == 0 else 0
    if per not in ((4, 5) if has_biases else (2, 3)):
        raise RuntimeError(f'{name}: expected {groups * (4 if has_biases else 2)} weights (w_ih, w_hh'
                           f'{", b_ih, b_hh" if has_biases else ""} for each of {num_layers} layer(s) x {dirs} '
                           f'direction(s)), got {len(params)}')

    def weights(layer, d):
        group = params[(layer * dirs + d) * per:(layer * dirs + d + 1) * per]
        w_ih, w_hh = group[:2]
        b_ih, b_hh = group[2:4] if has_biases else (None, None)
        w_hr = group[-1] if per in (3, 5) else None
        return w_ih, w_hh, b_ih, b_hh, w_hr
    return weights


def _states(hx, lstm, name):
    if lstm:
        if isinstance(hx, Tensor) or len(hx) != 2:
            raise RuntimeError(f'{name} expects two hidden states')
        return hx[0], hx[1]
    return hx, None


def _net(mode, input, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """Shared body of the four nets; ``batch_sizes`` given means ``input`` is packed data."""
    rnn = _rnn()
    name = mode.lower()
    lstm = mode == 'LSTM'
    dirs = 2 if bidirectional else 1
    h0, c0 = _states(hx, lstm, name)
    if h0.size(0) < num_layers * dirs or (lstm and c0.size(0) < num_layers * dirs):
        raise RuntimeError('Expected more hidden states in stacked_rnn')
    weights = _weights_of(params, has_biases, num_layers, dirs, name)
    p = dropout if train else 0
    if batch_sizes is None:
        x = input.transpose(0, 1) if batch_first else input
        out, h_n, c_n = rnn.run_layers(x, h0, c0, None, mode, weights, num_layers, dirs, p)
        if batch_first:   # PyTorch's RNN and GRU kernels transpose their output in place, LSTM's not
            out = out.transpose(0, 1) if lstm else out.transpose_(0, 1)
    else:
        packed = rnn.PackedSequence(input, batch_sizes)
        x, lengths = rnn.pad_packed_sequence(packed)
        mask = Tensor._make(np.arange(x.shape[0])[:, None, None] < lengths._data[None, :, None])
        out, h_n, c_n = rnn.run_layers(x, h0, c0, mask, mode, weights, num_layers, dirs, p)
        out = rnn._repack(out, packed).data
    return (out, h_n, c_n) if lstm else (out, h_n)


def _check_net_args(mode, input, args):
    """PyTorch's parser errors for the two overloads (padded and packed), which it names neither of; a TensorList
    argument (hx of an LSTM, params) must hold Tensors."""
    if not isinstance(input, Tensor) or len(args) < 2 or not isinstance(args[0], (Tensor, list, tuple)) or \
            not isinstance(args[1], (Tensor, list, tuple)) or mode != 'LSTM' and not isinstance(args[0], Tensor):
        raise combination_error(mode.lower(), (input,) + args)
    for k, arg in enumerate(args[:3], 1):
        if isinstance(arg, (list, tuple)):
            for i, t in enumerate(arg):
                if not isinstance(t, Tensor):
                    raise TypeError(f'expected Tensor as element {i} in argument {k}, but got {type_name(t)}')


def _net_op(mode):
    def op(input, *args):
        """PyTorch's functional {name}: ``(input, hx, params, has_biases, num_layers, dropout, train,
        bidirectional, batch_first)`` on padded input, or ``(data, batch_sizes, hx, params, has_biases,
        num_layers, dropout, train, bidirectional)`` on packed data; returns (output, h_n{c_n})."""
        _check_net_args(mode, input, args)
        if len(args) == 8 and isinstance(args[0], Tensor) and isinstance(args[1], (list, tuple, Tensor)) and \
                isinstance(args[2], (list, tuple)):
            return _net(mode, input, args[0], *args[1:], False)
        if len(args) != 8:
            raise TypeError(f'{mode.lower()}() takes 9 arguments (input, hx, params, has_biases, num_layers, '
                            f'dropout, train, bidirectional, batch_first), got {len(args) + 1}')
        return _net(mode, input, None, *args)
    op.__name__ = op.__qualname__ = mode.lower()
    op.__doc__ = op.__doc__.format(name=mode.lower(), c_n=', c_n' if mode == 'LSTM' else '')
    return op


lstm = _net_op('LSTM')
gru = _net_op('GRU')
rnn_tanh = _net_op('RNN_TANH')
rnn_relu = _net_op('RNN_RELU')
