"""torch.autograd.functional and autograd.grad against PyTorch: values, requires_grad/grad_fn of the results
under create_graph, outputs independent of the inputs (zeros, or PyTorch's error in strict mode), the
vectorize/strategy arguments, and PyTorch's argument errors (type and message)."""
import numpy as np
import pytest
import torch

import ember

A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
B = np.array([0.3, -0.7, 1.1])


def _run(lib, fn):
    try:
        return fn(lib)
    except Exception as err:   # compared with PyTorch's below
        return err


def _compare(e, t, path='result'):
    if isinstance(t, Exception):
        assert isinstance(e, type(t)), f'{path}: PyTorch raises {t!r}, ember gives {e!r}'
        assert str(e) == str(t), f'{path}: message {e} != {t}'
        return
    assert not isinstance(e, Exception), f'{path}: ember raises {e!r}, PyTorch gives {t!r}'
    if isinstance(t, (tuple, list)):
        assert isinstance(e, tuple) == isinstance(t, tuple) and len(e) == len(t), f'{path}: {e!r} vs {t!r}'
        for i, (a, b) in enumerate(zip(e, t)):
            _compare(a, b, f'{path}[{i}]')
        return
    if isinstance(t, torch.Tensor):
        assert tuple(e.shape) == tuple(t.shape), f'{path}: shape {tuple(e.shape)} vs {tuple(t.shape)}'
        assert str(e.dtype).split('.')[-1] == str(t.dtype).split('.')[-1], f'{path}: {e.dtype} vs {t.dtype}'
        assert e.requires_grad == t.requires_grad, f'{path}: requires_grad {e.requires_grad} vs {t.requires_grad}'
        tn, en = t.detach().numpy(), e.detach().numpy()
        np.testing.assert_allclose(en, tn, rtol=1e-12, atol=1e-12, err_msg=path)
        assert np.array_equal(np.signbit(en), np.signbit(tn)), f'{path}: signs of zero differ'
        return
    assert e == t, f'{path}: {e!r} vs {t!r}'


def x_(L, rg=False):
    return L.tensor(A, requires_grad=rg)


def y_(L, rg=False):
    return L.tensor(B, requires_grad=rg)


def F(L):
    return L.autograd.functional


def cube(x):
    return (x ** 3).sum()


def two(x, y):
    return (x.sum(0) * y).exp(), (x ** 2).sum()


def v_(L, *shape):
    return L.ones(*shape, dtype=L.float64) * 0.5


