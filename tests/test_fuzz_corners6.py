"""Corners a sixth differential fuzzer found differing from PyTorch: integer and bool arithmetic with alpha (a
low-dtype 0-d operand times alpha wrapped in its own dtype), rounded division with numbers outside an integer
tensor's range, shifts of bools, integer powers with exponents beyond the dtype; index_add's errors, alpha and empty
index, index_copy's negative indices, scatter gradients of an empty index; torch.linalg on empty batches and matrix
norms of empty matrices; reductions with an integer dtype= on a differentiable input, over dim=(), quantiles of 0-d
tensors; complex gradients through where/masked_fill/fill_. Each case runs the same program on both libraries and
compares results (and gradients, with float64 finite differences), or that both raise the same exception type with
PyTorch's first line."""
import numpy as np
import pytest
import torch

import ember
from helpers import check, run_both as run


# -- add/sub/rsub with alpha compute in the result dtype: alpha is checked and cast to it first --------------
ALPHA = [
    lambda L: L.add(L.tensor([-5, 3, 8]), L.tensor(8, dtype=L.uint8), alpha=-3),
    lambda L: L.sub(L.tensor([-5, 3, 8], dtype=L.int16), L.tensor(100, dtype=L.int8), alpha=300),
    lambda L: L.rsub(L.tensor(8, dtype=L.uint8), L.tensor([-5, 3, 8]), alpha=3),
    lambda L: L.tensor([1, 2, 3], dtype=L.int16).add_(L.tensor(2, dtype=L.uint8), alpha=-3),
    lambda L: L.sub(L.tensor([-5, 3, 8], dtype=L.int8), L.tensor(100, dtype=L.int16), alpha=300),
    lambda L: L.sub(L.tensor([1, 2], dtype=L.int8), L.tensor([1, 2], dtype=L.int8), alpha=-128),
    lambda L: L.sub(L.tensor([1, 2], dtype=L.int8), L.tensor([1, 2], dtype=L.int8), alpha=128),
    lambda L: L.sub(L.tensor([1, 2]), L.tensor([1, 2]), alpha=-2 ** 63),
    lambda L: L.rsub(L.tensor([1, 2], dtype=L.uint8), L.tensor([1, 2], dtype=L.uint8), alpha=-255),
    lambda L: L.rsub(L.tensor([1, 2], dtype=L.uint8), L.tensor([1, 2], dtype=L.uint8), alpha=256),
    lambda L: L.sub(L.tensor([128, 9], dtype=L.uint8), -4, alpha=2),
    lambda L: L.add(L.tensor([100, 9], dtype=L.int8), 2 ** 40, alpha=2),
    lambda L: L.add(L.tensor([1, 2, 3]), L.tensor([1, 2]), alpha=2),
    lambda L: L.add(L.tensor([False, True]), L.tensor([True, True]), alpha=-5),
    lambda L: L.add(L.tensor([False, True]), L.tensor([True, True]), alpha=0),
    lambda L: L.add(L.tensor(False), L.tensor(True), alpha=2),
    lambda L: L.add(L.tensor([False, True]), L.tensor(3), alpha=2),
    lambda L: L.add(L.tensor([1., 2]), L.tensor(3, dtype=L.uint8), alpha=2),
]


@pytest.mark.parametrize('fn', ALPHA)
def test_integer_alpha_in_the_result_dtype(fn):
    run(fn, message=True)


# -- div(rounding_mode=): a number wraps into the integer tensor's dtype; bool and complex are refused --------
@pytest.mark.parametrize('dtype', ['uint8', 'int8', 'int16'])
@pytest.mark.parametrize('number', [-1, -3, 128, 256, 300, -129, 2 ** 40])
@pytest.mark.parametrize('mode', ['floor', 'trunc'])
def test_rounded_division_by_a_number_outside_the_dtype(dtype, number, mode):
    run(lambda L: L.div(L.tensor([3, 8, 100, 120]).to(getattr(L, dtype)), number, rounding_mode=mode),
        message=True)
    run(lambda L: L.tensor([3, 8, 100, 120]).to(getattr(L, dtype)).div_(number, rounding_mode=mode), message=True)


