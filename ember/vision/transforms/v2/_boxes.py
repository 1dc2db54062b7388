"""transforms.v2 on ``tv_tensors``: the bounding-box kernels (format conversion, clamping, flips, resize, crop)
and mask kernels, the dispatchers the geometric transforms call, and the box transforms
(``ConvertBoundingBoxFormat``, ``ClampBoundingBoxes``, ``SanitizeBoundingBoxes``). Axis-aligned boxes only: a
rotated format is refused plainly."""
import collections.abc

import ember
from ember.aliasing import unsupported
from ember.tensor import Tensor

from ... import tv_tensors
from ...tv_tensors import BoundingBoxes, BoundingBoxFormat, Mask, is_rotated_bounding_format
from .. import functional as F
from ..functional import InterpolationMode
from ._transform import Transform
from ....utils._pytree import tree_flatten, tree_unflatten

__all__ = ['convert_bounding_box_format', 'clamp_bounding_boxes', 'ConvertBoundingBoxFormat', 'ClampBoundingBoxes',
           'SanitizeBoundingBoxes']


def _pure(t):
    """``t`` as a plain tensor (``as_subclass(torch.Tensor)``)."""
    return t.as_subclass(Tensor) if type(t) is not Tensor else t


def _is_pure(t):
    return type(t) is Tensor


def _format(f):
    return BoundingBoxFormat[f.upper()] if isinstance(f, str) else f


def _axis_aligned(format):
    if is_rotated_bounding_format(format):
        raise NotImplementedError(unsupported('transforms.v2 on rotated bounding boxes', f'format {format}'))


# --- formats -------------------------------------------------------------------------------------------------------

def _xywh_to_xyxy(b):
    b[..., 2:] += b[..., :2]
    return b


def _xyxy_to_xywh(b):
    b[..., 2:] -= b[..., :2]
    return b


def _xywh_to_cxcywh(b):
    b[..., :2].add_(b[..., 2:].div(2, rounding_mode=None if b.is_floating_point() else 'floor'))
    return b


def _cxcywh_to_xyxy_float(b):
    """cx, cy, w, h to corners (in float: integer boxes are computed in float32 and truncated back)."""
    half = b[..., 2:] / 2
    b[..., :2].sub_(half)
    b[..., 2:].add_(b[..., :2])
    return b


def _xyxy_to_cxcywh(b):
    b[..., 2:].sub_(b[..., :2])
    b[..., :2].mul_(2).add_(b[..., 2:]).div_(2, rounding_mode=None if b.is_floating_point() else 'floor')
    return b


def _convert_format(boxes, old_format, new_format):
    """Plain ``boxes`` converted between the axis-aligned formats (a new tensor, torchvision's arithmetic)."""
    if new_format == old_format:
        return boxes
    if is_rotated_bounding_format(old_format) ^ is_rotated_bounding_format(new_format):
        raise ValueError('Cannot convert between rotated and unrotated bounding boxes.')
    _axis_aligned(old_format)
    dtype = boxes.dtype
    if old_format == BoundingBoxFormat.XYWH and new_format == BoundingBoxFormat.CXCYWH:
        return _xywh_to_cxcywh(boxes.clone())
    if old_format == BoundingBoxFormat.CXCYWH and not boxes.is_floating_point():
        xyxy = _cxcywh_to_xyxy_float(boxes.float()).to(dtype)
        return xyxy if new_format == BoundingBoxFormat.XYXY else _convert_format(xyxy, BoundingBoxFormat.XYXY,
                                                                                 new_format)
    b = boxes.clone()
    if old_format == BoundingBoxFormat.XYWH:
        b = _xywh_to_xyxy(b)
    elif old_format == BoundingBoxFormat.CXCYWH:
        b = _cxcywh_to_xyxy_float(b)
    if new_format == BoundingBoxFormat.XYWH:
        b = _xyxy_to_xywh(b)
    elif new_format == BoundingBoxFormat.CXCYWH:
        b = _xyxy_to_cxcywh(b)
    return b


