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


# -- complex lerp, logaddexp, logsumexp (values and gradients) --------------------------------------------
@pytest.mark.parametrize('weight', ['0.3', '0.7', '2', '0.3+0.2j', 'True', '-3', 'L.tensor(0.6)', 'L.tensor(0.2+0.1j)',
                                    'L.tensor([0.3+0.1j, 0.7, -0.2j])'])
def test_complex_lerp(weight):
    def fn(L):
        x = L.tensor([1 + 2j, 3j, -1], requires_grad=True)
        y = L.tensor([2 - 1j, 1 + 1j, 4j], requires_grad=True)
        w = eval(weight, {'L': L})   # noqa: S307 - one of the weights above
        o = L.lerp(x, y, w)
        o.abs().sum().backward()
        z = L.tensor([1 + 2j, 3j, -1]).lerp_(L.tensor([2 - 1j, 1 + 1j, 4j]), w)
        return o, x.grad, y.grad, z
    run(fn, message=True)


def test_lerp_shapes_that_do_not_broadcast():
    run(lambda L: L.lerp(L.tensor([1., 3]), L.tensor([2., 1]), L.tensor([0.3, 0.7, 0.1])), message=True)
    run(lambda L: L.lerp(L.tensor([1., 3]), L.tensor([2., 1, 3]), 0.5), message=True)


INF = float('inf')


FINITE_A, FINITE_B = [1 + 2j, -3, 0.5j, 100 + 1j, -100 - 2j], [2 - 1j, 4, -0.5j, 99 + 3j, -101]
INFINITE_A = [complex(INF, 0), complex(-INF, 1), complex(INF, 2), 1j, complex(float('nan'), 0)]
INFINITE_B = [complex(INF, 1), complex(-INF, 0), complex(-INF, 2), complex(INF, 0), 1]


# (with infinities only in complex128: PyTorch's vectorized complex64 kernel gives NaN beside an infinite lane)
@pytest.mark.parametrize('a,b,dtype', [(FINITE_A, FINITE_B, 'complex64'), (FINITE_A, FINITE_B, 'complex128'),
                                       (INFINITE_A, FINITE_B, 'complex128'), (FINITE_A, INFINITE_B, 'complex128'),
                                       (INFINITE_A, INFINITE_B, 'complex128')])
def test_complex_logaddexp(a, b, dtype):
    run(lambda L: L.logaddexp(L.tensor(a, dtype=getattr(L, dtype)), L.tensor(b, dtype=getattr(L, dtype))))


def test_complex_logaddexp_and_logsumexp_gradients():
    def fn(L):
        x = L.tensor([1 + 2j, 3j, -1], requires_grad=True)
        y = L.tensor([2 - 1j, 1 + 1j, 4j], requires_grad=True)
        o = L.logaddexp(x, y)
        s = L.logsumexp(L.stack([x, y]), 0)
        (o.abs().sum() + s.abs().sum()).backward()
        return o, s, x.grad, y.grad
    run(fn)


@pytest.mark.parametrize('x,dim', [(x, d) for x in ('L.tensor([[1+2j, 3-1j], [2, 1j]])',
                                                    'L.tensor([[1+2j, 300-1j], [-2, 1j]], dtype=L.complex128)',
                                                    'L.zeros(0, 2, dtype=L.complex64)', 'L.tensor(1+1j)')
                                   for d in (0, -1, (0, 1)) if d != (0, 1) or '(1+1j)' not in x])
def test_complex_logsumexp(x, dim):
    def fn(L):
        t = eval(x, {'L': L})   # noqa: S307 - one of the inputs above
        return L.logsumexp(t, dim), L.logsumexp(t, dim, keepdim=True)
    run(fn, message=True)


# -- a complex input of a reduction given a real dtype=: its real parts, the gradient through the cast -------
@pytest.mark.parametrize('op', ['sum', 'mean', 'prod', 'cumsum', 'nansum', 'nanmean'])
@pytest.mark.parametrize('dtype', ['float64', 'int32', 'float32', 'bool', 'bfloat16', 'float16', 'complex128'])
def test_complex_reductions_into_real_dtypes(op, dtype):
    def fn(L):
        x = L.tensor([[1 + 2j, 3 - 1j], [2, 0.5j]])
        args = (0,) if op == 'cumsum' else ()
        r = getattr(L, op)(x, *args, dtype=getattr(L, dtype))
        r1 = getattr(L, op)(x, 1, dtype=getattr(L, dtype))
        if not getattr(L, dtype).is_floating_point:
            return r, r1
        xg = x.clone().requires_grad_()
        getattr(L, op)(xg, *args, dtype=getattr(L, dtype)).sum().backward()
        return r, r1, xg.grad
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        run(fn, message=True, tol=1e-2)


