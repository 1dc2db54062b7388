"""interpolate's backward against PyTorch in float64, on every route it takes: strided adds for an integer nearest
upscale, one product with the dense tap matrix for inputs of at most 128 along an axis, runs summed per tap above
that (integer and fractional factors, align_corners, antialias, 1-D to 3-D)."""
import numpy as np
import pytest
import torch

import ember


CASES = [  # (mode, input shape, kwargs)
    ('nearest', (2, 3, 7, 9), dict(scale_factor=2.0)),
    ('nearest', (2, 3, 7, 9), dict(scale_factor=3.0)),
    ('nearest', (2, 3, 7, 9), dict(size=(11, 5))),
    ('nearest', (1, 2, 150, 140), dict(scale_factor=2.0)),
    ('nearest', (1, 2, 150, 140), dict(scale_factor=1.5)),
    ('nearest', (1, 2, 150, 140), dict(size=(70, 333))),
    ('nearest', (2, 3, 13), dict(size=29)),
    ('nearest', (1, 2, 5, 6, 7), dict(scale_factor=(2.0, 1.5, 0.5))),
    ('nearest-exact', (2, 3, 7, 9), dict(size=(16, 4))),
    ('nearest-exact', (1, 2, 150, 140), dict(size=(200, 99))),
    ('linear', (2, 3, 13), dict(size=40, align_corners=False)),
    ('linear', (2, 3, 200), dict(scale_factor=2.0, align_corners=True)),
    ('bilinear', (2, 3, 7, 9), dict(scale_factor=2.0)),
    ('bilinear', (2, 3, 7, 9), dict(size=(3, 20), align_corners=True)),
    ('bilinear', (1, 2, 150, 140), dict(scale_factor=2.0)),
    ('bilinear', (1, 2, 150, 140), dict(size=(97, 300), align_corners=True)),
    ('bilinear', (2, 3, 30, 40), dict(size=(9, 13), antialias=True)),
    ('bilinear', (1, 2, 300, 160), dict(size=(70, 50), antialias=True)),
    ('bicubic', (2, 3, 7, 9), dict(scale_factor=3.0)),
    ('bicubic', (1, 2, 150, 140), dict(size=(151, 61), align_corners=True)),
    ('bicubic', (2, 3, 30, 40), dict(size=(7, 11), antialias=True)),
    ('trilinear', (1, 2, 4, 5, 6), dict(scale_factor=2.0)),
    ('trilinear', (1, 2, 4, 5, 6), dict(size=(3, 9, 4), align_corners=True)),
]


@pytest.mark.parametrize('mode,shape,kw', CASES)
def test_interpolate_gradient_matches_torch(mode, shape, kw):
    rng = np.random.default_rng(len(shape) * 1000 + sum(shape))
    x = rng.standard_normal(shape)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.interpolate(tx, mode=mode, **kw)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    ex = ember.tensor(x, requires_grad=True)
    ey = ember.nn.functional.interpolate(ex, mode=mode, **kw)
    ey.backward(ember.tensor(g))
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    assert ey.grad_fn.name() == ty.grad_fn.name()


@pytest.mark.parametrize('mode', ['nearest', 'bilinear', 'bicubic'])
def test_interpolate_gradient_float32_to_rounding(mode):
    x = np.random.default_rng(5).standard_normal((4, 8, 32, 32)).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.interpolate(tx, scale_factor=2, mode=mode)
    ty.backward(torch.ones_like(ty) * 0.5)
    ex = ember.tensor(x, requires_grad=True)
    ey = ember.nn.functional.interpolate(ex, scale_factor=2, mode=mode)
    ey.backward(ember.ones_like(ey) * 0.5)
    assert ex.grad.dtype == ember.float32
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)
