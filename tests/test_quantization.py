"""Eager-mode quantization (torch.quantization / torch.ao.quantization) against PyTorch: stubs, module fusion,
quantized tensors and quantize_dynamic, each case run through both libraries and compared."""
import copy
import importlib
import pickle

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
    for n in ('default_qat_qconfig', 'FakeQuantize', 'prepare_qat', 'quantize_qat'):
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


@pytest.mark.parametrize('mod,name', [('torch.ao.nn.quantized', 'Conv2d'), ('torch.ao.nn.quantized', 'LayerNorm'),
                                      ('torch.ao.nn.quantized.dynamic', 'Conv2d'),
                                      ('torch.ao.nn.quantized.dynamic', 'ConvTranspose1d')])
def test_quantized_modules_import_and_refuse_by_name(mod, name):
    from ember import aliasing
    assert hasattr(importlib.import_module(mod), name)
    with aliasing.as_torch():
        cls = getattr(importlib.import_module(mod), name)
    with pytest.raises(NotImplementedError, match=f'{mod}.{name} is not supported by ember yet'):
        cls(4, 3)


# -- quantized tensors ------------------------------------------------------------------------------------------
def _qdata(n=3000, seed=5):
    a = (np.random.default_rng(seed).standard_normal(n) * 4).astype(np.float32)
    a[:6] = [0.05, -0.05, 0.15, 0.25, 1e9, -1e9]     # halfway values (ties to even) and values past the range
    return a


def _qview(q):
    """Everything a quantized tensor shows: its integers, values, qparams and repr."""
    scheme = str(q.qscheme()).replace('ember.', 'torch.')
    if 'per_tensor' in scheme:
        params = (q.q_scale(), q.q_zero_point())
    else:
        params = (q.q_per_channel_scales().numpy().tolist(), q.q_per_channel_zero_points().numpy().tolist(),
                  q.q_per_channel_axis())
    return (q.int_repr().numpy(), q.dequantize().numpy(), params, repr(q), str(q.dtype), scheme, q.is_quantized,
            tuple(q.shape), q.stride(), q.element_size())


def _same_view(got, want):
    np.testing.assert_array_equal(got[0], want[0])
    assert got[0].dtype == want[0].dtype
    np.testing.assert_array_equal(got[1], want[1])
    assert got[2:] == want[2:]


# (scale, zero_point, dtype name): odd scales, both ends of each range, qint32's wide one
_PER_TENSOR = [(0.1, 0, 'qint8'), (0.0371, -5, 'qint8'), (0.023622047244094488, 42, 'quint8'), (1 / 3, 255, 'quint8'),
               (0.7, 0, 'quint8'), (1e-3, 3, 'qint32'), (1e-5, -70000, 'qint32'), (2.5, -128, 'qint8')]


@pytest.mark.parametrize('scale,zp,dt', _PER_TENSOR)
def test_quantize_per_tensor(scale, zp, dt):
    a = _qdata()
    if dt == 'qint32':      # past int32's range PyTorch's float-to-int conversion overflows (-1e12 gives +2**31-1)
        a[4:6] = [1e3, -1e3]
    got, want = ([_qview(L.quantize_per_tensor(L.tensor(a), scale, zp, getattr(L, dt))),
                  _qview(L.quantize_per_tensor(L.tensor(a[6:26].reshape(4, 5)), scale, zp, getattr(L, dt)))]
                 for L in (ember, torch))
    for g, w in zip(got, want):
        _same_view(g, w)


@pytest.mark.parametrize('shape', [(), (0,), (2, 3, 4), (1, 5)])
def test_quantize_per_tensor_shapes_and_tensor_qparams(shape):
    a = _qdata(int(np.prod(shape)) + 6)[6:].reshape(shape)
    got, want = ([_qview(L.quantize_per_tensor(L.tensor(a), 0.5, 2, L.quint8)),
                  _qview(L.quantize_per_tensor(L.tensor(a), L.tensor(0.25), L.tensor(1), L.qint8))]
                 for L in (ember, torch))
    for g, w in zip(got, want):
        _same_view(g, w)


def test_quantize_per_tensor_list():
    a = _qdata(20)
    outs = [L.quantize_per_tensor([L.tensor(a[:8]), L.tensor(a[8:])], L.tensor([0.5, 0.1]), L.tensor([2, 1]),
                                  L.quint8) for L in (ember, torch)]
    assert len(outs[0]) == len(outs[1]) == 2
    for g, w in zip(*outs):
        _same_view(_qview(g), _qview(w))


@pytest.mark.parametrize('axis,dt', [(0, 'qint8'), (1, 'quint8'), (2, 'qint8'), (1, 'qint32')])
def test_quantize_per_channel(axis, dt):
    rng = np.random.default_rng(6)
    a = (rng.standard_normal((3, 4, 5)) * 5).astype(np.float32)
    a[0, 0, :2] = [0.05, -0.15]
    n = a.shape[axis]
    sc = rng.uniform(0.01, 0.7, n)
    zp = rng.integers(0, 20, n)
    got, want = (_qview(L.quantize_per_channel(L.tensor(a), L.tensor(sc), L.tensor(zp), axis, getattr(L, dt)))
                 for L in (ember, torch))
    _same_view(got, want)


