"""PyTorch's CPU distribution kernels, from raw mt19937 words to samples, reproduced bit for bit in NumPy
(``ATen/core/TransformationHelper.h``, ``DistributionsHelper.h``, ``native/cpu/DistributionTemplates.h``).

Where PyTorch calls libm in double precision (log, log1p, exp, tan), these call glibc's functions through NumPy's
scalar loop (``libm``), or Python's ``math`` (the same libm) element by element: NumPy's own SIMD log/log1p/exp
differ from glibc's in the last bit for 0.4% / 8% / 4% of inputs (measured on 10^6 values). Where the result is rounded to something coarser than a double
(a float32 exponential, a geometric's ceil), ``libm_then`` keeps NumPy's value wherever that rounding cannot
tell the two apart. NumPy's sin and cos agreed with glibc on all 10^6 values
tried, and are used directly. PyTorch's kernels are compiled with FMA contraction, so ``x * std + mean``
rounds once there: ``fma64`` and ``_affine_inplace`` reproduce that."""
import functools
import math

import numpy as np

from .. import _bf16, _parallel
from ._boxmuller import box_muller16_f32

_F32, _F64 = np.float32, np.float64


# -- fused multiply-add --------------------------------------------------------------------------------
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_sum_into(x, y, s, bb, err):
    """_two_sum(x, y) into the scratch arrays ``s`` and ``err`` (``bb`` a third one), the same steps."""
    np.add(x, y, out=s)
    np.subtract(s, x, out=bb)
    np.subtract(s, bb, out=err)
    np.subtract(x, err, out=err)
    np.subtract(y, bb, out=bb)
    return s, np.add(err, bb, out=err)


_SPLIT = 134217729.0        # 2**27 + 1 (Veltkamp)


def fma64(a, b, c):
    """float64 fma, correctly rounded (Boldo & Melquiond's emulation through rounding to odd), in blocks of
    FMA64_BLOCK elements (_fma64_into) over five scratch arrays reused from block to block: the 26 temporaries of the
    operands' size the steps made and freed a call took most of its time, and more above 128 KiB, where each is
    mapped and faulted in anew. fma(-y, y, 1), medians of 30 interleaved, load 10-13: (1000, 50) 1019 -> 548 us,
    (4000, 50) 162 -> ~1.5 ms (blocks of 2**12 / 2**14 / 2**16 / whole on (1000, 50): 888 / 580 / 16191 / 30173 us)."""
    a, b, c = (np.asarray(v, _F64) for v in (a, b, c))
    shape = np.broadcast_shapes(a.shape, b.shape, c.shape)
    if not shape:
        return fma64(a.reshape(1), b.reshape(1), c.reshape(1))[0]
    n = math.prod(shape)
    m = min(n, FMA64_BLOCK)
    out = np.empty(shape, _F64)
    scratch = [np.empty(m, _F64) for _ in range(5)]
    if n <= m:
        return _fma64_into(a, b, c, out, [x.reshape(shape) for x in scratch])
    a, b, c = (x.reshape(-1) if x.shape == shape else x.reshape(()) if x.size == 1 else
               np.broadcast_to(x, shape).reshape(-1) for x in (a, b, c))
    flat = out.reshape(-1)
    for i in range(0, n, m):
        j = min(i + m, n)
        part = (lambda x: x[i:j] if x.ndim else x)
        _fma64_into(part(a), part(b), part(c), flat[i:j], [x[:j - i] for x in scratch])
    return out


FMA64_BLOCK = 1 << 14


