"""pow with a Python-number exponent: PyTorch's CPU kernel's special cases to the bit, every other integer
exponent correctly rounded (so equal to PyTorch wherever PyTorch's pow is correctly rounded)."""
import mpmath
import numpy as np
import pytest
import torch

import ember

mpmath.mp.prec = 113


def _grid(dtype):
    rng = np.random.default_rng(7)
    with np.errstate(over='ignore'):
        parts = [rng.uniform(-4, 4, 1500), rng.uniform(0, 2, 500), 10.0 ** rng.uniform(-40, 40, 300),
                 -(10.0 ** rng.uniform(-20, 20, 100)),
                 [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-45, 3e38, 1e-310, 1e300]]
        return np.concatenate(parts).astype(dtype)


def _correctly_rounded(x, e):
    out = []
    for v in x.astype(np.float64):
        if np.isfinite(v) and v != 0 and (v > 0 or float(e).is_integer()):
            out.append(float(mpmath.mpf(v) ** e))
        else:
            with np.errstate(all='ignore'):
                out.append(np.power(v, float(e)))
    with np.errstate(over='ignore'):
        return np.array(out).astype(x.dtype)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('e', [2, 3, -2, -1, -0.5, 0.5, 0, 1, 2.0, 3.0])   # (0.5: PyTorch's sqrt, MKL's here)
def test_special_exponents_equal_torch_bit_for_bit(dtype, e):
    x = _grid(dtype)
    got = (ember.tensor(x) ** e).numpy()
    want = (torch.from_numpy(x) ** e).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(ember.pow(ember.tensor(x), e).numpy(), want)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('e', [4, -3, 7, 12])
def test_other_exponents_correctly_rounded(dtype, e):
    """PyTorch's pow (SLEEF) is about 1 ulp: equal wherever it is exact."""
    x = _grid(dtype)
    got = (ember.tensor(x) ** e).numpy()
    ref = _correctly_rounded(x, e)
    np.testing.assert_array_equal(got, ref)
    theirs = (torch.from_numpy(x) ** e).numpy()
    exact = (theirs == ref) | (np.isnan(theirs) & np.isnan(ref))
    assert exact.mean() > 0.6
    np.testing.assert_array_equal(got[exact], theirs[exact])


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('e', [2, 3, 4, -1])
def test_gradient_grouped_as_torch(dtype, e):
    """grad * (e * x.pow(e - 1)), with x.pow(e - 1) one of the special cases: bit for bit."""
    x = np.random.default_rng(1).uniform(0.1, 3, 500).astype(dtype)
    g = np.random.default_rng(2).standard_normal(500).astype(dtype)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (xe ** e).backward(ember.tensor(g))
    (xt ** e).backward(torch.from_numpy(g))
    np.testing.assert_array_equal(xe.grad.numpy(), xt.grad.numpy())


def test_dtypes_and_names():
    for x, e in ((ember.tensor([1, 2, 3]), 2.5), (ember.tensor([1., 2.], dtype=ember.float16), 2),
                 (ember.tensor([1., 2.], dtype=ember.float16), 0.5), (ember.tensor([2, 3]), 3)):
        t = torch.from_numpy(x.numpy())
        got, want = x ** e, t ** e
        assert repr(got.dtype) == repr(want.dtype)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    y = ember.tensor([1., 2.], requires_grad=True) ** 3
    assert type(y.grad_fn).__name__ == 'PowBackward0'


def _all_finite(dtype):
    """Every finite bfloat16 or float16 value, as float32."""
    if dtype == 'bfloat16':
        v = (np.arange(1 << 16, dtype=np.uint32) << 16).view(np.float32)
    else:
        v = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)
    return v[np.isfinite(v)]


@pytest.mark.parametrize('dtype', ['bfloat16', 'float16'])
@pytest.mark.parametrize('e', [2, 3, -1, -2, 0.5, -0.5, 3.0, -2.0, 4, 1.5])
def test_half_precision_special_exponents_bit_for_bit(dtype, e):
    """Every bf16/f16 value: PyTorch rounds bf16 x*x before the next multiply (x**3, x**-2), takes rsqrt for bf16
    ** -0.5 (-inf at -0) and C's pow for float16 ** 0.5 (+0 at -0)."""
    x = _all_finite(dtype)
    want = (torch.from_numpy(x).to(getattr(torch, dtype)) ** e).float().numpy()
    got = (ember.tensor(x).to(getattr(ember, dtype)) ** e).float().numpy()
    np.testing.assert_array_equal(got.view(np.uint32)[~np.isnan(want)], want.view(np.uint32)[~np.isnan(want)])
    assert np.array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.parametrize('v', [0.0, -0.0, np.inf, -np.inf, np.nan, 2.5, -1.5])
@pytest.mark.parametrize('e', [5, -3, 2, 7])
def test_zero_dim_float64_integer_exponent(v, e):
    """A 0-d float64 tensor to an integer power (torchdiffeq's test problems raise a 0-d tensor to the 5th):
    zeros and infinities took the fix-up path, which assigned into a NumPy scalar and raised TypeError."""
    got = ember.tensor(v, dtype=ember.float64) ** e
    want = torch.tensor(v, dtype=torch.float64) ** e
    assert got.shape == want.shape == ()
    np.testing.assert_array_equal(got.numpy(), want.numpy())
