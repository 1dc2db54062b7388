"""Real pure-PyTorch libraries run on ember against PyTorch (session 31), each reduced to the lines that
exercised ember: bayesiains/nflows (LeakyReLU transform's ``(x < 0).type(torch.Tensor)`` mask, its test case's
``torch.equal`` on a shape), rtqichen/torchdiffeq, jettify/pytorch-optimizer and VincentStimper/normalizing-flows
(which ran unchanged and matched)."""
import collections

import pytest
import torch

import ember
from helpers import run_both


# -- nflows: Tensor.type with the Tensor class or 'torch.Tensor' casts to the default dtype -----------------------
@pytest.mark.parametrize('to', ['Tensor', "'torch.Tensor'", 'int32', 'LongTensor', "'torch.DoubleTensor'",
                                'nn.Parameter', 'int', "'Tensor'"])
def test_tensor_type_casts(to):
    def leaky_mask(T):
        x = T.tensor([[1.5, -2.0, 0.0], [-0.5, 3.0, -1.0]])
        arg = eval(to, {'Tensor': T.Tensor, 'int32': T.int32, 'LongTensor': T.LongTensor, 'nn': T.nn, 'int': int})
        mask = (x < 0).type(arg)
        return mask, (mask * T.log(T.as_tensor(0.5))).sum(-1)
    run_both(leaky_mask, message=True)


def test_tensor_type_follows_default_dtype():
    def run(T):
        old = T.get_default_dtype()
        T.set_default_dtype(T.float64)
        try:
            return T.tensor([1, -1]).type(T.Tensor)
        finally:
            T.set_default_dtype(old)
    run_both(run)


# -- torch.equal takes only tensors (a test helper comparing a tensor with a number gets PyTorch's TypeError) ------
@pytest.mark.parametrize('a, b', [('t', '1'), ('1', 't'), ('t', '[1.0, 1.0]'), ('t', 't')])
def test_equal_operands(a, b):
    def run(T):
        env = {'t': T.ones(2)}
        return T.equal(eval(a, env), eval(b, env))
    run_both(run, message=True)


# -- pytorch-optimizer's test loop: BCELoss on a sigmoid that saturates at 1.0, backward(create_graph=True) -------
def test_bce_create_graph_at_saturated_probability():
    def run(T):
        x = T.tensor([1.0, 0.0, 0.25, 1.0, 0.0], requires_grad=True)
        w = T.tensor([0.5, 1.0, 2.0, 1.0, 1.0])
        t = T.tensor([1.0, 0.0, 1.0, 0.0, 1.0], requires_grad=True)
        loss = T.nn.functional.binary_cross_entropy(x, t, weight=w)
        gx, gt = T.autograd.grad(loss, (x, t), create_graph=True)
        return loss, gx, gt
    run_both(run)


def test_bce_signed_zeros_and_weight_refusal():
    def run(T):
        x = T.tensor([1., 0., 1., 0., 0.5]); t = T.tensor([1., 0., 0., 1., 1.])
        return str(T.nn.functional.binary_cross_entropy(x, t, reduction='none', weight=-T.ones(5)))
    run_both(run)
    for x_grad in (True, False):
        run_both(lambda T: T.nn.functional.binary_cross_entropy(T.rand(3, requires_grad=x_grad), T.rand(3),
                                                                weight=T.rand(3, requires_grad=True)), message=True)


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_bce_double_backward(reduction):
    def run(T):
        T.manual_seed(0)
        x = T.rand(3, 4, dtype=T.float64).clamp(0.05, 0.95).requires_grad_()
        t = T.rand(3, 4, dtype=T.float64).requires_grad_()
        w = T.rand(4, dtype=T.float64)
        loss = T.nn.functional.binary_cross_entropy(x, t, weight=w, reduction=reduction).sum()
        gx, gt = T.autograd.grad(loss, (x, t), create_graph=True)
        return [gx, gt] + list(T.autograd.grad((gx ** 2).sum() + (gt * gx).sum(), (x, t)))
    run_both(run, tol=1e-9)


def test_bce_double_backward_finite_differences():
    x = ember.rand(2, 3, dtype=ember.float64).clamp(0.1, 0.9).requires_grad_()
    t = ember.rand(2, 3, dtype=ember.float64).requires_grad_()
    w = ember.rand(3, dtype=ember.float64)
    assert ember.autograd.gradgradcheck(lambda a, b: ember.nn.functional.binary_cross_entropy(a, b, weight=w), (x, t))


# -- kornia: torch.torch is torch (annotations), torch._assert_async checks its arguments, torch._assert ----------
def test_torch_torch_is_torch():
    from ember import aliasing
    with aliasing.as_torch():
        import torch as aliased
        assert aliased.torch is aliased and aliased.torch.Tensor is ember.Tensor
    assert torch.torch is torch


@pytest.mark.parametrize('args', ['T.tensor(True)', "T.tensor(1.), 'm'", 'T.tensor(False)', "T.tensor(0.), 'my msg'",
                                  'T.tensor([1, 1])', 'T.tensor([])'])
def test_assert_async(args):
    run_both(lambda T: T._assert_async(*eval(f'({args},)', {'T': T})), message=True)


@pytest.mark.parametrize('cond', ['True', 'T.tensor(True)', 'T.tensor(0)', 'False'])
def test_assert(cond):
    run_both(lambda T: T._assert(eval(cond, {'T': T}), 'shape mismatch'), message=True)


# -- lucidrains' torch-einops-utils (x-transformers): torch.utils._pytree's flatten/unflatten/map and TreeSpec -----
def _pytree_of(T):
    if T is torch:
        import torch.utils._pytree as pytree
        return pytree
    from ember import aliasing
    with aliasing.as_torch():
        import torch.utils._pytree as pytree
    return pytree


_NT = collections.namedtuple('_NT', 'a b')


def _tree(T):
    return [1, None, (2, {'b': 3, 'a': 4}), collections.OrderedDict(x=5), _NT(6, [7]), collections.deque([8], maxlen=3),
            collections.defaultdict(list, {'k': 9}), T.max(T.tensor([[1., 3.], [2., 0.]]), 1), {}, ()]


@pytest.mark.parametrize('case', [
    'P.tree_flatten(tree)', 'str(P.tree_structure(tree))', 'P.tree_unflatten([str(x) for x in P.tree_leaves(tree)], '
    'P.tree_structure(tree))[:7]', 'P.tree_map(lambda x: x * 2 if isinstance(x, int) else x, tree)[:7]',
    'P.tree_map_only(int, lambda x: -x, tree)[:7]', 'P.tree_map(lambda a, b: a + b, {"a": 1, "b": [2]}, {"a": 10, "b": [20]})',
    'str(P.tree_flatten(5))', 'P.tree_all(lambda x: x is not None, [1, (2,)])', 'P.tree_any(lambda x: x is None, [1, None])',
    'P.tree_structure([1, (2, 3)]) == P.tree_structure([4, (5, 6)])', 'P.tree_structure([1]) == P.tree_structure((1,))',
    'P.tree_unflatten([1], P.tree_structure([1, 2]))', 'P.tree_leaves([1, [2]], is_leaf=lambda x: x == [2])',
    'type(P.tree_unflatten(*P.tree_flatten(tree))[7]).__name__'])
def test_pytree(case):
    def run(T):
        out = eval(case, {'P': _pytree_of(T), 'tree': _tree(T)})
        return str(out) if case.startswith('P.tree_flatten(tree)') else out
    run_both(run, message=True)
