"""Depthwise convolution (groups == input channels == output channels: MobileNet's and EfficientNet's 3x3 and 5x5,
ConvNeXt's 7x7) as one multiply-add per kernel tap over a channels-last view, the tap's weights broadcast along
each output row. im2col's grouped path built KH*KW copies of the input and ran one (1, KH*KW) @ (KH*KW, M) product
per channel, and its backward a (KH*KW, 1) @ (1, M) product per channel and a col2im; here each pass is an
elementwise multiply and add over a cache-sized block of output rows of one sample.

Forward y[r, c, :] = sum over taps (i, j) of xp[r*s + i*d, c*s + j*d, :] * w[:, i, j]; the input gradient adds
g * w[:, i, j] into the same windows of a zero canvas; the weight gradient's tap (i, j) is the sum over the pixels
of g times that window. The padded input is kept split into its stride phases (padded row r*s + a is row r of
phase a), so every window is a stride-1 block of one phase, its (OW, C) rows contiguous: with stride 2 a window's
rows had C-element runs. In-process A/B against the unsplit version, min of 7, fwd+bwd: MobileNetV2's 96 x 56x56
3x3 stride 2 at batch 8 9.8-10.6 -> 8.7-8.9 ms at one thread, 5.55 -> 5.20 at two; EfficientNet's 240 x 28x28 5x5
stride 2 11.9-12.9 -> 8.4-9.1 and 6.31 -> 4.77; stride 1 unchanged. Each sample is one unit of work (on _parallel's threads at two threads), and the
weight gradient adds the samples' partial sums in sample order, so the values do not depend on the thread count.
Values differ from PyTorch's by summation order only."""
import numpy as np

from ... import _parallel
from ...backend import strided_view, transposed

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_BLOCK = 256 << 10    # bytes of output rows (OW x C) one pass covers: kept in L2 across the taps' passes


class Saved:
    """What backward reads: the channels-last zero-padded input split into stride phases (N, SH, SW, Hq, Wq, C)
    (None when the weight's gradient is not needed; see _split) and the weights tiled along an output row
    (KH, KW, OW, C)."""
    __slots__ = ('xq', 'wt')

    def __init__(self, xq, wt):
        self.xq, self.wt = xq, wt


def usable(x, w, groups):
    """Whether a conv takes this path: one input and one output channel per group, at least two groups, a
    float32/float64 NumPy input."""
    return groups > 1 and x.shape[1] == groups == w.shape[0] and type(x) is np.ndarray and x.dtype in _DTYPES \
        and w.dtype == x.dtype and x.size > 0


def _tiled(w, ow):
    """(C, 1, KH, KW) weights as (KH, KW, OW, C): each tap's channel vector repeated along an output row, so a
    window's (OW, C) run and the weights are both contiguous and NumPy's multiply runs over OW*C at once instead of
    C at a time (MobileNetV2's 384 x 14x14 forward 2.0 -> 1.45 ms, min of 5)."""
    c, _, kh, kw = w.shape
    return np.ascontiguousarray(np.broadcast_to(w.reshape(c, kh, kw).transpose(1, 2, 0)[:, :, None], (kh, kw, ow, c)))


