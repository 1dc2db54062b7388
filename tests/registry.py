"""The registry of ember's public API, as data: one ``Op`` per PyTorch callable, with the sample inputs to
call it on and what to check (in the spirit of PyTorch's OpInfo and tinygrad's test_ops).

tests/test_registry.py runs every entry on ember and on PyTorch and compares; tools/supported.py reads
the same entries (without importing torch) to say in docs/SUPPORTED.md what is checked for each name.
An entry's ``call(lib, *args, **kwargs)`` receives the library (``torch`` or ``ember``) as ``lib``.
A check that cannot pass yet is left out through ``gaps`` ({check: reason}), never skipped silently:
SUPPORTED.md and the test report list every gap.
"""
import zlib

import numpy as np

F32, F64, I64, BOOL = np.float32, np.float64, np.int64, np.bool_
EXTREME = np.array([1e40, -1e40, 1e-50, -1e-50, 0.5, -3.0, 0.0])   # values float32 cannot hold

# the checks an entry can have; SUPPORTED.md prints their letters
CHECKS = {'forward': 'F', 'backward': 'B', 'gradgrad': 'G', 'dtypes': 'D', 'out': 'O', 'method': 'M', 'inplace': 'I',
          'errors': 'E'}


class View:
    """An input made non-contiguous: ``fn`` applied (in either library) to a leaf made from ``base``."""
    def __init__(self, base, fn, what):
        self.base, self.fn, self.what = base, fn, what


class Sample:
    """One call: positional ``args`` (NumPy arrays become tensors, ``View``s become views, lists of arrays
    become lists of tensors, anything else is passed as is) and ``kwargs``.
    ``error``: PyTorch raises here, so ember must raise the same exception type;
    ``unsupported``: ember refuses here with an error whose message names this argument;
    ``grad``: float inputs require grad (or only those at these positions / keyword names); ``gradcheck``: also check ember's gradients by finite differences."""
    def __init__(self, *args, desc='', error=False, unsupported=None, grad=True, gradcheck=False, **kwargs):
        self.args, self.kwargs, self.desc = args, kwargs, desc or _describe(args, kwargs)
        self.error, self.unsupported, self.grad, self.gradcheck = error, unsupported, grad, gradcheck

    def __repr__(self):
        return self.desc


class Op:
    """One public callable. ``ns``: 'torch', 'Tensor' (method or attribute only), 'nn.functional', 'linalg',
    'special', 'fft', 'signal.windows', 'autograd' or 'autograd.functional'.
    ``method``/``inplace``: the Tensor method ``name`` / ``name_`` exists in PyTorch and is checked;
    ``out``: PyTorch accepts ``out=``; ``aliases``: other names of the same op (checked on the first sample);
    ``gaps``: {check: reason} for checks left out, with the reason (a gap on a sample is 'sample:DESC');
    ``seed``: a random op, called (in every form) right after ``manual_seed(seed)``, so values compare exactly;
    ``covers``: full names of other attributes the entry's call reads and compares (their forward is checked)."""
    def __init__(self, name, samples, ns='torch', call=None, grad=True, gradgrad=True, method=None, inplace=False,
                 out=None, aliases=(), gaps=None, atol=1e-5, rtol=1e-4, grad_atol=1e-4, method_name=None, seed=None,
                 covers=()):
        self.name, self.samples, self.ns, self._call, self.seed = name, samples, ns, call, seed
        self.grad, self.gradgrad, self.inplace = grad, gradgrad, inplace
        self.method = (ns == 'torch') if method is None else method
        self.out = (ns in ('torch', 'linalg', 'special')) if out is None else out
        self.aliases, self.gaps = tuple(aliases), dict(gaps or {})
        self.atol, self.rtol, self.grad_atol = atol, rtol, grad_atol
        self.method_name = method_name or name
        self.covers = tuple(covers)

    @property
    def id(self):
        return self.name if self.ns == 'torch' else f'{self.ns}.{self.name}'

    def fn(self, lib, name=None):
        """The callable in ``lib`` under this entry's namespace."""
        mod = {'torch': lib, 'linalg': getattr(lib, 'linalg', None), 'special': getattr(lib, 'special', None),
               'fft': getattr(lib, 'fft', None), 'signal.windows': getattr(getattr(lib, 'signal', None), 'windows', None),
               'nn.functional': getattr(getattr(lib, 'nn', None), 'functional', None),
               'autograd': getattr(lib, 'autograd', None),
               'autograd.functional': getattr(getattr(lib, 'autograd', None), 'functional', None)}.get(self.ns)
        return getattr(mod, name or self.name)

    def call(self, lib, *args, **kwargs):
        if self.seed is not None:   # a random op: both libraries draw from the same seeded stream
            lib.manual_seed(self.seed)
        if self._call is not None:
            return self._call(lib, *args, **kwargs)
        if self.ns == 'Tensor':
            return getattr(args[0], self.name)(*args[1:], **kwargs)
        return self.fn(lib)(*args, **kwargs)

    def checks(self):
        """What the registry checks for this entry (names of CHECKS), read from the data alone."""
        got = {'forward'}
        samples = [s for s in self.samples() if 'sample:' + s.desc not in self.gaps]
        if self.grad and 'backward' not in self.gaps:
            got.add('backward')
            if self.gradgrad and 'gradgrad' not in self.gaps and any(s.gradcheck for s in samples):
                got.add('gradgrad')
        kinds = {_kind(s) for s in samples if not s.error}
        if len(kinds - {None}) > 1:
            got.add('dtypes')
        for c in ('out', 'inplace', 'method'):
            if getattr(self, c) and c not in self.gaps:
                got.add(c)
        if any(s.error for s in samples):
            got.add('errors')
        return got

    def names(self):
        """{public name (``namespace.name``): the checks made on it}: the function gets every check, the
        method and in-place forms their forward checks (over every sample), an alias its first sample's."""
        base = {'torch': 'torch', 'Tensor': 'torch.Tensor', 'linalg': 'torch.linalg', 'special': 'torch.special',
                'fft': 'torch.fft', 'signal.windows': 'torch.signal.windows',
                'autograd': 'torch.autograd',
                'autograd.functional': 'torch.autograd.functional',
                'nn.functional': 'torch.nn.functional'}[self.ns]
        got = self.checks()
        fwd = got & {'forward', 'dtypes', 'errors'}
        out = {f'{base}.{self.name}': got - {'method', 'inplace'}}
        out.update({f'{base}.{n}': {'forward'} for n in self.aliases})
        out.update({n: {'forward'} for n in self.covers})
        if 'method' in got and self.ns != 'Tensor':
            out[f'torch.Tensor.{self.method_name}'] = fwd | {'method'}
            if self.ns == 'torch':
                out.update({f'torch.Tensor.{n}': {'forward'} for n in self.aliases})
        if 'inplace' in got:
            out[f'torch.Tensor.{self.method_name}_'] = fwd | {'inplace'}
        return out


def _describe(args, kwargs):
    """A sample's id from its inputs: dtype and shape of arrays, repr of the rest."""
    def one(v):
        if isinstance(v, View):
            return f'{one(v.base)}.{v.what}'
        if isinstance(v, np.ndarray):
            return f'{v.dtype.name}{list(v.shape)}'.replace('float', 'f').replace('int', 'i')
        if isinstance(v, (list, tuple)) and v and isinstance(v[0], (np.ndarray, View)):
            return '[' + ','.join(one(x) for x in v) + ']'
        return repr(v)
    return ' '.join([one(a) for a in args] + [f'{k}={one(v)}' for k, v in kwargs.items()])


def _kind(sample):
    """The dtype kind of a sample's first array input ('f', 'i', 'b'), or None."""
    for a in sample.args:
        a = a.base if isinstance(a, View) else a
        if isinstance(a, (list, tuple)) and a and isinstance(a[0], np.ndarray):
            a = a[0]
        if isinstance(a, np.ndarray):
            return a.dtype.kind
    return None


# -- sample generators -----------------------------------------------------------------------------------
DOMAINS = {'real': (-2.0, 2.0), 'positive': (0.5, 2.5), 'unit': (-0.9, 0.9), 'nonzero': (0.5, 2.0), 'prob': (0.05, 0.95),
           'above1': (1.2, 3.0)}


def arr(shape, dtype=F32, domain='real', seed=0):
    """Deterministic sample values of ``shape`` in ``domain`` ('nonzero': either sign, away from 0)."""
    rng = np.random.default_rng(seed)
    if dtype == BOOL:
        return rng.random(shape) < 0.5
    lo, hi = DOMAINS[domain]
    if np.dtype(dtype).kind in 'iu':
        lo, hi = (1, 4) if domain in ('positive', 'nonzero') else ((-1, 1) if domain == 'unit' else (-3, 3))
        a = rng.integers(lo, hi + 1, size=shape)
    else:
        a = rng.uniform(lo, hi, size=shape)
    if domain == 'nonzero':
        a = a * rng.choice([-1, 1], size=shape)
    return a.astype(dtype)


def extreme(domain):
    """Float64 values float32 cannot hold, restricted to ``domain``."""
    v = EXTREME
    if domain == 'positive':
        v = v[v > 0]
    elif domain == 'unit':
        v = v[np.abs(v) < 1]
    elif domain == 'nonzero':
        v = v[v != 0]
    return v.astype(F64)


def transposed(shape, dtype=F32, domain='real', seed=0):
    return View(arr(shape[::-1], dtype, domain, seed), lambda t: t.transpose(0, 1), 'transposed')


def sliced(shape, dtype=F32, domain='real', seed=0):
    s = tuple(shape[:-1]) + (2 * shape[-1],)
    return View(arr(s, dtype, domain, seed), lambda t: t[..., ::2], 'sliced')


def _seed(name):
    return zlib.crc32(name.encode()) % 1000


def unary_samples(domain='real', ints=True, bools=True, extremes=True, seed=0):
    """0-d, 0-size, 2-d, transposed and sliced float32 inputs; float64 (gradcheck, extreme values); int64; bool."""
    def gen():
        s = [Sample(arr((), F32, domain, seed), desc='f32 0-d'),
             Sample(arr((0, 3), F32, domain, seed), desc='f32 0-size'),
             Sample(arr((3, 4), F32, domain, seed), desc='f32 (3,4)'),
             Sample(transposed((3, 4), F32, domain, seed), desc='f32 transposed'),
             Sample(sliced((2, 3), F32, domain, seed), desc='f32 sliced'),
             Sample(arr((2, 3), F64, domain, seed), desc='f64 (2,3)', gradcheck=True)]
        if extremes:
            s.append(Sample(extreme(domain), desc='f64 extreme'))
        if ints:
            s.append(Sample(arr((3, 4), I64, domain, seed), desc='i64'))
        if bools:
            s.append(Sample(arr((3, 4), BOOL, domain, seed), desc='bool'))
        return s
    return gen


def binary_samples(da='real', db='real', ints=True, bools=True, scalars=True, extremes=True, seed=0):
    """Same-shape, broadcast, 0-d, 0-size, transposed, mixed-dtype, int, bool and Python-scalar pairs."""
    def gen():
        s = [Sample(arr((3, 4), F32, da, seed), arr((3, 4), F32, db, seed + 1), desc='f32 (3,4)'),
             Sample(arr((2, 3, 1), F32, da, seed), arr((4,), F32, db, seed + 1), desc='f32 broadcast'),
             Sample(arr((), F32, da, seed), arr((2, 3), F32, db, seed + 1), desc='f32 0-d with 2-d'),
             Sample(arr((0, 3), F32, da, seed), arr((3,), F32, db, seed + 1), desc='f32 0-size'),
             Sample(transposed((3, 4), F32, da, seed), sliced((3, 4), F32, db, seed + 1), desc='f32 views'),
             Sample(arr((2, 3), F64, da, seed), arr((2, 3), F64, db, seed + 1), desc='f64', gradcheck=True),
             Sample(arr((2, 3), F32, da, seed), arr((3,), F64, db, seed + 1), desc='f32 with f64')]
        if extremes:
            s.append(Sample(extreme(da), arr(extreme(da).shape, F64, db, seed + 1), desc='f64 extreme'))
        if ints:
            s += [Sample(arr((2, 3), I64, da, seed), arr((2, 3), I64, db, seed + 1), desc='i64'),
                  Sample(arr((2, 3), I64, da, seed), arr((2, 3), F32, db, seed + 1), desc='i64 with f32')]
        if bools:
            s.append(Sample(arr((2, 3), BOOL, da, seed), arr((2, 3), BOOL, db, seed + 1), desc='bool'))
        if scalars:
            s += [Sample(arr((2, 3), F32, da, seed), 1.5 if db != 'nonzero' else -1.5, desc='f32 with float'),
                  Sample(arr((2, 3), F32, da, seed), 2, desc='f32 with int')]
            if ints:
                s.append(Sample(arr((2, 3), I64, da, seed), 2.5, desc='i64 with float'))
        s.append(Sample(arr((2, 3), F32, da, seed), arr((4,), F32, db, seed), desc='shape mismatch', error=True))
        return s
    return gen


def int_binary_samples(seed=0):
    """Integer and bool pairs (bitwise ops), with float operands as PyTorch's error case."""
    def gen():
        return [Sample(arr((3, 4), I64, 'real', seed), arr((3, 4), I64, 'real', seed + 1), desc='i64'),
                Sample(arr((2, 3, 1), I64, 'real', seed), arr((4,), I64, 'real', seed + 1), desc='i64 broadcast'),
                Sample(arr((0, 3), I64, 'real', seed), arr((3,), I64, 'real', seed + 1), desc='i64 0-size'),
                Sample(transposed((3, 4), I64, 'real', seed), arr((), I64, 'real', seed + 1), desc='i64 views'),
                Sample(arr((2, 3), BOOL, 'real', seed), arr((2, 3), BOOL, 'real', seed + 1), desc='bool'),
                Sample(arr((2, 3), BOOL, 'real', seed), arr((2, 3), I64, 'real', seed + 1), desc='bool with i64'),
                Sample(arr((2, 3), I64, 'real', seed), 5, desc='i64 with int'),
                Sample(arr((2, 3), F32, 'real', seed), arr((2, 3), F32, 'real', seed + 1), desc='f32', error=True),
                Sample(arr((2, 3), I64, 'real', seed), 1.5, desc='i64 with float', error=True)]
    return gen


SCALARS = ('f32 with float', 'f32 with int', 'i64 with float')


def _mark(gen, errors=(), drop=()):
    """A sample generator with the samples named in ``errors`` marked as error cases and those in ``drop``
    removed (for samples that do not apply to an op, e.g. a bool input to an op PyTorch defines for bool)."""
    def g():
        out = []
        for s in gen():
            if s.desc in drop:
                continue
            if s.desc in errors:
                s.error = True
            out.append(s)
        return out
    return g


# -- the entries -----------------------------------------------------------------------------------------
OPS = []


def add(*ops):
    OPS.extend(ops)


_OUT_GAP = 'i10b: out= not implemented yet'


def unary(name, domain='real', errors=(), drop=(), inplace=True, aliases=(), extremes=True, **kw):
    gen = _mark(unary_samples(domain, extremes=extremes, seed=_seed(name)), errors, drop)
    return Op(name, gen, inplace=inplace, aliases=aliases, **kw)


def binary(name, da='real', db='real', errors=(), drop=(), inplace=True, scalars=True, **kw):
    gen = _mark(binary_samples(da, db, scalars=scalars, seed=_seed(name)), errors, drop)
    return Op(name, gen, inplace=inplace, **kw)


add(
    unary('abs', aliases=('absolute',), errors=('bool',)),
    unary('neg', aliases=('negative',), errors=('bool',)),
    unary('exp', gradgrad=True),
    unary('exp2'),
    unary('expm1'),
    unary('log', 'positive', gradgrad=True),
    unary('log2', 'positive'),
    unary('log10', 'positive'),
    unary('log1p', 'positive'),
    unary('sqrt', 'positive', gradgrad=True),
    unary('rsqrt', 'positive'),
    unary('reciprocal', 'positive'),
    unary('sin', gradgrad=True),
    unary('cos', gradgrad=True),
    unary('tan', 'unit'),
    unary('asin', 'unit', aliases=('arcsin',)),
    unary('acos', 'unit', aliases=('arccos',)),
    unary('atan', aliases=('arctan',)),
    unary('sinh'),
    unary('cosh'),
    unary('tanh', gradgrad=True),
    unary('sigmoid', gradgrad=True),
    unary('erf'),
    unary('relu', errors=('bool',), out=False),
    unary('sign'),
    unary('sgn'),
    unary('floor', errors=('bool',)),
    unary('ceil', errors=('bool',)),
    unary('trunc', errors=('bool',)),
    unary('frac', errors=('i64', 'bool')),
    unary('round', errors=('bool',)),
    unary('square'),
    unary('isnan', inplace=False, grad=False, out=False),
    unary('isinf', inplace=False, grad=False, out=False),
    unary('isfinite', inplace=False, grad=False, out=False),
    unary('logical_not'),
    unary('bitwise_not', grad=False, errors=('f32 0-d', 'f32 0-size', 'f32 (3,4)', 'f32 transposed', 'f32 sliced',
                                            'f64 (2,3)', 'f64 extreme')),
    unary('nan_to_num', grad=True),
)

add(
    binary('add'),
    binary('sub', aliases=('subtract',), errors=('bool',)),
    binary('mul', aliases=('multiply',)),
    binary('div', db='nonzero', aliases=('divide', 'true_divide')),
    binary('floor_divide', db='nonzero', errors=('bool',)),
    binary('fmod', db='nonzero', errors=('bool',)),
    binary('remainder', db='nonzero', errors=('bool',)),
    binary('pow', da='positive', errors=('bool',)),
    binary('atan2', errors=SCALARS),
    binary('maximum', errors=SCALARS, inplace=False),
    binary('minimum', errors=SCALARS, inplace=False),
    binary('eq'),
    binary('ne', aliases=('not_equal',)),
    binary('lt', aliases=('less',)),
    binary('le', aliases=('less_equal',)),
    binary('gt', aliases=('greater',)),
    binary('ge', aliases=('greater_equal',)),
    binary('logical_and', errors=SCALARS),
    binary('logical_or', errors=SCALARS),
    binary('logical_xor', errors=SCALARS),
    Op('bitwise_and', int_binary_samples(_seed('bitwise_and')), inplace=True, grad=False),
    Op('bitwise_or', int_binary_samples(_seed('bitwise_or')), inplace=True, grad=False),
    Op('bitwise_xor', int_binary_samples(_seed('bitwise_xor')), inplace=True, grad=False),
    Op('bitwise_left_shift', lambda: [
        Sample(arr((3, 4), I64, seed=1), np.array([0, 1, 63, 64], np.int64)), Sample(arr((2, 3), I64), 2),
        Sample(arr((2, 3), np.int32), np.array([-1, 31, 32], np.int32), desc='i32 counts out of range'),
        Sample(arr((2, 3), np.uint8), 7, desc='u8 by 7'), Sample(arr((2, 3), np.int8), 9, desc='i8 by 9'),
        Sample(arr((2, 3), BOOL), 1, desc='bool by 1'), Sample(f32(2, 3), 1, error=True)],
          inplace=True, grad=False),
    Op('bitwise_right_shift', lambda: [
        Sample(arr((3, 4), I64, seed=1) * 100, np.array([0, 1, 63, 70], np.int64)),
        Sample(arr((2, 3), I64) * 100, 2), Sample(arr((2, 3), np.int32) * 9, np.array([-1, 31, 32], np.int32)),
        Sample(arr((2, 3), np.uint8) * 50, 9, desc='u8 by 9'), Sample(f32(2, 3), 1, error=True)],
          inplace=True, grad=False),
    binary('fmax', errors=SCALARS, inplace=False, drop=('bool',)),
    binary('fmin', errors=SCALARS, inplace=False, drop=('bool',)),
)


def f32(*shape, domain='real', seed=0):
    return arr(shape, F32, domain, seed)


def f64(*shape, domain='real', seed=0):
    return arr(shape, F64, domain, seed)


def i64(*shape, domain='real', seed=0):
    return arr(shape, I64, domain, seed)


def boolean(*shape, seed=0):
    return arr(shape, BOOL, seed=seed)


def entry(name, samples=None, **kw):
    """An entry whose samples are given as a function returning a list (built when the tests collect)."""
    return Op(name, samples, **kw)


def reduction_samples(tuple_dim=True, nodim=True, dim_kw='dim', ints=True, bools=True, empty=True, extremes=True,
                      domain='real', seed=0):
    """Whole-tensor and per-dim reductions (keepdim, negative and tuple dims), 0-d, 0-size, views, dtypes."""
    def gen():
        d = lambda v: {dim_kw: v}   # noqa: E731 (the op's name for the dim argument)
        s = [Sample(f32(3, 4, domain=domain, seed=seed), **d(1)),
             Sample(f32(2, 3, 4, domain=domain, seed=seed), **d(-1), keepdim=True),
             Sample(f32(domain=domain, seed=seed), **d(0)),
             Sample(transposed((3, 4), F32, domain, seed), **d(0), desc='f32 transposed dim=0'),
             Sample(f64(2, 3, domain=domain, seed=seed), **d(1), gradcheck=True),
             Sample(f32(3, 4, domain=domain, seed=seed), **d(2), error=True)]
        if nodim:
            s += [Sample(f32(3, 4, domain=domain, seed=seed)), Sample(f32(domain=domain, seed=seed))]
        if tuple_dim:
            s.append(Sample(f32(2, 3, 4, domain=domain, seed=seed), **d((0, 2))))
        if empty:
            s.append(Sample(f32(0, 3, domain=domain, seed=seed), **d(1)))
        if extremes:
            s.append(Sample(extreme(domain).reshape(1, -1), **d(1)))
        if ints:
            s.append(Sample(i64(3, 4, domain=domain, seed=seed), **d(0)))
        if bools:
            s.append(Sample(boolean(3, 4, seed=seed), **d(0)))
        return s
    return gen


def red(name, errors=(), drop=(), **kw):
    opts = {k: kw.pop(k) for k in ('tuple_dim', 'nodim', 'dim_kw', 'ints', 'bools', 'empty', 'extremes', 'domain')
            if k in kw}
    return Op(name, _mark(reduction_samples(seed=_seed(name), **opts), errors, drop), **kw)


_FLOAT_ONLY = ('i64[3, 4] dim=0', 'bool[3, 4] dim=0')
_KEEPDIM = 'f32[2, 3, 4] dim=-1 keepdim=True'
add(
    red('sum', gradgrad=True),
    red('mean', errors=_FLOAT_ONLY),
    red('prod', tuple_dim=False),
    red('std', errors=_FLOAT_ONLY),
    red('var', errors=_FLOAT_ONLY),
    red('std_mean', errors=_FLOAT_ONLY, method=False, out=False),
    red('var_mean', errors=_FLOAT_ONLY, method=False, out=False),
    red('amax'),
    red('amin'),
    red('max', tuple_dim=False),
    red('min', tuple_dim=False),
    red('argmax', tuple_dim=False, grad=False, errors=('bool[3, 4] dim=0',)),
    red('argmin', tuple_dim=False, grad=False, errors=('bool[3, 4] dim=0',)),
    red('all', grad=False),
    red('any', grad=False),
    red('logsumexp', nodim=False),
    red('norm', errors=_FLOAT_ONLY, out=False),
    red('count_nonzero', grad=False, out=False, drop=(_KEEPDIM,)),
    red('nansum'),
    red('nanmean', errors=_FLOAT_ONLY),
    red('cumsum', nodim=False, tuple_dim=False, inplace=True, drop=(_KEEPDIM,)),
    red('cumprod', nodim=False, tuple_dim=False, inplace=True, drop=(_KEEPDIM,)),
    red('softmax', nodim=False, tuple_dim=False, out=False, drop=(_KEEPDIM,), errors=_FLOAT_ONLY),
    red('log_softmax', nodim=False, tuple_dim=False, out=False, drop=(_KEEPDIM,), errors=_FLOAT_ONLY),
    red('aminmax', tuple_dim=False, grad=False),
)

add(
    entry('clamp', lambda: [Sample(f32(3, 4), -0.5, 0.5), Sample(f32(3, 4), min=-0.5), Sample(f32(3, 4), max=0.3),
                            Sample(f32(3, 4), f32(3, 4, seed=1) - 1, f32(4, seed=2) + 1),
                            Sample(f64(2, 3), -0.5, 0.5, gradcheck=True), Sample(i64(3, 4), -1, 2),
                            Sample(f32(0, 3), -1.0, 1.0), Sample(f32(), -0.5, 0.5),
                            Sample(f32(3, 4), error=True)], inplace=True, aliases=('clip',)),
    entry('clamp_min', lambda: [Sample(f32(3, 4), 0.1), Sample(f64(2, 3), 0.1, gradcheck=True),
                                Sample(i64(3, 4), 0)], inplace=True),
    entry('clamp_max', lambda: [Sample(f32(3, 4), 0.1), Sample(f64(2, 3), 0.1, gradcheck=True),
                                Sample(i64(3, 4), 0)], inplace=True),
    entry('lerp', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1), 0.3), Sample(f32(3, 4), f32(4, seed=1), f32(3, 4, seed=2)),
                           Sample(f64(2, 3), f64(2, 3, seed=1), f64(2, 3, seed=2), gradcheck=True),
                           Sample(f32(0, 3), f32(3, seed=1), 0.5)], inplace=True),
    entry('addcmul', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1), f32(4, seed=2), value=0.5),
                              Sample(f64(2, 3), f64(2, 3, seed=1), f64(2, 3, seed=2), gradcheck=True),
                              Sample(i64(2, 3), i64(2, 3, seed=1), i64(2, 3, seed=2), value=2)], inplace=True),
    entry('addcdiv', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1), f32(4, domain='nonzero', seed=2), value=0.5),
                              Sample(f64(2, 3), f64(2, 3, seed=1), f64(2, 3, domain='nonzero', seed=2), gradcheck=True),
                              Sample(i64(2, 3), i64(2, 3, seed=1), i64(2, 3, domain='nonzero', seed=2), error=True)],
          inplace=True),
    entry('where', method=False, samples=lambda: [Sample(boolean(3, 4), f32(3, 4), f32(3, 4, seed=1)),
                            Sample(boolean(3, 1), f32(4), f32(3, 4, seed=1)),
                            Sample(boolean(2, 3), f64(2, 3), f64(2, 3, seed=1), gradcheck=True),
                            Sample(boolean(2, 3), f32(2, 3), 0.0), Sample(boolean(2, 3), i64(2, 3), f32(2, 3)),
                            Sample(boolean(3, 4)), Sample(f32(3, 4), f32(3, 4), f32(3, 4), error=True)]),
    entry('masked_fill', lambda: [Sample(f32(3, 4), boolean(3, 4), 2.0), Sample(i64(3, 4), boolean(3, 4), 7),
                                  Sample(f64(2, 3), boolean(2, 3), -1.0, gradcheck=True),
                                  Sample(f32(3, 4), i64(3, 4), 2.0, error=True)], inplace=True, out=False),
    entry('isclose', lambda: [Sample(f32(3, 4), f32(3, 4)), Sample(f32(3, 4), f32(3, 4, seed=1), atol=2.0),
                              Sample(f64(2, 3), f64(3)), Sample(i64(2, 3), i64(2, 3, seed=1))], grad=False, out=False),
    entry('allclose', lambda: [Sample(f32(3, 4), f32(3, 4), desc='same'), Sample(f32(3, 4), f32(3, 4, seed=1)),
                               Sample(f64(2, 3), f64(2, 3, seed=1), rtol=10.0, atol=10.0)], grad=False, out=False),
    entry('equal', lambda: [Sample(f32(3, 4), f32(3, 4), desc='same'), Sample(f32(3, 4), f32(3, 4, seed=1)),
                            Sample(f32(3, 4), f32(4))], grad=False, out=False),
    entry('dist', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(f32(3, 4), f32(4, seed=1), 1),
                           Sample(f64(2, 3), f64(2, 3, seed=1), gradcheck=True), Sample(f32(2, 3), f32(3, seed=1), 3.0),
                           Sample(f32(2, 3), f32(2, 3, seed=1), float('inf'))], out=False),
)


# -- shape ops -------------------------------------------------------------------------------------------
def _v(*shape):
    """A transposed (non-contiguous) float32 input of ``shape``."""
    return transposed(shape)


