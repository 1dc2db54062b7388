"""Bit for bit against PyTorch 2.13 with ember's opt-in exact kernels on (ember.backend.exact_kernels): GELU of any
size and its gradient (oneDNN's kernels), group_norm, 4-D cross_entropy / nll_loss, bicubic interpolate and 3-D
grid_sample, forward and gradients, over the shapes and seeds checked when they were written."""
import numpy as np
import pytest
import torch

import ember
from _isa import assert_bits_or_close
from helpers import exact_like_torch, threads  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures('exact_like_torch')


def _run(fn, arrays, seed=0):
    """fn(lib, F, *tensors) on both libraries, backward of a seeded normal gradient: (ember's, PyTorch's) output and
    float input gradients as arrays."""
    res = []
    for lib, F in ((ember, ember.nn.functional), (torch, torch.nn.functional)):
        ts = [lib.tensor(a, requires_grad=a.dtype == np.float32) for a in arrays]
        out = fn(lib, F, *ts)
        g = np.random.default_rng(seed + 99).standard_normal(tuple(out.shape)).astype(np.float32)
        out.backward(lib.tensor(g))
        res.append([out.detach().numpy()] + [t.grad.numpy() for t in ts if t.grad is not None])
    return res


def _same(fn, arrays, seed=0, tol=None):
    mine, theirs = _run(fn, arrays, seed)
    assert len(mine) == len(theirs)
    for i, (e, t) in enumerate(zip(mine, theirs)):
        assert e.dtype == t.dtype and e.shape == t.shape
        assert_bits_or_close(e, t, err_msg=f'output {i}', **(tol or dict(rtol=1e-5, atol=1e-6)))


