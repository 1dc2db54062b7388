"""The registry's entries for data loading and images: ``torch.utils.data`` (samplers, datasets, collation, the
``DataLoader``) and torchvision's ``datasets``, ``transforms`` and ``utils``, as data (no torch import:
tools/supported.py reads them). tests/test_registry_data.py runs them against PyTorch 2.13 and torchvision 0.28.

Every entry is a ``Call``: each ``Case``'s ``fn(L)`` returns what is compared (tensors, numbers, strings, PIL
images, lists and dicts of them). ``L`` is one library's view: ``L.torch`` (``torch`` or ``ember``), ``L.data``
(``torch.utils.data``), ``L.T`` / ``L.F`` (transforms and transforms.functional), ``L.datasets``, ``L.vutils``
(torchvision.utils), ``L.tmp`` (an empty directory of its own) and ``L.mod(name)`` (the submodule ``name`` of
``L.data`` / ``L.datasets`` / ``L.T``, e.g. ``'data.sampler'``).
"""
import numpy as np

import registry_training
from registry_training import Case


class Call(registry_training.Call):
    """One public name ``full`` (e.g. ``torch.utils.data.RandomSampler``) checked through ``cases``. ``seed``: each
    case runs right after ``manual_seed(seed)`` in its library; values compare bit for bit, but for ``atol`` on
    float tensors and ``u8_atol`` on uint8 ones (a resize's float sums may round a pixel the other way)."""

    def __init__(self, full, cases, seed=0, atol=0.0, u8_atol=0, gaps=None):
        self.full, self.cases, self.seed, self.gaps = full, list(cases), seed, dict(gaps or {})
        self.atol, self.u8_atol = atol, u8_atol

    @property
    def id(self):
        return self.full

    def names(self):
        return {self.full: self.checks()}


def D(name, cases, **kw):
    return Call(f'torch.utils.data.{name}', cases, **kw)


def V(name, cases, **kw):
    return Call(f'torchvision.{name}', cases, **kw)


# -- shared inputs ---------------------------------------------------------------------------------------------
def arange_ds(L, n=10):
    """A map-style dataset of n items (index, index squared as a tensor)."""
    class Squares(L.data.Dataset):
        def __getitem__(self, i):
            if not 0 <= i < n:
                raise IndexError(i)
            return i, L.torch.tensor([i * i, i], dtype=L.torch.float32)

        def __len__(self):
            return n
    return Squares()


def counting(L, n=7, with_len=True):
    """An iterable dataset of n integers, sharded over the DataLoader's workers by get_worker_info."""
    class Count(L.data.IterableDataset):
        def __iter__(self):
            info = L.data.get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter(range(start, n, step))

    class CountLen(Count):
        def __len__(self):
            return n
    return CountLen() if with_len else Count()


def tds(L, n=6):
    """A TensorDataset of float features (n, 2) and int64 labels (n,)."""
    x = np.arange(2 * n, dtype=np.float32).reshape(n, 2) / 3
    return L.data.TensorDataset(L.torch.tensor(x), L.torch.tensor(np.arange(n) % 3))


def take(it, k=None):
    """The first k items of an iterable (all without k), as a list: samplers and loaders are compared so."""
    out = []
    for i, v in enumerate(it):
        if k is not None and i >= k:
            break
        out.append(v)
    return out


def gen(L, seed=7):
    g = L.torch.Generator()
    g.manual_seed(seed)
    return g


def epochs(sampler, n=2):
    """Two passes over a sampler: a random one must draw new indices each pass, as PyTorch's does."""
    return [list(sampler) for _ in range(n)]


def identical(L, sub, top, names):
    """For each name: the submodule has it and it is the same object as the package's name (or not, as in
    PyTorch), and its kind (class, function, module, other)."""
    s, t = L.mod(sub), L.mod(top)
    out = []
    for n in names:
        obj = getattr(s, n)
        kind = 'class' if isinstance(obj, type) else 'function' if callable(obj) else type(obj).__name__
        out.append((n, kind, obj is getattr(t, n, None)))
    return out


# -- torch.utils.data: samplers --------------------------------------------------------------------------------
W = [0.1, 0.0, 2.0, 0.5, 1.0, 3.0]

