"""``ember.nn.parallel`` (``torch.nn.parallel``): ``DataParallel`` as PyTorch runs it without GPUs, and
``DistributedDataParallel`` over ``ember.distributed``'s process groups."""
from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ['DataParallel', 'DistributedDataParallel', 'data_parallel']
