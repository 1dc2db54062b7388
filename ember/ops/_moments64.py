"""float64 var/std/var_mean/std_mean in PyTorch's CPU order, so that their last bits print as PyTorch's. Its var and
std of all elements take two passes (the mean as torch.mean sums it, then the squared deviations added in sequence,
split across threads past 32,768 elements as at::parallel_reduce splits them); any other reduction, and var_mean and
std_mean always, is a Welford pass per output over its elements in memory order (delta = x - mean, mean += delta / n,
m2 += delta * (x - mean), each rounded: no fused multiply-add, measured). Checked against PyTorch 2.13 at 1 and 2
threads. The Welford pass runs a NumPy step per element of an output's share, so it is taken up to _WELFORD_MAX
elements an output (a single output's in Python floats, split across threads past 32,768 elements and combined as
PyTorch does, up to _SCALAR_MAX); NumPy's var beyond, within rounding (limits below: longer passes only with the exact kernels on). float32 needs none of this (its double
accumulation, rounded to float32, gives PyTorch's values already)."""
import numpy as np

from .. import _exact

# Longest passes taken by default, and with the exact kernels on (backend.exact_kernels): an output's Welford pass is
# a NumPy step per element, a single output's 0.3 us per element in Python floats. Against NumPy's var (us): (2, 4096)
# over dim 1 29 -> 8,450, var_mean of 2**18 elements 315 -> 50,357, var of 2**18 in two passes 246 -> 1,498; the
# default limits keep the exact order's cost within ~40 us a call (var over dim 1 of (8, 33): 12.6 us NumPy's, 79 as a
# 33-step Welford pass).
_WELFORD_MAX = (16, 4096)
_SCALAR_MAX = (128, 1 << 18)
_TWO_PASS_MAX = (1 << 16, 1 << 62)
_GRAIN = 32768      # at::internal::GRAIN_SIZE


def two_pass_takes(n):
    """Whether two_pass runs over ``n`` elements in this mode (see _TWO_PASS_MAX)."""
    return n <= _TWO_PASS_MAX[_exact.ON[0]]


def two_pass(a, mean, threads):
    """The sum of squared deviations from ``mean`` of all of the C-contiguous float64 ``a``, as std_var_all_cpu adds
    them: each thread's even share in sequence from 0, the shares' sums then added in thread order."""
    flat = a.reshape(-1)
    n = flat.shape[0]
    tasks = 1 if n <= _GRAIN or threads == 1 else min(threads, -(-n // _GRAIN))
    share = -(-n // tasks)
    total = 0.0
    for t in range(tasks):
        d = flat[t * share:(t + 1) * share] - mean
        total = total + (float(np.add.accumulate(d * d)[-1]) if d.shape[0] else 0.0)
    return total


def welford(a, dims, threads):
    """(mean, m2) of the C-contiguous float64 ``a`` over ``dims`` (sorted) per output (C order of the kept dims), or
    None past _WELFORD_MAX elements an output (_SCALAR_MAX for a single output)."""
    kept = [d for d in range(a.ndim) if d not in dims]
    k = 1
    for d in dims:
        k *= a.shape[d]
    on = _exact.ON[0]
    if k == a.size and k <= _SCALAR_MAX[on]:
        mean, m2 = _welford_all(a.reshape(-1), threads)
        return np.array([mean]), np.array([m2])
    if k > _WELFORD_MAX[on]:
        return None
    cols = np.ascontiguousarray(a.transpose(list(dims) + kept)).reshape(k, -1)
    mean = np.zeros(cols.shape[1])
    m2 = np.zeros(cols.shape[1])
    for j, v in enumerate(cols):
        delta = v - mean
        mean = mean + delta / float(j + 1)
        m2 = m2 + delta * (v - mean)
    return mean, m2


def _welford_all(flat, threads):
    """(mean, m2) of all of ``flat`` as binary_kernel_reduce forms one output: past 32,768 elements each thread's even
    share (at::parallel_for's) by its own pass, the passes then combined in thread order."""
    n = flat.shape[0]
    tasks = 1 if n < _GRAIN or threads == 1 else min(threads, -(-n // _GRAIN))
    share = -(-n // tasks)
    acc = None
    for t in range(tasks):
        part = _run(flat[t * share:(t + 1) * share].tolist())
        acc = part if acc is None else _combine(acc, part)
    return acc[1], acc[2]


def _run(values):
    """(count, mean, m2) of one Welford pass over the Python floats ``values`` (doubles, each step rounded)."""
    mean = m2 = 0.0
    j = 0
    for x in values:
        j += 1
        delta = x - mean
        mean += delta / j
        m2 += delta * (x - mean)
    return float(j), mean, m2


def _combine(a, b):
    """Two Welford passes' (count, mean, m2) as one, in WelfordOps::combine's steps."""
    if not a[0]:
        return b
    if not b[0]:
        return a
    delta = b[1] - a[1]
    count = a[0] + b[0]
    nb_over_n = b[0] / count
    return count, a[1] + delta * nb_over_n, a[2] + b[2] + delta * delta * a[0] * nb_over_n