def _normal(shape, seed, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize('shape', [(2,), (8192,), (8193,), (16, 1000), (3, 64, 512)])
@pytest.mark.parametrize('seed', [0, 1])
def test_gelu_any_size_and_gradient(shape, seed):
    _same(lambda L, F, x: F.gelu(x), [_normal(shape, seed, 3.0)], seed)


def test_gelu_gradient_grid_and_specials():
    x = np.concatenate([np.linspace(-12, 12, 20001), [0, -0.0, 1e-30, -1e-30, 40, -40, np.inf, -np.inf]])
    _same(lambda L, F, x: F.gelu(x), [x.astype(np.float32)])


def _labels(shape, C, seed):
    return np.random.default_rng(seed + 7).integers(0, C, shape)


def _weights(C, seed):
    return np.abs(_normal((C,), seed + 3)).astype(np.float32)


@pytest.mark.parametrize('shape', [(2, 5, 4, 4), (4, 10, 16, 16), (8, 21, 32, 32), (1, 3, 7, 9)])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_cross_entropy_4d(shape, seed):
    labels = _labels(shape[:1] + shape[2:], shape[1], seed)
    _same(lambda L, F, x, t: F.cross_entropy(x, t), [_normal(shape, seed), labels], seed)


@pytest.mark.parametrize('reduction', ['mean', 'sum'])
@pytest.mark.parametrize('shape', [(4, 10, 16, 16), (2, 3, 33, 17), (3, 4, 5)])
@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('ignore', [-100, 2])
def test_nll_loss_nd_weights_and_ignored(reduction, shape, weighted, ignore):
    C = shape[1]
    w = _weights(C, 0) if weighted else None

    def fn(L, F, x, t):
        return F.nll_loss(x, t, weight=None if w is None else L.tensor(w), ignore_index=ignore, reduction=reduction)
    _same(fn, [_normal(shape, 1), _labels(shape[:1] + shape[2:], C, 1)], 1)


@pytest.mark.parametrize('shape', [(64, 10), (1000, 7)])
def test_nll_loss_weighted_rows_gradient(shape):
    """The gradient divides by the forward's total weight, added in the kernel's cascade as PyTorch's."""
    w = _weights(shape[1], 5)
    _same(lambda L, F, x, t: F.nll_loss(x, t, weight=L.tensor(w)), [_normal(shape, 5), _labels(shape[:1], shape[1], 5)])


def test_cross_entropy_5d_ignored():
    shape = (2, 4, 5, 6, 7)
    _same(lambda L, F, x, t: F.cross_entropy(x, t, ignore_index=1), [_normal(shape, 2), _labels((2, 5, 6, 7), 4, 2)])


@pytest.mark.parametrize('shape,G', [((2, 8, 5, 5), 4), ((4, 32, 16, 16), 8), ((3, 12, 7), 3), ((8, 64, 8, 8), 32),
                                     ((8, 64, 8, 8), 4), ((2, 16, 33, 17), 4), ((2, 48, 33, 17), 2), ((2, 6, 300), 2),
                                     ((3, 6, 2, 3, 4), 3), ((2, 40, 6, 6), 8), ((2, 56, 5, 5), 8), ((2, 96, 4, 4), 8),
                                     ((1, 13, 9), 1)])
@pytest.mark.parametrize('params', ['both', 'weight', 'none'])
@pytest.mark.parametrize('seed', [0, 1])
def test_group_norm_values_and_gradients(shape, G, params, seed, threads):
    C = shape[1]
    arrays = [_normal(shape, seed, 2.0) + np.float32(0.5)]
    if params != 'none':
        arrays.append(_normal((C,), seed + 1))
    if params == 'both':
        arrays.append(_normal((C,), seed + 2))
    _same(lambda L, F, x, *p: F.group_norm(x, G, *p), arrays, seed)


def test_group_norm_module_eps(threads):
    def fn(L, F, x):
        L.manual_seed(0)
        m = L.nn.GroupNorm(4, 16, eps=1e-3)
        with L.no_grad():
            m.weight.mul_(1.5)
            m.bias.add_(0.25)
        return m(x)
    _same(fn, [_normal((4, 16, 9, 9), 3)])


@pytest.mark.parametrize('shape,kw', [((2, 3, 8, 8), dict(scale_factor=2)), ((1, 4, 17, 13), dict(scale_factor=2)),
                                      ((2, 2, 32, 32), dict(scale_factor=2)),
                                      ((2, 3, 8, 8), dict(size=(11, 7), align_corners=True)),
                                      ((1, 4, 17, 13), dict(size=(17, 29), align_corners=True)),
                                      ((1, 4, 17, 13), dict(size=(5, 6))), ((2, 2, 9, 10), dict(scale_factor=1.7)),
                                      ((2, 3, 16, 16), dict(size=(37, 23))), ((1, 2, 6, 9), dict(size=(6, 20)))])
@pytest.mark.parametrize('seed', [0, 1])
def test_bicubic_interpolate(shape, kw, seed):
    _same(lambda L, F, x: F.interpolate(x, mode='bicubic', **kw), [_normal(shape, seed)], seed)


def test_bicubic_zero_gradient_keeps_positive_zeros():
    """PyTorch's backward adds into a zeroed buffer: -0 terms (a zero gradient times negative weights) leave +0."""
    x = _normal((1, 1, 5, 5), 0)
    mine, theirs = [], []
    for lib, out in ((ember, mine), (torch, theirs)):
        t = lib.tensor(x, requires_grad=True)
        lib.nn.functional.interpolate(t, scale_factor=3, mode='bicubic').backward(lib.zeros(1, 1, 15, 15) * -1)
        out.append(t.grad.numpy())
    np.testing.assert_array_equal(np.signbit(mine[0]), np.signbit(theirs[0]))


def _grid(shape, seed, span=1.1):
    return np.random.default_rng(seed + 11).uniform(-span, span, shape).astype(np.float32)


@pytest.mark.parametrize('shape,gshape', [((2, 3, 5, 6, 7), (2, 4, 5, 6, 3)), ((1, 2, 8, 8, 8), (1, 3, 9, 4, 3)),
                                          ((1, 4, 8, 3, 9), (1, 7, 2, 5, 3))])
@pytest.mark.parametrize('mode', ['bilinear', 'nearest'])
@pytest.mark.parametrize('padding_mode', ['zeros', 'border', 'reflection'])
@pytest.mark.parametrize('align_corners', [False, True])
def test_grid_sample_3d(shape, gshape, mode, padding_mode, align_corners):
    _same(lambda L, F, x, g: F.grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners),
          [_normal(shape, 4), _grid(gshape, 4, 1.4)], 4)


