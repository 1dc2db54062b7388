"""``torch.ao.nn.quantized.dynamic.LSTM`` and ``GRU`` (printed DynamicQuantizedLSTM / DynamicQuantizedGRU): each
layer's weights int8 per tensor; as PyTorch's CPU kernel, the input projection of a layer is one dynamic linear
over the whole sequence (so its activations share one scale), the hidden projection one per step, each with its
bias fused in, then the float32 gate arithmetic of nn.LSTM / nn.GRU's cells."""
import numpy as np

from ...... import _dtype
from ......nn.modules.module import Module
from ......tensor import Tensor
from .linear import check_engine, dynamic_matmul, quantized_weight

__all__ = ['LSTM', 'GRU', 'LSTMCell', 'GRUCell', 'RNNCell', 'PackedParameter']


class PackedParameter(Module):
    """One layer-direction's packed weights (``param``: PyTorch keeps a CellParams object; ember the tuple
    (w_ih, w_hh, b_ih, b_hh), quantized weights and float biases)."""

    def __init__(self, param):
        super().__init__()
        self.param = param

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + 'param'] = self.param

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        self.param = state_dict.pop(prefix + 'param')
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)


def _sigmoid(a):
    from ...... import sigmoid
    return sigmoid(Tensor._make(a))._data


def _tanh(a):
    from ...... import tanh
    return tanh(Tensor._make(a))._data


