"""Corners a differential fuzzer (random dtypes, shapes, layouts and special values through ember and PyTorch)
found giving silently different answers: each case runs on both and compares values (bit-exact unless a
tolerance is given), dtype and shape, or that both raise the same exception type."""
import numpy as np
import pytest
import torch

import ember

LIBS = (torch, ember)


def _np(x):
    x = x.detach()
    if x.dtype in (torch.bfloat16, ember.bfloat16):
        x = x.float()
    return x.numpy()


def _same(e, t, tol=0.0):
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)) and len(e) == len(t)
        for a, b in zip(e, t):
            _same(a, b, tol)
        return
    if not isinstance(t, torch.Tensor):
        assert e == t
        return
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape), (e.dtype, t.dtype, e.shape, t.shape)
    en, tn = _np(e), _np(t)
    if tol:
        np.testing.assert_allclose(en, tn, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(en, tn)


def same(fn, tol=0.0):
    """``fn(lib)`` gives the same answer on ember as on PyTorch, or raises the same exception type."""
    try:
        t = fn(torch)
    except Exception as ex:  # noqa: BLE001 - the oracle's exception type is what ember must raise
        with pytest.raises(type(ex)):
            fn(ember)
        return
    _same(fn(ember), t, tol)


C = [1 - 1.5j, 2 + 0j, -0.5 + 3j]


@pytest.mark.parametrize('fn', [
    lambda L: L.addcmul(L.tensor(C), L.tensor(C[::-1]), L.tensor(C), value=0.5),
    lambda L: L.addcdiv(L.tensor(C), L.tensor(C[::-1]), L.tensor(C), value=0.5),
    lambda L: L.addcdiv(L.tensor(C), L.tensor(C[::-1]), L.tensor(C), value=-2.25),
])
def test_addcmul_addcdiv_complex_keep_a_fractional_value(fn):
    same(fn, 1e-6)


@pytest.mark.parametrize('op', ['all', 'any', 'argmax', 'argmin'])
@pytest.mark.parametrize('shape', [(2, 3), (0, 3), (1, 5), ()])
def test_reductions_over_everything_keep_every_dim(op, shape):
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) % 3
    if op.startswith('arg') and x.size == 0:
        return same(lambda L: getattr(L, op)(L.tensor(x), None, True))
    same(lambda L: getattr(L, op)(L.tensor(x), None, True))
    same(lambda L: getattr(L.tensor(x), op)(keepdim=True))


@pytest.mark.parametrize('fn', [
    lambda L: L.var(L.tensor([1., 2.]), correction=2),              # n - c = 0: inf
    lambda L: L.var(L.tensor([1., 1.]), correction=3),              # all deviations 0: nan
    lambda L: L.std(L.tensor([1., 2., 5.]), correction=5),
    lambda L: L.var(L.ones(2, 3), 1, correction=3),
    lambda L: L.var_mean(L.tensor([1., 4.]), correction=2)[0],
    lambda L: L.var(L.tensor([122.7, -122.6, -99.5, 257.8]).half(), correction=2),   # squares beyond float16
    lambda L: L.std(L.tensor([1e30, 2., 3.]).bfloat16()),                           # and beyond float32
    lambda L: L.std(L.tensor([[1e30, -1e30], [3., 4.]]), 1),
])
def test_var_std_divide_by_max_zero_and_accumulate_wide(fn):
    same(fn, 1e-6)


@pytest.mark.parametrize('fn', [
    lambda L: L.norm(L.tensor(1e30)),                                # one element: its magnitude
    lambda L: L.norm(L.tensor([[1e30], [-2e30]]), dim=1),
    lambda L: L.norm(L.tensor([[1e30, 1.], [2e30, 1.]]), dim=1),     # overflows in PyTorch too
    lambda L: L.linalg.vector_norm(L.tensor([-1e30]), 3),
    lambda L: L.norm(L.tensor([6e4, 1.]).half()),                    # float16 accumulates in float32
    lambda L: L.norm(L.tensor([6e4, 3e4]).half(), p=1),
    lambda L: L.linalg.vector_norm(L.tensor([3., 4.]), dtype=L.float64),
    lambda L: L.norm(L.tensor([[3., 4.]]), dim=1, dtype=L.float64),
    lambda L: L.linalg.vector_norm(L.tensor([3., 4.], dtype=L.float64), dtype=L.float32),   # narrowing: error
])
def test_norm_dtype_and_overflow(fn):
    same(fn, 1e-6)


