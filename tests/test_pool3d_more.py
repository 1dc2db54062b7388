"""F.max_unpool3d / nn.MaxUnpool3d and F.lp_pool3d / nn.LPPool3d against PyTorch 2.13: values, output_size, the
unpooling's gradient and grad_fn, lp pooling's gradient (and by float64 finite differences), reprs, errors."""
import numpy as np
import pytest
import torch

import ember

X = np.random.default_rng(0).standard_normal((2, 3, 4, 6, 4))


@pytest.mark.parametrize('kw', [dict(), dict(stride=1), dict(stride=(2, 1, 2))])
def test_max_unpool3d(kw):
    res = {}
    for L in (ember, torch):
        x = L.tensor(X, requires_grad=True)
        k = 2
        y, i = L.nn.functional.max_pool3d(x, k, return_indices=True, **kw)
        y = y.detach().requires_grad_()
        u = L.nn.functional.max_unpool3d(y, i, k, **kw)
        (u * L.tensor(np.arange(u.numel(), dtype=np.float64).reshape(u.shape))).sum().backward()
        res[L] = (u.detach().numpy(), y.grad.numpy(), u.grad_fn.name(), repr(L.nn.MaxUnpool3d(k, **kw)))
    for a, b in zip(res[ember], res[torch]):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b


def test_max_unpool3d_output_size_and_errors():
    for L in (ember, torch):
        y, i = L.nn.functional.max_pool3d(L.tensor(X), 2, return_indices=True)
        assert tuple(L.nn.MaxUnpool3d(2)(y, i, output_size=(5, 7, 5)).shape) == (2, 3, 5, 7, 5)
    msgs = []
    for L in (ember, torch):
        y, i = L.nn.functional.max_pool3d(L.tensor(X), 2, return_indices=True)
        for bad in (lambda: L.nn.functional.max_unpool3d(y, i, 2, output_size=(9, 9, 9)),
                    lambda: L.nn.functional.max_unpool3d(y, i + 1000, 2)):
            with pytest.raises(Exception) as e:
                bad()
            # (which invalid index PyTorch names depends on which of its threads meets one first)
            msgs.append((type(e.value), str(e.value).split(': ')[0], str(e.value).split(' (')[-1]))
    assert msgs[:2] == msgs[2:]


@pytest.mark.parametrize('p,kw', [(2.0, dict()), (3.0, dict(stride=1)), (1.5, dict(stride=(1, 2, 1), ceil_mode=True))])
def test_lp_pool3d(p, kw):
    a = np.abs(X) + 0.1
    e, t = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ye = ember.nn.LPPool3d(p, 2, **kw)(e)
    yt = torch.nn.LPPool3d(p, 2, **kw)(t)
    assert ye.grad_fn.name() == yt.grad_fn.name() and repr(ember.nn.LPPool3d(p, 2, **kw)) == repr(
        torch.nn.LPPool3d(p, 2, **kw))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-10)
    f = lambda v: ember.nn.functional.lp_pool3d(ember.tensor(v), p, 2, **kw).sum().item()   # noqa: E731
    for idx in [(0, 0, 0, 0, 0), (1, 2, 3, 5, 3), (0, 1, 2, 3, 1)]:
        vp, vm = a.copy(), a.copy()
        vp[idx] += 1e-6
        vm[idx] -= 1e-6
        np.testing.assert_allclose(e.grad.numpy()[idx], (f(vp) - f(vm)) / 2e-6, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize('size', [(2, 3, 4), 2, (2, None, 3), (5, 7, 6), (1, 1, 1)])
def test_adaptive_max_pool3d(size):
    """Values, indices (NaN picks and ties as PyTorch's), gradients, grad_fn and repr; unbatched input."""
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 7, 6)).astype(np.float32)
    x[0, 0, 1, 2, 3] = np.nan
    x[1, 2, :2, :2, :2] = 0.5                      # ties
    res = {}
    for L in (ember, torch):
        xe = L.tensor(x, requires_grad=True)
        y, i = L.nn.functional.adaptive_max_pool3d(xe, size, return_indices=True)
        (y.nan_to_num() * L.arange(y.numel()).reshape(y.shape)).sum().backward()
        u = L.nn.AdaptiveMaxPool3d(size)(L.tensor(x[1]))
        res[L] = (y.detach().numpy(), i.numpy(), xe.grad.numpy(), u.numpy(), y.grad_fn.name(),
                  repr(L.nn.AdaptiveMaxPool3d(size)))
    for a, b in zip(res[ember], res[torch]):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b


def test_adaptive_max_pool3d_finite_differences_and_errors():
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 5, 3))
    e = ember.tensor(x, requires_grad=True)
    (ember.nn.functional.adaptive_max_pool3d(e, (2, 3, 2)) ** 2).sum().backward()
    f = lambda v: (ember.nn.functional.adaptive_max_pool3d(ember.tensor(v), (2, 3, 2)) ** 2).sum().item()   # noqa: E731
    for idx in np.ndindex(x.shape):
        vp, vm = x.copy(), x.copy()
        vp[idx] += 1e-7
        vm[idx] -= 1e-7
        np.testing.assert_allclose(e.grad.numpy()[idx], (f(vp) - f(vm)) / 2e-7, rtol=1e-5, atol=1e-7)
    for shape in ((5, 7), (2, 3, 4, 5, 6, 7)):
        with pytest.raises(RuntimeError) as want:
            torch.nn.functional.adaptive_max_pool3d(torch.ones(shape), 2)
        with pytest.raises(RuntimeError) as got:
            ember.nn.functional.adaptive_max_pool3d(ember.ones(shape), 2)
        assert str(got.value) == str(want.value)
