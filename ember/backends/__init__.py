"""``ember.backends`` (``torch.backends``): the backend switches answer as a CPU-only PyTorch build
answers (no CUDA, cuDNN or MPS); their flags can be set, and do not change ember's NumPy kernels."""
from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp, opt_einsum

__all__ = ['cpu', 'cuda', 'cudnn', 'mkl', 'mkldnn', 'mps', 'openmp', 'opt_einsum']
