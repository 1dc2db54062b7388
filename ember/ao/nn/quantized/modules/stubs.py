"""``Quantize`` and ``DeQuantize``: what convert puts in place of QuantStub / DeQuantStub: the float input
quantized per tensor with the calibrated scale and zero point, and a quantized input back to float32."""
from ..... import _dtype
from ....._quantized import quantize_per_tensor
from .....nn.modules.module import Module

__all__ = ['Quantize', 'DeQuantize']


class Quantize(Module):
    """Quantizes its float input per tensor (``scale``, ``zero_point`` buffers of one value, ``dtype``)."""

    def __init__(self, scale, zero_point, dtype, factory_kwargs=None):
        from ..... import tensor
        super().__init__()
        self.register_buffer('scale', tensor([float(scale)], **(factory_kwargs or {})))
        self.register_buffer('zero_point', tensor([int(zero_point)], dtype=_dtype.int64,
                                                  **(factory_kwargs or {})))
        self.dtype = dtype

    def forward(self, X):
        return quantize_per_tensor(X, float(self.scale), int(self.zero_point), self.dtype)

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        if not hasattr(mod, 'activation_post_process'):
            raise AssertionError('Input float module must have activation_post_process attached')
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return Quantize(float(scale), int(zero_point), mod.activation_post_process.dtype)

    def extra_repr(self):
        return f'scale={self.scale}, zero_point={self.zero_point}, dtype={self.dtype}'


class DeQuantize(Module):
    """A quantized input back to float32."""

    def forward(self, Xq):
        return Xq.dequantize()

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return DeQuantize()
