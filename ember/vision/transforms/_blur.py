"""Gaussian blur of tensor images as torchvision computes it: a float kernel (the image's float type, else
float32) over reflect padding by a depthwise convolution, integer images rounded back."""
import numpy as np

import ember
from ... import _exact
from ...ops import _fused
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


# float32 blurs up to this many multiply-adds (padded elements x taps) go through _taps by default, beyond only with
# exact kernels. Min of 7, one thread, conv2d -> _taps: (1, 1, 84, 87) 41x41 1.79 -> 13.4 ms, (1, 3, 232, 232) 9x9
# 5.49 -> 3.50 ms, (1, 3, 40, 40) 5x5 0.18 -> 0.22 ms
_TAPS_DEFAULT = 1 << 24
# ... and only where a tap's pass is long enough to pay for itself (at most 25 taps, or images of _TAPS_WIDE padded
# elements): conv2d -> _taps, min of 7: (3, 64, 64) 11x11 1.18 -> 1.42 ms, 15x15 1.97 -> 2.50, (1, 84, 87) 21x21
# 1.12 -> 4.26 (left on conv2d); (3, 128, 128) 15x15 5.17 -> 5.09, (3, 224, 224) 9x9 6.03 -> 3.74, (3, 32, 32) 3x3
# 0.29 -> 0.25 (taken)
_TAPS_WIDE = 1 << 15


def _taps_pay(padded, kernel):
    """Whether a float32 blur is summed tap by tap by default (see _TAPS_DEFAULT and _TAPS_WIDE)."""
    return padded.size * kernel.numel() <= _TAPS_DEFAULT and (kernel.numel() <= 25 or padded.size >= _TAPS_WIDE)


def _uses_mkldnn(padded, kernel, groups):
    """Whether PyTorch's CPU float32 conv2d goes to oneDNN (else its im2col + GEMM path): its own heuristic on the
    groups, the kernel (both sides over 3), the batch and the input's size (over 20480 elements)."""
    kh, kw = kernel.shape
    return groups > 1 or (kh > 3 and kw > 3) or padded.shape[0] > 1 or padded.size > 20480


def _taps(padded, kernel, groups):
    """The depthwise convolution as PyTorch's CPU kernel sums it: the kernel's taps in row-major order, each added
    with one rounding (fused multiply-add) on oneDNN's path, product then sum on the GEMM path. Matched
    torchvision's float32 blur bit for bit on 20 geometries (1-4 channels, 9x9 to 224x224, kernels 1x1 to 41x41)."""
    h, w = padded.shape[-2] - kernel.shape[0] + 1, padded.shape[-1] - kernel.shape[1] + 1
    fused = _uses_mkldnn(padded, kernel, groups)
    acc = np.zeros(padded.shape[:-2] + (h, w), np.float32)
    for i, j in np.ndindex(kernel.shape):
        window = np.ascontiguousarray(padded[..., i:i + h, j:j + w])
        if fused:
            _fused.fma_(acc, kernel[i, j], window, acc)
        else:
            acc += window * kernel[i, j]
    return acc


def gaussian_blur(arr, kernel_size, sigma, *, taps=False):
    """Blur the last two axes of ``arr`` ([..., C, H, W], at most one leading axis). ``taps``: a float32 blur in
    PyTorch's order at any cost (ElasticTransform's 8 sigma + 1 kernels, whose field must be torchvision's bits)."""
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
    if padded.dtype == np.float32 and (taps or _exact.enabled() or _taps_pay(padded, kernel)):
        out = _taps(padded, kernel._data, c)
    else:
        out = ember.nn.functional.conv2d(wrap(padded), kernel.expand(c, 1, *kernel.shape), groups=c)._data
    if squeeze:
        out = out[0]
    if not floating:
        out = np.round(out).astype(arr.dtype)
    return out