def test_complex_product_into_a_real_dtype_gradient():
    def fn(L):
        x = L.tensor([1 + 2j, 3 - 1j, 0.5j, 2], requires_grad=True)
        L.prod(x, dtype=L.float64).backward()
        return x.grad
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        run(fn)


# -- where: a byte condition (deprecated, taken), others refused by PyTorch's names ---------------------------
@pytest.mark.parametrize('dtype', ['uint8', 'int8', 'int16', 'int64', 'float16', 'bfloat16', 'float32', 'complex64'])
def test_where_condition_dtypes(dtype):
    run(lambda L: L.where(L.tensor([1, 0, 2]).to(getattr(L, dtype)), L.ones(3), L.zeros(3)), message=True)
    run(lambda L: L.ones(3).where(L.tensor([1, 0, 2]).to(getattr(L, dtype)), 0.), message=True)


# -- max/min/median/mode of a 0-d tensor: dims checked, complex refused -------------------------------------
@pytest.mark.parametrize('x', ['L.tensor(1+1j)', 'L.tensor(1.)', 'L.tensor([1, 2, 2])'])
@pytest.mark.parametrize('op', ['max', 'min', 'median', 'nanmedian', 'mode'])
@pytest.mark.parametrize('dim', [0, 1, -1, (0,)])
def test_selections_of_0d_tensors(x, op, dim):
    run(lambda L: getattr(L, op)(eval(x, {'L': L}), dim))   # noqa: S307 - one of the inputs above


# -- linalg refuses integer, bool and half inputs as PyTorch (NumPy computed them, det of int64 as an int64) -
LINALG_ONE = ['inv', 'det', 'slogdet', 'svd', 'svdvals', 'eigh', 'eigvalsh', 'eig', 'eigvals', 'cholesky', 'qr', 'pinv',
              'matrix_rank', 'matrix_norm', 'cond', 'lu', 'lu_factor', 'lu_factor_ex', 'inv_ex', 'cholesky_ex',
              'ldl_factor', 'matrix_exp']


# (matrix_exp of the half types not compared: PyTorch's result is inf)
@pytest.mark.parametrize('fn,dtype', [(f, d) for f in LINALG_ONE for d in ('int64', 'int32', 'bool', 'uint8', 'float16',
                                                                          'bfloat16')
                                      if f != 'matrix_exp' or d not in ('float16', 'bfloat16')])
def test_linalg_refuses_integer_inputs(fn, dtype):
    run(lambda L: getattr(L.linalg, fn)(L.tensor([[2, 1], [1, 3]]).to(getattr(L, dtype))), message=True)


TWO = 'L.tensor([[2, 1], [1, 3]]).to(L.{})'


@pytest.mark.parametrize('call', ['L.linalg.solve({0}, {0})', 'L.linalg.solve_ex({0}, {0})', 'L.linalg.lstsq({0}, {0})',
                                  'L.linalg.solve_triangular({0}, {0}, upper=True)', 'L.linalg.vecdot({0}, {0})',
                                  'L.linalg.multi_dot([{0}, {0}])', 'L.linalg.matrix_power({0}, 2)',
                                  'L.linalg.matrix_power({0}, -1)', 'L.inverse({0})', 'L.det({0})', 'L.logdet({0})',
                                  'L.pinverse({0})', 'L.cholesky({0})', 'L.cholesky_inverse({0})', 'L.mm({0}, {0})',
                                  'L.matmul({0}, {0})', 'L.matmul({0}[0], {0})', 'L.matmul({0}, {0}[0])',
                                  'L.matmul({0}[None], {0}[None])', 'L.bmm({0}[None], {0}[None])', 'L.mv({0}, {0}[0])',
                                  'L.dot({0}[0], {0}[0])', 'L.vdot({0}[0], {0}[0])', 'L.addmv({0}[0], {0}, {0}[0])',
                                  'L.linalg.cross(L.ones(3).to(L.{1}), L.ones(3).to(L.{1}))',
                                  'L.linalg.lu_solve({0}, L.tensor([1, 2], dtype=L.int32), {0})'])
