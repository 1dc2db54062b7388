"""FCOS (Tian et al., "Fully Convolutional One-Stage Object Detection"): an anchor-free detector predicting, at
every FPN location, class scores, the distances to the box's four edges and a centerness score. The
ResNet-50-FPN builder with its weights enum; state dicts match torchvision's key for key."""
import math
from collections import OrderedDict
from functools import partial

import ember
from ember import nn
from ember.nn import functional as F

from ...ops import boxes as box_ops
from ...ops import generalized_box_iou_loss, sigmoid_focal_loss
from .._api import WeightsEnum
from ..resnet import ResNet50_Weights
from . import _utils as det_utils
from .anchor_utils import AnchorGenerator
from .faster_rcnn import _coco_weights, _load, _prepare, _RECIPE, detection_builder
from .generalized_rcnn import _check_degenerate_boxes, _check_training_targets
from .retinanet import _flatten_levels, _resnet50_p3p7
from .transform import GeneralizedRCNNTransform

__all__ = ['FCOS', 'FCOS_ResNet50_FPN_Weights', 'fcos_resnet50_fpn']


def _gn_tower(in_channels, num_convs, norm_layer):
    """``num_convs`` blocks of 3x3 convolution, norm (GroupNorm(32) by default) and ReLU, flat in one
    Sequential."""
    norm_layer = partial(nn.GroupNorm, 32) if norm_layer is None else norm_layer
    layers = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, in_channels, kernel_size=3, stride=1, padding=1), norm_layer(in_channels),
                   nn.ReLU()]
    return nn.Sequential(*layers)


def _init_convs(layers):
    """Weights normal with std 0.01, biases zero, in order."""
    for layer in layers:
        if isinstance(layer, nn.Conv2d):
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.constant_(layer.bias, 0)


def _centerness(reg_targets):
    """sqrt(min(l, r) / max(l, r) * min(t, b) / max(t, b)) of the encoded distances ``[N, A, 4]``."""
    left_right, top_bottom = reg_targets[:, :, [0, 2]], reg_targets[:, :, [1, 3]]
    return ember.sqrt(left_right.min(dim=-1)[0] / left_right.max(dim=-1)[0]
                      * (top_bottom.min(dim=-1)[0] / top_bottom.max(dim=-1)[0]))


class FCOSHead(nn.Module):
    """The classification and regression (with centerness) subnets; ``compute_loss`` gives the focal, GIoU and
    centerness BCE losses, each divided by the number of foreground locations."""

    def __init__(self, in_channels, num_anchors, num_classes, num_convs=4):
        super().__init__()
        self.box_coder = det_utils.BoxLinearCoder(normalize_by_size=True)
        self.classification_head = FCOSClassificationHead(in_channels, num_anchors, num_classes, num_convs)
        self.regression_head = FCOSRegressionHead(in_channels, num_anchors, num_convs)

    @staticmethod
    def _targets(targets, matched_idxs):
        """Per-location class (-1 for background) and box targets, stacked over the images."""
        classes, boxes = [], []
        for target, matched in zip(targets, matched_idxs):
            if len(target['labels']) == 0:
                image_classes = target['labels'].new_zeros((len(matched),))
                image_boxes = target['boxes'].new_zeros((len(matched), 4))
            else:
                image_classes = target['labels'][matched.clip(min=0)]
                image_boxes = target['boxes'][matched.clip(min=0)]
            image_classes[matched < 0] = -1
            classes.append(image_classes)
            boxes.append(image_boxes)
        return ember.stack(classes), ember.stack(boxes)

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
        gt_classes, gt_boxes = self._targets(targets, matched_idxs)
        anchors = ember.stack(anchors)
        foreground = gt_classes >= 0
        num_foreground = max(1, foreground.sum().item())
        class_targets = ember.zeros_like(head_outputs['cls_logits'])
        class_targets[foreground, gt_classes[foreground]] = 1.0
        loss_cls = sigmoid_focal_loss(head_outputs['cls_logits'], class_targets, reduction='sum')
        pred_boxes = self.box_coder.decode(head_outputs['bbox_regression'], anchors)
        loss_bbox_reg = generalized_box_iou_loss(pred_boxes[foreground], gt_boxes[foreground], reduction='sum')
        reg_targets = self.box_coder.encode(anchors, gt_boxes)
        if len(reg_targets) == 0:
            ctrness_targets = reg_targets.new_zeros(reg_targets.size()[:-1])
        else:
            ctrness_targets = _centerness(reg_targets)
        pred_ctrness = head_outputs['bbox_ctrness'].squeeze(dim=2)
        loss_ctrness = F.binary_cross_entropy_with_logits(pred_ctrness[foreground], ctrness_targets[foreground],
                                                          reduction='sum')
        return {'classification': loss_cls / num_foreground, 'bbox_regression': loss_bbox_reg / num_foreground,
                'bbox_ctrness': loss_ctrness / num_foreground}

    def forward(self, x):
        bbox_regression, bbox_ctrness = self.regression_head(x)
        return {'cls_logits': self.classification_head(x), 'bbox_regression': bbox_regression,
                'bbox_ctrness': bbox_ctrness}


