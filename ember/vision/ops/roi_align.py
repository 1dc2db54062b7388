"""Region-of-interest pooling of ``torchvision.ops``: ``roi_align`` (bilinear samples averaged per bin, Mask
R-CNN) and ``roi_pool`` (the maximum per bin, Fast R-CNN), with the rules of torchvision's CPU kernels, and their
module forms.

roi_align's weights are separable: a bilinear sample's four corner weights are products of a row weight and a column
weight, so each roi's bins are Wy A Wx^T over the window of the channels-last input its samples reach (Wy: (PH, rows),
Wx: (PW, columns), each bin's samples summed per pixel), and its gradient Wy^T G Wx added into that window.
roi_pool reads each output cell (roi, bin) from the pixels of its bin, rows of the input laid out as (N*H*W, C), in
chunks so that the gathered (cells, taps, C) block stays near 4M elements however many rois come in; its gradient
goes to the argmax."""
import numpy as np

import ember
from ember import nn
from ember.autograd.grad_mode import GRAD
from ember.autograd.graph import Node
from ember.tensor import Tensor

__all__ = ['roi_align', 'RoIAlign', 'roi_pool', 'RoIPool']

_CHUNK = 1 << 22      # elements of one gathered (cells, taps, C) block


def _pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def convert_boxes_to_roi_format(boxes):
    """A list of per-image ``[L, 4]`` boxes as one ``[K, 5]`` tensor whose first column is the image index."""
    ids = ember.cat([ember.full_like(b[:, :1], i) for i, b in enumerate(boxes)], 0)
    return ember.cat([ids, ember.cat(list(boxes), 0)], 1)


def check_roi_boxes_shape(boxes):
    """torchvision's shape check: a ``[K, 5]`` tensor or a list of ``[L, 4]`` tensors."""
    if isinstance(boxes, (list, tuple)):
        for t in boxes:
            if t.size(1) != 4:
                raise AssertionError('The shape of the tensor in the boxes list is not correct as List[Tensor[L, 4]]')
    elif isinstance(boxes, Tensor):
        if boxes.size(1) != 5:
            raise AssertionError('The boxes tensor shape is not correct as Tensor[K, 5]')
    else:
        raise AssertionError('boxes is expected to be a Tensor[L, 5] or a List[Tensor[K, 4]]')


def _rois_of(boxes):
    check_roi_boxes_shape(boxes)
    return boxes if isinstance(boxes, Tensor) else convert_boxes_to_roi_format(boxes)


