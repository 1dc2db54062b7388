"""Scatter-adds of rows that keep PyTorch's order (each target row sums its sources in index order)."""
import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def index_add_rows(out, idx, rows, onto=False):
    """``np.add.at(out, idx, rows)`` for an ``out`` of zeros (a gradient), bitwise: each row of out sums its rows
    in index order, as PyTorch's index backward and embedding backward do. The rows are sorted by index (stable)
    into a zero-padded (occurrence, index, column) block whose sum over the first axis NumPy adds row after row,
    in order (the padding adds +0.0 last, which changes nothing: PyTorch's sums start from +0.0 too). C[Xb] of
    makemore, (27, 24) by (32, 8): 73.9 (the previous k-th-occurrence layers) / 47.9 (np.add.at) -> 19.0 us;
    (65, 128) by 768: 143 -> 54 us; (10000, 64) by 700: 77 -> 87 us (min of interleaved runs). np.add.at stays
    below 2048 values (96 rows of 10: 9 us against 16), for one column (its 1-D fast path) and where the padding
    would be large (an index repeated far more often than the others). ``onto``: out holds values (index_add's
    input), which start each row's sum as the block's first layer, padded with -0.0 (x + -0.0 is x for every x,
    -0.0 included): index_add of 512 rows of 256 into (1000, 256), fwd+bwd, 1 thread, min of 25: 795 -> 170 us."""
    n = idx.size
    if rows.size < 2048 or rows.shape[1] == 1:
        np.add.at(out, idx, rows)
        return out
    if _increasing(idx):
        return _add_distinct(out, idx, rows)
    order = np.argsort(idx, kind='stable')
    ranked = idx[order]
    first = np.empty(n, bool)
    first[0] = True
    np.not_equal(ranked[1:], ranked[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    group = np.cumsum(first) - 1
    rank = np.arange(n) - starts[group]
    layers = int(rank.max()) + 1
    if layers * starts.size > 4 * n:
        np.add.at(out, idx, rows)
        return out
    targets = ranked[starts]
    if onto:
        padded = np.full((layers + 1, starts.size, rows.shape[1]), -0.0, rows.dtype)
        padded[0] = out[targets]
        rank += 1
    else:
        padded = np.zeros((layers, starts.size, rows.shape[1]), rows.dtype)
    slot = np.empty(n, np.intp)     # each row's place in the block: one scatter, no gather of rows[order] first
    slot[order] = rank * starts.size + group
    padded.reshape(-1, rows.shape[1])[slot] = rows
    if onto:
        out[targets] = np.add.reduce(padded, axis=0, initial=-0.0)   # (NumPy starts a sum from +0.0)
    else:
        out[targets] += np.add.reduce(padded, axis=0)
    return out


def _increasing(idx):
    """Whether the 1-D ``idx`` is strictly increasing from 0 or above (each row once, in order: a position
    embedding's arange; a negative index could name the row a later one names)."""
    return idx.ndim == 1 and idx[0] >= 0 and bool((idx[1:] > idx[:-1]).all())


def _add_distinct(out, idx, rows):
    """index_add_rows for strictly increasing indices: each target's sum is its one row, added to out's value
    (+0.0 or, ``onto``, the row there: the block's sums give the same, as -0.0 + x is x), by a slice when the indices
    are a run. GPT's position embedding, (64, 128) by arange(64) onto new zeros, min of 3000 alternating: 24.4 ->
    5.7 us."""
    lo = int(idx[0])
    if int(idx[-1]) - lo == idx.size - 1:
        out[lo:lo + idx.size] += rows
    else:
        out[idx] += rows
    return out


def add_at(out, index, values):
    """``np.add.at(out, index, values)`` (the same sums in the same order); one integer array indexing a 1-D
    ``out`` goes flat: NumPy's fast loop takes only a 1-D index, and a (512, 64) one into 131072 values took 231
    us against 28 flattened (gather's backward, scatter_add along the last dim)."""
    if out.ndim == 1 and isinstance(index, np.ndarray) and index.ndim > 1 and np.shape(values) == index.shape:
        np.add.at(out, index.reshape(-1), np.reshape(values, -1))
        return out
    np.add.at(out, index, values)
    return out


def index_add_at(out, index, g):
    """``np.add.at(out, index, g)`` for the backward of indexing; one integer array indexing the first dim
    (``C[Xb]``, ``E[idx]``) goes by rows through index_add_rows (E[Xg] of nanoGPT, (65, 128) by (12, 64):
    backward 1179 -> 440 us)."""
    i = index[0] if isinstance(index, tuple) and len(index) == 1 else index
    if isinstance(i, np.ndarray) and i.size and i.dtype.kind in 'iu' and out.dtype in _FLOATS and \
            g.shape == i.shape + out.shape[1:]:
        flat = np.where(i < 0, i + out.shape[0], i).reshape(-1) if i.min() < 0 else i.reshape(-1)
        index_add_rows(out.reshape(out.shape[0], -1), flat, np.ascontiguousarray(g).reshape(flat.size, -1))
        return out
    np.add.at(out, index, g)
    return out
