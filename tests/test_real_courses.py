"""Defects found by running course and book code (UvA DL notebooks, d2l, Raschka's deeplearning-models,
dlwpt, Karpathy's makemore/minGPT) on ember, each checked against PyTorch."""
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember


def _graph(t):
    """grad_fn names from ``t`` down its first inputs."""
    names, fn = [], t.grad_fn
    while fn is not None:
        names.append(fn.name())
        fn = fn.next_functions[0][0] if fn.next_functions else None
    return names


# reshape records what PyTorch's reshape records: a view of a contiguous tensor (ViewBackward0), another view of
# a non-contiguous one (ReshapeAliasBackward0; UvA's GAT layer reshapes an einsum result), else a contiguous
# clone viewed (UnsafeViewBackward0 over CloneBackward0)
@pytest.mark.parametrize('expr', ['a.reshape(6, 4)', 'a[:, 1:].reshape(2, 8)', 'a[:, :, 1:].flatten(0, 1)',
                                  'a.permute(0, 2, 1).reshape(2, 12)', 'a.transpose(0, 1).flatten()',
                                  'a.transpose(0, 1)[:, :1].reshape(3, 4)', 'a.reshape_as(a[0].repeat(2, 1, 1))',
                                  'a[0].t().reshape(-1)', 'a[:1].reshape(3, 4)'])
def test_reshape_graph_as_pytorch(expr):
    res = []
    for T in (torch, ember):
        a = T.arange(24.).reshape(2, 3, 4).requires_grad_() * 1
        r = eval(expr, {'a': a})
        (r * T.arange(float(r.numel())).reshape(r.shape)).sum().backward()
        res.append((_graph(r), r.is_contiguous(), r.tolist()))
    assert res[0] == res[1]


_FLOAT_CODE = """
import warnings
import {lib} as T
x = T.tensor(2.5, requires_grad=True) * 2
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter('always')
    int(x), x.item(), float(x.detach())
    print(len(w))
    float(x), float(x)
    print(len(w), str(w[0].message).splitlines()[0], float(x))
"""


def test_float_of_a_tensor_requiring_grad_warns_once():
    """float(loss) on a graph tensor (ReduceLROnPlateau.step(loss) in UvA's autoencoder) warns as PyTorch 2.13
    does, once per process; int(), .item() and a tensor without grad do not."""
    out = [subprocess.run([sys.executable, '-c', _FLOAT_CODE.format(lib=lib)], capture_output=True, text=True).stdout
           for lib in ('torch', 'ember')]
    assert out[0] == out[1] and 'requires_grad=True' in out[0]


# a sum over trailing dims of a contiguous tensor is one inner reduction per row in PyTorch (UvA's autoencoder
# loss.sum(dim=[1, 2, 3]) printed 1082.8330 against 1082.8329), and the sums come out contiguous
@pytest.mark.parametrize('shape, dim', [((4, 3, 32, 32), (1, 2, 3)), ((4, 3, 32, 32), (2, 3)),
                                        ((5, 7, 300), (1, 2)), ((6, 1000), (1,)), ((2, 3, 5), (-1, -2))])
def test_trailing_dims_sum_order(shape, dim):
    x = np.random.RandomState(0).randn(*shape).astype(np.float32) * 3
    res = []
    for T in (torch, ember):
        s = T.from_numpy(x).sum(dim=dim)
        res.append((s.numpy().tobytes(), s.is_contiguous(), s.sum().item(), T.from_numpy(x).mean(dim=dim).tolist()))
    assert res[0] == res[1]


# var/std accumulate float32 in double as PyTorch's CPU kernels (UvA's init notebook printed the weights' std
# 0.24387019872665405 against 0.24387021362781525)
@pytest.mark.parametrize('expr', ['x.std()', 'x.var()', 'x.std(0)', 'x.var(1, unbiased=False)', 'x.std(1, True)',
                                  'torch_.std_mean(x, 0)[0]', 'torch_.var_mean(x, (0, 1))[0]', 'x[:, :7].std(0)'])
def test_var_std_float32_as_pytorch(expr):
    x = np.random.RandomState(1).randn(64, 100).astype(np.float32) * 0.3 + 0.1
    res = [eval(expr, {'x': T.from_numpy(x), 'torch_': T}).numpy().tobytes() for T in (torch, ember)]
    assert res[0] == res[1]