add(
    entry('reshape', lambda: [Sample(f32(3, 4), (4, 3)), Sample(f32(3, 4), (-1,)), Sample(f32(), (1, 1)),
                              Sample(f32(0, 3), (3, 0)), Sample(_v(3, 4), (2, 6)), Sample(i64(2, 3), (3, 2)),
                              Sample(f64(2, 3), (6,), gradcheck=True), Sample(f32(3, 4), (5, -1), error=True)],
          out=False),
    entry('view', ns='Tensor', samples=lambda: [Sample(f32(3, 4), 4, 3), Sample(f32(3, 4), -1), Sample(f32(), 1),
                                                Sample(f64(2, 3), 3, 2, gradcheck=True), Sample(_v(3, 4), 12, error=True)]),
    entry('flatten', lambda: [Sample(f32(2, 3, 4)), Sample(f32(2, 3, 4), 1), Sample(f32(2, 3, 4), 0, 1), Sample(f32()),
                              Sample(_v(3, 4)), Sample(f64(2, 3), gradcheck=True), Sample(f32(2, 3), 3, error=True)],
          out=False),
    entry('unflatten', lambda: [Sample(f32(2, 6), 1, (2, 3)), Sample(f32(6), 0, (-1, 2)),
                                Sample(f64(2, 6), 1, (3, 2), gradcheck=True), Sample(f32(2, 6), 1, (4, 2), error=True)],
          out=False),
    entry('squeeze', lambda: [Sample(f32(1, 3, 1)), Sample(f32(1, 3, 1), 0), Sample(f32(1, 3, 1), 1),
                              Sample(f32(1, 3, 1), (0, 2)), Sample(f32()), Sample(f64(1, 3), gradcheck=True),
                              Sample(f32(1, 3), 2, error=True)], out=False, inplace=True),
    entry('unsqueeze', lambda: [Sample(f32(3, 4), 0), Sample(f32(3, 4), -1), Sample(f32(), 0), Sample(_v(3, 4), 1),
                                Sample(f64(2, 3), 1, gradcheck=True), Sample(f32(3, 4), 3, error=True)],
          out=False, inplace=True),
    entry('permute', lambda: [Sample(f32(2, 3, 4), (2, 0, 1)), Sample(f32(), ()),
                              Sample(f64(2, 3), (1, 0), gradcheck=True), Sample(f32(2, 3), (0, 0), error=True)],
          out=False),
    entry('transpose', lambda: [Sample(f32(2, 3, 4), 0, 2), Sample(f32(3, 4), -1, -2), Sample(f32(), 0, -1),
                                Sample(f64(2, 3), 0, 1, gradcheck=True), Sample(f32(2, 3), 0, 2, error=True)],
          out=False, inplace=True, aliases=('swapaxes', 'swapdims')),
    entry('t', lambda: [Sample(f32(3, 4)), Sample(f32(3)), Sample(f32()), Sample(f64(2, 3), gradcheck=True),
                        Sample(f32(2, 3, 4), error=True)], out=False, inplace=True),
    entry('movedim', lambda: [Sample(f32(2, 3, 4), 0, -1), Sample(f32(2, 3, 4), (0, 1), (2, 0)),
                              Sample(f64(2, 3), 0, 1, gradcheck=True), Sample(f32(2, 3), 0, 2, error=True)],
          out=False, aliases=('moveaxis',)),
    entry('cat', lambda: [Sample([f32(2, 3), f32(1, 3, seed=1)]), Sample([f32(2, 3), f32(2, 2, seed=1)], dim=1),
                          Sample([f32(2, 3), f64(2, 3, seed=1)]), Sample([f32(2, 3), i64(1, 3)]),
                          Sample([f32(0, 3), f32(2, 3, seed=1)]), Sample([_v(3, 4), f32(1, 4)]),
                          Sample([f64(2, 3), f64(1, 3, seed=1)], gradcheck=True),
                          Sample([f32(2, 3), f32(2, 2)], error=True), Sample([f32(), f32()], error=True)],
          method=False, aliases=('concat', 'concatenate')),
    entry('stack', lambda: [Sample([f32(2, 3), f32(2, 3, seed=1)]), Sample([f32(2, 3), f32(2, 3, seed=1)], dim=2),
                            Sample([f32(), f32(seed=1)]), Sample([f32(2, 3), i64(2, 3)]),
                            Sample([f64(2, 3), f64(2, 3, seed=1)], 1, gradcheck=True),
                            Sample([f32(2, 3), f32(3, 2)], error=True)], method=False),
    entry('hstack', lambda: [Sample([f32(2, 3), f32(2, 1, seed=1)]), Sample([f32(3), f32(2)]),
                             Sample([f64(2, 3), f64(2, 2, seed=1)], gradcheck=True)], method=False),
    entry('vstack', lambda: [Sample([f32(2, 3), f32(1, 3, seed=1)]), Sample([f32(3), f32(3)]),
                             Sample([f64(2, 3), f64(2, 3, seed=1)], gradcheck=True)], method=False),
    entry('split', lambda: [Sample(f32(5, 3), 2), Sample(f32(5, 3), [1, 4]), Sample(f32(3, 5), 2, dim=1),
                            Sample(f32(0, 3), 2), Sample(f64(4, 2), 3, gradcheck=True),
                            Sample(f32(5, 3), [1, 2], error=True)], out=False),
    entry('chunk', lambda: [Sample(f32(5, 3), 2), Sample(f32(3, 6), 4, dim=1), Sample(f32(6), 3),
                            Sample(f64(4, 2), 2, gradcheck=True), Sample(f32(5, 3), 0, error=True)], out=False),
    entry('tensor_split', lambda: [Sample(f32(5, 3), 3), Sample(f32(5, 3), [1, 3]), Sample(f32(3, 5), 2, dim=1),
                                   Sample(f64(4, 2), 3, gradcheck=True)], out=False),
    entry('unbind', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 1), Sample(f64(2, 3), gradcheck=True),
                             Sample(f32(3, 4), 2, error=True)], out=False),
    entry('expand', ns='Tensor', samples=lambda: [Sample(f32(3, 1), 3, 4), Sample(f32(3, 1), (2, 3, 4)),
                                                  Sample(f32(3, 1), -1, 4), Sample(f32(), 2),
                                                  Sample(f64(3, 1), 3, 2, gradcheck=True), Sample(f32(3, 2), 3, 4, error=True)]),
    entry('expand_as', ns='Tensor', samples=lambda: [Sample(f32(3, 1), f32(3, 4)),
                                                     Sample(f64(3, 1), f64(2, 3, 4), gradcheck=True)]),
    entry('broadcast_to', lambda: [Sample(f32(3, 1), (3, 4)), Sample(f32(), (2,)), Sample(f64(3, 1), (2, 3, 2), gradcheck=True),
                                   Sample(f32(3, 2), (3, 4), error=True)], out=False),
    entry('broadcast_tensors', lambda: [Sample(f32(3, 1), f32(4)), Sample(f64(3, 1), f64(1, 2), gradcheck=True),
                                        Sample(f32(3), f32(4), error=True)], method=False, out=False),
    entry('repeat', ns='Tensor', samples=lambda: [Sample(f32(2, 3), 2, 1), Sample(f32(3), 2, 2), Sample(f32(), 3),
                                                  Sample(f64(2, 3), 1, 2, gradcheck=True), Sample(f32(2, 3), 2, error=True)]),
    entry('repeat_interleave', lambda: [Sample(f32(2, 3), 2), Sample(f32(2, 3), 2, dim=1),
                                        Sample(f32(2, 3), i64(2, domain='positive'), dim=0),
                                        Sample(f64(2, 3), 2, dim=0, gradcheck=True)], out=False),
    entry('flip', lambda: [Sample(f32(2, 3), (0,)), Sample(f32(2, 3, 4), (0, 2)), Sample(f32(), ()),
                           Sample(f64(2, 3), (1,), gradcheck=True)], out=False),
    entry('fliplr', lambda: [Sample(f32(2, 3)), Sample(f64(2, 3), gradcheck=True), Sample(f32(3), error=True)], out=False),
    entry('flipud', lambda: [Sample(f32(2, 3)), Sample(f32(3)), Sample(f64(2, 3), gradcheck=True)], out=False),
    entry('roll', lambda: [Sample(f32(2, 3), 1), Sample(f32(2, 3), 1, 0), Sample(f32(2, 3), (1, -1), (0, 1)),
                           Sample(f64(2, 3), 2, 1, gradcheck=True)], out=False),
    entry('tril', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), -1), Sample(f32(2, 3, 3), 1), Sample(i64(3, 3)),
                           Sample(f64(3, 3), gradcheck=True), Sample(f32(3), error=True)], inplace=True),
    entry('triu', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), -1), Sample(f32(2, 3, 3), 1), Sample(i64(3, 3)),
                           Sample(f64(3, 3), gradcheck=True), Sample(f32(3), error=True)], inplace=True),
    entry('diag', lambda: [Sample(f32(3)), Sample(f32(3), 1), Sample(f32(3, 4)), Sample(f32(3, 4), -1),
                           Sample(f64(3, 3), gradcheck=True), Sample(f32(2, 2, 2), error=True)]),
    entry('diagonal', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 1), Sample(f32(2, 3, 4), 0, 1, 2),
                               Sample(f64(3, 3), gradcheck=True), Sample(f32(3), error=True)], out=False),
    entry('narrow', lambda: [Sample(f32(4, 3), 0, 1, 2), Sample(f32(4, 3), 1, 0, 3), Sample(f32(4, 3), -1, 1, 1),
                             Sample(f64(4, 3), 0, 1, 2, gradcheck=True)], out=False),
    entry('trace', lambda: [Sample(f32(3, 4)), Sample(f32(4, 2)), Sample(i64(3, 3)), Sample(f32(0, 3)),
                            Sample(_v(3, 4)), Sample(f64(3, 3), gradcheck=True), Sample(f32(3), error=True),
                            Sample(boolean(2, 2), error=True)], out=False),
    entry('kthvalue', lambda: [Sample(f32(3, 5), 2), Sample(f32(3, 5), 1, 0, keepdim=True), Sample(f32(), 1),
                               Sample(i64(4, 6), 3, desc='ties'), Sample(f64(2, 5), 4, gradcheck=True),
                               Sample(f32(3, 5), 6, error=True)]),
    entry('logit', lambda: [Sample(f32(3, 4, domain='prob')), Sample(f32(3, 4), 0.1, desc='eps outside'),
                            Sample(f64(2, 3, domain='prob'), gradcheck=True), Sample(f64(2, 3), 0.2, gradcheck=True),
                            Sample(i64(3)), Sample(f32(0, 2))], inplace=True),
    entry('sinc', lambda: [Sample(f32(3, 4)), Sample(np.array([0., 1., 2., -0.5, 1e-3], np.float32)), Sample(i64(3)),
                           Sample(f64(2, 3), gradcheck=True), Sample(f32())], inplace=True),
    *[entry(name, lambda: [Sample(f32(3, 4, domain='positive'), f32(3, 4, domain='positive', seed=1)),
                           Sample(f32(3, 1, domain='positive'), f64(4, domain='positive', seed=2), desc='broadcast'),
                           Sample(f64(2, 3, domain='positive'), f64(2, 3, domain='positive', seed=3), grad=(1,),
                                  gradcheck=True),
                           Sample(f32(), f32(domain='positive')), Sample(i64(3), i64(3), error=True),
                           Sample(f32(3), 2.0, error=True)], inplace=True) for name in ('igamma', 'igammac')],
    entry('i0', lambda: [Sample(f32(3, 4)), Sample(np.array([0., 1., -2., 30., -95., np.inf, np.nan], np.float32)),
                         Sample(i64(3)), Sample(boolean(2)), Sample(f64(2, 3), gradcheck=True), Sample(f32()),
                         Sample(f32(0, 2)), Sample(_v(3, 4))], inplace=True),
    entry('select', lambda: [Sample(f32(4, 3), 0, 1), Sample(f32(4, 3), 1, -1), Sample(_v(3, 4), 0, 2),
                             Sample(i64(2, 3), 1, 0), Sample(f64(4, 3), 1, 2, gradcheck=True),
                             Sample(f32(4, 3), 1, 3, error=True), Sample(f32(), 0, 0, error=True)], out=False),
    entry('ravel', lambda: [Sample(f32(3, 4)), Sample(_v(3, 4)), Sample(f32()), Sample(f32(0, 3)), Sample(i64(2, 3)),
                            Sample(f64(2, 3), gradcheck=True)], out=False),
    entry('atleast_1d', lambda: [Sample(f32()), Sample(f32(3)), Sample(f64(2, 3), gradcheck=True)],
          method=False, out=False),
    entry('atleast_2d', lambda: [Sample(f32()), Sample(f32(3)), Sample(f64(2, 3), gradcheck=True)],
          method=False, out=False),
    entry('clone', lambda: [Sample(f32(3, 4)), Sample(_v(3, 4)), Sample(i64(2)), Sample(f64(2, 3), gradcheck=True)],
          out=False),
    entry('contiguous', ns='Tensor', samples=lambda: [Sample(f32(3, 4)), Sample(_v(3, 4)),
                                                      Sample(f64(2, 3), gradcheck=True)]),
    entry('view_as', ns='Tensor', samples=lambda: [Sample(f32(3, 4), f32(4, 3)), Sample(f64(2, 3), f64(6), gradcheck=True)]),
    entry('reshape_as', ns='Tensor', samples=lambda: [Sample(f32(3, 4), f32(4, 3)), Sample(_v(3, 4), f32(12)),
                                                      Sample(f64(2, 3), f64(6), gradcheck=True)]),
    entry('type_as', ns='Tensor', samples=lambda: [Sample(f32(3, 4), f64(1)), Sample(f64(2, 3), i64(1)),
                                                   Sample(i64(2, 3), f32(1))]),
)

# -- indexing, sorting -----------------------------------------------------------------------------------
def idx(*shape, high=3, seed=0):
    """int64 indices in [0, high)."""
    return np.random.default_rng(seed).integers(0, high, size=shape).astype(I64)


add(
    entry('gather', lambda: [Sample(f32(3, 4), 1, idx(3, 2, high=4)), Sample(f32(3, 4), 0, idx(2, 4)),
                             Sample(f32(3, 4), -1, idx(3, 0, high=4)), Sample(f64(3, 4), 1, idx(3, 5, high=4), gradcheck=True),
                             Sample(f32(3, 4), 1, idx(3, 2, high=4) + 4, error=True, desc='index out of range')]),
    entry('scatter', lambda: [Sample(f32(3, 4), 1, idx(3, 2, high=4), f32(3, 2, seed=1)),
                              Sample(f32(3, 4), 0, idx(1, 4), 2.5),
                              Sample(f64(3, 4), 1, np.array([[0], [2], [1]]), f64(3, 1, seed=1), gradcheck=True),
                              Sample(f32(3, 4), 1, idx(3, 2, high=4), f64(3, 2, seed=1), error=True)], inplace=True),
    entry('scatter_add', lambda: [Sample(f32(3, 4), 1, idx(3, 2, high=4), f32(3, 2, seed=1)),
                                  Sample(f64(3, 4), 0, idx(2, 4), f64(2, 4, seed=1), gradcheck=True)], inplace=True),
    entry('index_add', lambda: [Sample(f32(3, 4), 0, idx(2), f32(2, 4, seed=1)),
                                Sample(f32(3, 4), 1, idx(5, high=4), f32(3, 5, seed=1), alpha=2.0),
                                Sample(i64(3, 4), 0, idx(2), i64(2, 4, seed=1), alpha=3),
                                Sample(f32(3), 0, idx(1), f32(seed=1), error=True, desc='0-d source'),
                                Sample(f32(), 0, idx(1, high=1), f32(seed=1), desc='0-d self'),
                                Sample(f64(3, 4), 1, idx(3, high=4), f64(3, 3, seed=1), gradcheck=True),
                                Sample(f32(3, 4), 0, idx(2), f32(3, 4, seed=1), error=True, desc='source too long'),
                                Sample(f32(3, 4), 0, idx(2) + 3, f32(2, 4), error=True, desc='index out of range'),
                                Sample(f32(3, 4), 0, idx(2), f64(2, 4), error=True, desc='source dtype')],
          inplace=True),
    entry('index_select', lambda: [Sample(f32(3, 4), 0, idx(2)), Sample(f32(3, 4), 1, idx(5, high=4)),
                                   Sample(f32(3, 4), 0, idx(0)), Sample(f32(), 0, idx(1, high=1)),
                                   Sample(f64(3, 4), 1, idx(3, high=4), gradcheck=True),
                                   Sample(f32(3, 4), 0, idx(2) + 3, error=True, desc='index out of range'),
                                   Sample(f32(3, 4), 0, idx(2, 2), error=True)]),
    entry('masked_select', lambda: [Sample(f32(3, 4), boolean(3, 4)), Sample(f32(3, 4), boolean(4)),
                                    Sample(f64(3, 4), boolean(3, 4), gradcheck=True),
                                    Sample(f32(3, 4), i64(3, 4), error=True)]),
    entry('take', lambda: [Sample(f32(3, 4), idx(5, high=12)), Sample(f32(3, 4), idx(2, 2, high=12)),
                           Sample(f64(3, 4), idx(4, high=12), gradcheck=True),
                           Sample(f32(3, 4), idx(2, high=12) + 12, error=True)], out=True),
    entry('take_along_dim', lambda: [Sample(f32(3, 4), idx(3, 2, high=4), 1), Sample(f32(3, 4), idx(5, high=12)),
                                     Sample(f64(3, 4), idx(3, 1, high=4), dim=1, gradcheck=True)]),
    entry('nonzero', lambda: [Sample(f32(3, 4) > 0), Sample(i64(3, 4)), Sample(f32(0, 3)), Sample(f32(3) > 5),
                              Sample(boolean(2, 3), as_tuple=True)], grad=False),
    entry('argwhere', lambda: [Sample(f32(3, 4) > 0), Sample(i64(3, 4)), Sample(f32(0, 3))], grad=False, out=False),
    entry('sort', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 0), Sample(f32(3, 4), descending=True),
                           Sample(f32(3, 4), stable=True, dim=0), Sample(f32()), Sample(f32(0, 3)), Sample(i64(3, 4), 1),
                           Sample(f64(3, 4), gradcheck=True), Sample(f32(3, 4), 2, error=True)]),
    entry('argsort', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 0, True), Sample(i64(3, 4), 1),
                              Sample(f32(3, 4), stable=True)], grad=False, out=False),
    entry('topk', lambda: [Sample(f32(3, 4), 2), Sample(f32(3, 4), 2, 0), Sample(f32(3, 4), 3, largest=False),
                           Sample(f32(3, 4), 0), Sample(i64(3, 4), 2), Sample(f64(3, 4), 2, gradcheck=True),
                           Sample(f32(3, 4), 5, error=True)]),
    entry('unique', lambda: [Sample(i64(10)), Sample(f32(3, 4).round()), Sample(i64(10), return_counts=True),
                             Sample(i64(10), return_inverse=True), Sample(i64(3, 4), dim=0)], grad=False, out=False),
    entry('searchsorted', lambda: [Sample(np.sort(f32(6)), f32(4, seed=1)), Sample(np.sort(f32(6)), f32(4), right=True),
                                   Sample(np.sort(f32(2, 5), -1), f32(2, 3, seed=1)),
                                   Sample(np.sort(i64(6)), 1)], grad=False, method=False),
    entry('bincount', lambda: [Sample(idx(10, high=5)), Sample(idx(5), f32(5)), Sample(idx(6), minlength=7),
                               Sample(idx(0)), Sample(f32(3), error=True)], grad=False, out=False),
    entry('index_put', lambda: [Sample(f32(3, 4), (idx(2),), f32(2, 4, seed=1)),
                                Sample(f32(3, 4), (idx(2), idx(2, high=4)), f32(2, seed=1), accumulate=True),
                                Sample(f64(3, 4), (np.array([0, 2]),), f64(2, 4, seed=1), gradcheck=True)],
          inplace=True, out=False),
)


def _getitem(lib, x, key):
    return x[key]


def _tensor_key(lib, x, *key):
    return x[tuple(lib.tensor(k) if isinstance(k, np.ndarray) else k for k in key)]


add(
    entry('__getitem__', ns='Tensor', call=_getitem, samples=lambda: [
        Sample(f32(3, 4), 1), Sample(f32(3, 4), -1), Sample(f32(3, 4), slice(1, None)),
        Sample(f32(3, 4), (slice(None), slice(None, None, 2))), Sample(f32(3, 4), (Ellipsis, None, 1)),
        Sample(f32(3, 4), (None,)), Sample(f32(), ()), Sample(f32(2, 3, 4), (0, Ellipsis, -1)),
        Sample(f64(3, 4), (slice(0, 2), 1), gradcheck=True), Sample(f32(3, 4), 3, error=True),
        Sample(f32(3, 4), (0, 0, 0), error=True)]),
    entry('__getitem__', ns='Tensor', call=_tensor_key, samples=lambda: [
        Sample(f32(3, 4), idx(5), desc='int index'), Sample(f32(3, 4), boolean(3), desc='bool mask rows'),
        Sample(f32(3, 4), f32(3, 4) > 0, desc='bool mask'), Sample(f32(3, 4), idx(2), idx(2, high=4), desc='two indices'),
        Sample(f32(3, 4), slice(None), idx(2, 2, high=4), desc='slice and index'),
        Sample(f64(3, 4), idx(4), gradcheck=True, desc='f64 index'),
        Sample(f32(3, 4), idx(2) + 3, error=True, desc='out of range'),
        Sample(f32(3, 4), boolean(4), error=True, desc='mask shape')]),
)


# -- ops real programs call (ops2): pointwise, indexing, shape and BLAS extras -------------------------------
_SPECIAL = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 1e-40, -3.5, 2.0], F32)

add(
    binary('ldexp', errors=SCALARS),
    binary('nextafter', errors=SCALARS + ('i64', 'bool')),
    binary('float_power', da='positive'),
    Op('gcd', _mark(int_binary_samples(_seed('gcd')), errors=('bool', 'i64 with int')), inplace=True, grad=False),
    Op('lcm', _mark(int_binary_samples(_seed('lcm')), errors=('bool', 'i64 with int')), inplace=True, grad=False),
    entry('frexp', lambda: [Sample(f32(3, 4)), Sample(_SPECIAL), Sample(_v(3, 4)), Sample(f32(0, 2)), Sample(f32()),
                            Sample(f64(2, 3), gradcheck=True), Sample(i64(3), error=True), Sample(boolean(3), error=True)]),
    entry('isposinf', lambda: [Sample(_SPECIAL), Sample(f32(3, 4)), Sample(i64(3)), Sample(boolean(3)),
                               Sample(f64(2, 3))], grad=False),
    entry('isneginf', lambda: [Sample(_SPECIAL), Sample(f32(3, 4)), Sample(i64(3)), Sample(boolean(3)),
                               Sample(f64(2, 3))], grad=False),
    entry('isreal', lambda: [Sample(_SPECIAL), Sample(f32(3, 4)), Sample(i64(3)), Sample(boolean(3))], grad=False,
          out=False),
    entry('diagflat', lambda: [Sample(f32(2, 3)), Sample(f32(3), 1), Sample(f32(), -2), Sample(_v(2, 3), -1), Sample(i64(4)),
                               Sample(f64(2, 2), 1, gradcheck=True)], out=False),
    entry('vsplit', lambda: [Sample(f32(4, 3), 2), Sample(f32(4, 3), [1, 3]), Sample(f32(3, 2), [1, 5]), Sample(f32(2, 3, 2), (1,)),
                             Sample(f64(4, 3), 2, gradcheck=True), Sample(f32(3), 3, error=True),
                             Sample(f32(3, 2), 2, error=True), Sample(f32(3, 2), 0, error=True)], out=False),
    entry('hsplit', lambda: [Sample(f32(4, 6), 3), Sample(f32(4), 2), Sample(f32(3, 4), [1, 3]),
                             Sample(f64(3, 4), 2, gradcheck=True), Sample(f32(), 1, error=True),
                             Sample(f32(4), 3, error=True), Sample(f32(4, 3), 2, error=True)], out=False),
    entry('dsplit', lambda: [Sample(f32(2, 3, 4), 2), Sample(f32(2, 3, 4), [1, 2]), Sample(f64(2, 2, 4), 4, gradcheck=True),
                             Sample(f32(4, 3), 1, error=True), Sample(f32(2, 2, 3), 2, error=True)], out=False),
)


def _index_reduce_samples():
    ix = np.array([0, 2, 2])
    s = []
    for red in ('prod', 'mean', 'amax', 'amin'):
        s += [Sample(f32(3, 4), 1, ix, f32(3, 3, seed=1), red, desc=f'{red}'),
              Sample(f32(3, 4), 0, ix, f32(3, 4, seed=1), red, include_self=False, desc=f'{red} without self'),
              Sample(i64(3, 4), 1, ix, i64(3, 3, seed=1), red, desc=f'{red} i64')]
        if red != 'prod':
            s.append(Sample(f64(3, 4), 1, ix, f64(3, 3, seed=1), red, gradcheck=True, desc=f'{red} f64'))
    s += [Sample(f32(3, 4), 1, ix, f32(3, 3), 'sum', error=True, desc='sum'),
          Sample(boolean(3, 4), 1, ix, boolean(3, 3), 'amax', desc='bool'),
          Sample(boolean(3, 4), 1, ix, boolean(3, 3), 'mean', error=True, desc='bool mean'),
          Sample(boolean(4), 0, ix, boolean(3), 'amax', error=True, desc='bool 1-d'),
          Sample(boolean(3, 4), 1, ix, boolean(3, 3), 'amin', include_self=False, error=True, desc='bool without self'),
          Sample(f32(3, 4), 1, ix, f32(3, 2), 'prod', error=True, desc='source shape'),
          Sample(f32(3, 4), 1, ix + 2, f32(3, 3), 'prod', error=True, desc='index out of range')]
    return s


add(
    entry('index_reduce', _index_reduce_samples, inplace=True),
    entry('norm_except_dim', lambda: [Sample(f32(3, 4, 5)), Sample(f32(3, 4, 5), 3, 1), Sample(f32(3, 4, 5), 2, 2),
                                      Sample(f32(3, 4, 5), 1, -1), Sample(f32(3, 4, 5), 2, -2),
                                      Sample(f32(3, 4), 1.5, 0, error=True),
                                      Sample(f64(3, 4, 2), 2, 1, gradcheck=True), Sample(f64(3, 4), 3, 0, gradcheck=True),
                                      Sample(f64(3, 4), 2, -1, gradcheck=True), Sample(f32(3, 4), 2, 5, error=True)],
          method=False, out=False),
    entry('frobenius_norm', lambda: [Sample(f32(3, 4, 5), (0, 1)), Sample(f32(3, 4, 5), [1], True), Sample(f32(3, 4), 1),
                                     Sample(f32(3, 4), ()), Sample(f64(3, 4, 2), (0, 2), gradcheck=True),
                                     Sample(f32(3, 4, 5), (0, 1, 2), error=True)], method=False, out=False),
    entry('nuclear_norm', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), keepdim=True), Sample(f32(2, 3, 4)),
                                   Sample(f32(3, 4, 5), (0, 2), True), Sample(f32(3, 4, 5), (2, 1)),
                                   Sample(f64(3, 4), gradcheck=True), Sample(f64(3, 4, 3), (0, 2), gradcheck=True),
                                   Sample(f32(3), error=True), Sample(f32(3, 4, 5), (0,), error=True)],
          method=False, out=False),
    entry('renorm', lambda: [Sample(f32(3, 4), 2, 0, 1.0), Sample(f32(3, 4), 1, 1, 0.5), Sample(f32(2, 3, 2), 3, -1, 2.0),
                             Sample(f32(3, 4), float('inf'), 0, 1.0), Sample(f32(3, 4), 2, 0, 100.0, desc='nothing scaled'),
                             Sample(f64(3, 4), 2, 0, 1.0, gradcheck=True), Sample(f64(3, 4), 1.5, 1, 0.8, gradcheck=True),
                             Sample(f32(3, 4), 0, 0, 1.0, error=True), Sample(f32(3, 4), 2, 0, -1.0, error=True),
                             Sample(f32(3), 2, 0, 1.0, error=True), Sample(i64(3, 4), 2, 0, 1.0, error=True)], inplace=True),
    entry('select_scatter', lambda: [Sample(f32(3, 4), f32(4, seed=1), 0, 1), Sample(f32(3, 4), f32(3, seed=1), 1, -1),
                                     Sample(f32(3, 4), f64(4, seed=1), 0, 0, desc='src f64'),
                                     Sample(f64(3, 4), f64(3, seed=1), 1, 2, gradcheck=True),
                                     Sample(f32(3, 4), f32(4), 0, 5, error=True), Sample(f32(3, 4), f32(3), 0, 1, error=True)],
          out=False),
    entry('slice_scatter', lambda: [Sample(f32(4, 3), f32(2, 3, seed=1), 0, 1, None, 2), Sample(f32(4, 3), f32(4, 2, seed=1), 1, 1),
                                    Sample(f32(4, 3), f32(2, 3, seed=1), 0, -2), Sample(f32(4, 3), f32(4, 3, seed=1)),
                                    Sample(f64(4, 3), f64(4, 1, seed=1), 1, 0, 1, gradcheck=True),
                                    Sample(f32(4, 3), f32(3, 3), 0, 1, None, 2, error=True)]),
    entry('diagonal_scatter', lambda: [Sample(f32(3, 4), f32(3, seed=1)), Sample(f32(3, 4), f32(3, seed=1), 1),
                                       Sample(f32(3, 4), f32(2, seed=1), -1), Sample(f32(2, 3, 4), f32(3, 2, seed=1), 0, 0, 2),
                                       Sample(f64(3, 4), f64(3, seed=1), 1, gradcheck=True),
                                       Sample(f32(3, 4), f32(4), error=True), Sample(f32(3, 4), f32(3), 0, 1, 1, error=True)],
          out=False),
    entry('sum_to_size', ns='Tensor', samples=lambda: [
        Sample(f32(3, 4), 4), Sample(f32(3, 4), (1, 4)), Sample(f32(3, 4), 3, 1), Sample(f32(3, 4), ()),
        Sample(f32(2, 3, 4), 3, 1), Sample(f32(3, 4), 3, 4), Sample(f64(2, 3, 4), 1, 4, gradcheck=True),
        Sample(f32(3, 4), 5, error=True), Sample(f32(3, 4), 2, 3, 4, error=True)]),
    entry('addr', lambda: [Sample(f32(3, 4), f32(3, seed=1), f32(4, seed=2)), Sample(f32(4), f32(3, seed=1), f32(4, seed=2), beta=0.5, alpha=2.0),
                           Sample(np.full((3, 4), np.nan, F32), f32(3, seed=1), f32(4, seed=2), beta=0, desc='beta 0 ignores nan'),
                           Sample(i64(3, 4), i64(3, seed=1), i64(4, seed=2), alpha=2),
                           Sample(f64(3, 4), f64(3, seed=1), f64(4, seed=2), beta=0.5, alpha=-1.5, gradcheck=True),
                           Sample(i64(3, 4), i64(3), i64(4), beta=0.5, error=True),
                           Sample(f32(3, 4), f32(3, 1), f32(4), error=True), Sample(f32(3, 3), f32(3), f32(4), error=True)],
          inplace=True),
    entry('addbmm', lambda: [Sample(f32(3, 4), f32(2, 3, 5, seed=1), f32(2, 5, 4, seed=2)),
                             Sample(f32(3, 4), f32(2, 3, 5, seed=1), f32(2, 5, 4, seed=2), beta=0.5, alpha=2.0),
                             Sample(np.full((3, 4), np.nan, F32), f32(2, 3, 5, seed=1), f32(2, 5, 4, seed=2), beta=0, desc='beta 0'),
                             Sample(f64(3, 4), f64(2, 3, 2, seed=1), f64(2, 2, 4, seed=2), beta=0.5, alpha=-1.5, gradcheck=True),
                             Sample(f32(3, 4), f32(3, 5), f32(2, 5, 4), error=True),
                             Sample(f32(2, 4), f32(2, 3, 5), f32(2, 5, 4), error=True),
                             Sample(f32(3, 4), f64(2, 3, 5), f32(2, 5, 4), error=True)], inplace=True),
    entry('put', lambda: [Sample(f32(3, 4), np.array([0, -1, 5]), f32(3, seed=1)), Sample(f32(3, 4), np.array([[1, 1]]), f32(2, seed=1), accumulate=True),
                          Sample(i64(2, 3), np.array([2]), i64(1, seed=1)),
                          Sample(f64(3, 4), np.array([0, 7, 5]), f64(3, seed=1), gradcheck=True),
                          Sample(f64(3, 4), np.array([1, 1, 5]), f64(3, seed=1), True, gradcheck=True, desc='accumulate'),
                          Sample(f32(3, 4), np.array([12]), f32(1), error=True), Sample(f32(3, 4), np.array([1, 2]), f32(3), error=True),
                          Sample(f32(3, 4), np.array([1]), f64(1), error=True)], inplace=True, out=False),
)


