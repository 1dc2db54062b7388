"""EfficientNet B0-B7 and V2 (S/M/L) with torchvision's module names (``features.N.M.block...``),
initialisation and weights enums."""
import copy
import math
from dataclasses import dataclass
from functools import partial
from typing import Callable

import ember
from ember import nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ..ops.stochastic_depth import StochasticDepth
from ..transforms._presets import ImageClassification
from ..transforms.functional import InterpolationMode
from ._api import Weights, WeightsEnum, builder
from ._meta import _IMAGENET_CATEGORIES
from ._utils import _make_divisible

__all__ = ['EfficientNet', 'EfficientNet_B0_Weights', 'EfficientNet_B1_Weights', 'EfficientNet_B2_Weights',
           'EfficientNet_B3_Weights', 'EfficientNet_B4_Weights', 'EfficientNet_B5_Weights',
           'EfficientNet_B6_Weights', 'EfficientNet_B7_Weights', 'EfficientNet_V2_S_Weights',
           'EfficientNet_V2_M_Weights', 'EfficientNet_V2_L_Weights', 'efficientnet_b0', 'efficientnet_b1',
           'efficientnet_b2', 'efficientnet_b3', 'efficientnet_b4', 'efficientnet_b5', 'efficientnet_b6',
           'efficientnet_b7', 'efficientnet_v2_s', 'efficientnet_v2_m', 'efficientnet_v2_l']


@dataclass
class _MBConvConfig:
    expand_ratio: float
    kernel: int
    stride: int
    input_channels: int
    out_channels: int
    num_layers: int
    block: Callable

    @staticmethod
    def adjust_channels(channels, width_mult, min_value=None):
        return _make_divisible(channels * width_mult, 8, min_value)


class MBConvConfig(_MBConvConfig):
    """One stage of MBConv blocks, its widths and depth scaled by ``width_mult`` and ``depth_mult``."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, width_mult=1.0,
                 depth_mult=1.0, block=None):
        super().__init__(expand_ratio, kernel, stride, self.adjust_channels(input_channels, width_mult),
                         self.adjust_channels(out_channels, width_mult), self.adjust_depth(num_layers, depth_mult),
                         block or MBConv)

    @staticmethod
    def adjust_depth(num_layers, depth_mult):
        return int(math.ceil(num_layers * depth_mult))


class FusedMBConvConfig(_MBConvConfig):
    """One stage of Fused-MBConv blocks (EfficientNetV2)."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block=None):
        super().__init__(expand_ratio, kernel, stride, input_channels, out_channels, num_layers,
                         block or FusedMBConv)


class _Residual(nn.Module):
    """A block whose output adds its input back (through stochastic depth) when the shape is kept."""

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += input
        return result


def _check_stride(stride):
    if not 1 <= stride <= 2:
        raise ValueError('illegal stride value')


class MBConv(_Residual):
    """1x1 expansion, depthwise kxk, squeeze-excitation, 1x1 projection (SiLU activations)."""

    def __init__(self, cnf, stochastic_depth_prob, norm_layer, se_layer=SqueezeExcitation):
        super().__init__()
        _check_stride(cnf.stride)
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        layers = []
        if expanded != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.SiLU))
        layers += [
            Conv2dNormActivation(expanded, expanded, kernel_size=cnf.kernel, stride=cnf.stride, groups=expanded,
                                 norm_layer=norm_layer, activation_layer=nn.SiLU),
            se_layer(expanded, max(1, cnf.input_channels // 4), activation=partial(nn.SiLU, inplace=True)),
            Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1, norm_layer=norm_layer,
                                 activation_layer=None)]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, 'row')
        self.out_channels = cnf.out_channels


class FusedMBConv(_Residual):
    """Full kxk expansion convolution then 1x1 projection (or one kxk convolution when not expanding)."""

    def __init__(self, cnf, stochastic_depth_prob, norm_layer):
        super().__init__()
        _check_stride(cnf.stride)
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded != cnf.input_channels:
            layers = [Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=cnf.kernel, stride=cnf.stride,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU),
                      Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None)]
        else:
            layers = [Conv2dNormActivation(cnf.input_channels, cnf.out_channels, kernel_size=cnf.kernel,
                                           stride=cnf.stride, norm_layer=norm_layer, activation_layer=nn.SiLU)]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, 'row')
        self.out_channels = cnf.out_channels


