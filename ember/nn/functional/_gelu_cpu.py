"""PyTorch's float32 CPU GELU values, reproduced step by step so that printed results match PyTorch's.

PyTorch hands a contiguous float32 input of two or more elements to oneDNN, whose AVX-512 kernel evaluates
erf(x / sqrt 2) as a degree-5 polynomial in |x| picked from 25 pieces by x's exponent and two mantissa bits,
then x * (1 + erf) / 2 in float32: near x = -3 that is 1.3e-4 (768 ulps) away from the exact value, and 1 + erf
is only resolved to 2^-24, so tiny negative results come in steps. Other inputs (0-d, strided) go through ATen's
own kernel, which ember approximates by the exact value. The coefficient table is oneDNN's (Apache-2.0 data,
``gelu_erf_minimax_polynomial``); on 10^6 normal and 2*10^6 grid points in [-10, 10] plus specials the values
here equal PyTorch 2.13's bit for bit.
"""
import math

import numpy as np

from ... import _exact, _parallel
from ...ops._sleef_tanh import tanhf

# coefficients of degree 0..5 (rows) of the 25 pieces (columns), as float32 bit patterns
_WORDS = (
    'a6f2cb94 32827792 3381cc0c 34523d4a 351ac44d 35f36d88 36ee8229 37b8a3bb 3867a213 3940033b 3a2a5a1d 3ae35863 '
    '3b7828f2 3c08b14b 3c515ed3 bb503236 bd8d8e5e be8abcd9 bf0c19a2 beccb328 3e176ced 3f470d99 3f7abb28 3f800000 0',
    '3f4c422a 3f4c421f 3f4c4207 3f4c41cb 3f4c413b 3f4c3fad 3f4c3a2f 3f4c2d40 3f4c146a 3f4bc341 3f4ad08c 3f48f8cf '
    '3f45fac7 3f404e07 3f3b980f 3f48dff3 3f78b21b 3fbb0704 40019c32 3fe536d6 3f81331e 3e6c8684 3c98f936 0 3f800000',
    'b62173f4 3735e4cf 37f2ff89 388c23be 3917535c 39ab2ab0 3a60fadb 3af9b960 3b6e5491 3c0a4ec5 3ca5aa8c 3d2138d9 '
    '3d8737d4 3ddfb660 3e0f27ab 3d94004b be0efdeb bf1d96c3 bf89db58 bf6d9897 bef69fb8 bdc4f8a8 bbde6422 0 0',
    'be081a19 be084570 be08639b be089837 be08f409 be09ab95 be0b66d0 be0e400a be124df8 be1bde02 be2f19c9 be4931bf '
    'be685fbc be89c95f be96cbca be8044aa be0550f2 3dcfd6a1 3e94c826 3e79345f 3decec91 3ca46568 3aa1e00a 0 0',
    'ba3d61db 39f097a3 3a5845dc 3ab1fa35 3b0cefb8 3b653ab6 3bcae527 3c221712 3c6c5840 3cc0a703 3d1dcc19 3d63656d '
    '3d955907 3dbf9910 3dd53f69 3db7dcef 3d639ebe ba6ede48 bd22be69 bd041cf1 bc64f5ab bb097a32 b8ebf380 0 0',
    '3cb7d80c 3c9b6050 3c978d11 3c92e850 3c8d058b 3c848454 3c6cd623 3c4c824b 3c2a7935 3be0b390 3b0651ac bb232f53 '
    'bbd42fa0 bc2c5366 bc492c9e bc2a7aa6 bbd55d04 ba823a76 3b102aa8 3ae25a7e 3a31f792 38b84375 3689bb5a 0 0',
)
_COEFS = [np.array([int(w, 16) for w in row.split()], np.uint32).view(np.float32).astype(np.float64)
          for row in _WORDS]
_IDX_BIAS = np.int32(0xc21fffff - (1 << 32))      # added to |x|'s bits; >> 21 leaves exponent and 2 mantissa bits
_RBOUND = np.float32(np.uint32(0x40b15cee).view(np.float32))     # beyond it erf is taken as 1 (piece 23)
_SIGN = np.int32(-(1 << 31))
_TANH_K = np.float32(math.sqrt(2.0 / math.pi))
_TANH_C = np.float32(0.044715)
_TANH_ONE = np.float32(8.664339742)     # SLEEF's tanhf returns +-1 beyond this argument