def _fma64_into(a, b, c, out, scratch):
    """fma64 of a, b, c broadcast to ``out``'s shape, into ``out``; ``scratch``: five arrays of that shape. The
    steps of _two_prod and _two_sum in their order (so their values), each into an array it was the last use of."""
    p, ah, bh, al, bl, w = out, *scratch
    np.multiply(a, b, out=p)
    for x, hi, lo in ((a, ah, al), (b, bh, bl)):        # Veltkamp's split: hi = t - (t - x), t = x * (2**27 + 1)
        np.multiply(x, _SPLIT, out=hi)
        np.subtract(hi, x, out=lo)
        np.subtract(hi, lo, out=hi)
        np.subtract(x, hi, out=lo)
    ul = np.multiply(ah, bh, out=w)                     # ((ah*bh - p) + ah*bl + al*bh) + al*bl
    np.subtract(ul, p, out=ul)
    np.add(ul, np.multiply(ah, bl, out=ah), out=ul)
    np.add(ul, np.multiply(al, bh, out=bh), out=ul)
    np.add(ul, np.multiply(al, bl, out=al), out=ul)
    th, tl = _two_sum_into(c, p, ah, bh, al)
    v, err = _two_sum_into(tl, ul, bh, bl, p)
    with np.errstate(invalid='ignore'):
        odd = np.flatnonzero((err != 0) & ((v.view(np.int64) & 1) == 0))
    if odd.size:
        vf, ef = v.reshape(-1), err.reshape(-1)
        vf[odd] = np.nextafter(vf[odd], np.where(ef[odd] > 0, np.inf, -np.inf))
    return np.add(th, v, out=out)


def libm(fn, x):
    """``fn`` (``math.log``, ``log1p``, ``exp`` or ``tan``) over a float64 array, glibc's values: through NumPy's
    scalar loop (``_glibc``) where it calls glibc, else (or for fewer than _BY_ELEMENT values) element by element
    through ``math``."""
    ufunc = _glibc(fn) if x.size >= _BY_ELEMENT else None
    if ufunc is None:
        return np.fromiter(map(fn, x.ravel().tolist()), _F64, x.size).reshape(x.shape)
    return _behind(ufunc, x)


def _behind(ufunc, x):
    """``ufunc(x)`` written one element behind its input in one buffer. NumPy runs an output overlapping its input
    from behind (safe in forward order) without a copy, and its float64 log/log1p/exp/tan loops then take their
    scalar branch, the C library's function per element, not their SIMD code. 10^6 values: log 6 ms against 115
    element by element through ``math``, log1p 11 / 78, exp 6 / 72, tan 25 / 89 (one run, load ~7)."""
    n = x.size
    buf = np.empty(n + 2, _F64)
    buf[1:n + 1].reshape(x.shape)[...] = x
    buf[n + 1] = 0.5            # one more element in every function's domain: a single value overlaps too
    with np.errstate(all='ignore'):
        ufunc(buf[1:], out=buf[:-1])
    return buf[:n].reshape(x.shape)


_BY_ELEMENT = 32    # values below which ``math`` element by element is cheaper (log, min of 2000: 8 values 2.4 against
                    # 4.7 us, 32 5.0 / 4.9, 64 8.6 / 5.2)
_UFUNCS = {math.log: np.log, math.log1p: np.log1p, math.exp: np.exp, math.tan: np.tan}


def _probe(fn):
    """Inputs in ``fn``'s domain of which NumPy's SIMD loops get some in the last bit unlike glibc's (0.35%, 7%, 4%
    and 0.5% of arbitrary log, log1p, exp and tan inputs)."""
    x = np.arange(1, 4097) * 0.6180339887498949 % 1.0
    return {math.log: x, math.log1p: -x, math.exp: (x - 0.5) * 60, math.tan: (x - 0.5) * math.pi}[fn]


_GLIBC = {}


def _glibc(fn):
    """NumPy's ufunc for ``fn`` where ``_behind`` gives exactly ``fn``'s values (checked once per process on
    ``_probe``'s inputs, whole, as a short array of the ones NumPy's SIMD loop gets differently and as one of them),
    else None."""
    if fn not in _GLIBC:
        ufunc = _UFUNCS.get(fn)
        if ufunc is not None:
            x = _probe(fn)
            want = np.fromiter(map(fn, x.tolist()), _F64, x.size)
            few = np.flatnonzero(ufunc(x) != want)[:8]
            if not all(np.array_equal(_behind(ufunc, x[i]), want[i]) for i in (slice(None), few, few[:1])):
                ufunc = None
        _GLIBC[fn] = ufunc
    return _GLIBC[fn]


