"""torch.special's bessel_j0, bessel_j1, bessel_y0, bessel_y1, modified_bessel_k0/k1, scaled_modified_bessel_k0/k1
and airy_ai: values against PyTorch 2.13 (to its bits on most of a wide sample, in float32 and float64) and mpmath,
their special values (NaN, +-inf, 0, negative arguments), dtypes and refusals, no derivative (as PyTorch), 0-d
tensors and the out= form."""
import mpmath
import numpy as np
import pytest
import torch

import ember

mpmath.mp.prec = 113

NAMES = ['bessel_j0', 'bessel_j1', 'bessel_y0', 'bessel_y1', 'modified_bessel_k0', 'modified_bessel_k1',
         'scaled_modified_bessel_k0', 'scaled_modified_bessel_k1', 'airy_ai']
BOUNDED = {'bessel_j0', 'bessel_j1', 'bessel_y0', 'bessel_y1', 'airy_ai'}   # oscillating, with zeros


def _exact(name, v):
    x = mpmath.mpf(v)
    if name != 'airy_ai' and name[-2] in 'yk' and x <= 0:
        return np.nan if x < 0 else (-np.inf if name[-2] == 'y' else np.inf)
    f = {'bessel_j0': lambda: mpmath.besselj(0, x), 'bessel_j1': lambda: mpmath.besselj(1, x),
         'bessel_y0': lambda: mpmath.bessely(0, x), 'bessel_y1': lambda: mpmath.bessely(1, x),
         'modified_bessel_k0': lambda: mpmath.besselk(0, x), 'modified_bessel_k1': lambda: mpmath.besselk(1, x),
         'scaled_modified_bessel_k0': lambda: mpmath.exp(x) * mpmath.besselk(0, x),
         'scaled_modified_bessel_k1': lambda: mpmath.exp(x) * mpmath.besselk(1, x),
         'airy_ai': lambda: mpmath.airyai(x)}[name]
    return float(f())


def _grid(seed=0):
    rng = np.random.default_rng(seed)
    tiny = 10.0 ** rng.uniform(-300, 0, 60)
    edges = np.array([1e-5, 2.0, 2.09, 5.0, 8.0, 8.3203353, 103.892, 104.0, 700.0, 1e4, 1e8, 1e15, 1e300])
    pos = np.concatenate([tiny, edges, np.nextafter(edges, 0), rng.uniform(0, 12, 400), rng.uniform(12, 1e4, 200)])
    return np.concatenate([pos, -pos, np.linspace(-60, 60, 601)])


def _call(lib, name, x, **kw):
    return getattr(lib.special, name)(x, **kw)


def _ulps(e, t):
    ok = np.isfinite(t) & (t != 0)
    return np.abs(e[ok] - t[ok]) / np.spacing(np.abs(t[ok]).astype(t.dtype))


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('name', NAMES)
def test_against_torch(name, dtype):
    """PyTorch's bits on most of the sample (its kernels' algorithm, precision and fused multiply-adds; what differs
    is libm's last bit), else within rounding: a few ulps, or an absolute epsilon-sized error next to a zero."""
    with np.errstate(over='ignore'):
        x = _grid().astype(dtype)
    e, t = _call(ember, name, ember.tensor(x)).numpy(), _call(torch, name, torch.tensor(x)).numpy()
    assert e.dtype == dtype
    np.testing.assert_array_equal(np.isnan(e), np.isnan(t))
    np.testing.assert_array_equal(e[np.isinf(t)], t[np.isinf(t)])
    same = (e == t) | np.isnan(t)
    assert same.mean() > 0.95
    eps = float(np.finfo(dtype).eps)
    np.testing.assert_allclose(e, t, rtol=16 * eps, atol=16 * eps if name in BOUNDED else 0)
    if name not in BOUNDED:
        assert np.median(_ulps(e, t)) == 0 and _ulps(e, t).max() <= 16


def _loose(name, x):
    """Where PyTorch's kernel (so ember's) is accurate only to about 1e-7 (absolute): its J and Y kernels sum
    their rational functions' denominators without the leading 1 that Cephes's p1evl implies (PyTorch's J0(8) is
    0.171650809, mpmath's 0.171650807), its Ai kernel the asymptotic ones below -2.09 (3e-6 off near -2.1, 1e-13 near -5.5)."""
    if name.startswith('bessel'):
        return (np.abs(x) >= 1) & (np.abs(x) <= 40)
    if name == 'airy_ai':
        return (x < -2.09) & (x > -6)
    return np.zeros(x.shape, bool)


