"""``save(obj, f, pickle_module=..., pickle_protocol=...)`` and ``load(f, pickle_module=..., **pickle_load_args)``
as torch.serialization does them: data.pkl pickled by the module's Pickler with the protocol, read by its
Unpickler. A stand-in module plays dill (which avalanche passes): it pickles lambdas by their source, which
neither pickle nor PyTorch's default path can."""
import io
import pickle
import types
import warnings
import zipfile

import numpy as np
import pytest
import torch

import ember


def lam(src):
    """A lambda that remembers its source, so the stand-in can pickle it."""
    f = eval(src)
    f.__source__ = src
    return f


class _SourcePickler(pickle._Pickler):
    dispatch = pickle._Pickler.dispatch.copy()

    def save_function(self, obj):
        src = getattr(obj, '__source__', None)
        if src is None:
            return self.save_global(obj)
        if self.proto >= 4:
            self.save('__lambda__')
            self.save(src)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + b'__lambda__\n' + src.encode() + b'\n')
        self.memoize(obj)

    dispatch[types.FunctionType] = save_function


class _SourceUnpickler(pickle._Unpickler):
    def find_class(self, module, name):
        return lam(name) if module == '__lambda__' else super().find_class(module, name)


STANDIN = types.ModuleType('standin')
STANDIN.Pickler, STANDIN.Unpickler = _SourcePickler, _SourceUnpickler


def data_pkl(buf):
    zf = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    return zf.read(next(n for n in zf.namelist() if n.endswith('/data.pkl')))


def checkpoint(lib):
    w = lib.arange(6.).reshape(2, 3)
    return {'w': w, 'row': w[1], 'p': lib.nn.Parameter(lib.ones(2)), 'f': lam('lambda x: x * 2'), 'n': [1, 'a']}


def saved(lib, obj, **kw):
    buf = io.BytesIO()
    lib.save(obj, buf, **kw)
    buf.seek(0)
    return buf


def check_loaded(got, tensor_type, param_type):
    assert type(got['w']) is tensor_type and type(got['p']) is param_type and got['p'].requires_grad
    np.testing.assert_array_equal(np.asarray(got['w'].tolist()), np.arange(6.).reshape(2, 3))
    assert got['row'].tolist() == [3., 4., 5.] and got['n'] == [1, 'a'] and got['f'](3) == 6


@pytest.mark.parametrize('protocol', [2, 3, 4, 5])
def test_pickle_module_writes_and_reads_what_only_it_can_pickle(protocol):
    ours, theirs = saved(ember, checkpoint(ember), pickle_module=STANDIN, pickle_protocol=protocol), \
        saved(torch, checkpoint(torch), pickle_module=STANDIN, pickle_protocol=protocol)
    assert data_pkl(ours) == data_pkl(theirs)   # the same Pickler, the same opcodes
    check_loaded(torch.load(ours, pickle_module=STANDIN), torch.Tensor, torch.nn.Parameter)
    check_loaded(ember.load(theirs, pickle_module=STANDIN), ember.Tensor, ember.nn.Parameter)
    got = ember.load(saved(ember, checkpoint(ember), pickle_module=STANDIN, pickle_protocol=protocol),
                     pickle_module=STANDIN)
    check_loaded(got, ember.Tensor, ember.nn.Parameter)
    assert got['row'].untyped_storage().data_ptr() == got['w'].untyped_storage().data_ptr()   # still one storage


def test_without_the_pickle_module_such_a_file_fails_as_in_pytorch():
    for lib in (torch, ember):
        buf = saved(torch, checkpoint(torch), pickle_module=STANDIN)
        with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
            lib.load(buf)
        buf.seek(0)
        with pytest.raises(ModuleNotFoundError, match="No module named '__lambda__'"):
            lib.load(buf, weights_only=False)


def load_outcome(lib, buf, **kw):
    """What ``lib.load`` makes of ``buf``: the list saved under 'b', or the error; and its protocol warnings."""
    buf.seek(0)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        try:
            out = lib.load(buf, **kw)['b']
        except Exception as e:
            out = (type(e).__name__, str(e))
    return out, [str(w.message) for w in seen if 'protocol' in str(w.message)]


