"""The array library behind ember: every op reaches NumPy through ``xp`` so that a CuPy backend can
replace it later without touching op code (Chainer's approach).

It also owns the BLAS thread policy. OpenBLAS splits even small matrix products across threads, and
on a two-core machine that costs far more than it saves: a (6, 75) @ (75, 3136) product takes 60 us on
one thread and milliseconds on two. ember runs products below ``BIG_GEMM`` multiply-adds on one
thread and lets larger ones use every core (``gemm``). Without OpenBLAS this is a no-op."""
import ctypes
import os
import warnings

import numpy as xp

__all__ = ['xp', 'gemm', 'blas_threads']

BIG_GEMM = 1 << 23      # multiply-adds above which a product is worth splitting across threads

# PyTorch makes inf and nan silently (1 / 0, log(0), exp(1000)); NumPy warns. Its floating-point
# warnings are silenced when they come from ember's own code; the user's NumPy code still warns.
warnings.filterwarnings('ignore', message=r'(divide by zero|overflow|invalid value|underflow) encountered',
                        category=RuntimeWarning, module=r'ember\.')


def _find_openblas():
    """(set_num_threads, get_num_threads) of the OpenBLAS NumPy loaded, or (None, None)."""
    try:
        with open('/proc/self/maps') as f:
            paths = sorted({line.split()[-1] for line in f if 'openblas' in line.lower() and '.so' in line})
    except OSError:
        return None, None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (('scipy_openblas', '64_'), ('openblas', '64_'), ('openblas', ''),
                               ('scipy_openblas', '')):
            setter = getattr(lib, f'{prefix}_set_num_threads{suffix}', None)
            getter = getattr(lib, f'{prefix}_get_num_threads{suffix}', None)
            if setter is not None and getter is not None:
                getter.restype = ctypes.c_int
                return setter, getter
    return None, None


class _Blas:
    """Thread count control for the loaded BLAS (set lazily, on the first product)."""

    def __init__(self):
        self.ready = False
        self.setter = self.getter = None
        self.many = 1

    def init(self):
        self.ready = True
        if os.environ.get('EMBER_BLAS_THREADS') == 'default':
            return
        self.setter, self.getter = _find_openblas()
        if self.setter is not None:
            self.many = max(1, self.getter())
            self.setter(1)


BLAS = _Blas()


def blas_threads():
    """Threads the BLAS uses for large products (1 for small ones)."""
    if not BLAS.ready:
        BLAS.init()
    return BLAS.many


def set_blas_threads(n):
    """Let large products use ``n`` threads (``torch.set_num_threads``); a BLAS ember cannot steer keeps
    its own count."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise RuntimeError('set_num_threads expects a positive integer')
    if not BLAS.ready:
        BLAS.init()
    if BLAS.setter is not None:
        BLAS.many = n


def gemm(a, b):
    """``a @ b``, on one BLAS thread unless the product is large enough to gain from more."""
    if not BLAS.ready:
        BLAS.init()
    if BLAS.many > 1 and a.ndim >= 2 and b.ndim >= 2 and a.size * b.shape[-1] >= BIG_GEMM:
        BLAS.setter(BLAS.many)
        try:
            return a @ b
        finally:
            BLAS.setter(1)
    return a @ b


def _keep_freed_memory():
    """Let glibc reuse freed large arrays instead of unmapping them and page-faulting fresh pages in on the
    next step (what a caching allocator avoids; it cost a third of LeNet's batch-64 training step)."""
    import sys
    if not sys.platform.startswith('linux'):
        return
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 32 << 20)   # M_MMAP_THRESHOLD: arrays up to 32 MiB come from the reusable heap
        libc.mallopt(-1, 1 << 30)    # M_TRIM_THRESHOLD: keep up to 1 GiB of freed heap for reuse
    except (OSError, AttributeError):
        pass


_keep_freed_memory()
