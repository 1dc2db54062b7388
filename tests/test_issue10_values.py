"""Issue 10, no silent wrong answers: values, errors and empty-tensor cases where ember once differed from
PyTorch (creation rounding, integer sorting and division, indexing bounds, losses, empties)."""
import numpy as np
import pytest
import torch

import ember
from helpers import assert_same, check

LIBS = (torch, ember)


def same(fn, atol=1e-6, rtol=1e-5):
    """``fn(lib)`` gives the same result (values, dtype, shape) on ember as on PyTorch."""
    assert_same(fn(ember), fn(torch), atol=atol, rtol=rtol)


def raises_like(fn, match=None):
    """``fn(lib)`` raises the same exception type on ember as on PyTorch (and ember's message matches)."""
    with pytest.raises(Exception) as t:
        fn(torch)
    with pytest.raises(type(t.value), match=match):
        fn(ember)


# -- creation: data is converted straight to the requested dtype -------------------------------------------

DATA = [0.1, 1e40, 1e-50, 2**70]


@pytest.mark.parametrize('make', [
    lambda L: L.tensor(DATA, dtype=L.float64),
    lambda L: L.tensor(0.1, dtype=L.float64),
    lambda L: L.tensor([[0.1, 1e-50], [3, True]], dtype=L.float64),
    lambda L: L.as_tensor(DATA, dtype=L.float64),
    lambda L: L.DoubleTensor(DATA),
    lambda L: L.zeros(1, dtype=L.float64).new_tensor(DATA),
    lambda L: L.tensor(DATA[:2], dtype=L.float32),
    lambda L: L.tensor([1.7, -2.5], dtype=L.int64),
])
def test_creation_exact_in_requested_dtype(make):
    e, t = make(ember), make(torch)
    assert repr(e.dtype) == repr(t.dtype)
    assert e.tolist() == t.tolist()


# -- sorting integers and NaN --------------------------------------------------------------------------------

@pytest.mark.parametrize('vals,dt', [([0, 255, 3, 255, 128], 'uint8'), ([-128, 127, 0, -1, 5], 'int8'),
                                     ([-2**63, 2**63 - 1, 0, -1, -2**63], 'int64'),
                                     ([True, False, True, False, False], 'bool'),
                                     ([1., float('nan'), 3., float('inf'), -float('inf'), float('nan')], 'float32')])
def test_sort_topk_descending(vals, dt):
    same(lambda L: L.sort(L.tensor(vals, dtype=getattr(L, dt)), descending=True))
    same(lambda L: L.argsort(L.tensor(vals, dtype=getattr(L, dt)), descending=True))
    same(lambda L: L.sort(L.tensor(vals, dtype=getattr(L, dt))))
    if dt != 'bool':
        same(lambda L: L.topk(L.tensor(vals, dtype=getattr(L, dt)), 3)[0])     # tie order is unspecified
        same(lambda L: L.topk(L.tensor(vals, dtype=getattr(L, dt)), 2, largest=False)[0])


def test_sort_topk_0d_and_k_out_of_range():
    check(lambda L, x: L.sort(x.reshape(()), descending=True)[0], (1,))
    check(lambda L, x: L.topk(x.reshape(()), 1)[0], (1,))
    raises_like(lambda L: L.topk(L.tensor([1, 2]), 3), 'selected index k out of range')


# -- index bounds --------------------------------------------------------------------------------------------

@pytest.mark.parametrize('fn', [
    lambda L: L.gather(L.arange(6.).reshape(2, 3), 1, L.tensor([[-1], [0]])),
    lambda L: L.gather(L.arange(6.).reshape(2, 3), 1, L.tensor([[3], [0]])),
    lambda L: L.index_select(L.arange(6.).reshape(2, 3), 1, L.tensor([-1])),
    lambda L: L.index_select(L.arange(6.).reshape(2, 3), 1, L.tensor([3])),
    lambda L: L.scatter(L.zeros(2, 3), 1, L.tensor([[-1], [0]]), 1.),
    lambda L: L.tensor(5.).index_select(0, L.tensor([0, 0])),
])
def test_index_out_of_range_raises(fn):
    raises_like(fn)


def test_gather_0d():
    check(lambda L, x: L.gather(x.reshape(()), 0, L.tensor([0, 0])), (1,))


