"""Every entry of tests/registry.py, on every sample, against PyTorch: forward value, dtype and shape,
requires_grad and grad_fn names, gradients (against PyTorch, and float64 finite differences), the
method, in-place and ``out=`` forms, aliases, and PyTorch's exception type on its error cases.
Each (entry, sample) is one test that computes once and reports every property that differs."""
import copy
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import assert_same
from registry import OPS, View

CASES = [(op, s) for op in OPS for s in op.samples()]   # a gapped sample runs too: it must still fail
ENTRY_GAPS = [(op, check) for op in OPS for check in op.gaps if ':' not in check]


def _ids():
    return [f'{op.id}-{s.desc}' for op, s in CASES]


def _tensor(lib, a, grad):
    rg = grad and a.dtype.kind == 'f'
    return lib.tensor(a, requires_grad=rg) if rg else lib.tensor(a)


def make_args(lib, sample, grad=True):
    """Turn a sample's arrays into ``lib`` tensors: (args, leaves that require grad)."""
    leaves = []

    def conv(v, key):
        rg = grad and (sample.grad is True or (sample.grad is not False and key in sample.grad))
        if isinstance(v, View):
            leaf = _tensor(lib, v.base, rg)
            leaves.append(leaf)
            return v.fn(leaf)
        if isinstance(v, np.ndarray):
            t = _tensor(lib, v, rg)
            leaves.append(t)
            return t
        if isinstance(v, (list, tuple)) and v and all(isinstance(x, (np.ndarray, View)) for x in v):
            return type(v)(conv(x, key) for x in v)
        return v
    args = tuple(conv(v, i) for i, v in enumerate(sample.args))
    kwargs = {k: conv(v, k) for k, v in sample.kwargs.items()}
    return args, kwargs, [t for t in leaves if t.requires_grad]


def run(lib, fn, sample, grad=True):
    """(result, args, kwargs, leaves) or (exception, ...) for fn(lib, *args, **kwargs)."""
    args, kwargs, leaves = make_args(lib, sample, grad)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return fn(lib, *args, **kwargs), args, kwargs, leaves
    except Exception as e:   # compared with PyTorch's exception below
        return e, args, kwargs, leaves


def _base_exc(e):
    """The builtin exception class PyTorch's exception is (torch.linalg's errors subclass RuntimeError)."""
    for c in type(e).__mro__:
        if c.__module__ == 'builtins':
            return c
    return Exception


def same_outcome(e, t, op, what, problems):
    """ember's result ``e`` matches PyTorch's ``t``: the same exception type or the same values."""
    if isinstance(t, Exception):
        if not isinstance(e, _base_exc(t)):
            problems.append(f'{what}: PyTorch raises {type(t).__name__} ({str(t)[:120]}), ember '
                            f'{"returns " + type(e).__name__ if not isinstance(e, Exception) else "raises " + repr(e)[:200]}')
        return False
    if isinstance(e, Exception):
        problems.append(f'{what}: ember raises {e!r:.300}')
        return False
    try:
        assert_same(e, t, op.atol, op.rtol, what)
    except AssertionError as err:
        problems.append(str(err)[:600])
        return False
    return True


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _flat(o)]
    return [out]


@pytest.mark.parametrize('op,sample', CASES, ids=_ids())
def test_registry(op, sample):
    problems = _problems(op, sample)
    gap = op.gaps.get('sample:' + sample.desc)
    if gap is not None:
        assert problems, f'stale gap: this sample now passes every check; remove its gap from the registry ({gap})'
        return
    assert not problems, '\n'.join(problems)


@pytest.mark.parametrize('op,check', ENTRY_GAPS, ids=[f'{op.id}-{c}' for op, c in ENTRY_GAPS])
def test_gap_is_still_needed(op, check):
    """A check left out of an entry (a gap) must still fail on some sample: a fixed gap is removed, so that
    SUPPORTED.md stays true. Stops at the first sample that fails, so a needed gap costs little."""
    lifted = copy.copy(op)
    lifted.gaps = {k: v for k, v in op.gaps.items() if k != check}
    for s in op.samples():
        if 'sample:' + s.desc not in op.gaps and _problems(lifted, s):
            return
    pytest.fail(f'stale gap: {op.id} now passes {check!r} on every sample; remove the gap ({op.gaps[check]})')


