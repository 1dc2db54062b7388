"""Automatic augmentation policies (``torchvision.transforms.autoaugment``): TrivialAugmentWide and
RandAugment, drawing their operation, magnitude and sign from ember's generator in torchvision's order."""
import math
from enum import Enum

import numpy as np

import ember
from ember import nn
from . import functional as F
from .functional import InterpolationMode
from .transforms import _tensor_fill

__all__ = ['AutoAugmentPolicy', 'AutoAugment', 'RandAugment', 'TrivialAugmentWide', 'AugMix']


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


class AutoAugmentPolicy(Enum):
    """AutoAugment policies learned on different datasets: IMAGENET, CIFAR10 and SVHN."""
    IMAGENET = 'imagenet'
    CIFAR10 = 'cifar10'
    SVHN = 'svhn'


# (op, probability, magnitude bin) pairs of https://arxiv.org/abs/1805.09501, as torchvision lists them
_POLICIES = {
    'imagenet': [
        (('Posterize', 0.4, 8), ('Rotate', 0.6, 9)), (('Solarize', 0.6, 5), ('AutoContrast', 0.6, None)),
        (('Equalize', 0.8, None), ('Equalize', 0.6, None)), (('Posterize', 0.6, 7), ('Posterize', 0.6, 6)),
        (('Equalize', 0.4, None), ('Solarize', 0.2, 4)), (('Equalize', 0.4, None), ('Rotate', 0.8, 8)),
        (('Solarize', 0.6, 3), ('Equalize', 0.6, None)), (('Posterize', 0.8, 5), ('Equalize', 1.0, None)),
        (('Rotate', 0.2, 3), ('Solarize', 0.6, 8)), (('Equalize', 0.6, None), ('Posterize', 0.4, 6)),
        (('Rotate', 0.8, 8), ('Color', 0.4, 0)), (('Rotate', 0.4, 9), ('Equalize', 0.6, None)),
        (('Equalize', 0.0, None), ('Equalize', 0.8, None)), (('Invert', 0.6, None), ('Equalize', 1.0, None)),
        (('Color', 0.6, 4), ('Contrast', 1.0, 8)), (('Rotate', 0.8, 8), ('Color', 1.0, 2)),
        (('Color', 0.8, 8), ('Solarize', 0.8, 7)), (('Sharpness', 0.4, 7), ('Invert', 0.6, None)),
        (('ShearX', 0.6, 5), ('Equalize', 1.0, None)), (('Color', 0.4, 0), ('Equalize', 0.6, None)),
        (('Equalize', 0.4, None), ('Solarize', 0.2, 4)), (('Solarize', 0.6, 5), ('AutoContrast', 0.6, None)),
        (('Invert', 0.6, None), ('Equalize', 1.0, None)), (('Color', 0.6, 4), ('Contrast', 1.0, 8)),
        (('Equalize', 0.8, None), ('Equalize', 0.6, None))],
    'cifar10': [
        (('Invert', 0.1, None), ('Contrast', 0.2, 6)), (('Rotate', 0.7, 2), ('TranslateX', 0.3, 9)),
        (('Sharpness', 0.8, 1), ('Sharpness', 0.9, 3)), (('ShearY', 0.5, 8), ('TranslateY', 0.7, 9)),
        (('AutoContrast', 0.5, None), ('Equalize', 0.9, None)), (('ShearY', 0.2, 7), ('Posterize', 0.3, 7)),
        (('Color', 0.4, 3), ('Brightness', 0.6, 7)), (('Sharpness', 0.3, 9), ('Brightness', 0.7, 9)),
        (('Equalize', 0.6, None), ('Equalize', 0.5, None)), (('Contrast', 0.6, 7), ('Sharpness', 0.6, 5)),
        (('Color', 0.7, 7), ('TranslateX', 0.5, 8)), (('Equalize', 0.3, None), ('AutoContrast', 0.4, None)),
        (('TranslateY', 0.4, 3), ('Sharpness', 0.2, 6)), (('Brightness', 0.9, 6), ('Color', 0.2, 8)),
        (('Solarize', 0.5, 2), ('Invert', 0.0, None)), (('Equalize', 0.2, None), ('AutoContrast', 0.6, None)),
        (('Equalize', 0.2, None), ('Equalize', 0.6, None)), (('Color', 0.9, 9), ('Equalize', 0.6, None)),
        (('AutoContrast', 0.8, None), ('Solarize', 0.2, 8)), (('Brightness', 0.1, 3), ('Color', 0.7, 0)),
        (('Solarize', 0.4, 5), ('AutoContrast', 0.9, None)), (('TranslateY', 0.9, 9), ('TranslateY', 0.7, 9)),
        (('AutoContrast', 0.9, None), ('Solarize', 0.8, 3)), (('Equalize', 0.8, None), ('Invert', 0.1, None)),
        (('TranslateY', 0.7, 9), ('AutoContrast', 0.9, None))],
    'svhn': [
        (('ShearX', 0.9, 4), ('Invert', 0.2, None)), (('ShearY', 0.9, 8), ('Invert', 0.7, None)),
        (('Equalize', 0.6, None), ('Solarize', 0.6, 6)), (('Invert', 0.9, None), ('Equalize', 0.6, None)),
        (('Equalize', 0.6, None), ('Rotate', 0.9, 3)), (('ShearX', 0.9, 4), ('AutoContrast', 0.8, None)),
        (('ShearY', 0.9, 8), ('Invert', 0.4, None)), (('ShearY', 0.9, 5), ('Solarize', 0.2, 6)),
        (('Invert', 0.9, None), ('AutoContrast', 0.8, None)), (('Equalize', 0.6, None), ('Rotate', 0.9, 3)),
        (('ShearX', 0.9, 4), ('Solarize', 0.3, 3)), (('ShearY', 0.8, 8), ('Invert', 0.7, None)),
        (('Equalize', 0.9, None), ('TranslateY', 0.6, 6)), (('Invert', 0.9, None), ('Equalize', 0.6, None)),
        (('Contrast', 0.3, 3), ('Rotate', 0.8, 4)), (('Invert', 0.8, None), ('TranslateY', 0.0, 2)),
        (('ShearY', 0.7, 6), ('Solarize', 0.4, 8)), (('Invert', 0.6, None), ('Rotate', 0.8, 4)),
        (('ShearY', 0.3, 7), ('TranslateX', 0.9, 3)), (('ShearX', 0.1, 6), ('Invert', 0.6, None)),
        (('Solarize', 0.7, 2), ('TranslateY', 0.6, 7)), (('ShearY', 0.8, 4), ('Invert', 0.8, None)),
        (('ShearX', 0.7, 9), ('TranslateY', 0.8, 3)), (('ShearY', 0.8, 5), ('AutoContrast', 0.7, None)),
        (('ShearX', 0.7, 2), ('Invert', 0.1, None))],
}


