"""Real graph programs (session 36) run on ember against PyTorch: PyTorch Geometric 2.8 (torch-geometric) trained as
its examples do (GCN/GAT/GraphSAGE/GIN on a Planetoid-shaped graph, DataLoader batches, pooling, MessagePassing,
torch_geometric.utils, sparse adjacencies) and e3nn 0.6. Each test is the few lines where ember stopped or
differed, with the library file that made the call named; the libraries themselves are not needed here."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import run_both


# -- sparse adjacency -------------------------------------------------------------------------------------------
def _csr(T):
    i = T.tensor([[0, 0, 2, 2, 2, 3], [1, 2, 0, 1, 1, 3]])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return T.sparse_coo_tensor(i, T.tensor([1., 2., 3., -1., 4., 0.5]), (4, 4)).coalesce().to_sparse_csr()


def _coalesced_flag(T):
    """torch_geometric/utils/sparse.py (to_edge_index, reached from GCNConv on a COO adjacency) marks the indices
    it sorted with ``adj._coalesced_(True)``; the flag is set in place and the tensor returned."""
    s = T.sparse_coo_tensor(T.tensor([[1, 0], [0, 1]]), T.tensor([1., 2.]), (2, 2))
    before = s.is_coalesced()
    r = s._coalesced_(True)
    return [before, r is s, s.is_coalesced(), s.indices(), s.values(), s._coalesced_(False).is_coalesced()]


def test_coalesced_flag():
    run_both(_coalesced_flag)


@pytest.mark.parametrize('reduce', ['sum', 'mean', 'amax', 'amin'])
def test_sparse_mm_reduce(reduce):
    """torch_geometric/utils/_spmm.py (SAGEConv's message_and_aggregate on a sparse adjacency, aggr='mean'/'max')
    calls ``torch.sparse.mm(csr, x, reduce)``: rows reduced, an empty row 0, the gradient to the first extreme
    entry (a tie in row 2), PyTorch's grad_fn name."""
    def f(T):
        x = T.tensor([[1., -2., 0.5], [3., 1., -1.], [1., 1., 1.], [0.25, 2., -3.]], requires_grad=True)
        y = T.sparse.mm(_csr(T), x, reduce)
        g, = T.autograd.grad((y * T.arange(12.).view(4, 3)).sum(), x)
        return [y, y.grad_fn.name(), g, T.sparse.mm(_csr(T), x).grad_fn.name()]
    run_both(f)


@pytest.mark.parametrize('case', [
    lambda T: T.sparse.mm(_csr(T), T.ones(4, 2), 'prod'),
    lambda T: T.sparse.mm(_csr(T), T.ones(4, 2), 'foo'),
    lambda T: T.sparse.mm(_csr(T).to_sparse_csc(), T.ones(4, 2), 'mean'),
    lambda T: T.sparse.mm(_csr(T), T.ones(4, 2, dtype=T.float64), 'mean')])
def test_sparse_mm_reduce_errors(case):
    run_both(case, message=True)


def test_sparse_mm_reduce_refuses_coo():
    """A COO operand with reduce=: PyTorch's NotImplementedError (its first sentence), then what to do."""
    first = "Could not run 'aten::_sparse_mm_reduce_impl' with arguments from the 'SparseCPU' backend."
    for T in (torch, ember):
        with pytest.raises(NotImplementedError) as err:
            T.sparse.mm(_csr(T).to_sparse(), T.ones(4, 2), 'mean')
        assert str(err.value).startswith(first)
    assert 'to_sparse_csr()' in str(err.value)


@pytest.mark.parametrize('reduce', ['sum', 'mean', 'amax', 'amin'])
def test_sparse_mm_reduce_gradient_by_finite_differences(reduce):
    """float64 finite differences through the dense operand (distinct products, so amax/amin are smooth)."""
    i = ember.tensor([[0, 0, 2, 2, 3], [1, 2, 0, 1, 3]])
    s = ember.sparse_coo_tensor(i, ember.tensor([1., 2., 3., -1., 0.5], dtype=ember.float64), (4, 4))
    csr = s.coalesce().to_sparse_csr()
    x = ember.tensor(np.arange(12.).reshape(4, 3) * 0.37 - 1.1, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: ember.sparse.mm(csr, x, reduce).sin(), (x,))
