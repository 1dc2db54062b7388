"""Real public programs run on ember against PyTorch (session 28: NLP, audio, tabular, scientific and RL code),
and the Tensor API they touch: RL code mixing NumPy arrays into tensor arithmetic (``values + adv`` with ``adv``
an ndarray is NumPy's float64 sum in PyTorch)."""
import operator
import os
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import assert_same

_OPS = ['add', 'sub', 'mul', 'truediv', 'floordiv', 'mod', 'pow', 'lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and_', 'or_',
        'xor', 'lshift', 'rshift', 'matmul']
_DTYPES = [('float32', np.float64), ('float32', np.int64), ('float32', np.float32), ('int64', np.float32),
           ('int64', np.int32), ('bool', np.bool_), ('float64', np.bool_)]


def _outcome(fn):
    """fn()'s result as (kind, value): a tensor, another object, or the exception's type and message."""
    try:
        r = fn()
    except Exception as e:   # noqa: BLE001 - the refusal itself is compared
        return 'raises', (type(e).__name__, str(e))
    return ('tensor', r) if isinstance(r, (torch.Tensor, ember.Tensor)) else ('value', r)


def _same_outcome(got, want, what):
    assert got[0] == want[0], f'{what}: ember {got}, torch {want}'
    if want[0] == 'tensor':
        assert_same(got[1], want[1], what=what)
    elif want[0] == 'value':
        assert type(got[1]) is type(want[1]) and got[1] == want[1], what
    else:
        assert got[1][0] == want[1][0], f'{what}: ember {got[1]}, torch {want[1]}'


@pytest.mark.parametrize('tdt,adt', _DTYPES, ids=str)
@pytest.mark.parametrize('op', _OPS)
def test_tensor_and_ndarray_operands_as_pytorch(op, tdt, adt):
    """``t OP a`` is NumPy's computation on the tensor's array (NumPy's promotion, bool as uint8), except
    ``==`` (a tensor comparison) and ``a / t``; ``a OP t`` is mostly a TypeError, as in PyTorch."""
    f = getattr(operator, op)
    a = np.array([[1, 2], [3, 4]]).astype(adt)
    for order in ('tensor first', 'array first'):
        res = []
        for T in (torch, ember):
            t = T.tensor([[2, 1], [1, 3]]).to(getattr(T, tdt))
            res.append(_outcome((lambda: f(t, a)) if order == 'tensor first' else (lambda: f(a, t))))
        _same_outcome(res[1], res[0], f'{op} {order}')


@pytest.mark.parametrize('op', ['iadd', 'isub', 'imul', 'itruediv', 'ipow', 'iand'])
def test_inplace_operator_with_ndarray_rebinds(op):
    """``t += a`` with an ndarray: PyTorch's in-place operator declines, so t becomes the new ``t + a``."""
    a = np.array([1, 2], np.int64 if op == 'iand' else np.float64)
    for_each = []
    for T in (torch, ember):
        t = T.tensor([3, 4]) if op == 'iand' else T.tensor([3., 4.])
        u = getattr(operator, op)(t, a)
        for_each.append((u, t, u is t))
    assert_same(for_each[1][0], for_each[0][0])
    assert_same(for_each[1][1], for_each[0][1])
    assert for_each[1][2] == for_each[0][2]


@pytest.mark.parametrize('other', [np.float64(2.5), np.array(2.5), np.int64(3), np.array(3), np.float32(0.5)],
                         ids=repr)
def test_numpy_scalars_and_zero_d_arrays(other):
    """A NumPy scalar is a number to PyTorch (the tensor's dtype stays); a 0-d array goes to NumPy (``<`` with one
    is a TypeError there)."""
    for op in (operator.add, operator.mul, operator.truediv, operator.lt, operator.iadd):
        want = _outcome(lambda: op(torch.ones(3), other))
        got = _outcome(lambda: op(ember.ones(3), other))
        _same_outcome(got, want, op.__name__)


def test_tensor_requiring_grad_with_ndarray_refuses():
    for T in (torch, ember):
        with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
            T.ones(2, requires_grad=True) + np.ones(2)


@pytest.mark.parametrize('other', ['a', None, [1.0, 2.0], (1, 2), {1: 2}], ids=repr)
def test_equality_with_non_operands_is_identity(other):
    assert (ember.ones(2) == other) == (torch.ones(2) == other)
    assert (ember.ones(2) != other) == (torch.ones(2) != other)


def _rl_returns(T, rewards, values, dones, gamma=0.99):
    """A REINFORCE/A2C returns-and-advantages loop as RL tutorials write it: NumPy rewards and dones, the
    critic's values a tensor, mixed with ``+``/``*``."""
    returns = np.zeros_like(rewards)
    running = 0.0
    for i in reversed(range(len(rewards))):
        running = rewards[i] + gamma * running * (1 - dones[i])
        returns[i] = running
    with T.no_grad():
        adv = returns - values.numpy()
        target = values + adv
        norm = (target - target.mean()) / (target.std() + 1e-8)
    return target, norm, T.as_tensor(returns) * 0.5


