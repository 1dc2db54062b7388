"""float32 layer norm as PyTorch's CPU kernel computes it, bit for bit.

PyTorch registers its layer-norm kernels with REGISTER_DISPATCH, which gives AVX-512 hosts the AVX2 build: 8-lane
Vectorized<float> with FMA, the same kernel on AVX2 and AVX-512 hosts. Its row statistics (RowwiseMoments) are
Welford's: chunks of 16 vectors (8 lanes each), the chunks merged by a binary cascade, then a scalar Welford over
the tail and the 8 lanes merged into it one after the other. Where the compiled kernel fuses a product into an add
was found by matching PyTorch 2.13 (the chunk merge's ``m2 + m2_add + delta * delta * c * m0`` is computed as
``fma(delta * c, delta * m0, m2 + m2_add)``; its mean update and the scalar tail are unfused). The output is ``fma((x - mean) * rstd, w, b)``."""
import numpy as np

from ...ops._distributions import _two_sum
from ...ops._fused import _clean, _suspects, fma32

_F32 = np.float32
_LANES, _CHUNK = 8, 16
_C = [_F32(_F32(1) / _F32(j + 1)) for j in range(_CHUNK)]     # the kernel's 1 / (j + 1) per step of a chunk
_C64 = [np.float64(c) for c in _C]
_HALVING = np.array([j - 1 for j in (1, 3, 7, 15)])    # the steps of _chunks' sums (from j = 1) where c is 2**-i


def _r(a):
    return a.astype(_F32, copy=False)


def _chunks(v, steps):
    """Welford's (mean, m2) of each lane over ``steps`` vectors of the (R, k, 16, 8) chunks ``v``: (R, k, 8) each.
    The fused steps go in float64 (the products exact) rounded once to float32, their sums and operands kept: where
    a sum was inexact and could have rounded twice (_suspects) the chunks are redone by fma32 at each step
    (_chunks_fma). The mean's steps by 1/2, 1/4, 1/8, 1/16 go in float32: the product is exact (short of
    float32's subnormals), so the sum rounds once; in float64 half of them sat on exact float32 midpoints, which
    _all_exact then had to test. GPT's (768, 128) forward, min of 200 interleaved (load ~3): 1.87 -> 1.56 ms (the
    rows route before: 0.124); the sums' check (_clean over 1.5 MB) is a good part of it."""
    k = steps - 1
    ops = np.empty((steps, 4) + v.shape[:2] + (_LANES,), _F32)   # per step: d, x - m1 (new), m1 (old), m2 (old)
    np.add(v[:, :, 0], _F32(0), out=ops[0, 2])      # the first step: m1 = x, m2 = 0
    ops[0, 3] = 0
    if not k:
        return ops[0, 2], ops[0, 3]
    sums = np.empty((k, 2) + ops.shape[2:])
    sums[_HALVING[_HALVING < k], 0] = 1.0
    for j in range(1, steps):
        xv = v[:, :, j]
        o, nxt = ops[j - 1], ops[j]
        d = np.subtract(xv, o[2], out=o[0])
        if j & (j + 1) == 0:     # c = 1 / (j + 1) a power of two
            np.add(o[2], d * _C[j], out=nxt[2])
        else:
            s = np.multiply(d, _C64[j], out=sums[j - 1, 0], dtype=np.float64)
            s += o[2]
            np.copyto(nxt[2], s, casting='same_kind')
        t = np.multiply(d, np.subtract(xv, nxt[2], out=o[1]), out=sums[j - 1, 1], dtype=np.float64)
        t += o[3]
        np.copyto(nxt[3], t, casting='same_kind')
    flat = sums.reshape(-1)
    if _clean(flat, np.empty(flat.size, np.int64)) or _all_exact(sums, ops, k):
        return ops[k, 2], ops[k, 3]
    return _chunks_fma(v, steps)


