"""``torch.jit`` (issue 12): ``script``/``trace`` return what runs eagerly and computes what PyTorch's compiled
code computes; the compiler's decorators and queries behave as in eager PyTorch; TorchScript archives are refused
by name."""
import pickle
import subprocess
import sys
import typing
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import ember
import ember.jit as ejit

ROOT = Path(__file__).resolve().parents[1]


def _net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 2)

        def forward(self, x):
            h = self.fc(x)
            if bool(h.sum() > 0):
                return lib.relu(h)
            return h * 2
    lib.manual_seed(0)
    return Net()


def _gelu(x):
    return x * 0.5 * (1.0 + torch.erf(x / 1.41421))


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return fn(*args, **kwargs)


def test_script_and_trace_compute_what_pytorch_compiles():
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(4, 3)
    tnet, enet = _net(torch), _net(ember)
    want = torch.jit.script(tnet)(torch.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter('error', UserWarning)   # scripting prints nothing, as PyTorch's does
        scripted = ejit.script(enet)
    got = scripted(ember.tensor(x))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6)
    want_traced = _quiet(torch.jit.trace, tnet, torch.tensor(x))(torch.tensor(x))
    traced = _quiet(ejit.trace, enet, ember.tensor(x))
    np.testing.assert_allclose(traced(ember.tensor(x)).detach().numpy(), want_traced.detach().numpy(), rtol=1e-6)
    # a scripted function keeps its gradients
    xt, xe = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    torch.jit.script(_gelu)(xt).sum().backward()
    egelu = _quiet(ejit.script, lambda v: v * 0.5 * (1.0 + ember.erf(v / 1.41421)))
    egelu(xe).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5)


def test_errors_are_pytorchs_types():
    for lib in (torch.jit, ejit):
        with pytest.raises(TypeError):
            lib.script(3)
        with pytest.raises(TypeError):
            lib.trace(lambda v: v)
        with pytest.raises(Exception, match='unrecognized fuser option'):
            with lib.fuser('fuser9'):
                pass
    with pytest.raises(RuntimeError, match='failing'):   # trace calls the function on its example inputs
        _quiet(ejit.trace, lambda v: (_ for _ in ()).throw(RuntimeError('failing')), ember.ones(2))


def test_compilation_unit_is_refused_by_name():
    with pytest.raises(NotImplementedError, match='torch.jit.CompilationUnit is not supported by ember yet'):
        ejit.CompilationUnit('def f(x): return x')


class _EmberNet(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = ember.nn.Linear(4, 2)

    def forward(self, x):
        return ember.relu(self.fc(x))


class _TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x):
        return torch.relu(self.fc(x))


def test_save_load_freeze_round_trip_a_module(tmp_path):
    """torch.jit.save(script(m), path) / torch.jit.load(path)(x) and into a buffer, freeze (eval only; outputs
    carry no graph), and PyTorch's errors: a missing file, a state_dict file, a module in training mode; a
    TorchScript archive written by PyTorch is refused naming why."""
    import io
    got = {}
    for lib, jit in ((ember, ejit), (torch, torch.jit)):
        lib.manual_seed(0)
        net = _quiet(jit.script, (_EmberNet if lib is ember else _TorchNet)())
        x = lib.ones(1, 4)
        path = str(tmp_path / f'{lib.__name__}.pt')
        jit.save(net, path)
        buf = io.BytesIO()
        jit.save(net, buf)
        buf.seek(0)
        loaded, from_buf = jit.load(path), jit.load(buf, map_location='cpu')
        frozen = jit.freeze(net.eval())
        errors = []
        for bad in (lambda: jit.load(str(tmp_path / 'missing.pt')), lambda: jit.freeze(_quiet(jit.script, net.train())),
                    lambda: (lib.save(net.state_dict(), path + 'sd'), jit.load(path + 'sd'))):
            with pytest.raises(Exception) as e:
                bad()
            errors.append(e.type.__name__)
        got[lib.__name__] = [loaded(x).tolist(), from_buf(x).tolist(), loaded.training, list(loaded.state_dict()),
                             frozen(x).tolist(), frozen(x).grad_fn is None, errors]
    assert got['ember'] == got['torch']
    ts = tmp_path / 'ts.pt'
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(ts))
    with pytest.raises(RuntimeError, match='TorchScript archive written by PyTorch'):
        ejit.load(str(ts))
    # a local class cannot be pickled: jit.save writes as torch.save, so it raises what torch.save raises there
    with pytest.raises(pickle.PicklingError) as want:
        torch.save(type('Local', (torch.nn.Module,), {})(), str(tmp_path / 'local_torch.pt'))
    with pytest.raises(pickle.PicklingError) as got:
        ejit.save(type('Local', (ember.nn.Module,), {})(), str(tmp_path / 'local.pt'))
    assert str(got.value) == str(want.value)