DATA = [
    D('Sampler', [
        Case('subclass iter', lambda L: list(type('Evens', (L.data.Sampler,), {
            '__iter__': lambda self: iter(range(0, 8, 2)), '__len__': lambda self: 4})())),
        Case('takes no data_source', lambda L: type('S', (L.data.Sampler,), {
            '__iter__': lambda self: iter([3, 1])})(range(3)), error=True),
        Case('base iter', lambda L: iter(L.data.Sampler()), error=True),
        Case('generic alias', lambda L: L.data.Sampler[int] is not None),
    ]),
    D('SequentialSampler', [
        Case('list and len', lambda L: (list(L.data.SequentialSampler(range(5))),
                                        len(L.data.SequentialSampler('abc')))),
        Case('dataset', lambda L: list(L.data.SequentialSampler(arange_ds(L, 4)))),
        Case('no len', lambda L: list(L.data.SequentialSampler(3)), error=True),
    ]),
    D('RandomSampler', [
        Case('no replacement', lambda L: epochs(L.data.RandomSampler(range(10)))),
        Case('replacement', lambda L: epochs(L.data.RandomSampler(range(10), replacement=True))),
        Case('replacement num_samples', lambda L: list(L.data.RandomSampler(range(5), True, num_samples=12))),
        Case('num_samples over n', lambda L: list(L.data.RandomSampler(range(5), num_samples=13))),
        Case('num_samples under n', lambda L: list(L.data.RandomSampler(range(9), num_samples=4))),
        Case('generator', lambda L: epochs(L.data.RandomSampler(range(9), generator=gen(L)))),
        Case('generator replacement', lambda L: list(L.data.RandomSampler(range(9), True, 6, generator=gen(L, 3)))),
        Case('len', lambda L: (len(L.data.RandomSampler(range(9))), len(L.data.RandomSampler(range(9), num_samples=4)),
                               L.data.RandomSampler(range(3), True, 20).num_samples)),
        Case('large n', lambda L: list(L.data.RandomSampler(range(70000), num_samples=10))),
        Case('empty dataset', lambda L: L.data.RandomSampler([]), error=True),
        Case('replacement 70 of 3', lambda L: list(L.data.RandomSampler(range(3), replacement=True, num_samples=70))),
        Case('generator 20', lambda L: [list(L.data.RandomSampler(range(20), generator=gen(L, 3))) for _ in range(2)]),
        Case('num_samples 0', lambda L: L.data.RandomSampler(range(5), num_samples=0), error=True),
        Case('num_samples negative', lambda L: L.data.RandomSampler(range(4), num_samples=-1), error=True),
        Case('num_samples float', lambda L: L.data.RandomSampler(range(5), num_samples=2.5), error=True),
        Case('replacement not bool', lambda L: L.data.RandomSampler(range(5), replacement=1), error=True),
    ]),
    D('SubsetRandomSampler', [
        Case('permutes indices', lambda L: epochs(L.data.SubsetRandomSampler([10, 4, 7, 1, 8]))),
        Case('generator and len', lambda L: (list(L.data.SubsetRandomSampler(range(3, 9), generator=gen(L))),
                                             len(L.data.SubsetRandomSampler([5, 6, 7])))),
        Case('no len', lambda L: list(L.data.SubsetRandomSampler(3)), error=True),
    ]),
    D('WeightedRandomSampler', [
        Case('replacement', lambda L: epochs(L.data.WeightedRandomSampler(W, 10))),
        Case('no replacement', lambda L: list(L.data.WeightedRandomSampler(W, 5, replacement=False))),
        Case('tensor weights', lambda L: list(L.data.WeightedRandomSampler(
            L.torch.tensor(W, dtype=L.torch.float64), 8))),
        Case('200 draws with a zero weight', lambda L: list(L.data.WeightedRandomSampler([0.0, 1.0, 3.0], 200))),
        Case('equal weights without replacement', lambda L: list(L.data.WeightedRandomSampler([1, 1, 1, 1], 4, False))),
        Case('num_samples bool', lambda L: L.data.WeightedRandomSampler([1.0, 2.0], True), error=True),
        Case('generator and len', lambda L: (list(L.data.WeightedRandomSampler(W, 7, generator=gen(L))),
                                             len(L.data.WeightedRandomSampler(W, 7)))),
        Case('num_samples 0', lambda L: L.data.WeightedRandomSampler(W, 0), error=True),
        Case('replacement not bool', lambda L: L.data.WeightedRandomSampler(W, 3, replacement=0), error=True),
        Case('weights 2-d', lambda L: L.data.WeightedRandomSampler([[1.0, 2.0]], 3), error=True),
        Case('all zero weights', lambda L: list(L.data.WeightedRandomSampler([0.0, 0.0], 2)), error=True),
        Case('negative weight', lambda L: list(L.data.WeightedRandomSampler([1.0, -1.0], 2)), error=True),
        Case('too many without replacement', lambda L: list(L.data.WeightedRandomSampler(W, 9, replacement=False)),
             error=True),
    ]),
    D('BatchSampler', [Case(f'sequential n={n} bs={bs} drop_last={drop}', lambda L, n=n, bs=bs, drop=drop: (
        list(L.data.SequentialSampler(range(n))), len(L.data.SequentialSampler(range(n))),
        list(L.data.BatchSampler(L.data.SequentialSampler(range(n)), bs, drop)),
        len(L.data.BatchSampler(L.data.SequentialSampler(range(n)), bs, drop))))
        for n, bs, drop in ((10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (2, 5, True),
                            (0, 2, False))] + [
        Case('keep last', lambda L: (list(L.data.BatchSampler(range(10), 3, False)),
                                     len(L.data.BatchSampler(range(10), 3, False)))),
        Case('drop last', lambda L: (list(L.data.BatchSampler(range(10), 3, True)),
                                     len(L.data.BatchSampler(range(10), 3, True)))),
        Case('of a random sampler', lambda L: list(L.data.BatchSampler(L.data.RandomSampler(range(7)), 2, False))),
        Case('batch_size 0', lambda L: L.data.BatchSampler(range(4), 0, False), error=True),
        Case('batch_size bool', lambda L: L.data.BatchSampler(range(4), True, False), error=True),
        Case('drop_last not bool', lambda L: L.data.BatchSampler(range(4), 2, 1), error=True),
        Case('batch_size negative', lambda L: L.data.BatchSampler(range(4), -1, False), error=True),
        Case('batch_size float', lambda L: L.data.BatchSampler(range(4), 2.0, False), error=True),
        Case('drop_last None', lambda L: L.data.BatchSampler(range(4), 2, None), error=True),
    ]),
    D('DistributedSampler', [
        Case('ranks shuffle', lambda L: [list(L.data.DistributedSampler(range(10), 3, r)) for r in range(3)]),
        Case('ranks no shuffle', lambda L: [list(L.data.DistributedSampler(range(10), 3, r, shuffle=False))
                                            for r in range(3)]),
        Case('drop_last', lambda L: [(list(s), len(s)) for s in (L.data.DistributedSampler(range(10), 3, r,
                                     drop_last=True) for r in range(3))]),
        Case('seed and set_epoch', lambda L: [list(s) for s in _epoch_sampler(L)]),
        *[Case(f'n={n} replicas={r}', lambda L, n=n, r=r: _distributed_all(L, n, r))
          for n, r in ((10, 3), (9, 3), (2, 5), (7, 2), (0, 2))],
        Case('rank out of range', lambda L: L.data.DistributedSampler(range(10), 3, 3), error=True),
        Case('no process group', lambda L: L.data.DistributedSampler(range(4)), error=True),
        Case('no process group for the rank', lambda L: L.data.DistributedSampler(range(4), num_replicas=2),
             error=True),
        Case('negative rank', lambda L: L.data.DistributedSampler(range(10), 2, -1), error=True),
    ]),
]


def _distributed_all(L, n, replicas):
    """Every rank's indices and length, for each option set, at epochs 0 and 3."""
    out = []
    for kw in ({}, {'shuffle': False}, {'drop_last': True}, {'seed': 7, 'drop_last': True}):
        for rank in range(replicas):
            s = L.data.DistributedSampler(range(n), num_replicas=replicas, rank=rank, **kw)
            for epoch in (0, 3):
                s.set_epoch(epoch)
                out.append((list(s), len(s)))
    return out


def _epoch_sampler(L):
    s = L.data.DistributedSampler(range(11), num_replicas=2, rank=1, seed=5)
    out = [list(s)]
    s.set_epoch(3)
    return out + [list(s), list(s)]


# -- torch.utils.data: datasets --------------------------------------------------------------------------------
def _concat_add(L):
    """``+`` of two TensorDatasets: the type, sizes, items at both ends and across the seam, a Subset of it."""
    d = L.data.TensorDataset(L.torch.arange(4)) + L.data.TensorDataset(L.torch.arange(10, 13))
    s = L.data.Subset(d, [6, 0, 2])
    return (type(d).__name__, len(d), d.cumulative_sizes, [d[i] for i in (0, 3, 4, 6, -1, -7)], len(s),
            [s[i] for i in range(3)], s.__getitems__([0, 1]))


def _mappings(L):
    import collections
    od = [collections.OrderedDict(a=i, b=[i, 2.0]) for i in range(2)]
    dd = [collections.defaultdict(list, x=np.float32(i)) for i in range(2)]
    out = L.data.default_collate(od), L.data.default_collate(dd)
    return [(type(o).__name__, dict(o)) for o in out]


def _short(L):
    """A dataset whose ``__getitems__`` returns one sample too few."""
    class Short(L.data.Dataset):
        def __getitem__(self, i):
            return i

        def __getitems__(self, indices):
            return indices[:-1]

        def __len__(self):
            return 3
    return Short()


def _ds_items(ds):
    return [ds[i] for i in range(len(ds))]


DATA += [
    D('Dataset', [
        Case('add makes ConcatDataset', lambda L: (type(arange_ds(L, 2) + arange_ds(L, 3)).__name__,
                                                    len(arange_ds(L, 2) + arange_ds(L, 3)))),
        Case('getitem not implemented', lambda L: L.data.Dataset()[0], error=True),
        Case('generic alias', lambda L: L.data.Dataset[int] is not None),
    ]),
    D('TensorDataset', [
        Case('items and len', lambda L: (_ds_items(tds(L)), len(tds(L)))),
        Case('tensors attribute', lambda L: tds(L, 3).tensors),
        Case('negative index', lambda L: tds(L)[-1]),
        Case('tensor and slice index', lambda L: (tds(L)[L.torch.tensor([4, 1])], tds(L)[1:5:2])),
        Case('size mismatch', lambda L: L.data.TensorDataset(L.torch.zeros(3), L.torch.zeros(4)), error=True),
        Case('index out of range', lambda L: tds(L)[6], error=True),
    ]),
    D('StackDataset', [
        Case('tuple', lambda L: _ds_items(L.data.StackDataset(tds(L, 3), arange_ds(L, 3)))),
        Case('dict', lambda L: (_ds_items(L.data.StackDataset(a=tds(L, 2), b=arange_ds(L, 2))),
                                len(L.data.StackDataset(a=tds(L, 2), b=arange_ds(L, 2))))),
        Case('getitems', lambda L: L.data.StackDataset(tds(L, 4), L.data.Subset(tds(L), [5, 4, 3, 2])).__getitems__(
            [3, 0])),
        Case('getitems dict', lambda L: L.data.StackDataset(a=tds(L, 3), b=arange_ds(L, 3)).__getitems__([2, 1])),
        Case('getitems size mismatch', lambda L: L.data.StackDataset(a=_short(L)).__getitems__([0, 1]), error=True),
        Case('loader', lambda L: take(L.data.DataLoader(L.data.StackDataset(x=tds(L, 4), y=arange_ds(L, 4)),
                                                        batch_size=3))),
        Case('range and str', lambda L: (L.data.StackDataset(a=range(3), b='xyz')[1], len(L.data.StackDataset(
            a=range(3), b='xyz')), L.data.StackDataset(range(2), range(2))[1])),
        Case('length mismatch', lambda L: L.data.StackDataset(tds(L, 3), tds(L, 4)), error=True),
        Case('args and kwargs', lambda L: L.data.StackDataset(tds(L, 3), b=tds(L, 3)), error=True),
        Case('nothing', lambda L: L.data.StackDataset(), error=True),
    ]),
    D('ConcatDataset', [
        Case('items and sizes', lambda L: (_ds_items(L.data.ConcatDataset([tds(L, 2), tds(L, 3)])),
                                           L.data.ConcatDataset([tds(L, 2), tds(L, 3)]).cumulative_sizes)),
        Case('add of TensorDatasets', lambda L: _concat_add(L)),
        Case('cummulative_sizes warns', lambda L: L.data.ConcatDataset([tds(L, 2), tds(L, 1)]).cummulative_sizes),
        Case('negative index', lambda L: [L.data.ConcatDataset([arange_ds(L, 2), arange_ds(L, 3)])[i]
                                          for i in (-1, -3, -5)]),
        Case('index past end', lambda L: L.data.ConcatDataset([tds(L, 2), tds(L, 3)])[5], error=True),
        Case('negative past start', lambda L: L.data.ConcatDataset([tds(L, 2), tds(L, 3)])[-6], error=True),
        Case('empty list', lambda L: L.data.ConcatDataset([]), error=True),
        Case('iterable member', lambda L: L.data.ConcatDataset([counting(L)]), error=True),
    ]),
    D('IterableDataset', [
        Case('iterate', lambda L: list(counting(L, 5))),
        Case('with len', lambda L: len(counting(L, 5))),
        Case('without len', lambda L: len(counting(L, 5, with_len=False)), error=True),
        Case('add makes ChainDataset', lambda L: type(counting(L, 2) + counting(L, 3)).__name__),
        Case('loader batches', lambda L: take(L.data.DataLoader(counting(L, 7), batch_size=3))),
        Case('loader len', lambda L: len(L.data.DataLoader(counting(L, 7), batch_size=3))),
        Case('loader drop_last', lambda L: (take(L.data.DataLoader(counting(L, 7), batch_size=3, drop_last=True)),
                                            len(L.data.DataLoader(counting(L, 7), batch_size=3, drop_last=True)))),
        Case('loader shuffle', lambda L: L.data.DataLoader(counting(L), shuffle=True), error=True),
        Case('loader sampler', lambda L: L.data.DataLoader(counting(L), sampler=range(3)), error=True),
    ]),
    D('ChainDataset', [
        Case('chain and len', lambda L: (list(L.data.ChainDataset([counting(L, 2), counting(L, 3)])),
                                         len(L.data.ChainDataset([counting(L, 2), counting(L, 3)])))),
        Case('len of one without', lambda L: len(L.data.ChainDataset([counting(L, 2), counting(L, 3, False)])),
             error=True),
        Case('map-style member', lambda L: list(L.data.ChainDataset([tds(L, 2)])), error=True),
    ]),
    D('Subset', [
        Case('items', lambda L: (_ds_items(L.data.Subset(tds(L), [4, 0, 2])), len(L.data.Subset(tds(L), [4, 0, 2])))),
        Case('getitems and indices', lambda L: (L.data.Subset(tds(L), [5, 1]).__getitems__([1, 0]),
                                                L.data.Subset(tds(L), range(1, 4)).indices)),
        Case('tensor indices', lambda L: _ds_items(L.data.Subset(tds(L), L.torch.tensor([3, 1])))),
        Case('index past end', lambda L: L.data.Subset(tds(L), [4, 0])[2], error=True),
        Case('subset index out of dataset', lambda L: L.data.Subset(tds(L), [9])[0], error=True),
    ]),
    D('random_split', [
        Case('lengths', lambda L: [list(s.indices) for s in L.data.random_split(range(10), [3, 7])]),
        Case('fractions', lambda L: [list(s.indices) for s in L.data.random_split(range(10), [0.3, 0.3, 0.4])]),
        Case('fractions with remainder', lambda L: [list(s.indices) for s in
                                                    L.data.random_split(range(11), [0.5, 0.25, 0.25])]),
        Case('generator', lambda L: [list(s.indices) for s in L.data.random_split(range(8), [5, 3],
                                                                                  generator=gen(L, 42))]),
        *[Case(f'n={n} {lengths}', lambda L, n=n, lengths=lengths: [list(s) for s in L.data.random_split(
            range(n), lengths, generator=gen(L, 0))]) for n, lengths in (
            (10, [0.3, 0.7]), (30, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]), (5, [5, 0]))],
        Case('zero-length split warns', lambda L: [list(s) for s in L.data.random_split(range(2), [1.0, 0.0])]),
        Case('subsets of a dataset', lambda L: [_ds_items(s) for s in L.data.random_split(tds(L, 5), [2, 3])]),
        Case('lengths do not sum', lambda L: L.data.random_split(range(10), [3, 3]), error=True),
        Case('fractions do not sum', lambda L: L.data.random_split(range(10), [0.5, 0.6]), error=True),
        Case('negative fraction', lambda L: L.data.random_split(range(10), [1.5, -0.5]), error=True),
        Case('fraction over 1', lambda L: L.data.random_split(range(10), [1.2, -0.2]), error=True),
    ]),
]


# -- torch.utils.data: collation and the DataLoader ------------------------------------------------------------
def _np(L):
    return [np.arange(3, dtype=np.int32) + i for i in range(2)]


