"""torch.linalg.ldl_factor(_ex)/ldl_solve, householder_product and torch.geqrf against PyTorch 2.13: LDL's
Bunch-Kaufman pivots and factors equal PyTorch's (LAPACK sytrf) on random symmetric matrices, indefinite ones with
2x2 blocks and sizes where PyTorch's sytrf is blocked; solutions agree and solve A X = B; householder_product of
geqrf's reflectors is QR's Q, its gradients PyTorch's and float64 finite differences' (double backward too)."""
import numpy as np
import pytest
import torch

import ember


def _symmetric(n, seed, small_diagonal):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    a = a + a.T
    if small_diagonal:      # forces 2x2 pivots
        a[np.diag_indices(n)] *= 0.01
    return a


@pytest.mark.parametrize('n', [1, 2, 3, 5, 8, 20, 70])
@pytest.mark.parametrize('small_diagonal', [False, True])
def test_ldl_factor_matches_pytorch(n, small_diagonal):
    for seed in range(3):
        a = _symmetric(n, seed, small_diagonal)
        t = torch.linalg.ldl_factor_ex(torch.tensor(a))
        e = ember.linalg.ldl_factor_ex(ember.tensor(a))
        np.testing.assert_array_equal(e.pivots.numpy(), t.pivots.numpy())
        np.testing.assert_allclose(e.LD.numpy(), t.LD.numpy(), rtol=1e-9, atol=1e-9)
        assert int(e.info) == int(t.info) == 0
        b = np.random.default_rng(seed).standard_normal((n, 3))
        x = ember.linalg.ldl_solve(e.LD, e.pivots, ember.tensor(b)).numpy()
        np.testing.assert_allclose(x, torch.linalg.ldl_solve(t.LD, t.pivots, torch.tensor(b)).numpy(), rtol=1e-8,
                                   atol=1e-9)
        np.testing.assert_allclose(a @ x, b, atol=1e-8 * max(1, np.abs(x).max()))


def test_ldl_batched_float32():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 4)).astype(np.float32)
    a = a + a.transpose(0, 2, 1)
    b = rng.standard_normal((3, 4, 2)).astype(np.float32)   # (PyTorch 2.13's ldl_solve crashes broadcasting B)
    t = torch.linalg.ldl_factor(torch.tensor(a))
    e = ember.linalg.ldl_factor(ember.tensor(a))
    np.testing.assert_array_equal(e.pivots.numpy(), t.pivots.numpy())
    assert e.LD.dtype == ember.float32 and e.pivots.dtype == ember.int32
    xt = torch.linalg.ldl_solve(t.LD, t.pivots, torch.tensor(b))
    xe = ember.linalg.ldl_solve(e.LD, e.pivots, ember.tensor(b))
    assert tuple(xe.shape) == tuple(xt.shape)
    np.testing.assert_allclose(xe.numpy(), xt.numpy(), rtol=1e-4, atol=1e-5)


def _not_differentiable(lib):
    a = lib.eye(3, requires_grad=True)
    ld = lib.linalg.ldl_factor(a).LD
    try:
        ld.sum().backward()
    except RuntimeError as err:
        return ld.grad_fn.name(), str(err)


def test_ldl_is_not_differentiable_as_in_pytorch():
    assert _not_differentiable(ember) == _not_differentiable(torch)


@pytest.mark.parametrize('shape', [(5, 3), (4, 4), (2, 6, 2)])
def test_householder_product_of_geqrf_is_qr_q(shape):
    a = np.random.default_rng(1).standard_normal(shape)
    e = ember.geqrf(ember.tensor(a))
    t = torch.geqrf(torch.tensor(a))
    np.testing.assert_allclose(e.a.numpy(), t.a.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(e.tau.numpy(), t.tau.numpy(), rtol=1e-10, atol=1e-12)
    q = ember.linalg.householder_product(e.a, e.tau)
    np.testing.assert_allclose(q.numpy(), torch.linalg.qr(torch.tensor(a)).Q.numpy(), atol=1e-12)
    np.testing.assert_allclose(ember.orgqr(e.a, e.tau).numpy(), q.numpy())


def test_householder_product_gradients():
    rng = np.random.default_rng(2)
    a, tau, g = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 2)), rng.standard_normal((2, 5, 3))
    got = []
    for lib in (ember, torch):
        A, T = lib.tensor(a, requires_grad=True), lib.tensor(tau, requires_grad=True)
        q = lib.linalg.householder_product(A, T)
        (q * lib.tensor(g)).sum().backward()
        got.append((q.grad_fn.name(), A.grad.numpy(), T.grad.numpy()))
    assert got[0][0] == got[1][0]
    for x, y in zip(got[0][1:], got[1][1:]):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)
    A = ember.tensor(a, requires_grad=True)
    T = ember.tensor(tau, requires_grad=True)
    assert ember.autograd.gradcheck(ember.linalg.householder_product, (A, T))
    assert ember.autograd.gradgradcheck(ember.linalg.householder_product, (A, T))
