"""``torch.functional``: the tensor functions PyTorch writes in Python (einsum, split, norm, meshgrid, unique...),
the same objects as ``torch.<name>``. The YouTube introduction's "Building Models" does ``import
torch.functional as F``; the ones ember lacks (stft, istft, lu, the low-rank factorizations) fail by name."""

import sys as _sys

from . import aliasing as _aliasing

__all__ = ['atleast_1d', 'atleast_2d', 'atleast_3d', 'broadcast_shapes', 'broadcast_tensors', 'cartesian_prod',
           'block_diag', 'cdist', 'chain_matmul', 'einsum', 'norm', 'meshgrid', 'split', 'tensordot', 'unique',
           'unique_consecutive', 'unravel_index']



def __getattr__(name):
    """Each name is ``ember.<name>`` as it is now (importing ember.fx or ember.overrides rewraps those, and
    ``torch.functional.norm is torch.norm`` must still hold); the names ember lacks fail by name."""
    if name in __all__:
        return getattr(_sys.modules[__name__.rpartition('.')[0]], name)
    return _aliasing.module_getattr(__name__, name)


def __dir__():
    return sorted(set(globals()) | set(__all__))
