"""Front door, lane "bind": places where ember was not PyTorch, each checked against PyTorch 2.13: torch.jit's
notes, functions set as class attributes, dense and sparse tensors joined, storages' methods, tensors over
read-only memory."""
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.jit as ejit


# -- torch.jit: scripting prints nothing; a trace's note comes once per process ---------------------------------
def _jit_program(lib):
    """A library's import-time helpers and a model: scripted functions and a scripted, traced module; the
    warnings caught (PyTorch's trace warns nothing for this code either)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        helpers = []
        for scale in (1.0, 2.0, 3.0):
            @lib.jit.script
            def helper(x, scale: float = scale):
                return x * scale + 1
            helpers.append(helper)
        lib.manual_seed(0)
        net = lib.jit.script(lib.nn.Linear(3, 2))
        traced = [lib.jit.trace(lib.nn.Linear(3, 2), lib.ones(1, 3)) for _ in range(3)]
    x = lib.arange(6.0).reshape(2, 3)
    return [(w.category, str(w.message)) for w in caught], [h(x) for h in helpers] + [net(x)], traced


def _shown(caught):
    """The warnings Python's default filters show: PyTorch's DeprecationWarnings come from its own code."""
    return [m for c, m in caught if c is not DeprecationWarning]


def test_jit_script_is_silent_and_trace_notes_once(monkeypatch):
    monkeypatch.setattr(ejit, '_NOTED', set())
    (t_warn, t_out, _), (e_warn, e_out, _) = _jit_program(torch), _jit_program(ember)
    deprecated = [w for w in t_warn if w[0] is DeprecationWarning]
    assert [w for w in e_warn if w[0] is DeprecationWarning] == deprecated and len(deprecated) == 13
    assert _shown(t_warn) == [] and len(_shown(e_warn)) == 1 and 'no TorchScript tracer' in _shown(e_warn)[0]
    for t, e in zip(t_out, e_out):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6)
    _, _, again = _jit_program(ember)
    assert len(again) == 3     # (and no second note: the set above holds 'trace' now)
    assert ejit._NOTED == {'trace'}


def test_jit_graph_and_code_say_why_and_save_round_trips(tmp_path, monkeypatch):
    monkeypatch.setattr(ejit, '_NOTED', set())
    tm = torch.jit.script(torch.nn.Linear(3, 2))
    assert hasattr(tm, 'graph') and hasattr(tm, 'code')     # PyTorch's TorchScript module has them
    em = ejit.script(ember.nn.Linear(3, 2))
    for name in ('graph', 'code', 'inlined_graph'):
        with pytest.raises(AttributeError, match=f"no attribute '{name}': ember has no TorchScript"):
            getattr(em, name)
    with pytest.raises(AttributeError, match=r"^'Linear' object has no attribute 'graph'$"):
        ember.nn.Linear(3, 2).graph      # a module never scripted: PyTorch's plain message
    with pytest.raises(AttributeError, match=r"^'Linear' object has no attribute 'graph'$"):
        torch.nn.Linear(3, 2).graph
    with pytest.warns(UserWarning, match='PyTorch cannot'):
        em.save(str(tmp_path / 'm.pt'))
    back = ejit.load(str(tmp_path / 'm.pt'))
    x = ember.ones(1, 3)
    np.testing.assert_array_equal(back(x).detach().numpy(), em(x).detach().numpy())
    with warnings.catch_warnings():
        warnings.simplefilter('error')    # the note came once
        warnings.simplefilter('ignore', DeprecationWarning)
        ejit.save(em, str(tmp_path / 'm2.pt'))


def test_jit_deprecations_are_pytorchs_and_hidden_by_default(tmp_path):
    """PyTorch 2.13 deprecates torch.jit: ember gives the same DeprecationWarnings, from the library's code, so a
    program run with Python's default filters prints nothing for them, as under PyTorch."""
    prog = ("import {lib}\n@{lib}.jit.script\ndef f(x):\n    return x + 1\n"
            "m = {lib}.jit.trace({lib}.nn.Linear(2, 2), {lib}.ones(1, 2))\n"
            "{lib}.jit.save({lib}.jit.script({lib}.nn.Linear(2, 2)), {path!r})\n"
            "{lib}.jit.load({path!r})\nprint(f({lib}.ones(2)).tolist())\n")
    outs = []
    for lib in ('torch', 'ember'):     # (TorchScript reads the function's source: a file, not -c)
        (tmp_path / f'{lib}_prog.py').write_text(prog.format(lib=lib, path=str(tmp_path / f'{lib}.pt')))
        outs.append(subprocess.run([sys.executable, str(tmp_path / f'{lib}_prog.py')], capture_output=True,
                                   text=True, env={**os.environ, 'PYTHONWARNINGS': ''}))
    assert outs[0].stdout == outs[1].stdout == '[2.0, 2.0]\n' and outs[0].stderr == ''
    # ember's two notes (the trace runs as Python; the file is ember's), once each
    assert outs[1].stderr.count('UserWarning') == 2, outs[1].stderr
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        for lib in (torch, ember):
            m = lib.jit.script(lib.nn.Linear(2, 2))
            lib.jit.save(m, str(tmp_path / 'x.pt'))
            lib.jit.load(str(tmp_path / 'x.pt')) if lib is torch else ejit.load(str(tmp_path / 'x.pt'))
    deprecated = [str(w.message) for w in caught if w.category is DeprecationWarning]
    assert len(deprecated) == 6 and deprecated[:3] == deprecated[3:]


