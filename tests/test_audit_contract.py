"""The autograd contract against PyTorch: a tensor PyTorch's node saves, changed in place after the forward, makes
backward raise PyTorch's error (naming the output PyTorch names), and one it does not save may change; and the
gradients PyTorch gives for complex inputs (conjugate Wirtinger convention), checked against PyTorch and by ember's
gradcheck/gradgradcheck. Found by a fuzzer over the registry's differentiable ops (each input and output changed)."""
import re
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


def _rrelu_(L, x):
    L.manual_seed(0)
    return [x, L.nn.functional.rrelu_(x * 1, training=True)]


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
    ('ldexp', lambda L, a, b: [a, b, L.ldexp(a, b)], (_f64(2, 3), _f64(2, 3)), (0, 1, 2)),
    ('ldexp_broadcast', lambda L, a, b: [a, b, L.ldexp(a, b)], (_f64(1, 3), _f64(2, 1)), (0, 1, 2)),
    ('special.ndtr', lambda L, a: [a, L.special.ndtr(a)], (_f64(2, 3, lo=-1),), (0, 1)),
    ('matmul_2d_3d', lambda L, a, b: [a, b, a @ b], (_f64(2, 3), _f64(4, 3, 5)), (0, 1, 2)),
    ('matmul_1d_3d', lambda L, a, b: [a, b, a @ b], (_f64(3), _f64(4, 3, 5)), (0, 1, 2)),
    ('matmul_2d_4d', lambda L, a, b: [a, b, L.matmul(a, b)], (_f64(2, 3), _f64(2, 2, 3, 5)), (0, 1)),
    ('sdpa_math', lambda L, q, k, v: [q, k, v, L.nn.functional.scaled_dot_product_attention(q, k, v)],
     (_f64(1, 2, 3), _f64(1, 3, 3), _f64(1, 3, 3)), (0, 1)),
    ('sdpa_math_mask', lambda L, q, k, v, m: [q, k, v, m, L.nn.functional.scaled_dot_product_attention(q, k, v, m)],
     (_f64(1, 2, 3), _f64(1, 3, 3), _f64(1, 3, 3), _f64(2, 3)), (0, 1, 3)),
    ('sdpa_flash', lambda L, q, k, v: [q, k, v, L.nn.functional.scaled_dot_product_attention(q, k, v)],
     (_f64(1, 1, 2, 3), _f64(1, 1, 3, 3), _f64(1, 1, 3, 3)), (0, 1, 2)),
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
    ('rrelu_', _rrelu_, (_f64(2, 3, lo=-1),), (1,)),
    ('ctc_loss', lambda L, x, t: [x, t, L.nn.functional.ctc_loss(x.log_softmax(2), t, (6, 5), (3, 2))],
     (_f64(6, 2, 4), np.array([[1, 2, 3], [2, 1, 0]])), (1,)),
    ('take_along_dim', lambda L, x: [x, L.take_along_dim(x, L.tensor([[0], [3], [1]]), 1)], (_f64(3, 4),), (0, 1)),
    ('take_along_dim_broadcast', lambda L, x: [x, L.take_along_dim(x, L.tensor([[0], [3]]), 1)], (_f64(1, 4),), (0,)),
    # the 1-D pools save input.unsqueeze(-2) and their 4-D indices, which PyTorch's errors name
    ('max_pool1d', lambda L, x: [x, L.nn.functional.max_pool1d(x, 2)], (_f64(1, 2, 6),), (0, 1)),
    ('max_pool1d_indices', lambda L, x: [x, *L.nn.functional.max_pool1d(x, 2, return_indices=True)], (_f64(1, 2, 6),),
     (0, 1, 2)),
    ('torch.max_pool1d_2d_input', lambda L, x: [x, L.max_pool1d(x, 3, 2)], (_f64(2, 7),), (0,)),
    ('avg_pool1d', lambda L, x: [x, L.nn.functional.avg_pool1d(x, 3)], (_f64(1, 2, 6),), (0, 1)),
    ('adaptive_avg_pool1d', lambda L, x: [x, L.nn.functional.adaptive_avg_pool1d(x, 2)], (_f64(1, 2, 7),), (0, 1)),
    ('adaptive_max_pool1d', lambda L, x: [x, *L.nn.functional.adaptive_max_pool1d(x, 2, return_indices=True)],
     (_f64(1, 2, 7),), (0, 1, 2)),
    ('lp_pool1d', lambda L, x: [x, L.nn.functional.lp_pool1d(x, 2.0, 2)], (_f64(1, 2, 6),), (0, 1)),
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


def test_take_along_dim_graph():
    """PyTorch's take_along_dim expands its input whatever the shapes (ember did only when they differed)."""
    got = []
    for L in (torch, ember):
        y = L.take_along_dim(L.ones(3, 4, requires_grad=True), L.tensor([[0], [1], [2]]), 1)
        got.append(_graph(y.grad_fn))
    assert got[1] == got[0]


