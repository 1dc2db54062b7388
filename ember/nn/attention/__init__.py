"""``torch.nn.attention``: ``SDPBackend`` and the ``sdpa_kernel`` context manager that restricts which
kernels ``scaled_dot_product_attention`` may use. On a CPU, PyTorch runs the math and flash kernels; a
choice that leaves neither raises PyTorch's error, and ember's one kernel stands for both."""
import contextlib
import enum

__all__ = ['SDPBackend', 'sdpa_kernel']


class SDPBackend(enum.IntEnum):
    """The attention kernels, numbered as PyTorch numbers them."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    __str__ = enum.Enum.__str__


_CPU_KERNELS = frozenset({SDPBackend.MATH, SDPBackend.FLASH_ATTENTION})
_allowed = set(SDPBackend) - {SDPBackend.ERROR}


def check_backend():
    """Raise PyTorch's error when the backends allowed now include no CPU kernel."""
    if not _CPU_KERNELS & _allowed:
        raise RuntimeError('No viable backend for scaled_dot_product_attention was found. This is likely due to '
                           'turning off both the math kernel and the fused kernels.')


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Within the block, ``scaled_dot_product_attention`` may use only ``backends`` (one or a list)."""
    chosen = [backends] if isinstance(backends, SDPBackend) else list(backends)
    for b in chosen:
        if not isinstance(b, SDPBackend):
            raise AssertionError('Backend must be an instance of SDPBackend')
    global _allowed
    saved, _allowed = _allowed, set(chosen)
    try:
        yield
    finally:
        _allowed = saved
