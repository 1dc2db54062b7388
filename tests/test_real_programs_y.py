"""Training frameworks that wrap PyTorch loops, under ``ember.aliasing.as_torch()`` (session 35): pytorch-ignite
0.5.5 and skorch 1.4.0. The names and values they reached at import, in training, scoring and saving, each
reduced to the lines that stopped them or differed and checked against PyTorch (its CPU build). Neither library
(nor scikit-learn) is needed here."""
import warnings

import pytest
import torch
import torch.distributed.optim
import torch.types

import ember
import ember.distributed.optim
import ember.types


def test_distributed_optim_names_import_and_zero_refuses():
    """ignite/handlers/checkpoint.py: ``from torch.distributed.optim import ZeroRedundancyOptimizer`` at import,
    then ``isinstance(obj, ZeroRedundancyOptimizer)`` on each object it saves."""
    for lib in (torch, ember):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=0.1)
        assert not isinstance(opt, lib.distributed.optim.ZeroRedundancyOptimizer)
        assert set(lib.distributed.optim.__all__) == set(torch.distributed.optim.__all__)
    with pytest.raises(NotImplementedError, match='ZeroRedundancyOptimizer is not supported by ember'):
        ember.distributed.optim.ZeroRedundancyOptimizer([ember.ones(2, requires_grad=True)], ember.optim.SGD, lr=0.1)


def test_types_aliases():
    """ignite/metrics/nlp/character_error_rate.py: ``from torch.types import Number`` at import."""
    values = [3, 2.5, True, 1j, 'cpu', 0, None]
    for name in ('Number', 'Device'):
        want = [isinstance(v, getattr(torch.types, name)) for v in values]
        assert [isinstance(v, getattr(ember.types, name)) for v in values] == want
    assert isinstance(ember.device('cpu'), ember.types.Device)
    assert ember.types.py_sym_types == (ember.SymInt, ember.SymFloat, ember.SymBool)
    assert ember.types._Number == torch.types._Number


def _torch_pickle():
    """PyTorch tensors of several kinds, pickled with plain ``pickle`` (not torch.save)."""
    p = torch.nn.Parameter(torch.arange(6.0).reshape(2, 3))
    p.tag = 'w'
    return {'p': p, 'long': torch.arange(3), 'half view': torch.ones(4, dtype=torch.float16)[1:] * 0.5,
            'transposed': torch.arange(12.0).reshape(3, 4).t(), 'leaf': torch.ones(2, requires_grad=True),
            'bf16': torch.ones(3, dtype=torch.bfloat16) * 1.5}


def test_plain_pickle_of_torch_tensors_loads_under_the_alias():
    """skorch/net.py ``__setstate__``: a fitted net pickled by PyTorch (skorch/tests/model_0.5.0.pkl) holds its
    module's Parameters as plain pickles naming torch._utils._rebuild_parameter / _rebuild_tensor_v2 and
    torch.storage._load_from_bytes."""
    import pickle
    want = _torch_pickle()
    data = pickle.dumps(want)
    with ember.aliasing.as_torch():
        got = pickle.loads(data)
    for k, w in want.items():
        g = got[k]
        assert type(g).__name__ == type(w).__name__, k
        assert (str(g.dtype), tuple(g.shape), g.stride(), g.requires_grad) == (str(w.dtype), tuple(w.shape),
                                                                                w.stride(), w.requires_grad), k
        assert g.float().tolist() == w.float().tolist(), k
    assert got['p'].tag == 'w'
    (got['leaf'] * 3).sum().backward()
    assert got['leaf'].grad.tolist() == [3.0, 3.0]


def test_load_of_a_saved_storage(tmp_path):
    """torch.storage._load_from_bytes: ``torch.load`` of ``torch.save(storage)`` gives a TypedStorage (uint8 for
    an UntypedStorage), as PyTorch's does."""
    import warnings
    for i, storage in enumerate([torch.arange(5.0)[1:].untyped_storage(), torch.tensor([1, -2], dtype=torch.int16)]):
        f = tmp_path / f'{i}.pt'
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.save(storage if i == 0 else storage.storage(), f)
            want = torch.load(f)
        got = ember.load(f)
        assert type(got).__name__ == type(want).__name__ == 'TypedStorage'
        assert (str(got.dtype), got.tolist()) == (str(want.dtype), want.tolist())


