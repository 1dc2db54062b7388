"""``torchvision.ops.MultiScaleRoIAlign``: RoIAlign over the level of a feature pyramid that suits each box's
size (FPN's level rule ``floor(4 + log2(sqrt(area) / 224))``), the level scales inferred from the feature and
image sizes on the first call, as torchvision infers them."""
import math

import numpy as np

import ember
from ember import nn

from .boxes import box_area
from .roi_align import convert_boxes_to_roi_format, roi_align

__all__ = ['MultiScaleRoIAlign', 'LevelMapper', 'initLevelMapper']


class LevelMapper:
    """Maps each box to a pyramid level in ``[k_min, k_max]`` (returned relative to ``k_min``), by eq. (1) of the
    FPN paper."""

    def __init__(self, k_min, k_max, canonical_scale=224, canonical_level=4, eps=1e-6):
        self.k_min = k_min
        self.k_max = k_max
        self.s0 = canonical_scale
        self.lvl0 = canonical_level
        self.eps = eps

    def __call__(self, boxlists):
        s = ember.sqrt(ember.cat([box_area(b) for b in boxlists]))
        target = ember.floor(self.lvl0 + ember.log2(s / self.s0) + ember.tensor(self.eps, dtype=s.dtype))
        target = ember.clamp(target, min=self.k_min, max=self.k_max)
        return (target.to(ember.int64) - self.k_min).to(ember.int64)


def initLevelMapper(k_min, k_max, canonical_scale=224, canonical_level=4, eps=1e-6):
    """A :class:`LevelMapper` (torchvision's factory name)."""
    return LevelMapper(k_min, k_max, canonical_scale, canonical_level, eps)


def _infer_scale(feature, original_size):
    """The power of two nearest (log2 in float32, rounded half to even) to the feature's height over the
    image's."""
    approx = np.float32(float(feature.shape[-2]) / float(original_size[0]))
    return 2 ** float(np.round(np.log2(approx)))


def _setup_scales(features, image_shapes, canonical_scale, canonical_level):
    if not image_shapes:
        raise ValueError('images list should not be empty')
    original = (max(s[0] for s in image_shapes), max(s[1] for s in image_shapes))
    scales = [_infer_scale(f, original) for f in features]
    lvl_min = -math.log2(scales[0])
    lvl_max = -math.log2(scales[-1])
    return scales, initLevelMapper(int(lvl_min), int(lvl_max), canonical_scale=canonical_scale,
                                   canonical_level=canonical_level)


class MultiScaleRoIAlign(nn.Module):
    """RoIAlign of the boxes (a list of per-image ``[L, 4]``) over the feature maps named ``featmap_names`` in the
    input dict; ``forward(x, boxes, image_shapes)`` returns ``[K, C, *output_size]``."""

    def __init__(self, featmap_names, output_size, sampling_ratio, *, canonical_scale=224, canonical_level=4):
        super().__init__()
        if isinstance(output_size, int):
            output_size = (output_size, output_size)
        self.featmap_names = featmap_names
        self.sampling_ratio = sampling_ratio
        self.output_size = tuple(output_size)
        self.scales = None
        self.map_levels = None
        self.canonical_scale = canonical_scale
        self.canonical_level = canonical_level

    def forward(self, x, boxes, image_shapes):
        features = [v for k, v in x.items() if k in self.featmap_names]
        if self.scales is None or self.map_levels is None:
            self.scales, self.map_levels = _setup_scales(features, image_shapes, self.canonical_scale,
                                                         self.canonical_level)
        rois = convert_boxes_to_roi_format(boxes)
        if len(features) == 1:
            return roi_align(features[0], rois, output_size=self.output_size, spatial_scale=self.scales[0],
                             sampling_ratio=self.sampling_ratio)
        levels = self.map_levels(boxes)
        first = features[0]
        result = ember.zeros((len(rois), first.shape[1]) + self.output_size, dtype=first.dtype)
        for level, (feature, scale) in enumerate(zip(features, self.scales)):
            idx = ember.where(levels == level)[0]
            pooled = roi_align(feature, rois[idx], output_size=self.output_size, spatial_scale=scale,
                               sampling_ratio=self.sampling_ratio)
            result[idx] = pooled.to(result.dtype)
        return result

    def __repr__(self):
        return (f'{self.__class__.__name__}(featmap_names={self.featmap_names}, output_size={self.output_size}, '
                f'sampling_ratio={self.sampling_ratio})')
