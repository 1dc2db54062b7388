"""RetinaNet (Lin et al., "Focal Loss for Dense Object Detection"): a one-stage detector whose classification and
box subnets run on every FPN level (P3-P7), trained with the sigmoid focal loss. Builders on ResNet-50-FPN (v1,
and v2 with GroupNorm heads and a GIoU box loss) with their weights enums; state dicts match torchvision's key for
key."""
import math
from collections import OrderedDict
from functools import partial

import ember
from ember import nn

from ...ops import boxes as box_ops
from ...ops import misc as misc_nn_ops
from ...ops import sigmoid_focal_loss
from ...ops.feature_pyramid_network import LastLevelP6P7
from .._api import WeightsEnum
from ..resnet import ResNet50_Weights, resnet50
from . import _utils as det_utils
from ._utils import _box_loss
from .anchor_utils import AnchorGenerator
from .backbone_utils import _resnet_fpn_extractor, _validate_trainable_layers
from .faster_rcnn import _coco_weights, _load, _prepare, _RECIPE, _V2_DOCS, detection_builder
from .generalized_rcnn import _check_degenerate_boxes, _check_training_targets
from .transform import GeneralizedRCNNTransform

__all__ = ['RetinaNet', 'RetinaNet_ResNet50_FPN_Weights', 'RetinaNet_ResNet50_FPN_V2_Weights',
           'retinanet_resnet50_fpn', 'retinanet_resnet50_fpn_v2']


def _sum(x):
    """The tensors of ``x`` added left to right."""
    res = x[0]
    for i in x[1:]:
        res = res + i
    return res


def _v1_to_v2_weights(state_dict, prefix):
    """Version-1 heads held bare convolutions at even positions: ``conv.2.weight`` becomes ``conv.1.0.weight``."""
    for i in range(4):
        for kind in ('weight', 'bias'):
            old = f'{prefix}conv.{2 * i}.{kind}'
            if old in state_dict:
                state_dict[f'{prefix}conv.{i}.0.{kind}'] = state_dict.pop(old)


def _default_anchorgen():
    """Three octave scales (x, x 2^(1/3), x 2^(2/3)) of 32...512 per level, three aspect ratios."""
    anchor_sizes = tuple((x, int(x * 2 ** (1.0 / 3)), int(x * 2 ** (2.0 / 3))) for x in [32, 64, 128, 256, 512])
    return AnchorGenerator(anchor_sizes, ((0.5, 1.0, 2.0),) * len(anchor_sizes))


def _conv_tower(in_channels, norm_layer):
    """Four 3x3 conv(-norm)-ReLU layers."""
    return nn.Sequential(*[misc_nn_ops.Conv2dNormActivation(in_channels, in_channels, norm_layer=norm_layer)
                           for _ in range(4)])


def _init_tower(tower):
    """The tower's convolution weights normal with std 0.01, biases zero (drawn in module order, as
    torchvision draws them)."""
    for layer in tower.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.normal_(layer.weight, std=0.01)
            if layer.bias is not None:
                nn.init.constant_(layer.bias, 0)


def _flatten_levels(outputs, width):
    """Per-level ``[N, A * width, H, W]`` maps to one ``[N, sum(HWA), width]`` tensor (anchor order)."""
    flat = []
    for out in outputs:
        N, _, H, W = out.shape
        flat.append(out.view(N, -1, width, H, W).permute(0, 3, 4, 1, 2).reshape(N, -1, width))
    return ember.cat(flat, dim=1)


class RetinaNetHead(nn.Module):
    """The classification and regression subnets; ``forward`` returns ``{'cls_logits', 'bbox_regression'}``."""

    def __init__(self, in_channels, num_anchors, num_classes, norm_layer=None):
        super().__init__()
        self.classification_head = RetinaNetClassificationHead(in_channels, num_anchors, num_classes,
                                                               norm_layer=norm_layer)
        self.regression_head = RetinaNetRegressionHead(in_channels, num_anchors, norm_layer=norm_layer)

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
        return {'classification': self.classification_head.compute_loss(targets, head_outputs, matched_idxs),
                'bbox_regression': self.regression_head.compute_loss(targets, head_outputs, anchors, matched_idxs)}

    def forward(self, x):
        return {'cls_logits': self.classification_head(x), 'bbox_regression': self.regression_head(x)}


