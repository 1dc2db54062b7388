"""Every nn.functional activation under create_graph=True as PyTorch 2.13: the first gradient's graph (its
``*BackwardBackward0`` node, or PyTorch's NotImplemented node for hardsigmoid), its values, and the second
derivative's values or PyTorch's refusal; in-place variants (``F.elu_``, ``inplace=True``) on a non-leaf alike."""
import numpy as np
import pytest
import torch

import ember
from helpers import walk_graph
from ember.autograd.gradcheck import gradcheck

A = np.array([[-2.1, -0.7, 0.3, 1.2], [0.9, -1.4, 2.6, -0.2], [1.7, 0.45, -3.3, 0.8]])
W = np.array([[0.5, -1.0, 2.0, 1.5], [-0.3, 0.8, 1.1, -2.0], [1.0, 0.25, -0.6, 0.9]])

ACT = {
    'relu': lambda F, x: F.relu(x), 'relu6': lambda F, x: F.relu6(x), 'elu': lambda F, x: F.elu(x, 0.7),
    'selu': lambda F, x: F.selu(x), 'celu': lambda F, x: F.celu(x, 0.6), 'leaky_relu': lambda F, x: F.leaky_relu(x, 0.2),
    'rrelu_eval': lambda F, x: F.rrelu(x), 'gelu': lambda F, x: F.gelu(x), 'logsigmoid': lambda F, x: F.logsigmoid(x),
    'hardshrink': lambda F, x: F.hardshrink(x, 0.4), 'softshrink': lambda F, x: F.softshrink(x, 0.4),
    'tanhshrink': lambda F, x: F.tanhshrink(x), 'softsign': lambda F, x: F.softsign(x),
    'softplus': lambda F, x: F.softplus(x), 'tanh': lambda F, x: F.tanh(x), 'sigmoid': lambda F, x: F.sigmoid(x),
    'hardsigmoid': lambda F, x: F.hardsigmoid(x * 2), 'silu': lambda F, x: F.silu(x), 'mish': lambda F, x: F.mish(x),
    'hardtanh': lambda F, x: F.hardtanh(x, -1.5, 1.0), 'hardswish': lambda F, x: F.hardswish(x * 2),
    'threshold': lambda F, x: F.threshold(x, 0.5, -1.0),
    'glu': lambda F, x: F.glu(x), 'glu_dim0': lambda F, x: F.glu(x.t() * 1.5, 0),
    # in place, on a non-leaf
    'relu_': lambda F, x: F.relu_(x * 1), 'relu_inplace': lambda F, x: F.relu(x * 1, inplace=True),
    'elu_': lambda F, x: F.elu_(x * 1, 0.7), 'elu_inplace': lambda F, x: F.elu(x * 1, inplace=True),
    'celu_': lambda F, x: F.celu_(x * 1, 0.6), 'selu_': lambda F, x: F.selu_(x * 1),
    'leaky_relu_': lambda F, x: F.leaky_relu_(x * 1, 0.2),
    'leaky_relu_inplace': lambda F, x: F.leaky_relu(x * 1, 0.2, inplace=True),
    'hardtanh_': lambda F, x: F.hardtanh_(x * 1, -1.5, 1.0), 'relu6_inplace': lambda F, x: F.relu6(x * 1, True),
    'threshold_': lambda F, x: F.threshold_(x * 1, 0.5, -1.0), 'rrelu_': lambda F, x: F.rrelu_(x * 1),
    'hardsigmoid_inplace': lambda F, x: F.hardsigmoid(x * 2, inplace=True),
    'hardswish_inplace': lambda F, x: F.hardswish(x * 2, inplace=True),
    'silu_inplace': lambda F, x: F.silu(x * 1, inplace=True),
    'mish_inplace': lambda F, x: F.mish(x * 1, inplace=True),
}


def _weight(shape):
    """W's first values in the shape of an activation's result (glu halves its input)."""
    return W.reshape(-1)[:int(np.prod(shape))].reshape(shape)



def _run(L, name, weighted):
    x = L.tensor(A, requires_grad=True)
    y = ACT[name](L.nn.functional, x)
    loss = (y * L.tensor(_weight(y.shape))).sum() if weighted else (y * y).sum()
    g, = L.autograd.grad(loss, x, create_graph=True)
    res = [walk_graph(g.grad_fn, 3), g.requires_grad, g.detach().numpy()]
    try:
        h, = L.autograd.grad((g * g).sum(), x, allow_unused=True)
        res.append(None if h is None else h.numpy())
    except RuntimeError as e:
        res.append(str(e))
    return res


