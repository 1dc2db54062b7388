"""The torch.nn module classes in the registry, as data: one ``Mod`` per class, with the constructions
(``Build``) to check and the sample inputs to call each on. Kept beside tests/registry.py (whose ``Sample``
and array helpers it uses) so that the two lists can grow apart without colliding.

tests/test_registry_modules.py runs every (entry, build) on ember and on PyTorch, each module constructed
right after ``manual_seed(0)``: default initialisation, parameters, buffers, repr and state_dict keys,
forward values, dtypes and grad_fn names, input and parameter gradients (float64 gradcheck on samples
marked so), train against eval, ``.double()`` modules, and PyTorch's exception type on its error cases.
tools/supported.py reads the same entries (without importing torch) for docs/SUPPORTED.md.
"""
import numpy as np

from registry import F32, F64, I64, Sample, _dt, f32, f64, i64

# checks only module entries have; SUPPORTED.md adds their letters to the legend
CHECKS = {'state': 'S', 'modes': 'T'}


class Sub:
    """A constructor argument built in each library: ``lib.nn.<name>(*args, **kwargs)`` (a child module)."""
    def __init__(self, name, *args, **kwargs):
        self.name, self.args, self.kwargs = name, args, kwargs

    def __repr__(self):
        return f'{self.name}(...)'


class Build:
    """One construction ``nn.<name>(*args, **kwargs)`` and the ``samples`` to call it on (float64 samples run
    on ``.double()``, after the float32 ones). ``error``: PyTorch's constructor raises here; ``modes``: run
    the samples in train mode, then in eval mode; ``probe(lib, module)``: a value to compare (containers'
    indexing, slicing, append...); ``call``: the entry's ``call`` for this build; ``desc``: this build's id."""
    def __init__(self, *args, samples=(), desc='', error=False, modes=False, probe=None, call=None, **kwargs):
        self.args, self.kwargs, self.samples = args, kwargs, list(samples)
        self.error, self.modes, self.probe, self.call = error, modes, probe, call
        self.desc = desc or _describe(args, kwargs)

    def __repr__(self):
        return self.desc


class Mod:
    """One torch.nn class. ``call(lib, module, *args, **kwargs)``: how a sample is fed (default: the module
    called on it); ``grad``: gradients are compared; ``gaps``: {check: reason} as in ``registry.Op`` (a
    gap on one build is 'build:DESC')."""
    def __init__(self, name, builds, call=None, grad=True, gaps=None, atol=1e-5, rtol=1e-4, grad_atol=1e-4):
        self.name, self.builds, self._call, self.grad = name, builds, call, grad
        self.gaps, self.atol, self.rtol, self.grad_atol = dict(gaps or {}), atol, rtol, grad_atol

    @property
    def id(self):
        return f'nn.{self.name}'

    def call(self, lib, module, *args, build=None, **kwargs):
        if build is not None and build.call is not None:
            return build.call(lib, module, *args, **kwargs)
        if self._call is not None:
            return self._call(lib, module, *args, **kwargs)
        return module(*args, **kwargs)

    def checks(self):
        """What the registry checks for this class (names of registry.CHECKS and CHECKS)."""
        builds = [b for b in self.builds if 'build:' + b.desc not in self.gaps]
        good = [b for b in builds if not b.error]
        samples = [s for b in good for s in b.samples]
        got = set()
        if good and 'state' not in self.gaps:
            got.add('state')
        if any(not s.error for s in samples) or any(b.probe for b in good):
            got.add('forward')
        if self.grad and 'backward' not in self.gaps and any(not s.error and s.grad for s in samples):
            got.add('backward')
        kinds = {_float_kind(s) for s in samples if not s.error}
        if {F32, F64} <= kinds and 'dtypes' not in self.gaps:
            got.add('dtypes')
        if any(b.modes for b in good) and 'modes' not in self.gaps:
            got.add('modes')
        if any(b.error for b in builds) or any(s.error for s in samples):
            got.add('errors')
        return got

    def names(self):
        return {f'torch.nn.{self.name}': self.checks()}

    def samples(self):
        """Every build's samples (SUPPORTED.md counts them)."""
        return [s for b in self.builds for s in b.samples]


def _describe(args, kwargs):
    def one(v):
        if isinstance(v, np.ndarray):
            return f'{v.dtype.name}{list(v.shape)}'.replace('float', 'f').replace('int', 'i')
        return repr(v)
    return ' '.join([one(a) for a in args] + [f'{k}={one(v)}' for k, v in kwargs.items()]) or '()'


def _float_kind(sample):
    """The float dtype (F32 or F64) of a sample's first array input, or None."""
    for a in sample.args:
        if isinstance(a, np.ndarray) and a.dtype.kind == 'f':
            return a.dtype.type
    return None


MODULES = []


def add(*mods):
    MODULES.extend(mods)


def S(*args, **kw):
    return Sample(*args, **kw)


# -- activations ---------------------------------------------------------------------------------------------
def _clone_first(lib, module, x, *args, **kwargs):
    """An in-place module fed a non-leaf (PyTorch refuses a leaf that requires grad), so gradients flow."""
    return module(x * 1, *args, **kwargs)


def act(name, *builds, extra=(), zero_d=True, ints=True, **kw):
    """An activation: each build on a 2-d, a 0-d, a 0-size, an int64 (``ints=False``: PyTorch refuses it) and a
    float64 input (gradcheck), plus ``extra``; an ``inplace=True`` build is fed a non-leaf."""
    def samples(seed):
        return [S(f32(3, 4, seed=seed)), *([S(f32(seed=seed))] if zero_d else []), S(f32(0, 3), desc='0-size'),
                S(i64(2, 3, seed=seed), desc='i64', error=not ints), *extra, S(f64(2, 3, seed=seed), gradcheck=True)]
    builds = builds or (Build(),)
    for i, b in enumerate(builds):
        b.samples = samples(i)
        if b.kwargs.get('inplace'):
            b.call = _clone_first
    return Mod(name, list(builds), **kw)


add(
    act('ReLU', Build(), Build(inplace=True)),
    act('ReLU6'),
    act('LeakyReLU', Build(), Build(0.2), Build(negative_slope=0.05, inplace=True), ints=False),
    act('ELU', Build(), Build(alpha=0.5), ints=False),
    act('SELU', ints=False),
    act('CELU', Build(alpha=2.0), ints=False),
    act('GELU', Build(), Build(approximate='tanh'), ints=False),
    act('SiLU', ints=False),
    act('Mish', ints=False),
    act('Sigmoid'),
    act('Tanh'),
    act('Softplus', Build(), Build(beta=2.0, threshold=1.0), ints=False),
    act('Softsign'),
    act('Hardtanh', Build(), Build(-0.5, 0.5)),
    act('Hardsigmoid', ints=False),
    act('Hardswish', ints=False),
    act('Hardshrink', Build(), Build(lambd=1.0), ints=False),
    act('Softshrink', Build(), Build(lambd=1.0), ints=False),
    act('Tanhshrink'),
    act('LogSigmoid', ints=False),
    act('Threshold', Build(0.1, 20.0)),
    act('Identity', Build(), Build(3, unused=4)),
    act('Softmax', Build(dim=1), Build(-1), zero_d=False, ints=False),
    act('LogSoftmax', Build(dim=1), Build(-1), zero_d=False, ints=False),
    act('Softmin', Build(dim=1), zero_d=False, ints=False),
    Mod('GLU', [Build(samples=[S(f32(3, 4)), S(f64(2, 4), gradcheck=True), S(f32(3, 5), error=True)]),
                Build(0, samples=[S(f32(4, 3))])]),
    Mod('PReLU', [Build(samples=[S(f32(2, 3, 4)), S(f32(3)), S(f64(2, 3), gradcheck=True)]),
                  Build(3, 0.1, samples=[S(f32(2, 3, 4)), S(f32(2, 4, 4), error=True)])]),
    Mod('Softmax2d', [Build(samples=[S(f32(2, 3, 2, 2)), S(f32(3, 2, 2)), S(f32(3, 4), error=True),
                                     S(f64(1, 2, 2, 2), gradcheck=True)])]),
)

