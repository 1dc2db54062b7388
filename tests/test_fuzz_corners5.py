"""Corners a fifth differential fuzzer found differing from PyTorch: in-place ops and out= over dtype pairs and
shapes (the order of PyTorch's checks: broadcast, output shape, castable result, then the kernel), __setitem__'s
values and shape errors, fills of expanded views, and optimizers' flag refusals. Each case runs the same program
on both libraries and compares results or that both raise the same exception type with PyTorch's first line."""
import numpy as np
import pytest
import torch

import ember
from helpers import run_both as run


def _t(L, shape, dtype):
    """A tensor of ``shape`` with small distinct values of ``dtype`` (bool: alternating)."""
    n = int(np.prod(shape))
    a = np.arange(1, n + 1).reshape(shape) % 5
    return L.tensor(a % 2 == 0) if dtype == 'bool' else L.tensor(a).to(getattr(L, dtype))


def _iop(op):
    """``a op= b`` as a function returning a."""
    return {'|=': lambda a, b: a.__ior__(b), '&=': lambda a, b: a.__iand__(b), '^=': lambda a, b: a.__ixor__(b),
            '<<=': lambda a, b: a.__ilshift__(b), '>>=': lambda a, b: a.__irshift__(b),
            '%=': lambda a, b: a.__imod__(b), '//=': lambda a, b: a.__ifloordiv__(b),
            '+=': lambda a, b: a.__iadd__(b), '-=': lambda a, b: a.__isub__(b), '/=': lambda a, b: a.__itruediv__(b),
            '**=': lambda a, b: a.__ipow__(b)}[op]


# -- in place: PyTorch checks the broadcast, the output's shape and the cast before the kernel's dtypes ---------
CASTS = [('|=', 'int32', 'float32'), ('&=', 'int64', 'float64'), ('^=', 'uint8', 'complex64'),
         ('<<=', 'int16', 'float32'), ('>>=', 'bool', 'complex128'), ('%=', 'float32', 'complex64'),
         ('//=', 'bfloat16', 'complex64'), ('&=', 'bfloat16', 'complex128'), ('+=', 'int64', 'float32'),
         ('/=', 'int32', 'int32'), ('**=', 'uint8', 'float16'), ('%=', 'int16', 'complex128')]


@pytest.mark.parametrize('op,left,right', CASTS)
def test_inplace_result_that_cannot_be_cast(op, left, right):
    run(lambda L: _iop(op)(_t(L, (2, 3), left), _t(L, (2, 3), right)), message=True)


@pytest.mark.parametrize('name,value', [('bitwise_and_', 1.5), ('bitwise_or_', 2.5), ('atan2_', 1j),
                                        ('remainder_', 1j), ('floor_divide_', 2j), ('fmod_', 0.5j)])
def test_inplace_method_with_a_number_that_cannot_be_cast(name, value):
    run(lambda L: getattr(_t(L, (3,), 'int32'), name)(value), message=True)


@pytest.mark.parametrize('op,left,rshape', [('|=', 'int8', (2, 2, 3)), ('%=', 'uint8', (2, 2, 3)),
                                            ('+=', 'int8', (2, 2, 3)), ('&=', 'float32', (2, 2, 3)),
                                            ('-=', 'float32', (1, 2, 3))])
def test_inplace_shape_checked_before_dtype(op, left, rshape):
    run(lambda L: _iop(op)(_t(L, (2, 3), left), _t(L, rshape, 'float16')), message=True)


def test_inplace_leaf_error_comes_before_shape_error():
    run(lambda L: L.zeros(3, requires_grad=True).add_(L.ones(2, 3)), message=True)


def test_bool_subtraction_keeps_its_own_error():
    run(lambda L: _iop('-=')(_t(L, (3,), 'bool'), 1.5), message=True)


# -- __setitem__: values PyTorch refuses, and its shape errors -------------------------------------------------
@pytest.mark.parametrize('value', [lambda L: [1, 2], lambda L: (1.0, 2.0), lambda L: np.array([1.0, 2.0])])
@pytest.mark.parametrize('index', [slice(0, 2), 'tensor', [0, 1]])
@pytest.mark.parametrize('dtype', ['float32', 'int64'])
def test_setitem_refuses_a_sequence_value(value, index, dtype):
    def f(L):
        x = L.zeros(3, dtype=getattr(L, dtype))
        x[L.tensor([0, 1]) if index == 'tensor' else index] = value(L)
        return x
    run(f, message=True)


def _write(index, vshape, vdtype='float32', shape=(4, 3)):
    def f(L):
        x = L.zeros(*shape)
        i = index(L) if callable(index) else tuple(j(L) if callable(j) else j for j in index) \
            if isinstance(index, tuple) else index
        x[i] = L.ones(*vshape, dtype=getattr(L, vdtype))
        return x
    return f


