"""Convolutions (conv1d/2d, conv_transpose1d/2d, unfold/fold): windows of an ``as_strided`` view copied
once into an im2col matrix and one GEMM forward; backward is two GEMMs and a col2im that adds shifted
slices (one vectorized add per kernel offset). Column matrices too big for the cache are built a few
samples at a time (one GEMM per chunk). 1-D convolutions run as 2-D ones with a height of 1.
Faster paths where they measured faster: 3x3 stride-1 convs as Winograd F(4x4, 3x3) on images with sides
a multiple of 4 and padding 1 (_winograd4), big batches with output sides a multiple of 4 as F(4x4, 3x3) in
batch chunks (_winograd4_chunked), else F(2x2, 3x3) (_winograd), 4x4 stride-2 ones as F(2x2, 2x2)
(_winograd_s2), 3x3 stride-2 ones in a polyphase Winograd form (_stride2), small images with many channels
one GEMM per kernel tap (_taps); stride-2 windows are read from a parity-split copy (see _columns)."""
import math

import numpy as np

from ..._dtype import bfloat16 as _BF16, float32 as _F32, cpp_name, scalar_name, type_string
from ...ops import _composite, _flop_hook, _halfgemm, _sumorder
from ...ops._util import not_implemented, check_tensor_args, check_inner_args
from ...autograd import forward_refusal
from ..._warn import warn_user
from ...autograd import dual, graph
from ...autograd.grad_mode import GRAD
from ...autograd.graph import MODE, Node
from ... import _bf16, _layout, _meta, _parallel, _quiet
from ...backend import blas_threads, exact_kernels, gemm, gemm_narrow, strided_view, transposed
from ...tensor import Tensor
from ...amp import _state as _autocast
from . import _conv_twice, _depthwise, _stride2, _taps, _winograd, _winograd4, _winograd4_chunked, _winograd_s2

__all__ = ['conv1d', 'conv2d', 'conv_tbc', 'conv_transpose1d', 'conv_transpose2d', 'unfold', 'fold']



# -- argument handling ----------------------------------------------------------------------------------------
def _tuple(v, n, name='argument'):
    """An int or a length-n sequence as an n-tuple of ints."""
    if type(v) is tuple and len(v) == n:
        return v
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(i) for i in v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise RuntimeError(f'expected {name} to be a single integer value or a list of {n} values to match the '
                           f'convolution dimensions, but got {name}={list(v)}')
    return v


def _size(shape):
    return '[' + ', '.join(map(str, shape)) + ']'


def _mkldnn(input, weight, stride, dilation, nd):
    """Whether PyTorch's CPU convolution takes its mkldnn path (ConvParams::use_mkldnn), whose dtype checks and
    messages differ: bfloat16 always; float32 unless a 1x1, unstrided, undilated kernel on a small input runs on
    one thread (there its own kernel is faster)."""
    if input.dtype is _BF16:     # mkldnn_bf16_device_check: AVX-512 BW, VL and DQ (an AVX2 CPU takes ATen's path)
        return _halfgemm.cpu_has('AVX512BW', 'AVX512VL', 'AVX512DQ')
    if input.dtype is not _F32:
        return False
    stride, dilation = _tuple(stride, nd, 'stride'), _tuple(dilation, nd, 'dilation')
    return (any(s != 1 for s in stride) or any(d != 1 for d in dilation) or input.numel() >= 16384
            or math.prod(weight.shape[2:]) != 1 or blas_threads() > 1)


def _check_dtypes(input, weight, bias, transposed, conv_args):
    """PyTorch's dtype checks, in its order: a convolution checks the bias before the weight; a transposed one
    casts its bias to the input's dtype (in _prep) unless the mkldnn path refuses it. A complex input with a real
    weight, or one on the mkldnn path with another weight, is refused by the mkldnn type check's message.
    ``conv_args`` (stride, dilation, nd) decide the path, read only on a mismatch."""
    x, w, b = input.dtype, weight.dtype, None if bias is None else bias.dtype
    if b is not None and b != x and not transposed:
        raise RuntimeError(f'Input type ({cpp_name(x)}) and bias type ({cpp_name(b)}) should be the same')
    if w != x:
        msg = f'Input type ({type_string(x)}) and weight type ({type_string(w)}) should be the same'
        if x.is_complex and not w.is_complex:
            raise RuntimeError(msg)
        if _mkldnn(input, weight, *conv_args):
            raise RuntimeError(msg + ' or input should be a MKLDNN tensor and weight is a dense tensor')
        raise RuntimeError(f'expected scalar type {scalar_name(x)} but found {scalar_name(w)}')
    if b is not None and b != x and _mkldnn(input, weight, *conv_args):
        raise RuntimeError(f'Input type ({type_string(x)}) and bias type ({type_string(b)}) should be the same '
                           'or input should be a MKLDNN tensor and bias is a dense tensor')