class EfficientNet(nn.Module):
    """EfficientNet V1 and V2: a stem, stages of (Fused)MBConv blocks whose stochastic-depth probability
    grows linearly with the block index, a 1x1 head convolution, pooling and a linear classifier."""

    def __init__(self, inverted_residual_setting, dropout, stochastic_depth_prob=0.2, num_classes=1000,
                 norm_layer=None, last_channel=None):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError('The inverted_residual_setting should not be empty')
        if not all(isinstance(s, _MBConvConfig) for s in inverted_residual_setting):
            raise TypeError('The inverted_residual_setting should be List[MBConvConfig]')
        norm_layer = norm_layer or nn.BatchNorm2d
        layers = [Conv2dNormActivation(3, inverted_residual_setting[0].input_channels, kernel_size=3, stride=2,
                                       norm_layer=norm_layer, activation_layer=nn.SiLU)]
        total, block_id = sum(cnf.num_layers for cnf in inverted_residual_setting), 0
        for cnf in inverted_residual_setting:
            stage = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:
                    block_cnf.input_channels, block_cnf.stride = block_cnf.out_channels, 1
                stage.append(block_cnf.block(block_cnf, stochastic_depth_prob * float(block_id) / total,
                                             norm_layer))
                block_id += 1
            layers.append(nn.Sequential(*stage))
        last_in = inverted_residual_setting[-1].out_channels
        last_out = last_channel if last_channel is not None else 4 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(last_out, num_classes))
        self._init_weights()

    def _init_weights(self):
        """Kaiming-normal (fan_out) convolutions, ones/zeros norms, U(+-1/sqrt(out)) linear layers."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                init_range = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -init_range, init_range)
                nn.init.zeros_(m.bias)

    def _forward_impl(self, x):
        return self.classifier(ember.flatten(self.avgpool(self.features(x)), 1))

    def forward(self, x):
        return self._forward_impl(x)


def _efficientnet_conf(arch, **kwargs):
    """The stage settings and last channel count of ``arch``."""
    if arch.startswith('efficientnet_b'):
        conf = partial(MBConvConfig, width_mult=kwargs.pop('width_mult'), depth_mult=kwargs.pop('depth_mult'))
        return [conf(1, 3, 1, 32, 16, 1), conf(6, 3, 2, 16, 24, 2), conf(6, 5, 2, 24, 40, 2),
                conf(6, 3, 2, 40, 80, 3), conf(6, 5, 1, 80, 112, 3), conf(6, 5, 2, 112, 192, 4),
                conf(6, 3, 1, 192, 320, 1)], None
    F, M = FusedMBConvConfig, MBConvConfig
    if arch.startswith('efficientnet_v2_s'):
        return [F(1, 3, 1, 24, 24, 2), F(4, 3, 2, 24, 48, 4), F(4, 3, 2, 48, 64, 4), M(4, 3, 2, 64, 128, 6),
                M(6, 3, 1, 128, 160, 9), M(6, 3, 2, 160, 256, 15)], 1280
    if arch.startswith('efficientnet_v2_m'):
        return [F(1, 3, 1, 24, 24, 3), F(4, 3, 2, 24, 48, 5), F(4, 3, 2, 48, 80, 5), M(4, 3, 2, 80, 160, 7),
                M(6, 3, 1, 160, 176, 14), M(6, 3, 2, 176, 304, 18), M(6, 3, 1, 304, 512, 5)], 1280
    if arch.startswith('efficientnet_v2_l'):
        return [F(1, 3, 1, 32, 32, 4), F(4, 3, 2, 32, 64, 7), F(4, 3, 2, 64, 96, 7), M(4, 3, 2, 96, 192, 10),
                M(6, 3, 1, 192, 224, 19), M(6, 3, 2, 224, 384, 25), M(6, 3, 1, 384, 640, 7)], 1280
    raise ValueError(f'Unsupported model type {arch}')


_RECIPE = 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-'
_RECIPE_B1_V2 = 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-lr-wd-crop-tuning'
_NEW_RECIPE_DOCS = ("These weights improve upon the results of the original paper by using a modified version of "
                    "TorchVision's `new training recipe <https://pytorch.org/blog/how-to-train-state-of-the-art-"
                    "models-using-torchvision-latest-primitives/>`_.")


def _weights(url, transforms, num_params, acc1, acc5, ops, file_size, docs, recipe=None):
    """One ``Weights`` entry with EfficientNet's common metadata (V2 weights have a 33-pixel minimum)."""
    v2 = 'efficientnet_v2' in url
    return Weights(url=url, transforms=transforms, meta={
        'categories': _IMAGENET_CATEGORIES, 'min_size': (33, 33) if v2 else (1, 1),
        'recipe': recipe or _RECIPE + ('v2' if v2 else 'v1'), 'num_params': num_params,
        '_metrics': {'ImageNet-1K': {'acc@1': acc1, 'acc@5': acc5}}, '_ops': ops, '_file_size': file_size,
        '_docs': docs})


