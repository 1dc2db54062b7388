"""BoTorch 0.16 (on gpytorch 1.15, linear_operator 0.6, pyro-ppl 1.9) under ``ember.aliasing.as_torch()``
(session 37): the lines of its getting-started loop and tutorials (SingleTaskGP / MultiTaskGP fitted with
fit_gpytorch_mll, LogEI / qLogNEI / UCB / qKG / qLogEHVI through optimize_acqf, Normalize / Standardize,
SobolQMCNormalSampler, fantasize, Branin / Hartmann) that stopped ember or gave other values than PyTorch, each
reduced to those lines and checked against PyTorch. BoTorch is not needed here."""
import numpy as np

import ember
from helpers import run_both


def _summing_matrix(T):
    """linear_operator/utils/interpolation.py left_t_interp: a sparse (tasks, points) matrix of interpolation
    weights (one entry per point, float64), built as gpytorch's IndexKernel builds it for MultiTaskGP."""
    with T.sparse.check_sparse_tensor_invariants(False):
        rows = T.tensor([0, 1, 1, 0, 1])
        return T.sparse_coo_tensor(T.stack([rows, T.arange(5)]), T.ones(5, dtype=T.float64), (2, 5))


def test_dsmm_is_spmm():
    """linear_operator/utils/sparse.py bdsmm: ``torch.dsmm(sparse_2d, dense_2d)`` (MultiTaskGP's fit stopped
    there): the product, its gradient into the dense operand, and a dense first operand."""
    def product(T):
        T.manual_seed(0)
        dense = T.randn(5, 3, dtype=T.float64, requires_grad=True)
        out = T.dsmm(_summing_matrix(T), dense)
        (out * T.arange(6, dtype=T.float64).view(2, 3)).sum().backward()
        return out, out.grad_fn.name(), dense.grad, T.dsmm(dense.detach().T, dense.detach())
    run_both(product)


def test_dsmm_gradient_by_finite_differences():
    """ember's dsmm gradient into the dense operand, against finite differences in float64."""
    dense = ember.tensor(np.random.RandomState(0).randn(5, 3), requires_grad=True)
    assert ember.autograd.gradcheck(lambda d: ember.dsmm(_summing_matrix(ember), d), (dense,))
