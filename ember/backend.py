"""The array library behind ember: every op reaches NumPy through ``xp`` so that a CuPy backend can
replace it later without touching op code (Chainer's approach).

It also owns the BLAS thread policy. OpenBLAS splits even small matrix products across threads, and
on a two-core machine that costs far more than it saves: a (6, 75) @ (75, 3136) product takes 60 us on
one thread and milliseconds on two. ``gemm`` runs ember's products below ``BIG_GEMM`` multiply-adds on
one thread and puts the caller's thread count back afterwards (two ctypes calls, about 0.5 us a
product), so the user's own NumPy and SciPy products keep theirs; larger ones run at set_num_threads's
count, cut into blocks on ember._parallel's pool or on OpenBLAS's own threads (see gemm's rules).
Without OpenBLAS this is a no-op. Nothing here changes the process at import."""
import ctypes
import math
import os
import sys
import warnings

import numpy as xp

__all__ = ['xp', 'gemm', 'gemm_narrow', 'gemm_pair', 'col_sums', 'row_sums', 'blas_threads', 'set_blas_threads',
           'keep_freed_memory', 'lapack_routine', 'openblas_core', 'prepare_heap', 'reused_operand', 'small_kernels',
           'transposed']

# multiply-adds from which a product is worth splitting across threads. A product cut on ember's pool pays the
# hand-over and a second core that sat idle since the last one (its half ran 10-30% slower than the caller's in the
# MLP step, a bare product's halves 14% slower after 10 ms of idle): MLP batch 64's 12.8M products (64, 784) @
# (784, 256) and (256, 64) @ (64, 784), one thread 338 and 259 us, took 246 and 335 on the pool in a microbenchmark
# (min of 40), and its 2-thread step, in-process interleaved at real-time priority, min/median of 30 x 10 steps,
# went 1.60/1.63 -> 1.17/1.19 ms from 2^23 to 2^24 (MLP 512, LeNet, GPT, DCGAN, MNIST, ResNet-18 unchanged within
# noise). One thread is untouched. A cut product equals one thread's for float32 on SkylakeX's kernels, not in
# general: OpenBLAS's dgemm, and Haswell's sgemm, round by the shape they are given, so a block of a product or
# OpenBLAS's threaded run of it can differ from the whole in the last bits (at 2 against 1 thread: (300, 300) @
# (300, 300) in float64, 34 of 40 random float64 shapes of sides 256-520; (256, 256) @ (256, 256) in float32 with
# OPENBLAS_CORETYPE=Haswell).
BIG_GEMM = 1 << 24


def _quiet_float_warnings():
    """PyTorch makes inf and nan silently (1 / 0, log(0), exp(1000)); NumPy warns. Its floating-point
    warnings are ignored when they come from ember's own code (a filter costs nothing per op, where an
    ``errstate`` around each op costs 2.5 us); the user's NumPy code still warns."""
    warnings.filterwarnings('ignore', message=r'(divide by zero|overflow|invalid value|underflow) encountered',
                            category=RuntimeWarning, module=r'ember\.')
    try:
        import _warnings
        outer = _warnings.filters
    except (ImportError, AttributeError):
        return
    if outer is warnings.filters:
        return
    # Imported inside catch_warnings (pytest imports test modules, so ember, inside two nested ones): each
    # puts back at its end the list in force at its start, so the filter goes into those lists too. They are
    # found through gc (about 45 ms with PyTorch loaded), only in this case.
    import gc
    entry = warnings.filters[0]
    kinds = (warnings.catch_warnings, *warnings.catch_warnings.__subclasses__())
    saved = [outer] + [getattr(cw, '_filters', None) for cw in gc.get_referrers(*kinds) if isinstance(cw, kinds)]
    for filters in saved:
        if isinstance(filters, list) and entry not in filters:
            filters.insert(0, entry)
    warnings._filters_mutated()


_quiet_float_warnings()


def _openblas_libs():
    """The OpenBLAS libraries this process loaded (NumPy's), as ctypes handles; none off Linux."""
    try:
        with open('/proc/self/maps') as f:
            paths = sorted({line.split()[-1] for line in f if 'openblas' in line.lower() and '.so' in line})
    except OSError:
        return
    for path in paths:
        try:
            yield ctypes.CDLL(path)
        except OSError:
            continue


