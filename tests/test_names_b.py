"""Names real scripts reach for that ember lacked (batch b): ``dir()`` of ember and ember.autograd lists the
submodules PyTorch's lists without importing them, the deprecated norms warn as PyTorch does, and the fused
layers of ``nn.utils.fusion`` run as the two layers they replace. The values of each name are checked against
PyTorch by its registry entries (tests/registry*.py); these are the properties those entries cannot express."""
import subprocess
import sys
import types

import numpy as np
import pytest
import torch

import ember


def _fresh(code):
    """The stdout of ``code`` run in a new interpreter (so that no submodule is imported yet)."""
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()


LAZY = {'': {'nn', 'optim', 'utils', 'linalg', 'profiler', 'special', 'distributions'},
        '.autograd': {'forward_ad', 'profiler'}}


@pytest.mark.parametrize('pkg', ['', '.autograd'])
def test_dir_lists_submodules_without_importing_them(pkg):
    """In a fresh interpreter, dir() adds to the module's own names (and the names ``ember._lazy`` leaves for later,
    tests/test_import.py) the lazily loaded submodules that dir(torch...) lists, and imports none of them; each resolves to ember's module on access (checked in that
    interpreter: importing ember.fx here would rewrap ember's functions for the tests after this one)."""
    out = _fresh(f'import sys, ember{pkg} as m; d = dir(m); own = set(vars(m)); '
                 f'from ember import _lazy; own |= _lazy.names() if m.__name__ == "ember" else set(); '
                 f'print(*[n for n in d if n not in own]); print("|"); '
                 f'print(*[n for n in d if n not in own and "ember{pkg}." + n in sys.modules]); print("|"); '
                 f'print(*[n for n in d if n not in own and getattr(m, n).__name__ != "ember{pkg}." + n])')
    cut, cut2 = out.index('|'), len(out) - 1 - out[::-1].index('|')
    added, imported, wrong = set(out[:cut]), set(out[cut + 1:cut2]), out[cut2 + 1:]
    torch_mod = sys.modules['torch' + pkg]
    torch_subs = {n for n in dir(torch_mod) if isinstance(getattr(torch_mod, n), types.ModuleType)
                  and getattr(torch_mod, n).__name__ == f'torch{pkg}.{n}'}
    assert LAZY[pkg] <= added <= torch_subs and not imported
    assert not wrong    # each resolves (there, in the fresh interpreter: importing ember.fx rewraps functions)


@pytest.mark.parametrize('name,call', [
    ('frobenius_norm', lambda lib: lib.frobenius_norm(lib.ones(2, 3), (0, 1))),
    ('nuclear_norm', lambda lib: lib.nuclear_norm(lib.ones(2, 3)))])
def test_deprecated_norms_warn_once_as_pytorch(name, call):
    """PyTorch warns once per process (TORCH_WARN_ONCE): run in fresh interpreters, each library warns on the
    first call only, with the same category and the same advice."""
    code = ('import warnings, {lib}; warnings.simplefilter("always")\n'
            'with warnings.catch_warnings(record=True) as w:\n'
            '    warnings.simplefilter("always"); f = lambda lib: {call}\n'
            '    f({lib}); f({lib})\n'
            'print(len(w), w[0].category.__name__, "|".join(str(w[0].message).split("instead")[0].split()))')
    src = {'frobenius_norm': 'lib.frobenius_norm(lib.ones(2, 3), (0, 1))',
           'nuclear_norm': 'lib.nuclear_norm(lib.ones(2, 3))'}[name]
    assert _fresh(code.format(lib='ember', call=src)) == _fresh(code.format(lib='torch', call=src))


