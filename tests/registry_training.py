"""The registry's entries for training code: the optimizers of ``torch.optim``, the schedulers of
``torch.optim.lr_scheduler``, ``torch.optim.swa_utils``, ``torch.nn.init`` and ``torch.nn.utils``, as data
(no torch import: tools/supported.py reads them). tests/test_registry_training.py runs them against PyTorch.

Three kinds: ``Optim`` (constructor options stepped on the same parameters and gradients in both libraries),
``Sched`` (a scheduler's lr sequence and state) and ``Call`` (any function: ``case(lib)`` returns what is
compared). Callables receive the library (``torch`` or ``ember``) as ``lib``.
"""
import collections
import importlib

import numpy as np

CHECKS_TRAINING = {'state': 'S'}   # state_dict layout and values equal to PyTorch's, loadable both ways


class Optim:
    """One optimizer class. ``configs``: constructor options, each run for ``steps`` steps on two float32
    parameters (one group, then two groups with the second's own lr) with the same gradients in both libraries;
    ``errors``: options PyTorch refuses (at construction or first step), ember must raise the same type;
    ``closure``: step needs a closure (LBFGS); ``shapes``: of the parameters; ``sparse``: the gradients are
    sparse COO, rows of them (as nn.Embedding(sparse=True) makes), set directly or by the closure."""
    kind = 'optim'

    def __init__(self, name, configs, errors=(), steps=4, closure=False, gaps=None, rtol=1e-5, atol=1e-6,
                 shapes=((3, 4), (5,)), sparse=False):
        self.name, self.configs, self.errors, self.steps = name, list(configs), list(errors), steps
        self.closure, self.gaps, self.rtol, self.atol, self.shapes = closure, dict(gaps or {}), rtol, atol, shapes
        self.sparse = sparse

    @property
    def id(self):
        return f'optim.{self.name}'

    def checks(self):
        got = {'forward', 'state', 'dtypes'} if 'forward' not in self.gaps else set()
        if self.errors:
            got.add('errors')
        return got - set(self.gaps)

    def names(self):
        return {f'torch.optim.{self.name}': self.checks()}

    def options(self):
        """Every constructor option this entry exercises or refuses as PyTorch does."""
        return {k for c in self.configs + self.errors for k in c}


class Sched:
    """One scheduler class: ``makes`` is {desc: make(lib, optimizer) -> scheduler}; each is stepped ``steps``
    times on each optimizer of ``opts`` ((name, kwargs) pairs) with two param groups, comparing the lrs (and
    momenta/betas) of every group, get_last_lr and state_dict after each step. ``metrics``: the values passed to
    ``step`` (ReduceLROnPlateau); ``errors``: {desc: make} PyTorch refuses, ember must raise the same type."""
    kind = 'sched'

    def __init__(self, name, makes, steps=30, opts=(('SGD', {'lr': 0.1, 'momentum': 0.9}),), metrics=None,
                 errors=None, gaps=None, ns='optim.lr_scheduler'):
        self.name, self.makes, self.steps, self.opts, self.metrics = name, dict(makes), steps, list(opts), metrics
        self.ns = ns
        self.errors, self.gaps = dict(errors or {}), dict(gaps or {})

    @property
    def id(self):
        return f'{self.ns.replace("optim.", "")}.{self.name}'

    def checks(self):
        got = {'forward', 'state'}
        if self.errors:
            got.add('errors')
        return got - set(self.gaps)

    def names(self):
        return {f'torch.{self.ns}.{self.name}': self.checks()}


class Case:
    """One call of a ``Call`` entry: ``fn(lib)`` returns what is compared (tensors, numbers, lists of them).
    ``error``: PyTorch raises, ember must raise the same type; ``unsupported``: ember refuses naming it."""
    def __init__(self, desc, fn, error=False, unsupported=None):
        self.desc, self.fn, self.error, self.unsupported = desc, fn, error, unsupported


class Call:
    """One function, class, constant or submodule of ``ns`` ('' for the top level) checked through ``cases`` (Case list). ``seed``: each case runs right
    after ``manual_seed(seed)`` and compares bit for bit (``exact``) or to rounding (atol/rtol)."""
    kind = 'call'

    def __init__(self, ns, name, cases, seed=None, exact=False, atol=1e-6, rtol=1e-5, gaps=None):
        self.ns, self.name, self.cases, self.seed, self.exact = ns, name, list(cases), seed, exact
        self.atol, self.rtol = (0.0, 0.0) if exact else (atol, rtol)
        self.gaps = dict(gaps or {})

    @property
    def id(self):
        return f'{self.ns}.{self.name}' if self.ns else self.name

    def checks(self):
        got = {'forward'}
        if any(c.error for c in self.cases):
            got.add('errors')
        return got - set(self.gaps)

    def names(self):
        """``ns`` '' is the top level (``torch.save``), 'Tensor' the Tensor class (``torch.Tensor.__iter__``)."""
        return {'.'.join(p for p in ('torch', self.ns, self.name) if p): self.checks()}


# -- optimizers ------------------------------------------------------------------------------------------
ERR_LR = dict(lr=-0.1)


def TENSOR_LR(lib):
    """A tensor learning rate (PyTorch accepts ``lr: float | Tensor``)."""
    return lib.tensor(0.01)


OPTIMS = [
    Optim('SGD', [dict(lr=0.1), dict(lr=TENSOR_LR, momentum=0.9), dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
                  dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True), dict(lr=0.1, momentum=0.5, foreach=True),
                  dict(lr=0.1, momentum=0.5, fused=True)],
          errors=[ERR_LR, dict(lr=0.1, momentum=-0.5), dict(lr=0.1, weight_decay=-1.0),
                  dict(lr=0.1, nesterov=True), dict(lr=0.1, momentum=0.9, dampening=0.5, nesterov=True),
                  dict(lr=0.1, differentiable=True)]),
    Optim('Adam', [dict(lr=0.01), dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, amsgrad=True),
                   dict(lr=0.01, maximize=True, foreach=True), dict(lr=0.01, fused=True),
                   dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), dict(lr=TENSOR_LR)],
          errors=[ERR_LR, dict(betas=(1.0, 0.9)), dict(betas=(0.9, -0.1)), dict(eps=-1.0), dict(weight_decay=-1.0),
                  dict(capturable=True), dict(differentiable=True), dict(fused=True, foreach=True)]),
    Optim('AdamW', [dict(lr=0.01), dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, amsgrad=True),
                    dict(lr=0.01, maximize=True, foreach=True), dict(lr=0.01, fused=True)],
          errors=[ERR_LR, dict(betas=(0.9, 1.0)), dict(eps=-1.0), dict(weight_decay=-1.0), dict(capturable=True),
                  dict(differentiable=True)]),
    Optim('Adagrad', [dict(lr=0.1), dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5,
                                         eps=1e-6), dict(lr=0.1, maximize=True, foreach=True), dict(lr=0.1, fused=True)],
          errors=[ERR_LR, dict(lr_decay=-1.0), dict(weight_decay=-1.0), dict(initial_accumulator_value=-1.0),
                  dict(eps=-1.0), dict(differentiable=True)]),
    Optim('RMSprop', [dict(lr=0.01), dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5,
                                          centered=True), dict(lr=0.01, maximize=True, foreach=True)],
          errors=[ERR_LR, dict(alpha=-0.1), dict(eps=-1.0), dict(momentum=-1.0), dict(weight_decay=-1.0),
                  dict(capturable=True), dict(differentiable=True)]),
    Optim('Adadelta', [dict(), dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1), dict(maximize=True, foreach=True)],
          errors=[ERR_LR, dict(rho=1.5), dict(eps=-1.0), dict(weight_decay=-1.0), dict(capturable=True),
                  dict(differentiable=True)]),
    Optim('Adamax', [dict(), dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1),
                     dict(maximize=True, foreach=True)],
          errors=[ERR_LR, dict(betas=(1.0, 0.9)), dict(eps=-1.0), dict(weight_decay=-1.0), dict(capturable=True),
                  dict(differentiable=True)]),
    Optim('NAdam', [dict(), dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, momentum_decay=0.01),
                    dict(weight_decay=0.1, decoupled_weight_decay=True), dict(maximize=True, foreach=True)],
          errors=[ERR_LR, dict(betas=(1.0, 0.9)), dict(eps=-1.0), dict(weight_decay=-1.0), dict(momentum_decay=-1.0),
                  dict(capturable=True), dict(differentiable=True)]),
    Optim('RAdam', [dict(), dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1),
                    dict(weight_decay=0.1, decoupled_weight_decay=True), dict(maximize=True, foreach=True)],
          steps=8,
          errors=[ERR_LR, dict(betas=(1.0, 0.9)), dict(eps=-1.0), dict(weight_decay=-1.0), dict(capturable=True),
                  dict(differentiable=True)]),
    Optim('ASGD', [dict(), dict(lr=0.05, lambd=0.01, alpha=0.5, t0=2, weight_decay=0.1),
                   dict(maximize=True, foreach=True)],
          errors=[ERR_LR, dict(weight_decay=-1.0), dict(capturable=True), dict(differentiable=True)]),
    Optim('Rprop', [dict(), dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)), dict(maximize=True, foreach=True)],
          errors=[ERR_LR, dict(etas=(1.5, 1.2)), dict(etas=(0.5, 0.9)), dict(capturable=True),
                  dict(differentiable=True)]),
    Optim('SparseAdam', [dict(), dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, maximize=True)], sparse=True,
          errors=[dict(lr=0.0), dict(betas=(1.0, 0.9)), dict(betas=(0.9, 1.0)), dict(eps=-1.0)]),
    Optim('LBFGS', [dict(lr=0.5, max_iter=4), dict(lr=1, max_iter=5, max_eval=7, tolerance_grad=1e-9,
                                                   tolerance_change=1e-11, history_size=3),
                    dict(max_iter=5, line_search_fn='strong_wolfe')],
          closure=True, steps=3, rtol=1e-4, atol=1e-5,
          errors=[ERR_LR, dict(line_search_fn='armijo')]),
    Optim('Adafactor', [dict(), dict(lr=0.05, beta2_decay=-0.5, eps=(1e-30, 1e-2), d=2.0, weight_decay=0.1),
                        dict(maximize=True, foreach=True)],
          errors=[ERR_LR, dict(beta2_decay=0.5), dict(eps=(-1.0, 1e-3)), dict(d=-1.0), dict(weight_decay=-1.0)]),
    Optim('Muon', shapes=((3, 4), (4, 2)), configs=[dict(), dict(lr=0.02, weight_decay=0.01, momentum=0.9, nesterov=False,
                                ns_coefficients=(3.0, -3.2, 1.2), eps=1e-6, ns_steps=3),
                   dict(adjust_lr_fn='match_rms_adamw')],
          errors=[ERR_LR, dict(adjust_lr_fn='no_such_fn'), dict(momentum=-0.5), dict(weight_decay=-1.0)]),
]


# -- schedulers ------------------------------------------------------------------------------------------
def _s(name, *a, **k):
    """make(lib, opt) for ``lib.optim.lr_scheduler.name(opt, *a, **k)``."""
    return lambda lib, opt: getattr(lib.optim.lr_scheduler, name)(opt, *a, **k)


def _seq(lib, opt):
    L = lib.optim.lr_scheduler
    return L.SequentialLR(opt, [L.LinearLR(opt, 0.1, total_iters=4), L.ExponentialLR(opt, 0.9),
                                L.StepLR(opt, 3, 0.5)], milestones=[5, 12])


def _chain(lib, opt):
    L = lib.optim.lr_scheduler
    return L.ChainedScheduler([L.ConstantLR(opt, 0.5, total_iters=4), L.ExponentialLR(opt, 0.9)], optimizer=opt)


