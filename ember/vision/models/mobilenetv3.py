"""MobileNetV3 (large and small) with torchvision's module names (``features.N.block...``) and initialisation."""
from functools import partial

import ember
from ember import nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum, builder
from ._meta import _IMAGENET_CATEGORIES
from ._utils import _make_divisible
from .mobilenetv2 import MobileNetV2

__all__ = ['MobileNetV3', 'MobileNet_V3_Large_Weights', 'MobileNet_V3_Small_Weights', 'mobilenet_v3_large',
           'mobilenet_v3_small']


class InvertedResidualConfig:
    """One bottleneck row of the paper's tables 1 and 2, channels scaled by ``width_mult``."""

    def __init__(self, input_channels, kernel, expanded_channels, out_channels, use_se, activation, stride,
                 dilation, width_mult):
        self.input_channels = self.adjust_channels(input_channels, width_mult)
        self.kernel = kernel
        self.expanded_channels = self.adjust_channels(expanded_channels, width_mult)
        self.out_channels = self.adjust_channels(out_channels, width_mult)
        self.use_se = use_se
        self.use_hs = activation == 'HS'
        self.stride = stride
        self.dilation = dilation

    @staticmethod
    def adjust_channels(channels, width_mult):
        return _make_divisible(channels * width_mult, 8)


