"""grad_fn's saved attributes as PyTorch 2.13 exposes them (``_saved_self``, ``_saved_result``, ``_saved_alpha``,
``_raw_saved_*``...; torchviz's make_dot(show_attrs=True) reads them): the names (dir filtered to ``_saved``) and
the values, for activations, softmax, the *BackwardBackward0 nodes of their gradients, and convolutions."""
import numpy as np
import pytest
import torch

import ember

A = np.array([[-2.1, -0.7, 0.3, 1.2], [0.9, -1.4, 2.6, -0.2], [1.7, 0.45, -3.3, 0.8]])

OPS = {
    'elu': lambda F, x: F.elu(x, 0.5), 'selu': lambda F, x: F.selu(x), 'celu': lambda F, x: F.celu(x, 0.6),
    'leaky_relu': lambda F, x: F.leaky_relu(x, 0.3), 'leaky_relu_default': lambda F, x: F.leaky_relu(x),
    'hardtanh': lambda F, x: F.hardtanh(x), 'hardtanh_ints': lambda F, x: F.hardtanh(x, -2, 3),
    'relu6': lambda F, x: F.relu6(x), 'softplus': lambda F, x: F.softplus(x, 2.0),
    'softplus_default': lambda F, x: F.softplus(x), 'hardsigmoid': lambda F, x: F.hardsigmoid(x),
    'hardswish': lambda F, x: F.hardswish(x), 'threshold': lambda F, x: F.threshold(x, 0.5, -1.0),
    'threshold_ints': lambda F, x: F.threshold(x, 1, 2), 'hardshrink': lambda F, x: F.hardshrink(x, 0.4),
    'softshrink': lambda F, x: F.softshrink(x), 'silu': lambda F, x: F.silu(x), 'mish': lambda F, x: F.mish(x),
    'gelu': lambda F, x: F.gelu(x), 'gelu_tanh': lambda F, x: F.gelu(x, approximate='tanh'),
    'relu': lambda F, x: F.relu(x), 'tanh': lambda F, x: F.tanh(x), 'sigmoid': lambda F, x: F.sigmoid(x),
    'softmax': lambda F, x: F.softmax(x, 1), 'softmax_negative_dim': lambda F, x: F.softmax(x, -2),
    'log_softmax': lambda F, x: F.log_softmax(x, -1), 'softmin': lambda F, x: F.softmin(x, 0),
    'threshold_': lambda F, x: F.threshold_(x * 1, 0.5, 0.0),
    'leaky_relu_': lambda F, x: F.leaky_relu_(x * 1, 0.3),
    'elu_': lambda F, x: F.elu_(x * 1, 0.5), 'celu_': lambda F, x: F.celu_(x * 1, 0.6),
    'selu_': lambda F, x: F.selu_(x * 1), 'hardtanh_': lambda F, x: F.hardtanh_(x * 1, -1.0, 0.5),
    'glu': lambda F, x: F.glu(x), 'glu_dim1': lambda F, x: F.glu(x, 1),
    'prelu': lambda F, x: F.prelu(x, x.new_tensor([0.25])),
}


def _value(v):
    if hasattr(v, 'detach'):
        return ('tensor', tuple(v.shape), str(v.dtype).split('.')[-1], v.detach().numpy().tolist())
    return (type(v).__name__, tuple(v) if isinstance(v, (list, tuple)) else v)


def _attrs(node):
    """{name: value} of a node's _saved_ attributes; _raw_saved_ ones by name (their values are SavedTensors)."""
    out = {}
    for a in sorted(n for n in dir(node) if n.startswith(('_saved_', '_raw_saved_'))):
        out[a] = 'raw' if a.startswith('_raw_') else _value(getattr(node, a))
    return out


def _nodes(L, name, second):
    x = L.tensor(A, requires_grad=True)
    y = OPS[name](L.nn.functional, x)
    if not second:
        return y.grad_fn
    g, = L.autograd.grad((y * y).sum(), x, create_graph=True)
    node = g.grad_fn
    while node is not None and node.name() in ('MulBackward0', 'AddBackward0'):   # the in-place ones' x * 1
        node = node.next_functions[0][0]
    return node


@pytest.mark.parametrize('second', [False, True])     # the op's node, its gradient's (under create_graph)
@pytest.mark.parametrize('name', list(OPS))
def test_saved_attributes_as_pytorch(name, second):
    t, e = _nodes(torch, name, second), _nodes(ember, name, second)
    assert (e is None) == (t is None)
    if t is None:
        return
    assert e.name() == t.name()
    ea, ta = _attrs(e), _attrs(t)
    assert list(ea) == list(ta)
    for k, tv in ta.items():
        ev = ea[k]
        if tv[0] == 'tensor':   # values to float64 rounding (ember's tanh, sigmoid, softmax differ in a last bit)
            assert ev[:3] == tv[:3]
            np.testing.assert_allclose(ev[3], tv[3], rtol=1e-14, atol=1e-16)
        else:
            assert ev == tv, k


def test_saved_tensors_are_the_inputs_and_outputs():
    x = ember.tensor(A, requires_grad=True)
    y = ember.nn.functional.elu(x, 0.5)
    assert y.grad_fn._saved_self is x
    s = ember.softmax(x, 1)
    assert s.grad_fn._saved_result.equal(s)
    g, = ember.autograd.grad((s * s).sum(), x, create_graph=True)
    assert g.grad_fn._saved_output.equal(s)
    assert g.grad_fn._raw_saved_grad_output.data.shape == (3, 4)