_BAND = 2.0 ** -48      # relative half-width of the interval certain to hold glibc's result given NumPy's
_NUMPY_TWIN = {math.log: np.log, math.log1p: np.log1p}


def libm_then(fn, x, finish):
    """``finish(fn(x))`` with glibc's ``fn`` (``math.log`` or ``math.log1p``, as PyTorch's kernels call them) over
    a float64 array, where ``finish`` is monotone and coarser than float64 (a rounding to float32 or float16, a
    ceil). NumPy's log and log1p differ from glibc's by at most one unit in the last place (measured on 2.4 * 10^6
    inputs each: 0.35% and 7.4% differ, none by more), so where ``finish`` maps the whole interval
    ``numpy_fn(x) * (1 +- 2**-48)`` (8 to 16 units either side) to one value, that value is glibc's; the rest
    (about 2**-25 of float32 roundings) take ``fn`` element by element. 1000 values: ~0.1 ms element by element,
    a few us this way."""
    with np.errstate(divide='ignore'):
        v = _NUMPY_TWIN[fn](x)
    out = finish(v)
    unsure = np.flatnonzero(finish(v * (1 - _BAND)) != finish(v * (1 + _BAND)))
    if unsure.size:
        out[unsure] = finish(libm(fn, x[unsure]))
    return out


# -- uniform -------------------------------------------------------------------------------------------
def unit_uniform(gen, n, nd):
    """``uniform_real_distribution<opmath>(0, 1)`` drawn n times: 53 bits of two words in float64 for
    double, 24 bits of one word in float32 for float and half."""
    if nd == np.float64:
        w = gen._words64(n)
        np.bitwise_and(w, _LOW53, w)
        u = w.astype(_F64)
        np.multiply(u, _TWO_POW_M53, u)
        return u
    w = gen._words32(n)                 # uint32 words, int32 conversion: 2.7 -> 2.1 ms for 10^6 (uint64 before)
    np.bitwise_and(w, _LOW24, w)
    u = w.view(np.int32).astype(_F32)
    np.multiply(u, _TWO_POW_M24, u)
    return u


def below(gen, n, q):
    """``unit_uniform(gen, n, float64) < q`` for 0 <= q <= 1 (PyTorch's bernoulli_ with a scalar probability,
    dropout's mask) as a bool array, compared on the words: u = w * 2^-53 (w the low 53 bits of a word, exact in a
    double) is below q exactly when w < ceil(q * 2^53) (q * 2^53 is exact), so the words are not made doubles and
    scaled (two passes of 8 bytes a draw). MNIST's (64, 64, 12, 12) dropout mask, min of 60: 4.34 -> 4.03 ms.
    The 64-bit word is its two 32-bit draws (high first), compared as a pair: its high 21 bits against the bound's,
    the low draw only where those are equal, and not at all when the bound's low 32 bits are zero (p a multiple of
    2^-21: 0.25, 0.5), so no 64-bit words are put together. That mask, min thread CPU of 100, 3 runs: 4.37-4.53 ->
    3.57-3.81 ms (1/3: 3.99-4.14; the draws alone 3.2)."""
    bound = math.ceil(q * 2.0 ** 53)
    hi_bound, lo_bound = np.uint32(bound >> 32), np.uint32(bound & 0xFFFFFFFF)
    w = gen._words32(2 * n).reshape(n, 2)
    hi = np.bitwise_and(w[:, 0], _LOW21)
    kept = np.less(hi, hi_bound)
    if lo_bound:
        kept |= np.equal(hi, hi_bound) & np.less(w[:, 1], lo_bound)
    return kept


