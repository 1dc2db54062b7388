"""RegNet X and Y (400MF to 128GF) from "Designing Network Design Spaces", with torchvision's module names
(``trunk_output.blockN.blockN-M.f.a/b/se/c``), initialisation and weights enums."""
import math
from collections import OrderedDict
from functools import partial

import numpy as np

from ember import nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ..transforms._presets import ImageClassification
from ..transforms.functional import InterpolationMode
from ._api import Weights, WeightsEnum, builder
from ._meta import _IMAGENET_CATEGORIES
from ._utils import _make_divisible

_SIZES = ['y_400mf', 'y_800mf', 'y_1_6gf', 'y_3_2gf', 'y_8gf', 'y_16gf', 'y_32gf', 'y_128gf', 'x_400mf', 'x_800mf',
          'x_1_6gf', 'x_3_2gf', 'x_8gf', 'x_16gf', 'x_32gf']
__all__ = (['RegNet'] + [f'RegNet_{s.upper()}_Weights' for s in _SIZES] + [f'regnet_{s}' for s in _SIZES])


class SimpleStemIN(Conv2dNormActivation):
    """ImageNet stem: a stride-2 3x3 convolution, norm and activation."""

    def __init__(self, width_in, width_out, norm_layer, activation_layer):
        super().__init__(width_in, width_out, kernel_size=3, stride=2, norm_layer=norm_layer,
                         activation_layer=activation_layer)


class BottleneckTransform(nn.Sequential):
    """1x1 (``a``), grouped 3x3 carrying the stride (``b``), optional squeeze-excitation (``se``, its width a
    ratio of the block's input width), 1x1 without activation (``c``)."""

    def __init__(self, width_in, width_out, stride, norm_layer, activation_layer, group_width,
                 bottleneck_multiplier, se_ratio):
        w_b = int(round(width_out * bottleneck_multiplier))
        layers = OrderedDict()
        layers['a'] = Conv2dNormActivation(width_in, w_b, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=activation_layer)
        layers['b'] = Conv2dNormActivation(w_b, w_b, kernel_size=3, stride=stride, groups=w_b // group_width,
                                           norm_layer=norm_layer, activation_layer=activation_layer)
        if se_ratio:
            layers['se'] = SqueezeExcitation(w_b, int(round(se_ratio * width_in)), activation=activation_layer)
        layers['c'] = Conv2dNormActivation(w_b, width_out, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None)
        super().__init__(layers)


class ResBottleneckBlock(nn.Module):
    """``activation(shortcut(x) + f(x))``; the shortcut is a strided 1x1 projection when the shape changes."""

    def __init__(self, width_in, width_out, stride, norm_layer, activation_layer, group_width=1,
                 bottleneck_multiplier=1.0, se_ratio=None):
        super().__init__()
        self.proj = None
        if width_in != width_out or stride != 1:
            self.proj = Conv2dNormActivation(width_in, width_out, kernel_size=1, stride=stride,
                                             norm_layer=norm_layer, activation_layer=None)
        self.f = BottleneckTransform(width_in, width_out, stride, norm_layer, activation_layer, group_width,
                                     bottleneck_multiplier, se_ratio)
        self.activation = activation_layer(inplace=True)

    def forward(self, x):
        shortcut = x if self.proj is None else self.proj(x)
        return self.activation(shortcut + self.f(x))


class AnyStage(nn.Sequential):
    """``depth`` blocks of one output width named ``block{stage}-{i}``; the first carries the stride."""

    def __init__(self, width_in, width_out, stride, depth, block_constructor, norm_layer, activation_layer,
                 group_width, bottleneck_multiplier, se_ratio=None, stage_index=0):
        super().__init__()
        for i in range(depth):
            self.add_module(f'block{stage_index}-{i}', block_constructor(
                width_in if i == 0 else width_out, width_out, stride if i == 0 else 1, norm_layer,
                activation_layer, group_width, bottleneck_multiplier, se_ratio))


