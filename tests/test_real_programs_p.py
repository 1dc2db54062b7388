"""Real public programs run on ember against PyTorch (session 34): PyTorch Image Models (timm 1.0.31). Its
models, optimizers, schedulers, transforms, Mixup and train.py ran unchanged under ``ember.aliasing.as_torch()``;
what differed is reduced here to the lines that found it, with PyTorch 2.13 as the oracle."""
import numpy as np
import pytest

import ember
from helpers import run_both


def _channels_last(L, shape=(2, 3, 5, 6), dtype=None, seed=0):
    L.manual_seed(seed)
    x = L.randn(*shape, dtype=dtype or L.float32)
    return x.to(memory_format=L.channels_last if len(shape) == 4 else L.channels_last_3d)


# -- layouts: ops that keep a channels-last input's layout --------------------------------------------------------
_KEEP = {
    'nearest': lambda L, F, x: F.interpolate(x, size=(7, 4)),
    'nearest_exact': lambda L, F, x: F.interpolate(x, size=(7, 4), mode='nearest-exact'),
    'bilinear': lambda L, F, x: F.interpolate(x, scale_factor=2, mode='bilinear'),
    'bilinear_aa': lambda L, F, x: F.interpolate(x, size=(3, 4), mode='bilinear', antialias=True),
    'bicubic': lambda L, F, x: F.interpolate(x, size=(7, 4), mode='bicubic', align_corners=True),
    'area': lambda L, F, x: F.interpolate(x, size=(3, 3), mode='area'),
    'uint8_bilinear': lambda L, F, x: F.interpolate((x * 50 + 100).to(L.uint8), size=(3, 3), mode='bilinear'),
    'adaptive_avg': lambda L, F, x: F.adaptive_avg_pool2d(x, 3),
    'adaptive_max': lambda L, F, x: F.adaptive_max_pool2d(x, 3, return_indices=True),
    'avg_pool': lambda L, F, x: F.avg_pool2d(x, 2),
    'lp_pool': lambda L, F, x: F.lp_pool2d(x, 2, 2),
    'max_pool': lambda L, F, x: F.max_pool2d(x, 3, 1, 1, return_indices=True),
    'group_norm': lambda L, F, x: F.group_norm(x, 3),
    'zero_pad': lambda L, F, x: L.nn.ZeroPad2d((0, 1, 0, 1))(x),
    'pad_value': lambda L, F, x: F.pad(x, (1, 2, -1, 1), value=2.),
    'pad_channels': lambda L, F, x: F.pad(x, (0, 0, 0, 0, 1, 1)),
    'pad_reflect': lambda L, F, x: F.pad(x, (1, 2, 1, 1), mode='reflect'),
    'pad_replicate': lambda L, F, x: F.pad(x, (1, 2, 1, 1), mode='replicate'),
    'pad_circular': lambda L, F, x: F.pad(x, (1, 2, 1, 1), mode='circular'),
    'gelu': lambda L, F, x: F.gelu(x),
    'gelu_tanh': lambda L, F, x: F.gelu(x.double(), approximate='tanh'),
    'trilinear_5d': lambda L, F, x: F.interpolate(x.unsqueeze(2).expand(2, 3, 2, 5, 6).contiguous(
        memory_format=L.channels_last_3d), size=(3, 4, 5), mode='trilinear'),
}


@pytest.mark.parametrize('name', sorted(_KEEP))
def test_channels_last_kept(name):
    """timm/models/cpubone.py (and train.py --channels-last): PyTorch's CPU resampling, pooling, padding (but
    circular), group norm and gelu return a channels-last input's layout; ember returned C order."""
    def fn(L):
        out = _KEEP[name](L, L.nn.functional, _channels_last(L))
        outs = out if isinstance(out, tuple) else (out,)
        return [(o, o.stride(), o.is_contiguous(memory_format=L.channels_last) if o.ndim == 4 else None)
                for o in outs]
    run_both(fn, tol=1e-5)


def test_dropout_after_upsample_follows_memory_order():
    """timm/models/cpubone.py: Upsample -> Conv2d -> GELU -> Conv2d -> Dropout(0.1) on a channels-last map; the
    dropout mask is drawn in memory order, so the layout the upsample kept decides which elements drop."""
    def fn(L):
        F = L.nn.functional
        L.manual_seed(0)
        x = L.randn(2, 8, 3, 3).to(memory_format=L.channels_last)
        w = L.randn(8, 8, 1, 1)
        y = F.conv2d(F.gelu(F.conv2d(F.interpolate(x, scale_factor=2), w)), w)
        L.manual_seed(1)
        return F.dropout(y, 0.1, True), y.stride()
    run_both(fn, tol=1e-5)


@pytest.mark.parametrize('name', ['bilinear', 'bicubic', 'adaptive_avg', 'avg_pool', 'max_pool', 'group_norm',
                                  'gelu', 'pad_value', 'pad_reflect'])
def test_channels_last_gradients(name):
    """The channels-last results above carry PyTorch's gradients (float64, same upstream gradient)."""
    def fn(L):
        x = _channels_last(L, dtype=L.float64).requires_grad_()
        out = _KEEP[name](L, L.nn.functional, x)
        out = out[0] if isinstance(out, tuple) else out
        L.manual_seed(3)
        (out * L.randn(out.shape, dtype=L.float64)).sum().backward()
        return x.grad
    run_both(fn, tol=1e-10)


def test_channels_last_gradients_finite_differences():
    """Gradients of the kept-layout bilinear resample and group norm against central differences (float64)."""
    rng = np.random.RandomState(0)
    a = rng.randn(1, 2, 3, 4)
    g = rng.randn(1, 2, 5, 6)

    def f(arr):
        x = ember.tensor(arr).to(memory_format=ember.channels_last)
        y = ember.nn.functional.interpolate(ember.nn.functional.group_norm(x, 2), size=(5, 6), mode='bilinear')
        return x, y

    x, y = f(a)
    x.requires_grad_()
    y = ember.nn.functional.interpolate(ember.nn.functional.group_norm(x, 2), size=(5, 6), mode='bilinear')
    (y * ember.tensor(g)).sum().backward()
    num = np.zeros_like(a)
    h = 1e-6
    for i in np.ndindex(a.shape):
        p, m = a.copy(), a.copy()
        p[i] += h
        m[i] -= h
        num[i] = ((f(p)[1].numpy() * g).sum() - (f(m)[1].numpy() * g).sum()) / (2 * h)
    np.testing.assert_allclose(x.grad.numpy(), num, rtol=1e-6, atol=1e-8)
