"""Box operations of ``torchvision.ops`` (axis-aligned boxes): areas, pairwise IoU and its generalized /
distance / complete forms, format conversion, clipping, small-box removal, masks to boxes, and greedy
non-maximum suppression. The IoU forms are ember tensor ops in torchvision's order of arithmetic, so values
round as torchvision's do and gradients flow (DETR trains through ``generalized_box_iou``); NMS returns indices
and is not differentiable."""
import numpy as np

import ember
from ember.aliasing import unsupported

__all__ = ['nms', 'batched_nms', 'remove_small_boxes', 'clip_boxes_to_image', 'box_convert', 'box_area', 'box_iou',
           'generalized_box_iou', 'distance_box_iou', 'complete_box_iou', 'masks_to_boxes']

_AXIS_ALIGNED = ('xyxy', 'xywh', 'cxcywh')
_ROTATED = ('cxcywhr', 'xywhr', 'xyxyxyxy')


def _upcast(t):
    """Floats narrower than float32 become float32 and integers narrower than int32 int32 (products of
    coordinates must not overflow)."""
    if t.is_floating_point():
        return t if t.dtype in (ember.float32, ember.float64) else t.float()
    return t if t.dtype in (ember.int32, ember.int64) else t.int()


def _upcast_non_float(t):
    """Anything but float32/float64 becomes float32 (the box losses' inputs)."""
    return t if t.dtype in (ember.float32, ember.float64) else t.float()


def _corners(boxes, fmt):
    """(left-top, right-bottom) corner pairs ``[..., 2]`` of ``boxes`` in an axis-aligned format, computed as
    torchvision computes them for the pairwise IoU."""
    if fmt == 'xyxy':
        return boxes[..., :2], boxes[..., 2:]
    if fmt == 'xywh':
        return boxes[..., :2], boxes[..., :2] + boxes[..., 2:]
    half = boxes[..., 2:] / 2
    return boxes[..., :2] - half, boxes[..., :2] + half


def box_area(boxes, fmt='xyxy'):
    """Areas of ``boxes`` (``[..., 4]``) in format ``fmt`` (xyxy, xywh or cxcywh)."""
    if fmt not in _AXIS_ALIGNED:
        raise ValueError(f'Unsupported Bounding Box area for given format {fmt}')
    boxes = _upcast(boxes)
    if fmt == 'xyxy':
        return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    return boxes[..., 2] * boxes[..., 3]


