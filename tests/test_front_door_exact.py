"""Front door, lane "exact": corners where ember was not PyTorch, checked against PyTorch 2.13 (the oracle).

det/slogdet of singular matrices: the sign of the zero determinant (PyTorch factors A^T of a contiguous A, A
otherwise), slogdet's signed-zero sign and -inf, slogdet's infs and NaNs in plain backward, and det's gradient
under create_graph (the SVD adjugate, differentiable again)."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd.gradcheck import gradcheck

SINGULAR = {
    'zero_row': [[1., 2.], [0., 0.]],
    'zero_first_row': [[0., 0.], [1., 2.]],
    'repeated_rows': [[1., 2.], [1., 2.]],
    'opposite_rows': [[1., 2.], [-1., -2.]],
    'scaled_rows': [[-1., 2.], [-2., 4.]],
    'zeros': [[0., 0.], [0., 0.]],
    'rank2_3x3': [[1., 2., 3.], [2., 4., 6.], [1., 0., 1.]],
    'zero_col_3x3': [[1., 0., 3.], [4., 0., 6.], [7., 0., 9.]],
    'zero_middle_row_3x3': [[3., -1., 2.], [0., 0., 0.], [1., 5., -2.]],
    'repeated_3x3': [[1., 1., 1.], [1., 1., 1.], [2., -3., 4.]],
    'rank3_4x4': [[2., 0., 0., 0.], [0., 0., 0., 0.], [0., 0., 3., 0.], [0., 0., 0., 1.]],
    'rank1_4x4': [[1., -2., 3., 1.], [2., -4., 6., 2.], [-1., 2., -3., -1.], [3., -6., 9., 3.]],
}
BATCH = [SINGULAR['zero_row'], SINGULAR['opposite_rows'], [[1., 2.], [3., 4.]], SINGULAR['scaled_rows']]


def _pair(m, dtype, transposed=False):
    """The same matrix as a torch and an ember tensor; ``transposed`` stores it column-major (not contiguous)."""
    a = np.array(m, dtype)
    if transposed:
        return (torch.tensor(a.swapaxes(-1, -2).copy()).mT.requires_grad_(),
                ember.tensor(a.swapaxes(-1, -2).copy()).mT.requires_grad_())
    return torch.tensor(a, requires_grad=True), ember.tensor(a, requires_grad=True)


def _same_bits(e, t):
    """Equal values with equal signs of zero and NaNs in the same places (PyTorch's exact output)."""
    ev, tv = e.detach().numpy(), t.detach().numpy()
    assert ev.dtype == tv.dtype and ev.shape == tv.shape
    np.testing.assert_allclose(ev, tv, rtol=1e-5, atol=0, equal_nan=True)
    assert np.array_equal(np.signbit(ev) & ~np.isnan(ev), np.signbit(tv) & ~np.isnan(tv)), (ev, tv)


@pytest.mark.parametrize('transposed', [False, True])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('name', list(SINGULAR))
def test_singular_det_and_slogdet_signs_as_pytorch(name, dtype, transposed):
    t, e = _pair(SINGULAR[name], dtype, transposed)
    for fn in (lambda L, a: L.linalg.det(a), lambda L, a: L.det(a)):
        _same_bits(fn(ember, e), fn(torch, t))
    for fn in (lambda L, a: L.linalg.slogdet(a), lambda L, a: L.slogdet(a)):
        (es, el), (ts, tl) = fn(ember, e), fn(torch, t)
        _same_bits(es, ts)
        _same_bits(el, tl)


@pytest.mark.parametrize('transposed', [False, True])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('name', list(SINGULAR))
def test_singular_slogdet_gradient_infs_and_nans_as_pytorch(name, dtype, transposed):
    t, e = _pair(SINGULAR[name], dtype, transposed)
    tg, = torch.autograd.grad(torch.linalg.slogdet(t)[1], t)
    eg, = ember.autograd.grad(ember.linalg.slogdet(e)[1], e)
    _same_bits(eg, tg)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_singular_det_batched_as_pytorch(dtype):
    t, e = _pair(BATCH, dtype)
    _same_bits(ember.linalg.det(e), torch.linalg.det(t))
    for es, ts in zip(ember.linalg.slogdet(e), torch.linalg.slogdet(t)):
        _same_bits(es, ts)
    tg, = torch.autograd.grad(torch.linalg.det(t).sum(), t)
    eg, = ember.autograd.grad(ember.linalg.det(e).sum(), e)
    np.testing.assert_allclose(eg.numpy(), tg.numpy(), rtol=1e-5)     # (zeros on the singular ones)
    tg, = torch.autograd.grad(torch.linalg.slogdet(t)[1].sum(), t)
    eg, = ember.autograd.grad(ember.linalg.slogdet(e)[1].sum(), e)
    _same_bits(eg, tg)


@pytest.mark.parametrize('name', ['zero_row', 'rank2_3x3', 'repeated_3x3', 'rank3_4x4', 'rank1_4x4'])
def test_singular_det_gradient_is_pytorch_zero(name):
    t, e = _pair(SINGULAR[name], np.float64)
    tg, = torch.autograd.grad(torch.linalg.det(t), t)
    eg, = ember.autograd.grad(ember.linalg.det(e), e)
    np.testing.assert_array_equal(eg.numpy(), tg.numpy())


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('m', [SINGULAR['zero_row'], SINGULAR['rank2_3x3'], SINGULAR['rank3_4x4'], [[3., 1.], [2., 5.]],
                               BATCH])
def test_det_create_graph_gradient_and_second_derivative_as_pytorch(m, dtype):
    t, e = _pair(m, dtype)
    tg, = torch.autograd.grad(torch.linalg.det(t).sum(), t, create_graph=True)
    eg, = ember.autograd.grad(ember.linalg.det(e).sum(), e, create_graph=True)
    tol = 1e-4 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(eg.detach().numpy(), tg.detach().numpy(), rtol=tol, atol=tol)
    if np.array(m).ndim == 2:
        assert eg.grad_fn.name() == tg.grad_fn.name()
    th, = torch.autograd.grad(tg.pow(2).sum(), t)
    eh, = ember.autograd.grad(eg.pow(2).sum(), e)
    np.testing.assert_allclose(eh.numpy(), th.numpy(), rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize('m', [SINGULAR['zero_row'], SINGULAR['rank2_3x3'], SINGULAR['rank1_4x4']])
def test_det_gradient_at_singular_matrix_passes_gradcheck_under_create_graph(m):
    # (the adjugate is a polynomial: a step of 1e-4 is exact for it and keeps the perturbed, nearly singular
    # matrices' solves away from the cancellation that a 1e-6 step meets)
    a = ember.tensor(np.array(m), requires_grad=True)
    assert gradcheck(lambda x: ember.autograd.grad(ember.linalg.det(x), x, create_graph=True)[0], (a,), eps=1e-4)


def test_singular_slogdet_create_graph_refused_as_pytorch():
    t, e = _pair(SINGULAR['zero_row'], np.float64)
    with pytest.raises(RuntimeError) as te:
        torch.autograd.grad(torch.linalg.slogdet(t)[1], t, create_graph=True)
    with pytest.raises(RuntimeError) as ee:
        ember.autograd.grad(ember.linalg.slogdet(e)[1], e, create_graph=True)
    assert type(ee.value).__name__ == type(te.value).__name__
    assert str(ee.value) == str(te.value)


# -- double backward: PyTorch's one *BackwardBackward0 node for the relu family ------------------------------
F_CASES = {
    'relu': lambda L, x: L.relu(x),
    'leaky_relu': lambda L, x: L.nn.functional.leaky_relu(x, 0.2),
    'hardtanh': lambda L, x: L.nn.functional.hardtanh(x, -0.7, 1.5),
    'relu6': lambda L, x: L.nn.functional.relu6(x * 4),
    'threshold': lambda L, x: L.nn.functional.threshold(x, 0.6, -2.0),
}


def _walk(fn, depth=5):
    """grad_fn names down next_functions (PyTorch's graph of a create_graph gradient)."""
    if fn is None or depth < 0:
        return []
    out = [fn.name()]
    for f, _ in fn.next_functions:
        out += ['  ' + n for n in _walk(f, depth - 1)]
    return out


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('name', list(F_CASES))
def test_relu_family_gradient_stays_in_the_graph_as_pytorch(name, dtype):
    fn = F_CASES[name]
    a = np.array([-1., 0.5, 2., 0., -0.3, 1.7], dtype)
    w = np.array([1., 2., 3., 4., 5., 6.], dtype)
    res = []
    for L in (torch, ember):
        x, v = L.tensor(a, requires_grad=True), L.tensor(w, requires_grad=True)
        g, = L.autograd.grad(fn(L, x).sum(), x, create_graph=True)
        walk = _walk(g.grad_fn)
        gx, = L.autograd.grad(g.sum(), x)            # zero, and not refused: the gradient is in the graph
        g, = L.autograd.grad((fn(L, x) * v).sum(), x, create_graph=True)
        hx, hv = L.autograd.grad((g * g).sum(), (x, v))
        res.append((walk, gx.numpy(), hx.numpy(), hv.numpy()))
    (tw, *tv), (ew, *ev) = res
    assert ew == tw
    for e, t in zip(ev, tv):
        np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize('name', list(F_CASES))
def test_relu_family_second_derivative_gradcheck(name):
    a = ember.tensor(np.array([-1., 0.5, 2., -0.3, 1.7]), requires_grad=True)
    v = ember.tensor(np.array([1., 2., 3., 4., 5.]), requires_grad=True)
    fn = F_CASES[name]
    assert gradcheck(lambda x, w: ember.autograd.grad((fn(ember, x) * w).sum(), x, create_graph=True)[0], (a, v))


# -- double backward: PyTorch's node names (MulBackward1 for C++'s mul.Scalar, SigmoidBackwardBackward0...) -----
POINTWISE = {
    'tanh': lambda L, x: L.tanh(x), 'sigmoid': lambda L, x: L.sigmoid(x), 'exp': lambda L, x: L.exp(x),
    'log': lambda L, x: L.log(x), 'sin': lambda L, x: L.sin(x), 'cos': lambda L, x: L.cos(x),
    'pow2': lambda L, x: x.pow(2), 'pow3': lambda L, x: x ** 3, 'pow_half': lambda L, x: x ** 0.5,
    'sqrt': lambda L, x: L.sqrt(x), 'square': lambda L, x: L.square(x),
    'nn_sigmoid': lambda L, x: L.nn.functional.sigmoid(x), 'module_tanh': lambda L, x: L.nn.Tanh()(x),
    'tan': lambda L, x: L.tan(x * 0.5), 'reciprocal': lambda L, x: L.reciprocal(x),
    'one_over': lambda L, x: 1 / x,
}


@pytest.mark.parametrize('order', [1, 2, 3])
@pytest.mark.parametrize('name', list(POINTWISE))
def test_higher_order_gradient_graph_names_and_values_as_pytorch(name, order):
    fn = POINTWISE[name]
    a = np.array([0.3, 0.7, 1.2, 2.5])
    res = []
    for L in (torch, ember):
        x = L.tensor(a, requires_grad=True)
        g = fn(L, x)
        for _ in range(order):
            g, = L.autograd.grad(g.sum(), x, create_graph=True)
        res.append((_walk(g.grad_fn, 8), g.detach().numpy()))
    (tw, tv), (ew, ev) = res
    assert ew == tw
    np.testing.assert_allclose(ev, tv, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('name', ['tanh', 'sigmoid', 'pow3', 'sqrt', 'square', 'cos'])
def test_second_derivative_gradcheck(name):
    fn = POINTWISE[name]
    x = ember.tensor(np.array([0.3, 0.7, 1.2, 2.5]), requires_grad=True)
    assert gradcheck(lambda t: ember.autograd.grad(fn(ember, t).sum(), t, create_graph=True)[0], (x,))
    assert gradcheck(lambda t: ember.autograd.grad(ember.autograd.grad(fn(ember, t).sum(), t, create_graph=True)[0].sum(),
                                                   t, create_graph=True)[0], (x,))


# -- misuse errors: a method passed for its result (x.size for x.size()) -------------------------------------
MISUSE = {
    'zeros(x.size)': lambda L, x: L.zeros(x.size),
    'x.view(x.size)': lambda L, x: x.view(x.size),
    'x.view(str)': lambda L, x: x.view('float32'),
    'x.view(None)': lambda L, x: x.view(None),
    'x.reshape(x.size)': lambda L, x: x.reshape(x.size),
    'x.size(x.dim)': lambda L, x: x.size(x.dim),
    'x.size(1.5)': lambda L, x: x.size(1.5),
    'x.size(True)': lambda L, x: x.size(True),
    'x.expand(x.size)': lambda L, x: x.expand(x.size),
    'x.new_zeros(x.size)': lambda L, x: x.new_zeros(x.size),
    'randn(x.size)': lambda L, x: L.randn(x.size),
    'full(x.size, 1.)': lambda L, x: L.full(x.size, 1.),
    'cat([x, x.t])': lambda L, x: L.cat([x, x.t]),
    'repeat(x.size)': lambda L, x: x.repeat(x.size),
    'tensor(x.tolist)': lambda L, x: L.tensor(x.tolist),
    'x.view(-1, x.size)': lambda L, x: x.view(-1, x.size),
    'linear(x, x.t)': lambda L, x: L.nn.functional.linear(x, x.t),
    'index_select(0, x.long)': lambda L, x: x.index_select(0, x.long),
}


@pytest.mark.parametrize('name', list(MISUSE))
def test_misuse_errors_name_a_method_as_pytorch(name):
    got = []
    for L in (torch, ember):
        with pytest.raises(Exception) as info:
            MISUSE[name](L, L.ones(2, 3))
        got.append((type(info.value).__name__, str(info.value)))
    assert got[1] == got[0]
    assert 'bound method' not in got[1][1] and '0x' not in got[1][1]


def test_size_with_an_int_dim_still_answers():
    x = ember.ones(2, 3)
    assert x.size(-1) == 3 and x.size(np.int64(0)) == 2 and x.size() == (2, 3)


# -- storages over memory the program lent (from_numpy, as_tensor, frombuffer) are not resizable -----------
def _lent(L, how):
    if how == 'from_numpy':
        return L.from_numpy(np.arange(4, dtype=np.float32))
    if how == 'as_tensor':
        return L.as_tensor(np.arange(4, dtype=np.float32))
    if how == 'view_of_from_numpy':
        return L.from_numpy(np.arange(6, dtype=np.float32))[1:5]
    if how == 'frombuffer':
        return L.frombuffer(bytearray(16), dtype=L.float32)
    return L.zeros(4)


@pytest.mark.parametrize('how', ['from_numpy', 'as_tensor', 'view_of_from_numpy', 'frombuffer', 'zeros'])
def test_storage_resizable_and_resize_refusals_as_pytorch(how):
    got = []
    for L in (torch, ember):
        t = _lent(L, how)
        r = [t.untyped_storage().resizable()]
        for grow in (lambda: t.resize_(2).shape, lambda: _lent(L, how).resize_(8).shape,
                     lambda: _lent(L, how).untyped_storage().resize_(64) and None):
            try:
                out = grow()
                r.append(None if out is None else tuple(out))
            except RuntimeError as e:
                r.append(str(e))
        got.append(r)
    if how == 'zeros':      # (ember does not grow a tensor's storage under it: its own refusal, checked apart)
        got = [g[:3] for g in got]
    assert got[1] == got[0]


def test_new_storage_resizes():
    for L in (torch, ember):
        s = L.UntypedStorage(8)
        assert s.resizable() and s.resize_(16).nbytes() == 16


# -- torch.func.linearize / jvp: PyTorch's error types for bad primals and tangents -------------------------
LINEARIZE = {
    'int primal': lambda L: L.func.linearize(L.sin, L.arange(3)),
    'bad tangent shape': lambda L: L.func.linearize(L.sin, L.ones(3))[1](L.ones(4)),
    'bad tangent dtype': lambda L: L.func.linearize(L.sin, L.ones(3))[1](L.ones(3, dtype=L.float64)),
    'two tangents': lambda L: L.func.linearize(L.sin, L.ones(3))[1](L.ones(3), L.ones(3)),
    'jvp int primal': lambda L: L.func.jvp(L.sin, (L.arange(3),), (L.ones(3),)),
    'jvp int tangent': lambda L: L.func.jvp(L.sin, (L.ones(3),), (L.arange(3),)),
    'jvp list primals': lambda L: L.func.jvp(L.sin, [L.ones(3)], (L.ones(3),)),
}


@pytest.mark.parametrize('name', list(LINEARIZE))
def test_linearize_and_jvp_refusals_as_pytorch(name):
    got = []
    for L in (torch, ember):
        with pytest.raises(Exception) as info:
            LINEARIZE[name](L)
        got.append((type(info.value).__name__, str(info.value)))
    assert got[1] == got[0]


def test_linearize_still_differentiates():
    x = np.array([0.3, -1.2, 2.0])
    for L in (torch, ember):
        out, fn = L.func.linearize(L.sin, L.tensor(x))
        np.testing.assert_allclose(fn(L.ones(3, dtype=L.float64)).numpy(), np.cos(x), rtol=1e-12)


def test_abs_gradient_graph_is_sgn_as_pytorch():
    # (first order only: PyTorch's second derivative of abs is a ZeroTensor, which it will not convert to NumPy)
    a = np.array([0.3, -0.7, 1.2, -2.5])
    res = []
    for L in (torch, ember):
        x = L.tensor(a, requires_grad=True)
        g, = L.autograd.grad(L.abs(x).sum(), x, create_graph=True)
        res.append((_walk(g.grad_fn), g.detach().numpy()))
    assert res[1][0] == res[0][0] == ['MulBackward0', '  SgnBackward0', '    torch::autograd::AccumulateGrad']
    np.testing.assert_array_equal(res[1][1], res[0][1])