DATA += [
    D('default_collate', [
        Case('tensors', lambda L: L.data.default_collate([L.torch.tensor([1.0, 2.0]), L.torch.tensor([3.0, 4.0])])),
        Case('numbers', lambda L: (L.data.default_collate([1, 2, 3]), L.data.default_collate([1.5, 2.0]),
                                   L.data.default_collate([True, False]))),
        Case('tuples', lambda L: L.data.default_collate([(1, 2.0, 'a'), (3, 4.0, 'b')])),
        Case('dicts', lambda L: L.data.default_collate([{'x': L.torch.ones(2), 'y': 1},
                                                        {'x': L.torch.zeros(2), 'y': 2}])),
        Case('nested', lambda L: L.data.default_collate([{'a': (1, [2.0, 3.0])}, {'a': (4, [5.0, 6.0])}])),
        Case('numpy arrays', lambda L: L.data.default_collate(_np(L))),
        Case('numpy scalars', lambda L: L.data.default_collate([np.float64(1.5), np.float64(2.5)])),
        Case('numpy float32 scalars', lambda L: L.data.default_collate([np.float32(1.5), np.int64(2)])),
        Case('strings', lambda L: L.data.default_collate(['a', 'bc'])),
        Case('namedtuple', lambda L: tuple(L.data.default_collate([_pt(1, 2), _pt(3, 4)]))),
        Case('numpy bool and int8 arrays', lambda L: (L.data.default_collate([np.array([True]), np.array([False])]),
                                                     L.data.default_collate([np.int8([1, -2]), np.int8([3, 4])]))),
        Case('OrderedDict and defaultdict', lambda L: _mappings(L)),
        Case('bytes', lambda L: L.data.default_collate([b'a', b'b'])),
        Case('ragged lists', lambda L: L.data.default_collate([[1, 2], [3]]), error=True),
        Case('ragged tuples', lambda L: L.data.default_collate([(1, 2), (3,)]), error=True),
        Case('None', lambda L: L.data.default_collate([None, None]), error=True),
        Case('mixed dtypes', lambda L: L.data.default_collate([L.torch.ones(2),
                                                               L.torch.ones(2, dtype=L.torch.int64)])),
        Case('unequal tensors', lambda L: L.data.default_collate([L.torch.ones(2), L.torch.ones(3)]), error=True),
        Case('object', lambda L: L.data.default_collate([object(), object()]), error=True),
        Case('numpy strings', lambda L: L.data.default_collate([np.array(['a']), np.array(['b'])]), error=True),
    ]),
    D('default_convert', [
        Case('numpy', lambda L: L.data.default_convert(np.arange(4, dtype=np.int16))),
        Case('nested', lambda L: L.data.default_convert({'a': np.ones(2), 'b': [np.float32(3.5), 'x', 2]})),
        Case('tuple of arrays', lambda L: L.data.default_convert((np.zeros(2, np.uint8), np.ones((1, 2), np.float32)))),
        Case('numpy strings pass through', lambda L: str(L.data.default_convert(np.array(['a', 'b'])))),
        Case('tensor as is', lambda L: L.data.default_convert(L.torch.ones(2, dtype=L.torch.int32))),
    ]),
    D('DataLoader', [
        Case('defaults', lambda L: take(L.data.DataLoader(tds(L, 5)))),
        Case('batch_size', lambda L: (take(L.data.DataLoader(tds(L, 7), batch_size=3)),
                                      len(L.data.DataLoader(tds(L, 7), batch_size=3)))),
        Case('shuffle', lambda L: [take(L.data.DataLoader(tds(L, 7), batch_size=2, shuffle=True)) for _ in range(2)]),
        Case('shuffle generator', lambda L: take(L.data.DataLoader(tds(L, 7), batch_size=3, shuffle=True,
                                                                  generator=gen(L)))),
        Case('drop_last', lambda L: (take(L.data.DataLoader(tds(L, 7), batch_size=3, drop_last=True)),
                                     len(L.data.DataLoader(tds(L, 7), batch_size=3, drop_last=True)))),
        Case('batch_size None', lambda L: take(L.data.DataLoader(tds(L, 3), batch_size=None))),
        Case('batch_size None numpy', lambda L: take(L.data.DataLoader(_np(L), batch_size=None))),
        Case('dict items', lambda L: take(L.data.DataLoader([{'x': np.float32(i), 'name': f'n{i}'} for i in range(5)],
                                                            batch_size=2))),
        Case('tuple items', lambda L: take(L.data.DataLoader(arange_ds(L, 5), batch_size=2))),
        Case('numpy items', lambda L: take(L.data.DataLoader([np.full((2,), i, np.float64) for i in range(4)],
                                                             batch_size=3))),
        Case('string items', lambda L: take(L.data.DataLoader(['a', 'b', 'c'], batch_size=2))),
        Case('sampler', lambda L: take(L.data.DataLoader(tds(L), batch_size=2, sampler=[5, 0, 3]))),
        Case('batch_sampler', lambda L: take(L.data.DataLoader(tds(L), batch_sampler=[[1, 2], [0], [5, 4, 3]]))),
        Case('collate_fn', lambda L: take(L.data.DataLoader(range(5), batch_size=2, collate_fn=lambda b: sum(b)))),
        Case('dataset sampler len', lambda L: (len(L.data.DataLoader(range(9), batch_size=4)),
                                               len(L.data.DataLoader(range(9), batch_size=4).sampler),
                                               type(L.data.DataLoader(range(9), shuffle=True).sampler).__name__,
                                               type(L.data.DataLoader(range(9)).batch_sampler).__name__)),
        Case('workers', lambda L: take(L.data.DataLoader(arange_ds(L, 6), batch_size=2, num_workers=2))),
        Case('workers iterable', lambda L: take(L.data.DataLoader(counting(L, 7), batch_size=2, num_workers=2))),
        Case('persistent workers two epochs', lambda L: _two_epochs(L)),
        Case('pin_memory', lambda L: take(L.data.DataLoader(tds(L, 3), batch_size=2, pin_memory=True))),
        Case('prefetch_factor', lambda L: take(L.data.DataLoader(arange_ds(L, 4), batch_size=2, num_workers=1,
                                                                 prefetch_factor=1))),
        Case('in_order False', lambda L: sorted(b[0].tolist() for b in L.data.DataLoader(
            arange_ds(L, 6), batch_size=2, num_workers=2, in_order=False))),
        Case('shuffle and sampler', lambda L: L.data.DataLoader(range(4), shuffle=True, sampler=[0, 1]), error=True),
        Case('batch_sampler and batch_size', lambda L: L.data.DataLoader(range(4), batch_size=2,
                                                                         batch_sampler=[[0]]), error=True),
        Case('negative workers', lambda L: L.data.DataLoader(range(4), num_workers=-1), error=True),
        Case('timeout negative', lambda L: L.data.DataLoader(range(4), timeout=-1), error=True),
        Case('prefetch without workers', lambda L: L.data.DataLoader(range(4), prefetch_factor=2), error=True),
    ]),
    D('get_worker_info', [
        Case('main process', lambda L: L.data.get_worker_info()),
        Case('in workers', lambda L: take(L.data.DataLoader(_WorkerInfoDs(L), batch_size=None, num_workers=2))),
        Case('seeds from the generator', lambda L: take(L.data.DataLoader(
            _WorkerInfoDs(L), batch_size=2, shuffle=True, num_workers=2, generator=gen(L, 11)))),
        Case('python and torch random in workers', lambda L: take(L.data.DataLoader(
            _RandomDs(L), batch_size=None, num_workers=2))),
        Case('worker_init_fn', lambda L: take(L.data.DataLoader(_RandomDs(L), batch_size=None, num_workers=2,
                                                                worker_init_fn=_init_seed))),
    ]),
]


def _two_epochs(L):
    """Two epochs through persistent workers: shuffled batches and the random draws the workers make."""
    loader = L.data.DataLoader(_RandomDs(L), batch_size=2, shuffle=True, num_workers=2, persistent_workers=True)
    return [take(loader) for _ in range(2)]


def _WorkerInfoDs(L):
    """Each item says which worker loaded it and what get_worker_info gives there."""
    class Info(L.data.Dataset):
        def __getitem__(self, i):
            w = L.data.get_worker_info()
            return i, w.id, w.num_workers, w.seed, w.dataset is not None, repr(w).split('(')[0]

        def __len__(self):
            return 4
    return Info()


def _RandomDs(L):
    """Items drawn in the worker from Python's ``random`` and the library's generator (both seeded per worker)."""
    class Draws(L.data.Dataset):
        def __getitem__(self, i):
            import random
            return i, random.random(), L.torch.rand(2)

        def __len__(self):
            return 4
    return Draws()


def _py_seeded(t):
    """``t`` after seeding Python's ``random``, which torchvision's RandomOrder and RandomChoice draw from."""
    import random
    random.seed(7)
    return t


def _whiten(L, img=None):
    """LinearTransformation's repr and output on a 3 x 2 x 3 float image (D = 18) or a batch of them."""
    img = f32(L, 2, 3).contiguous() if img is None else img
    g = L.torch.Generator().manual_seed(3)
    m, v = L.torch.randn(18, 18, generator=g), L.torch.randn(18, generator=g)
    t = L.T.LinearTransformation(m, v)
    return repr(t), t(img)


def _init_seed(worker_id):
    """A worker_init_fn that reseeds Python's ``random`` from the worker's id."""
    import random
    random.seed(100 + worker_id)


def _pt(x, y):
    import collections
    return collections.namedtuple('Point', 'x y')(x, y)


SUBMODULES_DATA = {
    'dataloader': ['DataLoader', 'default_collate', 'default_convert', 'get_worker_info'],
    'dataset': ['ChainDataset', 'ConcatDataset', 'Dataset', 'IterableDataset', 'StackDataset', 'Subset',
                'TensorDataset', 'random_split'],
    'distributed': ['DistributedSampler'],
    'sampler': ['BatchSampler', 'RandomSampler', 'Sampler', 'SequentialSampler', 'SubsetRandomSampler',
                'WeightedRandomSampler'],
}
DATA += [D(sub, [Case('names', lambda L, s=sub, n=names: identical(L, f'data.{s}', 'data', n))])
         for sub, names in SUBMODULES_DATA.items()]


# -- torchvision: images and files ------------------------------------------------------------------------------
def pil(h=9, w=11, seed=0, mode='RGB'):
    """A small random PIL image (the same pixels in both libraries)."""
    from PIL import Image
    c = {'RGB': 3, 'L': 1, 'RGBA': 4}[mode]
    arr = np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)
    return Image.fromarray(arr[..., 0] if c == 1 else arr, mode)


def u8(L, h=9, w=11, seed=0):
    """The pixels of ``pil(h, w, seed)`` as a uint8 CHW tensor."""
    return L.torch.tensor(np.asarray(pil(h, w, seed)).transpose(2, 0, 1).copy())


def f32(L, h=9, w=11, seed=0):
    return L.torch.tensor(np.asarray(pil(h, w, seed)).transpose(2, 0, 1).astype(np.float32) / 255)


def IMAGES(L):
    """The image kinds a transform meets: PIL RGB, uint8 and float tensors, a uint8 batch (2, C, H, W) (and a PIL
    grayscale image)."""
    return {'pil': pil(), 'uint8': u8(L), 'float': f32(L), 'gray': pil(mode='L'),
            'batch': L.torch.stack([u8(L), u8(L, seed=1)])}


def runs(L, make, kinds=('pil', 'uint8', 'float'), reps=3):
    """``make(L.T)``'s repr and its outputs on each image kind, ``reps`` times (new random draws each time)."""
    t = make(L.T)
    imgs = IMAGES(L)
    return repr(t), {k: [t(imgs[k]) for _ in range(reps)] for k in kinds}


def T(name, makes, errors=(), kinds=('pil', 'uint8', 'float', 'batch', 'gray'), reps=3, atol=0.0, u8_atol=0, gaps=None):
    """A transform class: each ``make(T)`` is run on the image kinds, each error ``fn(L)`` must raise."""
    cases = [Case(f'{i}:{k}', lambda L, m=m, k=k: runs(L, m, (k,), reps)) for i, m in enumerate(makes)
             for k in kinds]
    return V(f'transforms.{name}', cases + [Case(d, fn, error=True) for d, fn in errors], atol=atol,
             u8_atol=u8_atol, gaps=gaps)


def rel(L, paths):
    """Paths made relative to ``L.tmp`` (each library writes its files into a directory of its own)."""
    import os
    return [os.path.relpath(p, L.tmp) if isinstance(p, str) else p for p in paths]


def items(ds, n=None):
    return [ds[i] for i in range(len(ds) if n is None else n)]


def image_tree(L, classes=(('dog', ('b.png', 'a.jpg', 'skip.txt')), ('cat', ('z.png',)), ('bird', ('x.PNG',))),
               under=''):
    """Class folders of tiny PNG/JPEG files (and a text file the loaders skip) in ``L.tmp``."""
    import os
    root = os.path.join(L.tmp, under)
    for cls, names in classes:
        os.makedirs(os.path.join(root, cls), exist_ok=True)
        for i, n in enumerate(names):
            path = os.path.join(root, cls, n)
            if n.endswith('.txt'):
                with open(path, 'w') as f:
                    f.write('not an image')
            else:
                pil(4, 5, seed=i).save(path, format='PNG' if n.lower().endswith('png') else 'JPEG')
    return root


def folder_view(L, ds):
    return (repr(ds).replace(L.tmp, 'ROOT'), ds.classes, ds.class_to_idx, [(rel(L, [p])[0], c) for p, c in ds.samples],
            ds.targets, len(ds), items(ds))


def npy_tree(L):
    """Class folders of .npy files, for a DatasetFolder with NumPy's loader."""
    import os
    for c, k in (('b', 2), ('a', 1)):
        os.makedirs(os.path.join(L.tmp, c), exist_ok=True)
        for i in range(k):
            np.save(os.path.join(L.tmp, c, f'{i}.npy'), np.arange(3) * (i + 1))
    return L.tmp


def idx_bytes(arr):
    """An array in the IDX format of the MNIST files (big-endian header, unsigned bytes)."""
    import struct
    return struct.pack('>HBB', 0, 0x08, arr.ndim) + struct.pack(f'>{arr.ndim}I', *arr.shape) + arr.tobytes()


def mnist_files(L, folder='MNIST', n=(5, 3)):
    """``L.tmp/<folder>/raw`` with the four IDX files, tiny (n train and test images of 28x28)."""
    import os
    raw = os.path.join(L.tmp, folder, 'raw')
    os.makedirs(raw)
    rng = np.random.default_rng(4)
    for split, k in zip(('train', 't10k'), n):
        with open(os.path.join(raw, f'{split}-images-idx3-ubyte'), 'wb') as f:
            f.write(idx_bytes(rng.integers(0, 256, (k, 28, 28), dtype=np.uint8)))
        with open(os.path.join(raw, f'{split}-labels-idx1-ubyte'), 'wb') as f:
            f.write(idx_bytes(rng.integers(0, 10, (k,), dtype=np.uint8)))
    return L.tmp


def emnist(L, split, train=True, n=4, classes=62):
    """EMNIST of ``split`` over tiny IDX files ``emnist-<split>-<train|test>-...`` in ``L.tmp/EMNIST/raw``."""
    import os
    raw = os.path.join(L.tmp, 'EMNIST', 'raw')
    os.makedirs(raw, exist_ok=True)
    rng = np.random.default_rng(5)
    prefix = f"emnist-{split}-{'train' if train else 'test'}"
    with open(os.path.join(raw, f'{prefix}-images-idx3-ubyte'), 'wb') as f:
        f.write(idx_bytes(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)))
    with open(os.path.join(raw, f'{prefix}-labels-idx1-ubyte'), 'wb') as f:
        f.write(idx_bytes(rng.integers(0, classes, (n,), dtype=np.uint8)))
    ds = L.datasets.EMNIST(L.tmp, split, train=train)
    return repr(ds).replace(L.tmp, 'ROOT'), len(ds), ds.classes, items(ds), ds.targets, ds.data, ds.split


def _double(y):
    """A target transform both libraries share: its repr (an address) is in the dataset's repr, and a lambda
    made anew for each library had the same address only when the first one's memory was reused."""
    return y * 2


