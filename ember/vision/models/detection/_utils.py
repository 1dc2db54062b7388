"""The pieces torchvision's detectors share: the box coders (deltas against reference boxes), the IoU matcher
that assigns ground truth to anchors or proposals, the positive/negative sampler, and small helpers."""
import math
from collections import OrderedDict

import ember
from ember.nn import functional as F

from ...ops import complete_box_iou_loss, distance_box_iou_loss, FrozenBatchNorm2d, generalized_box_iou_loss

__all__ = ['BalancedPositiveNegativeSampler', 'BoxCoder', 'BoxLinearCoder', 'Matcher', 'SSDMatcher', 'encode_boxes',
           'overwrite_eps', 'retrieve_out_channels']


class BalancedPositiveNegativeSampler:
    """Per image, up to ``batch_size_per_image`` elements of which at most ``positive_fraction`` are positives
    (matched index >= 1), the rest negatives (== 0), drawn at random (``randperm``); -1 is never drawn."""

    def __init__(self, batch_size_per_image, positive_fraction):
        self.batch_size_per_image = batch_size_per_image
        self.positive_fraction = positive_fraction

    def __call__(self, matched_idxs):
        """Two lists of uint8 masks, one per image: the sampled positives and the sampled negatives."""
        pos_masks, neg_masks = [], []
        for matched in matched_idxs:
            positive = ember.where(matched >= 1)[0]
            negative = ember.where(matched == 0)[0]
            num_pos = min(positive.numel(), int(self.batch_size_per_image * self.positive_fraction))
            num_neg = min(negative.numel(), self.batch_size_per_image - num_pos)
            chosen_pos = positive[ember.randperm(positive.numel())[:num_pos]]
            chosen_neg = negative[ember.randperm(negative.numel())[:num_neg]]
            pos_masks.append(_mask_of(matched, chosen_pos))
            neg_masks.append(_mask_of(matched, chosen_neg))
        return pos_masks, neg_masks


def _mask_of(like, idx):
    """A uint8 tensor shaped like ``like``: 1 at ``idx``, else 0."""
    mask = ember.zeros_like(like, dtype=ember.uint8)
    mask[idx] = 1
    return mask


def _corner_columns(boxes):
    """The four coordinate columns of ``[N, 4]`` xyxy boxes, each ``[N, 1]``."""
    return [boxes[:, k].unsqueeze(1) for k in range(4)]


def encode_boxes(reference_boxes, proposals, weights):
    """The deltas ``(dx, dy, dw, dh)`` (scaled by ``weights``) that move each proposal onto its reference box."""
    wx, wy, ww, wh = weights[0], weights[1], weights[2], weights[3]
    px1, py1, px2, py2 = _corner_columns(proposals)
    gx1, gy1, gx2, gy2 = _corner_columns(reference_boxes)
    ex_w, ex_h = px2 - px1, py2 - py1
    ex_cx, ex_cy = px1 + 0.5 * ex_w, py1 + 0.5 * ex_h
    gt_w, gt_h = gx2 - gx1, gy2 - gy1
    gt_cx, gt_cy = gx1 + 0.5 * gt_w, gy1 + 0.5 * gt_h
    dx = wx * (gt_cx - ex_cx) / ex_w
    dy = wy * (gt_cy - ex_cy) / ex_h
    dw = ww * ember.log(gt_w / ex_w)
    dh = wh * ember.log(gt_h / ex_h)
    return ember.cat((dx, dy, dw, dh), dim=1)


