"""torch.topk's indices in PyTorch's CPU order, ties included.

PyTorch's CPU kernel puts each row's (value, index) pairs through libstdc++'s ``std::partial_sort`` when
``k * 64 <= n``, else ``std::nth_element`` on the k-th and, when ``sorted``, ``std::sort`` on the k-1 before it;
comparisons look at values only (NaN counts as the largest). Neither algorithm is stable, so tied values come
out in the order those algorithms happen to leave them, and ``sorted=False`` leaves the first k in
nth_element's order. Rows where that order is determined by the values alone (no tie within the first k or
at the k-th, and the result sorted) take one NumPy sort; the others replay the libstdc++ algorithms below on
the values' ranks, in Python: about 70 us for a tied row of 65 values, 10 ms for one of 50,257.
"""
import numpy as np

_THRESHOLD = 16     # libstdc++'s introsort leaves runs this short to its final insertion sort
_ANY = np.logical_or.reduce     # ndarray.any's Python wrapper costs about as much as the reduction on a row


def topk_indices(a, k, d, largest, sorted):
    """int64 indices of ``torch.topk(a, k, d, largest, sorted)`` along axis ``d`` (a has at least one dim)."""
    n = a.shape[d]
    x = a.reshape(-1, n) if d == a.ndim - 1 else np.moveaxis(a, d, -1).reshape(-1, n)
    if not k or not x.shape[0]:
        idx = np.empty(x.shape[:1] + (k,), np.int64)
    else:
        idx, undecided = _by_sorting(x, k, largest)
        if not sorted and k * 64 > n:
            undecided[:] = True     # nth_element's order of the first k: replayed on every row
        if _ANY(undecided):
            for r in np.flatnonzero(undecided):
                idx[r] = _replay_row(_ranks(x[r], largest), k, sorted)
    idx = idx.reshape(a.shape[:d] + a.shape[d + 1:] + (k,))
    return idx if d == a.ndim - 1 else np.moveaxis(idx, -1, d)


def _by_sorting(x, k, largest):
    """Each row's k best (int64, C-ordered) by a NumPy sort, and a flag for each row that sort cannot decide:
    a tie within the first k + 1, or a NaN (the largest value to PyTorch, the last to NumPy). Rows longer
    than 256 with k + 1 < n take a partition before the sort ((1, 50257), k = 200: 0.9 ms by sort's argsort,
    0.08 ms so), float32 arrays of 4096 values or more sort's packed keys ((64, 256): 90 -> 72 us)."""
    m, n = x.shape
    rows = np.arange(m)[:, None]
    key = _key if largest else (lambda v: v)
    partial = k + 1 < n and n > 256
    order = _best_by_threshold(x, k, largest) if partial else None
    if order is None and partial:
        order = np.argpartition(key(x), k, axis=1)[:, :k + 1]
        order = order[rows, np.argsort(key(x[rows, order]), axis=1)]
    elif order is None:
        packed = None
        if x.dtype == np.float32 and x.size >= 4096 and n >= 16:
            from .indexing import _packed_argsort
            packed = _packed_argsort(x, 1, largest)
        order = (np.argsort(key(x), axis=1) if packed is None else packed)[:, :k + 1]
    best = key(x[rows, order])
    undecided = _ANY(best[:, 1:] == best[:, :-1], axis=1)
    if x.dtype.kind == 'f':
        nan = np.isnan(x)
        if _ANY(nan, axis=None):
            undecided |= _ANY(nan, axis=1)
    return np.ascontiguousarray(order[:, :k], dtype=np.int64), undecided


def _key(v):
    """Values in ascending order of which the largest come first (~: no integer overflow)."""
    return np.negative(v) if v.dtype.kind == 'f' else ~v


