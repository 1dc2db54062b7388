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

CHECKS_DATA = {}   # the entries use the registry's own letters: forward (F) and errors (E)


class Case:
    """One call: ``fn(L)`` returns what is compared. ``error``: PyTorch raises, ember must raise the same type."""
    def __init__(self, desc, fn, error=False):
        self.desc, self.fn, self.error = desc, fn, error


class Call:
    """One public name ``full`` (e.g. ``torch.utils.data.RandomSampler``) checked through ``cases``. ``seed``: each
    case runs right after ``manual_seed(seed)`` in its library; values compare bit for bit unless ``atol``."""
    kind = 'call'

    def __init__(self, full, cases, seed=0, atol=0.0, gaps=None):
        self.full, self.cases, self.seed, self.atol, self.gaps = full, list(cases), seed, atol, dict(gaps or {})

    @property
    def id(self):
        return self.full

    def checks(self):
        got = {'forward'}
        if any(c.error for c in self.cases):
            got.add('errors')
        return got - set(self.gaps)

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
        Case('list and len', lambda L: (list(L.data.SequentialSampler(range(5))), len(L.data.SequentialSampler('abc')))),
        Case('dataset', lambda L: list(L.data.SequentialSampler(arange_ds(L, 4)))),
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
        Case('num_samples 0', lambda L: L.data.RandomSampler(range(5), num_samples=0), error=True),
        Case('num_samples float', lambda L: L.data.RandomSampler(range(5), num_samples=2.5), error=True),
        Case('replacement not bool', lambda L: L.data.RandomSampler(range(5), replacement=1), error=True),
    ]),
    D('SubsetRandomSampler', [
        Case('permutes indices', lambda L: epochs(L.data.SubsetRandomSampler([10, 4, 7, 1, 8]))),
        Case('generator and len', lambda L: (list(L.data.SubsetRandomSampler(range(3, 9), generator=gen(L))),
                                             len(L.data.SubsetRandomSampler([5, 6, 7])))),
    ]),
    D('WeightedRandomSampler', [
        Case('replacement', lambda L: epochs(L.data.WeightedRandomSampler(W, 10))),
        Case('no replacement', lambda L: list(L.data.WeightedRandomSampler(W, 5, replacement=False))),
        Case('tensor weights', lambda L: list(L.data.WeightedRandomSampler(L.torch.tensor(W, dtype=L.torch.float64), 8))),
        Case('generator and len', lambda L: (list(L.data.WeightedRandomSampler(W, 7, generator=gen(L))),
                                             len(L.data.WeightedRandomSampler(W, 7)))),
        Case('num_samples 0', lambda L: L.data.WeightedRandomSampler(W, 0), error=True),
        Case('replacement not bool', lambda L: L.data.WeightedRandomSampler(W, 3, replacement=0), error=True),
        Case('weights 2-d', lambda L: L.data.WeightedRandomSampler([[1.0, 2.0]], 3), error=True),
        Case('too many without replacement', lambda L: list(L.data.WeightedRandomSampler(W, 9, replacement=False)),
             error=True),
    ]),
    D('BatchSampler', [
        Case('keep last', lambda L: (list(L.data.BatchSampler(range(10), 3, False)),
                                     len(L.data.BatchSampler(range(10), 3, False)))),
        Case('drop last', lambda L: (list(L.data.BatchSampler(range(10), 3, True)),
                                     len(L.data.BatchSampler(range(10), 3, True)))),
        Case('of a random sampler', lambda L: list(L.data.BatchSampler(L.data.RandomSampler(range(7)), 2, False))),
        Case('batch_size 0', lambda L: L.data.BatchSampler(range(4), 0, False), error=True),
        Case('batch_size bool', lambda L: L.data.BatchSampler(range(4), True, False), error=True),
        Case('drop_last not bool', lambda L: L.data.BatchSampler(range(4), 2, 1), error=True),
    ]),
    D('DistributedSampler', [
        Case('ranks shuffle', lambda L: [list(L.data.DistributedSampler(range(10), 3, r)) for r in range(3)]),
        Case('ranks no shuffle', lambda L: [list(L.data.DistributedSampler(range(10), 3, r, shuffle=False))
                                            for r in range(3)]),
        Case('drop_last', lambda L: [(list(s), len(s)) for s in (L.data.DistributedSampler(range(10), 3, r,
                                     drop_last=True) for r in range(3))]),
        Case('seed and set_epoch', lambda L: [list(s) for s in _epoch_sampler(L)]),
        Case('rank out of range', lambda L: L.data.DistributedSampler(range(10), 3, 3), error=True),
        Case('negative rank', lambda L: L.data.DistributedSampler(range(10), 2, -1), error=True),
    ]),
]


