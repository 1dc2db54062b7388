"""group_norm's backward from per-plane sums (_gn_plane_grads) and its affine on repeated channel vectors
(_channel_affine), batch_norm's per-channel passes on rows of several samples (_row_samples), layer_norm by fixed blocks of rows on large inputs (_ln_large, _ln_grad_large), max_pool3d's NaN rule and bincount backward, and adaptive_max_pool2d's two 1-D passes
(_separable_argmax), against PyTorch and float64 finite differences."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.nn.functional import _norm, _pool
from helpers import check, assert_same

torch.set_num_threads(1)


def F(lib):
    return lib.nn.functional


GROUP_NORM = [  # (x shape, groups, affine)
    ((2, 6, 5, 4), 3, True),
    ((3, 8, 7), 2, True),            # 3-D input
    ((2, 4, 3, 3, 2), 4, False),     # 5-D, one channel a group, no affine
    ((4, 6), 3, True),               # planes of one value
    ((2, 8, 6, 6), 1, True),         # one group
]


@pytest.mark.parametrize('shape,groups,affine', GROUP_NORM, ids=str)
def test_group_norm_gradients(shape, groups, affine):
    c = shape[1]
    shapes = [shape] + ([(c,), (c,)] if affine else [])
    check(lambda L, x, *wb: F(L).group_norm(x, groups, *wb), *shapes, atol=1e-4)


@pytest.mark.parametrize('need', ['input', 'weight', 'bias'])
def test_group_norm_one_gradient(need):
    """One of input, weight and bias requires grad: its gradient matches PyTorch's, the others stay None."""
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((2, 6, 4, 5)).astype(np.float32) * 2 + 1, rng.standard_normal(6).astype(np.float32),
              rng.standard_normal(6).astype(np.float32)]
    g = rng.standard_normal((2, 6, 4, 5)).astype(np.float32)
    got = []
    for lib in (ember, torch):
        ts = [lib.tensor(a, requires_grad=n == need) for a, n in zip(arrays, ('input', 'weight', 'bias'))]
        F(lib).group_norm(ts[0], 3, ts[1], ts[2]).backward(lib.tensor(g))
        assert [t.grad is None for t in ts] == [n != need for n in ('input', 'weight', 'bias')]
        got.append(next(t.grad for t in ts if t.grad is not None))
    assert_same(got[0], got[1], 1e-4, 1e-4, f'grad of {need}')


@pytest.mark.parametrize('kw', [dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), dict(kernel_size=2, stride=1),
                                dict(kernel_size=(2, 3, 2), stride=1, dilation=(1, 2, 1))], ids=str)
def test_max_pool3d_nan_windows(kw):
    """Overlapping windows holding several NaNs and ties: PyTorch's kernel lets a later NaN take over (the last NaN
    wins) and keeps the first of equal maxima; values, indices and the input's gradient match."""
    x = np.random.default_rng(6).standard_normal((2, 3, 7, 9, 8)).astype(np.float32)
    x.reshape(-1)[::17] = np.nan
    x.reshape(-1)[5::23] = 1.0
    g = np.random.default_rng(7).standard_normal(
        tuple(torch.nn.functional.max_pool3d(torch.tensor(x), **kw).shape)).astype(np.float32)
    out = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y, idx = F(lib).max_pool3d(t, return_indices=True, **kw)
        y.backward(lib.tensor(g))
        out.append((y.detach().numpy(), idx.numpy(), t.grad.numpy()))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
    np.testing.assert_allclose(out[0][2], out[1][2], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('kw', [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)], ids=str)
def test_max_pool3d_gradients(kw):
    """Disjoint and overlapping windows (an input element the maximum of several): forward, indices' use in the
    backward, float64 gradcheck."""
    check(lambda L, x: F(L).max_pool3d(x, **kw), (2, 3, 4, 6, 5), atol=1e-5)


