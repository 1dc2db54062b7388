"""Every torch.nn class entry of tests/registry_nn.py, on every build, against PyTorch: the module made right
after ``manual_seed(0)`` in both libraries (parameters and buffers equal bit for bit, repr to the character,
state_dict keys), then each sample: forward values, dtype, grad_fn names, input and parameter gradients
(float64 gradcheck where marked), buffers after the call, train and eval, ``.double()``, and PyTorch's
exception type on its error cases. Each (entry, build) is one test that reports every property that differs."""
import copy
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import assert_same
from registry import _Dtype
from registry_nn import MODULES, Sub
from test_registry import _base_exc, _flat, make_args

GRADCHECK_PARAMS = 150   # gradcheck covers the parameters of modules up to this size (all are compared with PyTorch)
CASES = [(m, b) for m in MODULES for b in m.builds]
ENTRY_GAPS = [(m, check) for m in MODULES for check in m.gaps if ':' not in check]


def _resolve(lib, v):
    """A constructor argument in ``lib``: dtypes, child modules, arrays as tensors."""
    if isinstance(v, _Dtype):
        return getattr(lib, v.name)
    if isinstance(v, Sub):
        return getattr(lib.nn, v.name)(*[_resolve(lib, a) for a in v.args],
                                       **{k: _resolve(lib, a) for k, a in v.kwargs.items()})
    if isinstance(v, np.ndarray):
        return lib.tensor(v)
    if isinstance(v, list) and v and isinstance(v[0], Sub):
        return [_resolve(lib, x) for x in v]
    if isinstance(v, dict):
        return {k: _resolve(lib, x) for k, x in v.items()}
    return v


