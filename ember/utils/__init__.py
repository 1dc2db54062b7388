"""Utilities (``torch.utils``): data loading in ``ember.utils.data``, DLPack exchange in ``ember.utils.dlpack``."""
from . import data, dlpack

__all__ = ['data', 'dlpack']
