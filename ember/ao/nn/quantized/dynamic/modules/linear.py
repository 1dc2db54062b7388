"""``torch.ao.nn.quantized.dynamic.Linear`` (printed DynamicQuantizedLinear): an int8 weight quantized per tensor,
a float bias; each call quantizes its input per tensor to quint8 from the input's min and max (reduce_range: 0..127,
as fbgemm / x86 do), multiplies in int32 and rescales to float32, giving PyTorch's x86 values bit for bit."""
import numpy as np

from ...... import _dtype
from ......_quantized import (RANGES, choose_qparams, make, per_tensor_affine, per_tensor_symmetric, quantize_array,
                             quantize_per_tensor)
from ......nn.modules.module import Module
from ......tensor import Tensor

__all__ = ['Linear', 'LinearPackedParams']


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
    from ...... import backends
    if backends.quantized.engine not in ('x86', 'fbgemm'):
        raise NotImplementedError(f"ember's dynamic quantized {what} gives the 'x86' / 'fbgemm' engines' values; "
                                  f"torch.backends.quantized.engine is '{backends.quantized.engine}'")


def dynamic_matmul(rows, weight, bias):
    """fbgemm's dynamic int8 linear of the float32 rows ``rows`` (n, k): quantized to quint8 over their [min, max]
    (range 0..127), int32 products less the zero point's share, then one fused multiply-add per value:
    ``acc * (x_scale * w_scale) + bias`` in float32 (the FMA matched PyTorch's on all of 34000 outputs, two
    roundings differed in a quarter of them). ``weight``: a qint8 QTensor; ``bias``: a Tensor or None."""
    lo, hi = (float(rows.min()), float(rows.max())) if rows.size else (0.0, 0.0)
    scale, zp = choose_qparams(lo, hi, *RANGES[_dtype.quint8][:2], reduce_range=True)
    xq = quantize_array(rows, scale, zp, _dtype.quint8, fused=True).astype(np.int64)
    w = weight._int.astype(np.int64)
    acc = xq @ w.T - zp * w.sum(axis=1)[None, :]
    out = acc * np.float64(np.float32(scale) * np.float32(weight._scale))
    if bias is not None:
        out = out + bias._data.astype(np.float64)
    return out.astype(np.float32)


def dynamic_linear(x, weight, bias):
    """``dynamic_matmul`` over the last dimension of float32 tensor ``x``."""
    check_engine('Linear')
    if not isinstance(x, Tensor) or x.dtype is not _dtype.float32:
        raise RuntimeError('Expected input to be float32 for dynamic quantized Linear (ember builds float32 only)')
    a = x._data
    k = weight._int.shape[1]
    if a.ndim == 0 or a.shape[-1] != k:
        raise RuntimeError(f'The number of columns of the input ({a.shape[-1] if a.ndim else 1}) must equal the '
                           f'weight\'s in_features ({k})')
    out = dynamic_matmul(a.reshape(-1, k), weight, bias)
    return Tensor._make(out.reshape(a.shape[:-1] + (weight._int.shape[0],)))


def quantized_weight(observer_factory, w):
    """Float weight ``w`` observed by a fresh weight observer and quantized per tensor to qint8."""
    observer = observer_factory()
    if observer.dtype is not _dtype.qint8:
        raise NotImplementedError(f'ember builds dynamic quantization to torch.qint8 only, not {observer.dtype} '
                                  '(torch.float16 weights are not supported yet)')
    if observer.qscheme not in (per_tensor_affine, per_tensor_symmetric):
        raise NotImplementedError(f'ember builds per-tensor weight quantization of dynamic modules only, not '
                                  f'{observer.qscheme}')
    observer(w)
    scale, zp = observer.calculate_qparams()
    return quantize_per_tensor(w.detach().float(), float(scale), int(zp), _dtype.qint8)


class Linear(Module):
    """A Linear whose weight is int8 (per tensor) and whose input is quantized on each call; ``weight()`` and
    ``bias()`` give them back (the weight as a quantized tensor)."""
    _version = 4

    def __init__(self, in_features, out_features, bias_=True, dtype=_dtype.qint8):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        from ...... import zeros
        bias = zeros(out_features) if bias_ else None
        qweight = make(np.zeros((out_features, in_features), np.int8), _dtype.qint8, per_tensor_affine, 1.0, 0)
        self._packed_params = LinearPackedParams(dtype)
        self._packed_params.set_weight_bias(qweight, bias)
        self.scale, self.zero_point = 1.0, 0

    def _get_name(self):
        return 'DynamicQuantizedLinear'

    def extra_repr(self):
        text = f'in_features={self.in_features}, out_features={self.out_features}, dtype={self._packed_params.dtype}'
        if self._packed_params.dtype is _dtype.qint8:
            text += f', qscheme={self.weight().qscheme()}'
        return text

    def __repr__(self):
        return f'{self._get_name()}({self.extra_repr()})'

    def forward(self, x):
        return dynamic_linear(x, *self._packed_params._weight_bias())

    def _weight_bias(self):
        return self._packed_params._weight_bias()

    def weight(self):
        return self._weight_bias()[0]

    def bias(self):
        return self._weight_bias()[1]

    def set_weight_bias(self, w, b):
        self._packed_params.set_weight_bias(w, b)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        from ...... import tensor
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
        """The dynamically quantized copy of float ``mod`` (an nn.Linear with a qconfig): its weight observed by
        the qconfig's weight observer and quantized per tensor."""
        from ......nn import Linear as FloatLinear
        from ......nn.modules.linear import NonDynamicallyQuantizableLinear
        if type(mod) not in (FloatLinear, NonDynamicallyQuantizableLinear):
            raise AssertionError('nn.quantized.dynamic.Linear.from_float only works for one of '
                                 f'[\'Linear\', \'NonDynamicallyQuantizableLinear\']')
        if not hasattr(mod, 'qconfig'):
            raise AssertionError('Input float module must have qconfig defined')
        qweight = quantized_weight(mod.qconfig.weight, mod.weight)
        dtype = _dtype.qint8
        out = cls(mod.in_features, mod.out_features, dtype=dtype)
        out.set_weight_bias(qweight, mod.bias)
        return out

    @classmethod
    def from_reference(cls, ref_qlinear):
        raise NotImplementedError('torch.ao.nn.quantized.dynamic.Linear.from_reference is not supported by ember '
                                  'yet')
