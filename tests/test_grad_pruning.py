"""autograd.grad and backward(inputs=) run only the part of the graph that leads to the requested inputs, as
PyTorch's engine does (its exec_info): nodes off that path do not run (their hooks stay silent, a custom Function's
backward is not called, other leaves' ``.grad`` stay as they were), and a node on it computes only the gradients of
edges that lead on (task_should_compute_output): its post-hooks see None for the others, except a custom
Function's, which see all it returned. Each case is run on ember and on PyTorch and compared."""
import numpy as np
import pytest
import torch

import ember


def both(fn):
    """fn(lib) on ember and on torch: (ember's result, torch's)."""
    return fn(ember), fn(torch)


def _vals(g):
    return None if g is None else np.round(np.asarray(g.detach().tolist(), dtype=np.float64), 6).tolist()


def _shapes(gs):
    return [None if g is None else tuple(g.shape) for g in gs]


def _counting_function(T, calls):
    """A custom Function that doubles its input and counts its backward calls by tag."""
    class Double(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, tag):
            ctx.tag = tag
            return x * 2

        @staticmethod
        def backward(ctx, g):
            calls[ctx.tag] = calls.get(ctx.tag, 0) + 1
            return g * 2, None
    return Double


def _two_branches(T, log, calls):
    """y = sum(F(x) * F(w)) with hooks on both branches' tensors and nodes, logging into ``log``."""
    Double = _counting_function(T, calls)
    x = T.tensor([1., 2.], requires_grad=True)
    w = T.tensor([3., 4.], requires_grad=True)
    a, b = Double.apply(x, 'x'), Double.apply(w, 'w')
    y = (a * b).sum()
    a.register_hook(lambda g: log.append(('a', _vals(g))))
    b.register_hook(lambda g: log.append(('b', _vals(g))))
    a.grad_fn.register_prehook(lambda go: log.append(('a-pre',)))
    b.grad_fn.register_prehook(lambda go: log.append(('b-pre',)))
    a.grad_fn.register_hook(lambda gi, go: log.append(('a-post', [_vals(g) for g in gi])))
    b.grad_fn.register_hook(lambda gi, go: log.append(('b-post', [_vals(g) for g in gi])))
    y.grad_fn.next_functions[0][0].register_hook(lambda gi, go: log.append(('mul-post', [_vals(g) for g in gi])))
    return x, w, a, b, y


def test_grad_runs_only_the_path_to_its_input():
    def f(T):
        log, calls = [], {}
        x, w, a, b, y = _two_branches(T, log, calls)
        g, = T.autograd.grad(y, x, retain_graph=True)
        out = [_vals(g), dict(calls), list(log), x.grad, w.grad]
        log.clear()
        calls.clear()
        gw, = T.autograd.grad(y, w)
        return out + [_vals(gw), dict(calls), log]
    e, t = both(f)
    assert e == t
    assert t[1] == {'x': 1} and t[6] == {'w': 1}
    assert ('b',) not in [x[:1] for x in t[2]] and t[2][0] == ('mul-post', [[6.0, 8.0], None])


def test_backward_inputs_accumulates_the_requested_leaf_alone():
    def f(T):
        log, calls = [], {}
        x, w, a, b, y = _two_branches(T, log, calls)
        w.grad = T.tensor([5., 5.])
        y.backward(inputs=[x], retain_graph=True)
        first = [_vals(x.grad), _vals(w.grad), dict(calls), list(log)]
        log.clear()
        y.backward()    # the whole graph, its nodes' switches as they were recorded
        return first + [_vals(x.grad), _vals(w.grad), dict(calls), log]
    e, t = both(f)
    assert e == t
    assert t[1] == [5.0, 5.0] and t[2] == {'x': 1} and t[6] == {'x': 2, 'w': 1}


def test_non_leaf_input_captures_without_running_its_node():
    def f(T):
        log, calls = [], {}
        x, w, a, b, y = _two_branches(T, log, calls)
        ga, gx = T.autograd.grad(y, [a, x], retain_graph=True)
        first = [_vals(ga), _vals(gx), dict(calls), list(log)]
        log.clear()
        calls.clear()
        ga, = T.autograd.grad(y, a)
        return first + [_vals(ga), dict(calls), log]
    e, t = both(f)
    assert e == t
    assert t[5] == {} and ('a-post', [[12.0, 16.0], None]) not in t[6]