def _all_exact(sums, ops, k):
    """Whether every suspect sum of _chunks (one that might have rounded twice) is exact: the operands gathered
    at the suspects only (the mean's float32 steps hold 1.0, none)."""
    per = sums[0, 0].size
    sus = _suspects(sums).reshape(k, 2, per)
    o = ops[:k].reshape(k, 4, per)
    for which in (0, 1):
        step, at = np.nonzero(sus[:, which])
        if step.size:
            d = o[step, 0, at].astype(np.float64)
            p = d * np.array(_C64[1:])[step] if which == 0 else d * o[step, 1, at]
            if np.any(_two_sum(p, o[step, 2 + which, at].astype(np.float64))[1] != 0):
                return False
    return True


def _chunks_fma(v, steps):
    """_chunks by fma32 at each step."""
    m1 = np.zeros(v.shape[:2] + (_LANES,), _F32)
    m2 = np.zeros_like(m1)
    for j in range(steps):
        xv = v[:, :, j]
        d = xv - m1
        m1 = fma32(_C[j], d, m1)
        m2 = fma32(d, xv - m1, m2)
    return m1, m2


def _merge(a, b, fma):
    """The kernel's AddMomentsVec: moments ``a`` (count, m1, m2) added into ``b``, fused steps by ``fma``."""
    na, m1a, m2a = a
    nb, m1, m2 = b
    if nb == 0:     # c = 1 and a zero m0: a's moments (a -0.0 made +0.0, as the kernel's adds do)
        return na, m1a + _F32(0), m2a + _F32(0)
    n = na + nb
    c = _F32(_F32(na) / _F32(n))
    d = m1a - m1
    m1 = m1 + _r(c * d)
    return n, m1, fma(_r(d * c), _r(d * _F32(nb)), m2 + m2a)


def _cascade(stats, counts, fma):
    """The kernel's binary cascade over the chunks' moments (lists, in row order): its stack of partial sums."""
    m = len(counts)
    depth = 1 if m <= 2 else (m - 1).bit_length()
    empty = (0, None, None)
    stk = [empty] * depth
    for i in range(m):
        stk[0] = _merge((counts[i],) + stats[i], stk[0], fma)
        mask, j = i + 1, 1
        while j < depth and mask & 1 == 0:
            stk[j] = _merge(stk[j - 1], stk[j], fma)
            stk[j - 1] = empty
            mask >>= 1
            j += 1
    for j in range(1, depth):
        if stk[j][0]:
            stk[0] = _merge(stk[j], stk[0], fma)
    return stk[0]


def moments(x):
    """(mean, biased variance) of each row of the C-contiguous float32 (R, N) ``x``, as RowwiseMoments. The fused
    steps after the chunks go by _Deferred, and again by fma32 where one of them might have rounded twice."""
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
    fma = _Deferred()
    r = _combine(x, n, stats, counts, fma)
    return r if fma.exact() else _combine(x, n, stats, counts, fma32)


def _combine(x, n, stats, counts, fma):
    """RowwiseMoments after the chunks: the cascade, the scalar tail, the lanes added into it; fused steps by fma."""
    R, N = x.shape
    s0, s1, s2 = 0, np.zeros(R, _F32), np.zeros(R, _F32)
    for i in range(n * _LANES, N):     # the scalar tail, unfused
        xi = x[:, i]
        d = xi - s1
        s0 += 1
        s1 = s1 + _r(d / _F32(s0))
        s2 = s2 + _r(d * (xi - s1))
    if n:
        _, m1, m2 = _cascade(stats, counts, fma)
        for k in range(_LANES):     # AddMoments of each lane into the tail's, fused
            tot = s0 + n
            c = _F32(_F32(n) / _F32(tot))
            d = m1[:, k] - s1
            s1 = fma(c, d, s1)
            s2 = s2 + fma(_r(_r(d * d) * c), _F32(s0), m2[:, k])
            s0 = tot
    else:
        s1, s2 = s1 + _F32(0), s2 + _F32(0)
    return s1, _r(s2 / _F32(N))