def qmnist(L, files=('qmnist-train', 'qmnist-test'), n=3, **kw):
    """QMNIST over tiny files (uint8 images, int32 label rows of 8) in ``L.tmp/QMNIST/raw``, its view and items."""
    import os
    import struct
    raw = os.path.join(L.tmp, 'QMNIST', 'raw')
    os.makedirs(raw, exist_ok=True)
    rng = np.random.default_rng(6)
    for name in files:
        with open(os.path.join(raw, f'{name}-images-idx3-ubyte'), 'wb') as f:
            f.write(idx_bytes(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)))
        labels = rng.integers(0, 10, (n, 8)).astype('>i4')
        with open(os.path.join(raw, f'{name}-labels-idx2-int'), 'wb') as f:
            f.write(struct.pack('>HBB', 0, 0x0C, 2) + struct.pack('>2I', n, 8) + labels.tobytes())
    ds = L.datasets.QMNIST(L.tmp, **kw)
    return repr(ds).replace(L.tmp, 'ROOT'), len(ds), ds.classes, items(ds), ds.targets, ds.data, ds.what, ds.compat


def mnist(L, cls='MNIST', **kw):
    ds = getattr(L.datasets, cls)(mnist_files(L, cls), **kw)
    return repr(ds).replace(L.tmp, 'ROOT'), len(ds), ds.classes, items(ds), ds.targets, ds.data


def _md5(path):
    import hashlib
    with open(path, 'rb') as f:
        return hashlib.md5(f.read()).hexdigest()


def cifar_class(L, name='CIFAR10'):
    """A CIFAR10 (or CIFAR100) subclass reading tiny batches written in the real layout (pickles of dicts with
    'data' rows of 3072 bytes); only the checksums it checks are those of these files."""
    import os
    import pickle
    rng = np.random.default_rng(1)
    ten = name == 'CIFAR10'
    base = L.datasets.CIFAR10 if ten else L.datasets.CIFAR100
    folder = os.path.join(L.tmp, base.base_folder)
    os.makedirs(folder)
    train = [f'data_batch_{i}' for i in range(1, 6)] if ten else ['train']
    test = ['test_batch'] if ten else ['test']
    key = 'labels' if ten else 'fine_labels'
    md5 = {}
    for fname in train + test:
        batch = {'data': rng.integers(0, 256, (2, 3072), dtype=np.uint8), key: rng.integers(0, 10, 2).tolist()}
        with open(os.path.join(folder, fname), 'wb') as f:
            pickle.dump(batch, f, protocol=2)
        md5[fname] = _md5(os.path.join(folder, fname))
    meta = base.meta['filename']
    with open(os.path.join(folder, meta), 'wb') as f:
        pickle.dump({base.meta['key']: [f'class{i}' for i in range(10)]}, f, protocol=2)
    md5[meta] = _md5(os.path.join(folder, meta))
    return type(name, (base,), {'train_list': [[n, md5[n]] for n in train], 'test_list': [[n, md5[n]] for n in test],
                                'meta': dict(base.meta, md5=md5[meta])})


def cifar(L, name='CIFAR10', **kw):
    ds = cifar_class(L, name)(L.tmp, **kw)
    return repr(ds).replace(L.tmp, 'ROOT'), len(ds), ds.classes, ds.class_to_idx, items(ds), ds.data, ds.targets


def food101_tree(L):
    """A two-class Food-101 in the archive's layout: images/<class>/<id>.jpg and meta/{train,test}.json."""
    import json
    import os
    meta = {'train': {'ramen': ['ramen/11', 'ramen/3'], 'apple_pie': ['apple_pie/7']},
            'test': {'ramen': ['ramen/5'], 'apple_pie': ['apple_pie/2', 'apple_pie/9']}}
    os.makedirs(os.path.join(L.tmp, 'food-101', 'meta'))
    for split, classes in meta.items():
        with open(os.path.join(L.tmp, 'food-101', 'meta', f'{split}.json'), 'w') as f:
            json.dump(classes, f)
        for i, r in enumerate(p for paths in classes.values() for p in paths):
            path = os.path.join(L.tmp, 'food-101', 'images', f'{r}.jpg')
            os.makedirs(os.path.dirname(path), exist_ok=True)
            pil(6, 7, seed=i).save(path, format='JPEG')
    return L.tmp


def food101(L, split):
    ds = L.datasets.Food101(food101_tree(L), split=split)
    return repr(ds).replace(L.tmp, 'ROOT'), len(ds), ds.classes, ds.class_to_idx, items(ds)


def svhn_class(L):
    """An SVHN subclass reading a tiny train_32x32.mat in SVHN's layout (X: 32x32x3xN; y: Nx1, 10 for digit 0),
    whose checksum it checks."""
    import os
    from scipy import io
    rng = np.random.default_rng(0)
    path = os.path.join(L.tmp, 'train_32x32.mat')
    io.savemat(path, {'X': rng.integers(0, 256, (32, 32, 3, 3), dtype=np.uint8),
                      'y': np.array([[10], [1], [7]], np.uint8)})
    base = L.datasets.SVHN
    train = [base.split_list['train'][0], 'train_32x32.mat', _md5(path)]
    return type('SVHN', (base,), {'split_list': dict(base.split_list, train=train)})


def svhn(L):
    ds = svhn_class(L)(L.tmp)
    return repr(ds).replace(L.tmp, 'ROOT'), len(ds), items(ds), ds.data, ds.labels


def vision_ds(L, **kw):
    """A minimal VisionDataset subclass: two items through its transforms."""
    class Two(L.datasets.VisionDataset):
        def __getitem__(self, i):
            img, target = pil(4, 4, i), i
            if self.transforms is not None:
                img, target = self.transforms(img, target)
            return img, target

        def __len__(self):
            return 2
    return Two('some/root', **kw)


def grid_input(L, shape=(5, 3, 4, 6), seed=2):
    return L.torch.tensor(np.random.default_rng(seed).uniform(-0.5, 1.5, shape).astype(np.float32))


def saved_bytes(L, x, name='g.png', **kw):
    import os
    path = os.path.join(L.tmp, name)
    L.vutils.save_image(x, path, **kw)
    with open(path, 'rb') as f:
        return f.read()


NO_LMDB = ('no LMDB database can be read: the lmdb package is not installed here (both libraries raise '
           'ModuleNotFoundError naming it: an error case)')


def _saved_to_buffer(L):
    import io
    buf = io.BytesIO()
    L.vutils.save_image(f32(L), buf, format='png')
    return buf.getvalue()


def lsun(L, **kw):
    return L.datasets.LSUN(L.tmp, **kw)


DRAW_BOXES = np.array([[1, 2, 8, 7], [0, 0, 10, 8]], np.float32)
DRAW_KEYPOINTS = np.array([[[1, 1], [5, 4], [9, 7]]], np.float32)
DRAW_MASKS = np.random.default_rng(0).random((2, 9, 11)) > 0.5
FLOW = (np.random.default_rng(1).standard_normal((3, 2, 40, 48)) * 4).astype(np.float32)

GRID_KW = [{}, {'nrow': 3, 'padding': 1}, {'normalize': True},
           {'normalize': True, 'value_range': (0.2, 0.6), 'pad_value': 0.5},
           {'normalize': True, 'scale_each': True, 'nrow': 2}]

VISION = [
    V('utils.make_grid', [Case(f'{s} {kw}', lambda L, s=s, kw=kw: L.vutils.make_grid(grid_input(L, s), **kw))
                          for s in ((5, 3, 4, 6), (4, 1, 5, 5), (3, 7)) for kw in GRID_KW] + [
        Case('list of tensors', lambda L: L.vutils.make_grid([grid_input(L, (3, 4, 5), s) for s in range(3)], nrow=2)),
        Case('uint8', lambda L: L.vutils.make_grid(u8(L)[None].expand(3, 3, 9, 11), padding=1)),
        Case('one image', lambda L: L.vutils.make_grid(grid_input(L, (1, 3, 4, 4)))),
        Case('not a tensor', lambda L: L.vutils.make_grid(np.zeros((2, 3, 4, 4))), error=True),
        Case('1-d', lambda L: L.vutils.make_grid(L.torch.zeros(5)), error=True),
        Case('5-d', lambda L: L.vutils.make_grid(L.torch.zeros(2, 2, 3, 4, 4)), error=True),
        Case('list of unequal shapes', lambda L: L.vutils.make_grid([L.torch.zeros(3, 4, 4), L.torch.zeros(3, 5, 4)]),
             error=True),
        Case('value_range not a tuple', lambda L: L.vutils.make_grid(grid_input(L), normalize=True, value_range=[0, 1]),
             error=True),
    ]),
    V('utils.save_image', [
        Case('grid png', lambda L: saved_bytes(L, grid_input(L, (3, 3, 6, 5)).clamp(0, 1), nrow=2, padding=1)),
        Case('one image', lambda L: saved_bytes(L, f32(L))),
        Case('gray jpeg', lambda L: saved_bytes(L, f32(L)[:1], 'g.jpg')),
        Case('format', lambda L: saved_bytes(L, f32(L), 'g.bin', format='png')),
        Case('file object', lambda L: _saved_to_buffer(L)),
        Case('padding 0 nrow 1', lambda L: saved_bytes(L, grid_input(L, (3, 1, 4, 4)).clamp(0, 1), padding=0, nrow=1)),
        Case('out of range clamps', lambda L: saved_bytes(L, grid_input(L, (2, 3, 4, 4)), normalize=False)),
        Case('uint8', lambda L: saved_bytes(L, u8(L)), error=True),
        Case('unknown extension', lambda L: saved_bytes(L, f32(L), 'g.unknownext'), error=True),
    ]),
    V('utils.draw_bounding_boxes', [
        Case('uint8', lambda L: L.vutils.draw_bounding_boxes(u8(L), L.torch.tensor(DRAW_BOXES))),
        Case('float labelled', lambda L: L.vutils.draw_bounding_boxes(f32(L), L.torch.tensor(DRAW_BOXES),
                                                                      labels=['a', 'b'], width=2, colors='red')),
        Case('filled', lambda L: L.vutils.draw_bounding_boxes(u8(L), L.torch.tensor(DRAW_BOXES), fill=True)),
        Case('xmax < xmin', lambda L: L.vutils.draw_bounding_boxes(u8(L), L.torch.tensor(DRAW_BOXES[:, [2, 1, 0, 3]])),
             error=True),
        Case('batch', lambda L: L.vutils.draw_bounding_boxes(u8(L)[None], L.torch.tensor(DRAW_BOXES)), error=True),
    ]),
    V('utils.draw_segmentation_masks', [
        Case('uint8', lambda L: L.vutils.draw_segmentation_masks(u8(L), L.torch.tensor(DRAW_MASKS))),
        Case('float alpha colors', lambda L: L.vutils.draw_segmentation_masks(f32(L), L.torch.tensor(DRAW_MASKS), 0.3,
                                                                              ['blue', (1, 2, 3)])),
        Case('int masks', lambda L: L.vutils.draw_segmentation_masks(u8(L), L.torch.tensor(DRAW_MASKS).int()),
             error=True),
    ]),
    V('utils.draw_keypoints', [
        Case('uint8', lambda L: L.vutils.draw_keypoints(u8(L), L.torch.tensor(DRAW_KEYPOINTS), [(0, 1), (1, 2)])),
        Case('float colors', lambda L: L.vutils.draw_keypoints(f32(L), L.torch.tensor(DRAW_KEYPOINTS), colors='red',
                                                               radius=1, width=1)),
        Case('2-d keypoints', lambda L: L.vutils.draw_keypoints(u8(L), L.torch.tensor(DRAW_KEYPOINTS[0])), error=True),
    ]),
    V('utils.flow_to_image', [
        Case('(2, H, W)', lambda L: L.vutils.flow_to_image(L.torch.tensor(FLOW[0]))),
        Case('batch', lambda L: L.vutils.flow_to_image(L.torch.tensor(FLOW))),
        Case('zero flow', lambda L: L.vutils.flow_to_image(L.torch.zeros(2, 2, 5, 6))),
        Case('float64', lambda L: L.vutils.flow_to_image(L.torch.tensor(FLOW[0]).double()), error=True),
        Case('three channels', lambda L: L.vutils.flow_to_image(L.torch.zeros(3, 4, 4)), error=True),
    ]),
]