def test_sparse_coo_tensor_of_a_size_alone():
    """skorch/tests/test_utils.py (TestToTensor.test_sparse_tensor): ``torch.sparse_coo_tensor(size=(5, 3))``,
    PyTorch's size-only overload, an empty sparse tensor."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for lib in (torch, ember):
            cases = [lib.sparse_coo_tensor(size=(5, 3)), lib.sparse_coo_tensor((2,), dtype=lib.float64),
                     lib.sparse_coo_tensor(lib.Size([1, 2, 0]), requires_grad=True)]
            got = [(tuple(t.shape), str(t.dtype), tuple(t._indices().shape), tuple(t._values().shape),
                    t.is_coalesced(), t.requires_grad, t.to_dense().tolist()) for t in cases]
            if lib is torch:
                want = got
        assert got == want
        assert repr(ember.sparse_coo_tensor(size=(5, 3))) == repr(torch.sparse_coo_tensor(size=(5, 3)))
        for lib in (torch, ember):
            with pytest.raises(TypeError):
                lib.sparse_coo_tensor()


def test_compiled_module_has_dynamo_ctx():
    """skorch/tests/test_net.py (TestTorchCompile): ``hasattr(net.module_, 'dynamo_ctx')`` tells a compiled
    module; its state_dict keys and outputs stay the original module's."""
    for lib in (torch, ember):
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 2)
        c = lib.compile(m)
        assert hasattr(c, 'dynamo_ctx') and not hasattr(m, 'dynamo_ctx')
        assert list(c.state_dict()) == ['_orig_mod.weight', '_orig_mod.bias']
        out = c(lib.ones(1, 3))[0].tolist()
        if lib is torch:
            want = out
    assert out == pytest.approx(want, abs=1e-6)


def test_tcp_store_across_processes():
    """skorch/history.py (DistributedHistory) and skorch/tests/test_history.py: ``TCPStore(host, port,
    world_size, is_master=rank == 0)`` in each process; the master waits for the workers, ``get``/``wait`` block
    until another process sets the keys, ``add`` counts across processes."""
    import datetime
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = str(Path(__file__).resolve().parents[1])
    for lib in (torch, ember):
        master = lib.distributed.TCPStore('127.0.0.1', 0, 2, True, timeout=datetime.timedelta(seconds=1),
                                          wait_for_workers=False)
        code = (f'import {lib.__name__} as lib, datetime\n'
                f's = lib.distributed.TCPStore("127.0.0.1", {master.port}, 2, False)\n'
                's.set("from worker", b"w\\x00\\xff"); print(s.get("from master"), s.add("n", 5))\n')
        child = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, text=True,
                                 env=dict(os.environ, PYTHONPATH=root))
        master.set_timeout(datetime.timedelta(seconds=60))
        master.wait(['from worker'])
        got = [master.get('from worker'), master.add('n', 2)]
        master.set('from master', 'm')
        out = child.communicate(timeout=60)[0]
        master.wait(['n'])
        got += [out, int(master.get('n')), child.returncode]
        if lib is torch:
            want = got
        del master
    assert got == want


def test_store_get_times_out_with_dist_store_error():
    """DistStoreError (a RuntimeError) names the keys and the wait, as PyTorch's does."""
    import datetime
    msgs = []
    for lib in (torch, ember):
        store = lib.distributed.TCPStore('127.0.0.1', 0, 1, True)
        store.set_timeout(datetime.timedelta(milliseconds=100))
        with pytest.raises(lib.distributed.DistStoreError) as e:
            store.wait(['k1', 'k2'])
        assert isinstance(e.value, RuntimeError)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_rank_not_in_group():
    """ignite/distributed/comp_models/native.py: ``dist._rank_not_in_group(group)`` before each all_gather and
    all_reduce (None: the default group)."""
    for lib in (torch, ember):
        d = lib.distributed
        assert [d._rank_not_in_group(None), d._rank_not_in_group(d.GroupMember.NON_GROUP_MEMBER)] == [False, True]


