"""Pixel and channel shuffles: permutations of elements, each one node named as PyTorch's grad_fn (its backward
is the inverse shuffle, so it is differentiable again under create_graph)."""
import numpy as np

from ... import _layout
from ...autograd import dual
from ...autograd.grad_mode import GRAD
from ...autograd.graph import Node
from ...ops._util import undifferentiable, check_tensor_args
from ...tensor import Tensor

__all__ = ['pixel_shuffle', 'pixel_unshuffle', 'channel_shuffle', 'native_channel_shuffle']


def _pixel_shuffle(a, r):
    *lead, c, h, w = a.shape
    n = len(lead)
    x = a.reshape((*lead, c // (r * r), r, r, h, w)).transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape((*lead, c // (r * r), h * r, w * r))


def _pixel_unshuffle(a, r):
    *lead, c, h, w = a.shape
    n = len(lead)
    x = a.reshape((*lead, c, h // r, r, w // r, r)).transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape((*lead, c * r * r, h // r, w // r))


def _channel_shuffle(a, groups):
    n, c = a.shape[0], a.shape[1]
    return a.reshape((n, groups, c // groups) + a.shape[2:]).swapaxes(1, 2).reshape(a.shape)


def _node(name, inverse_arr, inverse_op):
    """A node whose backward applies the inverse shuffle (arrays, or the differentiable op on tensors)."""
    def backward(self, g):
        return inverse_arr(g, self.k) if dual.is_array(g) else inverse_op(g, self.k)
    return type(name, (Node,), {'__slots__': ('k',), 'backward': backward,
                                '__doc__': f'Backward of a shuffle ({name}): the inverse shuffle.'})


def _laid_out(x, arr):
    """A shuffle's result C-contiguous, or channels-last for a 4-D channels-last input ``x``, as PyTorch's CPU
    shuffle kernels keep it (ember's were C order)."""
    if x.ndim == 4 and _layout.suggests_channels_last(x):
        return _layout.keep_channels_last(x, arr)
    return np.ascontiguousarray(arr)


def _shuffled(cls, input, arr, k):
    arr = _laid_out(input._data, arr)
    if GRAD.enabled and input._requires_grad:
        node = cls((input,))
        node.k = k
        return Tensor._make(arr, node)
    return Tensor._make(arr)


def _check_factor(op, input, r, name):
    """PyTorch's checks, in its order: at least 3 dims, then a positive factor."""
    if input.dim() < 3:
        raise RuntimeError(f'{op} expects input to have at least 3 dimensions, but got input with {input.dim()} '
                           'dimension(s)')
    if r <= 0:
        raise RuntimeError(f'{op} expects a positive {name}, but got {r}')


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    try:
        r = upscale_factor
        _check_factor('pixel_shuffle', input, r, 'upscale_factor')
        c = input.shape[-3]
        if c % (r * r):
            raise RuntimeError(f'pixel_shuffle expects its input\'s \'channel\' dimension to be divisible by the square '
                               f'of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}')
        return _shuffled(PixelShuffleBackward0, input, _pixel_shuffle(input._data, r), r)
    except (AttributeError, TypeError):
        check_tensor_args('pixel_shuffle', 'input')
        raise


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    try:
        r = downscale_factor
        _check_factor('pixel_unshuffle', input, r, 'downscale_factor')
        h, w = input.shape[-2], input.shape[-1]
        if h % r or w % r:
            raise RuntimeError(f'pixel_unshuffle expects height and width to be divisible by downscale_factor, but '
                               f'input.size(-2)={h} and input.size(-1)={w} are not divisible by {r}')
        return _shuffled(PixelUnshuffleBackward0, input, _pixel_unshuffle(input._data, r), r)
    except (AttributeError, TypeError):
        check_tensor_args('pixel_unshuffle', 'input')
        raise


def _shuffle_channels(cls, input, groups):
    """channel_shuffle's result recorded by node class ``cls`` (channel_shuffle's or native_channel_shuffle's)."""
    c = input.shape[1]
    if c % groups:
        raise RuntimeError(f'Number of channels must be divisible by groups. Got {c} channels and {groups} groups.')
    return _shuffled(cls, input, _channel_shuffle(input._data, groups), groups)


def channel_shuffle(input, groups):
    """Interleave the channels (dim 1) of ``groups`` groups."""
    try:
        return _shuffle_channels(ChannelShuffleBackward0, input, groups)
    except (AttributeError, TypeError):
        check_tensor_args('channel_shuffle', 'input')
        raise


def _unshuffle_channels(g, groups):
    """The inverse of channel_shuffle with ``groups``: a shuffle with C / groups groups."""
    c = g.shape[1]
    return _channel_shuffle(g, c // groups) if dual.is_array(g) else channel_shuffle(g, c // groups)


PixelShuffleBackward0 = _node('PixelShuffleBackward0', _pixel_unshuffle, pixel_unshuffle)
PixelUnshuffleBackward0 = _node('PixelUnshuffleBackward0', _pixel_shuffle, pixel_shuffle)
ChannelShuffleBackward0 = _node('ChannelShuffleBackward0', _unshuffle_channels, _unshuffle_channels)
NativeChannelShuffleBackward = undifferentiable('NotImplemented', 'derivative for aten::native_channel_shuffle is not '
                                                'implemented', 'torch::autograd::NotImplemented')


def native_channel_shuffle(input, groups):
    """channel_shuffle's kernel, which PyTorch records without a derivative (its backward raises)."""
    try:
        return _shuffle_channels(NativeChannelShuffleBackward, input, groups)
    except (AttributeError, TypeError):
        check_tensor_args('native_channel_shuffle', 'input')
        raise
