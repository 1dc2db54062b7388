"""Fused multiply-add, as PyTorch's CPU kernels compute ``add``/``sub`` with ``alpha``, ``lerp`` and ``addcmul``.

PyTorch 2.13's kernels here are compiled with FMA contraction: ``a + alpha * b`` rounds once, and rounding the
product first differs in the last bit for 5-25% of float32 results (measured on 10^6 values). Float32: the
product of two float32s is exact in float64, so ``p + c`` in float64 rounded to float32 is the fused result
except where double rounding bites (the float64 sum inexact and on a float32 midpoint, or a float32-subnormal
result): only those elements are moved one float64 ulp toward the exact sum (rounding to odd) before the cast,
and a block with none of them (nearly all) is found so by one cheap whole-block test (_clean).
Float64 uses ``fma64`` (Boldo-Melquiond); float16/bfloat16 are computed as float32 and rounded, as PyTorch does. The
in-place ``out += alpha * b`` goes to BLAS ?axpy instead where the loaded one rounds once (_axpy_)."""
import math
import struct
import threading

import numpy as np

from .. import _bf16, _parallel, backend
from ._distributions import fma64, _two_sum

_F32, _F64, _I64, _U64 = (np.dtype(t) for t in (np.float32, np.float64, np.int64, np.uint64))
_LOW29, _HALF29 = np.int64((1 << 29) - 1), np.int64(1 << 28)    # float64 bits below float32's last mantissa bit
_TINY32 = np.float32(2.0 ** -126)
_MIN64 = np.int64(np.iinfo(np.int64).min)
_TINY_BITS = np.uint64(0x3810000000000000)                  # 2**-126's float64 bits
_NEG_TINY_BITS = np.int64(0x3810000000000000 - (1 << 63))   # -2**-126's, as int64 (-0.0 is INT64_MIN)
# elements done at a time in float64 scratch (two blocks of 2 MiB; the passes' Python overhead falls with size).
# fma_ of 2M float32, min of 60 interleaved, ms: blocks of 2**14 3.37, 2**15 3.19, 2**16 2.87, 2**17 2.75. At 2
# threads each span's ~14 NumPy calls a block queue for the GIL against the other span's: p.add_(g, alpha=-20) on
# 2M float32, min of 30 interleaved (chrt), 2**17 -> 2**18: dense 3.13 -> 2.13 ms, 90% zero 1.44 -> 1.18 (1 thread,
# thread time: 3.29 -> 3.12, 2.09 -> 2.05); the two spans' CPU time went 2.9-3.0 -> 2.0 ms each against 1.5 alone
BLOCK = 1 << 18
_PASS_BYTES = 64    # bytes an element's passes move (8 float64 passes): _parallel.blocks' measure of the work


def fma(a, b, c, dtype):
    """``a * b + c`` rounded once to the floating NumPy ``dtype`` (ember's bfloat16 included); operands are
    arrays or numbers, converted to the computing dtype (float32 for the half types) and broadcast."""
    if dtype == _F64:
        return _fma64(a, b, c)
    r = fma32(a, b, c)
    if dtype == _F32:
        return r
    return _bf16.from_f32(r) if _bf16.is_bf16(dtype) else r.astype(dtype)


def _fma64(a, b, c):
    """float64 fma; where the emulation overflows or meets inf/nan (its splits are not finite) the plain
    ``a * b + c`` gives the IEEE result, and where it gives zero, the zero's sign (_zero_signs). fma64's new array
    is kept (not copied), and two reductions (nan and inf show in the max or the min) find an all-finite result
    without a mask."""
    a, b, c = (np.asarray(v, _F64) for v in (a, b, c))
    shape = np.broadcast_shapes(a.shape, b.shape, c.shape)
    with np.errstate(over='ignore', invalid='ignore', under='ignore'):
        r = fma64(a, b, c)
        r = np.array(r, _F64) if r.ndim == 0 else r
        if r.size and not (np.isfinite(r.max()) and np.isfinite(r.min())):
            bad = ~np.isfinite(r)
            plain = np.broadcast_to(a * b + c, shape)
            r[bad] = plain[bad]
        if r.size and np.count_nonzero(r) < r.size:
            _zero_signs(r, a, b, c, shape)
    return r


