"""ResNet-18/34/50/101/152 with torchvision's module names, so its state dicts load unchanged."""
from functools import partial

import ember
from ember import nn

from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum, _ovewrite_named_param, builder
from ._meta import _IMAGENET_CATEGORIES

__all__ = ['ResNet', 'BasicBlock', 'Bottleneck', 'ResNet18_Weights', 'ResNet34_Weights', 'ResNet50_Weights',
           'ResNet101_Weights', 'ResNet152_Weights', 'ResNeXt50_32X4D_Weights', 'ResNeXt101_32X8D_Weights',
           'ResNeXt101_64X4D_Weights', 'Wide_ResNet50_2_Weights', 'Wide_ResNet101_2_Weights', 'resnet18', 'resnet34',
           'resnet50', 'resnet101', 'resnet152', 'resnext50_32x4d', 'resnext101_32x8d', 'resnext101_64x4d',
           'wide_resnet50_2', 'wide_resnet101_2']


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution with padding, no bias (a norm layer follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups,
                     bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet-18/34)."""
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError('BasicBlock only supports groups=1 and base_width=64')
        if dilation > 1:
            raise NotImplementedError('Dilation > 1 not supported in BasicBlock')
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)  # after bn2, as torchvision (fx order)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carrying the stride), 1x1 expand by 4, with a residual connection (ResNet-50+)."""
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """The ResNet trunk: a 7x7 stem, four stages of ``block`` (``layers`` blocks each), pooling and ``fc``.
    Convolutions get Kaiming-normal (fan_out) weights and norms ones/zeros, as torchvision initialises."""

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1, width_per_group=64,
                 replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError('replace_stride_with_dilation should be None or a 3-element tuple, got '
                             f'{replace_stride_with_dilation}')
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual):
        """torchvision's scheme, in its order (so a seeded run draws the same numbers)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                dilation=self.dilation, norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def _forward_impl(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(ember.flatten(self.avgpool(x), 1))

    def forward(self, x: ember.Tensor) -> ember.Tensor:  # annotated as torchvision's: fx graphs show the types
        return self._forward_impl(x)


_COMMON_META = {'min_size': (1, 1), 'categories': _IMAGENET_CATEGORIES}
_V1_RECIPE = 'https://github.com/pytorch/vision/tree/main/references/classification#resnet'
_V1_DOCS = 'These weights reproduce closely the results of the paper using a simple training recipe.'
_V2_RECIPE = 'https://github.com/pytorch/vision/issues/3995#new-recipe'
_V2_DOCS = ("These weights improve upon the results of the original paper by using TorchVision's `new training "
            'recipe <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-'
            'primitives/>`_.')


def _weights(file, num_params, acc1, acc5, ops, file_size, v2=False, recipe=None, docs=None):
    """A ``Weights`` entry for an ImageNet-1K ResNet checkpoint on download.pytorch.org (``v2``: trained
    with the new recipe and evaluated at resize 232)."""
    resize = {'resize_size': 232} if v2 else {}
    return Weights(
        url=f'https://download.pytorch.org/models/{file}',
        transforms=partial(ImageClassification, crop_size=224, **resize),
        meta={**_COMMON_META, 'num_params': num_params, 'recipe': recipe or (_V2_RECIPE if v2 else _V1_RECIPE),
              '_metrics': {'ImageNet-1K': {'acc@1': acc1, 'acc@5': acc5}}, '_ops': ops,
              '_file_size': file_size, '_docs': docs or (_V2_DOCS if v2 else _V1_DOCS)})


class ResNet18_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('resnet18-f37072fd.pth', 11689512, 69.758, 89.078, 1.814, 44.661)
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('resnet34-b627a593.pth', 21797672, 73.314, 91.42, 3.664, 83.275)
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('resnet50-0676ba61.pth', 25557032, 76.13, 92.862, 4.089, 97.781)
    IMAGENET1K_V2 = _weights('resnet50-11ad3fa6.pth', 25557032, 80.858, 95.434, 4.089, 97.79, v2=True,
                             recipe='https://github.com/pytorch/vision/issues/3995#issuecomment-1013906621')
    DEFAULT = IMAGENET1K_V2


class ResNet101_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('resnet101-63fe2227.pth', 44549160, 77.374, 93.546, 7.801, 170.511)
    IMAGENET1K_V2 = _weights('resnet101-cd907fc2.pth', 44549160, 81.886, 95.78, 7.801, 170.53, v2=True)
    DEFAULT = IMAGENET1K_V2


class ResNet152_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('resnet152-394f9c45.pth', 60192808, 78.312, 94.046, 11.514, 230.434)
    IMAGENET1K_V2 = _weights('resnet152-f82ba261.pth', 60192808, 82.284, 96.002, 11.514, 230.474, v2=True)
    DEFAULT = IMAGENET1K_V2


_RESNEXT_RECIPE = 'https://github.com/pytorch/vision/tree/main/references/classification#resnext'
_FIXRES_RECIPE = 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-fixres'
_WIDE_RECIPE = 'https://github.com/pytorch/vision/pull/912#issue-445437439'


class ResNeXt50_32X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('resnext50_32x4d-7cdf4587.pth', 25028904, 77.618, 93.698, 4.23, 95.789,
                             recipe=_RESNEXT_RECIPE)
    IMAGENET1K_V2 = _weights('resnext50_32x4d-1a0047aa.pth', 25028904, 81.198, 95.34, 4.23, 95.833, v2=True)
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_32X8D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('resnext101_32x8d-8ba56ff5.pth', 88791336, 79.312, 94.526, 16.414, 339.586,
                             recipe=_RESNEXT_RECIPE)
    IMAGENET1K_V2 = _weights('resnext101_32x8d-110c445d.pth', 88791336, 82.834, 96.228, 16.414, 339.673,
                             v2=True, recipe=_FIXRES_RECIPE)
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_64X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('resnext101_64x4d-173b62eb.pth', 83455272, 83.246, 96.454, 15.46, 319.318, v2=True,
                             recipe='https://github.com/pytorch/vision/pull/5935',
                             docs=_V2_DOCS.replace('improve upon the results of the original paper',
                                                   'were trained from scratch'))
    DEFAULT = IMAGENET1K_V1


class Wide_ResNet50_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('wide_resnet50_2-95faca4d.pth', 68883240, 78.468, 94.086, 11.398, 131.82,
                             recipe=_WIDE_RECIPE)
    IMAGENET1K_V2 = _weights('wide_resnet50_2-9ba9bcbe.pth', 68883240, 81.602, 95.758, 11.398, 263.124, v2=True,
                             recipe=_FIXRES_RECIPE)
    DEFAULT = IMAGENET1K_V2


class Wide_ResNet101_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('wide_resnet101_2-32ee1156.pth', 126886696, 78.848, 94.284, 22.753, 242.896,
                             recipe=_WIDE_RECIPE)
    IMAGENET1K_V2 = _weights('wide_resnet101_2-d733dc28.pth', 126886696, 82.51, 96.02, 22.753, 484.747, v2=True)
    DEFAULT = IMAGENET1K_V2


@builder(ResNet18_Weights)
def resnet18(weights=None, **kwargs):
    """ResNet-18 from "Deep Residual Learning for Image Recognition" (``weights``: ``ResNet18_Weights``)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], **kwargs)


