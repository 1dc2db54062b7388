"""The array library behind ember: every op reaches NumPy through ``xp`` so that a CuPy backend can
replace it later without touching op code (Chainer's approach)."""
import numpy as xp

__all__ = ['xp']


def _keep_freed_memory():
    """Let glibc reuse freed large arrays instead of unmapping them and page-faulting fresh pages in on the
    next step (what a caching allocator avoids; it cost a third of a conv net's training step)."""
    import ctypes
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
