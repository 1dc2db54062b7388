"""DeepLabV3 (Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation"): an ASPP head on a
dilated ResNet-50/101 or MobileNetV3-Large."""
import ember
from ember import nn
from ember.nn import functional as F

from .._api import WeightsEnum
from .._utils import IntermediateLayerGetter
from ..mobilenetv3 import MobileNet_V3_Large_Weights, mobilenet_v3_large
from ..resnet import ResNet50_Weights, ResNet101_Weights, resnet50, resnet101
from ._utils import _load, _mobilenet_stages, _prepare, _SimpleSegmentationModel, segmentation_builder
from .fcn import FCNHead, _resnet_backbone, _weights

__all__ = ['DeepLabV3', 'DeepLabV3_ResNet50_Weights', 'DeepLabV3_ResNet101_Weights',
           'DeepLabV3_MobileNet_V3_Large_Weights', 'deeplabv3_mobilenet_v3_large', 'deeplabv3_resnet50',
           'deeplabv3_resnet101']


class DeepLabV3(_SimpleSegmentationModel):
    """DeepLabV3: a backbone, the ASPP classifier head (and an FCN auxiliary head)."""


class DeepLabHead(nn.Sequential):
    """ASPP, then a 3x3 conv-BN-ReLU and a 1x1 conv to the classes."""

    def __init__(self, in_channels, num_classes, atrous_rates=(12, 24, 36)):
        super().__init__(ASPP(in_channels, atrous_rates), nn.Conv2d(256, 256, 3, padding=1, bias=False),
                         nn.BatchNorm2d(256), nn.ReLU(), nn.Conv2d(256, num_classes, 1))


class ASPPConv(nn.Sequential):
    """A 3x3 convolution at one atrous rate, BN, ReLU."""

    def __init__(self, in_channels, out_channels, dilation):
        super().__init__(nn.Conv2d(in_channels, out_channels, 3, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


class ASPPPooling(nn.Sequential):
    """Image-level features: global average pool, 1x1 conv-BN-ReLU, upsampled back to the input's size."""

    def __init__(self, in_channels, out_channels):
        super().__init__(nn.AdaptiveAvgPool2d(1), nn.Conv2d(in_channels, out_channels, 1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())

    def forward(self, x):
        size = x.shape[-2:]
        for mod in self:
            x = mod(x)
        return F.interpolate(x, size=size, mode='bilinear', align_corners=False)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: a 1x1 branch, one 3x3 branch per rate and the pooling branch,
    concatenated and projected to ``out_channels`` (with dropout 0.5)."""

    def __init__(self, in_channels, atrous_rates, out_channels=256):
        super().__init__()
        modules = [nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels),
                                 nn.ReLU())]
        modules += [ASPPConv(in_channels, out_channels, rate) for rate in tuple(atrous_rates)]
        modules.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(modules)
        self.project = nn.Sequential(nn.Conv2d(len(self.convs) * out_channels, out_channels, 1, bias=False),
                                     nn.BatchNorm2d(out_channels), nn.ReLU(), nn.Dropout(0.5))

    def forward(self, x):
        return self.project(ember.cat([conv(x) for conv in self.convs], dim=1))


class DeepLabV3_ResNet50_Weights(WeightsEnum):
    COCO_WITH_VOC_LABELS_V1 = _weights('deeplabv3_resnet50_coco-cd0a2569.pth', 42004074, 'deeplabv3_resnet50', 66.4,
                                       92.4, 178.722, 160.515)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


class DeepLabV3_ResNet101_Weights(WeightsEnum):
    COCO_WITH_VOC_LABELS_V1 = _weights('deeplabv3_resnet101_coco-586e9e4e.pth', 60996202, 'fcn_resnet101', 67.4,
                                       92.4, 258.743, 233.217)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


class DeepLabV3_MobileNet_V3_Large_Weights(WeightsEnum):
    COCO_WITH_VOC_LABELS_V1 = _weights('deeplabv3_mobilenet_v3_large-fc3c493d.pth', 11029328,
                                       'deeplabv3_mobilenet_v3_large', 60.3, 91.2, 10.452, 42.301)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


def _deeplabv3_resnet(make, weights_backbone, num_classes, aux):
    backbone = _resnet_backbone(make, weights_backbone, aux)
    aux_classifier = FCNHead(1024, num_classes) if aux else None     # made first: the seeded draws follow this order
    return DeepLabV3(backbone, DeepLabHead(2048, num_classes), aux_classifier)


def _deeplabv3_mobilenetv3(backbone, num_classes, aux):
    """The C5 features (output stride 16) as 'out', C2 (stride 8) as 'aux'."""
    features = backbone.features
    stages = _mobilenet_stages(features)
    out_pos, aux_pos = stages[-1], stages[-4]
    return_layers = {str(out_pos): 'out'}
    if aux:
        return_layers[str(aux_pos)] = 'aux'
    body = IntermediateLayerGetter(features, return_layers=return_layers)
    aux_classifier = FCNHead(features[aux_pos].out_channels, num_classes) if aux else None
    return DeepLabV3(body, DeepLabHead(features[out_pos].out_channels, num_classes), aux_classifier)


@segmentation_builder(DeepLabV3_ResNet50_Weights, ResNet50_Weights.IMAGENET1K_V1)
def deeplabv3_resnet50(*, weights=None, progress=True, num_classes=None, aux_loss=None,
                       weights_backbone=ResNet50_Weights.IMAGENET1K_V1, **kwargs):
    """DeepLabV3-ResNet50 (``weights``: ``DeepLabV3_ResNet50_Weights``)."""
    weights, weights_backbone, num_classes, aux_loss = _prepare(weights, DeepLabV3_ResNet50_Weights,
                                                                weights_backbone, ResNet50_Weights, num_classes,
                                                                aux_loss)
    return _load(_deeplabv3_resnet(resnet50, weights_backbone, num_classes, aux_loss), weights, progress)


@segmentation_builder(DeepLabV3_ResNet101_Weights, ResNet101_Weights.IMAGENET1K_V1)
def deeplabv3_resnet101(*, weights=None, progress=True, num_classes=None, aux_loss=None,
                        weights_backbone=ResNet101_Weights.IMAGENET1K_V1, **kwargs):
    """DeepLabV3-ResNet101 (``weights``: ``DeepLabV3_ResNet101_Weights``)."""
    weights, weights_backbone, num_classes, aux_loss = _prepare(weights, DeepLabV3_ResNet101_Weights,
                                                                weights_backbone, ResNet101_Weights, num_classes,
                                                                aux_loss)
    return _load(_deeplabv3_resnet(resnet101, weights_backbone, num_classes, aux_loss), weights, progress)


@segmentation_builder(DeepLabV3_MobileNet_V3_Large_Weights, MobileNet_V3_Large_Weights.IMAGENET1K_V1)
def deeplabv3_mobilenet_v3_large(*, weights=None, progress=True, num_classes=None, aux_loss=None,
                                 weights_backbone=MobileNet_V3_Large_Weights.IMAGENET1K_V1, **kwargs):
    """DeepLabV3 on a dilated MobileNetV3-Large (``weights``: ``DeepLabV3_MobileNet_V3_Large_Weights``)."""
    weights, weights_backbone, num_classes, aux_loss = _prepare(weights, DeepLabV3_MobileNet_V3_Large_Weights,
                                                                weights_backbone, MobileNet_V3_Large_Weights,
                                                                num_classes, aux_loss)
    backbone = mobilenet_v3_large(weights=weights_backbone, dilated=True)
    return _load(_deeplabv3_mobilenetv3(backbone, num_classes, aux_loss), weights, progress)
