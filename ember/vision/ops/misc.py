"""The small blocks torchvision's models share (conv-norm-activation, frozen batch norm, squeeze-excitation,
MLP), laid out as torchvision's so state dicts match."""
import warnings

import ember
from ember import nn

__all__ = ['ConvNormActivation', 'Conv2dNormActivation', 'Conv3dNormActivation', 'FrozenBatchNorm2d',
           'SqueezeExcitation', 'MLP', 'Permute']

# torchvision keeps the name from when F.interpolate refused empty batches; DETR's util/misc.py still calls it
interpolate = nn.functional.interpolate


class ConvNormActivation(nn.Sequential):
    """``conv_layer`` (padded to keep the size at stride 1), then ``norm_layer`` and ``activation_layer``; the
    convolution has a bias only when there is no norm layer. Submodules are numbered 0, 1, 2."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None,
                 conv_layer=nn.Conv2d):
        if padding is None:
            padding = _same_padding(kernel_size, dilation)
        if bias is None:
            bias = norm_layer is None
        layers = [conv_layer(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                             groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {'inplace': inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels
        if type(self) is ConvNormActivation:
            warnings.warn("Don't use ConvNormActivation directly, please use Conv2dNormActivation and "
                          "Conv3dNormActivation instead.")


class Conv2dNormActivation(ConvNormActivation):
    """:class:`ConvNormActivation` with ``Conv2d`` (BatchNorm2d by default)."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups, norm_layer,
                         activation_layer, dilation, inplace, bias, nn.Conv2d)


class Conv3dNormActivation(ConvNormActivation):
    """:class:`ConvNormActivation` with ``Conv3d`` (BatchNorm3d by default)."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm3d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups, norm_layer,
                         activation_layer, dilation, inplace, bias, nn.Conv3d)


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm2d with fixed statistics and affine parameters, all buffers (detection backbones freeze their
    norms): ``x * scale + shift`` with ``scale = weight / sqrt(running_var + eps)``. A state dict's
    ``num_batches_tracked`` is dropped on load, so a BatchNorm2d's state dict loads strictly."""

    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer('weight', ember.ones(num_features))
        self.register_buffer('bias', ember.zeros(num_features))
        self.register_buffer('running_mean', ember.zeros(num_features))
        self.register_buffer('running_var', ember.ones(num_features))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        state_dict.pop(prefix + 'num_batches_tracked', None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def forward(self, x):
        w, b, rv, rm = (t.reshape(1, -1, 1, 1) for t in (self.weight, self.bias, self.running_var,
                                                           self.running_mean))
        scale = w * (rv + self.eps).rsqrt()
        return x * scale + (b - rm * scale)

    def __repr__(self):
        return f'{self.__class__.__name__}({self.weight.shape[0]}, eps={self.eps})'


def _same_padding(kernel_size, dilation):
    """``(k - 1) // 2 * d`` per dimension, as a tuple when either argument is one."""
    if isinstance(kernel_size, int) and isinstance(dilation, int):
        return (kernel_size - 1) // 2 * dilation
    n = len(kernel_size) if not isinstance(kernel_size, int) else len(dilation)
    ks = kernel_size if not isinstance(kernel_size, int) else (kernel_size,) * n
    ds = dilation if not isinstance(dilation, int) else (dilation,) * n
    return tuple((k - 1) // 2 * d for k, d in zip(ks, ds))


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation: scale each channel by a gate computed from the channel means (1x1 convs
    ``fc1``/``fc2`` around ``activation``, then ``scale_activation``)."""

    def __init__(self, input_channels, squeeze_channels, activation=nn.ReLU, scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input):
        return self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(input)))))

    def forward(self, input):
        return self._scale(input) * input


class MLP(nn.Sequential):
    """Linear layers of ``hidden_channels`` widths, each but the last followed by the optional norm, the
    activation and dropout; the last by dropout (submodules numbered as torchvision numbers them)."""

    def __init__(self, in_channels, hidden_channels, norm_layer=None, activation_layer=nn.ReLU, inplace=None,
                 bias=True, dropout=0.0):
        params = {} if inplace is None else {'inplace': inplace}
        layers, in_dim = [], in_channels
        for hidden_dim in hidden_channels[:-1]:
            layers.append(nn.Linear(in_dim, hidden_dim, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden_dim))
            layers += [activation_layer(**params), nn.Dropout(dropout, **params)]
            in_dim = hidden_dim
        layers += [nn.Linear(in_dim, hidden_channels[-1], bias=bias), nn.Dropout(dropout, **params)]
        super().__init__(*layers)


class Permute(nn.Module):
    """``x.permute(dims)`` as a module."""

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return ember.permute(x, self.dims)
