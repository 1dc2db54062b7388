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