# -- linear layers -------------------------------------------------------------------------------------------
add(
    Mod('Linear', [Build(4, 3, samples=[S(f32(2, 4)), S(f32(4)), S(f32(2, 5, 4)), S(f32(0, 4), desc='0-size'),
                                        S(f32(2, 5), error=True), S(f64(2, 4), gradcheck=True)]),
                   Build(4, 2, bias=False, samples=[S(f32(3, 4)), S(f64(3, 4), gradcheck=True)]),
                   Build(3, 0, samples=[S(f32(2, 3))]),
                   Build(2, 3, dtype=_dt('float64'), samples=[S(f64(2, 2))]),
                   Build(-1, 3, error=True)]),
    Mod('Bilinear', [Build(3, 2, 4, samples=[S(f32(5, 3), f32(5, 2)), S(f64(2, 3), f64(2, 2), gradcheck=True),
                                             S(f32(5, 3), f32(4, 2), error=True)]),
                     Build(2, 2, 1, bias=False, samples=[S(f32(3, 2), f32(3, 2)), S(f32(2, 3, 2), f32(2, 3, 2)),
                                                         S(f32(2), f32(2), desc='unbatched')])]),
)

# -- dropout ---------------------------------------------------------------------------------------------------
add(
    Mod('Dropout', [Build(modes=True, samples=[S(f32(4, 5)), S(f64(3, 4))]),
                    Build(0.2, samples=[S(f32(3, 4))]), Build(p=0.0, samples=[S(f32(2, 3))]),
                    Build(p=1.0, modes=True, samples=[S(f32(2, 3))]),
                    Build(p=1.5, error=True)]),
    Mod('Dropout1d', [Build(modes=True, samples=[S(f32(2, 3, 4)), S(f32(3, 4)), S(f32(1, 2, 3, 4), error=True)]),
                      Build(-0.1, error=True)]),
    Mod('Dropout2d', [Build(0.3, modes=True, samples=[S(f32(2, 3, 2, 2)), S(f32(3, 2, 2))]), Build(1.1, error=True)]),
    Mod('Dropout3d', [Build(modes=True, samples=[S(f32(1, 2, 2, 2, 2)), S(f32(2, 2, 2, 2))]), Build(2.0, error=True)]),
    Mod('AlphaDropout', [Build(0.2, modes=True, samples=[S(f32(4, 5)), S(f64(3, 4))]), Build(-1.0, error=True)]),
    Mod('FeatureAlphaDropout', [Build(0.2, modes=True, samples=[S(f32(2, 3, 2, 2))]), Build(1.5, error=True)]),
)


# -- normalisation -------------------------------------------------------------------------------------------
add(
    Mod('BatchNorm1d', [Build(3, modes=True, samples=[S(f32(4, 3)), S(f32(2, 3, 5)), S(f32(4, 4), error=True),
                                                      S(f64(4, 3), gradcheck=True)]),
                        Build(3, affine=False, momentum=None, modes=True, samples=[S(f32(4, 3)), S(f32(5, 3))]),
                        Build(2, track_running_stats=False, modes=True, samples=[S(f32(3, 2))]),
                        Build(3, eps=1e-3, momentum=0.5, samples=[S(f32(1, 3), error=True)])]),
    Mod('BatchNorm2d', [Build(2, modes=True, samples=[S(f32(3, 2, 2, 2)), S(f32(2, 2, 2), error=True),
                                                      S(f64(2, 2, 2, 1), gradcheck=True)])]),
    Mod('BatchNorm3d', [Build(2, modes=True, samples=[S(f32(2, 2, 2, 1, 2))])]),
    Mod('LayerNorm', [Build(4, samples=[S(f32(3, 4)), S(f32(2, 3, 4)), S(f32(0, 4), desc='0-size'),
                                        S(f32(3, 5), error=True), S(f64(2, 4), gradcheck=True)]),
                      Build([3, 4], elementwise_affine=False, samples=[S(f32(2, 3, 4))]),
                      Build(4, bias=False, eps=1e-3, samples=[S(f32(2, 4))])]),
    Mod('GroupNorm', [Build(2, 4, samples=[S(f32(2, 4, 3)), S(f32(2, 4)), S(f32(2, 3, 2), error=True),
                                           S(f64(2, 4, 2), gradcheck=True)]),
                      Build(1, 3, affine=False, samples=[S(f32(2, 3, 2, 2))]),
                      Build(3, 4, error=True)]),
    Mod('RMSNorm', [Build(4, samples=[S(f32(3, 4)), S(f32(0, 4), desc='0-size'), S(f32(3, 5), error=True),
                                      S(f64(2, 4), gradcheck=True)]),
                    Build([2, 3], eps=1e-5, elementwise_affine=False, samples=[S(f32(4, 2, 3))])]),
    Mod('InstanceNorm1d', [Build(3, samples=[S(f32(2, 3, 5)), S(f32(3, 5)), S(f32(5), error=True),
                                             S(f64(2, 3, 4), gradcheck=True)]),
                           Build(3, affine=True, track_running_stats=True, modes=True, samples=[S(f32(2, 3, 4))])]),
    Mod('InstanceNorm2d', [Build(2, samples=[S(f32(2, 2, 3, 3)), S(f32(2, 3, 3)), S(f32(3, 3), error=True)]),
                           Build(2, affine=True, samples=[S(f32(1, 2, 2, 3))])]),
    Mod('InstanceNorm3d', [Build(2, samples=[S(f32(1, 2, 2, 2, 2))])]),
    Mod('LocalResponseNorm', [Build(2, samples=[S(f32(2, 3, 4)), S(f32(1, 4, 2, 2)), S(f32(3, 4), error=True),
                                                S(f64(1, 3, 3), gradcheck=True)])]),
    # no gradcheck: PyTorch's own CrossMapLRN2d backward is Lua Torch's, not the derivative of its forward
    # (torch.autograd.gradcheck fails on it); the gradients are compared with PyTorch's instead
    Mod('CrossMapLRN2d', [Build(3, samples=[S(f32(2, 7, 3, 4)), S(f32(1, 2, 2, 2)), S(f32(2, 3, 4), error=True),
                                            S(f64(1, 3, 2, 2))]),
                          Build(5, alpha=0.5, beta=0.6, k=2.0, samples=[S(f32(2, 9, 2, 3)), S(f32(1, 4, 2, 2))]),
                          Build(2, alpha=0.3, samples=[S(f32(2, 6, 2, 2))])]),
)

# -- embeddings ------------------------------------------------------------------------------------------------
_IDX = np.array([[0, 2, 4], [3, 3, 1]], I64)
add(
    Mod('Embedding', [Build(5, 3, samples=[S(_IDX), S(np.array([], I64), desc='empty'), S(np.array(2, I64), desc='0-d'),
                                           S(np.array([5], I64), desc='out of range', error=True)]),
                      Build(5, 2, padding_idx=1, samples=[S(np.array([1, 0, 1], I64))]),
                      Build(6, 2, max_norm=1.0, samples=[S(np.array([0, 5, 3], I64))]),
                      Build(4, 3, padding_idx=5, error=True)]),
    Mod('EmbeddingBag', [Build(6, 3, samples=[S(np.array([[0, 2], [3, 5]], I64))]),
                         Build(6, 2, mode='sum', samples=[S(np.array([0, 1, 2, 4, 5], I64), np.array([0, 2], I64))]),
                         Build(6, 2, mode='max', samples=[S(np.array([[1, 2, 3]], I64))]),
                         Build(6, 2, mode='median', samples=[S(np.array([[1, 2]], I64), error=True)])]),
)


# -- losses ----------------------------------------------------------------------------------------------------
def _pair(*shape):
    return (f32(*shape), f32(*shape, seed=1))


