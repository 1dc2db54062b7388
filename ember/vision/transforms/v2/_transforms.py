"""The v2 transforms: torchvision's arguments, random draws (in the v2 order, which differs from v1's in places)
and reprs, computed by the v1 kernels (ember.vision.transforms.functional) on PIL images and tensors."""
import math
import numbers
import warnings

import numpy as np

import ember
from ember.aliasing import unsupported
from ... import _image
from .. import functional as F
from ..functional import InterpolationMode
from ..transforms import ColorJitter as _V1ColorJitter
from ..transforms import _affine_ranges, _check_sequence_input, _setup_angle, _setup_size, _tensor_fill
from . import _boxes as B
from . import _color as C
from ... import tv_tensors
from ._transform import Transform, _RandomApplyTransform
from ....utils._pytree import tree_flatten, tree_unflatten

_SIZE_MSG = 'Please provide only two dimensions (h, w) for size.'


def _interp(mode):
    """torchvision's interpolation argument (a name, an InterpolationMode or PIL's int) as an InterpolationMode."""
    if isinstance(mode, str):
        return InterpolationMode(mode)
    if isinstance(mode, int) and not isinstance(mode, InterpolationMode):
        return F._interpolation_modes_from_int(mode)
    return mode


def _setup_fill(fill):
    if isinstance(fill, dict):
        raise ValueError('v2 transforms: a fill given per input type (a dict) is not supported by ember; pass a '
                         'number or a sequence')
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError(f'Got inappropriate fill arg, only Numbers, tuples, lists and dicts are allowed, got {type(fill)}')
    return fill


def _fill_for(img, fill):
    return _tensor_fill(img, fill) if isinstance(img, ember.Tensor) else fill


def _size(img):
    """(height, width) of a PIL image, a tensor image or mask, or the canvas of BoundingBoxes."""
    if isinstance(img, tv_tensors.BoundingBoxes):
        return tuple(img.canvas_size)
    if isinstance(img, tv_tensors.Mask):
        return tuple(img.shape[-2:])
    _, h, w = F.get_dimensions(img)
    return h, w


def _is_image_or_video(x):
    return _image.is_pil(x) or (isinstance(x, ember.Tensor) and not isinstance(x, (tv_tensors.BoundingBoxes,
                                                                                     tv_tensors.Mask)))


def query_size(flat_inputs):
    """The one (height, width) of the sample's images, masks and box canvases."""
    sizes = {tuple(_size(x)) for x in flat_inputs if isinstance(x, ember.Tensor) or _image.is_pil(x)}
    if not sizes:
        raise TypeError('No image, video, mask, bounding box of keypoint was found in the sample')
    if len(sizes) > 1:
        raise ValueError(f'Found multiple HxW dimensions in the sample: {", ".join(map(str, sorted(sizes)))}')
    return sizes.pop()


def query_chw(flat_inputs):
    """The one (channels, height, width) of the sample's images."""
    chws = {tuple(F.get_dimensions(x)) for x in flat_inputs if _is_image_or_video(x)}
    if not chws:
        raise TypeError('No image or video was found in the sample')
    if len(chws) > 1:
        raise ValueError(f'Found multiple CxHxW dimensions in the sample: {", ".join(map(str, sorted(chws)))}')
    return chws.pop()


def _uniform(low, high):
    return ember.empty(1).uniform_(low, high).item()


def _randint(high, low=0):
    return int(ember.randint(low, high, size=(1,)).item())


