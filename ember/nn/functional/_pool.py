"""Pooling. Max pools keep a running max and argmax over one strided slice per kernel offset (no copy of
the windows; indices are PyTorch's flat positions within each input plane) and scatter the gradient back
the same way. Avg pools add one strided slice per tap (see _window_sums); adaptive
pools multiply by averaging matrices (avg) or gather padded windows (max). 1-D pools run as 2-D ones."""
import functools
import math

import numpy as np

from ... import _bf16, _exact, _layout, _parallel, _quiet

from ...amp import _state as _autocast
from ...autograd import dual
from ...backend import keep
from ...autograd.grad_mode import GRAD
from ...autograd.graph import Node
from ...ops._util import not_implemented, arg_error, check_tensor_args
from ...tensor import Tensor
from ._conv import fold

__all__ = ['max_pool1d', 'max_pool2d', 'max_pool1d_with_indices', 'max_pool2d_with_indices', 'avg_pool1d',
           'avg_pool2d', 'adaptive_avg_pool1d', 'adaptive_avg_pool2d', 'adaptive_max_pool1d', 'adaptive_max_pool2d',
           'adaptive_max_pool1d_with_indices', 'adaptive_max_pool2d_with_indices', 'max_unpool1d', 'max_unpool2d',
           'lp_pool1d', 'lp_pool2d']


# -- argument handling ---------------------------------------------------------------------------------------------
def need_tensor(input, name):
    """PyTorch's TypeError for a pool called on a non-tensor (its C++ argument parser names the op and the
    argument), where ember would otherwise fail inside with an AttributeError."""
    if not isinstance(input, Tensor):
        raise arg_error(name, 'input', 1, input)


def _pair(v, n=2):
    if type(v) is tuple and len(v) == n:
        return v
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(i) for i in v)
    return v * n if len(v) == 1 else v


def _out_len(n, k, s, p, d, ceil):
    """PyTorch's pooling output length (ceil_mode drops a last window that would start in the right padding)."""
    o = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, name):
    """(k, s, p, d, (OH, OW)) for a pool over the last two dims of x, with PyTorch's checks."""
    if x.ndim not in (3, 4):
        raise RuntimeError(f'non-empty 3D or 4D (batch mode) tensor expected for input to {name}, got {x.ndim}D')
    k = _pair(kernel_size)
    s = k if stride is None or (type(stride) is not int and len(stride) == 0) else _pair(stride)
    p, d = _pair(padding), _pair(dilation)
    if min(k) <= 0:
        raise RuntimeError(f'kernel_size must be greater than zero, but got kH: {k[0]} kW: {k[1]}')
    if min(s) <= 0:
        raise RuntimeError(f'stride should be greater than zero, but got dH: {s[0]} dW: {s[1]}')
    if min(d) <= 0:
        raise RuntimeError(f'dilation should be greater than zero, but got dilationH: {d[0]} dilationW: {d[1]}')
    for ki, pi, di in zip(k, p, d):
        if pi < 0 or pi > (di * (ki - 1) + 1) // 2:
            raise RuntimeError(f'pad should be at most half of effective kernel size, but got pad={pi}, '
                               f'kernel_size={ki} and dilation={di}')
    h, w = x.shape[-2:]
    o = (_out_len(h, k[0], s[0], p[0], d[0], ceil_mode), _out_len(w, k[1], s[1], p[1], d[1], ceil_mode))
    if o[0] <= 0 or o[1] <= 0:
        c = x.shape[-3]
        raise RuntimeError(f'Given input size: ({c}x{h}x{w}). Calculated output size: '
                           f'({c}x{o[0]}x{o[1]}). Output size is too small')
    return k, s, p, d, o


def _tiles(x, k, s, p, d, o):
    """True when the windows tile the input exactly: the reshape fast path applies."""
    return s == k and p == (0, 0) and (d == (1, 1) or k == (1, 1)) and o[0] * k[0] <= x.shape[-2] \
        and o[1] * k[1] <= x.shape[-1]


def _low(dtype):
    return -np.inf if dtype.kind == 'f' else np.iinfo(dtype).min


def _padded(a, p, need, fill):
    """(B, H, W) array placed at offset p on a canvas of at least ``need`` (H, W), filled with ``fill``."""
    b, h, w = a.shape
    hn, wn = max(need[0], h + p[0]), max(need[1], w + p[1])
    if (hn, wn) == (h, w) and p == (0, 0):
        return a
    out = np.full((b, hn, wn), fill, a.dtype)
    out[:, p[0]:p[0] + h, p[1]:p[1] + w] = a
    return out


def _untile(gw, shape, k, o):
    """Window-major gradients (B, OH, OW, KH*KW) of non-overlapping windows back to a zero-filled (B, H, W)."""
    b = gw.shape[0]
    t = gw.reshape(b, o[0], o[1], k[0], k[1]).transpose(0, 1, 3, 2, 4).reshape(b, o[0] * k[0], o[1] * k[1])
    if t.shape[1:] == tuple(shape[1:]):
        return t
    out = np.zeros(shape, gw.dtype)
    out[:, :t.shape[1], :t.shape[2]] = t
    return out


def _planes(x):
    """A (B, H, W) view of an (N, C, H, W) or (C, H, W) array."""
    return x.reshape((-1,) + x.shape[-2:])


# -- max pooling ----------------------------------------------------------------------------------------------------
def _scatter_flat(g, idx, hw, dtype):
    """Gradient of a gather by plane-flat indices: sum g into a (B, H*W) zero array (np.bincount)."""
    b = g.shape[0]
    n = hw[0] * hw[1]
    flat = (idx.reshape(b, -1) + (np.arange(b) * n)[:, None]).ravel()
    r = np.bincount(flat, weights=g.reshape(-1), minlength=b * n)
    return r.astype(dtype, copy=False).reshape((b,) + tuple(hw))


