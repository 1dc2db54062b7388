"""``ember.vision``: torchvision's datasets, transforms and image utilities for ember."""
from . import datasets, transforms, utils

__all__ = ['datasets', 'transforms', 'utils']
