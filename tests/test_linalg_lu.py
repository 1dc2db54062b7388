"""torch.linalg.lu_factor / lu_factor_ex / lu / lu_solve and torch.lu_unpack against PyTorch 2.13: factors and
pivots (square, batched, wide, tall; float32 and float64), named tuples, a singular matrix's info and error,
grad_fn names, gradients against PyTorch and float64 finite differences (lu, lu_factor, every lu_solve form),
PyTorch's errors."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(3)


@pytest.mark.parametrize('shape', [(3, 3), (2, 4, 4), (3, 5), (5, 3)])
@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_factors(shape, dtype):
    A = RNG.standard_normal(shape).astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-6
    e, t = ember.linalg.lu_factor_ex(ember.tensor(A)), torch.linalg.lu_factor_ex(torch.tensor(A))
    for a, b in zip(e, t):
        assert repr(a.dtype) == repr(b.dtype) and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=tol)
    for a, b in zip(ember.linalg.lu(ember.tensor(A)), torch.linalg.lu(torch.tensor(A))):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=tol)
    for a, b in zip(ember.lu_unpack(*ember.linalg.lu_factor(ember.tensor(A))),
                    torch.lu_unpack(*torch.linalg.lu_factor(torch.tensor(A)))):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=tol)


def test_singular_and_reprs():
    S = [[1.0, 2.0], [2.0, 4.0]]
    assert repr(ember.linalg.lu_factor_ex(ember.tensor(S))) == repr(torch.linalg.lu_factor_ex(torch.tensor(S)))
    assert repr(ember.linalg.lu(ember.eye(2))) == repr(torch.linalg.lu(torch.eye(2)))


@pytest.mark.parametrize('call', [
    lambda L: L.linalg.lu_factor(L.tensor([[1.0, 2.0], [2.0, 4.0]])), lambda L: L.linalg.lu_factor(L.ones(3)),
    lambda L: L.linalg.lu(L.ones(3, 3), pivot=False),
    lambda L: L.linalg.lu_solve(*L.linalg.lu_factor(L.eye(3)), L.ones(4, 2)),
    lambda L: L.linalg.lu_solve(*L.linalg.lu_factor(L.eye(3)), L.ones(2, 4), left=False),
    lambda L: L.linalg.lu_solve(*L.linalg.lu_factor(L.eye(3)), L.ones(4, 2, dtype=L.float64)),
    lambda L: L.linalg.lu_solve(*L.linalg.lu_factor(L.eye(3)), L.ones(3, 2, dtype=L.int64)),
    lambda L: L.lu_unpack(*L.linalg.lu_factor(L.eye(3)), out=(L.empty(0, dtype=L.float64), L.empty(0), L.empty(0))),
])
def test_errors(call):
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(type(want.value)) as got:
        call(ember)
    assert str(got.value) == str(want.value)


def _fd_check(f, A, grad, idx_list, h=1e-6):
    for idx in idx_list:
        Ap, Am = A.copy(), A.copy()
        Ap[idx] += h
        Am[idx] -= h
        np.testing.assert_allclose(grad[idx], (f(Ap) - f(Am)) / (2 * h), rtol=1e-6, atol=1e-7)


def test_lu_and_lu_factor_gradients():
    A = RNG.standard_normal((2, 4, 4))
    idx = [(0, 0, 0), (1, 3, 2), (0, 2, 3), (1, 1, 0)]
    for which in ('lu', 'lu_factor', 'unpack'):
        def run(L, M):
            if which == 'lu':
                _, l, u = L.linalg.lu(M)
            elif which == 'lu_factor':
                return (L.linalg.lu_factor(M).LU ** 2).sum()
            else:
                _, l, u = L.lu_unpack(*L.linalg.lu_factor(M))
            return (l ** 3).sum() + (u ** 2).sum()
        e, t = ember.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
        run(ember, e).backward()
        run(torch, t).backward()
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
        _fd_check(lambda M: run(ember, ember.tensor(M)).item(), A, e.grad.numpy(), idx)
    P, L, U = ember.linalg.lu(ember.tensor(A, requires_grad=True))
    Pt, Lt, Ut = torch.linalg.lu(torch.tensor(A, requires_grad=True))
    assert (P.grad_fn, L.grad_fn.name(), U.grad_fn.name()) == (Pt.grad_fn, Lt.grad_fn.name(), Ut.grad_fn.name())


@pytest.mark.parametrize('left', [True, False])
@pytest.mark.parametrize('adjoint', [False, True])
def test_lu_solve(left, adjoint):
    A = RNG.standard_normal((2, 4, 4))
    B = RNG.standard_normal((2, 4, 3) if left else (2, 3, 4))

    def run(L, M, N):
        LU, piv = L.linalg.lu_factor(M)
        return L.linalg.lu_solve(LU, piv, N, left=left, adjoint=adjoint)
    ae, be = ember.tensor(A, requires_grad=True), ember.tensor(B, requires_grad=True)
    at, bt = torch.tensor(A, requires_grad=True), torch.tensor(B, requires_grad=True)
    xe, xt = run(ember, ae, be), run(torch, at, bt)
    assert xe.grad_fn.name() == xt.grad_fn.name()
    np.testing.assert_allclose(xe.detach().numpy(), xt.detach().numpy(), rtol=1e-10, atol=1e-12)
    (xe ** 2).sum().backward()
    (xt ** 2).sum().backward()
    np.testing.assert_allclose(ae.grad.numpy(), at.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(be.grad.numpy(), bt.grad.numpy(), rtol=1e-9, atol=1e-11)
    _fd_check(lambda M: (run(ember, ember.tensor(M), ember.tensor(B)) ** 2).sum().item(), A, ae.grad.numpy(),
              [(0, 0, 0), (1, 2, 3)])


def _deprecated_forms(L):
    """torch.lu, torch.lu_solve(b, LU, pivots) and the Tensor methods: values and the warnings' texts."""
    import warnings
    rng = np.random.default_rng(3)
    A, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 2))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        LU, piv = L.lu(L.tensor(A))
        info = L.lu(L.tensor(A), get_infos=True)[2]
        x = L.lu_solve(L.tensor(b), LU, piv)
        y = L.tensor(b).lu_solve(*L.tensor(A).lu())
    return ([v.tolist() for v in (LU, piv, x, y)] + [int(info)],
            sorted({str(m.message).split(' (Triggered internally')[0] for m in w}))


def test_deprecated_forms():
    """PyTorch's values and deprecation warnings, in a fresh process (torch.lu's warning is TORCH_WARN_ONCE: an
    earlier test in the process would have spent it, in either library)."""
    import json
    import os
    import subprocess
    import sys
    code = ('import json, sys; sys.path.insert(0, sys.argv[1]); import torch, ember, test_linalg_lu as t; '
            'print(json.dumps([t._deprecated_forms(L) for L in (ember, torch)]))')
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([sys.executable, '-c', code, here], capture_output=True, text=True, check=True).stdout
    (e_vals, e_warn), (t_vals, t_warn) = json.loads(out.splitlines()[-1])
    assert e_warn == t_warn and len(t_warn) == 2
    for a, t in zip(e_vals, t_vals):
        np.testing.assert_allclose(np.array(a, float), np.array(t, float), rtol=1e-12, atol=1e-14)