class BlockParams:
    """Per-stage depths, widths, group widths, bottleneck multipliers and strides of a RegNet."""

    def __init__(self, depths, widths, group_widths, bottleneck_multipliers, strides, se_ratio=None):
        self.depths = depths
        self.widths = widths
        self.group_widths = group_widths
        self.bottleneck_multipliers = bottleneck_multipliers
        self.strides = strides
        self.se_ratio = se_ratio

    @classmethod
    def from_init_params(cls, depth, w_0, w_a, w_m, group_width, bottleneck_multiplier=1.0, se_ratio=None,
                         **kwargs):
        """The stages of the quantised linear width rule: block ``i`` is ``w_0 + i * w_a`` wide, snapped to
        ``w_0 * w_m ** k`` and to a multiple of 8; consecutive blocks of one width form a stage (stride 2).
        The arithmetic is float32, as torchvision computes it with default-dtype tensors, so the rounding of
        borderline widths agrees."""
        if w_a < 0 or w_0 <= 0 or w_m <= 1 or w_0 % 8 != 0:
            raise ValueError('Invalid RegNet settings')
        f32 = np.float32
        widths_cont = np.arange(depth, dtype=f32) * f32(w_a) + f32(w_0)
        capacity = np.round(np.log(widths_cont / f32(w_0)) / f32(math.log(w_m)))
        block_widths = (np.round(f32(w_0) * np.power(f32(w_m), capacity) / f32(8)) * 8).astype(np.int32).tolist()
        starts = [i for i, w in enumerate(block_widths) if i == 0 or w != block_widths[i - 1]]
        stage_widths = [block_widths[i] for i in starts]
        stage_depths = np.diff(starts + [depth]).tolist()
        n = len(stage_widths)
        stage_widths, group_widths = cls._adjust_widths_groups_compatibilty(
            stage_widths, [bottleneck_multiplier] * n, [group_width] * n)
        return cls(depths=stage_depths, widths=stage_widths, group_widths=group_widths,
                   bottleneck_multipliers=[bottleneck_multiplier] * n, strides=[2] * n, se_ratio=se_ratio)

    def _get_expanded_params(self):
        return zip(self.widths, self.strides, self.depths, self.group_widths, self.bottleneck_multipliers)

    @staticmethod
    def _adjust_widths_groups_compatibilty(stage_widths, bottleneck_ratios, group_widths):
        """Group widths no wider than the bottleneck, and bottleneck widths a multiple of them."""
        widths = [int(w * b) for w, b in zip(stage_widths, bottleneck_ratios)]
        group_widths_min = [min(g, w_bot) for g, w_bot in zip(group_widths, widths)]
        ws_bot = [_make_divisible(w_bot, g) for w_bot, g in zip(widths, group_widths_min)]
        return [int(w_bot / b) for w_bot, b in zip(ws_bot, bottleneck_ratios)], group_widths_min


class RegNet(nn.Module):
    """Stem, the stages (``trunk_output.block1..``), global average pooling and a linear classifier, with
    ResNet-style initialisation."""

    def __init__(self, block_params, num_classes=1000, stem_width=32, stem_type=None, block_type=None,
                 norm_layer=None, activation=None):
        super().__init__()
        stem_type = stem_type or SimpleStemIN
        norm_layer = norm_layer or nn.BatchNorm2d
        block_type = block_type or ResBottleneckBlock
        activation = activation or nn.ReLU
        self.stem = stem_type(3, stem_width, norm_layer, activation)
        width, stages = stem_width, []
        for i, (width_out, stride, depth, group_width, mult) in enumerate(block_params._get_expanded_params()):
            stages.append((f'block{i + 1}', AnyStage(width, width_out, stride, depth, block_type, norm_layer,
                                                     activation, group_width, mult, block_params.se_ratio,
                                                     stage_index=i + 1)))
            width = width_out
        self.trunk_output = nn.Sequential(OrderedDict(stages))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(in_features=width, out_features=num_classes)
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, mean=0.0, std=math.sqrt(2.0 / fan_out))
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0.0, std=0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.avgpool(self.trunk_output(self.stem(x)))
        return self.fc(x.flatten(start_dim=1))


_URL = 'https://download.pytorch.org/models/'
_RECIPES = {'V1': 'https://github.com/pytorch/vision/tree/main/references/classification#',
            'V2': 'https://github.com/pytorch/vision/issues/3995#'}
_SWAG = {'SWAG_E2E_V1': 'https://github.com/facebookresearch/SWAG',
         'SWAG_LINEAR_V1': 'https://github.com/pytorch/vision/pull/5793'}