def _box_inter_union(boxes1, boxes2, fmt='xyxy'):
    """Pairwise intersection and union areas ``[..., N, M]``."""
    area1, area2 = box_area(boxes1, fmt=fmt), box_area(boxes2, fmt=fmt)
    if fmt not in _AXIS_ALIGNED:
        raise ValueError(f'Unsupported Box IoU Calculation for given fmt {fmt}.')
    (lt1, rb1), (lt2, rb2) = _corners(boxes1, fmt), _corners(boxes2, fmt)
    lt = ember.max(lt1[..., None, :], lt2[..., None, :, :])
    rb = ember.min(rb1[..., None, :], rb2[..., None, :, :])
    wh = _upcast(rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter, area1[..., None] + area2[..., None, :] - inter


def box_iou(boxes1, boxes2, fmt='xyxy'):
    """Pairwise intersection over union ``[..., N, M]`` of two sets of boxes."""
    if fmt in _AXIS_ALIGNED:
        inter, union = _box_inter_union(boxes1, boxes2, fmt=fmt)
        return inter / union
    if fmt in _ROTATED:
        raise NotImplementedError(unsupported('torchvision.ops.box_iou with rotated boxes', f'fmt={fmt!r}'))
    raise ValueError(f"Unsupported format '{fmt}'. Supported axis-aligned formats: {_AXIS_ALIGNED}. "
                     f'Supported rotated formats: {_ROTATED}.')


def _enclosing_wh(boxes1, boxes2):
    """Width and height ``[..., N, M, 2]`` of the smallest box enclosing each pair (xyxy boxes)."""
    lti = ember.min(boxes1[..., None, :2], boxes2[..., None, :, :2])
    rbi = ember.max(boxes1[..., None, 2:], boxes2[..., None, :, 2:])
    return _upcast(rbi - lti).clamp(min=0)


def generalized_box_iou(boxes1, boxes2):
    """Pairwise generalized IoU: IoU minus the share of the enclosing box that the union leaves empty."""
    inter, union = _box_inter_union(boxes1, boxes2)
    iou = inter / union
    whi = _enclosing_wh(boxes1, boxes2)
    areai = whi[..., 0] * whi[..., 1]
    return iou - (areai - union) / areai


def _box_diou_iou(boxes1, boxes2, eps=1e-7):
    """Pairwise distance IoU (IoU minus squared centre distance over squared enclosing diagonal) and IoU."""
    iou = box_iou(boxes1, boxes2)
    whi = _enclosing_wh(boxes1, boxes2)
    diagonal = (whi[..., 0] ** 2) + (whi[..., 1] ** 2) + eps
    x_p = (boxes1[..., 0] + boxes1[..., 2]) / 2
    y_p = (boxes1[..., 1] + boxes1[..., 3]) / 2
    x_g = (boxes2[..., 0] + boxes2[..., 2]) / 2
    y_g = (boxes2[..., 1] + boxes2[..., 3]) / 2
    centres = (_upcast(x_p[..., None] - x_g[..., None, :]) ** 2) + (_upcast(y_p[..., None] - y_g[..., None, :]) ** 2)
    return iou - (centres / diagonal), iou


def distance_box_iou(boxes1, boxes2, eps=1e-7):
    """Pairwise distance IoU (DIoU) of xyxy boxes."""
    return _box_diou_iou(_upcast(boxes1), _upcast(boxes2), eps=eps)[0]


def _aspect_term(w_a, h_a, w_b, h_b):
    """CIoU's aspect-ratio consistency ``4 / pi^2 * (atan(w_a / h_a) - atan(w_b / h_b))^2``."""
    return (4 / (ember.pi ** 2)) * ember.pow(ember.atan(w_a / h_a) - ember.atan(w_b / h_b), 2)


def complete_box_iou(boxes1, boxes2, eps=1e-7):
    """Pairwise complete IoU (CIoU): DIoU minus the aspect-ratio term weighted by a constant (no-grad) alpha."""
    boxes1, boxes2 = _upcast(boxes1), _upcast(boxes2)
    diou, iou = _box_diou_iou(boxes1, boxes2, eps)
    b1, b2 = boxes1[..., None, :], boxes2[..., None, :, :]
    v = _aspect_term(b1[..., 2] - b1[..., 0], b1[..., 3] - b1[..., 1], b2[..., 2] - b2[..., 0], b2[..., 3] - b2[..., 1])
    with ember.no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou - alpha * v


def box_convert(boxes, in_fmt, out_fmt):
    """``boxes`` (``[..., 4]``) converted between the xyxy, xywh and cxcywh formats."""
    if in_fmt not in _AXIS_ALIGNED + _ROTATED or out_fmt not in _AXIS_ALIGNED + _ROTATED:
        raise ValueError(f'Unsupported Bounding Box Conversions for given in_fmt {in_fmt} and out_fmt {out_fmt}')
    if in_fmt == out_fmt:
        return boxes.clone()
    if in_fmt in _ROTATED or out_fmt in _ROTATED:
        raise NotImplementedError(unsupported('torchvision.ops.box_convert of rotated boxes', f'{in_fmt} to {out_fmt}'))
    if in_fmt == 'xywh':
        boxes = _xywh_to_xyxy(boxes)
    elif in_fmt == 'cxcywh':
        boxes = _cxcywh_to_xyxy(boxes)
    if out_fmt == 'xywh':
        boxes = _xyxy_to_xywh(boxes)
    elif out_fmt == 'cxcywh':
        boxes = _xyxy_to_cxcywh(boxes)
    return boxes


def _cxcywh_to_xyxy(boxes):
    cx, cy, w, h = boxes.unbind(-1)
    return ember.stack((cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h), dim=-1)


def _xyxy_to_cxcywh(boxes):
    x1, y1, x2, y2 = boxes.unbind(-1)
    return ember.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=-1)


def _xywh_to_xyxy(boxes):
    x, y, w, h = boxes.unbind(-1)
    return ember.stack([x, y, x + w, y + h], dim=-1)


def _xyxy_to_xywh(boxes):
    x1, y1, x2, y2 = boxes.unbind(-1)
    return ember.stack([x1, y1, x2 - x1, y2 - y1], dim=-1)


def clip_boxes_to_image(boxes, size):
    """xyxy ``boxes`` clamped into an image of ``size`` (height, width)."""
    height, width = size
    xs = boxes[..., 0::2].clamp(min=0, max=width)
    ys = boxes[..., 1::2].clamp(min=0, max=height)
    return ember.stack((xs, ys), dim=boxes.dim()).reshape(boxes.shape)


