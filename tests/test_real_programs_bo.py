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


class _Operator:
    """linear_operator/operators/_linear_operator.py's protocol, reduced: a Tensor-like that is not a Tensor,
    whose ``__torch_function__`` looks ``func`` up among the torch functions it took when its module was
    imported (``_implements(torch.logdet)``)."""
    handled = {}

    def __init__(self, T):
        self.dense = T.tensor([[2., 0.5], [0.5, 1.]], dtype=T.float64)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func not in cls.handled:
            raise NotImplementedError(f'torch.{func.__name__} is not implemented')
        return cls.handled[func](args[0].dense)


def test_torch_logdet_of_a_tensor_like():
    """botorch/acquisition/joint_entropy_search.py: ``torch.logdet(cov)`` of a linear_operator
    MatmulLinearOperator (qJointEntropySearch stopped there): a plain function's failure asks its non-Tensor
    Tensor-like argument, passing the very function the library took at import; an unhandled one raises its
    own error."""
    def call(T):
        _Operator.handled = {T.logdet: lambda d: ('logdet', T.logdet(d)),
                             T.linalg.cholesky: lambda d: ('cholesky', T.linalg.cholesky(d))}
        out = [T.logdet(_Operator(T)), T.linalg.cholesky(_Operator(T))]
        try:
            T.slogdet(_Operator(T))
        except NotImplementedError as e:
            out.append(str(e).split(' is')[0])
        return out
    run_both(call)
