"""A convolution's gradients under create_graph=True as PyTorch 2.13 records them: one ConvolutionBackwardBackward0
over (grad_output, input, weight) with the input, weight and bias gradients as its outputs 0, 1, 2, for conv1d/2d/3d
and conv_transpose1d/2d/3d with stride, padding, dilation and groups; the second derivatives against PyTorch and
gradgradcheck in float64, and the node's saved attributes."""
import numpy as np
import pytest
import torch

import ember
from helpers import walk_graph
from ember.autograd.gradcheck import gradcheck, gradgradcheck

# name: (function, input shape, weight shape, keyword arguments)
CASES = {
    'conv1d': ('conv1d', (2, 4, 9), (6, 2, 3), dict(stride=2, padding=1, dilation=1, groups=2)),
    'conv1d_same': ('conv1d', (2, 3, 8), (4, 3, 4), dict(padding='same', dilation=1)),
    'conv2d': ('conv2d', (2, 3, 6, 5), (4, 3, 3, 3), dict(padding=1)),
    'conv2d_strided': ('conv2d', (2, 4, 7, 8), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                                                                  groups=2)),
    'conv2d_same_even': ('conv2d', (1, 2, 6, 6), (3, 2, 2, 4), dict(padding='same')),
    'conv3d': ('conv3d', (2, 2, 4, 5, 4), (3, 2, 2, 3, 2), dict(stride=(1, 2, 1), padding=1)),
    'conv3d_groups': ('conv3d', (1, 4, 5, 4, 4), (4, 2, 3, 2, 2), dict(dilation=(1, 2, 1), groups=2)),
    'conv_transpose1d': ('conv_transpose1d', (2, 4, 5), (4, 3, 3), dict(stride=2, padding=1, output_padding=1,
                                                                         groups=2)),
    'conv_transpose2d': ('conv_transpose2d', (2, 3, 4, 3), (3, 2, 3, 2), dict(stride=2, padding=(1, 0),
                                                                               output_padding=(1, 0), dilation=1)),
    'conv_transpose2d_dil': ('conv_transpose2d', (1, 4, 3, 4), (4, 1, 2, 3), dict(dilation=(2, 1), groups=2)),
    'conv_transpose3d': ('conv_transpose3d', (1, 2, 3, 2, 3), (2, 3, 2, 2, 3), dict(stride=(2, 1, 2), padding=1,
                                                                                     output_padding=(1, 0, 0))),
}


def _args(L, name, bias=True, need=(True, True, True), seed=0):
    fn, xs, ws, kw = CASES[name]
    r = np.random.RandomState(seed)
    out_ch = ws[1] * kw.get('groups', 1) if 'transpose' in fn else ws[0]
    x = L.tensor(r.randn(*xs), requires_grad=need[0])
    w = L.tensor(r.randn(*ws), requires_grad=need[1])
    b = L.tensor(r.randn(out_ch), requires_grad=need[2]) if bias else None
    return getattr(L.nn.functional, fn), x, w, b, kw



def _run(L, name, need, bias=True):
    """(graphs and output numbers of the first gradients, first and second gradients' values)."""
    fn, x, w, b, kw = _args(L, name, bias, need)
    y = fn(x, w, b, **kw)
    leaves = [t for t in (x, w, b) if t is not None and t.requires_grad]
    gs = L.autograd.grad((y ** 3).sum(), leaves, create_graph=True)
    hs = L.autograd.grad(sum((g ** 3).sum() for g in gs), leaves, allow_unused=True)
    graphs = [(walk_graph(g.grad_fn, 3), g.output_nr) for g in gs]
    return graphs, [g.detach().numpy() for g in gs] + [None if h is None else h.numpy() for h in hs]


def _close(e, t):
    """Equal to float64 rounding of sums of differently ordered products (relative to the largest value)."""
    np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-11 * max(1.0, np.abs(t).max()))


NEEDS = [(True, True, True), (True, False, False), (False, True, False), (False, False, True), (True, True, False)]


@pytest.mark.parametrize('need', NEEDS)
@pytest.mark.parametrize('name', list(CASES))
def test_double_backward_one_node_as_pytorch(name, need):
    tg, tv = _run(torch, name, need)
    eg, ev = _run(ember, name, need)
    assert eg == tg
    for e, t in zip(ev, tv):
        assert (e is None) == (t is None)
        if t is not None:
            _close(e, t)


@pytest.mark.parametrize('name', ['conv2d', 'conv1d', 'conv3d', 'conv_transpose2d'])
def test_double_backward_without_bias_as_pytorch(name):
    tg, tv = _run(torch, name, (True, True, False), bias=False)
    eg, ev = _run(ember, name, (True, True, False), bias=False)
    assert eg == tg
    for e, t in zip(ev, tv):
        _close(e, t)


@pytest.mark.parametrize('name', list(CASES))
def test_gradgradcheck(name):
    fn, x, w, b, kw = _args(ember, name)
    assert gradgradcheck(lambda x, w, b: fn(x, w, b, **kw), (x, w, b))


@pytest.mark.parametrize('name', ['conv2d_strided', 'conv_transpose2d', 'conv3d', 'conv1d'])
def test_third_derivative_gradcheck(name):
    """The double-backward node's gradients, recorded again, are right too."""
    fn, x, w, b, kw = _args(ember, name)

    def second(x, w, b):
        gs = ember.autograd.grad((fn(x, w, b, **kw) ** 2).sum(), (x, w, b), create_graph=True)
        return ember.autograd.grad(sum((g * g).sum() for g in gs), (x, w), create_graph=True)
    assert gradcheck(second, (x, w, b))


@pytest.mark.parametrize('name', ['conv2d_strided', 'conv1d', 'conv_transpose2d', 'conv3d', 'conv_transpose3d'])
def test_double_backward_saved_attributes_as_pytorch(name):
    res = []
    for L in (torch, ember):
        fn, x, w, b, kw = _args(L, name)
        g, = L.autograd.grad((fn(x, w, b, **kw) ** 2).sum(), x, create_graph=True)
        node = g.grad_fn
        names = sorted(n for n in dir(node) if n.startswith('_saved_'))
        vals = [getattr(node, n) for n in names]
        res.append((names, [v.detach().numpy() if hasattr(v, 'detach') else v for v in vals]))
        assert node._saved_input is x and node._saved_weight is w
    (tn, tv), (en, ev) = res
    assert en == tn
    for e, t in zip(ev, tv):
        if isinstance(t, np.ndarray):
            np.testing.assert_allclose(e, t, rtol=1e-12)
        else:
            assert tuple(e) == tuple(t) if isinstance(t, (tuple, list)) else e == t
