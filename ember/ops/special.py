"""Special functions: lgamma, digamma, polygamma, xlogy (NumPy only; evaluated in float64, rounded once).

lgamma calls the C library through ``math.lgamma`` element by element (exact like PyTorch's, ~0.1 us per
element); digamma and polygamma use recurrence up to x >= 10 and the asymptotic series (error < 1e-15)."""
import importlib
import math

import numpy as np

from .. import _bf16, _layout
from .._dtype import DEFAULT
from ..autograd import dual, forward_refusal
from ..autograd.graph import Node
from ..tensor import Tensor
from . import _bessel, _cephes, _composite, _igamma, _polynomials, _special, _zeta
from ._util import cast_array, not_implemented, arg_error, check_tensor_args
from .pointwise import _precise, binary, unary

__all__ = ['lgamma', 'digamma', 'polygamma', 'xlogy', 'mvlgamma', 'logit', 'sinc', 'xlog1py', 'entr', 'ndtri', 'i0',
           'i0e', 'i1', 'i1e', 'erfcx', 'log_ndtr', 'modified_bessel_i0', 'modified_bessel_i1', 'spherical_bessel_j0',
           'POLYNOMIALS', 'igamma', 'igammac', 'zeta', 'bessel_j0', 'bessel_j1', 'bessel_y0', 'bessel_y1',
           'modified_bessel_k0', 'modified_bessel_k1', 'scaled_modified_bessel_k0', 'scaled_modified_bessel_k1',
           'airy_ai']


def _lgamma_one(x):
    """``lgamma`` of one float with PyTorch's values at the poles (inf) and for nan/inf."""
    try:
        return math.lgamma(x)
    except ValueError:
        return math.inf
    except OverflowError:
        return math.inf


_lgamma_vec = np.frompyfunc(_lgamma_one, 1, 1)


def _lgamma(a):
    return np.asarray(_lgamma_vec(a), dtype=a.dtype)


def _digamma(a):
    """psi(x) as PyTorch's calc_digamma computes it, in the input's precision (float32 in float32 steps, its log
    correctly rounded, as glibc's logf): the recurrence up to 10 and the asymptotic series, the reflection below
    0 (pi / tan(pi r) in float64, r the fractional part of x); -inf/+inf at +0/-0, nan at negative integers.
    Computing in float64 and rounding once differed from PyTorch's float32 in 69% of 100k random values, now
    0.06% (pyro's Beta/Gamma/Dirichlet gradients go through lgamma's derivative, digamma)."""
    dt = np.float64 if a.dtype == np.float64 else np.float32
    x = np.asarray(a, dt)
    with np.errstate(all='ignore'):
        neg = x < 0
        shift = np.where(neg, (np.pi / np.tan(np.pi * np.modf(x.astype(np.float64))[0])).astype(dt), dt(0))
        r = _digamma_nonneg(np.where(neg, dt(1) - x, x)) - shift
        r = np.where(neg & (x == np.trunc(x)), dt(np.nan), r)
        r = np.where(x == 0, np.copysign(dt(np.inf), -x), r)
    return r.astype(a.dtype)


_PSI_10 = 2.25175258906672110764
_DIGAMMA_A = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
              -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
              8.33333333333333333333E-2)


def _digamma_nonneg(x):
    """calc_digamma's x >= 0 branch on an array, each step in x's dtype."""
    dt = x.dtype.type
    one = dt(1)
    result = np.zeros_like(x)
    small = x < 10
    while small.any():   # at most 10 steps (x >= 0)
        result = np.where(small, result - one / x, result)
        x = np.where(small, x + one, x)
        small = x < 10
    z = one / (x * x)
    p = np.zeros_like(x)
    for c in _DIGAMMA_A:
        p = p * z + dt(c)
    y = np.where(x < dt(1e17), z * p, dt(0))
    log_x = np.log(x.astype(np.float64)).astype(x.dtype)
    out = result + log_x - dt(0.5) / x - y
    return np.where(x == 10, result + dt(_PSI_10), out)


