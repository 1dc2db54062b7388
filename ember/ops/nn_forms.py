"""The ``torch.*`` forms of ``nn.functional`` ops (``torch.conv2d``, ``torch.prelu``, ``torch.pdist``...): in
PyTorch they are the same callables, and here too (nn.functional holds these); thin forwarders to nn.functional's own
functions, so that ``import ember`` does not import ``ember.nn``."""

from ._util import check_tensor_args

__all__ = ['conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d', 'prelu', 'relu_', 'pdist']


def _own(name):
    """nn.functional's own function ``name``: its public F.<name> is torch.<name>, the forwarder here, as PyTorch's
    F.conv2d is torch.conv2d."""
    from ..nn import functional
    return functional._OWN[name]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    try:
        return _own('conv1d')(input, weight, bias, stride, padding, dilation, groups)
    except (AttributeError, TypeError):
        check_tensor_args('conv1d', 'input', 'weight', 'bias?')
        raise


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _own('conv2d')(input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _own('conv3d')(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    try:
        return _own('conv_transpose1d')(input, weight, bias, stride, padding, output_padding, groups, dilation)
    except (AttributeError, TypeError):
        check_tensor_args('conv_transpose1d', 'input', 'weight', 'bias?')
        raise


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _own('conv_transpose2d')(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _own('conv_transpose3d')(input, weight, bias, stride, padding, output_padding, groups, dilation)


def prelu(input, weight):
    try:
        return _own('prelu')(input, weight)
    except (AttributeError, TypeError):
        check_tensor_args('prelu', 'input', 'weight', reword=True)   # (F.prelu's positions count self)
        raise


def relu_(input):
    try:
        return input.relu_()
    except (AttributeError, TypeError):
        check_tensor_args('relu_', 'input')
        raise


def pdist(input, p=2):
    try:
        return _own('pdist')(input, p)
    except (AttributeError, TypeError):
        check_tensor_args('pdist', 'input')
        raise


def _bind():
    """``Tensor.prelu``, a method in PyTorch too."""
    from ..tensor import Tensor
    Tensor.prelu = prelu


_bind()
