"""Corners a differential fuzzer over PyTorch's OpInfo samples (every dtype, strided and 0-d inputs, the ops' own
keyword arguments) found differing from PyTorch. Each row runs one program on both libraries and compares the
results bit for bit (dtype, shape, values), or that both raise the same exception type with PyTorch's first line."""
import numpy as np
import pytest

from helpers import run_both as run


def _case(src):
    """A row's program as ``fn(L)``: the expression ``src`` with ``L`` the library."""
    return lambda L: eval(src, {'L': L})   # noqa: S307 - the rows below are the only sources


# -- two Python numbers: add/sub/mul/div/true_divide/floor_divide wrap both (a float in the default dtype), the
# other binary ops refuse them -------------------------------------------------------------------------------
NUMBERS = ['L.add(2.5, 3)', 'L.add(True, 2.5)', 'L.add(-7, 2.5, alpha=2)', 'L.sub(2.5, -7)', 'L.sub(True, 3)',
           'L.mul(2.5, True)', 'L.multiply(3, 2.5)', 'L.subtract(2.5, 1)', 'L.div(True, 3)', 'L.div(7, 2)',
           'L.divide(-7, 2.5)', 'L.true_divide(3, 7)', 'L.floor_divide(7, 2.5)', 'L.floor_divide(7, 2)',
           'L.div(-7, 2, rounding_mode="trunc")', 'L.div(7.5, 2, rounding_mode="floor")', 'L.add(1 + 2j, 2.5)',
           'L.eq(2.5, 3)', 'L.lt(1, 2)', 'L.bitwise_and(3, 1)', 'L.bitwise_left_shift(1, 2)', 'L.dist(2.5, 1.)',
           'L.remainder(7, 2)', 'L.xlogy(2., 3.)', 'L.atan2(1., 2.)', 'L.mul(L.tensor(2), 2.5)']


@pytest.mark.parametrize('src', NUMBERS)
def test_two_numbers(src):
    run(_case(src), message=True)


# -- addr: bools as PyTorch's kernel ((beta and x) or (alpha and a and b)); each op rounded in the dtype --------
ADDR = ['L.addr(L.zeros(2, 3, dtype=L.bool), L.tensor([True, False]), L.tensor([True, True, False]), beta=3, alpha=2)',
        'L.addr(L.ones(2, 3, dtype=L.bool), L.tensor([True, False]), L.tensor([True, True, False]), beta=0)',
        'L.addr(L.ones(2, 3, dtype=L.bool), L.tensor([True, False]), L.tensor([True, True, False]), alpha=0)',
        'L.ones(2, 3, dtype=L.bool).addr_(L.tensor([True, False]), L.tensor([False, True, False]), beta=0, alpha=5)',
        'L.addr(L.linspace(-3, 3, 6).reshape(2, 3).bfloat16(), L.tensor([1.3, -2.7]).bfloat16(), '
        'L.tensor([0.7, 1.9, -3.1]).bfloat16(), beta=0.6, alpha=0.2)',
        'L.addr(L.tensor(1.7).half(), L.tensor([1.3, -2.7]).half(), L.tensor([0.7, 1.9, -3.1]).half(), alpha=0.3)',
        'L.addr(L.linspace(-3, 3, 6).reshape(2, 3), L.tensor([1.3, -2.7]), L.tensor([0.7, 1.9, -3.1]), alpha=0.3)',
        'L.addr(L.ones(2, 3, dtype=L.int32), L.tensor([1, -2], dtype=L.int32), L.tensor([5, 3, 1], dtype=L.int32), '
        'beta=2, alpha=3)',
        'L.addr(L.ones(2, 3), L.tensor([1, -2]), L.tensor([True, False, True]), beta=0)']


@pytest.mark.parametrize('src', ADDR)
def test_addr(src):
    run(_case(src), message=True, tol=0)


