"""Functional image transforms for PIL images and ember tensor images ([..., C, H, W]).

PIL inputs go through Pillow as torchvision does; tensors are processed as NumPy arrays and re-wrapped."""
import numbers
import warnings
from enum import Enum

import numpy as np

import ember
from .._image import is_pil, is_tensor, pil_module, wrap
from . import _blur, _color, _geometry
from ._resample import resize_array

__all__ = ['InterpolationMode', 'get_dimensions', 'get_image_size', 'get_image_num_channels', 'to_tensor',
           'pil_to_tensor', 'to_pil_image', 'normalize', 'resize', 'crop', 'center_crop', 'resized_crop',
           'pad', 'hflip', 'vflip', 'rgb_to_grayscale', 'to_grayscale', 'rotate', 'affine', 'adjust_brightness',
           'adjust_contrast', 'adjust_saturation', 'adjust_sharpness', 'posterize', 'solarize', 'autocontrast',
           'equalize', 'invert', 'adjust_hue', 'adjust_gamma', 'convert_image_dtype', 'erase', 'gaussian_blur',
           'five_crop', 'ten_crop', 'perspective', 'elastic_transform']


class InterpolationMode(Enum):
    """Interpolation methods, named as torchvision's (``InterpolationMode.BILINEAR.value == 'bilinear'``)."""
    NEAREST = 'nearest'
    NEAREST_EXACT = 'nearest-exact'
    BILINEAR = 'bilinear'
    BICUBIC = 'bicubic'
    BOX = 'box'
    HAMMING = 'hamming'
    LANCZOS = 'lanczos'


_PIL_FILTERS = {'nearest': 0, 'nearest-exact': 0, 'bilinear': 2, 'bicubic': 3, 'box': 4, 'hamming': 5,
                'lanczos': 1}
_FROM_INT = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
             4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def _interpolation_modes_from_int(i):
    return _FROM_INT[int(i)]


def _interpolation(mode):
    if isinstance(mode, InterpolationMode):
        return mode
    if isinstance(mode, int):
        return _interpolation_modes_from_int(mode)
    raise TypeError('Argument interpolation should be a InterpolationMode or a corresponding Pillow integer '
                    'constant')


def _check_image(img):
    if is_pil(img):
        return
    if not is_tensor(img):
        raise TypeError(f'img should be PIL Image or Tensor. Got {type(img)}')
    if img._data.ndim < 2:
        raise TypeError('Tensor is not a torch image.')


def get_dimensions(img):
    """``[channels, height, width]`` of a PIL image or tensor image."""
    _check_image(img)
    if is_pil(img):
        return [len(img.getbands()), img.size[1], img.size[0]]
    shape = img._data.shape
    return [1 if len(shape) == 2 else shape[-3], shape[-2], shape[-1]]


def get_image_size(img):
    """``[width, height]`` of an image."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img):
    return get_dimensions(img)[0]


def _float_tensor(arr):
    """Wrap a float32 array as the default float dtype."""
    t = wrap(arr)
    default = ember.get_default_dtype()
    return t if default == ember.float32 else t.to(default)


_PIL_NP_TYPES = {'I': np.int32, 'I;16': np.int16, 'F': np.float32}


def to_tensor(pic):
    """PIL image or HWC ndarray to a CHW tensor; uint8 data is scaled to float in [0, 1]."""
    if not (is_pil(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f'pic should be PIL Image or ndarray. Got {type(pic)}')
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f'pic should be 2/3 dimensional. Got {pic.ndim} dimensions.')
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        arr = np.array(pic, _PIL_NP_TYPES.get(pic.mode, np.uint8), copy=True)
        if pic.mode == '1':
            arr = arr * np.uint8(255)
        arr = arr.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    arr = np.ascontiguousarray(arr.transpose((2, 0, 1)))
    if arr.dtype == np.uint8:
        return _float_tensor(arr.astype(np.float32) / np.float32(255))
    return wrap(arr)


def pil_to_tensor(pic):
    """PIL image to a CHW tensor of the image's own type (no scaling)."""
    if not is_pil(pic):
        raise TypeError(f'pic should be PIL Image. Got {type(pic)}')
    arr = np.array(pic, copy=True).reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return wrap(arr.transpose((2, 0, 1)))   # (a 16-bit image: a uint16 tensor, as torchvision's)


