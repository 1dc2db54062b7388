"""FCN (Long et al., "Fully Convolutional Networks for Semantic Segmentation") on a dilated ResNet-50/101."""
from functools import partial

from ember import nn

from ...transforms._presets import SemanticSegmentation
from .._api import Weights, WeightsEnum
from .._meta import _VOC_CATEGORIES
from .._utils import IntermediateLayerGetter
from ..resnet import ResNet50_Weights, ResNet101_Weights, resnet50, resnet101
from ._utils import _load, _prepare, _SimpleSegmentationModel, segmentation_builder

__all__ = ['FCN', 'FCN_ResNet50_Weights', 'FCN_ResNet101_Weights', 'fcn_resnet50', 'fcn_resnet101']


class FCN(_SimpleSegmentationModel):
    """FCN: a backbone and a per-pixel classifier head (and an auxiliary head on an earlier stage)."""


class FCNHead(nn.Sequential):
    """3x3 conv to a quarter of the channels, BatchNorm, ReLU, dropout 0.1, 1x1 conv to the classes."""

    def __init__(self, in_channels, channels):
        inter_channels = in_channels // 4
        super().__init__(nn.Conv2d(in_channels, inter_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(inter_channels), nn.ReLU(), nn.Dropout(0.1),
                         nn.Conv2d(inter_channels, channels, 1))


_COMMON_META = {
    'categories': _VOC_CATEGORIES,
    'min_size': (1, 1),
    '_docs': """
        These weights were trained on a subset of COCO, using only the 20 categories that are present in the Pascal VOC
        dataset.
    """,
}
_RECIPE = 'https://github.com/pytorch/vision/tree/main/references/segmentation#'


def _weights(file, num_params, recipe, miou, pixel_acc, ops, file_size, common=_COMMON_META):
    """A COCO-with-VOC-labels segmentation checkpoint on download.pytorch.org (torchvision's metadata)."""
    return Weights(url=f'https://download.pytorch.org/models/{file}',
                   transforms=partial(SemanticSegmentation, resize_size=520),
                   meta={**common, 'num_params': num_params, 'recipe': _RECIPE + recipe,
                         '_metrics': {'COCO-val2017-VOC-labels': {'miou': miou, 'pixel_acc': pixel_acc}},
                         '_ops': ops, '_file_size': file_size})


class FCN_ResNet50_Weights(WeightsEnum):
    COCO_WITH_VOC_LABELS_V1 = _weights('fcn_resnet50_coco-1167a1af.pth', 35322218, 'fcn_resnet50', 60.5, 91.4,
                                       152.717, 135.009)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


class FCN_ResNet101_Weights(WeightsEnum):
    # torchvision's recipe links of the two ResNet-101 models point at each other's section
    COCO_WITH_VOC_LABELS_V1 = _weights('fcn_resnet101_coco-7ecb50ca.pth', 54314346, 'deeplabv3_resnet101', 63.7, 91.9,
                                       232.738, 207.711)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


def _resnet_backbone(make, weights_backbone, aux):
    """A ResNet dilated in its last two stages (output stride 8), returning layer4 as 'out' (layer3 as 'aux')."""
    backbone = make(weights=weights_backbone, replace_stride_with_dilation=[False, True, True])
    return_layers = {'layer4': 'out'}
    if aux:
        return_layers['layer3'] = 'aux'
    return IntermediateLayerGetter(backbone, return_layers=return_layers)


def _fcn_resnet(make, weights_backbone, num_classes, aux):
    backbone = _resnet_backbone(make, weights_backbone, aux)
    aux_classifier = FCNHead(1024, num_classes) if aux else None     # made first: the seeded draws follow this order
    return FCN(backbone, FCNHead(2048, num_classes), aux_classifier)


@segmentation_builder(FCN_ResNet50_Weights, ResNet50_Weights.IMAGENET1K_V1)
def fcn_resnet50(*, weights=None, progress=True, num_classes=None, aux_loss=None,
                 weights_backbone=ResNet50_Weights.IMAGENET1K_V1, **kwargs):
    """FCN-ResNet50 (``weights``: ``FCN_ResNet50_Weights``; ``weights_backbone``: ``ResNet50_Weights``)."""
    weights, weights_backbone, num_classes, aux_loss = _prepare(weights, FCN_ResNet50_Weights, weights_backbone,
                                                                ResNet50_Weights, num_classes, aux_loss)
    return _load(_fcn_resnet(resnet50, weights_backbone, num_classes, aux_loss), weights, progress)


@segmentation_builder(FCN_ResNet101_Weights, ResNet101_Weights.IMAGENET1K_V1)
def fcn_resnet101(*, weights=None, progress=True, num_classes=None, aux_loss=None,
                  weights_backbone=ResNet101_Weights.IMAGENET1K_V1, **kwargs):
    """FCN-ResNet101 (``weights``: ``FCN_ResNet101_Weights``; ``weights_backbone``: ``ResNet101_Weights``)."""
    weights, weights_backbone, num_classes, aux_loss = _prepare(weights, FCN_ResNet101_Weights, weights_backbone,
                                                                ResNet101_Weights, num_classes, aux_loss)
    return _load(_fcn_resnet(resnet101, weights_backbone, num_classes, aux_loss), weights, progress)
