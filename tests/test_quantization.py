"""Eager-mode quantization (torch.quantization / torch.ao.quantization) against PyTorch: stubs, module fusion,
quantized tensors and quantize_dynamic, each case run through both libraries and compared."""
import importlib

import numpy as np
import pytest
import torch

import ember


def _seeded(L, seed=0):
    L.manual_seed(seed)
    return L


def _set_bn_stats(L, model):
    """Give every batch norm non-trivial running statistics and affine parameters (same in both libraries)."""
    rng = np.random.default_rng(1)
    with L.no_grad():
        for m in model.modules():
            if isinstance(m, L.nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.running_mean.copy_(L.tensor(rng.standard_normal(n).astype(np.float32)))
                m.running_var.copy_(L.tensor(rng.uniform(0.5, 2, n).astype(np.float32)))
                if m.affine:
                    m.weight.copy_(L.tensor(rng.standard_normal(n).astype(np.float32)))
                    m.bias.copy_(L.tensor(rng.standard_normal(n).astype(np.float32)))
    return model


def _convnet(L, d=2):
    nn = L.nn
    conv, bn = getattr(nn, f'Conv{d}d'), getattr(nn, f'BatchNorm{d}d')

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant = L.quantization.QuantStub()
            self.conv1, self.bn1, self.relu1 = conv(3, 4, 3, padding=1), bn(4), nn.ReLU()
            self.conv2, self.bn2 = conv(4, 5, 3, bias=False), bn(5)
            self.conv3, self.relu3 = conv(5, 2, 1), nn.ReLU()
            self.dequant = L.quantization.DeQuantStub()

        def forward(self, x):
            x = self.quant(x)
            x = self.relu1(self.bn1(self.conv1(x)))
            x = self.bn2(self.conv2(x))
            return self.dequant(self.relu3(self.conv3(x)))
    return _set_bn_stats(L, _seeded(L) and Net())


def _mlp(L):
    nn = L.nn
    m = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.Linear(8, 5), nn.ReLU(), nn.Linear(5, 3))
    return _set_bn_stats(L, _seeded(L) and m)


def _bnrelu(L):
    nn = L.nn
    return _set_bn_stats(L, _seeded(L) and nn.Sequential(nn.Conv2d(3, 4, 2), nn.BatchNorm2d(4), nn.ReLU(),
                                                        nn.ConvTranspose2d(4, 3, 2), nn.BatchNorm2d(3)))


# name -> (model builder, modules_to_fuse, input shape)
_FUSE = {
    'conv2d': (_convnet, [['conv1', 'bn1', 'relu1'], ['conv2', 'bn2'], ['conv3', 'relu3']], (2, 3, 6, 6)),
    'conv1d': (lambda L: _convnet(L, 1), [['conv1', 'bn1', 'relu1'], ['conv2', 'bn2'], ['conv3', 'relu3']],
               (2, 3, 7)),
    'conv3d': (lambda L: _convnet(L, 3), [['conv1', 'bn1', 'relu1'], ['conv2', 'bn2']], (1, 3, 4, 4, 4)),
    'single_list': (_convnet, ['conv1', 'bn1', 'relu1'], (2, 3, 5, 5)),
    'linear': (_mlp, [['0', '1'], ['2', '3']], (4, 6)),
    'bn_relu_convt': (_bnrelu, [['1', '2'], ['3', '4']], (2, 3, 5, 5)),
}


def _fuse_case(L, name, qat=False):
    build, groups, shape = _FUSE[name]
    model = build(L)
    model.train(qat)
    fuse = L.ao.quantization.fuse_modules_qat if qat else L.quantization.fuse_modules
    fused = fuse(model, groups)
    x = L.tensor(np.random.default_rng(2).standard_normal(shape).astype(np.float32))
    fused.eval()
    model.eval()
    out, ref = fused(x), model(x)
    return (repr(fused), list(fused.state_dict()), [v.detach().numpy() for v in fused.state_dict().values()],
            out.detach().numpy(), ref.detach().numpy())