# backward formulas in PyTorch's order of float operations: rsqrt g * (-0.5 * y^3), reciprocal g * -(y * y),
# asin/acos g * (1 / sqrt(1 - x^2)) (which with g / sqrt(...) differed in the last bit for a third of the values)
@pytest.mark.parametrize('name', ['rsqrt', 'reciprocal', 'asin', 'acos'])
def test_backward_rounding_as_pytorch(name):
    rng = np.random.RandomState(2)
    x = (rng.rand(4000) * 1.8 - 0.9).astype(np.float32)
    if name == 'rsqrt':
        x = np.abs(x) + 0.01
    g = rng.randn(4000).astype(np.float32)
    res = []
    for T in (torch, ember):
        w = T.from_numpy(x.copy()).requires_grad_()
        y = getattr(T, name)(w)
        y.backward(T.from_numpy(g))
        res.append((y.detach().numpy(), w.grad.numpy()))
    same = res[0][0] == res[1][0]     # where the forward values agree, the gradients agree to the bit
    assert same.mean() > 0.9
    np.testing.assert_array_equal(res[1][1][same], res[0][1][same])


def test_tensor_classes_print_as_pytorch():
    """type(x) in d2l's ndarray section: <class 'torch.Tensor'>; Parameter as torch.nn.parameter.Parameter; a
    user's subclass as Python prints it."""
    out = []
    for T in (torch, ember):
        class Mine(T.Tensor):
            pass
        x = T.ones(2)
        out.append([repr(type(x)), str(T.Tensor), repr(type(T.nn.Parameter(x))), repr(T.nn.UninitializedParameter),
                    repr(Mine), type(x).__name__])
    assert out[0] == out[1]


# PyTorch's argument parser takes NumPy's spelling ``axis`` for ``dim`` (and ``keepdims`` for ``keepdim``); d2l's
# code, written for several frameworks, calls torch.cat(..., axis=1) and torch.stack(..., axis=-1)
@pytest.mark.parametrize('expr', ['T.stack((x, x), axis=1)', 'T.cat((x, x), axis=1)', 'T.concat((x, x), axis=-1)',
                                  'T.concatenate((x, x), axis=0)', 'x.softmax(axis=1)', 'T.log_softmax(x, axis=0)',
                                  'x.squeeze(axis=0)', 'T.sort(x, axis=0, descending=True)[0]', 'x.argsort(axis=1)',
                                  'x.topk(2, axis=0)[1]', 'x.chunk(2, axis=1)[1]', 'x.unbind(axis=1)[2]',
                                  'T.repeat_interleave(x, 2, axis=1)', 'T.diff(x, axis=0)',
                                  'T.tensor_split(x, 2, axis=1)[0]', 'x.kthvalue(2, axis=1, keepdims=True)[0]',
                                  'T.take_along_dim(x, T.tensor([[0], [1], [2]]), axis=1)',
                                  'T.quantile(x, 0.5, axis=1, keepdims=True)', 'T.nanquantile(x, 0.25, axis=0)'])
def test_numpy_axis_alias(expr):
    res = []
    for T in (torch, ember):
        x = T.arange(12.).reshape(3, 4).requires_grad_() * 1
        r = eval(expr, {'T': T, 'x': x})
        res.append((r.detach().numpy(), r.grad_fn.name() if r.grad_fn is not None else None))
    assert res[0][1] == res[1][1]
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-6)


def test_rpc_rref_isinstance():
    """Raschka's helper_train.py tests isinstance(logits, torch.distributed.rpc.api.RRef) on every batch; without
    RPC initialised the calls raise PyTorch's RuntimeError."""
    for T in (torch, ember):
        assert not isinstance(T.ones(2), T.distributed.rpc.api.RRef)
        assert T.distributed.rpc.RRef is T.distributed.rpc.api.RRef
    msgs = []
    for T in (torch, ember):
        with pytest.raises(RuntimeError) as e:
            T.distributed.rpc.rpc_sync('worker1', T.add, args=(1, 2))
        msgs.append(str(e.value))
        with pytest.raises(RuntimeError):
            T.distributed.rpc.RRef(T.ones(2))
    assert msgs[0] == msgs[1]


