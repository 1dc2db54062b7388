"""Winograd F(4x4, 3x3) for big batches of 3x3 stride-1 convolutions whose output sides are multiples of 4 (MNIST's
unpadded 32 -> 64 channel conv at 26x26, batch 64), a few samples at a time so that each chunk's transformed input V
and products M stay in the cache (as _winograd.forward's chunks). Each tile transform is two small-side GEMMs, one
per tile axis (_both_axes: B^T on the 36 taps of every 6x6 input tile, A^T on the products, A on the output
gradient's 4x4 tiles, B on the input gradient's), a quarter of a Kronecker matrix's multiply-adds, where _winograd4's
separable NumPy passes make about thirty tile-sized passes each. The input gradient is the forward's adjoint (U^T
times the gradient's tiles, then B . B^T and each 6x6 tile added back onto the padded input), so its transforms run
on the forward's tiles and share the gradient's tile transform with the weight gradient, which rebuilds each chunk's
V rather than keep it (the MNIST CNN step, min process CPU of 15 interleaved: 80.3 -> 77.8 ms at one thread, 4,800 ->
3,300 page faults a step: the kept V grew the heap glibc hands back and faults in again every step).

MNIST's conv, batch 64, one thread, min thread CPU time of 20 on a loaded machine: forward and both gradients
48.6 -> 33.3 ms against _winograd's chunked F(2x2, 3x3); chunks of 8 samples (4 MiB of V and M) beat 4 and 16.
Per-axis transforms against Kronecker GEMMs, the backward (both gradients) at one thread, min thread CPU time of 25
interleaved, load 9: 29.7 -> 25.4 ms. Values round as _winograd4's (same points; MNIST's conv: root-mean-square
error 2.8-3.6x PyTorch's)."""
import numpy as np

from ... import _parallel
from ...backend import gemm
from . import _winograd, _winograd4

_MIN_CHANNELS = 32        # input and output channels below which im2col or the per-sample path is left to take it
_CHUNK_BYTES = 4 << 20    # bytes of V and M per chunk (a cache's worth) ...
_CHUNK_FROM = 8 << 20     # ... and a batch's from which this path takes the conv: at least two chunks
_FORWARD_BYTES = 3 << 19  # bytes of V and M per forward chunk (see forward)


def _typed(m):
    """m in float32 and float64, C-contiguous: one axis of a tile transform."""
    return {np.dtype(t): np.ascontiguousarray(m, t) for t in (np.float32, np.float64)}


_BT, _B, _AT, _A = (_typed(m) for m in (_winograd4._BT, _winograd4._BT.T, _winograd4._AT, _winograd4._AT.T))


def _both_axes(t, x):
    """t (k, m) applied to both leading axes of x (m, m, ...): (k, k, ...) = t x t^T per trailing index, as two
    GEMMs (one per axis), a quarter of kron(t, t)'s multiply-adds for 6x6 tiles."""
    k, m = t.shape
    return gemm(t, gemm(t, x.reshape(m, -1)).reshape(k, m, -1))

weight_transform = _winograd4.weight_transform     # U (36, O, I) = G w G^T


class Saved(_winograd.Saved):
    """What backward needs: U and the batch chunks (V is rebuilt per chunk from the input)."""
    __slots__ = ('chunks',)

    def __init__(self, u, chunks):
        super().__init__(u, None)
        self.chunks = chunks


def usable(x, w, s, d, groups, pads):
    """Whether the conv of array x with w takes this path: 3x3, stride 1, no dilation, one group, float32/64,
    output sides multiples of 4, at least _MIN_CHANNELS channels in and out, and a batch of two chunks or more."""
    if w.shape[2:] != (3, 3) or s != (1, 1) or d != (1, 1) or groups != 1 or x.dtype not in _BT:
        return False
    o = (x.shape[2] + sum(pads[0]) - 2, x.shape[3] + sum(pads[1]) - 2)
    if o[0] <= 0 or o[1] <= 0 or o[0] % 4 or o[1] % 4 or min(w.shape[:2]) < _MIN_CHANNELS:
        return False
    return x.shape[0] * _sample_bytes(x, w.shape[0] + w.shape[1], o) >= _CHUNK_FROM


