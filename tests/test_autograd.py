"""Autograd's contract against PyTorch: accumulation, retain_graph, grad(), higher order, hooks,
grad modes, custom Functions, functional API and errors."""
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import assert_same, to_numpy


def both(fn):
    """Run fn(lib) on ember and torch and return both results."""
    return fn(ember), fn(torch)


def same(fn, **kw):
    e, t = both(fn)
    assert_same(e, t, **kw)
    return e, t


def raises_like(fn, exc=RuntimeError, match=None):
    """fn(lib) raises ``exc`` under both libraries (and ember's message matches ``match``)."""
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc, match=match):
        fn(ember)


X = np.array([[1., -2., 3.], [0.5, 4., -1.]], np.float32)


def test_accumulates_over_backward_calls():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        (x * x).sum().backward()
        (x * 3).sum().backward()
        return x.grad
    same(f)


def test_second_backward_through_freed_graph_raises():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()
    raises_like(f, RuntimeError, 'backward through the graph a second time')


def test_second_backward_without_saved_tensors_is_allowed():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        y = (x + 1).sum()
        y.backward()
        y.backward()
        return x.grad
    same(f)


def test_retain_graph():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    same(f)


def test_nonscalar_backward_needs_gradient():
    raises_like(lambda T: (T.tensor(X, requires_grad=True) * 2).backward(), RuntimeError, 'scalar outputs')


def test_gradient_shape_mismatch():
    raises_like(lambda T: (T.tensor(X, requires_grad=True) * 2).backward(T.ones(3)), RuntimeError, 'Mismatch in shape')


def test_backward_on_tensor_without_grad():
    raises_like(lambda T: T.tensor(X).sum().backward(), RuntimeError, 'does not require grad')


def test_backward_with_gradient_argument():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        z = x.matmul(T.tensor(X.T))
        z.backward(T.ones(z.shape))
        return x.grad
    same(f)


def test_grad_does_not_touch_leaves():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        w = T.tensor(X, requires_grad=True)
        (g,) = T.autograd.grad((x * w).sum(), [x])
        return g, x.grad is None, w.grad is None
    e, t = both(f)
    assert_same(e[0], t[0])
    assert e[1:] == t[1:] == (True, True)


def test_grad_allow_unused():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        y = T.tensor(X, requires_grad=True)
        return T.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)[1]
    assert f(ember) is None and f(torch) is None
    raises_like(lambda T: T.autograd.grad((T.tensor(X, requires_grad=True) * 2).sum(),
                                          [T.tensor(X, requires_grad=True)]), RuntimeError, 'not have been used')


def test_grad_only_inputs_false_is_ignored_with_pytorchs_warning():
    import warnings

    def f(T):
        x = T.tensor(X, requires_grad=True)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter('always')
            g = T.autograd.grad((x * 2).sum(), x, only_inputs=False)[0]
        return to_numpy(g), [(w.category, str(w.message)) for w in seen], x.grad
    (ge, we, xe), (gt, wt, xt) = f(ember), f(torch)
    np.testing.assert_array_equal(ge, gt)
    assert we == wt and len(wt) == 1 and xe is None and xt is None


def test_grad_of_nonleaf():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        h = x * 2
        return T.autograd.grad((h.exp()).sum(), h)
    same(f)


@pytest.mark.parametrize('fn', [
    lambda T, x: (x ** 3).sum(),
    lambda T, x: (x.sin() * x.exp()).sum(),
    lambda T, x: T.tanh(x).prod(),
    lambda T, x: (x @ x.t()).pow(2).sum(),
    lambda T, x: T.softmax(x, 1).log().sum() + T.sigmoid(x).sum(),
    lambda T, x: (x.logsumexp(0) * x.mean(1).sum()).sum(),
    lambda T, x: T.sqrt(x * x + 1).div(x.abs() + 2).sum(),
])
def test_second_derivatives_match_torch(fn):
    def f(T):
        x = T.tensor(X.astype(np.float64), requires_grad=True)
        (g,) = T.autograd.grad(fn(T, x), x, create_graph=True)
        v = T.tensor(np.linspace(-1, 1, X.size).reshape(X.shape))
        (hv,) = T.autograd.grad((g * v).sum(), x)
        return g, hv
    same(f, atol=1e-8, rtol=1e-6)


