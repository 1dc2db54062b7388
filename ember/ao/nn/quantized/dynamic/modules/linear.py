"""``torch.ao.nn.quantized.dynamic.Linear`` (printed DynamicQuantizedLinear): an int8 weight quantized per tensor,
a float bias; each call quantizes its input per tensor to quint8 from the input's min and max (reduce_range: 0..127,
as fbgemm / x86 do), multiplies in int32 and rescales to float32, giving PyTorch's x86 values bit for bit."""
import numpy as np

from ...... import _dtype
from ......_quantized import (RANGES, choose_qparams, per_tensor_affine, per_tensor_symmetric, quantize_array,
                             quantize_per_tensor)
from ......tensor import Tensor
from ...modules.linear import Linear as _QLinear, check_engine

__all__ = ['Linear']


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


class Linear(_QLinear):
    """A Linear whose weight is int8 (per tensor) and whose input is quantized on each call; ``weight()`` and
    ``bias()`` give them back (the weight as a quantized tensor). A subclass of the static one, as PyTorch's."""
    _version = 4

    def _get_name(self):
        return 'DynamicQuantizedLinear'

    def extra_repr(self):
        text = f'in_features={self.in_features}, out_features={self.out_features}, dtype={self._packed_params.dtype}'
        if self._packed_params.dtype is _dtype.qint8:
            text += f', qscheme={self.weight().qscheme()}'
        return text

    def forward(self, x):
        return dynamic_linear(x, *self._packed_params._weight_bias())

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
