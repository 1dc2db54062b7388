"""Faster R-CNN (Ren et al.): an RPN proposes regions, RoIAlign pools them from the FPN levels, a two-layer MLP
classifies and refines them. Builders on ResNet-50-FPN (v1, v2) and MobileNetV3-Large-FPN, with their weights
enums; state dicts match torchvision's key for key."""
import functools
import inspect

from ember import nn
from ember.nn import functional as F

from ...ops import MultiScaleRoIAlign
from ...ops import misc as misc_nn_ops
from ...transforms._presets import ObjectDetection
from .._api import Weights, WeightsEnum, register_model
from .._meta import _COCO_CATEGORIES
from ..mobilenetv3 import MobileNet_V3_Large_Weights, mobilenet_v3_large
from ..resnet import ResNet50_Weights, resnet50
from .._api import keywords_from_positions, legacy_weights
from ..segmentation._utils import _overwrite_value
from ._utils import overwrite_eps
from .anchor_utils import AnchorGenerator
from .backbone_utils import _mobilenet_extractor, _resnet_fpn_extractor, _validate_trainable_layers
from .generalized_rcnn import GeneralizedRCNN
from .roi_heads import RoIHeads
from .rpn import RegionProposalNetwork, RPNHead
from .transform import GeneralizedRCNNTransform

__all__ = ['FasterRCNN', 'FasterRCNN_ResNet50_FPN_Weights', 'FasterRCNN_ResNet50_FPN_V2_Weights',
           'FasterRCNN_MobileNet_V3_Large_FPN_Weights', 'FasterRCNN_MobileNet_V3_Large_320_FPN_Weights',
           'fasterrcnn_resnet50_fpn', 'fasterrcnn_resnet50_fpn_v2', 'fasterrcnn_mobilenet_v3_large_fpn',
           'fasterrcnn_mobilenet_v3_large_320_fpn']


def _default_anchorgen():
    """One anchor size per FPN level (32 to 512), three aspect ratios each."""
    anchor_sizes = ((32,), (64,), (128,), (256,), (512,))
    return AnchorGenerator(anchor_sizes, ((0.5, 1.0, 2.0),) * len(anchor_sizes))


def _check_parts(backbone, num_classes, rpn_anchor_generator, box_roi_pool, box_predictor):
    if not hasattr(backbone, 'out_channels'):
        raise ValueError('backbone should contain an attribute out_channels specifying the number of output '
                         'channels (assumed to be the same for all the levels)')
    if not isinstance(rpn_anchor_generator, (AnchorGenerator, type(None))):
        raise TypeError('rpn_anchor_generator should be of type AnchorGenerator or None instead of '
                        f'{type(rpn_anchor_generator)}')
    if not isinstance(box_roi_pool, (MultiScaleRoIAlign, type(None))):
        raise TypeError(f'box_roi_pool should be of type MultiScaleRoIAlign or None instead of {type(box_roi_pool)}')
    if num_classes is not None and box_predictor is not None:
        raise ValueError('num_classes should be None when box_predictor is specified')
    if num_classes is None and box_predictor is None:
        raise ValueError('num_classes should not be None when box_predictor is not specified')


