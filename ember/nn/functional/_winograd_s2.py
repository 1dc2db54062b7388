"""Winograd F(2x2, 2x2) for 4x4 stride-2 convolutions with padding 1 (DCGAN's, both the discriminator's
convs and the generator's transposed convs). Taking rows and columns of the padded input by parity
(space to depth) turns the conv into a 2x2 stride-1 conv over 4x the channels at half the size; each 2x2
output tile of that is A^T [(G w G^T) * (B^T d B)] A of its 3x3 input tile d, so the products become 9
GEMMs with 9 multiplies per 4 outputs instead of 16. The coefficients are 0 and +-1, so values differ
from a direct sum by float rounding only (max relative error 1e-6 in float32 on DCGAN's shapes, im2col's
4e-7). Used for the conv's forward and weight gradient, and for the transposed conv's backward (its input
gradient is this conv of the output gradient). The conv's input gradient is the adjoint of its forward, from
the weight gradient's tiles (see _grad_input_adjoint); the transposed conv's forward, the same function of its
input, splits by output parity: four 2x2 stride-1 convs, each F(2x2, 2x2) on its own tile grid (see grad_input).

1-D: y0 = d0 g0 + d1 g1 = (d0 - d1) g0 + d1 (g0 + g1), y1 = d1 g0 + d2 g1 = d1 (g0 + g1) + (d2 - d1) g1.
Channels of the 2x2 conv are ordered (row parity, column parity, channel); arrays are channel-last
(C, H, W, N) as in _conv."""
import itertools
import threading

import numpy as np

from ... import _parallel
from ...backend import gemm, small_kernels, transposed
from . import _winograd

_MIN_CHANNELS = 16    # input (and output) channels below which im2col's one GEMM is faster

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class Saved(_winograd.Saved):
    """What backward needs (U, and V or None), marked as this transform's."""
    __slots__ = ()