def convert_bounding_box_format(inpt, old_format=None, new_format=None, inplace=False):
    """Boxes converted to ``new_format`` (a plain tensor needs ``old_format``; BoundingBoxes carry theirs)."""
    if new_format is None:
        raise TypeError("convert_bounding_box_format() missing 1 required argument: 'new_format'")
    old_format, new_format = _format(old_format), _format(new_format)
    if _is_pure(inpt):
        if old_format is None:
            raise ValueError('For pure tensor inputs, `old_format` has to be passed.')
        return _convert_format(inpt, old_format, new_format)
    if isinstance(inpt, BoundingBoxes):
        if old_format is not None:
            raise ValueError('For bounding box tv_tensor inputs, `old_format` must not be passed.')
        return tv_tensors.wrap(_convert_format(_pure(inpt), inpt.format, new_format), like=inpt, format=new_format)
    raise TypeError(f'Input can either be a plain tensor or a bounding box tv_tensor, but got {type(inpt)} instead.')


def _clamp(boxes, format, canvas_size, clamping_mode):
    """Plain boxes with x in [0, width] and y in [0, height] (through xyxy in float; hard and soft agree for
    axis-aligned boxes); a copy when ``clamping_mode`` is None."""
    if clamping_mode is None:
        return boxes.clone()
    _axis_aligned(format)
    dtype = boxes.dtype
    b = boxes.clone() if boxes.is_floating_point() else boxes.float()
    xyxy = _convert_format(b, format, BoundingBoxFormat.XYXY)
    xyxy[..., 0::2].clamp_(min=0, max=canvas_size[1])
    xyxy[..., 1::2].clamp_(min=0, max=canvas_size[0])
    return _convert_format(xyxy, BoundingBoxFormat.XYXY, format).to(dtype)


def clamp_bounding_boxes(inpt, format=None, canvas_size=None, clamping_mode='auto'):
    """Boxes clamped to their canvas (``'auto'``: the boxes' own clamping mode)."""
    if clamping_mode is not None and clamping_mode not in ('soft', 'hard', 'auto'):
        raise ValueError(f'clamping_mode must be soft, hard, auto or None, got {clamping_mode}')
    if _is_pure(inpt):
        if format is None or canvas_size is None or clamping_mode == 'auto':
            raise ValueError('For pure tensor inputs, `format`, `canvas_size` and `clamping_mode` have to be passed.')
        return _clamp(inpt, _format(format), canvas_size, clamping_mode)
    if isinstance(inpt, BoundingBoxes):
        if format is not None or canvas_size is not None:
            raise ValueError('For bounding box tv_tensor inputs, `format` and `canvas_size` must not be passed.')
        if clamping_mode == 'auto':
            clamping_mode = inpt.clamping_mode
        return tv_tensors.wrap(_clamp(_pure(inpt), inpt.format, inpt.canvas_size, clamping_mode), like=inpt)
    raise TypeError(f'Input can either be a plain tensor or a bounding box tv_tensor, but got {type(inpt)} instead.')


# --- geometry on boxes and masks -----------------------------------------------------------------------------------

def _flip_boxes(boxes, format, extent, axis):
    """Boxes mirrored across ``extent`` along ``axis`` (0: x, 1: y)."""
    _axis_aligned(format)
    shape = boxes.shape
    b = _pure(boxes).clone().reshape(-1, 4)
    lo, hi = axis, axis + 2
    if format == BoundingBoxFormat.XYXY:
        b[:, [hi, lo]] = b[:, [lo, hi]].sub_(extent).neg_()
    elif format == BoundingBoxFormat.XYWH:
        b[:, lo].add_(b[:, hi]).sub_(extent).neg_()
    else:
        b[:, lo].sub_(extent).neg_()
    return b.reshape(shape)


def _rewrap(out, like):
    """A kernel's plain result in the tv_tensor type of its input (images and masks keep their type)."""
    if isinstance(like, tv_tensors.TVTensor) and type(out) is Tensor:
        return tv_tensors.wrap(out, like=like)
    return out


def horizontal_flip(inpt):
    """Left-right flip of an image, mask or boxes."""
    if isinstance(inpt, BoundingBoxes):
        return tv_tensors.wrap(_flip_boxes(inpt, inpt.format, inpt.canvas_size[1], 0), like=inpt)
    return _rewrap(F.hflip(inpt), inpt)