@pytest.mark.parametrize('kind,transpose', [('Conv2d', False), ('ConvTranspose2d', True), ('Conv1d', False)])
def test_fused_conv_bn_matches_the_two_layers_in_float64(kind, transpose):
    """The fused layer's float64 output equals conv then BatchNorm's (to rounding) in both libraries, and
    ember's equals PyTorch's."""
    outs = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        conv = getattr(lib.nn, kind)(3, 4, 3).double().eval()
        bn = getattr(lib.nn, 'BatchNorm%sd' % kind[-2])(4).double().eval()
        bn.running_mean.copy_(lib.tensor([0.5, -1.0, 0.25, 2.0], dtype=lib.float64))
        bn.running_var.copy_(lib.tensor([0.5, 2.0, 1.5, 0.1], dtype=lib.float64))
        x = lib.tensor(np.random.default_rng(1).standard_normal((2, 3) + (6,) * int(kind[-2])))
        fused = lib.nn.utils.fuse_conv_bn_eval(conv, bn, transpose=transpose)
        with lib.no_grad():
            ref, got = bn(conv(x)), fused(x)
        np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
        outs.append(got.numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-12, atol=1e-12)


def test_fused_weights_are_trainable_like_pytorchs():
    """The fused Parameters keep requires_grad, and a loss through the fused layer gives PyTorch's gradients."""
    grads = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        lin, bn = lib.nn.Linear(3, 2).eval(), lib.nn.BatchNorm1d(2).eval()
        bn.running_mean.copy_(lib.tensor([0.5, -1.0]))
        fused = lib.nn.utils.fuse_linear_bn_eval(lin, bn)
        (fused(lib.tensor([[1.0, 2.0, -1.0]])) ** 2).sum().backward()
        grads.append([fused.weight.grad.numpy(), fused.bias.grad.numpy(), lin.weight.grad])
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-6)
    np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-6)
    assert grads[0][2] is None and grads[1][2] is None     # the original layer is untouched


def test_sym_helpers_accept_what_shapes_give():
    """Sizes from ember's shapes are plain ints in ember as in PyTorch: the helpers take them and give PyTorch's."""
    for lib in (torch, ember):
        n = lib.zeros(3, 5).shape[1]
        assert not isinstance(n, lib.SymInt)
    got = [ember.sym_max(ember.zeros(3, 5).shape[1], 4), ember.sym_sqrt(ember.zeros(4).numel()),
           ember.sym_int(ember.tensor(2.5).item())]
    want = [torch.sym_max(torch.zeros(3, 5).shape[1], 4), torch.sym_sqrt(torch.zeros(4).numel()),
            torch.sym_int(torch.tensor(2.5).item())]
    assert got == want and [type(v) for v in got] == [type(v) for v in want]


@pytest.mark.parametrize('shape,q', [((30, 12), 5), ((12, 30), 5), ((3, 20, 15), 4)])
def test_svd_lowrank_recovers_a_low_rank_matrix_as_pytorch(shape, q):
    """A float64 matrix of rank 3: both libraries' svd_lowrank (same seed) give its singular values and
    rebuild it to rounding; ember's factors' product equals PyTorch's."""
    rng = np.random.default_rng(4)
    a = rng.standard_normal(shape[:-1] + (3,)) @ rng.standard_normal((3, shape[-1]))
    built = []
    for lib in (torch, ember):
        lib.manual_seed(7)
        U, S, V = lib.svd_lowrank(lib.tensor(a), q=q)
        rebuilt = (U @ lib.diag_embed(S) @ V.mT).numpy()
        np.testing.assert_allclose(rebuilt, a, atol=1e-10)
        np.testing.assert_allclose(S.numpy()[..., :3], np.linalg.svd(a, compute_uv=False)[..., :3], rtol=1e-10)
        built.append(rebuilt)
    np.testing.assert_allclose(built[1], built[0], atol=1e-12)


def test_set_shares_memory_both_ways():
    """After set_, the tensor and its source are one memory in both libraries: writes through either show."""
    got = []
    for lib in (torch, ember):
        src = lib.arange(6.0)
        t = lib.zeros(1).set_(src.untyped_storage(), 2, (2,), (2,))
        t[1] = -1.0
        src[2] = 7.0
        got.append([t.tolist(), src.tolist(), t.is_contiguous()])
    assert got[1] == got[0]