# -- the TypedStorage deprecation warning: once a process, at the calls PyTorch warns at ------------------------
_STORAGE_CALLS = {
    't.storage()': lambda lib, t, s: t.storage(), 't.storage_type()': lambda lib, t, s: t.storage_type(),
    'FloatStorage([1, 2])': lambda lib, t, s: lib.FloatStorage([1, 2]), 'Storage(3)': lambda lib, t, s: lib.Storage(3),
    'LongStorage()': lambda lib, t, s: lib.LongStorage(), 'FloatStorage.dtype': lambda lib, t, s: lib.FloatStorage.dtype,
    "FloatStorage('ab')": lambda lib, t, s: lib.FloatStorage('ab'),
    'TypedStorage([1, 2])': lambda lib, t, s: lib.TypedStorage([1, 2]),
    'TypedStorage(wrap_storage=)': lambda lib, t, s: lib.TypedStorage(wrap_storage=t.untyped_storage(), dtype=t.dtype),
    'isinstance(s, FloatStorage)': lambda lib, t, s: isinstance(s, lib.FloatStorage),
    'isinstance(t, FloatStorage)': lambda lib, t, s: isinstance(t, lib.FloatStorage),
    'is_storage': lambda lib, t, s: lib.is_storage(s), 'untyped_storage()': lambda lib, t, s: t.untyped_storage(),
    'set_(s)': lambda lib, t, s: lib.zeros(0).set_(s), 's.dtype': lambda lib, t, s: s.dtype,
    's.device': lambda lib, t, s: s.device, 's[0]': lambda lib, t, s: s[0], 's[0] = 1': lambda lib, t, s: s.__setitem__(0, 1),
    'len(s)': lambda lib, t, s: len(s), 'list(s)': lambda lib, t, s: list(s), 'repr(s)': lambda lib, t, s: repr(s),
    'str(s)': lambda lib, t, s: str(s), 'sys.getsizeof(s)': lambda lib, t, s: __import__('sys').getsizeof(s),
    **{f's.{m}()': (lambda lib, t, s, m=m: getattr(s, m)())
       for m in ('size', 'tolist', 'data_ptr', 'element_size', 'nbytes', 'untyped', 'is_shared', 'share_memory_',
                 'cpu', 'is_pinned', '_untyped_storage')},
}


def _storage_warnings(lib, call):
    """The deprecation warnings of ``call`` made twice after the flag's reset: (message, at this file's line?)."""
    t = lib.tensor([1.0, 2.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        s = t.storage()
    lib.storage._reset_warn_typed_storage_removal()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        for _ in range(2):
            try:
                _STORAGE_CALLS[call](lib, t, s)
            except TypeError:   # FloatStorage('ab'): PyTorch warns before it refuses
                pass
    return [(str(w.message), w.filename == __file__) for w in caught]


@pytest.mark.parametrize('call', list(_STORAGE_CALLS))
def test_typed_storage_deprecation_warns_where_and_as_often_as_pytorch(call):
    """PyTorch's "TypedStorage is deprecated" warning, once a process (a flag on
    ``torch.storage._warn_typed_storage_removal``), at the caller's line, from every deprecated storage call: ember
    warned at ``t.storage()`` and TypedStorage() alone, and the registry's set_/storage_type cases passed or failed
    by the tests' order (session 35's train). Both flags are put back afterwards, for the tests after this one."""
    saved = [m._warn_typed_storage_removal.__dict__.get('has_warned', False) for m in (torch.storage, ember.storage)]
    try:
        got, want = _storage_warnings(ember, call), _storage_warnings(torch, call)
    finally:
        for m, flag in zip((torch.storage, ember.storage), saved):
            m._warn_typed_storage_removal.__dict__['has_warned'] = flag
    if call.startswith('isinstance'):   # PyTorch's metaclass check warns from inside torch/storage.py
        got, want = [m for m, _ in got], [m for m, _ in want]
    assert got == want