def _problems(op, sample):
    """Every property of ``op`` on ``sample`` that differs from PyTorch (an empty list when all agree)."""
    problems = []
    te, targs, tkw, tleaves = run(torch, op.call, sample)
    if sample.error:
        assert isinstance(te, Exception), f'PyTorch does not raise on this error case (it returns {te!r:.200})'
    elif isinstance(te, Exception):
        pytest.fail(f'PyTorch raises {type(te).__name__}: {te}: mark the sample error=True or fix it')
    ee, eargs, ekw, eleaves = run(ember, op.call, sample)
    if sample.unsupported:
        if not (isinstance(ee, Exception) and sample.unsupported in str(ee)):
            problems.append(f'ember must refuse {sample.unsupported!r} with an error naming it, got {ee!r:.300}')
        return problems
    ok = same_outcome(ee, te, op, 'forward', problems)
    if ok:
        try:
            check_autograd(op, sample, ee, te, eleaves, tleaves, problems)
        except Exception as err:   # a gapped sample may fail anywhere; it is reported, never raised
            problems.append(f'autograd: {err!r:.300}')
    if not sample.error:
        check_forms(op, sample, te, problems)
    return problems


def check_autograd(op, sample, ee, te, eleaves, tleaves, problems):
    """requires_grad, grad_fn names, gradients against PyTorch, float64 gradcheck (and gradgradcheck)."""
    if 'backward' in op.gaps:
        return
    touts = [o for o in _flat(te) if isinstance(o, torch.Tensor)]
    eouts = [o for o in _flat(ee) if isinstance(o, ember.Tensor)]
    for i, (e, t) in enumerate(zip(eouts, touts)):
        if e.requires_grad != t.requires_grad:
            problems.append(f'output {i}: requires_grad {e.requires_grad}, PyTorch {t.requires_grad}')
            return
        name = e.grad_fn.name() if e.grad_fn is not None else None
        if t.grad_fn is not None and 'grad_fn' not in op.gaps and name != t.grad_fn.name():
            problems.append(f'output {i}: grad_fn {name}, PyTorch {t.grad_fn.name()}')
    tg = [t for t in touts if t.requires_grad]
    eg = [e for e, t in zip(eouts, touts) if t.requires_grad]
    if not tg or not op.grad:
        return
    rng = np.random.default_rng(1)
    seeds = [rng.uniform(-1, 1, size=tuple(t.shape)).astype(t.detach().numpy().dtype) for t in tg]
    try:
        torch.autograd.backward(tg, [torch.tensor(s) for s in seeds])
    except RuntimeError as terr:   # PyTorch has no derivative for this op: ember must raise too
        try:
            ember.autograd.backward(eg, [ember.tensor(s) for s in seeds])
            problems.append(f'backward: PyTorch raises ({terr}), ember does not')
        except RuntimeError:
            pass
        return
    try:
        ember.autograd.backward(eg, [ember.tensor(s) for s in seeds])
    except Exception as err:
        problems.append(f'backward: ember raises {err!r:.300}')
        return
    for i, (e, t) in enumerate(zip(eleaves, tleaves)):
        if t.grad is None:
            if e.grad is not None and np.any(e.grad.numpy()):
                problems.append(f'grad of input {i}: ember has one, PyTorch none')
        elif e.grad is None:
            problems.append(f'grad of input {i}: missing (PyTorch has one)')
        else:
            tgrad = torch.zeros_like(t) if t.grad._is_zerotensor() else t.grad
            try:
                assert_same(e.grad, tgrad, op.grad_atol, op.rtol * 10, f'grad of input {i}')
            except AssertionError as err:
                problems.append(str(err)[:600])
    if sample.gradcheck:
        gradcheck(op, sample, problems)


def gradcheck(op, sample, problems):
    """ember's float64 gradients (and second derivatives when ``op.gradgrad``) equal finite differences."""
    args, kwargs, leaves = make_args(ember, sample)
    inputs = [a for a in args if isinstance(a, ember.Tensor) and a.requires_grad]
    pos = [i for i, a in enumerate(args) if isinstance(a, ember.Tensor) and a.requires_grad]

    def f(*xs):
        full = list(args)
        for i, x in zip(pos, xs):
            full[i] = x
        out = op.call(ember, *full, **kwargs)
        return tuple(o for o in _flat(out) if isinstance(o, ember.Tensor) and o.requires_grad)
    try:
        if not ember.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=False):
            problems.append('gradcheck: ember gradients differ from finite differences')
        if op.gradgrad and 'gradgrad' not in op.gaps and \
                not ember.autograd.gradgradcheck(f, inputs, eps=1e-6, atol=1e-4, rtol=1e-3, raise_exception=False):
            problems.append('gradgradcheck: ember second derivatives differ from finite differences')
    except Exception as err:
        problems.append(f'gradcheck: ember raises {err!r:.300}')


