"""Backbones for the detectors: a ResNet or MobileNet body whose intermediate stages feed a feature pyramid
(``BackboneWithFPN``), with the early layers frozen as torchvision freezes them."""
import warnings

from ember import nn

from ...ops import misc as misc_nn_ops
from ...ops.feature_pyramid_network import ExtraFPNBlock, FeaturePyramidNetwork, LastLevelMaxPool  # noqa: F401
from .. import mobilenetv3, resnet
from .._api import get_model_weights
from .._utils import IntermediateLayerGetter
from .._api import legacy_weights

__all__ = ['BackboneWithFPN', 'resnet_fpn_backbone', 'mobilenet_backbone']


class BackboneWithFPN(nn.Module):
    """``body`` (the backbone's stages named in ``return_layers``) followed by an FPN with ``out_channels``
    channels per level (and the max-pooled 'pool' level unless ``extra_blocks`` says otherwise)."""

    def __init__(self, backbone, return_layers, in_channels_list, out_channels, extra_blocks=None, norm_layer=None):
        super().__init__()
        if extra_blocks is None:
            extra_blocks = LastLevelMaxPool()
        self.body = IntermediateLayerGetter(backbone, return_layers=return_layers)
        self.fpn = FeaturePyramidNetwork(in_channels_list=in_channels_list, out_channels=out_channels,
                                         extra_blocks=extra_blocks, norm_layer=norm_layer)
        self.out_channels = out_channels

    def forward(self, x):
        return self.fpn(self.body(x))


def _default_imagenet_weights(builder_name):
    return get_model_weights(builder_name).IMAGENET1K_V1


def resnet_fpn_backbone(*, backbone_name, weights=None, norm_layer=misc_nn_ops.FrozenBatchNorm2d,
                        trainable_layers=3, returned_layers=None, extra_blocks=None, **kwargs):
    """``resnet.<backbone_name>`` (with ``weights``) turned into a ``BackboneWithFPN`` over ``returned_layers``
    (default all four stages), only the last ``trainable_layers`` stages trainable. ``pretrained=`` is
    accepted as torchvision's legacy interface."""
    if 'pretrained' in kwargs or isinstance(weights, bool):
        kwargs['weights'] = weights
        legacy_weights(kwargs, 'weights', 'pretrained', _default_imagenet_weights(backbone_name),
                        'resnet_fpn_backbone')
        weights = kwargs.pop('weights')
    if kwargs:
        raise TypeError(f'resnet_fpn_backbone() got an unexpected keyword argument {next(iter(kwargs))!r}')
    backbone = getattr(resnet, backbone_name)(weights=weights, norm_layer=norm_layer)
    return _resnet_fpn_extractor(backbone, trainable_layers, returned_layers, extra_blocks)


def _resnet_fpn_extractor(backbone, trainable_layers, returned_layers=None, extra_blocks=None, norm_layer=None):
    if trainable_layers < 0 or trainable_layers > 5:
        raise ValueError(f'Trainable layers should be in the range [0,5], got {trainable_layers}')
    layers_to_train = ['layer4', 'layer3', 'layer2', 'layer1', 'conv1'][:trainable_layers]
    if trainable_layers == 5:
        layers_to_train.append('bn1')
    for name, parameter in backbone.named_parameters():
        if all(not name.startswith(layer) for layer in layers_to_train):
            parameter.requires_grad_(False)
    if extra_blocks is None:
        extra_blocks = LastLevelMaxPool()
    if returned_layers is None:
        returned_layers = [1, 2, 3, 4]
    if min(returned_layers) <= 0 or max(returned_layers) >= 5:
        raise ValueError(f'Each returned layer should be in the range [1,4]. Got {returned_layers}')
    return_layers = {f'layer{k}': str(v) for v, k in enumerate(returned_layers)}
    in_channels_stage2 = backbone.inplanes // 8
    in_channels_list = [in_channels_stage2 * 2 ** (i - 1) for i in returned_layers]
    return BackboneWithFPN(backbone, return_layers, in_channels_list, 256, extra_blocks=extra_blocks,
                           norm_layer=norm_layer)


