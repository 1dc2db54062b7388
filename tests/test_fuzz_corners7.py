"""Corners a seventh differential fuzzer found differing from PyTorch: scatter's reduce= (only 'add' and
'multiply', recorded without a derivative), masks with no elements against non-empty dims, the overlap checks of
elementwise ops' out=, in-place writes into views of expanded tensors that repeat no element, comparisons into
an out that requires grad, einsum's dtypes (an operand's own sum in int64, bmm's one dtype, mul's promotion).
Each case runs the same program on both libraries and compares results (and gradients), or that both raise the
same exception type with PyTorch's first line."""
import itertools
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import check, run_both as run


def _run_warns(fn):
    """``fn(lib)`` on both libraries gives the same result and the same warnings' first lines."""
    seen = {}
    for L in (torch, ember):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            try:
                fn(L)
            except RuntimeError:
                pass   # (run compares the errors)
        seen[L] = [str(x.message).split(' (Triggered internally')[0] for x in w
                   if 'encountered' not in str(x.message)]
    assert seen[ember] == seen[torch]
    run(fn, message=True)


# -- scatter(reduce=): 'add' and 'multiply' only; PyTorch records no derivative for it ----------------------
@pytest.mark.parametrize('reduce', ['add', 'multiply', 'sum', 'mean', 'amax', 'prod'])
@pytest.mark.parametrize('src', ['number', 'tensor'])
def test_scatter_reduce_argument(reduce, src):
    def fn(L):
        x = L.arange(1., 7.).reshape(2, 3).requires_grad_()
        s = 2.5 if src == 'number' else L.arange(1., 7.).reshape(2, 3)
        r = L.scatter(x * 1, 0, L.tensor([[0, 0, 1], [0, 1, 1]]), s, reduce=reduce)
        y = L.ones(2, 3)
        y.scatter_(1, L.tensor([[2, 2], [0, 0]]), s, reduce=reduce)
        return r, r.grad_fn.name(), y
    run(fn, message=True)


@pytest.mark.parametrize('reduce', ['add', 'multiply'])
def test_scatter_with_reduce_has_no_derivative(reduce):
    def fn(L):
        x = L.zeros(3, requires_grad=True)
        L.scatter(x * 1, 0, L.tensor([0, 0, 1]), L.ones(3, requires_grad=True), reduce=reduce).sum().backward()
    run(fn, message=True)


# -- a mask with no elements is checked against the dims it indexes -----------------------------------------
MASKS = ['[L.zeros(0, dtype=L.bool)]', '[:, L.zeros(0, 5, dtype=L.bool)]', '[L.zeros(3, 0, dtype=L.bool)]',
         '[..., L.zeros(0, dtype=L.bool)]', '[None, L.zeros(0, dtype=L.bool)]', '[:, :, L.zeros(5, dtype=L.bool)]',
         '[L.zeros(3, 4, 5, dtype=L.bool)]', '[1:1, L.zeros(4, dtype=L.bool)]']


@pytest.mark.parametrize('key', MASKS)
@pytest.mark.parametrize('how', ['get', 'set', 'index_put'])
def test_empty_masks_match_the_indexed_dims(key, how):
    def fn(L):
        x = L.arange(60.).reshape(3, 4, 5)
        k = eval('(lambda x: x' + key + ')', {'L': L})   # noqa: S307 - the key is one of MASKS
        if how == 'get':
            return k(x)
        if how == 'set':
            exec('x' + key + ' = -1.', {'L': L, 'x': x})   # noqa: S102
            return x
        idx = eval('(lambda *a: a)' + key.replace(':', 'slice(None)').replace('...', 'Ellipsis')
                   .replace('[', '(', 1)[:-1] + ')', {'L': L})   # noqa: S307
        if any(not isinstance(i, L.Tensor) for i in idx):
            return None
        return x.index_put(idx, L.tensor(-1.))
    run(fn, message=True)


# -- out= of an elementwise op: no repeated element in out, no partial overlap with an input -----------------
OUTS = ['L.exp(b[1:5], out=b[:4])', 'L.exp(b[:4], out=b[:4])', 'L.exp(b[:4].view(2, 2), out=b[:1].expand(2, 2))',
        'L.exp(b[:4], out=b[:1].expand(6))', 'L.atan2(b[1:5], b[:4], out=b[:4])', 'L.add(b[:4], 1, out=b[1:5])',
        'L.sub(b[:4], 1, alpha=2, out=b[2:6])', 'L.div(b[:4], 2, rounding_mode="floor", out=b[2:6])',
        'L.mul(b[:4], b[1:5], out=b[:1].expand(4))', 'L.mul(b[:4], 2, out=b[::2])', 'L.add(b[::2], 1, out=b[:4])',
        'L.remainder(b[:4], 3, out=b[1:5])', 'L.fmod(b[:4], 3, out=b[1:5])', 'L.eq(b[:4], b[1:5], out=b[1:5])',
        'L.sigmoid(b[:4], out=b[1:5])', 'L.outer(b[:2], b[:2], out=b[1:5].view(2, 2))', 'L.msort(b[1:5], out=b[:4])',
        'L.nan_to_num(b[:4], out=b[1:5])', 'L.kron(b[:2], b[:2], out=b[1:5])', 'L.dot(b[1:5], b[:4], out=b[0])',
        'L.add(b[:4], b[:4], out=b[:4])', 'L.clamp(b[:4], 1, 2, out=b[1:5])', 'L.where(b[:4] > 1, b[:4], b[1:5], out=b[2:6])']