def _graph(fn):
    """A grad_fn's graph as (depth, name) rows."""
    rows, todo = [], [(fn, 0)]
    while todo:
        f, d = todo.pop()
        if f is not None:
            rows.append((d, f.name()))
            todo.extend((g, d + 1) for g, _ in reversed(f.next_functions))
    return rows


@pytest.mark.parametrize('sa,sb,need', [((2, 3), (4, 3, 5), (True, True)), ((2, 3), (4, 3, 5), (True, False)),
                                        ((3,), (2, 4, 3, 5), (True, True)), ((3,), (4, 3, 5), (True, False))])
def test_matmul_small_by_stack_graph(sa, sb, need):
    """A vector or matrix requiring grad times a stack is PyTorch's folded product (CloneBackward0 over the
    transposed mm for a matrix): its graph, values and gradients."""
    got, arrays = [], (_f64(*sa), _f64(*sb))
    for lib in (torch, ember):
        a, b = (lib.tensor(x, requires_grad=n) for x, n in zip(arrays, need))
        out = a @ b
        grads = lib.autograd.grad(out, [t for t in (a, b) if t.requires_grad], lib.ones_like(out))
        got.append((_graph(out.grad_fn), out.shape, out.stride(), out.detach().numpy(), [g.numpy() for g in grads]))
    assert got[1][:3] == got[0][:3]
    np.testing.assert_allclose(got[1][3], got[0][3], rtol=1e-12)
    for g1, g0 in zip(got[1][4], got[0][4]):
        np.testing.assert_allclose(g1, g0, rtol=1e-12)


def test_ldexp_saves_other_and_result():
    """PyTorch's LdexpBackward0 saves other and the result (no self); its double backward, as ember's gradgradcheck."""
    got = []
    for lib in (torch, ember):
        a, b = lib.tensor(_f64(1, 3), requires_grad=True), lib.tensor(_f64(2, 1), requires_grad=True)
        fn = lib.ldexp(a, b).grad_fn
        got.append((hasattr(fn, '_saved_self'), fn._saved_other.shape, fn._saved_result.shape))
    assert got[1] == got[0]
    args = (ember.tensor(_f64(1, 3), requires_grad=True), ember.tensor(_f64(2, 1), requires_grad=True))
    assert ember.autograd.gradgradcheck(ember.ldexp, args)
    assert ember.autograd.gradgradcheck(ember.special.ndtr, args[:1])


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

V4 = _c128(4)

# (id, fn(lib, x) -> complex or real tensor, complex input, ember's checks: 2 gradcheck and gradgradcheck, 1 gradcheck,
#  0 none: at an exactly singular matrix det's gradient is PyTorch's 0, not the adjugate finite differences see)
COMPLEX_GRAD = [
    ('prod', lambda L, x: L.prod(x), C33, 2),
    ('prod_one_zero', lambda L, x: L.prod(x), C33_ZERO, 2),
    ('prod_two_zeros', lambda L, x: L.prod(x), C33_ZEROS, 2),
    ('prod_dim', lambda L, x: L.prod(x, 1), C33_ZERO, 2),
    ('prod_keepdim', lambda L, x: x.prod(0, keepdim=True), C33, 2),
    ('cumprod', lambda L, x: L.cumprod(x, 1), C33, 2),
    ('cumprod_zeros', lambda L, x: L.cumprod(x, 1), C33_ZEROS, 2),
    ('cumprod_dim0', lambda L, x: x.cumprod(0), C33_ZERO, 2),
    ('det', lambda L, x: L.linalg.det(x), C33, 2),
    ('det_batch', lambda L, x: L.det(x), _c128(2, 3, 3), 2),
    ('det_1x1', lambda L, x: L.linalg.det(x), _c128(1, 1), 2),
    ('det_singular', lambda L, x: L.linalg.det(x), SING, 0),
    ('linalg.norm', lambda L, x: L.linalg.norm(x), _c128(2, 3), 2),
    ('linalg.norm_ord3_dim', lambda L, x: L.linalg.norm(x, 3, dim=1), _c128(2, 3), 2),
    ('linalg.norm_nuc', lambda L, x: L.linalg.norm(x, 'nuc'), _c128(3, 2), 2),
    ('matrix_norm_fro', lambda L, x: L.linalg.matrix_norm(x), _c128(2, 3, 4), 2),
    ('matrix_norm_1', lambda L, x: L.linalg.matrix_norm(x, 1), _c128(2, 3, 4), 2),
    ('matrix_norm_-inf_dims', lambda L, x: L.linalg.matrix_norm(x, float('-inf'), dim=(0, 2)), _c128(2, 3, 4), 2),
    ('matrix_norm_inf_keepdim', lambda L, x: L.linalg.matrix_norm(x, float('inf'), keepdim=True), _c128(2, 3, 4), 2),
    ('matrix_norm_2', lambda L, x: L.linalg.matrix_norm(x, 2), _c128(2, 3, 4), 2),
    ('matrix_norm_nuc', lambda L, x: L.linalg.matrix_norm(x, 'nuc'), _c128(2, 4, 3), 2),
    ('svdvals', lambda L, x: L.linalg.svdvals(x), _c128(2, 4, 3), 2),
    ('matrix_exp', lambda L, x: L.linalg.matrix_exp(x * 0.7), _c128(3, 3), 2),
    ('matrix_exp_batch', lambda L, x: L.matrix_exp(x), _c128(2, 2, 2), 2),
    ('matrix_exp_method_1x1', lambda L, x: x.matrix_exp(), _c128(1, 1), 2),
    ('vdot_first', lambda L, x: L.vdot(x, L.tensor(V4)), _c128(4), 2),
    ('vdot_second', lambda L, x: L.vdot(L.tensor(V4), x), _c128(4), 2),
    ('vdot_both', lambda L, x: L.vdot(x, x * 2), _c128(4), 2),
]


