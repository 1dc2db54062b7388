"""Speed paths of the activations and the softmax family taken at realistic sizes (blockwise's blocks, row maxima
by transposition for many short rows), each compared with PyTorch at sizes that take them, special values
included; gradients also against float64 finite differences (helpers.check)."""
import numpy as np
import pytest
import torch

import ember
from helpers import check

RNG = np.random.default_rng(29)
SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 3.0, -3.0, 2.9999998, -2.9999998, 88.5, 89.0, -89.0, 100.0, -100.0,
           1e-40, -1e-40]


def _inputs(shape, dtype):
    """Normal values (scale 3) with the special values in front, and an upstream gradient with inf, NaN and 0."""
    x = (RNG.standard_normal(shape) * 3).astype(dtype)
    x.reshape(-1)[:len(SPECIAL)] = SPECIAL
    g = RNG.standard_normal(shape).astype(dtype)
    g.reshape(-1)[-3:] = [np.inf, np.nan, 0.0]
    return x, g


def _run(lib, fn, x, g):
    t = lib.tensor(x, requires_grad=True)
    y = fn(lib, t)
    y.backward(lib.tensor(g))
    return y.grad_fn.name(), y.detach().numpy(), t.grad.numpy()


ACTS = {
    'elu': lambda L, t: L.nn.functional.elu(t),
    'elu_alpha': lambda L, t: L.nn.functional.elu(t, 0.5),
    'selu': lambda L, t: L.nn.functional.selu(t),
    'celu': lambda L, t: L.nn.functional.celu(t, 0.7),
    'hardswish': lambda L, t: L.nn.functional.hardswish(t),
    'silu': lambda L, t: L.nn.functional.silu(t),
}


@pytest.mark.parametrize('name', sorted(ACTS))
@pytest.mark.parametrize('shape,dtype', [((8, 32, 32, 32), np.float32), ((3, 40001), np.float64),
                                         ((64, 128), np.float32)])
def test_activation_blocks_as_pytorch(name, shape, dtype):
    """Forward and backward over several blocks (and one), with special values: PyTorch's grad_fn, values within
    float rounding, NaN where PyTorch has NaN, and the sign of zeros (elu(-0.) is -0.)."""
    x, g = _inputs(shape, dtype)
    (ne, ye, ge), (nt, yt, gt) = (_run(lib, ACTS[name], x, g) for lib in (ember, torch))
    assert ne == nt
    if name == 'hardswish':     # PyTorch's own NaN gradient differs between its vector and scalar loops
        ge, gt = ge[~np.isnan(x)], gt[~np.isnan(x)]
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=2e-15, atol=1e-15)
    np.testing.assert_allclose(ye, yt, **tol)
    if name == 'celu' and dtype == np.float64:   # PyTorch's celu backward takes 1.0 / alpha.toFloat()
        tol = dict(rtol=1e-6, atol=1e-15)
    np.testing.assert_allclose(ge, gt, **tol)
    np.testing.assert_array_equal(np.signbit(ye[ye == 0]), np.signbit(yt[ye == 0]))


@pytest.mark.parametrize('name', sorted(ACTS))
def test_activation_gradients_finite_differences(name):
    """Gradients against PyTorch and float64 finite differences (away from the kinks at 0 and +-3)."""
    x = RNG.uniform(-5, 5, (6, 7))
    x[np.abs(np.abs(x) - 3) < 0.01] += 0.1
    x[np.abs(x) < 0.01] += 0.1
    check(ACTS[name], inputs=[x.astype(np.float32)])