SETITEM_SHAPES = [
    (slice(None), (2,)),                              # basic: copy_'s expand error
    ((slice(None), None), (2, 2, 3)),
    (0, (2,)),
    ((Ellipsis, 1), (5,)),
    (slice(1, 3), (3, 3)),
    (slice(None), (2, 5, 3)),
    (lambda L: L.tensor([0, 1]), (2,)),               # advanced: both shapes named
    ([0, 1], (3, 3)),
    (lambda L: L.tensor([True, False, True, True]), (2,)),
    ((lambda L: L.tensor([0, 1]), slice(None)), (3, 3)),
]


@pytest.mark.parametrize('index,vshape', SETITEM_SHAPES)
def test_setitem_shape_mismatch_message(index, vshape):
    run(_write(index, vshape), message=True)


@pytest.mark.parametrize('index,vshape', SETITEM_SHAPES[5:])
def test_setitem_advanced_shape_checked_before_dtype(index, vshape):
    run(_write(index, vshape, 'float64'), message=True)


@pytest.mark.parametrize('index,vshape', [(slice(None), (3,)), (lambda L: L.tensor([0, 2]), (2, 3)),
                                          (lambda L: L.tensor([1]), (1,)), (0, (1, 3))])
def test_setitem_that_fits(index, vshape):
    run(_write(index, vshape))


def test_index_put_accumulate_shape_mismatch():
    run(lambda L: L.zeros(4, 3).index_put_((L.tensor([0, 1]),), L.ones(2), accumulate=True), message=True)


# -- fills of an expanded view write its shared elements, as PyTorch's fill_/zero_ do ---------------------------
@pytest.mark.parametrize('dtype', ['float32', 'bfloat16', 'int64', 'complex64', 'bool'])
@pytest.mark.parametrize('fill', ['zero_', 'fill_'])
def test_fill_of_an_expanded_view_writes_its_base(dtype, fill):
    def f(L):
        b = _t(L, (3, 1), dtype)
        x = b.expand(3, 4)
        getattr(x, fill)(*(() if fill == 'zero_' else (1,)))
        return x, b
    run(f)


def test_fill_of_an_expanded_view_of_a_stepped_base():
    def f(L):
        base = L.arange(6.).reshape(6, 1)
        x = base[::2].expand(3, 4)
        x.fill_(7.5)
        return x, base
    run(f)


def test_fill_of_an_expanded_view_keeps_history():
    def f(L):
        b = L.ones(3, 1, requires_grad=True) * 2
        x = b.expand(3, 4)
        x.fill_(3.0)
        return x, b, x.grad_fn.name(), b.grad_fn.name()
    run(f)


# -- optimizers: the foreach path's refusals ------------------------------------------------------------------
@pytest.mark.parametrize('cls', ['Adam', 'AdamW'])
def test_tensor_lr_with_foreach_is_refused(cls):
    run(lambda L: getattr(L.optim, cls)([L.zeros(2, requires_grad=True)], lr=L.tensor(0.01), foreach=True),
        message=True)


def test_tensor_lr_set_later_with_foreach_is_refused_at_step():
    def f(L):
        p = L.zeros(2, requires_grad=True)
        opt = L.optim.Adam([p], lr=0.01, foreach=True)
        opt.param_groups[0]['lr'] = L.tensor(0.01)
        p.grad = L.ones(2)
        opt.step()
        return p
    run(f, message=True)


def test_tensor_lr_with_foreach_and_capturable_is_accepted():
    run(lambda L: len(L.optim.Adam([L.zeros(2, requires_grad=True)], lr=L.tensor(0.01), foreach=True,
                                   capturable=True).param_groups))


@pytest.mark.parametrize('cls', ['Adam', 'AdamW', 'Adamax', 'ASGD', 'NAdam', 'RAdam', 'RMSprop', 'Rprop',
                                 'Adadelta'])
@pytest.mark.parametrize('foreach', [None, True, False])
def test_capturable_on_cpu_refusal_names_the_path_devices(cls, foreach):
    def f(L):
        p = L.zeros(2, requires_grad=True)
        opt = getattr(L.optim, cls)([p], capturable=True, foreach=foreach)
        p.grad = L.ones(2)
        opt.step()
        return p
    run(f, message=True)


# -- the first line of the most common shape errors is PyTorch's (ember's hint follows on the next line) -------
MATMUL = [((3,), (2, 4)), ((3,), (4, 2, 4)), ((2, 3), (2,)), ((2, 3), (2, 4)), ((2, 3), (3, 2, 4)),
          ((4, 2, 3), (2,)), ((4, 2, 3), (2, 4)), ((4, 2, 3), (4, 2, 4)), ((4, 2, 3), (3, 2, 4)),
          ((5, 4, 2, 3), (3, 3, 4)), ((4, 2, 3), (5, 1, 2, 4)), ((1, 2, 3), (2,)), ((4, 2, 2), (3, 2, 4)),
          ((4,), (3,))]