# -- products (BLAS) and linalg --------------------------------------------------------------------------
def wc(*shape, dtype=F32, seed=0):
    """Well-conditioned square matrices (random plus 3 I)."""
    return (arr(shape, dtype, seed=seed) + 3 * np.eye(shape[-1])).astype(dtype)


def spd(*shape, dtype=F32, seed=0):
    """Symmetric positive-definite matrices with distinct eigenvalues."""
    a = arr(shape, F64, seed=seed)
    return (a @ np.swapaxes(a, -1, -2) + np.diag(np.arange(1, shape[-1] + 1))).astype(dtype)


add(
    entry('matmul', lambda: [Sample(f32(3, 4), f32(4, 2, seed=1)), Sample(f32(4), f32(4, seed=1)),
                             Sample(f32(4), f32(4, 2, seed=1)), Sample(f32(3, 4), f32(4, seed=1)),
                             Sample(f32(2, 3, 4), f32(4, 2, seed=1)), Sample(f32(2, 1, 3, 4), f32(5, 4, 2, seed=1)),
                             Sample(f32(0, 4), f32(4, 2, seed=1)), Sample(f32(3, 0), f32(0, 2, seed=1)),
                             Sample(_v(3, 4), f32(4, 2)), Sample(i64(3, 4), i64(4, 2, seed=1)),
                             Sample(f64(3, 4), f64(4, 2, seed=1), gradcheck=True),
                             Sample(f32(3, 4), f32(3, 4), error=True), Sample(f32(3, 4), f64(4, 2), error=True),
                             Sample(f32(), f32(), error=True)], gradgrad=True),
    entry('mm', lambda: [Sample(f32(3, 4), f32(4, 2, seed=1)), Sample(f32(0, 4), f32(4, 2)), Sample(i64(2, 3), i64(3, 2)),
                         Sample(f64(3, 4), f64(4, 2, seed=1), gradcheck=True), Sample(f32(4), f32(4, 2), error=True)]),
    entry('bmm', lambda: [Sample(f32(2, 3, 4), f32(2, 4, 2, seed=1)), Sample(f64(2, 3, 4), f64(2, 4, 2, seed=1),
                                                                           gradcheck=True),
                          Sample(f32(2, 3, 4), f32(3, 4, 2), error=True)]),
    entry('mv', lambda: [Sample(f32(3, 4), f32(4, seed=1)), Sample(f64(3, 4), f64(4, seed=1), gradcheck=True),
                         Sample(f32(3, 4), f32(3), error=True)]),
    entry('dot', lambda: [Sample(f32(4), f32(4, seed=1)), Sample(i64(4), i64(4, seed=1)),
                          Sample(f64(4), f64(4, seed=1), gradcheck=True), Sample(f32(4), f32(3), error=True),
                          Sample(f32(2, 2), f32(2, 2), error=True)]),
    entry('inner', lambda: [Sample(f32(4), f32(4, seed=1)), Sample(f32(2, 4), f32(3, 4, seed=1)), Sample(f32(), f32(2, 3)),
                            Sample(f64(2, 4), f64(4, seed=1), gradcheck=True), Sample(f32(4), f32(3), error=True)]),
    entry('outer', lambda: [Sample(f32(4), f32(3, seed=1)), Sample(i64(2), i64(3)),
                            Sample(f64(4), f64(3, seed=1), gradcheck=True)], aliases=('ger',)),
    entry('addmm', lambda: [Sample(f32(3, 2), f32(3, 4), f32(4, 2, seed=1)), Sample(f32(2), f32(3, 4), f32(4, 2, seed=1)),
                            Sample(f32(3, 2), f32(3, 4), f32(4, 2, seed=1), beta=0.5, alpha=2.0),
                            Sample(f64(3, 2), f64(3, 4), f64(4, 2, seed=1), gradcheck=True),
                            Sample(f32(3, 2), f32(3, 4), f32(3, 2), error=True)], inplace=True),
    entry('addmv', lambda: [Sample(f32(3), f32(3, 4), f32(4, seed=1)), Sample(f32(3), f32(3, 4), f32(4), beta=0.5, alpha=2),
                            Sample(f64(3), f64(3, 4), f64(4, seed=1), gradcheck=True)], inplace=True),
    entry('baddbmm', lambda: [Sample(f32(2, 3, 2), f32(2, 3, 4), f32(2, 4, 2, seed=1)),
                              Sample(f32(3, 2), f32(2, 3, 4), f32(2, 4, 2), beta=0.5, alpha=2.0),
                              Sample(f64(2, 3, 2), f64(2, 3, 4), f64(2, 4, 2, seed=1), gradcheck=True)], inplace=True),
    entry('einsum', lambda: [Sample('ij,jk->ik', f32(3, 4), f32(4, 2, seed=1)), Sample('ii->i', f32(3, 3)),
                             Sample('bij,bjk->bik', f32(2, 3, 4), f32(2, 4, 2, seed=1)), Sample('i,j', f32(3), f32(2)),
                             Sample('...ij->...ji', f32(2, 3, 4)), Sample('ij->', f32(3, 4)),
                             Sample('ij,jk', f64(3, 4), f64(4, 2, seed=1), gradcheck=True),
                             Sample('ij,jk->ik', f32(3, 4), f32(3, 2), error=True)], method=False, out=False),
    entry('tensordot', lambda: [Sample(f32(3, 4), f32(4, 2, seed=1), dims=1), Sample(f32(2, 3, 4), f32(3, 4, 2), dims=2),
                                Sample(f32(3, 4), f32(2, 4), dims=([1], [1])),
                                Sample(f64(3, 4), f64(4, 2, seed=1), dims=1, gradcheck=True)], method=False),
    entry('linear', ns='nn.functional', samples=lambda: [
        Sample(f32(3, 4), f32(2, 4, seed=1), f32(2, seed=2)), Sample(f32(2, 3, 4), f32(2, 4, seed=1)),
        Sample(f32(4), f32(2, 4, seed=1), f32(2, seed=2)), Sample(f32(0, 4), f32(2, 4, seed=1)),
        Sample(f64(3, 4), f64(2, 4, seed=1), f64(2, seed=2), gradcheck=True), Sample(f32(3, 4), f32(4, 2), error=True)]),
    entry('bilinear', ns='nn.functional', samples=lambda: [
        Sample(f32(3, 4), f32(3, 2, seed=1), f32(5, 4, 2, seed=2), f32(5, seed=3)),
        Sample(f32(2, 3, 4), f32(2, 3, 2, seed=1), f32(5, 4, 2, seed=2)), Sample(f32(4), f32(2, seed=1), f32(5, 4, 2, seed=2)),
        Sample(f32(3, 4), f32(2, 2, seed=1), f32(5, 4, 2, seed=2), error=True),
        Sample(f64(3, 4), f64(3, 2, seed=1), f64(5, 4, 2, seed=2), gradcheck=True),
        Sample(f64(2, 3), f64(2, 2, seed=1), f64(3, 3, 2, seed=2), f64(3, seed=3), gradcheck=True)]),
)


def _svd(lib, a, **kw):
    """Singular values and the reconstruction U S Vh (U and V are unique only up to signs)."""
    r = lib.linalg.svd(a, full_matrices=False, **kw)
    return r.S, (r.U * r.S.unsqueeze(-2)) @ r.Vh


def _eigh(lib, a, **kw):
    """Eigenvalues and the squared eigenvectors (the sign of each eigenvector is arbitrary)."""
    r = lib.linalg.eigh(_sym(a), **kw)
    return r.eigenvalues, r.eigenvectors * r.eigenvectors


def _sym(a):
    """The symmetric part: gradients of cholesky/eigh are defined for symmetric inputs only (as in PyTorch's
    gradcheck wrapper for Hermitian inputs)."""
    return (a + a.transpose(-1, -2)) / 2


def _nsym(a):
    """The symmetric part of a NumPy array (of each matrix of a batch)."""
    return (a + np.swapaxes(a, -1, -2)) / 2


def _cholesky(lib, a, **kw):
    return lib.linalg.cholesky(_sym(a), **kw)


def _lstsq(lib, a, b):
    return lib.linalg.lstsq(a, b).solution


def _qr(lib, a, **kw):
    return tuple(lib.linalg.qr(a, **kw))


def la(name, samples, **kw):
    return Op(name, samples, ns='linalg', method=False, **kw)


add(
    la('det', lambda: [Sample(wc(3, 3)), Sample(wc(2, 3, 3)), Sample(wc(3, 3, dtype=F64), gradcheck=True),
                       Sample(f32(3, 4), error=True)]),
    la('inv', lambda: [Sample(wc(3, 3)), Sample(wc(2, 3, 3)), Sample(wc(3, 3, dtype=F64), gradcheck=True),
                       Sample(np.zeros((2, 2), F32), error=True, desc='singular'), Sample(f32(3, 4), error=True)]),
    la('solve', lambda: [Sample(wc(3, 3), f32(3, 2)), Sample(wc(3, 3), f32(3)), Sample(wc(2, 3, 3), f32(2, 3, 1)),
                         Sample(wc(3, 3, dtype=F64), f64(3, 2), gradcheck=True), Sample(wc(3, 3), f32(4, 2), error=True)]),
    la('lstsq', lambda: [Sample(f32(5, 3), f32(5, 2, seed=1)), Sample(f64(5, 3), f64(5, 2, seed=1), gradcheck=True)],
       call=_lstsq, out=False),
    la('norm', lambda: [Sample(f32(3, 4)), Sample(f32(4)), Sample(f32(3, 4), 'fro'), Sample(f32(3, 4), float('inf')),
                        Sample(f32(4), 1), Sample(f32(2, 3, 4), dim=(1, 2)), Sample(f32(3, 4), dim=1, keepdim=True),
                        Sample(f64(3, 4), gradcheck=True), Sample(f32(2, 3, 4))]),
    la('vector_norm', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 1), Sample(f32(3, 4), float('inf')),
                               Sample(f32(3, 4), 3, dim=1), Sample(f32(3, 4), 0), Sample(f32(3, 4), keepdim=True, dim=0),
                               Sample(f32(0, 3)), Sample(f64(3, 4), 2, dim=(0, 1), gradcheck=True),
                               Sample(i64(3), error=True)]),
    la('matrix_norm', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 1), Sample(f32(3, 4), float('inf')),
                               Sample(f32(2, 3, 4), -1), Sample(f32(3, 4), 2), Sample(f32(3, 4), 'nuc'),
                               Sample(f64(3, 4), gradcheck=True), Sample(f64(3, 4), 'nuc', gradcheck=True),
                               Sample(f32(3), error=True), Sample(f32(2, 3, 4), 'fro', (0,), error=True),
                               Sample(f32(2, 3, 4), 'nuc', (0, -3), error=True)]),
    la('cholesky', lambda: [Sample(spd(3, 3)), Sample(spd(2, 3, 3)), Sample(spd(3, 3, dtype=F64), gradcheck=True),
                            Sample(-spd(3, 3), error=True, desc='not positive-definite')], call=_cholesky),
    la('qr', lambda: [Sample(f32(4, 3)), Sample(f32(3, 4)), Sample(f64(4, 3), gradcheck=True)], call=_qr, out=False),
    la('svd', lambda: [Sample(f32(4, 3)), Sample(f32(2, 3, 4)), Sample(f64(4, 3), gradcheck=True)], call=_svd,
       out=False),
    la('eigh', lambda: [Sample(spd(3, 3)), Sample(spd(2, 3, 3)), Sample(spd(3, 3, dtype=F64), gradcheck=True)],
       call=_eigh, out=False),
    la('slogdet', lambda: [Sample(wc(3, 3)), Sample(wc(2, 3, 3)), Sample(wc(3, 3, dtype=F64), gradcheck=True)]),
    la('pinv', lambda: [Sample(f32(4, 3)), Sample(f32(3, 4)), Sample(f64(4, 3), gradcheck=True)]),
    la('cross', lambda: [Sample(f32(4, 3), f32(4, 3, seed=1)), Sample(f32(3), f32(2, 3, seed=1), error=True),
                         Sample(f64(2, 3), f64(2, 3, seed=1), gradcheck=True), Sample(f32(4, 2), f32(4, 2), error=True)]),
    la('matrix_rank', lambda: [Sample(f32(4, 3)), Sample(np.ones((3, 3), F32)), Sample(f64(2, 3, 4))], grad=False),
    la('matmul', lambda: [Sample(f32(3, 4), f32(4, 2, seed=1)), Sample(f64(3, 4), f64(4, 2, seed=1), gradcheck=True)]),
)

add(
    la('matrix_power', lambda: [Sample(wc(3, 3), 3), Sample(wc(2, 3, 3), 5), Sample(wc(3, 3), 0), Sample(wc(3, 3), 1),
                                Sample(wc(3, 3), -2), Sample(wc(3, 3, dtype=F64), 4, gradcheck=True),
                                Sample(wc(3, 3, dtype=F64), -1, gradcheck=True), Sample(f32(2, 3), 2, error=True)], out=False),
    la('householder_product', lambda: [Sample(f32(4, 3), f32(3, seed=1)), Sample(f32(4, 3), f32(2, seed=1)),
                                       Sample(f32(2, 5, 3), f32(2, 3, seed=1)), Sample(f32(3, 3), f32(0)),
                                       Sample(f64(4, 3), f64(3, seed=1), gradcheck=True),
                                       Sample(f64(2, 3, 2), f64(2, 1, seed=1), gradcheck=True),
                                       Sample(f32(3, 4), f32(3, seed=1), error=True),
                                       Sample(f32(4, 3), f64(3, seed=1), error=True)]),
    Op('geqrf', lambda: [Sample(f32(4, 3)), Sample(f64(2, 3, 5)), Sample(f32(3), error=True)], grad=False),
    # the deprecated pre-linalg solve (its warning is once a process): (solution, cloned_coefficient)
    Op('triangular_solve', lambda: [Sample(f32(3, 2), np.triu(wc(3, 3))),
                                    Sample(f32(2, 3, 2), np.tril(wc(3, 3)), upper=False, transpose=True),
                                    Sample(f64(3, 2), np.triu(wc(3, 3, dtype=F64)), gradcheck=True),
                                    Sample(f64(2, 3, 1), np.tril(wc(3, 3, dtype=F64)), False, True, True, gradcheck=True),
                                    Sample(f32(3), wc(3, 3), error=True), Sample(f32(4, 2), wc(3, 3), error=True)],
       method=True, out=True),
    # LDL^T by Bunch-Kaufman pivoting (sytrf): the factors and pivots themselves, 2x2 blocks included (an indefinite
    # matrix with a small diagonal), and solutions through them
    la('ldl_factor', lambda: [Sample(_nsym(f64(5, 5))), Sample(_nsym(f32(2, 4, 4))),
                              Sample(_nsym(f64(6, 6)) * (1 - 0.99 * np.eye(6)), desc='2x2 pivots'),
                              Sample(np.array([[0., 1, 2], [1, 0, 3], [2, 3, 0]]), desc='zero diagonal'),
                              Sample(np.zeros((3, 3), F32), error=True, desc='singular'), Sample(f32(3, 4), error=True)],
       grad=False),
    la('ldl_factor_ex', lambda: [Sample(_nsym(f64(5, 5))), Sample(np.zeros((3, 3), F32), desc='singular'),
                                 Sample(np.zeros((3, 3), F32), check_errors=True, error=True, desc='singular, checked')],
       grad=False),
    la('ldl_solve', lambda: [Sample(_nsym(f64(5, 5)), f64(5, 2, seed=1)), Sample(_nsym(f32(2, 4, 4)), f32(4, 3, seed=1)),
                             Sample(np.array([[0., 1, 2], [1, 0, 3], [2, 3, 0]]), f64(3, 1, seed=1)),
                             Sample(_nsym(f64(3, 3)), f32(3, 1), error=True)],
       call=lambda lib, a, b, **k: lib.linalg.ldl_solve(*lib.linalg.ldl_factor(a), b, **k), grad=False, out=False),
    Op('orgqr', lambda: [Sample(f64(4, 3), f64(3, seed=1), gradcheck=True)]),
    la('matrix_exp', lambda: [Sample(f32(3, 3)), Sample(f32(2, 3, 3) * 3), Sample(f64(3, 3), gradcheck=True),
                              Sample(f32(2, 3), error=True)], out=False),
    la('multi_dot', lambda: [Sample([f32(3, 4), f32(4, 2, seed=1)]), Sample([f32(4), f32(4, 3, seed=1), f32(3, seed=2)]),
                             Sample([f32(2, 5), f32(5, 3, seed=1), f32(3, 6, seed=2), f32(6, 1, seed=3)]),
                             Sample([f32(6, 2), f32(2, 5, seed=1), f32(5, 4, seed=2)]),
                             Sample([f64(3, 4), f64(4, 2, seed=1), f64(2, seed=2)], gradcheck=True),
                             Sample([f32(3, 4)], error=True), Sample([f32(3, 4), f32(3, 4)], error=True)], out=False),
    la('vecdot', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(f32(4), f32(4, seed=1)),
                          Sample(f32(3, 4), f32(4, seed=1), dim=-1), Sample(f32(3, 4), f32(3, 4, seed=1), dim=0),
                          Sample(f64(3, 4), f64(3, 4, seed=1), gradcheck=True), Sample(f32(4), f64(4), error=True)], out=False),
    la('diagonal', lambda: [Sample(f32(3, 4)), Sample(f32(2, 3, 4), offset=1), Sample(f32(3, 4, 2), dim1=0, dim2=1),
                            Sample(f64(3, 3), gradcheck=True)], out=False),
    la('vander', lambda: [Sample(f32(4)), Sample(f32(2, 3), N=5), Sample(f64(3), gradcheck=True)], out=False),
    la('inv_ex', lambda: [Sample(wc(3, 3)), Sample(wc(3, 3, dtype=F64), gradcheck=True),
                          Sample(np.zeros((2, 2), F32), check_errors=True, error=True, desc='singular, checked')],
       call=lambda lib, *a, **k: lib.linalg.inv_ex(*a, **k)[0], out=False),
    la('cholesky_ex', lambda: [Sample(spd(3, 3)), Sample(spd(3, 3, dtype=F64), gradcheck=True),
                               Sample(-spd(3, 3), check_errors=True, error=True, desc='not positive-definite, checked')],
       call=lambda lib, a, **k: lib.linalg.cholesky_ex(_sym(a), **k)[0], out=False),
    la('solve_ex', lambda: [Sample(wc(3, 3), f32(3, 2)), Sample(wc(3, 3, dtype=F64), f64(3, 2), gradcheck=True),
                            Sample(np.zeros((2, 2), F32), f32(2), check_errors=True, error=True, desc='singular, checked')],
       call=lambda lib, *a, **k: lib.linalg.solve_ex(*a, **k)[0], out=False),
)


def _chol_factor(lib, a):
    return lib.linalg.cholesky(_sym(a))


# the linear algebra PyTorch keeps at torch.* (and as Tensor methods)
add(
    entry('inverse', lambda: [Sample(wc(3, 3)), Sample(wc(2, 3, 3)), Sample(wc(3, 3, dtype=F64), gradcheck=True),
                              Sample(np.zeros((2, 2), F32), error=True, desc='singular')], out=False),
    entry('det', lambda: [Sample(wc(3, 3)), Sample(wc(2, 3, 3)), Sample(wc(3, 3, dtype=F64), gradcheck=True),
                          Sample(f32(3, 4), error=True)], out=False),
    entry('logdet', lambda: [Sample(spd(3, 3)), Sample(spd(2, 3, 3)), Sample(np.diag([-1.0, 2.0]).astype(F32)),
                             Sample(spd(3, 3, dtype=F64), gradcheck=True)], out=False),
    entry('slogdet', lambda: [Sample(wc(3, 3)), Sample(wc(2, 3, 3)), Sample(wc(3, 3, dtype=F64), gradcheck=True)],
          out=False),
    entry('pinverse', lambda: [Sample(f32(4, 3)), Sample(f32(3, 4), 1e-3), Sample(f64(4, 3), gradcheck=True)],
          out=False),
    entry('matrix_power', lambda: [Sample(wc(3, 3), 3), Sample(wc(2, 3, 3), -2), Sample(wc(3, 3), 0),
                                   Sample(wc(3, 3, dtype=F64), 2, gradcheck=True)], out=False),
    entry('matrix_exp', lambda: [Sample(f32(3, 3)), Sample(f64(3, 3), gradcheck=True)], out=False),
    entry('cholesky', lambda: [Sample(spd(3, 3)), Sample(spd(3, 3), upper=True),
                               Sample(spd(3, 3, dtype=F64), gradcheck=True)],
          call=lambda lib, a, **k: lib.cholesky(_sym(a), **k), out=False),
    entry('cholesky_solve', lambda: [Sample(f32(3, 2), spd(3, 3, seed=1)), Sample(f32(3, 2), spd(3, 3, seed=1), True),
                                     Sample(f64(3, 2), spd(3, 3, dtype=F64, seed=1), gradcheck=True)],
          call=lambda lib, b, a, *u: lib.cholesky_solve(b, _chol_factor(lib, a).mT if u and u[0] else
                                                         _chol_factor(lib, a), *u),
          out=False),
    entry('cholesky_inverse', lambda: [Sample(spd(3, 3)), Sample(spd(3, 3), True),
                                       Sample(spd(3, 3, dtype=F64), gradcheck=True)],
          call=lambda lib, a, *u: lib.cholesky_inverse(_chol_factor(lib, a).mT if u and u[0] else _chol_factor(lib, a),
                                                       *u),
          out=False),
    entry('qr', lambda: [Sample(f32(4, 3)), Sample(f32(4, 3), False), Sample(f64(4, 3), gradcheck=True)],
          call=lambda lib, a, *s: lib.qr(a, *s)[1], out=False),
    entry('cross', lambda: [Sample(f32(4, 3), f32(4, 3, seed=1), dim=1), Sample(f32(3, 4), f32(3, 4, seed=1)),
                            Sample(f64(2, 3), f64(2, 3, seed=1), dim=-1, gradcheck=True),
                            Sample(f32(4, 2), f32(4, 2), error=True)], out=False),
    entry('chain_matmul', lambda: [Sample(f32(3, 4), f32(4, 2, seed=1), f32(2, 5, seed=2)), Sample(f32(3, 4)),
                                   Sample(f64(3, 4), f64(4, 2, seed=1), gradcheck=True)], method=False, out=False),
    entry('vdot', lambda: [Sample(f32(4), f32(4, seed=1)), Sample(f64(4), f64(4, seed=1), gradcheck=True),
                           Sample(f32(4), f32(3), error=True)], out=False),
)


def _inplace_form(name):
    """``torch.<name>_(x)`` on a non-leaf copy of x (in place on a leaf that requires grad is PyTorch's error)."""
    return lambda lib, x, *a, **k: getattr(lib, name)(x.clone() if x.requires_grad else x, *a, **k)


# torch.* forms of nn.functional ops and Tensor methods, at aten's signatures
add(
    entry('dropout', lambda: [Sample(f32(4, 5), 0.3, True), Sample(f32(4, 5), 0.3, False)], seed=0, method=False,
          out=False),
    entry('feature_dropout', lambda: [Sample(f32(2, 3, 4), 0.5, True), Sample(f32(2, 3, 4, 2), 0.5, False)], seed=0,
          method=False, out=False),
    entry('alpha_dropout', lambda: [Sample(f32(4, 5), 0.3, True)], seed=0, method=False, out=False),
    entry('feature_alpha_dropout', lambda: [Sample(f32(2, 3, 4), 0.3, True)], seed=0, method=False, out=False),
    entry('layer_norm', lambda: [Sample(f32(2, 3, 4), (4,)), Sample(f32(2, 3, 4), (3, 4), f32(3, 4, seed=1),
                                                                    f32(3, 4, seed=2), 1e-3),
                                 Sample(f64(2, 4), (4,), f64(4, seed=1), None, gradcheck=True)], method=False, out=False),
    entry('group_norm', lambda: [Sample(f32(2, 4, 3), 2), Sample(f64(2, 4, 3), 2, f64(4, seed=1), f64(4, seed=2),
                                                                 gradcheck=True)], method=False, out=False),
    entry('batch_norm', lambda: [Sample(f32(4, 3), f32(3, seed=1), f32(3, seed=2), np.zeros(3, F32), np.ones(3, F32),
                                        True, 0.1, 1e-5, False, grad=[0, 1, 2]),
                                 Sample(f32(4, 3, 2), None, None, np.zeros(3, F32), np.ones(3, F32), False, 0.1, 1e-5,
                                        False, grad=[0])], method=False, out=False),
    entry('instance_norm', lambda: [Sample(f32(2, 3, 4), None, None, None, None, True, 0.1, 1e-5, False),
                                    Sample(f64(2, 3, 4), f64(3, seed=1), f64(3, seed=2), None, None, True, 0.1, 1e-5,
                                           False, gradcheck=True)], method=False, out=False),
    entry('embedding', lambda: [Sample(f32(5, 3), idx(2, 4, high=5), grad=[0]),
                                Sample(f32(5, 3), idx(4, high=5), 1, grad=[0]),
                                Sample(f64(5, 2), idx(3, high=5), gradcheck=True, grad=[0])], method=False, out=False),
    entry('max_pool1d', lambda: [Sample(f32(2, 3, 8), 2), Sample(f32(2, 3, 9), 3, 2, 1),
                                 Sample(f64(1, 2, 6), 2, gradcheck=True)], method=False, out=False),
    entry('max_pool2d', lambda: [Sample(f32(2, 3, 6, 6), 2), Sample(f32(1, 2, 7, 5), (3, 2), (2, 1), 1, 1, True),
                                 Sample(f64(1, 2, 4, 4), 2, gradcheck=True)], method=False, out=False),
    entry('max_pool3d', lambda: [Sample(f32(1, 2, 4, 4, 4), 2), Sample(f64(1, 1, 4, 4, 2), 2, gradcheck=True)],
          method=False, out=False),
    entry('avg_pool1d', lambda: [Sample(f32(2, 3, 8), 2), Sample(f32(2, 3, 9), 3, 2, 1, True, False),
                                 Sample(f64(1, 2, 6), 3, gradcheck=True)], method=False, out=False),
    entry('adaptive_avg_pool1d', lambda: [Sample(f32(2, 3, 8), 3), Sample(f64(1, 2, 7), 2, gradcheck=True)],
          method=False, out=False),
    entry('adaptive_max_pool1d', lambda: [Sample(f32(2, 3, 8), 3), Sample(f64(1, 2, 7), 2, gradcheck=True)],
          method=False, out=False),
    entry('cosine_similarity', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(f64(3, 4), f64(3, 4, seed=1),
                                                                                     gradcheck=True)],
          method=False, out=False),
    entry('pairwise_distance', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(f32(3, 4), f32(4, seed=1), 1.0),
                                        Sample(f64(3, 4), f64(3, 4, seed=1), gradcheck=True)], method=False, out=False),
    entry('selu', lambda: [Sample(f32(3, 4)), Sample(f64(3, 4), gradcheck=True)], method=False, out=False),
    entry('celu', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 0.5), Sample(f64(3, 4), gradcheck=True)],
          method=False, out=False),
    entry('threshold', lambda: [Sample(f32(3, 4), 0.1, 20.0), Sample(f64(3, 4), 0.0, -1.0, gradcheck=True)],
          method=False, out=False),
    entry('hardshrink', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 1.0), Sample(f64(3, 4), gradcheck=True)],
          out=False),
    entry('rrelu', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 0.1, 0.3, True)], seed=0, method=False, out=False),
    entry('pixel_shuffle', lambda: [Sample(f32(1, 8, 2, 3), 2), Sample(f64(1, 4, 2, 2), 2, gradcheck=True)],
          method=False, out=False),
    entry('pixel_unshuffle', lambda: [Sample(f32(1, 2, 4, 6), 2)], method=False, out=False),
    entry('channel_shuffle', lambda: [Sample(f32(1, 6, 2, 2), 3)], method=False, out=False),
    entry('kl_div', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1).__abs__()), Sample(f32(3, 4), f32(3, 4, seed=1), 1),
                             Sample(f32(3, 4), f32(3, 4, seed=1), 2, log_target=True),
                             Sample(f64(3, 4), f64(3, 4, seed=1).__abs__(), 0, gradcheck=True)], method=False, out=False),
    entry('margin_ranking_loss', lambda: [Sample(f32(5), f32(5, seed=1), np.sign(f32(5, seed=2))),
                                          Sample(f64(5), f64(5, seed=1), np.sign(f64(5, seed=2)), 0.5, 2, gradcheck=True)],
          method=False, out=False),
    entry('hinge_embedding_loss', lambda: [Sample(f32(5), np.sign(f32(5, seed=2))),
                                           Sample(f64(5), np.sign(f64(5, seed=2)), 0.5, 0, gradcheck=True)],
          method=False, out=False),
    entry('cosine_embedding_loss', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1), np.sign(f32(3, seed=2))),
                                            Sample(f64(3, 4), f64(3, 4, seed=1), np.sign(f64(3, seed=2)), 0.1, 2,
                                                   gradcheck=True)], method=False, out=False),
    entry('triplet_margin_loss', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1), f32(3, 4, seed=2)),
                                          Sample(f64(3, 4), f64(3, 4, seed=1), f64(3, 4, seed=2), 0.5, 1, 1e-6, True, 2,
                                                 gradcheck=True)], method=False, out=False),
    entry('poisson_nll_loss', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1).__abs__(), True, False, 1e-8, 1),
                                       Sample(f64(3, 4).__abs__() + 0.1, f64(3, 4, seed=1).__abs__(), False, True, 1e-8,
                                              2, gradcheck=True)], method=False, out=False),
    entry('binary_cross_entropy_with_logits', lambda: [
        Sample(f32(3, 4), np.abs(np.sign(f32(3, 4, seed=1)))),
        Sample(f64(3, 4), np.abs(np.sign(f64(3, 4, seed=1))), None, f64(4, seed=2).__abs__(), 2, gradcheck=True,
               grad=[0, 1]), Sample(f32(3, 4), np.abs(np.sign(f32(3, 4, seed=1))), None, None, 1)],
          method=False, out=False),
    entry('constant_pad_nd', lambda: [Sample(f32(2, 3), (1, 2)), Sample(f32(2, 3, 4), (1, 0, 2, 1), 2.5),
                                      Sample(f64(2, 3), (1, 1, 0, 2), gradcheck=True)], method=False, out=False),
    entry('fix', lambda: [Sample(f32(3, 4) * 3), Sample(f64(3, 4) * 3, gradcheck=True)], out=True),
    entry('sigmoid_', lambda: [Sample(f32(3, 4)), Sample(f64(2, 3), gradcheck=True)], call=_inplace_form('sigmoid_'),
          method=False, out=False),
    entry('exp_', lambda: [Sample(f32(3, 4)), Sample(f64(2, 3), gradcheck=True)], call=_inplace_form('exp_'),
          method=False, out=False),
    entry('clamp_', lambda: [Sample(f32(3, 4), -0.5, 0.5), Sample(f64(2, 3), -0.5, 0.5, gradcheck=True)],
          call=_inplace_form('clamp_'), method=False, out=False),
    entry('selu_', lambda: [Sample(f32(3, 4)), Sample(f64(2, 3), gradcheck=True)], call=_inplace_form('selu_'),
          method=False, out=False),
    entry('threshold_', lambda: [Sample(f32(3, 4), 0.1, 20.0)], call=_inplace_form('threshold_'), method=False,
          out=False),
    entry('dropout_', lambda: [Sample(f32(4, 5), 0.3, True, grad=False)], seed=0, method=False, out=False),
)