@pytest.mark.parametrize('name,fn,x,checks', COMPLEX_GRAD, ids=[c[0] for c in COMPLEX_GRAD])
def test_complex_gradient(name, fn, x, checks):
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
    if checks:
        assert ember.autograd.gradcheck(lambda v: fn(ember, v), (t,))
    if checks == 2:
        assert ember.autograd.gradgradcheck(lambda v: fn(ember, v), (t,))


def _functions(lib):
    """Custom Functions of a complex input: z*z with the gradient PyTorch's convention wants (conj(2z)) and without
    the conjugation, and |z|^2 (a real output) with half its gradient."""
    def fn(grad):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return (x * x.conj()).real if grad == 'half' else x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return {'right': g * (2 * x).conj(), 'unconjugated': g * 2 * x, 'half': g * x}[grad]
        return F.apply
    return fn


@pytest.mark.parametrize('grad', ['right', 'unconjugated', 'half'])
@pytest.mark.parametrize('check', ['gradcheck', 'gradgradcheck'])
def test_gradcheck_of_complex_inputs(grad, check):
    """gradcheck/gradgradcheck differentiate complex inputs along their real and imaginary parts (they once skipped
    them and passed anything): PyTorch's verdict, and its message's first line."""
    got = []
    for lib in (torch, ember):
        x = lib.tensor(np.array([1 + 2j, -0.5 + 0.3j]), requires_grad=True)
        try:
            got.append(getattr(lib.autograd, check)(_functions(lib)(grad), (x,)))
        except Exception as e:   # GradcheckError (PyTorch's subclasses RuntimeError), compared by message
            got.append((isinstance(e, RuntimeError), str(e).split('numerical')[0]))
    assert got[1] == got[0]


def _no_jvp_function(lib):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2
    return Double.apply


# (id, fn(lib, dual x) -> tensor): forward-mode AD through the op, against PyTorch's tangent or its refusal
FORWARD_AD = [
    ('hardsigmoid', lambda L, x: L.nn.functional.hardsigmoid(x * 4)),
    ('hardsigmoid_inplace', lambda L, x: L.nn.functional.hardsigmoid(x * 4, inplace=True)),
    ('segment_reduce', lambda L, x: L.segment_reduce(x, 'sum', lengths=L.tensor([2, 1]))),
    ('special.zeta_input', lambda L, x: L.special.zeta(x + 2, 1.5)),
    ('special.zeta_other', lambda L, x: L.special.zeta(2.5, x + 1)),
    ('conv_tbc', lambda L, x: L.conv_tbc(x.reshape(3, 1, 2), L.ones(2, 2, 3, dtype=L.float64),
                                         L.ones(3, dtype=L.float64))),
    ('Function_without_jvp', lambda L, x: _no_jvp_function(L)(x)),
    ('Function_without_jvp_plain_input', lambda L, x: _no_jvp_function(L)(x.detach())),
]
X32 = R.uniform(-1, 1, (3, 2))
T32 = R.standard_normal((3, 2))


def _forward_ad(lib, fn):
    fa = lib.autograd.forward_ad
    try:
        with fa.dual_level():
            out = fn(lib, fa.make_dual(lib.tensor(X32), lib.tensor(T32)))
            tangent = fa.unpack_dual(out).tangent
            return None if tangent is None else tangent.numpy()
    except NotImplementedError as e:
        return str(e)


@pytest.mark.parametrize('name,fn', FORWARD_AD, ids=[r[0] for r in FORWARD_AD])
def test_forward_ad(name, fn):
    got, want = _forward_ad(ember, fn), _forward_ad(torch, fn)
    if isinstance(want, np.ndarray):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    else:
        assert got == want


