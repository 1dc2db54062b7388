"""``torch.__config__``: the build description PyTorch prints, for ember (PyTorch Geometric searches ``show()``
for ``USE_MKL=OFF`` to decide which sparse kernels it may call)."""
import platform


def show():
    """How this build was made, in PyTorch's layout (a header, then ``  - item`` lines): ember on NumPy, without
    MKL, MKL-DNN, OpenMP or CUDA."""
    import numpy
    from .version import _ember_version, _pytorch_api
    return ('PyTorch built with:\n'
            f'  - ember {_ember_version} (the PyTorch {_pytorch_api} API on NumPy {numpy.__version__}, '
            f'Python {platform.python_version()})\n'
            '  - CPU only\n'
            '  - Build settings: BLAS_INFO=numpy, USE_CUDA=OFF, USE_MKL=OFF, USE_MKLDNN=OFF, USE_OPENMP=OFF, '
            'USE_NNPACK=OFF\n')


def parallel_info():
    """The intra-op thread count, in PyTorch's layout."""
    from . import get_num_threads
    return f'ATen/Parallel:\n\tat::get_num_threads() : {get_num_threads()}\n'


def _cxx_flags():
    """The C++ flags of the build: ember has no C++ part."""
    return ''
