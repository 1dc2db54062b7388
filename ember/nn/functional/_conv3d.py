"""``conv3d``: 3-D convolution (cross-correlation) of (N, C, D, H, W) input, as vol2col (one strided slice of the
padded input per kernel offset) and a GEMM per group; backward the GEMMs transposed and the columns' gradient
added back tap by tap; stride-1 ungrouped ones go by depth planes instead (2-D columns, one GEMM per depth tap, see
_planes_usable). ``conv_transpose3d`` is that loop's adjoint: each tap's product scattered into the output.
Both are recorded as ConvolutionBackward0, as in PyTorch; under create_graph=True their gradients are composed of
the two convolutions and pads, so they are differentiable again."""
import itertools

import numpy as np

from ... import _bf16, _layout, _quiet
from ...amp import _state as _autocast
from ...autograd import dual
from ...autograd.grad_mode import GRAD
from ...autograd.graph import Node
from ...backend import gemm
from ...ops import _flop_hook
from ...tensor import Tensor
from . import _conv_twice
from ._conv import (_check_args, _check_channels, _conv_pads, _prep, _tuple, _unbatched, all_meta, empty_channels,
                    meta_result, same_padded)

__all__ = ['conv3d', 'conv_transpose3d']


def _taps(k, s, d, out):
    """For each kernel offset: (its index, the slices of the padded input it reads for every output)."""
    for idx in itertools.product(*(range(ki) for ki in k)):
        yield idx, tuple(slice(i * di, i * di + si * (oi - 1) + 1, si) for i, di, si, oi in zip(idx, d, s, out))


def _plain(a):
    """bfloat16/float16 as native float32 (their products are summed in float and rounded once, as PyTorch)."""
    return np.asarray(a, np.float32) if a.dtype.kind == 'f' and a.dtype.itemsize <= 4 else a


# conv3d as vol2col and one GEMM per group (PyTorch's slow_conv3d does the same): each kernel tap's strided slice of
# the padded input copied into a column block, then (O, C*taps) @ (C*taps, samples*outputs) in the input's float type
# (float32 products summed in float32, as PyTorch's GEMM). Samples go in chunks so the columns stay under
# _COLS_BYTES. The products go through backend.gemm, on set_num_threads's count (np.matmul ran them on OpenBLAS's own
# threads whatever it said). (2, 8, 16, 32, 32) with an 8-channel 3x3x3 kernel, one thread, CPU ms: forward 51 -> 3.1, backward
# 144 -> 21 (per-tap einsums accumulated in float64 before; PyTorch 2.3 and 7.3).
_COLS_BYTES = 64 << 20


