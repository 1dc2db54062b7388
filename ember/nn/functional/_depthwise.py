"""Depthwise convolution (groups == input channels == output channels: MobileNet's and EfficientNet's 3x3 and 5x5,
ConvNeXt's 7x7) as one multiply-add per kernel tap over a channels-last view, the tap's weights broadcast along
each output row. im2col's grouped path built KH*KW copies of the input and ran one (1, KH*KW) @ (KH*KW, M) product
per channel, and its backward a (KH*KW, 1) @ (1, M) product per channel and a col2im; here each pass is an
elementwise multiply and add over a cache-sized block of output rows of one sample.

Forward y[r, c, :] = sum over taps (i, j) of xp[r*s + i*d, c*s + j*d, :] * w[:, i, j]; the input gradient adds
g * w[:, i, j] into the same strided windows of a zero canvas; the weight gradient's tap (i, j) is the sum over
the pixels of g times that window. Each sample is one unit of work (on _parallel's threads at two threads), and the
weight gradient adds the samples' partial sums in sample order, so the values do not depend on the thread count.
Values differ from PyTorch's by summation order only."""
import numpy as np

from ... import _parallel
from ...backend import strided_view, transposed

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_BLOCK = 256 << 10    # bytes of output rows (OW x C) one pass covers: kept in L2 across the taps' passes


class Saved:
    """What backward reads: the channels-last zero-padded input (N, Hp, Wp, C) (None when the weight's gradient is
    not needed) and the weights tiled along an output row (KH, KW, OW, C)."""
    __slots__ = ('xp', 'wt')

    def __init__(self, xp, wt):
        self.xp, self.wt = xp, wt


def usable(x, w, groups):
    """Whether a conv takes this path: one input and one output channel per group, at least two groups, a
    float32/float64 NumPy input."""
    return groups > 1 and x.shape[1] == groups == w.shape[0] and type(x) is np.ndarray and x.dtype in _DTYPES \
        and w.dtype == x.dtype and x.size > 0


def _tiled(w, ow):
    """(C, 1, KH, KW) weights as (KH, KW, OW, C): each tap's channel vector repeated along an output row, so a
    stride-1 window's (OW, C) run and the weights are both contiguous and NumPy's multiply runs over OW*C at once
    instead of C at a time (MobileNetV2's 384 x 14x14 forward 2.0 -> 1.45 ms, min of 5)."""
    c, _, kh, kw = w.shape
    return np.ascontiguousarray(np.broadcast_to(w.reshape(c, kh, kw).transpose(1, 2, 0)[:, :, None], (kh, kw, ow, c)))


