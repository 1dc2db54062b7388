"""The parts torchvision's segmentation models share: the backbone-plus-heads model and the builder wrapper
that accepts the legacy ``pretrained=`` / ``pretrained_backbone=`` arguments."""
import functools
import warnings
from collections import OrderedDict

from ember import nn
from ember.nn import functional as F

from .._api import WeightsEnum, register_model

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


def _legacy_weights(kwargs, weights_param, pretrained_param, default, name):
    """torchvision's ``handle_legacy_interface`` for one weights parameter: ``pretrained_param=True`` (or a bool
    given as ``weights_param``) becomes ``default`` with its deprecation warnings, False becomes None."""
    missing = object()
    given = kwargs.get(weights_param, missing)
    if ((weights_param not in kwargs and pretrained_param not in kwargs) or isinstance(given, WeightsEnum)
            or (isinstance(given, str) and given != 'legacy') or given is None):
        return
    as_weights = given is not missing
    pretrained = kwargs.pop(weights_param) if as_weights else kwargs[pretrained_param]
    if pretrained and not isinstance(default, WeightsEnum):
        raise ValueError(f'No weights available for model {name}')
    chosen = default if pretrained else None
    if not as_weights:
        warnings.warn(f"The parameter '{pretrained_param}' is deprecated since 0.13 and may be removed in the "
                      f"future, please use '{weights_param}' instead.")
    msg = (f"Arguments other than a weight enum or `None` for '{weights_param}' are deprecated since 0.13 and may "
           f'be removed in the future. The current behavior is equivalent to passing `{weights_param}={chosen}`.')
    if pretrained:
        msg += (f' You can also use `{weights_param}={type(chosen).__name__}.DEFAULT` to get the most up-to-date '
                'weights.')
    warnings.warn(msg)
    kwargs.pop(pretrained_param, None)
    kwargs[weights_param] = chosen


def segmentation_builder(weights_enum, backbone_default):
    """Decorator for a segmentation builder ``fn(weights, weights_backbone, ...)``: registers it, records its
    weights enum, translates the legacy arguments and gives ``weights_backbone`` its default
    (``backbone_default``, ImageNet weights downloaded on first use, as torchvision does)."""
    def wrap(fn):
        @functools.wraps(fn)
        def build(**kwargs):
            _legacy_weights(kwargs, 'weights', 'pretrained', weights_enum.COCO_WITH_VOC_LABELS_V1, fn.__name__)
            _legacy_weights(kwargs, 'weights_backbone', 'pretrained_backbone', backbone_default, fn.__name__)
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
