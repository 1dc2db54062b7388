"""Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions with padding 1 on images whose sides are multiples
of 4 (Lavin & Gray, 2015; interpolation points 0, +-3/2, +-2/3, see _P): each 4x4 output tile is A^T [(G w G^T) * (B^T d B)] A of its
6x6 input tile d, so the products become 36 GEMMs with 36 multiplies per 16 outputs, where F(2x2, 3x3)
(_winograd) needs 64 and im2col 144. The input gradient is the same convolution of the output gradient
with the flipped, transposed kernel; the weight gradient is G^T [sum over tiles of (A g A^T) * (B^T d B)] G,
36 GEMMs against the transformed input kept from the forward pass. The Winograd-domain sums' rounding
errors are magnified on the way back through A^T, so float32 values are less accurate than a direct sum's:
on ResNet-18's shapes the root-mean-square error against float64 is 3.6-4.9x PyTorch's (F(2x2, 3x3): 2.3x).

Against F(2x2, 3x3), batch 8, one thread, min thread CPU time of 20 (ms, forward / input / weight gradient):
64x32x32 5.94 / 5.78 / 4.28 -> 4.85 / 5.04 / 3.27, 128x16x16 4.48 / 4.34 / 3.08 -> 3.36 / 3.12 / 2.29; at
256x8x8 (32 tiles) it lost. The ResNet-18 step at one thread (min thread CPU time of 15): 300 -> 254 ms.

Arrays are in _conv's batch-innermost layout; the padded input's columns are split by their residue
mod 4, so that each column tap of a tile is a block slice of long contiguous runs."""
import numpy as np

from ... import _parallel
from ...backend import gemm
from . import _winograd

_MIN_CHANNELS = 64    # input and output channels below which F(2x2, 3x3) or im2col is faster ...
_FEW_CHANNELS = 32    # ... except from this many at one thread for a small batch (see _few_channels)
_FEW_BYTES = 8 << 20  # ... one whose V and M stay under this many bytes (where _winograd4_chunked starts) ...
_FEW_BATCH, _FEW_BATCH_BYTES = 12, 16 << 20    # ... or of at most this many samples, V and M under this many
_FEW_TILES_SPLIT = 512   # ... and at more threads, at least this many tile columns (tiles x batch)
_MIN_TILES = 128      # tile columns (4x4 tiles x batch) below which the 36 products are too small to gain

# Interpolation points 0, +-3/2, +-2/3 and infinity (Barabasz et al. 2020, "Error analysis and improving the
# accuracy of Winograd convolution for deep neural networks"): the Winograd-domain products' rounding errors
# reach the output through A^T, whose columns are powers of the points, and with these points no tile position
# dominates them. Against Lavin's 0, +-1, +-2 the float32 forward's max error on ResNet-18's shapes went from
# 20-38x PyTorch's to 5-11x (64x32x32 batch 4, 128x16x16 and 256x8x8 batch 8), as simulated over every pair
# {+-a, +-b} of the 19 magnitudes 1/3 .. 3 with small denominators. Rows of B^T and columns of A^T are scaled
# to dyadic coefficients (exact in float32); G takes the scales (U in float64, rounded once, measured no better).
_P = (0, 3 / 2, -3 / 2, 2 / 3, -2 / 3)
_AT = np.array([[1, 1, 1, 27 / 8, 27 / 8, 0], [0, 3 / 2, -3 / 2, 9 / 4, -9 / 4, 0],
                [0, 9 / 4, 9 / 4, 3 / 2, 3 / 2, 0], [0, 27 / 8, -27 / 8, 1, -1, 1]])
_BT = np.array([[9 / 4, 0, -97 / 16, 0, 9 / 4, 0], [0, -3 / 2, -1, 27 / 8, 9 / 4, 0], [0, 3 / 2, -1, -27 / 8, 9 / 4, 0],
                [0, -9 / 4, -27 / 8, 1, 3 / 2, 0], [0, 9 / 4, -27 / 8, -1, 3 / 2, 0], [0, 9 / 4, 0, -97 / 16, 0, 9 / 4]])