# -- the addmm family with integer tensors takes beta and alpha truncated (no float promotion); addbmm adds one
# product per batch into the result, each rounded to the dtype, and keeps the batches' integer dtype ----------
I3 = 'L.arange(12, dtype=L.{0}).reshape(3, 2, 2) - 5'
PRODUCTS = ['L.addmv(L.tensor([1, 2]), L.tensor([[1, 2], [3, 4]]), L.tensor([5, 6]), beta=0.2, alpha=0.6)',
            'L.addmv(L.tensor([1, 2]), L.tensor([[1, 2], [3, 4]]), L.tensor([5, 6]), beta=2.7, alpha=-1.6)',
            'L.tensor([1, 2]).addmv_(L.tensor([[1, 2], [3, 4]]), L.tensor([5, 6]), beta=2.7, alpha=1.6)',
            'L.addmm(L.ones(2, 2, dtype=L.int32), L.ones(2, 2, dtype=L.int32), L.ones(2, 2, dtype=L.int32), '
            'beta=0.2, alpha=2.6)',
            'L.baddbmm(L.ones(1, 2, 2, dtype=L.int16), ' + I3.format('int16') + ', ' + I3.format('int16') +
            ', beta=0.2, alpha=2.6)',
            'L.addbmm(L.ones(2, 2, dtype=L.int32), ' + I3.format('int32') + ', ' + I3.format('int32') + ')',
            'L.addbmm(L.ones(2, 2, dtype=L.uint8), ' + I3.format('uint8') + ', ' + I3.format('uint8') + ', beta=2)',
            'L.addbmm(L.ones(2, 2, dtype=L.int64), ' + I3.format('int64') + ', ' + I3.format('int64') +
            ', beta=0.6, alpha=1.2)',
            'L.addbmm(L.tensor(float("nan")), L.ones(0, 2, 2), L.ones(0, 2, 2), beta=0)',
            'L.addbmm(L.tensor([-0.0, 1.5]), L.ones(0, 2, 2), L.ones(0, 2, 2), beta=3)',
            'L.addbmm(L.linspace(-1, 1, 4).reshape(2, 2).bfloat16(), L.linspace(-3, 3, 12).reshape(3, 2, 2).bfloat16(),'
            ' L.linspace(-2, 5, 12).reshape(3, 2, 2).bfloat16(), beta=0.6, alpha=0.2)',
            'L.addbmm(L.tensor(0.3).half(), L.linspace(-3, 3, 12).reshape(3, 2, 2).half() / 7,'
            ' L.linspace(-2, 5, 12).reshape(3, 2, 2).half() / 3, alpha=1.7)',
            'L.addr(L.ones(2, 2, dtype=L.int64), L.ones(2, dtype=L.int64), L.ones(2, dtype=L.int64), alpha=0.5)',
            'L.addmm(L.full((2, 2), float("nan")), L.ones(2, 3), L.ones(3, 2), beta=0)',
            'L.addmm(L.tensor([float("inf"), 1.]), L.ones(2, 3), L.ones(3, 2), beta=0, alpha=0.5)',
            'L.addmm(L.full((2, 2), float("nan")).bfloat16(), L.ones(2, 3).bfloat16(), L.ones(3, 2).bfloat16(), beta=0)',
            'L.addbmm(L.full((2, 2), float("nan")), L.ones(3, 2, 2), L.ones(3, 2, 2), beta=0)']


@pytest.mark.parametrize('src', PRODUCTS)
def test_products_scalars_and_rounding(src):
    run(_case(src), message=True, tol=0)


