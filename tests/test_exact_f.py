"""Bit-for-bit agreement with PyTorch 2.13 of expm1, log1p, the ELU family, softplus and mish under ember's exact
kernels (ops/_sleef_expm1.py, _sleef_log1p.py, _vec_softplus.py): torch.expm1 and torch.log1p (SLEEF's on every
value); elu, selu and celu forward (SLEEF's expm1f on each thread's whole 32-value vector pairs, the C library's
expm1f on the rest) and backward (from the input: SLEEF's and glibc's expf in the same order; in place: from the
result); softplus and mish (SLEEF's and glibc's expf, log1pf, tanhf by position), at 1 and 2 threads, with float64
finite differences for the gradients."""
import numpy as np
import pytest
import torch

import ember
from helpers import exact_like_torch, threads  # noqa: F401 (fixtures)

SHAPES = [(1,), (31,), (32,), (33,), (16, 16), (64, 48), (3, 5, 7), (8, 16, 32, 32), (32769,), (70001,), (300001,)]
SPECIAL = [-0.0, 0.0, np.nan, np.inf, -np.inf, -16.7, -16.6, -104.5, -87.0, 1e-30, -1e-30, -1e-8]
FORMS = {'elu': lambda F, t: F.elu(t), 'elu_a': lambda F, t: F.elu(t, 0.3), 'selu': lambda F, t: F.selu(t),
         'celu': lambda F, t: F.celu(t, 0.7), 'celu_small': lambda F, t: F.celu(t, 0.05)}


def _bits(a):
    return a.view(np.int32)


def _same_bits_and_gradient(form, op, x, g):
    """``form(lib, tensor)`` and the gradient of ``lib.<op>`` against ``g`` give PyTorch's bits on ember."""
    want, got = (form(lib, lib.tensor(x)).numpy() for lib in (torch, ember))
    assert np.array_equal(_bits(got), _bits(want))
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    tg, = torch.autograd.grad(getattr(torch, op)(tx), tx, torch.tensor(g))
    eg, = ember.autograd.grad(getattr(ember, op)(ex), ex, ember.tensor(g))
    assert np.array_equal(_bits(eg.numpy()), _bits(tg.numpy()))