def test_nn_modules_utils():
    """from torch.nn.modules.utils import _pair (custom conv layers) and consume_prefix_in_state_dict_if_present
    (a DataParallel checkpoint's 'module.' keys)."""
    import torch.nn.modules.utils as tu
    import ember.nn.modules.utils as eu
    for f in ('_single', '_pair', '_triple', '_quadruple'):
        for v in (3, (1, 2), [4, 5, 6]):
            assert getattr(tu, f)(v) == getattr(eu, f)(v)
    assert tu._reverse_repeat_tuple((1, 2, 3), 2) == eu._reverse_repeat_tuple((1, 2, 3), 2)
    assert tu._list_with_default([None, 3], [1, 2, 5, 6]) == eu._list_with_default([None, 3], [1, 2, 5, 6])
    sds = []
    for T, U in ((torch, tu), (ember, eu)):
        sd = T.nn.DataParallel(T.nn.Sequential(T.nn.Linear(2, 2))).state_dict()
        U.consume_prefix_in_state_dict_if_present(sd, 'module.')
        sds.append((list(sd), sorted(sd._metadata)))
    assert sds[0] == sds[1]


# a loss's 'mean' and 'sum' add in PyTorch's order (dlwpt's nn.MSELoss printed 164.57504272460938 for
# 164.5750274658203 on nine outputs)
@pytest.mark.parametrize('loss', ['mse_loss', 'l1_loss', 'smooth_l1_loss', 'huber_loss', 'binary_cross_entropy'])
@pytest.mark.parametrize('reduction', ['mean', 'sum'])
@pytest.mark.parametrize('n', [9, 37, 300, 4000])
def test_loss_reduction_order(loss, reduction, n):
    rng = np.random.RandomState(n)
    x = rng.rand(n).astype(np.float32) * (1 if loss == 'binary_cross_entropy' else 30)
    t = rng.rand(n).astype(np.float32) * (1 if loss == 'binary_cross_entropy' else 30)
    res = [getattr(T.nn.functional, loss)(T.from_numpy(x), T.from_numpy(t), reduction=reduction).item()
           for T in (torch, ember)]
    assert res[0] == res[1]


# torch.mode (a kNN classifier's vote over the k nearest labels) and torch.msort were missing
@pytest.mark.parametrize('expr', ['T.mode(x, 1)', 'x.mode(dim=0)', 'T.mode(x[0])', 'T.mode(x, 1, keepdim=True)',
                                  'T.mode(T.tensor(5.))', 'T.mode(f)', 'T.mode(x.bool(), 1)',
                                  'T.mode(T.zeros(0, 3), 1)',
                                  'T.msort(f.reshape(2, 3))'])
def test_mode_and_msort(expr):
    res = []
    for T in (torch, ember):
        x = T.tensor([[3, 1, 2, 1, 3, 5], [2, 2, 7, 7, 0, 0], [4, 4, 4, 1, 1, 1]])
        f = T.tensor([1., 2., 2., float('nan'), float('nan'), float('nan')])
        r = eval(expr, {'T': T, 'x': x, 'f': f})
        res.append(repr(r))
    assert res[0] == res[1]


def test_mode_backward():
    res = []
    for T in (torch, ember):
        z = T.tensor([[1., 2., 2., 3.], [5., 5., 4., 4.]], requires_grad=True)
        m = T.mode(z, 1)
        (m.values * T.tensor([2., 3.])).sum().backward()
        res.append((m.values.grad_fn.name(), z.grad.tolist(), m.indices.tolist()))
    assert res[0] == res[1]


def test_old_import_paths_run(tmp_path):
    """Import paths of older course code: torch.utils.data._utils.collate, torch.nn.modules.utils,
    torch.distributed.rpc, under ``ember run``, printing what PyTorch prints."""
    script = tmp_path / 'imports.py'
    script.write_text('import torch\n'
                      'from torch.utils.data._utils.collate import default_collate\n'
                      'from torch.nn.modules.utils import _pair\n'
                      'from torch.distributed.rpc import RRef\n'
                      'print(default_collate([(torch.ones(2), 1), (torch.zeros(2), 0)]), _pair(3))\n'
                      'print(isinstance(torch.ones(1), RRef),\n'
                      '      isinstance(torch.ones(1), torch.distributed.rpc.api.RRef))\n')
    out = [subprocess.run(cmd + [str(script)], capture_output=True, text=True).stdout
           for cmd in ([sys.executable], [sys.executable, '-m', 'ember', 'run'])]
    assert out[0] == out[1] and 'tensor' in out[0]