def construct(lib, mod, build):
    """``lib.nn.<name>(...)`` right after ``manual_seed(0)``, or the exception it raises."""
    lib.manual_seed(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return getattr(lib.nn, mod.name)(*[_resolve(lib, a) for a in build.args],
                                             **{k: _resolve(lib, v) for k, v in build.kwargs.items()})
    except Exception as e:   # compared with PyTorch's exception
        return e


def _same(problems, what, e, t, atol=1e-5, rtol=1e-4):
    """Record a difference between ember's ``e`` and PyTorch's ``t`` (tensors, modules by repr, containers)."""
    try:
        _assert_like(e, t, atol, rtol, what)
        return True
    except AssertionError as err:
        problems.append(str(err)[:600])
        return False


def _assert_like(e, t, atol, rtol, what):
    if _uninitialized(t):   # no values to compare (PyTorch refuses to read them): its type and repr
        assert type(e).__name__ == type(t).__name__ and repr(e) == repr(t), f'{what}: {e!r}, PyTorch {t!r}'
    elif isinstance(t, torch.nn.Module) or isinstance(t, torch.nn.Parameter):
        assert type(e).__name__ == type(t).__name__, f'{what}: type {type(e).__name__}, PyTorch {type(t).__name__}'
        assert repr(e) == repr(t), f'{what}: repr\n{e!r}\nPyTorch:\n{t!r}'
        if isinstance(t, torch.nn.Parameter) and not _uninitialized(t):
            assert_same(e.detach(), t.detach(), atol, rtol, what)
    elif isinstance(t, dict):
        assert list(e) == list(t), f'{what}: keys {list(e)}, PyTorch {list(t)}'
        for k in t:
            _assert_like(e[k], t[k], atol, rtol, f'{what}[{k!r}]')
    elif isinstance(t, (list, tuple)) and not isinstance(t, torch.Size):
        assert isinstance(e, (list, tuple)) and len(e) == len(t), f'{what}: {e!r:.200}, PyTorch {t!r:.200}'
        for i, (a, b) in enumerate(zip(e, t)):
            _assert_like(a, b, atol, rtol, f'{what}[{i}]')
    elif isinstance(t, torch.Tensor):
        assert_same(e, t, atol, rtol, what)
    elif isinstance(t, torch.Size):
        assert tuple(e) == tuple(t), f'{what}: {e}, PyTorch {t}'
    else:
        assert type(e).__name__ == type(t).__name__ and e == t, f'{what}: {e!r:.300}, PyTorch {t!r:.300}'


def _uninitialized(p):
    """A lazy module's UninitializedParameter or UninitializedBuffer (either library's)."""
    return type(p).__name__ in ('UninitializedParameter', 'UninitializedBuffer')


def compare_state(em, tm, problems, when):
    """Parameters and buffers (names, shapes, dtypes, values exactly), requires_grad, repr, state_dict keys."""
    if not isinstance(tm, torch.nn.Module):
        _same(problems, f'{when}: object', em, tm)
        return
    if repr(em) != repr(tm):
        problems.append(f'{when}: repr\n{em!r}\nPyTorch:\n{tm!r}')
    for kind in ('parameters', 'buffers'):
        en, tn = dict(getattr(em, 'named_' + kind)()), dict(getattr(tm, 'named_' + kind)())
        if list(en) != list(tn):
            problems.append(f'{when}: {kind} {list(en)}, PyTorch {list(tn)}')
            continue
        for k, t in tn.items():
            e = en[k]
            if t is None or e is None:
                if (t is None) != (e is None):
                    problems.append(f'{when}: {kind[:-1]} {k} is {e!r:.80}, PyTorch {t!r:.80}')
                continue
            if _uninitialized(t) or _uninitialized(e):   # a lazy module's: no values yet (PyTorch refuses to read them)
                if type(e).__name__ != type(t).__name__ or e.requires_grad != t.requires_grad:
                    problems.append(f'{when}: {kind[:-1]} {k} is {type(e).__name__} (requires_grad {e.requires_grad}), '
                                    f'PyTorch {type(t).__name__} ({t.requires_grad})')
                continue
            tol = (0, 0) if when == 'init' else (1e-6, 1e-5)   # later states went through kernels' rounding
            _same(problems, f'{when}: {kind[:-1]} {k}', e.detach(), t.detach(), *tol)
            if e.requires_grad != t.requires_grad:
                problems.append(f'{when}: {k}.requires_grad {e.requires_grad}, PyTorch {t.requires_grad}')
    if list(em.state_dict()) != list(tm.state_dict()):
        problems.append(f'{when}: state_dict keys {list(em.state_dict())}, PyTorch {list(tm.state_dict())}')


@pytest.mark.parametrize('mod,build', CASES, ids=[f'{m.id}-{b.desc}' for m, b in CASES])
def test_module(mod, build):
    problems = _problems(mod, build)
    gap = mod.gaps.get('build:' + build.desc)
    if gap is not None:
        assert problems, f'stale gap: this build now passes every check; remove its gap from the registry ({gap})'
        return
    assert not problems, '\n'.join(problems)


def _still_needed(mod, check):
    """Whether the check left out of ``mod`` still fails on some build (else the gap is stale)."""
    lifted = copy.copy(mod)
    lifted.gaps = {k: v for k, v in mod.gaps.items() if k != check}
    return any('build:' + b.desc not in mod.gaps and _problems(lifted, b) for b in mod.builds)


def test_gaps_are_still_needed():
    """A check left out of an entry must still fail on some build (none is left out today: this keeps it so)."""
    stale = [f'{m.id}: {c!r} ({m.gaps[c]})' for m, c in ENTRY_GAPS if not _still_needed(m, c)]
    assert not stale, 'stale gaps: these entries now pass on every build; remove the gaps:\n' + '\n'.join(stale)


def _problems(mod, build):
    """Every property of ``mod`` built as ``build`` that differs from PyTorch."""
    problems = []
    tm, em = construct(torch, mod, build), construct(ember, mod, build)
    if build.error:
        assert isinstance(tm, Exception), f'PyTorch does not raise on this error build (it returns {tm!r:.200})'
        if not isinstance(em, _base_exc(tm)):
            problems.append(f'constructor: PyTorch raises {type(tm).__name__} ({str(tm)[:120]}), ember '
                            f'{"raises " + repr(em)[:200] if isinstance(em, Exception) else "returns"}')
        return problems
    if isinstance(tm, Exception):
        pytest.fail(f'PyTorch raises {type(tm).__name__}: {tm}: mark the build error=True or fix it')
    if isinstance(em, Exception):
        return [f'constructor: ember raises {em!r:.300}']
    compare_state(em, tm, problems, 'init')
    if build.probe is not None:
        _same(problems, 'probe', _run(build.probe, ember, em), _run(build.probe, torch, tm))
        compare_state(em, tm, problems, 'after probe')
    f64 = [s for s in build.samples if _is_f64(s)]
    for group in ([s for s in build.samples if not _is_f64(s)], f64):
        if group is f64 and f64:
            em.double(), tm.double()
            compare_state(em, tm, problems, '.double()')
        for mode in (('train', 'eval') if build.modes else ('train',)):
            if isinstance(tm, torch.nn.Module):
                em.train(mode == 'train'), tm.train(mode == 'train')
            for s in group:
                check_sample(mod, build, em, tm, s, f'{mode} {s.desc}', problems)
    return problems


def _is_f64(sample):
    """A float64 sample: it runs on the module made ``.double()``."""
    return any(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in sample.args)


def _run(fn, lib, *args, **kwargs):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return fn(lib, *args, **kwargs)
    except Exception as e:   # compared with the other library's exception
        return e


def check_sample(mod, build, em, tm, sample, what, problems):
    """One call of both modules on ``sample``: outputs, grad_fns, gradients, buffers after it."""
    targs, tkw, tleaves = make_args(torch, sample, mod.grad)
    eargs, ekw, eleaves = make_args(ember, sample, mod.grad)
    torch.manual_seed(1)
    te = _run(mod.call, torch, tm, *targs, build=build, **tkw)
    ember.manual_seed(1)
    ee = _run(mod.call, ember, em, *eargs, build=build, **ekw)
    if sample.error:
        assert isinstance(te, Exception), f'{what}: PyTorch does not raise on this error case'
        if not isinstance(ee, _base_exc(te)):
            problems.append(f'{what}: PyTorch raises {type(te).__name__} ({str(te)[:120]}), ember '
                            f'{"raises " + repr(ee)[:200] if isinstance(ee, Exception) else "returns"}')
        return
    if isinstance(te, Exception):
        pytest.fail(f'{what}: PyTorch raises {type(te).__name__}: {te}: mark the sample error=True or fix it')
    if isinstance(ee, Exception):
        problems.append(f'{what}: ember raises {ee!r:.300}')
        return
    if not _same(problems, f'{what}: forward', ee, te, mod.atol, mod.rtol):
        return
    if isinstance(tm, torch.nn.Module):
        for (k, e), (_, t) in zip(em.named_buffers(), tm.named_buffers()):
            _same(problems, f'{what}: buffer {k} after the call', e, t, mod.atol, mod.rtol)
    if mod.grad and 'backward' not in mod.gaps:
        check_grads(mod, em, tm, ee, te, eleaves, tleaves, what, problems)
        if sample.gradcheck:
            gradcheck(mod, build, em, sample, what, problems)


def check_grads(mod, em, tm, ee, te, eleaves, tleaves, what, problems):
    """grad_fn names, then gradients of every input and parameter against PyTorch's."""
    touts = [o for o in _flat(te) if isinstance(o, torch.Tensor)]
    eouts = [o for o in _flat(ee) if isinstance(o, ember.Tensor)]
    for i, (e, t) in enumerate(zip(eouts, touts)):
        if e.requires_grad != t.requires_grad:
            problems.append(f'{what}: output {i} requires_grad {e.requires_grad}, PyTorch {t.requires_grad}')
            return
        name = e.grad_fn.name() if e.grad_fn is not None else None
        if t.grad_fn is not None and 'grad_fn' not in mod.gaps and name != t.grad_fn.name():
            problems.append(f'{what}: output {i} grad_fn {name}, PyTorch {t.grad_fn.name()}')
    pairs = [(e, t) for e, t in zip(eouts, touts) if t.requires_grad and t.numel()]
    if not pairs:
        return
    rng = np.random.default_rng(1)
    seeds = [rng.uniform(-1, 1, size=tuple(t.shape)).astype(t.detach().numpy().dtype) for _, t in pairs]
    tparams = dict(tm.named_parameters()) if isinstance(tm, torch.nn.Module) else {}
    eparams = dict(em.named_parameters()) if isinstance(em, ember.nn.Module) else {}
    for p in list(tparams.values()) + list(eparams.values()):
        p.grad = None
    torch.autograd.backward([t for _, t in pairs], [torch.tensor(s) for s in seeds])
    try:
        ember.autograd.backward([e for e, _ in pairs], [ember.tensor(s) for s in seeds])
    except Exception as err:
        problems.append(f'{what}: backward: ember raises {err!r:.300}')
        return
    named = [(f'input {i}', e, t) for i, (e, t) in enumerate(zip(eleaves, tleaves))]
    named += [(f'parameter {k}', eparams.get(k), t) for k, t in tparams.items()]
    for name, e, t in named:
        if e is None:
            continue
        if t.grad is None:
            if e.grad is not None and np.any(e.grad.numpy()):
                problems.append(f'{what}: grad of {name}: ember has one, PyTorch none')
        elif e.grad is None:
            problems.append(f'{what}: grad of {name}: missing (PyTorch has one)')
        else:
            _same(problems, f'{what}: grad of {name}', e.grad, t.grad, mod.grad_atol, mod.rtol * 10)


def gradcheck(mod, build, em, sample, what, problems):
    """ember's float64 gradients for the inputs and every parameter equal finite differences."""
    args, kwargs, leaves = make_args(ember, sample)
    em = copy.deepcopy(em)   # its forward calls must not move the running statistics the next sample reads
    params = [p for p in em.parameters() if p.requires_grad] if isinstance(em, ember.nn.Module) else []
    if sum(p.numel() for p in params) > GRADCHECK_PARAMS:   # each element costs two forward calls
        params = []

    def f(*_):   # gradcheck perturbs the tensors it is given in place: the inputs and the parameters
        ember.manual_seed(1)
        out = mod.call(ember, em, *args, build=build, **kwargs)
        return tuple(o for o in _flat(out) if isinstance(o, ember.Tensor) and o.requires_grad)
    try:
        if not ember.autograd.gradcheck(f, leaves + params, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=False):
            problems.append(f'{what}: gradcheck: ember gradients differ from finite differences')
    except Exception as err:
        problems.append(f'{what}: gradcheck: ember raises {err!r:.300}')
