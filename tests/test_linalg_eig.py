"""torch.linalg.eig and eigvals against PyTorch 2.13: values (eigenvectors up to each column's phase in float32,
where LAPACK builds may pick another sign), dtypes, batches, complex inputs, the named tuple's repr, gradients
(real and complex inputs, losses invariant to the eigenvectors' phases) against PyTorch and float64 finite
differences, PyTorch's errors (non-square, NaN, a phase-dependent loss)."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(7)
A = RNG.standard_normal((2, 4, 4))
C = A + 1j * RNG.standard_normal((2, 4, 4))


def _phase_free(v):
    """Eigenvector columns with the phase of their first nonzero component removed."""
    k = np.argmax(np.abs(v) > 1e-6, axis=-2)
    p = np.take_along_axis(v, k[..., None, :], axis=-2)
    return v * (np.abs(p) / p)


@pytest.mark.parametrize('data', [A, C, A.astype(np.float32), C.astype(np.complex64)])
def test_values(data):
    e, t = ember.linalg.eig(ember.tensor(data)), torch.linalg.eig(torch.tensor(data))
    assert repr(e.eigenvalues.dtype) == repr(t.eigenvalues.dtype)
    tol = 1e-12 if data.dtype.itemsize * (1 if data.dtype.kind == 'c' else 2) == 16 else 1e-4
    np.testing.assert_allclose(e.eigenvalues.numpy(), t.eigenvalues.numpy(), atol=tol)
    np.testing.assert_allclose(_phase_free(e.eigenvectors.numpy()), _phase_free(t.eigenvectors.numpy()), atol=tol)
    np.testing.assert_allclose(ember.linalg.eigvals(ember.tensor(data)).numpy(), t.eigenvalues.numpy(), atol=tol)
    assert repr(ember.linalg.eig(ember.eye(2))) == repr(torch.linalg.eig(torch.eye(2)))


def _loss(L, lam, v, w1, w2):
    """A loss that does not depend on the eigenvectors' phases."""
    return (L.view_as_real(lam) * L.tensor(w1)).sum() + ((v.abs() ** 2) * L.tensor(w2)).sum()


@pytest.mark.parametrize('data', [A, C])
def test_gradients(data):
    w1, w2 = RNG.standard_normal((2, 4, 2)), RNG.standard_normal((2, 4, 4))
    e, t = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    le, ve = ember.linalg.eig(e)
    lt, vt = torch.linalg.eig(t)
    assert le.grad_fn.name() == lt.grad_fn.name() == 'LinalgEigBackward0'
    _loss(ember, le, ve, w1, w2).backward()
    _loss(torch, lt, vt, w1, w2).backward()
    np.testing.assert_allclose(e.grad.numpy(), t.grad.resolve_conj().numpy(), atol=1e-10)
    f = lambda M: _loss(ember, *ember.linalg.eig(ember.tensor(M)), w1, w2).item()   # noqa: E731
    h = 1e-6
    for idx in [(0, 0, 0), (1, 2, 3), (0, 3, 1)]:
        for unit in ([1.0, 1j] if np.iscomplexobj(data) else [1.0]):
            Mp, Mm = data.copy(), data.copy()
            Mp[idx] += h * unit
            Mm[idx] -= h * unit
            want = (f(Mp) - f(Mm)) / (2 * h)
            got = e.grad.numpy()[idx]
            np.testing.assert_allclose(got.real if unit == 1.0 else got.imag, want, rtol=1e-6, atol=1e-7)
    e2, t2 = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ember.linalg.eigvals(e2).abs().sum().backward()
    torch.linalg.eigvals(t2).abs().sum().backward()
    np.testing.assert_allclose(e2.grad.numpy(), t2.grad.resolve_conj().numpy(), atol=1e-10)


@pytest.mark.parametrize('call', [
    lambda L: L.linalg.eig(L.ones(2, 3)), lambda L: L.linalg.eigvals(L.ones(3)),
    lambda L: L.linalg.eig(L.tensor([[1.0, float('nan')], [0.0, 1.0]])),
    lambda L: L.view_as_real(L.linalg.eig(L.tensor(A, requires_grad=True))[1]).sum().backward(),
])
def test_errors(call):
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(type(want.value)) as got:
        call(ember)
    assert str(got.value) == str(want.value)
