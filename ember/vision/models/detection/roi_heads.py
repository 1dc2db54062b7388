"""The second stage of the R-CNN family: RoI-pooled features of the proposals go through the box head (class
scores and per-class box deltas) and, for Mask / Keypoint R-CNN, the mask and keypoint heads. Training samples
proposals against the targets and returns the losses; inference decodes, filters and NMSes the detections."""
import ember
from ember import nn
from ember.nn import functional as F

from ...ops import boxes as box_ops
from ...ops import roi_align
from . import _utils as det_utils

__all__ = ['RoIHeads', 'fastrcnn_loss', 'maskrcnn_loss', 'maskrcnn_inference', 'keypointrcnn_loss',
           'keypointrcnn_inference', 'paste_masks_in_image']


def fastrcnn_loss(class_logits, box_regression, labels, regression_targets):
    """Cross-entropy over the sampled proposals, and smooth L1 (beta 1/9) of the positives' deltas for their
    ground-truth class, summed and divided by the number of sampled proposals."""
    labels = ember.cat(labels, dim=0)
    regression_targets = ember.cat(regression_targets, dim=0)
    classification_loss = F.cross_entropy(class_logits, labels)
    pos = ember.where(labels > 0)[0]
    N = class_logits.shape[0]
    box_regression = box_regression.reshape(N, box_regression.size(-1) // 4, 4)
    box_loss = F.smooth_l1_loss(box_regression[pos, labels[pos]], regression_targets[pos], beta=1 / 9,
                                reduction='sum')
    return classification_loss, box_loss / labels.numel()


def maskrcnn_inference(x, labels):
    """Per image, the sigmoid mask ``[K, 1, M, M]`` of each detection's predicted class."""
    mask_prob = x.sigmoid()
    counts = [label.shape[0] for label in labels]
    labels = ember.cat(labels)
    mask_prob = mask_prob[ember.arange(x.shape[0]), labels][:, None]
    return mask_prob.split(counts, dim=0)


def project_masks_on_boxes(gt_masks, boxes, matched_idxs, M):
    """The matched ground-truth masks cropped to the proposals and resampled to ``M x M`` (RoIAlign)."""
    rois = ember.cat([matched_idxs.to(boxes)[:, None], boxes], dim=1)
    return roi_align(gt_masks[:, None].to(rois), rois, (M, M), 1.0)[:, 0]


def maskrcnn_loss(mask_logits, proposals, gt_masks, gt_labels, mask_matched_idxs):
    """Per-pixel BCE of each positive proposal's mask logits for its ground-truth class against the projected
    target mask."""
    size = mask_logits.shape[-1]
    labels = ember.cat([gl[idxs] for gl, idxs in zip(gt_labels, mask_matched_idxs)], dim=0)
    mask_targets = ember.cat([project_masks_on_boxes(m, p, i, size)
                              for m, p, i in zip(gt_masks, proposals, mask_matched_idxs)], dim=0)
    if mask_targets.numel() == 0:
        return mask_logits.sum() * 0
    return F.binary_cross_entropy_with_logits(mask_logits[ember.arange(labels.shape[0]), labels], mask_targets)


def keypoints_to_heatmap(keypoints, rois, heatmap_size):
    """Each keypoint's flat cell index in its RoI's ``heatmap_size``-square grid, and whether it is valid
    (visible and inside the RoI)."""
    offset_x, offset_y = rois[:, 0][:, None], rois[:, 1][:, None]
    scale_x = (heatmap_size / (rois[:, 2] - rois[:, 0]))[:, None]
    scale_y = (heatmap_size / (rois[:, 3] - rois[:, 1]))[:, None]
    x, y = keypoints[..., 0], keypoints[..., 1]
    x_boundary = x == rois[:, 2][:, None]
    y_boundary = y == rois[:, 3][:, None]
    x = ((x - offset_x) * scale_x).floor().long()
    y = ((y - offset_y) * scale_y).floor().long()
    x[x_boundary] = heatmap_size - 1
    y[y_boundary] = heatmap_size - 1
    valid_loc = (x >= 0) & (y >= 0) & (x < heatmap_size) & (y < heatmap_size)
    valid = (valid_loc & (keypoints[..., 2] > 0)).long()
    return (y * heatmap_size + x) * valid, valid


def heatmaps_to_keypoints(maps, rois):
    """Keypoints ``[R, K, 3]`` (x, y, 1) at the argmax of each heatmap upsampled (bicubic) to its RoI's size,
    and the upsampled heatmap's value there ``[R, K]``."""
    offset_x, offset_y = rois[:, 0], rois[:, 1]
    widths = (rois[:, 2] - rois[:, 0]).clamp(min=1)
    heights = (rois[:, 3] - rois[:, 1]).clamp(min=1)
    widths_ceil, heights_ceil = widths.ceil(), heights.ceil()
    num_keypoints = maps.shape[1]
    xy_preds = ember.zeros((len(rois), 3, num_keypoints), dtype=ember.float32)
    end_scores = ember.zeros((len(rois), num_keypoints), dtype=ember.float32)
    for i in range(len(rois)):
        map_w, map_h = int(widths_ceil[i].item()), int(heights_ceil[i].item())
        roi_map = F.interpolate(maps[i][:, None], size=(map_h, map_w), mode='bicubic', align_corners=False)[:, 0]
        w = roi_map.shape[2]
        pos = roi_map.reshape(num_keypoints, -1).argmax(dim=1)
        x_int = pos % w
        y_int = ember.div(pos - x_int, w, rounding_mode='floor')
        xy_preds[i, 0, :] = (x_int.float() + 0.5) * (widths[i] / map_w) + offset_x[i]
        xy_preds[i, 1, :] = (y_int.float() + 0.5) * (heights[i] / map_h) + offset_y[i]
        xy_preds[i, 2, :] = 1
        end_scores[i, :] = roi_map[ember.arange(num_keypoints), y_int, x_int]
    return xy_preds.permute(0, 2, 1), end_scores


def keypointrcnn_loss(keypoint_logits, proposals, gt_keypoints, keypoint_matched_idxs):
    """Cross-entropy over each valid keypoint's ``H * W`` heatmap cells, the target being its cell."""
    N, K, H, W = keypoint_logits.shape
    if H != W:
        raise ValueError('keypoint_logits height and width (last two elements of shape) should be equal. Instead '
                         f'got H = {H} and W = {W}')
    heatmaps, valid = [], []
    for props, kps, midx in zip(proposals, gt_keypoints, keypoint_matched_idxs):
        heatmap, valid_image = keypoints_to_heatmap(kps[midx], props, H)
        heatmaps.append(heatmap.view(-1))
        valid.append(valid_image.view(-1))
    keypoint_targets = ember.cat(heatmaps, dim=0)
    valid = ember.where(ember.cat(valid, dim=0).to(dtype=ember.uint8))[0]
    if keypoint_targets.numel() == 0 or len(valid) == 0:
        return keypoint_logits.sum() * 0
    return F.cross_entropy(keypoint_logits.view(N * K, H * W)[valid], keypoint_targets[valid])


def keypointrcnn_inference(x, boxes):
    """Per image, the keypoints and their scores from the heatmaps ``x`` of its detections."""
    kp_probs, kp_scores = [], []
    for maps, image_boxes in zip(x.split([b.size(0) for b in boxes], dim=0), boxes):
        prob, scores = heatmaps_to_keypoints(maps, image_boxes)
        kp_probs.append(prob)
        kp_scores.append(scores)
    return kp_probs, kp_scores


def expand_boxes(boxes, scale):
    """The boxes scaled by ``scale`` about their centres."""
    w_half = (boxes[:, 2] - boxes[:, 0]) * 0.5 * scale
    h_half = (boxes[:, 3] - boxes[:, 1]) * 0.5 * scale
    x_c = (boxes[:, 2] + boxes[:, 0]) * 0.5
    y_c = (boxes[:, 3] + boxes[:, 1]) * 0.5
    return ember.stack((x_c - w_half, y_c - h_half, x_c + w_half, y_c + h_half), dim=1)


def expand_masks(mask, padding):
    """The masks zero-padded by ``padding`` on each side, and the scale that padding adds to a box."""
    M = mask.shape[-1]
    return F.pad(mask, (padding,) * 4), float(M + 2 * padding) / M


def paste_mask_in_image(mask, box, im_h, im_w):
    """One ``M x M`` mask resized (bilinear) to its integer box and placed in an ``im_h x im_w`` zero image."""
    x0, y0, x1, y1 = (int(v) for v in box.tolist())
    w, h = max(x1 - x0 + 1, 1), max(y1 - y0 + 1, 1)
    mask = F.interpolate(mask.expand((1, 1, -1, -1)), size=(h, w), mode='bilinear', align_corners=False)[0][0]
    im_mask = ember.zeros((im_h, im_w), dtype=mask.dtype)
    xa, xb = max(x0, 0), min(x1 + 1, im_w)
    ya, yb = max(y0, 0), min(y1 + 1, im_h)
    im_mask[ya:yb, xa:xb] = mask[ya - y0:yb - y0, xa - x0:xb - x0]
    return im_mask


def paste_masks_in_image(masks, boxes, img_shape, padding=1):
    """``[K, 1, M, M]`` masks pasted into full images ``[K, 1, H, W]`` (padded first, the boxes grown to
    match, so the mask's border is not cut)."""
    masks, scale = expand_masks(masks, padding=padding)
    boxes = expand_boxes(boxes, scale).to(dtype=ember.int64)
    im_h, im_w = img_shape
    pasted = [paste_mask_in_image(m[0], b, im_h, im_w) for m, b in zip(masks, boxes)]
    if pasted:
        return ember.stack(pasted, dim=0)[:, None]
    return masks.new_empty((0, 1, im_h, im_w))


class RoIHeads(nn.Module):
    """The box head (and optional mask / keypoint heads) over RoI-pooled proposals. ``forward(features,
    proposals, image_shapes, targets)`` returns ``(detections, losses)``: detections (dicts of boxes, labels,
    scores, masks, keypoints) in eval mode, losses in training."""

    def __init__(self, box_roi_pool, box_head, box_predictor, fg_iou_thresh, bg_iou_thresh, batch_size_per_image,
                 positive_fraction, bbox_reg_weights, score_thresh, nms_thresh, detections_per_img,
                 mask_roi_pool=None, mask_head=None, mask_predictor=None, keypoint_roi_pool=None, keypoint_head=None,
                 keypoint_predictor=None):
        super().__init__()
        self.box_similarity = box_ops.box_iou
        self.proposal_matcher = det_utils.Matcher(fg_iou_thresh, bg_iou_thresh, allow_low_quality_matches=False)
        self.fg_bg_sampler = det_utils.BalancedPositiveNegativeSampler(batch_size_per_image, positive_fraction)
        self.box_coder = det_utils.BoxCoder((10.0, 10.0, 5.0, 5.0) if bbox_reg_weights is None else bbox_reg_weights)
        self.box_roi_pool = box_roi_pool
        self.box_head = box_head
        self.box_predictor = box_predictor
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.mask_roi_pool = mask_roi_pool
        self.mask_head = mask_head
        self.mask_predictor = mask_predictor
        self.keypoint_roi_pool = keypoint_roi_pool
        self.keypoint_head = keypoint_head
        self.keypoint_predictor = keypoint_predictor

    def has_mask(self):
        return not (self.mask_roi_pool is None or self.mask_head is None or self.mask_predictor is None)

    def has_keypoint(self):
        return not (self.keypoint_roi_pool is None or self.keypoint_head is None or self.keypoint_predictor is None)

    def assign_targets_to_proposals(self, proposals, gt_boxes, gt_labels):
        """Per image: each proposal's matched ground-truth index (clamped to >= 0) and its class label (0 for
        background, -1 between the thresholds)."""
        matched_idxs, labels = [], []
        for props, boxes, image_labels in zip(proposals, gt_boxes, gt_labels):
            if boxes.numel() == 0:
                clamped = ember.zeros((props.shape[0],), dtype=ember.int64)
                props_labels = ember.zeros((props.shape[0],), dtype=ember.int64)
            else:
                matched = self.proposal_matcher(box_ops.box_iou(boxes, props))
                clamped = matched.clamp(min=0)
                props_labels = image_labels[clamped].to(dtype=ember.int64)
                props_labels[matched == self.proposal_matcher.BELOW_LOW_THRESHOLD] = 0
                props_labels[matched == self.proposal_matcher.BETWEEN_THRESHOLDS] = -1
            matched_idxs.append(clamped)
            labels.append(props_labels)
        return matched_idxs, labels

    def subsample(self, labels):
        """Per image, the indices of the sampled proposals (positives and negatives, in index order)."""
        pos, neg = self.fg_bg_sampler(labels)
        return [ember.where(p | n)[0] for p, n in zip(pos, neg)]

    def add_gt_proposals(self, proposals, gt_boxes):
        return [ember.cat((p, gt)) for p, gt in zip(proposals, gt_boxes)]

    def check_targets(self, targets):
        if targets is None:
            raise ValueError('targets should not be None')
        for key in ('boxes', 'labels') + (('masks',) if self.has_mask() else ()):
            if not all(key in t for t in targets):
                raise ValueError(f'Every element of targets should have a {key} key')

    def select_training_samples(self, proposals, targets):
        """The sampled proposals (ground truth added), their matched indices, labels and regression targets."""
        self.check_targets(targets)
        dtype = proposals[0].dtype
        gt_boxes = [t['boxes'].to(dtype) for t in targets]
        gt_labels = [t['labels'] for t in targets]
        proposals = self.add_gt_proposals(proposals, gt_boxes)
        matched_idxs, labels = self.assign_targets_to_proposals(proposals, gt_boxes, gt_labels)
        sampled = self.subsample(labels)
        matched_gt_boxes = []
        for i, inds in enumerate(sampled):
            proposals[i] = proposals[i][inds]
            labels[i] = labels[i][inds]
            matched_idxs[i] = matched_idxs[i][inds]
            boxes = gt_boxes[i] if gt_boxes[i].numel() else ember.zeros((1, 4), dtype=dtype)
            matched_gt_boxes.append(boxes[matched_idxs[i]])
        regression_targets = self.box_coder.encode(matched_gt_boxes, proposals)
        return proposals, matched_idxs, labels, regression_targets

    def postprocess_detections(self, class_logits, box_regression, proposals, image_shapes):
        """Per image: the class-specific boxes, scores and labels above ``score_thresh`` (background dropped),
        NMS'd per class, at most ``detections_per_img``."""
        num_classes = class_logits.shape[-1]
        counts = [p.shape[0] for p in proposals]
        pred_boxes = self.box_coder.decode(box_regression, proposals).split(counts, 0)
        pred_scores = F.softmax(class_logits, -1).split(counts, 0)
        all_boxes, all_scores, all_labels = [], [], []
        for boxes, scores, image_shape in zip(pred_boxes, pred_scores, image_shapes):
            boxes, scores, labels = self._detections_of_image(boxes, scores, image_shape, num_classes)
            all_boxes.append(boxes)
            all_scores.append(scores)
            all_labels.append(labels)
        return all_boxes, all_scores, all_labels

    def _detections_of_image(self, boxes, scores, image_shape, num_classes):
        boxes = box_ops.clip_boxes_to_image(boxes, image_shape)
        labels = ember.arange(num_classes).view(1, -1).expand_as(scores)
        boxes = boxes[:, 1:].reshape(-1, 4)
        scores = scores[:, 1:].reshape(-1)
        labels = labels[:, 1:].reshape(-1)
        inds = ember.where(scores > self.score_thresh)[0]
        boxes, scores, labels = boxes[inds], scores[inds], labels[inds]
        keep = box_ops.remove_small_boxes(boxes, min_size=1e-2)
        boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        keep = box_ops.batched_nms(boxes, scores, labels, self.nms_thresh)[:self.detections_per_img]
        return boxes[keep], scores[keep], labels[keep]

    def _check_target_types(self, targets):
        for t in targets:
            if t['boxes'].dtype not in (ember.float, ember.double, ember.half):
                raise TypeError(f"target boxes must of float type, instead got {t['boxes'].dtype}")
            if t['labels'].dtype != ember.int64:
                raise TypeError(f"target labels must of int64 type, instead got {t['labels'].dtype}")
            if self.has_keypoint() and t['keypoints'].dtype != ember.float32:
                raise TypeError(f"target keypoints must of float type, instead got {t['keypoints'].dtype}")

    def forward(self, features, proposals, image_shapes, targets=None):
        if targets is not None:
            self._check_target_types(targets)
        labels = regression_targets = matched_idxs = None
        if self.training:
            proposals, matched_idxs, labels, regression_targets = self.select_training_samples(proposals, targets)
        box_features = self.box_head(self.box_roi_pool(features, proposals, image_shapes))
        class_logits, box_regression = self.box_predictor(box_features)
        result, losses = [], {}
        if self.training:
            loss_classifier, loss_box_reg = fastrcnn_loss(class_logits, box_regression, labels, regression_targets)
            losses = {'loss_classifier': loss_classifier, 'loss_box_reg': loss_box_reg}
        else:
            boxes, scores, labels = self.postprocess_detections(class_logits, box_regression, proposals,
                                                                image_shapes)
            result = [{'boxes': b, 'labels': lab, 'scores': s} for b, s, lab in zip(boxes, scores, labels)]
        if self.has_mask():
            losses.update(self._mask_branch(features, proposals, image_shapes, targets, matched_idxs, labels,
                                            result))
        if self.has_keypoint():
            losses.update(self._keypoint_branch(features, proposals, image_shapes, targets, matched_idxs, labels,
                                                result))
        return result, losses

    def _positive_proposals(self, proposals, matched_idxs, labels):
        """Per image, the proposals with a foreground label and their matched ground-truth indices."""
        props, idxs = [], []
        for p, m, lab in zip(proposals, matched_idxs, labels):
            pos = ember.where(lab > 0)[0]
            props.append(p[pos])
            idxs.append(m[pos])
        return props, idxs

    def _mask_branch(self, features, proposals, image_shapes, targets, matched_idxs, labels, result):
        """The mask loss in training; in eval, each detection's mask probabilities added to ``result``."""
        if self.training:
            mask_proposals, pos_matched_idxs = self._positive_proposals(proposals, matched_idxs, labels)
        else:
            mask_proposals = [r['boxes'] for r in result]
        mask_logits = self.mask_predictor(self.mask_head(self.mask_roi_pool(features, mask_proposals, image_shapes)))
        if self.training:
            loss = maskrcnn_loss(mask_logits, mask_proposals, [t['masks'] for t in targets],
                                 [t['labels'] for t in targets], pos_matched_idxs)
            return {'loss_mask': loss}
        for mask_prob, r in zip(maskrcnn_inference(mask_logits, [r['labels'] for r in result]), result):
            r['masks'] = mask_prob
        return {}

    def _keypoint_branch(self, features, proposals, image_shapes, targets, matched_idxs, labels, result):
        """The keypoint loss in training; in eval, each detection's keypoints and scores added to ``result``."""
        if self.training:
            kp_proposals, pos_matched_idxs = self._positive_proposals(proposals, matched_idxs, labels)
        else:
            kp_proposals = [r['boxes'] for r in result]
        kp_features = self.keypoint_head(self.keypoint_roi_pool(features, kp_proposals, image_shapes))
        kp_logits = self.keypoint_predictor(kp_features)
        if self.training:
            loss = keypointrcnn_loss(kp_logits, kp_proposals, [t['keypoints'] for t in targets], pos_matched_idxs)
            return {'loss_keypoint': loss}
        for kp_prob, kp_score, r in zip(*keypointrcnn_inference(kp_logits, kp_proposals), result):
            r['keypoints'] = kp_prob
            r['keypoints_scores'] = kp_score
        return {}
