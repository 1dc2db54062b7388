"""The training entries of the registry (tests/registry_training.py) against PyTorch: optimizers step by step
with their state dicts both ways, schedulers' lr sequences and state, and the functions of nn.init, nn.utils
and optim.swa_utils. A check left out of an entry (a gap) must still fail, as in tests/test_registry.py."""
import importlib
import inspect
import re
import warnings

import numpy as np
import pytest
import torch

with warnings.catch_warnings():   # its first import scripts functions: torch.jit's deprecation warnings, once
    warnings.simplefilter('ignore')
    import torch.distributed.optim  # noqa: F401

import ember
from helpers import assert_same, fresh_storage_warning
from registry import TRAINING

OPTIMS = [e for e in TRAINING if e.kind == 'optim']
SCHEDS = [e for e in TRAINING if e.kind == 'sched']
CALLS = [e for e in TRAINING if e.kind == 'call']


def _base_exc(e):
    for c in type(e).__mro__:
        if c.__module__ == 'builtins':
            return c
    return Exception


def convert(obj, lib):
    """A state dict (or any nest of tensors) of one library with its tensors made in ``lib``."""
    if isinstance(obj, (torch.Tensor, ember.Tensor)):
        return lib.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: convert(v, lib) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(convert(v, lib) for v in obj)
    return obj


def same_tree(e, t, what, atol=1e-6, rtol=1e-5):
    """ember's nest ``e`` equals PyTorch's ``t``: dict keys in order, tensors by dtype/shape/value, the rest =."""
    if isinstance(t, torch.Tensor) and t.is_sparse:
        assert isinstance(e, ember.Tensor) and e.is_sparse, f'{what}: {e!r:.200}, PyTorch a sparse tensor'
        assert_same(e.to_dense(), t.to_dense(), atol, rtol, what)
    elif isinstance(t, torch.Tensor):
        assert_same(e, t, atol, rtol, what)
    elif isinstance(t, dict):
        assert isinstance(e, dict), f'{what}: {type(e).__name__}, PyTorch dict'
        assert list(e) == list(t), f'{what}: keys {list(e)}, PyTorch {list(t)}'
        for k in t:
            same_tree(e[k], t[k], f'{what}[{k!r}]', atol, rtol)
    elif isinstance(t, (list, tuple)):
        assert isinstance(e, (list, tuple)) and len(e) == len(t), f'{what}: {e!r:.200}, PyTorch {t!r:.200}'
        for i, (a, b) in enumerate(zip(e, t)):
            same_tree(a, b, f'{what}[{i}]', atol, rtol)
    elif callable(t) or callable(e):
        assert callable(t) and callable(e), f'{what}: {e!r}, PyTorch {t!r}'
    elif isinstance(t, float) and not isinstance(e, bool):
        assert isinstance(e, (int, float)) and np.isclose(e, t, atol=atol, rtol=rtol, equal_nan=True), \
            f'{what}: {e!r}, PyTorch {t!r}'
    else:
        assert type(e) is type(t) and e == t, f'{what}: {e!r} ({type(e).__name__}), PyTorch {t!r}'


# -- optimizers ------------------------------------------------------------------------------------------
def _arrays(seed, dtype, shapes):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, s).astype(dtype) for s in shapes]


def _params(lib, dtype, shapes):
    return [lib.tensor(a, requires_grad=True) for a in _arrays(0, dtype, shapes)]


def _loss(lib, params, step):
    """A smooth loss whose gradients differ per step (LBFGS and the closures evaluate it)."""
    total = 0
    for p, g in zip(params, _arrays(100 + step, np.float64, [tuple(p.shape) for p in params])):
        g = lib.tensor(g, dtype=p.dtype)
        total = total + (p * g).sum() + (p * p * (g * g + 0.5)).sum() + 0.1 * (p ** 4).sum()
    return total


def _closure(lib, opt, params, step):
    def closure():
        opt.zero_grad()
        loss = _loss(lib, params, step)
        loss.backward()
        return loss
    return closure


def _set_grads(lib, params, step, sparse=False):
    """Gradients that differ per step; ``sparse``: as COO tensors of some rows (others zero), rows by sparse_dim 1
    as nn.Embedding(sparse=True) gives them."""
    for p, g in zip(params, _arrays(100 + step, np.float64, [tuple(p.shape) for p in params])):
        if sparse:
            g[(np.arange(g.shape[0]) + step) % 3 == 0] = 0
            p.grad = lib.tensor(g, dtype=p.dtype).to_sparse(1)
        else:
            p.grad = lib.tensor(g, dtype=p.dtype)