def openblas_core():
    """The kernel family of the OpenBLAS NumPy loaded ('Haswell', 'SkylakeX'...: OPENBLAS_CORETYPE when set, else
    the CPU's), or None without one; the benchmarks report it, since ember's products run on it."""
    for lib in _openblas_libs():
        for symbol in ('scipy_openblas_get_corename64_', 'openblas_get_corename64_', 'openblas_get_corename'):
            fn = getattr(lib, symbol, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


def lapack_routine(name):
    """(function, integer type) of the LAPACK routine ``name`` (Fortran calling convention) in the OpenBLAS
    NumPy loaded: ILP64 builds take 64-bit integers. None without one."""
    for lib in _openblas_libs():
        for symbol, integer in ((f'scipy_{name}_64_', ctypes.c_int64), (f'{name}_64_', ctypes.c_int64),
                                (f'{name}_', ctypes.c_int)):
            fn = getattr(lib, symbol, None)
            if fn is not None:
                fn.restype = None
                return fn, integer
    return None


def _find_openblas():
    """(set_num_threads, get_num_threads) of the OpenBLAS NumPy loaded, or (None, None)."""
    for lib in _openblas_libs():
        for prefix, suffix in (('scipy_openblas', '64_'), ('openblas', '64_'), ('openblas', ''),
                               ('scipy_openblas', '')):
            setter = getattr(lib, f'{prefix}_set_num_threads{suffix}', None)
            getter = getattr(lib, f'{prefix}_get_num_threads{suffix}', None)
            if setter is not None and getter is not None:
                getter.restype = ctypes.c_int
                return setter, getter
    return None, None


class _Blas:
    """The loaded OpenBLAS's thread-count functions (found lazily, on the first product), ``many``, the
    threads set_num_threads gave ember's large products (None: the caller's count), and ``pinned``, the
    count _parallel's pool put aside while it runs products on one thread each (0: not running)."""

    def __init__(self):
        self.ready = False
        self.setter = self.getter = None
        self.many = None
        self.pinned = 0
        self.core = None

    def init(self):
        self.ready = True
        prepare_heap()
        if os.environ.get('EMBER_BLAS_THREADS') == 'default':
            return
        self.setter, self.getter = _find_openblas()


BLAS = _Blas()


def blas_threads():
    """Threads ember's large products use: set_num_threads's count, else OpenBLAS's current one (1 if
    it cannot be read)."""
    if not BLAS.ready:
        BLAS.init()
    if BLAS.getter is None:
        return 1
    return BLAS.many or BLAS.pinned or max(1, BLAS.getter())


def set_blas_threads(n):
    """Let ember's large products use ``n`` threads (``torch.set_num_threads``); OpenBLAS's own count,
    which the user's NumPy uses, is left alone. A BLAS ember cannot steer keeps its own count."""
    if not BLAS.ready:
        BLAS.init()
    if BLAS.setter is not None:
        BLAS.many = n


# Products OpenBLAS runs on one thread whatever its thread count (its interface/gemm.c and gemv.c, default
# GEMM_MULTITHREAD_THRESHOLD 4): a 2-D product of at most 65536 * 4 multiply-adds, a matrix times a vector of fewer
# than 2304 * 4 elements. Checked on NumPy's OpenBLAS 0.3.31 at 2 threads: its worker thread took no CPU time over
# 3000 of each of LeNet's small products ((4, 400) @ (400, 120), (64, 64) @ (64, 64), (95, 95) @ (95,) ...).
# gemm runs these as they are, without setting OpenBLAS's count to one and back around them: two ctypes calls a
# product, which only a count above one (OPENBLAS_NUM_THREADS=2, the 2-thread benchmark regime) pays.
_SOLO_GEMM, _SOLO_GEMV = 65536 * 4, 2304 * 4


def _solo(a, b, macs):
    """Whether OpenBLAS runs ``a @ b`` (at most one operand a stack) on one thread of its own accord."""
    if a.ndim > 1 and b.ndim > 1:
        return macs <= _SOLO_GEMM
    m = b if a.ndim == 1 else a     # the matrix of a matrix-vector product (a stack: one product per matrix)
    return (m.size if m.ndim == 1 else m.shape[-2] * m.shape[-1]) < _SOLO_GEMV


def _mkl_order(a, b, macs):
    """``b``, or ``b`` copied C-contiguous where that makes OpenBLAS's small-matrix product of float32 ``a @ b`` sum as
    PyTorch's MKL does (each dot product one fused multiply-add after another): ``b`` a transposed C-contiguous matrix
    (a linear layer's weight.T), inner dimension 32-192, b's columns a multiple of 16 or 12-15, at most _SMALL_MACS
    multiply-adds. With the transposed view OpenBLAS's small kernel sums otherwise: (32, 64) @ (64, 32) differed from
    PyTorch in 851 of 1024 values, 0 copied; over M 4-128 (but 5, 7, 9), K 32-128 and those N, copied gave PyTorch's
    values in every case tried, and never fewer of them (N 20, 24 or 100, and K over 192, do worse copied: left as
    they are). The copy is of the weight only (64 x 32 floats: ~1 us)."""
    if type(b) is not xp.ndarray or b.ndim != 2 or a.ndim != 2 or b.dtype != xp.float32 or a.dtype != xp.float32 or \
            b.flags.c_contiguous or not b.flags.f_contiguous or not a.flags.c_contiguous or macs > _SMALL_MACS:
        return b
    k, n = b.shape
    if not 32 <= k <= 192 or not (n % 16 == 0 or 12 <= n < 16) or not small_kernels():
        return b
    return xp.ascontiguousarray(b)


def _mkl_unfused(a, b):
    """Whether, under the exact kernels, float32 ``a @ b`` (2-D) is summed as PyTorch's MKL sums it, plain multiplies
    and adds term after term: an inner dimension of 2-3 (4 with ``b`` C-contiguous: mm, not a linear layer's
    weight.T) and fewer than 4 rows or 12 columns. Swept over M 1-500, N 1-100: every such shape equal to MKL's bits
    this way; wider ones MKL fuses (OpenBLAS's order already). yunjey's nn.Linear(3, 2) on (10, 3): 4 of 20 outputs
    a step off. Not by default: NumPy's passes cost 4.7 against 1.0 us for (10, 3) @ (3, 2), 113 against 14 for
    (4096, 3) @ (3, 8) (min of 15x200, one thread)."""
    if type(a) is not xp.ndarray or type(b) is not xp.ndarray or a.ndim != 2 or b.ndim != 2 or \
            a.dtype != xp.float32 or b.dtype != xp.float32:
        return False
    k = a.shape[1]
    return (2 <= k <= 3 or k == 4 and b.flags.c_contiguous) and (a.shape[0] < 4 or b.shape[1] < 12) and \
        exact_kernels()


def mkl_rows(a, b):
    """For matmul/mm/linear under the exact kernels: float32 ``a @ b`` of one row (or a vector), or of 2-3 rows, in
    MKL's order where ember has it, else None (not in gemm: its other callers, conv among them, are not MKL's sgemm).
    ``b`` a C-contiguous matrix's transpose (a linear layer's weight.T, x @ w.t()): ops._mkl_narrow (PyTorch's bits
    for K 1-4096, N 1-1000). ``b`` row-major as PyTorch reads strides (x @ w): each value's products rounded and added
    in turn over K, as MKL's kernel for these shapes (swept K 2-2048, N 1-1000, 1 and 2 threads: every one-row shape,
    and 2-3 rows at an even N; most differed in a few values)."""
    if type(a) is not xp.ndarray or type(b) is not xp.ndarray or a.dtype != xp.float32 or b.ndim != 2 or \
            b.dtype != xp.float32 or not a.flags.c_contiguous or not b.size or a.ndim > 2 or a.ndim == 2 and \
            a.shape[0] > 3:
        return None
    rows = a.reshape(-1, a.shape[-1])
    if b.strides[1] == 4 and b.strides[0] >= 4 * b.shape[1]:
        r = _added_in_turn(rows, b) if rows.shape[0] == 1 or b.shape[1] % 2 == 0 else None
    elif b.flags.f_contiguous:
        from .ops import _mkl_narrow
        r = _mkl_narrow.linear(rows, b.T) if _mkl_narrow.applies(rows, b.T) else None
    else:
        return None
    return r.reshape(b.shape[1:]) if r is not None and a.ndim == 1 else r


def _added_in_turn(rows, b):
    """``rows @ b``: each value's products rounded and added one after another over K (a C-contiguous array reduced
    over its outer axis adds its rows in turn; one column is accumulated, where reduce would sum pairwise)."""
    out = xp.empty((rows.shape[0], b.shape[1]), xp.float32)
    for i, row in enumerate(rows):
        prod = row[:, None] * b
        out[i] = xp.add.reduce(prod, axis=0) if b.shape[1] > 1 else xp.add.accumulate(prod[:, 0])[-1]
    return out


def _unfused(a, b, out=None):
    """``a @ b`` of a small inner dimension as NumPy's rounded multiplies and adds, term after term (_mkl_unfused)."""
    r = xp.multiply(a[:, :1], b[0], out=out)
    for k in range(1, a.shape[1]):
        r += a[:, k:k + 1] * b[k]
    return r


def gemm(a, b, many=False, bias=None, out=None):
    """_gemm, run again quietly when a user's simplefilter('error') raised NumPy's inf/NaN warning (see _quiet)."""
    try:
        return _gemm(a, b, many, bias, out)
    except RuntimeWarning:
        from . import _quiet
        return _quiet.again(_gemm, a, b, many, bias, out)


def _gemm(a, b, many=False, bias=None, out=None):
    """``a @ b`` with ember's thread policy; the caller's OpenBLAS thread count is put back after. ``bias``: added
    to the product in place (``a @ b + bias``), by each of the pool's threads to its own block when the product is
    cut (GPT's (768, 128) @ (128, 384) and (128, 512) plus their bias at 2 threads, min of 300 interleaved: 449 ->
    412 and 583 -> 539 us). ``out``: an array of the product's shape and dtype the product is written into and
    returned as (by the product itself on OpenBLAS's route, copied there from the pool's). Rules:

    - below BIG_GEMM multiply-adds (and not ``many``): one OpenBLAS thread;
    - ``many`` (one of many products in a row that together are large): set_num_threads's count of OpenBLAS
      threads;
    - large: cut into blocks on ember's pool (_parallel.product), or, for shapes it does not cut, on OpenBLAS's
      threads. OpenBLAS's threads spin ~0.1 s after a product on the core the pool needs (idle runs at 2
      threads: ResNet-18 step 192 ms with its products on the pool, 242 on OpenBLAS's threads);
    - a mid-size product with every side at least 256 (``_mid_square``): OpenBLAS's threads.

    The route depends on the shapes and the thread count alone, never on timings, so a program's results are the
    same run to run (each route rounds a product differently in the last bits). A stack of matrices times one
    matrix is one 2-D product (see _fold)."""
    if a.ndim > 2 and b.ndim == 2:
        return _into(_fold(a, b, bias), out)
    if not BLAS.ready:
        BLAS.init()
    setter = BLAS.setter
    if setter is None:
        return _plus(_matmul(a, b, out), bias)
    macs = a.size * b.shape[-1] if b.ndim > 1 else a.size     # a matrix times a vector: a.size multiply-adds
    if a.ndim == 2 and b.ndim > 2:      # one matrix times a stack: once per matrix of the stack
        macs *= b.size // max(1, b.shape[-2] * b.shape[-1])
        if macs <= _SMALL_MACS and a.flags.f_contiguous and not a.flags.c_contiguous:
            # a column-major matrix (a linalg result: MultivariateNormal's Cholesky factor) times a stack of vectors
            # rounds as PyTorch's more often copied row-major: n 2-64, 1-7 vectors, 14 of 72 equal, 5 as it is
            a = xp.ascontiguousarray(a)
    elif not many and macs < BIG_GEMM and _solo(a, b, macs):
        if _mkl_unfused(a, b):
            return _plus(_unfused(a, b, out), bias)
        b = _mkl_order(a, b, macs)
        r = None if bias is None or a.shape[0] * b.shape[-1] < _BIAS_IN_GEMM_MIN else _with_bias(a, b, bias, out)
        return _plus(_matmul(a, b, out), bias) if r is None else r
    big = _big(a, b, macs)
    if BLAS.pinned and (many or big):
        _settle_later()
    want = BLAS.many if (many or big) and not BLAS.pinned else 1
    if want is None:
        return _plus(_matmul(a, b, out), bias)
    if want > 1 and not many and not _mid_square(a, b, macs):
        from . import _parallel
        r = _parallel.product(a, b, bias)
        if r is not None:
            return _into(r, out)
    return _on_blas(a, b, want, out, bias)


def _settle_later():
    """Wait for this thread's pending _parallel.later() task (a linear layer's weight gradient), which pins ember's
    products to one thread while it runs, so that a large product after it is cut on both threads again instead of
    running on one. The MLP's first layer's weight gradient (256, 512) @ (512, 784), right after the second layer's
    backward started its own on the pool, ran at one thread's speed: 2048 us in the 2-thread step, against 1273 us
    for the same-sized forward product (median of 200 steps, SkylakeX kernels)."""
    from . import _parallel
    _parallel.settle()


# OpenBLAS kernel families whose products with few rows run faster with their right operand C-contiguous than
# with it a transposed view (see reused_operand)
_CONTIGUOUS_B = ('SkylakeX',)


def reused_operand(b):
    """``b``, the right operand of many products in a row (an LSTM layer's recurrent weight w_hh.T, once per step),
    in the layout the loaded OpenBLAS multiplies fastest. SkylakeX's kernels (AVX-512) take a transposed view's
    few-row products through a slower path: (20, 200) @ (200, 800), the LSTM LM's step, 85 us with w_hh.T against
    46 us with it copied C-contiguous once; (4, 200) @ (200, 800) 62 against 8 us, (32, 1024) @ (1024, 4096) 2.57
    against 1.30 ms (thread time, min of 20). Haswell's kernels gain nothing (20 x 200 x 800 69 -> 66 us, but
    (4, 512) @ (512, 2048) 195 -> 223 us), so there ``b`` stays as it is. Same values but for one-row products
    (a matrix-vector product either way, summed in another order)."""
    if BLAS.core is None:
        BLAS.core = openblas_core() or ''
    if BLAS.core not in _CONTIGUOUS_B or type(b) is not xp.ndarray or b.flags.c_contiguous:
        return b
    return xp.ascontiguousarray(b)


# OpenBLAS's kernel families with small-matrix kernels: products of at most _SMALL_MACS multiply-adds (100^3, the
# permit's limit) skip packing the operands. A product whose result has a side of at most _NARROW ran 2-3 times faster
# cut into such products (gemm_narrow). Haswell's kernels have none: cut, the same products lost there.
_SMALL_KERNELS = frozenset({'SkylakeX', 'Cooperlake', 'SapphireRapids'})
_SMALL_MACS, _NARROW = 100 ** 3, 8


def small_kernels():
    """Whether the loaded OpenBLAS's kernel family has small-matrix kernels (_SMALL_KERNELS): products of at most
    _SMALL_MACS multiply-adds skip packing their operands, so a product cut into such pieces can run faster than
    whole, where on other families (Haswell) the same pieces lose."""
    if BLAS.core is None:
        BLAS.core = openblas_core() or ''
    return BLAS.core in _SMALL_KERNELS


def gemm_narrow(a, b):
    """``a @ b`` of 2-D arrays with gemm's policy, except that a float32 product whose result has a side of at most
    _NARROW and that is over _SMALL_MACS multiply-adds, on a kernel family with small-matrix kernels, runs as
    products of at most _SMALL_MACS along its longest dimension (one stacked NumPy matmul and a remainder): blocks of
    the result's rows or columns, or of the inner dimension, then summed in block order. LeNet's 3 -> 6 channel 5x5
    conv on 8 samples (SkylakeX, one thread, min of 15 interleaved, us): forward (6, 75) @ (75, 6272) 75 -> 40,
    weight gradient (75, 6272) @ (6272, 6) 119 -> 52; result sides 4-8 (inner 27-150) gained alike, 16 and 32 lost or
    broke even. The blocks are fixed by the shapes alone, so the values do not depend on the thread count."""
    if type(a) is not xp.ndarray or type(b) is not xp.ndarray or a.ndim != 2 or b.ndim != 2 or \
            a.dtype != xp.float32 or b.dtype != xp.float32 or a.shape[1] != b.shape[0]:
        return gemm(a, b)
    (m, k), n = a.shape, b.shape[1]
    macs = m * k * n
    if macs <= _SMALL_MACS or min(m, n) > _NARROW:
        return gemm(a, b)
    if not BLAS.ready:
        BLAS.init()
    if BLAS.setter is None or not small_kernels():
        return gemm(a, b)
    threads = BLAS.getter()     # the blocks are small products: one OpenBLAS thread, as gemm runs them
    if threads == 1:
        return _cut(a, b)
    BLAS.setter(1)
    try:
        return _cut(a, b)
    finally:
        BLAS.setter(threads)


def _cut(a, b):
    """gemm_narrow's blocked product a @ b (see there)."""
    (m, k), n = a.shape, b.shape[1]
    macs = m * k * n
    long = max(m, k, n)
    per = macs // long      # multiply-adds per unit of the cut dimension
    size = min(-(-long // -(-macs // _SMALL_MACS)), _SMALL_MACS // per)     # the fewest blocks of at most _SMALL_MACS
    full = long // size * size
    if long == k:
        r = xp.matmul(a[:, :full].reshape(m, -1, size).transpose(1, 0, 2), b[:full].reshape(-1, size, n)).sum(0)
        if full < k:
            r += a[:, full:] @ b[full:]
        return r
    out = xp.empty((m, n), a.dtype)
    if long == n:
        xp.matmul(a, b[:, :full].reshape(k, -1, size).transpose(1, 0, 2),
                  out=out[:, :full].reshape(m, -1, size).transpose(1, 0, 2))
        if full < n:
            xp.matmul(a, b[:, full:], out=out[:, full:])
        return out
    xp.matmul(a[:full].reshape(-1, size, k), b, out=out[:full].reshape(-1, size, n))
    if full < m:
        xp.matmul(a[full:], b, out=out[full:])
    return out


def _matmul(a, b, out):
    """``a @ b``, into ``out`` when given."""
    return a @ b if out is None else xp.matmul(a, b, out=out)


def _into(r, out):
    """r, copied into ``out`` when given."""
    if out is None:
        return r
    xp.copyto(out, r)
    return out


# A 2-D product under _MID_MACS multiply-adds whose every side is at least _MID_SIDE (the square 256 product) runs
# on OpenBLAS's threads, not cut on the pool: a block of it is ~130 us of work, and the hand-over waits for a
# sleeping core (and each block packs the whole of the other operand), where OpenBLAS's threads, still spinning
# from the last product, start at once. matmul 256 at 2 threads, in-process, interleaved, min of 21 blocks of 200
# (loaded machine, chrt): pool 160-162 us, OpenBLAS's threads 130-139, np.matmul 130. Their spin costs programs
# that run other passes between products (LeNet, MNIST: see _parallel.product), whose products all have a side
# below 256 (conv channels, an MLP's or GPT's widths of 128-200), so they keep the pool.
_MID_SIDE, _MID_MACS = 256, 1 << 25


# A 2-D product of at least _TALL_ROWS rows, an inner dimension of at least _TALL_INNER and _TALL_MACS multiply-adds
# (under BIG_GEMM) is cut by rows on the pool too: each thread's block is still one long product. GPT's attention
# output projection (768, 128) @ (128, 128) plus bias at 2 threads, min/p25 of 300 interleaved on the loaded machine:
# 279/301 -> 207/240 us, the same values. MLP batch 64's products that lost on the pool (see BIG_GEMM) have 64 and
# 256 rows, or an inner dimension of 64.
_TALL_MACS, _TALL_ROWS, _TALL_INNER = 1 << 23, 512, 128


def _big(a, b, macs):
    """Whether gemm runs ``a @ b`` (``macs`` multiply-adds) as a large product: on the pool or OpenBLAS's threads at 2+
    threads, and, while a _parallel.later() task is pending, only after settling it."""
    return macs >= BIG_GEMM or _tall(a, b, macs)


def stays(a, b):
    """Whether gemm(a, b) of 2-D arrays (not ``many``) runs on the calling thread at any thread count, never settling
    a pending _parallel.later() task: a loop whose task waits for it may call it (an LSTM backward's steps)."""
    return not _big(a, b, a.size * b.shape[-1])


def _tall(a, b, macs):
    """Whether ``a @ b`` is a tall 2-D product worth cutting by rows below BIG_GEMM (see _TALL_MACS)."""
    return macs >= _TALL_MACS and a.ndim == b.ndim == 2 and a.shape[0] >= _TALL_ROWS and a.shape[1] >= _TALL_INNER


def _mid_square(a, b, macs):
    """Whether ``a @ b`` is a 2-D product of the size band that OpenBLAS's own threads run faster."""
    return macs < _MID_MACS and a.ndim == b.ndim == 2 and min(a.shape[0], a.shape[1], b.shape[1]) >= _MID_SIDE


# bytes of a product above which _plus splits its bias add by rows across threads: an in-place add of a bias to
# (700, n) float32 at 2 threads, split against whole, min of 200 interleaved (us): 1 MiB 74 against 39, 2 MiB 100
# against 76, 4 MiB 151 against 166, 8 MiB 243 against 328 (GPT's (768, 384) and (768, 512) outputs lost at 1 MiB)
BIAS_SPLIT_BYTES = 4 << 20


def _plus(r, bias):
    """r += bias (nothing for None), split by rows across threads when r is large (an LSTM LM's decoder)."""
    if bias is None:
        return r
    if r.nbytes < BIAS_SPLIT_BYTES:
        r += bias
        return r
    from . import _parallel
    return _parallel.ufunc(xp.add, r, bias, out=r)


def gemm_pair(a1, b1, a2, b2, overlap=False):
    """``(a1 @ b1, a2 @ b2)`` with gemm's policy, except that at set_num_threads >= 2, when both are large 2-D
    float products, each runs whole on one thread of ember's pool, side by side: one hand-over instead of one per
    product, and the results are one thread's; from _PAIR_MACS each, a quarter of BIG_GEMM (a hand-over costs less
    than OpenBLAS's threads). A linear layer's backward (its input's and weight's gradients) at
    GPT's shapes, 2 threads, min of 150 interleaved (us): 128->384 819 -> 777, 128->128 350 -> 312, 128->512
    1057 -> 1025, 512->128 1031 -> 977 (one thread: 1353, 470, 1796, 1807). ``overlap``: the second product may
    be returned still running on the pool thread (_parallel.later; the caller hands it on unread)."""
    if not BLAS.ready:
        BLAS.init()
    if BLAS.setter is not None and (BLAS.many or 0) > 1 and _pairs(a1, b1) and _pairs(a2, b2):
        from . import _parallel
        _parallel.settle()      # a weight gradient still running from the last pair: the pool is needed again
        if not BLAS.pinned:
            if overlap:
                out = xp.empty((a2.shape[0], b2.shape[1]), a2.dtype)
                if _parallel.later(lambda: xp.matmul(a2, b2, out=out), out):
                    return a1 @ b1, out      # OpenBLAS is at one thread until the task is settled
            r1, r2 = _parallel.each(lambda a, b: _on_blas(a, b, 1), [(a1, b1), (a2, b2)])
            return r1, r2
    return gemm(a1, b1), gemm(a2, b2)


# multiply-adds from which each of gemm_pair's products goes side by side: at 2 threads, min of 300 interleaved with
# 0.5 ms between (us), a linear layer's two backward products at (768, 64, 43) 91 -> 81, (512, 64, 64) 80 -> 67,
# GPT's lm_head (768, 128, 65) 237 -> 159. From 2^21 to 2^22 MLP batch 64's second layer's pair ((64, 128) @
# (128, 256) and (128, 64) @ (64, 256), 2.1M each, ~45 us on one thread) stays in line: its 2-thread step, min/median
# of 30 x 10 interleaved (with BIG_GEMM 2^24), 1.17/1.19 -> 1.11/1.13 ms
_PAIR_MACS = 1 << 22


def _pairs(a, b):
    """Whether ``a @ b`` may run whole on one of gemm_pair's threads: 2-D float arrays of one dtype, large."""
    return type(a) is xp.ndarray and type(b) is xp.ndarray and a.ndim == b.ndim == 2 and a.dtype == b.dtype and \
        a.dtype.type in (xp.float32, xp.float64) and a.size * b.shape[1] >= _PAIR_MACS


def _on_blas(a, b, want, out=None, bias=None):
    """``a @ b`` (into ``out`` when given, plus ``bias`` when given) on ``want`` OpenBLAS threads, the caller's count
    put back after; on one thread the bias goes in by _with_bias where it can."""
    n = BLAS.getter()
    if n != want:
        BLAS.setter(want)
    try:
        r = _with_bias(a, b, bias, out) if want == 1 and bias is not None else None
        if r is not None:
            return r
        r = _swapped(a, b) if want == 1 and out is None else None
        if r is None:
            r = a @ b if out is None else xp.matmul(a, b, out=out)
    finally:
        if n != want:
            BLAS.setter(n)
    return _plus(r, bias)


def _swapped(a, b):
    """``a @ b`` of a few-row C-contiguous float32 ``a`` and a transposed view ``b`` (a linear layer's x @ weight.T)
    computed as (b.T @ a.T).T, copied C-contiguous, on the kernel families of _CONTIGUOUS_B; None where that does not
    apply. SkylakeX's kernels run the product with the operands' roles swapped faster, the same values (145 random
    float32 shapes over 10^6 multiply-adds, m 2-200, k 16-1600, n 16-1200: all equal). One thread, min of 9 x 300
    (us): MLP batch 64's (64, 784) @ (784, 256) 351 -> 299, (32, 512) @ (512, 512) 337 -> 221, (20, 200) @ (200,
    800) 159 -> 99; (64, 400) @ (400, 120) 92 -> 98 and 128 rows and up even or worse, so only up to _SWAP_ROWS rows
    and at least twice as many columns. Not one row: a matrix-vector product, summed in another order swapped. In
    gemm's one-thread route only (OpenBLAS's threaded sgemm blocks an inner dimension of 449-894 otherwise)."""
    if type(a) is not xp.ndarray or type(b) is not xp.ndarray or a.ndim != 2 or b.ndim != 2 or \
            a.dtype != xp.float32 or b.dtype != xp.float32 or not 2 <= a.shape[0] <= _SWAP_ROWS or \
            b.shape[1] < 2 * a.shape[0] or a.size * b.shape[1] <= _SMALL_MACS or not a.flags.c_contiguous or \
            b.flags.c_contiguous or not b.flags.f_contiguous:
        return None
    if BLAS.core is None:
        BLAS.core = openblas_core() or ''
    if BLAS.core not in _CONTIGUOUS_B:
        return None
    return transposed(xp.matmul(b.T, a.T))


_SWAP_ROWS = 64


# Inner dimensions up to which _with_bias runs: OpenBLAS's level-3 driver sums the inner dimension in one pass up to
# its GEMM_Q (448 for SkylakeX's sgemm here: 449 rounded differently), so the bias, taken in as C with beta = 1, is
# added to each finished dot product once, as the separate add does; every kernel family's Q is at least this.
_BIAS_IN_GEMM_K, _BIAS_IN_GEMM_MIN = 256, 1 << 16


def _with_bias(a, b, bias, out=None):
    """``a @ b + bias`` of 2-D float32/float64 arrays and a bias vector as one BLAS call: C filled with the bias, then
    ?gemm with beta = 1, whose kernels add each product to C as they store it. The same values as the product then
    ``_plus`` (one rounding of the finished dot product plus the bias, for inner dimensions up to _BIAS_IN_GEMM_K),
    one pass fewer: NumPy's product clears C (beta = 0) and the add reads and writes it again. GPT's linear layers,
    (768, 128) @ (128, n) + bias at one thread, min of 40 (us): n = 384 788 -> 754, 512 1077 -> 1024, 128 270 -> 264.
    None when it does not apply: results under _BIAS_IN_GEMM_MIN elements (the BLAS call through ctypes costs ~5 us
    more than NumPy's: 4x4x4 3.0 -> 8.8 us, (256, 128) @ (128, 128) even, (768, 128) @ (128, 128) 275 -> 268), other
    dtypes or layouts, a single row or column (NumPy takes those as matrix-vector products), operands sharing memory
    (NumPy may take those as ?syrk), no OpenBLAS."""
    if type(a) is not xp.ndarray or type(b) is not xp.ndarray or a.ndim != 2 or b.ndim != 2 or \
            a.shape[0] * b.shape[1] < _BIAS_IN_GEMM_MIN or not 0 < a.shape[1] <= _BIAS_IN_GEMM_K or \
            type(bias) is not xp.ndarray or bias.shape != b.shape[1:] or not (a.dtype == b.dtype == bias.dtype) or \
            a.shape[1] != b.shape[0] or a.shape[0] < 2 or b.shape[1] < 2:
        return None
    fn = _gemm_routine(a.dtype)
    if fn is None or not (a.flags.aligned and b.flags.aligned and _rows(a)) or xp.may_share_memory(a, b):
        return None
    if _rows(b):
        trans, ldb = 111, b.strides[0]      # CblasNoTrans
    elif _rows(b.T):
        trans, ldb = 112, b.strides[1]      # CblasTrans: b is the transposed view of a row-major matrix
    else:
        return None
    m, (k, n) = a.shape[0], b.shape
    if out is None:
        out = xp.empty((m, n), a.dtype)
    elif type(out) is not xp.ndarray or out.shape != (m, n) or out.dtype != a.dtype or not out.flags.writeable or \
            not _rows(out) or xp.may_share_memory(out, a) or xp.may_share_memory(out, b):
        return None
    call, integer, scalar = fn
    isz = a.itemsize
    out[...] = bias
    call(101, 111, trans, integer(m), integer(n), integer(k), scalar(1.0), a.ctypes.data, integer(a.strides[0] // isz),
         b.ctypes.data, integer(ldb // isz), scalar(1.0), out.ctypes.data, integer(out.strides[0] // isz))
    return out


def axpy(alpha, x, y):
    """``y += alpha * x`` in place by OpenBLAS's cblas_?axpy on one of its threads, for 1-D C-contiguous float32/float64
    ``x`` and ``y`` of one size and dtype that do not overlap; False, with nothing done, where the routine is not
    there (no OpenBLAS, EMBER_BLAS_THREADS=default) or ``alpha`` is 0 (the routine then returns at once, where
    ``y + 0 * x`` still turns an infinite x into NaN). One pass over the arrays; whether it rounds as PyTorch does
    (once, a fused multiply-add per element) is the caller's to check (ops._fused)."""
    fn = _cblas('axpy', y.dtype, lambda integer, scalar: [integer, scalar, ctypes.c_void_p, integer, ctypes.c_void_p,
                                                          integer])
    if fn is None or alpha == 0:
        return False
    call, integer, scalar = fn
    if not BLAS.ready:
        BLAS.init()
    n = BLAS.getter() if BLAS.getter is not None else 1
    if n != 1:
        BLAS.setter(1)
    try:
        call(integer(y.size), scalar(alpha), address(x), integer(1), address(y), integer(1))
    finally:
        if n != 1:
            BLAS.setter(n)
    return True


def address(a):
    """The address of C-contiguous array ``a``'s first element for a C call: by ctypes' from_buffer (~1 us) where
    ``a`` is writable, else ndarray.ctypes.data, which made a ctypes object each time (9-40 us on the loaded
    2-core machine: most of ?axpy's cost on SGD's small params)."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(a))
    except (TypeError, ValueError, BufferError):
        return a.ctypes.data


def _gemm_routine(dtype):
    """(function, integer type, scalar type) of OpenBLAS's cblas_?gemm for float32/float64, or None (_cblas)."""
    return _cblas('gemm', dtype, lambda integer, scalar: [
        ctypes.c_int, ctypes.c_int, ctypes.c_int, integer, integer, integer, scalar, ctypes.c_void_p, integer,
        ctypes.c_void_p, integer, scalar, ctypes.c_void_p, integer])


def _fold(a, b, bias=None):
    """(..., n, k) @ (k, m) as one (N, k) @ (k, m) GEMM: NumPy runs one GEMM per leading index, each
    re-reading b. (12, 64, 128) @ (128, 512): 579 -> 403 us; (35, 20, 200) @ (200, 10000) (an LSTM's
    decoder): 112 -> 67 ms a step (min of interleaved runs). Non-contiguous a is copied first (cheap
    next to the product)."""
    if a.shape[-1] != b.shape[0]:
        return a @ b    # NumPy's own error message
    lead = a.shape[:-1]
    r = gemm(a.reshape((math.prod(lead), a.shape[-1])), b, bias=bias)
    return r.reshape(lead + (b.shape[1],))


_ONES = {}


def ones_vector(n, dtype=xp.float64):
    """A read-only vector of ``n`` ones, kept for the next call: column, row and plane sums go as products with ones
    (col_sums, row_sums, norms' statistics, attention's softmax), and np.ones cost 1-3 us a call alone, 14 (median)
    inside the GPT step, its fresh memory cold; a few distinct lengths a program. The GPT step's col_sums and
    attention column sums, in-step thread time, 100 steps each alternating (ms, min / p25): 0.58 / 0.96 -> 0.51 /
    0.76 and 0.24 / 0.36 -> 0.23 / 0.32. The same values (ones are ones)."""
    key = (n, xp.dtype(dtype))
    v = _ONES.get(key)
    if v is None:
        if len(_ONES) > 64:
            _ONES.clear()
        v = _ONES[key] = xp.ones(n, dtype)
        v.flags.writeable = False
    return v


def col_sums(a):
    """``a.sum(axis=0)`` of a 2-D float32/float64 array as ones @ a, one matrix-vector product on gemm's
    thread policy (a bias's gradient): NumPy's column sums of (768, 512) float32 took 31 us, this 20; of
    (700, 10000) 1021 and 603 us (min of 300). float16 is summed so in float32 and rounded once, as PyTorch's
    sum (NumPy's float16 sum rounds each step: 11 of 16 columns of (64, 16) differed from PyTorch's). Anything else
    goes to a.sum(axis=0)."""
    if type(a) is not xp.ndarray or a.ndim != 2 or a.dtype.type not in (xp.float32, xp.float64):
        if type(a) is xp.ndarray and a.ndim == 2 and a.dtype.type is xp.float16:
            return col_sums(a.astype(xp.float32)).astype(xp.float16)
        return a.sum(axis=0)
    return gemm(ones_vector(a.shape[0], a.dtype), a)


def row_sums(a):
    """``a.sum(axis=-1, keepdims=True)`` of a float32/float64 array as a @ ones, matrix-vector products on
    gemm's thread policy (softmax's sums): (1538, 65) float32 40 -> 8 us, (10, 10000) 20 -> 8 us (min of
    200). Anything else goes to a.sum(axis=-1, keepdims=True), and so does an array of at most 1024 values,
    where the product's call costs more than the sum: (1, 65) 2.5 us against 0.9, (32, 27) 2.6 against 1.5."""
    if type(a) is not xp.ndarray or a.size <= 1024 or not a.ndim or a.dtype.type not in (xp.float32, xp.float64):
        return a.sum(axis=-1, keepdims=True)
    return gemm(a, ones_vector(a.shape[-1], a.dtype))[..., None]


def row_max(a):
    """``a.max(axis=-1, keepdims=True)`` of a C-contiguous float32/float64 array (softmax's shifts). NumPy's
    reduction along short rows costs ~55 ns a row whatever its length; from _ROW_MAX_ROWS rows of at most
    _ROW_MAX_COLS values the array is transposed by omatcopy and its rows maximised elementwise, which is the same
    maximum (NaN propagates; max is exact in any order). Min of 40 interleaved, one thread, SkylakeX (us):
    (3072, 64) 170 -> 44, (1024, 128) 68 -> 35, (768, 65) 27 -> 14, (512, 256) 41 -> 34, (256, 128) 17 -> 12;
    (128, 128) 9 -> 11 and (32, 65) 2 -> 7 (the omatcopy call's overhead) keep NumPy's."""
    n = a.shape[-1] if a.ndim else 0
    if type(a) is not xp.ndarray or not 0 < n <= _ROW_MAX_COLS or a.size < _ROW_MAX_ROWS * n or \
            not a.flags.c_contiguous or _omatcopy(a.dtype) is None:
        return a.max(axis=-1, keepdims=True)
    m = xp.maximum.reduce(transposed(a.reshape(-1, n)), axis=0)
    return m.reshape(a.shape[:-1] + (1,))


_ROW_MAX_ROWS, _ROW_MAX_COLS = 256, 256


def transposed(a, out=None):
    """``a.T`` copied into ``out`` (a new C-contiguous array when None) for a 2-D array ``a``: by OpenBLAS's ?omatcopy
    when a and out are float32/float64 with contiguous rows (any row strides), else NumPy's copy of the transposed
    view. NumPy copies a transpose element by element in out's order, its reads strided: a conv
    weight's (O*C, 9) -> (9, O*C) copy (ResNet-18's 512x512x3x3, 9.4 MB) took 0.77-0.93 ms, omatcopy 0.24 (min
    thread CPU of 15). The same values either way (omatcopy multiplies by alpha = 1, exact for every float)."""
    if out is None:
        out = xp.empty(a.shape[::-1], a.dtype)
    fn = _omatcopy(a.dtype) if type(a) is xp.ndarray and a.ndim == 2 and a.size and not _small_t(a) else None
    if fn is None or type(out) is not xp.ndarray or out.dtype != a.dtype or out.shape != a.shape[::-1] or \
            not out.flags.writeable or not (_rows(a) and _rows(out)):
        xp.copyto(out, a.T)
        return out
    call, integer, scalar = fn
    rows, cols = a.shape
    call(101, 112, integer(rows), integer(cols), scalar(1.0), a.ctypes.data, integer(a.strides[0] // a.itemsize),
         out.ctypes.data, integer(out.strides[0] // a.itemsize))      # CblasRowMajor, CblasTrans
    _clear_upper()
    return out


def _small_t(a):
    """Whether NumPy copies a.T faster than the ?omatcopy call (~6 us through ctypes and _clear_upper, whatever the
    size): up to 10^4 elements where out's rows (a's columns) are 16 or more long. float32, min of 3000, us (copy /
    omatcopy): (1600, 4) 2.3 / 6.5, (1176, 4) 1.8 / 6.3 (LeNet batch 4's conv columns), (96, 25) 1.2 / 6.1, (64, 64)
    1.8 / 6.2, (100, 100) 3.4 / 6.8; with rows of 4 it lost, (4, 1600) 6.7 / 6.4, (4, 4096) 16.1 / 7.1; and at 16384
    elements, (256, 64) 10.9 / 7.8."""
    return a.size <= 10000 and a.shape[0] >= 16


_TINY = xp.ones((4, 4), xp.float32)


def _clear_upper():
    """Run a 4x4 sgemm, ~1 us, after OpenBLAS's ?omatcopy: that kernel returns with the upper halves of the vector
    registers in use (no vzeroupper), and until some code clears them the thread's SSE-encoded code runs slowly:
    NumPy's float32 -> float64 casts took 3.4-4.7x as long (einsum of (32, 64, 64) float32 into float64 sums 34 ->
    114 us, astype(float64) 17 -> 80 us, min of 200, SkylakeX and Haswell kernels alike), so batch_norm's statistics
    after a conv whose output came through _batch_first. OpenBLAS's gemm kernels end with vzeroupper (a 4x4 sgemm
    put both back to 34 and 17 us; a NumPy add or a glibc memmove did not). DCGAN step, min of 30 interleaved blocks
    of 3 steps (loaded machine): one thread 33.44 -> 32.53 ms, two 27.99 -> 27.72."""
    _TINY @ _TINY


def _rows(a):
    """Whether 2-D ``a`` is a BLAS row-major matrix: contiguous rows, rows at least a row apart, in whole elements."""
    isz = a.itemsize
    return a.strides[1] == isz and a.strides[0] % isz == 0 and a.strides[0] >= a.shape[1] * isz


def _omatcopy(dtype):
    """(function, integer type, scalar type) of OpenBLAS's cblas_?omatcopy for float32/float64, or None (_cblas)."""
    return _cblas('omatcopy', dtype, lambda integer, scalar: [
        ctypes.c_int, ctypes.c_int, integer, integer, scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer])


_CBLAS = {}


def _cblas(name, dtype, argtypes):
    """(function, integer type, scalar type) of OpenBLAS's cblas_?<name> for float32/float64, its C arguments typed
    by ``argtypes(integer, scalar)``, or None (no OpenBLAS, another dtype, EMBER_BLAS_THREADS=default); looked up
    once per routine and dtype in the OpenBLAS NumPy loaded (ILP64 builds take 64-bit integers)."""
    key = (name, dtype)
    if key not in _CBLAS:
        _CBLAS[key] = None
        letter, scalar = {xp.dtype(xp.float32): ('s', ctypes.c_float), xp.dtype(xp.float64): ('d', ctypes.c_double)}.get(
            dtype, (None, None))
        if letter is not None and os.environ.get('EMBER_BLAS_THREADS') != 'default':
            _CBLAS[key] = _find_cblas(letter + name, scalar, argtypes)
    return _CBLAS[key]


def _find_cblas(routine, scalar, argtypes):
    """(function, integer type, scalar type) of cblas_<routine> in the OpenBLAS NumPy loaded, or None."""
    for lib in _openblas_libs():
        for symbol, integer in ((f'scipy_cblas_{routine}64_', ctypes.c_int64), (f'cblas_{routine}64_', ctypes.c_int64),
                                (f'cblas_{routine}', ctypes.c_int)):
            fn = getattr(lib, symbol, None)
            if fn is not None:
                fn.restype = None
                fn.argtypes = argtypes(integer, scalar)
                return fn, integer, scalar
    return None


def strided_view(a, shape, strides, offset=0):
    """A read-only view of array ``a``'s memory with ``shape`` and byte ``strides``, starting ``offset`` bytes in
    (which needs a C-contiguous ``a``): NumPy's as_strided without its wrapper object, by the ndarray constructor
    on a's buffer (it also checks the view stays inside it). A conv's window view, min of 10x2000: 4.5 -> 0.6 us
    (three a LeNet step). A non-contiguous ``a`` goes to as_strided."""
    if a.flags.c_contiguous:
        v = xp.ndarray(shape, a.dtype, a, offset, strides)
        v.flags.writeable = False
        return v
    if offset:
        raise ValueError('strided_view: an offset needs a C-contiguous array')
    return xp.lib.stride_tricks.as_strided(a, shape, strides, writeable=False)


_SAME_INT = {2: xp.int16, 4: xp.int32, 8: xp.int64}


def select(cond, a, b):
    """``xp.where(cond, a, b)`` for two float arrays of one dtype, by masking their bits: exact (NaN, inf
    and signed zeros kept) and branch-free. NumPy's where branches per element: on an unpredictable
    condition it took 0.7-1.0 ms for 131k float32 values, this 0.09 ms. Anything else goes to xp.where."""
    dt = a.dtype if type(a) is xp.ndarray else None
    if (dt is None or type(b) is not xp.ndarray or b.dtype != dt or dt.kind != 'f' or type(cond) is not xp.ndarray
            or cond.dtype != xp.bool_):
        return xp.where(cond, a, b)
    it = _SAME_INT[dt.itemsize]
    mask = cond.view(xp.int8).astype(it)
    xp.negative(mask, out=mask)               # True -> all bits set, False -> none
    bi = b.view(it)
    r = xp.bitwise_and(xp.bitwise_xor(a.view(it), bi), mask)
    r ^= bi
    return r.view(dt)


def select_into(cond, a, out):
    """``out[cond] = a[cond]`` for float arrays ``a`` and ``out`` of one dtype and shape (``cond`` a boolean array of
    that shape; ``a`` None: +0.0), by masking bits as ``select`` does: exact and branch-free, with only cond-sized
    temporaries (for ``blockwise``'s kernels, whose temporaries stay block-sized). Returns out."""
    it = _SAME_INT[out.dtype.itemsize]
    mask = cond.view(xp.int8).astype(it)
    o = out.view(it)
    if a is None:
        mask -= 1                             # True -> no bits, False -> all bits set
        o &= mask
        return out
    xp.negative(mask, out=mask)               # True -> all bits set, False -> none
    mask &= xp.bitwise_xor(a.view(it), o)
    o ^= mask
    return out


def keep(cond, a):
    """``a`` where ``cond`` (a boolean array) else +0.0, by masking bits: exact where ``a * cond`` gave -0.0
    for negative values and NaN for infinities (PyTorch's masked gradients give 0). Measured at the cost of
    that product (ReLU's backward on 64x64x24x24: 0.66 ms both). A complex array is selected, anything else
    goes to ``a * cond``."""
    if isinstance(a, xp.ndarray) and a.dtype.kind == 'c':    # masked complex entries 0+0j, not a * cond's -0.0
        return xp.where(cond, a, xp.zeros((), a.dtype)).view(type(a))
    dt = a.dtype if type(a) is xp.ndarray else None
    if dt is None or dt.kind != 'f' or dt.itemsize not in _SAME_INT or type(cond) is not xp.ndarray \
            or cond.dtype != xp.bool_:
        return a * cond
    it = _SAME_INT[dt.itemsize]
    # True -> all bits set, False -> none; negated as bytes, then widened (on the narrow array: ReLU's
    # backward on 64x32x26x26 float32 0.316 -> 0.238 ms, min of 80)
    c = cond.view(xp.int8)
    m = xp.negative(c, out=xp.empty_like(c)).astype(it)     # out=: an array for 0-d input too
    return xp.bitwise_and(a.view(it), m, out=m if m.shape == a.shape else None).view(dt)


_HEAP = {'ready': False}


def prepare_heap():
    """``_raise_heap_threshold`` once per process: on ember's first product, or its first large random draw
    (randn(10^6)'s 4 MiB word and result arrays were unmapped and page-faulted in again on every call:
    17.4 -> 9.6 ms; rand(10^6) 5.6 -> 2.2 ms, in a process that ran no product)."""
    if not _HEAP['ready']:
        _HEAP['ready'] = True
        _raise_heap_threshold()


def _raise_heap_threshold():
    """Free one untouched 31 MiB array (run once, on ember's first product): glibc then sets its dynamic
    mmap threshold to 31 MiB and its trim threshold to 62 MiB, as after any program's first freed 31 MiB
    array (32 MiB and up is mmapped past glibc's cap and adjusts nothing). With the defaults it started
    from (thresholds set by the largest array freed so far, often a few MiB), a training step's
    temporaries grew the heap and glibc handed that back at the end of every step, then page-faulted it
    in again: 2,000 faults a LeNet batch-64 step, 5,900 an MNIST CNN step, 3,200 a DCGAN step. 16 MiB
    (trim at 32) still left 3,300 an MNIST step (its heap grows ~60 MB) and 1,400-2,000 an LSTM step;
    31 MiB: MNIST step 70-74 -> 63-66 ms at 1 thread. mallopt is not called, so glibc stays adaptive and
    a user's own setting wins; at most 62 MiB of freed heap stays with the process."""
    if sys.platform.startswith('linux'):
        xp.empty(31 << 20, xp.uint8)


def exact_kernels(on=None):
    """Opt-in (or EMBER_EXACT_KERNELS=1 at import): float32 softmax, log_softmax, cross_entropy and
    layer_norm computed as PyTorch's CPU kernels compute them, bit for bit, at 5-30x their default cost. ``on`` sets
    it (process-wide); returns whether it is on."""
    from . import _exact
    if on is not None:
        _exact.ON[0] = bool(on)
    return _exact.ON[0]


def keep_freed_memory():
    """Opt-in (or EMBER_KEEP_FREED_MEMORY=1 at import): let glibc reuse freed large arrays instead of
    unmapping them and page-faulting fresh pages in on the next step (what a caching allocator avoids;
    it saved a third of LeNet's batch-64 training step). Process-wide: memory the program frees, NumPy
    arrays included, then stays with the process (up to 1 GiB) instead of going back to the OS.
    Returns True when glibc took the setting."""
    if not sys.platform.startswith('linux'):
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(-3, 32 << 20)      # M_MMAP_THRESHOLD: arrays up to 32 MiB from the heap
                    and libc.mallopt(-1, 1 << 30))  # M_TRIM_THRESHOLD: keep up to 1 GiB of freed heap
    except (OSError, AttributeError):
        return False


if os.environ.get('EMBER_KEEP_FREED_MEMORY') == '1':
    keep_freed_memory()
