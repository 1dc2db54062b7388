"""Decompositions and the rounding/NaN ops record PyTorch's grad_fn and give its gradients (issue 10: these
outputs had no grad_fn, so .grad stayed silently wrong); gradients also checked by float64 gradcheck."""
import numpy as np
import pytest
import torch

import ember
from helpers import check

RNG = np.random.default_rng(0)
M = RNG.uniform(-1, 1, (3, 3))
SPD = (M @ M.T + 3 * np.eye(3)).astype(np.float32)

LINALG = [
    # raw symmetric input: compared with PyTorch (finite differences would see the unread upper triangle)
    ('cholesky', lambda T, a: T.linalg.cholesky(a), [SPD], {'gradcheck': False}),
    ('cholesky_upper', lambda T, a: T.linalg.cholesky(a, upper=True), [SPD], {'gradcheck': False}),
    ('cholesky_sym', lambda T, a: T.linalg.cholesky(a @ a.mT + T.eye(3)), [(3, 3)], {'gradgrad': True}),
    ('slogdet', lambda T, a: T.linalg.slogdet(a), [(3, 3)], {}),
    ('slogdet_batch', lambda T, a: T.linalg.slogdet(a)[1], [(2, 3, 3)], {'gradgrad': True}),
    ('pinv_wide', lambda T, a: T.linalg.pinv(a), [(3, 4)], {'gradgrad': True}),
    ('pinv_tall', lambda T, a: T.linalg.pinv(a), [(4, 3)], {}),
    ('cross', lambda T, a, b: T.linalg.cross(a, b), [(4, 3), (4, 3)], {'gradgrad': True}),
    ('cross_dim_broadcast', lambda T, a, b: T.linalg.cross(a, b, dim=0), [(3, 4), (3, 1)], {}),
    ('eigh', lambda T, a: (lambda w, v: (w, v.abs()))(*T.linalg.eigh(a + a.mT)), [(3, 3)], {'name': False}),
    ('eigh_raw', lambda T, a: T.linalg.eigh(a)[0], [SPD], {'gradcheck': False}),
    ('eigvalsh', lambda T, a: T.linalg.eigvalsh(a + a.mT), [(3, 3)], {'gradgrad': True}),
    ('svdvals', lambda T, a: T.linalg.svdvals(a), [(3, 4)], {'gradgrad': True}),
    ('qr_tall', lambda T, a: T.linalg.qr(a), [(4, 3)], {'gradgrad': True}),
    ('qr_square', lambda T, a: T.linalg.qr(a), [(3, 3)], {}),
    ('qr_wide', lambda T, a: T.linalg.qr(a), [(3, 4)], {}),
    ('qr_wide_complete', lambda T, a: T.linalg.qr(a, mode='complete'), [(3, 4)], {}),
    ('norm_2', lambda T, a: T.linalg.matrix_norm(a, ord=2), [(3, 4)], {}),
    ('norm_-2', lambda T, a: T.linalg.matrix_norm(a, ord=-2), [(4, 3)], {}),
    ('norm_nuc', lambda T, a: T.linalg.matrix_norm(a, ord='nuc'), [(2, 3, 4)], {}),
    ('norm_2_dims_keepdim', lambda T, a: T.linalg.matrix_norm(a, 2, dim=(0, 2), keepdim=True), [(3, 2, 4)], {}),
    ('linalg_norm_nuc', lambda T, a: T.linalg.norm(a, 'nuc'), [(3, 4)], {}),
    # broadcast batch shapes: each gradient is summed back to its input's shape
    ('solve_bcast_A', lambda T, a, b: T.linalg.solve(a + 4 * T.eye(3), b), [(3, 3), (2, 3, 2)], {'gradgrad': True}),
    ('solve_bcast_B', lambda T, a, b: T.linalg.solve(a + 4 * T.eye(3), b), [(2, 3, 3), (3, 2)], {}),
    ('solve_bcast_both', lambda T, a, b: T.linalg.solve(a + 4 * T.eye(3), b), [(2, 1, 3, 3), (4, 3, 1)], {}),
    ('solve_bcast_vec', lambda T, a, b: T.linalg.solve(a + 4 * T.eye(3), b), [(2, 3, 3), (3,)], {}),
    ('solve_bcast_left_false', lambda T, a, b: T.linalg.solve(a + 4 * T.eye(3), b, left=False), [(3, 3), (2, 4, 3)],
     {}),
]
# signs of singular vectors are arbitrary: a loss on |U| and |Vh| is invariant to them
for _shape in [(3, 3), (4, 3), (3, 4), (2, 4, 3)]:
    for _full in (False, True):
        LINALG.append((f'svd_{_shape}_{_full}', lambda T, a, f=_full: (lambda u, s, vh, k: (
            u[..., :k].abs(), s, vh[..., :k, :].abs()))(*T.linalg.svd(a, full_matrices=f), min(a.shape[-2:])),
            [_shape], {'name': False}))


@pytest.mark.parametrize('name,fn,shapes,kw', LINALG, ids=[c[0] for c in LINALG])
def test_linalg_gradients(name, fn, shapes, kw):
    arrays = [s for s in shapes if isinstance(s, np.ndarray)]
    if arrays:
        check(fn, inputs=arrays, **kw)
    else:
        check(fn, *shapes, **kw)


