"""Linear maps: ``linear`` (one GEMM, recorded as AddmmBackward0 for 2-D input with bias) and ``bilinear``."""
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


def bilinear(input1, input2, weight, bias=None):
    """x1^T A_o x2 + b_o for each output feature o."""
    try:
        if input1.shape[:-1] != input2.shape[:-1]:
            raise RuntimeError(f'bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and '
                               f'{list(input2.shape[:-1])}')
        if weight.dim() != 3 or weight.shape[1] != input1.shape[-1] or weight.shape[2] != input2.shape[-1]:
            raise RuntimeError(f'bilinear(): weight of shape {list(weight.shape)} does not match the inputs '
                               f'({input1.shape[-1]} and {input2.shape[-1]} features)')
        return blas.bilinear(input1, input2, weight, bias)
    except (AttributeError, TypeError):
        check_tensor_args('bilinear', 'input1', 'input2', 'weight', 'bias?')
        raise