@pytest.mark.parametrize('a,b', MATMUL)
def test_matmul_shape_error_first_line(a, b):
    run(lambda L: L.ones(*a) @ L.ones(*b), message=True)


@pytest.mark.parametrize('shape', [(2, 5), (5,), (7, 2, 5)])
def test_linear_shape_error_first_line(shape):
    run(lambda L: L.nn.functional.linear(L.ones(*shape), L.ones(3, 4)), message=True)


def test_matmul_dtype_error_first_line():
    run(lambda L: L.ones(3, dtype=L.int64) @ L.ones(3, 2), message=True)


@pytest.mark.parametrize('op', ['add', 'mul', 'sub', 'maximum', 'atan2'])
def test_broadcast_error_first_line(op):
    run(lambda L: getattr(L, op)(L.ones(2, 3), L.ones(3, 2)), message=True)


# -- scatter/masked_scatter refusals are worded as PyTorch's kernels word them ---------------------------------
@pytest.mark.parametrize('fn', [
    lambda L: L.zeros(3).scatter_add_(0, L.tensor([0]), L.ones(1, dtype=L.float64)),
    lambda L: L.zeros(3).scatter_add(0, L.tensor([0]), L.ones(1, dtype=L.float64)),
    lambda L: L.zeros(3).scatter_reduce_(0, L.tensor([0.]), L.ones(1), 'sum'),
    lambda L: L.zeros(3).scatter_reduce(0, L.tensor([0], dtype=L.int16), L.ones(1), 'amax'),
    lambda L: L.zeros(3).masked_scatter_(L.tensor([True, False, True]), L.ones(3, dtype=L.float64)),
    lambda L: L.zeros(3).masked_scatter(L.tensor([True, False, True]), L.ones(3, dtype=L.int64)),
])
def test_scatter_refusal_wording(fn):
    run(fn, message=True)


# -- index errors: out of bounds (the position among the index tensors), too many indices, mask shapes --------
def _ix(index, write=False, shape=(2, 3)):
    def f(L):
        x = L.zeros(*shape)
        i = tuple(j(L) if callable(j) else j for j in index)
        if write:
            x[i] = 1.5
            return x
        return x[i]
    return f


INDEX_ERRORS = [
    (lambda L: L.tensor([0, 5]),),
    (slice(None), lambda L: L.tensor([0, 5])),
    (lambda L: L.tensor([0, -5]),),
    (0, lambda L: L.tensor([0, 5])),
    (Ellipsis, lambda L: L.tensor([3])),
    (lambda L: L.tensor([0, 0]), slice(None), lambda L: L.tensor([1, 0])),
    (lambda L: L.tensor([True, False, True]),),
    (slice(None), lambda L: L.tensor([True, False])),
    (lambda L: L.tensor([[True, False, True]]),),
]


@pytest.mark.parametrize('index', INDEX_ERRORS)
@pytest.mark.parametrize('write', [False, True])
def test_index_error_message(index, write):
    run(_ix(index, write), message=True)


def test_index_error_names_the_second_index_tensor():
    run(_ix((lambda L: L.tensor([0, 1]), slice(None), lambda L: L.tensor([0, 5])), shape=(2, 3, 4)), message=True)


# index tensors whose shapes do not broadcast: PyTorch lists them (masks as their nonzero counts), read or write;
# makemore part 2's prob[torch.arange(32), Y] with Y of the whole dataset
@pytest.mark.parametrize('index', [
    (lambda L: L.arange(3), lambda L: L.arange(4)),
    (lambda L: L.zeros(2, 3, dtype=L.long), lambda L: L.zeros(4, dtype=L.long)),
    (slice(None), lambda L: L.arange(3), lambda L: L.arange(2)),
    (lambda L: L.tensor([True, False, True, True, False]), lambda L: L.arange(2)),
    (lambda L: L.arange(2), lambda L: L.zeros(3, 1, dtype=L.long), lambda L: L.arange(4)),
    ([0, 1], [0, 1, 2]),
])
@pytest.mark.parametrize('write', [False, True])
def test_index_shapes_that_do_not_broadcast(index, write):
    run(_ix(index, write, shape=(5, 6, 7)), message=True)


def test_index_put_shapes_that_do_not_broadcast():
    run(lambda L: L.zeros(5, 6).index_put_((L.arange(2), L.arange(3)), L.tensor(1.)), message=True)


@pytest.mark.parametrize('shape,index', [((), (lambda L: L.tensor([0]),)), ((2, 3), (lambda L: L.tensor([0, 7]),)),
                                         ((2, 3), (lambda L: L.tensor([True, False, True]),))])
