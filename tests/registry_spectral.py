"""The registry's entries for torch.fft, torch.special and torch.signal.windows (``Op`` entries of
tests/registry.py, run by tests/test_registry.py): every norm= mode, n=/s=/dim= with padding and cropping, odd and
even sizes, real and complex inputs, views, out=, gradients; special functions over their domains and edges;
windows in every form. No torch import here."""
import numpy as np

from registry import (BOOL, F32, F64, I64, Op, Sample, View, _Dtype, _resolve, arr, f32, f64, i64, sliced, transposed,
                      unary_samples)

OPS = []
F16 = np.float16
NORMS = ('backward', 'ortho', 'forward')


def _parts(lib, y):
    """What a result is compared by: the tensor (a complex one by its real and imaginary parts, its lazy conjugate
    bit resolved: the registry's comparison reads real values), its strides, and its dtype and grad_fn name (as
    bytes: out= needs every part to be a tensor)."""
    info = lib.tensor(list(f'{y.dtype} {y.grad_fn.name() if y.grad_fn is not None else None}'.encode()))
    strides = lib.tensor(list(y.stride()), dtype=lib.int64)
    if not y.is_complex():
        return [y, strides, info]
    y = y.resolve_conj()
    return [y.real, y.imag, strides, info]


def _cplx(lib, args, cplx):
    """Positional arrays, the first two joined as real and imaginary parts when ``cplx`` (so that complex inputs
    get gradients and finite-difference checks through ``torch.complex``)."""
    return (lib.complex(args[0], args[1]),) + tuple(args[2:]) if cplx else args


def _spectral(ns, name):
    """``lib.<ns>.<name>(*args, **kwargs)`` compared by ``_parts``; out= fills the first out tensor through the
    op and the others from its result."""
    def call(lib, *args, cplx=False, out=None, **kwargs):
        fn = getattr(getattr(lib, ns) if ns else lib, name)
        kwargs = {k: _resolve(lib, v) for k, v in kwargs.items()}
        args = _cplx(lib, args, cplx)
        if out is None:
            return tuple(_parts(lib, fn(*args, **kwargs)))
        if not isinstance(out, tuple):   # a sample's own out tensor
            return tuple(_parts(lib, fn(*args, out=out, **kwargs)))
        r = fn(*args, out=out[0], **kwargs)
        if r is not out[0]:
            raise AssertionError('out=: the result is not the out tensor')
        for o, v in zip(out[1:], _parts(lib, r)[1:]):
            o.resize_(v.shape).copy_(v.detach())
        return out
    return call


def c(*shape, dtype=F32, seed=0):
    """Real and imaginary parts (two arrays) for a complex sample built with ``cplx=True``."""
    return arr(shape, dtype, seed=seed), arr(shape, dtype, seed=seed + 7)


def cz(*shape, dtype=np.complex64, seed=0):
    """A complex array input (no gradient: the registry makes only float inputs require grad)."""
    re, im = c(*shape, dtype=F32 if dtype == np.complex64 else F64, seed=seed)
    return (re + 1j * im).astype(dtype)


# -- torch.fft ----------------------------------------------------------------------------------------------------
def _c2c_samples():
    """fft/ifft: every norm, pad and crop, odd and even, dims, views, real/complex/int inputs, and PyTorch's errors."""
    s = [Sample(f32(8), desc='f32 even'), Sample(f32(7), desc='f32 odd'),
         Sample(f32(3, 6), n=10, desc='pad n=10'), Sample(f32(3, 7), n=4, desc='crop n=4'),
         Sample(f32(4, 6), dim=0, desc='dim=0'), Sample(transposed((5, 4)), dim=1, desc='transposed'),
         Sample(sliced((3, 5)), desc='sliced'), Sample(f32(2, 3, 5), None, 1, desc='positional dim'),
         Sample(i64(6), desc='i64'), Sample(arr((5,), BOOL), desc='bool'),
         Sample(*c(3, 6), cplx=True, desc='c64'), Sample(*c(5, dtype=F64), cplx=True, n=8, gradcheck=True,
                                                         desc='c128 pad'),
         Sample(*c(6, dtype=F64), cplx=True, n=3, norm='ortho', gradcheck=True, desc='c128 crop ortho'),
         Sample(cz(4, 5), desc='complex64 array'), Sample(f32(), desc='0-d', error=True),
         Sample(View(cz(5, 4), lambda t: t.t(), 'transposed'), n=6, desc='complex transposed pad'),
         Sample(View(cz(3, 8), lambda t: t[:, ::2], 'sliced'), dim=-1, norm=None, desc='complex sliced'),
         Sample(f32(3, 5), n=6, dim=-2, desc='pad dim=-2'),
         Sample(f32(4), out=np.zeros(4, F32), desc='float32 out', error=True),
         Sample(f32(4), out=np.zeros(4, np.complex128), desc='complex128 out', error=True),
         Sample(f32(4), n=0, desc='n=0', error=True), Sample(f32(4), n=-1, desc='n=-1', error=True),
         Sample(f32(3, 4), dim=2, desc='dim out of range', error=True),
         Sample(f32(4), norm='bad', desc='bad norm', error=True),
         Sample(f32(4).astype(F16), desc='f16', error=True), Sample(f32(0), desc='empty', error=True)]
    s += [Sample(f32(3, 6), norm=m, desc=f'norm={m}') for m in NORMS]
    s += [Sample(f64(2, 5), norm=m, gradcheck=True, desc=f'f64 norm={m}') for m in NORMS]
    return s


