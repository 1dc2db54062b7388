"""torch.fft against PyTorch 2.13: values and dtypes of every transform over n/s, dim and norm, the helpers
(fftfreq, rfftfreq, fftshift, ifftshift), PyTorch's errors, and gradients (against PyTorch, and by float64 finite
differences on the real and imaginary parts of the input)."""
import numpy as np
import pytest
import torch

import ember

NORMS = (None, 'backward', 'forward', 'ortho')


def _pair(arr):
    return ember.tensor(arr), torch.tensor(arr)


def _same(e, t, atol=1e-4, rtol=1e-4):
    """ember tensor ``e`` equals torch tensor ``t`` in dtype, shape and values."""
    assert repr(e.dtype) == repr(t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().resolve_conj().numpy(), atol=atol, rtol=rtol)


def _signal(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == 'c':
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


ONE_D = ['fft', 'ifft', 'rfft', 'irfft', 'hfft', 'ihfft']
N_D = ['fft2', 'ifft2', 'rfft2', 'irfft2', 'hfft2', 'ihfft2', 'fftn', 'ifftn', 'rfftn', 'irfftn', 'hfftn', 'ihfftn']
REAL_IN = {'rfft', 'ihfft', 'rfft2', 'rfftn', 'ihfft2', 'ihfftn'}


def _dtypes(name):
    return (np.float32, np.float64) if name in REAL_IN else (np.float32, np.float64, np.complex64, np.complex128)


@pytest.mark.parametrize('name', ONE_D)
def test_one_d_values_dtypes(name):
    for dt in _dtypes(name):
        x = _signal((3, 8), dt)
        e, t = _pair(x)
        for n in (None, 5, 8, 11):
            for dim in (-1, 0, 1):
                for norm in NORMS:
                    _same(getattr(ember.fft, name)(e, n=n, dim=dim, norm=norm),
                          getattr(torch.fft, name)(t, n=n, dim=dim, norm=norm))


@pytest.mark.parametrize('name', N_D)
def test_n_d_values_dtypes(name):
    for dt in _dtypes(name):
        x = _signal((2, 6, 5), dt, seed=1)
        e, t = _pair(x)
        args = [dict(), dict(s=(4, 7)), dict(dim=(0, 2)), dict(s=(3, 4), dim=(2, 0)), dict(dim=1), dict(s=(6,))]
        if name.endswith('2'):
            args = [a for a in args if len(a.get('s', (0, 0))) == 2 and a.get('dim', (0, 0)) != 1]
        for kw in args:
            for norm in NORMS:
                _same(getattr(ember.fft, name)(e, norm=norm, **kw), getattr(torch.fft, name)(t, norm=norm, **kw))


def test_integer_input_and_roundtrip():
    x = np.arange(12).reshape(3, 4)
    e, t = _pair(x)
    for name in ('fft', 'rfft', 'fftn', 'ihfft'):
        _same(getattr(ember.fft, name)(e), getattr(torch.fft, name)(t))
    y = ember.fft.irfft(ember.fft.rfft(ember.tensor(_signal(10, np.float64))), n=10)
    np.testing.assert_allclose(y.numpy(), _signal(10, np.float64), atol=1e-12)


def test_out_argument():
    x = _signal((4,), np.float32)
    e, t = _pair(x)
    eo, to = ember.zeros(4, dtype=ember.complex64), torch.zeros(4, dtype=torch.complex64)
    r = ember.fft.fft(e, out=eo)
    torch.fft.fft(t, out=to)
    assert r is eo
    _same(eo, to)


def test_freq_and_shift():
    for n in (1, 4, 7):
        for d in (1.0, 0.3):
            _same(ember.fft.fftfreq(n, d), torch.fft.fftfreq(n, d), atol=0, rtol=0)
            _same(ember.fft.rfftfreq(n, d), torch.fft.rfftfreq(n, d), atol=0, rtol=0)
    _same(ember.fft.fftfreq(5, dtype=ember.float64), torch.fft.fftfreq(5, dtype=torch.float64), atol=0, rtol=0)
    x = np.arange(30).reshape(5, 6)
    e, t = _pair(x)
    for dim in (None, 0, 1, (0, 1), -1, [1, 0]):
        _same(ember.fft.fftshift(e, dim), torch.fft.fftshift(t, dim), atol=0)
        _same(ember.fft.ifftshift(e, dim), torch.fft.ifftshift(t, dim), atol=0)


def _errors(fn_e, fn_t):
    with pytest.raises(Exception) as te:
        fn_t()
    with pytest.raises(type(te.value)) as ee:
        fn_e()
    return str(ee.value), str(te.value)


@pytest.mark.parametrize('call', [
    lambda L, x, c: L.fft.fft(x, n=0),
    lambda L, x, c: L.fft.fft(x, norm='bogus'),
    lambda L, x, c: L.fft.rfft(c),
    lambda L, x, c: L.fft.ihfft(c),
    lambda L, x, c: L.fft.fft(x, dim=2),
    lambda L, x, c: L.fft.fftn(x, s=(3, 3), dim=(0,)),
    lambda L, x, c: L.fft.fftn(x, dim=(0, 0)),
    lambda L, x, c: L.fft.fftn(x, s=(2, 2, 2)),
    lambda L, x, c: L.fft.irfft(x, n=-3),
    lambda L, x, c: L.fft.fft(x.half()),
    lambda L, x, c: L.fft.ihfft2(c),
    lambda L, x, c: L.fft.ihfftn(c),
    lambda L, x, c: L.fft.hfftn(c, dim=()),
    lambda L, x, c: L.fft.ihfftn(x, dim=()),
    lambda L, x, c: L.fft.hfft2(c, s=(3,)),
])
def test_errors(call):
    x = _signal((4, 6), np.float32)
    c = _signal((4, 6), np.complex64)
    msg_e, msg_t = _errors(lambda: call(ember, ember.tensor(x), ember.tensor(c)),
                           lambda: call(torch, torch.tensor(x), torch.tensor(c)))
    assert msg_e.split('\n')[0] == msg_t.split('\n')[0]


def _real_loss(L, y, w):
    """A real loss of any (real or complex) tensor: a weighted sum of its real and imaginary parts."""
    if y.is_complex():
        y = L.view_as_real(y.resolve_conj())
    return (y * w).sum()


GRAD_CASES = [('fft', dict(n=7)), ('fft', dict(norm='ortho')), ('ifft', dict(n=4, norm='forward')),
              ('rfft', dict()), ('rfft', dict(n=5, norm='forward')), ('irfft', dict()), ('irfft', dict(n=9)),
              ('irfft', dict(n=4, norm='ortho')), ('hfft', dict()), ('hfft', dict(n=7, norm='forward')),
              ('ihfft', dict()), ('ihfft', dict(n=8, norm='ortho')), ('fft2', dict(s=(3, 8))),
              ('rfft2', dict()), ('irfft2', dict(s=(4, 6))), ('fftn', dict(dim=(0,))), ('ifftn', dict()),
              ('rfftn', dict(s=(5, 5), norm='ortho')), ('irfftn', dict(dim=(0, 1), norm='forward')),
              ('hfft2', dict()), ('hfftn', dict(s=(3, 7), norm='ortho')), ('hfftn', dict(dim=(0,))),
              ('ihfft2', dict(norm='forward')), ('ihfftn', dict(s=(5, 4))), ('ihfftn', dict(dim=(1,)))]


@pytest.mark.parametrize('name,kw', GRAD_CASES)
def test_gradients_match_torch(name, kw):
    for dt in _dtypes(name):
        x = _signal((4, 6), dt, seed=3)
        e = ember.tensor(x, requires_grad=True)
        t = torch.tensor(x, requires_grad=True)
        ye, yt = getattr(ember.fft, name)(e, **kw), getattr(torch.fft, name)(t, **kw)
        _same(ye, yt)
        assert ye.grad_fn.name() == yt.grad_fn.name() or name == 'fft' and not np.iscomplexobj(x)
        w = _signal(tuple(yt.shape) + ((2,) if yt.is_complex() else ()), np.float64, seed=4)
        _real_loss(ember, ye, ember.tensor(w)).backward()
        _real_loss(torch, yt, torch.tensor(w)).backward()
        _same(e.grad, t.grad)


@pytest.mark.parametrize('name,kw', GRAD_CASES)
def test_gradients_finite_differences(name, kw):
    """Each real and imaginary part of the input nudged by +-h in float64: the loss's change is the gradient's
    matching part (PyTorch's convention: grad = dL/dx + i dL/dy)."""
    dt = np.complex128 if name not in REAL_IN else np.float64
    x = _signal((3, 5), dt, seed=5)
    fn = getattr(ember.fft, name)
    y0 = fn(ember.tensor(x), **kw)
    w = ember.tensor(_signal(tuple(y0.shape) + ((2,) if y0.is_complex() else ()), np.float64, seed=6))
    e = ember.tensor(x, requires_grad=True)
    _real_loss(ember, fn(e, **kw), w).backward()
    grad = e.grad.numpy()
    h = 1e-6
    parts = [1.0] + ([1j] if np.iscomplexobj(x) else [])
    for idx in np.ndindex(x.shape):
        for unit in parts:
            xp, xm = x.copy(), x.copy()
            xp[idx] += h * unit
            xm[idx] -= h * unit
            lp = _real_loss(ember, fn(ember.tensor(xp), **kw), w).item()
            lm = _real_loss(ember, fn(ember.tensor(xm), **kw), w).item()
            want = (lp - lm) / (2 * h)
            got = grad[idx].real if unit == 1.0 else grad[idx].imag
            assert abs(got - want) < 1e-5 * max(1.0, abs(want)), (idx, unit, got, want)


@pytest.mark.parametrize('name,kw', GRAD_CASES)
def test_double_backward_matches_torch(name, kw):
    """create_graph=True through a transform: the gradient x.grad as a function of the output's gradient g (which
    requires grad), differentiated again (with respect to g) as PyTorch differentiates it."""
    got = []
    for lib in (ember, torch):
        x = lib.tensor(_signal((4, 6), np.complex128 if name not in REAL_IN else np.float64, seed=7),
                       requires_grad=True)
        y = getattr(lib.fft, name)(x, **kw)
        g = lib.tensor(_signal(tuple(y.shape), np.complex128 if y.is_complex() else np.float64, seed=8),
                       requires_grad=True)
        gx, = lib.autograd.grad(y, x, g, create_graph=True)
        w = lib.tensor(_signal(tuple(gx.shape) + ((2,) if gx.is_complex() else ()), np.float64, seed=9))
        _real_loss(lib, gx, w).backward()
        got.append((gx, g.grad))
    _same(got[0][0], got[1][0])
    _same(got[0][1], got[1][1])


def test_double_backward_real_to_real():
    """gradgradcheck through c2r transforms of a real input (complex ops have no double backward in ember yet)."""
    x = ember.tensor(_signal((3, 5), np.float64, seed=2), requires_grad=True)
    for f in (lambda v: ember.fft.irfft(v, n=7, norm='ortho'), lambda v: ember.fft.hfft(v, n=6, norm='forward'),
              lambda v: ember.fft.irfftn(v, s=(2, 7)), lambda v: ember.fft.irfft2(v)):
        assert ember.autograd.gradgradcheck(f, (x,))


@pytest.mark.parametrize('name', ['fft', 'ifft'])
@pytest.mark.parametrize('n', [None, 5, 6, 9])
@pytest.mark.parametrize('norm', NORMS)
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64'])
def test_real_input_1d_zero_signs_match_torch(name, n, norm, dtype):
    """PyTorch's 1-D fft/ifft of a real input runs its r2c transform and mirrors the other half (conjugated for
    ifft), so exactly-zero imaginary parts carry its signs (ifft(linspace(0, 1, 5)) prints 0.5000-0.0000j, the
    torch.fft.hfft docstring example) and the mirrored entries are exact conjugates."""
    a = np.array([[0., .25, .5, .75, 1., 3., -2.], [1., -2., 3., 4., 5., 6., 2.5]]).astype(dtype)
    e = getattr(ember.fft, name)(ember.tensor(a), n=n, dim=-1, norm=norm)
    t = getattr(torch.fft, name)(torch.tensor(a), n=n, dim=-1, norm=norm)
    _same(e, t, atol=1e-5, rtol=1e-5)
    t_imag = t.imag.resolve_neg().numpy()
    zero = t_imag == 0
    np.testing.assert_array_equal(np.signbit(e.imag.numpy())[zero], np.signbit(t_imag)[zero])


def test_real_input_ifft_along_dim0_and_docstring_example():
    """The torch.fft.hfft / ihfft docstring blocks: ifft of a real signal prints -0.0000j at the DC term; along a
    leading dim as well."""
    e = ember.fft.ifft(ember.linspace(0, 1, 5))
    t = torch.fft.ifft(torch.linspace(0, 1, 5))
    assert repr(e) == repr(t)
    a = _signal((4, 3), np.float64)
    e, t = ember.fft.ifft(ember.tensor(a), dim=0), torch.fft.ifft(torch.tensor(a), dim=0)
    _same(e, t, atol=1e-12, rtol=1e-12)
    np.testing.assert_array_equal(np.signbit(e.imag.numpy()), np.signbit(t.imag.resolve_neg().numpy()))