def vertical_flip(inpt):
    """Upside-down flip of an image, mask or boxes."""
    if isinstance(inpt, BoundingBoxes):
        return tv_tensors.wrap(_flip_boxes(inpt, inpt.format, inpt.canvas_size[0], 1), like=inpt)
    return _rewrap(F.vflip(inpt), inpt)


def _resize_boxes(boxes, size, max_size):
    """Boxes scaled with their canvas to the resize's output size."""
    _axis_aligned(boxes.format)
    old_h, old_w = boxes.canvas_size
    new_h, new_w = F._resized_output_size(old_h, old_w, list(size) if size is not None else None, max_size)
    if (new_h, new_w) == (old_h, old_w):
        return boxes
    b = _pure(boxes)
    ratios = ember.tensor([new_w / old_w, new_h / old_h, new_w / old_w, new_h / old_h])
    return tv_tensors.wrap(b.mul(ratios).to(b.dtype), like=boxes, canvas_size=(new_h, new_w))


def _resize_mask(mask, size, max_size, image_resize):
    """A mask resized with nearest interpolation (nearest-exact kept), a 2-D mask through a channel axis."""
    interpolation = InterpolationMode.NEAREST
    squeeze = mask.ndim < 3
    m = _pure(mask).unsqueeze(0) if squeeze else _pure(mask)
    out = image_resize(m, size, interpolation, max_size)
    return out.squeeze(0) if squeeze else out


def resize_any(inpt, size, interpolation, max_size, antialias, image_resize):
    """v2 resize of an image (``image_resize``), mask (nearest) or boxes."""
    if isinstance(inpt, BoundingBoxes):
        return _resize_boxes(inpt, size, max_size)
    if isinstance(inpt, Mask):
        keep = interpolation if interpolation in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT) else None
        out = _resize_mask(inpt, size, max_size, lambda m, s, i, ms: image_resize(m, s, keep or i, ms, antialias))
        return _rewrap(out, inpt)
    return _rewrap(image_resize(inpt, size, interpolation, max_size, antialias), inpt)


def _crop_boxes(boxes, top, left, height, width):
    """Boxes moved into the crop's frame and clamped to it (a negative top/left is padding)."""
    _axis_aligned(boxes.format)
    b = _pure(boxes)
    sub = [left, top, left, top] if boxes.format == BoundingBoxFormat.XYXY else [left, top, 0, 0]
    b = b - ember.tensor(sub, dtype=b.dtype)
    canvas = (height, width)
    return tv_tensors.wrap(_clamp(b, boxes.format, canvas, boxes.clamping_mode), like=boxes, canvas_size=canvas)


def crop(inpt, top, left, height, width):
    """Crop of an image, mask (through a channel axis when 2-D) or boxes."""
    if isinstance(inpt, BoundingBoxes):
        return _crop_boxes(inpt, top, left, height, width)
    if isinstance(inpt, Mask) and inpt.ndim < 3:
        return _rewrap(F.crop(_pure(inpt).unsqueeze(0), top, left, height, width).squeeze(0), inpt)
    return _rewrap(F.crop(inpt, top, left, height, width), inpt)


def center_crop_boxes(boxes, output_size):
    """Boxes in the frame of the central ``output_size`` crop of their canvas."""
    ch, cw = output_size
    h, w = boxes.canvas_size
    return _crop_boxes(boxes, int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0)), ch, cw)


# --- transforms ----------------------------------------------------------------------------------------------------

class ConvertBoundingBoxFormat(Transform):
    """BoundingBoxes converted to ``format``."""
    _transformed_types = (BoundingBoxes,)
    _box_mask = 'handle'

    def __init__(self, format):
        super().__init__()
        self.format = format

    def transform(self, inpt, params):
        return convert_bounding_box_format(inpt, new_format=self.format)


class ClampBoundingBoxes(Transform):
    """BoundingBoxes clamped to their canvas."""
    _transformed_types = (BoundingBoxes,)
    _box_mask = 'handle'

    def __init__(self, clamping_mode='auto'):
        super().__init__()
        self.clamping_mode = clamping_mode

    def transform(self, inpt, params):
        return clamp_bounding_boxes(inpt, clamping_mode=self.clamping_mode)