# input data for the dynamic qparams: mixed signs, all positive, all negative, constant, tiny range, empty
_DYN = {'mixed': _qdata(500), 'positive': np.abs(_qdata(50)[6:]), 'negative': -np.abs(_qdata(50)[6:]),
        'zeros': np.zeros(7, np.float32), 'tiny': (_qdata(40)[6:] * 1e-6).astype(np.float32),
        'one': np.array([2.5], np.float32)}


@pytest.mark.parametrize('reduce_range', [False, True])
@pytest.mark.parametrize('dt', ['qint8', 'quint8'])
@pytest.mark.parametrize('data', sorted(_DYN))
def test_quantize_per_tensor_dynamic(data, dt, reduce_range):
    a = np.clip(_DYN[data], -1e4, 1e4)
    got, want = (_qview(L.quantize_per_tensor_dynamic(L.tensor(a), getattr(L, dt), reduce_range))
                 for L in (ember, torch))
    _same_view(got, want)


def _layout_ops(L):
    q = L.quantize_per_tensor(L.tensor(_qdata(30)[6:]).reshape(2, 3, 4), 0.3, 7, L.quint8)
    ops = [q.reshape(6, 4), q.view(4, 6), q.flatten(), q.transpose(0, 2), q.permute(2, 0, 1), q[1], q[:, 1:, ::2],
           q.reshape(6, 4).t(), q.unsqueeze(1), q[0:1].squeeze(0), q.clone(), q.detach(), q.data,
           q.transpose(0, 1).contiguous(), copy.deepcopy(q), pickle.loads(pickle.dumps(q))]
    return [_qview(o) for o in ops] + [(q.type(), q.is_contiguous(), q.transpose(0, 1).is_contiguous(),
                                        q.dim(), q.numel(), len(q), q.size(-1), q[0, 0, 0].item())]


def test_quantized_layout_ops():
    got, want = _layout_ops(ember), _layout_ops(torch)
    for g, w in zip(got[:-1], want[:-1]):
        _same_view(g, w)
    assert got[-1] == want[-1]


def test_dequantize_function():
    for L in (ember, torch):
        q = L.quantize_per_tensor(L.tensor([1.5, -2.0]), 0.5, 1, L.qint8)
        out = L.dequantize([q, q])
        assert type(out) is tuple and out[0].tolist() == [1.5, -2.0]
        assert L.dequantize(L.ones(2, dtype=L.float64)).dtype is L.float32
        assert L.int_repr(q).tolist() == [4, -3] and L.q_scale(q) == 0.5 and L.q_zero_point(q) == 1


def _quant_errors(L):
    x = L.tensor([[-1.0, 0.05], [0.15, 2.0]])
    q = L.quantize_per_tensor(x, 0.1, 0, L.qint8)
    qc = L.quantize_per_channel(x, L.tensor([0.1, 0.2]), L.tensor([0, 1]), 1, L.quint8)
    cases = {
        'double_input': lambda: L.quantize_per_tensor(x.double(), 0.1, 0, L.qint8),
        'long_input': lambda: L.quantize_per_tensor(x.long(), 0.1, 0, L.qint8),
        'plain_dtype': lambda: L.quantize_per_tensor(x, 0.1, 0, L.int8),
        'zp_above': lambda: L.quantize_per_tensor(x, 0.1, 300, L.quint8),
        'zp_below': lambda: L.quantize_per_tensor(x, 0.1, -1, L.quint8),
        'channel_zp': lambda: L.quantize_per_channel(x, L.tensor([0.1, 0.2]), L.tensor([0, 300]), 1, L.quint8),
        'channel_len': lambda: L.quantize_per_channel(x, L.tensor([0.1, 0.2, 0.3]), L.tensor([0, 1, 2]), 1,
                                                      L.quint8),
        'channel_axis': lambda: L.quantize_per_channel(x, L.tensor([0.1, 0.2]), L.tensor([0, 1]), 2, L.quint8),
        'dynamic_dtype': lambda: L.quantize_per_tensor_dynamic(x, L.qint32, False),
        'dynamic_plain': lambda: L.quantize_per_tensor_dynamic(x, L.int8, False),
        'scale_of_channel': lambda: qc.q_scale(),
        'channel_of_tensor': lambda: q.q_per_channel_scales(),
        'add': lambda: q + 1,
        'mul': lambda: q * 2,
        'numpy': lambda: q.numpy(),
        'tolist': lambda: q.tolist(),
        'float': lambda: q.float(),
        'to': lambda: q.to(L.float32),
        'item': lambda: q.item(),
        'requires_grad': lambda: q.requires_grad_(),
        'int_repr_plain': lambda: x.int_repr(),
        'q_scale_plain': lambda: L.q_scale(x),
        'qscheme_plain': lambda: x.qscheme(),
        'exp': lambda: q.exp(),
        'sum': lambda: q.sum(),
        'args': lambda: L.quantize_per_tensor(1, 0.1, 0, L.qint8),
        'args_dtype': lambda: L.quantize_per_tensor(x, 0.1, 0, None),
        'args_channel': lambda: L.quantize_per_channel(x, 1, x, 0, L.qint8),
        'args_dynamic': lambda: L.quantize_per_tensor_dynamic(1, L.qint8, False),
        'args_int_repr': lambda: L.int_repr(1),
        'args_dequantize': lambda: L.dequantize(1),
    }
    out = {}
    for k, f in cases.items():
        try:
            f()
            out[k] = None
        except Exception as e:  # noqa: BLE001 (the type and message are compared)
            msg = str(e).split('\n')[0]
            if msg.startswith('Could not run'):     # PyTorch's goes on to list its dispatch keys
                msg = msg.split(' This could')[0]
            out[k] = (type(e).__name__, msg.split(', but expected')[0])
    return out


