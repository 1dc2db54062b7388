"""DenseNet-BC (121/161/169/201) with torchvision's module names (``features.denseblockN.denselayerM...``)
and initialisation."""
import re
from collections import OrderedDict
from functools import partial

import ember
from ember import nn
from ember.nn import functional as F
from ember.utils import checkpoint as cp

from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum, builder
from ._meta import _IMAGENET_CATEGORIES

__all__ = ['DenseNet', 'DenseNet121_Weights', 'DenseNet161_Weights', 'DenseNet169_Weights', 'DenseNet201_Weights',
           'densenet121', 'densenet161', 'densenet169', 'densenet201']


class _DenseLayer(nn.Module):
    """BN-ReLU-1x1 conv (to ``bn_size * growth_rate``) then BN-ReLU-3x3 conv (to ``growth_rate``) over the
    concatenation of all earlier features; ``memory_efficient`` recomputes the bottleneck in backward."""

    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate, memory_efficient=False):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient

    def bn_function(self, inputs):
        return self.conv1(self.relu1(self.norm1(ember.cat(inputs, 1))))

    def any_requires_grad(self, input):
        return any(t.requires_grad for t in input)

    def call_checkpoint_bottleneck(self, input):
        return cp.checkpoint(lambda *inputs: self.bn_function(inputs), *input, use_reentrant=False)

    def forward(self, input):
        prev_features = [input] if isinstance(input, ember.Tensor) else input
        if self.memory_efficient and self.any_requires_grad(prev_features):
            bottleneck_output = self.call_checkpoint_bottleneck(prev_features)
        else:
            bottleneck_output = self.bn_function(prev_features)
        new_features = self.conv2(self.relu2(self.norm2(bottleneck_output)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class _DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers, each fed every feature map before it; returns their concatenation."""
    _version = 2

    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate, memory_efficient=False):
        super().__init__()
        for i in range(num_layers):
            self.add_module('denselayer%d' % (i + 1),
                            _DenseLayer(num_input_features + i * growth_rate, growth_rate=growth_rate,
                                        bn_size=bn_size, drop_rate=drop_rate, memory_efficient=memory_efficient))

    def forward(self, init_features):
        features = [init_features]
        for _, layer in self.items():
            features.append(layer(features))
        return ember.cat(features, 1)


class _Transition(nn.Sequential):
    """BN-ReLU-1x1 conv then 2x2 average pooling between dense blocks."""

    def __init__(self, num_input_features, num_output_features):
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    """DenseNet-BC from "Densely Connected Convolutional Networks"."""

    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64, bn_size=4, drop_rate=0,
                 num_classes=1000, memory_efficient=False):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ('conv0', nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
            ('norm0', nn.BatchNorm2d(num_init_features)),
            ('relu0', nn.ReLU(inplace=True)),
            ('pool0', nn.MaxPool2d(kernel_size=3, stride=2, padding=1))]))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module('denseblock%d' % (i + 1), _DenseBlock(
                num_layers=num_layers, num_input_features=num_features, bn_size=bn_size, growth_rate=growth_rate,
                drop_rate=drop_rate, memory_efficient=memory_efficient))
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module('transition%d' % (i + 1), _Transition(num_features, num_features // 2))
                num_features //= 2
        self.features.add_module('norm5', nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        out = F.adaptive_avg_pool2d(F.relu(self.features(x), inplace=True), (1, 1))
        return self.classifier(ember.flatten(out, 1))


_OLD_KEY = re.compile(r'^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$')


def _renamed_state_dict(state_dict):
    """The published DenseNet files name ``norm1`` as ``norm.1`` (an old layout): rename to the modules'."""
    out = OrderedDict()
    for key, value in state_dict.items():
        m = _OLD_KEY.match(key)
        out[m.group(1) + m.group(2) if m else key] = value
    return out


_COMMON_META = {'min_size': (29, 29), 'categories': _IMAGENET_CATEGORIES,
                'recipe': 'https://github.com/pytorch/vision/pull/116', '_docs': 'These weights are ported from LuaTorch.'}


def _weights(url, num_params, acc1, acc5, ops, size):
    return Weights(url=url, transforms=partial(ImageClassification, crop_size=224),
                   meta={**_COMMON_META, 'num_params': num_params,
                         '_metrics': {'ImageNet-1K': {'acc@1': acc1, 'acc@5': acc5}}, '_ops': ops, '_file_size': size})


class DenseNet121_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/densenet121-a639ec97.pth', 7978856, 74.434, 91.972,
                             2.834, 30.845)
    DEFAULT = IMAGENET1K_V1


class DenseNet161_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/densenet161-8d451a50.pth', 28681000, 77.138, 93.560,
                             7.728, 110.369)
    DEFAULT = IMAGENET1K_V1


class DenseNet169_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/densenet169-b2777c0a.pth', 14149480, 75.600, 92.806,
                             3.36, 54.708)
    DEFAULT = IMAGENET1K_V1


class DenseNet201_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/densenet201-c1103571.pth', 20013928, 76.896, 93.370,
                             4.291, 77.373)
    DEFAULT = IMAGENET1K_V1


@builder(DenseNet121_Weights, state_dict_hook=_renamed_state_dict)
def densenet121(weights=None, **kwargs):
    """DenseNet-121 (``weights``: ``DenseNet121_Weights``)."""
    return DenseNet(32, (6, 12, 24, 16), 64, **kwargs)


@builder(DenseNet161_Weights, state_dict_hook=_renamed_state_dict)
def densenet161(weights=None, **kwargs):
    """DenseNet-161 (``weights``: ``DenseNet161_Weights``)."""
    return DenseNet(48, (6, 12, 36, 24), 96, **kwargs)


@builder(DenseNet169_Weights, state_dict_hook=_renamed_state_dict)
def densenet169(weights=None, **kwargs):
    """DenseNet-169 (``weights``: ``DenseNet169_Weights``)."""
    return DenseNet(32, (6, 12, 32, 32), 64, **kwargs)


@builder(DenseNet201_Weights, state_dict_hook=_renamed_state_dict)
def densenet201(weights=None, **kwargs):
    """DenseNet-201 (``weights``: ``DenseNet201_Weights``)."""
    return DenseNet(32, (6, 12, 48, 32), 64, **kwargs)