# 0-d array constants: a Python scalar operand costs a small draw's ufunc call ~0.3 us more (_boxmuller.py)
_LOW53, _TWO_POW_M53 = np.array((1 << 53) - 1, np.uint64), np.array(2.0 ** -53)
_LOW21 = np.array((1 << 21) - 1, np.uint32)
_LOW24, _TWO_POW_M24 = np.array(0xFFFFFF, np.uint32), np.array(2.0 ** -24, _F32)


_BATCH = 1 << 20     # samples drawn and transformed per pass: bounds the uint64 and float64 temporaries


def uniform(gen, n, nd, low, high):
    """``uniform_(low, high)``: fma(x, to - from, from) in float (double for double), cast to the dtype; a
    value that the cast rounds up to ``to`` becomes ``from``, keeping the range half-open. Large tensors
    are drawn in batches (same stream, bounded memory: a VGG's 100M weights need no 800 MB of words)."""
    if n > _BATCH:
        out = np.empty(n, nd)
        for start in range(0, n, _BATCH):
            out[start:start + _BATCH] = uniform(gen, min(_BATCH, n - start), nd, low, high)
        return out
    x = unit_uniform(gen, n, nd)
    if low == 0 and high == 1:
        if x.dtype == nd:
            return x            # u < 1 in float and double: nothing rounds up to ``to``
        v = x.astype(nd, copy=False)
    else:
        work = x.dtype.type
        lo = work(low)
        v = _affine_inplace(x, work(work(high) - lo), lo).astype(nd, copy=False)
    if _bf16.is_bf16(nd):   # rounded here, as the cast rounds, so that a value rounding up to ``to`` is seen
        v = _bf16.round_f32(v.astype(np.float32)).astype(nd)
        top, bottom = nd.type(_bf16.round_f32(np.float32(high))[()]), nd.type(_bf16.round_f32(np.float32(low))[()])
    else:
        top, bottom = nd.type(high), nd.type(low)
    if v.size and (v == top).any():
        v[v == top] = bottom
    return v


_AFFINE_BLOCK = 1 << 16    # float64 scratch per pass of the general float32 case: 512 KiB, not kept


def _affine_inplace(x, span, lo):
    """``fma(x, span, lo)`` in x's precision, into x (uniforms u = k * 2**-24 or k * 2**-53). A symmetric range
    (lo = -span / 2 < 0, as every default layer init and ``uniform_(-b, b)``) is ``(2u - 1) * -lo``: 2u - 1 is
    exact, so one rounded product gives the fma's value (10^6 float32: 6.6 -> 2.4 ms with the draw, min of 15).
    Otherwise float32 goes through float64 blocks (the product of two floats is exact there, rounded once) and
    double through the emulated fma."""
    if lo < 0 and span == -2 * lo:
        np.multiply(x, 2, out=x)
        np.subtract(x, 1, out=x)
        np.multiply(x, -lo, out=x)
        return x
    if x.dtype == _F64:
        return fma64(x, span, lo)
    t = np.empty(min(x.size, _AFFINE_BLOCK), _F64)
    for i in range(0, x.size, _AFFINE_BLOCK):
        blk = x[i:i + _AFFINE_BLOCK]
        tb = t[:blk.size]
        np.multiply(blk, _F64(span), out=tb)
        np.add(tb, _F64(lo), out=tb)
        np.copyto(blk, tb, casting='same_kind')
    return x


# -- normal --------------------------------------------------------------------------------------------
def _box_muller16_f64(u, mean, std):
    """``normal_fill_16<double>``: the same pairing in double precision with libm."""
    radius = np.sqrt(-2.0 * libm(math.log, 1.0 - u[:, :8]))
    theta = 2.0 * math.pi * u[:, 8:]
    out = np.empty_like(u)
    out[:, :8] = radius * np.cos(theta)
    out[:, 8:] = radius * np.sin(theta)
    return affine64(out, mean, std)


def affine64(v, mean, std):
    """``v * std + mean`` rounded once, as PyTorch's contracted kernels compute it."""
    if mean == 0:
        return v * std if std != 1 else v
    if std == 1:
        return v + mean
    return fma64(v, std, mean)