@pytest.mark.parametrize('fn', [
    lambda L: L.div(L.tensor([True]), True, rounding_mode='floor'),
    lambda L: L.div(L.tensor([True]), 3, rounding_mode='floor'),
    lambda L: L.div(L.tensor([True]), L.tensor([False]), rounding_mode='trunc'),
    lambda L: L.div(L.tensor([1j]), 2, rounding_mode='trunc'),
    lambda L: L.div(L.tensor([1]), 2j, rounding_mode='floor'),
    lambda L: L.div(L.tensor([1, 2]), L.tensor([0, 1, 2]), rounding_mode='floor'),
    lambda L: L.div(L.tensor([1, 2]), L.tensor([0, 1, 2]), rounding_mode='xx'),
    lambda L: L.tensor([True]).div_(True, rounding_mode='floor'),
    lambda L: L.div(5, L.tensor([2, -2], dtype=L.int8), rounding_mode='floor'),
    lambda L: L.tensor([-7, 7]).div(L.tensor([2, -2]), rounding_mode='trunc'),
])
def test_rounded_division_refusals_and_signs(fn):
    run(fn, message=True)


# -- shifts have no Bool kernel ----------------------------------------------------------------------------
@pytest.mark.parametrize('op', ['__lshift__', '__rshift__', '__rlshift__', '__ilshift__', 'bitwise_left_shift',
                                'bitwise_right_shift'])
@pytest.mark.parametrize('other', [1, True, 'bool', 'long'])
def test_shifts_of_bools(op, other):
    def fn(L):
        a = L.tensor([True, False])
        b = L.tensor([True, True]) if other == 'bool' else L.tensor([1, 2]) if other == 'long' else other
        return getattr(a, op)(b) if op.startswith('__') else getattr(L, op)(a, b)
    run(fn, message=True)


# -- an integer tensor ** a Python int: the exponent must fit the dtype --------------------------------------
@pytest.mark.parametrize('dtype', ['uint8', 'int8', 'int16', 'int32', 'bool'])
@pytest.mark.parametrize('exponent', [-300, 3, 127, 128, 255, 256, 300, 2 ** 31, True])
def test_integer_power_of_a_number_outside_the_dtype(dtype, exponent):
    run(lambda L: L.tensor([2, 3, 0]).to(getattr(L, dtype)) ** exponent, message=True)
    run(lambda L: L.tensor([2, 3, 0]).to(getattr(L, dtype)).pow_(exponent), message=True)


# -- index_add: PyTorch's error types, alpha cast to an integer or bool tensor's type, an empty index ---------
@pytest.mark.parametrize('fn', [
    lambda L: L.index_add(L.tensor([1., 2]), 0, L.tensor([-1]), L.tensor([3.])),
    lambda L: L.index_add(L.tensor([1., 2]), 0, L.tensor([2]), L.tensor([3.])),
    lambda L: L.index_add(L.ones(2, 3), 1, L.tensor([-1, 7]), L.ones(2, 2)),
    lambda L: L.index_add(L.ones(2, 3), 0, L.tensor([7, -1]), L.ones(2, 3)),
    lambda L: L.index_add(L.ones(2, 3), 0, L.tensor([7, 0], dtype=L.int32), L.ones(2, 3)),
    lambda L: L.index_add(L.ones(2, 3), 0, L.tensor([7, 0]), L.ones(2, 3), alpha=2),
    lambda L: L.index_add(L.ones(2, 3, dtype=L.int64), 0, L.tensor([1, -2]), L.ones(2, 3, dtype=L.int64), alpha=-1),
    lambda L: L.index_add(L.tensor([1, 2], dtype=L.uint8), 0, L.tensor([0, 0]), L.tensor([3, 4], dtype=L.uint8),
                          alpha=-1),
    lambda L: L.index_add(L.tensor([1, 2], dtype=L.uint8), 0, L.tensor([0, 0]), L.tensor([3, 4], dtype=L.uint8),
                          alpha=300),
    lambda L: L.index_add(L.tensor([True, False, True]), 0, L.tensor([1, 0]), L.tensor([True, True]), alpha=-1),
    lambda L: L.index_add(L.tensor([True, False, True]), 0, L.tensor([1, 0]), L.tensor([True, False]), alpha=0),
    lambda L: L.index_add(L.tensor([1, 2], dtype=L.int8), 0, L.tensor([0, 0]), L.tensor([100, 100], dtype=L.int8),
                          alpha=2),
    lambda L: L.index_add(L.ones(4, 3), 0, L.zeros(0, dtype=L.int64), L.ones(0, 3)),
    lambda L: L.index_add(L.ones(2, 3, 2), 1, L.tensor([9]), L.ones(2, 1, 2)),
    lambda L: L.index_add(L.ones(2, 3, 2), 2, L.tensor([9]), L.ones(2, 3, 1)),
    lambda L: L.index_add(L.ones(2, 3, 2, 2), 2, L.tensor([-2, 1]), L.ones(2, 3, 2, 2, dtype=L.float16).float()),
])
def test_index_add_corners(fn):
    run(fn, message=True)


