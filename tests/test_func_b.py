"""torch.func and forward-mode AD against PyTorch, from the differential fuzz of the transforms over the registry's
ops: PyTorch's refusal of forward AD for ops without a forward formula (through forward_ad, jvp, jacfwd, hessian
and autograd.functional's forward mode), jacfwd's block dtypes, randomness check and empty outputs, tangents of
duals changed in place, and dropout under the double-backward trick; derivatives against float64 central
differences."""
import numpy as np
import pytest
import torch

import ember
from helpers import run_both

RNG = np.random.default_rng(0)
X34, Y54 = RNG.random((3, 4)), RNG.random((5, 4))


def _t(L, a, dtype='float32'):
    return L.tensor(a, dtype=getattr(L, dtype))


# (id, function of (L, x) where x is the tensor given a tangent, the value of x): each op has no forward formula in
# PyTorch, so a tangent reaching it raises NotImplementedError naming PyTorch's kernel
REFUSED = [
    ('cdist', lambda L, x: L.cdist(x, x.new_tensor(Y54)), X34),
    ('cdist-x2', lambda L, x: L.cdist(x.new_tensor(Y54), x), X34),
    ('cdist-mm', lambda L, x: L.cdist(x, x.new_tensor(Y54), compute_mode='use_mm_for_euclid_dist'), X34),
    ('pdist', lambda L, x: L.nn.functional.pdist(x), X34),
    ('cholesky', lambda L, x: L.cholesky(x @ x.T + L.eye(3, dtype=x.dtype)), X34),
    ('grid_sample', lambda L, x: L.nn.functional.grid_sample(x.reshape(1, 1, 3, 4), L.zeros(1, 2, 2, 2, dtype=x.dtype),
                                                             align_corners=False), X34),
    ('grid_sample-grid', lambda L, g: L.nn.functional.grid_sample(
        L.ones(1, 1, 3, 3, dtype=g.dtype), g.reshape(1, 2, 3, 2) - 0.5, align_corners=True), RNG.random((3, 4))),
    ('grid_sample-3d', lambda L, x: L.nn.functional.grid_sample(
        x.reshape(1, 1, 1, 3, 4), L.zeros(1, 1, 2, 2, 3, dtype=x.dtype), align_corners=False), X34),
    ('embedding_bag', lambda L, w: L.nn.functional.embedding_bag(L.tensor([[0, 1], [2, 1]]), w), X34),
    ('embedding_bag-weights', lambda L, p: L.nn.functional.embedding_bag(
        L.tensor([[0, 1], [2, 1]]), L.ones(3, 2, dtype=p.dtype), mode='sum', per_sample_weights=p[:2, :2]), X34),
    ('multi_margin_loss', lambda L, x: L.nn.functional.multi_margin_loss(x, L.tensor([0, 3, 1])), X34),
    ('multilabel_margin_loss', lambda L, x: L.nn.functional.multilabel_margin_loss(
        x, L.tensor([[0, 1, -1, 0], [2, -1, 0, 0], [3, 0, -1, 1]])), X34),
    ('rrelu_', lambda L, x: L.nn.functional.rrelu_(x * 1, training=False), X34 - 0.5),
    ('index_reduce', lambda L, x: (x * 1).index_reduce(0, L.tensor([0, 2]), L.ones(2, 4, dtype=x.dtype), 'prod'), X34),
    ('igamma', lambda L, x: L.igamma(x + 1, x.new_tensor(X34) + 0.5), X34),
    ('gammaincc', lambda L, x: L.special.gammaincc(x.new_tensor(X34) + 0.5, x + 1), X34),
    ('acosh_', lambda L, x: (x + 2).acosh_(), X34),
    ('asinh_', lambda L, x: L.asinh_(x * 1), X34),
    ('atanh_', lambda L, x: (x * 0.5).arctanh_(), X34),
    ('scaled_dot_product_attention', lambda L, q: L.nn.functional.scaled_dot_product_attention(
        q.reshape(1, 1, 3, 4), q.reshape(1, 1, 3, 4), q.reshape(1, 1, 3, 4)), X34),
    ('floor_divide', lambda L, x: L.floor_divide(x, 0.3), X34),
    ('rmod', lambda L, x: 2.5 % (x + 1), X34),
    ('bernoulli-p', lambda L, x: L.bernoulli(x, 0.3), X34),
    ('native_channel_shuffle', lambda L, x: L.native_channel_shuffle(x.reshape(1, 4, 3, 1), 2), X34),
]


