"""Corners a third differential fuzzer (type promotion of every binary op form with Python scalars, 0-d and
dimensioned tensors of all dtypes; chains of views written in place, with gradients; advanced-index writes)
found differing from PyTorch: each case runs the same program on both libraries and compares results (dtype,
shape, values, versions) or that both raise the same exception type, with PyTorch's message where it names
dtypes."""
import numpy as np
import pytest
import torch

import ember
from helpers import run_both as run

LIBS = (torch, ember)


# -- type promotion ---------------------------------------------------------------------------------------------
PROMOTION = [
    lambda L: L.ones(2, dtype=L.bfloat16) + 2j,
    lambda L: L.ones(2, dtype=L.bfloat16) * L.tensor(1 - 2j, dtype=L.complex128),
    lambda L: L.tensor([0.5, -1.5], dtype=L.bfloat16).div(L.tensor(2j)),
    lambda L: L.bfloat16.to_complex(),
    lambda L: L.tensor([0.1, 1.0], dtype=L.float16).eq(0.1 + 0j),
    lambda L: L.tensor([0.1, 1.0], dtype=L.float16).ne(L.tensor([0.1 + 0j, 1 + 1e-5j])),
    lambda L: L.tensor(2j) == L.ones(2, dtype=L.float16),
    lambda L: L.ones(2, dtype=L.float16).ne_(L.tensor(2j)),
    lambda L: L.ones(2, dtype=L.bfloat16).eq_(2j),
]


@pytest.mark.parametrize('fn', PROMOTION)
def test_half_types_with_complex_operands_promote_as_pytorch(fn):
    run(fn)


REFUSED = [
    lambda L: L.ones(2, dtype=L.bfloat16).add_(2j),
    lambda L: L.ones(2, dtype=L.float16).add_(L.tensor(2j)),
    lambda L: L.ones(2, dtype=L.float16).mul_(2j),
    lambda L: L.ones(2, dtype=L.float16) < L.tensor(2j),
    lambda L: L.ones(2, dtype=L.float16).logical_or(L.tensor(2j)),
    lambda L: L.ones(3, dtype=L.int64) >= 2j,
    lambda L: L.ones(3, dtype=L.bool).gt_(1 + 1j),
    lambda L: L.ones(3, dtype=L.complex64) < 1,
    lambda L: L.clamp(L.ones(3), max=0.5, out=L.empty(3, dtype=L.complex64)),
    lambda L: L.clamp(L.ones(3, dtype=L.bfloat16), max=0.5, out=L.empty(3)),
    lambda L: L.clamp(L.ones(3), max=L.tensor(0.5), out=L.empty(3, dtype=L.int64)),
    lambda L: L.xlogy(L.ones(3), 2j),
    lambda L: L.special.xlog1py(L.ones(3, dtype=L.complex64), 2),
    lambda L: L.ones(3, dtype=L.int64) << 2j,
    lambda L: L.ones(3, dtype=L.complex64) >> 2,
    lambda L: L.ones(3, dtype=L.int64) >> L.ones(3, dtype=L.float64),
    lambda L: L.bitwise_xor(L.ones(3, dtype=L.int8), 2.5),
    lambda L: L.linalg.cross(L.ones(2, 3), L.ones(2, 3, dtype=L.float64)),
    lambda L: L.linalg.cross(L.ones(3, dtype=L.int8), L.ones(3, dtype=L.int32)),
]


@pytest.mark.parametrize('fn', REFUSED)
def test_refusals_name_the_dtypes_as_pytorch(fn):
    run(fn, message=True)


NOT_TENSORS = [
    lambda L: L.addcmul(L.ones(3), 2., L.ones(3)),
    lambda L: L.addcmul(L.ones(3), L.ones(3), 2),
    lambda L: L.addcdiv(L.ones(3), L.ones(3), 2),
    lambda L: L.heaviside(L.ones(3), 2.),
    lambda L: L.isclose(L.ones(3), 2.),
    lambda L: L.lerp(L.ones(3), 2., 0.5),
]


@pytest.mark.parametrize('fn', NOT_TENSORS)
def test_numbers_where_pytorch_takes_only_tensors_are_refused(fn):
    run(fn, message=True)