def _r2c_samples():
    """rfft/ihfft: real inputs only (complex is PyTorch's error)."""
    s = [Sample(f32(8), desc='f32 even'), Sample(f32(7), desc='f32 odd'),
         Sample(f32(3, 6), n=9, desc='pad n=9'), Sample(f32(3, 8), n=5, desc='crop n=5'),
         Sample(f32(4, 6), dim=0, desc='dim=0'), Sample(transposed((5, 4)), dim=1, desc='transposed'),
         Sample(sliced((3, 5)), desc='sliced'), Sample(i64(6), desc='i64'),
         Sample(f64(2, 7), n=6, gradcheck=True, desc='f64 crop'),
         Sample(cz(4), desc='complex input', error=True), Sample(f32(4), n=0, desc='n=0', error=True),
         Sample(f32(3, 4), dim=-3, desc='dim out of range', error=True),
         Sample(f32(4).astype(F16), desc='f16', error=True)]
    s += [Sample(f32(3, 6), norm=m, desc=f'norm={m}') for m in NORMS]
    s += [Sample(f64(2, 5), norm=m, gradcheck=True, desc=f'f64 norm={m}') for m in NORMS]
    return s


def _c2r_samples():
    """irfft/hfft: complex (Hermitian half) inputs to a real result of n points, default 2*(m-1)."""
    s = [Sample(*c(5), cplx=True, desc='c64 default n'), Sample(*c(5), cplx=True, n=9, desc='c64 odd n=9'),
         Sample(*c(3, 4), cplx=True, n=10, desc='pad n=10'), Sample(*c(3, 6), cplx=True, n=4, desc='crop n=4'),
         Sample(*c(4, 3), cplx=True, dim=0, desc='dim=0'), Sample(f32(6), desc='real input'),
         Sample(i64(5), desc='i64'), Sample(cz(3, 4), desc='complex64 array'),
         Sample(View(cz(6, 3), lambda t: t.t(), 'transposed'), n=8, desc='complex transposed'),
         Sample(cz(5), out=np.zeros(8, np.complex64), desc='complex out', error=True),
         Sample(*c(2, 5, dtype=F64), cplx=True, n=7, gradcheck=True, desc='c128 odd'),
         Sample(*c(2, 5, dtype=F64), cplx=True, gradcheck=True, desc='c128 even'),
         Sample(f32(1), desc='one point default n', error=True), Sample(f32(4), n=0, desc='n=0', error=True),
         Sample(f32(4), norm='bad', desc='bad norm', error=True)]
    s += [Sample(*c(3, 5), cplx=True, norm=m, desc=f'norm={m}') for m in NORMS]
    s += [Sample(*c(2, 4, dtype=F64), cplx=True, norm=m, n=6, gradcheck=True, desc=f'c128 norm={m}') for m in NORMS]
    return s