# Arrays up to this size are reproduced bit for bit; larger ones (training activations) take _activation's
# float32 passes, nearer the exact values and within 1e-6 of PyTorch's (whose 1 + erf cancels for x in [-5.5, -2.9]:
# up to 1.2e-3 relative off there): the emulation costs about as much up to 8192
# elements (93 against 61 us) but 10x beyond (131072: 4.5 against 0.39 ms; GPT's (12, 64, 512): 8.5 against 0.8 ms
# a forward, which would double the GPT benchmark's step), and the tanh form 3-13x. With ember._exact's kernels on,
# every size is reproduced (oneDNN's kernel is elementwise, so its values do not depend on how it splits the work:
# 0 of 300001 and of (12, 64, 512) differ).
EXACT_MAX = 8192


def takes_onednn(a):
    """Whether to reproduce PyTorch's float32 GELU (approximate='none') of this array bit for bit: PyTorch hands
    contiguous arrays of 2+ elements to oneDNN; up to EXACT_MAX elements, or any size where ember._exact is on."""
    return a.dtype == np.float32 and 1 < a.size and a.flags.c_contiguous and (a.size <= EXACT_MAX or _exact.ON[0])


def takes_onednn_grad(a):
    """Whether to reproduce PyTorch's float32 GELU gradient (oneDNN's, for the inputs its forward takes) bit for bit:
    where ember._exact is on, since gelu_erf_grad costs 12-18x the default pass (8192: 12 -> 146 us; (12, 64, 512):
    0.57 -> 10.1 ms, min of 30 / 7 interleaved, load ~3), which agrees within 3e-7."""
    return _exact.ON[0] and takes_onednn(a)


def takes_exact_tanh_grad(a):
    """Whether to reproduce ATen's float32 GELU (approximate='tanh') gradient: C-contiguous, ember._exact on
    (gelu_tanh_grad's SLEEF tanhf and fmas cost ~20x the default pass)."""
    return _exact.ON[0] and a.dtype == np.float32 and a.flags.c_contiguous


def takes_vector_tanh(a):
    """Whether to reproduce ATen's vectorised float32 GELU (approximate='tanh') of this array: up to EXACT_MAX, or
    contiguous ones of any size where ember._exact is on (then with SLEEF's tanhf: gelu_tanh)."""
    return a.dtype == np.float32 and (a.size <= EXACT_MAX or (_exact.ON[0] and a.flags.c_contiguous))


def gelu_erf(a):
    """(gelu(a), (1 + erf(a / sqrt 2)) / 2) of a C-contiguous float32 array as oneDNN computes them, on flat
    blocks shared between set_num_threads's threads when large. The float64 Horner steps and table gathers
    cost 2.5x main's float32 polynomial (GPT's (12, 64, 512): 2.7 against 1.0 ms, min of 25, loaded machine)."""
    flat = a.reshape(-1)
    out, cdf = np.empty_like(flat), np.empty_like(flat)

    def part(lo, hi):
        x = flat[lo:hi]
        one_plus = _one_plus_erf(x)
        np.multiply(one_plus, 0.5, out=cdf[lo:hi])
        np.multiply(x, one_plus, out=out[lo:hi])     # (x (1 + erf)) / 2 in that order: x = 3e38 gives inf
        out[lo:hi] *= np.float32(0.5)
    _parallel.run(part, flat.size, flat.nbytes)
    return out.reshape(a.shape), cdf.reshape(a.shape)