CYCLE_OPTS = (('SGD', {'lr': 0.1, 'momentum': 0.9}), ('Adam', {'lr': 0.01}))   # momentum, then betas[0], cycles
PLATEAU_METRICS = [1.0, 0.9, 0.9, 0.95, 0.9, 0.9, 0.91, 0.92, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5,
                   0.5, 0.5, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.4, 0.4, 0.4, 0.4]

SCHEDS = [
    Sched('StepLR', {'3 0.5': _s('StepLR', 3, 0.5)}, errors={'gamma given twice': _s('StepLR', 3, 0.5, gamma=0.5)}),
    Sched('MultiStepLR', {'[2,5,5,11]': _s('MultiStepLR', [2, 5, 5, 11], 0.5)}),
    Sched('ConstantLR', {'default': _s('ConstantLR'), '0.5 7': _s('ConstantLR', 0.5, 7)},
          errors={'factor 2': _s('ConstantLR', 2.0)}),
    Sched('LinearLR', {'default': _s('LinearLR'), '0.2 0.9 10': _s('LinearLR', 0.2, 0.9, 10)},
          errors={'start 0': _s('LinearLR', 0.0), 'end 2': _s('LinearLR', 0.5, 2.0)}),
    Sched('ExponentialLR', {'0.9': _s('ExponentialLR', 0.9)}),
    Sched('PolynomialLR', {'default': _s('PolynomialLR'), '10 2.0': _s('PolynomialLR', 10, 2.0)}),
    Sched('CosineAnnealingLR', {'T_max 7': _s('CosineAnnealingLR', 7, 0.01)}),
    Sched('CosineAnnealingWarmRestarts', {'3 2 0.01': _s('CosineAnnealingWarmRestarts', 3, 2, 0.01)},
          errors={'T_0 0': _s('CosineAnnealingWarmRestarts', 0), 'T_mult 0': _s('CosineAnnealingWarmRestarts', 3, 0)}),
    Sched('LambdaLR', {'one lambda': _s('LambdaLR', lambda e: 0.95 ** e),
                       'per group': _s('LambdaLR', [lambda e: 0.9 ** e, lambda e: 1 / (e + 1)])},
          errors={'wrong count': _s('LambdaLR', [lambda e: 1.0] * 3)}),
    Sched('MultiplicativeLR', {'0.95': _s('MultiplicativeLR', lambda e: 0.95)}),
    Sched('SequentialLR', {'linear exp step': _seq}),
    Sched('ChainedScheduler', {'constant exp': _chain}),
    Sched('CyclicLR', {'triangular': _s('CyclicLR', 0.01, 0.1, step_size_up=4),
                       'triangular2 down': _s('CyclicLR', [0.01, 0.02], 0.1, step_size_up=3, step_size_down=5,
                                              mode='triangular2'),
                       'exp_range': _s('CyclicLR', 0.01, 0.1, step_size_up=4, mode='exp_range', gamma=0.9,
                                       base_momentum=0.7, max_momentum=0.95),
                       'scale_fn iterations': _s('CyclicLR', 0.01, 0.1, step_size_up=4, scale_fn=lambda x: 0.9 ** x,
                                                 scale_mode='iterations', cycle_momentum=False)},
          errors={'bad mode': _s('CyclicLR', 0.01, 0.1, mode='nope')}, opts=CYCLE_OPTS),
    Sched('OneCycleLR', {'cos': _s('OneCycleLR', 0.5, total_steps=34),
                         'linear three_phase': _s('OneCycleLR', [0.5, 0.2], epochs=4, steps_per_epoch=9,
                                                  anneal_strategy='linear', three_phase=True, pct_start=0.2,
                                                  div_factor=10, final_div_factor=100),
                         'no momentum': _s('OneCycleLR', 0.5, total_steps=35, cycle_momentum=False,
                                           base_momentum=0.8, max_momentum=0.9)},
          errors={'no total': _s('OneCycleLR', 0.5), 'pct_start 2': _s('OneCycleLR', 0.5, 30, pct_start=2.0),
                  'bad strategy': _s('OneCycleLR', 0.5, 30, anneal_strategy='exp')}, opts=CYCLE_OPTS),
    Sched('ReduceLROnPlateau', {'default patience 2': _s('ReduceLROnPlateau', patience=2),
                                'max abs cooldown': _s('ReduceLROnPlateau', 'max', 0.5, 1, 0.05, 'abs', 2, 0.01),
                                'min_lr per group': _s('ReduceLROnPlateau', factor=0.5, patience=0,
                                                       min_lr=[0.05, 0.001], eps=1e-3)},
          metrics=PLATEAU_METRICS,
          errors={'factor 1': _s('ReduceLROnPlateau', factor=1.0), 'bad mode': _s('ReduceLROnPlateau', 'avg'),
                  'bad threshold_mode': _s('ReduceLROnPlateau', threshold_mode='x')}),
]


# -- nn.init, nn.utils, swa_utils --------------------------------------------------------------------------
def _vals(shape, seed=0, scale=1.0):
    """Deterministic float32 values of ``shape``."""
    return (np.random.default_rng(seed).uniform(-1, 1, shape) * scale).astype(np.float32)


def _init(name, *a, shape=(3, 5), dtype='float32', gen=None, **k):
    """fn(lib): ``nn.init.name`` applied to an empty tensor; whether it returns its input, and the values."""
    def fn(lib):
        t = lib.empty(*shape, dtype=getattr(lib, dtype))
        extra = {'generator': lib.Generator().manual_seed(gen)} if gen is not None else {}
        out = getattr(lib.nn.init, name)(t, *a, **k, **extra)
        return [out is t, str(t.dtype), t.float() if dtype == 'bfloat16' else t]   # PyTorch's numpy() lacks bf16
    return fn


def _inits(name, cases, errors=None, exact=True):
    """A seeded, bit-exact ``Call`` entry of nn.init from {desc: fn} and {desc: fn} PyTorch refuses.
    ``exact=False``: equal to rounding (orthogonal_'s QR runs in NumPy's LAPACK, PyTorch's in its own)."""
    return Call('nn.init', name, [Case(d, f) for d, f in cases.items()] +
                [Case(d, f, error=True) for d, f in (errors or {}).items()], seed=7, exact=exact)


def _gain(*a):
    return lambda lib: lib.nn.init.calculate_gain(*a)


INITS = [
    Call('nn.init', 'calculate_gain', [Case(n, _gain(n)) for n in (
        'linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d',
        'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu')] +
        [Case('leaky_relu 0.2', _gain('leaky_relu', 0.2)), Case('leaky_relu 3', _gain('leaky_relu', 3)),
         Case('bogus', _gain('bogus'), error=True), Case('leaky_relu True', _gain('leaky_relu', True), error=True),
         Case('leaky_relu str', _gain('leaky_relu', 'x'), error=True)]),
    _inits('uniform_', {'default': _init('uniform_'), '-2 3 f64': _init('uniform_', -2.0, 3.0, dtype='float64'),
                        'generator': _init('uniform_', gen=3), '0-size': _init('uniform_', shape=(0, 3))}),
    _inits('normal_', {'default': _init('normal_'), '1 0.5 f64': _init('normal_', 1.0, 0.5, dtype='float64'),
                       'generator': _init('normal_', gen=3), 'large 17': _init('normal_', shape=(17,))}),
    _inits('trunc_normal_', {'default': _init('trunc_normal_'),
                             'skewed f64': _init('trunc_normal_', 0.2, 2.0, -1.0, 0.5, dtype='float64'),
                             'generator': _init('trunc_normal_', gen=3)}),
    _inits('constant_', {'0.3': _init('constant_', 0.3), 'int': _init('constant_', 2, dtype='int64')}),
    _inits('ones_', {'f32': _init('ones_')}),
    _inits('zeros_', {'f32': _init('zeros_')}),
    _inits('eye_', {'3x5': _init('eye_'), '5x3': _init('eye_', shape=(5, 3))}, {'3-d': _init('eye_', shape=(2, 2, 2))}),
    _inits('dirac_', {'3-d': _init('dirac_', shape=(4, 3, 3)), '4-d groups 2': _init('dirac_', 2, shape=(4, 2, 3, 3)),
                      '5-d': _init('dirac_', shape=(2, 2, 1, 1, 3))},
           {'2-d': _init('dirac_', shape=(3, 3)), 'groups 3': _init('dirac_', 3, shape=(4, 2, 3))}),
    _inits('xavier_uniform_', {'default': _init('xavier_uniform_'), 'gain conv': _init('xavier_uniform_', 2.0,
                                                                                        shape=(4, 2, 3, 3)),
                               'generator': _init('xavier_uniform_', gen=3)},
           {'1-d': _init('xavier_uniform_', shape=(4,))}),
    _inits('xavier_normal_', {'default': _init('xavier_normal_'), 'gain conv': _init('xavier_normal_', 0.5,
                                                                                      shape=(4, 2, 3))},
           {'1-d': _init('xavier_normal_', shape=(4,))}),
    _inits('kaiming_uniform_', {'default': _init('kaiming_uniform_'),
                                'a fan_out relu': _init('kaiming_uniform_', 0.1, 'fan_out', 'relu', shape=(4, 2, 3)),
                                'tanh': _init('kaiming_uniform_', nonlinearity='tanh'),
                                'generator': _init('kaiming_uniform_', gen=3)},
           {'bad mode': _init('kaiming_uniform_', mode='fan_middle'), '1-d': _init('kaiming_uniform_', shape=(4,)),
            'bad nonlinearity': _init('kaiming_uniform_', nonlinearity='swish')}),
    _inits('kaiming_normal_', {'default': _init('kaiming_normal_'),
                               'fan_out f64': _init('kaiming_normal_', mode='fan_out', dtype='float64')},
           {'bad mode': _init('kaiming_normal_', mode='fan')}),
    _inits('orthogonal_', {'3x5': _init('orthogonal_'), '5x3 gain': _init('orthogonal_', 2.0, shape=(5, 3)),
                           '4-d': _init('orthogonal_', shape=(2, 3, 2, 2)), 'generator': _init('orthogonal_', gen=3)},
           {'1-d': _init('orthogonal_', shape=(4,))}, exact=False),
    _inits('sparse_', {'0.5': _init('sparse_', 0.5, shape=(6, 3)), '0.2 std': _init('sparse_', 0.2, 0.5, shape=(5, 4)),
                       'generator': _init('sparse_', 0.5, gen=3)},
           {'3-d': _init('sparse_', 0.5, shape=(2, 2, 2))}),
] + [_inits(old, {'deprecated': _init(old, *a)}) for old, a in (
    ('uniform', ()), ('normal', ()), ('constant', (0.5,)), ('eye', ()), ('dirac', ()), ('xavier_uniform', ()),
    ('xavier_normal', ()), ('kaiming_uniform', ()), ('kaiming_normal', ()), ('sparse', (0.5,)))
    if old != 'dirac'] + [_inits('dirac', {'deprecated': _init('dirac', shape=(2, 2, 3))}),
                          _inits('orthogonal', {'deprecated': _init('orthogonal')}, exact=False)]


def _grads(lib, shapes=((3, 4), (5,)), dtype='float32', nan=False, none=False):
    """Parameters with gradients set (a NaN in the first with ``nan``; a last parameter without one with ``none``)."""
    params = [lib.tensor(_vals(s, i), dtype=getattr(lib, dtype), requires_grad=True) for i, s in enumerate(shapes)]
    for i, p in enumerate(params):
        g = _vals(tuple(p.shape), 10 + i, scale=3.0)
        if nan and i == 0:
            g[0, 0] = np.nan
        p.grad = lib.tensor(g, dtype=getattr(lib, dtype))
    if none:
        params.append(lib.tensor(_vals((2,), 9), requires_grad=True))
    return params