# -- torchvision.transforms -------------------------------------------------------------------------------------
VISION += [
    T('Resize', [lambda T: T.Resize(7), lambda T: T.Resize((5, 9)), lambda T: T.Resize(6, antialias=False),
                 lambda T: T.Resize([4]), lambda T: T.Resize((12, 20), interpolation=T.InterpolationMode.NEAREST_EXACT),
                 lambda T: T.Resize(8, interpolation=T.InterpolationMode.NEAREST), lambda T: T.Resize(5, max_size=9),
                 lambda T: T.Resize(13, interpolation=T.InterpolationMode.BICUBIC)],
      errors=[('size str', lambda L: L.T.Resize('7')(pil())),
              ('max_size with a pair', lambda L: L.T.Resize((5, 6), max_size=9)(pil())),
              ('max_size under size', lambda L: L.T.Resize(9, max_size=7)(pil()))],
      atol=1e-5, u8_atol=1),
    T('CenterCrop', [lambda T: T.CenterCrop(6), lambda T: T.CenterCrop((13, 5)), lambda T: T.CenterCrop([4])],
      errors=[('three sizes', lambda L: L.T.CenterCrop((1, 2, 3)))]),
    T('Pad', [lambda T: T.Pad(2), lambda T: T.Pad((1, 2), fill=3), lambda T: T.Pad((-1, 2, 1, -2)),
              lambda T: T.Pad((1, 2, 3, 1), padding_mode='reflect'),
              lambda T: T.Pad(2, padding_mode='edge'), lambda T: T.Pad(3, padding_mode='symmetric')],
      errors=[('bad mode', lambda L: L.T.Pad(2, padding_mode='wrap')), ('three paddings', lambda L: L.T.Pad((1, 2, 3))),
              ('padding str', lambda L: L.T.Pad('2'))]),
    T('RandomCrop', [lambda T: T.RandomCrop(7), lambda T: T.RandomCrop(8, padding=2),
                     lambda T: T.RandomCrop(16, pad_if_needed=True),
                     lambda T: T.RandomCrop(9, padding=(1, 2), padding_mode='reflect')],
      errors=[('larger than the image', lambda L: L.T.RandomCrop(20)(pil()))]),
    T('RandomHorizontalFlip', [lambda T: T.RandomHorizontalFlip(), lambda T: T.RandomHorizontalFlip(1.0)], reps=4,
      errors=[('a list', lambda L: L.T.RandomHorizontalFlip(1.0)([1, 2]))]),
    T('RandomVerticalFlip', [lambda T: T.RandomVerticalFlip(0.3)], reps=4,
      errors=[('a str', lambda L: L.T.RandomVerticalFlip(1.0)('x'))]),
    T('RandomResizedCrop', [lambda T: T.RandomResizedCrop(6),
                            lambda T: T.RandomResizedCrop((5, 7), scale=(0.5, 1.0), ratio=(0.5, 2))],
      errors=[('size str', lambda L: L.T.RandomResizedCrop('6')(f32(L)))], atol=1e-5, u8_atol=1),
    T('Grayscale', [lambda T: T.Grayscale(), lambda T: T.Grayscale(3)], atol=1e-6,
      kinds=('pil', 'uint8', 'float', 'batch', 'gray'),
      errors=[('two channels', lambda L: L.T.Grayscale()(L.torch.zeros(2, 3, 3)))]),
    T('RandomGrayscale', [lambda T: T.RandomGrayscale(0.5)], reps=4, atol=1e-6,
      errors=[('two channels', lambda L: L.T.RandomGrayscale(1.0)(L.torch.zeros(2, 3, 3)))]),
    T('RandomApply', [lambda T: T.RandomApply([T.RandomHorizontalFlip(1.0), T.CenterCrop(5)], p=0.5)], reps=4,
      errors=[('not callable', lambda L: L.T.RandomApply([3], p=1.0)(u8(L)))]),
    T('RandomOrder', [lambda T: _py_seeded(T.RandomOrder([T.RandomHorizontalFlip(1.0), T.CenterCrop(5), T.Pad(1)]))],
      reps=4, errors=[('not a sequence', lambda L: L.T.RandomOrder(L.T.CenterCrop(5)))]),
    T('RandomChoice', [lambda T: _py_seeded(T.RandomChoice([T.RandomHorizontalFlip(1.0), T.CenterCrop(5), T.Pad(1)])),
                       lambda T: _py_seeded(T.RandomChoice([T.CenterCrop(5), T.Pad(2)], p=[0.3, 0.7]))], reps=4,
      errors=[('p not a sequence', lambda L: L.T.RandomChoice([L.T.CenterCrop(5)], p=0.5)),
              ('not a sequence', lambda L: L.T.RandomChoice(L.T.CenterCrop(5)))]),
    V('transforms.LinearTransformation', [
        Case('whiten', lambda L: _whiten(L)),
        Case('batch', lambda L: _whiten(L, L.torch.stack([f32(L, 2, 3), f32(L, 2, 3, seed=1)]))),
        Case('not square', lambda L: L.T.LinearTransformation(L.torch.ones(18, 17), L.torch.zeros(18)), error=True),
        Case('mean length', lambda L: L.T.LinearTransformation(L.torch.eye(18), L.torch.zeros(17)), error=True),
        Case('dtypes', lambda L: L.T.LinearTransformation(L.torch.eye(18), L.torch.zeros(18).double()), error=True),
        Case('image size', lambda L: L.T.LinearTransformation(L.torch.eye(18), L.torch.zeros(18))(f32(L)),
             error=True),
    ], atol=1e-5),    # a few-row product: PyTorch's MKL sums it in another order than OpenBLAS
    T('Compose', [lambda T: T.Compose([T.RandomCrop(9, padding=1), T.RandomHorizontalFlip()]),
                  lambda T: T.Compose([])], errors=[('not callable', lambda L: L.T.Compose([3])(u8(L)))]),
    T('Lambda', [lambda T: T.Lambda(lambda x: x)], errors=[('not callable', lambda L: L.T.Lambda(3))]),
    T('RandomRotation', [lambda T: T.RandomRotation(30), lambda T: T.RandomRotation((-90, 45), expand=True, fill=7),
                         lambda T: T.RandomRotation(20, interpolation=T.InterpolationMode.BILINEAR, center=(3, 4))],
      reps=12, atol=1e-5, errors=[('negative degrees', lambda L: L.T.RandomRotation(-5)),
                                      ('center of one', lambda L: L.T.RandomRotation(5, center=(1,)))]),
    T('RandomAffine', [lambda T: T.RandomAffine(15, translate=(0.2, 0.1), scale=(0.8, 1.2), shear=10),
                       lambda T: T.RandomAffine((-5, 5), shear=(-5, 5, -8, 8), fill=(1, 2, 3),
                                                interpolation=T.InterpolationMode.BILINEAR)],
      reps=12, atol=1e-5, kinds=('pil', 'uint8', 'float', 'batch'),
      errors=[('translate over 1', lambda L: L.T.RandomAffine(0, translate=(1.5, 0))),
              ('negative scale', lambda L: L.T.RandomAffine(0, scale=(-1, 1))),
              ('three fills for a gray image', lambda L: L.T.RandomAffine(5, fill=(1, 2, 3))(pil(mode='L')))]),
    T('RandomAffine', [lambda T: T.RandomAffine(15, translate=(0.2, 0.1), scale=(0.8, 1.2), shear=10)],
      reps=12, kinds=('gray',)),
    T('TrivialAugmentWide', [lambda T: T.TrivialAugmentWide(),
                             lambda T: T.TrivialAugmentWide(num_magnitude_bins=9, fill=128),
                             lambda T: T.TrivialAugmentWide(interpolation=T.InterpolationMode.BILINEAR)],
      kinds=('pil', 'uint8', 'batch', 'gray'), reps=12, errors=[('a list', lambda L: L.T.TrivialAugmentWide()([1]))]),
    T('AutoAugment', [lambda T: T.AutoAugment(), lambda T: T.AutoAugment(T.AutoAugmentPolicy.CIFAR10, fill=7),
                      lambda T: T.AutoAugment(T.AutoAugmentPolicy.SVHN, fill=[1, 2, 3])],
      kinds=('pil', 'uint8', 'batch'), reps=12,
      errors=[('policy str', lambda L: L.T.AutoAugment('imagenet')),
              ('float', lambda L: [L.T.AutoAugment(L.T.AutoAugmentPolicy.SVHN)(f32(L)) for _ in range(12)])]),
    T('AutoAugment', [lambda T: T.AutoAugment(T.AutoAugmentPolicy.CIFAR10)], kinds=('gray',), reps=12),
    T('AutoAugment', [lambda T: T.AutoAugment(T.AutoAugmentPolicy.SVHN, T.InterpolationMode.BILINEAR, fill=[1, 2, 3])],
      kinds=('pil', 'uint8', 'batch'), reps=12, u8_atol=1),
    V('transforms.AutoAugmentPolicy', [
        Case('members', lambda L: [(m.name, m.value, str(m)) for m in L.T.AutoAugmentPolicy]),
        Case('by value', lambda L: L.T.AutoAugmentPolicy('svhn').name),
        Case('unknown', lambda L: L.T.AutoAugmentPolicy('mnist'), error=True),
    ]),
    # AugMix's default bilinear shears and rotations: ember's bilinear grid_sample differs from PyTorch's in the
    # last float32 bit, which can round a uint8 pixel the other way (hence u8_atol=1; PIL ones compare exactly)
    T('AugMix', [lambda T: T.AugMix(), lambda T: T.AugMix(severity=5, mixture_width=2, chain_depth=2, alpha=0.5),
                 lambda T: T.AugMix(all_ops=False, interpolation=T.InterpolationMode.NEAREST, fill=9)],
      kinds=('uint8', 'batch'), reps=4, u8_atol=1,
      errors=[('severity 0', lambda L: L.T.AugMix(severity=0)), ('severity 11', lambda L: L.T.AugMix(severity=11))]),
    T('AugMix', [lambda T: T.AugMix(interpolation=T.InterpolationMode.NEAREST),
                 lambda T: T.AugMix(severity=5, mixture_width=2, chain_depth=2, alpha=0.5, fill=[7],
                                    interpolation=T.InterpolationMode.NEAREST)],
      kinds=('pil', 'gray'), reps=4),
    T('RandAugment', [lambda T: T.RandAugment(), lambda T: T.RandAugment(num_ops=3, magnitude=5, fill=[10, 20, 30])],
      kinds=('pil', 'uint8', 'batch'), reps=12,
      errors=[('three fills for a gray image', lambda L: [L.T.RandAugment(num_ops=3, fill=[1, 2, 3])(pil(mode='L'))
                                                          for _ in range(12)])]),
    T('RandAugment', [lambda T: T.RandAugment()], kinds=('gray',), reps=12),
    T('ColorJitter', [lambda T: T.ColorJitter(0.4, 0.4, 0.4, 0.1),
                      lambda T: T.ColorJitter(brightness=(0.5, 1.5), hue=(-0.5, 0.5))],
      reps=12, atol=1e-5, errors=[('negative brightness', lambda L: L.T.ColorJitter(brightness=-1)),
                                      ('hue over 0.5', lambda L: L.T.ColorJitter(hue=0.7))]),
    T('RandomErasing', [lambda T: T.RandomErasing(), lambda T: T.RandomErasing(p=1.0, value=(7, 8, 9)),
                        lambda T: T.RandomErasing(p=0.8, scale=(0.1, 0.5), ratio=(1, 2), value=3)],
      kinds=('uint8', 'float', 'batch'), reps=4,
      errors=[('value str', lambda L: L.T.RandomErasing(value='zero')),
              ('value dict', lambda L: L.T.RandomErasing(value={})),
              ('scale over 1', lambda L: L.T.RandomErasing(scale=(0.5, 1.5))),
              ('p over 1', lambda L: L.T.RandomErasing(p=1.5)),
              ('scale not a sequence', lambda L: L.T.RandomErasing(scale=0.5)),
              ('two values for three channels', lambda L: L.T.RandomErasing(p=1.0, value=(1, 2))(u8(L))),
              ('pil', lambda L: L.T.RandomErasing(p=1.0)(pil()))]),
    T('RandomErasing', [lambda T: T.RandomErasing(p=1.0, value='random'),
                        lambda T: T.RandomErasing(p=1.0, scale=(0.9, 1.0), ratio=(1, 1))],
      kinds=('float',), reps=4),
    T('GaussianBlur', [lambda T: T.GaussianBlur(3), lambda T: T.GaussianBlur((5, 3), sigma=(0.5, 1.5)),
                       lambda T: T.GaussianBlur([1, 7], sigma=2.0)],
      atol=1e-6, u8_atol=1, reps=2,
      errors=[('even kernel', lambda L: L.T.GaussianBlur(4)), ('negative sigma', lambda L: L.T.GaussianBlur(3, -1.0)),
              ('sigma min over max', lambda L: L.T.GaussianBlur(3, (2.0, 1.0))),
              ('three sigmas', lambda L: L.T.GaussianBlur(3, (1.0, 2.0, 3.0))),
              ('kernel past the image', lambda L: L.T.GaussianBlur(21)(u8(L)))]),
    T('ElasticTransform', [lambda T: T.ElasticTransform(alpha=5.0, sigma=0.5),
                           lambda T: T.ElasticTransform(alpha=(2.0, 8.0), sigma=(0.4, 0.9), fill=7)], reps=2,
      errors=[('kernel past the image', lambda L: L.T.ElasticTransform()(u8(L))),
              ('alpha of three', lambda L: L.T.ElasticTransform(alpha=(1.0, 2.0, 3.0))),
              ('sigma a string', lambda L: L.T.ElasticTransform(sigma='2'))]),
    T('RandomInvert', [lambda T: T.RandomInvert(), lambda T: T.RandomInvert(0.9)], reps=4,
      errors=[('a list', lambda L: L.T.RandomInvert(1.0)([1]))]),
    T('RandomPosterize', [lambda T: T.RandomPosterize(3), lambda T: T.RandomPosterize(bits=6, p=0.8)], reps=4,
      kinds=('pil', 'uint8', 'batch', 'gray'),
      errors=[('float', lambda L: L.T.RandomPosterize(3, p=1.0)(f32(L)))]),
    T('RandomSolarize', [lambda T: T.RandomSolarize(100), lambda T: T.RandomSolarize(threshold=200, p=0.8)], reps=4,
      kinds=('pil', 'uint8', 'batch', 'gray'), errors=[('threshold over float max', lambda L: L.T.RandomSolarize(
          100, p=1.0)(f32(L)))]),
    T('RandomSolarize', [lambda T: T.RandomSolarize(0.5)], reps=4, kinds=('float',)),
    T('RandomAdjustSharpness', [lambda T: T.RandomAdjustSharpness(2), lambda T: T.RandomAdjustSharpness(0.3, p=0.7)],
      reps=4, atol=1e-6, errors=[('negative', lambda L: L.T.RandomAdjustSharpness(-1.0, p=1.0)(u8(L)))]),
    T('RandomAutocontrast', [lambda T: T.RandomAutocontrast(), lambda T: T.RandomAutocontrast(p=0.8)], reps=4,
      atol=1e-6, errors=[('one dimension', lambda L: L.T.RandomAutocontrast(p=1.0)(L.torch.zeros(4)))]),
    T('RandomEqualize', [lambda T: T.RandomEqualize(), lambda T: T.RandomEqualize(p=0.8)], reps=4,
      kinds=('pil', 'uint8', 'batch', 'gray'),
      errors=[('float', lambda L: L.T.RandomEqualize(p=1.0)(f32(L)))]),
    T('FiveCrop', [lambda T: T.FiveCrop(4), lambda T: T.FiveCrop((5, 8)), lambda T: T.FiveCrop([6])], reps=1,
      errors=[('bigger than the image', lambda L: L.T.FiveCrop(12)(u8(L))),
              ('three sizes', lambda L: L.T.FiveCrop((1, 2, 3)))]),
    T('TenCrop', [lambda T: T.TenCrop(4), lambda T: T.TenCrop((5, 8), vertical_flip=True)], reps=1,
      errors=[('bigger than the image', lambda L: L.T.TenCrop((10, 3))(pil()))]),
    T('RandomPerspective', [lambda T: T.RandomPerspective(), lambda T: T.RandomPerspective(0.8, p=0.9, fill=9),
                            lambda T: T.RandomPerspective(0.3, p=1.0, interpolation=T.InterpolationMode.NEAREST)],
      reps=4, atol=1e-5, u8_atol=1,
      errors=[('fill dict', lambda L: L.T.RandomPerspective(fill={})),
              ('two fills for three channels', lambda L: L.T.RandomPerspective(p=1.0, fill=(1, 2))(u8(L))),
              ('bicubic tensor', lambda L: L.T.RandomPerspective(
                  p=1.0, interpolation=L.T.InterpolationMode.BICUBIC)(u8(L)))]),
    V('transforms.ConvertImageDtype', [
        Case('uint8 to floats', lambda L: (repr(L.T.ConvertImageDtype(L.torch.float32)),
                                           [L.T.ConvertImageDtype(d)(u8(L)) for d in (L.torch.float32, L.torch.float64)])),
        Case('float to ints', lambda L: [L.T.ConvertImageDtype(d)(f32(L)) for d in (L.torch.uint8, L.torch.int16)]),
        Case('float64 to int32', lambda L: L.T.ConvertImageDtype(L.torch.int32)(f32(L).double())),
        Case('int to int', lambda L: [L.F.convert_image_dtype(u8(L), d) for d in (L.torch.int16, L.torch.int64)] +
             [L.F.convert_image_dtype(u8(L).to(L.torch.int32) * 1000000, L.torch.uint8)]),
        Case('same dtype', lambda L: L.T.ConvertImageDtype(L.torch.uint8)(u8(L))),
        Case('float to int64', lambda L: L.T.ConvertImageDtype(L.torch.int64)(f32(L)), error=True),
        Case('float32 to int32', lambda L: L.F.convert_image_dtype(f32(L), L.torch.int32), error=True),
        Case('pil', lambda L: L.F.convert_image_dtype(pil()), error=True),
    ]),
    V('transforms.ToTensor', [
        Case('pil rgb', lambda L: (repr(L.T.ToTensor()), L.T.ToTensor()(pil()))),
        Case('pil gray and rgba', lambda L: [L.T.ToTensor()(pil(mode=m)) for m in ('L', 'RGBA')]),
        Case('numpy hwc uint8', lambda L: L.T.ToTensor()(np.array(pil()))),
        Case('pil modes 1 P I F I;16', lambda L: [L.T.ToTensor()(_pil_mode(m)) for m in ('1', 'P', 'I', 'F', 'I;16')]),
        Case('pil modes LA CMYK YCbCr HSV', lambda L: [L.T.ToTensor()(_pil_mode(m))
                                                       for m in ('LA', 'CMYK', 'YCbCr', 'HSV')]),
        Case('numpy float', lambda L: L.T.ToTensor()(np.ones((2, 3, 1), np.float64))),
        Case('numpy 2-d', lambda L: L.T.ToTensor()(np.arange(6, dtype=np.uint8).reshape(2, 3))),
        Case('tensor', lambda L: L.T.ToTensor()(L.torch.zeros(3)), error=True),
        Case('numpy 4-d', lambda L: L.T.ToTensor()(np.zeros((1, 2, 3, 1))), error=True),
    ]),
    V('transforms.PILToTensor', [
        Case('modes', lambda L: [L.T.PILToTensor()(_pil_mode(m)) for m in ('1', 'P', 'I', 'F', 'LA', 'CMYK')]),
        Case('16-bit', lambda L: L.T.PILToTensor()(_pil_mode('I;16'))),
        Case('rgb and gray', lambda L: (repr(L.T.PILToTensor()),
                                        [L.T.PILToTensor()(pil(mode=m)) for m in ('RGB', 'L')])),
        Case('numpy', lambda L: L.T.PILToTensor()(np.asarray(pil())), error=True),
    ]),
    V('transforms.ToPILImage', [
        Case('float', lambda L: (repr(L.T.ToPILImage()), L.T.ToPILImage()(f32(L)))),
        Case('uint8', lambda L: L.T.ToPILImage()(u8(L))),
        Case('one channel', lambda L: [L.T.ToPILImage()(f32(L)[:1]), L.T.ToPILImage()(u8(L)[0])]),
        Case('four channels', lambda L: L.T.ToPILImage()(L.torch.cat([u8(L), u8(L)[:1]]))),
        Case('mode', lambda L: L.T.ToPILImage(mode='RGB')(u8(L))),
        Case('two channels', lambda L: [L.T.ToPILImage()(f32(L)[:2]), L.T.ToPILImage()(u8(L)[:2])]),
        Case('int tensors', lambda L: [L.T.ToPILImage()(u8(L)[:1].to(dt)) for dt in (L.torch.int16, L.torch.int32)]),
        Case('float64 and float numpy', lambda L: [L.T.ToPILImage()(f32(L).double()),
                                                   L.T.ToPILImage()(np.ones((3, 4, 1), np.float32) / 3)]),
        Case('numpy hwc', lambda L: L.T.ToPILImage()(np.asarray(pil()))),
        Case('4-d', lambda L: L.T.ToPILImage()(L.torch.zeros(1, 3, 4, 4)), error=True),
        Case('bad mode', lambda L: L.T.ToPILImage(mode='L')(u8(L)), error=True),
        Case('list', lambda L: L.T.ToPILImage()([1, 2]), error=True),
    ]),
    V('transforms.Normalize', [
        Case('float', lambda L: (repr(L.T.Normalize((0.5, 0.4, 0.3), (0.2, 0.3, 0.4))),
                                 L.T.Normalize((0.5, 0.4, 0.3), (0.2, 0.3, 0.4))(f32(L)))),
        Case('batch and one value', lambda L: L.T.Normalize([0.5], [0.25])(f32(L)[None].expand(2, 3, 9, 11))),
        Case('inplace', lambda L: _inplace_norm(L)),
        Case('float64', lambda L: L.T.Normalize((0.1,), (2.0,))(f32(L).double())),
        Case('tensor mean and std', lambda L: L.T.Normalize(L.torch.tensor([0.5, 0.4, 0.3]),
                                                            L.torch.tensor([2.0]))(f32(L))),
        Case('pil', lambda L: L.T.Normalize((0.5,), (0.5,))(pil()), error=True),
        Case('uint8', lambda L: L.T.Normalize((0.5,), (0.5,))(u8(L)), error=True),
        Case('zero std', lambda L: L.T.Normalize((0.5,), (0.0,))(f32(L)), error=True),
        Case('1-d', lambda L: L.T.Normalize((0.5,), (0.5,))(L.torch.zeros(3)), error=True),
    ], atol=1e-6),
    V('transforms.InterpolationMode', [
        Case('members', lambda L: [(m.name, m.value) for m in L.T.InterpolationMode]),
        Case('by value', lambda L: L.T.InterpolationMode('bicubic').name),
        Case('unknown', lambda L: L.T.InterpolationMode('cubic'), error=True),
    ]),
]