def test_backward_create_graph_then_grad_of_grad():
    def f(T):
        x = T.tensor(2.0, requires_grad=True)
        y = x ** 4
        y.backward(create_graph=True)
        g = x.grad
        x.grad = None
        g.backward()
        return g.detach(), x.grad
    same(f)


def test_retain_grad_and_hooks():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        y = x * 2
        y.retain_grad()
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        x.register_hook(lambda g: g * 10)
        z = (y * y).sum()
        z.backward()
        return y.grad, x.grad, seen[0]
    same(f)


def test_hook_handle_remove():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        h = x.register_hook(lambda g: g * 0)
        h.remove()
        (x * 2).sum().backward()
        return x.grad
    same(f)


def test_grad_modes():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        out = []
        with T.no_grad():
            out.append((x * 2).requires_grad)
            with T.enable_grad():
                out.append((x * 2).requires_grad)
        with T.set_grad_enabled(False):
            out.append((x * 2).requires_grad)
        out.append(T.is_grad_enabled())
        with T.inference_mode():
            out.append((x * 2).requires_grad)

        @T.no_grad()
        def g(v):
            return v * 2
        out.append(g(x).requires_grad)
        prev = T.is_grad_enabled()
        T.set_grad_enabled(False)
        out.append((x * 2).requires_grad)
        T.set_grad_enabled(prev)
        out.append((x * 2).requires_grad)
        return out
    e, t = both(f)
    assert e == t


def test_detach_and_requires_grad_():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        d = x.detach()
        y = x * 2
        out = [d.requires_grad, d.is_leaf, y.is_leaf, y.requires_grad, x.is_leaf]
        x.requires_grad_(False)
        out.append(x.requires_grad)
        return out
    e, t = both(f)
    assert e == t
    raises_like(lambda T: (T.tensor(X, requires_grad=True) * 2).requires_grad_(False), RuntimeError, 'leaf')
    raises_like(lambda T: T.tensor([1, 2]).requires_grad_(), RuntimeError, 'floating point')


def test_grad_fn_names_and_next_functions():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        w = T.tensor(X.T.copy(), requires_grad=True)
        y = (x @ w + 1).mean()
        names = []
        stack = [y.grad_fn]
        while stack:
            n = stack.pop()
            names.append(n.name())
            stack.extend(fn for fn, _ in n.next_functions if fn is not None)
        return names
    e, t = both(f)
    assert e == t


def test_leaf_accumulate_grad_variable():
    x = ember.tensor(X, requires_grad=True)
    y = x * 2
    acc = y.grad_fn.next_functions[0][0]
    assert type(acc).__name__ == 'AccumulateGrad' and acc.variable is x


def test_backward_inputs_argument():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        w = T.tensor(X, requires_grad=True)
        (x * w).sum().backward(inputs=[w])
        return x.grad is None, w.grad
    e, t = both(f)
    assert e[0] and t[0]
    assert_same(e[1], t[1])


def test_multi_output_node_partial_use():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        a, b, c = x.unbind(1)
        (a * 2 + c).sum().backward()
        return x.grad
    same(f)


def test_shared_subexpression_and_diamond():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        h = x.exp()
        y = (h * h + h.sin() + h).sum()
        y.backward()
        return x.grad
    same(f)


def test_mixed_dtype_gradients_cast_back():
    def f(T):
        a = T.tensor(X, requires_grad=True)
        b = T.tensor(X.astype(np.float64), requires_grad=True)
        (a * b).sum().backward()
        return a.grad, b.grad
    same(f)


def test_int_operand_no_grad():
    def f(T):
        a = T.tensor(X, requires_grad=True)
        (a * T.tensor([[1, 2, 3], [4, 5, 6]])).sum().backward()
        return a.grad
    same(f)


