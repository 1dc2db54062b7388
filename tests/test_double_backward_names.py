"""Double backward (create_graph=True) graphs as PyTorch 2.13 records them: the activations' one
``*BackwardBackward0`` node (gelu, elu family, softplus, log_sigmoid, softmax, log_softmax, hardswish) and the
composite graphs PyTorch's formulas build (silu, mish, rsqrt, erf), node names down next_functions, with the
second and third derivatives' values against PyTorch and float64 finite differences."""
import numpy as np
import pytest
import torch

import ember
from helpers import walk_graph
from ember.autograd.gradcheck import gradcheck

ACT = {
    'gelu': lambda L, x: L.nn.functional.gelu(x),
    'gelu_tanh': lambda L, x: L.nn.functional.gelu(x, approximate='tanh'),
    'elu': lambda L, x: L.nn.functional.elu(x),
    'elu_alpha': lambda L, x: L.nn.functional.elu(x, 0.6),
    'selu': lambda L, x: L.nn.functional.selu(x),
    'celu': lambda L, x: L.nn.functional.celu(x, 0.7),
    'softplus': lambda L, x: L.nn.functional.softplus(x),
    'softplus_beta': lambda L, x: L.nn.functional.softplus(x, 2.0, 1.5),
    'logsigmoid': lambda L, x: L.nn.functional.logsigmoid(x),
    'softmax': lambda L, x: L.nn.functional.softmax(x, 1),
    'softmax_dim0': lambda L, x: L.softmax(x, 0),
    'log_softmax': lambda L, x: L.nn.functional.log_softmax(x, 1),
    'log_softmax_dim0': lambda L, x: L.log_softmax(x, 0),
    'softmin': lambda L, x: L.nn.functional.softmin(x, 1),
    'silu': lambda L, x: L.nn.functional.silu(x),
    'mish': lambda L, x: L.nn.functional.mish(x),
    'hardswish': lambda L, x: L.nn.functional.hardswish(x * 2),
    'rsqrt': lambda L, x: L.rsqrt(x.abs() + 0.5),
    'erf': lambda L, x: L.erf(x),
    'erfc': lambda L, x: L.erfc(x),
    'erfinv': lambda L, x: L.erfinv(x * 0.25),
}
A = np.array([[-2.1, -0.7, 0.3, 1.2], [0.9, -1.4, 2.6, -0.2], [1.7, 0.45, -3.3, 0.8]])
W = np.array([[0.5, -1.0, 2.0, 1.5], [-0.3, 0.8, 1.1, -2.0], [1.0, 0.25, -0.6, 0.9]])



def _run(L, fn, dtype, weighted):
    """(graph of the gradient, of the second derivative; their values and the third derivative's)."""
    x = L.tensor(A.astype(dtype), requires_grad=True)
    v = L.tensor(W.astype(dtype), requires_grad=True)
    y = fn(L, x)
    g, = L.autograd.grad((y * v).sum() if weighted else y.sum(), x, create_graph=True)
    h, = L.autograd.grad((g * g).sum(), x, create_graph=True)
    t = L.autograd.grad((h * v).sum(), (x, v) if weighted else x, allow_unused=True)
    return (walk_graph(g.grad_fn, 4), walk_graph(h.grad_fn, 3)), [g.detach().numpy(), h.detach().numpy()] + \
        [None if r is None else r.numpy() for r in t]


@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('name', list(ACT))
def test_double_backward_graph_names_as_pytorch(name, weighted):
    (tw, tw2), _ = _run(torch, ACT[name], np.float64, weighted)
    (ew, ew2), _ = _run(ember, ACT[name], np.float64, weighted)
    assert ew == tw
    assert ew2 == tw2


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('name', list(ACT))
def test_second_and_third_derivatives_as_pytorch(name, dtype):
    tol = dict(rtol=1e-12, atol=1e-13) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)
    _, tv = _run(torch, ACT[name], dtype, True)
    _, ev = _run(ember, ACT[name], dtype, True)
    for e, t in zip(ev, tv):
        assert (e is None) == (t is None)
        if t is not None:
            assert e.dtype == t.dtype
            np.testing.assert_allclose(e, t, **tol)


@pytest.mark.parametrize('name', list(ACT))
def test_second_and_third_derivatives_gradcheck(name):
    fn = ACT[name]
    x = ember.tensor(A, requires_grad=True)
    v = ember.tensor(W, requires_grad=True)

    def first(x, v):
        return ember.autograd.grad((fn(ember, x) * v).sum(), x, create_graph=True)[0]

    def second(x, v):
        return ember.autograd.grad((first(x, v) * v).sum(), x, create_graph=True)[0]
    assert gradcheck(first, (x, v))
    assert gradcheck(second, (x, v))