def _forward_ad(L, fn, a):
    fa = L.autograd.forward_ad
    with fa.dual_level():
        x = _t(L, a)
        out = fn(L, fa.make_dual(x, L.ones_like(x)))
        out = out[0] if isinstance(out, tuple) else out
        return fa.unpack_dual(out).tangent


def _jvp(L, fn, a):
    x = _t(L, a)
    return L.func.jvp(lambda v: fn(L, v), (x,), (L.ones_like(x),))[1]


def _jacfwd(L, fn, a):
    return L.func.jacfwd(lambda v: fn(L, v))(_t(L, a, 'float64'))


def _hessian(L, fn, a):
    return L.func.hessian(lambda v: fn(L, v).sum())(_t(L, a, 'float64'))


# PyTorch's jacfwd and hessian vmap: rrelu_ meets vmap's own refusal there first; under hessian's reverse pass the
# per-sample weights require grad, so PyTorch names the other embedding_bag kernel
_VMAPPED = {'rrelu_', 'embedding_bag-weights'}
CASES = [(t, *c) for t in (_forward_ad, _jvp, _jacfwd, _hessian) for c in REFUSED
         if t in (_forward_ad, _jvp) or c[0] not in _VMAPPED]


@pytest.mark.parametrize('transform,name,fn,a', CASES, ids=[f'{c[0].__name__[1:]}-{c[1]}' for c in CASES])
def test_forward_mode_refusal_is_torchs(transform, name, fn, a):
    """NotImplementedError with PyTorch's message, whichever forward-mode transform carries the tangent there."""
    def run(L):
        L.manual_seed(0)
        return transform(L, fn, a)
    with pytest.raises(NotImplementedError, match='Trying to use forward AD with'):
        run(torch)
    run_both(run, message=True)


def test_forward_mode_refusal_of_autograd_functional_jacobian_forward_mode():
    def run(L):
        return L.autograd.functional.jacobian(lambda x: L.cdist(x, _t(L, Y54, 'float64')), _t(L, X34, 'float64'),
                                              vectorize=True, strategy='forward-mode')
    run_both(run, message=True)


@pytest.mark.parametrize('name,fn,a', [c for c in REFUSED if c[0] in ('cdist', 'pdist', 'grid_sample', 'igamma')],
                         ids=lambda c: str(c)[:20])
def test_ops_refused_in_forward_mode_still_differentiate_in_reverse_mode(name, fn, a):
    """The refusal is for forward mode only: vjp and the reverse-mode Jacobian through the same ops are PyTorch's
    values (autograd.functional's: PyTorch's func.jacrev of cdist is off, its vmap of _cdist_backward is wrong)."""
    def run(L):
        x = _t(L, a, 'float64')
        out, vjp_fn = L.func.vjp(lambda v: fn(L, v), x)
        return out, vjp_fn(L.ones_like(out)), L.autograd.functional.jacobian(lambda v: fn(L, v), x)
    run_both(run, tol=1e-10)


def test_tangent_outside_forward_mode_ops_is_not_refused():
    """A tensor that requires grad without carrying a tangent (a parameter) reaches a refused op inside a dual level,
    next to a dual tensor, as in PyTorch."""
    def run(L):
        fa = L.autograd.forward_ad
        w = _t(L, Y54, 'float64').requires_grad_()
        with fa.dual_level():
            x = fa.make_dual(_t(L, X34, 'float64'), L.ones(3, 4, dtype=L.float64))
            d = L.cdist(w, w)
            y = (x * 2).sum() + d.sum()
            return d.detach(), fa.unpack_dual(y).tangent
    run_both(run, tol=1e-10)