class _Exp:
    """A custom Function written once against either library."""

    @staticmethod
    def make(T):
        class MyExp(T.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                y = x.exp() * k
                ctx.save_for_backward(y)
                ctx.k = k
                return y

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * y, None
        return MyExp


def test_custom_function():
    def f(T):
        fn = _Exp.make(T)
        x = T.tensor(X, requires_grad=True)
        y = fn.apply(x, 2.0)
        (y * y).sum().backward()
        return y, x.grad, y.grad_fn.name()
    e, t = both(f)
    assert_same(e[0], t[0])
    assert_same(e[1], t[1])
    assert e[2] == t[2] == 'MyExpBackward'


def test_custom_function_gradcheck_and_needs_input_grad():
    seen = []

    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            seen.append(ctx.needs_input_grad)
            ctx.save_for_backward(x, y)
            return x * x * y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return 2 * x * y * g, x * x * g

    x = ember.tensor(X.astype(np.float64), requires_grad=True)
    y = ember.tensor(X.astype(np.float64))
    assert ember.autograd.gradcheck(lambda a: Square.apply(a, y), (x,))
    assert seen[0] == (True, False)


def test_custom_function_double_backward():
    def f(T):
        class Cube(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * x ** 2 * g
        x = T.tensor(X.astype(np.float64), requires_grad=True)
        (g,) = T.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
        (h,) = T.autograd.grad(g.sum(), x)
        return g, h
    same(f)


def test_gradcheck_detects_wrong_gradient():
    class Wrong(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = ember.tensor(X.astype(np.float64), requires_grad=True)
    from ember.autograd.gradcheck import GradcheckError   # torch.autograd.gradcheck is the function too
    with pytest.raises(GradcheckError):
        ember.autograd.gradcheck(Wrong.apply, (x,))
    assert not ember.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)


def test_functional_jacobian_hessian_vjp_jvp():
    A = np.array([[1., 2.], [3., -1.], [0.5, 0.]])

    def f(T):
        F = T.autograd.functional
        x = T.tensor([0.3, -0.7], dtype=T.float64)
        fn = lambda v: T.tensor(A) @ v.sin()
        scal = lambda v: (v ** 3).sum() + v.prod()
        v3 = T.tensor([1., 2., 3.], dtype=T.float64)
        v2 = T.tensor([0.5, -1.], dtype=T.float64)
        return (F.jacobian(fn, x), F.hessian(scal, x), F.vjp(fn, x, v3)[1], F.jvp(fn, x, v2)[1],
                F.vhp(scal, x, v2)[1])
    same(f, atol=1e-10)


def test_variable_legacy():
    """Variable(t, requires_grad=True) is a new leaf sharing t's memory; t itself is not changed (old
    tutorials then compute with both and print which one carries a grad_fn)."""
    def facts(T):
        t = T.tensor([[1., 2.], [3., 4.]])
        v = T.autograd.Variable(t, requires_grad=True)
        y = T.ones(2, requires_grad=True) * 2
        v2 = T.autograd.Variable(y)
        t.add_(1)
        return (v is t, t.requires_grad, v.requires_grad, v.is_leaf, v.tolist(), T.mean(t * t).grad_fn is None,
                isinstance(t, T.autograd.Variable), v2.requires_grad, v2.grad_fn is None)
    assert facts(ember) == facts(torch)
    for T in (ember, torch):
        with pytest.raises(TypeError, match='Variable data has to be a tensor, but got int'):
            T.autograd.Variable(3)
        with pytest.warns(UserWarning, match='volatile was removed'):
            T.autograd.Variable(T.ones(1), volatile=True)


def test_version_counter_error():
    def f(T):
        x = T.tensor(X, requires_grad=True)
        y = x.exp()
        y.add_(1)
        y.sum().backward()
    raises_like(f, RuntimeError, 'modified by an inplace operation')


@pytest.mark.parametrize('anomaly', [False, True])
def test_version_counter_error_message_is_pytorchs(anomaly):
    """The whole message, hint included (which differs with anomaly mode on), is PyTorch's."""
    def message(T):
        x = T.tensor(X, requires_grad=True)
        with T.autograd.set_detect_anomaly(anomaly):
            y = (x * 2).t().sigmoid()
            y.mul_(2)
            with pytest.raises(RuntimeError) as info:
                y.sum().backward()
        return str(info.value)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert message(ember) == message(torch)


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16', 'bfloat16', 'complex64', 'complex128', 'int64',
                                   'int32', 'int16', 'int8', 'uint8', 'bool'])
def test_version_counter_error_names_the_type_as_pytorch(dtype):
    """The modified tensor's type in the version error: a legacy name (torch.FloatTensor, torch.HalfTensor,
    torch.ByteTensor) where PyTorch has one, else its CPU type (CPUBoolType, CPUBFloat16Type, CPUComplexFloatType)."""
    def message(T):
        complex_ = 'complex' in dtype
        x = T.ones(3, requires_grad=True, dtype=getattr(T, dtype) if complex_ else T.float32)
        m = T.ones(3, dtype=getattr(T, dtype))
        y = x * m
        if dtype == 'bool':
            m.logical_not_()
        else:
            m.add_(1)
        with pytest.raises(RuntimeError) as info:
            (T.view_as_real(y) if complex_ else y).sum().backward()
        return str(info.value)
    assert message(ember) == message(torch)


