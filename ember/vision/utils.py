"""``make_grid`` and ``save_image``: tile a batch of images into one picture, as torchvision does; the drawing of
detections (``draw_bounding_boxes``, ``draw_segmentation_masks``, ``draw_keypoints``) lives in ``_draw``."""
import math

import numpy as np

import ember
from ._draw import draw_bounding_boxes, draw_keypoints, draw_segmentation_masks
from ._image import pil_module as _pil_module, wrap as _wrap

__all__ = ['make_grid', 'save_image', 'draw_bounding_boxes', 'draw_segmentation_masks',
           'draw_keypoints']


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
