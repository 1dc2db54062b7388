"""Convolution layers (Conv1d/2d, ConvTranspose1d/2d) with PyTorch's parameters, attributes, default
initialisation (kaiming_uniform(a=sqrt(5)), bias U(+-1/sqrt(fan_in))) and reprs."""
from .. import functional as F
from ..functional import _conv as C
from ..functional._pad import pad
from ..functional._conv3d import conv3d, conv_transpose3d
from ._factory import empty_param, reset_fan_in
from .module import Module
from .lazy import LazyModuleMixin
from ...autograd.grad_mode import no_grad
from ..._torch_function import _INSTALLED as _DISPATCHING   # non-empty once torch functions dispatch
from ..parameter import UninitializedParameter

__all__ = ['Conv1d', 'Conv2d', 'Conv3d', 'LazyConv1d', 'LazyConv2d', 'LazyConv3d', 'LazyConvTranspose1d',
           'LazyConvTranspose2d', 'LazyConvTranspose3d', 'ConvTranspose1d', 'ConvTranspose2d',
           'ConvTranspose3d']


def _ntuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class _ConvNd(Module):
    """Shared constructor, initialisation and repr of the convolution layers."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                 output_padding, groups, bias, padding_mode, device=None, dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError('groups must be a positive integer')
        if in_channels % groups != 0:
            raise ValueError('in_channels must be divisible by groups')
        if out_channels % groups != 0:
            raise ValueError('out_channels must be divisible by groups')
        if isinstance(padding, str):
            if padding not in ('same', 'valid'):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == 'same' and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in ('zeros', 'reflect', 'replicate', 'circular'):
            raise ValueError("padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = _reversed_padding(padding, kernel_size, dilation)
        shape = ((in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups))
        self.weight = empty_param(shape + tuple(kernel_size), device, dtype)
        if bias:
            self.bias = empty_param((out_channels,), device, dtype)
        else:
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        """kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias."""
        reset_fan_in(self.weight, self.bias)

    def extra_repr(self):
        s = f'{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}'
        if self.padding != (0,) * len(self.padding):
            s += f', padding={self.padding}'
        if self.dilation != (1,) * len(self.dilation):
            s += f', dilation={self.dilation}'
        if self.output_padding != (0,) * len(self.output_padding):
            s += f', output_padding={self.output_padding}'
        if self.groups != 1:
            s += f', groups={self.groups}'
        if self.bias is None:
            s += ', bias=False'
        if self.padding_mode != 'zeros':
            s += f', padding_mode={self.padding_mode}'
        return s

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, 'padding_mode'):
            self.padding_mode = 'zeros'


def _reversed_padding(padding, kernel_size, dilation):
    """The F.pad amounts (last dim first) for non-zero padding modes, 'same' split as PyTorch splits it."""
    n = len(kernel_size)
    if isinstance(padding, str):
        out = [0, 0] * n
        if padding == 'same':
            for d, k, i in zip(dilation, kernel_size, range(n - 1, -1, -1)):
                total = d * (k - 1)
                out[2 * i], out[2 * i + 1] = total // 2, total - total // 2
        return out
    return [p for p in reversed(padding) for _ in range(2)]


class _Conv(_ConvNd):
    n = 2
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode='zeros', device=None, dtype=None):
        n = self.n
        super().__init__(in_channels, out_channels, _ntuple(kernel_size, n), _ntuple(stride, n),
                         padding if isinstance(padding, str) else _ntuple(padding, n), _ntuple(dilation, n),
                         False, (0,) * n, groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        if _DISPATCHING:   # through F's dispatching stand-in, so a Tensor subclass (MONAI's MetaTensor) or mode sees it
            fn = (F.conv1d, F.conv2d, F.conv3d)[self.n - 1]
        else:
            fn = {1: C.conv1d, 2: C.conv2d, 3: conv3d}[self.n]
        if self.padding_mode != 'zeros':
            input = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return fn(input, weight, bias, self.stride, (0,) * self.n, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        p = self._parameters
        try:    # a dict lookup, as Linear.forward
            w, b = p['weight'], p['bias']
        except KeyError:    # moved out of _parameters by nn.utils.weight_norm or a parametrization
            w, b = self.weight, self.bias
        return self._conv_forward(input, w, b)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L) input; weight (C_out, C_in/groups, K)."""
    n = 1


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W) input; weight (C_out, C_in/groups, KH, KW)."""
    n = 2


class Conv3d(_Conv):
    """3-D convolution over (N, C_in, D, H, W) input; weight (C_out, C_in/groups, KD, KH, KW)."""
    n = 3


class _ConvTransposeNd(_ConvNd):
    n = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode='zeros', device=None, dtype=None):
        if padding_mode != 'zeros':
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        n = self.n
        super().__init__(in_channels, out_channels, _ntuple(kernel_size, n), _ntuple(stride, n),
                         _ntuple(padding, n), _ntuple(dilation, n), True, _ntuple(output_padding, n), groups,
                         bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size, stride, padding, kernel_size, num_spatial_dims, dilation=None):
        """output_padding that yields ``output_size`` (PyTorch's rule), or the configured one."""
        if output_size is None:
            return tuple(self.output_padding)
        non_spatial = 2 if input.dim() == num_spatial_dims + 2 else 1
        output_size = list(output_size)
        if len(output_size) == non_spatial + num_spatial_dims:
            output_size = output_size[non_spatial:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(f'ConvTranspose{num_spatial_dims}D: for {input.dim()}D input, output_size must have '
                             f'{num_spatial_dims} or {non_spatial + num_spatial_dims} elements '
                             f'(got {len(output_size)})')
        dil = dilation if dilation is not None else (1,) * num_spatial_dims
        mins = [(input.size(d + non_spatial) - 1) * stride[d] - 2 * padding[d] + dil[d] * (kernel_size[d] - 1) + 1
                for d in range(num_spatial_dims)]
        maxs = [m + stride[d] - 1 for d, m in enumerate(mins)]
        for size, lo, hi in zip(output_size, mins, maxs):
            if size < lo or size > hi:
                raise ValueError(f'requested an output size of {output_size}, but valid sizes range from {mins} to '
                                 f'{maxs} (for an input of {input.size()[2:]})')
        return tuple(s - m for s, m in zip(output_size, mins))

    def forward(self, input, output_size=None):
        if self.padding_mode != 'zeros':
            raise ValueError(f'Only `zeros` padding mode is supported for {type(self).__name__}')
        op = self._output_padding(input, output_size, self.stride, self.padding, self.kernel_size, self.n,
                                  self.dilation)
        if _DISPATCHING:
            fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self.n - 1]
        else:
            fn = (C.conv_transpose1d, C.conv_transpose2d, conv_transpose3d)[self.n - 1]
        return fn(input, self.weight, self.bias, self.stride, self.padding, op, self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution; weight (C_in, C_out/groups, K)."""
    n = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution; weight (C_in, C_out/groups, KH, KW)."""
    n = 2


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution; weight (C_in, C_out/groups, KD, KH, KW)."""
    n = 3


class _LazyConvXdMixin(LazyModuleMixin):
    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.in_channels = input.shape[0] if input.dim() == self.n + 1 else input.shape[1]
            if self.in_channels % self.groups != 0:
                raise ValueError('in_channels must be divisible by groups')
            with no_grad():
                if isinstance(self, _ConvTransposeNd):
                    self.weight.materialize((self.in_channels, self.out_channels // self.groups) + self.kernel_size)
                else:
                    self.weight.materialize((self.out_channels, self.in_channels // self.groups) + self.kernel_size)
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()


def _lazy_conv(base):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode='zeros', device=None, dtype=None):
        LazyModuleMixin.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
    cls = type('Lazy' + base.__name__, (_LazyConvXdMixin, base),
               {'cls_to_become': base, '__init__': __init__, '__module__': __name__, '__qualname__': 'Lazy' + base.__name__,
                '__doc__': f'A {base.__name__} layer whose in_channels is inferred from the first input.'})
    return cls


LazyConv1d, LazyConv2d, LazyConv3d = (_lazy_conv(c) for c in (Conv1d, Conv2d, Conv3d))


def _lazy_conv_transpose(base):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode='zeros', device=None, dtype=None):
        LazyModuleMixin.__init__(self, 0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation,
                                 padding_mode)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
    return type('Lazy' + base.__name__, (_LazyConvXdMixin, base),
                {'cls_to_become': base, '__init__': __init__, '__module__': __name__,
                 '__qualname__': 'Lazy' + base.__name__,
                 '__doc__': f'A {base.__name__} layer whose in_channels is inferred from the first input.'})


LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d = (
    _lazy_conv_transpose(c) for c in (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))