_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _hurwitz_zeta(s, x):
    """zeta(s, x) = sum_k (x + k)^-s for integer s > 1, by Euler-Maclaurin summation after shifting x to 10."""
    acc = np.zeros_like(x)
    lowest = np.nanmin(x, initial=10.0)
    for _ in range(10 + int(min(max(-lowest, 0), 1e4))):
        small = x < 10
        acc = np.where(small, acc + x ** -s, acc)
        x = np.where(small, x + 1, x)
    r = acc + x ** (1 - s) / (s - 1) + 0.5 * x ** -s
    factor = s * x ** (-s - 1) / 2   # s (s+1) ... (s+2j-2) / (2j)! * x^(-s-2j+1), built up term by term
    for j, b in enumerate(_BERNOULLI, 1):
        r = r + b * factor
        factor = factor * (s + 2 * j - 1) * (s + 2 * j) / ((2 * j + 1) * (2 * j + 2)) / (x * x)
    return r


def _polygamma_pos(n, x):
    """psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x) for n >= 1."""
    return (-1) ** (n + 1) * math.factorial(n) * _hurwitz_zeta(n + 1, x)


def _trigamma(x):
    """psi'(x), with the reflection formula below 0.5 (as PyTorch's trigamma)."""
    with np.errstate(all='ignore'):
        reflect = x < 0.5
        y = np.where(reflect, 1 - x, x)
        r = _polygamma_pos(1, y)
        return np.where(reflect, (np.pi / np.sin(np.pi * x)) ** 2 - r, r)


def _trigamma_f32(x):
    """psi'(x) of a float32 array in float32 steps, as PyTorch's float32 kernel: the reflection with float32 pi
    and sin below 0.5 (so that at a negative integer it is large and finite, not a pole), six steps of the
    recurrence, then the asymptotic series."""
    one, pi = np.float32(1), np.float32(np.pi)
    reflect = x < np.float32(0.5)
    s = np.sin(pi * x)
    result = np.where(reflect, -(pi * pi) / (s * s), np.float32(0))
    x = np.where(reflect, one - x, x)
    for _ in range(6):
        result = result + one / (x * x)
        x = x + one
    ixx = one / (x * x)
    tail = np.float32(1 / 6) - ixx * (np.float32(1 / 30) - ixx * np.float32(1 / 42))
    result = result + (one + one / (np.float32(2) * x) + ixx * tail) / x
    return np.where(reflect, -result, result)


def _polygamma_arr(n, a):
    """psi^(n) of a float array: digamma; trigamma in float32 steps for float32 and the half types (as PyTorch)
    and to float64 accuracy for float64; for n >= 2, (-1)^(n+1) n! zeta(n + 1, x) by PyTorch's zeta (its
    poles: -inf or inf at 0, -0 and the negative integers, -inf included)."""
    with np.errstate(all='ignore'):
        if n == 0:
            return _digamma(a)
        if n == 1 and a.dtype != np.float64:
            return _trigamma_f32(np.asarray(a, np.float32)).astype(a.dtype)
        x = np.asarray(a, np.float64)
        r = _trigamma(x) if n == 1 else (-1) ** (n + 1) * math.factorial(n) * _zeta.zeta(n + 1, x)
    return r.astype(a.dtype)


def _digamma_of(x):
    return _digamma(x) if dual.is_array(x) else digamma(x)


def _polygamma_of(n, x):
    return _polygamma_arr(n, x) if dual.is_array(x) else polygamma(n, x)


lgamma = unary('lgamma', _lgamma, 'LgammaBackward0', lambda g, x, y: g * _digamma_of(x), precise=True,
               doc='Elementwise log|Gamma(x)|.')
digamma = unary('digamma', _digamma, 'DigammaBackward0', lambda g, x, y: g * _polygamma_of(1, x), half=True,
                doc="Elementwise psi(x) = lgamma'(x).")
_POLYGAMMA_OPS = {}


def polygamma(n, input):
    """The n-th derivative of digamma (``polygamma(0, x)`` is ``digamma(x)``)."""
    if not isinstance(n, int) or n < 0:
        raise RuntimeError('polygamma(n, x) does not support negative n.')
    try:
        op = _POLYGAMMA_OPS.get(n)
        if op is None:   # (n = 0 is digamma's values under polygamma's grad_fn, as PyTorch records it)
            kernel = _digamma if n == 0 else (lambda a: _polygamma_arr(n, a)) if n == 1 else \
                _precise(lambda a: _polygamma_arr(n, a))
            op = _POLYGAMMA_OPS[n] = unary('polygamma', kernel, 'PolygammaBackward0',
                                           lambda g, x, y: g * _polygamma_of(n + 1, x), half=n < 2)
        return op(input)
    except (AttributeError, TypeError):
        check_tensor_args('polygamma', 'input', reword=True)   # (the inner op counts input as its first)
        raise