# -- products: a stack times a matrix folds into one mm (View, Mm, UnsafeView); addmm's alpha/beta MulBackward1 -----
def _rand(L, shape, seed, grad=True):
    return L.tensor(np.random.RandomState(seed).randn(*shape), requires_grad=grad)


PRODUCTS = {
    '3d@2d': lambda L: (_rand(L, (2, 3, 4), 0), _rand(L, (4, 5), 1)),
    '4d@2d': lambda L: (_rand(L, (2, 2, 3, 4), 0), _rand(L, (4, 5), 1)),
    '3d@1d': lambda L: (_rand(L, (2, 3, 4), 0), _rand(L, (4,), 1)),
    '2d@1d': lambda L: (_rand(L, (3, 4), 0), _rand(L, (4,), 1)),
    '3d@2d_fixed_weight': lambda L: (_rand(L, (2, 3, 4), 0), _rand(L, (4, 5), 1, False)),
    '3d@2d_fixed_input': lambda L: (_rand(L, (2, 3, 4), 0, False), _rand(L, (4, 5), 1)),
    'transposed_3d@2d': lambda L: (_rand(L, (3, 2, 4), 0).transpose(0, 1), _rand(L, (4, 5), 1)),
    'permuted_3d@2d': lambda L: (_rand(L, (4, 3, 2), 0).permute(2, 1, 0), _rand(L, (4, 5), 1)),
}


@pytest.mark.parametrize('name', list(PRODUCTS))
def test_stack_times_matrix_graph_and_gradients_as_pytorch(name):
    res = []
    for L in (torch, ember):
        x, w = PRODUCTS[name](L)
        y = x @ w
        leaves = [t for t in (x, w) if t.requires_grad]
        gs = L.autograd.grad((y * y).sum(), leaves, create_graph=True)
        hs = L.autograd.grad(sum((g * g).sum() for g in gs), leaves)
        res.append(([walk_graph(y.grad_fn, 4)] + [walk_graph(g.grad_fn, 4) for g in gs],
                    [y.detach().numpy()] + [g.detach().numpy() for g in gs] + [h.numpy() for h in hs]))
    (tw, tv), (ew, ev) = res
    assert ew == tw
    for e, t in zip(ev, tv):
        np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)


ADD_PRODUCTS = {
    'addmm': lambda L: (L.addmm, _rand(L, (5,), 2), _rand(L, (3, 4), 3), _rand(L, (4, 5), 1)),
    'baddbmm': lambda L: (L.baddbmm, _rand(L, (2, 3, 5), 2), _rand(L, (2, 3, 4), 3), _rand(L, (2, 4, 5), 1)),
    'addmv': lambda L: (L.addmv, _rand(L, (3,), 2), _rand(L, (3, 4), 3), _rand(L, (4,), 1)),
}


@pytest.mark.parametrize('op', list(ADD_PRODUCTS))
@pytest.mark.parametrize('alpha,beta', [(2.0, 3.0), (2, 1), (1, 0.5), (1.0, 1.0), (0.5, 0)])
def test_add_product_alpha_beta_gradient_graph_as_pytorch(op, alpha, beta):
    res = []
    for L in (torch, ember):
        fn, b, m, w = ADD_PRODUCTS[op](L)
        y = fn(b, m, w, alpha=alpha, beta=beta)
        gs = L.autograd.grad((y * y).sum(), (b, m, w), create_graph=True)
        hs = L.autograd.grad(sum((g * g).sum() for g in gs), (b, m, w))
        res.append(([walk_graph(g.grad_fn, 4) for g in gs], [g.detach().numpy() for g in gs] + [h.numpy() for h in hs]))
    (tw, tv), (ew, ev) = res
    assert ew == tw
    for e, t in zip(ev, tv):
        np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)


def test_stack_times_matrix_gradcheck():
    x, w = _rand(ember, (2, 3, 4), 0), _rand(ember, (4, 5), 1)
    assert gradcheck(lambda x, w: ember.autograd.grad(((x @ w) ** 2).sum(), x, create_graph=True)[0], (x, w))
    assert gradcheck(lambda x, w: ember.autograd.grad(((x @ w) ** 2).sum(), w, create_graph=True)[0], (x, w))
