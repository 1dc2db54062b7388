"""Samplers: iterables over dataset indices (sequential, shuffled, weighted) and ``BatchSampler``,
which groups them into index lists."""
import itertools

import numpy as np

from ..._torch_names import object_repr

__all__ = ['BatchSampler', 'RandomSampler', 'Sampler', 'SequentialSampler', 'SubsetRandomSampler',
           'WeightedRandomSampler']


def _ember():
    import ember
    return ember


def _draw_seed(generator=None):
    """A non-negative 63-bit seed drawn from ``generator`` (the default one if None), as torch's
    ``torch.empty((), dtype=torch.int64).random_(generator=g).item()`` draws one."""
    ember = _ember()
    return int(ember.empty((), dtype=ember.int64).random_(generator=generator).item())


class Sampler:
    """Base class: an iterable of indices (or index lists) into a dataset. It takes no arguments, as PyTorch
    2.13's (``Sampler(data_source)`` raises TypeError there)."""

    def __iter__(self):
        raise NotImplementedError

    def __class_getitem__(cls, item):
        return cls

    __repr__ = object_repr      # <torch.utils.data.sampler.RandomSampler object at ...>, as PyTorch prints


class SequentialSampler(Sampler):
    """Indices ``0 .. len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Shuffled indices: a fresh permutation per epoch, or ``num_samples`` draws with replacement."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f'replacement should be a boolean value, but got replacement={self.replacement}')
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f'num_samples should be a positive integer value, but got '
                             f'num_samples={self.num_samples}')

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _generator(self):
        """The user's generator, or a fresh one seeded from the default generator (one draw per epoch)."""
        if self.generator is not None:
            return self.generator
        return _ember().Generator().manual_seed(_draw_seed())

    def __iter__(self):
        n = len(self.data_source)
        g = self._generator()
        ember = _ember()
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from ember.randint(0, n, (32,), dtype=ember.int64, generator=g).tolist()
            yield from ember.randint(0, n, (self.num_samples % 32,), dtype=ember.int64, generator=g).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from ember.randperm(n, generator=g).tolist()
        yield from ember.randperm(n, generator=g).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in random order, without replacement."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in _ember().randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f'num_samples should be a positive integer value, but got num_samples={num_samples}')
        if not isinstance(replacement, bool):
            raise ValueError(f'replacement should be a boolean value, but got replacement={replacement}')
        ember = _ember()
        weights = ember.as_tensor(weights, dtype=ember.float64)
        if len(weights.shape) != 1:
            raise ValueError(f'weights should be a 1d sequence but given weights have shape '
                             f'{tuple(weights.shape)}')
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        ember = _ember()
        if hasattr(ember, 'multinomial'):
            drawn = ember.multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
            yield from drawn.tolist()
            return
        yield from _numpy_multinomial(self.weights._data, self.num_samples, self.replacement,
                                      _draw_seed(self.generator))

    def __len__(self):
        return self.num_samples


def _numpy_multinomial(weights, n, replacement, seed):
    """Weighted sampling with NumPy (used only when the core has no ``multinomial``)."""
    if not replacement and n > weights.size:
        raise RuntimeError('cannot sample n_sample > prob_dist.size(-1) samples without replacement')
    rng = np.random.default_rng(seed)
    return rng.choice(weights.size, n, replace=replacement, p=weights / weights.sum()).tolist()


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the short tail kept unless
    ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f'batch_size should be a positive integer value, but got batch_size={batch_size}')
        if not isinstance(drop_last, bool):
            raise ValueError(f'drop_last should be a boolean value, but got drop_last={drop_last}')
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        it = iter(self.sampler)
        if self.drop_last:
            yield from (list(b) for b in zip(*[it] * self.batch_size))
            return
        batch = list(itertools.islice(it, self.batch_size))
        while batch:
            yield batch
            batch = list(itertools.islice(it, self.batch_size))

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
