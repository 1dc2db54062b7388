"""SSD (Liu et al., "SSD: Single Shot MultiBox Detector"): class scores and box deltas predicted by one 3x3
convolution per feature map over default boxes of several scales, trained with hard negative mining. The SSD300
VGG16 builder with its weights enum; state dicts match torchvision's key for key."""
import warnings
from collections import OrderedDict

import ember
from ember import nn
from ember.nn import functional as F

from ...ops import boxes as box_ops
from .._api import WeightsEnum
from ..vgg import VGG16_Weights, vgg16
from . import _utils as det_utils
from .anchor_utils import DefaultBoxGenerator
from .backbone_utils import _validate_trainable_layers
from .faster_rcnn import _coco_weights, _load, _prepare, _RECIPE, detection_builder
from .generalized_rcnn import _check_degenerate_boxes, _check_training_targets
from .transform import GeneralizedRCNNTransform

__all__ = ['SSD300_VGG16_Weights', 'ssd300_vgg16']


def _xavier_init(conv):
    """Convolution weights Xavier-uniform, biases zero, in module order."""
    for layer in conv.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.constant_(layer.bias, 0.0)


class SSDHead(nn.Module):
    """Per-feature-map classification and regression convolutions; ``forward`` returns
    ``{'bbox_regression', 'cls_logits'}`` concatenated over the maps."""

    def __init__(self, in_channels, num_anchors, num_classes):
        super().__init__()
        self.classification_head = SSDClassificationHead(in_channels, num_anchors, num_classes)
        self.regression_head = SSDRegressionHead(in_channels, num_anchors)

    def forward(self, x):
        return {'bbox_regression': self.regression_head(x), 'cls_logits': self.classification_head(x)}


class SSDScoringHead(nn.Module):
    """``module_list[i]`` applied to feature map ``i``, each result ``[N, A * num_columns, H, W]`` flattened to
    ``[N, HWA, num_columns]`` and concatenated."""

    def __init__(self, module_list, num_columns):
        super().__init__()
        self.module_list = module_list
        self.num_columns = num_columns

    def _get_result_from_module_list(self, x, idx):
        """``module_list[idx](x)`` (negative ``idx`` counts from the end)."""
        return self.module_list[idx + len(self.module_list) if idx < 0 else idx](x)

    def forward(self, x):
        results = []
        for i, features in enumerate(x):
            out = self._get_result_from_module_list(features, i)
            N, _, H, W = out.shape
            results.append(out.view(N, -1, self.num_columns, H, W).permute(0, 3, 4, 1, 2)
                           .reshape(N, -1, self.num_columns))
        return ember.cat(results, dim=1)


class SSDClassificationHead(SSDScoringHead):
    def __init__(self, in_channels, num_anchors, num_classes):
        cls_logits = nn.ModuleList([nn.Conv2d(c, num_classes * a, kernel_size=3, padding=1)
                                    for c, a in zip(in_channels, num_anchors)])
        _xavier_init(cls_logits)
        super().__init__(cls_logits, num_classes)


class SSDRegressionHead(SSDScoringHead):
    def __init__(self, in_channels, num_anchors):
        bbox_reg = nn.ModuleList([nn.Conv2d(c, 4 * a, kernel_size=3, padding=1)
                                  for c, a in zip(in_channels, num_anchors)])
        _xavier_init(bbox_reg)
        super().__init__(bbox_reg, 4)