CASES = {
    # jacobian
    'jac': lambda L: F(L).jacobian(lambda x: x ** 2, x_(L)),
    'jac_tuple': lambda L: F(L).jacobian(two, (x_(L), y_(L))),
    'jac_create_graph': lambda L: F(L).jacobian(lambda x: x ** 2, x_(L, True), create_graph=True),
    'jac_independent': lambda L: F(L).jacobian(lambda x: x.detach() * 1, x_(L)),
    'jac_partly_independent': lambda L: F(L).jacobian(lambda x, y: x * 2, (x_(L), y_(L))),
    'jac_strict': lambda L: F(L).jacobian(lambda x: x.detach() * 1, x_(L), strict=True),
    'jac_strict_input': lambda L: F(L).jacobian(lambda x, y: x * 2, (x_(L), y_(L)), strict=True),
    'jac_strict_ok': lambda L: F(L).jacobian(lambda x: x * 2, x_(L), strict=True),
    'jac_vectorize': lambda L: F(L).jacobian(lambda x: x ** 2, x_(L), vectorize=True),
    'jac_vectorize_strict': lambda L: F(L).jacobian(lambda x: x ** 2, x_(L), vectorize=True, strict=True),
    'jac_forward': lambda L: F(L).jacobian(lambda x: x ** 2, x_(L), vectorize=True, strategy='forward-mode'),
    'jac_forward_tuple': lambda L: F(L).jacobian(two, (x_(L), y_(L)), vectorize=True, strategy='forward-mode'),
    'jac_forward_loop': lambda L: F(L).jacobian(lambda x: x ** 2, x_(L), strategy='forward-mode'),
    'jac_forward_graph': lambda L: F(L).jacobian(lambda x: x ** 2, x_(L), vectorize=True, create_graph=True,
                                                 strategy='forward-mode'),
    'jac_forward_strict': lambda L: F(L).jacobian(lambda x: x ** 2, x_(L), vectorize=True, strict=True,
                                                  strategy='forward-mode'),
    'jac_bad_strategy': lambda L: F(L).jacobian(lambda x: x ** 2, x_(L), strategy='sideways'),
    'jac_bad_input': lambda L: F(L).jacobian(lambda x: x ** 2, [x_(L)]),
    'jac_bad_output': lambda L: F(L).jacobian(lambda x: 3.0, x_(L)),
    # hessian
    'hess': lambda L: F(L).hessian(cube, x_(L)),
    'hess_tuple': lambda L: F(L).hessian(lambda x, y: (x.sum(0) * y ** 2).sum(), (x_(L), y_(L))),
    'hess_linear': lambda L: F(L).hessian(lambda x: (x * 2).sum(), x_(L)),
    'hess_linear_strict': lambda L: F(L).hessian(lambda x: (x * 2).sum(), x_(L), strict=True),
    'hess_create_graph': lambda L: F(L).hessian(cube, x_(L, True), create_graph=True),
    'hess_vectorize': lambda L: F(L).hessian(cube, x_(L), vectorize=True),
    'hess_not_scalar': lambda L: F(L).hessian(lambda x: x ** 2, x_(L)),
    'hess_tuple_out': lambda L: F(L).hessian(lambda x: (cube(x), cube(x)), x_(L)),
    'hess_bad_strategy': lambda L: F(L).hessian(cube, x_(L), outer_jacobian_strategy='sideways'),
    # vjp / jvp
    'vjp': lambda L: F(L).vjp(lambda x: x ** 2, x_(L), v_(L, 2, 3)),
    'vjp_scalar_no_v': lambda L: F(L).vjp(cube, x_(L)),
    'vjp_no_v': lambda L: F(L).vjp(lambda x: x ** 2, x_(L)),
    'vjp_bad_v': lambda L: F(L).vjp(lambda x: x ** 2, x_(L), v_(L, 3)),
    'vjp_tuple_bad_v': lambda L: F(L).vjp(two, (x_(L), y_(L)), (v_(L, 3),)),
    'vjp_independent': lambda L: F(L).vjp(lambda x: x.detach() * 1, x_(L), v_(L, 2, 3)),
    'vjp_strict': lambda L: F(L).vjp(lambda x: x.detach() * 1, x_(L), v_(L, 2, 3), strict=True),
    'vjp_create_graph': lambda L: F(L).vjp(lambda x: x ** 2, x_(L, True), v_(L, 2, 3), create_graph=True),
    'jvp': lambda L: F(L).jvp(lambda x: x ** 2, x_(L), v_(L, 2, 3)),
    'jvp_tuple': lambda L: F(L).jvp(two, (x_(L), y_(L)), (v_(L, 2, 3), v_(L, 3))),
    'jvp_no_v': lambda L: F(L).jvp(lambda x: x ** 2, x_(L)),
    'jvp_independent': lambda L: F(L).jvp(lambda x: x.detach() * 1, x_(L), v_(L, 2, 3)),
    'jvp_strict': lambda L: F(L).jvp(lambda x: x.detach() * 1, x_(L), v_(L, 2, 3), strict=True),
    'jvp_create_graph': lambda L: F(L).jvp(lambda x: x ** 2, x_(L, True), v_(L, 2, 3), create_graph=True),
    # hvp / vhp
    'hvp': lambda L: F(L).hvp(cube, x_(L), v_(L, 2, 3)),
    'vhp': lambda L: F(L).vhp(cube, x_(L), v_(L, 2, 3)),
    'hvp_tuple': lambda L: F(L).hvp(lambda x, y: (x.sum(0) * y ** 2).sum(), (x_(L), y_(L)), (v_(L, 2, 3), v_(L, 3))),
    'hvp_linear': lambda L: F(L).hvp(lambda x: (x * 2).sum(), x_(L), v_(L, 2, 3)),
    'vhp_linear': lambda L: F(L).vhp(lambda x: (x * 2).sum(), x_(L), v_(L, 2, 3)),
    'hvp_linear_strict': lambda L: F(L).hvp(lambda x: (x * 2).sum(), x_(L), v_(L, 2, 3), strict=True),
    'vhp_linear_strict': lambda L: F(L).vhp(lambda x: (x * 2).sum(), x_(L), v_(L, 2, 3), strict=True),
    'hvp_create_graph': lambda L: F(L).hvp(cube, x_(L, True), v_(L, 2, 3), create_graph=True),
    'vhp_not_scalar': lambda L: F(L).vhp(lambda x: x ** 2, x_(L), v_(L, 2, 3)),
    'hvp_no_v': lambda L: F(L).hvp(cube, x_(L)),
    # autograd.grad
    'grad_unused': lambda L: L.autograd.grad((x_(L, True) * 2).sum(), [x_(L, True), y_(L, True)]),
    'grad_materialize': lambda L: (lambda x, y: L.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True))(
        x_(L, True), y_(L, True)),
    'grad_materialize_not_unused': lambda L: (lambda x, y: L.autograd.grad(
        (x * 2).sum(), [x, y], allow_unused=False, materialize_grads=True))(x_(L, True), y_(L, True)),
    'grad_batched': lambda L: (lambda x: L.autograd.grad(x * 2, x, grad_outputs=L.eye(6, dtype=L.float64).reshape(
        6, 2, 3), is_grads_batched=True))(x_(L, True)),
    'grad_create_graph': lambda L: (lambda x: L.autograd.grad((x ** 3).sum(), x, create_graph=True))(x_(L, True)),
}


@pytest.mark.parametrize('name', list(CASES))
def test_functional_matches_pytorch(name):
    _compare(_run(ember, CASES[name]), _run(torch, CASES[name]))


def test_create_graph_results_differentiate_back_to_the_input():
    """Under create_graph=True the results are functions of the input: their gradient is PyTorch's."""
    got = []
    for lib in (torch, ember):
        x = x_(lib, True)
        h = F(lib).hessian(cube, x, create_graph=True)
        _, hv = F(lib).hvp(cube, x, v_(lib, 2, 3), create_graph=True)
        (h.sum() + hv.sum()).backward()
        got.append(x.grad.numpy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-12)


def test_gradgradcheck_accepts_a_gradient_that_depends_on_nothing():
    """A custom Function whose backward returns a constant: its first-order gradient depends on neither the
    input nor grad_outputs; PyTorch's gradgradcheck accepts it, and gradcheck of an output that needs no grad
    raises PyTorch's error when the numerical gradient is not zero."""
    for lib in (torch, ember):
        class Const(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 3

            @staticmethod
            def backward(ctx, g):
                return lib.ones_like(g) * 3

        x = x_(lib, True)
        assert lib.autograd.gradgradcheck(Const.apply, (x,))
        assert lib.autograd.gradcheck(lambda x: (x.detach(), x * 2), (x,))
        with pytest.raises(Exception, match='Numerical gradient for function expected to be zero'):
            lib.autograd.gradcheck(lambda x: x.detach() * 2, (x,))