def _clip(name, *a, grads={}, single=False, **k):
    """fn(lib): ``nn.utils.name(params, *a, **k)``: its result and every gradient after."""
    def fn(lib):
        params = _grads(lib, **grads)
        out = getattr(lib.nn.utils, name)(params[0] if single else params, *a, **k)
        return [out, [p.grad for p in params]]
    return fn


def _norm(*a, **k):
    def fn(lib):
        return lib.nn.utils.get_total_norm([p.grad for p in _grads(lib)], *a, **k)
    return fn


def _with_norm(lib):
    params = _grads(lib)
    total = lib.nn.utils.get_total_norm([p.grad for p in params])
    out = lib.nn.utils.clip_grads_with_norm_(params, 1.0, total)
    return [out, [p.grad for p in params]]


def _to_vec(lib):
    params = _grads(lib)
    vec = lib.nn.utils.parameters_to_vector(params)
    vec.sum().backward()   # the vector is a differentiable view of the parameters
    return [vec, [p.grad for p in params]]


def _from_vec(lib):
    params = _grads(lib)
    out = lib.nn.utils.vector_to_parameters(lib.arange(17.0), params)
    return [out, [p.detach() for p in params]]


def _skip_init(lib):
    """skip_init draws nothing from the random stream: the next draw is the one without it."""
    m = lib.nn.utils.skip_init(lib.nn.Linear, 3, 4, bias=False)
    return [tuple(m.weight.shape), m.weight.requires_grad, lib.rand(3)]



def _layer(lib, kind):
    """A small Linear or Conv1d and an input for it (the layer's values come from the seeded stream)."""
    if kind == 'conv':
        return lib.nn.Conv1d(2, 3, 3), lib.tensor(_vals((2, 2, 5), 1))
    return lib.nn.Linear(3, 4), lib.tensor(_vals((2, 3), 1))


def _trained(lib, m, x, name):
    """What a weight-normalised layer shows: repr, state_dict keys, the tensor's grad_fn, its output and every
    parameter's gradient after a backward."""
    y = m(x)
    y.sin().sum().backward()
    return [repr(m), list(m.state_dict()), type(getattr(m, name).grad_fn).__name__, y,
            [(n, p.grad) for n, p in m.named_parameters()]]


def _wn_hook(kind='linear', **k):
    """fn(lib): the deprecated ``nn.utils.weight_norm`` (FutureWarning), trained, scaled and removed."""
    def fn(lib):
        m, x = _layer(lib, kind)
        name = k.get('name', 'weight')
        out = lib.nn.utils.weight_norm(m, **k)
        got = [out is m] + _trained(lib, m, x, name)
        with lib.no_grad():
            getattr(m, name + '_g').mul_(2.0)
        got.append(m(x))   # the pre-hook recomputes the weight before each forward
        lib.nn.utils.remove_weight_norm(m, name)
        t = getattr(m, name)
        return got + [list(m.state_dict()), type(t).__name__, t.grad_fn is None, t, m(x)]
    return fn


def _wn_twice(lib):
    m = lib.nn.utils.weight_norm(lib.nn.Linear(2, 2))
    return lib.nn.utils.weight_norm(m)


def _wn_param(kind='linear', **k):
    """fn(lib): ``nn.utils.parametrizations.weight_norm``, trained, then ``remove_parametrizations``."""
    def fn(lib):
        m, x = _layer(lib, kind)
        out = lib.nn.utils.parametrizations.weight_norm(m, **k)
        got = [out is m, type(m).__name__] + _trained(lib, m, x, k.get('name', 'weight'))
        lib.nn.utils.parametrize.remove_parametrizations(m, k.get('name', 'weight'))
        return got + [type(m).__name__, repr(m), list(m.state_dict()), m.weight, m(x)]
    return fn


def _wn_compat(lib):
    """A state dict of the hook form (weight_g, weight_v) loads into the parametrized form."""
    old = lib.nn.utils.weight_norm(lib.nn.Linear(3, 4))
    new = lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(3, 4))
    result = new.load_state_dict(old.state_dict())
    return [list(result.missing_keys), list(result.unexpected_keys), new.weight, old.weight]


def _wn_gradcheck(dim):
    """float64 gradcheck of the weight-norm parametrization, w(g, v), by finite differences."""
    def fn(lib):
        v = lib.tensor(_vals((3, 4), 2).astype(np.float64), requires_grad=True)
        g = lib.tensor(_vals(() if dim is None else (3, 1) if dim == 0 else (1, 4), 3).astype(np.float64),
                       requires_grad=True)
        wn = lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(4, 3, dtype=lib.float64), dim=dim)
        return lib.autograd.gradcheck(wn.parametrizations.weight[0], (g, v))
    return fn


def _symmetric(lib):
    """A parametrization class (defined in either library): a symmetric matrix from its upper triangle."""
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()
    return Symmetric()


def _parametrize(lib):
    """register_parametrization: the subclass, repr, keys, value, gradient of the original, assignment through
    right_inverse, a chained second parametrization, cached(), and both forms of removal."""
    P = lib.nn.utils.parametrize
    m = lib.nn.Linear(3, 3)
    out = P.register_parametrization(m, 'weight', _symmetric(lib))
    got = [out is m, type(m).__name__, P.type_before_parametrizations(m).__name__, repr(m), list(m.state_dict()),
           P.is_parametrized(m), P.is_parametrized(m, 'weight'), P.is_parametrized(m, 'bias'), m.weight,
           type(m.weight.grad_fn).__name__]
    m(lib.tensor(_vals((2, 3), 1))).sum().backward()
    got.append(m.parametrizations.weight.original.grad)
    m.weight = lib.tensor(_vals((3, 3), 4))
    got += [m.parametrizations.weight.original, m.weight]
    P.register_parametrization(m, 'weight', _symmetric(lib))
    got.append(repr(m))
    with P.cached():
        got.append(m.weight is m.weight)
    got.append(m.weight is m.weight)
    P.remove_parametrizations(m, 'weight', leave_parametrized=False)
    got += [type(m).__name__, list(m.state_dict()), hasattr(m, 'parametrizations'), m.weight, type(m.weight).__name__]
    return got


def _parametrize_buffer(lib):
    """A parametrized buffer stays a buffer; removal leaves the parametrized value."""
    P = lib.nn.utils.parametrize
    m = lib.nn.BatchNorm1d(3)
    with lib.no_grad():
        m.running_mean.copy_(lib.tensor([1.0, -2.0, 3.0]))

    class Square(lib.nn.Module):
        def forward(self, X):
            return X * X
    P.register_parametrization(m, 'running_mean', Square())
    got = [list(m.state_dict()), [n for n, _ in m.named_buffers()], m.running_mean]
    P.remove_parametrizations(m, 'running_mean')
    return got + [list(m.state_dict()), m.running_mean]


def _shape_changing(lib):
    class Drop(lib.nn.Module):
        def forward(self, X):
            return X[:, :1]
    return lib.nn.utils.parametrize.register_parametrization(lib.nn.Linear(2, 3), 'weight', Drop())


def _transfer(lib):
    P = lib.nn.utils.parametrize
    a = P.register_parametrization(lib.nn.Linear(3, 3), 'weight', _symmetric(lib))
    b = P.transfer_parametrizations_and_params(a, lib.nn.Linear(3, 3))
    return [type(b).__name__, list(b.state_dict()), b.weight, a.weight]



def _cached(lib):
    """Inside cached() a parametrized tensor is computed once (the same object each access), outside every time."""
    P = lib.nn.utils.parametrize
    m = P.register_parametrization(lib.nn.Linear(3, 3), 'weight', _symmetric(lib))
    with P.cached():
        inside = [m.weight is m.weight]
        with P.cached():
            inside.append(m.weight is m.weight)
        inside.append(m.weight is m.weight)
    return inside + [m.weight is m.weight, m.weight]


def _is_parametrized(lib):
    P = lib.nn.utils.parametrize
    m = lib.nn.Linear(3, 3)
    before = [P.is_parametrized(m), P.is_parametrized(m, 'weight'), P.type_before_parametrizations(m).__name__]
    P.register_parametrization(m, 'weight', _symmetric(lib))
    return before + [P.is_parametrized(m), P.is_parametrized(m, 'weight'), P.is_parametrized(m, 'bias'),
                     P.type_before_parametrizations(m).__name__, type(m).__name__]


def _parametrization_list(lib):
    """A ParametrizationList on its own: its original, repr and value."""
    w = lib.nn.Parameter(lib.tensor(_vals((3, 3), 6)))
    pl = lib.nn.utils.parametrize.ParametrizationList([_symmetric(lib)], w)
    return [repr(pl), list(pl.state_dict()), pl.is_tensor, pl.ntensors, pl(), pl.original is w]



def _sn_param(kind='linear', name='weight', **k):
    """fn(lib): ``nn.utils.parametrizations.spectral_norm``: its u, v (drawn by normal_ under the seed, then 15
    power iterations), a training step (one more iteration), the eval-mode value, and removal."""
    def fn(lib):
        m, x = {'conv': lambda: (lib.nn.Conv1d(2, 3, 3), lib.tensor(_vals((2, 2, 5), 1))),
                'convT': lambda: (lib.nn.ConvTranspose1d(2, 3, 3), lib.tensor(_vals((2, 2, 5), 1))),
                'linear': lambda: (lib.nn.Linear(3, 4), lib.tensor(_vals((2, 3), 1)))}[kind]()
        lib.nn.utils.parametrizations.spectral_norm(m, name, **k)
        sn = m.parametrizations[name][0]
        got = [repr(m), list(m.state_dict()), [(n, b) for n, b in sn.named_buffers()], getattr(sn, 'dim', None)]
        y = m(x)
        y.sin().sum().backward()
        got += [y, type(getattr(m, name).grad_fn).__name__, m.parametrizations[name].original.grad,
                [(n, b) for n, b in sn.named_buffers()]]
        m.eval()
        got.append(m(x))
        lib.nn.utils.parametrize.remove_parametrizations(m, name)
        return got + [list(m.state_dict()), getattr(m, name)]
    return fn


def _orth(shape=(3, 3), orthogonal_map=None, use_trivialization=True):
    """fn(lib): ``nn.utils.parametrizations.orthogonal``: the module's repr, the orthogonalised weight, two SGD
    steps (outputs, the weight and the unconstrained original after them) and removal."""
    def fn(lib):
        lin = lib.nn.Linear(shape[1], shape[0])
        lib.nn.utils.parametrizations.orthogonal(lin, orthogonal_map=orthogonal_map,
                                                 use_trivialization=use_trivialization)
        got = [repr(lin), lin.weight, list(lin.state_dict())]
        opt = lib.optim.SGD(lin.parameters(), lr=0.1)
        x = lib.tensor(_vals((2, shape[1]), 1))
        for _ in range(2):
            opt.zero_grad()
            y = lin(x)
            (y ** 3).sum().backward()
            opt.step()
            got.append(y)
        got += [lin.weight, lin.parametrizations.weight.original, type(lin.weight.grad_fn).__name__]
        lib.nn.utils.parametrize.remove_parametrizations(lin, 'weight')
        got.append(lin.weight)
        return got
    return fn


def _orth_assign(lib):
    """matrix_exp without trivialization has no right inverse: assigning the weight raises."""
    lin = lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), use_trivialization=False)
    lin.weight = lib.eye(3)


def _sn_gradcheck(lib):
    """float64 gradcheck of W / sigma(W) (eval mode: u and v fixed) by finite differences."""
    m = lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(4, 3, dtype=lib.float64)).eval()
    w = lib.tensor(_vals((3, 4), 2).astype(np.float64), requires_grad=True)
    return lib.autograd.gradcheck(m.parametrizations.weight[0], (w,))