def test_norm_dtype_keeps_the_gradient():
    out = {}
    for L in LIBS:
        x = L.tensor([3., -4.], requires_grad=True)
        y = L.linalg.vector_norm(x, dtype=L.float64)
        y.backward()
        out[L] = (y, x.grad, y.grad_fn.name())
    _same(out[ember][:2], out[torch][:2], 1e-7)
    assert out[ember][2] == out[torch][2]


I16 = [1, 2, 3]


@pytest.mark.parametrize('fn', [
    lambda L: L.clamp(L.tensor(I16, dtype=L.int16), 0, L.tensor(1., dtype=L.float16)),   # 0-d read as a number
    lambda L: L.clamp(L.tensor(I16, dtype=L.int16), True, L.tensor(1., dtype=L.float16)),
    lambda L: L.clamp(L.tensor(I16, dtype=L.int16), None, L.tensor(1., dtype=L.float16)),
    lambda L: L.clamp(L.tensor(I16, dtype=L.int16), L.tensor(1.5, dtype=L.float16), L.tensor(2., dtype=L.float16)),
    lambda L: L.clip(L.tensor([1, 200], dtype=L.uint8), L.tensor(4), False),
    lambda L: L.clamp(L.tensor(False), L.tensor(True), -3),
    lambda L: L.clamp(L.tensor(0, dtype=L.int32), L.tensor(-4), float('nan')),
    lambda L: L.clamp(L.tensor([1, 2], dtype=L.uint8), -3),           # wraps to 253 as PyTorch converts it
    lambda L: L.clamp(L.tensor(False), 127),                          # bool with an int bound: int64
    lambda L: L.clamp_max(L.tensor([True, False]), 5),
    lambda L: L.clamp(L.tensor([0.1, 0.5]).bfloat16(), 0.3),          # the bound rounded to bfloat16 first
    lambda L: L.clamp(L.tensor([1], dtype=L.int8), 300),              # errors
    lambda L: L.clamp(L.tensor([1.5]).half(), 1e6),
    lambda L: L.clamp(L.tensor([True]), True),
    lambda L: L.clamp(L.tensor([1]), 1j),
    lambda L: L.clamp(L.tensor(I16), 1, L.tensor([1., 2., 3.])),
])
def test_clamp_promotes_as_pytorchs_overloads(fn):
    same(fn)


def test_clamp_gradient_with_a_zero_dim_bound():
    g = {}
    for L in LIBS:
        x = L.tensor([0.5, 2.0, 3.5], requires_grad=True)
        L.clamp(x, 1, L.tensor(3.0)).sum().backward()
        g[L] = x.grad
    _same(g[ember], g[torch])


@pytest.mark.parametrize('fn', [
    lambda L: L.tensor([1, 2, 3], dtype=L.uint8).masked_fill(L.tensor([True, False, True]), -1),
    lambda L: L.tensor([1, 2, 3], dtype=L.uint8).masked_fill(L.tensor([True, False, True]), -0.45),
    lambda L: L.tensor([1, 2, 3], dtype=L.uint8).masked_fill(L.tensor([True, False, True]), 256),
    lambda L: L.tensor([1, 2, 3], dtype=L.int8).masked_fill(L.tensor(True), L.tensor(2.5)),
    lambda L: L.ones(2).masked_fill(L.tensor([True, False]), 1 + 1j),
    lambda L: L.ones(2).masked_fill(L.tensor([True, False]), 1e39),
    lambda L: L.tensor([0.1, 0.2]).bfloat16().masked_fill(L.tensor([True, False]), 0.3),
])
def test_masked_fill_converts_its_value_as_pytorch(fn):
    same(fn)


@pytest.mark.parametrize('fn', [
    lambda L: L.zeros(0, 3).t().sin_(),
    lambda L: L.zeros(3, 0)[:, ::2].tril_(1),
    lambda L: L.zeros(2, 0).expand(3, 2, 0).masked_fill_(L.tensor(True), 1.0),
    lambda L: L.zeros(2, 0, 2).transpose(0, 2).clamp_(0, 1),
])
def test_inplace_on_empty_views_is_allowed(fn):
    same(fn)


