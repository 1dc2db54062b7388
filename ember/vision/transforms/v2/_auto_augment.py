"""v2's AutoAugment, RandAugment and TrivialAugmentWide: v1's operations and policies, but v2's draws (an
operation by ``randint(len, ())`` over its own op tables, the sign by ``rand(()) <= 0.5``, which v1 draws with
``randint(2)``), v2's solarize threshold (a fraction of the dtype's maximum) and v2's float kernels."""
import numpy as np

import ember
from ... import _image, tv_tensors
from ....utils._pytree import tree_flatten, tree_unflatten
from ..autoaugment import _POLICIES, AutoAugmentPolicy, _apply_op
from ..transforms import _tensor_fill
from . import _color as C
from ._transform import Transform
from ._transforms import _interp, _setup_fill, equalize, posterize, solarize

__all__ = ['AutoAugment', 'RandAugment', 'TrivialAugmentWide']


def _lin(end, start=0.0):
    return lambda bins, h, w: ember.linspace(start, end(h, w) if callable(end) else end, bins)


def _posterize_bins(top, steps):
    return lambda bins, h, w: (top - (ember.arange(bins) / ((bins - 1) / steps))).round().int()


def _none(bins, h, w):
    return None


def _space(shear, translate, rotate, color, posterize_bits, identity, invert):
    """v2's table of operations: name -> (magnitudes(num_bins, height, width), signed), in its order."""
    space = {'Identity': (_none, False)} if identity else {}
    space.update({
        'ShearX': (_lin(shear), True), 'ShearY': (_lin(shear), True),
        'TranslateX': (_lin(translate[0]), True), 'TranslateY': (_lin(translate[1]), True),
        'Rotate': (_lin(rotate), True), 'Brightness': (_lin(color), True), 'Color': (_lin(color), True),
        'Contrast': (_lin(color), True), 'Sharpness': (_lin(color), True),
        'Posterize': (_posterize_bins(8, posterize_bits), False), 'Solarize': (_lin(0.0, 1.0), False),
        'AutoContrast': (_none, False), 'Equalize': (_none, False)})
    if invert:
        space['Invert'] = (_none, False)
    return space


_COLOR = {'Brightness': C.adjust_brightness, 'Color': C.adjust_saturation, 'Contrast': C.adjust_contrast,
          'Sharpness': C.adjust_sharpness}
_PAPER = ((lambda h, w: 150.0 / 331.0 * w), (lambda h, w: 150.0 / 331.0 * h))


def _max_value(img):
    if _image.is_pil(img) or not img.is_floating_point():
        return 255.0
    return 1.0


class _AutoAugmentBase(Transform):
    def __init__(self, *, interpolation='nearest', fill=None):
        super().__init__()
        self.interpolation = interpolation
        self.fill = fill
        self._fill = _setup_fill(fill)

    def _random_item(self, space):
        keys = tuple(space)
        key = keys[int(ember.randint(len(keys), ()))]
        return key, space[key]

    def _extract(self, inputs):
        flat, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        images = []
        for i, need in enumerate(self._needs_transform_list(flat)):
            if isinstance(flat[i], (tv_tensors.BoundingBoxes, tv_tensors.Mask)):
                raise TypeError(f'Inputs of type {type(flat[i]).__name__} are not supported by {type(self).__name__}()')
            if need:
                images.append(i)
        if not images:
            raise TypeError('Found no image in the sample.')
        if len(images) > 1:
            raise TypeError(f'Auto augment transformations are only properly defined for a single image or video, but '
                            f'found {len(images)}.')
        return flat, spec, images[0]

    def _apply(self, img, op, magnitude):
        if op == 'Posterize':
            return posterize(img, int(magnitude))
        if op == 'Solarize':
            return solarize(img, _max_value(img) * magnitude)
        if op == 'Equalize':
            return equalize(img)
        if op == 'AutoContrast':
            return C.autocontrast(img)
        if op in _COLOR:
            return _COLOR[op](img, 1.0 + magnitude)
        return _apply_op(img, op, magnitude, _interp(self.interpolation), _tensor_fill(img, self._fill))

    def _magnitude(self, fn, signed, bins, h, w, pick):
        mags = fn(bins, h, w)
        if mags is None:
            return 0.0
        m = float(mags[pick()])
        if signed and ember.rand(()).item() <= np.float32(0.5):
            m = -m
        return m

    def _run(self, inputs, augment):
        flat, spec, idx = self._extract(inputs)
        img = flat[idx]
        _, h, w = ember.vision.transforms.functional.get_dimensions(img)
        out = augment(img, h, w)
        keep = isinstance(img, tv_tensors.TVTensor) and type(out) is ember.Tensor
        flat[idx] = tv_tensors.wrap(out, like=img) if keep else out
        return tree_unflatten(flat, spec)


class TrivialAugmentWide(_AutoAugmentBase):
    """One operation at one magnitude, both drawn uniformly (https://arxiv.org/abs/2103.10158)."""
    _SPACE = _space(0.99, (32.0, 32.0), 135.0, 0.99, 6, identity=True, invert=False)

    def __init__(self, num_magnitude_bins=31, interpolation='nearest', fill=None):
        super().__init__(interpolation=interpolation, fill=fill)
        self.num_magnitude_bins = num_magnitude_bins

    def forward(self, *inputs):
        def augment(img, h, w):
            op, (fn, signed) = self._random_item(self._SPACE)
            bins = self.num_magnitude_bins
            m = self._magnitude(fn, signed, bins, h, w, lambda: int(ember.randint(bins, ())))
            return self._apply(img, op, m)
        return self._run(inputs, augment)


class RandAugment(_AutoAugmentBase):
    """``num_ops`` operations drawn uniformly, each at the fixed ``magnitude`` (https://arxiv.org/abs/1909.13719)."""
    _SPACE = _space(0.3, _PAPER, 30.0, 0.9, 4, identity=True, invert=False)

    def __init__(self, num_ops=2, magnitude=9, num_magnitude_bins=31, interpolation='nearest', fill=None):
        super().__init__(interpolation=interpolation, fill=fill)
        if not isinstance(num_ops, int) or num_ops < 0:
            raise ValueError(f'num_ops should be a non-negative integer, but got {num_ops} instead.')
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins

    def forward(self, *inputs):
        def augment(img, h, w):
            for _ in range(self.num_ops):
                op, (fn, signed) = self._random_item(self._SPACE)
                m = self._magnitude(fn, signed, self.num_magnitude_bins, h, w, lambda: self.magnitude)
                img = self._apply(img, op, m)
            return img
        return self._run(inputs, augment)


class AutoAugment(_AutoAugmentBase):
    """One random sub-policy of ``policy``, each of its two operations applied with its probability."""
    _SPACE = _space(0.3, _PAPER, 30.0, 0.9, 4, identity=False, invert=True)

    def __init__(self, policy=AutoAugmentPolicy.IMAGENET, interpolation='nearest', fill=None):
        super().__init__(interpolation=interpolation, fill=fill)
        if policy.value not in _POLICIES:
            raise ValueError(f'The provided policy {policy} is not recognized.')
        self.policy = policy
        self._policies = _POLICIES[policy.value]

    def forward(self, *inputs):
        def augment(img, h, w):
            policy = self._policies[int(ember.randint(len(self._policies), ()))]
            for op, prob, mag_idx in policy:
                if not ember.rand(()).item() <= np.float32(prob):
                    continue
                fn, signed = self._SPACE[op]
                img = self._apply(img, op, self._magnitude(fn, signed, 10, h, w, lambda: mag_idx))
            return img
        return self._run(inputs, augment)