class _MaxBackward(Node):
    """Backward of a max pool: the gradient goes to each window's argmax (flat index within its plane)."""
    __slots__ = ('idx', 'local', 'geom', 'shape')

    def _flat(self):
        if self.idx is None:
            k, s, p, d, o = self.geom
            self.idx = _flat_index(self.local.transpose(2, 0, 1), k[1], o, s, p, d, self.shape[-1])
        return self.idx

    def backward(self, g):
        shape = self.shape
        b = math.prod(shape[:-2])
        if not dual.is_array(g):
            idx = Tensor._make(self._flat().reshape(b, -1))
            z = Tensor._make(np.zeros((b, shape[-2] * shape[-1]), g._data.dtype))
            return z.scatter_add(1, idx, g.reshape(b, -1)).reshape(shape)
        gb = g.reshape((b,) + g.shape[-2:])
        if self.geom is not None:
            k, s, p, d, o = self.geom
            return _scatter_windows(gb, self.local, (b,) + shape[-2:], k, s, p, d, o).reshape(shape)
        return _scatter_flat(gb, self.idx, shape[-2:], g.dtype).reshape(shape)


MaxPool2DWithIndicesBackward0 = type('MaxPool2DWithIndicesBackward0', (_MaxBackward,), {'__slots__': ()})
AdaptiveMaxPool2DBackward0 = type('AdaptiveMaxPool2DBackward0', (_MaxBackward,), {'__slots__': ()})


