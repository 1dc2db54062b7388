"""3x3 stride-2 convolutions with padding 1 (ResNet's downsampling convs) in a polyphase Winograd form: 25
multiplies per 2x2 output tile instead of im2col's 36.

In 1-D an output pair of a 5-wide input tile d0..d4 is y0 = w0 d0 + w1 d1 + w2 d2, y1 = w0 d2 + w1 d3 + w2 d4.
The even taps are F(2, 2) (m0 = w0 (d0 - d2), m1 = (w0 + w2) d2, m2 = w2 (d4 - d2)), the odd tap is direct
(w1 d1, w1 d3): y0 = m0 + m1 + w1 d1, y1 = m1 + m2 + w1 d3, five products for six. Products that feed the same
outputs share a GEMM along K: group 0 = [w0, w1] . [d0 - d2, d1] (feeds y0), group 1 = (w0 + w2) d2 (both),
group 2 = [w2, w1] . [d4 - d2, d3] (feeds y1). In 2-D the groups pair up: nine GEMMs (O, K) @ (K, tiles) with K
= C times 4, 2, 4, 2, 1, 2, 4, 2, 4, and the output of tile row/column i is group i plus group i + 1 (the
F(2, 3) output transform). The coefficients are 0 and +-1, so values differ from a direct sum by float
rounding only. Arrays are batch-innermost (C, H, W, N) as in _conv; the backward is the adjoint of each step.
At more than one thread the nine groups of a pass (their components and products) run side by side on
ember._parallel's pool, each as on one thread, so values do not depend on the thread count.
ResNet-18's stride-2 convs at batch 8 against im2col, forward + backward, min of 20 interleaved (ms):
64x32x32 -> 128 8.65 -> 7.64 at one thread, 5.75 -> 5.35 at two; 128x16x16 -> 256 7.78 -> 6.94, 4.97 -> 5.08
(256x8x8 -> 512, 32 tiles, stays im2col's: its tile GEMMs are too narrow)."""
import numpy as np

from ... import _parallel
from ...backend import gemm, small_kernels
from . import _taps

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_MIN_CHANNELS = 16    # input and output channels below which im2col's one GEMM is faster
_MIN_TILES = 128      # 2x2 output tiles (times the batch) below which the nine small GEMMs lose

# per 1-D group: the input components (0: d0 - d2, 1: d2, 2: d4 - d2, 3: d1, 4: d3) and the kernel taps each
# one's weight sums
_GROUPS = ((0, 3), (1,), (2, 4))
_TAPS = {0: (0,), 1: (0, 2), 2: (2,), 3: (1,), 4: (1,)}


class Saved:
    """What backward needs: the weights per group (U) and the transformed input per group (V, None when the
    weight needs no gradient)."""
    __slots__ = ('u', 'v')

    def __init__(self, u, v):
        self.u, self.v = u, v


def usable(x, w, s, d, groups, pads):
    """Whether the conv of array x with w takes this path: 3x3, stride 2, padding 1, no dilation, one group,
    float32/64, at least _MIN_CHANNELS channels each way and _MIN_TILES output tiles, and an OpenBLAS without
    small-matrix kernels (Haswell's, where the gains above were measured). With them (SkylakeX's) im2col's one
    GEMM won at every size tried, forward + backward, min of 15 interleaved (ms, this path -> im2col): ResNet-18's
    64x32x32 -> 128 batch 8 5.58 -> 5.41 at one thread, 4.13 -> 3.36 at two; 128x16x16 -> 256 4.94 -> 4.52,
    3.27 -> 2.61; a U-Net's 32x32x32 -> 32 1.59 -> 1.48, 1.45 -> 0.92; 64x32x32 -> 128 batch 32 27.4 -> 24.2."""
    if small_kernels():
        return False
    if w.shape[2:] != (3, 3) or s != (2, 2) or d != (1, 1) or groups != 1 or x.dtype not in _DTYPES:
        return False
    if tuple(pads[0]) != (1, 1) or tuple(pads[1]) != (1, 1) or min(w.shape[:2]) < _MIN_CHANNELS:
        return False
    th, tw = _tiles(x.shape[2:])
    return th * tw * x.shape[0] >= _MIN_TILES


