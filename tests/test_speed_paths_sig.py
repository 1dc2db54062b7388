"""The backward of the activations built on _activation._sig (its steps in place on one temporary): silu, mish,
softplus, logsigmoid and glu at real sizes with special values, against PyTorch and float64 finite differences."""
import numpy as np
import pytest
import torch

import ember
from helpers import check

torch.set_num_threads(1)

SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 100.0, -100.0, 89.0, -89.0, 88.5, -88.5, 20.0, -20.0, 1e-40]

SIG_USERS = {
    'silu': lambda L, t: L.nn.functional.silu(t),
    'mish': lambda L, t: L.nn.functional.mish(t),
    'softplus': lambda L, t: L.nn.functional.softplus(t, beta=2.0, threshold=15.0),
    'logsigmoid': lambda L, t: L.nn.functional.logsigmoid(t),
    'glu': lambda L, t: L.nn.functional.glu(t, 1),
}


def _run(lib, fn, x, g):
    t = lib.tensor(x, requires_grad=True)
    y = fn(lib, t)
    y.backward(lib.tensor(g))
    return y.grad_fn.name(), y.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize('name', sorted(SIG_USERS))
@pytest.mark.parametrize('shape,dtype', [((8, 32, 32, 32), np.float32), ((6, 4002), np.float64)], ids=str)
def test_sigmoid_users_backward_as_pytorch(name, shape, dtype):
    """exp(-x) overflowing to inf (x = -100, -89), NaN, infinities, zeros of both signs and normal values: PyTorch's
    grad_fn, values within float rounding, NaN where PyTorch has NaN."""
    rng = np.random.default_rng(31)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    x.reshape(-1)[:len(SPECIAL)] = SPECIAL
    out_shape = (shape[0], shape[1] // 2) + shape[2:] if name == 'glu' else shape
    g = rng.standard_normal(out_shape).astype(dtype)
    (ne, ye, ge), (nt, yt, gt) = (_run(lib, SIG_USERS[name], x, g) for lib in (ember, torch))
    assert ne == nt
    tol = dict(rtol=2e-6, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ye, yt, **tol)
    np.testing.assert_allclose(ge, gt, **tol)


@pytest.mark.parametrize('name', sorted(SIG_USERS))
def test_sigmoid_users_gradients_finite_differences(name):
    check(SIG_USERS[name], (3, 4, 5), atol=1e-5)
