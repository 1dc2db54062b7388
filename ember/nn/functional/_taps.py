"""Convolution as one GEMM per kernel tap over only the outputs whose input is not padding, for small
images with many channels: at 4x4 with padding 1 a third of im2col's 3x3 windows are zeros, and im2col
multiplies them all. Forward y[:, rows, cols] += W_ij @ x[:, shifted rows, cols]; the input gradient
is the same sum with W_ij^T added into the shifted input slice; the weight gradient's tap ij is
g[:, rows, cols] @ x[:, shifted rows, cols]^T. Arrays are in _conv's batch-innermost (C, H, W, N) layout, so a
slice over full rows is a strided matrix GEMM reads in place; partial rows are copied (small at these sizes).
Values differ from im2col's by summation order only."""
import numpy as np

from ... import _parallel
from ...backend import gemm, transposed

_MIN_CHANNELS = 256   # input and output channels below which the tap GEMMs are too small to gain
_MAX_SIZE = 4         # output height and width above which the skipped zeros no longer pay for 9 GEMMs


class Saved:
    """What the input gradient needs: the weights as (KH, KW, O, C)."""
    __slots__ = ('w',)

    def __init__(self, w):
        self.w = w


def usable(w, s, o, groups):
    """Whether a conv with weight array w, stride s and output size o takes the per-tap path: stride 1,
    one group, outputs at most 4x4, >= 256 channels. ResNet-18's 512 -> 512 3x3 at 4x4, batch 8, min of
    15 interleaved (ms, im2col -> taps): forward 6.26 -> 6.14, input gradient 6.72 -> 4.79; its stride-2
    256 -> 512 conv to 4x4 (few zeros) lost, forward 3.25 -> 3.71."""
    return (s == (1, 1) and groups == 1 and w.shape[2] * w.shape[3] > 1 and max(o) <= _MAX_SIZE
            and min(w.shape[:2]) >= _MIN_CHANNELS)