@pytest.mark.parametrize('fn', [
    lambda L: L.index_copy(L.tensor([1., 2]), 0, L.tensor([-1]), L.tensor([3.])),
    lambda L: L.index_copy(L.ones(2, 3), 1, L.tensor([0, -4]), L.ones(2, 2)),
    lambda L: L.index_copy(L.ones(2, 3), 1, L.tensor([-1, 5]), L.ones(2, 2)),
    lambda L: L.index_fill(L.tensor([1., 2]), 0, L.tensor([0, 2, -3]), 3.),
    lambda L: L.index_fill(L.tensor([1., 2]), 0, L.tensor([-1]), 3.),
])
def test_index_copy_refuses_negative_indices(fn):
    run(fn, message=True)


@pytest.mark.parametrize('fn,shapes', [
    (lambda L, x, s: L.scatter(x, 0, L.zeros(0, dtype=L.int64), s), [(2,), (1,)]),
    (lambda L, x, s: L.scatter_add(x, 1, L.zeros(0, 3, dtype=L.int64), s), [(1, 3), (1, 3)]),
    (lambda L, x, s: L.scatter(x, 1, L.zeros(0, 2, dtype=L.int64), s), [(2, 3), (1, 2)]),
    (lambda L, x, s: L.index_add(x, 0, L.zeros(0, dtype=L.int64), s), [(4, 3), (0, 3)]),
    (lambda L, x, s: L.index_add(x, 1, L.zeros(0, dtype=L.int64), s, alpha=2), [(4, 3), (4, 0)]),
])
def test_empty_index_gradients(fn, shapes):
    check(fn, *shapes, dtype=np.float64)


# -- torch.linalg on empty batches and empty matrices ---------------------------------------------------------
@pytest.mark.parametrize('fn', [
    lambda L: L.linalg.inv_ex(L.zeros(0, 0, 0)),
    lambda L: L.linalg.inv_ex(L.zeros(2, 0, 0)),
    lambda L: L.linalg.solve_ex(L.zeros(2, 0, 0), L.zeros(2, 0, 1)),
    lambda L: L.linalg.solve_ex(L.zeros(0, 2, 0, 0), L.zeros(0, 2, 0, 0)),
    lambda L: L.linalg.cholesky_ex(L.zeros(2, 0, 0)),
    lambda L: L.linalg.lu(L.zeros(2, 0, 3)),
    lambda L: L.linalg.lu(L.zeros(1, 1, 0, 0)),
    lambda L: L.linalg.lu_factor(L.zeros(1, 3, 0)),
    lambda L: L.linalg.lu_factor(L.zeros(2, 0, 3, 0)),
    lambda L: L.linalg.ldl_factor(L.zeros(1, 0, 0)),
    lambda L: L.linalg.lu_solve(L.zeros(1, 0, 0), L.zeros(1, 0, dtype=L.int32), L.zeros(1, 0, 2)),
    lambda L: L.linalg.lstsq(L.zeros(0, 0, 1, 1), L.zeros(0, 1, 2)).solution,
    lambda L: L.linalg.lstsq(L.ones(2, 1, 1), L.ones(1, 0)).solution,
    lambda L: L.linalg.lstsq(L.ones(2, 3, 2), L.ones(1, 3)).solution,
    lambda L: L.linalg.lstsq(L.ones(2, 3, 2), L.ones(3)).solution,
    lambda L: L.linalg.lstsq(L.ones(3, 2), L.ones(2)).solution,
])
def test_linalg_of_empty_inputs(fn):
    run(fn, message=True)