class RNNBase(Module):
    """The dynamically quantized recurrent layers' common part: shapes, repr, weights and the sequence loop."""
    _FLOAT_MODE = ''
    _GATES = 1

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, dtype=_dtype.qint8):
        super().__init__()
        if dtype is not _dtype.qint8:
            raise NotImplementedError(f'ember builds dynamically quantized {mode} with torch.qint8 weights only, '
                                      f'not {dtype}')
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.dtype = float(dropout), bidirectional, dtype
        self.version, self.training = 2, False
        self._all_weight_values = None

    def _get_name(self):
        return 'DynamicQuantized' + self.mode

    def extra_repr(self):
        s = f'{self.input_size}, {self.hidden_size}'
        if self.num_layers != 1:
            s += f', num_layers={self.num_layers}'
        if self.bias is not True:
            s += f', bias={self.bias}'
        if self.batch_first is not False:
            s += f', batch_first={self.batch_first}'
        if self.dropout != 0:
            s += f', dropout={self.dropout}'
        if self.bidirectional is not False:
            s += f', bidirectional={self.bidirectional}'
        return s

    def __repr__(self):
        return f'{self._get_name()}({self.extra_repr()})'

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized copy of float ``mod`` (its qconfig's weight observer quantizes each weight)."""
        from ...... import nn
        from ......nn.modules.container import ModuleList
        if type(mod) is not getattr(nn, cls._FLOAT_MODE):
            raise AssertionError(f'nn.quantized.dynamic.{cls._FLOAT_MODE}.from_float only works for '
                                 f'nn.{cls._FLOAT_MODE}')
        if not hasattr(mod, 'qconfig'):
            raise AssertionError('Input float module must have qconfig defined')
        if not mod.bias:
            raise AssertionError('mod.bias must be True')
        if getattr(mod, 'proj_size', 0):
            raise NotImplementedError('dynamic quantization of an LSTM with proj_size is not supported by ember yet')
        out = cls(mod.input_size, mod.hidden_size, mod.num_layers, mod.bias, mod.batch_first, mod.dropout,
                  mod.bidirectional, _dtype.qint8)
        packed = []
        for layer in range(mod.num_layers):
            for suffix in ('', '_reverse')[:1 + bool(mod.bidirectional)]:
                get = lambda n: getattr(mod, f'{n}_l{layer}{suffix}', None)  # noqa: E731
                w_ih = quantized_weight(mod.qconfig.weight, get('weight_ih'))
                w_hh = quantized_weight(mod.qconfig.weight, get('weight_hh'))
                packed.append(PackedParameter((w_ih, w_hh, get('bias_ih'), get('bias_hh'))))
        out._all_weight_values = ModuleList(packed)
        return out

    def _hidden_shape(self, batch):
        return (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)

    def forward(self, input, hx=None):
        check_engine(self.mode)
        if not isinstance(input, Tensor):
            raise NotImplementedError(f"ember's dynamic quantized {self.mode} takes a tensor (not a "
                                      f'{type(input).__name__}: packed sequences are not supported yet)')
        if self.training and self.dropout:
            raise NotImplementedError(f"ember's dynamic quantized {self.mode} applies no dropout between layers: "
                                      'call .eval() first')
        a = input._data
        if a.ndim != 3:
            raise RuntimeError(f'input must have 3 dimensions, got {a.ndim}')
        if a.shape[-1] != self.input_size:
            raise RuntimeError(f'input.size(-1) must be equal to input_size. Expected {self.input_size}, got '
                               f'{a.shape[-1]}')
        if self.batch_first:
            a = a.transpose(1, 0, 2)
        states = self._initial(hx, a.shape[1])
        out, last = self._run(np.ascontiguousarray(a, dtype=np.float32), states)
        if self.batch_first:
            out = out.transpose(1, 0, 2)
        return Tensor._make(np.ascontiguousarray(out)), self._pack_state([Tensor._make(s) for s in last])

    def _initial(self, hx, batch):
        """The initial states as float32 arrays of shape (layers * directions, batch, hidden)."""
        n = 2 if self.mode == 'LSTM' else 1
        expected = self._hidden_shape(batch)
        if hx is None:
            return [np.zeros(expected, np.float32) for _ in range(n)]
        parts = list(hx) if self.mode == 'LSTM' else [hx]
        names = ('hidden[0]', 'hidden[1]') if self.mode == 'LSTM' else ('hidden',)
        for p, what in zip(parts, names):
            if tuple(p.shape) != expected:
                raise RuntimeError(f'Expected {what} size {expected}, got {list(p.shape)}')
        return [p._data for p in parts]

    def _run(self, seq, states):
        """All layers over ``seq`` (time, batch, features): the output of the last and each layer's last states."""
        dirs = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                w_ih, w_hh, b_ih, b_hh = self._all_weight_values[k].param
                t, b, f = seq.shape
                pre = dynamic_matmul(seq.reshape(-1, f), w_ih, b_ih).reshape(t, b, -1)
                state = [s[k] for s in states]
                steps = range(t - 1, -1, -1) if d else range(t)
                ys = [None] * t
                for i in steps:
                    state = self._cell(pre[i], state, w_hh, b_hh)
                    ys[i] = state[0]
                outs.append(np.stack(ys) if t else np.zeros((0, b, self.hidden_size), np.float32))
                for f_, s in zip(finals, state):
                    f_.append(s)
            seq = np.concatenate(outs, axis=2) if dirs == 2 else outs[0]
        return seq, [np.stack(f_) for f_ in finals]


class LSTM(RNNBase):
    """A dynamically quantized nn.LSTM (no proj_size)."""
    _FLOAT_MODE = 'LSTM'

    def __init__(self, *args, **kwargs):
        super().__init__('LSTM', *args, **kwargs)

    def _cell(self, pre, state, w_hh, b_hh):
        h, c = state
        gates = dynamic_matmul(h, w_hh, b_hh) + pre
        i, f, g, o = np.split(gates, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * _tanh(g)
        return [_sigmoid(o) * _tanh(c), c]

    def _pack_state(self, last):
        return tuple(last)


class GRU(RNNBase):
    """A dynamically quantized nn.GRU."""
    _FLOAT_MODE = 'GRU'

    def __init__(self, *args, **kwargs):
        super().__init__('GRU', *args, **kwargs)

    def _cell(self, pre, state, w_hh, b_hh, hg=None):
        h, = state
        if hg is None:
            hg = dynamic_matmul(h, w_hh, b_hh)
        ir, iz, in_ = np.split(pre, 3, axis=1)
        hr, hz, hn = np.split(hg, 3, axis=1)
        r = _sigmoid(hr + ir)
        z = _sigmoid(hz + iz)
        n = _tanh(in_ + hn * r)
        return [(h - n) * z + n]

    def _pack_state(self, last):
        return last[0]


class RNNCellBase(Module):
    """The dynamically quantized cells' common part: one step, each projection a dynamic linear of its own."""
    _FLOAT_MODE = ''

    def __init__(self, input_size, hidden_size, bias=True, num_chunks=4, dtype=_dtype.qint8):
        super().__init__()
        if dtype is not _dtype.qint8:
            raise NotImplementedError(f'ember builds dynamically quantized cells with torch.qint8 weights only, '
                                      f'not {dtype}')
        self.input_size, self.hidden_size, self.bias, self.weight_dtype = input_size, hidden_size, bias, dtype
        self._packed_weight_ih = self._packed_weight_hh = None

    def _get_name(self):
        return 'DynamicQuantized' + self._FLOAT_MODE

    def extra_repr(self):
        s = f'{self.input_size}, {self.hidden_size}'
        if 'bias' in self.__dict__ and self.bias is not True:
            s += f', bias={self.bias}'
        if 'nonlinearity' in self.__dict__ and self.nonlinearity != 'tanh':
            s += f', nonlinearity={self.nonlinearity}'
        return s

    def __repr__(self):
        return f'{self._get_name()}({self.extra_repr()})'

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized copy of float cell ``mod``."""
        from ...... import nn
        if type(mod) not in (nn.LSTMCell, nn.GRUCell, nn.RNNCell):
            raise AssertionError('nn.quantized.dynamic.RNNCellBase.from_float only works for nn.LSTMCell, '
                                 'nn.GRUCell and nn.RNNCell')
        if not hasattr(mod, 'qconfig'):
            raise AssertionError('Input float module must have qconfig defined')
        if not mod.bias:
            raise AssertionError('mod.bias must be True')
        kw = {'nonlinearity': mod.nonlinearity} if type(mod) is nn.RNNCell else {}
        out = cls(mod.input_size, mod.hidden_size, bias=mod.bias, dtype=_dtype.qint8, **kw)
        out._packed_weight_ih = (quantized_weight(mod.qconfig.weight, mod.weight_ih), mod.bias_ih)
        out._packed_weight_hh = (quantized_weight(mod.qconfig.weight, mod.weight_hh), mod.bias_hh)
        return out

    def _weight_bias(self):
        (w1, b1), (w2, b2) = self._packed_weight_ih, self._packed_weight_hh
        return {'weight': {'weight_ih': w1, 'weight_hh': w2}, 'bias': {'bias_ih': b1, 'bias_hh': b2}}

    def get_weight(self):
        return self._weight_bias()['weight']

    def get_bias(self):
        return self._weight_bias()['bias']

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + '_packed_weight_ih'] = self._packed_weight_ih
        destination[prefix + '_packed_weight_hh'] = self._packed_weight_hh

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        self._packed_weight_ih = state_dict.pop(prefix + '_packed_weight_ih')
        self._packed_weight_hh = state_dict.pop(prefix + '_packed_weight_hh')
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)

    def check_forward_input(self, input):
        if input.size(1) != self.input_size:
            raise RuntimeError(f'input has inconsistent input_size: got {input.size(1)}, expected {self.input_size}')

    def check_forward_hidden(self, input, hx, hidden_label=''):
        if input.size(0) != hx.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{hidden_label} batch size "
                               f'{hx.size(0)}')
        if hx.size(1) != self.hidden_size:
            raise RuntimeError(f'hidden{hidden_label} has inconsistent hidden_size: got {hx.size(1)}, expected '
                               f'{self.hidden_size}')

    def _projections(self, x, h):
        """(input projection, hidden projection) of one step, each quantized on its own."""
        check_engine(self._FLOAT_MODE)
        return dynamic_matmul(x, *self._packed_weight_ih), dynamic_matmul(h, *self._packed_weight_hh)

    def _zeros(self, input):
        return np.zeros((input.size(0), self.hidden_size), np.float32)


class LSTMCell(RNNCellBase):
    """A dynamically quantized nn.LSTMCell."""
    _FLOAT_MODE = 'LSTMCell'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, num_chunks=4, **kwargs)

    def forward(self, input, hx=None):
        self.check_forward_input(input)
        if hx is None:
            h = c = self._zeros(input)
        else:
            self.check_forward_hidden(input, hx[0], '[0]')
            self.check_forward_hidden(input, hx[1], '[1]')
            h, c = hx[0]._data, hx[1]._data
        pi, ph = self._projections(input._data, h)
        i, f, g, o = np.split(ph + pi, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * _tanh(g)
        return Tensor._make(_sigmoid(o) * _tanh(c)), Tensor._make(c)


class GRUCell(RNNCellBase):
    """A dynamically quantized nn.GRUCell."""
    _FLOAT_MODE = 'GRUCell'

    def __init__(self, input_size, hidden_size, bias=True, dtype=_dtype.qint8):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, dtype=dtype)

    def forward(self, input, hx=None):
        self.check_forward_input(input)
        if hx is not None:
            self.check_forward_hidden(input, hx, '')
        h = self._zeros(input) if hx is None else hx._data
        pi, ph = self._projections(input._data, h)
        return Tensor._make(GRU._cell(None, pi, [h], *self._packed_weight_hh, hg=ph)[0])


class RNNCell(RNNCellBase):
    """A dynamically quantized nn.RNNCell (tanh or relu)."""
    _FLOAT_MODE = 'RNNCell'

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity='tanh', dtype=_dtype.qint8):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        self.check_forward_input(input)
        if hx is not None:
            self.check_forward_hidden(input, hx, '')
        h = self._zeros(input) if hx is None else hx._data
        pi, ph = self._projections(input._data, h)
        if self.nonlinearity == 'tanh':
            return Tensor._make(_tanh(ph + pi))
        if self.nonlinearity == 'relu':
            return Tensor._make(np.maximum(ph + pi, np.float32(0)))
        raise RuntimeError(f'Unknown nonlinearity: {self.nonlinearity}')