def _one_plus_erf(x):
    """1 + p(|x|) sign(x) in float32. Each Horner step is a float32 fma: the product of two float32s is exact
    in float64, so the float64 sum rounded to float32 is the fma's value (a double rounding could differ only
    on a float64 tie, which none of the test points hit). The sign goes on by xor, as in oneDNN, so the NaN
    that 0 * inf makes for x = +-inf keeps PyTorch's sign bit."""
    ax = np.abs(x)
    idx = ax.view(np.int32) + _IDX_BIAS
    idx >>= 21
    np.maximum(idx, 1, out=idx)      # (np.clip on int32 measured 17x slower than these two)
    np.minimum(idx, 24, out=idx)
    idx[ax > _RBOUND] = 23
    idx = idx.astype(np.intp)
    ax64 = ax.astype(np.float64)
    p = _COEFS[5].take(idx, mode='clip')
    c = np.empty_like(p)
    r = np.empty_like(x)
    for k in range(4, -1, -1):
        p *= ax64
        p += _COEFS[k].take(idx, out=c, mode='clip')
        np.copyto(r, p, casting='same_kind')
        p[...] = r
    bits = r.view(np.int32)
    bits ^= x.view(np.int32) & _SIGN
    r += np.float32(1)
    return r


def gelu_tanh(a):
    """x (1 + tanh(k (x + c x^3))) / 2 of a float32 array in ATen's vectorized order: x + c x^3 as one fma, tanh
    of the float32 argument rounded once from float64 (SLEEF's is within an ulp, and +-1 beyond 8.66). Equal to
    PyTorch's whole-vector values on 99.97% of 10^6 normal values times 3 (PyTorch's last len % 32 elements go
    through a scalar loop with glibc's tanhf: 92% equal there). Costs 3x main's float32 pass (GPT's (12, 64, 512):
    1.44 against 0.43 ms, min of 25, loaded machine)."""
    cube = a * a
    cube *= a
    inner = cube.astype(np.float64)     # (np.multiply with dtype=float64 casts in a slow buffered loop)
    inner *= float(_TANH_C)
    inner += a
    arg = inner.astype(np.float32)
    arg *= _TANH_K
    t = np.tanh(arg.astype(np.float64)).astype(np.float32)
    if _exact.ON[0] and a.flags.c_contiguous:
        vector = _vector_positions(a.size)
        t.reshape(-1)[vector] = tanhf(arg.reshape(-1)[vector])
    else:
        big = np.abs(arg) > _TANH_ONE
        if big.any():
            t[big] = np.copysign(np.float32(1), arg[big])
    t += np.float32(1)
    t *= a
    t *= np.float32(0.5)
    return t


_VECTOR_STEP = 32      # ATen's vectorised loop takes two 16-lane vectors a step (its AVX-512 GELU build)
_GRAIN = 32768         # at::internal::GRAIN_SIZE: elements below which parallel_for stays on one thread