def _nd_samples(real_in, real_out, two):
    """fft2/fftn and their real forms: s= with padding and cropping, dim= forms, every norm, views, errors."""
    inp = (lambda *sh, **k: (f32(*sh, seed=k.get('seed', 0)),)) if real_in else \
        (lambda *sh, **k: c(*sh, dtype=k.get('dtype', F32), seed=k.get('seed', 0)))
    kw = {} if real_in else {'cplx': True}
    g64 = (lambda *sh: (f64(*sh),)) if real_in else (lambda *sh: c(*sh, dtype=F64))
    s = [Sample(*inp(4, 6), **kw, desc='even'), Sample(*inp(5, 7), **kw, desc='odd'),
         Sample(*inp(2, 4, 6), **kw, desc='batched'),
         Sample(*inp(3, 4, 5), **kw, s=(6, 3), desc='pad and crop s'),
         Sample(*inp(3, 4, 5), **kw, dim=(0, 2), desc='dim (0,2)'),
         Sample(*inp(3, 4, 5), **kw, s=(4, 7), dim=(0, -1), desc='s and dim'),
         Sample(*inp(3, 4, 5), **kw, s=[-1, 6], dim=[2, 1], desc='s -1 and dim lists'),
         Sample(*g64(3, 4), **kw, gradcheck=True, desc='f64'),
         Sample(*g64(3, 5), **kw, s=(4, 4), norm='ortho', gradcheck=True, desc='f64 s ortho'),
         Sample(*inp(3, 4), **kw, s=(4, 4, 4), desc='s longer than input', error=True),
         Sample(*inp(3, 4), **kw, s=(3, 4), dim=(0,), desc='s and dim lengths differ', error=True),
         Sample(*inp(3, 4), **kw, dim=(0, 0), desc='repeated dim', error=True)]
    s += [Sample(*inp(3, 6), **kw, norm=m, desc=f'norm={m}') for m in NORMS]
    s += [Sample(*g64(2, 4), **kw, norm=m, gradcheck=True, desc=f'f64 norm={m}') for m in NORMS]
    if real_in:
        s += [Sample(transposed((5, 4)), desc='transposed'), Sample(sliced((3, 4)), desc='sliced'),
              Sample(i64(3, 4), desc='i64')]
    if real_in and not real_out:
        s.append(Sample(cz(3, 4), desc='complex input', error=True))
    if real_out:
        s += [Sample(*inp(4, 5), **kw, s=(4, 9), desc='odd last s'), Sample(cz(3, 4), desc='complex64 array')]
    if not two:
        s += [Sample(*inp(2, 3, 4), **kw, desc='3-d all dims'), Sample(*inp(3, 4), **kw, dim=1, desc='int dim'),
              Sample(*inp(2, 3, 4), **kw, s=(5,), desc='s only last dim')]
    else:
        s.append(Sample(*inp(4), **kw, desc='1-d input', error=True))
    if not real_in and not real_out:
        s += [Sample(cz(3, 4), desc='complex64 array'), Sample(f32(3, 4), desc='real input'),
              Sample(i64(3, 4), desc='i64')]
    return s


def spectral(name, samples, **kw):
    return Op(name, samples, ns='fft', call=_spectral('fft', name), method=False, out=True, **kw)


OPS += [spectral(n, _c2c_samples) for n in ('fft', 'ifft')]
OPS += [spectral(n, _r2c_samples) for n in ('rfft', 'ihfft')]
OPS += [spectral(n, _c2r_samples) for n in ('irfft', 'hfft')]
OPS += [spectral('fft2', lambda: _nd_samples(False, False, True)),
        spectral('ifft2', lambda: _nd_samples(False, False, True)),
        spectral('fftn', lambda: _nd_samples(False, False, False)),
        spectral('ifftn', lambda: _nd_samples(False, False, False)),
        spectral('rfft2', lambda: _nd_samples(True, False, True)),
        spectral('rfftn', lambda: _nd_samples(True, False, False)),
        spectral('irfft2', lambda: _nd_samples(False, True, True)),
        spectral('irfftn', lambda: _nd_samples(False, True, False))]


def _freq_samples(name):
    """Sizes odd, even, 1 and 0, spacings, dtypes, requires_grad; negative n (rfftfreq takes -1 and -2: C's n / 2)."""
    r = name == 'rfftfreq'
    return [Sample(5), Sample(8), Sample(7, 0.1, desc='7 d=0.1'), Sample(6, d=2.5, desc='6 d=2.5'),
            Sample(1, desc='1'), Sample(0, desc='0'), Sample(5, dtype=_Dtype('float64'), desc='float64'),
            Sample(4, dtype=_Dtype('float16'), desc='float16'), Sample(4, requires_grad=True, desc='requires_grad'),
            Sample(3, dtype=_Dtype('complex64'), desc='complex64', error=True),
            Sample(4, dtype=_Dtype('int64'), desc='int64', error=True),
            Sample(-1, desc='n=-1', error=not r), Sample(-2, desc='n=-2', error=not r),
            Sample(-5, desc='n=-5', error=True)]