@pytest.mark.parametrize('shape,groups', [((8, 64, 16, 16), 8), ((4, 32, 9, 7), 32), ((1, 16, 12, 12), 4)], ids=str)
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_group_norm_affine_as_pytorch(shape, groups, dtype):
    """Realistic sizes (the affine on (N, C*HW) rows; one sample keeps the broadcast), an offset input, weight and
    bias per channel: forward, grad_fn and the three gradients within float rounding."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    wb = [rng.standard_normal(shape[1]).astype(dtype) for _ in range(2)]
    check(lambda L, x, w, b: F(L).group_norm(x, groups, w, b), inputs=[x] + wb, gradcheck=False,
          atol=1e-5 if dtype == np.float32 else 1e-12, rtol=1e-5 if dtype == np.float32 else 1e-12)


def _adaptive_max_both(x, size, g):
    """(values, indices, input gradient) of adaptive_max_pool2d in ember and in PyTorch."""
    out = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y, idx = F(lib).adaptive_max_pool2d(t, size, True)
        y.backward(lib.tensor(g))
        out.append((y.detach().numpy(), idx.numpy(), t.grad.numpy(), y.grad_fn.name()))
    return out


@pytest.mark.parametrize('shape,size', [((8, 64, 32, 32), 7), ((4, 128, 14, 14), (7, 5)), ((8, 512, 7, 7), 1),
                                        ((2, 256, 13, 11), (6, 8))], ids=str)
@pytest.mark.parametrize('kind', ['normal', 'ties', 'nan'])
def test_adaptive_max_pool2d_separable(shape, size, kind):
    """Sizes with at least _SEPARABLE_FROM windows: values, indices (first of equal maxima, PyTorch's row-major
    scan; a window holding NaN takes its last NaN, the per-window path), grad_fn and the input's gradient as
    PyTorch's. Ties: few distinct values, -0.0 beside 0.0, infinities."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal(shape).astype(np.float32)
    if kind != 'normal':
        x = rng.integers(-2, 2, shape).astype(np.float32)
        flat = x.reshape(-1)
        flat[::7] = -0.0
        flat[3::101] = np.inf
        flat[5::103] = -np.inf
        if kind == 'nan':
            flat[11::89] = np.nan
    size2 = (size, size) if isinstance(size, int) else size
    g = rng.standard_normal(shape[:2] + size2).astype(np.float32)
    (ye, ie, ge, ne), (yt, it, gt, nt) = _adaptive_max_both(x, size, g)
    assert ne == nt
    np.testing.assert_array_equal(ie, it)
    np.testing.assert_array_equal(ye, yt)
    np.testing.assert_array_equal(np.signbit(ye), np.signbit(yt))
    np.testing.assert_allclose(ge, gt, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('shape,size', [((2, 3, 7, 9), (3, 4)), ((1, 2, 8, 5), (5, 2)), ((3, 9, 6), 4)], ids=str)
def test_adaptive_max_pool2d_separable_gradients(monkeypatch, shape, size):
    """The separable path at small sizes (its threshold lowered): forward and indices' gradient against PyTorch,
    float64 gradcheck; a 3-D (unbatched) input too."""
    monkeypatch.setattr(_pool, '_SEPARABLE_FROM', 0)
    check(lambda L, x: F(L).adaptive_max_pool2d(x, size), shape, atol=1e-6)
    x = np.random.default_rng(13).integers(0, 3, shape).astype(np.float32)
    for e, t in zip(F(ember).adaptive_max_pool2d(ember.tensor(x), size, True),
                    F(torch).adaptive_max_pool2d(torch.tensor(x), size, True)):
        assert_same(e, t)


def _layer_norm_both(x, shape, w, b, g, libs=(ember, torch)):
    """(output, input gradient, weight gradient, bias gradient, grad_fn name) of layer_norm in each lib."""
    out = []
    for lib in libs:
        ts = [None if a is None else lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = F(lib).layer_norm(ts[0], shape, ts[1], ts[2])
        y.backward(lib.tensor(g))
        out.append([y.detach().numpy()] + [None if t is None else t.grad.numpy() for t in ts] + [y.grad_fn.name()])
    return out


@pytest.mark.parametrize('shape,affine', [((64, 197, 768), True), ((4, 1100, 1024), False)], ids=str)
def test_layer_norm_blocks_as_pytorch(shape, affine):
    """ViT-B's (64, 197, 768) (several blocks, a shorter last one) and rows of 1024 without affine: forward and
    gradients within float32 rounding of PyTorch's, its grad_fn, and the same values at two threads as at one."""
    rng = np.random.default_rng(14)
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    w, b = ([rng.standard_normal(shape[-1]).astype(np.float32) for _ in range(2)] if affine else (None, None))
    g = rng.standard_normal(shape).astype(np.float32)
    assert _norm._ln_blocks(x.reshape(-1, shape[-1])) is not None
    (ye, gxe, gwe, gbe, ne), (yt, gxt, gwt, gbt, nt) = _layer_norm_both(x, shape[-1:], w, b, g)
    assert ne == nt
    np.testing.assert_allclose(ye, yt, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gxe, gxt, rtol=1e-4, atol=1e-4)
    if affine:
        np.testing.assert_allclose(gwe, gwt, rtol=1e-4, atol=1e-2)     # sums over 12608 rows of size ~1
        np.testing.assert_allclose(gbe, gbt, rtol=1e-4, atol=1e-2)
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        two = _layer_norm_both(x, shape[-1:], w, b, g, (ember,))[0]
    finally:
        ember.set_num_threads(before)
    for a, c in zip([ye, gxe, gwe, gbe], two[:4]):
        if a is not None:
            np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize('shape,ns,params', [((5, 7, 6), (6,), 'wb'), ((3, 4, 3, 5), (3, 5), 'w'),
                                             ((41, 4), (4,), ''), ((6, 5, 4), (5, 4), 'b')], ids=str)
def test_layer_norm_blocks_gradients(monkeypatch, shape, ns, params):
    """Blocks of 16 rows (the threshold lowered; a shorter last block): PyTorch's values and float64 finite
    differences, with a weight and bias, either alone, or none, over one and two normalized dims."""
    monkeypatch.setattr(_norm, '_LN_BLOCKED_FROM', 0)
    monkeypatch.setattr(_norm, '_LN_BLOCK', 16)
    shapes = [shape] + [ns for p in params]

    def fn(L, x, *wb):
        it = iter(wb)
        w = next(it) if 'w' in params else None
        b = next(it) if 'b' in params else None
        return F(L).layer_norm(x, ns, w, b)
    check(fn, *shapes, atol=1e-5)



@pytest.mark.parametrize('shape,ns,params', [((12, 64, 128), (128,), 'wb'), ((3, 250, 12), (12,), 'w'),
                                             ((701, 24), (24,), 'b'), ((4, 160, 4, 8), (4, 8), 'wb')], ids=str)
def test_layer_norm_repeated_vector_rows(monkeypatch, shape, ns, params):
    """The affine and the weight's product on rows of several rows against the vector repeated (_row_op; GPT's
    (12, 64, 128), rows that no divisor groups (701 is prime), two normalized dims): the values of the plain
    broadcast bit for bit, PyTorch's to rounding, and float64 finite differences with the threshold lowered."""
    rng = np.random.default_rng(sum(shape))
    n = math.prod(ns)
    assert math.prod(shape) // n >= _norm._ROW_OP_MIN
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    w = rng.standard_normal(ns).astype(np.float32) if 'w' in params else None
    b = rng.standard_normal(ns).astype(np.float32) if 'b' in params else None
    g = rng.standard_normal(shape).astype(np.float32)
    (ye, gxe, gwe, gbe, ne), (yt, gxt, gwt, gbt, nt) = _layer_norm_both(x, ns, w, b, g)
    assert ne == nt
    np.testing.assert_allclose(ye, yt, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gxe, gxt, rtol=1e-4, atol=1e-4)
    for a, c in ((gwe, gwt), (gbe, gbt)):
        if a is not None:
            np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-3)
    monkeypatch.setattr(_norm, '_ROW_OP_MIN', 1 << 30)     # the plain broadcast
    plain = _layer_norm_both(x, ns, w, b, g, (ember,))[0]
    for a, c in zip([ye, gxe, gwe, gbe], plain[:4]):
        if a is not None:
            np.testing.assert_array_equal(a, c)
    monkeypatch.setattr(_norm, '_ROW_OP_MIN', 2)

    def fn(L, x, *wb):
        it = iter(wb)
        return F(L).layer_norm(x, (4,), next(it) if 'w' in params else None, next(it) if 'b' in params else None)
    check(fn, (6, 4), *[(4,) for p in params], atol=1e-5)

@pytest.mark.parametrize('shape,ns,params,dtype', [((12, 64, 128), (128,), 'wb', 'float32'),
                                                   ((5, 1), (1,), 'w', 'float64'), ((9, 7), [7], 'b', 'float32'),
                                                   ((3, 33), (33,), '', 'float64'), ((2, 3, 16), [16], 'wb', 'float64')],
                         ids=str)
def test_layer_norm_small_route(monkeypatch, shape, ns, params, dtype):
    """layer_norm's short routes (_ln_small, _ln_small_grads: last-dim rows under _LN_SPLIT_FROM bytes) take these
    inputs and give the general rows route's output, gradients and grad_fn bit for bit, and PyTorch's values to
    rounding."""
    rng = np.random.default_rng(len(shape) + shape[-1])
    n = shape[-1]
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    w = rng.standard_normal(n).astype(dtype) if 'w' in params else None
    b = rng.standard_normal(n).astype(dtype) if 'b' in params else None
    g = rng.standard_normal(shape).astype(dtype)
    ts = [None if a is None else ember.tensor(a) for a in (x, w, b)]
    assert _norm._ln_small(ts[0], ns, ts[1], ts[2], 1e-5) is not None
    (ye, gxe, gwe, gbe, ne), (yt, gxt, gwt, gbt, nt) = _layer_norm_both(x, ns, w, b, g)
    assert ne == nt
    np.testing.assert_allclose(ye, yt, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gxe, gxt, rtol=1e-4, atol=1e-4)
    for a, c in ((gwe, gwt), (gbe, gbt)):
        if a is not None:
            np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-4)
    monkeypatch.setattr(_norm, '_LN_SPLIT_FROM', 0)     # the general route (one thread: rows not split)
    before = ember.get_num_threads()
    ember.set_num_threads(1)
    try:
        assert _norm._ln_small(ts[0], ns, ts[1], ts[2], 1e-5) is None
        general = _layer_norm_both(x, ns, w, b, g, (ember,))[0]
    finally:
        ember.set_num_threads(before)
    assert general[4] == ne
    for a, c in zip([ye, gxe, gwe, gbe], general[:4]):
        if a is not None:
            assert a.dtype == c.dtype
            np.testing.assert_array_equal(a, c)