def _x_times(log_fn, kernel):
    """``x * log_fn(y)``, 0 where x == 0 unless y is nan (xlogy, xlog1py); complex operands (a complex
    number promotes a real tensor) refused as PyTorch's kernel refuses them."""
    def arr(a, b):
        d = np.result_type(a, b)
        if d.kind == 'c':
            raise not_implemented(kernel, d)
        if d.itemsize == 2 or _bf16.is_bf16(d):   # a number of a half-type op is that type first, as PyTorch's
            a, b = (v if isinstance(v, np.ndarray) else cast_array(np.asarray(v, np.float64), d) for v in (a, b))
        with np.errstate(all='ignore'):
            # PyTorch's kernel is x * logf(y): the float32 log correctly rounded (NumPy's own is 1 ulp off in 1 of 5)
            lb = _precise(log_fn)(b) if isinstance(b, np.ndarray) else log_fn(b)
            if _bf16.is_bf16(d):   # (bf16 arrays hold float32: log(y) rounded to bf16 first, as PyTorch's kernel)
                lb = _bf16.from_f32(np.asarray(lb, np.float32))
            r = np.where(a == 0, 0, a * lb)
        r = np.where(np.isnan(b), np.nan, r)
        return r.astype(np.result_type(a, b), copy=False)
    return arr


_xlogy_arr = _x_times(np.log, 'xlogy_cpu')


def _x_times_da(arr_fn, edge):
    """d/dx of x * log_fn(y) as PyTorch: x_times(grad, y), then 0 where x == 0 and y <= ``edge`` (0 for xlogy,
    -1 for xlog1py: see PyTorch's note on the gradient of xlogy at x = 0, y <= 0)."""
    def da(g, a, b):
        bd = np.asarray(dual.data(b) if isinstance(b, (Tensor, np.ndarray, np.generic)) else b)
        off = (np.asarray(dual.data(a)) == 0) & (bd <= edge)
        if dual.is_array(g):
            r = arr_fn(g, np.asarray(bd, g.dtype))
            return np.where(off, 0, r).astype(g.dtype, copy=False)
        fn = xlogy if arr_fn is _xlogy_arr else xlog1py
        return dual.where(off, dual.const(0.0, g), fn(g, b))
    return da


_xlogy_da = _x_times_da(_xlogy_arr, 0.0)


xlogy = binary('xlogy', _xlogy_arr, 'XlogyBackward0', _xlogy_da, lambda g, a, b: g * a / b, float_out=True,
               doc='x * log(y), 0 where x == 0 (unless y is nan).', scalar_node='XlogyBackward2',
               scalar_first_node='XlogyBackward1', one_edge=True)


def _mvlgamma(input, p):
    if not (input.is_floating_point() or input.is_complex()):   # an integer input is read as the default float
        input = input.to(DEFAULT.dtype)
    args = input.unsqueeze(-1) + Tensor._make(-np.arange(p) / 2).to(input.dtype)
    return lgamma(args).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


MvlgammaBackward0 = _composite.node_class('MvlgammaBackward0')


def mvlgamma(input, p):
    """The multivariate log-gamma of dimension ``p`` (one MvlgammaBackward0 node, as PyTorch records it)."""
    if p < 1:
        raise RuntimeError('p has to be greater than or equal to 1')
    return _composite.composite(MvlgammaBackward0, _mvlgamma, (input,), p=p)


_xlog1py_arr = _x_times(np.log1p, 'xlog1py_cpu')


_xlog1py_da = _x_times_da(_xlog1py_arr, -1.0)


xlog1py = binary('xlog1py', _xlog1py_arr, 'SpecialXlog1PyBackward0', _xlog1py_da, lambda g, a, b: g * a / (1 + b),
                 float_out=True, doc='x * log1p(y), 0 where x == 0 (unless y is nan).',
                 scalar_node='SpecialXlog1PyBackward2', scalar_first_node='SpecialXlog1PyBackward1', one_edge=True)


def _sinc_arr(a):
    """In the input's precision, pi rounded to it first, as PyTorch computes (sinc(1) is -2.78e-08 in float32);
    float16 in float32 and rounded once, as PyTorch's kernel computes the half type (sinc(1) is -0.)."""
    if a.dtype == np.float16:
        return _layout.follow(_sinc_arr(a.astype(np.float32)).astype(np.float16), (a,))   # (astype's K order)
    with np.errstate(all='ignore'):
        px = a.dtype.type(np.pi) * a
        return np.where(a == 0, 1, np.sin(px) / px).astype(a.dtype)


