"""torch.igamma / igammac, torch.special.gammainc / gammaincc and Tensor.igamma(c)(_): values against mpmath and
PyTorch 2.13 (PyTorch's own kernels are off by up to 2e-9 relative where they switch to Temme's expansion, so
the references are mpmath's), the edges of the domain, dtypes and refusals, gradients in x against PyTorch and
float64 finite differences (twice), PyTorch's error for a gradient in a, and Gamma.cdf / Chi2.cdf."""
import mpmath
import numpy as np
import pytest
import torch

import ember

mpmath.mp.prec = 113


def _grid():
    rng = np.random.default_rng(11)
    a = 10.0 ** rng.uniform(-3, 2.5, 400)
    return a, a * 10.0 ** rng.uniform(-2, 1, 400)


@pytest.mark.parametrize('upper', [False, True])
def test_float64_against_mpmath_and_torch(upper):
    a, x = _grid()
    name = 'igammac' if upper else 'igamma'
    e = getattr(ember, name)(ember.tensor(a), ember.tensor(x)).numpy()
    t = getattr(torch, name)(torch.tensor(a), torch.tensor(x)).numpy()
    want = np.array([float(mpmath.gammainc(p, q, mpmath.inf, regularized=True) if upper
                           else mpmath.gammainc(p, 0, q, regularized=True)) for p, q in zip(a, x)])
    ok = want > 1e-290
    # the prefactor's rounding grows with a; 1 - P for Q (or 1 - Q for P) adds it in absolute terms
    assert ((np.abs(e[ok] / want[ok] - 1) <= 2e-13 + 3e-15 * a[ok])
            | (np.abs(e[ok] - want[ok]) <= 2e-15 * (1 + a[ok]))).all()
    np.testing.assert_allclose(e, t, rtol=5e-9, atol=1e-300)


def test_edges_and_float32():
    inf, nan = np.inf, np.nan
    a = np.array([0., 0., 0.5, -1., 1., inf, inf, 2., 2., nan, 1., 3., 5., 0.5])
    x = np.array([1., 0., 0., 1., -1., 1., inf, inf, nan, 1., 0.5, 3., 1e-300, 1.0])
    for name in ('igamma', 'igammac'):
        for dt in (np.float64, np.float32):
            e = getattr(ember, name)(ember.tensor(a.astype(dt)), ember.tensor(x.astype(dt))).numpy()
            t = getattr(torch, name)(torch.tensor(a.astype(dt)), torch.tensor(x.astype(dt))).numpy()
            assert e.dtype == t.dtype
            np.testing.assert_allclose(e, t, rtol=1e-5 if dt == np.float32 else 1e-12, atol=1e-30)


@pytest.mark.parametrize('form', ['torch', 'special', 'method', 'inplace'])
def test_forms_dtypes_refusals(form):
    def call(L, name, a, x):
        upper = name == 'igammac'
        if form == 'torch':
            return getattr(L, name)(a, x)
        if form == 'special':
            return getattr(L.special, 'gammaincc' if upper else 'gammainc')(a, x)
        if form == 'method':
            return getattr(a, name)(x)
        return getattr(a.clone(), name + '_')(x)
    for name in ('igamma', 'igammac'):
        for mk in (lambda L: (L.tensor([2., 0.5]), L.tensor([1.5, 1.0])),
                   lambda L: (L.tensor([2., 0.5], dtype=L.float64), L.tensor([1.5, 1.0])),
                   lambda L: (L.tensor([[2.], [0.5]]), L.tensor([True, False])),
                   lambda L: (L.tensor([2., 0.5], dtype=L.bfloat16), L.tensor([1.5, 1.0], dtype=L.bfloat16))):
            a_t, x_t = mk(torch)
            if form == 'inplace' and (a_t.dtype != torch.promote_types(a_t.dtype, x_t.dtype) or a_t.shape != x_t.shape):
                continue
            e, t = call(ember, name, *mk(ember)), call(torch, name, *mk(torch))
            assert repr(e.dtype) == repr(t.dtype) and tuple(e.shape) == tuple(t.shape)
            np.testing.assert_allclose(e.float().numpy(), t.float().numpy(), rtol=1e-2 if 'bfloat' in repr(e.dtype)
                                       else 1e-6)
        for bad in (lambda L: (L.tensor([1, 2]), L.tensor([1, 2])), lambda L: (L.tensor([1.0]), 2),
                    lambda L: (L.tensor([1j]), L.tensor([1j]))):
            with pytest.raises(Exception) as want:
                call(torch, name, *bad(torch))
            with pytest.raises(type(want.value)) as got:
                call(ember, name, *bad(ember))
            assert str(got.value) == str(want.value)


@pytest.mark.parametrize('name', ['igamma', 'igammac'])
def test_gradients(name):
    a = np.array([0.3, 2.0, 7.5, 30.0])
    x = np.array([0.4, 1.5, 9.0, 25.0])
    e = ember.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    ye, yt = getattr(ember, name)(ember.tensor(a), e), getattr(torch, name)(torch.tensor(a), t)
    assert ye.grad_fn.name() == yt.grad_fn.name()
    ge, = ember.autograd.grad(ye.sum(), e, create_graph=True)
    gt, = torch.autograd.grad(yt.sum(), t, create_graph=True)
    np.testing.assert_allclose(ge.detach().numpy(), gt.detach().numpy(), rtol=1e-12)
    f = lambda v: getattr(ember, name)(ember.tensor(a), ember.tensor(v)).numpy()   # noqa: E731
    h = 1e-6 * x
    np.testing.assert_allclose(ge.detach().numpy(), (f(x + h) - f(x - h)) / (2 * h), rtol=1e-7)
    gge, = ember.autograd.grad(ge.sum(), e)
    ggt, = torch.autograd.grad(gt.sum(), t)
    np.testing.assert_allclose(gge.numpy(), ggt.numpy(), rtol=1e-10)
    g = lambda v: ember.autograd.grad(getattr(ember, name)(ember.tensor(a), ember.tensor(v, requires_grad=True)).sum(),   # noqa: E731
                                      ember.tensor(0.0))
    ea = ember.tensor(a, requires_grad=True)
    with pytest.raises(NotImplementedError, match=f"the derivative for '{name}: input' is not implemented."):
        getattr(ember, name)(ea, ember.tensor(x)).sum().backward()


def test_gamma_and_chi2_cdf():
    for L in (ember, torch):
        L.manual_seed(0)
    ge = ember.distributions.Gamma(ember.tensor([2.0, 0.5, 9.0]), ember.tensor([1.5, 3.0, 0.7]))
    gt = torch.distributions.Gamma(torch.tensor([2.0, 0.5, 9.0]), torch.tensor([1.5, 3.0, 0.7]))
    v = [1.0, 0.2, 11.0]
    np.testing.assert_allclose(ge.cdf(ember.tensor(v)).numpy(), gt.cdf(torch.tensor(v)).numpy(), rtol=1e-6)
    ce, ct = ember.distributions.Chi2(ember.tensor([3.0])), torch.distributions.Chi2(torch.tensor([3.0]))
    np.testing.assert_allclose(ce.cdf(ember.tensor([2.5])).numpy(), ct.cdf(torch.tensor([2.5])).numpy(), rtol=1e-6)
    with pytest.raises(ValueError):
        ge.cdf(ember.tensor([-1.0, 0.2, 1.0]))
