"""SqueezeNet 1.0 and 1.1 with torchvision's module names (``features.N.squeeze...``) and initialisation."""
from functools import partial

import ember
from ember import nn
from ember.nn import init

from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum, builder
from ._meta import _IMAGENET_CATEGORIES

__all__ = ['SqueezeNet', 'SqueezeNet1_0_Weights', 'SqueezeNet1_1_Weights', 'squeezenet1_0', 'squeezenet1_1']


class Fire(nn.Module):
    """A 1x1 squeeze, then 1x1 and 3x3 expansions side by side (concatenated on channels)."""

    def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return ember.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)


def _pool():
    return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)


class SqueezeNet(nn.Module):
    """SqueezeNet from "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters" (``version`` '1_0' or
    '1_1')."""

    def __init__(self, version='1_0', num_classes=1000, dropout=0.5):
        super().__init__()
        self.num_classes = num_classes
        if version == '1_0':
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2), nn.ReLU(inplace=True), _pool(),
                Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128), _pool(),
                Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                _pool(), Fire(512, 64, 256, 256))
        elif version == '1_1':
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True), _pool(),
                Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), _pool(),
                Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), _pool(),
                Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256))
        else:
            raise ValueError(f'Unsupported SqueezeNet version {version}: 1_0 or 1_1 expected')
        final_conv = nn.Conv2d(512, self.num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d((1, 1)))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    init.constant_(m.bias, 0)

    def forward(self, x):
        return ember.flatten(self.classifier(self.features(x)), 1)


_COMMON_META = {'categories': _IMAGENET_CATEGORIES,
                'recipe': 'https://github.com/pytorch/vision/pull/49#issuecomment-277560717',
                '_docs': 'These weights reproduce closely the results of the paper using a simple training recipe.'}


class SqueezeNet1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/squeezenet1_0-b66bff10.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={**_COMMON_META, 'min_size': (21, 21), 'num_params': 1248424,
              '_metrics': {'ImageNet-1K': {'acc@1': 58.092, 'acc@5': 80.420}}, '_ops': 0.819, '_file_size': 4.778})
    DEFAULT = IMAGENET1K_V1


class SqueezeNet1_1_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={**_COMMON_META, 'min_size': (17, 17), 'num_params': 1235496,
              '_metrics': {'ImageNet-1K': {'acc@1': 58.178, 'acc@5': 80.624}}, '_ops': 0.349, '_file_size': 4.729})
    DEFAULT = IMAGENET1K_V1


@builder(SqueezeNet1_0_Weights)
def squeezenet1_0(weights=None, **kwargs):
    """SqueezeNet 1.0 (``weights``: ``SqueezeNet1_0_Weights``)."""
    return SqueezeNet('1_0', **kwargs)


@builder(SqueezeNet1_1_Weights)
def squeezenet1_1(weights=None, **kwargs):
    """SqueezeNet 1.1, 2.4x less computation than 1.0 (``weights``: ``SqueezeNet1_1_Weights``)."""
    return SqueezeNet('1_1', **kwargs)