def _sparse_closure(lib, params, step):
    """A closure for sparse gradients: it sets them (as a backward through sparse embeddings would) and returns
    the loss."""
    def closure():
        _set_grads(lib, params, step, sparse=True)
        return _loss(lib, params, step).detach()
    return closure


def _groups(params, config, groups):
    """'one' group, 'two' groups (the second with its own lr), or one group of 'named' parameters."""
    if groups == 'named':
        return [(f'p{i}', p) for i, p in enumerate(params)]
    if groups == 'one':
        return params
    return [{'params': params[:1]}, {'params': params[1:], 'lr': _lr(config) * 0.5}]


def _lr(config):
    lr = config.get('lr', 0.01)
    return 0.01 if callable(lr) else lr


def _config(lib, config):
    """Options given as ``fn(lib)`` (a tensor lr) made in ``lib``."""
    return {k: v(lib) if callable(v) else v for k, v in config.items()}


def _step(lib, entry, opt, params, step):
    """Step k: a closure on odd steps (and always for LBFGS), gradients set directly on even ones."""
    if entry.sparse and step % 2:
        return opt.step(_sparse_closure(lib, params, step))
    if entry.closure or step % 2:
        return opt.step(_closure(lib, opt, params, step))
    _set_grads(lib, params, step, entry.sparse)
    return opt.step()


def _make(lib, entry, config, dtype=np.float32, groups='one'):
    params = _params(lib, dtype, entry.shapes)
    return getattr(lib.optim, entry.name)(_groups(params, config, groups), **_config(lib, config)), params


def _compare_step(eo, to, ep, tp, er, tr, entry, what):
    same_tree(ep, tp, f'{what}: params', entry.atol, entry.rtol)
    if tr is not None or er is not None:
        same_tree(er, tr, f'{what}: step() return', entry.atol, entry.rtol)