def test_inplace_on_leaf_requiring_grad():
    raises_like(lambda T: T.tensor(X, requires_grad=True).add_(1), RuntimeError, 'leaf Variable')


def test_seed_003_training_loop():
    def f(T):
        Xs = T.tensor([1, 2, 3, 4, 5, 6, 7, 8], dtype=T.float32)
        Y = T.tensor([2, 4, 6, 8, 10, 12, 14, 16], dtype=T.float32)
        W = T.tensor(0.0, dtype=T.float32, requires_grad=True)
        lines = []
        for epoch in range(30):
            l = ((W * Xs - Y) ** 2).mean()
            l.backward()
            with T.no_grad():
                W -= 0.01 * W.grad
            W.requires_grad_(True)
            W.grad.zero_()
            if (epoch + 1) % 10 == 0:
                lines.append(f'epoch {epoch + 1}: w = {W:.3f}, loss = {l:.8f}')
        lines.append(f'Prediction after training: f(5) = {W * 5:.3f}')
        return lines
    e, t = both(f)
    assert e == t


def test_import_ember_does_not_import_torch():
    code = 'import sys, ember; ember.tensor([1.]).exp(); print(any(m == "torch" or m.startswith("torch.") for m in sys.modules))'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == 'False'


@pytest.mark.parametrize('copier', ['deepcopy', 'pickle'])
@pytest.mark.parametrize('kind', ['tensor', 'parameter'])
def test_copy_of_used_leaf_accumulates_into_itself(copier, kind):
    """A copy of a leaf that already took part in backward gets gradients of its own; the original's
    .grad is left alone (the copy must not share the original's AccumulateGrad)."""
    import copy
    import pickle

    def f(T):
        x = T.tensor(X, requires_grad=True) if kind == 'tensor' else T.nn.Parameter(T.tensor(X))
        (x * 2).sum().backward()
        y = copy.deepcopy(x) if copier == 'deepcopy' else pickle.loads(pickle.dumps(x))
        (y * 3).sum().backward()
        return x.grad, y.grad
    same(f)


def test_post_accumulate_grad_hook():
    """Hooks see the leaf after each accumulation (the optimizer-in-backward pattern), and stop once
    removed; non-leaves refuse them."""
    def f(T):
        w = T.tensor(X, requires_grad=True)
        b = T.tensor(X[0], requires_grad=True)
        seen = []

        def hook(p):
            seen.append(('w' if p is w else 'b', p.grad.clone()))
            with T.no_grad():
                p -= 0.1 * p.grad     # step this parameter during backward
            p.grad = None
        handles = [w.register_post_accumulate_grad_hook(hook), b.register_post_accumulate_grad_hook(hook)]
        for _ in range(2):
            ((w * b).sum() + (w * w).sum()).backward()
        handles[0].remove()
        (w * b).sum().backward()
        return w.detach(), b.detach(), w.grad, sorted(tag for tag, _ in seen), \
            [g for tag, g in seen if tag == 'w'], [g for tag, g in seen if tag == 'b']
    same(f)
    raises_like(lambda T: (T.tensor(X, requires_grad=True) * 2).register_post_accumulate_grad_hook(print),
                match='non-leaf')


def test_backward_of_outputs_that_feed_each_other():
    """Several outputs at once, some computed from others (their seeds wait for the other edges)."""
    def f(T):
        x = T.tensor(X, requires_grad=True)
        y = x * 2
        z = (y * y).sum()
        w = y.exp()
        T.autograd.backward([z, y, w], [None, T.ones(2, 3), T.full((2, 3), 0.5)])
        g1 = x.grad
        x.grad = None
        y = x * 3
        z = y * y
        return g1, T.autograd.grad([(z + y).sum(), z.sum()], [x, y])
    same(f)


