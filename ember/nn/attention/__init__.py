"""``torch.nn.attention``: ``SDPBackend`` and the ``sdpa_kernel`` context manager that restricts which
kernels ``scaled_dot_product_attention`` may use. On a CPU, PyTorch runs the math and flash kernels; a
choice that leaves neither raises PyTorch's error, and ember's one kernel stands for both."""
import contextlib
import enum

from ...backends.cuda import _SDP

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


# the flag (torch.backends.cuda's ``<name>_sdp_enabled``) of each backend that has one
_FLAGS = {'cudnn': SDPBackend.CUDNN_ATTENTION, 'flash': SDPBackend.FLASH_ATTENTION,
          'mem_efficient': SDPBackend.EFFICIENT_ATTENTION, 'math': SDPBackend.MATH,
          'overrideable': SDPBackend.OVERRIDEABLE}


def check_backend():
    """Raise PyTorch's error when the backends allowed now include no CPU kernel (math or flash)."""
    if not (_SDP['math'] or _SDP['flash']):
        raise RuntimeError('No viable backend for scaled_dot_product_attention was found. This is likely due to '
                           'turning off both the math kernel and the fused kernels.')


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Within the block, ``scaled_dot_product_attention`` may use only ``backends`` (one or a list): the
    backends' flags are set (and read back by torch.backends.cuda), then restored. ``set_priority`` orders kernels
    PyTorch chooses among; ember's one kernel stands for all of them."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError('Backend must be an instance of SDPBackend or a list of SDPBackend instances, '
                             f'got {type(backends).__name__}')
    chosen = [backends] if isinstance(backends, SDPBackend) else backends
    previous = dict(_SDP)
    try:
        # by identity: PyTorch's SDPBackend members (a pybind enum) are not equal to ints, so [1] enables nothing
        _SDP.update({name: any(b is backend for b in chosen) for name, backend in _FLAGS.items()})
        yield {}
    finally:
        _SDP.update(previous)
