"""Second derivatives through complex ops (torch.complex, polar, view_as_real/view_as_complex, .real/.imag, conj,
abs, angle, sgn, complex mul/div, fft, inv/solve, eig) and complex gradients of diag_embed/diagonal/trace/indexing
(eig's backward uses them), against PyTorch, including z = 0 where sgn/angle's second derivative is NaN as there."""
import numpy as np
import pytest
import torch

import ember

_CASES = {
    'complex': lambda L, a, b: L.view_as_real(L.complex(a, b) ** 2),
    'polar': lambda L, a, b: L.view_as_real(L.polar(a, b) ** 2),
    'real_imag': lambda L, a, b: (L.complex(a, b) ** 3).real * (L.complex(a, b) ** 2).imag,
    'view_as_complex': lambda L, a, b: L.view_as_real(L.view_as_complex(L.stack([a, b], -1)) ** 2),
    'abs': lambda L, a, b: (L.complex(a, b) ** 2).abs(),
    'angle': lambda L, a, b: (L.complex(a, b) * L.complex(b, a)).angle(),
    'sgn': lambda L, a, b: L.view_as_real(L.complex(a, b).sgn() * L.complex(a, b)),
    'conj_div': lambda L, a, b: L.view_as_real(L.complex(a, b).conj() / (L.complex(b, a) + 3)),
    'fft': lambda L, a, b: L.view_as_real(L.fft.fft(L.complex(a, b)) ** 2),
    'rfft_irfft': lambda L, a, b: L.fft.irfft(L.fft.rfft(a * b) ** 2),
    'diag_embed': lambda L, a, b: L.view_as_real(L.diag_embed(L.complex(a, b) ** 2, 1)),
    'diagonal_trace': lambda L, a, b: L.view_as_real(L.complex(a, b).reshape(3, 3).diagonal() ** 2
                                                     + L.complex(a, b).reshape(3, 3).trace()),
    'inv_solve': lambda L, a, b: L.view_as_real(L.linalg.inv(L.complex(a, b).reshape(3, 3) + 3 * L.eye(3))
                                                @ L.linalg.solve(L.complex(b, a).reshape(3, 3) + 3 * L.eye(3),
                                                                 L.complex(a, b)[:3])),
    'eigvals': lambda L, a, b: L.view_as_real(L.linalg.eigvals(L.complex(a, b).reshape(3, 3)) ** 2),
    'eig_vectors': lambda L, a, b: (lambda lv: L.view_as_real(L.diag_embed(lv[0]) @ (lv[1] * lv[1].conj())))(
        L.linalg.eig(L.complex(a, b).reshape(3, 3))),
    'gather_take': lambda L, a, b: L.view_as_real(L.complex(a, b).take(L.tensor([0, 4, 4])) ** 2
                                                  * L.complex(a, b).index_select(0, L.tensor([1, 2, 8]))),
}


def _second(L, f, A, B):
    """First derivatives (create_graph) and the second derivatives of a weighted sum of them."""
    a, b = L.tensor(A, requires_grad=True), L.tensor(B, requires_grad=True)
    y = f(L, a, b)
    w = L.tensor(np.linspace(0.3, 1.1, y.numel()).reshape(tuple(y.shape)))
    ga, gb = L.autograd.grad((y * w).sum(), (a, b), create_graph=True)
    h = L.autograd.grad((ga * ga).sum() + (gb * ga.cos()).sum(), (a, b), allow_unused=True)
    return [t.detach().numpy() for t in (ga, gb, *h)]


@pytest.mark.parametrize('name', list(_CASES))
@pytest.mark.parametrize('zero', [False, True], ids=['generic', 'with_zero'])
def test_second_derivatives_equal_pytorchs(name, zero):
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal(9), rng.standard_normal(9)
    if zero:
        A[3] = B[3] = 0.0
    if name == 'polar':
        A = np.abs(A) - 0.5 * (np.arange(9) % 2)   # negative and zero moduli too
    with np.errstate(all='ignore'):
        got, want = _second(ember, _CASES[name], A, B), _second(torch, _CASES[name], A, B)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10, equal_nan=True)


@pytest.mark.parametrize('name', ['complex', 'polar', 'sgn', 'angle', 'fft'])
def test_gradgradcheck_through_complex128(name):
    """Real float64 inputs through complex128 intermediates (ember's gradgradcheck takes real inputs)."""
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal(9) + 2, rng.standard_normal(9)
    inputs = (ember.tensor(A, requires_grad=True), ember.tensor(B, requires_grad=True))
    assert ember.autograd.gradgradcheck(lambda a, b: _CASES[name](ember, a, b), inputs)


def test_eig_gradient_through_complex_diag_embed():
    A = np.random.default_rng(5).standard_normal((3, 3))
    grads = []
    for L in (ember, torch):
        a = L.tensor(A, requires_grad=True)
        lam, v = L.linalg.eig(a)
        y = L.view_as_real(L.diag_embed(lam * lam) @ (v * v.conj()))
        grads.append(L.autograd.grad((y ** 2).sum() + v.abs().sum(), a)[0].numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize('sa,sb', [((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (4,)),
                                   ((4,), (2, 4, 3)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 3))])
def test_batched_complex_matmul_gradients_equal_pytorchs(sa, sb):
    """A batched matmul's node (named UnsafeViewBackward0, as a view's) conjugates as a product's: it once gave
    the transpose's gradient where PyTorch's is the conjugate transpose's."""
    rng = np.random.default_rng(2)
    A, B = (rng.standard_normal(s) + 1j * rng.standard_normal(s) for s in (sa, sb))
    s = rng.uniform(-1, 1, np.broadcast_shapes(sa[:-2] if len(sa) > 1 else (), sb[:-2]) + sa[-2:-1] + sb[-1:]
                    + (2,) if len(sb) > 1 else sa[:-1] + (2,))
    res = []
    for L in (ember, torch):
        a, b = L.tensor(A, requires_grad=True), L.tensor(B, requires_grad=True)
        g = L.autograd.grad(L.view_as_real(a @ b), (a, b), L.tensor(s), create_graph=True)
        h = L.autograd.grad(sum(L.view_as_real(x * x).sum() for x in g), (a, b))
        res.append([x.detach().resolve_conj().numpy() for x in g + h])
    for got, want in zip(*res):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