ACCEPTED = [
    lambda L: L.clamp_min(L.ones(3), L.tensor(0.5), out=L.empty(3, dtype=L.bfloat16)),
    lambda L: L.clamp(L.ones(3), max=L.tensor([0.5, 2., -1.]), out=L.empty(3, dtype=L.float64)),
    lambda L: L.lerp(L.ones(3, dtype=L.float64), L.zeros(3, dtype=L.float64), L.tensor(0.25)),
    lambda L: L.lerp(L.ones(3, dtype=L.float64), L.zeros(3, dtype=L.float64), L.tensor(1)),
    lambda L: L.lerp(L.ones(3, dtype=L.float64), L.zeros(3, dtype=L.float64), L.tensor([0.25])),
]


@pytest.mark.parametrize('fn', ACCEPTED)
def test_mixed_dtype_calls_pytorch_accepts(fn):
    run(fn, message=True)


def test_lerp_with_a_0d_weight_of_another_dtype_differentiates_it():
    def fn(L):
        a = L.tensor([1., -2., 3.], dtype=L.float64, requires_grad=True)
        w = L.tensor(0.25, requires_grad=True)
        r = L.lerp(a, L.zeros(3, dtype=L.float64), w)
        (r * L.tensor([1., 2., 3.], dtype=L.float64)).sum().backward()
        return r, a.grad, w.grad
    run(fn)


# -- advanced-index writes demand the value's dtype (unless PyTorch fills a mask) ----------------------------------
def _put(index, value, shape=(2, 3)):
    def fn(L):
        x = L.zeros(shape)
        x[index(L)] = value(L)
        return x, x._version
    return fn


PUTS = [
    _put(lambda L: L.tensor([0]), lambda L: L.tensor(1.0, dtype=L.float64)),
    _put(lambda L: L.tensor([0, 1]), lambda L: L.tensor([1], dtype=L.int64)),
    _put(lambda L: (0, [0, 1]), lambda L: L.tensor(2)),
    _put(lambda L: (slice(None), [0, 1]), lambda L: L.tensor(2.)),
    _put(lambda L: L.tensor(True), lambda L: L.tensor(2)),
    _put(lambda L: L.tensor([[True, False, True], [False, True, True]]), lambda L: L.tensor([1])),
    _put(lambda L: L.tensor([[True, False, True], [False, True, True]]), lambda L: L.tensor([1, 2, 3, 4])),
    _put(lambda L: (0, L.tensor([True, False, True])), lambda L: L.tensor(2)),
    _put(lambda L: (Ellipsis, L.tensor([True, False, True])), lambda L: L.tensor([2, 3])),
    _put(lambda L: [True, False], lambda L: L.tensor(5, dtype=L.int16)),
    _put(lambda L: 1, lambda L: L.tensor([4, 5, 6])),
    _put(lambda L: slice(0, 1), lambda L: L.tensor(7, dtype=L.uint8)),
]


@pytest.mark.parametrize('fn', PUTS)
def test_setitem_value_dtype_as_pytorch(fn):
    run(fn, message=True)


@pytest.mark.parametrize('accumulate', [False, True])
def test_index_put_value_dtype_as_pytorch(accumulate):
    mask = lambda L: (L.tensor([True, False, True]),)   # noqa: E731
    run(lambda L: L.zeros(3).index_put(mask(L), L.tensor([1], dtype=L.int64), accumulate=accumulate), True)
    run(lambda L: L.zeros(3).index_put_((L.tensor([0, 0]),), L.tensor(1, dtype=L.int64), accumulate=accumulate),
        True)
    run(lambda L: L.zeros(3).index_put_((L.tensor([2, 2]),), L.tensor(1.5), accumulate=accumulate), True)


# -- in-place writes through views ---------------------------------------------------------------------------------
WRITES = [
    # unbind of a 1-D tensor and one element of a complex tensor are views, not copies
    lambda L: (lambda b: (b.unbind(0)[3].exp_(), b)[1])(L.tensor([1., 2., 3., 4.])),
    lambda L: (lambda b: (b[3:].unbind(0)[0].add_(1), b)[1])(L.tensor([1., 2., 3., 4.])),
    lambda L: (lambda b: (b.select(0, -1).view(-1).unbind(0)[0].exp_(), b)[1])(L.tensor([1., 2., 3., 4.])),
    lambda L: (lambda b: (b[1].fill_(4), b)[1])(L.tensor([1 + 1j, 2])),
    lambda L: (lambda b: (b.select(0, -1).view(-1).mul_(2), b)[1])(L.tensor([1 + 1j, 2 - 1j])),
    lambda L: (lambda b: (b[0, 1].add_(2j), b)[1])(L.tensor([[1 + 1j, 2]])),
    lambda L: (lambda b: (b.unbind(1)[0].unbind(0)[0].add_(2), b)[1])(L.tensor([[1 + 1j, 2]])),
]


