"""``import ember`` stays cheap: it imports no module beyond NumPy's own and ember's, and what it leaves for later
(NumPy's random package, ``ember.linalg``, the reparameterized-gradient kernels, ember's subpackages) resolves on
first use to what PyTorch gives."""
import inspect
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember
from ember import _lazy
from ember.ops import pointwise

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = "import sys, {0}; print('\\n'.join(sorted(sys.modules)))"


def _modules_after(statement):
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, '-c', MODULES.format(statement)], env=env, check=True,
                          capture_output=True, text=True)
    return set(done.stdout.split())


def test_import_adds_only_ember_modules_to_numpys():
    extra = _modules_after('numpy, ember') - _modules_after('numpy')
    assert {m for m in extra if m != 'ember' and not m.startswith('ember.')} == set()
    for lazy in ('ember.linalg', 'ember._linalg', 'ember.ops._reparam', 'ember.nn', 'ember.utils',
                 'ember.distributed', 'ember.serialization', 'ember.vision', 'ember.autograd.functional', 'ember.fft',
                 *KERNELS_ON_FIRST_CALL.values(),
                 *{'ember.' + module for module, _ in _lazy.NAMES.values()}):
        assert lazy not in extra, f'import ember imported {lazy}'


# torch.special functions whose kernel module is imported at their first call: {function: its module}
KERNELS_ON_FIRST_CALL = {'bessel_j0': 'ember.ops._bessel_jy', 'modified_bessel_k1': 'ember.ops._bessel_k',
                         'airy_ai': 'ember.ops._airy'}


def test_special_kernels_load_on_first_call():
    code = ('import sys, ember; x = ember.linspace(0.5, 3, 5, dtype=ember.float64); before = set(sys.modules); '
            'print(*[getattr(ember.special, n)(x).tolist() for n in %r]); print(sorted(set(sys.modules) - before))')
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, '-c', code % list(KERNELS_ON_FIRST_CALL)], env=env, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    for name, module in KERNELS_ON_FIRST_CALL.items():
        assert module in out[1]
        x = torch.linspace(0.5, 3, 5, dtype=torch.float64)
        np.testing.assert_allclose(getattr(ember.special, name)(ember.tensor(x.numpy())).numpy(),
                                   getattr(torch.special, name)(x).numpy(), rtol=1e-14)


def test_names_left_for_later_resolve_as_the_import_bound_them():
    """Each of _lazy's names, got in a fresh interpreter by attribute, by ``from ember import`` and under the alias,
    is its module's object (a builtin where PyTorch's is one); dir and star imports list them."""
    names = sorted(_lazy.NAMES)
    code = ('import ember, sys; from ember import _builtin, _lazy; names = %r; assert set(names) <= set(dir(ember)); '
            'ns = {}; exec("from ember import *", ns); assert {n for n in names if n[0] != "_"} <= set(ns); '
            'got = [getattr(ember, n) for n in names]; '
            'print(*[type(g).__name__ for g in got]); '
            'print(all(_builtin.function(g) is (getattr(sys.modules["ember." + m], a) if a else sys.modules["ember." + m]) '
            '          for g, (m, a) in zip(got, [_lazy.NAMES[n] for n in names]))); '
            'from ember import cdist, Future; print(cdist is ember.cdist, Future is ember.futures.Future); '
            'ember.aliasing.install(); import torch; print(torch.hann_window is ember.hann_window, torch._sym is ember._sym)')
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, '-c', code % names], env=env, check=True, capture_output=True,
                         text=True).stdout.splitlines()
    kinds = dict(zip(names, out[0].split()))
    for name in (n for n in names if n[0] != '_'):   # a public function is a builtin where PyTorch's is one
        t = getattr(torch, name, None)
        if kinds[name] in ('function', 'builtin_function_or_method') and callable(t) and not isinstance(t, type):
            assert (kinds[name] == 'builtin_function_or_method') == (type(t).__name__ == 'builtin_function_or_method'), name
    assert out[1:] == ['True', 'True True', 'True True']


def test_lazy_names_resolve_through_the_torch_alias():
    code = ('import ember as torch; from ember.linalg import solve; from ember.nn.functional import relu; '
            'print(torch.nn.functional.relu is relu, torch.linalg.solve is solve, torch.utils.data.DataLoader.__name__,'
            ' torch.distributed.is_available(), "linalg" in dir(torch), torch.vision.datasets.__name__); '
            'torch.aliasing.install(); import torch.utils.data, torch.distributed, torchvision.transforms as T; '
            'print(torch.utils.data.TensorDataset.__module__, torch.distributed.__name__, T.__name__)')
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, '-c', code], env=env, check=True, capture_output=True, text=True).stdout
    assert out.split() == ['True', 'True', 'DataLoader', str(torch.distributed.is_available()), 'True',
                           'ember.vision.datasets', 'ember.utils.data.dataset', 'ember.distributed',
                           'ember.vision.transforms']