# -- refusals and edge arguments: diff n=0 reads neither prepend nor append (but checks their shapes), bool
# tensors where PyTorch has no kernel, linspace/logspace's tensor bounds and bool with one step ------------------
X = 'L.arange(6.).reshape(2, 3)'
EDGES = ['L.diff(' + X + ', n=0, dim=1, append=L.ones(2, 2))', 'L.diff(' + X + ', n=0, prepend=L.ones(1, 3))',
         'L.diff(' + X + ', n=1, append=L.ones(1, 3))', 'L.diff(' + X + ', n=0, prepend=L.ones(3))',
         'L.clamp(L.tensor([True, False]), L.tensor([False, False]), L.tensor([True, True]))',
         'L.clamp(L.tensor([True, False]), min=L.tensor([False, True]))',
         'L.clamp(L.tensor([0, 1]), L.tensor([True, False]), L.tensor([True, True]))',
         'L.cov(L.tensor([True, False]))', 'L.corrcoef(L.tensor([[True, False], [True, True]]))',
         'L.isin(L.tensor([True, False]), L.tensor([True]))', 'L.isin(L.tensor([1, 2]), L.tensor([True]))',
         'L.isin(L.tensor([True, False]), True)', 'L.isin(L.tensor([1, 2]), 2)',
         'L.tensor([True, False]).geometric_(0.2)',
         'L.logspace(L.tensor(0), L.tensor(2), 3, base=2)', 'L.logspace(L.tensor(0.5), 2, 4, dtype=L.float64)',
         'L.logspace(L.tensor([0]), 2, 3)', 'L.linspace(L.tensor([0]), 2, 3)',
         'L.linspace(-2., -3, 1, dtype=L.bool)', 'L.linspace(-2., -3, 0, dtype=L.bool)',
         'L.linspace(-2., -3, 2, dtype=L.bool)', 'L.logspace(0, -3, 1, dtype=L.bool)',
         'L.tensor(3, dtype=L.int32).sum_to_size(())', 'L.tensor(True).sum_to_size([])',
         'L.ones(2, 3, dtype=L.int32).sum_to_size((1, 3))']


@pytest.mark.parametrize('src', EDGES)
def test_edges_and_refusals(src):
    run(_case(src), message=True, tol=0)


# -- NaN through threshold/hardshrink/softshrink (PyTorch's comparisons keep it; softshrink's band is x * 0, so
# -0.0 for a negative x), forward and gradients ------------------------------------------------------------------
SHRINKS = ['F.threshold({}, 0.5, -9.)', 'F.threshold({}, float("nan"), -9.)', 'F.hardshrink({})',
           'F.hardshrink({}, 0.)', 'F.softshrink({})', 'F.softshrink({}, 0.)', 'F.threshold({}.bfloat16(), 0.5, 2.)',
           'F.softshrink({}.double(), 1.5)']


@pytest.mark.parametrize('src', SHRINKS)
def test_shrinks_keep_nan(src):
    def fn(L):
        F = L.nn.functional
        x = L.tensor([float('nan'), 1., -1., 0.5, -0.5, 0.2, -0.0, float('inf'), -2.], requires_grad=True)
        y = eval(src.format('x'), {'F': F, 'L': L})   # noqa: S307 - SHRINKS are the only sources
        g, = L.autograd.grad(y.float().sum(), x, create_graph=True)
        return y, L.signbit(y), g, y.grad_fn.name()
    run(fn, message=True, tol=0)


# -- rms_norm of float16/bfloat16 in float32 (x * x overflowed float16 from 256), the weight applied there, one
# rounding; losses on integer inputs, 0-d inputs, empty local_response_norm --------------------------------------
RMS = '(L.tensor([[[43.25, 463.25, 671.], [0.3, -2.1, 4.4]], [[1.2, 0.05, -0.7], [396.5, 20.2, -253.1]]]).{})'
NORM_LOSS = ['F.rms_norm(' + RMS.format('half()') + ', [3])',
             'F.rms_norm(' + RMS.format('half()') + ', [2, 3], eps=0.5)',
             'F.rms_norm(' + RMS.format('bfloat16()') + ', [3], L.tensor([1.5, -2., 3.]).bfloat16())',
             'F.rms_norm(' + RMS.format('half()') + ', [1, 3], L.tensor([[0.2, 7., -3.]]).half(), eps=1e-3)',
             'F.rms_norm(' + RMS.format('half().requires_grad_()') + ', [3]).grad_fn.name()',
             'F.margin_ranking_loss(L.tensor([1, 2]), L.tensor([2, 1]), L.tensor([1, -1]), reduction="sum")',
             'F.margin_ranking_loss(L.tensor([1, 2]), L.tensor([2, 1]), L.tensor([1, -1]))',
             'F.margin_ranking_loss(L.tensor([1., -0.5]), L.tensor([2., -0.5]), L.tensor([-1., 1.]), reduction="none")',
             'F.soft_margin_loss(L.tensor(1), L.tensor(1))',
             'F.soft_margin_loss(L.tensor([1, 2]), L.tensor([1, -1]), reduction="none")',
             'F.soft_margin_loss(L.tensor([1., 2.]), L.tensor([1, -1]))',
             'F.multi_margin_loss(L.tensor(0.5), L.tensor(0))', 'F.multilabel_margin_loss(L.tensor(0.5), L.tensor(0))',
             'F.multi_margin_loss(L.tensor(0.5, requires_grad=True), L.tensor(0), reduction="none")',
             'F.local_response_norm(L.ones(0, 1, 2, dtype=L.int64), 1)']