@pytest.mark.parametrize('ord', [1, -1, float('inf'), float('-inf'), 2, -2, 'fro', 'nuc'])
@pytest.mark.parametrize('shape', [(0, 0), (2, 0), (0, 3), (2, 1, 0), (0, 2, 2)])
def test_matrix_norms_of_empty_matrices(ord, shape):
    run(lambda L: L.linalg.matrix_norm(L.zeros(shape), ord=ord), message=True)
    run(lambda L: L.linalg.matrix_norm(L.zeros(shape), ord=ord, keepdim=True), message=True)


def test_matrix_norm_that_reduces_still_differentiates():
    check(lambda L, a: L.linalg.matrix_norm(a, ord=2), (2, 3, 3), dtype=np.float64)
    check(lambda L, a: L.linalg.matrix_norm(a, ord=float('inf'), dim=(0, 2)), (2, 3, 3), dtype=np.float64)


# -- reductions: an integer dtype= cannot carry a gradient; dim=() records PyTorch's dim-list node -----------
@pytest.mark.parametrize('op', ['sum', 'prod', 'nansum', 'cumsum', 'cumprod'])
@pytest.mark.parametrize('dtype', ['int64', 'int16', 'bool', 'uint8'])
def test_integer_dtype_of_a_differentiable_reduction(op, dtype):
    def fn(L):
        x = L.tensor([1.5, -2.5, 3.0], requires_grad=True)
        kw = {'dim': 0} if op in ('cumsum', 'cumprod') else {}
        return getattr(L, op)(x, dtype=getattr(L, dtype), **kw)
    run(fn, message=True)
    run(lambda L: getattr(L, op)(L.tensor([1.5, -2.5, 3.0]), 0, dtype=getattr(L, dtype)))
    run(lambda L: getattr(L, op)(L.tensor(1.5), 0, dtype=getattr(L, dtype)))
    run(lambda L: getattr(L, op)(L.zeros(0), 0, dtype=getattr(L, dtype)))


@pytest.mark.parametrize('fn', [lambda L, x: x.sum(dim=()), lambda L, x: x.sum(dim=[]), lambda L, x: x.mean(dim=()),
                                lambda L, x: L.mean(x, []) * 2, lambda L, x: x.sum(dim=(), keepdim=True)])
def test_reductions_over_an_empty_dim_list_record_the_dim_node(fn):
    check(fn, (2, 3), dtype=np.float64)
    check(fn, (), dtype=np.float64)


@pytest.mark.parametrize('op', ['quantile', 'nanquantile'])
@pytest.mark.parametrize('value', [1.0, float('nan'), float('-inf')])
@pytest.mark.parametrize('dim,keepdim', [(0, True), (-1, False), (None, True)])
def test_quantile_of_a_0d_tensor_along_a_dim(op, value, dim, keepdim):
    run(lambda L: getattr(L, op)(L.tensor(value), 0.25, dim=dim, keepdim=keepdim, interpolation='midpoint'))
    run(lambda L: getattr(L, op)(L.tensor(value), L.tensor([0.5, 0.2]), dim=dim, keepdim=keepdim))


def test_quantile_of_a_0d_tensor_gradient():
    check(lambda L, x: L.quantile(x, 0.3, dim=0, keepdim=True), (), dtype=np.float64)


# -- complex gradients through where, masked_fill and fill_ (linear maps with real coefficients) -------------
COMPLEX_GRADS = [
    lambda L, x, y: L.where(x.real > 0, x, y),
    lambda L, x, y: L.where(x.abs() > 2, x * x, x.conj()) * y,
    lambda L, x, y: x.masked_fill(x.real > 0, 2 - 1j) * y,
    lambda L, x, y: x.masked_fill(x.real > 0, y[0]) * (1 + 1j),
    lambda L, x, y: x.clone().fill_(1 + 2j) * x + y,
    lambda L, x, y: x.clone().fill_(y[1]) * x,
]