def test_quantized_errors():
    got, want = _quant_errors(ember), _quant_errors(torch)
    # PyTorch's kernels are out= forms ('aten::exp.out', 'aten::sum.IntList_out'): ember names the method
    for k in ('exp', 'sum'):
        assert got[k] == ('NotImplementedError', f"Could not run 'aten::{k}' with arguments from the 'QuantizedCPU' "
                                                 "backend.")
        assert want[k][0] == 'NotImplementedError' and 'QuantizedCPU' in want[k][1]
        del got[k], want[k]
    assert got == want


def test_qscheme_objects():
    for n in ('per_tensor_affine', 'per_channel_affine', 'per_tensor_symmetric', 'per_channel_symmetric',
              'per_channel_affine_float_qparams'):
        e, t = getattr(ember, n), getattr(torch, n)
        assert repr(e) == repr(t) and str(e) == str(t) and pickle.loads(pickle.dumps(e)) is e
        assert isinstance(e, ember.qscheme) and repr(type(e)) == repr(type(t))
    q = ember.quantize_per_tensor(ember.ones(2), 0.1, 0, ember.qint8)
    assert isinstance(q, ember.Tensor) and repr(type(q)) == "<class 'torch.Tensor'>"


def test_quantize_deprecation_warning_once():
    import subprocess
    import sys
    code = ('import warnings; warnings.simplefilter("always"); import {L} as t\n'
            'with warnings.catch_warnings(record=True) as w:\n'
            '    warnings.simplefilter("always")\n'
            '    t.quantize_per_tensor(t.ones(2), 0.1, 0, t.qint8); t.quantize_per_tensor(t.ones(2), 0.1, 0, t.qint8)\n'
            'print([str(x.message) for x in w])')
    outs = [subprocess.run([sys.executable, '-c', code.format(L=L)], capture_output=True, text=True).stdout
            for L in ('ember', 'torch')]
    assert outs[0] == outs[1] and outs[0].count('deprecated') == 1


# -- observers and qconfigs -------------------------------------------------------------------------------------
# name -> (observer class, constructor keywords)
_OBSERVERS = {
    'minmax': ('MinMaxObserver', {}),
    'minmax_sym_qint8': ('MinMaxObserver', {'dtype': 'qint8', 'qscheme': 'per_tensor_symmetric'}),
    'minmax_reduce': ('MinMaxObserver', {'reduce_range': True}),
    'minmax_custom': ('MinMaxObserver', {'quant_min': 0, 'quant_max': 15}),
    'minmax_sym_custom_quint8': ('MinMaxObserver', {'qscheme': 'per_tensor_symmetric', 'quant_min': 0,
                                                    'quant_max': 31}),
    'minmax_qint32': ('MinMaxObserver', {'dtype': 'qint32'}),
    'moving': ('MovingAverageMinMaxObserver', {}),
    'moving_half': ('MovingAverageMinMaxObserver', {'averaging_constant': 0.5, 'dtype': 'qint8'}),
    'per_channel': ('PerChannelMinMaxObserver', {}),
    'per_channel_sym': ('PerChannelMinMaxObserver', {'ch_axis': 1, 'dtype': 'qint8',
                                                     'qscheme': 'per_channel_symmetric'}),
    'per_channel_float_qparams': ('PerChannelMinMaxObserver', {'qscheme': 'per_channel_affine_float_qparams'}),
    'moving_per_channel': ('MovingAveragePerChannelMinMaxObserver', {'ch_axis': 2, 'averaging_constant': 0.25}),
}


def _observe(L, name, batches):
    cls, kw = _OBSERVERS[name]
    kw = {k: getattr(L, v) if isinstance(v, str) else v for k, v in kw.items()}
    obs = getattr(L.ao.quantization, cls)(**kw)
    out = [repr(obs)]
    for b in batches:
        x = L.tensor(b)
        assert obs(x) is x
    scale, zp = obs.calculate_qparams()
    sd = obs.state_dict()
    return (out + [repr(obs), list(sd), str(scale.dtype), str(zp.dtype), obs.quant_min, obs.quant_max],
            [v.numpy() for v in sd.values()], scale.numpy(), zp.numpy())