@pytest.mark.parametrize('src', NORM_LOSS)
def test_norms_and_losses(src):
    run(lambda L: eval(src, {'L': L, 'F': L.nn.functional}), message=True, tol=0)   # noqa: S307


# -- round(decimals=...) is PyTorch's decimals overload whenever given (RoundBackward1, no integer kernel); tensor_split
# takes a 0-d int64 tensor as a number of sections ------------------------------------------------------------------
ROUND_SPLIT = ['L.round(L.tensor([1, 2]), decimals=0)', 'L.tensor([1, 2]).round_(decimals=0)', 'L.round(L.tensor([1, 2]))',
               'L.round(L.tensor([1.5, 2.5, -0.5]).requires_grad_(), decimals=0).grad_fn.name()',
               'L.round(L.tensor([1.5, 2.5, -0.5]).requires_grad_()).grad_fn.name()',
               'L.round(L.tensor([2.5, -0.5, 1.45]).half(), decimals=0)', 'L.round(L.tensor([2.5, 1.45]), decimals=1)',
               'L.tensor_split(L.arange(5.), L.tensor(2))', 'L.tensor_split(L.arange(10.).reshape(5, 2), L.tensor([1, 3]))',
               'L.tensor_split(L.arange(5.), L.tensor(2.))', 'L.tensor_split(L.arange(5.), L.tensor([[1]]))',
               'L.tensor_split(L.arange(5.), 0)', 'L.tensor_split(L.arange(5.), L.tensor(-1))']


@pytest.mark.parametrize('src', ROUND_SPLIT)
def test_round_and_tensor_split(src):
    run(_case(src), message=True, tol=0)


# -- out=: vdot and the cholesky family take it (TypeError), with PyTorch's dtype checks; the factories refuse a
# dtype= that is not out='s (ember made the tensor in out's dtype) ------------------------------------------------
SPD = 'L.tensor([[4., 1.], [1., 3.]])'
OUTS = ['L.vdot(L.tensor([1., 2.]), L.tensor([3., -1.]), out=L.empty(0))',
        'L.vdot(L.tensor([1., 2.]), L.tensor([3., -1.]), out=L.empty(0, dtype=L.float64))',
        'L.cholesky(' + SPD + ', out=L.empty(0, dtype=L.float64))', 'L.cholesky(' + SPD + ', True, out=L.empty(0))',
        'L.cholesky(' + SPD + ', out=L.empty(0, dtype=L.int64))',
        'L.cholesky_inverse(' + SPD + ', out=L.empty(0, dtype=L.float64))',
        'L.cholesky_solve(' + SPD + ', ' + SPD + ', out=L.empty(0))',
        'L.cholesky_solve(' + SPD + ', ' + SPD + ', out=L.empty(0, dtype=L.int64))']
FACTORIES = ['L.linspace(0, 1, 3, {})', 'L.logspace(0, 1, 3, {})', 'L.arange(0, 3, {})', 'L.zeros(3, {})',
             'L.ones(3, {})', 'L.full((3,), 1., {})', 'L.empty(3, {}).shape', 'L.rand(3, {}).shape',
             'L.randn(3, {}).shape', 'L.eye(3, {})', 'L.range(0, 3, {})']
FACTORY_ARGS = ['dtype=L.float32, out=L.empty(0, dtype=L.float64)', 'dtype=L.float64, out=L.empty(0, dtype=L.float64)',
                'out=L.empty(0, dtype=L.float64)']


@pytest.mark.parametrize('src', OUTS + [f.format(a) for f in FACTORIES for a in FACTORY_ARGS] +
                         ['L.randint(3, (2,), dtype=L.int32, out=L.empty(0, dtype=L.int64)).shape',
                          'L.randperm(3, dtype=L.int32, out=L.empty(0, dtype=L.int64)).shape'])
