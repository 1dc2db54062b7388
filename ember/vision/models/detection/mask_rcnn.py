"""Mask R-CNN (He et al.): Faster R-CNN plus a mask branch, a small FCN over 14x14 RoIAlign features that
predicts a 28x28 mask per class for each detection. Builders on ResNet-50-FPN (v1, v2) with their weights enums;
state dicts match torchvision's key for key."""
from collections import OrderedDict

from ember import nn

from ...ops import MultiScaleRoIAlign
from ...ops import misc as misc_nn_ops
from .._api import WeightsEnum
from ..resnet import ResNet50_Weights
from .faster_rcnn import (FasterRCNN, _coco_weights, _load, _prepare, _resnet50_fpn, _RECIPE, _v2_heads, _V2_DOCS,
                          branch_arguments, branch_signature, detection_builder)

__all__ = ['MaskRCNN', 'MaskRCNN_ResNet50_FPN_Weights', 'MaskRCNN_ResNet50_FPN_V2_Weights', 'maskrcnn_resnet50_fpn',
           'maskrcnn_resnet50_fpn_v2']


class MaskRCNN(FasterRCNN):
    """Faster R-CNN with a mask branch (``mask_roi_pool``, ``mask_head``, ``mask_predictor``, built with
    torchvision's defaults when not given). Training targets also need ``'masks'`` ``[N, H, W]`` (uint8); eval
    detections also carry ``'masks'`` ``[N, 1, H, W]``, probabilities pasted into the original image."""

    def __init__(self, *args, **kwargs):
        kwargs = branch_arguments(_SIGNATURE, self, args, kwargs)   # torchvision's parameters, in its order
        mask_roi_pool, mask_head, mask_predictor = (kwargs.pop(n) for n in _BRANCH)
        backbone, num_classes = kwargs.pop('backbone'), kwargs.pop('num_classes')
        if not isinstance(mask_roi_pool, (MultiScaleRoIAlign, type(None))):
            raise TypeError('mask_roi_pool should be of type MultiScaleRoIAlign or None instead of '
                            f'{type(mask_roi_pool)}')
        if num_classes is not None and mask_predictor is not None:
            raise ValueError('num_classes should be None when mask_predictor is specified')
        out_channels = backbone.out_channels
        if mask_roi_pool is None:
            mask_roi_pool = MultiScaleRoIAlign(featmap_names=['0', '1', '2', '3'], output_size=14, sampling_ratio=2)
        if mask_head is None:
            mask_head = MaskRCNNHeads(out_channels, (256, 256, 256, 256), 1)
        if mask_predictor is None:
            mask_predictor = MaskRCNNPredictor(256, 256, num_classes)
        super().__init__(backbone, num_classes, **kwargs)
        self.roi_heads.mask_roi_pool = mask_roi_pool
        self.roi_heads.mask_head = mask_head
        self.roi_heads.mask_predictor = mask_predictor


_BRANCH = ('mask_roi_pool', 'mask_head', 'mask_predictor')
_SIGNATURE = MaskRCNN.__init__.__signature__ = branch_signature(_BRANCH)


