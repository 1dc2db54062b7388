"""Transform classes with torchvision's arguments, behaviour and ``repr``.

Random choices draw from ember's global generator, so ``ember.manual_seed`` makes them reproducible."""
import math
import numbers
import random
import warnings

import numpy as np
from collections.abc import Sequence

import ember
from . import _blur, functional as F
from .functional import InterpolationMode, _interpolation

__all__ = ['Compose', 'ToTensor', 'PILToTensor', 'ToPILImage', 'Normalize', 'Resize', 'CenterCrop', 'Pad',
           'Lambda', 'RandomApply', 'RandomCrop', 'RandomHorizontalFlip', 'RandomVerticalFlip',
           'RandomResizedCrop', 'Grayscale', 'RandomGrayscale', 'RandomRotation', 'RandomAffine',
           'ColorJitter', 'ConvertImageDtype', 'RandomErasing', 'GaussianBlur', 'RandomInvert', 'RandomPosterize',
           'RandomSolarize', 'RandomAdjustSharpness', 'RandomAutocontrast', 'RandomEqualize', 'FiveCrop', 'TenCrop',
           'RandomPerspective', 'RandomOrder', 'RandomChoice', 'LinearTransformation', 'ElasticTransform']


def _rand():
    """``torch.rand(1)``'s float32 value: compared with a Python number as torchvision compares the tensor
    (the number rounded to float32)."""
    return _Float32(ember.rand(1)._data[0])


class _Float32(float):
    """A float32 sample that compares with Python numbers in float32, as a one-element tensor does."""

    def __lt__(self, other):
        return np.float32(self) < np.float32(other)

    def __gt__(self, other):
        return np.float32(self) > np.float32(other)


def _uniform(low, high):
    """``torch.empty(1).uniform_(low, high).item()``."""
    return ember.empty(1).uniform_(low, high).item()


def _randint(low, high):
    """A uniform integer in [low, high) from ember's global generator."""
    return int(ember.randint(low, high, size=(1,)).item())


def _setup_size(size, error_msg):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(error_msg)
    return size


class _Transform(ember.nn.Module):
    """A transform whose work is in ``forward``: an ``nn.Module`` as torchvision's (``isinstance(t, nn.Module)``,
    forward hooks, ``nn.Sequential`` of transforms); the module state exists before the subclass's ``__init__``."""

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        ember.nn.Module.__init__(self)
        return self


class Compose:
    """Apply several transforms in order."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        lines = [f'    {t}' for t in self.transforms]
        return self.__class__.__name__ + '(' + ''.join('\n' + line for line in lines) + '\n)'


class ToTensor:
    """PIL image or HWC ndarray to a CHW float tensor in [0, 1] (uint8 inputs are divided by 255)."""

    def __call__(self, pic):
        return F.to_tensor(pic)

    def __repr__(self):
        return f'{self.__class__.__name__}()'


class PILToTensor:
    """PIL image to a CHW tensor of the same type, unscaled."""

    def __call__(self, pic):
        return F.pil_to_tensor(pic)

    def __repr__(self):
        return f'{self.__class__.__name__}()'


class ToPILImage:
    """CHW tensor or HWC ndarray to a PIL image (mode inferred from channels and dtype if not given)."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self):
        return self.__class__.__name__ + '(' + (f'mode={self.mode}' if self.mode is not None else '') + ')'


class Normalize(_Transform):
    """Per-channel ``(x - mean) / std`` of a float tensor image."""

    def __init__(self, mean, std, inplace=False):
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self):
        return f'{self.__class__.__name__}(mean={self.mean}, std={self.std})'