class FasterRCNN(GeneralizedRCNN):
    """Faster R-CNN on ``backbone`` (which must have ``out_channels``); every part not given is built with
    torchvision's defaults. Input: a list of ``[3, H, W]`` float images in [0, 1]; in training also a list of
    targets ``{'boxes': [N, 4] xyxy, 'labels': [N] int64}``, returning the loss dict; in eval the list of
    ``{'boxes', 'labels', 'scores'}``."""

    def __init__(self, backbone, num_classes=None, min_size=800, max_size=1333, image_mean=None, image_std=None,
                 rpn_anchor_generator=None, rpn_head=None, rpn_pre_nms_top_n_train=2000, rpn_pre_nms_top_n_test=1000,
                 rpn_post_nms_top_n_train=2000, rpn_post_nms_top_n_test=1000, rpn_nms_thresh=0.7,
                 rpn_fg_iou_thresh=0.7, rpn_bg_iou_thresh=0.3, rpn_batch_size_per_image=256,
                 rpn_positive_fraction=0.5, rpn_score_thresh=0.0, box_roi_pool=None, box_head=None,
                 box_predictor=None, box_score_thresh=0.05, box_nms_thresh=0.5, box_detections_per_img=100,
                 box_fg_iou_thresh=0.5, box_bg_iou_thresh=0.5, box_batch_size_per_image=512,
                 box_positive_fraction=0.25, bbox_reg_weights=None, **kwargs):
        _check_parts(backbone, num_classes, rpn_anchor_generator, box_roi_pool, box_predictor)
        out_channels = backbone.out_channels
        if rpn_anchor_generator is None:
            rpn_anchor_generator = _default_anchorgen()
        if rpn_head is None:
            rpn_head = RPNHead(out_channels, rpn_anchor_generator.num_anchors_per_location()[0])
        rpn = RegionProposalNetwork(
            rpn_anchor_generator, rpn_head, rpn_fg_iou_thresh, rpn_bg_iou_thresh, rpn_batch_size_per_image,
            rpn_positive_fraction, dict(training=rpn_pre_nms_top_n_train, testing=rpn_pre_nms_top_n_test),
            dict(training=rpn_post_nms_top_n_train, testing=rpn_post_nms_top_n_test), rpn_nms_thresh,
            score_thresh=rpn_score_thresh)
        if box_roi_pool is None:
            box_roi_pool = MultiScaleRoIAlign(featmap_names=['0', '1', '2', '3'], output_size=7, sampling_ratio=2)
        if box_head is None:
            box_head = TwoMLPHead(out_channels * box_roi_pool.output_size[0] ** 2, 1024)
        if box_predictor is None:
            box_predictor = FastRCNNPredictor(1024, num_classes)
        roi_heads = RoIHeads(box_roi_pool, box_head, box_predictor, box_fg_iou_thresh, box_bg_iou_thresh,
                             box_batch_size_per_image, box_positive_fraction, bbox_reg_weights, box_score_thresh,
                             box_nms_thresh, box_detections_per_img)
        image_mean = [0.485, 0.456, 0.406] if image_mean is None else image_mean
        image_std = [0.229, 0.224, 0.225] if image_std is None else image_std
        transform = GeneralizedRCNNTransform(min_size, max_size, image_mean, image_std, **kwargs)
        super().__init__(backbone, rpn, roi_heads, transform)


class TwoMLPHead(nn.Module):
    """The box head of Faster R-CNN: flatten, then two fully connected layers with ReLU."""

    def __init__(self, in_channels, representation_size):
        super().__init__()
        self.fc6 = nn.Linear(in_channels, representation_size)
        self.fc7 = nn.Linear(representation_size, representation_size)

    def forward(self, x):
        return F.relu(self.fc7(F.relu(self.fc6(x.flatten(start_dim=1)))))


class FastRCNNConvFCHead(nn.Sequential):
    """The v2 box head: 3x3 conv-norm-ReLU layers of ``conv_layers`` channels, flatten, then Linear-ReLU layers
    of ``fc_layers`` features; ``input_size`` is (channels, height, width) of the pooled features."""

    def __init__(self, input_size, conv_layers, fc_layers, norm_layer=None):
        in_channels, in_height, in_width = input_size
        blocks, previous = [], in_channels
        for channels in conv_layers:
            blocks.append(misc_nn_ops.Conv2dNormActivation(previous, channels, norm_layer=norm_layer))
            previous = channels
        blocks.append(nn.Flatten())
        previous = previous * in_height * in_width
        for features in fc_layers:
            blocks += [nn.Linear(previous, features), nn.ReLU(inplace=True)]
            previous = features
        super().__init__(*blocks)
        for layer in self.modules():
            if isinstance(layer, nn.Conv2d):
                nn.init.kaiming_normal_(layer.weight, mode='fan_out', nonlinearity='relu')
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)