def _empty_like_out(lib, t):
    if isinstance(t, (tuple, list)):
        return tuple(_empty_like_out(lib, x) for x in t)
    return lib.empty(0, dtype=getattr(lib, str(t.dtype).split('.')[-1]))


def _seeded(fn, seed):
    def call(lib, *a, **k):
        lib.manual_seed(seed)
        return fn(lib, *a, **k)
    return call


def check_forms(op, sample, te, problems):
    """The method, in-place, out= and alias forms give PyTorch's results (or PyTorch's exception)."""
    def compare(fn, what, check):
        if op.seed is not None:
            fn = _seeded(fn, op.seed)
        gap = op.gaps.get(f'{check}:{sample.desc}')
        if gap is not None:   # left out here: it must still fail
            if not _form_problems(fn, what, check):
                problems.append(f'stale gap: {what} now agrees with PyTorch on this sample; remove its gap ({gap})')
            return
        problems.extend(_form_problems(fn, what, check))

    def _form_problems(fn, what, check):
        problems = []
        tr = run(torch, fn, sample, grad=False)
        er = run(ember, fn, sample, grad=False)
        if check in ('out', 'method') and isinstance(tr[0], (TypeError, AttributeError)) and \
                ('out' in str(tr[0]) or 'attribute' in str(tr[0])) and not isinstance(er[0], type(tr[0])):
            problems.append(f'{what}: PyTorch has no such form here ({tr[0]}): set {check}=False in the entry '
                            'or refuse it as PyTorch does')
        if same_outcome(er[0], tr[0], op, what, problems) and what.endswith('_'):
            if er[0] is not er[1][0]:
                problems.append(f'{what}: does not return its input')
        return problems
    if op.method and 'method' not in op.gaps:
        compare(lambda lib, x, *a, **k: getattr(x, op.method_name)(*a, **k), f'Tensor.{op.method_name}', 'method')
    if op.inplace and 'inplace' not in op.gaps and sample.args and isinstance(sample.args[0], (np.ndarray, View)):
        compare(lambda lib, x, *a, **k: getattr(x, op.method_name + '_')(*a, **k), f'Tensor.{op.method_name}_', 'inplace')
    if op.out and 'out' not in op.gaps and isinstance(te, (torch.Tensor, tuple)):
        def with_out(lib, *a, **k):
            o = _empty_like_out(lib, te)
            r = op.call(lib, *a, out=o, **k)
            if r is not o and not (isinstance(o, tuple) and all(x is y for x, y in zip(r, o))):
                raise AssertionError('out=: the result is not the out tensor')
            return o
        compare(with_out, 'out=', 'out')
    if sample is op.samples()[0] or sample.desc == op.samples()[0].desc:
        for alias in op.aliases:
            compare(lambda lib, *a, **k: op.fn(lib, alias)(*a, **k), f'alias {alias}', 'alias')


def test_entries_are_pytorch_api():
    """Every entry's names exist in PyTorch (so the method/inplace/alias flags are true)."""
    import importlib
    missing = []
    for op in OPS:
        for full in op.names():
            mod, _, name = full.rpartition('.')
            obj = torch.Tensor if mod == 'torch.Tensor' else importlib.import_module(mod)
            if not hasattr(obj, name):
                missing.append(full)
    assert not missing, f'not PyTorch API: {missing}'


def test_sample_ids_are_unique():
    """Gaps name samples by their description, so descriptions must be unique within an entry."""
    seen, dup = set(), []
    for op in OPS:
        for s in op.samples():
            key = (op.id, op._call, s.desc)
            if key in seen:
                dup.append(f'{op.id}-{s.desc}')
            seen.add(key)
    assert not dup, f'give these samples a desc: {dup}'


def test_a_stale_gap_is_caught():
    """The check above fails for a gap that is not needed (exp's out= works)."""
    op = copy.copy(next(o for o in OPS if o.id == 'exp'))
    op.gaps = {'out': 'a gap that is not needed'}
    with pytest.raises(pytest.fail.Exception, match='stale gap'):
        test_gap_is_still_needed(op, 'out')
