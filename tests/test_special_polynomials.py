"""torch.special's orthogonal polynomials against PyTorch 2.13: values over x in and around [-1, 1] and degrees
-2 to 60 (every branch: n < 0, the ends, the trigonometric form, the recurrence), float32 and float64, tensor and
number arguments, degrees given as floats (truncated), dtypes, refusals, no derivative, and out=."""
import numpy as np
import pytest
import torch

import ember
from ember.ops.special import POLYNOMIALS

NAMES = sorted(POLYNOMIALS)
XS = np.concatenate([np.linspace(-1.5, 1.5, 61), [0.0, 1.0, -1.0, 0.5, 2.0, -2.0, 1e-3, np.inf, -np.inf]])
NS = np.array([-2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 25, 60])


@pytest.mark.parametrize('name', NAMES)
def test_values_against_torch(name):
    x, n = np.meshgrid(XS, NS)
    for dt, tol in ((np.float64, 1e-12), (np.float32, 2e-5)):
        e = getattr(ember.special, name)(ember.tensor(x.astype(dt)), ember.tensor(n.astype(dt))).numpy()
        t = getattr(torch.special, name)(torch.tensor(x.astype(dt)), torch.tensor(n.astype(dt))).numpy()
        assert e.dtype == t.dtype
        # float32's trigonometric form carries acos's rounding times n
        np.testing.assert_allclose(e, t, rtol=tol * (50 if dt == np.float32 else 1), atol=tol * n.max())


@pytest.mark.parametrize('name', NAMES)
def test_nan_input(name):
    """NaN at x gives NaN (PyTorch returns a value left over from another element for some polynomials: its
    recurrence stops at NaN before setting its result), and 0 for a negative degree; PyTorch agrees where it sets one."""
    e = getattr(ember.special, name)(ember.tensor([np.nan, np.nan, np.nan]), ember.tensor([-1, 0, 1])).numpy()
    np.testing.assert_array_equal(e[:1], [0.0])
    assert e[1] == 1.0 and np.isnan(e[2])
    t = getattr(torch.special, name)(torch.tensor([np.nan, np.nan, np.nan]), torch.tensor([-1, 0, 1])).numpy()
    np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize('name', NAMES)
def test_arguments_and_dtypes(name):
    cases = [(lambda L: L.tensor([0.3, -0.7]), 3), (lambda L: L.tensor([0.3, -0.7]), lambda L: L.tensor([2, 5])),
             (lambda L: L.tensor([1, 2]), 3), (lambda L: L.tensor([1, 2]), lambda L: L.tensor([3, 4])),
             (0.4, lambda L: L.tensor([2.7, 4.2, np.nan, -0.5])), (lambda L: L.tensor([[0.2], [0.9]], dtype=L.float64),
                                                                   lambda L: L.tensor([1.0, 6.0, 11.0]))]
    for x, n in cases:
        args = [lambda L, v=v: v(L) if callable(v) else v for v in (x, n)]
        e = getattr(ember.special, name)(*(a(ember) for a in args))
        t = getattr(torch.special, name)(*(a(torch) for a in args))
        assert repr(e.dtype) == repr(t.dtype) and tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('name', NAMES)
def test_refusals_and_no_derivative(name):
    for dt in ('complex64', 'float16'):
        with pytest.raises(NotImplementedError) as want:
            getattr(torch.special, name)(torch.ones(2, dtype=getattr(torch, dt)), 2)
        with pytest.raises(NotImplementedError) as got:
            getattr(ember.special, name)(ember.ones(2, dtype=getattr(ember, dt)), 2)
        assert str(got.value) == str(want.value)
    x = ember.tensor([0.3, 0.6], requires_grad=True)
    r = getattr(ember.special, name)(x, 3)
    t = getattr(torch.special, name)(torch.tensor([0.3, 0.6], requires_grad=True), 3)
    assert r.grad_fn is None and t.grad_fn is None and r.requires_grad == t.requires_grad


@pytest.mark.parametrize('name', NAMES)
def test_out(name):
    oe, ot = ember.empty(3), torch.empty(3)
    r = getattr(ember.special, name)(ember.tensor([0.1, 0.5, 0.9]), 4, out=oe)
    getattr(torch.special, name)(torch.tensor([0.1, 0.5, 0.9]), 4, out=ot)
    assert r is oe
    np.testing.assert_allclose(oe.numpy(), ot.numpy(), rtol=1e-5, atol=1e-6)
