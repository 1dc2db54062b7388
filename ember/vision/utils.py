"""``make_grid`` and ``save_image``: tile a batch of images into one picture, as torchvision does; the drawing of
detections (``draw_bounding_boxes``, ``draw_segmentation_masks``, ``draw_keypoints``) lives in ``_draw``."""
import math

import numpy as np

import ember
from ._draw import draw_bounding_boxes, draw_keypoints, draw_segmentation_masks
from ._image import pil_module as _pil_module, wrap as _wrap

__all__ = ['make_grid', 'save_image', 'draw_bounding_boxes', 'draw_segmentation_masks',
           'draw_keypoints', 'flow_to_image']


def _as_batch(tensor):
    """The images as an N x C x H x W array; one-channel images become three equal channels."""
    if isinstance(tensor, list):
        if not all(isinstance(t, ember.Tensor) for t in tensor):
            raise TypeError(f'tensor or list of tensors expected, got a list containing '
                            f'{[type(t).__name__ for t in tensor]}')
        shapes = [tuple(t.shape) for t in tensor]
        for i, shape in enumerate(shapes[1:], 1):
            if shape != shapes[0]:
                raise RuntimeError(f'stack expects each tensor to be equal size, but got {list(shapes[0])} at entry 0 '
                                   f'and {list(shape)} at entry {i}')
        arr = np.stack([t._data for t in tensor])
    elif isinstance(tensor, ember.Tensor):
        arr = tensor._data
    else:
        raise TypeError(f'tensor or list of tensors expected, got {type(tensor)}')
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        arr = (np.concatenate([arr, arr, arr]) if arr.shape[0] == 1 else arr)[None]
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = np.concatenate([arr, arr, arr], 1)
    if arr.ndim != 4:   # torchvision fails indexing a 1-d tensor's dims, copying a 5-d tensor's images
        raise (IndexError if arr.ndim < 2 else RuntimeError)(
            f'make_grid: expected a 2-d, 3-d or 4-d tensor (or a list of 2-d/3-d tensors), got shape {list(tensor.shape)}')
    return arr


def _norm_range(img, value_range):
    """Clamp to ``value_range`` (default: the image's own min and max) and map it onto [0, 1], in place."""
    low, high = value_range if value_range is not None else (float(img.min()), float(img.max()))
    np.clip(img, low, high, out=img)
    img -= low
    img /= max(high - low, 1e-5)


def _normalized(arr, value_range, scale_each):
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError('value_range has to be a tuple (min, max) if specified. min and max are numbers')
    arr = arr.copy()
    for img in (arr if scale_each else [arr]):
        _norm_range(img, value_range)
    return arr


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tile a batch (B x C x H x W tensor or list of C x H x W tensors) into one C x H' x W' image.

    Images fill rows of ``nrow``, each surrounded by ``padding`` pixels of ``pad_value``."""
    arr = _as_batch(tensor)
    if normalize is True:
        arr = _normalized(arr, value_range, scale_each)
    if arr.shape[0] == 1:
        return _wrap(arr[0].copy())
    nmaps, channels = arr.shape[:2]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = arr.shape[2] + padding, arr.shape[3] + padding
    grid = np.full((channels, height * ymaps + padding, width * xmaps + padding), pad_value, dtype=arr.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = arr[k]
    return _wrap(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Save a tensor (or batch, tiled with ``make_grid(**kwargs)``) as an image file via Pillow."""
    grid = make_grid(tensor, **kwargs)._data
    if grid.dtype.kind != 'f':
        raise RuntimeError(f"result type Float can't be cast to the desired output type Byte: save_image expects a "
                           f'floating-point tensor with values in [0, 1], got {grid.dtype}')
    scaled = np.clip(grid * grid.dtype.type(255) + grid.dtype.type(0.5), 0, 255)
    ndarr = np.ascontiguousarray(scaled.transpose(1, 2, 0)).astype(np.uint8)
    if ndarr.shape[2] == 1:
        ndarr = ndarr[:, :, 0]
    _pil_module().fromarray(ndarr).save(fp, format=format)