def test_rl_returns_mixing_ndarrays_and_tensors():
    rng = np.random.default_rng(0)
    rewards, dones = rng.normal(size=8), (rng.uniform(size=8) < 0.2).astype(np.float64)
    values = rng.normal(size=8).astype(np.float32)
    want = _rl_returns(torch, rewards, torch.tensor(values), dones)
    got = _rl_returns(ember, rewards, ember.tensor(values), dones)
    for g, w in zip(got, want):
        assert_same(g, w, atol=1e-6, rtol=1e-6)


def _inference_story(T):
    """What an evaluation loop under inference_mode meets: which results are inference tensors (a view of a
    normal tensor is not), their version counter, and in-place changes and requires_grad outside the mode."""
    x, lin = T.ones(4, 3), T.nn.Linear(3, 2)
    seen = []
    with T.inference_mode():
        made = dict(sum=x.sum(), sum0=x.sum(0), lin=lin(x), view=x[0], aidx=x[[0, 1]], ones=T.ones(2),
                    tensor=T.tensor([1.0]), reshape=x.reshape(12), detach=x.detach(), clone=x.clone())
        seen.append({k: v.is_inference() for k, v in made.items()})
        y = x * 2
        y.add_(1)                                   # in place inside the mode: allowed
        x.add_(1)                                   # a normal tensor keeps its version counter
        seen.append((x._version, T.is_inference_mode_enabled(), T.is_grad_enabled(), y.requires_grad))
    seen.append((y.is_inference(), y.view(12).is_inference(), (y * 2).is_inference(), x.is_inference()))
    for attempt in (lambda: y._version, lambda: y.add_(1), lambda: y.__setitem__(0, 5.0),
                    lambda: y.requires_grad_(), lambda: y.view(12).mul_(2)):
        seen.append(_outcome(attempt)[1])
    seen.append(y.tolist())                         # PyTorch writes before it refuses: the values changed
    with T.inference_mode(False):
        seen.append((T.ones(2) * 2).is_inference())
    return seen


def test_inference_tensors_as_pytorch():
    assert _inference_story(ember) == _inference_story(torch)


@pytest.mark.parametrize('bare', [True, False])
def test_inference_mode_decorator(bare):
    """``@torch.inference_mode`` without parentheses decorates, as ``@torch.inference_mode()`` does."""
    res = []
    for T in (torch, ember):
        def f(a):
            return a * 2, T.is_inference_mode_enabled()
        g = T.inference_mode(f) if bare else T.inference_mode()(f)
        r, on = g(T.ones(2))
        res.append((r.is_inference(), on, r.tolist(), T.is_inference_mode_enabled(), g.__name__))
    assert res[1] == res[0]


def _csr_story(T, a, b, v):
    """A matrix taken to CSR and CSC as solver and graph code does: its parts, its products with dense
    operands (the dense one's gradient), conversions back, scaling and sums."""
    s, c = T.tensor(a).to_sparse_csr(), T.tensor(a).to_sparse_csc()
    x = T.tensor(b, requires_grad=True)
    y = T.sparse.mm(s, x)
    (y * T.arange(float(b.shape[1]))).sum().backward()
    return dict(
        parts=(s.crow_indices(), s.col_indices(), s.values(), c.ccol_indices(), c.row_indices(), c.values()),
        facts=(tuple(s.shape), s.dim(), s._nnz(), repr(s.dtype), s.is_sparse, s.is_sparse_csr, c.is_sparse_csr,
               repr(s.layout), repr(c.layout), repr(s.t().layout), grad_fn_name(y), grad_fn_name(s @ x)),
        products=(y, x.grad, c @ T.tensor(b), T.mm(s, T.tensor(b)), s.t() @ T.tensor(a), T.tensor(b).t() @ c.t()),
        vector=(s @ T.tensor(v), T.mv(s, T.tensor(v))),
        back=(s.to_dense(), c.to_dense(), s.t().to_dense(), s.to_sparse().to_dense(), (s * 2).to_dense(),
              (s + s).to_dense(), (-c).to_dense(), s.double().to_dense(), T.zeros(a.shape) + s, s.sum()),
        converted=(c.to_sparse_csr().crow_indices(), s.to_sparse_csc().row_indices(),
                   T.tensor(a).to_sparse().to_sparse_csr().col_indices(),
                   T.tensor(a).to_sparse(layout=T.sparse_csc).ccol_indices()),
    )


