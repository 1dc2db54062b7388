"""MNASNet (B1 variant, depth multipliers 0.5 to 1.3) with torchvision's module names (``layers.N.M.layers...``),
initialisation and version-1 checkpoint loading."""
import warnings
from functools import partial

from ember import nn

from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum, builder
from ._meta import _IMAGENET_CATEGORIES

__all__ = ['MNASNet', 'MNASNet0_5_Weights', 'MNASNet0_75_Weights', 'MNASNet1_0_Weights', 'MNASNet1_3_Weights',
           'mnasnet0_5', 'mnasnet0_75', 'mnasnet1_0', 'mnasnet1_3']

# TensorFlow's batch norm decay 0.9997 as a PyTorch momentum.
_BN_MOMENTUM = 1 - 0.9997


class _InvertedResidual(nn.Module):
    """1x1 expansion, depthwise kxk, linear 1x1 projection; residual when the shape is kept."""

    def __init__(self, in_ch, out_ch, kernel_size, stride, expansion_factor, bn_momentum=0.1):
        super().__init__()
        if stride not in [1, 2]:
            raise ValueError(f'stride should be 1 or 2 instead of {stride}')
        if kernel_size not in [3, 5]:
            raise ValueError(f'kernel_size should be 3 or 5 instead of {kernel_size}')
        mid_ch = in_ch * expansion_factor
        self.apply_residual = in_ch == out_ch and stride == 1
        self.layers = nn.Sequential(
            nn.Conv2d(in_ch, mid_ch, 1, bias=False), nn.BatchNorm2d(mid_ch, momentum=bn_momentum),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_ch, mid_ch, kernel_size, padding=kernel_size // 2, stride=stride, groups=mid_ch,
                      bias=False),
            nn.BatchNorm2d(mid_ch, momentum=bn_momentum), nn.ReLU(inplace=True),
            nn.Conv2d(mid_ch, out_ch, 1, bias=False), nn.BatchNorm2d(out_ch, momentum=bn_momentum))

    def forward(self, input):
        return self.layers(input) + input if self.apply_residual else self.layers(input)


def _stack(in_ch, out_ch, kernel_size, stride, exp_factor, repeats, bn_momentum):
    """``repeats`` inverted residuals; only the first changes channels and strides."""
    if repeats < 1:
        raise ValueError(f'repeats should be >= 1, instead got {repeats}')
    first = _InvertedResidual(in_ch, out_ch, kernel_size, stride, exp_factor, bn_momentum=bn_momentum)
    rest = [_InvertedResidual(out_ch, out_ch, kernel_size, 1, exp_factor, bn_momentum=bn_momentum)
            for _ in range(1, repeats)]
    return nn.Sequential(first, *rest)