# -- integer division by zero ---------------------------------------------------------------------------------

@pytest.mark.parametrize('fn', [
    lambda L: L.tensor([5, -3]) // 0, lambda L: L.tensor([5, -3]) % 0,
    lambda L: L.tensor([5, -3]) // L.tensor([1, 0]), lambda L: L.remainder(L.tensor([5, -3]), L.tensor([0, 1])),
    lambda L: L.fmod(L.tensor([5, -3]), 0), lambda L: 5 // L.tensor([0]), lambda L: 5 % L.tensor([0]),
    lambda L: L.div(L.tensor([5, -3]), 0, rounding_mode='floor'),
    lambda L: L.div(L.tensor([5, -3]), 0, rounding_mode='trunc'),
    lambda L: L.tensor([5], dtype=L.uint8) // 0, lambda L: L.tensor([5, 3]).floor_divide_(0),
])
def test_integer_division_by_zero_raises(fn):
    raises_like(fn, 'ZeroDivisionError')


def test_float_division_by_zero_still_inf_nan():
    same(lambda L: L.tensor([5., -3., 0.]) // 0)
    same(lambda L: L.tensor([5., -3., 0.]) % 0)
    same(lambda L: L.tensor([5, -3]) // 2)


# -- narrow --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('args', [(0, 3, 3), (0, 6, 0), (0, -6, 1), (0, 1, -1), (2, 0, 1)])
def test_narrow_out_of_range_raises(args):
    raises_like(lambda L: L.arange(5).narrow(*args))


def test_narrow_in_range():
    same(lambda L: L.arange(5).narrow(0, -2, 2))
    same(lambda L: L.arange(5).narrow(0, 5, 0))
    raises_like(lambda L: L.tensor(1).narrow(0, 0, 1))


# -- losses ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('fn', [
    lambda L, x, t: L.nn.functional.cross_entropy(x, t),
    lambda L, x, t: L.nn.functional.cross_entropy(x, t, reduction='sum'),
    lambda L, x, t: L.nn.functional.cross_entropy(x, t, reduction='none'),
    lambda L, x, t: L.nn.functional.cross_entropy(x, t, label_smoothing=0.1),
    lambda L, x, t: L.nn.functional.cross_entropy(x, t, weight=L.tensor([1., 2., 3., 4.])),
    lambda L, x, t: L.nn.functional.nll_loss(x, t),
    lambda L, x, t: L.nn.functional.cross_entropy(x, t * 0 + 1, ignore_index=1),
])
def test_all_targets_ignored_gives_nan_loss_zero_grad(fn):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    res = []
    for L in LIBS:
        xt = L.tensor(x, requires_grad=True)
        out = fn(L, xt, L.tensor([-100, -100, -100]))
        out.sum().backward()
        res.append((out, xt.grad))
    assert_same(res[1], res[0])


def test_all_ignored_batch_leaves_optimizer_step_finite():
    for L in LIBS:
        lin = L.nn.Linear(4, 3)
        opt = L.optim.SGD(lin.parameters(), lr=0.1)
        L.nn.functional.cross_entropy(lin(L.ones(2, 4)), L.tensor([-100, -100])).backward()
        opt.step()
        assert bool(L.isfinite(lin.weight).all())


@pytest.mark.parametrize('x,t', [([0.3, 0.6], [2., 0.]), ([0.3, 0.6], [-0.5, 0.]), ([1.5, 0.5], [1., 0.])])
def test_bce_out_of_range_raises(x, t):
    raises_like(lambda L: L.nn.functional.binary_cross_entropy(L.tensor(x), L.tensor(t)), 'between 0 and 1')


@pytest.mark.parametrize('dt', ['float64', 'int64', 'float16'])
def test_bce_mixed_dtypes_raise(dt):
    raises_like(lambda L: L.nn.functional.binary_cross_entropy(L.tensor([0.3, 0.6]),
                                                               L.tensor([1, 0], dtype=getattr(L, dt))), 'Found dtype')


LOSS_DTYPES = [('float32', 'float64'), ('float64', 'float32'), ('float32', 'int64'), ('float16', 'float32'),
               ('float32', 'float16')]