class RetinaNetClassificationHead(nn.Module):
    """Four conv layers and a 3x3 convolution to ``num_anchors * num_classes`` logits, its bias set so every
    class starts at probability ``prior_probability``. Loss: the focal loss over the anchors not ignored, per
    image divided by its foreground count, averaged over the images."""
    _version = 2

    def __init__(self, in_channels, num_anchors, num_classes, prior_probability=0.01, norm_layer=None):
        super().__init__()
        self.conv = _conv_tower(in_channels, norm_layer)
        _init_tower(self.conv)
        self.cls_logits = nn.Conv2d(in_channels, num_anchors * num_classes, kernel_size=3, stride=1, padding=1)
        nn.init.normal_(self.cls_logits.weight, std=0.01)
        nn.init.constant_(self.cls_logits.bias, -math.log((1 - prior_probability) / prior_probability))
        self.num_classes = num_classes
        self.num_anchors = num_anchors
        self.BETWEEN_THRESHOLDS = det_utils.Matcher.BETWEEN_THRESHOLDS

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        if local_metadata.get('version', None) is None or local_metadata['version'] < 2:
            _v1_to_v2_weights(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def compute_loss(self, targets, head_outputs, matched_idxs):
        losses = []
        for target, logits, matched in zip(targets, head_outputs['cls_logits'], matched_idxs):
            foreground = matched >= 0
            num_foreground = foreground.sum()
            gt_classes = ember.zeros_like(logits)
            gt_classes[foreground, target['labels'][matched[foreground]]] = 1.0
            valid = matched != self.BETWEEN_THRESHOLDS
            losses.append(sigmoid_focal_loss(logits[valid], gt_classes[valid], reduction='sum')
                          / max(1, num_foreground))
        return _sum(losses) / len(targets)

    def forward(self, x):
        return _flatten_levels([self.cls_logits(self.conv(f)) for f in x], self.num_classes)


class RetinaNetRegressionHead(nn.Module):
    """Four conv layers and a 3x3 convolution to ``num_anchors * 4`` box deltas. Loss (``_loss_type``, 'l1' by
    default): over the foreground anchors, per image divided by their count, averaged over the images."""
    _version = 2

    def __init__(self, in_channels, num_anchors, norm_layer=None):
        super().__init__()
        self.conv = _conv_tower(in_channels, norm_layer)
        self.bbox_reg = nn.Conv2d(in_channels, num_anchors * 4, kernel_size=3, stride=1, padding=1)
        nn.init.normal_(self.bbox_reg.weight, std=0.01)
        nn.init.zeros_(self.bbox_reg.bias)
        _init_tower(self.conv)
        self.box_coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
        self._loss_type = 'l1'

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        if local_metadata.get('version', None) is None or local_metadata['version'] < 2:
            _v1_to_v2_weights(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
        losses = []
        for target, regression, image_anchors, matched in zip(targets, head_outputs['bbox_regression'], anchors,
                                                               matched_idxs):
            fg = ember.where(matched >= 0)[0]
            loss = _box_loss(self._loss_type, self.box_coder, image_anchors[fg, :], target['boxes'][matched[fg]],
                             regression[fg, :])
            losses.append(loss / max(1, fg.numel()))
        return _sum(losses) / max(1, len(targets))

    def forward(self, x):
        return _flatten_levels([self.bbox_reg(self.conv(f)) for f in x], 4)


class RetinaNet(nn.Module):
    """RetinaNet on ``backbone`` (which must have ``out_channels``): ``forward(images, targets=None)`` returns
    ``{'classification', 'bbox_regression'}`` losses in training, per-image ``{'boxes', 'scores', 'labels'}`` in
    eval (top ``topk_candidates`` per level above ``score_thresh``, NMS per class)."""

    def __init__(self, backbone, num_classes, min_size=800, max_size=1333, image_mean=None, image_std=None,
                 anchor_generator=None, head=None, proposal_matcher=None, score_thresh=0.05, nms_thresh=0.5,
                 detections_per_img=300, fg_iou_thresh=0.5, bg_iou_thresh=0.4, topk_candidates=1000, **kwargs):
        super().__init__()
        if not hasattr(backbone, 'out_channels'):
            raise ValueError('backbone should contain an attribute out_channels specifying the number of output '
                             'channels (assumed to be the same for all the levels)')
        self.backbone = backbone
        if not isinstance(anchor_generator, (AnchorGenerator, type(None))):
            raise TypeError('anchor_generator should be of type AnchorGenerator or None instead of '
                            f'{type(anchor_generator)}')
        self.anchor_generator = _default_anchorgen() if anchor_generator is None else anchor_generator
        if head is None:
            head = RetinaNetHead(backbone.out_channels, self.anchor_generator.num_anchors_per_location()[0],
                                 num_classes)
        self.head = head
        if proposal_matcher is None:
            proposal_matcher = det_utils.Matcher(fg_iou_thresh, bg_iou_thresh, allow_low_quality_matches=True)
        self.proposal_matcher = proposal_matcher
        self.box_coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
        image_mean = [0.485, 0.456, 0.406] if image_mean is None else image_mean
        image_std = [0.229, 0.224, 0.225] if image_std is None else image_std
        self.transform = GeneralizedRCNNTransform(min_size, max_size, image_mean, image_std, **kwargs)
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.topk_candidates = topk_candidates
        self._has_warned = False

    def eager_outputs(self, losses, detections):
        return losses if self.training else detections

    def compute_loss(self, targets, head_outputs, anchors):
        matched_idxs = []
        for image_anchors, target in zip(anchors, targets):
            if target['boxes'].numel() == 0:
                matched_idxs.append(ember.full((image_anchors.size(0),), -1, dtype=ember.int64))
            else:
                matched_idxs.append(self.proposal_matcher(box_ops.box_iou(target['boxes'], image_anchors)))
        return self.head.compute_loss(targets, head_outputs, anchors, matched_idxs)

    def _level_candidates(self, regression, logits, anchors, image_shape):
        """One level's best ``topk_candidates`` (anchor, class) pairs above ``score_thresh``: decoded, clipped
        boxes, their scores and labels."""
        num_classes = logits.shape[-1]
        scores = ember.sigmoid(logits).flatten()
        keep = scores > self.score_thresh
        scores = scores[keep]
        topk_idxs = ember.where(keep)[0]
        scores, idxs = scores.topk(det_utils._topk_min(topk_idxs, self.topk_candidates, 0))
        topk_idxs = topk_idxs[idxs]
        anchor_idxs = ember.div(topk_idxs, num_classes, rounding_mode='floor')
        boxes = self.box_coder.decode_single(regression[anchor_idxs], anchors[anchor_idxs])
        return box_ops.clip_boxes_to_image(boxes, image_shape), scores, topk_idxs % num_classes

    def postprocess_detections(self, head_outputs, anchors, image_shapes):
        """Per image, the candidates of every level NMS'd per class, at most ``detections_per_img``."""
        detections = []
        for index, image_shape in enumerate(image_shapes):
            levels = zip([br[index] for br in head_outputs['bbox_regression']],
                         [cl[index] for cl in head_outputs['cls_logits']], anchors[index])
            boxes, scores, labels = (ember.cat(parts, dim=0) for parts in
                                     zip(*[self._level_candidates(r, lg, a, image_shape) for r, lg, a in levels]))
            keep = box_ops.batched_nms(boxes, scores, labels, self.nms_thresh)[:self.detections_per_img]
            detections.append({'boxes': boxes[keep], 'scores': scores[keep], 'labels': labels[keep]})
        return detections

    def _detect(self, features, head_outputs, anchors, images, original_image_sizes):
        """The eval detections: head outputs and anchors split by level, postprocessed, mapped back."""
        hw_per_level = [x.size(2) * x.size(3) for x in features]
        A = head_outputs['cls_logits'].size(1) // sum(hw_per_level)
        per_level = [hw * A for hw in hw_per_level]
        split_outputs = {k: list(v.split(per_level, dim=1)) for k, v in head_outputs.items()}
        split_anchors = [list(a.split(per_level)) for a in anchors]
        detections = self.postprocess_detections(split_outputs, split_anchors, images.image_sizes)
        return self.transform.postprocess(detections, images.image_sizes, original_image_sizes)

    def forward(self, images, targets=None):
        if self.training:
            _check_training_targets(targets)
        original_image_sizes = [(img.shape[-2], img.shape[-1]) for img in images]
        images, targets = self.transform(images, targets)
        if targets is not None:
            _check_degenerate_boxes(targets)
        features = self.backbone(images.tensors)
        if isinstance(features, ember.Tensor):
            features = OrderedDict([('0', features)])
        features = list(features.values())
        head_outputs = self.head(features)
        anchors = self.anchor_generator(images, features)
        if self.training:
            return self.eager_outputs(self.compute_loss(targets, head_outputs, anchors), [])
        return self.eager_outputs({}, self._detect(features, head_outputs, anchors, images, original_image_sizes))


def _resnet50_p3p7(weights, weights_backbone, trainable_backbone_layers, progress):
    """ResNet-50 with an FPN over C3-C5 plus P6 and P7 from P5 (FrozenBatchNorm2d when anything pretrained is
    loaded), as RetinaNet v1 and FCOS use it."""
    is_trained = weights is not None or weights_backbone is not None
    trainable = _validate_trainable_layers(is_trained, trainable_backbone_layers, 5, 3)
    norm_layer = misc_nn_ops.FrozenBatchNorm2d if is_trained else nn.BatchNorm2d
    backbone = resnet50(weights=weights_backbone, progress=progress, norm_layer=norm_layer)
    return _resnet_fpn_extractor(backbone, trainable, returned_layers=[2, 3, 4], extra_blocks=LastLevelP6P7(256, 256))


class RetinaNet_ResNet50_FPN_Weights(WeightsEnum):
    COCO_V1 = _coco_weights('retinanet_resnet50_fpn_coco-eeacb38b.pth', 34014999, _RECIPE + 'retinanet',
                            {'box_map': 36.4}, 151.54, 130.267)
    DEFAULT = COCO_V1


class RetinaNet_ResNet50_FPN_V2_Weights(WeightsEnum):
    COCO_V1 = _coco_weights('retinanet_resnet50_fpn_v2_coco-5905b1c5.pth', 38198935,
                            'https://github.com/pytorch/vision/pull/5756', {'box_map': 41.5}, 152.238, 146.037,
                            _V2_DOCS)
    DEFAULT = COCO_V1


@detection_builder(RetinaNet_ResNet50_FPN_Weights, ResNet50_Weights.IMAGENET1K_V1)
def retinanet_resnet50_fpn(*, weights=None, progress=True, num_classes=None,
                           weights_backbone=ResNet50_Weights.IMAGENET1K_V1, trainable_backbone_layers=None, **kwargs):
    """RetinaNet ResNet-50-FPN (``weights``: ``RetinaNet_ResNet50_FPN_Weights``; 91 COCO classes by default)."""
    weights, weights_backbone, num_classes = _prepare(weights, RetinaNet_ResNet50_FPN_Weights, weights_backbone,
                                                      ResNet50_Weights, num_classes)
    backbone = _resnet50_p3p7(weights, weights_backbone, trainable_backbone_layers, progress)
    model = RetinaNet(backbone, num_classes, **kwargs)
    return _load(model, weights, progress, zero_eps=weights == RetinaNet_ResNet50_FPN_Weights.COCO_V1)


@detection_builder(RetinaNet_ResNet50_FPN_V2_Weights, ResNet50_Weights.IMAGENET1K_V1)
def retinanet_resnet50_fpn_v2(*, weights=None, progress=True, num_classes=None, weights_backbone=None,
                              trainable_backbone_layers=None, **kwargs):
    """RetinaNet ResNet-50-FPN v2 (P6 from C5, GroupNorm heads, GIoU box loss; ``weights``:
    ``RetinaNet_ResNet50_FPN_V2_Weights``)."""
    weights, weights_backbone, num_classes = _prepare(weights, RetinaNet_ResNet50_FPN_V2_Weights, weights_backbone,
                                                      ResNet50_Weights, num_classes)
    is_trained = weights is not None or weights_backbone is not None
    trainable = _validate_trainable_layers(is_trained, trainable_backbone_layers, 5, 3)
    backbone = _resnet_fpn_extractor(resnet50(weights=weights_backbone, progress=progress), trainable,
                                     returned_layers=[2, 3, 4], extra_blocks=LastLevelP6P7(2048, 256))
    anchor_generator = _default_anchorgen()
    head = RetinaNetHead(backbone.out_channels, anchor_generator.num_anchors_per_location()[0], num_classes,
                         norm_layer=partial(nn.GroupNorm, 32))
    head.regression_head._loss_type = 'giou'
    model = RetinaNet(backbone, num_classes, anchor_generator=anchor_generator, head=head, **kwargs)
    return _load(model, weights, progress)
