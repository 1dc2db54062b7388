"""torch.signal.windows against PyTorch 2.13: every window over lengths 0-13, symmetric and periodic, float32 and
float64, their parameters, PyTorch's errors, and the graph a window with requires_grad=True records."""
import numpy as np
import pytest
import torch

import ember
import ember.signal.windows as ew
import torch.signal.windows as tw

EXTRA = {'general_cosine': dict(a=[0.5, 0.3, 0.2]), 'general_hamming': dict(alpha=0.6), 'kaiser': dict(beta=5.5),
         'gaussian': dict(std=2.5), 'exponential': dict(tau=3.0)}


@pytest.mark.parametrize('name', tw.__all__)
def test_values_and_dtypes(name):
    for M in (0, 1, 2, 5, 8, 13):
        for sym in (True, False):
            for dt in (None, 'float32', 'float64'):
                for extra in ({}, EXTRA.get(name, {})):
                    kw_t = dict(sym=sym, **extra, **({'dtype': getattr(torch, dt)} if dt else {}))
                    kw_e = dict(sym=sym, **extra, **({'dtype': getattr(ember, dt)} if dt else {}))
                    if name == 'general_cosine' and not extra:
                        continue
                    t, e = getattr(tw, name)(M, **kw_t), getattr(ew, name)(M, **kw_e)
                    assert repr(e.dtype) == repr(t.dtype) and tuple(e.shape) == tuple(t.shape)
                    rtol = 1e-14 if dt == 'float64' else 2e-6
                    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=rtol, atol=rtol)


def test_exponential_center():
    t = tw.exponential(7, center=2.0, sym=False, tau=0.5)
    e = ew.exponential(7, center=2.0, sym=False, tau=0.5)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)


@pytest.mark.parametrize('call', [
    lambda W, L: W.hann(-1), lambda W, L: W.hann(4, dtype=L.int64), lambda W, L: W.gaussian(4, std=0),
    lambda W, L: W.exponential(4, tau=-1.0), lambda W, L: W.exponential(4, center=1.0),
    lambda W, L: W.kaiser(4, beta=-1.0), lambda W, L: W.general_cosine(4, a=[]),
    lambda W, L: W.general_cosine(4, a=3), lambda W, L: W.blackman(3, dtype=L.float16),
])
def test_errors(call):
    with pytest.raises(Exception) as want:
        call(tw, torch)
    with pytest.raises(type(want.value)) as got:
        call(ew, ember)
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize('name', ['hann', 'gaussian', 'kaiser', 'bartlett', 'cosine', 'exponential'])
def test_requires_grad_graph(name):
    t = getattr(tw, name)(6, requires_grad=True, dtype=torch.float64)
    e = getattr(ew, name)(6, requires_grad=True, dtype=ember.float64)
    assert e.requires_grad and t.requires_grad
    assert (e.grad_fn is None) == (t.grad_fn is None)
    if t.grad_fn is not None:
        assert e.grad_fn.name() == t.grad_fn.name()


def test_torch_namespace():
    import ember.signal
    assert ember.signal.windows is ew
    assert sorted(ew.__all__) == sorted(tw.__all__)
