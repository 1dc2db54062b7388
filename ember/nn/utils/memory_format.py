"""``torch.nn.utils.memory_format``: lay out the weights of a model's 2-d (3-d) convolutions, and only those, in a
memory format (channels_last for NHWC kernels). ember's convolutions give the same numbers in any layout; the
weights' strides follow PyTorch's."""

__all__ = ['convert_conv2d_weight_memory_format', 'convert_conv3d_weight_memory_format']


def _convert(module, memory_format, classes):
    """Relayout the weight of every module of ``classes`` in ``module``'s tree (itself included); returns module."""
    if isinstance(module, classes):
        module.weight.data = module.weight.detach().clone(memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, classes)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """Conv2d and ConvTranspose2d weights of ``module`` (recursively) in ``memory_format``; returns module."""
    from ..modules.conv import Conv2d, ConvTranspose2d
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module, memory_format):
    """Conv3d and ConvTranspose3d weights of ``module`` (recursively) in ``memory_format``; returns module."""
    from ..modules.conv import Conv3d, ConvTranspose3d
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