def _pil_mode(mode):
    """A small PIL image in ``mode`` (converted from the RGB one: 1, P, I, F, I;16)."""
    img = pil(4, 5, 1)
    return img.convert('L').convert(mode) if mode in ('I;16',) else img.convert(mode)


def _inplace_norm(L):
    x = f32(L)
    y = L.T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5), inplace=True)(x)
    return x, y is x


def functional(L, kind):
    """transforms.functional's operations on one image kind (geometry, colour, conversions)."""
    F, img = L.F, IMAGES(L)[kind]
    out = [F.resize(img, [5, 7]), F.crop(img, 1, 2, 4, 5), F.center_crop(img, [4, 4]), F.hflip(img), F.vflip(img),
           F.pad(img, [1, 2], padding_mode='reflect'), F.rotate(img, 30.0), F.affine(img, 10.0, [1, 2], 0.9, [5.0]),
           F.resized_crop(img, 1, 1, 5, 6, [4, 4]), F.rgb_to_grayscale(img), F.adjust_brightness(img, 1.3),
           F.adjust_contrast(img, 0.7), F.adjust_saturation(img, 1.5), F.adjust_hue(img, 0.2),
           F.adjust_sharpness(img, 1.8), F.get_image_size(img), F.get_image_num_channels(img), F.get_dimensions(img)]
    if kind != 'float':
        out += [F.posterize(img, 3), F.solarize(img, 100), F.autocontrast(img), F.equalize(img), F.invert(img)]
    out += [F.adjust_gamma(img, 0.6), F.adjust_gamma(img, 2.2, gain=0.8), F.gaussian_blur(img, 3),
            F.gaussian_blur(img, [5, 3], [1.5, 0.7]), F.gaussian_blur(img, (1, 5), 2.0), F.five_crop(img, 4),
            F.ten_crop(img, [5, 3]), F.ten_crop(img, 4, vertical_flip=True),
            F.perspective(img, [[0, 0], [10, 0], [10, 8], [0, 8]], [[1, 2], [9, 0], [10, 7], [2, 8]]),
            F.perspective(img, [[0, 0], [10, 0], [10, 8], [0, 8]], [[3, 1], [8, 2], [7, 6], [1, 7]],
                          F.InterpolationMode.NEAREST, fill=[5])]
    return out