def _reg(name, **kw):
    return Mod(name, [Build(samples=[S(*_pair(3, 4)), S(f64(2, 3), f64(2, 3, seed=1), gradcheck=True),
                                     S(f32(3, 4), f32(4, 4), error=True)]),
                      Build(reduction='sum', samples=[S(*_pair(3, 4))]),
                      Build(reduction='none', samples=[S(*_pair(2, 3))]),
                      Build(reduction='avg', samples=[S(*_pair(2, 3), error=True)])], **kw)


_TGT = np.array([1, 0, 3], I64)
_PROB = np.clip(np.abs(f32(3, 4, seed=2)) / 2, 0.05, 0.95).astype(F32)
add(
    _reg('MSELoss'), _reg('L1Loss'), _reg('SmoothL1Loss'), _reg('HuberLoss'),
    Mod('CrossEntropyLoss', [Build(samples=[S(f32(3, 4), _TGT), S(f32(4), np.array(2, I64), desc='unbatched'),
                                            S(f32(3, 4), _PROB, desc='probabilities'),
                                            S(f32(2, 4, 2), np.array([[0, 1], [3, 2]], I64), desc='k-dim'),
                                            S(f32(3, 4), np.array([1, 0, 7], I64), desc='bad target', error=True),
                                            S(f64(3, 4), _TGT, gradcheck=True)]),
                             Build(weight=f32(4, domain='positive'), ignore_index=0, label_smoothing=0.1,
                                   samples=[S(f32(3, 4), _TGT)]),
                             Build(reduction='none', samples=[S(f32(3, 4), _TGT)])]),
    Mod('NLLLoss', [Build(samples=[S(f32(3, 4), _TGT), S(f32(3, 4), np.array([1, 0], I64), error=True),
                                   S(f64(3, 4), _TGT, gradcheck=True)]),
                    Build(weight=f32(4, domain='positive'), reduction='sum', samples=[S(f32(3, 4), _TGT)])]),
    Mod('BCELoss', [Build(samples=[S(_PROB, _PROB[::-1].copy()), S(_PROB, _PROB[:2].copy(), error=True),
                                   S(_PROB.astype(F64), _PROB.astype(F64)[::-1].copy(), gradcheck=True)]),
                    Build(weight=f32(4, domain='positive'), samples=[S(_PROB, _PROB[::-1].copy())])]),
    Mod('BCEWithLogitsLoss', [Build(samples=[S(f32(3, 4), _PROB), S(f32(3, 4), _PROB[:2].copy(), error=True),
                                             S(f64(3, 4), _PROB.astype(F64), gradcheck=True)]),
                              Build(pos_weight=f32(4, domain='positive'), reduction='sum', samples=[S(f32(3, 4), _PROB)]),
                              Build(reduction='all', samples=[S(f32(3, 4), _PROB, error=True)])]),
    Mod('KLDivLoss', [Build(reduction='batchmean', samples=[S(np.log(_PROB), _PROB), S(np.log(_PROB), _PROB[:2].copy(),
                                                                                      error=True)]),
                      Build(log_target=True, samples=[S(f32(3, 4), f32(3, 4, seed=1)),
                                                      S(f64(2, 3), f64(2, 3, seed=1), gradcheck=True)])]),
)

# -- convolutions --------------------------------------------------------------------------------------------
add(
    Mod('Conv1d', [Build(2, 3, 3, samples=[S(f32(2, 2, 5)), S(f32(2, 5), desc='unbatched'), S(f32(0, 2, 5), desc='0-size'),
                                           S(f32(2, 3, 5), error=True), S(f32(2, 2, 5, 5), error=True),
                                           S(f64(1, 2, 4), gradcheck=True)]),
                   Build(4, 2, 2, stride=2, padding=1, dilation=2, groups=2, bias=False, samples=[S(f32(1, 4, 7))]),
                   Build(2, 2, 3, padding='same', padding_mode='reflect', samples=[S(f32(1, 2, 5))]),
                   Build(2, 2, 2, padding=1, padding_mode='circular', samples=[S(f32(1, 2, 4))]),
                   Build(3, 2, 2, groups=2, error=True), Build(2, 2, 3, padding='same', stride=2, error=True),
                   Build(2, 2, 3, padding_mode='mirror', error=True)]),
    Mod('Conv2d', [Build(2, 3, 3, samples=[S(f32(2, 2, 4, 4)), S(f32(2, 4, 4), desc='unbatched'),
                                           S(f32(0, 2, 4, 4), desc='0-size'), S(f32(2, 2, 2, 2), error=True),
                                           S(f32(4, 4), error=True), S(f64(1, 2, 3, 3), gradcheck=True)]),
                   Build(4, 4, (2, 3), stride=(2, 1), padding=(1, 0), groups=4, bias=False,
                         samples=[S(f32(1, 4, 5, 5)), S(f32(0, 4, 5, 5), desc='0-size')]),
                   Build(2, 2, 3, padding='same', padding_mode='replicate', samples=[S(f32(1, 2, 4, 3))]),
                   Build(2, 3, 3, padding='valid', dilation=2, samples=[S(f32(1, 2, 6, 5))]),
                   Build(2, 2, 2, padding_mode='zeros', dtype=_dt('float64'), samples=[S(f64(1, 2, 3, 3))])]),
    Mod('ConvTranspose1d', [Build(2, 3, 3, samples=[S(f32(2, 2, 4)), S(f32(2, 4), desc='unbatched'),
                                                    S(f32(2, 3, 4), error=True), S(f64(1, 2, 3), gradcheck=True)]),
                            Build(4, 2, 2, stride=2, padding=1, output_padding=1, groups=2, dilation=1,
                                  samples=[S(f32(1, 4, 3))]),
                            Build(2, 2, 2, stride=2, output_padding=2, samples=[S(f32(1, 2, 3), error=True)])]),
    Mod('ConvTranspose2d', [Build(2, 3, 3, samples=[S(f32(1, 2, 3, 3)), S(f32(2, 3, 3), desc='unbatched'),
                                                    S(f64(1, 2, 2, 2), gradcheck=True)]),
                            Build(2, 2, (2, 3), stride=2, padding=(1, 0), output_padding=(1, 0), bias=False,
                                  samples=[S(f32(1, 2, 3, 3))]),
                            Build(2, 2, 2, padding_mode='reflect', error=True)]),
)


# -- pooling ---------------------------------------------------------------------------------------------------
def _unpool(pool):
    """MaxUnpool fed the indices of the matching max_pool (kernel 2)."""
    def call(lib, module, x, **kwargs):
        y, idx = getattr(lib.nn.functional, pool)(x, 2, return_indices=True)
        return module(y, idx, **kwargs)
    return call