class EfficientNet_B0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/efficientnet_b0_rwightman-7f5810bc.pth',
        partial(ImageClassification, crop_size=224, resize_size=256, interpolation=InterpolationMode.BICUBIC),
        5288548, 77.692, 93.532, 0.386, 20.451,
        'These weights are ported from the original paper.')
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B1_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/efficientnet_b1_rwightman-bac287d4.pth',
        partial(ImageClassification, crop_size=240, resize_size=256, interpolation=InterpolationMode.BICUBIC),
        7794184, 78.642, 94.186, 0.687, 30.134,
        'These weights are ported from the original paper.')
    IMAGENET1K_V2 = _weights(
        'https://download.pytorch.org/models/efficientnet_b1-c27df63c.pth',
        partial(ImageClassification, crop_size=240, resize_size=255, interpolation=InterpolationMode.BILINEAR),
        7794184, 79.838, 94.934, 0.687, 30.136, recipe=_RECIPE_B1_V2, docs=_NEW_RECIPE_DOCS)
    DEFAULT = IMAGENET1K_V2


class EfficientNet_B2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/efficientnet_b2_rwightman-c35c1473.pth',
        partial(ImageClassification, crop_size=288, resize_size=288, interpolation=InterpolationMode.BICUBIC),
        9109994, 80.608, 95.31, 1.088, 35.174,
        'These weights are ported from the original paper.')
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B3_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/efficientnet_b3_rwightman-b3899882.pth',
        partial(ImageClassification, crop_size=300, resize_size=320, interpolation=InterpolationMode.BICUBIC),
        12233232, 82.008, 96.054, 1.827, 47.184,
        'These weights are ported from the original paper.')
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B4_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/efficientnet_b4_rwightman-23ab8bcd.pth',
        partial(ImageClassification, crop_size=380, resize_size=384, interpolation=InterpolationMode.BICUBIC),
        19341616, 83.384, 96.594, 4.394, 74.489,
        'These weights are ported from the original paper.')
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/efficientnet_b5_lukemelas-1a07897c.pth',
        partial(ImageClassification, crop_size=456, resize_size=456, interpolation=InterpolationMode.BICUBIC),
        30389784, 83.444, 96.628, 10.266, 116.864,
        'These weights are ported from the original paper.')
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B6_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/efficientnet_b6_lukemelas-24a108a5.pth',
        partial(ImageClassification, crop_size=528, resize_size=528, interpolation=InterpolationMode.BICUBIC),
        43040704, 84.008, 96.916, 19.068, 165.362,
        'These weights are ported from the original paper.')
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B7_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/efficientnet_b7_lukemelas-c5b4e57e.pth',
        partial(ImageClassification, crop_size=600, resize_size=600, interpolation=InterpolationMode.BICUBIC),
        66347960, 84.122, 96.908, 37.746, 254.675,
        'These weights are ported from the original paper.')
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_S_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/efficientnet_v2_s-dd5fe13b.pth',
        partial(ImageClassification, crop_size=384, resize_size=384, interpolation=InterpolationMode.BILINEAR),
        21458488, 84.228, 96.878, 8.366, 82.704,
        _NEW_RECIPE_DOCS)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_M_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/efficientnet_v2_m-dc08266a.pth',
        partial(ImageClassification, crop_size=480, resize_size=480, interpolation=InterpolationMode.BILINEAR),
        54139356, 85.112, 97.156, 24.582, 208.01,
        _NEW_RECIPE_DOCS)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_L_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/efficientnet_v2_l-59c71312.pth',
        partial(ImageClassification, crop_size=480, resize_size=480, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
                interpolation=InterpolationMode.BICUBIC),
        118515272, 85.808, 97.788, 56.08, 454.573,
        'These weights are ported from the original paper.')
    DEFAULT = IMAGENET1K_V1