def _quad():
    return [[0, 0], [10, 0], [10, 8], [0, 8]], [[1, 2], [9, 0], [10, 7], [2, 8]]


def _inplace_erase(L):
    x = f32(L)
    y = L.F.erase(x, 1, 1, 2, 3, L.torch.tensor([1.0, 2.0, 3.0])[:, None, None], inplace=True)
    return x, y is x


def conversions(L):
    F = L.F
    return [F.to_tensor(pil()), F.pil_to_tensor(pil()), F.to_pil_image(u8(L)), F.to_pil_image(f32(L)),
            F.normalize(f32(L), [0.5, 0.4, 0.3], [0.2, 0.2, 0.2]), F.to_grayscale(pil(), 3)]


def v2_pipelines(T2, torch):
    """torchvision.transforms.v2 pipelines over the v2 transforms (their draws, reprs and kernels: uint8 tensors
    resized in uint8, float posterize/solarize/equalize, (image, label) samples passed through)."""
    return {
        'convert': T2.Compose([T2.ToImage(), T2.ToDtype(torch.float32, scale=True), T2.Normalize([0.5] * 3, [0.25] * 3)]),
        'flips': T2.Compose([T2.RandomHorizontalFlip(), T2.RandomVerticalFlip(p=0.7)]),
        'resized crop': T2.RandomResizedCrop(6), 'crop pad': T2.RandomCrop(8, padding=2),
        'crop one side': T2.RandomCrop((9, 5)), 'crop pad if needed': T2.RandomCrop(12, pad_if_needed=True, fill=3),
        'rotation': T2.RandomRotation(30),
        'affine': T2.RandomAffine(20, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=(5, 10, -5, 5)),
        'jitter': T2.ColorJitter(0.4, 0.3, 0.2, 0.1), 'blur': T2.GaussianBlur(5, sigma=(0.1, 2.0)),
        'perspective': T2.RandomPerspective(p=1.0), 'grayscale': T2.RandomGrayscale(p=0.9),
        'resize': T2.Resize(6), 'resize nearest': T2.Resize((5, 7), interpolation=T2.InterpolationMode.NEAREST),
        'resize bicubic': T2.Resize((7, 13), interpolation=T2.InterpolationMode.BICUBIC),
        'center crop': T2.CenterCrop(7), 'pad': T2.Pad([1, 2, 3, 4], padding_mode='reflect'),
        'choice': T2.RandomChoice([T2.RandomHorizontalFlip(p=1.0), T2.CenterCrop(6), T2.Resize(5)]),
        'order': T2.RandomOrder([T2.RandomHorizontalFlip(), T2.CenterCrop(6), T2.RandomRotation(10)]),
        'apply': T2.RandomApply([T2.ColorJitter(0.5), T2.RandomRotation(10)], p=0.6),
        'color ops': T2.Compose([T2.RandomInvert(), T2.RandomPosterize(3, p=0.8), T2.RandomSolarize(0.5, p=0.3),
                                 T2.RandomAdjustSharpness(2, p=0.8), T2.RandomAutocontrast(p=0.8),
                                 T2.RandomEqualize(p=0.8)]),
        'channel permutation': T2.RandomChannelPermutation(),
        'erasing': T2.Compose([T2.ToImage(), T2.ToDtype(torch.float32, scale=True),
                               T2.RandomErasing(p=1.0, value='random')]),
        'erasing zero': T2.Compose([T2.ToImage(), T2.RandomErasing(p=0.9)]),
        'noise': T2.Compose([T2.ToImage(), T2.ToDtype(torch.float32, scale=True), T2.GaussianNoise()]),
        'pil round trip': T2.Compose([T2.ToImage(), T2.ToPILImage(), T2.PILToTensor()]),
        'grayscale rgb': T2.Compose([T2.Grayscale(1), T2.RGB()]), 'five crop': T2.FiveCrop(4),
        'trivial augment': T2.TrivialAugmentWide(), 'rand augment': T2.RandAugment(3, 5, fill=7),
        'auto augment': T2.AutoAugment(), 'auto augment cifar10': T2.AutoAugment(T2.AutoAugmentPolicy.CIFAR10),
        'auto augment svhn': T2.AutoAugment(T2.AutoAugmentPolicy.SVHN),
    }


def v2_run(L, name, kind, reps=6):
    """The pipeline's repr and its outputs on an image kind (a 'pair' is a PIL image with its int label)."""
    T2 = L.mod('T.v2')
    t = v2_pipelines(T2, L.torch)[name]
    imgs = IMAGES(L)
    sample = (pil(), 7) if kind == 'pair' else imgs[kind]
    return repr(t), [t(*sample) if kind == 'pair' else t(sample) for _ in range(reps)]


def v2_mix(L, cls, labels_2d=False):
    """MixUp/CutMix on a float batch with index (or probability) labels, three draws."""
    T2 = L.mod('T.v2')
    batch = L.torch.stack([f32(L), f32(L, seed=1), f32(L, seed=2)])
    labels = L.torch.tensor([0, 2, 1])
    if labels_2d:
        labels = L.torch.nn.functional.one_hot(labels, 4).float()
    t = getattr(T2, cls)(alpha=0.7, num_classes=4)
    return repr(t), [t(batch, labels) for _ in range(3)]


SUBMODULES_VISION = {
    'transforms.autoaugment': ('T.autoaugment', 'T', ['RandAugment', 'TrivialAugmentWide', 'InterpolationMode',
                                                      'AutoAugment', 'AutoAugmentPolicy', 'AugMix']),
    'transforms.transforms': ('T.transforms', 'T', [
        'CenterCrop', 'ColorJitter', 'Compose', 'Grayscale', 'InterpolationMode', 'Lambda', 'Normalize', 'PILToTensor',
        'Pad', 'RandomAffine', 'RandomApply', 'RandomCrop', 'RandomGrayscale', 'RandomHorizontalFlip',
        'RandomResizedCrop', 'RandomRotation', 'RandomVerticalFlip', 'Resize', 'ToPILImage', 'ToTensor',
        'ConvertImageDtype', 'RandomErasing', 'GaussianBlur', 'RandomInvert', 'RandomPosterize', 'RandomSolarize',
        'RandomAdjustSharpness', 'RandomAutocontrast', 'RandomEqualize', 'FiveCrop', 'TenCrop', 'RandomPerspective']),
    'transforms.functional': ('T.functional', 'T', [
        'InterpolationMode', 'resize', 'crop', 'center_crop', 'hflip', 'vflip', 'pad', 'rotate', 'affine',
        'resized_crop', 'rgb_to_grayscale', 'to_grayscale', 'adjust_brightness', 'adjust_contrast',
        'adjust_saturation', 'adjust_hue', 'adjust_sharpness', 'posterize', 'solarize', 'autocontrast', 'equalize',
        'invert', 'to_tensor', 'pil_to_tensor', 'to_pil_image', 'normalize', 'get_image_size', 'get_image_num_channels',
        'get_dimensions', 'adjust_gamma', 'convert_image_dtype', 'erase', 'gaussian_blur', 'five_crop', 'ten_crop',
        'perspective']),
    'datasets.cifar': ('datasets.cifar', 'datasets', ['CIFAR10', 'CIFAR100', 'VisionDataset', 'check_integrity',
                                                      'download_and_extract_archive']),
    'datasets.fakedata': ('datasets.fakedata', 'datasets', ['FakeData', 'VisionDataset']),
    'datasets.folder': ('datasets.folder', 'datasets', [
        'DatasetFolder', 'ImageFolder', 'VisionDataset', 'IMG_EXTENSIONS', 'default_loader', 'pil_loader',
        'find_classes', 'make_dataset', 'has_file_allowed_extension', 'is_image_file']),
    'datasets.food101': ('datasets.food101', 'datasets', ['Food101', 'VisionDataset', 'verify_str_arg']),
    'datasets.lsun': ('datasets.lsun', 'datasets', ['LSUN', 'LSUNClass', 'VisionDataset', 'iterable_to_str',
                                                    'verify_str_arg']),
    'datasets.mnist': ('datasets.mnist', 'datasets', ['MNIST', 'FashionMNIST', 'KMNIST', 'EMNIST', 'QMNIST',
                                                      'VisionDataset',
                                                      'check_integrity',
                                                      'read_image_file', 'read_label_file']),
    'datasets.svhn': ('datasets.svhn', 'datasets', ['SVHN', 'VisionDataset', 'check_integrity', 'download_url',
                                                    'verify_str_arg']),
    'datasets.utils': ('datasets.utils', 'datasets', [
        'calculate_md5', 'check_md5', 'check_integrity', 'download_url', 'extract_archive',
        'download_and_extract_archive', 'iterable_to_str', 'verify_str_arg']),
    'datasets.vision': ('datasets.vision', 'datasets', ['VisionDataset', 'StandardTransform']),
}

VISION += [
    V('transforms.functional', [Case(k, lambda L, k=k: functional(L, k)) for k in ('pil', 'uint8', 'float', 'gray')] + [
        Case('conversions', conversions),
        Case('crop pads past the edge', lambda L: [L.F.crop(x, -2, 8, 5, 6) for x in (pil(), u8(L))]),
        Case('pad bad mode', lambda L: L.F.pad(u8(L), [1], padding_mode='wrap'), error=True),
        Case('adjust_hue out of range', lambda L: L.F.adjust_hue(pil(), 0.6), error=True),
        Case('adjust_brightness negative', lambda L: L.F.adjust_brightness(u8(L), -1.0), error=True),
        Case('posterize float', lambda L: L.F.posterize(f32(L), 3), error=True),
        Case('to_pil_image 4-d', lambda L: L.F.to_pil_image(L.torch.zeros(1, 1, 2, 2)), error=True),
        Case('erase', lambda L: [L.F.erase(u8(L), 1, 2, 3, 4, L.torch.tensor(5)),
                                 L.F.erase(f32(L), 0, 0, 2, 2, L.torch.zeros(3, 2, 2))]),
        Case('erase inplace', lambda L: _inplace_erase(L)),
        Case('erase pil', lambda L: L.F.erase(pil(), 0, 0, 1, 1, L.torch.tensor(0)), error=True),
        Case('adjust_gamma negative', lambda L: L.F.adjust_gamma(u8(L), -1.0), error=True),
        Case('adjust_gamma negative pil', lambda L: L.F.adjust_gamma(pil(), -1.0), error=True),
        Case('adjust_gamma two channels', lambda L: L.F.adjust_gamma(u8(L)[:2], 2.0), error=True),
        Case('adjust_gamma gray 2-d', lambda L: L.F.adjust_gamma(f32(L)[0], 0.5)),
        Case('gaussian_blur even kernel', lambda L: L.F.gaussian_blur(u8(L), 4), error=True),
        Case('gaussian_blur three kernels', lambda L: L.F.gaussian_blur(u8(L), [3, 3, 3]), error=True),
        Case('gaussian_blur kernel str', lambda L: L.F.gaussian_blur(u8(L), '3'), error=True),
        Case('gaussian_blur zero sigma', lambda L: L.F.gaussian_blur(u8(L), 3, 0.0), error=True),
        Case('gaussian_blur sigma str', lambda L: L.F.gaussian_blur(u8(L), 3, '1'), error=True),
        Case('gaussian_blur float64', lambda L: L.F.gaussian_blur(f32(L).double(), 5, [0.8])),
        Case('gaussian_blur 2-d', lambda L: L.F.gaussian_blur(f32(L)[0], 3), error=True),
        Case('perspective three corners', lambda L: L.F.perspective(u8(L), [[0, 0]] * 3, [[0, 0]] * 3), error=True),
        Case('perspective interpolation str', lambda L: L.F.perspective(u8(L), *_quad(), 'x'), error=True),
        Case('perspective degenerate', lambda L: L.F.perspective(u8(L), [[0, 0]] * 4, [[0, 0]] * 4), error=True),
        Case('five_crop too big', lambda L: L.F.five_crop(u8(L), [10, 4]), error=True),
        Case('five_crop three sizes', lambda L: L.F.five_crop(u8(L), [1, 2, 3]), error=True),
    ], atol=1e-5),
    V('transforms.v2', [Case(f'{name}:{kind}', lambda L, n=name, k=kind: v2_run(L, n, k))
                        for name in ('convert', 'flips', 'resized crop', 'crop pad', 'crop one side', 'crop pad if needed',
                                     'rotation', 'affine', 'jitter', 'blur', 'perspective', 'grayscale', 'resize',
                                     'resize nearest', 'resize bicubic', 'center crop', 'pad', 'choice', 'order',
                                     'apply', 'color ops', 'channel permutation', 'erasing', 'erasing zero', 'noise',
                                     'pil round trip', 'grayscale rgb', 'five crop', 'trivial augment',
                                     'rand augment', 'auto augment', 'auto augment cifar10', 'auto augment svhn')
                        for kind in ('pil', 'uint8', 'float', 'pair')
                        if not (kind == 'pil' and name == 'noise')] + [
        Case('mixup', lambda L: v2_mix(L, 'MixUp')), Case('cutmix', lambda L: v2_mix(L, 'CutMix')),
        Case('mixup 2-d labels', lambda L: v2_mix(L, 'MixUp', labels_2d=True)),
        Case('normalize pil', lambda L: L.mod('T.v2').Normalize([0.5], [0.5])(pil()), error=True),
        Case('mixup without num_classes', lambda L: L.mod('T.v2').MixUp()(L.torch.zeros(2, 3, 4, 4),
                                                                         L.torch.tensor([0, 1])), error=True),
        Case('to_dtype scale', lambda L: [L.mod('T.v2').functional.to_dtype(u8(L), L.torch.float32, scale=True),
                                          L.mod('T.v2').functional.to_dtype(f32(L), L.torch.uint8, scale=True)]),
        Case('totensor warns', lambda L: L.mod('T.v2').ToTensor()(pil())),
    ], atol=1e-5, u8_atol=1),   # rotations, affine maps and perspective warps of uint8 tensors: v1's last-bit grid
] + [V(name, [Case('names', lambda L, s=s, t=t, n=n: identical(L, s, t, n))])
     for name, (s, t, n) in SUBMODULES_VISION.items()]

