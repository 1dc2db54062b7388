"""The differential test helper: run the same function on ember and on PyTorch (the oracle) and compare
values, dtypes, shapes, grad_fn names and every input's gradient; then gradcheck ember in float64."""
import warnings

import numpy as np
import pytest
import torch

import ember


def fresh_storage_warning():
    """Both libraries' once-a-process "TypedStorage is deprecated" flag cleared (each keeps it on its
    ``storage._warn_typed_storage_removal``), so a case sees the warning as a fresh process does, whatever ran
    before it: a registry case must not depend on the tests' order."""
    torch.storage._reset_warn_typed_storage_removal()
    ember.storage._reset_warn_typed_storage_removal()


def to_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    if isinstance(x, ember.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def _flat(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res += _flat(o)
        return res
    return [out]


def assert_same(e, t, atol=1e-5, rtol=1e-4, what='value'):
    """ember result ``e`` equals torch result ``t`` in type, dtype, shape and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f'{what}: expected a Tensor, got {type(e).__name__}'
        assert repr(e.dtype) == repr(t.dtype), f'{what}: dtype {e.dtype} != torch {t.dtype}'
        assert tuple(e.shape) == tuple(t.shape), f'{what}: shape {tuple(e.shape)} != torch {tuple(t.shape)}'
        ev, tv = to_numpy(e), to_numpy(t)
        if tv.dtype.kind in 'biu':
            np.testing.assert_array_equal(ev, tv, err_msg=what)
        else:   # complex values compare as complex (a float64 cast would keep only the real parts)
            wide = np.complex128 if tv.dtype.kind == 'c' or ev.dtype.kind == 'c' else np.float64
            np.testing.assert_allclose(ev.astype(wide), tv.astype(wide), atol=atol, rtol=rtol,
                                       equal_nan=True, err_msg=what)
    elif isinstance(t, (tuple, list)):
        assert len(e) == len(t), f'{what}: {len(e)} outputs != torch {len(t)}'
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same(a, b, atol, rtol, f'{what}[{i}]')
    else:
        assert e == t or (isinstance(t, float) and np.isclose(e, t, atol=atol, rtol=rtol)), f'{what}: {e} != {t}'


def make_inputs(shapes, dtype=np.float32, low=-2.0, high=2.0, seed=0, positive=False):
    rng = np.random.default_rng(seed)
    arrays = []
    for s in shapes:
        if isinstance(s, np.ndarray):
            arrays.append(s)
            continue
        a = rng.uniform(low, high, size=s)
        if positive:
            a = np.abs(a) + 0.5
        arrays.append(a.astype(dtype))
    return arrays


def check(fn, *shapes, inputs=None, dtype=np.float32, low=-2.0, high=2.0, positive=False, grad=True,
          atol=1e-5, rtol=1e-4, grad_atol=None, name=True, gradcheck=True, gradgrad=False, seed=0):
    """Run ``fn(lib, *tensors)`` with lib = ember and lib = torch on the same inputs and compare
    forward values, dtypes, shapes, grad_fn names and gradients; gradcheck ember in float64."""
    arrays = inputs if inputs is not None else make_inputs(shapes, dtype, low, high, seed, positive)
    diff = [a.dtype.kind == 'f' and grad for a in arrays]
    tt = [torch.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    et = [ember.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    tout = fn(torch, *tt)
    eout = fn(ember, *et)
    assert_same(eout, tout, atol, rtol, 'forward')
    touts = [o for o in _flat(tout) if isinstance(o, torch.Tensor) and o.requires_grad]
    eouts = [o for o in _flat(eout) if isinstance(o, ember.Tensor) and o.requires_grad]
    assert len(touts) == len(eouts), f'{len(eouts)} outputs require grad, torch has {len(touts)}'
    if name:
        for e, t in zip(eouts, touts):
            assert e.grad_fn.name() == t.grad_fn.name(), f'grad_fn {e.grad_fn.name()} != torch {t.grad_fn.name()}'
    if not touts:
        return eout
    rng = np.random.default_rng(seed + 1)
    seeds = [rng.uniform(-1, 1, size=tuple(t.shape)).astype(to_numpy(t).dtype) for t in touts]
    torch.autograd.backward(touts, [torch.tensor(s) for s in seeds])
    ember.autograd.backward(eouts, [ember.tensor(s) for s in seeds])
    ga = grad_atol if grad_atol is not None else atol * 10
    for i, (e, t) in enumerate(zip(et, tt)):
        if t.grad is None:
            assert e.grad is None or not np.any(to_numpy(e.grad)), f'input {i}: ember has a grad, torch none'
        else:
            assert e.grad is not None, f'input {i}: no ember grad (torch has one)'
            assert_same(e.grad, t.grad, ga, rtol * 10, f'grad of input {i}')
    if gradcheck:
        check_gradients(fn, arrays, diff, gradgrad)
    return eout


def check_gradients(fn, arrays, diff, gradgrad=False):
    """ember's gradients equal float64 central finite differences (and second derivatives if asked)."""
    xs = [ember.tensor(a.astype(np.float64) if d else a, requires_grad=d) for a, d in zip(arrays, diff)]

    def f(*ts):
        out = fn(ember, *ts)
        return tuple(o for o in _flat(out) if isinstance(o, ember.Tensor) and o.requires_grad)

    assert ember.autograd.gradcheck(f, xs, eps=1e-6, atol=1e-5, rtol=1e-3)
    if gradgrad:
        assert ember.autograd.gradgradcheck(f, xs, eps=1e-6, atol=1e-4, rtol=1e-3)


def import_torchvision():
    """Real torchvision 0.28 (the ``test`` extra), the oracle for ``ember.vision``. Its C extension does not
    load on the CPU build of torch 2.13, and its import stops registering fake kernels for those ops; the
    pure-Python models and transforms work once ``torch.library.register_fake`` is a no-op during the import."""
    import sys
    if 'torchvision' in sys.modules and not sys.modules['torchvision'].__name__.startswith('ember'):
        return sys.modules['torchvision']
    import importlib
    import torch.library
    real = torch.library.register_fake
    torch.library.register_fake = lambda *a, **k: (lambda f: f)
    try:
        return importlib.import_module('torchvision')
    finally:
        torch.library.register_fake = real


# -- differential fuzzing: one program on both libraries ------------------------------------------------------
def _fuzz_np(x):
    x = x.detach()
    if x.dtype in (torch.bfloat16, ember.bfloat16, torch.float16, ember.float16):
        x = x.float()
    return x.resolve_conj().numpy() if x.dtype.is_complex and isinstance(x, torch.Tensor) else x.numpy()


def same_result(e, t, tol=1e-6):
    """ember's result ``e`` equals PyTorch's ``t``: tensors by dtype, shape and values (NaN where NaN), sequences
    item by item, dtypes by name, anything else by ==."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), (e, t)
        assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape), (e.dtype, t.dtype, e.shape, t.shape)
        np.testing.assert_allclose(_fuzz_np(e), _fuzz_np(t), rtol=tol, atol=tol, equal_nan=True)
    elif isinstance(t, (tuple, list)):
        assert len(e) == len(t), (e, t)
        for a, b in zip(e, t):
            same_result(a, b, tol)
    elif isinstance(t, torch.dtype):
        assert str(e) == str(t), (e, t)
    else:
        assert e == t, (e, t)


def run_both(fn, message=False, tol=1e-6):
    """``fn(lib)`` on both libraries: the same results, or the same exception type (and first message line)."""
    out = {}
    for L in (torch, ember):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                out[L] = ('ok', fn(L))
        except Exception as ex:  # noqa: BLE001 - the exception itself is compared
            out[L] = ('err', ex)
    (tk, tv), (ek, ev) = out[torch], out[ember]
    assert tk == ek, (tv, ev)
    if tk == 'err':
        assert isinstance(ev, type(tv)) or isinstance(tv, type(ev)), (tv, ev)
        if message:
            assert str(ev).split('\n')[0] == str(tv).split('\n')[0], (str(tv), str(ev))
    else:
        same_result(ev, tv, tol)


def walk_graph(fn, depth):
    """grad_fn names down next_functions, indented by depth ('None' for a missing edge): a graph to compare."""
    if fn is None:
        return ['None']
    out = [fn.name()]
    if depth:
        for f, _ in fn.next_functions:
            out += ['  ' + n for n in walk_graph(f, depth - 1)]
    return out


@pytest.fixture
def exact_like_torch():
    """ember's opt-in bit-for-bit kernels on (ember.backend.exact_kernels) and its thread count set to PyTorch's (their
    vectorised positions and per-thread sums depend on it), both put back after the test."""
    old = ember.backend.exact_kernels(), ember.get_num_threads()
    ember.backend.exact_kernels(True)
    ember.set_num_threads(torch.get_num_threads())
    yield
    ember.backend.exact_kernels(old[0])
    ember.set_num_threads(old[1])


@pytest.fixture(params=[1, 2])
def threads(request):
    """Both libraries on the same number of threads (1, then 2), put back after the test."""
    before = torch.get_num_threads(), ember.get_num_threads()
    torch.set_num_threads(request.param)
    ember.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before[0])
    ember.set_num_threads(before[1])