@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('name', list(ACT))
def test_activation_gradient_graph_values_and_refusals_as_pytorch(name, weighted):
    t = _run(torch, name, weighted)
    e = _run(ember, name, weighted)
    assert e[:2] == t[:2]
    rtol = 1e-12
    np.testing.assert_allclose(e[2], t[2], rtol=rtol, atol=1e-14)
    if isinstance(t[3], str) or t[3] is None:
        assert e[3] == t[3]
    else:
        np.testing.assert_allclose(e[3], t[3], rtol=rtol, atol=1e-14)


def test_hardsigmoid_second_derivative_refused_as_pytorch():
    for L in (torch, ember):
        x = L.tensor(A, requires_grad=True)
        g, = L.autograd.grad(L.nn.functional.hardsigmoid(x).sum(), x, create_graph=True)
        assert g.grad_fn.name() == 'torch::autograd::NotImplemented'
        assert len(g.grad_fn.next_functions) == 1     # only the inputs that require grad
        with pytest.raises(RuntimeError, match='^derivative for aten::hardsigmoid_backward is not implemented$'):
            g.sum().backward()


@pytest.mark.parametrize('name', ['glu', 'glu_dim0', 'hardshrink', 'softshrink', 'rrelu_eval', 'leaky_relu_',
                                  'threshold_', 'elu_'])
def test_second_and_third_derivatives_gradcheck(name):
    fn = ACT[name]
    x = ember.tensor(A, requires_grad=True)
    v = ember.tensor(_weight(fn(ember.nn.functional, x).shape), requires_grad=True)

    def first(x, v):
        return ember.autograd.grad((fn(ember.nn.functional, x) * v).sum(), x, create_graph=True)[0]

    def second(x, v):
        return ember.autograd.grad((first(x, v) * first(x, v)).sum(), (x, v), create_graph=True)
    assert gradcheck(first, (x, v))
    assert gradcheck(second, (x, v))


PRELU = [((2, 3, 4), (3,)), ((3, 4), (1,)), ((3,), (1,)), ((2, 3, 2, 2), (3,)), ((), ())]


def _prelu_run(L, xs, ws, need):
    r = np.random.RandomState(0)
    x = L.tensor(r.randn(*xs), requires_grad=need[0])
    w = L.tensor(r.rand(*ws) - 0.3, requires_grad=need[1])
    y = L.nn.functional.prelu(x, w)
    leaves = [t for t in (x, w) if t.requires_grad]
    gs = L.autograd.grad((y * y * y).sum(), leaves, create_graph=True)
    hs = L.autograd.grad(sum((g * g * g).sum() for g in gs), leaves, allow_unused=True)
    return ([walk_graph(y.grad_fn, 2)] + [walk_graph(g.grad_fn, 3) for g in gs],
            [g.detach().numpy() for g in gs] + [None if h is None else h.numpy() for h in hs])


@pytest.mark.parametrize('need', [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize('xs,ws', PRELU)
def test_prelu_graph_and_second_derivatives_as_pytorch(xs, ws, need):
    (tw, tv), (ew, ev) = _prelu_run(torch, xs, ws, need), _prelu_run(ember, xs, ws, need)
    assert ew == tw
    for e, t in zip(ev, tv):
        assert (e is None) == (t is None)
        if t is not None:
            np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-14)


def test_prelu_second_and_third_derivatives_gradcheck():
    r = np.random.RandomState(0)
    x = ember.tensor(r.randn(2, 3, 4), requires_grad=True)
    w = ember.tensor(r.rand(3) - 0.3, requires_grad=True)

    def first(x, w):
        return ember.autograd.grad((ember.nn.functional.prelu(x, w) ** 3).sum(), (x, w), create_graph=True)

    def second(x, w):
        return ember.autograd.grad(sum((g ** 3).sum() for g in first(x, w)), (x, w), create_graph=True)
    assert gradcheck(first, (x, w))
    assert gradcheck(second, (x, w))


def test_prelu_one_dim_input_has_one_channel_as_pytorch():
    for L in (torch, ember):
        with pytest.raises(RuntimeError, match='Found parameter numbers = 3 and channel size = 1.'):
            L.nn.functional.prelu(L.randn(3), L.rand(3))