def _chunks(n, per_sample):
    """Sample ranges whose columns (``per_sample`` bytes a sample: C * taps * outputs values) fit _COLS_BYTES."""
    step = max(1, _COLS_BYTES // max(per_sample, 1))
    return [(lo, min(n, lo + step)) for lo in range(0, n, step)]


def _columns(xg, k, s, d, out):
    """(groups, C/groups * taps, n * outputs) columns of the grouped padded input xg (n, groups, C/groups, ...)."""
    n, groups, cg = xg.shape[:3]
    taps = int(np.prod(k))
    cols = np.empty((groups, cg, taps, n) + tuple(out), xg.dtype)
    xt = xg.transpose(1, 2, 0, 3, 4, 5)
    for t, (_, sl) in enumerate(_taps(k, s, d, out)):
        cols[:, :, t] = xt[(slice(None),) * 3 + sl]
    return cols.reshape(groups, cg * taps, -1)


def _forward(xp, w, k, s, d, out, groups):
    """(N, O, *out) from the padded input (N, C, ...) and weight (O, C/groups, *k), float16/bfloat16 in float32."""
    n, c = xp.shape[:2]
    o, cg = w.shape[:2]
    xp, w = _plain(xp), _plain(w)
    wg = w.reshape(groups, o // groups, -1)
    xg = xp.reshape((n, groups, cg) + xp.shape[2:])
    size = int(np.prod(out))
    y = np.empty((n, o) + tuple(out), np.result_type(xp.dtype, w.dtype))
    for lo, hi in _chunks(n, c * int(np.prod(k)) * size * xp.itemsize):
        part = gemm(wg, _columns(xg[lo:hi], k, s, d, out))     # (groups, O/groups, m * outputs)
        y[lo:hi] = part.reshape(o, hi - lo, size).transpose(1, 0, 2).reshape((hi - lo, o) + tuple(out))
    return y


# Ungrouped conv3d at depth stride 1 (C3D's, R3D's and 3-D U-Nets' 3x3x3 convs) per sample as 2-D im2col over every
# padded depth plane and one GEMM per depth tap: the columns (C*KH*KW, Dp, OH*OW) of a sample hold each spatial tap
# once, and depth tap i reads planes i*dd .. i*dd + OD - 1 of them, a strided view BLAS takes as it is, so the columns
# are KD times smaller than vol2col's and built with KH*KW copies instead of KD*KH*KW; the output plane is written in
# the (N, O, D, H, W) layout directly. At stride 1 with O <= C the input gradient is the same conv of g padded by the
# kernel's reach less the pads, with the flipped, transposed kernel (no scatter-adds of columns). Values differ from
# vol2col's by summation order (the depth taps' products added after the channels' sums). One thread (OpenBLAS held
# to one thread for both), median of 5 interleaved in one process on the loaded 2-core host, forward / forward and
# backward (ms): (2, 64, 8, 28, 28) 64 -> 64 channels 3x3x3 51.8 -> 39.2 / 218 -> 120, (1, 32, 32, 32, 32) 58.9 ->
# 38.8 / 180 -> 119, (4, 128, 4, 14, 14) 41.7 -> 35.2 / 137 -> 110, (2, 8, 16, 32, 32) 9.5 -> 5.2 / 29.1 -> 16.6,
# stride (1, 2, 2) 32 -> 64 at (2, 32, 16, 56, 56) 54.3 -> 46.6 / 288 -> 155.
def _planes_usable(w, s, groups):
    """Whether a conv3d goes by depth planes (see above): one group, depth stride 1 (at depth stride 2 each depth
    tap's planes are a copy, and vol2col measured as fast: (2, 64, 8, 28, 28) 64 -> 128, 35.2 -> 35.0 ms), at least
    8 input channels (a 3 -> 32 stem at (2, 3, 16, 56, 56) lost, 44.8 -> 51.0: its columns are short)."""
    return groups == 1 and s[0] == 1 and w.shape[1] >= 8


def _by_correlation(w, s, pads, d):
    """Whether the planes path's input gradient is the planes conv of g with the flipped kernel: stride 1, at most
    as many output as input channels (g's columns are then no larger than x's: a 3 -> 32 stem lost, 46 -> 107 ms),
    pads within the kernel's reach; else each depth tap's W^T g is added back onto the planes and the planes'
    spatial taps onto the input (_planes_grad_input)."""
    k = w.shape[2:]
    return all(si == 1 for si in s) and w.shape[0] <= w.shape[1] and \
        all(p <= di * (ki - 1) for pair, di, ki in zip(pads, d, k) for p in pair)


def _spatial(i, j, s, d, out_hw):
    """The (H, W) slices of a padded plane that spatial tap (i, j) reads for every output."""
    return (slice(i * d[1], i * d[1] + s[1] * (out_hw[0] - 1) + 1, s[1]),
            slice(j * d[2], j * d[2] + s[2] * (out_hw[1] - 1) + 1, s[2]))


def _plane_columns(xs, k, s, d, out_hw):
    """(C*KH*KW, Dp, OH*OW) columns of the spatial taps of one padded sample xs (C, Dp, Hp, Wp)."""
    c, dp = xs.shape[:2]
    cols = np.empty((c, k[1], k[2], dp) + tuple(out_hw), xs.dtype)
    for i in range(k[1]):
        for j in range(k[2]):
            cols[:, i, j] = xs[(slice(None), slice(None)) + _spatial(i, j, s, d, out_hw)]
    return cols.reshape(c * k[1] * k[2], dp, out_hw[0] * out_hw[1])


def _depth_slice(i, s, d, od):
    """The padded depth planes depth tap i reads for every output plane."""
    return slice(i * d[0], i * d[0] + s[0] * (od - 1) + 1, s[0])


def _depth_taps(cols, k, s, d, od):
    """Each depth tap's (C*KH*KW, OD*OH*OW) matrix of a sample's plane columns: a view at depth stride 1, a copy
    otherwise."""
    return [cols[:, _depth_slice(i, s, d, od)].reshape(cols.shape[0], -1) for i in range(k[0])]


def _planes_forward(xp, w, s, d, out):
    """(N, O, *out) of the conv of the padded xp (N, C, Dp, Hp, Wp) with w (O, C, KD, KH, KW)."""
    xp, w = _plain(xp), _plain(w)
    k, o = w.shape[2:], w.shape[0]
    wt = np.ascontiguousarray(w.transpose(2, 0, 1, 3, 4)).reshape(k[0], o, -1)
    y = np.empty((xp.shape[0], o) + tuple(out), np.result_type(xp.dtype, w.dtype))
    for n in range(xp.shape[0]):
        yn = y[n].reshape(o, -1)
        for i, v in enumerate(_depth_taps(_plane_columns(xp[n], k, s, d, out[1:]), k, s, d, out[0])):
            if i:
                yn += gemm(wt[i], v)
            else:
                gemm(wt[i], v, out=yn)
    return y


def _planes_grad_input(g, w, s, d, pads, xshape):
    """The input gradient (N, C, D, H, W) of a strided planes conv: per sample, each depth tap's W^T g added onto
    its planes of the columns' gradient, then each spatial tap's block onto its window of the padded input."""
    k, (o, c) = w.shape[2:], w.shape[:2]
    wt = np.ascontiguousarray(w.transpose(2, 0, 1, 3, 4)).reshape(k[0], o, -1)
    padded = [size + lo + hi for size, (lo, hi) in zip(xshape[2:], pads)]
    gx = np.empty(xshape, g.dtype)
    out = g.shape[2:]
    for n in range(g.shape[0]):
        gn = g[n].reshape(o, -1)
        planes = np.zeros((c, k[1], k[2], padded[0]) + tuple(out[1:]), g.dtype)
        flat = planes.reshape(c * k[1] * k[2], padded[0], -1)
        for i in range(k[0]):
            flat[:, _depth_slice(i, s, d, out[0])] += gemm(wt[i].T, gn).reshape(flat.shape[0], out[0], -1)
        canvas = np.zeros((c,) + tuple(padded), g.dtype)
        for i in range(k[1]):
            for j in range(k[2]):
                canvas[(slice(None), slice(None)) + _spatial(i, j, s, d, out[1:])] += planes[:, i, j]
        gx[n] = canvas[(slice(None),) + tuple(slice(lo, lo + size) for (lo, _), size in zip(pads, xshape[2:]))]
    return gx


def _planes_backward(g, x, w, k, s, d, pads, need):
    """(input gradient, weight gradient) of a conv3d that went by depth planes: the input's the planes conv of g
    padded by the reach less the pads with the flipped, transposed kernel where _by_correlation allows, else
    _planes_grad_input; the weight's per depth tap, g times that tap's columns, summed over the samples in order."""
    x, w, g = _plain(x), _plain(w), _plain(g)
    gx = gw = None
    if need[0] and _by_correlation(w, s, pads, d):
        back = [(di * (ki - 1) - lo, di * (ki - 1) - hi) for (lo, hi), di, ki in zip(pads, d, k)]
        wf = np.ascontiguousarray(w[:, :, ::-1, ::-1, ::-1].transpose(1, 0, 2, 3, 4))
        gx = _planes_forward(np.pad(g, [(0, 0), (0, 0)] + back), wf, (1, 1, 1), d, x.shape[2:])
    elif need[0]:
        gx = _planes_grad_input(g, w, s, d, pads, x.shape)
    if need[1]:
        o = w.shape[0]
        gw = np.zeros((k[0], o, w.shape[1] * k[1] * k[2]), g.dtype)
        xp = np.pad(x, [(0, 0), (0, 0)] + list(pads))
        for n in range(x.shape[0]):
            gn = g[n].reshape(o, -1)
            for i, v in enumerate(_depth_taps(_plane_columns(xp[n], k, s, d, g.shape[3:]), k, s, d, g.shape[2])):
                gw[i] += gemm(gn, v.T)
        gw = gw.reshape((k[0], o, w.shape[1], k[1], k[2])).transpose(1, 2, 0, 3, 4)
    return gx, gw


def _backward_arrays(g, x, w, k, s, d, pads, groups, need):
    """(input gradient of the padded input, weight gradient) by the columns: W^T @ g scattered back tap by tap,
    and g @ columns^T. Float16 as PyTorch's slow_conv3d: per sample, W^T @ g rounded to it and each tap's add into
    the input gradient rounded (col2vol), the weight gradient rounded after each sample's product."""
    half = np.float16 if g.dtype == np.float16 else None
    n, o = g.shape[:2]
    cg = w.shape[1]
    x, w, g = _plain(x), _plain(w), _plain(g)
    xp = np.pad(x, [(0, 0), (0, 0)] + pads)
    xg = xp.reshape((n, groups, cg) + xp.shape[2:])
    wg = w.reshape(groups, o // groups, -1)
    out = g.shape[2:]
    size = int(np.prod(out))
    gx = np.zeros((groups, cg, n) + xp.shape[2:], g.dtype) if need[0] else None
    gw = np.zeros(wg.shape, g.dtype) if need[1] else None
    chunks = [(i, i + 1) for i in range(n)] if half else _chunks(n, x.shape[1] * int(np.prod(k)) * size * x.itemsize)
    for lo, hi in chunks:
        g2 = np.ascontiguousarray(g[lo:hi].reshape(hi - lo, groups, o // groups, size).transpose(1, 2, 0, 3))
        g2 = g2.reshape(groups, o // groups, -1)
        if gw is not None:
            gw += gemm(g2, _columns(xg[lo:hi], k, s, d, out).transpose(0, 2, 1))
            if half:
                gw = gw.astype(half).astype(g.dtype)
        if gx is not None:
            cols = gemm(wg.transpose(0, 2, 1), g2).reshape((groups, cg, -1, hi - lo) + tuple(out))
            if half:
                cols = cols.astype(half)
            for t, (_, sl) in enumerate(_taps(k, s, d, out)):
                at = (slice(None), slice(None), slice(lo, hi)) + sl
                if half:
                    gx[at] = (gx[at] + cols[:, :, t]).astype(half)
                else:
                    gx[at] += cols[:, :, t]
    if gx is not None:
        gx = gx.reshape((groups * cg, n) + xp.shape[2:]).transpose(1, 0, 2, 3, 4)
    return gx, gw


class ConvolutionBackward0(Node):
    """Gradients of conv3d: the input's by scattering each tap's contribution back, the weight's by
    contracting each tap's input slice with the output gradient, the bias's by summing."""
    __slots__ = ('cfg', 'need', 'xshape')

    def backward(self, g):
        if not dual.is_array(g):
            x, w = self.saved(True)
            return _conv_twice.record(self, g, self.backward(g._data), _twice(self, x, g.shape), x, w)
        x, w = self.saved(False)
        k, s, d, pads, groups = self.cfg
        if _planes_usable(w, s, groups) and g.dtype != np.float16:
            gx, gw = _planes_backward(g, x, w, k, s, d, pads, self.need)
            gx = None if gx is None else gx.astype(g.dtype, copy=False)
            gw = None if gw is None else gw.astype(w.dtype, copy=False)
            gb = g.sum((0, 2, 3, 4)) if self.need[2] else None
            return gx, (None if gw is None else np.ascontiguousarray(gw)), gb
        gx, gw = _backward_arrays(g, x, w, k, s, d, pads, groups, self.need)
        if gx is not None:
            gx = np.ascontiguousarray(gx[(slice(None), slice(None)) + tuple(
                slice(p[0], p[0] + size) for p, size in zip(pads, self.xshape[2:]))], dtype=g.dtype)
        if gw is not None:
            gw = gw.astype(w.dtype, copy=False)
        gb = g.sum((0, 2, 3, 4)) if self.need[2] else None
        return gx, (None if gw is None else gw.reshape(w.shape)), gb


def _counted(out, x, w, need, transposed=False):
    """``out``, its FLOPs counted while a FlopCounterMode is entered."""
    if _flop_hook.COUNTERS:
        _flop_hook.convolution(x.shape, w.shape, out.shape, transposed, out, need)
    return out


@_autocast.lower_precision
@_quiet.quietly
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (cross-correlation) of (N, C, D, H, W) input with (O, C/groups, KD, KH, KW) weight."""
    x, w, b = _prep(input, weight, bias, 3, 'conv3d', stride, dilation)
    if x.ndim == 4:
        return _unbatched(conv3d, input, weight, bias, stride, padding, dilation, groups)
    k = w.shape[2:]
    s, d = _tuple(stride, 3, 'stride'), _tuple(dilation, 3, 'dilation')
    _check_args(s, d)
    pads = _conv_pads(padding, k, s, d, 3)
    if any(lo != hi for lo, hi in pads):
        xp, p = same_padded(input, pads)
        return conv3d(xp, weight, bias, stride, p, dilation, groups)
    _check_channels(x, w, b, groups, False, 3)
    eff = [size + p[0] + p[1] for size, p in zip(x.shape[2:], pads)]
    if any(e < di * (ki - 1) + 1 for e, ki, di in zip(eff, k, d)):
        raise RuntimeError(f'Calculated padded input size per channel: ({" x ".join(map(str, eff))}). '
                           f'Kernel size: ({" x ".join(str(di * (ki - 1) + 1) for ki, di in zip(k, d))}). '
                           "Kernel size can't be greater than actual input size")
    out = tuple((e - di * (ki - 1) - 1) // si + 1 for e, ki, di, si in zip(eff, k, d, s))
    if x.shape[1] == 0:
        return empty_channels(input, weight, bias, out)
    if all_meta(input, weight, bias):
        return meta_result(input, weight, bias, x.shape[:1] + w.shape[:1] + out)
    xp = np.pad(x, [(0, 0), (0, 0)] + pads)
    y = _planes_forward(xp, w, s, d, out) if _planes_usable(w, s, groups) else \
        _forward(xp, w, k, s, d, out, groups)
    if b is not None:
        y += _plain(b).reshape((1, -1, 1, 1, 1))
    y = _channels_last_3d(y.astype(x.dtype), x, w)
    need = (input._requires_grad, weight._requires_grad, bias is not None and bias._requires_grad)
    if not (GRAD.enabled and any(need)):
        return _counted(Tensor._make(y), x, w, need)
    node = ConvolutionBackward0((input, weight, bias))
    node.cfg, node.need, node.xshape = (k, s, d, pads, groups), need, x.shape
    node.save(input, weight)
    return _counted(Tensor._make(y, node), x, w, need)


def _channels_last_3d(y, x, w):
    """Result ``y`` channels-last (NDHWC) when input ``x`` or weight ``w`` is and PyTorch's oneDNN convolution runs
    (bfloat16, or float32 with more than one sample): its slow 3-D kernels (float64, float16, one float32 sample)
    return C order, as PyTorch 2.13 on this CPU does."""
    if not (_bf16.is_bf16(x.dtype) or (x.dtype == np.float32 and x.shape[0] > 1)):
        return y
    if _layout.suggests_channels_last(x) or _layout.suggests_channels_last(w):
        return _layout.in_format('conv3d', y, _layout.channels_last_3d)
    return y


def _scatter_taps(xg, wg, k, s, d, size, acc, half=None):
    """The transposed convolution's full (uncropped) output (N, groups, O/groups, *size): each tap's product of
    the input (N, groups, C/groups, *i) with weight taps (groups, C/groups, O/groups, *k) added into the strided
    slice of the output it reaches. With ``half`` (float16: PyTorch's slow_conv_transpose3d, its columns a GEMM
    rounded to float16 and col2vol's adds in tap order each rounded: 70 of 192 values off summing in float64), each
    tap's product and each add are rounded to it."""
    n, groups = xg.shape[:2]
    y = np.zeros((n, groups, wg.shape[2]) + tuple(size), acc)
    for idx, sl in _taps(k, s, d, xg.shape[3:]):
        tap = np.einsum('ngcdhw,gco->ngodhw', xg, wg[(Ellipsis,) + idx], optimize=True)
        at = (slice(None),) * 3 + sl
        if half is None:
            y[at] += tap
        else:
            y[at] = (y[at] + tap.astype(half)).astype(half)
    return y


class _TransposedBackward(Node):
    """Gradients of conv_transpose3d: the input's is conv3d of the output gradient (each tap's slice contracted
    with the weight tap), the weight's each tap's input-gradient product, the bias's a sum."""
    __slots__ = ('cfg', 'need')

    def backward(self, g):
        if not dual.is_array(g):
            x, w = self.saved(True)
            return _conv_twice.record(self, g, self.backward(g._data), _twice(self, x, g.shape), x, w)
        x, w = self.saved(False)
        k, s, d, pads, groups, size = self.cfg
        n, cin = x.shape[:2]
        if g.dtype != np.float16:
            return self.backward_arrays(g, x, w)
        # float16 as PyTorch's slow_conv_transpose3d: products in float32 rounded once, the weight's gradient rounded
        # after each sample's (s=2 input gradient: 119 of 162 values off accumulating taps in float16)
        g32, x32, w32 = g.astype(np.float32), x.astype(np.float32), w.astype(np.float32)
        gx, gw, gb = self.backward_arrays(g32, x32, w32)
        if gw is not None and n > 1:
            gw = np.zeros_like(gw)
            for i in range(n):
                gw = (gw + self.backward_arrays(g32[i:i + 1], x32[i:i + 1], w32)[1]).astype(np.float16)
        return tuple(None if a is None else a.astype(np.float16) for a in (gx, gw, gb))

    def backward_arrays(self, g, x, w):
        """(input, weight, bias) gradients from the arrays g, x, w, in their dtype."""
        k, s, d, pads, groups, size = self.cfg
        n, cin = x.shape[:2]
        full = np.zeros(g.shape[:2] + tuple(size), g.dtype)
        full[(slice(None),) * 2 + tuple(slice(p, p + o) for p, o in zip(pads, g.shape[2:]))] = g
        gg = full.reshape((n, groups, g.shape[1] // groups) + tuple(size))
        xg = x.reshape((n, groups, cin // groups) + x.shape[2:])
        wg = w.reshape((groups, cin // groups, w.shape[1]) + tuple(k))
        gx = np.zeros(xg.shape, g.dtype) if self.need[0] else None
        gw = np.zeros(wg.shape, g.dtype) if self.need[1] else None
        for idx, sl in _taps(k, s, d, x.shape[2:]):
            part = gg[(slice(None),) * 3 + sl]
            if gx is not None:
                gx += np.einsum('ngodhw,gco->ngcdhw', part, wg[(Ellipsis,) + idx], optimize=True)
            if gw is not None:
                gw[(Ellipsis,) + idx] = np.einsum('ngcdhw,ngodhw->gco', xg, part, optimize=True)
        gb = g.sum((0, 2, 3, 4)) if self.need[2] else None
        return (None if gx is None else gx.reshape(x.shape)), (None if gw is None else gw.reshape(w.shape)), gb


_TransposedBackward.__name__ = _TransposedBackward.__qualname__ = 'ConvolutionBackward0'


# -- under create_graph=True: the gradients in differentiable ops (as _conv's 2-D _conv_bw_tensors) ---------------
def _twice(node, x, gshape):
    """The node's convolution as differentiable ops, for its gradients recorded under create_graph (_conv_twice);
    ``x`` the saved input, ``gshape`` the output's shape."""
    cfg = node.cfg
    if isinstance(node, _TransposedBackward):
        k, s, d, p, groups, _ = cfg
        op = tuple(o - ((i - 1) * si - 2 * pi + di * (ki - 1) + 1)
                   for o, i, si, pi, di, ki in zip(gshape[2:], x.shape[2:], s, p, d, k))
        return _conv_twice.Conv(lambda a, b, c: conv_transpose3d(a, b, c, s, p, op, groups, d),
                                lambda g, a, b, need: _tconv_grads_graph(g, x if a is None else a, b, cfg, need),
                                stride=s, padding=p, dilation=d, groups=groups, output_padding=op, transposed=True)
    k, s, d, pads, groups = cfg

    p = tuple(lo for lo, _ in pads)
    return _conv_twice.Conv(lambda a, b, c: conv3d(a, b, c, s, p, d, groups), lambda g, a, b, need: _conv_grads_graph(g, a, b, cfg, need, node.xshape), stride=s,
                            padding=p, dilation=d, groups=groups, output_padding=(0, 0, 0),
                            transposed=False)


def _crop_pad(t, lows, highs):
    """``t`` padded (or cropped, where negative) on its last three dims by ``lows`` before and ``highs`` after."""
    from ._pad import pad
    return pad(t, tuple(v for lo, hi in zip(reversed(lows), reversed(highs)) for v in (lo, hi)))


def _weight_grad(a, b, k, s, d, groups):
    """The sum over the batch of b times the windows of a, per group, as a conv3d of a^T with b^T (stride and
    dilation swap roles): (b's channels, a's channels / groups, *k)."""
    from ...ops import cat
    parts = []
    for ag, bg in zip(a.chunk(groups, 1), b.chunk(groups, 1)):
        r = conv3d(ag.transpose(0, 1), bg.transpose(0, 1), None, d, 0, s, 1)
        parts.append(r[:, :, :k[0], :k[1], :k[2]].transpose(0, 1))
    return parts[0] if groups == 1 else cat(parts, 0)


def _conv_grads_graph(g, x, w, cfg, need, xshape):
    """conv3d's gradients: the input's a transposed convolution of g cropped to the input, the weight's the
    padded input correlated with g, the bias's a sum."""
    k, s, d, pads, groups = cfg
    gx = gw = None
    if need[0]:
        gx = conv_transpose3d(g, w, None, s, 0, 0, groups, d)
        gx = _crop_pad(gx, [-p[0] for p in pads],
                       [n + p[0] + p[1] - m - p[1] for n, p, m in zip(xshape[2:], pads, gx.shape[2:])])
    if need[1]:
        gw = _weight_grad(_crop_pad(x, [p[0] for p in pads], [p[1] for p in pads]), g, k, s, d, groups)
    return gx, gw, g.sum(dim=(0, 2, 3, 4)) if need[2] else None


def _tconv_grads_graph(g, x, w, cfg, need):
    """conv_transpose3d's gradients: the input's a convolution of g, the weight's the input correlated with g
    padded back to the uncropped output, the bias's a sum."""
    k, s, d, p, groups, size = cfg
    gx = gw = None
    if need[0]:
        gx = conv3d(g, w, None, s, p, d, groups)[(slice(None),) * 2 + tuple(slice(0, n) for n in x.shape[2:])]
    if need[1]:
        gp = _crop_pad(g, list(p), [full - pi - m for full, pi, m in zip(size, p, g.shape[2:])])
        gw = _weight_grad(gp, x, k, s, d, groups)
    return gx, gw, g.sum(dim=(0, 2, 3, 4)) if need[2] else None


@_autocast.lower_precision
@_quiet.quietly
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution (the gradient of conv3d w.r.t. its input) of (N, C, D, H, W) input with
    (C, O/groups, KD, KH, KW) weight: output size (i - 1) * stride - 2 * padding + dilation * (k - 1) +
    output_padding + 1 per dim."""
    x, w, b = _prep(input, weight, bias, 3, 'conv_transpose3d', stride, dilation, transposed=True)
    if x.ndim == 4:
        return _unbatched(conv_transpose3d, input, weight, bias, stride, padding, output_padding, groups, dilation)
    k = w.shape[2:]
    s, d = _tuple(stride, 3, 'stride'), _tuple(dilation, 3, 'dilation')
    _check_args(s, d)
    p, op = _tuple(padding, 3, 'padding'), _tuple(output_padding, 3, 'output_padding')
    _check_channels(x, w, b, groups, True, 3)
    for o, si, di in zip(op, s, d):
        if o >= si and o >= di:
            raise RuntimeError('output padding must be smaller than either stride or dilation, but got '
                               f'output_padding: {", ".join(map(str, op))}, stride: {", ".join(map(str, s))}, '
                               f'dilation: {", ".join(map(str, d))}')
    out = tuple((i - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
                for i, si, pi, di, ki, oi in zip(x.shape[2:], s, p, d, k, op))
    if any(o <= 0 for o in out):
        raise RuntimeError(f'Given input size per channel: ({" x ".join(map(str, x.shape[2:]))}). Calculated output '
                           f'size per channel: ({" x ".join(map(str, out))}). Output size is too small')
    size = tuple(max((i - 1) * si + di * (ki - 1) + 1, pi + o)
                 for i, si, di, ki, pi, o in zip(x.shape[2:], s, d, k, p, out))
    n, cin = x.shape[:2]
    acc = np.float64 if x.dtype.kind == 'f' and x.dtype.itemsize <= 4 else x.dtype
    xg = _plain(x).reshape((n, groups, cin // groups) + x.shape[2:])
    wg = _plain(w).reshape((groups, cin // groups, w.shape[1]) + tuple(k))
    half = np.float16 if x.dtype == np.float16 else None
    y = _scatter_taps(xg, wg, k, s, d, size, np.float32 if half else acc, half).reshape((n, groups * w.shape[1]) + size)
    y = y[(slice(None),) * 2 + tuple(slice(pi, pi + o) for pi, o in zip(p, out))]
    if b is not None:
        y = y + _plain(b).reshape((1, -1, 1, 1, 1))
    y = _channels_last_3d(np.ascontiguousarray(y.astype(x.dtype)), x, w)
    need = (input._requires_grad, weight._requires_grad, bias is not None and bias._requires_grad)
    if not (GRAD.enabled and any(need)):
        return _counted(Tensor._make(y), x, w, need, True)
    node = _TransposedBackward((input, weight, bias))
    node.cfg, node.need = (k, s, d, p, groups, size), need
    node.save(input, weight)
    return _counted(Tensor._make(y, node), x, w, need, True)
