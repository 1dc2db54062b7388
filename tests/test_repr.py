"""Tensor printing: ``repr``/``str`` of ember tensors must equal PyTorch's for the same data."""
import contextlib

import numpy as np
import pytest
import torch
from torch._tensor_str import printoptions as torch_printoptions

from ember import _dtype
from ember._tensor_str import get_printoptions, printoptions, set_printoptions
from ember.autograd.graph import Node
from ember.tensor import Tensor

RNG = np.random.default_rng(0)
F32, F64, F16 = np.float32, np.float64, np.float16


def _randn(*shape, dtype=F32, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(dtype)


NAN, INF = float('nan'), float('inf')

# name -> numpy array (each built once, shared by both libraries)
CASES = {
    'int_1d': np.arange(10),
    'int_negative': np.array([-5, 12, 300, -4000]),
    'int_2d': np.arange(-6, 6).reshape(3, 4),
    'int_large': np.array([2 ** 62, -3, 7]),
    'int32': np.array([1, -2, 3], dtype=np.int32),
    'int16': np.array([[1, 200], [-3, 4]], dtype=np.int16),
    'int8': np.array([-128, 0, 127], dtype=np.int8),
    'uint8': np.array([0, 7, 255], dtype=np.uint8),
    'bool_1d': np.array([True, False, True]),
    'bool_2d': np.array([[True], [False]]),
    'bool_all_true': np.array([True, True]),
    'float_int_valued': np.array([1., 2., 3.], dtype=F32),
    'float_int_negative': np.array([-1., 20., -300.], dtype=F32),
    'float_simple': np.array([1.5, -2.25, 0.125], dtype=F32),
    'float_rounding': np.array([0.1, 0.2, 9.99996, 1.00005], dtype=F32),
    'float_randn_2d': _randn(3, 4),
    'float_large': np.array([1e10, 2e10], dtype=F32),
    'float_over_1e8': np.array([1.5e8, 2.5e8], dtype=F32),
    'float_tiny': np.array([1e-5, 3e-5], dtype=F32),
    'float_ratio': np.array([1., 2000.5], dtype=F32),
    'float_ratio_int': np.array([1., 2000.], dtype=F32),
    'float_huge_int_valued': np.array([1e9, 3e9], dtype=F32),
    'float_denormal': np.array([1e-45, 1e38], dtype=F32),
    'float_zeros': np.zeros(4, dtype=F32),
    'float_neg_zero': np.array([-0.0, 0.0, 1.0], dtype=F32),
    'float_nan_inf': np.array([NAN, INF, -INF, 1.5], dtype=F32),
    'float_nan_inf_int': np.array([NAN, INF, -INF, 2.0], dtype=F32),
    'float_all_nan': np.array([NAN, NAN], dtype=F32),
    'float_nan_sci': np.array([NAN, 1e-7, 3.0], dtype=F32),
    'float_mixed_sign_sci': np.array([-1e-6, 5.0, -123456.0], dtype=F32),
    'float_3d': _randn(2, 3, 4),
    'float_4d': _randn(2, 2, 2, 3),
    'float_3d_ints': np.arange(24, dtype=F32).reshape(2, 3, 4),
    'float_column': _randn(5, 1),
    'float_wide_row': _randn(40),
    'float_wide_2d': _randn(3, 25, scale=100),
    'float_wide_sci': _randn(30, scale=1e6),
    'float_wide_3d': _randn(2, 2, 30),
    'float_long_ints': np.arange(100, dtype=F32),
    'summ_2000': np.arange(2000, dtype=F32),
    'summ_40x40': _randn(40, 40),
    'summ_3x500': _randn(3, 500),
    'summ_500x3': _randn(500, 3),
    'summ_3d': _randn(10, 10, 20),
    'summ_int': np.arange(1001),
    'summ_int_2d': np.arange(1200).reshape(30, 40) * 1000,
    'summ_nan_middle': np.concatenate([np.ones(3), [NAN] * 2000, [2.5, 3.5, 4.5]]).astype(F32),
    'summ_sci_hidden': np.concatenate([np.ones(3), [1e9] * 2000, [2.0] * 3]).astype(F32),
    'summ_bool': np.arange(1500) % 3 == 0,
    'float16': _randn(5, dtype=F16),
    'float16_sci': np.array([1e-3, 6e4], dtype=F16),
    'float16_2d': _randn(3, 3, dtype=F16, scale=10),
    'float64': _randn(4, dtype=F64),
    'float64_int_valued': np.array([1., 2.], dtype=F64),
    'float64_wide': _randn(30, dtype=F64),
    'float64_tiny': np.array([1e-300, 1e300], dtype=F64),
    'int32_wide': np.arange(0, 3000, 100, dtype=np.int32),
    'int32_summ': np.arange(2000, dtype=np.int32),
    'scalar_float': np.array(3.5, dtype=F32),
    'scalar_float_int': np.array(7.0, dtype=F32),
    'scalar_float_sci': np.array(1e-9, dtype=F32),
    'scalar_nan': np.array(NAN, dtype=F32),
    'scalar_int': np.array(42),
    'scalar_int32': np.array(-3, dtype=np.int32),
    'scalar_bool': np.array(True),
    'scalar_f64': np.array(2.5, dtype=F64),
    'scalar_f16': np.array(0.333, dtype=F16),
    'empty_f32': np.zeros(0, dtype=F32),
    'empty_2d': np.zeros((0, 3), dtype=F32),
    'empty_3d': np.zeros((2, 0, 4), dtype=F32),
    'empty_int': np.zeros(0, dtype=np.int64),
    'empty_int_2d': np.zeros((3, 0), dtype=np.int64),
    'empty_bool': np.zeros(0, dtype=bool),
    'empty_f64': np.zeros((0, 3), dtype=F64),
    'empty_uint8': np.zeros(0, dtype=np.uint8),
}

# name -> (case, print options)
OPTION_CASES = {
    'precision_2': ('float_randn_2d', dict(precision=2)),
    'precision_0': ('float_simple', dict(precision=0)),
    'precision_10': ('float64', dict(precision=10)),
    'precision_8_sci': ('float_tiny', dict(precision=8)),
    'threshold_5': ('int_1d', dict(threshold=5)),
    'threshold_5_2d': ('float_randn_2d', dict(threshold=5)),
    'edgeitems_1': ('summ_40x40', dict(edgeitems=1)),
    'edgeitems_0_1d': ('summ_2000', dict(edgeitems=0)),
    'edgeitems_0_2d': ('summ_40x40', dict(edgeitems=0)),
    'edgeitems_0_small': ('float_simple', dict(edgeitems=0)),
    'edgeitems_5_3d': ('summ_3d', dict(edgeitems=5)),
    'linewidth_40': ('float_wide_row', dict(linewidth=40)),
    'linewidth_5': ('float_simple', dict(linewidth=5)),
    'linewidth_120': ('float_wide_2d', dict(linewidth=120)),
    'sci_true': ('float_simple', dict(sci_mode=True)),
    'sci_true_int_valued': ('float_int_valued', dict(sci_mode=True)),
    'sci_false_large': ('float_large', dict(sci_mode=False)),
    'sci_false_tiny': ('float_tiny', dict(sci_mode=False)),
    'sci_true_zeros': ('float_zeros', dict(sci_mode=True)),
    'sci_true_int_dtype': ('int_1d', dict(sci_mode=True)),
    'profile_short': ('summ_40x40', dict(profile='short')),
    'profile_full': ('summ_2000', dict(profile='full')),
    'profile_full_int': ('int32_summ', dict(profile='full')),
}


@contextlib.contextmanager
def both_printoptions(**opts):
    """Apply the same print options to torch and ember for the body."""
    with torch_printoptions(**opts), printoptions(**opts):
        yield


def ember_tensor(arr, requires_grad=False, grad_fn=None):
    t = Tensor._make(arr.copy(), grad_fn)
    if requires_grad:
        t._requires_grad = True
    return t


def fake_grad_fn(name):
    """An ember Node whose class is named like torch's grad_fn class (its repr is all that matters)."""
    return type(name, (Node,), {'__slots__': ()})(())


def assert_same(e, t):
    assert repr(e) == repr(t)
    assert str(e) == str(t)


@pytest.mark.parametrize('name', CASES)
def test_repr_matches_torch(name):
    arr = CASES[name]
    assert_same(ember_tensor(arr), torch.from_numpy(arr.copy()))


@pytest.mark.parametrize('name', OPTION_CASES)
def test_repr_with_printoptions(name):
    case, opts = OPTION_CASES[name]
    arr = CASES[case]
    with both_printoptions(**opts):
        assert_same(ember_tensor(arr), torch.from_numpy(arr.copy()))


@pytest.mark.parametrize('name', ['float_simple', 'float_wide_row', 'summ_40x40', 'float64', 'scalar_float',
                                  'empty_f32', 'empty_2d', 'float_3d', 'float16'])
def test_requires_grad_suffix(name):
    arr = CASES[name]
    assert_same(ember_tensor(arr, requires_grad=True), torch.from_numpy(arr.copy()).requires_grad_())


@pytest.mark.parametrize('length', [8, 24, 30, 32, 40, 64, 70])
def test_requires_grad_suffix_wraps(length):
    arr = _randn(length)
    assert_same(ember_tensor(arr, requires_grad=True), torch.from_numpy(arr.copy()).requires_grad_())


@pytest.mark.parametrize('name', ['float_simple', 'float_wide_row', 'float_long_ints', 'summ_3x500', 'float64_wide',
                                  'float_3d', 'empty_2d'])
def test_grad_fn_suffix(name):
    arr = CASES[name]
    out = torch.from_numpy(arr.copy()).requires_grad_() * 2
    fake = ember_tensor(out.detach().numpy(), grad_fn=fake_grad_fn(type(out.grad_fn).__name__))
    assert_same(fake, out)


def test_grad_fn_suffix_scalar():
    out = torch.from_numpy(CASES['float_simple'].copy()).requires_grad_().sum()
    fake = ember_tensor(out.detach().numpy(), grad_fn=fake_grad_fn('SumBackward0'))
    assert_same(fake, out)


@pytest.mark.parametrize('width', [8, 12, 16])
def test_grad_fn_suffix_wraps_at_each_length(width):
    arr = np.arange(width * 4, dtype=F32) + 0.5
    out = torch.from_numpy(arr.copy()).requires_grad_() * 1
    fake = ember_tensor(out.detach().numpy(), grad_fn=fake_grad_fn(type(out.grad_fn).__name__))
    assert_same(fake, out)


def test_grad_fn_suffix_with_real_op():
    ember = pytest.importorskip('ember')
    if not hasattr(ember, 'tensor') or not hasattr(Tensor, '__mul__'):
        pytest.skip('ember ops not available')
    data = _randn(30).tolist()
    assert_same(ember.tensor(data, requires_grad=True) * 2, torch.tensor(data, requires_grad=True) * 2)


@pytest.mark.parametrize('name', ['float64', 'float_simple', 'empty_f64', 'empty_f32', 'scalar_f64'])
def test_default_dtype_float64(name):
    arr = CASES[name]
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    _dtype.set_default_dtype(_dtype.float64)
    try:
        assert_same(ember_tensor(arr), torch.from_numpy(arr.copy()))
    finally:
        torch.set_default_dtype(old)
        _dtype.set_default_dtype(_dtype.float32)


def test_printoptions_state_matches_torch():
    from torch._tensor_str import get_printoptions as torch_get
    assert get_printoptions() == torch_get()
    with both_printoptions(precision=2, sci_mode=True):
        assert get_printoptions() == torch_get()
    assert get_printoptions() == torch_get()
    with both_printoptions(profile='full'):
        assert get_printoptions() == torch_get()


def test_set_printoptions_resets_sci_mode():
    try:
        set_printoptions(sci_mode=True)
        set_printoptions(precision=3)
        assert get_printoptions()['sci_mode'] is None
        assert get_printoptions()['precision'] == 3
    finally:
        set_printoptions(profile='default')
    assert get_printoptions() == dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)