def test_grid_sample_3d_forward_by_default():
    """The trilinear forward is PyTorch's with the exact kernels off too (it costs nothing more)."""
    x, g = _normal((2, 3, 5, 6, 7), 5), _grid((2, 4, 5, 6, 3), 5)
    ember.backend.exact_kernels(False)
    e = ember.nn.functional.grid_sample(ember.tensor(x), ember.tensor(g), align_corners=False).numpy()
    t = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(g), align_corners=False).numpy()
    assert_bits_or_close(e, t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('name', ['gelu', 'group_norm', 'nll2d', 'bicubic', 'grid_sample_3d'])
def test_float64_gradients_by_finite_differences(name):
    """The ops touched here, differentiated in float64 against finite differences (ember.autograd.gradcheck)."""
    F = ember.nn.functional
    rng = np.random.default_rng(9)
    labels = ember.tensor(rng.integers(0, 3, (2, 3, 2)))
    weight = ember.tensor(np.array([0.5, 1.5, 2.0]))
    cases = {
        'gelu': (lambda x: F.gelu(x), [(3, 5)]),
        'group_norm': (lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
        'nll2d': (lambda x: F.nll_loss(x, labels, weight=weight, ignore_index=1), [(2, 3, 3, 2)]),
        'bicubic': (lambda x: F.interpolate(x, scale_factor=1.7, mode='bicubic'), [(1, 2, 3, 4)]),
        'grid_sample_3d': (lambda x, g: F.grid_sample(x, g * 0.9, align_corners=False),
                           [(1, 2, 3, 3, 4), (1, 2, 2, 1, 3)]),
    }
    fn, shapes = cases[name]
    inputs = [ember.tensor(rng.uniform(-1, 1, s), requires_grad=True) for s in shapes]
    assert ember.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5)


@pytest.mark.parametrize('shape,kw', [((2, 3, 9), dict(scale_factor=2.3, mode='linear')),
                                      ((2, 3, 9), dict(size=20, mode='linear', align_corners=True)),
                                      ((2, 3, 8, 8), dict(scale_factor=2, mode='bilinear')),
                                      ((1, 4, 17, 13), dict(size=(11, 7), mode='bilinear', align_corners=True)),
                                      ((1, 4, 17, 13), dict(size=(5, 6), mode='bilinear')),
                                      ((2, 2, 33, 20), dict(scale_factor=1.7, mode='bilinear')),
                                      ((2, 3, 8, 8), dict(size=(8, 13), mode='bilinear')),
                                      ((2, 3, 4, 5, 6), dict(scale_factor=2, mode='trilinear')),
                                      ((2, 3, 4, 5, 6), dict(size=(5, 7, 3), mode='trilinear', align_corners=True))])
def test_linear_modes_gradient(shape, kw):
    _same(lambda L, F, x: F.interpolate(x, **kw), [_normal(shape, 6)], 6)


@pytest.mark.parametrize('shape', [(1, 8, 9, 7), (1, 16, 8, 8), (2, 11, 5, 6), (1, 24, 10, 10), (2, 5, 8, 8)])
@pytest.mark.parametrize('channels_last', [False, True])
def test_bilinear_vectorized_kernel_lanes(shape, channels_last):
    """PyTorch's channels-last bilinear kernel (small outputs, or channels-last inputs of 4+ channels) adds whole
    vectors of 8 channels in one fused order and the rest in another; by default, no exact kernels needed."""
    ember.backend.exact_kernels(False)
    out = []
    for lib in (ember, torch):
        t = lib.tensor(_normal(shape, 7))
        if channels_last:
            t = t.contiguous(memory_format=lib.channels_last)
        out.append(lib.nn.functional.interpolate(t, scale_factor=2, mode='bilinear').contiguous().numpy())
    assert_bits_or_close(out[0], out[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('shape,gshape', [((2, 3, 5, 6), (2, 4, 5, 2)), ((1, 4, 8, 7), (1, 9, 6, 2)),
                                          ((2, 16, 12, 12), (2, 12, 12, 2))])
@pytest.mark.parametrize('padding_mode', ['zeros', 'border', 'reflection'])
@pytest.mark.parametrize('align_corners', [False, True])
def test_grid_sample_2d_bilinear_gradients(shape, gshape, padding_mode, align_corners):
    _same(lambda L, F, x, g: F.grid_sample(x, g, padding_mode=padding_mode, align_corners=align_corners),
          [_normal(shape, 8), _grid(gshape, 8, 1.3)], 8)


def test_spatial_transformer_step():
    """affine_grid then grid_sample (a spatial transformer's sampler): the output, the image's gradient and the
    grid's bit for bit; theta's gradient (PyTorch's bmm over all positions, by MKL) within rounding."""
    theta = np.array([[[0.9, -0.2, 0.1], [0.15, 1.1, -0.05]], [[1.2, 0.1, 0.0], [-0.1, 0.8, 0.2]]], np.float32)
    x, g = _normal((2, 3, 10, 12), 9), _normal((2, 3, 10, 12), 10)
    res = []
    for lib in (ember, torch):
        F = lib.nn.functional
        xt, th = lib.tensor(x, requires_grad=True), lib.tensor(theta, requires_grad=True)
        grid = F.affine_grid(th, (2, 3, 10, 12), align_corners=False)
        grid.retain_grad()
        out = F.grid_sample(xt, grid, align_corners=False)
        out.backward(lib.tensor(g))
        res.append([out.detach().numpy(), xt.grad.numpy(), grid.grad.numpy(), th.grad.numpy()])
    for i in range(3):
        assert_bits_or_close(res[0][i], res[1][i], err_msg=f'output {i}', rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res[0][3], res[1][3], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('shape', [(64,), (8192,), (16, 1024), (65536,), (12, 64, 512)])
@pytest.mark.parametrize('seed', [0, 1])
def test_gelu_tanh_and_gradient(shape, seed):
    """approximate='tanh' through SLEEF's tanhf on whole vectors (sizes whose per-thread runs are whole 32-element
    steps, so no element goes through the scalar loop's glibc tanhf)."""
    _same(lambda L, F, x: F.gelu(x, approximate='tanh'), [_normal(shape, seed, 3.0)], seed)


def test_gelu_tanh_scalar_tail_close():
    """A run's last len % 32 elements go through glibc's tanhf, which ember approximates by the float64 tanh."""
    mine, theirs = _run(lambda L, F, x: F.gelu(x, approximate='tanh'), [_normal((1000,), 3, 3.0)], 3)
    for e, t in zip(mine, theirs):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7)
