"""The backward graph has PyTorch's shape where tutorials print it (issue 10): grad_fn names and
next_functions chains of F.linear / nn.Linear for every input rank, cross_entropy, and the in-place
shape ops; gradients through the new graph equal PyTorch's."""
import numpy as np
import pytest
import torch

import ember


def chain(fn):
    """A grad_fn and everything under it, as nested names with output numbers."""
    if fn is None:
        return 'None'
    return fn.name() + '(' + ', '.join(chain(c) + (f':{n}' if n else '') for c, n in fn.next_functions) + ')'


LINEAR = [(shape, x_grad, bias) for shape in [(3,), (2, 3), (5, 2, 3), (2, 2, 2, 3)]
          for x_grad in (False, True) for bias in (True, False)]


@pytest.mark.parametrize('shape,x_grad,bias', LINEAR)
def test_linear_graph_and_gradients(shape, x_grad, bias):
    res = []
    w0 = (np.arange(12.).reshape(4, 3) / 7).astype(np.float32)
    x0 = np.linspace(-1, 1, int(np.prod(shape))).reshape(shape).astype(np.float32)
    for lib in (ember, torch):
        w = lib.tensor(w0, requires_grad=True)
        b = lib.tensor(np.arange(4.).astype(np.float32), requires_grad=True)
        x = lib.tensor(x0, requires_grad=x_grad)
        y = lib.nn.functional.linear(x * 1 if x_grad else x, w, b if bias else None)
        (y * y).sum().backward()
        res.append((chain(y.grad_fn), w.grad.numpy(), b.grad.numpy() if bias else 0, x.grad.numpy() if x_grad else 0))
    assert res[0][0] == res[1][0]
    for e, t in zip(res[0][1:], res[1][1:]):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


def test_linear_module_blitz_print():
    """The 60-minute blitz prints loss.grad_fn and two steps of next_functions."""
    out = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        net = lib.nn.Linear(3, 2)
        loss = lib.nn.MSELoss()(net(lib.ones(4, 3)), lib.zeros(4, 2))
        fn = loss.grad_fn
        out.append([fn.name(), fn.next_functions[0][0].name(),
                    [f.name() if f else None for f, _ in fn.next_functions[0][0].next_functions],
                    chain(fn)])
    assert out[0] == out[1]


@pytest.mark.parametrize('frozen', ['weight', 'bias', 'input_only'])
def test_linear_graph_with_frozen_parameters(frozen):
    chains = []
    for lib in (ember, torch):
        w = lib.ones(2, 3, requires_grad=frozen != 'weight' and frozen != 'input_only')
        b = lib.ones(2, requires_grad=frozen != 'bias' and frozen != 'input_only')
        x = lib.ones(4, 3, requires_grad=frozen == 'input_only')
        chains.append(chain(lib.nn.functional.linear(x, w, b).grad_fn))
    assert chains[0] == chains[1]


CE = [((4, 3), [0, 2, 1, 2]), ((3,), 1), ((2, 3, 2, 2), [[[0, 1], [2, 0]], [[1, 1], [0, 2]]]),
      ((2, 3, 4), [[0, 1, 2, 1], [2, 2, 0, 1]]), ((2, 3, 1, 2, 2), [[[[0, 1], [2, 0]]], [[[1, 1], [0, 2]]]])]


@pytest.mark.parametrize('shape,target', CE)
@pytest.mark.parametrize('kw', [{}, {'reduction': 'none'}, {'reduction': 'sum'}, {'weight': True},
                                {'ignore_index': 2}])