def _row_blocks(o, c, itemsize):
    """(first, last) output rows of the blocks one sample's passes go over."""
    rows = max(1, _BLOCK // max(1, o[1] * c * itemsize))
    return [(r, min(o[0], r + rows)) for r in range(0, o[0], rows)]


def _window(a, r0, r1, i, j, s, d, ow):
    """The rows r0..r1 of tap (i, j)'s strided window of a channels-last (Hp, Wp, C) sample."""
    return a[r0 * s[0] + i * d[0]:(r1 - 1) * s[0] + i * d[0] + 1:s[0], j * d[1]:j * d[1] + (ow - 1) * s[1] + 1:s[1]]


def _taps(a, r0, r1, k, s, d, ow):
    """Every tap's window of rows r0..r1 of a C-contiguous channels-last (Hp, Wp, C) sample, as one read-only
    (KH, KW, rows, OW, C) view."""
    st = a.strides
    return strided_view(a, tuple(k) + (r1 - r0, ow, a.shape[2]),
                        (d[0] * st[0], d[1] * st[1], s[0] * st[0], s[1] * st[1], st[2]), r0 * s[0] * st[0])


def _to_channels_last(a, out, scratch):
    """Sample (C, H, W) copied into the channels-last (H, W, C) ``out`` (a padded canvas's interior) through the
    contiguous ``scratch`` (H*W, C): a 2-D transpose (backend.transposed) and a copy of whole (W, C) rows, where
    NumPy's copy of the transposed view read one element at a time."""
    transposed(a.reshape(a.shape[0], -1), scratch)
    out[...] = scratch.reshape(out.shape)


def forward(x, w, s, d, pads, o):
    """(y, Saved) of the depthwise conv of x (N, C, H, W) with w (C, 1, KH, KW), stride s, dilation d,
    pads ((top, bottom), (left, right)), output size o."""
    n, c, h, wd = x.shape
    (t, b), (l, r) = pads
    kh, kw = w.shape[2:]
    xp = np.zeros((n, h + t + b, wd + l + r, c), x.dtype)
    y = np.empty((n, c) + tuple(o), x.dtype)
    wt = _tiled(w, o[1])
    blocks = _row_blocks(o, c, x.itemsize)

    def part(lo, hi):
        acc = np.empty(tuple(o) + (c,), x.dtype)
        tmp = np.empty((blocks[0][1], o[1], c), x.dtype)
        scratch = np.empty((h * wd, c), x.dtype)
        for k in range(lo, hi):
            _to_channels_last(x[k], xp[k, t:t + h, l:l + wd], scratch)
            for r0, r1 in blocks:
                out, tm = acc[r0:r1], tmp[:r1 - r0]
                np.multiply(_window(xp[k], r0, r1, 0, 0, s, d, o[1]), wt[0, 0], out=out)
                for i in range(kh):
                    for j in range(kw):
                        if i or j:
                            np.multiply(_window(xp[k], r0, r1, i, j, s, d, o[1]), wt[i, j], out=tm)
                            out += tm
            transposed(acc.reshape(-1, c), y[k].reshape(c, -1))
    _parallel.each(part, _parallel.blocks(n, y.nbytes))
    return y, Saved(xp, wt)


def grads(g, saved, s, d, pads, gx, need_w):
    """Weight gradient (C, 1, KH, KW) (None unless need_w) of a depthwise conv, and its input gradient written
    into gx (N, C, H, W) when given. The weight gradient's products and row sums are one einsum over all taps of a
    block (a multiply then a row reduction per tap took 1.6x as long: 102 -> 63 us for a 12x56x96 block, 568 ->
    352 with 7x7 taps), summed over the output columns at the end."""
    n, c = g.shape[:2]
    o = g.shape[2:]
    k = saved.wt.shape[:2]
    xp, wt = saved.xp, saved.wt
    blocks = _row_blocks(o, c, g.itemsize)
    parts = np.zeros((n,) + tuple(k) + (o[1], c), g.dtype) if need_w else None

    def part(lo, hi):
        gl = np.empty(tuple(o) + (c,), g.dtype)
        tmp = np.empty((blocks[0][1], o[1], c), g.dtype)
        sums = np.empty(tuple(k) + (o[1], c), g.dtype)
        if gx is not None:
            h, wd = gx.shape[2:]
            canvas = np.empty((h + pads[0][0] + pads[0][1], wd + pads[1][0] + pads[1][1], c), g.dtype)
            crop = np.empty((h, wd, c), g.dtype)
        for m in range(lo, hi):
            transposed(g[m].reshape(c, -1), gl.reshape(-1, c))
            if gx is not None:
                canvas[...] = 0
            for r0, r1 in blocks:
                gb, tm = gl[r0:r1], tmp[:r1 - r0]
                if need_w:
                    np.einsum('ijrwc,rwc->ijwc', _taps(xp[m], r0, r1, k, s, d, o[1]), gb, out=sums)
                    parts[m] += sums
                if gx is None:
                    continue
                for i in range(k[0]):
                    for j in range(k[1]):
                        np.multiply(gb, wt[i, j], out=tm)
                        win = _window(canvas, r0, r1, i, j, s, d, o[1])
                        win += tm
            if gx is not None:
                crop[...] = canvas[pads[0][0]:pads[0][0] + h, pads[1][0]:pads[1][0] + wd]
                transposed(crop.reshape(-1, c), gx[m].reshape(c, -1))
    _parallel.each(part, _parallel.blocks(n, g.nbytes * (2 if need_w and gx is not None else 1)))
    if not need_w:
        return None
    gw = np.add.reduce(np.add.reduce(parts, 0), 2)
    return np.ascontiguousarray(gw.transpose(2, 0, 1))[:, None]
