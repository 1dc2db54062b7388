"""Keypoint R-CNN (He et al., Mask R-CNN's keypoint variant): Faster R-CNN plus a keypoint branch, eight 3x3
convolutions over 14x14 RoIAlign features and a transposed convolution giving one 56x56 heatmap per keypoint.
The ResNet-50-FPN builder with its COCO person-keypoint weights; state dicts match torchvision's key for key."""
from ember import nn
from ember.nn import functional as F

from ...ops import MultiScaleRoIAlign
from .._api import Weights, WeightsEnum
from .._meta import _COCO_PERSON_CATEGORIES, _COCO_PERSON_KEYPOINT_NAMES
from ..resnet import ResNet50_Weights
from ..segmentation._utils import _overwrite_value
from .faster_rcnn import FasterRCNN, _load, _resnet50_fpn, branch_arguments, branch_signature, detection_builder
from ...transforms._presets import ObjectDetection

__all__ = ['KeypointRCNN', 'KeypointRCNN_ResNet50_FPN_Weights', 'keypointrcnn_resnet50_fpn']


class KeypointRCNN(FasterRCNN):
    """Faster R-CNN with a keypoint branch (``keypoint_roi_pool``, ``keypoint_head``, ``keypoint_predictor``,
    built with torchvision's defaults for ``num_keypoints`` (17) when not given); the short side is drawn from
    640...800 in training by default. Training targets also need ``'keypoints'`` ``[N, K, 3]`` (x, y,
    visibility); eval detections also carry ``'keypoints'`` and ``'keypoints_scores'``."""

    def __init__(self, *args, **kwargs):
        kwargs = branch_arguments(_SIGNATURE, self, args, kwargs)   # torchvision's parameters, in its order
        keypoint_roi_pool, keypoint_head, keypoint_predictor, num_keypoints = (kwargs.pop(n) for n in _BRANCH)
        backbone, num_classes, min_size = kwargs.pop('backbone'), kwargs.pop('num_classes'), kwargs.pop('min_size')
        if not isinstance(keypoint_roi_pool, (MultiScaleRoIAlign, type(None))):
            # torchvision's message, its placeholder left unformatted as torchvision leaves it
            raise TypeError('keypoint_roi_pool should be of type MultiScaleRoIAlign or None instead of '
                            '{type(keypoint_roi_pool)}')
        if min_size is None:
            min_size = (640, 672, 704, 736, 768, 800)
        if num_keypoints is not None and keypoint_predictor is not None:
            raise ValueError('num_keypoints should be None when keypoint_predictor is specified')
        num_keypoints = 17 if num_keypoints is None else num_keypoints
        out_channels = backbone.out_channels
        if keypoint_roi_pool is None:
            keypoint_roi_pool = MultiScaleRoIAlign(featmap_names=['0', '1', '2', '3'], output_size=14,
                                                   sampling_ratio=2)
        if keypoint_head is None:
            keypoint_head = KeypointRCNNHeads(out_channels, (512,) * 8)
        if keypoint_predictor is None:
            keypoint_predictor = KeypointRCNNPredictor(512, num_keypoints)
        super().__init__(backbone, num_classes, min_size, **kwargs)
        self.roi_heads.keypoint_roi_pool = keypoint_roi_pool
        self.roi_heads.keypoint_head = keypoint_head
        self.roi_heads.keypoint_predictor = keypoint_predictor


_BRANCH = ('keypoint_roi_pool', 'keypoint_head', 'keypoint_predictor', 'num_keypoints')
_SIGNATURE = KeypointRCNN.__init__.__signature__ = branch_signature(_BRANCH, min_size=None)


class KeypointRCNNHeads(nn.Sequential):
    """3x3 conv-ReLU layers of ``layers`` channels (Kaiming-normal weights, zero biases)."""

    def __init__(self, in_channels, layers):
        blocks, previous = [], in_channels
        for channels in layers:
            blocks += [nn.Conv2d(previous, channels, 3, stride=1, padding=1), nn.ReLU(inplace=True)]
            previous = channels
        super().__init__(*blocks)
        for m in self.children():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                nn.init.constant_(m.bias, 0)