_CHANNEL_MODES = {2: ['LA'], 3: ['RGB', 'YCbCr', 'HSV'], 4: ['RGBA', 'CMYK', 'RGBX']}
_DEFAULT_MODES = {2: 'LA', 3: 'RGB', 4: 'RGBA'}
_SINGLE_MODES = {np.dtype(np.uint8): 'L', np.dtype(np.int16): 'I;16', np.dtype(np.int32): 'I',
                 np.dtype(np.float32): 'F'}


def _to_hwc_array(pic):
    if is_tensor(pic):
        arr = pic._data
        if arr.ndim not in (2, 3):
            raise ValueError(f'pic should be 2/3 dimensional. Got {arr.ndim} dimensions.')
        return arr.transpose((1, 2, 0)) if arr.ndim == 3 else arr
    if not isinstance(pic, np.ndarray):
        raise TypeError(f'pic should be Tensor or ndarray. Got {type(pic)}.')
    return pic


def _pick_mode(npimg, mode):
    channels = npimg.shape[2]
    if channels == 1:
        expected = _SINGLE_MODES.get(npimg.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f'Incorrect mode ({mode}) supplied for input type {npimg.dtype}. '
                             f'Should be {expected}')
        return expected
    if mode is not None and mode not in _CHANNEL_MODES[channels]:
        raise ValueError(f'Only modes {_CHANNEL_MODES[channels]} are supported for {channels}D inputs')
    if mode is None and npimg.dtype == np.uint8:
        return _DEFAULT_MODES[channels]
    return mode


def to_pil_image(pic, mode=None):
    """CHW tensor or HWC ndarray to a PIL image; floats are scaled by 255 unless ``mode='F'``."""
    npimg = _to_hwc_array(pic)
    if npimg.ndim == 2:
        npimg = npimg[:, :, None]
    if npimg.ndim != 3:
        raise ValueError(f'pic should be 2/3 dimensional. Got {npimg.ndim} dimensions.')
    if npimg.shape[-1] > 4:
        raise ValueError(f'pic should not have > 4 channels. Got {npimg.shape[-1]} channels.')
    if np.issubdtype(npimg.dtype, np.floating) and mode != 'F':
        npimg = (npimg * 255).astype(np.uint8)
    mode = _pick_mode(npimg, mode)
    if mode is None:
        raise TypeError(f'Input type {npimg.dtype} is not supported')
    if npimg.shape[2] == 1:
        npimg = npimg[:, :, 0]
    return _from_raw(npimg, mode)


def _from_raw(arr, mode):
    """A PIL image of ``mode`` whose raw bytes are ``arr``'s: Pillow 11.3+ ``fromarray(mode=)`` no longer reads
    data as the mode given (an int16 array as 'I;16' is refused), ``frombuffer`` still does."""
    arr = np.ascontiguousarray(arr)
    return pil_module().frombuffer(mode, (arr.shape[1], arr.shape[0]), arr.tobytes(), 'raw', mode, 0, 1)