def _round_to_multiple_of(val, divisor, round_up_bias=0.9):
    """``val`` rounded to a multiple of ``divisor``, rounding up when rounding down loses over 10%."""
    if not 0.0 < round_up_bias < 1.0:
        raise ValueError(f'round_up_bias should be greater than 0.0 and smaller than 1.0 instead of {round_up_bias}')
    new_val = max(divisor, int(val + divisor / 2) // divisor * divisor)
    return new_val if new_val >= round_up_bias * val else new_val + divisor


def _get_depths(alpha):
    return [_round_to_multiple_of(depth * alpha, 8) for depth in [32, 16, 24, 40, 80, 96, 192, 320]]


def _stem(depths):
    """The first nine layers: stem convolutions and the first stack (version 1 kept them at alpha 1)."""
    return [nn.Conv2d(3, depths[0], 3, padding=1, stride=2, bias=False),
            nn.BatchNorm2d(depths[0], momentum=_BN_MOMENTUM), nn.ReLU(inplace=True),
            nn.Conv2d(depths[0], depths[0], 3, padding=1, stride=1, groups=depths[0], bias=False),
            nn.BatchNorm2d(depths[0], momentum=_BN_MOMENTUM), nn.ReLU(inplace=True),
            nn.Conv2d(depths[0], depths[1], 1, padding=0, stride=1, bias=False),
            nn.BatchNorm2d(depths[1], momentum=_BN_MOMENTUM),
            _stack(depths[1], depths[2], 3, 2, 3, 3, _BN_MOMENTUM)]


class MNASNet(nn.Module):
    """MNASNet from "MnasNet: Platform-Aware Neural Architecture Search for Mobile" (the B1 variant), its
    channel counts scaled by ``alpha``."""
    _version = 2

    def __init__(self, alpha, num_classes=1000, dropout=0.2):
        super().__init__()
        if alpha <= 0.0:
            raise ValueError(f'alpha should be greater than 0.0 instead of {alpha}')
        self.alpha = alpha
        self.num_classes = num_classes
        depths = _get_depths(alpha)
        layers = _stem(depths) + [
            _stack(depths[2], depths[3], 5, 2, 3, 3, _BN_MOMENTUM),
            _stack(depths[3], depths[4], 5, 2, 6, 3, _BN_MOMENTUM),
            _stack(depths[4], depths[5], 3, 1, 6, 2, _BN_MOMENTUM),
            _stack(depths[5], depths[6], 5, 2, 6, 4, _BN_MOMENTUM),
            _stack(depths[6], depths[7], 3, 1, 6, 1, _BN_MOMENTUM),
            nn.Conv2d(depths[7], 1280, 1, padding=0, stride=1, bias=False),
            nn.BatchNorm2d(1280, momentum=_BN_MOMENTUM), nn.ReLU(inplace=True)]
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(1280, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, mode='fan_out', nonlinearity='sigmoid')
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.classifier(self.layers(x).mean([2, 3]))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """A version-1 checkpoint (stem at 32/16 channels whatever ``alpha``) rebuilds the stem to fit, warning."""
        version = local_metadata.get('version', None)
        if version not in [1, 2]:
            raise ValueError(f'version should be set to 1 or 2 instead of {version}')
        if version == 1 and not self.alpha == 1.0:
            depths = _get_depths(self.alpha)
            for idx, layer in enumerate(_stem([32, 16, depths[2]])):
                self.layers[idx] = layer
            self._version = 1
            warnings.warn('A new version of MNASNet model has been implemented. Your checkpoint was saved using the '
                          'previous version. This checkpoint will load and work as before, but you may want to '
                          'upgrade by training a newer model or transfer learning from an updated ImageNet '
                          'checkpoint.', UserWarning)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


_COMMON_META = {'min_size': (1, 1), 'categories': _IMAGENET_CATEGORIES,
                'recipe': 'https://github.com/1e100/mnasnet_trainer'}
_PAPER = {'_docs': 'These weights reproduce closely the results of the paper.'}
_NEW = {'recipe': 'https://github.com/pytorch/vision/pull/6019',
        '_docs': "These weights were trained from scratch by using TorchVision's new training recipe."}


def _weights(url, num_params, acc1, acc5, ops, size, extra, resize=None):
    kw = {} if resize is None else {'resize_size': resize}
    return Weights(url=url, transforms=partial(ImageClassification, crop_size=224, **kw),
                   meta={**_COMMON_META, **extra, 'num_params': num_params,
                         '_metrics': {'ImageNet-1K': {'acc@1': acc1, 'acc@5': acc5}}, '_ops': ops, '_file_size': size})


class MNASNet0_5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/mnasnet0.5_top1_67.823-3ffadce67e.pth', 2218512,
                             67.734, 87.490, 0.104, 8.591, _PAPER)
    DEFAULT = IMAGENET1K_V1


class MNASNet0_75_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/mnasnet0_75-7090bc5f.pth', 3170208, 71.180, 90.496,
                             0.215, 12.303, _NEW, resize=232)
    DEFAULT = IMAGENET1K_V1


class MNASNet1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/mnasnet1.0_top1_73.512-f206786ef8.pth', 4383312,
                             73.456, 91.510, 0.314, 16.915, _PAPER)
    DEFAULT = IMAGENET1K_V1


class MNASNet1_3_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('https://download.pytorch.org/models/mnasnet1_3-a4c69d6f.pth', 6282256, 76.506, 93.522,
                             0.526, 24.246, _NEW, resize=232)
    DEFAULT = IMAGENET1K_V1


@builder(MNASNet0_5_Weights)
def mnasnet0_5(weights=None, **kwargs):
    """MNASNet with depth multiplier 0.5 (``weights``: ``MNASNet0_5_Weights``)."""
    return MNASNet(0.5, **kwargs)


@builder(MNASNet0_75_Weights)
def mnasnet0_75(weights=None, **kwargs):
    """MNASNet with depth multiplier 0.75 (``weights``: ``MNASNet0_75_Weights``)."""
    return MNASNet(0.75, **kwargs)


@builder(MNASNet1_0_Weights)
def mnasnet1_0(weights=None, **kwargs):
    """MNASNet with depth multiplier 1.0 (``weights``: ``MNASNet1_0_Weights``)."""
    return MNASNet(1.0, **kwargs)


@builder(MNASNet1_3_Weights)
def mnasnet1_3(weights=None, **kwargs):
    """MNASNet with depth multiplier 1.3 (``weights``: ``MNASNet1_3_Weights``)."""
    return MNASNet(1.3, **kwargs)
