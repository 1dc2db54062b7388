"""torch.special.zeta (Hurwitz's) against mpmath and PyTorch 2.13: values over x in (1, 30] and q across scales
(negative q with integer x), the domain's edges, dtypes, the three overloads' grad_fn names and edges, gradients
in q against PyTorch and float64 finite differences (twice), PyTorch's error for x; and xlogy's number-first
overload's node (XlogyBackward1, one edge)."""
import mpmath
import numpy as np
import pytest
import torch

import ember

mpmath.mp.prec = 113


def test_values_against_mpmath_and_torch():
    rng = np.random.default_rng(5)
    x = 1 + 10.0 ** rng.uniform(-3, 1.5, 600)
    q = 10.0 ** rng.uniform(-3, 3, 600)
    neg = rng.uniform(size=600) < 0.1
    q[neg] = -q[neg]
    x[neg] = np.round(x[neg]) + 1
    e = ember.special.zeta(ember.tensor(x), ember.tensor(q)).numpy()
    t = torch.special.zeta(torch.tensor(x), torch.tensor(q)).numpy()
    np.testing.assert_array_equal(np.isfinite(e), np.isfinite(t))
    fin = np.isfinite(t)
    np.testing.assert_allclose(e[fin], t[fin], rtol=4e-15)
    # (for large x and some q the 12 Euler-Maclaurin terms PyTorch's algorithm stops at leave ~1e-9: both agree)
    sel = fin & (q > 0) & (x < 8)
    for xv, qv, ev in list(zip(x[sel], q[sel], e[sel]))[:150]:
        want = float(mpmath.zeta(xv, qv))
        assert abs(ev / want - 1) < 1e-12 * max(1.0, 1 / (xv - 1))


def test_edges_and_dtypes():
    inf, nan = np.inf, np.nan
    x = np.array([1., 0.5, 2., 2.5, 2., 3., inf, 2., nan, 2., 4., 1.5, 2., 7.3, 1.0001])
    q = np.array([1., 1., 0., -1.5, -2., -2.5, 2., inf, 1., 1e9, 0.3, 1e-5, 1.0, 12.5, 3.0])
    for dt in (np.float64, np.float32):
        e = ember.special.zeta(ember.tensor(x.astype(dt)), ember.tensor(q.astype(dt))).numpy()
        t = torch.special.zeta(torch.tensor(x.astype(dt)), torch.tensor(q.astype(dt))).numpy()
        assert e.dtype == t.dtype
        np.testing.assert_allclose(e, t, rtol=1e-6 if dt == np.float32 else 1e-15)
    for mk in (lambda L: (L.tensor([2, 3]), L.tensor([1, 2])), lambda L: (L.tensor([2.0]), 2),
               lambda L: (2, L.tensor([2.0], dtype=L.float64)), lambda L: (L.tensor([[2.0], [3.0]]), L.tensor([1.0, 2.0]))):
        e, t = ember.special.zeta(*mk(ember)), torch.special.zeta(*mk(torch))
        assert repr(e.dtype) == repr(t.dtype) and tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
    for bad in (lambda L: (2.0, 3.0), lambda L: (L.tensor([2.0], dtype=L.float16), 2.0),
                lambda L: (L.tensor([2.0], dtype=L.bfloat16), L.tensor([2.0], dtype=L.bfloat16))):
        with pytest.raises(Exception) as want:
            torch.special.zeta(*bad(torch))
        with pytest.raises(type(want.value)) as got:
            ember.special.zeta(*bad(ember))
        assert str(got.value).split('\n')[0] == str(want.value).split('\n')[0]


@pytest.mark.parametrize('first', ['tensor', 'number'])
def test_gradients_in_q(first):
    q = np.array([0.5, 2.0, 7.5])
    x = np.array([2.0, 3.5, 1.5])
    ex = ember.tensor(x) if first == 'tensor' else 2.5
    tx = torch.tensor(x) if first == 'tensor' else 2.5
    e, t = ember.tensor(q, requires_grad=True), torch.tensor(q, requires_grad=True)
    ye, yt = ember.special.zeta(ex, e), torch.special.zeta(tx, t)
    assert ye.grad_fn.name() == yt.grad_fn.name()
    assert len(ye.grad_fn.next_functions) == len(yt.grad_fn.next_functions)
    ge, = ember.autograd.grad(ye.sum(), e, create_graph=True)
    gt, = torch.autograd.grad(yt.sum(), t, create_graph=True)
    np.testing.assert_allclose(ge.detach().numpy(), gt.detach().numpy(), rtol=1e-13)
    f = lambda v: ember.special.zeta(ex, ember.tensor(v)).numpy()   # noqa: E731
    h = 1e-6 * q
    np.testing.assert_allclose(ge.detach().numpy(), (f(q + h) - f(q - h)) / (2 * h), rtol=1e-7)
    gge, = ember.autograd.grad(ge.sum(), e)
    ggt, = torch.autograd.grad(gt.sum(), t)
    np.testing.assert_allclose(gge.numpy(), ggt.numpy(), rtol=1e-12)


def test_no_derivative_in_x():
    for L in (ember, torch):
        y = L.special.zeta(L.tensor([2.0, 3.0], requires_grad=True), 1.5)
        assert y.grad_fn.name() == 'SpecialZetaBackward2'
        with pytest.raises(NotImplementedError, match="the derivative for 'zeta' is not implemented."):
            y.sum().backward()


def test_xlogy_overload_nodes():
    for args in (lambda L, q: (2.0, q), lambda L, q: (q, 2.0), lambda L, q: (q, q)):
        e, t = ember.tensor([0.5, 2.0], requires_grad=True), torch.tensor([0.5, 2.0], requires_grad=True)
        ye, yt = ember.xlogy(*args(ember, e)), torch.xlogy(*args(torch, t))
        assert ye.grad_fn.name() == yt.grad_fn.name()
        assert len(ye.grad_fn.next_functions) == len(yt.grad_fn.next_functions)
        ye.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-6)