class Resize(_Transform):
    """Resize to (h, w), or match the shorter edge to an int ``size`` keeping the aspect ratio."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f'Size should be int or sequence. Got {type(size)}')
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError('If size is a sequence, it should have 1 or 2 values')
        self.size = size
        self.max_size = max_size
        self.interpolation = _interpolation(interpolation)
        self.antialias = antialias

    def forward(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self):
        return (f'{self.__class__.__name__}(size={self.size}, interpolation={self.interpolation.value}, '
                f'max_size={self.max_size}, antialias={self.antialias})')


class _SizedCrop(_Transform):
    """A crop that takes only ``size`` (int for a square): ``_crop(img, size)`` does the work."""

    def __init__(self, size):
        self.size = _setup_size(size, error_msg='Please provide only two dimensions (h, w) for size.')

    def forward(self, img):
        return self._crop(img, self.size)

    def __repr__(self):
        return f'{self.__class__.__name__}(size={self.size})'


class CenterCrop(_SizedCrop):
    """Crop the centre to ``size`` (int for a square), zero-padding images that are too small."""
    _crop = staticmethod(F.center_crop)


class Pad(_Transform):
    """Pad the borders with a constant ``fill`` or by edge, reflect or symmetric copying."""

    def __init__(self, padding, fill=0, padding_mode='constant'):
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError('Got inappropriate padding arg')
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError('Got inappropriate fill arg')
        if padding_mode not in ('constant', 'edge', 'reflect', 'symmetric'):
            raise ValueError('Padding mode should be either constant, edge, reflect or symmetric')
        if isinstance(padding, Sequence) and len(padding) not in (1, 2, 4):
            raise ValueError('Padding must be an int or a 1, 2, or 4 element tuple, not a '
                             f'{len(padding)} element tuple')
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return (f'{self.__class__.__name__}(padding={self.padding}, fill={self.fill}, '
                f'padding_mode={self.padding_mode})')


class Lambda:
    """Use a user function as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f'Argument lambd should be callable, got {repr(type(lambd).__name__)}')
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f'{self.__class__.__name__}()'


class RandomApply(_Transform):
    """Apply a list of transforms together with probability ``p``."""

    def __init__(self, transforms, p=0.5):
        self.transforms = transforms
        self.p = p

    def forward(self, img):
        if self.p < _rand():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        lines = [f'    p={self.p}'] + [f'    {t}' for t in self.transforms]
        return self.__class__.__name__ + '(' + ''.join('\n' + line for line in lines) + '\n)'


class _RandomTransforms:
    """A list of transforms applied in a random way; Python's ``random`` draws, as torchvision's (not the
    generator ``manual_seed`` sets)."""

    def __init__(self, transforms):
        if not isinstance(transforms, Sequence):
            raise TypeError('Argument transforms should be a sequence')
        self.transforms = transforms

    def __repr__(self):
        return self.__class__.__name__ + '(' + ''.join(f'\n    {t}' for t in self.transforms) + '\n)'


class RandomOrder(_RandomTransforms):
    """Apply the transforms in a random order (``random.shuffle``)."""

    def __call__(self, img):
        order = list(range(len(self.transforms)))
        random.shuffle(order)
        for i in order:
            img = self.transforms[i](img)
        return img


class RandomChoice(_RandomTransforms):
    """Apply one transform of the list, picked by ``random.choices`` with weights ``p``."""

    def __init__(self, transforms, p=None):
        super().__init__(transforms)
        if p is not None and not isinstance(p, Sequence):
            raise TypeError('Argument p should be a sequence')
        self.p = p

    def __call__(self, *args):
        return random.choices(self.transforms, weights=self.p)[0](*args)

    def __repr__(self):
        return f'{super().__repr__()}(p={self.p})'


