"""Double backward (create_graph=True, then a second backward) where ember used to raise or give NaN: prod and
cumprod with zeros, scatter_reduce and index_reduce with 'prod', cholesky_solve, cholesky_inverse, matrix_exp
(linalg's and torch's), grid_sample, conv3d, conv_transpose3d and the 3-D poolings (max, average, adaptive); each
against PyTorch 2.13 and float64 finite differences of ember's own gradient. (conv3d's gradients under
create_graph=True are composed of convolutions and pads, as ember's 2-D ones are: their grad_fn names are those
ops', where PyTorch records one ConvolutionBackwardBackward0.)"""
import warnings

import numpy as np
import pytest
import torch

import ember


def _first(lib, f, xs, w, create_graph):
    y = f(lib, *xs)
    return lib.autograd.grad((y * lib.tensor(w)).sum(), xs, create_graph=create_graph, allow_unused=True)


def _hvp(lib, f, arrays, w, v):
    """d/dt of <grad(sum(w * f(x + t v))), v> at t = 0, for each input: the second backward of ``f``."""
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    g = _first(lib, f, xs, w, True)
    s = sum((gi * lib.tensor(vi)).sum() for gi, vi in zip(g, v) if gi is not None)
    return [None if r is None else r.numpy() for r in lib.autograd.grad(s, xs, allow_unused=True)], g


def _grad_at(f, arrays, w):
    xs = [ember.tensor(a, requires_grad=True) for a in arrays]
    return [None if r is None else r.numpy() for r in _first(ember, f, xs, w, False)]


def check(f, *arrays, seed=0, rtol=1e-8, atol=1e-10, names=True, domain=None):
    """ember's second backward against PyTorch's (values, and the first gradients' grad_fn names) and against
    central differences of ember's first gradient along a random direction v: d/dh <grad(x + h v), v>.
    ``domain``: per input, a function restricting v to the inputs the op reads (a Cholesky factor's triangle)."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a, np.float64) for a in arrays]
    w = rng.standard_normal(tuple(f(torch, *[torch.tensor(a) for a in arrays]).shape))
    v = [rng.standard_normal(a.shape) for a in arrays]
    if domain:
        v = [v if d is None else d(v) for v, d in zip(v, domain)]
    got, ge = _hvp(ember, f, arrays, w, v)
    want, gt = _hvp(torch, f, arrays, w, v)
    for e, t in zip(got, want):
        if t is None:
            assert e is None or not e.any()
        else:
            np.testing.assert_allclose(e, t, rtol=rtol, atol=atol)
    if names:
        assert [None if g is None else g.grad_fn.name() for g in ge] == \
            [None if g is None else g.grad_fn.name() for g in gt]
    h = 1e-6
    plus = _grad_at(f, [a + h * d for a, d in zip(arrays, v)], w)
    minus = _grad_at(f, [a - h * d for a, d in zip(arrays, v)], w)
    fd = sum(((p - m) / (2 * h) * d).sum() for p, m, d in zip(plus, minus, v) if p is not None)
    hv = sum((e * d).sum() for e, d in zip(got, v) if e is not None)
    np.testing.assert_allclose(hv, fd, rtol=1e-5, atol=1e-6)


A = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 0.5], [1.5, 2.0, 3.0, -0.5]])


@pytest.mark.parametrize('call', [lambda L, x: L.prod(x, 1), lambda L, x: L.prod(x, 0, keepdim=True),
                                  lambda L, x: L.prod(x), lambda L, x: x.prod(-1) * 2,
                                  lambda L, x: L.prod(x + 5.0, 1)],
                         ids=['dim1', 'dim0 keepdim', 'all, several zeros', 'method', 'no zeros'])
def test_prod(call):
    check(call, A)


@pytest.mark.parametrize('dim', [0, 1, -1])
def test_cumprod_with_zeros(dim):
    """PyTorch's O(n^2) form where (reversed cumsum of g y) / x would divide by zero (ember gave NaN)."""
    check(lambda L, x: L.cumprod(x, dim), A)
    check(lambda L, x: x.cumprod(dim), A + 3.0)


def test_prod_third_order_with_zeros():
    """prod's double backward runs through cumprod's: with zeros, the third derivative is PyTorch's too."""
    out = []
    for lib in (ember, torch):
        x = lib.tensor(A, requires_grad=True)
        g, = lib.autograd.grad((lib.prod(x, 1) ** 2).sum(), x, create_graph=True)
        gg, = lib.autograd.grad((g ** 2).sum(), x, create_graph=True)
        out.append(lib.autograd.grad((gg ** 2).sum(), x)[0].numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9, atol=1e-12)