@pytest.mark.parametrize('spec', [[-1, 0, 9, 2], [3, 1], [-9, -2], [2, 2], [], 3, 5, 1])
def test_tensor_split_slices_between_consecutive_indices(spec):
    same(lambda L: L.tensor_split(L.arange(4), spec))
    same(lambda L: L.tensor_split(L.arange(12).reshape(3, 4), spec, dim=1))


@pytest.mark.parametrize('fn', [
    lambda L: L.take_along_dim(L.arange(12.).reshape(2, 3, 2), L.zeros(1, 0, 1, dtype=L.int64), 1),
    lambda L: L.take_along_dim(L.arange(12.).reshape(2, 3, 2), L.tensor([[[-1]]]), 1),
    lambda L: L.take_along_dim(L.arange(12.).reshape(2, 3, 2), L.tensor([[[1], [0]]]), 1),
    lambda L: L.take_along_dim(L.arange(6.).reshape(2, 3), L.tensor([[-1], [-2]]), 0),
    lambda L: L.take_along_dim(L.arange(12.).reshape(2, 3, 2), L.tensor([1]), 1),
    lambda L: L.take_along_dim(L.tensor(3.), L.tensor(0), 0),
])
def test_take_along_dim_broadcasts_and_counts_from_the_end(fn):
    same(fn)


def test_take_along_dim_gradient_through_broadcast():
    g = {}
    for L in LIBS:
        x = L.arange(12.).reshape(2, 3, 2).requires_grad_()
        L.take_along_dim(x, L.tensor([[[2], [-1]]]), 1).sum().backward()
        g[L] = x.grad
    _same(g[ember], g[torch])


@pytest.mark.parametrize('fn', [
    lambda L: L.unique(L.tensor([[1, 2], [1, 2], [3, 4]]), dim=0, return_inverse=True, return_counts=True),
    lambda L: L.unique(L.arange(18.).reshape(2, 3, 3).transpose(0, 2) % 2, dim=-1, return_inverse=True),
    lambda L: L.unique(L.zeros(2, 0), dim=1, return_inverse=True),
    lambda L: L.unique(L.zeros(2, 0), dim=0),
    lambda L: L.unique_consecutive(L.zeros(2, 0, dtype=L.int32), dim=1, return_inverse=True, return_counts=True),
    lambda L: L.unique_consecutive(L.zeros(2, 0), dim=0),
])
def test_unique_over_a_dim(fn):
    same(fn)


@pytest.mark.parametrize('wdtype', ['int64', 'float16', 'bfloat16', 'float32', 'float64'])
def test_bincount_weights_count_in_float32_or_float64(wdtype):
    same(lambda L: L.bincount(L.tensor([0, 1, 1, 4]), L.tensor([1., 2., 3., 0.5]).to(getattr(L, wdtype))))


@pytest.mark.parametrize('fn', [
    lambda L: L.topk(L.zeros(2, 0), 0),
    lambda L: L.topk(L.zeros(2, 3), 0, dim=0),
    lambda L: L.topk(L.zeros(0, 3), 2),
    lambda L: L.topk(L.zeros(0, 3), 4),
])
def test_topk_of_nothing(fn):
    same(fn)


@pytest.mark.parametrize('fn', [
    lambda L: L.hstack([L.tensor(1), L.tensor([2, 3])]),
    lambda L: L.hstack([L.tensor(True)]),
    lambda L: L.vstack([L.tensor(1.), L.tensor(2)]),
    lambda L: L.vstack([L.tensor(1.), L.tensor([2.])]),
])
def test_hstack_vstack_take_zero_dim_tensors(fn):
    same(fn)


@pytest.mark.parametrize('dtype', ['bfloat16', 'float16', 'float32', 'float64'])
def test_entr_keeps_dtype_and_nan(dtype):
    same(lambda L: L.special.entr(L.tensor([0.5, 0, -1, 0.3, 1.7, float('nan')]).to(getattr(L, dtype))), 1e-6)


