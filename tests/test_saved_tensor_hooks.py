"""torch.autograd.graph's saved-tensor hooks, multi-grad hooks, gradient edges and version bumps, against PyTorch:
the hooks are called as often, in the same order and with the same values, and the gradients are PyTorch's."""
import threading

import numpy as np
import pytest
import torch

import ember


def _log_hooks(lib, log, copy=False):
    """A pack/unpack pair recording each call (shape, requires_grad, grad_fn name and values)."""
    def pack(t):
        log.append(('pack', tuple(t.shape), t.requires_grad, None if t.grad_fn is None else type(t.grad_fn).__name__,
                    t.detach().double().flatten().tolist()))
        return t.detach().clone() if copy else t.detach()

    def unpack(t):
        log.append(('unpack', tuple(t.shape)))
        return t
    return lib.autograd.graph.saved_tensors_hooks(pack, unpack)


OPS = {
    'mul': lambda L, F, x, y, w: x * y, 'div': lambda L, F, x, y, w: x / y, 'exp': lambda L, F, x, y, w: x.exp(),
    'sin': lambda L, F, x, y, w: x.sin(), 'relu': lambda L, F, x, y, w: F.relu(x),
    'pow': lambda L, F, x, y, w: x ** 3, 'sum': lambda L, F, x, y, w: x.sum(), 'mm': lambda L, F, x, y, w: x @ w,
    'matmul': lambda L, F, x, y, w: L.matmul(x, w), 'bmm': lambda L, F, x, y, w: L.bmm(x[None], w[None]),
    'addmm': lambda L, F, x, y, w: L.addmm(y[0], x, w), 'tanh': lambda L, F, x, y, w: x.tanh(),
    'sigmoid': lambda L, F, x, y, w: x.sigmoid(), 'sqrt': lambda L, F, x, y, w: y.sqrt() + x,
    'log_softmax': lambda L, F, x, y, w: x.log_softmax(1), 'max': lambda L, F, x, y, w: x.max(),
    'norm': lambda L, F, x, y, w: x.norm(), 'square': lambda L, F, x, y, w: x * x,
    'gelu': lambda L, F, x, y, w: F.gelu(x),
    'silu': lambda L, F, x, y, w: F.silu(x), 'index': lambda L, F, x, y, w: x[L.tensor([0, 1, 1])],
    'maximum': lambda L, F, x, y, w: L.maximum(x, y), 'atan2': lambda L, F, x, y, w: L.atan2(x, y),
    'conv1d': lambda L, F, x, y, w: F.conv1d(x[None], w[:, :2, None]), 'var': lambda L, F, x, y, w: x.var(),
    'amax': lambda L, F, x, y, w: x.amax(1), 'chain': lambda L, F, x, y, w: ((x * y).tanh() @ w).exp(),
}


def _run(lib, f, retain=False):
    log = []
    x = lib.tensor([[1., -2., 3.], [0.5, 1.5, -1]], requires_grad=True)
    y = lib.tensor([[4., 5., 6.], [1., 2., 3.]], requires_grad=True)
    w = lib.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, -0.6], [1., 2., 3.]], requires_grad=True)
    with _log_hooks(lib, log):
        out = f(lib, lib.nn.functional, x, y, w)
    packed = len(log)
    out.sum().backward(retain_graph=retain)
    if retain:
        out.sum().backward()
    return log[:packed], log[packed:], [None if t.grad is None else t.grad.numpy() for t in (x, y, w)]


def _same_packs(got, want):
    """The packs: order, shapes, requires_grad, grad_fn names exactly; values to float32 rounding."""
    assert [e[:4] for e in got] == [e[:4] for e in want]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g[4], w[4], rtol=1e-6)


@pytest.mark.parametrize('name', sorted(OPS))
def test_hooks_called_as_pytorch(name):
    a, b = _run(torch, OPS[name]), _run(ember, OPS[name])
    _same_packs(b[0], a[0])
    assert b[1] == a[1]     # the unpacks in backward
    for ga, gb in zip(a[2], b[2]):
        assert (ga is None) == (gb is None)
        if ga is not None:
            np.testing.assert_allclose(gb, ga, rtol=1e-5, atol=1e-6)


def test_retain_graph_unpacks_each_pass():
    a, b = _run(torch, OPS['chain'], retain=True), _run(ember, OPS['chain'], retain=True)
    _same_packs(b[0], a[0])
    assert b[1] == a[1]
    for ga, gb in zip(a[2], b[2]):
        np.testing.assert_allclose(gb, ga, rtol=1e-5)


def _nested(lib):
    log = []
    x = lib.tensor([1., 2.], requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: (log.append('outer'), t)[1], lambda p: p):
        a = x.sin()
        with lib.autograd.graph.saved_tensors_hooks(lambda t: (log.append('inner'), t * 2)[1], lambda p: p / 2):
            b = a.exp()
        c = b.cos()
    c.sum().backward()
    return log, x.grad.tolist()


