"""Floating-point sums in PyTorch's CPU order, so that ``loss.item()`` prints the same digits.

Float addition is not associative: NumPy's pairwise summation and PyTorch's vectorised cascade give
sums that differ in the last bit, which shows as soon as a float32 result is printed in full. For a
contiguous reduction of up to 32,768 elements (beyond that PyTorch splits the work across threads)
this module adds in PyTorch's order: 256-bit vector lanes, four interleaved accumulators, a cascade
of partial sums every 2**k vectors, then the scalar tail and the lanes one by one.
"""
import numpy as np

_LIMIT = 32768          # PyTorch's grain size: longer reductions are split across threads
_ILP = 4                # interleaved vector accumulators
_LEVELS = 4             # cascade levels


def _ceil_log2(n):
    return 1 if n <= 2 else int(n - 1).bit_length()


def _seq(rows):
    """Sequential sum over axis 0 (left to right, starting from zero)."""
    return np.cumsum(rows, axis=0, dtype=rows.dtype)[-1] if len(rows) else np.zeros(rows.shape[1:], rows.dtype)


def _cascade(rows):
    """PyTorch's multi_row_sum: sequential blocks of 2**p rows folded into a 4-level cascade."""
    size = rows.shape[0]
    power = max(4, _ceil_log2(size) // _LEVELS)
    step = 1 << power
    mask = step - 1
    acc = np.zeros((_LEVELS,) + rows.shape[1:], rows.dtype)
    i = 0
    while i + step <= size:
        acc[0] = _seq(np.concatenate([acc[0][None], rows[i:i + step]]))
        i += step
        for j in range(1, _LEVELS):
            acc[j] += acc[j - 1]
            acc[j - 1] = 0
            if i & (mask << (j * power)):
                break
    if i < size:
        acc[0] = _seq(np.concatenate([acc[0][None], rows[i:]]))
    for j in range(1, _LEVELS):
        acc[0] += acc[j]
    return acc[0]


def _rows_sum(x):
    """Sum over the last axis of a C-contiguous 2-D array, one PyTorch inner reduction per row."""
    m, n = x.shape
    width = 32 // x.itemsize
    if n < width:
        return _scalar_rows_sum(x)
    nv = n // width
    vec = x[:, :nv * width].reshape(m, nv, width).transpose(1, 0, 2)
    groups = nv // _ILP
    if groups:
        part = _cascade(vec[:groups * _ILP].reshape(groups, _ILP, m, width))
    else:
        part = np.zeros((_ILP, m, width), x.dtype)
    for i in range(groups * _ILP, nv):
        part[0] += vec[i]
    lanes = ((part[0] + part[1]) + part[2]) + part[3]
    seq = np.concatenate([np.zeros((m, 1), x.dtype), x[:, nv * width:], lanes], axis=1)
    return np.cumsum(seq, axis=1, dtype=x.dtype)[:, -1]


def _scalar_rows_sum(x):
    """Rows shorter than one vector: four interleaved scalar accumulators, then the tail."""
    m, n = x.shape
    groups = n // _ILP
    if groups:
        part = _cascade(x[:, :groups * _ILP].reshape(m, groups, _ILP).transpose(1, 2, 0))
    else:
        part = np.zeros((_ILP, m), x.dtype)
    for i in range(groups * _ILP, n):
        part[0] += x[:, i]
    return ((part[0] + part[1]) + part[2]) + part[3]


def flat_sum(x):
    """Sum of a short contiguous 1-D array; the plans for the tiny sizes small ops produce are cached."""
    key = (x.size, x.itemsize)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _plan(*key)
        if key[0] < _ILP * 32 // key[1]:
            _PLANS[key] = plan
    return plan(x)


_PLANS = {}


def _plan(n, itemsize):
    """How PyTorch adds ``n`` contiguous elements of ``itemsize`` bytes, as a function of the array."""
    width = 32 // itemsize
    if n <= _ILP:
        return np.add.reduce
    if n < width:
        return _head_sum
    if n < _ILP * width:
        return _lanes_sum(n, width)
    if n >= _ILP * width * 16:
        return lambda x: _rows_sum(x.reshape(1, -1))[0]
    return _vector_sum


def _head_sum(x):
    """Fewer elements than one vector: the first accumulator takes the tail."""
    head = x[0]
    for v in x[_ILP:]:
        head = head + v
    return ((head + x[1]) + x[2]) + x[3]


def _lanes_sum(n, width):
    """One to three vectors: lanes added vector by vector, then the tail and the lanes in sequence."""
    nv = n // width
    cuts = [(i * width, (i + 1) * width) for i in range(1, nv)]
    tail = nv * width if n > nv * width else None
    if tail is None and nv == 2:
        return lambda x: np.add.accumulate(x[:width] + x[width:])[-1, ...]   # a 0-d array, not a scalar

    def lanes_sum(x):
        lanes = x[:width]
        for lo, hi in cuts:
            lanes = lanes + x[lo:hi]
        if tail is not None:
            lanes = np.concatenate((x[tail:], lanes))
        return np.add.accumulate(lanes)[-1, ...]
    return lanes_sum


def _vector_sum(x):
    """Four to 63 vectors: four interleaved accumulators, then the tail and the lanes in sequence."""
    width = 32 // x.itemsize
    nv = x.size // width
    vec = x[:nv * width].reshape(nv, width)
    groups = nv // _ILP
    if groups:
        part = np.add.reduce(vec[:groups * _ILP].reshape(groups, _ILP, width), axis=0)
        for i in range(groups * _ILP, nv):
            part[0] += vec[i]
        lanes = ((part[0] + part[1]) + part[2]) + part[3]
    else:
        lanes = np.add.reduce(vec, axis=0)
    return np.cumsum(np.concatenate((x[nv * width:], lanes)), dtype=x.dtype)[-1]


def ordered_sum(a, axis=None, keepdims=False):
    """``a.sum(axis)`` in PyTorch's order where it is reproducible, else None (use NumPy's sum)."""
    if a.dtype.kind != 'f' or a.dtype.itemsize < 4 or a.size == 0:
        return None
    if axis is None or len(axis) == a.ndim:
        if a.size > _LIMIT or not a.flags.c_contiguous:
            return None
        r = flat_sum(a.reshape(-1))
        return r.reshape((1,) * a.ndim) if keepdims else r
    kept = [s for i, s in enumerate(a.shape) if i not in axis]
    if all(s == 1 for s in kept) and a.flags.c_contiguous and a.size <= _LIMIT:
        r = flat_sum(a.reshape(-1))
        return r.reshape(tuple(1 if i in axis else s for i, s in enumerate(a.shape))) if keepdims else \
            r.reshape(tuple(kept))
    if axis == (a.ndim - 1,) and a.flags.c_contiguous and a.shape[-1] <= _LIMIT:
        lead = a.shape[:-1]
        r = _rows_sum(a.reshape(-1, a.shape[-1])).reshape(lead)
        return r[..., None] if keepdims else r
    return None