def _validate_trainable_layers(is_trained, trainable_backbone_layers, max_value, default_value):
    """Without pretrained weights every layer trains (with a warning if a count was given); else the count
    given, or ``default_value``, checked against ``[0, max_value]``."""
    if not is_trained:
        if trainable_backbone_layers is not None:
            warnings.warn('Changing trainable_backbone_layers has no effect if neither pretrained nor '
                          'pretrained_backbone have been set to True, falling back to '
                          f'trainable_backbone_layers={max_value} so that all layers are trainable')
        trainable_backbone_layers = max_value
    if trainable_backbone_layers is None:
        trainable_backbone_layers = default_value
    if trainable_backbone_layers < 0 or trainable_backbone_layers > max_value:
        raise ValueError(f'Trainable backbone layers should be in the range [0,{max_value}], got '
                         f'{trainable_backbone_layers} ')
    return trainable_backbone_layers


def mobilenet_backbone(*, backbone_name, weights=None, fpn, norm_layer=misc_nn_ops.FrozenBatchNorm2d,
                       trainable_layers=2, returned_layers=None, extra_blocks=None, **kwargs):
    """``mobilenet_v3_*`` (with ``weights``) as a detection backbone: its features with an FPN over
    ``returned_layers`` stages when ``fpn``, else followed by a 1x1 convolution to 256 channels."""
    if 'pretrained' in kwargs or isinstance(weights, bool):
        kwargs['weights'] = weights
        legacy_weights(kwargs, 'weights', 'pretrained', _default_imagenet_weights(backbone_name),
                        'mobilenet_backbone')
        weights = kwargs.pop('weights')
    if kwargs:
        raise TypeError(f'mobilenet_backbone() got an unexpected keyword argument {next(iter(kwargs))!r}')
    backbone = getattr(mobilenetv3, backbone_name)(weights=weights, norm_layer=norm_layer)
    return _mobilenet_extractor(backbone, fpn, trainable_layers, returned_layers, extra_blocks)


def _mobilenet_extractor(backbone, fpn, trainable_layers, returned_layers=None, extra_blocks=None,
                         norm_layer=None):
    backbone = backbone.features
    stage_indices = [0] + [i for i, b in enumerate(backbone) if getattr(b, '_is_cn', False)] + [len(backbone) - 1]
    num_stages = len(stage_indices)
    if trainable_layers < 0 or trainable_layers > num_stages:
        raise ValueError(f'Trainable layers should be in the range [0,{num_stages}], got {trainable_layers} ')
    freeze_before = len(backbone) if trainable_layers == 0 else stage_indices[num_stages - trainable_layers]
    for block in backbone[:freeze_before]:
        for parameter in block.parameters():
            parameter.requires_grad_(False)
    out_channels = 256
    if not fpn:
        m = nn.Sequential(backbone, nn.Conv2d(backbone[-1].out_channels, out_channels, 1))
        m.out_channels = out_channels
        return m
    if extra_blocks is None:
        extra_blocks = LastLevelMaxPool()
    if returned_layers is None:
        returned_layers = [num_stages - 2, num_stages - 1]
    if min(returned_layers) < 0 or max(returned_layers) >= num_stages:
        raise ValueError(f'Each returned layer should be in the range [0,{num_stages - 1}], got {returned_layers} ')
    return_layers = {f'{stage_indices[k]}': str(v) for v, k in enumerate(returned_layers)}
    in_channels_list = [backbone[stage_indices[i]].out_channels for i in returned_layers]
    return BackboneWithFPN(backbone, return_layers, in_channels_list, out_channels, extra_blocks=extra_blocks,
                           norm_layer=norm_layer)