class FCOSClassificationHead(nn.Module):
    """The conv tower and a 3x3 convolution to ``num_anchors * num_classes`` logits (prior-probability bias)."""

    def __init__(self, in_channels, num_anchors, num_classes, num_convs=4, prior_probability=0.01, norm_layer=None):
        super().__init__()
        self.num_classes = num_classes
        self.num_anchors = num_anchors
        self.conv = _gn_tower(in_channels, num_convs, norm_layer)
        _init_convs(self.conv.children())
        self.cls_logits = nn.Conv2d(in_channels, num_anchors * num_classes, kernel_size=3, stride=1, padding=1)
        nn.init.normal_(self.cls_logits.weight, std=0.01)
        nn.init.constant_(self.cls_logits.bias, -math.log((1 - prior_probability) / prior_probability))

    def forward(self, x):
        return _flatten_levels([self.cls_logits(self.conv(f)) for f in x], self.num_classes)


class FCOSRegressionHead(nn.Module):
    """The conv tower, then 3x3 convolutions to the (ReLU'd) edge distances and the centerness logit."""

    def __init__(self, in_channels, num_anchors, num_convs=4, norm_layer=None):
        super().__init__()
        self.conv = _gn_tower(in_channels, num_convs, norm_layer)
        self.bbox_reg = nn.Conv2d(in_channels, num_anchors * 4, kernel_size=3, stride=1, padding=1)
        self.bbox_ctrness = nn.Conv2d(in_channels, num_anchors * 1, kernel_size=3, stride=1, padding=1)
        _init_convs([self.bbox_reg, self.bbox_ctrness])
        _init_convs(self.conv.children())

    def forward(self, x):
        features = [self.conv(f) for f in x]
        return (_flatten_levels([F.relu(self.bbox_reg(f)) for f in features], 4),
                _flatten_levels([self.bbox_ctrness(f) for f in features], 1))


