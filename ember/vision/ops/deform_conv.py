"""``torchvision.ops.DeformConv2d`` and ``deform_conv2d``: named so that code mapping torchvision's layers (ptflops'
FLOP hooks) imports, but not provided: making or calling one raises NotImplementedError naming it."""
from ...aliasing import unsupported, unsupported_function
from ...nn.modules.module import Module

deform_conv2d = unsupported_function('torchvision.ops.deform_conv2d', 'ember has no deformable convolution')


class DeformConv2d(Module):
    """torchvision's deformable convolution layer; ember refuses making one."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(unsupported('torchvision.ops.DeformConv2d', 'ember has no deformable convolution'))
