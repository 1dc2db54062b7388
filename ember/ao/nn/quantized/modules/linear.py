"""``torch.ao.nn.quantized.Linear`` (printed QuantizedLinear): int8 weights (per tensor or per channel), a float
bias, quint8 input and output. The forward is fbgemm's (the x86 engine's): int32 products of the zero-point-shifted
integers, then in float32 ``(acc + bias / (x_scale * w_scale)) * (x_scale * w_scale / out_scale)`` rounded to
nearest even, plus the output zero point, clamped."""
import numpy as np

from ..... import _dtype
from ....._quantized import make, per_channel_affine, per_tensor_affine, quantize_per_channel, quantize_per_tensor
from .....nn.modules.module import Module
from .....tensor import Tensor

__all__ = ['Linear', 'LinearPackedParams', 'requantized_linear', 'static_weight']


class LinearPackedParams(Module):
    """Holds the quantized weight and the float bias (PyTorch's packed fbgemm matrix); in a state_dict as
    ``dtype`` and ``_packed_params`` (the (weight, bias) pair); prints as that pair."""
    _version = 3

    def __init__(self, dtype=_dtype.qint8):
        super().__init__()
        if dtype is not _dtype.qint8:
            raise NotImplementedError(f'ember builds dynamically quantized Linear with torch.qint8 weights only, '
                                      f'not {dtype}')
        self.dtype = dtype
        self._packed_params = (make(np.zeros((1, 1), np.int8), dtype, per_tensor_affine, 1.0, 0), None)

    def set_weight_bias(self, weight, bias):
        self._packed_params = (weight, bias)

    def _weight_bias(self):
        return self._packed_params

    def forward(self, x):
        return x

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + 'dtype'] = self.dtype
        destination[prefix + '_packed_params'] = self._weight_bias()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        self.dtype = state_dict.pop(prefix + 'dtype')
        self.set_weight_bias(*state_dict.pop(prefix + '_packed_params'))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)

    def __repr__(self):
        return repr(self._weight_bias())


def check_engine(what):
    """ember gives the 'x86' / 'fbgemm' engines' values: any other engine refuses."""
    from ..... import backends
    if backends.quantized.engine not in ('x86', 'fbgemm'):
        raise NotImplementedError(f"ember's dynamic quantized {what} gives the 'x86' / 'fbgemm' engines' values; "
                                  f"torch.backends.quantized.engine is '{backends.quantized.engine}'")


def _weight_scales(w):
    """float32 scales and int64 zero points of qint8 weight ``w``, one per output row."""
    rows = w._int.shape[0]
    if w._qscheme is per_tensor_affine:
        return np.full(rows, w._scale, np.float32), np.full(rows, w._zp, np.int64)
    return w._scale.astype(np.float32), w._zp.astype(np.int64)


def requantized_linear(xq, w, bias, scale, zero_point, relu=False):
    """fbgemm's quantized linear of quint8 QTensor ``xq`` (rows over its last dim) and qint8 ``w``: a quint8
    QTensor with ``scale`` / ``zero_point``; ``relu`` clamps below at the zero point (the fused LinearReLU)."""
    check_engine('Linear')
    if not getattr(xq, 'is_quantized', False) or xq._qdtype is not _dtype.quint8:
        raise RuntimeError('quantized::linear (ember): expected a quint8 quantized input (put a QuantStub before '
                           'the quantized module)')
    k = w._int.shape[1]
    if xq._int.shape[-1] != k:
        raise RuntimeError(f'The number of columns of the input ({xq._int.shape[-1]}) must equal the weight\'s '
                           f'in_features ({k})')
    ws, wz = _weight_scales(w)
    x = xq._int.reshape(-1, k).astype(np.int64) - xq._zp
    acc = (x @ (w._int.astype(np.int64) - wz[:, None]).T).astype(np.float32)
    act_w = np.float32(xq._scale) * ws
    if bias is not None:
        acc = acc + bias._data.astype(np.float32) / act_w
    ab = acc * (act_w / np.float32(scale))
    lo = zero_point if relu else 0
    ints = np.clip(np.rint(ab).astype(np.int64) + zero_point, lo, 255).astype(np.uint8)
    return make(ints.reshape(xq._int.shape[:-1] + (w._int.shape[0],)), _dtype.quint8, per_tensor_affine,
                float(scale), int(zero_point))


def static_weight(observer_factory, w):
    """Float weight ``w`` observed by a fresh weight observer and quantized (per tensor or per channel)."""
    observer = observer_factory()
    observer(w)
    scale, zp = observer.calculate_qparams()
    if observer.dtype is not _dtype.qint8:
        raise NotImplementedError(f'ember builds static quantization with torch.qint8 weights only, not '
                                  f'{observer.dtype}')
    if observer.qscheme.name.startswith('per_channel'):
        return quantize_per_channel(w.detach().float(), scale.double(), zp.long(), observer.ch_axis, _dtype.qint8)
    return quantize_per_tensor(w.detach().float(), float(scale), int(zp), _dtype.qint8)


class Linear(Module):
    """A statically quantized Linear: quint8 input, int8 weight, quint8 output with ``scale`` / ``zero_point``."""
    _version = 3
    _FLOAT_MODULE = 'Linear'

    def __init__(self, in_features, out_features, bias_=True, dtype=_dtype.qint8):
        super().__init__()
        from ..... import zeros
        self.in_features, self.out_features = in_features, out_features
        bias = zeros(out_features) if bias_ else None
        qweight = make(np.zeros((out_features, in_features), np.int8), _dtype.qint8, per_tensor_affine, 1.0, 0)
        self._packed_params = LinearPackedParams(dtype)
        self._packed_params.set_weight_bias(qweight, bias)
        self.scale, self.zero_point = 1.0, 0

    def _get_name(self):
        return 'QuantizedLinear'

    def extra_repr(self):
        return (f'in_features={self.in_features}, out_features={self.out_features}, scale={self.scale}, '
                f'zero_point={self.zero_point}, qscheme={self.weight().qscheme()}')

    def __repr__(self):
        return f'{self._get_name()}({self.extra_repr()})'

    def forward(self, x):
        return requantized_linear(x, *self._weight_bias(), self.scale, self.zero_point)

    def _weight_bias(self):
        return self._packed_params._weight_bias()

    def weight(self):
        return self._weight_bias()[0]

    def bias(self):
        return self._weight_bias()[1]

    def set_weight_bias(self, w, b):
        self._packed_params.set_weight_bias(w, b)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        from ..... import tensor
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + 'scale'] = tensor(self.scale)
        destination[prefix + 'zero_point'] = tensor(self.zero_point)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        self.scale = float(state_dict.pop(prefix + 'scale'))
        self.zero_point = int(state_dict.pop(prefix + 'zero_point'))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized copy of calibrated float ``mod`` (a Linear with a qconfig and an activation observer)."""
        from .....nn import Linear as FloatLinear
        from .....nn.modules.linear import NonDynamicallyQuantizableLinear
        if type(mod) not in (FloatLinear, NonDynamicallyQuantizableLinear):
            raise AssertionError(f'nnq.Linear.from_float only works for Linear, got: {type(mod)}')
        if not hasattr(mod, 'qconfig'):
            raise AssertionError('Input float module must have qconfig defined')
        act = mod.activation_post_process
        qweight = static_weight(mod.qconfig.weight, mod.weight)
        out = cls(mod.in_features, mod.out_features)
        out.set_weight_bias(qweight, mod.bias)
        scale, zp = act.calculate_qparams()
        out.scale, out.zero_point = float(scale), int(zp)
        return out
