"""Optimizers, schedulers, init, distributions and random ops a differential fuzzer (ember against PyTorch, same
seeds and inputs) found answering differently: each case runs ``fn(lib)`` on both and compares what it returns
(tensors by dtype, shape and bits; numbers, strings and nested lists/dicts exactly), or that both raise the same
exception type and first line."""
import numpy as np
import pytest
import torch

import ember

R = np.random.RandomState(0)
X3 = R.randn(3, 5, 2).astype(np.float32)
X4 = R.randn(3, 7, 6, 5).astype(np.float32)
COL = R.randn(6, 40, 1).astype(np.float32)
SHAPES = [(3, 4), (5,), (2, 3, 2), (4, 3, 5, 2), (7, 1)]
P0 = [R.randn(*s).astype(np.float32) for s in SHAPES]
GRADS = [[R.randn(*s).astype(np.float32) for s in SHAPES] for _ in range(4)]


def _plain(x):
    """A result as plain Python/NumPy values, the library's name taken out of dtypes."""
    if hasattr(x, 'detach') and hasattr(x, 'dtype'):
        x = x.detach()
        return (str(x.dtype).split('.')[-1], tuple(x.shape), x.resolve_conj().numpy().tobytes())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def _optim_run(name, kw, shapes=None, cplx=False):
    """``steps`` of an optimizer over fixed gradients: the params after each step and the final state_dict."""
    def fn(L):
        idx = range(len(SHAPES)) if shapes is None else shapes
        ps = []
        for i in idx:
            a = P0[i] + 0.5j * P0[i] if cplx else P0[i]
            ps.append(L.tensor(a.astype(np.complex64) if cplx else a, requires_grad=True))
        opt = getattr(L.optim, name)(ps, **kw)
        out = []
        for g in GRADS:
            for p, i in zip(ps, idx):
                p.grad = L.tensor((g[i] - 0.3j * g[i]).astype(np.complex64) if cplx else g[i])
            opt.step()
            out.append([p.clone() for p in ps])
        return out, opt.state_dict()['state']
    return fn


def _sparse_run(name, kw):
    """Three steps of an optimizer on an Embedding's sparse gradients (row 2 twice, uncoalesced, in the first)."""
    def fn(L):
        e = L.nn.Embedding(6, 3, sparse=True)
        with L.no_grad():
            e.weight.copy_(L.tensor(P0[3].reshape(-1)[:18].reshape(6, 3) + 0.1))
        opt = getattr(L.optim, name)(e.parameters(), **kw)
        out = []
        for idx in ([0, 2, 2], [1, 5], [0, 0, 3]):
            opt.zero_grad()
            (e(L.tensor(idx)) ** 2).sum().backward()
            opt.step()
            out.append(e.weight.clone())
        return out, opt.state_dict()['state']
    return fn


