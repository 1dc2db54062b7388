"""v2's tensor color kernels, which round differently from v1's on integer images: the blend is
``x * r + y * (1 - r)`` as one multiply and one fused multiply-add, grayscale is ``r*0.2989 + g*0.587 + b*0.114``
the same way (floored for integer images before blending), sharpening rounds the blurred image before the blend.
PIL images take v1's (PIL's) kernels, as in torchvision."""
import ember
from ... import _image
from .. import functional as F


def _bound(img):
    return 1.0 if img.is_floating_point() else float(ember.iinfo(img.dtype).max)


def _blend(image1, image2, ratio):
    ratio = float(ratio)
    out = image1.mul(ratio).add_(image2, alpha=1.0 - ratio).clamp_(0, _bound(image1))
    return out if image1.is_floating_point() else out.to(image1.dtype)


def _gray(image, num_output_channels=1, preserve_dtype=True):
    if image.shape[-3] == 1:
        return image.clone() if num_output_channels == 1 else image.repeat(*([1] * (image.ndim - 3)), 3, 1, 1)
    r, g, b = image.unbind(dim=-3)
    lum = r.mul(0.2989).add_(g, alpha=0.587).add_(b, alpha=0.114).unsqueeze(-3)
    if preserve_dtype:
        lum = lum.to(image.dtype)
    return lum.expand(image.shape) if num_output_channels == 3 else lum


def _channels(image, what='Input image tensor permitted channel values are 1 or 3'):
    c = image.shape[-3]
    if c not in (1, 3):
        raise TypeError(f'{what}, but found {c}')
    return c


def rgb_to_grayscale(inpt, num_output_channels=1):
    if _image.is_pil(inpt):
        return F.rgb_to_grayscale(inpt, num_output_channels)
    if num_output_channels not in (1, 3):
        raise ValueError(f'num_output_channels must be 1 or 3, got {num_output_channels}.')
    return _gray(inpt, num_output_channels)


def adjust_brightness(inpt, brightness_factor):
    if _image.is_pil(inpt):
        return F.adjust_brightness(inpt, brightness_factor)
    if brightness_factor < 0:
        raise ValueError(f'brightness_factor ({brightness_factor}) is not non-negative.')
    _channels(inpt)
    out = inpt.mul(brightness_factor).clamp_(0, _bound(inpt))
    return out if inpt.is_floating_point() else out.to(inpt.dtype)


def adjust_saturation(inpt, saturation_factor):
    if _image.is_pil(inpt):
        return F.adjust_saturation(inpt, saturation_factor)
    if saturation_factor < 0:
        raise ValueError(f'saturation_factor ({saturation_factor}) is not non-negative.')
    if _channels(inpt) == 1:
        return inpt
    gray = _gray(inpt, preserve_dtype=False)
    if not inpt.is_floating_point():
        gray = gray.floor_()
    return _blend(inpt, gray, saturation_factor)


def adjust_contrast(inpt, contrast_factor):
    if _image.is_pil(inpt):
        return F.adjust_contrast(inpt, contrast_factor)
    if contrast_factor < 0:
        raise ValueError(f'contrast_factor ({contrast_factor}) is not non-negative.')
    fp = inpt.is_floating_point()
    if _channels(inpt) == 3:
        gray = _gray(inpt, preserve_dtype=False)
        if not fp:
            gray = gray.floor_()
    else:
        gray = inpt if fp else inpt.to(ember.float32)
    return _blend(inpt, ember.mean(gray, dim=(-3, -2, -1), keepdim=True), contrast_factor)


def adjust_sharpness(inpt, sharpness_factor):
    if _image.is_pil(inpt):
        return F.adjust_sharpness(inpt, sharpness_factor)
    c, h, w = inpt.shape[-3:]
    if c not in (1, 3):
        raise TypeError(f'Input image tensor can have 1 or 3 channels, but found {c}')
    if sharpness_factor < 0:
        raise ValueError(f'sharpness_factor ({sharpness_factor}) is not non-negative.')
    if inpt.numel() == 0 or h <= 2 or w <= 2:
        return inpt
    fp = inpt.is_floating_point()
    shape = inpt.shape
    image = inpt.reshape(-1, c, h, w) if inpt.ndim > 4 else inpt
    kdtype = image.dtype if fp else ember.float32
    a, b = 1.0 / 13.0, 5.0 / 13.0
    kernel = ember.tensor([[a, a, a], [a, b, a], [a, a, a]], dtype=kdtype).expand(c, 1, 3, 3)
    out = image.to(dtype=kdtype, copy=True)
    blurred = ember.nn.functional.conv2d(out, kernel, groups=c)
    if not fp:
        blurred = blurred.round_()
    view = out[..., 1:-1, 1:-1]
    view.add_(blurred.sub_(view), alpha=1.0 - sharpness_factor)
    out = out.clamp_(0, _bound(inpt))
    if not fp:
        out = out.to(inpt.dtype)
    return out.reshape(shape)


def autocontrast(inpt):
    """Each channel stretched to the full range: (x - min) / ((max - min) / bound), as v2 computes it."""
    if _image.is_pil(inpt):
        return F.autocontrast(inpt)
    _channels(inpt)
    if inpt.numel() == 0:
        return inpt
    bound = _bound(inpt)
    fp = inpt.is_floating_point()
    img = inpt if fp else inpt.to(ember.float32)
    lo = img.amin(dim=(-2, -1), keepdim=True)
    hi = img.amax(dim=(-2, -1), keepdim=True)
    flat = hi == lo
    inv_scale = hi.sub_(lo).mul_(1.0 / bound)
    lo[flat] = 0.0
    inv_scale[flat] = 1.0
    diff = img.sub(lo) if fp else img.sub_(lo)
    return diff.div_(inv_scale).clamp_(0, bound).to(inpt.dtype)
