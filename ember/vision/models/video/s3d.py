"""S3D ("Rethinking Spatiotemporal Feature Learning"): an Inception-style video network whose 3D convolutions
are split into a spatial and a temporal one, with torchvision's module names and Kinetics-400 weights enum."""
from functools import partial

import ember
from ember import nn

from ...ops.misc import Conv3dNormActivation
from ...transforms._presets import VideoClassification
from .._api import Weights, WeightsEnum, builder
from .._meta import _KINETICS400_CATEGORIES

__all__ = ['S3D', 'S3D_Weights', 's3d']


class TemporalSeparableConv(nn.Sequential):
    """A 1xkxk spatial then a kx1x1 temporal convolution, each with norm and ReLU."""

    def __init__(self, in_planes, out_planes, kernel_size, stride, padding, norm_layer):
        super().__init__(
            Conv3dNormActivation(in_planes, out_planes, kernel_size=(1, kernel_size, kernel_size),
                                 stride=(1, stride, stride), padding=(0, padding, padding), bias=False,
                                 norm_layer=norm_layer),
            Conv3dNormActivation(out_planes, out_planes, kernel_size=(kernel_size, 1, 1), stride=(stride, 1, 1),
                                 padding=(padding, 0, 0), bias=False, norm_layer=norm_layer))


class SepInceptionBlock3D(nn.Module):
    """Four branches concatenated on channels: 1x1x1; 1x1x1 then separable 3x3x3 (twice, other widths);
    3x3x3 max pool then 1x1x1."""

    def __init__(self, in_planes, b0_out, b1_mid, b1_out, b2_mid, b2_out, b3_out, norm_layer):
        super().__init__()
        pointwise = partial(Conv3dNormActivation, kernel_size=1, stride=1, norm_layer=norm_layer)
        separable = partial(TemporalSeparableConv, kernel_size=3, stride=1, padding=1, norm_layer=norm_layer)
        self.branch0 = pointwise(in_planes, b0_out)
        self.branch1 = nn.Sequential(pointwise(in_planes, b1_mid), separable(b1_mid, b1_out))
        self.branch2 = nn.Sequential(pointwise(in_planes, b2_mid), separable(b2_mid, b2_out))
        self.branch3 = nn.Sequential(nn.MaxPool3d(kernel_size=(3, 3, 3), stride=1, padding=1),
                                     pointwise(in_planes, b3_out))

    def forward(self, x):
        return ember.cat((self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)), 1)


_INCEPTION = [(192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64), 'pool3',
              (480, 192, 96, 208, 16, 48, 64), (512, 160, 112, 224, 24, 64, 64), (512, 128, 128, 256, 24, 64, 64),
              (512, 112, 144, 288, 32, 64, 64), (528, 256, 160, 320, 32, 128, 128), 'pool2',
              (832, 256, 160, 320, 32, 128, 128), (832, 384, 192, 384, 48, 128, 128)]


class S3D(nn.Module):
    """S3D over (N, C, T, H, W) clips: separable stem, Inception blocks, 2x7x7 average pooling, dropout and a
    1x1x1 convolution as classifier, averaged over what remains of time and space."""

    def __init__(self, num_classes=400, dropout=0.2, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or partial(nn.BatchNorm3d, eps=0.001, momentum=0.001)
        pools = {'pool3': nn.MaxPool3d(kernel_size=(3, 3, 3), stride=(2, 2, 2), padding=(1, 1, 1)),
                 'pool2': nn.MaxPool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2), padding=(0, 0, 0))}
        self.features = nn.Sequential(
            TemporalSeparableConv(3, 64, 7, 2, 3, norm_layer),
            nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
            Conv3dNormActivation(64, 64, kernel_size=1, stride=1, norm_layer=norm_layer),
            TemporalSeparableConv(64, 192, 3, 1, 1, norm_layer),
            nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
            *(pools[c] if isinstance(c, str) else SepInceptionBlock3D(*c, norm_layer) for c in _INCEPTION))
        self.avgpool = nn.AvgPool3d(kernel_size=(2, 7, 7), stride=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout),
                                        nn.Conv3d(1024, num_classes, kernel_size=1, stride=1, bias=True))

    def forward(self, x):
        x = self.classifier(self.avgpool(self.features(x)))
        return ember.mean(x, dim=(2, 3, 4))


class S3D_Weights(WeightsEnum):
    KINETICS400_V1 = Weights(
        url='https://download.pytorch.org/models/s3d-d76dad2f.pth',
        transforms=partial(VideoClassification, crop_size=(224, 224), resize_size=(256, 256)),
        meta={'min_size': (224, 224), 'min_temporal_size': 14, 'categories': _KINETICS400_CATEGORIES,
              'recipe': 'https://github.com/pytorch/vision/tree/main/references/video_classification#s3d',
              '_docs': 'The weights aim to approximate the accuracy of the paper. The accuracies are estimated on '
                       'clip-level with parameters `frame_rate=15`, `clips_per_video=1`, and `clip_len=128`.',
              'num_params': 8320048, '_metrics': {'Kinetics-400': {'acc@1': 68.368, 'acc@5': 88.050}},
              '_ops': 17.979, '_file_size': 31.972})
    DEFAULT = KINETICS400_V1


@builder(S3D_Weights, legacy='KINETICS400_V1')
def s3d(weights=None, **kwargs):
    """S3D (``weights``: ``S3D_Weights``)."""
    return S3D(**kwargs)
