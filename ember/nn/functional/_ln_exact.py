"""float32 layer norm as PyTorch's CPU kernel computes it, bit for bit.

PyTorch registers its layer-norm kernels with REGISTER_DISPATCH, which gives AVX-512 hosts the AVX2 build: 8-lane
Vectorized<float> with FMA, the same kernel on AVX2 and AVX-512 hosts. Its row statistics (RowwiseMoments) are
Welford's: chunks of 16 vectors (8 lanes each), the chunks merged by a binary cascade, then a scalar Welford over
the tail and the 8 lanes merged into it one after the other. Where the compiled kernel fuses a product into an add
was found by matching PyTorch 2.13 (the chunk merge's ``m2 + m2_add + delta * delta * c * m0`` is computed as
``fma(delta * c, delta * m0, m2 + m2_add)``; its mean update and the scalar tail are unfused). The output is ``fma((x - mean) * rstd, w, b)``."""
import numpy as np

from ...ops._fused import fma32

_F32 = np.float32
_LANES, _CHUNK = 8, 16
_C = [_F32(_F32(1) / _F32(j + 1)) for j in range(_CHUNK)]     # the kernel's 1 / (j + 1) per step of a chunk


def _r(a):
    return a.astype(_F32, copy=False)


def _chunks(v, steps):
    """Welford's (mean, m2) of each lane over ``steps`` vectors of the (R, k, 16, 8) chunks ``v``: (R, k, 8) each."""
    m1 = np.zeros(v.shape[:2] + (_LANES,), _F32)
    m2 = np.zeros_like(m1)
    for j in range(steps):
        xv = v[:, :, j]
        d = xv - m1
        m1 = fma32(_C[j], d, m1)
        m2 = fma32(d, xv - m1, m2)
    return m1, m2


def _merge(a, b):
    """The kernel's AddMomentsVec: moments ``a`` (count, m1, m2) added into ``b``."""
    na, m1a, m2a = a
    nb, m1, m2 = b
    if nb == 0:     # c = 1 and a zero m0: a's moments (a -0.0 made +0.0, as the kernel's adds do)
        return na, m1a + _F32(0), m2a + _F32(0)
    n = na + nb
    c = _F32(_F32(na) / _F32(n))
    d = m1a - m1
    m1 = m1 + _r(c * d)
    return n, m1, fma32(_r(d * c), _r(d * _F32(nb)), m2 + m2a)


def _cascade(stats, counts):
    """The kernel's binary cascade over the chunks' moments (lists, in row order): its stack of partial sums."""
    m = len(counts)
    depth = 1 if m <= 2 else (m - 1).bit_length()
    empty = (0, None, None)
    stk = [empty] * depth
    for i in range(m):
        stk[0] = _merge((counts[i],) + stats[i], stk[0])
        mask, j = i + 1, 1
        while j < depth and mask & 1 == 0:
            stk[j] = _merge(stk[j - 1], stk[j])
            stk[j - 1] = empty
            mask >>= 1
            j += 1
    for j in range(1, depth):
        if stk[j][0]:
            stk[0] = _merge(stk[j], stk[0])
    return stk[0]


def moments(x):
    """(mean, biased variance) of each row of the C-contiguous float32 (R, N) ``x``, as RowwiseMoments."""
    R, N = x.shape
    n = N // _LANES
    full, rest = divmod(n, _CHUNK)
    stats, counts = [], []
    if full:
        m1, m2 = _chunks(x[:, :full * _CHUNK * _LANES].reshape(R, full, _CHUNK, _LANES), _CHUNK)
        stats += [(m1[:, i], m2[:, i]) for i in range(full)]
        counts += [_CHUNK] * full
    if rest:
        lo = full * _CHUNK * _LANES
        m1, m2 = _chunks(x[:, lo:lo + rest * _LANES].reshape(R, 1, rest, _LANES), rest)
        stats.append((m1[:, 0], m2[:, 0]))
        counts.append(rest)
    s0, s1, s2 = 0, np.zeros(R, _F32), np.zeros(R, _F32)
    for i in range(n * _LANES, N):     # the scalar tail, unfused
        xi = x[:, i]
        d = xi - s1
        s0 += 1
        s1 = s1 + _r(d / _F32(s0))
        s2 = s2 + _r(d * (xi - s1))
    if n:
        _, m1, m2 = _cascade(stats, counts)
        for k in range(_LANES):     # AddMoments of each lane into the tail's, fused
            tot = s0 + n
            c = _F32(_F32(n) / _F32(tot))
            d = m1[:, k] - s1
            s1 = fma32(c, d, s1)
            s2 = s2 + fma32(_r(_r(d * d) * c), _F32(s0), m2[:, k])
            s0 = tot
    else:
        s1, s2 = s1 + _F32(0), s2 + _F32(0)
    return s1, _r(s2 / _F32(N))


def forward(x, eps, w, b):
    """(y, xhat, rstd) of float32 layer norm over the rows of the C-contiguous (R, N) ``x`` with float32 weight and
    bias vectors or None: PyTorch's values, rstd (R, 1); xhat = (x - mean) * rstd is what the backward uses."""
    mean, var = moments(x)
    rstd = _r(_F32(1) / np.sqrt(np.maximum(var, _F32(0)) + _F32(eps)))[:, None]
    xc = x - mean[:, None]
    xhat = xc * rstd
    if b is not None:
        return (fma32(xc, rstd, b) if w is None else fma32(xhat, w, b)), xhat, rstd
    y = xhat + _F32(0) if w is None else xhat * w
    if w is not None:
        y += _F32(0)    # the kernel's scalar loop adds a zero bias: -0.0 comes out +0.0
    return y, xhat, rstd