BN_ROWS = [  # (x shape, how the input gradient is laid out)
    ((6, 4, 3, 5), 'contiguous'),
    ((6, 4, 3, 5), 'transposed'),       # g not C-contiguous while x is: g goes in x's rows
    ((6, 4, 3, 5), 'channels_last'),    # x not C-contiguous: rows of one sample
    ((5, 3, 7), 'contiguous'),          # 3-D input, N prime
    ((8, 2, 2, 2), 'contiguous'),       # short planes (_SHORT_PLANE)
]


@pytest.mark.parametrize('shape,layout', BN_ROWS, ids=str)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_batch_norm_sample_rows(monkeypatch, shape, layout, dtype):
    """batch_norm's per-channel passes on rows of several samples (_norm._row_samples; _MIN_ROW lowered so that
    these small shapes take them): output, running stats and the three gradients, training and eval, bit for bit
    those of rows of one sample, and PyTorch's to rounding."""
    rng = np.random.default_rng(len(shape))
    x0, g0 = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype), rng.standard_normal(shape).astype(dtype)
    w0, b0 = rng.standard_normal(shape[1]).astype(dtype), rng.standard_normal(shape[1]).astype(dtype)

    def run(lib, training):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        if layout == 'channels_last':
            x = x.detach().to(memory_format=lib.channels_last).requires_grad_()
        rm, rv = lib.zeros(shape[1], dtype=x.dtype) + 0.25, lib.ones(shape[1], dtype=x.dtype) * 1.5
        y = lib.nn.functional.batch_norm(x, rm, rv, w, b, training)
        g = lib.tensor(g0)
        if layout == 'transposed':
            g = lib.tensor(np.ascontiguousarray(np.swapaxes(g0, 0, 1))).transpose(0, 1)
        y.backward(g)
        return [a.detach().numpy() for a in (y, x.grad, w.grad, b.grad, rm, rv)]
    for training in (True, False):
        want = run(torch, training)
        monkeypatch.setattr(_norm, '_MIN_ROW', 1)          # rows of one sample
        one = run(ember, training)
        monkeypatch.setattr(_norm, '_MIN_ROW', 10 ** 9)    # one row of all samples
        whole = run(ember, training)
        monkeypatch.setattr(_norm, '_MIN_ROW', 2 * math.prod(shape[1:]))
        assert _norm._row_samples(shape[0], math.prod(shape[1:])) == {6: 2, 5: 1, 8: 2}[shape[0]]
        two = run(ember, training)
        for a, b, c, t in zip(one, whole, two, want):
            np.testing.assert_array_equal(b, a)
            np.testing.assert_array_equal(c, a)
            np.testing.assert_allclose(a, t, rtol=1e-5, atol=1e-5)