_A_SCALE = (1, 1, 1, 27 / 8, 27 / 8)      # A^T's column j is point j's powers times this
_B_SCALE = (9 / 4, 9 / 4, 9 / 4, 3 / 2, 3 / 2)   # B^T's row j is prod over the other points k of (x - p_k) times this


def _g():
    """G (6, 3): point p's row (1, p, p^2) / prod over the other points q of (p - q), over A^T's column scale
    and B^T's row scale; infinity's row (0, 0, 1) * 4/9 (B^T's last row is 9/4 times the points' polynomial)."""
    rows = [np.array([1, p, p * p]) / np.prod([p - q for q in _P if q != p]) / (a * b)
            for p, a, b in zip(_P, _A_SCALE, _B_SCALE)]
    return np.array(rows + [[0, 0, 4 / 9]])


_G = _g()
_KW = {np.dtype(t): np.kron(_G, _G).astype(t) for t in (np.float32, np.float64)}   # (36, 9): w -> G w G^T


class Saved(_winograd.Saved):
    """What backward needs, marked as this transform's: V or None. U is not kept (the input gradient
    transforms the flipped kernel afresh: G J is not a row permutation of G here)."""
    __slots__ = ()

    def __init__(self, u, v):
        super().__init__(None, v)


def usable(x, w, s, d, groups, pads):
    """Whether the conv of array x with w takes this path: 3x3, stride 1, padding 1, no dilation, one group,
    sides multiples of 4, float32/64, enough channels and tiles."""
    if w.shape[2:] != (3, 3) or s != (1, 1) or d != (1, 1) or groups != 1 or x.dtype not in _KW:
        return False
    if tuple(pads[0]) != (1, 1) or tuple(pads[1]) != (1, 1) or x.shape[2] % 4 or x.shape[3] % 4:
        return False
    if x.shape[2] * x.shape[3] // 16 * x.shape[0] < _MIN_TILES:
        return False
    return min(w.shape[:2]) >= _MIN_CHANNELS or _few_channels(x, w)


def _few_channels(x, w):
    """Whether a conv with 32 to 63 channels in or out takes this path: for a batch whose V and M (36 x tiles x the
    input's and output's channels) stay under _FEW_BYTES (a larger batch goes to _winograd4_chunked), at more than
    one thread only from _FEW_TILES_SPLIT tile columns. There im2col's products have a short side of 32-63
    (OpenBLAS ran (288, 32) @ (32, 3072) at 120 GFLOP/s, (32, 288) @ (288, 8192) at 190) and its input gradient
    adds the columns back (col2im); F(4x4, 3x3) does 4x fewer multiplies. Forward + both gradients, min of 10-12
    interleaved (ms, im2col -> this path), SkylakeX one thread: 32 -> 32 at 32x32 batch 8 5.07 -> 2.84, 64 -> 32
    at 32x32 9.63 -> 6.07, 32 -> 32 at 16x16 batch 16 2.29 -> 1.61, 48 -> 48 at 16x16 batch 8 1.93 -> 1.41
    (Haswell kernels 5.95 -> 3.42, 10.84 -> 5.92, 2.48 -> 1.84, 2.46 -> 1.61). At two threads im2col's batch parts
    share out better below 512 tile columns (32 -> 32 at 32x32 batch 6 (384) 2.00 against 2.24, at 16x16 batch 16
    (256) 1.25 against 1.90) and this path wins from there (batch 8 (512) 3.74 -> 2.55, batch 12 5.02 -> 3.53,
    64 -> 32 4.68 -> 3.88; Haswell 4.36 -> 2.91, 5.96 -> 3.97, 5.77 -> 4.07). _winograd4_chunked's cache-sized
    chunks pay from a batch of 16 (32 -> 32 at 32x32 batch 16 4.89 against 5.28 here at two threads), and lose
    below with wide inputs (a U-Net's 96 -> 32 at 32x32 batch 8, V and M 9.4 MiB, 11.47 -> 8.33 at one thread,
    7.56 -> 5.51 at two; 128 -> 32 15.86 -> 10.44; 96 -> 32 batch 12 15.16 -> 12.32), hence _FEW_BATCH."""
    th, tw = x.shape[2] // 4, x.shape[3] // 4
    if min(w.shape[:2]) < _FEW_CHANNELS or _parallel.threads() > 1 and th * tw * x.shape[0] < _FEW_TILES_SPLIT:
        return False
    nbytes = x.shape[0] * 36 * (w.shape[0] + w.shape[1]) * th * tw * x.itemsize
    return nbytes < _FEW_BYTES or x.shape[0] <= _FEW_BATCH and nbytes < _FEW_BATCH_BYTES