@pytest.mark.parametrize('name', sorted(_OBSERVERS))
def test_observer_qparams(name):
    import warnings
    rng = np.random.default_rng(7)
    batches = [(rng.standard_normal((3, 4, 5)) * s + o).astype(np.float32) for s, o in ((1, 0), (3, 1), (0.5, -2))]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')     # reduce_range's deprecation
        got, want = _observe(ember, name, batches), _observe(torch, name, batches)
    assert got[0] == want[0]
    for a, b in zip(got[1], want[1]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(got[2], want[2])
    np.testing.assert_array_equal(got[3], want[3])


def test_observer_unobserved_and_errors():
    import warnings
    outs = []
    for L in (ember, torch):
        q = L.ao.quantization
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            s, z = q.MinMaxObserver().calculate_qparams()
        res = [s.tolist(), z.tolist(), [str(x.message) for x in w]]
        for f in (lambda: q.MinMaxObserver(qscheme=L.per_channel_affine),
                  lambda: q.PerChannelMinMaxObserver(qscheme=L.per_tensor_affine),
                  lambda: q.MinMaxObserver(qscheme=L.per_tensor_symmetric, reduce_range=True),
                  lambda: q.MinMaxObserver(quant_min=1, quant_max=10),
                  lambda: q.MinMaxObserver(dtype=L.float32),
                  lambda: q.PlaceholderObserver().calculate_qparams(),
                  lambda: q.QConfig(q.MinMaxObserver(), q.MinMaxObserver),
                  lambda: q.get_default_qconfig('foo')):
            try:
                f()
                res.append(None)
            except Exception as e:  # noqa: BLE001 (the type and message are compared)
                res.append((type(e).__name__, str(e)))
        outs.append(res)
    assert outs[0] == outs[1]


@pytest.mark.parametrize('name', ['default_qconfig', 'default_dynamic_qconfig', 'per_channel_dynamic_qconfig',
                                  'default_per_channel_qconfig', 'float16_dynamic_qconfig', 'float16_static_qconfig',
                                  'float_qparams_weight_only_qconfig', 'fbgemm', 'x86', 'qnnpack'])
def test_qconfig_repr(name):
    def make(L):
        q = L.ao.quantization
        qc = q.get_default_qconfig(name) if name in ('fbgemm', 'x86', 'qnnpack') else getattr(q, name)
        return repr(qc), repr(qc.activation()), repr(qc.weight()), type(qc).__name__, qc._fields
    assert make(ember) == make(torch)
    assert getattr(ember.quantization, 'default_qconfig') is ember.ao.quantization.default_qconfig


@pytest.mark.parametrize('name', ['MinMaxObserver', 'HistogramObserver', 'PlaceholderObserver',
                                  'PerChannelMinMaxObserver', 'MovingAveragePerChannelMinMaxObserver'])
def test_observer_reprs(name):
    got, want = (repr(getattr(L.ao.quantization, name)()) for L in (ember, torch))
    assert got == want
    assert repr(getattr(ember.ao.quantization, name).with_args(dtype=ember.qint8)) == \
        repr(getattr(torch.ao.quantization, name).with_args(dtype=torch.qint8))


# -- quantize_dynamic ---------------------------------------------------------------------------------------------
class _Nested:
    """A module with Linear layers at two depths and an LSTM (left float unless asked for)."""

    @staticmethod
    def build(L):
        nn = L.nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.act, self.fc2 = nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 8)

            def forward(self, x):
                return self.fc2(self.act(self.fc1(x)))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Linear(5, 8)
                self.blocks = nn.ModuleList([Block(), Block()])
                self.rnn = nn.LSTM(8, 4, batch_first=True)
                self.head = nn.Linear(4, 3, bias=False)

            def forward(self, x):
                x = self.embed(x)
                for b in self.blocks:
                    x = x + b(x)
                return self.head(self.rnn(x)[0])
        return Net()


# name -> (model builder, qconfig_spec builder, input shape)
_DYN_MODELS = {
    'mlp_set': (lambda L: L.nn.Sequential(L.nn.Linear(6, 4), L.nn.ReLU(), L.nn.Linear(4, 3, bias=False)),
                lambda L: {L.nn.Linear}, (5, 6)),
    'mlp_default': (lambda L: L.nn.Sequential(L.nn.Linear(300, 64), L.nn.Tanh(), L.nn.Linear(64, 10)),
                    lambda L: None, (17, 300)),
    'nested_set': (_Nested.build, lambda L: {L.nn.Linear}, (2, 7, 5)),
    'nested_names': (_Nested.build, lambda L: {'blocks.0': L.ao.quantization.default_dynamic_qconfig,
                                               'head': L.ao.quantization.default_dynamic_qconfig}, (3, 4, 5)),
    'top_linear': (lambda L: L.nn.Linear(4, 2), lambda L: {L.nn.Linear}, (3, 4)),
}


