"""ember.utils.data against torch.utils.data: collation, samplers, datasets, DataLoader arguments and batch
sequences, and real worker processes (results, errors with tracebacks, seeding, clean shutdown)."""
import collections
import gc
import multiprocessing
import os
import random
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tud
from torch.utils.data._utils.worker import _generate_state

import ember
import ember.utils.data as eud
from ember.utils.data import _worker

Point = collections.namedtuple('Point', ['x', 'y'])


# -- helpers -----------------------------------------------------------------------------------------------

def assert_same(e, t, where='out'):
    """``e`` (ember) mirrors ``t`` (torch): the same container types, tensor dtypes/shapes/values, leaves."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f'{where}: {type(e).__name__} is not a Tensor'
        assert repr(e.dtype) == repr(t.dtype), f'{where}: {e.dtype} != {t.dtype}'
        assert tuple(e.shape) == tuple(t.shape), f'{where}: {tuple(e.shape)} != {tuple(t.shape)}'
        np.testing.assert_array_equal(e.numpy(), t.numpy(), err_msg=where)
        return
    assert type(e).__name__ == type(t).__name__, f'{where}: {type(e).__name__} != {type(t).__name__}'
    if isinstance(t, dict):
        assert list(e) == list(t), where
        for k in t:
            assert_same(e[k], t[k], f'{where}[{k!r}]')
    elif isinstance(t, (list, tuple)):
        assert len(e) == len(t), where
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same(a, b, f'{where}[{i}]')
    elif isinstance(t, np.ndarray):
        np.testing.assert_array_equal(e, t, err_msg=where)
    else:
        assert e == t, f'{where}: {e!r} != {t!r}'


def both(make):
    """``make(lib)`` run with ember and with torch."""
    return make(ember), make(torch)


def raises_same(fe, ft, exc=Exception):
    """Both calls raise the same exception type with the same message."""
    with pytest.raises(exc) as te:
        ft()
    with pytest.raises(type(te.value)) as ee:
        fe()
    assert str(ee.value) == str(te.value)


def child_pids():
    """PIDs of this process's live (unreaped or running) children, read from /proc."""
    pids = set()
    for task in os.listdir(f'/proc/{os.getpid()}/task'):
        try:
            with open(f'/proc/{os.getpid()}/task/{task}/children') as f:
                pids.update(int(p) for p in f.read().split())
        except FileNotFoundError:
            pass
    return pids


def gone(pids, wait=5.0):
    """True once none of ``pids`` is a child of this process any more."""
    end = time.time() + wait
    while child_pids() & set(pids) and time.time() < end:
        time.sleep(0.02)
    return not child_pids() & set(pids)


# -- datasets used by the worker tests (module level, so 'spawn' can pickle them) -----------------------

class Squares(eud.Dataset):
    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full(3, i * i, dtype=np.float32), i


class Failing(eud.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f'bad sample {i}')
        return i


