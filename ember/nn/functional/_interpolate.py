"""``interpolate`` (and the deprecated ``upsample*``): nearest, nearest-exact, linear, bilinear, bicubic and
trilinear resampling with PyTorch's CPU index and weight rules, and 'area' (adaptive average pooling).

Each spatial axis is resampled by taps: output position i reads input ``idx[i, k]`` with weight
``w[i, k]`` (1 tap for nearest, 2 for linear, 4 for cubic; antialiased modes a dense row of PIL's
filter). Axes are applied last first, so the sums nest as in PyTorch's kernel. The backward pass adds
the gradient back through the same taps."""
import itertools
import math
import warnings

import numpy as np

from ... import _bf16, _exact, _layout, _quiet
from ..._dtype import scalar_name
from ...autograd import dual
from ...autograd.grad_mode import GRAD
from ...autograd.graph import Node
from ...backend import gemm
from ...tensor import Tensor
from . import _interp_exact

__all__ = ['interpolate', 'upsample', 'upsample_nearest', 'upsample_bilinear']

_MODES = ('nearest', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area', 'nearest-exact')
_NEEDS = {'linear': 3, 'bilinear': 4, 'bicubic': 4, 'trilinear': 5}


def _pytorch_float(np_dtype):
    """The float type PyTorch's kernel computes source positions in (float32 for half, else the input's)."""
    return np.float64 if np_dtype == np.float64 else np.float32


def _scale(n_in, n_out, align_corners, scale_factor, ft):
    """PyTorch's area_pixel_compute_scale: input pixels per output pixel."""
    if align_corners:
        return ft((n_in - 1) / (n_out - 1)) if n_out > 1 else ft(0)
    if scale_factor is not None and scale_factor > 0:
        return ft(1.0 / scale_factor)
    return ft(n_in) / ft(n_out)


def _source(scale, n_out, align_corners, cubic, ft):
    """PyTorch's area_pixel_compute_source_index for every output position."""
    i = np.arange(n_out, dtype=ft)
    if align_corners:
        return scale * i
    if ft == np.float32:    # fma(scale, i + 0.5, -0.5), as PyTorch's compiled kernels contract it (see _fused_pair)
        src = (np.float64(scale) * (i + ft(0.5)) - 0.5).astype(ft)
    else:
        src = scale * (i + ft(0.5)) - ft(0.5)
    return src if cubic else np.maximum(src, ft(0))


def _nearest_taps(n_in, n_out, scale_factor, exact, ft, shortcut=False):
    """Nearest source index per output. ``shortcut``: PyTorch's 2-D 'nearest' kernel (forward and backward) takes
    i for an unchanged size and i // 2 for a doubled one whatever the scale_factor (its nearest_idx); the 1-D and
    3-D forward kernels do not (their backward does, which makes it no adjoint of the forward: ember keeps the
    adjoint there)."""
    if shortcut and not exact and n_out in (n_in, 2 * n_in):
        return (np.arange(n_out) // (n_out // n_in))[:, None], np.ones((n_out, 1), ft)
    scale = _scale(n_in, n_out, False, scale_factor, np.float32)
    i = np.arange(n_out, dtype=np.float32)
    idx = np.floor((i + np.float32(0.5)) * scale if exact else i * scale).astype(np.int64)
    return np.minimum(idx, n_in - 1)[:, None], np.ones((n_out, 1), ft)


def _linear_taps(n_in, n_out, align_corners, scale_factor, ft):
    src = _source(_scale(n_in, n_out, align_corners, scale_factor, ft), n_out, align_corners, False, ft)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam = np.clip(src - i0.astype(ft), 0, 1).astype(ft)
    i1 = i0 + (i0 < n_in - 1)
    return np.stack([i0, i1], 1), np.stack([ft(1) - lam, lam], 1)


def _cubic_taps(n_in, n_out, align_corners, scale_factor, ft, a=-0.75, fused=True):
    """Bicubic's four taps per output. float32 ``fused``: the weights as the forward kernel (compiled with FMA)
    evaluates them; not ``fused``: as its backward (UpSampleBicubic2d.cpp, built without FMA) does, each step rounded
    (the source position scale (i + 1/2) - 1/2 too) and the far taps at (1 - t) + 1."""
    scale = _scale(n_in, n_out, align_corners, scale_factor, ft)
    if fused or ft != np.float32 or align_corners:
        src = _source(scale, n_out, align_corners, True, ft)
    else:
        src = scale * (np.arange(n_out, dtype=ft) + ft(0.5)) - ft(0.5)
    i0 = np.floor(src).astype(np.int64)
    t = (src - i0.astype(ft)).astype(ft)
    a = ft(a)
    if ft == np.float32:
        return _clipped_taps(i0, n_in), _cubic_weights_f32(t, a, fused)

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    w = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], 1).astype(ft)
    return _clipped_taps(i0, n_in), w