def normal_fill(gen, n, nd, mean, std, out=None):
    """PyTorch's path for a contiguous tensor of 16 or more elements: uniforms, then Box-Muller over blocks
    of 16; when n is not a multiple of 16, 16 fresh uniforms redo the last 16 values. Float and double
    draw all n uniforms first; half draws only the 16 of each block (in float, then casts). Whole blocks
    go in batches: the draws come in the same order, with bounded temporaries. ``out``: n contiguous values
    of the working dtype (float, or double for double) to fill in place of a new array."""
    work = np.float64 if nd == np.float64 else np.float32
    k = n // 16
    if out is None:
        out = np.empty(n, work)
    if n % 16 and n <= _FUSED_TAIL:
        _fill_with_tail(gen, n, nd, work, mean, std, out)
        return out.astype(nd, copy=False)
    fill = _blocks_f64 if work == np.float64 else _blocks_f32
    rows = _BATCH // 16
    for r in range(0, k, rows):
        m = min(rows, k - r)
        fill(gen, mean, std, out[16 * r:16 * (r + m)].reshape(m, 16))
    if n % 16:
        if nd == work:          # float and double draw the tail's uniforms too; the redone block overwrites them
            unit_uniform(gen, n - 16 * k, work)
        fill(gen, mean, std, out[n - 16:].reshape(1, 16))
    return out.astype(nd, copy=False)


_FUSED_TAIL = 1 << 15   # samples up to which the redone last block joins the others' pass: one kernel call, not two


def _fill_with_tail(gen, n, nd, work, mean, std, out):
    """``normal_fill``'s whole blocks and its redone last block as one (k + 1)-row pass over the same words (the
    kernel's cost is mostly per call at these sizes: randn(1, 8, 65) two calls -> one)."""
    k = n // 16
    skip = n - 16 * k if nd == work else 0
    if work == np.float32:       # raw words for the float kernel, double uniforms for the double one
        drawn = gen._words32(16 * k + skip + 16)
    else:
        drawn = unit_uniform(gen, 16 * k + skip + 16, np.float64)
    rows = np.concatenate((drawn[:16 * k], drawn[16 * k + skip:])).reshape(k + 1, 16)
    res = np.empty((k + 1, 16), work)
    if work == np.float32:
        box_muller16_f32(rows, mean, std, res)
    else:
        res[...] = _box_muller16_f64(rows, mean, std)
    out[:16 * k] = res[:k].reshape(-1)
    out[n - 16:] = res[k]


def _blocks_f32(gen, mean, std, out):
    """Fill ``out`` (rows of 16) with float32 normals from as many fresh words (``_boxmuller.py``). At
    set_num_threads >= 2 a large draw goes in _PIECES pieces, each piece's words drawn on a second thread while
    this one turns the previous piece's into normals: NumPy's MT19937 fill holds no GIL, and the draws still come
    one after another, in order. randn(10^6) at 2 threads, 15 interleaved runs of 5: min 7.81 -> 7.07 ms,
    median 8.09 -> 7.33. The Box-Muller passes themselves are not split: cut across threads, their GIL round
    trips (~90 passes of 64 KB a chunk) made it 7.7 -> 14 ms; the next piece's radius half on the worker (after
    its words, a scratch of its own) beside this piece's sincos half lost too, 10.6 -> 14.0 ms (median of 12
    interleaved, real-time priority, load ~9)."""
    rows = out.shape[0]
    if rows < _OVERLAP_ROWS or _parallel.threads() < 2:
        box_muller16_f32(gen._words32(out.size).reshape(out.shape), mean, std, out)
        return
    cuts = _parallel.spans(rows, _PIECES)
    drawn = [gen._words32(16 * (cuts[0][1] - cuts[0][0])).reshape(-1, 16)]

    def draw(lo, hi):
        drawn.append(gen._words32(16 * (hi - lo)).reshape(-1, 16))

    def normals(words, lo, hi):
        box_muller16_f32(words, mean, std, out[lo:hi], rows)
    for i, (lo, hi) in enumerate(cuts):
        words = drawn[i]
        if i + 1 < len(cuts):       # this thread takes the normals, a worker the next draw (or this thread, after)
            _parallel.each(lambda fn, *args: fn(*args), [(normals, words, lo, hi), (draw, *cuts[i + 1])])
        else:
            normals(words, lo, hi)
        drawn[i] = None