def test_backward_inputs_non_leaf_runs_its_node_with_nothing_below():
    def f(T):
        log, calls = [], {}
        x, w, a, b, y = _two_branches(T, log, calls)
        a.retain_grad()
        y.backward(inputs=[a])
        return [_vals(a.grad), x.grad, w.grad, dict(calls), log]
    e, t = both(f)
    assert e == t


def _post_hook_inputs(T, make):
    """The grad_inputs a node's post-hook sees under autograd.grad with respect to the first of make's tensors."""
    T.manual_seed(0)
    seen = []
    tensors, out = make(T)
    out.grad_fn.register_hook(lambda gi, go: seen.append(_shapes(gi)))
    g, = T.autograd.grad(out.sum(), tensors[0])
    return seen, _vals(g)


@pytest.mark.parametrize('name', ['mm', 'linear', 'linear_3d', 'addmm', 'addmv', 'baddbmm', 'conv2d', 'mul',
                                  'tanh_mul'])
def test_post_hook_sees_none_for_edges_off_the_path(name):
    def make(T):
        x = T.randn(3, 4, dtype=T.float64, requires_grad=True)
        w = T.randn(4, 5, dtype=T.float64, requires_grad=True)
        b = T.randn(5, dtype=T.float64, requires_grad=True)
        if name == 'mm':
            return (x, w), x @ w
        if name == 'linear':
            return (x, w), T.nn.functional.linear(x, w.t(), b)
        if name == 'linear_3d':
            xb = T.randn(2, 3, 4, dtype=T.float64, requires_grad=True)
            return (xb, w), T.nn.functional.linear(xb, w.t(), b)
        if name == 'addmm':
            return (w, x), T.addmm(b, x, w)
        if name == 'addmv':
            v = T.randn(4, dtype=T.float64, requires_grad=True)
            return (v, x), T.addmv(b[:3], x, v)
        if name == 'baddbmm':
            p = T.randn(2, 3, 4, dtype=T.float64, requires_grad=True)
            q = T.randn(2, 4, 5, dtype=T.float64, requires_grad=True)
            return (q, p), T.baddbmm(b, p, q)
        if name == 'conv2d':
            img = T.randn(2, 3, 6, 6, dtype=T.float64, requires_grad=True)
            k = T.randn(4, 3, 3, 3, dtype=T.float64, requires_grad=True)
            return (img, k), T.nn.functional.conv2d(img, k, b[:4])
        if name == 'mul':
            return (x, w), x * w[:, :3].t()
        return (x,), T.tanh(x) * x
    (e_seen, e_val), (t_seen, t_val) = both(lambda T: _post_hook_inputs(T, make))
    assert e_seen == t_seen and len(t_seen) == 1
    np.testing.assert_allclose(np.array(e_val), np.array(t_val), rtol=1e-12, atol=1e-12)
    if name not in ('tanh_mul', 'linear_3d'):     # (linear_3d's hook is on the view above the product)
        assert None in t_seen[0]


def test_custom_function_post_hook_sees_all_it_returned():
    def f(T):
        seen, needs = [], []

        class Mul(T.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                ctx.save_for_backward(x, w)
                return x * w

            @staticmethod
            def backward(ctx, g):
                x, w = ctx.saved_tensors
                needs.append(ctx.needs_input_grad)
                return g * w, g * x
        x = T.tensor([1., 2.], requires_grad=True)
        w = T.tensor([3., 4.], requires_grad=True)
        o = Mul.apply(x, w)
        o.grad_fn.register_hook(lambda gi, go: seen.append([_vals(g) for g in gi]))
        g, = T.autograd.grad(o.sum(), x)
        return _vals(g), seen, needs
    e, t = both(f)
    assert e == t and t[1] == [[[3.0, 4.0], [1.0, 2.0]]]


def test_off_path_node_keeps_its_saved_tensors():
    """A node that did not run frees nothing: a later backward through it works without retain_graph; one that ran
    freed its saved tensors."""
    def f(T):
        x = T.tensor([1., 2.], requires_grad=True)
        w = T.tensor([3., 4.], requires_grad=True)
        a, b = x.exp(), w.exp()
        y = (a * 2 + b * 3).sum()
        gx, = T.autograd.grad(y, x)
        b.sum().backward()
        try:
            a.sum().backward()
            freed = None
        except RuntimeError as err:
            freed = 'second time' in str(err)
        return _vals(gx), _vals(w.grad), x.grad, freed
    e, t = both(f)
    assert e == t and t[3] is True


def test_unused_and_unreachable_inputs():
    def f(T):
        x = T.tensor([1., 2.], requires_grad=True)
        z = T.tensor([1., 1.], requires_grad=True)
        out = []
        try:
            T.autograd.grad((x * 2).sum(), [x, z], retain_graph=True)
        except RuntimeError as err:
            out.append(str(err))
        out.append([_vals(g) for g in T.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)])
        out.append([_vals(g) for g in T.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)])
        nograd = T.tensor([1., 1.])
        try:
            T.autograd.grad((x * 2).sum(), nograd)
        except RuntimeError as err:
            out.append(str(err))
        return out
    e, t = both(f)
    assert e == t and len(t) == 4