def _dyn_case(L, name):
    import io
    import warnings
    build, spec, shape = _DYN_MODELS[name]
    L.manual_seed(0)
    model = build(L)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        qm = L.ao.quantization.quantize_dynamic(model, spec(L), dtype=L.qint8)
    rng = np.random.default_rng(8)
    xs = [L.tensor((rng.standard_normal(shape) * s + o).astype(np.float32)) for s, o in ((1, 0), (4, 1), (0.1, -3))]
    with L.no_grad():
        outs = [qm(x).numpy() for x in xs]
    quantized = {n: m for n, m in qm.named_modules() if type(m).__name__ == 'Linear' and hasattr(m, '_packed_params')}
    weights = {n: (m.weight().int_repr().numpy(), m.weight().q_scale(), m.weight().q_zero_point(),
                   None if m.bias() is None else m.bias().detach().numpy(), repr(m.weight()))
               for n, m in quantized.items()}
    sd = qm.state_dict()
    buf = io.BytesIO()
    L.save(sd, buf)
    flags = (qm is model, hasattr(qm, 'qconfig'), qm.training, [m.training for m in quantized.values()],
             [n for n, m in qm.named_modules() if hasattr(m, 'qconfig')])
    return repr(qm), list(sd), weights, outs, flags, buf.getvalue()


@pytest.mark.parametrize('name', sorted(_DYN_MODELS))
def test_quantize_dynamic(name):
    import io
    got, want = _dyn_case(ember, name), _dyn_case(torch, name)
    assert got[0] == want[0]
    assert got[1] == want[1]
    assert got[2].keys() == want[2].keys()
    for k in got[2]:
        g, w = got[2][k], want[2][k]
        np.testing.assert_array_equal(g[0], w[0])
        assert g[1:3] == w[1:3] and g[4] == w[4]
        assert (g[3] is None) == (w[3] is None)
        if g[3] is not None:
            np.testing.assert_array_equal(g[3], w[3])
    for g, w in zip(got[3], want[3]):
        if name.startswith('mlp'):      # quantized Linear and ReLU/Tanh only: fbgemm's values bit for bit
            np.testing.assert_array_equal(g, w)
        else:                           # float layers between (LSTM, GELU, float Linear: BLAS's last bits)
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    assert got[4] == want[4]
    for data in (got[5], want[5]):      # each library loads the other's checkpoint to the same tensors
        a, b = ember.load(io.BytesIO(data)), torch.load(io.BytesIO(data))
        assert list(a) == list(b)
        for k in a:
            va, vb = a[k], b[k]
            if isinstance(va, tuple):
                assert repr(va) == repr(vb)
            elif isinstance(va, ember.Tensor):
                np.testing.assert_array_equal(va.numpy(), vb.numpy())
            else:
                assert str(va) == str(vb)


def test_dynamic_linear_module_and_state_dict_round_trip():
    import warnings
    outs = []
    for L in (ember, torch):
        nnqd = L.ao.nn.quantized.dynamic
        m = nnqd.Linear(3, 2)
        res = [repr(m), m.bias().tolist(), m.weight().shape, m.weight().dtype, list(m.state_dict()),
               list(m.parameters()), repr(nnqd.Linear(3, 2, bias_=False).bias())]
        L.manual_seed(1)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            src = L.ao.quantization.quantize_dynamic(L.nn.Sequential(L.nn.Linear(3, 2)), {L.nn.Linear})
        m.load_state_dict(src[0].state_dict())
        res += [m.weight().int_repr().tolist(), m.weight().q_scale(), m(L.ones(1, 3) * 0.7).tolist()]
        outs.append([str(x).replace('ember.', 'torch.') for x in res])
    assert outs[0] == outs[1]


def test_quantize_dynamic_refusals():
    import warnings
    L = ember
    warnings.simplefilter('ignore')
    model = _Nested.build(L)
    fused = L.ao.nn.intrinsic.LinearReLU(L.nn.Linear(3, 2), L.nn.ReLU())
    with pytest.raises(NotImplementedError, match='torch.ao.nn.intrinsic.quantized.dynamic.LinearReLU is not'):
        L.ao.quantization.quantize_dynamic(L.nn.Sequential(fused), {L.ao.nn.intrinsic.LinearReLU})
    with pytest.raises(NotImplementedError, match='torch.float16'):
        L.ao.quantization.quantize_dynamic(model, {L.nn.Linear}, dtype=L.float16)
    with pytest.raises(NotImplementedError, match='torch.ao.nn.quantized.Embedding is not supported by ember'):
        L.ao.quantization.quantize_dynamic(L.nn.Sequential(L.nn.Embedding(3, 2)), dtype=L.quint8)
    qm = L.ao.quantization.quantize_dynamic(L.nn.Sequential(L.nn.Linear(3, 2)), {L.nn.Linear})
    L.backends.quantized.engine = 'qnnpack'
    try:
        with pytest.raises(NotImplementedError, match="engine is 'qnnpack'"):
            qm(L.ones(1, 3))
    finally:
        L.backends.quantized.engine = 'x86'
    for Lib in (ember, torch):   # ValueError for a dtype with no default qconfigs, as PyTorch's
        with pytest.raises(ValueError, match="Don't know how to quantize with default settings for torch.int8"):
            Lib.ao.quantization.quantize_dynamic(Lib.nn.Sequential(Lib.nn.Linear(3, 2)), dtype=Lib.int8)