def _sn_hook(kind='linear', **k):
    """fn(lib): the hook form ``nn.utils.spectral_norm``: weight_orig/weight_u/weight_v and the version in the
    state dict's metadata, a training step (one power iteration), eval mode, a reload, and removal."""
    def fn(lib):
        m, x = {'convT': lambda: (lib.nn.ConvTranspose1d(2, 3, 3), lib.tensor(_vals((2, 2, 5), 1))),
                'linear': lambda: (lib.nn.Linear(3, 4), lib.tensor(_vals((2, 3), 1)))}[kind]()
        out = lib.nn.utils.spectral_norm(m, **k)
        sd = m.state_dict()
        got = [out is m, repr(m), list(sd), dict(sd._metadata['']), m.weight_u, m.weight_v, type(m.weight).__name__]
        y = m(x)
        y.sin().sum().backward()
        got += [y, type(m.weight.grad_fn).__name__, m.weight_orig.grad, m.weight_u, m.weight_v]
        m.eval()
        got.append(m(x))
        again = lib.nn.utils.spectral_norm(type(m)(*([3, 4] if kind == 'linear' else [2, 3, 3])), **k)
        result = again.load_state_dict(m.state_dict())
        got += [list(result.missing_keys), again.weight_v]
        lib.nn.utils.remove_spectral_norm(m)
        return got + [list(m.state_dict()), type(m.weight).__name__, m.weight]
    return fn


def _sn_version0(lib):
    """A version-0 state dict (weight, weight_orig, weight_u; no weight_v and no version) loads: v is solved for."""
    m = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 4))
    old = {k: v.clone() for k, v in m.state_dict().items() if k != 'weight_v'}
    old['weight'] = m.weight.detach().clone()
    new = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 4))
    result = new.load_state_dict(old)
    return [list(result.missing_keys), list(result.unexpected_keys), new.weight_v]


def _sn_twice(lib):
    return lib.nn.utils.spectral_norm(lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2)))


def _bn(lib, n, dims=2, affine=True):
    """A BatchNorm (eval mode) with running statistics and affine parameters away from their defaults."""
    bn = getattr(lib.nn, f'BatchNorm{dims}d')(n, affine=affine).eval()
    bn.running_mean.copy_(lib.tensor(_vals((n,), 11)))
    bn.running_var.copy_(lib.tensor(_vals((n,), 12)).abs() + 0.5)
    if affine:
        with lib.no_grad():
            bn.weight.copy_(lib.tensor(_vals((n,), 13)))
            bn.bias.copy_(lib.tensor(_vals((n,), 14)))
    return bn


def _fuse_conv(kind='Conv2d', bias=True, affine=True, transpose=False, groups=1):
    """conv then bn against the fused conv: its weight, bias (type, requires_grad) and output on one input."""
    def case(lib):
        dims = int(kind[-2])
        conv = getattr(lib.nn, kind)(4, 6, 3, bias=bias, groups=groups).eval()
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(_vals(tuple(conv.weight.shape), 15)))
        bn = _bn(lib, 6, dims, affine)
        fused = lib.nn.utils.fuse_conv_bn_eval(conv, bn, transpose=transpose)
        x = lib.tensor(_vals((2, 4) + (5,) * dims, 16))
        return [fused.weight, fused.bias, type(fused.weight).__name__, fused.bias.requires_grad, fused is not conv,
                conv.bias is None if not bias else conv.bias, fused(x), bn(conv(x)) if not transpose else None]
    return case


def _fuse_linear(n_bn=5, bias=True):
    def case(lib):
        lin = lib.nn.Linear(3, 5, bias=bias).eval()
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(_vals((5, 3), 17)))
        bn = _bn(lib, n_bn, 1)
        fused = lib.nn.utils.fuse_linear_bn_eval(lin, bn)
        x = lib.tensor(_vals((4, 3), 18))
        return [fused.weight, fused.bias, type(fused.bias).__name__, fused(x), bn(lin(x)) if n_bn > 1 else None]
    return case


def _fuse_weights(lib, dtype='float64'):
    """fuse_conv_bn_weights on float64 tensors (no module), with None conv bias, bn weight and bias."""
    dt = getattr(lib, dtype)
    w = lib.tensor(_vals((3, 3, 2), 19), dtype=dt, requires_grad=True)
    rm, rv = lib.tensor(_vals((3,), 20), dtype=dt), lib.tensor(_vals((3,), 21), dtype=dt).abs() + 0.1
    got = list(lib.nn.utils.fuse_conv_bn_weights(w, None, rm, rv, 1e-3, None, None))
    got += list(lib.nn.utils.fuse_conv_bn_weights(w, None, rm, rv, 1e-3, None, None, True))
    return got + [[p.requires_grad for p in got], [str(p.dtype) for p in got]]


def _fuse_linear_weights(lib):
    w, b = lib.tensor(_vals((3, 2), 22)), lib.tensor(_vals((3,), 23), requires_grad=True)
    rm, rv = lib.tensor(_vals((3,), 20)), lib.tensor(_vals((3,), 21)).abs() + 0.1
    bw, bb = lib.tensor(_vals((3,), 24)), lib.tensor(_vals((3,), 25))
    got = list(lib.nn.utils.fuse_linear_bn_weights(w, b, rm, rv, 1e-5, bw, bb))
    return got + [[p.requires_grad for p in got]]


def _fuse_training(lib):
    return lib.nn.utils.fuse_conv_bn_eval(lib.nn.Conv2d(2, 3, 1), lib.nn.BatchNorm2d(3))


def _fuse_no_stats(lib):
    return lib.nn.utils.fuse_conv_bn_eval(lib.nn.Conv2d(2, 3, 1).eval(),
                                          lib.nn.BatchNorm2d(3, track_running_stats=False).eval())


def _mem_format(dims, fmt):
    """A model with convolutions of every rank (nested): each weight's strides, values, and the output."""
    def case(lib):
        m = lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3), lib.nn.Sequential(lib.nn.ConvTranspose2d(4, 2, 2)),
                              lib.nn.Conv3d(2, 3, 2), lib.nn.ConvTranspose3d(3, 2, 2), lib.nn.Conv1d(2, 2, 2))
        fn = getattr(lib.nn.utils, f'convert_conv{dims}d_weight_memory_format')
        out = fn(m, getattr(lib, fmt))
        x = lib.tensor(_vals((1, 3, 6, 6), 26))
        return [out is m] + [[p.stride(), p, type(p).__name__] for p in m.parameters()] + [m[1][0](m[0](x))]
    return case


CLIP_ERR = {'grads': {'nan': True}}
UTILS = [
    Call('nn.utils', 'fuse_conv_bn_eval', [
        Case('Conv2d', _fuse_conv()), Case('no conv bias', _fuse_conv(bias=False)),
        Case('bn without affine', _fuse_conv(affine=False)), Case('Conv1d', _fuse_conv('Conv1d')),
        Case('Conv3d groups', _fuse_conv('Conv3d', groups=2)),
        Case('ConvTranspose2d', _fuse_conv('ConvTranspose2d', transpose=True)),
        Case('training', _fuse_training, error=True), Case('no running stats', _fuse_no_stats, error=True)], seed=0),
    Call('nn.utils', 'fuse_conv_bn_weights', [Case('f64, Nones', _fuse_weights),
                                              Case('f32, Nones', lambda lib: _fuse_weights(lib, 'float32'))]),
    Call('nn.utils', 'fuse_linear_bn_eval', [
        Case('Linear', _fuse_linear()), Case('no bias', _fuse_linear(bias=False)),
        Case('bn of one feature', _fuse_linear(n_bn=1)),
        Case('feature mismatch', _fuse_linear(n_bn=4), error=True),
        Case('training', lambda lib: lib.nn.utils.fuse_linear_bn_eval(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3)),
             error=True)], seed=0),
    Call('nn.utils', 'fuse_linear_bn_weights', [Case('requires_grad bias', _fuse_linear_weights)]),
    Call('nn.utils', 'convert_conv2d_weight_memory_format', [
        Case('channels_last', _mem_format(2, 'channels_last')),
        Case('contiguous_format', _mem_format(2, 'contiguous_format'))], seed=0),
    Call('nn.utils', 'convert_conv3d_weight_memory_format', [
        Case('channels_last_3d', _mem_format(3, 'channels_last_3d'))], seed=0),
    Call('nn.utils', 'clip_grad_norm_', [
        Case('2', _clip('clip_grad_norm_', 1.0)), Case('inf', _clip('clip_grad_norm_', 1.0, float('inf'))),
        Case('1', _clip('clip_grad_norm_', 2.0, 1)), Case('3.5', _clip('clip_grad_norm_', 2.0, 3.5)),
        Case('-inf', _clip('clip_grad_norm_', 2.0, float('-inf'))),
        Case('no clip', _clip('clip_grad_norm_', 100.0)), Case('single tensor', _clip('clip_grad_norm_', 1.0,
                                                                                       single=True)),
        Case('grad None', _clip('clip_grad_norm_', 1.0, grads={'none': True})),
        Case('f64', _clip('clip_grad_norm_', 1.0, grads={'dtype': 'float64'})),
        Case('foreach False', _clip('clip_grad_norm_', 1.0, foreach=False)),
        Case('foreach True', _clip('clip_grad_norm_', 1.0, foreach=True)),
        Case('nan', _clip('clip_grad_norm_', 1.0, **CLIP_ERR)),
        Case('empty', lambda lib: lib.nn.utils.clip_grad_norm_([], 1.0)),
        Case('error_if_nonfinite', _clip('clip_grad_norm_', 1.0, error_if_nonfinite=True, **CLIP_ERR), error=True)]),
    Call('nn.utils', 'clip_grad_norm', [Case('deprecated', _clip('clip_grad_norm', 1.0))]),
    Call('nn.utils', 'clip_grad_value_', [
        Case('0.5', _clip('clip_grad_value_', 0.5)), Case('single tensor', _clip('clip_grad_value_', 0.5, single=True)),
        Case('grad None', _clip('clip_grad_value_', 0.5, grads={'none': True})),
        Case('foreach True', _clip('clip_grad_value_', 0.5, foreach=True)),
        Case('int clip', _clip('clip_grad_value_', 1))]),
    Call('nn.utils', 'get_total_norm', [
        Case('2', _norm()), Case('inf', _norm(float('inf'))), Case('0', _norm(0)), Case('3', _norm(3.0)),
        Case('empty', lambda lib: lib.nn.utils.get_total_norm([])),
        Case('error_if_nonfinite', lambda lib: lib.nn.utils.get_total_norm(
            [p.grad for p in _grads(lib, nan=True)], error_if_nonfinite=True), error=True)]),
    Call('nn.utils', 'clip_grads_with_norm_', [Case('norm 1', _with_norm)]),
    Call('nn.utils', 'parameters_to_vector', [
        Case('two params', _to_vec),
        Case('not tensors', lambda lib: lib.nn.utils.parameters_to_vector([1.0, 2.0]), error=True)]),
    Call('nn.utils', 'vector_to_parameters', [
        Case('two params', _from_vec),
        Case('not a tensor', lambda lib: lib.nn.utils.vector_to_parameters([1.0] * 17, _grads(lib)), error=True)]),
    Call('nn.utils', 'skip_init', [
        Case('Linear', _skip_init),
        Case('no device arg', lambda lib: lib.nn.utils.skip_init(lib.nn.ReLU), error=True),
        Case('not a Module', lambda lib: lib.nn.utils.skip_init(dict), error=True)], seed=3, exact=True),
    Call('nn.utils', 'weight_norm', [
        Case('Linear', _wn_hook()), Case('Linear dim 1', _wn_hook(dim=1)), Case('dim None', _wn_hook(dim=None)),
        Case('dim -2', _wn_hook(dim=-2)), Case('Conv1d', _wn_hook('conv')), Case('Conv1d dim 2', _wn_hook('conv', dim=2)),
        Case('bias', _wn_hook(name='bias')),
        Case('twice', _wn_twice, error=True),
        Case('no such parameter', lambda lib: lib.nn.utils.weight_norm(lib.nn.Linear(2, 2), name='foo'), error=True)],
        seed=0),
    Call('nn.utils', 'remove_weight_norm', [
        Case('not applied', lambda lib: lib.nn.utils.remove_weight_norm(lib.nn.Linear(2, 2)), error=True)]),
    Call('nn.utils.parametrizations', 'weight_norm', [
        Case('Linear', _wn_param()), Case('Linear dim 1', _wn_param(dim=1)), Case('dim None', _wn_param(dim=None)),
        Case('Conv1d', _wn_param('conv')), Case('Conv1d dim -2', _wn_param('conv', dim=-2)),
        Case('hook-form state dict', _wn_compat),
        Case('gradcheck dim 0', _wn_gradcheck(0)), Case('gradcheck dim 1', _wn_gradcheck(1)),
        Case('gradcheck dim None', _wn_gradcheck(None)),
        Case('no such parameter', lambda lib: lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(2, 2), 'foo'),
             error=True)], seed=0),
    Call('nn.utils', 'spectral_norm', [
        Case('Linear', _sn_hook()), Case('ConvTranspose1d (dim 1)', _sn_hook('convT', n_power_iterations=2)),
        Case('dim 1, eps', _sn_hook(dim=1, eps=1e-6)), Case('version-0 state dict', _sn_version0),
        Case('twice', _sn_twice, error=True),
        Case('no such parameter', lambda lib: lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), 'foo'), error=True),
        Case('bias None', lambda lib: lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2, bias=False), 'bias'), error=True),
        Case('no iterations', lambda lib: lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0),
             error=True)], seed=0, atol=1e-5, rtol=1e-4),
    Call('nn.utils', 'remove_spectral_norm', [
        Case('not applied', lambda lib: lib.nn.utils.remove_spectral_norm(lib.nn.Linear(2, 2)), error=True)]),
    Call('nn.utils.parametrizations', 'spectral_norm', [
        Case('Linear', _sn_param()), Case('Conv1d', _sn_param('conv')),
        Case('ConvTranspose1d (dim 1)', _sn_param('convT', n_power_iterations=2)),
        Case('Conv1d dim -1', _sn_param('conv', dim=-1, eps=1e-6)), Case('1-d bias', _sn_param(name='bias')),
        Case('gradcheck', _sn_gradcheck),
        Case('no such tensor', lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), 'foo'),
             error=True),
        Case('dim out of range', lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), dim=2),
             error=True),
        Case('no iterations', lambda lib: lib.nn.utils.parametrizations.spectral_norm(
            lib.nn.Linear(2, 2), n_power_iterations=0), error=True)], seed=0, atol=1e-5, rtol=1e-4),
    Call('nn.utils.parametrizations', 'orthogonal', [
        Case(f'{shape} {m} trivialization={t}', _orth(shape, m, t))
        for shape in ((3, 3), (4, 2), (2, 4)) for m in (None, 'matrix_exp', 'cayley', 'householder')
        for t in (True, False)] + [
        Case('assign without trivialization', _orth_assign, error=True),
        Case('unknown map', lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), 'qr'),
             error=True),
        Case('vector', lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), 'bias'),
             error=True)], seed=0, atol=1e-5, rtol=1e-4),
    Call('nn.utils.parametrize', 'register_parametrization', [
        Case('Symmetric', _parametrize), Case('buffer', _parametrize_buffer),
        Case('shape change', _shape_changing, error=True),
        Case('no such tensor', lambda lib: lib.nn.utils.parametrize.register_parametrization(
            lib.nn.Linear(2, 2), 'foo', _symmetric(lib)), error=True)], seed=0),
    Call('nn.utils.parametrize', 'remove_parametrizations', [
        Case('not parametrized', lambda lib: lib.nn.utils.parametrize.remove_parametrizations(
            lib.nn.Linear(2, 2), 'weight'), error=True)]),
    Call('nn.utils.parametrize', 'transfer_parametrizations_and_params', [Case('Symmetric', _transfer)], seed=0),
    Call('nn.utils.parametrize', 'cached', [Case('nested', _cached)], seed=0),
    Call('nn.utils.parametrize', 'is_parametrized', [Case('Linear', _is_parametrized)], seed=0),
    Call('nn.utils.parametrize', 'type_before_parametrizations', [Case('Linear', _is_parametrized)], seed=0),
    Call('nn.utils.parametrize', 'ParametrizationList', [
        Case('Symmetric', _parametrization_list),
        Case('no modules', lambda lib: lib.nn.utils.parametrize.ParametrizationList([], lib.zeros(2)), error=True)]),
]