def test_out_forms(src):
    run(_case(src), message=True, tol=1e-6 if 'cholesky_' in src else 0)   # (LAPACK's float32 rounding)


# -- reductions into an out of another floating dtype compute in out's dtype (mean/nanmean/nansum/std/var; std and
# var over all elements into a wider out excepted, as PyTorch); a dtype= other than out's is refused -------------
R = 'L.tensor([[0.3, -2.1, 4.4, 1.7, -0.9], [1.2, 0.05, -0.7, 3.3, 2.2], [-1.9, 0.6, 0.81, -4.2, 1.1]]){}'
REDUCE_OUTS = ['L.mean(' + R.format('.double()') + ', 0, out=L.empty(0))', 'L.mean(' + R.format('') + ', 1, out=L.empty(0, dtype=L.float64))',
               'L.nanmean(' + R.format('.double()') + ', 0, out=L.empty(0))', 'L.nansum(' + R.format('.double()') + ', 0, out=L.empty(0))',
               'L.std(' + R.format('.double()') + ', 1, out=L.empty(0))', 'L.var(' + R.format('.double()') + ', 1, correction=2, out=L.empty(0))',
               'L.std(' + R.format('') + ', out=L.empty(0, dtype=L.float64))', 'L.var(' + R.format('') + ', 0, out=L.empty(0, dtype=L.float16))',
               'L.mean(' + R.format('') + ', 0, out=L.empty(0, dtype=L.int64))',
               'L.sum(' + R.format('') + ', 0, dtype=L.float64, out=L.empty(0))', 'L.prod(' + R.format('') + ', 0, dtype=L.float64, out=L.empty(0))',
               'L.cumsum(' + R.format('') + ', 0, dtype=L.float64, out=L.empty(0))', 'L.mean(' + R.format('') + ', 0, dtype=L.float64, out=L.empty(0))',
               'L.nansum(' + R.format('') + ', 0, dtype=L.float64, out=L.empty(0))', 'L.nanmean(' + R.format('') + ', 0, dtype=L.float64, out=L.empty(0))',
               'L.mean(' + R.format('') + ', 0, dtype=L.float32, out=L.empty(0))']


@pytest.mark.parametrize('src', REDUCE_OUTS)
def test_reductions_into_out(src):
    run(_case(src), message=True, tol=0)


# -- uniform_ in bfloat16: a sample the cast rounds up to ``to`` becomes ``from``, as PyTorch's (was ``to``) ----------
@pytest.mark.parametrize('bounds', [(1, 2), (0, 1), (-3, 5), (0.5, 0.75), (-0.1, 0.1)])
def test_uniform_bfloat16_half_open(bounds):
    def fn(L):
        L.manual_seed(0)
        x = L.empty(4000, dtype=L.bfloat16).uniform_(*bounds)
        return x, (x == L.tensor(bounds[1], dtype=L.bfloat16)).sum()
    run(fn, tol=0)


# -- rounded division of float16/bfloat16 tensors: each op rounded to the dtype (trunc of the rounded quotient), a
# single-element divisor in float32 throughout, as PyTorch's two kernels ------------------------------------------
@pytest.mark.parametrize('dtype', ['bfloat16', 'float16'])
@pytest.mark.parametrize('form', ['L.div(x, y, rounding_mode="trunc")', 'L.div(x, y, rounding_mode="floor")',
                                  'L.floor_divide(x, y)', 'L.div(x, y[:1], rounding_mode="trunc")',
                                  'L.floor_divide(x, y[0])', 'x // y'])
def test_reduced_rounded_division(dtype, form):
    def fn(L):
        g = L.Generator().manual_seed(0)
        x = (L.randn(3000, generator=g) * 50).to(getattr(L, dtype))
        y = (L.randn(3000, generator=g) * 0.7).to(getattr(L, dtype))
        x[:4], y[:4] = L.tensor([0., -0., 5., float('inf')]), L.tensor([0., 3., -0., 2.5])
        r = eval(form, {'L': L, 'x': x, 'y': y})   # noqa: S307 - the forms above
        return r, L.signbit(r)
    run(fn, tol=0)