def test_is_grads_batched_with_pruning():
    def f(T):
        T.manual_seed(0)
        lin = T.nn.Linear(3, 2).double()
        x = T.randn(4, 3, dtype=T.float64, requires_grad=True)
        y = lin(x)
        v = T.eye(8, dtype=T.float64).reshape(8, 4, 2)
        g, = T.autograd.grad(y, x, v, is_grads_batched=True)
        return g.detach().numpy(), lin.weight.grad, lin.bias.grad
    (eg, ew, eb), (tg, tw, tb) = both(f)
    np.testing.assert_allclose(eg, tg, rtol=1e-12)
    assert ew is None and tw is None and eb is None and tb is None


def _mlp_derivatives(T):
    """A 2-8-8-1 tanh MLP's input derivatives as a PINN takes them (two create_graph grads), its loss's parameter
    gradients, and the hook log of the weights' product nodes."""
    T.manual_seed(0)
    net = T.nn.Sequential(T.nn.Linear(2, 8), T.nn.Tanh(), T.nn.Linear(8, 8), T.nn.Tanh(), T.nn.Linear(8, 1)).double()
    seen = []
    x = T.rand(16, 2, dtype=T.float64, requires_grad=True)
    u = net(x)
    u.grad_fn.register_hook(lambda gi, go: seen.append(_shapes(gi)))
    du, = T.autograd.grad(u.sum(), x, create_graph=True)
    d2, = T.autograd.grad(du[:, 0].sum(), x, create_graph=True)
    loss = ((d2[:, 0] + du[:, 1] - u[:, 0]) ** 2).mean()
    loss.backward()
    return [du.detach().numpy(), d2.detach().numpy()] + [p.grad.numpy() for p in net.parameters()], seen


def test_pinn_derivatives_and_parameter_gradients_match_torch():
    (e, es), (t, ts) = both(_mlp_derivatives)
    assert es == ts
    for a, b in zip(e, t):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_pinn_second_derivative_by_finite_differences():
    """The second derivative through pruned create_graph passes against central differences of the first."""
    T = ember
    T.manual_seed(0)
    net = T.nn.Sequential(T.nn.Linear(2, 8), T.nn.Tanh(), T.nn.Linear(8, 1)).double()
    x0 = np.random.default_rng(0).random((5, 2))

    def first(xa):
        x = T.tensor(xa, requires_grad=True)
        du, = T.autograd.grad(net(x).sum(), x, create_graph=True)
        return du
    x = T.tensor(x0, requires_grad=True)
    du, = T.autograd.grad(net(x).sum(), x, create_graph=True)
    d2, = T.autograd.grad(du[:, 0].sum(), x)
    h = 1e-6
    for j in range(2):
        xp, xm = x0.copy(), x0.copy()
        xp[:, j] += h
        xm[:, j] -= h
        fd = (first(xp)[:, 0].detach().numpy() - first(xm)[:, 0].detach().numpy()) / (2 * h)
        np.testing.assert_allclose(d2.numpy()[:, j], fd, rtol=1e-6, atol=1e-8)


def test_anomaly_mode_prunes_alike():
    def f(T):
        log, calls = [], {}
        with T.autograd.detect_anomaly():
            x, w, a, b, y = _two_branches(T, log, calls)
            g, = T.autograd.grad(y, x)
        return _vals(g), dict(calls), log
    e, t = both(f)
    assert e == t
