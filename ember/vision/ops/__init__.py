"""``torchvision.ops``: the building blocks torchvision's models share, and the detection ops (box utilities, NMS,
IoU and focal losses, RoI pooling, FPN, DropBlock). Rotated boxes, deformable convolution and position-sensitive
RoI pooling are not provided (DeformConv2d and deform_conv2d are named, and refuse)."""
from .boxes import (batched_nms, box_area, box_convert, box_iou, clip_boxes_to_image, complete_box_iou,
                    distance_box_iou, generalized_box_iou, masks_to_boxes, nms, remove_small_boxes)
from .deform_conv import DeformConv2d, deform_conv2d
from .drop_block import DropBlock2d, DropBlock3d, drop_block2d, drop_block3d
from .feature_pyramid_network import FeaturePyramidNetwork
from .losses import complete_box_iou_loss, distance_box_iou_loss, generalized_box_iou_loss, sigmoid_focal_loss
from .misc import MLP, Conv2dNormActivation, Conv3dNormActivation, FrozenBatchNorm2d, Permute, SqueezeExcitation
from .poolers import MultiScaleRoIAlign
from .roi_align import RoIAlign, RoIPool, roi_align, roi_pool
from .stochastic_depth import StochasticDepth, stochastic_depth

__all__ = ['masks_to_boxes', 'nms', 'batched_nms', 'remove_small_boxes', 'clip_boxes_to_image', 'box_convert',
           'box_area', 'box_iou', 'generalized_box_iou', 'distance_box_iou', 'complete_box_iou', 'roi_align',
           'RoIAlign', 'roi_pool', 'RoIPool', 'MultiScaleRoIAlign', 'FeaturePyramidNetwork', 'sigmoid_focal_loss',
           'stochastic_depth', 'StochasticDepth', 'FrozenBatchNorm2d', 'Conv2dNormActivation',
           'Conv3dNormActivation', 'SqueezeExcitation', 'MLP', 'Permute', 'generalized_box_iou_loss',
           'distance_box_iou_loss', 'complete_box_iou_loss', 'drop_block2d', 'DropBlock2d', 'drop_block3d',
           'DropBlock3d', 'DeformConv2d', 'deform_conv2d']