def test_prod_one_zero_overall():
    check(lambda L, x: L.prod(x), np.array([[1.5, 0.0, 2.0], [4.0, -0.5, 3.0]]))


SR = [([1., 2., 3.], [4., 0.5, 2., 5.]), ([1., 2., 0.], [0., 3., 2., 5.]), ([0., 2., -1.], [1.5, 3., 0., 5.])]


@pytest.mark.parametrize('include_self', [True, False])
@pytest.mark.parametrize('x,s', SR)
def test_scatter_reduce_prod(x, s, include_self):
    check(lambda L, a, b: a.scatter_reduce(0, L.tensor([0, 0, 1, 1]), b, 'prod', include_self=include_self), x, s)
    check(lambda L, a, b: a.scatter_reduce(1, L.tensor([[0, 2, 0], [1, 1, 0]]), b, 'prod', include_self=include_self),
          [[1., 2., 3.], [0., 2., 3.]], [[2., 3., 4.], [0.5, 0., 1.]])


@pytest.mark.parametrize('include_self', [True, False])
def test_index_reduce_prod(include_self):
    with warnings.catch_warnings():   # index_reduce's beta warning (once)
        warnings.simplefilter('ignore')
        check(lambda L, a, b: a.index_reduce(0, L.tensor([0, 2, 0]), b, 'prod', include_self=include_self),
              [[1., 2.], [0., 2.], [3., 0.5]], [[2., 3.], [0.5, 0.], [1.5, 2.]], names=False)


def test_scatter_reduce_prod_two_zeros_meeting():
    """PyTorch's gradient is 0 for the zeros there, and its second backward raises (DelayedError): ember's too."""
    i = [0, 0, 1, 1]
    for lib in (torch, ember):
        x = lib.tensor([1., 2., 3.], dtype=lib.float64, requires_grad=True)
        s = lib.tensor([0., 0., 2., 5.], dtype=lib.float64, requires_grad=True)
        gx, gs = lib.autograd.grad(x.scatter_reduce(0, lib.tensor(i), s, 'prod').sum(), (x, s), create_graph=True)
        np.testing.assert_array_equal(gs.detach().numpy(), [0., 0., 10., 4.])
        assert gs.grad_fn.name() == 'torch::autograd::Error' and type(gs.grad_fn).__name__ == 'Error'
        with pytest.raises(RuntimeError, match=r'Double backward is unsupported for src when >1 zeros in src'):
            lib.autograd.grad(gs.sum(), (x, s))


_RNG = np.random.default_rng(1)
_M = _RNG.standard_normal((3, 3))
_L = np.linalg.cholesky(_M @ _M.T + 3 * np.eye(3))


def _tri(upper):
    """The factor's triangle: the forward reads no other entry (PyTorch's backward formulas treat the factor as
    a full matrix, so only directions within the triangle compare with finite differences)."""
    return np.triu if upper else np.tril


@pytest.mark.parametrize('upper', [False, True])
def test_cholesky_inverse(upper):
    check(lambda L, l: L.cholesky_inverse(l, upper), _L.T if upper else _L, domain=[_tri(upper)])


@pytest.mark.parametrize('upper', [False, True])
def test_cholesky_solve(upper):
    for b in (_RNG.standard_normal((3, 2)), _RNG.standard_normal((2, 3, 2))):
        check(lambda L, b, l: L.cholesky_solve(b, l, upper), b, _L.T if upper else _L, domain=[None, _tri(upper)])


@pytest.mark.parametrize('call', [lambda L, a: L.linalg.matrix_exp(a), lambda L, a: L.matrix_exp(a),
                                  lambda L, a: a.matrix_exp()], ids=['linalg', 'torch', 'method'])
def test_matrix_exp(call):
    check(call, _M)
    check(call, _RNG.standard_normal((2, 3, 3)) * 2)


def test_matrix_exp_third_order():
    """Each further derivative exponentiates a block matrix twice the size: the third backward as PyTorch's."""
    out = []
    for lib in (ember, torch):
        a = lib.tensor(_M, requires_grad=True)
        g, = lib.autograd.grad((lib.linalg.matrix_exp(a) ** 2).sum(), a, create_graph=True)
        gg, = lib.autograd.grad((g ** 2).sum(), a, create_graph=True)
        out.append(lib.autograd.grad(gg.sum(), a)[0].numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9)


