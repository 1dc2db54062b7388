"""Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (Lavin & Gray, 2015): each 2x2 output tile is
A^T [(G w G^T) * (B^T d B)] A of its 4x4 input tile d, so the products become 16 GEMMs (one per tile
position) with 16 multiplies per 4 outputs instead of 36. The input gradient is the same convolution of
the output gradient with the flipped, transposed kernel; the weight gradient is G^T [sum over tiles of
(A g A^T) * (B^T d B)] G, 16 GEMMs against the transformed input kept from the forward pass. The
coefficients are 0, +-1/2 and +-1, so values differ from a direct sum by float rounding only (max
relative error 4e-7 to 7e-7 in float32 on ResNet-18's shapes, as im2col's).

Used where it measured faster than im2col + one GEMM (see ``usable``); tiles work in the batch-innermost
layout of _conv, with rows and columns split by parity so that every tap of a stride-2 tile is a block
slice of long contiguous runs."""
import numpy as np

from ... import _parallel
from ...backend import gemm, small_kernels

_MIN_CHANNELS = 64    # input channels (and output channels) below which the 16 GEMMs lose to im2col's ...
_MIN_CHUNKED_CHANNELS = 32   # ... unless the conv runs in batch chunks (see ``usable``)
_MIN_TILES = 128      # tile columns (tiles x batch) below which the transformed weights cost more than they save
_CHUNK_FROM = 24 << 20   # bytes of V and M (transformed input and products) from which they go a few samples at a time
_CHUNK_BYTES = 6 << 20   # ... about this many bytes of them per chunk

_G = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]])
_A = np.array([[1, 0], [1, 1], [1, -1], [0, -1]])
_KW = {np.dtype(t): np.kron(_G, _G).astype(t) for t in (np.float32, np.float64)}   # (16, 9): w -> G w G^T
_SIGN = np.array([1, 1, 1, -1])
# kron(G, G) with the sign of A's last row folded in: grad_weight's tile transform skips those negations
_KG = {t: (k * np.outer(_SIGN, _SIGN).reshape(16, 1)).astype(t) for t, k in _KW.items()}
_SIGN16 = np.outer(_SIGN, _SIGN).reshape(16, 1, 1)   # that sign per tile position, for U in the input gradient
_FLIP = np.array([3, 1, 2, 0])          # G J = G[_FLIP] for the flip J: the flipped kernel's transform
_FLIP16 = (4 * _FLIP[:, None] + _FLIP[None, :]).ravel()    # ... of both spatial dims, per tile position


class Saved:
    """What backward needs: U, the transformed weights, and V, the transformed input (None when the
    weight needs no gradient)."""
    __slots__ = ('u', 'v')

    def __init__(self, u, v):
        self.u, self.v = u, v


class Chunked(Saved):
    """What the backward of a conv run in batch chunks needs: U and the chunks (V is rebuilt per chunk)."""
    __slots__ = ('chunks',)

    def __init__(self, u, chunks):
        super().__init__(u, None)
        self.chunks = chunks