def _freq(name):
    def call(lib, *args, out=None, **kwargs):
        kwargs = {k: _resolve(lib, v) for k, v in kwargs.items()}
        if out is not None:
            r = getattr(lib.fft, name)(*args, out=out[0], **kwargs)
            out[1].resize_(2).copy_(lib.tensor([r.requires_grad, r.is_leaf]))
            return out
        r = getattr(lib.fft, name)(*args, **kwargs)
        return r, lib.tensor([r.requires_grad, r.is_leaf])
    return call


OPS += [Op(n, (lambda n: lambda: _freq_samples(n))(n), ns='fft', call=_freq(n), method=False, out=True, grad=False)
        for n in ('fftfreq', 'rfftfreq')]


def _shift_samples():
    return [Sample(f32(8), desc='even'), Sample(f32(7), desc='odd'), Sample(f32(4, 5), desc='2-d all dims'),
            Sample(f32(4, 5), dim=1, desc='dim=1'), Sample(f32(3, 4, 5), dim=(0, 2), desc='dim (0,2)'),
            Sample(f32(3, 4), dim=-2, desc='dim=-2'), Sample(transposed((3, 4)), desc='transposed'),
            Sample(i64(5), desc='i64'), Sample(cz(3, 3), desc='complex64'), Sample(f32(), desc='0-d', error=True),
            Sample(f32(3), dim=(), desc='dim=()', error=True),
            Sample(f32(0, 3), desc='empty'), Sample(f64(3, 4), gradcheck=True, desc='f64'),
            Sample(f32(3, 4), dim=2, desc='dim out of range', error=True)]


OPS += [Op(n, _shift_samples, ns='fft', method=False, out=False) for n in ('fftshift', 'ifftshift')]
OPS.append(Op('Tensor', lambda: [Sample(f32(2))], ns='fft', grad=False, method=False, out=False,
              call=lambda lib, x: (lib.fft.Tensor is lib.Tensor, isinstance(x, lib.fft.Tensor))))


# -- torch.special --------------------------------------------------------------------------------------------
EDGES = np.array([0.0, -0.0, -1.0, -2.5, 1e-30, -1e-30, 0.5, 30.0, -30.0, 1e4, -1e4, np.inf, -np.inf, np.nan])
HALF_ERRORS = {'erfcx', 'log_ndtr', 'ndtri', 'modified_bessel_i0', 'modified_bessel_i1', 'spherical_bessel_j0'}


def _special_unary(name, domain):
    """unary_samples plus the edge values in float32 and float64, float16 (PyTorch's error where its CPU kernel
    refuses it), a 1-d int32 input and a large-magnitude float64 sweep."""
    def gen():
        s = unary_samples(domain, seed=len(name))()
        if name == 'round':   # PyTorch's CPU kernel has no integer or bool form
            s = [x for x in s if x.desc not in ('bool', 'i64')] + [Sample(arr((3,), BOOL), desc='bool', error=True),
                                                                 Sample(i64(3), desc='i64', error=True)]
        s += [Sample(EDGES.astype(F32), desc='f32 edges', grad=False), Sample(EDGES, desc='f64 edges', grad=False),
              Sample(arr((2, 3), F32, domain).astype(F16), desc='f16', error=name in HALF_ERRORS),
              Sample(arr((5,), np.int32, domain), desc='i32', error=name == 'round'),
              Sample(np.array([-1e300, -1e10, -50.0, -5.0, 5.0, 50.0, 1e10, 1e300]), desc='f64 large', grad=False),
              Sample(0.5, desc='a Python number', error=True)]
        return s
    return gen


def special(name, domain='real', **kw):
    return Op(name, _special_unary(name, domain), ns='special', method=False, **kw)


_HALF_ROUNDING = ("PyTorch's float16 {} is not correctly rounded (its kernel rounds steps to float16: 3 of 6 "
                  "values 1-2 ulp off mpmath's); ember's float16 results are (computed wide, rounded once)")