def _chunks(n_cells, n_taps, channels):
    """Slices of cells whose gathered block has about _CHUNK elements."""
    step = max(1, _CHUNK // max(1, n_taps * channels))
    return [slice(i, min(i + step, n_cells)) for i in range(0, n_cells, step)]


# --- roi_align ------------------------------------------------------------------------------------------------------

def _axis_samples(start, bin_size, grid, pooled, size, dt):
    """Along one axis, for rois ``[k]``, bins ``p`` and samples ``i``: low and high pixel, and the weights of the
    two (zero for a sample beyond [-1, size], the kernel's out-of-map rule), each ``[k, p, i]``."""
    p = np.arange(pooled, dtype=dt)[None, :, None]
    i = np.arange(grid, dtype=dt)[None, None, :]
    b = bin_size[:, None, None]
    pos = start[:, None, None] + p * b + (i + dt(0.5)) * b / dt(grid)
    inside = ((pos >= -1) & (pos <= size)).astype(dt)
    pos = np.maximum(pos, dt(0))
    low = pos.astype(np.int64)
    edge = low >= size - 1
    low = np.where(edge, size - 1, low)
    high = np.where(edge, size - 1, low + 1)
    frac = np.where(edge, dt(0), pos - low.astype(dt))
    return low, high, (dt(1) - frac) * inside, frac * inside


class _AlignTaps:
    """roi_align's sampling grids for one input shape, rois and settings, and their separable bilinear weights."""

    def __init__(self, shape, rois, scale, pooled, sampling_ratio, aligned, dt):
        self.shape, self.pooled, self.dt = shape, pooled, dt
        _, _, H, W = shape
        r = rois.astype(dt)
        offset = dt(0.5) if aligned else dt(0)
        sc = dt(scale)
        x0, y0 = r[:, 1] * sc - offset, r[:, 2] * sc - offset
        rw, rh = r[:, 3] * sc - offset - x0, r[:, 4] * sc - offset - y0
        if not aligned:
            rw, rh = np.maximum(rw, dt(1)), np.maximum(rh, dt(1))
        ph, pw = pooled
        self.batch = r[:, 0].astype(np.int64)
        self.x0, self.y0, self.bw, self.bh = x0, y0, rw / dt(pw), rh / dt(ph)
        if sampling_ratio > 0:
            gh = gw = np.full(len(r), sampling_ratio, np.int64)
        else:
            gh, gw = np.ceil(rh / dt(ph)).astype(np.int64), np.ceil(rw / dt(pw)).astype(np.int64)
        self.grids = np.stack([gh, gw], 1)

    def groups(self):
        """(roi indices, grid_h, grid_w) for each distinct sampling grid."""
        keys, inverse = np.unique(self.grids, axis=0, return_inverse=True)
        return [(np.flatnonzero(inverse.ravel() == j), int(g[0]), int(g[1])) for j, g in enumerate(keys)]

    def axis_weights(self, ks, gh, gw):
        """The bilinear weights of rois ``ks`` as one matrix per axis, ``[k, PH, H]`` and ``[k, PW, W]``: a bin's
        samples' two pixels each, summed per pixel (the 1 / (gh*gw) average goes into the rows'), and each roi's
        first and one-past-last row and column ``[k]``. A tap's weight wy * wx is their outer product."""
        _, _, H, W = self.shape
        ph, pw = self.pooled
        dt = self.dt
        yl, yh, wyl, wyh = _axis_samples(self.y0[ks], self.bh[ks], gh, ph, H, dt)
        xl, xh, wxl, wxh = _axis_samples(self.x0[ks], self.bw[ks], gw, pw, W, dt)
        wy = _dense_axis(yl, yh, wyl, wyh, H) / dt(gh * gw)
        wx = _dense_axis(xl, xh, wxl, wxh, W)
        return wy, wx, (yl.min((1, 2)), yh.max((1, 2)) + 1), (xl.min((1, 2)), xh.max((1, 2)) + 1)


def _dense_axis(low, high, w_low, w_high, size):
    """``[k, pooled, size]``: the weights ``[k, pooled, grid]`` of the low and high pixels added up per pixel."""
    k, p, _ = low.shape
    rows = ((np.arange(k)[:, None, None] * p + np.arange(p)[None, :, None]) * size)
    idx = np.concatenate([(rows + low).ravel(), (rows + high).ravel()])
    w = np.concatenate([w_low.ravel(), w_high.ravel()])
    return np.bincount(idx, w, minlength=k * p * size).reshape(k, p, size).astype(w_low.dtype)


def _align_forward(a, taps):
    """Each roi's bins as Wy A Wx^T over the window of rows and columns its samples reach (see
    _AlignTaps.axis_weights): two small products per roi, where gathering the 4 * gh * gw weighted taps of every cell
    moved that many rows of C: 512 rois of 7x7 on (2, 256, 50, 50) at scale 1/16, min of 3 interleaved, one thread,
    sampling_ratio 2: 31.7 -> 13.7 ms, adaptive: 34.3 -> 11.6 (Haswell kernels 33.8 -> 17.2, 35.8 -> 15.8)."""
    N, C, H, W = a.shape
    ph, pw = taps.pooled
    rows = np.ascontiguousarray(a.transpose(0, 2, 3, 1))
    out = np.zeros((len(taps.batch), ph, pw * C), a.dtype)
    for ks, gh, gw in taps.groups():
        if gh == 0 or gw == 0:
            continue
        wy, wx, (y0, y1), (x0, x1) = taps.axis_weights(ks, gh, gw)
        for i, k in enumerate(ks):
            cols = np.matmul(wx[i, :, x0[i]:x1[i]], rows[taps.batch[k], y0[i]:y1[i], x0[i]:x1[i]])
            out[k] = np.matmul(wy[i, :, y0[i]:y1[i]], cols.reshape(-1, pw * C))
    return out.reshape(-1, ph, pw, C).transpose(0, 3, 1, 2)


def _align_backward(g, taps):
    """The input's gradient: each tap's weight is wy * wx (see _AlignTaps.axis_weights), so a roi's gradient is
    Wy^T G Wx over the rows and columns its samples reach, two small products per roi added into that window,
    where the gathered-taps scatter sorted and reduced 4 * gh * gw weighted rows of C per cell: the rois of
    _align_forward's measurement, one thread, 323 -> 18.3 ms, adaptive 298 -> 17.8 (Haswell 338 -> 21.5, 303 -> 21.7)."""
    N, C, H, W = taps.shape
    ph, pw = taps.pooled
    grows = np.ascontiguousarray(g.transpose(0, 2, 3, 1))
    out = np.zeros((N, H, W, C), g.dtype)
    for ks, gh, gw in taps.groups():
        if gh == 0 or gw == 0:
            continue
        wy, wx, (y0, y1), (x0, x1) = taps.axis_weights(ks, gh, gw)
        for i, k in enumerate(ks):
            rows = np.matmul(wy[i, :, y0[i]:y1[i]].T, grows[k].reshape(ph, pw * C))
            part = np.matmul(wx[i, :, x0[i]:x1[i]].T, rows.reshape(-1, pw, C))
            window = out[taps.batch[k], y0[i]:y1[i], x0[i]:x1[i]]
            window += part
    return out.transpose(0, 3, 1, 2)


class _RoIBackward(Node):
    """The input's gradient of roi_align / roi_pool (the boxes get none, as in torchvision); the gradient of a
    gradient is not provided."""
    __slots__ = ('taps', 'grad_of')

    def name(self):
        return f'torch::autograd::CppNode<vision::ops::(anonymous namespace)::{type(self).__name__}>'

    def backward(self, g):
        if not isinstance(g, np.ndarray):
            raise RuntimeError(f'{type(self).__name__}: a double backward is not supported by ember yet')
        return (self.grad_of(g, self.taps),)


class ROIAlignFunction(_RoIBackward):
    __slots__ = ()


class ROIPoolFunction(_RoIBackward):
    __slots__ = ()


def _check_inputs(input, rois, name):
    if input.dim() != 4:
        raise RuntimeError(f'{name}: expected a 4-D (N, C, H, W) input, got {input.dim()}-D')
    if input.dtype != rois.dtype:
        raise RuntimeError(f'Expected tensor for argument #1 \'input\' to have the same type as tensor for argument '
                           f'#2 \'rois\'; but type {input.type()} does not equal {rois.type()} (while checking '
                           f'arguments for {name}_forward_kernel)')


def _finish(input, out, node_class, taps, grad_of):
    """The output tensor, recorded for the input's gradient when it needs one."""
    if GRAD.enabled and input.requires_grad:
        node = node_class((input,))
        node.taps, node.grad_of = taps, grad_of
        return Tensor._make(np.ascontiguousarray(out), node)
    return Tensor._make(np.ascontiguousarray(out))


def roi_align(input, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False):
    """Average of ``sampling_ratio`` x ``sampling_ratio`` bilinear samples (adaptive, ceil(roi size / output
    size), when not positive) in each of the ``output_size`` bins of each box, boxes scaled by ``spatial_scale``
    and, with ``aligned``, shifted by half a pixel. ``boxes``: ``[K, 5]`` (image index, x1, y1, x2, y2) or a list
    of per-image ``[L, 4]``. Returns ``[K, C, *output_size]``."""
    rois = _rois_of(boxes)
    _check_inputs(input, rois, 'roi_align')
    a = input.detach().numpy()
    taps = _AlignTaps(a.shape, rois.detach().numpy(), spatial_scale, _pair(output_size), sampling_ratio, aligned,
                      a.dtype.type)
    return _finish(input, _align_forward(a, taps), ROIAlignFunction, taps, _align_backward)


class RoIAlign(nn.Module):
    """Module form of :func:`roi_align`."""

    def __init__(self, output_size, spatial_scale, sampling_ratio, aligned=False):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned

    def forward(self, input, rois):
        return roi_align(input, rois, self.output_size, self.spatial_scale, self.sampling_ratio, self.aligned)

    def __repr__(self):
        return (f'{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale}, '
                f'sampling_ratio={self.sampling_ratio}, aligned={self.aligned})')


# --- roi_pool -------------------------------------------------------------------------------------------------------

def _bin_edges(start, bin_size, pooled, size):
    """First and one-past-last pixel ``[k, p]`` of each bin along one axis, clipped to the map."""
    p = np.arange(pooled, dtype=bin_size.dtype)[None, :]
    lo = np.floor(p * bin_size[:, None]).astype(np.int64) + start[:, None]
    hi = np.ceil((p + 1) * bin_size[:, None]).astype(np.int64) + start[:, None]
    return np.clip(lo, 0, size), np.clip(hi, 0, size)


def _pool_forward(a, rois, scale, pooled):
    """roi_pool's maxima ``[K, C, PH, PW]`` and the flat (N*H*W) pixel of each, -1 for an empty bin."""
    N, C, H, W = a.shape
    ph, pw = pooled
    dt = a.dtype.type
    sc = dt(scale)
    corners = np.round(rois[:, 1:].astype(dt) * sc).astype(np.int64)      # half away from zero, as std::round
    x0, y0, x1, y1 = corners.T
    bh = np.maximum(y1 - y0 + 1, 1).astype(dt) / dt(ph)
    bw = np.maximum(x1 - x0 + 1, 1).astype(dt) / dt(pw)
    hs, he = _bin_edges(y0, bh, ph, H)
    ws, we = _bin_edges(x0, bw, pw, W)
    batch = rois[:, 0].astype(np.int64)
    K = len(rois)
    rows = np.ascontiguousarray(a.transpose(0, 2, 3, 1)).reshape(N * H * W, C)
    out = np.zeros((K, ph, pw, C), a.dtype)
    arg = np.full((K, ph, pw, C), -1, np.int64)
    mh, mw = max(int((he - hs).max(initial=0)), 1), max(int((we - ws).max(initial=0)), 1)
    dy, dx = np.arange(mh), np.arange(mw)
    ys = hs[:, :, None, None, None] + dy[None, None, None, :, None]       # k, ph, 1, dy, 1
    xs = ws[:, None, :, None, None] + dx[None, None, None, None, :]       # k, 1, pw, 1, dx
    valid = (ys < he[:, :, None, None, None]) & (xs < we[:, None, :, None, None])
    idx = (batch[:, None, None, None, None] * (H * W) + np.minimum(ys, H - 1) * W + np.minimum(xs, W - 1))
    idx, valid = idx.reshape(K * ph * pw, mh * mw), valid.reshape(K * ph * pw, mh * mw)
    out, arg = out.reshape(-1, C), arg.reshape(-1, C)
    for sl in _chunks(len(idx), idx.shape[1], C):
        vals = np.where(valid[sl, :, None], rows[idx[sl]], -np.inf)
        best = vals.argmax(1)                                   # the first maximum, as the kernel's strict '>'
        picked = np.take_along_axis(vals, best[:, None, :], 1)[:, 0]
        empty = ~valid[sl].any(1)
        out[sl] = np.where(empty[:, None], 0, picked)
        arg[sl] = np.where(empty[:, None], -1, np.take_along_axis(idx[sl], best, 1))
    out = out.reshape(K, ph, pw, C).transpose(0, 3, 1, 2)
    return out.astype(a.dtype), arg.reshape(K, ph, pw, C).transpose(0, 3, 1, 2)


def _pool_backward(g, taps):
    shape, arg = taps
    N, C, H, W = shape
    out = np.zeros((N * H * W, C), g.dtype)
    chan = np.broadcast_to(np.arange(C)[None, :, None, None], arg.shape)
    hit = arg >= 0
    np.add.at(out, (arg[hit], chan[hit]), g[hit])
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2)


def roi_pool(input, boxes, output_size, spatial_scale=1.0):
    """The maximum over each of the ``output_size`` bins of each box (box corners scaled by ``spatial_scale`` and
    rounded to pixels; an empty bin gives 0). ``boxes`` as for :func:`roi_align`."""
    rois = _rois_of(boxes)
    _check_inputs(input, rois, 'roi_pool')
    a = input.detach().numpy()
    out, arg = _pool_forward(a, rois.detach().numpy(), spatial_scale, _pair(output_size))
    return _finish(input, out, ROIPoolFunction, (a.shape, arg), _pool_backward)


class RoIPool(nn.Module):
    """Module form of :func:`roi_pool`."""

    def __init__(self, output_size, spatial_scale):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input, rois):
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self):
        return f'{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale})'