def _central(f, x, eps=1e-6):
    """d f / d x by float64 central differences, shaped f's output + x's."""
    x = np.asarray(x, np.float64)
    f0 = np.asarray(f(x))
    jac = np.zeros(f0.shape + x.shape)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        jac[(...,) + i] = (np.asarray(f(x + d)) - np.asarray(f(x - d))) / (2 * eps)
    return jac


def test_jacfwd_blocks_take_the_outputs_dtype_and_jacrev_the_inputs():
    """jacfwd pushes tangents forward (an f32 input of an f64 output gives an f64 block), jacrev pulls gradients
    back (the f32 input's dtype); the values are the float64 central differences."""
    a = RNG.random(3)

    def f(L):
        return lambda x: (x.double() * x.sum()).sin()

    def run(L):
        x = _t(L, a)
        return L.func.jacfwd(f(L))(x), L.func.jacrev(f(L))(x), L.func.jacfwd(lambda v: v.half() * 2)(x)
    run_both(run, tol=1e-6)
    fwd, rev, half = run(ember)
    assert (fwd.dtype, rev.dtype, half.dtype) == (ember.float64, ember.float32, ember.float16)
    want = _central(lambda v: np.sin(v * v.sum()), a.astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(fwd.numpy(), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('api', ['jacrev', 'jacfwd'])
def test_jacobian_of_an_empty_output_is_torchs(api):
    def run(L):
        x, y = _t(L, X34[0, :3]), L.zeros(0, 3)
        return getattr(L.func, api)(lambda a, b: a * b, argnums=(0, 1))(x, y)
    run_both(run)


@pytest.mark.parametrize('randomness', ['error', 'different', 'same'])
def test_jacfwd_and_hessian_check_randomness_as_torch(randomness):
    """jacfwd vmaps over the basis in PyTorch: a random op raises with randomness='error' (hessian's default)."""
    def run(L):
        L.manual_seed(0)
        x = _t(L, X34[0], 'float64')
        jac = L.func.jacfwd(lambda v: L.nn.functional.dropout(v, 0.5) * v, randomness=randomness)(x)
        return tuple(jac.shape), jac.dtype
    run_both(run, message=True)
    run_both(lambda L: L.func.hessian(lambda v: L.nn.functional.dropout(v, 0.5).sum())(_t(L, X34[0])), message=True)


def test_jvp_and_jacrev_through_dropout_in_training_are_torchs():
    """Dropout's backward of a Tensor gradient (the double-backward trick, create_graph) multiplies by its mask;
    the same seed draws PyTorch's mask."""
    def run(L):
        x = _t(L, X34, 'float64')
        L.manual_seed(3)
        out, tan = L.func.jvp(lambda v: L.nn.functional.dropout(v.sin(), 0.4), (x,), (L.ones_like(x),))
        L.manual_seed(3)
        h = L.autograd.functional.hessian(lambda v: L.nn.functional.dropout(v.sin(), 0.4).sum(), x[0])
        return out, tan, h
    run_both(run, tol=1e-12)


def test_unpack_dual_after_an_in_place_change_gives_the_new_tangent():
    """A dual tensor changed in place (mul_, clamp_) carries the tangent of its new value."""
    def run(L):
        fa = L.autograd.forward_ad
        res = []
        with fa.dual_level():
            for change in (lambda v: v.mul_(3.0), lambda v: v.clamp_(0.2, 0.7), lambda v: v.sub_(1.5).abs_()):
                x = fa.make_dual(_t(L, X34, 'float64'), _t(L, Y54[:3], 'float64'))
                change(x)
                res.append(fa.unpack_dual(x).tangent)
        return res
    run_both(run, tol=1e-12)


ZERO_ROW = np.array([[0.3, -1.2, 0.5, 2.0], [0.0, 0.0, 0.0, 0.0], [1.5, 0.0, -0.7, 0.2]])


@pytest.mark.parametrize('f', [
    lambda L, x: L.linalg.vector_norm(x, 2, 1), lambda L, x: L.linalg.vector_norm(x, 3, 1),
    lambda L, x: L.linalg.vector_norm(x, 1.5, 1, keepdim=True), lambda L, x: L.linalg.vector_norm(x, 0.5, 1),
    lambda L, x: L.linalg.vector_norm(x, float('inf'), 1), lambda L, x: L.linalg.vector_norm(x, -float('inf')),
    lambda L, x: L.dist(x, x.new_tensor(ZERO_ROW[::-1].copy()), float('inf')), lambda L, x: x.std(1),
    lambda L, x: x[0, 0].var(), lambda L, x: L.renorm(x, float('inf'), 0, 1.0)],
    ids=['p2', 'p3', 'p1.5', 'p0.5', 'inf', '-inf', 'dist-inf', 'std', 'var-1', 'renorm-inf'])
def test_second_derivatives_of_norms_at_zero_and_inf_are_torchs(f):
    """A norm's gradient recorded for a second derivative (create_graph, hessian, the double-backward trick of jvp)
    is PyTorch's formula: its entries at a zero norm masked as there (NaN where PyTorch's are), the inf norm's split
    among the maxima (it was NaN: |x| ** inf / norm ** inf), var over one element (it raised ZeroDivisionError)."""
    def run(L):
        x = L.tensor(ZERO_ROW)

        def g(v):
            o = f(L, v)
            return (o * v.new_tensor(np.linspace(0.5, 1.5, o.numel()).reshape(tuple(o.shape)))).sum().sin()
        return L.autograd.functional.hessian(g, x)
    run_both(run, tol=1e-9)


def test_inf_norm_second_derivative_against_finite_differences():
    x = ember.tensor(RNG.random((3, 4)), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda v: ember.linalg.vector_norm(v, float('inf'), 1) ** 2, (x,))


@pytest.mark.parametrize('op', ['aminmax', 'frexp', 'max'])
def test_vmap_over_ops_returning_return_types(op):
    """vmap rebuilds a structseq-like return type (aminmax, frexp) from one sequence, a namedtuple from fields."""
    def run(L):
        f = {'aminmax': lambda x: L.aminmax(x), 'frexp': lambda x: L.frexp(x), 'max': lambda x: x.max(0)}[op]
        out = L.vmap(f)(_t(L, X34))
        return type(out).__name__, tuple(out)
    run_both(run)


def _bn_model(L):
    L.manual_seed(0)
    return L.nn.Sequential(L.nn.Linear(4, 3), L.nn.BatchNorm1d(3), L.nn.Tanh(), L.nn.Linear(3, 2))


def test_vmap_refuses_unbatched_running_stats_in_training_as_torch():
    """BatchNorm in training mode under vmap would update one running mean per sample: PyTorch refuses unless the
    running statistics are batched too (stacked buffers), or the model keeps none (replace_all_batch_norm_modules_)."""
    x = RNG.random((2, 5, 4))
    run_both(lambda L: L.vmap(_bn_model(L))(_t(L, x)), message=True)
    run_both(lambda L: L.vmap(_bn_model(L).eval())(_t(L, x)))
    run_both(lambda L: L.vmap(lambda v, m, s: L.nn.functional.batch_norm(v, m, s, training=True))(
        _t(L, x[..., :3]), L.zeros(2, 3), L.ones(2, 3)))
    run_both(lambda L: L.vmap(lambda v, m, s: L.nn.functional.batch_norm(v, m, s, training=True), in_dims=(0, 0, None))(
        _t(L, x[..., :3]), L.zeros(2, 3), L.ones(3)), message=True)


def test_per_sample_gradients_of_a_batchnorm_model_after_replace_all_batch_norm_modules():
    """functorch's recipe for per-sample gradients of a model with BatchNorm: drop its running statistics in
    place, then vmap(grad(functional_call)); the gradients are PyTorch's."""
    x, y = RNG.random((3, 5, 4)), RNG.integers(0, 2, (3, 5))

    def run(L):
        model = _bn_model(L)
        same = L.func.replace_all_batch_norm_modules_(model) is model
        bn = model[1]
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(p, xb, yb):
            return L.nn.functional.cross_entropy(L.func.functional_call(model, p, (xb,)), yb)
        grads = L.vmap(L.func.grad(loss), in_dims=(None, 0, 0))(params, _t(L, x), L.tensor(y))
        return [same, bn.running_mean, bn.running_var, bn.num_batches_tracked, bn.track_running_stats,
                sorted(grads), [grads[k] for k in sorted(grads)]]
    run_both(run, tol=1e-5)


@pytest.mark.parametrize('op', ['gt_', 'ge_', 'lt_', 'le_', 'eq_', 'ne_', 'greater_', 'less_equal_', 'not_equal_'])
@pytest.mark.parametrize('other', ['number', 'tensor'])
def test_in_place_comparison_of_a_tensor_requiring_grad_is_recorded(op, other):
    """A comparison written in place into a tensor that requires grad is PyTorch's <Op>Backward0/1 node with zero
    gradients (ember kept the old history: gradients, and forward-mode tangents, passed through it)."""
    def run(L):
        x = L.tensor(X34, requires_grad=True)
        o = L.tensor(Y54[0], requires_grad=True) if other == 'tensor' else 0.5
        y = x * 2
        getattr(y, op)(o)
        grads = L.autograd.grad((y * x).sum(), [x] + ([o] if other == 'tensor' else []))
        fa = L.autograd.forward_ad
        with fa.dual_level():
            d = fa.make_dual(_t(L, X34), _t(L, Y54[:3]))
            getattr(d, op)(0.5)
            tangent = fa.unpack_dual(d).tangent
        return y, y.grad_fn.name(), grads, tangent
    run_both(run)


@pytest.mark.parametrize('api', ['vjp', 'grad', 'jacrev'])
def test_missing_derivative_inside_reverse_transforms_is_not_implemented_error(api):
    """PyTorch's transforms raise "the derivative for 'inplace version of acosh' is not implemented." as
    NotImplementedError (plain autograd raises it as RuntimeError)."""
    def run(L):
        f = lambda v: (v + 2).acosh_().sum()   # noqa: E731
        x = _t(L, X34, 'float64')
        if api == 'vjp':
            out, fn = L.func.vjp(f, x)
            return fn(L.ones_like(out))
        return getattr(L.func, api)(f)(x)
    with pytest.raises(NotImplementedError):
        run(torch)
    run_both(run, message=True)


@pytest.mark.parametrize('api', ['grad', 'vjp', 'jvp', 'jacrev', 'jacfwd', 'vmap'])
def test_backward_inside_a_transform_is_refused_as_torch(api):
    """backward() while a torch.func transform runs the user's function raises PyTorch's RuntimeError, for any
    tensor (one the transform never saw too); after the transform it works again."""
    def run(L):
        w = L.tensor(Y54[0], requires_grad=True)

        def f(v):
            (w * 2).sum().backward()
            return (v * 3).sum()
        x = _t(L, X34[0])
        call = {'grad': lambda: L.func.grad(f)(x), 'vjp': lambda: L.func.vjp(f, x),
                'jvp': lambda: L.func.jvp(f, (x,), (x,)), 'jacrev': lambda: L.func.jacrev(f)(x),
                'jacfwd': lambda: L.func.jacfwd(f)(x), 'vmap': lambda: L.vmap(f)(_t(L, X34))}[api]
        try:
            call()
        except RuntimeError as e:
            refused = str(e)
        (w * 2).sum().backward()
        return refused, w.grad
    run_both(run, message=True)
