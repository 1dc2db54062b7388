"""PyTorch's legacy checkpoint format (torch.save before 1.6, or _use_new_zipfile_serialization=False): loading
files written by PyTorch itself, older layouts made by hand, and refusals; writing it (ember's file loads in
PyTorch). Memory bombs are in test_untrusted.py."""
import collections
import io
import os
import pickle
import struct
import tarfile

import numpy as np
import pytest
import torch

import ember
from ember.serialization import UnpicklingError

MAGIC, PROTOCOL = 0x1950a86a20f9469cfc6c, 1001


def legacy(obj):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def both(data, **kw):
    """(ember's, PyTorch's) load of the same bytes."""
    return ember.load(io.BytesIO(data), **kw), torch.load(io.BytesIO(data), **kw)


def crafted(obj, storages, keys=None, magic=MAGIC, protocol=PROTOCOL, records=None):
    """A legacy file by hand: ``obj`` pickled with ``persistent_id`` mapping ``Pid`` objects to their tuple,
    then the key list and each storage's (count, bytes) record (``records`` overrides them)."""
    class Pickler(pickle.Pickler):
        def persistent_id(self, o):
            return o.pid if isinstance(o, Pid) else None

    out = io.BytesIO()
    for head in (magic, protocol, {'protocol_version': protocol, 'little_endian': True,
                                   'type_sizes': {'short': 2, 'int': 4, 'long': 4}}):
        pickle.dump(head, out, protocol=2)
    Pickler(out, protocol=2).dump(obj)
    keys = sorted(storages) if keys is None else keys
    pickle.dump(keys, out, protocol=2)
    for key in keys:
        arr = storages[key]
        out.write(records[key] if records and key in records else struct.pack('<q', arr.size) + arr.tobytes())
    return out.getvalue()


class Pid:
    def __init__(self, *pid):
        self.pid = pid