def test_decomposition_grad_fn_names():
    for lib in (ember, torch):
        a = lib.tensor(SPD, requires_grad=True)
        b = lib.tensor(SPD[:, :2].copy(), requires_grad=True)
        names = [lib.linalg.cholesky(a).grad_fn.name(), lib.linalg.pinv(b).grad_fn.name(),
                 *[o.grad_fn.name() for o in lib.linalg.eigh(a)], *[o.grad_fn.name() for o in lib.linalg.svd(b)],
                 *[o.grad_fn.name() for o in lib.linalg.qr(b)], *[o.grad_fn.name() for o in lib.linalg.slogdet(a)]]
        norm = lib.linalg.matrix_norm(b, ord=2)
        names += [norm.grad_fn.name(), norm.grad_fn.next_functions[0][0].name(), norm.grad_fn.next_functions[0][1]]
        if lib is ember:
            got = names
        else:
            assert got == names


def test_cholesky_issue_example():
    """(cholesky(A).sum() + A.sum()).backward() gave A.grad = ones (the cholesky term was lost)."""
    grads = []
    for lib in (ember, torch):
        a = lib.tensor([[2., 1.], [1., 3.]], requires_grad=True)
        (lib.linalg.cholesky(a).sum() + a.sum()).backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5)
    assert not np.allclose(grads[0], 1)


def test_return_types_print_as_pytorch():
    for fn in (lambda L, a: L.linalg.slogdet(a), lambda L, a: L.linalg.qr(a), lambda L, a: L.linalg.eigh(a)):
        assert repr(fn(ember, ember.eye(2))) == repr(fn(torch, torch.eye(2)))


def test_qr_mode_r_and_complete_tall_refuse_backward():
    for lib in (ember, torch):
        a = lib.ones(3, 2, dtype=lib.float64) + lib.eye(3, 2, dtype=lib.float64)
        a.requires_grad_()
        with pytest.raises(RuntimeError, match="mode='r'"):
            lib.linalg.qr(a, mode='r')[1].sum().backward()
        q, r = lib.linalg.qr(a, mode='complete')
        with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
            (q.sum() + r.sum()).backward()


NAN = np.array([[1., np.nan, 3.], [np.nan, np.inf, -np.inf]], np.float32)
POINTWISE = [
    ('nansum', lambda T, a: T.nansum(a), [NAN], {'gradcheck': False}),
    ('nansum_dim', lambda T, a: T.nansum(a, 1, keepdim=True), [NAN], {'gradcheck': False}),
    ('nansum_smooth', lambda T, a: a.nansum(0), [(2, 3)], {}),
    ('nanmean', lambda T, a: T.nanmean(a), [NAN], {'gradcheck': False}),
    ('nanmean_dim', lambda T, a: T.nanmean(a, 1), [NAN], {'gradcheck': False}),
    ('nanmean_smooth', lambda T, a: a.nanmean(0), [(2, 3)], {}),
    ('nan_to_num', lambda T, a: T.nan_to_num(a), [NAN], {'gradcheck': False}),
    ('nan_to_num_values', lambda T, a: T.nan_to_num(a, nan=2., posinf=1.), [NAN], {'gradcheck': False}),
    ('nan_to_num_smooth', lambda T, a: T.nan_to_num(a), [(2, 3)], {}),
    ('round_decimals', lambda T, a: T.round(a, decimals=1), [(2, 3)], {'gradcheck': False}),
    ('round_decimals_neg', lambda T, a: T.round(a * 100, decimals=-1), [(2, 3)], {'gradcheck': False}),
    ('div_floor', lambda T, a, b: T.div(a, b, rounding_mode='floor'), [(2, 3), (3,)], {'gradcheck': False}),
    ('div_trunc', lambda T, a, b: a.div(b, rounding_mode='trunc'), [(2, 3), (3,)], {'gradcheck': False}),
    ('div_floor_scalar', lambda T, a: T.div(a, 2., rounding_mode='floor'), [(2, 3)], {'gradcheck': False}),
    ('div_trunc_rscalar', lambda T, a: T.div(2., a, rounding_mode='trunc'), [(2, 3)], {'gradcheck': False}),
    ('div_trunc_int', lambda T, a, b: a.div(b, rounding_mode='trunc'),
     [(2, 3), np.array([1, 2, 3], np.int64)], {'gradcheck': False}),
    ('fmod', lambda T, a, b: T.fmod(a, b), [(2, 3), (3,)], {'low': 0.3}),
    ('fmod_same', lambda T, a, b: a.fmod(b), [(2, 3), (2, 3)], {'low': 0.3}),
    ('fmod_scalar', lambda T, a: T.fmod(a, 1.5), [(2, 3)], {'low': 0.3}),
    ('remainder', lambda T, a, b: T.remainder(a, b), [(2, 3), (3,)], {'low': 0.3}),
    ('remainder_op', lambda T, a, b: a % b, [(2, 3), (2, 3)], {'low': 0.3}),
    ('remainder_scalar', lambda T, a: a.remainder(1.5), [(2, 3)], {'low': 0.3}),
]


@pytest.mark.parametrize('name,fn,shapes,kw', POINTWISE, ids=[c[0] for c in POINTWISE])
def test_nan_and_rounding_gradients(name, fn, shapes, kw):
    rng = np.random.default_rng(1)
    lo = kw.pop('low', -2.0)
    arrays = [s if isinstance(s, np.ndarray) else rng.uniform(lo, 2.0, s).astype(np.float32) for s in shapes]
    check(fn, inputs=arrays, **kw)


def test_remainder_of_a_scalar_refuses_backward_like_pytorch():
    for lib in (ember, torch):
        t = lib.tensor([1.5, 2.5], requires_grad=True)
        r = lib.remainder(2., t)
        assert r.grad_fn.name() == 'torch::autograd::NotImplemented'
        with pytest.raises(RuntimeError, match='derivative for aten::remainder is not implemented'):
            r.sum().backward()