@pytest.mark.parametrize('name', NAMES)
def test_float64_against_mpmath(name):
    x = _grid(1)
    x = x[np.abs(x) < 1e5]     # mpmath's slow far out; PyTorch comparisons cover it
    e = _call(ember, name, ember.tensor(x)).numpy()
    want = np.array([_exact(name, v) for v in x])
    np.testing.assert_array_equal(np.isnan(e), np.isnan(want))
    np.testing.assert_array_equal(e[np.isinf(want)], want[np.isinf(want)])
    fin = np.isfinite(want)
    loose = fin & _loose(name, x)
    np.testing.assert_allclose(e[loose], want[loose], rtol=1e-5, atol=5e-6)
    strict = fin & ~loose
    # beyond a few units the oscillating ones carry x - pi/4's rounding: an absolute error of about eps |x|
    atol = 1e-15 * np.maximum(1.0, np.abs(x[strict])) if name in BOUNDED else 0
    assert (np.abs(e[strict] - want[strict]) <= 1e-13 * np.abs(want[strict]) + atol).all()


@pytest.mark.parametrize('name', NAMES)
def test_special_values(name):
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, -1e-30, 1e-30, 1e-6, 1e38, -1e38, 103.892, 104.0, 750.0])
    for dt in (np.float64, np.float32):
        e = _call(ember, name, ember.tensor(x.astype(dt))).numpy()
        t = _call(torch, name, torch.tensor(x.astype(dt))).numpy()
        np.testing.assert_array_equal(np.isnan(e), np.isnan(t))
        np.testing.assert_array_equal(np.signbit(e[np.isinf(t) | (t == 0)]), np.signbit(t[np.isinf(t) | (t == 0)]))
        np.testing.assert_allclose(e, t, rtol=4 * float(np.finfo(dt).eps), atol=0)


@pytest.mark.parametrize('name', NAMES)
def test_dtypes_refusals_and_no_derivative(name):
    for a in ([1, 2], [True, False], 3):
        e, t = _call(ember, name, ember.tensor(a)), _call(torch, name, torch.tensor(a))
        assert repr(e.dtype) == repr(t.dtype) and e.shape == t.shape
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
    for dt in ('complex64', 'float16', 'bfloat16'):
        with pytest.raises(NotImplementedError) as want:
            _call(torch, name, torch.ones(2, dtype=getattr(torch, dt)))
        with pytest.raises(NotImplementedError) as got:
            _call(ember, name, ember.ones(2, dtype=getattr(ember, dt)))
        assert str(got.value) == str(want.value)
    with pytest.raises(TypeError) as want:
        _call(torch, name, 2.0)
    with pytest.raises(TypeError) as got:
        _call(ember, name, 2.0)
    assert str(got.value) == str(want.value)
    xe = ember.tensor([0.5, 3.0], dtype=ember.float64, requires_grad=True)
    xt = torch.tensor([0.5, 3.0], dtype=torch.float64, requires_grad=True)
    ye, yt = _call(ember, name, xe), _call(torch, name, xt)
    assert ye.grad_fn is None and yt.grad_fn is None and not ye.requires_grad and not yt.requires_grad


@pytest.mark.parametrize('name', NAMES)
def test_out_and_layouts(name):
    x = np.linspace(0.3, 9.0, 12, dtype=np.float32).reshape(3, 4)
    e, t = ember.tensor(x), torch.tensor(x)
    oe, ot = ember.empty(4, 3), torch.empty(4, 3)
    assert _call(ember, name, e.t(), out=oe) is oe
    _call(torch, name, t.t(), out=ot)
    np.testing.assert_array_equal(oe.numpy(), ot.numpy())
    with pytest.raises(RuntimeError):
        _call(torch, name, t, out=torch.empty(3, 4, dtype=torch.int64))
    with pytest.raises(RuntimeError):
        _call(ember, name, e, out=ember.empty(3, 4, dtype=ember.int64))
    assert _call(ember, name, ember.empty(0, 2)).shape == (0, 2)


def test_keyword_names():
    """PyTorch names the argument ``x`` for the scaled K and Ai, ``input`` for the others."""
    for name in NAMES:
        kw = 'x' if name.startswith('scaled') or name == 'airy_ai' else 'input'
        e = getattr(ember.special, name)(**{kw: ember.tensor([0.5, 2.0])})
        t = getattr(torch.special, name)(**{kw: torch.tensor([0.5, 2.0])})
        np.testing.assert_array_equal(e.numpy(), t.numpy())