class _Deferred:
    """fma32 with its check deferred: each call's float64 sum (the product exact) rounded once to float32, the
    operands kept; exact() then says whether none of the sums can have rounded twice, by one _clean over them all
    and a two-sum test of the suspects. A product by a power of two (the lanes' c = 1/2, 1/4, 1/8, counts 8, 16) is
    exact in float32 (short of subnormals), so that step is a float32 add: such steps gave most of the exact float32
    midpoints the test had to go through."""

    def __init__(self):
        self.log = []

    def __call__(self, a, b, c):
        for u, v in ((a, b), (b, a)):
            if np.ndim(u) == 0 and np.frexp(u)[0] in (0.5, 0):     # a product by 2**i (or 0) is exact in float32
                return _r(np.add(u * v, c, dtype=_F32))
        s = np.multiply(a, b, dtype=np.float64)
        s += c
        self.log.append((a, b, c, s))
        return s.astype(_F32)

    def exact(self):
        if not self.log:
            return True
        flat = np.concatenate([e[3].reshape(-1) for e in self.log])
        if _clean(flat, np.empty(flat.size, np.int64)):
            return True
        for a, b, c, s in self.log:
            idx = np.flatnonzero(_suspects(s))
            if idx.size:
                pick = (lambda v: np.broadcast_to(v, s.shape).reshape(-1)[idx].astype(np.float64))
                if np.any(_two_sum(pick(a) * pick(b), pick(c))[1] != 0):
                    return False
        return True


def forward(x, eps, w, b):
    """(y, xhat, rstd, Saved) of float32 layer norm over the rows of the C-contiguous (R, N) ``x`` with float32 weight
    and bias vectors or None: PyTorch's values, rstd (R, 1); xhat = (x - mean) * rstd for the parameters' gradients,
    Saved for the input's (input_grad)."""
    mean, var = moments(x)
    rstd = _r(_F32(1) / np.sqrt(np.maximum(var, _F32(0)) + _F32(eps)))[:, None]
    xc = x - mean[:, None]
    xhat = xc * rstd
    if b is not None:
        return (fma32(xc, rstd, b) if w is None else fma32(xhat, w, b)), xhat, rstd, Saved(x, mean)
    y = xhat + _F32(0) if w is None else xhat * w
    if w is not None:
        y += _F32(0)    # the kernel's scalar loop adds a zero bias: -0.0 comes out +0.0
    return y, xhat, rstd, Saved(x, mean)


class Saved:
    """What the float32 backward needs besides xhat and rstd: the rows of x and their means (a layer-norm node's
    ctx holds it where the half types hold their statistics)."""
    __slots__ = ('x', 'mean')

    def __init__(self, x, mean):
        self.x, self.mean = x, mean


def _row_sum(p, a, b):
    """Each row's sum of p = a * b (rounded) as PyTorch's map_reduce_all on 8 lanes: the first vector, then each
    next one added (unfused), the partial last vector fused as fma(a, b, acc) into its lanes (a None: added), and
    AVX2's tree over the 8 lanes; under 8 values, added in order."""
    R, N = p.shape
    if N < _LANES:
        acc = p[:, 0]
        for i in range(1, N):
            acc = acc + p[:, i]
        return acc
    n = N // _LANES
    acc = np.add.reduce(p[:, :n * _LANES].reshape(R, n, _LANES), axis=1)    # vector after vector
    k = N - n * _LANES
    if k:
        lo = n * _LANES
        acc[:, :k] = acc[:, :k] + p[:, lo:] if a is None else fma32(a[:, lo:], b[:, lo:], acc[:, :k])
    s = acc[:, :4] + acc[:, 4:]
    s = s[:, :2] + s[:, 2:]
    return s[:, 0] + s[:, 1]