def grad_fn_name(t):
    return type(t.grad_fn).__name__


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_sparse_csr_and_csc_as_pytorch(dtype):
    """Values, parts, products (bit for bit for sparse @ dense and its gradient: each product rounded, then
    added row by row, as PyTorch's CSR kernel; vector and dense @ sparse products to rounding)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(7, 6)).astype(dtype)
    a[rng.uniform(size=a.shape) < 0.6] = 0
    a[3] = 0
    b, v = rng.normal(size=(6, 5)).astype(dtype), rng.normal(size=6).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')     # PyTorch's beta-state warning, once a process
        want, got = _csr_story(torch, a, b, v), _csr_story(ember, a, b, v)
    assert got['facts'] == want['facts']
    for key in ('parts', 'back', 'converted'):
        for g, w in zip(got[key], want[key]):
            assert_same(g, w, atol=1e-6, rtol=1e-6, what=key)
    for g, w in zip(got['products'][:4], want['products'][:4]):
        np.testing.assert_array_equal(g.detach().numpy(), w.detach().numpy())
    for g, w in zip(got['products'][4:] + got['vector'], want['products'][4:] + want['vector']):
        assert_same(g, w, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize('make', [
    "T.sparse_csr_tensor(T.tensor([0, 1, 3]), T.tensor([1, 0, 2]), T.tensor([1., 2., 3.]))",
    "T.sparse_csr_tensor([0, 1, 3], [1, 0, 2], [1., 2., 3.], size=(2, 4), dtype=T.float64)",
    "T.sparse_csc_tensor([0, 1, 1, 3], [1, 0, 1], [1., 2., 3.])",
    "T.tensor([[0, 1], [2, 0]]).to_sparse_csr()",
    "T.zeros(2, 3).to_sparse_csr()",
    "T.tensor([[0., 1., 0.], [2., 0., 3.]]).to_sparse_csr().t()",
    "T.tensor([[0., 1., 0.], [2., 0., 3.]]).to_sparse_csr() * 2",
    "T.tensor([[0., 1., 0.], [2., 0., 3.]]).to_sparse_csc().to_sparse()",
])
def test_sparse_compressed_prints_as_pytorch(make):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        want, got = eval(make, {'T': torch}), eval(make, {'T': ember})
    assert repr(got) == repr(want)
    assert_same(got.to_dense(), want.to_dense())


@pytest.mark.parametrize('expr', ['s.indices()', 's.coalesce()', 's.numpy()', 's / 2', 's - s', 's.type()',
                                  'c.crow_indices()', 's.ccol_indices()', 'c.col_indices()'])
def test_sparse_compressed_refusals_as_pytorch(expr):
    res = []
    for T in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            d = T.tensor([[0., 1., 0.], [2., 0., 3.]])
            env = {'s': d.to_sparse_csr(), 'c': d.to_sparse_csc()}
        res.append(_outcome(lambda: eval(expr, env))[1])
    assert res[1] == res[0]


def test_sparse_csr_product_gradcheck():
    """The dense operand's gradient through a CSR product, against float64 finite differences."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 5))
    a[rng.uniform(size=a.shape) < 0.5] = 0
    s = ember.tensor(a).to_sparse_csr()
    x = ember.tensor(rng.normal(size=(5, 3)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: s @ x, (x,))
    assert ember.autograd.gradcheck(lambda x: x.t() @ s.t(), (x,))


_ORDERS = ['T.empty(2, 3, 5, 7)', 'T.empty(2, 3, 5, 7).transpose(1, 2)', 'T.empty(2, 3, 5, 7).permute(0, 2, 3, 1)',
           'T.empty(1, 2, 3, 4)', 'T.empty(3, 1)', 'T.empty(2, 3)[:, ::2]', 'T.empty(5)', 'T.tensor(1.)',
           'T.empty(2, 3).expand(4, 2, 3)', 'T.empty(4, 3).t()[::2]', 'T.empty(3, 3)[:, :1]',
           'T.empty(2, 2, 2).permute(2, 0, 1)', 'T.empty(2, 3, 4, 5).to(memory_format=T.channels_last)',
           'T.empty(4, 4, 4)[::2, :, ::3].transpose(0, 2)']


@pytest.mark.parametrize('check', [False, True, [], 'formats', 'x'], ids=repr)
@pytest.mark.parametrize('make', _ORDERS)
def test_dim_order_as_pytorch(make, check):
    """Tensor.dim_order(): the dims outermost first, and its ambiguity checks (CUTLASS-style kernels read it)."""
    res = []
    for T in (torch, ember):
        c = [T.contiguous_format, T.channels_last] if check == 'formats' else check
        t = eval(make, {'T': T})
        res.append(_outcome(lambda: t.dim_order(ambiguity_check=c)))
    _same_outcome(res[1], res[0], make)


@pytest.mark.parametrize('case', [
    ('T.arange(9.).reshape(3, 3)', 'T.tensor([[10., 20.], [30., 40.]])', (2, 2), (1, 2), None),
    ('T.zeros(10)', 'T.ones(3)', (3,), (2,), 1),
    ('T.zeros(3, 4).t()', 'T.ones(2)', (2,), (1,), None),
    ('T.zeros(4, dtype=T.int64)', 'T.ones(2)', (2,), (1,), None),
    ('T.zeros(2, 3, 4).permute(2, 0, 1)', 'T.arange(6.).reshape(2, 3)', (2, 3), (5, 1), 2),
    ('T.zeros(4)', 'T.ones(3)', (2,), (2,), None),
    ('T.zeros(4)', 'T.ones(3)', (3,), (2,), None),
], ids=str)
def test_as_strided_scatter_as_pytorch(case):
    make, src, size, stride, offset = case
    res = []
    for T in (torch, ember):
        x, s = eval(make, {'T': T}), eval(src, {'T': T})
        res.append(_outcome(lambda: T.as_strided_scatter(x, s, size, stride, offset)))
        res.append(_outcome(lambda: x.as_strided_scatter(s, size, stride, offset)))
    _same_outcome(res[2], res[0], 'function')
    _same_outcome(res[3], res[1], 'method')


def test_as_strided_scatter_gradients():
    """src's gradient as PyTorch's, input's against float64 finite differences: zero where src was written.
    (PyTorch 2.13 gives input the gradient of the written places instead, which fails its own gradcheck.)"""
    g = np.arange(9.0).reshape(3, 3)
    grads = []
    for T in (torch, ember):
        x = T.zeros(3, 3, dtype=T.float64, requires_grad=True)
        s = T.ones(2, 2, dtype=T.float64, requires_grad=True)
        y = T.as_strided_scatter(x, s, (2, 2), (1, 2))
        (y * T.tensor(g)).sum().backward()
        grads.append((s.grad.numpy(), type(y.grad_fn).__name__))
    np.testing.assert_array_equal(grads[1][0], grads[0][0])
    assert grads[1][1] == grads[0][1] == 'AsStridedScatterBackward0'
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    s = ember.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, s: ember.as_strided_scatter(x, s, (2, 3), (4, 1), 1), (x, s))
    assert ember.autograd.gradcheck(lambda x, s: ember.as_strided_scatter(x.t(), s, (2, 3), (1, 2)), (x, s))