def _ranges(size, osize, k, s, d, pad):
    """Per kernel offset i: (first output, output count, first input) of the outputs whose input
    row i*d + r*s - pad lies inside [0, size); offsets with none are left out."""
    out = []
    for i in range(k):
        off = i * d - pad
        r0 = max(0, (s - 1 - off) // s)
        r1 = min(osize, (size - 1 - off) // s + 1)
        if r1 > r0:
            out.append((i, r0, r1 - r0, r0 * s + off))
    return out


def _taps(xshape, oshape, k, s, d, pads):
    """(i, j, output slices, input slices) for each kernel tap that touches the input."""
    rows = _ranges(xshape[1], oshape[0], k[0], s[0], d[0], pads[0][0])
    cols = _ranges(xshape[2], oshape[1], k[1], s[1], d[1], pads[1][0])
    taps = []
    for i, r0, nr, a0 in rows:
        for j, c0, nc, b0 in cols:
            taps.append((i, j, (slice(r0, r0 + nr), slice(c0, c0 + nc)),
                         (slice(a0, a0 + s[0] * (nr - 1) + 1, s[0]), slice(b0, b0 + s[1] * (nc - 1) + 1, s[1]))))
    return taps


def _matrix(a, sl):
    """a[:, rows, cols] (C, H, W, N) as a (C, rows*cols*N) matrix: a view when it spans whole rows."""
    v = a[:, sl[0], sl[1]]
    return v.reshape(v.shape[0], -1)


def weights(w):
    """(O, C, KH, KW) -> contiguous (KH, KW, O, C): each tap's (O, C) matrix in one block, as the transpose of
    w's (O*C, KH*KW) rows (backend.transposed; split by output channel across threads). ResNet-18's 512x512x3x3
    at one thread, min of 15 interleaved (ms): 0.93 -> 0.24 (NumPy's transposing copy read w with a stride of 9)."""
    o, c = w.shape[:2]
    k = w.shape[2] * w.shape[3]
    wt = np.empty(w.shape[2:] + w.shape[:2], w.dtype)
    w2, wt2 = w.reshape(o * c, k), wt.reshape(k, o * c)
    _parallel.run(lambda lo, hi: transposed(w2[lo * c:hi * c], wt2[:, lo * c:hi * c]), o, w.nbytes)
    return wt


def conv(x, wt, s, d, pads, o):
    """y (O, OH, OW, N) of x (C, H, W, N) with per-tap weights wt (KH, KW, O, C): each tap's product added onto
    its output slice in tap order (see _sum_products)."""
    n = x.shape[3]
    y = np.zeros((wt.shape[2], o[0], o[1], n), x.dtype)
    taps = _taps(x.shape, o, wt.shape[:2], s, d, pads)

    def add(k, part):
        osl = taps[k][2]
        y[:, osl[0], osl[1]] += part.reshape(y.shape[0], osl[0].stop - osl[0].start, -1, n)
    _sum_products(gemm, [(wt[i, j], _matrix(x, isl)) for i, j, _, isl in taps], add, wt.nbytes)
    return y


def _sum_products(product, items, add, nbytes):
    """add(k, product(*item)) for each k, item in items, in order. At more than one thread the products run on
    ember._parallel's pool, each as on one thread, and are added in the same order, so values do not depend on the
    thread count (one product's rows or columns split across threads changed OpenBLAS's roundings): ResNet-18's
    512x4x4 convs, batch 8, two threads, min of 40 interleaved on the loaded machine (ms, with the weight copy):
    forward 10.80 -> 5.57, input gradient 11.09 -> 5.54 (OpenBLAS's own threads); one thread 5.59 -> 5.70 and
    5.59 -> 5.62 (min thread CPU time of 20, within noise). The adds go beside the products still running
    (_parallel.each_then) where they followed them all (nine adds, 0.14 ms of the forward)."""
    if len(_parallel.blocks(len(items), nbytes)) == 1:
        for k, part in enumerate([product(*item) for item in items]):
            add(k, part)
    else:
        _parallel.each_then(product, items, add)


def grads(g, x, wt, s, d, pads, hw, wshape):
    """(input gradient (C, H, W, N) of size hw, weight gradient (O, C, KH, KW)) from the output gradient g (O, OH,
    OW, N), the input x (C, H, W, N; None: no weight gradient) and the per-tap weights wt (None: no input
    gradient), None for one not asked for. The input gradient is each tap's W_ij^T g product added into its
    shifted input slice in tap order; the weight gradient's tap ij is g[:, rows, cols] @ x[:, shifted rows,
    cols]^T, into a (KH*KW, O, C) stack transposed to w's layout at the end (backend.transposed). At more than one
    thread all the products of both gradients are shared out in one go on ember._parallel's pool, each whole on
    one thread as at one thread, and the transpose is split by rows, so values do not depend on the thread count.

    Against im2col's product over every window (a third of them padding here), ResNet-18's 512x4x4 convs, batch 8,
    backward (both gradients), min of 20 interleaved, two runs (ms): 1 thread (thread CPU) 9.57 -> 8.93, 9.72 ->
    9.06; 2 threads 5.76 -> 5.17, 5.56 -> 5.21 (float32 error against float64 as im2col's and PyTorch's, 1.7e-7).
    Both gradients' products in one share-out instead of one after the other (one hand-over, and neither
    gradient's last product runs alone while the other thread idles), 2 threads, min/median of 100 interleaved at
    real-time priority on the loaded machine: 3.54/3.69 -> 3.40/3.55 ms."""
    o, c, kh, kw = wshape
    taps_x = [] if wt is None else _taps((0,) + tuple(hw), g.shape[1:3], (kh, kw), s, d, pads)
    taps_w = [] if x is None else _taps(x.shape, g.shape[1:3], (kh, kw), s, d, pads)
    stack = None if x is None else _stack(taps_w, wshape, g.dtype)

    def product(weight, i, j, osl, isl):
        if weight:
            gemm(_matrix(g, osl), _matrix(x, isl).T, out=stack[i * kw + j])
            return None
        return gemm(wt[i, j].T, _matrix(g, osl))
    items = [(True,) + t for t in taps_w] + [(False,) + t for t in taps_x]
    nbytes = g.dtype.itemsize * o * c * kh * kw * ((wt is not None) + (x is not None))
    gx = None if wt is None else np.zeros((c, hw[0], hw[1], g.shape[3]), g.dtype)

    def add(k, part):       # the input gradient's products onto their input slices, in tap order
        if k >= len(taps_w):
            _, _, osl, isl = taps_x[k - len(taps_w)]
            gx[:, isl[0], isl[1]] += part.reshape(c, osl[0].stop - osl[0].start, -1, g.shape[3])
    _sum_products(product, items, add, nbytes)
    gw = None if x is None else from_taps(stack.reshape(kh, kw, o, c))
    return gx, gw


def _stack(taps, wshape, dtype):
    """The (KH*KW, O, C) array the weight gradient's tap products are written into: zeros when a tap reads only
    padding (it has no product, so no gradient), else left uninitialized, every tap's block being written
    (ResNet-18's 512x512x3x3: a 9.4 MB memset less per backward, 0.11 -> 0.04 ms alone)."""
    o, c, kh, kw = wshape
    return (np.empty if len(taps) == kh * kw else np.zeros)((kh * kw, o, c), dtype)


def from_taps(wt):
    """(KH, KW, O, C) -> contiguous (O, C, KH, KW), the inverse of ``weights`` (split by rows across threads)."""
    kh, kw, o, c = wt.shape
    w = np.empty((o, c, kh, kw), wt.dtype)
    rows, cols = wt.reshape(kh * kw, o * c), w.reshape(o * c, kh * kw)
    _parallel.run(lambda lo, hi: transposed(rows[:, lo:hi], cols[lo:hi]), o * c, w.nbytes)
    return w