def _sinc_grad(g, x, y):
    """d/dx sin(pi x)/(pi x) = (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 at x = 0."""
    if dual.is_array(g):
        with np.errstate(all='ignore'):
            px = np.pi * x
            d = np.where(x == 0, 0.0, (px * np.cos(px) - np.sin(px)) / (px * x))
        return g * d.astype(g.dtype)
    px = x * math.pi
    return g * ((px * dual.cos(px) - dual.sin(px)) / (px * x)).masked_fill(x == 0, 0.0)


sinc = unary('sinc', _sinc_arr, 'SincBackward0', _sinc_grad, doc='Elementwise sin(pi x) / (pi x), 1 at 0.')


def _entr_arr(a):
    with np.errstate(all='ignore'):
        r = np.where(a > 0, -a * np.log(a), np.where(a == 0, 0.0, np.where(a < 0, -np.inf, a)))   # NaN stays
    return r if r.dtype == a.dtype else r.astype(a.dtype)   # np.where's float literals would widen half types


entr = unary('entr', _precise(_entr_arr), 'SpecialEntrBackward0', lambda g, x, y: -g * (dual.log(x) + 1),
             doc='Elementwise -x log(x): 0 at 0, -inf below.')


def _ndtri_arr(a):
    """The inverse normal CDF of float64 ``a``: sqrt(2) erfinv(2y - 1) in the middle; in either tail (y or 1 - y,
    exact there, below 0.1) Newton's method on log ndtr(x) = log(y), as 2y - 1 keeps none of a small y's digits
    (ndtri(1e-30) was -inf, PyTorch's -11.46). log ndtr is concave: from the asymptotic start -sqrt(-2 log y), left
    of the root, each step stays left of it and converges (to 1 ulp in under 8 steps on [1e-300, 0.1])."""
    from .pointwise import _special as erf
    with np.errstate(all='ignore'):
        r = math.sqrt(2.0) * erf.erfinv(2.0 * a - 1.0)
        t = np.where(a > 0.5, 1.0 - a, a)
        tail = (t < 0.1) & (t > 0)
        if tail.any():
            lt = np.log(t[tail])
            x = -np.sqrt(-2.0 * lt)
            for _ in range(10):
                ln = _special.blocked(_special.log_ndtr, x)
                x = x - (ln - lt) * np.exp(ln + x * x / 2 + 0.5 * math.log(2 * math.pi))
            r[tail] = np.where(a[tail] > 0.5, -x, x)
        r = np.where(a == 0, -np.inf, np.where(a == 1, np.inf, r))
        return np.where((a < 0) | (a > 1), np.nan, r)


_EXPF_OVERFLOW = 88.72283935546875   # the least float32 x whose expf(x) overflows


def _bessel_kernel(kernel, odd=False, scaled=False):
    """A float64 kernel of ``_bessel`` on any float array, rounded once. Unless ``scaled``, a float32 (or half)
    input gives inf where PyTorch's float32 kernel overflows, once expf(|x|) does (signed for the odd I1), though
    I_nu is finite a little beyond."""
    def f(a):
        r = _special.blocked(kernel, a)
        if not scaled and a.dtype in (np.float32, np.float16):
            big = (np.abs(a) >= _EXPF_OVERFLOW) & np.isfinite(a)
            if big.any():
                r[big] = np.copysign(np.inf, a[big]) if odd else np.inf
        return r
    f.__name__ = kernel.__name__
    return f


def _either(kernel, op):
    """``kernel`` on an array (a plain backward), ``op`` on a Tensor (``create_graph=True``)."""
    return lambda x: kernel(x) if dual.is_array(x) else op(x)


def _tiny_safe(x, formula, kernel):
    """``formula(x)`` with 0.5 where |x| <= eps (PyTorch's i1/i1e backward: their x -> 0 limit); ``kernel``:
    PyTorch's backward kernel, which has no float16 or bfloat16 loop."""
    dt = dual.data(x).dtype
    if dt == np.float16 or _bf16.is_bf16(dt):
        raise not_implemented(kernel, dt)
    eps = float(np.finfo(dual.data(x).dtype).eps)
    tiny = np.abs(dual.data(x)) <= eps
    if not tiny.any():
        return formula(x)
    safe = dual.where(tiny, dual.const(eps, x) if not dual.is_array(x) else np.asarray(eps, x.dtype), x)
    return dual.where(tiny, dual.const(0.5, x) if not dual.is_array(x) else np.asarray(0.5, x.dtype), formula(safe))