def test_index_put_error_message(shape, index):
    run(lambda L: L.zeros(shape).index_put_(tuple(i(L) for i in index), L.tensor(1.)), message=True)


# -- out= of a pointwise op: the cast to out's dtype is checked before the kernel's dtypes ---------------------
@pytest.mark.parametrize('fn', [
    lambda L: L.floor_divide(L.ones(2, dtype=L.complex128), 0.5, out=L.zeros(2, dtype=L.float16)),
    lambda L: L.bitwise_and(L.ones(2), L.ones(2), out=L.zeros(2, dtype=L.int32)),
    lambda L: L.atan2(L.ones(2, dtype=L.complex64), L.ones(2), out=L.zeros(2, dtype=L.int32)),
    lambda L: L.bitwise_and(L.ones(2), L.ones(2), out=L.zeros(2)),
])
def test_out_cast_checked_before_the_kernel(fn):
    run(fn, message=True)


# -- an integer power whose 0-d exponent wraps in the result dtype -----------------------------------------------
@pytest.mark.parametrize('dtype,exponent', [('int16', 40000), ('int16', 40001), ('uint8', 257), ('int8', 200)])
def test_int_power_with_a_wrapping_exponent(dtype, exponent):
    run(lambda L: L.pow(L.tensor([1, -1, 2, 3]).to(getattr(L, dtype)), L.tensor(exponent)))


# -- the order of a few more refusals: index dtype before source dtype before the reduce name; autograd first ---
@pytest.mark.parametrize('fn', [
    lambda L: L.zeros(3).scatter_add_(0, L.tensor([0.]), L.ones(1, dtype=L.float64)),
    lambda L: L.zeros(3).scatter_(0, L.tensor([0.]), L.ones(1, dtype=L.float64)),
    lambda L: L.zeros(3).scatter_reduce_(0, L.tensor([0.]), L.ones(1, dtype=L.float64), 'multiply'),
    lambda L: L.zeros(3).scatter_reduce_(0, L.tensor([0]), L.ones(1, dtype=L.float64), 'multiply'),
    lambda L: L.zeros(3, requires_grad=True)[:2].fill_(L.ones(2)),
])
def test_refusal_order(fn):
    run(fn, message=True)


@pytest.mark.parametrize('fn', [lambda L, x: L.relu(x), lambda L, x: x.relu_(), lambda L, x: x.clamp_(min=L.zeros(2)),
                                lambda L, x: L.nn.functional.relu6(x), lambda L, x: L.nn.functional.hardtanh(x),
                                lambda L, x: L.nn.functional.relu(x, inplace=True)])
def test_clamp_family_refuses_complex_as_pytorch(fn):
    run(lambda L: fn(L, L.ones(2, dtype=L.complex64)), message=True)


@pytest.mark.parametrize('fn', [
    lambda L: L.zeros(3, dtype=L.int8).sub_(L.ones(3), alpha=1j),           # the cast before alpha's check
    lambda L: L.zeros(3, dtype=L.int8).add_(L.ones(3), alpha=True),
    lambda L: L.zeros(3, dtype=L.int8).add_(L.ones(3, dtype=L.int8), alpha=1.5),
    lambda L: L.zeros(3).add_(L.ones(3), alpha=1j),
    lambda L: L.zeros(3, dtype=L.complex64).lt_(L.ones(4)),                # comparisons: the shapes first
    lambda L: L.zeros(3).eq_(L.ones(2, 3)),
    lambda L: L.zeros(3, dtype=L.complex64).ge_(L.ones(3)),
])
def test_inplace_alpha_and_comparison_order(fn):
    run(fn, message=True)


# -- common user errors: a BatchNorm of the wrong width, permute with the wrong number of dims ---------------
@pytest.mark.parametrize('fn', [
    lambda L: L.nn.BatchNorm2d(4)(L.ones(2, 3, 4, 4)),
    lambda L: L.nn.BatchNorm1d(5)(L.ones(2, 3)),
    lambda L: L.nn.functional.batch_norm(L.ones(2, 3), L.zeros(4), L.ones(3)),
    lambda L: L.ones(2, 3).permute(0, 2, 1),
    lambda L: L.ones(2, 3).permute(1),
    lambda L: L.ones(2, 3).permute(0, 2),
    lambda L: L.ones(2, 3).permute(0, 0),
    lambda L: L.ones(2, 3).permute(0, -2),
    lambda L: L.ones(()).permute(),
])
def test_common_user_error_first_line(fn):
    run(fn, message=True)


@pytest.mark.parametrize('dims', [(2, 0, 1), ((1, 2, 0),), ([0, 2, 1],), (-1, -3, -2)])
def test_permute_that_fits(dims):
    run(lambda L: L.arange(24.).reshape(2, 3, 4).permute(*dims))
