"""``torch.backends.cuda`` on a CPU-only build: CUDA is not built; the matmul and attention flags are
settable and read back as PyTorch's defaults. The attention flags are the ones ``torch.nn.attention.sdpa_kernel``
sets and ``scaled_dot_product_attention`` checks (off together, math and flash leave no CPU kernel)."""
import contextlib
import functools
import warnings


class _Matmul:
    """``torch.backends.cuda.matmul``: the cuBLAS precision switches."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.allow_fp16_accumulation = False


matmul = _Matmul()
_SDP = {'cudnn': True, 'flash': True, 'mem_efficient': True, 'math': True, 'overrideable': True}


def is_built():
    return False


def flash_sdp_enabled():
    return _SDP['flash']


def mem_efficient_sdp_enabled():
    return _SDP['mem_efficient']


def math_sdp_enabled():
    return _SDP['math']


def cudnn_sdp_enabled():
    return _SDP['cudnn']


def enable_flash_sdp(enabled):
    _SDP['flash'] = bool(enabled)


def enable_mem_efficient_sdp(enabled):
    _SDP['mem_efficient'] = bool(enabled)


def enable_math_sdp(enabled):
    _SDP['math'] = bool(enabled)


def enable_cudnn_sdp(enabled):
    _SDP['cudnn'] = bool(enabled)


def _deprecated(message):
    """A function that warns ``message`` (a FutureWarning) at its caller each time it is called, as PyTorch's
    ``@deprecated`` sdp_kernel does: under ``@contextmanager`` that caller is contextlib's helper, and the warning
    comes when the manager is made, before its block is entered."""
    def wrap(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            warnings.warn(message, FutureWarning, stacklevel=2)
            return fn(*args, **kwargs)
        return wrapper
    return wrap


@contextlib.contextmanager
@_deprecated('`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be removed. '
             'Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with updated signature.')
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """Choose the attention kernels inside a ``with`` block: ``sdpa_kernel`` with the kernels enabled."""
    from ..nn.attention import SDPBackend, sdpa_kernel
    chosen = [backend for backend, on in ((SDPBackend.FLASH_ATTENTION, enable_flash),
                                          (SDPBackend.EFFICIENT_ATTENTION, enable_mem_efficient),
                                          (SDPBackend.MATH, enable_math), (SDPBackend.CUDNN_ATTENTION, enable_cudnn))
              if on]
    with sdpa_kernel(chosen) as context:
        yield context
