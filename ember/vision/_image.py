"""Small bridges between ember tensors, NumPy arrays and PIL images (Pillow stays optional)."""
import sys

import numpy as np

import ember

__all__ = ['pil_module', 'is_pil', 'is_tensor', 'wrap']


def pil_module():
    """``PIL.Image``, imported on first use with a clear message when Pillow is missing."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError('ember.vision needs Pillow for images: pip install pillow') from e
    return Image


def is_pil(img):
    """True for a PIL image; never imports Pillow (an image cannot exist before it is imported)."""
    image = sys.modules.get('PIL.Image')
    return image is not None and isinstance(img, image.Image)


def is_tensor(x):
    return isinstance(x, ember.Tensor)


def wrap(arr):
    """An ember tensor over ``arr`` (no copy)."""
    return ember.Tensor._make(np.asarray(arr))