def _zero_signs(r, a, b, c, shape):
    """Give the zeros of the fma ``r`` (float64) their IEEE signs, which the emulation's last sum loses (-0.0 +
    (+0.0 * -5.66) gave +0.0): an exact zero has a * b = -c exactly, so the plain ``a * b + c`` has fma's sign rules;
    a product too small for float64 (nonzero operands, c zero) rounds to zero with its own sign, a * b's."""
    zero = np.flatnonzero(r.reshape(-1) == 0)
    pick = (lambda x: np.broadcast_to(x, shape).reshape(-1)[zero])
    a, b, c = pick(a), pick(b), pick(c)
    q = a * b
    r.reshape(-1)[zero] = np.where((q == 0) & (a != 0) & (b != 0), q, q + c)


_SPLIT = 134217729.0                # 2**27 + 1: Veltkamp's split of a double into two 26-bit halves
_HALF_ULP_BELOW_1 = 2.0 ** -54


def one_minus_square64(y):
    """``fma(-y, y, 1)`` (tanh's derivative 1 - y*y rounded once, as PyTorch's float64 tanh_backward) for a float64
    array ``y``, from y*y's exact error (QD's two-square) instead of _fma64's general emulation: for |y| <= 1,
    r = 1 - p (p = y*y) and its error t are exact (Fast2Sum, 1 >= p), and r + fl(t - e) is the fma's value except
    where that sum is a tie, which here means |t - e| == 2**-54 (r is in [0.5, 1] unless p >= 0.5, where t = 0
    and t - e is exact): those few, and any |y| > 1 or nan, go to _fma64. Every value equals _fma64's. (1000, 50)
    float64, medians of 40 interleaved (load 7.7): 10.2 -> 0.60 ms; a PINN's step (2-50-50-50-1 tanh MLP, 1000
    points, Poisson residual through two create_graph grads, Adam), medians of 16 interleaved: 257 -> 110 ms.
    In blocks of OMS_BLOCK over scratch reused from block to block: arrays above 128 KiB are mapped and faulted in
    anew by each allocation. Medians of 15 interleaved, load 13, blocks of 2**12 / 2**13 / 2**14 / 2**15 / 2**16 /
    whole: (1000, 50) 325 / 267 / 245 / 253 / 857 / 798 us, (4000, 50) 1955 / 1487 / 1075 / 1206 / 1606 / 38868."""
    shape = np.shape(y)
    y = np.asarray(y, _F64).reshape(-1)
    n = y.size
    out = np.empty(n, _F64)
    m = max(min(n, OMS_BLOCK), 1)
    p, lo, e = (np.empty(m, _F64) for _ in range(3))
    for i in range(0, n, m):
        j = min(i + m, n)
        k = j - i
        if not _one_minus_square_block(y[i:j], out[i:j], p[:k], lo[:k], e[:k]):
            out[i:j] = _fma64(-y[i:j], y[i:j], 1.0)
    return out.reshape(shape)


OMS_BLOCK = 1 << 14


