"""Opacus 1.6, torchsde 0.2.6 and torchdiffeq 0.2.5 under ``ember.aliasing.as_torch()`` (session 36): their README
and tutorial DP-SGD loops (PrivacyEngine.make_private on an MLP, a GroupNorm CNN, DPLSTM, an embedding model),
SDE solvers and adjoint ODEs, run with the same seed on both libraries. Each test is the lines that stopped or
differed, reduced and checked against PyTorch; the libraries themselves are not needed here."""
import importlib

import numpy as np
import pytest
import torch

import ember
from ember import aliasing


# -- opacus/optimizers/fsdpoptimizer_fast_gradient_clipping.py imports torch.distributed._tensor.experimental --------
def test_distributed_old_tensor_home_imports():
    """``from torch.distributed._tensor.experimental import implicit_replication`` (opacus/optimizers/
    fsdpoptimizer_fast_gradient_clipping.py, imported by ``import opacus``): the old home of DTensor imports,
    its ``experimental`` is the new module, and ``implicit_replication`` is a context manager."""
    with aliasing.as_torch():
        mod = importlib.import_module('torch.distributed._tensor.experimental')
        new = importlib.import_module('torch.distributed.tensor.experimental')
        old = importlib.import_module('torch.distributed._tensor')
    want = importlib.import_module('torch.distributed._tensor.experimental')
    assert mod is new and mod.__name__.startswith('ember.')
    assert sorted(mod.__all__) == sorted(want.__all__)
    with mod.implicit_replication(), want.implicit_replication():
        assert (ember.ones(2) + 1).tolist() == (torch.ones(2) + 1).tolist()
    assert old.DTensor is ember.distributed.tensor.DTensor
    assert {n for n in dir(importlib.import_module('torch.distributed._tensor')) if n[0].isupper()} <= set(dir(old))
    with pytest.raises(NotImplementedError, match='local_map'):
        mod.local_map(lambda x: x)


def test_dataloader_type_aliases():
    """``from torch.utils.data.dataloader import _collate_fn_t`` (opacus/data_loader.py)."""
    for name in ('_collate_fn_t', '_worker_init_fn_t', '_T', '_T_co'):
        assert repr(getattr(ember.utils.data.dataloader, name)) == repr(getattr(torch.utils.data.dataloader, name))