_DOCS = {
    'V1': 'These weights reproduce closely the results of the paper using a simple training recipe.',
    'V2': "These weights improve upon the results of the original paper by using a modified version of "
          "TorchVision's `new training recipe <https://pytorch.org/blog/how-to-train-state-of-the-art-models-"
          "using-torchvision-latest-primitives/>`_.",
    'SWAG_E2E_V1': 'These weights are learnt via transfer learning by end-to-end fine-tuning the original `SWAG '
                   '<https://arxiv.org/abs/2201.08371>`_ weights on ImageNet-1K data.',
    'SWAG_LINEAR_V1': 'These weights are composed of the original frozen `SWAG <https://arxiv.org/abs/2201.08371>`_ '
                      'trunk weights and a linear classifier learnt on top of them trained on ImageNet-1K data.'}
_TRANSFORMS = {
    'V1': partial(ImageClassification, crop_size=224),
    'V2': partial(ImageClassification, crop_size=224, resize_size=232),
    'SWAG_E2E_V1': partial(ImageClassification, crop_size=384, resize_size=384,
                           interpolation=InterpolationMode.BICUBIC),
    'SWAG_LINEAR_V1': partial(ImageClassification, crop_size=224, resize_size=224,
                              interpolation=InterpolationMode.BICUBIC)}


def _weights(file, kind, *rest):
    """One ``Weights`` entry of kind V1 / V2 (then the recipe's anchor) or SWAG_E2E_V1 / SWAG_LINEAR_V1,
    then num_params, acc@1, acc@5, GFLOPS and file size (MB); meta keys in torchvision's order."""
    if kind in _RECIPES:
        anchor, num_params, acc1, acc5, ops, size = rest
        head = {'num_params': num_params, 'recipe': _RECIPES[kind] + anchor}
    else:
        num_params, acc1, acc5, ops, size = rest
        head = {'recipe': _SWAG[kind], 'license': 'https://github.com/facebookresearch/SWAG/blob/main/LICENSE',
                'num_params': num_params}
    return Weights(url=f'{_URL}{file}.pth', transforms=_TRANSFORMS[kind], meta={
        'min_size': (1, 1), 'categories': _IMAGENET_CATEGORIES, **head,
        '_metrics': {'ImageNet-1K': {'acc@1': acc1, 'acc@5': acc5}}, '_ops': ops, '_file_size': size,
        '_docs': _DOCS[kind]})


class RegNet_Y_400MF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_y_400mf-c65dace8', 'V1', 'small-models', 4344144, 74.046, 91.716, 0.402, 16.806)
    IMAGENET1K_V2 = _weights('regnet_y_400mf-e6988f5f', 'V2', 'new-recipe', 4344144, 75.804, 92.742, 0.402, 16.806)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_800MF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_y_800mf-1b27b58c', 'V1', 'small-models', 6432512, 76.42, 93.136, 0.834, 24.774)
    IMAGENET1K_V2 = _weights('regnet_y_800mf-58fc7688', 'V2', 'new-recipe', 6432512, 78.828, 94.502, 0.834, 24.774)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_1_6GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_y_1_6gf-b11a554e', 'V1', 'small-models', 11202430, 77.95, 93.966, 1.612, 43.152)
    IMAGENET1K_V2 = _weights('regnet_y_1_6gf-0d7bc02a', 'V2', 'new-recipe', 11202430, 80.876, 95.444, 1.612, 43.152)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_3_2GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_y_3_2gf-b5a9779c', 'V1', 'medium-models', 19436338, 78.948, 94.576, 3.176, 74.567)
    IMAGENET1K_V2 = _weights('regnet_y_3_2gf-9180c971', 'V2', 'new-recipe', 19436338, 81.982, 95.972, 3.176, 74.567)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_8GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_y_8gf-d0d0e4a8', 'V1', 'medium-models', 39381472, 80.032, 95.048, 8.473, 150.701)
    IMAGENET1K_V2 = _weights('regnet_y_8gf-dc2b1b54', 'V2', 'new-recipe', 39381472, 82.828, 96.33, 8.473, 150.701)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_16GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_y_16gf-9e6ed7dd', 'V1', 'large-models', 83590140, 80.424, 95.24, 15.912, 319.49)
    IMAGENET1K_V2 = _weights('regnet_y_16gf-3e4a00f9', 'V2', 'new-recipe', 83590140, 82.886, 96.328, 15.912, 319.49)
    IMAGENET1K_SWAG_E2E_V1 = _weights('regnet_y_16gf_swag-43afe44d', 'SWAG_E2E_V1', 83590140,
                                      86.012, 98.054, 46.735, 319.49)
    IMAGENET1K_SWAG_LINEAR_V1 = _weights('regnet_y_16gf_lc_swag-f3ec0043', 'SWAG_LINEAR_V1', 83590140,
                                         83.976, 97.244, 15.912, 319.49)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_32GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_y_32gf-4dee3f7a', 'V1', 'large-models', 145046770, 80.878, 95.34, 32.28, 554.076)
    IMAGENET1K_V2 = _weights('regnet_y_32gf-8db6d4b5', 'V2', 'new-recipe', 145046770, 83.368, 96.498, 32.28, 554.076)
    IMAGENET1K_SWAG_E2E_V1 = _weights('regnet_y_32gf_swag-04fdfa75', 'SWAG_E2E_V1', 145046770,
                                      86.838, 98.362, 94.826, 554.076)
    IMAGENET1K_SWAG_LINEAR_V1 = _weights('regnet_y_32gf_lc_swag-e1583746', 'SWAG_LINEAR_V1', 145046770,
                                         84.622, 97.48, 32.28, 554.076)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_128GF_Weights(WeightsEnum):
    IMAGENET1K_SWAG_E2E_V1 = _weights('regnet_y_128gf_swag-c8ce3e52', 'SWAG_E2E_V1', 644812894,
                                      88.228, 98.682, 374.57, 2461.564)
    IMAGENET1K_SWAG_LINEAR_V1 = _weights('regnet_y_128gf_lc_swag-cbe8ce12', 'SWAG_LINEAR_V1', 644812894,
                                         86.068, 97.844, 127.518, 2461.564)
    DEFAULT = IMAGENET1K_SWAG_E2E_V1