def test_torch_svd_loads_linalg_on_first_call():
    a = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    e, t = ember.svd(ember.tensor(a), some=False), torch.svd(torch.tensor(a), some=False)
    assert type(e).__name__ == type(t).__name__ and len(e) == len(t) == 3
    np.testing.assert_allclose(np.abs(e.S.numpy()), np.abs(t.S.numpy()), rtol=1e-5)
    assert [tuple(x.shape) for x in e] == [tuple(x.shape) for x in t]
    for lib in (torch, ember):     # a builtin in PyTorch: no signature to read
        with pytest.raises(ValueError, match='no signature found for builtin'):
            inspect.signature(lib.svd)
    from ember._builtin import function
    assert str(inspect.signature(function(ember.svd))) == '(input, some=True, compute_uv=True, *, out=None)'
    assert str(inspect.signature(ember.Tensor.svd)) == '(input, some=True, compute_uv=True)'


def test_generator_engine_made_on_first_use_draws_pytorchs_stream():
    """The NumPy engine behind a Generator is made on its first draw or state query, seeded from what
    manual_seed/seed left: states, draws and pickles equal those of a generator that drew at once."""
    g = ember.Generator().manual_seed(7)
    assert '_bits' not in vars(g)
    for g in (g, pickle.loads(pickle.dumps(ember.Generator().manual_seed(7)))):
        tg = torch.Generator().manual_seed(7)
        assert bytes(g.get_state().numpy()) == bytes(tg.get_state().numpy())
        np.testing.assert_array_equal(ember.rand(5, generator=g).numpy(), torch.rand(5, generator=tg).numpy())
    g = ember.Generator()
    s = g.seed()
    assert np.array_equal(ember.randn(3, generator=g).numpy(),
                          torch.randn(3, generator=torch.Generator().manual_seed(s)).numpy())
    fresh = ember.Generator()
    fresh.set_state(ember.Generator().manual_seed(3).get_state())
    assert np.array_equal(ember.rand(4, generator=fresh).numpy(),
                          torch.rand(4, generator=torch.Generator().manual_seed(3)).numpy())
    try:
        ember.Generator().no_such_attribute
    except AttributeError as e:
        assert "'Generator' object has no attribute 'no_such_attribute'" in str(e)
    else:
        raise AssertionError('no AttributeError')


def test_backward_formula_reads_from_bytecode_equal_dis():
    scale = 2.0
    formulas = [lambda g, a, b: g, lambda g, a, b: g * b, lambda g, a, b: -g * a / (b * b),
                lambda g, x, y: g * scale * (1 - y * y), lambda g, x, y: None, lambda g, a, b: (lambda: a)(),
                lambda g, x, y: [g * v for v in (x, x)], lambda g, a, b, *rest: rest]
    for f in formulas:
        assert pointwise._params(f) == pointwise._params_dis(f)


def test_print_options_are_pytorchs():
    assert ember._tensor_str.get_printoptions() == torch._tensor_str.get_printoptions()
    with ember._tensor_str.printoptions(precision=2):
        assert repr(ember.tensor([1.23456])) == 'tensor([1.23])'
    assert ember._tensor_str.get_printoptions() == torch._tensor_str.get_printoptions()


def test_tensor_methods_left_for_later_resolve_and_dispatch():
    """Tensor.stft and Tensor.istft load ember.fft at their first access (they are the functions behind
    torch.stft/istft), and a Tensor subclass with ``__torch_function__`` defined before any access sees them as it
    sees any method."""
    code = ('import sys, ember; from ember._builtin import function; print("ember.fft" in sys.modules); seen = []\n'
            'class T(ember.Tensor):\n'
            '    @classmethod\n'
            '    def __torch_function__(cls, func, types, args=(), kwargs=None):\n'
            '        seen.append(func.__name__); return super().__torch_function__(func, types, args, kwargs or {})\n'
            'x = ember.ones(64).as_subclass(T); s = x.stft(16, return_complex=True, window=ember.hann_window(16))\n'
            'print("stft" in seen, tuple(s.shape))\n'
            'm = sys.modules["ember.fft._stft"]; print(ember.Tensor.stft is m.stft, ember.Tensor.istft is m.istft)')
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, '-c', code], env=env, check=True, capture_output=True, text=True).stdout
    seen = []

    class T(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs or {})
    s = torch.ones(64).as_subclass(T).stft(16, return_complex=True, window=torch.hann_window(16))
    assert 'stft' in seen
    assert out.split() == ['False', 'True', *f'({s.shape[0]}, {s.shape[1]})'.split(), 'True', 'True']
    code = 'import ember; from ember._builtin import function; print(function(ember.istft) is ember.Tensor.istft)'
    assert subprocess.run([sys.executable, '-c', code], env=env, check=True, capture_output=True,
                          text=True).stdout.split() == ['True']
