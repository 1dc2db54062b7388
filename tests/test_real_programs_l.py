"""Real pure-PyTorch libraries run on ember against PyTorch (session 31), each reduced to the lines that
exercised ember: bayesiains/nflows (LeakyReLU transform's ``(x < 0).type(torch.Tensor)`` mask, its test case's
``torch.equal`` on a shape), rtqichen/torchdiffeq, jettify/pytorch-optimizer and VincentStimper/normalizing-flows
(which ran unchanged and matched)."""
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
