"""Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions with padding 1 on images whose sides are multiples
of 4 (Lavin & Gray, 2015, points 0, +-1, +-2): each 4x4 output tile is A^T [(G w G^T) * (B^T d B)] A of its
6x6 input tile d, so the products become 36 GEMMs with 36 multiplies per 16 outputs, where F(2x2, 3x3)
(_winograd) needs 64 and im2col 144. The input gradient is the same convolution of the output gradient
with the flipped, transposed kernel; the weight gradient is G^T [sum over tiles of (A g A^T) * (B^T d B)] G,
36 GEMMs against the transformed input kept from the forward pass. The coefficients (1/4, 1/6, 1/12,
1/24, 2, 4, 5, 8) round, so values differ from a direct sum by more than F(2x2, 3x3)'s: max relative
error about 2e-6 in float32 on ResNet-18's shapes (F(2x2, 3x3): 7e-7).

Against F(2x2, 3x3), batch 8, one thread, min thread CPU time of 20 (ms, forward / input / weight gradient):
64x32x32 5.94 / 5.78 / 4.28 -> 4.85 / 5.04 / 3.27, 128x16x16 4.48 / 4.34 / 3.08 -> 3.36 / 3.12 / 2.29; at
256x8x8 (32 tiles) it lost. The ResNet-18 step at one thread (min thread CPU time of 15): 300 -> 254 ms.

Arrays are in _conv's batch-innermost layout; the padded input's columns are split by their residue
mod 4, so that each column tap of a tile is a block slice of long contiguous runs."""
import numpy as np

from ... import _parallel
from ...backend import gemm
from . import _winograd

_MIN_CHANNELS = 64    # input and output channels below which F(2x2, 3x3) or im2col is faster
_MIN_TILES = 128      # tile columns (4x4 tiles x batch) below which the 36 products are too small to gain

_G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
               [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])
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
    return min(w.shape[:2]) >= _MIN_CHANNELS and x.shape[2] * x.shape[3] // 16 * x.shape[0] >= _MIN_TILES


def weight_transform(w):
    """G w G^T of every (out, in) kernel of w (O, I, 3, 3): U (36, O, I), one GEMM with kron(G, G)."""
    o, i = w.shape[:2]
    return gemm(_KW[w.dtype], w.reshape(o * i, 9).T).reshape(36, o, i)


def _bt(d, out, tmp):
    """B^T along one axis: its six rows into out[0..5] from the taps d[0..5] (arrays of tmp's shape)."""
    np.multiply(d[2], -4, out=tmp)
    tmp += d[4]                                  # d4 - 4 d2
    np.multiply(d[1], -4, out=out[2])
    out[2] += d[3]                               # d3 - 4 d1
    np.add(tmp, out[2], out=out[1])
    np.subtract(tmp, out[2], out=out[2])
    np.subtract(d[4], d[2], out=out[3])          # d4 - d2
    np.subtract(d[0], d[2], out=out[0])
    out[0] *= 4
    out[0] += out[3]                             # 4 d0 - 5 d2 + d4
    np.subtract(d[3], d[1], out=tmp)
    tmp *= 2                                     # 2 (d3 - d1)
    np.subtract(out[3], tmp, out=out[4])
    out[3] += tmp
    np.subtract(d[1], d[3], out=out[5])
    out[5] *= 4
    np.subtract(d[5], d[3], out=tmp)
    out[5] += tmp                                # 4 d1 - 5 d3 + d5


def _at(m, out, tmp):
    """A^T along one axis: its four rows into out[0..3] from m[0..5] (arrays of tmp's shape)."""
    np.add(m[1], m[2], out=out[2])
    np.add(m[3], m[4], out=tmp)
    np.add(m[0], out[2], out=out[0])
    out[0] += tmp                                # m0 + m1 + m2 + m3 + m4
    tmp *= 4
    out[2] += tmp                                # m1 + m2 + 4 (m3 + m4)
    np.subtract(m[3], m[4], out=tmp)
    tmp *= 2
    np.subtract(m[1], m[2], out=out[1])
    np.multiply(tmp, 4, out=out[3])
    out[3] += out[1]
    out[3] += m[5]                               # m1 - m2 + 8 (m3 - m4) + m5
    out[1] += tmp                                # m1 - m2 + 2 (m3 - m4)


def _a(g, out, tmp):
    """A along one axis: its six rows into out[0..5] from g[0..3] (arrays of tmp's shape)."""
    out[0][...] = g[0]
    out[5][...] = g[3]
    np.add(g[0], g[2], out=out[1])
    np.add(g[1], g[3], out=tmp)
    np.subtract(out[1], tmp, out=out[2])
    out[1] += tmp                                # g0 + g1 + g2 + g3, g0 - g1 + g2 - g3
    np.multiply(g[2], 4, out=out[3])
    out[3] += g[0]
    np.multiply(g[3], 4, out=tmp)
    tmp += g[1]
    tmp *= 2
    np.subtract(out[3], tmp, out=out[4])
    out[3] += tmp                                # g0 + 2 g1 + 4 g2 + 8 g3, g0 - 2 g1 + 4 g2 - 8 g3


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
    _at(m, rows, np.empty(rows.shape[1:], m.dtype))
    y = np.empty((4, 4, o, th, tw, n), m.dtype)
    _at([rows[:, b] for b in range(6)], [y[:, q] for q in range(4)], np.empty(y.shape[:1] + y.shape[2:], m.dtype))
    for p in range(4):
        for q in range(4):
            out[:, :, p::4, q::4] = y[p, q].transpose(3, 0, 1, 2)


def conv(x, u, top, left, out):
    """conv of x (N, C, H, W) with transformed weights u (36, O, C), padded by 1 (top = left = 1: _winograd's
    interface), written into out (N, O, H, W); returns V, the transformed input. Split across threads as
    _winograd.conv."""
    v = _transform_input(x)
    _transform_output(_winograd._products(u, v), out)
    return v


def _transform_input(x):
    """V (36, C, th*tw*N) of x (N, C, H, W) padded by 1: split by channel."""
    n, c, h, w = x.shape
    v = np.empty((6, 6, c, h // 4, w // 4, n), x.dtype)
    _parallel.run(lambda lo, hi: _input_transform(x[:, lo:hi], v[:, :, lo:hi]), c, v.nbytes)
    return v.reshape(36, c, -1)


def _transform_output(m, out):
    """A^T m A of the products M (36, O, th*tw*N) into out (N, O, H, W): split by channel."""
    _parallel.run(lambda lo, hi: _output_transform(m[:, lo:hi], out[:, lo:hi]), m.shape[1], m.nbytes)


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
    n, _, h, wd = g.shape
    m = np.empty((36, w.shape[1], h // 4 * (wd // 4) * n), g.dtype)
    gw = _winograd.side_grads(m, lambda: (_flipped(w), _transform_input(g)), lambda: grad_weight(g, v, w.shape), 12)
    _transform_output(m, gx)
    return gw


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
