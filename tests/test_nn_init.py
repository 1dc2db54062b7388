"""nn.init: gains and fans equal PyTorch's; each initialiser fills in place (no autograd record), returns
its tensor and draws from the right distribution (bounds, mean and standard deviation)."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.nn import init


@pytest.mark.parametrize('nl,param', [('linear', None), ('conv1d', None), ('conv2d', None), ('conv3d', None),
                                      ('conv_transpose2d', None), ('sigmoid', None), ('tanh', None),
                                      ('relu', None), ('leaky_relu', None), ('leaky_relu', 0.2), ('leaky_relu', 1),
                                      ('selu', None)])
def test_calculate_gain_matches_torch(nl, param):
    assert init.calculate_gain(nl, param) == torch.nn.init.calculate_gain(nl, param)


@pytest.mark.parametrize('args', [('foo',), ('leaky_relu', 'x'), ('leaky_relu', True)])
def test_calculate_gain_errors_match_torch(args):
    with pytest.raises(ValueError) as te:
        torch.nn.init.calculate_gain(*args)
    with pytest.raises(ValueError) as ee:
        init.calculate_gain(*args)
    assert str(ee.value) == str(te.value)


@pytest.mark.parametrize('shape', [(3, 4), (5, 3, 2), (6, 4, 3, 3), (2, 3, 1, 2, 2)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(ember.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


def test_fan_errors():
    for lib, mod in ((torch, torch.nn.init), (ember, init)):
        with pytest.raises(ValueError, match='fewer than 2 dimensions'):
            mod._calculate_fan_in_and_fan_out(lib.zeros(3))
        with pytest.raises(ValueError, match="Mode fan_avg not supported, please use one of \\['fan_in', 'fan_out'\\]"):
            mod.kaiming_uniform_(lib.zeros(3, 3), mode='fan_avg')


def _param(*shape):
    return ember.nn.Parameter(ember.zeros(*shape))


def test_in_place_without_recording_and_returns_tensor():
    p = _param(200, 300)
    v = p._version
    out = init.normal_(p)
    assert out is p and p.grad_fn is None and p.requires_grad and p.dtype == ember.float32
    assert p._version > v


def _check_uniform(a, lo, hi):
    assert a.min() >= lo and a.max() <= hi
    assert a.min() < lo + 0.02 * (hi - lo) and a.max() > hi - 0.02 * (hi - lo)
    assert abs(a.mean() - (lo + hi) / 2) < 0.02 * (hi - lo)
    assert abs(a.std() - (hi - lo) / math.sqrt(12)) < 0.02 * (hi - lo)


def test_uniform_and_normal():
    ember.manual_seed(0)
    _check_uniform(init.uniform_(_param(300, 300), -2, 3).detach().numpy(), -2, 3)
    a = init.normal_(_param(300, 300), 1.5, 0.5).detach().numpy()
    assert abs(a.mean() - 1.5) < 0.01 and abs(a.std() - 0.5) < 0.01


def test_trunc_normal():
    ember.manual_seed(0)
    a = init.trunc_normal_(_param(300, 300), mean=0.5, std=1.0, a=-0.5, b=1.0).detach().numpy()
    assert a.min() >= -0.5 and a.max() <= 1.0
    ref = torch.nn.init.trunc_normal_(torch.zeros(300, 300), mean=0.5, std=1.0, a=-0.5, b=1.0).numpy()
    assert abs(a.mean() - ref.mean()) < 0.01 and abs(a.std() - ref.std()) < 0.01


def test_constant_ones_zeros_eye_dirac():
    p = _param(3, 4)
    assert (init.constant_(p, 0.3) == 0.3).all()
    assert (init.ones_(p) == 1).all() and (init.zeros_(p) == 0).all()
    np.testing.assert_array_equal(init.eye_(p).detach().numpy(), np.eye(3, 4))
    for shape, groups in [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 2, 3, 3, 3), 1)]:
        e = init.dirac_(ember.zeros(*shape), groups).numpy()
        t = torch.nn.init.dirac_(torch.zeros(*shape), groups).numpy()
        np.testing.assert_array_equal(e, t)
    with pytest.raises(ValueError, match='Only tensors with 2 dimensions are supported'):
        init.eye_(ember.zeros(2, 2, 2))


@pytest.mark.parametrize('shape', [(256, 512), (64, 32, 3, 3)])
def test_xavier(shape):
    ember.manual_seed(1)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(ember.zeros(*shape))
    std = 0.7 * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3) * std
    _check_uniform(init.xavier_uniform_(ember.zeros(*shape), gain=0.7).numpy(), -bound, bound)
    a = init.xavier_normal_(ember.zeros(*shape), gain=0.7).numpy()
    assert abs(a.mean()) < 0.02 * std and abs(a.std() - std) < 0.02 * std


@pytest.mark.parametrize('mode', ['fan_in', 'fan_out'])
@pytest.mark.parametrize('nl,a', [('relu', 0), ('leaky_relu', math.sqrt(5)), ('tanh', 0)])
def test_kaiming(mode, nl, a):
    ember.manual_seed(2)
    shape = (128, 64, 3, 3)
    fan = init._calculate_correct_fan(ember.zeros(*shape), mode)
    std = torch.nn.init.calculate_gain(nl, a) / math.sqrt(fan)
    _check_uniform(init.kaiming_uniform_(ember.zeros(*shape), a, mode, nl).numpy(),
                   -math.sqrt(3) * std, math.sqrt(3) * std)
    x = init.kaiming_normal_(ember.zeros(*shape), a, mode, nl).numpy()
    assert abs(x.mean()) < 0.02 * std and abs(x.std() - std) < 0.02 * std


def test_kaiming_zero_element_warns():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        init.kaiming_uniform_(ember.zeros(0, 3))
    assert any('Initializing zero-element tensors is a no-op' in str(m.message) for m in w)


@pytest.mark.parametrize('shape', [(5, 5), (3, 7), (8, 2, 2)])
def test_orthogonal(shape):
    ember.manual_seed(3)
    w = init.orthogonal_(ember.zeros(*shape), gain=2.0).numpy().reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, 4 * np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError, match='Only tensors with 2 or more dimensions are supported'):
        init.orthogonal_(ember.zeros(3))


def test_sparse():
    ember.manual_seed(4)
    w = init.sparse_(ember.zeros(10, 6), sparsity=0.3, std=0.1).numpy()
    assert ((w == 0).sum(0) >= 3).all()


def test_generator_makes_init_reproducible():
    g1, g2 = ember.Generator().manual_seed(7), ember.Generator().manual_seed(7)
    a = init.kaiming_uniform_(ember.zeros(4, 4), generator=g1).numpy()
    b = init.kaiming_uniform_(ember.zeros(4, 4), generator=g2).numpy()
    np.testing.assert_array_equal(a, b)


def test_manual_seed_makes_layers_reproducible():
    ember.manual_seed(5)
    a = ember.nn.Linear(3, 3).weight.detach().numpy().copy()
    ember.manual_seed(5)
    b = ember.nn.Linear(3, 3).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


def test_deprecated_aliases_warn():
    with pytest.warns(FutureWarning, match='nn.init.normal'):
        init.normal(ember.zeros(2, 2))