def _kernel_dtypes(op, kernel, half=False):
    """``op`` refusing the dtypes PyTorch's kernel ``kernel`` has no loop for: complex, and half and bfloat16
    unless ``half``."""
    from .. import _dtype

    def checked(input):
        if isinstance(input, Tensor):
            d = input.dtype
            if d.is_complex or not half and d in (_dtype.float16, _dtype.bfloat16):
                raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_name(d)}\'')
        return op(input)
    checked.__name__ = checked.__qualname__ = op.__name__
    checked.__doc__ = op.__doc__
    return checked


_i0_arr, _i1_arr = _bessel_kernel(_bessel.i0), _bessel_kernel(_bessel.i1, odd=True)
_i0e_arr, _i1e_arr = _bessel_kernel(_bessel.i0e, scaled=True), _bessel_kernel(_bessel.i1e, odd=True, scaled=True)
i0 = _kernel_dtypes(unary('i0', _i0_arr, 'I0Backward0', lambda g, x, y: g * _either(_i1_arr, i1)(x),
                          doc='The modified Bessel function of the first kind of order 0, I0(x).'), 'i0_vml_cpu', True)
i1 = _kernel_dtypes(unary('special_i1', _i1_arr, 'SpecialI1Backward0',
                          lambda g, x, y: g * _tiny_safe(x, lambda v: _either(_i0_arr, i0)(v) - y / v,
                                                         'i1_backward'),
                          doc='The modified Bessel function of the first kind of order 1, I1(x).'), 'i1_cpu', True)
i0e = _kernel_dtypes(unary('special_i0e', _i0e_arr, 'SpecialI0EBackward0',
                           lambda g, x, y: g * (_either(_i1e_arr, i1e)(x) - dual.sign(x) * y),
                           doc='exp(-|x|) I0(x): I0 scaled so that it does not overflow.'), 'i0e_cpu', True)
i1e = _kernel_dtypes(unary('special_i1e', _i1e_arr, 'SpecialI1EBackward0',
                           lambda g, x, y: g * _tiny_safe(x, lambda v: _either(_i0e_arr, i0e)(v)
                                                          - y * (dual.sign(v) + 1 / v), 'i1e_backward'),
                           doc='exp(-|x|) I1(x): I1 scaled so that it does not overflow.'), 'i1e_cpu', True)
erfcx = _kernel_dtypes(unary('special_erfcx', lambda a: _special.blocked(_special.erfcx, a), 'SpecialErfcxBackward0',
                             lambda g, x, y: g * (2.0 * x * y - _special._2_SQRTPI),
                             doc='The scaled complementary error function exp(x^2) erfc(x).'), 'erfcx_cpu')
log_ndtr = _kernel_dtypes(unary('special_log_ndtr', lambda a: _special.blocked(_special.log_ndtr, a),
                                'SpecialLogNdtrBackward0',
                                lambda g, x, y: g / math.sqrt(2 * math.pi) * dual.exp(-(y + x * x / 2)),
                                doc='The log of the standard normal CDF, accurate far into both tails.'),
                          'log_ndtr_cpu')


ndtri = _kernel_dtypes(unary('ndtri', _precise(_ndtri_arr), 'SpecialNdtriBackward0',
                             lambda g, x, y: g * math.sqrt(2 * math.pi) * dual.exp(y * y * 0.5),
                             doc='The inverse of the standard normal CDF.'), 'ndtri_cpu')


def _values_only(name, kernel, doc, arg='input'):
    """An op PyTorch computes without a derivative: its result never requires grad (integers as float32).
    ``arg``: the name PyTorch's signature gives the argument (its error messages name it)."""
    from .._dtype import DEFAULT

    def compute(input):
        try:
            a = input._data
        except AttributeError:
            raise arg_error(name, arg, 1, input) from None
        r = kernel(a if a.dtype.kind == 'f' else cast_array(a, DEFAULT.np))
        if not a.flags.c_contiguous:   # (a broadcast or permuted input: the result laid out as PyTorch's)
            r = _layout.follow(r, (a,))
        return Tensor._make(r)
    checked = _kernel_dtypes(compute, name[8:] + '_cpu')
    op = checked if arg == 'input' else lambda x: checked(x)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