def _args(shape, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    flat = x.reshape(-1)
    k = min(flat.size, len(SPECIAL))
    flat[:k] = SPECIAL[:k]
    return x, rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize('form', sorted(FORMS))
@pytest.mark.parametrize('shape', SHAPES)
def test_elu_family_bits(shape, form, threads, exact_like_torch):  # noqa: F811
    """Forward and input gradient are PyTorch's bits, special values (zeros, NaN, infinities, expm1's -16.6355
    and expf's -104 cut-offs) at the front."""
    x, g = _args(shape, sum(shape) + len(form))
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    ty, ey = FORMS[form](torch.nn.functional, tx), FORMS[form](ember.nn.functional, ex)
    tg, = torch.autograd.grad(ty, tx, torch.tensor(g))
    eg, = ember.autograd.grad(ey, ex, ember.tensor(g))
    assert np.array_equal(_bits(ey.detach().numpy()), _bits(ty.detach().numpy()))
    assert np.array_equal(_bits(eg.numpy()), _bits(tg.numpy()))


@pytest.mark.parametrize('name', ['elu', 'selu', 'celu'])
@pytest.mark.parametrize('shape', [(31,), (64, 48), (70001,)])
def test_elu_inplace_bits(shape, name, threads, exact_like_torch):  # noqa: F811
    """elu_, selu_ and celu_ (their gradients from the saved result) and the modules give PyTorch's bits."""
    x, g = _args(shape, 7 + sum(shape))
    x = np.nan_to_num(x)        # (a NaN result would take the in-place backward's other branch: same on both)
    outs = []
    for lib in (torch, ember):
        t = lib.tensor(x, requires_grad=True)
        y = getattr(lib.nn.functional, name)(t * 1, inplace=True)
        gr, = lib.autograd.grad(y, t, lib.tensor(g))
        m = {'elu': lib.nn.ELU(), 'selu': lib.nn.SELU(), 'celu': lib.nn.CELU(0.7)}[name](lib.tensor(x))
        outs.append([y.detach().numpy(), gr.numpy(), m.numpy()])
    for want, got in zip(*outs):
        assert np.array_equal(_bits(got), _bits(want))


def test_elu_exact_off_by_default_still_close():
    """With the exact kernels off, ELU stays within float32 rounding of PyTorch (the NumPy path)."""
    x, _ = _args((6400,), 3)
    x = np.nan_to_num(x, posinf=5, neginf=-5)
    want = torch.nn.functional.elu(torch.tensor(x)).numpy()
    got = ember.nn.functional.elu(ember.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=2e-7, atol=1e-37)


@pytest.mark.parametrize('name', ['elu', 'selu', 'celu'])
def test_elu_gradcheck_float64(name, exact_like_torch):  # noqa: F811
    """Gradients by float64 finite differences, the exact kernels on (float64 takes NumPy's path)."""
    x = ember.tensor(np.random.default_rng(4).standard_normal(20) * 2, dtype=ember.float64, requires_grad=True)
    fn = getattr(ember.nn.functional, name)
    assert ember.autograd.gradcheck(fn, (x,))


EXPM1_FORMS = {'fn': lambda L, t: L.expm1(t), 'method': lambda L, t: t.expm1(),
               'inplace': lambda L, t: t.clone().expm1_(), 'special': lambda L, t: L.special.expm1(t),
               'out': lambda L, t: L.expm1(t, out=L.empty(t.shape)),
               'transposed': lambda L, t: L.expm1(t.reshape(-1, 1).expand(-1, 3).T)}


@pytest.mark.parametrize('form', sorted(EXPM1_FORMS))
@pytest.mark.parametrize('shape', SHAPES)
def test_expm1_bits(shape, form, threads, exact_like_torch):  # noqa: F811
    """torch.expm1's float32 values (vml's map: SLEEF's expm1f on every value) and its gradient g * (y + 1) are
    PyTorch's bits, special values (zeros, NaN, infinities, the -16.6355 and 88.7228 cut-offs, subnormals) at the
    front."""
    x, g = _args(shape, 11 + sum(shape))
    flat = x.reshape(-1)
    extra = [88.7, 88.8, 1e-40, -3e-39]
    flat[len(SPECIAL):len(SPECIAL) + len(extra)] = extra[:max(0, flat.size - len(SPECIAL))]
    _same_bits_and_gradient(EXPM1_FORMS[form], 'expm1', x, g)


LOG1P_FORMS = {'fn': lambda L, t: L.log1p(t), 'method': lambda L, t: t.log1p(),
               'inplace': lambda L, t: t.clone().log1p_(), 'special': lambda L, t: L.special.log1p(t),
               'transposed': lambda L, t: L.log1p(t.reshape(-1, 1).expand(-1, 3).T)}
LOG1P_SPECIAL = [-0.0, 0.0, np.nan, np.inf, -np.inf, -1.0, -1.5, -0.99999994, 1e38, 2e38, 3.4e38, 3.4028235e38,
                 1e-30, -1e-30, 1e-40, -1e-40]


@pytest.mark.parametrize('form', sorted(LOG1P_FORMS))
@pytest.mark.parametrize('shape', SHAPES)
def test_log1p_bits(shape, form, threads, exact_like_torch):  # noqa: F811
    """torch.log1p's float32 values (SLEEF's log1pf on every value: its all-ones NaN below -1, no inf cut-off above
    1e38) and its gradient g / (x + 1) are PyTorch's bits, special values at the front."""
    rng = np.random.default_rng(13 + sum(shape))
    x = (np.exp(rng.standard_normal(shape) * 4) - 1).astype(np.float32)
    x.reshape(-1)[::5] *= np.float32(-0.3)
    k = min(x.size, len(LOG1P_SPECIAL))
    x.reshape(-1)[:k] = LOG1P_SPECIAL[:k]
    g = rng.standard_normal(shape).astype(np.float32)
    _same_bits_and_gradient(LOG1P_FORMS[form], 'log1p', x, g)


@pytest.mark.parametrize('beta, threshold', [(1, 20), (2.5, 10), (0.3, 20), (1, 0.5)])
@pytest.mark.parametrize('shape', SHAPES)
def test_softplus_bits(shape, beta, threshold, threads, exact_like_torch):  # noqa: F811
    """softplus forward and input gradient (SLEEF's expf and log1pf on whole vector pairs, glibc's on each run's
    rest) are PyTorch's bits, special values at the front."""
    x, g = _args(shape, 17 + sum(shape))
    x *= np.float32(1.5)
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    ty = torch.nn.functional.softplus(tx, beta, threshold)
    ey = ember.nn.functional.softplus(ex, beta, threshold)
    tg, = torch.autograd.grad(ty, tx, torch.tensor(g))
    eg, = ember.autograd.grad(ey, ex, ember.tensor(g))
    assert np.array_equal(_bits(ey.detach().numpy()), _bits(ty.detach().numpy()))
    assert np.array_equal(_bits(eg.numpy()), _bits(tg.numpy()))


def test_softplus_module_and_gradcheck(exact_like_torch):  # noqa: F811
    """nn.Softplus gives PyTorch's bits; float64 gradients agree with finite differences."""
    x = (np.random.default_rng(8).standard_normal((40, 33)) * 5).astype(np.float32)
    want = torch.nn.Softplus(2.0, 5.0)(torch.tensor(x)).numpy()
    got = ember.nn.Softplus(2.0, 5.0)(ember.tensor(x)).numpy()
    assert np.array_equal(_bits(got), _bits(want))
    x64 = ember.tensor(np.random.default_rng(9).standard_normal(20) * 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.nn.functional.softplus(t, 1.5, 4.0), (x64,))


@pytest.mark.parametrize('shape', SHAPES)
def test_mish_bits(shape, threads, exact_like_torch):  # noqa: F811
    """mish forward and input gradient (SLEEF's expf, log1pf, tanhf on whole vector pairs, glibc's on each run's
    rest; the gradient's two fused steps) are PyTorch's bits, special values at the front; nn.Mish too."""
    x, g = _args(shape, 19 + sum(shape))
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    ty, ey = torch.nn.functional.mish(tx), ember.nn.functional.mish(ex)
    tg, = torch.autograd.grad(ty, tx, torch.tensor(g))
    eg, = ember.autograd.grad(ey, ex, ember.tensor(g))
    assert np.array_equal(_bits(ey.detach().numpy()), _bits(ty.detach().numpy()))
    assert np.array_equal(_bits(eg.numpy()), _bits(tg.numpy()))
    want = torch.nn.Mish()(torch.tensor(x)).numpy()
    assert np.array_equal(_bits(ember.nn.Mish()(ember.tensor(x)).numpy()), _bits(want))


def test_mish_gradcheck(exact_like_torch):  # noqa: F811
    """mish's float64 gradient agrees with finite differences with the exact kernels on."""
    x64 = ember.tensor(np.random.default_rng(10).standard_normal(20) * 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(ember.nn.functional.mish, (x64,))
