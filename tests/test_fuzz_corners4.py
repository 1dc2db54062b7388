"""Corners a fourth differential fuzzer found differing from PyTorch: reductions over every dim form (int, tuple,
empty tuple, negative, None) with keepdim/dtype/correction, creation and dtype inference from Python and NumPy
values, and torch.nn.functional argument combinations (interpolate's scale factors, ...). Each case runs the same
program on both libraries and compares results (dtype, shape, values, gradients) or that both raise the same
exception type, with PyTorch's first message line where it is short."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import run_both as run, same_result as _same

LIBS = (torch, ember)


def run_grad(make, fn, tol=1e-5):
    """``fn(lib, x)`` on a leaf ``make(lib)`` in both libraries: the same result, and the same gradient of a fixed
    weighting of it."""
    res = {}
    for L in LIBS:
        x = make(L).requires_grad_(True)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            y = fn(L, x)
        w = L.tensor(np.cos(np.arange(y.numel()) * 0.7).reshape(tuple(y.shape))).to(y.dtype)
        y.backward(w)
        res[L] = (y, x.grad)
    _same(res[ember][0], res[torch][0], tol)
    _same(res[ember][1], res[torch][1], tol)


# -- interpolate: a dim whose size the scale factor leaves unchanged is copied ---------------------------------
def _ramp(L, *shape, dtype=None):
    return L.tensor(np.sin(np.arange(int(np.prod(shape))) * 1.3).reshape(shape) * 4, dtype=dtype or L.float64)


UNCHANGED = [
    ((1, 2, 3), dict(scale_factor=1.3, mode='linear')),
    ((2, 1, 3, 4), dict(scale_factor=1.3, mode='bilinear')),
    ((1, 2, 4, 3), dict(scale_factor=(1.1, 1.7), mode='bilinear')),
    ((1, 1, 2, 3, 4), dict(scale_factor=1.3, mode='trilinear')),
    ((1, 1, 5, 3), dict(scale_factor=(1.1, 2.5), mode='bilinear', align_corners=True)),
    ((1, 2, 3, 4), dict(scale_factor=(1.3, 0.6), mode='bilinear', antialias=True)),
    ((1, 2, 3, 4), dict(scale_factor=(1.3, 0.6), mode='bicubic', antialias=True)),
    ((1, 2, 3, 4), dict(scale_factor=(1.3, 0.6), mode='bicubic')),
]


@pytest.mark.parametrize('shape,kw', UNCHANGED)
def test_interpolate_copies_a_dim_whose_size_is_unchanged(shape, kw):
    run(lambda L: L.nn.functional.interpolate(_ramp(L, *shape), **kw))


@pytest.mark.parametrize('shape,kw', UNCHANGED[:5])
def test_interpolate_unchanged_dim_gradient(shape, kw):
    run_grad(lambda L: _ramp(L, *shape), lambda L, x: L.nn.functional.interpolate(x, **kw))


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic'])
@pytest.mark.parametrize('antialias', [False, True])
def test_interpolate_uint8_copies_an_unchanged_dim(mode, antialias):
    def fn(L):
        x = L.tensor((np.arange(24).reshape(1, 2, 3, 4) * 11) % 256, dtype=L.uint8)
        return L.nn.functional.interpolate(x, scale_factor=(1.3, 0.6), mode=mode, antialias=antialias)
    run(fn)


# -- full: a NumPy scalar fill value is read as the Python number PyTorch's parser makes of it ---------------------
@pytest.mark.parametrize('value', [np.float64(1.5), np.float32(0.25), np.float16(2), np.int8(3), np.int32(-7),
                                   np.uint8(200), np.uint64(7), np.int64(5), np.bool_(True), np.bool_(False),
                                   np.complex128(1 - 2j), np.complex64(2 + 1j)])
def test_full_with_numpy_scalar_infers_pytorch_dtype(value):
    run(lambda L: L.full((2, 3), value))


@pytest.mark.parametrize('value,dtype', [(np.int64(300), 'int8'), (np.float64(2.5), 'int64'),
                                         (np.int64(7), 'float16'), (np.float32(1.5), 'float64')])
def test_full_with_numpy_scalar_and_dtype(value, dtype):
    run(lambda L: L.full((2,), value, dtype=getattr(L, dtype)), message=True)


# -- reductions over an empty dim list reduce every dim -----------------------------------------------------------
X23 = [[1.5, -2.0, 0.0], [3.0, 4.25, -5.0]]
EMPTY_DIMS = [
    lambda L, x: x.sum((), keepdim=True),
    lambda L, x: L.sum(x, dim=[], keepdim=True),
    lambda L, x: x.mean((), keepdim=True),
    lambda L, x: L.mean(x, dim=[]),
    lambda L, x: L.std(x, ()),
    lambda L, x: x.var(dim=(), keepdim=True),
    lambda L, x: L.var(x, dim=(), correction=0),
    lambda L, x: L.var_mean(x, dim=()),
    lambda L, x: L.std_mean(x, dim=(), keepdim=True),
    lambda L, x: L.norm(x, 2, dim=()),
    lambda L, x: L.norm(x, 1, dim=(), keepdim=True),
    lambda L, x: L.linalg.vector_norm(x, 3, dim=()),
    lambda L, x: L.logsumexp(x, (), keepdim=True),
    lambda L, x: L.count_nonzero(x, ()),
    lambda L, x: L.amax(x, (), keepdim=True),
    lambda L, x: x.nansum(()),
    lambda L, x: x.any(()),
    lambda L, x: L.all(x, (), keepdim=True),
]


@pytest.mark.parametrize('fn', EMPTY_DIMS)
def test_reduction_over_empty_dim_list(fn):
    run(lambda L: fn(L, L.tensor(X23)))


@pytest.mark.parametrize('fn', [EMPTY_DIMS[i] for i in (0, 1, 2, 3, 9, 10, 12, 14)])
def test_reduction_over_empty_dim_list_gradient(fn):
    run_grad(lambda L: L.tensor(X23, dtype=L.float64), fn)


# -- reductions without identity over empty dims, and dtype refusals ----------------------------------------------
REFUSALS = [
    lambda L: L.amax(L.zeros(0, 3)),
    lambda L: L.amax(L.zeros(0, 3), ()),
    lambda L: L.amin(L.zeros(0, 3), 0),
    lambda L: L.zeros(3, 0).amax((0, 1), keepdim=True),
    lambda L: L.amin(L.zeros(0, dtype=L.complex64), 0),
    lambda L: L.aminmax(L.zeros(0, 3)),
    lambda L: L.aminmax(L.zeros(0, 3), dim=0),
    lambda L: L.kthvalue(L.zeros(3, 0), 1),
    lambda L: L.zeros(0, dtype=L.int64).kthvalue(1, 0),
    lambda L: L.nanmedian(L.zeros(0, 2), 0),
    lambda L: L.mean(L.ones(2, dtype=L.int32), dtype=L.int64),
    lambda L: L.ones(2).mean(dtype=L.int8),
    lambda L: L.nanmean(L.ones(2), dtype=L.int64),
    lambda L: L.nanmean(L.ones(2, dtype=L.int64)),
    lambda L: L.ones(3, dtype=L.int64).std(),
    lambda L: L.var(L.ones(3, dtype=L.uint8), 0),
    lambda L: L.var_mean(L.ones(3, dtype=L.int16)),
    lambda L: L.std_mean(L.ones(3, dtype=L.bool), dim=0),
]


@pytest.mark.parametrize('fn', REFUSALS)
def test_reduction_refusals_match_pytorch(fn):
    run(fn, message=True)


def test_shapes_that_do_reduce_still_work():
    run(lambda L: (L.amax(L.zeros(3, 0), 0), L.aminmax(L.zeros(0, 3), dim=1), L.mean(L.ones(2, 3), dtype=L.float64),
                   L.nanmean(L.tensor([1.0, float('nan')]), dtype=L.float64)))


# -- creation: logspace into integer types, complex linspace/logspace, steps refused ------------------------------
@pytest.mark.parametrize('args,base,dtype', [((0, 3, 4), 2.5, 'int64'), ((0.7, 3.2, 3), 3, 'int32'),
                                             ((0, 10, 5), np.e, 'int16'), ((1, 10, 7), np.e, 'uint8'),
                                             ((-2, 3, 2), np.e, 'int8'), ((0, -1, 4), 0.5, 'uint8'),
                                             ((0, -1, 7), 1.5, 'uint8'), ((0.5, 3.5, 4), 2, 'int64'),
                                             ((-0.5, 3, 2), 2.5, 'uint8'), ((-1.5, 3, 3), 2, 'int8')])
def test_logspace_into_integer_types(args, base, dtype):
    run(lambda L: L.logspace(*args, base=base, dtype=getattr(L, dtype)), message=True)


@pytest.mark.parametrize('fn', [
    lambda L: L.linspace(0, 2, 3, dtype=L.complex64),
    lambda L: L.linspace(0, 2 + 1j, 3),
    lambda L: L.linspace(1j, 2 + 1j, 4, dtype=L.complex128),
    lambda L: L.linspace(L.tensor(0.), L.tensor(1 + 1j), 5),
    lambda L: L.linspace(0, 2 + 1j, 1),
    lambda L: L.linspace(-1j, 2, 0),
    lambda L: L.logspace(0, 2, 3, dtype=L.complex128),
    lambda L: L.logspace(0, 1j, 3),
    lambda L: L.logspace(0, 1 + 1j, 4, base=2),
])
def test_complex_linspace_logspace(fn):
    run(fn, tol=1e-5)


@pytest.mark.parametrize('fn', [lambda L: L.linspace(0, 1, -1), lambda L: L.logspace(0, 1, -1),
                                lambda L: L.logspace(0, 1, -2, dtype=L.int32),
                                lambda L: L.linspace(0, 1, 3, dtype=L.bool)])
def test_linspace_logspace_refusals(fn):
    run(fn, message=True)


# -- conversion: legacy type names, float()/int() of complex, complex -> real casts with gradients ----------------
@pytest.mark.parametrize('fn', [
    lambda L: L.zeros(2, dtype=L.complex64).type(),
    lambda L: L.zeros(2, dtype=L.complex128).type(),
    lambda L: L.zeros(2, dtype=L.bfloat16).type(),
    lambda L: L.zeros(2).type('torch.ComplexFloatTensor'),
    lambda L: L.zeros(2).type('torch.ComplexDoubleTensor'),
    lambda L: L.ones(2).type('torch.BFloat16Tensor'),
    lambda L: L.ones(2).type('torch.LongTensor'),
    lambda L: L.ones(2).type('FloatTensor'),
    lambda L: L.ones(2).type('torch.Foo'),
    lambda L: float(L.tensor(-0.5 + 0j)),
    lambda L: float(L.tensor(1 + 1j)),
    lambda L: int(L.tensor(2.7 - 0j, dtype=L.complex128)),
    lambda L: int(L.tensor(2 + 1j)),
])
def test_type_names_and_scalars_of_complex(fn):
    run(fn, message=True)


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16', 'bfloat16'])
def test_complex_to_real_cast_differentiates(dtype):
    def make(L):
        return L.tensor([1 + 2j, -0.5 + 1j, 3 - 1j], dtype=L.complex64)
    run_grad(make, lambda L, x: x.to(getattr(L, dtype)), tol=1e-2)


def test_complex_to_integer_cast_records_nothing():
    run(lambda L: L.tensor([1 + 2j], requires_grad=True).long().requires_grad)


# -- nn.functional: pad values and messages, interpolate's argument order and messages, loss weight messages ------
PADS = [
    lambda L: L.nn.functional.pad(L.zeros(2, dtype=L.uint8), (1, 1), value=-1),
    lambda L: L.nn.functional.pad(L.zeros(2, dtype=L.int8), (1, 1), value=200),
    lambda L: L.nn.functional.pad(L.zeros(2, dtype=L.int64), (1, 1), value=2.7),
    lambda L: L.nn.functional.pad(L.zeros(2, dtype=L.int64), (1, 1), value=float('inf')),
    lambda L: L.nn.functional.pad(L.zeros(2, dtype=L.float16), (1, 1), value=1e6),
    lambda L: L.nn.functional.pad(L.zeros(2, dtype=L.bool), (1, 1), value=2),
    lambda L: L.nn.functional.pad(L.zeros(2), (1, 1), value=1j),
    lambda L: L.nn.functional.pad(L.zeros(2), (1, 1), value=L.tensor(2.)),
    lambda L: L.nn.functional.pad(L.zeros(2), (1, 1), 'constant', L.tensor([3.])),
    lambda L: L.nn.functional.pad(L.zeros(2, dtype=L.complex64), (1, 1), value=1.5),
    lambda L: L.nn.functional.pad(L.zeros(2, 3, 3), (3, 3, 1, 1), mode='reflect'),
    lambda L: L.nn.functional.pad(L.zeros(2, 3, 3), (1, 1, 3, 3), mode='reflect'),
    lambda L: L.nn.functional.pad(L.zeros(2, 3, 3), (3, 3, 3, 3), mode='reflect'),
    lambda L: L.nn.functional.pad(L.zeros(1, 2, 3, 3), (0, 0, 3, 3, 3, 3), mode='reflect'),
    lambda L: L.nn.functional.pad(L.zeros(1, 2, 3, 3), (3, 3, 0, 0, 3, 3), mode='reflect'),
]


@pytest.mark.parametrize('fn', PADS)
def test_pad_values_and_messages(fn):
    run(fn, message=True)


INTERP_ERRORS = [
    lambda L: L.nn.functional.interpolate(L.zeros(1, 1, 2), size=(0,), mode='linear'),
    lambda L: L.nn.functional.interpolate(L.zeros(1, 1, 2), size=(0,), mode='nearest'),
    lambda L: L.nn.functional.interpolate(L.zeros(1, 1, 2, 3), size=(0, 2), mode='bilinear'),
    lambda L: L.nn.functional.interpolate(L.zeros(1, 1, 0, 3), size=(1, 2), mode='bicubic'),
    lambda L: L.nn.functional.interpolate(L.zeros(1, 1, 1, 2, 3), scale_factor=0.5, mode='nearest'),
    lambda L: L.nn.functional.interpolate(L.zeros(1, 1, 1, 2, 3), size=(0, 2, 1), mode='trilinear'),
    lambda L: L.nn.functional.interpolate(L.zeros(2, 1, 3), 3, scale_factor=2.0, mode='bilinear'),
    lambda L: L.nn.functional.interpolate(L.zeros(2, 1, 3), mode='trilinear'),
    lambda L: L.nn.functional.interpolate(L.zeros(1, 1, 4), size=1, mode='trilinear', recompute_scale_factor=True),
    lambda L: L.nn.functional.interpolate(L.zeros(1, 1, 4), size=(1, 2), mode='bilinear'),
]


@pytest.mark.parametrize('fn', INTERP_ERRORS)
def test_interpolate_refusals_in_pytorch_order(fn):
    run(fn, message=True)


LOSS_ERRORS = [
    lambda L: L.nn.functional.cross_entropy(L.zeros(4, 2, 2), L.zeros(4, 2, dtype=L.long), weight=L.ones(3)),
    lambda L: L.nn.functional.cross_entropy(L.zeros(4, 2, 2), L.zeros(4, 2, 2), weight=L.ones(3)),
    lambda L: L.nn.functional.cross_entropy(L.zeros(4, 2), L.zeros(4, 2), weight=L.ones(3)),
    lambda L: L.nn.functional.cross_entropy(L.zeros(4, 2), L.zeros(4, dtype=L.long), weight=L.ones(3)),
    lambda L: L.nn.functional.nll_loss(L.zeros(4, 2, 2, 2), L.zeros(4, 2, 2, dtype=L.long), weight=L.ones(3)),
    lambda L: L.nn.functional.nll_loss(L.zeros(4, 2), L.zeros(4, dtype=L.long), weight=L.ones(3)),
    lambda L: L.nn.functional.fold(L.zeros(1, 9, 0), (3, 3), 3, dilation=2),
    lambda L: L.nn.functional.fold(L.zeros(4, 0), (2, 2), 2),
    lambda L: L.nn.functional.normalize(L.zeros(3, 2, 0), float('inf'), -1),
    lambda L: L.linalg.vector_norm(L.zeros(2, 0), float('inf'), (0, -1)),
    lambda L: L.linalg.vector_norm(L.zeros(2, 0), float('inf'), ()),
]


@pytest.mark.parametrize('fn', LOSS_ERRORS)
def test_weight_fold_and_norm_messages(fn):
    run(fn, message=True)


# -- dims given as floats, bincount's refusals, median of an empty tensor ------------------------------------------
@pytest.mark.parametrize('fn', [
    lambda L: L.ones(2, 3).argmax(1.5),
    lambda L: L.ones(2, 3).cumsum(1.0),
    lambda L: L.ones(2, 3).softmax(1.0),
    lambda L: L.ones(2, 3).logsumexp(1.5),
    lambda L: L.ones(2, 3).sum((0, 1.0)),
    lambda L: L.ones(2, 3).max(1.5),
    lambda L: L.ones(2, 3).transpose(0, 1.0),
    lambda L: L.bincount(L.tensor([True, False])),
    lambda L: L.bincount(L.tensor([1, 2]), minlength=-1),
    lambda L: L.bincount(L.tensor([], dtype=L.long), minlength=-1),
    lambda L: L.randn_like(L.ones(2, dtype=L.long)),
    lambda L: L.randn_like(L.ones(2), dtype=L.bool),
    lambda L: L.randn_like(L.zeros(0, dtype=L.bool)).shape,
    lambda L: L.randn_like(L.zeros(0, 3, dtype=L.int64)).dtype,
    lambda L: L.randint_like(L.ones(2), 5, dtype=L.complex64),
])
def test_argument_type_refusals(fn):
    run(fn)


@pytest.mark.parametrize('fn', [
    lambda L: L.ones(2, 3).sum(L.tensor(1)),
    lambda L: L.ones(2, 3).mean(L.tensor(1)),
    lambda L: L.ones(2, 3).std(np.int64(1)),
    lambda L: L.ones(2, 3).amax(np.int32(0)),
    lambda L: L.bincount(L.tensor([1, 2, 2], dtype=L.uint8), minlength=5),
    lambda L: L.tensor([1j, 0j, 1 + 0j, -0.0 + 0j]).bool(),
    lambda L: L.tensor([1j, 0j, 2 - 1j], dtype=L.complex128).to(L.bool),
])
def test_integer_like_dims_and_complex_truth(fn):
    run(fn)


@pytest.mark.parametrize('name', ['median', 'nanmedian'])
def test_median_of_empty_tensor_is_nan_with_gradient(name):
    run_grad(lambda L: L.zeros(0, 3), lambda L, x: getattr(x, name)().reshape(1))


# -- out=: torch.norm (out before dtype, as PyTorch's signature), all/any into uint8 --------------------------------
@pytest.mark.parametrize('fn', [
    lambda L: L.norm(L.ones(2, 3), 2, 1, False, L.empty(0)),
    lambda L: L.ones(2, 3).norm(2, 1, False, L.float64),
    lambda L: L.norm(L.ones(2, 3), dim=1, out=L.empty(0)),
    lambda L: L.norm(L.ones(2, 3), out=L.empty(0, dtype=L.bool)),
    lambda L: L.norm(L.ones(3, requires_grad=True), out=L.empty(0)),
    lambda L: L.norm(L.ones(2, 3, 4), 'nuc'),
    lambda L: L.norm(L.ones(2, 3), 'nuc', 1),
    lambda L: L.norm(L.ones(2, 1, 3), 'fro', (1, 2, -3)),
    lambda L: L.norm(L.ones(2, 1, 3), 'fro', (1, 2)),
    lambda L: L.norm(L.tensor([[1., 2.], [3., 4.]]), 'nuc'),
    lambda L: L.all(L.ones(2, 3), out=L.empty(0, dtype=L.uint8)),
    lambda L: L.any(L.ones(2, 3), 1, out=L.empty(0, dtype=L.uint8)),
    lambda L: L.any(L.ones(2, 3), 1, out=L.empty(0, dtype=L.int8)),
    lambda L: L.all(L.ones(2, 3, dtype=L.uint8), out=L.empty(0, dtype=L.bool)),
    lambda L: L.any(L.tensor([0, 2], dtype=L.uint8), out=L.empty(0, dtype=L.bool)),
])
def test_norm_and_all_any_out(fn):
    run(fn, message=True, tol=1e-5)


# -- pad's crop, interpolate's mode/dimension messages, cross_entropy's ignore_index with probabilities ------------
@pytest.mark.parametrize('fn', [
    lambda L: L.nn.functional.pad(L.zeros(4, 1), (0, -2)),
    lambda L: L.nn.functional.pad(L.zeros(4, 1, dtype=L.complex64), (-2, 3, -2, 0)),
    lambda L: L.nn.functional.pad(L.zeros(4, 3), (-2, -2)),
    lambda L: L.nn.functional.pad(L.zeros(4, 3), (1, -3)),
    lambda L: L.nn.functional.interpolate(L.zeros(2, 1, 4), size=6, mode='bicubic'),
    lambda L: L.nn.functional.interpolate(L.zeros(2, 1, 4, 4, 4), size=6, mode='bicubic'),
    lambda L: L.nn.functional.interpolate(L.zeros(2, 1, 4), size=6, mode='bilinear'),
    lambda L: L.nn.functional.interpolate(L.zeros(2, 1, 4, 4), size=6, mode='trilinear'),
    lambda L: L.nn.functional.interpolate(L.zeros(2, 4), size=6, mode='nearest'),
    lambda L: L.nn.functional.cross_entropy(L.zeros(3, 2), L.ones(3, 2) / 2, ignore_index=0),
    lambda L: L.nn.functional.cross_entropy(L.zeros(3, 2), L.ones(3, 2) / 2, ignore_index=-100),
    lambda L: L.nn.functional.cross_entropy(L.zeros(3, 2), L.ones(3, 2) / 2, ignore_index=-1),
])
def test_crop_mode_and_ignore_index_messages(fn):
    run(fn, message=True)


# -- adaptive average pooling (and interpolate's 'area') with inf/NaN: only the windows that hold them -------------
NONFINITE = [[float('inf'), 4., 3., 1.], [1., 2., float('-inf'), 0.], [0.5, float('nan'), 2., 1.]]


@pytest.mark.parametrize('fn', [
    lambda L: L.nn.functional.adaptive_avg_pool1d(L.tensor([[[float('nan'), 4., 1., 2.]]]), 2),
    lambda L: L.nn.functional.adaptive_avg_pool2d(L.tensor([[NONFINITE]]), (2, 2)),
    lambda L: L.nn.functional.adaptive_avg_pool2d(L.tensor([[NONFINITE]], dtype=L.bfloat16), (3, 3)),
    lambda L: L.nn.functional.adaptive_avg_pool3d(L.tensor([[[NONFINITE, NONFINITE]]]), (1, 2, 3)),
    lambda L: L.nn.functional.interpolate(L.tensor([[NONFINITE]]), scale_factor=(2, 0.5), mode='area'),
    lambda L: L.nn.functional.interpolate(L.tensor([[[[1e30, 1.0], [-1e30, 2.0]]]]), size=(1, 1), mode='area'),
])
def test_adaptive_avg_pool_keeps_non_finite_values_in_their_windows(fn):
    run(fn)


# -- reductions, scans and softmax of a permuted input give contiguous results (so .view works), as PyTorch's ------
def _permuted(L):
    return L.arange(24.).reshape(2, 3, 4).permute(2, 1, 0)


CONTIGUOUS = ['sum', 'mean', 'amax', 'amin', 'std', 'var', 'prod', 'logsumexp', 'nansum', 'nanmean', 'argmax', 'any',
              'all', 'count_nonzero', 'median', 'max', 'min', 'cumsum', 'cumprod', 'softmax', 'log_softmax', 'cummax',
              'cummin', 'logcumsumexp', 'var_mean', 'std_mean', 'mode', 'kthvalue', 'norm', 'aminmax']


@pytest.mark.parametrize('name', CONTIGUOUS)
def test_reduction_of_permuted_input_is_contiguous(name):
    def fn(L):
        x = _permuted(L)
        f = getattr(L, name)
        r = (f(x, 2, 2) if name == 'norm' else f(x, 1, 2) if name == 'kthvalue' else f(x, dim=2) if name == 'aminmax'
             else f(x, 2))
        rs = list(r) if isinstance(r, tuple) else [r]
        return [(t.stride(), t.is_contiguous(), t.reshape(-1).shape, t.view(-1)) for t in rs]
    run(fn)


def test_softmax_of_transposed_input_views():
    run(lambda L: L.nn.functional.softmax(L.arange(6.).reshape(2, 3).t(), -1).view(-1))
    run_grad(lambda L: L.arange(6.).reshape(2, 3), lambda L, x: x.t().log_softmax(-1).view(-1))


def _grads_or_none(L):
    a = L.tensor([[1., 2., 3.], [0., 1., 1.]], requires_grad=True)
    b = L.tensor([[1., 0., 3.], [1., 1., 1.]], requires_grad=True)
    c = L.tensor([1., -2.], requires_grad=True)
    (L.nn.functional.pairwise_distance(a, b, 0).sum() + (a * 2).sum()).backward()
    L.norm(c, 0).backward()
    return a.grad, b.grad is None, c.grad is None


def test_zero_norm_passes_no_gradient():
    run(_grads_or_none)


def test_weight_norm_of_a_vector_keeps_one_norm_per_element():
    def fn(L):
        lin = L.nn.Linear(3, 4)
        with L.no_grad():
            lin.weight.copy_(L.tensor(np.arange(12.).reshape(4, 3) - 5))
            lin.bias.copy_(L.tensor([1., -2., 0.5, 3.]))
        m = L.nn.utils.weight_norm(lin, name='bias')
        return m.bias_g, m.bias_v, m(L.ones(2, 3))
    run(fn, tol=1e-5)


@pytest.mark.parametrize('fn', [
    lambda L: L.linalg.vector_norm(L.ones(2, dtype=L.long)),
    lambda L: L.linalg.vector_norm(L.ones(2, dtype=L.long), dtype=L.float32),
    lambda L: L.norm(L.ones(2, dtype=L.int32)),
    lambda L: L.linalg.vector_norm(L.ones(2, dtype=L.bool)),
    lambda L: L.nn.functional.normalize(L.ones(2, dtype=L.long), dim=0),
    lambda L: L.amin(L.zeros(3, 0), -1),
    lambda L: L.amax(L.zeros(3, 0), (0, -1)),
    lambda L: L.amax(L.zeros(0, 3), (-2,)),
    lambda L: L.aminmax(L.zeros(3, 0), dim=-1),
])
def test_norm_of_integers_and_empty_dim_messages(fn):
    run(fn, message=True)


@pytest.mark.parametrize('fn', [
    lambda L: L.ones(1, 3).expand(2, 3).to(L.int64).stride(),
    lambda L: L.ones(1, 3, dtype=L.bool).expand(2, 3).float().view(-1),
    lambda L: L.ones(2, 1, 3).expand(2, 4, 3).half().stride(),
    lambda L: L.ones(3, 1).expand(3, 4).double().stride(),
    lambda L: L.ones(2, 3).t().double().stride(),
])
def test_cast_of_expanded_tensor_is_contiguous(fn):
    run(fn)