@pytest.mark.parametrize('shape,dim', [((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -2), ((5,), 0)])
def test_forward_ad_of_logcumsumexp(shape, dim):
    """logcumsumexp's tangent (ember's zeros once: its log-space gradient's derivative in the cotangent is 0 at 0)."""
    rng = np.random.default_rng(len(shape) * 10 + dim)   # (its own draws: PyTorch's tangent is the one off here)
    x, t = rng.standard_normal(shape) * 3, rng.standard_normal(shape)
    got = []
    for lib in (torch, ember):
        fa = lib.autograd.forward_ad
        with fa.dual_level():
            got.append(fa.unpack_dual(lib.logcumsumexp(fa.make_dual(lib.tensor(x), lib.tensor(t)), dim)).tangent.numpy())
    # (PyTorch's own tangent is off the exact one by up to ~1e-9 relative: its formula subtracts in log space)
    np.testing.assert_allclose(got[1], got[0], rtol=1e-7, atol=1e-12)


def test_func_jvp_of_hardsigmoid():
    """torch.func.jvp through hardsigmoid (whose backward PyTorch does not differentiate, but whose forward formula
    it has): PyTorch's tangent."""
    got = [lib.func.jvp(lib.nn.functional.hardsigmoid, (lib.tensor(X32 * 4),), (lib.tensor(T32),))[1].numpy()
           for lib in (torch, ember)]
    np.testing.assert_allclose(got[1], got[0], rtol=1e-12)


Z3 = np.array([1 + 2j, -0.5 + 0.3j, 2 - 1j])


def _versions_through(L, view):
    z = L.tensor(Z3, requires_grad=True) * 1
    v = view(L, z)
    with L.no_grad():
        v.mul_(2)
    return z._version, v._version, z.detach().numpy().tolist()


def _saved_view_then_base_changed(L, view):
    z = L.tensor(Z3, requires_grad=True) * 1
    w = view(L, z)
    w = w * w
    with L.no_grad():
        z.mul_(2)
    w.sum().backward()


def _base_saved_then_view_changed(L, view):
    z = L.tensor(Z3, requires_grad=True) * 1
    y = z * z
    with L.no_grad():
        view(L, z).mul_(2)
    L.view_as_real(y).sum().backward()


def _view_of_leaf_changed(L, view):
    view(L, L.tensor(Z3, requires_grad=True)).mul_(2)


def _complex_view_saved(L, view):
    r = L.view_as_complex(L.tensor(np.ones((3, 2)), requires_grad=True) * 1)
    y = r * r
    with L.no_grad():
        view(L, r).mul_(3)
    y.abs().sum().backward()


VIEWS = {'real': lambda L, z: z.real, 'imag': lambda L, z: z.imag, 'view_as_real': lambda L, z: L.view_as_real(z),
         'view_as_real_select': lambda L, z: L.view_as_real(z)[:, 0]}


@pytest.mark.parametrize('case', [_versions_through, _saved_view_then_base_changed, _base_saved_then_view_changed,
                                  _view_of_leaf_changed, _complex_view_saved], ids=lambda f: f.__name__.strip('_'))
@pytest.mark.parametrize('view', list(VIEWS), ids=list(VIEWS))
def test_real_views_of_complex(case, view):
    """.real, .imag and view_as_real of a complex tensor that requires grad are views: the base's version counter,
    PyTorch's errors for saved tensors changed in place through them (naming the output PyTorch names)."""
    got = []
    for lib in (torch, ember):
        try:
            got.append(case(lib, VIEWS[view]))
        except RuntimeError as e:
            got.append(str(e).split(' Hint:')[0])
    assert got[1] == got[0]


@pytest.mark.parametrize('view', list(VIEWS), ids=list(VIEWS))
def test_recorded_change_through_real_view_refused(view):
    """A recorded in-place change through a real view of a complex tensor: PyTorch records a CopySlices, ember
    (which does not rebase such views) refuses it clearly rather than dropping the change from the gradient."""
    z = torch.tensor(Z3, requires_grad=True) * 1
    VIEWS[view](torch, z).mul_(torch.tensor(0.5, dtype=torch.float64, requires_grad=True))
    assert z.grad_fn.name() == 'torch::autograd::CopySlices'
    z = ember.tensor(Z3, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match='ember does not record an in-place change, under grad mode, through a real'):
        VIEWS[view](ember, z).mul_(ember.tensor(0.5, dtype=ember.float64, requires_grad=True))


def _stale_split(L, split, change):
    """An output of a multi-view function (split/chunk/unbind) after an in-place change to its base or a
    sibling: its steps up to the first refusal (PyTorch refuses on reading its grad_fn: its first recorded use)."""
    x = L.tensor(np.arange(12.).reshape(6, 2), requires_grad=True)
    y = x * 1
    outs = split(L, y)
    steps = []
    try:
        change(L, y, outs)
        steps.append('changed')
        with L.no_grad():
            steps.append(float(outs[-1].sum()))    # (no grad_fn read under no_grad)
        steps.append(repr(outs[-1]).split('grad_fn=')[-1])
        steps.append(outs[-1].output_nr)
        steps.append(outs[-1].detach().tolist())
        for use in (lambda o: o.is_leaf, lambda o: o.retain_grad(), lambda o: o.view(-1), lambda o: o * 2,
                    lambda o: o.sum()):
            for o in outs:
                try:
                    use(o)
                    steps.append('ok')
                except RuntimeError as e:
                    steps.append(str(e))
        sum(o.sum() for o in outs).backward()
        steps.append(x.grad.tolist())
    except RuntimeError as e:
        steps.append(str(e))
    return steps


SPLITS = {'split': lambda L, y: y.split(4), 'chunk': lambda L, y: y.chunk(3),
          'unbind': lambda L, y: y.unbind(), 'split_with_sizes': lambda L, y: y.split([1, 3, 2])}


def _nograd_base(L, y, outs):
    with L.no_grad():
        y.add_(1)


def _grad_base(L, y, outs):
    y.mul_(2)


def _nograd_sibling(L, y, outs):
    with L.no_grad():
        outs[0].add_(1)


def _grad_sibling(L, y, outs):
    outs[0].add_(1)


@pytest.mark.parametrize('change', [_nograd_base, _grad_base, _nograd_sibling, _grad_sibling],
                         ids=['nograd_base', 'grad_base', 'nograd_sibling', 'grad_sibling'])
@pytest.mark.parametrize('split', list(SPLITS), ids=list(SPLITS))
def test_stale_output_of_multi_view_function(split, change):
    assert _stale_split(ember, SPLITS[split], change) == _stale_split(torch, SPLITS[split], change)


def _function_with_jvp(L, factor):
    """sin with a backward and a jvp scaled by ``factor`` (1: right, 3: wrong): forward mode uses the jvp."""
    class SinJvp(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * x.cos()

        @staticmethod
        def jvp(ctx, t):
            x, = ctx.saved_tensors
            return t * x.cos() * factor
    return SinJvp


@pytest.mark.parametrize('factor', [1.0, 3.0])
def test_function_with_backward_and_jvp_uses_jvp(factor):
    def run(L):
        F = _function_with_jvp(L, factor)
        x = L.tensor([0.5, 1.0, -2.0], dtype=L.float64)
        fa = L.autograd.forward_ad
        with fa.dual_level():
            y = F.apply(fa.make_dual(x, L.tensor([1.0, -2.0, 0.5], dtype=L.float64)))
            tangent = fa.unpack_dual(y).tangent.tolist()
        xg = x.clone().requires_grad_()
        try:
            ok = L.autograd.gradcheck(F.apply, (xg,), check_forward_ad=True, check_backward_ad=False)
        except Exception as e:     # (PyTorch's GradcheckError: the wrong jvp)
            ok = str(e).split('\n')[0]
        return tangent, ok, L.autograd.gradcheck(F.apply, (xg,))
    t, e = run(torch), run(ember)
    np.testing.assert_allclose(e[0], t[0], rtol=1e-12)
    assert e[1:] == t[1:]


def _tangent_of_graph_primal(L):
    """A dual tensor whose primal requires grad, through sin and a product with that primal: the tangent (which
    requires grad), whether it and what is computed from it alone are dual, and the printed tangent and result."""
    fa = L.autograd.forward_ad
    p = L.tensor([1., 2.], dtype=L.float64, requires_grad=True)
    with fa.dual_level():
        y = fa.make_dual(p, L.tensor([3., 4.], dtype=L.float64, requires_grad=True)).sin() * p
        tangent = fa.unpack_dual(y).tangent
        text = [repr(tangent), repr(y)]
        return (tangent.detach().numpy(), tangent.requires_grad, fa.unpack_dual(tangent).tangent,
                fa.unpack_dual(tangent * 2).tangent, [re.sub(r'grad_fn=<\w+>', 'grad_fn', s) for s in text])


def test_tangent_of_dual_with_graph_primal_is_not_dual():
    """Printing such a tangent recursed in ember (its tangent was searched for, itself a tangent...): PyTorch's
    tangent is not dual. (The tangent's grad_fn names differ: PyTorch's AddBackward0 of its forward formula.)"""
    got, want = _tangent_of_graph_primal(ember), _tangent_of_graph_primal(torch)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    assert got[1:] == want[1:]


def _changed_under_no_grad(L, view, change):
    """A view of a non-leaf taken under grad mode, then its base (or a view of it) changed in place under no_grad:
    the view's grad_fn and its next node's names, and the leaf's gradient through the view."""
    x = L.tensor(X46, requires_grad=True)
    b = x * 1
    v = view(b)
    with L.no_grad():
        change(b, v)
    names = [type(v.grad_fn).__name__, [type(n).__name__ for n, _ in v.grad_fn.next_functions]]
    (v * v).sum().backward()
    return names, x.grad.numpy()


X46 = _f64(4, 6)
NOGRAD_CHANGES = {
    'base': lambda b, v: b.add_(1),
    'other_view': lambda b, v: b[0].mul_(2),
    'itself': lambda b, v: v.sub_(1),
}
NOGRAD_VIEWS = {'select': lambda b: b[1], 'view_of_slice': lambda b: b[1:][0], 't': lambda b: b.t(),
                'unflatten': lambda b: b.unflatten(1, (2, 3))}


@pytest.mark.parametrize('change', list(NOGRAD_CHANGES), ids=list(NOGRAD_CHANGES))
@pytest.mark.parametrize('view', list(NOGRAD_VIEWS), ids=list(NOGRAD_VIEWS))
def test_view_regenerated_after_change_under_no_grad(view, change):
    """PyTorch regenerates such a view's grad_fn (AsStridedBackward0 of the base) once the version moved, grad mode
    or not; ember kept the view's own node (SelectBackward0...) after an untracked change."""
    got, want = (_changed_under_no_grad(L, NOGRAD_VIEWS[view], NOGRAD_CHANGES[change]) for L in (ember, torch))
    assert got[0] == want[0]
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)


def _herm(x):
    return x + x.mH


W3 = _f64(3, 1)
W4 = _f64(4, 1)
C43 = _c128(4, 3)
# (id, fn(lib, complex x) -> real scalar loss, x, ember's gradgradcheck too): complex eigh/svd/qr gradients, losses
# that do not depend on the phase of an eigen- or singular vector (|V|^2, U diag(S) Vh, u_i v_i^H), else PyTorch's
# error (PyTorch's linalg_eig_backward / svd_backward / linalg_qr_backward)
COMPLEX_DECOMP = [
    ('eigvalsh', lambda L, x: (L.linalg.eigvalsh(_herm(x)) ** 2).sum(), _c128(3, 3), True),
    ('eigh_values', lambda L, x: (L.linalg.eigh(_herm(x))[0] ** 3).sum(), _c128(2, 3, 3), True),
    ('eigh_vectors_abs', lambda L, x: (L.linalg.eigh(_herm(x))[1].abs() ** 2 * L.tensor(W3)).sum(), _c128(3, 3), True),
    ('eigh_both_upper', lambda L, x: (lambda w, v: (v.abs() ** 2 * L.tensor(W3)).sum() + w.sum())(
        *L.linalg.eigh(_herm(x), UPLO='U')), _c128(3, 3), True),
    ('eigh_vectors_phase', lambda L, x: L.linalg.eigh(_herm(x))[1].real.sum(), _c128(3, 3), False),
    ('svd_U_abs', lambda L, x: (L.linalg.svd(x, full_matrices=False)[0].abs() ** 2 * L.tensor(W4)).sum(),
     _c128(4, 3), True),
    ('svd_Vh_abs_wide', lambda L, x: (L.linalg.svd(x, full_matrices=False)[2].abs() ** 2 * L.tensor(W3)).sum(),
     _c128(3, 4), True),
    ('svd_outer', lambda L, x: (lambda u, s, vh: (u[..., :, :1] @ vh[..., :1, :]).real.sum() + s.sum())(
        *L.linalg.svd(x, full_matrices=False)), _c128(2, 4, 3), True),
    ('svd_full_rebuilt', lambda L, x: (lambda u, s, vh: ((u[:, :3] * s.to(u.dtype)) @ vh).abs().sum())(
        *L.linalg.svd(x)), _c128(4, 3), True),
    ('torch.svd_V', lambda L, x: (L.svd(x)[2].abs() ** 2 * L.tensor(W3)).sum(), _c128(4, 3), True),
    ('svd_phase', lambda L, x: L.linalg.svd(x, full_matrices=False)[0].real.sum(), _c128(4, 3), False),
    ('qr_tall', lambda L, x: (lambda q, r: (q.real * 2).sum() + r.imag.sum())(*L.linalg.qr(x)), _c128(4, 3), True),
    ('qr_square_batch', lambda L, x: (lambda q, r: (q * q).real.sum() + (r.abs() ** 2).sum())(*L.linalg.qr(x)),
     _c128(2, 3, 3), True),
    ('qr_wide', lambda L, x: (lambda q, r: q.imag.sum() + r.real.sum())(*L.linalg.qr(x)), _c128(3, 4), True),
    ('qr_complete_wide', lambda L, x: L.linalg.qr(x, mode='complete')[1].real.sum(), _c128(3, 4), True),
    ('torch.qr', lambda L, x: L.qr(x)[0].real.sum(), _c128(4, 3), True),
    ('logcumsumexp', lambda L, x: (L.logcumsumexp(x * 3, 1) * L.tensor(C43)).real.sum(), _c128(4, 3), True),
    ('logcumsumexp_dim0_method', lambda L, x: x.logcumsumexp(0).imag.sum(), _c128(5, 2), True),
]


@pytest.mark.parametrize('name,fn,x,gg', COMPLEX_DECOMP, ids=[c[0] for c in COMPLEX_DECOMP])
def test_complex_decomposition_gradient(name, fn, x, gg):
    """ember refused these (complex eigh/svd/qr gradients, svd/qr of complex input at all): PyTorch's gradient or
    its gauge error; ember's gradcheck and gradgradcheck."""
    got = []
    for lib in (torch, ember):
        t = lib.tensor(x, requires_grad=True)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')   # (torch.qr's deprecation)
                fn(lib, t).backward()
            got.append(t.grad.resolve_conj().numpy())
        except RuntimeError as e:
            got.append(str(e))
    if isinstance(got[0], str):
        assert got[1] == got[0]
        return
    np.testing.assert_allclose(got[1], got[0], rtol=1e-9, atol=1e-12)
    t = ember.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert ember.autograd.gradcheck(lambda v: fn(ember, v), (t,))
        if gg:
            assert ember.autograd.gradgradcheck(lambda v: fn(ember, v), (t,))


