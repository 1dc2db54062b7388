"""Ops added for programs that use them (issue 12): histc/histogram binning on many values and on bin edges,
cdist's two paths and its double backward, torch.svd's forms; each compared with PyTorch."""
import numpy as np
import pytest
import torch

import ember
from helpers import assert_same, check

RNG = np.random.default_rng(0)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_histc_and_histogram_bin_many_values_as_pytorch(dtype):
    # values on and next to the edges of 7 bins, where one division in the input's dtype can misplace them
    x = np.concatenate([RNG.normal(size=600), np.linspace(-1, 2, 701), np.nextafter(np.linspace(-1, 2, 8), 5)])
    x = x.astype(dtype)
    for args, kw in [((7,), {}), ((7, -1, 2), {}), ((13, 0.1, 0.7), {})]:
        assert_same(ember.histc(ember.tensor(x), *args, **kw), torch.histc(torch.tensor(x), *args, **kw))
    w = RNG.uniform(size=x.shape).astype(dtype)
    for kw in [dict(bins=7, range=(-1., 2.)), dict(bins=11), dict(bins=5, weight=True, density=True)]:
        kw_e, kw_t = dict(kw), dict(kw)
        if kw.get('weight'):
            kw_e['weight'], kw_t['weight'] = ember.tensor(w), torch.tensor(w)
        e, t = ember.histogram(ember.tensor(x), **kw_e), torch.histogram(torch.tensor(x), **kw_t)
        assert_same(e.hist, t.hist, atol=1e-6, rtol=1e-5)
        assert_same(e.bin_edges, t.bin_edges, atol=0, rtol=0)
        assert repr(ember.histogram(ember.tensor([1., 2.]), 2)) == repr(torch.histogram(torch.tensor([1., 2.]), 2))


def test_histogram_records_no_derivative_as_pytorch():
    for lib in (ember, torch):
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        h = lib.histogram(x, 3)
        assert h.hist.grad_fn.name() == h.bin_edges.grad_fn.name() == 'torch::autograd::NotImplemented'
        with pytest.raises(RuntimeError, match='derivative for aten::histogram is not implemented'):
            h.hist.sum().backward()
        assert not lib.histc(x, 3).requires_grad


def test_cdist_paths_and_double_backward():
    # the matrix-product path (p=2, more than 25 rows) records EuclideanDistBackward0 under a view, and has a
    # second derivative; the direct path's backward has none in PyTorch
    check(lambda T, a, b: T.cdist(a, b), (27, 3), (4, 3), gradgrad=True)
    check(lambda T, a, b: T.cdist(a, b, compute_mode='use_mm_for_euclid_dist'), (2, 3, 3), (4, 3), gradgrad=True)
    for lib in (ember, torch):
        x = lib.tensor(RNG.normal(size=(3, 2)), requires_grad=True)
        d = lib.cdist(x, lib.tensor(RNG.normal(size=(4, 2))))
        assert d.grad_fn.name() == 'CdistBackward0'
        g, = lib.autograd.grad(d.sum(), x, create_graph=True)
        with pytest.raises(RuntimeError, match="the derivative for '_cdist_backward' is not implemented"):
            g.sum().backward()


def test_svd_forms_as_pytorch():
    a = RNG.normal(size=(4, 3)).astype(np.float32)
    for some in (True, False):
        e, t = ember.svd(ember.tensor(a), some=some), torch.svd(torch.tensor(a), some=some)
        assert [tuple(x.shape) for x in e] == [tuple(x.shape) for x in t]
        assert_same(e.S, t.S)
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        u, s, v = lib.svd(x)
        names = [u.grad_fn.name(), s.grad_fn.name(), v.grad_fn.name()]
        if lib is ember:
            got = names
    assert got == names
    assert repr(ember.svd(ember.eye(2))) == repr(torch.svd(torch.eye(2)))