_X4 = _RNG.standard_normal((2, 2, 4, 5))
_G4 = _RNG.uniform(-1.2, 1.2, (2, 3, 2, 2))   # some positions outside [-1, 1]: the padding modes take part
_X5 = _RNG.standard_normal((1, 2, 3, 4, 3))
_G5 = _RNG.uniform(-1.2, 1.2, (1, 2, 2, 2, 3))


@pytest.mark.parametrize('align_corners', [False, True])
@pytest.mark.parametrize('padding_mode', ['zeros', 'border', 'reflection'])
@pytest.mark.parametrize('mode', ['bilinear', 'bicubic'])
def test_grid_sample(mode, padding_mode, align_corners):
    check(lambda L, a, g: L.nn.functional.grid_sample(a, g, mode=mode, padding_mode=padding_mode,
                                                      align_corners=align_corners), _X4, _G4)


@pytest.mark.parametrize('padding_mode', ['zeros', 'border', 'reflection'])
def test_grid_sample_3d(padding_mode):
    check(lambda L, a, g: L.nn.functional.grid_sample(a, g, padding_mode=padding_mode, align_corners=False),
          _X5, _G5)


def _through_upstream(lib, x, grid, **kw):
    """Second derivatives of grid_sample's gradients with respect to the input, the grid and the upstream
    gradient itself (None where the graph does not reach, read as zeros)."""
    xs = [lib.tensor(x, requires_grad=True), lib.tensor(grid, requires_grad=True)]
    y = lib.nn.functional.grid_sample(*xs, **kw)
    up = lib.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)), requires_grad=True)
    first = lib.autograd.grad(y, xs, up, create_graph=True)
    names = [f.grad_fn.name() for f in first if f.grad_fn is not None]
    second = lib.autograd.grad(sum((f * f).sum() for f in first), xs + [up], allow_unused=True)
    return names, [np.zeros(t.shape) if r is None else r.numpy() for r, t in zip(second, xs + [up])]


@pytest.mark.parametrize('mode,x,grid', [('nearest', _X4, _G4), ('bilinear', _X4, _G4), ('bicubic', _X4, _G4),
                                         ('nearest', _X5, _G5), ('bilinear', _X5, _G5)])
def test_grid_sample_through_the_upstream_gradient(mode, x, grid):
    """Nearest's gradients are linear in the upstream gradient alone; the grad_fn names are PyTorch's."""
    ne, e = _through_upstream(ember, x, grid, mode=mode, align_corners=False)
    nt, t = _through_upstream(torch, x, grid, mode=mode, align_corners=False)
    assert ne[0] == nt[0] == f'GridSampler{x.ndim - 2}DBackwardBackward0'
    for a, b in zip(e, t):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


_X3D = _RNG.standard_normal((2, 2, 5, 4, 6))
POOLS = {'avg': lambda L, x: L.nn.functional.avg_pool3d(x, 2),
         'avg padded ceil': lambda L, x: L.nn.functional.avg_pool3d(x, 3, 2, 1, ceil_mode=True,
                                                                    count_include_pad=False),
         'avg divisor': lambda L, x: L.nn.functional.avg_pool3d(x, (2, 1, 3), divisor_override=5),
         'avg unbatched': lambda L, x: L.nn.functional.avg_pool3d(x, 2),
         'max': lambda L, x: L.nn.functional.max_pool3d(x, 2),
         'max dilated': lambda L, x: L.nn.functional.max_pool3d(x, 2, 1, 1, dilation=2),
         'max unbatched': lambda L, x: L.nn.functional.max_pool3d(x, 3, 2),
         'torch.max_pool3d': lambda L, x: L.max_pool3d(x, 2),
         'adaptive avg': lambda L, x: L.nn.functional.adaptive_avg_pool3d(x, (3, 2, 4)),
         'adaptive avg unbatched': lambda L, x: L.nn.functional.adaptive_avg_pool3d(x, 3),
         'adaptive max': lambda L, x: L.nn.functional.adaptive_max_pool3d(x, (3, 2, 4)),
         'adaptive max unbatched': lambda L, x: L.nn.functional.adaptive_max_pool3d(x, 2)}


@pytest.mark.parametrize('name', POOLS)
def test_pool3d(name):
    """The gradient is linear in the upstream gradient: its own gradient is the pooling's adjoint (squared here,
    so that the second derivative also runs through the pooling's first)."""
    check(lambda L, x: POOLS[name](L, x) ** 2, _X3D[0] if 'unbatched' in name else _X3D)


