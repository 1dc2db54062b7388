"""Every loss (function and module) against PyTorch: each reduction and option, forward values, grad_fn
names and gradients; fused nodes also gradcheck (and gradgradcheck) in float64; stability at large logits."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import check, assert_same

S = (3, 4)
REDS = ['mean', 'sum', 'none']


def F(lib):
    return lib.nn.functional


def idx(lib, values):
    return lib.tensor(values)


def const(lib, arr):
    return lib.tensor(np.asarray(arr, np.float32))


W4 = np.array([0.5, 1.0, 2.0, 0.25], np.float32)

# name, fn(lib, *tensors), shapes, options
CASES = []
for r in REDS:
    CASES += [
        (f'mse_{r}', lambda L, x, y, r=r: F(L).mse_loss(x, y, reduction=r), [S, S], {}),
        (f'l1_{r}', lambda L, x, y, r=r: F(L).l1_loss(x, y, reduction=r), [S, S], {}),
        (f'smooth_l1_{r}', lambda L, x, y, r=r: F(L).smooth_l1_loss(x, y, reduction=r, beta=0.5), [S, S], {}),
        (f'huber_{r}', lambda L, x, y, r=r: F(L).huber_loss(x, y, reduction=r, delta=0.7), [S, S], {}),
        (f'ce_{r}', lambda L, x, r=r: F(L).cross_entropy(x, idx(L, [0, 3, 1]), reduction=r), [S], {}),
        (f'ce_weight_ignore_{r}', lambda L, x, r=r: F(L).cross_entropy(
            x, idx(L, [0, 3, -100]), weight=const(L, W4).to(x.dtype), reduction=r), [S], {}),
        (f'ce_ignore_custom_{r}', lambda L, x, r=r: F(L).cross_entropy(
            x, idx(L, [2, 3, 1]), ignore_index=3, reduction=r), [S], {}),
        (f'ce_smooth_{r}', lambda L, x, r=r: F(L).cross_entropy(
            x, idx(L, [0, 3, 1]), label_smoothing=0.2, reduction=r), [S], {}),
        (f'ce_smooth_weight_{r}', lambda L, x, r=r: F(L).cross_entropy(
            x, idx(L, [0, 3, -100]), weight=const(L, W4).to(x.dtype), label_smoothing=0.3, reduction=r), [S], {}),
        (f'ce_4d_{r}', lambda L, x, r=r: F(L).cross_entropy(
            x, idx(L, [[[0, 2], [1, 1]], [[2, 2], [0, 1]]]), reduction=r), [(2, 3, 2, 2)], {}),
        (f'ce_3d_{r}', lambda L, x, r=r: F(L).cross_entropy(
            x, idx(L, [[0, 2], [1, 1]]), reduction=r), [(2, 3, 2)], {}),
        (f'ce_1d_{r}', lambda L, x, r=r: F(L).cross_entropy(x, idx(L, 2), reduction=r), [(4,)], {}),
        (f'ce_probs_{r}', lambda L, x, y, r=r: F(L).cross_entropy(x, L.softmax(y, 1), reduction=r), [S, S], {}),
        (f'ce_probs_smooth_weight_{r}', lambda L, x, y, r=r: F(L).cross_entropy(
            x, L.softmax(y, 1), weight=const(L, W4), label_smoothing=0.1, reduction=r), [S, S], {}),
        (f'ce_probs_4d_{r}', lambda L, x, y, r=r: F(L).cross_entropy(x, L.softmax(y, 1), reduction=r),
         [(2, 3, 2, 2), (2, 3, 2, 2)], {}),
        (f'nll_{r}', lambda L, x, r=r: F(L).nll_loss(x, idx(L, [0, 3, 1]), reduction=r), [S], {}),
        (f'nll_weight_ignore_{r}', lambda L, x, r=r: F(L).nll_loss(
            x, idx(L, [0, -100, 1]), weight=const(L, W4).to(x.dtype), reduction=r), [S], {}),
        (f'nll_4d_{r}', lambda L, x, r=r: F(L).nll_loss(
            x, idx(L, [[[0, 2], [1, 1]], [[2, 2], [0, 1]]]), weight=const(L, [1., 2., 3.]).to(x.dtype), reduction=r),
         [(2, 3, 2, 2)], {}),
        (f'bce_{r}', lambda L, x, y, r=r: F(L).binary_cross_entropy(L.sigmoid(x), L.sigmoid(y), reduction=r),
         [S, S], {}),
        (f'bce_weight_{r}', lambda L, x, r=r: F(L).binary_cross_entropy(
            L.sigmoid(x), const(L, [[0, 1, 0.3, 1]] * 3).to(x.dtype), weight=const(L, W4), reduction=r), [S], {}),
        (f'bce_logits_{r}', lambda L, x, y, r=r: F(L).binary_cross_entropy_with_logits(
            x, L.sigmoid(y), reduction=r), [S, S], {}),
        (f'bce_logits_pos_weight_{r}', lambda L, x, y, r=r: F(L).binary_cross_entropy_with_logits(
            x, L.sigmoid(y), weight=const(L, W4), pos_weight=const(L, W4[::-1].copy()), reduction=r), [S, S], {}),
        (f'soft_margin_{r}', lambda L, x, r=r: F(L).soft_margin_loss(
            x, const(L, [[1, -1, 1, -1]] * 3), reduction=r), [S], {}),
        (f'cosine_embedding_{r}', lambda L, x, y, r=r: F(L).cosine_embedding_loss(
            x, y, idx(L, [1, -1, 1]), margin=0.1, reduction=r), [S, S], {'name': False}),
        (f'margin_ranking_{r}', lambda L, x, y, r=r: F(L).margin_ranking_loss(
            x, y, const(L, [1, -1, 1, -1]), margin=0.2, reduction=r), [(4,), (4,)], {'name': False}),
        (f'hinge_embedding_{r}', lambda L, x, r=r: F(L).hinge_embedding_loss(
            x, const(L, [[1, -1, 1, -1]] * 3), reduction=r), [S], {'name': False}),
        (f'poisson_{r}', lambda L, x, y, r=r: F(L).poisson_nll_loss(x, y.abs() * 3, full=True, reduction=r),
         [S, S], {'name': False}),
        (f'poisson_rate_{r}', lambda L, x, y, r=r: F(L).poisson_nll_loss(x, y, log_input=False, reduction=r),
         [S, S], {'positive': True, 'name': False}),
        (f'gaussian_nll_{r}', lambda L, x, y, v, r=r: F(L).gaussian_nll_loss(x, y, v.abs() + 0.1, reduction=r),
         [S, S, S], {'name': False}),
        (f'triplet_{r}', lambda L, a, p, n, r=r: F(L).triplet_margin_loss(a, p, n, swap=True, reduction=r),
         [S, S, S], {'name': False}),
        (f'multilabel_soft_margin_{r}', lambda L, x, r=r: F(L).multilabel_soft_margin_loss(
            x, const(L, [[1, 0, 1, 1]] * 3), weight=const(L, W4), reduction=r), [S], {'name': False}),
        (f'multilabel_margin_{r}', lambda L, x, r=r: F(L).multilabel_margin_loss(
            x, idx(L, [[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 1, 2]]), reduction=r), [S], {'name': False}),
        (f'multi_margin_{r}', lambda L, x, r=r: F(L).multi_margin_loss(
            x, idx(L, [0, 3, 1]), p=2, margin=0.7, weight=const(L, W4).to(x.dtype), reduction=r), [S], {'name': False}),
    ]
CASES += [
    ('kl_batchmean', lambda L, x, y: F(L).kl_div(x, L.softmax(y, 1), reduction='batchmean'), [S, S], {}),
    ('kl_sum', lambda L, x, y: F(L).kl_div(x, L.softmax(y, 1), reduction='sum'), [S, S], {}),
    ('kl_none', lambda L, x, y: F(L).kl_div(x, L.softmax(y, 1), reduction='none'), [S, S], {'name': False}),
    ('kl_log_target', lambda L, x, y: F(L).kl_div(x, L.log_softmax(y, 1), reduction='batchmean', log_target=True),
     [S, S], {}),
    ('mse_broadcast', lambda L, x, y: F(L).mse_loss(x, y), [(3, 1), (3,)], {}),
    ('mse_weight', lambda L, x, y: F(L).mse_loss(x, y, weight=const(L, [[1, 2, 3, 4]] * 3)), [S, S],
     {'name': False}),
    ('smooth_l1_beta0', lambda L, x, y: F(L).smooth_l1_loss(x, y, beta=0.0), [S, S], {'name': False}),
]
FUSED_GRADGRAD = ('mse_', 'smooth_l1_', 'huber_', 'ce_', 'nll_', 'bce_', 'soft_margin_')


@pytest.mark.parametrize('name,fn,shapes,opts', CASES, ids=[c[0] for c in CASES])
def test_loss_matches_torch(name, fn, shapes, opts):
    opts = dict(opts)
    opts.setdefault('gradgrad', name.startswith(FUSED_GRADGRAD) and name.endswith('_mean'))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        check(fn, *shapes, **opts)


@pytest.mark.parametrize('kind', ['ce', 'ce_smooth', 'ce_probs', 'bce_logits', 'nll_logsoftmax'])
def test_large_logits_are_finite(kind):
    """Logits of +-1e4 give the same finite losses and gradients as PyTorch (no inf or NaN)."""
    x = np.array([[1e4, -1e4, 0.0, 5e3], [-1e4, 1e4, 1e4, -3e3], [0.0, 0.0, -1e4, 1e4]], np.float32)
    y = np.array([[1, 0, 1, 0], [0, 1, 1, 0], [1, 1, 0, 0]], np.float32)

    def run(L, t):
        fn = F(L)
        if kind == 'ce':
            return fn.cross_entropy(t, L.tensor([1, 0, 2]))
        if kind == 'ce_smooth':
            return fn.cross_entropy(t, L.tensor([1, 0, 2]), label_smoothing=0.1)
        if kind == 'ce_probs':
            return fn.cross_entropy(t, L.tensor(y / y.sum(1, keepdims=True)))
        if kind == 'bce_logits':
            return fn.binary_cross_entropy_with_logits(t, L.tensor(y), pos_weight=L.tensor(W4))
        return fn.nll_loss(fn.log_softmax(t, 1), L.tensor([1, 0, 2]))

    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    tl, el = run(torch, tx), run(ember, ex)
    tl.backward()
    el.backward()
    assert np.isfinite(el.item()) and np.isfinite(ex.grad.numpy()).all()
    assert_same(el, tl, atol=1e-2, rtol=1e-5)
    assert_same(ex.grad, tx.grad, atol=1e-5, rtol=1e-4)


def test_soft_margin_large_logits_as_pytorch():
    """PyTorch computes log1p(exp(-y x)) as written: inf where exp overflows, and a NaN gradient there (z / (1 + z))."""
    x = [[1e4, -1e4], [3e3, 0.0]]
    y = [[-1.0, 1.0], [-1.0, 1.0]]
    out = []
    for L in (ember, torch):
        xt = L.tensor(x, requires_grad=True)
        loss = L.nn.functional.soft_margin_loss(xt, L.tensor(y))
        loss.backward()
        out.append((loss, xt.grad))
    assert_same(out[0][0], out[1][0])
    assert_same(out[0][1], out[1][1])


def test_bce_clamps_log_like_torch():
    x = np.array([0.0, 1.0, 0.5, 1e-30], np.float32)
    y = np.array([1.0, 0.0, 1.0, 1.0], np.float32)
    for r in REDS:
        t = torch.nn.functional.binary_cross_entropy(torch.tensor(x), torch.tensor(y), reduction=r)
        e = ember.nn.functional.binary_cross_entropy(ember.tensor(x), ember.tensor(y), reduction=r)
        assert_same(e, t)


def test_nll_all_ignored_is_nan_like_torch():
    x = np.zeros((2, 3), np.float32)
    for r in REDS:
        t = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor([-100, -100]), reduction=r)
        e = ember.nn.functional.cross_entropy(ember.tensor(x), ember.tensor([-100, -100]), reduction=r)
        assert_same(e, t)


ERRORS = [
    ('ce_target_oob', lambda L: F(L).cross_entropy(L.zeros(2, 3), L.tensor([0, 3]))),
    ('ce_target_neg', lambda L: F(L).cross_entropy(L.zeros(2, 3), L.tensor([0, -2]))),
    ('ce_batch_mismatch', lambda L: F(L).cross_entropy(L.zeros(2, 3), L.tensor([0, 1, 2]))),
    ('ce_multi_target', lambda L: F(L).cross_entropy(L.zeros(2, 3), L.zeros(2, 2, dtype=L.long))),
    ('ce_probs_long', lambda L: F(L).cross_entropy(L.zeros(2, 3), L.zeros(2, 3, dtype=L.long))),
    ('ce_spatial_mismatch', lambda L: F(L).cross_entropy(L.zeros(2, 3, 4, 4), L.zeros(2, 4, 5, dtype=L.long))),
    ('ce_bad_weight', lambda L: F(L).cross_entropy(L.zeros(2, 3), L.tensor([0, 1]), weight=L.ones(4))),
    ('nll_float_target', lambda L: F(L).nll_loss(L.zeros(2, 3), L.zeros(2))),
    ('bad_reduction', lambda L: F(L).mse_loss(L.zeros(2), L.zeros(2), reduction='avg')),
    ('bce_range', lambda L: F(L).binary_cross_entropy(L.ones(2) * 2, L.zeros(2))),
    ('bce_shape', lambda L: F(L).binary_cross_entropy(L.ones(2) * 0.5, L.zeros(2, 1))),
    ('bce_logits_shape', lambda L: F(L).binary_cross_entropy_with_logits(L.ones(2), L.zeros(2, 1))),
]


@pytest.mark.parametrize('name,fn', ERRORS, ids=[e[0] for e in ERRORS])
def test_loss_errors_match_torch(name, fn):
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(Exception) as ee:
        fn(ember)
    assert type(ee.value) is type(te.value)
    assert str(ee.value) == str(te.value)


def test_legacy_size_average_reduce():
    x, y = np.arange(6, dtype=np.float32).reshape(2, 3), np.ones((2, 3), np.float32)
    for sa, rd in [(None, False), (False, None), (True, True), (False, True)]:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            t = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(y), size_average=sa, reduce=rd)
            e = ember.nn.functional.mse_loss(ember.tensor(x), ember.tensor(y), size_average=sa, reduce=rd)
            tm = torch.nn.MSELoss(size_average=sa, reduce=rd)
            em = ember.nn.MSELoss(size_average=sa, reduce=rd)
        assert_same(e, t)
        assert em.reduction == tm.reduction


MODULES = [
    ('MSELoss', lambda nn: nn.MSELoss(), 2),
    ('L1Loss', lambda nn: nn.L1Loss(reduction='sum'), 2),
    ('SmoothL1Loss', lambda nn: nn.SmoothL1Loss(beta=0.3), 2),
    ('HuberLoss', lambda nn: nn.HuberLoss(delta=0.4, reduction='none'), 2),
    ('CrossEntropyLoss', lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=1), 'idx'),
    ('CrossEntropyLossW', lambda nn: nn.CrossEntropyLoss(weight=nn_tensor(nn, W4)), 'idx'),
    ('NLLLoss', lambda nn: nn.NLLLoss(weight=nn_tensor(nn, W4), reduction='sum'), 'idx'),
    ('BCELoss', lambda nn: nn.BCELoss(), 'prob'),
    ('BCEWithLogitsLoss', lambda nn: nn.BCEWithLogitsLoss(pos_weight=nn_tensor(nn, W4)), 'sig'),
    ('KLDivLoss', lambda nn: nn.KLDivLoss(reduction='batchmean'), 'sm'),
    ('SoftMarginLoss', lambda nn: nn.SoftMarginLoss(), 'sign'),
]


def nn_tensor(nn, arr):
    lib = torch if nn is torch.nn else ember
    return lib.tensor(arr)


@pytest.mark.parametrize('name,make,kind', MODULES, ids=[m[0] for m in MODULES])
def test_loss_modules(name, make, kind):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(S).astype(np.float32)
    y = rng.standard_normal(S).astype(np.float32)
    outs = {}
    for lib in (torch, ember):
        m = make(lib.nn)
        xi = lib.tensor(x, requires_grad=True)
        if kind == 'idx':
            inp, tgt = xi, lib.tensor([0, 3, 1]) if name != 'NLLLoss' else lib.tensor([0, 3, 1])
        elif kind == 'prob':
            inp, tgt = lib.sigmoid(xi), lib.sigmoid(lib.tensor(y))
        elif kind == 'sig':
            inp, tgt = xi, lib.sigmoid(lib.tensor(y))
        elif kind == 'sm':
            inp, tgt = lib.log_softmax(xi, 1), lib.softmax(lib.tensor(y), 1)
        elif kind == 'sign':
            inp, tgt = xi, lib.sign(lib.tensor(y))
        else:
            inp, tgt = xi, lib.tensor(y)
        out = m(inp, tgt)
        out.sum().backward()
        outs[lib.__name__] = (out, xi.grad, repr(m), list(m.state_dict().keys()))
    e, t = outs['ember'], outs['torch']
    assert_same(e[0], t[0])
    assert_same(e[1], t[1])
    assert e[2] == t[2]
    assert e[3] == t[3]


def test_cross_entropy_backward_is_nll_of_log_softmax():
    """As PyTorch records it (tests/test_graph_shapes.py compares the whole chain with PyTorch's)."""
    x = ember.randn(4, 5, requires_grad=True)
    loss = ember.nn.functional.cross_entropy(x, ember.tensor([0, 1, 2, 3]))
    assert type(loss.grad_fn).__name__ == 'NllLossBackward0'
    assert type(loss.grad_fn.next_functions[0][0]).__name__ == 'LogSoftmaxBackward0'


def test_nll_all_classes_path_as_pytorch():
    """int64 targets all in [0, C) with ignore_index outside it take the unit-weight path: loss and gradient
    equal PyTorch's for each reduction, through cross_entropy and nll_loss, 1-D and batched; an ignore_index in
    range, a negative or too large target, and uint8 (Byte) targets take the general path (its checks included)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((32, 27)).astype(np.float32)
    t = rng.integers(0, 27, 32)
    for red in REDS:
        check(lambda L, a: F(L).cross_entropy(a, L.tensor(t), reduction=red), inputs=[x], gradcheck=False)
        check(lambda L, a: F(L).nll_loss(F(L).log_softmax(a, 1), L.tensor(t), reduction=red), inputs=[x],
              gradcheck=False)
        check(lambda L, a: F(L).cross_entropy(a, L.tensor(t), ignore_index=int(t[0]), reduction=red), inputs=[x],
              gradcheck=False)
    check(lambda L, a: F(L).cross_entropy(a[0], L.tensor(t[0])), inputs=[x], gradcheck=False)
    check(lambda L, a: F(L).cross_entropy(a, L.tensor(t.astype(np.uint8))), inputs=[x], gradcheck=False)
    for bad in (-1, 27):
        for lib in (ember, torch):
            with pytest.raises(IndexError, match=f'Target {bad} is out of bounds.'):
                F(lib).cross_entropy(lib.tensor(x), lib.tensor(np.r_[t[:-1], bad]))


# -- nll_loss's gradient reused by log_softmax's backward (autograd._handoff) ---------------------------------------
@pytest.mark.parametrize('threads', [1, 2])
@pytest.mark.parametrize('case', ['mean', 'sum', 'scaled', 'tiny', 'negative', 'zero', 'none', 'ignore', 'weight'])
def test_log_softmax_backward_of_a_one_hot_nll_gradient(monkeypatch, case, threads):
    """log_softmax's backward of the nll_loss gradient it is handed (zeros but one negative value a row at the
    target) is exp(y) * -v plus v at the targets, never reading the gradient: bit for bit the values of the dense
    path (and close to PyTorch's), with underflowing exp values and tiny products; a positive or zero value, one
    value per row (reduction='none', ignore_index, weight) take the dense path."""
    from ember.ops import reduction
    rng = np.random.default_rng(9)
    shape = (300, 5000)
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    x[0, :5], x[1, 7] = -200, -110      # exp of y underflows to 0, or to a subnormal
    t = rng.integers(0, shape[1], shape[0])
    scale = {'scaled': 3.0, 'tiny': 1e-35, 'negative': -2.0, 'zero': 0.0}.get(case, 1.0)
    kw = {'reduction': {'sum': 'sum', 'none': 'none'}.get(case, 'mean')}
    if case == 'ignore':
        kw['ignore_index'] = int(t[3])
    if case == 'weight':
        kw['weight'] = rng.uniform(0.5, 2, shape[1]).astype(np.float32)
    used = []
    hot = reduction._log_softmax_bw_one_hot
    monkeypatch.setattr(reduction, '_log_softmax_bw_one_hot', lambda *a: used.append(hot(*a)) or used[-1])

    def run(lib):
        xs = lib.tensor(x, requires_grad=True)
        args = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        loss = F(lib).nll_loss(F(lib).log_softmax(xs, dim=1), lib.tensor(t), **args)
        (loss.sum() * scale).backward()
        return xs.grad.numpy()
    old = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        got = run(ember)
        monkeypatch.setattr(reduction, '_log_softmax_bw_one_hot', lambda *a: False)
        dense = run(ember)
    finally:
        ember.set_num_threads(old)
    assert used == [case in ('mean', 'sum', 'scaled', 'tiny')]
    np.testing.assert_array_equal(got.view(np.int32), dense.view(np.int32))
    np.testing.assert_allclose(got, run(torch), rtol=1e-5, atol=1e-7 * abs(scale) + 1e-45)


@pytest.mark.parametrize('shape', [(6, 9), (300, 5000)], ids=['one_block', 'row_blocks'])
def test_log_softmax_backward_writes_into_the_nll_gradient(monkeypatch, shape):
    """In a plain backward, log_softmax's gradient is written into the nll_loss gradient it receives (handed on):
    the values are those of the path that makes a new array (bit for bit) and PyTorch's. Where something can see
    that gradient (a hook on log_softmax's output, retain_grad, autograd.grad asking for it, create_graph), it is
    left as nll_loss made it."""
    from ember.ops import reduction
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    t = rng.integers(0, shape[1], shape[0])
    over = []
    kernel, hot = reduction._log_softmax_bw_rows_over, reduction._log_softmax_bw_one_hot
    monkeypatch.setattr(reduction, '_log_softmax_bw_rows_over', lambda *a: over.append(1) or kernel(*a))
    monkeypatch.setattr(reduction, '_log_softmax_bw_one_hot', lambda *a: hot(*a) and (over.append(1) or True))

    def run(lib, how=None):
        xs = lib.tensor(x, requires_grad=True)
        out = F(lib).log_softmax(xs, dim=1)
        loss = F(lib).nll_loss(out, lib.tensor(t))
        seen = []
        if how == 'hook':
            out.register_hook(lambda g: seen.append(g.clone()) or None)
        if how == 'retain':
            out.retain_grad()
        if how == 'grad':
            gout, gx = lib.autograd.grad(loss, [out, xs])
            return gx, gout
        if how == 'create_graph':
            (gx,) = lib.autograd.grad(loss, [xs], create_graph=True)
            return gx.detach(), None
        loss.backward()
        return xs.grad, (seen[0] if seen else out.grad if how == 'retain' else None)

    nll_grad = np.zeros(shape, np.float32)
    nll_grad[np.arange(shape[0]), t] = -1 / np.float32(shape[0])
    plain, _ = run(ember)
    assert over
    for how in ('hook', 'retain', 'grad', 'create_graph'):
        over.clear()
        gx, gout = run(ember, how)
        assert not over, how
        if how == 'create_graph':     # composed of differentiable ops: rounded otherwise
            np.testing.assert_allclose(gx.numpy(), plain.numpy(), rtol=1e-6, atol=1e-9, err_msg=how)
        else:
            np.testing.assert_array_equal(gx.numpy(), plain.numpy(), err_msg=how)
        if gout is not None:
            np.testing.assert_array_equal(gout.numpy(), nll_grad, err_msg=how)
    assert_same(plain, run(torch)[0], atol=1e-7, rtol=1e-5, what='input gradient')