OPS += [special(n, d, gaps={'sample:f16': _HALF_ROUNDING.format(n)} if n in ('i0e', 'logit') else None)
        for n, d in (
    ('digamma', 'positive'), ('psi', 'positive'), ('erf', 'real'), ('erfc', 'real'), ('erfcx', 'real'),
    ('erfinv', 'unit'), ('exp2', 'real'), ('expit', 'real'), ('expm1', 'real'), ('gammaln', 'positive'),
    ('i0', 'real'), ('i0e', 'real'), ('i1', 'real'), ('i1e', 'real'), ('log1p', 'positive'), ('log_ndtr', 'real'),
    ('logit', 'prob'), ('ndtr', 'real'), ('ndtri', 'prob'), ('sinc', 'real'), ('entr', 'positive'))]
OPS.append(Op('round', lambda: _special_unary('round', 'real')() + [
    Sample(np.array([0.5, 1.5, 2.5, -0.5, 1.25, 1.35], F32), decimals=1, desc='decimals=1'),
    Sample(np.array([125.0, 135.0, -150.0], F64), decimals=-1, desc='decimals=-1'),
    Sample(i64(4), decimals=1, desc='i64 decimals=1', error=True)], ns='special', method=False))
OPS += [Op(n, _special_unary(n, 'real'), ns='special', method=False, grad=False)
        for n in ('modified_bessel_i0', 'modified_bessel_i1', 'spherical_bessel_j0')]


def _logit_eps():
    return [Sample(np.array([0.0, 0.01, 0.5, 0.99, 1.0, -0.5, 1.5], F32), 0.05, desc='f32 eps=0.05'),
            Sample(np.array([0.0, 0.3, 1.0], F64), eps=0.2, desc='f64 eps=0.2', gradcheck=False),
            Sample(f64(2, 3, domain='prob'), 1e-3, gradcheck=True, desc='f64 small eps')]


OPS.append(Op('logit', _logit_eps, ns='special', method=False))   # (eps: a second entry, its samples' descs differ)


def _special_binary(name, db='positive', grad=True, tensors_only=False, da='positive'):
    """Pairs: same-shape, broadcast, views, edges in either argument, int inputs promoted, Python scalars
    (``tensors_only``: PyTorch's igamma takes tensors only, and has no integer kernel)."""
    def gen():
        g, t = grad, tensors_only
        e = EDGES.astype(F64)
        s = [Sample(f32(3, 4), f32(3, 4, domain=db, seed=1), grad=g, desc='f32'),
             Sample(f32(2, 3, 1), f32(4, domain=db, seed=1), grad=g, desc='broadcast'),
             Sample(transposed((3, 4)), sliced((3, 4), domain=db, seed=1), grad=g, desc='views'),
             Sample(f64(2, 3, domain=da), f64(2, 3, domain=db, seed=1), grad=g, gradcheck=True, desc='f64'),
             Sample(e, np.abs(e[::-1]), grad=False, desc='f64 edges'),
             Sample(e.astype(F32), e.astype(F32)[::-1].copy(), grad=False, desc='f32 edges'),
             Sample(i64(2, 3, domain='positive'), i64(2, 3, domain='positive', seed=1), desc='i64', error=t),
             Sample(i64(2, 3, domain='positive'), f32(3, domain=db, seed=1), grad=g, desc='i64 with f32'),
             Sample(f32(2, 3), 2.5, grad=g, desc='with float', error=t),
             Sample(f32(2, 3), 2, grad=g, desc='with int', error=t),
             Sample(1.5, f32(2, 3, domain=db), grad=g, desc='float with tensor', error=t),
             Sample(f32(2, 3), f64(3, domain=db), grad=g, desc='f32 with f64'),
             Sample(f32(2, 3), f32(4, domain=db), desc='shape mismatch', error=True)]
        return s
    return gen


OPS += [Op('xlogy', _special_binary('xlogy'), ns='special', method=False),
        Op('xlog1py', _special_binary('xlog1py'), ns='special', method=False),
        Op('zeta', _special_binary('zeta', 'positive', grad=(1,), da='above1'), ns='special', method=False),
        Op('gammainc', _special_binary('gammainc', 'positive', grad=(1,), tensors_only=True), ns='special',
           method=False),
        Op('gammaincc', _special_binary('gammaincc', 'positive', grad=(1,), tensors_only=True), ns='special',
           method=False)]