@pytest.mark.parametrize('fn', WRITES)
def test_element_views_write_through(fn):
    run(fn)


def _grad_through(view, write, shape=(), dtype='float64'):
    def fn(L):
        x = L.tensor(np.arange(1., 1. + int(np.prod(shape))).reshape(shape), dtype=getattr(L, dtype),
                     requires_grad=True)
        b = x.clone()
        v = view(b)
        v0 = v._version
        write(L, v)
        w = L.arange(1., 1. + b.numel(), dtype=b.dtype).reshape(b.shape)
        (b * w).sum().backward()
        return b, v, b._version, v._version - v0, x.grad, v.grad_fn.name() if v.grad_fn is not None else None
    return fn


def _setitem(key, value):
    def write(L, v):
        v[key] = value
    return write


def _iadd_at(key):
    def write(L, v):
        v[key(L)] += 1
    return write


GRADS = [
    # views of a 0-d base written in place (NumPy cannot index a 0-d array with arrays)
    _grad_through(lambda b: b.view(-1), lambda L, v: v.index_put_((L.tensor([0, 0]),), L.tensor(1.5, dtype=v.dtype),
                                                                  accumulate=True)),
    _grad_through(lambda b: b.unsqueeze(-1).unsqueeze(0), lambda L, v: v.neg_()),
    _grad_through(lambda b: b.unsqueeze(-1), _iadd_at(lambda L: L.tensor([0, 0]))),
    _grad_through(lambda b: b.view(-1), _setitem(Ellipsis, 5.)),
    # a 0-d view of a 1-D base
    _grad_through(lambda b: b.view(-1).select(-1, -1), _setitem(True, 9.), (3,)),
    _grad_through(lambda b: b.select(0, 0), _setitem(True, 9.), (1,), 'float32'),
    # x[False] = v writes nothing, bumps no version, records nothing
    _grad_through(lambda b: b[..., :2], _setitem(False, 9.), (2, 3)),
    _grad_through(lambda b: b.select(-1, 0), _setitem(False, 9.), (1,)),
    # empty views written in place record a CopySlices on the base as any view does
    _grad_through(lambda b: b.t()[..., :0], lambda L, v: v.add_(1.5), (3, 4)),
    _grad_through(lambda b: b.narrow(-1, 2, 0), lambda L, v: v.masked_fill_(v > 0, -1), (4,)),
    _grad_through(lambda b: b.mT, lambda L, v: v.copy_(L.zeros(v.shape, dtype=v.dtype)), (0, 3)),
]


@pytest.mark.parametrize('fn', GRADS)
def test_in_place_through_views_gradients(fn):
    run(fn)


def test_false_index_writes_nothing_even_on_an_expanded_view():
    def fn(L):
        x = L.zeros(3)
        v = x.expand(2, 3)
        v[False] = 9
        return x, v._version
    run(fn)


MULTI = [
    lambda L, x: x.unbind(0)[1].view(-1).add_(1),
    lambda L, x: x.unbind(0)[1].squeeze(0).add_(1),
    lambda L, x: x.split(1)[1].squeeze(0).t().mul_(2),
    lambda L, x: x.chunk(2)[0].unsqueeze(0).zero_(),
    lambda L, x: (lambda y: (x.add_(1), y.sum().backward()))(x.split(1)[1].view(-1)),
]


@pytest.mark.parametrize('fn', MULTI)
def test_views_of_multi_output_views_refuse_in_place_as_pytorch(fn):
    run(lambda L: fn(L, L.ones(2, 3, requires_grad=True).clone()), message=True)