# -- nn.functional -----------------------------------------------------------------------------------------
def fn(name, samples, **kw):
    return Op(name, samples, ns='nn.functional', method=False, out=False, **kw)


def act(name, *extra, ints=True, errors=(), drop=(), **kw):
    """An activation: the unary samples, plus ``extra`` samples with its keyword arguments."""
    base = unary_samples(ints=ints, bools=ints, seed=_seed(name))
    return fn(name, _mark(lambda: base() + [Sample(*e.args, **e.kwargs, desc=e.desc) for e in extra], errors, drop),
              **kw)


_INTS = ('i64', 'bool')
add(
    act('relu', errors=('bool',)),
    act('relu6', Sample(f32(3, 4) * 4, desc='wide range'), errors=('bool',)),
    act('elu', Sample(f32(3, 4), alpha=0.5), errors=_INTS, gradgrad=True),
    act('selu', errors=_INTS),
    act('celu', Sample(f32(3, 4), alpha=2.0), errors=_INTS),
    act('gelu', Sample(f32(3, 4), approximate='tanh'), errors=_INTS, gradgrad=True),
    act('silu', errors=_INTS),
    act('mish', errors=_INTS),
    act('softplus', Sample(f32(3, 4), beta=2.0, threshold=1.0), errors=_INTS),
    act('softsign', errors=('bool',)),
    act('hardtanh', Sample(f32(3, 4), -0.5, 0.5), errors=('bool',)),
    act('hardsigmoid', Sample(f32(3, 4) * 4, desc='wide range'), errors=_INTS, gradgrad=False),  # PyTorch refuses
    act('hardswish', Sample(f32(3, 4) * 4, desc='wide range'), errors=_INTS),
    act('hardshrink', Sample(f32(3, 4), 1.0), errors=_INTS),
    act('softshrink', Sample(f32(3, 4), 1.0), errors=_INTS),
    act('tanhshrink', errors=('bool',)),
    act('leaky_relu', Sample(f32(3, 4), 0.2), errors=_INTS),
    act('logsigmoid', errors=_INTS),
    act('sigmoid'),
    act('tanh'),
    act('threshold', ints=False, drop=('f32 0-d', 'f32 0-size', 'f32 (3,4)', 'f32 transposed', 'f32 sliced', 'f64 (2,3)',
                                       'f64 extreme'),
        *[Sample(f32(3, 4), 0.5, 2.0), Sample(f64(2, 3), 0.1, -1.0, gradcheck=True), Sample(i64(3, 4), 1, 0)]),
    fn('glu', lambda: [Sample(f32(3, 4)), Sample(f32(4, 3), 0), Sample(f64(2, 4), gradcheck=True),
                       Sample(f32(3, 5), error=True)]),
    fn('softmax', lambda: [Sample(f32(3, 4), 1), Sample(f32(3, 4), dim=0), Sample(f32(3, 4), 1, dtype=None),
                           Sample(f64(2, 3), -1, gradcheck=True)], gradgrad=True),
    fn('log_softmax', lambda: [Sample(f32(3, 4), 1), Sample(f32(2, 3, 4), dim=0), Sample(f64(2, 3), -1, gradcheck=True)]),
    fn('softmin', lambda: [Sample(f32(3, 4), 1), Sample(f64(2, 3), -1, gradcheck=True)]),
    fn('normalize', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 1.0, 0), Sample(f32(2, 3, 4), dim=-1),
                             Sample(f64(3, 4), gradcheck=True)]),
    fn('prelu', lambda: [Sample(f32(2, 3, 4), f32(3, seed=1)), Sample(f32(2, 3), np.array([0.25], F32)),
                         Sample(f64(2, 3), f64(3, seed=1), gradcheck=True)]),
)


def _relu_(lib, x):
    """``torch.relu_`` on a non-leaf copy (in place on a leaf that requires grad is PyTorch's error)."""
    return lib.relu_(x.clone() if x.requires_grad else x)


# the torch.* forms of nn.functional ops (in PyTorch the same callables)
add(
    entry('conv1d', lambda: [Sample(f32(2, 3, 8), f32(4, 3, 3, seed=1), f32(4, seed=2)),
                             Sample(f32(2, 4, 8), f32(4, 2, 3, seed=1), None, 2, 1, 2, 2),
                             Sample(f32(2, 3, 8), f32(4, 3, 3, seed=1), padding='same'),
                             Sample(f64(1, 2, 5), f64(2, 2, 3, seed=1), f64(2, seed=2), gradcheck=True),
                             Sample(f32(2, 3, 8), f32(4, 2, 3), error=True)], method=False, out=False),
    entry('conv2d', lambda: [Sample(f32(2, 3, 6, 6), f32(4, 3, 3, 3, seed=1), f32(4, seed=2)),
                             Sample(f32(2, 4, 6, 6), f32(4, 2, 3, 3, seed=1), None, (2, 1), 1, 2, 2),
                             Sample(f64(1, 2, 4, 4), f64(2, 2, 3, 3, seed=1), f64(2, seed=2), gradcheck=True),
                             Sample(f32(2, 3, 6, 6), f32(4, 2, 3, 3), error=True)], method=False, out=False),
    entry('conv3d', lambda: [Sample(f32(2, 3, 4, 5, 4), f32(4, 3, 2, 3, 2, seed=1), f32(4, seed=2)),
                             Sample(f32(1, 4, 5, 6, 5), f32(4, 2, 2, 3, 2, seed=1), None, 1, 1, (1, 2, 1), 2),
                             Sample(f64(1, 2, 3, 3, 3), f64(2, 2, 2, 2, 2, seed=1), gradcheck=True),
                             Sample(f32(2, 3, 4, 4, 4), f32(4, 2, 2, 2, 2), error=True)], method=False, out=False),
    entry('conv_transpose1d', lambda: [Sample(f32(2, 3, 5), f32(3, 4, 3, seed=1), f32(4, seed=2)),
                                       Sample(f32(2, 4, 5), f32(4, 2, 3, seed=1), None, 2, 1, 1, 2, 1),
                                       Sample(f64(1, 2, 4), f64(2, 2, 3, seed=1), gradcheck=True),
                                       Sample(f32(2, 3, 5), f32(4, 4, 3), error=True)], method=False, out=False),
    entry('conv_transpose2d', lambda: [Sample(f32(2, 3, 4, 4), f32(3, 4, 3, 3, seed=1), f32(4, seed=2)),
                                       Sample(f32(2, 4, 4, 4), f32(4, 2, 3, 3, seed=1), stride=2, groups=2, dilation=2),
                                       Sample(f64(1, 2, 3, 3), f64(2, 2, 2, 2, seed=1), gradcheck=True),
                                       Sample(f32(2, 3, 4, 4), f32(4, 4, 3, 3), error=True)], method=False, out=False),
    entry('prelu', lambda: [Sample(f32(2, 3, 4), f32(3, seed=1)), Sample(f32(2, 3), np.array([0.25], F32)),
                            Sample(f64(2, 3), f64(3, seed=1), gradcheck=True),
                            Sample(f32(2, 3, 4), f32(2, seed=1), error=True)], out=False),
    entry('relu_', lambda: [Sample(f32(3, 4)), Sample(f64(2, 3), gradcheck=True), Sample(i64(3, 4))],
          call=_relu_, method=False, out=False),
    entry('pdist', lambda: [Sample(f32(4, 3)), Sample(f32(4, 3), 1.0), Sample(f32(5, 2), p=float('inf')),
                            Sample(f64(4, 3), gradcheck=True), Sample(f32(2, 3, 4), error=True),
                            Sample(f32(3, 2), p=-1.0, error=True)], method=False,
          out=False),
)


def loss(name, samples, **kw):
    return fn(name, samples, **kw)


def _pm1(*shape, seed=0):
    """Targets of +1 and -1."""
    return np.where(boolean(*shape, seed=seed), 1.0, -1.0).astype(F32)


def _regression(extra=()):
    def gen():
        return [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(f32(3, 4), f32(3, 4, seed=1), reduction='sum'),
                Sample(f32(3, 4), f32(3, 4, seed=1), reduction='none'), Sample(f32(), f32(seed=1)),
                Sample(f64(2, 3), f64(2, 3, seed=1), gradcheck=True), Sample(f32(3, 4), f64(3, 4, seed=1)),
                Sample(f32(3, 4), f32(3, 4, seed=1), reduction='max', error=True)] + list(extra)
    return gen


_logp = lambda *shape, seed=0: np.log(np.abs(f32(*shape, seed=seed)) + 0.1).astype(F32)   # noqa: E731

add(
    loss('mse_loss', _regression()),
    loss('l1_loss', _regression()),
    loss('smooth_l1_loss', _regression([Sample(f32(3, 4), f32(3, 4, seed=1), beta=0.5)])),
    loss('huber_loss', _regression([Sample(f32(3, 4), f32(3, 4, seed=1), delta=0.5)])),
    loss('soft_margin_loss', lambda: [Sample(f32(3, 4), _pm1(3, 4), grad=(0,)),
                                      Sample(f32(3, 4), _pm1(3, 4), reduction='none', grad=(0,)),
                                      Sample(f64(2, 3), _pm1(2, 3).astype(F64), gradcheck=True, grad=(0,))]),
    loss('binary_cross_entropy', lambda: [
        Sample(f32(3, 4, domain='prob'), f32(3, 4, domain='prob', seed=1)),
        Sample(f32(3, 4, domain='prob'), boolean(3, 4).astype(F32), reduction='sum'),
        Sample(f32(3, 4, domain='prob'), f32(3, 4, domain='prob', seed=1), f32(4, domain='positive'), grad=(0, 1)),
        Sample(f64(2, 3, domain='prob'), f64(2, 3, domain='prob', seed=1), gradcheck=True),
        Sample(f32(3, 4) + 3, f32(3, 4, domain='prob', seed=1), error=True, desc='input above 1')]),
    loss('binary_cross_entropy_with_logits', lambda: [
        Sample(f32(3, 4), f32(3, 4, domain='prob', seed=1)), Sample(f32(3, 4), f32(3, 4, domain='prob'), reduction='none'),
        Sample(f32(3, 4), f32(3, 4, domain='prob'), pos_weight=f32(4, domain='positive'), grad=(0, 1)),
        Sample(f32(3, 4), f32(3, 4, domain='prob'), f32(4, domain='positive', seed=2), grad=(0, 1)),
        Sample(f64(2, 3), f64(2, 3, domain='prob', seed=1), gradcheck=True),
        Sample(f32(3, 4), f32(3, 5), error=True)]),
    loss('cross_entropy', lambda: [
        Sample(f32(3, 5), idx(3, high=5)), Sample(f32(3, 5), idx(3, high=5), reduction='sum'),
        Sample(f32(3, 5), idx(3, high=5), f32(5, domain='positive'), grad=(0,)),
        Sample(f32(3, 5), idx(3, high=5), ignore_index=1),
        Sample(f32(3, 5), idx(3, high=5), label_smoothing=0.1), Sample(f32(2, 5, 4), idx(2, 4, high=5)),
        Sample(f32(3, 5), f32(3, 5, domain='prob', seed=1), desc='probability targets'), Sample(f32(5), idx(high=5)),
        Sample(f64(3, 5), idx(3, high=5), gradcheck=True), Sample(f32(3, 5), idx(3, high=5) + 5, error=True,
                                                                   desc='class out of range')]),
    loss('nll_loss', lambda: [
        Sample(f32(3, 5), idx(3, high=5)), Sample(f32(3, 5), idx(3, high=5), reduction='none'),
        Sample(f32(3, 5), idx(3, high=5), f32(5, domain='positive'), grad=(0,)),
        Sample(f32(3, 5), idx(3, high=5), ignore_index=0),
        Sample(f32(2, 5, 4), idx(2, 4, high=5)), Sample(f64(3, 5), idx(3, high=5), gradcheck=True),
        Sample(f32(3, 5), f32(3), error=True)]),
    loss('kl_div', lambda: [
        Sample(_logp(3, 4), f32(3, 4, domain='prob', seed=1)),
        Sample(_logp(3, 4), f32(3, 4, domain='prob', seed=1), reduction='batchmean'),
        Sample(_logp(3, 4), _logp(3, 4, seed=1), log_target=True, reduction='sum'),
        Sample(_logp(2, 3).astype(F64), f64(2, 3, domain='prob', seed=1), reduction='batchmean', gradcheck=True)]),
    loss('margin_ranking_loss', lambda: [Sample(f32(4), f32(4, seed=1), _pm1(4)),
                                         Sample(f32(4), f32(4, seed=1), _pm1(4), margin=0.5, reduction='none'),
                                         Sample(f64(4), f64(4, seed=1), _pm1(4).astype(F64), gradcheck=True)]),
    loss('hinge_embedding_loss', lambda: [Sample(f32(3, 4), _pm1(3, 4)), Sample(f32(3, 4), _pm1(3, 4), margin=0.5),
                                          Sample(f64(2, 3), _pm1(2, 3).astype(F64), gradcheck=True)]),
    loss('cosine_embedding_loss', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1), _pm1(3)),
                                           Sample(f32(3, 4), f32(3, 4, seed=1), _pm1(3), margin=0.2, reduction='sum'),
                                           Sample(f64(3, 4), f64(3, 4, seed=1), _pm1(3).astype(F64), gradcheck=True)]),
    loss('poisson_nll_loss', lambda: [Sample(f32(3, 4), f32(3, 4, domain='positive')),
                                      Sample(f32(3, 4, domain='positive'), f32(3, 4, domain='positive'), log_input=False),
                                      Sample(f32(3, 4), f32(3, 4, domain='positive'), full=True),
                                      Sample(f64(2, 3), f64(2, 3, domain='positive'), gradcheck=True)]),
    loss('gaussian_nll_loss', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1), f32(3, 4, domain='positive')),
                                       Sample(f32(3, 4), f32(3, 4, seed=1), f32(3, 1, domain='positive'), full=True),
                                       Sample(f64(2, 3), f64(2, 3, seed=1), f64(2, 3, domain='positive'), gradcheck=True),
                                       Sample(f32(3, 4), f32(3, 4), -f32(3, 4, domain='positive'), error=True,
                                              desc='negative var')]),
    loss('multi_margin_loss', lambda: [Sample(f32(3, 5), idx(3, high=5)), Sample(f32(3, 5), idx(3, high=5), p=2, margin=0.5),
                                       Sample(f64(3, 5), idx(3, high=5), gradcheck=True)]),
    loss('multilabel_margin_loss', lambda: [Sample(f32(2, 4), np.array([[3, 0, -1, 1], [1, 2, 3, -1]])),
                                            Sample(f64(2, 4), np.array([[3, 0, -1, 1], [1, 2, 3, -1]]), gradcheck=True)]),
    loss('multilabel_soft_margin_loss', lambda: [Sample(f32(3, 4), boolean(3, 4).astype(F32)),
                                                 Sample(f64(3, 4), boolean(3, 4).astype(F64), gradcheck=True)]),
    loss('triplet_margin_loss', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1), f32(3, 4, seed=2)),
                                         Sample(f32(3, 4), f32(3, 4, seed=1), f32(3, 4, seed=2), margin=0.5, p=1, swap=True),
                                         Sample(f64(3, 4), f64(3, 4, seed=1), f64(3, 4, seed=2), gradcheck=True)]),
)

add(
    fn('conv1d', lambda: [Sample(f32(2, 3, 8), f32(4, 3, 3, seed=1), f32(4, seed=2)),
                          Sample(f32(2, 3, 8), f32(4, 3, 3, seed=1), stride=2, padding=1, dilation=2),
                          Sample(f32(2, 4, 8), f32(4, 2, 3, seed=1), groups=2, padding='same'),
                          Sample(f32(3, 8), f32(4, 3, 3, seed=1)),
                          Sample(f64(1, 2, 5), f64(2, 2, 3, seed=1), f64(2, seed=2), gradcheck=True),
                          Sample(f32(2, 3, 8), f32(4, 2, 3), error=True)]),
    fn('conv2d', lambda: [Sample(f32(2, 3, 6, 6), f32(4, 3, 3, 3, seed=1), f32(4, seed=2)),
                          Sample(f32(2, 3, 6, 6), f32(4, 3, 3, 3, seed=1), stride=(2, 1), padding=1),
                          Sample(f32(2, 4, 6, 6), f32(4, 2, 3, 3, seed=1), groups=2, dilation=2),
                          Sample(f32(2, 3, 6, 6), f32(4, 3, 3, 3, seed=1), padding='same'),
                          Sample(f32(0, 3, 6, 6), f32(4, 3, 3, 3, seed=1)),
                          Sample(f64(1, 2, 4, 4), f64(2, 2, 3, 3, seed=1), f64(2, seed=2), gradcheck=True),
                          Sample(f32(2, 3, 6, 6), f32(4, 2, 3, 3), error=True)]),
    fn('conv_transpose1d', lambda: [Sample(f32(2, 3, 5), f32(3, 4, 3, seed=1), f32(4, seed=2)),
                                    Sample(f32(2, 3, 5), f32(3, 4, 3, seed=1), stride=2, padding=1, output_padding=1),
                                    Sample(f64(1, 2, 4), f64(2, 2, 3, seed=1), gradcheck=True)]),
    fn('conv_transpose2d', lambda: [Sample(f32(2, 3, 4, 4), f32(3, 4, 3, 3, seed=1), f32(4, seed=2)),
                                    Sample(f32(2, 4, 4, 4), f32(4, 2, 3, 3, seed=1), stride=2, groups=2),
                                    Sample(f64(1, 2, 3, 3), f64(2, 2, 2, 2, seed=1), gradcheck=True)]),
    fn('avg_pool1d', lambda: [Sample(f32(2, 3, 8), 2), Sample(f32(2, 3, 7), 3, 2, 1, ceil_mode=True),
                              Sample(f32(2, 3, 7), 3, 2, 1, count_include_pad=False), Sample(f64(1, 2, 6), 2, gradcheck=True)]),
    fn('conv3d', lambda: [Sample(f32(2, 3, 4, 5, 4), f32(4, 3, 2, 3, 2, seed=1), f32(4, seed=2)),
                          Sample(f32(2, 3, 5, 5, 4), f32(4, 3, 3, 2, 2, seed=1), stride=(2, 1, 2), padding=1),
                          Sample(f32(1, 4, 5, 6, 5), f32(4, 2, 2, 3, 2, seed=1), groups=2, dilation=(1, 2, 1)),
                          Sample(f32(3, 4, 5, 4), f32(2, 3, 3, 3, 3, seed=1), padding='same'),
                          Sample(f32(0, 3, 4, 4, 4), f32(4, 3, 2, 2, 2, seed=1)),
                          Sample(f64(1, 2, 3, 4, 3), f64(2, 2, 2, 2, 2, seed=1), f64(2, seed=2), gradcheck=True),
                          Sample(f32(2, 3, 4, 4, 4), f32(4, 2, 2, 2, 2), error=True),
                          Sample(f32(2, 3, 4, 4), f32(4, 3, 2, 2, 2), error=True)]),
    fn('conv_transpose3d', lambda: [Sample(f32(2, 3, 3, 4, 3), f32(3, 4, 2, 3, 2, seed=1), f32(4, seed=2)),
                                    Sample(f32(1, 4, 3, 3, 2), f32(4, 2, 2, 2, 3, seed=1), stride=(2, 1, 2),
                                           padding=1, output_padding=(1, 0, 0), groups=2),
                                    Sample(f32(2, 3, 3, 4), f32(2, 3, 2, 2, 2, seed=1), dilation=2),
                                    Sample(f64(1, 2, 3, 2, 3), f64(2, 2, 2, 2, 2, seed=1), f64(2, seed=2),
                                           gradcheck=True),
                                    Sample(f32(2, 3, 3, 3, 3), f32(2, 4, 2, 2, 2), error=True)]),
    fn('max_pool3d', lambda: [Sample(f32(2, 3, 4, 4, 6), 2), Sample(f32(1, 2, 5, 7, 6), 3, 2, 1, ceil_mode=True),
                              Sample(f32(2, 3, 4, 4, 4), 2, return_indices=True),
                              Sample(f32(2, 5, 6, 5), (2, 3, 2), dilation=(2, 1, 1)),
                              Sample(f64(1, 2, 4, 3, 4), 2, gradcheck=True),
                              Sample(f32(3, 4), 2, error=True), Sample(f32(1, 2, 4, 4, 4), 2, 1, 2, error=True)]),
    fn('avg_pool3d', lambda: [Sample(f32(2, 3, 4, 4, 6), 2), Sample(f32(1, 2, 5, 7, 6), 3, 2, 1, ceil_mode=True),
                              Sample(f32(1, 2, 5, 7, 6), 3, 2, 1, count_include_pad=False),
                              Sample(f32(2, 3, 4, 4, 4), 2, divisor_override=3), Sample(f32(3, 4, 4, 4), 2),
                              Sample(f64(1, 2, 4, 3, 4), 2, gradcheck=True)]),
    fn('adaptive_avg_pool3d', lambda: [Sample(f32(2, 3, 6, 4, 6), 3), Sample(f32(2, 3, 7, 5, 4), (3, 2, 4)),
                                       Sample(f32(3, 6, 6, 5), (None, 2, 4)),
                                       Sample(f64(1, 2, 5, 5, 3), 2, gradcheck=True)]),
    fn('adaptive_max_pool3d', lambda: [Sample(f32(2, 3, 6, 4, 6), 3), Sample(f32(2, 3, 7, 5, 4), (3, 2, 4)),
                                       Sample(f32(3, 6, 6, 5), (None, 2, 4)),
                                       Sample(f32(1, 2, 5, 4, 4), 2, return_indices=True),
                                       Sample(f64(1, 2, 5, 5, 3), 2, gradcheck=True)]),
    fn('avg_pool2d', lambda: [Sample(f32(2, 3, 6, 6), 2), Sample(f32(2, 3, 7, 7), 3, 2, 1, ceil_mode=True),
                              Sample(f32(2, 3, 7, 7), 3, 2, 1, count_include_pad=False),
                              Sample(f32(2, 3, 6, 6), 2, divisor_override=3), Sample(f32(3, 6, 6), 2),
                              Sample(f64(1, 2, 4, 4), 2, gradcheck=True)]),
    fn('max_pool1d', lambda: [Sample(f32(2, 3, 8), 2), Sample(f32(2, 3, 7), 3, 2, 1, ceil_mode=True),
                              Sample(f32(2, 3, 8), 2, return_indices=True), Sample(f32(2, 3, 8), 2, dilation=2),
                              Sample(f64(1, 2, 6), 2, gradcheck=True)]),
    fn('max_pool2d', lambda: [Sample(f32(2, 3, 6, 6), 2), Sample(f32(2, 3, 7, 7), 3, 2, 1, ceil_mode=True),
                              Sample(f32(2, 3, 6, 6), 2, return_indices=True), Sample(f32(2, 3, 6, 6), 2, dilation=2),
                              Sample(f64(1, 2, 4, 4), 2, gradcheck=True)]),
    fn('adaptive_avg_pool1d', lambda: [Sample(f32(2, 3, 8), 4), Sample(f32(2, 3, 7), 3), Sample(f64(1, 2, 5), 2, gradcheck=True)]),
    fn('adaptive_avg_pool2d', lambda: [Sample(f32(2, 3, 6, 6), 3), Sample(f32(2, 3, 7, 5), (3, 2)),
                                       Sample(f32(2, 3, 6, 6), (None, 2)), Sample(f64(1, 2, 5, 5), 2, gradcheck=True)]),
    fn('adaptive_max_pool1d', lambda: [Sample(f32(2, 3, 8), 4), Sample(f32(2, 3, 7), 3, True),
                                       Sample(f64(1, 2, 5), 2, gradcheck=True)]),
    fn('adaptive_max_pool2d', lambda: [Sample(f32(2, 3, 6, 6), 3), Sample(f32(2, 3, 7, 5), (3, 2), True),
                                       Sample(f64(1, 2, 5, 5), 2, gradcheck=True)]),
    # fractional max pools draw their window offsets with rand after manual_seed(seed), as PyTorch's do
    fn('fractional_max_pool2d', lambda: [Sample(f32(2, 3, 9, 10), 2, output_size=(4, 5)),
                                         Sample(f32(3, 7, 8), 3, output_ratio=(0.5, 0.6), return_indices=True),
                                         Sample(f64(1, 2, 7, 8), 2, output_size=3, gradcheck=True)], seed=0),
    fn('fractional_max_pool3d', lambda: [Sample(f32(2, 2, 6, 7, 6), 2, output_size=(3, 4, 3)),
                                         Sample(f64(1, 2, 5, 6, 5), 2, output_size=3, return_indices=True,
                                                gradcheck=True)], seed=0),
    fn('lp_pool1d', lambda: [Sample(f32(2, 3, 8, domain='positive'), 2, 2), Sample(f32(2, 3, 8, domain='positive'), 1, 3),
                             Sample(f64(1, 2, 6, domain='positive'), 2, 2, gradcheck=True)]),
    fn('lp_pool2d', lambda: [Sample(f32(2, 3, 6, 6, domain='positive'), 2, 2),
                             Sample(f64(1, 2, 4, 4, domain='positive'), 2, 2, gradcheck=True)]),
    fn('pad', lambda: [Sample(f32(2, 3), (1, 2)), Sample(f32(2, 3), (1, 1, 0, 2), value=1.5),
                       Sample(f32(1, 2, 4), (2, 1), mode='reflect'), Sample(f32(1, 2, 4), (2, 1), mode='replicate'),
                       Sample(f32(1, 2, 4), (2, 1), mode='circular'), Sample(f32(1, 2, 3, 3), (1, 1, 1, 1), mode='reflect'),
                       Sample(f32(2, 3), (-1, 1)), Sample(i64(2, 3), (1, 1)),
                       Sample(f64(1, 2, 4), (1, 2), mode='reflect', gradcheck=True),
                       Sample(f32(1, 2, 4), (4, 1), mode='reflect', error=True)]),
    fn('layer_norm', lambda: [Sample(f32(2, 3, 4), (4,)), Sample(f32(2, 3, 4), (3, 4), f32(3, 4, seed=1), f32(3, 4, seed=2)),
                              Sample(f32(2, 3, 4), [4], eps=1e-3), Sample(f64(2, 4), (4,), f64(4, seed=1), f64(4, seed=2),
                                                                        gradcheck=True),
                              Sample(f32(2, 3), (4,), error=True)]),
    fn('group_norm', lambda: [Sample(f32(2, 4, 3), 2), Sample(f32(2, 4, 3, 3), 2, f32(4, seed=1), f32(4, seed=2)),
                              Sample(f64(2, 4, 3), 2, f64(4, seed=1), f64(4, seed=2), gradcheck=True),
                              Sample(f32(2, 4, 3), 3, error=True)]),
    fn('batch_norm', lambda: [Sample(f32(4, 3), f32(3), f32(3, domain='positive'), grad=False),
                              Sample(f32(4, 3, 5), f32(3), f32(3, domain='positive'), f32(3, seed=1), f32(3, seed=2),
                                     grad=(0, 3, 4)),
                              Sample(f32(4, 3), None, None, training=True),
                              Sample(f64(4, 3, 2), None, None, f64(3, seed=1), f64(3, seed=2), training=True, gradcheck=True)]),
    fn('instance_norm', lambda: [Sample(f32(2, 3, 5)), Sample(f32(2, 3, 4, 4), weight=f32(3, seed=1), bias=f32(3, seed=2)),
                                 Sample(f64(2, 3, 4), gradcheck=True)]),
    fn('rms_norm', lambda: [Sample(f32(2, 3, 4), (4,)), Sample(f32(2, 3, 4), (3, 4), f32(3, 4, seed=1)),
                            Sample(f32(2, 4), [4], eps=1e-3), Sample(f64(2, 4), (4,), f64(4, seed=1), gradcheck=True)]),
    fn('local_response_norm', lambda: [Sample(f32(2, 4, 5), 3), Sample(f32(2, 4, 3, 3), 2, alpha=0.01, beta=0.5, k=2.0),
                                       Sample(f64(1, 4, 3), 3, gradcheck=True)]),
    fn('embedding', lambda: [Sample(idx(2, 3, high=5), f32(5, 4)), Sample(idx(4, high=5), f32(5, 4), padding_idx=1),
                             Sample(idx(4, high=5), f32(5, 4), max_norm=1.0, grad=False),
                             Sample(idx(3, high=5), f64(5, 2), gradcheck=True),
                             Sample(idx(3, high=5) + 5, f32(5, 4), error=True, desc='index out of range')]),
    fn('one_hot', lambda: [Sample(idx(4, high=5)), Sample(idx(2, 3, high=4), 6), Sample(idx(0), error=True),
                           Sample(idx(3) + 5, 3, error=True, desc='class out of range'),
                           Sample(f32(3), error=True)], grad=False),
    fn('pixel_shuffle', lambda: [Sample(f32(1, 8, 2, 3), 2), Sample(f64(1, 4, 2, 2), 2, gradcheck=True),
                                 Sample(f32(1, 6, 2, 2), 2, error=True)]),
    fn('pixel_unshuffle', lambda: [Sample(f32(1, 2, 4, 6), 2), Sample(f64(1, 1, 4, 4), 2, gradcheck=True),
                                   Sample(f32(1, 2, 3, 3), 2, error=True)]),
    fn('channel_shuffle', lambda: [Sample(f32(1, 6, 2, 2), 3), Sample(f64(1, 4, 2), 2, gradcheck=True)]),
    fn('interpolate', lambda: [
        Sample(f32(2, 3, 5, 4), scale_factor=2), Sample(f32(2, 3, 5), size=7), Sample(f32(1, 2, 3, 4, 5), scale_factor=1.7),
        Sample(f32(2, 3, 5, 4), scale_factor=0.6, mode='nearest-exact'), Sample(f32(2, 3, 5), size=8, mode='linear'),
        Sample(f32(2, 3, 5, 4), scale_factor=2, mode='bilinear'),
        Sample(f32(2, 3, 5, 4), size=(3, 7), mode='bilinear', align_corners=True),
        Sample(f32(2, 3, 5, 4), scale_factor=1.5, mode='bicubic'),
        Sample(f32(1, 2, 3, 4, 5), size=(4, 2, 6), mode='trilinear', align_corners=False),
        Sample(f32(1, 2, 9, 8), size=(4, 3), mode='bilinear', antialias=True),
        Sample(f32(1, 2, 9, 8), size=(3, 4), mode='area'), Sample(View(f32(1, 2, 5, 4), lambda t: t.transpose(2, 3), 'transposed'), scale_factor=2),
        Sample(arr((1, 2, 3, 4), np.uint8), scale_factor=2, desc='u8 nearest'),
        Sample(f64(1, 2, 3, 4), scale_factor=1.5, mode='bicubic', align_corners=True, gradcheck=True),
        Sample(f64(1, 2, 3), scale_factor=2.5, mode='linear', gradcheck=True),
        Sample(f64(1, 2, 3, 4), size=(5, 3), gradcheck=True),
        Sample(f32(2, 3, 5, 4), scale_factor=2, mode='linear', error=True),
        Sample(f32(2, 3, 5, 4), scale_factor=2, align_corners=True, error=True),
        Sample(f32(2, 3, 5, 4), size=4, scale_factor=2, error=True), Sample(f32(2, 3, 5, 4), error=True),
        Sample(f32(2, 3, 5, 4), size=(2,), error=True), Sample(f32(3, 4), scale_factor=2, error=True),
        Sample(f32(2, 3, 5, 4), scale_factor=2, mode='cubic', error=True),
        Sample(f32(2, 3, 5, 4), size=(0, 2), mode='bilinear', error=True),
        Sample(i64(1, 2, 3), scale_factor=2, error=True)]),
    fn('grid_sample', lambda: [
        Sample(f32(2, 3, 5, 4), f32(2, 3, 6, 2, seed=1), align_corners=False),
        Sample(f32(1, 2, 4, 5), f32(1, 2, 3, 2, seed=1), mode='nearest', align_corners=True),
        Sample(f32(1, 2, 4, 5), f32(1, 3, 3, 2, seed=1), mode='bicubic', padding_mode='border', align_corners=False),
        Sample(f32(2, 1, 5, 5), f32(2, 4, 4, 2, seed=1), padding_mode='reflection', align_corners=True),
        Sample(f32(2, 1, 5, 5), f32(2, 4, 4, 2, seed=1), mode='bicubic', padding_mode='reflection',
               align_corners=False),
        Sample(f32(1, 2, 4, 5), f32(1, 2, 3, 2, seed=1), desc='align_corners unset (warns)'),
        Sample(f64(1, 2, 4, 3), f64(1, 2, 3, 2, seed=1), align_corners=False, gradcheck=True),
        Sample(f64(1, 1, 4, 3), f64(1, 2, 3, 2, seed=1), mode='bicubic', padding_mode='border', align_corners=True,
               gradcheck=True),
        Sample(f64(1, 1, 4, 3), f64(1, 2, 3, 2, seed=1), padding_mode='reflection', align_corners=False,
               gradcheck=True),
        Sample(f32(1, 2, 4, 5), f32(1, 2, 3, 2, seed=1), mode='area', align_corners=False, error=True),
        Sample(f32(1, 2, 4, 5), f32(1, 2, 3, 2, seed=1), padding_mode='wrap', align_corners=False, error=True),
        Sample(f32(1, 2, 4, 5), f32(2, 2, 3, 2, seed=1), align_corners=False, error=True, desc='batch mismatch'),
        Sample(f32(1, 2, 4, 5), f64(1, 2, 3, 2, seed=1), align_corners=False, error=True, desc='dtype mismatch')]),
    fn('affine_grid', lambda: [
        Sample(f32(2, 2, 3), (2, 3, 4, 5), align_corners=False), Sample(f32(1, 2, 3), (1, 1, 3, 3), align_corners=True),
        Sample(f32(2, 3, 4), (2, 1, 2, 3, 4), align_corners=False), Sample(f32(1, 2, 3), (1, 1, 4, 2)),
        Sample(f64(2, 2, 3), (2, 1, 3, 4), align_corners=False, gradcheck=True),
        Sample(f64(1, 3, 4), (1, 1, 2, 2, 3), align_corners=True, gradcheck=True),
        Sample(f32(2, 2, 3), (2, 3, 4), align_corners=False, error=True, desc='3-D size'),
        Sample(f32(2, 3, 3), (2, 3, 4, 5), align_corners=False, error=True, desc='theta 3x3 for 2-D'),
        Sample(i64(2, 2, 3), (2, 3, 4, 5), align_corners=False, error=True, desc='integer theta'),
        Sample(f32(1, 2, 3), (1, 1, 0, 3), align_corners=False, error=True, desc='empty size')]),
    fn('cosine_similarity', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(f32(3, 4), f32(4, seed=1), dim=0),
                                     Sample(f64(3, 4), f64(3, 4, seed=1), gradcheck=True)]),
    fn('pairwise_distance', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(f32(3, 4), f32(4, seed=1), p=1.0),
                                     Sample(f32(3, 4), f32(3, 4, seed=1), keepdim=True),
                                     Sample(f64(3, 4), f64(3, 4, seed=1), gradcheck=True)]),
    fn('pdist', lambda: [Sample(f32(4, 3)), Sample(f32(4, 3), 1.0), Sample(f64(4, 3), gradcheck=True)]),
    fn('unfold', lambda: [Sample(f32(2, 3, 5, 5), 2), Sample(f32(2, 3, 5, 5), (2, 3), padding=1, stride=2),
                          Sample(f64(1, 2, 4, 4), 2, gradcheck=True)]),
    fn('fold', lambda: [Sample(f32(2, 12, 16), (5, 5), 2), Sample(f32(2, 12, 4), (4, 4), 2, stride=2),
                        Sample(f64(1, 8, 9), (4, 4), 2, gradcheck=True)]),
    fn('scaled_dot_product_attention', lambda: [
        Sample(f32(2, 3, 4), f32(2, 5, 4, seed=1), f32(2, 5, 4, seed=2)),
        Sample(f32(2, 3, 4), f32(2, 3, 4, seed=1), f32(2, 3, 4, seed=2), is_causal=True),
        Sample(f32(2, 3, 4), f32(2, 5, 4, seed=1), f32(2, 5, 4, seed=2), attn_mask=boolean(3, 5) | np.eye(3, 5, dtype=bool)),
        Sample(f32(2, 3, 4), f32(2, 5, 4, seed=1), f32(2, 5, 4, seed=2), scale=0.3),
        Sample(f64(1, 2, 3), f64(1, 3, 3, seed=1), f64(1, 3, 3, seed=2), gradcheck=True)]),
)