@pytest.mark.parametrize('key', [
    lambda L: (0, slice(None), L.tensor([0, 1])),       # NumPy would put the index's dim first
    lambda L: (L.tensor(0), slice(None), L.tensor([0, 1])),
    lambda L: (0, slice(None), [0, 1]),
    lambda L: (slice(None), 0, None, L.tensor([0, 1])),
    lambda L: (0, None, slice(None), L.tensor([1, 3])),
    lambda L: (Ellipsis, 0, L.tensor([0, 1])),
    lambda L: (0, Ellipsis, L.tensor([0, 1])),
    lambda L: (L.tensor([0, 1]), Ellipsis, 0),
    lambda L: (0, L.tensor([True, False, True]), slice(1, 3)),
    lambda L: (slice(None), 1, slice(None), L.tensor([[0], [1]])),
])
def test_integers_select_before_advanced_indexing(key):
    same(lambda L: L.arange(48.).reshape(2, 3, 4, 2)[key(L)])
    out = {}
    for L in LIBS:
        x = L.arange(48.).reshape(2, 3, 4, 2).requires_grad_()
        y = x[key(L)]
        (y * L.arange(float(y.numel())).reshape(y.shape)).sum().backward()
        z = L.zeros(2, 3, 4, 2)
        z[key(L)] = L.arange(float(y.numel())).reshape(y.shape)
        out[L] = (x.grad, z, y.grad_fn.name())
    _same(out[ember][:2], out[torch][:2])
    assert out[ember][2] == out[torch][2]


# -- second batch ------------------------------------------------------------------------------------------------
B = [[-0., 0.75, -0.75], [-0.25, -0., -0.5]]


@pytest.mark.parametrize('fn', [
    lambda L: L.tensor(B).bfloat16() % L.tensor(1.).bfloat16(),      # a zero result once left others unset
    lambda L: L.remainder(L.tensor(B).bfloat16(), L.tensor([1., 1., 1.]).bfloat16()),
    lambda L: L.remainder(L.tensor([[[6.24, 216.9, -170.3]]]).bfloat16(),
                          L.tensor([[False, False], [True, True]])[..., ::2]),
    lambda L: L.tensor(B).half() % 0.5,
])
def test_remainder_of_bfloat16_fills_every_element(fn):
    same(fn)


A = [float('inf'), -float('inf'), 5., -5., 7.5, 1e30, 1., -1.]


@pytest.mark.parametrize('fn', [
    lambda L: L.div(L.tensor(A), 2, rounding_mode='floor'),           # inf // 2 is NaN, as Python's
    lambda L: L.div(L.tensor(A), 0.1, rounding_mode='floor'),         # 1 // 0.1 is 9, floor(1 / 0.1) 10
    lambda L: L.div(L.tensor(A).bfloat16(), 0.1, rounding_mode='floor'),
    lambda L: L.div(L.tensor(A).half(), 0.1, rounding_mode='floor'),
    lambda L: L.div(L.tensor(A).half(), 0.3, rounding_mode='trunc'),
    lambda L: L.floor_divide(L.tensor(A).half(), 0.1),
    lambda L: L.div(L.tensor([2 ** 62 + 1, -7, 7, -6, -2 ** 62 - 3]), L.tensor([3, 2, -2, 3, 7]),
                    rounding_mode='trunc'),
    lambda L: L.div(L.tensor([7, -7], dtype=L.int8), 2, rounding_mode='trunc'),
])
def test_rounded_division(fn):
    same(fn)


U8 = [0, 5, 255]


@pytest.mark.parametrize('fn', [
    lambda L: L.tensor(U8, dtype=L.uint8) < -3,                       # -3 converts to 253 as PyTorch casts it
    lambda L: L.tensor(U8, dtype=L.uint8) > -1,
    lambda L: L.tensor(U8, dtype=L.uint8) == 256,
    lambda L: L.tensor([-1, 0, 127], dtype=L.int8) == 255,
    lambda L: L.tensor([-1, 0, 127], dtype=L.int8) != -2147483649,
    lambda L: L.tensor([2, -6], dtype=L.int32) < 2 ** 31,
    lambda L: -3 < L.tensor(U8, dtype=L.uint8),
    lambda L: L.tensor(U8, dtype=L.uint8).clone().eq_(255),
    lambda L: L.tensor([-1, 0, 127], dtype=L.int8) ^ 255,
    lambda L: 4 << L.tensor([[1, 2], [3, 4]], dtype=L.int16),        # the number takes the tensor's dtype
    lambda L: L.bitwise_right_shift(127, L.tensor(2, dtype=L.int8)),
    lambda L: 300 << L.tensor([1], dtype=L.uint8),
    lambda L: 1 << L.tensor([True]),
])
def test_integer_scalars_convert_to_the_tensor_type(fn):
    same(fn)