# -- torchvision.datasets -----------------------------------------------------------------------------------------
def fake(L, **kw):
    ds = L.datasets.FakeData(**kw)
    return repr(ds), len(ds), items(ds)


def loader_npy(path):
    return np.load(path)


VISION += [
    V('datasets.FakeData', [
        Case('defaults', lambda L: (repr(L.datasets.FakeData()), len(L.datasets.FakeData()),
                                    items(L.datasets.FakeData(), 2))),
        Case('small images', lambda L: fake(L, size=3, image_size=(3, 5, 4), num_classes=4, random_offset=2)),
        Case('transforms', lambda L: fake(L, size=2, image_size=(1, 6, 5), transform=L.T.ToTensor(),
                                          target_transform=L.T.Lambda(lambda y: y * 10))),
        Case('same item twice', lambda L: [L.datasets.FakeData(4, (3, 4, 4))[1] for _ in range(2)]),
        Case('index past end', lambda L: L.datasets.FakeData(2, (3, 4, 4))[2], error=True),
    ]),
    V('datasets.ImageFolder', [
        Case('tree', lambda L: folder_view(L, L.datasets.ImageFolder(image_tree(L)))),
        Case('transform', lambda L: folder_view(L, L.datasets.ImageFolder(image_tree(L), transform=L.T.ToTensor(),
                                                                          target_transform=L.T.Lambda(lambda y: -y)))),
        Case('is_valid_file', lambda L: folder_view(L, L.datasets.ImageFolder(
            image_tree(L), is_valid_file=lambda p: p.lower().endswith('.png')))),
        Case('a class left empty by is_valid_file', lambda L: L.datasets.ImageFolder(
            image_tree(L), is_valid_file=lambda p: p.endswith('.png')), error=True),
        Case('allow_empty', lambda L: folder_view(L, L.datasets.ImageFolder(
            image_tree(L, (('a', ('x.png',)), ('b', ('y.txt',)))), allow_empty=True))),
        Case('empty class', lambda L: L.datasets.ImageFolder(image_tree(L, (('a', ('x.png',)), ('b', ('y.txt',))))),
             error=True),
        Case('no classes', lambda L: L.datasets.ImageFolder(L.tmp), error=True),
    ]),
    V('datasets.DatasetFolder', [
        Case('npy loader', lambda L: folder_view(L, L.datasets.DatasetFolder(npy_tree(L), loader_npy, ('.npy',)))),
        Case('find_classes', lambda L: L.datasets.DatasetFolder.find_classes(None, image_tree(L))),
        Case('make_dataset', lambda L: rel(L, [p for p, _ in L.datasets.DatasetFolder.make_dataset(
            image_tree(L), {'cat': 0, 'dog': 1}, extensions=('.png',))])),
        Case('extensions and is_valid_file', lambda L: L.datasets.DatasetFolder(npy_tree(L), loader_npy, ('.npy',),
                                                                                is_valid_file=bool), error=True),
        Case('neither', lambda L: L.datasets.DatasetFolder(npy_tree(L), loader_npy), error=True),
    ]),
    V('datasets.MNIST', [
        Case('train', lambda L: mnist(L)),
        Case('test', lambda L: mnist(L, train=False, transform=L.T.ToTensor(),
                                     target_transform=L.T.Lambda(lambda y: y + 1))),
        Case('properties', lambda L: (_mnist_props(L))),
        Case('download with the files present', lambda L: _printed(lambda: mnist(L, download=True))),
        Case('missing files', lambda L: L.datasets.MNIST(L.tmp), error=True),
    ]),
    V('datasets.KMNIST', [
        Case('train', lambda L: mnist(L, 'KMNIST')),
        Case('test', lambda L: mnist(L, 'KMNIST', train=False)),
        Case('missing files', lambda L: L.datasets.KMNIST(L.tmp), error=True),
    ]),
    V('datasets.EMNIST', [
        Case('byclass', lambda L: emnist(L, 'byclass')),
        Case('letters test', lambda L: emnist(L, 'letters', train=False, classes=27)),
        Case('balanced and digits', lambda L: [emnist(L, 'balanced', classes=47), emnist(L, 'digits', classes=10)]),
        Case('class lists', lambda L: (L.datasets.EMNIST.splits, L.datasets.EMNIST.classes_split_dict)),
        Case('bad split', lambda L: L.datasets.EMNIST(L.tmp, 'words'), error=True),
        Case('missing files', lambda L: L.datasets.EMNIST(L.tmp, 'mnist'), error=True),
    ]),
    V('datasets.QMNIST', [
        Case('train', lambda L: qmnist(L)),
        Case('test without compat', lambda L: qmnist(L, train=False, compat=False)),
        Case('test10k and test50k', lambda L: [qmnist(L, what='test10k'), qmnist(L, what='test50k')]),
        Case('nist', lambda L: qmnist(L, files=('xnist',), what='nist', target_transform=_double)),
        Case('bad what', lambda L: L.datasets.QMNIST(L.tmp, what='valid'), error=True),
        Case('missing files', lambda L: L.datasets.QMNIST(L.tmp), error=True),
    ]),
    V('datasets.FashionMNIST', [
        Case('train', lambda L: mnist(L, 'FashionMNIST')),
        Case('test', lambda L: mnist(L, 'FashionMNIST', train=False)),
        Case('missing files', lambda L: L.datasets.FashionMNIST(L.tmp), error=True),
    ]),
    V('datasets.CIFAR10', [
        Case('train', lambda L: cifar(L)),
        Case('test transform', lambda L: cifar(L, train=False, transform=L.T.ToTensor())),
        Case('download with the files present', lambda L: _printed(lambda: cifar(L, download=True))),
        Case('missing files', lambda L: L.datasets.CIFAR10(L.tmp), error=True),
        Case('wrong checksum', lambda L: _cifar_corrupt(L), error=True),
    ]),
    V('datasets.CIFAR100', [
        Case('train', lambda L: cifar(L, 'CIFAR100')),
        Case('test', lambda L: cifar(L, 'CIFAR100', train=False)),
        Case('missing files', lambda L: L.datasets.CIFAR100(L.tmp), error=True),
    ]),
    V('datasets.Food101', [
        Case('train', lambda L: food101(L, 'train')),
        Case('test', lambda L: food101(L, 'test')),
        Case('missing', lambda L: L.datasets.Food101(L.tmp), error=True),
        Case('bad split', lambda L: L.datasets.Food101(L.tmp, split='val'), error=True),
    ]),
    V('datasets.SVHN', [
        Case('train', lambda L: svhn(L)),
        Case('missing', lambda L: L.datasets.SVHN(L.tmp), error=True),
        Case('bad split', lambda L: L.datasets.SVHN(L.tmp, split='dev'), error=True),
    ]),
    V('datasets.LSUN', [
        Case('class list', lambda L: lsun(L, classes=['kitchen_train', 'garage_val']), error=True),
        Case('postfix', lambda L: lsun(L, classes=['living_room_tst']), error=True),
        Case('class type', lambda L: lsun(L, classes=[3]), error=True),
        Case('classes type', lambda L: lsun(L, classes=7), error=True),
        Case('needs lmdb', lambda L: lsun(L, classes=['bedroom_train']), error=True),
    ], gaps={'forward': NO_LMDB}),
    V('datasets.LSUNClass', [
        Case('needs lmdb', lambda L: L.datasets.LSUNClass(L.tmp), error=True),
    ], gaps={'forward': NO_LMDB}),
    V('datasets.VisionDataset', [
        Case('repr and items', lambda L: (repr(vision_ds(L)), items(vision_ds(L)))),
        Case('transforms', lambda L: (repr(_with_transforms(L)), items(_with_transforms(L)))),
        Case('joint transforms', lambda L: items(vision_ds(L, transforms=lambda x, y: (L.T.PILToTensor()(x), -y)))),
        Case('both transforms', lambda L: vision_ds(L, transforms=lambda x, y: (x, y), transform=L.T.ToTensor()),
             error=True),
        Case('getitem not implemented', lambda L: L.datasets.VisionDataset('r')[0], error=True),
    ]),
]


def _utils_calls(L):
    """datasets.utils on a small file: md5, integrity with the right, a wrong and no checksum, a missing file."""
    import os
    u = L.mod('datasets.utils')
    path = os.path.join(L.tmp, 'f.bin')
    with open(path, 'wb') as f:
        f.write(bytes(range(200)))
    md5 = u.calculate_md5(path)
    return (md5, u.check_md5(path, md5), u.check_integrity(path, md5), u.check_integrity(path, '0' * 32),
            u.check_integrity(path), u.check_integrity(path + 'x'), u.verify_str_arg('b', 'arg', ('a', 'b')),
            u.iterable_to_str(['x', 'y']))


def _folder_calls(L):
    """datasets.folder's functions on a tree of images: classes, samples, extension tests, the loaders."""
    fo = L.mod('datasets.folder')
    root = image_tree(L)
    classes, idx = fo.find_classes(root)
    samples = fo.make_dataset(root, idx, extensions=fo.IMG_EXTENSIONS)
    return (classes, idx, [(rel(L, [p])[0], c) for p, c in samples], fo.IMG_EXTENSIONS,
            [fo.has_file_allowed_extension(n, ('.png', '.jpg')) for n in ('a.PNG', 'b.jpg', 'c.txt')],
            [fo.is_image_file(n) for n in ('a.webp', 'b.tif', 'c.npy')], fo.default_loader(samples[0][0]),
            fo.pil_loader(samples[1][0]))


VISION += [
    V('datasets.utils', [
        Case('checksums and arguments', _utils_calls),
        Case('verify_str_arg refuses', lambda L: L.mod('datasets.utils').verify_str_arg('c', 'arg', ('a', 'b')),
             error=True),
        Case('verify_str_arg not a str', lambda L: L.mod('datasets.utils').verify_str_arg(3, 'arg'), error=True),
    ]),
    V('datasets.folder', [
        Case('functions', _folder_calls),
        Case('make_dataset with both filters', lambda L: L.mod('datasets.folder').make_dataset(
            image_tree(L), {'cat': 0}, extensions=('.png',), is_valid_file=bool), error=True),
        Case('find_classes of an empty folder', lambda L: L.mod('datasets.folder').find_classes(L.tmp), error=True),
    ]),
]


def _printed(fn):
    """``fn()``'s result and what it printed."""
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn()
    return result, out.getvalue()


def _with_transforms(L):
    return vision_ds(L, transform=L.T.ToTensor(), target_transform=L.T.Lambda(lambda y: y + 5))


def _mnist_props(L):
    ds = L.datasets.MNIST(mnist_files(L))
    return ds.class_to_idx, ds.train_labels, ds.test_data.shape if hasattr(ds.test_data, 'shape') else None, \
        ds.raw_folder.replace(L.tmp, 'ROOT'), ds.processed_folder.replace(L.tmp, 'ROOT')


def _cifar_corrupt(L):
    cls = cifar_class(L)
    import os
    with open(os.path.join(L.tmp, cls.base_folder, 'test_batch'), 'ab') as f:
        f.write(b'x')
    return cls(L.tmp)

ENTRIES = DATA + VISION
