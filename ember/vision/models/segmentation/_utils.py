"""The parts torchvision's segmentation models share: the backbone-plus-heads model and the builder wrapper
that accepts the legacy ``pretrained=`` / ``pretrained_backbone=`` arguments."""
import functools
from collections import OrderedDict

from ember import nn
from ember.nn import functional as F

from .._api import keywords_from_positions, legacy_weights, register_model

__all__ = []


class _SimpleSegmentationModel(nn.Module):
    """``backbone`` returning a dict with 'out' (and 'aux'), ``classifier`` (and ``aux_classifier``) on those;
    each result upsampled bilinearly to the input's size, returned in a dict under the same keys."""
    __constants__ = ['aux_classifier']

    def __init__(self, backbone, classifier, aux_classifier=None):
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier
        self.aux_classifier = aux_classifier

    def forward(self, x):
        input_shape = x.shape[-2:]
        features = self.backbone(x)
        result = OrderedDict()
        result['out'] = F.interpolate(self.classifier(features['out']), size=input_shape, mode='bilinear',
                                      align_corners=False)
        if self.aux_classifier is not None:
            result['aux'] = F.interpolate(self.aux_classifier(features['aux']), size=input_shape, mode='bilinear',
                                          align_corners=False)
        return result


def segmentation_builder(weights_enum, backbone_default):
    """Decorator for a segmentation builder ``fn(weights, weights_backbone, ...)``: registers it, records its
    weights enum, translates the legacy arguments and gives ``weights_backbone`` its default
    (``backbone_default``, ImageNet weights downloaded on first use, as torchvision does)."""
    def wrap(fn):
        @functools.wraps(fn)
        def build(*args, **kwargs):
            kwargs = keywords_from_positions(fn, args, kwargs)
            legacy_weights(kwargs, 'weights', 'pretrained', weights_enum.COCO_WITH_VOC_LABELS_V1, fn.__name__)
            legacy_weights(kwargs, 'weights_backbone', 'pretrained_backbone', backbone_default, fn.__name__)
            return fn(**kwargs)
        build._weights_enum = weights_enum
        return register_model()(build)
    return wrap


def _overwrite_value(param, actual, expected):
    """``expected``, refusing a different ``actual`` the caller gave."""
    if actual is not None and actual != expected:
        raise ValueError(f"The parameter '{param}' expected value {expected} but got {actual} instead.")
    return expected


def _prepare(weights, weights_enum, weights_backbone, backbone_enum, num_classes, aux_loss):
    """The checked weights, the backbone weights (none when full weights are given), the class count (the
    weights' 21 VOC classes, else 21 by default) and the aux flag (True with weights)."""
    weights = weights_enum.verify(weights)
    weights_backbone = backbone_enum.verify(weights_backbone)
    if weights is not None:
        weights_backbone = None
        num_classes = _overwrite_value('num_classes', num_classes, len(weights.meta['categories']))
        aux_loss = _overwrite_value('aux_loss', aux_loss, True)
    elif num_classes is None:
        num_classes = 21
    return weights, weights_backbone, num_classes, aux_loss


def _load(model, weights, progress):
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


def _mobilenet_stages(features):
    """Indices of the blocks that end each MobileNetV3 stage (the stem, each strided block, the last)."""
    return [0] + [i for i, b in enumerate(features) if getattr(b, '_is_cn', False)] + [len(features) - 1]