def normalize(tensor, mean, std, inplace=False):
    """``(tensor - mean) / std`` per channel of a float (..., C, H, W) tensor, through ember ops."""
    if not is_tensor(tensor):
        raise TypeError(f'img should be Tensor Image. Got {type(tensor)}')
    if not tensor.dtype.is_floating_point:
        raise TypeError(f'Input tensor should be a float tensor. Got {tensor.dtype}.')
    if tensor.dim() < 2:   # not an image at all: torchvision's _assert_image_tensor
        raise TypeError('Tensor is not a torch image.')
    if tensor.dim() < 3:
        raise ValueError('Expected tensor to be a tensor image of size (..., C, H, W). Got '
                         f'tensor.size() = {tensor.size()}')
    if not inplace:
        tensor = tensor.clone()
    mean = ember.as_tensor(mean, dtype=tensor.dtype)
    std = ember.as_tensor(std, dtype=tensor.dtype)
    if (std._data == 0).any():
        raise ValueError(f'std evaluated to zero after conversion to {tensor.dtype}, leading to division by '
                         'zero.')
    if mean.dim() == 1:
        mean = mean.view(-1, 1, 1)
    if std.dim() == 1:
        std = std.view(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


def _resized_output_size(h, w, size, max_size=None):
    """torchvision's rule: one number matches the shorter edge (keeping the aspect), two give (h, w)."""
    if len(size) == 2:
        return [size[0], size[1]]
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size[0], int(size[0] * long / short)
    if max_size is not None:
        if max_size <= size[0]:
            raise ValueError(f'max_size = {max_size} must be strictly greater than the requested size for the '
                             f'smaller edge size = {size}')
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return [new_h, new_w]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size``; PIL images go through ``Image.resize`` (always antialiased)."""
    interpolation = _interpolation(interpolation)
    if isinstance(size, numbers.Number):
        size = [int(size)]
    if len(size) not in (1, 2):
        raise ValueError(f'Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element '
                         'tuple/list')
    if not all(isinstance(s, numbers.Integral) for s in size):
        raise TypeError('expected size to be one of int or Tuple[int] or Tuple[int, int], but got size with types '
                        f'{[type(s) for s in size]}')
    if max_size is not None and len(size) != 1:
        raise ValueError('max_size should only be passed if size specifies the length of the smaller edge, '
                         'i.e. size should be an int or a sequence of length 1 in torchscript mode.')
    _, h, w = get_dimensions(img)
    out = _resized_output_size(h, w, list(size), max_size)
    if [h, w] == out:
        return img
    if is_pil(img):
        if antialias is False:
            warnings.warn('Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.')
        return img.resize((out[1], out[0]), _PIL_FILTERS[interpolation.value])
    mode = interpolation.value
    aa = bool(antialias) and mode in ('bilinear', 'bicubic')
    return wrap(resize_array(img._data, out, mode, aa))


def _parse_padding(padding):
    """``[left, top, right, bottom]`` from an int or a 1-, 2- or 4-element sequence."""
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError('Got inappropriate padding arg')
    if isinstance(padding, numbers.Number):
        return [int(padding)] * 4
    if len(padding) not in (1, 2, 4):
        raise ValueError(f'Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element '
                         'tuple')
    if len(padding) == 1:
        return [padding[0]] * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    return list(padding)


def _pad_hw(arr, ltrb, fill, mode, h_axis):
    """Pad axes ``h_axis`` and ``h_axis + 1`` of ``arr``; negative padding crops."""
    left, top, right, bottom = ltrb
    h, w = arr.shape[h_axis], arr.shape[h_axis + 1]
    index = [slice(None)] * arr.ndim
    index[h_axis] = slice(max(-top, 0), h - max(-bottom, 0))
    index[h_axis + 1] = slice(max(-left, 0), w - max(-right, 0))
    arr = arr[tuple(index)]
    widths = [(0, 0)] * arr.ndim
    widths[h_axis] = (max(top, 0), max(bottom, 0))
    widths[h_axis + 1] = (max(left, 0), max(right, 0))
    if mode != 'constant':
        return np.pad(arr, widths, mode)
    shape = [s + a + b for s, (a, b) in zip(arr.shape, widths)]
    out = np.empty(shape, arr.dtype)
    out[...] = fill
    index = tuple(slice(a, a + s) for s, (a, _) in zip(arr.shape, widths))
    out[index] = arr
    return out


_PAD_MODES = ('constant', 'edge', 'reflect', 'symmetric')


def pad(img, padding, fill=0, padding_mode='constant'):
    """Pad every border (left, top, right, bottom) with ``fill`` or by edge/reflect/symmetric copying."""
    _check_image(img)
    if padding_mode not in _PAD_MODES:
        raise ValueError('Padding mode should be either constant, edge, reflect or symmetric')
    ltrb = _parse_padding(padding)
    if is_pil(img):
        if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError('Got inappropriate fill arg')
        arr = _pad_hw(np.asarray(img), ltrb, _pil_fill(fill, img), padding_mode, 0)
        out = pil_module().fromarray(arr)
        if img.mode == 'P':
            out.putpalette(img.getpalette())
        return out
    fill = 0 if fill is None else fill
    if not isinstance(fill, (int, float)):
        raise TypeError('Got inappropriate fill arg')
    arr = img._data
    return wrap(_pad_hw(arr, ltrb, fill, padding_mode, arr.ndim - 2))


def crop(img, top, left, height, width):
    """The ``height`` x ``width`` window at (``top``, ``left``); outside the image it is zero-filled."""
    _check_image(img)
    if is_pil(img):
        return img.crop((left, top, left + width, top + height))
    arr = img._data
    h, w = arr.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        ltrb = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                max(right - max(w, left), 0), max(bottom - max(h, top), 0)]
        window = arr[..., max(top, 0):bottom, max(left, 0):right]
        return wrap(_pad_hw(window, ltrb, 0, 'constant', arr.ndim - 2))
    return wrap(arr[..., top:bottom, left:right])


def _size_pair(size):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return size[0], size[0]
    return size[0], size[1]


def center_crop(img, output_size):
    """Crop the centre; an image smaller than ``output_size`` is first zero-padded around."""
    crop_h, crop_w = _size_pair(output_size)
    _, h, w = get_dimensions(img)
    if crop_w > w or crop_h > h:
        ltrb = [(crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
                (crop_w - w + 1) // 2 if crop_w > w else 0, (crop_h - h + 1) // 2 if crop_h > h else 0]
        img = pad(img, ltrb, fill=0)
        _, h, w = get_dimensions(img)
        if crop_w == w and crop_h == h:
            return img
    top = int(round((h - crop_h) / 2.0))
    left = int(round((w - crop_w) / 2.0))
    return crop(img, top, left, crop_h, crop_w)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
    """``crop`` then ``resize``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def hflip(img):
    """Mirror left-right."""
    _check_image(img)
    if is_pil(img):
        return img.transpose(pil_module().Transpose.FLIP_LEFT_RIGHT)
    return wrap(np.ascontiguousarray(img._data[..., ::-1]))


def vflip(img):
    """Mirror top-bottom."""
    _check_image(img)
    if is_pil(img):
        return img.transpose(pil_module().Transpose.FLIP_TOP_BOTTOM)
    return wrap(np.ascontiguousarray(img._data[..., ::-1, :]))


def to_grayscale(img, num_output_channels=1):
    """PIL image to grayscale ('L', or 'RGB' with three equal bands)."""
    if not is_pil(img):
        raise TypeError(f'img should be PIL Image. Got {type(img)}')
    if num_output_channels not in (1, 3):
        raise ValueError('num_output_channels should be either 1 or 3')
    gray = img.convert('L')
    if num_output_channels == 1:
        return gray
    arr = np.asarray(gray, dtype=np.uint8)
    return pil_module().fromarray(np.dstack([arr, arr, arr]), mode='RGB')


def rgb_to_grayscale(img, num_output_channels=1):
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` (ITU-R 601-2) of a PIL or tensor image."""
    if is_pil(img):
        return to_grayscale(img, num_output_channels)
    _check_image(img)
    arr = img._data
    if arr.ndim < 3:
        raise TypeError(f'Input image tensor should have at least 3 dimensions, but found {arr.ndim}')
    if arr.shape[-3] not in (1, 3):
        raise TypeError(f'Input image tensor permitted channel values are [1, 3], but found {arr.shape[-3]}')
    if num_output_channels not in (1, 3):
        raise ValueError('num_output_channels should be either 1 or 3')
    if arr.shape[-3] == 3:
        work = arr.dtype if arr.dtype.kind == 'f' else np.dtype(np.float32)
        r, g, b = (arr[..., i, :, :].astype(work) for i in range(3))
        gray = (work.type(0.2989) * r + work.type(0.587) * g + work.type(0.114) * b).astype(arr.dtype)
        gray = gray[..., None, :, :]
    else:
        gray = arr.copy()
    if num_output_channels == 3:
        gray = np.broadcast_to(gray, arr.shape)
    return wrap(gray)


# --- geometry and colour (PIL images through Pillow, tensors through _geometry/_color) ---

def _pil_fill(fill, img):
    """Pillow's ``fillcolor`` for ``fill``: one value per band, integers unless the image is float ('F')."""
    bands = len(img.getbands())
    fill = 0 if fill is None else fill
    if isinstance(fill, (int, float)) and bands > 1:
        fill = tuple([fill] * bands)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill * bands
        elif len(fill) != bands:
            raise ValueError("The number of elements in 'fill' does not match the number of channels of the image "
                             f'({len(fill)} != {bands})')
        fill = tuple(fill)
    if img.mode != 'F':
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return fill


def _check_interpolation(interpolation):
    if isinstance(interpolation, int):
        return _interpolation_modes_from_int(interpolation)
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError('Argument interpolation should be a InterpolationMode or a corresponding Pillow integer '
                        'constant')
    return interpolation


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (default: the image centre)."""
    interpolation = _check_interpolation(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError('Argument angle should be int or float')
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError('Argument center should be a sequence')
    _check_image(img)
    if is_pil(img):
        return img.rotate(angle, _PIL_FILTERS[interpolation.value], expand, center, fillcolor=_pil_fill(fill, img))
    _, height, width = get_dimensions(img)
    center_f = [0.0, 0.0] if center is None else [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    matrix = _geometry.inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    size = _geometry.affine_output_size(matrix, width, height) if expand else None
    return wrap(_geometry.warp(img._data, matrix, interpolation.value, fill, size))


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotate by ``angle``, translate by ``translate`` pixels, scale and shear (degrees) about ``center``."""
    interpolation = _check_interpolation(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError('Argument angle should be int or float')
    if not isinstance(translate, (list, tuple)):
        raise TypeError('Argument translate should be a sequence')
    if len(translate) != 2:
        raise ValueError('Argument translate should be a sequence of length 2')
    if scale <= 0.0:
        raise ValueError('Argument scale should be positive')
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError('Shear should be either a single value or a sequence of two values')
    shear = [shear, 0.0] if isinstance(shear, numbers.Number) else list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f'Shear should be a sequence containing two values. Got {shear}')
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError('Argument center should be a sequence')
    _, height, width = get_dimensions(img)
    if is_pil(img):
        center = [width * 0.5, height * 0.5] if center is None else center
        matrix = _geometry.inverse_affine_matrix(center, float(angle), list(translate), scale, shear)
        return img.transform(img.size, pil_module().AFFINE, matrix, _PIL_FILTERS[interpolation.value],
                             fillcolor=_pil_fill(fill, img))
    center_f = [0.0, 0.0] if center is None else [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    matrix = _geometry.inverse_affine_matrix(center_f, float(angle), [1.0 * t for t in translate], scale, shear)
    return wrap(_geometry.warp(img._data, matrix, interpolation.value, fill))


def _enhance(kind, img, factor):
    """A PIL ``ImageEnhance`` adjustment (torchvision's PIL path)."""
    from PIL import ImageEnhance
    return getattr(ImageEnhance, kind)(img).enhance(factor)


def _tensor_op(fn, img, *args):
    """Apply a ``_color`` kernel to a tensor image's array."""
    _check_image(img)
    return wrap(fn(img._data, *args))


def adjust_brightness(img, brightness_factor):
    """Scale brightness: 0 gives black, 1 the original."""
    if is_pil(img):
        return _enhance('Brightness', img, brightness_factor)
    return _tensor_op(_color.adjust_brightness, img, brightness_factor)


def adjust_contrast(img, contrast_factor):
    """Scale contrast about the mean grey: 0 gives solid grey, 1 the original."""
    if is_pil(img):
        return _enhance('Contrast', img, contrast_factor)
    return _tensor_op(_color.adjust_contrast, img, contrast_factor)


def adjust_saturation(img, saturation_factor):
    """Scale saturation: 0 gives grey, 1 the original."""
    if is_pil(img):
        return _enhance('Color', img, saturation_factor)
    return _tensor_op(_color.adjust_saturation, img, saturation_factor)


def adjust_sharpness(img, sharpness_factor):
    """Scale sharpness: 0 gives a blurred image, 1 the original, 2 a sharpened one."""
    if is_pil(img):
        return _enhance('Sharpness', img, sharpness_factor)
    return _tensor_op(_color.adjust_sharpness, img, sharpness_factor)


def _image_ops(name, img, *args):
    from PIL import ImageOps
    return getattr(ImageOps, name)(img, *args)


def posterize(img, bits):
    """Keep the ``bits`` most significant bits of each channel (uint8 images)."""
    if not 0 <= bits <= 8:
        raise ValueError(f'The number if bits should be between 0 and 8. Got {bits}')
    if is_pil(img):
        return _image_ops('posterize', img, bits)
    return _tensor_op(_color.posterize, img, bits)


def solarize(img, threshold):
    """Invert the pixels at or above ``threshold``."""
    if is_pil(img):
        return _image_ops('solarize', img, threshold)
    return _tensor_op(_color.solarize, img, threshold)


def autocontrast(img):
    """Stretch each channel to the full range."""
    if is_pil(img):
        return _image_ops('autocontrast', img)
    return _tensor_op(_color.autocontrast, img)


def equalize(img):
    """Equalise each channel's histogram (uint8 images)."""
    if is_pil(img):
        return _image_ops('equalize', img)
    return _tensor_op(_color.equalize, img)


def invert(img):
    """Invert the colours."""
    if is_pil(img):
        return _image_ops('invert', img)
    return _tensor_op(_color.invert, img)


def adjust_hue(img, hue_factor):
    """Shift the hue by ``hue_factor`` turns, in [-0.5, 0.5] (PIL: in 8-bit HSV, wrapping around)."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor ({hue_factor}) is not in [-0.5, 0.5].')
    if not is_pil(img):
        if not is_tensor(img):
            raise TypeError('Input img should be Tensor image')
        return _tensor_op(_color.adjust_hue, img, hue_factor)
    if img.mode in {'L', '1', 'I', 'F'}:
        return img
    h, s, v = img.convert('HSV').split()
    np_h = np.array(h, dtype=np.uint8)
    np_h += np.int32(hue_factor * 255).astype(np.uint8)     # wraps around, as the hue circle does
    image = pil_module()
    return image.merge('HSV', (image.fromarray(np_h, 'L'), s, v)).convert(img.mode)


def adjust_gamma(img, gamma, gain=1):
    """Gamma correction ``gain * I ** gamma`` on intensities scaled to [0, 1]."""
    if not is_tensor(img):
        if not is_pil(img):
            raise TypeError(f'img should be PIL Image. Got {type(img)}')
        if gamma < 0:
            raise ValueError('Gamma should be a non-negative real number')
        table = [int((255 + 1 - 1e-3) * gain * pow(v / 255.0, gamma)) for v in range(256)] * 3
        return img.convert('RGB').point(table).convert(img.mode)
    channels = get_dimensions(img)[0]
    if channels not in (1, 3):
        raise TypeError(f'Input image tensor permitted channel values are [1, 3], but found {channels}')
    if gamma < 0:
        raise ValueError('Gamma should be a non-negative real number')
    result = img if img.is_floating_point() else convert_image_dtype(img, ember.float32)
    result = (gain * result.pow(gamma)).clamp(0, 1)
    return convert_image_dtype(result, img.dtype)


def convert_image_dtype(image, dtype=ember.float32):
    """Convert a tensor image to ``dtype``, rescaling between integer ranges and [0, 1] floats."""
    if not is_tensor(image):
        raise TypeError('Input img should be Tensor Image')
    if image.dtype == dtype:
        return image
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype == ember.float32 and dtype in (ember.int32, ember.int64)) or (
                image.dtype == ember.float64 and dtype == ember.int64):
            raise RuntimeError(f'The cast from {image.dtype} to {dtype} cannot be performed safely.')
        return image.mul(float(_color.max_value(dtype.np)) + 1.0 - 1e-3).to(dtype)
    input_max = float(_color.max_value(image.dtype.np))
    if dtype.is_floating_point:
        return image.to(dtype) / input_max
    output_max = float(_color.max_value(dtype.np))
    if input_max > output_max:
        return ember.div(image, int((input_max + 1) // (output_max + 1)), rounding_mode='floor').to(dtype)
    return image.to(dtype) * int((output_max + 1) // (input_max + 1))


def erase(img, i, j, h, w, v, inplace=False):
    """Set the ``h`` x ``w`` window at (``i``, ``j``) to ``v`` (tensor images only)."""
    if not is_tensor(img):
        raise TypeError(f'img should be Tensor Image. Got {type(img)}')
    _check_image(img)
    out = img if inplace else img.clone()
    out[..., i:i + h, j:j + w] = v
    return out


def _pair(value, name):
    """``[a, b]`` from a number or a one- or two-element sequence, for gaussian_blur's arguments."""
    if isinstance(value, (int, float)):
        return [value, value]
    if len(value) == 1:
        return [value[0], value[0]]
    if len(value) != 2:
        raise ValueError(f'If {name} is a sequence, its length should be 2. Got {len(value)}')
    return list(value)


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel over reflect padding (same output size); ``sigma`` defaults to
    ``0.15 * kernel_size + 0.35``."""
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f'kernel_size should be int or a sequence of integers. Got {type(kernel_size)}')
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(f'If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}')
    if any(k % 2 == 0 or k < 0 for k in kernel_size):
        raise ValueError(f'kernel_size should have odd and positive integers. Got {kernel_size}')
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f'sigma should be either float or sequence of floats. Got {type(sigma)}')
    sigma = [float(sigma)] * 2 if isinstance(sigma, (int, float)) else _pair(sigma, 'sigma')
    if any(s <= 0.0 for s in sigma):
        raise ValueError(f'sigma should have positive values. Got {sigma}')
    if is_tensor(img):
        return wrap(_blur.gaussian_blur(img._data, kernel_size, sigma))
    if not is_pil(img):
        raise TypeError(f'img should be PIL Image or Tensor. Got {type(img)}')
    out = wrap(_blur.gaussian_blur(pil_to_tensor(img)._data, kernel_size, sigma))
    return to_pil_image(out, mode=img.mode)


def _crop_size(size):
    if isinstance(size, numbers.Number):
        size = (int(size), int(size))
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (size[0], size[0])
    if len(size) != 2:
        raise ValueError('Please provide only two dimensions (h, w) for size.')
    return size


def five_crop(img, size):
    """The four corner crops and the centre crop: ``(tl, tr, bl, br, center)``."""
    size = _crop_size(size)
    _, height, width = get_dimensions(img)
    ch, cw = size
    if cw > width or ch > height:
        raise ValueError(f'Requested crop size {size} is bigger than input size {(height, width)}')
    return (crop(img, 0, 0, ch, cw), crop(img, 0, width - cw, ch, cw), crop(img, height - ch, 0, ch, cw),
            crop(img, height - ch, width - cw, ch, cw), center_crop(img, [ch, cw]))


def ten_crop(img, size, vertical_flip=False):
    """``five_crop`` of the image, then of its mirror (left-right, or top-bottom with ``vertical_flip``)."""
    size = _crop_size(size)
    first = five_crop(img, size)
    return first + five_crop(vflip(img) if vertical_flip else hflip(img), size)


def _get_perspective_coeffs(startpoints, endpoints):
    """(a, b, c, d, e, f, g, h) mapping ``endpoints`` to ``startpoints``, solved in float64 and rounded to
    float32 as torchvision rounds its least-squares solution."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(f'Please provide exactly four corners, got {len(startpoints)} startpoints and '
                         f'{len(endpoints)} endpoints.')
    a = np.zeros((8, 8), np.float64)
    for i, (p1, p2) in enumerate(zip(endpoints, startpoints)):
        a[2 * i] = [p1[0], p1[1], 1, 0, 0, 0, -p2[0] * p1[0], -p2[0] * p1[1]]
        a[2 * i + 1] = [0, 0, 0, p1[0], p1[1], 1, -p2[1] * p1[0], -p2[1] * p1[1]]
    b = np.array(startpoints, np.float64).reshape(8)
    solution, _, rank, _ = np.linalg.lstsq(a, b, rcond=None)
    if rank < 8:
        raise RuntimeError('torch.linalg.lstsq: The least squares solution could not be computed because the input '
                           'matrix does not have full rank (perspective: the corners must not coincide)')
    return solution.astype(np.float32).tolist()


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None):
    """Warp so that the four ``startpoints`` corners [tl, tr, br, bl] land on ``endpoints``."""
    coeffs = _get_perspective_coeffs(startpoints, endpoints)
    interpolation = _check_interpolation(interpolation)
    if not is_tensor(img):
        if not is_pil(img):
            raise TypeError(f'img should be PIL Image. Got {type(img)}')
        return img.transform(img.size, pil_module().PERSPECTIVE, coeffs, _PIL_FILTERS[interpolation.value],
                             fillcolor=_pil_fill(fill, img))
    _check_image(img)
    return wrap(_geometry.perspective(img._data, coeffs, interpolation.value, fill))


def elastic_transform(img, displacement, interpolation=InterpolationMode.BILINEAR, fill=None):
    """Resample at the identity grid moved by ``displacement`` ((1, H, W, 2) in [-1, 1] coordinates): the
    "see-through-water" warp of ElasticTransform. A PIL image goes through its uint8 tensor and back."""
    if isinstance(interpolation, int):
        warnings.warn('Argument interpolation should be of type InterpolationMode instead of int. Please, use '
                      'InterpolationMode enum.')
        interpolation = _interpolation_modes_from_int(interpolation)
    if not is_tensor(displacement):
        raise TypeError('Argument displacement should be a Tensor')
    t_img = img
    if not is_tensor(img):
        if not is_pil(img):
            raise TypeError(f'img should be PIL Image or Tensor. Got {type(img)}')
        t_img = pil_to_tensor(img)
    shape = ember.Size((1,) + tuple(t_img.shape[-2:]) + (2,))
    if shape != displacement.shape:
        raise ValueError(f'Argument displacement shape should be {shape}, but given {displacement.shape}')
    out = wrap(_geometry.elastic(t_img._data, displacement._data[0], interpolation.value, fill))
    return out if is_tensor(img) else to_pil_image(out, mode=img.mode)
