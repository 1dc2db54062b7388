"""``GeneralizedRCNNTransform``: the R-CNN family's input preprocessing (normalize, resize each image so its
short side is ``min_size`` and long side at most ``max_size``, pad the batch to a multiple of
``size_divisible``), targets resized along, and the detections mapped back to the original image sizes."""
import math

import ember
from ember import nn
from ember.nn import functional as F

from .image_list import ImageList
from .roi_heads import paste_masks_in_image

__all__ = ['GeneralizedRCNNTransform', 'resize_boxes', 'resize_keypoints']


def _resize_image_and_masks(image, self_min_size, self_max_size, target=None, fixed_size=None):
    """The image resized (bilinear) to ``fixed_size`` (w, h) or by the factor that fits the size limits; the
    target's masks resized (nearest) the same way."""
    size = scale_factor = recompute_scale_factor = None
    if fixed_size is not None:
        size = [fixed_size[1], fixed_size[0]]
    else:
        im_shape = image.shape[-2:]
        scale_factor = min(self_min_size / min(im_shape), self_max_size / max(im_shape))
        recompute_scale_factor = True
    image = F.interpolate(image[None], size=size, scale_factor=scale_factor, mode='bilinear',
                          recompute_scale_factor=recompute_scale_factor, align_corners=False)[0]
    if target is not None and 'masks' in target:
        mask = F.interpolate(target['masks'][:, None].float(), size=size, scale_factor=scale_factor,
                             recompute_scale_factor=recompute_scale_factor)[:, 0].byte()
        target['masks'] = mask
    return image, target


def _size_ratios(original_size, new_size):
    """``new / original`` per axis, each a float32 division as torchvision computes it."""
    return [ember.tensor(s, dtype=ember.float32) / ember.tensor(s_orig, dtype=ember.float32)
            for s, s_orig in zip(new_size, original_size)]


def resize_keypoints(keypoints, original_size, new_size):
    """Keypoints ``[..., 3]`` scaled from ``original_size`` (h, w) to ``new_size``."""
    ratio_h, ratio_w = _size_ratios(original_size, new_size)
    resized = keypoints.clone()
    resized[..., 0] *= ratio_w
    resized[..., 1] *= ratio_h
    return resized


def resize_boxes(boxes, original_size, new_size):
    """xyxy boxes scaled from ``original_size`` (h, w) to ``new_size``."""
    ratio_h, ratio_w = _size_ratios(original_size, new_size)
    xmin, ymin, xmax, ymax = boxes.unbind(1)
    return ember.stack((xmin * ratio_w, ymin * ratio_h, xmax * ratio_w, ymax * ratio_h), dim=1)


class GeneralizedRCNNTransform(nn.Module):
    """``forward(images, targets)`` returns an ``ImageList`` of the normalized, resized, padded batch and the
    resized targets (copies of the dicts); ``postprocess`` maps detections back to the original sizes. In
    training the short side is drawn from ``min_size`` (a tuple), in eval its last entry is used."""

    def __init__(self, min_size, max_size, image_mean, image_std, size_divisible=32, fixed_size=None, **kwargs):
        super().__init__()
        if not isinstance(min_size, (list, tuple)):
            min_size = (min_size,)
        self.min_size = min_size
        self.max_size = max_size
        self.image_mean = image_mean
        self.image_std = image_std
        self.size_divisible = size_divisible
        self.fixed_size = fixed_size
        self._skip_resize = kwargs.pop('_skip_resize', False)

    def forward(self, images, targets=None):
        images = list(images)
        if targets is not None:
            targets = [dict(t) for t in targets]
        for i, image in enumerate(images):
            if image.dim() != 3:
                raise ValueError(f'images is expected to be a list of 3d tensors of shape [C, H, W], got '
                                 f'{image.shape}')
            image, target = self.resize(self.normalize(image), targets[i] if targets is not None else None)
            images[i] = image
            if targets is not None and target is not None:
                targets[i] = target
        image_sizes = [(img.shape[-2], img.shape[-1]) for img in images]
        return ImageList(self.batch_images(images, size_divisible=self.size_divisible), image_sizes), targets

    def normalize(self, image):
        if not image.is_floating_point():
            raise TypeError(f'Expected input images to be of floating type (in range [0, 1]), but found type '
                            f'{image.dtype} instead')
        mean = ember.as_tensor(self.image_mean, dtype=image.dtype)
        std = ember.as_tensor(self.image_std, dtype=image.dtype)
        return (image - mean[:, None, None]) / std[:, None, None]

    def torch_choice(self, k):
        """A uniformly drawn element of ``k``, from torch's generator (as torchvision draws it)."""
        return k[int(ember.empty(1).uniform_(0.0, float(len(k))).item())]

    def resize(self, image, target=None):
        h, w = image.shape[-2:]
        if self.training:
            if self._skip_resize:
                return image, target
            size = self.torch_choice(self.min_size)
        else:
            size = self.min_size[-1]
        image, target = _resize_image_and_masks(image, size, self.max_size, target, self.fixed_size)
        if target is None:
            return image, target
        target['boxes'] = resize_boxes(target['boxes'], (h, w), image.shape[-2:])
        if 'keypoints' in target:
            target['keypoints'] = resize_keypoints(target['keypoints'], (h, w), image.shape[-2:])
        return image, target

    def max_by_axis(self, the_list):
        maxes = the_list[0]
        for sublist in the_list[1:]:
            for index, item in enumerate(sublist):
                maxes[index] = max(maxes[index], item)
        return maxes

    def batch_images(self, images, size_divisible=32):
        """The images zero-padded (bottom, right) into one batch whose height and width are multiples of
        ``size_divisible``."""
        max_size = list(self.max_by_axis([list(img.shape) for img in images]))
        stride = float(size_divisible)
        max_size[1] = int(math.ceil(float(max_size[1]) / stride) * stride)
        max_size[2] = int(math.ceil(float(max_size[2]) / stride) * stride)
        batched = images[0].new_full([len(images)] + max_size, 0)
        for i, img in enumerate(images):
            batched[i, :img.shape[0], :img.shape[1], :img.shape[2]].copy_(img)
        return batched

    def postprocess(self, result, image_shapes, original_image_sizes):
        """In eval, boxes (and keypoints) scaled back to the original sizes, masks pasted into full images."""
        if self.training:
            return result
        for pred, im_s, o_im_s in zip(result, image_shapes, original_image_sizes):
            pred['boxes'] = resize_boxes(pred['boxes'], im_s, o_im_s)
            if 'masks' in pred:
                pred['masks'] = paste_masks_in_image(pred['masks'], pred['boxes'], o_im_s)
            if 'keypoints' in pred:
                pred['keypoints'] = resize_keypoints(pred['keypoints'], im_s, o_im_s)
        return result

    def __repr__(self):
        indent = '\n    '
        return (f'{self.__class__.__name__}({indent}Normalize(mean={self.image_mean}, std={self.image_std})'
                f"{indent}Resize(min_size={self.min_size}, max_size={self.max_size}, mode='bilinear')\n)")