class FastRCNNPredictor(nn.Module):
    """Class scores and per-class box deltas (``4 * num_classes``) from the box head's features."""

    def __init__(self, in_channels, num_classes):
        super().__init__()
        self.cls_score = nn.Linear(in_channels, num_classes)
        self.bbox_pred = nn.Linear(in_channels, num_classes * 4)

    def forward(self, x):
        if x.dim() == 4 and list(x.shape[2:]) != [1, 1]:
            raise AssertionError(f'x has the wrong shape, expecting the last two dimensions to be [1,1] instead of '
                                 f'{list(x.shape[2:])}')
        x = x.flatten(start_dim=1)
        return self.cls_score(x), self.bbox_pred(x)


_COMMON_META = {'categories': _COCO_CATEGORIES, 'min_size': (1, 1)}
_RECIPE = 'https://github.com/pytorch/vision/tree/main/references/detection#'
_PAPER_DOCS = 'These weights were produced by following a similar training recipe as on the paper.'
_V2_DOCS = 'These weights were produced using an enhanced training recipe to boost the model accuracy.'


def _coco_weights(file, num_params, recipe, metrics, ops, file_size, docs=_PAPER_DOCS):
    """A COCO detection checkpoint on download.pytorch.org (torchvision's metadata)."""
    return Weights(url=f'https://download.pytorch.org/models/{file}', transforms=ObjectDetection,
                   meta={**_COMMON_META, 'num_params': num_params, 'recipe': recipe,
                         '_metrics': {'COCO-val2017': metrics}, '_ops': ops, '_file_size': file_size, '_docs': docs})


class FasterRCNN_ResNet50_FPN_Weights(WeightsEnum):
    COCO_V1 = _coco_weights('fasterrcnn_resnet50_fpn_coco-258fb6c6.pth', 41755286,
                            _RECIPE + 'faster-r-cnn-resnet-50-fpn', {'box_map': 37.0}, 134.38, 159.743)
    DEFAULT = COCO_V1


class FasterRCNN_ResNet50_FPN_V2_Weights(WeightsEnum):
    COCO_V1 = _coco_weights('fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth', 43712278,
                            'https://github.com/pytorch/vision/pull/5763', {'box_map': 46.7}, 280.371, 167.104,
                            _V2_DOCS)
    DEFAULT = COCO_V1


class FasterRCNN_MobileNet_V3_Large_FPN_Weights(WeightsEnum):
    COCO_V1 = _coco_weights('fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7.pth', 19386354,
                            _RECIPE + 'faster-r-cnn-mobilenetv3-large-fpn', {'box_map': 32.8}, 4.494, 74.239)
    DEFAULT = COCO_V1


class FasterRCNN_MobileNet_V3_Large_320_FPN_Weights(WeightsEnum):
    COCO_V1 = _coco_weights('fasterrcnn_mobilenet_v3_large_320_fpn-907ea3f9.pth', 19386354,
                            _RECIPE + 'faster-r-cnn-mobilenetv3-large-320-fpn', {'box_map': 22.8}, 0.719, 74.239)
    DEFAULT = COCO_V1


def detection_builder(weights_enum, backbone_default, weights_default=None):
    """Decorator for a detection builder ``fn(*, weights, progress, num_classes, weights_backbone, ...)``:
    registers it, records its weights enum and translates the legacy ``pretrained=`` /
    ``pretrained_backbone=`` arguments as torchvision's ``handle_legacy_interface`` does (``pretrained=True``
    means ``weights_default(kwargs)``, by default COCO_V1)."""
    def wrap(fn):
        @functools.wraps(fn)
        def build(*args, **kwargs):
            kwargs = keywords_from_positions(fn, args, kwargs)
            default = weights_enum.COCO_V1 if weights_default is None else weights_default(kwargs)
            legacy_weights(kwargs, 'weights', 'pretrained', default, fn.__name__)
            legacy_weights(kwargs, 'weights_backbone', 'pretrained_backbone', backbone_default, fn.__name__)
            return fn(**kwargs)
        build._weights_enum = weights_enum
        return register_model()(build)
    return wrap


def _prepare(weights, weights_enum, weights_backbone, backbone_enum, num_classes, default_classes=91):
    """The checked weights, the backbone weights (none when full weights are given) and the class count (the
    weights' categories, else ``default_classes``)."""
    weights = weights_enum.verify(weights)
    weights_backbone = backbone_enum.verify(weights_backbone)
    if weights is not None:
        weights_backbone = None
        num_classes = _overwrite_value('num_classes', num_classes, len(weights.meta['categories']))
    elif num_classes is None:
        num_classes = default_classes
    return weights, weights_backbone, num_classes


