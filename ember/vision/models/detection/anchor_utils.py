"""Anchor generators: R-CNN's ``AnchorGenerator`` (sizes x aspect ratios at every feature-map cell) and SSD's
``DefaultBoxGenerator`` (scales interpolated between two ratios of the image)."""
import math

import ember
from ember import nn

__all__ = ['AnchorGenerator', 'DefaultBoxGenerator']


def _grid_shifts(grid_size, stride):
    """The ``(x, y, x, y)`` offsets of every cell of a ``(h, w)`` grid, row-major, cells ``stride`` apart."""
    shifts_x = ember.arange(0, grid_size[1], dtype=ember.int32) * stride[1]
    shifts_y = ember.arange(0, grid_size[0], dtype=ember.int32) * stride[0]
    shift_y, shift_x = ember.meshgrid(shifts_y, shifts_x, indexing='ij')
    shift_x, shift_y = shift_x.reshape(-1), shift_y.reshape(-1)
    return ember.stack((shift_x, shift_y, shift_x, shift_y), dim=1)


class AnchorGenerator(nn.Module):
    """For each feature map ``i``, the anchors of sizes ``sizes[i]`` and aspect ratios (h / w)
    ``aspect_ratios[i]`` centred on every cell (zero-centred templates, rounded, shifted by the cell's stride);
    ``forward(image_list, feature_maps)`` returns one ``[sum(H_i W_i A_i), 4]`` tensor per image."""

    def __init__(self, sizes=((128, 256, 512),), aspect_ratios=((0.5, 1.0, 2.0),)):
        super().__init__()
        if not isinstance(sizes[0], (list, tuple)):
            sizes = tuple((s,) for s in sizes)
        if not isinstance(aspect_ratios[0], (list, tuple)):
            aspect_ratios = (aspect_ratios,) * len(sizes)
        self.sizes = sizes
        self.aspect_ratios = aspect_ratios
        self.cell_anchors = [self.generate_anchors(size, ratio) for size, ratio in zip(sizes, aspect_ratios)]

    def generate_anchors(self, scales, aspect_ratios, dtype=ember.float32, device=None):
        """The ``[len(ratios) * len(scales), 4]`` zero-centred templates (ratio-major), rounded."""
        scales = ember.as_tensor(scales, dtype=dtype)
        aspect_ratios = ember.as_tensor(aspect_ratios, dtype=dtype)
        h_ratios = ember.sqrt(aspect_ratios)
        w_ratios = 1 / h_ratios
        ws = (w_ratios[:, None] * scales[None, :]).view(-1)
        hs = (h_ratios[:, None] * scales[None, :]).view(-1)
        return (ember.stack([-ws, -hs, ws, hs], dim=1) / 2).round()

    def set_cell_anchors(self, dtype, device):
        self.cell_anchors = [anchors.to(dtype=dtype, device=device) for anchors in self.cell_anchors]

    def num_anchors_per_location(self):
        return [len(s) * len(a) for s, a in zip(self.sizes, self.aspect_ratios)]

    def grid_anchors(self, grid_sizes, strides):
        """Per feature map, every template at every cell: ``[H * W * A, 4]``, cell-major."""
        if not len(grid_sizes) == len(strides) == len(self.cell_anchors):
            raise ValueError('Anchors should be Tuple[Tuple[int]] because each feature map could potentially have '
                             'different sizes and aspect ratios. There needs to be a match between the number of '
                             'feature maps passed and the number of sizes / aspect ratios specified.')
        return [(_grid_shifts(size, stride).view(-1, 1, 4) + base.view(1, -1, 4)).reshape(-1, 4)
                for size, stride, base in zip(grid_sizes, strides, self.cell_anchors)]

    def forward(self, image_list, feature_maps):
        grid_sizes = [fm.shape[-2:] for fm in feature_maps]
        image_size = image_list.tensors.shape[-2:]
        strides = [[ember.tensor(image_size[0] // g[0], dtype=ember.int64),
                    ember.tensor(image_size[1] // g[1], dtype=ember.int64)] for g in grid_sizes]
        self.set_cell_anchors(feature_maps[0].dtype, feature_maps[0].device)
        per_map = self.grid_anchors(grid_sizes, strides)
        return [ember.cat(per_map) for _ in range(len(image_list.image_sizes))]


class DefaultBoxGenerator(nn.Module):
    """SSD's default boxes: for feature map ``k`` a box of scale ``s_k``, one of ``sqrt(s_k s_{k+1})`` and a pair
    (w/h swapped) per aspect ratio, centred on every cell; ``forward`` returns xyxy boxes in pixels per image."""

    def __init__(self, aspect_ratios, min_ratio=0.15, max_ratio=0.9, scales=None, steps=None, clip=True):
        super().__init__()
        if steps is not None and len(aspect_ratios) != len(steps):
            raise ValueError('aspect_ratios and steps should have the same length')
        self.aspect_ratios = aspect_ratios
        self.steps = steps
        self.clip = clip
        num_outputs = len(aspect_ratios)
        if scales is None:
            if num_outputs > 1:
                span = max_ratio - min_ratio
                self.scales = [min_ratio + span * k / (num_outputs - 1.0) for k in range(num_outputs)]
                self.scales.append(1.0)
            else:
                self.scales = [min_ratio, max_ratio]
        else:
            self.scales = scales
        self._wh_pairs = self._generate_wh_pairs(num_outputs)

    def _generate_wh_pairs(self, num_outputs, dtype=ember.float32, device=None):
        pairs = []
        for k in range(num_outputs):
            s_k = self.scales[k]
            s_prime = math.sqrt(self.scales[k] * self.scales[k + 1])
            wh = [[s_k, s_k], [s_prime, s_prime]]
            for ar in self.aspect_ratios[k]:
                root = math.sqrt(ar)
                w, h = s_k * root, s_k / root
                wh.extend([[w, h], [h, w]])
            pairs.append(ember.as_tensor(wh, dtype=dtype))
        return pairs

    def num_anchors_per_location(self):
        return [2 + 2 * len(r) for r in self.aspect_ratios]

    def _grid_default_boxes(self, grid_sizes, image_size, dtype=ember.float32):
        """``[sum(H W A), 4]`` boxes as (cx, cy, w, h) relative to the image."""
        boxes = []
        for k, f_k in enumerate(grid_sizes):
            if self.steps is not None:
                x_f_k, y_f_k = image_size[1] / self.steps[k], image_size[0] / self.steps[k]
            else:
                y_f_k, x_f_k = f_k
            shifts_x = ((ember.arange(0, f_k[1]) + 0.5) / x_f_k).to(dtype=dtype)
            shifts_y = ((ember.arange(0, f_k[0]) + 0.5) / y_f_k).to(dtype=dtype)
            shift_y, shift_x = ember.meshgrid(shifts_y, shifts_x, indexing='ij')
            shift_x, shift_y = shift_x.reshape(-1), shift_y.reshape(-1)
            shifts = ember.stack((shift_x, shift_y) * len(self._wh_pairs[k]), dim=-1).reshape(-1, 2)
            wh = self._wh_pairs[k].clamp(min=0, max=1) if self.clip else self._wh_pairs[k]
            boxes.append(ember.cat((shifts, wh.repeat(f_k[0] * f_k[1], 1)), dim=1))
        return ember.cat(boxes, dim=0)

    def __repr__(self):
        return (f'{self.__class__.__name__}(aspect_ratios={self.aspect_ratios}, clip={self.clip}, '
                f'scales={self.scales}, steps={self.steps})')

    def forward(self, image_list, feature_maps):
        grid_sizes = [fm.shape[-2:] for fm in feature_maps]
        image_size = image_list.tensors.shape[-2:]
        boxes = self._grid_default_boxes(grid_sizes, image_size, dtype=feature_maps[0].dtype)
        x_y_size = ember.tensor([image_size[1], image_size[0]])
        return [ember.cat([(boxes[:, :2] - 0.5 * boxes[:, 2:]) * x_y_size,
                           (boxes[:, :2] + 0.5 * boxes[:, 2:]) * x_y_size], -1) for _ in image_list.image_sizes]