@builder(ResNet34_Weights)
def resnet34(weights=None, **kwargs):
    """ResNet-34 (``weights``: ``ResNet34_Weights``)."""
    return ResNet(BasicBlock, [3, 4, 6, 3], **kwargs)


@builder(ResNet50_Weights)
def resnet50(weights=None, **kwargs):
    """ResNet-50 (``weights``: ``ResNet50_Weights``)."""
    return ResNet(Bottleneck, [3, 4, 6, 3], **kwargs)


@builder(ResNet101_Weights)
def resnet101(weights=None, **kwargs):
    """ResNet-101 (``weights``: ``ResNet101_Weights``)."""
    return ResNet(Bottleneck, [3, 4, 23, 3], **kwargs)


@builder(ResNet152_Weights)
def resnet152(weights=None, **kwargs):
    """ResNet-152 (``weights``: ``ResNet152_Weights``)."""
    return ResNet(Bottleneck, [3, 8, 36, 3], **kwargs)


@builder(ResNeXt50_32X4D_Weights)
def resnext50_32x4d(weights=None, **kwargs):
    """ResNeXt-50 32x4d from "Aggregated Residual Transformation for Deep Neural Networks"."""
    _ovewrite_named_param(kwargs, 'groups', 32)
    _ovewrite_named_param(kwargs, 'width_per_group', 4)
    return ResNet(Bottleneck, [3, 4, 6, 3], **kwargs)


@builder(ResNeXt101_32X8D_Weights)
def resnext101_32x8d(weights=None, **kwargs):
    """ResNeXt-101 32x8d."""
    _ovewrite_named_param(kwargs, 'groups', 32)
    _ovewrite_named_param(kwargs, 'width_per_group', 8)
    return ResNet(Bottleneck, [3, 4, 23, 3], **kwargs)


@builder(ResNeXt101_64X4D_Weights)
def resnext101_64x4d(weights=None, **kwargs):
    """ResNeXt-101 64x4d."""
    _ovewrite_named_param(kwargs, 'groups', 64)
    _ovewrite_named_param(kwargs, 'width_per_group', 4)
    return ResNet(Bottleneck, [3, 4, 23, 3], **kwargs)


@builder(Wide_ResNet50_2_Weights)
def wide_resnet50_2(weights=None, **kwargs):
    """Wide ResNet-50-2 from "Wide Residual Networks": bottlenecks twice as wide as ResNet-50's."""
    _ovewrite_named_param(kwargs, 'width_per_group', 64 * 2)
    return ResNet(Bottleneck, [3, 4, 6, 3], **kwargs)


@builder(Wide_ResNet101_2_Weights)
def wide_resnet101_2(weights=None, **kwargs):
    """Wide ResNet-101-2."""
    _ovewrite_named_param(kwargs, 'width_per_group', 64 * 2)
    return ResNet(Bottleneck, [3, 4, 23, 3], **kwargs)
