"""``DistributedSampler``: each process of a group reads its own share of the dataset, in PyTorch's
order (a ``randperm`` seeded ``seed + epoch``, padded by repeating indices, then strided by rank)."""
import math

from .sampler import Sampler

__all__ = ['DistributedSampler']


def _group_value(getter):
    """``num_replicas`` or ``rank`` from the default process group, as PyTorch reads them."""
    from ... import distributed as dist
    if not dist.is_available():
        raise RuntimeError('Requires distributed package to be available')
    return getter(dist)


class DistributedSampler(Sampler):
    """The indices of ``dataset`` for process ``rank`` of ``num_replicas`` (default: the process group's)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            num_replicas = _group_value(lambda dist: dist.get_world_size())
        if rank is None:
            rank = _group_value(lambda dist: dist.get_rank())
        if rank >= num_replicas or rank < 0:
            raise ValueError(f'Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]')
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _all_indices(self):
        """Every process's indices before striding: the epoch's permutation, padded or cut to total_size."""
        n = len(self.dataset)
        if self.shuffle:
            import ember
            g = ember.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = ember.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            return indices[:self.total_size]
        padding = self.total_size - n
        if padding <= n:
            return indices + indices[:padding]
        return indices + (indices * math.ceil(padding / n))[:padding]

    def __iter__(self):
        return iter(self._all_indices()[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch, which seeds the next shuffle (call it before each epoch's iterator)."""
        self.epoch = epoch
