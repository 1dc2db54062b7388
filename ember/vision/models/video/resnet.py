"""Video ResNets from "A Closer Look at Spatiotemporal Convolutions for Action Recognition": R3D-18 (3D
convolutions), MC3-18 (3D, then 2D-only from the second stage) and R(2+1)D-18 (each 3D convolution split into a
spatial and a temporal one), with torchvision's module names and Kinetics-400 weights enums."""
from functools import partial

from ember import nn

from ...transforms._presets import VideoClassification
from .._api import Weights, WeightsEnum, builder
from .._meta import _KINETICS400_CATEGORIES

__all__ = ['VideoResNet', 'R3D_18_Weights', 'MC3_18_Weights', 'R2Plus1D_18_Weights', 'r3d_18', 'mc3_18',
           'r2plus1d_18']


class Conv3DSimple(nn.Conv3d):
    """3x3x3 convolution (the stride in time and space)."""

    def __init__(self, in_planes, out_planes, midplanes=None, stride=1, padding=1):
        super().__init__(in_channels=in_planes, out_channels=out_planes, kernel_size=(3, 3, 3), stride=stride,
                         padding=padding, bias=False)

    @staticmethod
    def get_downsample_stride(stride):
        return stride, stride, stride


class Conv2Plus1D(nn.Sequential):
    """(2+1)D convolution: 1x3x3 spatial to ``midplanes``, batch norm, ReLU, then 3x1x1 temporal."""

    def __init__(self, in_planes, out_planes, midplanes, stride=1, padding=1):
        super().__init__(
            nn.Conv3d(in_planes, midplanes, kernel_size=(1, 3, 3), stride=(1, stride, stride),
                      padding=(0, padding, padding), bias=False),
            nn.BatchNorm3d(midplanes), nn.ReLU(inplace=True),
            nn.Conv3d(midplanes, out_planes, kernel_size=(3, 1, 1), stride=(stride, 1, 1), padding=(padding, 0, 0),
                      bias=False))

    @staticmethod
    def get_downsample_stride(stride):
        return stride, stride, stride


class Conv3DNoTemporal(nn.Conv3d):
    """1x3x3 convolution (spatial only, the stride in space only)."""

    def __init__(self, in_planes, out_planes, midplanes=None, stride=1, padding=1):
        super().__init__(in_channels=in_planes, out_channels=out_planes, kernel_size=(1, 3, 3),
                         stride=(1, stride, stride), padding=(0, padding, padding), bias=False)

    @staticmethod
    def get_downsample_stride(stride):
        return 1, stride, stride


def _midplanes(inplanes, planes):
    """The (2+1)D middle width that keeps the parameter count of a 3x3x3 convolution."""
    return (inplanes * planes * 3 * 3 * 3) // (inplanes * 3 * 3 + 3 * planes)