@pytest.mark.parametrize('name', ['mse_loss', 'l1_loss', 'smooth_l1_loss', 'huber_loss',
                                  'binary_cross_entropy_with_logits'])
@pytest.mark.parametrize('dx,dt', LOSS_DTYPES)
def test_loss_mixed_dtype_promotion(name, dx, dt):
    x, t = [0.3, -0.6, 1.7], [1, 0, 1]

    def run(L):
        xt = L.tensor(x, dtype=getattr(L, dx), requires_grad=True)
        return getattr(L.nn.functional, name)(xt, L.tensor(t, dtype=getattr(L, dt)))
    try:
        out_t = run(torch)
    except RuntimeError:
        raises_like(run)
        return
    out_e = run(ember)
    assert_same(out_e, out_t, atol=1e-3 if 'float16' in (dx, dt) else 1e-6, rtol=1e-3)


# -- median, nanmedian and NumPy's axis= spelling ---------------------------------------------------------------

NANROWS = np.array([[1., 5., 2., 2.], [3., np.nan, 0., 1.], [np.nan, np.nan, 4., 7.]], np.float32)


@pytest.mark.parametrize('fn', [
    lambda L, x: L.median(x), lambda L, x: x.median(1), lambda L, x: x.median(0, keepdim=True),
    lambda L, x: L.median(x, dim=-1), lambda L, x: x.nanmedian(), lambda L, x: L.nanmedian(x, 1, True),
    lambda L, x: x[0].median(), lambda L, x: x[0].median(0), lambda L, x: x[:1].nanmedian(),
])
def test_median(fn):
    check(fn, inputs=[NANROWS], gradcheck=False)


def test_median_gradcheck_and_ints():
    check(lambda L, x: L.median(x, 1), (3, 5))
    check(lambda L, x: L.median(x), (3, 5))
    check(lambda L, x: L.nanmedian(x, 0)[0], (4, 3))
    same(lambda L: L.tensor([[1, 3, 2, 4]]).median(1))
    same(lambda L: L.tensor(3.).median(0))
    raises_like(lambda L: L.zeros(3, 0).median(1))


@pytest.mark.parametrize('name', ['max', 'min', 'argmax', 'argmin', 'amax', 'amin', 'prod', 'logsumexp', 'all',
                                  'any', 'nansum', 'nanmean', 'median', 'nanmedian'])
def test_axis_alias(name):
    same(lambda L: getattr(L, name)(L.tensor([[1., 5., 2.], [3., 2., 0.]]), axis=1))
    same(lambda L: getattr(L.tensor([[1., 5., 2.], [3., 2., 0.]]), name)(axis=0, keepdims=True))


# -- pointwise and shape corners ---------------------------------------------------------------------------------

def test_sign_nan_is_zero():
    same(lambda L: L.sign(L.tensor([float('nan'), -1., 0., 2.])))
    same(lambda L: L.sgn(L.tensor([float('nan'), -1.])))


@pytest.mark.parametrize('name', ['maximum', 'minimum', 'max', 'min'])
def test_minmax_gradient_reaches_nan_operand(name):
    nan = np.nan
    check(lambda L, a, b: getattr(L, name)(a, b), inputs=[np.array([nan, 1., 2., 3.], np.float32),
                                                          np.array([1., nan, 2., 0.], np.float32)], gradcheck=False)


def test_full_max_gradient_with_nan():
    check(lambda L, a: L.max(a), inputs=[np.array([1., np.nan, 3., np.nan], np.float32)], gradcheck=False)


def test_square_bool_and_ints():
    same(lambda L: L.square(L.tensor([True, False])))
    same(lambda L: L.square(L.tensor([3, -2], dtype=L.int8)))


@pytest.mark.parametrize('name', ['cumsum', 'cumprod'])
def test_cumulative_of_0d(name):
    check(lambda L, x: getattr(L, name)(x.reshape(()), 0), (1,))
    check(lambda L, x: getattr(x.reshape(()), name)(-1), (1,))


@pytest.mark.parametrize('shape,chunks,dim', [((0,), 3, 0), ((0, 2), 2, 0), ((2, 0), 2, 1), ((5,), 3, 0),
                                              ((6,), 4, 0)])
