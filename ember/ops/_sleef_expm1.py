"""PyTorch's float32 expm1 as its AVX-512 kernels compute it, under ember's exact kernels: torch.expm1 takes SLEEF's
expm1f (Sleef_expm1f16_u10, ``Vectorized<float>::expm1``) on every value (vml's map loads a partial last vector;
NumPy's float64 expm1 rounded differed in 4 of 2310), ELU/SELU/CELU on each parallel_for run's whole 32-value
vector pairs and the C library's expm1f (``std::expm1``) on its remainder. SLEEF's: exp(x) as a double-float
by expk2f (_sleef_tanh._expk2), less 1 by dfadd2, the two parts summed; -1 below -16.6355, inf above 88.7228, -0
kept. Default ELU (NumPy's expm1) differed from PyTorch in 641 of 6400 values, its gradient (exp) in 1159."""
import functools

import numpy as np

from . import _vec_exp
from ._sleef import blockwise
from ._sleef_tanh import _add2, _expk2

_F32 = np.float32


# values a block: expm1f of 131072 float32, min of 10 (loaded host, ms): 4096 14.2, 16384 8.1, whole 25.6 (its ~40
# temporaries leave the cache)
BLOCK = 1 << 14


def expm1f(x):
    """SLEEF's expm1f of a float32 array (a new array), BLOCK values at a time."""
    return blockwise(_expm1f, np.asarray(x, _F32), BLOCK)


def _expm1f(x):
    with np.errstate(all='ignore'):
        hi, lo = _add2(_expk2(x), _F32(-1))
        y = hi + lo
    y[x > _F32(88.72283172607421875)] = np.inf
    y[x < _F32(-16.635532333438687426013570)] = -1
    y[(x == 0) & np.signbit(x)] = _F32(-0.0)
    return y


@functools.lru_cache(maxsize=None)
def libm_f32(name):
    """The C library's float function ``name`` (glibc's, which PyTorch's scalar loops call: std::expm1,
    std::log1p), or None where it cannot be loaded; loaded on first use (ctypes.util imports subprocess)."""
    import ctypes
    import ctypes.util
    try:
        f = getattr(ctypes.CDLL(ctypes.util.find_library('m') or 'libm.so.6'), name)
    except (OSError, AttributeError, TypeError):
        return None
    f.restype, f.argtypes = ctypes.c_float, [ctypes.c_float]
    return f



def libm_loop(f, x, fallback):
    """The C library's float function ``f`` over a short float32 array (a scalar loop's remainder: under 32
    values a run); where it is not reachable (f None), ``fallback`` in float64 rounded to float32."""
    if f is None:
        return fallback(x.astype(np.float64)).astype(_F32)
    return np.array([f(v) for v in x.tolist()], _F32)


def libm_expm1f(x):
    """The C library's expm1f of a short float32 array (libm_loop)."""
    return libm_loop(libm_f32('expm1f'), x, np.expm1)


def _split(n):
    """(lo, body, hi) of each parallel_for run over n values (_vec_exp.runs): [lo, body) its whole vector pairs,
    [body, hi) its scalar remainder."""
    return [(lo, lo + (hi - lo) // _vec_exp._PAIR * _vec_exp._PAIR, hi) for lo, hi in _vec_exp.runs(n)]


def scalar_mask(n):
    """Which of n flat positions PyTorch's scalar loops take, or None when none."""
    m = None
    for lo, body, hi in _split(n):
        if body < hi:
            if m is None:
                m = np.zeros(n, bool)
            m[body:hi] = True
    return m


def by_position(a, vec_fn, scalar_fn):
    """``vec_fn`` of the float32 ``a`` on each parallel_for run's whole vector pairs, ``scalar_fn`` on its
    remainder (_vec_exp.runs): a cpu_kernel_vec loop's two paths."""
    f = a.reshape(-1)
    out = np.empty_like(f)
    for lo, body, hi in _split(f.size):
        if body > lo:
            out[lo:body] = vec_fn(f[lo:body])
        if body < hi:
            out[body:hi] = scalar_fn(f[body:hi])
    return out.reshape(a.shape)


def expm1(a):
    """float32 expm1 of ``a`` in PyTorch's elementwise kernels' order: SLEEF's on each run's whole vector pairs,
    the C library's on its remainder."""
    return by_position(a, expm1f, libm_expm1f)


def elu(a, alpha, scale, in_scale):
    """PyTorch's float32 elu_kernel (ELU, SELU, CELU): a * scale where a >= 0, else expm1(a * in_scale) *
    (alpha * scale), each step and the coefficients' product rounded to float32; expm1 only where it is kept
    (SLEEF's is elementwise): (8, 16, 32, 32) forward, min of 15 interleaved, load ~5: 8.3 -> 6.0 ms."""
    out = np.multiply(a, _F32(scale))
    neg = ~_positive(a, a >= 0)
    z = np.multiply(a[neg], _F32(in_scale))
    tail = scalar_mask(a.size)
    if tail is None:
        e = expm1f(z)
    else:
        t = tail.reshape(a.shape)[neg]
        e = np.empty_like(z)
        e[~t] = expm1f(z[~t])
        e[t] = libm_expm1f(z[t])
    e *= _F32(alpha) * _F32(scale)
    out[neg] = e
    return out


def elu_grad(g, x, alpha, scale, in_scale):
    """PyTorch's float32 elu_backward from the input x: g * scale where x > 0, else ((g * in_scale) * (alpha *
    scale)) * exp(x * in_scale), each product rounded to float32 and exp in sigmoid's order (_vec_exp: SLEEF's expf
    on whole vector pairs, glibc's on each run's rest)."""
    e = _vec_exp.exp_neg(np.negative(np.multiply(x, _F32(in_scale))))
    neg = np.multiply(g, _F32(in_scale))
    neg *= _F32(alpha) * _F32(scale)
    neg *= e
    return np.where(_positive(x, x > 0), np.multiply(g, _F32(scale)), neg)


def _positive(x, vec):
    """Where the kernel takes its positive side: ``vec`` (the vector loop's test) but, in the scalar loops, where x
    <= 0 fails (NaN there takes the positive side: its gradient g * scale, not NaN)."""
    tail = scalar_mask(x.size)
    if tail is not None:
        t = tail.reshape(x.shape)
        vec[t] = ~(x[t] <= 0)
    return vec