def test_cross_entropy_records_nll_of_log_softmax(shape, target, kw):
    x0 = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        k = dict(kw)
        if 'weight' in k:
            k['weight'] = lib.tensor([1., 2., .5])
        loss = lib.nn.functional.cross_entropy(x, lib.tensor(target), **k)
        loss.sum().backward()
        res.append((chain(loss.grad_fn), loss.detach().numpy(), x.grad.numpy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-5, atol=1e-6)


def test_cross_entropy_module():
    for lib in (ember, torch):
        loss = lib.nn.CrossEntropyLoss()(lib.ones(2, 3, requires_grad=True), lib.tensor([0, 1]))
        assert chain(loss.grad_fn) == 'NllLossBackward0(LogSoftmaxBackward0(torch::autograd::AccumulateGrad()))'


INPLACE = {'unsqueeze_': lambda y: y.unsqueeze_(0), 'squeeze_': lambda y: y.squeeze_(),
           'squeeze_dim': lambda y: y.squeeze_(0), 'squeeze_dims': lambda y: y.squeeze_((0, 2)),
           't_': lambda y: y.t_(), 'transpose_': lambda y: y.transpose_(0, 1)}


@pytest.mark.parametrize('op', list(INPLACE))
def test_inplace_shape_ops_are_named_as_pytorch(op):
    res = []
    for lib in (ember, torch):
        x = lib.ones(1, 2, 1, requires_grad=True) if 'squeeze' in op else lib.ones(2, 3, requires_grad=True)
        y = x * 2
        INPLACE[op](y)
        (y * y).sum().backward()
        res.append((y.grad_fn.name(), x.grad.numpy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_allclose(res[0][1], res[1][1])


def _one_node_cases(lib):
    """Ops PyTorch records as one node over their inputs (ember composes them of other ops under that node)."""
    F = lib.nn.functional
    x = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4).astype(np.float32), requires_grad=True)
    y = lib.tensor(np.linspace(2, 0, 12).reshape(3, 4).astype(np.float32), requires_grad=True)
    w = lib.tensor(np.linspace(-1, 1, 10).reshape(5, 2).astype(np.float32), requires_grad=True)
    a = lib.tensor(np.triu(np.arange(1., 10.).reshape(3, 3)).astype(np.float32), requires_grad=True)
    return {
        'dist': lib.dist(x, y, 3), 'pdist': F.pdist(x), 'pairwise_distance': F.pairwise_distance(x, y.detach()),
        'mvlgamma': lib.mvlgamma(x.abs() + 3, 2),
        'multi_margin_loss': F.multi_margin_loss(x, lib.tensor([1, 0, 3])),
        'multilabel_margin_loss': F.multilabel_margin_loss(x, lib.tensor([[3, 0, -1, 1], [1, 2, 3, -1], [0, -1, 2, 2]])),
        'embedding_bag': F.embedding_bag(lib.tensor([[1, 2], [4, 0]]), w, mode='sum'),
        'embedding_bag psw': F.embedding_bag(lib.tensor([[1, 2], [4, 0]]), w, mode='sum',
                                             per_sample_weights=lib.tensor([[0.5, 2.0], [1.0, -1.0]], requires_grad=True)),
        'embedding_bag 1-D max': F.embedding_bag(lib.tensor([1, 2, 4, 0, 3]), w, lib.tensor([0, 2]), mode='max'),
        'bilinear': F.bilinear(x, y, lib.ones(2, 4, 4, requires_grad=True)),
        'bilinear bias': F.bilinear(x, y, lib.ones(2, 4, 4), lib.ones(2, requires_grad=True)),
        'solve_triangular left=False': lib.linalg.solve_triangular(a, y[:, :3] * 1, upper=True, left=False)}


def test_one_node_ops_have_pytorchs_graph_and_gradients():
    got = {}
    for lib in (ember, torch):
        outs = _one_node_cases(lib)
        got[lib] = {k: chain(v.grad_fn) for k, v in outs.items()}
        grads = lib.autograd.grad([v.sum() for v in outs.values()],
                                  [t for t in _leaves(outs.values())], allow_unused=True)
        got[lib]['grads'] = [None if g is None else g.detach().numpy().round(4).tolist() for g in grads]
    assert got[ember] == got[torch]


def _leaves(outs):
    """The leaves under ``outs``, in the order of a depth-first walk of their graphs (the same in both libraries)."""
    seen, found = set(), []

    def walk(fn):
        if fn is None or id(fn) in seen:
            return
        seen.add(id(fn))
        if hasattr(fn, 'variable'):
            found.append(fn.variable)
        for c, _ in fn.next_functions:
            walk(c)
    for o in outs:
        walk(o.grad_fn)
    return found


def test_a_one_node_op_sees_an_inplace_change_of_its_input():
    for lib in (ember, torch):
        x = lib.ones(3, 4, requires_grad=True)
        x2 = x * 1
        d = lib.nn.functional.pdist(x2)
        x2.mul_(2)
        with pytest.raises(RuntimeError):
            d.sum().backward()


SCALAR_ARGUMENTS = {
    '2 - x': lambda lib, x, y: 2 - x, 'rsub': lambda lib, x, y: lib.rsub(x, 2), 'x ** 2': lambda lib, x, y: x ** 2,
    '2 ** x': lambda lib, x, y: 2 ** x, 'x ** 0.5': lambda lib, x, y: x.abs() ** 0.5,
    'x + 2': lambda lib, x, y: x + 2, '2 * x': lambda lib, x, y: 2 * x, 'x / 2': lambda lib, x, y: x / 2,
    'addcmul': lambda lib, x, y: lib.addcmul(x, y, y, value=2), 'addcdiv': lambda lib, x, y: lib.addcdiv(x, y, y),
    'lerp number': lambda lib, x, y: lib.lerp(x, y, 0.3), 'lerp tensor': lambda lib, x, y: lib.lerp(x, y, y),
    'clamp number': lambda lib, x, y: x.clamp(0, 1), 'clamp min tensor': lambda lib, x, y: x.clamp(min=y),
    'where number': lambda lib, x, y: lib.where(x > 0, x, 0.0), 'sub alpha': lambda lib, x, y: x.sub(y, alpha=2),
}


@pytest.mark.parametrize('name', SCALAR_ARGUMENTS)
def test_number_arguments_have_the_edges_pytorch_records(name):
    """A Scalar argument of PyTorch's (rsub's, pow's, lerp's weight, addcmul's value) has no edge; a number that
    PyTorch wraps as a tensor (add, mul, where) has a None edge; the gradients flow as PyTorch's."""
    res = []
    for lib in (ember, torch):
        x = lib.tensor([0.5, -1.5, 2.0], requires_grad=True)
        y = lib.tensor([1.5, 0.25, -0.75], requires_grad=True)
        out = SCALAR_ARGUMENTS[name](lib, x, y)
        out.sum().backward()
        res.append((chain(out.grad_fn), [None if t.grad is None else t.grad.numpy().tolist() for t in (x, y)]))
    assert res[0][0] == res[1][0]
    for e, t in zip(res[0][1], res[1][1]):
        assert (e is None) == (t is None)
        if e is not None:
            np.testing.assert_allclose(e, t, rtol=1e-6)
