"""The region proposal network of Faster R-CNN: a small convolutional head scores and regresses the anchors of
every pyramid level; the best decoded anchors, after NMS per level, are the proposals."""
import ember
from ember import nn
from ember.nn import functional as F

from ...ops import boxes as box_ops
from ...ops import Conv2dNormActivation
from . import _utils as det_utils
from .anchor_utils import AnchorGenerator  # noqa: F401  (torchvision's rpn module exports it)
from .image_list import ImageList  # noqa: F401

__all__ = ['RPNHead', 'RegionProposalNetwork', 'concat_box_prediction_layers', 'permute_and_flatten']


class RPNHead(nn.Module):
    """``conv_depth`` 3x3 conv-ReLU layers shared by the levels, then 1x1 convolutions giving ``num_anchors``
    objectness logits and ``4 * num_anchors`` box deltas per cell."""
    _version = 2

    def __init__(self, in_channels, num_anchors, conv_depth=1):
        super().__init__()
        self.conv = nn.Sequential(*[Conv2dNormActivation(in_channels, in_channels, kernel_size=3, norm_layer=None)
                                    for _ in range(conv_depth)])
        self.cls_logits = nn.Conv2d(in_channels, num_anchors, kernel_size=1, stride=1)
        self.bbox_pred = nn.Conv2d(in_channels, num_anchors * 4, kernel_size=1, stride=1)
        for layer in self.modules():
            if isinstance(layer, nn.Conv2d):
                nn.init.normal_(layer.weight, std=0.01)
                if layer.bias is not None:
                    nn.init.constant_(layer.bias, 0)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Before version 2 the shared layer was a bare convolution: ``conv.weight`` becomes ``conv.0.0.weight``."""
        version = local_metadata.get('version', None)
        if version is None or version < 2:
            for kind in ('weight', 'bias'):
                old = f'{prefix}conv.{kind}'
                if old in state_dict:
                    state_dict[f'{prefix}conv.0.0.{kind}'] = state_dict.pop(old)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def forward(self, x):
        logits, bbox_reg = [], []
        for feature in x:
            t = self.conv(feature)
            logits.append(self.cls_logits(t))
            bbox_reg.append(self.bbox_pred(t))
        return logits, bbox_reg


def permute_and_flatten(layer, N, A, C, H, W):
    """``[N, A * C, H, W]`` to ``[N, H * W * A, C]`` (cell-major, as the anchors are laid out)."""
    return layer.view(N, -1, C, H, W).permute(0, 3, 4, 1, 2).reshape(N, -1, C)


def concat_box_prediction_layers(box_cls, box_regression):
    """The per-level head outputs flattened and concatenated over levels: ``[N * sum(HWA), C]`` scores and
    ``[N * sum(HWA), 4]`` deltas, in the anchors' order."""
    flat_cls, flat_reg = [], []
    for cls_level, reg_level in zip(box_cls, box_regression):
        N, AxC, H, W = cls_level.shape
        A = reg_level.shape[1] // 4
        flat_cls.append(permute_and_flatten(cls_level, N, A, AxC // A, H, W))
        flat_reg.append(permute_and_flatten(reg_level, N, A, 4, H, W))
    return ember.cat(flat_cls, dim=1).flatten(0, -2), ember.cat(flat_reg, dim=1).reshape(-1, 4)


class RegionProposalNetwork(nn.Module):
    """Proposals from ``head``'s outputs on the anchors of ``anchor_generator``: top ``pre_nms_top_n`` per level,
    clipped, small and low-scoring ones dropped, NMS per level, the best ``post_nms_top_n`` kept. In training it
    also returns the objectness (BCE) and box (smooth L1) losses on sampled anchors."""

    def __init__(self, anchor_generator, head, fg_iou_thresh, bg_iou_thresh, batch_size_per_image, positive_fraction,
                 pre_nms_top_n, post_nms_top_n, nms_thresh, score_thresh=0.0):
        super().__init__()
        self.anchor_generator = anchor_generator
        self.head = head
        self.box_coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
        self.box_similarity = box_ops.box_iou
        self.proposal_matcher = det_utils.Matcher(fg_iou_thresh, bg_iou_thresh, allow_low_quality_matches=True)
        self.fg_bg_sampler = det_utils.BalancedPositiveNegativeSampler(batch_size_per_image, positive_fraction)
        self._pre_nms_top_n = pre_nms_top_n
        self._post_nms_top_n = post_nms_top_n
        self.nms_thresh = nms_thresh
        self.score_thresh = score_thresh
        self.min_size = 1e-3

    def pre_nms_top_n(self):
        return self._pre_nms_top_n['training' if self.training else 'testing']

    def post_nms_top_n(self):
        return self._post_nms_top_n['training' if self.training else 'testing']

    def assign_targets_to_anchors(self, anchors, targets):
        """Per image: anchor labels (1 foreground, 0 background, -1 ignored) and each anchor's matched box."""
        labels, matched_gt_boxes = [], []
        for anchors_per_image, target in zip(anchors, targets):
            gt_boxes = target['boxes']
            if gt_boxes.numel() == 0:
                matched = ember.zeros(anchors_per_image.shape, dtype=ember.float32)
                image_labels = ember.zeros((anchors_per_image.shape[0],), dtype=ember.float32)
            else:
                matched_idxs = self.proposal_matcher(self.box_similarity(gt_boxes, anchors_per_image))
                matched = gt_boxes[matched_idxs.clamp(min=0)]
                image_labels = (matched_idxs >= 0).to(dtype=ember.float32)
                image_labels[matched_idxs == self.proposal_matcher.BELOW_LOW_THRESHOLD] = 0.0
                image_labels[matched_idxs == self.proposal_matcher.BETWEEN_THRESHOLDS] = -1.0
            labels.append(image_labels)
            matched_gt_boxes.append(matched)
        return labels, matched_gt_boxes

    def _get_top_n_idx(self, objectness, num_anchors_per_level):
        """Indices (into the concatenated levels) of the ``pre_nms_top_n`` best anchors of each level."""
        picked, offset = [], 0
        for ob in objectness.split(num_anchors_per_level, 1):
            k = det_utils._topk_min(ob, self.pre_nms_top_n(), 1)
            _, top_n_idx = ob.topk(k, dim=1)
            picked.append(top_n_idx + offset)
            offset += ob.shape[1]
        return ember.cat(picked, dim=1)

    def filter_proposals(self, proposals, objectness, image_shapes, num_anchors_per_level):
        """The kept proposals and their objectness probabilities, per image."""
        num_images = proposals.shape[0]
        objectness = objectness.detach().reshape(num_images, -1)
        levels = ember.cat([ember.full((n,), idx, dtype=ember.int64) for idx, n in enumerate(num_anchors_per_level)],
                           0).reshape(1, -1).expand_as(objectness)
        top_n_idx = self._get_top_n_idx(objectness, num_anchors_per_level)
        batch_idx = ember.arange(num_images)[:, None]
        objectness = objectness[batch_idx, top_n_idx]
        levels = levels[batch_idx, top_n_idx]
        proposals = proposals[batch_idx, top_n_idx]
        final_boxes, final_scores = [], []
        for boxes, scores, lvl, img_shape in zip(proposals, ember.sigmoid(objectness), levels, image_shapes):
            boxes, scores = self._filter_image(boxes, scores, lvl, img_shape)
            final_boxes.append(boxes)
            final_scores.append(scores)
        return final_boxes, final_scores

    def _filter_image(self, boxes, scores, lvl, img_shape):
        """One image's candidates clipped, without tiny or low-scoring boxes, NMS'd per level, the best kept."""
        boxes = box_ops.clip_boxes_to_image(boxes, img_shape)
        keep = box_ops.remove_small_boxes(boxes, self.min_size)
        boxes, scores, lvl = boxes[keep], scores[keep], lvl[keep]
        keep = ember.where(scores >= self.score_thresh)[0]
        boxes, scores, lvl = boxes[keep], scores[keep], lvl[keep]
        keep = box_ops.batched_nms(boxes, scores, lvl, self.nms_thresh)[:self.post_nms_top_n()]
        return boxes[keep], scores[keep]

    def compute_loss(self, objectness, pred_bbox_deltas, labels, regression_targets):
        """Objectness BCE over the sampled anchors, smooth L1 (beta 1/9) over the sampled positives divided by
        the number sampled."""
        sampled_pos, sampled_neg = self.fg_bg_sampler(labels)
        sampled_pos = ember.where(ember.cat(sampled_pos, dim=0))[0]
        sampled_neg = ember.where(ember.cat(sampled_neg, dim=0))[0]
        sampled = ember.cat([sampled_pos, sampled_neg], dim=0)
        objectness = objectness.flatten()
        labels = ember.cat(labels, dim=0)
        regression_targets = ember.cat(regression_targets, dim=0)
        box_loss = F.smooth_l1_loss(pred_bbox_deltas[sampled_pos], regression_targets[sampled_pos], beta=1 / 9,
                                    reduction='sum') / sampled.numel()
        objectness_loss = F.binary_cross_entropy_with_logits(objectness[sampled], labels[sampled])
        return objectness_loss, box_loss

    def forward(self, images, features, targets=None):
        """``(proposals per image, losses)``; the losses are empty outside training."""
        features = list(features.values())
        objectness, pred_bbox_deltas = self.head(features)
        anchors = self.anchor_generator(images, features)
        num_images = len(anchors)
        num_anchors_per_level = [o[0].shape[0] * o[0].shape[1] * o[0].shape[2] for o in objectness]
        objectness, pred_bbox_deltas = concat_box_prediction_layers(objectness, pred_bbox_deltas)
        proposals = self.box_coder.decode(pred_bbox_deltas.detach(), anchors).view(num_images, -1, 4)
        boxes, scores = self.filter_proposals(proposals, objectness, images.image_sizes, num_anchors_per_level)
        losses = {}
        if self.training:
            if targets is None:
                raise ValueError('targets should not be None')
            labels, matched_gt_boxes = self.assign_targets_to_anchors(anchors, targets)
            regression_targets = self.box_coder.encode(matched_gt_boxes, anchors)
            loss_objectness, loss_rpn_box_reg = self.compute_loss(objectness, pred_bbox_deltas, labels,
                                                                  regression_targets)
            losses = {'loss_objectness': loss_objectness, 'loss_rpn_box_reg': loss_rpn_box_reg}
        return boxes, losses