class AutoAugment(nn.Module):
    """AutoAugment (https://arxiv.org/abs/1805.09501): one random sub-policy of ``policy``, each of its two
    operations applied with its probability and a random sign."""

    def __init__(self, policy=AutoAugmentPolicy.IMAGENET, interpolation=InterpolationMode.NEAREST, fill=None):
        super().__init__()
        self.policy = policy
        self.interpolation = interpolation
        self.fill = fill
        self.policies = self._get_policies(policy)

    def _get_policies(self, policy):
        if not isinstance(policy, AutoAugmentPolicy):
            raise ValueError(f'The provided policy {policy} is not recognized.')
        return list(_POLICIES[policy.value])

    def _augmentation_space(self, num_bins, image_size):
        h, w = image_size
        space = _space(num_bins, 0.3, (30.0, 0.9), (150.0 / 331.0 * w, 150.0 / 331.0 * h), 4)
        del space['Identity']
        space['Invert'] = (ember.tensor(0.0), False)
        return space

    @staticmethod
    def get_params(transform_num):
        """(sub-policy index, two probabilities ``rand(2)``, two signs ``randint(2, (2,))``)."""
        policy_id = _randint(transform_num)
        return policy_id, ember.rand((2,)), ember.randint(2, (2,))

    def forward(self, img):
        fill = _tensor_fill(img, self.fill)
        _, height, width = F.get_dimensions(img)
        transform_id, probs, signs = self.get_params(len(self.policies))
        op_meta = self._augmentation_space(10, (height, width))
        for i, (op_name, p, magnitude_id) in enumerate(self.policies[transform_id]):
            if probs._data[i] <= np.float32(p):     # a float32 tensor against a Python number: compared in float32
                magnitudes, signed = op_meta[op_name]
                magnitude = float(magnitudes[magnitude_id].item()) if magnitude_id is not None else 0.0
                if signed and int(signs._data[i]) == 0:
                    magnitude *= -1.0
                img = _apply_op(img, op_name, magnitude, interpolation=self.interpolation, fill=fill)
        return img

    def __repr__(self):
        return f'{self.__class__.__name__}(policy={self.policy}, fill={self.fill})'