add(
    Mod('MaxPool1d', [Build(2, samples=[S(f32(2, 3, 5)), S(f32(3, 5), desc='unbatched'), S(f64(1, 2, 4), gradcheck=True),
                                        S(f32(5), error=True)]),
                      Build(3, stride=2, padding=1, dilation=1, ceil_mode=True, return_indices=True,
                            samples=[S(f32(1, 2, 6))]),
                      Build(2, padding=2, samples=[S(f32(1, 2, 6), error=True)])]),
    Mod('MaxPool2d', [Build(2, samples=[S(f32(2, 2, 4, 4)), S(f32(2, 4, 4), desc='unbatched'),
                                        S(f32(0, 2, 4, 4), desc='0-size'), S(f32(4, 4), error=True),
                                        S(f64(1, 1, 4, 4), gradcheck=True)]),
                      Build((2, 3), stride=(1, 2), padding=(1, 1), dilation=(1, 1), ceil_mode=True,
                            return_indices=True, samples=[S(f32(1, 2, 5, 5))])]),
    Mod('AvgPool1d', [Build(2, samples=[S(f32(2, 3, 5)), S(f32(3, 5), desc='unbatched'), S(f32(5), error=True),
                                        S(f64(1, 2, 4), gradcheck=True)]),
                      Build(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False, samples=[S(f32(1, 2, 6))])]),
    Mod('AvgPool2d', [Build(2, samples=[S(f32(2, 2, 4, 4)), S(f32(2, 4, 4), desc='unbatched'), S(f32(4, 4), error=True),
                                        S(f32(0, 2, 4, 4), desc='0-size'), S(f64(1, 1, 4, 4), gradcheck=True)]),
                      Build(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False, divisor_override=2,
                            samples=[S(f32(1, 2, 5, 5))])]),
    Mod('AdaptiveAvgPool1d', [Build(3, samples=[S(f32(2, 3, 7)), S(f32(3, 5), desc='unbatched'), S(f32(5), error=True),
                                                S(f64(1, 2, 5), gradcheck=True)])]),
    Mod('AdaptiveAvgPool2d', [Build((2, 3), samples=[S(f32(2, 2, 5, 7)), S(f32(2, 4, 4), desc='unbatched'),
                                                     S(f32(0, 2, 4, 4), desc='0-size'), S(f32(4), error=True),
                                                     S(f64(1, 1, 3, 4), gradcheck=True)]),
                              Build((None, 2), samples=[S(f32(1, 2, 3, 5))]), Build(1, samples=[S(f32(2, 3, 4, 4))])]),
    Mod('AdaptiveMaxPool1d', [Build(3, samples=[S(f32(2, 3, 7)), S(f32(3, 5), desc='unbatched'), S(f32(5), error=True),
                                                S(f64(1, 2, 5), gradcheck=True)]),
                              Build(2, return_indices=True, samples=[S(f32(1, 2, 5))])]),
    Mod('AdaptiveMaxPool2d', [Build((2, 3), samples=[S(f32(2, 2, 5, 7)), S(f32(2, 4, 4), desc='unbatched'),
                                                     S(f32(4), error=True),
                                                     S(f64(1, 1, 3, 4), gradcheck=True)]),
                              Build(2, return_indices=True, samples=[S(f32(1, 2, 4, 5))])]),
    Mod('LPPool1d', [Build(2, 2, samples=[S(f32(2, 3, 6, domain='positive')), S(f32(3, 6), desc='unbatched'),
                                          S(f32(6), error=True), S(f64(1, 2, 4, domain='positive'), gradcheck=True)]),
                     Build(1.5, 3, stride=1, ceil_mode=True, samples=[S(f32(1, 2, 5, domain='positive'))])]),
    Mod('LPPool2d', [Build(2, 2, samples=[S(f32(1, 2, 4, 4, domain='positive')), S(f32(4, 4), error=True),
                                          S(f64(1, 1, 4, 4, domain='positive'), gradcheck=True)]),
                     Build(3, (2, 1), stride=(1, 1), samples=[S(f32(1, 2, 3, 3, domain='positive'))])]),
    Mod('MaxUnpool1d', [Build(2, samples=[S(f32(2, 3, 6)), S(f32(3, 6), desc='unbatched'), S(f64(1, 2, 4), gradcheck=True)])],
        call=_unpool('max_pool1d')),
    Mod('MaxUnpool2d', [Build(2, samples=[S(f32(1, 2, 4, 4)), S(f64(1, 1, 4, 4), gradcheck=True)]),
                        Build(2, stride=2, padding=0, samples=[S(f32(2, 1, 4, 6))])], call=_unpool('max_pool2d')),
)


# -- padding ---------------------------------------------------------------------------------------------------
def _pad(kind, d):
    """``<kind>Pad<d>d`` with one int and one tuple padding: batched, unbatched and float64 (gradcheck) inputs."""
    sp, value = (3,) * d, (0.5,) if kind == 'Constant' else ()
    pad = (1, 2) * d if kind in ('Reflection', 'Circular') else tuple(range(1, 2 * d + 1))
    builds = [Build(1, *value, samples=[S(f32(2, 2, *sp)), S(f32(2, *sp), desc='unbatched'),
                                        S(f64(1, 1, *sp), gradcheck=True)]),
              Build(pad, *value, samples=[S(f32(1, 2, *sp))])]
    if kind == 'Reflection':
        builds.append(Build(3, samples=[S(f32(1, 1, *sp), error=True)]))
    if kind in ('Reflection', 'Replication', 'Circular'):
        builds[0].samples.append(S(f32(*sp[1:] or (3,)), desc='too few dims', error=True))
    return Mod(f'{kind}Pad{d}d', builds)


add(*[_pad(k, d) for k in ('Zero', 'Constant', 'Reflection', 'Replication', 'Circular') for d in (1, 2, 3)])


# -- shape, upsampling, pixel shuffle, distances -----------------------------------------------------------------
add(
    Mod('Flatten', [Build(samples=[S(f32(2, 3, 4)), S(f32(2, 3)), S(f32(2), error=True), S(f64(2, 2, 2), gradcheck=True)]),
                    Build(0, -1, samples=[S(f32(2, 3, 4)), S(f32(2))]), Build(1, 2, samples=[S(f32(2, 3, 4))])]),
    Mod('Unflatten', [Build(1, (2, 3), samples=[S(f32(4, 6)), S(f32(4, 5), error=True), S(f64(2, 6), gradcheck=True)]),
                      Build(-1, (2, -1), samples=[S(f32(3, 8))])]),
    Mod('PixelShuffle', [Build(2, samples=[S(f32(1, 8, 2, 3)), S(f32(4, 2, 2), desc='unbatched'),
                                           S(f32(1, 3, 2, 2), error=True), S(f64(1, 4, 2, 2), gradcheck=True)])]),
    Mod('PixelUnshuffle', [Build(2, samples=[S(f32(1, 2, 4, 6)), S(f32(1, 4, 6), desc='unbatched'),
                                             S(f32(1, 2, 3, 4), error=True), S(f64(1, 1, 4, 4), gradcheck=True)])]),
    Mod('ChannelShuffle', [Build(2, samples=[S(f32(1, 4, 2, 2)), S(f32(1, 3, 2), error=True)])]),
    Mod('Unfold', [Build(2, samples=[S(f32(2, 3, 5, 5)), S(f32(3, 4, 4), desc='unbatched'),
                                     S(f32(2, 3, 1, 5), error=True), S(f64(1, 2, 4, 4), gradcheck=True)]),
                   Build((2, 3), dilation=(1, 2), padding=1, stride=2, samples=[S(f32(2, 2, 6, 7))])]),
    Mod('Fold', [Build((5, 5), 2, samples=[S(f32(2, 12, 16)), S(f32(12, 16), desc='unbatched'),
                                           S(f32(2, 12, 15), error=True), S(f64(1, 8, 16), gradcheck=True)]),
                 Build((4, 5), (2, 3), padding=1, stride=(1, 2), samples=[S(f32(2, 12, 15))])]),
    Mod('Upsample', [Build(scale_factor=2, samples=[S(f32(1, 2, 3)), S(f32(1, 1, 2, 3)), S(f32(0, 1, 2, 3), desc='0-size'),
                                                    S(f32(3), error=True), S(f64(1, 1, 2, 2), gradcheck=True)]),
                     Build(size=(3, 5), mode='bilinear', samples=[S(f32(1, 2, 2, 3))]),
                     Build(scale_factor=1.5, mode='bilinear', align_corners=True, samples=[S(f32(1, 1, 3, 3))]),
                     Build(size=4, mode='linear', samples=[S(f32(1, 2, 3))]),
                     Build(scale_factor=2, mode='bicubic', samples=[S(f32(1, 1, 3, 3))]),
                     Build(scale_factor=2, mode='nearest-exact', samples=[S(f32(1, 1, 3, 3))]),
                     Build(scale_factor=2, mode='trilinear', samples=[S(f32(1, 1, 2, 2, 2)), S(f32(1, 2, 3), error=True)])]),
    Mod('UpsamplingNearest2d', [Build(scale_factor=2, samples=[S(f32(1, 2, 2, 3)), S(f32(2, 3), error=True),
                                                               S(f64(1, 1, 2, 2), gradcheck=True)]),
                                Build(size=(3, 4), samples=[S(f32(1, 1, 2, 2))])]),
    Mod('UpsamplingBilinear2d', [Build(scale_factor=2, samples=[S(f32(1, 2, 2, 3)), S(f32(1, 2, 3), error=True),
                                                                S(f64(1, 1, 2, 2), gradcheck=True)]),
                                 Build(size=(3, 4), samples=[S(f32(1, 1, 2, 2))])]),
    Mod('CosineSimilarity', [Build(samples=[S(*_pair(3, 4)), S(f64(2, 3), f64(2, 3, seed=1), gradcheck=True)]),
                             Build(dim=0, eps=1e-6, samples=[S(*_pair(3, 4)), S(f32(3, 4), f32(2, 4), error=True)])]),
    Mod('PairwiseDistance', [Build(samples=[S(*_pair(3, 4)), S(f32(4), f32(4, seed=1)), S(f32(3, 4), f32(3, 5), error=True),
                                            S(f64(2, 3), f64(2, 3, seed=1), gradcheck=True)]),
                             Build(p=1.0, eps=1e-3, keepdim=True, samples=[S(*_pair(3, 4))])]),
)