def _best_by_threshold(x, k, largest):
    """Each row's k + 1 best indices, in the order of their values, found by the (k + 1)-th best value (np.partition
    of the values, not argpartition's pairs) and a comparison against it; None when a row does not have exactly
    k + 1 values at least that good (a tie at the threshold, NaNs: _by_sorting's partition then decides). (384,
    8192) float32, k = 5, min of 10: 6.3 -> 3.8 ms; (512, 1000), k = 10: 1.35 -> 0.91 ms."""
    m, n = x.shape
    kth = n - k - 1 if largest else k
    t = np.partition(x, kth, axis=1)[:, kth:kth + 1]
    flat = np.flatnonzero(np.greater_equal(x, t) if largest else np.less_equal(x, t))
    if flat.size != m * (k + 1):
        return None
    r = (flat // n).reshape(m, k + 1)
    rows = np.arange(m)
    if not (np.array_equal(r[:, 0], rows) and np.array_equal(r[:, -1], rows)):
        return None
    cols = (flat % n).reshape(m, k + 1)
    best = x[rows[:, None], cols]
    return cols[rows[:, None], np.argsort(_key(best) if largest else best, axis=1)]


def _ranks(row, largest):
    """Each value's rank in comparison order (0 first; equal values, -0.0 and 0.0, and all NaNs share one)."""
    _, inv = np.unique(row, return_inverse=True)    # NaN sorts last, as one value
    return (inv.max() - inv if largest else inv).tolist()


def _replay_row(ranks, k, sorted):
    """PyTorch's kernel on one row: the indices of the first k after its libstdc++ calls."""
    n = len(ranks)
    q = list(zip(ranks, range(n)))
    if k * 64 <= n:
        _partial_sort(q, 0, k, n)
    else:
        _nth_element(q, 0, k - 1, n)
        if sorted:
            _sort(q, 0, k - 1)
    return [i for _, i in q[:k]]


# -- libstdc++'s algorithms (bits/stl_algo.h, stl_heap.h), on lists of (rank, index) compared by rank --------------
def _lg(n):
    return n.bit_length() - 1


def _push_heap(q, first, hole, top, value):
    parent = (hole - 1) // 2
    while hole > top and q[first + parent][0] < value[0]:
        q[first + hole] = q[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    q[first + hole] = value


def _adjust_heap(q, first, hole, length, value):
    top = child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if q[first + child][0] < q[first + child - 1][0]:
            child -= 1
        q[first + hole] = q[first + child]
        hole = child
    if length & 1 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        q[first + hole] = q[first + child - 1]
        hole = child - 1
    _push_heap(q, first, hole, top, value)


def _pop_heap(q, first, last, result):
    value = q[result]
    q[result] = q[first]
    _adjust_heap(q, first, 0, last - first, value)


def _heap_select(q, first, middle, last):
    length = middle - first
    for parent in range((length - 2) // 2, -1, -1):     # make_heap
        _adjust_heap(q, first, parent, length, q[first + parent])
    for i in range(middle, last):
        if q[i][0] < q[first][0]:
            _pop_heap(q, first, middle, i)


def _partial_sort(q, first, middle, last):
    _heap_select(q, first, middle, last)
    while middle - first > 1:       # sort_heap
        middle -= 1
        _pop_heap(q, first, middle, middle)


def _partition_pivot(q, first, last):
    """Median of (first + 1, middle, last - 1) moved to first, then the unguarded partition around it."""
    a, b, c = first + 1, first + (last - first) // 2, last - 1
    if q[a][0] < q[b][0]:
        m = b if q[b][0] < q[c][0] else c if q[a][0] < q[c][0] else a
    else:
        m = a if q[a][0] < q[c][0] else c if q[b][0] < q[c][0] else b
    q[first], q[m] = q[m], q[first]
    pivot = q[first][0]
    lo, hi = first + 1, last
    while True:
        while q[lo][0] < pivot:
            lo += 1
        hi -= 1
        while pivot < q[hi][0]:
            hi -= 1
        if not lo < hi:
            return lo
        q[lo], q[hi] = q[hi], q[lo]
        lo += 1


def _linear_insert(q, last):
    value = q[last]
    while value[0] < q[last - 1][0]:
        q[last] = q[last - 1]
        last -= 1
    q[last] = value


def _insertion_sort(q, first, last):
    for i in range(first + 1, last):
        if q[i][0] < q[first][0]:
            q[first:i + 1] = [q[i]] + q[first:i]
        else:
            _linear_insert(q, i)


def _sort(q, first, last):
    """std::sort: introsort down to runs of _THRESHOLD, then one insertion sort over the whole range."""
    if last - first < 2:
        return
    _introsort(q, first, last, 2 * _lg(last - first))
    if last - first > _THRESHOLD:
        _insertion_sort(q, first, first + _THRESHOLD)
        for i in range(first + _THRESHOLD, last):
            _linear_insert(q, i)
    else:
        _insertion_sort(q, first, last)


def _introsort(q, first, last, depth):
    while last - first > _THRESHOLD:
        if depth == 0:
            _partial_sort(q, first, last, last)
            return
        depth -= 1
        cut = _partition_pivot(q, first, last)
        _introsort(q, cut, last, depth)
        last = cut


def _nth_element(q, first, nth, last):
    """std::nth_element: introselect down to 3 elements, then an insertion sort."""
    depth = 2 * _lg(last - first)
    while last - first > 3:
        if depth == 0:
            _heap_select(q, first, nth + 1, last)
            q[first], q[nth] = q[nth], q[first]
            return
        depth -= 1
        cut = _partition_pivot(q, first, last)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(q, first, last)