# -- functions as class attributes bind as PyTorch's do ------------------------------------------------------------
_NAMESPACES = (('', ''), ('nn.functional.', 'nn.functional'), ('linalg.', 'linalg'), ('special.', 'special'),
               ('fft.', 'fft'))


def _namespace(lib, path):
    for part in path.split('.') if path else ():
        lib = getattr(lib, part)
    return lib


def _public_callables(lib, path):
    import inspect
    ns = _namespace(lib, path)
    out = {}
    for name in dir(ns):
        if name.startswith('_'):
            continue
        try:
            obj = getattr(ns, name)
        except Exception:
            continue
        if callable(obj) and not inspect.ismodule(obj):
            out[name] = obj
    return out


def _binds(obj):
    return hasattr(type(obj), '__get__')


@pytest.mark.parametrize('prefix,path', _NAMESPACES)
def test_every_public_function_binds_as_pytorchs(prefix, path):
    """Each public callable of torch, torch.nn.functional, torch.linalg, torch.special and torch.fft that ember
    has: a descriptor (binds as a method when set on a class) exactly where PyTorch's is one."""
    want, got = _public_callables(torch, path), _public_callables(ember, path)
    common = sorted(set(want) & set(got))
    assert len(common) > {'': 500, 'nn.functional.': 100}.get(prefix, 20)
    differ = [f'torch.{prefix}{n}' for n in common if _binds(want[n]) != _binds(got[n])]
    assert differ == []
    builtins_ = [n for n in common if type(want[n]).__name__ == 'builtin_function_or_method']
    assert all(type(got[n]).__name__ == 'builtin_function_or_method' for n in builtins_)


def _class_attribute_program(lib):
    """``act = torch.tanh`` on a Module and on a plain class: called through an instance, it gets the tensor
    only; F.relu (a Python function in PyTorch) binds, so it gets the instance first."""
    F = lib.nn.functional

    class Net(lib.nn.Module):
        act = lib.tanh
        gelu = F.gelu
        conv = F.conv1d
        norm = lib.linalg.vector_norm
        erf = lib.special.erf
        rfft = lib.fft.rfft
        relu = F.relu

        def forward(self, x):
            return [self.act(x), self.gelu(x), self.conv(x.reshape(1, 1, 4), lib.ones(1, 1, 2)), self.norm(x),
                    self.erf(x), self.rfft(x).abs()]

    class Plain:
        add = lib.add
        matmul = lib.matmul
    x = lib.tensor([-1.0, 0.5, 2.0, 3.0])
    out = Net()(x) + [Plain().add(x, x), Plain.add(x, 1), Plain().matmul(x, x)]
    with pytest.raises(Exception) as bound:
        Net().relu(x)     # relu(net, x): a Module is not a tensor
    return [o.detach().numpy() for o in out], type(bound.value)


def test_functions_set_on_a_class_do_not_bind_where_pytorchs_do_not():
    (want, want_err), (got, got_err) = _class_attribute_program(torch), _class_attribute_program(ember)
    assert len(got) == len(want) == 9 and got_err is want_err
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)


