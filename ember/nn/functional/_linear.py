"""Linear maps: ``linear`` (one GEMM, recorded as AddmmBackward0 for 2-D input with bias) and ``bilinear``
(ops.blas's)."""
from ...ops import blas
from ...ops._util import check_tensor_args

__all__ = ['linear', 'bilinear']


def linear(input, weight, bias=None):
    """input @ weight.T + bias."""
    try:
        return blas.linear(input, weight, bias)
    except (AttributeError, TypeError):
        check_tensor_args('linear', 'input', 'weight', 'bias?')
        raise


bilinear = blas.bilinear   # (the function torch.bilinear is: PyTorch's F.bilinear is torch.bilinear)