@pytest.mark.parametrize('qat', [False, True])
@pytest.mark.parametrize('name', sorted(_FUSE))
def test_fuse_modules(name, qat):
    if qat and name == 'bn_relu_convt':
        for L in (torch, ember):
            with pytest.raises(Exception, match='Fusing ConvTranspose\\+BatchNorm not yet supported in QAT.'):
                _fuse_case(L, name, qat)
        return
    got, want = _fuse_case(ember, name, qat), _fuse_case(torch, name, qat)
    assert got[0] == want[0]
    assert got[1] == want[1]
    for a, b in zip(got[2], want[2]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got[3], want[3], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[4], want[4], rtol=1e-5, atol=1e-5)


def _errors(L):
    nn, q = L.nn, L.quantization
    cases = {
        'unknown': lambda: q.fuse_modules(nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), ['0', '1']),
        'mixed_modes': lambda: q.fuse_modules(nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2).eval()),
                                              ['0', '1']),
        'train_eval_fusion': lambda: q.fuse_modules(nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2)),
                                                    ['0', '1']),
        'qat_channels': lambda: L.ao.quantization.fuse_modules_qat(nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(3)),
                                                   ['0', '1']),
        'intrinsic_types': lambda: L.ao.nn.intrinsic.ConvReLU2d(nn.Conv1d(1, 1, 1), nn.ReLU()),
    }
    out = {}
    for k, f in cases.items():
        try:
            f()
            out[k] = None
        except Exception as e:  # noqa: BLE001 (the type and message are compared)
            out[k] = (type(e).__name__, str(e))
    return out


def test_fuse_errors():
    got, want = _errors(ember), _errors(torch)
    got['unknown'] = (got['unknown'][0], got['unknown'][1].replace('ember.', 'torch.'))
    assert got == want


def _hooks(L):
    nn = L.nn
    seen = []
    m = _set_bn_stats(L, nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2), nn.ReLU())).eval()
    m[0].register_forward_pre_hook(lambda mod, inp: seen.append(('pre', type(mod).__name__)))
    m[2].register_forward_hook(lambda mod, inp, out: seen.append(('post', type(mod).__name__)))
    f = L.quantization.fuse_modules(m, ['0', '1', '2'], inplace=True)
    f(L.ones(1, 1, 2, 2))
    return seen, f is m, [type(c).__name__ for c in f], [c.training for c in f]


def test_fuse_moves_hooks_inplace():
    assert _hooks(ember) == _hooks(torch)


def _stubs(L):
    q = L.quantization
    x = L.arange(6.).reshape(2, 3)
    w = q.QuantWrapper(L.nn.Linear(3, 2).eval())
    return (repr(q.QuantStub()), repr(q.DeQuantStub()), repr(w), w.training, q.QuantStub()(x) is x,
            q.DeQuantStub()(x) is x, list(w.state_dict()), hasattr(q.QuantStub(), 'qconfig'))


def test_stubs_identity_before_convert():
    assert _stubs(ember) == _stubs(torch)


@pytest.mark.parametrize('mod', ['torch.quantization', 'torch.ao.quantization', 'torch.ao.nn.intrinsic',
                                 'torch.ao.quantization.stubs', 'torch.ao.quantization.fuse_modules',
                                 'torch.ao.quantization.fuser_method_mappings'])
def test_import_under_alias(mod):
    from ember import aliasing
    with aliasing.as_torch():
        m = importlib.import_module(mod)
        assert m.__name__.startswith('ember')
    names = {'torch.quantization': ['QuantStub', 'DeQuantStub', 'QuantWrapper', 'fuse_modules',
                                    'quantize_dynamic'],
             'torch.ao.nn.intrinsic': ['ConvReLU2d', 'LinearReLU', 'ConvBn2d', 'BNReLU2d', 'ConvBnReLU2d']}
    for n in names.get(mod, []):
        assert hasattr(m, n) and hasattr(importlib.import_module(mod), n)


