"""``LayerNorm``, ``GroupNorm``, ``RMSNorm``, ``LocalResponseNorm`` and the legacy ``CrossMapLRN2d``."""
import numbers

import numpy as np

from .. import functional as F, init
from ._factory import empty_param
from .module import Module

__all__ = ['LayerNorm', 'GroupNorm', 'RMSNorm', 'LocalResponseNorm', 'CrossMapLRN2d']


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dims, with elementwise scale and shift."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = empty_param(self.normalized_shape, device, dtype)
            if bias:
                self.bias = empty_param(self.normalized_shape, device, dtype)
            else:
                self.register_parameter('bias', None)
        else:
            self.register_parameter('weight', None)
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        p = self._parameters
        try:    # a dict lookup, as Linear.forward
            w, b = p['weight'], p['bias']
        except KeyError:    # moved out of _parameters by nn.utils.weight_norm or a parametrization
            w, b = self.weight, self.bias
        return F.layer_norm(input, self.normalized_shape, w, b, self.eps)

    def extra_repr(self):
        return (f'{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, '
                f'bias={self.bias is not None}')


class GroupNorm(Module):
    """Normalise groups of channels per sample, with per-channel scale and shift."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f'num_channels ({num_channels}) must be divisible by num_groups ({num_groups})')
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = empty_param((num_channels,), device, dtype)
            if bias:
                self.bias = empty_param((num_channels,), device, dtype)
            else:
                self.register_parameter('bias', None)
        else:
            self.register_parameter('weight', None)
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f'{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, '
                f'bias={self.bias is not None}')


class RMSNorm(Module):
    """x / sqrt(mean(x^2) + eps) over the trailing dims, times an elementwise weight."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = empty_param(self.normalized_shape, device, dtype)
        else:
            self.register_parameter('weight', None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f'{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}'


class LocalResponseNorm(Module):
    """Normalise each channel by its neighbours' squared activations."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f'{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}'


def _cross_map_scale(sq, size, alpha, k):
    """Lua Torch's running window sums of the squares over channels, as PyTorch's CrossMapLRN2d keeps them:
    channel 0 sums the first (size - 1) // 2 + 1 channels, each next adds the channel entering the window and,
    past the first pre_pad channels, drops channel c - pre_pad (so channel 0 is never dropped: PyTorch's
    recurrence, kept for equal values). Then k + alpha / size * sum."""
    channels = sq.shape[1]
    pre_pad = int((size - 1) / 2 + 1)
    scale = np.empty_like(sq)
    scale[:, 0] = sq[:, :min(pre_pad, channels)].sum(1)
    for c in range(1, channels):
        scale[:, c] = scale[:, c - 1]
        if c < channels - pre_pad + 1:
            scale[:, c] += sq[:, c + pre_pad - 1]
        if c > pre_pad:
            scale[:, c] -= sq[:, c - pre_pad]
    return scale * (alpha / size) + k


def _cross_map_function():
    """The autograd Function (made on first use: ember.autograd loads after nn.modules), with PyTorch's own
    backward (the gradient of the symmetric window, which PyTorch returns for this op)."""
    if _CROSS_MAP:
        return _CROSS_MAP[0]
    from ...autograd import Function
    from ...tensor import Tensor

    class CrossMapLRN2d(Function):
        @staticmethod
        def forward(ctx, input, size, alpha=1e-4, beta=0.75, k=1):
            if input.dim() != 4:
                raise ValueError(f'CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.')
            x = input._data
            scale = _cross_map_scale(x * x, size, alpha, k).astype(x.dtype)
            out = (scale ** -beta * x).astype(x.dtype)
            ctx.size, ctx.alpha, ctx.beta, ctx.scale = size, alpha, beta, scale
            ctx.save_for_backward(input, Tensor._make(out))
            return Tensor._make(out.copy())

        @staticmethod
        def backward(ctx, grad_output):
            input, output = ctx.saved_tensors
            x, out, g, scale = input._data, output._data, grad_output._data, ctx.scale
            size, channels = ctx.size, x.shape[1]
            lead = int(size - (size - 1) / 2)
            grad = scale ** -ctx.beta * g
            padded = np.zeros((x.shape[0], channels + size - 1) + x.shape[2:], x.dtype)
            padded[:, lead:lead + channels] = g * out / scale
            accum = padded[:, :size - 1].sum(1)
            ratio = 2 * ctx.alpha * ctx.beta / size
            for c in range(channels):
                accum = accum + padded[:, c + size - 1]
                grad[:, c] -= ratio * x[:, c] * accum
                accum = accum - padded[:, c]
            return Tensor._make(grad.astype(x.dtype)), None, None, None, None

    _CROSS_MAP.append(CrossMapLRN2d)
    return CrossMapLRN2d


_CROSS_MAP = []


class CrossMapLRN2d(Module):
    """Lua Torch's cross-channel local response normalisation of 4-d input (PyTorch keeps it for old models):
    x / (k + alpha / size * window sum of x^2) ^ beta, with PyTorch's window bookkeeping and backward."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return _cross_map_function().apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f'{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}'
