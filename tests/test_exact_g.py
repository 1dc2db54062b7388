"""Bit-for-bit agreement with PyTorch 2.13 under ember's exact kernels of the first ops where seeded tutorial programs
differed: a float32 linear layer's weight gradient of 1-4 or 8 input features (MKL's sgemm adds each row's products
one after another: ops/_mkl_narrow.weight_grad), at 1 and 2 threads."""
import numpy as np
import pytest
import torch

import ember
from helpers import exact_like_torch, threads  # noqa: F401 (fixtures)

LEADING = [(1,), (7,), (64,), (100,), (300,), (7, 5), (0,), (2000,)]


def _bits(a):
    return np.ascontiguousarray(a).view(np.int32)


def _linear_grads(lib, x, w, b, g):
    """Weight, bias and input gradients of ``F.linear(x, w, b)`` against ``g``."""
    tx, tw, tb = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
    lib.nn.functional.linear(tx, tw, tb).backward(lib.tensor(g))
    return tw.grad, tb.grad, tx.grad


@pytest.mark.parametrize('features', [1, 2, 3, 4, 8])
@pytest.mark.parametrize('outputs', [1, 3, 32, 64])
@pytest.mark.parametrize('leading', LEADING)
def test_linear_weight_grad_bits(leading, outputs, features, threads, exact_like_torch):  # noqa: F811
    """The weight gradient is PyTorch's bits (its stride too); the input and bias gradients agree within rounding."""
    rng = np.random.default_rng(sum(leading) * 100 + outputs * 10 + features)
    x = rng.standard_normal(leading + (features,)).astype(np.float32)
    w = rng.standard_normal((outputs, features)).astype(np.float32)
    b = rng.standard_normal(outputs).astype(np.float32)
    g = rng.standard_normal(leading + (outputs,)).astype(np.float32)
    want, got = _linear_grads(torch, x, w, b, g), _linear_grads(ember, x, w, b, g)
    assert np.array_equal(_bits(got[0].numpy()), _bits(want[0].numpy()))
    assert got[0].stride() == want[0].stride()
    for e, t in zip(got[1:], want[1:]):
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-5)


def test_linear_weight_grad_module_training(threads, exact_like_torch):  # noqa: F811
    """nn.Linear(1, 1) fitted by SGD on 100 points (a regression tutorial): every step's weight and bias are
    PyTorch's bits."""
    xs = np.linspace(-1, 1, 100, dtype=np.float32)[:, None]
    ys = (3 * xs + 0.5 + 0.1 * np.random.default_rng(0).standard_normal((100, 1))).astype(np.float32)
    runs = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        m = lib.nn.Linear(1, 1)
        opt = lib.optim.SGD(m.parameters(), lr=0.1)
        x, y, seen = lib.tensor(xs), lib.tensor(ys), []
        for _ in range(30):
            opt.zero_grad()
            ((m(x) - y) ** 2).mean().backward()
            opt.step()
            seen.append(np.concatenate([m.weight.detach().numpy().ravel(), m.bias.detach().numpy()]))
        runs.append(np.stack(seen))
    assert np.array_equal(_bits(runs[1]), _bits(runs[0]))