def test_queue_callback_runs_once_backward_has_finished():
    """engine.queue_callback (PyTorch's Variable._execution_engine.queue_callback): a callback queued from a
    hook runs after every gradient of that pass has been accumulated, once; outside a pass it is refused."""
    from ember.autograd import engine
    a, b = ember.ones(2, requires_grad=True), ember.ones(3, requires_grad=True)
    seen = []

    def hook(leaf):
        engine.queue_callback(lambda: seen.append((a.grad.sum().item(), b.grad.sum().item())))
    h = a.register_post_accumulate_grad_hook(hook)
    (a.sum() * 2 + (b * 3).sum()).backward()
    assert seen == [(4.0, 9.0)]
    h.remove()
    (a.sum() * 2).backward()
    assert seen == [(4.0, 9.0)]
    with pytest.raises(RuntimeError, match='Final callbacks can only be installed during backward pass.'):
        engine.queue_callback(lambda: None)
    with pytest.raises(RuntimeError, match='Final callbacks') as e:
        torch.autograd.Variable._execution_engine.queue_callback(lambda: None)


def test_create_graph_grad_is_a_copy_like_torch():
    """Under create_graph=True a leaf's first .grad is a copy of the gradient (grad_fn CopyBackwards, whose
    edges are PyTorch's), so changing the gradient tensor afterwards leaves .grad alone; later passes add."""
    import warnings
    out = {}
    for lib in (torch, ember):
        x = lib.tensor([1., 2.], requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(g))
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')      # PyTorch's reference-cycle warning for backward(create_graph)
            (x ** 3).sum().backward(create_graph=True)
            first = (type(x.grad.grad_fn).__name__,
                     [(None if f is None else type(f).__name__, i) for f, i in x.grad.grad_fn.next_functions])
            with lib.no_grad():
                seen[0].add_(100.)
            gg = lib.autograd.grad(x.grad.sum(), x, retain_graph=True)[0]
            (x ** 2).sum().backward(create_graph=True)
        out[lib.__name__] = first, x.grad.tolist(), type(x.grad.grad_fn).__name__, gg.tolist()
    assert out['ember'] == out['torch']
    assert out['torch'][0][0] == 'CopyBackwards'


def test_first_grad_shares_nothing_that_someone_else_holds():
    """A leaf's first .grad takes over an unshared gradient without a copy (as PyTorch steals it), but is a copy
    of anything the caller, a hook or another leaf still holds: changing those afterwards leaves .grad alone."""
    def run(lib):
        class Keep(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, g):
                kept.append(g * 3)
                return kept[-1]
        kept = []
        a, b, c, d, e = (lib.zeros(3, requires_grad=True) for _ in range(5))
        g1, g2 = lib.ones(3), lib.ones(3)
        a.backward(g1)
        (b + c).backward(g2)
        Keep.apply(d).sum().backward()
        (e * 2).sum().backward()
        with lib.no_grad():
            g1.add_(10)
            g2.add_(20)
            b.grad.add_(30)
            kept[0].add_(40)
            e.grad.add_(50)
        return [t.grad.tolist() for t in (a, b, c, d, e)] + [g2.tolist()]
    assert run(ember) == run(torch)