def _flat_index(am, kw, o, s, p, d, w):
    """Plane-flat input index of each window's argmax (am counts within the KH*KW window)."""
    hi = np.arange(o[0])[:, None] * s[0] - p[0] + (am // kw) * d[0]
    wi = np.arange(o[1])[None, :] * s[1] - p[1] + (am % kw) * d[1]
    return hi * w + wi


def _offsets(k, s, d, o):
    """(window position, row slice, column slice) for each kernel offset, in PyTorch's scan order."""
    for i in range(k[0]):
        hs = _axis_slice(i, s[0], d[0], o[0])
        for j in range(k[1]):
            yield i * k[1] + j, hs, _axis_slice(j, s[1], d[1], o[1])


def _axis_slice(i, s, d, o):
    return slice(i * d, i * d + s * (o - 1) + 1, s)


def _to_hwb(x, p, need, fill):
    """(B, H, W) -> (Hn, Wn, B) copy with x at offset p (planes innermost: every window slice is then a run
    of contiguous planes, which NumPy's SIMD loops handle many times faster than stride-2 views)."""
    b, h, w = x.shape
    hn, wn = max(need[0], h + p[0]), max(need[1], w + p[1])
    if (hn, wn) == (h, w):
        return np.ascontiguousarray(x.transpose(1, 2, 0))
    out = np.full((hn, wn, b), fill, x.dtype)
    out[p[0]:p[0] + h, p[1]:p[1] + w] = x.transpose(1, 2, 0)
    return out


def _argmax_along(a, axis, k, s, d, o, sel=None):
    """Running max and first argmax over k strided slices of axis 0 or 1; ``sel`` (same layout as a) is
    carried along with the winner. Updates are arithmetic, not masked writes (those branch per element)."""
    def part(i):
        sl = _axis_slice(i, s, d, o)
        key = (sl,) if axis == 0 else (slice(None), sl)
        return a[key], (None if sel is None else sel[key])

    m, carried = part(0)
    if k == 1:
        return m, np.zeros(m.shape, np.int8), carried
    v, sv = part(1)
    upd = v > m
    m = np.maximum(m, v)
    idx = upd.view(np.int8) if k <= 127 else upd.astype(np.int32)
    if sel is not None:
        carried = carried + upd * (sv - carried)
    for i in range(2, k):
        v, sv = part(i)
        upd = v > m
        np.maximum(m, v, out=m)
        np.maximum(idx, upd * idx.dtype.type(i), out=idx)
        if sel is not None:
            carried += upd * (sv - carried)
    return m, idx, carried


def _index_dtype(n):
    return np.int8 if n <= 127 else np.int32


def _exact_max(xt, k, s, d, o):
    """Non-separable running max with PyTorch's NaN rule (a NaN wins, the last one seen)."""
    m = idx = None
    for j, hs, ws in _offsets(k, s, d, o):
        v = xt[hs, ws]
        if m is None:
            m, idx = v.copy(), np.zeros(v.shape, np.int32)
            continue
        upd = (v > m) | (v != v)
        np.copyto(m, v, where=upd)
        np.copyto(idx, j, where=upd)
    return m, idx


def _max_pool_arr(x, k, s, p, d, o):
    """(max (B, OH, OW), window-local argmax (OH, OW, B)) of a (B, H, W) array, pieces of planes on the
    threads (see ember._parallel), written into arrays made here; a piece of tiling windows by _tiled_max (unless
    its max has a NaN). Tiling windows keep the argmax in _tiled_max's memory order, (B, OH, OW) seen transposed,
    so that neither its pieces nor the backward (_tiled_scatter) copy it across its batch stride (int8 at a 4 KiB
    stride): MNIST's 2x2 pool of (64, 64, 24, 24), 1 thread, thread time, min of 15 interleaved (load ~12, ms):
    forward 3.17 -> 2.84, forward and backward 7.82 -> 6.00."""
    tiled = _tiling(x.shape, k, s, p, d, o) and x.dtype.kind in 'fiu'
    if tiled and x.nbytes <= _PIECE_BYTES:     # one piece: its arrays as they are (LeNet's pools)
        r = _tiled_max(x, k, o)
        if r is not None:
            return r
        tiled = False
    b = x.shape[0]
    m = np.empty((b,) + tuple(o), x.dtype)
    it = _index_dtype(k[0] * k[1])
    idx = np.empty((b,) + tuple(o), it).transpose(1, 2, 0) if tiled else np.empty(tuple(o) + (b,), it)

    def piece(lo, hi):
        r = _tiled_max(x[lo:hi], k, o) if tiled else None
        if r is None:
            _max_pool_block(x[lo:hi], k, s, p, d, o, m[lo:hi], idx[:, :, lo:hi])
        else:
            m[lo:hi], idx[:, :, lo:hi] = r
    _parallel.run(piece, b, x.nbytes, _piece_planes(x))
    return m, idx


_PIECE_BYTES = 256 << 10     # input bytes a max pool's piece of planes covers


def _piece_planes(x):
    """Planes per piece of a (B, H, W) pool: the temporaries of a piece are a few times its input, and all
    a pool thread allocates stays in that thread's malloc arena; whole per-thread blocks held 1.8 MB more
    at LeNet batch 64 (2 threads) than 256 KiB pieces do. A large pool goes in 8 pieces instead (each NumPy
    call of a piece is a GIL round trip between the threads): MNIST's (64, 64, 24, 24) at 2 threads, min of 30
    interleaved at real-time priority, forward 3.65 -> 2.18 ms, backward 3.59 -> 2.14 (1 thread 3.3 / 4.8,
    which does not split); LeNet's sizes keep 256 KiB."""
    return max(1, max(_PIECE_BYTES, x.nbytes // 8) // max(1, x[:1].nbytes))


def _tiling(shape, k, s, p, d, o):
    """Whether a max pool of a (B, H, W) array takes _tiled_max / _tiled_scatter, piece by piece of planes: windows
    that tile the planes (stride = kernel, no padding or dilation). Once only for an input of one piece
    (_PIECE_BYTES); larger ones went by _max_pool_block's running max and a masked copy per window position, at 3-4x
    the cost per element: MNIST's 2x2 pool of (64, 64, 24, 24), min of 40 (us), forward 6707 -> 3035 at one thread,
    4412 -> 2360 at two; backward 4548 -> 4317 and 5548 -> 3618 (loaded machine, real-time priority)."""
    return s == k and p == (0, 0) and (d == (1, 1) or k == (1, 1)) and o[0] * k[0] <= shape[-2] and \
        o[1] * k[1] <= shape[-1]


def _tiled_max(x, k, o):
    """_max_pool_arr for windows that tile x (B, H, W), or None when the max has a NaN (the general path then
    applies PyTorch's NaN rule). The windows' elements are copied window-major once, (KH*KW, B, OH, OW), so the
    running max and first argmax (a strict >, in PyTorch's row-major scan order) run on contiguous planes:
    NumPy's loops on the stride-2 slices of the general path cost 3-4x as much per element. LeNet's 2x2 pools
    at batch 4, (24, 28, 28) and (64, 10, 10) float32, min of 7x300: 33 -> 17 and 25 -> 12 us."""
    b, kk = x.shape[0], k[0] * k[1]
    x5 = x[:, :o[0] * k[0], :o[1] * k[1]].reshape(b, o[0], k[0], o[1], k[1])
    v = np.ascontiguousarray(x5.transpose(2, 4, 0, 1, 3)).reshape((kk, b) + tuple(o))
    if kk == 1:
        return v[0], np.zeros(tuple(o) + (b,), np.int8)
    upd = v[1] > v[0]
    m = np.maximum(v[0], v[1])
    it = _index_dtype(kk)
    idx = upd.view(np.int8) if it is np.int8 else upd.astype(it)
    for j in range(2, kk):
        upd = v[j] > m
        np.maximum(m, v[j], out=m)
        np.maximum(idx, upd * it(j), out=idx)
    if m.dtype.kind == 'f' and np.isnan(m).any():
        return None
    return m, idx.transpose(1, 2, 0)


@functools.lru_cache(maxsize=32)
def _tile_offsets(shape, k, o):
    """(flat index of each window's first element in a (B, H, W) array, shaped (B, OH, OW); flat offset of each
    window position from it) for windows that tile it; read-only, cached per geometry."""
    b, h, w = shape
    first = (np.arange(b)[:, None, None] * (h * w) + np.arange(o[0])[:, None] * (k[0] * w) +
             np.arange(o[1]) * k[1]).astype(np.intp)
    step = (np.arange(k[0])[:, None] * w + np.arange(k[1])).reshape(-1).astype(np.intp)
    first.flags.writeable = step.flags.writeable = False
    return first, step


def _tiled_scatter(g, idx, shape, k, o, out):
    """_scatter_windows for windows that tile the (B, H, W) input, into ``out`` (C-contiguous, of that shape): each
    window's gradient set at its argmax by one flat index assignment (the windows do not overlap, so no index
    repeats), where the general path makes a masked copy per window position. LeNet's 2x2 pools at batch 4, min of
    7x300: 58 -> 9 and 38 -> 4 us."""
    first, step = _tile_offsets(shape, k, o)
    out[...] = 0
    out.reshape(-1)[first + step.take(idx.transpose(2, 0, 1))] = g + 0.0   # + 0: -0.0 as +0.0, PyTorch's 0 + g


def _max_pool_block(x, k, s, p, d, o, m_out, idx_out):
    """_max_pool_arr on a piece of planes, into m_out (B, OH, OW) and idx_out (OH, OW, B): a running max
    along W, then along H (ties keep the first element in PyTorch's row-major scan order)."""
    need = ((o[0] - 1) * s[0] + d[0] * (k[0] - 1) + 1, (o[1] - 1) * s[1] + d[1] * (k[1] - 1) + 1)
    xt = _to_hwb(x, p, need, _low(x.dtype))
    m1, w1, _ = _argmax_along(xt, 1, k[1], s[1], d[1], o[1])
    m, hi, wi = _argmax_along(m1, 0, k[0], s[0], d[0], o[0], w1)
    if x.dtype.kind == 'f' and np.isnan(m).any():
        m, idx = _exact_max(xt, k, s, d, o)
        idx_out[...] = idx           # window positions < KH*KW: they fit the index dtype
    else:
        np.multiply(hi, k[1], out=idx_out, dtype=idx_out.dtype)
        idx_out += wi
    m_out[...] = m.transpose(2, 0, 1)


def _scatter_windows(g, idx, shape, k, s, p, d, o):
    """Backward of a max pool: g goes to each window's argmax, one strided slice per kernel offset, pieces
    of planes on the threads (see ember._parallel)."""
    b, h, w = shape
    if _tiling(shape, k, s, p, d, o):
        out = np.empty(shape, g.dtype)
        if out.nbytes <= _PIECE_BYTES:
            _tiled_scatter(g, idx, shape, k, o, out)
        else:
            _parallel.run(lambda lo, hi: _tiled_scatter(g[lo:hi], idx[:, :, lo:hi], (hi - lo, h, w), k, o,
                                                        out[lo:hi]), b, out.nbytes, _piece_planes(out))
        return out
    hn = max(h + p[0], (o[0] - 1) * s[0] + d[0] * (k[0] - 1) + 1)
    wn = max(w + p[1], (o[1] - 1) * s[1] + d[1] * (k[1] - 1) + 1)
    canvas = np.zeros((b, hn, wn), g.dtype)
    apart = all(si >= di * (ki - 1) + 1 for si, di, ki in zip(s, d, k))

    def block(lo, hi):
        ib = np.ascontiguousarray(idx[:, :, lo:hi].transpose(2, 0, 1))
        gb, cb = g[lo:hi], canvas[lo:hi]
        if apart:   # set, not added onto the zeros: + 0 makes -0.0 +0.0, as PyTorch's 0 + g
            gb = gb + 0.0
        # the last kernel offset first: an input value then takes its windows' gradients in their raster order, as
        # PyTorch's loop over the outputs adds them (first offset first: 1-5 in 2000 values of a 3x3/2 pool off)
        for j, hs, ws in reversed(list(_offsets(k, s, d, o))):
            if apart:
                cb[:, hs, ws] = keep(ib == j, gb)
            else:
                cb[:, hs, ws] += keep(ib == j, gb)
    _parallel.run(block, b, canvas.nbytes, _piece_planes(canvas))
    if (hn, wn) == (h, w):
        return canvas
    return np.ascontiguousarray(canvas[:, p[0]:p[0] + h, p[1]:p[1] + w])


def _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    need_tensor(input, 'max_pool2d_with_indices' if return_indices else 'max_pool2d')
    x = _bf16.f32_in(input._data)   # bf16: pooled in float32, rounded once
    if x.dtype == np.bool_:
        raise not_implemented('max_pool2d', x.dtype)
    k, s, p, d, o = _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, 'max_pool2d')
    out, am = _max_pool_arr(_planes(x), k, s, p, d, o)
    if _exact.ON[0] and out.dtype.kind == 'f':
        _zero_signs(out, am, _planes(x), k, s, p, d, o)
    oshape = x.shape[:-2] + o
    idx = _flat_index(am.transpose(2, 0, 1), k[1], o, s, p, d, x.shape[-1]) if return_indices else None
    res = _finish_max(input, out.reshape(oshape), idx, am, (k, s, p, d, o), MaxPool2DWithIndicesBackward0)
    if return_indices:
        return res, Tensor._make(_layout.keep_channels_last(x, idx.reshape(oshape).astype(np.int64, copy=False)))
    return res


def _zero_signs(m, am, x, k, s, p, d, o):
    """Under the exact kernels, a max of 0 takes the sign of its window's first zero in scan order, as PyTorch's
    strict > keeps it (NumPy's maximum of +0.0 and -0.0 keeps either: 81 of 768 outputs of random +-0/+-1 windows
    differed); m (B, OH, OW) is set in place from x (B, H, W) at the argmax am (OH, OW, B)."""
    z = np.flatnonzero(m == 0)
    if z.size:
        at = _flat_index(am.transpose(2, 0, 1), k[1], o, s, p, d, x.shape[-1]).reshape(-1)[z]
        m.flat[z] = x.reshape(x.shape[0], -1)[z // (o[0] * o[1]), at]


def _finish_max(input, out, idx, am, geom, cls):
    out = _layout.keep_channels_last(input._data, _bf16.out_like(input._data, out))
    if GRAD.enabled and input._requires_grad:
        node = cls((input,))
        node.idx, node.local, node.geom, node.shape = idx, am, geom, input._data.shape
        return Tensor._make(out, node)
    return Tensor._make(out)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """2-D max pooling returning (values, indices)."""
    return _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W); indices are flat positions within each input plane."""
    return _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _as_2d(v, fill):
    """A 1-D pool argument as the matching 2-D one (height 1)."""
    if v is None:
        return None
    if not isinstance(v, (int, np.integer)):
        v = tuple(v)
        if len(v) == 0:
            return None
        v = v[0]
    return (fill, int(v))


def _check_1d(input, name):
    need_tensor(input, name)
    x = input._data
    if x.ndim not in (2, 3):
        raise RuntimeError(f'{name}() Expected 2D or 3D input tensor, but got {x.ndim}D')


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L), computed as a 2-D pool of height 1."""
    _check_1d(input, 'max_pool1d_with_indices' if return_indices else 'max_pool1d')
    if not return_indices and input._data.dtype.kind != 'f':   # PyTorch's max_pool1d_impl has float loops only
        raise not_implemented('max_pool1d_impl', input._data.dtype)
    r = max_pool2d(input.unsqueeze(-2), _as_2d(kernel_size, 1), _as_2d(stride, 1), _as_2d(padding, 0),
                   _as_2d(dilation, 1), ceil_mode, return_indices)
    if return_indices:
        return r[0].squeeze(-2), r[1].squeeze(-2)
    r = r.squeeze(-2)
    if not r._requires_grad and not r._data.flags.c_contiguous:
        # PyTorch pools without indices only where no gradient is recorded (max_pool1d_impl): a C-contiguous result
        r = Tensor._make(np.ascontiguousarray(r._data))
    return r


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# -- average pooling ---------------------------------------------------------------------------------------------
def _divisor(n, k, s, p, o, count_include_pad):
    """Per-output-position window sizes along one dim (PyTorch's pool_size / clipped count)."""
    start = np.arange(o) * s - p
    end = np.minimum(start + k, n + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


def int_mean(sums, div):
    """Integer window means as PyTorch's Long pooling kernels: the int64 sums (wrapping as C's do) divided by the
    integer divisors, rounded toward zero (-3 / 4 is 0)."""
    div = np.asarray(div).astype(np.int64)
    q = sums // div
    return q + ((q < 0) & (q * div != sums))


class AvgPool2DBackward0(Node):
    """Backward of average pooling: each window spreads its gradient over its elements (a fold)."""
    __slots__ = ('geom', 'div', 'shape', 'tile')

    def backward(self, g):
        k, s, p, o, canvas = self.geom
        shape = self.shape
        b = math.prod(shape[:-2])
        if not dual.is_array(g):
            gd = (g.reshape(b, 1, o[0] * o[1]) / Tensor._make(self.div.reshape(1, 1, -1)))
            cols = gd.expand(b, k[0] * k[1], o[0] * o[1])
            full = fold(cols, canvas, k, 1, 0, s).reshape(b, canvas[0], canvas[1])
            return full[:, p[0]:p[0] + shape[-2], p[1]:p[1] + shape[-1]].reshape(shape)
        gd = g.reshape(b, o[0], o[1]) / self.div
        if self.tile:
            gw = np.broadcast_to(gd[..., None], gd.shape + (k[0] * k[1],))
            return _untile(gw, (b,) + shape[-2:], k, o).reshape(shape)
        full = _spread_windows(gd, (b,) + tuple(canvas), k, s)
        return np.ascontiguousarray(full[:, p[0]:p[0] + shape[-2], p[1]:p[1] + shape[-1]]).reshape(shape)


def _spread_windows(gd, shape, k, s):
    """Each window's gradient gd (B, OH, OW) added over its elements on a zero canvas of ``shape``, the last kernel
    offset first, so that an input value takes its windows' gradients in their raster order, as PyTorch's loop over
    the outputs adds them (fold's first-offset-first order put 1.4% of a 3x3/2 pool's input gradients a step off)."""
    o = gd.shape[1:]
    out = np.zeros(shape, gd.dtype)
    for i in reversed(range(k[0])):
        hs = slice(i, i + s[0] * (o[0] - 1) + 1, s[0])
        for j in reversed(range(k[1])):
            out[:, hs, j:j + s[1] * (o[1] - 1) + 1:s[1]] += gd
    return out


def _window_sums(xp, k, s, o):
    """Each window's sum as PyTorch's CPU kernel adds it: one strided slice per tap, added in row-major tap order
    (bitwise PyTorch's; NumPy's sum over a window view added in another order, 10-40x slower: 3x3 stride 2 of
    (8, 64, 32, 32) 15.4 -> 0.40 ms, Inception's 3x3 stride 1 of (8, 192, 35, 35) 311 -> 21 ms, one thread)."""
    out = None
    for i in range(k[0]):
        for j in range(k[1]):
            v = xp[:, i:i + s[0] * (o[0] - 1) + 1:s[0], j:j + s[1] * (o[1] - 1) + 1:s[1]]
            if out is None:
                out = v.copy()
            else:
                out += v
    return out


def _wide_in(arr):
    """An average pool's input as float32 when it is float16 or bf16: PyTorch's kernels sum windows in float32 and
    round each mean once (float16 (2, 3, 6, 6) by 2: 15 of 54 means a step off when NumPy summed in float16)."""
    return arr.astype(np.float32) if arr.dtype == np.float16 else _bf16.f32_in(arr)


def _narrow_out(arr, out):
    """A pool's float32 result rounded back to its input ``arr``'s float16/bf16 dtype."""
    return out.astype(np.float16) if arr.dtype == np.float16 else _bf16.out_like(arr, out)


@_quiet.quietly
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling; the divisor follows PyTorch (padding counted or not, or an override)."""
    need_tensor(input, 'avg_pool2d')
    x = _wide_in(input._data)   # float16/bf16: pooled in float32, rounded once
    if x.ndim < 3:   # PyTorch's kernel reads input.size(-3) first
        n = max(x.ndim, 1)
        raise IndexError(f'Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got -3) (avg_pool2d '
                         f'expects 3D or 4D input, got {x.ndim}D)')
    if x.dtype.kind != 'f' and x.dtype != np.int64:    # PyTorch's CPU kernel: floating types and Long
        raise not_implemented('avg_pool2d', x.dtype)
    k, s, p, d, o = _geometry(x, kernel_size, stride, padding, 1, ceil_mode, 'avg_pool2d')
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError('divisor must be not zero')
    xb = _planes(x)
    h, w = x.shape[-2:]
    if divisor_override is not None:
        div = np.full(o, float(divisor_override))
    else:
        div = np.outer(_divisor(h, k[0], s[0], p[0], o[0], count_include_pad),
                       _divisor(w, k[1], s[1], p[1], o[1], count_include_pad))
    div = div.astype(x.dtype)
    canvas = ((o[0] - 1) * s[0] + k[0], (o[1] - 1) * s[1] + k[1])
    tile = _tiles(xb, k, s, p, d, o)
    sums = _window_sums(_padded(xb, p, canvas, 0), k, s, o)
    out = (int_mean(sums, div) if x.dtype == np.int64 else sums / div).reshape(x.shape[:-2] + o)
    out = _layout.keep_channels_last(input._data, _narrow_out(input._data, out))
    if GRAD.enabled and input._requires_grad:
        node = AvgPool2DBackward0((input,))
        node.geom = (k, s, p, o, (max(canvas[0], h + p[0]), max(canvas[1], w + p[1])))
        node.div, node.shape, node.tile = div.astype(np.float16) if input._data.dtype == np.float16 else div, \
            x.shape, tile
        return Tensor._make(out, node)
    return Tensor._make(out)


@_quiet.quietly
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling, computed as a 2-D pool of height 1."""
    _check_1d(input, 'avg_pool1d')
    return avg_pool2d(input.unsqueeze(-2), _as_2d(kernel_size, 1), _as_2d(stride, 1), _as_2d(padding, 0),
                      ceil_mode, count_include_pad).squeeze(-2)


# -- adaptive pooling ---------------------------------------------------------------------------------------------
def _adaptive_out(x, output_size, name):
    if not isinstance(output_size, (int, np.integer)) and x.ndim <= len(output_size):   # PyTorch's Python check
        raise ValueError(f'Input dimension should be at least {len(output_size) + 1}')
    if x.ndim not in (3, 4):   # (max's message has a colon in PyTorch, avg's none)
        raise RuntimeError(f"{name}(): Expected 3D or 4D tensor, but got{':' if 'max' in name else ''} {list(x.shape)}")
    o = (output_size,) * 2 if isinstance(output_size, (int, np.integer)) else tuple(output_size)
    if len(o) != 2:
        raise ValueError(f'{name}: output_size must be 2')
    return tuple(x.shape[-2 + i] if v is None else int(v) for i, v in enumerate(o))


def _bounds(n, o):
    """PyTorch's adaptive windows along one dim: [floor(i*n/o), ceil((i+1)*n/o))."""
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def _avg_matrix(n, o, dtype):
    """(o, n) matrix whose rows average each adaptive window."""
    start, end = _bounds(n, o)
    j = np.arange(n)
    m = ((j >= start[:, None]) & (j < end[:, None])).astype(np.float64)
    return (m / (end - start)[:, None]).astype(dtype)


def _raster_f32(a):
    """Whether a float32 adaptive average pool goes window by window as PyTorch's kernel (ember's exact kernels:
    its loops cost ~10x the averaging matrices' products)."""
    return _exact.ON[0] and type(a) is np.ndarray and a.dtype == np.float32


class AdaptiveAvgPool2DBackward0(Node):
    """Backward of adaptive average pooling: A_h^T g A_w with the forward's averaging matrices."""
    __slots__ = ('mats', 'hw')

    def backward(self, g):
        ah, aw = self.mats
        if dual.is_low(g) or _raster_f32(g):
            return _adaptive_grad_low(g, self.hw)
        if dual.is_array(g):
            return ah.T @ g @ aw
        return Tensor._make(ah.T.copy()) @ g @ Tensor._make(aw)


@_quiet.quietly
def adaptive_avg_pool2d(input, output_size):
    """Average over PyTorch's adaptive windows: A_h @ x @ A_w^T with averaging matrices."""
    try:
        x = _wide_in(input._data)   # float16/bf16: pooled in float32, rounded once
        o = _adaptive_out(x, output_size, 'adaptive_avg_pool2d')
        if o == (1, 1):     # PyTorch's route (a mean, and so its error for integer input)
            return input.mean(dim=(-2, -1), keepdim=True)
        if x.dtype.kind != 'f':
            raise not_implemented('adaptive_avg_pool2d', x.dtype)
        ah, aw = _avg_matrix(x.shape[-2], o[0], x.dtype), _avg_matrix(x.shape[-1], o[1], x.dtype)
        out = ah @ x @ aw.T
        if dual.is_low(input._data) or _raster_f32(x):   # the matrices' 1/count products: float16 2 of 36 means
            out = _window_sums_over(x, o)   # of a (2, 3, 7, 5) pool to (3, 2) a step off, bf16 2 of 84 to (None, 2)
        elif not np.isfinite(out).all():   # an inf or NaN reaches every window through the matrices' zeros (0 * inf)
            out = window_means(x, o)
        out = _layout.keep_channels_last(input._data, _narrow_out(input._data, out))
        if GRAD.enabled and input._requires_grad:
            node = AdaptiveAvgPool2DBackward0((input,))
            node.mats, node.hw = (ah, aw) if input._data.dtype != np.float16 else (ah.astype(np.float16), aw.astype(np.float16)), x.shape[-2:]
            return Tensor._make(out, node)
        return Tensor._make(out)
    except (AttributeError, TypeError):
        check_tensor_args('adaptive_avg_pool2d', 'input')
        raise


def window_means(x, o):
    """Adaptive average pooling of the last len(o) dims window by window (a NaN or inf stays in the windows
    that hold it, as in PyTorch); the slow path, taken only when the matrix product meets a non-finite value."""
    out = x
    for k, size in enumerate(o):
        axis = x.ndim - len(o) + k
        start, end = _bounds(x.shape[axis], size)
        out = np.stack([np.take(out, range(a, b), axis).mean(axis) for a, b in zip(start, end)], axis)
    return out.astype(x.dtype, copy=False)


def _adaptive_grad_low(g, hw):
    """adaptive_avg_pool2d's float16/bf16 input gradient as PyTorch's CPU kernel: each window's g / height / width
    and each addition into the input's gradient rounded to the dtype, windows in order (bf16 exact on 50 random
    geometries; float16 84 of 10^4 values still a step off, was 1 in 2); float32's the same way unrounded (exact
    kernels: the matrices' products put 1 in 3 values of (9, 7) pooled to (3, 2) a step off)."""
    low = dual.is_low(g)
    rnd = dual.rounder(g.dtype) if low else (lambda v: v)
    G, (h, w) = dual.wide(g) if low else g, hw
    o = G.shape[-2:]
    (hs, he), (ws, we) = _bounds(h, o[0]), _bounds(w, o[1])
    acc = np.zeros(G.shape[:-2] + (h, w), np.float32)
    for i in range(o[0]):
        for j in range(o[1]):
            d = rnd(rnd(G[..., i, j] / np.float32(he[i] - hs[i])) / np.float32(we[j] - ws[j]))[..., None, None]
            acc[..., hs[i]:he[i], ws[j]:we[j]] = rnd(acc[..., hs[i]:he[i], ws[j]:we[j]] + d)
    return dual.narrow(acc, g.dtype) if low else acc


def _window_sums_over(x, o):
    """Adaptive average pooling of float32 ``x`` as PyTorch's CPU kernel: each window summed row by row in order,
    then divided by its height and by its width."""
    (hs, he), (ws, we) = _bounds(x.shape[-2], o[0]), _bounds(x.shape[-1], o[1])
    out = np.empty(x.shape[:-2] + tuple(o), np.float32)
    for i in range(o[0]):
        for j in range(o[1]):
            acc = np.zeros(x.shape[:-2], np.float32)
            for r in range(hs[i], he[i]):
                for c in range(ws[j], we[j]):
                    acc += x[..., r, c]
            out[..., i, j] = acc / np.float32(he[i] - hs[i]) / np.float32(we[j] - ws[j])
    return out


@_quiet.quietly
def adaptive_avg_pool1d(input, output_size):
    """1-D adaptive average pooling, computed as a 2-D one of height 1."""
    _check_1d(input, 'adaptive_avg_pool1d')
    o = output_size if isinstance(output_size, (int, np.integer)) else tuple(output_size)[0]
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, o)).squeeze(-2)


def _adaptive_index(n, o):
    """(o, kmax) indices of each adaptive window, short windows padded by repeating their last index."""
    start, end = _bounds(n, o)
    kmax = int((end - start).max())
    return np.minimum(start[:, None] + np.arange(kmax), end[:, None] - 1)


def _nan_aware_argmax(win):
    """First argmax over the last axis, except that a window holding NaN picks its last NaN (PyTorch's rule)."""
    am = win.argmax(-1)
    if win.dtype.kind == 'f':
        nan = np.isnan(win)
        if nan.any():
            last = win.shape[-1] - 1 - nan[..., ::-1].argmax(-1)
            am = np.where(nan.any(-1), last, am)
    return am


def _first_max(cands, k):
    """(max, first position of the max) over the k candidate arrays cands(j), with no argmax along a short axis:
    the running maximum stays below the final one exactly until the first position holding it, so that position
    counts the steps where it is below (in uint8/uint16 counters a bool view adds into). A NaN makes the max NaN and
    every comparison false: the caller checks the max for NaN."""
    m = cands(0).copy()
    for j in range(1, k):
        np.maximum(m, cands(j), out=m)      # NaN propagates
    if np.isnan(m).any():       # the count would say 0, where PyTorch takes the last NaN
        return m, None
    run = cands(0).copy()
    at = np.zeros(m.shape, np.uint8 if k < 256 else np.uint16 if k < 65536 else np.intp)
    below = np.empty(m.shape, bool)
    for j in range(1, k):
        np.less(run, m, out=below)
        at += below.view(np.uint8) if at.dtype == np.uint8 else below
        np.maximum(run, cands(j), out=run)
    return m, at


# windows from which _separable_argmax's whole-array passes beat the argmax per window (us, one thread, min of 7,
# per-window -> separable): (8, 512, 7, 7) to 1x1 (4096 windows) 580 -> 390, (4, 32, 13, 13) to 6x6 (4608) 161 ->
# 153, (8, 16, 16, 16) to 4x4 (2048) 125 -> 159, (1, 8, 32, 32) to 7x7 (392) 64 -> 91
_SEPARABLE_FROM = 4096


def _separable_argmax(xb, ih, iw):
    """Adaptive max pooling of planes xb (B, H, W) over windows of rows ih (OH, kh) and columns iw (OW, kw)
    (_adaptive_index's, short windows padded by their last index) as two 1-D passes: each row's column windows,
    then the row windows of those maxima, each the first maximum (over rows the first row holding the max, in
    it the first column: PyTorch's row-major first). (values (B, OH, OW), plane-flat indices), or None when a
    window holds a NaN (PyTorch takes its last NaN: the caller's per-window argmax). NumPy's argmax along the
    gathered (OH, OW, kh*kw) windows ran ~120 ns a window. One thread, SkylakeX, min of 7 interleaved (ms, forward /
    forward and backward): (8, 64, 32, 32) to 7x7 5.44 -> 1.61 / 5.80 -> 1.78 (PyTorch 1.45 / 1.67), (8, 256, 14, 14)
    to 7x7 3.91 -> 1.78 / 4.24 -> 2.12; the same values and indices."""
    k1, k2 = iw.shape[1], ih.shape[1]
    g1 = np.take(xb, iw.T.ravel(), axis=2).reshape(xb.shape[:2] + iw.T.shape)     # (B, H, kw, OW)
    m1, a1 = _first_max(lambda j: g1[:, :, j], k1)
    if a1 is None:
        return None
    g2 = np.take(m1, ih.T.ravel(), axis=1).reshape((xb.shape[0],) + ih.T.shape + (iw.shape[0],))     # (B, kh, OH, OW)
    m2, a2 = _first_max(lambda j: g2[:, j], k2)
    if a2 is None:
        return None
    rows = ih[:, 0][:, None] + a2           # a window's first max lies within it: start + position
    idx = rows * xb.shape[2] + (np.take_along_axis(a1, rows, 1) + iw[:, 0])
    b = xb.shape[0]     # the values read at the indices: maximum's -0.0 and 0.0 may be either one
    return np.take_along_axis(xb.reshape(b, -1), idx.reshape(b, -1), 1).reshape(idx.shape), idx


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows (gathered with index arrays); indices as flat plane positions."""
    try:
        x = input._data
        if x.dtype.kind != 'f':
            raise not_implemented('adaptive_max_pool2d', x.dtype)
        o = _adaptive_out(x, output_size, 'adaptive_max_pool2d')
        h, w = x.shape[-2:]
        ih, iw = _adaptive_index(h, o[0]), _adaptive_index(w, o[1])
        xb = _planes(x)
        found = _separable_argmax(xb, ih, iw) if xb.shape[0] * o[0] * o[1] >= _SEPARABLE_FROM else None
        if found is None:
            win = xb[:, ih[:, None, :, None], iw[None, :, None, :]]
            win = win.reshape(win.shape[:3] + (-1,))
            am = _nan_aware_argmax(win)
            out = np.take_along_axis(win, am[..., None], -1)[..., 0]
            kw = iw.shape[1]
            idx = ih[np.arange(o[0])[:, None], am // kw] * w + iw[np.arange(o[1]), am % kw]
        else:
            out, idx = found
        oshape = x.shape[:-2] + o
        res = _finish_max(input, out.reshape(oshape), idx, None, None, AdaptiveMaxPool2DBackward0)
        if return_indices:
            return res, Tensor._make(_layout.keep_channels_last(x, idx.reshape(oshape).astype(np.int64, copy=False)))
        return res
    except (AttributeError, TypeError):
        check_tensor_args('adaptive_max_pool2d', 'input')
        raise


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    try:
        return adaptive_max_pool2d(input, output_size, True)
    except (AttributeError, TypeError):
        check_tensor_args('adaptive_max_pool2d_with_indices', 'input')
        raise


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """1-D adaptive max pooling, computed as a 2-D one of height 1."""
    _check_1d(input, 'adaptive_max_pool1d')
    o = output_size if isinstance(output_size, (int, np.integer)) else tuple(output_size)[0]
    r = adaptive_max_pool2d(input.unsqueeze(-2), (1, o), return_indices)
    if return_indices:
        return r[0].squeeze(-2), r[1].squeeze(-2)
    r = r.squeeze(-2)
    if not r._requires_grad and not r._data.flags.c_contiguous:
        # PyTorch pools without indices only where no gradient is recorded (max_pool1d_impl): a C-contiguous result
        r = Tensor._make(np.ascontiguousarray(r._data))
    return r


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


# -- max unpooling -------------------------------------------------------------------------------------------------
class _MaxUnpoolBackward(Node):
    """Backward of max_unpool: gather the gradient at the indices."""
    __slots__ = ('idx', 'oshape')

    def backward(self, g):
        b = self.idx.shape[0]
        if dual.is_array(g):
            return np.take_along_axis(g.reshape(b, -1), self.idx, 1).reshape(self.oshape)
        return g.reshape(b, -1).gather(1, Tensor._make(self.idx)).reshape(self.oshape)


MaxUnpool2DBackward0 = type('MaxUnpool2DBackward0', (_MaxUnpoolBackward,), {'__slots__': ()})
MaxUnpool3DBackward0 = type('MaxUnpool3DBackward0', (_MaxUnpoolBackward,), {'__slots__': ()})


def _unpool_size(shape, output_size, k, s, p):
    """``output_size``'s last len(shape) sizes, each checked (as PyTorch's Python code does) to lie between the default
    size and the default plus the stride."""
    size = tuple(output_size)
    if len(size) not in (len(shape), len(shape) + 2):
        raise ValueError(f'output_size should be a sequence containing {len(shape)} or {len(shape) + 2} elements, '
                         f'but it has a length of \'{len(size)}\'')
    size = size[-len(shape):]
    for d, (n, si, pi, ki, want) in enumerate(zip(shape, s, p, k, size)):
        lo = (n - 1) * si - 2 * pi + ki
        if not lo - si < want < lo + si:
            raise ValueError(f'invalid output_size "{size}" (dim {d} must be between {lo - si} and {lo + si})')
    return size


def max_unpool(input, indices, k, s, p, output_size, node_cls):
    """Place each value at its index (flat over the last len(k) dims) in a zero output: the partial inverse of max
    pooling over 2 or 3 spatial dims."""
    x = input._data
    n = len(k)
    if output_size is None:
        vol = tuple((m - 1) * si - 2 * pi + ki for m, si, pi, ki in zip(x.shape[-n:], s, p, k))
    else:
        vol = _unpool_size(x.shape[-n:], output_size, k, s, p)
    b = int(np.prod(x.shape[:-n]))
    idx = indices._data.reshape(b, -1)
    size = int(np.prod(vol))
    bad = (idx < 0) | (idx >= size)
    if bad.any():   # the first invalid one in memory order, as PyTorch's loop reports it
        raise RuntimeError(f'Found an invalid max index: {int(idx.reshape(-1)[np.argmax(bad.reshape(-1))])} '
                           f'(output volumes are of size {"x".join(str(v) for v in vol)})')
    out = np.zeros((b, size), x.dtype)
    np.put_along_axis(out, idx, x.reshape(b, -1), 1)
    out = out.reshape(x.shape[:-n] + vol)
    if GRAD.enabled and input._requires_grad:
        node = node_cls((input,))
        node.idx, node.oshape = idx, x.shape
        return Tensor._make(out, node)
    return Tensor._make(out)


@_autocast.fp32
def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Place each value at its index in a zero (N, C, H, W) output (the partial inverse of max_pool2d)."""
    try:
        k = _pair(kernel_size)
        return max_unpool(input, indices, k, k if stride is None else _pair(stride), _pair(padding), output_size,
                          MaxUnpool2DBackward0)
    except (AttributeError, TypeError):
        check_tensor_args('max_unpool2d', 'input', 'indices')
        raise


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """1-D max unpooling, computed as a 2-D one of width 1 (as PyTorch does: its errors name (L)x1 volumes)."""
    try:
        one = lambda v: v if isinstance(v, (int, np.integer)) else tuple(v)[0]   # noqa: E731
        k = one(kernel_size)
        s = k if stride is None else one(stride)
        size = None if output_size is None else _unpool_size(input.shape[-1:], output_size, (k,), (s,), (one(padding),)) + (1,)
        return max_unpool2d(input.unsqueeze(-1), indices.unsqueeze(-1), (k, 1), (s, 1), (one(padding), 0),
                            size).squeeze(-1)
    except (AttributeError, TypeError):
        check_tensor_args('max_unpool1d', 'input')   # (PyTorch's F fails on indices with its AttributeError)
        raise


