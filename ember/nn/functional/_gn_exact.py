"""float32 group norm as PyTorch's CPU kernel computes it (contiguous input), bit for bit.

Each (sample, group) row's moments are layer norm's RowwiseMoments (_ln_exact.moments); rstd = 1 / sqrt(var + eps)
in double (eps is a double there), rounded to float32. The output is fma(scale, x, bias) with scale = rstd * w and
bias = fma(-scale, mean, b). The backward sums dy * x and dy per (sample, channel) plane as map2_reduce_all /
reduce_all (_ln_exact._row_sum, unfused), weights them by w within each group in 8 lanes of fmas, then
c2 = fma(db, mean, -ds) rstd^3 / (D HW), c3 = fma(-db rstd, 1 / (D HW), -c2 mean) and dx = fma(c1, dy, c2 x) + c3;
the weight's gradient adds fma(fma(-db, mean, ds), rstd, acc) over the batch. Which products the compiled kernel
fuses was found by matching PyTorch 2.13 (AVX-512 host, the AVX2 build) over the shapes of tests/test_exact_c.py."""
import numpy as np

from ...ops._fused import fma32
from ._ln_exact import _row_sum, moments
from ..._parallel import threads as _threads

_F32 = np.float32
_LANES = 8


class Saved:
    """What the exact backward needs: the input as (N, C, HW) planes and each (sample, group)'s mean and rstd."""
    __slots__ = ('x', 'mean', 'rstd')

    def __init__(self, x, mean, rstd):
        self.x, self.mean, self.rstd = x, mean, rstd


def takes(x, w, b):
    """Whether the exact kernel reproduces this group norm: float32 C-contiguous input, float32 parameters."""
    return (x.dtype == _F32 and x.flags.c_contiguous and x.ndim >= 2
            and all(t is None or t.dtype == _F32 for t in (w, b)))


def forward(x, G, w, b, eps):
    """(y, Saved) of float32 group norm of the C-contiguous ``x`` (N, C, ...) in PyTorch's steps."""
    N, C = x.shape[:2]
    rows = x.reshape(N * G, -1)
    mean, var = moments(rows)
    rstd = (1.0 / np.sqrt(np.maximum(var, _F32(0)).astype(np.float64) + eps)).astype(_F32)
    planes = x.reshape(N, C, -1)
    saved = Saved(planes, mean.reshape(N, G), rstd.reshape(N, G))
    if w is None and b is None:
        return ((rows - mean[:, None]) * rstd[:, None]).reshape(x.shape), saved
    D = C // G
    scale = rstd.reshape(N, G, 1) * (np.ones((G, D), _F32) if w is None else w.reshape(G, D))
    beta = np.zeros((G, D), _F32) if b is None else b.reshape(G, D)
    bias = fma32(-scale, mean.reshape(N, G, 1), beta)
    y = fma32(scale.reshape(N, C, 1), planes, bias.reshape(N, C, 1))
    return y.reshape(x.shape), saved


def _weighted_sums(v, gw, serial):
    """Each (sample, group)'s sum of v * w over its D channels (v (N, G, D), gw (G, D)) as CalcDsDb: 8 lanes of
    fmas over the whole vectors, the lanes added in order from 0, then the tail one by one. The tail's products are
    fmas in the copy of the loop PyTorch's OpenMP threads run; its serial copy (``serial``: one thread, or one row)
    rounds the products of each whole 4 of the tail before adding them (no fma) and fuses the rest, which matched
    PyTorch 2.13 for tails of 1-7 at 1 and 2 threads (tests/test_exact_c.py)."""
    N, G, D = v.shape
    d = D // _LANES * _LANES
    acc = np.zeros((N, G, _LANES), _F32)
    for j in range(0, d, _LANES):
        acc = fma32(v[:, :, j:j + _LANES], gw[:, j:j + _LANES], acc)
    s = np.zeros((N, G), _F32)
    for lane in range(_LANES):
        s = s + acc[:, :, lane]
    split = d + (D - d) // 4 * 4 if serial else d
    for j in range(d, split):
        s = s + v[:, :, j] * gw[:, j]
    for j in range(split, D):
        s = fma32(v[:, :, j], gw[:, j], s)
    return s


def backward(dy, saved, w, G, need):
    """(gx, gw, gb) of float32 group norm from the upstream gradient ``dy`` (the input's shape), None where not
    ``need``ed, in PyTorch's steps (see the module's docstring)."""
    x, mean, rstd = saved.x, saved.mean, saved.rstd
    N, C, HW = x.shape
    D = C // G
    dyp = np.ascontiguousarray(dy, dtype=_F32).reshape(N * C, HW)
    xr = x.reshape(N * C, HW)
    ds = _row_sum(dyp * xr, None, None).reshape(N, G, D)
    db = _row_sum(dyp, None, None).reshape(N, G, D)
    gx = gw = gb = None
    if need[0]:
        gam = np.ones((G, D), _F32) if w is None else w.reshape(G, D)
        serial = N * G == 1 or _threads() == 1
        dsv, dbv = _weighted_sums(ds, gam, serial), _weighted_sums(db, gam, serial)
        s = _F32(1) / _F32(D * HW)
        c2 = fma32(dbv, mean, -dsv) * rstd * rstd * rstd * s
        c3 = fma32(-(dbv * rstd), s, -c2 * mean)
        c1 = (rstd[:, :, None] * gam).reshape(N, C, 1)
        c2c, c3c = (np.repeat(c, D, axis=1)[:, :, None] for c in (c2, c3))
        gx = fma32(c1, dyp.reshape(N, C, HW), c2c * x)
        gx += c3c
        gx = gx.reshape(dy.shape)
    if need[1] and w is not None:
        acc = np.zeros((G, D), _F32)
        for n in range(N):
            acc = fma32(fma32(-db[n], mean[n][:, None], ds[n]), rstd[n][:, None], acc)
        gw = acc.reshape(C)
    if need[2]:
        acc = np.zeros((G, D), _F32)
        for n in range(N):
            acc = acc + db[n]
        gb = acc.reshape(C)
    return gx, gw, gb
