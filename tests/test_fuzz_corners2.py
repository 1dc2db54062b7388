"""Corners a gradient / nn.functional differential fuzzer (random float32/float64 leaves, broadcast, transposed,
stepped and expanded layouts, integer-valued ties and zeros, through ember and PyTorch) found giving silently
different answers: each case runs forward and backward on both with the same grad_output and compares every
leaf's .grad (NaN/inf positions included), or that both raise the same exception type."""
import numpy as np
import pytest
import torch

import ember

LIBS = (torch, ember)


def _np(x):
    x = x.detach()
    if isinstance(x, torch.Tensor) and x._is_zerotensor():   # PyTorch's efficient zeros (sgn's gradient)
        x = torch.zeros(x.shape, dtype=x.dtype)
    if x.dtype in (torch.bfloat16, ember.bfloat16, torch.float16, ember.float16):
        x = x.float()
    return x.numpy()


def _close(e, t, tol):
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape), (e.dtype, t.dtype, e.shape, t.shape)
    en, tn = _np(e), _np(t)
    assert np.array_equal(np.isnan(en), np.isnan(tn)), (en, tn)
    if tol:
        np.testing.assert_allclose(en, tn, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(en, tn)


def grads(fn, arrays, dtype='float64', tol=1e-12, seed=0):
    """``fn(lib, *leaves)`` forward and backward (same random grad_output) agree with PyTorch: outputs and the
    .grad of every leaf (built from ``arrays`` as float ``dtype`` leaves)."""
    rng = np.random.default_rng(seed)
    res = {}
    for L in LIBS:
        leaves = [L.tensor(np.asarray(a, np.float64)).to(getattr(L, dtype)).requires_grad_() for a in arrays]
        out = fn(L, *leaves)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        outs = [o for o in outs if o.requires_grad]
        if L is torch:
            gos = [rng.standard_normal(tuple(o.shape)) for o in outs]
        total = sum((o * L.tensor(g).to(o.dtype)).sum() for o, g in zip(outs, gos))
        total.backward()
        res[L] = (outs, [x.grad for x in leaves])
    for e, t in zip(res[ember][0], res[torch][0]):
        _close(e, t, tol)
    for e, t in zip(res[ember][1], res[torch][1]):
        assert (e is None) == (t is None)
        if t is not None:
            _close(e, t, tol)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_copysign_backward_sums_a_broadcast_input(dtype):
    grads(lambda L, x, y: L.copysign(x, y), [-1.5, [[1.0, -2.0, 0.0], [2.0, -0.5, 1.0]]], dtype, 1e-6)
    grads(lambda L, x, y: L.copysign(x, y), [[[0.5], [-2.0]], [1.0, -1.0, 3.0]], dtype, 1e-6)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('base, exp', [
    ([-1.5, -1.0, 0.0, 0.0, 2.0], [2.0, 3.0, -1.0, 2.0, 0.5]),     # negative base: NaN; 0 ** -1: -inf
    ([[-2.0], [0.0], [3.0]], [1.0, 0.0, -2.0]),                   # broadcast
])
def test_pow_exponent_gradient_is_nan_for_negative_bases_and_minus_inf_at_zero(dtype, base, exp):
    grads(lambda L, a, b: L.pow(a, b), [base, exp], dtype, 1e-6)
    grads(lambda L, a, b: (a * L.ones_like(b)).pow_(b), [base, exp], dtype, 1e-6)
    grads(lambda L, a, b: L.float_power(a, b), [base, exp], dtype, 1e-12)


@pytest.mark.parametrize('base', [0.0, -2.0])
def test_pow_of_a_number_base_nonpositive(base):
    grads(lambda L, b: base ** b, [[2.0, -1.0, 0.0]], 'float64')


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_logit_gradient_is_nan_outside_0_1(dtype):
    grads(lambda L, x: L.logit(x), [[-1.0, 0.25, 0.5, 2.0, 1.5]], dtype, 1e-6)
    grads(lambda L, x: (x * 1).logit_(), [[-0.5, 0.75, 3.0]], dtype, 1e-6)
    grads(lambda L, x: L.logit(x, eps=0.1), [[-1.0, 0.05, 0.5, 2.0]], dtype, 1e-6)


def test_hardsigmoid_backward_scales_by_a_float_sixth_as_pytorch():
    x = np.linspace(-4, 4, 37)
    grads(lambda L, x: L.nn.functional.hardsigmoid(x), [x], 'float64', 0)
    grads(lambda L, x: L.nn.functional.hardsigmoid(x), [x], 'float32', 0)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('op', ['xlogy', 'special.xlog1py'])
def test_xlogy_xlog1py_gradient_of_x(dtype, op):
    def f(L, x, y):
        fn = L.xlogy if op == 'xlogy' else L.special.xlog1py
        return fn(x, y)
    x = [[0.0, 0.0, 0.0, 1.5, -2.0, 0.0]]
    y = [[1.5, 0.0, -0.5, -0.5, 0.0, -1.0]]
    grads(f, [x, y], dtype, 1e-6)
    grads(lambda L, x: (L.xlogy if op == 'xlogy' else L.special.xlog1py)(x, 0.5), [[0.0, 2.0]], dtype, 1e-6)
    grads(lambda L, x: (L.xlogy if op == 'xlogy' else L.special.xlog1py)(x, -1.0), [[0.0, 2.0]], dtype, 1e-6)


def test_nextafter_gradient_is_zero_where_input_equals_other():
    grads(lambda L, a, b: L.nextafter(a, b), [[2.0, -2.0, 0.0], [[-2.0, -2.0, -2.0], [2.0, 2.0, -1.0]]])


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_atan2_gradient_at_the_origin_is_zero_and_bitwise_equal_elsewhere(dtype):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(20), rng.standard_normal(20)
    a[:3] = 0.0
    b[:2] = 0.0
    b[2] = -0.0
    grads(lambda L, x, y: L.atan2(x, y), [a, b], dtype, 1e-6)
    grads(lambda L, x, y: L.atan2(x, y), [0.0, [[0.0, 1.0, -0.0], [-2.0, 0.0, 0.0]]], dtype, 1e-6)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('op', ['std', 'std_mean'])
def test_std_gradient_is_zero_where_the_std_is_zero(dtype, op):
    x = [[1.0, 2.0, 2.0], [1.0, 2.0, 5.0], [1.0, 2.0, -1.0]]
    grads(lambda L, x: getattr(L, op)(x, 0), [x], dtype, 1e-6)
    grads(lambda L, x: getattr(L, op)(x, dim=0, keepdim=True, correction=0), [x], dtype, 1e-6)
    grads(lambda L, x: getattr(L, op)(x[:1]), [x], dtype, 1e-6)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('p', [0.5, 0.25, 1.5, 3])
def test_p_norm_gradient_at_zero_entries(dtype, p):
    x = [[1.0, -1.0, 0.0], [-1.0, -2.0, 2.0], [0.0, 0.0, 0.0]]
    grads(lambda L, x: L.linalg.vector_norm(x, p, 1), [x], dtype, 1e-6)
    grads(lambda L, x: L.norm(x, p), [x], dtype, 1e-6)
    grads(lambda L, x, y: L.dist(x, y, p), [x, -2.0], dtype, 1e-6)


@pytest.mark.parametrize('dtype', ['float16', 'bfloat16', 'float32', 'float64'])
def test_hardsigmoid_forward_rounds_as_pytorch(dtype):
    x = np.random.default_rng(0).standard_normal(500) * 3
    e = ember.nn.functional.hardsigmoid(ember.tensor(x).to(getattr(ember, dtype)))
    _close(e, torch.nn.functional.hardsigmoid(torch.tensor(x).to(getattr(torch, dtype))), 0)


# -- nn.functional ------------------------------------------------------------------------------------------------
def same(fn, tol=1e-6):
    """``fn(lib)`` gives the same tensor(s) on ember as on PyTorch, or both raise the same exception type."""
    try:
        t = fn(torch)
    except Exception as ex:  # noqa: BLE001 - the oracle's exception type is what ember must raise
        with pytest.raises(type(ex)):
            fn(ember)
        return
    e = fn(ember)
    for a, b in zip(e if isinstance(e, tuple) else (e,), t if isinstance(t, tuple) else (t,)):
        _close(a, b, tol)


def _f(L):
    return L.nn.functional


@pytest.mark.parametrize('pads', [(-1, 2), (2, -1), (-1, 2, 1, -1), (0, -1, 2, 2), (1, 1, -1, 0, 2, -1)])
def test_circular_pad_with_negative_amounts_crops_then_wraps(pads):
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(1, 2, 3, 4, 5)
    x = x[0] if len(pads) < 6 else x
    x = x[0] if len(pads) < 4 else x
    grads(lambda L, x: _f(L).pad(x, pads, 'circular'), [x], 'float64', 0)


@pytest.mark.parametrize('p', [float('inf'), -float('inf')])
@pytest.mark.parametrize('nd', [1, 2, 3])
def test_lp_pool_infinite_p_is_max_pooling_of_abs(p, nd):
    x = np.random.default_rng(0).standard_normal((2, 1) + (5,) * nd)
    grads(lambda L, x: getattr(_f(L), f'lp_pool{nd}d')(x, p, 2, 1, True), [x], 'float64', 1e-12)


def test_lp_pool_gradient_is_zero_where_a_window_sums_to_zero():
    x = [[[[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, -2.0, 1.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]]
    grads(lambda L, x: _f(L).lp_pool2d(x, 3, 2, 2), [x], 'float32', 1e-6)


@pytest.mark.parametrize('op', ['sign', 'sgn', 'floor', 'ceil', 'trunc', 'round'])
def test_piecewise_constant_ops_give_zero_gradient_for_infinite_grad(op):
    def f(L, x):
        return getattr(L, op)(x) * L.tensor([float('inf'), float('nan'), 1.0], dtype=x.dtype)
    grads(f, [[0.0, 1.5, -2.0]], 'float64', 0)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_multilabel_and_multi_margin_loss_send_no_gradient_through_a_zero_margin(dtype):
    x = [[-2.0, 1.0, 0.0, -1.0], [1.0, -1.0, 2.0, 0.0], [1.0, 2.0, 1.0, -2.0]]
    t = [[2, -1, -1, 1], [2, 0, 2, 2], [0, 1, 3, 3]]
    grads(lambda L, x: _f(L).multilabel_margin_loss(x, L.tensor(t)), [x], dtype, 1e-6)
    grads(lambda L, x: _f(L).multi_margin_loss(x, L.tensor([2, 3, 0])), [x], dtype, 1e-6)
    grads(lambda L, x: _f(L).multi_margin_loss(x, L.tensor([2, 3, 0]), p=2), [x], dtype, 1e-6)


def test_multilabel_margin_loss_of_an_empty_batch():
    same(lambda L: _f(L).multilabel_margin_loss(L.zeros(0, 3), L.zeros(0, 3, dtype=L.int64), reduction='none'))


def test_binary_cross_entropy_target_gradient_is_unclamped_at_0_and_1():
    x, t = [1.0, 1.0, 0.783, 0.0, 0.25], [0.995, 0.258, 0.835, 0.3, 0.5]
    grads(lambda L, t: _f(L).binary_cross_entropy(L.tensor(x, dtype=t.dtype), t, reduction='sum'), [t],
          'float64', 1e-12)


def test_ctc_loss_with_all_targets_empty():
    lp = np.log(np.random.default_rng(0).dirichlet(np.ones(3), (6, 2)))
    grads(lambda L, lp: _f(L).ctc_loss(lp, L.tensor([[1], [2]]), L.tensor([6, 4]), L.tensor([0, 0]),
                                        reduction='none'), [lp], 'float64', 1e-10)


def test_interpolate_area_of_a_5d_input():
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 4, 6))
    grads(lambda L, x: _f(L).interpolate(x, size=(3, 2, 4), mode='area'), [x], 'float64', 1e-12)
    grads(lambda L, x: _f(L).interpolate(x, scale_factor=(0.5, 1.5, 0.7), mode='area'), [x], 'float64', 1e-12)


@pytest.mark.parametrize('sf', [2.3, 1.2, 2.1, (2.3, 1.0), (1.0, 2.2)])
def test_nearest_2d_with_a_scale_factor_takes_pytorch_s_shortcut_for_same_and_doubled_sizes(sf):
    x = np.random.default_rng(0).standard_normal((1, 2, 3, 4))
    grads(lambda L, x: _f(L).interpolate(x, scale_factor=sf), [x], 'float64', 1e-12)


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic'])
@pytest.mark.parametrize('kw', [dict(size=(3, 8), align_corners=True), dict(size=(2, 5), align_corners=True),
                                dict(scale_factor=0.6), dict(scale_factor=(0.5, 1.7)),
                                dict(scale_factor=0.45, align_corners=True)])
def test_antialias_with_align_corners_or_a_scale_factor(mode, kw):
    x = np.random.default_rng(1).standard_normal((1, 2, 5, 6))
    grads(lambda L, x: _f(L).interpolate(x, mode=mode, antialias=True, **kw), [x], 'float64', 1e-10)


@pytest.mark.parametrize('mode', ['sum', 'mean', 'max'])
@pytest.mark.parametrize('padding_idx', [None, 0])
def test_embedding_bag_max_takes_the_first_maximum_and_skips_padding(mode, padding_idx):
    w = [[-1.0, 2.0], [0.0, 2.0], [0.0, -3.0], [1.0, 1.0]]
    idx, offs = [0, 0, 2, 3, 2, 1, 1, 0, 0], [0, 3, 4, 7]

    def f(L, w):
        return _f(L).embedding_bag(L.tensor(idx), w, L.tensor(offs), mode=mode, padding_idx=padding_idx)
    grads(f, [w], 'float64', 1e-12)
    grads(lambda L, w: _f(L).embedding_bag(L.tensor(idx), w, L.tensor(offs + [9]), mode=mode,
                                           include_last_offset=True), [w], 'float32', 1e-6)


@pytest.mark.parametrize('bias_shape', [(), (1,)])
def test_linear_with_a_broadcast_bias(bias_shape):
    grads(lambda L, x, w, b: _f(L).linear(x, w, b), [np.ones((3, 2)), np.arange(8.0).reshape(4, 2),
                                                   np.full(bias_shape, 0.5)], 'float32', 1e-6)


def test_pdist_inf_gradient_goes_whole_to_every_tied_maximum():
    x = [[2.0, -2.0, 0.0, -1.0], [2.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]]
    grads(lambda L, x: _f(L).pdist(x, float('inf')), [x], 'float64', 0)


@pytest.mark.parametrize('fn', [
    lambda L: _f(L).batch_norm(L.ones(2, 3), L.zeros(3), None, training=True),
    lambda L: _f(L).batch_norm(L.ones(2, 3), None, L.ones(3), training=True),
    lambda L: _f(L).instance_norm(L.ones(2, 3, 4), L.zeros(3), None),
    lambda L: _f(L).group_norm(L.ones(1, 2), 2),
    lambda L: _f(L).group_norm(L.ones(1, 4, 1), 4),
    lambda L: _f(L).avg_pool3d(L.ones(1, 1, 2, 4, 2), (1, 3, 3), padding=(0, 1, 1), ceil_mode=True),
])
def test_norms_and_pools_refuse_what_pytorch_refuses(fn):
    same(fn)


@pytest.mark.parametrize('op', ['mse_loss', 'smooth_l1_loss', 'huber_loss', 'l1_loss'])
@pytest.mark.parametrize('a', ['int64', 'int8', 'bool', 'float16', 'float32', 'float64'])
@pytest.mark.parametrize('b', ['int64', 'bool', 'float16', 'bfloat16', 'float32', 'float64'])
def test_regression_losses_promote_an_integer_input_or_refuse_it(op, a, b):
    same(lambda L: getattr(_f(L), op)(L.tensor([[1, 0, 1], [0, 1, 1]]).to(getattr(L, a)),
                                      L.tensor([[0, 0, 1], [1, 1, 0]]).to(getattr(L, b))), 1e-3)


@pytest.mark.parametrize('dtype', ['bool', 'uint8', 'int8', 'int32', 'int64'])
@pytest.mark.parametrize('fn', [
    lambda L, x: _f(L).layer_norm(x, (4,)),
    lambda L, x: _f(L).group_norm(x, 2),
    lambda L, x: _f(L).batch_norm(x, None, None, training=True),
    lambda L, x: _f(L).instance_norm(x),
    lambda L, x: _f(L).prelu(x, L.tensor([0.25])),
    lambda L, x: _f(L).glu(x, 1),
    lambda L, x: _f(L).rrelu(x, training=False),
    lambda L, x: _f(L).threshold(x, 1, 5),
    lambda L, x: _f(L).unfold(x, 2),
    lambda L, x: _f(L).max_pool1d(x.flatten(2), 2),
    lambda L, x: _f(L).adaptive_max_pool2d(x, 3),
    lambda L, x: _f(L).adaptive_max_pool3d(x, 1),
    lambda L, x: _f(L).pad(x, (1, 1, 1, 1), 'reflect'),
    lambda L, x: _f(L).pad(x, (1, 1, 1, 1), 'replicate'),
    lambda L, x: _f(L).linear(x, x[0, 0]),
    lambda L, x: _f(L).nll_loss(x.flatten(1), L.tensor([0, 1])),
    lambda L, x: _f(L).binary_cross_entropy_with_logits(x, L.ones(x.shape)),
    lambda L, x: _f(L).binary_cross_entropy(x, x),
    lambda L, x: _f(L).kl_div(x.float(), x),
    lambda L, x: _f(L).dropout(x, 0.5, training=True),
    lambda L, x: _f(L).hardtanh(x),
    lambda L, x: _f(L).pairwise_distance(x.flatten(1), x.flatten(1).flip(0)),
])
def test_integer_and_bool_inputs_into_nn_functional(dtype, fn):
    x = np.random.default_rng(0).integers(0, 3, (2, 2, 4, 4))
    same(lambda L: fn(L, L.tensor(x).to(getattr(L, dtype))))


@pytest.mark.parametrize('dtype', ['bool', 'uint8', 'int8', 'int32'])   # int64: PyTorch averages it
@pytest.mark.parametrize('fn', [
    lambda L, x: _f(L).local_response_norm(x, 2),
    lambda L, x: _f(L).avg_pool2d(x, 2),
])
def test_integer_and_bool_inputs_into_averaging_pools(dtype, fn):
    x = np.random.default_rng(0).integers(0, 3, (2, 2, 4, 4))
    same(lambda L: fn(L, L.tensor(x).to(getattr(L, dtype))))


@pytest.mark.parametrize('idx_dtype', ['uint8', 'int8', 'int16', 'int32', 'int64'])
def test_embedding_index_dtypes(idx_dtype):
    same(lambda L: _f(L).embedding(L.tensor([0, 2, 1]).to(getattr(L, idx_dtype)), L.ones(3, 2)))
    same(lambda L: _f(L).embedding_bag(L.tensor([[0, 2, 1]]).to(getattr(L, idx_dtype)), L.ones(3, 2)))
    same(lambda L: _f(L).embedding_bag(L.tensor([[0, 2, 1]]), L.ones(3, 2, dtype=getattr(L, idx_dtype))))


# -- float16 / bfloat16 into ops whose kernels have no low-precision loops --------------------------------------
_A = [[3.0, 1.0, 0.5], [1.0, 2.0, 0.3], [0.5, 0.3, 4.0]]


@pytest.mark.parametrize('dtype', ['float16', 'bfloat16', 'float32'])
@pytest.mark.parametrize('fn', [
    lambda L, a: L.linalg.det(a), lambda L, a: L.linalg.slogdet(a), lambda L, a: L.linalg.inv(a),
    lambda L, a: L.linalg.solve(a, a), lambda L, a: L.linalg.cholesky(a), lambda L, a: L.linalg.qr(a),
    lambda L, a: L.linalg.svd(a)[1], lambda L, a: L.linalg.svdvals(a), lambda L, a: L.linalg.eigh(a)[0],
    lambda L, a: L.linalg.eigvalsh(a), lambda L, a: L.linalg.eig(a)[0], lambda L, a: L.linalg.eigvals(a),
    lambda L, a: L.linalg.pinv(a), lambda L, a: L.linalg.matrix_norm(a, 'nuc'), lambda L, a: L.linalg.matrix_norm(a),
    lambda L, a: L.linalg.matrix_norm(a, 2), lambda L, a: L.linalg.cond(a), lambda L, a: L.linalg.matrix_rank(a),
    lambda L, a: L.linalg.lstsq(a, a), lambda L, a: L.linalg.matrix_power(a, -1), lambda L, a: L.logdet(a),
    lambda L, a: L.linalg.vander(a[0]), lambda L, a: L.linalg.tensorinv(a, 1),
    lambda L, a: L.linalg.solve_triangular(a, a, upper=True), lambda L, a: L.linalg.cholesky_ex(a),
    lambda L, a: L.linalg.inv_ex(a), lambda L, a: L.linalg.solve_ex(a, a), lambda L, a: L.cdist(a, a),
    lambda L, a: _f(L).pdist(a), lambda L, a: L.quantile(a, 0.5), lambda L, a: L.norm(a, 'nuc'),
])
def test_linalg_and_distances_refuse_half_and_bfloat16_as_pytorch(dtype, fn):
    def f(L):
        out = fn(L, L.tensor(_A).to(getattr(L, dtype)))
        return tuple(out) if isinstance(out, tuple) else out
    same(f, 1e-4)


@pytest.mark.parametrize('op', [lambda x: x * 1, lambda x: x.exp(), lambda x: x + x, lambda x: -x])
def test_bfloat16_results_of_expanded_inputs_are_row_major(op):
    res = [op(L.tensor([[1.0, 2.0, 3.0, 4.0]]).to(L.bfloat16).expand(3, 4)) for L in LIBS]
    assert res[1].stride() == res[0].stride()
    same(lambda L: op(L.tensor([[1.0, 2.0, 3.0, 4.0]]).to(L.bfloat16).expand(3, 4)).as_strided((3, 3), (1, 2)), 0)