def usable(x, w, s, d, groups, pads, transposed=False):
    """Whether the conv of array x with w takes this path: 4x4, stride 2, padding 1, no dilation, one group,
    float32/64, at least _MIN_CHANNELS channels each way, and no small odd output side (_few_wasted).
    ``transposed``: x is the input of the transposed conv (the conv's output). DCGAN at batch 32, one thread,
    min of 20 A/B: forward 32x16x16 -> 64 1.73 -> 1.45 ms, 64x8x8 -> 128 1.45 -> 1.25; transposed 64x8x8 -> 32
    forward and backward 5.79 -> 5.23; 3 channels at 32x32 0.48 -> 0.62 loses."""
    if not (w.shape[2:] == (4, 4) and s == (2, 2) and d == (1, 1) and groups == 1 and x.dtype in _DTYPES
            and tuple(pads[0]) == (1, 1) and tuple(pads[1]) == (1, 1) and min(w.shape[:2]) >= _MIN_CHANNELS):
        return False
    return _few_wasted(x.shape[2:] if transposed else [(side - 2) // 2 + 1 for side in x.shape[2:]])


_MAX_ODD = 9    # odd output sides up to this leave im2col the conv (see _few_wasted)


def _few_wasted(o):
    """Whether the 2x2 output tiles of output sides ``o`` waste little: an odd side's last tile row (column) is
    half outside the output, a fifth or more of the tiles' outputs at a side up to _MAX_ODD, where im2col's one
    GEMM wins. A VAE on MNIST (28 -> 14 -> 7), batch 64, forward and backward, min of 10 interleaved (ms), im2col
    against this path: 32x14x14 -> 64 5.38 -> 3.93 at one thread (SkylakeX kernels; Haswell's 6.23 -> 6.24), 3.86
    -> 2.48 at two; transposed 64x7x7 -> 32 5.45 -> 4.32, 3.98 -> 3.00 (Haswell 6.20 -> 6.13); 32 -> 64 at 18x18
    (9x9 out) batch 32 3.89 -> 3.26. At 30x30 (15x15 out, batch 16) Haswell's kernels kept this path ahead (14.2
    against 16.2), so larger odd sides stay here."""
    return all(side % 2 == 0 or side > _MAX_ODD for side in o)


def weight_transform(w, out=None):
    """G w' G^T of the 2x2 kernels w' of w (O, I, 4, 4): U (9, O, 4I), written into ``out`` when given. Kernel
    row 2i+a, column 2j+b is tap (i, j) of the 2x2 kernel on channel (a, b, c)."""
    o, c = w.shape[:2]
    taps = w.reshape(o, c, 2, 2, 2, 2).transpose(2, 4, 0, 3, 5, 1)       # (i, j, O, a, b, I) view
    t = np.empty((3, 2, o, 2, 2, c), w.dtype)
    _transform_weight(taps[0], taps[1], t)
    u = np.empty((3, 3, o, 2, 2, c), w.dtype) if out is None else out.reshape(3, 3, o, 2, 2, c)
    _transform_weight(t[:, 0], t[:, 1], u.swapaxes(0, 1))
    return u.reshape(9, o, 4 * c)


def _transform_weight(w0, w1, out):
    """G along one axis: (w0, w0 + w1, w1) into out[0], out[1], out[2]."""
    out[0] = w0
    np.add(w0, w1, out=out[1])
    out[2] = w1


def _transform_rows(d0, d1, d2, out):
    """B^T along one axis: (d0 - d1, d1, d2 - d1) into out[0], out[1], out[2]."""
    np.subtract(d0, d1, out=out[0])
    out[1] = d1
    np.subtract(d2, d1, out=out[2])


def _input_transform(t, tw):
    """B^T d B of the 3x3 tiles of the 2x2 conv over the space to depth of the padded input, from its row transform
    t (_rows_of): V (9, 4C, th*tw*N). Tile (u, v)'s tap k of row parity r is row 2*(2u + k) + r of the padded input."""
    c, th, n = t.shape[2], t.shape[3], t.shape[5]
    v = np.empty((3, 3, 2, 2, c, th, tw, n), t.dtype)
    for eta in range(3):
        _column_transform(t, eta, tw, v)
    return v.reshape(9, 4 * c, th * tw * n)


def _row_transform(a, th):
    """B^T along the rows of the tiles of a: (xi, row parity, C, th, W, N)."""
    t = np.empty((3, 2, a.shape[0], th) + a.shape[2:], a.dtype)
    for r in range(2):
        _transform_rows(*(a[:, 2 * k + r:2 * k + r + 4 * th:4] for k in range(3)), t[:, r])
    return t


def _rows_of(x, top, left, th, tw):
    """_row_transform of x (N, C, H, W) padded by top/left into the canvas of th x tw tiles: where that canvas is x
    with one zero row and column each side (DCGAN's convs), from x's batch-last copy directly, the pads' taps taken
    as zeros (0 - d as the canvas's +0.0 - d), without the zero canvas and its copy of x: the same bits. DCGAN
    batch 32, one thread, min thread CPU of 1500 interleaved on the loaded machine (us): 32x16x16 233 -> 203,
    64x8x8 152 -> 135. Other shapes go through _padded."""
    n, c, h, w = x.shape
    if (top, left, h, w) != (1, 1, 4 * th, 4 * tw):
        return _row_transform(_padded(x, top, left, 4 * th + 2, 4 * tw + 2), th)
    from ._conv import _batch_last     # _conv imports this module
    src = _batch_last(x)
    t = np.empty((3, 2, c, th, w + 2, n), x.dtype)
    t[..., 0, :] = 0
    t[..., w + 1, :] = 0
    body = t[..., 1:w + 1, :]

    def rows(k, r, lo=0, hi=th):    # padded rows 4u + 2k + r of tiles u in [lo, hi): x's rows one less
        return src[:, 4 * lo + 2 * k + r - 1:4 * (hi - 1) + 2 * k + r:4]
    zero = x.dtype.type(0)
    np.subtract(rows(0, 1), rows(1, 1), out=body[0, 1])
    body[1, 1] = rows(1, 1)
    if th > 1:
        np.subtract(rows(2, 1, 0, th - 1), rows(1, 1, 0, th - 1), out=body[2, 1, :, :th - 1])
    np.subtract(zero, rows(1, 1, th - 1), out=body[2, 1, :, th - 1:])      # tap 2 of the last tile: the bottom pad
    np.subtract(rows(0, 0, 1), rows(1, 0, 1), out=body[0, 0, :, 1:])
    np.subtract(zero, rows(1, 0, 0, 1), out=body[0, 0, :, :1])              # tap 0 of the first tile: the top pad
    body[1, 0] = rows(1, 0)
    np.subtract(rows(2, 0), rows(1, 0), out=body[2, 0])
    return t


def _column_transform(t, eta, tw, v):
    """B along the columns of the row transform t, its tap eta (d0 - d1, d1, d2 - d1) into v[:, eta]: V's tile
    positions (xi, eta) for every xi."""
    for r in range(2):
        d0, d1, d2 = (t[..., 2 * k + r:2 * k + r + 4 * tw:4, :] for k in range(3))
        out = v[:, eta, :, r]
        if eta == 1:
            out[...] = d1
        else:
            np.subtract(d2 if eta else d0, d1, out=out)


def _output_transform(m, th, tw, n):
    """A^T m A of every tile of M (9, O, th*tw*N): (O, 2*th, 2*tw, N)."""
    o = m.shape[1]
    m = m.reshape(3, 3, o, th, tw, n)
    y = np.empty((o, th, 2, tw, 2, n), m.dtype)
    for i in range(2):
        r = np.add(m[i], m[i + 1])
        np.add(r[0], r[1], out=y[:, :, i, :, 0])
        np.add(r[1], r[2], out=y[:, :, i, :, 1])
    return y.reshape(o, 2 * th, 2 * tw, n)


def _tiles(hw):
    return (hw[0] + 1) // 2, (hw[1] + 1) // 2


def _padded(x, top, left, rows, cols):
    """(N, C, H, W) -> zero canvas (C, rows, cols, N) with x at (top, left), x cut where it runs past. A contiguous
    x goes through _batch_last's 2-D transpose (OpenBLAS's omatcopy), then whole rows into the canvas, rather than
    NumPy's element-wise copy of the transposed view (after _unaliased's copy where samples alias): DCGAN's batch
    32, one thread, min of 300 (us): 32x16x16 into 18x18 104 -> 82, 64x8x8 into 10x10 56 -> 52, into 8x8 50 -> 42.
    A canvas the size of x is the batch-last copy itself (the conv's output gradient's tiles), no zeros and no
    second copy: 64x8x8 45 -> 31, 128x4x4 22 -> 14 (min thread CPU of 200)."""
    from ._conv import _batch_last, _unaliased     # _conv imports this module
    n, c, h, w = x.shape
    if (top, left, rows, cols) == (0, 0, h, w):
        return _batch_last(x)
    out = np.zeros((c, rows, cols, n), x.dtype)
    h, w = min(h, rows - top), min(w, cols - left)
    src = _batch_last(x) if x.flags.c_contiguous else _unaliased(x).transpose(1, 2, 3, 0)
    out[:, top:top + h, left:left + w] = src[:, :h, :w]
    return out


def transform_input(x, top, left, hw):
    """V (9, 4C, tiles*N) of x (N, C, H, W) padded by top/left for the conv with output size hw."""
    th, tw = _tiles(hw)
    return _input_transform(_rows_of(x, top, left, th, tw), tw)


def conv(x, u, top, left, out):
    """4x4 stride-2 conv of x (N, C, H, W) with transformed weights u (9, O, 4C), padded by top/left, written
    into out (N, O, OH, OW) (_winograd.conv's interface); returns V, the transformed input. At more than one
    thread, as _pipelined."""
    return _conv(x, lambda: u, u.shape[1], top, left, out)[1]


def forward(x, w, top, left, out):
    """Saved(U, V) of the 4x4 stride-2 conv of x with weight w (O, C, 4, 4), written into out as conv. At more
    than one thread a U of at least _parallel.MIN_BYTES is made on the pool thread while the first tap of V is (see
    _pipelined), where it was made before the pipeline started. DCGAN batch 32, 2 threads, chrt -r 10 on the loaded
    machine: its 64x8x8 -> 128 conv (U 1.2 MB) forward alone, min of 150 interleaved (us), SkylakeX kernels 697-740
    -> 634-657, Haswell's 806 -> 724; inside the step (min of 80 interleaved steps) 617 -> 503, its backward
    unchanged (707 -> 691). A smaller U stays on the calling thread: its transform is short, and the products that
    read it in the backward ran slower when the pool thread had written it (the 32x16x16 -> 64 conv, U 295 KB:
    forward 774-792 -> 745-759, backward 859-879 -> 906-925 us, the step no faster), as they did not with U copied
    on the calling thread after. U's array is allocated on the calling thread all the same. One thread: as before."""
    o, c = w.shape[:2]
    u = kept(w)
    if u is not None:
        return Saved(u, conv(x, u, top, left, out))
    u = np.empty((9, o, 4 * c), w.dtype)
    if u.nbytes < _parallel.MIN_BYTES:
        v = conv(x, weight_transform(w, u), top, left, out)
    else:
        _, v = _conv(x, lambda: weight_transform(w, u), o, top, left, out)
    keep(w, u)
    return Saved(u, v)


# The forwards' transformed weights by weight array (id, shape, dtype): w's bits when U was made and U. A weight's U
# is reused while its bits are the same, compared whole (a version counter would miss a write through .data, WGAN's
# clamp_, or through .numpy()): DCGAN's discriminator runs three forwards a step on weights that change once (its
# optimizer's step), two with U kept. At most _KEPT_BYTES of bits and U, the oldest dropped first.
_KEPT = {}
_KEPT_BYTES = 8 << 20


def _bits(w):
    """w's values as unsigned integers (the same bits: -0.0 and NaN payloads compare as they are), or None."""
    return w.view(np.uint32 if w.itemsize == 4 else np.uint64) if w.flags.c_contiguous else None


def kept(w):
    """The U kept for weight w (read-only) when w's bits are what they were, else None."""
    got = _KEPT.get((id(w), w.shape, w.dtype))
    if got is None:
        return None
    bits, now = got[0], _bits(w)
    if now is None or now.flat[0] != bits.flat[0] or not np.array_equal(now, bits):
        return None
    return got[1]


def keep(w, u):
    """Keep U = weight_transform(w) with a copy of w's bits (read-only both, as autograd's saved U is read)."""
    now = _bits(w)
    if now is None or w.nbytes + u.nbytes > _KEPT_BYTES:
        return
    key = (id(w), w.shape, w.dtype)
    _KEPT.pop(key, None)
    while _KEPT and sum(b.nbytes + k.nbytes for b, k in list(_KEPT.values())) + w.nbytes + u.nbytes > _KEPT_BYTES:
        _KEPT.pop(next(iter(list(_KEPT))), None)
    bits = now.copy()
    bits.flags.writeable = u.flags.writeable = False
    _KEPT[key] = (bits, u)


def _conv(x, weights, o, top, left, out):
    """(U, V) of the conv of x with the transformed weights weights() (O output channels) written into out."""
    hw = out.shape[2:]
    th, tw = _tiles(hw)
    n, c = x.shape[:2]
    if not _parallel.side_by_side_pays(36 * c * th * tw * n * x.itemsize):
        u = weights()
        v = transform_input(x, top, left, hw)
        _conv_out(gemm(u, v), th, tw, n, out)
        return u, v
    u, m, v = _pipelined(x, top, left, weights, o, th, tw)
    _conv_out(m, th, tw, n, out)
    return u, v


def _pipelined(x, top, left, weights, o, th, tw):
    """(U, M, V) of conv at two threads, on _parallel.pipeline: one thread makes V (the padded copy, the row
    transform, then the column transform tap by tap, each tap three tile positions), the other makes U =
    weights() first, then multiplies each tile position's V by U as soon as it is made (one 2-D product each),
    and the first joins the products once V is done. Before, the products waited for the whole V, then were
    shared. Each product is computed whole on one BLAS thread, as at one thread. DCGAN batch 32, forward, 2
    threads at real-time priority on the loaded machine, min of 50-80 interleaved, two runs (us): 32x16x16 -> 64
    1005-1006 -> 934-953, 64x8x8 -> 128 798-801 -> 760-766 (with the padded copy and row transform made before
    the hand-over: 1050-1055, 757-774)."""
    n, c = x.shape[:2]
    v = np.empty((3, 3, 2, 2, c, th, tw, n), x.dtype)
    vs = v.reshape(9, 4 * c, th * tw * n)
    m = np.empty((9, o, vs.shape[2]), vs.dtype)
    rows, got, ready = [], {}, threading.Event()

    def tap(eta):
        if not rows:
            rows.append(_rows_of(x, top, left, th, tw))
        _column_transform(rows[0], eta, tw, v)

    def transform():
        try:
            got['u'] = weights()
        finally:
            ready.set()

    def product(p):
        ready.wait()
        if 'u' in got:      # else weights() failed: its error reaches the caller
            np.matmul(got['u'][p], vs[p], out=m[p])
    _parallel.pipeline([lambda eta=eta: tap(eta) for eta in range(3)],
                       [(None, transform)] + [(eta, lambda p=3 * xi + eta: product(p))
                                              for eta in range(3) for xi in range(3)])
    return got['u'], m, vs


def _conv_out(m, th, tw, n, out):
    """The conv's output (N, O, OH, OW) written into out from the products M (9, O, th*tw*N)."""
    from ._conv import _batch_first     # _conv imports this module
    _batch_first(_output_transform(m, th, tw, n)[:, :out.shape[2], :out.shape[3]], out)


def grad_weight(g, v, wshape):
    """Gradient w.r.t. w (O, I, 4, 4) from the output gradient g (N, O, OH, OW) and the forward's V."""
    return _weight_from(gemm(_grad_tiles(g), v.transpose(0, 2, 1)), wshape)


def _grad_tiles(g):
    """A g A^T of every 2x2 tile of g (N, O, OH, OW): (9, O, tiles*N)."""
    n, o = g.shape[:2]
    th, tw = _tiles(g.shape[2:])
    gs = _padded(g, 0, 0, 2 * th, 2 * tw).reshape(o, th, 2, tw, 2, n)
    g0, g1 = gs[:, :, 0], gs[:, :, 1]
    gh = np.empty((3, 3, o, th, tw, n), g.dtype)
    for x, r in enumerate((g0, np.add(g0, g1), g1)):
        gh[x, 0] = r[:, :, :, 0]
        np.add(r[:, :, :, 0], r[:, :, :, 1], out=gh[x, 1])
        gh[x, 2] = r[:, :, :, 1]
    return gh.reshape(9, o, th * tw * n)


def _weight_from(gu, wshape):
    """G^T gu G of the products gu (9, O, 4I) of the tiles: the weight gradient (O, I, 4, 4)."""
    o = wshape[0]
    gu = gu.reshape(3, 3, o, 2, 2, wshape[1])                       # (., O, a, b, I)
    t = np.add(gu[:2], gu[1:])                                      # G^T gu G: (gu0 + gu1, gu1 + gu2) by rows ...
    gw = np.empty(wshape, gu.dtype)
    np.add(t[:, :2], t[:, 1:], out=gw.reshape(o, wshape[1], 2, 2, 2, 2).transpose(2, 4, 0, 3, 5, 1))   # ... and columns
    return gw


# -- both gradients at once -------------------------------------------------------------------------------------------
# At more than one thread the transposed conv's two gradients run side by side (_parallel.side_by_side): NumPy's
# passes of DCGAN's sizes take 10-50 us, too short to split (two threads' short passes hand the GIL to and fro: 8 us
# subtractions of 36K strided elements ran no faster on two threads than on one), so each thread runs one gradient's
# transforms while the other runs the other's, then both share the products in slices of tile positions
# (_winograd.shared_products: each slice's products as on one thread, so values do not depend on the thread count).
# The conv's backward shares its products the same way (see _shared_grads).
def conv_grads(g, wshape, u, v, gx):
    """Gradients of the 4x4 stride-2 conv (weight of shape wshape, U the forward's transformed weights) from its
    output gradient g (N, O, OH, OW): the input's written into gx (when not None), and the weight's returned (None
    when v, the forward's V, is None). Both read the output gradient's tiles A g A^T, made once; at two threads
    the rest goes as _shared_grads."""
    gh, tiles = _grad_tiles(g), _tiles(g.shape[2:])
    if gx is None or v is None or not _parallel.side_by_side_pays(gx.nbytes + 9 * g.nbytes):
        if gx is not None:
            _grad_input_adjoint(gh, u, tiles, gx)
        return None if v is None else _weight_from(gemm(gh, v.transpose(0, 2, 1)), wshape)
    return _shared_grads(gh, u, v, tiles, gx, wshape)


# Where the weight gradient's product goes among the input gradient's 9 (one per tile position) in _shared_grads's
# queue: the thread that takes it then runs it whole while the other takes the rest and the passes after them.
_WEIGHT_AT = 5


def _shared_grads(gh, u, v, tiles, gx, wshape):
    """The conv's two gradients from the output gradient's tiles gh, at two threads: both threads take, in turn,
    the next of the input gradient's products (one tile position each, U^T gh) and the weight gradient's (gh V^T,
    whole, then G^T gu G), queued after the first _WEIGHT_AT of the others; once the input gradient's products are
    all done, both take _ADJOINT_PARTS blocks of its channels' passes (the tiles' adjoint and the copy back into gx),
    the thread that ran the weight gradient's product joining them when it is done. Before, one thread ran all 9
    products and the passes beside the weight gradient's product (DCGAN's 32x16x16 -> 64: 671 + 543 us against
    722). Each product is computed whole on one BLAS thread, as at one thread. DCGAN batch 32, both gradients, 2
    threads at real-time priority on the loaded machine, min of 40-60 interleaved, two runs (us): 32x16x16 -> 64
    1384-1398 -> 1203-1230, 64x8x8 -> 128 1072-1120 -> 969-1020 (with the weight gradient's product after 3 of the
    others 1282 and 978, after 7 1171 and 1071); one thread: the serial path, unchanged. The passes then ran whole
    on the thread that finished the last product while the other, done with the weight gradient, waited (32x16x16
    -> 64: both 1.1-1.2 ms the weight gradient's product on one thread, 1.3-1.7 ms the passes on the other, beside
    it); in blocks, the backward at 2 threads, min / p25 / median of 150 interleaved (us): 32x16x16 -> 64 1914 /
    2298 / 2372 -> 1879 / 1994 / 2052, 64x8x8 -> 128 1442 / 1522 / 1581 -> 1456 / 1539 / 1580 (there the weight
    gradient's product is the longer); 2 or 8 blocks did no better than 4. Values as before (per channel)."""
    gv = np.empty((9, u.shape[2], gh.shape[2]), gh.dtype)
    ut, vt = u.transpose(0, 2, 1), v.transpose(0, 2, 1)
    got, failed = {}, []
    todo = iter(list(range(_WEIGHT_AT)) + [None] + list(range(_WEIGHT_AT, 9)))
    finished = itertools.count(1)        # next() is atomic: the thread that counts 9 opens the passes' blocks
    made = threading.Event()
    blocks = iter(_parallel.spans(gx.shape[1], _ADJOINT_PARTS))

    def share():
        try:
            for t in todo:
                if t is None:
                    got['gw'] = _weight_from(gemm(gh, vt), wshape)
                    continue
                np.matmul(ut[t], gh[t], out=gv[t])
                if next(finished) == 9:
                    made.set()
        except BaseException:
            failed.append(1)
            made.set()
            raise
        made.wait()
        for lo, hi in blocks:
            if failed:
                return
            _adjoint_out(gv, tiles, gx, lo, hi)
    _parallel.each(share, [(), ()])
    return got['gw']


# Blocks of the input gradient's channels whose passes _shared_grads's threads share out after its products
_ADJOINT_PARTS = 4


def _grad_input_adjoint(gh, u, tiles, out):
    """The conv's input gradient (N, C, H, W), written into out, as the adjoint of its forward: per tile B [U^T
    (A g A^T)] B^T (gh (9, O, th*tw*N) the output gradient's tiles, U (9, O, 4C) the forward's), the 3x3 tiles,
    which overlap by one row and column, added up on the space-to-depth canvas, read back without the padding.
    Against grad_input's four parity convs (36 products of C rows, a 9x larger V) it reuses the weight gradient's
    tiles and the forward's U and runs 9 products of 4C rows. DCGAN batch 32, both gradients (conv_grads), min of
    150 interleaved: 32x16x16 -> 64 2.87 -> 2.57 ms, 64x8x8 -> 128 2.46 -> 2.24 at one thread; 3.79 -> 2.91, 2.58
    -> 2.24 at two (loaded machine). Without the weight gradient's tiles to share (the transposed conv's forward)
    it lost: 1.34 -> 1.39, 1.54 -> 1.68."""
    _adjoint_out(gemm(u.transpose(0, 2, 1), gh), tiles, out)


def _adjoint_out(gv, tiles, out, lo=0, hi=None):
    """The input gradient written into out (N, C, H, W) from dL/dV, gv (9, 4C, th*tw*N): B gV B^T per tile, the
    tiles added up on the space-to-depth canvas, read back without the padding. B goes along the rows first: gV's
    tile positions xi are its outermost blocks, so that pass reads whole blocks and writes runs of tw*N elements,
    where along the columns first it wrote runs of N (DCGAN's batch 32, min thread CPU of 200 interleaved (us):
    32x16x16 485 -> 429, 64x8x8 281 -> 263; the sums associate the other way round, the values differ by float
    rounding). With lo, hi: channels lo:hi of it alone (the same values; see _shared_grads)."""
    n, c, h, w = out.shape
    th, tw = tiles
    gv = gv.reshape(3, 3, 2, 2, c, th, tw, n)                                 # (xi, eta, r, cp, C, u, v, N)
    if lo or hi is not None and hi < c:
        gv, out, c = gv[:, :, :, :, lo:hi], out[:, lo:hi], hi - lo
    rows = np.empty((3, 2, 2, c, 2 * th + 1, tw, n), gv.dtype)                # B along rows, tiles added up
    _tile_adjoint(gv[0], gv[1], gv[2], rows, th, 4)
    canvas = np.empty((c, 2 * th + 1, 2, 2 * tw + 1, 2, n), gv.dtype)          # padded row 2i + r, column 2j + cp
    _tile_adjoint(rows[0], rows[1], rows[2], canvas.transpose(2, 4, 0, 1, 3, 5), tw, 4)
    from ._conv import _batch_first     # _conv imports this module
    _batch_first(canvas.reshape(c, 4 * th + 2, 4 * tw + 2, n)[:, 1:1 + h, 1:1 + w], out)


def _tile_adjoint(z0, z1, z2, out, t, axis):
    """B along one axis (the adjoint of B^T's (d0 - d1, d1, d2 - d1): (z0, z1 - z0 - z2, z2)) of t tiles of 3
    taps overlapping by one, added up into out, whose axis ``axis`` has 2t + 1 rows: row 2i takes tile i's tap 0
    and tile i - 1's tap 2, row 2i + 1 tile i's tap 1. The even rows between are written once, as the sum of
    their two taps (copying tap 0 in, then adding tap 2 on, wrote them twice and read them back), the last one as 0
    plus its tap 2 (a -0.0 tap gives +0.0, as before): the same values. _adjoint_out at DCGAN's batch 32, one
    thread, min of 300 interleaved (us): 32x16x16 535 -> 505, 64x8x8 308 -> 294."""
    lead = (slice(None),) * axis
    even, odd = out[lead + (slice(0, None, 2),)], out[lead + (slice(1, None, 2),)]
    np.subtract(z1, z0, out=odd)
    odd -= z2
    first, inner, last = (lead + (k,) for k in (0, slice(1, t), t))
    even[first] = z0[first]
    np.add(z0[inner], z2[lead + (slice(0, t - 1),)], out=even[inner])
    np.add(z2[lead + (t - 1,)], 0, out=even[last])


def tconv_grads(g, w, x, gx):
    """Gradients of the 4x4 stride-2 transposed conv of x with w from its output gradient g: the input's (the
    conv of g) written into gx (when not None), and the weight's returned (None when x is None). At two threads
    g's transform (the longer) runs beside w's and x's, then the products of both are shared: DCGAN batch 32, as
    conv_grads, two runs: 64x8x8 -> 32x16x16 1.95-1.98 -> 1.63-1.69 ms, 128x4x4 -> 64x8x8 1.64-1.65 -> 1.39-1.48
    (with x's alone beside g's and U's, nothing gained). Each gradient's passes after its products run as soon as
    they are done, on the thread that finished them (_then), beside the other's products: before, both ran on the
    calling thread after all products. 2 threads, chrt -r 10 on the loaded machine, min of 150 interleaved (us):
    SkylakeX kernels 64x8x8 -> 32x16x16 1038-1102 -> 981-1045, 128x4x4 -> 64x8x8 822-836 -> 791-792; Haswell's
    1262 -> 1225, 1074 -> 1057; inside the DCGAN step (min/p25 of 80 interleaved steps) 1314/1397 -> 1229/1340 and
    990/1375 -> 917/1108; values bit-identical."""
    hw = x.shape[2:] if x is not None else gx.shape[2:]
    if gx is None or x is None or not _parallel.side_by_side_pays(gx.nbytes + 9 * x.nbytes):
        v = None
        if gx is not None:
            v = conv(g, weight_transform(w), 1, 1, gx)
        if x is None:
            return None
        return grad_weight(x, transform_input(g, 1, 1, hw) if v is None else v, w.shape)
    got = {}
    th, tw = _tiles(hw)
    m = np.empty((9, w.shape[0], th * tw * g.shape[0]), g.dtype)
    gu = np.empty((9, w.shape[0], 4 * w.shape[1]), g.dtype)
    inputs = _then(_winograd.shared_products(m, lambda: (got['u'], got['v']), 3),
                   lambda: _conv_out(m, th, tw, g.shape[0], gx))
    weights = _then(_winograd.shared_products(gu, lambda: (got['gh'], got['v'].transpose(0, 2, 1)), 3),
                    lambda: got.setdefault('gw', _weight_from(gu, w.shape)))
    _parallel.side_by_side(lambda: got.setdefault('v', transform_input(g, 1, 1, hw)),
                           lambda: got.update(u=weight_transform(w), gh=_grad_tiles(x)), [], inputs + weights)
    return got['gw']


def _then(thunks, last):
    """``thunks`` wrapped so that the one that finishes last (on whichever thread) runs ``last()`` after it: the
    products' passes (the input gradient's output transform, the weight gradient's G^T gu G) start as soon as their
    products are done, beside the other gradient's products, not after both on the calling thread."""
    finished = itertools.count(1)       # next() is atomic

    def wrap(fn):
        def run():
            fn()
            if next(finished) == len(thunks):
                last()
        return run
    return [wrap(fn) for fn in thunks]


# -- the input gradient (the transposed conv's forward) ---------------------------------------------------------------
# Row 2m + r of the input gradient takes output-gradient rows m - 1 + r and m + r, with kernel rows 3 - r and 1 - r:
# per row and column parity (r, c) a 2x2 stride-1 conv of g (padded by 1) with the flipped kernel's taps, each on
# its own tile grid (tiles of the four parities start half a tile apart; one shared grid cost 1.5-2.25x the tiles).
# Against the GEMM of all 16 taps + col2im it replaces, DCGAN at batch 32, one thread, min of 40 interleaved:
# 64x8x8 -> 32x16x16 1.94 -> 1.69 ms, 128x4x4 -> 64x8x8 1.61 -> 1.40 (four calls of each shape a step).
def grad_input_weights(w):
    """U (9 * 4, C, O) of w (O, C, 4, 4) for grad_input, as a transposed view: G w_rc G^T per parity (r, c),
    w_rc's tap (k, l) being w[:, :, 3 - r - 2k, 3 - c - 2l]; ordered (xi, eta, r, c). Kernel positions go
    first, so every pass runs over whole (O, C) blocks."""
    o, c = w.shape[:2]
    # the kernel positions' (O, C) blocks by backend.transposed (OpenBLAS's omatcopy) rather than NumPy's copy of the
    # transposed view: (128, 64, 4, 4) 96 -> 75 us, (64, 32, 4, 4) 28 -> 28 (min thread CPU of 300 interleaved)
    taps = transposed(w.reshape(o * c, 16))[::-1].reshape(2, 2, 2, 2, o, c)     # (k, r, l, c, O, C)
    t = np.empty((3, 2, 2, 2, o, c), w.dtype)
    _transform_weight(taps[0], taps[1], t)                                # (xi, r, l, c, O, C)
    u = np.empty((3, 3, 2, 2, o, c), w.dtype)
    _transform_weight(t[:, :, 0], t[:, :, 1], u.swapaxes(0, 1))           # (eta, xi, r, c, O, C)
    np.negative(u[2], out=u[2])     # the signs _grad_input_transform leaves out of V's xi = 2 and eta = 2 tiles
    np.negative(u[:, 2], out=u[:, 2])
    return u.reshape(36, o, c).transpose(0, 2, 1)


def _grad_input_transform(p, th, tw):
    """V (9 * 4, O, th*tw*N) of the padded canvas p (O, 2th+2, 2tw+2, N), its xi = 2 and eta = 2 tiles negated
    (grad_input_weights has those signs): tile (u, v) of parity (r, c) reads rows 2u+r+k, columns 2v+c+l, k, l <
    3. B^T's rows d0 - d1, d1, -(d1 - d2) are, across tiles and parities, one array of row differences read at
    offsets 0 and 1 and p itself at 1, so V is nine strided copies of p, its row, column and row-and-column
    differences (three subtractions) instead of two passes of per-parity differences: (64, 8, 8) 0.45 -> 0.35
    ms, (128, 4, 4) 0.30 -> 0.23 (batch 32, min of 50)."""
    o, n = p.shape[0], p.shape[3]
    dr = np.subtract(p[:, :-1], p[:, 1:])
    diffs = {(1, 1): p, (0, 1): dr, (1, 0): np.subtract(p[:, :, :-1], p[:, :, 1:]),
             (0, 0): np.subtract(dr[:, :, :-1], dr[:, :, 1:])}    # by (xi odd, eta odd)
    v = np.empty((3, 3, 2, 2, o, th, tw, n), p.dtype)                    # (xi, eta, r, c, O, th, tw, N)
    for xi in range(3):
        r0 = min(xi, 1)
        for eta in range(3):
            c0 = min(eta, 1)
            a = diffs[xi & 1, eta & 1][:, r0:r0 + 2 * th, c0:c0 + 2 * tw].reshape(o, th, 2, tw, 2, n)
            v[xi, eta] = a.transpose(2, 4, 0, 1, 3, 5)
    return v.reshape(36, o, th * tw * n)


def _grad_output_transform(m, th, tw, n):
    """A^T m A of every tile of every parity in M (9 * 4, C, th*tw*N), interleaved: (C, 4th, 4tw, N)."""
    c = m.shape[1]
    m = m.reshape(3, 3, 2, 2, c, th, tw, n)
    y = np.empty((c, th, 2, 2, tw, 2, 2, n), m.dtype)                    # row 4u + 2i + r, column 4v + 2j + c
    for i in range(2):
        a = np.add(m[i], m[i + 1])
        for j in range(2):
            np.add(a[j], a[j + 1], out=y[:, :, i, :, :, j].transpose(2, 4, 0, 1, 3, 5))
    return y.reshape(c, 4 * th, 4 * tw, n)


def grad_input(g, u, out):
    """Input gradient (N, C, H, W) of the 4x4 stride-2 padding-1 conv from its output gradient g (N, O, OH,
    OW), u = grad_input_weights(w), written into out: also the transposed conv of g with w. At more than one
    thread, when V moves at least _parallel.MIN_BYTES and OpenBLAS has small-matrix kernels, the batch goes in one
    block per thread on the pool, each block's whole pass (padded copy, V, products, output transform) on its
    thread: only the products halved when they were shared, the passes around them (half the time) ran on one
    thread. A block's products are column blocks of the whole batch's (as _parallel.product cuts a product): the
    same sums, bit for bit under the SkylakeX kernels here; the blocks depend on the shapes and thread count alone.
    DCGAN batch 32, 2 threads at real-time priority on the loaded machine, min of 150 interleaved (us), SkylakeX
    kernels: 128x4x4 -> 64x8x8 611 -> 513, 64x8x8 -> 32x16x16 811 -> 622; Haswell's kernels (no small-matrix
    kernels: the narrower products ran slower) lost, 682 -> 877 and 783 -> 1007, so they keep the shared products;
    one thread unchanged."""
    th, tw = _grad_tiles_of(*out.shape[2:])
    n = g.shape[0]
    parts = _parallel.blocks(n, 36 * u.shape[2] * th * tw * n * g.itemsize)
    if len(parts) > 1 and small_kernels():
        _parallel.each(lambda lo, hi: _grad_input_block(g[lo:hi], u, th, tw, out[lo:hi]), parts)
    else:
        _grad_input_block(g, u, th, tw, out)


def _grad_input_block(g, u, th, tw, out):
    """grad_input of the samples g into out (their rows of the whole output)."""
    _grad_input_out(gemm(u, _grad_input_v(g, th, tw)), th, tw, out)


def _grad_tiles_of(h, w):
    """Tiles (th, tw) of each parity's grid for an input gradient of h x w."""
    return ((h + 1) // 2 + 1) // 2, ((w + 1) // 2 + 1) // 2


def _grad_input_v(g, th, tw):
    """V (9 * 4, O, th*tw*N) of the output gradient g for grad_input."""
    return _grad_input_transform(_padded(g, 1, 1, 2 * th + 2, 2 * tw + 2), th, tw)


def _grad_input_out(m, th, tw, out):
    """The input gradient (N, C, H, W) written into out from the products M (9 * 4, C, th*tw*N)."""
    from ._conv import _batch_first     # _conv imports this module
    _batch_first(_grad_output_transform(m, th, tw, out.shape[0])[:, :out.shape[2], :out.shape[3]], out)