H = [6e4, 6e4, -6e4]


@pytest.mark.parametrize('fn', [
    lambda L: L.mean(L.tensor(H).half().reshape(3, 1).expand(3, 2), (0, 1), keepdim=True),
    lambda L: L.mean(L.tensor([6e4, 6e4]).half()),                     # float32 sum, one rounding
    lambda L: L.sum(L.tensor(H).half().reshape(3, 1).expand(3, 2), 0),
    lambda L: L.sum(L.ones(2, 3), None, keepdim=True),
    lambda L: L.ones(2, 3).sum(dim=None, keepdim=True),
    lambda L: L.mean(L.ones(2, 3), None, keepdim=True),
    lambda L: L.sum(L.tensor([0.3, 1.7, 2.2]).bfloat16(), dtype=L.float32),   # converted first, then summed
    lambda L: L.sum(L.tensor([0.3, 1.7, 2.2]).bfloat16(), 0, dtype=L.float32),
    lambda L: L.cumsum(L.tensor([0.3, 1.7, 2.2]).bfloat16(), 0, dtype=L.float32),
    lambda L: L.prod(L.tensor([0.3, 1.7, 2.2]).bfloat16(), dtype=L.float32),
    lambda L: L.sum(L.tensor([1, 2]), dtype=L.bfloat16),
    lambda L: L.sum(L.tensor([0.3, 1.7]), dtype=L.bfloat16),
    lambda L: L.cumsum(L.tensor([1, 2]), 0, dtype=L.bfloat16),
    lambda L: L.prod(L.tensor([1, 3]), dtype=L.bfloat16),
    lambda L: L.softmax(L.tensor(float('inf')), 0),                    # 0-d: x - max(x)
    lambda L: L.log_softmax(L.tensor(float('nan')), 0),
    lambda L: L.softmax(L.tensor([[6, 3, -1], [1, -3, -3]]), -1, dtype=L.float16),   # float32 inside
    lambda L: L.log_softmax(L.tensor([[6, 3, -1], [1, -3, -3]]), 0, dtype=L.float16),
    lambda L: L.softmax(L.tensor([[6, 3, -1], [1, -3, -3]]), -1, dtype=L.bfloat16),
])
def test_reductions_accumulate_and_convert_as_pytorch(fn):
    same(fn)


def test_reduction_dtype_keeps_the_gradient():
    out = {}
    for L in LIBS:
        x = L.tensor([0.3, 1.7, 2.2]).bfloat16().requires_grad_()
        (L.sum(x, dtype=L.float32) * 2 + L.cumsum(x, 0, dtype=L.float32).sum()).backward()
        out[L] = x.grad
    _same(out[ember], out[torch])


@pytest.mark.parametrize('fn', [
    lambda L: L.index_add(L.tensor([1, 2, 3]), 0, L.tensor([0, 1]), L.tensor([5, 6]), alpha=0.5),   # alpha 0
    lambda L: L.index_add(L.tensor([1, 2, 3]), 0, L.tensor([0, 1]), L.tensor([5, 6]), alpha=2),
    lambda L: L.unique(L.tensor([float('nan'), 1., float('nan'), 1.]), return_inverse=True, return_counts=True),
    lambda L: L.cat([L.tensor([True]), L.zeros(0).bfloat16(), L.tensor([1], dtype=L.int16)]),
    lambda L: L.cat([L.tensor([0.3]), L.zeros(1).bfloat16()]),
    lambda L: L.deg2rad(L.tensor([-21.38, 20.02, 157.1, 36.4, 104.3]).half()),
    lambda L: L.rad2deg(L.tensor([1.068, -0.6313, 4.703]).half()),
    lambda L: L.addcdiv(L.tensor([-1.]).half(), L.tensor([6e4]).half(), L.tensor([20.73]).half(), value=2),
])
def test_more_corners(fn):
    same(fn)