def _find_labels_default_heuristic(inputs):
    """The labels of a sample: the second item of a pair when a plain tensor, else the 'labels' (or first
    '*label*') entry of the dict there (or of the sample itself)."""
    if isinstance(inputs, (tuple, list)):
        inputs = inputs[1]
    if _is_pure(inputs):
        return inputs
    if not isinstance(inputs, collections.abc.Mapping):
        raise ValueError(f'When using the default labels_getter, the input passed to forward must be a dictionary or '
                         f'a two-tuple whose second item is a dictionary or a tensor, but got {inputs} instead.')
    key = next((k for k in inputs.keys() if k.lower() == 'labels'), None)
    if key is None:
        key = next((k for k in inputs.keys() if 'label' in k.lower()), None)
    if key is None:
        raise ValueError('Could not infer where the labels are in the sample. Try passing a callable as the '
                         'labels_getter parameter?If there are no labels in the sample by design, pass '
                         'labels_getter=None.')
    return inputs[key]


def _parse_labels_getter(labels_getter):
    if labels_getter == 'default':
        return _find_labels_default_heuristic
    if callable(labels_getter):
        return labels_getter
    if labels_getter is None:
        return lambda _: None
    raise ValueError(f"labels_getter should either be 'default', a callable, or None, but got {labels_getter}.")


def _valid_boxes(boxes, min_size, min_area):
    """Boxes at least ``min_size`` wide and high, of area at least ``min_area``, inside their canvas."""
    _axis_aligned(boxes.format)
    b = _convert_format(_pure(boxes), boxes.format, BoundingBoxFormat.XYXY)
    h, w = boxes.canvas_size
    ws, hs = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    valid = (ws >= min_size) & (hs >= min_size) & (b >= 0).all(dim=-1) & (ws * hs >= min_area)
    valid &= (b[:, 0] <= w) & (b[:, 2] <= w)
    valid &= (b[:, 1] <= h) & (b[:, 3] <= h)
    return valid


class SanitizeBoundingBoxes(Transform):
    """Drop degenerate boxes (smaller than ``min_size`` / ``min_area`` or outside the canvas) with their masks
    and labels."""

    def __init__(self, min_size=1.0, min_area=1.0, labels_getter='default'):
        super().__init__()
        if min_size < 1:
            raise ValueError(f'min_size must be >= 1, got {min_size}.')
        self.min_size = min_size
        if min_area < 1:
            raise ValueError(f'min_area must be >= 1, got {min_area}.')
        self.min_area = min_area
        self.labels_getter = labels_getter
        self._labels_getter = _parse_labels_getter(labels_getter)

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        labels = self._labels_getter(inputs)
        if labels is not None:
            msg = 'The labels in the input to forward() must be a tensor or None, got {type} instead.'
            if isinstance(labels, Tensor):
                labels = (labels,)
            elif isinstance(labels, (tuple, list)):
                for entry in labels:
                    if not isinstance(entry, Tensor):
                        raise ValueError(msg.format(type=type(entry)))
            else:
                raise ValueError(msg.format(type=type(labels)))
        flat, spec = tree_flatten(inputs)
        boxes = next((x for x in flat if isinstance(x, BoundingBoxes)), None)
        if boxes is None:
            raise ValueError('No bounding boxes were found in the sample')
        for label in labels or ():
            if boxes.shape[0] != label.shape[0]:
                raise ValueError(f'Number of boxes (shape={boxes.shape}) and must match the number of labels.Found '
                                 f'labels with shape={label.shape}).')
        params = dict(valid=_valid_boxes(boxes, self.min_size, self.min_area), labels=labels)
        return tree_unflatten([self.transform(x, params) for x in flat], spec)

    def transform(self, inpt, params):
        is_label = params['labels'] is not None and any(inpt is label for label in params['labels'])
        if not (is_label or isinstance(inpt, (BoundingBoxes, Mask))):
            return inpt
        try:
            out = inpt[params['valid']]
        except IndexError:
            return inpt
        return out if is_label else tv_tensors.wrap(out, like=inpt)