_OVERLAP_ROWS = 1 << 13     # rows of 16 from which _blocks_f32 draws beside the Box-Muller passes (131072 normals)
_PIECES = 8


def _blocks_f64(gen, mean, std, out):
    out[...] = _box_muller16_f64(unit_uniform(gen, out.size, np.float64).reshape(out.shape), mean, std)


def normal_serial(gen, n, mean, std):
    """``normal_distribution<double>`` drawn n times (small or strided tensors): each fresh pair of uniforms
    gives r*cos (returned) and r*sin (cached in the generator for the next draw)."""
    out = np.empty(n, _F64)
    start = 0
    if n and gen._normal_double is not None:
        out[0] = gen._normal_double
        gen._normal_double = None
        start = 1
    pairs = (n - start + 1) // 2
    if pairs:
        u = (gen._words64(2 * pairs) & np.uint64((1 << 53) - 1)).astype(_F64) * 2.0 ** -53
        r = np.sqrt(-2.0 * libm(math.log1p, -u[1::2]))
        theta = 2.0 * math.pi * u[0::2]
        both = np.empty(2 * pairs, _F64)
        both[0::2] = r * np.cos(theta)
        both[1::2] = r * np.sin(theta)
        out[start:] = both[:n - start]
        if (n - start) % 2:
            gen._normal_double = float(both[-1])
    return affine64(out, mean, std)


def normal(gen, n, nd, mean, std, contiguous=True):
    """``normal_(mean, std)`` on n elements of dtype nd, taking PyTorch's path for the layout."""
    if contiguous and n >= 16:
        return normal_fill(gen, n, nd, mean, std)
    return normal_serial(gen, n, mean, std).astype(nd)


# -- integers ------------------------------------------------------------------------------------------
def randint(gen, n, low, high, nd):
    """``random_(low, high)``: a word (two, as ``random64()``, for ranges of 2**28 or more: PyTorch's bound
    for a modulo skew under about 5%) modulo the range, plus low (for a floating dtype, bounds already moved by
    ``float_bounds``)."""
    span = high - low
    if span >= 1 << 28:
        w = _mod64(gen._words64(n), span).view(np.int64)      # below span < 2**64: an int64's bits when it fits
        if span < 1 << 63:
            np.add(w, np.int64(low), out=w)
            return cast(w, nd)
        return cast(w.view(np.uint64).astype(np.int64) + low, nd)
    w = gen._words32(n)
    _mod32(w, span)
    out = np.empty(n, np.int64)
    np.add(w, np.int64(low), out=out)
    return cast(out, nd)


# a floating dtype's digits, C++ name (in PyTorch's messages) and largest value
FLOAT_LIMITS = {np.dtype(np.float16): (11, 'c10::Half', 65504),
                np.dtype(np.float32): (24, 'float', int(np.finfo(_F32).max)),
                np.dtype(np.float64): (53, 'double', int(np.finfo(_F64).max)),
                _bf16.NP: (8, 'c10::BFloat16', int(_bf16.from_bits(0x7F7F)))}


def cast(ints, nd):
    """int64 values in dtype nd (bfloat16 rounded from float, as ``static_cast<BFloat16>`` rounds)."""
    if _bf16.is_bf16(nd):
        return _bf16.from_f32(ints.astype(_F32))
    return ints.astype(nd, copy=False)


def _to_float_int(v, nd):
    """The integer ``v`` cast to the floating dtype nd and back to an integer."""
    return int(cast(np.array(v, np.int64), nd)[()])


