"""Shared helpers for layer constructors (PyTorch's ``device``/``dtype`` factory kwargs)."""
import math

import numpy as np

from ..._dtype import DEFAULT, to_np
from ..._meta import placeholder
from ...ops._util import shape_arg
from ...tensor import Tensor, _check_device
from ..parameter import Parameter


def empty_param(shape, device=None, dtype=None, requires_grad=True):
    """A Parameter of ``shape`` (zeros until initialised) in ``dtype`` (default float dtype), on the CPU or on the
    meta device (``device``, else the default device)."""
    meta = _check_device(device)
    nd = to_np(dtype) or DEFAULT.np
    shape = shape_arg((shape,), 'empty')    # a float size (``out_planes / 4``) fails as torch.empty's does
    if any(d < 0 for d in shape):   # PyTorch's torch.empty refuses it so (NumPy would raise ValueError)
        raise RuntimeError(f'Trying to create tensor with negative dimension {min(shape)}: {list(shape)}')
    return Parameter(Tensor._make((placeholder if meta else np.zeros)(shape, nd)), requires_grad)


def buffer(values, device=None, dtype=None):
    """A plain tensor buffer holding ``values`` in ``dtype`` (default float dtype); a meta tensor of their shape on
    the meta device."""
    meta = _check_device(device)
    nd = to_np(dtype) or DEFAULT.np
    arr = np.array(values, dtype=nd)
    return Tensor._make(placeholder(arr.shape, nd) if meta else arr)


def reset_fan_in(weight, bias):
    """PyTorch's default for Linear and Conv: kaiming_uniform_(a=sqrt(5)) for the weight, and
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias."""
    from .. import init
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)