class LinearTransformation(_Transform):
    """Whiten a tensor image: flattened to D = C * H * W values, minus ``mean_vector``, times the D x D
    ``transformation_matrix``, reshaped back."""

    def __init__(self, transformation_matrix, mean_vector):
        m, v = transformation_matrix, mean_vector
        if m.size(0) != m.size(1):
            raise ValueError(f'transformation_matrix should be square. Got {tuple(m.size())} rectangular matrix.')
        if v.size(0) != m.size(0):
            raise ValueError(f'mean_vector should have the same length {v.size(0)} as any one of the dimensions of '
                             f'the transformation_matrix [{tuple(m.size())}]')
        if m.device != v.device:
            raise ValueError(f'Input tensors should be on the same device. Got {m.device} and {v.device}')
        if m.dtype != v.dtype:
            raise ValueError(f'Input tensors should have the same dtype. Got {m.dtype} and {v.dtype}')
        self.transformation_matrix, self.mean_vector = m, v

    def forward(self, tensor):
        shape = tensor.shape
        n = shape[-3] * shape[-2] * shape[-1]
        if n != self.transformation_matrix.shape[0]:
            raise ValueError('Input tensor and transformation matrix have incompatible shape.'
                             f'[{shape[-3]} x {shape[-2]} x {shape[-1]}] != {self.transformation_matrix.shape[0]}')
        if tensor.device.type != self.mean_vector.device.type:
            raise ValueError('Input tensor should be on the same device as transformation matrix and mean vector. '
                             f'Got {tensor.device} vs {self.mean_vector.device}')
        flat = tensor.view(-1, n) - self.mean_vector
        return ember.mm(flat, self.transformation_matrix.to(flat.dtype)).view(shape)

    def __repr__(self):
        return (f'{self.__class__.__name__}(transformation_matrix={self.transformation_matrix.tolist()}, '
                f'mean_vector={self.mean_vector.tolist()})')


class RandomCrop(_Transform):
    """Crop a random ``size`` window, after optional padding (``pad_if_needed`` pads small images)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode='constant'):
        self.size = tuple(_setup_size(size, error_msg='Please provide only two dimensions (h, w) for size.'))
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img, output_size):
        """Random ``(top, left, h, w)`` of a crop of ``output_size``."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f'Required crop size {(th, tw)} is larger than input image size {(h, w)}')
        if w == tw and h == th:
            return 0, 0, h, w
        return _randint(0, h - th + 1), _randint(0, w - tw + 1), th, tw

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return F.crop(img, i, j, h, w)

    def __repr__(self):
        return f'{self.__class__.__name__}(size={self.size}, padding={self.padding})'


class RandomHorizontalFlip(_Transform):
    """Mirror left-right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def forward(self, img):
        return F.hflip(img) if _rand() < self.p else img

    def __repr__(self):
        return f'{self.__class__.__name__}(p={self.p})'


class RandomVerticalFlip(_Transform):
    """Mirror top-bottom with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def forward(self, img):
        return F.vflip(img) if _rand() < self.p else img

    def __repr__(self):
        return f'{self.__class__.__name__}(p={self.p})'