class MissingKey(eud.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return {}['label']


class Crashing(eud.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            os._exit(3)
        return i


class Slow(eud.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        time.sleep(0.02)
        return i


class WorkerReport(eud.Dataset):
    """Each sample says which worker made it and what that worker's RNGs give."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = eud.get_worker_info()
        return {'id': info.id, 'num_workers': info.num_workers, 'seed': info.seed, 'pid': os.getpid(),
                'tag': getattr(info.dataset, 'tag', None), 'same_ds': info.dataset is self,
                'py': random.random(), 'np': float(np.random.rand()), 'ember': float(ember.rand(1))}


def tag_worker(worker_id):
    eud.get_worker_info().dataset.tag = f'init{worker_id}'


def failing_init(worker_id):
    raise RuntimeError(f'init failed in {worker_id}')


class Range(eud.IterableDataset):
    """Iterable range split between workers as in PyTorch's IterableDataset docs."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = eud.get_worker_info()
        if info is None:
            return iter(range(self.start, self.end))
        per = -(-(self.end - self.start) // info.num_workers)
        lo = self.start + info.id * per
        return iter(range(lo, min(lo + per, self.end)))

    def __len__(self):
        return self.end - self.start


class TorchRange(tud.IterableDataset):
    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = tud.get_worker_info()
        if info is None:
            return iter(range(self.start, self.end))
        per = -(-(self.end - self.start) // info.num_workers)
        lo = self.start + info.id * per
        return iter(range(lo, min(lo + per, self.end)))

    def __len__(self):
        return self.end - self.start


# -- collation -----------------------------------------------------------------------------------------------

COLLATE_CASES = {
    'tensors': lambda L: [L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0])],
    'int_tensors': lambda L: [L.tensor([[1, 2]]), L.tensor([[3, 4]])],
    'scalar_tensors': lambda L: [L.tensor(1.5), L.tensor(2.5)],
    'mixed_dtype_tensors': lambda L: [L.tensor([1]), L.tensor([1.5])],
    'floats': lambda L: [0.5, 1.5, 2.0],
    'ints': lambda L: [1, 2, 3],
    'bools': lambda L: [True, False],
    'int_then_float': lambda L: [1, 2.5],
    'float_then_int': lambda L: [2.5, 1],
    'np_arrays': lambda L: [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    'np_int_arrays': lambda L: [np.arange(3), np.arange(3, 6)],
    'np_mixed_dtypes': lambda L: [np.arange(2), np.ones(2, np.float32)],
    'np_uint8': lambda L: [np.arange(4, dtype=np.uint8).reshape(2, 2)] * 3,
    'np_float64_scalars': lambda L: [np.float64(1.5), np.float64(2)],
    'np_float32_scalars': lambda L: [np.float32(1.5), np.float32(2)],
    'np_int32_scalars': lambda L: [np.int32(1), np.int32(2)],
    'np_bool_scalars': lambda L: [np.bool_(True), np.bool_(False)],
    'strings': lambda L: ['a', 'bc'],
    'bytes': lambda L: [b'a', b'b'],
    'tuples': lambda L: [(L.tensor([1.0]), 0), (L.tensor([2.0]), 1)],
    'lists': lambda L: [[1, 2], [3, 4]],
    'dicts': lambda L: [{'x': np.float32(1), 'y': 'a'}, {'x': np.float32(2), 'y': 'b'}],
    'namedtuples': lambda L: [Point(1, 2.0), Point(3, 4.0)],
    'nested': lambda L: [(1, 'a', {'v': [np.float64(2), 1]}), (2, 'b', {'v': [np.float64(3), 0]})],
    'image_label': lambda L: [(np.random.RandomState(i).rand(1, 4, 4).astype(np.float32), i) for i in range(5)],
}


@pytest.mark.parametrize('case', list(COLLATE_CASES))
def test_default_collate_matches_torch(case):
    e, t = both(lambda L: (eud if L is ember else tud).default_collate(COLLATE_CASES[case](L)))
    assert_same(e, t)


CONVERT_CASES = {
    'np_array': lambda L: np.arange(4),
    'np_scalar': lambda L: np.float32(3),
    'int': lambda L: 3,
    'string': lambda L: 'abc',
    'tensor': lambda L: L.tensor([1, 2]),
    'tuple': lambda L: (np.zeros(2), 1),
    'list': lambda L: [np.zeros(2), 'x'],
    'dict': lambda L: {'a': np.ones(2, np.float32), 'b': 2},
    'namedtuple': lambda L: Point(np.array(0), np.array(1.5)),
    'string_array': lambda L: np.array(['a', 'b']),
}


@pytest.mark.parametrize('case', list(CONVERT_CASES))
def test_default_convert_matches_torch(case):
    e, t = both(lambda L: (eud if L is ember else tud).default_convert(CONVERT_CASES[case](L)))
    assert_same(e, t)


@pytest.mark.parametrize('batch', [
    lambda L: [L.ones(2), L.ones(3)],
    lambda L: [np.ones(2), np.ones(3)],
    lambda L: [np.array(['a']), np.array(['b'])],
    lambda L: [object(), object()],
    lambda L: [[1, 2], [3]],
])
def test_default_collate_errors_match_torch(batch):
    raises_same(lambda: eud.default_collate(batch(ember)), lambda: tud.default_collate(batch(torch)))


def test_collate_keeps_grad_and_is_a_copy():
    a = ember.ones(2, requires_grad=True)
    out = eud.default_collate([a, a * 2])
    assert out.requires_grad
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 3.0])
    x = np.zeros(2, np.float32)
    b = eud.default_collate([x, x])
    b[0, 0] = 7
    assert x[0] == 0


# -- samplers and datasets: tests/registry_data.py checks their values against PyTorch's ----------------------

def test_dataset_base_classes():
    with pytest.raises(NotImplementedError):
        eud.Dataset()[0]
    assert issubclass(eud.IterableDataset, eud.Dataset)
    assert eud.Dataset[int] is eud.Dataset
    raises_same(lambda: type('Bad', (eud.Subset,), {'__getitem__': lambda s, i: 0})(range(3), [0]),
                lambda: type('Bad', (tud.Subset,), {'__getitem__': lambda s, i: 0})(range(3), [0]))


# -- DataLoader, single process ------------------------------------------------------------------------------

def loaders(data_e, data_t, **kw):
    return eud.DataLoader(data_e, **kw), tud.DataLoader(data_t, **kw)


@pytest.mark.parametrize('kw', [dict(), dict(batch_size=4), dict(batch_size=4, drop_last=True),
                                dict(batch_size=None), dict(batch_size=3, collate_fn=lambda b: b)])
def test_map_dataset_batches_match_torch(kw):
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    e, t = loaders(eud.TensorDataset(ember.tensor(x), ember.arange(10)),
                   tud.TensorDataset(torch.tensor(x), torch.arange(10)), **kw)
    assert len(e) == len(t)
    assert_same(list(e), list(t))


def test_numpy_dataset_batches_match_torch():
    samples = [(np.full((2, 2), i, np.float64), i, float(i) / 2, f's{i}', {'k': np.int32(i)}) for i in range(7)]
    e, t = loaders(samples, samples, batch_size=3)
    assert_same(list(e), list(t))
    e, t = loaders(samples, samples, batch_size=None)
    assert_same(list(e), list(t))


def test_batch_sampler_and_sampler_options_match_torch():
    bs = [[3, 1], [0], [2, 4, 5]]
    e, t = loaders(list(range(6)), list(range(6)), batch_sampler=bs)
    assert len(e) == len(t) == 3
    assert_same(list(e), list(t))
    e, t = loaders(list(range(6)), list(range(6)), sampler=[5, 4, 3], batch_size=2)
    assert_same(list(e), list(t))


def test_iterable_dataset_matches_torch():
    for kw in [dict(), dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)]:
        e, t = loaders(Range(3, 10), TorchRange(3, 10), **kw)
        assert len(e) == len(t)
        assert_same(list(e), list(t))


def test_shuffle_is_a_reproducible_permutation():
    def epoch(seed):
        loader = eud.DataLoader(list(range(20)), batch_size=6, shuffle=True,
                                generator=ember.Generator().manual_seed(seed))
        return [b.tolist() for b in loader]
    a = epoch(0)
    assert [len(b) for b in a] == [6, 6, 6, 2]
    assert sorted(sum(a, [])) == list(range(20)) and sum(a, []) != list(range(20))
    assert epoch(0) == a and epoch(1) != a


def test_iterator_next_alias_and_len():
    it = iter(eud.DataLoader(list(range(5)), batch_size=2))
    assert len(it) == 3
    assert it.next().tolist() == [0, 1]
    assert next(it).tolist() == [2, 3]
    assert it.__next__().tolist() == [4]
    with pytest.raises(StopIteration):
        it.next()


def _bad_kwargs():
    ds = list(range(4))
    return [
        dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(num_workers=1, prefetch_factor=-1),
        dict(persistent_workers=True), dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
        dict(batch_sampler=[[0]], shuffle=True), dict(batch_sampler=[[0]], sampler=[0]),
        dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True),
        dict(multiprocessing_context='fork'), dict(num_workers=1, multiprocessing_context='nope'),
        dict(num_workers=1, multiprocessing_context=3), dict(batch_size=0), dict(batch_size=2, drop_last=1),
    ], ds