class BoxCoder:
    """R-CNN's box parametrization: centre offsets relative to the reference's size and log size ratios, each
    scaled by ``weights``; decoded log ratios are clipped at ``bbox_xform_clip``."""

    def __init__(self, weights, bbox_xform_clip=math.log(1000.0 / 16)):
        self.weights = weights
        self.bbox_xform_clip = bbox_xform_clip

    def encode(self, reference_boxes, proposals):
        """Per-image lists in, per-image deltas out (split back by the images' box counts)."""
        counts = [len(b) for b in reference_boxes]
        targets = self.encode_single(ember.cat(reference_boxes, dim=0), ember.cat(proposals, dim=0))
        return targets.split(counts, 0)

    def encode_single(self, reference_boxes, proposals):
        weights = ember.as_tensor(self.weights, dtype=reference_boxes.dtype)
        return encode_boxes(reference_boxes, proposals, weights)

    def decode(self, rel_codes, boxes):
        """``rel_codes`` ``[sum(N_i), K * 4]`` applied to the per-image ``boxes``: ``[sum(N_i), K, 4]``."""
        if not isinstance(boxes, (list, tuple)):
            raise AssertionError('This function expects boxes of type list or tuple.')
        if not isinstance(rel_codes, ember.Tensor):
            raise AssertionError('This function expects rel_codes of type torch.Tensor.')
        total = sum(b.size(0) for b in boxes)
        if total > 0:
            rel_codes = rel_codes.reshape(total, -1)
        pred_boxes = self.decode_single(rel_codes, ember.cat(boxes, dim=0))
        return pred_boxes.reshape(total, -1, 4) if total > 0 else pred_boxes

    def decode_single(self, rel_codes, boxes):
        """Boxes ``[N, K * 4]``: the deltas of each of the K groups applied to the reference ``boxes`` ``[N, 4]``."""
        boxes = boxes.to(rel_codes.dtype)
        widths = boxes[:, 2] - boxes[:, 0]
        heights = boxes[:, 3] - boxes[:, 1]
        ctr_x = boxes[:, 0] + 0.5 * widths
        ctr_y = boxes[:, 1] + 0.5 * heights
        wx, wy, ww, wh = self.weights
        dx = rel_codes[:, 0::4] / wx
        dy = rel_codes[:, 1::4] / wy
        dw = ember.clamp(rel_codes[:, 2::4] / ww, max=self.bbox_xform_clip)
        dh = ember.clamp(rel_codes[:, 3::4] / wh, max=self.bbox_xform_clip)
        pred_ctr_x = dx * widths[:, None] + ctr_x[:, None]
        pred_ctr_y = dy * heights[:, None] + ctr_y[:, None]
        half_w = ember.tensor(0.5, dtype=pred_ctr_x.dtype) * (ember.exp(dw) * widths[:, None])
        half_h = ember.tensor(0.5, dtype=pred_ctr_y.dtype) * (ember.exp(dh) * heights[:, None])
        corners = (pred_ctr_x - half_w, pred_ctr_y - half_h, pred_ctr_x + half_w, pred_ctr_y + half_h)
        return ember.stack(corners, dim=2).flatten(1)


class BoxLinearCoder:
    """FCOS's parametrization: the distances from the reference box's centre to the four edges of the target,
    divided by the reference's width/height when ``normalize_by_size``."""

    def __init__(self, normalize_by_size=True):
        self.normalize_by_size = normalize_by_size

    @staticmethod
    def _sizes(boxes):
        w = boxes[..., 2] - boxes[..., 0]
        h = boxes[..., 3] - boxes[..., 1]
        return ember.stack((w, h, w, h), dim=-1)

    def encode(self, reference_boxes, proposals):
        cx = 0.5 * (reference_boxes[..., 0] + reference_boxes[..., 2])
        cy = 0.5 * (reference_boxes[..., 1] + reference_boxes[..., 3])
        targets = ember.stack((cx - proposals[..., 0], cy - proposals[..., 1], proposals[..., 2] - cx,
                               proposals[..., 3] - cy), dim=-1)
        return targets / self._sizes(reference_boxes) if self.normalize_by_size else targets

    def decode(self, rel_codes, boxes):
        boxes = boxes.to(dtype=rel_codes.dtype)
        cx = 0.5 * (boxes[..., 0] + boxes[..., 2])
        cy = 0.5 * (boxes[..., 1] + boxes[..., 3])
        if self.normalize_by_size:
            rel_codes = rel_codes * self._sizes(boxes)
        return ember.stack((cx - rel_codes[..., 0], cy - rel_codes[..., 1], cx + rel_codes[..., 2],
                            cy + rel_codes[..., 3]), dim=-1)