@pytest.mark.parametrize('dtype', ['int64', 'bool', 'float16'])
def test_linalg_and_products_refuse_as_pytorch(call, dtype):
    run(lambda L: eval(call.format(TWO.format(dtype), dtype), {'L': L}), message=True)   # noqa: S307


@pytest.mark.parametrize('ord', [None, 'fro', 'nuc', 2, 1, float('inf'), -2, 0, 3, 'bad', 2.5])
@pytest.mark.parametrize('dim', [None, 0, (0, 1), (1,), (-1, 0), [0], (0, 1, 2)])
def test_linalg_norm_dispatch(ord, dim):
    for x in ('L.ones(2, 3)', 'L.arange(24.).reshape(2, 3, 4)', 'L.arange(3.)'):
        run(lambda L: L.linalg.norm(eval(x, {'L': L}), ord=ord, dim=dim), message=True)   # noqa: S307


@pytest.mark.parametrize('p', ['fro', 'nuc', 2, 1, 'bad'])
def test_norm_orders(p):
    run(lambda L: L.norm(L.ones(2, 3), p=p), message=True)
    run(lambda L: L.norm(L.ones(2, 3), p=p, dim=1), message=True)
    run(lambda L: L.linalg.vector_norm(L.ones(2, 3), ord=p), message=True)


# -- std/var warn of no degrees of freedom for an empty result too; softmax's out=; Tensor._is_view ---------
@pytest.mark.parametrize('op', ['std', 'var', 'std_mean', 'var_mean'])
@pytest.mark.parametrize('shape', [(0, 3), (3, 0), (1,), (2, 3)])
@pytest.mark.parametrize('dim', [None, 0, -1])
def test_degrees_of_freedom_warning(op, shape, dim):
    _run_warns(lambda L: getattr(L, op)(L.ones(shape), dim=dim))