def _one_minus_square_block(y, r, p, lo, e):
    """one_minus_square64 of the 1-D ``y`` into ``r`` (``p``, ``lo``, ``e``: scratch of its size); False, r unset,
    when some |y| > 1 or is nan."""
    np.multiply(y, y, out=p)
    if not p.max() <= 1.0:
        return False
    hi = np.multiply(y, _SPLIT, out=r)
    np.subtract(hi, y, out=lo)
    np.subtract(hi, lo, out=hi)
    np.subtract(y, hi, out=lo)
    np.multiply(hi, hi, out=e)                  # e = y*y - p exactly: ((hi*hi - p) + 2*hi*lo) + lo*lo
    np.subtract(e, p, out=e)
    np.multiply(hi, lo, out=hi)
    np.add(hi, hi, out=hi)
    np.add(e, hi, out=e)
    np.multiply(lo, lo, out=lo)
    np.add(e, lo, out=e)
    np.subtract(1.0, p, out=r)
    v = np.subtract(1.0, r, out=lo)             # t = (1 - r) - p, then v = t - e
    np.subtract(v, p, out=v)
    np.subtract(v, e, out=v)
    tie = np.flatnonzero(np.abs(v, out=e) == _HALF_ULP_BELOW_1)
    np.add(r, v, out=r)
    if tie.size:
        r[tie] = _fma64(-y[tie], y[tie], 1.0)
    return True


def fma32(a, b, c):
    """float32 ``a * b + c`` rounded once (operands converted to float32 first), a new float32 array. Up to BLOCK
    elements in one float64 pass over the broadcast operands, above in blocks (_fma32_into)."""
    a, b, c = (np.asarray(v, _F32) for v in (a, b, c))
    shape = np.broadcast_shapes(a.shape, b.shape, c.shape)
    n = math.prod(shape)
    if n <= BLOCK:
        s = np.multiply(a, b, dtype=_F64)
        if type(s) is np.ndarray and s.shape == shape:
            np.add(s, c, out=s)
        else:                               # 0-d operands give a NumPy scalar, which _to_odd cannot write
            s = np.asarray(np.add(s, c, dtype=_F64))
        if n and not _clean(s.reshape(-1), np.empty(n, _I64)):
            _to_odd(s, a, b, c)
        return s.astype(_F32)
    if b.ndim == 0:
        a, b = b, a
    if b.ndim == 0 or b.shape != shape:     # the product's array operand is read in blocks: a full one
        b = np.broadcast_to(b, shape)
    flat = [x.reshape(-1) if x.ndim else _F64.type(x) for x in
            (a if a.ndim == 0 or a.shape == shape else np.broadcast_to(a, shape), b,
             c if c.ndim == 0 or c.shape == shape else np.broadcast_to(c, shape))]
    out = np.empty(shape, _F32)
    _fma32_into(out.reshape(-1), *flat)
    return out


def _suspects(s, shifted=None, tiny=True):
    """Where rounding the float64 sums ``s`` to float32 might round twice: on a float32 midpoint or subnormal.
    ``shifted``: s's bits shifted left by 35 (_clean's scratch), which shows the midpoints in one pass; ``tiny``
    False when _no_tiny found no subnormal-range sum."""
    flat = s.reshape(-1)
    mid = shifted == _MIN64 if shifted is not None else (flat.view(_I64) & _LOW29) == _HALF29
    if tiny:
        mid |= _tiny(flat)
    return mid


def _tiny(s, zeros=True):
    """Where |s| < 2**-126; ``zeros`` False leaves zero sums out (exact where s is one rounding of a sum, as
    _fma32_span's)."""
    low = np.abs(s) < _TINY32
    if not zeros:
        low &= s != 0
    return low


def _to_odd(s, a, b, c, sus=None):
    """Move the float64 sums ``s = a * b + c`` (float32 operands, broadcast to s) that might round twice one
    ulp toward the exact sum, in place, where the sum was inexact and s's last bit is even (round to odd).
    ``sus``: the _suspects mask when the caller has it. Only the suspects are gathered and tested, and only the
    moved ones written back: with alpha = -20 (an SGD step by hand) 1.5-7% of sums sit on a midpoint, nearly
    all exact, so every block of 2**17 had some."""
    if sus is None:
        sus = _suspects(s)
    idx = np.flatnonzero(sus)
    if not idx.size:
        return
    shape = s.shape

    def pick(x):    # (an operand of s's shape skips np.broadcast_to, ~4 us of Python a call)
        whole = x if type(x) is np.ndarray and x.shape == shape else np.broadcast_to(x, shape)
        return whole.reshape(-1)[idx].astype(_F64)
    if idx.size <= _FEW:
        _to_odd_few(s.reshape(-1), idx, pick(a), pick(b), pick(c))
        return
    p = pick(a) * pick(b)
    sum_, err = _two_sum(p, pick(c))
    with np.errstate(invalid='ignore'):
        move = ((err > 0) | (err < 0)) & ((sum_.view(_I64) & 1) == 0)
    if move.any():
        s.reshape(-1)[idx[move]] = np.nextafter(sum_[move], np.where(err[move] > 0, np.inf, -np.inf))


