"""Opacus 1.6, torchsde 0.2.6 and torchdiffeq 0.2.5 under ``ember.aliasing.as_torch()`` (session 36): their README
and tutorial DP-SGD loops (PrivacyEngine.make_private on an MLP, a GroupNorm CNN, DPLSTM, an embedding model),
SDE solvers and adjoint ODEs, run with the same seed on both libraries. Each test is the lines that stopped or
differed, reduced and checked against PyTorch; the libraries themselves are not needed here."""
import contextlib
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


# -- opacus/grad_sample/gsm_exp_weights.py (grad_sample_mode="ew") calls call_for_per_sample_grads ------------------
def _per_sample_model(T):
    T.manual_seed(0)
    return T.nn.Sequential(T.nn.Conv1d(2, 3, 3), T.nn.GroupNorm(1, 3), T.nn.Tanh(), T.nn.Flatten(),
                           T.nn.Linear(12, 4), T.nn.LayerNorm(4), T.nn.Linear(4, 2))


@pytest.mark.parametrize('reduction', ['sum', 'mean'])
def test_call_for_per_sample_grads(reduction):
    """``call_for_per_sample_grads(module, batch_size=..., loss_reduction=...)(x)`` (opacus/grad_sample/
    gsm_exp_weights.py): the module's output, and after backward each parameter's ``grad_sample`` holds one gradient
    per batch entry (scaled by the batch size for "mean"), ``.grad`` left None; a second backward accumulates."""
    x = np.random.default_rng(1).standard_normal((5, 2, 6)).astype(np.float32)
    res = {}
    for T in (torch, ember):
        with aliasing.as_torch() if T is ember else contextlib.nullcontext():
            psg = importlib.import_module('torch.nn.utils._per_sample_grad')
        m = _per_sample_model(T)
        out = psg.call_for_per_sample_grads(m, batch_size=5, loss_reduction=reduction)(T.tensor(x))
        loss = out.pow(2).sum() if reduction == 'sum' else out.pow(2).mean()
        loss.backward(retain_graph=True)
        first = {n: p.grad_sample.detach().numpy().copy() for n, p in m.named_parameters()}
        assert all(p.grad is None for p in m.parameters())
        loss.backward()
        res[T] = out.detach().numpy(), first, {n: p.grad_sample.detach().numpy() for n, p in m.named_parameters()}
    (eo, ef, es), (to, tf, ts) = res[ember], res[torch]
    np.testing.assert_allclose(eo, to, rtol=1e-5, atol=1e-6)
    for n in tf:
        assert ef[n].shape == tf[n].shape and ef[n].shape[0] == 5
        np.testing.assert_allclose(ef[n], tf[n], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(es[n], ts[n], rtol=1e-4, atol=1e-5)


def test_per_sample_grads_equal_each_entrys_gradient():
    """Each ``grad_sample[i]`` is the gradient of entry i's own loss (float64, with an Embedding as in Opacus's
    embedding models)."""
    from ember.nn.utils._per_sample_grad import call_for_per_sample_grads
    ember.manual_seed(0)
    m = ember.nn.Sequential(ember.nn.Embedding(7, 3), ember.nn.Flatten(), ember.nn.Linear(6, 1)).double()
    idx = ember.tensor([[1, 2], [3, 3], [0, 6]])
    call_for_per_sample_grads(m)(idx).sum().backward()
    for i in range(3):
        grads = ember.autograd.grad(m(idx[i:i + 1]).sum(), list(m.parameters()))
        for p, g in zip(m.parameters(), grads):
            np.testing.assert_allclose(p.grad_sample[i].numpy(), g.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize('case', ['reduction', 'module', 'batch_size', 'mixed batch', 'batch norm', 'grad_sample set'])
def test_call_for_per_sample_grads_errors(case):
    """PyTorch's RuntimeErrors, with its messages."""
    def run(T):
        with aliasing.as_torch() if T is ember else contextlib.nullcontext():
            call = importlib.import_module('torch.nn.utils._per_sample_grad').call_for_per_sample_grads
        lin = T.nn.Linear(3, 2)
        if case == 'reduction':
            return call(lin, loss_reduction='max')
        if case == 'module':
            return call(lambda x: x)
        if case == 'batch_size':
            return call(lin, batch_size=0)
        if case == 'mixed batch':
            return call(T.nn.Bilinear(3, 3, 2))(T.ones(2, 3), T.ones(4, 3))
        if case == 'batch norm':
            return call(T.nn.Sequential(T.nn.Linear(3, 2), T.nn.BatchNorm1d(2)))(T.ones(4, 3)).sum().backward()
        lin.weight.grad_sample = T.ones(1)
        return call(lin)
    with pytest.raises(RuntimeError) as got:
        run(ember)
    with pytest.raises(RuntimeError) as want:
        run(torch)
    assert str(got.value).split('Parameter containing')[0] == str(want.value).split('Parameter containing')[0]


# -- opacus/tests/grad_samples/group_norm_test.py draws an empty batch (N=0) -----------------------------------------
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'bfloat16'])
@pytest.mark.parametrize('shape,groups', [((0, 2, 5, 4), 1), ((0, 4, 3), 2), ((0, 6), 3)])
def test_group_norm_empty_batch(shape, groups, dtype):
    """``F.group_norm`` of an empty batch (hypothesis's N=0 in Opacus's group norm test): an empty result with
    PyTorch's grad_fn, an empty input gradient and zero parameter gradients (ember's reshape to (0, -1) raised)."""
    out = {}
    for T in (torch, ember):
        dt = getattr(T, dtype)
        x = T.zeros(shape, dtype=dt, requires_grad=True)
        w = T.ones(shape[1], dtype=dt, requires_grad=True)
        b = T.zeros(shape[1], dtype=dt, requires_grad=True)
        y = T.nn.functional.group_norm(x, groups, w, b)
        y.sum().backward()
        out[T] = (tuple(y.shape), str(y.dtype), type(y.grad_fn).__name__, tuple(x.grad.shape),
                  w.grad.float().tolist(), b.grad.float().tolist(), str(w.grad.dtype))
    assert out[ember] == out[torch]


# -- opacus/tests/grad_samples/conv2d_test.py (and conv3d's) draw an empty batch too ---------------------------------
@pytest.mark.parametrize('dim,transposed,stride,groups', [(2, False, 2, 1), (2, False, 2, 2), (3, True, 1, 1),
                                                          (3, True, 1, 2), (3, True, 2, 2), (1, False, 2, 1)])
def test_conv_empty_batch(dim, transposed, stride, groups):
    """A convolution of an empty batch (N=0): conv2d's stride-2 columns and conv_transpose3d's forward and backward
    reshaped to (0, -1, ...), which NumPy refuses; PyTorch gives empty results and zero parameter gradients."""
    out = {}
    for T in (torch, ember):
        T.manual_seed(0)
        cls = getattr(T.nn, f'ConvTranspose{dim}d' if transposed else f'Conv{dim}d')
        conv = cls(4, 6, 3, stride=stride, groups=groups)
        x = T.zeros((0, 4) + (7,) * dim, requires_grad=True)
        y = conv(x)
        y.sum().backward()
        out[T] = (tuple(y.shape), type(y.grad_fn).__name__, tuple(x.grad.shape), conv.weight.grad.abs().sum().item(),
                  conv.bias.grad.abs().sum().item())
    assert out[ember] == out[torch]