@pytest.mark.parametrize('shape', [(3072, 64), (768, 65), (300, 256), (12, 4, 64, 64), (40, 1000)])
@pytest.mark.parametrize('op', ['softmax', 'log_softmax', 'cross_entropy'])
def test_softmax_many_short_rows_as_pytorch(shape, op):
    """Many short rows (row maxima taken by transposition): values and gradients as PyTorch's, rows of -inf/NaN/+inf
    included (NaN where PyTorch has NaN). Inputs from a generator of the case's own: the module's, shared, gave each
    case what whichever tests pytest-xdist had run before it on the worker left, and for 6 of 80 random draws a
    log_softmax gradient entry where g cancels exp(y) * (the row's sum of g, up to ~30, rounded in another order than
    PyTorch's) came out up to 7e-6 from PyTorch's, past atol 2e-6: float32 rounding, not a defect of the path."""
    rng = np.random.default_rng([72, shape[-1], len(shape), len(op)])
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    rows = x.reshape(-1, shape[-1])
    rows[1, 3] = np.nan
    rows[2, :] = -np.inf
    rows[3, 5] = np.inf
    rows[4, :7] = -np.inf
    rows[5] = 50.0
    if op == 'cross_entropy':
        x = x.reshape(-1, shape[-1])[6:]
        target = rng.integers(0, shape[-1], x.shape[0])
        fn = lambda L, t: L.nn.functional.cross_entropy(t, L.tensor(target))   # noqa: E731
        g = np.float32(1.0)
    else:
        fn = lambda L, t: getattr(L, op)(t, -1)   # noqa: E731
        g = rng.standard_normal(x.shape).astype(np.float32)
    (ne, ye, ge), (nt, yt, gt) = (_run(lib, fn, x, g) for lib in (ember, torch))
    assert ne == nt
    np.testing.assert_allclose(ye, yt, rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(ge, gt, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('n,m,c,alpha', [(1000, 512, 256, 1), (40, 900, 7, 0.5), (6, 3, 5, 1), (50, 2000, 1, 2)])
def test_index_add_rows_onto_input_as_pytorch(dtype, n, m, c, alpha):
    """index_add along dim 0 with repeated indices (each row summed onto the input's row in index order, -0.0
    kept): values bitwise PyTorch's, gradients of both inputs as PyTorch's."""
    base = RNG.standard_normal((n, c)).astype(dtype)
    base[0, :2] = -0.0
    src = RNG.standard_normal((m, c)).astype(dtype)
    src[:3, :2] = -0.0
    ix = RNG.integers(0, n, m)
    ix[:3] = 0
    g = RNG.standard_normal((n, c)).astype(dtype)
    res = []
    for lib in (ember, torch):
        b, s = lib.tensor(base, requires_grad=True), lib.tensor(src, requires_grad=True)
        y = b.index_add(0, lib.tensor(ix), s, alpha=alpha)
        y.backward(lib.tensor(g))
        res.append((y.grad_fn.name(), y.detach().numpy(), b.grad.numpy(), s.grad.numpy()))
    (ne, ye, gbe, gse), (nt, yt, gbt, gst) = res
    assert ne == nt
    np.testing.assert_array_equal(ye, yt)
    np.testing.assert_array_equal(np.signbit(ye), np.signbit(yt))
    np.testing.assert_array_equal(gbe, gbt)
    np.testing.assert_array_equal(gse, gst)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_gather_scatter_add_last_dim_as_pytorch(dtype):
    """gather's backward and scatter_add along the last dim with repeated indices in each row (np.add.at on the
    flattened index): values and gradients bitwise PyTorch's."""
    x = RNG.standard_normal((300, 200)).astype(dtype)
    idx = RNG.integers(0, 200, (300, 64))
    g = RNG.standard_normal((300, 64)).astype(dtype)
    g2 = RNG.standard_normal((300, 200)).astype(dtype)
    res = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.gather(xt, 1, lib.tensor(idx))
        y.backward(lib.tensor(g))
        src = lib.tensor(x[:, :64].copy(), requires_grad=True)
        z = lib.tensor(x * 0.5, requires_grad=True)
        w = z.scatter_add(1, lib.tensor(idx), src)
        w.backward(lib.tensor(g2))
        res.append((y.detach().numpy(), xt.grad.numpy(), w.grad_fn.name(), w.detach().numpy(), src.grad.numpy(),
                    z.grad.numpy()))
    for e, t in zip(*res):
        if isinstance(e, str):
            assert e == t
        else:
            np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize('op,dtype', [('cumsum', np.float32), ('cumsum', np.float64), ('cumsum', np.float16),
                                      ('cumsum', np.complex64), ('cumprod', np.float32), ('cumprod', np.float64),
                                      ('cumprod', np.float16)])   # (ember does not differentiate a complex cumprod)
@pytest.mark.parametrize('shape,dim', [((64, 256), 1), ((64, 256), 0), ((3, 5, 7), 1), ((1000,), 0)])
def test_scans_accumulate_as_pytorch(op, dtype, shape, dim):
    """cumsum / cumprod and their gradients bitwise PyTorch's: its CPU running value is at::acc_type (float16 in
    float32, float32 in float64, complex64 in complex128), each output rounded from it."""
    x = RNG.standard_normal(shape) * (0.05 if op == 'cumprod' else 1) + (op == 'cumprod')
    if dtype == np.complex64:
        x = x + 1j * RNG.standard_normal(shape)
    x = x.astype(dtype)
    g = RNG.standard_normal(shape).astype(dtype)
    res = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y = getattr(lib, op)(t, dim)
        y.backward(lib.tensor(g))
        res.append((y.grad_fn.name(), y.detach().numpy(), t.grad.numpy()))
    (ne, ye, ge), (nt, yt, gt) = res
    assert ne == nt
    np.testing.assert_array_equal(ye, yt)
    np.testing.assert_array_equal(ge, gt)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('name', ['smooth_l1', 'huber', 'prelu'])
def test_select_blends_as_pytorch(name, dtype):
    """smooth_l1 / huber losses and prelu blended by bits (select) instead of np.where: values and gradients as
    PyTorch's at a realistic size, around the kinks and with signed zeros."""
    x = (RNG.standard_normal((8, 16, 24, 24)) * 2).astype(dtype)
    t = RNG.standard_normal(x.shape).astype(dtype)
    x.reshape(-1)[:6] = [0.0, -0.0, 1.0, -1.0, 0.7, 3.0]
    t.reshape(-1)[:6] = [0.0, 0.0, 0.0, 0.0, 0.0, 1.7]
    w = np.linspace(-0.5, 0.5, 16).astype(dtype)
    fns = {'smooth_l1': lambda L, a, b, c: L.nn.functional.smooth_l1_loss(a, b, reduction='none', beta=0.7),
           'huber': lambda L, a, b, c: L.nn.functional.huber_loss(a, b, reduction='none', delta=1.3),
           'prelu': lambda L, a, b, c: L.nn.functional.prelu(a, c)}
    g = RNG.standard_normal(x.shape).astype(dtype)
    res = []
    for lib in (ember, torch):
        a, b, c = (lib.tensor(v, requires_grad=True) for v in (x, t, w))
        y = fns[name](lib, a, b, c)
        y.backward(lib.tensor(g))
        res.append((y.grad_fn.name(), y.detach().numpy(), a.grad.numpy(),
                    (c if name == 'prelu' else b).grad.numpy()))
    (ne, *ve), (nt, *vt) = res
    assert ne == nt
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-13)
    for e, v in zip(ve[:2], vt[:2]):
        np.testing.assert_allclose(e, v, **tol)
    # prelu's weight gradient sums 4608 products a channel, in another order than PyTorch's
    np.testing.assert_allclose(ve[2], vt[2], rtol=1e-6, atol=1e-3 if dtype == np.float32 else 1e-10)
    np.testing.assert_array_equal(np.signbit(ve[0][ve[0] == 0]), np.signbit(vt[0][ve[0] == 0]))


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('shape,dim,keepdim', [((512, 256), 1, False), ((64, 32, 48), (0, 2), True), ((300,), None, False)])
def test_vector_norm_2_as_pytorch(shape, dim, keepdim, dtype):
    """The 2-norm and its gradient g * (x / norm) (0 where the norm is 0) against PyTorch, zero rows included,
    and float64 finite differences."""
    x = RNG.standard_normal(shape).astype(dtype)
    if len(shape) == 2:
        x[3] = 0.0
    check(lambda L, t: L.linalg.vector_norm(t, dim=dim, keepdim=keepdim), inputs=[x], gradcheck=False)
    check(lambda L, t: L.linalg.vector_norm(t, dim=dim, keepdim=keepdim), inputs=[x[..., :5].copy()])


@pytest.mark.parametrize('shape,k,largest', [((64, 8192), 5, True), ((40, 1000), 10, False), ((3, 50257), 50, True)])
def test_topk_by_threshold_as_pytorch(shape, k, largest):
    """topk of long rows (each row's k + 1 best found from the (k + 1)-th value): values and indices equal to
    PyTorch's, also with ties at the threshold, ties inside the k, NaN, and integer rows; the gradient too."""
    x = RNG.standard_normal(shape).astype(np.float32)
    x[1, :40] = x[1].max() if largest else x[1].min()     # a tie at and beyond the k-th
    x[2, 7] = np.nan
    cases = [x, RNG.integers(-30, 30, shape).astype(np.int64), np.round(x * 4)]
    for a in cases:
        e, t = ember.topk(ember.tensor(a), k, 1, largest), torch.topk(torch.from_numpy(a), k, 1, largest)
        np.testing.assert_array_equal(e.indices.numpy(), t.indices.numpy())
        np.testing.assert_array_equal(e.values.numpy(), t.values.numpy())
    g = RNG.standard_normal(shape[:1] + (k,)).astype(np.float32)
    grads = []
    for lib in (ember, torch):
        xt = lib.tensor(cases[0], requires_grad=True)
        lib.topk(xt, k, 1, largest).values.backward(lib.tensor(g))
        grads.append(xt.grad.numpy())
    np.testing.assert_array_equal(*grads)


def test_activation_blocks_on_two_threads_warn_as_one():
    """At 2 threads the blocks are shared with the pool's thread, under the caller's np.errstate: elu of large
    values (whose dropped lanes overflow) warns no more than at one thread, and gives PyTorch's values."""
    import warnings
    x = (RNG.standard_normal((8, 32, 32, 32)) * 100).astype(np.float32)
    g = RNG.standard_normal(x.shape).astype(np.float32)
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            ne, ye, ge = _run(ember, ACTS['selu'], x, g)
    finally:
        ember.set_num_threads(before)
    nt, yt, gt = _run(torch, ACTS['selu'], x, g)
    assert ne == nt
    np.testing.assert_allclose(ye, yt, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ge, gt, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('name', ['hardswish', 'hardsigmoid', 'leaky_relu', 'elu', 'selu', 'silu', 'mish', 'softplus',
                                  'gelu'])
def test_float16_activations_in_float32_as_pytorch(name):
    """float16 activations compute in float32 and round once, as PyTorch's CPU kernels: bitwise its values where
    the float32 formula is PyTorch's exactly (no transcendental), within a float16 rounding elsewhere."""
    x = (RNG.standard_normal(70000) * 3).astype(np.float16)
    g = RNG.standard_normal(70000).astype(np.float16)
    fn = lambda L, t: getattr(L.nn.functional, name)(t)   # noqa: E731
    (ne, ye, ge), (nt, yt, gt) = (_run(lib, fn, x, g) for lib in (ember, torch))
    assert ne == nt and ye.dtype == yt.dtype == ge.dtype == np.float16
    if name in ('hardswish', 'hardsigmoid', 'leaky_relu'):
        np.testing.assert_array_equal(ye, yt)
        np.testing.assert_array_equal(ge, gt)
    else:
        np.testing.assert_allclose(ye.astype(np.float32), yt.astype(np.float32), rtol=2e-3, atol=1e-4)
        np.testing.assert_allclose(ge.astype(np.float32), gt.astype(np.float32), rtol=2e-3, atol=1e-4)