# -- more losses ---------------------------------------------------------------------------------------------------
_PM1 = np.array([1.0, -1.0, -1.0], F32)
_MLTGT = np.array([[3, 0, -1, 1], [1, 2, 3, -1]], I64)
_MULTI = (np.arange(8).reshape(2, 4) % 3 == 0).astype(F32)
add(
    Mod('GaussianNLLLoss', [Build(samples=[S(f32(3, 4), f32(3, 4, seed=1), f32(3, 4, domain='positive')),
                                           S(f32(3, 4), f32(3, 4, seed=1), f32(3, 1, domain='positive'), desc='shared var'),
                                           S(f32(3, 4), f32(3, 4, seed=1), -f32(3, 4, domain='positive'), desc='negative var', error=True),
                                           S(f64(2, 3), f64(2, 3, seed=1), f64(2, 3, domain='positive'), gradcheck=True)]),
                            Build(full=True, eps=1e-3, reduction='sum',
                                  samples=[S(f32(3, 4), f32(3, 4, seed=1), f32(3, 4, domain='positive'))])]),
    Mod('PoissonNLLLoss', [Build(samples=[S(f32(3, 4), f32(3, 4, domain='positive')),
                                          S(f32(3, 4), f32(2, 4, domain='positive'), error=True),
                                          S(f64(2, 3), f64(2, 3, domain='positive'), gradcheck=True)]),
                           Build(log_input=False, full=True, reduction='none',
                                 samples=[S(f32(3, 4, domain='positive'), f32(3, 4, domain='positive', seed=1))])]),
    Mod('HingeEmbeddingLoss', [Build(samples=[S(f32(3), _PM1), S(f32(4), _PM1, error=True),
                                              S(f64(3), _PM1.astype(F64), gradcheck=True)]),
                               Build(margin=0.5, reduction='sum', samples=[S(f32(3), _PM1)])]),
    Mod('SoftMarginLoss', [Build(samples=[S(f32(3), _PM1, grad=(0,)), S(f32(4), _PM1, grad=(0,), error=True),
                                          S(f64(3), _PM1.astype(F64), grad=(0,), gradcheck=True)])]),
    Mod('MarginRankingLoss', [Build(samples=[S(f32(3), f32(3, seed=1), _PM1), S(f32(3), f32(4, seed=1), _PM1, error=True),
                                             S(f64(3), f64(3, seed=1), _PM1.astype(F64), gradcheck=True)]),
                              Build(margin=0.3, reduction='none', samples=[S(f32(3), f32(3, seed=1), _PM1)])]),
    Mod('CosineEmbeddingLoss', [Build(samples=[S(f32(3, 4), f32(3, 4, seed=1), _PM1),
                                               S(f32(3, 4), f32(3, 4, seed=1), _PM1[:2].copy(), error=True),
                                               S(f64(3, 4), f64(3, 4, seed=1), _PM1.astype(F64), gradcheck=True)]),
                                Build(margin=0.2, reduction='sum', samples=[S(f32(3, 4), f32(3, 4, seed=1), _PM1)])]),
    Mod('MultiMarginLoss', [Build(samples=[S(f32(3, 4), _TGT), S(f32(3, 4), _TGT[:2].copy(), error=True),
                                           S(f64(3, 4), _TGT, gradcheck=True)]),
                            Build(p=2, margin=0.5, weight=f32(4, domain='positive'), samples=[S(f32(3, 4), _TGT)]),
                            Build(p=3, error=True)]),
    Mod('MultiLabelMarginLoss', [Build(samples=[S(f32(2, 4), _MLTGT), S(f64(2, 4), _MLTGT, gradcheck=True)])]),
    Mod('MultiLabelSoftMarginLoss', [Build(samples=[S(f32(2, 4), _MULTI), S(f32(3, 4), _MULTI, error=True),
                                                    S(f64(2, 4), _MULTI.astype(F64), gradcheck=True)]),
                                     Build(weight=f32(4, domain='positive'), samples=[S(f32(2, 4), _MULTI)])]),
    Mod('TripletMarginLoss', [Build(samples=[S(f32(3, 4), f32(3, 4, seed=1), f32(3, 4, seed=2)),
                                             S(f32(3, 4), f32(3, 5, seed=1), f32(3, 4, seed=2), error=True),
                                             S(f64(2, 3), f64(2, 3, seed=1), f64(2, 3, seed=2), gradcheck=True)]),
                              Build(margin=0.5, p=1.0, swap=True, reduction='sum',
                                    samples=[S(f32(3, 4), f32(3, 4, seed=1), f32(3, 4, seed=2))])]),
    Mod('TripletMarginWithDistanceLoss', [Build(samples=[S(f32(3, 4), f32(3, 4, seed=1), f32(3, 4, seed=2)),
                                                         S(f64(2, 3), f64(2, 3, seed=1), f64(2, 3, seed=2), gradcheck=True)]),
                                          Build(margin=0.5, swap=True,
                                                samples=[S(f32(3, 4), f32(3, 4, seed=1), f32(3, 4, seed=2))])]),
    Mod('NLLLoss2d', [Build(samples=[S(f32(2, 3, 2, 2), np.array([[[0, 1], [2, 0]], [[1, 1], [0, 2]]], I64)),
                                     S(f32(2, 3, 2, 2), np.array([[[0, 1], [2, 0]]], I64), error=True)])]),
)


# -- recurrent layers ------------------------------------------------------------------------------------------
def _packed(lib, module, x, lengths, *rest):
    """The module fed a PackedSequence (unsorted lengths); its output unpacked too, to compare the padding."""
    packed = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
    out, h = module(packed, *rest)
    return out, lib.nn.utils.rnn.pad_packed_sequence(out)[0], h


_LEN = np.array([3, 5, 2], I64)


def _rnn(name, extra_builds=(), **kw):
    """RNN, LSTM or GRU: one layer on (L, N, H_in), unbatched and 0-batch input, with h0 (and c0), float64
    gradcheck; two bidirectional batch_first layers; inter-layer dropout under a seed; packed sequences."""
    def state(*shape, seed=0):
        return (f32(*shape, seed=seed), f32(*shape, seed=seed + 1)) if name == 'LSTM' else f32(*shape, seed=seed)
    h64 = (f64(1, 2, 4, seed=3), f64(1, 2, 4, seed=4)) if name == 'LSTM' else f64(1, 2, 4, seed=3)
    return Mod(name, [
        Build(3, 4, samples=[S(f32(5, 2, 3)), S(f32(5, 3), desc='unbatched'), S(f32(5, 0, 3), desc='0-batch'),
                             S(f32(5, 2, 3), state(1, 2, 4, seed=3), desc='with h0'),
                             S(f32(5, 2, 2), error=True), S(f32(2, 5, 2, 3), error=True),
                             S(f64(3, 2, 3), h64, gradcheck=True)]),
        Build(3, 4, num_layers=2, bias=False, batch_first=True, bidirectional=True,
              samples=[S(f32(2, 5, 3)), S(f32(2, 5, 3), state(4, 2, 4, seed=3), desc='with h0'),
                       S(f32(2, 5, 3), state(2, 2, 4, seed=3), desc='h0 of 2 layers', error=True)]),
        Build(2, 3, num_layers=2, dropout=0.5, modes=True, samples=[S(f32(4, 2, 2))]),
        Build(2, 3, samples=[S(f32(5, 3, 2), _LEN)], call=_packed, desc='packed'),
        Build(2, 3, dropout=1.5, error=True), Build(0, 3, num_layers=0, error=True),
        *extra_builds], **kw)


