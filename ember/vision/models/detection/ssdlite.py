"""SSDlite (Sandler et al., MobileNetV2's SSD variant): SSD with depthwise-separable prediction heads and extra
blocks on a MobileNetV3-Large backbone at 320x320. The builder with its weights enum; state dicts match
torchvision's key for key."""
import warnings
from collections import OrderedDict
from functools import partial

from ember import nn

from ...ops.misc import Conv2dNormActivation
from .._api import WeightsEnum
from ..mobilenetv3 import MobileNet_V3_Large_Weights, mobilenet_v3_large
from . import _utils as det_utils
from .anchor_utils import DefaultBoxGenerator
from .backbone_utils import _validate_trainable_layers
from .faster_rcnn import _coco_weights, _load, _prepare, _RECIPE, detection_builder
from .ssd import SSD, SSDScoringHead

__all__ = ['SSDLite320_MobileNet_V3_Large_Weights', 'ssdlite320_mobilenet_v3_large']


def _prediction_block(in_channels, out_channels, kernel_size, norm_layer):
    """A depthwise conv-norm-ReLU6 and a pointwise convolution to ``out_channels``."""
    return nn.Sequential(Conv2dNormActivation(in_channels, in_channels, kernel_size=kernel_size, groups=in_channels,
                                              norm_layer=norm_layer, activation_layer=nn.ReLU6),
                         nn.Conv2d(in_channels, out_channels, 1))


def _extra_block(in_channels, out_channels, norm_layer):
    """Pointwise to half of ``out_channels``, a stride-2 depthwise 3x3, pointwise to ``out_channels`` (each with
    norm and ReLU6)."""
    mid = out_channels // 2
    return nn.Sequential(
        Conv2dNormActivation(in_channels, mid, kernel_size=1, norm_layer=norm_layer, activation_layer=nn.ReLU6),
        Conv2dNormActivation(mid, mid, kernel_size=3, stride=2, groups=mid, norm_layer=norm_layer,
                             activation_layer=nn.ReLU6),
        Conv2dNormActivation(mid, out_channels, kernel_size=1, norm_layer=norm_layer, activation_layer=nn.ReLU6))


def _normal_init(conv):
    """Convolution weights normal with std 0.03, biases zero, in module order."""
    for layer in conv.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.normal_(layer.weight, mean=0.0, std=0.03)
            if layer.bias is not None:
                nn.init.constant_(layer.bias, 0.0)


class SSDLiteHead(nn.Module):
    def __init__(self, in_channels, num_anchors, num_classes, norm_layer):
        super().__init__()
        self.classification_head = SSDLiteClassificationHead(in_channels, num_anchors, num_classes, norm_layer)
        self.regression_head = SSDLiteRegressionHead(in_channels, num_anchors, norm_layer)

    def forward(self, x):
        return {'bbox_regression': self.regression_head(x), 'cls_logits': self.classification_head(x)}


class SSDLiteClassificationHead(SSDScoringHead):
    def __init__(self, in_channels, num_anchors, num_classes, norm_layer):
        cls_logits = nn.ModuleList([_prediction_block(c, num_classes * a, 3, norm_layer)
                                    for c, a in zip(in_channels, num_anchors)])
        _normal_init(cls_logits)
        super().__init__(cls_logits, num_classes)


class SSDLiteRegressionHead(SSDScoringHead):
    def __init__(self, in_channels, num_anchors, norm_layer):
        bbox_reg = nn.ModuleList([_prediction_block(c, 4 * a, 3, norm_layer) for c, a in zip(in_channels, num_anchors)])
        _normal_init(bbox_reg)
        super().__init__(bbox_reg, 4)


class SSDLiteFeatureExtractorMobileNet(nn.Module):
    """The MobileNet features split inside the C4 block (after its expansion layer) into two outputs, then four
    extra blocks halving the resolution, six feature maps in all."""

    def __init__(self, backbone, c4_pos, norm_layer, width_mult=1.0, min_depth=16):
        super().__init__()
        if backbone[c4_pos].use_res_connect:
            raise ValueError('backbone[c4_pos].use_res_connect should be False')
        self.features = nn.Sequential(nn.Sequential(*backbone[:c4_pos], backbone[c4_pos].block[0]),
                                      nn.Sequential(backbone[c4_pos].block[1:], *backbone[c4_pos + 1:]))

        def depth(d):
            return max(min_depth, int(d * width_mult))
        self.extra = nn.ModuleList([_extra_block(backbone[-1].out_channels, depth(512), norm_layer),
                                    _extra_block(depth(512), depth(256), norm_layer),
                                    _extra_block(depth(256), depth(256), norm_layer),
                                    _extra_block(depth(256), depth(128), norm_layer)])
        _normal_init(self.extra)

    def forward(self, x):
        output = []
        for block in list(self.features) + list(self.extra):
            x = block(x)
            output.append(x)
        return OrderedDict([(str(i), v) for i, v in enumerate(output)])