def float_bounds(low, high, nd):
    """PyTorch's ``update_from``/``update_to`` for a floating dtype: ``low`` moved up and ``high`` down to the
    next integers the dtype holds, so that no sample casts to a value outside [low, high)."""
    digits = FLOAT_LIMITS[nd][0]
    up = _to_float_int(low + 1, nd)
    if up < low:
        low = up + (1 << (abs(low + 1).bit_length() - 1 - digits + 1))
    down = _to_float_int(high - 1, nd)
    if down >= high:
        high = down - (1 << (abs(high - 1).bit_length() - 1 - digits + 1))
    return low, high


def _mod64(w, d):
    """``w %= d`` for uint64 words and 0 < d < 2**64, as _mod32 (10^6 words: 1.9 -> 0.9 ms)."""
    q = w // np.uint64(d)
    np.multiply(q, np.uint64(d), out=q)
    np.subtract(w, q, out=w)
    return w


def _mod32(w, d):
    """``w %= d`` for uint32 words and 0 < d < 2**32, as w - (w // d) * d: NumPy divides by a scalar in SIMD but
    takes the remainder element by element (10^6 words: 0.25 against 1.7 ms)."""
    q = w // np.uint32(d)
    np.multiply(q, np.uint32(d), out=q)
    np.subtract(w, q, out=w)
    return w


def randperm(gen, n):
    """``randperm(n)`` as PyTorch's CPU kernel: a Fisher-Yates pass that swaps position i with i + w % (n-i)."""
    if n < (1 << 32) // 20:
        if n <= 1:
            return np.arange(n, dtype=np.int64)
        w = gen._words32(n - 1)
        return _apply_swaps(_mod_array(w, *_divisors(n)), n)
    return _randperm_inside_out(gen, n)


def _mod_array(w, d, df):
    """``w % d`` for uint32 words and divisors 0 < d < 2**32 (``df``: d as float64), as w - trunc(w / d) * d with
    the quotient in float64. Exact: w / d lies at least 1/d from the next integer up, more than half its ulp (at
    most 2**-21 / d), so the rounded quotient never reaches it. NumPy divides in SIMD where it takes an integer
    remainder by an array element by element (60000 words: 102 -> 78 us); the words made float64 by a plain
    cast and divided by float64 divisors, where the mixed uint32 divide cast both in its buffers: 83 -> 67 us."""
    q = w.astype(np.float64)
    np.divide(q, df, out=q)
    qi = q.astype(np.uint32)
    np.multiply(qi, d, out=qi)
    return np.subtract(w, qi, out=qi)


def _divisors(n):
    """randperm(n)'s divisors n, n - 1, ..., 2 as uint32 and float64 (kept for the last few n up to 2**18: a
    shuffled sampler draws the same n every epoch)."""
    return _divisors_kept(n) if n <= 1 << 18 else _divisors_made(n)


def _divisors_made(n):
    d = np.arange(n, 1, -1, dtype=np.uint32)
    df = d.astype(np.float64)
    d.flags.writeable = df.flags.writeable = False
    return d, df


_divisors_kept = functools.lru_cache(maxsize=2)(_divisors_made)


