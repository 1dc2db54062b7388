"""``torchvision.models.segmentation``: FCN, DeepLabV3 and LR-ASPP semantic segmentation models on ResNet and
MobileNetV3 backbones, with their weights enums; state dicts match torchvision's key for key."""
from .deeplabv3 import *  # noqa: F401,F403
from .fcn import *  # noqa: F401,F403
from .lraspp import *  # noqa: F401,F403
from . import deeplabv3 as _deeplabv3, fcn as _fcn, lraspp as _lraspp

__all__ = _deeplabv3.__all__ + _fcn.__all__ + _lraspp.__all__