def remove_small_boxes(boxes, min_size):
    """Indices of the boxes whose width and height are both at least ``min_size``."""
    ws, hs = boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]
    return ember.where((ws >= min_size) & (hs >= min_size))[0]


def masks_to_boxes(masks):
    """The xyxy box (float32) around the nonzero pixels of each of the ``[N, H, W]`` masks; zeros for an
    empty mask."""
    if masks.numel() == 0:
        return ember.zeros((0, 4), dtype=ember.float32)
    m = np.asarray(masks.detach().numpy()).astype(bool)
    rows, cols = m.any(axis=2), m.any(axis=1)
    h, w = m.shape[1:]
    y1, x1 = rows.argmax(1), cols.argmax(1)
    y2, x2 = h - 1 - rows[:, ::-1].argmax(1), w - 1 - cols[:, ::-1].argmax(1)
    out = np.stack([x1, y1, x2, y2], 1).astype(np.float32)
    out[~rows.any(1)] = 0
    return ember.tensor(out)


def _nms_keep(b, order, iou_threshold):
    """Greedy suppression over the boxes ``b`` (xyxy, a float array) visited in ``order``: each kept box drops
    every later box whose IoU with it exceeds the threshold. The arithmetic runs in the boxes' dtype, as
    torchvision's CPU kernel runs it."""
    x1, y1, x2, y2 = (b[order, k] for k in range(4))
    areas = (x2 - x1) * (y2 - y1)
    alive = np.ones(len(order), bool)
    keep = []
    zero = b.dtype.type(0)
    for i in range(len(order)):
        if not alive[i]:
            continue
        keep.append(order[i])
        rest = np.arange(i + 1, len(order))[alive[i + 1:]]
        if not rest.size:
            continue
        w = np.maximum(zero, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(zero, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        iou = inter / (areas[i] + areas[rest] - inter)
        alive[rest[iou.astype(np.float64) > iou_threshold]] = False    # the kernel compares in double
    return np.asarray(keep, np.int64)


def _stable_descending(s):
    """Indices sorting scores ``s`` high to low, ties in index order (a stable sort)."""
    return np.argsort(-s if s.dtype.kind == 'f' else -s.astype(np.float64), kind='stable')


def nms(boxes, scores, iou_threshold):
    """Indices (int64) of the xyxy ``boxes`` kept by greedy non-maximum suppression, highest score first: a box
    is dropped when its IoU with a kept, higher-scoring box exceeds ``iou_threshold``."""
    if boxes.dim() != 2 or boxes.size(1) != 4:
        raise RuntimeError(f'boxes should have 4 elements in dimension 1, got {boxes.size(-1)}')
    if scores.dim() != 1:
        raise RuntimeError(f'scores should be a 1d tensor, got {scores.dim()}D')
    if boxes.size(0) != scores.size(0):
        raise RuntimeError(f'boxes and scores should have same number of elements in dimension 0, got '
                           f'{boxes.size(0)} and {scores.size(0)}')
    b, s = boxes.detach().numpy(), scores.detach().numpy()
    if b.shape[0] == 0:
        return ember.empty((0,), dtype=ember.int64)
    return ember.tensor(_nms_keep(b, _stable_descending(s), iou_threshold))


def batched_nms(boxes, scores, idxs, iou_threshold):
    """NMS within each category of ``idxs`` (boxes of different categories never suppress each other); the
    kept indices, highest score first. Up to 4000 coordinates, the boxes of each category are shifted apart
    by the largest coordinate plus one and suppressed together, as torchvision does on the CPU; above that,
    category by category."""
    if boxes.numel() > 4000:
        return _batched_nms_by_category(boxes, scores, idxs, iou_threshold)
    if boxes.numel() == 0:
        return ember.empty((0,), dtype=ember.int64)
    offsets = idxs.to(boxes) * (boxes.max() + ember.tensor(1).to(boxes))
    return nms(boxes + offsets[:, None], scores, iou_threshold)


def _batched_nms_by_category(boxes, scores, idxs, iou_threshold):
    """batched_nms one category at a time: the union of each category's kept boxes, sorted by score."""
    b, s, ids = boxes.detach().numpy(), scores.detach().numpy(), idxs.detach().numpy()
    keep = np.zeros(len(s), bool)
    for c in np.unique(ids):
        members = np.nonzero(ids == c)[0]
        keep[members[_nms_keep(b[members], _stable_descending(s[members]), iou_threshold)]] = True
    kept = np.nonzero(keep)[0]
    return ember.tensor(kept[_stable_descending(s[kept])].astype(np.int64))
