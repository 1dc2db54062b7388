"""torch.linalg.cond, tensorinv and tensorsolve against PyTorch 2.13: values for every norm on regular, singular,
batched and empty inputs, grad_fn names, gradients against PyTorch (where its own backward runs: for 'fro' and
the induced norms PyTorch 2.13's backward fails on an in-place write it makes) and float64 finite differences,
PyTorch's errors."""
import numpy as np
import pytest
import torch

import ember

ORDS = [None, 2, -2, 'fro', 'nuc', 1, -1, float('inf'), float('-inf')]
A = np.array([[1.0, 2.0], [3.0, 4.0]])
S = np.array([[1.0, 2.0], [2.0, 4.0]])
B = np.random.default_rng(0).standard_normal((3, 4, 4))


@pytest.mark.parametrize('p', ORDS)
def test_cond_values_and_graph(p):
    for M in (A, S, B, np.zeros((0, 0)), np.zeros((3, 0, 0))):
        e = ember.linalg.cond(ember.tensor(M, requires_grad=M.size > 0), p)
        t = torch.linalg.cond(torch.tensor(M, requires_grad=M.size > 0), p)
        assert repr(e.dtype) == repr(t.dtype) and tuple(e.shape) == tuple(t.shape)
        if M is S and p in (None, 2, -2, 'nuc'):
            # singular: sigma_min is LAPACK's rounding noise (~1e-16 sigma_max), its value the BLAS kernels' (PyTorch
            # 2.5e16 and ember 4.8e16 with OpenBLAS's SkylakeX kernels, equal with Haswell's): only its size is
            # PyTorch's
            for v in (e.item(), t.item()):
                assert v < 1e-15 if p == -2 else v > 1e15
        else:
            np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-9)
        if M.size and t.grad_fn is not None:
            assert e.grad_fn.name() == t.grad_fn.name()


@pytest.mark.parametrize('p', ORDS)
def test_cond_gradients(p):
    e = ember.tensor(B, requires_grad=True)
    ember.linalg.cond(e, p).sum().backward()
    if p in (None, 2, -2, 'nuc'):
        t = torch.tensor(B, requires_grad=True)
        torch.linalg.cond(t, p).sum().backward()
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=1e-12)
    f = lambda M: ember.linalg.cond(ember.tensor(M), p).sum().item()   # noqa: E731
    h = 1e-6
    for idx in [(0, 0, 0), (1, 2, 3), (2, 3, 1), (0, 1, 1)]:
        Mp, Mm = B.copy(), B.copy()
        Mp[idx] += h
        Mm[idx] -= h
        np.testing.assert_allclose(e.grad.numpy()[idx], (f(Mp) - f(Mm)) / (2 * h), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('call', [
    lambda L: L.linalg.cond(L.ones(2, 3), 1), lambda L: L.linalg.cond(L.ones(2, 3), 'nuc'),
    lambda L: L.linalg.cond(L.ones(2, 3), 'bad'), lambda L: L.linalg.cond(L.ones(2, 2), 'bad'),
    lambda L: L.linalg.cond(L.ones(2, 2), 3), lambda L: L.linalg.cond(L.ones(2), None),
    lambda L: L.linalg.tensorinv(L.ones(2, 3), ind=1), lambda L: L.linalg.tensorinv(L.ones(4, 2, 2), ind=0),
])
def test_errors(call):
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(type(want.value)) as got:
        call(ember)
    assert str(got.value) == str(want.value)


def test_tensorinv_and_tensorsolve():
    rng = np.random.default_rng(1)
    for ind in (1, 2):
        m = rng.standard_normal((6, 4, 3, 8)) if ind == 2 else rng.standard_normal((24, 2, 3, 4))
        e = ember.linalg.tensorinv(ember.tensor(m, requires_grad=True), ind=ind)
        t = torch.linalg.tensorinv(torch.tensor(m, requires_grad=True), ind=ind)
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-12)
        e.sum().backward()
        t.sum().backward()
    a = rng.standard_normal((2, 3, 6))
    b = rng.standard_normal((2, 3))
    for dims, aa, bb in ((None, a, b), ((0,), rng.standard_normal((6, 2, 3)), b)):
        ae, at = ember.tensor(aa, requires_grad=True), torch.tensor(aa, requires_grad=True)
        e = ember.linalg.tensorsolve(ae, ember.tensor(bb), dims=dims)
        t = torch.linalg.tensorsolve(at, torch.tensor(bb), dims=dims)
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-12)
        e.sum().backward()
        t.sum().backward()
        np.testing.assert_allclose(ae.grad.numpy(), at.grad.numpy(), rtol=1e-8, atol=1e-12)