@pytest.mark.parametrize('fn,kw', [('conv2d', dict(stride=2, padding=1)), ('conv1d', dict(dilation=2)),
                                   ('conv_transpose2d', dict(stride=2, output_padding=1))])
def test_convolution_saved_attributes_as_pytorch(fn, kw):
    res = []
    for L in (torch, ember):
        r = np.random.RandomState(0)
        x = L.tensor(r.randn(2, 3, 6, 6)[..., 0] if fn == 'conv1d' else r.randn(2, 3, 6, 6), requires_grad=True)
        w = L.tensor(r.randn(3, 4, 3) if fn == 'conv1d' else r.randn(3, 4, 3, 3), requires_grad=True)
        if fn == 'conv1d':
            w = w.transpose(0, 1)
        elif fn == 'conv2d':
            w = w.transpose(0, 1)
        y = getattr(L.nn.functional, fn)(x, w, None, **kw)
        a = _attrs(y.grad_fn)
        res.append({k: (v[:3] + (np.round(v[3], 12).tolist(),) if v[0] == 'tensor' else v) for k, v in a.items()})
    assert res[1] == res[0]


CORE = {
    'clamp': lambda L, m: m.clamp(-1, 1.5), 'clamp_min_only': lambda L, m: m.clamp(min=-1),
    'clamp_min': lambda L, m: L.clamp_min(m, -1), 'clamp_max': lambda L, m: L.clamp_max(m, 1.0),
    'sum_dim': lambda L, m: m.sum(1, keepdim=True), 'sum_negative': lambda L, m: m.sum(-1),
    'sum_empty_list': lambda L, m: m.sum(dim=[]), 'sum_all': lambda L, m: m.sum(),
    'mean_dims': lambda L, m: m.mean(dim=(0, -1)), 'mean_all': lambda L, m: m.mean(),
    'cat': lambda L, m: L.cat([m, m], 1), 'cat_negative': lambda L, m: L.cat([m, m * 2], -1),
    'transpose': lambda L, m: m.transpose(1, -2), 'swapaxes': lambda L, m: m.swapaxes(0, 1),
    'add_alpha': lambda L, m: L.add(m, m.exp(), alpha=2), 'add_alpha_float': lambda L, m: L.add(m, m.exp(), alpha=2.5),
    'add': lambda L, m: m + m.exp(), 'sub_alpha': lambda L, m: L.sub(m, m.exp(), alpha=3),
    'add_number_alpha': lambda L, m: L.add(m, 2, alpha=3), 'rsub_alpha': lambda L, m: L.rsub(m, m.exp(), alpha=2),
}


@pytest.mark.parametrize('name', list(CORE))
def test_core_saved_attributes_as_pytorch(name):
    res = []
    for L in (torch, ember):
        m = L.tensor(A, requires_grad=True)
        a = _attrs(CORE[name](L, m).grad_fn)
        res.append({k: (v[:3] + (np.round(v[3], 12).tolist(),) if v[0] == 'tensor' else v) for k, v in a.items()})
    assert res[1] == res[0]


PRODUCTS = {
    'mm': lambda L, m, n, b, s: L.mm(m, n), 'matmul': lambda L, m, n, b, s: m @ n,
    'mm_fixed_self': lambda L, m, n, b, s: L.mm(m.detach(), n), 'mm_fixed_mat2': lambda L, m, n, b, s: L.mm(m, n.detach()),
    'mm_transposed': lambda L, m, n, b, s: L.mm(n.t(), m.t()),
    'addmm': lambda L, m, n, b, s: L.addmm(b, m, n, beta=0.5, alpha=2.0), 'addmm_default': lambda L, m, n, b, s: L.addmm(b, m, n),
    'addmm_fixed': lambda L, m, n, b, s: L.addmm(b.detach(), m, n.detach(), alpha=2),
    'stack_matmul': lambda L, m, n, b, s: s @ n,
}


@pytest.mark.parametrize('name', list(PRODUCTS))
def test_product_saved_attributes_as_pytorch(name):
    res = []
    for L in (torch, ember):
        r = np.random.RandomState(0)
        args = [L.tensor(r.randn(*shape), requires_grad=True) for shape in ((3, 4), (4, 5), (5,), (2, 3, 4))]
        node = PRODUCTS[name](L, *args).grad_fn
        while node.name() not in ('MmBackward0', 'AddmmBackward0'):    # (the stack's product under its view)
            node = node.next_functions[0][0]
        a = _attrs(node)
        res.append((node.name(), {k: (v[:3] + (np.round(v[3], 12).tolist(),) if v[0] == 'tensor' else v)
                                  for k, v in a.items()}))
    assert res[1] == res[0]


@pytest.mark.parametrize('kw', [{}, {'padding_idx': 1}, {'padding_idx': -1}, {'scale_grad_by_freq': True},
                                {'sparse': True}, {'max_norm': 1.0}])
def test_embedding_saved_attributes_as_pytorch(kw):
    res = []
    for L in (torch, ember):
        w = L.tensor(np.random.RandomState(0).randn(5, 3), requires_grad=True)
        node = L.nn.functional.embedding(L.tensor([[0, 2], [1, 1]]), w, **kw).grad_fn
        res.append((node.name(), _attrs(node)))
    assert res[1] == res[0]