class MaskRCNNHeads(nn.Sequential):
    """3x3 conv(-norm)-ReLU layers of ``layers`` channels at ``dilation``."""
    _version = 2

    def __init__(self, in_channels, layers, dilation, norm_layer=None):
        blocks, previous = [], in_channels
        for channels in layers:
            blocks.append(misc_nn_ops.Conv2dNormActivation(previous, channels, kernel_size=3, stride=1,
                                                           padding=dilation, dilation=dilation,
                                                           norm_layer=norm_layer))
            previous = channels
        super().__init__(*blocks)
        for layer in self.modules():
            if isinstance(layer, nn.Conv2d):
                nn.init.kaiming_normal_(layer.weight, mode='fan_out', nonlinearity='relu')
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Before version 2 the layers were named ``mask_fcn1``...: ``mask_fcn1.weight`` becomes ``0.0.weight``."""
        version = local_metadata.get('version', None)
        if version is None or version < 2:
            for i in range(len(self)):
                for kind in ('weight', 'bias'):
                    old = f'{prefix}mask_fcn{i + 1}.{kind}'
                    if old in state_dict:
                        state_dict[f'{prefix}{i}.0.{kind}'] = state_dict.pop(old)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


class MaskRCNNPredictor(nn.Sequential):
    """A stride-2 transposed convolution (upsampling 14 to 28), ReLU, and a 1x1 convolution to one mask logit
    map per class."""

    def __init__(self, in_channels, dim_reduced, num_classes):
        super().__init__(OrderedDict([
            ('conv5_mask', nn.ConvTranspose2d(in_channels, dim_reduced, 2, 2, 0)),
            ('relu', nn.ReLU(inplace=True)),
            ('mask_fcn_logits', nn.Conv2d(dim_reduced, num_classes, 1, 1, 0)),
        ]))
        for name, param in self.named_parameters():
            if 'weight' in name:
                nn.init.kaiming_normal_(param, mode='fan_out', nonlinearity='relu')


class MaskRCNN_ResNet50_FPN_Weights(WeightsEnum):
    COCO_V1 = _coco_weights('maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth', 44401393, _RECIPE + 'mask-r-cnn',
                            {'box_map': 37.9, 'mask_map': 34.6}, 134.38, 169.84)
    DEFAULT = COCO_V1


class MaskRCNN_ResNet50_FPN_V2_Weights(WeightsEnum):
    COCO_V1 = _coco_weights('maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth', 46359409,
                            'https://github.com/pytorch/vision/pull/5773', {'box_map': 47.4, 'mask_map': 41.8},
                            333.577, 177.219, _V2_DOCS)
    DEFAULT = COCO_V1


@detection_builder(MaskRCNN_ResNet50_FPN_Weights, ResNet50_Weights.IMAGENET1K_V1)
def maskrcnn_resnet50_fpn(*, weights=None, progress=True, num_classes=None,
                          weights_backbone=ResNet50_Weights.IMAGENET1K_V1, trainable_backbone_layers=None, **kwargs):
    """Mask R-CNN ResNet-50-FPN (``weights``: ``MaskRCNN_ResNet50_FPN_Weights``; 91 COCO classes by default)."""
    weights, weights_backbone, num_classes = _prepare(weights, MaskRCNN_ResNet50_FPN_Weights, weights_backbone,
                                                      ResNet50_Weights, num_classes)
    backbone = _resnet50_fpn(weights, weights_backbone, trainable_backbone_layers, progress)
    model = MaskRCNN(backbone, num_classes=num_classes, **kwargs)
    return _load(model, weights, progress, zero_eps=weights == MaskRCNN_ResNet50_FPN_Weights.COCO_V1)


@detection_builder(MaskRCNN_ResNet50_FPN_V2_Weights, ResNet50_Weights.IMAGENET1K_V1)
def maskrcnn_resnet50_fpn_v2(*, weights=None, progress=True, num_classes=None, weights_backbone=None,
                             trainable_backbone_layers=None, **kwargs):
    """Mask R-CNN ResNet-50-FPN v2 (``weights``: ``MaskRCNN_ResNet50_FPN_V2_Weights``)."""
    weights, weights_backbone, num_classes = _prepare(weights, MaskRCNN_ResNet50_FPN_V2_Weights, weights_backbone,
                                                      ResNet50_Weights, num_classes)
    backbone = _resnet50_fpn(weights, weights_backbone, trainable_backbone_layers, progress, v2=True)
    mask_head = MaskRCNNHeads(backbone.out_channels, [256, 256, 256, 256], 1, norm_layer=nn.BatchNorm2d)
    model = MaskRCNN(backbone, num_classes=num_classes, mask_head=mask_head, **_v2_heads(backbone), **kwargs)
    return _load(model, weights, progress)