@pytest.mark.parametrize('i', range(16))
def test_argument_errors_match_torch(i):
    kws, ds = _bad_kwargs()
    raises_same(lambda: eud.DataLoader(ds, **kws[i]), lambda: tud.DataLoader(ds, **kws[i]))


@pytest.mark.parametrize('kw', [dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])])
def test_iterable_dataset_argument_errors_match_torch(kw):
    raises_same(lambda: eud.DataLoader(Range(0, 3), **kw), lambda: tud.DataLoader(TorchRange(0, 3), **kw))


def test_frozen_attributes_and_timeout_without_workers():
    e, t = loaders(list(range(4)), list(range(4)))
    raises_same(lambda: setattr(e, 'batch_size', 3), lambda: setattr(t, 'batch_size', 3))
    e.num_workers = 0
    raises_same(lambda: iter(eud.DataLoader([1], timeout=1)), lambda: iter(tud.DataLoader([1], timeout=1)))


def test_iterable_length_warning_and_pin_memory_warning():
    class Lying(eud.IterableDataset):
        def __iter__(self):
            return iter(range(3))

        def __len__(self):
            return 2
    loader = eud.DataLoader(Lying())
    assert len(loader) == 2
    with pytest.warns(UserWarning, match='was reported to be 2'):
        list(loader)
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        assert [b.tolist() for b in eud.DataLoader([1, 2], pin_memory=True)] == [[1], [2]]


