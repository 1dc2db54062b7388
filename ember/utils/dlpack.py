"""``ember.utils.dlpack`` (``torch.utils.dlpack``): exchange tensors with NumPy, PyTorch and any other
DLPack library without copying (ember's arrays are NumPy's, which speak DLPack)."""
import enum

import numpy as np

__all__ = ['DLDeviceType', 'to_dlpack', 'from_dlpack']


class DLDeviceType(enum.IntEnum):
    """DLPack's device codes (ember's tensors are all ``kDLCPU``)."""
    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLExtDev = 12
    kDLOneAPI = 14


def to_dlpack(tensor):
    """A DLPack capsule of ``tensor`` (shares its memory; can be consumed once)."""
    return tensor.__dlpack__()


class _Capsule:
    """Gives a bare DLPack capsule the protocol NumPy's ``from_dlpack`` reads."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return DLDeviceType.kDLCPU, 0


def from_dlpack(ext_tensor):
    """A tensor sharing memory with ``ext_tensor``: an object with ``__dlpack__`` (a NumPy array, a PyTorch
    tensor...) or a DLPack capsule on the CPU."""
    from ..tensor import Tensor
    from .._dtype import from_np
    if not hasattr(ext_tensor, '__dlpack__') and type(ext_tensor).__name__ != 'PyCapsule':
        raise RuntimeError(f'from_dlpack received an invalid capsule: a {type(ext_tensor).__name__}, not a DLPack '
                           'capsule or an object with __dlpack__ (a tensor, a NumPy array)')
    source = ext_tensor if hasattr(ext_tensor, '__dlpack__') else _Capsule(ext_tensor)
    device = source.__dlpack_device__()
    if device[0] != DLDeviceType.kDLCPU:
        raise RuntimeError(f'from_dlpack: ember tensors live on the CPU, but the DLPack tensor is on device '
                           f'{device} (copy it to the CPU first)')
    arr = np.from_dlpack(source)
    from_np(arr.dtype)
    return Tensor._make(arr)