def _seqs(lib, grad=False):
    """Three sequences of lengths 3, 1, 2 (float32, feature size 2)."""
    return [lib.tensor(_vals((n, 2), n), requires_grad=grad) for n in (3, 1, 2)]


def _padded(lib):
    return lib.tensor(_vals((3, 3, 2), 5), requires_grad=True)


def _pack_backward(lib, **k):
    """pad(pack(x)) and the gradient through both."""
    x = _padded(lib)
    out, lens = lib.nn.utils.rnn.pad_packed_sequence(
        lib.nn.utils.rnn.pack_padded_sequence(x, k.pop('lengths', [3, 2, 1]), **k), batch_first=k.get(
            'batch_first', False))
    (out * lib.tensor(_vals(tuple(out.shape), 6))).sum().backward()
    return [out, lens, x.grad]


def _rnn(name, *a, **k):
    return lambda lib: getattr(lib.nn.utils.rnn, name)(*a, **k)


RNN = [
    Call('nn.utils.rnn', 'pad_sequence', [
        Case('default', lambda lib: lib.nn.utils.rnn.pad_sequence(_seqs(lib))),
        Case('batch_first value', lambda lib: lib.nn.utils.rnn.pad_sequence(_seqs(lib), True, -1.0)),
        Case('left', lambda lib: lib.nn.utils.rnn.pad_sequence(_seqs(lib), padding_side='left')),
        Case('backward', lambda lib: [lib.nn.utils.rnn.pad_sequence(s := _seqs(lib, True)).sum().backward(),
                                      [x.grad for x in s]][1]),
        Case('bad side', lambda lib: lib.nn.utils.rnn.pad_sequence(_seqs(lib), padding_side='middle'), error=True)]),
    Call('nn.utils.rnn', 'pack_padded_sequence', [
        Case('sorted', lambda lib: lib.nn.utils.rnn.pack_padded_sequence(_padded(lib), [3, 2, 1])),
        Case('unsorted', lambda lib: lib.nn.utils.rnn.pack_padded_sequence(_padded(lib), lib.tensor([2, 3, 1]),
                                                                           enforce_sorted=False)),
        Case('batch_first', lambda lib: lib.nn.utils.rnn.pack_padded_sequence(_padded(lib), [3, 3, 1],
                                                                              batch_first=True)),
        Case('not sorted', lambda lib: lib.nn.utils.rnn.pack_padded_sequence(_padded(lib), [2, 3, 1]), error=True),
        Case('length 0', lambda lib: lib.nn.utils.rnn.pack_padded_sequence(_padded(lib), [3, 2, 0]), error=True)]),
    Call('nn.utils.rnn', 'pad_packed_sequence', [
        Case('round trip backward', lambda lib: _pack_backward(lib)),
        Case('unsorted batch_first', lambda lib: _pack_backward(lib, lengths=[1, 3, 2], enforce_sorted=False,
                                                                batch_first=True)),
        Case('total_length', lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
            lib.nn.utils.rnn.pack_sequence(_seqs(lib), enforce_sorted=False), total_length=5, padding_value=9.0)),
        Case('total_length short', lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
            lib.nn.utils.rnn.pack_sequence(_seqs(lib), enforce_sorted=False), total_length=2), error=True)]),
    Call('nn.utils.rnn', 'pack_sequence', [
        Case('unsorted', lambda lib: lib.nn.utils.rnn.pack_sequence(_seqs(lib), enforce_sorted=False)),
        Case('not sorted', lambda lib: lib.nn.utils.rnn.pack_sequence(_seqs(lib)), error=True)]),
    Call('nn.utils.rnn', 'unpack_sequence', [Case('round trip', lambda lib: lib.nn.utils.rnn.unpack_sequence(
        lib.nn.utils.rnn.pack_sequence(_seqs(lib), enforce_sorted=False)))]),
    Call('nn.utils.rnn', 'unpad_sequence', [
        Case('default', lambda lib: [lib.nn.utils.rnn.unpad_sequence(x := _padded(lib).detach(), lib.tensor([3, 1, 2])),
                                     x]),   # PyTorch transposes the input in place
        Case('leaf requires grad', lambda lib: lib.nn.utils.rnn.unpad_sequence(_padded(lib), lib.tensor([3, 1, 2])),
             error=True),
        Case('batch_first', lambda lib: lib.nn.utils.rnn.unpad_sequence(_padded(lib), lib.tensor([3, 1, 2]),
                                                                        batch_first=True))]),
    Call('nn.utils.rnn', 'invert_permutation', [
        Case('perm', lambda lib: lib.nn.utils.rnn.invert_permutation(lib.tensor([2, 0, 1]))),
        Case('None', lambda lib: lib.nn.utils.rnn.invert_permutation(None))]),
]


def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 2))


def _averaged(updates=3, **k):
    """fn(lib): an AveragedModel of a model trained by hand for ``updates`` steps; its state after each update."""
    def fn(lib):
        swa = lib.optim.swa_utils
        model = _model(lib)
        kw = {key: v(swa) if callable(v) else v for key, v in k.items()}
        avg = swa.AveragedModel(model, **kw)
        states = []
        for i in range(updates):
            with lib.no_grad():
                for j, p in enumerate(model.parameters()):
                    p.add_(lib.tensor(_vals(tuple(p.shape), 20 + i * 7 + j)))
                model(lib.tensor(_vals((5, 3), 40 + i)))   # moves BatchNorm's running statistics
            avg.update_parameters(model)
            states.append({k: v.clone() for k, v in avg.state_dict().items()})
        return [states, avg(lib.tensor(_vals((2, 3), 50)))]
    return fn


def _update_bn(batches, device=None):
    def fn(lib):
        model = _model(lib)
        model.eval()
        data = [lib.tensor(_vals((4, 3), 60 + i)) for i in range(3)]
        loader = data if batches == 'tensors' else [(x, lib.zeros(4)) for x in data]
        out = lib.optim.swa_utils.update_bn(loader, model, *([device] if device else []))
        return [out, dict(model.state_dict()), model.training, model[1].momentum]
    return fn


def _avg_fn(getter, *a):
    def fn(lib):
        f = getattr(lib.optim.swa_utils, getter)(*a)
        x, y = lib.tensor(_vals((3,), 1)), lib.tensor(_vals((3,), 2))
        if 'multi' in getter:
            xs, ys = [x, lib.tensor(_vals((2, 2), 3))], [y, lib.tensor(_vals((2, 2), 4))]
            f(xs, ys, lib.tensor(2))
            return xs
        return [f(x, y, 2), f(x, y, lib.tensor(2))]
    return fn