def _run_config(entry, config, dtype, groups):
    """Step both libraries; compare params after each step, then state_dict, loading both ways, zero_grad,
    add_param_group."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        eo, ep = _make(ember, entry, config, dtype, groups)
        to, tp = _make(torch, entry, config, dtype, groups)
        for k in range(entry.steps):
            er, tr = _step(ember, entry, eo, ep, k), _step(torch, entry, to, tp, k)
            _compare_step(eo, to, ep, tp, er, tr, entry, f'step {k}')
        if 'state' not in entry.gaps:
            same_tree(eo.state_dict(), to.state_dict(), 'state_dict', entry.atol, entry.rtol)
            same_tree(eo.param_groups, to.param_groups, 'param_groups', entry.atol, entry.rtol)
            # each side loads the other's state dict and takes the next step as the original does
            eo2, ep2 = _make(ember, entry, config, dtype, groups)
            to2, tp2 = _make(torch, entry, config, dtype, groups)
            with torch.no_grad():
                for a, b, c, d in zip(ep2, ep, tp2, tp):
                    a.data = ember.tensor(b.detach().numpy().copy())
                    c.copy_(d)
            eo2.load_state_dict(convert(to.state_dict(), ember))
            to2.load_state_dict(convert(eo.state_dict(), torch))
            k = entry.steps
            er, tr = _step(ember, entry, eo2, ep2, k), _step(torch, entry, to, tp, k)
            _compare_step(eo2, to, ep2, tp, er, tr, entry, 'after ember loads PyTorch\'s state_dict')
            er, tr = _step(ember, entry, eo, ep, k), _step(torch, entry, to2, tp2, k)
            _compare_step(eo, to2, ep, tp2, er, tr, entry, 'after PyTorch loads ember\'s state_dict')
        for none in (False, True):
            eo.zero_grad(set_to_none=none)
            to.zero_grad(set_to_none=none)
            same_tree([p.grad for p in ep], [p.grad for p in tp], f'zero_grad(set_to_none={none})')
        if not entry.closure:
            for lib, o, ps in ((ember, eo, ep), (torch, to, tp)):
                extra = _params(lib, dtype, [(2, 2)])
                o.add_param_group({'params': extra if groups != 'named' else [('extra', extra[0])],
                                   'lr': _lr(config) * 0.25})
                ps.extend(extra)
            k = entry.steps + 1
            er, tr = _step(ember, entry, eo, ep, k), _step(torch, entry, to, tp, k)
            _compare_step(eo, to, ep, tp, er, tr, entry, 'after add_param_group')
            same_tree(eo.param_groups, to.param_groups, 'param_groups after add_param_group', entry.atol, entry.rtol)


def _desc(config):
    return ' '.join(f'{k}={getattr(v, "__name__", v)}' for k, v in config.items()) or 'defaults'


OPT_CASES = [(e, i, c) for e in OPTIMS for i, c in enumerate(e.configs)]


@pytest.mark.parametrize('entry,i,config', OPT_CASES, ids=[f'{e.name}-{_desc(c)}' for e, _, c in OPT_CASES])
def test_optimizer(entry, i, config):
    """One group (float32; float64 and named parameters for the first config), then two groups with their own lr."""
    problems = []
    runs = [(np.float32, 'one'), (np.float32, 'two')] + ([(np.float64, 'one'), (np.float32, 'named')] if i == 0 else [])
    if entry.closure:   # LBFGS has a single param group
        runs = [r for r in runs if r[1] != 'two']
    for dtype, groups in runs:
        try:
            _run_config(entry, config, dtype, groups)
        except AssertionError as err:
            problems.append(f'{np.dtype(dtype).name}, {groups} group(s): {err}'[:800])
        except Exception as err:
            problems.append(f'{np.dtype(dtype).name}, {groups} group(s): raises {err!r:.400}')
    _report(entry, 'forward', problems)


def _report(entry, check, problems):
    gap = entry.gaps.get(check)
    if gap is not None:
        assert problems, f'stale gap: {entry.id} now passes {check!r}; remove the gap ({gap})'
        return
    assert not problems, '\n'.join(problems)


ERR_CASES = [(e, c) for e in OPTIMS for c in e.errors]


@pytest.mark.parametrize('entry,config', ERR_CASES, ids=[f'{e.name}-{_desc(c)}' for e, c in ERR_CASES])
def test_optimizer_error(entry, config):
    """PyTorch refuses these options (at construction or first step): ember raises the same exception type."""
    def attempt(lib):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                opt, params = _make(lib, entry, config)
                _step(lib, entry, opt, params, 0)
        except Exception as err:
            return err
        return None
    te, ee = attempt(torch), attempt(ember)
    assert te is not None, f'PyTorch accepts {config}: move it to the configs'
    assert isinstance(ee, _base_exc(te)), f'PyTorch raises {te!r:.200}, ember {ee!r:.300}'


@pytest.mark.parametrize('entry', OPTIMS, ids=[e.name for e in OPTIMS])
def test_optimizer_options_all_exercised(entry):
    """Every option PyTorch's constructor accepts is run, refused as PyTorch refuses it, or refused by name."""
    sig = inspect.signature(getattr(torch.optim, entry.name).__init__).parameters
    missing = [n for n in sig if n not in ('self', 'params') and n not in entry.options()]
    assert not missing, f'{entry.name}: options neither exercised nor refused in the registry: {missing}'


def test_every_optimizer_has_an_entry():
    names = {e.name for e in OPTIMS}
    missing = [n for n in dir(torch.optim) if isinstance(getattr(torch.optim, n), type) and
               issubclass(getattr(torch.optim, n), torch.optim.Optimizer) and n not in names and n != 'Optimizer']
    assert not missing, f'optimizers of torch.optim without a registry entry: {missing}'


# -- schedulers ------------------------------------------------------------------------------------------
def _sched_pair(lib, entry, make, opt_name, opt_kwargs):
    params = _params(lib, np.float32, [(2,), (3,)])
    groups = [{'params': params[:1]}, {'params': params[1:], 'lr': opt_kwargs['lr'] * 0.5}]
    opt = getattr(lib.optim, opt_name)(groups, **opt_kwargs)
    return opt, make(lib, opt)


def _hyper(opt):
    """What a scheduler drives in each group: lr, and momentum or betas where the optimizer has them."""
    return [{k: g[k] for k in ('lr', 'momentum', 'betas') if k in g} for g in opt.param_groups]


def _sched_step(lib, entry, opt, sched, k):
    opt.step()
    if entry.metrics is not None:
        sched.step(entry.metrics[k % len(entry.metrics)])
    else:
        sched.step()


def _messages(caught):
    """The warnings as 'Category: message', less the C++ source location PyTorch's own warnings end with."""
    return [re.sub(r' \(Triggered internally at [^)]*\.\)$', '', f'{w.category.__name__}: {w.message}') for w in caught]


