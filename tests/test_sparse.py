"""Sparse COO tensors against PyTorch: construction (torch.sparse_coo_tensor, Tensor.to_sparse, the legacy
torch.sparse.FloatTensor), their printed form, parts, coalescing, layout-keeping arithmetic and sums, the errors
PyTorch raises, and products with a dense operand (values and the dense operand's gradient bit for bit, as
PyTorch adds the entries; float64 finite differences)."""
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import ember

_SETUP = """
i = np.array([[0, 1, 1, 0], [1, 0, 2, 1]], dtype=np.int32)
a = T.sparse_coo_tensor(i, T.ones(4), (2, 3), dtype=T.int64)
af = T.sparse_coo_tensor([[0, 1, 1, 0], [1, 0, 2, 1]], [1., 2., 3., 4.], (2, 3))
d = T.tensor([[0., 2., 0.], [3., 0., 0.]]).to_sparse()
w = T.tensor([[1., -2.], [0.5, 3.], [2., 1.]], requires_grad=True)
"""

EXPRS = [
    'a', 'af', 'd', 'a.layout', 'a.is_sparse', 'a.is_coalesced()', 'a._nnz()', 'a.sparse_dim()', 'a.dense_dim()',
    'a.dtype', 'a.shape', 'a.coalesce()', 'a.to_dense()', 'T.eye(2, 3) + a', 'a + T.eye(2, 3)', 'd.indices()',
    'd.values()', 'af.values()', 'af.indices()', 'af._values()', 'af._indices()', 'T.mm(d, w)', 'T.spmm(d, w)',
    'd @ w', 'T.sparse.mm(d, w)', 'T.matmul(d, w)', 'd.mm(w)', 'T.ones(2, 2) @ d', 'T.mm(T.ones(2, 2), d)',
    'T.sum(a, dim=1)', 'a.sum(dim=1)', 'a.sum(1, keepdim=True)', 'af.sum(0)', 'af.sum((0, 1))', 'T.sum(d)',
    'T.sparse.sum(d)', 'T.sparse.sum(d, dim=1)', 'd.sum()', 'd * 2', '2 * d', 'd / 2', 'd * T.tensor(3.)', '-d',
    'd.neg()', 'd.mul(d)', 'd + d', 'af + af', 'af + af.clone()', 'af.add(af, alpha=2)', 'af - af',
    'af.coalesce() + af', 'af + af.coalesce()', 'af.coalesce() - af.coalesce() * 2', 'T.ones(2, 3) + d',
    'T.ones(2, 3) - d', 'd.to("cpu") is d', 'd.cpu() is d', 'd.t()', 'd.t().is_coalesced()', 'd.transpose(0, 1)',
    'T.diag(T.tensor([1., 0., 2.])).to_sparse()', 'T.sparse_coo_tensor(T.tensor([[0, 1]]), T.tensor([2., 3.]))',
    'T.sparse_coo_tensor([[0, 0], [1, 1]], [1., 2.], (2, 2))',
    'T.sparse_coo_tensor([[0, 0], [1, 1]], [1., 2.], (2, 2)).coalesce()', 'T.zeros(2, 2).to_sparse()',
    'd.requires_grad', 'd.numpy()', 'd.size()', 'd.dim()', 'd.numel()', 'len(d)', 'd.float()', 'd.double()',
    'd.to(T.float64)', 'd.double().is_coalesced()', 'd.clone()', 'd.detach()', 'd.indices().dtype', 'd.type()',
    'a.type()', 'd.double().type()', 'd.is_cuda', 'd.device', 'd.storage()', 'd.stride()', 'd.is_contiguous()',
    'T.is_tensor(d)', 'isinstance(d, T.Tensor)', 'T.mm(d, T.ones(3, 2, dtype=T.float64))',
    'T.spmm(d.double(), T.ones(3, 2))', 'T.mm(d, T.ones(4, 2))', 'd.to_sparse() is d', 'd.to_dense().to_sparse(1)',
    'T.eye(2).to_sparse().mm(T.ones(2, 1))', 'T.ones(2, 2).to_dense()',
    'T.sparse_coo_tensor(T.tensor([[0, 1]]), T.tensor([2., 3.]), (3,)).to_dense()',
    'T.sparse_coo_tensor([[0, 5]], [1., 2.], (3,), check_invariants=True)',
    'T.sparse_coo_tensor([[0, 5]], [1., 2., 3.], (3,))', 'T.sparse_coo_tensor([0, 5], [1., 2.], (6,))',
    'T.sparse_coo_tensor([[0, 2], [1, 0]], T.tensor([[1., 2.], [3., 4.]]))',
    'T.sparse_coo_tensor([[0, 2], [1, 0]], T.tensor([[1., 2.], [3., 4.]])).sum(2)',
    'T.sparse_coo_tensor(T.empty(2, 0, dtype=T.long), T.empty(0), (2, 2))', 'T.sparse_coo_tensor([[0, 1]], [1, 2])',
    'T.sparse_coo_tensor([[0, 1]], [1., 2.], dtype=T.float64)', 'T.sparse_coo_tensor([[0, 1]], T.tensor([True, False]))',
    'T.sparse_coo_tensor(np.arange(40).reshape(2, 20) % 7, np.arange(20.) / 3)',
    'T.sparse_coo_tensor([[0, 1]], [1e-8, 1e8])', 'd.requires_grad_(False)', 'T.sparse.mm(T.ones(2, 3), T.ones(3, 1))',
    'T.sparse.FloatTensor(T.tensor([[0, 1], [1, 0]]), T.tensor([1., 2.]), T.Size([2, 2]))',
    'T.sparse.FloatTensor(T.tensor([[0, 1], [1, 0]]), T.tensor([1., 2.]))', 'T.sparse.FloatTensor(2, 3)',
    'T.sparse.DoubleTensor(T.tensor([[0, 1]]), T.tensor([1, 2]), T.Size([3]))', 'repr(T.sparse.FloatTensor)',
    'isinstance(d, T.sparse.FloatTensor)', 'isinstance(d, T.sparse.DoubleTensor)',
    'T.sparse.check_sparse_tensor_invariants.is_enabled()',
]