def test_builtins_name_repr_and_pickle_as_pytorchs():
    import pickle
    import re
    F, EF = torch.nn.functional, ember.nn.functional
    for t, e in ((torch.tanh, ember.tanh), (torch.arctan, ember.arctan), (torch.concat, ember.concat),
                 (F.gelu, EF.gelu), (torch.linalg.inv, ember.linalg.inv), (torch.special.erf, ember.special.erf),
                 (torch.fft.rfft, ember.fft.rfft)):
        assert e.__name__ == t.__name__ and type(e) is type(t)
        assert re.sub(' at 0x[0-9a-f]+', '', repr(e)) == re.sub(' at 0x[0-9a-f]+', '', repr(t))
        assert pickle.loads(pickle.dumps(e)) is e and pickle.loads(pickle.dumps(t)) is t
    assert ember.tanh.__module__ == 'ember' and ember.linalg.inv.__module__ == 'ember.linalg'
    assert ember.concat is not ember.cat and torch.concat is not torch.cat
    assert ember.concat.__name__ == 'concat' and ember.cat.__name__ == 'cat'
    # Python functions in PyTorch stay Python functions, named as there
    for t, e in ((torch.einsum, ember.einsum), (F.relu, EF.relu), (torch.split, ember.split)):
        assert type(e) is type(t) and e.__name__ == t.__name__
    # a module holding functions copies and pickles with them
    import copy
    holder = ember.nn.Module()
    holder.act = ember.tanh
    assert copy.deepcopy(holder).act is ember.tanh and pickle.loads(pickle.dumps(holder)).act is ember.tanh