def _tiles(hw):
    """2x2 output tiles down and across for an input of size hw (output (h - 1) // 2 + 1)."""
    return tuple(((h - 1) // 2 + 2) // 2 for h in hw)


def _split(x, th, tw):
    """x (N, C, H, W) zero-padded by 1 and split by row and column mod 4: (C, 4, th + 1, 4, tw + 1, N) with
    padded row 4p + k at [:, k, p] (columns alike), so a tap of every tile is a block of (tw * N)-value runs
    (from 4x4-strided views of a padded canvas, N-value runs, the input transform of 64x32x32, batch 8, took
    0.88 ms, from this split 0.59; with the batch outside the tiles, 0.98)."""
    n, c, h, wd = x.shape
    q = np.zeros((c, 4, th + 1, 4, tw + 1, n), x.dtype)
    xt = x.transpose(1, 2, 3, 0)
    for k, r0, p0, nr in _phases(h):
        for m, c0, s0, nc in _phases(wd):
            q[:, k, p0:p0 + nr, m, s0:s0 + nc] = xt[:, r0::4, c0::4]
    return q


def _phases(size):
    """Per padded-row phase k (padded row 4p + k holds input row 4p + k - 1): k, the first input row, its p,
    and how many input rows have that phase."""
    out = []
    for k in range(4):
        r0 = (k - 1) % 4
        out.append((k, r0, (r0 + 1) // 4, len(range(r0, size, 4))))
    return out


def _unsplit(q, out):
    """out (N, C, H, W) = the input part of the split canvas q (the inverse of _split)."""
    h, wd = out.shape[2:]
    for k, r0, p0, nr in _phases(h):
        for m, c0, s0, nc in _phases(wd):
            out[:, :, r0::4, c0::4] = q[:, k, p0:p0 + nr, m, s0:s0 + nc].transpose(3, 0, 1, 2)
    return out


def _tap(a, k, t):
    """Tap k (0..4) of every tile along a split axis: a[..., k, :t, ...] for k < 4, a[..., 0, 1:, ...] for k = 4
    (the next tile's first), the split axis first in ``a``'s view."""
    return a[0, 1:t + 1] if k == 4 else a[k, :t]


def _component(a, k, t, out=None):
    """Input component k (0: d0 - d2, 1: d2, 2: d4 - d2, 3: d1, 4: d3) along the split axis of ``a`` (moved
    first): a view, or the difference written into out."""
    tap = {1: 2, 3: 1, 4: 3}
    if k in tap:
        v = _tap(a, tap[k], t)
        if out is None:
            return v
        out[...] = v
        return out
    return np.subtract(_tap(a, 0 if k == 0 else 4, t), _tap(a, 2, t), out=out)


def _row_components(x, th, tw):
    """The five row components of x (N, C, H, W) split by _split, each as a (4, tw + 1, th, C, N) view with its
    column split axis first (two of them new arrays, the differences)."""
    q = _split(x, th, tw).transpose(1, 2, 0, 3, 4, 5)        # (4, th + 1, C, 4, tw + 1, N) view
    return [_component(q, a, th).transpose(2, 3, 0, 1, 4) for a in range(5)]


def _group_input(rows, key, th, tw):
    """V of group pair key = (r, c): (|r|, |c|, C, th, tw, N), the column components of r's row components."""
    rg, cg = _GROUPS[key[0]], _GROUPS[key[1]]
    c, n = rows[0].shape[3:]
    out = np.empty((len(rg), len(cg), c, th, tw, n), rows[0].dtype)
    for i, a in enumerate(rg):
        for j, b in enumerate(cg):
            _component(rows[a], b, tw, out[i, j].transpose(2, 1, 0, 3))
    return out


def weight_transform(w):
    """U per group pair (r, c): (O, |r| * |c| * C), component (a, b) of channel ci the kernel taps of a's rows
    and b's columns summed."""
    o, c = w.shape[:2]
    wt = _taps.weights(w)     # (3, 3, O, C): each tap's block contiguous
    rows = {k: wt[taps[0]] if len(taps) == 1 else wt[taps[0]] + wt[taps[1]] for k, taps in _TAPS.items()}
    u = {}
    for r, rg in enumerate(_GROUPS):
        for q, cg in enumerate(_GROUPS):
            out = np.empty((o, len(rg), len(cg), c), w.dtype)
            for i, a in enumerate(rg):
                for j, b in enumerate(cg):
                    taps = _TAPS[b]
                    t = rows[a][taps[0]] if len(taps) == 1 else rows[a][taps[0]] + rows[a][taps[1]]
                    out[:, i, j] = t
            u[r, q] = out.reshape(o, -1)
    return u


def _each(fn, items):
    """[fn(*item) for item in items]; at more than one thread on ember._parallel's pool, each item whole on one
    thread with its products on one OpenBLAS thread (a product cut into blocks would round differently from
    one thread's), so values do not depend on the thread count."""
    if _parallel.threads() > 1:
        return _parallel.each(fn, items)
    return [fn(*item) for item in items]


def _output_phase(m, j, out, th, tw):
    """Output column phase j of the conv's output, out[:, :, i::2, j::2] for i in 0, 1, from the products m[r, c]
    (O, th*tw*N): tile entry (i, j) is the sum of m[r, c] over r in (i, i + 1) and c in (j, j + 1)."""
    n, o, oh, ow = out.shape
    s = [np.add(m[r, j], m[r, j + 1]).reshape(o, th, tw, n) for r in range(3)]
    cols = len(range(j, ow, 2))
    for i in range(2):      # in place: row 0's sum is taken before row 1's overwrites s[1]
        yij = np.add(s[i], s[i + 1], out=s[i])
        out[:, :, i::2, j::2] = yij[:, :len(range(i, oh, 2)), :cols].transpose(3, 0, 1, 2)


def forward(x, w, out):
    """conv(x, w) (N, C, H, W), stride 2, padding 1, written into out (N, O, OH, OW); returns Saved. At more than
    one thread the weight transform and the input's row components are made side by side, the nine groups go
    largest first (their K is C times 4, 2 or 1: the last one taken is a short one), and the two output column
    phases side by side; every pass and product as at one thread. 2 threads, batch 8, min/median of 80
    interleaved at real-time priority on the loaded machine (ms): 64x32x32 -> 128 1.78/1.98 -> 1.64/1.84 and
    1.75/1.93 -> 1.62/1.86, 128x16x16 -> 256 1.44/1.56 -> 1.22/1.45 and 1.36/1.47 -> 1.19/1.35 (1 thread unchanged)."""
    n = x.shape[0]
    th, tw = _tiles(x.shape[2:])
    u, rows = _each(lambda fn: fn(), [(lambda: weight_transform(w),), (lambda: _row_components(x, th, tw),)])

    def group(key):     # its components and its product: one item on a pool thread
        vk = _group_input(rows, key, th, tw)
        return vk, gemm(u[key], vk.reshape(u[key].shape[1], -1))
    keys = sorted(u, key=lambda k: -u[k].shape[1])
    done = _each(group, [(k,) for k in keys])
    v = {k: vk for k, (vk, _) in zip(keys, done)}
    m = {k: mk for k, (_, mk) in zip(keys, done)}
    _each(lambda j: _output_phase(m, j, out, th, tw), [(0,), (1,)])
    return Saved(u, v)


def _grad_tiles(g, th, tw):
    """The gradients of the products m[r, c] (O, th*tw*N) from the output gradient g (N, O, OH, OW): the adjoint
    of _pairs_sum."""
    n, o, oh, ow = g.shape
    gy = {}
    for i in range(2):
        for j in range(2):
            t = np.zeros((o, th, tw, n), g.dtype)
            part = g[:, :, i::2, j::2]
            t[:, :part.shape[2], :part.shape[3]] = part.transpose(1, 2, 3, 0)
            gy[i, j] = t
    rows = {}
    for j in range(2):
        rows[0, j], rows[2, j] = gy[0, j], gy[1, j]
        rows[1, j] = np.add(gy[0, j], gy[1, j])
    gm = {}
    for r in range(3):
        gm[r, 0], gm[r, 2] = rows[r, 0], rows[r, 1]
        gm[r, 1] = np.add(rows[r, 0], rows[r, 1])
    return {k: a.reshape(o, -1) for k, a in gm.items()}


def _weight_grad(gu, wshape, dtype):
    """The adjoint of weight_transform: gW (O, C, 3, 3) from the group pairs' gradients gu[r, c] (O, K)."""
    o, c = wshape[:2]
    gw = np.zeros((3, 3, o, c), dtype)
    for (r, q), a in gu.items():
        rg, cg = _GROUPS[r], _GROUPS[q]
        a4 = a.reshape(o, len(rg), len(cg), c)
        for i, ra in enumerate(rg):
            for j, cb in enumerate(cg):
                for ti in _TAPS[ra]:
                    for tj in _TAPS[cb]:
                        gw[ti, tj] += a4[:, i, j]
    return _taps.from_taps(gw)


def _adjoint(g, out, t):
    """Writes the adjoint of _component along the split axis of out (moved first, size 4 x (t + 1)): out's taps
    from the gradients g[0..4] of the five components (the slots past the last tile zeroed: its tap 4 adds
    into the first of them, and no tile reads the rest)."""
    out[:, t] = 0
    out[0, :t] = g[0]
    out[0, 1:] += g[2]
    np.subtract(g[1], g[0], out=out[2, :t])
    out[2, :t] -= g[2]
    out[1, :t] = g[3]
    out[3, :t] = g[4]


def _grad_rows(r, gm, u, c, n, th, tw):
    """The gradients (th, C, N, 4, tw + 1) of row group r's row components, from the products' gradients gm:
    the input gradient's products of the group's three pairs, then the adjoint of their column components."""
    rg = _GROUPS[r]
    parts = [[None] * 5 for _ in rg]
    for s, cg in enumerate(_GROUPS):
        gv = gemm(u[r, s].T, gm[r, s]).reshape(len(rg), len(cg), c, th, tw, n)
        for i in range(len(rg)):
            for j, b in enumerate(cg):
                parts[i][b] = gv[i, j].transpose(2, 0, 1, 3)       # (tw, C, th, N)
    out = []
    for i in range(len(rg)):
        grow = np.empty((c, th, 4, tw + 1, n), gm[r, 0].dtype)
        _adjoint(parts[i], grow.transpose(2, 3, 0, 1, 4), tw)
        out.append(grow.transpose(1, 0, 2, 3, 4))
    return out


def grads(g, wshape, xshape, saved, gx):
    """The weight gradient (None when saved.v is None) and the input gradient written into gx (when given) of
    the conv of an input of shape xshape whose forward returned saved, from its output gradient g (N, O, OH,
    OW). The items on the pool: the nine weight-gradient products, and per row group its three input-gradient
    products with their column adjoint; then the weight gradient's sums and the input gradient's adjoint side
    by side (2 threads, batch 8, min/median of 80 interleaved at real-time priority on the loaded machine, two
    runs (ms): 64x32x32 -> 128 2.63/2.93 -> 2.56/2.85 and 2.40/2.65 -> 2.42/2.68, 128x16x16 -> 256 2.35/2.54 ->
    2.08/2.33 and 2.22/2.39 -> 2.06/2.24)."""
    th, tw = _tiles(xshape[2:])
    n, c = xshape[0], wshape[1]
    gm = _grad_tiles(g, th, tw)
    keys = list(saved.u)
    items = []
    if saved.v is not None:
        items += [(lambda k: gemm(gm[k], saved.v[k].reshape(saved.u[k].shape[1], -1).T), k) for k in keys]
    if gx is not None:
        items += [(lambda r: _grad_rows(r, gm, saved.u, c, n, th, tw), r) for r in (0, 2, 1)]
    res = _each(lambda fn, arg: fn(arg), items)
    tails = []
    if saved.v is not None:
        gu = dict(zip(keys, res[:len(keys)]))
        tails.append((lambda: _weight_grad(gu, wshape, g.dtype),))
        res = res[len(keys):]
    if gx is not None:
        tails.append((lambda: _input_grad(res, c, n, th, tw, gx),))
    done = _each(lambda fn: fn(), tails)
    return done[0] if saved.v is not None else None


def _input_grad(res, c, n, th, tw, gx):
    """gx (N, C, H, W) from the row groups' gradients ``res`` (groups 0, 2, 1): the adjoint of the row components
    and of the split."""
    rows = [None] * 5
    for r, got in zip((0, 2, 1), res):
        for a, grow in zip(_GROUPS[r], got):
            rows[a] = grow
    q = np.empty((c, 4, th + 1, 4, tw + 1, n), gx.dtype)
    _adjoint(rows, q.transpose(1, 2, 0, 3, 4, 5), th)
    _unsplit(q, gx)
