"""``draw_bounding_boxes``, ``draw_segmentation_masks`` and ``draw_keypoints``: detections drawn onto an image tensor,
as torchvision's ``utils`` draws them (boxes, labels and keypoints through Pillow's ImageDraw, masks blended with
tensor arithmetic)."""
import math
import warnings

import numpy as np

import ember


def _generate_color_palette(num_objects):
    """torchvision's default colours: ``(i * [2**25 - 1, 2**15 - 1, 2**21 - 1]) % 255``, kept as 0-d int64 tensors
    (so that their scaling to [0, 1] for a float image divides in float32, as torchvision's does)."""
    palette = ember.tensor([2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1])
    return [tuple((i * palette) % 255) for i in range(num_objects)]


def _parse_colors(colors, *, num_objects, dtype=ember.uint8):
    """A list of ``num_objects`` RGB triples from None (the palette), one colour, or a list of colours (names such
    as 'red' or '#FF00FF' through Pillow's ImageColor, or triples); scaled to [0, 1] for a float ``dtype``."""
    if colors is None:
        colors = _generate_color_palette(num_objects)
    elif isinstance(colors, list):
        if len(colors) < num_objects:
            raise ValueError('Number of colors must be equal or larger than the number of objects, but got '
                             f'{len(colors)} < {num_objects}.')
    elif not isinstance(colors, (tuple, str)):
        raise ValueError(f'colors must be a tuple or a string, or a list thereof, but got {colors}.')
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(f'If passed as tuple, colors should be an RGB triplet, but got {colors}.')
    else:
        colors = [colors] * num_objects
    if any(isinstance(c, str) for c in colors):
        from ._image import pil_module
        pil_module()        # a clear message when Pillow (the 'vision' extra) is missing
        from PIL import ImageColor
        colors = [ImageColor.getrgb(c) if isinstance(c, str) else c for c in colors]
    if dtype.is_floating_point:
        colors = [tuple(v / 255 for v in c) for c in colors]
    return colors


def _check_image(image, what):
    """torchvision's refusals of a non-tensor, a dtype other than uint8/float, or a batch."""
    if not isinstance(image, ember.Tensor):
        raise TypeError(what)
    if not (image.dtype == ember.uint8 or image.is_floating_point()):
        raise ValueError(f'The image dtype must be uint8 or float, got {image.dtype}')
    if image.dim() != 3:
        raise ValueError('Pass individual images, not batches')


def draw_bounding_boxes(image, boxes, labels=None, colors=None, fill=False, width=1, font=None, font_size=None,
                        label_colors=None, label_background_colors=None, fill_labels=False):
    """Boxes ((N, 4) xyxy, or (N, 8) corners of rotated boxes) and their labels drawn on a (C, H, W) uint8 or float
    image; returns a new image of the input's dtype."""
    from ._image import pil_module
    pil_module()
    from PIL import ImageFont
    from .transforms.v2 import functional as F
    _check_image(image, f'Tensor expected, got {type(image)}')
    if image.size(0) not in {1, 3}:
        raise ValueError('Only grayscale and RGB images are supported')
    if boxes.shape[-1] == 4 and ((boxes[:, 0] > boxes[:, 2]).any() or (boxes[:, 1] > boxes[:, 3]).any()):
        raise ValueError('Boxes need to be in (xmin, ymin, xmax, ymax) format. Use torchvision.ops.box_convert to '
                         'convert them')
    num_boxes = boxes.shape[0]
    if num_boxes == 0:
        warnings.warn("boxes doesn't contain any box. No box was drawn", stacklevel=2)
        return image
    if labels is None:
        labels = [None] * num_boxes
    elif len(labels) != num_boxes:
        raise ValueError(f'Number of boxes ({num_boxes}) and labels ({len(labels)}) mismatch. Please specify labels '
                         'for each box.')
    colors = [tuple(int(v) for v in c) for c in _parse_colors(colors, num_objects=num_boxes)]
    if label_colors or fill_labels:
        label_colors = _parse_colors(label_colors if label_colors else 'black', num_objects=num_boxes)
    else:
        label_colors = list(colors)
    if fill_labels and label_background_colors:
        label_background_colors = _parse_colors(label_background_colors, num_objects=num_boxes)
    else:
        label_background_colors = list(colors)
    if font is None:
        if font_size is not None:
            warnings.warn("Argument 'font_size' will be ignored since 'font' is not set.", stacklevel=2)
        txt_font = ImageFont.load_default()
    else:
        txt_font = ImageFont.truetype(font=font, size=font_size or 10)
    if image.size(0) == 1:
        image = ember.tile(image, (3, 1, 1))
    original_dtype = image.dtype
    if original_dtype.is_floating_point:
        image = F.to_dtype(image, dtype=ember.uint8, scale=True)
    picture = F.to_pil_image(image)
    draw = _draw_context(picture, 'RGBA' if fill else None)
    for box, color, label, label_color, label_bg in zip(boxes.to(ember.int64).tolist(), colors, labels,
                                                        label_colors, label_background_colors):
        method = draw.oriented_rectangle if len(box) > 4 else draw.rectangle
        method(box, width=width, outline=color, fill=color + (100,) if fill else None)
        if label is not None:
            _draw_label(draw, box, label, width, txt_font, label_color, label_bg if fill_labels else None)
    out = F.pil_to_tensor(picture)
    if original_dtype.is_floating_point:
        out = F.to_dtype(out, dtype=original_dtype, scale=True)
    return out


