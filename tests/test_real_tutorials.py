"""Defects found by running the official PyTorch tutorials (pytorch/tutorials: beginner_source,
intermediate_source, recipes_source) on ember, each reduced to a few steps on small synthetic data and checked
against PyTorch."""
import re

import numpy as np
import torch

import ember


def _no_address(text):
    return re.sub(r'0x[0-9a-f]+', '0x?', text)


def _legendre(T):
    """beginner/examples_autograd/polynomial_custom_function: P3 as a custom autograd Function."""
    class LegendrePolynomial3(T.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)
    return LegendrePolynomial3


def test_polynomial_custom_function_prints_its_node_as_pytorch():
    """The tutorial's fit of a + b * P3(c + d x) (float64, a few steps): the same coefficients, and
    ``print(y.grad_fn)`` names the node's class as PyTorch does (torch.autograd.function.<Name>Backward)."""
    out = []
    for T in (torch, ember):
        x = T.linspace(-3.14, 3.14, 200, dtype=T.float64)
        y = T.sin(x)
        a, b, c, d = (T.full((), v, dtype=T.float64, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3))
        P3 = _legendre(T).apply
        for _ in range(5):
            y_pred = a + b * P3(c + d * x)
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with T.no_grad():
                for p in (a, b, c, d):
                    p -= 5e-5 * p.grad
                    p.grad = None
        node = P3(c + d * x).grad_fn
        out.append(([p.item() for p in (a, b, c, d)], _no_address(repr(node)), node.name(),
                    _no_address(str(P3(d * x)))[-40:]))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-12)
    assert out[1][1:] == out[0][1:]
    assert out[0][1] == '<torch.autograd.function.LegendrePolynomial3Backward object at 0x?>'


def _mlp(T):
    class SimpleMLP(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = T.nn.Linear(12, 8)
            self.fc2 = T.nn.Linear(8, 3)

        def forward(self, x):
            return self.fc2(T.nn.functional.relu(self.fc1(x.flatten(1))))
    return SimpleMLP


def test_model_ensembling_with_torch_vmap():
    """intermediate/ensembling: stack_module_state over several models, then ``from torch import vmap`` over
    functional_call, with in_dims (0, 0, 0) (a minibatch per model) and (0, 0, None) (one shared minibatch)."""
    rng = np.random.RandomState(0)
    data = rng.randn(4, 5, 3, 4).astype(np.float32)
    res = []
    for T in (torch, ember):
        T.manual_seed(0)
        cls = _mlp(T)
        models = [cls() for _ in range(4)]
        params, buffers = T.func.stack_module_state(models)

        def fmodel(params, buffers, x):
            return T.func.functional_call(models[0], (params, buffers), (x,))
        minibatches = T.tensor(data)
        per_model = T.vmap(fmodel)(params, buffers, minibatches)
        shared = T.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatches[0])
        loop = T.stack([m(minibatches[0]) for m in models])
        res.append((per_model.detach().numpy(), shared.detach().numpy(), loop.detach().numpy(),
                    [p.shape[0] for p in params.values()]))
    for e, t in zip(res[1][:3], res[0][:3]):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res[1][1], res[1][2], rtol=1e-6, atol=1e-7)
    assert res[1][3] == res[0][3] == [4, 4, 4, 4]