modified_bessel_i0 = _values_only('special_modified_bessel_i0', _i0_arr, 'I0(x), without a derivative (as PyTorch).')
modified_bessel_i1 = _values_only('special_modified_bessel_i1', _i1_arr, 'I1(x), without a derivative (as PyTorch).')


def _own_precision(module, name):
    """Kernel ``name`` of ``_bessel_jy``, ``_bessel_k`` or ``_airy`` (float32 or float64 arrays, in their own
    precision as PyTorch's templated kernels compute) on any shape, a block at a time. The module is imported at
    the first call: ``import ember`` does not load the three (about 1 ms of it)."""
    def f(a):
        return _cephes.blocked(getattr(importlib.import_module(f'{__package__}.{module}'), name), a)
    f.__name__ = name
    return f


# torch.special's Bessel functions J, Y and K of orders 0 and 1 and the Airy function Ai: values only, as PyTorch
bessel_j0, bessel_j1, bessel_y0, bessel_y1 = (
    _values_only(f'special_bessel_{n}', _own_precision('_bessel_jy', n),
                 f'The Bessel function of the {"first" if n[0] == "j" else "second"} kind of order {n[1]}, '
                 f'{n.upper()}(x), without a derivative (as PyTorch).') for n in ('j0', 'j1', 'y0', 'y1'))
modified_bessel_k0, modified_bessel_k1 = (
    _values_only(f'special_modified_bessel_k{n}', _own_precision('_bessel_k', f'k{n}'),
                 f'The modified Bessel function of the second kind of order {n}, K{n}(x), without a derivative '
                 '(as PyTorch).') for n in '01')
scaled_modified_bessel_k0, scaled_modified_bessel_k1 = (
    _values_only(f'special_scaled_modified_bessel_k{n}', _own_precision('_bessel_k', f'k{n}e'),
                 f'exp(x) K{n}(x), without a derivative (as PyTorch).', arg='x') for n in '01')
airy_ai = _values_only('special_airy_ai', _own_precision('_airy', 'airy_ai'),
                       'The Airy function Ai(x), without a derivative (as PyTorch).', arg='x')


def _spherical_j0_arr(a):
    """sin(x) / x, by its Taylor polynomial below 0.5 in magnitude and 0 at +-inf (PyTorch's kernel's cases)."""
    with np.errstate(all='ignore'):
        u = a * a
        taylor = 1 + u * (-1 / 6 + u * (1 / 120 + u * (-1 / 5040 + u * (1 / 362880 + u * (-1 / 39916800
                                                                                        + u / 6227020800)))))
        r = np.where(np.abs(a) < 0.5, taylor, np.sin(a) / a)
        return np.where(np.isinf(a), 0.0, r)


spherical_bessel_j0 = _values_only('special_spherical_bessel_j0', _precise(_spherical_j0_arr),
                                   'The spherical Bessel function of the first kind of order 0, sin(x) / x.', 'x')


def _polynomial(name, kernel):
    """torch.special.<name>(input, n): a polynomial of integer degree n (n's values truncated, as PyTorch casts
    them) at x, both tensors or numbers, broadcast; the result in their promoted float dtype, without a
    derivative (PyTorch records none)."""
    from .. import _dtype
    from ._util import not_implemented

    def op(input, n):
        if not isinstance(input, Tensor) and not isinstance(n, Tensor):
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            f"({type(input).__name__}, {type(n).__name__}): one of input and n must be a Tensor")
        dt = _dtype.result_type(input, n)
        if not (dt.is_floating_point or dt.is_complex):
            dt = _dtype.get_default_dtype()
        if dt.is_complex or dt in (_dtype.float16, _dtype.bfloat16):
            raise not_implemented(f'{name}_cpu', dt)
        x = np.asarray(input._data if isinstance(input, Tensor) else input, dt.np)
        nv = np.asarray(n._data if isinstance(n, Tensor) else n).astype(dt.np)
        with np.errstate(invalid='ignore'):
            degree = np.where(np.isfinite(nv), np.trunc(nv), -1).astype(np.int64)
        try:
            np.broadcast_shapes(x.shape, degree.shape)
        except ValueError:
            from ._util import broadcast_mismatch
            raise broadcast_mismatch([x.shape, degree.shape]) from None

        def values(x, degree):     # (the kernels index flat arrays: 0-d operands raised IndexError)
            x, degree = np.broadcast_arrays(x, degree)
            with np.errstate(all='ignore'):
                r = kernel(np.ascontiguousarray(x).reshape(-1), np.ascontiguousarray(degree).reshape(-1))
            return np.asarray(r, dt.np).reshape(x.shape)
        return Tensor._make(_layout.apply(values, (x, degree)))   # laid out as PyTorch's pointwise results
    op.__name__ = op.__qualname__ = name
    op.__doc__ = kernel.__doc__
    return op