def _vector_positions(n, step=_VECTOR_STEP):
    """The mask of the n elements ATen's GELU loop takes in whole vectors: parallel_for splits [0, n) into
    ceil(n / threads) runs (threads as set_num_threads, at most n / GRAIN_SIZE), each run's last len % step go through
    its scalar loop (glibc's tanhf there, which the float64 tanh rounded once matches in ~92%)."""
    from ... import get_num_threads
    tasks = max(1, min(get_num_threads(), -(-n // _GRAIN)))
    run = -(-n // tasks)
    mask = np.ones(n, bool)
    for lo in range(0, n, run):
        hi = min(n, lo + run)
        mask[hi - (hi - lo) % step:hi] = False
    return mask


def _f32(word):
    return np.uint32(word).view(np.float32)


# oneDNN's gelu_erf backward constants (float32 bit patterns): 1/sqrt 2, 1/sqrt pi, Abramowitz-Stegun's p and a1..a5
_AS_RSQRT2, _AS_RSQRTPI, _AS_P = _f32(0x3f3504f3), _f32(0x3f106eba), _f32(0x3ea7ba05)
_AS_POL = [_f32(w) for w in (0x3e827906, 0xbe91a98e, 0x3fb5f0e3, 0xbfba00e3, 0x3f87dc22)]
# its exp: log2(e), ln 2, the clamp to [ln FLT_MIN, ln FLT_MAX], and p1..p5 of exp(r) on |r| <= ln(2) / 2
_EXP_LOG2E, _EXP_LN2 = _f32(0x3fb8aa3b), _f32(0x3f317218)
_EXP_LO, _EXP_HI = _f32(0xc2aeac50), _f32(0x42b17218)
_EXP_POL = [_f32(w) for w in (0x3f7ffffb, 0x3efffee3, 0x3e2aad40, 0x3d2b9d0d, 0x3c07cfce)]
_ONE, _HALF = np.float32(1), np.float32(0.5)


def _fma(a, b, c):
    """float32 ``a * b + c`` through float64: the product is exact there and the sum rounds once before float32, so
    this is the fma but for a double rounding on a float64 tie (as _one_plus_erf; none of 10^6 test points hit one).
    ops._fused.fma32, which checks for those, made gelu_erf_grad 35x main's gradient instead of ~8x."""
    s = a.astype(np.float64)     # (np.multiply with dtype=float64 casts in a slow buffered loop)
    s *= b
    s += c
    return s.astype(np.float32)


def _exp_onednn(s):
    """exp of a float32 array as oneDNN's vector kernel computes it: s = n ln 2 + r with n = floor(s log2 e + 1/2),
    a degree-5 polynomial in r by float32 fmas, times 2^(n-1) and 2; below ln FLT_MIN the result is 0."""
    under = s < _EXP_LO
    s = np.minimum(np.maximum(s, _EXP_LO), _EXP_HI)
    n = np.floor(s * _EXP_LOG2E + _HALF)
    r = _fma(-n, _EXP_LN2, s)
    scale = ((n - _ONE).astype(np.int32) + 127) << 23
    scale[under] = 0
    p = np.full_like(r, _EXP_POL[4])
    for k in (3, 2, 1, 0):
        p = _fma(p, r, _EXP_POL[k])
    p = _fma(p, r, _ONE)
    p *= scale.view(np.float32)
    p *= np.float32(2)
    return p


def gelu_erf_grad(g, x):
    """g * d gelu / dx of float32 arrays as PyTorch's backward computes it, through oneDNN's gelu_erf kernel:
    Phi(x) + x phi(x) as 1/2 + R Q / sqrt pi + erf(R) / 2 with R = x / sqrt 2, Q = exp(-R^2) (_exp_onednn) and erf by
    Abramowitz-Stegun 7.1.26 (1 - t p(t) Q, t = 1 / (1 + p |R|)), each step a float32 operation or fma."""
    r = x * _AS_RSQRT2
    q = _exp_onednn(-(r * r))
    t = r * _AS_RSQRTPI
    t *= q
    w = _ONE / _fma(_AS_P, np.abs(r), _ONE)
    nqw = -q * w
    p = np.full_like(w, _AS_POL[4])
    for k in (3, 2, 1, 0):
        p = _fma(p, w, _AS_POL[k])
    erf = _fma(nqw, p, _ONE)
    erf.view(np.int32)[...] ^= r.view(np.int32) & _SIGN
    t += _HALF
    d = _fma(erf, _HALF, t)
    d *= g
    return d


def gelu_tanh_grad(g, x):
    """g * d gelu / dx (approximate='tanh') of C-contiguous float32 arrays as ATen's vectorised backward computes it:
    inner = k fma(c, x^3, x), th = SLEEF's tanhf(inner) (the float64 tanh in the scalar tails, _vector_positions),
    0.5 (1 + th) + 0.5 x fma(-th, th, 1) k fma(3c, x^2, 1), times g (the fusions found by matching: 0 of 32768
    differ from PyTorch 2.13's, against 199-3434 for the other 15 fusion patterns)."""
    xs = x * x
    inner = _TANH_K * _fma(_TANH_C, xs * x, x)
    th = np.tanh(inner.astype(np.float64)).astype(np.float32)
    vector = _vector_positions(x.size)
    th.reshape(-1)[vector] = tanhf(inner.reshape(-1)[vector])
    half = np.float32(0.5)
    slope = _fma(-th, th, _ONE)
    slope *= half * x
    slope *= _TANH_K * _fma(np.float32(3) * _TANH_C, xs, _ONE)
    slope += half * (_ONE + th)
    return g * slope