def _same_pads(k, d):
    """(before, after) zero padding that keeps the size for stride 1 (PyTorch puts the odd one after)."""
    total = [di * (ki - 1) for ki, di in zip(k, d)]
    return [(t // 2, t - t // 2) for t in total]


def _conv_pads(padding, k, s, d, nd):
    if isinstance(padding, str):
        if padding == 'valid':
            return [(0, 0)] * nd
        if padding == 'same':
            if any(si != 1 for si in s):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = _same_pads(k, d)
            if any(a != b for a, b in pads):
                warn_user("Using padding='same' with even kernel lengths and odd dilation may require a zero-padded "
                          "copy of the input be created", once=True)
            return pads
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    p = _tuple(padding, nd, 'padding')
    if any(pi < 0 for pi in p):
        raise RuntimeError('negative padding is not supported')
    return [(pi, pi) for pi in p]


def same_padded(input, pads):
    """(input, padding) of a padding='same' convolution whose padding is one longer after than before (an even
    kernel): PyTorch pads the input by the difference first (ConstantPadNdBackward0 in its graph), then convolves
    with the padding before on both sides."""
    from ._pad import pad
    return pad(input, tuple(v for lo, hi in reversed(pads) for v in (0, hi - lo))), tuple(lo for lo, _ in pads)


def _check_args(s, d):
    if any(si <= 0 for si in s):
        raise RuntimeError('non-positive stride is not supported')
    if any(di <= 0 for di in d):
        raise RuntimeError('dilation should be greater than zero')


# -- the array kernels ------------------------------------------------------------------------------------------
# Convolutions work in a (C, H, W, N) layout (batch innermost): every window slice is then a long contiguous
# run, so the im2col copy and the col2im adds run at memory speed even for small images.
_ALIAS = 4096    # sample sizes in bytes that are a multiple of this alias in the cache (see _unaliased)


def _unaliased(x):
    """``x`` (N, ...), or a copy of it whose samples sit 64 bytes further apart when a sample's size is a
    multiple of 4 KiB and N >= 16 (power-of-two shapes: DCGAN's, MNIST's 64x64x24x24). Moving the batch
    innermost reads one element of each of the N samples in turn, and at such strides all N lines fall in
    the same cache sets; from the spaced copy the batch-last copy of (64, 64, 24, 24) took 1.5 ms instead
    of 4.9, (32, 64, 16, 16) 0.25 instead of 0.82, counting this copy (min of 30; other shapes unchanged)."""
    n = x.shape[0]
    if n < 16 or (x.size // n * x.itemsize) % _ALIAS or not x.flags.c_contiguous:
        return x
    k = x.size // n
    buf = np.empty((n, k + 64 // x.itemsize), x.dtype)[:, :k]
    buf[...] = x.reshape(n, k)
    return buf.reshape(x.shape)


def _batch_last(x):
    """(N, ...) -> contiguous (..., N) copy: a contiguous x as the 2-D transpose of its (N, rest) rows
    (backend.transposed), NumPy's element-wise copy otherwise. Min thread CPU of 20 (us): (8, 64, 32, 32) 212 ->
    58, (8, 512, 4, 4) 27 -> 10, (64, 32, 26, 26) 504 -> 225, (64, 64, 24, 24) 1452 -> 940."""
    if x.size and x.flags.c_contiguous and x.ndim > 1:
        return transposed(x.reshape(x.shape[0], -1)).reshape(x.shape[1:] + x.shape[:1])
    return np.ascontiguousarray(_unaliased(x).transpose(tuple(range(1, x.ndim)) + (0,)))


def _to_cl(x, pads):
    """(N, C, H, W) -> zero-padded (C, Hp, Wp, N) copy, pads = ((top, bottom), (left, right))."""
    (t, b), (l, r) = pads
    n, c, h, w = x.shape
    if not (t or b or l or r):
        return _batch_last(x)
    out = np.zeros((c, h + t + b, w + l + r, n), x.dtype)
    out[:, t:t + h, l:l + w] = _unaliased(x).transpose(1, 2, 3, 0)
    return out


def _from_cl(a, hw=None, off=(0, 0)):
    """(C, H, W, N) (optionally the hw window at offset off) -> contiguous (N, C, H, W)."""
    if hw is not None:
        a = a[:, off[0]:off[0] + hw[0], off[1]:off[1] + hw[1]]
    return _batch_first(a)


_BLOCK = 32 << 10    # bytes of a channel-last array that _batch_first moves at a time


def _batch_first(a, out=None):
    """(C, H, W, N) (any view) -> (N, C, H, W), written into ``out`` or a new array. Both contiguous: one 2-D
    transpose (backend.transposed; min thread CPU of 20, us: (8, 64, 32, 32) 182 -> 54, (64, 32, 26, 26) 842 ->
    175, (64, 64, 24, 24) 1679 -> 686). Otherwise, with N >= 16, a few channels (about 32 KiB) at a time, so a
    cache line of ``a``, which holds several samples, is still cached when the next sample reads it: (64, 24,
    24, 64) 2.66 -> 1.76 ms, (64, 16, 16, 32) 0.38 -> 0.25, (128, 8, 8, 32) 0.16 -> 0.12 (min of 30)."""
    if out is None:
        out = np.empty((a.shape[3],) + a.shape[:3], a.dtype)
    if a.size and a.flags.c_contiguous and out.flags.c_contiguous:
        transposed(a.reshape(-1, a.shape[3]), out.reshape(out.shape[0], -1))
        return out
    per_channel = a.size // max(1, a.shape[0]) * a.itemsize
    step = max(1, a.shape[0] if a.shape[3] < 16 else _BLOCK // max(1, per_channel))
    for c in range(0, a.shape[0], step):
        out[:, c:c + step] = a[c:c + step].transpose(3, 0, 1, 2)
    return out


def _windows(a, ax, k, s, d, o):
    """View of the sliding windows of ``a`` whose spatial dims sit at ax, ax+1: those two dims become
    (KH, KW, OH, OW) in place (no copy)."""
    st = a.strides
    sh, sw = st[ax], st[ax + 1]
    shape = a.shape[:ax] + tuple(k) + tuple(o) + a.shape[ax + 2:]
    strides = st[:ax] + (sh * d[0], sw * d[1], sh * s[0], sw * s[1]) + st[ax + 2:]
    return strided_view(a, shape, strides)


def _im2col(a, k, s, d, o):
    """Columns (C*KH*KW, OH*OW*N) of a (C, Hp, Wp, N) array: the one copy of the forward pass."""
    c = a.shape[0]
    return _windows(a, 1, k, s, d, o).reshape(c * k[0] * k[1], -1)


def _columns(x, pads, k, s, d, o):
    """im2col columns (C*KH*KW, OH*OW*N) of x (N, C, H, W). Stride 2 goes through the parity-split
    canvas of _winograd, where each tap is a block of long contiguous runs instead of a gather of
    N-element runs: ResNet-18's 3x3 stride-2 convs, batch 8, 64x32x32 1.17 -> 0.58 ms, 128x16x16 0.52 ->
    0.30, 256x8x8 0.31 -> 0.16 (min CPU of 20 interleaved; the input gradient's adds go into the same
    canvas: 5.23 -> 4.26, 3.99 -> 3.48, 3.77 -> 3.55 with its GEMM). An unpadded 1x1 kernel needs no
    windows: one batch-last copy of the strided view (ResNet's 1x1 stride-2 shortcuts 0.31 -> 0.06 ms at
    64x32x32, 0.16 -> 0.03 at 128x16x16)."""
    if k == (1, 1) and not any(pads[0] + pads[1]):
        return _batch_last(x[:, :, :(o[0] - 1) * s[0] + 1:s[0], :(o[1] - 1) * s[1] + 1:s[1]]).reshape(x.shape[1], -1)
    if s != (2, 2):
        return _im2col(_to_cl(x, pads), k, s, d, o)
    q = _winograd.split(x, pads[0][0], pads[1][0], *_split_rows(k, d, o))
    cols = np.empty((x.shape[1], k[0], k[1], o[0], o[1], x.shape[0]), x.dtype)
    for i in range(k[0]):
        a = i * d[0]
        for j in range(k[1]):
            b = j * d[1]
            cols[:, i, j] = q[:, a % 2, a // 2:a // 2 + o[0], b % 2, b // 2:b // 2 + o[1]]
    return cols.reshape(x.shape[1] * k[0] * k[1], o[0] * o[1] * x.shape[0])   # explicit: N may be 0


def _split_rows(k, d, o, hw=(0, 0), pads=((0, 0), (0, 0))):
    """The th, tw of a parity-split canvas holding every stride-2 window (and every input row of size hw)."""
    return tuple(max(o[a] + (k[a] - 1) * d[a] // 2, (hw[a] + pads[a][0] + 1) // 2) - 1 for a in range(2))


def _col2im(cols, ax, shape, k, s, d):
    """Sum windows (dims ax..ax+3 = KH, KW, OH, OW) onto a zero canvas of ``shape``: one add per offset, or
    small stride-1 float32/float64 ones in one reduction (_col2im_diag)."""
    oh, ow = cols.shape[ax + 2:ax + 4]
    if s == (1, 1) and type(cols) is np.ndarray and cols.dtype in _DIAG_DTYPES and \
            cols.size <= _DIAG_ADD * k[0] * k[1] and \
            tuple(shape[ax:ax + 2]) == (oh + d[0] * (k[0] - 1), ow + d[1] * (k[1] - 1)):
        return _col2im_diag(cols, ax, k, d)
    out = np.zeros(shape, cols.dtype)
    lead = (slice(None),) * ax
    for i in range(k[0]):
        hs = slice(i * d[0], i * d[0] + s[0] * (oh - 1) + 1, s[0])
        for j in range(k[1]):
            ws = slice(j * d[1], j * d[1] + s[1] * (ow - 1) + 1, s[1])
            out[lead + (hs, ws)] += cols[lead + (i, j)]
    return out


# elements per kernel offset up to which a stride-1 col2im is one reduction (_col2im_diag): its adds are then a few
# us each, mostly NumPy's per-call and per-run cost (runs of OW*N elements). Min of 15x20 interleaved, real-time
# priority, one add per offset against the reduction (us), (C, H, N, K): (6, 14, 4, 5) 72 -> 40 (LeNet's conv2
# input gradient at batch 4), (16, 12, 4, 3) 41 -> 32, (6, 14, 8, 5) 93 -> 72; past it the padded copy costs more:
# (6, 14, 16, 5) 115 -> 119, (64, 8, 8, 3) 89 -> 102, (6, 14, 64, 5) 258 -> 506.
_DIAG_ADD = 8192
_DIAG_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))     # native only: bfloat16 is float32 byte-swapped


def _col2im_diag(cols, ax, k, d):
    """_col2im for stride 1 as one sum over the kernel offsets: cols are copied onto a zero canvas padded by the
    kernel's reach on both sides of OH and OW, where the window of offset (i, j) seen from output (y, x) sits at
    (y - i*dh, x - j*dw), so a strided view with offset axes (KH, KW) beside the output's (H, W) sums every
    window in one call. It adds in the loop's order, from 0 (initial=0: a sum of -0.0s gives +0.0, as the
    loop's adds onto zeros), so the result is bitwise the loop's."""
    lead, trail = cols.shape[:ax], cols.shape[ax + 4:]
    kh, kw, oh, ow = cols.shape[ax:ax + 4]
    ph, pw = d[0] * (kh - 1), d[1] * (kw - 1)
    canvas = np.zeros(lead + (kh, kw, oh + 2 * ph, ow + 2 * pw) + trail, cols.dtype)
    inner = (slice(None),) * ax
    canvas[inner + (slice(None), slice(None), slice(ph, ph + oh), slice(pw, pw + ow))] = cols
    st = canvas.strides
    si, sj, sy, sx = st[ax:ax + 4]
    view = strided_view(canvas, lead + (kh, kw, oh + ph, ow + pw) + trail,
                        st[:ax] + (si - d[0] * sy, sj - d[1] * sx, sy, sx) + st[ax + 4:], ph * sy + pw * sx)
    return view.sum(axis=(ax, ax + 1), initial=0)


def _gemm(a, b, groups, ta=False, tb=False):
    """Grouped product op(a_g) @ op(b_g), where a and b are split into ``groups`` blocks of rows. A product
    over one term (a conv to one channel's input gradient, DCGAN's last: (2048, 1) @ (1, 32)) is the outer
    product, as BLAS rounds it (one multiply each): that product 71 -> 22 us, the layer's fwd+bwd at batch 32
    244 -> 193 us (min of 300 interleaved; three a DCGAN step)."""
    if groups == 1:
        a, b = a.T if ta else a, b.T if tb else b
        if a.shape[1] == 1 and a.dtype == b.dtype:
            return np.multiply(a, b)
        return gemm_narrow(a, b)
    ag = a.reshape(groups, a.shape[0] // groups, a.shape[1])     # explicit sizes: -1 fails on empty arrays
    bg = b.reshape(groups, b.shape[0] // groups, b.shape[1])
    r = gemm(ag.transpose(0, 2, 1) if ta else ag, bg.transpose(0, 2, 1) if tb else bg)
    return r.reshape(r.shape[0] * r.shape[1], r.shape[2])


def _out_size(h, pads, k, s, d):
    return [(hi + p[0] + p[1] - di * (ki - 1) - 1) // si + 1 for hi, p, ki, si, di in zip(h, pads, k, s, d)]


_CHUNK_FROM = 8 << 20     # im2col matrices above this many bytes are built a few samples at a time ...
_CHUNK_BYTES = 3 << 20    # ... about this many bytes per chunk (see _rebuilt for why 3 MB)
_KEEP_RATIO = 10         # ... and so are those past _CHUNK_BYTES and this many times their input (see _rebuilt)


class _Parts:
    """An im2col conv run in batch parts: ``slices`` (the samples of each part) and ``cols`` (each part's columns
    for the weight gradient, or None: rebuilt part by part in backward)."""
    __slots__ = ('slices', 'cols')

    def __init__(self, slices, cols):
        self.slices, self.cols = slices, cols


def _parts(x, w, o):
    """Batch slices for the im2col + GEMM: one slice, or parts that ember._parallel's threads share out, each
    taking the next part whole (its columns, products, batch-first copy): one per thread when the columns come to
    at least _parallel.MIN_BYTES, and cache-sized parts (their columns then rebuilt in backward instead of kept)
    for the column matrices _rebuilt takes, an even count of them (a multiple of the thread count past two). The
    parts of a pass are the same whichever thread runs them, and rebuilt columns go in the same parts at one thread
    as at two, so their weight gradient's sum is bit-identical (LeNet's step); of the others two threads make more
    parts than one, so the weight gradient's sum (and only it) rounds differently at each count. LeNet's batch-64
    step (both convs take this path) gained at two threads only where the second core was free: on the loaded
    2-core machine the pool's worker rarely woke in time, and the caller ran its parts (see _parallel._join). One
    slice too where a part's weight gradient (O, C*KH*KW) would outsize its columns (more output channels than the
    part's output pixels times samples): the parts' gradients are then more to add up than the parts save, and the
    one slice's products are large enough for gemm to cut across the threads (ResNet-18's 256x8x8 -> 512 stride-2
    conv, batch 8, 2 threads, min of 20 interleaved: forward 1.03 -> 0.94 ms, backward 2.12 -> 1.83)."""
    n = x.shape[0]
    per_sample = _sample_column_bytes(x, w, o)
    t = _parallel.threads() if n * per_sample >= _parallel.MIN_BYTES else 1
    if w.shape[0] * t > n * o[0] * o[1]:
        t = 1
    count = t
    if _rebuilt(x, per_sample):
        pair = max(2, _parallel.threads())
        count = -(-n * per_sample // (_CHUNK_BYTES * pair)) * pair
    return [slice(lo, hi) for lo, hi in _parallel.spans(n, count)]


def _rebuilt(x, per_sample):
    """Whether an im2col conv of x, whose columns take ``per_sample`` bytes a sample, builds them in cache-sized parts
    and rebuilds them in backward instead of keeping them: past _CHUNK_FROM bytes, or past _CHUNK_BYTES and
    _KEEP_RATIO times the input (which PyTorch keeps, and ember too, for the weight gradient). LeNet's 6 -> 16 channel
    5x5 conv at batch 64 kept 3.7 MB of columns (12.5 times its input) from its forward to its backward, the peak of
    the training step. Rebuilt in parts of about _CHUNK_BYTES a pair (a part built on the pool's thread stays in
    that thread's malloc arena), LeNet's batch-64 step peaks at 0.61 / 0.88 of PyTorch's memory at one / two threads
    (bench_memory, was 0.93 / 1.00) at the step time of keeping them. The part size decides the time: on an idle
    host (median of 25 alternating, ms, 1 / 2 threads) 1 MB parts took 8.37 / 7.03, 2 MB 7.56 / 6.31, 3 MB
    7.33 / 5.78, columns kept whole in 4 MB parts 7.34 / 6.07. 3x3 kernels (columns up to 9 times their input at
    stride 1, 2.25 at stride 2: ResNet's) keep theirs."""
    cols = x.shape[0] * per_sample
    return cols > _CHUNK_FROM or cols > _CHUNK_BYTES and cols > _KEEP_RATIO * x.size * x.itemsize


def _sample_column_bytes(x, w, o):
    """Bytes of one sample's im2col columns (C*KH*KW, OH*OW): every group's, so a grouped conv's parts are sized by
    the columns they build. Counted by the weight's C/groups before, a grouped conv's columns were built whole:
    ResNeXt's 32-group (8, 128, 56, 56) 3x3 conv made 115 MB of them at once. Forward and backward of ResNeXt's
    32-group 3x3 convs, one thread, median of 7 interleaved in one process (ms): (8, 128, 56, 56) 115 -> 71,
    (8, 256, 28, 28) 54 -> 35, (8, 256, 56, 56) stride 2 98 -> 67 (with _full_correlation's input gradient: 65, 24,
    67); the weight gradient's sum goes by sample parts, so it rounds differently."""
    return x.shape[1] * w.shape[2] * w.shape[3] * o[0] * o[1] * x.itemsize


_SAMPLE_TAPS = 48   # input channels x kernel taps up to which a conv runs as one GEMM per sample (see _per_sample)


class _Samples:
    """What the backward of a per-sample conv needs: its (N, C*KH*KW, OH*OW) columns (None when the weight
    needs no gradient)."""
    __slots__ = ('cols',)

    def __init__(self, cols):
        self.cols = cols


def _per_sample(w, groups):
    """Whether a conv runs as one GEMM per sample in the (N, C, H, W) layout: one group and at most
    _SAMPLE_TAPS input taps. Few taps make the GEMMs small and the batch-last copies of the input, output
    and output gradient the main cost, and this layout needs none: MNIST's 1 -> 32 channel 3x3 conv at
    28x28, batch 64, forward and weight gradient, min of 40 interleaved: 2.87 -> 1.59 ms at one thread, 3.52
    -> 1.66 at two. Up to 48 taps (RGB 3x3 and 4x4 kernels), min of 40 interleaved, 1 / 2 threads, forward
    and weight gradient: ResNet-18's 3 -> 64 3x3 conv at 32x32, batch 8, 1.19 -> 0.80 / 1.26 -> 0.80 ms; DCGAN's 3
    -> 32 4x4 stride-2 at 32x32, batch 32, 0.93 -> 0.77 / 0.98 -> 0.82 (with the input gradient 1.39 -> 1.48 /
    1.52 -> 1.47). LeNet's 3 -> 6 channel 5x5 conv (75 taps) gained too little to take it (batch 4: 0.258 ->
    0.248 ms; at batch 64 with the input gradient it lost: 5.5 -> 7.8 ms)."""
    return groups == 1 and w[0].size <= _SAMPLE_TAPS


# taps and columns (N*OH*OW) up to which a conv whose input needs no gradient (a first layer) runs per sample too. Its
# backward is then the weight gradient alone, per sample, with no col2im: LeNet's 3 -> 6 channel 5x5 conv at 32x32
# (75 taps), forward and backward, 1 thread, min of 15x100 interleaved at real-time priority, SkylakeX / Haswell
# kernels: batch 4 (3136 columns) 193-200 -> 121-124 / 220-223 -> 217-225 us; at batch 8 Haswell lost (383 -> 421,
# SkylakeX 343 -> 216), and so it did up to batch 64 (3127 -> 3357; SkylakeX 3425 -> 1593), so larger batches keep
# the im2col path.
_FIRST_TAPS, _FIRST_COLS = 75, 4096


def _first_per_sample(x, w, groups, need_x):
    """Whether a conv of x with w whose input needs no gradient (``need_x`` False) runs per sample (_per_sample's
    layout) beyond _SAMPLE_TAPS: one group, at most _FIRST_TAPS taps and _FIRST_COLS columns."""
    return not need_x and groups == 1 and w[0].size <= _FIRST_TAPS and \
        x.shape[0] * (x.shape[2] - w.shape[2] + 1) * (x.shape[3] - w.shape[3] + 1) <= _FIRST_COLS


class _Dense:
    """Marks a conv that is one product of the flattened samples (see _dense); backward needs only x and w."""
    __slots__ = ()


_DENSE = _Dense()


def _dense(x, w, pads, d, groups, transposed=False, opad=(0, 0)):
    """Whether a conv of x with w is a linear layer on the flattened samples: one group, no padding, output
    padding or dilation, and a kernel the size of the input (a conv to 1x1 outputs, DCGAN's last: 128x4x4 -> 1)
    or a 1x1 input (a transposed conv to the kernel's size, DCGAN's first: 100x1x1 -> 128x4x4). Batch 32, min of
    200 interleaved, 1 and 2 threads alike: the 128x4x4 -> 1 conv forward 49 -> 15 us, forward and backward 169 ->
    52 (im2col's batch-last copies and 16 one-element col2im adds; three a DCGAN step); the 100 -> 128x4x4
    transposed conv forward 220 -> 125, forward and backward 385 -> 259."""
    if groups != 1 or tuple(d) != (1, 1) or any(p != (0, 0) for p in pads) or any(opad):
        return False
    return x.shape[2:] == (1, 1) if transposed else x.shape[2:] == w.shape[2:]


def _dense_grads(g, x, w, need_x, need_w, xshape, transposed):
    """(gx, gw) of a dense conv (None where not needed): products of g's and x's flattened samples with w."""
    n = g.shape[0]
    g2 = g.reshape(n, math.prod(g.shape[1:]))
    gx = gw = None
    if need_x:
        w2 = w.reshape(w.shape[0], math.prod(w.shape[1:]))
        gx = (_gemm(g2, w2, 1, tb=True) if transposed else _gemm(g2, w2, 1)).reshape(xshape)
    if need_w:
        x2 = x.reshape(n, math.prod(x.shape[1:]))
        gw = (_gemm(x2, g2, 1, ta=True) if transposed else _gemm(g2, x2, 1, ta=True)).reshape(w.shape)
    return gx, gw


def _sample_columns(x, pads, k, s, d, o, out=None):
    """(N, C*KH*KW, OH*OW) columns of x (N, C, H, W): its zero-padded copy's windows, copied once (into ``out``
    when given)."""
    (t, b), (l, r) = pads
    if t or b or l or r:
        n, c, h, wd = x.shape
        xp = np.zeros((n, c, h + t + b, wd + l + r), x.dtype)
        xp[:, :, t:t + h, l:l + wd] = x
        x = xp
    win = _windows(x, 2, k, s, d, o)
    if out is None:
        return win.reshape(x.shape[0], x.shape[1] * k[0] * k[1], o[0] * o[1])  # sizes: -1 fails on empty
    out.reshape(win.shape)[...] = win
    return out


def _sample_blocks(n, nbytes):
    """The batch's blocks (lo, hi) for a per-sample pass moving ``nbytes``: one per thread (see _parallel.blocks).
    Each block's samples go through the whole pass on one thread: the same per-sample products, so the values do
    not depend on the thread count."""
    return _parallel.blocks(n, nbytes)


def _sample_forward(x, w2, pads, k, s, d, o):
    """(y, cols) of a per-sample conv: cols (N, C*KH*KW, OH*OW) the columns of x, y (N, O, OH*OW) = w2 @ each
    sample's columns; at more than one thread each thread builds and multiplies its block of samples. DCGAN's
    3 -> 32 4x4 stride-2 conv at 32x32, batch 32, forward, 2 threads, min of 300 interleaved on the loaded
    machine: 561 -> 306 us (the columns built whole, then the product cut on the pool); one thread: one block
    (382 -> 367, within noise)."""
    n = x.shape[0]
    cols = np.empty((n, w2.shape[1], o[0] * o[1]), x.dtype)
    parts = _sample_blocks(n, cols.nbytes)
    if len(parts) == 1:
        return gemm(w2, _sample_columns(x, pads, k, s, d, o, cols)), cols
    y = np.empty((n, w2.shape[0], o[0] * o[1]), x.dtype)

    def block(lo, hi):
        y[lo:hi] = gemm(w2, _sample_columns(x[lo:hi], pads, k, s, d, o, cols[lo:hi]))
    _parallel.each(block, parts)
    return y, cols


def _sample_grads(g, kept, w, pads, s, d, gx):
    """Weight gradient (None when kept has no columns) of a per-sample conv, and its input gradient written
    into gx (when given): per sample W^T g, then col2im on the padded canvas, cropped (see _sample_grad_input).
    The weight gradient's per-sample products are added up in sample order after, on one thread. The batch goes in
    blocks, one per thread, also for the weight gradient alone (a first layer's): DCGAN's 3 -> 32 4x4 stride-2 conv
    at 32x32, batch 32, its backward on the real and the detached fake batch (two a step) at 2 threads, real-time
    priority, min / p25 of 300 interleaved (us): 493 / 527 -> 328 / 351 (it ran whole on one thread); one thread
    unchanged (486 / 587 -> 486 / 586)."""
    n, oc = g.shape[:2]
    g3 = g.reshape(n, oc, g.shape[2] * g.shape[3])
    cols = kept.cols
    parts = _sample_blocks(n, (0 if gx is None else g3.size * w[0].size * g.itemsize) +
                           (0 if cols is None else cols.nbytes))
    if len(parts) == 1:
        if gx is not None:
            _sample_grad_input(g, w, pads, s, d, gx)
        return None if cols is None else gemm(g3, cols.transpose(0, 2, 1)).sum(0).reshape(w.shape)
    prods = None if cols is None else np.empty((n, oc, cols.shape[1]), g.dtype)

    def block(lo, hi):
        if cols is not None:
            prods[lo:hi] = gemm(g3[lo:hi], cols[lo:hi].transpose(0, 2, 1))
        if gx is not None:
            _sample_grad_input(g[lo:hi], w, pads, s, d, gx[lo:hi])
    _parallel.each(block, parts)
    return None if prods is None else prods.sum(0).reshape(w.shape)


def _sample_grad_input(g, w, pads, s, d, out):
    """out (N, C, H, W) = the input gradient of a per-sample conv with weight w (O, C, KH, KW) from its output
    gradient g (N, O, OH, OW): per sample W^T g (one GEMM), then col2im onto the padded canvas, cropped. It is
    also the forward of a transposed conv with weight w (see _sample_tconv). Stride 2 adds by parity planes
    (_col2im_planes_s2)."""
    n, oc, oh, ow = g.shape
    k = w.shape[2:]
    w2t = w.reshape(oc, -1).T
    if s == (2, 2):
        _col2im_planes_s2(g, w2t, k, d, pads, out)
        return
    (t, b), (l, r) = pads
    h, wd = out.shape[2:]
    cols = gemm(w2t, g.reshape(n, oc, oh * ow)).reshape((n,) + w.shape[1:] + (oh, ow))
    canvas = _col2im(cols, 2, out.shape[:2] + (h + t + b, wd + l + r), k, s, d)
    out[...] = canvas[:, :, t:t + h, l:l + wd]


def _col2im_planes_s2(g, w2t, k, d, pads, out):
    """_sample_grad_input for stride 2, its adds as long contiguous runs. The canvas is split into four planes by
    row and column parity, wq columns each, and g's rows are padded to wq columns (zeros past OW), so each product
    row (C*KH*KW, OH*wq) lays one tap's OH x OW block out with its plane's row stride: the tap adds into its plane
    as one run of OH*wq elements per channel (the first tap of a plane is copied, not added). In NCHW col2im's
    slice adds each ran OW elements (16 at DCGAN's 3-channel layers, NumPy's per-run cost) at stride 2. The
    padded columns add zeros (those past a row's end into the next row's start, never read). DCGAN's 32x16x16
    -> 3x32x32, batch 32, one thread, min of 100 interleaved: the 3 -> 32 conv's input gradient 610 -> 480 us;
    the 32 -> 3 transposed conv's forward (this, per sample) 505 -> 481 against its batch-last im2col path."""
    n, oc, oh, ow = g.shape
    c, h, wd = out.shape[1:]
    (t, _), (l, _) = pads
    reach = [di * (ki - 1) for ki, di in zip(k, d)]
    wq = max(ow + reach[1] // 2, (l + wd + 1) // 2)
    hq = max(oh + reach[0] // 2, (t + h + 1) // 2) + 1
    gp = np.empty((n, oc, oh, wq), g.dtype)
    gp[..., :ow] = g
    gp[..., ow:] = 0
    cols = gemm(w2t, gp.reshape(n, oc, oh * wq)).reshape(n, c, k[0], k[1], oh * wq)
    planes = np.empty((n, c, 2, 2, hq * wq), g.dtype)
    run, started = oh * wq, set()
    for i in range(k[0]):
        a = i * d[0]
        for j in range(k[1]):
            b = j * d[1]
            off = a // 2 * wq + b // 2
            plane = planes[:, :, a % 2, b % 2]
            if (a % 2, b % 2) in started:
                plane[..., off:off + run] += cols[:, :, i, j]
                continue
            started.add((a % 2, b % 2))
            plane[..., :off] = 0
            plane[..., off:off + run] = cols[:, :, i, j]
            plane[..., off + run:] = 0
    planes = planes.reshape(n, c, 2, 2, hq, wq)
    for py in range(2):
        fy = (py + t) // 2
        for px in range(2):
            fx = (px + l) // 2
            part = out[:, :, py::2, px::2]
            if ((py + t) % 2, (px + l) % 2) in started:
                part[...] = planes[:, :, (py + t) % 2, (px + l) % 2, fy:fy + part.shape[2], fx:fx + part.shape[3]]
            else:
                part[...] = 0


def _winograd_for(x, w, s, d, groups, pads):
    """The Winograd module that takes this conv (3x3 stride 1, or 4x4 stride 2), or None for im2col."""
    for wino in (_winograd4, _winograd4_chunked, _winograd, _winograd_s2):
        if wino.usable(x, w, s, d, groups, pads):
            return wino
    return None


def _conv_fwd(x, w, b, s, pads, d, groups, need_x=True):
    """y = conv(x, w) + b for 4-D arrays; returns (y, cols) with cols the im2col matrix of the padded input
    (None when it was built in chunks), or what the Winograd path keeps for backward. ``need_x``: whether x's
    gradient may be asked for (see _first_per_sample)."""
    o_ch, k = w.shape[0], w.shape[2:]
    o = _out_size(x.shape[2:], pads, k, s, d)
    if _dense(x, w, pads, d, groups):
        y = _gemm(x.reshape(x.shape[0], math.prod(x.shape[1:])), w.reshape(o_ch, math.prod(k) * w.shape[1]), 1,
                  tb=True)
        if b is not None:
            y += b
        return y.reshape(x.shape[0], o_ch, 1, 1), _DENSE
    if _depthwise.usable(x, w, groups):
        y, saved = _depthwise.forward(x, w, s, d, pads, o)
        if b is not None:
            y += b[:, None, None]
        return y, saved
    wino = _winograd_for(x, w, s, d, groups, pads)
    if wino is not None:
        y = np.empty((x.shape[0], o_ch) + tuple(o), x.dtype)
        if wino is _winograd_s2:    # w's transform made beside x's at two threads
            saved = wino.forward(x, w, pads[0][0], pads[1][0], y)
        elif wino is _winograd4_chunked:     # the bias goes in with its output transform
            saved, b = wino.forward(x, wino.weight_transform(w), b, pads[0][0], pads[1][0], y), None
        elif wino is _winograd:     # w's transform made beside x's at two threads (whole batches)
            saved = wino.forward(x, w, pads[0][0], pads[1][0], y)
        else:       # _winograd4: the same
            saved = wino.forward(x, w, y)
        if b is not None:
            y += b[:, None, None]
        return y, saved
    if _stride2.usable(x, w, s, d, groups, pads):
        y = np.empty((x.shape[0], o_ch) + tuple(o), x.dtype)
        saved = _stride2.forward(x, w, y)
        if b is not None:
            y += b[:, None, None]
        return y, saved
    if _per_sample(w, groups) or s == (1, 1) and d == (1, 1) and not any(pads[0] + pads[1]) and \
            _first_per_sample(x, w, groups, need_x):
        y, cols = _sample_forward(x, w.reshape(o_ch, -1), pads, k, s, d, o)
        if b is not None:
            y += b[:, None]
        return y.reshape((x.shape[0], o_ch) + tuple(o)), _Samples(cols)
    if _taps.usable(w, s, o, groups):
        wt = _taps.weights(w)
        y = _batch_first(_taps.conv(_batch_last(x), wt, s, d, pads, o))
        if b is not None:
            y += b[:, None, None]
        return y, _taps.Saved(wt)
    parts = _parts(x, w, o)
    if _few_outputs(x, w, s, groups, pads, o):
        y = _tap_sums(x, w, pads, d, o)
        if b is not None:
            y += b[:, None, None]
        return y, _Parts(parts, None)     # backward builds the columns part by part, as for large inputs
    w2 = w.reshape(o_ch, -1)
    if len(parts) == 1:
        cols = _columns(x, pads, k, s, d, o)
        y = _gemm(w2, cols, groups)
        if b is not None:
            y += b[:, None]
        return _from_cl(y.reshape(o_ch, o[0], o[1], x.shape[0])), cols
    y = np.empty((x.shape[0], o_ch) + tuple(o), x.dtype)
    keep = not _rebuilt(x, _sample_column_bytes(x, w, o))

    def part(sl):
        cols = _columns(x[sl], pads, k, s, d, o)
        yc = _gemm(w2, cols, groups)
        if b is not None:
            yc += b[:, None]
        _batch_first(yc.reshape(o_ch, o[0], o[1], -1), y[sl])
        return cols if keep else None
    cols = _parallel.each(part, [(sl,) for sl in parts])
    return y, _Parts(parts, cols if keep else None)


def _few_outputs(x, w, s, groups, pads, o):
    """Whether a stride-1 conv's forward goes as _tap_sums rather than im2col: one group, a kernel past 1x1,
    float32/64, tap products (taps x O x the padded input's pixels) at most half the size of im2col's columns (taps
    x C x the output's pixels), so few output channels, and columns past _CHUNK_FROM, which im2col does not keep for
    backward either (smaller ones, kept, spare the weight gradient its own: 32 -> 3 at 32x32 batch 2, forward and
    backward 0.41 -> 0.52 ms with tap sums). Min of 15 interleaved (ms, im2col -> tap sums, forward / forward and
    backward), SkylakeX one thread: a U-Net's last 3x3 conv, 32 -> 3 at 32x32 batch 8, 0.82 -> 0.31 / 1.91 -> 1.39
    (two threads 0.62 -> 0.31 / 1.52 -> 1.16; Haswell 1.26 -> 0.35 / 2.70 -> 1.77); 64 -> 3 1.89 -> 0.51 / 4.87 ->
    3.46; fast-neural-style's 9x9 32 -> 3 at 72x72 batch 4 32.1 -> 4.0 / 72.2 -> 46.6 (two threads 18.6 -> 2.8 /
    43.1 -> 27.3); 64 -> 1 at 28x28 batch 16 2.35 -> 0.59 / 5.48 -> 3.58. A 5x5 32 -> 16 at 32x32 (products 0.63 of
    the columns) broke even (8.12 -> 8.02, 4.40 -> 4.61 at two threads)."""
    if s != (1, 1) or groups != 1 or w.shape[2] * w.shape[3] == 1 or x.dtype not in (np.float32, np.float64):
        return False
    if x.shape[0] * w[0].size * o[0] * o[1] * x.itemsize <= _CHUNK_FROM:
        return False
    hp, wp = x.shape[2] + sum(pads[0]), x.shape[3] + sum(pads[1])
    return 2 * w.shape[0] * hp * wp <= w.shape[1] * o[0] * o[1]


def _tap_sums(x, w, pads, d, o):
    """Stride-1 conv of x (N, C, H, W) with w (O, C, KH, KW) without im2col's columns: one GEMM of every tap's
    weights (KH*KW*O, C) with the zero-padded batch-last input (C, Hp*Wp*N), then each tap's rows added in tap
    order at that tap's offset into the padded plane: output pixel (r, c) of tap (i, j) reads padded pixel (r + i*dh,
    c + j*dw), so over whole padded rows a tap's outputs are one run of the product shifted by (i*dh*Wp + j*dw)*N
    (the columns past the output width are dropped; a zero tail keeps the last taps' runs inside the product).
    Values differ from im2col's by summation order only (the taps' sum after the channels')."""
    n, c, h, wd = x.shape
    o_ch, _, kh, kw = w.shape
    (t, _), (l, _) = pads
    hp, wp = h + sum(pads[0]), wd + sum(pads[1])
    plane = hp * wp * n
    padded = np.zeros((c, plane + d[1] * (kw - 1) * n), x.dtype)
    padded[:, :plane].reshape(c, hp, wp, n)[:, t:t + h, l:l + wd] = _unaliased(x).transpose(1, 2, 3, 0)
    taps = gemm(np.ascontiguousarray(w.transpose(2, 3, 0, 1)).reshape(kh * kw * o_ch, c), padded)
    taps = taps.reshape(kh * kw, o_ch, padded.shape[1])
    run = o[0] * wp * n
    y = None
    for i in range(kh):
        for j in range(kw):
            off = (i * d[0] * wp + j * d[1]) * n
            if y is None:
                y = taps[0, :, off:off + run].copy()
            else:
                y += taps[i * kw + j, :, off:off + run]
    return _batch_first(y.reshape(o_ch, o[0], wp, n)[:, :, :o[1]])


def _conv_grad_input(g2, w, pads, s, d, groups, o, out):
    """Gradient of conv w.r.t. its input, written into ``out`` (N, C, H, W): columns W^T g, then col2im,
    cropped to the input and assigned through a transposed view (one copy where a contiguous copy then an
    assignment made two)."""
    n, c, h, wd = out.shape
    k = w.shape[2:]
    if _full_correlation(w, pads, s, d, groups):
        _grad_input_by_correlation(g2, w, pads, d, o, groups, out)
        return
    gcols = _gemm(w.reshape(w.shape[0], -1), g2, groups, ta=True).reshape(c, k[0], k[1], o[0], o[1], n)
    (t, bt), (l, r) = pads
    _col2im_first(gcols, (h + t + bt, wd + l + r), k, s, d, pads, out)


def _full_correlation(w, pads, s, d, groups):
    """Whether a stride-1 conv's input gradient goes as the correlation of its padded output gradient with the
    flipped, transposed kernel (_grad_input_by_correlation): one group with fewer output than input channels, or
    several (not one channel each: _depthwise) with at most as many, a kernel past 1x1, pads within its reach. Its
    columns have O*KH*KW rows where W^T g's have C*KH*KW, and no col2im adds them back. Backward (input and weight),
    one thread, CPU ms: fast-neural-style's 9x9 32 -> 3 output conv at (4, 32, 72, 72) 75 -> 37, 3x3 64 -> 32 at
    (4, 64, 34, 34) 4.2 -> 3.6, 5x5 16 -> 8 at (8, 16, 28, 28) 1.3 -> 0.9; ResNeXt's 32-group 3x3 convs (as many
    columns, but an im2col copy in place of KH*KW col2im adds over a canvas; median of 7 interleaved, forward
    and backward): (8, 128, 56, 56) 71 -> 65, (8, 256, 28, 28) 35 -> 24, (8, 512, 14, 14) 30 -> 25."""
    o_ch, c = w.shape[0], w.shape[1] * groups
    k = w.shape[2:]
    return s == (1, 1) and (o_ch < c if groups == 1 else o_ch <= c) and k != (1, 1) and \
        all(p <= di * (ki - 1) for pair, di, ki in zip(pads, d, k) for p in pair)


def _grad_input_by_correlation(g2, w, pads, d, o, groups, out):
    """The input gradient of a stride-1 conv as conv(pad(g, reach - pads), flip(w)^T) (per group), written into
    out."""
    n, c, h, wd = out.shape
    k = w.shape[2:]
    g = g2.reshape(w.shape[0], o[0], o[1], n).transpose(3, 0, 1, 2)
    back = tuple((di * (ki - 1) - lo, di * (ki - 1) - hi) for (lo, hi), di, ki in zip(pads, d, k))
    wg = w.reshape((groups, w.shape[0] // groups) + w.shape[1:])
    wf = np.ascontiguousarray(wg[:, :, :, ::-1, ::-1].transpose(0, 2, 1, 3, 4)).reshape(c, -1)
    y = _gemm(wf, _columns(g, back, k, (1, 1), d, (h, wd)), groups)
    _batch_first(y.reshape(c, h, wd, n), out)


def _col2im_first(cols, shape, k, s, d, pads, out):
    """col2im of cols (C, KH, KW, OH, OW, N) on a (C, *shape, N) canvas, its window past the top and left
    pads written batch-first into out (N, C, H, W). Stride 2 adds into the parity-split canvas (see
    _columns): whole blocks, not N-element runs (DCGAN's 4x4 transposed convs, batch 32: 32x16x16 0.70 ->
    0.52 ms, 64x8x8 0.40 -> 0.31, min of 40)."""
    t, l = pads[0][0], pads[1][0]
    if tuple(k) == (1, 1):
        _col2im_points(cols, s, t, l, out)
        return
    if s != (2, 2):
        canvas = _col2im(cols, 1, (cols.shape[0],) + tuple(shape) + (cols.shape[5],), k, s, d)
        _batch_first(canvas[:, t:t + out.shape[2], l:l + out.shape[3]], out)
        return
    o = cols.shape[3:5]
    th, tw = _split_rows(k, d, o, out.shape[2:], pads)
    q = np.zeros((cols.shape[0], 2, th + 1, 2, tw + 1, cols.shape[5]), cols.dtype)
    for i in range(k[0]):
        a = i * d[0]
        for j in range(k[1]):
            b = j * d[1]
            q[:, a % 2, a // 2:a // 2 + o[0], b % 2, b // 2:b // 2 + o[1]] += cols[:, i, j]
    _winograd.unsplit(q, t, l, out)


def _col2im_points(cols, s, t, l, out):
    """_col2im_first for a 1x1 kernel: each pixel of out takes at most one column (the one whose stride-s point it
    is), so out is zeroed and the columns added onto their strided pixels of it, without a canvas. The same adds
    onto zeros as the canvas's (a -0.0 column gives +0.0), one pass over out and one over the columns where the
    parity-split canvas took four over out (its zeroing, the add, the read-back) for a stride-2 shortcut conv's
    input gradient; ResNet-18's three at batch 8, one thread, min of 200 (us): 64x32x32 323 -> 144, 128x16x16 157
    -> 80, 256x8x8 123 -> 66."""
    h, w = out.shape[2:]
    oh, ow = cols.shape[3:5]
    i0, j0 = -(-t // s[0]), -(-l // s[1])       # the first outputs whose point is not in the padding
    i1, j1 = min(oh, (h - 1 + t) // s[0] + 1), min(ow, (w - 1 + l) // s[1] + 1)
    out.fill(0)
    if i1 > i0 and j1 > j0:
        v = out[:, :, i0 * s[0] - t:(i1 - 1) * s[0] - t + 1:s[0], j0 * s[1] - l:(j1 - 1) * s[1] - l + 1:s[1]]
        np.add(v, cols[:, 0, 0, i0:i1, j0:j1].transpose(3, 0, 1, 2), out=v)


def _full(hw, k, s, d, opad):
    """Size of a transposed conv's canvas before its padding is cropped."""
    return [(hi - 1) * si + di * (ki - 1) + 1 + op for hi, si, di, ki, op in zip(hw, s, d, k, opad)]


def _tconv_fwd(x, w, b, s, pads, d, groups, opad):
    """conv_transpose: columns W^T x scattered by col2im on a canvas, cropped by the padding."""
    n, cin, h, wd = x.shape
    k = w.shape[2:]
    cout = w.shape[1] * groups
    full = _full((h, wd), k, s, d, opad)
    y = np.empty((n, cout, full[0] - 2 * pads[0], full[1] - 2 * pads[1]), x.dtype)
    wino = _winograd_s2.usable(x, w, s, d, groups, [(p, p) for p in pads], transposed=True)
    x2 = None
    if _dense(x, w, [(p, p) for p in pads], d, groups, True, opad):
        y = _gemm(x.reshape(n, cin), w.reshape(cin, math.prod(w.shape[1:])), 1).reshape(y.shape)
        x2 = _DENSE
    elif wino:     # the input gradient of the 4x4 stride-2 conv with weight w
        _winograd_s2.grad_input(x, _winograd_s2.grad_input_weights(w), y)
    elif _per_sample(w, groups):    # few output taps: the per-sample conv's input gradient (see _tconv_bw_samples)
        _sample_tconv(x, w, [(p, p) for p in pads], s, d, y)
        x2 = _Samples(None)
    else:
        x2 = _to_cl(x, ((0, 0), (0, 0))).reshape(cin, -1)
        cols = _gemm(w.reshape(cin, -1), x2, groups, ta=True).reshape(cout, k[0], k[1], h, wd, n)
        _col2im_first(cols, full, k, s, d, [(p, p) for p in pads], y)
    if b is not None:
        y += b[:, None, None]
    if wino:
        return y, _winograd_s2.Saved(None, None)     # backward takes the Winograd path; x2 is not kept
    return y, x2


def _sample_tconv(x, w, pads, s, d, y):
    """y (N, O, H, W) = the transposed conv of x (N, C, h, w) with weight w (C, O, KH, KW) of at most _SAMPLE_TAPS
    output taps, in the per-sample layout: the input gradient of the conv with weight w, whose output gradient
    x is, taken in blocks of samples, one per thread (see _sample_blocks)."""
    n = x.shape[0]
    parts = _sample_blocks(n, n * w[0].size * x.shape[2] * x.shape[3] * x.itemsize)
    _parallel.each(lambda lo, hi: _sample_grad_input(x[lo:hi], w, pads, s, d, y[lo:hi]), parts)


def _tconv_bw_samples(node, g, w, x, xshape):
    """Backward of a per-sample transposed conv (see _sample_tconv): its input gradient is the per-sample conv
    of g with weight w, and the weight gradient sums x's samples times those columns, as the conv's weight
    gradient does with its output gradient. Both go in one batch block per thread (each block's columns, both
    products), the weight gradient's per-sample products added up in sample order after. DCGAN's 32x16x16 ->
    3x32x32, batch 32, min of 150 interleaved: against the batch-last path 694 -> 664 us at one thread; at two,
    720 -> 693 with the input gradient's blocks and the weight gradient's product on the pool one after the
    other, 693 -> 577 in one pass."""
    s, pads, d, _, _, _ = node.cfg
    need_x, need_w, need_b = node.need
    gb = _float_bias_grad(g, True) if need_b else None
    n, c, k, o = g.shape[0], w.shape[0], w.shape[2:], xshape[2:]
    cpads, w2 = [(p, p) for p in pads], w.reshape(c, math.prod(w.shape[1:]))
    x3 = x.reshape(n, c, o[0] * o[1]) if need_w else None
    cols = np.empty((n, w2.shape[1], o[0] * o[1]), g.dtype)

    def block(lo, hi):
        cb = _sample_columns(g[lo:hi], cpads, k, s, d, o, cols[lo:hi])
        return (gemm(w2, cb) if need_x else None), (gemm(x3[lo:hi], cb.transpose(0, 2, 1)) if need_w else None)
    parts = _sample_blocks(n, cols.nbytes)
    if len(parts) == 1:
        gx, prods = block(0, n)
    else:
        gx = np.empty((n, c, o[0] * o[1]), g.dtype) if need_x else None
        prods = np.empty((n, c, w2.shape[1]), g.dtype) if need_w else None

        def into(lo, hi):
            a, b = block(lo, hi)
            if need_x:
                gx[lo:hi] = a
            if need_w:
                prods[lo:hi] = b
        _parallel.each(into, parts)
    return (None if gx is None else gx.reshape(xshape)), (None if prods is None else prods.sum(0).reshape(w.shape)), gb


def _tconv_cols(g, xshape, k, s, pads, d, opad):
    """im2col of the output gradient placed on the transposed conv's full canvas."""
    h, wd = xshape[2:]
    full = _full((h, wd), k, s, d, opad)
    gp = _to_cl(g, ((pads[0], full[0] - pads[0] - g.shape[2]), (pads[1], full[1] - pads[1] - g.shape[3])))
    return _im2col(gp, k, s, d, (h, wd))


# -- autograd nodes ----------------------------------------------------------------------------------------------
class ConvolutionBackward0(Node):
    """Backward of conv and conv_transpose: GEMMs with the saved im2col columns, col2im for the input."""
    __slots__ = ('cfg', 'cols', 'need', 'nd', 'xshape', 'last')
    _need_order = True

    def backward(self, g):
        if not dual.is_array(g):
            x, w, _ = self.saved(True)
            grads = self._arrays(g._data, *(None if t is None else t._data for t in (x, w)))
            return _conv_twice.record(self, g, grads, _twice(self), x, w)
        x, w, _ = self.saved()
        return self._arrays(g, x, w)

    def _arrays(self, g, x, w):
        """The gradients (input, weight, bias; None where not needed) as arrays."""
        transposed = self.cfg[5]
        if self.nd == 1:    # (w is None where only the bias needs a gradient)
            g, w, x = (None if a is None else a[:, :, None] for a in (g, w, x))
        g = np.ascontiguousarray(g)
        gx, gw, gb = _tconv_bw_arrays(self, g, w, x) if transposed else _conv_bw_arrays(self, g, w, x)
        if gw is not None and not transposed and g.dtype == np.float16:
            gw = _half_weight_grad(g, x, w, self.cfg)
        if gx is not None and not transposed and g.dtype == np.float16 and self.nd == 2:
            last = getattr(self, 'last', False)
            gx = _half_grad_input(g, w, self.cfg, gx.shape, last)
            gx = _layout.in_format('conv2d', gx, _layout.channels_last) if last else gx
        if self.nd == 1:
            gx = None if gx is None else gx.reshape(self.xshape)
            gw = None if gw is None else gw.reshape(gw.shape[:2] + gw.shape[3:])
        return gx, gw, gb



def _half_weight_grad(g, x, w, cfg):
    """A float16 conv's weight gradient as PyTorch's slow_conv2d backward: per sample, g_n times its im2col columns
    summed as the cpublas kernel sums (ops._halfgemm), added into the float16 gradient, rounded after each sample
    (402 of 1152 values of a (3, 8, 9, 9) x (16, 8, 3, 3) conv off summing all samples in float32, none now)."""
    s, pads, d, groups = cfg[:4]
    o, k = g.shape[2:], w.shape[2:]
    og, kg, f32 = w.shape[0] // groups, w[0].size, np.float32     # each group's output channels and column rows
    acc = np.zeros((w.shape[0], kg), f32)
    for n in range(x.shape[0]):
        cols = _columns(x[n:n + 1].astype(f32), pads, k, s, d, o).reshape(kg * groups, -1)
        gn = g[n].reshape(w.shape[0], -1).astype(f32)
        part = np.concatenate([_halfgemm.lanes_product(gn[i * og:(i + 1) * og],
                                                       np.ascontiguousarray(cols[i * kg:(i + 1) * kg].T))
                               for i in range(groups)])
        acc = (acc + part).astype(np.float16).astype(f32)
    return acc.astype(np.float16).reshape(w.shape)


def _half_grad_input(g, w, cfg, xshape, last):
    """A float16 conv2d's input gradient as PyTorch's slow_conv2d backward: per sample and group, W^T @ g_n summed in
    order over the output channels and rounded to float16, then each tap's columns added into the float16 gradient,
    each add rounded: taps in order, or reversed for a channels-last conv (its kernel goes by output position).
    Depthwise: 283 of 512 values off before, channels-last 555 of 1296; none now."""
    s, pads, d, groups = cfg[:4]
    (kh, kw), (oh, ow), f16, f32 = w.shape[2:], g.shape[2:], np.float16, np.float32
    og, cg = w.shape[0] // groups, w.shape[1]
    (pt, pb), (pl, pr) = pads
    gx = np.zeros((xshape[0], xshape[1], xshape[2] + pt + pb, xshape[3] + pl + pr), f32)
    taps = [(i, j) for i in range(kh) for j in range(kw)]
    for n in range(xshape[0]):
        for gi in range(groups):
            wg = np.ascontiguousarray(w[gi * og:(gi + 1) * og].reshape(og, -1).astype(f32).T)
            cols = _halfgemm.lanes_product(wg, g[n, gi * og:(gi + 1) * og].reshape(og, -1).astype(f32), 1)
            cols = cols.astype(f16).astype(f32).reshape(cg, kh, kw, oh, ow)
            for i, j in (taps[::-1] if last else taps):
                at = (n, slice(gi * cg, (gi + 1) * cg), slice(i * d[0], i * d[0] + s[0] * (oh - 1) + 1, s[0]),
                      slice(j * d[1], j * d[1] + s[1] * (ow - 1) + 1, s[1]))
                gx[at] = (gx[at] + cols[:, i, j]).astype(f16)
    return gx[:, :, pt:pt + xshape[2], pl:pl + xshape[3]].astype(f16)


def _twice(node):
    """The node's convolution as differentiable ops, for its gradients recorded under create_graph (_conv_twice)."""
    s, pads, d, groups, opad, transposed = node.cfg
    nd, cfg, xshape = node.nd, node.cfg, node.xshape
    s, d = s[-nd:], d[-nd:]

    def fwd(x, w, b):
        if transposed:
            return (conv_transpose1d if nd == 1 else conv_transpose2d)(x, w, b, s, pads[-nd:], opad[-nd:], groups, d)
        return (conv1d if nd == 1 else conv2d)(x, w, b, s, tuple(lo for lo, _ in pads[-nd:]), d, groups)

    def bw(g, x, w, need):
        """The gradients composed of differentiable convolutions and pads."""
        if nd == 1:
            g, w = g.unsqueeze(2), w.unsqueeze(2)
            x = None if x is None else x.unsqueeze(2)
        gx, gw, gb = (_tconv_bw_tensors if transposed else _conv_bw_tensors)(g, x, w, cfg, need, xshape)
        if nd == 1:
            gx = None if gx is None else gx.squeeze(2)
            gw = None if gw is None else gw.squeeze(2)
        return gx, gw, gb
    arg = ConvolutionBackward0.__dict__
    return _conv_twice.Conv(fwd, bw, **{k: arg[f'_saved_{k}'].fget(node) for k in (
        'stride', 'padding', 'dilation', 'groups', 'output_padding', 'transposed')})


def _conv_arg(i):
    """Getter of the node's ``cfg[i]`` (stride, padding, dilation, output_padding) as PyTorch saves it: one entry
    per spatial dim (a 1-d convolution runs as a 2-d one here), a padding by its leading side."""
    def get(node):
        v = node.cfg[i][-node.nd:]
        return tuple(p[0] if isinstance(p, tuple) else p for p in v)
    return get


def _saved_tensor(k):
    def get(node):
        return node.saved(True)[k]
    return get


# what PyTorch's ConvolutionBackward0 saves (torchviz's make_dot(show_attrs=True) lists it); ember keeps the input
# only when the weight needs a gradient
graph.saved_attributes(ConvolutionBackward0, stride=_conv_arg(0), padding=_conv_arg(1), dilation=_conv_arg(2),
                 groups=lambda node: node.cfg[3], output_padding=_conv_arg(4), transposed=lambda node: node.cfg[5],
                 bias_sym_sizes_opt=lambda node: node.bias_sizes, input=_saved_tensor(0), weight=_saved_tensor(1))
for _name, _prop in graph.saved_properties('input', 'weight').items():
    if _name.startswith('_raw_'):
        setattr(ConvolutionBackward0, _name, _prop)


def _shape4(xshape):
    return tuple(xshape) if len(xshape) == 4 else tuple(xshape[:2]) + (1,) + tuple(xshape[2:])


def _bias_grad(g):
    """A convolution's bias gradient, g (N, C, H, W) summed over all dims but 1: float64 in the order of PyTorch's
    sum (its slow convolution kernel's at::sum; checked on 2 and 8 planes of 63 and 64 values, 1 and 2 threads);
    float32's under the exact kernels as _exact_bias_grad, otherwise NumPy's sum."""
    if g.dtype.type is np.float64:
        r = _sumorder.ordered_sum(g, (0, 2, 3))
        if r is not None:
            return r
    return _float_bias_grad(g)


def _float_bias_grad(g, transposed=False):
    """A (transposed) convolution's float32 bias gradient: _exact_bias_grad under the exact kernels, else NumPy's
    sum."""
    r = _exact_bias_grad(g, transposed) if g.dtype.type is np.float32 and g.ndim == 4 and exact_kernels() else None
    return g.sum(axis=(0, 2, 3)) if r is None else r


def _exact_bias_grad(g, transposed=False):
    """A float32 bias gradient in PyTorch's order, conv and transposed conv alike: one sample's as PyTorch's sum
    (ops._sumorder, at 1 and 2 threads: its oneDNN path hands a batch of one to at::sum); more samples' each
    channel's values added one after another (_bias_grad_in_order) at one thread, and at two for 9+ channels; at two
    threads up to 8 channels are summed so over the first ceil(N / 2) samples and over the rest, the two sums then
    added (found on 19 shapes, N 2-16, C 1-64); a transposed conv's there is not that (mostly each channel's values
    in turn, 5 samples of 3 channels sample by sample: left). None at other thread counts."""
    threads = blas_threads()
    if g.shape[0] == 1:
        return _sumorder.ordered_sum(g, (0, 2, 3))
    if threads == 1 or threads == 2 and g.shape[1] > 8:
        return _bias_grad_in_order(g)
    if threads == 2 and not transposed:
        half = -(-g.shape[0] // 2)
        return _bias_grad_in_order(g[:half]) + _bias_grad_in_order(g[half:])
    return None


def _bias_grad_in_order(g):
    """g (N, C, H, W) float32 summed over (N, H, W) term after term per channel, as PyTorch's at one thread: its
    bias gradient on (8-64, 6-128, 8-32, 8-32) gradients all bits equal (NumPy's sum: nearly every channel a step
    off: stat453's ResNet, whose rounding noise in a bias before BatchNorm Adam turns into full steps). At 2 threads
    PyTorch splits the sum in an order not reproduced. Not by default: 15-50x NumPy's sum ((8, 32, 32, 32) 45 ->
    642 us)."""
    # copied channels-last first: for one sample the reshape is a view reduced along its contiguous axis, pairwise
    return np.add.reduce(np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1, g.shape[1]), axis=0)


def _conv_bw_arrays(node, g, w, x):
    s, pads, d, groups, _, _ = node.cfg
    need_x, need_w, need_b = node.need
    xshape = _shape4(node.xshape)
    o = g.shape[2:]
    gb = _bias_grad(g) if need_b else None
    gx = np.empty(xshape, g.dtype) if need_x else None
    if isinstance(node.cols, _winograd.Saved):
        saved = node.cols
        if MODE.release:
            node.cols = None
        if isinstance(saved, _winograd4_chunked.Saved):
            gw = _winograd4_chunked.grads(g, x if need_w else None, saved, pads[0][0], pads[1][0], gx, w.shape)
            return gx, gw, gb
        if isinstance(saved, _winograd.Chunked):
            gw = _winograd.chunked_grads(g, x if need_w else None, saved, pads[0][0], pads[1][0], gx, w.shape)
            return gx, gw, gb
        wino = next(m for m in (_winograd_s2, _winograd4, _winograd) if isinstance(saved, m.Saved))
        if wino is _winograd_s2:
            return gx, _winograd_s2.conv_grads(g, w.shape, saved.u, saved.v if need_w else None, gx), gb
        if need_x and need_w:
            gw = _winograd4.grads(g, w, saved.v, gx) if wino is _winograd4 else \
                _winograd.grads(g, saved, pads[0][0], pads[1][0], gx, w.shape)
            return gx, gw, gb
        gw = wino.grad_weight(g, saved.v, w.shape) if need_w else None
        if wino is _winograd4 and need_x:
            _winograd4.grad_input(g, w, gx)
        elif need_x:
            _winograd.grad_input(g, saved.u, pads[0][0], pads[1][0], gx)
        return gx, gw, gb
    kept = node.cols
    if isinstance(kept, _depthwise.Saved):
        if MODE.release:
            node.cols = None
        return gx, _depthwise.grads(g, kept, s, d, pads, gx, need_w), gb
    if isinstance(kept, _stride2.Saved):
        if MODE.release:
            node.cols = None
        return gx, _stride2.grads(g, w.shape, xshape, kept, gx), gb
    if kept is _DENSE:
        return _dense_grads(g, x, w, need_x, need_w, xshape, False) + (gb,)
    if isinstance(kept, _Samples):
        if MODE.release:
            node.cols = None
        return gx, _sample_grads(g, kept, w, pads, s, d, gx), gb
    if isinstance(kept, _taps.Saved):
        if MODE.release:
            node.cols = None
        gxl, gw = _taps.grads(_batch_last(g), _batch_last(x) if need_w else None, kept.w if need_x else None, s, d,
                              pads, xshape[2:], w.shape)
        if need_x:
            _batch_first(gxl, gx)
        return gx, gw, gb
    if isinstance(kept, _Parts):
        return gx, _parts_grads(node, g, x, w, gx), gb
    g2 = _batch_last(g).reshape(g.shape[1], -1)
    gw = None
    if need_w:
        gw = _weight_product(g2, kept, groups).reshape(w.shape)
        if MODE.release:    # both references freed before the input's gradient columns are made: a
            node.cols = kept = None     # lower peak (LeNet batch 64's peak memory 12.5 -> 10.7 MB)
    if need_x:
        _conv_grad_input(g2, w, pads, s, d, groups, o, gx)
    return gx, gw, gb


def _parts_grads(node, g, x, w, gx):
    """Weight gradient (None when not needed) of an im2col conv run in parts (_Parts), and its input gradient
    written into gx (when given): each part on one of ember._parallel's threads, as in the forward; the parts'
    weight gradients are added up in part order after, so the values do not depend on which thread ran what."""
    s, pads, d, groups, _, _ = node.cfg
    need_x, need_w, _ = node.need
    kept, o = node.cols, g.shape[2:]
    if MODE.release:
        node.cols = None

    def part(i, sl):
        g2 = _batch_last(g[sl]).reshape(g.shape[1], -1)
        gw = None
        if need_w:
            cols = kept.cols[i] if kept.cols is not None else _columns(x[sl], pads, w.shape[2:], s, d, o)
            if MODE.release and kept.cols is not None:  # freed before the input's gradient columns are made
                kept.cols[i] = None
            gw = _weight_product(g2, cols, groups)
            del cols
        if need_x:
            _conv_grad_input(g2, w, pads, s, d, groups, o, gx[sl])
        return gw
    parts = _parallel.each(part, list(enumerate(kept.slices)))
    if not need_w:
        return None
    gw = parts[0].copy()
    for p in parts[1:]:
        gw += p
    return gw.reshape(w.shape)


def _weight_product(g2, cols, groups):
    """The weight gradient's product g2 @ cols.T, (O, C*KH*KW) (C per group), of the output gradient's rows g2
    (O, M) and the columns (C*KH*KW, M). With one group it is computed as (cols @ g2.T).T: OpenBLAS ran the
    long-K product twice as fast with the wide side as its rows. Min of 15 interleaved, one thread (us), LeNet's
    convs at batch 64: conv2 (16, 6400) x (150, 6400) SkylakeX kernels 322 -> 146, Haswell 227 -> 191; conv1's
    16-sample part (6, 12544) x (75, 12544) SkylakeX 363 -> 230, Haswell 316 -> 242. A short M (at most _SHORT_M:
    a small batch at a deep layer's few output pixels) with at least M / 2 output channels goes as g2 @ cols.T
    instead, whose result is C-contiguous: the transposed one was copied again when it became .grad (a strided
    copy: ResNet-18's 256x8x8 -> 512 stride-2 conv at batch 8, (512, 128) x (2304, 128), gradient plus copy 4.20 ->
    1.30 ms at one thread, 3.72 -> 0.72 at two, min of 30). Gradient plus copy at one thread, min of 300 (us,
    SkylakeX / Haswell kernels): (512, 128) x (256, 128) 312 -> 147 / 421 -> 263, (256, 512) x (128, 512) 207 ->
    161 / 300 -> 269, (128, 128) x (576, 128) 127 -> 100 / 197 -> 152; with fewer channels the transposed product
    stays ahead: (128, 512) x (576, 512) 371 -> 387 / 636 -> 604, (64, 512) x (576, 512) 195 -> 239 / 325 -> 319,
    LeNet batch 4's (16, 400) x (150, 400) 15 -> 28 / 22 -> 23."""
    if groups == 1 and g2.shape[1] <= min(_SHORT_M, 2 * g2.shape[0]):
        return gemm(g2, cols.T)
    if groups == 1:
        return gemm_narrow(cols, g2.T).T
    return _gemm(g2, cols, groups, tb=True)


_SHORT_M = 512   # output pixels times samples up to which the weight gradient's product goes untransposed


def _tconv_bw_arrays(node, g, w, x):
    s, pads, d, groups, opad, _ = node.cfg
    need_x, need_w, need_b = node.need
    xshape = _shape4(node.xshape)
    if not (need_x or need_w):      # the bias's alone (the weight was not saved)
        return None, None, _float_bias_grad(g, True)
    if isinstance(node.cols, _winograd_s2.Saved):
        return _tconv_bw_winograd(node, g, w, x, xshape)
    if isinstance(node.cols, _Samples):
        return _tconv_bw_samples(node, g, w, x, xshape)
    if node.cols is _DENSE:
        gb = _float_bias_grad(g, True) if need_b else None
        return _dense_grads(g, x, w, need_x, need_w, xshape, True) + (gb,)
    cols = _tconv_cols(g, xshape, w.shape[2:], s, pads, d, opad)
    gb = _float_bias_grad(g, True) if need_b else None
    gx = gw = None
    if need_x:
        gx2 = _gemm(w.reshape(w.shape[0], -1), cols, groups)
        gx = _from_cl(gx2.reshape(xshape[1:] + xshape[:1]))
    if need_w:
        gw = _gemm(node.cols, cols, groups, tb=True).reshape(w.shape)
    return gx, gw, gb


def _tconv_bw_winograd(node, g, w, x, xshape):
    """Backward of a transposed conv that took the Winograd path: its input gradient is the 4x4 stride-2
    conv of g, whose transformed input also gives the weight gradient."""
    need_x, need_w, need_b = node.need
    gb = _float_bias_grad(g, True) if need_b else None
    gx = np.empty(xshape, g.dtype) if need_x else None
    return gx, _winograd_s2.tconv_grads(g, w, x if need_w else None, gx), gb


def _conv_bw_tensors(g, x, w, cfg, need, xshape):
    s, pads, d, groups, _, _ = cfg
    from ._pad import pad
    gb = g.sum(dim=(0, 2, 3)) if need[2] else None
    gx = gw = None
    if need[0]:
        gx = conv_transpose2d(g, w, None, s, 0, 0, groups, d)
        hp = [h + p[0] + p[1] for h, p in zip(_shape4(xshape)[2:], pads)]
        gx = pad(gx, (-pads[1][0], hp[1] - gx.shape[3] - pads[1][1], -pads[0][0], hp[0] - gx.shape[2] - pads[0][1]))
    if need[1]:
        xp = pad(x, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
        gw = _weight_grad(xp, g, w.shape[2:], s, d, groups)
    return gx, gw, gb


def _tconv_bw_tensors(g, x, w, cfg, need, xshape):
    s, pads, d, groups, opad, _ = cfg
    from ._pad import pad
    gb = g.sum(dim=(0, 2, 3)) if need[2] else None
    gx = gw = None
    h, wd = _shape4(xshape)[2:]
    if need[0]:
        gx = conv2d(g, w, None, s, pads, d, groups)[:, :, :h, :wd]
    if need[1]:
        k = w.shape[2:]
        full = [(hi - 1) * si + di * (ki - 1) + 1 + op for hi, si, di, ki, op in zip((h, wd), s, d, k, opad)]
        gp = pad(g, (pads[1], full[1] - pads[1] - g.shape[3], pads[0], full[0] - pads[0] - g.shape[2]))
        gw = _weight_grad(gp, x, k, s, d, groups)
    return gx, gw, gb


def _weight_grad(a, b, k, s, d, groups):
    """sum over the batch of b times the windows of a, per group, as a differentiable conv of a^T with b^T
    (stride and dilation swap roles); gives (b channels, a channels / groups, KH, KW)."""
    from ...ops import cat
    parts = []
    for ag, bg in zip(a.chunk(groups, 1), b.chunk(groups, 1)):
        r = conv2d(ag.transpose(0, 1), bg.transpose(0, 1), None, d, 0, s, 1)
        parts.append(r[:, :, :k[0], :k[1]].transpose(0, 1))
    return parts[0] if groups == 1 else cat(parts, 0)


# -- public functions ----------------------------------------------------------------------------------------------
def _wide_tconv(x, w, b, tensors, *args):
    """_tconv_fwd; bfloat16 computed in float32 and rounded once, as PyTorch's (oneDNN) kernel: its column adds
    rounded per sum left 730 of 1568 values of a (2, 8, 12, 12) x (8, 4, 3, 3) one step or more off (float16 already
    matches PyTorch's per-sum rounding). What backward keeps comes from the bfloat16 pass, when a gradient may be
    asked for."""
    if type(x) is not _bf16.BF16Array:
        return _tconv_fwd(x, w, b, *args)
    f32 = _bf16.to_f32
    y = _bf16.from_f32(_tconv_fwd(f32(x), f32(w), None if b is None else f32(b), *args)[0])
    saved = None
    if GRAD.enabled and any(t is not None and t._requires_grad for t in tensors):
        saved = _tconv_fwd(x, w, None, *args)[1]
    return y, saved


def _half_fwd(fwd, tensors, x, w, b, s, pads, d, groups, need_x):
    """``fwd(x, w, b, ...)`` (_conv_fwd); float16 values as PyTorch's CPU computes them: im2col columns times the
    weight summed in float32 as its cpublas kernel sums (ops._halfgemm), the bias added in float32, rounded once
    (rounding the product, then adding the bias in float16, left 1249 of 4608 values of a (2, 8, 12, 12) x
    (16, 8, 3, 3) conv one step off; a grouped conv sums each group so). What backward keeps comes from
    the float16 pass, run only when a gradient may be asked for."""
    if x.dtype != np.float16:
        return fwd(x, w, b, s, pads, d, groups, need_x)
    f32 = np.float32
    o, k = _out_size(x.shape[2:], pads, w.shape[2:], s, d), w.shape[2:]
    w2, cols = w.reshape(w.shape[0], -1).astype(f32), _columns(x.astype(f32), pads, k, s, d, o)
    og, kg = w.shape[0] // groups, w2.shape[1]     # each group's output channels and column rows
    y = np.concatenate([_halfgemm.lanes_product(w2[g * og:(g + 1) * og], cols[g * kg:(g + 1) * kg])
                        for g in range(groups)])
    if b is not None:
        y += b.astype(f32)[:, None]
    y = _from_cl(y.reshape(w.shape[0], o[0], o[1], x.shape[0])).astype(np.float16)
    saved = None
    if GRAD.enabled and any(t is not None and t._requires_grad for t in tensors):
        saved = fwd(x, w, None, s, pads, d, groups, need_x)[1]
    return y, saved


def _record(y, node_inputs, cfg, cols, xshape, nd):
    x, w, b = node_inputs
    need = (x._requires_grad, w._requires_grad, b is not None and b._requires_grad)
    if GRAD.enabled and any(need):
        node = ConvolutionBackward0(node_inputs)
        node.cfg, node.need, node.nd, node.xshape = cfg, need, nd, xshape
        node.last = _layout.suggests_channels_last(getattr(y, '_data', y))    # the kernel ran channels-last
        node.bias_sizes = (0,) if b is None else tuple(b.shape)
        if isinstance(cols, _winograd.Saved):
            cols.v = cols.v if need[1] else None
        if isinstance(cols, _taps.Saved) and not need[0]:
            cols.w = None       # only the input's gradient reads it; the weight's still takes the taps path
        if isinstance(cols, _Samples):
            cols.cols = cols.cols if need[1] else None
        if isinstance(cols, _stride2.Saved):
            cols.v = cols.v if need[1] else None
        if isinstance(cols, _Parts):
            cols.cols = cols.cols if need[1] else None
        if isinstance(cols, _depthwise.Saved):
            cols.xq = cols.xq if need[1] else None
        node.cols = cols if need[1] or isinstance(cols, (_winograd.Saved, _taps.Saved, _Samples, _stride2.Saved,
                                                         _Dense, _Parts, _depthwise.Saved)) else None
        node.save(x if need[1] else None, w if need[0] or need[1] else None, None)
        out = Tensor._make(y, node)
    else:
        out = Tensor._make(y)
    if _flop_hook.COUNTERS:
        _flop_hook.convolution(xshape, w.shape, y.shape, cfg[5], out, need)
    return out


class _EmptyConvolutionBackward(Node):
    """Backward of a convolution with nothing to compute: an input with no channels (every gradient is zeros, the
    bias's too) or meta operands (meta gradients)."""
    __slots__ = ('shapes',)

    def backward(self, g):
        data = g if dual.is_array(g) else g._data
        fill = _meta.placeholder if type(data) is _meta.MetaArray else np.zeros
        zeros = [None if shape is None else fill(shape, data.dtype) for shape in self.shapes]
        return tuple(z if z is None or dual.is_array(g) else Tensor._make(z) for z in zeros)


_EmptyConvolutionBackward.__name__ = _EmptyConvolutionBackward.__qualname__ = 'ConvolutionBackward0'


def empty_channels(input, weight, bias, out):
    """PyTorch's result for an input with 0 channels (after its shape checks): an (N, 0, *out) tensor, and
    zero gradients for input, weight and bias."""
    return _no_values(np.zeros((input.shape[0], 0) + tuple(out), input._data.dtype), input, weight, bias)


def all_meta(input, weight, bias):
    """Whether a convolution's operands are all meta tensors (see meta_result)."""
    return all(t is None or type(t._data) is _meta.MetaArray for t in (input, weight, bias))


def meta_result(input, weight, bias, shape):
    """A convolution of meta operands: its (N, C_out, *out) shape alone, computed without touching the arrays
    (im2col columns of the reasoning_about_shapes recipe's (1024, 3, 65536, 65536) input would need 192 TiB)."""
    return _no_values(_meta.placeholder(shape, input._data.dtype), input, weight, bias)


def _no_values(y, input, weight, bias):
    tensors = (input, weight, bias)
    need = [t is not None and t._requires_grad for t in tensors]
    if not (GRAD.enabled and any(need)):
        return Tensor._make(y)
    node = _EmptyConvolutionBackward(tensors)
    node.shapes = tuple(t._data.shape if n else None for t, n in zip(tensors, need))
    return Tensor._make(y, node)


def _prep(input, weight, bias, nd, name, stride, dilation, transposed=False):
    """Arrays for a conv of spatial rank nd: (x as 4-D, w as 4-D, b, unbatched?)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({type(input).__name__}, ...)")
    x, w = input._data, weight._data
    b = None if bias is None else bias._data
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f'Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input '
                           f'of size: {_size(x.shape)}')
    if w.ndim != nd + 2:
        raise RuntimeError('weight should have at least three dimensions' if w.ndim < 3 else
                           f'Expected {nd + 2}-dimensional weight for {nd + 2}-dimensional input, but got '
                           f'{w.ndim}-dimensional weight of size {_size(w.shape)}')
    _check_dtypes(input, weight, bias, transposed, (stride, dilation, nd))
    if b is not None and bias.dtype != input.dtype:   # a transposed convolution's bias takes the input's dtype
        b = bias.to(input.dtype)._data
    return x, w, b


def _check_kind(x, nd, transposed):
    """PyTorch's CPU kernels' dtypes (checked after the shapes, as there): convolutions take the floating and
    integer types (integer products wrap as C's do), transposed ones the floating types and Long."""
    if x.dtype.kind == 'f' or (x.dtype.kind in 'iu' and (not transposed or x.dtype == np.int64)):
        return
    kernel = ('slow_conv_transpose3d_out_cpu' if nd == 3 else 'slow_conv_transpose2d_out_cpu') if transposed else \
        'compute_columns3d' if nd == 3 else 'slow_conv2d_cpu'
    raise not_implemented(kernel, x.dtype)


def _check_channels(x, w, b, groups, transposed, nd):
    """PyTorch's checks of the channel counts, groups and bias size, then of the dtype (see _check_kind)."""
    c = x.shape[1]
    if groups <= 0:
        raise RuntimeError('non-positive groups is not supported')
    if w.shape[0] < groups:
        raise RuntimeError(f'Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got '
                           f'weight of size {_size(w.shape)} instead')
    if transposed:
        expect = w.shape[0]
        if c != expect:
            raise RuntimeError(f'Given transposed=1, weight of size {_size(w.shape)}, expected input{_size(x.shape)} '
                               f'to have {expect} channels, but got {c} channels instead')
        out_ch = w.shape[1] * groups
    else:
        expect = w.shape[1] * groups
        if c != expect or w.shape[0] % groups:
            if w.shape[0] % groups:
                raise RuntimeError(f'Given groups={groups}, expected weight to be divisible by {groups} at dimension '
                                   f'0, but got weight of size {_size(w.shape)} instead')
            raise RuntimeError(f'Given groups={groups}, weight of size {_size(w.shape)}, expected input'
                               f'{_size(x.shape)} to have {expect} channels, but got {c} channels instead')
        out_ch = w.shape[0]
    if b is not None and (b.ndim != 1 or b.shape[0] != out_ch):
        raise RuntimeError(f'Given weight of size {_size(w.shape)}, expected bias to be 1-dimensional with '
                           f'{out_ch} elements, but got bias of size {_size(b.shape)} instead')
    _check_kind(x, nd, transposed)


def _unbatched(fn, input, *args):
    """Run a batched conv on an unbatched input (PyTorch's unsqueeze/squeeze, so grad_fn is SqueezeBackward1)."""
    return fn(input.unsqueeze(0), *args).squeeze(0)


@_quiet.quietly
def _conv(input, weight, bias, stride, padding, dilation, groups, nd, name):
    x, w, b = _prep(input, weight, bias, nd, name, stride, dilation)
    if x.ndim == nd + 1:
        return _unbatched(lambda t, *a: _conv(t, *a, nd, name), input, weight, bias, stride, padding,
                          dilation, groups)
    k = w.shape[2:]
    s, d = _tuple(stride, nd, 'stride'), _tuple(dilation, nd, 'dilation')
    _check_args(s, d)
    pads = _conv_pads(padding, k, s, d, nd)
    if any(lo != hi for lo, hi in pads):
        xp, p = same_padded(input, pads)
        return _conv(xp, weight, bias, stride, p, dilation, groups, nd, name)
    _check_channels(x, w, b, groups, False, nd)
    x4, w4 = (x[:, :, None], w[:, :, None]) if nd == 1 else (x, w)
    k4, s4, d4 = ((1,) + k, (1,) + s, (1,) + d) if nd == 1 else (k, s, d)
    pads4 = [(0, 0)] + pads if nd == 1 else pads
    eff = [hi + p[0] + p[1] for hi, p in zip(x4.shape[2:], pads4)]
    if any(e < di * (ki - 1) + 1 for e, ki, di in zip(eff, k4, d4)):
        raise RuntimeError(f'Calculated padded input size per channel: ({" x ".join(map(str, eff[2 - nd:]))}). '
                           f'Kernel size: ({" x ".join(str(di * (ki - 1) + 1) for ki, di in zip(k, d))}). '
                           "Kernel size can't be greater than actual input size")
    if x.shape[1] == 0:
        return empty_channels(input, weight, bias, _out_size(x.shape[2:], pads4[2 - nd:], k, s, d))
    if all_meta(input, weight, bias):
        return meta_result(input, weight, bias, x.shape[:1] + w.shape[:1] +
                           tuple(_out_size(x.shape[2:], pads4[2 - nd:], k, s, d)))
    y, cols = _half_fwd(_conv_fwd, (input, weight, bias), x4, w4, b, s4, pads4, d4, groups, input._requires_grad)
    if nd == 1:
        y = y.reshape(y.shape[0], y.shape[1], y.shape[3])
    elif _layout.suggests_channels_last(x) or _layout.suggests_channels_last(w):
        # PyTorch's convolution returns channels-last when its input or weight is (the memory_format tutorial)
        y = _layout.in_format(name, y, _layout.channels_last if nd == 2 else _layout.channels_last_3d)
    cfg = (s4, pads4, d4, groups, (0, 0), False)
    return _record(y, (input, weight, bias), cfg, cols, x.shape, nd)


@_autocast.lower_precision
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) of (N, C, L) input with (O, C/groups, K) weight."""
    try:
        return _conv(input, weight, bias, stride, padding, dilation, groups, 1, 'conv1d')
    except (AttributeError, TypeError):
        check_tensor_args('conv1d', 'input', 'weight', 'bias?')
        raise


@_autocast.lower_precision
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of (N, C, H, W) input with (O, C/groups, KH, KW) weight."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, 'conv2d')


@_quiet.quietly
def _tconv(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, name):
    x, w, b = _prep(input, weight, bias, nd, name, stride, dilation, True)
    if x.ndim == nd + 1:
        return _unbatched(lambda t, *a: _tconv(t, *a, nd, name), input, weight, bias, stride, padding,
                          output_padding, groups, dilation)
    k = w.shape[2:]
    s, d = _tuple(stride, nd, 'stride'), _tuple(dilation, nd, 'dilation')
    p, op = _tuple(padding, nd, 'padding'), _tuple(output_padding, nd, 'output_padding')
    _check_args(s, d)
    if any(pi < 0 for pi in p):
        raise RuntimeError('negative padding is not supported')
    if any(o >= si and o >= di for o, si, di in zip(op, s, d)) or any(o < 0 for o in op):
        raise RuntimeError('output padding must be smaller than either stride or dilation, but got ' +
                           _op_msg(op, s, d, nd))
    _check_channels(x, w, b, groups, True, nd)
    x4, w4 = (x[:, :, None], w[:, :, None]) if nd == 1 else (x, w)
    k4, s4, d4, p4, op4 = (((1,) + k, (1,) + s, (1,) + d, (0,) + p, (0,) + op) if nd == 1 else (k, s, d, p, op))
    out = [(hi - 1) * si - 2 * pi + di * (ki - 1) + oi + 1 for hi, si, pi, di, ki, oi in
           zip(x4.shape[2:], s4, p4, d4, k4, op4)]
    if any(o <= 0 for o in out):
        raise RuntimeError(f'Given input size per channel: ({" x ".join(map(str, x.shape[2:]))}). Calculated '
                           f'output size per channel: ({" x ".join(map(str, out[2 - nd:]))}). Output size is too small')
    y, x2 = _wide_tconv(x4, w4, b, (input, weight, bias), s4, p4, d4, groups, op4)
    if nd == 1:
        y = y.reshape(y.shape[0], y.shape[1], y.shape[3])
    elif _layout.suggests_channels_last(x) or _layout.suggests_channels_last(w):   # (as _conv's)
        y = _layout.in_format(name, y, _layout.channels_last if nd == 2 else _layout.channels_last_3d)
    cfg = (s4, p4, d4, groups, op4, True)
    return _record(y, (input, weight, bias), cfg, x2, x.shape, nd)


def _op_msg(op, s, d, nd):
    if nd == 1:
        return f'output_padding: {op[0]} stride: {s[0]} dilation: {d[0]}'
    return (f'output_padding_height: {op[0]} output_padding_width: {op[1]} stride_height: {s[0]} stride_width: '
            f'{s[1]} dilation_height: {d[0]} dilation_width: {d[1]}')


@_autocast.lower_precision
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution (the gradient of conv1d w.r.t. its input) with (C, O/groups, K) weight."""
    try:
        return _tconv(input, weight, bias, stride, padding, output_padding, groups, dilation, 1, 'conv_transpose1d')
    except (AttributeError, TypeError):
        check_tensor_args('conv_transpose1d', 'input', 'weight', 'bias?')
        raise


@_autocast.lower_precision
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution (the gradient of conv2d w.r.t. its input) with (C, O/groups, KH, KW) weight."""
    return _tconv(input, weight, bias, stride, padding, output_padding, groups, dilation, 2, 'conv_transpose2d')


# -- unfold / fold ----------------------------------------------------------------------------------------------------
class Im2ColBackward0(Node):
    """Backward of unfold: fold the column gradients back (col2im)."""
    __slots__ = ('args', 'hw')

    def backward(self, g):
        k, d, p, s = self.args
        if not dual.is_array(g):
            return fold(g, self.hw, k, d, p, s)
        if g.ndim == 2:     # unbatched input
            return _fold_arr(g[None], self.hw, k, d, p, s)[0]
        return _fold_arr(g, self.hw, k, d, p, s)


class Col2ImBackward0(Node):
    """Backward of fold: unfold the gradient (im2col)."""
    __slots__ = ('args',)

    def backward(self, g):
        k, d, p, s = self.args
        if not dual.is_array(g):
            return unfold(g, k, d, p, s)
        if g.ndim == 3:     # unbatched input
            return _unfold_arr(g[None], k, d, p, s)[0]
        return _unfold_arr(g, k, d, p, s)


def _blocks(hw, k, d, p, s):
    return [(hi + 2 * pi - di * (ki - 1) - 1) // si + 1 for hi, ki, di, pi, si in zip(hw, k, d, p, s)]


def _unfold_arr(x, k, d, p, s):
    return _sample_columns(x, ((p[0], p[0]), (p[1], p[1])), k, s, d, _blocks(x.shape[2:], k, d, p, s))


def _fold_arr(cols, hw, k, d, p, s):
    n, ckk, _ = cols.shape
    c = ckk // (k[0] * k[1])
    o = _blocks(hw, k, d, p, s)
    c6 = cols.reshape(n, c, k[0], k[1], o[0], o[1])
    canvas = _col2im(c6, 2, (n, c, hw[0] + 2 * p[0], hw[1] + 2 * p[1]), k, s, d)
    return np.ascontiguousarray(canvas[:, :, p[0]:p[0] + hw[0], p[1]:p[1] + hw[1]])


def _fold_args(kernel_size, dilation, padding, stride):
    return (_tuple(kernel_size, 2, 'kernel_size'), _tuple(dilation, 2, 'dilation'), _tuple(padding, 2, 'padding'),
            _tuple(stride, 2, 'stride'))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks: (N, C, H, W) -> (N, C*KH*KW, L), the im2col matrix of each sample."""
    try:
        args = _fold_args(kernel_size, dilation, padding, stride)
        x = input._data
        if x.ndim not in (3, 4):
            raise RuntimeError(f'Input Error: Only 3D or 4D input Tensors are supported (got {x.ndim}D)')
        if x.dtype.kind in 'iu':   # PyTorch's im2col has float, complex and bool loops
            raise not_implemented('im2col_out_cpu', x.dtype)
        batched = x.ndim == 4
        if not batched:     # unbatched: one Im2ColBackward0 node, as PyTorch
            x = x[None]
        k, d, p, st = args
        if min(p) < 0:
            raise RuntimeError(f'padding should be non-negative, but got pad_height: {p[0]} pad_width: {p[1]}')
        blocks = tuple((x.shape[2 + i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // st[i] + 1 for i in range(2))
        if min(blocks) < 1:
            raise RuntimeError(f'Given input with spatial size {tuple(x.shape[2:])}, kernel_size={k}, dilation={d}, '
                               f'padding={p}, calculated shape of the array of sliding blocks as {blocks}, but its '
                               f'components must be at least one.')
        y = np.ascontiguousarray(_unfold_arr(x, *args))   # (a fresh tensor, as PyTorch's im2col: the sampled
        if not batched:                                   # columns can be a view that overlaps itself)
            y = y[0]
        if GRAD.enabled and input._requires_grad:
            node = Im2ColBackward0((input,))
            node.args, node.hw = args, x.shape[2:]
            return Tensor._make(y, node)
        return Tensor._make(y)
    except (AttributeError, TypeError):
        check_inner_args('im2col', ('input', input))
        raise


@_quiet.quietly
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an image: (N, C*KH*KW, L) -> (N, C, H, W) (overlaps add up)."""
    try:
        args = _fold_args(kernel_size, dilation, padding, stride)
        hw = _tuple(output_size, 2, 'output_size')
        x = input._data
        if x.ndim not in (2, 3) or 0 in x.shape[x.ndim - 2:]:
            raise RuntimeError('Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero '
                               f'dimensions for input, but got: {_size(x.shape)}')
        batched = x.ndim != 2
        if not batched:     # unbatched: one Col2ImBackward0 node, as PyTorch
            x = x[None]
        k = args[0]
        o = _blocks(hw, *args)
        if x.ndim != 3 or x.shape[1] % (k[0] * k[1]) or x.shape[2] != o[0] * o[1]:
            raise RuntimeError(f'Given output_size={hw}, kernel_size={k}, dilation={args[1]}, padding={args[2]}, '
                               f'stride={args[3]}, expected size of input\'s dimension 2 to match the calculated number '
                               f'of sliding blocks {o[0]} * {o[1]} = {o[0] * o[1]}, but got input.size(2)={x.shape[-1]}.')
        if x.dtype.kind in 'iu':   # PyTorch's col2im has float, complex and bool loops
            raise not_implemented('col2im_out_cpu', x.dtype)
        y = _fold_arr(x, hw, *args)
        if not batched:
            y = y[0]
        if GRAD.enabled and input._requires_grad:
            node = Col2ImBackward0((input,))
            node.args = args
            return Tensor._make(y, node)
        return Tensor._make(y)
    except (AttributeError, TypeError):
        check_inner_args('col2im', ('input', input))
        raise


def _conv_tbc(input, weight, bias, pad):
    if input.dtype.itemsize == 2 or input.shape[0] + 2 * pad < weight.shape[0]:
        return _conv_tbc_per_tap(input, weight, bias, pad)
    if pad < 0:     # PyTorch's negative pad drops that many time steps from each end
        input, pad = input[-pad:input.shape[0] + pad], 0
    out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1).contiguous()    # PyTorch's result is contiguous


def _conv_tbc_per_tap(input, weight, bias, pad):
    """PyTorch's conv_tbc order: the bias, then one addmm per kernel tap into the time steps it reaches, each
    rounded to a half/bfloat16 output (conv1d rounds once: an ulp apart in 1 of ~10 bf16 elements, measured); also
    the empty output of a kernel longer than the padded input, which conv1d refuses."""
    from ... import ops
    T, B, C = input.shape
    kw, _, O = weight.shape
    olen = T + 2 * pad - kw + 1
    out = bias.expand(olen, B, O).clone()
    for k in range(kw):
        i0, o0 = max(0, k - pad), max(0, pad - k)
        t = min(T + pad - k, olen) - o0
        if t > 0:
            acc = ops.addmm(out[o0:o0 + t].reshape(t * B, O), input[i0:i0 + t].reshape(t * B, C), weight[k])
            out[o0:o0 + t] = acc.reshape(t, B, O)
    return out


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution of (time, batch, channels) input by a (kernel width, in, out) weight: conv1d on permuted
    views, recorded as one ConvTbcBackward0 node (fairseq's layout)."""
    try:
        if input.dim() != 3:
            raise RuntimeError('Input must have 3 dims: time, batch, in_channel')
        if weight.dim() != 3:
            raise RuntimeError('Weight tensor must have 3 dims: kernel_width, in_channels, out_channels.')
        if bias.dim() != 1 or bias.shape[0] != weight.shape[2]:
            raise RuntimeError('Bias size must equal dim 2 in the weight tensor (output channels).')
        if input.shape[2] != weight.shape[1]:
            raise RuntimeError('Input dim 2 (input channels) is not == dim 1 in the weight tensor')
        t_out = input.shape[0] + 2 * pad - weight.shape[0] + 1
        if t_out < 0:
            raise RuntimeError(f'Trying to create tensor with negative dimension {t_out}: '
                               f'[{t_out}, {input.shape[1]}, {weight.shape[2]}]')
        return _composite.composite(ConvTbcBackward0, _conv_tbc, (input, weight, bias), pad=pad)
    except (AttributeError, TypeError, RuntimeError):     # PyTorch's binding checks the types before the shapes
        check_tensor_args('conv_tbc', 'input', 'weight', 'bias')
        raise


# (PyTorch's formula gives zeros for what no tap reaches)
ConvTbcBackward0 = forward_refusal.refusing(_composite.node_class('ConvTbcBackward0', zeros=True), 'conv_tbc')