class Matcher:
    """Assigns each of N predictions the ground truth (of M) it overlaps most, given the ``[M, N]`` quality
    matrix: -1 (``BELOW_LOW_THRESHOLD``) below ``low_threshold``, -2 (``BETWEEN_THRESHOLDS``) below
    ``high_threshold``. ``allow_low_quality_matches`` restores the match of each prediction that is some ground
    truth's best (ties included)."""
    BELOW_LOW_THRESHOLD = -1
    BETWEEN_THRESHOLDS = -2

    def __init__(self, high_threshold, low_threshold, allow_low_quality_matches=False):
        if low_threshold > high_threshold:
            raise AssertionError('low_threshold should be <= high_threshold')
        self.high_threshold = high_threshold
        self.low_threshold = low_threshold
        self.allow_low_quality_matches = allow_low_quality_matches

    def __call__(self, match_quality_matrix):
        if match_quality_matrix.numel() == 0:
            if match_quality_matrix.shape[0] == 0:
                raise ValueError('No ground-truth boxes available for one of the images during training')
            raise ValueError('No proposal boxes available for one of the images during training')
        matched_vals, matches = match_quality_matrix.max(dim=0)
        all_matches = matches.clone() if self.allow_low_quality_matches else None
        below = matched_vals < self.low_threshold
        between = (matched_vals >= self.low_threshold) & (matched_vals < self.high_threshold)
        matches[below] = self.BELOW_LOW_THRESHOLD
        matches[between] = self.BETWEEN_THRESHOLDS
        if all_matches is not None:
            self.set_low_quality_matches_(matches, all_matches, match_quality_matrix)
        return matches

    def set_low_quality_matches_(self, matches, all_matches, match_quality_matrix):
        """Give back their original match to the predictions that are the best of some ground truth."""
        best_per_gt, _ = match_quality_matrix.max(dim=1)
        pred_inds = ember.where(match_quality_matrix == best_per_gt[:, None])[1]
        matches[pred_inds] = all_matches[pred_inds]


class SSDMatcher(Matcher):
    """SSD's matcher: one threshold, and every ground truth keeps its best default box whatever the IoU."""

    def __init__(self, threshold):
        super().__init__(threshold, threshold, allow_low_quality_matches=False)

    def __call__(self, match_quality_matrix):
        matches = super().__call__(match_quality_matrix)
        _, best_pred_per_gt = match_quality_matrix.max(dim=1)
        matches[best_pred_per_gt] = ember.arange(best_pred_per_gt.size(0), dtype=ember.int64)
        return matches


def overwrite_eps(model, eps):
    """Set the ``eps`` of every FrozenBatchNorm2d in ``model`` (old checkpoints were trained with eps 0)."""
    for module in model.modules():
        if isinstance(module, FrozenBatchNorm2d):
            module.eps = eps


def retrieve_out_channels(model, size):
    """The channel counts of ``model``'s outputs on a zero image of ``size`` (run in eval mode, no grad)."""
    was_training = model.training
    model.eval()
    with ember.no_grad():
        features = model(ember.zeros((1, 3, size[1], size[0])))
        if isinstance(features, ember.Tensor):
            features = OrderedDict([('0', features)])
        out_channels = [x.size(1) for x in features.values()]
    if was_training:
        model.train()
    return out_channels


def _topk_min(input, orig_kval, axis):
    """``orig_kval`` capped at the size of ``input`` along ``axis``."""
    return min(orig_kval, input.size(axis))


def _box_loss(type, box_coder, anchors_per_image, matched_gt_boxes_per_image, bbox_regression_per_image, cnf=None):
    """Summed regression loss of one image: on the encoded deltas (l1, smooth_l1) or on the decoded boxes (the
    IoU losses)."""
    if type not in ['l1', 'smooth_l1', 'ciou', 'diou', 'giou']:
        raise AssertionError(f'Unsupported loss: {type}')
    if type in ('l1', 'smooth_l1'):
        target = box_coder.encode_single(matched_gt_boxes_per_image, anchors_per_image)
        if type == 'l1':
            return F.l1_loss(bbox_regression_per_image, target, reduction='sum')
        beta = cnf['beta'] if cnf is not None and 'beta' in cnf else 1.0
        return F.smooth_l1_loss(bbox_regression_per_image, target, reduction='sum', beta=beta)
    boxes = box_coder.decode_single(bbox_regression_per_image, anchors_per_image)
    eps = cnf['eps'] if cnf is not None and 'eps' in cnf else 1e-7
    loss = {'ciou': complete_box_iou_loss, 'diou': distance_box_iou_loss, 'giou': generalized_box_iou_loss}[type]
    return loss(boxes, matched_gt_boxes_per_image, reduction='sum', eps=eps)