class AugMix(nn.Module):
    """AugMix (https://arxiv.org/abs/1912.02781): ``mixture_width`` chains of random operations mixed with
    Dirichlet weights, then blended with the original by a Beta weight (uint8 tensors and PIL images)."""
    _PARAMETER_MAX = 10

    def __init__(self, severity=3, mixture_width=3, chain_depth=-1, alpha=1.0, all_ops=True,
                 interpolation=InterpolationMode.BILINEAR, fill=None):
        super().__init__()
        if not 1 <= severity <= self._PARAMETER_MAX:
            raise ValueError(f'The severity must be between [1, {self._PARAMETER_MAX}]. Got {severity} instead.')
        self.severity = severity
        self.mixture_width = mixture_width
        self.chain_depth = chain_depth
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins, image_size):
        h, w = image_size
        lin = ember.linspace
        space = {
            'ShearX': (lin(0.0, 0.3, num_bins), True),
            'ShearY': (lin(0.0, 0.3, num_bins), True),
            'TranslateX': (lin(0.0, w / 3.0, num_bins), True),
            'TranslateY': (lin(0.0, h / 3.0, num_bins), True),
            'Rotate': (lin(0.0, 30.0, num_bins), True),
            'Posterize': (4 - (ember.arange(num_bins) / ((num_bins - 1) / 4)).round().int(), False),
            'Solarize': (lin(255.0, 0.0, num_bins), False),
            'AutoContrast': (ember.tensor(0.0), False),
            'Equalize': (ember.tensor(0.0), False),
        }
        if self.all_ops:
            space.update({name: (lin(0.0, 0.9, num_bins), True)
                          for name in ('Brightness', 'Color', 'Contrast', 'Sharpness')})
        return space

    def _sample_dirichlet(self, params):
        return ember._sample_dirichlet(params)

    def forward(self, orig_img):
        fill = _tensor_fill(orig_img, self.fill)
        _, height, width = F.get_dimensions(orig_img)
        img = orig_img if isinstance(orig_img, ember.Tensor) else F.pil_to_tensor(orig_img)
        op_meta = self._augmentation_space(self._PARAMETER_MAX, (height, width))
        names = list(op_meta)
        orig_dims = list(img.shape)
        batch = img.view([1] * max(4 - img.ndim, 0) + orig_dims)
        n = batch.size(0)
        batch_dims = [n] + [1] * (batch.ndim - 1)
        m = self._sample_dirichlet(ember.tensor([self.alpha, self.alpha]).expand(n, -1))
        weights = self._sample_dirichlet(ember.tensor([self.alpha] * self.mixture_width).expand(n, -1))
        weights = weights * m[:, 1].view([n, -1])
        mix = m[:, 0].view(batch_dims) * batch
        for i in range(self.mixture_width):
            aug = batch
            depth = self.chain_depth if self.chain_depth > 0 else int(ember.randint(1, 4, size=(1,)).item())
            for _ in range(depth):
                op_name = names[_randint(len(names))]
                magnitudes, signed = op_meta[op_name]
                magnitude = float(magnitudes[_randint(self.severity)].item()) if magnitudes.ndim > 0 else 0.0
                if signed and _randint(2):
                    magnitude *= -1.0
                aug = _apply_op(aug, op_name, magnitude, interpolation=self.interpolation, fill=fill)
            mix.add_(weights[:, i].view(batch_dims) * aug)
        mix = mix.view(orig_dims).to(dtype=img.dtype)
        return mix if isinstance(orig_img, ember.Tensor) else F.to_pil_image(mix)

    def __repr__(self):
        return (f'{self.__class__.__name__}(severity={self.severity}, mixture_width={self.mixture_width}, '
                f'chain_depth={self.chain_depth}, alpha={self.alpha}, all_ops={self.all_ops}, '
                f'interpolation={self.interpolation}, fill={self.fill})')
