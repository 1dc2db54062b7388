"""``ember.cuda.nvtx``: NVIDIA's profiler ranges. A CPU-only PyTorch has the names (asdl imports them) and
fails when one is called; ember does the same."""
from contextlib import contextmanager

__all__ = ['range_push', 'range_pop', 'range_start', 'range_end', 'mark', 'range']

_NOT_INSTALLED = 'NVTX functions not installed. Are you sure you have a CUDA build?'


def _fail(*args, **kwargs):
    """Every NVTX call of a CPU-only build raises this RuntimeError."""
    raise RuntimeError(_NOT_INSTALLED)


def range_push(msg):
    """Push a named range (CUDA only)."""
    _fail()


def range_pop():
    """Pop the innermost range (CUDA only)."""
    _fail()


def range_start(msg) -> int:
    """Start a range that may end on another thread (CUDA only)."""
    _fail()


def range_end(range_id) -> None:
    """End a range started by ``range_start`` (CUDA only)."""
    _fail()


def mark(msg):
    """Mark an instant event (CUDA only)."""
    _fail()


@contextmanager
def range(msg, *args, **kwargs):
    """A range around a block (CUDA only): entering it fails."""
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()
