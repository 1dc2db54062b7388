"""Affine warps of tensor images as torchvision computes them: an output grid from the inverse affine matrix,
then PyTorch's ``grid_sample`` rules (align_corners=False, zero padding, nearest or bilinear), with the
fill colour blended in through a sampled mask."""
import math

import numpy as np

import ember
from .._image import wrap

__all__ = ['inverse_affine_matrix', 'affine_output_size', 'warp']


def inverse_affine_matrix(center, angle, translate, scale, shear, inverted=True):
    """The 2x3 matrix (as 6 floats) of rotation ``angle``, ``translate``, ``scale`` and ``shear`` (degrees)
    about ``center``; by default the inverse, mapping output pixels to input pixels."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:
        m = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
        m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
        m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
        m[2] += cx
        m[5] += cy
    else:
        m = [x * scale for x in (a, b, 0.0, c, d, 0.0)]
        m[2] += m[0] * (-cx) + m[1] * (-cy)
        m[5] += m[3] * (-cx) + m[4] * (-cy)
        m[2] += cx + tx
        m[5] += cy + ty
    return m


def affine_output_size(matrix, w, h):
    """(width, height) that holds the whole image warped by ``matrix`` (``rotate(expand=True)``)."""
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, -0.5 * h, 1.0]], np.float32)
    new = ember.matmul(wrap(pts), wrap(np.array(matrix, np.float32).reshape(2, 3).T.copy()))._data
    half = np.array([w * 0.5, h * 0.5], np.float32)
    lo, hi = new.min(axis=0) + half, new.max(axis=0) + half
    tol = np.float32(1e-4)     # rounding errors must not add a pixel
    size = np.ceil(np.trunc(hi / tol) * tol) - np.floor(np.trunc(lo / tol) * tol)
    return int(size[0]), int(size[1])


def _grid(theta, w, h, ow, oh):
    """The (oh, ow, 2) sampling grid of ``theta`` in [-1, 1] coordinates (torchvision's _gen_affine_grid)."""
    dtype = theta.dtype
    base = np.empty((oh, ow, 3), dtype)
    base[..., 0] = ember.linspace(-ow * 0.5 + 0.5, ow * 0.5 + 0.5 - 1, steps=ow)._data
    base[..., 1] = ember.linspace(-oh * 0.5 + 0.5, oh * 0.5 + 0.5 - 1, steps=oh)._data[:, None]
    base[..., 2] = 1
    rescaled = theta.T / np.array([0.5 * w, 0.5 * h], dtype)
    return ember.matmul(wrap(base.reshape(oh * ow, 3)), wrap(np.ascontiguousarray(rescaled)))._data.reshape(oh, ow, 2)


def _sample(img, grid, mode):
    """``grid_sample(img, grid, mode, padding_mode='zeros', align_corners=False)`` for a (N, C, H, W) image
    and one (oh, ow, 2) grid, with PyTorch's CPU formulas (unnormalise as (g + 1) * size / 2 - 0.5)."""
    n, c, h, w = img.shape
    dt = img.dtype.type
    x = (grid[..., 0] + dt(1)) * dt(w / 2) - dt(0.5)
    y = (grid[..., 1] + dt(1)) * dt(h / 2) - dt(0.5)

    def tap(ix, iy):
        ok = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
        vals = img[:, :, np.clip(iy, 0, h - 1), np.clip(ix, 0, w - 1)]
        return np.where(ok, vals, dt(0))

    if mode == 'nearest':
        return tap(np.rint(x).astype(np.int64), np.rint(y).astype(np.int64))
    x0, y0 = np.floor(x), np.floor(y)
    wx, ny = x - x0, y - y0
    e, s = dt(1) - wx, dt(1) - ny
    ix, iy = x0.astype(np.int64), y0.astype(np.int64)
    return (tap(ix, iy) * (s * e) + tap(ix + 1, iy) * (s * wx) + tap(ix, iy + 1) * (ny * e)
            + tap(ix + 1, iy + 1) * (ny * wx))


def warp(arr, matrix, mode, fill, out_size=None):
    """``arr`` (..., C, H, W) resampled through the inverse affine ``matrix`` onto an (oh, ow) grid; pixels
    from outside become ``fill`` (None: zero) as torchvision blends them."""
    if mode not in ('nearest', 'bilinear'):
        raise ValueError(f"Interpolation mode '{mode}' is unsupported with Tensor input")
    c, h, w = arr.shape[-3], arr.shape[-2], arr.shape[-1]
    if fill is not None and isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != c:
        raise ValueError("The number of elements in 'fill' cannot broadcast to match the number of channels of the "
                         f'image ({len(fill)} != {c})')
    ow, oh = out_size or (w, h)
    work = arr.dtype if arr.dtype.kind == 'f' else np.dtype(np.float32)
    grid = _grid(np.array(matrix, work).reshape(2, 3), w, h, ow, oh)
    img = arr.reshape((-1, c, h, w)).astype(work)
    if fill is not None:
        img = np.concatenate([img, np.ones((img.shape[0], 1, h, w), work)], axis=1)
    out = _sample(img, grid, mode)
    if fill is not None:
        mask, out = out[:, -1:], out[:, :-1]
        fills = np.array(fill if isinstance(fill, (tuple, list)) else [float(fill)], work).reshape(1, -1, 1, 1)
        fills = np.broadcast_to(fills, out.shape)
        if mode == 'nearest':
            out = np.where(mask < 0.5, fills, out)
        else:
            out = out * mask + (work.type(1.0) - mask) * fills
    if arr.dtype.kind != 'f':
        out = np.round(out).astype(arr.dtype)
    return out.reshape(arr.shape[:-2] + (oh, ow))
