"""float32 and float64 square roots as PyTorch's CPU ``sqrt`` computes them where MKL's kernel refines an estimate
(not IEEE's sqrt).

PyTorch takes float32/float64 sqrt from MKL's vector library (vsSqrt, high accuracy). On an AMD CPU with AVX-512 (this
EPYC, PyTorch 2.13) MKL runs its SSE kernel there (mkl_vml_kernel_sSqrt_H8HAynn, found by calling each kernel of
libtorch_cpu on 10^5 values), which starts from the CPU's ``rsqrtps`` estimate y and refines it with unfused float32
operations: s = x*y, h = y/2, e = 1/2 - s*h, s1 = s + s*e, h1 = h + h*e, result s1 + (x - s1*s1)*h1. Its result is
within 0.75 ulp and differs from the correctly rounded root in 17% of float32 elements (exact roots 0.25-0.75 ulp
off a float); zeros, subnormals, inputs above 0x7f7ff000's bits, inf, nan and negatives take its exact path (IEEE's
sqrt). ``rsqrtps`` is the CPU's own: its estimates on this CPU are ember/data/rsqrtps_amd.u16.gz (written by
tools/rsqrtps_table.py), with which every float32 of [2**-126, 2**128) gets MKL's bits. AVX2-only hosts (MKL's AVX2
kernel, correctly rounded in float32) and Intel CPUs (its AVX-512 kernel, not emulated) keep IEEE's sqrt.
float64 takes MKL's SSE2 kernel there too (mkl_vml_kernel_dSqrt_H8HAynn; 1.2% of its values differ from IEEE's):
the float32 estimate of x's exponent parity and leading mantissa bits, scaled, refined by a degree-4 polynomial in
e = 1 - x*y*y (x split in two halves) and summed as x_hi*y + (x_lo*y + p*y*x), all unfused float64 operations
(_sqrt64_block; every float64 of 10^6 normal, 10^6 over the whole exponent range and the specials matched)."""
import functools
import os
import threading

import numpy as np

from ._halfgemm import cpu_has

_F32, _U32, _F64, _U64 = np.dtype(np.float32), np.dtype(np.uint32), np.dtype(np.float64), np.dtype(np.uint64)
_LOW, _HIGH = np.uint32(0x00800000), np.uint32(0x7f7ff000)     # bits of the inputs MKL's estimate path takes
_HALF = np.float32(0.5)
_LOW64, _HIGH64 = np.uint64(0x0010000000000000), np.uint64(0x7fcfffffffffffff)   # float64's estimate path
# MKL's float64 constants: x's exponent's low bit, the bits of x that make the float32 estimate's input, the exponent,
# the scale's offset (-0.25's bits), the mask of x's high half; the polynomial's coefficients, highest first
_E0, _LEAD, _EXP, _SCALE = (np.uint64(v) for v in (0x0010000000000000, 0x001fffffe0000000, 0x7ff0000000000000,
                                                   0xbfd0000000000000))
_ONE_TO_TWO, _HI_HALF = np.uint64(0x07f0000000000000), np.uint64(0xfffffffff8000000)
_POLY = (0.27343754675366555, 0.31250016501874495, 0.37500000000001366, 0.49999999999997785)
BLOCK = 1 << 16     # elements at a time, in the thread's scratch


@functools.lru_cache(maxsize=None)
def emulated():
    """Whether PyTorch's float32 sqrt here is MKL's SSE estimate kernel with the estimates of the table: an AMD Zen 4
    (family 25 with AVX-512, the CPU the table was read on). Other AMD generations may estimate otherwise, so they
    keep IEEE's sqrt until their table is read."""
    if not cpu_has('AVX512F'):
        return False
    try:
        with open('/proc/cpuinfo') as f:
            info = dict(line.split(':', 1) for line in f.read().split('\n\n')[0].splitlines() if ':' in line)
    except OSError:
        return False
    info = {k.strip(): v.strip() for k, v in info.items()}
    return info.get('vendor_id') == 'AuthenticAMD' and info.get('cpu family') == '25'


@functools.lru_cache(maxsize=None)
def _table():
    """rsqrtps's estimates' bits by (exponent's low bit, 12 leading mantissa bits), for an exponent 127 or 128, plus
    64 << 23 less 1 << 23 for an odd exponent (_sqrt_block's exponent step, folded in, so that it is x's bits 24-31
    shifted to 23-30, two integer passes, not three): the file's halves swapped, so that bits 11-23 of x index it."""
    import gzip     # (here: ember's import adds no module NumPy's does not, tests/test_import.py)
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'data', 'rsqrtps_amd.u16.gz')
    with open(path, 'rb') as f:
        lead = np.frombuffer(gzip.decompress(f.read()), '<u2').astype(np.uint32)
    bits = (lead << np.uint32(11)) + np.uint32(0x3f000000 + (64 << 23))
    return np.concatenate([bits[4096:], bits[:4096] - np.uint32(1 << 23)])


