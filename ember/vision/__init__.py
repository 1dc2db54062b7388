"""``ember.vision``: torchvision's datasets, models, transforms and image utilities for ember."""
from . import datasets, io, models, ops, transforms, utils

__all__ = ['datasets', 'io', 'models', 'ops', 'transforms', 'utils']
