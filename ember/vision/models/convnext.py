"""ConvNeXt (tiny to large) with torchvision's module names (``features.N.M.block...``) and initialisation."""
from functools import partial

import ember
from ember import nn
from ember.nn import functional as F

from ..ops.misc import Conv2dNormActivation, Permute
from ..ops.stochastic_depth import StochasticDepth
from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum, builder
from ._meta import _IMAGENET_CATEGORIES

__all__ = ['ConvNeXt', 'ConvNeXt_Tiny_Weights', 'ConvNeXt_Small_Weights', 'ConvNeXt_Base_Weights',
           'ConvNeXt_Large_Weights', 'convnext_tiny', 'convnext_small', 'convnext_base', 'convnext_large']


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW tensor."""

    def forward(self, x):
        x = F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    """Depthwise 7x7, LayerNorm, 4x inverted-bottleneck MLP with GELU, per-channel layer scale, stochastic
    depth, residual."""

    def __init__(self, dim, layer_scale, stochastic_depth_prob, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-6)
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True), Permute([0, 2, 3, 1]),
            norm_layer(dim), nn.Linear(in_features=dim, out_features=4 * dim, bias=True), nn.GELU(),
            nn.Linear(in_features=4 * dim, out_features=dim, bias=True), Permute([0, 3, 1, 2]))
        self.layer_scale = nn.Parameter(ember.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, 'row')

    def forward(self, input):
        result = self.stochastic_depth(self.layer_scale * self.block(input))
        result += input
        return result


class CNBlockConfig:
    """One stage: ``num_layers`` blocks at ``input_channels``, then a downsampling to ``out_channels``
    (None for the last stage)."""

    def __init__(self, input_channels, out_channels, num_layers):
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers

    def __repr__(self):
        return (f'{self.__class__.__name__}(input_channels={self.input_channels}, '
                f'out_channels={self.out_channels}, num_layers={self.num_layers})')


class ConvNeXt(nn.Module):
    """ConvNeXt from "A ConvNet for the 2020s"; the stochastic depth rate grows linearly over the blocks."""

    def __init__(self, block_setting, stochastic_depth_prob=0.0, layer_scale=1e-6, num_classes=1000, block=None,
                 norm_layer=None, **kwargs):
        super().__init__()
        if not block_setting:
            raise ValueError('The block_setting should not be empty')
        if not (isinstance(block_setting, (list, tuple)) and all(isinstance(s, CNBlockConfig) for s in block_setting)):
            raise TypeError('The block_setting should be List[CNBlockConfig]')
        block = block or CNBlock
        norm_layer = norm_layer or partial(LayerNorm2d, eps=1e-6)
        layers = [Conv2dNormActivation(3, block_setting[0].input_channels, kernel_size=4, stride=4, padding=0,
                                       norm_layer=norm_layer, activation_layer=None, bias=True)]
        total_stage_blocks = sum(cnf.num_layers for cnf in block_setting)
        stage_block_id = 0
        for cnf in block_setting:
            stage = []
            for _ in range(cnf.num_layers):
                sd_prob = stochastic_depth_prob * stage_block_id / (total_stage_blocks - 1.0)
                stage.append(block(cnf.input_channels, layer_scale, sd_prob))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
            if cnf.out_channels is not None:
                layers.append(nn.Sequential(norm_layer(cnf.input_channels),
                                            nn.Conv2d(cnf.input_channels, cnf.out_channels, kernel_size=2, stride=2)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        last = block_setting[-1]
        last_channels = last.out_channels if last.out_channels is not None else last.input_channels
        self.classifier = nn.Sequential(norm_layer(last_channels), nn.Flatten(1), nn.Linear(last_channels, num_classes))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _forward_impl(self, x):
        return self.classifier(self.avgpool(self.features(x)))

    def forward(self, x):
        return self._forward_impl(x)


_COMMON_META = {'min_size': (32, 32), 'categories': _IMAGENET_CATEGORIES,
                'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#convnext',
                '_docs': "These weights improve upon the results of the original paper by using a modified version "
                         "of TorchVision's new training recipe."}


def _weights(url, resize, num_params, acc1, acc5, ops, size):
    return Weights(url=url, transforms=partial(ImageClassification, crop_size=224, resize_size=resize),
                   meta={**_COMMON_META, 'num_params': num_params,
                         '_metrics': {'ImageNet-1K': {'acc@1': acc1, 'acc@5': acc5}}, '_ops': ops, '_file_size': size})


class ConvNeXt_Tiny_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/convnext_tiny-983f1562.pth', 236, 28589128, 82.520,
                             96.146, 4.456, 109.119)
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/convnext_small-0c510722.pth', 230, 50223688,
                             83.616, 96.650, 8.684, 191.703)
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Base_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/convnext_base-6075fbad.pth', 232, 88591464, 84.062,
                             96.870, 15.355, 338.064)
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/convnext_large-ea097f82.pth', 232, 197767336,
                             84.414, 96.976, 34.361, 754.537)
    DEFAULT = IMAGENET1K_V1


def _convnext(widths, depths, default_sd_prob, kwargs):
    setting = [CNBlockConfig(w, nxt, d) for w, nxt, d in zip(widths, widths[1:] + [None], depths)]
    sd_prob = kwargs.pop('stochastic_depth_prob', default_sd_prob)
    return ConvNeXt(setting, stochastic_depth_prob=sd_prob, **kwargs)


@builder(ConvNeXt_Tiny_Weights)
def convnext_tiny(weights=None, **kwargs):
    """ConvNeXt Tiny (``weights``: ``ConvNeXt_Tiny_Weights``)."""
    return _convnext([96, 192, 384, 768], [3, 3, 9, 3], 0.1, kwargs)


@builder(ConvNeXt_Small_Weights)
def convnext_small(weights=None, **kwargs):
    """ConvNeXt Small (``weights``: ``ConvNeXt_Small_Weights``)."""
    return _convnext([96, 192, 384, 768], [3, 3, 27, 3], 0.4, kwargs)


@builder(ConvNeXt_Base_Weights)
def convnext_base(weights=None, **kwargs):
    """ConvNeXt Base (``weights``: ``ConvNeXt_Base_Weights``)."""
    return _convnext([128, 256, 512, 1024], [3, 3, 27, 3], 0.5, kwargs)


@builder(ConvNeXt_Large_Weights)
def convnext_large(weights=None, **kwargs):
    """ConvNeXt Large (``weights``: ``ConvNeXt_Large_Weights``)."""
    return _convnext([192, 384, 768, 1536], [3, 3, 27, 3], 0.5, kwargs)