@pytest.mark.parametrize('fn', COMPLEX_GRADS)
def test_complex_gradients_of_masking_ops(fn):
    xv, yv = np.array([1 + 2j, -1 + 1j, 3 - 1j]), np.array([0.5j, 2 - 1j, 3 + 0.5j])
    grads = {}
    for L in (torch, ember):
        x, y = (L.tensor(v, requires_grad=True) for v in (xv, yv))
        out = fn(L, x, y)
        grads[L] = L.autograd.grad((out * L.tensor([1 - 1j, 0.5, 2j])).real.sum(), (x, y), allow_unused=True)
        grads[('fn', L)] = out.grad_fn.name()
    assert grads[('fn', ember)] == grads[('fn', torch)]
    for e, t in zip(grads[ember], grads[torch]):
        assert (e is None) == (t is None)
        if t is not None:
            np.testing.assert_allclose(e.numpy(), t.resolve_conj().numpy(), rtol=1e-6, atol=1e-6)
    xs = [ember.tensor(v, requires_grad=True) for v in (xv, yv)]
    assert ember.autograd.gradcheck(lambda x, y: fn(ember, x, y), xs, eps=1e-6, atol=1e-5, rtol=1e-3)


# -- a whole-tensor write records FillBackward3 only for a 0-d value into a tensor of some dims ---------------
def _write_all(key):
    def fn(L, x, v):
        y = x.clone()
        y[key] = v
        return y * 2
    return fn


@pytest.mark.parametrize('key', [Ellipsis, (), slice(None)])
@pytest.mark.parametrize('xshape,vshape', [((2, 3), ()), ((2, 3), (1,)), ((2, 3), (3,)), ((1,), (1,)), ((), ()),
                                           ((2, 3), (1, 1, 3))])
def test_whole_writes_record_pytorchs_node(key, xshape, vshape):
    if key == slice(None) and not xshape:
        return run(lambda L: _write_all(key)(L, L.ones(()), L.ones(())))
    check(_write_all(key), xshape, vshape, dtype=np.float64)


# -- linalg gradients: unused eigenvectors / singular vectors drop their terms (finite for repeated values) ----
REPEATED = {'identity': np.eye(3) * 9.5, 'offdiag': np.array([[0., -4], [-4, 0]]), 'zero': np.zeros((2, 2)),
            'rect': np.array([[1., 0, 0], [0, 1, 0]]), 'batch': np.stack([np.eye(2), np.array([[1., 2], [2, 1]])])}


@pytest.mark.parametrize('name', list(REPEATED))
@pytest.mark.parametrize('square,fn', [(False, lambda L, a: L.linalg.svdvals(a)),
                                       (False, lambda L, a: L.linalg.svd(a)[1]), (False, lambda L, a: L.svd(a)[1]),
                                       (True, lambda L, a: L.linalg.eigvalsh(a)), (True, lambda L, a: L.linalg.eigh(a)[0])])
def test_values_only_gradients_with_repeated_values(name, square, fn):
    m = REPEATED[name]
    if square and m.shape[-1] != m.shape[-2]:
        return run(lambda L: fn(L, L.tensor(m)), message=True)
    check(fn, inputs=[m], gradcheck=False)     # (not differentiable where values repeat: PyTorch's choice checked)


@pytest.mark.parametrize('fn', [lambda L, a: L.linalg.svdvals(a), lambda L, a: L.linalg.eigvalsh(a + a.mT)])
def test_values_only_gradients_where_distinct(fn):
    check(fn, (3, 3), dtype=np.float64, gradgrad=True)


@pytest.mark.parametrize('m', [[[0.]], [[0., 0], [0, 0]], [[1., 0], [0, 0]], [[1., 2], [2, 4]],
                               [[[-6., 6], [6, -6]], [[0., 1], [1, 0]]], [[[0.]], [[2.]]],
                               [[1., 2, 3], [2, 4, 6], [1, 0, 1]]])
def test_det_gradient_of_singular_matrices(m):
    check(lambda L, a: L.linalg.det(a), inputs=[np.array(m)], gradcheck=False)   # (PyTorch's zero there)
    check(lambda L, a: L.det(a * 1.5), inputs=[np.array(m)], gradcheck=False)


@pytest.mark.parametrize('sa,sb', [((0, 1, 1), (1, 0)), ((0, 2, 3), (3, 4)), ((2, 3, 0), (0, 4)), ((2, 3, 4), (4, 0))])
def test_batched_product_with_an_empty_dim_differentiates(sa, sb):
    check(lambda L, a, b: L.matmul(a, b), sa, sb, dtype=np.float64)


