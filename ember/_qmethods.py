"""The quantized-tensor accessors as ``torch.*`` functions and plain Tensor methods (``torch.int_repr(q)``,
``t.q_scale()``): a quantized tensor answers with its own; a plain one refuses as PyTorch's CPU backend does."""
from .tensor import Tensor


def _accessor(name):
    def fn(input):
        from . import _quantized
        if not isinstance(input, Tensor):
            from .ops._util import arg_error
            raise arg_error(name, 'input', 1, input)
        if isinstance(input, _quantized.QTensor):
            return getattr(_quantized.QTensor, name)(input)
        raise _quantized.no_kernel(name, 'CPU')
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f'``{name}`` of a quantized tensor (a plain one has none: PyTorch\'s CPU backend error).'
    return fn


int_repr, q_scale, q_zero_point, qscheme = (_accessor(n) for n in ('int_repr', 'q_scale', 'q_zero_point', 'qscheme'))
q_per_channel_scales, q_per_channel_zero_points, q_per_channel_axis = (
    _accessor(n) for n in ('q_per_channel_scales', 'q_per_channel_zero_points', 'q_per_channel_axis'))


def dequantize(input):
    """The float32 values of a quantized tensor (a float tensor as float32); of a list of tensors, a tuple."""
    from . import _quantized
    return _quantized.dequantize(input)