class BasicBlock(nn.Module):
    """Two ``conv_builder`` convolutions with batch norm, ReLU between and after the residual sum."""
    expansion = 1

    def __init__(self, inplanes, planes, conv_builder, stride=1, downsample=None):
        midplanes = _midplanes(inplanes, planes)
        super().__init__()
        self.conv1 = nn.Sequential(conv_builder(inplanes, planes, midplanes, stride), nn.BatchNorm3d(planes),
                                   nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(conv_builder(planes, planes, midplanes), nn.BatchNorm3d(planes))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        out = self.conv2(self.conv1(x))
        out += residual
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1x1, ``conv_builder`` (with the stride), 1x1x1 to 4x the width, each with batch norm; residual sum."""
    expansion = 4

    def __init__(self, inplanes, planes, conv_builder, stride=1, downsample=None):
        super().__init__()
        midplanes = _midplanes(inplanes, planes)
        self.conv1 = nn.Sequential(nn.Conv3d(inplanes, planes, kernel_size=1, bias=False), nn.BatchNorm3d(planes),
                                   nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(conv_builder(planes, planes, midplanes, stride), nn.BatchNorm3d(planes),
                                   nn.ReLU(inplace=True))
        self.conv3 = nn.Sequential(nn.Conv3d(planes, planes * self.expansion, kernel_size=1, bias=False),
                                   nn.BatchNorm3d(planes * self.expansion))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        out = self.conv3(self.conv2(self.conv1(x)))
        out += residual
        return self.relu(out)


class BasicStem(nn.Sequential):
    """3x7x7 convolution (spatial stride 2) to 64 channels, batch norm, ReLU."""

    def __init__(self):
        super().__init__(nn.Conv3d(3, 64, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
                         nn.BatchNorm3d(64), nn.ReLU(inplace=True))


class R2Plus1dStem(nn.Sequential):
    """The stem split in two: 1x7x7 spatial to 45 channels, then 3x1x1 temporal to 64."""

    def __init__(self):
        super().__init__(nn.Conv3d(3, 45, kernel_size=(1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
                         nn.BatchNorm3d(45), nn.ReLU(inplace=True),
                         nn.Conv3d(45, 64, kernel_size=(3, 1, 1), stride=(1, 1, 1), padding=(1, 0, 0), bias=False),
                         nn.BatchNorm3d(64), nn.ReLU(inplace=True))


class VideoResNet(nn.Module):
    """A ResNet over (N, C, T, H, W) clips: the stem, four stages (``conv_makers[i]`` builds stage i's
    convolutions), global average pooling and a linear classifier (Kinetics-400 by default)."""

    def __init__(self, block, conv_makers, layers, stem, num_classes=400, zero_init_residual=False):
        super().__init__()
        self.inplanes = 64
        self.stem = stem()
        self.layer1 = self._make_layer(block, conv_makers[0], 64, layers[0], stride=1)
        self.layer2 = self._make_layer(block, conv_makers[1], 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, conv_makers[2], 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, conv_makers[3], 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual):
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)

    def forward(self, x):
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.fc(self.avgpool(x).flatten(1))

    def _make_layer(self, block, conv_builder, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv3d(self.inplanes, planes * block.expansion, kernel_size=1,
                          stride=conv_builder.get_downsample_stride(stride), bias=False),
                nn.BatchNorm3d(planes * block.expansion))
        layers = [block(self.inplanes, planes, conv_builder, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, conv_builder) for _ in range(1, blocks)]
        return nn.Sequential(*layers)


_COMMON_META = {
    'min_size': (1, 1), 'categories': _KINETICS400_CATEGORIES,
    'recipe': 'https://github.com/pytorch/vision/tree/main/references/video_classification',
    '_docs': 'The weights reproduce closely the accuracy of the paper. The accuracies are estimated on video-level '
             'with parameters `frame_rate=15`, `clips_per_video=5`, and `clip_len=16`.'}


def _weights(file, num_params, acc1, acc5, ops, size):
    return Weights(url=f'https://download.pytorch.org/models/{file}.pth',
                   transforms=partial(VideoClassification, crop_size=(112, 112), resize_size=(128, 171)),
                   meta={**_COMMON_META, 'num_params': num_params,
                         '_metrics': {'Kinetics-400': {'acc@1': acc1, 'acc@5': acc5}}, '_ops': ops,
                         '_file_size': size})


class R3D_18_Weights(WeightsEnum):
    KINETICS400_V1 = _weights('r3d_18-b3b3357e', 33371472, 63.200, 83.479, 40.697, 127.359)
    DEFAULT = KINETICS400_V1


class MC3_18_Weights(WeightsEnum):
    KINETICS400_V1 = _weights('mc3_18-a90a0ba3', 11695440, 63.960, 84.130, 43.343, 44.672)
    DEFAULT = KINETICS400_V1


class R2Plus1D_18_Weights(WeightsEnum):
    KINETICS400_V1 = _weights('r2plus1d_18-91a641e6', 31505325, 67.463, 86.175, 40.519, 120.318)
    DEFAULT = KINETICS400_V1


@builder(R3D_18_Weights, legacy='KINETICS400_V1')
def r3d_18(weights=None, **kwargs):
    """R3D-18 (``weights``: ``R3D_18_Weights``)."""
    return VideoResNet(BasicBlock, [Conv3DSimple] * 4, [2, 2, 2, 2], BasicStem, **kwargs)


@builder(MC3_18_Weights, legacy='KINETICS400_V1')
def mc3_18(weights=None, **kwargs):
    """MC3-18 (``weights``: ``MC3_18_Weights``)."""
    return VideoResNet(BasicBlock, [Conv3DSimple] + [Conv3DNoTemporal] * 3, [2, 2, 2, 2], BasicStem, **kwargs)


@builder(R2Plus1D_18_Weights, legacy='KINETICS400_V1')
def r2plus1d_18(weights=None, **kwargs):
    """R(2+1)D-18 (``weights``: ``R2Plus1D_18_Weights``)."""
    return VideoResNet(BasicBlock, [Conv2Plus1D] * 4, [2, 2, 2, 2], R2Plus1dStem, **kwargs)