def _chebyshev(kind, shifted=False):
    def kernel(x, n):
        return _polynomials.chebyshev(kind, x, n, shifted)
    kernel.__doc__ = (f'The {"shifted " if shifted else ""}Chebyshev polynomial of the {kind.upper()} kind of degree n '
                      f'at x{" (at 2x - 1)" if shifted else ""}, without a derivative (as PyTorch).')
    return kernel


# torch.special's orthogonal polynomials, by name
POLYNOMIALS = {f'{"shifted_" if s else ""}chebyshev_polynomial_{k}': _polynomial(
    f'{"shifted_" if s else ""}chebyshev_polynomial_{k}', _chebyshev(k, s)) for s in (False, True) for k in 'tuvw'}
POLYNOMIALS.update((name, _polynomial(name, kernel)) for name, kernel in (
    ('hermite_polynomial_h', _polynomials.hermite_h), ('hermite_polynomial_he', _polynomials.hermite_he),
    ('laguerre_polynomial_l', _polynomials.laguerre_l), ('legendre_polynomial_p', _polynomials.legendre_p)))


def _in_float64_2(kernel):
    """A float64 kernel of two arrays (or an array and a number) on promoted float operands (bfloat16 through
    float32), rounded once."""
    def f(a, b):
        if _bf16.is_bf16(np.result_type(a, b)):
            return _bf16.from_f32(kernel(_bf16.to_f32(a), _bf16.to_f32(b)).astype(np.float32))
        with np.errstate(over='ignore'):
            return kernel(a, b).astype(np.result_type(a, b))
    return f


def _igamma_dx(sign):
    """d/dx of P(a, x) (sign 1) or Q(a, x) (sign -1): +-x^(a-1) e^-x / Gamma(a)."""
    def db(g, a, b):   # (binary() saves the operands its formulas name: a and b)
        if dual.is_array(g):
            with np.errstate(all='ignore'):
                d = np.exp((a - 1) * np.log(b) - b - _lgamma(np.asarray(a, np.float64)))
            return g * (sign * d).astype(g.dtype)
        return g * sign * dual.exp((a - 1) * dual.log(b) - b - lgamma(a))
    return db


def _igamma_family(name, kernel, node_name, sign):
    """igamma/igammac: both operands tensors of a float dtype; no derivative for ``input`` (as PyTorch)."""
    from .. import _dtype

    def da(g, a, b):
        raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
    inner = binary(name, _in_float64_2(kernel), node_name, da, _igamma_dx(sign), tensors_only=True)

    def make(display, method=False):
        def op(input, other):
            for pos, (arg, what) in enumerate(((input, 'input'), (other, 'other')), 1):
                if not isinstance(arg, Tensor):
                    raise arg_error(display, what, pos - method, arg)
            dt = _dtype.result_type(input, other)
            if not dt.is_floating_point:
                raise NotImplementedError(f'"{name}_cpu" not implemented for \'{_dtype.scalar_name(dt)}\'')
            if forward_refusal.SOURCES:   # no forward-mode formula in PyTorch
                forward_refusal.refuse(name, input, other)
            return inner(input, other)
        op.__name__ = op.__qualname__ = display
        op.__doc__ = kernel.__doc__
        return op
    return make


_igamma_forms = _igamma_family('igamma', _igamma.igamma, 'IgammaBackward0', 1.0)
_igammac_forms = _igamma_family('igammac', _igamma.igammac, 'IgammacBackward0', -1.0)
igamma, igammac = _igamma_forms('igamma'), _igammac_forms('igammac')
gammainc, gammaincc = _igamma_forms('special_gammainc'), _igammac_forms('special_gammaincc')
_METHODS = {name: forms(name, method=True) for name, forms in (('igamma', _igamma_forms), ('igammac', _igammac_forms),
                                                               ('igamma_', _igamma_forms), ('igammac_', _igammac_forms))}



