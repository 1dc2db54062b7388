"""VGG-11/13/16/19, with and without batch norm, with torchvision's module names and initialisation."""
from functools import partial

import ember
from ember import nn

from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum, builder
from ._meta import _IMAGENET_CATEGORIES

__all__ = ['VGG', 'VGG11_Weights', 'VGG11_BN_Weights', 'VGG13_Weights', 'VGG13_BN_Weights', 'VGG16_Weights',
           'VGG16_BN_Weights', 'VGG19_Weights', 'VGG19_BN_Weights', 'vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn',
           'vgg16', 'vgg16_bn', 'vgg19', 'vgg19_bn']


class VGG(nn.Module):
    """A convolutional ``features`` trunk, 7x7 adaptive pooling and a three-layer classifier with dropout."""

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            self._init_weights()

    def _init_weights(self):
        """Kaiming-normal (fan_out) convolutions, ones/zeros norms, N(0, 0.01) linear layers, zero biases."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))


def make_layers(cfg, batch_norm=False):
    """The ``features`` trunk from a config: an int is a 3x3 conv (+BN) + ReLU, 'M' a 2x2 max pool."""
    layers = []
    in_channels = 3
    for v in cfg:
        if v == 'M':
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


cfgs = {
    'A': [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'B': [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'D': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
    'E': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
}

_COMMON_META = {'min_size': (32, 32), 'categories': _IMAGENET_CATEGORIES,
                'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg',
                '_docs': 'These weights were trained from scratch by using a simplified training recipe.'}


def _weights(file, num_params, acc1, acc5, ops, file_size):
    """A ``Weights`` entry for an ImageNet-1K VGG checkpoint on download.pytorch.org."""
    return Weights(url=f'https://download.pytorch.org/models/{file}',
                   transforms=partial(ImageClassification, crop_size=224),
                   meta={**_COMMON_META, 'num_params': num_params,
                         '_metrics': {'ImageNet-1K': {'acc@1': acc1, 'acc@5': acc5}}, '_ops': ops,
                         '_file_size': file_size})


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('vgg11-8a719046.pth', 132863336, 69.02, 88.628, 7.609, 506.84)
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('vgg11_bn-6002323d.pth', 132868840, 70.37, 89.81, 7.609, 506.881)
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('vgg13-19584684.pth', 133047848, 69.928, 89.246, 11.308, 507.545)
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('vgg13_bn-abd245e5.pth', 133053736, 71.586, 90.374, 11.308, 507.59)
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('vgg16-397923af.pth', 138357544, 71.592, 90.382, 15.47, 527.796)
    IMAGENET1K_FEATURES = Weights(
        url='https://download.pytorch.org/models/vgg16_features-amdegroot-88682ab5.pth',
        transforms=partial(ImageClassification, crop_size=224, mean=(0.48235, 0.45882, 0.40784),
                           std=(1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0)),
        meta={'num_params': 138357544, 'categories': None, 'min_size': (32, 32),
              'recipe': 'https://github.com/amdegroot/ssd.pytorch#training-ssd',
              '_metrics': {'ImageNet-1K': {'acc@1': float('nan'), 'acc@5': float('nan')}}, '_ops': 15.47,
              '_file_size': 527.802,
              '_docs': 'These weights can\'t be used for classification because they are missing values in the '
                       '`classifier` module. Only the `features` module has valid values and can be used for feature '
                       'extraction. The weights were trained using the original input standardization method as '
                       'described in the paper.'})
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('vgg16_bn-6c64b313.pth', 138365992, 73.36, 91.516, 15.47, 527.866)
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('vgg19-dcbb9e9d.pth', 143667240, 72.376, 90.876, 19.632, 548.051)
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('vgg19_bn-c79401a0.pth', 143678248, 74.218, 91.842, 19.632, 548.143)
    DEFAULT = IMAGENET1K_V1


def _vgg(cfg, batch_norm, weights, **kwargs):
    if weights is not None:
        kwargs['init_weights'] = False
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


@builder(VGG11_Weights)
def vgg11(weights=None, **kwargs):
    """VGG-11 (configuration "A") from "Very Deep Convolutional Networks for Large-Scale Image Recognition"."""
    return _vgg('A', False, weights, **kwargs)


@builder(VGG11_BN_Weights)
def vgg11_bn(weights=None, **kwargs):
    """VGG-11 with batch normalization."""
    return _vgg('A', True, weights, **kwargs)


@builder(VGG13_Weights)
def vgg13(weights=None, **kwargs):
    """VGG-13 (configuration "B")."""
    return _vgg('B', False, weights, **kwargs)


@builder(VGG13_BN_Weights)
def vgg13_bn(weights=None, **kwargs):
    """VGG-13 with batch normalization."""
    return _vgg('B', True, weights, **kwargs)


@builder(VGG16_Weights)
def vgg16(weights=None, **kwargs):
    """VGG-16 (configuration "D")."""
    return _vgg('D', False, weights, **kwargs)


@builder(VGG16_BN_Weights)
def vgg16_bn(weights=None, **kwargs):
    """VGG-16 with batch normalization."""
    return _vgg('D', True, weights, **kwargs)


@builder(VGG19_Weights)
def vgg19(weights=None, **kwargs):
    """VGG-19 (configuration "E")."""
    return _vgg('E', False, weights, **kwargs)


@builder(VGG19_BN_Weights)
def vgg19_bn(weights=None, **kwargs):
    """VGG-19 with batch normalization."""
    return _vgg('E', True, weights, **kwargs)
