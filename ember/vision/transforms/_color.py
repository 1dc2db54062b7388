"""Colour adjustments of tensor images, computed as torchvision's tensor kernels compute them (float32 blends
truncated back to the integer type), so seeded augmentations give torchvision's pixels."""
import numpy as np

import ember
from .._image import wrap

__all__ = ['max_value', 'blend', 'adjust_brightness', 'adjust_contrast', 'adjust_saturation', 'adjust_sharpness',
           'posterize', 'solarize', 'autocontrast', 'equalize', 'invert', 'adjust_hue']

_MAX = {np.dtype(np.uint8): 255, np.dtype(np.int8): 127, np.dtype(np.int16): 32767, np.dtype(np.uint16): 65535,
        np.dtype(np.int32): 2147483647, np.dtype(np.int64): 9223372036854775807}


def max_value(dtype):
    """The brightest value of an image of ``dtype``: 255 for uint8, 1 for floats."""
    return _MAX.get(np.dtype(dtype), 1)


def _work(arr):
    """The float type torchvision computes in: the image's own float type, else float32."""
    return arr.dtype if arr.dtype.kind == 'f' else np.dtype(np.float32)


def _check(arr, channels=(1, 3), ndim=3):
    if arr.ndim < ndim:
        raise TypeError(f'Input image tensor should have at least {ndim} dimensions, but found {arr.ndim}')
    if arr.shape[-3] not in channels:
        raise TypeError(f'Input image tensor permitted channel values are {list(channels)}, but found '
                        f'{arr.shape[-3]}')


def blend(arr1, arr2, ratio):
    """``(ratio * a + (1 - ratio) * b).clamp(0, max).to(a.dtype)`` in the working float type."""
    work = np.result_type(_work(arr1), arr2.dtype if arr2.dtype.kind == 'f' else np.float32)
    r = work.type(float(ratio))
    out = r * arr1.astype(work) + work.type(1.0 - float(ratio)) * arr2.astype(work)
    return np.clip(out, 0, max_value(arr1.dtype)).astype(arr1.dtype)


def _factor(name, value):
    if value < 0:
        raise ValueError(f'{name} ({value}) is not non-negative.')


def _gray(arr):
    from .functional import rgb_to_grayscale
    return rgb_to_grayscale(wrap(arr))._data


def adjust_brightness(arr, factor):
    """Blend with black."""
    _factor('brightness_factor', factor)
    _check(arr)
    return blend(arr, np.zeros_like(arr), factor)


def adjust_contrast(arr, factor):
    """Blend with the mean grey level (summed in PyTorch's order through ember.mean)."""
    _factor('contrast_factor', factor)
    _check(arr)
    gray = _gray(arr) if arr.shape[-3] == 3 else arr
    mean = ember.mean(wrap(gray.astype(_work(arr))), dim=(-3, -2, -1), keepdim=True)._data
    return blend(arr, mean, factor)


def adjust_saturation(arr, factor):
    """Blend with the grey image (a one-channel image is returned unchanged, as PIL does)."""
    _factor('saturation_factor', factor)
    _check(arr)
    return arr if arr.shape[-3] == 1 else blend(arr, _gray(arr), factor)


def _blurred_degenerate(arr):
    """The image smoothed by torchvision's 3x3 kernel (centre weight 5) inside a one-pixel border."""
    work = _work(arr)
    kernel = np.ones((3, 3), work)
    kernel[1, 1] = 5.0
    kernel /= kernel.sum()
    c = arr.shape[-3]
    flat = arr.reshape((-1,) + arr.shape[-3:]).astype(work)
    weight = ember.tensor(np.broadcast_to(kernel, (c, 1, 3, 3)).copy())
    out = ember.nn.functional.conv2d(wrap(flat), weight, groups=c)._data
    if arr.dtype.kind != 'f':
        out = np.round(out).astype(arr.dtype)
    result = arr.copy()
    result[..., 1:-1, 1:-1] = out.reshape(arr.shape[:-2] + out.shape[-2:])
    return result


def adjust_sharpness(arr, factor):
    """Blend with the smoothed image (images of 2 pixels or fewer on a side are unchanged)."""
    _factor('sharpness_factor', factor)
    _check(arr)
    if arr.shape[-1] <= 2 or arr.shape[-2] <= 2:
        return arr
    return blend(arr, _blurred_degenerate(arr), factor)


def _uint8(arr):
    if arr.dtype != np.uint8:
        raise TypeError(f'Only torch.uint8 image tensors are supported, but found {wrap(arr).dtype}')


def posterize(arr, bits):
    """Keep the ``bits`` high bits of each uint8 value."""
    _check(arr)
    _uint8(arr)
    return arr & np.uint8(-int(2 ** (8 - bits)) & 0xFF)