def _load(model, weights, progress, zero_eps=False):
    """``weights`` loaded into ``model``; ``zero_eps`` for the checkpoints trained before FrozenBatchNorm2d
    got its eps."""
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
        if zero_eps:
            overwrite_eps(model, 0.0)
    return model


def _resnet50_fpn(weights, weights_backbone, trainable_backbone_layers, progress, v2=False):
    """ResNet-50-FPN: FrozenBatchNorm2d in the body when anything pretrained is loaded (v1), BatchNorm2d in
    body and FPN (v2); every layer trainable when nothing pretrained is."""
    is_trained = weights is not None or weights_backbone is not None
    trainable = _validate_trainable_layers(is_trained, trainable_backbone_layers, 5, 3)
    if v2:
        return _resnet_fpn_extractor(resnet50(weights=weights_backbone, progress=progress), trainable,
                                     norm_layer=nn.BatchNorm2d)
    norm_layer = misc_nn_ops.FrozenBatchNorm2d if is_trained else nn.BatchNorm2d
    return _resnet_fpn_extractor(resnet50(weights=weights_backbone, progress=progress, norm_layer=norm_layer),
                                 trainable)


def _v2_heads(backbone):
    """The v2 RPN head (two convolutions) and box head (four conv-BN layers and one FC layer)."""
    anchor_generator = _default_anchorgen()
    rpn_head = RPNHead(backbone.out_channels, anchor_generator.num_anchors_per_location()[0], conv_depth=2)
    box_head = FastRCNNConvFCHead((backbone.out_channels, 7, 7), [256, 256, 256, 256], [1024],
                                  norm_layer=nn.BatchNorm2d)
    return dict(rpn_anchor_generator=anchor_generator, rpn_head=rpn_head, box_head=box_head)


@detection_builder(FasterRCNN_ResNet50_FPN_Weights, ResNet50_Weights.IMAGENET1K_V1)
def fasterrcnn_resnet50_fpn(*, weights=None, progress=True, num_classes=None,
                            weights_backbone=ResNet50_Weights.IMAGENET1K_V1, trainable_backbone_layers=None,
                            **kwargs):
    """Faster R-CNN ResNet-50-FPN (``weights``: ``FasterRCNN_ResNet50_FPN_Weights``; 91 COCO classes by
    default)."""
    weights, weights_backbone, num_classes = _prepare(weights, FasterRCNN_ResNet50_FPN_Weights, weights_backbone,
                                                      ResNet50_Weights, num_classes)
    backbone = _resnet50_fpn(weights, weights_backbone, trainable_backbone_layers, progress)
    model = FasterRCNN(backbone, num_classes=num_classes, **kwargs)
    return _load(model, weights, progress, zero_eps=weights == FasterRCNN_ResNet50_FPN_Weights.COCO_V1)


@detection_builder(FasterRCNN_ResNet50_FPN_V2_Weights, ResNet50_Weights.IMAGENET1K_V1)
def fasterrcnn_resnet50_fpn_v2(*, weights=None, progress=True, num_classes=None, weights_backbone=None,
                               trainable_backbone_layers=None, **kwargs):
    """Faster R-CNN ResNet-50-FPN v2 (Li et al., "Benchmarking detection transfer learning with vision
    transformers"; ``weights``: ``FasterRCNN_ResNet50_FPN_V2_Weights``)."""
    weights, weights_backbone, num_classes = _prepare(weights, FasterRCNN_ResNet50_FPN_V2_Weights,
                                                      weights_backbone, ResNet50_Weights, num_classes)
    backbone = _resnet50_fpn(weights, weights_backbone, trainable_backbone_layers, progress, v2=True)
    model = FasterRCNN(backbone, num_classes=num_classes, **_v2_heads(backbone), **kwargs)
    return _load(model, weights, progress)