def weight_transform(w):
    """G w G^T of every (out, in) kernel of w (O, I, 3, 3): U (36, O, I), one GEMM with kron(G, G)."""
    o, i = w.shape[:2]
    return gemm(_KW[w.dtype], w.reshape(o * i, 9).T).reshape(36, o, i)


def _bt(d, out, tmp):
    """B^T along one axis: its six rows into out[0..5] from the taps d[0..5] (arrays of tmp's shape). With z =
    9/4 d2, E = 9/4 d4 - d2 and O = 3/2 (9/4 d3 - d1): rows 1 and 2 are E +- O; rows 3 and 4 are 3/2 (d4 - z)
    +- (d3 - 9/4 d1); row 0 is 9/4 (d0 - z) + E and row 5 9/4 (d5 - 9/4 d3) - (d3 - 9/4 d1), each sharing
    the others' terms (20 passes)."""
    np.multiply(d[2], 9 / 4, out=out[0])
    np.subtract(d[4], out[0], out=out[3])
    np.subtract(d[0], out[0], out=out[0])
    out[0] *= 9 / 4
    np.multiply(d[4], 9 / 4, out=out[1])
    out[1] -= d[2]
    out[0] += out[1]
    out[3] *= 3 / 2
    np.multiply(d[3], 9 / 4, out=tmp)
    np.subtract(d[5], tmp, out=out[5])
    tmp -= d[1]
    tmp *= 3 / 2
    np.subtract(out[1], tmp, out=out[2])
    out[1] += tmp
    np.multiply(d[1], 9 / 4, out=tmp)
    np.subtract(d[3], tmp, out=tmp)
    out[5] *= 9 / 4
    out[5] -= tmp
    np.subtract(out[3], tmp, out=out[4])
    out[3] += tmp


def _at(m, out, tmp, tmp2):
    """A^T along one axis: its four rows into out[0..3] from m[0..5] (arrays of tmp's shape): with s1, d1 =
    m1 +- m2 and s2, d2 = m3 +- m4, m0 + s1 + 27/8 s2, 3/2 d1 + 9/4 d2, 9/4 s1 + 3/2 s2, 27/8 d1 + d2 + m5."""
    np.add(m[1], m[2], out=out[0])
    np.subtract(m[1], m[2], out=out[1])
    np.add(m[3], m[4], out=tmp)
    np.subtract(m[3], m[4], out=tmp2)
    np.multiply(out[0], 9 / 4, out=out[2])
    out[0] += m[0]
    np.multiply(out[1], 27 / 8, out=out[3])
    out[3] += tmp2
    out[3] += m[5]
    out[1] *= 3 / 2
    tmp2 *= 9 / 4
    out[1] += tmp2
    np.multiply(tmp, 3 / 2, out=tmp2)
    out[2] += tmp2
    tmp *= 27 / 8
    out[0] += tmp


