"""``torch.functional``: the tensor functions PyTorch writes in Python (einsum, split, norm, meshgrid, unique...),
the same objects as ``torch.<name>``. The YouTube introduction's "Building Models" does ``import
torch.functional as F``; the ones ember lacks (stft, istft, lu, the low-rank factorizations) fail by name."""
import functools as _functools

from . import aliasing as _aliasing
from . import (atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_tensors, cartesian_prod, block_diag,
               cdist, chain_matmul, einsum, norm, meshgrid, split, tensordot, unique, unique_consecutive,
               unravel_index)

__all__ = ['atleast_1d', 'atleast_2d', 'atleast_3d', 'broadcast_shapes', 'broadcast_tensors', 'cartesian_prod',
           'block_diag', 'cdist', 'chain_matmul', 'einsum', 'norm', 'meshgrid', 'split', 'tensordot', 'unique',
           'unique_consecutive', 'unravel_index']

__getattr__ = _functools.partial(_aliasing.module_getattr, __name__)
