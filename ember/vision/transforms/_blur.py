"""Gaussian blur of tensor images as torchvision computes it: a float kernel (the image's float type, else
float32) over reflect padding by a depthwise convolution, integer images rounded back."""
import numpy as np

import ember
from .._image import wrap

__all__ = ['gaussian_kernel2d', 'gaussian_blur']


def _kernel1d(size, sigma, dtype):
    """``exp(-x^2 / (2 sigma^2))`` normalised, on ``linspace(-(size-1)/2, (size-1)/2, size)``."""
    half = (size - 1) * 0.5
    x = ember.linspace(-half, half, size, dtype=dtype)
    pdf = ember.exp(-0.5 * (x / sigma).pow(2))
    return pdf / pdf.sum()


def gaussian_kernel2d(kernel_size, sigma, dtype):
    """The outer product of the y and x kernels (rows: y), as an ember tensor."""
    kx = _kernel1d(kernel_size[0], sigma[0], dtype)
    ky = _kernel1d(kernel_size[1], sigma[1], dtype)
    return ember.mm(ky[:, None], kx[None, :])


def gaussian_blur(arr, kernel_size, sigma):
    """Blur the last two axes of ``arr`` ([..., C, H, W], at most one leading axis)."""
    if arr.ndim < 2:
        raise TypeError('Tensor is not a torch image.')
    if arr.ndim == 2:
        raise IndexError(f'gaussian_blur: a {arr.shape} image has no channel axis (as in torchvision, which indexes '
                         'shape[-3]); give it one with img[None]')
    floating = arr.dtype.kind == 'f'
    dtype = wrap(np.empty(0, arr.dtype)).dtype if floating else ember.float32
    kernel = gaussian_kernel2d(kernel_size, sigma, dtype)
    squeeze = arr.ndim < 4
    x = arr[None] if squeeze else arr
    c = x.shape[-3]
    px, py = kernel_size[0] // 2, kernel_size[1] // 2
    h, w = x.shape[-2:]
    if py >= h or px >= w:
        raise RuntimeError(f'gaussian_blur: reflect padding ({px}, {px}, {py}, {py}) must be smaller than the '
                           f'image ({h}, {w}); use a smaller kernel_size')
    widths = [(0, 0)] * (x.ndim - 2) + [(py, py), (px, px)]
    padded = np.pad(x.astype(dtype.np), widths, mode='reflect')
    weight = kernel.expand(c, 1, *kernel.shape)
    out = ember.nn.functional.conv2d(wrap(padded), weight, groups=c)._data
    if squeeze:
        out = out[0]
    if not floating:
        out = np.round(out).astype(arr.dtype)
    return out