def test_histograms_of_bfloat16_and_float16():
    """PyTorch bins these (histc, and histogram given a range or edges) and refuses histogram's own range."""
    x = RNG.uniform(-1, 1, 300).astype(np.float32)
    for name in ('bfloat16', 'float16'):
        e, t = ember.tensor(x).to(getattr(ember, name)), torch.tensor(x).to(getattr(torch, name))
        pairs = [(ember.histc(e, 7, -1, 1), torch.histc(t, 7, -1, 1)), (ember.histc(e, 5), torch.histc(t, 5)),
                 *zip(ember.histogram(e, 6, range=(-1., 1.)), torch.histogram(t, 6, range=(-1., 1.)))]
        edges = np.array([-1, -.3, .2, 1], np.float32)
        pairs.append((ember.histogram(e, ember.tensor(edges).to(e.dtype)).hist,
                      torch.histogram(t, torch.tensor(edges).to(t.dtype)).hist))
        for a, b in pairs:
            assert str(a.dtype) == str(b.dtype)
            assert_same(a.float(), b.float(), atol=0, rtol=0)
        for lib, v in ((ember, e), (torch, t)):
            with pytest.raises(NotImplementedError, match='"histogramdd" not implemented for'):
                lib.histogram(v, 3)


def test_linspace_of_bfloat16_and_float16_rounds_each_step():
    """PyTorch's linspace computes these types in the type itself (histogram's edges come from it)."""
    rng = np.random.default_rng(2)
    for name in ('bfloat16', 'float16'):
        for _ in range(40):
            a, b = sorted(rng.uniform(-5, 5, 2))
            n = int(rng.integers(1, 40))
            e = ember.linspace(a, b, n, dtype=getattr(ember, name)).float().numpy()
            t = torch.linspace(a, b, n, dtype=getattr(torch, name)).float().numpy()
            np.testing.assert_array_equal(e, t)


def test_3d_layers_as_pytorch():
    """Conv3d (seeded init, padding modes), MaxPool3d, AvgPool3d and AdaptiveAvgPool3d: reprs, values, grads."""
    x = RNG.uniform(-1, 1, (2, 3, 5, 6, 5)).astype(np.float32)
    layers = ["Conv3d(3, 4, (2, 3, 2), stride=(1, 2, 1), padding=1)", "Conv3d(3, 6, 3, groups=3, bias=False)",
              "Conv3d(3, 2, 3, padding=1, padding_mode='circular')", "MaxPool3d(2)", "MaxPool3d(3, 2, 1, ceil_mode=True)",
              "AvgPool3d(2, count_include_pad=False, padding=1)", "AdaptiveAvgPool3d((2, None, 3))"]
    for spec in layers:
        outs = []
        for lib in (ember, torch):
            lib.manual_seed(0)
            m = eval('lib.nn.' + spec)
            xt = lib.tensor(x, requires_grad=True)
            y = m(xt)
            y.backward(lib.ones_like(y))
            outs.append((repr(m), y, xt.grad, y.grad_fn.name()))
        assert outs[0][0] == outs[1][0] and outs[0][3] == outs[1][3], spec
        assert_same(outs[0][1], outs[1][1])
        assert_same(outs[0][2], outs[1][2])


def test_histogramdd_as_pytorch():
    """Counts, weights, density, ranges and edge tensors per dimension, and the recorded (not differentiable) node."""
    got = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        x = lib.randn(500, 3)
        results = [lib.histogramdd(lib.tensor([[0., 1.], [1., 0.], [2., 0.], [2., 2.]]), bins=[3, 3],
                                   weight=lib.tensor([1., 2., 4., 8.])),
                   lib.histogramdd(lib.tensor([[0., 0.], [1., 1.], [2., 2.]]), bins=[2, 2], range=[0., 1., 0., 1.],
                                   density=True),
                   lib.histogramdd(x, bins=[4, 5, 3], density=True), lib.histogramdd(x, bins=4),
                   lib.histogramdd(x[:, :2], bins=[lib.tensor([-1., 0., 0.5, 2.]), lib.tensor([-3., 0., 3.])]),
                   lib.histogramdd(lib.randn(2, 50, 2, dtype=lib.float64), bins=3)]
        got.append([[r.hist.numpy()] + [e.numpy() for e in r.bin_edges] for r in results])
        r = lib.histogramdd(lib.randn(10, 2, requires_grad=True), bins=3)
        with pytest.raises(RuntimeError, match='derivative for aten::_histogramdd_from_bin_cts is not implemented'):
            r.hist.sum().backward()
        got[-1].append(repr(results[0]).replace('torch', 'T'))
    for e, t in zip(got[1][:-1], got[0][:-1]):
        for ea, ta in zip(e, t):
            assert ea.dtype == ta.dtype
            np.testing.assert_allclose(ea, ta, rtol=1e-6)
    assert got[1][-1] == got[0][-1]