class FCOS(nn.Module):
    """FCOS on ``backbone`` (which must have ``out_channels``; one anchor per location): training returns
    ``{'classification', 'bbox_regression', 'bbox_ctrness'}`` losses, eval per-image ``{'boxes', 'scores',
    'labels'}`` scored by sqrt(class probability x centerness)."""

    def __init__(self, backbone, num_classes, min_size=800, max_size=1333, image_mean=None, image_std=None,
                 anchor_generator=None, head=None, center_sampling_radius=1.5, score_thresh=0.2, nms_thresh=0.6,
                 detections_per_img=100, topk_candidates=1000, **kwargs):
        super().__init__()
        if not hasattr(backbone, 'out_channels'):
            raise ValueError('backbone should contain an attribute out_channels specifying the number of output '
                             'channels (assumed to be the same for all the levels)')
        self.backbone = backbone
        if not isinstance(anchor_generator, (AnchorGenerator, type(None))):
            raise TypeError('anchor_generator should be of type AnchorGenerator or None, instead  got '
                            f'{type(anchor_generator)}')
        if anchor_generator is None:
            anchor_sizes = ((8,), (16,), (32,), (64,), (128,))
            anchor_generator = AnchorGenerator(anchor_sizes, ((1.0,),) * len(anchor_sizes))
        self.anchor_generator = anchor_generator
        if self.anchor_generator.num_anchors_per_location()[0] != 1:
            raise ValueError('anchor_generator.num_anchors_per_location()[0] should be 1 instead of '
                             f'{anchor_generator.num_anchors_per_location()[0]}')
        if head is None:
            head = FCOSHead(backbone.out_channels, anchor_generator.num_anchors_per_location()[0], num_classes)
        self.head = head
        self.box_coder = det_utils.BoxLinearCoder(normalize_by_size=True)
        image_mean = [0.485, 0.456, 0.406] if image_mean is None else image_mean
        image_std = [0.229, 0.224, 0.225] if image_std is None else image_std
        self.transform = GeneralizedRCNNTransform(min_size, max_size, image_mean, image_std, **kwargs)
        self.center_sampling_radius = center_sampling_radius
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.topk_candidates = topk_candidates
        self._has_warned = False

    def eager_outputs(self, losses, detections):
        return losses if self.training else detections

    def _match(self, anchors, gt_boxes, num_anchors_per_level):
        """Each location's ground truth: the smallest box whose centre region (``center_sampling_radius``
        strides) holds the location, which contains it, and whose largest edge distance suits the level; -1 if
        none."""
        gt_centers = (gt_boxes[:, :2] + gt_boxes[:, 2:]) / 2
        anchor_centers = (anchors[:, :2] + anchors[:, 2:]) / 2
        anchor_sizes = anchors[:, 2] - anchors[:, 0]
        match = ((anchor_centers[:, None, :] - gt_centers[None, :, :]).abs().max(dim=2).values
                 < self.center_sampling_radius * anchor_sizes[:, None])
        x, y = anchor_centers.unsqueeze(dim=2).unbind(dim=1)
        x0, y0, x1, y1 = gt_boxes.unsqueeze(dim=0).unbind(dim=2)
        dist = ember.stack([x - x0, y - y0, x1 - x, y1 - y], dim=2)
        match &= dist.min(dim=2).values > 0
        lower_bound = anchor_sizes * 4
        lower_bound[:num_anchors_per_level[0]] = 0
        upper_bound = anchor_sizes * 8
        upper_bound[-num_anchors_per_level[-1]:] = float('inf')
        dist = dist.max(dim=2).values
        match &= (dist > lower_bound[:, None]) & (dist < upper_bound[:, None])
        gt_areas = (gt_boxes[:, 2] - gt_boxes[:, 0]) * (gt_boxes[:, 3] - gt_boxes[:, 1])
        weighted = match.to(ember.float32) * (1e8 - gt_areas[None, :])
        min_values, matched_idx = weighted.max(dim=1)
        matched_idx[min_values < 1e-5] = -1
        return matched_idx

    def compute_loss(self, targets, head_outputs, anchors, num_anchors_per_level):
        matched_idxs = []
        for image_anchors, target in zip(anchors, targets):
            if target['boxes'].numel() == 0:
                matched_idxs.append(ember.full((image_anchors.size(0),), -1, dtype=ember.int64))
            else:
                matched_idxs.append(self._match(image_anchors, target['boxes'], num_anchors_per_level))
        return self.head.compute_loss(targets, head_outputs, anchors, matched_idxs)

    def _level_candidates(self, regression, logits, ctrness, anchors, image_shape):
        num_classes = logits.shape[-1]
        scores = ember.sqrt(ember.sigmoid(logits) * ember.sigmoid(ctrness)).flatten()
        keep = scores > self.score_thresh
        scores = scores[keep]
        topk_idxs = ember.where(keep)[0]
        scores, idxs = scores.topk(det_utils._topk_min(topk_idxs, self.topk_candidates, 0))
        topk_idxs = topk_idxs[idxs]
        anchor_idxs = ember.div(topk_idxs, num_classes, rounding_mode='floor')
        boxes = self.box_coder.decode(regression[anchor_idxs], anchors[anchor_idxs])
        return box_ops.clip_boxes_to_image(boxes, image_shape), scores, topk_idxs % num_classes

    def postprocess_detections(self, head_outputs, anchors, image_shapes):
        """Per image, the best ``topk_candidates`` of each level above ``score_thresh``, NMS'd per class."""
        detections = []
        for index, image_shape in enumerate(image_shapes):
            levels = zip(*[[t[index] for t in head_outputs[k]] for k in ('bbox_regression', 'cls_logits',
                                                                          'bbox_ctrness')], anchors[index])
            boxes, scores, labels = (ember.cat(parts, dim=0) for parts in
                                     zip(*[self._level_candidates(*level, image_shape) for level in levels]))
            keep = box_ops.batched_nms(boxes, scores, labels, self.nms_thresh)[:self.detections_per_img]
            detections.append({'boxes': boxes[keep], 'scores': scores[keep], 'labels': labels[keep]})
        return detections

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
        num_anchors_per_level = [x.size(2) * x.size(3) for x in features]
        if self.training:
            return self.eager_outputs(self.compute_loss(targets, head_outputs, anchors, num_anchors_per_level), [])
        split_outputs = {k: list(v.split(num_anchors_per_level, dim=1)) for k, v in head_outputs.items()}
        split_anchors = [list(a.split(num_anchors_per_level)) for a in anchors]
        detections = self.postprocess_detections(split_outputs, split_anchors, images.image_sizes)
        return self.eager_outputs({}, self.transform.postprocess(detections, images.image_sizes,
                                                                 original_image_sizes))


class FCOS_ResNet50_FPN_Weights(WeightsEnum):
    COCO_V1 = _coco_weights('fcos_resnet50_fpn_coco-99b0c9b7.pth', 32269600, _RECIPE + 'fcos-resnet-50-fpn',
                            {'box_map': 39.2}, 128.207, 123.608)
    DEFAULT = COCO_V1


@detection_builder(FCOS_ResNet50_FPN_Weights, ResNet50_Weights.IMAGENET1K_V1)
def fcos_resnet50_fpn(*, weights=None, progress=True, num_classes=None,
                      weights_backbone=ResNet50_Weights.IMAGENET1K_V1, trainable_backbone_layers=None, **kwargs):
    """FCOS ResNet-50-FPN (``weights``: ``FCOS_ResNet50_FPN_Weights``; 91 COCO classes by default)."""
    weights, weights_backbone, num_classes = _prepare(weights, FCOS_ResNet50_FPN_Weights, weights_backbone,
                                                      ResNet50_Weights, num_classes)
    backbone = _resnet50_p3p7(weights, weights_backbone, trainable_backbone_layers, progress)
    return _load(FCOS(backbone, num_classes, **kwargs), weights, progress)
