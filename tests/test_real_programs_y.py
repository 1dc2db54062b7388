"""Training frameworks that wrap PyTorch loops, under ``ember.aliasing.as_torch()`` (session 35): pytorch-ignite
0.5.5 and skorch 1.4.0. The names and values they reached at import, in training, scoring and saving, each
reduced to the lines that stopped them or differed and checked against PyTorch (its CPU build). Neither library
(nor scikit-learn) is needed here."""
import pytest
import torch
import torch.distributed.optim
import torch.types

import ember
import ember.distributed.optim
import ember.types


def test_distributed_optim_names_import_and_zero_refuses():
    """ignite/handlers/checkpoint.py: ``from torch.distributed.optim import ZeroRedundancyOptimizer`` at import,
    then ``isinstance(obj, ZeroRedundancyOptimizer)`` on each object it saves."""
    for lib in (torch, ember):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=0.1)
        assert not isinstance(opt, lib.distributed.optim.ZeroRedundancyOptimizer)
        assert set(lib.distributed.optim.__all__) == set(torch.distributed.optim.__all__)
    with pytest.raises(NotImplementedError, match='ZeroRedundancyOptimizer is not supported by ember'):
        ember.distributed.optim.ZeroRedundancyOptimizer([ember.ones(2, requires_grad=True)], ember.optim.SGD, lr=0.1)


def test_types_aliases():
    """ignite/metrics/nlp/character_error_rate.py: ``from torch.types import Number`` at import."""
    values = [3, 2.5, True, 1j, 'cpu', 0, None]
    for name in ('Number', 'Device'):
        want = [isinstance(v, getattr(torch.types, name)) for v in values]
        assert [isinstance(v, getattr(ember.types, name)) for v in values] == want
    assert isinstance(ember.device('cpu'), ember.types.Device)
    assert ember.types.py_sym_types == (ember.SymInt, ember.SymFloat, ember.SymBool)
    assert ember.types._Number == torch.types._Number
