"""Detection losses of ``torchvision.ops``: the sigmoid focal loss (RetinaNet) and the generalized / distance /
complete IoU losses of matched box pairs, in torchvision's order of arithmetic."""
import ember
from ember.nn import functional as F

from .boxes import _aspect_term, _upcast_non_float

__all__ = ['sigmoid_focal_loss', 'generalized_box_iou_loss', 'distance_box_iou_loss', 'complete_box_iou_loss']


def _reduce(loss, reduction, empty_mean=False):
    """``loss`` reduced by 'none', 'mean' or 'sum'; with ``empty_mean`` the mean of no elements is a zero that
    keeps the graph (the box losses' rule)."""
    if reduction == 'none':
        return loss
    if reduction == 'mean':
        return loss.mean() if loss.numel() > 0 or not empty_mean else 0.0 * loss.sum()
    if reduction == 'sum':
        return loss.sum()
    raise ValueError(f"Invalid Value for arg 'reduction': '{reduction} \n Supported reduction modes: 'none', 'mean', "
                     "'sum'")


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction='none'):
    """Binary cross-entropy on logits scaled by ``(1 - p_t) ** gamma`` and, unless ``alpha`` is -1, by the class
    weight ``alpha_t`` (Lin et al., Focal Loss for Dense Object Detection)."""
    if not (0 <= alpha <= 1) and alpha != -1:
        raise ValueError(f'Invalid alpha value: {alpha}. alpha must be in the range [0,1] or -1 for ignore.')
    p = ember.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction='none')
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return _reduce(loss, reduction)


def _loss_inter_union(boxes1, boxes2):
    """Elementwise intersection (zero where the boxes do not overlap) and union of matched xyxy boxes."""
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xkis1, ykis1 = ember.max(x1, x1g), ember.max(y1, y1g)
    xkis2, ykis2 = ember.min(x2, x2g), ember.min(y2, y2g)
    intsctk = ember.zeros_like(x1)
    mask = (ykis2 > ykis1) & (xkis2 > xkis1)
    intsctk[mask] = (xkis2[mask] - xkis1[mask]) * (ykis2[mask] - ykis1[mask])
    return intsctk, (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intsctk


def _enclosing(boxes1, boxes2):
    """Corners (xc1, yc1, xc2, yc2) of the box enclosing each matched pair."""
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    return ember.min(x1, x1g), ember.min(y1, y1g), ember.max(x2, x2g), ember.max(y2, y2g)


def generalized_box_iou_loss(boxes1, boxes2, reduction='none', eps=1e-7):
    """``1 - GIoU`` of matched xyxy boxes."""
    boxes1, boxes2 = _upcast_non_float(boxes1), _upcast_non_float(boxes2)
    intsctk, unionk = _loss_inter_union(boxes1, boxes2)
    iouk = intsctk / (unionk + eps)
    xc1, yc1, xc2, yc2 = _enclosing(boxes1, boxes2)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    loss = 1 - (iouk - ((area_c - unionk) / (area_c + eps)))
    return _reduce(loss, reduction, empty_mean=True)


def _diou_iou_loss(boxes1, boxes2, eps=1e-7):
    """``1 - DIoU`` of matched boxes, and their IoU."""
    intsct, union = _loss_inter_union(boxes1, boxes2)
    iou = intsct / (union + eps)
    xc1, yc1, xc2, yc2 = _enclosing(boxes1, boxes2)
    diagonal = ((xc2 - xc1) ** 2) + ((yc2 - yc1) ** 2) + eps
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    centres = (((x2 + x1) / 2 - (x1g + x2g) / 2) ** 2) + (((y2 + y1) / 2 - (y1g + y2g) / 2) ** 2)
    return 1 - iou + (centres / diagonal), iou


def distance_box_iou_loss(boxes1, boxes2, reduction='none', eps=1e-7):
    """``1 - DIoU`` of matched xyxy boxes."""
    boxes1, boxes2 = _upcast_non_float(boxes1), _upcast_non_float(boxes2)
    return _reduce(_diou_iou_loss(boxes1, boxes2, eps)[0], reduction, empty_mean=True)


def complete_box_iou_loss(boxes1, boxes2, reduction='none', eps=1e-7):
    """``1 - CIoU`` of matched xyxy boxes (the aspect term's weight alpha carries no gradient). The DIoU part
    uses the default eps whatever ``eps`` is, as torchvision's does."""
    boxes1, boxes2 = _upcast_non_float(boxes1), _upcast_non_float(boxes2)
    diou_loss, iou = _diou_iou_loss(boxes1, boxes2)
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    v = _aspect_term(x2g - x1g, y2g - y1g, x2 - x1, y2 - y1)
    with ember.no_grad():
        alpha = v / (1 - iou + v + eps)
    return _reduce(diou_loss + alpha * v, reduction, empty_mean=True)