SWA = [
    Call('optim.swa_utils', 'AveragedModel', [
        Case('swa', _averaged()), Case('ema avg_fn', _averaged(avg_fn=lambda swa: swa.get_ema_avg_fn(0.9))),
        Case('ema multi_avg_fn', _averaged(multi_avg_fn=lambda swa: swa.get_ema_multi_avg_fn(0.9))),
        Case('use_buffers swa', _averaged(use_buffers=True)),
        Case('use_buffers ema multi', _averaged(use_buffers=True,
                                                multi_avg_fn=lambda swa: swa.get_ema_multi_avg_fn(0.5))),
        Case('device cpu', _averaged(updates=2, device='cpu')),
        Case('both fns', _averaged(avg_fn=lambda swa: swa.get_swa_avg_fn(),
                                   multi_avg_fn=lambda swa: swa.get_swa_multi_avg_fn()), error=True)]),
    Call('optim.swa_utils', 'update_bn', [Case('tensors', _update_bn('tensors')), Case('pairs', _update_bn('pairs')),
                                          Case('device', _update_bn('tensors', 'cpu')),
                                          Case('no batchnorm', lambda lib: lib.optim.swa_utils.update_bn(
                                              [lib.ones(2, 3)], lib.nn.Linear(3, 1)))]),
    Call('optim.swa_utils', 'get_ema_avg_fn', [Case('0.9', _avg_fn('get_ema_avg_fn', 0.9)),
                                               Case('decay 1.5', _avg_fn('get_ema_avg_fn', 1.5), error=True)]),
    Call('optim.swa_utils', 'get_swa_avg_fn', [Case('n 2', _avg_fn('get_swa_avg_fn'))]),
    Call('optim.swa_utils', 'get_ema_multi_avg_fn', [Case('0.9', _avg_fn('get_ema_multi_avg_fn', 0.9)),
                                                     Case('decay -1', _avg_fn('get_ema_multi_avg_fn', -1.0),
                                                          error=True)]),
    Call('optim.swa_utils', 'get_swa_multi_avg_fn', [Case('n 2', _avg_fn('get_swa_multi_avg_fn'))]),
]


def _packed(lib):
    """A PackedSequence built by hand and by pack_sequence: its fields, its type's field names, ``to``."""
    rnn = lib.nn.utils.rnn
    p = rnn.pack_sequence(_seqs(lib), enforce_sorted=False)
    q = rnn.PackedSequence(p.data, p.batch_sizes, p.sorted_indices, p.unsorted_indices)
    return [list(q), list(p.to(lib.float64)), rnn.PackedSequence._fields, isinstance(p, tuple), p.is_cuda]


class _Plain:
    """The smallest subclass of ``lib.optim.Optimizer``: plain gradient descent."""
    @staticmethod
    def make(lib, params, **defaults):
        class Plain(lib.optim.Optimizer):
            def step(self, closure=None):
                with lib.no_grad():
                    for group in self.param_groups:
                        for p in group['params']:
                            if p.grad is not None:
                                p.add_(p.grad, alpha=-group['lr'])
                                self.state[p]['n'] = self.state[p].get('n', 0) + 1
        return Plain(params, defaults or {'lr': 0.1})


def _base_optimizer(lib):
    """A subclass of the base class: steps, state_dict, add_param_group, zero_grad, repr."""
    params = _grads(lib)
    opt = _Plain.make(lib, params[:1], lr=0.1, momentum=0)
    opt.step()
    opt.add_param_group({'params': params[1:], 'lr': 0.5})
    opt.step()
    sd = opt.state_dict()
    opt.zero_grad()
    return [params, sd, [p.grad for p in params], repr(opt)]


def _required(lib):
    """``optim.optimizer.required``: the marker of a hyperparameter every param group must give."""
    import importlib
    return importlib.import_module(lib.__name__ + '.optim.optimizer').required


def _optimizer_error(fn):
    return lambda lib: fn(lib, _grads(lib))


OPTIMIZER = [
    Call('optim', 'Optimizer', [
        Case('subclass', _base_optimizer),
        Case('step not implemented', lambda lib: lib.optim.Optimizer(_grads(lib), {'lr': 0.1}).step(), error=True),
        Case('empty', lambda lib: lib.optim.Optimizer([], {}), error=True),
        Case('a tensor', _optimizer_error(lambda lib, ps: lib.optim.Optimizer(ps[0], {})), error=True),
        Case('param twice', _optimizer_error(lambda lib, ps: _Plain.make(lib, ps).add_param_group({'params': ps[:1]})),
             error=True),
        Case('required lr', lambda lib: _Plain.make(lib, _grads(lib), lr=_required(lib)), error=True),
        Case('required lr given', _optimizer_error(lambda lib, ps: _Plain.make(lib, [{'params': ps, 'lr': 0.3}],
                                                                               lr=_required(lib)).param_groups)),
        Case('non-leaf', lambda lib: _Plain.make(lib, [lib.ones(2, requires_grad=True) * 2]), error=True)]),
    Call('nn.utils.rnn', 'PackedSequence', [Case('fields and to', _packed)]),
]


def _swalr(*a, **k):
    return lambda lib, opt: lib.optim.swa_utils.SWALR(opt, *a, **k)


SWALRS = [Sched('SWALR', {'cos 5': _swalr(0.05, 5), 'linear per group': _swalr([0.05, 0.02], 3, 'linear'),
                          'anneal 0': _swalr(0.01, 0)}, ns='optim.swa_utils', steps=12,
                errors={'bad strategy': _swalr(0.05, anneal_strategy='exp'), 'anneal -1': _swalr(0.05, -1),
                        'anneal 2.5': _swalr(0.05, 2.5), 'wrong count': _swalr([0.1] * 3)})]


def _sched_opt(lib):
    params = [lib.tensor(_vals((2,), 0), requires_grad=True), lib.tensor(_vals((3,), 1), requires_grad=True)]
    return lib.optim.SGD([{'params': params[:1]}, {'params': params[1:], 'lr': 0.05}], lr=0.1, momentum=0.9)


def _custom_scheduler(lib):
    """A subclass of the base class with its own get_lr, stepped 4 times; the lrs, state_dict and last lr."""
    class Halving(lib.optim.lr_scheduler.LRScheduler):
        def get_lr(self):
            return [base * 0.5 ** self.last_epoch for base in self.base_lrs]
    opt = _sched_opt(lib)
    sched = Halving(opt)
    lrs = []
    for _ in range(4):
        opt.step()
        sched.step()
        lrs.append([g['lr'] for g in opt.param_groups])
    return [lrs, sched.get_last_lr(), sched.last_epoch, sched.base_lrs, sorted(sched.state_dict())]


def _stepped(name, *a, step=(), **k):
    """A scheduler stepped once after the optimizer, with ``step``'s arguments (the deprecated epoch)."""
    def fn(lib):
        opt = _sched_opt(lib)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, *a, **k)
        opt.step()
        sched.step(*step)
        return [[g['lr'] for g in opt.param_groups], sched.last_epoch]
    return fn


def _get_lr_outside(lib):
    opt = _sched_opt(lib)
    return lib.optim.lr_scheduler.StepLR(opt, 2).get_lr()


def _resume(lib, last_epoch=3):
    """``last_epoch`` given: the groups must hold ``initial_lr`` (a fresh optimizer's do not)."""
    opt = _sched_opt(lib)
    return lib.optim.lr_scheduler.StepLR(opt, 2, last_epoch=last_epoch)


def _resumed(lib):
    opt = _sched_opt(lib)
    for g in opt.param_groups:
        g['initial_lr'] = g['lr'] * 2
    sched = lib.optim.lr_scheduler.StepLR(opt, 2, 0.5, last_epoch=3)
    return [[g['lr'] for g in opt.param_groups], sched.get_last_lr(), sched.last_epoch]


LR_BASE = [
    Call('optim.lr_scheduler', 'LRScheduler', [
        Case('subclass', _custom_scheduler),
        Case('get_lr outside step', _get_lr_outside),
        Case('step(epoch) StepLR', _stepped('StepLR', 2, step=(5,))),
        Case('step(epoch) CosineAnnealingLR', _stepped('CosineAnnealingLR', 10, step=(3,))),
        Case('step(epoch) warm restarts float', _stepped('CosineAnnealingWarmRestarts', 3, step=(4.5,))),
        Case('resume', _resumed),
        Case('resume without initial_lr', _resume, error=True),
        Case('not an optimizer', lambda lib: lib.optim.lr_scheduler.StepLR(object(), 2), error=True)]),
]


def _nonleaf(name):
    """Options PyTorch takes that ember refuses by name: ``differentiable=True`` on non-leaf parameters."""
    def fn(lib):
        w = lib.tensor(_vals((3,), 0), requires_grad=True)
        p = w * 2
        p.retain_grad()
        p.grad = lib.ones(3)
        opt = getattr(lib.optim, name)([p], differentiable=True)
        opt.step()
        return p
    return fn


NO_DIFFERENTIABLE = ('ember refuses differentiable=True (autograd through the step, which PyTorch allows for non-leaf '
                     'parameters) with an error naming it')
DIFFERENTIABLE = [Call('optim', n, [Case('differentiable non-leaf', _nonleaf(n), unsupported='differentiable')],
                       gaps={'case:differentiable non-leaf': NO_DIFFERENTIABLE})
                  for n in ('SGD', 'Adam', 'AdamW', 'Adagrad', 'RMSprop', 'Adadelta', 'Adamax', 'NAdam', 'RAdam',
                            'ASGD', 'Rprop')]


def _two_opts(lib):
    a, b = _sched_opt(lib), _sched_opt(lib)
    L = lib.optim.lr_scheduler
    return L.ChainedScheduler([L.StepLR(a, 2), L.StepLR(b, 2)])


COMPOSE_ERRORS = [
    Call('optim.lr_scheduler', 'SequentialLR', [
        Case('milestones count', lambda lib: lib.optim.lr_scheduler.SequentialLR(
            o := _sched_opt(lib), [lib.optim.lr_scheduler.StepLR(o, 2)], milestones=[3]), error=True),
        Case('plateau inside', lambda lib: lib.optim.lr_scheduler.SequentialLR(
            o := _sched_opt(lib), [lib.optim.lr_scheduler.StepLR(o, 2), lib.optim.lr_scheduler.ReduceLROnPlateau(o)],
            milestones=[3]), error=True),
        Case('no schedulers', lambda lib: lib.optim.lr_scheduler.SequentialLR(_sched_opt(lib), [], []), error=True)]),
    Call('optim.lr_scheduler', 'ChainedScheduler', [Case('two optimizers', _two_opts, error=True)]),
    Call('optim.lr_scheduler', 'OneCycleLR', [Case('no momentum to cycle', lambda lib: lib.optim.lr_scheduler.OneCycleLR(
        lib.optim.Adagrad([lib.zeros(2, requires_grad=True)]), 0.1, 10), error=True)]),
    Call('optim.lr_scheduler', 'CyclicLR', [Case('no momentum to cycle', lambda lib: lib.optim.lr_scheduler.CyclicLR(
        lib.optim.Adagrad([lib.zeros(2, requires_grad=True)]), 0.01, 0.1), error=True)]),
    Call('optim.lr_scheduler', 'ReduceLROnPlateau', [Case('min_lr count', lambda lib: lib.optim.lr_scheduler.
                                                          ReduceLROnPlateau(_sched_opt(lib), min_lr=[0.1] * 3),
                                                          error=True)]),
    Call('optim', 'LBFGS', [Case('two groups', lambda lib: lib.optim.LBFGS(
        [{'params': [lib.zeros(2, requires_grad=True)]}, {'params': [lib.zeros(2, requires_grad=True)]}]),
        error=True)]),
]