def flow_to_image(flow):
    """An optical flow ``(2, H, W)`` or ``(N, 2, H, W)`` (float32) as a uint8 RGB image ``(3, H, W)`` /
    ``(N, 3, H, W)``: Baker et al.'s color wheel (ICCV 2007) gives the direction, the norm over the batch's
    largest fades it to white. In torchvision's float32 steps, each rounded as its tensor ops round them, so the
    floors land on its pixels; not where a value sits exactly on a pixel's edge (integer flows on the diagonals):
    PyTorch's vectorized float32 sqrt and atan2 are not correctly rounded (its sqrt differs from the correctly
    rounded one in 20% of uniform [0, 1) values, by an ulp), and an ulp there floors the other way."""
    if flow.dtype != ember.float32:
        raise ValueError(f'Flow should be of dtype torch.float, got {flow.dtype}.')
    shape = tuple(flow.shape)
    a = flow._data[None] if flow.ndim == 3 else flow._data
    if a.ndim != 4 or a.shape[1] != 2:
        raise ValueError(f'Input flow should have shape (2, H, W) or (N, 2, H, W), got {flow.shape}.')
    a = np.asarray(a, dtype=np.float32)
    max_norm = np.sqrt(np.square(a[:, 0]) + np.square(a[:, 1])).max()
    a = a / (max_norm + np.finfo(np.float32).eps)
    img = _normalized_flow_to_image(a)
    return ember.from_numpy(img[0] if len(shape) == 3 else img)


def _normalized_flow_to_image(flow):
    """The uint8 image (N, 3, H, W) of a float32 flow (N, 2, H, W) whose norms are at most 1."""
    f32 = np.float32
    wheel = _colorwheel()
    n = wheel.shape[0]
    norm = np.sqrt(np.square(flow[:, 0]) + np.square(flow[:, 1]))
    # the angle in float64, rounded once: nearer PyTorch's vectorized float32 atan2 than NumPy's float32 loop (on
    # 5120 random flows it differs from PyTorch's in 114 values against 1934: a floor then meets a pixel's edge rarer)
    angle = np.arctan2(-flow[:, 1], -flow[:, 0], dtype=np.float64).astype(np.float32) / f32(math.pi)
    fk = (angle + f32(1)) / f32(2) * f32(n - 1)
    k0 = np.floor(fk).astype(np.int64)
    k1 = k0 + 1
    k1[k1 == n] = 0
    f = fk - k0.astype(np.float32)
    img = np.zeros((flow.shape[0], 3) + flow.shape[2:], np.uint8)
    for c in range(3):
        col0, col1 = wheel[k0, c] / f32(255), wheel[k1, c] / f32(255)
        col = (f32(1) - f) * col0 + f * col1
        col = f32(1) - norm * (f32(1) - col)
        img[:, c] = np.floor(f32(255) * col)
    return img


def _colorwheel():
    """Baker et al.'s 55 colors (float32 (55, 3)): red-yellow 15, yellow-green 6, green-cyan 4, cyan-blue 11,
    blue-magenta 13, magenta-red 6 steps, each ramp ``floor(255 * i / steps)``."""
    wheel = np.zeros((55, 3), np.float32)
    col = 0
    # (steps, channel held at 255, channel ramped, ramp rising): each segment ramps one channel up or down while
    # another stays at 255
    for steps, held, ramped, rising in ((15, 0, 1, True), (6, 1, 0, False), (4, 1, 2, True), (11, 2, 1, False),
                                        (13, 2, 0, True), (6, 0, 2, False)):
        ramp = np.floor(np.float32(255) * np.arange(steps, dtype=np.float32) / np.float32(steps))
        wheel[col:col + steps, held] = 255
        wheel[col:col + steps, ramped] = ramp if rising else 255 - ramp
        col += steps
    return wheel

