"""``torchvision.models``: classification architectures (and ``segmentation``: FCN, DeepLabV3, LR-ASPP;
``detection``: Faster / Mask / Keypoint R-CNN, RetinaNet, FCOS, SSD, SSDlite; ``video``: R3D, MC3, R(2+1)D,
S3D) whose state dicts match torchvision's key for key, with their pretrained-weights enums (downloaded into
the ``torch.hub`` cache on request)."""
from ._api import Weights, WeightsEnum, get_model, get_model_builder, get_model_weights, get_weight, list_models
from .alexnet import *  # noqa: F401,F403
from .convnext import *  # noqa: F401,F403
from .densenet import *  # noqa: F401,F403
from .efficientnet import *  # noqa: F401,F403
from .googlenet import *  # noqa: F401,F403
from .inception import *  # noqa: F401,F403
from .maxvit import *  # noqa: F401,F403
from .mnasnet import *  # noqa: F401,F403
from .mobilenetv2 import *  # noqa: F401,F403
from .mobilenetv3 import *  # noqa: F401,F403
from .regnet import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .shufflenetv2 import *  # noqa: F401,F403
from .squeezenet import *  # noqa: F401,F403
from .swin_transformer import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
from .vision_transformer import *  # noqa: F401,F403
from . import segmentation, video  # noqa: E402
from . import detection  # noqa: E402
import sys as _sys

__all__ = ['Weights', 'WeightsEnum', 'get_model', 'get_model_builder', 'get_model_weights', 'get_weight',
           'list_models']
for _name in ('alexnet', 'convnext', 'densenet', 'efficientnet', 'googlenet', 'inception', 'maxvit', 'mnasnet',
              'mobilenetv2', 'mobilenetv3', 'regnet', 'resnet', 'shufflenetv2', 'squeezenet', 'swin_transformer', 'vgg',
              'vision_transformer'):
    __all__ += _sys.modules[f'{__name__}.{_name}'].__all__
