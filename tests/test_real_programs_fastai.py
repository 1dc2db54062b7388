"""fastai 2.8 under ``ember.aliasing.as_torch()`` (session 36): its tabular quickstart (TabularPandas,
tabular_learner, fit_one_cycle, lr_find, get_preds, save/load) and vision quickstart (ImageDataLoaders from
folders, vision_learner on resnet18). Each test keeps the lines of fastai that stopped or differed, checked
against PyTorch; neither fastai nor pandas is needed here."""
import inspect
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data.dataloader as torch_dataloader

import ember
import ember.utils.data.dataloader as ember_dataloader
from ember.ops import creation


def _run(code, lib):
    """The output of ``code`` in a fresh process with ``torch`` bound to ``lib``: for once-a-process state."""
    header = 'import torch\n' if lib == 'torch' else 'import ember as torch\n'
    done = subprocess.run([sys.executable, '-c', header + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _FakeLoader:
    """fastai/data/load.py's _FakeLoader: the attributes PyTorch's iterators read, over batches it makes."""

    def __init__(self, lib, batches):
        self.kind = (torch_dataloader if lib is torch else ember_dataloader)._DatasetKind
        self.dataset, self.batches, self.num_workers, self.pin_memory, self.timeout = self, batches, 0, False, 0
        self.persistent_workers, self.pin_memory_device, self.worker_init_fn = False, '', None
        self._IterableDataset_len_called, self._auto_collation, self.drop_last, self.in_order = None, False, False, True
        self._index_sampler, self.generator, self.prefetch_factor = iter(range(10 ** 9)), None, 2
        self.collate_fn = lambda x: x
        self.multiprocessing_context = None

    @property
    def _dataset_kind(self):
        return self.kind.Iterable

    def __iter__(self):
        return iter(self.batches)


@pytest.mark.parametrize('name', ['_SingleProcessDataLoaderIter', '_MultiProcessingDataLoaderIter'])
def test_dataloader_iterators_over_a_loader_like_object(name):
    """fastai/data/load.py: ``from torch.utils.data.dataloader import _MultiProcessingDataLoaderIter,
    _SingleProcessDataLoaderIter, _DatasetKind`` at import (ember had no _DatasetKind), then ``for b in
    _loaders[num_workers == 0](_FakeLoader(...))`` each epoch: the batches, and the seed the iterator draws from
    the global generator (the numbers after it)."""
    got = []
    for lib, mod in ((torch, torch_dataloader), (ember, ember_dataloader)):
        assert (mod._DatasetKind.Map, mod._DatasetKind.Iterable) == (0, 1)
        lib.manual_seed(3)
        loader = _FakeLoader(lib, [lib.arange(3.0) * i for i in range(4)])
        if name == '_MultiProcessingDataLoaderIter':
            loader.num_workers = 2
            loader.batches = loader.batches[:2]   # each worker's copy yields them all: 2 workers, 4 batches
        out = [b.tolist() for b in getattr(mod, name)(loader)]
        got.append((sorted(out), lib.rand(3).tolist()))
    assert got[0] == got[1]


def test_dataset_kind_create_fetcher():
    """_DatasetKind.create_fetcher (PyTorch's static helper) gives a map-style fetcher for Map."""
    got = []
    for lib, mod in ((torch, torch_dataloader), (ember, ember_dataloader)):
        data = [lib.tensor([float(i)]) for i in range(5)]
        fetch = mod._DatasetKind.create_fetcher(mod._DatasetKind.Map, data, True, lib.stack, False)
        got.append(fetch.fetch([3, 1]).tolist())
    assert got[0] == got[1]


_AS_SUBCLASS = """
    if not hasattr(torch, 'as_subclass'):
        torch.as_subclass = torch.Tensor.as_subclass
    seen = []

    class Base(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(getattr(func, '__name__', str(func)))
            return super().__torch_function__(func, types, args, kwargs or {})

        def clone(self, *, memory_format=None):
            return torch.as_subclass(self, torch.Tensor).clone().as_subclass(type(self))

    t = torch.ones(2).as_subclass(Base)
    u = (t * 2).clone()
    print(type(u).__name__, u.tolist(), type(torch.as_subclass(t, torch.Tensor)).__name__, seen)
"""


def test_function_a_program_puts_on_torch_is_not_dispatched():
    """fastai/torch_core.py: ``torch.as_subclass = torch.Tensor.as_subclass`` and TensorBase.clone calls
    ``torch.as_subclass(self, Tensor)``: ember wrapped that function for __torch_function__ when the first
    subclass dispatched, so the result came back a TensorBase and clone recursed without end (fit_one_cycle's
    first batch)."""
    assert _run(_AS_SUBCLASS, 'ember') == _run(_AS_SUBCLASS, 'torch')


_READ_ONLY_CALLS = ['torch.from_numpy(a)', 'torch.as_tensor(a)', 'torch.as_tensor(a, dtype=torch.float32)',
                    'torch.asarray(a)', 'torch.asarray(a, copy=True)', 'torch.asarray(a, dtype=torch.float32)',
                    'torch.tensor(a)', 'torch.Tensor(a)', 'torch.DoubleTensor(a)', 'torch.as_tensor(b)',
                    'torch.as_tensor(a.copy())']


def _read_only_warnings(torch, call):
    a = np.arange(3.0)
    a.flags.writeable = False
    b = np.broadcast_to(np.ones(1), (3,))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        for _ in range(2):
            eval(call, {'torch': torch, 'a': a, 'b': b})
    return [str(w.message).split(' (Triggered internally')[0] for w in caught]


_PYTORCH_READ_ONLY = """
    import json, os
    out = {}
    for call in CALLS:   # a fork per call: each starts with PyTorch's once-a-process C++ flag unspent
        r, w = os.pipe()
        if os.fork() == 0:
            os.write(w, json.dumps(_read_only_warnings(torch, call)).encode())
            os._exit(0)
        os.close(w)
        with os.fdopen(r) as f:
            out[call] = json.loads(f.read())
        os.wait()
    print(json.dumps(out))
"""


def test_read_only_numpy_array_warns_once_as_pytorch():
    """fastai/torch_core.py tensor(): ``as_tensor(df.values)`` of a pandas frame (a read-only array): PyTorch
    warns "The given NumPy array is not writable..." once a process, at from_numpy, as_tensor, asarray when it
    shares and the legacy constructors, never at torch.tensor; ember said nothing."""
    import json
    child = 'import warnings\nimport numpy as np\n' + inspect.getsource(_read_only_warnings)   # the same steps
    want = json.loads(_run(f'CALLS = {_READ_ONLY_CALLS!r}\n' + child + textwrap.dedent(_PYTORCH_READ_ONLY), 'torch'))
    spent = creation._NOT_WRITABLE in ember._warn._WARNED_ONCE
    try:
        for call in _READ_ONLY_CALLS:
            ember._warn._WARNED_ONCE.discard(creation._NOT_WRITABLE)
            assert _read_only_warnings(ember, call) == want[call], call
    finally:
        if not spent:
            ember._warn._WARNED_ONCE.discard(creation._NOT_WRITABLE)


@pytest.mark.parametrize('shape,perm', [((8, 6, 5, 3), (0, 3, 1, 2)), ((50, 40), (1, 0)), ((6, 7, 8), (2, 0, 1))],
                         ids=str)
def test_full_sum_of_a_permuted_view_adds_in_memory_order(shape, perm):
    """fastai's image batches are channels-first views of HWC images: ``xb.mean()`` of the vision quickstart's
    first batch printed 0.47077223658561707 where PyTorch's is 0.4707721769809723. PyTorch reduces a dense
    permuted tensor in the order of its memory; ember summed a non-contiguous array in NumPy's order."""
    a = np.random.RandomState(len(shape)).rand(*shape).astype(np.float32)
    for op in ('sum', 'mean', 'nansum'):
        got, want = [getattr(lib.tensor(a).permute(perm), op)() for lib in (ember, torch)]
        assert got.item() == want.item(), op
    got, want = [lib.tensor(a).permute(perm).sum(dim=tuple(range(len(shape))), keepdim=True) for lib in (ember, torch)]
    assert got.shape == want.shape and got.item() == want.item()


@pytest.mark.parametrize('n', [1, 5, 16, 17, 64, 300, 4200])
@pytest.mark.parametrize('kind', ['plain', 'weight', 'ignore_index', 'weight and ignore_index'])
def test_nll_loss_sums_in_pytorchs_order(n, kind):
    """fastai's valid_loss (CrossEntropyLossFlat, mean over a batch) differed from PyTorch's in its 7th digit:
    PyTorch's nll_loss kernel adds the batch's losses (and weights) in a cascade of partial sums, NumPy's sum
    pairwise. Bit for bit in float32 and float64, sum and mean, with class weights and ignored targets."""
    rng = np.random.RandomState(n)
    for dtype in (np.float32, np.float64):
        logp = (rng.randn(n, 3) * 2).astype(dtype)
        target = rng.randint(0, 3, n)
        kwargs = [{}]
        if 'weight' in kind:
            kwargs.append({'weight': rng.rand(3).astype(dtype)})
        if 'ignore_index' in kind:
            kwargs.append({'ignore_index': 1})
        kw = {k: v for d in kwargs for k, v in d.items()}
        for reduction in ('sum', 'mean'):
            got, want = [lib.nn.functional.nll_loss(lib.tensor(logp), lib.tensor(target), reduction=reduction,
                                                    **{k: lib.tensor(v) if k == 'weight' else v
                                                       for k, v in kw.items()}) for lib in (ember, torch)]
            assert got.item() == want.item(), (dtype, reduction)