# suspects up to which _to_odd tests them in Python floats (_to_odd_few)
_FEW = 16
_DOUBLE = struct.Struct('<d')     # (its first byte holds a double's last bit)


def _to_odd_few(flat, idx, a, b, c):
    """_to_odd's test and move of a few suspects (``flat``: s's values, ``idx`` theirs, ``a``, ``b``, ``c`` their
    float64 operands) one by one in Python floats, IEEE doubles: _two_sum's steps, not its ~13 NumPy calls on tiny
    arrays. Adam's exp_avg_sq.addcmul_ finds 1-7 midpoints in most blocks of GPT's 65536-element params; _to_odd of 3
    in 65536, min of 500: 20.5 -> 9.6 us."""
    for i, x, y, z in zip(idx.tolist(), a.tolist(), b.tolist(), c.tolist()):
        p = x * y
        sum_ = p + z
        bb = sum_ - p
        err = (p - (sum_ - bb)) + (z - bb)
        if (err > 0 or err < 0) and not _DOUBLE.pack(sum_)[0] & 1:
            flat[i] = math.nextafter(sum_, math.inf if err > 0 else -math.inf)


def fma_(out, a, b, c):
    """``out = a * b + c`` rounded once, in place, for float32/float64 C-contiguous ``out`` with ``b`` and ``c``
    arrays of its shape and dtype (either may be ``out`` itself) and ``a`` a number (cast to out's dtype, as
    PyTorch casts alpha): ``add_``/``sub_`` with ``alpha``."""
    if c is out and _axpy_(out, a, b):
        return out
    if out.dtype != _F32:
        out[...] = fma(a, b, c, out.dtype)
        return out
    if c is out and _rows_fma_(out, _F32.type(a), b):
        return out
    _fma32_into(out.reshape(-1), _F64.type(_F32.type(a)), b.reshape(-1), c.reshape(-1))
    return out


def addmul_(out, a, b, c=None):
    """``out = a * b + c`` (``c`` None: out itself, addcmul_'s kernel) rounded once, in place, ``b`` and ``c`` arrays
    of out's shape, ``a`` one too or a number (cast to out's dtype), with no threads of its own (the optimizers share
    params out over ember's threads themselves): a number ``a`` by ?axpy where it rounds once (_axpy_into: lerp_'s
    fma), a float32 C-contiguous ``out`` otherwise in one span of _fma32_span's blocks, no new array. AdamW over
    GPT's 52 params, 1 thread, CPU medians of 40 steps, medians of 5 alternating processes (load 14): 13.6 -> 11.4
    ms with lerp_ by ?axpy (it was 6.5-9.1 -> 4.8-6.3 ms, load ~2, in place against fma's new arrays)."""
    c = out if c is None else c
    if not np.ndim(a) and _axpy_into(out, a, b, c):
        return out
    if out.dtype != _F32 or not out.flags.c_contiguous:
        out[...] = fma(a, b, c, out.dtype)
        return out
    flat = out.reshape(-1)
    if flat.size:
        flat_of = lambda x: flat if x is out else np.ascontiguousarray(x, _F32).reshape(-1)
        _fma32_span(flat, flat_of(a) if np.ndim(a) else _F64.type(_F32.type(a)), flat_of(b), flat_of(c), 0, flat.size)
    return out


