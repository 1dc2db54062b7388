"""``ember.vision``: torchvision's datasets, models, transforms and image utilities for ember."""
from ..version import _ember_version, _torchvision_api
from . import datasets, io, models, ops, transforms, tv_tensors, utils

__version__ = f'{_torchvision_api}+ember{_ember_version}'   # torchvision's release for ember's PyTorch API
__all__ = ['__version__', 'datasets', 'io', 'models', 'ops', 'transforms', 'tv_tensors', 'utils']