def test_unbuilt_names_refuse_by_name():
    q = ember.quantization
    for n in ('prepare', 'convert', 'default_qconfig', 'get_default_qconfig', 'MinMaxObserver'):
        assert hasattr(torch.quantization, n)
        with pytest.raises(NotImplementedError, match=f'torch.ao.quantization.{n} is not supported by ember'):
            getattr(q, n)()


# (scale, zero_point, quant_min, quant_max): qint8/quint8 ranges, reduce_range's, 4-bit, odd scales
_FQ = [(0.1, 3, 0, 10), (0.0371, 0, -128, 127), (0.5, -2, -8, 7), (1 / 3, 128, 0, 255), (0.02, 64, 0, 127),
       (2.5, 0, -64, 63)]


@pytest.mark.parametrize('args', _FQ)
def test_fake_quantize_per_tensor_affine(args):
    a = (np.random.default_rng(3).standard_normal(2000) * 20).astype(np.float32)
    a[:4] = [0.05, -0.05, 0.15, 0.25]    # halfway values: nearbyint's ties to even
    out = []
    for L in (ember, torch):
        x = L.tensor(a, requires_grad=True)
        y = L.fake_quantize_per_tensor_affine(x, *args)
        (y * L.arange(2000.)).sum().backward()
        out.append((y.detach().numpy(), x.grad.numpy(), type(y.grad_fn).__name__))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
    assert out[0][2] == out[1][2]


def test_fake_quantize_errors():
    x = (ember.ones(3), torch.ones(3))
    for args in [(0.1, 0, 5, 2), (0.1, 20, 0, 10)]:
        with pytest.raises(RuntimeError) as want:
            torch.fake_quantize_per_tensor_affine(x[1], *args)
        with pytest.raises(RuntimeError) as got:
            ember.fake_quantize_per_tensor_affine(x[0], *args)
        assert str(got.value) == str(want.value)


@pytest.mark.parametrize('axis', [0, 1, 2])
def test_fake_quantize_per_channel_affine(axis):
    rng = np.random.default_rng(4)
    a = (rng.standard_normal((3, 4, 5)) * 10).astype(np.float32)
    n = a.shape[axis]
    sc = rng.uniform(0.01, 0.7, n).astype(np.float32)
    zp = rng.integers(-3, 4, n)
    out = []
    for L in (ember, torch):
        x = L.tensor(a, requires_grad=True)
        y = L.fake_quantize_per_channel_affine(x, L.tensor(sc), L.tensor(zp, dtype=L.int32), axis, -8, 7)
        (y * L.arange(60.).reshape(3, 4, 5)).sum().backward()
        out.append((y.detach().numpy(), x.grad.numpy(), type(y.grad_fn).__name__))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
    assert out[0][2] == out[1][2]


def test_fake_quantize_per_channel_axis_error():
    msgs = []
    for L in (ember, torch):
        with pytest.raises(RuntimeError) as e:
            L.fake_quantize_per_channel_affine(L.ones(2, 3), L.ones(3), L.zeros(3, dtype=L.int32), -1, 0, 255)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize('mod,name', [('torch.ao.nn.quantized', 'Linear'), ('torch.ao.nn.quantized', 'Quantize'),
                                      ('torch.ao.nn.quantized.dynamic', 'Linear'),
                                      ('torch.ao.nn.quantized.dynamic', 'LSTM')])
def test_quantized_modules_import_and_refuse_by_name(mod, name):
    from ember import aliasing
    assert hasattr(importlib.import_module(mod), name)
    with aliasing.as_torch():
        cls = getattr(importlib.import_module(mod), name)
    with pytest.raises(NotImplementedError, match=f'{mod}.{name} is not supported by ember yet'):
        cls(4, 3)
