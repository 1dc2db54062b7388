"""``torch.distributed.nn``: the differentiable collectives of ``functional``, also under this package's name."""
from .functional import all_gather, all_reduce, broadcast

__all__ = ['all_gather', 'all_reduce', 'broadcast']