class RegNet_X_400MF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_x_400mf-adf1edd5', 'V1', 'small-models', 5495976, 72.834, 90.95, 0.414, 21.258)
    IMAGENET1K_V2 = _weights('regnet_x_400mf-62229a5f', 'V2', 'new-recipe-with-fixres',
                             5495976, 74.864, 92.322, 0.414, 21.257)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_800MF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_x_800mf-ad17e45c', 'V1', 'small-models', 7259656, 75.212, 92.348, 0.8, 27.945)
    IMAGENET1K_V2 = _weights('regnet_x_800mf-94a99ebd', 'V2', 'new-recipe-with-fixres',
                             7259656, 77.522, 93.826, 0.8, 27.945)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_1_6GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_x_1_6gf-e3633e7f', 'V1', 'small-models', 9190136, 77.04, 93.44, 1.603, 35.339)
    IMAGENET1K_V2 = _weights('regnet_x_1_6gf-a12f2b72', 'V2', 'new-recipe-with-fixres',
                             9190136, 79.668, 94.922, 1.603, 35.339)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_3_2GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_x_3_2gf-f342aeae', 'V1', 'medium-models', 15296552, 78.364, 93.992, 3.177, 58.756)
    IMAGENET1K_V2 = _weights('regnet_x_3_2gf-7071aa85', 'V2', 'new-recipe', 15296552, 81.196, 95.43, 3.177, 58.756)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_8GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_x_8gf-03ceed89', 'V1', 'medium-models', 39572648, 79.344, 94.686, 7.995, 151.456)
    IMAGENET1K_V2 = _weights('regnet_x_8gf-2b70d774', 'V2', 'new-recipe', 39572648, 81.682, 95.678, 7.995, 151.456)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_16GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_x_16gf-2007eb11', 'V1', 'medium-models', 54278536, 80.058, 94.944, 15.941, 207.627)
    IMAGENET1K_V2 = _weights('regnet_x_16gf-ba3796d7', 'V2', 'new-recipe', 54278536, 82.716, 96.196, 15.941, 207.627)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_32GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('regnet_x_32gf-9d47f8d0', 'V1', 'large-models', 107811560, 80.622, 95.248, 31.736, 412.039)
    IMAGENET1K_V2 = _weights('regnet_x_32gf-6eb8fdc6', 'V2', 'new-recipe', 107811560, 83.014, 96.288, 31.736, 412.039)
    DEFAULT = IMAGENET1K_V2



def _regnet(kwargs, depth, w_0, w_a, w_m, group_width, se_ratio=None):
    """A RegNet of the given design parameters (batch norm with eps 1e-5 and momentum 0.1 by default)."""
    params = BlockParams.from_init_params(depth=depth, w_0=w_0, w_a=w_a, w_m=w_m, group_width=group_width,
                                          se_ratio=se_ratio, **kwargs)
    norm_layer = kwargs.pop('norm_layer', partial(nn.BatchNorm2d, eps=1e-05, momentum=0.1))
    return RegNet(params, norm_layer=norm_layer, **kwargs)