def test_compiler_hints_behave_as_in_eager_pytorch():
    for lib in (torch.jit, ejit):
        assert lib.is_scripting() is False and lib.is_tracing() is False
        assert lib.annotate(typing.List[int], [1]) == [1]
        f = lib.fork(lambda a, b=0: a + b, 2, b=3)
        assert lib.wait(f) == 5 and f.wait() == 5
        for deco in (lib.unused, lib.export, lib.ignore, lib.script_if_tracing):
            fn = deco(_gelu)
            assert fn is _gelu or fn.__wrapped__ is _gelu or fn(torch.ones(1)).item() == _gelu(torch.ones(1)).item()
        attr = lib.Attribute(3, int)
        assert (attr.value, attr.type) == (3, int)
        assert lib.Final is typing.Final
    cases = [([1, 2], typing.List[int]), ([1, 'a'], typing.List[int]), ({'a': 1}, typing.Dict[str, int]),
             ({'a': 'b'}, typing.Dict[str, int]), (None, typing.Optional[int]), ((1, 'a'), typing.Tuple[int, str]),
             ((1, 2), typing.Tuple[int, str]), (3, int), (3.0, int)]
    assert [ejit.isinstance(v, t) for v, t in cases] == [torch.jit.isinstance(v, t) for v, t in cases]
    assert issubclass(ejit.ScriptModule, ember.nn.Module) and issubclass(torch.jit.ScriptModule, torch.nn.Module)
    assert ejit.set_fusion_strategy([('DYNAMIC', 3)]) == torch.jit.set_fusion_strategy([('DYNAMIC', 3)])
    torch.jit.set_fusion_strategy([('STATIC', 2), ('DYNAMIC', 10)])


def test_a_script_using_jit_runs_under_ember_run(tmp_path):
    script = tmp_path / 'jit_program.py'
    script.write_text(
        'import torch\n'
        'import torch.nn as nn\n'
        '@torch.jit.script\n'
        'def fused_gelu(x):\n'
        '    return x * 0.5 * (1.0 + torch.erf(x / 1.41421))\n'
        'class Net(nn.Module):\n'
        '    def __init__(self):\n'
        '        super().__init__()\n'
        '        self.fc = nn.Linear(4, 2)\n'
        '    @torch.jit.ignore\n'
        '    def debug(self):\n'
        '        return "debug"\n'
        '    def forward(self, x):\n'
        '        if torch.jit.is_scripting():\n'
        '            return x\n'
        '        return fused_gelu(self.fc(x))\n'
        'torch.manual_seed(0)\n'
        'net = Net()\n'
        'traced = torch.jit.trace(net, torch.ones(1, 4))\n'
        'print(traced(torch.ones(1, 4)).sum().item() == net(torch.ones(1, 4)).sum().item(), net.debug())\n'
        'torch.jit.save(traced, "model.pt")\n'
        'print(torch.jit.load("model.pt")(torch.ones(1, 4)).sum().item() == net(torch.ones(1, 4)).sum().item())\n')
    done = subprocess.run([sys.executable, '-W', 'ignore', '-m', 'ember', 'run', str(script)], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == 'True debug'
    assert done.stdout.splitlines()[1] == 'True'