POLYS = ('chebyshev_polynomial_t', 'chebyshev_polynomial_u', 'chebyshev_polynomial_v', 'chebyshev_polynomial_w',
         'shifted_chebyshev_polynomial_t', 'shifted_chebyshev_polynomial_u', 'shifted_chebyshev_polynomial_v',
         'shifted_chebyshev_polynomial_w', 'hermite_polynomial_h', 'hermite_polynomial_he', 'laguerre_polynomial_l',
         'legendre_polynomial_p')


def _poly_samples():
    """Orthogonal polynomials: degrees 0..7 and large, negative degree, x inside and outside the interval, edges,
    Python-scalar x or n, float and int degrees."""
    x = np.array([-1.0, -0.7, -0.2, 0.0, 0.3, 0.9, 1.0, 1.5, -2.0], F32)
    n = np.arange(9).astype(I64)
    return [Sample(x, n, desc='f32 x, i64 n 0..8'), Sample(x.astype(F64), 3, desc='f64 x, int n'),
            Sample(x.astype(F64), np.array([12.0]), desc='f64 x, float n 12'),
            Sample(x.astype(F64), 30, desc='n=30'), Sample(x.astype(F64), -1, desc='n=-1'),
            Sample(f32(3, 4, domain='unit'), f32(4) * 0 + 5, desc='broadcast float n'),
            Sample(transposed((3, 4), domain='unit'), 2, desc='transposed'),
            Sample(EDGES, 4, desc='f64 edges'), Sample(EDGES.astype(F32), 3, desc='f32 edges'),
            Sample(0.5, n, desc='scalar x'), Sample(i64(4), 2, desc='i64 x'),
            Sample(x.astype(F16), 2, desc='f16', error=True),
            Sample(f32(2, 3), f32(4), desc='shape mismatch', error=True)]


OPS += [Op(n, _poly_samples, ns='special', method=False, grad=False) for n in POLYS]


def _polygamma_samples():
    return [Sample(0, f32(3, 4, domain='positive')), Sample(1, f32(3, 4, domain='positive')),
            Sample(3, f64(2, 3, domain='positive'), gradcheck=True), Sample(2, EDGES, grad=False, desc='n=2 edges'),
            Sample(1, EDGES.astype(F32), grad=False, desc='n=1 f32 edges'), Sample(1, i64(4), desc='i64'),
            Sample(1, transposed((3, 4), domain='positive'), desc='transposed'),
            Sample(-1, f32(3), desc='negative n', error=True)]


def _multigammaln_samples():
    return [Sample(f32(3, 4, domain='positive') + 1, 2), Sample(f64(2, 3, domain='positive') + 2, 3, gradcheck=True),
            Sample(np.array([0.6, 1.0, 5.0, 100.0], F64), 1, desc='p=1'),
            Sample(transposed((3, 4), domain='positive'), 1, desc='transposed'),
            Sample(np.array([0.4, 1.0], F32), 2, desc='below domain (PyTorch checks only in debug builds)'),
            Sample(f32(3) + 1, 0, desc='p=0', error=True)]


def _softmax_samples():
    return [Sample(f32(3, 4), 1), Sample(f32(3, 4), 0), Sample(f32(2, 3, 4), -1),
            Sample(f32(3, 4), 1, dtype=_Dtype('float64'), desc='dtype=float64'),
            Sample(transposed((3, 4)), 1, desc='transposed'), Sample(f64(2, 3), 1, gradcheck=True),
            Sample(np.array([[0.0, 1e4, -np.inf], [np.inf, 1.0, 2.0]], F32), 1, grad=False, desc='edges'),
            Sample(f32(0, 3), 1, desc='empty'), Sample(f32(), 0, desc='0-d'),
            Sample(i64(3, 4), 1, desc='i64', error=True), Sample(f32(3, 4), 2, desc='dim out of range', error=True)]


def _softmaxish(name):
    def call(lib, *a, **k):
        return getattr(lib.special, name)(*a, **{key: _resolve(lib, v) for key, v in k.items()})
    return call


OPS += [Op('polygamma', _polygamma_samples, ns='special', method=False),
        Op('multigammaln', _multigammaln_samples, ns='special', method=False),
        Op('softmax', _softmax_samples, ns='special', method=False, out=False, call=_softmaxish('softmax')),
        Op('log_softmax', _softmax_samples, ns='special', method=False, out=False, call=_softmaxish('log_softmax')),
        Op('logsumexp', lambda: [Sample(f32(3, 4), 1), Sample(f32(2, 3, 4), (0, 2), keepdim=True),
                                 Sample(f64(2, 3), 1, gradcheck=True), Sample(transposed((3, 4)), 0),
                                 Sample(np.array([[-np.inf, -np.inf], [np.inf, 1.0], [1e30, 1e30]], F32), 1,
                                        grad=False, desc='edges'),
                                 Sample(i64(3, 4), 1, desc='i64'), Sample(f32(0, 3), 0, desc='empty dim'),
                                 Sample(f32(3, 4), 2, desc='dim out of range', error=True)],
           ns='special', method=False)]


