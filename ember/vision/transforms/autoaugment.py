"""Automatic augmentation policies (``torchvision.transforms.autoaugment``): TrivialAugmentWide and
RandAugment, drawing their operation, magnitude and sign from ember's generator in torchvision's order."""
import math

import ember
from ember import nn
from . import functional as F
from .functional import InterpolationMode
from .transforms import _tensor_fill

__all__ = ['TrivialAugmentWide', 'RandAugment']


def _apply_op(img, op_name, magnitude, interpolation, fill):
    """One augmentation operation at ``magnitude``."""
    if op_name in ('ShearX', 'ShearY'):
        deg = math.degrees(math.atan(magnitude))
        return F.affine(img, angle=0.0, translate=[0, 0], scale=1.0,
                        shear=[deg, 0.0] if op_name == 'ShearX' else [0.0, deg],
                        interpolation=interpolation, fill=fill, center=[0, 0])
    if op_name in ('TranslateX', 'TranslateY'):
        t = [int(magnitude), 0] if op_name == 'TranslateX' else [0, int(magnitude)]
        return F.affine(img, angle=0.0, translate=t, scale=1.0, interpolation=interpolation, shear=[0.0, 0.0],
                        fill=fill)
    if op_name == 'Rotate':
        return F.rotate(img, magnitude, interpolation=interpolation, fill=fill)
    adjust = {'Brightness': F.adjust_brightness, 'Color': F.adjust_saturation, 'Contrast': F.adjust_contrast,
              'Sharpness': F.adjust_sharpness}
    if op_name in adjust:
        return adjust[op_name](img, 1.0 + magnitude)
    if op_name == 'Posterize':
        return F.posterize(img, int(magnitude))
    if op_name == 'Solarize':
        return F.solarize(img, magnitude)
    simple = {'AutoContrast': F.autocontrast, 'Equalize': F.equalize, 'Invert': F.invert}
    if op_name in simple:
        return simple[op_name](img)
    if op_name == 'Identity':
        return img
    raise ValueError(f'The provided operator {op_name} is not recognized.')


def _space(num_bins, geometry, color, translate, posterize_bits):
    """The operations and their magnitude bins (float32, as torch.linspace makes them), signed or not."""
    lin = ember.linspace
    return {
        'Identity': (ember.tensor(0.0), False),
        'ShearX': (lin(0.0, geometry, num_bins), True),
        'ShearY': (lin(0.0, geometry, num_bins), True),
        'TranslateX': (lin(0.0, translate[0], num_bins), True),
        'TranslateY': (lin(0.0, translate[1], num_bins), True),
        'Rotate': (lin(0.0, color[0], num_bins), True),
        'Brightness': (lin(0.0, color[1], num_bins), True),
        'Color': (lin(0.0, color[1], num_bins), True),
        'Contrast': (lin(0.0, color[1], num_bins), True),
        'Sharpness': (lin(0.0, color[1], num_bins), True),
        'Posterize': (8 - (ember.arange(num_bins) / ((num_bins - 1) / posterize_bits)).round().int(), False),
        'Solarize': (lin(255.0, 0.0, num_bins), False),
        'AutoContrast': (ember.tensor(0.0), False),
        'Equalize': (ember.tensor(0.0), False),
    }


def _randint(n):
    return int(ember.randint(n, (1,)).item())


class RandAugment(nn.Module):
    """RandAugment (https://arxiv.org/abs/1909.13719): ``num_ops`` random operations at one fixed
    ``magnitude`` bin, each with a random sign."""

    def __init__(self, num_ops=2, magnitude=9, num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST,
                 fill=None):
        super().__init__()
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins, image_size):
        h, w = image_size
        return _space(num_bins, 0.3, (30.0, 0.9), (150.0 / 331.0 * w, 150.0 / 331.0 * h), 4)

    def forward(self, img):
        fill = _tensor_fill(img, self.fill)
        _, height, width = F.get_dimensions(img)
        op_meta = self._augmentation_space(self.num_magnitude_bins, (height, width))
        for _ in range(self.num_ops):
            op_name = list(op_meta)[_randint(len(op_meta))]
            magnitudes, signed = op_meta[op_name]
            magnitude = float(magnitudes[self.magnitude].item()) if magnitudes.ndim > 0 else 0.0
            if signed and _randint(2):
                magnitude *= -1.0
            img = _apply_op(img, op_name, magnitude, interpolation=self.interpolation, fill=fill)
        return img

    def __repr__(self):
        return (f'{self.__class__.__name__}(num_ops={self.num_ops}, magnitude={self.magnitude}, '
                f'num_magnitude_bins={self.num_magnitude_bins}, interpolation={self.interpolation}, '
                f'fill={self.fill})')


class TrivialAugmentWide(nn.Module):
    """TrivialAugment Wide (https://arxiv.org/abs/2103.10158): one random operation at a random magnitude
    bin with a random sign."""

    def __init__(self, num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST, fill=None):
        super().__init__()
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins):
        return _space(num_bins, 0.99, (135.0, 0.99), (32.0, 32.0), 6)

    def forward(self, img):
        fill = _tensor_fill(img, self.fill)
        op_meta = self._augmentation_space(self.num_magnitude_bins)
        op_name = list(op_meta)[_randint(len(op_meta))]
        magnitudes, signed = op_meta[op_name]
        magnitude = float(magnitudes[_randint(len(magnitudes))].item()) if magnitudes.ndim > 0 else 0.0
        if signed and _randint(2):
            magnitude *= -1.0
        return _apply_op(img, op_name, magnitude, interpolation=self.interpolation, fill=fill)

    def __repr__(self):
        return (f'{self.__class__.__name__}(num_magnitude_bins={self.num_magnitude_bins}, '
                f'interpolation={self.interpolation}, fill={self.fill})')