def _draw_label(draw, box, label, width, font, color, background):
    """A box's label inside its top-left corner, on a filled background if one is given."""
    box_margin = 1
    at = (box[0] + width + box_margin, box[1] + width + box_margin)
    if background is not None:
        left, top, right, bottom = draw.textbbox(at, label, font=font)
        draw.rectangle((left - box_margin, top - box_margin, right + box_margin, bottom + box_margin), fill=background)
    draw.text(at, label, fill=color, font=font)


def _draw_context(picture, mode):
    """Pillow's ImageDraw with torchvision's ``oriented_rectangle``: a rotated box's first edge dashed (marking its
    orientation), the others solid, the inside filled."""
    from PIL import ImageDraw

    class _Draw(ImageDraw.ImageDraw):
        def oriented_rectangle(self, xy, fill=None, outline=None, width=1):
            self._dashed_line(((xy[0], xy[1]), (xy[2], xy[3])), width=width, fill=outline)
            for i in range(2, len(xy), 2):
                self.line(((xy[i], xy[i + 1]), (xy[(i + 2) % len(xy)], xy[(i + 3) % len(xy)])), width=width,
                          fill=outline)
            self.polygon(xy, fill=fill, outline=None, width=0)

        def _dashed_line(self, xy, fill=None, width=0, dash=5, space=5):
            (x1, y1), (x2, y2) = xy
            remaining = math.hypot(x2 - x1, y2 - y1)
            drawing = True
            while remaining > 0:
                step = min(remaining, dash if drawing else space)
                angle = math.atan2(y2 - y1, x2 - x1)
                end = (x1 + math.cos(angle) * step, y1 + math.sin(angle) * step)
                if drawing:
                    self.line(((x1, y1), end), width=width, fill=fill)
                x1, y1 = end
                remaining -= step
                drawing = not drawing
    return _Draw(picture, mode)


def draw_segmentation_masks(image, masks, alpha=0.8, colors=None):
    """Boolean masks ((N, H, W) or (H, W)) blended onto a (3, H, W) uint8 or float image with weight ``alpha``;
    pixels under several masks go black. Returns an image of the input's dtype."""
    with ember.no_grad():
        _check_image(image, f'The image must be a tensor, got {type(image)}')
        if image.size()[0] != 3:
            raise ValueError('Pass an RGB image. Other Image formats are not supported')
        if masks.ndim == 2:
            masks = masks[None, :, :]
        if masks.ndim != 3:
            raise ValueError('masks must be of shape (H, W) or (batch_size, H, W)')
        if masks.dtype != ember.bool:
            raise ValueError(f'The masks must be of dtype bool. Got {masks.dtype}')
        if masks.shape[-2:] != image.shape[-2:]:
            raise ValueError('The image and the masks must have the same height and width')
        overlapping = masks.sum(dim=0) > 1
        if masks.size()[0] == 0:
            warnings.warn("masks doesn't contain any mask. No mask was drawn", stacklevel=2)
            return image
        dtype = image.dtype
        painted = image.detach().clone()
        for mask, color in zip(masks, _parse_colors(colors, num_objects=masks.size()[0], dtype=dtype)):
            painted[:, mask] = ember.tensor(color, dtype=dtype)[:, None]
        painted[:, overlapping] = 0
        return (image * (1 - alpha) + painted * alpha).to(dtype)


def draw_keypoints(image, keypoints, connectivity=None, colors=None, radius=2, width=3, visibility=None):
    """Keypoints ((N, K, 2) as x, y) drawn as discs of ``radius`` on a (3, H, W) uint8 or float image, and the
    ``connectivity`` pairs as lines of ``width``; a keypoint whose ``visibility`` is False is skipped with its
    lines. Returns an image of the input's dtype."""
    from ._image import pil_module
    pil_module()
    from PIL import Image, ImageDraw
    from .transforms.v2 import functional as F
    with ember.no_grad():
        _check_image(image, f'The image must be a tensor, got {type(image)}')
        if image.size()[0] != 3:
            raise ValueError('Pass an RGB image. Other Image formats are not supported')
        if keypoints.ndim != 3:
            raise ValueError('keypoints must be of shape (num_instances, K, 2)')
        if visibility is None:
            visibility = ember.ones(keypoints.shape[:-1], dtype=ember.bool)
        if visibility.ndim == 3:        # as ``pred.split([2, 1], dim=-1)`` gives it, as torchvision accepts
            visibility = visibility.squeeze(-1)
        if visibility.ndim != 2:
            raise ValueError(f'visibility must be of shape (num_instances, K). Got ndim={visibility.ndim}')
        if visibility.shape != keypoints.shape[:-1]:
            raise ValueError('keypoints and visibility must have the same dimensionality for num_instances and K. '
                             f'Got {visibility.shape=} and {keypoints.shape=}')
        dtype = image.dtype
        if dtype.is_floating_point:
            image = F.to_dtype(image, dtype=ember.uint8, scale=True)
        picture = Image.fromarray(image.permute(1, 2, 0).numpy())
        draw = ImageDraw.Draw(picture)
        for points, visible in zip(keypoints.to(ember.int64).tolist(), visibility.bool().tolist()):
            for (x, y), shown in zip(points, visible):
                if shown:
                    draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colors, outline=None, width=0)
            for a, b in connectivity or ():
                if visible[a] and visible[b]:
                    draw.line(((points[a][0], points[a][1]), (points[b][0], points[b][1])), width=width)
        out = ember.from_numpy(np.array(picture)).permute(2, 0, 1)
        return F.to_dtype(out, dtype=dtype, scale=True) if dtype.is_floating_point else out