@pytest.mark.parametrize('fn', [
    lambda L: L.arange(-0.5, 10, dtype=L.int16),             # values from the truncated start, length from floats
    lambda L: L.arange(0, 0.001, 1, dtype=L.int64),          # int64: the length from the truncated bounds too
    lambda L: L.arange(2.5, dtype=L.int64),
    lambda L: L.arange(2.5, dtype=L.int32),
    lambda L: L.arange(-0.5, True, 1, dtype=L.uint8),
    lambda L: L.arange(10, 0.5, -1.5, dtype=L.int64),
    lambda L: L.arange(10, 0.5, -1.5, dtype=L.int8),
    lambda L: L.arange(1, 9, 2.5, dtype=L.int64),
    lambda L: L.range(0.001, 10, dtype=L.int8),
    lambda L: L.range(-0.5, 7, dtype=L.int32),
    lambda L: L.range(2.5, True, dtype=L.int16),             # errors once truncated
    lambda L: L.range(0, -0.5),
    lambda L: L.range(0, 1, 0.25),
    lambda L: L.logspace(10, 0.001, 7, dtype=L.int32, base=0.5),   # bounds truncated first, the powers floored
    lambda L: L.logspace(-2, -0.5, 5, dtype=L.int64),
    lambda L: L.logspace(1, 2.5, 4, dtype=L.int16, base=2),
    lambda L: L.logspace(2.5, 10, 2, dtype=L.int32),
    lambda L: L.logspace(2.5, 30, 3, dtype=L.int64),
    lambda L: L.logspace(1, 5, 3, dtype=L.uint8),
])
def test_integer_ranges_step_in_integers(fn):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')   # torch.range's deprecation
        same(fn)


@pytest.mark.parametrize('fn', [
    lambda L: L.scatter_reduce(L.tensor([5, 1], dtype=L.int32), 0, L.tensor([0, 0, 1]),
                               L.tensor([-2 ** 31, -2 ** 31, -2 ** 31], dtype=L.int32), 'amax', include_self=False),
    lambda L: L.bincount(L.tensor([], dtype=L.int64), L.tensor([]), 3),            # int64 even with weights
    lambda L: L.bincount(L.tensor([], dtype=L.int64), L.tensor([], dtype=L.float64)),
    lambda L: L.tensor([1., 2.]).bfloat16().expand(3, 2).stride(),                 # a view, not a copy
    lambda L: L.tensor([[1.], [2.]]).bfloat16().expand(2, 2, 3),
])
def test_last_fuzz_corners(fn):
    same(fn)


def test_bfloat16_expand_is_a_view_of_its_base():
    """A write through the expanded tensor's base shows in it (ember's copy once kept the old values)."""
    out = {}
    for L in LIBS:
        base = L.tensor([1., 2.]).bfloat16()
        y = base.expand(3, 2)
        base[0] = 5
        out[L] = y
    _same(out[ember], out[torch])


@pytest.mark.parametrize('fn', [
    lambda L: L.tensor([[1., -2., 3.]]).expand(1, 3).neg_(),      # nothing repeated: an ordinary view
    lambda L: L.tensor([1., 2.]).expand(1, 2).sin_(),
    lambda L: L.tensor([5.]).bfloat16().expand(1, 1, 1).add_(1),
    lambda L: L.tensor([1., 2.]).expand(3, 2).add_(1),           # repeated: PyTorch's overlap error
])
def test_inplace_on_an_expand_that_repeats_nothing(fn):
    same(fn)


@pytest.mark.parametrize('fn', [
    lambda L: L.tensor([[3.5412056], [-3.8171954]]).bfloat16() * L.tensor([[1877378812, -2147483648]], dtype=L.int32),
    lambda L: L.pow(L.tensor([-79.95]).bfloat16(), L.tensor([32767], dtype=L.int16)),   # 32767 is 32768 in bf16
    lambda L: L.where(L.tensor([True, False]), L.tensor([1001, 2], dtype=L.int32), L.tensor([0.5, 0.3]).bfloat16()),
    lambda L: L.clamp(L.tensor([0.5]).bfloat16(), L.tensor([1001], dtype=L.int32)),
    lambda L: L.addcmul(L.tensor([0.]).bfloat16(), L.tensor([1001], dtype=L.int16), L.tensor([1.]).bfloat16()),
])
def test_operands_promoted_to_bfloat16_are_rounded(fn):
    same(fn)


@pytest.mark.parametrize('fn', [
    lambda L: (-1) ** L.tensor([127, -1, 44, 100, 3], dtype=L.int8),     # int8, wrapping, as PyTorch's powi
    lambda L: 2 ** L.tensor([127, -1, 44, 100, 3], dtype=L.int8),
    lambda L: 300 ** L.tensor([127, -1, 44, 100, 3], dtype=L.int8),
    lambda L: L.add(L.tensor([True]), 1 - 2j, alpha=2),                     # complex64: the number stays weak
    lambda L: L.sub(L.tensor([1], dtype=L.int8), 1 - 2j, alpha=2),
])
def test_scalar_operands_stay_weak(fn):
    same(fn)


