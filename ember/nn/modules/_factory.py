"""Shared helpers for layer constructors (PyTorch's ``device``/``dtype`` factory kwargs)."""
import numpy as np

from ..._dtype import DEFAULT, to_np
from ...tensor import Tensor, _check_device
from ..parameter import Parameter


def empty_param(shape, device=None, dtype=None, requires_grad=True):
    """A Parameter of ``shape`` (zeros until initialised) in ``dtype`` (default float dtype) on the CPU."""
    _check_device(device)
    nd = to_np(dtype) or DEFAULT.np
    return Parameter(Tensor._make(np.zeros(shape, nd)), requires_grad)


def buffer(values, device=None, dtype=None):
    """A plain tensor buffer holding ``values`` in ``dtype`` (default float dtype)."""
    _check_device(device)
    nd = to_np(dtype) or DEFAULT.np
    return Tensor._make(np.array(values, dtype=nd))
