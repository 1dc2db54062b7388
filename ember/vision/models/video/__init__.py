"""``torchvision.models.video``: video classification models (R3D-18, MC3-18, R(2+1)D-18, S3D) over
(N, C, T, H, W) clips, with their Kinetics-400 weights enums."""
from .resnet import *  # noqa: F401,F403
from .resnet import __all__ as _resnet_all
from .s3d import *  # noqa: F401,F403
from .s3d import __all__ as _s3d_all

__all__ = _resnet_all + _s3d_all
