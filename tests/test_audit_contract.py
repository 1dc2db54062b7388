"""The autograd contract against PyTorch: a tensor PyTorch's node saves, changed in place after the forward, makes
backward raise PyTorch's error (naming the output PyTorch names), and one it does not save may change; and the
gradients PyTorch gives for complex inputs (conjugate Wirtinger convention), checked against PyTorch and by ember's
gradcheck/gradgradcheck. Found by a fuzzer over the registry's differentiable ops (each input and output changed)."""
import warnings

import numpy as np
import pytest
import torch

import ember

R = np.random.default_rng(7)


def _f64(*shape, lo=0.5, hi=2.0):
    return R.uniform(lo, hi, size=shape)


def _c128(*shape):
    return R.standard_normal(shape) + 1j * R.standard_normal(shape)


A33 = np.array([[2., 1, 0.5], [1, 3, 1], [0.5, 1, 4]])
TRI = np.triu(A33) + np.eye(3)


def _lu_solve(L, A, B):
    LU, piv = L.linalg.lu_factor(A.detach())
    LU.requires_grad_()
    return [L.linalg.lu_solve(LU, piv, B), piv, LU]


def _lu_factor(L, A):
    LU, piv = L.linalg.lu_factor(A)
    return [LU, piv]


# (id, fn(lib, *inputs) -> the tensors that may be changed: inputs first, then outputs, as ``targets`` number them,
#  input arrays, targets); each target is changed in place under no_grad after the forward, then backward runs
INPLACE = [
    ('pow', lambda L, a, b: [a, b, L.pow(a, b)], (_f64(2, 3), _f64(2, 3)), (0, 1, 2)),
    ('pow_scalar_base', lambda L, b: [b, L.pow(2.0, b)], (_f64(2, 3),), (0, 1)),
    ('pow_number_exponent', lambda L, a: [a, L.pow(a, 3)], (_f64(2, 3),), (0, 1)),
    ('float_power', lambda L, a, b: [a, b, L.float_power(a, b)], (_f64(2, 3), _f64(2, 3)), (0, 1, 2)),
    ('hypot', lambda L, a, b: [a, b, L.hypot(a, b)], (_f64(2, 3), _f64(2, 3)), (0, 1, 2)),
    ('ldexp', lambda L, a, b: [a, b, L.ldexp(a, b)], (_f64(2, 3), _f64(2, 3)), (1, 2)),
    ('pow_', lambda L, a, b: [a, b, (a * 1).pow_(b)], (_f64(2, 3), _f64(2, 3)), (2,)),
    ('hypot_', lambda L, a, b: [a, b, (a * 1).hypot_(b)], (_f64(2, 3), _f64(2, 3)), (2,)),
    ('qr_R', lambda L, a: [a, *L.linalg.qr(a)], (_f64(4, 3),), (1, 2)),
    ('svdvals', lambda L, a: [a, L.linalg.svdvals(a)], (_f64(4, 3),), (0, 1)),
    ('lu', lambda L, a: [a, *L.linalg.lu(a)], (_f64(4, 3),), (0, 1, 2, 3)),
    ('lu_factor', lambda L, a: [a, *_lu_factor(L, a)], (A33,), (0, 1, 2)),
    ('lu_solve', lambda L, a, b: [a, b, *_lu_solve(L, a, b)], (A33, _f64(3, 2)), (1, 2, 3, 4)),
    ('complex', lambda L, a, b: [a, b, L.complex(a, b)], (_f64(2, 3), _f64(2, 3)), (0, 1)),
    ('slogdet', lambda L, a: [a, *L.linalg.slogdet(a)], (A33,), (0, 1, 2)),
    ('householder_product', lambda L, a, t: [a, t, L.linalg.householder_product(a, t)], (_f64(4, 3), _f64(3)),
     (0, 1, 2)),
    ('triangular_solve', lambda L, b, a: [b, a, *L.triangular_solve(b, a)], (_f64(3, 2), TRI), (0, 1, 2)),
    ('cholesky_solve', lambda L, b, a: [b, a, L.cholesky_solve(b, L.linalg.cholesky(a))], (_f64(3, 2), A33),
     (0, 1, 2)),
    ('rfft', lambda L, a: [a, L.fft.rfft(a)], (_f64(2, 5),), (0,)),
    ('rfft_padded', lambda L, a: [a, L.fft.rfft(a, n=8)], (_f64(2, 5),), (0,)),
    ('fft_real', lambda L, a: [a, L.fft.fft(a)], (_f64(2, 5),), (0,)),
    ('ihfft', lambda L, a: [a, L.fft.ihfft(a)], (_f64(2, 5),), (0,)),
    ('ctc_loss', lambda L, x, t: [x, t, L.nn.functional.ctc_loss(x.log_softmax(2), t, (6, 5), (3, 2))],
     (_f64(6, 2, 4), np.array([[1, 2, 3], [2, 1, 0]])), (1,)),
]


