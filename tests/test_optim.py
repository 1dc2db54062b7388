"""ember.optim against torch.optim: trajectories, param groups, state_dict, reprs, errors, lr schedulers."""
import copy
import inspect
import math
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember

SHAPES = [(5, 3), (7,), (2, 3, 4), (1, 1), ()]
STEPS = 50


def _init_arrays(seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _grad_of(a):
    """A fixed gradient field, computed with NumPy so both frameworks see identical gradients."""
    return np.asarray(2 * a + np.sin(3 * a), dtype=np.float32)


def _pair(arrays):
    """The same initial params as ember and torch leaves requiring grad."""
    ep = [ember.tensor(a.copy(), requires_grad=True) for a in arrays]
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    return ep, tp


def _set_grads(ep, tp, skip=()):
    for i, (e, t) in enumerate(zip(ep, tp)):
        if i in skip:
            e.grad, t.grad = None, None
            continue
        e.grad = ember.tensor(_grad_of(e.detach().numpy()))
        t.grad = torch.from_numpy(_grad_of(t.detach().numpy()))


def _set_ember_grads(*param_lists):
    for params in param_lists:
        for p in params:
            p.grad = ember.tensor(_grad_of(p.detach().numpy()))


def _assert_params_close(ep, tp, rtol=1e-5, atol=1e-6):
    for e, t in zip(ep, tp):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


def _run(name, kwargs, steps=STEPS, skip=()):
    ep, tp = _pair(_init_arrays())
    eopt = getattr(ember.optim, name)(ep, **kwargs)
    topt = getattr(torch.optim, name)(tp, **kwargs)
    for _ in range(steps):
        _set_grads(ep, tp, skip)
        eopt.step()
        topt.step()
    return ep, tp, eopt, topt


def _assert_state_equal(eopt, topt):
    esd, tsd = eopt.state_dict(), topt.state_dict()
    assert esd['param_groups'] == tsd['param_groups']
    assert esd['state'].keys() == tsd['state'].keys()
    for k, tst in tsd['state'].items():
        est = esd['state'][k]
        assert list(est) == list(tst)
        for key, tv in tst.items():
            ev = est[key]
            assert isinstance(ev, ember.Tensor)
            assert str(ev.dtype) == str(tv.dtype) and tuple(ev.shape) == tuple(tv.shape)
            np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=1e-5, atol=1e-6)


# -- trajectories ---------------------------------------------------------------------------------------
SGD_CASES = [
    dict(lr=0.01),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.02, momentum=0.5, weight_decay=0.1),
    dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.01),
    dict(lr=0.01, momentum=0.8, dampening=0.1, maximize=True),
    dict(lr=0.01, weight_decay=0.2, maximize=True),
]
ADAM_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.005, amsgrad=True, weight_decay=0.05, maximize=True),
    dict(lr=0.01, betas=(0.9, 0.999), maximize=True),
]
RMSPROP_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, alpha=0.9, eps=1e-6),
    dict(lr=0.005, momentum=0.9),
    dict(lr=0.005, centered=True),
    dict(lr=0.002, centered=True, momentum=0.8, weight_decay=0.1),
    dict(lr=0.01, weight_decay=0.05, maximize=True),
]
ADAGRAD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, lr_decay=0.01),
    dict(lr=0.05, weight_decay=0.1, initial_accumulator_value=0.5),
    dict(lr=0.1, eps=1e-6, maximize=True),
]
MORE_CASES = {
    'Adadelta': [dict(), dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)],
    'Adamax': [dict(lr=0.01), dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, maximize=True)],
    'NAdam': [dict(lr=0.01), dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01),
              dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)],
    'RAdam': [dict(lr=0.01), dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1),
              dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)],
    'ASGD': [dict(lr=0.01), dict(lr=0.01, t0=10, lambd=0.01, weight_decay=0.1),
             dict(lr=0.02, t0=5, alpha=0.5, maximize=True)],
    'Rprop': [dict(), dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)],
    'Adafactor': [dict(), dict(lr=0.02, maximize=True),
                  dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=2.0, weight_decay=0.1)],
}
CASES = ([('SGD', c) for c in SGD_CASES] + [('Adam', c) for c in ADAM_CASES]
         + [('AdamW', c) for c in ADAM_CASES] + [('AdamW', dict(lr=0.01, weight_decay=0.3))]
         + [('RMSprop', c) for c in RMSPROP_CASES] + [('Adagrad', c) for c in ADAGRAD_CASES]
         + [(name, c) for name, cases in MORE_CASES.items() for c in cases])