INF, NAN = float('inf'), float('nan')


@pytest.mark.parametrize('values', [
    [1000 + 1j, 1000 - 2j, -1000 + 0j], [complex(-INF, 0), 1 + 1j], [complex(-INF, 1), complex(-INF, 2), 3j],
    [complex(INF, 1), complex(INF, 2)], [complex(NAN, 0), 1j], [complex(INF, 0), 1j, complex(-INF, 0)],
    [2 + 1j, 2 - 1j], list(_c128(6) * 30)])
@pytest.mark.parametrize('dtype', ['complex64', 'complex128'])
def test_logcumsumexp_of_complex(values, dtype):
    """ember refused complex logcumsumexp: PyTorch's log_add_exp steps (by real part; infinities, NaN)."""
    got, want = (L.logcumsumexp(L.tensor(values, dtype=getattr(L, dtype)), 0) for L in (ember, torch))
    assert got.dtype == getattr(ember, dtype)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6 if dtype == 'complex64' else 1e-13)


def test_forward_ad_of_complex_logcumsumexp():
    x, t = _c128(3, 4) * 2, _c128(3, 4)
    got = []
    for lib in (torch, ember):
        fa = lib.autograd.forward_ad
        with fa.dual_level():
            got.append(fa.unpack_dual(lib.logcumsumexp(fa.make_dual(lib.tensor(x), lib.tensor(t)), 1)).tangent.numpy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-10)