def _run_sched(entry, make, opt_name, opt_kwargs):
    with warnings.catch_warnings(record=True) as ew:
        warnings.simplefilter('always')
        eo, es = _sched_pair(ember, entry, make, opt_name, opt_kwargs)
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter('always')
        to, ts = _sched_pair(torch, entry, make, opt_name, opt_kwargs)
    assert _messages(ew) == _messages(tw), f'warnings at construction: {_messages(ew)}, PyTorch {_messages(tw)}'
    same_tree(_hyper(eo), _hyper(to), 'initial lr/momentum')
    for k in range(entry.steps):
        with warnings.catch_warnings(record=True) as ew:
            warnings.simplefilter('always')
            _sched_step(ember, entry, eo, es, k)
        with warnings.catch_warnings(record=True) as tw:
            warnings.simplefilter('always')
            _sched_step(torch, entry, to, ts, k)
        assert _messages(ew) == _messages(tw), f'step {k} warnings: {_messages(ew)}, PyTorch {_messages(tw)}'
        same_tree(_hyper(eo), _hyper(to), f'step {k}: lr/momentum of each group')
        same_tree(es.get_last_lr(), ts.get_last_lr(), f'step {k}: get_last_lr()')
        if 'state' not in entry.gaps:
            same_tree(es.state_dict(), ts.state_dict(), f'step {k}: state_dict')
    if 'state' not in entry.gaps:   # ember's scheduler resumes from PyTorch's state dict, and the reverse
        for lib, src_opt, src in ((ember, to, ts), (torch, eo, es)):
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                o2, s2 = _sched_pair(lib, entry, make, opt_name, opt_kwargs)
                o2.load_state_dict(convert(src_opt.state_dict(), lib))
                s2.load_state_dict(convert(src.state_dict(), lib))
                other = eo if lib is torch else to
                for k in range(entry.steps, entry.steps + 3):
                    _sched_step(lib, entry, o2, s2, k)
                    _sched_step(torch if lib is ember else ember, entry, other, es if lib is torch else ts, k)
                    mine, theirs = (_hyper(o2), _hyper(other)) if lib is ember else (_hyper(other), _hyper(o2))
                    same_tree(mine, theirs, f'{"ember" if lib is ember else "PyTorch"} resumed from the other\'s '
                              f'state_dict, step {k}')


SCHED_CASES = [(e, d, o) for e in SCHEDS for d in e.makes for o in e.opts]


@pytest.mark.parametrize('entry,desc,opt', SCHED_CASES, ids=[f'{e.name}-{d}-{o[0]}' for e, d, o in SCHED_CASES])
def test_scheduler(entry, desc, opt):
    """lr (and momentum) of two param groups, get_last_lr, state_dict and warnings after every step, then a
    resume from the other library's state dicts."""
    problems = []
    try:
        _run_sched(entry, entry.makes[desc], *opt)
    except AssertionError as err:
        problems.append(str(err)[:1200])
    except Exception as err:
        problems.append(f'raises {err!r:.400}')
    _report(entry, 'forward', problems)


SCHED_ERRORS = [(e, d) for e in SCHEDS for d in e.errors]


@pytest.mark.parametrize('entry,desc', SCHED_ERRORS, ids=[f'{e.name}-{d}' for e, d in SCHED_ERRORS])
def test_scheduler_error(entry, desc):
    def attempt(lib):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                _sched_pair(lib, entry, entry.errors[desc], *entry.opts[0])
        except Exception as err:
            return err
        return None
    te, ee = attempt(torch), attempt(ember)
    assert te is not None, f'PyTorch accepts {desc}: move it to the cases'
    assert isinstance(ee, _base_exc(te)), f'PyTorch raises {te!r:.200}, ember {ee!r:.300}'