class RandomResizedCrop(_Transform):
    """Crop a random area fraction (``scale``) and aspect ``ratio``, then resize it to ``size``."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        self.size = _setup_size(size, error_msg='Please provide only two dimensions (h, w) for size.')
        if not isinstance(scale, Sequence):
            raise TypeError('Scale should be a sequence')
        if not isinstance(ratio, Sequence):
            raise TypeError('Ratio should be a sequence')
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn('Scale and ratio should be of kind (min, max)')
        self.interpolation = _interpolation(interpolation)
        self.antialias = antialias
        self.scale = scale
        self.ratio = ratio

    @staticmethod
    def get_params(img, scale, ratio):
        """Random ``(top, left, h, w)``: ten tries at a fitting box, else a central crop."""
        _, height, width = F.get_dimensions(img)
        area = height * width
        log_ratio = ember.log(ember.tensor(ratio))
        for _ in range(10):
            target_area = area * _uniform(scale[0], scale[1])
            aspect = ember.exp(ember.empty(1).uniform_(log_ratio[0].item(), log_ratio[1].item())).item()
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return _randint(0, height - h + 1), _randint(0, width - w + 1), h, w
        return RandomResizedCrop._central(height, width, ratio)

    @staticmethod
    def _central(height, width, ratio):
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, self.size, self.interpolation, antialias=self.antialias)

    def __repr__(self):
        return (f'{self.__class__.__name__}(size={self.size}, scale={tuple(round(s, 4) for s in self.scale)}, '
                f'ratio={tuple(round(r, 4) for r in self.ratio)}, interpolation={self.interpolation.value}, '
                f'antialias={self.antialias})')


class Grayscale(_Transform):
    """Convert to grayscale with 1 or 3 (equal) output channels."""

    def __init__(self, num_output_channels=1):
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return F.rgb_to_grayscale(img, num_output_channels=self.num_output_channels)

    def __repr__(self):
        return f'{self.__class__.__name__}(num_output_channels={self.num_output_channels})'


class RandomGrayscale(_Transform):
    """Convert to grayscale (keeping the channel count) with probability ``p``."""

    def __init__(self, p=0.1):
        self.p = p

    def forward(self, img):
        num_output_channels = F.get_dimensions(img)[0]
        if _rand() < self.p:
            return F.rgb_to_grayscale(img, num_output_channels=num_output_channels)
        return img

    def __repr__(self):
        return f'{self.__class__.__name__}(p={self.p})'


def _check_sequence_input(x, name, req_sizes):
    msg = req_sizes[0] if len(req_sizes) < 2 else ' or '.join(str(s) for s in req_sizes)
    if not isinstance(x, Sequence):
        raise TypeError(f'{name} should be a sequence of length {msg}.')
    if len(x) not in req_sizes:
        raise ValueError(f'{name} should be a sequence of length {msg}.')


def _setup_angle(x, name, req_sizes=(2,)):
    """``x`` as a list of floats; a single number ``d`` means ``[-d, d]``."""
    if isinstance(x, numbers.Number):
        if x < 0:
            raise ValueError(f'If {name} is a single number, it must be positive.')
        x = [-x, x]
    else:
        _check_sequence_input(x, name, req_sizes)
    return [float(d) for d in x]


def _check_fill(fill):
    if fill is None:
        return 0
    if not isinstance(fill, (Sequence, numbers.Number)):
        raise TypeError('Fill should be either a sequence or a number.')
    return fill


def _tensor_fill(img, fill):
    """A tensor image's fill as one float per channel, as torchvision passes it on (None stays None)."""
    if not isinstance(img, ember.Tensor) or fill is None:
        return fill
    if isinstance(fill, (int, float)):
        return [float(fill)] * F.get_dimensions(img)[0]
    return [float(f) for f in fill]


class RandomRotation(_Transform):
    """Rotate by an angle drawn uniformly from ``degrees``."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        if isinstance(interpolation, int):
            interpolation = F._interpolation_modes_from_int(interpolation)
        self.degrees = _setup_angle(degrees, name='degrees', req_sizes=(2,))
        if center is not None:
            _check_sequence_input(center, 'center', req_sizes=(2,))
        self.center = center
        self.interpolation = interpolation
        self.expand = expand
        self.fill = _check_fill(fill)

    @staticmethod
    def get_params(degrees):
        """The angle: ``torch.empty(1).uniform_(*degrees)``."""
        return float(_uniform(float(degrees[0]), float(degrees[1])))

    def forward(self, img):
        fill = _tensor_fill(img, self.fill)
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, fill)

    def __repr__(self):
        s = f'{self.__class__.__name__}(degrees={self.degrees}, interpolation={self.interpolation.value}, ' \
            f'expand={self.expand}'
        if self.center is not None:
            s += f', center={self.center}'
        if self.fill is not None:
            s += f', fill={self.fill}'
        return s + ')'


def _affine_ranges(degrees, translate, scale, shear):
    """RandomAffine's (v1 and v2) ranges, checked as torchvision checks them: degrees and shear as angle lists."""
    degrees = _setup_angle(degrees, name='degrees', req_sizes=(2,))
    if translate is not None:
        _check_sequence_input(translate, 'translate', req_sizes=(2,))
        if not all(0.0 <= t <= 1.0 for t in translate):
            raise ValueError('translation values should be between 0 and 1')
    if scale is not None:
        _check_sequence_input(scale, 'scale', req_sizes=(2,))
        if any(s <= 0 for s in scale):
            raise ValueError('scale values should be positive')
    shear = _setup_angle(shear, name='shear', req_sizes=(2, 4)) if shear is not None else None
    return degrees, translate, scale, shear