def test_builtins_dispatch_torch_function_as_the_object_the_program_sees():
    seen = []

    class Logged(ember.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(func)
            return super().__torch_function__(func, types, args, kwargs or {})
    x = ember.ones(3).as_subclass(Logged)
    out = ember.tanh(x)
    assert type(out) is Logged and seen[0] is ember.tanh
    assert type(ember.tanh).__name__ == 'builtin_function_or_method'
    np.testing.assert_allclose(out.numpy(), np.tanh(np.ones(3, np.float32)), rtol=1e-6)


# -- cat / stack / hstack... of dense and sparse tensors --------------------------------------------------------
def _joins(lib):
    """Each join of a dense and a sparse COO tensor in both orders, two sparse ones, compressed layouts: the
    result's layout, shape, dense values, or the error's type and first line."""
    d, s = lib.arange(6.0).reshape(2, 3), lib.tensor([[0.0, 2.0, 0.0], [3.0, 0.0, 4.0]]).to_sparse()
    hybrid = lib.sparse_coo_tensor([[0, 2]], [[1.0, 2.0], [3.0, 4.0]], (3, 2))
    cases = [(name, args) for name in ('cat', 'concat', 'stack', 'hstack', 'vstack', 'row_stack', 'column_stack')
             for args in ([d, s], [s, d], [s, s], [s, s.double()], [s])]
    cases += [('cat', [hybrid, hybrid], 1), ('cat', [hybrid, hybrid], 0), ('cat', [s, s], -1),
              ('cat', [s, s.t()], 0), ('cat', [s.to_sparse_csr(), s.to_sparse_csr()]), ('cat', [s, s.to_sparse_csr()]),
              ('cat', [d, s.to_sparse_csc()])]
    out = []
    for name, args, *dim in cases:
        try:
            r = getattr(lib, name)(args, *dim)
            out.append((name, str(r.layout), tuple(r.shape), str(r.dtype), r.to_dense().tolist()))
        except Exception as e:
            out.append((name, type(e).__name__, str(e).split('\n')[0][:90]))
    return out


def test_cat_and_stack_of_dense_and_sparse_as_pytorch():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')    # PyTorch's beta-state note on CSR
        want, got = _joins(torch), _joins(ember)
    assert got == want
    assert sum(r[1] == 'NotImplementedError' and "'aten::_values'" in r[2] for r in got) == 7
    assert sum(r[1] == 'torch.sparse_coo' for r in got) == 24


# -- tensors over read-only NumPy memory -------------------------------------------------------------------------
def _read_only_program(lib):
    """In-place ops on tensors over NumPy arrays flagged read-only whose memory can be written: PyTorch warns
    (once) and writes into the arrays."""
    owner = np.arange(4.0)
    owner.flags.writeable = False
    base = np.zeros((2, 3), np.float32)
    view = base[:, 1:]
    view.flags.writeable = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        t = lib.from_numpy(owner)
        t.add_(1)
        t[0] = 9
        t.mul_(2)
        v = lib.as_tensor(view)
        v.fill_(3)
        v[1].zero_()
        v.copy_(v + 1)
        w = lib.asarray(owner)
        w.sub_(1)
    return owner.tolist(), base.tolist(), t.tolist(), [str(c.message)[:40] for c in caught]


def test_read_only_numpy_memory_is_written_as_pytorch_writes_it():
    torch_out = _read_only_program(torch)
    ember_out = _read_only_program(ember)
    assert ember_out[:3] == torch_out[:3] == ([17.0, 3.0, 5.0, 7.0], [[0.0, 4.0, 4.0], [0.0, 1.0, 1.0]],
                                              [17.0, 3.0, 5.0, 7.0])
    assert set(ember_out[3]) <= {'The given NumPy array is not writable, a'}
    assert len(ember_out[3]) <= 1 and len(torch_out[3]) <= 1


def test_read_only_memory_refuses_in_place_ops_naming_the_op():
    """Memory NumPy will not write (bytes): PyTorch writes into the bytes object; ember refuses, saying so."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        t = ember.from_numpy(np.frombuffer(b'\x00' * 16, dtype=np.float32))
    for op, call in (('add_', lambda: t.add_(1)), ('zero_', t.zero_), ('fill_', lambda: t.fill_(2)),
                     ('copy_', lambda: t.copy_(ember.ones(4))), ('tensor[index] = value', lambda: t.__setitem__(0, 1))):
        with pytest.raises(RuntimeError, match=rf"^{re.escape(op)}: this tensor's memory is read-only .*Copy it first"):
            call()
    assert t.tolist() == [0.0] * 4
    # an expanded view still gets PyTorch's overlap error
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match='more than one element of the written-to tensor'):
            lib.ones(2).expand(3, 2).add_(1)


# -- TypedStorage / UntypedStorage methods ------------------------------------------------------------------------
def _storage_program(lib):
    """Each storage method ember lacked or answered differently, as a program calls it."""
    out = []

    def run(label, f):
        try:
            r = f()
            out.append((label, type(r).__name__, r.tolist() if hasattr(r, 'tolist') else r,
                        str(getattr(r, 'dtype', ''))))
        except Exception as e:
            out.append((label, type(e).__name__, str(e)[:100]))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')    # TypedStorage's deprecation
        s = lib.FloatStorage([1.5, -2.0])
        run('clone', s.clone)
        run('clone is new', lambda: s.clone() is s)
        for conv in ('bool', 'byte', 'char', 'short', 'int', 'long', 'half', 'bfloat16', 'float', 'double',
                     'complex_float', 'complex_double'):
            run(conv, getattr(s, conv))
        run('type', s.type)
        run('copy_ bytes mismatch', lambda: s.copy_(lib.DoubleStorage([5, 6])))
        run('copy_ int bits', lambda: s.clone().copy_(lib.IntStorage([1065353216, 0])))
        run('fill_', lambda: s.clone().fill_(3))
        grown = s.clone()
        run('resize_', lambda: grown.resize_(3))
        run('resized', lambda: (len(grown), grown.nbytes(), grown.tolist()[:2]))
        run('element_size nbytes', lambda: (s.element_size(), s.nbytes(), s.is_shared(), s.get_device()))
        run('flags', lambda: (s.is_cuda, s.is_sparse, s.resizable(), s.filename))
        run('pin_memory', s.pin_memory)
        run('from_buffer little', lambda: lib.FloatStorage.from_buffer(b'\x00\x00\x80\x3f' * 2, 'little'))
        run('from_buffer big', lambda: lib.FloatStorage.from_buffer(b'\x3f\x80\x00\x00\x40\x00\x00\x00', 'big'))
        run('TypedStorage.from_buffer', lambda: lib.TypedStorage.from_buffer(b'\x01\x00\x02\x00', 'little',
                                                                           dtype=lib.int16))
        u = lib.UntypedStorage(4).fill_(7)
        for conv in ('float', 'int', 'bool', 'double'):
            run('u.' + conv, getattr(u, conv))
        run('u.type', u.type)
        run('u.flags', lambda: (u.resizable(), u.get_device(), u.is_cuda, u.filename))
        run('u.new', u.new)
        run('u.from_buffer', lambda: lib.UntypedStorage.from_buffer(b'abcd', dtype=lib.uint8))
        run('u.pin_memory', u.pin_memory)
    return out


def test_storage_methods_as_pytorchs():
    want, got = _storage_program(torch), _storage_program(ember)
    assert [w[0] for w in want] == [g[0] for g in got]
    for w, g in zip(want, got):
        assert g == w, w[0]


def test_storage_method_names_walk():
    """dir() of a FloatStorage and an UntypedStorage: the public names PyTorch's have, ember's have, but the
    accelerators' (cuda, hpu, mps) and 8-bit float conversions, which ember has no device or dtype for."""
    skip = {'cuda', 'hpu', 'mps', 'is_hpu', 'float8_e4m3fn', 'float8_e4m3fnuz', 'float8_e5m2', 'float8_e5m2fnuz',
            'from_file', 'pickle_storage_type', 'to', 'byteswap', 'is_sparse_csr'}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for make in (lambda lib: lib.FloatStorage([1, 2]), lambda lib: lib.UntypedStorage(4)):
            want = {n for n in dir(make(torch)) if not n.startswith('_')}
            got = {n for n in dir(make(ember)) if not n.startswith('_')}
            assert want - got - skip == set()