@pytest.mark.parametrize('name', ['avg', 'max', 'adaptive avg', 'adaptive max'])
def test_pool3d_through_the_upstream_gradient(name):
    got = []
    for lib in (ember, torch):
        x = lib.tensor(_X3D, requires_grad=True)
        y = POOLS[name](lib, x)
        up = lib.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)), requires_grad=True)
        g, = lib.autograd.grad(y, x, up, create_graph=True)
        got.append([g.grad_fn.name()] + [r.numpy() for r in lib.autograd.grad((g * g * g).sum(), (x, up))])
    assert got[0][0] == got[1][0]
    np.testing.assert_array_equal(got[0][1], 0)     # PyTorch's zeros_like(self)
    for a, b in zip(got[0][1:], got[1][1:]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


_R = np.random.default_rng(9)
CONVS = {
    'conv3d': (lambda L, x, w: L.nn.functional.conv3d(x, w),
               (_R.standard_normal((2, 2, 4, 5, 4)), _R.standard_normal((3, 2, 2, 3, 2)))),
    'conv3d bias stride padding dilation': (
        lambda L, x, w, b: L.nn.functional.conv3d(x, w, b, (2, 1, 2), (1, 0, 1), (1, 2, 1)),
        (_R.standard_normal((1, 2, 5, 6, 5)), _R.standard_normal((3, 2, 2, 2, 3)), _R.standard_normal(3))),
    'conv3d groups': (lambda L, x, w: L.nn.functional.conv3d(x, w, None, 1, 1, 1, 2),
                      (_R.standard_normal((1, 4, 3, 4, 3)), _R.standard_normal((6, 2, 2, 2, 2)))),
    'conv3d unbatched same': (lambda L, x, w: L.nn.functional.conv3d(x, w, padding='same'),
                              (_R.standard_normal((2, 4, 3, 4)), _R.standard_normal((3, 2, 3, 1, 3)))),
    'conv_transpose3d': (lambda L, x, w: L.nn.functional.conv_transpose3d(x, w),
                         (_R.standard_normal((2, 2, 3, 4, 3)), _R.standard_normal((2, 3, 2, 3, 2)))),
    'conv_transpose3d bias stride padding output_padding dilation': (
        lambda L, x, w, b: L.nn.functional.conv_transpose3d(x, w, b, (2, 1, 2), (1, 0, 1), (1, 0, 0), 1, (1, 2, 1)),
        (_R.standard_normal((1, 2, 3, 4, 3)), _R.standard_normal((2, 3, 2, 2, 3)), _R.standard_normal(3))),
    'conv_transpose3d groups': (lambda L, x, w: L.nn.functional.conv_transpose3d(x, w, None, 2, 1, 1, 2),
                                (_R.standard_normal((1, 4, 3, 2, 3)), _R.standard_normal((4, 2, 2, 2, 2)))),
}


@pytest.mark.parametrize('name', CONVS)
def test_conv3d(name):
    """Squared, so that the second derivative mixes the input and the weight through both convolutions."""
    f, arrays = CONVS[name]
    check(lambda L, *a: f(L, *a) ** 2, *arrays, names=False)


@pytest.mark.parametrize('dims,keep', [((0, 2), False), ((1,), False), ((-1,), False), ((-3, 2), False),
                                       ((0, 2), True), (None, False)])
def test_sum_and_mean_backward_graph_unsqueezes_like_torch(dims, keep):
    """Under create_graph a sum's or mean's backward unsqueezes each reduced dim as PyTorch's sum_backward does,
    so a double backward's graph carries PyTorch's names (autograd.functional.jvp's docstring output,
    grad_fn=<SqueezeBackward1>, where ember's reshape gave ViewBackward0); values as PyTorch's."""
    got = []
    for lib in (ember, torch):
        a = lib.tensor(np.linspace(-1, 1, 24).reshape(2, 3, 4), requires_grad=True)
        res = []
        for red in (lambda t: t.sum(dim=dims, keepdim=keep) if dims else t.sum(),
                    lambda t: t.mean(dim=dims, keepdim=keep) if dims else t.mean()):
            y = red(a * a)
            u = lib.ones_like(y).requires_grad_()
            g, = lib.autograd.grad(y, a, u, create_graph=True)
            gu, = lib.autograd.grad(g, u, lib.ones_like(a) * 3, create_graph=True)
            res.append((gu.grad_fn.name() if gu.grad_fn else None, gu.detach().numpy().round(10).tolist()))
        got.append(res)
    assert got[0] == got[1]