class SSD(nn.Module):
    """SSD on ``backbone`` (a dict of feature maps) with ``anchor_generator``'s default boxes at the fixed input
    ``size``: training returns ``{'bbox_regression', 'classification'}`` losses (hard negatives at
    ``(1 - positive_fraction) / positive_fraction`` per positive), eval per-image ``{'boxes', 'scores',
    'labels'}``."""

    def __init__(self, backbone, anchor_generator, size, num_classes, image_mean=None, image_std=None, head=None,
                 score_thresh=0.01, nms_thresh=0.45, detections_per_img=200, iou_thresh=0.5, topk_candidates=400,
                 positive_fraction=0.25, **kwargs):
        super().__init__()
        self.backbone = backbone
        self.anchor_generator = anchor_generator
        self.box_coder = det_utils.BoxCoder(weights=(10.0, 10.0, 5.0, 5.0))
        if head is None:
            out_channels = getattr(backbone, 'out_channels', None) or det_utils.retrieve_out_channels(backbone, size)
            if len(out_channels) != len(anchor_generator.aspect_ratios):
                raise ValueError(f'The length of the output channels from the backbone ({len(out_channels)}) do not '
                                 'match the length of the anchor generator aspect ratios '
                                 f'({len(anchor_generator.aspect_ratios)})')
            head = SSDHead(out_channels, self.anchor_generator.num_anchors_per_location(), num_classes)
        self.head = head
        self.proposal_matcher = det_utils.SSDMatcher(iou_thresh)
        image_mean = [0.485, 0.456, 0.406] if image_mean is None else image_mean
        image_std = [0.229, 0.224, 0.225] if image_std is None else image_std
        self.transform = GeneralizedRCNNTransform(min(size), max(size), image_mean, image_std, size_divisible=1,
                                                  fixed_size=size, **kwargs)
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.topk_candidates = topk_candidates
        self.neg_to_pos_ratio = (1.0 - positive_fraction) / positive_fraction
        self._has_warned = False

    def eager_outputs(self, losses, detections):
        return losses if self.training else detections

    def _image_targets(self, target, regression, logits, anchors, matched):
        """One image's summed smooth L1 over its foreground default boxes, its class targets, foreground
        count."""
        fg = ember.where(matched >= 0)[0]
        fg_matched = matched[fg]
        target_regression = self.box_coder.encode_single(target['boxes'][fg_matched], anchors[fg, :])
        box_loss = F.smooth_l1_loss(regression[fg, :], target_regression, reduction='sum')
        classes = ember.zeros((logits.size(0),), dtype=target['labels'].dtype)
        classes[fg] = target['labels'][fg_matched]
        return box_loss, classes, fg_matched.numel()

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
        parts = [self._image_targets(*args) for args in zip(targets, head_outputs['bbox_regression'],
                                                             head_outputs['cls_logits'], anchors, matched_idxs)]
        bbox_loss = ember.stack([p[0] for p in parts])
        cls_targets = ember.stack([p[1] for p in parts])
        num_foreground = sum(p[2] for p in parts)
        cls_logits = head_outputs['cls_logits']
        num_classes = cls_logits.size(-1)
        cls_loss = F.cross_entropy(cls_logits.view(-1, num_classes), cls_targets.view(-1),
                                   reduction='none').view(cls_targets.size())
        foreground = cls_targets > 0
        num_negative = self.neg_to_pos_ratio * foreground.sum(1, keepdim=True)
        negative_loss = cls_loss.clone()
        negative_loss[foreground] = -float('inf')
        _, idx = negative_loss.sort(1, descending=True)
        background = idx.sort(1)[1] < num_negative              # the hardest negatives, by their loss's rank
        N = max(1, num_foreground)
        return {'bbox_regression': bbox_loss.sum() / N,
                'classification': (cls_loss[foreground].sum() + cls_loss[background].sum()) / N}

    def _match(self, anchors, targets):
        matched_idxs = []
        for image_anchors, target in zip(anchors, targets):
            if target['boxes'].numel() == 0:
                matched_idxs.append(ember.full((image_anchors.size(0),), -1, dtype=ember.int64))
            else:
                matched_idxs.append(self.proposal_matcher(box_ops.box_iou(target['boxes'], image_anchors)))
        return matched_idxs

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
            return self.eager_outputs(self.compute_loss(targets, head_outputs, anchors,
                                                        self._match(anchors, targets)), [])
        detections = self.postprocess_detections(head_outputs, anchors, images.image_sizes)
        return self.eager_outputs({}, self.transform.postprocess(detections, images.image_sizes,
                                                                 original_image_sizes))

    def _class_candidates(self, boxes, scores, label):
        """The best ``topk_candidates`` boxes of one class above ``score_thresh``."""
        score = scores[:, label]
        keep = score > self.score_thresh
        score, box = score[keep], boxes[keep]
        score, idxs = score.topk(det_utils._topk_min(score, self.topk_candidates, 0))
        return box[idxs], score, ember.full_like(score, fill_value=label, dtype=ember.int64)

    def postprocess_detections(self, head_outputs, image_anchors, image_shapes):
        """Per image: boxes decoded and clipped, per foreground class the best candidates, NMS per class."""
        pred_scores = F.softmax(head_outputs['cls_logits'], dim=-1)
        num_classes = pred_scores.size(-1)
        detections = []
        for boxes, scores, anchors, image_shape in zip(head_outputs['bbox_regression'], pred_scores, image_anchors,
                                                       image_shapes):
            boxes = box_ops.clip_boxes_to_image(self.box_coder.decode_single(boxes, anchors), image_shape)
            boxes, scores, labels = (ember.cat(parts, dim=0) for parts in
                                     zip(*[self._class_candidates(boxes, scores, c) for c in range(1, num_classes)]))
            keep = box_ops.batched_nms(boxes, scores, labels, self.nms_thresh)[:self.detections_per_img]
            detections.append({'boxes': boxes[keep], 'scores': scores[keep], 'labels': labels[keep]})
        return detections