class RandomAffine(_Transform):
    """Random rotation, translation (fractions of the size), scale and shear, drawn in that order."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None):
        if isinstance(interpolation, int):
            interpolation = F._interpolation_modes_from_int(interpolation)
        self.degrees, self.translate, self.scale, self.shear = _affine_ranges(degrees, translate, scale, shear)
        self.interpolation = interpolation
        self.fill = _check_fill(fill)
        if center is not None:
            _check_sequence_input(center, 'center', req_sizes=(2,))
        self.center = center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """(angle, (tx, ty), scale, (shear_x, shear_y)), each drawn with ``uniform_`` when asked for."""
        angle = float(_uniform(float(degrees[0]), float(degrees[1])))
        translations = (0, 0)
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            translations = (int(round(_uniform(-max_dx, max_dx))), int(round(_uniform(-max_dy, max_dy))))
        scale = float(_uniform(scale_ranges[0], scale_ranges[1])) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = float(_uniform(shears[0], shears[1]))
            if len(shears) == 4:
                shear_y = float(_uniform(shears[2], shears[3]))
        return angle, translations, scale, (shear_x, shear_y)

    def forward(self, img):
        fill = _tensor_fill(img, self.fill)
        _, height, width = F.get_dimensions(img)
        params = self.get_params(self.degrees, self.translate, self.scale, self.shear, [width, height])
        return F.affine(img, *params, interpolation=self.interpolation, fill=fill, center=self.center)

    def __repr__(self):
        s = f'{self.__class__.__name__}(degrees={self.degrees}'
        s += f', translate={self.translate}' if self.translate is not None else ''
        s += f', scale={self.scale}' if self.scale is not None else ''
        s += f', shear={self.shear}' if self.shear is not None else ''
        s += f', interpolation={self.interpolation.value}' if self.interpolation != InterpolationMode.NEAREST else ''
        s += f', fill={self.fill}' if self.fill != 0 else ''
        s += f', center={self.center}' if self.center is not None else ''
        return s + ')'


class ColorJitter(_Transform):
    """Random brightness, contrast, saturation and hue changes, applied in a random order."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = self._check_input(brightness, 'brightness')
        self.contrast = self._check_input(contrast, 'contrast')
        self.saturation = self._check_input(saturation, 'saturation')
        self.hue = self._check_input(hue, 'hue', center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def _check_input(value, name, center=1, bound=(0, float('inf')), clip_first_on_zero=True):
        """The factor range for ``value`` (a number ``d`` means ``[center - d, center + d]``); None when it
        can only be ``center``."""
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f'If {name} is a single number, it must be non negative.')
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f'{name} should be a single number or a list/tuple with length 2.')
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f'{name} values should be between {bound}, but got {value}.')
        return None if value[0] == value[1] == center else tuple(value)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """The order (``randperm(4)``), then each factor that has a range, drawn with ``uniform_``."""
        fn_idx = ember.randperm(4)
        b = None if brightness is None else float(_uniform(brightness[0], brightness[1]))
        c = None if contrast is None else float(_uniform(contrast[0], contrast[1]))
        s = None if saturation is None else float(_uniform(saturation[0], saturation[1]))
        h = None if hue is None else float(_uniform(hue[0], hue[1]))
        return fn_idx, b, c, s, h

    def forward(self, img):
        fn_idx, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        ops = {0: (F.adjust_brightness, b), 1: (F.adjust_contrast, c), 2: (F.adjust_saturation, s),
               3: (F.adjust_hue, h)}
        for fn_id in fn_idx.tolist():
            fn, factor = ops[fn_id]
            if factor is not None:
                img = fn(img, factor)
        return img

    def __repr__(self):
        return (f'{self.__class__.__name__}(brightness={self.brightness}, contrast={self.contrast}, '
                f'saturation={self.saturation}, hue={self.hue})')