class KeypointRCNNPredictor(nn.Module):
    """A stride-2 4x4 transposed convolution to one map per keypoint, then 2x bilinear upsampling (14 to 56)."""

    def __init__(self, in_channels, num_keypoints):
        super().__init__()
        self.kps_score_lowres = nn.ConvTranspose2d(in_channels, num_keypoints, 4, stride=2, padding=1)
        nn.init.kaiming_normal_(self.kps_score_lowres.weight, mode='fan_out', nonlinearity='relu')
        nn.init.constant_(self.kps_score_lowres.bias, 0)
        self.up_scale = 2
        self.out_channels = num_keypoints

    def forward(self, x):
        return F.interpolate(self.kps_score_lowres(x), scale_factor=float(self.up_scale), mode='bilinear',
                             align_corners=False, recompute_scale_factor=False)


_COMMON_META = {'categories': _COCO_PERSON_CATEGORIES, 'keypoint_names': _COCO_PERSON_KEYPOINT_NAMES,
                'min_size': (1, 1)}


def _weights(file, recipe, metrics, ops, docs):
    return Weights(url=f'https://download.pytorch.org/models/{file}', transforms=ObjectDetection,
                   meta={**_COMMON_META, 'num_params': 59137258, 'recipe': recipe,
                         '_metrics': {'COCO-val2017': metrics}, '_ops': ops, '_file_size': 226.054, '_docs': docs})


class KeypointRCNN_ResNet50_FPN_Weights(WeightsEnum):
    COCO_LEGACY = _weights('keypointrcnn_resnet50_fpn_coco-9f466800.pth',
                           'https://github.com/pytorch/vision/issues/1606', {'box_map': 50.6, 'kp_map': 61.1}, 133.924,
                           '\n                These weights were produced by following a similar training recipe as '
                           'on the paper but use a checkpoint\n                from an early epoch.\n            ')
    COCO_V1 = _weights('keypointrcnn_resnet50_fpn_coco-fc266e95.pth',
                       'https://github.com/pytorch/vision/tree/main/references/detection#keypoint-r-cnn',
                       {'box_map': 54.6, 'kp_map': 65.0}, 137.42,
                       'These weights were produced by following a similar training recipe as on the paper.')
    DEFAULT = COCO_V1


def _legacy_default(kwargs):
    """``pretrained='legacy'`` selects the early-epoch checkpoint, any other true value COCO_V1."""
    legacy = kwargs.get('pretrained') == 'legacy' or kwargs.get('weights') == 'legacy'
    return KeypointRCNN_ResNet50_FPN_Weights.COCO_LEGACY if legacy else KeypointRCNN_ResNet50_FPN_Weights.COCO_V1


@detection_builder(KeypointRCNN_ResNet50_FPN_Weights, ResNet50_Weights.IMAGENET1K_V1, weights_default=_legacy_default)
def keypointrcnn_resnet50_fpn(*, weights=None, progress=True, num_classes=None, num_keypoints=None,
                              weights_backbone=ResNet50_Weights.IMAGENET1K_V1, trainable_backbone_layers=None,
                              **kwargs):
    """Keypoint R-CNN ResNet-50-FPN (``weights``: ``KeypointRCNN_ResNet50_FPN_Weights``; 2 classes and 17
    keypoints by default)."""
    weights = KeypointRCNN_ResNet50_FPN_Weights.verify(weights)
    weights_backbone = ResNet50_Weights.verify(weights_backbone)
    if weights is not None:
        weights_backbone = None
        num_classes = _overwrite_value('num_classes', num_classes, len(weights.meta['categories']))
        num_keypoints = _overwrite_value('num_keypoints', num_keypoints, len(weights.meta['keypoint_names']))
    else:
        num_classes = 2 if num_classes is None else num_classes
        num_keypoints = 17 if num_keypoints is None else num_keypoints
    backbone = _resnet50_fpn(weights, weights_backbone, trainable_backbone_layers, progress)
    model = KeypointRCNN(backbone, num_classes, num_keypoints=num_keypoints, **kwargs)
    return _load(model, weights, progress, zero_eps=weights == KeypointRCNN_ResNet50_FPN_Weights.COCO_V1)
