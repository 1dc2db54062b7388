"""``ember.vision``: torchvision's datasets, models, transforms and image utilities for ember."""
from ..version import _ember_version, _torchvision_api
from . import datasets, io, models, ops, transforms, tv_tensors, utils

__version__ = f'{_torchvision_api}+ember{_ember_version}'   # torchvision's release for ember's PyTorch API
__all__ = ['__version__', 'datasets', 'io', 'models', 'ops', 'transforms', 'tv_tensors', 'utils']


def _is_tracing():
    """torchvision's check for an active ``torch.jit.trace`` (``torch._C._get_tracing_state()``, None when not
    tracing); DETR's ``nested_tensor_from_tensor_list`` calls it."""
    from .._C import _get_tracing_state
    return _get_tracing_state()