def _fasterrcnn_mobilenet_v3_large_fpn(weights, progress, num_classes, weights_backbone, trainable_backbone_layers,
                                       **kwargs):
    is_trained = weights is not None or weights_backbone is not None
    trainable = _validate_trainable_layers(is_trained, trainable_backbone_layers, 6, 3)
    norm_layer = misc_nn_ops.FrozenBatchNorm2d if is_trained else nn.BatchNorm2d
    backbone = mobilenet_v3_large(weights=weights_backbone, progress=progress, norm_layer=norm_layer)
    backbone = _mobilenet_extractor(backbone, True, trainable)
    anchor_sizes = ((32, 64, 128, 256, 512),) * 3
    anchor_generator = AnchorGenerator(anchor_sizes, ((0.5, 1.0, 2.0),) * len(anchor_sizes))
    model = FasterRCNN(backbone, num_classes, rpn_anchor_generator=anchor_generator, **kwargs)
    return _load(model, weights, progress)


@detection_builder(FasterRCNN_MobileNet_V3_Large_320_FPN_Weights, MobileNet_V3_Large_Weights.IMAGENET1K_V1)
def fasterrcnn_mobilenet_v3_large_320_fpn(*, weights=None, progress=True, num_classes=None,
                                          weights_backbone=MobileNet_V3_Large_Weights.IMAGENET1K_V1,
                                          trainable_backbone_layers=None, **kwargs):
    """Faster R-CNN on MobileNetV3-Large-FPN for low-resolution images (320 short side; ``weights``:
    ``FasterRCNN_MobileNet_V3_Large_320_FPN_Weights``)."""
    weights, weights_backbone, num_classes = _prepare(weights, FasterRCNN_MobileNet_V3_Large_320_FPN_Weights,
                                                      weights_backbone, MobileNet_V3_Large_Weights, num_classes)
    defaults = {'min_size': 320, 'max_size': 640, 'rpn_pre_nms_top_n_test': 150, 'rpn_post_nms_top_n_test': 150,
                'rpn_score_thresh': 0.05}
    return _fasterrcnn_mobilenet_v3_large_fpn(weights, progress, num_classes, weights_backbone,
                                              trainable_backbone_layers, **{**defaults, **kwargs})


@detection_builder(FasterRCNN_MobileNet_V3_Large_FPN_Weights, MobileNet_V3_Large_Weights.IMAGENET1K_V1)
def fasterrcnn_mobilenet_v3_large_fpn(*, weights=None, progress=True, num_classes=None,
                                      weights_backbone=MobileNet_V3_Large_Weights.IMAGENET1K_V1,
                                      trainable_backbone_layers=None, **kwargs):
    """Faster R-CNN on MobileNetV3-Large-FPN (``weights``: ``FasterRCNN_MobileNet_V3_Large_FPN_Weights``)."""
    weights, weights_backbone, num_classes = _prepare(weights, FasterRCNN_MobileNet_V3_Large_FPN_Weights,
                                                      weights_backbone, MobileNet_V3_Large_Weights, num_classes)
    return _fasterrcnn_mobilenet_v3_large_fpn(weights, progress, num_classes, weights_backbone,
                                              trainable_backbone_layers, **{'rpn_score_thresh': 0.05, **kwargs})


def branch_arguments(sig, self, args, kwargs):
    """The arguments of a Faster R-CNN subclass with a branch (Mask and Keypoint R-CNN) bound to ``sig``, its
    torchvision signature (``branch_signature``): a dict of every parameter (defaults filled) with ``kwargs``'s
    extra keywords merged in; Python's binding errors for too many positional arguments or a repeated one."""
    bound = sig.bind(self, *args, **kwargs)
    bound.apply_defaults()
    given = dict(bound.arguments)
    del given['self']
    given.update(given.pop('kwargs'))
    return given


def branch_signature(names, min_size=800):
    """torchvision's ``__init__`` signature of a Faster R-CNN subclass: FasterRCNN's parameters (``min_size``'s
    default its own), then the branch's ``names`` (positional or keyword, default None), then ``**kwargs``."""
    base = inspect.signature(FasterRCNN.__init__)
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [p.replace(default=min_size) if p.name == 'min_size' else p for p in base.parameters.values()
              if p.kind is kind]
    params += [inspect.Parameter(n, kind, default=None) for n in names]
    return base.replace(parameters=params + [base.parameters['kwargs']])