@pytest.mark.parametrize('op', ['eigh', 'eigvalsh'])
@pytest.mark.parametrize('shape,dtype,uplo', [((2, 3), 'float32', 'L'), ((2, 3), 'int64', 'L'), ((2, 2), 'int64', 'X'),
                                              ((2, 3), 'float32', 'X'), ((2, 2), 'bool', 'U'), ((3,), 'float32', 'L'),
                                              ((2, 2), 'float32', 'X')])
def test_eigh_refusals_as_pytorch(op, shape, dtype, uplo):
    run(lambda L: getattr(L.linalg, op)(L.ones(shape, dtype=getattr(L, dtype)), UPLO=uplo), message=True)


@pytest.mark.parametrize('fn', [
    lambda L: L.linalg.solve_triangular(L.ones(3, 3), L.ones(3, 1), upper=True, left=False),
    lambda L: L.linalg.solve_triangular(L.ones(3, 3), L.ones(2, 3), upper=True, left=True),
    lambda L: L.linalg.solve_triangular(L.ones(2, 3, 3), L.ones(4, 3, 1), upper=True),
    lambda L: L.linalg.solve_triangular(L.ones(3, 3), L.ones(3), upper=True),
    lambda L: L.linalg.solve_triangular(L.eye(3), L.ones(2, 3, 3), upper=False, left=False),
    lambda L: L.cholesky_inverse(L.tensor([[0., -4], [-4, -2]])),
    lambda L: L.cholesky_inverse(L.tensor([[1., 0], [2, 0]])),
    lambda L: L.cholesky_inverse(L.tensor([[1., 5], [0, 0]]), upper=True),
    lambda L: L.cholesky_inverse(L.tensor([[[1., 0], [2, 3]], [[0., 0], [2, 1]]])),
    lambda L: L.cholesky_inverse(L.tensor([[2., 0], [1, 3]])),
])
def test_triangular_solves_and_cholesky_inverse_refuse_as_pytorch(fn):
    def outcome(L):
        """The result, or the error's class name and message (torch's and ember's _LinAlgError are distinct
        classes, both RuntimeErrors)."""
        try:
            return fn(L)
        except RuntimeError as e:
            return type(e).__name__, str(e)
    run(outcome)


@pytest.mark.parametrize('fn', [
    lambda L: L.arange(6.).reshape(2, 3).t().masked_fill(L.tensor(True), 0).view(-1),
    lambda L: L.arange(6.).reshape(2, 3).t().masked_fill(L.tensor([True, False]), 0).stride(),
    lambda L: L.arange(24.).reshape(2, 3, 4).permute(1, 0, 2).masked_fill(L.tensor(True), 0).stride(),
    lambda L: L.arange(120.).reshape(2, 3, 4, 5).contiguous(memory_format=L.channels_last).masked_fill(
        L.tensor(True), 0).is_contiguous(),
    lambda L: L.masked_fill(L.arange(6.).reshape(2, 3).t(), L.ones(3, 2, dtype=L.bool), 0.).view(6),
])
def test_masked_fill_result_is_contiguous(fn):
    run(fn)


def test_masked_fill_of_a_transposed_leaf_gradient():
    check(lambda L, x: x.t().masked_fill(x.t() > 0, 0.5).view(-1), (2, 3), dtype=np.float64)


# -- results PyTorch makes contiguous whatever the input's layout (.view(-1) of them works) -------------------
def _permuted(L, kind):
    base = L.arange(24., dtype=L.float64).reshape(2, 3, 4) - 10.5
    if kind == 'T':
        return base.permute(2, 1, 0)
    if kind == 'cl':
        return (L.arange(120., dtype=L.float64).reshape(2, 3, 4, 5) - 50.5).contiguous(memory_format=L.channels_last)
    return base.transpose(0, 1)