class Rebuild:
    """Pickles as ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def refused(data, match, **kw):
    with pytest.raises(UnpicklingError, match=match):
        ember.load(io.BytesIO(data), **kw)


# ---------------------------------------------------------------------------------------------- PyTorch's files
def test_mixed_checkpoint_prints_as_pytorch_loads_it():
    base = torch.arange(12.).reshape(3, 4)
    obj = {'a': base, 'view': base[1:, ::2], 't': base.t(), 'empty': torch.zeros(0, 3),
           'p': torch.nn.Parameter(torch.ones(2)), 'frozen': torch.nn.Parameter(torch.ones(1), requires_grad=False),
           'nested': [(1, 2.5, 'x', None, b'raw'), {'k': torch.tensor(7)}, {3, 4}], 'size': torch.Size([2, 3]),
           'dtype': torch.float16, 'inf': float('inf')}
    mine, theirs = both(legacy(obj))
    assert repr(mine) == repr(theirs)
    assert type(mine['p']).__name__ == 'Parameter' and mine['p'].requires_grad
    assert not mine['frozen'].requires_grad


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool'])
def test_dtypes(dtype):
    t = (torch.arange(-3, 5) * 1.7).to(getattr(torch, dtype)).reshape(2, 4)
    mine, theirs = both(legacy({'t': t, 'col': t[:, 1]}))
    assert mine['t'].dtype == getattr(ember, dtype)
    np.testing.assert_array_equal(mine['t'].numpy(), theirs['t'].numpy())
    np.testing.assert_array_equal(mine['col'].numpy(), theirs['col'].numpy())


def test_shared_storages_stay_shared():
    w = torch.arange(6.)
    mine, _ = both(legacy({'w': w, 'tail': w[2:], 'again': w, 'r': w.view(2, 3)}))
    assert mine['again'] is mine['w']
    mine['w'].add_(10)
    assert mine['tail'].tolist() == [12., 13., 14., 15.] and mine['r'][1].tolist() == [13., 14., 15.]


def test_state_dicts_load_into_modules():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(12, 2))
    net(torch.randn(4, 2, 4, 4))      # running stats move
    opt = torch.optim.Adam(net.parameters())
    net(torch.randn(1, 2, 4, 4)).sum().backward()
    opt.step()
    sd, osd = both(legacy({'model': net.state_dict(), 'opt': opt.state_dict(), 'epoch': 3}))
    assert repr(sd) == repr(osd)
    mine = ember.nn.Sequential(ember.nn.Conv2d(2, 3, 3), ember.nn.BatchNorm2d(3), ember.nn.ReLU(), ember.nn.Flatten(),
                               ember.nn.Linear(12, 2))
    mine.load_state_dict(sd['model'])
    x = np.random.default_rng(0).standard_normal((2, 2, 4, 4)).astype(np.float32)
    net.eval(), mine.eval()
    np.testing.assert_allclose(mine(ember.tensor(x)).detach().numpy(), net(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert sd['model']._metadata == osd['model']._metadata


def test_file_path_and_map_location(tmp_path):
    path = tmp_path / 'old.pth'
    path.write_bytes(legacy({'w': torch.ones(3)}))
    for kw in ({}, {'map_location': 'cpu'}, {'map_location': lambda s, loc: s}, {'weights_only': False}):
        assert ember.load(str(path), **kw)['w'].tolist() == [1., 1., 1.]
    with pytest.raises(RuntimeError, match='mmap can only be used') as mine:
        ember.load(str(path), mmap=True)
    with pytest.raises(RuntimeError, match='mmap can only be used') as theirs:
        torch.load(str(path), mmap=True)
    assert str(mine.value) == str(theirs.value)


def test_bfloat16():
    t = torch.tensor([[1.5, -2.25e-3, 3e38], [7., 0.1, -0.]], dtype=torch.bfloat16)
    mine, theirs = both(legacy({'t': t, 'col': t[:, 1]}))
    assert repr(mine) == repr(theirs) and mine['t'].dtype == ember.bfloat16
    mine['t'][0, 1] = 5.
    assert mine['col'].tolist() == [5.0, 0.10009765625]


# ---------------------------------------------------------------------------------------------- older layouts
def test_storage_views_and_rebuild_tensor_v1():
    """Before PyTorch 0.4 a persistent id could name a view (key, offset, size) of a root storage, and
    tensors were rebuilt by _rebuild_tensor(storage, offset, size, stride)."""
    root = np.arange(8, dtype=np.float32)
    view = Pid('storage', torch.FloatStorage, '1', 'cpu', 8, ('2', 3, 4))
    whole = Pid('storage', torch.FloatStorage, '1', 'cpu', 8, None)
    obj = {'v': Rebuild(torch._utils._rebuild_tensor, view, 1, (2,), (2,)),
           'w': Rebuild(torch._utils._rebuild_tensor, whole, 0, (2, 4), (4, 1))}
    data = crafted(obj, {'1': root})
    mine, theirs = both(data)
    assert mine['v'].tolist() == [4., 6.] == theirs['v'].tolist()
    assert mine['w'].tolist() == root.reshape(2, 4).tolist()
    mine['w'].zero_()
    assert mine['v'].tolist() == [0., 0.]


def test_python2_style_bytes_typenames():
    """Python 2 wrote internal keys as str; loaded with encoding='bytes' they arrive as bytes."""
    pid = Pid(b'storage', torch.LongStorage, b'k', b'cpu', 3, None)
    data = crafted({'t': Rebuild(torch._utils._rebuild_tensor, pid, 0, (3,), (1,))}, {'k': np.arange(3)})
    assert ember.load(io.BytesIO(data))['t'].tolist() == [0, 1, 2]


# ---------------------------------------------------------------------------------------------- refusals
def test_code_in_the_pickle_is_never_run(tmp_path):
    target = str(tmp_path / 'pwned')
    data = crafted({'x': Rebuild(os.mkdir, target)}, {})
    for wo in (True, False):
        refused(data, "global '(posix|os|nt).mkdir'.*legacy-format", weights_only=wo)
    assert not os.path.exists(target)
    module = legacy(torch.nn.Linear(1, 1))
    refused(module, 'refused to load the global')
    with pytest.raises(pickle.UnpicklingError):
        torch.load(io.BytesIO(module))


def test_malformed_files():
    good = {'t': Rebuild(torch._utils._rebuild_tensor, Pid('storage', torch.FloatStorage, '0', 'cpu', 2, None), 0,
                         (2,), (1,))}
    two = np.ones(2, np.float32)
    assert ember.load(io.BytesIO(crafted(good, {'0': two})))['t'].tolist() == [1., 1.]
    refused(crafted(good, {'0': two}, magic=7), 'Invalid magic number')
    refused(crafted(good, {'0': two}, protocol=1000), 'Invalid protocol version: 1000')
    refused(crafted(good, {'0': two}, records={'0': struct.pack('<q', 3) + two.tobytes()}), 'wrong byte size')
    refused(crafted(good, {'0': two}, keys=[]) + bytes(64), "storage \\['0'\\] has no data")
    refused(crafted(good, {'0': two}, keys=['0', '0']), 'listed twice')
    refused(crafted(good, {'0': two, '9': two}, keys=['9']), "'9' is unknown")
    refused(crafted(good, {'0': two})[:-3], 'truncated')
    view = Pid('storage', torch.FloatStorage, '0', 'cpu', 2, ('v', 1, 5))
    refused(crafted({'t': Rebuild(torch._utils._rebuild_tensor, view, 0, (1,), (1,))}, {'0': two}),
            'reaches outside storage')
    refused(crafted({'m': Pid('module', 'Linear', 'f.py', 'src')}, {}), 'whole module')
    refused(b'\x80\x02K\x01.', 'Invalid magic number')


def test_tar_format_refused_as_pytorch_refuses_it(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:', format=tarfile.PAX_FORMAT) as tar:
        for name in ('storages', 'tensors', 'pickle', 'sys_info'):
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b'\x00'))
    path = tmp_path / 'tar.pt'
    path.write_bytes(buf.getvalue())
    with pytest.raises(RuntimeError, match='legacy .tar format'):
        torch.load(str(path))
    refused(buf.getvalue(), 'legacy .tar format')


def _mixed(L):
    L.manual_seed(0)
    t = L.arange(12.).reshape(3, 4)
    return {'t': t, 'rows': t[1:], 'tt': t.t(), 'half': L.ones(2, dtype=L.float16),
            'bf': L.tensor([1.5, -2.0], dtype=L.bfloat16), 'long': L.arange(5), 'c': L.tensor([1 + 2j]),
            'p': L.nn.Parameter(L.ones(2)), 'empty': L.zeros(0), 'bool': L.tensor([True, False]),
            'sd': L.nn.Linear(2, 3).state_dict(), 'size': L.Size([2, 3]), 'dtype': L.float64,
            'more': [L.full((2,), float(i)) for i in range(9)], 'plain': [1, (2, 'x'), None]}


def _saved_legacy(L, obj, **kw):
    buf = io.BytesIO()
    L.save(obj, buf, _use_new_zipfile_serialization=False, **kw)
    return buf.getvalue()


def test_written_legacy_file_is_pytorchs_layout_and_loads_in_pytorch():
    """Over ten storages (keys sort as strings, as PyTorch's do), views sharing one storage, every storage type
    (PyTorch's weights-only reader refuses protocol 4's FRAME opcode in its own legacy files too)."""
    for data in (_saved_legacy(ember, _mixed(ember)), _saved_legacy(ember, _mixed(ember), pickle_protocol=4)):
        assert not data.startswith(b'PK') and data[:2] in (b'\x80\x02', b'\x80\x04')
        got, want = torch.load(io.BytesIO(data), weights_only=data[1] == 2), _mixed(torch)
        assert repr(got) == repr(want)
        got['t'][1, 0] = 100.   # rows and the transpose still view t's storage
        assert got['rows'][0, 0].item() == 100. and got['tt'][0, 1].item() == 100.
        assert got['tt'].stride() == (1, 4) and type(got['p']) is torch.nn.Parameter
        back = ember.load(io.BytesIO(data))
        assert repr(back) == repr(_mixed(ember))


def test_pytorchs_legacy_file_and_embers_match():
    """The same pickles and storage records as PyTorch writes, once storage keys (PyTorch's are addresses) are
    set aside: both libraries read both files to the same values."""
    obj = lambda L: {'w': L.arange(6.).reshape(2, 3), 'b': L.tensor([1, 2], dtype=L.int32), 'n': 3}
    mine, theirs = _saved_legacy(ember, obj(ember)), _saved_legacy(torch, obj(torch))
    assert mine[:mine.index(b'}q\x00(X\x01')] == theirs[:theirs.index(b'}q\x00(X\x01')]   # the header pickles
    assert mine.endswith(struct.pack('<q', 2) + np.array([1, 2], np.int32).tobytes())
    for data in (mine, theirs):
        e, t = both(data)
        assert repr(e) == repr(t) == repr(obj(torch))


def test_legacy_whole_module_and_uint16():
    """torch.save(model) in the legacy format loads in PyTorch with weights_only=False; a uint16 tensor goes as an
    UntypedStorage of its bytes, as PyTorch writes it (PyTorch 2.13 cannot load that back; ember can)."""
    model = ember.nn.Sequential(ember.nn.Linear(2, 3))
    got = torch.load(io.BytesIO(_saved_legacy(ember, model)), weights_only=False)
    assert [tuple(p.shape) for p in got.parameters()] == [(3, 2), (3,)]
    mine, theirs = (_saved_legacy(L, L.tensor([1, 2], dtype=L.uint16)) for L in (ember, torch))
    assert mine.endswith(theirs[-16:])
    for data in (mine, theirs):
        assert repr(ember.load(io.BytesIO(data))) == 'tensor([1, 2], dtype=torch.uint16)'