def _efficientnet(arch, width_mult, depth_mult, dropout, kwargs, **defaults):
    """Build ``arch`` with ``dropout`` unless the caller gave one."""
    setting, last_channel = _efficientnet_conf(arch, width_mult=width_mult, depth_mult=depth_mult)
    return EfficientNet(setting, kwargs.pop('dropout', dropout), last_channel=last_channel, **defaults, **kwargs)


_BN_EPS3 = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
_BN_EPS3_ONLY = partial(nn.BatchNorm2d, eps=1e-03)


@builder(EfficientNet_B0_Weights)
def efficientnet_b0(weights=None, **kwargs):
    """EfficientNet B0 (``weights``: ``EfficientNet_B0_Weights``)."""
    return _efficientnet('efficientnet_b0', 1.0, 1.0, 0.2, kwargs)


@builder(EfficientNet_B1_Weights)
def efficientnet_b1(weights=None, **kwargs):
    """EfficientNet B1 (``weights``: ``EfficientNet_B1_Weights``)."""
    return _efficientnet('efficientnet_b1', 1.0, 1.1, 0.2, kwargs)


@builder(EfficientNet_B2_Weights)
def efficientnet_b2(weights=None, **kwargs):
    """EfficientNet B2 (``weights``: ``EfficientNet_B2_Weights``)."""
    return _efficientnet('efficientnet_b2', 1.1, 1.2, 0.3, kwargs)


@builder(EfficientNet_B3_Weights)
def efficientnet_b3(weights=None, **kwargs):
    """EfficientNet B3 (``weights``: ``EfficientNet_B3_Weights``)."""
    return _efficientnet('efficientnet_b3', 1.2, 1.4, 0.3, kwargs)


@builder(EfficientNet_B4_Weights)
def efficientnet_b4(weights=None, **kwargs):
    """EfficientNet B4 (``weights``: ``EfficientNet_B4_Weights``)."""
    return _efficientnet('efficientnet_b4', 1.4, 1.8, 0.4, kwargs)


@builder(EfficientNet_B5_Weights)
def efficientnet_b5(weights=None, **kwargs):
    """EfficientNet B5 (``weights``: ``EfficientNet_B5_Weights``)."""
    return _efficientnet('efficientnet_b5', 1.6, 2.2, 0.4, kwargs, norm_layer=_BN_EPS3)


@builder(EfficientNet_B6_Weights)
def efficientnet_b6(weights=None, **kwargs):
    """EfficientNet B6 (``weights``: ``EfficientNet_B6_Weights``)."""
    return _efficientnet('efficientnet_b6', 1.8, 2.6, 0.5, kwargs, norm_layer=_BN_EPS3)


@builder(EfficientNet_B7_Weights)
def efficientnet_b7(weights=None, **kwargs):
    """EfficientNet B7 (``weights``: ``EfficientNet_B7_Weights``)."""
    return _efficientnet('efficientnet_b7', 2.0, 3.1, 0.5, kwargs, norm_layer=_BN_EPS3)


@builder(EfficientNet_V2_S_Weights)
def efficientnet_v2_s(weights=None, **kwargs):
    """EfficientNetV2-S (``weights``: ``EfficientNet_V2_S_Weights``)."""
    return _efficientnet('efficientnet_v2_s', None, None, 0.2, kwargs, norm_layer=_BN_EPS3_ONLY)


@builder(EfficientNet_V2_M_Weights)
def efficientnet_v2_m(weights=None, **kwargs):
    """EfficientNetV2-M (``weights``: ``EfficientNet_V2_M_Weights``)."""
    return _efficientnet('efficientnet_v2_m', None, None, 0.3, kwargs, norm_layer=_BN_EPS3_ONLY)


@builder(EfficientNet_V2_L_Weights)
def efficientnet_v2_l(weights=None, **kwargs):
    """EfficientNetV2-L (``weights``: ``EfficientNet_V2_L_Weights``)."""
    return _efficientnet('efficientnet_v2_l', None, None, 0.4, kwargs, norm_layer=_BN_EPS3_ONLY)