def test_nesting_innermost_applies():
    (log, grad), (tlog, tgrad) = _nested(ember), _nested(torch)
    assert log == tlog
    np.testing.assert_allclose(grad, tgrad, rtol=1e-6)


def _unpack_changes_values(lib):
    """What unpack returns is what backward uses."""
    x = lib.tensor([1., 2., 3.], requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach(), lambda p: p * 10):
        y = (x * x).sum()
    y.backward()
    return x.grad.tolist()


def test_unpack_result_is_used():
    assert _unpack_changes_values(ember) == _unpack_changes_values(torch)


def _create_graph(lib):
    x = lib.tensor([1., 2.], dtype=lib.float64, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach() * 1, lambda p: p):
        y = (x ** 3).sum() + (x.exp() * x).sum()
    g, = lib.autograd.grad(y, x, create_graph=True)
    g.sum().backward()
    return g.tolist(), type(g.grad_fn).__name__, x.grad.tolist()


def test_double_backward_through_unpacked():
    a, b = _create_graph(torch), _create_graph(ember)
    assert b[1] == a[1]
    np.testing.assert_allclose(b[0], a[0])
    np.testing.assert_allclose(b[2], a[2])


def _custom_function(lib):
    log = []

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x ** 3
            ctx.save_for_backward(x, out)
            return out

        @staticmethod
        def backward(ctx, g):
            x, out = ctx.saved_tensors
            return g * 3 * out / x

    x = lib.tensor([1., 2.], requires_grad=True)
    with _log_hooks(lib, log):
        y = Cube.apply(x)
    y.sum().backward()
    return log, x.grad.tolist()


def test_custom_function_saves_through_hooks():
    (log, grad), (tlog, tgrad) = _custom_function(ember), _custom_function(torch)
    _same_packs([e for e in log if e[0] == 'pack'], [e for e in tlog if e[0] == 'pack'])
    assert [e for e in log if e[0] == 'unpack'] == [e for e in tlog if e[0] == 'unpack']
    np.testing.assert_allclose(grad, tgrad, rtol=1e-6)


def _no_version_check(lib):
    """With hooks the saved tensor's version is not checked (the hooks own it): backward uses what unpack gives."""
    a = lib.ones(3, requires_grad=True)
    b = a.clone()
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda p: p):
        c = b.sin()
    b.mul_(2)
    c.sum().backward()
    return a.grad.tolist()


def test_mutation_after_pack_is_not_checked():
    np.testing.assert_allclose(_no_version_check(ember), _no_version_check(torch), rtol=1e-6)


def _save_on_cpu(lib):
    x = lib.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    with lib.autograd.graph.save_on_cpu():
        y = (x @ x).tanh().sum()
    y.backward()
    return x.grad.numpy()


def test_save_on_cpu():
    np.testing.assert_allclose(_save_on_cpu(ember), _save_on_cpu(torch), rtol=1e-6)


def _errors(lib):
    G = lib.autograd.graph
    out = []
    x = lib.ones(2, requires_grad=True)
    with G.saved_tensors_hooks(lambda t: 1, lambda p: 5):
        y = x.sin()
    try:
        y.sum().backward()
    except TypeError as e:
        out.append(str(e))
    try:
        with G.disable_saved_tensors_hooks('no hooks here'):
            with G.save_on_cpu():
                pass
    except RuntimeError as e:
        out.append(str(e))
    with G.disable_saved_tensors_hooks('off'):
        (x.sin().sum()).backward()    # saving is fine, setting hooks is not
    with G.saved_tensors_hooks(lambda t: t, lambda p: p):
        try:
            with G.disable_saved_tensors_hooks('not while set'):
                pass
        except RuntimeError as e:
            out.append(str(e))
    with G.save_on_cpu():   # enabled again after the disabling context
        pass
    return out


def test_errors():
    assert _errors(ember) == _errors(torch)


def test_hooks_are_per_thread():
    """Hooks set in one thread do not pack what another thread saves."""
    log = []
    x = ember.ones(2, requires_grad=True)
    seen = threading.Event()
    done = threading.Event()

    def other():
        seen.wait()
        log.append(len(x.sin().grad_fn._saved))
        done.set()
    th = threading.Thread(target=other)
    th.start()
    with ember.autograd.graph.saved_tensors_hooks(lambda t: (log.append('pack'), t)[1], lambda p: p):
        seen.set()
        done.wait()
    th.join()
    assert log == [1]
    assert ember.autograd.graph.Node._saved == ()    # the plain class attribute again