def _from_file_story(T, folder):
    """torch.from_file as data pipelines use it for raw binary arrays: a private copy, a shared mapping whose
    writes reach the file (created or grown as needed), and the refusals."""
    path = str(folder / 'data.bin')
    np.arange(10, dtype=np.float32).tofile(path)
    seen = [T.from_file(path), T.from_file(path, size=4), T.from_file(path, size=2, dtype=T.int64)]
    private = T.from_file(path, shared=False, size=10, dtype=T.float32)
    private[1] = 55.0
    shared = T.from_file(path, shared=True, size=10)
    shared[0] = 100.0
    del shared
    seen += [private, T.from_file(path, size=10), T.from_file(path, shared=True, size=12),
             T.from_file(str(folder / 'new.bin'), shared=True, size=3)]
    seen += [_outcome(lambda: T.from_file(path, size=40))[1], _outcome(lambda: T.from_file(folder / 'x', size=1))[1]]
    return seen, os.path.getsize(path), os.path.getsize(str(folder / 'new.bin'))


def test_from_file_as_pytorch(tmp_path):
    (tmp_path / 'torch').mkdir()
    (tmp_path / 'ember').mkdir()
    want = _from_file_story(torch, tmp_path / 'torch')
    got = _from_file_story(ember, tmp_path / 'ember')
    assert got[1:] == want[1:]
    for g, w in zip(got[0], want[0]):
        if isinstance(w, torch.Tensor):
            assert_same(g, w)
        else:
            assert g == (w[0], w[1].replace('/torch/', '/ember/'))


@pytest.mark.parametrize('leaf,grad', [('float32', 'float64'), ('float32', 'float16'), ('float32', 'int64'),
                                       ('float32', 'bfloat16'), ('float32', 'complex64'), ('float64', 'float32'),
                                       ('float32', 'float32')])
def test_grad_assignment_dtype_check_as_pytorch(leaf, grad):
    """``p.grad = g`` of another dtype: PyTorch 2.13's message, which names the leaf's grad_dtype."""
    res = []
    for T in (torch, ember):
        x = T.ones(2, dtype=getattr(T, leaf), requires_grad=True)
        res.append(_outcome(lambda: setattr(x, 'grad', T.ones(2, dtype=getattr(T, grad)))))
    assert res[1][0] == res[0][0]
    if res[0][0] == 'raises':
        assert res[1][1] == res[0][1]