@pytest.mark.parametrize('kind', ['T', 'cl', 'swap'])
@pytest.mark.parametrize('fn', [lambda L, x: L.tril(x), lambda L, x: L.triu(x, 1), lambda L, x: L.roll(x, 1, 0),
                                lambda L, x: x.repeat(1, 1, 1, 1) if x.ndim == 4 else x.repeat(1, 2, 1),
                                lambda L, x: x.tile((1, 2, 1)), lambda L, x: x.renorm(2, 0, 5.),
                                lambda L, x: L.nn.functional.batch_norm(x, L.zeros(x.shape[1], dtype=x.dtype),
                                                                         L.ones(x.shape[1], dtype=x.dtype))])
def test_results_pytorch_makes_contiguous(kind, fn):
    run(lambda L: (lambda r: (r, r.stride(), r.is_contiguous()))(fn(L, _permuted(L, kind))))


def test_contiguous_results_keep_their_gradients():
    check(lambda L, x: L.roll(x.t(), 1, 0).view(-1), (3, 4), dtype=np.float64)
    check(lambda L, x: L.tril(x.t()).view(-1), (3, 4), dtype=np.float64)
    check(lambda L, x: x.t().renorm(2, 0, 1.).view(-1), (3, 4), dtype=np.float64)
    check(lambda L, x: x.t().repeat(2, 1).view(-1), (3, 4), dtype=np.float64)


# -- memory_format= of to() and the casting methods is honoured, not ignored ---------------------------------
@pytest.mark.parametrize('make', [lambda L: L.arange(6.).reshape(2, 3).t(), lambda L: L.arange(24.).reshape(1, 2, 3, 4),
                                  lambda L: L.arange(24.).reshape(1, 2, 3, 4).contiguous(memory_format=L.channels_last)])
@pytest.mark.parametrize('fn', [
    lambda L, x: x.to(L.float64, memory_format=L.contiguous_format),
    lambda L, x: x.to(L.float32, memory_format=L.contiguous_format),
    lambda L, x: x.double(memory_format=L.contiguous_format), lambda L, x: x.half(memory_format=L.contiguous_format),
    lambda L, x: x.long(memory_format=L.contiguous_format), lambda L, x: x.bfloat16(memory_format=L.contiguous_format),
    lambda L, x: x.to(L.float32, copy=True, memory_format=L.contiguous_format),
    lambda L, x: x.float(memory_format=L.channels_last), lambda L, x: x.double(memory_format=L.channels_last),
    lambda L, x: x.int(memory_format=L.preserve_format), lambda L, x: x.float(memory_format=L.contiguous_format),
])
def test_memory_format_of_casts(make, fn):
    run(lambda L: (lambda x: (lambda r: (r, r.stride(), r is x))(fn(L, x)))(make(L)))


def test_memory_format_cast_gradient():
    check(lambda L, x: x.t().to(L.float64, copy=True, memory_format=L.contiguous_format).view(-1), (2, 3))


# -- integer division of empty results checks nothing; heaviside of bools; copysign's broadcast error -------
@pytest.mark.parametrize('fn', [
    lambda L: L.heaviside(L.tensor([False, True]), L.tensor([True, False])),
    lambda L: L.heaviside(L.tensor(False), L.tensor(True)),
    lambda L: L.tensor([False, True]).heaviside_(L.tensor([True, False])),
    lambda L: L.div(L.zeros(0, 2, dtype=L.int64), False, rounding_mode='trunc'),
    lambda L: L.div(L.zeros(0, 2, dtype=L.int64), L.tensor([0, 1]), rounding_mode='floor'),
    lambda L: L.div(L.ones(2, 2, dtype=L.int64), L.tensor([0, 1]), rounding_mode='floor'),
    lambda L: L.zeros(0, 2, dtype=L.uint8).remainder_(False),
    lambda L: L.zeros(0, 2, dtype=L.uint8) // 0,
    lambda L: L.zeros(0, 2, dtype=L.uint8) % L.zeros(2, dtype=L.uint8),
    lambda L: L.ones(2, dtype=L.uint8) % L.zeros(2, dtype=L.uint8),
    lambda L: L.fmod(L.zeros(0, dtype=L.int32), 0),
    lambda L: L.copysign(L.zeros(0, 1, dtype=L.int16), L.ones(2, 2, dtype=L.bool)),
    lambda L: L.copysign(L.ones(3), L.ones(2)),
])
def test_empty_integer_division_heaviside_and_copysign(fn):
    run(fn, message=True)