class InvertedResidual(nn.Module):
    """1x1 expansion (when it widens), depthwise kxk, optional squeeze-excitation (hard-sigmoid gate), linear
    1x1 projection; residual when the shape is kept."""

    def __init__(self, cnf, norm_layer, se_layer=partial(SqueezeExcitation, scale_activation=nn.Hardsigmoid)):
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError('illegal stride value')
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        act = nn.Hardswish if cnf.use_hs else nn.ReLU
        layers = []
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, cnf.expanded_channels, kernel_size=1,
                                               norm_layer=norm_layer, activation_layer=act))
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.expanded_channels, kernel_size=cnf.kernel,
                                           stride=1 if cnf.dilation > 1 else cnf.stride, dilation=cnf.dilation,
                                           groups=cnf.expanded_channels, norm_layer=norm_layer,
                                           activation_layer=act))
        if cnf.use_se:
            layers.append(se_layer(cnf.expanded_channels, _make_divisible(cnf.expanded_channels // 4, 8)))
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.out_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels
        self._is_cn = cnf.stride > 1

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result += input
        return result


class MobileNetV3(nn.Module):
    """MobileNetV3 from "Searching for MobileNetV3"."""

    def __init__(self, inverted_residual_setting, last_channel, num_classes=1000, block=None, norm_layer=None,
                 dropout=0.2, **kwargs):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError('The inverted_residual_setting should not be empty')
        if not (isinstance(inverted_residual_setting, (list, tuple))
                and all(isinstance(s, InvertedResidualConfig) for s in inverted_residual_setting)):
            raise TypeError('The inverted_residual_setting should be List[InvertedResidualConfig]')
        block = block or InvertedResidual
        norm_layer = norm_layer or partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        layers = [Conv2dNormActivation(3, inverted_residual_setting[0].input_channels, kernel_size=3, stride=2,
                                       norm_layer=norm_layer, activation_layer=nn.Hardswish)]
        layers += [block(cnf, norm_layer) for cnf in inverted_residual_setting]
        last_in = inverted_residual_setting[-1].out_channels
        layers.append(Conv2dNormActivation(last_in, 6 * last_in, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(6 * last_in, last_channel), nn.Hardswish(inplace=True),
                                        nn.Dropout(p=dropout, inplace=True), nn.Linear(last_channel, num_classes))
        MobileNetV2._init_weights(self)     # torchvision initialises both MobileNets alike

    def _forward_impl(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))

    def forward(self, x):
        return self._forward_impl(x)


_LARGE = [(16, 3, 16, 16, False, 'RE', 1), (16, 3, 64, 24, False, 'RE', 2), (24, 3, 72, 24, False, 'RE', 1),
          (24, 5, 72, 40, True, 'RE', 2), (40, 5, 120, 40, True, 'RE', 1), (40, 5, 120, 40, True, 'RE', 1),
          (40, 3, 240, 80, False, 'HS', 2), (80, 3, 200, 80, False, 'HS', 1), (80, 3, 184, 80, False, 'HS', 1),
          (80, 3, 184, 80, False, 'HS', 1), (80, 3, 480, 112, True, 'HS', 1), (112, 3, 672, 112, True, 'HS', 1)]
_SMALL = [(16, 3, 16, 16, True, 'RE', 2), (16, 3, 72, 24, False, 'RE', 2), (24, 3, 88, 24, False, 'RE', 1),
          (24, 5, 96, 40, True, 'HS', 2), (40, 5, 240, 40, True, 'HS', 1), (40, 5, 240, 40, True, 'HS', 1),
          (40, 5, 120, 48, True, 'HS', 1), (48, 5, 144, 48, True, 'HS', 1)]


def _mobilenet_v3_conf(arch, width_mult=1.0, reduced_tail=False, dilated=False, **kwargs):
    """The bottleneck configs and last channel count of ``arch``; the tail (C4, C5) is halved when
    ``reduced_tail`` and dilated instead of strided when ``dilated``."""
    div = 2 if reduced_tail else 1
    dil = 2 if dilated else 1
    conf = partial(InvertedResidualConfig, width_mult=width_mult)
    if arch == 'mobilenet_v3_large':
        head, c_in, c4, exp, last = _LARGE, 112, 160 // div, 960 // div, 1280 // div
        tail = [(c_in, 5, 672, c4, True, 'HS', 2), (c4, 5, exp, c4, True, 'HS', 1), (c4, 5, exp, c4, True, 'HS', 1)]
    elif arch == 'mobilenet_v3_small':
        head, c_in, c4, exp, last = _SMALL, 48, 96 // div, 576 // div, 1024 // div
        tail = [(c_in, 5, 288, c4, True, 'HS', 2), (c4, 5, exp, c4, True, 'HS', 1), (c4, 5, exp, c4, True, 'HS', 1)]
    else:
        raise ValueError(f'Unsupported model type {arch}')
    setting = [conf(*row, 1) for row in head] + [conf(*row, dil) for row in tail]
    return setting, InvertedResidualConfig.adjust_channels(last, width_mult)


def _mobilenet_v3(arch, kwargs):
    setting, last_channel = _mobilenet_v3_conf(arch, **kwargs)
    for key in ('width_mult', 'reduced_tail', 'dilated'):
        kwargs.pop(key, None)
    return MobileNetV3(setting, last_channel, **kwargs)


_COMMON_META = {'min_size': (1, 1), 'categories': _IMAGENET_CATEGORIES}
_V3_RECIPE = 'https://github.com/pytorch/vision/tree/main/references/classification#mobilenetv3-large--small'


class MobileNet_V3_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/mobilenet_v3_large-8738ca79.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={**_COMMON_META, 'num_params': 5483032, 'recipe': _V3_RECIPE,
              '_metrics': {'ImageNet-1K': {'acc@1': 74.042, 'acc@5': 91.340}}, '_ops': 0.217, '_file_size': 21.114,
              '_docs': 'These weights were trained from scratch by using a simple training recipe.'})
    IMAGENET1K_V2 = Weights(
        url='https://download.pytorch.org/models/mobilenet_v3_large-5c1a4163.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={**_COMMON_META, 'num_params': 5483032,
              'recipe': 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-reg-tuning',
              '_metrics': {'ImageNet-1K': {'acc@1': 75.274, 'acc@5': 92.566}}, '_ops': 0.217, '_file_size': 21.107,
              '_docs': "These weights improve marginally upon the results of the original paper by using a modified "
                       "version of TorchVision's new training recipe."})
    DEFAULT = IMAGENET1K_V2


class MobileNet_V3_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/mobilenet_v3_small-047dcff4.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={**_COMMON_META, 'num_params': 2542856, 'recipe': _V3_RECIPE,
              '_metrics': {'ImageNet-1K': {'acc@1': 67.668, 'acc@5': 87.402}}, '_ops': 0.057, '_file_size': 9.829,
              '_docs': 'These weights improve upon the results of the original paper by using a simple training '
                       'recipe.'})
    DEFAULT = IMAGENET1K_V1


@builder(MobileNet_V3_Large_Weights)
def mobilenet_v3_large(weights=None, **kwargs):
    """MobileNetV3-Large (``weights``: ``MobileNet_V3_Large_Weights``; ``width_mult``, ``reduced_tail``,
    ``dilated`` shape the network)."""
    return _mobilenet_v3('mobilenet_v3_large', kwargs)


@builder(MobileNet_V3_Small_Weights)
def mobilenet_v3_small(weights=None, **kwargs):
    """MobileNetV3-Small (``weights``: ``MobileNet_V3_Small_Weights``; ``width_mult``, ``reduced_tail``,
    ``dilated`` shape the network)."""
    return _mobilenet_v3('mobilenet_v3_small', kwargs)