# -- DataLoader with worker processes ------------------------------------------------------------------------

def batches_as_lists(loader):
    return [(x.numpy().tolist(), y.tolist()) for x, y in loader]


def test_workers_give_the_same_batches_as_no_workers():
    ds = Squares(11)
    plain = batches_as_lists(eud.DataLoader(ds, batch_size=3))
    assert batches_as_lists(eud.DataLoader(ds, batch_size=3, num_workers=2)) == plain
    assert batches_as_lists(eud.DataLoader(ds, batch_size=3, num_workers=2, prefetch_factor=1)) == plain
    ref = [(x.numpy().tolist(), y.tolist()) for x, y in tud.DataLoader(ds, batch_size=3)]
    assert plain == ref


def test_workers_without_batching_and_with_iterable_dataset():
    assert list(eud.DataLoader(list(range(5)), batch_size=None, num_workers=2)) == list(range(5))
    got = [b.tolist() for b in eud.DataLoader(Range(3, 7), num_workers=2)]
    ref = [b.tolist() for b in tud.DataLoader(TorchRange(3, 7), num_workers=2)]
    assert got == ref == [[3], [5], [4], [6]]
    got = [b.tolist() for b in eud.DataLoader(Range(0, 7), batch_size=2, num_workers=2)]
    assert got == [[0, 1], [4, 5], [2, 3], [6]]


def test_worker_exception_carries_original_traceback():
    loader = eud.DataLoader(Failing(), batch_size=2, num_workers=2)
    it = iter(loader)
    assert next(it).tolist() == [0, 1]
    assert next(it).tolist() == [2, 3]
    with pytest.raises(ValueError) as err:
        next(it)
    msg = str(err.value)
    assert msg.startswith('Caught ValueError in DataLoader worker process 0.\n'
                          'Original Traceback (most recent call last)')
    assert "raise ValueError(f'bad sample {i}')" in msg and 'ValueError: bad sample 5' in msg
    assert next(it).tolist() == [6, 7]
    pids = [w.pid for w in it._workers]
    del it, err
    assert gone(pids)


class TorchFailing(tud.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f'bad sample {i}')
        return i


def test_worker_exception_message_matches_torch():
    def message(mod, ds):
        it = iter(mod.DataLoader(ds, batch_size=2, num_workers=2))
        try:
            list(it)
        except ValueError as err:
            lines = str(err).splitlines()
        it._shutdown_workers()
        return lines
    e, t = message(eud, Failing()), message(tud, TorchFailing())
    assert e[:2] == t[:2] and e[-2:] == t[-2:]


def test_worker_key_error_and_init_error():
    with pytest.raises(KeyError) as err:
        next(iter(eud.DataLoader(MissingKey(), num_workers=1)))
    assert "Caught KeyError in DataLoader worker process 0" in str(err.value)
    assert not str(err.value).startswith('"')
    with pytest.raises(RuntimeError, match='init failed in 0'):
        list(eud.DataLoader(list(range(4)), num_workers=1, worker_init_fn=failing_init))


