"""``ember.nn.parallel`` (``torch.nn.parallel``): ``DataParallel`` as PyTorch runs it without GPUs, and
``DistributedDataParallel`` over ``ember.distributed``'s process groups; ``scatter``/``gather``/``replicate``/
``parallel_apply`` as PyTorch runs them with no GPU."""
from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel
from .parallel_apply import parallel_apply
from .replicate import replicate
from .scatter_gather import gather, scatter

__all__ = ['replicate', 'scatter', 'parallel_apply', 'gather', 'data_parallel', 'DataParallel',
           'DistributedDataParallel']
