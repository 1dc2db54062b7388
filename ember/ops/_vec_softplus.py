"""PyTorch's float32 softplus and mish forward and backward as its AVX-512 kernels compute them, for ember's exact
kernels: log1p(exp(x * beta)) / beta, each function SLEEF's (Sleef_expf16_u10, Sleef_log1pf16_u10, and mish's
Sleef_tanhf16_u10) on each parallel_for run's whole 32-value vector pairs and the C library's (std::exp, std::log1p,
std::tanh: glibc's) on its remainder; x itself where x * beta > threshold. softplus's gradient is (g * z) / (z + 1),
z = exp(x * beta) the same way."""
import numpy as np

from . import _sleef, _vec_exp
from ._fused import fma32
from ._sleef_expm1 import scalar_mask, by_position, libm_f32, libm_loop
from ._sleef_log1p import log1pf
from ._sleef_tanh import tanhf

_F32 = np.float32


def _exp(z):
    """exp of the float32 z in the kernels' order (SLEEF's on vector pairs, glibc's on the rest)."""
    return _vec_exp.exp_neg(np.negative(z))


def softplus(a, beta, threshold):
    """PyTorch's float32 softplus of ``a``: where a * beta > threshold, a; else log1p(exp(a * beta)) / beta, each
    step rounded to float32."""
    b = _F32(beta)
    z = np.multiply(a, b)
    with np.errstate(all='ignore'):
        r = by_position(_exp(z), log1pf, lambda e: libm_loop(libm_f32('log1pf'), e, np.log1p))
        r /= b
    return np.where(z > _F32(threshold), a, r)


def softplus_grad(g, x, beta, threshold):
    """PyTorch's float32 softplus_backward: where x * beta > threshold, g; else (g * z) / (z + 1), z = exp(x *
    beta)."""
    z = np.multiply(x, _F32(beta))
    with np.errstate(all='ignore'):
        e = _exp(z)
        r = np.multiply(g, e)
        e += _F32(1)
        r /= e
    return np.where(z > _F32(threshold), g, r)


def log_sigmoid(a):
    """PyTorch's float32 log_sigmoid: min(a, 0) - log1p(exp(-|a|)), SLEEF's expf and log1pf on every value (its
    kernel's partial last vector is a vector too), each step rounded (glibc-like correct rounding: 2428 of 45k random
    values a step off, SLEEF's: 0 of 100k)."""
    with np.errstate(all='ignore'):
        return np.minimum(a, _F32(0)) - log1pf(_sleef.expf(np.negative(np.abs(a))))


def log_sigmoid_grad(g, x):
    """PyTorch's float32 log_sigmoid_backward: (m - s * (z / (1 + z))) * g, z = exp(-|x|) (SLEEF's, the forward's
    buffer), m, s = 1, 1 for x < 0, else 0, -1."""
    with np.errstate(all='ignore'):
        z = _sleef.expf(np.negative(np.abs(x)))
        q = z / (z + _F32(1))
    neg = x < 0
    d = np.where(neg, _F32(1) - q, q)     # 0 - (-1) q is q exactly
    d *= g
    return d


def _tanh_softplus_vec(x):
    with np.errstate(all='ignore'):
        return tanhf(log1pf(_sleef.expf(x)))


def _tanh_softplus_scalar(x):
    e = libm_loop(libm_f32('expf'), x, np.exp)
    return libm_loop(libm_f32('tanhf'), libm_loop(libm_f32('log1pf'), e, np.log1p), np.tanh)


def tanh_softplus(x):
    """tanh(log1p(exp(x))) of the float32 x in the kernels' order: SLEEF's three on vector pairs, glibc's on the
    rest (each run's at most 31 values a call apiece)."""
    return by_position(x, _tanh_softplus_vec, _tanh_softplus_scalar)


def mish(x):
    """PyTorch's float32 mish: x * tanh(log1p(exp(x)))."""
    return np.multiply(x, tanh_softplus(x))


def mish_grad(g, x):
    """PyTorch's float32 mish_backward: g * (t + x * s * (1 - t * t)), t = tanh_softplus(x), s = sigmoid(x) (as
    _vec_exp's), with 1 - t * t and t + (x * s) * (...) each one fused multiply-add (GCC contracts both; unfused 1881
    of 6400 gradients differed, fusing one of them 786 or 1190, both 0)."""
    t = tanh_softplus(x)
    w = fma32(np.negative(t), t, _F32(1))
    v = fma32(np.multiply(x, _vec_exp.sigmoid(x)), w, t)
    v *= g
    nan = np.isnan(x)
    if nan.any():
        _nan_bits(v, x, nan)
    return v


def _nan_bits(v, x, nan):
    """mish_grad's NaN at NaN arguments as PyTorch's bits (measured): all ones in the vector lanes (SLEEF's tanhf
    ORs its NaN mask in), in the scalar loops the NaN of exp(-x): x's with its sign flipped."""
    flat, xs, ns = v.reshape(-1).view(np.uint32), x.reshape(-1).view(np.uint32), nan.reshape(-1)
    tail = scalar_mask(flat.size)
    vec = ns if tail is None else ns & ~tail
    flat[vec] = 0xffffffff
    if tail is not None:
        sc = ns & tail
        flat[sc] = (xs[sc] ^ np.uint32(0x80000000)) | np.uint32(0x00400000)
