"""LR-ASPP (Howard et al., "Searching for MobileNetV3"): a lightweight segmentation head on a dilated
MobileNetV3-Large."""
from collections import OrderedDict

from ember import nn
from ember.nn import functional as F

from .._api import WeightsEnum
from .._utils import IntermediateLayerGetter
from ..mobilenetv3 import MobileNet_V3_Large_Weights, mobilenet_v3_large
from ._utils import _load, _mobilenet_stages, _prepare, segmentation_builder
from .fcn import _COMMON_META, _weights

__all__ = ['LRASPP', 'LRASPP_MobileNet_V3_Large_Weights', 'lraspp_mobilenet_v3_large']


class LRASPP(nn.Module):
    """A backbone returning 'low' and 'high' features and the LR-ASPP head; the result upsampled to the input's
    size under 'out'."""

    def __init__(self, backbone, low_channels, high_channels, num_classes, inter_channels=128):
        super().__init__()
        self.backbone = backbone
        self.classifier = LRASPPHead(low_channels, high_channels, num_classes, inter_channels)

    def forward(self, input):
        out = self.classifier(self.backbone(input))
        result = OrderedDict()
        result['out'] = F.interpolate(out, size=input.shape[-2:], mode='bilinear', align_corners=False)
        return result


class LRASPPHead(nn.Module):
    """The high features through 1x1 conv-BN-ReLU gated by a pooled sigmoid branch, upsampled to the low
    features' size; the sum of a classifier on each."""

    def __init__(self, low_channels, high_channels, num_classes, inter_channels):
        super().__init__()
        self.cbr = nn.Sequential(nn.Conv2d(high_channels, inter_channels, 1, bias=False),
                                 nn.BatchNorm2d(inter_channels), nn.ReLU(inplace=True))
        self.scale = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(high_channels, inter_channels, 1, bias=False),
                                   nn.Sigmoid())
        self.low_classifier = nn.Conv2d(low_channels, num_classes, 1)
        self.high_classifier = nn.Conv2d(inter_channels, num_classes, 1)

    def forward(self, input):
        low, high = input['low'], input['high']
        x = self.cbr(high) * self.scale(high)
        x = F.interpolate(x, size=low.shape[-2:], mode='bilinear', align_corners=False)
        return self.low_classifier(low) + self.high_classifier(x)


_LRASPP_META = {'categories': _COMMON_META['categories'], 'min_size': (1, 1), '_docs': """
                These weights were trained on a subset of COCO, using only the 20 categories that are present in the
                Pascal VOC dataset.
            """}


class LRASPP_MobileNet_V3_Large_Weights(WeightsEnum):
    COCO_WITH_VOC_LABELS_V1 = _weights('lraspp_mobilenet_v3_large-d234d4ea.pth', 3221538, 'lraspp_mobilenet_v3_large',
                                       57.9, 91.2, 2.086, 12.49, common=_LRASPP_META)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


@segmentation_builder(LRASPP_MobileNet_V3_Large_Weights, MobileNet_V3_Large_Weights.IMAGENET1K_V1)
def lraspp_mobilenet_v3_large(*, weights=None, progress=True, num_classes=None,
                              weights_backbone=MobileNet_V3_Large_Weights.IMAGENET1K_V1, **kwargs):
    """LR-ASPP on a dilated MobileNetV3-Large (``weights``: ``LRASPP_MobileNet_V3_Large_Weights``)."""
    if kwargs.pop('aux_loss', False):
        raise NotImplementedError('This model does not use auxiliary loss')
    weights, weights_backbone, num_classes, _ = _prepare(weights, LRASPP_MobileNet_V3_Large_Weights,
                                                         weights_backbone, MobileNet_V3_Large_Weights, num_classes,
                                                         None)
    features = mobilenet_v3_large(weights=weights_backbone, dilated=True).features
    stages = _mobilenet_stages(features)
    low_pos, high_pos = stages[-4], stages[-1]
    body = IntermediateLayerGetter(features, return_layers={str(low_pos): 'low', str(high_pos): 'high'})
    model = LRASPP(body, features[low_pos].out_channels, features[high_pos].out_channels, num_classes)
    return _load(model, weights, progress)
