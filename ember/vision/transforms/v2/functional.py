"""``torchvision.transforms.v2.functional``: v1's kernels under their v1 and v2 names, plus the v2 conversions
and the bounding-box kernels."""
import warnings

from .. import functional as _F1
from ..functional import *  # noqa: F401,F403  (v2 keeps every v1 kernel under its v1 name)
from ..functional import __all__ as _V1
from ._color import autocontrast, adjust_brightness, adjust_contrast, adjust_saturation, adjust_sharpness, rgb_to_grayscale
from ._boxes import (clamp_bounding_boxes, convert_bounding_box_format, crop, horizontal_flip,  # noqa: F811
                     vertical_flip)
from ._transforms import equalize, posterize, resize, resized_crop, solarize, to_dtype, to_image  # noqa: F811
from ..._image import is_pil

__all__ = list(_V1) + ['horizontal_flip', 'vertical_flip', 'to_dtype', 'to_image', 'clamp_bounding_boxes',
                       'convert_bounding_box_format', 'get_size']
# v2's resize, resized_crop, posterize, solarize and equalize replace v1's under the same names; its crop,
# horizontal_flip and vertical_flip also take BoundingBoxes and Masks


def get_size(inpt):
    """``[height, width]``: a bounding box set's canvas size, an image's, video's or mask's last two dims, a PIL
    image's size."""
    from ...tv_tensors import BoundingBoxes
    if isinstance(inpt, BoundingBoxes):
        return list(inpt.canvas_size)
    if is_pil(inpt):
        return [inpt.size[1], inpt.size[0]]
    return list(inpt.shape[-2:])


def to_tensor(inpt):
    """v1's ``to_tensor``, deprecated in v2 with torchvision's UserWarning (shown once, from this line)."""
    warnings.warn('The function `to_tensor(...)` is deprecated and will be removed in a future release. Instead, '
                  'please use `to_image(...)` followed by `to_dtype(..., dtype=torch.float32, scale=True)`.')
    return _F1.to_tensor(inpt)


def get_image_size(inpt):
    """v1's ``get_image_size`` (``[width, height]``), deprecated in v2 with torchvision's UserWarning."""
    warnings.warn('The function `get_image_size(...)` is deprecated and will be removed in a future release. '
                  'Instead, please use `get_size(...)` which returns `[h, w]` instead of `[w, h]`.')
    return _F1.get_image_size(inpt)