@pytest.mark.parametrize('protocol', [0, 1, 2, 3, 4, 5, -1, None, True])
def test_pickle_protocol_of_plain_data(protocol):
    def obj(lib):
        w = lib.arange(4.)
        return {'a': lib.ones(2), 'b': [1, 2.5, 'x', (3, None)], 'c': lib.arange(3), 'w': w, 'v': w[1:]}
    ours = saved(ember, obj(ember), pickle_protocol=protocol)
    theirs = saved(torch, obj(torch), pickle_protocol=protocol)
    assert data_pkl(ours) == data_pkl(theirs)
    if protocol == 0:   # its storage ids are text, which neither library reads back
        return
    for kw in ({}, {'weights_only': False}):   # PyTorch's weights_only reader warns past 2, refuses 4's FRAME
        want = load_outcome(torch, ours, **kw)
        assert load_outcome(ember, theirs, **kw) == load_outcome(ember, ours, **kw) == want
        assert kw or (want[0] == [1, 2.5, 'x', (3, None)]) == (protocol in (2, 3))


@pytest.mark.parametrize('protocol', ['2', 2.0, 6])
def test_bad_pickle_protocol_errors(protocol):
    with pytest.raises(Exception) as want:
        torch.save({'a': 1}, io.BytesIO(), pickle_protocol=protocol)
    with pytest.raises(want.type) as got:
        ember.save({'a': 1}, io.BytesIO(), pickle_protocol=protocol)
    assert str(got.value) == str(want.value)


def test_load_arguments_follow_pytorch():
    buf = saved(torch, {'a': torch.ones(2)})
    for lib in (torch, ember):  # an explicit pickle_module makes weights_only default to False
        buf.seek(0)
        assert lib.load(buf, pickle_module=pickle)['a'].tolist() == [1., 1.]
        buf.seek(0)
        assert lib.load(buf, pickle_module=STANDIN)['a'].tolist() == [1., 1.]
    for kw in [{'weights_only': True, 'pickle_module': STANDIN}, {'weights_only': True, 'pickle_module': pickle}]:
        messages = []
        for lib in (torch, ember):
            buf.seek(0)
            with pytest.raises(RuntimeError) as e:
                lib.load(buf, **kw)
            messages.append(str(e.value))
        assert messages[0] == messages[1] == 'Can not safely load weights when explicit pickle_module is specified'
    for kw in [{'encoding': 'latin1'}, {'weights_only': False, 'encoding': 'latin1', 'errors': 'strict'},
               {'weights_only': False, 'fix_imports': True, 'buffers': None}]:
        seen = []
        for lib in (torch, ember):
            buf.seek(0)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter('always')
                assert lib.load(buf, **kw)['a'].tolist() == [1., 1.]
            seen.append([str(x.message) for x in w if 'pickle_load_args' in str(x.message)])
        assert seen[0] == seen[1] == (['pickle_load_args only works if `weights_only=False`.'] if len(kw) == 1 else [])
    for kw in [{'errors': 'strict'}, {'fix_imports': True}, {'weights_only': False, 'foo': 1}]:
        messages = []
        for lib in (torch, ember):
            buf.seek(0)
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                with pytest.raises(TypeError) as e:
                    lib.load(buf, **kw)
            messages.append(str(e.value))
        assert messages[0] == messages[1]


def test_a_c_pickler_module_is_refused_by_name():
    class CPickler(pickle.Pickler):
        pass
    module = types.ModuleType('cmodule')
    module.Pickler, module.Unpickler = CPickler, pickle.Unpickler
    with pytest.raises(TypeError, match="pickle_module 'cmodule' has Pickler .*pickle._Pickler"):
        ember.save({'a': ember.ones(1)}, io.BytesIO(), pickle_module=module)


def test_whole_module_with_pickle_module_round_trips():
    lin = ember.nn.Linear(2, 3)
    buf = saved(ember, {'m': lin, 'f': lam('lambda x: x + 1')}, pickle_module=STANDIN)
    got = ember.load(buf, pickle_module=STANDIN)
    assert type(got['m']) is ember.nn.Linear and got['f'](1) == 2
    np.testing.assert_array_equal(got['m'].weight.detach().numpy(), lin.weight.detach().numpy())