def test_quantized_engine():
    outs = []
    for L in (ember, torch):
        q = L.backends.quantized
        res = [q.engine, q.supported_engines]
        for e in ('fbgemm', 'foo', 'none', 'x86'):
            try:
                q.engine = e
                res.append(q.engine)
            except RuntimeError as err:
                res.append(str(err))
        outs.append(res)
    assert outs[0] == outs[1]


def _histogram_batches():
    rng = np.random.default_rng(9)
    return {'one': [rng.standard_normal(1000) * 2],
            'growing': [rng.standard_normal(500), rng.standard_normal(300) * 3 + 1, rng.uniform(-1, 0.5, 200)],
            'positive': [np.abs(rng.standard_normal(400))],
            'constant_first': [np.full(10, 2.0), rng.standard_normal(50)],
            'with_inf': [np.array([1.0, np.inf, -2.0, 0.5]), rng.standard_normal(30)]}


@pytest.mark.parametrize('kw', [{}, {'reduce_range': True}, {'dtype': 'qint8', 'qscheme': 'per_tensor_symmetric'},
                                {'bins': 256, 'quant_min': 0, 'quant_max': 127}], ids=str)
@pytest.mark.parametrize('data', sorted(_histogram_batches()))
def test_histogram_observer(data, kw):
    import warnings
    outs = []
    for L in (ember, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            obs = L.ao.quantization.HistogramObserver(**{k: getattr(L, v) if isinstance(v, str) else v
                                                         for k, v in kw.items()})
            for b in _histogram_batches()[data]:
                obs(L.tensor(b.astype(np.float32)))
            scale, zp = obs.calculate_qparams()
        outs.append((scale.tolist(), zp.tolist(), str(scale.dtype), str(zp.dtype), repr(obs), list(obs.state_dict()),
                     obs.histogram.numpy().copy(), sorted({str(x.message) for x in w})))
    assert outs[0][:6] == outs[1][:6] and outs[0][7] == outs[1][7]
    np.testing.assert_array_equal(outs[0][6], outs[1][6])


# (mode, constructor keywords, input shape, hx given)
_DYN_RNN = [('LSTM', dict(input_size=5, hidden_size=8), (6, 3, 5), False),
            ('LSTM', dict(input_size=5, hidden_size=8, num_layers=2, bidirectional=True, batch_first=True), (3, 6, 5),
             True),
            ('LSTM', dict(input_size=5, hidden_size=8, num_layers=3), (30, 4, 5), False),
            ('GRU', dict(input_size=5, hidden_size=7, num_layers=2), (4, 2, 5), True),
            ('GRU', dict(input_size=5, hidden_size=7, bidirectional=True, batch_first=True), (2, 4, 5), False)]


def _dyn_rnn(L, mode, kw, shape, with_hx):
    import warnings
    L.manual_seed(0)
    cls = getattr(L.nn, mode)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        qm = L.ao.quantization.quantize_dynamic(L.nn.Sequential(cls(**kw), L.nn.Identity()), {cls})
    rng = np.random.default_rng(1)
    x = L.tensor(rng.standard_normal(shape).astype(np.float32))
    args = [x]
    if with_hx:
        b = shape[0] if kw.get('batch_first') else shape[1]
        n = kw.get('num_layers', 1) * (2 if kw.get('bidirectional') else 1)
        h = [L.tensor(rng.standard_normal((n, b, kw['hidden_size'])).astype(np.float32)) for _ in range(2)]
        args.append(tuple(h) if mode == 'LSTM' else h[0])
    with L.no_grad():
        out, state = qm[0](*args)
    states = state if isinstance(state, tuple) else (state,)
    errors = []
    for bad in (lambda: qm[0](x[0]), lambda: qm[0](L.ones(2, 2, 3))):
        try:
            bad()
            errors.append(None)
        except RuntimeError as e:
            errors.append(str(e))
    return repr(qm), qm[0].training, list(qm.state_dict()), out.numpy(), [s.numpy() for s in states], errors


@pytest.mark.parametrize('case', range(len(_DYN_RNN)))
def test_quantize_dynamic_rnn(case):
    got, want = _dyn_rnn(ember, *_DYN_RNN[case]), _dyn_rnn(torch, *_DYN_RNN[case])
    assert got[:3] == want[:3] and got[5] == want[5]
    np.testing.assert_array_equal(got[3], want[3])        # fbgemm's projections, nn's gate arithmetic: bit for bit
    for g, w in zip(got[4], want[4]):
        np.testing.assert_array_equal(g, w)


def _dyn_cells(L):
    import warnings
    L.manual_seed(0)
    model = L.nn.Sequential(L.nn.LSTMCell(3, 4), L.nn.GRUCell(3, 4), L.nn.RNNCell(3, 4, nonlinearity='relu'),
                            L.nn.RNNCell(3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        qm = L.ao.quantization.quantize_dynamic(model)      # the default spec names the cells
    rng = np.random.default_rng(3)
    x, h, c = (L.tensor(rng.standard_normal(s).astype(np.float32)) for s in ((5, 3), (5, 4), (5, 4)))
    outs = [*qm[0](x), *qm[0](x, (h, c)), qm[1](x), qm[1](x, h), qm[2](x, h), qm[3](x, h)]
    errors = []
    for bad in (lambda: qm[0](x[0]), lambda: qm[0](L.ones(2, 5)), lambda: qm[0](x, (L.zeros(3, 4), L.zeros(3, 4))),
                lambda: qm[1](x, L.zeros(5, 5))):
        try:
            bad()
            errors.append(None)
        except Exception as e:  # noqa: BLE001 (the type and message are compared)
            errors.append((type(e).__name__, str(e)))
    return repr(qm), list(qm.state_dict()), [o.detach().numpy() for o in outs], errors, qm[0].training


def test_quantize_dynamic_cells():
    got, want = _dyn_cells(ember), _dyn_cells(torch)
    assert got[0] == want[0] and got[1] == want[1] and got[3:] == want[3:]
    for g, w in zip(got[2], want[2]):   # ember's float32 sigmoid is 1 ulp from PyTorch's vectorized one in a few %
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)


# -- static quantization: prepare / calibrate / convert ---------------------------------------------------------
_STATIC_QCONFIGS = {'x86': lambda tq: tq.get_default_qconfig('x86'), 'fbgemm': lambda tq: tq.get_default_qconfig(),
                    'per_tensor': lambda tq: tq.default_qconfig,
                    'per_channel': lambda tq: tq.default_per_channel_qconfig}


def _static_model(L, k, n, bias=True):
    tq = L.ao.quantization

    class M(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.fc, self.relu = tq.QuantStub(), L.nn.Linear(k, n, bias=bias), L.nn.ReLU()
            self.fc2, self.dequant = L.nn.Linear(n, n), tq.DeQuantStub()

        def forward(self, x):
            return self.dequant(self.fc2(self.relu(self.fc(self.quant(x)))))
    return M().eval()


def _prepared(L, qconfig, k, n, batches, bias=True):
    """(printed before calibration, the calibrated prepared model) of _static_model."""
    tq = L.ao.quantization
    L.manual_seed(0)
    m = _static_model(L, k, n, bias)
    with L.no_grad():
        for w in m.parameters():    # multiples of 1/64: the float Linears' sums exact in any order
            w.copy_(L.round(w * 64) / 64)
    m.qconfig = _STATIC_QCONFIGS[qconfig](tq)
    p = tq.prepare(m)
    before = str(p)
    for b in batches:
        p(L.tensor(b))
    return before, p


@pytest.mark.filterwarnings('ignore')
@pytest.mark.parametrize('qconfig', sorted(_STATIC_QCONFIGS))
def test_static_prepare_convert_reprs_and_keys(qconfig):
    """prepare's observers (printed with min/max before and after calibration), convert's printed modules
    (scale/zero_point) and state_dict keys equal PyTorch's (dyadic weights and inputs: calibration exact)."""
    rng = np.random.default_rng(0)
    batches = [np.round(rng.standard_normal((7, 4)) * 16).astype(np.float32) / 16 for _ in range(3)]
    out = []
    for L in (torch, ember):
        before, p = _prepared(L, qconfig, 4, 3, batches)
        keys = list(p.state_dict())
        c = L.ao.quantization.convert(p)
        out.append((before, str(p), keys, str(c), list(c.state_dict()), hasattr(c.fc, 'qconfig'),
                    list(c.modules())[1]._forward_hooks == {}))
    for a, b in zip(*out):
        assert a == b


@pytest.mark.filterwarnings('ignore')
@pytest.mark.parametrize('seed', range(8))
@pytest.mark.parametrize('qconfig', sorted(_STATIC_QCONFIGS))
def test_static_linear_bit_for_bit(qconfig, seed):
    """The converted model (Quantize, QuantizedLinear per tensor/channel, quantized ReLU, DeQuantize) gives the x86
    engine's values bit for bit, from the same calibration (PyTorch's observer buffers loaded: the float Linears
    of the calibration run differ by an ulp in MKL's order)."""
    rng = np.random.default_rng(seed)
    k, n = int(rng.integers(1, 80)), int(rng.integers(1, 40))
    batches = [(rng.standard_normal((5, k)) * rng.uniform(0.1, 5)).astype(np.float32) for _ in range(2)]
    x = (rng.standard_normal((3, 6, k)) * 3).astype(np.float32)
    _, pa = _prepared(torch, qconfig, k, n, batches, bias=seed % 2 == 0)
    _, pb = _prepared(ember, qconfig, k, n, batches, bias=seed % 2 == 0)
    pb.load_state_dict({key: ember.tensor(v.numpy()) for key, v in pa.state_dict().items()})
    assert str(pa) == str(pb)
    ca, cb = torch.ao.quantization.convert(pa), ember.ao.quantization.convert(pb)
    assert str(ca) == str(cb)
    np.testing.assert_array_equal(ca(torch.tensor(x)).numpy(), cb(ember.tensor(x)).numpy())
    qa, qb = ca.fc(ca.quant(torch.tensor(x))), cb.fc(cb.quant(ember.tensor(x)))
    np.testing.assert_array_equal(qa.int_repr().numpy(), qb.int_repr().numpy())
    assert (qa.q_scale(), qa.q_zero_point()) == (qb.q_scale(), qb.q_zero_point())
    wa, wb = ca.fc.weight(), cb.fc.weight()
    np.testing.assert_array_equal(wa.int_repr().numpy(), wb.int_repr().numpy())
    assert str(wa.qscheme()) == str(wb.qscheme())


@pytest.mark.filterwarnings('ignore')
def test_static_quantize_relu_dequantize_modules():
    """nn.quantized.Quantize / DeQuantize and relu of a quantized tensor (in place too) as PyTorch's."""
    x = np.linspace(-3, 3, 25, dtype=np.float32).reshape(5, 5)
    res = []
    for L in (torch, ember):
        q = L.ao.nn.quantized.Quantize(0.05, 60, L.quint8)
        t = q(L.tensor(x))
        r = L.nn.functional.relu(t)
        r2 = L.nn.ReLU(inplace=True)(q(L.tensor(x)))
        res.append((repr(q), t.int_repr().numpy().tolist(), r.int_repr().numpy().tolist(), r.q_zero_point(),
                    r2.int_repr().numpy().tolist(), L.ao.nn.quantized.DeQuantize()(r).numpy().tolist(),
                    repr(L.ao.nn.quantized.DeQuantize())))
    assert res[0] == res[1]


@pytest.mark.filterwarnings('ignore')
def test_static_quantize_calibrates_with_run_fn():
    """quantize(model, run_fn, run_args): prepare, calibration by run_fn, convert; same values as PyTorch's."""
    rng = np.random.default_rng(3)
    batch = np.round(rng.standard_normal((6, 4)) * 16).astype(np.float32) / 16
    x = rng.standard_normal((2, 4)).astype(np.float32)
    outs = []
    for L in (torch, ember):
        L.manual_seed(0)
        m = _static_model(L, 4, 3)
        with L.no_grad():
            for w in m.parameters():
                w.copy_(L.round(w * 64) / 64)
        m.qconfig = L.ao.quantization.get_default_qconfig('x86')
        q = L.ao.quantization.quantize(m, lambda mod, b: mod(L.tensor(b)), (batch,))
        outs.append((str(q), q(L.tensor(x)).numpy().tolist(), hasattr(m, 'quant') and type(m.quant).__name__))
    assert outs[0] == outs[1]


@pytest.mark.filterwarnings('ignore')
def test_static_convert_refuses_unbuilt_modules():
    """A Conv2d (or a fused ConvReLU2d) under a qconfig is refused by name at convert, never left float."""
    tq = ember.ao.quantization
    m = ember.nn.Sequential(tq.QuantStub(), ember.nn.Conv2d(1, 2, 3), tq.DeQuantStub()).eval()
    m.qconfig = tq.get_default_qconfig('x86')
    p = tq.prepare(m)
    assert 'activation_post_process' in dict(p[1].named_children())
    p(ember.randn(1, 1, 5, 5))
    with pytest.raises(NotImplementedError, match='torch.ao.nn.quantized.Conv2d is not supported by ember yet'):
        tq.convert(p)
    with pytest.raises(NotImplementedError, match='is_reference=True'):
        tq.convert(p, is_reference=True)
    with pytest.raises(NotImplementedError, match='prepare_custom_config_dict'):
        tq.prepare(m, prepare_custom_config_dict={'float_to_observed_custom_module_class': {}})


def test_static_prepare_warns_without_qconfig():
    """prepare of a model with no qconfig warns as PyTorch's."""
    msgs = []
    for L in (torch, ember):
        with pytest.warns(UserWarning) as rec:
            L.ao.quantization.prepare(L.nn.Sequential(L.nn.Linear(2, 2)))
        msgs.append(sorted(str(w.message) for w in rec if 'None of the submodule' in str(w.message)))
    assert msgs[0] == msgs[1] and msgs[0]


@pytest.mark.filterwarnings('ignore')
def test_static_converted_state_dict_saves_across(tmp_path):
    """A converted model's state_dict (packed params as the (weight, bias) pair) saved by either library loads
    into the other's converted model, with equal file sizes and the same outputs after loading."""
    def converted(L):
        tq = L.ao.quantization
        L.manual_seed(0)
        m = L.nn.Sequential(tq.QuantStub(), L.nn.Linear(4, 3), tq.DeQuantStub()).eval()
        m.qconfig = tq.get_default_qconfig('x86')
        p = tq.prepare(m)
        p(L.ones(2, 4))
        return tq.convert(p)
    ce, ct = converted(ember), converted(torch)
    ct[1].scale = 0.5       # torch's own model moved off, so that loading ember's file is what brings it back
    ember.save(ce.state_dict(), tmp_path / 'e.pt')
    torch.save(converted(torch).state_dict(), tmp_path / 't.pt')
    assert (tmp_path / 'e.pt').stat().st_size == (tmp_path / 't.pt').stat().st_size
    ct.load_state_dict(torch.load(tmp_path / 'e.pt', weights_only=False))
    ce.load_state_dict(ember.load(tmp_path / 't.pt', weights_only=False))
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_array_equal(ct(torch.tensor(x)).numpy(), ce(ember.tensor(x)).numpy())
    assert ct[1].scale == ce[1].scale