# nn.ConvTranspose3d was missing: dlwpt's LunaModel names it in its init loop (AttributeError before any 3-D
# transposed convolution ran); output, input/weight/bias gradients (float64) and the repr as PyTorch's
@pytest.mark.parametrize('cfg', [{}, {'stride': 2}, {'stride': 2, 'padding': 1, 'output_padding': 1},
                                 {'stride': (2, 1, 3), 'padding': (1, 0, 2), 'dilation': (1, 2, 1),
                                  'output_padding': (1, 0, 2)},
                                 {'groups': 2, 'stride': 2}, {'bias': False, 'padding': 1}], ids=str)
def test_conv_transpose3d(cfg):
    rng = np.random.RandomState(4)
    x0 = rng.randn(2, 4, 3, 4, 5)
    res = []
    for T in (torch, ember):
        T.manual_seed(1)
        m = T.nn.ConvTranspose3d(4, 6, (3, 2, 3), **cfg).double()
        x = T.tensor(x0, requires_grad=True)
        y = m(x)
        (y * T.arange(y.numel(), dtype=T.float64).reshape(y.shape).sin()).sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy(), m.weight.grad.numpy(),
                    None if m.bias is None else m.bias.grad.numpy(), y.grad_fn.name(), repr(m)))
    assert res[0][4:] == res[1][4:]
    for a, b in zip(res[0][:4], res[1][:4]):
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


# volumetric grid_sample (trilinear / nearest): dlwpt's LunaDataset augments CT chunks through affine_grid and
# grid_sample on 5-D tensors (NotImplementedError before); values and both gradients (float64) as PyTorch's
@pytest.mark.parametrize('mode', ['bilinear', 'nearest'])
@pytest.mark.parametrize('padding_mode', ['zeros', 'border', 'reflection'])
@pytest.mark.parametrize('align_corners', [False, True])
def test_grid_sample_3d(mode, padding_mode, align_corners):
    rng = np.random.RandomState(0)
    a0, g0 = rng.randn(2, 3, 4, 5, 6), rng.rand(2, 3, 4, 5, 3) * 2.4 - 1.2
    res = []
    for T in (torch, ember):
        a, g = T.tensor(a0, requires_grad=True), T.tensor(g0, requires_grad=True)
        y = T.nn.functional.grid_sample(a, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
        (y * T.arange(y.numel(), dtype=T.float64).reshape(y.shape).cos()).sum().backward()
        res.append((y.detach().numpy(), a.grad.numpy(), g.grad.numpy(), y.grad_fn.name()))
    assert res[0][3] == res[1][3]
    for x, e in zip(res[0][:3], res[1][:3]):
        np.testing.assert_allclose(e, x, rtol=1e-10, atol=1e-12)


def test_luna_augmentation_float32():
    """dlwpt's getCtAugmentedCandidate: a flip/offset/scale/rotation 3x4 matrix through affine_grid, then
    grid_sample with border padding, on a float32 chunk."""
    rng = np.random.RandomState(1)
    ct, m = rng.randn(1, 1, 6, 8, 8).astype(np.float32), np.eye(4, dtype=np.float32)
    m[:3, :3] = rng.rand(3, 3) * 0.4 + np.diag([-1, 1, 1.1])
    m[:3, 3] = rng.rand(3) * 0.2 - 0.1
    res = []
    for T in (torch, ember):
        grid = T.nn.functional.affine_grid(T.from_numpy(m)[:3].unsqueeze(0), [1, 1, 6, 8, 8], align_corners=False)
        res.append(T.nn.functional.grid_sample(T.from_numpy(ct), grid, padding_mode='border',
                                               align_corners=False).numpy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-5, atol=1e-6)


def test_lazy_parameter_data_is_an_empty_tensor():
    """d2l's concise linear regression initializes a LazyLinear through ``net.weight.data.normal_(0, 0.01)`` and
    ``net.bias.data.fill_(0)`` before any forward: PyTorch's ``.data`` is an empty tensor, so nothing happens and
    the first forward initializes the layer (ember raised ValueError)."""
    res = []
    for T in (torch, ember):
        T.manual_seed(0)
        net = T.nn.LazyLinear(3)
        d = net.weight.data
        d.normal_(0, 0.01)
        net.bias.data.fill_(0)
        y = net(T.ones(2, 4))
        res.append((repr(d), tuple(d.shape), str(d.dtype), d.requires_grad, y.tolist(), net.bias.tolist()))
    assert res[0] == res[1]