def invert(arr):
    """``max - value``."""
    _check(arr)
    return (max_value(arr.dtype) - arr).astype(arr.dtype)


def solarize(arr, threshold):
    """Invert the values at or above ``threshold``."""
    _check(arr)
    if threshold > max_value(arr.dtype):
        raise TypeError('Threshold should be less than bound of img.')
    return np.where(arr >= threshold, invert(arr), arr)


def autocontrast(arr):
    """Stretch each channel's range to [0, max] (a constant channel is left as is)."""
    _check(arr)
    bound, work = max_value(arr.dtype), _work(arr)
    lo = arr.min(axis=(-2, -1), keepdims=True).astype(work)
    hi = arr.max(axis=(-2, -1), keepdims=True).astype(work)
    with np.errstate(divide='ignore', invalid='ignore'):
        scale = np.reciprocal(hi - lo) * work.type(bound)     # torch's ``bound / t`` is ``t.reciprocal() * bound``
    flat = ~np.isfinite(scale)
    lo[flat], scale[flat] = 0, 1
    return np.clip((arr - lo) * scale, 0, bound).astype(arr.dtype)


def _equalize_channel(chan):
    hist = np.bincount(chan.reshape(-1), minlength=256)
    nonzero = hist[hist != 0]
    step = int(nonzero[:-1].sum()) // 255
    if step == 0:
        return chan
    lut = (np.cumsum(hist) + step // 2) // step
    lut = np.clip(np.concatenate([[0], lut[:-1]]), 0, 255)
    return lut[chan.astype(np.int64)].astype(np.uint8)


def equalize(arr):
    """Histogram equalisation of each channel of a uint8 image (or a batch of them)."""
    if not 3 <= arr.ndim <= 4:
        raise TypeError(f'Input image tensor should have 3 or 4 dimensions, but found {arr.ndim}')
    _uint8(arr)
    _check(arr)
    if arr.ndim == 3:
        return np.stack([_equalize_channel(c) for c in arr])
    return np.stack([np.stack([_equalize_channel(c) for c in img]) for img in arr])


def _rgb2hsv(img):
    """(..., 3, H, W) float RGB in [0, 1] to HSV, with torchvision's formulas (hue in [0, 1))."""
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc, minc = img.max(axis=-3), img.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    one = np.ones_like(maxc)
    s = cr / np.where(eqc, one, maxc)
    cr_div = np.where(eqc, one, cr)
    rc, gc, bc = (maxc - r) / cr_div, (maxc - g) / cr_div, (maxc - b) / cr_div
    two, four = maxc.dtype.type(2.0), maxc.dtype.type(4.0)
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (two + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (four + gc - rc)
    h = np.fmod((hr + hg + hb) / maxc.dtype.type(6.0) + one, one)
    return np.stack((h, s, maxc), axis=-3)


def _hsv2rgb(img):
    """HSV back to RGB (the sector ``floor(6h) mod 6`` picks each channel from v, p, q, t)."""
    h, s, v = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    dt = img.dtype.type
    i = np.floor(h * dt(6.0))
    f = h * dt(6.0) - i
    i = i.astype(np.int32) % 6
    p = np.clip(v * (dt(1.0) - s), 0.0, 1.0)
    q = np.clip(v * (dt(1.0) - s * f), 0.0, 1.0)
    t = np.clip(v * (dt(1.0) - s * (dt(1.0) - f)), 0.0, 1.0)
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.empty(h.shape[:-2] + (3,) + h.shape[-2:], img.dtype)
    for c in range(3):
        out[..., c, :, :] = np.select([i == k for k in range(6)], [row[c] for row in table])
    return out


def adjust_hue(arr, hue_factor):
    """Rotate the hue by ``hue_factor`` turns (in [-0.5, 0.5]) in HSV space (one-channel images unchanged)."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor ({hue_factor}) is not in [-0.5, 0.5].')
    _check(arr)
    if arr.shape[-3] == 1:
        return arr
    img = arr.astype(np.float32) / np.float32(max_value(arr.dtype)) if arr.dtype.kind != 'f' else arr
    hsv = _rgb2hsv(img)
    h = hsv[..., 0, :, :] + img.dtype.type(hue_factor)
    hsv[..., 0, :, :] = h - np.floor(h)     # PyTorch's float remainder by 1
    rgb = _hsv2rgb(hsv)
    if arr.dtype.kind == 'f':
        return rgb
    # convert_image_dtype back to integers: scale by max + 1 - 1e-3 and truncate
    return (rgb * np.float32(max_value(arr.dtype) + 1.0 - 1e-3)).astype(arr.dtype)