INIT_EDGES = [
    _inits('uniform_', {'f16': _init('uniform_', dtype='float16'), 'bf16': _init('uniform_', dtype='bfloat16'),
                        'param': lambda lib: lib.nn.init.uniform_(lib.nn.Parameter(lib.empty(3)))},
           {'int64': _init('uniform_', dtype='int64')}),
    _inits('normal_', {'f16': _init('normal_', dtype='float16'), 'bf16': _init('normal_', 0.5, 2.0, dtype='bfloat16')},
           {'int64': _init('normal_', dtype='int64')}),
    _inits('kaiming_uniform_', {'zero-element': _init('kaiming_uniform_', shape=(0, 3))}),
    _inits('kaiming_normal_', {'zero-element': _init('kaiming_normal_', shape=(4, 0))}),
    _inits('xavier_uniform_', {'f64 conv1d': _init('xavier_uniform_', dtype='float64', shape=(3, 2, 5))}),
    _inits('trunc_normal_', {'f16': _init('trunc_normal_', dtype='float16')},
           {'a > b': _init('trunc_normal_', 0, 1, 2, -2)}),
    _inits('constant_', {'bool': _init('constant_', True, dtype='bool'), 'f16': _init('constant_', 0.1, dtype='float16')}),
    _inits('eye_', {'int': _init('eye_', dtype='int64')}),
    _inits('dirac_', {'f64': _init('dirac_', dtype='float64', shape=(3, 2, 3))}),
    _inits('sparse_', {'f64': _init('sparse_', 0.3, dtype='float64'), 'sparsity 0': _init('sparse_', 0.0)}),
    _inits('orthogonal_', {'f64': _init('orthogonal_', dtype='float64'), 'zero-element': _init('orthogonal_', shape=(0, 3))},
           exact=False),
    Call('nn.init', 'calculate_gain', [Case('leaky_relu None', _gain('leaky_relu', None)),
                                       Case('selu param', _gain('selu', 0.5)), Case('tanh 2', _gain('tanh', 2))]),
]


# -- the submodules of torch.nn: PyTorch 2.13's public names of each (its __all__), less those ember lacks --------
_SUBMODULE_ALL = {
    'attention': 'SDPBackend sdpa_kernel WARN_FOR_UNFUSED_KERNELS register_flash_attention_impl '
                 'activate_flash_attention_impl list_flash_attention_impls current_flash_attention_impl '
                 'restore_flash_attention_impl',
    'init': 'calculate_gain uniform_ normal_ trunc_normal_ constant_ ones_ zeros_ eye_ dirac_ xavier_uniform_ '
            'xavier_normal_ kaiming_uniform_ kaiming_normal_ orthogonal_ sparse_ uniform normal constant eye dirac '
            'xavier_uniform xavier_normal kaiming_uniform kaiming_normal orthogonal sparse',
    'modules': 'AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d AdaptiveLogSoftmaxWithLoss AdaptiveMaxPool1d '
               'AdaptiveMaxPool2d AdaptiveMaxPool3d AlphaDropout AvgPool1d AvgPool2d AvgPool3d BCELoss '
               'BCEWithLogitsLoss BatchNorm1d BatchNorm2d BatchNorm3d Bilinear CELU CTCLoss ChannelShuffle '
               'CircularPad1d CircularPad2d CircularPad3d ConstantPad1d ConstantPad2d ConstantPad3d Container Conv1d '
               'Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d CosineEmbeddingLoss CosineSimilarity '
               'CrossEntropyLoss CrossMapLRN2d Dropout Dropout1d Dropout2d Dropout3d ELU Embedding EmbeddingBag '
               'FeatureAlphaDropout Flatten Fold FractionalMaxPool2d FractionalMaxPool3d GELU GLU GRU GRUCell '
               'GaussianNLLLoss GroupNorm Hardshrink Hardsigmoid Hardswish Hardtanh HingeEmbeddingLoss HuberLoss '
               'Identity InstanceNorm1d InstanceNorm2d InstanceNorm3d KLDivLoss L1Loss LPPool1d LPPool2d LPPool3d '
               'LSTM LSTMCell LayerNorm LazyBatchNorm1d LazyBatchNorm2d LazyBatchNorm3d LazyConv1d LazyConv2d '
               'LazyConv3d LazyConvTranspose1d LazyConvTranspose2d LazyConvTranspose3d LazyInstanceNorm1d '
               'LazyInstanceNorm2d LazyInstanceNorm3d LazyLinear LeakyReLU Linear LinearCrossEntropyLoss '
               'LinearCrossEntropyOptions LocalResponseNorm LogSigmoid LogSoftmax MSELoss MarginRankingLoss MaxPool1d '
               'MaxPool2d MaxPool3d MaxUnpool1d MaxUnpool2d MaxUnpool3d Mish Module ModuleDict ModuleList '
               'MultiLabelMarginLoss MultiLabelSoftMarginLoss MultiMarginLoss MultiheadAttention NLLLoss NLLLoss2d '
               'PReLU PairwiseDistance ParameterDict ParameterList PixelShuffle PixelUnshuffle PoissonNLLLoss RMSNorm '
               'RNN RNNBase RNNCell RNNCellBase RReLU ReLU ReLU6 ReflectionPad1d ReflectionPad2d ReflectionPad3d '
               'ReplicationPad1d ReplicationPad2d ReplicationPad3d SELU Sequential SiLU Sigmoid SmoothL1Loss '
               'SoftMarginLoss Softmax Softmax2d Softmin Softplus Softshrink Softsign SyncBatchNorm Tanh Tanhshrink '
               'Threshold Transformer TransformerDecoder TransformerDecoderLayer TransformerEncoder '
               'TransformerEncoderLayer TripletMarginLoss TripletMarginWithDistanceLoss Unflatten Unfold Upsample '
               'UpsamplingBilinear2d UpsamplingNearest2d ZeroPad1d ZeroPad2d ZeroPad3d',
    'parallel': 'DataParallel DistributedDataParallel data_parallel replicate scatter parallel_apply gather',
    'parameter': 'Parameter UninitializedParameter is_lazy Buffer UninitializedBuffer UninitializedTensorMixin',
    'utils': 'clip_grad_norm clip_grad_norm_ clip_grads_with_norm_ clip_grad_value_ get_total_norm parameters_to_vector '
             'rnn skip_init vector_to_parameters convert_conv2d_weight_memory_format '
             'convert_conv3d_weight_memory_format fuse_conv_bn_eval fuse_conv_bn_weights fuse_linear_bn_eval '
             'fuse_linear_bn_weights parametrizations parametrize remove_spectral_norm remove_weight_norm '
             'spectral_norm stateless weight_norm',
}
# the names of those that ember does not provide (they are not in SUPPORTED.md either)
_SUBMODULE_LACKS = set(
    'WARN_FOR_UNFUSED_KERNELS register_flash_attention_impl activate_flash_attention_impl list_flash_attention_impls '
    'current_flash_attention_impl restore_flash_attention_impl LinearCrossEntropyLoss LinearCrossEntropyOptions'.split())


def _kind(obj):
    """'class', 'module', 'function' (any other callable) or the type's name."""
    import types
    return 'class' if isinstance(obj, type) else 'module' if isinstance(obj, types.ModuleType) else \
        'function' if callable(obj) else type(obj).__name__


def _submodule(sub):
    """``torch.nn.<sub>`` is the module ``import torch.nn.<sub>`` gives; each of its public names is the object of
    that name in ``torch.nn`` (or is not there, as in PyTorch); a class lives at PyTorch's module path
    (``torch.nn.modules.linear.Linear is torch.nn.Linear``)."""
    def case(lib):
        import importlib
        mod = importlib.import_module(f'{lib.__name__}.nn.{sub}')
        got = [getattr(lib.nn, sub) is mod]
        for n in _SUBMODULE_ALL[sub].split():
            if n in _SUBMODULE_LACKS:
                continue
            obj = getattr(mod, n)
            home = getattr(obj, '__module__', '') if isinstance(obj, type) else ''
            at_home = getattr(importlib.import_module(home), n, None) is obj if home else None
            got.append((n, _kind(obj), obj is getattr(lib.nn, n, None), home.partition('.')[2], at_home))
        return got
    return case


def _functional_module(lib):
    """``torch.nn.functional`` is the module ``import torch.nn.functional`` gives, the attribute ``functional`` of
    ``torch.nn``, with its functions under their own names (its other names are the entries of nn.functional)."""
    import importlib
    F = importlib.import_module(f'{lib.__name__}.nn.functional')
    names = 'relu softmax dropout alpha_dropout rrelu_ gumbel_softmax upsample multi_head_attention_forward'
    return [lib.nn.functional is F] + [(n, _kind(getattr(F, n)), getattr(F, n).__name__)
                                       for n in names.split()]


NN_SUBMODULES = [Call('nn', sub, [Case('names', _submodule(sub))]) for sub in _SUBMODULE_ALL] + [
    Call('nn', 'functional', [Case('module and names', _functional_module)])]



# -- nn.utils.prune: the pruning tutorial's calls -----------------------------------------------------------
def _P(lib):
    return importlib.import_module(f'{lib.__name__}.nn.utils.prune')


def _hook(module):
    """The module's first forward pre-hook (a pruning method)."""
    return next(iter(module._forward_pre_hooks.values()))


def _pruned_view(lib, m, name='weight'):
    """What a pruned module shows: its parameters, buffers and state_dict keys, the hooks (class names and the
    repr's class path), the pruned tensor, its mask and grad_fn, a forward and the gradient of ``name + '_orig'``."""
    x = lib.tensor(_vals((2, m.weight.shape[1]) if m.weight.dim() == 2 else (1, m.weight.shape[1], 6, 6), 3))
    m(x).sum().backward()
    hooks = list(m._forward_pre_hooks.values())
    return [[n for n, _ in m.named_parameters()], [n for n, _ in m.named_buffers()], list(m.state_dict()),
            [type(h).__name__ for h in hooks], [repr(h).split(' object at')[0] for h in hooks],
            getattr(m, name).detach(), getattr(m, name + '_mask'), getattr(m, name).grad_fn.name(),
            getattr(m, name + '_orig').grad, _P(lib).is_pruned(m), lib.rand(2)]


def _prune_case(how, layer='linear', name='weight'):
    def case(lib):
        m = lib.nn.Linear(5, 4) if layer == 'linear' else lib.nn.Conv2d(2, 4, 3)
        how(_P(lib), m, lib)
        return _pruned_view(lib, m, name)
    return case


def _prune_twice(lib):
    """Pruning one tensor three times: a PruningContainer of the three methods, the masks combined."""
    P, m = _P(lib), lib.nn.Conv2d(2, 6, 3)
    P.random_unstructured(m, 'weight', amount=0.3)
    P.ln_structured(m, 'weight', amount=0.5, n=2, dim=0)
    P.random_structured(m, 'weight', amount=1, dim=1)
    hook = next(iter(m._forward_pre_hooks.values()))
    return _pruned_view(lib, m) + [len(hook), [type(h).__name__ for h in hook], type(hook[-1]).__name__]


def _prune_remove(lib):
    P, m = _P(lib), lib.nn.Linear(5, 4)
    P.l1_unstructured(m, 'weight', amount=0.4)
    P.remove(m, 'weight')
    return [[n for n, _ in m.named_parameters()], [n for n, _ in m.named_buffers()], m.weight.detach(),
            type(m.weight).__name__, len(m._forward_pre_hooks), P.is_pruned(m)]


def _prune_global(lib, **kw):
    P = _P(lib)
    net = lib.nn.Sequential(lib.nn.Conv2d(1, 3, 3), lib.nn.Flatten(), lib.nn.Linear(12, 4), lib.nn.Linear(4, 2))
    params = ((net[0], 'weight'), (net[2], 'weight'), (net[3], 'weight'), (net[3], 'bias'))
    P.l1_unstructured(net[2], 'weight', amount=3)
    P.global_unstructured(params, pruning_method=kw.pop('method', P.L1Unstructured), **kw)
    return [[m.__getattr__(n + '_mask') for m, n in params], [type(h).__name__ for h in net[2]._forward_pre_hooks.values()],
            list(net.state_dict())]