add(
    _rnn('RNN', [Build(3, 4, nonlinearity='relu', samples=[S(f32(4, 2, 3))]),
                 Build(3, 4, nonlinearity='sigmoid', error=True)]),
    _rnn('LSTM', [Build(3, 4, proj_size=2, num_layers=2, bidirectional=True,
                        samples=[S(f32(4, 2, 3)), S(f32(4, 2, 3), (f32(4, 2, 2), f32(4, 2, 4, seed=1)), desc='with h0 c0'),
                                 S(f64(3, 1, 3), gradcheck=True)]),
                  Build(3, 4, proj_size=4, error=True)]),
    _rnn('GRU', [Build(3, 4, proj_size=2, error=True)]),
    Mod('RNNCell', [Build(3, 4, samples=[S(f32(2, 3)), S(f32(3), desc='unbatched'), S(f32(2, 3), f32(2, 4, seed=1)),
                                         S(f32(2, 2), error=True), S(f64(2, 3), f64(2, 4), gradcheck=True)]),
                    Build(3, 4, bias=False, nonlinearity='relu', samples=[S(f32(2, 3))]),
                    Build(3, 4, nonlinearity='gelu', samples=[S(f32(2, 3), error=True)])]),
    Mod('LSTMCell', [Build(3, 4, samples=[S(f32(2, 3)), S(f32(3), desc='unbatched'),
                                          S(f32(2, 3), (f32(2, 4, seed=1), f32(2, 4, seed=2))),
                                          S(f32(2, 3, 1), error=True),
                                          S(f64(2, 3), (f64(2, 4, seed=1), f64(2, 4, seed=2)), gradcheck=True)]),
                     Build(3, 4, bias=False, samples=[S(f32(2, 3))])]),
    Mod('GRUCell', [Build(3, 4, samples=[S(f32(2, 3)), S(f32(3), desc='unbatched'), S(f32(2, 3), f32(2, 4, seed=1)),
                                         S(f64(2, 3), f64(2, 4, seed=1), gradcheck=True)]),
                    Build(3, 4, bias=False, samples=[S(f32(2, 3))])]),
)


# -- attention and transformers --------------------------------------------------------------------------------
def _qkv(L, S_, N, E, kd=None, vd=None, dtype=F32, batch_first=False):
    def shape(n, d):
        return ((N, n, d) if batch_first else (n, N, d)) if N else (n, d)
    mk = f64 if dtype == F64 else f32
    return mk(*shape(L, E)), mk(*shape(S_, kd or E), seed=1), mk(*shape(S_, vd or E), seed=2)


_CAUSAL = np.triu(np.full((3, 3), -np.inf, F32), 1)
_PAD = np.array([[False, False, True, False], [False, False, False, False]])
_QKV = (0, 1, 2)   # the inputs that require grad (masks do not)
add(
    Mod('MultiheadAttention', [
        Build(4, 2, samples=[S(*_qkv(3, 4, 2, 4)), S(*_qkv(3, 4, 0, 4), desc='unbatched'),
                             S(*_qkv(3, 4, 2, 4), need_weights=False), S(*_qkv(3, 4, 2, 4), average_attn_weights=False),
                             S(*_qkv(3, 4, 2, 4), key_padding_mask=_PAD, attn_mask=np.ones((3, 4), bool) & ~np.eye(3, 4, dtype=bool),
                               desc='bool masks'),
                             S(*_qkv(3, 3, 2, 4), attn_mask=_CAUSAL, grad=_QKV, desc='float mask'),
                             S(*_qkv(3, 3, 2, 4), attn_mask=_CAUSAL, is_causal=True, grad=_QKV, desc='is_causal'),
                             S(*_qkv(3, 4, 2, 3), error=True),
                             S(*_qkv(3, 4, 2, 4, dtype=F64), gradcheck=True)]),
        Build(4, 2, kdim=3, vdim=5, batch_first=True, samples=[S(*_qkv(3, 4, 2, 4, 3, 5, batch_first=True))]),
        Build(4, 1, bias=False, add_bias_kv=True, add_zero_attn=True, samples=[S(*_qkv(2, 3, 2, 4))]),
        Build(4, 2, dropout=0.5, modes=True, samples=[S(*_qkv(2, 3, 1, 4))]),
        Build(5, 2, error=True)]),
    Mod('TransformerEncoderLayer', [
        Build(4, 2, 8, 0.0, samples=[S(f32(3, 2, 4)), S(f32(3, 4), desc='unbatched'),
                                     S(f32(3, 2, 4), src_mask=_CAUSAL, grad=(0,)),
                                     S(f32(3, 2, 4), src_mask=_CAUSAL, is_causal=True, grad=(0,), desc='is_causal'),
                                     S(f32(4, 2, 4), src_key_padding_mask=_PAD), S(f32(3, 2, 5), error=True),
                                     S(f64(2, 1, 4), gradcheck=True)]),
        Build(4, 2, 8, 0.0, activation='gelu', batch_first=True, norm_first=True, layer_norm_eps=1e-3, bias=False,
              modes=True, samples=[S(f32(2, 3, 4))]),
        Build(4, 2, dim_feedforward=6, modes=True, samples=[S(f32(3, 2, 4))], desc='dropout 0.1'),
        Build(4, 2, 8, 0.0, activation='swish', error=True)]),
    Mod('TransformerDecoderLayer', [
        Build(4, 2, 8, 0.0, samples=[S(f32(3, 2, 4), f32(5, 2, 4, seed=1)), S(f32(3, 4), f32(5, 4, seed=1), desc='unbatched'),
                                     S(f32(3, 2, 4), f32(4, 2, 4, seed=1), tgt_mask=_CAUSAL,
                                       memory_key_padding_mask=_PAD, grad=(0, 1)),
                                     S(f32(3, 2, 4), f32(5, 2, 4, seed=1), tgt_mask=_CAUSAL, tgt_is_causal=True,
                                       grad=(0, 1), desc='tgt_is_causal'),
                                     S(f64(2, 1, 4), f64(3, 1, 4, seed=1), gradcheck=True)]),
        Build(4, 2, 8, 0.0, activation='gelu', batch_first=True, norm_first=True,
              samples=[S(f32(2, 3, 4), f32(2, 4, 4, seed=1))]),
        Build(4, 2, dim_feedforward=6, modes=True, samples=[S(f32(3, 2, 4), f32(2, 2, 4, seed=1))], desc='dropout 0.1')]),
    Mod('TransformerEncoder', [
        Build(Sub('TransformerEncoderLayer', 4, 2, 8, 0.0), 2,
              samples=[S(f32(3, 2, 4)), S(f32(3, 2, 4), mask=_CAUSAL, grad=(0,)),
                       S(f32(4, 2, 4), src_key_padding_mask=_PAD), S(f64(2, 1, 4), gradcheck=True)]),
        Build(Sub('TransformerEncoderLayer', 4, 2, 8, 0.0, batch_first=True), 1, norm=Sub('LayerNorm', 4),
              enable_nested_tensor=False, modes=True, samples=[S(f32(2, 3, 4))])]),
    Mod('TransformerDecoder', [
        Build(Sub('TransformerDecoderLayer', 4, 2, 8, 0.0), 2,
              samples=[S(f32(3, 2, 4), f32(5, 2, 4, seed=1)),
                       S(f32(3, 2, 4), f32(4, 2, 4, seed=1), tgt_mask=_CAUSAL, memory_key_padding_mask=_PAD, grad=(0, 1)),
                       S(f64(2, 1, 4), f64(3, 1, 4, seed=1), gradcheck=True)]),
        Build(Sub('TransformerDecoderLayer', 4, 2, 8, 0.0), 1, norm=Sub('LayerNorm', 4),
              samples=[S(f32(3, 2, 4), f32(5, 2, 4, seed=1))])]),
    Mod('Transformer', [
        Build(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8, dropout=0.0,
              samples=[S(f32(5, 2, 4), f32(3, 2, 4, seed=1)), S(f32(5, 4), f32(3, 4, seed=1), desc='unbatched'),
                       S(f32(5, 2, 4), f32(3, 2, 4, seed=1), tgt_mask=_CAUSAL, src_key_padding_mask=np.zeros((2, 5), bool),
                         grad=(0, 1), desc='masks'),
                       S(f32(5, 2, 4), f32(3, 3, 4), error=True),
                       S(f64(3, 1, 4), f64(2, 1, 4, seed=1), gradcheck=True)]),
        Build(d_model=4, nhead=1, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=6, batch_first=True,
              norm_first=True, modes=True, samples=[S(f32(2, 5, 4), f32(2, 3, 4, seed=1))], desc='dropout 0.1'),
        Build(d_model=4, nhead=3, error=True)]),
)