def _answer(T, expr):
    env = {'T': T, 'np': np}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        exec(_SETUP, env)
        try:
            r = eval(expr, env)
        except Exception as e:  # noqa: BLE001 (the error is the answer)
            return type(e).__name__, str(e)
    return (repr(r), str(r.layout)) if isinstance(r, T.Tensor) else repr(r)


@pytest.mark.parametrize('expr', EXPRS)
def test_sparse_as_pytorch(expr):
    assert _answer(ember, expr) == _answer(torch, expr)


def _products(T, dt, coalesce, left):
    rng = np.random.RandomState(7)
    n, k, m, nnz = 30, 120, 5, 400
    rows, cols = rng.randint(n, size=nnz), rng.randint(k, size=nnz)
    vals = rng.randn(nnz).astype(dt)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        s = T.sparse_coo_tensor(np.stack([rows, cols]), T.tensor(vals), (n, k))
    s = s.coalesce() if coalesce else s
    if left:
        dense = T.tensor(rng.randn(k, m).astype(dt), requires_grad=True)
        out = T.mm(s, dense)
    else:
        dense = T.tensor(rng.randn(m, n).astype(dt), requires_grad=True)
        out = dense @ s
    out.backward(T.tensor(rng.randn(*out.shape).astype(dt)))
    return out.detach().numpy(), dense.grad.numpy(), out.grad_fn.name()


@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('coalesce', [False, True])
@pytest.mark.parametrize('left', [True, False])
def test_products_bit_for_bit(dt, coalesce, left):
    """PyTorch adds a COO product's entries in stored order, each as a fused multiply-add (dense @ sparse as
    (S^T @ D^T)^T), duplicates of an uncoalesced tensor one by one: the same bits here, gradient too."""
    got, want = _products(ember, dt, coalesce, left), _products(torch, dt, coalesce, left)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[2] == want[2]


def test_product_gradcheck():
    """float64 finite differences through sparse @ dense and dense @ sparse (the dense operand's gradient),
    and through torch.sparse.mm, also under create_graph (gradgradcheck)."""
    rng = np.random.RandomState(1)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        s = ember.sparse_coo_tensor(rng.randint(4, size=(2, 9)), ember.tensor(rng.randn(9)), (4, 4))
    x = ember.tensor(rng.randn(4, 3), requires_grad=True)
    y = ember.tensor(rng.randn(2, 4), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: ember.mm(s, x), (x,))
    assert ember.autograd.gradcheck(lambda y: y @ s, (y,))
    assert ember.autograd.gradcheck(lambda x: ember.sparse.mm(s, x.tanh()), (x,))
    assert ember.autograd.gradgradcheck(lambda x: ember.sparse.mm(s, x.tanh()), (x,))