def input_grad(dy, saved, rstd, w):
    """The input's gradient of float32 layer norm as PyTorch's kernel: per row ds = sum dy * x * w, db = sum dy * w
    (_row_sum), b = (db * mean - ds) * rstd**3 / N, c = -b * mean - db * rstd / N, dx = rstd * dy * w + b * x + c
    with the products the compiled kernel fuses (dy, x (R, N); rstd (R,); w (N,) or None)."""
    x, mean = saved.x, saved.mean
    R, N = x.shape
    dyx = dy * x
    if w is None:
        ds, db = _row_sum(dyx, dy, x), _row_sum(dy, None, None)
    else:
        wb = np.broadcast_to(w, x.shape)
        ds, db = _row_sum(dyx * w, dyx, wb), _row_sum(dy * w, dy, wb)
    scale = _F32(1) / _F32(N)
    a = rstd
    b = fma32(db, mean, -ds) * a * a * a * scale
    c = fma32(-b, mean, -(db * a * scale))
    ady = a[:, None] * dy
    gx = fma32(b[:, None], x, ady if w is None else ady * w)
    gx += c[:, None]
    return gx


def _blocks(m):
    """PyTorch's parallel_for over m rows at get_num_threads threads: contiguous runs of ceil(m / threads) rows."""
    from ... import get_num_threads
    step = -(-m // max(1, min(get_num_threads(), m)))
    return [(lo, min(m, lo + step)) for lo in range(0, m, step)]


def bias_grad(dy):
    """The bias's gradient as PyTorch's kernel: each thread's run of rows added row after row into a zeroed float32
    buffer (NumPy's reduce over axis 0 of C-ordered rows goes row after row; + 0 for the zeroed start), the buffers
    then added in thread order."""
    total = np.zeros(dy.shape[1], _F32)
    for lo, hi in _blocks(dy.shape[0]):
        run = dy[lo:hi]     # one column: NumPy's reduce would add it pairwise, as a 1-D array
        total += (np.add.reduce(run, axis=0) if run.shape[1] > 1 else np.add.accumulate(run, axis=0)[-1]) + _F32(0)
    return total


def weight_grad(dy, saved, rstd):
    """The weight's gradient as PyTorch's kernel: each thread's run of rows accumulated row after row into a zeroed
    float32 buffer as fma(dy, fma(rstd, x, -rstd * mean), buffer), the buffers then added in thread order."""
    x, mean = saved.x, saved.mean
    a = rstd[:, None]
    t = fma32(a, x, -(a * mean[:, None]))
    blocks = _blocks(x.shape[0])
    step = blocks[0][1] - blocks[0][0]
    same = sum(1 for lo, hi in blocks if hi - lo == step)     # the runs of the first's length go together
    bufs = list(_run_sums(dy[:same * step].reshape(same, step, -1), t[:same * step].reshape(same, step, -1)))
    for lo, hi in blocks[same:]:
        bufs += list(_run_sums(dy[lo:hi][None], t[lo:hi][None]))
    total = np.zeros(x.shape[1], _F32)
    for buf in bufs:
        total += buf
    return total


def _run_sums(dy, t):
    """fma(dy, t, buffer) over axis 1 of the (runs, rows, N) dy and t from zero buffers: (runs, N). Row after row in
    float64 (the products exact), each sum rounded once to float32; where one might have rounded twice (_suspects)
    and was inexact, fma32 row by row."""
    runs, rows, n = dy.shape
    p = np.multiply(dy, t, dtype=np.float64)
    sums = np.empty((rows, runs, n))
    buf = np.zeros((runs, n), _F32)
    for i in range(rows):
        s = np.add(p[:, i], buf, out=sums[i])
        buf = s.astype(_F32)
    flat = sums.reshape(-1)
    if _clean(flat, np.empty(flat.size, np.int64)):
        return buf
    prev = np.concatenate([np.zeros((1, runs, n)), sums[:-1].astype(_F32).astype(np.float64)])
    sus = _suspects(sums).reshape(sums.shape)
    if not np.any(_two_sum(p.transpose(1, 0, 2)[sus], prev[sus])[1] != 0):
        return buf
    buf = np.zeros((runs, n), _F32)
    for i in range(rows):
        buf = fma32(dy[:, i], t[:, i], buf)
    return buf