def test_no_worker_outlives_the_loader():
    before = child_pids()
    loader = eud.DataLoader(Squares(40), batch_size=2, num_workers=2)
    for i, _ in enumerate(loader):
        it_pids = child_pids() - before
        if i == 3:
            break
    assert len(it_pids) == 2
    gc.collect()
    assert gone(it_pids)
    it = iter(loader)
    next(it)
    pids = [w.pid for w in it._workers]
    assert set(pids) <= child_pids()
    del it
    assert gone(pids)
    it = iter(loader)
    procs = list(it._workers)
    list(it)
    assert all(p.exitcode is not None for p in procs)


def test_iterator_in_a_reference_cycle_still_stops_its_workers(monkeypatch):
    # The old bug waited out the workers' queue poll interval once per worker; with the interval stretched to
    # 30 s (the forked workers inherit it), that is a minute, far from a prompt stop even on a busy machine.
    monkeypatch.setattr(_worker, 'MP_STATUS_CHECK_INTERVAL', 30.0)
    it = iter(eud.DataLoader(Squares(20), num_workers=2))
    next(it)
    it.cycle = it
    pids = [w.pid for w in it._workers]
    del it
    start = time.time()
    gc.collect()
    assert gone(pids) and time.time() - start < 20


def test_persistent_workers_stop_at_interpreter_exit(tmp_path):
    script = tmp_path / 'run.py'
    script.write_text(
        'import os, ember.utils.data as d\n'
        'loader = d.DataLoader(d.TensorDataset(__import__("ember").arange(8)), num_workers=2, '
        'persistent_workers=True)\n'
        'list(loader)\n'
        'print(*[w.pid for w in loader._iterator._workers])\n')
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                         env={**os.environ, 'PYTHONPATH': root})
    assert out.returncode == 0 and out.stderr == '', out.stderr
    for pid in map(int, out.stdout.split()):
        assert not os.path.exists(f'/proc/{pid}') or 'Z' in open(f'/proc/{pid}/stat').read().split()[2]


def test_worker_crash_is_reported():
    with pytest.raises(RuntimeError, match=r'DataLoader worker \(pid\(s\) \d+\) exited unexpectedly'):
        list(eud.DataLoader(Crashing(), num_workers=1))


def test_timeout():
    with pytest.raises(RuntimeError, match='DataLoader timed out after 0.001 seconds'):
        next(iter(eud.DataLoader(Slow(), batch_size=5, num_workers=1, timeout=0.001)))


def test_worker_info_init_fn_and_seeds():
    g = ember.Generator().manual_seed(1234)
    loader = eud.DataLoader(WorkerReport(), batch_size=None, num_workers=2, worker_init_fn=tag_worker, generator=g)
    rows = list(loader)
    assert eud.get_worker_info() is None
    assert [r['id'] for r in rows] == [0, 1] * 4
    assert all(r['num_workers'] == 2 and r['same_ds'] for r in rows)
    assert [r['tag'] for r in rows[:2]] == ['init0', 'init1']
    first = {r['id']: r for r in rows[:2]}
    base = first[0]['seed']
    assert first[1]['seed'] == base + 1
    for wid, r in first.items():
        random.seed(base + wid)
        assert r['py'] == random.random()
        np.random.seed(_generate_state(base, wid))
        assert r['np'] == np.random.rand()
        assert r['ember'] == float(ember.rand(1, generator=ember.Generator().manual_seed(base + wid)))
    again = list(eud.DataLoader(WorkerReport(), batch_size=None, num_workers=2,
                                generator=ember.Generator().manual_seed(1234)))
    assert [r['seed'] for r in again] == [r['seed'] for r in rows]
    assert [r['np'] for r in again] == [r['np'] for r in rows]


def test_persistent_workers_are_reused():
    loader = eud.DataLoader(WorkerReport(), batch_size=None, num_workers=2, persistent_workers=True)
    first = list(loader)
    it = loader._iterator
    assert next(iter(loader))['pid'] == first[0]['pid']
    second = list(loader)
    assert loader._iterator is it
    assert [r['pid'] for r in second] == [r['pid'] for r in first]
    assert [r['id'] for r in second] == [0, 1] * 4
    pids = [w.pid for w in it._workers]
    del loader, it
    gc.collect()
    assert gone(pids)