def _a(g, out, tmp):
    """A along one axis: its six rows into out[0..5] from g[0..3] (arrays of tmp's shape): g0, (g0 + 9/4 g2)
    +- 3/2 (g1 + 9/4 g3), 3/2 (9/4 g0 + g2) +- (9/4 g1 + g3), g3."""
    out[0][...] = g[0]
    out[5][...] = g[3]
    np.multiply(g[2], 9 / 4, out=out[1])
    out[1] += g[0]
    np.multiply(g[3], 9 / 4, out=tmp)
    tmp += g[1]
    tmp *= 3 / 2
    np.subtract(out[1], tmp, out=out[2])
    out[1] += tmp
    np.multiply(g[0], 9 / 4, out=out[3])
    out[3] += g[2]
    out[3] *= 3 / 2
    np.multiply(g[1], 9 / 4, out=tmp)
    tmp += g[3]
    np.subtract(out[3], tmp, out=out[4])
    out[3] += tmp


def _input_transform(x, out):
    """B^T d B of every 6x6 tile (stride 4) of x (N, C, H, W) padded by 1, into out (6, 6, C, th, tw, N)."""
    n, c, h, w = x.shape
    th, tw = h // 4, w // 4
    q = np.zeros((c, h + 2, 4, tw + 1, n), x.dtype)      # padded column 4j + r at [:, :, r, j]
    xt = x.transpose(1, 2, 3, 0)
    for r in range(4):
        c0 = (r - 1) % 4
        j0, cnt = (c0 + 1) // 4, len(range(c0, w, 4))
        q[:, 1:1 + h, r, j0:j0 + cnt] = xt[:, :, c0::4]
    rows = np.empty((6, c, th, 4, tw + 1, n), x.dtype)
    _bt([q[:, a:a + 4 * th:4] for a in range(6)], rows, np.empty(rows.shape[1:], x.dtype))
    cols = [rows[:, :, :, b % 4, b // 4:b // 4 + tw] for b in range(6)]
    _bt(cols, [out[:, b] for b in range(6)], np.empty(out.shape[:1] + out.shape[2:], x.dtype))


def _output_transform(m, out):
    """A^T m A of every tile of M (36, O, th*tw*N), written into out (N, O, 4*th, 4*tw)."""
    n, o, h, w = out.shape
    th, tw = h // 4, w // 4
    m = m.reshape(6, 6, o, th, tw, n)
    rows = np.empty((4, 6, o, th, tw, n), m.dtype)
    tmp = np.empty((2,) + rows.shape[1:], m.dtype)
    _at(m, rows, tmp[0], tmp[1])
    y = np.empty((4, 4, o, th, tw, n), m.dtype)
    _at([rows[:, b] for b in range(6)], [y[:, q] for q in range(4)], tmp[0, :4], tmp[1, :4])
    for p in range(4):
        for q in range(4):
            out[:, :, p::4, q::4] = y[p, q].transpose(3, 0, 1, 2)


def conv(x, u, top, left, out):
    """conv of x (N, C, H, W) with transformed weights u (36, O, C), padded by 1 (top = left = 1: _winograd's
    interface), written into out (N, O, H, W); returns V, the transformed input. Split across threads as
    _winograd.conv."""
    v = _transform_input(x)
    _products_out(u, v, out)
    return v


def forward(x, w, out):
    """conv of x (N, C, H, W) with w (O, C, 3, 3), padded by 1, written into out; returns what backward needs.
    U = weight_transform(w) is made beside V's channel blocks (_parallel.beside), on one BLAS thread: at two
    threads that product of K = 9 ran alone before them (OpenBLAS kept it on one thread, or at 256 channels split
    it and rounded otherwise than at one thread with Haswell kernels). Conv forward, batch 8, 2 threads, min of
    100-150 interleaved at real-time priority on the loaded machine, two runs (us): SkylakeX kernels 64x32x32
    1939 -> 1854, 1932 -> 1886; 128x16x16 1536 -> 1439, 1617 -> 1500; F(2x2)'s 256x8x8 (_winograd.forward) 1338
    -> 1208, 1379 -> 1253; Haswell kernels 1929 -> 1878, 1974 -> 1932; 1518 -> 1491, 1563 -> 1509; 1633 -> 1575,
    1673 -> 1610. One thread: the same calls in the same order."""
    u, v = _transform_input(x, lambda: weight_transform(w))
    _products_out(u, v, out)
    return Saved(None, v)


def _transform_input(x, first=None):
    """V (36, C, th*tw*N) of x (N, C, H, W) padded by 1: split by channel; with ``first``, (first(), V), first()
    run beside the channel blocks (_parallel.beside)."""
    n, c, h, w = x.shape
    v = np.empty((6, 6, c, h // 4, w // 4, n), x.dtype)

    def block(lo, hi):
        _input_transform(x[:, lo:hi], v[:, :, lo:hi])
    if first is None:
        _parallel.run(block, c, v.nbytes)
        return v.reshape(36, c, -1)
    return _parallel.beside(first, block, c, v.nbytes), v.reshape(36, c, -1)


def _transform_output(m, out):
    """A^T m A of the products M (36, O, th*tw*N) into out (N, O, H, W): split by channel."""
    _parallel.run(lambda lo, hi: _output_transform(m[:, lo:hi], out[:, lo:hi]), m.shape[1], m.nbytes)


def _products_out(u, v, out):
    """_transform_output(_winograd._products(u, v), out), the products and the transform in one share-out
    (_winograd.products_then)."""
    _winograd.products_then(u, v, lambda m, lo, hi: _output_transform(m, out[:, lo:hi]))


def _flipped(w):
    """U of w flipped in both spatial dims and transposed: the input gradient's conv weights."""
    return weight_transform(np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]))


def grad_input(g, w, out):
    """Gradient w.r.t. the input (written into out) of the conv with weights w, given its output gradient g:
    the conv of g with w flipped in both spatial dims and transposed."""
    conv(g, _flipped(w), 1, 1, out)


def grads(g, w, v, gx):
    """Both gradients from the output gradient g and the forward's V: the input's written into gx, the weight's
    returned; side by side at more than one thread (see _winograd.side_grads)."""
    if not _parallel.side_by_side_pays(g.nbytes + v.nbytes):
        gw = grad_weight(g, v, w.shape)      # in this order, as before side_grads
        grad_input(g, w, gx)
        return gw
    return _winograd.side_grads(lambda: (_flipped(w), _transform_input(g)), lambda: grad_weight(g, v, w.shape),
                                w.shape[1], lambda m, lo, hi: _output_transform(m, gx[:, lo:hi]))


def tile_planes(g):
    """The 16 phases of g (N, O, 4*th, 4*tw) as (4, 4, O, th, tw, N): planes[p, q] = g[:, :, p::4, q::4], tiles last
    by sample so the transforms run as products over every tile."""
    n, o, h, w = g.shape
    planes = np.empty((4, 4, o, h // 4, w // 4, n), g.dtype)
    gt = g.transpose(1, 2, 3, 0)
    for p in range(4):
        for q in range(4):
            planes[p, q] = gt[:, p::4, q::4]
    return planes


def _grad_tiles(g, out):
    """A g A^T of every 4x4 tile of g (N, O, 4*th, 4*tw), into out (6, 6, O, th, tw, N)."""
    planes = tile_planes(g)
    rows = np.empty((6, 4) + planes.shape[2:], g.dtype)
    _a(planes, rows, np.empty(rows.shape[1:], g.dtype))
    _a([rows[:, q] for q in range(4)], [out[:, b] for b in range(6)], np.empty(out.shape[:1] + out.shape[2:], g.dtype))


def grad_weight(g, v, wshape):
    """Gradient w.r.t. w (O, I, 3, 3) from the output gradient g (N, O, H, W) and the forward's V."""
    n, o, h, w = g.shape
    gh = np.empty((6, 6, o, h // 4, w // 4, n), g.dtype)
    _parallel.run(lambda lo, hi: _grad_tiles(g[:, lo:hi], gh[:, :, lo:hi]), o, gh.nbytes)
    gu = _winograd._products(gh.reshape(36, o, -1), v.transpose(0, 2, 1))      # (36, O, I)
    return gemm(gu.reshape(36, -1).T, _KW[g.dtype]).reshape(wshape)           # G^T gu G per (o, i)