@pytest.mark.parametrize('op', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('out', ['L.empty(3)', 'L.empty(0)', 'L.empty(3, dtype=L.float64)', 'L.empty(2, 3)',
                                 'L.empty(3, dtype=L.long)'])
@pytest.mark.parametrize('dtype', [None, 'float64'])
def test_softmax_out(op, out, dtype):
    def fn(L):
        o = eval(out, {'L': L})   # noqa: S307 - one of the outs above
        r = getattr(L, op)(L.arange(3.), 0, dtype=dtype and getattr(L, dtype), out=o)
        return r, o, r is o
    run(fn, message=True)


@pytest.mark.parametrize('view', ['a.view(12)', 'a[1]', 'a.t()', 'a * 1', 'a.detach()', 'a.reshape(12)', 'a.expand(2, 3, 4)',
                                  'a.unbind(0)[0]', 'a.split(1)[0]', 'a.flatten()', 'a[:, [0]]',
                                  'a.transpose(0, 1).reshape(12)'])
def test_is_view(view):
    def fn(L):
        a = L.ones(3, 4, requires_grad=True)
        b = eval(view, {'L': L, 'a': a})   # noqa: S307 - one of the views above
        return b._is_view(), b._base is a, b._version
    run(fn)


# -- tensordot's dims as PyTorch's front end reads them ----------------------------------------------------
@pytest.mark.parametrize('dims', ['3', 'L.tensor(1)', 'L.tensor([[1], [0]])', '-1', '2', '1', '0', '([0, 1], [1, 0])',
                                  '[[1], [0]]', '(1, 0)', '([1],)', '1.5', 'L.tensor([1, 0])', 'L.tensor(-1)',
                                  'L.tensor([[1, 2], [0, 1]])', '([-1], [0])', '([], [])'])
def test_tensordot_dims(dims):
    for a, b in (('L.ones(2, 3)', 'L.ones(3, 2)'), ('L.arange(24.).reshape(2, 3, 4)', 'L.arange(24.).reshape(3, 4, 2)'),
                 ('L.ones(3)', 'L.ones(3)'), ('L.ones(2, 1)', 'L.ones(3, 2)')):
        run(lambda L: L.tensordot(eval(a, {'L': L}), eval(b, {'L': L}), dims=eval(dims, {'L': L})),  # noqa: S307
            message=True)


def test_tensordot_gradient():
    check(lambda L, a, b: L.tensordot(a, b, dims=([1, 0], [0, 2])), (3, 2, 4), (2, 5, 3))
    check(lambda L, a, b: L.tensordot(a, b, dims=L.tensor(1)), (3, 2), (2, 4))


# -- xlogy/xlog1py of the half types: numbers become the half type, log(y) rounds before the product ----------
@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
@pytest.mark.parametrize('number', [2, 2.5, 300, 0.1, -1, 0, float('nan'), True])
def test_xlogy_of_half_types(dtype, number):
    def fn(L):
        x = L.tensor([3., -5, 7, 0, 0.3]).to(getattr(L, dtype))
        return (L.xlogy(x, number), L.xlogy(number, x.abs()), L.special.xlog1py(x, number),
                L.special.xlog1py(number, x), L.xlogy(x, x.abs()), L.xlogy(x, L.tensor(number)))
    run(fn)


# -- integer and floating division and remainder signs, by zero, and fmod's tensor-first signature ----------
@pytest.mark.parametrize('dtype', ['int8', 'int16', 'int32', 'int64', 'uint8', 'float16', 'bfloat16', 'float32',
                                   'float64'])
def test_division_and_remainder_signs(dtype):
    def operands(L):
        return (L.tensor([-7, 7, -7, 7, 0, -128, 5]).to(getattr(L, dtype)),
                L.tensor([2, -2, -2, 2, 3, -1, 1]).to(getattr(L, dtype)))
    for op in ('floor_divide', 'remainder', 'fmod'):
        run(lambda L: getattr(L, op)(*operands(L)), message=True)
        run(lambda L: getattr(L, op)(operands(L)[0], -3), message=True)
        run(lambda L: getattr(L, op)(operands(L)[0], 2.5), message=True)
        run(lambda L: getattr(L, op)(-9, operands(L)[1]), message=True)
        run(lambda L: getattr(L, op)(operands(L)[0], L.zeros(7).to(getattr(L, dtype))), message=True)
    for mode in (None, 'floor', 'trunc'):
        run(lambda L: L.div(*operands(L), rounding_mode=mode), message=True)
    run(lambda L: (operands(L)[0] // operands(L)[1], operands(L)[0] % operands(L)[1], -7 % operands(L)[1],
                   -7 // operands(L)[1]), message=True)


@pytest.mark.parametrize('dtype', ['float16', 'bfloat16', 'float32', 'float64', 'int32', 'uint8', 'bool'])
def test_sinc_of_every_real_dtype(dtype):
    run(lambda L: L.sinc(L.tensor([0, 1, -2, 3, 100, -1, 0.5, 0.25, 1e-3, 7.5]).to(getattr(L, dtype))))
    run(lambda L: L.sinc(L.linspace(-4, 4, 101).to(getattr(L, dtype))))


def test_sinc_of_float16_gradient():
    def fn(L):
        x = L.linspace(-2, 2, 9).half().requires_grad_()
        L.sinc(x).sum().backward()
        return x.grad
    run(fn, tol=1e-3)


# -- logsumexp / logcumsumexp of float16 round as PyTorch's (a float32 sum, a float32 scan) -----------------
HALF_INPUTS = ['(L.arange(24, dtype=L.float64).reshape(2, 3, 4) % 5 - 1)',
               'L.linspace(-3, 5, 60, dtype=L.float64).reshape(3, 4, 5).sin() * 4',
               'L.arange(300, dtype=L.float64).reshape(3, 100).cos() * 3']


@pytest.mark.parametrize('x', HALF_INPUTS)
@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
def test_logsumexp_and_logcumsumexp_of_half_types(x, dtype):
    for dim in (0, 1, -1):
        run(lambda L: L.logsumexp(eval(x, {'L': L}).to(getattr(L, dtype)), dim))   # noqa: S307
        run(lambda L: L.logcumsumexp(eval(x, {'L': L}).to(getattr(L, dtype)), dim))   # noqa: S307
    run(lambda L: L.logsumexp(eval(x, {'L': L}).to(getattr(L, dtype)), (0, 1)))   # noqa: S307


@pytest.mark.parametrize('exponent', [1.3, 0.7, 2.2, 3.1, -1.3, 0.1, 2.0, 3.0, 2, -2])
def test_float16_power_takes_the_exponent_as_a_half(exponent):
    run(lambda L: L.pow(L.linspace(0.1, 3, 30).half(), exponent))
    run(lambda L: L.linspace(0.1, 3, 30).half() ** exponent)