def _warning_texts(code):
    """The warnings ``code`` gives in a fresh interpreter under PyTorch or ember, without PyTorch's
    '(Triggered internally at ...)' tail."""
    prog = ('import warnings, numpy as np\nwarnings.simplefilter("always")\n'
            'with warnings.catch_warnings(record=True) as w:\n' + ''.join('    ' + line + '\n' for line in code) +
            'print(repr([str(m.message).split(" (Triggered internally")[0] for m in w]))')
    r = subprocess.run([sys.executable, '-c', prog], capture_output=True, text=True, check=True)
    return r.stdout


@pytest.mark.parametrize('code', [
    ['import torch as T', 'T.sparse_coo_tensor([[0]], [1.])', 'T.sparse_coo_tensor([[0]], [2.])'],
    ['import torch as T', 'T.sparse_coo_tensor([[0]], [1.], check_invariants=False)', 'T.sparse_coo_tensor([[0]], [1.])'],
    ['import torch as T', 'T.tensor([[1., 0.]]).to_sparse()'],
    ['import torch as T', 'T.sparse.check_sparse_tensor_invariants.disable()', 'T.sparse_coo_tensor([[0]], [1.])'],
    ['import torch as T', 'with T.sparse.check_sparse_tensor_invariants():', '    T.sparse_coo_tensor([[0]], [1.])'],
    ['import torch as T', 'T.sparse.FloatTensor(T.tensor([[0]]), T.tensor([1.]), T.Size([1]))',
     'T.sparse.FloatTensor(T.tensor([[0]]), T.tensor([1.]))', 'T.sparse.LongTensor(2, 2)',
     'T.sparse.DoubleTensor(T.tensor([[0]]), T.tensor([1.]), T.Size([1]))', 'T.sparse.FloatTensor(3)'],
])
def test_warnings_as_pytorch(code):
    """The invariant-check warning (once a process, none once a choice is made) and the legacy constructors'
    deprecation warnings (each message once a process)."""
    ember_code = [line.replace('import torch as T', 'import ember as T') for line in code]
    assert _warning_texts(ember_code) == _warning_texts(code)


_GRAD_SETUP = """
i = T.tensor([[0, 1, 1, 0, 2], [1, 0, 2, 1, 2]])
S = T.sparse_coo_tensor(i, T.tensor([1., 2., 3., 4., -1.]), (3, 3), requires_grad=True)
v = T.tensor([1., 2., 3., 4., -1.], requires_grad=True)
D = T.tensor([[0.5, -1.], [2., 1.], [-0.5, 3.]], requires_grad=True)
L = T.tensor([[1., -2., 0.5], [0.25, 3., -1.]], requires_grad=True)
W = T.tensor([[1., 2.], [3., 4.], [5., 6.]])
"""

GRAD_EXPRS = [
    'T.sparse.mm(S, D)', 'T.mm(S, D)', 'T.spmm(S, D)', 'S @ D', 'T.matmul(S, D)', 'T.sparse.mm(L, S)', 'T.mm(L, S)',
    'S.to_dense().pow(2)', 'T.sparse.sum(S)', 'S.sum()', 'T.sum(S)',
    'T.sparse.mm(T.sparse_coo_tensor(i, v, (3, 3)), D)', 'T.mm(T.sparse_coo_tensor(i, v, (3, 3)), D)',
    'T.sparse_coo_tensor(i, v, (3, 3)).to_dense().pow(2)', 'T.sparse.sum(T.sparse_coo_tensor(i, v, (3, 3)))',
    '(S * 2).to_dense()', '(2 * S).coalesce().to_dense()', 'S.coalesce().to_dense()', '(S + S).to_dense()',
    '(S - S * 3).to_dense()', 'S.t().to_dense()', '(-S).to_dense()', 'S.clone().to_dense()', '(S / 4).to_dense()',
    'S.add(S, alpha=2).to_dense()', 'T.mm(S.t(), D)', 'T.sparse.mm(S * 3, D)', 'T.sparse.sum(S.t())', '(S * 2).sum()',
    'S.transpose(0, 1).to_dense()', 'S.coalesce().t().to_dense()', 'T.sparse.mm(S.coalesce(), D)',
    '(S * T.tensor(2.)).to_dense()', 'T.sparse.mm(T.sparse_coo_tensor(i, v, (3, 3)).t() * 2 - S, D)',
]


