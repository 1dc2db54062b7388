"""``torchvision.models.detection``: Faster, Mask and Keypoint R-CNN, RetinaNet, FCOS, SSD300 and SSDlite, their
building blocks (anchor generators, RPN, RoI heads, transform, box coders, matchers, sampler, backbones) and
weights enums; state dicts match torchvision's key for key."""
from .faster_rcnn import *  # noqa: F401,F403
from .fcos import *  # noqa: F401,F403
from .keypoint_rcnn import *  # noqa: F401,F403
from .mask_rcnn import *  # noqa: F401,F403
from .retinanet import *  # noqa: F401,F403
from .ssd import *  # noqa: F401,F403
from .ssdlite import *  # noqa: F401,F403
from . import (faster_rcnn as _faster_rcnn, fcos as _fcos, keypoint_rcnn as _keypoint_rcnn, mask_rcnn as _mask_rcnn,
               retinanet as _retinanet, ssd as _ssd, ssdlite as _ssdlite)

__all__ = (_faster_rcnn.__all__ + _fcos.__all__ + _keypoint_rcnn.__all__ + _mask_rcnn.__all__ + _retinanet.__all__
           + _ssd.__all__ + _ssdlite.__all__)
