"""``ember.backends`` (``torch.backends``): the backend switches answer as a CPU-only PyTorch build
answers (no CUDA, cuDNN or MPS); their flags can be set, and do not change ember's NumPy kernels."""
from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp, opt_einsum, quantized
from ._flags import _STATE, allow_nonbracketed_mutation as __allow_nonbracketed_mutation

__all__ = ['cpu', 'cuda', 'cudnn', 'mkl', 'mkldnn', 'mps', 'openmp', 'opt_einsum', 'quantized']


def disable_global_flags():
    """Refuse plain assignments to the cuDNN and oneDNN flags from now on (their ``flags()`` blocks still set them)."""
    _STATE['frozen'] = True


def flags_frozen():
    """Whether ``disable_global_flags`` froze the backend flags."""
    return _STATE['frozen']