LEAF_VIEWS = [
    lambda L: L.zeros(3, 4).t().requires_grad_().add_(1),
    lambda L: L.zeros(3, 4).t().requires_grad_().unsqueeze(-2)[0].mul_(2),
    lambda L: L.zeros(3, 4)[1:].requires_grad_()[0].fill_(2),
    lambda L: (lambda w, b: (b[:2].add_(w), b[:2].mul_(2), b.sum().backward(), w.grad, b)[3:])(
        L.ones(2, requires_grad=True), L.zeros(3)),
]


@pytest.mark.parametrize('fn', LEAF_VIEWS)
def test_in_place_on_views_of_leaves_as_pytorch(fn):
    run(fn, message=True)


# -- indexing keys ------------------------------------------------------------------------------------------------
KEYS = [
    lambda L: (lambda x: (x.__iadd__(0), x[None, :].__iadd__(1), x, x._version)[2:])(L.arange(4.)),
    lambda L: (lambda x: (x.__setitem__(None, x), x)[1])(L.arange(4.)),
    lambda L: (lambda x: (x.__setitem__((None, slice(None)), x.view(1, 4)), x)[1])(L.arange(4.)),
    lambda L: (lambda x: x.__getitem__(None).add_(x))(L.arange(6.).reshape(2, 3)),
    lambda L: L.arange(4.).unsqueeze(0).add_(L.arange(4.)),
    lambda L: L.zeros(0, 3)[[], 1:],
    lambda L: L.zeros(3, 0)[L.tensor(1, dtype=L.int32), []],
    lambda L: (lambda x: (x.__setitem__((None, 1, []), 1.), x)[1])(L.zeros(3, 0)),
    lambda L: (lambda x: (x[...].add_(1), x)[1])(L.tensor(1 + 2j)),
]


@pytest.mark.parametrize('fn', KEYS)
def test_index_keys_as_pytorch(fn):
    run(fn, message=True)


@pytest.mark.parametrize('key', [(slice(None), None, slice(None), slice(None), [1, 0, 0]), (Ellipsis, [[0], [2]]),
                                 (slice(None), [2, 0], slice(1, None))])
def test_advanced_index_of_a_contiguous_tensor_is_contiguous(key):
    def fn(L):
        r = L.arange(24.).reshape(2, 3, 2, 2)[key]
        return r, r.stride(), r.is_contiguous()
    run(fn)


# -- a complex number or operand where PyTorch's kernel has no complex loop; numbers into a fixed dtype -------------
COMPLEX_REFUSED = [
    lambda L: L.copysign(L.ones(3, dtype=L.int32), 1 + 2j),
    lambda L: L.fmod(L.ones(3, dtype=L.uint8), 2j),
    lambda L: L.ones(3).floor_divide(2j),
    lambda L: L.remainder(L.ones(3, dtype=L.int8), 2j),
    lambda L: L.maximum(L.ones(3), L.tensor(2j)),
    lambda L: L.minimum(L.ones(3, dtype=L.complex64), L.tensor(2j)),
    lambda L: L.fmax(L.ones(3), L.tensor(2j)),
    lambda L: L.ones(2, dtype=L.complex64).float_power_(2),
    lambda L: L.ones(2, dtype=L.float64).float_power_(L.tensor(2j)),
    lambda L: L.ones(2, dtype=L.float32).float_power_(2),
]


@pytest.mark.parametrize('fn', COMPLEX_REFUSED)
def test_complex_operands_refused_as_pytorch(fn):
    run(fn, message=True)


def test_float_power_in_place_on_complex128():
    run(lambda L: L.tensor([1 + 1j, -2, 0.5j], dtype=L.complex128).float_power_(2))


ALPHA = [
    lambda L: L.add(L.ones(3), 2, alpha=True),
    lambda L: L.add(L.ones(3, dtype=L.bool), True, alpha=True),
    lambda L: L.add(L.zeros(3, dtype=L.bool), True, alpha=2),
    lambda L: L.add(L.zeros(3, dtype=L.bool), L.ones(3, dtype=L.bool), alpha=False),
    lambda L: L.add(L.ones(3, dtype=L.int64), True, alpha=True),
    lambda L: L.add(L.zeros(3, dtype=L.int8), True, alpha=2),
    lambda L: L.sub(L.zeros(3, dtype=L.int8), 3, alpha=-2),
    lambda L: L.add(L.ones(3, dtype=L.int64), 2, alpha=1.0),
    lambda L: L.sub(L.ones(3), L.ones(3), alpha=1j),
    lambda L: L.add(L.ones(3, dtype=L.complex64), 2, alpha=1j),
]


