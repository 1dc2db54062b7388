"""What ``torch.has_mkl`` and kin, ``compiled_with_cxx11_abi``, ``is_vulkan_available`` say about the build, and
the small runtime helpers PyTorch keeps beside them (``init_num_threads``, ``get_file_path``, ``is_distributed``,
``fork``/``wait``, ``to_dlpack``). The flags agree with ``torch.backends`` and ``torch.__config__.show()``:
ember's BLAS and LAPACK are NumPy's, its FFTs NumPy's, and it has no MKL, OpenMP or Vulkan."""
import os

has_mkl = False        # (torch.backends.mkl.is_available())
has_lapack = True      # NumPy's LAPACK serves torch.linalg
has_openmp = False     # (torch.backends.openmp.is_available())
has_spectral = True    # torch.fft runs on NumPy's FFT


def is_vulkan_available():
    """False: ember runs on the CPU only."""
    return False


def compiled_with_cxx11_abi():
    """True, as PyTorch's wheels answer: code that builds C++ extensions picks its ABI flag from it."""
    return True


def init_num_threads():
    """Nothing to do: ember's thread count (set_num_threads) is one setting for every thread."""
    return None


def get_file_path(*path_components):
    """A path under the directory holding the ember package, as PyTorch's under the one holding torch."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), *path_components)


def cudnn_is_acceptable(input):
    """False: cuDNN takes no CPU tensor (PyTorch's answer for every tensor of its CPU build)."""
    from .tensor import Tensor
    if not isinstance(input, Tensor):
        from .ops._util import arg_error
        raise arg_error('cudnn_is_acceptable', 'input', 1, input)
    return False


def is_distributed(input):
    """False: ember's tensors are never distributed (PyTorch's answer for every CPU tensor)."""
    from .tensor import Tensor
    if not isinstance(input, Tensor):
        from .ops._util import arg_error
        raise arg_error('is_distributed', 'input', 1, input)
    return False


def fork(func, *args, **kwargs):
    """``torch.fork``: run ``func`` now (ember has no TorchScript interpreter to run it asynchronously) and return a
    ``torch.Future`` holding its result, which ``wait`` reads. Unlike ``torch.jit.fork`` it does not warn."""
    from .futures import Future
    fut = Future()
    fut.set_result(func(*args, **kwargs))
    return fut


def wait(future):
    """The value of a ``fork``'s ``Future``."""
    from .futures import Future
    if not isinstance(future, Future):
        raise TypeError('wait(): incompatible function arguments. The following argument types are supported:\n'
                        f'    1. (arg0: torch._C.Future) -> object\n\nInvoked with: {future!r}')
    return future.wait()


def to_dlpack(tensor):
    """``torch.to_dlpack``: a DLPack capsule of ``tensor`` (see ember.utils.dlpack)."""
    from .utils.dlpack import to_dlpack as _to_dlpack
    return _to_dlpack(tensor)
