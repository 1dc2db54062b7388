"""Tabular deep-learning libraries under ``ember.aliasing.as_torch()`` (session 38): pytorch-tabnet 4.1
(TabNetClassifier/Regressor, sparsemax/entmax masks, ghost batch norm), pytorch-widedeep 1.7 and rtdl /
rtdl_revisiting_models (MLP, ResNet, FTTransformer). Run side by side with PyTorch with the same seed, each place
ember stopped or differed is reduced here to the lines that found it, checked against PyTorch. None of the
libraries is needed here."""
import numpy as np
import pytest
import torch

import ember


def _threads(n):
    """Both libraries at ``n`` threads; returns the function that puts both counts back."""
    before = torch.get_num_threads(), ember.get_num_threads()
    torch.set_num_threads(n)
    ember.set_num_threads(n)

    def back():
        torch.set_num_threads(before[0])
        ember.set_num_threads(before[1])
    return back


def _bits(e, t, what):
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy(), err_msg=what)


# -- pytorch_tabnet/tab_network.py: ``self.initial_bn = BatchNorm1d(self.input_dim, momentum=0.01)`` and GBN's ----
# -- ``BatchNorm1d`` on each virtual batch; rtdl_revisiting_models.ResNet's ``nn.BatchNorm1d(d_block)`` ------------
@pytest.mark.parametrize('threads', [1, 2, 3])
@pytest.mark.parametrize("shape", [(128, 12), (33, 21), (7, 3), (2, 5), (40, 9, 1), (50, 1)])
def test_batchnorm1d_rows_bits(threads, shape):
    """A BatchNorm1d on a (batch, features) input is PyTorch's rows kernel: each thread's share of the rows
    summed in a float32 buffer (the squared deviations as fused multiply-adds), the buffers added in float64, the
    output x * alpha + beta and the input's gradient by fused multiply-adds. ember's float64 sums gave other
    statistics, and TabNet's and rtdl ResNet's outputs differed from the first batch; the batch statistics,
    output, gradients and running statistics are now PyTorch's bits at each thread count."""
    rng = np.random.default_rng(sum(shape) + threads)
    C = shape[1]
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    w, b = rng.uniform(0.2, 2, C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    back = _threads(threads)
    try:
        got = {}
        for T in (torch, ember):
            bn = T.nn.BatchNorm1d(C, momentum=0.01)
            with T.no_grad():
                bn.weight.copy_(T.tensor(w))
                bn.bias.copy_(T.tensor(b))
            xt = T.tensor(x, requires_grad=True)
            y = bn(xt)
            y.backward(T.tensor(g))
            bn.eval()
            got[T] = [y, xt.grad, bn.weight.grad, bn.bias.grad, bn.running_mean, bn.running_var, bn(xt)]
    finally:
        back()
    for i, (e, t) in enumerate(zip(got[ember], got[torch])):
        _bits(e, t, f'output {i}')


def test_batchnorm1d_rows_gradcheck():
    """The rows path's gradients (training and eval) against finite differences in float64."""
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    w = ember.tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    b = ember.tensor(rng.standard_normal(3), requires_grad=True)
    rm, rv = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    for training in (True, False):
        assert ember.autograd.gradcheck(
            lambda x, w, b: ember.nn.functional.batch_norm(x, rm.clone(), rv.clone(), w, b, training), (x, w, b))


# -- pytorch_widedeep/wdtypes.py: ``from torchvision.transforms import (..., RandomOrder, RandomChoice, ...)`` -----
def test_widedeep_transform_names_import():
    """pytorch-widedeep imports torchvision's v1 RandomOrder, RandomChoice and LinearTransformation at import (its
    type aliases); ember's transforms lacked them. Their values are registry entries (tests/registry_data.py)."""
    import random
    import ember.aliasing
    with ember.aliasing.as_torch():
        from torchvision.transforms import RandomOrder, RandomChoice, LinearTransformation, CenterCrop, Pad
    img = ember.arange(2 * 7 * 7, dtype=ember.float32).reshape(2, 7, 7)
    for seed in range(4):   # torchvision's order is random.shuffle's: crop then pad 7 x 7, pad then crop 5 x 5
        random.seed(seed)
        order = [0, 1]
        random.shuffle(order)
        random.seed(seed)
        assert RandomOrder([CenterCrop(5), Pad(1)])(img).shape[-1] == (7 if order == [0, 1] else 5)
    assert repr(RandomChoice([Pad(1)], p=[1.0])) == 'RandomChoice(\n    Pad(padding=1, fill=0, padding_mode=constant)\n)(p=[1.0])'
    with pytest.raises(ValueError, match='should be square'):
        LinearTransformation(ember.ones(3, 2), ember.zeros(3))


# -- pytorch_widedeep/wdtypes.py: ``from torchvision.models._api import WeightsEnum`` ------------------------------
def test_torchvision_models_api_module_aliases():
    """torchvision's private ``torchvision.models._api`` (WeightsEnum, Weights, get_model...) is a module
    programs import by name; under the alias it stopped with 'ember has no counterpart of it'."""
    import ember.aliasing
    with ember.aliasing.as_torch():
        from torchvision.models._api import WeightsEnum, get_model_weights
        from torchvision.models import ResNet18_Weights
    assert issubclass(ResNet18_Weights, WeightsEnum)
    assert get_model_weights('resnet18') is ResNet18_Weights
