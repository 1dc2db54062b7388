"""``torch.backends.cuda`` on a CPU-only build: CUDA is not built; the matmul and attention flags are
settable and read back as PyTorch's defaults."""
import contextlib


class _Matmul:
    """``torch.backends.cuda.matmul``: the cuBLAS precision switches."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.allow_fp16_accumulation = False


matmul = _Matmul()
_SDP = {'flash': True, 'mem_efficient': True, 'math': True, 'cudnn': True}


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


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """Choose the attention kernels inside a ``with`` block (ember has one, the math kernel)."""
    previous = dict(_SDP)
    _SDP.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient, cudnn=enable_cudnn)
    try:
        yield
    finally:
        _SDP.update(previous)