def _clipped_taps(i0, n_in):
    """The four source indices i0 - 1 .. i0 + 2 of each output, clamped to the input."""
    return np.clip(i0[:, None] + np.arange(-1, 3)[None, :], 0, n_in - 1)


def _cubic_weights_f32(t, a, fused=True):
    """float32 cubic convolution weights at t + 1, t, 1 - t, (1 - t) + 1. ``fused``: as PyTorch's forward kernel
    evaluates them: the first step of each polynomial fused, (a + 2) x - (a + 3) as fma, and the far one's second
    too, fma(fma(a, x, -5a), x, 8a) x - 4a (found by matching: 0 of 9344 weights differ from PyTorch 2.13's, against
    26 with the far one's first step plain and 35 with none fused)."""
    one = np.float32(1)

    def near(x):
        if not fused:
            return ((a + 2) * x - (a + 3)) * x * x + one
        return _fused_pair(x, a + 2, -(a + 3)) * x * x + one

    def far(x):
        if not fused:
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return _fused_pair(_fused_pair(x, a, -5 * a), x, 8 * a) * x - 4 * a
    x2 = one - t
    return np.stack([far(t + one), near(t), near(x2), far(x2 + one)], 1)


def _antialias_taps(n_in, n_out, mode, align_corners, scale_factor, ft):
    """PIL's separable filters widened by the downscale (PyTorch's antialias=True), as dense taps."""
    from ...vision.transforms._resample import _aa_weights, _triangle, _cubic_aa
    scale = _scale(n_in, n_out, align_corners, scale_factor, float)   # PyTorch's area_pixel_compute_scale
    w = _aa_weights(n_in, n_out, _triangle, 1.0, scale) if mode == 'bilinear' else \
        _aa_weights(n_in, n_out, _cubic_aa, 2.0, scale)
    return np.broadcast_to(np.arange(n_in), w.shape), w.astype(ft)


def _taps(n_in, n_out, mode, align_corners, scale_factor, antialias, ft, k=2):
    """Source indices and weights along one dim. PyTorch's linear-family and antialias kernels copy a dim whose
    size is unchanged whatever the scale_factor (3 by 1.3 is 3: no resampling); its plain bicubic one does not."""
    if mode in ('nearest', 'nearest-exact'):
        return _nearest_taps(n_in, n_out, scale_factor, mode == 'nearest-exact', ft, k == 2)
    if n_in == n_out and (antialias or mode != 'bicubic'):
        return np.arange(n_in)[:, None], np.ones((n_in, 1), ft)
    if antialias:
        return _antialias_taps(n_in, n_out, mode, align_corners, scale_factor, ft)
    if mode == 'bicubic':
        return _cubic_taps(n_in, n_out, align_corners, scale_factor, ft)
    return _linear_taps(n_in, n_out, align_corners, scale_factor, ft)


_FUSED = ('linear', 'bilinear', 'trilinear')


def _fuses(mode, antialias):
    """Whether _along adds the taps as PyTorch's compiled kernel fuses them: the linear modes always; bicubic's four
    taps where ember._exact is on, since they cost 1.6-2x the plain passes (scale 2 of (8, 3, 64, 64): 5.6 -> 9.3 ms, of
    (4, 16, 32, 32) 3.0 -> 6.1 ms, min of 15), and its plain sums differ from PyTorch's in 30-45% of the values."""
    return not antialias and (mode in _FUSED or (mode == 'bicubic' and _exact.ON[0]))