@pytest.mark.parametrize('fn', ALPHA)
def test_alpha_checked_and_applied_as_pytorch(fn):
    run(fn, message=True)


WHERE = [
    lambda L: L.where(L.tensor([True, False]), 2j, 2),
    lambda L: L.where(L.tensor([True, False]), -3, 1 + 2j),
    lambda L: L.where(L.tensor([True, False]), 1e40, 2),
    lambda L: L.where(L.tensor(True), float('inf'), 2),
    lambda L: L.where(L.tensor([True, False]), 2., 3),
    lambda L: L.where(L.tensor([True, False]), True, False),
]


@pytest.mark.parametrize('fn', WHERE)
def test_where_of_two_numbers_as_pytorch(fn):
    run(fn, message=True)


FILLS = [
    _put(lambda L: [0], lambda L: 1e40),
    _put(lambda L: 0, lambda L: 2j),
    _put(lambda L: (0, 1), lambda L: 2 + 0j),
    _put(lambda L: 0, lambda L: 1e6, (2,)),
]
FILLS += [
    (lambda dt, k, v: lambda L: (lambda x: (x.__setitem__(k(L), v(L)), x)[1])(L.zeros(2, dtype=getattr(L, dt))))(*c)
    for c in [('float16', lambda L: 0, lambda L: 1e6), ('uint8', lambda L: 0, lambda L: 300),
              ('uint8', lambda L: 0, lambda L: -1), ('uint8', lambda L: 0, lambda L: float('inf')),
              ('int8', lambda L: L.tensor([True, False]), lambda L: 1000), ('bool', lambda L: 0, lambda L: 2.5),
              ('uint8', lambda L: L.tensor([True, False]), lambda L: L.tensor(-2.5)),
              ('uint8', lambda L: L.tensor([True, False]), lambda L: L.tensor(2.5)),
              ('float32', lambda L: L.tensor([True, False]), lambda L: L.tensor(1e300, dtype=L.float64)),
              ('float16', lambda L: L.tensor([True, False]), lambda L: L.tensor(1e10))]]


@pytest.mark.parametrize('fn', FILLS)
def test_setitem_numbers_converted_as_pytorch(fn):
    run(fn, message=True)


SEARCH = [
    lambda L: L.searchsorted(L.tensor(1), L.tensor(0)),
    lambda L: L.searchsorted(L.tensor(1), L.tensor([0, 1])),
    lambda L: L.searchsorted(L.tensor([[1, 2]]), L.tensor(0)),
    lambda L: L.searchsorted(L.tensor([1, 2]), L.tensor(0)),
    lambda L: (lambda x: x.__setitem__(L.tensor([0]), L.tensor(2, dtype=L.int16)))(L.zeros(())),
]


@pytest.mark.parametrize('fn', SEARCH)
def test_index_and_boundary_errors_first(fn):
    run(fn)


def test_no_maximum_or_minimum_in_place_methods():
    for L in LIBS:
        assert not hasattr(L.ones(1), 'maximum_') and not hasattr(L.ones(1), 'minimum_')


# -- float64 into float16 rounds through float32, as PyTorch's Half is built from a float --------------------------
_MIDWAY = [1.19677734, -1.19873044, -0.45764161, 0.91479492, 1.32861331]   # just off a float16 midpoint


@pytest.mark.parametrize('fn', [
    lambda L, v: L.tensor(v).to(L.float16),
    lambda L, v: L.tensor(v).half(),
    lambda L, v: L.tensor(v, dtype=L.float16),
    lambda L, v: L.as_tensor(np.asarray(v), dtype=L.float16),
    lambda L, v: L.zeros(len(v), dtype=L.float16).copy_(L.tensor(v)),
    lambda L, v: L.ones(len(v), dtype=L.float16).mul_(L.tensor(v)),
    lambda L, v: L.add(L.tensor(v), 0, out=L.empty(len(v), dtype=L.float16)),
    lambda L, v: (lambda z: (z.__setitem__(slice(None), L.tensor(v)), z)[1])(L.zeros(len(v), dtype=L.float16)),
    lambda L, v: L.full((2,), v[0], dtype=L.float16),
    lambda L, v: L.zeros(2, dtype=L.float16).fill_(v[0]),
    lambda L, v: L.where(L.tensor([True, False]), L.zeros(2, dtype=L.float16), v[0]),
])
def test_double_to_half_rounds_through_float(fn):
    run(lambda L: fn(L, _MIDWAY))


