"""``torchvision.models.detection``: Faster R-CNN and Mask R-CNN on ResNet-50-FPN and MobileNetV3-FPN, their
building blocks (anchor generator, RPN, RoI heads, transform, box coder, matcher, sampler) and weights enums;
state dicts match torchvision's key for key."""
from .faster_rcnn import *  # noqa: F401,F403
from .mask_rcnn import *  # noqa: F401,F403
from . import faster_rcnn as _faster_rcnn, mask_rcnn as _mask_rcnn

__all__ = _faster_rcnn.__all__ + _mask_rcnn.__all__