def _along(a, axis, idx, w, fused=False):
    """Resample array ``a`` along ``axis`` by the taps (``fused``: float32 taps added as PyTorch's compiled kernel fuses
    them, by _fused_pair)."""
    if idx.shape[1] == 1:
        return np.take(a, idx[:, 0], axis=axis)
    shape = [1] * a.ndim
    shape[axis] = -1
    if fused and a.dtype == np.float32:     # fma(t0, w0, t1 * w1), then fma(t_k, w_k, out) for further taps
        out = _fused_pair(np.take(a, idx[:, 0], axis=axis), w[:, 0].reshape(shape),
                          np.take(a, idx[:, 1], axis=axis) * w[:, 1].reshape(shape))
        for k in range(2, idx.shape[1]):
            out = _fused_pair(np.take(a, idx[:, k], axis=axis), w[:, k].reshape(shape), out)
        return out
    out = np.take(a, idx[:, 0], axis=axis) * w[:, 0].reshape(shape)
    for k in range(1, idx.shape[1]):
        out += np.take(a, idx[:, k], axis=axis) * w[:, k].reshape(shape)
    return out


def _fused_pair(x0, w0, p1):
    """float32 ``x0 * w0 + p1`` with one rounding for the first product, as PyTorch's compiled linear-family kernel
    fuses ``t0 * w0 + t1 * w1`` into fma(t0, w0, t1 * w1): x0 * w0 is exact in float64 and the sum rounds there first
    (a double rounding that can differ from a true FMA only at an exact float32 tie). Against PyTorch 2.13 on this
    host, linear (3, 1, 23) -> 31: the plain products differed in 9 and 15 of 93 values, this form in none."""
    t = x0.astype(np.float64)
    t *= w0
    t += p1
    return t.astype(np.float32)


def _vectorized_2d(a, sizes):
    """Whether PyTorch's float bilinear runs its channels-last vectorised kernel: a channels-last input of more than 3
    channels, an output whose height + width is at most 128, or 3 channels on one thread."""
    from ...backend import blas_threads
    channels = a.shape[1]
    return (_layout.is_contiguous(a, _layout.channels_last) and channels > 3) or sum(sizes) <= 128 or \
        (channels == 3 and blas_threads() == 1)


_LANES = 8      # float lanes of the kernel's Vectorized (its AVX2 build, which AVX-512 hosts run too)


def _bilinear_vectorized(a, taps_h, taps_w):
    """float32 bilinear as PyTorch's channels-last kernel adds it: the four corner weights h * w rounded first; the
    channels in whole vectors of _LANES as fma(x00, w00, fma(x01, w01, fma(x11, w11, x10 * w10))) (its recursive
    interpolate), the rest by its scalar loop, fma(x11, w11, fma(x10, w10, fma(x00, w00, x01 * w01))) (see _fused_pair
    for the float64 form of each fma). With the one form for all channels, (1, 16, 8, 8) scale 2 differed from
    PyTorch 2.13 in 1709 of 4096 values, (1, 8, 9, 7) in 847 of 2016; now in none."""
    (ih, wh), (iw, ww) = _two_taps(*taps_h), _two_taps(*taps_w)
    rows0, rows1 = np.take(a, ih[:, 0], axis=2), np.take(a, ih[:, 1], axis=2)
    h0, h1 = wh[:, :1], wh[:, 1:]
    w0, w1 = ww[None, :, 0], ww[None, :, 1]
    x00, x01 = np.take(rows0, iw[:, 0], axis=3), np.take(rows0, iw[:, 1], axis=3)
    x10, x11 = np.take(rows1, iw[:, 0], axis=3), np.take(rows1, iw[:, 1], axis=3)
    c = a.shape[1] - a.shape[1] % _LANES
    if c == a.shape[1]:
        return _bilinear_lanes(x00, x01, x10, x11, h0, h1, w0, w1)
    out = _bilinear_scalar(x00, x01, x10, x11, h0, h1, w0, w1)
    if c:
        out[:, :c] = _bilinear_lanes(x00[:, :c], x01[:, :c], x10[:, :c], x11[:, :c], h0, h1, w0, w1)
    return out