def _complex_jvp_function(L, factor, conj):
    """sin of a complex input with a right backward and a jvp scaled by ``factor`` or conjugated (wrong)."""
    class SinJvp(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * x.cos().conj()

        @staticmethod
        def jvp(ctx, t):
            x, = ctx.saved_tensors
            c = x.cos()
            return t * (c.conj() if conj else c) * factor
    return SinJvp.apply


Y3 = np.array([0.3, -1.2, 2.0])
# (id, fn(lib) -> function of one complex input): gradcheck(check_forward_ad=True) with complex inputs (refused by
# ember), through the imaginary then the real parts of the inputs, as PyTorch
FORWARD_CHECKS = {
    'sin': lambda L: L.sin,
    'mul_real': lambda L: lambda v: v * L.tensor(Y3),
    'abs': lambda L: L.abs,
    'times_conj': lambda L: lambda v: v * v.conj(),
    'real': lambda L: lambda v: v.real * 2,
    'exp_sum': lambda L: lambda v: v.exp().sum(),
    'jvp_right': lambda L: _complex_jvp_function(L, 1.0, False),
    'jvp_scaled': lambda L: _complex_jvp_function(L, 3.0, False),
    'jvp_conjugated': lambda L: _complex_jvp_function(L, 1.0, True),
}


@pytest.mark.parametrize('backward', [True, False])
@pytest.mark.parametrize('name', list(FORWARD_CHECKS))
def test_gradcheck_forward_ad_of_complex_inputs(name, backward):
    got = []
    for L in (torch, ember):
        x = L.tensor(np.array([1 + 2j, -0.5 + 0.3j, 0.7 - 1j]), requires_grad=True)
        try:
            got.append(L.autograd.gradcheck(FORWARD_CHECKS[name](L), (x,), check_forward_ad=True,
                                            check_backward_ad=backward))
        except RuntimeError as e:   # (the first line: PyTorch prints its analytical Jacobian with a grad_fn)
            got.append(str(e).split('\n')[0])
    assert got[1] == got[0]


@pytest.mark.parametrize('dtype', ['float64', 'complex128'])
@pytest.mark.parametrize('kw', [{'check_fwd_over_rev': True}, {'check_fwd_over_rev': True, 'check_rev_over_rev': False,
                                                                 'check_undefined_grad': False},
                                {'check_fwd_over_rev': True, 'check_rev_over_rev': False},
                                {'check_rev_over_rev': False}])
def test_gradgradcheck_forward_over_reverse(kw, dtype):
    """ember refused check_fwd_over_rev: forward-mode AD through the first-order gradient's graph, as PyTorch's (and
    its asserts on the flags)."""
    got = []
    for L in (torch, ember):
        x = L.tensor([0.3, -1.1, 2.0], dtype=getattr(L, dtype), requires_grad=True)
        try:
            got.append(L.autograd.gradgradcheck(lambda v: (v * v.sin()).cumsum(0), (x,), **kw))
        except AssertionError as e:
            got.append(str(e))
    assert got[1] == got[0]


UP3 = np.triu(_f64(3, 3, lo=-1)) + 3 * np.eye(3)
B32 = _f64(3, 2, lo=-1)
T33 = R.standard_normal((2, 3, 3))


def _tri(L, A, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')   # (triangular_solve's deprecation)
        return L.triangular_solve(L.tensor(B32), A, **kw)


# (id, fn(lib, dual A) -> tensor, A, its tangent): tangents PyTorch's forward formulas give where they differ from
# the transpose of its backward: triangular_solve and cholesky_inverse take the tangent whole (off the triangle, and
# not transposed for transpose=True); vander's in-place composition (its backward fails, its forward mode does not)
FORWARD_FORMULAS = [
    ('triangular_solve', lambda L, a: _tri(L, a)[0], UP3, T33[0]),
    ('triangular_solve_lower', lambda L, a: _tri(L, a.mT, upper=False)[0], UP3, T33[0]),
    ('triangular_solve_transpose', lambda L, a: _tri(L, a, transpose=True)[0], UP3, T33[0]),
    ('triangular_solve_unit', lambda L, a: _tri(L, a, unitriangular=True)[0], UP3, T33[0]),
    ('triangular_solve_batch', lambda L, a: _tri(L, a)[0], np.stack([UP3, UP3 * 2]), T33),
    ('triangular_solve_clone', lambda L, a: _tri(L, a)[1], UP3, T33[0]),
    ('triangular_solve_b', lambda L, a: L.triangular_solve(a[:, :2] * 1, L.tensor(UP3))[0], UP3, T33[0]),
    ('cholesky_inverse', lambda L, a: L.cholesky_inverse(a.mT), UP3, T33[0]),
    ('cholesky_inverse_upper', lambda L, a: L.cholesky_inverse(a, upper=True), UP3, T33[0]),
    ('cholesky_inverse_batch', lambda L, a: L.cholesky_inverse(a, upper=True), np.stack([UP3, UP3 * 2]), T33),
    ('vander_N', lambda L, a: L.vander(a[0], N=4), UP3, T33[0]),
    ('vander_increasing', lambda L, a: L.vander(a[:, 1], N=3, increasing=True), UP3, T33[0]),
]


@pytest.mark.parametrize('name,fn,a,t', FORWARD_FORMULAS, ids=[r[0] for r in FORWARD_FORMULAS])
def test_forward_formula_tangent(name, fn, a, t):
    got = []
    for L in (torch, ember):
        fa = L.autograd.forward_ad
        with fa.dual_level(), warnings.catch_warnings():
            warnings.simplefilter('ignore')
            got.append(fa.unpack_dual(fn(L, fa.make_dual(L.tensor(a), L.tensor(t)))).tangent.numpy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-10, atol=1e-12)


NESTED = {
    'func.jvp': lambda L, x: L.func.jvp(L.sin, (x,), (x,)),
    'func.jacfwd': lambda L, x: L.func.jacfwd(L.sin)(x),
    'func.hessian': lambda L, x: L.func.hessian(lambda v: v.sin().sum())(x),
    'functional.jacobian_forward': lambda L, x: L.autograd.functional.jacobian(L.sin, x, vectorize=True,
                                                                              strategy='forward-mode'),
    'functional.hessian_forward': lambda L, x: L.autograd.functional.hessian(
        lambda v: v.sin().sum(), x, vectorize=True, outer_jacobian_strategy='forward-mode'),
    'functional.jacobian_reverse': lambda L, x: L.autograd.functional.jacobian(L.sin, x),
    'dual_level': lambda L, x: L.autograd.forward_ad.enter_dual_level(),
}


@pytest.mark.parametrize('name', list(NESTED))
def test_forward_mode_inside_a_dual_level(name):
    """A forward-mode transform inside a dual level: PyTorch's nested-level error (ember ran them); reverse mode
    runs."""
    got = []
    for L in (torch, ember):
        with L.autograd.forward_ad.dual_level():
            try:
                r = NESTED[name](L, L.tensor([1., 2.], dtype=L.float64))
                got.append(np.asarray(r.detach().numpy() if isinstance(r, (torch.Tensor, ember.Tensor)) else r))
            except RuntimeError as e:
                got.append(str(e))
    if isinstance(got[0], str):
        assert got[1] == got[0]
    else:
        np.testing.assert_allclose(got[1], got[0], rtol=1e-12)


@pytest.mark.parametrize('call', ['x.qr(1)', 'torch.qr(x, 1)', 'torch.qr(x, some=0)', 'x.qr(some=None)',
                                  'x.qr(False)[0].shape', 'torch.qr(x, True)[1].shape'])
def test_qr_some_takes_only_a_bool(call):
    """torch.qr/Tensor.qr refuse a `some` that is not a bool with the parser's TypeError (ember ran x.qr(1))."""
    results = []
    for lib in (torch, ember):
        x = lib.randn(3, 3)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            try:
                results.append(str(eval(call, {'torch': lib, 'x': x})))
            except TypeError as e:
                results.append(str(e))
    assert results[1].replace('ember', 'torch') == results[0]