def _axpy_into(out, a, b, c):
    """``out = a * b + c`` for a number ``a`` by one ?axpy on the calling thread (``c``, unless it is ``out``,
    copied into out first), for C-contiguous float32/float64 arrays of one shape and dtype where ``b`` does not
    overlap ``out`` and the loaded ?axpy rounds once (_axpy_fused); True when done. Adam's exp_avg.lerp_ of a
    65536-element param, 1 thread, min of 25 interleaved: _fma32_span's ~10 passes ~250 -> ~27 us."""
    dt = out.dtype
    if (dt != _F32 and dt != _F64) or b.dtype != dt or c.dtype != dt or b.shape != out.shape or \
            c.shape != out.shape or not (out.flags.c_contiguous and b.flags.c_contiguous and c.flags.c_contiguous) or \
            np.may_share_memory(out, b) or (c is not out and np.may_share_memory(out, c)) or not out.size:
        return False
    alpha = dt.type(a)
    if not np.isfinite(alpha) or alpha == 0 or not _axpy_fused(dt):
        return False
    if c is not out:
        np.copyto(out, c)
    return _axpy_run(alpha, b.reshape(-1), out.reshape(-1))


# The block of lengths (by dtype; None: not probed yet) on whose multiples the loaded OpenBLAS's ?axpy rounds each
# ``y + alpha * x`` once, 0 where it does not: its kernels for x86-64 with FMA (SkylakeX, Haswell) use fused
# multiply-adds in their vector loop, but the remainder loop after it is their build's choice (NumPy 2.4's OpenBLAS,
# Haswell kernels: saxpy fused on every multiple of 32 elements, daxpy of 16, and rounded the product first in the
# remainder), so _axpy_ checks it once per process before trusting it, and takes a remainder past the block by the
# emulation.
_AXPY_FUSED = {}
_AXPY_BLOCKS = (1, 8, 16, 32, 64)
# values from which _axpy_ cuts the update into one span per thread: p.data.add_(g, alpha=-20) on 2M float32 at 2
# threads, min / median of 40 interleaved (chrt, load 4): whole 0.26 / 0.41 against split 0.19 / 0.28 ms
_AXPY_SPLIT = 1 << 19