def _bilinear_lanes(x00, x01, x10, x11, h0, h1, w0, w1):
    inner = _fused_pair(x11, h1 * w1, x10 * (h1 * w0))
    return _fused_pair(x00, h0 * w0, _fused_pair(x01, h0 * w1, inner))


def _bilinear_scalar(x00, x01, x10, x11, h0, h1, w0, w1):
    out = _fused_pair(x00, h0 * w0, x01 * (h0 * w1))
    out = _fused_pair(x10, h1 * w0, out)
    return _fused_pair(x11, h1 * w1, out)


def _vectorized_3d(a):
    """Whether PyTorch's trilinear runs its channels-last vectorised kernel: a channels-last input of more than 3
    channels."""
    return _layout.is_contiguous(a, _layout.channels_last_3d) and a.shape[1] > 3


def _low_weights(idx, w, dt, linear):
    """Half-precision taps' weights as PyTorch's generic kernel stores them (float32 values of the dtype's): linear's
    lambda1 rounded to the dtype and lambda0 = 1 - lambda1 computed from it and rounded again (rounding float32 1 -
    lambda1 instead left 26 of 90 linear and 427-445 of 882 trilinear values a step off PyTorch 2.13's)."""
    if linear and w.shape[1] == 2:
        w1 = dual.wide(dual.narrow(w[:, 1], dt))
        return idx, np.stack([dual.wide(dual.narrow(np.float32(1) - w1, dt)), w1], 1)
    return idx, dual.wide(dual.narrow(w, dt))


def _two_taps(idx, w):
    """An unchanged axis's copy tap as PyTorch's kernel reads it: the same index twice, weights 1 and 0."""
    if idx.shape[1] == 2:
        return idx, w
    return np.concatenate([idx, idx], 1), np.concatenate([w, np.zeros_like(w)], 1)


def _along_backward(g, axis, n_in, idx, w):
    """The gradient of ``_along`` for array or tensor ``g``: each output's gradient added back at its taps."""
    shape = [1] * g.ndim
    shape[axis] = -1
    if dual.is_array(g):
        if n_in <= _DENSE_MAX and not (idx.shape[1] == 1 and _uniform_runs(idx[:, 0], n_in)):
            return _dense_backward(g, axis, n_in, idx, w)
        out = None
        for k in range(idx.shape[1]):
            part = g if idx.shape[1] == 1 else g * w[:, k].reshape(shape)
            out = _add_runs(out, part, idx[:, k], n_in, axis)
        return out
    from ...ops.creation import zeros
    from ...ops.indexing import index_add
    out_shape = list(g.shape)
    out_shape[axis] = n_in
    out = zeros(out_shape, dtype=g.dtype)
    for k in range(idx.shape[1]):
        part = g if idx.shape[1] == 1 else g * Tensor._make(w[:, k].reshape(shape).astype(g._data.dtype))
        out = index_add(out, axis, Tensor._make(idx[:, k]), part)
    return out


def _add_runs(out, part, idx, n_in, axis):
    """``out`` (None: zeros) plus ``part``'s slices along ``axis`` added at positions ``idx``. Every mode's tap
    indices are nondecreasing, so equal ones form runs, summed in order as np.add.at would: runs of one length f
    that read every input position as f strided slices added in turn, others by np.add.reduceat."""
    if len(idx) > 1 and np.any(idx[1:] < idx[:-1]):
        out = _zeros_along(part, axis, n_in) if out is None else out
        np.add.at(out, (slice(None),) * axis + (idx,), part)
        return out
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    at = idx[starts]
    f = len(idx) // n_in
    if _uniform_runs(idx, n_in):
        head = (slice(None),) * axis
        sums = part[head + (slice(0, None, f),)]
        for r in range(1, f):
            sums = sums + part[head + (slice(r, None, f),)]
    else:
        sums = np.add.reduceat(part, starts, axis=axis) if len(starts) < len(idx) else part
    if out is None and len(at) == n_in:     # every input position read (at is then 0 .. n_in - 1)
        return sums
    out = _zeros_along(part, axis, n_in) if out is None else out
    out[(slice(None),) * axis + (at,)] += sums
    return out


