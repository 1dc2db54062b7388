"""ShuffleNetV2 (x0.5 to x2.0) with torchvision's module names (``stageN.M.branch2...``); layers keep their
default initialisation, as torchvision's do."""
from functools import partial

import ember
from ember import nn

from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum, builder
from ._meta import _IMAGENET_CATEGORIES

__all__ = ['ShuffleNetV2', 'ShuffleNet_V2_X0_5_Weights', 'ShuffleNet_V2_X1_0_Weights', 'ShuffleNet_V2_X1_5_Weights',
           'ShuffleNet_V2_X2_0_Weights', 'shufflenet_v2_x0_5', 'shufflenet_v2_x1_0', 'shufflenet_v2_x1_5',
           'shufflenet_v2_x2_0']


def channel_shuffle(x, groups):
    """Interleave the channels of ``groups`` equal groups (N, g*c, H, W) -> (N, c*g, H, W)."""
    n, c, h, w = x.size()
    x = ember.transpose(x.view(n, groups, c // groups, h, w), 1, 2).contiguous()
    return x.view(n, c, h, w)


class InvertedResidual(nn.Module):
    """At stride 1 half the channels pass through and half go through 1x1-dw3x3-1x1; at stride > 1 both halves
    see the whole input (branch1 a dw3x3-1x1 downsampling); then the halves are shuffled together."""

    def __init__(self, inp, oup, stride):
        super().__init__()
        if not 1 <= stride <= 3:
            raise ValueError('illegal stride value')
        self.stride = stride
        branch_features = oup // 2
        if self.stride == 1 and inp != branch_features << 1:
            raise ValueError(f'Invalid combination of stride {stride}, inp {inp} and oup {oup} values. If stride == 1 '
                             'then inp should be equal to oup // 2 << 1.')
        if self.stride > 1:
            self.branch1 = nn.Sequential(
                self.depthwise_conv(inp, inp, kernel_size=3, stride=self.stride, padding=1), nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch_features, kernel_size=1, stride=1, padding=0, bias=False),
                nn.BatchNorm2d(branch_features), nn.ReLU(inplace=True))
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if self.stride > 1 else branch_features, branch_features, kernel_size=1, stride=1,
                      padding=0, bias=False),
            nn.BatchNorm2d(branch_features), nn.ReLU(inplace=True),
            self.depthwise_conv(branch_features, branch_features, kernel_size=3, stride=self.stride, padding=1),
            nn.BatchNorm2d(branch_features),
            nn.Conv2d(branch_features, branch_features, kernel_size=1, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(branch_features), nn.ReLU(inplace=True))

    @staticmethod
    def depthwise_conv(i, o, kernel_size, stride=1, padding=0, bias=False):
        return nn.Conv2d(i, o, kernel_size, stride, padding, bias=bias, groups=i)

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = ember.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = ember.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """ShuffleNetV2 from "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design"."""

    def __init__(self, stages_repeats, stages_out_channels, num_classes=1000, inverted_residual=InvertedResidual):
        super().__init__()
        if len(stages_repeats) != 3:
            raise ValueError('expected stages_repeats as list of 3 positive ints')
        if len(stages_out_channels) != 5:
            raise ValueError('expected stages_out_channels as list of 5 positive ints')
        self._stage_out_channels = stages_out_channels
        input_channels, output_channels = 3, stages_out_channels[0]
        self.conv1 = nn.Sequential(nn.Conv2d(input_channels, output_channels, 3, 2, 1, bias=False),
                                   nn.BatchNorm2d(output_channels), nn.ReLU(inplace=True))
        input_channels = output_channels
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, repeats, output_channels in zip((2, 3, 4), stages_repeats, stages_out_channels[1:]):
            seq = [inverted_residual(input_channels, output_channels, 2)]
            seq += [inverted_residual(output_channels, output_channels, 1) for _ in range(repeats - 1)]
            setattr(self, f'stage{i}', nn.Sequential(*seq))
            input_channels = output_channels
        output_channels = stages_out_channels[-1]
        self.conv5 = nn.Sequential(nn.Conv2d(input_channels, output_channels, 1, 1, 0, bias=False),
                                   nn.BatchNorm2d(output_channels), nn.ReLU(inplace=True))
        self.fc = nn.Linear(output_channels, num_classes)

    def _forward_impl(self, x):
        x = self.stage4(self.stage3(self.stage2(self.maxpool(self.conv1(x)))))
        return self.fc(self.conv5(x).mean([2, 3]))

    def forward(self, x):
        return self._forward_impl(x)