# -- creation and conversion -------------------------------------------------------------------------------
def _dt(name):
    """A dtype argument, resolved in whichever library the call receives."""
    return _Dtype(name)


class _Dtype:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


def _resolve(lib, v):
    if isinstance(v, _Dtype):
        return getattr(lib, v.name)
    if isinstance(v, (list, tuple)) and any(isinstance(x, _Dtype) for x in v):
        return type(v)(_resolve(lib, x) for x in v)
    return v


def _creator(name, attr=None):
    """Call ``lib.<name>`` with dtype placeholders resolved (``attr``: compare this attribute of the result)."""
    def call(lib, *args, **kwargs):
        r = getattr(lib, name)(*[_resolve(lib, a) for a in args], **{k: _resolve(lib, v) for k, v in kwargs.items()})
        return (tuple(r.shape), repr(r.dtype).split('.')[-1]) if attr else r
    return call


def _window_samples():
    """The samples every window function takes: lengths (periodic or not), float64, and PyTorch's errors."""
    return [Sample(8), Sample(7, False), Sample(1), Sample(0), Sample(33, dtype=_dt('float64')), Sample(-1, error=True),
            Sample(4, dtype=_dt('int64'), error=True)]


def creation(name, samples, attr=None, **kw):
    return Op(name, samples, call=_creator(name, attr), method=False, grad=False, **kw)


add(
    creation('tensor', lambda: [Sample([0.1, 1e40, 1e-50], dtype=_dt('float64')), Sample([[1, 2], [3, 4]]),
                                Sample([1.5, 2]), Sample([True, False]), Sample(3.5), Sample([]), Sample([[1, 2], [3]],
                                                                                                      error=True),
                                Sample([1, 2], dtype=_dt('float16')), Sample(f64(2, 3))], out=False),
    creation('as_tensor', lambda: [Sample([0.1, 1e40], dtype=_dt('float64')), Sample([1, 2]), Sample(f32(2, 3))],
             out=False),
    creation('zeros', lambda: [Sample(2, 3), Sample((2, 3)), Sample(0), Sample(2, dtype=_dt('int64')),
                               Sample((), dtype=_dt('bool')), Sample(-1, error=True)]),
    creation('ones', lambda: [Sample(2, 3), Sample((4,), dtype=_dt('float64')), Sample(2, dtype=_dt('int32'))]),
    creation('full', lambda: [Sample((2, 3), 1.5), Sample((2,), 7), Sample((2,), True), Sample((2, 2), 2, dtype=_dt('float64'))]),
    creation('empty', lambda: [Sample(2, 3), Sample((0, 2)), Sample(3, dtype=_dt('int64'))], attr=True, out=False),
    creation('arange', lambda: [Sample(5), Sample(1, 4), Sample(0, 1, 0.25), Sample(5.0), Sample(1, 2.5, 0.5),
                                Sample(0, 10, 3, dtype=_dt('float64')), Sample(1, 0, 1, error=True),
                                Sample(0, 1, 0, error=True)]),
    creation('linspace', lambda: [Sample(0, 1, 5), Sample(-1, 1, 1), Sample(0, 1, 0), Sample(0, 10, 4, dtype=_dt('int64')),
                                  Sample(0, 1, 5, dtype=_dt('float64'))]),
    creation('logspace', lambda: [Sample(0, 2, 5), Sample(0, 3, 4, base=2.0), Sample(0, 1, 3, dtype=_dt('float64'))]),
    creation('eye', lambda: [Sample(3), Sample(2, 4), Sample(3, dtype=_dt('int64')), Sample(0)]),
    *[creation(f'{w}_window', lambda extra=extra: _window_samples() + extra, out=False, atol=2e-6)
      for w, extra in (('hann', []), ('blackman', []), ('bartlett', []),
                       ('hamming', [Sample(9, True, 0.6, 0.4), Sample(6, False, 0.5)]),
                       ('kaiser', [Sample(9, True, 5.0), Sample(6, False, 0.0)]))],
)


def _like(name):
    def call(lib, x, *args, **kwargs):
        return getattr(lib, name)(x, *[_resolve(lib, a) for a in args], **{k: _resolve(lib, v) for k, v in kwargs.items()})
    return call


add(*[Op(n, (lambda extra: lambda: [Sample(f32(2, 3), *extra), Sample(i64(3), *extra), Sample(f32(), *extra),
                                    Sample(f32(2, 3), *extra, dtype=_dt('float64'))])(extra),
         call=_like(n), method=False, grad=False, out=False)
      for n, extra in (('zeros_like', ()), ('ones_like', ()), ('full_like', (2.5,)))])


def _convert(name):
    def call(lib, x, *args):
        return getattr(x, name)(*[_resolve(lib, a) for a in args])
    return call


_CONV = lambda: [Sample(f32(2, 3)), Sample(extreme('real')), Sample(i64(3)), Sample(boolean(3)),   # noqa: E731
                 Sample(f64(2, 3))]
add(*[Op(n, _CONV, ns='Tensor', call=_convert(n), grad=(n in ('float', 'double', 'half')))
      for n in ('float', 'double', 'half', 'long', 'int', 'short', 'char', 'byte', 'bool')])
add(
    Op('to', lambda: [Sample(f32(2, 3), _dt('float64')), Sample(f64(2, 3), _dt('float32')),
                      Sample(f32(2, 3), _dt('int64')), Sample(f32(2, 3), 'cpu'), Sample(i64(3), _dt('bool'))],
       ns='Tensor', call=_convert('to')),
    Op('type', lambda: [Sample(f32(2, 3), _dt('float64')), Sample(f32(2, 3), 'torch.LongTensor')],
       ns='Tensor', call=_convert('type'), grad=False),
    Op('item', lambda: [Sample(f32()), Sample(i64(1)), Sample(boolean()), Sample(f32(2), error=True)],
       ns='Tensor', call=_convert('item'), grad=False),
    Op('tolist', lambda: [Sample(f32(2, 3)), Sample(i64(3)), Sample(f32())], ns='Tensor', call=_convert('tolist'),
       grad=False),
)


def _dunder(name):
    def call(lib, x, *args):
        return getattr(x, name)(*args)
    return call


_DUNDERS = {'__add__': 'add', '__radd__': 'add', '__sub__': 'sub', '__rsub__': 'sub', '__mul__': 'mul',
            '__rmul__': 'mul', '__truediv__': 'div', '__rtruediv__': 'div', '__floordiv__': 'floor_divide',
            '__mod__': 'remainder', '__pow__': 'pow', '__rpow__': 'pow', '__matmul__': 'matmul', '__lt__': 'lt',
            '__le__': 'le', '__gt__': 'gt', '__ge__': 'ge', '__eq__': 'eq', '__ne__': 'ne', '__and__': 'bitwise_and',
            '__or__': 'bitwise_or', '__xor__': 'bitwise_xor'}


def _dunder_samples(name):
    if name in ('__and__', '__or__', '__xor__'):
        return lambda: [Sample(i64(3, 4), i64(3, 4, seed=1)), Sample(boolean(3), boolean(3, seed=1)), Sample(i64(3), 5)]
    if name == '__matmul__':
        return lambda: [Sample(f32(3, 4), f32(4, 2, seed=1)), Sample(f64(3, 4), f64(4, 2, seed=1), gradcheck=True)]
    pos = name in ('__truediv__', '__rtruediv__', '__mod__', '__floordiv__', '__pow__', '__rpow__')
    dom = 'positive' if pos else 'real'
    return lambda: [Sample(f32(3, 4, domain=dom), f32(3, 4, domain=dom, seed=1)),
                    Sample(f32(2, 3, domain=dom), 2.5), Sample(f32(2, 3, domain=dom), 2),
                    Sample(i64(2, 3, domain=dom), 3), Sample(f32(2, 3, domain=dom), f64(3, domain=dom, seed=1)),
                    Sample(f64(2, 3, domain=dom), f64(2, 3, domain=dom, seed=1), gradcheck=True)]


add(*[Op(n, _dunder_samples(n), ns='Tensor', call=_dunder(n), grad=n not in (
    '__lt__', '__le__', '__gt__', '__ge__', '__eq__', '__ne__', '__and__', '__or__', '__xor__'))
      for n in _DUNDERS])
add(
    Op('__neg__', unary_samples(bools=False), ns='Tensor', call=_dunder('__neg__')),
    Op('__abs__', unary_samples(bools=False), ns='Tensor', call=_dunder('__abs__')),
    Op('__invert__', lambda: [Sample(i64(3, 4)), Sample(boolean(3, 4)), Sample(f32(3), error=True)], ns='Tensor',
       call=_dunder('__invert__'), grad=False),
    Op('__len__', lambda: [Sample(f32(3, 4)), Sample(f32(0, 2)), Sample(f32(), error=True)], ns='Tensor',
       call=_dunder('__len__'), grad=False),
    Op('__bool__', lambda: [Sample(f32()), Sample(np.zeros(1, F32)), Sample(f32(2), error=True)], ns='Tensor',
       call=_dunder('__bool__'), grad=False),
    Op('__float__', lambda: [Sample(f32()), Sample(i64(1)), Sample(f32(2), error=True)], ns='Tensor',
       call=_dunder('__float__'), grad=False),
    Op('__int__', lambda: [Sample(f32()), Sample(i64(1)), Sample(f32(2), error=True)], ns='Tensor',
       call=_dunder('__int__'), grad=False),
    Op('__index__', lambda: [Sample(i64()), Sample(f32(), error=True), Sample(i64(2), error=True)], ns='Tensor',
       call=_dunder('__index__'), grad=False),
)
add(
    Op('pinv', lambda: [Sample(f32(4, 3), atol=0.1), Sample(f32(3, 4), atol=0.5, rtol=0.1)], ns='linalg',
       method=False, out=False),
)

# -- more ops: special functions, medians, linalg and functional extras, Tensor utilities ----------------
add(
    unary('erfc', gradgrad=True),
    unary('erfinv', 'unit', extremes=False),
    unary('lgamma', 'positive'),
    unary('digamma', 'positive'),
    binary('xlogy', da='real', db='positive'),
    red('median', tuple_dim=False, errors=('bool[3, 4] dim=0',)),
    red('nanmedian', tuple_dim=False, errors=('bool[3, 4] dim=0',)),
    entry('polygamma', lambda: [Sample(1, f32(3, 4, domain='positive')), Sample(2, f64(2, 3, domain='positive'),
                                                                                gradcheck=True)],
          method=False),
    entry('mvlgamma', lambda: [Sample(f32(3, 4, domain='positive') + 1, 2), Sample(f64(2, 3, domain='positive') + 1, 1,
                                                                                  gradcheck=True)]),
    la('eigvalsh', lambda: [Sample(spd(3, 3)), Sample(spd(2, 3, 3)), Sample(spd(3, 3, dtype=F64), gradcheck=True)],
       call=lambda lib, a, **k: lib.linalg.eigvalsh(_sym(a), **k), out=False),
    la('svdvals', lambda: [Sample(f32(4, 3)), Sample(f32(2, 3, 4)), Sample(f64(4, 3), gradcheck=True)]),
    la('solve_triangular', lambda: [Sample(np.triu(wc(3, 3)), f32(3, 2), upper=True),
                                    Sample(np.tril(wc(3, 3)), f32(3, 2), upper=False, unitriangular=True),
                                    Sample(np.triu(wc(3, 3)), f32(2, 3), upper=True, left=False),
                                    Sample(np.triu(wc(3, 3, dtype=F64)), f64(3, 2), upper=True, gradcheck=True),
                                    Sample(np.tril(wc(3, 3, dtype=F64)), f64(2, 2, 3), upper=False, left=False,
                                           unitriangular=True, gradcheck=True, desc='left=False batched f64'),
                                    Sample(np.triu(wc(3, 3, dtype=F64)), f64(2, 3), upper=True, left=False,
                                           gradcheck=True, desc='left=False f64')]),
    fn('max_pool1d_with_indices', lambda: [Sample(f32(2, 3, 8), 2), Sample(f64(1, 2, 6), 2, gradcheck=True)]),
    fn('max_pool2d_with_indices', lambda: [Sample(f32(2, 3, 6, 6), 2), Sample(f64(1, 2, 4, 4), 2, gradcheck=True)]),
    fn('max_pool3d_with_indices', lambda: [Sample(f32(2, 3, 4, 4, 6), 2), Sample(f32(1, 2, 5, 7, 6), 3, 2, 1, ceil_mode=True),
                                           Sample(f64(1, 2, 4, 3, 4), 2, gradcheck=True)]),
    fn('adaptive_max_pool1d_with_indices', lambda: [Sample(f32(2, 3, 8), 4), Sample(f64(1, 2, 5), 2, gradcheck=True)]),
    fn('adaptive_max_pool2d_with_indices', lambda: [Sample(f32(2, 3, 6, 6), 3),
                                                    Sample(f64(1, 2, 5, 5), 2, gradcheck=True)]),
    fn('embedding_bag', lambda: [Sample(idx(2, 3, high=5), f32(5, 4)), Sample(idx(2, 3, high=5), f32(5, 4), mode='sum'),
                                 Sample(idx(6, high=5), f32(5, 4), np.array([0, 2]), mode='max'),
                                 Sample(idx(2, 3, high=5), f64(5, 2), gradcheck=True),
                                 Sample(idx(2, 3, high=5), f64(5, 2), mode='sum', per_sample_weights=f64(2, 3, seed=1),
                                        gradcheck=True),
                                 Sample(idx(5, high=5), f64(5, 2), np.array([0, 2, 5]), mode='sum', padding_idx=1,
                                        include_last_offset=True, per_sample_weights=f64(5, seed=2), gradcheck=True),
                                 Sample(idx(2, 3, high=5), f32(5, 4), mode='median', error=True),
                                 Sample(idx(2, 3, high=5), f32(5, 4), np.array([0, 1]), desc='2-D with offsets', error=True),
                                 Sample(idx(2, 3, high=5), f32(5, 4), per_sample_weights=f32(2, 3), error=True),
                                 Sample(idx(6, high=5), f32(5, 4), desc='1-D without offsets', error=True)]),
    fn('triplet_margin_with_distance_loss', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1), f32(3, 4, seed=2)),
                                                     Sample(f32(3, 4), f32(3, 4, seed=1), f32(3, 4, seed=2), margin=0.5,
                                                            swap=True),
                                                     Sample(f64(3, 4), f64(3, 4, seed=1), f64(3, 4, seed=2),
                                                            gradcheck=True)]),
)


def _no_derivative(domain):
    """unary_samples for a torch.special function PyTorch computes without a derivative: its inputs require
    grad but its result never does (no grad_fn), and float16 is refused as PyTorch's kernel refuses it."""
    def gen():
        return unary_samples(domain, seed=_seed(domain))() + [Sample(arr((2, 3), F32, domain).astype(np.float16), desc='f16', error=True)]
    return gen


# torch.special's Bessel J, Y, K and Airy Ai: values only (tests/test_special_bessel_jyk.py: wide ranges, bits)
add(*[Op(n, _no_derivative('positive' if n[-2] in 'yk' else 'real'), ns='special', grad=False, method=False)
      for n in ('bessel_j0', 'bessel_j1', 'bessel_y0', 'bessel_y1', 'modified_bessel_k0', 'modified_bessel_k1',
                'scaled_modified_bessel_k0', 'scaled_modified_bessel_k1', 'airy_ai')])
add(*[fn(n + '_', (lambda extra: lambda: [Sample(f32(3, 4), *extra, grad=False), Sample(f64(2, 3), *extra, grad=False)])(
    extra), grad=False)
      for n, extra in (('relu', ()), ('elu', ()), ('selu', ()), ('celu', ()), ('leaky_relu', (0.2,)),
                       ('hardtanh', ()), ('threshold', (0.5, 2.0)))])


def _method(name):
    def call(lib, x, *args, **kwargs):
        return getattr(x, name)(*[_resolve(lib, a) for a in args], **{k: _resolve(lib, v) for k, v in kwargs.items()})
    return call


def meth(name, samples, **kw):
    kw.setdefault('call', _method(name))
    return Op(name, _no_grad(samples) if name.endswith('_') else samples, ns='Tensor', **kw)


def _no_grad(gen):
    """Samples whose inputs do not require grad (an in-place op on a leaf that requires grad raises)."""
    def g():
        out = gen()
        for s in out:
            s.grad = False
        return out
    return g


_META = lambda: [Sample(f32(3, 4)), Sample(f32()), Sample(_v(3, 4)), Sample(i64(2, 0))]   # noqa: E731
add(
    *[meth(n, _META, grad=False) for n in ('dim', 'ndimension', 'numel', 'nelement', 'element_size', 'is_contiguous',
                                         'is_floating_point', 'is_signed', 'is_complex', 'size', 'stride')],
    meth('new_zeros', lambda: [Sample(f32(2), (2, 3)), Sample(i64(2), 3), Sample(f32(2), (2,), dtype=_dt('float64'))],
         grad=False),
    meth('new_ones', lambda: [Sample(f32(2), (2, 3)), Sample(i64(2), 3)], grad=False),
    meth('new_full', lambda: [Sample(f32(2), (2, 3), 1.5), Sample(i64(2), (3,), 7)], grad=False),
    meth('new_tensor', lambda: [Sample(f32(2), [1, 2]), Sample(f64(2), [0.1, 1e40]), Sample(i64(2), [1.5])],
         grad=False),
    meth('new_empty', lambda: [Sample(f32(2), (2, 3)), Sample(i64(2), 3)], grad=False,
         call=lambda lib, x, *a, **k: tuple(x.new_empty(*a, **k).shape)),
    meth('fill_', lambda: [Sample(f32(3, 4), 2.5), Sample(i64(3), 2), Sample(f32(3), f32()),
                           Sample(f32(3), f32(2), error=True)], grad=False),
    meth('zero_', lambda: [Sample(f32(3, 4)), Sample(i64(3)), Sample(_v(3, 4))], grad=False),
    meth('copy_', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(f32(3, 4), f64(4)), Sample(i64(3), f32(3)),
                           Sample(f32(3, 4), f32(2), error=True)], grad=False),
    meth('detach', lambda: [Sample(f32(3, 4))], grad=False),
    meth('requires_grad_', lambda: [Sample(f32(3, 4)), Sample(f32(3), False), Sample(i64(3), error=True)], grad=False),
    Op('numel', _META, grad=False, method=False, out=False),
    Op('is_floating_point', _META, grad=False, method=False, out=False),
    Op('is_tensor', lambda: [Sample(f32(2)), Sample(3.0)], grad=False, method=False, out=False),
    Op('is_nonzero', lambda: [Sample(f32()), Sample(np.zeros(1, F32)), Sample(f32(2), error=True)], grad=False,
       method=False, out=False),
    Op('result_type', call=lambda lib, *a: repr(lib.result_type(*a)).split('.')[-1], samples=lambda: [Sample(f32(2), f64(2)), Sample(i64(2), 2.5), Sample(boolean(2), i64(2)), Sample(i64(2), 3)],
       grad=False, method=False, out=False),
    Op('broadcast_shapes', lambda: [Sample((3, 1), (4,)), Sample((2, 1, 3), (5, 1), ()), Sample((3,), (4,), error=True)],
       grad=False, method=False, out=False),
    Op('promote_types', lambda: [Sample(_dt('float32'), _dt('float64')), Sample(_dt('int64'), _dt('float16')),
                                 Sample(_dt('bool'), _dt('uint8'))],
       call=lambda lib, *a: repr(_creator('promote_types')(lib, *a)).split('.')[-1], grad=False,
       method=False, out=False),
    Op('can_cast', lambda: [Sample(_dt('float32'), _dt('int64')), Sample(_dt('int64'), _dt('float32')),
                            Sample(_dt('bool'), _dt('uint8'))], call=_creator('can_cast'), grad=False,
       method=False, out=False),
    creation('scalar_tensor', lambda: [Sample(2.5), Sample(3, dtype=_dt('int64'))], out=False),
    creation('range', lambda: [Sample(0, 3), Sample(0, 1, 0.25)]),
    Op('empty_like', lambda: [Sample(f32(2, 3)), Sample(i64(3), dtype=_dt('float64'))], method=False, out=False,
       grad=False, call=lambda lib, x, **k: (tuple(lib.empty_like(x, **{n: _resolve(lib, v) for n, v in k.items()}).shape),
                                              repr(lib.empty_like(x, **{n: _resolve(lib, v) for n, v in k.items()}).dtype)
                                              .split('.')[-1])),
    Op('rsub', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(f32(3, 4), 2.5), Sample(f32(3, 4), f32(4), alpha=2),
                        Sample(f64(2, 3), f64(2, 3, seed=1), gradcheck=True)], method=False, out=False),
    Op('bilinear', lambda: [Sample(f32(3, 4), f32(3, 2, seed=1), f32(5, 4, 2, seed=2), f32(5, seed=3))],
       method=False, out=False),
    Op('is_same_size', lambda: [Sample(f32(3, 4), f32(3, 4)), Sample(f32(3, 4), f32(4, 3))], grad=False, out=False),
)

# -- random numbers: under one manual_seed ember's streams are PyTorch's, so values compare exactly ----------
def rnd(name, samples, **kw):
    kw.setdefault('call', _creator(name))
    kw.setdefault('method', False)
    return Op(name, samples, seed=0, **kw)