def _upscaled_sums(g, factors):
    """The gradient of an integer nearest upscale by ``factors`` (one a trailing axis): each input value sums its
    block of outputs in their raster order from 0, as PyTorch's loop over the outputs adds them (summed one axis
    after the other, 2x2 blocks put 12% of float32 values a step off); one strided add per block position."""
    lead = (slice(None),) * (g.ndim - len(factors))
    out = None
    for at in itertools.product(*(range(f) for f in factors)):
        part = g[lead + tuple(slice(a, None, f) for a, f in zip(at, factors))]
        if out is None:
            out = part + g.dtype.type(0)     # 0 + g: -0.0 gives +0.0, as PyTorch's
        else:
            out += part
    return out


# gradient values up to which a nearest upscale's backward takes PyTorch's order by default (_upscaled_sums; always
# with the exact kernels): its strided adds cost about what the per-axis sums do up to 2**18, more past it. 2x of
# (N, C, 2H, 2W), min of 10, one thread (us), per-axis -> raster: (4, 16, 32, 32) 105 -> 67, (8, 32, 32, 32) 177 -> 150,
# (8, 64, 64, 64) 1358 -> 1516, (8, 128, 64, 64) 2973 -> 4484
_RASTER_MAX = 1 << 18


def _uniform_runs(idx, n_in):
    """Whether nondecreasing ``idx`` reads 0 .. n_in - 1 each the same number of times (an integer upscale)."""
    f = len(idx) // n_in
    return f * n_in == len(idx) and np.array_equal(idx, np.arange(len(idx)) // f)


def _zeros_along(a, axis, n):
    shape = list(a.shape)
    shape[axis] = n
    return np.zeros(shape, a.dtype)


# Taps go back as one product with the dense (n_out, n_in) weight matrix when the input side is at most _DENSE_MAX
# (all but an integer nearest upscale, which adds strided slices): BLAS's n_in multiply-adds an output beat a pass
# per tap with np.add.at. (8, 64, 32, 32) on one thread, backward (ms) np.add.at -> now: bilinear 2x 65.8 -> 2.5,
# bicubic 139 -> 2.5, nearest to 48x48 24.0 -> 1.5, nearest 2x 35.6 -> 0.9 (PyTorch 5.7, 41.7, 1.4, 1.4).
_DENSE_MAX = 128


def _dense_backward(g, axis, n_in, idx, w):
    """The taps' adjoint along ``axis`` as (n_in, n_out) @ g, on gemm's thread policy: a plain np.matmul over an inner
    axis ran on OpenBLAS's own thread count whatever set_num_threads said (bilinear 2x of (8, 64, 64, 64), forward
    and backward at one thread on the loaded 2-core host: 222 ms of CPU, 62 with OpenBLAS held to one thread)."""
    n_out = idx.shape[0]
    m = np.zeros((n_out, n_in), g.dtype)
    rows = np.arange(n_out)
    for k in range(idx.shape[1]):
        np.add.at(m, (rows, idx[:, k]), w[:, k])
    lead, rest = g.shape[:axis], g.shape[axis + 1:]
    if not rest:
        return gemm(g.reshape(-1, n_out), m).reshape(lead + (n_in,))
    g3 = g.reshape((math.prod(lead), n_out, math.prod(rest)))
    return gemm(m.T, g3).reshape(lead + (n_in,) + rest)


class _UpsampleBackward(Node):
    """Gradient of resampling: back through each axis's taps, first axis first (the forward ran last first).
    ``plain``: where ember._exact is on, (mode, taps) of a float32 bicubic or linear-family resample as PyTorch's
    backward kernel computes them, for _interp_exact's scatter (else None)."""
    __slots__ = ('taps', 'sizes', 'plain')

    def backward(self, g):
        if self.plain is not None and dual.is_array(g):
            kind, taps = self.plain
            return (_interp_exact.backward(kind, g, self.sizes, taps),)
        lead = g.ndim - len(self.taps)
        half = dual.is_array(g) and g.dtype == np.float16
        if half:    # (PyTorch's float16 backward adds in float32 and rounds once, as bf16's)
            g = g.astype(np.float32)
        if len(self.taps) > 1 and dual.is_array(g) and (g.size <= _RASTER_MAX or _exact.enabled()) and all(
                idx.shape[1] == 1 and _uniform_runs(idx[:, 0], n) for (idx, _), n in zip(self.taps, self.sizes)):
            g = _upscaled_sums(g, [len(idx) // n for (idx, _), n in zip(self.taps, self.sizes)])
        else:
            for j, ((idx, w), n_in) in enumerate(zip(self.taps, self.sizes)):
                g = _along_backward(g, lead + j, n_in, idx, w)
        return (g.astype(np.float16) if half else g,)


def _node_class(name, cache={}):
    cls = cache.get(name)
    if cls is None:
        cls = cache[name] = type(name, (_UpsampleBackward,), {'__slots__': ()})
    return cls


_GRAD_FN = {'nearest': 'UpsampleNearest{}DBackward0', 'nearest-exact': 'UpsampleNearestExact{}DBackward0',
            'linear': 'UpsampleLinear1DBackward0', 'bilinear': 'UpsampleBilinear2DBackward0',
            'bicubic': 'UpsampleBicubic2DBackward0', 'trilinear': 'UpsampleTrilinear3DBackward0'}


def _resample(input, sizes, mode, align_corners, scales, antialias):
    a = input._data
    k = len(sizes)
    if a.dtype.kind != 'f' and not (a.dtype == np.uint8 and mode != 'linear' and mode != 'trilinear'):
        kind = ('compute_indices_weights_nearest' if mode.startswith('nearest') else
                'compute_indices_weights_cubic' if mode == 'bicubic' else 'compute_indices_weights_linear')
        raise NotImplementedError(f'"{kind}" not implemented for \'{scalar_name(a.dtype)}\' (interpolate needs a '
                                  'floating point input; convert it with .float())')
    n_in = a.shape[-k:]
    if min(n_in) <= 0 or min(sizes) <= 0:
        def named(v):
            return '(' + ', '.join(f'{d}: {n}' for d, n in zip('DHW'[-k:], v)) + ')'
        raise RuntimeError(f'Input and output sizes should be greater than 0, but got input {named(n_in)}'
                           f"{' and' if k == 1 else ''} output {named(sizes)}")
    if a.dtype == np.uint8 and mode in ('bilinear', 'bicubic'):
        from ._interpolate_uint8 import resample_uint8
        return Tensor._make(_layout.keep_channels_last(a, resample_uint8(a, sizes, mode, align_corners, scales,
                                                                         antialias)))
    ft = _pytorch_float(a.dtype)
    taps = [_taps(ni, no, mode, align_corners, sf, antialias, ft, k) for ni, no, sf in zip(n_in, sizes, scales)]
    out = a if a.dtype.kind == 'f' or mode.startswith('nearest') else a.astype(np.float32)
    low = dual.is_low(a) and (mode == 'bicubic' or mode in _FUSED and not antialias and not (
        mode == 'bilinear' and _vectorized_2d(a, sizes)) and not (mode == 'trilinear' and _vectorized_3d(a)))
    grad_taps = taps    # (the backward's weights, unrounded in every dtype)
    if low:     # PyTorch's half generic kernel: its weights stored in the dtype, the taps combined in float32, rounded once
        taps = [_low_weights(i, w, a.dtype, mode != 'bicubic') for i, w in taps]
        out = dual.wide(a)
    if mode == 'bilinear' and not antialias and a.dtype == np.float32 and _vectorized_2d(a, sizes):
        out = _bilinear_vectorized(a, *taps)
    elif mode == 'bilinear' and not antialias and dual.is_low(a) and _vectorized_2d(a, sizes):
        out = _bf16.cast(_bilinear_vectorized(dual.wide(a), *taps), a.dtype)
    else:
        for j in reversed(range(k)):
            out = _along(out, a.ndim - k + j, *taps[j], fused=_fuses(mode, antialias))
    if low:
        out = _bf16.cast(out, a.dtype)
    elif out.dtype != a.dtype:
        out = np.clip(np.round(out), 0, 255) if a.dtype == np.uint8 else out
        out = out.astype(a.dtype)
    out = _layout.keep_channels_last(a, out)
    if GRAD.enabled and input._requires_grad:
        name = _GRAD_FN[mode].format(k)
        if antialias:
            name = name.replace('Backward0', 'AaBackward0')
        node = _node_class(name)((input,))
        wdt = np.float32 if a.dtype == np.float16 else a.dtype     # (float16's backward runs in float32)
        node.taps, node.sizes, node.plain = [(i, w.astype(wdt)) for i, w in grad_taps], tuple(n_in), None
        if a.dtype == np.float32 and _exact.ON[0] and not antialias and tuple(sizes) != tuple(n_in):
            if mode == 'bicubic':
                node.plain = ('bicubic', [_cubic_taps(ni, no, align_corners, sf, ft, fused=False)
                                          for ni, no, sf in zip(n_in, sizes, scales)])
            elif mode in _FUSED:
                node.plain = ('linear', [_two_taps(*t) for t in taps])
        return Tensor._make(out, node)
    return Tensor._make(out)


def _sizes_and_scales(input, size, scale_factor, recompute_scale_factor):
    """Output sizes and the scale factors the kernel uses (None where it derives them from the sizes)."""
    dims = list(input.shape[2:])
    k = len(dims)
    if size is not None and scale_factor is not None:
        raise ValueError('only one of size or scale_factor should be defined')
    if size is not None:
        if recompute_scale_factor:
            raise ValueError('recompute_scale_factor is not meaningful with an explicit size.')
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * k
        if len(sizes) != k:
            raise ValueError('Input and output must have the same number of spatial dimensions, but got input with '
                             f'spatial dimensions of {dims} and output size of {size}. Please provide input tensor '
                             'in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.')
        return [int(s) for s in sizes], [None] * k
    if scale_factor is None:
        raise ValueError('either size or scale_factor should be defined')
    factors = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * k
    if len(factors) != k:
        raise ValueError('Input and scale_factor must have the same number of spatial dimensions, but got input '
                         f'with spatial dimensions of {dims} and scale_factor of shape {scale_factor}. Please '
                         'provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,'
                         'sK) format.')
    sizes = [math.floor(float(n) * float(f)) for n, f in zip(dims, factors)]
    return sizes, ([None] * k if recompute_scale_factor else [float(f) for f in factors])


@_quiet.quietly
def interpolate(input, size=None, scale_factor=None, mode='nearest', align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of an (N, C, d1, ...) tensor to ``size`` or by ``scale_factor``."""
    if mode in ('nearest', 'area', 'nearest-exact'):
        if align_corners is not None:
            raise ValueError('align_corners option can only be set with the interpolating modes: '
                             'linear | bilinear | bicubic | trilinear')
    elif align_corners is None:
        align_corners = False
    sizes, scales = _sizes_and_scales(input, size, scale_factor, recompute_scale_factor)   # PyTorch's order
    if antialias and not (mode in ('bilinear', 'bicubic') and input.ndim == 4):
        raise ValueError(f'Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D '
                         f'tensor as input, got {mode} mode and {input.ndim}-D input')
    need = _NEEDS.get(mode)
    if mode not in _MODES or input.ndim not in (3, 4, 5) or need is not None and input.ndim != need:
        if mode != 'bicubic' and need is not None and input.ndim in (3, 4, 5):   # PyTorch names these pairs
            raise NotImplementedError(f'Got {input.ndim}D input, but {mode} mode needs {need}D input')
        raise NotImplementedError(f'Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for '
                                  'the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | '
                                  f'nearest-exact (got {mode})')
    if mode == 'area':
        from . import _pool, _pool3d
        if input.ndim == 5:
            return _pool3d.adaptive_avg_pool3d(input, sizes)
        pool = _pool.adaptive_avg_pool1d if input.ndim == 3 else _pool.adaptive_avg_pool2d
        return pool(input, sizes[0] if input.ndim == 3 else sizes)
    return _resample(input, sizes, mode, bool(align_corners), scales, bool(antialias))


def upsample(input, size=None, scale_factor=None, mode='nearest', align_corners=None):
    """Deprecated alias of ``interpolate`` (PyTorch warns)."""
    warnings.warn('`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.', stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(mode='nearest')``."""
    warnings.warn('`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.',
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode='nearest')


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(mode='bilinear', align_corners=True)``."""
    warnings.warn('`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.',
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)