def usable(x, w, s, d, groups, pads):
    """Whether the conv of array x with w takes the Winograd path: 3x3, stride 1, no dilation, one group,
    top and left padding at most 2, float32/64, and enough channels and tiles to pay (ResNet-18 at 32x32
    batch 8, min of 15 A/B: 64x32x32 6.8 -> 5.4 ms, 128x16x16 6.9 -> 3.9, 256x8x8 6.0 -> 4.9 forward;
    512x4x4 (32 tile columns) 10.3 -> 11.2 loses). From 32 channels when it runs in batch chunks (see
    ``chunks``): MNIST's 32 -> 64 channels at 26x26, batch 64, lost whole (forward 17 -> 25 ms) and wins
    in chunks (see ``forward``)."""
    if w.shape[2:] != (3, 3) or s != (1, 1) or d != (1, 1) or groups != 1 or x.dtype not in _KW:
        return False
    if pads[0][0] > 2 or pads[1][0] > 2 or min(w.shape[:2]) < _MIN_CHUNKED_CHANNELS:
        return False
    oh, ow = (x.shape[2] + sum(pads[0]) - 2), (x.shape[3] + sum(pads[1]) - 2)
    if min(w.shape[:2]) < _MIN_CHANNELS and len(chunks(x, w.shape[0] + w.shape[1], (oh, ow))) == 1:
        return False
    return ((oh + 1) // 2) * ((ow + 1) // 2) * x.shape[0] >= _MIN_TILES


def chunks(x, channels, o):
    """Batch slices for a conv of x to output size o: one, or cache-sized ones when V and M (16 x tiles x
    ``channels``, the input's and output's together) would pass _CHUNK_FROM bytes."""
    n = x.shape[0]
    th, tw = _tiles(o)
    per_sample = 16 * channels * th * tw * x.itemsize
    if n * per_sample < _CHUNK_FROM:
        return [slice(0, n)]
    step = max(1, _CHUNK_BYTES // per_sample)
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def split(x, top, left, th, tw):
    """(N, C, H, W) -> zero-padded (C, 2, th+1, 2, tw+1, N) with padded row 2*i+p at [:, p, i] (columns
    alike): a 4x4 tile's tap (i, j) over all tiles is then the block [:, i%2, i//2:, j%2, j//2:]."""
    n, c, h, wd = x.shape
    q = np.zeros((c, 2, th + 1, 2, tw + 1, n), x.dtype)
    xt = x.transpose(1, 2, 3, 0)
    for ph in range(2):
        r0, i0, nr = _parity(ph, top, h, th)
        for pw in range(2):
            c0, j0, nc = _parity(pw, left, wd, tw)
            q[:, ph, i0:i0 + nr, pw, j0:j0 + nc] = xt[:, r0:r0 + 2 * nr:2, c0:c0 + 2 * nc:2]
    return q


def unsplit(q, top, left, out):
    """Inverse of ``split``: the (N, C, H, W) array ``out`` read back from the split canvas q, dropping
    the padding (one strided copy per row and column parity)."""
    h, wd = out.shape[2:]
    th, tw = q.shape[2] - 1, q.shape[4] - 1
    for ph in range(2):
        r0, i0, nr = _parity(ph, top, h, th)
        for pw in range(2):
            c0, j0, nc = _parity(pw, left, wd, tw)
            out[:, :, r0:r0 + 2 * nr:2, c0:c0 + 2 * nc:2] = q[:, ph, i0:i0 + nr, pw, j0:j0 + nc].transpose(3, 0, 1, 2)
    return out


def _parity(p, pad, size, tiles):
    """First source row with padded-row parity p, its row in the split canvas, and how many such rows
    land in the canvas (rows past it are not read by any tile)."""
    r0 = (p - pad) % 2
    i0 = (r0 + pad) // 2
    return r0, i0, max(0, min(len(range(r0, size, 2)), tiles + 1 - i0))


def _input_transform(x, top, left, th, tw, out=None):
    """B^T d B of every 4x4 tile of x (N, C, H, W) padded by top/left: V (16, C, th*tw*N), in out if given."""
    q = split(x, top, left, th, tw)
    c, n = q.shape[0], q.shape[-1]
    d = [q[:, i % 2, i // 2:i // 2 + th] for i in range(4)]
    t = np.empty((4, c, th, 2, tw + 1, n), q.dtype)
    np.subtract(d[0], d[2], out=t[0])
    np.add(d[1], d[2], out=t[1])
    np.subtract(d[2], d[1], out=t[2])
    np.subtract(d[1], d[3], out=t[3])
    e = [t[:, :, :, j % 2, j // 2:j // 2 + tw] for j in range(4)]
    if out is None:
        out = np.empty((16, c, th * tw * n), q.dtype)
    v = out.reshape(4, 4, c, th, tw, n)
    np.subtract(e[0], e[2], out=v[:, 0])
    np.add(e[1], e[2], out=v[:, 1])
    np.subtract(e[2], e[1], out=v[:, 2])
    np.subtract(e[1], e[3], out=v[:, 3])
    return out


def weight_transform(w):
    """G w G^T of every (out, in) kernel of w (O, I, 3, 3): U (16, O, I), one GEMM with kron(G, G)."""
    o, i = w.shape[:2]
    return gemm(_KW[w.dtype], w.reshape(o * i, 9).T).reshape(16, o, i)


def _output_transform(m, th, tw, n, out):
    """A^T m A of every tile of M (16, O, th*tw*N), written (cropped) into out (N, O, H, W): each of a
    tile's four output positions goes straight to its strided place in out, with no (O, H, W, N)
    array in between (64x32x32 outputs, batch 8: 1.05 -> 0.72 ms with the copy it saves, 128x16x16 0.42
    -> 0.32; min CPU of 30 interleaved)."""
    o = m.shape[1]
    m = m.reshape(4, 4, o, th, tw, n)
    r0 = np.add(m[0], m[1])
    r0 += m[2]
    r1 = np.subtract(m[1], m[2])
    r1 -= m[3]
    h, w = out.shape[2:]
    a = np.empty((o, th, tw, n), m.dtype)
    for p, r in enumerate((r0, r1)):
        for q in range(2):
            if q == 0:
                np.add(r[0], r[1], out=a)
                a += r[2]
            else:
                np.subtract(r[1], r[2], out=a)
                a -= r[3]
            out[:, :, p::2, q::2] = a[:, :(h - p + 1) // 2, :(w - q + 1) // 2].transpose(3, 0, 1, 2)
    return out


def _tiles(hw):
    return (hw[0] + 1) // 2, (hw[1] + 1) // 2


def conv(x, u, top, left, out, flip=False):
    """conv of x (N, C, H, W) with transformed weights u (16, O, C), padded by top/left, written into
    out (N, O, OH, OW); returns V, the transformed input. With ``flip``, u is (16, C, O), the transform of the
    kernel whose flip and transpose this conv applies (the input gradient's)."""
    v = _transform_input(x, top, left, out)
    if flip:
        _transform_output(_products(u, v, flip), out)
    else:
        _products_out(u, v, out)
    return v


def _transform_input(x, top, left, out, first=None):
    """V (16, C, th*tw*N) of x (N, C, H, W) padded by top/left, for the conv written into out: split by channel;
    with ``first``, (first(), V), first() run beside the channel blocks (_parallel.beside)."""
    th, tw = _tiles(out.shape[2:])
    n, c = x.shape[:2]
    v = np.empty((16, c, th * tw * n), x.dtype)

    def block(lo, hi):
        _input_transform(x[:, lo:hi], top, left, th, tw, v[:, lo:hi])
    if first is None:
        _parallel.run(block, c, v.nbytes)
        return v
    return _parallel.beside(first, block, c, v.nbytes), v


def _transform_output(m, out):
    """A^T m A of the products M (16, O, th*tw*N) into out (N, O, OH, OW): split by channel."""
    th, tw = _tiles(out.shape[2:])
    n = out.shape[0]
    _parallel.run(lambda lo, hi: _output_transform(m[:, lo:hi], th, tw, n, out[:, lo:hi]), m.shape[1], m.nbytes)


def _products_out(u, v, out):
    """_transform_output(_products(u, v), out) with the products and the transform in one share-out (see
    products_then)."""
    th, tw = _tiles(out.shape[2:])
    n = out.shape[0]
    products_then(u, v, lambda m, lo, hi: _output_transform(m, th, tw, n, out[:, lo:hi]))


def _products(a, b, flip=False):
    """The products a[t] @ b[t] of every tile position t, or with ``flip`` a[_FLIP16[t]].T @ b[t]: the flipped
    kernel's transform read in place, one 2-D product per position (against a gather of a and one stacked
    product of its transposed matrices: ResNet-18's 256x8x8 input gradient 3.49 -> 3.38 ms, min thread CPU
    time of 40). With more than one thread the transforms around them split by channel and the products by
    tile position, on ember._parallel's pool: each block is computed as on one thread, so values do not depend
    on the thread count (one product's rows split across threads changed OpenBLAS's roundings), where
    OpenBLAS threading each small product gained nothing (ResNet-18's 64x32x32 forward took 5.6 ms at two
    threads, 5.2 at one, min of 30)."""
    blocks = _parallel.blocks(len(a), a.nbytes + b.nbytes)
    if len(blocks) == 1 and not flip:
        return gemm(a, b)
    out = np.empty((len(a), a.shape[2] if flip else a.shape[1], b.shape[2]), np.result_type(a, b))

    def part(lo, hi):
        if flip:
            for t in range(lo, hi):
                out[t] = gemm(a[_FLIP16[t]].T, b[t])
        else:     # on the pool: one BLAS thread each
            np.matmul(a[lo:hi], b[lo:hi], out=out[lo:hi])
    _parallel.each(part, blocks)
    return out


def products_then(u, v, transform):
    """transform(M[:, lo:hi], lo, hi) over output channel blocks of the products M = u[t] @ v[t] of every tile
    position (u (T, O, C), v (T, C, K)): one call with the whole M where _products keeps them on one thread; at
    more threads each thread takes a block of output channels (rows lo:hi of every product, one stacked matmul on one
    BLAS thread) and transforms it at once, in the same share-out, where the products went by tile position and
    the transform by channel in a second one (a hand-over, and a wait for the slower thread, fewer; the block's M
    is still in the cache). The rows of a product are OpenBLAS's whatever rows it is asked for: values as on one
    thread (test_parallel). Conv forward at 2 threads, batch 8, min / p25 / median of 200 interleaved on the
    loaded machine at real-time priority (us): 128x16x16 2632 / 3001 / 3542 -> 2589 / 2885 / 3353, 64x16x16 1273
    / 1562 / 1984 -> 1232 / 1458 / 1815, 64x32x32 3428 / 3756 / 4495 -> 3372 / 3871 / 4507."""
    blocks = _parallel.blocks(u.shape[1], u.nbytes + v.nbytes)
    if len(blocks) == 1:
        transform(_products(u, v), 0, u.shape[1])
        return
    if not small_kernels():     # a block of a product's rows is not rounded as the whole product's
        m = _products(u, v)
        _parallel.each(lambda lo, hi: transform(m[:, lo:hi], lo, hi), blocks)
        return
    _parallel.each(lambda lo, hi: transform(np.matmul(u[:, lo:hi], v), lo, hi), blocks)


def shared_products(out, operands, parts, flip=False):
    """Thunks for _parallel.side_by_side that compute ``_products(A, B, flip)`` into out on ``parts`` slices of
    the stack, with (A, B) = operands() read when one runs: each slice on one BLAS thread (the pool's), as a
    whole stack's products on one thread; slices rather than single products, each a GIL round trip."""
    n = len(out)

    def part(lo, hi):
        a, b = operands()
        if flip:
            for t in range(lo, hi):
                out[t] = gemm(a[_FLIP16[t]].T, b[t])
        else:
            np.matmul(a[lo:hi], b[lo:hi], out=out[lo:hi])
    cuts = [n * i // parts for i in range(parts + 1)]
    return [lambda lo=lo, hi=hi: part(lo, hi) for lo, hi in zip(cuts, cuts[1:])]


def forward(x, w, top, left, out):
    """conv of x with weights w (O, C, 3, 3) into out, as ``conv`` with U = weight_transform(w); returns what
    backward needs. A whole batch makes U beside V's channel blocks (as _winograd4.forward). A big batch
    goes a few samples at a time, so V and M stay in the cache (MNIST's 32 -> 64 channels at 26x26, batch
    64, one thread, min of 10: 24.6 ms whole, 15.1 in chunks of 16 samples, 12.8 of 8, 13.6 of 4; im2col
    15.3); its backward rebuilds V chunk by chunk (see ``chunked_grads``) rather than keep it."""
    parts = chunks(x, w.shape[0] + w.shape[1], out.shape[2:])
    if len(parts) == 1:
        u, v = _transform_input(x, top, left, out, lambda: weight_transform(w))
        _products_out(u, v, out)
        return Saved(u, v)
    u = weight_transform(w)
    _parallel.each(lambda sl: conv(x[sl], u, top, left, out[sl]), [(sl,) for sl in parts])
    return Chunked(u, parts)


def chunked_grads(g, x, saved, top, left, gx, wshape):
    """Gradients of a conv that ran in chunks, chunk by chunk: the input's written into gx (when not None)
    and the weight's returned (when x is not None). A chunk's A g A^T tiles feed both products; the input
    gradient is the forward's adjoint (U^T times them, then B . B^T of each tile added onto the input), so
    its transforms run at the input's channel count on the forward's tiles. Chunks run on ember._parallel's
    threads, as the forward's."""
    th, tw = _tiles(g.shape[2:])
    o = g.shape[1]
    ut = np.ascontiguousarray((saved.u * _SIGN16.astype(saved.u.dtype)).transpose(0, 2, 1)) if gx is not None else None

    def chunk(sl):
        gh = _grad_tiles(g[sl]).reshape(16, o, -1)
        if gx is not None:
            _input_grad(gemm(ut, gh), top, left, th, tw, gx[sl])
        if x is not None:
            return gemm(gh, _input_transform(x[sl], top, left, th, tw).transpose(0, 2, 1))
    gu = chunk_sum(chunk, saved.chunks)
    if x is None:
        return None
    return _weight_from(gu, wshape)


def chunk_sum(chunk, chunks):
    """Run ``chunk(sl)`` for every batch slice on ember._parallel's threads and add what they return (a chunk's
    transformed weight gradient) in chunk order, whatever the thread count; None where chunks return None."""
    parts = _parallel.each(chunk, [(sl,) for sl in chunks])
    if parts[0] is None:
        return None
    for part in parts[1:]:
        np.add(parts[0], part, out=parts[0])
    return parts[0]


def _untap(g, even, odd, axis):
    """Adjoint of _input_transform's taps (d0 - d2, d1 + d2, d2 - d1, d1 - d3) along one axis, tap i reading
    lines i//2 on of those with parity i%2: d0 = g0, d1 = g1 - g2 + g3, d2 = g1 + g2 - g0, d3 = -g3, written
    into the even and odd lines (one more of each than g has)."""
    head = (slice(None),) * axis + (slice(0, -1),)
    tail = (slice(None),) * axis + (slice(1, None),)
    last = (slice(None),) * axis + (-1,)
    np.copyto(even[head], g[0])
    even[last] = 0
    d2 = np.add(g[1], g[2])
    d2 -= g[0]
    even[tail] += d2
    np.subtract(g[1], g[2], out=odd[head])
    odd[head] += g[3]
    odd[last] = 0
    odd[tail] -= g[3]


def _input_grad(gv, top, left, th, tw, out):
    """Adjoint of _input_transform: B gV B^T of every tile, added up on the split canvas and read back
    into out (N, C, H, W), given gV (16, C, th*tw*N)."""
    n, c = out.shape[:2]
    gv = gv.reshape(4, 4, c, th, tw, n)
    t = np.empty((4, c, th, 2, tw + 1, n), gv.dtype)
    _untap([gv[:, j] for j in range(4)], t[:, :, :, 0], t[:, :, :, 1], 3)
    q = np.empty((c, 2, th + 1, 2, tw + 1, n), gv.dtype)
    _untap(list(t), q[:, 0], q[:, 1], 1)
    unsplit(q, top, left, out)


def grad_input(g, u, top, left, out):
    """Gradient w.r.t. the input of the conv with transformed weights u and padding top/left, given its
    output gradient g (N, O, OH, OW), written into out (N, C, H, W)."""
    conv(g, u, 2 - top, 2 - left, out, flip=True)


def grads(g, saved, top, left, gx, wshape):
    """Both gradients of the conv with the forward's U and V (``saved``): the input's written into gx, the weight's
    returned; side by side at more than one thread (see side_grads)."""
    if not _parallel.side_by_side_pays(g.nbytes + saved.v.nbytes):
        gw = grad_weight(g, saved.v, wshape)       # in this order, as before side_grads
        grad_input(g, saved.u, top, left, gx)
        return gw
    th, tw = _tiles(gx.shape[2:])
    n = g.shape[0]
    return side_grads(lambda: (saved.u, _transform_input(g, 2 - top, 2 - left, gx)),
                      lambda: grad_weight(g, saved.v, wshape), gx.shape[1],
                      lambda m, lo, hi: _output_transform(m, th, tw, n, gx[:, lo:hi]), flip=True)


# Blocks of the input gradient's channels that side_grads's threads share out: the thread that made the operands
# starts on them while the other still runs the weight gradient, so more blocks than threads balance the two
# (each block's output transform is some 50 short NumPy calls, so not many more)
_SIDE_PARTS = 4


def side_grads(operands, weight_grad, rows, transform, flip=False):
    """A backward's two gradients side by side on ember._parallel's pool: one thread makes the input gradient's
    (U, V) = operands() while the other runs weight_grad(), then both share the input gradient's products in
    _SIDE_PARTS blocks of their ``rows`` (its channels; with ``flip`` U[_FLIP16[t]].T's rows), each block's products
    made on one BLAS thread and handed at once, on the same thread, to transform(M[:, lo:hi], lo, hi); returns the
    weight gradient. Against both gradients' passes each split by channel and tile position: the NumPy passes run
    whole on one thread, not halved, so fewer GIL round trips and worker wake-ups. Batch 8, 2 threads, fwd+bwd min
    of 60 interleaved at real-time priority, two runs (ms): 128x16x16 (F(4x4)) 5.48 / 5.50 -> 4.85 / 4.75, 256x8x8
    (F(2x2)) 4.65 / 4.60 -> 4.34 / 4.53; the ResNet-18 step's backward, min of 15-25 interleaved, three runs: 85.1
    -> 83.0, 96.1 -> 93.0, 87.7 -> 86.0. The transform then ran after all the products, split by channel in a
    second share-out; in the same one (one hand-over and one wait fewer, the block's M still in the cache), the
    backward at 2 threads, min / p25 / median of 100 interleaved (us): 64x32x32 5433 / 5975 / 6179 -> 5332 / 5642 /
    5841, 128x16x16 4185 / 4475 / 4596 -> 4021 / 4402 / 4533, 256x8x8 4846 / 5128 / 5335 -> 4578 / 4884 / 4998.
    Values as on one thread (the rows of a product are OpenBLAS's whatever rows it is asked for)."""
    if not small_kernels():     # a block of a product's rows is not rounded as the whole product's
        return _side_grads_whole(operands, weight_grad, rows, transform, flip)
    got = {}

    def block(lo, hi):
        u, v = got['uv']
        if not flip:
            transform(np.matmul(u[:, lo:hi], v), lo, hi)
            return
        m = np.empty((len(v), hi - lo, v.shape[2]), v.dtype)
        for t in range(len(v)):
            gemm(u[_FLIP16[t]][:, lo:hi].T, v[t], out=m[t])
        transform(m, lo, hi)
    thunks = [lambda lo=lo, hi=hi: block(lo, hi) for lo, hi in _parallel.spans(rows, _SIDE_PARTS)]
    _parallel.side_by_side(lambda: got.setdefault('uv', operands()), lambda: got.setdefault('gw', weight_grad()),
                           thunks, [])
    return got['gw']


def _side_grads_whole(operands, weight_grad, rows, transform, flip):
    """side_grads where OpenBLAS has no small-matrix kernels (Haswell's): there a product cut into blocks of its
    rows (or columns) rounds otherwise in the last bits than whole, so one thread's values (each product whole)
    and two threads' differed (ResNet-18's 64x32x32, 128x16x16 and 256x8x8 convs' outputs and input gradients).
    Here each product is made whole, the tile positions shared out in _SIDE_PARTS slices beside the weight
    gradient, and the transform's channel blocks are shared after them."""
    got = {}

    def first():
        u, v = operands()
        got['m'] = np.empty((len(v), u.shape[2] if flip else u.shape[1], v.shape[2]), np.result_type(u, v))
        got['uv'] = u, v

    def part(i):
        (u, v), m = got['uv'], got['m']
        lo, hi = len(v) * i // _SIDE_PARTS, len(v) * (i + 1) // _SIDE_PARTS
        if not flip:
            np.matmul(u[lo:hi], v[lo:hi], out=m[lo:hi])
            return
        for t in range(lo, hi):
            gemm(u[_FLIP16[t]].T, v[t], out=m[t])
    _parallel.side_by_side(first, lambda: got.setdefault('gw', weight_grad()),
                           [lambda i=i: part(i) for i in range(_SIDE_PARTS)], [])
    m = got['m']
    _parallel.each(lambda lo, hi: transform(m[:, lo:hi], lo, hi), _parallel.spans(rows, _SIDE_PARTS))
    return got['gw']


def grad_weight(g, v, wshape):
    """Gradient w.r.t. w (O, I, 3, 3) from the output gradient g (N, O, OH, OW) and the forward's V."""
    n, o, h, w = g.shape
    th, tw = _tiles((h, w))
    gh = (np.empty if h % 2 == 0 and w % 2 == 0 else np.zeros)((4, 4, o, th, tw, n), g.dtype)
    _parallel.run(lambda lo, hi: _grad_tiles(g[:, lo:hi], gh[:, :, lo:hi]), o, gh.nbytes)
    return _weight_from(_products(gh.reshape(16, o, -1), v.transpose(0, 2, 1)), wshape)


def _weight_from(gu, wshape):
    """G^T gu G per (o, i) of gu (16, O, I), the products of the tiles: the weight gradient."""
    return gemm(gu.reshape(16, -1).T, _KG[gu.dtype]).reshape(wshape)


def _grad_tiles(g, gh=None):
    """A g A^T of every 2x2 tile of g (N, O, OH, OW), with A's last row negated (see _KG): (4, 4, O, th, tw,
    N), in gh if given (zero where the tiles overhang g). The four corners are g's four parity planes, copied
    straight in (no split canvas); the other twelve are their sums and differences, made in place: 8 fewer
    tile-sized passes than split + row and column transforms (batch 8: 64x32x32 1.16 -> 0.62 ms, 128x16x16
    0.45 -> 0.22, 256x8x8 0.27 -> 0.12; min CPU of 40)."""
    n, o, h, w = g.shape
    if gh is None:
        th, tw = _tiles((h, w))
        gh = (np.empty if h % 2 == 0 and w % 2 == 0 else np.zeros)((4, 4, o, th, tw, n), g.dtype)
    gt = g.transpose(1, 2, 3, 0)
    for p in range(2):
        for q in range(2):
            gh[3 * p, 3 * q, :, :(h - p + 1) // 2, :(w - q + 1) // 2] = gt[:, p::2, q::2]
    for b in (0, 3):
        np.add(gh[0, b], gh[3, b], out=gh[1, b])
        np.subtract(gh[0, b], gh[3, b], out=gh[2, b])
    np.add(gh[:, 0], gh[:, 3], out=gh[:, 1])
    np.subtract(gh[:, 0], gh[:, 3], out=gh[:, 2])
    return gh