@pytest.mark.parametrize('name,kwargs', CASES, ids=[f'{n}-{i}' for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(name, kwargs):
    ep, tp, eopt, topt = _run(name, kwargs)
    _assert_params_close(ep, tp)
    _assert_state_equal(eopt, topt)


@pytest.mark.parametrize('name,kwargs,steps', [('Adam', dict(lr=0.01, betas=(0.4, 0.9)), 15),
                                               ('RMSprop', dict(lr=0.001, alpha=0.4, centered=True), 5)])
def test_large_lerp_weight(name, kwargs, steps):
    """lerp weights >= 0.5 take PyTorch's other formula (short runs: small alphas amplify rounding)."""
    ep, tp, eopt, topt = _run(name, kwargs, steps=steps)
    _assert_params_close(ep, tp)
    _assert_state_equal(eopt, topt)


@pytest.mark.parametrize('name', ['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad'] + list(MORE_CASES))
def test_params_without_grad_are_skipped(name):
    kwargs = dict(lr=0.01, momentum=0.9) if name in ('SGD', 'RMSprop') else dict(lr=0.01)
    ep, tp, eopt, topt = _run(name, kwargs, steps=10, skip=(1,))
    _assert_params_close(ep, tp)
    np.testing.assert_array_equal(ep[1].detach().numpy(), _init_arrays()[1])
    _assert_state_equal(eopt, topt)


@pytest.mark.parametrize('name,kwargs', [('Adam', dict(lr=0.01, weight_decay=0.1)),
                                         ('AdamW', dict(lr=0.01, maximize=True)), ('AdamW', dict(lr=0.01))])
def test_adam_small_params_joined_are_bit_identical(monkeypatch, name, kwargs):
    """Adam updates its small params as one joined array (adam._together): every value is the one the param's own
    update gives, with params of mixed sizes, 0-d ones, one too large to join, and a param that skips steps (its
    step count then differs from the others')."""
    from ember.optim import adam
    shapes = [(3, 4), (), (7,), (50, 40), (1,), (2, 3, 4)]

    def run(small):
        monkeypatch.setattr(adam, 'SMALL', small)
        ps = [ember.tensor(a.copy(), requires_grad=True) for a in _init_arrays(3, shapes)]
        opt = getattr(ember.optim, name)(ps, **kwargs)
        for i in range(4):
            for j, p in enumerate(ps):
                p.grad = None if (j == 2 and i == 1) else ember.tensor(_grad_of(p.detach().numpy()))
            opt.step()
        return [p.detach().numpy() for p in ps] + [s.numpy() for st in opt.state.values() for s in st.values()]
    for a, b in zip(run(0), run(1000)):
        np.testing.assert_array_equal(a, b)


def test_float64_params():
    arrays = [a.astype(np.float64) for a in _init_arrays()]
    ep = [ember.tensor(a.copy(), requires_grad=True) for a in arrays]
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    eopt, topt = ember.optim.Adam(ep, lr=0.01), torch.optim.Adam(tp, lr=0.01)
    for _ in range(20):
        for e, t in zip(ep, tp):
            e.grad = ember.tensor(2 * e.detach().numpy())
            t.grad = torch.from_numpy(np.asarray(2 * t.detach().numpy()))
        eopt.step()
        topt.step()
    for e, t in zip(ep, tp):
        assert e.dtype == ember.float64
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-13)


def test_param_groups_with_own_options():
    ep, tp = _pair(_init_arrays())

    def groups(p):
        return [{'params': p[:2]}, {'params': p[2:3], 'lr': 0.1, 'momentum': 0.5},
                {'params': [p[3]], 'lr': 0.001, 'nesterov': True}]
    eopt = ember.optim.SGD(groups(ep), lr=0.01, momentum=0.9)
    topt = torch.optim.SGD(groups(tp), lr=0.01, momentum=0.9)
    for _ in range(30):
        _set_grads(ep, tp)
        eopt.step()
        topt.step()
    _assert_params_close(ep, tp)
    _assert_state_equal(eopt, topt)
    assert [g['lr'] for g in eopt.param_groups] == [0.01, 0.1, 0.001]


def test_adam_param_groups_and_add_param_group():
    ep, tp = _pair(_init_arrays())
    eopt = ember.optim.Adam([{'params': ep[:2], 'betas': (0.8, 0.9)}], lr=0.01)
    topt = torch.optim.Adam([{'params': tp[:2], 'betas': (0.8, 0.9)}], lr=0.01)
    eopt.add_param_group({'params': ep[2:], 'lr': 0.003, 'amsgrad': True})
    topt.add_param_group({'params': tp[2:], 'lr': 0.003, 'amsgrad': True})
    for _ in range(30):
        _set_grads(ep, tp)
        eopt.step()
        topt.step()
    _assert_params_close(ep, tp)
    _assert_state_equal(eopt, topt)


def test_changing_lr_in_param_group_between_steps():
    ep, tp = _pair(_init_arrays())
    eopt, topt = ember.optim.SGD(ep, lr=0.1, momentum=0.9), torch.optim.SGD(tp, lr=0.1, momentum=0.9)
    for i in range(20):
        for opt in (eopt, topt):
            opt.param_groups[0]['lr'] = 0.1 / (1 + i)
        _set_grads(ep, tp)
        eopt.step()
        topt.step()
    _assert_params_close(ep, tp)


# -- state, state_dict ------------------------------------------------------------------------------------
def test_state_layout_like_torch():
    ep, tp, eopt, topt = _run('Adam', dict(lr=0.01, amsgrad=True), steps=3)
    st = eopt.state[ep[0]]
    assert list(st) == ['step', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']
    assert st['step'].dtype == ember.float32 and st['step'].dim() == 0 and st['step'].item() == 3.0
    assert isinstance(eopt.state, type(topt.state))
    esd = eopt.state_dict()
    assert list(esd) == ['state', 'param_groups']
    assert esd['param_groups'][0]['params'] == list(range(len(SHAPES)))
    ep2, tp2, eopt2, topt2 = _run('SGD', dict(lr=0.01, momentum=0.9), steps=1)
    np.testing.assert_array_equal(eopt2.state[ep2[0]]['momentum_buffer'].numpy(), _grad_of(_init_arrays()[0]))
    ep3, _, eopt3, _ = _run('SGD', dict(lr=0.01), steps=1)
    assert len(eopt3.state) == 0


def test_adagrad_state_created_at_construction():
    ep, tp = _pair(_init_arrays())
    eopt = ember.optim.Adagrad(ep, initial_accumulator_value=0.25)
    topt = torch.optim.Adagrad(tp, initial_accumulator_value=0.25)
    _assert_state_equal(eopt, topt)


@pytest.mark.parametrize('name,kwargs', [
    ('SGD', dict(lr=0.05, momentum=0.9, nesterov=True)),
    ('Adam', dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    ('AdamW', dict(lr=0.01)),
    ('RMSprop', dict(lr=0.01, centered=True, momentum=0.5)),
    ('Adagrad', dict(lr=0.1, lr_decay=0.01)),
    ('Adadelta', dict(lr=0.5)),
    ('Adamax', dict(lr=0.01)),
    ('NAdam', dict(lr=0.01, weight_decay=0.01)),
    ('RAdam', dict(lr=0.01)),
    ('ASGD', dict(lr=0.01, t0=5)),
    ('Rprop', dict(lr=0.01)),
    ('Adafactor', dict(lr=0.01)),
])
def test_state_dict_round_trip_continues_trajectory(name, kwargs):
    arrays = _init_arrays(1)
    ep = [ember.tensor(a.copy(), requires_grad=True) for a in arrays]
    opt = getattr(ember.optim, name)([{'params': ep[:2]}, {'params': ep[2:], 'lr': kwargs['lr'] / 2}], **kwargs)
    ref = [ember.tensor(a.copy(), requires_grad=True) for a in arrays]
    ref_opt = getattr(ember.optim, name)([{'params': ref[:2]}, {'params': ref[2:], 'lr': kwargs['lr'] / 2}],
                                         **kwargs)
    for _ in range(15):
        _set_ember_grads(ep, ref)
        opt.step()
        ref_opt.step()
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    resumed_params = [ember.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ep]
    resumed = getattr(ember.optim, name)(
        [{'params': resumed_params[:2]}, {'params': resumed_params[2:]}], lr=123.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[1]['lr'] == kwargs['lr'] / 2
    assert resumed.param_groups[0]['params'][0] is resumed_params[0]
    for _ in range(15):
        _set_ember_grads(resumed_params, ref)
        resumed.step()
        ref_opt.step()
    for a, b in zip(resumed_params, ref):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_pickle_optimizer_with_params():
    ep, tp, eopt, topt = _run('Adam', dict(lr=0.01), steps=5)
    ep2, eopt2 = pickle.loads(pickle.dumps((ep, eopt)))
    assert eopt2.state[ep2[0]]['step'].item() == 5.0
    assert repr(eopt2) == repr(eopt)
    for _ in range(5):
        _set_grads(ep2, tp)
        eopt2.step()
        topt.step()
    _assert_params_close(ep2, tp)


def test_state_dict_loads_into_torch_shaped_dict():
    ep, tp, eopt, topt = _run('SGD', dict(lr=0.05, momentum=0.9), steps=5)
    tsd = topt.state_dict()
    converted = {'state': {k: {n: ember.tensor(v.numpy().copy()) for n, v in st.items()}
                           for k, st in tsd['state'].items()},
                 'param_groups': copy.deepcopy(tsd['param_groups'])}
    eopt.load_state_dict(converted)
    for _ in range(5):
        _set_grads(ep, tp)
        eopt.step()
        topt.step()
    _assert_params_close(ep, tp)


@pytest.mark.parametrize('name,kwargs', [(name, cases[-1]) for name, cases in MORE_CASES.items()])
def test_torch_state_dict_loads_and_continues(name, kwargs):
    """A PyTorch optimizer's state dict (its state keys, 0-d step tensors) loads into ember's."""
    ep, tp, eopt, topt = _run(name, kwargs, steps=5)
    eopt2 = getattr(ember.optim, name)(ep, lr=123.0)
    tsd = topt.state_dict()
    eopt2.load_state_dict({'state': {k: {n: ember.tensor(v.numpy().copy()) for n, v in st.items()}
                                     for k, st in tsd['state'].items()},
                           'param_groups': copy.deepcopy(tsd['param_groups'])})
    for _ in range(5):
        _set_grads(ep, tp)
        eopt2.step()
        topt.step()
    _assert_params_close(ep, tp)
    _assert_state_equal(eopt2, topt)


@pytest.mark.parametrize('name', ['Adam', 'AdamW', 'RMSprop', 'Adadelta', 'Adamax', 'NAdam', 'RAdam', 'ASGD',
                                  'Rprop'])
def test_capturable_refused_on_cpu_like_torch(name):
    def make(lib, p):
        opt = getattr(lib.optim, name)(p, capturable=True)
        for q in p:
            q.grad = lib.ones_like(q)
        opt.step()
    ep, tp = _pair(_init_arrays())
    _error(lambda: make(ember, ep), lambda: make(torch, tp), AssertionError)


@pytest.mark.parametrize('name', ['SGD', 'Adam', 'Adadelta', 'NAdam', 'Rprop'])
def test_differentiable_refused(name):
    p = ember.tensor([1.0], requires_grad=True)
    opt = getattr(ember.optim, name)([p], lr=0.1, differentiable=True)
    p.grad = ember.tensor([1.0])
    with pytest.raises(NotImplementedError, match='differentiable=True'):
        opt.step()


@pytest.mark.parametrize('name', [n for n in ember.optim.__all__ if n != 'lr_scheduler'])
def test_constructor_signature_matches_torch(name):
    """Every constructor argument PyTorch accepts, with its default and kind (positional/keyword-only)."""
    def sig(cls):
        return [(q.name, q.kind, q.default) for q in inspect.signature(cls.__init__).parameters.values()]
    assert sig(getattr(ember.optim, name)) == sig(getattr(torch.optim, name))


def test_sparse_adam_refuses_dense_gradients_like_torch():
    def make(lib, p):
        opt = lib.optim.SparseAdam(p, lr=0.01)
        assert opt.step() is None
        p[0].grad = lib.ones_like(p[0])
        opt.step()
    ep, tp = _pair(_init_arrays())
    _error(lambda: make(ember, ep), lambda: make(torch, tp), RuntimeError)
    ep, tp = _pair(_init_arrays())
    assert repr(ember.optim.SparseAdam(ep, betas=(0.8, 0.9))) == repr(torch.optim.SparseAdam(tp, betas=(0.8, 0.9)))


@pytest.mark.parametrize('kwargs', [dict(), dict(lr=0.02, nesterov=False, weight_decay=0.0),
                                    dict(lr=0.01, adjust_lr_fn='match_rms_adamw', momentum=0.9, ns_steps=3)])
def test_muon_matches_torch(kwargs):
    """Muon's Newton-Schulz iteration runs in bfloat16 in PyTorch; ember rounds to bfloat16 the same way."""
    shapes = [(5, 3), (3, 7), (16, 8), (1, 1)]
    ep, tp = _pair(_init_arrays(shapes=shapes))
    eopt, topt = ember.optim.Muon(ep, **kwargs), torch.optim.Muon(tp, **kwargs)
    for _ in range(20):
        _set_grads(ep, tp)
        eopt.step()
        topt.step()
    _assert_params_close(ep, tp, rtol=1e-6, atol=1e-6)
    _assert_state_equal(eopt, topt)
    assert repr(eopt) == repr(topt)


def test_muon_errors_like_torch():
    ep, tp = _pair(_init_arrays())
    _error(lambda: ember.optim.Muon(ep[:2]), lambda: torch.optim.Muon(tp[:2]), ValueError)
    _error(lambda: ember.optim.Muon(ep[:1], adjust_lr_fn='x'), lambda: torch.optim.Muon(tp[:1], adjust_lr_fn='x'),
           ValueError)


# -- LBFGS ---------------------------------------------------------------------------------------------------
def _lbfgs_fit(lib, dtype, steps, **kwargs):
    """A small non-quadratic least-squares fit, several ``step(closure)`` calls."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((6, 3)).astype(dtype), rng.standard_normal(6).astype(dtype)
    x = lib.tensor(np.array([-1.5, 2.0, 0.5], dtype), requires_grad=True)
    w = lib.tensor(np.array(0.3, dtype), requires_grad=True)
    at, bt = lib.tensor(a), lib.tensor(b)
    opt = lib.optim.LBFGS([x, w], **kwargs)

    def closure():
        opt.zero_grad()
        r = at @ x - bt
        loss = (r * r).sum() + (1 - x[0]) ** 2 * w ** 2 + 0.1 * (x ** 4).sum() + (w - 1) ** 4
        loss.backward()
        return loss
    losses = [opt.step(closure).item() for _ in range(steps)]
    return [x.detach().numpy(), w.detach().numpy()], losses, opt


LBFGS_CASES = [dict(), dict(line_search_fn='strong_wolfe'), dict(lr=0.5, max_iter=5, history_size=3),
               dict(history_size=2, max_iter=7, line_search_fn='strong_wolfe')]


@pytest.mark.parametrize('kwargs', LBFGS_CASES)
def test_lbfgs_matches_torch_float64(kwargs):
    ep, elosses, eopt = _lbfgs_fit(ember, np.float64, 3, **kwargs)
    tp, tlosses, topt = _lbfgs_fit(torch, np.float64, 3, **kwargs)
    for e, t in zip(ep, tp):
        np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(elosses, tlosses, rtol=1e-12)
    est, tst = eopt.state_dict()['state'][0], topt.state_dict()['state'][0]
    assert list(est) == list(tst)
    for key, tv in tst.items():
        ev = est[key]
        assert type(ev).__name__ == type(tv).__name__, key
        if key in ('d', 'prev_flat_grad', 'H_diag'):
            np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=1e-8, atol=1e-10)
        elif key in ('func_evals', 'n_iter'):
            assert ev == tv
        elif key in ('old_dirs', 'old_stps', 'ro'):
            assert len(ev) == len(tv)
    assert eopt.state_dict()['param_groups'] == topt.state_dict()['param_groups']


@pytest.mark.parametrize('kwargs', [dict(max_iter=4), dict(max_iter=4, line_search_fn='strong_wolfe')])
def test_lbfgs_float32_first_step(kwargs):
    """A few float32 iterations (near the optimum float32 rounding decides the path, in both)."""
    ep, elosses, _ = _lbfgs_fit(ember, np.float32, 1, **kwargs)
    tp, tlosses, _ = _lbfgs_fit(torch, np.float32, 1, **kwargs)
    for e, t in zip(ep, tp):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-5)
        assert e.dtype == np.float32


def test_lbfgs_errors_like_torch():
    ep, tp = _pair(_init_arrays())
    _error(lambda: ember.optim.LBFGS([{'params': ep[:1]}, {'params': ep[1:]}]),
           lambda: torch.optim.LBFGS([{'params': tp[:1]}, {'params': tp[1:]}]), ValueError)

    def bad_search(lib, p):
        opt = lib.optim.LBFGS(p, line_search_fn='backtracking')

        def closure():
            opt.zero_grad()
            loss = sum((q * q).sum() for q in p)
            loss.backward()
            return loss
        opt.step(closure)
    _error(lambda: bad_search(ember, ep), lambda: bad_search(torch, tp), RuntimeError)
    assert repr(ember.optim.LBFGS(ep)) == repr(torch.optim.LBFGS(tp))


def test_load_state_dict_errors():
    ep, _ = _pair(_init_arrays())
    opt = ember.optim.SGD(ep, lr=0.1)
    sd = ember.optim.SGD([ep[0]], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict(sd)
    sd2 = ember.optim.SGD([{'params': ep[:2]}, {'params': ep[2:]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match='different number of parameter groups'):
        opt.load_state_dict(sd2)


def test_load_state_dict_casts_to_param_dtype():
    p = ember.tensor(np.ones(3), requires_grad=True)
    opt = ember.optim.Adam([p])
    state = {'state': {0: {'step': ember.tensor(2.0), 'exp_avg': ember.tensor(np.ones(3, np.float32)),
                           'exp_avg_sq': ember.tensor(np.ones(3, np.float32))}},
             'param_groups': opt.state_dict()['param_groups']}
    opt.load_state_dict(state)
    assert opt.state[p]['exp_avg'].dtype == ember.float64
    assert opt.state[p]['step'].dtype == ember.float32


# -- zero_grad, step, hooks --------------------------------------------------------------------------------
def test_zero_grad_set_to_none_and_zeros():
    ep, tp = _pair(_init_arrays())
    opt = ember.optim.SGD(ep, lr=0.1)
    _set_grads(ep, tp)
    opt.zero_grad()
    assert all(p.grad is None for p in ep)
    _set_grads(ep, tp)
    grads = [p.grad for p in ep]
    opt.zero_grad(set_to_none=False)
    for p, g in zip(ep, grads):
        assert p.grad is g
        assert not p.grad.requires_grad
        np.testing.assert_array_equal(p.grad.numpy(), np.zeros(p.shape, np.float32))


def test_step_closure_and_grad_mode():
    w = ember.tensor([1.0, -2.0], requires_grad=True)
    tw = torch.tensor([1.0, -2.0], requires_grad=True)
    seen = []

    def closure_for(param, lib, opt):
        def closure():
            seen.append(lib.is_grad_enabled())
            opt.zero_grad()
            loss = (param * param).sum()
            loss.backward()
            return loss
        return closure
    eopt, topt = ember.optim.SGD([w], lr=0.1), torch.optim.SGD([tw], lr=0.1)
    with ember.no_grad():
        eloss = eopt.step(closure_for(w, ember, eopt))
    with torch.no_grad():
        tloss = topt.step(closure_for(tw, torch, topt))
    assert seen == [True, True]
    assert eloss.detach().item() == tloss.detach().item()
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy())
    assert eopt.step() is None


def test_step_runs_without_grad_and_bumps_version():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    modes = []
    opt = ember.optim.SGD([p], lr=0.1)
    opt.register_step_pre_hook(lambda o, args, kwargs: modes.append(ember.is_grad_enabled()))
    handle = opt.register_step_post_hook(lambda o, args, kwargs: modes.append('post'))
    v0 = p._version
    p.grad = ember.tensor([1.0, 1.0])
    opt.step()
    assert p._version > v0 and p.requires_grad and p.is_leaf and p.grad_fn is None
    assert modes == [True, 'post']
    handle.remove()
    opt.step()
    assert modes == [True, 'post', True]
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 1.8], rtol=1e-6)


def test_global_step_hooks_and_hook_replacing_args():
    p = ember.tensor([1.0], requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.1)
    calls = []
    from ember.optim import optimizer     # torch.optim deletes its submodule attributes; importing works
    pre = optimizer.register_optimizer_step_pre_hook(lambda o, a, k: calls.append('global-pre'))
    post = optimizer.register_optimizer_step_post_hook(lambda o, a, k: calls.append('global-post'))
    opt.register_step_pre_hook(lambda o, args, kwargs: (args, {'closure': lambda: calls.append('closure')}))
    try:
        opt.step()
    finally:
        pre.remove()
        post.remove()
    opt.step()
    assert calls == ['global-pre', 'closure', 'global-post', 'closure']


@pytest.mark.skipif(not hasattr(getattr(ember, 'nn', None), 'Linear'), reason='ember.nn.Linear not available')
def test_nn_linear_training_matches_torch():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        model = lib.nn.Linear(4, 2)
        with lib.no_grad():
            model.weight.copy_(lib.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)))
            model.bias.fill_(0.1)
        opt = lib.optim.AdamW(model.parameters(), lr=0.01)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        xs = lib.tensor(x)
        for _ in range(20):
            opt.zero_grad()
            loss = (model(xs) ** 2).mean()
            loss.backward()
            opt.step()
            sched.step()
        results.append([p.detach().numpy().copy() for p in model.parameters()])
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


def test_training_a_tiny_model_with_autograd():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((16, 3)).astype(np.float32), rng.standard_normal((16, 1)).astype(np.float32)
    w0 = rng.standard_normal((3, 1)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        w = lib.tensor(w0.copy(), requires_grad=True)
        b = lib.zeros(1, requires_grad=True)
        opt = lib.optim.Adam([w, b], lr=0.05)
        xs, ys = lib.tensor(x), lib.tensor(y)
        for _ in range(25):
            opt.zero_grad()
            loss = ((xs @ w + b - ys) ** 2).mean()
            loss.backward()
            opt.step()
        results.append((w.detach().numpy().copy(), b.detach().numpy().copy(), loss.detach().item()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5, atol=1e-6)
    assert results[0][2] == pytest.approx(results[1][2], rel=1e-5)


def _my_sgd(lib):
    class MySGD(lib.optim.Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.5):
            super().__init__(params, dict(lr=lr, momentum=momentum))

        @lib.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group['params']:
                    if p.grad is None:
                        continue
                    st = self.state[p]
                    if 'buf' not in st:
                        st['buf'] = lib.zeros_like(p)
                    st['buf'].mul_(group['momentum']).add_(p.grad)
                    p.add_(st['buf'], alpha=-group['lr'])
    return MySGD


def test_custom_optimizer_subclass_with_scheduler():
    results = []
    for lib in (ember, torch):
        w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        opt = _my_sgd(lib)([w], lr=0.1)
        sch = lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)
        for _ in range(10):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
            sch.step()
        results.append((w.detach().numpy().copy(), repr(opt), opt.state_dict()['param_groups']))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    assert results[0][1:] == results[1][1:]


# -- reprs ---------------------------------------------------------------------------------------------------
REPR_CASES = [('SGD', dict(lr=0.1)), ('SGD', dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)),
              ('Adam', {}), ('Adam', dict(lr=3e-4, betas=(0.8, 0.95), amsgrad=True)), ('AdamW', {}),
              ('RMSprop', {}), ('RMSprop', dict(centered=True, momentum=0.9)), ('Adagrad', {}),
              ('Adagrad', dict(lr_decay=0.1, initial_accumulator_value=0.1)), ('Adadelta', {}), ('Adamax', {}),
              ('NAdam', dict(decoupled_weight_decay=True)), ('RAdam', {}), ('ASGD', {}), ('Rprop', {}),
              ('Adafactor', {})]


@pytest.mark.parametrize('name,kwargs', REPR_CASES)
def test_repr_matches_torch(name, kwargs):
    ep, tp = _pair(_init_arrays())
    eopt = getattr(ember.optim, name)([{'params': ep[:2]}, {'params': ep[2:], 'lr': 0.5}], **kwargs)
    topt = getattr(torch.optim, name)([{'params': tp[:2]}, {'params': tp[2:], 'lr': 0.5}], **kwargs)
    assert repr(eopt) == repr(topt)
    assert eopt.defaults == topt.defaults


def test_base_optimizer_repr_and_step():
    p = ember.tensor([1.0], requires_grad=True)
    tp = torch.tensor([1.0], requires_grad=True)
    assert repr(ember.optim.Optimizer([p], {})) == repr(torch.optim.Optimizer([tp], {}))
    with pytest.raises(NotImplementedError):
        ember.optim.Optimizer([p], {}).step()


# -- errors ------------------------------------------------------------------------------------------------
def _error(fn_ember, fn_torch, exc):
    with pytest.raises(exc) as e_info:
        fn_ember()
    with pytest.raises(exc) as t_info:
        fn_torch()
    assert str(e_info.value) == str(t_info.value)


@pytest.mark.parametrize('make', [
    lambda lib, p: lib.optim.SGD([], lr=0.1),
    lambda lib, p: lib.optim.SGD(p[0], lr=0.1),
    lambda lib, p: lib.optim.SGD([p[0] * 2], lr=0.1),
    lambda lib, p: lib.optim.SGD([{'params': [p[0]]}, {'params': [p[0], p[1]]}], lr=0.1),
    lambda lib, p: lib.optim.SGD([p[0], 3], lr=0.1),
    lambda lib, p: lib.optim.SGD([{'params': {p[0]}}], lr=0.1),
    lambda lib, p: lib.optim.SGD(p, lr=-1),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=-0.5),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, nesterov=True),
    lambda lib, p: lib.optim.Adam(p, betas=(1.0, 0.9)),
    lambda lib, p: lib.optim.Adam(p, eps=-1.0),
    lambda lib, p: lib.optim.RMSprop(p, alpha=-0.1),
    lambda lib, p: lib.optim.Adagrad(p, lr_decay=-0.1),
    lambda lib, p: lib.optim.SGD(p, lr=0.1).add_param_group([p[0]]),
    lambda lib, p: lib.optim.Adadelta(p, rho=1.5),
    lambda lib, p: lib.optim.Adadelta(p, eps=-1.0),
    lambda lib, p: lib.optim.Adamax(p, betas=(0.9, 1.0)),
    lambda lib, p: lib.optim.NAdam(p, momentum_decay=-0.1),
    lambda lib, p: lib.optim.RAdam(p, weight_decay=-0.1),
    lambda lib, p: lib.optim.ASGD(p, lr=-0.1),
    lambda lib, p: lib.optim.Rprop(p, etas=(1.5, 1.2)),
    lambda lib, p: lib.optim.SparseAdam(p, lr=0.0),
    lambda lib, p: lib.optim.SparseAdam(p, eps=0.0),
    lambda lib, p: lib.optim.LBFGS(p, lr=-1),
    lambda lib, p: lib.optim.Adafactor(p, beta2_decay=0.5),
    lambda lib, p: lib.optim.Adafactor(p, eps=(None, -1.0)),
    lambda lib, p: lib.optim.Adafactor(p, d=0.5),
])
def test_errors_match_torch(make):
    ep, tp = _pair(_init_arrays())
    with pytest.raises(Exception) as t_info:
        make(torch, tp)
    with pytest.raises(type(t_info.value)) as e_info:
        make(ember, ep)
    assert str(e_info.value).replace('ember', 'torch') == str(t_info.value)


def test_empty_parameter_list_message():
    with pytest.raises(ValueError, match='optimizer got an empty parameter list'):
        ember.optim.SGD(iter([]), lr=0.1)


def test_duplicate_param_in_group_warns():
    p = ember.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match='duplicate parameters'):
        ember.optim.SGD([p, p], lr=0.1)


def test_named_parameters():
    ep, tp = _pair(_init_arrays())
    eopt = ember.optim.SGD([('a', ep[0]), ('b', ep[1])], lr=0.1)
    topt = torch.optim.SGD([('a', tp[0]), ('b', tp[1])], lr=0.1)
    assert eopt.param_groups[0]['param_names'] == ['a', 'b']
    assert eopt.state_dict()['param_groups'] == topt.state_dict()['param_groups']


# -- the course's subclass -------------------------------------------------------------------------------
def _course_sgd(lib):
    class SGD(lib.optim.Optimizer):
        def __init__(self, model_params, lr):
            super(SGD, self).__init__(model_params, {})
            self.params = model_params
            self.lr = lr

        def step(self):
            for param in self.params:
                param.data -= self.lr * param.grad.data

        def zero_grad(self):
            for param in self.params:
                param.grad.data = lib.zeros_like(param.grad)
    return SGD


@pytest.mark.parametrize('as_generator', [False, True])
def test_course_subclass(as_generator):
    arrays = _init_arrays()
    results = []
    for lib in (ember, torch):
        params = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
        opt = _course_sgd(lib)((p for p in params) if as_generator else params, lr=0.1)
        assert len(opt.param_groups[0]['params']) == len(arrays)
        assert repr(opt) == 'SGD (\nParameter Group 0\n)'
        for _ in range(3):
            for p in params:
                p.grad = lib.tensor(_grad_of(p.detach().numpy()))
            opt.step()
            opt.zero_grad()
        grads = [p.grad for p in params]
        results.append(([p.detach().numpy().copy() for p in params],
                        [None if g is None else g.numpy().copy() for g in grads]))
    for e, t in zip(results[0][0], results[1][0]):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7)
    for e, t in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(e, t)


# -- lr schedulers ------------------------------------------------------------------------------------------
def _lr_pair(opt_name='SGD', groups=2, **opt_kwargs):
    opt_kwargs = opt_kwargs or (dict(lr=0.1, momentum=0.9) if opt_name == 'SGD' else dict(lr=0.1))
    ep, tp = _pair(_init_arrays()[:groups])
    eopt = getattr(ember.optim, opt_name)([{'params': [p], 'lr': 0.1 * (i + 1)} for i, p in enumerate(ep)],
                                          **opt_kwargs)
    topt = getattr(torch.optim, opt_name)([{'params': [p], 'lr': 0.1 * (i + 1)} for i, p in enumerate(tp)],
                                          **opt_kwargs)
    return eopt, topt


def _momenta(opt):
    return [g['betas'][0] if 'betas' in g else g.get('momentum') for g in opt.param_groups]


def _compare_schedule(make, steps=30, opt_name='SGD', metrics=None, **opt_kwargs):
    eopt, topt = _lr_pair(opt_name, **opt_kwargs)
    esch, tsch = make(ember.optim.lr_scheduler, eopt), make(torch.optim.lr_scheduler, topt)
    assert esch.get_last_lr() == tsch.get_last_lr()
    for i in range(steps):
        eopt.step()
        topt.step()
        if metrics is None:
            esch.step()
            tsch.step()
        else:
            esch.step(metrics[i])
            tsch.step(metrics[i])
        assert esch.get_last_lr() == tsch.get_last_lr(), i
        assert [g['lr'] for g in eopt.param_groups] == [g['lr'] for g in topt.param_groups]
        assert _momenta(eopt) == _momenta(topt)
        assert getattr(esch, "last_epoch", None) == getattr(tsch, "last_epoch", None)
    return esch, tsch


SCHEDULERS = {
    'StepLR': lambda m, o: m.StepLR(o, step_size=4, gamma=0.5),
    'MultiStepLR': lambda m, o: m.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.3),
    'ExponentialLR': lambda m, o: m.ExponentialLR(o, gamma=0.9),
    'CosineAnnealingLR': lambda m, o: m.CosineAnnealingLR(o, T_max=10),
    'CosineAnnealingLR-eta': lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    'LambdaLR': lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e),
    'LambdaLR-list': lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
    'MultiplicativeLR': lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97),
    'LinearLR': lambda m, o: m.LinearLR(o, start_factor=0.25, total_iters=8),
    'LinearLR-down': lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=12),
    'ConstantLR': lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=4),
    'PolynomialLR': lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.0),
    'OneCycleLR': lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=31),
    'OneCycleLR-linear': lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 2.0], epochs=4, steps_per_epoch=8,
                                                   anneal_strategy='linear', pct_start=0.25),
    'OneCycleLR-3phase': lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=40, three_phase=True,
                                                   cycle_momentum=False),
    'CyclicLR': lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    'CyclicLR-tri2': lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5,
                                             mode='triangular2'),
    'CyclicLR-exp': lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode='exp_range',
                                            gamma=0.95),
    'CosineAnnealingWarmRestarts': lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.001),
    'SequentialLR': lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
                                                    m.CosineAnnealingLR(o, T_max=20)], milestones=[5]),
    'ChainedScheduler': lambda m, o: m.ChainedScheduler([m.ExponentialLR(o, gamma=0.95),
                                                         m.StepLR(o, step_size=6, gamma=0.5)]),
}


@pytest.mark.parametrize('name', list(SCHEDULERS))
def test_scheduler_sequence_matches_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        _compare_schedule(SCHEDULERS[name])


@pytest.mark.parametrize('name', ['OneCycleLR', 'CyclicLR'])
@pytest.mark.parametrize('opt_name', ['Adam', 'NAdam', 'RAdam', 'Adamax'])
def test_cycle_momentum_with_adam_betas(name, opt_name):
    _compare_schedule(SCHEDULERS[name], opt_name=opt_name)


@pytest.mark.parametrize('opt_name', ['Adadelta', 'ASGD', 'Rprop', 'LBFGS'])
@pytest.mark.parametrize('name', ['StepLR', 'CosineAnnealingLR', 'LinearLR'])
def test_schedulers_drive_new_optimizers(name, opt_name):
    if opt_name == 'LBFGS':
        ep, tp = _pair(_init_arrays()[:1])
        eopt, topt = ember.optim.LBFGS(ep), torch.optim.LBFGS(tp)
    else:
        eopt, topt = _lr_pair(opt_name)
    esch, tsch = SCHEDULERS[name](ember.optim.lr_scheduler, eopt), SCHEDULERS[name](torch.optim.lr_scheduler, topt)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for _ in range(10):
            esch.step()
            tsch.step()
            assert esch.get_last_lr() == tsch.get_last_lr()
    assert esch.state_dict() == tsch.state_dict()


METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.85, 0.86, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91, 0.84, 0.84,
           0.8400001, 0.85, 0.86, 0.87, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4]


@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(patience=2, factor=0.5),
    dict(mode='max', patience=1, factor=0.3, threshold=0.05),
    dict(patience=1, threshold_mode='abs', threshold=0.02, cooldown=2, min_lr=0.02),
    dict(mode='max', patience=0, threshold_mode='abs', min_lr=[0.01, 0.05], eps=1e-3),
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    esch, tsch = _compare_schedule(lambda m, o: m.ReduceLROnPlateau(o, **kwargs), metrics=METRICS)
    for key in ('best', 'num_bad_epochs', 'cooldown_counter', 'last_epoch'):
        assert getattr(esch, key) == getattr(tsch, key)
    sd = esch.state_dict()
    eopt2, _ = _lr_pair()
    fresh = ember.optim.lr_scheduler.ReduceLROnPlateau(eopt2)
    fresh.load_state_dict(sd)
    assert fresh.best == esch.best and fresh.patience == esch.patience


def test_reduce_lr_on_plateau_accepts_tensor_metric():
    eopt, _ = _lr_pair()
    sch = ember.optim.lr_scheduler.ReduceLROnPlateau(eopt, patience=0)
    sch.step(ember.tensor(1.0))
    sch.step(ember.tensor(2.0))
    assert sch.get_last_lr() == pytest.approx([0.01, 0.02])


def test_scheduler_sets_initial_lr_and_base_lrs():
    eopt, topt = _lr_pair()
    esch = ember.optim.lr_scheduler.StepLR(eopt, step_size=2)
    tsch = torch.optim.lr_scheduler.StepLR(topt, step_size=2)
    assert esch.base_lrs == tsch.base_lrs
    assert [g['initial_lr'] for g in eopt.param_groups] == [g['initial_lr'] for g in topt.param_groups]
    assert esch.last_epoch == 0 and esch._step_count == 1
    assert sorted(esch.state_dict()) == sorted(tsch.state_dict())


def test_scheduler_resume_requires_initial_lr():
    eopt, topt = _lr_pair()
    with pytest.raises(KeyError) as e_info:
        ember.optim.lr_scheduler.StepLR(eopt, step_size=2, last_epoch=3)
    with pytest.raises(KeyError) as t_info:
        torch.optim.lr_scheduler.StepLR(topt, step_size=2, last_epoch=3)
    assert str(e_info.value) == str(t_info.value)


def test_scheduler_state_dict_round_trip():
    eopt, _ = _lr_pair()
    sch = ember.optim.lr_scheduler.CosineAnnealingLR(eopt, T_max=10)
    for _ in range(4):
        eopt.step()
        sch.step()
    sd = sch.state_dict()
    assert 'optimizer' not in sd and sd['last_epoch'] == 4
    eopt2, _ = _lr_pair()
    sch2 = ember.optim.lr_scheduler.CosineAnnealingLR(eopt2, T_max=10)
    sch2.load_state_dict(sd)
    eopt2.load_state_dict(eopt.state_dict())
    for _ in range(6):
        for o, s in ((eopt, sch), (eopt2, sch2)):
            o.step()
            s.step()
        assert sch.get_last_lr() == sch2.get_last_lr()


def test_scheduler_step_before_optimizer_warns():
    eopt, _ = _lr_pair()
    sch = ember.optim.lr_scheduler.StepLR(eopt, step_size=2)
    with pytest.warns(UserWarning, match='before `optimizer.step\\(\\)`'):
        sch.step()
    eopt2, _ = _lr_pair()
    sch2 = ember.optim.lr_scheduler.StepLR(eopt2, step_size=2)
    eopt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        sch2.step()


def test_closed_form_step_with_epoch():
    eopt, topt = _lr_pair()
    esch = ember.optim.lr_scheduler.StepLR(eopt, step_size=3, gamma=0.5)
    tsch = torch.optim.lr_scheduler.StepLR(topt, step_size=3, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for epoch in (5, 9, 2):
            eopt.step()
            topt.step()
            esch.step(epoch)
            tsch.step(epoch)
            assert esch.get_last_lr() == tsch.get_last_lr()


def test_onecycle_too_many_steps():
    eopt, _ = _lr_pair()
    sch = ember.optim.lr_scheduler.OneCycleLR(eopt, max_lr=1.0, total_steps=3)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for _ in range(2):
            sch.step()
        with pytest.raises(ValueError, match='Tried to step 4 times'):
            sch.step()
            sch.step()


def test_schedulers_drive_training_like_torch():
    ep, tp = _pair(_init_arrays())
    eopt, topt = ember.optim.SGD(ep, lr=0.1, momentum=0.9), torch.optim.SGD(tp, lr=0.1, momentum=0.9)
    esch = ember.optim.lr_scheduler.OneCycleLR(eopt, max_lr=0.2, total_steps=40)
    tsch = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.2, total_steps=40)
    for _ in range(40):
        _set_grads(ep, tp)
        eopt.step()
        topt.step()
        esch.step()
        tsch.step()
    _assert_params_close(ep, tp)
    assert math.isclose(esch.get_last_lr()[0], tsch.get_last_lr()[0], rel_tol=0, abs_tol=0)


@pytest.mark.parametrize('kwargs', SGD_CASES)
def test_sgd_updates_a_large_param_block_by_block_as_a_whole(kwargs):
    """A parameter larger than SGD's update block (updated block by block, each block in cache) ends where the
    same values split into small parameters end, bit for bit, and close to PyTorch's trajectory."""
    from ember.optim.sgd import _BLOCK
    arrays = _init_arrays(shapes=[(_BLOCK + 1000,)])
    ep, tp = _pair(arrays)
    parts = [ember.tensor(a.copy(), requires_grad=True) for a in np.array_split(arrays[0], 3)]
    eopt, topt = ember.optim.SGD(ep, **kwargs), torch.optim.SGD(tp, **kwargs)
    popt = ember.optim.SGD(parts, **kwargs)
    for _ in range(3):
        _set_grads(ep, tp)
        _set_ember_grads(parts)
        for opt in (eopt, topt, popt):
            opt.step()
    np.testing.assert_array_equal(ep[0].detach().numpy(), np.concatenate([p.detach().numpy() for p in parts]))
    _assert_params_close(ep, tp)
    _assert_state_equal(eopt, topt)