def _sample_bytes(x, channels, o):
    """Bytes of V and M per sample."""
    return 36 * channels * (o[0] // 4) * (o[1] // 4) * x.itemsize


def chunks(x, channels, o, nbytes=None):
    """Batch slices of about ``nbytes`` (_CHUNK_BYTES when None) of V and M each."""
    n = x.shape[0]
    step = max(1, (_CHUNK_BYTES if nbytes is None else nbytes) // _sample_bytes(x, channels, o))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def _split(x, top, left, th, tw):
    """(N, C, H, W) -> its zero-padded (4*th+2, 4*tw+2) canvas as (C, 4*th+2, 4, tw+1, N), padded column 4*j+r at
    [:, :, r, j]: a tile tap's columns over all tiles are then a block of long contiguous runs."""
    n, c, h, w = x.shape
    q = np.empty((c, 4 * th + 2, 4, tw + 1, n), x.dtype)
    q[:, :top] = 0
    q[:, top + h:] = 0
    xt = x.transpose(1, 2, 3, 0)
    for r in range(4):
        c0 = (r - left) % 4         # the first input column whose padded column is r mod 4, in block j0
        j0, cnt = (c0 + left) // 4, len(range(c0, w, 4))
        q[:, top:top + h, r, :j0] = 0
        q[:, top:top + h, r, j0 + cnt:] = 0
        q[:, top:top + h, r, j0:j0 + cnt] = xt[:, :, c0::4]
    return q


def _input_transform(x, top, left, th, tw):
    """B^T d B of every 6x6 tile (stride 4) of x padded by top/left: V (36, C, th*tw*N)."""
    n, c = x.shape[:2]
    q = _split(x, top, left, th, tw)
    taps = np.empty((6, 6, c, th, tw, n), x.dtype)
    for a in range(6):
        for b in range(6):
            taps[a, b] = q[:, a:a + 4 * th:4, b % 4, b // 4:b // 4 + tw]
    return _both_axes(_BT[x.dtype], taps).reshape(36, c, -1)


def _sample_taps(x, top, left, th, tw):
    """The 36 taps of every 6x6 input tile (stride 4) of x (N, C, H, W) padded by top/left, sample-major:
    (6, 6, C, N, th, tw), each tap a strided slice of the (zero-padded) input."""
    n, c, h, w = x.shape
    xt = x.transpose(1, 0, 2, 3)
    if top or left or h != 4 * th + 2 or w != 4 * tw + 2:
        xt = np.zeros((c, n, 4 * th + 2, 4 * tw + 2), x.dtype)
        xt[:, :, top:top + h, left:left + w] = x.transpose(1, 0, 2, 3)
    taps = np.empty((6, 6, c, n, th, tw), x.dtype)
    for a in range(6):
        for b in range(6):
            taps[a, b] = xt[:, :, a:a + 4 * th:4, b:b + 4 * tw:4]
    return taps


def _conv_chunk(x, u, bias, top, left, out):
    """One forward chunk's conv (plus bias, when not None) into out, its tile columns sample-major (N, th, tw).
    Each tile transform is two small-side products, one per axis (B^T on the taps' rows, then on their columns;
    A^T alike), where kron(B^T, B^T) and kron(A^T, A^T) cost four times the multiply-adds; the output's second
    product puts the tile's column innermost, so that its rows reach out as runs of 4 * tw values in one copy (the
    transposing scatter of 16 strided planes took a quarter of the chunk)."""
    n, o, h, w = out.shape
    th, tw = h // 4, w // 4
    bt, at, a = _BT[x.dtype], _AT[x.dtype], _A[x.dtype]
    v = _both_axes(bt, _sample_taps(x, top, left, th, tw)).reshape(36, x.shape[1], -1)
    y1 = gemm(at, gemm(u, v).reshape(6, -1)).reshape(4, 6, -1)     # A^T on the products' tile rows
    y = np.empty((4, y1.shape[2], 4), y1.dtype)
    for p in range(4):
        gemm(y1[p].T, a, out=y[p])
    if bias is not None:
        y.reshape(4, o, -1)[...] += bias[:, None]
    out.reshape(n, o, th, 4, 4 * tw)[...] = y.reshape(4, o, n, th, 4 * tw).transpose(2, 1, 3, 0, 4)


def forward(x, u, bias, top, left, out):
    """conv of x (N, C, H, W) with transformed weights u (36, O, C), plus bias (O,) when not None, padded by
    top/left, written into out (N, O, OH, OW) chunk by chunk, the chunks on ember._parallel's threads; returns
    what backward needs (its chunks are of _CHUNK_BYTES). The forward's chunks are smaller, _FORWARD_BYTES (1.5
    MiB: MNIST's 3 samples), than the backward's: MNIST's conv, one thread, thread CPU time per sample, min of 40
    on the loaded machine (us): chunks of 1, 2, 3, 4, 6 samples 186, 167, 155, 167, 175 (8: 196); the kron form
    in chunks of 8: 242."""
    channels = u.shape[1] + u.shape[2]
    parts = chunks(x, channels, out.shape[2:], _FORWARD_BYTES)
    _parallel.each(lambda sl: _conv_chunk(x[sl], u, bias, top, left, out[sl]), [(sl,) for sl in parts])
    return Saved(u, chunks(x, channels, out.shape[2:]))


def _grad_tiles(g):
    """A g A^T of every 4x4 tile of g (N, O, 4*th, 4*tw): (36, O, th*tw*N)."""
    planes = _winograd4.tile_planes(g)
    return _both_axes(_A[g.dtype], planes).reshape(36, g.shape[1], -1)


def _input_grad(gv, top, left, th, tw, out):
    """Adjoint of _input_transform: B gV B^T of every tile, added up on the padded canvas (split as _split's),
    cropped into out (N, C, H, W), given gV (36, C, th*tw*N)."""
    n, c, h, w = out.shape
    taps = _both_axes(_B[gv.dtype], gv).reshape(6, 6, c, th, tw, n)
    q = np.empty((c, 4 * th + 2, 4, tw + 1, n), gv.dtype)
    q[:, 4 * th:] = 0
    q[:, :4 * th, :, tw] = 0
    for a in range(6):          # taps 0-3 of each axis cover the canvas once; 4 and 5 overlap the next tile's
        for b in range(6):
            dst = q[:, a:a + 4 * th:4, b % 4, b // 4:b // 4 + tw]
            if a < 4 and b < 4:
                dst[...] = taps[a, b]
            else:
                dst += taps[a, b]
    for r in range(4):
        c0 = (r - left) % 4
        j0 = (c0 + left) // 4
        out[:, :, :, c0::4] = q[:, top:top + h, r, j0:j0 + len(range(c0, w, 4))].transpose(3, 0, 1, 2)


def grads(g, x, saved, top, left, gx, wshape):
    """Gradients of a conv of x that took this path, chunk by chunk on ember._parallel's threads: the input's
    written into gx (when not None), the weight's returned (when x is not None). A chunk's gradient tiles feed both
    products; the weight's partial sums add up in chunk order, whatever the thread count."""
    if gx is None and x is None:
        return None
    th, tw = g.shape[2] // 4, g.shape[3] // 4
    ut = None if gx is None else np.ascontiguousarray(saved.u.transpose(0, 2, 1))

    def chunk(sl):
        gh = _grad_tiles(g[sl])
        if gx is not None:
            _input_grad(gemm(ut, gh), top, left, th, tw, gx[sl])
        if x is not None:
            # V^T copied C-contiguous: OpenBLAS's small-matrix kernels (SkylakeX) take a transposed right operand
            # by a slower path (MNIST's chunk of 8, min of 30: 0.71 ms with the view, 0.39 + 0.12 for the copy)
            return gemm(gh, np.ascontiguousarray(_input_transform(x[sl], top, left, th, tw).transpose(0, 2, 1)))
    gu = _winograd.chunk_sum(chunk, saved.chunks)
    if x is None:
        return None
    return gemm(gu.reshape(36, -1).T, _winograd4._KW[g.dtype]).reshape(wshape)     # G^T gu G per (o, i)