def _foobar(lib):
    """The tutorial's own pruning method: every other entry."""
    P = _P(lib)

    class FooBarPruningMethod(P.BasePruningMethod):
        PRUNING_TYPE = 'unstructured'

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask
    m = lib.nn.Linear(3, 5)
    FooBarPruningMethod.apply(m, 'bias')
    method = FooBarPruningMethod()
    return [m.bias_mask, m.bias.detach(), method.prune(lib.tensor([1., 2., 3.])), repr(_hook(m)).split('.')[-1].split(' ')[0]]


def _prune_method(cls, *args, **kw):
    """A method class used directly: ``prune`` on a tensor (and on a default mask), and ``apply`` on a module."""
    def case(lib):
        P = _P(lib)
        t = lib.tensor(_vals((4, 5), 7))
        method = getattr(P, cls)(*args, **kw)
        out = [method.prune(t), method.prune(t, default_mask=(t > -0.5).float()), method.compute_mask(t, lib.ones(4, 5))]
        m = lib.nn.Linear(5, 4)
        getattr(P, cls).apply(m, 'weight', *args, **kw)
        return out + [m.weight_mask, m.weight.detach()]
    return case


_BAD = lambda f: lambda lib: f(_P(lib), lib.nn.Linear(3, 2), lib)   # noqa: E731
PRUNE = [
    Call('nn.utils.prune', 'random_unstructured', [
        Case('Linear weight 0.3', _prune_case(lambda P, m, L: P.random_unstructured(m, 'weight', amount=0.3))),
        Case('Conv2d weight 10', _prune_case(lambda P, m, L: P.random_unstructured(m, name='weight', amount=10), 'conv')),
        Case('bias 0.0', _prune_case(lambda P, m, L: P.random_unstructured(m, 'bias', 0.0), name='bias')),
        Case('amount 1.5', _BAD(lambda P, m, L: P.random_unstructured(m, 'weight', 1.5)), error=True),
        Case('amount -1', _BAD(lambda P, m, L: P.random_unstructured(m, 'weight', -1)), error=True),
        Case('amount "a"', _BAD(lambda P, m, L: P.random_unstructured(m, 'weight', 'a')), error=True),
        Case('amount 7 of 6', _BAD(lambda P, m, L: P.random_unstructured(m, 'weight', 7)), error=True),
        Case('no such tensor', _BAD(lambda P, m, L: P.random_unstructured(m, 'foo', 1)), error=True)], seed=0),
    Call('nn.utils.prune', 'l1_unstructured', [
        Case('Linear weight 0.4', _prune_case(lambda P, m, L: P.l1_unstructured(m, 'weight', amount=0.4))),
        Case('Conv2d bias 3', _prune_case(lambda P, m, L: P.l1_unstructured(m, 'bias', amount=3), 'conv', 'bias')),
        Case('importance_scores', _prune_case(lambda P, m, L: P.l1_unstructured(
            m, 'weight', amount=5, importance_scores=L.tensor(_vals((4, 5), 9))))),
        Case('importance_scores shape', _BAD(lambda P, m, L: P.l1_unstructured(m, 'weight', 1, importance_scores=L.ones(3))),
             error=True)], seed=0),
    Call('nn.utils.prune', 'random_structured', [
        Case('Linear dim 1', _prune_case(lambda P, m, L: P.random_structured(m, 'weight', amount=2, dim=1))),
        Case('Conv2d dim 0 0.5', _prune_case(lambda P, m, L: P.random_structured(m, 'weight', 0.5, 0), 'conv')),
        Case('1-d bias', _BAD(lambda P, m, L: P.random_structured(m, 'bias', 1, 0)), error=True),
        Case('dim 2', _BAD(lambda P, m, L: P.random_structured(m, 'weight', 1, 2)), error=True)], seed=0),
    Call('nn.utils.prune', 'ln_structured', [
        Case('Conv2d n=2 dim 0', _prune_case(lambda P, m, L: P.ln_structured(m, 'weight', amount=0.5, n=2, dim=0), 'conv')),
        Case('Linear n=1 dim -1', _prune_case(lambda P, m, L: P.ln_structured(m, 'weight', amount=2, n=1, dim=-1))),
        Case('Linear n=inf dim 0', _prune_case(lambda P, m, L: P.ln_structured(m, 'weight', 1, float('inf'), 0))),
        Case('Linear n=-inf', _prune_case(lambda P, m, L: P.ln_structured(m, 'weight', 1, float('-inf'), 1))),
        Case('1-d bias', _BAD(lambda P, m, L: P.ln_structured(m, 'bias', 1, 2, 0)), error=True)], seed=0),
    Call('nn.utils.prune', 'global_unstructured', [
        Case('L1 0.2', lambda lib: _prune_global(lib, amount=0.2)),
        Case('random 7', lambda lib: _prune_global(lib, method=_P(lib).RandomUnstructured, amount=7)),
        Case('importance_scores', lambda lib: _prune_global(lib, amount=0.5, importance_scores={})),
        Case('structured method', lambda lib: _prune_global(lib, method=_P(lib).LnStructured, amount=1, n=2, dim=0),
             error=True),
        Case('parameters not iterable', lambda lib: _P(lib).global_unstructured(3, _P(lib).L1Unstructured, amount=1),
             error=True)], seed=0),
    Call('nn.utils.prune', 'identity', [Case('Linear', _prune_case(lambda P, m, L: P.identity(m, 'weight')))], seed=0),
    Call('nn.utils.prune', 'custom_from_mask', [
        Case('bias', _prune_case(lambda P, m, L: P.custom_from_mask(m, 'bias', L.tensor([1., 0., 0., 1.])), name='bias')),
        Case('after l1', _prune_case(lambda P, m, L: [P.l1_unstructured(m, 'weight', 6), P.custom_from_mask(
            m, 'weight', L.tensor(_vals((4, 5), 2)) > 0)])),
        Case('mask shape', _BAD(lambda P, m, L: P.custom_from_mask(m, 'bias', L.ones(3))), error=True)], seed=0),
    Call('nn.utils.prune', 'remove', [Case('l1 then remove', _prune_remove),
                                      Case('not pruned', _BAD(lambda P, m, L: P.remove(m, 'weight')), error=True)],
         seed=0),
    Call('nn.utils.prune', 'is_pruned', [Case('nested', lambda lib: [_P(lib).is_pruned(lib.nn.Sequential(lib.nn.Linear(2, 2))),
                                                                     _P(lib).is_pruned(_P(lib).identity(lib.nn.Linear(2, 2), 'bias'))])]),
    Call('nn.utils.prune', 'PruningContainer', [
        Case('three methods on one tensor', _prune_twice),
        Case('another tensor name', lambda lib: _P(lib).PruningContainer(_hook(_P(lib).identity(lib.nn.Linear(2, 2), 'bias')))
             .add_pruning_method(_hook(_P(lib).identity(lib.nn.Linear(2, 2), 'weight'))), error=True),
        Case('not a method', lambda lib: _P(lib).PruningContainer(_hook(_P(lib).identity(lib.nn.Linear(2, 2), 'bias')))
             .add_pruning_method(3), error=True)], seed=0),
    Call('nn.utils.prune', 'BasePruningMethod', [Case('the tutorial\'s FooBar', _foobar)], seed=0),
    Call('nn.utils.prune', 'RandomUnstructured', [Case('0.5', _prune_method('RandomUnstructured', 0.5))], seed=0),
    Call('nn.utils.prune', 'L1Unstructured', [Case('7', _prune_method('L1Unstructured', 7))], seed=0),
    Call('nn.utils.prune', 'RandomStructured', [Case('2 dim 0', _prune_method('RandomStructured', 2, dim=0))],
         seed=0),
    Call('nn.utils.prune', 'LnStructured', [Case('0.4 n=1 dim 1', _prune_method('LnStructured', 0.4, n=1, dim=1))],
         seed=0),
    Call('nn.utils.prune', 'Identity', [Case('prune', _prune_method('Identity'))], seed=0),
    Call('nn.utils.prune', 'CustomFromMask', [Case('mask', lambda lib: [_P(lib).CustomFromMask(lib.tensor([1., 0.])).prune(
        lib.tensor([3., 4.]))])]),
]


# -- nn.parallel's helpers on a machine with no GPU (d2l's split_batch calls scatter): containers split and rebuilt,
# tensors and CPU devices refused with PyTorch's errors, parameterless modules replicated --------------------------
def _par(lib):
    return importlib.import_module(f'{lib.__name__}.nn.parallel.scatter_gather')


def _replicas(lib):
    rs = lib.nn.parallel.replicate(lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh()), [0, 1])
    return [(repr(r), r._is_replica, r[1]._is_replica, r[0] is not rs[0][0]) for r in rs]


_PAIR = collections.namedtuple('_PAIR', 'a b')
PARALLEL = [
    Call('nn.parallel', 'scatter', [
        Case('objects', lambda lib: repr(lib.nn.parallel.scatter((3, [1, 'x'], {'k': None}, _PAIR(1, 2)), [0, 1]))),
        Case('empty', lambda lib: repr(lib.nn.parallel.scatter([], ['cpu']))),
        Case('tensor to cpu', lambda lib: lib.nn.parallel.scatter(lib.ones(2), [lib.device('cpu')]), error=True),
        Case('tensor to gpu', lambda lib: lib.nn.parallel.scatter((lib.ones(2), 1), [0]), error=True)]),
    Call('nn.parallel.scatter_gather', 'scatter_kwargs', [
        Case('pad', lambda lib: repr(_par(lib).scatter_kwargs((1,), {'a': 2}, ['cpu', 'cpu']))),
        Case('kwargs only', lambda lib: repr(_par(lib).scatter_kwargs((), {'a': 2}, [0])))]),
    Call('nn.parallel', 'gather', [
        Case('objects', lambda lib: repr(lib.nn.parallel.gather([[None, {'k': None}], [None, {'k': None}]], 'cpu'))),
        Case('dict keys', lambda lib: lib.nn.parallel.gather([{'a': 1}, {'a': 2, 'b': 3}], 'cpu'), error=True),
        Case('cpu tensors', lambda lib: lib.nn.parallel.gather([lib.ones(2), lib.ones(2)], 0), error=True)]),
    Call('nn.parallel', 'replicate', [
        Case('no devices', lambda lib: lib.nn.parallel.replicate(lib.nn.Linear(2, 2), [])),
        Case('parameterless', _replicas),
        Case('parameters', lambda lib: lib.nn.parallel.replicate(lib.nn.Linear(2, 2), [0]), error=True),
        Case('cpu', lambda lib: lib.nn.parallel.replicate(lib.nn.ReLU(), ['cpu']), error=True)]),
    Call('nn.parallel', 'parallel_apply', [
        Case('nothing', lambda lib: lib.nn.parallel.parallel_apply([], []), error=True),
        Case('counts', lambda lib: lib.nn.parallel.parallel_apply([lib.nn.ReLU()], [1, 2]), error=True),
        Case('cpu', lambda lib: lib.nn.parallel.parallel_apply([lib.nn.ReLU()], [1], devices=['cpu']), error=True),
        Case('no accelerator', lambda lib: lib.nn.parallel.parallel_apply([lib.nn.ReLU()], [1]), error=True)]),
]


TRAINING = (OPTIMS + SCHEDS + SWALRS + INITS + INIT_EDGES + UTILS + RNN + SWA + OPTIMIZER + LR_BASE + COMPOSE_ERRORS +
            DIFFERENTIABLE + NN_SUBMODULES + PRUNE + PARALLEL)