def resize(inpt, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """v1's resize, except that uint8 tensor images are resampled in uint8 (PyTorch's integer kernel, as
    torchvision v2 does on the CPU) instead of in float and rounded (v1)."""
    mode = _interp(interpolation)
    if not (isinstance(inpt, ember.Tensor) and inpt.dtype == ember.uint8 and mode in (
            InterpolationMode.BILINEAR, InterpolationMode.BICUBIC)):
        return F.resize(inpt, size, mode, max_size=max_size, antialias=antialias)
    if isinstance(size, int):
        size = [size]
    *_, h, w = inpt.shape
    new = F._resized_output_size(h, w, list(size), max_size)
    if [h, w] == new:
        return inpt
    batch = inpt.reshape(-1, *inpt.shape[-3:])
    out = ember.nn.functional.interpolate(batch, size=new, mode=mode.value, align_corners=False,
                                          antialias=bool(antialias))
    return out.reshape(*inpt.shape[:-2], *new)


def _image_resize(img, size, interpolation, max_size, antialias):
    return resize(img, size, interpolation=interpolation, max_size=max_size, antialias=antialias)


def resized_crop(inpt, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """``crop`` then v2's ``resize``."""
    return resize(F.crop(inpt, top, left, height, width), size, interpolation, antialias=antialias)


# --- conversions -----------------------------------------------------------------------------------------------

class Identity(Transform):
    """The input, unchanged."""

    def transform(self, inpt, params):
        return inpt


class Lambda(Transform):
    """``lambd`` applied to the inputs of the given types (images by default)."""

    def __init__(self, lambd, *types):
        super().__init__()
        self.lambd = lambd
        self.types = types or (ember.Tensor,) + ((_image.pil_module().Image,) if _pil_loaded() else ())

    def transform(self, inpt, params):
        return self.lambd(inpt) if isinstance(inpt, self.types) else inpt

    def extra_repr(self):
        extras = []
        name = getattr(self.lambd, '__name__', None)
        if name:
            extras.append(name)
        extras.append(f'types={[t.__name__ for t in self.types]}')
        return ', '.join(extras)


def _pil_loaded():
    import sys
    return 'PIL.Image' in sys.modules


def to_image(inpt):
    """A ``tv_tensors.Image`` (CHW) from a PIL image (uint8), a HWC NumPy array, or a tensor."""
    if isinstance(inpt, np.ndarray):
        return tv_tensors.Image(ember.from_numpy(np.atleast_3d(inpt)).permute((2, 0, 1)).contiguous())
    if _image.is_pil(inpt):
        return tv_tensors.Image(F.pil_to_tensor(inpt))
    if isinstance(inpt, ember.Tensor):
        return tv_tensors.Image(inpt)
    raise TypeError(f'Input can either be a pure Tensor, a numpy array, or a PIL image, but got {type(inpt)} instead.')


class ToImage(Transform):
    """PIL images, NumPy arrays and plain tensors to ``tv_tensors.Image`` (see to_image)."""
    _box_mask = 'refuse'

    def _needs_transform_list(self, flat_inputs):
        needs = super()._needs_transform_list(flat_inputs)
        return [n or isinstance(x, np.ndarray) for x, n in zip(flat_inputs, needs)]

    def transform(self, inpt, params):
        return to_image(inpt)


def _max_value(dtype):
    return 1.0 if dtype.is_floating_point else float(np.iinfo(np.dtype(str(dtype).replace('torch.', ''))).max)


def to_dtype(inpt, dtype=ember.float32, scale=False):
    """``inpt`` as ``dtype``; with ``scale``, values mapped between the dtypes' ranges (torchvision's
    to_dtype_image: integers to floats multiply by 1 / max, floats to integers by max + 1 - 1e-3)."""
    if inpt.dtype == dtype:
        return inpt
    if not scale:
        return inpt.to(dtype)
    if inpt.is_floating_point():
        if dtype.is_floating_point:
            return inpt.to(dtype)
        if (inpt.dtype == ember.float32 and dtype in (ember.int32, ember.int64)) or (
                inpt.dtype == ember.float64 and dtype == ember.int64):
            raise RuntimeError(f'The conversion from {inpt.dtype} to {dtype} cannot be performed safely.')
        return inpt.mul(_max_value(dtype) + 1.0 - 1e-3).to(dtype)
    if dtype.is_floating_point:
        return inpt.to(dtype).mul_(1.0 / _max_value(inpt.dtype))
    shift = abs(_bits(inpt.dtype) - _bits(dtype))
    if _bits(inpt.dtype) > _bits(dtype):
        return inpt.bitwise_right_shift(shift).to(dtype)
    return inpt.to(dtype).bitwise_left_shift_(shift)


def _bits(dtype):
    return {ember.uint8: 8, ember.int8: 7, ember.int16: 15, ember.int32: 31, ember.int64: 63}[dtype]


class ToDtype(Transform):
    """Images (and, with a dict ``{type or 'others': dtype}``, other tensors) converted to ``dtype``, their
    values rescaled when ``scale``."""

    def __init__(self, dtype, scale=False):
        super().__init__()
        if not isinstance(dtype, (dict, ember.dtype)):
            raise ValueError(f'dtype must be a dict or a torch.dtype, got {type(dtype)} instead')
        self.dtype = dtype
        self.scale = scale

    _box_mask = 'handle'

    def transform(self, inpt, params):
        if isinstance(self.dtype, ember.dtype):
            if not isinstance(inpt, ember.Tensor) or isinstance(inpt, (tv_tensors.BoundingBoxes, tv_tensors.Mask)):
                return inpt
            dtype = self.dtype
        elif type(inpt) in self.dtype:
            dtype = self.dtype[type(inpt)]
        elif 'others' in self.dtype:
            dtype = self.dtype['others']
        else:
            raise ValueError(f'No dtype was specified for type {type(inpt)}. If you only need to convert the dtype of '
                             f'images or videos, you can just pass e.g. dtype=torch.float32. If you\'re passing a dict '
                             f'as dtype, you can use "others" as a catch-all key e.g. dtype={{tv_tensors.Mask: '
                             f'torch.int64, "others": None}} to pass-through the rest of the inputs.')
        if dtype is None:
            if self.scale and isinstance(inpt, ember.Tensor):
                warnings.warn('scale was set to True but no dtype was specified for images or videos: no scaling will '
                              'be done.')
            return inpt
        return to_dtype(inpt, dtype, self.scale)


class ConvertImageDtype(Transform):
    """Images to ``dtype``, values rescaled (``ToDtype(dtype, scale=True)``)."""

    def __init__(self, dtype=ember.float32):
        super().__init__()
        self.dtype = dtype

    def transform(self, inpt, params):
        return to_dtype(inpt, self.dtype, scale=True)


class ToPureTensor(Transform):
    """tv_tensors to plain tensors."""
    _box_mask = 'handle'
    _unwraps = True

    def transform(self, inpt, params):
        return B._pure(inpt) if isinstance(inpt, ember.Tensor) else inpt


class ToTensor(Transform):
    """v1's to_tensor (deprecated in v2, with torchvision's warning)."""

    def __init__(self):
        warnings.warn('The transform `ToTensor()` is deprecated and will be removed in a future release. Instead, '
                      'please use `v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])`.Output is '
                      'equivalent up to float precision.')
        super().__init__()

    def _needs_transform_list(self, flat_inputs):
        return [_image.is_pil(x) or isinstance(x, np.ndarray) for x in flat_inputs]

    def transform(self, inpt, params):
        return F.to_tensor(inpt)


class PILToTensor(Transform):
    """PIL images to tensors of their own dtype."""

    def _needs_transform_list(self, flat_inputs):
        return [_image.is_pil(x) for x in flat_inputs]

    def transform(self, inpt, params):
        return F.pil_to_tensor(inpt)


class ToPILImage(Transform):
    """Tensors and NumPy arrays to PIL images."""

    def __init__(self, mode=None):
        super().__init__()
        self.mode = mode

    def _needs_transform_list(self, flat_inputs):
        needs = super()._needs_transform_list(flat_inputs)
        return [n or isinstance(x, np.ndarray) for x, n in zip(flat_inputs, needs)]

    def transform(self, inpt, params):
        return F.to_pil_image(inpt, mode=self.mode)


class RGB(Transform):
    """Grayscale images to three channels (RGB images unchanged)."""

    def transform(self, inpt, params):
        if _image.is_pil(inpt):
            return inpt.convert('RGB')
        if inpt.shape[-3] == 3:
            return inpt
        if inpt.shape[-3] != 1:
            raise TypeError(f'Input image tensor permitted channel values are 1 or 3, but found {inpt.shape[-3]}')
        return inpt.expand(*inpt.shape[:-3], 3, *inpt.shape[-2:]).clone()


# --- geometry ---------------------------------------------------------------------------------------------------

class Resize(Transform):
    """Resize to ``size`` (the smaller edge when one number)."""

    def __init__(self, size, interpolation='bilinear', max_size=None, antialias=True):
        super().__init__()
        if isinstance(size, int):
            size = [size]
        elif isinstance(size, (list, tuple)) and len(size) in (1, 2):
            size = list(size)
        elif size is None:
            if not isinstance(max_size, int):
                raise ValueError(f'max_size must be an integer when size is None, but got {max_size} instead.')
        else:
            raise ValueError(f'size can be an integer, a sequence of one or two integers, or None, but got {size} '
                             f'instead.')
        self.size = size
        self.interpolation = interpolation
        self.max_size = max_size
        self.antialias = antialias

    _box_mask = 'handle'

    def transform(self, inpt, params):
        return B.resize_any(inpt, self.size, _interp(self.interpolation), self.max_size, self.antialias,
                            _image_resize)


class CenterCrop(Transform):
    """The central ``size`` crop (padded with zeros when larger than the image)."""

    def __init__(self, size):
        super().__init__()
        self.size = _setup_size(size, error_msg=_SIZE_MSG)

    _box_mask = 'handle'

    def transform(self, inpt, params):
        if isinstance(inpt, tv_tensors.BoundingBoxes):
            return B.center_crop_boxes(inpt, self.size)
        return F.center_crop(inpt, self.size)


class Pad(Transform):
    """Pad the borders by ``padding`` with ``fill`` or the edge/reflect/symmetric modes."""

    def __init__(self, padding, fill=0, padding_mode='constant'):
        super().__init__()
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError('Got inappropriate padding arg')
        if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
            raise ValueError(f'Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element '
                             f'tuple')
        if padding_mode not in ('constant', 'edge', 'reflect', 'symmetric'):
            raise ValueError('Padding mode should be either constant, edge, reflect or symmetric')
        self.padding = padding if isinstance(padding, int) else list(padding)
        self.fill = fill
        self._fill = _setup_fill(fill)
        self.padding_mode = padding_mode

    _box_mask = 'refuse'

    def transform(self, inpt, params):
        return F.pad(inpt, self.padding, fill=self._fill, padding_mode=self.padding_mode)


class RandomHorizontalFlip(_RandomApplyTransform):
    """Flip left-right with probability ``p``."""
    _box_mask = 'handle'

    def transform(self, inpt, params):
        return B.horizontal_flip(inpt)


class RandomVerticalFlip(_RandomApplyTransform):
    """Flip upside down with probability ``p``."""
    _box_mask = 'handle'

    def transform(self, inpt, params):
        return B.vertical_flip(inpt)


class RandomCrop(Transform):
    """A crop of ``size`` at a random place, after optional padding; v2 draws the top only when the padded
    image is taller than the crop, and the left only when it is wider (v1 always draws both)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode='constant'):
        super().__init__()
        self.size = _setup_size(size, error_msg=_SIZE_MSG)
        self.padding = _parse_padding(padding) if padding else None
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self._fill = _setup_fill(fill)
        self.padding_mode = padding_mode

    def make_params(self, flat_inputs):
        h, w = query_size(flat_inputs)
        left, right, top, bottom = self.padding if self.padding is not None else (0, 0, 0, 0)
        h, w = h + top + bottom, w + left + right
        ch, cw = self.size
        if self.pad_if_needed:
            if h < ch:
                top, bottom, h = top + ch - h, bottom + ch - h, h + 2 * (ch - h)
            if w < cw:
                left, right, w = left + cw - w, right + cw - w, w + 2 * (cw - w)
        if h < ch or w < cw:
            raise ValueError(f'Required crop size {(ch, cw)} is larger than '
                             f'{"padded " if self.padding is not None else ""}input image size {(h, w)}.')
        padding = [left, top, right, bottom]
        i = int(ember.randint(0, h - ch + 1, size=())) if h > ch else 0
        j = int(ember.randint(0, w - cw + 1, size=())) if w > cw else 0
        return dict(needs_crop=h > ch or w > cw, top=i, left=j, needs_pad=any(padding), padding=padding)

    _box_mask = 'handle'

    def transform(self, inpt, params):
        if params['needs_pad']:
            if isinstance(inpt, tv_tensors.BoundingBoxes):
                raise NotImplementedError(unsupported('transforms.v2.RandomCrop with padding on BoundingBoxes',
                                                      'crop without padding'))
            inpt = F.pad(inpt, params['padding'], fill=self._fill, padding_mode=self.padding_mode)
        if params['needs_crop']:
            inpt = B.crop(inpt, params['top'], params['left'], *self.size)
        return inpt


def _parse_padding(padding):
    """[left, right, top, bottom] from torchvision's 1, 2 or 4 numbers."""
    if isinstance(padding, int):
        return [padding] * 4
    padding = list(padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return [padding[0], padding[0], padding[1], padding[1]]
    if len(padding) == 4:
        return [padding[0], padding[2], padding[1], padding[3]]
    raise ValueError(f'Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple')


class RandomResizedCrop(Transform):
    """A crop of random area and aspect ratio, resized to ``size`` (ImageNet training's crop)."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation='bilinear',
                 antialias=True):
        super().__init__()
        self.size = _setup_size(size, error_msg=_SIZE_MSG)
        if not isinstance(scale, (tuple, list)) or len(scale) != 2:
            raise TypeError('Scale should be a sequence of two floats.')
        if not isinstance(ratio, (tuple, list)) or len(ratio) != 2:
            raise TypeError('Ratio should be a sequence of two floats.')
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn('Scale and ratio should be of kind (min, max)')
        self.scale = scale
        self.ratio = ratio
        self.interpolation = interpolation
        self.antialias = antialias
        self._log_ratio = ember.log(ember.tensor(self.ratio))

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        area = height * width
        lo, hi = self._log_ratio
        for _ in range(10):
            target = area * _uniform(self.scale[0], self.scale[1])
            aspect = ember.exp(ember.empty(1).uniform_(lo, hi)).item()
            w = int(round(math.sqrt(target * aspect)))
            h = int(round(math.sqrt(target / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return dict(top=_randint(height - h + 1), left=_randint(width - w + 1), height=h, width=w)
        in_ratio = width / height
        if in_ratio < min(self.ratio):
            w, h = width, int(round(width / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            h, w = height, int(round(height * max(self.ratio)))
        else:
            w, h = width, height
        return dict(top=(height - h) // 2, left=(width - w) // 2, height=h, width=w)

    _box_mask = 'handle'

    def transform(self, inpt, params):
        if isinstance(inpt, (tv_tensors.BoundingBoxes, tv_tensors.Mask)):
            cropped = B.crop(inpt, params['top'], params['left'], params['height'], params['width'])
            return B.resize_any(cropped, self.size, _interp(self.interpolation), None, self.antialias, _image_resize)
        return resized_crop(inpt, params['top'], params['left'], params['height'], params['width'], self.size,
                            interpolation=self.interpolation, antialias=self.antialias)


class RandomRotation(Transform):
    """Rotate by an angle drawn uniformly from ``degrees``."""
    _box_mask = 'refuse'

    def __init__(self, degrees, interpolation='nearest', expand=False, center=None, fill=0):
        super().__init__()
        self.degrees = _setup_angle(degrees, name='degrees', req_sizes=(2,))
        self.interpolation = interpolation
        self.expand = expand
        self.fill = fill
        self._fill = _setup_fill(fill)
        if center is not None:
            _check_sequence_input(center, 'center', req_sizes=(2,))
        self.center = center

    def make_params(self, flat_inputs):
        return dict(angle=_uniform(self.degrees[0], self.degrees[1]))

    def transform(self, inpt, params):
        return F.rotate(inpt, params['angle'], interpolation=_interp(self.interpolation), expand=self.expand,
                        center=self.center, fill=_fill_for(inpt, self._fill))


class RandomAffine(Transform):
    """A random affine map: rotation, translation, scale and shear drawn from the given ranges."""
    _box_mask = 'refuse'

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation='nearest', fill=0, center=None):
        super().__init__()
        self.degrees, self.translate, self.scale, self.shear = _affine_ranges(degrees, translate, scale, shear)
        self.interpolation = interpolation
        self.fill = fill
        self._fill = _setup_fill(fill)
        if center is not None:
            _check_sequence_input(center, 'center', req_sizes=(2,))
        self.center = center

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        angle = _uniform(self.degrees[0], self.degrees[1])
        translate = (0, 0)
        if self.translate is not None:
            dx, dy = float(self.translate[0] * width), float(self.translate[1] * height)
            translate = (int(round(_uniform(-dx, dx))), int(round(_uniform(-dy, dy))))
        scale = _uniform(self.scale[0], self.scale[1]) if self.scale is not None else 1.0
        shear = [0.0, 0.0]
        if self.shear is not None:
            shear[0] = float(_uniform(self.shear[0], self.shear[1]))
            if len(self.shear) == 4:
                shear[1] = float(_uniform(self.shear[2], self.shear[3]))
        return dict(angle=angle, translate=translate, scale=scale, shear=tuple(shear))

    def transform(self, inpt, params):
        return F.affine(inpt, params['angle'], list(params['translate']), params['scale'], list(params['shear']),
                        interpolation=_interp(self.interpolation), fill=_fill_for(inpt, self._fill),
                        center=self.center)


class RandomPerspective(_RandomApplyTransform):
    """A random perspective warp of the corners by up to ``distortion_scale`` of half the size."""
    _box_mask = 'refuse'

    def __init__(self, distortion_scale=0.5, p=0.5, interpolation='bilinear', fill=0):
        super().__init__(p=p)
        if not 0 <= distortion_scale <= 1:
            raise ValueError('Argument distortion_scale value should be between 0 and 1')
        self.distortion_scale = distortion_scale
        self.interpolation = interpolation
        self.fill = fill
        self._fill = _setup_fill(fill)

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        bh = int(self.distortion_scale * (height // 2)) + 1
        bw = int(self.distortion_scale * (width // 2)) + 1
        topleft = [_randint(bw), _randint(bh)]
        topright = [_randint(width, width - bw), _randint(bh)]
        botright = [_randint(width, width - bw), _randint(height, height - bh)]
        botleft = [_randint(bw), _randint(height, height - bh)]
        start = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
        return dict(startpoints=start, endpoints=[topleft, topright, botright, botleft])

    def transform(self, inpt, params):
        return F.perspective(inpt, params['startpoints'], params['endpoints'], interpolation=_interp(self.interpolation),
                             fill=_fill_for(inpt, self._fill))


class FiveCrop(Transform):
    """The four corner crops and the central one, as a tuple."""
    _box_mask = 'refuse'

    def __init__(self, size):
        super().__init__()
        self.size = _setup_size(size, error_msg=_SIZE_MSG)

    def transform(self, inpt, params):
        return F.five_crop(inpt, self.size)


class TenCrop(Transform):
    """FiveCrop of the image and of its flip, as a tuple."""
    _box_mask = 'refuse'

    def __init__(self, size, vertical_flip=False):
        super().__init__()
        self.size = _setup_size(size, error_msg=_SIZE_MSG)
        self.vertical_flip = vertical_flip

    def transform(self, inpt, params):
        return F.ten_crop(inpt, self.size, vertical_flip=self.vertical_flip)


# --- color ------------------------------------------------------------------------------------------------------

class Normalize(Transform):
    """(image - mean) / std per channel; tensors only."""

    def __init__(self, mean, std, inplace=False):
        super().__init__()
        self.mean = list(mean)
        self.std = list(std)
        self.inplace = inplace

    def check_inputs(self, flat_inputs):
        if any(_image.is_pil(x) for x in flat_inputs):
            raise TypeError(f'{type(self).__name__}() does not support PIL images.')

    def transform(self, inpt, params):
        return F.normalize(inpt, self.mean, self.std, self.inplace)


class Grayscale(Transform):
    """Convert to grayscale with ``num_output_channels`` (1 or 3) channels."""

    def __init__(self, num_output_channels=1):
        super().__init__()
        self.num_output_channels = num_output_channels

    def transform(self, inpt, params):
        return C.rgb_to_grayscale(inpt, num_output_channels=self.num_output_channels)


class RandomGrayscale(_RandomApplyTransform):
    """Grayscale (keeping the channel count) with probability ``p``."""

    def __init__(self, p=0.1):
        super().__init__(p=p)

    def make_params(self, flat_inputs):
        return dict(num_input_channels=query_chw(flat_inputs)[0])

    def transform(self, inpt, params):
        return C.rgb_to_grayscale(inpt, num_output_channels=params['num_input_channels'])


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue changes, applied in a random order."""

    def __init__(self, brightness=None, contrast=None, saturation=None, hue=None):
        super().__init__()
        check = _V1ColorJitter._check_input
        self.brightness = None if brightness is None else check(brightness, 'brightness')
        self.contrast = None if contrast is None else check(contrast, 'contrast')
        self.saturation = None if saturation is None else check(saturation, 'saturation')
        self.hue = None if hue is None else check(hue, 'hue', center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    def make_params(self, flat_inputs):
        fn_idx, b, c, s, h = _V1ColorJitter.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        return dict(fn_idx=fn_idx, b=b, c=c, s=s, h=h)

    def transform(self, inpt, params):
        for fn_id in params['fn_idx'].tolist():
            if fn_id == 0 and params['b'] is not None:
                inpt = C.adjust_brightness(inpt, params['b'])
            elif fn_id == 1 and params['c'] is not None:
                inpt = C.adjust_contrast(inpt, params['c'])
            elif fn_id == 2 and params['s'] is not None:
                inpt = C.adjust_saturation(inpt, params['s'])
            elif fn_id == 3 and params['h'] is not None:
                inpt = F.adjust_hue(inpt, params['h'])
        return inpt


class GaussianBlur(Transform):
    """Blur with a Gaussian kernel of ``kernel_size`` and a sigma drawn from ``sigma``."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        super().__init__()
        self.kernel_size = _setup_size(kernel_size, 'Kernel size should be a tuple/list of two integers')
        if any(k <= 0 or k % 2 == 0 for k in self.kernel_size):
            raise ValueError('Kernel size value should be an odd and positive number.')
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError('If sigma is a single number, it must be positive.')
            sigma = [float(sigma), float(sigma)]
        elif isinstance(sigma, (tuple, list)) and len(sigma) in (1, 2):
            sigma = [float(sigma[0]), float(sigma[-1])]
        else:
            raise TypeError('sigma should be a single int or float or a list/tuple with length 1 or 2.')
        if not 0.0 < sigma[0] <= sigma[1]:
            raise ValueError(f'sigma values should be positive and of the form (min, max). Got {sigma}')
        self.sigma = sigma

    def make_params(self, flat_inputs):
        s = _uniform(self.sigma[0], self.sigma[1])
        return dict(sigma=[s, s])

    def transform(self, inpt, params):
        return F.gaussian_blur(inpt, list(self.kernel_size), params['sigma'])


class GaussianNoise(Transform):
    """Add Gaussian noise (mean, sigma) to float or uint8 tensor images, clipped to the valid range."""

    def __init__(self, mean=0.0, sigma=0.1, clip=True):
        super().__init__()
        self.mean = mean
        self.sigma = sigma
        self.clip = clip

    def transform(self, inpt, params):
        if _image.is_pil(inpt):
            raise TypeError('GaussianNoise() supports tensor images only (as torchvision: no PIL kernel)')
        if self.sigma < 0:
            raise ValueError(f"sigma shouldn't be negative. Got {self.sigma}")
        if inpt.is_floating_point():
            out = inpt + (self.mean + ember.randn_like(inpt) * self.sigma)
            return ember.clamp(out, 0, 1) if self.clip else out
        if inpt.dtype == ember.uint8:
            noise = (self.mean * 255 + ember.randn_like(inpt, dtype=ember.float32) * (self.sigma * 255)).to(ember.int16)
            out = inpt + noise
            return (ember.clamp(out, 0, 255) if self.clip else out).to(ember.uint8)
        raise ValueError(f'Input tensor is expected to be in uint8 or float dtype, got dtype={inpt.dtype}')


class RandomChannelPermutation(Transform):
    """The channels in an order drawn by ``torch.randperm``."""

    def make_params(self, flat_inputs):
        return dict(permutation=ember.randperm(query_chw(flat_inputs)[0]))

    def transform(self, inpt, params):
        perm = params['permutation'].tolist()
        if _image.is_pil(inpt):
            return F.to_pil_image(F.pil_to_tensor(inpt)[perm], mode=inpt.mode)
        return inpt[..., perm, :, :]


def posterize(inpt, bits):
    """v1's posterize, extended to float tensor images (floor(x * 2**bits) / 2**bits, as torchvision v2)."""
    if isinstance(inpt, ember.Tensor) and inpt.is_floating_point():
        if not isinstance(bits, int) or not 0 <= bits <= 8:
            raise TypeError(f'bits must be a positive integer in the range [0, 8], got {bits} instead.')
        levels = 1 << bits
        return inpt.mul(levels).floor_().clamp_(0, levels - 1).mul_(1.0 / levels)
    return F.posterize(inpt, bits)


def solarize(inpt, threshold):
    """v1's solarize, extended to float tensor images (threshold in [0, 1])."""
    if isinstance(inpt, ember.Tensor) and inpt.is_floating_point():
        if threshold > 1.0:
            raise TypeError(f'Threshold should be less or equal the maximum value of the dtype, but got {threshold}')
        return ember.where(inpt >= threshold, 1.0 - inpt, inpt)
    return F.solarize(inpt, threshold)


def equalize(inpt):
    """v1's equalize, extended to float tensor images (equalized as uint8, then scaled back, as torchvision v2)."""
    if isinstance(inpt, ember.Tensor) and inpt.is_floating_point():
        return to_dtype(F.equalize(to_dtype(inpt, ember.uint8, scale=True)), inpt.dtype, scale=True)
    return F.equalize(inpt)


class _RandomOp(_RandomApplyTransform):
    """One color kernel applied with probability ``p``."""

    def transform(self, inpt, params):
        return self._op(inpt)


class RandomInvert(_RandomOp):
    def _op(self, inpt):
        return F.invert(inpt)


class RandomEqualize(_RandomOp):
    def _op(self, inpt):
        return equalize(inpt)


class RandomAutocontrast(_RandomOp):
    def _op(self, inpt):
        return C.autocontrast(inpt)


class RandomPosterize(_RandomOp):
    def __init__(self, bits, p=0.5):
        super().__init__(p=p)
        self.bits = bits

    def _op(self, inpt):
        return posterize(inpt, self.bits)


class RandomSolarize(_RandomOp):
    def __init__(self, threshold, p=0.5):
        super().__init__(p=p)
        self.threshold = threshold

    def _op(self, inpt):
        return solarize(inpt, self.threshold)


class RandomAdjustSharpness(_RandomOp):
    def __init__(self, sharpness_factor, p=0.5):
        super().__init__(p=p)
        self.sharpness_factor = sharpness_factor

    def _op(self, inpt):
        return C.adjust_sharpness(inpt, self.sharpness_factor)


class RandomErasing(_RandomApplyTransform):
    """Erase a random rectangle of random area and aspect ratio with ``value`` (or normal noise: 'random')."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, inplace=False):
        super().__init__(p=p)
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError('Argument value should be either a number or str or a sequence')
        if isinstance(value, str) and value != 'random':
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, (tuple, list)):
            raise TypeError('Scale should be a sequence')
        if not isinstance(ratio, (tuple, list)):
            raise TypeError('Ratio should be a sequence')
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn('Scale and ratio should be of kind (min, max)')
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError('Scale should be between 0 and 1')
        self.scale = scale
        self.ratio = ratio
        if isinstance(value, (int, float)):
            self.value = [float(value)]
        elif isinstance(value, str):
            self.value = None
        else:
            self.value = [float(v) for v in value]
        self.inplace = inplace
        self._log_ratio = ember.log(ember.tensor(self.ratio))

    def make_params(self, flat_inputs):
        c, img_h, img_w = query_chw(flat_inputs)
        if self.value is not None and len(self.value) not in (1, c):
            raise ValueError(f'If value is a sequence, it should have either a single value or {c} (number of inpt '
                             f'channels)')
        area = img_h * img_w
        lo, hi = self._log_ratio
        for _ in range(10):
            erase_area = area * _uniform(self.scale[0], self.scale[1])
            aspect = ember.exp(ember.empty(1).uniform_(lo, hi)).item()
            h = int(round(math.sqrt(erase_area * aspect)))
            w = int(round(math.sqrt(erase_area / aspect)))
            if not (h < img_h and w < img_w):
                continue
            v = (ember.empty([c, h, w], dtype=ember.float32).normal_() if self.value is None
                 else ember.tensor(self.value)[:, None, None])
            return dict(i=_randint(img_h - h + 1), j=_randint(img_w - w + 1), h=h, w=w, v=v)
        return dict(i=0, j=0, h=img_h, w=img_w, v=None)

    def transform(self, inpt, params):
        if params['v'] is None:
            return inpt
        if _image.is_pil(inpt):
            erased = F.erase(F.pil_to_tensor(inpt), params['i'], params['j'], params['h'], params['w'], params['v'])
            return F.to_pil_image(erased, mode=inpt.mode)
        return F.erase(inpt, params['i'], params['j'], params['h'], params['w'], params['v'], inplace=self.inplace)


# --- batch mixing -----------------------------------------------------------------------------------------------

def _default_labels(inputs):
    """torchvision's default labels_getter: the second item of a tuple/list (or the 'labels' key of a dict)."""
    if isinstance(inputs, (tuple, list)):
        inputs = inputs[1]
    if isinstance(inputs, ember.Tensor):
        return inputs
    if not isinstance(inputs, dict):
        raise ValueError(f'When using the default labels_getter, the input passed to forward must be a dictionary or '
                         f'a two-tuple whose second item is a dictionary or a tensor, but got {inputs} instead.')
    keys = [k for k in inputs if k.lower() == 'labels'] or [k for k in inputs if 'label' in k.lower()]
    if not keys:
        raise ValueError('Could not infer where the labels are in the sample. Try passing a callable as the '
                         'labels_getter parameter?If there are no labels in the sample by design, pass '
                         'labels_getter=None.')
    return inputs[keys[0]]


class _BaseMixUpCutMix(Transform):
    def __init__(self, *, alpha=1.0, num_classes=None, labels_getter='default'):
        super().__init__()
        self.alpha = float(alpha)
        self._dist = ember.distributions.Beta(ember.tensor([alpha]), ember.tensor([alpha]))
        self.num_classes = num_classes
        if labels_getter == 'default':
            self._labels_getter = _default_labels
        elif callable(labels_getter):
            self._labels_getter = labels_getter
        elif labels_getter is None:
            self._labels_getter = lambda _: None
        else:
            raise ValueError(f"labels_getter should either be 'default', a callable, or None, but got {labels_getter}.")

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        flat, spec = tree_flatten(inputs)
        needs = self._needs_transform_list(flat)
        if any(_image.is_pil(x) or isinstance(x, (tv_tensors.BoundingBoxes, tv_tensors.Mask))
               for x in flat):
            raise ValueError(f'{type(self).__name__}() does not support PIL images, bounding boxes, keypoints and '
                             f'masks.')
        labels = self._labels_getter(inputs)
        if not isinstance(labels, ember.Tensor):
            raise ValueError(f'The labels must be a tensor, but got {type(labels)} instead.')
        if labels.ndim not in (1, 2):
            raise ValueError(f'labels should be index based with shape (batch_size,) or probability based with shape '
                             f'(batch_size, num_classes), but got a tensor of shape {labels.shape} instead.')
        if labels.ndim == 2 and self.num_classes is not None and labels.shape[-1] != self.num_classes:
            raise ValueError(f'When passing 2D labels, the number of elements in last dimension must match '
                             f'num_classes: {labels.shape[-1]} != {self.num_classes}. You can Leave num_classes to '
                             f'None.')
        if labels.ndim == 1 and self.num_classes is None:
            raise ValueError('num_classes must be passed if the labels are index-based (1D)')
        params = dict(labels=labels, batch_size=labels.shape[0],
                      **self.make_params([x for x, n in zip(flat, needs) if n]))
        needs[next(i for i, x in enumerate(flat) if x is labels)] = True
        return tree_unflatten([self.transform(x, params) if n else x for x, n in zip(flat, needs)], spec)

    def _check_image(self, inpt, batch_size):
        if inpt.ndim != 4:
            raise ValueError(f'Expected a batched input with 4 dims, but got {inpt.ndim} dimensions instead.')
        if inpt.shape[0] != batch_size:
            raise ValueError(f'The batch size of the image or video does not match the batch size of the labels: '
                             f'{inpt.shape[0]} != {batch_size}.')

    def _mixup_label(self, label, lam):
        if label.ndim == 1:
            label = ember.nn.functional.one_hot(label, num_classes=self.num_classes)
        if not label.dtype.is_floating_point:
            label = label.float()
        return label.roll(1, 0).mul_(1.0 - lam).add_(label.mul(lam))


class MixUp(_BaseMixUpCutMix):
    """Each batch image blended with the next one (rolled by one), and the one-hot labels likewise, with a
    weight drawn from Beta(alpha, alpha)."""

    def make_params(self, flat_inputs):
        return dict(lam=float(self._dist.sample(())))

    def transform(self, inpt, params):
        lam = params['lam']
        if inpt is params['labels']:
            return self._mixup_label(inpt, lam)
        if isinstance(inpt, ember.Tensor):
            self._check_image(inpt, params['batch_size'])
            return inpt.roll(1, 0).mul_(1.0 - lam).add_(inpt.mul(lam))
        return inpt


class CutMix(_BaseMixUpCutMix):
    """A random box of each batch image replaced by the next image's, the labels mixed by the box's area."""

    def make_params(self, flat_inputs):
        lam = float(self._dist.sample(()))
        H, W = query_size(flat_inputs)
        r_x = ember.randint(W, size=(1,))
        r_y = ember.randint(H, size=(1,))
        r = 0.5 * math.sqrt(1.0 - lam)
        r_w, r_h = int(r * W), int(r * H)
        x1 = int(ember.clamp(r_x - r_w, min=0))
        y1 = int(ember.clamp(r_y - r_h, min=0))
        x2 = int(ember.clamp(r_x + r_w, max=W))
        y2 = int(ember.clamp(r_y + r_h, max=H))
        return dict(box=(x1, y1, x2, y2), lam_adjusted=float(1.0 - (x2 - x1) * (y2 - y1) / (W * H)))

    def transform(self, inpt, params):
        if inpt is params['labels']:
            return self._mixup_label(inpt, params['lam_adjusted'])
        if isinstance(inpt, ember.Tensor):
            self._check_image(inpt, params['batch_size'])
            x1, y1, x2, y2 = params['box']
            rolled = inpt.roll(1, 0)
            out = inpt.clone()
            out[..., y1:y2, x1:x2] = rolled[..., y1:y2, x1:x2]
            return out
        return inpt
