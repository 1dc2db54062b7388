"""``torchvision.ops``: the building blocks torchvision's models share, and the detection ops (box utilities, NMS,
IoU losses, RoI pooling). Rotated boxes, deformable convolution and position-sensitive RoI pooling are not
provided."""
from .boxes import (batched_nms, box_area, box_convert, box_iou, clip_boxes_to_image, complete_box_iou,
                    distance_box_iou, generalized_box_iou, masks_to_boxes, nms, remove_small_boxes)
from .losses import complete_box_iou_loss, distance_box_iou_loss, generalized_box_iou_loss, sigmoid_focal_loss
from .misc import MLP, Conv2dNormActivation, Permute, SqueezeExcitation
from .roi_align import RoIAlign, RoIPool, roi_align, roi_pool
from .stochastic_depth import StochasticDepth, stochastic_depth

__all__ = ['masks_to_boxes', 'nms', 'batched_nms', 'remove_small_boxes', 'clip_boxes_to_image', 'box_convert',
           'box_area', 'box_iou', 'generalized_box_iou', 'distance_box_iou', 'complete_box_iou', 'roi_align',
           'RoIAlign', 'roi_pool', 'RoIPool', 'sigmoid_focal_loss', 'stochastic_depth', 'StochasticDepth',
           'Conv2dNormActivation', 'SqueezeExcitation', 'MLP', 'Permute', 'generalized_box_iou_loss',
           'distance_box_iou_loss', 'complete_box_iou_loss']
