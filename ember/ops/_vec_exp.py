"""exp(-x) of a float32 array as PyTorch's AVX-512 sigmoid and silu kernels compute it, for ember's exact kernels
(ember/_exact.py): TensorIterator cuts an array of more than GRAIN values into get_num_threads() runs, and each run's
loop takes SLEEF's expf (_sleef.expf) over whole pairs of 16-lane vectors and glibc's expf (std::exp) on the rest.
With this exp, 1 / (1 + e) and x / (1 + e) rounded in float32 are PyTorch's bits (NumPy's correctly rounded exp
differed in 4% of sigmoid's and 17% of silu's values)."""
import numpy as np

from . import _sleef
from .. import _parallel

GRAIN = 32768       # at::internal::GRAIN_SIZE
_PAIR = 32          # the vectorised loop's step: two 16-float vectors


def applies(a):
    """Whether ``a`` (an op's input array) takes the emulation: exact kernels on an AVX-512 host, a C-contiguous
    float32 ndarray (a strided one runs PyTorch's scalar loop)."""
    return type(a) is np.ndarray and a.dtype == np.float32 and a.flags.c_contiguous and a.size > 0 and \
        _sleef.emulated()


def runs(n):
    """The [lo, hi) runs PyTorch's parallel_for gives its threads over n values: one below GRAIN, else
    min(threads, ceil(n / GRAIN)) runs of ceil(n / runs) values."""
    k = 1 if n <= GRAIN else min(_parallel.threads(), -(-n // GRAIN))
    step = -(-n // k)
    return [(lo, min(n, lo + step)) for lo in range(0, n, step)]


def exp_neg(a):
    """float32 exp(-a) in PyTorch's kernels' order (see the module): SLEEF's expf on each run's whole vector pairs,
    glibc's on its remainder."""
    f = np.negative(a.reshape(-1))
    out = np.empty_like(f)
    with np.errstate(over='ignore'):
        for lo, hi in runs(f.size):
            body = lo + (hi - lo) // _PAIR * _PAIR
            if body > lo:
                _sleef.expf(f[lo:body], out=out[lo:body])
            if body < hi:
                out[body:hi] = _sleef.glibc_expf(f[body:hi])
    return out.reshape(a.shape)


def sigmoid(a):
    """PyTorch's float32 sigmoid of ``a``: 1 / (1 + exp(-a)), each step rounded to float32."""
    e = exp_neg(a)
    e += np.float32(1)
    return np.divide(np.float32(1), e, out=e)


def silu(a):
    """PyTorch's float32 silu of ``a``: a / (1 + exp(-a)), each step rounded to float32."""
    e = exp_neg(a)
    e += np.float32(1)
    return np.divide(a, e, out=e)


def silu_grad(g, x):
    """PyTorch's float32 silu_backward of gradient ``g`` at ``x``: g * s * (1 + x * (1 - s)), s its sigmoid, with
    1 + x * (1 - s) one fused multiply-add (the compiler contracts it; rounded twice, 1027 of 6400 differed)."""
    s = sigmoid(x)
    t = np.subtract(np.float32(1), s)
    t64 = np.multiply(x, t, dtype=np.float64)
    t64 += 1.0
    np.copyto(t, t64, casting='same_kind')
    s *= g
    s *= t
    return s