CASES = {
    # a sum/mean over middle dims adds as PyTorch's outer reduction per leading index (NumPy's order differed)
    'sum_middle_dim': lambda L: L.tensor(X3).sum(1),
    'mean_middle_dim_keepdim': lambda L: L.tensor(X4).mean(dim=-2, keepdim=True),
    'sum_middle_two_dims': lambda L: L.tensor(X4).sum((1, 2)),
    # leading and trailing dims around a kept middle: an inner sum per leading index, added in order
    'sum_outer_and_inner_dims': lambda L: L.tensor(X3).sum((0, 2)),
    'mean_outer_and_inner_dims': lambda L: L.tensor(X4).mean((0, 3)),
    'sum_interleaved_dims_last_reduced': lambda L: L.tensor(X4).sum((1, 3)),
    # size-1 dims dropped first, as TensorIterator does: (n, m, 1) over dim 1 is an inner sum per row
    'sum_before_unit_dim': lambda L: L.tensor(X4.reshape(18, 35, 1)).sum(1),
    'sum_unit_dims_keepdim': lambda L: L.tensor(X4.reshape(1, 126, 1, 5)).sum((0, 1), keepdim=True),
    # a norm over a column (size-1 dims dropped, as TensorIterator does): an inner sum, not an outer one
    'norm_column': lambda L: L.tensor(COL).norm(dim=1),
    'norm_column_keepdim': lambda L: L.linalg.vector_norm(L.tensor(COL[:, None]), dim=-2, keepdim=True),
    # Adafactor's factored variances (3-d and 4-d params, a column) and update in PyTorch's op order
    'adafactor': _optim_run('Adafactor', {}),
    'adafactor_wd_maximize': _optim_run('Adafactor', dict(weight_decay=0.1, maximize=True, beta2_decay=-0.5)),
    'adafactor_complex_refused': _optim_run('Adafactor', {}, shapes=[0], cplx=True),
    # a complex param's Adagrad sum starts at initial_accumulator_value in its real and imaginary parts
    'adagrad_complex_initial_sum': _optim_run('Adagrad', dict(initial_accumulator_value=0.5), [0, 1], cplx=True),
    # single-tensor steps decay a complex gradient before view_as_real (a complex add: no fused multiply-add);
    # foreach=True decays the real views (fused)
    'adam_complex_decay': _optim_run('Adam', dict(weight_decay=0.1, amsgrad=True), [0, 1], cplx=True),
    'adam_complex_decay_foreach': _optim_run('Adam', dict(weight_decay=0.1, foreach=True), [0, 1], cplx=True),
    'adamax_complex_decay': _optim_run('Adamax', dict(weight_decay=0.1), [0, 1], cplx=True),
    'adagrad_complex_decay': _optim_run('Adagrad', dict(weight_decay=0.1), [0, 1], cplx=True),
    'adadelta_complex_decay': _optim_run('Adadelta', dict(weight_decay=0.1), [0, 1], cplx=True),
    'rmsprop_complex_decay': _optim_run('RMSprop', dict(weight_decay=0.1, maximize=True), [0, 1], cplx=True),
    'rmsprop_complex_decay_foreach': _optim_run('RMSprop', dict(weight_decay=0.1, foreach=True), [0, 1], cplx=True),
    # orthogonal_ goes through linalg.qr, which has no float16/bfloat16 kernel (NumPy's qr raised a TypeError or
    # ran in float32)
    'orthogonal_float16': lambda L: L.nn.init.orthogonal_(L.empty(3, 4, dtype=L.float16)),
    'orthogonal_bfloat16': lambda L: L.nn.init.orthogonal_(L.empty(3, 4, dtype=L.bfloat16)),
    # feature dropout draws one noise value per channel: a 1-d input has none, refused where a mask is drawn
    'feature_alpha_dropout_1d': lambda L: L.nn.functional.feature_alpha_dropout(L.ones(5), 0.5, True),
    'feature_alpha_dropout_module_1d': lambda L: L.nn.FeatureAlphaDropout(0.2)(L.ones(5)),
    'dropout2d_1d': lambda L: L.nn.functional.dropout2d(L.ones(5), 0.5, True),
    'dropout2d_1d_p1': lambda L: L.nn.functional.dropout2d(L.ones(5), 1.0, True),
    'feature_alpha_dropout_1d_eval': lambda L: L.nn.functional.feature_alpha_dropout(L.ones(5), 0.5, False),
    # dense.add_(sparse, alpha) as PyTorch's kernel: each entry one fused multiply-add, duplicates in stored order;
    # SGD without momentum keeps no state for the param
    'sparse_sgd': _sparse_run('SGD', dict(lr=0.1)),
    'sparse_sgd_momentum': _sparse_run('SGD', dict(lr=0.1, momentum=0.9, dampening=0.2)),
    'sparse_adagrad': _sparse_run('Adagrad', dict(lr=0.1, lr_decay=0.1)),
    # rand/randn/randint(out=) fill a non-contiguous out in place, in its memory order (as out.normal_() would)
    'randn_out_transposed': lambda L: [L.manual_seed(1), L.randn(6, 4, out=(o := L.zeros(4, 6)).t()), o, L.rand(2)][1:],
    'rand_out_strided': lambda L: [L.manual_seed(1), L.rand(3, 7, out=(o := L.zeros(3, 14))[:, ::2]), o][1:],
    'randint_out_transposed': lambda L: [L.manual_seed(1), L.randint(2, 9, (6, 4), out=(o := L.zeros(4, 6,
                                                                                          dtype=L.int32)).t()), o][1:],
}
# a float32 tensor lr: the step's scalar arithmetic with it (lr / bias_correction1, 1 - lr * wd) rounds in float32
for _name, _kw in [('Adam', dict(amsgrad=True)), ('AdamW', dict(weight_decay=0.5)), ('NAdam', dict(momentum_decay=0.01)),
                   ('RAdam', dict(decoupled_weight_decay=True, weight_decay=0.1)), ('Adamax', dict(maximize=True)),
                   ('ASGD', dict(weight_decay=0.1)), ('Adafactor', dict(eps=(None, 1e-2))), ('SGD', dict(momentum=0.9)),
                   ('Adagrad', dict(lr_decay=0.1)), ('RMSprop', dict(centered=True))]:
    CASES[f'tensor_lr_{_name}'] = (lambda name, kw: lambda L: _optim_run(name, dict(kw, lr=L.tensor(0.01)))(L))(_name, _kw)


def _outcome(L, fn):
    try:
        return _plain(fn(L))
    except Exception as e:     # noqa: BLE001 -- the exception's type is compared
        return ('raises', type(e).__name__, str(e).splitlines()[0])


@pytest.mark.parametrize('name', sorted(CASES))
def test_matches_torch(name):
    assert _outcome(ember, CASES[name]) == _outcome(torch, CASES[name])