def _grad_answer(T, expr):
    """The result of ``expr`` (printed) and the gradients it gives S, v, D and L (printed, None when none)."""
    env = {'T': T}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        exec(_GRAD_SETUP, env)
        out = eval(expr, env)
        w = T.arange(1., out.numel() + 1).reshape(out.shape) / 4
        (out * w).sum().backward()
    return [repr(out.detach())] + [repr(env[n].grad) for n in ('S', 'v', 'D', 'L')] + [str(out.grad_fn.name())]


@pytest.mark.parametrize('expr', GRAD_EXPRS)
def test_gradients_of_sparse_operands_as_pytorch(expr):
    """A sparse leaf requiring grad, or sparse_coo_tensor of values requiring grad: torch.sparse.mm gives the
    sparse operand a sparse gradient at its indices (coalesced; through its transpose for dense @ sparse), mm /
    spmm / @ a dense one, to_dense and torch.sparse.sum a sparse one, Tensor.sum a dense one, and the values each
    entry's share; neg, * and / by a number, +, -, t, transpose, coalesce and clone pass the gradient on as
    PyTorch's do; the printed results and gradients are PyTorch's."""
    got, want = _grad_answer(ember, expr), _grad_answer(torch, expr)
    assert got[:5] == want[:5]


def test_sparse_values_gradcheck():
    """float64 finite differences of the values of sparse_coo_tensor through torch.sparse.mm, mm (both sides) and
    to_dense (duplicate indices included)."""
    idx = ember.tensor([[0, 1, 1, 0, 2], [1, 0, 2, 1, 2]])
    rng = np.random.RandomState(3)
    v = ember.tensor(rng.randn(5), requires_grad=True)
    d = ember.tensor(rng.randn(3, 2), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert ember.autograd.gradcheck(lambda v, d: ember.sparse.mm(ember.sparse_coo_tensor(idx, v, (3, 3)), d),
                                        (v, d))
        assert ember.autograd.gradcheck(lambda v, d: ember.mm(ember.sparse_coo_tensor(idx, v, (3, 3)), d), (v, d))
        assert ember.autograd.gradcheck(lambda v, d: ember.sparse.mm(d.t(), ember.sparse_coo_tensor(idx, v, (3, 3))),
                                        (v, d))
        assert ember.autograd.gradcheck(lambda v: ember.sparse_coo_tensor(idx, v, (3, 3)).to_dense().sin(), (v,))
        assert ember.autograd.gradcheck(lambda v, d: ember.sparse.mm(
            (-ember.sparse_coo_tensor(idx, v, (3, 3)).t() * 2).coalesce() / 3, d), (v, d))


def test_undifferentiated_sparse_ops_refuse_a_sparse_input_requiring_grad():
    """Layout-keeping ops ember does not differentiate (a dtype change, sparse * sparse, sums over some dims, a
    rounding division, a product with a number requiring grad) refuse a sparse tensor requiring grad by name
    rather than drop its gradient; under no_grad, or detached, they run."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        s = ember.sparse_coo_tensor([[0, 1], [1, 0]], [1., 2.], (3, 3), requires_grad=True)
    for op in (lambda: s.double(), lambda: s * s, lambda: ember.sparse.sum(s, 1),
               lambda: s.div(2, rounding_mode='floor'), lambda: s * ember.tensor(2., requires_grad=True)):
        with pytest.raises(NotImplementedError, match='ember (differentiates a sparse tensor through|does not)'):
            op()
    with ember.no_grad():
        assert (s * s).is_sparse and s.double().is_sparse
    assert not s.detach().requires_grad and (s.detach() * s.detach()).is_sparse


@pytest.mark.parametrize('nnz', [3000, 40000])
def test_coalesce_sums_duplicates_as_pytorch(nnz):
    """Duplicates summed one by one in torch.sort's order of the flattened indices: std::sort's below 32,768
    entries (ties in an order of its own), a stable radix sort from there."""
    rng = np.random.RandomState(nnz)
    idx, vals = rng.randint(40, size=(2, nnz)), rng.randn(nnz).astype(np.float32)
    got = []
    for T in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            c = T.sparse_coo_tensor(idx, T.tensor(vals), (40, 40)).coalesce()
        got.append((c.indices().numpy(), c.values().numpy()))
    np.testing.assert_array_equal(got[1][0], got[0][0])
    np.testing.assert_array_equal(got[1][1], got[0][1])