@pytest.mark.parametrize('fn', [
    lambda L: L.ones(2, 3).expand(0, 2, 3),                          # expanding to a new size-0 dim
    lambda L: L.repeat_interleave(L.ones(2, 3), 0),
    lambda L: L.nan_to_num(L.tensor([float('inf'), -float('inf'), float('nan')]).bfloat16()),   # bf16's extremes
    lambda L: L.cumsum(L.tensor([0, -4903, 24858, -17780], dtype=L.int16), 0, dtype=L.float16),  # float32 running sum
    lambda L: L.cumsum(L.tensor([0, -4903, 24858, -17780.]).half(), 0),
])
def test_fuzz_corners_late(fn):
    same(fn)


@pytest.mark.parametrize('dtype', ['float32', 'complex64', 'bfloat16', 'int64'])
def test_setitem_strips_leading_ones_of_the_value(dtype):
    def fn(L):
        x = L.zeros(4, dtype=getattr(L, dtype))
        x[2] = L.tensor([3], dtype=getattr(L, dtype))          # shape [1] into a 0-d slot
        x[(1,)] = L.tensor([[2]], dtype=getattr(L, dtype))
        y = L.zeros(2, 3, dtype=getattr(L, dtype))
        y[0:1] = L.ones(1, 1, 3, dtype=getattr(L, dtype))
        y[L.tensor([1])] = L.full((1, 1, 1, 3), 2, dtype=getattr(L, dtype))
        return x, y
    same(fn)


def test_setitem_of_a_leading_ones_value_keeps_its_gradient():
    g = {}
    for L in LIBS:
        v = L.tensor([[5.]], requires_grad=True)
        z = L.zeros(3, requires_grad=True).clone()
        z[1] = v
        (z * L.tensor([1., 2., 3.])).sum().backward()
        g[L] = v.grad
    _same(g[ember], g[torch])


def test_nonzero_is_column_major_as_pytorchs():
    for make in (lambda L: L.tensor([[1, 0, 2], [0, 3, 0]]), lambda L: L.tensor([1, 0, 2]), lambda L: L.ones(2, 3, 4)):
        e, t = ember.nonzero(make(ember)), torch.nonzero(make(torch))
        _same(e, t)
        assert e.stride() == t.stride() and e.is_contiguous() == t.is_contiguous()
        assert ember.argwhere(make(ember)).stride() == torch.argwhere(make(torch)).stride()


@pytest.mark.parametrize('fn', [
    lambda L: L.full((3,), float('inf'), dtype=L.int8),
    lambda L: L.full((2,), -1, dtype=L.uint8),
    lambda L: L.full((2,), 300, dtype=L.int8),
    lambda L: L.full((2, 3), 1 - 2j, dtype=L.bfloat16),
    lambda L: L.full((2,), 2.7, dtype=L.int64),
    lambda L: L.full((2,), 1e300),
    lambda L: L.full_like(L.zeros(2, dtype=L.int16), float('nan')),
    lambda L: L.full_like(L.zeros(2, dtype=L.uint8), -3),
    lambda L: L.zeros(2, dtype=L.int8).fill_(300),
    lambda L: L.zeros(2, dtype=L.uint8).fill_(-1),
    lambda L: L.zeros(2).fill_(1e39),
    lambda L: L.zeros(2, dtype=L.int32).new_full((2,), 2 ** 40),
    lambda L: L.zeros(2, dtype=L.int32).fill_(float('nan')),
    lambda L: L.zeros(2, dtype=L.uint8).index_fill(0, L.tensor([0]), -1),
    lambda L: L.zeros(2, dtype=L.int8).index_fill(0, L.tensor([0]), 300),
    lambda L: L.zeros(2, dtype=L.bool).fill_(3.5),
])
def test_fill_values_convert_as_pytorch(fn):
    same(fn)


NAN = float('nan')


