"""PyTorch's float32 softplus forward and backward as its AVX-512 kernels compute them, for ember's exact kernels:
log1p(exp(x * beta)) / beta, each function SLEEF's (Sleef_expf16_u10, Sleef_log1pf16_u10) on each parallel_for
run's whole 32-value vector pairs and the C library's (std::exp, std::log1p: glibc's expf and log1pf) on its
remainder; x itself where x * beta > threshold. The gradient is (g * z) / (z + 1), z = exp(x * beta) the same way."""
import numpy as np

from . import _vec_exp
from ._sleef_expm1 import by_position, libm_f32, libm_loop
from ._sleef_log1p import log1pf

_F32 = np.float32
_LOG1PF = libm_f32('log1pf')


def _exp(z):
    """exp of the float32 z in the kernels' order (SLEEF's on vector pairs, glibc's on the rest)."""
    return _vec_exp.exp_neg(np.negative(z))


def softplus(a, beta, threshold):
    """PyTorch's float32 softplus of ``a``: where a * beta > threshold, a; else log1p(exp(a * beta)) / beta, each
    step rounded to float32."""
    b = _F32(beta)
    z = np.multiply(a, b)
    with np.errstate(all='ignore'):
        r = by_position(_exp(z), log1pf, lambda e: libm_loop(_LOG1PF, e, np.log1p))
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