def _relu_block(*convs):
    """Each convolution followed by an in-place ReLU."""
    layers = []
    for conv in convs:
        layers += [conv, nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class SSDFeatureExtractorVGG(nn.Module):
    """VGG16's features up to conv4_3 (L2-normalized and scaled by a learned per-channel weight, 20 at start),
    then the converted fc6/fc7 block and the extra blocks, each output one feature map."""

    def __init__(self, backbone, highres):
        super().__init__()
        _, _, maxpool3_pos, maxpool4_pos, _ = (i for i, layer in enumerate(backbone) if isinstance(layer, nn.MaxPool2d))
        backbone[maxpool3_pos].ceil_mode = True
        self.scale_weight = nn.Parameter(ember.ones(512) * 20)
        self.features = nn.Sequential(*backbone[:maxpool4_pos])
        extra = nn.ModuleList([
            _relu_block(nn.Conv2d(1024, 256, kernel_size=1), nn.Conv2d(256, 512, kernel_size=3, padding=1, stride=2)),
            _relu_block(nn.Conv2d(512, 128, kernel_size=1), nn.Conv2d(128, 256, kernel_size=3, padding=1, stride=2)),
            _relu_block(nn.Conv2d(256, 128, kernel_size=1), nn.Conv2d(128, 256, kernel_size=3)),
            _relu_block(nn.Conv2d(256, 128, kernel_size=1), nn.Conv2d(128, 256, kernel_size=3)),
        ])
        if highres:
            extra.append(_relu_block(nn.Conv2d(256, 128, kernel_size=1), nn.Conv2d(128, 256, kernel_size=4)))
        _xavier_init(extra)
        fc = nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=False),
                           *_relu_block(nn.Conv2d(in_channels=512, out_channels=1024, kernel_size=3, padding=6,
                                                  dilation=6),
                                        nn.Conv2d(in_channels=1024, out_channels=1024, kernel_size=1)))
        _xavier_init(fc)
        extra.insert(0, nn.Sequential(*backbone[maxpool4_pos:-1], fc))
        self.extra = extra

    def forward(self, x):
        x = self.features(x)
        output = [self.scale_weight.view(1, -1, 1, 1) * F.normalize(x)]
        for block in self.extra:
            x = block(x)
            output.append(x)
        return OrderedDict([(str(i), v) for i, v in enumerate(output)])


def _vgg_extractor(backbone, highres, trainable_layers):
    backbone = backbone.features
    stage_indices = [0] + [i for i, b in enumerate(backbone) if isinstance(b, nn.MaxPool2d)][:-1]
    num_stages = len(stage_indices)
    freeze_before = len(backbone) if trainable_layers == 0 else stage_indices[num_stages - trainable_layers]
    for block in backbone[:freeze_before]:
        for parameter in block.parameters():
            parameter.requires_grad_(False)
    return SSDFeatureExtractorVGG(backbone, highres)


class SSD300_VGG16_Weights(WeightsEnum):
    COCO_V1 = _coco_weights('ssd300_vgg16_coco-b556d3b4.pth', 35641826, _RECIPE + 'ssd300-vgg16', {'box_map': 25.1},
                            34.858, 135.988)
    DEFAULT = COCO_V1


@detection_builder(SSD300_VGG16_Weights, VGG16_Weights.IMAGENET1K_FEATURES)
def ssd300_vgg16(*, weights=None, progress=True, num_classes=None, weights_backbone=VGG16_Weights.IMAGENET1K_FEATURES,
                 trainable_backbone_layers=None, **kwargs):
    """SSD300 on VGG16 (``weights``: ``SSD300_VGG16_Weights``; 91 COCO classes by default; input fixed at
    300x300)."""
    weights, weights_backbone, num_classes = _prepare(weights, SSD300_VGG16_Weights, weights_backbone, VGG16_Weights,
                                                      num_classes)
    if 'size' in kwargs:
        warnings.warn('The size of the model is already fixed; ignoring the parameter.')
    trainable = _validate_trainable_layers(weights is not None or weights_backbone is not None,
                                           trainable_backbone_layers, 5, 4)
    backbone = _vgg_extractor(vgg16(weights=weights_backbone, progress=progress), False, trainable)
    anchor_generator = DefaultBoxGenerator([[2], [2, 3], [2, 3], [2, 3], [2], [2]],
                                           scales=[0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
                                           steps=[8, 16, 32, 64, 100, 300])
    defaults = {'image_mean': [0.48235, 0.45882, 0.40784], 'image_std': [1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0]}
    model = SSD(backbone, anchor_generator, (300, 300), num_classes, **{**defaults, **kwargs})
    return _load(model, weights, progress)