@pytest.mark.parametrize('fn', [
    lambda L: L.searchsorted(L.tensor([0.5, NAN]), L.tensor(0.)),               # PyTorch's binary search
    lambda L: L.searchsorted(L.tensor([0.5, NAN]), 0, side='right'),
    lambda L: L.bucketize(L.tensor([0, -1, 1, 2, NAN]), L.tensor([-1., 0, NAN])),
    lambda L: L.bucketize(L.tensor([0, -1, 1, 2.]), L.tensor([0.25, 1, 1, NAN, NAN]), right=True),
    lambda L: L.searchsorted(L.tensor([-0.5, -0., 0.5, float('inf'), NAN]),
                             L.tensor([[82.8, -143.7, NAN], [-0., 0.5, 1.]])),
    lambda L: L.searchsorted(L.tensor([[1., NAN, 3]]), L.tensor([[2., 0.]])),
    lambda L: L.searchsorted(L.tensor([1., 2, 3]), L.tensor([2., NAN])),
])
def test_searchsorted_with_nan_boundaries(fn):
    same(fn)


@pytest.mark.parametrize('fn', [
    lambda L: L.linalg.vector_norm(L.zeros(3, 0), float('inf'), dim=0),       # kept shape (0,), not 0-d
    lambda L: L.linalg.vector_norm(L.zeros(3, 0).bfloat16().t(), float('inf'), dim=-1),
    lambda L: L.linalg.vector_norm(L.zeros(3, 0), float('inf'), dim=1),       # max over an empty dim: error
    lambda L: L.linalg.vector_norm(L.zeros(3, 0), float('inf')),
    lambda L: L.linalg.vector_norm(L.zeros(3, 0), float('-inf'), dim=0),
    lambda L: L.linalg.vector_norm(L.zeros(3, 0), float('-inf'), dim=1, keepdim=True),
])
def test_extreme_norms_of_empty_tensors(fn):
    same(fn)


C2 = [True, False]


@pytest.mark.parametrize('fn', [
    lambda L: L.where(L.tensor(C2), L.tensor([1, 2], dtype=L.uint8), 2 ** 31),    # checked conversion
    lambda L: L.where(L.tensor(C2), L.tensor([1, 2], dtype=L.uint8), -1),
    lambda L: L.where(L.tensor(C2), L.tensor([1., 2.]).half(), 1e6),              # float16 unchecked: inf
    lambda L: L.where(L.tensor(C2), 300, L.tensor([1, 2], dtype=L.int8)),
    lambda L: L.where(L.tensor(C2), 1e39, L.tensor([1., 2.])),
    lambda L: L.addcmul(L.tensor([True]), L.tensor([True]), L.tensor([True])),
])
def test_where_scalars_and_bool_addcmul(fn):
    same(fn)


def test_cat_and_stack_give_pytorchs_memory_format():
    for make in (lambda L: L.cat([L.ones(3, 2).t(), L.ones(3, 2).t()]),
                 lambda L: L.cat([L.arange(6.).reshape(3, 2).t(), L.ones(3, 1).t()], 0),
                 lambda L: L.stack([L.ones(3, 2).t()] * 2),
                 lambda L: L.cat([L.ones(2, 3, 4, 5).to(memory_format=L.channels_last)] * 2),
                 lambda L: L.cat([L.ones(2, 3, 4, 5).to(memory_format=L.channels_last), L.ones(2, 3, 4, 5)])):
        e, t = make(ember), make(torch)
        _same(e, t)
        assert e.stride() == t.stride()
    same(lambda L: L.cat([L.arange(6.).reshape(3, 2).t()] * 2, 1).view(-1))   # a view of it works


@pytest.mark.parametrize('dtype', ['bool', 'int8', 'int16', 'int32', 'uint8', 'int64', 'float32'])
@pytest.mark.parametrize('loss', ['cross_entropy', 'nll_loss', 'multi_margin_loss'])
def test_class_index_targets_take_pytorchs_dtypes(loss, dtype):
    """nll_loss/cross_entropy take Long or Byte targets, multi_margin_loss only Long; others raise PyTorch's error."""
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    got = []
    for lib in (ember, torch):
        t = lib.tensor([1, 0, 1]).to(getattr(lib, dtype))
        try:
            got.append(('value', float(getattr(lib.nn.functional, loss)(lib.tensor(x), t))))
        except RuntimeError as e:
            got.append(('error', str(e)))
    assert got[0][0] == got[1][0] and (got[0][1] == got[1][1] if got[0][0] == 'error' else
                                       abs(got[0][1] - got[1][1]) < 1e-6)
