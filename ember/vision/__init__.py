"""``ember.vision``: torchvision's datasets, models, transforms and image utilities for ember."""
from .. import __version__
from . import datasets, io, models, ops, transforms, utils

__all__ = ['__version__', 'datasets', 'io', 'models', 'ops', 'transforms', 'utils']