# -- torch.signal.windows ------------------------------------------------------------------------------------------
def _window(name):
    def call(lib, *args, **kwargs):
        r = getattr(lib.signal.windows, name)(*args, **{k: _resolve(lib, v) for k, v in kwargs.items()})
        return r, lib.tensor([r.requires_grad, r.is_leaf])
    return call


def _window_samples(extra=()):
    """M = 0, 1, 2, odd and even; sym and periodic; dtype=float64/float16/bfloat16; requires_grad=; each extra
    parameter (``extra``: (kwargs, desc) pairs); PyTorch's errors (negative M, an integer dtype)."""
    def gen():
        s = [Sample(M, sym=sym, desc=f'M={M} sym={sym}') for M in (0, 1, 2, 7, 10) for sym in (True, False)]
        s += [Sample(9, dtype=_Dtype('float64'), desc='float64'),
              Sample(8, dtype=_Dtype('float16'), desc='float16', error=True),
              Sample(8, dtype=_Dtype('bfloat16'), desc='bfloat16', error=True),
              Sample(6, requires_grad=True, desc='requires_grad'),
              Sample(6, layout=_Dtype('strided'), device='cpu', desc='layout and device'),
              Sample(6, layout=_Dtype('sparse_coo'), desc='sparse layout', error=True),
              Sample(-1, desc='negative M', error=True), Sample(5, dtype=_Dtype('int64'), desc='int64', error=True)]
        s += [Sample(M, **kw, desc=f'M={M} {d}') for kw, d in extra for M in (7, 8)]
        s += [Sample(8, **{'sym': False, **kw}, dtype=_Dtype('float64'), desc=f'periodic float64 {d}')
              for kw, d in extra]
        return s
    return gen


WINDOWS = {'bartlett': (), 'blackman': (), 'cosine': (), 'hamming': (), 'hann': (), 'nuttall': (),
           'exponential': (({'tau': 2.5}, 'tau=2.5'), ({'center': 2.0, 'sym': False}, 'center=2 periodic'),
                           ({'tau': 0.5, 'sym': False}, 'tau=0.5 periodic')),
           'gaussian': (({'std': 0.4}, 'std=0.4'), ({'std': 3.0, 'sym': False}, 'std=3 periodic')),
           'kaiser': (({'beta': 0.0}, 'beta=0'), ({'beta': 5.5}, 'beta=5.5'), ({'beta': 30.0, 'sym': False},
                                                                                'beta=30 periodic')),
           'general_cosine': (({'a': [0.5, 0.5]}, 'a=[.5,.5]'), ({'a': (0.42, 0.5, 0.08)}, 'a tuple of 3'),
                              ({'a': [1.0]}, 'a=[1]')),
           'general_hamming': (({'alpha': 0.6}, 'alpha=0.6'), ({'alpha': 0.5, 'sym': False}, 'alpha=0.5 periodic'))}
ERRORS = {'exponential': (({'center': 1.0}, 'center with sym'), ({'tau': 0.0}, 'tau=0'), ({'tau': -1.0}, 'tau<0')),
          'gaussian': (({'std': 0.0}, 'std=0'), ({'std': -1.0}, 'std<0')),
          'kaiser': (({'beta': -1.0}, 'beta<0'),),
          'general_cosine': (({'a': 1.0}, 'a not iterable'),)}


def _window_with_errors(name):
    base = _window_samples(WINDOWS[name])

    def gen():
        s = base()
        if name == 'general_cosine':   # a is keyword-only and required
            for x in s:
                x.kwargs.setdefault('a', [0.46, 0.54])
            s.append(Sample(5, desc='a missing', error=True))
        s += [Sample(6, **kw, desc=d, error=True) for kw, d in ERRORS.get(name, ())]
        return s
    return gen


OPS += [Op(n, _window_with_errors(n), ns='signal.windows', call=_window(n), grad=False, method=False, out=False)
        for n in WINDOWS]
