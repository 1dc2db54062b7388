"""torch.fake_quantize_per_tensor_affine: round to the affine integer grid and back, with PyTorch's straight-through
gradient (the incoming gradient where the unclamped grid value lies in [quant_min, quant_max], else 0)."""
import numpy as np

from ...nn.functional._fused import fused, record
from ...ops._util import arg_error, combination_error
from ...tensor import Tensor


def _grid(a, scale, zero_point):
    """PyTorch's kernel's unclamped grid values: nearbyint(x * (1.0f / scale)) + zero_point, in float32."""
    inv = np.float32(1.0) / np.float32(scale)
    return np.rint(a * inv) + np.float32(zero_point)


def _backward(self, g):
    mask, = self.ctx
    return (g * mask,)


_Node = fused('FakeQuantizePerTensorAffineCachemaskBackward0', _backward, None)


def fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max):
    """(clamp(round(x / scale) + zp, qmin, qmax) - zp) * scale for float32 input; gradient straight-through."""
    if not isinstance(input, Tensor) or isinstance(scale, Tensor) != isinstance(zero_point, Tensor):
        # (two overloads, scalar or tensor qparams: PyTorch's parser names neither)
        raise combination_error('fake_quantize_per_tensor_affine', (input, scale, zero_point, quant_min, quant_max))
    if not quant_min <= quant_max:
        raise RuntimeError('`quant_min` should be less than or         equal to `quant_max`.')  # PyTorch's spacing
    if not quant_min <= zero_point <= quant_max:
        raise RuntimeError('`zero_point` must be between `quant_min` and `quant_max`.')
    a = input._data
    if a.dtype != np.float32:
        raise NotImplementedError(f'fake_quantize_per_tensor_affine of {input.dtype} is not supported by ember yet '
                                  '(float32 only)')
    q = _grid(a, float(scale), int(zero_point))
    out = ((np.clip(q, quant_min, quant_max) - np.float32(zero_point)) * np.float32(scale)).astype(np.float32)
    mask = ((q >= quant_min) & (q <= quant_max)).astype(np.float32)
    return record(_Node, (input,), out, ctx=(mask,), save=())


_ChannelNode = fused('FakeQuantizePerChannelAffineCachemaskBackward0', _backward, None)


def fake_quantize_per_channel_affine(input, scale, zero_point, axis, quant_min, quant_max):
    """Per-channel fake quantization along ``axis`` (float32 scale, int zero_point tensors); straight-through."""
    for arg, pos, value in (('input', 1, input), ('scale', 2, scale), ('zero_point', 3, zero_point)):
        if not isinstance(value, Tensor):
            raise arg_error('fake_quantize_per_channel_affine', arg, pos, value)
    if not quant_min <= quant_max:
        raise RuntimeError('`quant_min` should be less than or         equal to `quant_max`.')  # PyTorch's spacing
    a = input._data
    if a.dtype != np.float32:
        raise NotImplementedError(f'fake_quantize_per_channel_affine of {input.dtype} is not supported by ember yet '
                                  '(float32 only)')
    if not 0 <= axis < a.ndim:
        raise RuntimeError('`axis` must be between 0 and number of dimensions of input')
    shape = [1] * a.ndim
    shape[axis] = -1
    sc = scale._data.astype(np.float32).reshape(shape)
    zp = zero_point._data.astype(np.float32).reshape(shape)
    q = np.rint(a * (np.float32(1.0) / sc)) + zp
    out = ((np.clip(q, quant_min, quant_max) - zp) * sc).astype(np.float32)
    mask = ((q >= quant_min) & (q <= quant_max)).astype(np.float32)
    return record(_ChannelNode, (input,), out, ctx=(mask,), save=())
