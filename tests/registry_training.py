"""The registry's entries for training code: the optimizers of ``torch.optim``, the schedulers of
``torch.optim.lr_scheduler``, ``torch.optim.swa_utils``, ``torch.nn.init`` and ``torch.nn.utils``, as data
(no torch import: tools/supported.py reads them). tests/test_registry_training.py runs them against PyTorch.

Three kinds: ``Optim`` (constructor options stepped on the same parameters and gradients in both libraries),
``Sched`` (a scheduler's lr sequence and state) and ``Call`` (any function: ``case(lib)`` returns what is
compared). Callables receive the library (``torch`` or ``ember``) as ``lib``.
"""
import numpy as np

CHECKS_TRAINING = {'state': 'S'}   # state_dict layout and values equal to PyTorch's, loadable both ways


class Optim:
    """One optimizer class. ``configs``: constructor options, each run for ``steps`` steps on two float32
    parameters (one group, then two groups with the second's own lr) with the same gradients in both libraries;
    ``errors``: options PyTorch refuses (at construction or first step), ember must raise the same type;
    ``closure``: step needs a closure (LBFGS); ``shapes``: of the parameters."""
    kind = 'optim'

    def __init__(self, name, configs, errors=(), steps=4, closure=False, gaps=None, rtol=1e-5, atol=1e-6,
                 shapes=((3, 4), (5,))):
        self.name, self.configs, self.errors, self.steps = name, list(configs), list(errors), steps
        self.closure, self.gaps, self.rtol, self.atol, self.shapes = closure, dict(gaps or {}), rtol, atol, shapes

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
                 errors=None, gaps=None):
        self.name, self.makes, self.steps, self.opts, self.metrics = name, dict(makes), steps, list(opts), metrics
        self.errors, self.gaps = dict(errors or {}), dict(gaps or {})

    @property
    def id(self):
        return f'lr_scheduler.{self.name}'

    def checks(self):
        got = {'forward', 'state'}
        if self.errors:
            got.add('errors')
        return got - set(self.gaps)

    def names(self):
        return {f'torch.optim.lr_scheduler.{self.name}': self.checks()}


class Case:
    """One call of a ``Call`` entry: ``fn(lib)`` returns what is compared (tensors, numbers, lists of them).
    ``error``: PyTorch raises, ember must raise the same type; ``unsupported``: ember refuses naming it."""
    def __init__(self, desc, fn, error=False, unsupported=None):
        self.desc, self.fn, self.error, self.unsupported = desc, fn, error, unsupported


class Call:
    """One function or class of ``ns`` checked through ``cases`` (Case list). ``seed``: each case runs right
    after ``manual_seed(seed)`` and compares bit for bit (``exact``) or to rounding (atol/rtol)."""
    kind = 'call'

    def __init__(self, ns, name, cases, seed=None, exact=False, atol=1e-6, rtol=1e-5, gaps=None):
        self.ns, self.name, self.cases, self.seed, self.exact = ns, name, list(cases), seed, exact
        self.atol, self.rtol = (0.0, 0.0) if exact else (atol, rtol)
        self.gaps = dict(gaps or {})

    @property
    def id(self):
        return f'{self.ns}.{self.name}'

    def checks(self):
        got = {'forward'}
        if any(c.error for c in self.cases):
            got.add('errors')
        return got - set(self.gaps)

    def names(self):
        return {f'torch.{self.ns}.{self.name}': self.checks()}


# -- optimizers ------------------------------------------------------------------------------------------
NO_SPARSE = ('ember has no sparse tensors: SparseAdam refuses the dense gradients ember computes, with PyTorch\'s '
             'error, and no optimizer sees a sparse gradient (nn.Embedding(sparse=True) is refused)')
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
    Optim('SparseAdam', [dict(), dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, maximize=True)],
          gaps={'forward': NO_SPARSE, 'state': NO_SPARSE},
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

TRAINING = OPTIMS + SCHEDS
