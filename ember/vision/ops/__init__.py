"""``torchvision.ops``: the building blocks torchvision's models share (detection ops are not provided)."""
from .misc import Conv2dNormActivation

__all__ = ['Conv2dNormActivation']