@pytest.mark.parametrize('call', OUTS)
def test_out_overlap_checks(call):
    def fn(L):
        b = L.arange(8.)
        return eval(call, {'L': L, 'b': b}), b   # noqa: S307 - the call is one of OUTS
    run(fn, message=True)


@pytest.mark.parametrize('call', ['L.eq(L.ones(3), 1, out=o)', 'L.lt(L.ones(3), L.ones(3), out=o)',
                                  'L.logical_not(L.ones(3), out=o)', 'L.eq(L.ones(3, requires_grad=True), 1, out=o)',
                                  'L.isin(L.ones(3), L.ones(3), out=o)', 'L.signbit(L.ones(3), out=o)',
                                  'L.add(L.ones(3), 1, out=o)', 'L.exp(L.ones(3), out=o)'])
def test_comparisons_write_an_out_that_requires_grad(call):
    def fn(L):
        o = L.empty(3, requires_grad=True)
        r = eval(call, {'L': L, 'o': o})   # noqa: S307 - the call is one of the list above
        return r, o.requires_grad, r.grad_fn is None
    run(fn, message=True)


# -- in-place writes into views of expanded tensors that repeat no element ----------------------------------
EXPANDED = ['v = a.expand(2, 2, 3)[1]; v.add_(1)', 'v = a.expand(2, 2, 3)[1]; v.zero_()',
            'v = a.expand(2, 2, 3)[1]; v[0] = 5', 'v = a.expand(2, 2, 3)[1]; v[:, 1] = L.tensor([7., 8])',
            'v = a.expand(2, 2, 3)[0]; v.mul_(2).sub_(1)', 'v = a.expand(2, 2, 3)[1].T; v[1:] += 3',
            'v = a.expand(2, 2, 3); v[0] = 5', 'v = a[0].expand(2, 3); v[:, 0] = 5', 'v = a[0].expand(2, 3); v[0, 0] = 5',
            'v = a[0].expand(2, 3); v[0] = L.tensor([1., 2, 3])', 'v = a[0].expand(2, 3); v[1:, 1:] = 9',
            'v = a[0].expand(2, 3); v[:, :0] = 9', 'v = a[0].expand(2, 3); v.add_(1)',
            'v = a.expand(2, 2, 3)[1]; v[L.tensor([0, 1]), 1] = 4.', 'v = a[0].expand(2, 3); v[L.tensor([0]), 1] = 9',
            'v = a[0].expand(2, 3); v[0, L.tensor([True, False, True])] = 9',
            'v = a.bfloat16().expand(2, 2, 3)[1]; v[1] = 9; v.add_(1); a = v']


@pytest.mark.parametrize('prog', EXPANDED)
def test_in_place_on_views_of_expanded_tensors(prog):
    def fn(L):
        a = L.arange(6.).reshape(2, 3)
        env = {'L': L, 'a': a}
        exec(prog, env)   # noqa: S102 - the program is one of EXPANDED
        return env['a']
    _run_warns(fn)


def test_in_place_on_a_view_of_an_expanded_tensor_gradient():
    def fn(L, a):
        b = a * 1
        v = b.expand(2, 2, 3)[1]
        v[0] = 5
        v.mul_(2)
        return b
    check(fn, (2, 3))


# -- einsum: an operand's own labels summed in int64 first, bmm for a contraction (one dtype), else mul ------
EINSUM = [('ij->i', 1), ('ij->', 1), ('ij->ji', 1), ('ii->i', 1), ('ii', 1), ('ij,ij->ij', 2), ('ij,ij->i', 2),
          ('ij,ij->', 2), ('ij,kj->ik', 2), ('ij,j->j', 2), ('ij,j->i', 2), ('ij,j->', 2), ('ij,k->k', 2),
          ('ij,k->', 2), ('ij,kl->ijkl', 2), ('ij,jk', 2), ('ij,j,j->i', 3), ('ij,j,j->ij', 3)]
EINSUM_DTYPES = ['int32', 'int8', 'uint8', 'float32', 'float64', 'bool', 'float16', 'bfloat16']


def _operand(L, s, d):
    size = {'i': 2, 'j': 2, 'k': 3, 'l': 2}
    shape = tuple(size[c] for c in s)
    return (L.arange(int(np.prod(shape))) % 3).reshape(shape).to(getattr(L, d))


@pytest.mark.parametrize('eq,n', EINSUM)
def test_einsum_dtypes(eq, n):
    ins = eq.split('->')[0].split(',')
    for ds in itertools.product(EINSUM_DTYPES, repeat=n):
        if n == 3 and len(set(ds)) > 2:
            continue
        run(lambda L: L.einsum(eq, *[_operand(L, s, d) for s, d in zip(ins, ds)]), message=True)


def test_einsum_of_mixed_dtypes_gradient():
    check(lambda L, a, b: L.einsum('ij,ij->ij', a, b.double()), (2, 3), (2, 3), name=False)
    check(lambda L, a: L.einsum('ij,ij->ij', a, L.arange(6).reshape(2, 3)), (2, 3), name=False)


def test_searchsorted_of_bools():
    for values in ('L.tensor([True])', 'True', 'L.tensor([1])'):
        run(lambda L: L.searchsorted(L.tensor([False, True]), eval(values, {'L': L})), message=True)  # noqa: S307
    run(lambda L: L.searchsorted(L.tensor([1, 2]), L.tensor([True])), message=True)
    run(lambda L: L.bucketize(L.tensor([True]), L.tensor([False, True])), message=True)