class ConvertImageDtype(_Transform):
    """``functional.convert_image_dtype`` to ``dtype`` (tensor images)."""

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, image):
        return F.convert_image_dtype(image, self.dtype)

    def __repr__(self):
        return f'{self.__class__.__name__}()'


class RandomErasing(_Transform):
    """With probability ``p``, erase a random rectangle (area fraction ``scale``, aspect ``ratio``) of a tensor
    image with ``value`` (a number, one per channel, or 'random' normal noise)."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError('Argument value should be either a number or str or a sequence')
        if isinstance(value, str) and value != 'random':
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, Sequence):
            raise TypeError('Scale should be a sequence')
        if not isinstance(ratio, Sequence):
            raise TypeError('Ratio should be a sequence')
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn('Scale and ratio should be of kind (min, max)')
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError('Scale should be between 0 and 1')
        if p < 0 or p > 1:
            raise ValueError('Random erasing probability should be between 0 and 1')
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, inplace

    @staticmethod
    def get_params(img, scale, ratio, value=None):
        """(i, j, h, w, v): up to ten tries of area then log-uniform aspect ratio, then the value (normal noise
        when ``value`` is None) and the corner; the whole image and itself when no try fits."""
        img_c, img_h, img_w = img.shape[-3], img.shape[-2], img.shape[-1]
        area = img_h * img_w
        log_ratio = ember.log(ember.tensor(ratio))
        for _ in range(10):
            erase_area = area * _uniform(scale[0], scale[1])
            aspect_ratio = ember.exp(ember.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
            h = int(round(math.sqrt(erase_area * aspect_ratio)))
            w = int(round(math.sqrt(erase_area / aspect_ratio)))
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                v = ember.empty([img_c, h, w], dtype=ember.float32).normal_()
            else:
                v = ember.tensor(value)[:, None, None]
            i = _randint(0, img_h - h + 1)
            j = _randint(0, img_w - w + 1)
            return i, j, h, w, v
        return 0, 0, img_h, img_w, img

    def forward(self, img):
        if ember.rand(1).item() >= self.p:
            return img
        if not isinstance(img, ember.Tensor):
            raise AttributeError(f"RandomErasing takes tensor images: a {type(img).__name__} has no attribute "
                                 "'shape' (convert a PIL image with PILToTensor first)")
        if isinstance(self.value, (int, float)):
            value = [float(self.value)]
        elif isinstance(self.value, str):
            value = None
        else:
            value = [float(v) for v in self.value]
        if value is not None and len(value) not in (1, img.shape[-3]):
            raise ValueError('If value is a sequence, it should have either a single value or '
                             f'{img.shape[-3]} (number of input channels)')
        i, j, h, w, v = self.get_params(img, scale=self.scale, ratio=self.ratio, value=value)
        return F.erase(img, i, j, h, w, v, self.inplace)

    def __repr__(self):
        return (f'{self.__class__.__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, '
                f'value={self.value}, inplace={self.inplace})')


class GaussianBlur(_Transform):
    """Gaussian blur with ``sigma`` drawn uniformly from ``(min, max)`` (or fixed)."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        self.kernel_size = _setup_size(kernel_size, 'Kernel size should be a tuple/list of two integers')
        if any(ks <= 0 or ks % 2 == 0 for ks in self.kernel_size):
            raise ValueError('Kernel size value should be an odd and positive number.')
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError('If sigma is a single number, it must be positive.')
            sigma = (sigma, sigma)
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError('sigma values should be positive and of the form (min, max).')
        else:
            raise ValueError('sigma should be a single number or a list/tuple with length 2.')
        self.sigma = sigma

    @staticmethod
    def get_params(sigma_min, sigma_max):
        """sigma: ``torch.empty(1).uniform_(sigma_min, sigma_max).item()``."""
        return _uniform(sigma_min, sigma_max)

    def forward(self, img):
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return F.gaussian_blur(img, self.kernel_size, [sigma, sigma])

    def __repr__(self):
        return f'{self.__class__.__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})'