# -- power-average pooling -------------------------------------------------------------------------------------------
def _lp_extreme(input, norm_type, max_pool, kernel_size, stride, ceil_mode):
    """lp_pool with p = +-inf as PyTorch: the max (min) of |x| over each window, by max pooling; None otherwise."""
    if isinstance(norm_type, (int, float)) and math.isinf(norm_type):
        if norm_type > 0:
            return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    return None


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over each window of x^p)^(1/p), as PyTorch composes it from avg_pool2d (max pooling of |x| for inf)."""
    r = _lp_extreme(input, norm_type, max_pool2d, kernel_size, stride, ceil_mode)
    if r is not None:
        return r
    k = _pair(kernel_size)
    out = avg_pool2d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(k[0] * k[1]).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-D power-average pooling."""
    r = _lp_extreme(input, norm_type, max_pool1d, kernel_size, stride, ceil_mode)
    if r is not None:
        return r
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kernel_size).pow(1.0 / norm_type)


def saving_input(fn):
    """``fn`` (a pool) whose node guards its input, and the indices it returns: PyTorch's pooling nodes save both,
    so changing either in place before backward raises there (ember's backward reads arrays it kept)."""
    @functools.wraps(fn)
    def pool(input, *args, **kwargs):
        r = fn(input, *args, **kwargs)
        vals, idx = r if isinstance(r, tuple) else (r, None)
        node = getattr(vals, 'grad_fn', None)
        if node is not None:
            node.guard(input, outputs=() if idx is None else (idx,))
        return r
    return pool


# (the 1-D pools run these on input.unsqueeze(-2): their nodes guard that view and the 4-D indices, which PyTorch's
# version errors name: "[1, 2, 1, 6]], which is output 0 of AsStridedBackward0")
for _name in ('max_pool2d', 'max_pool2d_with_indices', 'avg_pool2d', 'adaptive_avg_pool2d', 'adaptive_max_pool2d',
              'adaptive_max_pool2d_with_indices'):
    globals()[_name] = saving_input(globals()[_name])