def _row_blocks(o, c, itemsize):
    """(first, last) output rows of the blocks one sample's passes go over."""
    rows = max(1, _BLOCK // max(1, o[1] * c * itemsize))
    return [(r, min(o[0], r + rows)) for r in range(0, o[0], rows)]


def _samples_per_block(o, c, itemsize):
    """Samples whose whole outputs (OH, OW, C) one pass covers at once: as many as fit _BLOCK, at least one (a
    larger sample's output goes by _row_blocks). At small images the passes were NumPy's per-call cost, 17 calls
    per sample for a 3x3 kernel. MobileNetV2's at batch 8, one thread, SkylakeX, min of 9 interleaved (chrt), forward
    / forward and backward (ms, one sample a pass -> several): 960 x 4x4 0.379 -> 0.313 / 1.121 -> 0.933, 576 x 8x8
    stride 2 0.451 -> 0.367 / 1.277 -> 1.060, 384 x 8x8 0.471 -> 0.410 / 1.379 -> 1.236, 192 x 16x16 stride 2 0.515
    -> 0.415 / 1.473 -> 1.217 (Haswell and two threads alike); one sample a pass from 576 x 8x8 stride 1 on."""
    return max(1, _BLOCK // max(1, o[0] * o[1] * c * itemsize))


def _phase_shape(padded, s):
    """(SH, SW, Hq, Wq): the stride phases of a padded (Hp, Wp) plane."""
    return (s[0], s[1], -(-padded[0] // s[0]), -(-padded[1] // s[1]))


def _taps(k, s, d):
    """(i, j, phase (a, b), offset (u, v) in it) of each tap: padded row r*s + i*d is phase a's row r + u."""
    return [(i, j, (i * d[0]) % s[0], (j * d[1]) % s[1], (i * d[0]) // s[0], (j * d[1]) // s[1])
            for i in range(k[0]) for j in range(k[1])]


def _phase_groups(k, s, d):
    """For each phase holding taps: (phase (a, b), the taps' row and column slices of the kernel, their counts,
    the first tap's offset and the phase rows and columns between taps), so that all its taps' windows are one
    strided view (see _group_view)."""
    out = []
    for a in range(s[0]):
        ti = [i for i in range(k[0]) if (i * d[0]) % s[0] == a]
        for b in range(s[1]):
            tj = [j for j in range(k[1]) if (j * d[1]) % s[1] == b]
            if ti and tj:
                di, dj = s[0] // np.gcd(d[0], s[0]), s[1] // np.gcd(d[1], s[1])     # kernel taps between them
                out.append(((a, b), (slice(ti[0], ti[-1] + 1, di), slice(tj[0], tj[-1] + 1, dj)), (len(ti), len(tj)),
                            (ti[0] * d[0] // s[0], tj[0] * d[1] // s[1]), (di * d[0] // s[0], dj * d[1] // s[1])))
    return out


def _group_view(q, r0, r1, group, ow):
    """Every window of rows r0..r1 of one phase group's taps, as one read-only (taps' rows, taps' columns, rows, OW,
    C) view of that phase of q (SH, SW, Hq, Wq, C)."""
    (a, b), _, n, (u, v), (du, dv) = group
    plane = q[a, b]
    st = plane.strides
    return strided_view(plane, n + (r1 - r0, ow, plane.shape[2]), (du * st[0], dv * st[1], st[0], st[1], st[2]),
                        (r0 + u) * st[0] + v * st[1])


def _split(xs, q, pads, s):
    """Channels-last samples xs (M, H, W, C) written into the interiors of their zero-padded phase planes q (M, SH,
    SW, Hq, Wq, C)."""
    (t, _), (l, _) = pads
    for a in range(s[0]):
        r = (a - t) % s[0]                   # first input row of phase a
        u = (r + t) // s[0]
        for b in range(s[1]):
            c = (b - l) % s[1]
            v = (c + l) // s[1]
            part = xs[:, r::s[0], c::s[1]]
            q[:, a, b, u:u + part.shape[1], v:v + part.shape[2]] = part


def _merge(q, pads, s, out):
    """The interiors (M, H, W, C) of phase planes q (M, SH, SW, Hq, Wq, C), written into out: _split's inverse."""
    (t, _), (l, _) = pads
    for a in range(s[0]):
        r = (a - t) % s[0]
        u = (r + t) // s[0]
        for b in range(s[1]):
            c = (b - l) % s[1]
            v = (c + l) // s[1]
            part = out[:, r::s[0], c::s[1]]
            part[...] = q[:, a, b, u:u + part.shape[1], v:v + part.shape[2]]


# Channels from which a forward whose taps all read one phase (stride 1) sums them in one einsum over the phase's
# window view per sample and block (_group_view), instead of a multiply and an add per tap: the same products added
# in the same tap order onto zero, so the same values bit for bit. One thread, median of 9 interleaved in one process
# (ms): ConvNeXt's 7x7 at (8, 384, 14, 14) 10.1 -> 6.5, (8, 768, 7, 7) 4.9 -> 3.5, (8, 96, 56, 56) 35.6 -> 33.8;
# EfficientNet's 5x5 at (8, 240, 28, 28) 13.2 -> 10.1; MobileNetV2's 3x3 (8, 144, 56, 56) 14.9 -> 14.7, (8, 576, 8,
# 8) 1.24 -> 1.10. einsum's inner loop runs along the channels: (8, 64, 32, 32) broke even (3.07 -> 3.09), (8, 32,
# 112, 112) lost (12.2 -> 25.2), so fewer channels keep the per-tap passes.
_ONE_SUM_CHANNELS = 64


def _one_sum(groups, c):
    """Whether the forward sums its taps in one einsum (see _ONE_SUM_CHANNELS)."""
    return len(groups) == 1 and c >= _ONE_SUM_CHANNELS


def forward(x, w, s, d, pads, o):
    """(y, Saved) of the depthwise conv of x (N, C, H, W) with w (C, 1, KH, KW), stride s, dilation d,
    pads ((top, bottom), (left, right)), output size o."""
    n, c, h, wd = x.shape
    (t, b), (l, r) = pads
    kh, kw = w.shape[2:]
    xq = np.zeros((n,) + _phase_shape((h + t + b, wd + l + r), s) + (c,), x.dtype)
    y = np.empty((n, c) + tuple(o), x.dtype)
    wt = _tiled(w, o[1])
    blocks = _row_blocks(o, c, x.itemsize)
    taps = _taps((kh, kw), s, d)
    ow = o[1]
    groups = _phase_groups((kh, kw), s, d)
    one = _one_sum(groups, c)

    def part(lo, hi):
        sb = min(hi - lo, _samples_per_block(o, c, x.itemsize))
        acc = np.empty((sb,) + tuple(o) + (c,), x.dtype)
        tmp = np.empty((sb, blocks[0][1], ow, c), x.dtype)
        scratch = np.empty((sb, h, wd, c), x.dtype)
        for k0 in range(lo, hi, sb):
            m = min(hi, k0 + sb) - k0
            for k in range(m):
                transposed(x[k0 + k].reshape(c, -1), scratch[k].reshape(-1, c))
            q = xq[k0:k0 + m]
            _split(scratch[:m], q, pads, s)
            for r0, r1 in blocks:
                if one:
                    for k in range(m):
                        np.einsum('ijrwc,ijwc->rwc', _group_view(q[k], r0, r1, groups[0], ow), wt, out=acc[k, r0:r1])
                    continue
                out, tm = acc[:m, r0:r1], tmp[:m, :r1 - r0]
                for i, j, a, b, u, v in taps:
                    win = q[:, a, b, r0 + u:r1 + u, v:v + ow]
                    if i or j:
                        np.multiply(win, wt[i, j], out=tm)
                        out += tm
                    else:
                        np.multiply(win, wt[0, 0], out=out)
            for k in range(m):
                transposed(acc[k].reshape(-1, c), y[k0 + k].reshape(c, -1))
    _parallel.each(part, _parallel.blocks(n, y.nbytes))
    return y, Saved(xq, wt)


def grads(g, saved, s, d, pads, gx, need_w):
    """Weight gradient (C, 1, KH, KW) (None unless need_w) of a depthwise conv, and its input gradient written
    into gx (N, C, H, W) when given. The weight gradient's products and row sums are one einsum per phase over its
    taps' windows of a block (a multiply then a row reduction per tap took 1.6x as long: 102 -> 63 us for a 12x56x96
    block, 568 -> 352 with 7x7 taps), summed over the output columns at the end."""
    n, c = g.shape[:2]
    o = g.shape[2:]
    k = saved.wt.shape[:2]
    xq, wt = saved.xq, saved.wt
    blocks = _row_blocks(o, c, g.itemsize)
    parts = np.zeros((n,) + tuple(k) + (o[1], c), g.dtype) if need_w else None
    taps, groups, ow = _taps(k, s, d), _phase_groups(k, s, d), o[1]

    def part(lo, hi):
        sb = min(hi - lo, _samples_per_block(o, c, g.itemsize))
        gl = np.empty((sb,) + tuple(o) + (c,), g.dtype)
        tmp = np.empty((sb, blocks[0][1], o[1], c), g.dtype)
        sums = np.empty(tuple(k) + (o[1], c), g.dtype)
        if gx is not None:
            h, wd = gx.shape[2:]
            canvas = np.empty((sb,) + _phase_shape((h + pads[0][0] + pads[0][1], wd + pads[1][0] + pads[1][1]), s) +
                              (c,), g.dtype)
            crop = np.empty((sb, h, wd, c), g.dtype)
        for k0 in range(lo, hi, sb):
            m = min(hi, k0 + sb) - k0
            for n in range(m):
                transposed(g[k0 + n].reshape(c, -1), gl[n].reshape(-1, c))
            if gx is not None:
                canvas[:m] = 0
            for r0, r1 in blocks:
                gb, tm = gl[:m, r0:r1], tmp[:m, :r1 - r0]
                if need_w:      # each sample's sums apart: the values do not depend on the blocks
                    for n in range(m):
                        for group in groups:
                            into = sums[:group[2][0], :group[2][1]]
                            np.einsum('ijrwc,rwc->ijwc', _group_view(xq[k0 + n], r0, r1, group, ow), gb[n], out=into)
                            parts[(k0 + n,) + group[1]] += into
                if gx is None:
                    continue
                for i, j, a, b, u, v in taps:
                    np.multiply(gb, wt[i, j], out=tm)
                    win = canvas[:m, a, b, r0 + u:r1 + u, v:v + ow]
                    win += tm
            if gx is not None:
                _merge(canvas[:m], pads, s, crop[:m])
                for n in range(m):
                    transposed(crop[n].reshape(-1, c), gx[k0 + n].reshape(c, -1))
    _parallel.each(part, _parallel.blocks(n, g.nbytes * (2 if need_w and gx is not None else 1)))
    if not need_w:
        return None
    gw = np.add.reduce(np.add.reduce(parts, 0), 2)
    return np.ascontiguousarray(gw.transpose(2, 0, 1))[:, None]