def test_chunk(shape, chunks, dim):
    same(lambda L: L.zeros(shape).chunk(chunks, dim))
    raises_like(lambda L: L.zeros(shape).chunk(0))


def test_masked_fill_broadcasts_and_value_grad():
    check(lambda L, x: x.masked_fill(L.tensor([True, False, True]), 1.), (2, 3))
    check(lambda L, x: x.masked_fill(L.tensor([[True, False, True], [False, False, True]]), 1.), (3,))
    check(lambda L, x, v: x.masked_fill(L.tensor([True, False, True]), v.reshape(())), (2, 3), (1,))
    raises_like(lambda L: L.zeros(3).masked_fill_(L.tensor([[True, False, True], [False, False, True]]), 1.))
    raises_like(lambda L: L.zeros(2, 3).masked_fill(L.tensor([True, False, True]), L.tensor([2.])))


@pytest.mark.parametrize('args', [((1,),), (1,), ((1,), (0,)), ((1, 2), (0, 1)), ((-4,),)])
def test_roll(args):
    same(lambda L: L.arange(6).reshape(2, 3).roll(*args))


def test_roll_misaligned():
    raises_like(lambda L: L.arange(6).reshape(2, 3).roll((1, 2)), 'must align')


# -- empty tensors and errors NumPy must not word ---------------------------------------------------------------