_P = dict(domain='prob')
add(
    rnd('rand', lambda: [Sample(2, 3), Sample((4,)), Sample(3, dtype=_dt('float64')), Sample(0), Sample(()),
                         Sample(3, dtype=_dt('int64'), error=True), Sample(-1, error=True)], grad=False),
    rnd('randn', lambda: [Sample(2, 3), Sample((5,)), Sample(3, dtype=_dt('float64')), Sample(0, 2),
                          Sample(-2, error=True)], grad=False),
    rnd('randint', lambda: [Sample(10, (3, 4)), Sample(-5, 5, (6,)), Sample(3, (2,), dtype=_dt('int32')),
                            Sample(0, 4, (3,), dtype=_dt('float64')), Sample(5, 1, (2,), error=True)], grad=False),
    rnd('randperm', lambda: [Sample(5), Sample(0), Sample(7, dtype=_dt('float64')), Sample(40),
                             Sample(-1, error=True)], grad=False),
    rnd('normal', lambda: [Sample(f32(3, 4), f32(3, 4, domain='positive')), Sample(0.5, 2.0, (3,)),
                           Sample(f32(3), 2.0), Sample(1.0, f32(2, 3, domain='positive')),
                           Sample(f64(2, 3), f64(2, 3, domain='positive')),   # zero gradients, as PyTorch's
                           Sample(f32(3), -1.0, error=True)], call=None, gradgrad=False),
    rnd('bernoulli', lambda: [Sample(f32(3, 4, **_P)), Sample(f32(3, 4, **_P), 0.3), Sample(f64(2, 3, **_P)),
                              Sample(np.array([0., 1.], F32)), Sample(f32(3) + 2, error=True)], call=None,
        method=True, gradgrad=False),
    rnd('multinomial', lambda: [Sample(f32(4, domain='positive'), 2), Sample(f32(3, 4, domain='positive'), 3, True),
                                Sample(f64(5, domain='positive'), 5), Sample(f32(4, domain='positive'), 5, error=True)],
        call=None, method=True, grad=False),
    rnd('poisson', lambda: [Sample(f32(3, 4, domain='positive')), Sample(f64(2, 3, domain='positive') * 20)],
        call=None, gradgrad=False, out=False),
    rnd('binomial', lambda: [Sample(np.array([5., 20., 100., 1000., 3., 0.], F32), np.array([.2, .7, .5, .9, .05, .3], F32)),
                             Sample(np.full((3, 4), 40.), f64(3, 4, domain='prob'), desc='f64 BTRS'),
                             Sample(np.array([4., -1., 6.], F32), np.array([1., .5, 1.5], F32), desc='edges'),
                             Sample(np.array([5.], F32), np.array([.3], F64), error=True, desc='mixed dtypes'),
                             Sample(np.array([5]), np.array([.3], F32), error=True, desc='integer count')],
        call=None, out=False, grad=False),
    *[rnd(n, (lambda extra: lambda: [Sample(f32(2, 3), *extra), Sample(f64(3), *extra), Sample(f32(), *extra),
                                     Sample(f32(2, 3), *extra, dtype=_dt('float64'))])(extra),
          call=_like(n), grad=False, out=False)
      for n, extra in (('rand_like', ()), ('randn_like', ()), ('randint_like', (10,)), ('randint_like', (2, 5)))],
)
add(*[meth(n, (lambda n, extra: lambda: [Sample(f32(3, 4), *extra), Sample(f64(2, 3), *extra), Sample(f32(), *extra)]
               + ([Sample(i64(3, 4), *extra)] if n == 'random_' else []))(n, extra), grad=False, seed=0)
      for n, extra in (('uniform_', ()), ('uniform_', (-2.0, 3.0)), ('normal_', ()), ('normal_', (1.0, 2.0)),
                       ('bernoulli_', ()), ('bernoulli_', (0.3,)), ('exponential_', ()), ('exponential_', (2.0,)),
                       ('cauchy_', ()), ('log_normal_', ()), ('geometric_', (0.3,)), ('random_', ()),
                       ('random_', (10,)), ('random_', (2, 5)))])


# -- histograms, distances, bucketize, torch.svd -------------------------------------------------------------
ON_EDGES = np.array([0., .25, .5, .75, 1., .1, .3, -0.5, 2., np.nan], F32)   # on the edges of 4 bins over [0, 1]


def _torch_svd(lib, a, **kw):
    """torch.svd's S and the reconstruction U S V^T (U and V are unique only up to signs); with
    compute_uv=False, S and the zero-filled U and V as they are."""
    u, s, v = lib.svd(a, **kw)
    if kw.get('compute_uv') is False:
        return u, s, v
    k = s.shape[-1]
    return s, (u[..., :k] * s.unsqueeze(-2)) @ v[..., :k].mT


def _tensor_svd(lib, a):
    u, s, v = a.svd()
    return s, (u * s.unsqueeze(-2)) @ v.mT


add(
    entry('histc', lambda: [Sample(f32(10)), Sample(f32(3, 4), bins=5), Sample(f32(10), 4, -1, 1),
                            Sample(ON_EDGES, 4, 0, 1, desc='on edges'), Sample(f64(10), bins=3), Sample(f32(0), 3),
                            Sample(np.full(3, 2., F32), 3, desc='constant'), Sample(f32(6).astype(np.float16), 3),
                            Sample(i64(5), 3, error=True), Sample(f32(5), 3, 2, 1, error=True),
                            Sample(f32(5), 0, error=True), Sample(ON_EDGES, 4, error=True, desc='nan range')],
          grad=False),
    entry('histogram', lambda: [Sample(f32(10)), Sample(f32(3, 4), 5), Sample(f32(10), 4, range=(-1., 1.)),
                                Sample(ON_EDGES, 4, range=(0., 1.), desc='on edges'),
                                Sample(f32(10), np.array([-1, 0, .5, 2], F32)),
                                Sample(f32(10), 3, weight=f32(10, seed=1)), Sample(f32(10), 3, density=True),
                                Sample(f32(10), np.array([-2, 0, 1.5], F32), weight=f32(10, seed=1), density=True),
                                Sample(f64(2, 5), 3), Sample(f32(0), 2), Sample(np.full(3, 2., F32), 2, desc='constant'),
                                Sample(i64(5), 3, error=True), Sample(f32(5), 0, error=True),
                                Sample(f32(5), 3, range=(2., 1.), error=True),
                                Sample(f32(5), np.array([0., 1.]), error=True, desc='f64 edges'),
                                Sample(f32(5), 3, weight=f32(4), error=True)], grad=(0,)),
    entry('cdist', lambda: [Sample(f32(3, 4), f32(5, 4, seed=1)), Sample(f32(3, 4), f32(5, 4, seed=1), p=1.),
                            Sample(f32(3, 4), f32(5, 4, seed=1), 0.), Sample(f32(3, 4), f32(2, 4, seed=1), float('inf')),
                            Sample(f32(3, 4), f32(2, 4, seed=1), 3.), Sample(f32(3, 4), f32(2, 4, seed=1), 0.5),
                            Sample(f32(2, 3, 4), f32(5, 4, seed=1)), Sample(f32(2, 1, 3, 2), f32(4, 5, 2, seed=1)),
                            Sample(f32(30, 3), f32(27, 3, seed=1)),
                            Sample(f32(3, 2), f32(4, 2, seed=1), compute_mode='use_mm_for_euclid_dist'),
                            Sample(f32(30, 2), f32(4, 2, seed=1), compute_mode='donot_use_mm_for_euclid_dist'),
                            Sample(f32(0, 4), f32(5, 4, seed=1)),
                            Sample(f64(3, 4), f64(2, 4, seed=1), gradcheck=True),
                            Sample(f64(3, 4), f64(2, 4, seed=1), 1.5, gradcheck=True),
                            Sample(f64(2, 26, 3), f64(2, 4, 3, seed=1), gradcheck=True),
                            Sample(f32(3, 4), f32(3, 5), error=True), Sample(f32(4), f32(3, 4), error=True),
                            Sample(f32(3, 4), f32(3, 4), -1., error=True),
                            Sample(f32(3, 4), f32(3, 4), compute_mode='x', error=True),
                            Sample(i64(3, 4), i64(3, 4), error=True), Sample(f32(3, 4), f64(3, 4), error=True)],
          method=False, out=False, gradgrad=False),
    entry('bucketize', lambda: [Sample(f32(6), np.sort(f32(4, seed=1))), Sample(f32(2, 3), np.sort(f32(4, seed=1)), right=True),
                                Sample(i64(5), np.array([-1, 0, 1])), Sample(0.5, np.sort(f32(4, seed=1))),
                                Sample(i64(5), np.array([-1, 0, 1]), out_int32=True),
                                Sample(f32(3), np.sort(f32(2, 3), -1), error=True)], grad=False, method=False),
    entry('svd', lambda: [Sample(f32(4, 3)), Sample(f32(3, 4), some=False), Sample(f32(2, 3, 4)),
                          Sample(f32(4, 3), compute_uv=False), Sample(f64(4, 3), gradcheck=True),
                          Sample(f64(3, 4), some=False, gradcheck=True)],
          call=_torch_svd, method=False, out=False),
    Op('svd', lambda: [Sample(f32(4, 3)), Sample(f32(2, 3, 4)), Sample(f64(3, 3), gradcheck=True)], ns='Tensor',
       call=_tensor_svd, out=False),
)


# -- gaps: checks left out, each with its reason (SUPPORTED.md and the final report list them) ----------
def gap(names, check, reason):
    """Leave ``check`` out of the entries ``names`` (ids as in Op.id) with ``reason``."""
    ids = set(names.split())
    found = [op for op in OPS if op.id in ids]
    assert {op.id for op in found} == ids, f'gap for unknown entries: {ids - {op.id for op in found}}'
    for op in found:
        op.gaps[check] = reason


gap('Tensor.stride', 'sample:i64[2, 0]', "PyTorch's tensor() of an empty NumPy array keeps NumPy's all-zero strides; "
    'ember gives every empty tensor contiguous strides, as PyTorch gives the results of its ops')



# -- Tensor attributes and protocol methods, torch-level helpers, autograd (issue 10: names that had no entry) --
def _attr(expr):
    """An entry's call reading ``expr`` (a function of lib and the input) -- attributes are not callables."""
    return lambda lib, x, *a, **k: expr(lib, x, *a, **k)


def _dtname(d):
    return repr(d).split('.')[-1]


_FLAGS = ('is_cpu', 'is_cuda', 'is_meta', 'is_mkldnn', 'is_mps', 'is_quantized', 'is_sparse', 'is_sparse_csr',
          'is_nested', 'is_xla', 'is_xpu', 'is_vulkan', 'is_ipu', 'is_maia', 'is_mtia', 'is_leaf', 'requires_grad')
_MATRIX = lambda: [Sample(f32(3, 4)), Sample(_v(3, 4)), Sample(f64(2, 3), gradcheck=True)]   # noqa: E731
add(
    Op('T', lambda: _MATRIX() + [Sample(f32(2, 3, 4), desc='3-d')], ns='Tensor', call=_attr(lambda L, x: x.T)),
    Op('mT', lambda: _MATRIX() + [Sample(f32(2, 3, 4)), Sample(f32(3), error=True)], ns='Tensor',
       call=_attr(lambda L, x: x.mT)),
    Op('H', lambda: _MATRIX() + [Sample(f32(3), error=True), Sample(f32(2, 3, 4), error=True)], ns='Tensor',
       call=_attr(lambda L, x: x.H)),
    Op('mH', lambda: _MATRIX() + [Sample(f32(2, 3, 4)), Sample(f32(3), error=True)], ns='Tensor',
       call=_attr(lambda L, x: x.mH)),
    Op('data', lambda: [Sample(f32(3, 4)), Sample(i64(3))], ns='Tensor', grad=False,
       call=_attr(lambda L, x: (x.data, x.data.requires_grad, x.data.is_leaf))),
    Op('is_leaf', lambda: [Sample(f32(3, 4)), Sample(f32(3), grad=False)], ns='Tensor', grad=False,
       call=_attr(lambda L, x: (x.is_leaf, (x * 2).is_leaf, x.detach().is_leaf))),
    Op('output_nr', lambda: [Sample(f32(3, 4))], ns='Tensor', grad=False,
       call=_attr(lambda L, x: (x.output_nr, x.unbind(0)[2].output_nr, x.max(0)[1].output_nr))),
    Op('nbytes', lambda: [Sample(f32(3, 4)), Sample(i64(2)), Sample(boolean(5)), Sample(f64()), Sample(_v(3, 4))],
       ns='Tensor', grad=False, call=_attr(lambda L, x: (x.nbytes, x.itemsize, x.element_size()))),
    Op('itemsize', lambda: [Sample(f32(3)), Sample(np.zeros(3, np.int8)), Sample(np.zeros(2, np.int16))],
       ns='Tensor', grad=False, call=_attr(lambda L, x: x.itemsize)),
    Op('is_cpu', lambda: [Sample(f32(3, 4)), Sample(i64(2), grad=False)], ns='Tensor', grad=False,
       covers=tuple('torch.Tensor.' + n for n in _FLAGS if n not in ('is_leaf', 'requires_grad', 'is_cpu')),
       call=_attr(lambda L, x: tuple(getattr(x, n) for n in _FLAGS))),
    Op('is_pinned', lambda: [Sample(f32(3))], ns='Tensor', grad=False,
       covers=('torch.Tensor.is_shared', 'torch.Tensor.is_conj', 'torch.Tensor.is_neg', 'torch.Tensor.get_device'),
       call=_attr(lambda L, x: (x.is_pinned(), x.is_shared(), x.is_conj(), x.is_neg(), x.get_device()))),
    Op('new', lambda: [Sample(f32(2), 2, 3), Sample(f64(2), [1.5, 2.5]), Sample(i64(2), (3,)), Sample(f32(3))],
       ns='Tensor', grad=False, call=_attr(lambda L, x, *a: (tuple(x.new(*a).shape), _dtname(x.new(*a).dtype),
                                                              x.new(*a).requires_grad))),
    Op('register_hook', lambda: [Sample(f32(3, 4)), Sample(f64(2, 3))], ns='Tensor', grad=False,
       call=_attr(lambda L, x: (x.register_hook(lambda g: g * 2), (x * 3).sum().backward(), x.grad)[2])),
    Op('retain_grad', lambda: [Sample(f32(3, 4)), Sample(f64(2, 3))], ns='Tensor', grad=False,
       covers=('torch.Tensor.retains_grad',),
       call=_attr(lambda L, x: (lambda y: (y.retain_grad(), (y ** 2).sum().backward(), y.grad, y.retains_grad,
                                            x.retains_grad))(x * 2)[2:])),
    Op('detach_', lambda: [Sample(f32(3, 4))], ns='Tensor', grad=False,
       call=_attr(lambda L, x: (lambda y: (y.detach_() is y, y.requires_grad, y.grad_fn, y.is_leaf))(x * 2))),
    Op('__format__', lambda: [Sample(f32(), '.3f'), Sample(i64(), '>5'), Sample(f32(3), ''),
                              Sample(f32(3), '.2f', error=True)], ns='Tensor', grad=False,
       call=_attr(lambda L, x, spec: format(x, spec))),
    Op('__setitem__', lambda: [Sample(f32(3, 4), f32(4, seed=1), desc='row'), Sample(f64(2, 3), 1.5, desc='scalar'),
                               Sample(f64(3, 4), f64(4, seed=1), desc='f64 row', gradcheck=True)],
       ns='Tensor', gradgrad=False,
       call=_attr(lambda L, x, v: (lambda y: (y.__setitem__(1, v), y)[1])(x * 1))),
    Op('__contains__', lambda: [Sample(f32(3, 4), 0.5), Sample(i64(3), 2), Sample(f32(2, 2), f32(2))], ns='Tensor',
       grad=False, call=_attr(lambda L, x, v: v in x)),
    Op('__reversed__', lambda: [Sample(f32(3, 4)), Sample(f32()), Sample(f64(3), gradcheck=True)], ns='Tensor',
       call=_attr(lambda L, x: reversed(x))),
    Op('__pos__', lambda: [Sample(f32(3, 4)), Sample(i64(3))], ns='Tensor', call=_attr(lambda L, x: +x)),
    Op('__complex__', lambda: [Sample(f32()), Sample(f32(2), error=True)], ns='Tensor', grad=False,
       call=_attr(lambda L, x: complex(x))),
)
# the in-place operators, on a non-leaf (a leaf that requires grad refuses in-place ops) so the graph is checked
_IOPS = {'__iadd__': 'real', '__isub__': 'real', '__imul__': 'real', '__itruediv__': 'nonzero', '__ipow__': 'positive',
         '__imod__': 'nonzero', '__ifloordiv__': 'nonzero'}
add(*[Op(n, (lambda d: lambda: [Sample(f32(3, 4, domain=d), f32(3, 4, domain=d, seed=1)),
                                Sample(f32(3, 4, domain=d), 2.0 if d != 'nonzero' else -2.0),
                                Sample(f64(2, 3, domain=d), f64(3, domain=d, seed=1), gradcheck=True),
                                Sample(f32(3, domain=d), f32(2, 3, domain=d), error=True)])(d),
         ns='Tensor', grad=n not in ('__imod__', '__ifloordiv__'), gradgrad=n not in ('__imod__', '__ifloordiv__'),
         call=(lambda n: _attr(lambda L, x, o: getattr(x * 1, n)(o)))(n)) for n, d in _IOPS.items()])
add(*[Op(n, lambda: [Sample(i64(3, 4), i64(3, 4, seed=1, domain='positive')), Sample(i64(3), 2),
                     Sample(boolean(3), boolean(3, seed=1)) if n not in ('__ilshift__', '__irshift__') else
                     Sample(i64(2), 1)],
         ns='Tensor', grad=False, call=(lambda n: _attr(lambda L, x, o: getattr(x.clone(), n)(o)))(n))
      for n in ('__iand__', '__ior__', '__ixor__', '__ilshift__', '__irshift__')])
add(*[Op(n, lambda: [Sample(i64(3, 4), i64(3, 4, seed=1, domain='positive')), Sample(i64(3), 2)], ns='Tensor',
         grad=False, call=(lambda n: _attr(lambda L, x, o: getattr(x, n)(o)))(n))
      for n in ('__lshift__', '__rshift__', '__rlshift__', '__rrshift__', '__rand__', '__ror__', '__rxor__')])
add(*[Op(n, lambda: [Sample(f32(3, 4, domain='nonzero'), 2.5), Sample(f64(2, 3, domain='nonzero'), -1.5, gradcheck=True)],
         ns='Tensor', grad=n != '__rfloordiv__', call=(lambda n: _attr(lambda L, x, o: getattr(x, n)(o)))(n))
      for n in ('__rmod__', '__rfloordiv__')])
add(
    Op('__rmatmul__', lambda: [Sample(f32(3, 4), f32(2, 3, seed=1)), Sample(f64(3, 2), f64(2, 3, seed=1),
                                                                             gradcheck=True)],
       ns='Tensor', call=_attr(lambda L, x, o: x.__rmatmul__(o))),
    *[meth(n, lambda: [Sample(f32(3, 4), f32(3, 4, seed=1, domain='nonzero')), Sample(f32(3, 4), 2.0)], grad=False)
      for n in ('divide_', 'multiply_', 'subtract_', 'true_divide_')],
    *[meth(n, lambda: [Sample(f32(3, 4)), Sample(_v(3, 4))], grad=False) for n in ('absolute_', 'negative_')],
    meth('clip_', lambda: [Sample(f32(3, 4), -1.0, 1.0), Sample(f32(3, 4), min=0.0), Sample(i64(3), 0, 2)],
         grad=False),
)

# torch-level helpers: dtypes and their limits, the default dtype, grad modes
_FLOATS = ('float16', 'bfloat16', 'float32', 'float64')
_SHELL = ('uint16', 'uint32', 'uint64')   # PyTorch's shell dtypes: tests/test_uint_dtypes.py checks them and their ops
add(
    Op('finfo', lambda: [Sample(_dt(n)) for n in _FLOATS] + [Sample(desc='default')], grad=False, method=False,
       out=False, call=lambda L, *d: (lambda f: (f.bits, f.eps, f.max, f.min, f.tiny, f.smallest_normal, f.resolution,
                                                 _dtname(f.dtype)))(L.finfo(*[_resolve(L, v) for v in d]))),
    Op('iinfo', lambda: [Sample(_dt(n)) for n in ('uint8', 'int8', 'int16', 'int32', 'int64')] +
       [Sample(_dt('float32'), error=True), Sample(_dt('bool'), error=True)], grad=False, method=False, out=False,
       call=lambda L, d: (lambda f: (f.bits, f.max, f.min, _dtname(f.dtype)))(L.iinfo(_resolve(L, d)))),
    Op('float32', lambda: [Sample(_dt(n)) for n in _FLOATS + ('int64', 'int32', 'int16', 'int8', 'uint8', 'bool')],
       covers=tuple('torch.' + n for n in _FLOATS + ('int64', 'int32', 'int16', 'int8', 'uint8', 'bool', 'dtype') +
                    _SHELL),
       grad=False, method=False, out=False,
       call=lambda L, d: (lambda t: (t.is_floating_point, t.is_signed, t.is_complex, t.itemsize, repr(t)[6:],
                                     _dtname(t.to_real())))(_resolve(L, d))),   # no complex dtypes: to_complex refused
    Op('get_default_dtype', lambda: [Sample(_dt('float64')), Sample(_dt('float32')), Sample(_dt('int64'), error=True)],
       covers=('torch.set_default_dtype',),
       grad=False, method=False, out=False, call=lambda L, d: _default_dtype(L, _resolve(L, d))),
    Op('is_grad_enabled', lambda: [Sample(f32(3))], grad=False, method=False, out=False,
       covers=('torch.no_grad', 'torch.enable_grad', 'torch.set_grad_enabled', 'torch.inference_mode',
               'torch.is_inference_mode_enabled'),
       call=lambda L, x: _grad_modes(L, x)),
)


def _default_dtype(L, d):
    """set_default_dtype(d): the default dtype and what tensor()/arange/zeros make under it, then restored."""
    old = L.get_default_dtype()
    try:
        L.set_default_dtype(d)
        return (_dtname(L.get_default_dtype()), _dtname(L.tensor([1.5]).dtype), _dtname(L.zeros(2).dtype),
                _dtname(L.arange(0.0, 1.0).dtype), _dtname(L.tensor(2).dtype))
    finally:
        L.set_default_dtype(old)


def _grad_modes(L, x):
    """is_grad_enabled and requires_grad of a result under each grad mode."""
    out = [L.is_grad_enabled()]
    with L.no_grad():
        out += [L.is_grad_enabled(), (x * 2).requires_grad]
        with L.enable_grad():
            out += [L.is_grad_enabled(), (x * 2).requires_grad]
    with L.set_grad_enabled(False):
        out += [L.is_grad_enabled()]
    with L.inference_mode():
        out += [L.is_inference_mode_enabled(), (x * 2).requires_grad]
    return tuple(out) + (L.is_grad_enabled(),)


# autograd: grad, backward, custom Functions, gradcheck, autograd.functional -- results, grad_fn names and the
# gradients of create_graph results are compared with PyTorch's like any op's
def _grad(L, x, *others, grad_outputs=None, **kw):
    y = x ** 3 if grad_outputs is not None else (x ** 3).sum()
    return L.autograd.grad(y, [x, *others] if others else x, grad_outputs=grad_outputs, **kw)


def _backward(L, x, *others, **kw):
    L.autograd.backward([(x ** 3).sum()], **kw)
    return (x.grad,) + tuple(o.grad for o in others)


def _tensor_backward(L, x, *others, gradient=None, **kw):
    y = x ** 3 if gradient is not None or not x.dim() else (x ** 3).sum()
    y.backward(gradient=None if gradient is None else L.ones_like(x) * gradient, **kw)
    return x.grad


_GRAD_SAMPLES = lambda: [   # noqa: E731
    Sample(f32(3, 4)), Sample(f64(2, 3), create_graph=True, gradcheck=True), Sample(f32(3), retain_graph=True),
    Sample(f32(3), f32(2, seed=1), allow_unused=True, desc='unused'), Sample(f32(3), f32(2, seed=1), error=True,
                                                                          desc='unused refused'),
    Sample(f32(3), f32(2, seed=1), materialize_grads=True, desc='materialized'),
    Sample(f32(3), f32(2, seed=1), materialize_grads=True, allow_unused=False, error=True, desc='materialize refused'),
    Sample(f64(3), grad_outputs=np.ones(3), desc='grad_outputs'),
    Sample(f64(3), grad_outputs=np.eye(3), is_grads_batched=True, desc='batched')]
add(
    Op('grad', _GRAD_SAMPLES, ns='autograd', grad_atol=1e-4,
       call=lambda L, x, *o, grad_outputs=None, **kw: _grad(
           L, x, *o, grad_outputs=None if grad_outputs is None else L.tensor(grad_outputs), **kw)),
    Op('backward', lambda: [Sample(f32(3, 4)), Sample(f64(2, 3), create_graph=True),
                            Sample(f32(3), f32(2, seed=1), inputs=None, desc='two leaves')],
       ns='autograd', call=lambda L, x, *o, **kw: _backward(L, x, *o, **kw), gradgrad=False),
    Op('backward', lambda: [Sample(f32(3, 4)), Sample(f32(3), gradient=2.0), Sample(f64(2, 3), create_graph=True),
                            Sample(f32(3), retain_graph=True, desc='retained'), Sample(f32()),
                            Sample(f32(3), f32(3, seed=1), error=True, desc='non-scalar')],
       ns='Tensor', gradgrad=False,
       call=lambda L, x, *o, **kw: (_tensor_backward(L, x, **kw) if not o else (x * o[0]).backward())),
)


def _custom(L, x, k=2.0, materialize=True):
    """A custom Function using save_for_backward, needs_input_grad, mark_non_differentiable and
    set_materialize_grads; returns its differentiable output, the non-differentiable one, and y's grad_fn name."""
    class Cube(L.autograd.Function):
        @staticmethod
        def forward(ctx, a, k):
            ctx.set_materialize_grads(materialize)
            ctx.save_for_backward(a)
            ctx.k = k
            idx = a.reshape(-1).argmax()
            ctx.mark_non_differentiable(idx)
            return a * a * a * k, idx, a * 0 + 1

        @staticmethod
        def backward(ctx, g, g_idx, g_unused):
            a, = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False)
            assert (g_unused is None) == (not materialize)
            return g * 3 * a * a * ctx.k, None
    y, idx, _ = Cube.apply(x, k)
    return y, idx, idx.requires_grad


def _inplace_custom(L, x):
    """A custom Function that changes its input in place (mark_dirty), applied to a non-leaf."""
    class Double(L.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            a.mul_(2)
            ctx.mark_dirty(a)
            return a

        @staticmethod
        def backward(ctx, g):
            return g * 2
    y = x * 1
    out = Double.apply(y)
    return out, out is y


def _once(L, x):
    """A custom Function whose backward is marked @once_differentiable (its backward runs on plain values)."""
    class Sq(L.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        @L.autograd.function.once_differentiable
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return 2 * a * g
    return Sq.apply(x)


add(
    Op('Function', lambda: [Sample(f32(3, 4)), Sample(f64(2, 3), gradcheck=True), Sample(f32(3), 0.5, False,
                                                                                          desc='no materialize')],
       ns='autograd', call=lambda L, x, *a: _custom(L, x, *a)),
    Op('Function', lambda: [Sample(f32(3, 4)), Sample(f64(2, 3), gradcheck=True)], ns='autograd',
       call=lambda L, x: _inplace_custom(L, x)),
    Op('Function', lambda: [Sample(f32(3, 4)), Sample(f64(2, 3), gradcheck=True)], ns='autograd', gradgrad=False,
       call=lambda L, x: _once(L, x)),
)


def _gradcheck(name, fn=lambda t: (t ** 2).sin()):
    return lambda L, x, **kw: getattr(L.autograd, name)(fn, (x,), **kw)


_GC_FLAGS = dict(eps=1e-6, atol=1e-5, rtol=1e-3, nondet_tol=0.0, check_undefined_grad=True, fast_mode=True)
add(
    Op('gradcheck', lambda: [Sample(f64(2, 3)), Sample(f64(3), **_GC_FLAGS, desc='flags'),
                             Sample(f64(3), check_grad_dtypes=True, check_backward_ad=True, desc='dtypes'),
                             Sample(f64(3), check_forward_ad=True, desc='forward'),
                             Sample(f64(3), check_forward_ad=True, check_backward_ad=False, desc='forward only'),
                             Sample(f64(3), check_batched_grad=True, unsupported='check_batched_grad'),
                             Sample(f64(3), check_forward_ad=True, check_batched_forward_grad=True,
                                    unsupported='check_batched_forward_grad')],
       ns='autograd', grad=False, call=_gradcheck('gradcheck')),
    Op('gradcheck', lambda: [Sample(f64(3), raise_exception=False), Sample(f64(3), error=True, desc='raises')],
       ns='autograd', grad=False, call=_gradcheck('gradcheck', lambda t: t.detach() * 2 + t)),
    Op('gradgradcheck', lambda: [Sample(f64(2, 3)), Sample(f64(3), gen_non_contig_grad_outputs=True,
                                                           check_undefined_grad=True, fast_mode=True, desc='flags'),
                                 Sample(f64(3), check_fwd_over_rev=True, desc='fwd over rev'),
                                 Sample(f64(3), check_fwd_over_rev=True, check_rev_over_rev=False,
                                        check_undefined_grad=False, desc='fwd over rev only'),
                                 Sample(f64(3), check_rev_over_rev=False, error=True, desc='undefined grad needs rev'),
                                 Sample(f64(3), check_batched_grad=True, unsupported='check_batched_grad')],
       ns='autograd', grad=False, call=_gradcheck('gradgradcheck')),
)


def _fn(name, *extra):
    return lambda L, x, *v, **kw: getattr(L.autograd.functional, name)(*extra, x, *v, **kw)


_CUBE, _SQ = (lambda t: (t ** 3).sum()), (lambda t: t ** 2)
_NODEP = lambda t: t.detach() * 2   # noqa: E731
_LIN = lambda t: (t * 2).sum()   # noqa: E731
add(
    Op('jacobian', lambda: [Sample(f64(2, 3)), Sample(f64(3), create_graph=True, gradcheck=True, desc='graph'),
                            Sample(f64(3), vectorize=True), Sample(f64(3), vectorize=True, strategy='forward-mode'),
                            Sample(f64(3), strategy='forward-mode', error=True),
                            Sample(f64(3), vectorize=True, strict=True, error=True)],
       ns='autograd.functional', call=_fn('jacobian', _SQ)),
    Op('jacobian', lambda: [Sample(f64(3)), Sample(f64(3), strict=True, error=True)], ns='autograd.functional',
       call=_fn('jacobian', _NODEP)),
    Op('hessian', lambda: [Sample(f64(2, 3)), Sample(f64(3), create_graph=True, gradcheck=True, desc='graph'),
                           Sample(f64(3), vectorize=True), Sample(f64(3), vectorize=True,
                                                                  outer_jacobian_strategy='forward-mode')],
       ns='autograd.functional', gradgrad=False, call=_fn('hessian', _CUBE)),
    Op('hessian', lambda: [Sample(f64(3)), Sample(f64(3), strict=True, error=True)], ns='autograd.functional',
       call=_fn('hessian', _LIN)),
    *[Op(n, lambda: [Sample(f64(2, 3), np.ones((2, 3))), Sample(f64(3), np.ones(3), create_graph=True, gradcheck=True,
                                                                  desc='graph'),
                     Sample(f64(3), np.ones(2), error=True, desc='bad v')],
         ns='autograd.functional', gradgrad=False, call=_fn(n, _SQ)) for n in ('vjp', 'jvp')],
    *[Op(n, lambda: [Sample(f64(2, 3), np.ones((2, 3))), Sample(f64(3), np.ones(3), create_graph=True, gradcheck=True,
                                                                  desc='graph'),
                     Sample(f64(3), np.ones(2), error=True, desc='bad v')],
         ns='autograd.functional', gradgrad=False, call=_fn(n, _CUBE)) for n in ('hvp', 'vhp')],
    *[Op(n, lambda: [Sample(f64(3), np.ones(3)), Sample(f64(3), np.ones(3), strict=True, error=True, desc='strict')],
         ns='autograd.functional', call=_fn(n, _LIN if n in ('hvp', 'vhp') else _NODEP))
      for n in ('vjp', 'jvp', 'hvp', 'vhp')],
)
_FWD_GRAD_FN = ("forward mode's Jacobian of an input that requires grad ends in PyTorch's ReshapeAliasBackward0 (its "
                "vmap output's reshape); ember computes it by the double-backward trick and ends in ViewBackward0")
gap('autograd.functional.jacobian', "sample:f64[3] vectorize=True strategy='forward-mode'", _FWD_GRAD_FN)
gap('autograd.functional.hessian', "sample:f64[3] vectorize=True outer_jacobian_strategy='forward-mode'", _FWD_GRAD_FN)


def _set_grad(L, x, g):
    x.grad = g
    return x.grad


def _post_hook(L, x):
    seen = []
    x.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.clone()))
    (x * 3).sum().backward()
    return seen[0]


