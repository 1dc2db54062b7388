"""``ember.vision``: torchvision's datasets, models, transforms and image utilities for ember."""
from . import datasets, models, ops, transforms, utils

__all__ = ['datasets', 'models', 'ops', 'transforms', 'utils']