def _grads(fn, *shapes):
    """fn(L, *leaves) summed and differentiated on both libraries: output and every leaf's gradient agree."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    res = []
    for L in LIBS:
        leaves = [L.tensor(a, requires_grad=True) for a in arrays]
        out = fn(L, *leaves)
        out.sum().backward()
        res.append((out, [t.grad for t in leaves]))
    assert_same(res[1], res[0])


@pytest.mark.parametrize('fn,shapes', [
    (lambda L, x, w, b: L.nn.functional.linear(x, w, b), [(2, 3), (0, 3), (0,)]),
    (lambda L, x, w, b: L.nn.functional.linear(x, w, b), [(0, 3), (2, 3), (2,)]),
    (lambda L, x: L.nn.functional.avg_pool2d(x, 2, ceil_mode=True), [(0, 2, 5, 5)]),
    (lambda L, x: L.nn.functional.avg_pool2d(x, 2, padding=1), [(0, 2, 5, 5)]),
    (lambda L, x: L.nn.functional.max_pool2d(x, 2, ceil_mode=True), [(0, 2, 5, 5)]),
    (lambda L, x: x.prod(), [(0, 0)]),
    (lambda L, x: x.prod(1), [(2, 0)]),
    (lambda L, x: x.prod(1), [(0, 3)]),
    (lambda L, x, w: L.nn.functional.conv2d(x, w, groups=2), [(0, 4, 5, 5), (6, 2, 3, 3)]),
    (lambda L, x, w: L.nn.functional.conv1d(x, w, groups=2), [(0, 4, 5), (6, 2, 3)]),
    (lambda L, x, w: L.nn.functional.conv_transpose2d(x, w, groups=2), [(0, 4, 5, 5), (4, 3, 3, 3)]),
    (lambda L, x: L.softmax(x, 1), [(2, 0)]),
    (lambda L, x: L.log_softmax(x, 1), [(2, 0)]),
    (lambda L, x: L.softmax(x, 0), [(0, 3)]),
    (lambda L, x: L.nn.functional.log_softmax(x, 0), [(0, 3)]),
])
def test_empty_tensor_forward_backward(fn, shapes):
    _grads(fn, *shapes)


@pytest.mark.parametrize('fn', [
    lambda L: L.nn.BatchNorm2d(3)(L.ones(2, 4, 3, 3)),
    lambda L: L.nn.BatchNorm1d(3)(L.ones(2, 4)),
    lambda L: L.nn.functional.batch_norm(L.ones(2, 4, 3), L.zeros(3), L.ones(3)),
    lambda L: L.nn.functional.batch_norm(L.ones(2, 4, 3), L.zeros(4), L.ones(4), weight=L.ones(3)),
    lambda L: L.nn.functional.batch_norm(L.ones(2, 4, 3), None, None, bias=L.ones(3), training=True),
    lambda L: L.nn.GroupNorm(2, 4)(L.ones(2, 6, 3)),
    lambda L: L.nn.functional.group_norm(L.ones(2, 4, 3), 2, L.ones(4), L.ones(3)),
    lambda L: L.ones(2, 3, dtype=L.bool) & L.ones(2, 4, dtype=L.bool),
    lambda L: L.ones(2, 3, dtype=L.int64) ^ L.ones(4, dtype=L.int64),
    lambda L: L.nn.functional.mse_loss(L.ones(2, 3), L.ones(2, 4)),
    lambda L: L.nn.functional.smooth_l1_loss(L.ones(2, 3), L.ones(2, 4)),
    lambda L: L.ones(3).tril(), lambda L: L.ones(3).triu(),
    lambda L: L.softmax(L.tensor([[1, 2]]), 0), lambda L: L.log_softmax(L.tensor([[1, 2]], dtype=L.uint8), 1),
    lambda L: L.nn.functional.cross_entropy(L.tensor([[1, 2]]), L.tensor([0])),
])
@pytest.mark.filterwarnings('ignore:Using a target size')
def test_errors_are_pytorchs_not_numpys(fn):
    with pytest.raises(Exception) as t:
        fn(torch)
    with pytest.raises(Exception) as e:
        fn(ember)
    assert type(e.value) is type(t.value), f'{type(e.value).__name__}: {e.value} (torch: {type(t.value).__name__})'
    assert str(e.value).startswith(str(t.value)[:30]), f'{e.value!s} (torch: {t.value!s})'


@pytest.mark.parametrize('fn', [
    lambda L: L.ones(2, 3).sum(5), lambda L: L.ones(2, 3).max(5), lambda L: L.ones(2, 3).softmax(5),
    lambda L: L.ones(2, 3).cumsum(-3), lambda L: L.ones(2, 3).median(5), lambda L: L.ones(2, 3).flip(5),
    lambda L: L.ones(2, 3).transpose(0, 5), lambda L: L.cat([L.ones(2, 3)] * 2, 5),
    lambda L: L.ones(2, 3).unsqueeze(5),
    lambda L: L.ones(2, 3) + L.ones(2, 4), lambda L: L.ones(2, 3) * L.ones(4, 1, 4),
])
def test_dim_and_broadcast_errors_worded_as_pytorch(fn):
    with pytest.raises(Exception) as t:
        fn(torch)
    with pytest.raises(type(t.value)) as e:
        fn(ember)
    assert str(e.value).startswith(str(t.value)), f'{e.value!s} (torch: {t.value!s})'


# -- Python sequences are not operands ---------------------------------------------------------------------------

@pytest.mark.parametrize('fn', [
    lambda L: L.tensor([1., 2.]) * [1, 2], lambda L: [1, 2] * L.tensor([1., 2.]),
    lambda L: L.tensor([1., 2.]) + [1, 2], lambda L: L.tensor([1., 2.]) + (1, 2),
    lambda L: [1, 2] + L.tensor([1., 2.]), lambda L: L.tensor([1., 2.]) - [1, 2], lambda L: [1, 2] - L.tensor([1.]),
    lambda L: L.tensor([1., 2.]) / [1, 2], lambda L: L.tensor([1., 2.]) ** [1, 2], lambda L: L.tensor([1.]) < [1],
    lambda L: L.tensor([True]) & [True], lambda L: L.tensor([1., 2.]) @ [1., 2.],
    lambda L: L.add(L.tensor([1., 2.]), [1, 2]), lambda L: L.mul(L.tensor([1., 2.]), [1, 2]),
    lambda L: L.maximum(L.tensor([1., 2.]), [1, 2]), lambda L: L.tensor([1., 2.]).add_([1, 2]),
])
def test_sequence_operand_raises_type_error(fn):
    raises_like(fn)


def test_sequence_equality_is_identity():
    for L in LIBS:
        assert (L.tensor([1., 2.]) == [1, 2]) is False
        assert (L.tensor([1., 2.]) != (1, 2)) is True
    same(lambda L: L.tensor([1., 2.]) * np.array([1., 2.], np.float32))


@pytest.mark.parametrize('fn', [
    lambda L: L.ones(2, 3).gather(1, L.zeros(3, 1, dtype=L.long)),
    lambda L: L.ones(2, 3).masked_select(L.tensor([True, False])),
    lambda L: L.ones(2, 3).roll((1, 2), (0,)), lambda L: L.ones(2, 3).flip(0, 0),
    lambda L: L.outer(L.ones(2, 3), L.ones(2)), lambda L: L.outer(L.ones(3), L.tensor(1.)),
    lambda L: L.nn.functional.layer_norm(L.ones(2, 3), (3,), L.ones(4)),
    lambda L: L.nn.functional.layer_norm(L.ones(2, 3), (3,), None, L.ones(4)),
    lambda L: L.unique(L.ones(2, 3), dim=5), lambda L: L.bincount(L.tensor([-1])),
    lambda L: L.bincount(L.tensor([1.])), lambda L: L.bincount(L.ones(2, 2, dtype=L.long)),
    lambda L: L.bincount(L.tensor([0, 1]), L.ones(3)),
    lambda L: L.ones(2).repeat_interleave(-1), lambda L: L.ones(2).repeat_interleave(L.tensor([1, -1])),
    lambda L: L.ones(2).repeat_interleave(L.tensor([1, 2, 3])),
    lambda L: L.eye(-1), lambda L: L.eye(2, -1), lambda L: L.full((2,), [1, 2]), lambda L: L.full((2,), 'a'),
    lambda L: L.cat([]), lambda L: L.stack([]), lambda L: L.hstack([]),
])
def test_more_errors_as_pytorch(fn):
    with pytest.raises(Exception) as t:
        fn(torch)
    with pytest.raises(Exception) as e:
        fn(ember)
    assert type(e.value) is type(t.value), f'{type(e.value).__name__}: {e.value} (torch: {type(t.value).__name__})'
    assert str(e.value).startswith(str(t.value)[:25]), f'{e.value!s} (torch: {t.value!s})'


def test_flip_method_varargs_and_repeat_interleave():
    same(lambda L: L.arange(6.).reshape(2, 3).flip(0, 1))
    same(lambda L: L.arange(6.).reshape(2, 3).flip((1,)))
    same(lambda L: L.arange(2.).repeat_interleave(L.tensor([1, 2])))
    same(lambda L: L.full((2,), L.tensor(1.5)))


@pytest.mark.parametrize('name', ['nll_loss', 'cross_entropy'])
@pytest.mark.parametrize('x,t', [((2, 3), (1, 1)), ((2, 3), (2, 1)), ((2, 3), ()), ((3,), (1, 1)), ((2, 3, 4), (2,)),
                                 ((2, 3, 4), (3, 4)), ((2, 3, 4, 5), (2, 4)), ((2, 3, 4, 5), (2, 4, 6)),
                                 ((2, 3, 4, 5, 6), (2, 4, 5)), ((2, 3, 4), (2, 5))])
def test_class_target_shape_errors(name, x, t):
    with pytest.raises(Exception) as tr:
        getattr(torch.nn.functional, name)(torch.zeros(x), torch.zeros(t, dtype=torch.long))
    with pytest.raises(type(tr.value)) as er:
        getattr(ember.nn.functional, name)(ember.zeros(x), ember.zeros(t, dtype=ember.long))
    assert str(er.value) == str(tr.value)


def test_searchsorted_nd_and_unfold_checks():
    b, v = [[1., 3., 5.], [2., 4., 6.]], [[3., 6.], [1., 7.]]
    same(lambda L: L.searchsorted(L.tensor(b), L.tensor(v)))
    same(lambda L: L.searchsorted(L.tensor(b), L.tensor(v), right=True))
    same(lambda L: L.searchsorted(L.tensor([1., 3.]), L.tensor([[2., 4.]])))
    raises_like(lambda L: L.searchsorted(L.tensor(b), L.ones(3, 2)), 'boundaries tensor should be')
    raises_like(lambda L: L.searchsorted(L.tensor(b), L.tensor(1.)), 'input value can be a scalar')
    raises_like(lambda L: L.nn.functional.unfold(L.ones(1, 1, 2, 2), 3), 'Given input with spatial size')
    raises_like(lambda L: L.nn.functional.unfold(L.ones(1, 1, 2, 2), 2, padding=-1), 'padding should be')
    same(lambda L: L.nn.functional.unfold(L.arange(16.).reshape(1, 1, 4, 4), 2, padding=1, stride=2))