# -- containers, parameters, the base classes ------------------------------------------------------------------
def _seq_probe(lib, m):
    """Sequential's indexing, slicing, len, iteration and in-place edits (each step's repr compared)."""
    got = [m[0], m[-1], m[1:], m[::2], len(m), [type(c).__name__ for c in m], [n for n, _ in m.named_children()]]
    m.append(lib.nn.Tanh())
    m.insert(1, lib.nn.Identity())
    m.extend([lib.nn.Sigmoid()])
    got += [repr(m), len(m), repr(m.pop(1)), repr(m)]
    del m[-1]
    m[1] = lib.nn.ReLU6()
    return got + [repr(m), repr(m + lib.nn.Sequential(lib.nn.ReLU()))]


def _list_probe(lib, m):
    got = [m[0], m[-1], m[1:], len(m), [type(c).__name__ for c in m]]
    m.append(lib.nn.Tanh())
    m.insert(0, lib.nn.Identity())
    m.extend([lib.nn.Sigmoid(), lib.nn.ReLU()])
    got += [repr(m), len(m), m.index(m[2]) if hasattr(m, 'index') else None, repr(m.pop(0))]
    del m[1:3]
    return got + [repr(m), repr(m + lib.nn.ModuleList([lib.nn.ReLU()]))]


def _dict_probe(lib, m):
    got = [list(m.keys()), [type(v).__name__ for v in m.values()], [k for k, _ in m.items()], m['b'], 'a' in m, len(m)]
    m.update({'c': lib.nn.Tanh()})
    m['d'] = lib.nn.Identity()
    got += [repr(m), repr(m.pop('a')), list(m)]
    del m['b']
    return got + [repr(m)]


def _plist_probe(lib, m):
    lib.manual_seed(2)
    got = [m[0], len(m), [tuple(p.shape) for p in m]]
    m.append(lib.nn.Parameter(lib.randn(2)))
    m.extend([lib.nn.Parameter(lib.ones(1, 2, dtype=lib.float64))])
    return got + [repr(m), len(m), list(dict(m.named_parameters())), m[-1]]


def _pdict_probe(lib, m):
    lib.manual_seed(2)
    got = [list(m.keys()), m['w'], 'w' in m, len(m)]
    m['u'] = lib.nn.Parameter(lib.randn(3))
    m.update({'v': lib.nn.Parameter(lib.zeros(1))})
    got += [repr(m), list(m), repr(m.pop('w'))]
    return got + [repr(m), list(dict(m.named_parameters()))]


def _param_probe(lib, p):
    """A Parameter's type, flags and reprs, and what ops on it return."""
    import copy
    q = copy.deepcopy(p)
    return [type(p).__name__, repr(p), p.requires_grad, p.is_leaf, type(p.data).__name__, type(p * 1).__name__,
            repr(p * 1) if p.requires_grad else None, type(q).__name__, repr(q), type(p.detach()).__name__]


def _buffer_probe(lib, b):
    m = lib.nn.Module()
    m.kept = b
    m.dropped = lib.nn.Buffer(lib.ones(2), persistent=False)
    m.register_buffer('plain', lib.zeros(1))
    return [type(b).__name__, repr(b), type(m.kept).__name__, list(dict(m.named_buffers())), list(m.state_dict())]


def _module_probe(lib, m):
    """The Module base: registration, traversal, modes, conversions and state_dict round trip."""
    lib.manual_seed(2)
    m.fc = lib.nn.Linear(2, 3)
    m.register_buffer('steps', lib.zeros(1))
    m.register_parameter('scale', lib.nn.Parameter(lib.ones(3)))
    m.add_module('act', lib.nn.ReLU())
    m.register_module('drop', lib.nn.Dropout(0.2))
    got = [repr(m), [n for n, _ in m.named_modules()], [n for n, _ in m.named_parameters()],
           list(m.state_dict()), m.training, m.get_submodule('fc'), m.get_parameter('fc.bias')]
    m.eval()
    got += [[c.training for c in m.modules()], m.train().training]
    m.requires_grad_(False)
    got += [[p.requires_grad for p in m.parameters()]]
    sd = m.state_dict()
    other = lib.nn.Linear(2, 3)
    got += [str(other.load_state_dict({k[3:]: v for k, v in sd.items() if k.startswith('fc.')})),
            other.weight, str(m.double().scale.dtype), repr(m.float().fc.weight.dtype)]
    del m.act
    m.fc = None
    return got + [repr(m), list(m.state_dict())]


_HIDE = {'Parameter', 'Buffer'}   # built objects that are tensors, not modules
add(
    Mod('Sequential', [Build(Sub('Linear', 3, 4), Sub('ReLU'), Sub('Linear', 4, 2),
                             samples=[S(f32(2, 3)), S(f32(2, 2), error=True), S(f64(2, 3), gradcheck=True)],
                             probe=_seq_probe, desc='Linear ReLU Linear'),
                       Build(samples=[S(f32(2, 3))]),
                       Build(Sub('Conv2d', 1, 2, 3, padding=1), Sub('BatchNorm2d', 2), Sub('ReLU'), Sub('MaxPool2d', 2),
                             Sub('Flatten'), Sub('Linear', 8, 3), modes=True, samples=[S(f32(2, 1, 4, 4))],
                             desc='a small CNN')]),
    Mod('ModuleList', [Build([Sub('Linear', 2, 2), Sub('ReLU'), Sub('Dropout', 0.5)], probe=_list_probe,
                             samples=[S(f32(2, 2), error=True)]),
                       Build()]),
    Mod('ModuleDict', [Build({'a': Sub('Linear', 2, 2), 'b': Sub('ReLU')}, probe=_dict_probe,
                             samples=[S(f32(2, 2), error=True)]),
                       Build()]),
    Mod('ParameterList', [Build([Sub('Parameter', f32(2, 3)), Sub('Parameter', f32(3), requires_grad=False)],
                                probe=_plist_probe), Build()]),
    Mod('ParameterDict', [Build({'w': Sub('Parameter', f32(2, 2)), 'b': Sub('Parameter', f64(2))}, probe=_pdict_probe),
                          Build()]),
    Mod('Parameter', [Build(f32(2, 3), probe=_param_probe), Build(f64(3), requires_grad=False, probe=_param_probe),
                      Build(probe=_param_probe), Build(i64(3), error=True)]),
    Mod('Buffer', [Build(f32(2, 3), probe=_buffer_probe), Build(i64(3), persistent=False, probe=_buffer_probe)]),
    Mod('Module', [Build(probe=_module_probe, samples=[S(f32(2), error=True)])]),
    Mod('Container', [Build(a=Sub('Linear', 2, 2), b=Sub('Tanh'), samples=[S(f32(2), error=True)])]),
    Mod('RNNBase', [Build('LSTM', 3, 4, samples=[S(f32(5, 2, 3), error=True)]),
                    Build('GRU', 3, 4, num_layers=2, bidirectional=True), Build('RNN_TANH', 2, 3, bias=False),
                    Build('FOO', 3, 4, error=True)]),
    Mod('RNNCellBase', [Build(3, 4, True, 4, samples=[S(f32(2, 3), error=True)]), Build(3, 2, False, 1)]),
    Mod('SyncBatchNorm', [Build(3, modes=True, samples=[S(f32(4, 3)), S(f32(2, 3, 2)), S(f64(4, 3), gradcheck=True)]),
                          Build(2, affine=False, track_running_stats=False, samples=[S(f32(3, 2, 2, 2))])]),
    Mod('DataParallel', [Build(Sub('Linear', 3, 2), samples=[S(f32(2, 3)), S(f32(2, 4), error=True),
                                                          S(f64(2, 3), gradcheck=True)])]),
    Mod('RReLU', [Build(modes=True, samples=[S(f32(3, 4)), S(f32(0, 2), desc='0-size')]),
                  Build(0.1, 0.3, samples=[S(f64(2, 3))]), Build(0.5, 0.1, samples=[S(f32(2, 2), error=True)])]),
)