class _RandomOp(_Transform):
    """Apply one functional operation with probability ``p`` (``torch.rand(1).item() < p``)."""
    _op = None
    _args = ()

    def forward(self, img):
        if ember.rand(1).item() < self.p:
            return getattr(F, self._op)(img, *(getattr(self, a) for a in self._args))
        return img

    def __repr__(self):
        return f'{self.__class__.__name__}(' + ''.join(f'{a}={getattr(self, a)},' for a in self._args) + \
            f'p={self.p})'


class RandomInvert(_RandomOp):
    """Invert the colours with probability ``p``."""
    _op = 'invert'

    def __init__(self, p=0.5):
        self.p = p


class RandomPosterize(_RandomOp):
    """Keep ``bits`` bits per channel with probability ``p``."""
    _op, _args = 'posterize', ('bits',)

    def __init__(self, bits, p=0.5):
        self.bits, self.p = bits, p


class RandomSolarize(_RandomOp):
    """Invert the pixels at or above ``threshold`` with probability ``p``."""
    _op, _args = 'solarize', ('threshold',)

    def __init__(self, threshold, p=0.5):
        self.threshold, self.p = threshold, p


class RandomAdjustSharpness(_RandomOp):
    """Adjust the sharpness by ``sharpness_factor`` with probability ``p``."""
    _op, _args = 'adjust_sharpness', ('sharpness_factor',)

    def __init__(self, sharpness_factor, p=0.5):
        self.sharpness_factor, self.p = sharpness_factor, p


class RandomAutocontrast(_RandomOp):
    """Autocontrast with probability ``p``."""
    _op = 'autocontrast'

    def __init__(self, p=0.5):
        self.p = p


class RandomEqualize(_RandomOp):
    """Equalise the histogram with probability ``p``."""
    _op = 'equalize'

    def __init__(self, p=0.5):
        self.p = p


class FiveCrop(_SizedCrop):
    """The four corner crops and the centre crop of ``size``, as a tuple."""
    _crop = staticmethod(F.five_crop)


class TenCrop(_Transform):
    """``FiveCrop`` of the image and of its mirror image, as a tuple of ten."""

    def __init__(self, size, vertical_flip=False):
        self.size = _setup_size(size, error_msg='Please provide only two dimensions (h, w) for size.')
        self.vertical_flip = vertical_flip

    def forward(self, img):
        return F.ten_crop(img, self.size, self.vertical_flip)

    def __repr__(self):
        return f'{self.__class__.__name__}(size={self.size}, vertical_flip={self.vertical_flip})'