def sqrt(x, out=None):
    """``np.sqrt(x, out=out)`` with PyTorch's values for this host: float32 and float64 through MKL's estimate
    kernels where they run (emulated()), IEEE's sqrt otherwise; ``out`` may be ``x``."""
    x = np.asarray(x)
    dt = x.dtype
    if (dt != _F32 and dt != _F64) or not emulated() or x.size == 0:
        return np.sqrt(x, out=out)
    if out is None:
        out = np.empty(x.shape, dt)
    elif out.dtype != dt or out.shape != x.shape or not out.flags.c_contiguous:
        out[...] = sqrt(x)
        return out
    xf, of = np.ascontiguousarray(x).reshape(-1), out.reshape(-1)
    block = _sqrt_block if dt == _F32 else _sqrt64_block
    for i in range(0, xf.size, BLOCK):
        block(xf[i:i + BLOCK], of[i:i + BLOCK])
    return out


_LOCAL = threading.local()


def _scratch(n):
    """Four float32 arrays and an index array of ``n`` elements, the calling thread's (kept for its next call, at
    most BLOCK): the table's gather takes native indices (np.take with uint32 ones converts them, 55 -> 430 us for
    65536), and arrays above 128 KiB would be faulted in anew by each allocation. The indices share the memory of
    the last two float32 arrays, which _sqrt_block writes only after the gather (512 KiB less to keep in cache)."""
    buf = getattr(_LOCAL, 'scratch', None)
    if buf is None or buf.shape[1] < n:
        buf = _LOCAL.scratch = np.empty((4, max(n, 1)), _F32)
    idx = buf[2:].reshape(-1).view(np.intp)
    return buf[0, :n], buf[1, :n], buf[2, :n], buf[3, :n], idx[:n]


def _sqrt_block(x, out):
    """MKL's estimate kernel on the 1-D float32 ``x`` into ``out`` (same size; may be x), the inputs it leaves to its
    exact path by IEEE's sqrt."""
    y, s, t, u, idx = _scratch(x.size)
    bits, yb, tb = x.view(_U32), y.view(_U32), t.view(_U32)
    special = not (bits.min() >= _LOW and bits.max() <= _HIGH)
    np.right_shift(bits, 11, out=yb)                      # the estimate: table[bits 11-23] / 2**((e + 1) // 2 - 64)
    np.bitwise_and(yb, np.uint32(0x1fff), out=yb)
    np.copyto(idx, yb)                                    # (uint32 passes, then one cast: 26 -> 21 us for 65536)
    np.take(_table(), idx, out=yb, mode='wrap')           # (indices in range: 'wrap' skips 'clip''s clamp, 40 -> 33)
    np.right_shift(bits, 1, out=tb)
    np.bitwise_and(tb, np.uint32(0x7f800000), out=tb)
    np.subtract(yb, tb, out=yb)
    with np.errstate(all='ignore'):
        np.multiply(x, y, out=s)                            # s = x*y
        np.multiply(y, _HALF, out=y)                        # h = y/2
        np.multiply(s, y, out=t)
        np.subtract(_HALF, t, out=t)                        # e = 1/2 - s*h
        np.multiply(s, t, out=u)
        np.add(u, s, out=u)                                 # s1 = s + s*e
        np.multiply(y, t, out=s)
        np.add(s, y, out=s)                                 # h1 = h + h*e
        np.multiply(u, u, out=t)
        np.subtract(x, t, out=t)
        np.multiply(t, s, out=t)
        if special:
            exact = np.flatnonzero((bits < _LOW) | (bits > _HIGH))
            kept = np.sqrt(x[exact])
            kept[np.isnan(kept) & ~np.isnan(x[exact])] = np.nan     # a negative's nan is +nan (IEEE's: -nan)
        np.add(t, u, out=out)                               # s1 + (x - s1*s1)*h1
        if special:
            out[exact] = kept


def _estimate(fb):
    """rsqrtps's estimate (float32) of the normal float32s whose bits are the uint32 ``fb``."""
    y = np.take(_table(), (fb >> np.uint32(11)) & np.uint32(0x1fff), mode='clip')
    y -= (fb >> np.uint32(1)) & np.uint32(0x7f800000)
    return y.view(_F32)


def _sqrt64_block(x, out):
    """MKL's float64 kernel on the 1-D float64 ``x`` into ``out`` (same size; may be x), the inputs it leaves to its
    exact path (zeros, subnormals, 2**1022 and above, inf, nan, negatives) by IEEE's sqrt."""
    xb = x.view(_U64)
    special = not (xb.min() >= _LOW64 and xb.max() <= _HIGH64)
    even = ~xb & _E0
    lead = (((xb & _LEAD) | (even + _ONE_TO_TWO)) >> np.uint64(29)).astype(_U32)    # x's lead in [1, 4), float32
    y = _estimate(lead).astype(_F64)
    y *= ((even - (xb & _EXP) + _SCALE) >> np.uint64(1)).view(_F64)                   # times 2**-(exponent // 2)
    with np.errstate(all='ignore'):
        r2 = y * y
        hi = (xb & _HI_HALF).view(_F64)
        lo = x - hi
        e = 1.0 - r2 * hi
        e -= lo * r2                                        # e = 1 - x*y*y
        p = e * _POLY[0]
        for c in _POLY[1:]:
            p += c
            p *= e
        p *= y
        p *= x
        lo *= y
        lo += p
        if special:
            exact = np.flatnonzero((xb < _LOW64) | (xb > _HIGH64))
            kept = np.sqrt(x[exact])
            kept[np.isnan(kept) & ~np.isnan(x[exact])] = np.nan
        np.multiply(hi, y, out=out)
        out += lo                                           # x_hi*y + (x_lo*y + p*y*x)
        if special:
            out[exact] = kept