def _run(lib, fn, arrays, target):
    """'ok' or the error message (less its hint) of backward after target ``target`` changed in place."""
    xs = [lib.tensor(a, requires_grad=a.dtype.kind == 'f') for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')    # (triangular_solve's deprecation)
        got = fn(lib, *xs)
    with lib.no_grad():
        got[target].copy_(got[target].clone())
    outs = [o for o in got[len(arrays):] if o.requires_grad]
    loss = sum((lib.view_as_real(o.resolve_conj()).sum() if o.is_complex() else o.sum()) for o in outs)
    try:
        loss.backward()
    except RuntimeError as e:
        return str(e).split(' Hint:')[0]
    return 'ok'


@pytest.mark.parametrize('name,fn,arrays,target', [(n, f, a, t) for n, f, a, ts in INPLACE for t in ts],
                         ids=[f'{n}-{t}' for n, f, a, ts in INPLACE for t in ts])
def test_saved_tensor_changed_in_place(name, fn, arrays, target):
    assert _run(ember, fn, arrays, target) == _run(torch, fn, arrays, target)


def test_lu_outputs_numbered_as_pytorchs():
    """linalg.lu's P is not differentiable: L and U are the node's outputs 0 and 1, as PyTorch's."""
    got = []
    for lib in (torch, ember):
        A = lib.tensor(_f64(4, 3), requires_grad=True)
        P, L_, U = lib.linalg.lu(A)
        got.append((P.requires_grad, L_.output_nr, U.output_nr, (L_ * 1).grad_fn.next_functions[0][1]))
    assert got[0] == got[1]


C33 = _c128(3, 3)
C33_ZERO = C33.copy()
C33_ZERO[1, 2] = 0
C33_ZEROS = C33_ZERO.copy()
C33_ZEROS[0, 0] = 0
SING = np.array([[1 + 1j, 2, 3j], [2 + 2j, 4, 6j], [1, 1j, 2 - 1j]])   # det exactly 0

# (id, fn(lib, x) -> complex or real tensor, complex input, gradgradcheck)
COMPLEX_GRAD = [
    ('prod', lambda L, x: L.prod(x), C33, True),
    ('prod_one_zero', lambda L, x: L.prod(x), C33_ZERO, True),
    ('prod_two_zeros', lambda L, x: L.prod(x), C33_ZEROS, True),
    ('prod_dim', lambda L, x: L.prod(x, 1), C33_ZERO, True),
    ('prod_keepdim', lambda L, x: x.prod(0, keepdim=True), C33, True),
    ('cumprod', lambda L, x: L.cumprod(x, 1), C33, True),
    ('cumprod_zeros', lambda L, x: L.cumprod(x, 1), C33_ZEROS, True),
    ('cumprod_dim0', lambda L, x: x.cumprod(0), C33_ZERO, True),
    ('det', lambda L, x: L.linalg.det(x), C33, True),
    ('det_batch', lambda L, x: L.det(x), _c128(2, 3, 3), True),
    ('det_1x1', lambda L, x: L.linalg.det(x), _c128(1, 1), True),
    ('det_singular', lambda L, x: L.linalg.det(x), SING, False),
]


@pytest.mark.parametrize('name,fn,x,gg', COMPLEX_GRAD, ids=[c[0] for c in COMPLEX_GRAD])
def test_complex_gradient(name, fn, x, gg):
    """The gradient of a complex (or real) result for a complex seed, against PyTorch's; and ember's gradcheck."""
    grads = []
    for lib in (torch, ember):
        t = lib.tensor(x, requires_grad=True)
        out = fn(lib, t)
        seed = np.full(tuple(out.shape), 0.3 - 0.7j) if out.is_complex() else np.full(tuple(out.shape), 0.6)
        out.backward(lib.tensor(seed))
        grads.append(t.grad.detach().numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-7, atol=1e-9)
    t = ember.tensor(x, requires_grad=True)
    assert ember.autograd.gradcheck(lambda v: fn(ember, v), (t,))
    if gg:
        assert ember.autograd.gradgradcheck(lambda v: fn(ember, v), (t,))
