"""ATen's native entry points that some code calls from ``torch.`` directly (``torch.convolution``,
``native_layer_norm``, ``native_batch_norm``, ``max_pool1d_with_indices``): each runs ember's functional op and adds
the statistics PyTorch's kernel returns beside it (not differentiable, as PyTorch's)."""
import numpy as np

from .ops._util import arg_error
from .tensor import Tensor


def _input(name, input, *others):
    """PyTorch's argument-parser TypeError where ``input`` (or one of ``others``: (arg, position, value, optional))
    is not a Tensor."""
    if not isinstance(input, Tensor):
        raise arg_error(name, 'input', 1, input)
    for arg, pos, value, optional in others:
        if not isinstance(value, Tensor) and not (optional and value is None):
            raise arg_error(name, arg, pos, value)


def _F():
    from .nn import functional
    return functional


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """A 1-3-D convolution (or transposed convolution) by weight's rank, as ``aten::convolution``."""
    _input('convolution', input, ('weight', 2, weight, False), ('bias', 3, bias, True))
    F, dims = _F(), weight.dim() - 2
    if dims not in (1, 2, 3):
        raise RuntimeError(f'convolution: expected a 3-D, 4-D or 5-D weight (1-3 spatial dims), got {weight.dim()}-D')
    if transposed:
        conv = getattr(F, f'conv_transpose{dims}d')
        return conv(input, weight, bias, tuple(stride), tuple(padding), tuple(output_padding), groups, tuple(dilation))
    return getattr(F, f'conv{dims}d')(input, weight, bias, tuple(stride), tuple(padding), tuple(dilation), groups)


def _stats(x, axes, eps, shape):
    """Mean and 1/sqrt(biased variance + eps) of x over ``axes``, in x's dtype, reshaped to ``shape``."""
    a = x._data.astype(np.float64)
    mean = a.mean(axis=axes)
    rstd = 1.0 / np.sqrt(a.var(axis=axes) + eps)
    return tuple(Tensor._make(np.asarray(v, x._data.dtype).reshape(shape)) for v in (mean, rstd))


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """(layer_norm's output, mean, rstd), the statistics of shape input.shape[:axis] + (1,) * len(normalized_shape)."""
    _input('native_layer_norm', input)
    out = _F().layer_norm(input, list(normalized_shape), weight, bias, eps)
    k = len(normalized_shape)
    axes = tuple(range(input.dim() - k, input.dim()))
    return (out,) + _stats(input.detach(), axes, eps, tuple(input.shape[:input.dim() - k]) + (1,) * k)


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """(batch_norm's output, save_mean, save_invstd): the batch's per-channel statistics in training, empty
    tensors in evaluation (PyTorch's CPU kernel saves none then)."""
    _input('native_batch_norm', input)
    out = _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        empty = lambda: Tensor._make(np.empty(0, input._data.dtype))  # noqa: E731
        return out, empty(), empty()
    axes = (0,) + tuple(range(2, input.dim()))
    return (out,) + _stats(input.detach(), axes, eps, (input.shape[1],))


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """(max_pool1d's output, the flat indices of the maxima)."""
    return tuple(_F().max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode,
                                 return_indices=True))


def conj_physical_(input):
    """``input.conj_physical_()`` (torch's function form)."""
    _input('conj_physical_', input)
    return input.conj_physical_()


def as_strided_(input, size, stride, storage_offset=None):
    """``input.as_strided_(size, stride, storage_offset)`` (torch's function form)."""
    _input('as_strided_', input)
    return input.as_strided_(size, stride, storage_offset)


def resize_as_(input, the_template, *, memory_format=None):
    """``input.resize_as_(the_template)`` (torch's function form)."""
    _input('resize_as_', input, ('the_template', 2, the_template, False))
    return input.resize_as_(the_template, memory_format=memory_format)