add(
    Op('shape', lambda: [Sample(f32(3, 4)), Sample(f32()), Sample(i64(2, 0))], ns='Tensor', grad=False,
       covers=('torch.Tensor.ndim', 'torch.Tensor.device', 'torch.Tensor.dtype', 'torch.Tensor.layout'),
       call=_attr(lambda L, x: (tuple(x.shape), x.ndim, x.dim(), str(x.device), _dtname(x.dtype), str(x.layout),
                                x.size(-1) if x.dim() else x.size(), x.get_device()))),
    Op('cpu', lambda: [Sample(f32(3, 4)), Sample(f64(2, 3), gradcheck=True)], ns='Tensor',
       call=_attr(lambda L, x: x.cpu())),
    Op('numpy', lambda: [Sample(f32(3, 4), grad=False), Sample(i64(3)), Sample(f32(3), desc='requires grad', error=True),
                         Sample(f32(3), force=True)], ns='Tensor', grad=False,
       call=_attr(lambda L, x, **kw: (x.numpy(**kw).tolist(), x.numpy(**kw).dtype.name))),
    Op('data_ptr', lambda: [Sample(f32(3, 4))], ns='Tensor', grad=False,
       call=_attr(lambda L, x: (type(x.data_ptr()).__name__, x[1:].data_ptr() - x.data_ptr(),
                                x.detach().data_ptr() == x.data_ptr()))),
    Op('resize_', lambda: [Sample(f32(3, 4), (2, 6)), Sample(f32(3, 4), (2,)), Sample(f32(3), (0,))], ns='Tensor',
       grad=False, call=_attr(lambda L, x, size: (lambda y: (y.resize_(size) is y, tuple(y.shape),
                                                             y.reshape(-1)[:2] if y.numel() >= 2 else y))(
           x.detach().clone()))),
    Op('requires_grad', lambda: [Sample(f32(3, 4), grad=False), Sample(i64(3), error=True)], ns='Tensor', grad=False,
       call=_attr(lambda L, x: (setattr(x, 'requires_grad', True), x.requires_grad, x.is_leaf, x.grad_fn)[1:])),
    Op('grad', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(f32(3), f32(2), error=True, desc='wrong shape'),
                        Sample(f32(3), np.ones(3, np.int64), error=True, desc='wrong dtype')],
       ns='Tensor', grad=False, call=lambda L, x, g: _set_grad(L, x, g.detach())),
    Op('grad_fn', lambda: [Sample(f32(3, 4)), Sample(f32(3), grad=False)], ns='Tensor', grad=False,
       call=_attr(lambda L, x: (x.grad_fn, (x * 2).grad_fn.name() if x.requires_grad else (x * 2).grad_fn,
                                [(f.name() if f else None, n) for f, n in (x * 2).grad_fn.next_functions]
                                if x.requires_grad else None))),
    Op('register_post_accumulate_grad_hook', lambda: [Sample(f32(3, 4)), Sample(f64(2))], ns='Tensor', grad=False,
       call=_attr(_post_hook)),
    meth('where', lambda: [Sample(f32(3, 4), boolean(3, 4), 0.5), Sample(f64(2, 3), boolean(2, 3), f64(3, seed=1),
                                                                            gradcheck=True)],
         call=lambda L, x, c, o: x.where(c, o)),
    meth('polygamma', lambda: [Sample(2, f32(3, 4, domain='positive'), desc='n=2'),
                               Sample(1, f64(3, domain='positive'), gradcheck=True, desc='n=1')],
         call=lambda L, n, x: x.polygamma(n)),
)


def _rng(L, seed):
    """manual_seed, initial_seed, get/set_rng_state and a Generator: the same streams as PyTorch's."""
    L.manual_seed(seed)
    a = L.rand(3)
    state = L.get_rng_state()
    b = L.rand(2)
    L.set_rng_state(state)
    g = L.Generator().manual_seed(seed + 1)
    return a, b, L.rand(2), L.initial_seed(), L.randn(2, generator=g), g.initial_seed(), _dtname(state.dtype), state.shape


def _threads(L, n):
    old = L.get_num_threads()
    try:
        L.set_num_threads(n)
        return L.get_num_threads()
    finally:
        L.set_num_threads(old)


add(
    Op('manual_seed', lambda: [Sample(0), Sample(123)], grad=False, method=False, out=False,
       covers=('torch.initial_seed', 'torch.get_rng_state', 'torch.set_rng_state', 'torch.Generator'),
       call=lambda L, s: _rng(L, s)),
    Op('from_numpy', lambda: [Sample(f32(3, 4)), Sample(i64(3)), Sample(boolean(2)), Sample(f64(2, 2))], grad=False,
       method=False, out=False, covers=('torch.asarray',),
       call=lambda L, a: (lambda a2: (L.from_numpy(a2), L.asarray(a2), L.from_numpy(a2).data_ptr() == a2.ctypes.data))(
           a.detach().numpy().copy())),
    Op('set_num_threads', lambda: [Sample(1), Sample(2)], grad=False, method=False, out=False,
       covers=('torch.get_num_threads',), call=lambda L, n: _threads(L, n)),
    Op('is_complex', lambda: [Sample(f32(3)), Sample(i64(2)), Sample(boolean(2))], grad=False, method=False,
       out=False, covers=('torch.is_conj', 'torch.is_neg', 'torch.is_signed'),
       call=lambda L, x: (L.is_complex(x), L.is_conj(x), L.is_neg(x), L.is_signed(x))),
)



# -- nn.functional: dropout and the other random functions (seeded: compared bit for bit), unpooling, deprecated
# upsampling, channel shuffle, multi-head attention (issue 10: names that had no entry) ---------------------------
def _on_copy(name):
    """F.<name> called on ``x * 1`` (a non-leaf: in place on a leaf that requires grad is PyTorch's error case)."""
    return lambda lib, x, *a, **k: getattr(lib.nn.functional, name)(x * 1, *a, **k)


def _unpool_call(d):
    """F.max_unpool<d>d fed the values and indices of F.max_pool<d>d(x, 2)."""
    def call(lib, x, *a, **k):
        y, i = getattr(lib.nn.functional, f'max_pool{d}d')(x, 2, return_indices=True)
        return getattr(lib.nn.functional, f'max_unpool{d}d')(y, i, *a, **k)
    return call


def _dropouts(name, shape, bad_shape, alpha=False):
    """A dropout function's samples: default p, others, eval, p 0 and 1, in place, a bad p, float64 (gradcheck)."""
    return lambda: [Sample(f32(*shape)), Sample(f32(*shape), 0.3), Sample(f32(*shape), 0.5, False, desc='eval'),
                    Sample(f32(*shape), p=0.0), Sample(f32(*shape), p=1.0), Sample(f32(0, *shape[1:]), desc='0-size'),
                    Sample(f32(*shape), 0.4, True, True, desc='inplace on a leaf', error=True),
                    Sample(f32(*shape), 0.4, True, True, grad=False, desc='inplace'),
                    Sample(f32(*shape), 1.5, error=True), Sample(f32(*bad_shape), error=not alpha, desc='bad rank'),
                    Sample(f64(*shape), 0.4, gradcheck=True)]


def _mha(*, L=3, S_=3, N=2, E=4, dtype=F32, **kw):
    """multi_head_attention_forward's arguments for 2 heads: q, k, v, E, heads, in-projection, biases, out-projection."""
    g = f64 if dtype == F64 else f32
    return (g(L, N, E), g(S_, N, E, seed=1), g(S_, N, E, seed=2), E, 2, g(3 * E, E, seed=3) / 2, g(3 * E, seed=4),
            kw.pop('bias_k', None), kw.pop('bias_v', None), kw.pop('add_zero_attn', False), kw.pop('dropout_p', 0.0),
            g(E, E, seed=5) / 2, g(E, seed=6)), kw


def _mha_sample(desc, error=False, gradcheck=False, **kw):
    args, kw = _mha(**kw)
    return Sample(*args, desc=desc, error=error, gradcheck=gradcheck, **kw)


_MASK = np.triu(np.ones((3, 3), bool), 1)
add(
    fn('dropout', _dropouts('dropout', (4, 5), (4, 5), alpha=True), seed=11, gradgrad=False),
    fn('alpha_dropout', _dropouts('alpha_dropout', (4, 5), (4, 5), alpha=True), seed=12, gradgrad=False),
    fn('feature_alpha_dropout', _dropouts('feature_alpha_dropout', (2, 3, 2, 2), (2, 3, 2, 2), alpha=True), seed=13,
       gradgrad=False),
    fn('dropout1d', _dropouts('dropout1d', (2, 3, 4), (1, 2, 3, 4)), seed=14, gradgrad=False),
    fn('dropout2d', _dropouts('dropout2d', (2, 3, 2, 2), (2, 3, 2, 2), alpha=True), seed=15, gradgrad=False),
    fn('dropout3d', _dropouts('dropout3d', (1, 2, 2, 2, 2), (2, 2), alpha=True), seed=16, gradgrad=False),
    fn('rrelu', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), training=True, desc='training'),
                         Sample(f32(3, 4), 0.1, 0.3, True), Sample(f32(0, 2), training=True),
                         Sample(f32(3, 4), training=True, inplace=True, desc='inplace on a leaf', error=True),
                         Sample(f32(3, 4), 0.2, 0.4, True, True, grad=False, desc='inplace'),
                         Sample(f32(3, 4), 0.5, 0.1, True, error=True),
                         Sample(f64(2, 3), 0.1, 0.3, True, gradcheck=True),
                         Sample(f64(2, 3), gradcheck=True, desc='eval f64')], seed=17, gradgrad=False),
    fn('rrelu_', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 0.1, 0.3, True, desc='training'),
                          Sample(f64(2, 3), 0.1, 0.3, True, gradcheck=True),
                          Sample(f32(3, 4), 0.5, 0.1, True, error=True)], call=_on_copy('rrelu_'), seed=18,
       gradgrad=False),
    fn('gumbel_softmax', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 0.5), Sample(f32(3, 4), hard=True),
                                  Sample(f32(2, 3, 4), dim=1), Sample(f32(3, 4), 1.0, True, dim=0, desc='hard dim 0'),
                                  Sample(f64(2, 3), 2.0, gradcheck=True)], seed=19, gradgrad=False),
    fn('max_unpool1d', lambda: [Sample(f32(2, 3, 6), 2), Sample(f32(3, 6), 2, desc='unbatched'),
                                Sample(f32(1, 2, 6), 2, output_size=(7,)), Sample(f32(1, 2, 6), 2, output_size=(9,), error=True),
                                Sample(f64(1, 2, 4), 2, gradcheck=True)], call=_unpool_call(1)),
    fn('max_unpool2d', lambda: [Sample(f32(1, 2, 4, 4), 2), Sample(f32(2, 4, 6), 2, 2, 0, desc='unbatched'),
                                Sample(f32(1, 1, 4, 4), 2, output_size=(5, 5)),
                                Sample(f32(1, 1, 4, 4), 2, output_size=(9, 9), error=True),
                                Sample(f64(1, 1, 4, 4), 2, gradcheck=True)], call=_unpool_call(2)),
    fn('native_channel_shuffle', lambda: [Sample(f32(1, 6, 2, 2), 3), Sample(f32(2, 4, 3), 2),
                                          Sample(f32(1, 5, 2), 2, error=True), Sample(i64(1, 4, 2), 2),
                                          Sample(f64(1, 4, 2), 2, gradcheck=True)]),
    fn('upsample', lambda: [Sample(f32(1, 2, 3), scale_factor=2), Sample(f32(1, 1, 2, 3), (3, 5), mode='bilinear'),
                            Sample(f32(1, 1, 2, 3), scale_factor=2, mode='bicubic', align_corners=True),
                            Sample(f32(1, 1, 2, 2, 2), 3, mode='trilinear'), Sample(f32(1, 2, 3), 4, mode='linear'),
                            Sample(f32(1, 2, 3), mode='linear', error=True),
                            Sample(f64(1, 1, 2, 2), scale_factor=2, mode='bilinear', gradcheck=True)]),
    fn('upsample_bilinear', lambda: [Sample(f32(1, 2, 2, 3), scale_factor=2), Sample(f32(1, 1, 2, 2), (3, 4)),
                                     Sample(f32(1, 2, 3), scale_factor=2, error=True),
                                     Sample(f64(1, 1, 2, 2), scale_factor=2, gradcheck=True)]),
    fn('upsample_nearest', lambda: [Sample(f32(1, 2, 2, 3), scale_factor=2), Sample(f32(1, 2, 3), 5),
                                    Sample(f32(1, 1, 2, 2, 2), scale_factor=2),
                                    Sample(f32(1, 1, 2, 2), error=True),
                                    Sample(f64(1, 1, 2, 2), scale_factor=2, gradcheck=True)]),
    fn('multi_head_attention_forward', lambda: [
        _mha_sample('plain'), _mha_sample('no weights', need_weights=False),
        _mha_sample('per-head weights', average_attn_weights=False),
        _mha_sample('masks', attn_mask=_MASK, key_padding_mask=np.array([[False, False, True], [False, False, False]])),
        _mha_sample('causal', attn_mask=_MASK, is_causal=True),
        _mha_sample('bias_k bias_v zero_attn', bias_k=f32(1, 1, 4, seed=7), bias_v=f32(1, 1, 4, seed=8),
                    add_zero_attn=True),
        _mha_sample('dropout', dropout_p=0.3), _mha_sample('dropout eval', dropout_p=0.3, training=False),
        _mha_sample('other source length', S_=5),
        Sample(*_mha()[0][:3], 5, *_mha()[0][4:], desc='wrong embed dim', error=True),
        _mha_sample('f64', dtype=F64, gradcheck=True)], seed=20, gradgrad=False, grad_atol=1e-3),
)


# ops real programs reached for that ember lacked (tests/test_real_programs.py tells which programs)
add(
    unary('asinh', aliases=('arcsinh',)),
    unary('acosh', 'above1', aliases=('arccosh',)),
    unary('atanh', 'unit', aliases=('arctanh',)),
    unary('deg2rad'),
    unary('rad2deg'),
    binary('logaddexp', errors=SCALARS + ('i64', 'bool'), inplace=False),
    binary('logaddexp2', errors=SCALARS + ('i64', 'bool'), inplace=False),
    binary('hypot', errors=SCALARS + ('i64', 'bool')),
    entry('tile', lambda: [Sample(f32(2, 3), (2,)), Sample(f32(2, 3), (2, 1, 3)), Sample(f32(3), 2, error=True), Sample(f32(), (2, 2)),
                           Sample(f32(0, 2), (2, 2)), Sample(i64(2, 3), (1, 2)), Sample(f64(2, 3), (2, 2), gradcheck=True),
                           Sample(f32(2, 3), (-1,), error=True)], out=False),
    entry('unfold', ns='Tensor', samples=lambda: [
        Sample(f32(3, 5), 1, 2, 1), Sample(f32(3, 5), 1, 2, 2), Sample(f32(3, 5), 0, 3, 1), Sample(f32(3, 5), -1, 5, 3),
        Sample(transposed((4, 3)), 0, 2, 1), Sample(f32(), 0, 1, 1), Sample(f32(2, 6, 2), 1, 3, 2),
        Sample(i64(4, 3), 0, 2, 2), Sample(f64(3, 5), 1, 3, 1, gradcheck=True), Sample(f64(6), 0, 2, 3, gradcheck=True),
        Sample(f32(3, 5), 1, 6, 1, error=True), Sample(f32(3, 5), 1, 2, 0, error=True),
        Sample(f32(3, 5), 2, 2, 1, error=True)]),
    entry('meshgrid', lambda: [Sample(f32(3), f32(2, seed=1), indexing='ij'), Sample(f32(3), f32(2, seed=1), indexing='xy'),
                               Sample([f32(3), f32(), f32(2, seed=1)], indexing='xy'), Sample(f32(4), indexing='ij'),
                               Sample(i64(3), i64(2), indexing='ij'),
                               Sample(f64(3), f64(2, seed=1), f64(2, seed=2), indexing='xy', gradcheck=True),
                               Sample(f32(3), f32(2, 2), indexing='ij', error=True),
                               Sample(f32(3), f64(2), indexing='ij', error=True),
                               Sample(f32(3), indexing='yx', error=True)], method=False, out=False),
    entry('diff', lambda: [Sample(f32(3, 5)), Sample(f32(3, 5), 2, 0), Sample(f32(3, 5), 3, 1, f32(3, 2), f32(3, 5, seed=1)),
                           Sample(f32(3, 5), 7, 0), Sample(boolean(2, 5)), Sample(i64(6)), Sample(f32(4), prepend=f32(1, seed=1)),
                           Sample(f64(3, 4), 2, 1, append=f64(3, 1, seed=1), gradcheck=True),
                           Sample(f32(), error=True), Sample(f32(3), -1, error=True),
                           Sample(f32(3, 2), prepend=f32(2), error=True)]),
    entry('cummax', lambda: [Sample(f32(3, 5), 1), Sample(f32(3, 5), 0), Sample(i64(8), 0, desc='ties'), Sample(f32(), 0),
                             Sample(np.array([[1., 3., 3., 2., 5., 5.], [np.nan, 1., np.nan, 2., 3., 0.]], F32), -1,
                                    desc='ties and nan'),
                             Sample(boolean(4), 0), Sample(f32(0, 3), 1), Sample(f64(3, 4), 1, gradcheck=True),
                             Sample(f32(3, 5), 2, error=True)]),
    entry('cummin', lambda: [Sample(f32(3, 5), 1), Sample(f32(3, 5), 0), Sample(i64(8), 0, desc='ties'), Sample(f32(), 0),
                             Sample(np.array([[1., 3., 3., 2., 0., 0.], [2., 1., np.nan, 2., 3., 0.]], F32), -1,
                                    desc='ties and nan'),
                             Sample(f64(3, 4), 0, gradcheck=True), Sample(f32(3, 5), -3, error=True)]),
    entry('dstack', lambda: [Sample([f32(2, 3), f32(2, 3, seed=1)]), Sample([f32(3), f32(3, seed=1)]),
                             Sample([f32(), f32()]), Sample([f32(2, 3, 1), f32(2, 3)]),
                             Sample([f64(2, 3), f64(2, 3, seed=1)], gradcheck=True), Sample([f32(2, 3), f32(3, 2)], error=True)],
           method=False),
    entry('column_stack', lambda: [Sample([f32(3), f32(3, seed=1)]), Sample([f32(3), f32(3, 2), f32(3, 1)]),
                                   Sample([f32(), f32()]), Sample([f64(3), f64(3, 2, seed=1)], gradcheck=True),
                                   Sample([f32(3), f32(2)], error=True)], method=False),
    entry('atleast_3d', lambda: [Sample(f32()), Sample(f32(3)), Sample(f32(2, 3)), Sample(f32(2, 3, 4)),
                                 Sample(f64(2, 3), gradcheck=True)], method=False, out=False),
    entry('unsafe_split', lambda: [Sample(f32(5, 3), 2), Sample(f32(3, 5), 2, 1), Sample(f64(4, 2), 3, gradcheck=True),
                                   Sample(f32(5, 3), [1, 4], error=True)], out=False),
    entry('unsafe_chunk', lambda: [Sample(f32(5, 3), 2), Sample(f32(3, 6), 4, dim=1),
                                   Sample(f64(4, 2), 2, gradcheck=True), Sample(f32(5, 3), 0, error=True)], out=False),
    entry('unsafe_split_with_sizes', lambda: [Sample(f32(5, 3), [1, 4]), Sample(f32(3, 5), [2, 0, 3], 1),
                                              Sample(f64(4, 2), [3, 1], gradcheck=True),
                                              Sample(f32(5, 3), [1, 2], error=True)], out=False),
)

def _ix(values):
    return np.array(values, I64)


add(
    entry('tril_indices', lambda: [Sample(3, 4), Sample(4, 3, -1), Sample(3, 3, 1, dtype=_dt('int32')), Sample(0, 0),
                                   Sample(-1, 2, error=True)], call=_creator('tril_indices'), grad=False, method=False, out=False),
    entry('triu_indices', lambda: [Sample(3, 4), Sample(4, 3, 1), Sample(2, 5, -1), Sample(1, 0)],
          call=_creator('triu_indices'), grad=False, method=False, out=False),
    entry('rot90', lambda: [Sample(f32(2, 3)), Sample(f32(2, 3), 3, [1, 0]), Sample(f32(2, 3), 2), Sample(f32(2, 3), -1),
                            Sample(f32(2, 3), 0), Sample(f32(2, 3, 4), 1, (0, 2)), Sample(i64(2, 3), 1),
                            Sample(f64(2, 3), 1, gradcheck=True), Sample(f64(2, 3, 2), 3, (2, 0), gradcheck=True),
                            Sample(f32(2, 3), 1, (0, 0), error=True), Sample(f32(3), error=True),
                            Sample(f32(2, 3), 1, (0, 1, 2), error=True), Sample(f32(2, 3), 1, (0, 2), error=True)],
          out=False),
    entry('kron', lambda: [Sample(f32(2, 3), f32(2, seed=1)), Sample(f32(2), f32(2, 2, seed=1)), Sample(f32(), f32(3)),
                           Sample(i64(2, 2), i64(2, 2)), Sample(f32(2, 2), f64(2)),
                           Sample(f64(2, 3), f64(2, 2, seed=1), gradcheck=True)]),
    entry('block_diag', lambda: [Sample(f32(2, 3), f32(3, seed=1), f32()), Sample(f32(2, 2), i64(2)), Sample(f32(0, 2), f32(1, 1)),
                                 Sample(f64(2, 3), f64(2, 2, seed=1), gradcheck=True), Sample(f32(2, 2, 2), error=True)],
          method=False, out=False),
    entry('diag_embed', lambda: [Sample(f32(3)), Sample(f32(2, 3)), Sample(f32(2, 3), 1), Sample(f32(2, 3), -2, 0, 2),
                                 Sample(f32(2, 3), 1, 2, 0), Sample(i64(3), 0, 0, 1), Sample(f64(2, 3), 1, gradcheck=True),
                                 Sample(f32(2, 3), 0, 1, 1, error=True)], out=False),
    entry('cartesian_prod', lambda: [Sample(f32(3), f32(2, seed=1)), Sample(f32(2), f32(2, seed=1), f32(3, seed=2)),
                                     Sample(i64(3), i64(2)), Sample(f64(3), f64(2, seed=1), gradcheck=True)],
          method=False, out=False),
    entry('logcumsumexp', lambda: [Sample(f32(3, 4), 1), Sample(f32(3, 4), 0), Sample(f32(), 0), Sample(f32(0, 3), 1),
                                   Sample(np.array([-np.inf, -np.inf, 1., np.inf, np.inf, np.nan, 2.], F32), 0, desc='infs and nan'),
                                   Sample(f64(3, 4), 1, gradcheck=True), Sample(i64(3), 0, error=True),
                                   Sample(f32(3, 4), 2, error=True)]),
    entry('index_copy', lambda: [Sample(f32(5, 3), 0, _ix([2, 0]), f32(2, 3, seed=1)), Sample(f32(3, 5), 1, _ix([4, 1, 0]), f32(3, 3, seed=1)),
                                 Sample(f64(5, 3), 0, _ix([1, 4]), f64(2, 3, seed=1), gradcheck=True),
                                 Sample(f32(5, 3), 0, _ix([1, 4]), f64(2, 3, seed=1), error=True),
                                 Sample(f32(5, 3), 0, _ix([7]), f32(1, 3), error=True)], inplace=True),
    entry('index_fill', lambda: [Sample(f32(5, 3), 0, _ix([2, 0]), -1.5), Sample(f32(3, 5), 1, _ix([4, 1]), 2),
                                 Sample(f64(5, 3), 0, _ix([1, 4]), 0.5, gradcheck=True), Sample(i64(4), 0, _ix([1]), 3),
                                 Sample(f32(5, 3), 0, _ix([9]), 1.0, error=True)], inplace=True, out=False),
    entry('masked_scatter', lambda: [Sample(f32(3, 4), boolean(3, 4), f32(12, seed=1)),
                                     Sample(f32(3, 4), boolean(4, seed=1), f32(3, 5, seed=2)),
                                     Sample(f64(3, 4), boolean(3, 4), f64(12, seed=1), gradcheck=True),
                                     Sample(f32(3, 4), boolean(3, 4), f32(2, seed=1), error=True)],
          inplace=True, out=False),
    entry('scatter_reduce', lambda: [Sample(f32(5), 0, _ix([0, 1, 0, 1]), f32(4, seed=1), red, include_self=inc)
                                     for red in ('sum', 'prod', 'mean', 'amax', 'amin') for inc in (True, False)] + [
        Sample(f32(3, 5), 1, _ix([[0, 1, 1], [2, 2, 2], [0, 0, 0]]), f32(3, 3, seed=1), 'amax'),
        Sample(f64(3, 5), 1, _ix([[0, 1, 1], [2, 2, 2], [0, 0, 0]]), f64(3, 3, seed=1), 'mean', gradcheck=True),
        Sample(f64(5), 0, _ix([0, 1, 0, 1]), f64(4, seed=1), 'prod', include_self=False, gradcheck=True,
               desc='prod f64 gradcheck'),
        Sample(f64(2, 3), 1, _ix([[0, 2, 0], [1, 1, 1]]), f64(2, 3, seed=1), 'amax', include_self=False, gradcheck=True),
        Sample(f64(2, 3), 1, _ix([[0, 2, 0], [1, 1, 1]]), np.array([[1., 2., 1.], [0.5, 0.5, 0.25]]), 'amin',
               gradcheck=True, desc='amin ties'),
        Sample(np.array([1., 0., 2., 3.]), 0, _ix([0, 0, 2, 2, 3]), np.array([0., 2., 0., 4., 5.]), 'prod',
               desc='prod with zeros'),
        Sample(i64(5), 0, _ix([0, 1, 0, 1]), i64(4, seed=1), 'mean'),
        Sample(f32(5), 0, _ix([0, 1]), f32(2), 'max', grad=False), Sample(f32(5), 0, _ix([0, 1]), f32(2), 'add', error=True),
        Sample(boolean(5), 0, _ix([0, 1]), boolean(2, seed=1), 'amax'),
        Sample(boolean(5), 0, _ix([0, 1]), boolean(2, seed=1), 'mean', error=True)],
          inplace=True),
    entry('segment_reduce', lambda: [Sample(f32(5, 2), red, lengths=_ix([2, 0, 3]), desc=f'{red} lengths')
                                     for red in ('sum', 'mean', 'max', 'min', 'amax', 'amin', 'prod')] + [
        Sample(f64(5, 2), 'sum', offsets=_ix([0, 2, 2, 5]), gradcheck=True),
        Sample(f64(5), 'amax', lengths=_ix([2, 3]), initial=-1.0, gradcheck=True),
        Sample(f64(5), 'mean', offsets=_ix([0, 2, 2, 5]), initial=0.0, gradcheck=True),
        Sample(f64(5, 2), 'prod', lengths=_ix([2, 3]), initial=2.0, gradcheck=True),
        Sample(f32(5), 'median', lengths=_ix([5]), error=True), Sample(f32(5), 'sum', lengths=_ix([2, 2]), error=True),
        Sample(f32(5), 'sum', error=True), Sample(i64(5), 'sum', lengths=_ix([5]), error=True)],
          method=False, out=False),
    entry('fill_diagonal_', ns='Tensor', call=lambda lib, x, *a, **k: (x * 1).fill_diagonal_(*a, **k), samples=lambda: [
        Sample(f32(3, 3), 2.0), Sample(f32(3, 5), -1), Sample(f32(5, 3), 1.5), Sample(f32(7, 3), 4.0, wrap=True),
        Sample(f32(2, 2, 2), 3.0), Sample(i64(3, 4), 7), Sample(f64(4, 3), 0.5, gradcheck=True),
        Sample(f32(3), 1.0, error=True), Sample(f32(2, 3, 2), 1.0, error=True)], gradgrad=False),
    entry('isin', lambda: [Sample(i64(3, 4), i64(3, seed=1)), Sample(i64(5), 2), Sample(3, i64(4)),
                           Sample(f32(4), i64(2)), Sample(i64(5), i64(3, seed=2), invert=True)],
          grad=False, method=False),
)


add(
    entry('combinations', lambda: [Sample(f32(4)), Sample(f32(4), 3, with_replacement=True), Sample(f32(4), 0),
                                   Sample(i64(5), 2), Sample(f64(4), 3, gradcheck=True), Sample(f32(2, 2), error=True)],
          method=False, out=False),
    entry('cov', lambda: [Sample(f32(3, 5)), Sample(f32(3, 5), correction=0), Sample(f32(5)), Sample(i64(2, 4)),
                          Sample(f64(3, 5), gradcheck=True), Sample(f32(2, 2, 2), error=True)], out=False),
    entry('corrcoef', lambda: [Sample(f32(3, 5)), Sample(f32(5)), Sample(f64(3, 5), gradcheck=True)], out=False),
    entry('copysign', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(f32(3, 4), -1.5), Sample(f32(3, 4), f32(4, seed=1)),
                               Sample(i64(3), i64(3, seed=1)), Sample(np.array([0., -0., 2.], F32), np.array([-1., 1., -0.], F32)),
                               Sample(f64(2, 3), f64(2, 3, seed=1), gradcheck=True)], inplace=True),
    entry('signbit', lambda: [Sample(f32(3, 4)), Sample(np.array([0., -0., -1., np.nan], F32)), Sample(i64(4))], grad=False),
    entry('heaviside', lambda: [Sample(np.array([-1., 0., 2., 0.], F32), np.array(0.5, F32)),
                                Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(i64(4), i64(4, seed=1)),
                                Sample(f32(3), f64(3), error=True)], grad=False, inplace=True),
    entry('unique_consecutive', lambda: [Sample(np.array([1, 1, 2, 2, 3, 1, 1], I64)),
                                         Sample(np.array([1, 1, 2, 2, 3, 1, 1], I64), return_inverse=True, return_counts=True),
                                         Sample(np.array([[1, 1], [1, 1], [2, 3]], I64), dim=0, return_counts=True,
                                                return_inverse=True),
                                         Sample(np.array([[1, 1, 2], [1, 1, 3]], F32), dim=1)], grad=False, out=False),
    entry('unravel_index', lambda: [Sample(np.array([7, 3], I64), (3, 4)), Sample(np.array(7, I64), (3, 4)),
                                    Sample(np.array([-1], I64), (3, 4), desc='negative'), Sample(np.array([12], I64), (3, 4), desc='past the end')],
          grad=False, method=False, out=False),
)