# -- unfold's windows are not the storage: as_strided checks bounds against the memory under them -------------------
@pytest.mark.parametrize('fn', [
    lambda L: L.arange(24.).unfold(0, 16, 2).as_strided((40,), (2,)),
    lambda L: L.arange(24.).unfold(0, 16, 2).as_strided((12,), (2,)),
    lambda L: L.arange(24.)[4:].unfold(0, 16, 2).as_strided((10,), (2,)),
    lambda L: L.arange(24.)[4:].unfold(0, 16, 2).as_strided((11,), (2,)),
    lambda L: L.arange(24.).unfold(0, 4, 4).t().as_strided((6,), (4,), 1),
    lambda L: L.arange(24.)[4:].unfold(0, 4, 2).storage_offset(),
    lambda L: L.arange(24.)[4:].unfold(0, 4, 2)[1:].storage_offset(),
])
def test_as_strided_of_unfold_windows_as_pytorch(fn):
    run(fn, message=True)


# -- .grad of a transposed (dense, permuted) leaf keeps its strides, as PyTorch's AccumulateGrad --------------------
@pytest.mark.parametrize('leaf', [lambda L: L.zeros(3, 4).t(), lambda L: L.zeros(3, 4)[:, ::2],
                                  lambda L: L.zeros(2, 3, 4).permute(2, 0, 1), lambda L: L.zeros(4, 1).t(),
                                  lambda L: L.zeros(3, 4)])
def test_leaf_grad_layout_as_pytorch(leaf):
    def fn(L):
        x = leaf(L).requires_grad_()
        (x * L.arange(x.numel(), dtype=x.dtype).reshape(x.shape)).sum().backward()
        first = (x.grad.clone(), x.grad.stride())
        (x * 3).sum().backward()
        return first, x.grad, x.grad.stride()
    run(fn)


@pytest.mark.parametrize('fn', [lambda L: L.arange(3, dtype=L.complex64),
                                lambda L: L.arange(0, 3, 0.5, dtype=L.complex128), lambda L: L.arange(3, dtype=L.bool)])
def test_arange_refuses_complex_as_pytorch(fn):
    run(fn, message=True)


@pytest.mark.parametrize('key', [(slice(None), -1, slice(None), True), (-2, slice(None), False, slice(None), Ellipsis),
                                 (0, -1, slice(None), Ellipsis, None, True), (0, True), (True, 0, [1, 2])])
def test_bool_scalars_beside_integers_index_as_pytorch(key):
    def fn(L):
        x = L.arange(24.).reshape(2, 3, 4).requires_grad_()
        r = (x * 1)[key]
        (r * L.arange(r.numel(), dtype=r.dtype).reshape(r.shape)).sum().backward()
        return r, x.grad
    run(fn)


def test_setitem_with_a_bool_scalar_beside_integers():
    def fn(L):
        x = L.arange(24.).reshape(2, 3, 4)
        x[L.tensor(-2, dtype=L.int32), :2, True, -2] = L.tensor([5.])
        return x
    run(fn)


@pytest.mark.parametrize('w', [0.5 + 1j, 0.5 + 0j, 0.25, True])
def test_lerp_number_weight_converted_as_pytorch(w):
    run(lambda L: L.lerp(L.tensor([3., 2.]), L.tensor([1., 0.]), w), message=True)


@pytest.mark.parametrize('fn', [lambda L: L.zeros(0, 3).index_add_(0, L.tensor([0, 0]), L.ones(2, 3)),
                                lambda L: L.zeros(3, 0).index_add(0, L.tensor([5]), L.ones(1, 0)),
                                lambda L: L.zeros(2, 3).index_add_(0, L.tensor([0, 3]), L.ones(2, 3))])
def test_index_add_into_an_empty_tensor_as_pytorch(fn):
    run(fn, message=True)
