"""torch.stft and torch.istft against PyTorch 2.13: values over n_fft/hop/win_length/window/center/pad_mode/
normalized/onesided, batched and not, the round trip, gradients through both (against PyTorch and by float64 finite
differences), and PyTorch's errors and warnings."""
import warnings

import numpy as np
import pytest
import torch

import ember

CASES = [dict(n_fft=16), dict(n_fft=16, hop_length=5, win_length=10), dict(n_fft=8, center=False),
         dict(n_fft=16, normalized=True, onesided=False), dict(n_fft=12, hop_length=3, pad_mode='constant'),
         dict(n_fft=10, win_length=7, hop_length=2)]


def _win(L, kw, kind):
    n = kw.get('win_length', kw['n_fft'])
    return None if kind is None else getattr(L, kind)(n, dtype=L.float64)


def _sig(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize('kw', CASES)
@pytest.mark.parametrize('kind', [None, 'hann_window', 'hamming_window'])
@pytest.mark.parametrize('shape', [(50,), (2, 47)])
def test_stft_values(kw, kind, shape):
    x = _sig(shape)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        e = ember.stft(ember.tensor(x), window=_win(ember, kw, kind), return_complex=True, **kw)
        t = torch.stft(torch.tensor(x), window=_win(torch, kw, kind), return_complex=True, **kw)
    assert repr(e.dtype) == repr(t.dtype) and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.numpy(), t.numpy(), atol=1e-12)


@pytest.mark.parametrize('kw', [c for c in CASES if c.get('center', True) and 'pad_mode' not in c])
@pytest.mark.parametrize('length', [None, 40, 60])
def test_istft_values_and_round_trip(kw, length):
    x = _sig((2, 47), 1)
    istft_kw = {k: v for k, v in kw.items() if k != 'pad_mode'}
    e = ember.stft(ember.tensor(x), window=_win(ember, kw, 'hann_window'), return_complex=True, **kw)
    t = torch.stft(torch.tensor(x), window=_win(torch, kw, 'hann_window'), return_complex=True, **kw)
    try:
        yt = torch.istft(t, window=_win(torch, kw, 'hann_window'), length=length, **istft_kw)
    except RuntimeError:    # the window's overlap-add is zero somewhere in the output: both refuse
        with pytest.raises(RuntimeError, match='window overlap add min'):
            ember.istft(e, window=_win(ember, kw, 'hann_window'), length=length, **istft_kw)
        return
    ye = ember.istft(e, window=_win(ember, kw, 'hann_window'), length=length, **istft_kw)
    assert tuple(ye.shape) == tuple(yt.shape)
    np.testing.assert_allclose(ye.numpy(), yt.numpy(), atol=1e-12)
    if length == 47 or (length is None and yt.shape[-1] <= 47):
        np.testing.assert_allclose(ye.numpy(), x[:, :yt.shape[-1]], atol=1e-12)


def test_gradients_match_torch_and_finite_differences():
    x = _sig((30,), 2)
    grads = []
    for L in (ember, torch):
        xs = L.tensor(x, requires_grad=True)
        win = L.hann_window(8, dtype=L.float64)
        s = L.stft(xs, 8, hop_length=3, window=win, return_complex=True)
        y = L.istft(s * (1 + 0.5j), 8, hop_length=3, window=win, length=30)
        loss = (y * L.tensor(np.arange(30.0))).sum() + (s.abs() ** 2).mean()
        loss.backward()
        grads.append(xs.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-10)

    def f(a):
        s = ember.stft(ember.tensor(a), 8, hop_length=3, window=ember.hann_window(8, dtype=ember.float64),
                       return_complex=True)
        return (s.abs() ** 2).mean().item()
    h = 1e-6
    for i in (0, 7, 29):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        xs = ember.tensor(x, requires_grad=True)
        s = ember.stft(xs, 8, hop_length=3, window=ember.hann_window(8, dtype=ember.float64), return_complex=True)
        (s.abs() ** 2).mean().backward()
        assert abs(xs.grad.numpy()[i] - (f(xp) - f(xm)) / (2 * h)) < 1e-6


@pytest.mark.parametrize('call', [
    lambda L, x: L.stft(x, 8),
    lambda L, x: L.stft(x, 100, return_complex=True),
    lambda L, x: L.stft(x, 8, hop_length=0, return_complex=True),
    lambda L, x: L.stft(x, 8, win_length=9, return_complex=True),
    lambda L, x: L.stft(x, 8, window=L.ones(5, dtype=L.float64), return_complex=True),
    lambda L, x: L.stft(x.reshape(1, 2, 15), 8, return_complex=True),
    lambda L, x: L.istft(x.reshape(6, 5), 10),
    lambda L, x: L.istft(L.stft(x, 8, window=L.ones(8, dtype=L.float64), return_complex=True), 10),
])
def test_errors(call):
    x = _sig(30, 3)
    with pytest.raises(RuntimeError):
        call(torch, torch.tensor(x))
    with pytest.raises(RuntimeError):
        call(ember, ember.tensor(x))


def test_return_complex_false_warns_and_gives_pairs():
    x = _sig(20, 4)
    # PyTorch's warning is TORCH_WARN_ONCE: re-armed here, as an earlier test in the process may have spent it
    ember._warn._WARNED_ONCE -= {m for m in ember._warn._WARNED_ONCE if m.startswith('stft with return_complex=False')}
    with pytest.warns(UserWarning, match='return_complex=False is deprecated'):
        e = ember.stft(ember.tensor(x), 8, window=ember.ones(8, dtype=ember.float64), return_complex=False)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        t = torch.stft(torch.tensor(x), 8, window=torch.ones(8, dtype=torch.float64), return_complex=False)
    np.testing.assert_allclose(e.numpy(), t.numpy(), atol=1e-12)
