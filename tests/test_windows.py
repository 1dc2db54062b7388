"""Window functions against PyTorch 2.13: every length from 0 to 9 and a few long ones, periodic or symmetric,
float32 (the default) and float64, the parameters of hamming and kaiser, and PyTorch's errors."""
import numpy as np
import pytest
import torch

import ember

NAMES = ['hann_window', 'hamming_window', 'blackman_window', 'bartlett_window', 'kaiser_window']


@pytest.mark.parametrize('name', NAMES)
def test_windows_match_torch(name):
    for n in list(range(10)) + [31, 64, 400, 1025]:
        for periodic in (True, False):
            for dt in ('float32', 'float64'):
                e = getattr(ember, name)(n, periodic, dtype=getattr(ember, dt))
                t = getattr(torch, name)(n, periodic, dtype=getattr(torch, dt))
                assert repr(e.dtype) == repr(t.dtype) and tuple(e.shape) == tuple(t.shape)
                np.testing.assert_allclose(e.numpy(), t.numpy(), atol=2e-6 if dt == 'float32' else 1e-12, rtol=0)
    assert repr(getattr(ember, name)(5).dtype) == 'torch.float32'


def test_window_parameters():
    for kw in (dict(alpha=0.6, beta=0.4), dict(alpha=0.5)):
        np.testing.assert_allclose(ember.hamming_window(12, False, **kw).numpy(),
                                   torch.hamming_window(12, False, **kw).numpy(), atol=2e-6)
    for beta in (0.0, 5.0, 14.0):
        np.testing.assert_allclose(ember.kaiser_window(16, True, beta).numpy(), torch.kaiser_window(16, True, beta).numpy(),
                                   atol=2e-6)
    w = ember.hann_window(4, requires_grad=True)
    assert w.requires_grad and w.is_leaf


@pytest.mark.parametrize('call', [lambda L, f: f(L)(-1), lambda L, f: f(L)(4, dtype=L.int64)])
@pytest.mark.parametrize('name', NAMES)
def test_window_errors(call, name):
    with pytest.raises(RuntimeError) as te:
        call(torch, lambda L: getattr(L, name))
    with pytest.raises(RuntimeError) as ee:
        call(ember, lambda L: getattr(L, name))
    assert str(ee.value) == str(te.value).split('\n')[0]