_COMMON_META = {'min_size': (1, 1), 'categories': _IMAGENET_CATEGORIES,
                'recipe': 'https://github.com/ericsun99/Shufflenet-v2-Pytorch'}
_NEW_RECIPE = {'recipe': 'https://github.com/pytorch/vision/pull/5906',
               '_docs': "These weights were trained from scratch by using TorchVision's new training recipe."}


def _weights(url, num_params, acc1, acc5, ops, size, resize=None, extra=None):
    kw = {} if resize is None else {'resize_size': resize}
    return Weights(url=url, transforms=partial(ImageClassification, crop_size=224, **kw),
                   meta={**_COMMON_META, **(extra or {}), 'num_params': num_params,
                         '_metrics': {'ImageNet-1K': {'acc@1': acc1, 'acc@5': acc5}}, '_ops': ops, '_file_size': size})


class ShuffleNet_V2_X0_5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/shufflenetv2_x0.5-f707e7126e.pth', 1366792,
                             60.552, 81.746, 0.04, 5.282)
    DEFAULT = IMAGENET1K_V1


class ShuffleNet_V2_X1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/shufflenetv2_x1-5666bf0f80.pth', 2278604,
                             69.362, 88.316, 0.145, 8.791)
    DEFAULT = IMAGENET1K_V1


class ShuffleNet_V2_X1_5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/shufflenetv2_x1_5-3c479a10.pth', 3503624,
                             72.996, 91.086, 0.296, 13.557, resize=232, extra=_NEW_RECIPE)
    DEFAULT = IMAGENET1K_V1


class ShuffleNet_V2_X2_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/shufflenetv2_x2_0-8be3c8ee.pth', 7393996,
                             76.230, 93.006, 0.583, 28.433, resize=232, extra=_NEW_RECIPE)
    DEFAULT = IMAGENET1K_V1


@builder(ShuffleNet_V2_X0_5_Weights)
def shufflenet_v2_x0_5(weights=None, **kwargs):
    """ShuffleNetV2 with 0.5x output channels (``weights``: ``ShuffleNet_V2_X0_5_Weights``)."""
    return ShuffleNetV2([4, 8, 4], [24, 48, 96, 192, 1024], **kwargs)


@builder(ShuffleNet_V2_X1_0_Weights)
def shufflenet_v2_x1_0(weights=None, **kwargs):
    """ShuffleNetV2 with 1.0x output channels (``weights``: ``ShuffleNet_V2_X1_0_Weights``)."""
    return ShuffleNetV2([4, 8, 4], [24, 116, 232, 464, 1024], **kwargs)


@builder(ShuffleNet_V2_X1_5_Weights)
def shufflenet_v2_x1_5(weights=None, **kwargs):
    """ShuffleNetV2 with 1.5x output channels (``weights``: ``ShuffleNet_V2_X1_5_Weights``)."""
    return ShuffleNetV2([4, 8, 4], [24, 176, 352, 704, 1024], **kwargs)


@builder(ShuffleNet_V2_X2_0_Weights)
def shufflenet_v2_x2_0(weights=None, **kwargs):
    """ShuffleNetV2 with 2.0x output channels (``weights``: ``ShuffleNet_V2_X2_0_Weights``)."""
    return ShuffleNetV2([4, 8, 4], [24, 244, 488, 976, 2048], **kwargs)