def test_first_grad_takes_an_unshared_gradient_without_copy():
    """The gradient array a backward formula made, held by no one else, becomes .grad as it is (no copy)."""
    import weakref
    made = []

    class Fresh(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            out = ember.ones(2, 3) * 2
            made.append(weakref.ref(out._data))
            return out
    x = ember.zeros(2, 3, requires_grad=True)
    Fresh.apply(x).sum().backward()
    assert x.grad._data is made[0]() and x.grad.tolist() == [[2.] * 3] * 2
    w = ember.zeros(4, 3, 3, 3, requires_grad=True)
    ember.nn.functional.conv2d(ember.randn(2, 3, 5, 5), w).sum().backward()
    assert w.grad._data.flags.c_contiguous and w.grad._data.flags.writeable


@pytest.mark.parametrize('dtype', ['float16', 'float64', 'bfloat16'])
def test_backward_constants_keep_the_gradient_dtype(dtype):
    """tanh/sigmoid/tan/atan/asin/acos backward take 1 in the gradient's dtype (dual.one), as a number would."""
    def run(lib):
        x = lib.tensor([-0.5, 0.1, 0.7], dtype=getattr(lib, dtype), requires_grad=True)
        outs = [f(x) for f in (lib.tanh, lib.sigmoid, lib.tan, lib.atan, lib.asin, lib.acos)]
        return [lib.autograd.grad(o.sum(), x)[0].float() for o in outs]
    e, t = both(run)
    assert_same(e, t, atol=1e-2 if dtype in ('float16', 'bfloat16') else 1e-12, rtol=1e-2 if dtype != 'float64' else 1e-12)


def test_create_graph_passes_are_counted_out_even_when_they_raise():
    """saved() reads the per-thread create_graph flag only while graph.RECORDING counts a pass: the count
    returns to 0 after a pass, and after one a hook aborts; later plain and double backwards still work."""
    from ember.autograd import graph
    x = ember.tensor([0.5, 1.5], requires_grad=True)
    (gx,) = ember.autograd.grad((x * x * x).sum(), x, create_graph=True)
    assert graph.RECORDING[0] == 0 and gx.grad_fn is not None
    y = x.tanh()

    def boom(g):
        raise ValueError('hook aborts')
    y.register_hook(boom)
    with pytest.raises(ValueError, match='hook aborts'):
        y.sum().backward(create_graph=True)
    assert graph.RECORDING[0] == 0
    (g2,) = ember.autograd.grad(gx.sum(), x)
    np.testing.assert_allclose(to_numpy(g2), 6 * np.array([0.5, 1.5], np.float32))


def test_nodes_made_ready_together_run_in_pytorchs_order():
    """The engine runs the last child a node makes ready next (without its stack): tensor hooks still fire in
    PyTorch's order."""
    def run(lib):
        order = []
        x = lib.tensor([0.3, -0.2], requires_grad=True)
        y = x * 2
        parts = [y.exp(), y.sin(), y.tanh()]
        for name, p in zip('abc', parts):
            p.register_hook(lambda g, name=name: order.append(name))
        (parts[0] + parts[1] + parts[2]).sum().backward()
        return order
    e, t = both(run)
    assert e == t


def test_engine_chain_links_meet_shared_nodes_and_hooks():
    """The engine's chain fast path (a one-child node hands its gradient straight on) against graphs where the
    child has other consumers, hooks, or a retained gradient: the same gradients and hook calls as PyTorch."""
    def f(T):
        a = T.tensor(X, requires_grad=True)
        c = T.tensor(X[::-1].copy())
        seen = []
        h = (a * 2).tanh()                   # feeds two branches: must wait for both edges
        e = (h + c).exp()                    # a binary link (c needs no gradient), then a unary one
        e.register_hook(lambda g: seen.append(g.clone()))
        u = e.mul(c)
        v = h.sin()
        v.retain_grad()
        w = (u + v).sum()
        w.backward(retain_graph=True)
        first = a.grad.clone()
        w.backward()
        return first, a.grad, v.grad, seen[0], seen[1]
    same(f)


def test_engine_chain_pass_through_links():
    """add's and sub's first-operand links (their gradient handed on without a call along the engine's chain): a
    chain of them, a node hook, a pre-hook and a tensor hook on one, a retained gradient, and a second backward
    (nothing saved: no error, as PyTorch's) give PyTorch's gradients, hook calls and grad_fn names."""
    def f(T):
        a = T.tensor(X, requires_grad=True)
        c = T.tensor(X[::-1].copy())
        seen = []
        x = ((a - c) + c).tanh()
        y = (x + c) - c
        y.grad_fn.register_hook(lambda gi, go: seen.append(('node', gi[0].clone(), gi[1])))
        y.grad_fn.register_prehook(lambda go: seen.append(('pre', go[0].clone())))
        z = y.mul(c) + c
        z.register_hook(lambda g: g * 3)
        x.retain_grad()
        w = (z - c).sum()
        w.backward(retain_graph=True)
        first = a.grad.clone()
        (z - c).sum().backward()
        return first, a.grad, x.grad, seen, [type(n).__name__ for n in (y.grad_fn, z.grad_fn)], y.grad_fn.name()
    same(f)


def test_node_hooks_of_binary_ops_with_one_gradient():
    """A binary op whose second operand has no gradient (a constant tensor, a number, or a view's in-place op on
    one) hands the engine its first gradient alone: node hooks still see PyTorch's grad_inputs, with the None."""
    def f(T):
        a = T.tensor(X, requires_grad=True)
        c = T.tensor(X[::-1].copy())
        seen = []

        def hook(node):
            node.register_hook(lambda gi, go: seen.append(tuple(None if g is None else g.clone() for g in gi)))
        ys = [a + c, a.mul(c), a - 2, 2 - a, a * 3, a.div(c), (a * 1)[0].mul_(c[0])]
        for y in ys:
            hook(y.grad_fn)
        sum(y.sum() for y in ys).backward()
        return seen, a.grad
    same(f)


def _grad_then_backward_through_input(lib):
    """autograd.grad w.r.t. an intermediate, then a backward through that intermediate's own node (the split
    backward of notes/autograd.md's 'Backward Hooks execution'): the node is not run by grad, so its hooks stay
    silent and its saved tensors are still there."""
    log = []
    x = lib.tensor([1., 2.], requires_grad=True)
    y = x * x
    y.grad_fn.register_hook(lambda gi, go: log.append('node_hook'))
    y.grad_fn.register_prehook(lambda go: log.append('node_prehook'))
    y.register_hook(lambda g: log.append('tensor_hook') or g * 10)
    y.retain_grad()
    gy, = lib.autograd.grad((y * y).sum(), y)
    seen = list(log)
    y.backward(gy)
    a = lib.tensor([1., 2.], requires_grad=True)
    b = a.exp()
    c = b.sin()
    c.grad_fn.register_hook(lambda gi, go: log.append('sin'))
    b.grad_fn.register_hook(lambda gi, go: log.append('exp'))
    upper = lib.autograd.grad(c.sum() * 3, (c, b), retain_graph=True)   # b lies below c: c's node runs
    return gy, seen, log, x.grad, y.grad, upper


def test_grad_does_not_run_the_node_of_an_input_nothing_below_is_wanted_from():
    e, t = _grad_then_backward_through_input(ember), _grad_then_backward_through_input(torch)
    assert e[1] == t[1] == ['tensor_hook'] and e[2] == t[2]
    for a, b in ((e[0], t[0]), (e[3], t[3]), (e[4], t[4])) + tuple(zip(e[5], t[5])):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_backward_inputs_of_a_nonleaf_that_retains_grad_accumulates_once():
    """backward(inputs=[y]) for a y that retains its grad: .grad takes the gradient once (ember added it twice:
    through the retain_grad hook and as a requested input)."""
    out = []
    for lib in (ember, torch):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 3
        y.retain_grad()
        lib.autograd.backward((y * y).sum(), inputs=[y], retain_graph=True)
        y.sum().backward(inputs=[y])
        out.append((y.grad.numpy().copy(), x.grad))
    np.testing.assert_allclose(out[0][0], out[1][0])
    assert out[0][1] is None and out[1][1] is None


def _hook_order(lib):
    log = []
    x = lib.tensor([1., 2.], requires_grad=True)
    y = x * 2
    y.grad_fn.register_prehook(lambda go: log.append(('node_prehook', go[0].tolist())) or (go[0] * 100,))
    y.retain_grad()
    y.register_hook(lambda g: log.append(('tensor_hook', g.tolist())) or g * 10)
    y.register_hook(lambda g: log.append(('tensor_hook2', g.tolist())))
    y.sum().backward()
    return log, y.grad.tolist(), x.grad.tolist()


def test_pre_hooks_run_in_torchs_order_whatever_the_registration_order():
    """A node's pre-hooks run as PyTorch's engine runs them: the tensor's hooks, then its retain_grad hook (so
    .grad is the gradient the tensor hooks returned), then the node's own pre-hooks; ember ran them in the order
    they were registered."""
    assert _hook_order(ember) == _hook_order(torch)


def _hook_handles(lib):
    log = []
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    handles = [y.register_hook(lambda g: log.append('tensor')),
               y.grad_fn.register_hook(lambda gi, go: log.append('node')),
               y.grad_fn.register_prehook(lambda go: log.append('pre')),
               x.register_post_accumulate_grad_hook(lambda p: log.append('post'))]
    with y.register_hook(lambda g: log.append('with')):
        y.sum().backward(retain_graph=True)
    y.sum().backward(retain_graph=True)
    for h in handles:
        h.remove()
    y.sum().backward()
    ids = [h.id for h in handles]
    return log, [isinstance(h, lib.utils.hooks.RemovableHandle) for h in handles], len(set(ids)) == len(ids)


def test_tensor_and_node_hook_handles_are_removable_handles():
    """Tensor.register_hook, Node.register_hook/register_prehook and register_post_accumulate_grad_hook return
    a torch.utils.hooks.RemovableHandle, as PyTorch's (a distinct ``id``, ``with`` removes the hook on exit);
    ember's had no context manager and no id."""
    assert _hook_handles(ember) == _hook_handles(torch)
