"""The v2 transform protocol (``torchvision.transforms.v2.Transform``): a transform takes any structure of
inputs (an image, ``(image, label)``, a dict...), draws its random parameters once per call, applies them to
the image-like leaves and passes the rest through. Images are PIL images, tensors and ``tv_tensors``; as
torchvision does with plain tensors, only the first plain tensor of a sample is taken as the image when no PIL
image or ``tv_tensors.Image``/``Video`` is there. tv_tensors are always transformed: an image's result is
wrapped back into its type; boxes and masks pass through non-geometric transforms, and are moved by the flips,
resizes and crops (other geometric transforms refuse them plainly)."""
import enum

import ember
from ember.aliasing import unsupported
from ... import _image, tv_tensors
from ....nn import Module
from ....utils._pytree import tree_flatten, tree_unflatten

__all__ = ['Transform', 'Compose', 'RandomApply', 'RandomChoice', 'RandomOrder']


def _is_image_like(x):
    return isinstance(x, ember.Tensor) or _image.is_pil(x)


class Transform(Module):
    """Base class of the v2 transforms: override ``make_params`` (random draws, once per call) and
    ``transform`` (one input, given those parameters). ``_transformed_types`` limits the inputs a transform
    takes; ``_box_mask`` says what it does with BoundingBoxes and Masks: 'pass' them through (the default, for
    photometric transforms), 'handle' them in ``transform``, or 'refuse' them (geometric transforms ember does not
    apply to boxes and masks)."""
    _transformed_types = None
    _box_mask = 'pass'
    _unwraps = False

    def check_inputs(self, flat_inputs):
        pass

    def make_params(self, flat_inputs):
        return {}

    def transform(self, inpt, params):
        raise NotImplementedError

    def _needs_transform_list(self, flat_inputs):
        """Which leaves are transformed: PIL images and tensors of ``_transformed_types``, but a plain tensor only
        if it is the sample's first and the sample holds no PIL image, Image or Video (torchvision's rule)."""
        take_tensor = not any(_image.is_pil(x) or isinstance(x, (tv_tensors.Image, tv_tensors.Video))
                              for x in flat_inputs)
        types = self._transformed_types
        needs = []
        for x in flat_inputs:
            need = _is_image_like(x) and (types is None or isinstance(x, types))
            if need and type(x) is ember.Tensor:
                need, take_tensor = take_tensor, False
            needs.append(need)
        return needs

    def _apply(self, inpt, params):
        """``transform`` of one leaf with the tv_tensor rules: boxes and masks as ``_box_mask`` says, an
        image-like tv_tensor's plain result wrapped back into its type."""
        if isinstance(inpt, (tv_tensors.BoundingBoxes, tv_tensors.Mask)) and self._box_mask != 'handle':
            if self._box_mask == 'pass':
                return inpt
            raise NotImplementedError(unsupported(f'transforms.v2.{type(self).__name__} on {type(inpt).__name__}',
                                                  'ember moves boxes and masks with flips, resizes and crops only'))
        out = self.transform(inpt, params)
        if isinstance(inpt, tv_tensors.TVTensor) and type(out) is ember.Tensor and not self._unwraps:
            out = tv_tensors.wrap(out, like=inpt)
        return out

    def forward(self, *inputs):
        flat, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        self.check_inputs(flat)
        needs = self._needs_transform_list(flat)
        params = self.make_params([x for x, n in zip(flat, needs) if n])
        return tree_unflatten([self._apply(x, params) if n else x for x, n in zip(flat, needs)], spec)

    def extra_repr(self):
        """The public attributes of simple types, in the order they were set (torchvision's repr)."""
        out = []
        for name, value in self.__dict__.items():
            if name.startswith('_') or name == 'training':
                continue
            if isinstance(value, (bool, int, float, str, tuple, list, enum.Enum)):
                out.append(f'{name}={value}')
        return ', '.join(out)


class _RandomApplyTransform(Transform):
    """A transform applied with probability ``p``: one ``torch.rand(1)`` draw decides, before any other."""

    def __init__(self, p=0.5):
        if not 0.0 <= p <= 1.0:
            raise ValueError('`p` should be a floating point value in the interval [0.0, 1.0].')
        super().__init__()
        self.p = p

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        flat, spec = tree_flatten(inputs)
        self.check_inputs(flat)
        if not _applies(self.p):
            return inputs
        needs = self._needs_transform_list(flat)
        params = self.make_params([x for x, n in zip(flat, needs) if n])
        return tree_unflatten([self._apply(x, params) if n else x for x, n in zip(flat, needs)], spec)


def _applies(p):
    """``not torch.rand(1) >= p``: the draw compared with ``p`` in float32, as a one-element tensor compares."""
    import numpy as np
    return not ember.rand(1)._data[0] >= np.float32(p)


def _check_transforms(transforms):
    from collections.abc import Sequence
    if not isinstance(transforms, Sequence):
        raise TypeError('Argument transforms should be a sequence of callables')
    if not transforms:
        raise ValueError('Pass at least one transform')


def _chain(transforms, inputs):
    """Each transform applied in turn, a multi-input sample passed on unpacked."""
    unpack = len(inputs) > 1
    for t in transforms:
        outputs = t(*inputs)
        inputs = outputs if unpack else (outputs,)
    return outputs


def _listing(transforms):
    return '\n'.join(f'    {t}' for t in transforms)


class Compose(Transform):
    """The transforms applied in order."""

    def __init__(self, transforms):
        super().__init__()
        _check_transforms(transforms)
        self.transforms = transforms

    def forward(self, *inputs):
        return _chain(self.transforms, inputs)

    def extra_repr(self):
        return _listing(self.transforms)


class RandomApply(Transform):
    """The transforms applied in order, all or none, with probability ``p``."""

    def __init__(self, transforms, p=0.5):
        super().__init__()
        from collections.abc import Sequence
        if not isinstance(transforms, (Sequence, ember.nn.ModuleList)):
            raise TypeError('Argument transforms should be a sequence of callables or a `nn.ModuleList`')
        if not transforms:
            raise ValueError('Pass at least one transform')
        self.transforms = transforms
        if not 0.0 <= p <= 1.0:
            raise ValueError('`p` should be a floating point value in the interval [0.0, 1.0].')
        self.p = p

    def forward(self, *inputs):
        if not _applies(self.p):
            return inputs if len(inputs) > 1 else inputs[0]
        return _chain(self.transforms, inputs)

    def extra_repr(self):
        return _listing(self.transforms)


class RandomChoice(Transform):
    """One of the transforms, drawn with weights ``p`` (equal by default) by ``torch.multinomial``."""

    def __init__(self, transforms, p=None):
        _check_transforms(transforms)
        if p is None:
            p = [1] * len(transforms)
        elif len(p) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} != {len(transforms)}")
        super().__init__()
        self.transforms = transforms
        total = sum(p)
        self.p = [w / total for w in p]

    def forward(self, *inputs):
        idx = int(ember.multinomial(ember.tensor(self.p), 1))
        return self.transforms[idx](*inputs)


class RandomOrder(Transform):
    """The transforms applied in an order drawn by ``torch.randperm``."""

    def __init__(self, transforms):
        _check_transforms(transforms)
        super().__init__()
        self.transforms = transforms

    def forward(self, *inputs):
        order = [self.transforms[int(i)] for i in ember.randperm(len(self.transforms))]
        return _chain(order, inputs)