# -- 3-d convolution and pooling ---------------------------------------------------------------------------------
add(
    Mod('Conv3d', [Build(2, 3, 2, samples=[S(f32(1, 2, 3, 3, 3)), S(f32(2, 3, 3, 3), desc='unbatched'),
                                           S(f32(0, 2, 3, 3, 3), desc='0-size'), S(f32(1, 3, 3, 3, 3), error=True),
                                           S(f32(2, 3, 3), error=True), S(f64(1, 2, 2, 2, 3), gradcheck=True)]),
                   Build(4, 2, (2, 1, 2), stride=(2, 1, 1), padding=1, dilation=(1, 2, 1), groups=2, bias=False,
                         samples=[S(f32(1, 4, 3, 4, 3))]),
                   Build(2, 2, 3, padding='same', padding_mode='circular', samples=[S(f32(1, 2, 3, 3, 3))]),
                   Build(3, 2, 2, groups=2, error=True)]),
    Mod('MaxPool3d', [Build(2, samples=[S(f32(1, 2, 4, 4, 4)), S(f32(2, 4, 4, 4), desc='unbatched'),
                                        S(f32(4, 4), error=True), S(f64(1, 1, 2, 4, 4), gradcheck=True)]),
                      Build((2, 1, 2), stride=1, padding=(1, 0, 1), dilation=(1, 1, 2), ceil_mode=True,
                            return_indices=True, samples=[S(f32(1, 2, 3, 3, 4))]),
                      Build(2, padding=2, samples=[S(f32(1, 1, 4, 4, 4), error=True)])]),
    Mod('AvgPool3d', [Build(2, samples=[S(f32(1, 2, 4, 4, 4)), S(f32(2, 4, 4, 4), desc='unbatched'),
                                        S(f32(4, 4), error=True), S(f64(1, 1, 2, 4, 4), gradcheck=True)]),
                      Build(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False, divisor_override=3,
                            samples=[S(f32(1, 2, 5, 4, 5))])]),
    Mod('AdaptiveAvgPool3d', [Build((2, 3, 1), samples=[S(f32(1, 2, 5, 7, 3)), S(f32(2, 4, 4, 4), desc='unbatched'),
                                                        S(f32(0, 2, 4, 4, 4), desc='0-size'), S(f32(4, 4), error=True),
                                                        S(f64(1, 1, 3, 4, 2), gradcheck=True)]),
                              Build((None, 2, None), samples=[S(f32(1, 2, 3, 5, 2))]),
                              Build(1, samples=[S(f32(2, 3, 2, 2, 2))])]),
)


# -- lazy modules: parameters made at the first call (from the input's size), drawn as their eager class draws them
def _lazy_probe(lib, m):
    """A lazy module before its first call: its parameters are uninitialized, has_uninitialized_params."""
    return [m.has_uninitialized_params(), [type(p).__name__ for p in m.parameters()],
            [type(b).__name__ for b in m.buffers()]]


def _lazy_then(lib, module, x):
    """The first call (on a fresh draw of the seed) turns the module into its eager class: the output, then the
    materialized parameters and buffers, the class and repr."""
    lib.manual_seed(4)
    y = module(x)
    return [y, type(module).__name__, repr(module), [p.detach() for p in module.parameters()],
            list(module.state_dict())]


add(
    Mod('LazyLinear', [Build(3, probe=_lazy_probe, samples=[S(f32(2, 4))]),
                       Build(2, bias=False, probe=_lazy_probe, samples=[S(f64(3, 5))])],
        call=_lazy_then, grad=False),
    Mod('LazyConv1d', [Build(3, 2, probe=_lazy_probe, samples=[S(f32(2, 2, 5))]),
                       Build(4, 2, stride=2, padding=1, groups=2, bias=False, samples=[S(f32(1, 4, 6))]),
                       Build(4, 2, groups=3, samples=[S(f32(1, 4, 6), error=True)])], call=_lazy_then, grad=False),
    Mod('LazyConv2d', [Build(3, 2, probe=_lazy_probe, samples=[S(f32(1, 2, 4, 4))]),
                       Build(2, (2, 1), padding='same', dilation=2, samples=[S(f32(3, 4, 3))])],
        call=_lazy_then, grad=False),
    Mod('LazyConv3d', [Build(2, 2, probe=_lazy_probe, samples=[S(f32(1, 2, 3, 3, 3))])], call=_lazy_then, grad=False),
    Mod('LazyBatchNorm1d', [Build(probe=_lazy_probe, modes=True, samples=[S(f32(4, 3))]),
                            Build(affine=False, momentum=0.5, samples=[S(f32(3, 2, 4))]),
                            Build(track_running_stats=False, affine=False, probe=_lazy_probe,
                                  samples=[S(f32(3, 2))])], call=_lazy_then, grad=False),
    Mod('LazyBatchNorm2d', [Build(probe=_lazy_probe, modes=True, samples=[S(f32(2, 3, 2, 2)),
                                                                          S(f32(3, 2, 2), error=True)])],
        call=_lazy_then, grad=False),
    Mod('LazyBatchNorm3d', [Build(eps=1e-3, probe=_lazy_probe, samples=[S(f32(2, 2, 2, 1, 2))])],
        call=_lazy_then, grad=False),
)


def _uninit_probe(lib, p):
    """An uninitialized parameter or buffer: its type, flags, what it refuses, and materialize()."""
    got = [type(p).__name__, p.requires_grad, isinstance(p, lib.Tensor), _raises(lambda: p.shape),
           _raises(lambda: p + 1), _raises(lambda: p.data_ptr())]
    p.materialize((2, 3))
    got += [type(p).__name__, tuple(p.shape), str(p.dtype), p.requires_grad]
    with lib.no_grad():
        p.fill_(0.5)   # materialize leaves the memory uninitialized, as torch.empty does
    return got


def _raises(fn):
    """The exception type fn raises (or what it returns)."""
    try:
        return fn()
    except Exception as e:   # compared with PyTorch's
        return type(e).__name__


add(
    Mod('UninitializedParameter', [Build(probe=_uninit_probe), Build(requires_grad=False, probe=_uninit_probe),
                                   Build(dtype=_dt('float64'), probe=_uninit_probe)]),
    Mod('UninitializedBuffer', [Build(probe=_uninit_probe), Build(requires_grad=True, probe=_uninit_probe),
                                Build(dtype=_dt('float64'), probe=_uninit_probe)]),
)
add(*__import__('registry')._linalg_pool.modules(globals()))   # tests/registry_linalg_pool.py's modules
