"""``torch.optim.adamw``: AdamW and its functional form (both in ``adam``, AdamW being Adam with decoupled weight
decay)."""
from .adam import AdamW, adamw

__all__ = ['AdamW', 'adamw']