def test_spawn_context():
    ds = eud.TensorDataset(ember.arange(12.0).reshape(6, 2), ember.arange(6))
    loader = eud.DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context='spawn')
    assert batches_as_lists(loader) == batches_as_lists(eud.DataLoader(ds, batch_size=4))


def test_out_of_order_delivery_keeps_every_batch():
    loader = eud.DataLoader(list(range(12)), batch_size=2, num_workers=2, in_order=False)
    assert sorted(sum((b.tolist() for b in loader), [])) == list(range(12))


def test_too_many_workers_warns_like_torch():
    n = len(os.sched_getaffinity(0)) + 1
    with pytest.warns(UserWarning, match=f'This DataLoader will create {n} worker processes in total'):
        eud.DataLoader([1], num_workers=n)


def test_default_start_method_is_fork_on_linux():
    from ember.utils.data.dataloader import _default_context
    if multiprocessing.get_start_method(allow_none=True) is None:
        assert _default_context().get_start_method() == 'fork'


SHM_SCRIPT = r'''
import os, resource, sys
import numpy as np
import ember
from ember.utils.data import DataLoader, Dataset

class Big(Dataset):
    """Eight 4 MB float32 rows: a batch of 8 is 32 MB."""
    def __len__(self):
        return 64
    def __getitem__(self, i):
        return ember.Tensor._make(np.full(1 << 20, float(i), np.float32)), i

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def maps():
    with open('/proc/self/maps') as f:
        return sum('psm_' in line for line in f)

loader = DataLoader(Big(), batch_size=8, num_workers=2)
before, mapped = peak_mb(), maps()
total = 0.0
for x, y in loader:
    arr = x.numpy()
    np.add(arr, 1, out=arr)                # writable, and every page touched, no temporary
    total += float(arr.sum(dtype=np.float64)) / (1 << 20)
    del arr
    del x
print('increase', peak_mb() - before)
print('total', total, 'expected', float(sum(range(64)) + 64))
print('mapped_after', maps() - mapped)
for x, y in loader:                        # leave mid-epoch with batches in flight
    break
del x, y, loader
'''


@pytest.mark.skipif(not os.path.isdir('/dev/shm') or not os.path.exists('/proc/self/maps'),
                    reason='inspects Linux POSIX shared memory')
def test_worker_batches_travel_through_shared_memory(tmp_path):
    """A 32 MB batch costs the main process one batch, not the pipe's copy plus the unpickled copy; the
    segments are unmapped when the batch is freed and none is left behind, even when leaving mid-epoch."""
    before = set(os.listdir('/dev/shm'))
    r = subprocess.run([sys.executable, '-c', SHM_SCRIPT], capture_output=True, text=True, timeout=120,
                       env={**os.environ, 'PYTHONPATH': os.path.dirname(os.path.dirname(os.path.abspath(__file__)))})
    assert r.returncode == 0, r.stderr
    out = dict(line.split(' ', 1) for line in r.stdout.splitlines())
    assert float(out['increase']) < 1.5 * 32, out
    total, expected = out['total'].split(' expected ')
    assert float(total) == float(expected)
    assert out['mapped_after'] == '0'
    assert 'leaked' not in r.stderr and 'Traceback' not in r.stderr, r.stderr
    ours = [n for n in set(os.listdir('/dev/shm')) - before if n.startswith('psm_')]
    deadline = time.monotonic() + 5
    while ours and time.monotonic() < deadline:      # other tests' segments may come and go meanwhile
        time.sleep(0.1)
        ours = [n for n in ours if os.path.exists(os.path.join('/dev/shm', n))]
    assert not ours


def test_worker_batches_fall_back_to_the_pipe_without_shared_memory_room(monkeypatch):
    """Where /dev/shm is too small (Docker's 64 MB default), large batches still arrive, through the pipe."""
    from ember.utils.data import _worker
    monkeypatch.setattr(_worker, '_shm_room', lambda nbytes: False)
    monkeypatch.setattr(_worker, '_worker_info', object())
    batch = _worker.shared_stack([np.full(1 << 19, i, np.float32) for i in range(2)])
    message = _worker._pack((0, ember.Tensor._make(batch)))
    assert message[:1] == _worker._INLINE
    idx, out = _worker._unpack(message)
    np.testing.assert_array_equal(out.numpy(), batch)