def _multi(lib, mode, only_a):
    calls = []
    a = lib.tensor([1., 2.], requires_grad=True)
    b = lib.tensor([3., 4.], requires_grad=True)
    c = a * b
    d = a * b

    def fn(grads):
        if mode == 'all':
            calls.append([None if g is None else g.tolist() for g in grads])
        else:
            calls.append(grads.tolist())
    h = lib.autograd.graph.register_multi_grad_hook((a, b, c, d), fn, mode=mode)
    (c.sum() * 2).backward(retain_graph=True, inputs=[a] if only_a else None)
    (c * d).sum().backward(retain_graph=True)
    h.remove()
    c.sum().backward()
    return calls


@pytest.mark.parametrize('mode,only_a', [('all', False), ('any', False), ('all', True), ('any', True)])
def test_register_multi_grad_hook(mode, only_a):
    assert _multi(ember, mode, only_a) == _multi(torch, mode, only_a)


def test_multi_grad_hook_bad_mode():
    with pytest.raises(ValueError) as e:
        ember.autograd.graph.register_multi_grad_hook([ember.ones(1, requires_grad=True)], print, mode='some')
    with pytest.raises(ValueError) as t:
        torch.autograd.graph.register_multi_grad_hook([torch.ones(1, requires_grad=True)], print, mode='some')
    assert str(e.value) == str(t.value)


def _edges(lib):
    G = lib.autograd.graph
    x = lib.tensor([1., 2., 3.], requires_grad=True)
    h = x * 2
    y = (h ** 2).sum()
    eh, ex = G.get_gradient_edge(h), G.get_gradient_edge(x)
    gh, gx = lib.autograd.grad(y, (eh, ex), retain_graph=True)
    g_one, = lib.autograd.grad(y, eh)
    return [type(eh.node).__name__, eh.output_nr, ex.node.name(), isinstance(eh, tuple), gh.tolist(), gx.tolist(),
            g_one.tolist()]


def test_gradient_edge():
    assert _edges(ember) == _edges(torch)
    with pytest.raises(RuntimeError, match='does not require gradients'):
        ember.autograd.graph.get_gradient_edge(ember.ones(2))


def _bumped(lib):
    x = lib.tensor([1., 2.], requires_grad=True)
    h = x * 1
    y = h.sin()
    v = h._version
    lib.autograd.graph.increment_version(h)
    lib.autograd.graph.increment_version([h])
    try:
        y.sum().backward()
    except RuntimeError as e:
        return v, h._version, str(e).split('.')[0]


def test_increment_version():
    assert _bumped(ember) == _bumped(torch)


def _mutation(lib):
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        a = lib.tensor([1., 2., 3.], requires_grad=True)
        b = a.clone()
        out = (b ** 2).sum() + b.sin().sum()
        b.sin_()
        out.backward()
    return a.grad.tolist(), b.tolist()


def test_allow_mutation_on_saved_tensors():
    np.testing.assert_allclose(_mutation(ember), _mutation(torch), rtol=1e-6)


def _mutation_outside(lib):
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        a = lib.tensor([1., 2.], requires_grad=True)
        out = (a.clone() ** 2).sum()
    try:
        out.backward()
    except AssertionError as e:
        return str(e)


def test_allow_mutation_backward_outside():
    assert _mutation_outside(ember) == _mutation_outside(torch)


def test_region_memory_budget_refused_in_eager():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match='can only be used inside a torch.compile region'):
            lib.autograd.graph.region_activation_memory_budget(0.5)


def _leaf_hook_order(lib):
    """Tensor hooks of leaves run in the order PyTorch runs leaves: at once, in the order of a node's edges."""
    log = []
    a, b, c = (lib.tensor([1., 2.], requires_grad=True) for _ in range(3))
    for n, t in zip('abc', (a, b, c)):
        t.register_hook(lambda g, n=n: log.append(n))
    h = a * b
    h.register_hook(lambda g: log.append('h'))
    ((h + c) * a).sum().backward()
    a.register_post_accumulate_grad_hook(lambda t: log.append('post a'))
    (a * b * c).sum().backward()
    return log


def test_leaf_hooks_run_in_pytorch_order():
    assert _leaf_hook_order(ember) == _leaf_hook_order(torch)


def _edge_outputs(lib):
    """A GradientEdge as an output of autograd.grad and backward (its gradient given), and Node.metadata."""
    x = lib.tensor([1., 2.], requires_grad=True)
    h = x * 3
    y = h.sin()
    e = lib.autograd.graph.get_gradient_edge(h)
    g, = lib.autograd.grad([e], [x], grad_outputs=[lib.tensor([1., -1.])], retain_graph=True)
    lib.autograd.backward([e], grad_tensors=[lib.ones(2)])
    y.grad_fn.metadata['tag'] = 1
    return g.tolist(), x.grad.tolist(), y.grad_fn.metadata, y.grad_fn.metadata is y.grad_fn.metadata


def test_gradient_edge_as_output_and_metadata():
    assert _edge_outputs(ember) == _edge_outputs(torch)