def _mobilenet_extractor(backbone, trainable_layers, norm_layer):
    backbone = backbone.features
    stage_indices = [0] + [i for i, b in enumerate(backbone) if getattr(b, '_is_cn', False)] + [len(backbone) - 1]
    num_stages = len(stage_indices)
    if not 0 <= trainable_layers <= num_stages:
        # torchvision's message, its placeholders left unformatted as torchvision leaves them
        raise ValueError('trainable_layers should be in the range [0, {num_stages}], instead got {trainable_layers}')
    freeze_before = len(backbone) if trainable_layers == 0 else stage_indices[num_stages - trainable_layers]
    for block in backbone[:freeze_before]:
        for parameter in block.parameters():
            parameter.requires_grad_(False)
    return SSDLiteFeatureExtractorMobileNet(backbone, stage_indices[-2], norm_layer)


class SSDLite320_MobileNet_V3_Large_Weights(WeightsEnum):
    COCO_V1 = _coco_weights('ssdlite320_mobilenet_v3_large_coco-a79551df.pth', 3440060,
                            _RECIPE + 'ssdlite320-mobilenetv3-large', {'box_map': 21.3}, 0.583, 13.418)
    DEFAULT = COCO_V1


@detection_builder(SSDLite320_MobileNet_V3_Large_Weights, MobileNet_V3_Large_Weights.IMAGENET1K_V1)
def ssdlite320_mobilenet_v3_large(*, weights=None, progress=True, num_classes=None,
                                  weights_backbone=MobileNet_V3_Large_Weights.IMAGENET1K_V1,
                                  trainable_backbone_layers=None, norm_layer=None, **kwargs):
    """SSDlite320 on MobileNetV3-Large (``weights``: ``SSDLite320_MobileNet_V3_Large_Weights``; 91 COCO classes
    by default; the backbone's tail is halved when it is not pretrained). Extra ``kwargs`` go to both the
    backbone builder and ``SSD``, as torchvision passes them."""
    weights, weights_backbone, num_classes = _prepare(weights, SSDLite320_MobileNet_V3_Large_Weights,
                                                      weights_backbone, MobileNet_V3_Large_Weights, num_classes)
    if 'size' in kwargs:
        warnings.warn('The size of the model is already fixed; ignoring the parameter.')
    trainable = _validate_trainable_layers(weights is not None or weights_backbone is not None,
                                           trainable_backbone_layers, 6, 6)
    norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.03) if norm_layer is None else norm_layer
    backbone = mobilenet_v3_large(weights=weights_backbone, progress=progress, norm_layer=norm_layer,
                                  reduced_tail=weights_backbone is None, **kwargs)
    if weights_backbone is None:
        _normal_init(backbone)
    backbone = _mobilenet_extractor(backbone, trainable, norm_layer)
    size = (320, 320)
    anchor_generator = DefaultBoxGenerator([[2, 3] for _ in range(6)], min_ratio=0.2, max_ratio=0.95)
    out_channels = det_utils.retrieve_out_channels(backbone, size)
    if len(out_channels) != len(anchor_generator.aspect_ratios):
        raise ValueError(f'The length of the output channels from the backbone {len(out_channels)} do not match the '
                         f'length of the anchor generator aspect ratios {len(anchor_generator.aspect_ratios)}')
    defaults = {'score_thresh': 0.001, 'nms_thresh': 0.55, 'detections_per_img': 300, 'topk_candidates': 300,
                'image_mean': [0.5, 0.5, 0.5], 'image_std': [0.5, 0.5, 0.5]}
    head = SSDLiteHead(out_channels, anchor_generator.num_anchors_per_location(), num_classes, norm_layer)
    model = SSD(backbone, anchor_generator, size, num_classes, head=head, **{**defaults, **kwargs})
    return _load(model, weights, progress)