def _zeta_dx(g, a, b):
    raise NotImplementedError("the derivative for 'zeta' is not implemented.")


def _zeta_dq(g, a, b):
    """d/dq zeta(x, q) = -x zeta(x + 1, q)."""
    if dual.is_array(g):
        return g * (-a * _in_float64_2(_zeta.zeta)(np.asarray(a + 1, g.dtype), np.asarray(b, g.dtype)))
    return g * -a * zeta(a + 1, b)


_zeta_op = binary('zeta', _in_float64_2(_zeta.zeta), 'SpecialZetaBackward0', _zeta_dx, _zeta_dq, float_out=True,
                  scalar_node='SpecialZetaBackward2', scalar_first_node='SpecialZetaBackward1', one_edge=True)


def zeta(input, other):
    """The Hurwitz zeta function sum_k (k + q)^-x of x = ``input`` and q = ``other`` (tensors or numbers)."""
    from .. import _dtype
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f'special_zeta() received an invalid combination of arguments - got '
                        f'({type(input).__name__}, {type(other).__name__}), but expected one of:\n'
                        ' * (Tensor input, Tensor other, *, Tensor out = None)\n'
                        ' * (Number self, Tensor other, *, Tensor out = None)\n'
                        ' * (Tensor input, Number other, *, Tensor out = None)\n')
    dt = _dtype.result_type(input, other)
    if dt.is_complex or dt in (_dtype.float16, _dtype.bfloat16):
        raise NotImplementedError(f'"zeta_cpu" not implemented for \'{_dtype.scalar_name(dt)}\'')
    if forward_refusal.SOURCES:   # no forward-mode formula in PyTorch
        forward_refusal.refuse('special_zeta', input, other)
    return _zeta_op(input, other)


class LogitBackward0(Node):
    """g / (x (1 - x)); with ``eps``, 0 where x was clamped."""
    __slots__ = ('eps',)

    def backward(self, g):
        x, = self.saved()
        d = g / (x * (1 - x))
        if self.eps is None:    # PyTorch: NaN where x lies outside [0, 1]
            xd = dual.data(x)
            return (dual.where((xd < 0) | (xd > 1), dual.const(np.nan, d), d),)
        outside = (dual.data(x) < self.eps) | (dual.data(x) > 1 - self.eps)
        return (dual.mask(d, ~outside),)


def logit(input, eps=None):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when ``eps`` is given."""
    from ..autograd.grad_mode import GRAD
    a = input._data
    work = a if a.dtype.kind == 'f' else a.astype(np.float32)
    p = np.clip(work, eps, 1 - eps) if eps is not None else work
    with np.errstate(all='ignore'):
        ratio = p.astype(np.float64) / (1 - p.astype(np.float64))
        if _bf16.is_bf16(work.dtype):   # PyTorch's vectorised kernel rounds the clamped input, 1 - p and the ratio
            q = _bf16.round_f32(p)
            ratio = q / _bf16.round_f32(np.float32(1) - q)
            r = _bf16.from_f32(np.log(_bf16.round_f32(ratio).astype(np.float64)))
        else:
            r = np.log(ratio).astype(work.dtype)
    if not a.flags.c_contiguous:   # (a broadcast or permuted input: the result laid out as PyTorch's)
        r = _layout.follow(r, (a,))
    if GRAD.enabled and input._requires_grad:
        node = LogitBackward0((input,))
        node.eps = eps
        node.save(input)
        return Tensor._make(r, node)
    return Tensor._make(r)


def _bind():
    """Tensor methods and in-place variants."""
    from .inplace import make_inplace
    for name, fn in (('lgamma', lgamma), ('digamma', digamma), ('xlogy', xlogy)):
        setattr(Tensor, name, fn)
        setattr(Tensor, name + '_', make_inplace(fn, name + '_'))
    Tensor.polygamma = lambda self, n: polygamma(n, self)
    for name, fn in (('logit', logit), ('sinc', sinc), ('i0', i0)):
        setattr(Tensor, name, fn)
        setattr(Tensor, name + '_', make_inplace(fn, name + '_'))
    for name in ('igamma', 'igammac'):
        setattr(Tensor, name, _METHODS[name])
        setattr(Tensor, name + '_', make_inplace(_METHODS[name + '_'], name + '_'))
    Tensor.mvlgamma = mvlgamma


_bind()