def _axpy_(out, a, b):
    """``out += a * b`` in place by BLAS ?axpy (_axpy_run), one pass instead of _fma32_into's float64 passes, for
    C-contiguous ``out`` and ``b`` of one float32/float64 dtype that do not overlap, when the loaded ?axpy rounds
    once (_axpy_fused) on the largest multiple of its block, the few values past it by the emulation; True when
    done. Large arrays go in one span per thread, each a multiple of the block (elementwise: the same values).
    p.data.add_(g, alpha=-20) on 2M float32, min / median of 40 interleaved (chrt, load 4): one thread 3.28 / 3.48 ->
    0.50 / 0.53 ms, two 2.36 / 2.55 -> 0.19 / 0.28 ms (the LSTM LM benchmark's decoder and embedding updates).
    Under Haswell kernels (block 32; the emulation took it all before), chrt, min of 30 in alternating processes:
    one thread 9.1-10.9 -> 1.2-1.3 ms, two 8.8-9.3 -> 0.9-1.0 ms (see the commit)."""
    dt = out.dtype
    if (dt != _F32 and dt != _F64) or b.dtype != dt or not (out.flags.c_contiguous and b.flags.c_contiguous) or \
            out.size != b.size or np.may_share_memory(out, b) or not _axpy_fused(dt):
        return False
    alpha = dt.type(a)
    if not np.isfinite(alpha) or alpha == 0:
        return False
    o, x = out.reshape(-1), b.reshape(-1)
    block = _axpy_fused(dt)
    whole = o.size - o.size % block
    if whole < o.size:
        o[whole:] = fma(alpha, x[whole:], o[whole:], dt)
    if not whole:
        return True
    parts = _parallel.blocks(whole // block, _parallel.MIN_BYTES if o.size >= _AXPY_SPLIT else 0)
    if len(parts) == 1:
        return backend.axpy(alpha, x[:whole], o[:whole])
    return all(_parallel.each(lambda lo, hi: backend.axpy(alpha, x[lo * block:hi * block], o[lo * block:hi * block]),
                              parts))


def _axpy_run(alpha, x, y):
    """``y += alpha * x`` (1-D, one dtype, _axpy_fused's block known) by ?axpy on the largest multiple of the block
    and on a zero-padded copy of the rest, written back: every element through the vector loop, rounded once (one
    ctypes call more where _axpy_ takes the rest by the emulation's ~8 NumPy calls)."""
    g = _AXPY_FUSED[y.dtype]
    n = y.size
    m = n - n % g
    if m and not backend.axpy(alpha, x[:m], y[:m]):
        return False
    if m < n:
        xt, yt = np.zeros(g, y.dtype), np.zeros(g, y.dtype)
        xt[:n - m], yt[:n - m] = x[m:], y[m:]
        if not backend.axpy(alpha, xt, yt):
            return False
        y[m:] = yt[:n - m]
    return True


def _axpy_fused(dt):
    """The least block of _AXPY_BLOCKS on whose every multiple the loaded BLAS's ?axpy of dtype ``dt`` computes
    ``y + alpha * x`` rounded once (fma's values): multiples up to 160 and a long one, from two offsets, probed
    once on values where rounding the product first gives another result in every element; 0 where none."""
    ok = _AXPY_FUSED.get(dt)
    if ok is None:
        rng = np.random.default_rng(0)
        alpha = dt.type(-0.37)
        x, y = (rng.standard_normal(1 << 14).astype(dt) for _ in range(2))
        want = fma(alpha, x, y, dt)
        twice = (alpha * x + y != want).nonzero()[0]
        x, y, want = (np.resize(v[twice], 4099 + 3) for v in (x, y, want))
        ok = next((blk for blk in _AXPY_BLOCKS if _axpy_rounds_once(alpha, x, y, want, blk)), 0)
        _AXPY_FUSED[dt] = ok
    return ok


def _axpy_rounds_once(alpha, x, y, want, block):
    """Whether backend.axpy gives ``want`` on every multiple of ``block`` up to 160 and 4096 (4099 for block 1),
    from elements 0 and 3 of the probe's arrays."""
    for at in (0, 3):
        for n in list(range(block, 161, block)) + [4099 if block == 1 else 4096]:
            got = y[at:at + n].copy()
            if not backend.axpy(alpha, x[at:at + n], got) or not np.array_equal(got, want[at:at + n]):
                return False
    return True


_SPARSE_MIN = 1 << 16       # values from which fma_ looks for zero rows of b
_NEG_ZERO32 = np.int32(-2 ** 31)     # -0.0's bits as int32, the least int32 (no other float32 has them)
_SIGNS = {4: np.uint32(1 << 31), 8: np.uint64(0x8000000080000000)}    # sign bits of a uint32 / uint64 of float32s


def _row_bits(rows):
    """The bitwise or of each row's float32 bits and the mask of its sign bits, for rows with a contiguous last
    dim: a row is zero (+-0.0 only) when no other bit is set. The rows of an even length are read as uint64 (two
    values a word): word_language_model's 10000 x 200 embedding gradient, rows.any(axis=1) 483 -> 236 us."""
    word = 8 if rows.shape[-1] % 2 == 0 else 4
    return np.bitwise_or.reduce(rows.view(np.dtype(f'u{word}')), axis=1), _SIGNS[word]


def _rows_fma_(out, a, b):
    """``out += a * b`` rounded once, in place, on b's nonzero rows only, for a float32 ``out`` of 2+ dims and
    at least _SPARSE_MIN values whose ``b`` has at most a quarter of its rows nonzero (an embedding's gradient:
    word_language_model's 10000 x 200 table sees ~700 tokens a step); True when done, False to leave it to the
    dense path. On a zero row out + a * (+-0) is out itself for a finite float32 ``a`` unless out holds -0.0 and
    a * b is +0.0 (-0 + +0 is +0), which one int32 minimum of out rules out; when a's sign is set and the zero
    rows hold no -0.0 (an SGD step: a = -lr, zeros from the gradient's scatter) every product there is -0.0 and
    that minimum is skipped. A sample of every 64th row skips a dense b at once. That 10000 x 200 update with
    650 nonzero rows, 1 thread: 1.94 -> ~0.9 ms (rows found 0.38, -0.0 test 0.07, the exact fma on the rows
    0.39); rows found by _row_bits and the -0.0 test skipped, min of 40 interleaved (thread time): 1.03 -> 0.76 ms."""
    if out.ndim < 2 or out.size < _SPARSE_MIN or not np.isfinite(a) or not b.flags.c_contiguous:
        return False
    rows = b.reshape(-1, b.shape[-1])
    bits, signs = _row_bits(rows[::64])
    if np.count_nonzero(bits & ~signs) * 4 > bits.shape[0]:
        return False
    bits, signs = _row_bits(rows)
    zero = (bits & ~signs) == 0
    nz = np.flatnonzero(~zero)
    if nz.size * 4 > rows.shape[0]:
        return False
    if not (np.signbit(a) and not bits[zero].any()) and \
            np.minimum.reduce(out.reshape(-1).view(np.int32)) == _NEG_ZERO32:
        return False
    o = out.reshape(rows.shape)
    o[nz] = fma32(a, rows[nz], o[nz])
    return True


def _fma32_into(o, a, b, c):
    """``o = a * b + c`` rounded once, for 1-D float32 ``o`` and ``b``, ``a`` and ``c`` 1-D float32 arrays of o's
    size or float64 scalars (an array may be ``o`` itself). Large ones are cut into spans, one per thread
    (set_num_threads; each span's values are what one thread computes). fma_ of 300K float32 at 1 -> 2 threads,
    min of 1000 interleaved on the loaded 2-core machine (load 11): 0.318 -> 0.225 ms; 2M: 2.52 -> 2.54."""
    n = o.size
    if n == 0:
        return
    parts = _parallel.blocks(n, n * _PASS_BYTES) if n * _PASS_BYTES >= _parallel.MIN_BYTES else ()
    if len(parts) <= 1:
        _fma32_span(o, a, b, c, 0, n)
        return
    _parallel.each(lambda lo, hi: _fma32_span(o, a, b, c, lo, hi), parts)


def _fma32_span(o, a, b, c, lo, hi):
    """_fma32_into on elements lo:hi, BLOCK at a time in the thread's float64 scratch (_scratch): b cast into it,
    then multiplied by a and c added (an array operand cast by the ufunc, in its buffer: a's and c's copies into
    the scratch cost more, 63 -> 52 and 39 -> 36 us for 65536). o's block is written last, after its inputs are
    read."""
    s, t = _scratch(min(hi - lo, BLOCK))
    m = s.size
    aa = a.ndim == 1
    exact_tiny = not aa and _tiny_sums_exact(a)
    for i in range(lo, hi, BLOCK):
        j = min(i + BLOCK, hi)
        sk, tk = (s, t) if j - i == m else (s[:j - i], t[:j - i])
        np.copyto(sk, b[i:j])
        np.multiply(sk, a[i:j] if aa else a, out=sk)
        np.add(sk, c[i:j] if c.ndim == 1 else c, out=sk)
        shifted = tk.view(_I64)
        sus = None if _no_midpoint(sk, shifted) else shifted == _MIN64     # (shifted is free again)
        if not (exact_tiny or _no_tiny(sk) or _no_tiny_but_zeros(sk, shifted)):
            sus = _tiny(sk, zeros=False) if sus is None else np.bitwise_or(sus, _tiny(sk, zeros=False), out=sus)
        if sus is not None:
            _to_odd(sk, a[i:j] if aa else a, b[i:j], c[i:j] if c.ndim == 1 else c, sus)
        np.copyto(o[i:j], sk, casting='same_kind')


_LOCAL = threading.local()


def _scratch(m):
    """Two float64 arrays of ``m`` elements, the calling thread's (kept for its next call, at most 2 * BLOCK): a
    new array above 128 KiB is mapped and faulted in anew by each allocation, which cost Adam's exp_avg_sq
    addcmul_ of a 65536-element param more than its passes (copying b into fresh scratch 84-158 against 16 us)."""
    buf = getattr(_LOCAL, 'scratch', None)
    if buf is None or buf.shape[1] < m:
        buf = _LOCAL.scratch = np.empty((2, m), _F64)
    return buf[0, :m], buf[1, :m]


def _tiny_sums_exact(a):
    """Whether every float64 sum ``a * b + c`` below 2**-126 in magnitude is exact, for the number ``a`` and any
    float32 b and c, so that no subnormal-range sum can round twice (_no_tiny's test, 17.7 of a block's 150 us, is
    then not needed): b and c are multiples of 2**-149, so with a a multiple of 2**-30 (0, or a float32 at least
    2**-7 with few low bits: -20, 0.37, -1.3) both terms are multiples of 2**-179, and such a sum below
    2**-126 = 2**53 * 2**-179 has at most 53 significant bits."""
    a = float(a)
    if not math.isfinite(a) or a == 0:
        return True
    mant, exp = math.frexp(a)                 # a = mant * 2**exp, mant's bits 53 at most
    m = int(mant * 2 ** 53)
    return exp - 53 + ((m & -m).bit_length() - 1) >= -30


def _clean(s, scratch):
    """True when no float64 sum in the 1-D ``s`` can round twice to float32 (no _suspects): _no_midpoint and
    _no_tiny."""
    return _no_midpoint(s, scratch) and _no_tiny(s)


def _no_midpoint(s, scratch):
    """True when no float64 sum in the 1-D ``s`` lies on a float32 midpoint, by one pass into the int64
    ``scratch`` (left holding s's bits shifted left by 35) and a reduction: a sum's low 29 bits are 1 << 28
    exactly when shifting them to the top gives INT64_MIN. 32768 float64: and+equal+any 5.5 -> shift+min 4.0 us."""
    np.left_shift(s.view(_I64), 35, out=scratch)
    return np.minimum.reduce(scratch) != _MIN64


def _no_tiny_but_zeros(s, scratch):
    """True when no nonzero float64 sum in the 1-D ``s`` has |s| < 2**-126, by three passes (``scratch``, int64,
    overwritten): s's bits without the sign, less one, are below the bound's as uint64 only for those (a zero's
    wrap to the largest). A sum p + c rounded once to zero is exact (p = -c), so it cannot round twice: an
    optimizer state that is still zero where the gradient has always been (MNIST fc1's Adadelta: 60% of its
    gradients zero, 634 of 860 blocks a step had _to_odd gather its zeros) then skips _to_odd, or takes only its
    midpoints there."""
    np.left_shift(s.view(_I64), 1, out=scratch)
    np.subtract(scratch, 1, out=scratch)
    return np.minimum.reduce(scratch.view(_U64)) >= _TINY2_BITS


_TINY2_BITS = np.uint64((0x3810000000000000 << 1) - 1)    # 2**-126's bits without the sign, less one


def _no_tiny(s):
    """True when no float64 sum in the 1-D ``s`` has |s| < 2**-126: that shows in the minimum of s's bits as
    int64 (at least 2**-126's when every sum is positive, as Adam's, Adagrad's and RMSprop's squares are: one
    reduction) and otherwise also as uint64 (the positive sums; the int64 one then covers the negative ones). abs+min
    4.7 -> two mins 3.7 us for 32768."""
    mn = np.minimum.reduce
    low = mn(s.view(_I64))
    return low >= _TINY_BITS or (low >= _NEG_TINY_BITS and mn(s.view(_U64)) >= _TINY_BITS)