# -- dtype conversions with memory_format keep a 0-d tensor 0-d (they gave shape [1]) ---------------------------------
@pytest.mark.parametrize('form', ['x.double(memory_format=L.contiguous_format)', 'x.half(memory_format=L.contiguous_format)',
                                  'x.long(memory_format=L.contiguous_format)', 'x.bool(memory_format=L.preserve_format)',
                                  'x.to(L.float64, memory_format=L.contiguous_format)',
                                  'x.to(L.float32, memory_format=L.contiguous_format, copy=True)',
                                  'x.bfloat16(memory_format=L.contiguous_format)'])
def test_zero_dim_conversions(form):
    def fn(L):
        x = L.tensor(1.5, requires_grad=True)
        y = eval(form, {'L': L, 'x': x})   # noqa: S307 - the forms above
        return y, y.stride(), None if y.grad_fn is None else y.grad_fn.name()
    run(fn, tol=0)


# -- 0-d operands: repeat/tile with no repeats keep 0-d (gave [1]); torch.special's polynomials of 0-d x and n (raised
# IndexError) ----------------------------------------------------------------------------------------------------
ZERO_D = ['L.tensor(0.3).repeat([])', 'L.tensor(0.3).repeat(())', 'L.tile(L.tensor(0.3), ())', 'L.tile(L.tensor(0.3), [])',
          'L.tensor(0.3).repeat(2, 3)', 'L.tensor(0.3, requires_grad=True).repeat([]).grad_fn.name()'] + [
    f'L.special.{p}(L.tensor(0.3), {n})' for p in ('chebyshev_polynomial_t', 'hermite_polynomial_h', 'legendre_polynomial_p',
                                                     'laguerre_polynomial_l', 'shifted_chebyshev_polynomial_w')
    for n in ('L.tensor(3.)', '3', 'L.tensor([0., 2., 5.])')]


@pytest.mark.parametrize('src', ZERO_D)
def test_zero_dim_operands(src):
    run(_case(src), tol=1e-6)


# -- tril/triu_indices take int32/int64 only; scalar_tensor's checked integer conversion; tensordot over a broadcast
# (size-1) dim keeps an int32 dtype (raised: the summed operand became int64) -------------------------------------
MISC = ['L.triu_indices(3, 3, dtype=L.uint8)', 'L.tril_indices(0, 0, dtype=L.int16)', 'L.triu_indices(3, 3, dtype=L.float32)',
        'L.tril_indices(3, 4, 1, dtype=L.int32)', 'L.scalar_tensor(-5, dtype=L.uint8)', 'L.scalar_tensor(300, dtype=L.int8)',
        'L.scalar_tensor(2.7, dtype=L.int32)', 'L.scalar_tensor(-2.7, dtype=L.int64)', 'L.scalar_tensor(3, dtype=L.bool)',
        'L.tensordot(L.ones(1, 1, 1, dtype=L.int32), L.ones(2, 1, 2, dtype=L.int32), dims=([0, 1], [2, 0]))',
        'L.tensordot(L.ones(1, 3, dtype=L.bool), L.ones(2, 3, dtype=L.bool), dims=([0], [0]))',
        'L.tensordot(L.arange(4.).reshape(1, 1, 4), L.arange(8.).reshape(2, 1, 4), dims=([0, 1], [0, 1]))']


@pytest.mark.parametrize('src', MISC)
def test_index_factories_and_tensordot(src):
    run(_case(src), message=True, tol=0)


# -- gcd/lcm as PyTorch's C kernels: the lowest signed value stays negative through abs, lcm wraps in C's int ------------
@pytest.mark.parametrize('dtype', ['int8', 'uint8', 'int16', 'int32', 'int64'])
@pytest.mark.parametrize('fn', ['gcd', 'lcm'])
def test_gcd_lcm_wrapping(dtype, fn):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(0)
    a, b = (rng.integers(info.min, info.max, 500, endpoint=True).astype(dtype) for _ in range(2))
    a[:6], b[:6] = [info.min, info.min, 0, info.max, info.min, 0], [0, info.min, info.min, info.min, 1, 0]
    a[6:200] //= 37
    b[6:200] //= 53
    run(lambda L: getattr(L, fn)(L.tensor(a), L.tensor(b)), tol=0)
