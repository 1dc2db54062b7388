"""Convolution + normalization + activation blocks, laid out as torchvision's (a ``Sequential``)."""
from ember import nn

__all__ = ['Conv2dNormActivation']


class Conv2dNormActivation(nn.Sequential):
    """``Conv2d`` (padded to keep the size at stride 1), then ``norm_layer`` and ``activation_layer``; the
    convolution has a bias only when there is no norm layer. Submodules are numbered 0, 1, 2."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None):
        if padding is None:
            padding = _same_padding(kernel_size, dilation)
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                            groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {'inplace': inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels


def _same_padding(kernel_size, dilation):
    """``(k - 1) // 2 * d`` per dimension, as a tuple when either argument is one."""
    if isinstance(kernel_size, int) and isinstance(dilation, int):
        return (kernel_size - 1) // 2 * dilation
    n = len(kernel_size) if not isinstance(kernel_size, int) else len(dilation)
    ks = kernel_size if not isinstance(kernel_size, int) else (kernel_size,) * n
    ds = dilation if not isinstance(dilation, int) else (dilation,) * n
    return tuple((k - 1) // 2 * d for k, d in zip(ks, ds))
