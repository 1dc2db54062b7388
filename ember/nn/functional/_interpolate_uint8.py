"""uint8 bilinear/bicubic resampling as PyTorch's CPU kernel computes it (UpSampleKernel.cpp): weights in
float64 (PIL's bounds, widened by the downscale when antialiased), rounded to int16 at the finest precision the
largest weight allows, then each axis in turn (width first, then height) as an integer dot product rounded
half up, shifted back and clamped to 0..255. Computing in float and rounding once (ember's float path) is
off by one on some pixels."""
import math

import numpy as np


def _triangle(x):
    x = np.abs(x)
    return np.where(x < 1.0, 1.0 - x, 0.0)


def _cubic(a):
    def f(x):
        x = np.abs(x)
        near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
        far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
        return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))
    return f


def _scale(n_in, n_out, align_corners, scale_factor):
    """area_pixel_compute_scale in float64."""
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    if scale_factor is not None and scale_factor > 0:
        return 1.0 / scale_factor
    return n_in / n_out


def _weights_aa(n_in, n_out, scale, interp_size, filt):
    """(xmin, weights[n_out, taps]) with antialias: the filter's support widened by the downscale."""
    support = interp_size * 0.5 * scale if scale >= 1.0 else interp_size * 0.5
    taps = int(math.ceil(support)) * 2 + 1
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    center = scale * (np.arange(n_out) + 0.5)
    xmin = np.maximum((center - support + 0.5).astype(np.int64), 0)
    xsize = np.clip(np.minimum((center + support + 0.5).astype(np.int64), n_in) - xmin, 0, taps)
    j = np.arange(taps)
    w = filt((j[None, :] + xmin[:, None] - center[:, None] + 0.5) * invscale)
    w = np.where(j[None, :] < xsize[:, None], w, 0.0)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total != 0.0, w / np.where(total != 0.0, total, 1.0), 0.0)
    return xmin, w


def _weights(n_in, n_out, scale, interp_size, filt, align_corners):
    """(xmin, weights[n_out, interp_size]) without antialias: the usual 2 or 4 taps, those falling outside the
    image added onto the edge taps."""
    cubic = interp_size > 2
    i = np.arange(n_out, dtype=np.float64)
    real = scale * i if align_corners else scale * (i + 0.5) - 0.5
    if not align_corners and not cubic:
        real = np.maximum(real, 0.0)
    index = np.minimum(np.floor(real).astype(np.int64), n_in - 1)
    lam = np.clip(real - index, 0.0, 1.0)
    support = int(interp_size * 0.5)
    lo = index - support + 1
    xmin = np.maximum(lo, 0)
    xsize = np.clip(np.minimum(index + support + 1, n_in) - xmin, 0, interp_size)
    w = np.zeros((n_out, interp_size))
    for o in range(n_out):
        k = 0
        for j in range(interp_size):
            if lo[o] + j <= 0:
                k = 0
            elif lo[o] + j >= n_in - 1:
                k = xsize[o] - 1
            w[o, k] += float(filt(np.float64(j + 1 - support) - lam[o]))
            k += 1
    return xmin, w


def _int16(w):
    """The weights as int16 values and their precision (bits after the point)."""
    w_max = w.max() if w.size else 0.0
    prec = 0
    while prec < 22 and int(0.5 + w_max * (1 << (prec + 1))) < (1 << 15):
        prec += 1
    v = w * (1 << prec)
    return np.where(v < 0, np.trunc(-0.5 + v), np.trunc(0.5 + v)).astype(np.int64), prec


def _pass(a, axis, n_out, scale, mode, align_corners, antialias):
    """One axis of ``a`` (uint8) resampled to ``n_out`` in integer arithmetic."""
    n_in = a.shape[axis]
    interp = 2 if mode == 'bilinear' else 4
    filt = _triangle if mode == 'bilinear' else _cubic(-0.5 if antialias else -0.75)
    if antialias:
        xmin, w = _weights_aa(n_in, n_out, scale, interp, filt)
    else:
        xmin, w = _weights(n_in, n_out, scale, interp, filt, align_corners)
    wi, prec = _int16(w)
    moved = np.moveaxis(a, axis, -1).astype(np.int64)
    acc = np.full(moved.shape[:-1] + (n_out,), 1 << (prec - 1) if prec else 0, np.int64)
    for k in range(w.shape[1]):
        idx = np.minimum(xmin + k, n_in - 1)
        acc += moved[..., idx] * wi[:, k]
    return np.moveaxis(np.clip(acc >> prec, 0, 255).astype(np.uint8), -1, axis)


def resample_uint8(a, sizes, mode, align_corners, scales, antialias):
    """A (N, C, H, W) uint8 array resized to ``sizes`` (bilinear or bicubic) as PyTorch's CPU kernel does."""
    out = a
    for axis, n_out, sf in ((3, sizes[1], scales[1]), (2, sizes[0], scales[0])):
        n_in = a.shape[axis]
        if n_out != n_in:   # PyTorch's separable uint8 kernel copies an unchanged dim whatever the scale_factor
            out = _pass(out, axis, n_out, _scale(n_in, n_out, align_corners, sf), mode, align_corners, antialias)
    return out