class _Laswp:
    """LAPACK's ``dlaswp`` (row interchanges: ``for i: swap rows i and ipiv[i]``) from the OpenBLAS NumPy
    loaded, checked once against a Python loop before use; None-valued where missing or wrong."""

    def __init__(self):
        self.fn = self.integer = None
        self.ready = False

    def init(self):
        self.ready = True
        from ..backend import lapack_routine
        found = lapack_routine('dlaswp')
        if found is None:
            return
        self.fn, self.integer = found
        z = np.array([3, 1, 4, 4, 6, 5, 6], np.int64)
        want = list(range(7))
        for i, k in enumerate(z.tolist()):
            want[i], want[k] = want[k], want[i]
        if self(z, 7).tolist() != want:
            self.fn = None

    def __call__(self, z, n):
        """``r = arange(n)`` after ``swap(r[i], r[z[i]])`` for i in order, the int64 values moved as doubles
        (bit patterns copied, never computed on)."""
        return self.shifted((z + 1).astype(np.dtype(self.integer), copy=False), n)

    def shifted(self, ipiv, n):
        """``__call__`` for ``ipiv = z + 1`` (1-based, LAPACK's integer type), handed to dlaswp as it is."""
        import ctypes
        r = np.arange(n, dtype=np.int64)
        ref, ptr = ctypes.byref, ctypes.c_void_p
        one = self.integer(1)
        # addresses through .ctypes.data: .ctypes.data_as leaves a reference cycle per call for the collector
        self.fn(ref(one), ptr(r.ctypes.data), ref(self.integer(n)), ref(one), ref(self.integer(ipiv.size)),
                ptr(ipiv.ctypes.data), ref(one))
        return r


_LASWP = _Laswp()


def _apply_swaps(offsets, n):
    """``r = arange(n); for i < n - 1: swap r[i], r[z[i]]`` for z[i] = i + offsets[i] (uint32). LAPACK's dlaswp
    runs this very loop in C (60000 swaps: 0.07 ms, against 1.9 ms for the vectorised replay, which serves where
    NumPy has no OpenBLAS). Its 1-based pivots are made in its integer type from the offsets, with no int64 z
    between (60000: ~40 us less)."""
    if not _LASWP.ready:
        _LASWP.init()
    if _LASWP.fn is not None:
        it = np.dtype(_LASWP.integer)
        ipiv = offsets.astype(it)
        ipiv += np.arange(1, n, dtype=it)
        return _LASWP.shifted(ipiv, n)
    z = offsets.astype(np.int64)
    z += np.arange(n - 1, dtype=np.int64)
    return _replay_swaps(np.append(z, n - 1))


def _replay_swaps(z):
    """The result of ``for i: r[i], r[z[i]] = r[z[i]], r[i]`` on r = arange(n), for z[i] >= i (indices in
    int32 where n allows: half the memory traffic of int64)."""
    n = z.size
    it = np.int32 if n < 1 << 31 else np.int64
    z = z.astype(it, copy=False)
    order = _stable_argsort(z).astype(it, copy=False)    # steps grouped by target, in step order
    zs = z[order]
    same = zs[1:] == zs[:-1]
    prev = np.empty(n, it)                        # the last earlier step writing the same position
    prev[order[0]] = -1
    prev[order[1:]] = np.where(same, order[:-1], -1)
    ends = np.ones(n, bool)                       # the last step of each target group
    ends[:-1] = ~same
    last, tgt = order[ends], zs[ends]
    root = np.arange(n, dtype=it)                 # v(i): the last step j < i targeting i, else i itself
    before = np.where(last == tgt, prev[last], last)
    root[tgt] = np.where(before >= 0, before, tgt)
    while True:                                   # v(i) = v(that step), down to a never-written position
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    return np.where(prev >= 0, root[prev], z).astype(np.int64)


def _stable_argsort(z):
    """Stable argsort of non-negative integers below 2**32 by 16-bit radix passes (NumPy radix-sorts
    uint16 stably: 0.4 ms for 60000 values, against 3.1 ms for int64's timsort)."""
    order = np.argsort((z & 0xFFFF).astype(np.uint16), kind='stable')
    if z.size and z.max() >= 1 << 16:
        order = order[np.argsort((z[order] >> 16).astype(np.uint16), kind='stable')]
    return order


def _randperm_inside_out(gen, n):
    """PyTorch's path for n >= 2**32 / 20: the inside-out shuffle with 64-bit words."""
    r = np.empty(n, np.int64)
    z = (gen._words64(n) % (np.arange(n, dtype=np.uint64) + np.uint64(1))).astype(np.int64)
    for i in range(n):
        r[i] = r[z[i]]
        r[z[i]] = i
    return r