class RandomPerspective(_Transform):
    """With probability ``p``, a perspective warp moving each corner inwards by up to ``distortion_scale`` of
    half the size."""

    def __init__(self, distortion_scale=0.5, p=0.5, interpolation=InterpolationMode.BILINEAR, fill=0):
        self.p = p
        if isinstance(interpolation, int):
            interpolation = F._interpolation_modes_from_int(interpolation)
        self.interpolation = interpolation
        self.distortion_scale = distortion_scale
        self.fill = _check_fill(fill)

    @staticmethod
    def get_params(width, height, distortion_scale):
        """(startpoints, endpoints): the corners [tl, tr, br, bl] and each moved by ``randint`` draws (x, then y)."""
        dw, dh = int(distortion_scale * (width // 2)), int(distortion_scale * (height // 2))
        near_x, far_x = (0, dw + 1), (width - dw - 1, width)
        near_y, far_y = (0, dh + 1), (height - dh - 1, height)
        corners = [(near_x, near_y), (far_x, near_y), (far_x, far_y), (near_x, far_y)]
        endpoints = [[_randint(*rx), _randint(*ry)] for rx, ry in corners]
        startpoints = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
        return startpoints, endpoints

    def forward(self, img):
        fill = _tensor_fill(img, self.fill)
        _, height, width = F.get_dimensions(img)
        if _rand() < self.p:
            startpoints, endpoints = self.get_params(width, height, self.distortion_scale)
            return F.perspective(img, startpoints, endpoints, self.interpolation, fill)
        return img

    def __repr__(self):
        return f'{self.__class__.__name__}(p={self.p})'


def _float_pair(value, name):
    """``[v, v]`` from a float, or a two-float sequence as a list: ElasticTransform's alpha and sigma."""
    if not isinstance(value, (float, Sequence)):
        raise TypeError(f'{name} should be float or a sequence of floats. Got {type(value)}')
    if isinstance(value, float):
        return [value, value]
    if len(value) != 2:
        raise ValueError(f'If {name} is a sequence its length should be 2. Got {len(value)}')
    for element in value:
        if not isinstance(element, float):
            raise TypeError(f'{name} should be a sequence of floats. Got {type(element)}')
    return value


def _smooth_noise(size, sigma, axis, alpha, extent):
    """One displacement channel: uniform noise in [-1, 1) blurred (with both sigmas) by an odd
    8 sigma[axis] + 1 kernel when sigma[axis] > 0, times ``alpha / extent``."""
    d = ember.rand([1, 1] + size) * 2 - 1
    if sigma[axis] > 0.0:
        k = int(8 * sigma[axis] + 1)
        k += 1 - k % 2
        d = ember.Tensor._make(_blur.gaussian_blur(d._data, [k, k], sigma, taps=True))
    return d * alpha / extent


class ElasticTransform(_Transform):
    """Displace every pixel by smoothed random offsets (strength ``alpha``, smoothness ``sigma``) and
    resample there: torchvision's elastic augmentation, drawing its noise from ember's global generator."""

    def __init__(self, alpha=50.0, sigma=5.0, interpolation=InterpolationMode.BILINEAR, fill=0):
        self.alpha = _float_pair(alpha, 'alpha')
        self.sigma = _float_pair(sigma, 'sigma')
        if isinstance(interpolation, int):
            interpolation = F._interpolation_modes_from_int(interpolation)
        self.interpolation = interpolation
        if isinstance(fill, (int, float)):
            fill = [float(fill)]
        elif isinstance(fill, (list, tuple)):
            fill = [float(f) for f in fill]
        else:
            raise TypeError(f'fill should be int or float or a list or tuple of them. Got {type(fill)}')
        self.fill = fill

    @staticmethod
    def get_params(alpha, sigma, size):
        """The (1, H, W, 2) displacement: x offsets scaled by the width, then y offsets by the height."""
        dx = _smooth_noise(size, sigma, 0, alpha[0], size[1])
        dy = _smooth_noise(size, sigma, 1, alpha[1], size[0])
        return ember.concat([dx, dy], 1).permute([0, 2, 3, 1])

    def forward(self, tensor):
        _, height, width = F.get_dimensions(tensor)
        displacement = self.get_params(self.alpha, self.sigma, [height, width])
        return F.elastic_transform(tensor, displacement, self.interpolation, self.fill)

    def __repr__(self):
        return (f'{self.__class__.__name__}(alpha={self.alpha}, sigma={self.sigma}, '
                f'interpolation={self.interpolation}, fill={self.fill})')