def _epoch_sampler(L):
    s = L.data.DistributedSampler(range(11), num_replicas=2, rank=1, seed=5)
    out = [list(s)]
    s.set_epoch(3)
    return out + [list(s), list(s)]


# -- torch.utils.data: datasets --------------------------------------------------------------------------------
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
        Case('size mismatch', lambda L: L.data.TensorDataset(L.torch.zeros(3), L.torch.zeros(4)), error=True),
        Case('index out of range', lambda L: tds(L)[6], error=True),
    ]),
    D('StackDataset', [
        Case('tuple', lambda L: _ds_items(L.data.StackDataset(tds(L, 3), arange_ds(L, 3)))),
        Case('dict', lambda L: (_ds_items(L.data.StackDataset(a=tds(L, 2), b=arange_ds(L, 2))),
                                len(L.data.StackDataset(a=tds(L, 2), b=arange_ds(L, 2))))),
        Case('getitems', lambda L: L.data.StackDataset(tds(L, 4), L.data.Subset(tds(L), [5, 4, 3, 2])).__getitems__([3, 0])),
        Case('getitems dict', lambda L: L.data.StackDataset(a=tds(L, 3), b=arange_ds(L, 3)).__getitems__([2, 1])),
        Case('getitems size mismatch', lambda L: L.data.StackDataset(a=_short(L)).__getitems__([0, 1]), error=True),
        Case('loader', lambda L: take(L.data.DataLoader(L.data.StackDataset(x=tds(L, 4), y=arange_ds(L, 4)), batch_size=3))),
        Case('length mismatch', lambda L: L.data.StackDataset(tds(L, 3), tds(L, 4)), error=True),
        Case('args and kwargs', lambda L: L.data.StackDataset(tds(L, 3), b=tds(L, 3)), error=True),
        Case('nothing', lambda L: L.data.StackDataset(), error=True),
    ]),
    D('ConcatDataset', [
        Case('items and sizes', lambda L: (_ds_items(L.data.ConcatDataset([tds(L, 2), tds(L, 3)])),
                                           L.data.ConcatDataset([tds(L, 2), tds(L, 3)]).cumulative_sizes)),
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
        Case('index past end', lambda L: L.data.Subset(tds(L), [4, 0])[2], error=True),
        Case('subset index out of dataset', lambda L: L.data.Subset(tds(L), [9])[0], error=True),
    ]),
    D('random_split', [
        Case('lengths', lambda L: [list(s.indices) for s in L.data.random_split(range(10), [3, 7])]),
        Case('fractions', lambda L: [list(s.indices) for s in L.data.random_split(range(10), [0.3, 0.3, 0.4])]),
        Case('fractions with remainder', lambda L: [list(s.indices) for s in
                                                    L.data.random_split(range(11), [0.5, 0.25, 0.25])]),
        Case('generator', lambda L: [list(s.indices) for s in L.data.random_split(range(8), [5, 3], generator=gen(L, 42))]),
        Case('subsets of a dataset', lambda L: [_ds_items(s) for s in L.data.random_split(tds(L, 5), [2, 3])]),
        Case('lengths do not sum', lambda L: L.data.random_split(range(10), [3, 3]), error=True),
        Case('fractions do not sum', lambda L: L.data.random_split(range(10), [0.5, 0.6]), error=True),
        Case('negative fraction', lambda L: L.data.random_split(range(10), [1.5, -0.5]), error=True),
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
        Case('dicts', lambda L: L.data.default_collate([{'x': L.torch.ones(2), 'y': 1}, {'x': L.torch.zeros(2), 'y': 2}])),
        Case('nested', lambda L: L.data.default_collate([{'a': (1, [2.0, 3.0])}, {'a': (4, [5.0, 6.0])}])),
        Case('numpy arrays', lambda L: L.data.default_collate(_np(L))),
        Case('numpy scalars', lambda L: L.data.default_collate([np.float64(1.5), np.float64(2.5)])),
        Case('numpy float32 scalars', lambda L: L.data.default_collate([np.float32(1.5), np.int64(2)])),
        Case('strings', lambda L: L.data.default_collate(['a', 'bc'])),
        Case('namedtuple', lambda L: tuple(L.data.default_collate([_pt(1, 2), _pt(3, 4)]))),
        Case('ragged lists', lambda L: L.data.default_collate([[1, 2], [3]]), error=True),
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
    ]),
]


def _WorkerInfoDs(L):
    """Each item says which worker loaded it and what get_worker_info gives there."""
    class Info(L.data.Dataset):
        def __getitem__(self, i):
            w = L.data.get_worker_info()
            return i, w.id, w.num_workers, w.seed, w.dataset is not None, repr(w).split('(')[0]

        def __len__(self):
            return 4
    return Info()


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

ENTRIES = DATA