def _quantile_samples():
    with_nan = np.array([[0.5, np.nan, 2.0, -1.0], [1.0, 3.0, -2.0, 0.0], [np.nan] * 4], F32)
    out = []
    for mode in ('linear', 'lower', 'higher', 'midpoint', 'nearest'):
        out += [Sample(f32(4, 5), 0.3, interpolation=mode), Sample(f32(4, 5), 0.5, 1, interpolation=mode),
                Sample(f32(4, 5), np.array([0.0, 0.25, 1.0], F32), 0, True, interpolation=mode),
                Sample(with_nan, np.array([0.1, 0.9], F32), 1, interpolation=mode)]
    return out + [Sample(f64(3, 4), 0.4, 1, gradcheck=True), Sample(f64(5), np.array([0.2, 0.7]), gradcheck=True),
                  Sample(f32(3), 1.5, error=True), Sample(f32(3), 0.5, interpolation='foo', error=True),
                  Sample(i64(3), 0.5, error=True), Sample(f32(3), np.array([0.5], F64), error=True)]


add(
    entry('as_strided', lambda: [Sample(f32(3, 4), (3, 2), (4, 1)), Sample(f32(3, 4), (5, 3), (2, 1), desc='overlapping'),
                                 Sample(f32(3, 4), (2, 2), (1, 4), 1), Sample(f32(3, 4), (2, 3), (0, 1), desc='stride 0'),
                                 Sample(f32(3, 4), (), ()), Sample(i64(3, 4), (2, 2), (1, 2)),
                                 Sample(f64(3, 4), (4, 3), (2, 1), gradcheck=True),
                                 Sample(f32(3, 4), (4, 4), (3, 1), error=True), Sample(f32(3, 4), (2,), (-1,), error=True),
                                 Sample(f32(3, 4), (2, 2), (1,), error=True)], out=False, gradgrad=False),
    entry('quantile', _quantile_samples, gradgrad=False),
    entry('nanquantile', _quantile_samples, gradgrad=False),
)

# -- front-door names real programs call (session 24, gaps): mode, empty_strided, trapezoid, vander, *_copy... --
def _mode_samples():
    nan = np.array([[2., 1., np.nan, np.nan, 1., 2.], [np.nan, np.nan, 1., 0., 0., 3.]], F32)
    ties = np.random.default_rng(3).integers(0, 4, (3, 40))
    return [Sample(f32(3, 5)), Sample(ties.astype(F32), desc='ties in rows of 40'), Sample(ties[:, :7], 0, keepdim=True, desc='i64 ties'),
            Sample(np.array([-0., 0., 0., -0., 1.], F32), desc='signed zeros'), Sample(nan, desc='nan'),
            Sample(boolean(3, 4), 1), Sample(f32(), 0), Sample(f32(0, 3), 1), Sample(f32(2, 3), -2),
            Sample(f64(3, 4), 0, gradcheck=True), Sample(f32(3, 0), 1, error=True), Sample(f32(3), 1, error=True)]


def _strides(t):
    return tuple(t.shape), t.stride(), t.is_contiguous(), str(t.dtype).split('.')[-1], t.requires_grad


def _trap_samples(cumulative=False):
    s = [Sample(f32(3, 4)), Sample(f32(3, 4), f32(4, seed=1)), Sample(f32(3, 4), dx=0.5), Sample(f32(3, 4), dim=0),
         Sample(f32(2, 3, 4), f32(3, 4, seed=1), dim=1, desc='x of fewer dims'),
         Sample(f32(3, 4), f32(3, 4, seed=1), desc='x of y\'s shape'), Sample(i64(3, 4), desc='i64'),
         Sample(i64(3, 4), dx=2, desc='i64 int dx'), Sample(f32(3, 1), desc='one sample'),
         Sample(f64(3, 4), f64(4, seed=1), gradcheck=True), Sample(f64(2, 5), dx=0.3, dim=1, gradcheck=True),
         Sample(boolean(3, 4), error=True), Sample(f32(3, 4), f32(3, seed=1), error=True, desc='x too short'),
         Sample(f32(3, 4), dx=True, error=True, desc='bool dx')]
    if not cumulative:
        s.append(Sample(f32(3, 0), desc='no samples'))
    return s


def _gradient_samples():
    coords = [np.array([0., 1., 3.], F32), np.array([0., .5, 1., 3.], F32)]
    return [Sample(f32(3, 4)), Sample(f32(3, 3, 4), edge_order=2), Sample(f32(3, 4), spacing=2.5),
            Sample(f32(3, 4), spacing=[1., 0.5]), Sample(f32(2, 3, 4), dim=1), Sample(f32(3, 4), dim=-1, spacing=3),
            Sample(f32(2, 3, 4), dim=[0, 2], spacing=[2, 3]), Sample(f32(3, 4), spacing=0.5, dim=(1, 0), edge_order=2),
            Sample(f32(3, 4), spacing=coords, desc='coordinates'), Sample(f32(3, 4), spacing=coords, edge_order=2,
                                                                            desc='coordinates, edge_order=2'),
            Sample(i64(5), desc='i64'), Sample(i64(5), edge_order=2, spacing=2, desc='i64 edge_order=2'),
            Sample(f64(3, 4), gradcheck=True), Sample(f64(3, 5), edge_order=2, spacing=0.7, gradcheck=True),
            Sample(f64(4, 3), spacing=[np.array([0., 1., 3., 3.5]), np.array([0., .5, 2.])], edge_order=2,
                   gradcheck=True, desc='f64 coordinates'),
            Sample(f32(1, 3), error=True, desc='dim of 1'), Sample(f32(3, 4), edge_order=3, error=True),
            Sample(f32(3, 4), spacing=[1.], error=True, desc='short spacing'),
            Sample(f32(3, 4), dim=[0], spacing=[1., 2.], error=True, desc='spacing longer than dim'),
            Sample(f32(3, 4), dim=(1, 1), error=True, desc='repeated dim'), Sample(f32(3, 4), dim=2, error=True),
            Sample(f32(3, 4), spacing=[np.ones((3, 1), F32), np.ones(4, F32)], error=True, desc='2-d coordinates')]


def _copy_entry(name, samples, **kw):
    return entry(name, samples, method=kw.pop('method', False), **kw)


add(
    entry('mode', _mode_samples),
    entry('empty_strided', lambda: [Sample((2, 3), (1, 2)), Sample((2, 3), (3, 1)), Sample((2, 0), (1, 1)), Sample((), ()),
                                    Sample((3,), (0,), desc='stride 0'), Sample([2, 2], [4, 1]),
                                    Sample((2, 3), (1, 2), dtype=_dt('float64'), requires_grad=True),
                                    Sample((2, 3), (1,), error=True), Sample((2, 3), (-1, 1), error=True),
                                    Sample((-1, 3), (1, 1), error=True)],
          call=lambda L, *a, **k: _strides(L.empty_strided(*_resolve(L, a), **{n: _resolve(L, v) for n, v in k.items()})),
          method=False, out=False, grad=False),
    Op('new_empty_strided', lambda: [Sample(f32(2), (2, 3), (1, 2)), Sample(i64(2), (2, 2), (0, 1)),
                                     Sample(i64(2), (2,), (1,), dtype=_dt('float16'))], ns='Tensor', grad=False,
       call=lambda L, x, *a, **k: _strides(x.new_empty_strided(*a, **{n: _resolve(L, v) for n, v in k.items()}))),
    entry('msort', lambda: [Sample(f32(4, 3)), Sample(i64(5, 2)), Sample(f32(5)), Sample(_v(3, 4)),
                            Sample(f64(4, 3), gradcheck=True)]),
    entry('split_with_sizes', lambda: [Sample(f32(3, 4), [1, 2]), Sample(f32(3, 4), [2, 0, 2], 1), Sample(i64(5), (5,)),
                                       Sample(f64(3, 4), [1, 1, 2], -1, gradcheck=True),
                                       Sample(f32(3, 4), [1, 1], error=True)], out=False),
    entry('trapezoid', _trap_samples, method=False, out=False, aliases=('trapz',)),
    entry('cumulative_trapezoid', lambda: _trap_samples(True), method=False, out=False),
    entry('gradient', lambda: _gradient_samples(), method=False, out=False),
    entry('vander', lambda: [Sample(f32(4)), Sample(f32(3), 5), Sample(f32(3), increasing=True), Sample(i64(3), 4),
                             Sample(boolean(3)), Sample(f32(3), 0), Sample(f32(3), 1), Sample(f32(0)),
                             Sample(f64(3), 4, gradcheck=True), Sample(f64(3), 3, increasing=True, gradcheck=True),
                             Sample(f32(2, 2), error=True), Sample(f32(3), -1, error=True)], method=False, out=False),
    entry('row_stack', lambda: [Sample([f32(2, 3), f32(1, 3, seed=1)]), Sample([f32(3), f32(3, seed=1)]),
                                Sample([f64(2, 2), f64(1, 2, seed=1)], gradcheck=True),
                                Sample([f32(2, 3), f32(2, 4)], error=True)], method=False),
    binary('arctan2', errors=SCALARS),
    _copy_entry('expand_copy', lambda: [Sample(f32(3, 1), (3, 4)), Sample(f32(4), (2, 4)), Sample(f64(3, 1), (2, 3, 2), gradcheck=True),
                                        Sample(f32(3, 2), (3, 4), error=True)]),
    _copy_entry('permute_copy', lambda: [Sample(f32(2, 3, 4), (2, 0, 1)), Sample(i64(2, 3), (1, 0)),
                                         Sample(f64(2, 3), (1, 0), gradcheck=True)]),
    _copy_entry('t_copy', lambda: [Sample(f32(3, 4)), Sample(f32(3)), Sample(f64(2, 3), gradcheck=True)]),
    _copy_entry('transpose_copy', lambda: [Sample(f32(2, 3, 4), 0, 2), Sample(f64(2, 3), 0, 1, gradcheck=True)]),
    _copy_entry('view_copy', lambda: [Sample(f32(3, 4), (4, 3)), Sample(f32(3, 4), (-1,)), Sample(f64(2, 3), (3, 2), gradcheck=True),
                                      Sample(f32(3, 4), (5, 2), error=True)]),
    _copy_entry('select_copy', lambda: [Sample(f32(3, 4), 0, 1), Sample(f32(3, 4), 1, -1), Sample(f64(2, 3), 1, 2, gradcheck=True)]),
    _copy_entry('slice_copy', lambda: [Sample(f32(5, 4), 0, 1, 4), Sample(f32(5, 4), 1, 0, 4, 2), Sample(f32(5, 4)),
                                       Sample(f64(5, 3), 0, 1, 5, 2, gradcheck=True)]),
    _copy_entry('squeeze_copy', lambda: [Sample(f32(3, 1, 4)), Sample(f32(3, 1, 1), 1), Sample(f32(3, 1, 1), (1, 2)),
                                         Sample(f64(1, 3), gradcheck=True)]),
    _copy_entry('unsqueeze_copy', lambda: [Sample(f32(3, 4), 1), Sample(f32(), 0), Sample(f64(2, 3), -1, gradcheck=True)]),
    _copy_entry('diagonal_copy', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 1), Sample(f32(2, 3, 4), 0, 1, 2),
                                          Sample(f64(3, 3), -1, gradcheck=True)]),
    _copy_entry('alias_copy', lambda: [Sample(f32(3, 4)), Sample(i64(3)), Sample(f64(2, 3), gradcheck=True)]),
    _copy_entry('unfold_copy', lambda: [Sample(f32(3, 5), 1, 2, 1), Sample(f32(6), 0, 3, 2), Sample(f64(2, 5), 1, 3, 2, gradcheck=True)]),
    _copy_entry('as_strided_copy', lambda: [Sample(f32(3, 4), (2, 2), (1, 2)), Sample(f32(3, 4), (3,), (4,), 1),
                                            Sample(f64(3, 4), (2, 3), (4, 1), gradcheck=True)]),
    _copy_entry('narrow_copy', lambda: [Sample(f32(4, 3), 0, 1, 2), Sample(i64(4, 3), 1, 0, 3), Sample(f64(4, 3), 1, 1, 2, gradcheck=True),
                                        Sample(f32(4, 3), 0, 3, 2, error=True)], method=True),
    _copy_entry('unbind_copy', lambda: [Sample(f32(3, 4)), Sample(f32(3, 4), 1), Sample(f64(2, 3), gradcheck=True)], out=False),
    _copy_entry('split_copy', lambda: [Sample(f32(5, 4), 2), Sample(f32(5, 4), 3, 1), Sample(f64(5, 2), 2, gradcheck=True)], out=False),
    _copy_entry('split_with_sizes_copy', lambda: [Sample(f32(5, 4), [2, 3]), Sample(f64(5, 2), [1, 1], 1, gradcheck=True)],
                out=False),
    entry('rms_norm', lambda: [Sample(f32(2, 3, 4), (4,)), Sample(f32(2, 4), [4], f32(4, seed=1), 1e-3),
                               Sample(f64(2, 4), (4,), f64(4, seed=1), gradcheck=True)], method=False, out=False),
    entry('addmv_', lambda: [Sample(f32(3), f32(3, 4), f32(4, seed=1), grad=False),
                             Sample(f64(3), f64(3, 4), f64(4, seed=1), beta=0.5, alpha=2, grad=False)],
          call=lambda L, x, *a, **k: L.addmv_(x.clone(), *a, **k), method=False, out=False, grad=False),
    entry('gcd_', lambda: [Sample(i64(3, 4), i64(3, 4, seed=1)), Sample(i64(3), 2, error=True)],
          call=lambda L, x, *a: L.gcd_(x.clone(), *a), method=False, out=False, grad=False),
    entry('lcm_', lambda: [Sample(i64(3, 4), i64(3, 4, seed=1)), Sample(i64(3), 2, error=True)],
          call=lambda L, x, *a: L.lcm_(x.clone(), *a), method=False, out=False, grad=False),
    entry('ldexp_', lambda: [Sample(f32(3, 4), i64(3, 4, seed=1), grad=False)],
          call=lambda L, x, *a: L.ldexp_(x.clone(), *a), method=False, out=False, grad=False),
    entry('index_put_', lambda: [Sample(f32(3, 4), (idx(2),), f32(2, 4, seed=1), grad=False),
                                 Sample(f32(3, 4), (idx(3), idx(3, high=4, seed=1)), f32(3, seed=1), True, grad=False)],
          call=lambda L, x, i, *a: L.index_put_(x.clone(), tuple(L.tensor(v) for v in i), *a), method=False, out=False,
          grad=False),
    meth('is_nonzero', lambda: [Sample(f32(1)), Sample(np.array([0.], F32), desc='zero'), Sample(i64()), Sample(boolean(1, 1)),
                                Sample(f32(0), error=True), Sample(f32(2), error=True)], grad=False),
    meth('apply_', lambda: [Sample(f32(3, 4), lambda v: v * 2 + 1, desc='f32 2v+1'), Sample(i64(5), lambda v: v / 3, desc='i64 v/3'),
                            Sample(boolean(4), lambda v: not v, desc='bool not'), Sample(_v(3, 4), lambda v: -v, desc='transposed')]),
    meth('map_', lambda: [Sample(f32(3, 4), f32(4, seed=1), lambda a, b: a * b, desc='f32 broadcast'),
                          Sample(i64(3), i64(), lambda a, b: a - b, desc='i64 0-d other'),
                          Sample(i64(3), f32(3), lambda a, b: a, error=True, desc='other of another dtype'),
                          Sample(i64(3), i64(2), lambda a, b: a, error=True, desc='other of another shape')]),
    meth('positive', lambda: [Sample(f32(3, 4)), Sample(i64(3)), Sample(f64(2, 3), gradcheck=True),
                              Sample(boolean(3), error=True)]),
    meth('polygamma_', lambda: [Sample(f32(3, 4, domain='positive'), 1), Sample(f64(3, domain='positive'), 2)],
         call=lambda L, x, n: x.clone().polygamma_(n)),
    meth('mvlgamma_', lambda: [Sample(f32(3, 4, domain='positive') + 1, 2), Sample(f64(3, domain='positive') + 1, 1)],
         call=lambda L, x, p: x.clone().mvlgamma_(p)),
    *[meth(n, lambda: [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(i64(3, 4), 1), Sample(f32(3, 4), f32(4, seed=2)),
                       Sample(f32(3), f32(2, 3), error=True)], call=(lambda n: lambda L, x, y: x.clone().__getattribute__(n)(y))(n))
      for n in ('greater_', 'greater_equal_', 'less_', 'less_equal_', 'not_equal_')],
    *[meth(n, lambda: [Sample(f32(3, 4), 0, 1), Sample(f32(2, 3, 4), -1, 0), Sample(i64(2, 3), 1, 0)],
           call=(lambda n: lambda L, x, *a: x.clone().__getattribute__(n)(*a))(n))
      for n in ('swapaxes_', 'swapdims_')],
)


# -- torch-level in-place forms and Tensor aliases that had no entry (torch.abs_(x) is x.abs_()) ---------------
_INPLACE_FORMS = {'abs_': 'real', 'acos_': 'unit', 'acosh_': 'above1', 'arccos_': 'unit', 'arccosh_': 'above1',
                  'arcsin_': 'unit', 'arcsinh_': 'real', 'arctan_': 'real', 'arctanh_': 'unit', 'asin_': 'unit',
                  'asinh_': 'real', 'atan_': 'real', 'atanh_': 'unit', 'ceil_': 'real', 'cos_': 'real', 'cosh_': 'real',
                  'deg2rad_': 'real', 'erf_': 'real', 'erfc_': 'real', 'exp2_': 'real', 'expm1_': 'real', 'fix_': 'real',
                  'floor_': 'real', 'frac_': 'real', 'log10_': 'positive', 'log1p_': 'positive', 'log2_': 'positive',
                  'log_': 'positive', 'logit_': 'prob', 'nan_to_num_': 'real', 'neg_': 'real', 'negative_': 'real',
                  'rad2deg_': 'real', 'reciprocal_': 'positive', 'round_': 'real', 'rsqrt_': 'positive', 'sin_': 'real',
                  'sinc_': 'real', 'sinh_': 'real', 'sqrt_': 'positive', 'square_': 'real', 'tan_': 'unit', 'tanh_': 'real',
                  'trunc_': 'real'}


def _inplace_form(name, domain, extra=(), ns='torch'):
    """torch.<name>(x, ...) / x.<name>(...) on a clone of x (a non-leaf: its graph and gradient are compared)."""
    if ns == 'torch':
        call = lambda L, x, *a: getattr(L, name)(x.clone(), *a)   # noqa: E731
    else:
        call = lambda L, x, *a: getattr(x.clone(), name)(*a)      # noqa: E731
    return Op(name, lambda: [Sample(f32(3, 4, domain=domain), *extra), Sample(f64(2, 3, domain=domain), *extra, gradcheck=True)],
              ns=ns, call=call, method=False, out=False, gradgrad=False)


add(*[_inplace_form(n, d) for n, d in _INPLACE_FORMS.items()],
    _inplace_form('clamp_max_', 'real', (0.5,)), _inplace_form('clamp_min_', 'real', (-0.5,)),
    _inplace_form('clip_', 'real', (-0.5, 0.5)), _inplace_form('celu_', 'real'),
    _inplace_form('xlogy_', 'positive', (np.float32(2.0),)),
    *[_inplace_form(n, d, ns='Tensor') for n, d in (('arccos_', 'unit'), ('arccosh_', 'above1'), ('arcsin_', 'unit'),
                                                    ('arcsinh_', 'real'), ('arctan_', 'real'), ('arctanh_', 'unit'),
                                                    ('fix_', 'real'))],
    entry('detach', lambda: [Sample(f32(3, 4)), Sample(i64(3))], method=False, out=False),
    entry('detach_', lambda: [Sample(f32(3, 4)), Sample(i64(3))], call=lambda L, x: L.detach_(x * 1), method=False,
          out=False),
    entry('fill', lambda: [Sample(f32(3, 4), 1.5), Sample(i64(3), 2), Sample(f64(2, 3), np.array(0.5), gradcheck=True)],
          method=False, out=False),
    entry('positive', lambda: [Sample(f32(3, 4)), Sample(i64(3)), Sample(f64(2, 3), gradcheck=True),
                               Sample(boolean(3), error=True)], method=False, out=False),
    entry('native_channel_shuffle', lambda: [Sample(f32(1, 4, 2, 2), 2), Sample(f64(2, 6, 3), 3, gradcheck=True)],
          method=False, out=False),
    entry('rrelu_', lambda: [Sample(f32(3, 4), grad=False), Sample(f32(3, 4), 0.1, 0.3, True, grad=False, desc='training')],
          call=lambda L, x, *a: L.rrelu_(x.clone(), *a), method=False, out=False, grad=False, seed=3),
    *[entry(n, lambda: [Sample(f32(4, 3, 2), 0.3, True, grad=False), Sample(f32(4, 3, 2), 0.3, False, grad=False)],
            call=(lambda n: lambda L, x, *a: getattr(L, n)(x.clone(), *a))(n), method=False, out=False, grad=False, seed=5)
      for n in ('alpha_dropout_', 'feature_alpha_dropout_', 'feature_dropout_')],
    Op('storage_offset', lambda: [Sample(f32(3, 4)), Sample(View(f32(3, 4), lambda t: t[1:, 2:], 'sliced'))], ns='Tensor',
       call=lambda L, x: x.storage_offset(), grad=False),
)


def _sibling(name, **deps):
    """The registry module ``name`` beside this file, imported by path (tools/supported.py loads this file so);
    ``deps``: sibling modules it imports by name, visible to it while it loads."""
    import importlib.util
    import os
    import sys
    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                     name + '.py'))
    mod = importlib.util.module_from_spec(spec)
    saved = {k: sys.modules.get(k) for k in deps}
    sys.modules.update(deps)
    try:
        spec.loader.exec_module(mod)
    finally:
        for k, v in saved.items():
            if v is None:
                del sys.modules[k]
            else:
                sys.modules[k] = v
    return mod


_training = _sibling('registry_training')
_api = _sibling('registry_api', registry_training=_training)
# optimizers, schedulers, nn.init, nn.utils, swa_utils, and the rest of the public surface (legacy types, save/load,
# autocast state, submodules): tests/test_registry_training.py
TRAINING = _training.TRAINING + _api.ENTRIES
CHECKS.update(_training.CHECKS_TRAINING)
DATA = _sibling('registry_data', registry_training=_training).ENTRIES   # torch.utils.data and torchvision: tests/test_registry_data.py


# -- Tensor methods that had no entry (session 40: dir(torch.Tensor) against the registry, most used first) --------
def c64(*shape, seed=0):
    """A complex64 input: two float32 draws as real and imaginary parts."""
    return (arr(shape, F32, seed=seed) + 1j * arr(shape, F32, seed=seed + 7)).astype(np.complex64)


_LAZY_CONJ = 'ember conjugates eagerly: its result has no lazy conjugate bit (is_conj() False, PyTorch True)'
_COMPLEXISH = lambda: [Sample(f32(3, 4)), Sample(c64(3, 4), grad=False), Sample(_v(3, 4)),   # noqa: E731
                       Sample(i64(3)), Sample(f64(2, 3), gradcheck=True)]
def _resolved(name):
    """``lib.name(x)`` and ``x.name()`` with the conjugate bit resolved (NumPy cannot read a lazily conjugated
    tensor), and the bit."""
    def call(lib, x):
        y = getattr(lib, name)(x)
        return y.resolve_conj(), getattr(x, name)().resolve_conj(), y.is_conj()
    return call


add(
    Op('conj', _COMPLEXISH, out=False, method=False, call=_resolved('conj'), covers=('torch.Tensor.conj',),
       gaps={'sample:complex64[3, 4]': _LAZY_CONJ}),
    Op('conj_physical', _COMPLEXISH, inplace=True),
    Op('resolve_conj', _COMPLEXISH, out=False),
    Op('resolve_neg', _COMPLEXISH, out=False),
    Op('real', lambda: [Sample(c64(3, 4), grad=False), Sample(f32(3, 4)), Sample(f64(2, 3), gradcheck=True)],
       out=False, method=False, covers=('torch.Tensor.real',),
       call=lambda lib, x: (lib.real(x), x.real)),
    Op('imag', lambda: [Sample(c64(3, 4), grad=False), Sample(f32(3, 4), error=True)], out=False, method=False,
       covers=('torch.Tensor.imag',), call=lambda lib, x: (lib.imag(x), x.imag)),
    Op('angle', lambda: [Sample(f32(3, 4)), Sample(c64(3, 4), grad=False), Sample(i64(3)), Sample(boolean(3)),
                         Sample(np.array([0.0, -0.0, -2.0, np.nan], F32), grad=False, desc='signed zeros')]),
    Op('adjoint', lambda: [Sample(f32(3, 4)), Sample(f32(2, 3, 4)), Sample(c64(2, 3), grad=False),
                           Sample(f32(3), error=True), Sample(f64(2, 3), gradcheck=True)], out=False,
       method=False, call=_resolved('adjoint'), covers=('torch.Tensor.adjoint',),
       gaps={'sample:complex64[2, 3]': _LAZY_CONJ}),
    Op('nonzero_static', lambda: [Sample(np.array([[0, 1.5], [2.0, 0]], F32), size=3, grad=False),
                                  Sample(np.array([0, 3, 0, 4], I64), size=1, fill_value=-5, desc='truncated'),
                                  Sample(f32(0), size=2, grad=False)], grad=False),
    Op('as_strided_scatter', lambda: [Sample(f32(3, 4), f32(2, 2, seed=1), (2, 2), (4, 1), 1),
                                      Sample(f64(6), f64(3, seed=1), (3,), (2,), gradcheck=True)],
       gaps={'backward': "PyTorch 2.13's input gradient fails its own gradcheck (it keeps the scattered positions and "
                         "zeroes the rest); ember's matches float64 finite differences"}),
)
add(*[Op(n, _CONV, ns='Tensor', call=_convert(n), grad=False) for n in ('cfloat', 'cdouble')])
add(Op('bfloat16', _CONV, ns='Tensor', grad=False, call=lambda lib, x: (x.bfloat16().float(), _dtname(x.bfloat16().dtype))))
add(
    meth('resize_as_', lambda: [Sample(f32(3, 4), f32(2, 6)), Sample(f32(2, 3), f32(6)), Sample(f32(4), f32(2, 2))]),
    meth('as_strided_', lambda: [Sample(f32(3, 4), (2, 2), (4, 1)), Sample(f32(6), (3,), (2,), 1)]),
    Op('untyped_storage', lambda: [Sample(f32(3, 4)), Sample(_v(3, 4)), Sample(i64(5))], ns='Tensor', grad=False,
       call=_attr(lambda L, x: (x.untyped_storage().nbytes(), x.untyped_storage().size(),
                                x.untyped_storage().data_ptr() == x.data_ptr() - x.storage_offset() * x.element_size()))),
    Op('storage', lambda: [Sample(f32(3, 4)), Sample(i64(5))], ns='Tensor', grad=False,
       call=_attr(lambda L, x: (x.storage().tolist(), x.storage().size(), _dtname(x.storage().dtype)))),
    Op('storage_type', lambda: [Sample(f32(3)), Sample(i64(2)), Sample(boolean(2))], ns='Tensor', grad=False,
       call=_attr(lambda L, x: x.storage_type().__name__)),
    Op('is_inference', lambda: [Sample(f32(3)), Sample(i64(2))], ns='Tensor', grad=False,
       call=_attr(lambda L, x: (x.is_inference(), _inference(L).is_inference()))),
    Op('dim_order', lambda: [Sample(f32(2, 3, 4)), Sample(_v(3, 4)), Sample(f32())], ns='Tensor', grad=False,
       call=_attr(lambda L, x: x.dim_order())),
    Op('pin_memory', lambda: [Sample(f32(3))], ns='Tensor', grad=False,
       call=_attr(lambda L, x: x.is_pinned())),
    Op('cuda', lambda: [Sample(f32(3), error=True)], ns='Tensor', grad=False),
    meth('share_memory_', lambda: [Sample(f32(3, 4))], covers=('torch.Tensor.is_shared',),
         call=_attr(lambda L, x: (x.share_memory_() is x, x.is_shared()))),
    Op('as_subclass', lambda: [Sample(f32(3))], ns='Tensor', grad=False,
       call=_attr(lambda L, x: (type(x.as_subclass(_subclass(L))).__name__, x.as_subclass(_subclass(L)).tolist()))),
    meth('set_', lambda: [Sample(f32(3, 4), f32(6)), Sample(f32(2), f64(3), error=True)],
         call=_attr(lambda L, x, src: (x.set_(src) is x, x.tolist(), x.data_ptr() == src.data_ptr()))),
)


def _inference(lib):
    with lib.inference_mode():
        return lib.ones(2)


_SUBCLASSES = {}


def _subclass(lib):
    """A Tensor subclass of ``lib`` (one per library, so both calls name it alike)."""
    if lib not in _SUBCLASSES:
        _SUBCLASSES[lib] = type('Sub', (lib.Tensor,), {})
    return _SUBCLASSES[lib]
# linalg's LU family, removed functions, pooling/unpooling/lazy modules, state flags: tests/registry_linalg_pool.py,
# given this module's helpers as ``registry``
_linalg_pool = _sibling('registry_linalg_pool', registry=__import__('types').SimpleNamespace(**globals()),
                        registry_training=_training)


# torch.fft, torch.special and torch.signal.windows: tests/registry_spectral.py (it imports its helpers from this module)
add(*_sibling('registry_spectral', registry=__import__('types').SimpleNamespace(**globals())).OPS)