@builder(RegNet_Y_400MF_Weights)
def regnet_y_400mf(weights=None, **kwargs):
    """RegNetY-400MF (``weights``: ``RegNet_Y_400MF_Weights``)."""
    return _regnet(kwargs, 16, 48, 27.89, 2.09, 8, 0.25)


@builder(RegNet_Y_800MF_Weights)
def regnet_y_800mf(weights=None, **kwargs):
    """RegNetY-800MF (``weights``: ``RegNet_Y_800MF_Weights``)."""
    return _regnet(kwargs, 14, 56, 38.84, 2.4, 16, 0.25)


@builder(RegNet_Y_1_6GF_Weights)
def regnet_y_1_6gf(weights=None, **kwargs):
    """RegNetY-1.6GF (``weights``: ``RegNet_Y_1_6GF_Weights``)."""
    return _regnet(kwargs, 27, 48, 20.71, 2.65, 24, 0.25)


@builder(RegNet_Y_3_2GF_Weights)
def regnet_y_3_2gf(weights=None, **kwargs):
    """RegNetY-3.2GF (``weights``: ``RegNet_Y_3_2GF_Weights``)."""
    return _regnet(kwargs, 21, 80, 42.63, 2.66, 24, 0.25)


@builder(RegNet_Y_8GF_Weights)
def regnet_y_8gf(weights=None, **kwargs):
    """RegNetY-8GF (``weights``: ``RegNet_Y_8GF_Weights``)."""
    return _regnet(kwargs, 17, 192, 76.82, 2.19, 56, 0.25)


@builder(RegNet_Y_16GF_Weights)
def regnet_y_16gf(weights=None, **kwargs):
    """RegNetY-16GF (``weights``: ``RegNet_Y_16GF_Weights``)."""
    return _regnet(kwargs, 18, 200, 106.23, 2.48, 112, 0.25)


@builder(RegNet_Y_32GF_Weights)
def regnet_y_32gf(weights=None, **kwargs):
    """RegNetY-32GF (``weights``: ``RegNet_Y_32GF_Weights``)."""
    return _regnet(kwargs, 20, 232, 115.89, 2.53, 232, 0.25)


@builder(RegNet_Y_128GF_Weights)
def regnet_y_128gf(weights=None, **kwargs):
    """RegNetY-128GF (``weights``: ``RegNet_Y_128GF_Weights``)."""
    return _regnet(kwargs, 27, 456, 160.83, 2.52, 264, 0.25)


@builder(RegNet_X_400MF_Weights)
def regnet_x_400mf(weights=None, **kwargs):
    """RegNetX-400MF (``weights``: ``RegNet_X_400MF_Weights``)."""
    return _regnet(kwargs, 22, 24, 24.48, 2.54, 16)


@builder(RegNet_X_800MF_Weights)
def regnet_x_800mf(weights=None, **kwargs):
    """RegNetX-800MF (``weights``: ``RegNet_X_800MF_Weights``)."""
    return _regnet(kwargs, 16, 56, 35.73, 2.28, 16)


@builder(RegNet_X_1_6GF_Weights)
def regnet_x_1_6gf(weights=None, **kwargs):
    """RegNetX-1.6GF (``weights``: ``RegNet_X_1_6GF_Weights``)."""
    return _regnet(kwargs, 18, 80, 34.01, 2.25, 24)


@builder(RegNet_X_3_2GF_Weights)
def regnet_x_3_2gf(weights=None, **kwargs):
    """RegNetX-3.2GF (``weights``: ``RegNet_X_3_2GF_Weights``)."""
    return _regnet(kwargs, 25, 88, 26.31, 2.25, 48)


@builder(RegNet_X_8GF_Weights)
def regnet_x_8gf(weights=None, **kwargs):
    """RegNetX-8GF (``weights``: ``RegNet_X_8GF_Weights``)."""
    return _regnet(kwargs, 23, 80, 49.56, 2.88, 120)


@builder(RegNet_X_16GF_Weights)
def regnet_x_16gf(weights=None, **kwargs):
    """RegNetX-16GF (``weights``: ``RegNet_X_16GF_Weights``)."""
    return _regnet(kwargs, 22, 216, 55.59, 2.1, 128)


@builder(RegNet_X_32GF_Weights)
def regnet_x_32gf(weights=None, **kwargs):
    """RegNetX-32GF (``weights``: ``RegNet_X_32GF_Weights``)."""
    return _regnet(kwargs, 23, 320, 69.86, 2.0, 168)