def test_batch_norm_one_channel_block(monkeypatch):
    """A one-channel input that batch_norm's training forward takes by channel blocks (_SPLIT_BYTES lowered, two
    threads): its one block writes the output through rows of one sample, which a contiguous input's rows of several
    samples (_row_samples) must not replace. Output, running stats and gradients: one thread's bit for bit, and
    PyTorch's to rounding."""
    monkeypatch.setattr(_norm, '_SPLIT_BYTES', 0)
    rng = np.random.default_rng(9)
    x0, g0 = rng.standard_normal((6, 1, 9, 9)).astype(np.float32) * 2 + 0.5, rng.standard_normal((6, 1, 9, 9)).astype(
        np.float32)

    def run(lib):
        x = lib.tensor(x0, requires_grad=True)
        m = lib.nn.BatchNorm2d(1)
        y = m(x)
        y.backward(lib.tensor(g0))
        return [a.detach().numpy() for a in (y, x.grad, m.weight.grad, m.bias.grad, m.running_mean, m.running_var)]
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(2)
        if ember.get_num_threads() == 2:
            assert _norm._bn_blocks(x0, 1) == [(0, 1)]
        two = run(ember)
        ember.set_num_threads(1)
        one = run(ember)
    finally:
        ember.set_num_threads(before)
    for a, b, t in zip(two, one, run(torch)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, t, rtol=1e-5, atol=1e-5)