@pytest.mark.parametrize('name', ['StepLR', 'OneCycleLR', 'ReduceLROnPlateau'])
def test_scheduler_step_before_optimizer_step_warns_like_torch(name):
    """scheduler.step() before optimizer.step(): PyTorch's warning (or none), word for word."""
    entry = next(e for e in SCHEDS if e.name == name)
    got = []
    for lib in (ember, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            opt, sched = _sched_pair(lib, entry, next(iter(entry.makes.values())), *entry.opts[0])
            sched.step(*([1.0] if entry.metrics else []))
            opt.step()
        got.append(_messages(caught))
    assert got[0] == got[1], f'ember warns {got[0]}, PyTorch {got[1]}'


def test_every_scheduler_has_an_entry():
    L = torch.optim.lr_scheduler
    names = {e.name for e in SCHEDS}
    missing = [n for n in dir(L) if not n.startswith('_') and isinstance(getattr(L, n), type) and
               issubclass(getattr(L, n), (L.LRScheduler, L.ReduceLROnPlateau)) and n not in names and
               n != 'LRScheduler']
    assert not missing, f'schedulers without a registry entry: {missing}'


def _module(name, missing):
    try:
        return importlib.import_module(name)
    except ImportError:
        return missing


def test_entries_are_pytorch_api():
    """Every name the training entries claim exists in PyTorch."""
    missing = []
    for entry in TRAINING:
        for full in entry.names():
            obj = torch
            for i, part in enumerate(full.split('.')[1:], 2):   # attribute by attribute: torch.Tensor.__iter__
                obj = getattr(obj, part, missing)
                if obj is missing:   # a submodule PyTorch imports lazily: torch.optim.adam, torch.nn.utils.prune
                    obj = _module('.'.join(full.split('.')[:i]), missing)
            if obj is missing:
                missing.append(full)
    assert not missing, f'not PyTorch API: {missing}'


# -- functions: nn.init, nn.utils, swa_utils ---------------------------------------------------------------
CALL_CASES = [(e, c) for e in CALLS for c in e.cases]


def _attempt(entry, case, lib):
    """(result or exception, warnings) of ``case.fn(lib)``, right after ``manual_seed`` for a seeded entry, with
    the once-a-process storage warning fresh."""
    fresh_storage_warning()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        if entry.seed is not None:
            lib.manual_seed(entry.seed)
        try:
            return case.fn(lib), _messages(caught)
        except Exception as err:
            return err, _messages(caught)


@pytest.mark.parametrize('entry,case', CALL_CASES, ids=[f'{e.id}-{c.desc}' for e, c in CALL_CASES])
def test_call(entry, case):
    """The values (bit for bit for a seeded entry), PyTorch's warnings, or PyTorch's exception type."""
    t, tw = _attempt(entry, case, torch)
    e, ew = _attempt(entry, case, ember)
    judge(entry, case, t, tw, e, ew, lambda: same_tree(e, t, 'result', entry.atol, entry.rtol))


@pytest.mark.parametrize('ns,torch_mod', [('nn.init', torch.nn.init), ('optim.swa_utils', torch.optim.swa_utils)])
def test_every_function_has_an_entry(ns, torch_mod):
    names = {e.name for e in TRAINING if getattr(e, 'ns', None) == ns}
    missing = [n for n in getattr(torch_mod, '__all__', []) if n not in names]
    assert not missing, f'torch.{ns} names without a registry entry: {missing}'


def judge(entry, case, t, tw, e, ew, compare):
    """One case's verdict from PyTorch's result ``t`` (or exception) and warnings ``tw`` and ember's ``e``, ``ew``:
    a refusal naming the unsupported argument, PyTorch's exception type, or ``compare()`` passing and the same
    warnings; a gap on the case must still fail (else it is stale). Shared by the data registry's test."""
    if case.unsupported:   # PyTorch runs it; ember refuses naming what it lacks, listed as a gap
        assert not isinstance(t, Exception), f'PyTorch raises {t!r:.200}: make it an error case'
        assert isinstance(e, Exception) and case.unsupported in str(e), \
            f'ember must refuse {case.unsupported!r} with an error naming it, got {e!r:.300}'
        assert 'case:' + case.desc in entry.gaps, f'give the refusal of {case.unsupported!r} a gap with its reason'
        return
    if case.error:
        assert isinstance(t, Exception), f'PyTorch does not raise here (it returns {t!r:.200})'
        assert isinstance(e, _base_exc(t)), f'PyTorch raises {t!r:.200}, ember {e!r:.300}'
        return
    if isinstance(t, Exception):
        pytest.fail(f'PyTorch raises {t!r}: mark the case error=True')
    problems = []
    if isinstance(e, Exception):
        problems.append(f'ember raises {e!r:.400}')
    else:
        try:
            compare()
        except AssertionError as err:
            problems.append(str(err)[:1200])
    if ew != tw:
        problems.append(f'warnings: ember {ew}, PyTorch {tw}')
    gap = entry.gaps.get('case:' + case.desc)
    if gap is not None:
        assert problems, f'stale gap: this case now agrees with PyTorch; remove its gap ({gap})'
        return
    assert not problems, '\n'.join(problems)
