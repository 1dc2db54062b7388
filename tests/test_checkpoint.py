"""torch.utils.checkpoint against PyTorch: both variants give PyTorch's outputs, grad_fn names, gradients and
random stream (dropout inside the region draws the same masks on recomputation), and its warnings and errors;
gradients through a checkpointed region pass float64 gradcheck."""
import warnings

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp

import ember
import ember.utils.checkpoint as ecp


def _net(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3))


def _run(lib, cp, run):
    """Outputs, grad_fn name, gradients, the warnings raised and the next random draw of ``run``."""
    net = _net(lib)
    x = lib.randn(4, 5, requires_grad=True)
    lib.manual_seed(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        y = run(cp, net, x)
    y.pow(2).sum().backward()
    grads = [x.grad.numpy()] + [p.grad.numpy() for p in net.parameters()]
    return (y.detach().numpy(), y.grad_fn.name(), grads, [str(w.message) for w in caught], lib.rand(3).numpy())


RUNS = {
    'reentrant': lambda cp, net, x: cp.checkpoint(net, x, use_reentrant=True),
    'non_reentrant': lambda cp, net, x: cp.checkpoint(net, x, use_reentrant=False),
    'unset': lambda cp, net, x: cp.checkpoint(net, x),
    'no_rng_state': lambda cp, net, x: cp.checkpoint(lambda t: net(t)[:, :2], x, use_reentrant=True,
                                                     preserve_rng_state=False),
    'kwargs': lambda cp, net, x: cp.checkpoint(lambda t, scale: net(t) * scale, x, scale=2.0, use_reentrant=False),
    'sequential': lambda cp, net, x: cp.checkpoint_sequential(net, 2, x, use_reentrant=True),
    'sequential_3': lambda cp, net, x: cp.checkpoint_sequential(list(net), 3, x, use_reentrant=False),
    'two_inputs': lambda cp, net, x: cp.checkpoint(lambda a, b: net(a) * b, x, x[:, :3].detach() + 1,
                                                   use_reentrant=True),
}


@pytest.mark.parametrize('name', RUNS)
def test_checkpoint_matches_pytorch(name):
    e = _run(ember, ecp, RUNS[name])
    t = _run(torch, tcp, RUNS[name])
    np.testing.assert_allclose(e[0], t[0], rtol=1e-5, atol=1e-6)
    assert e[1] == t[1]
    for a, b in zip(e[2], t[2]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert e[3] == t[3]
    np.testing.assert_array_equal(e[4], t[4])


def test_reentrant_recomputes_under_forward_random_state():
    """The reentrant forward keeps no graph inside the region; backward reruns it with the forward's random
    state, so the dropout mask (and so the gradient) is the forward's, not a fresh one."""
    ember.manual_seed(3)
    x = ember.randn(64, requires_grad=True)
    calls = []

    def region(t):
        calls.append(ember.is_grad_enabled())
        return ember.nn.functional.dropout(t, 0.5) * 3
    y = ecp.checkpoint(region, x, use_reentrant=True)
    y.sum().backward()
    assert calls == [False, True]
    np.testing.assert_array_equal(x.grad.numpy() != 0, y.detach().numpy() != 0)


def _errors(lib, cp):
    net = _net(lib)
    x = lib.randn(4, 5, requires_grad=True)
    out = []
    for call in (lambda: cp.checkpoint(net, x, use_reentrant=True, foo=1),
                 lambda: cp.checkpoint(net, x, use_reentrant=True, debug=True),
                 lambda: cp.checkpoint(net, x, use_reentrant=False, determinism_check='always'),
                 lambda: cp.checkpoint_sequential(net, 2, x, use_reentrant=False, foo=1),
                 lambda: lib.autograd.grad(cp.checkpoint(net, x, use_reentrant=True).sum(), x),
                 lambda: cp.checkpoint(net, x, use_reentrant=True).sum().backward(inputs=[x]),
                 lambda: cp.detach_variable([x])):
        try:
            call()
            out.append(None)
        except Exception as e:
            out.append((type(e).__name__, str(e)))
    return out


def test_checkpoint_errors_match_pytorch():
    assert _errors(ember, ecp) == _errors(torch, tcp)


def test_checkpoint_without_grad_inputs_warns_as_pytorch():
    for lib, cp in ((ember, ecp), (torch, tcp)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            z = cp.checkpoint(lib.nn.Linear(2, 2), lib.randn(3, 2), use_reentrant=True)
        assert [str(w.message) for w in caught] == ['None of the inputs have requires_grad=True. Gradients will be None']
        assert z.requires_grad is False


def test_autograd_grad_through_non_reentrant_checkpoint():
    for lib, cp in ((ember, ecp), (torch, tcp)):
        x = lib.arange(6.0).reshape(2, 3).requires_grad_()
        g, = lib.autograd.grad(cp.checkpoint(lambda t: (t * t).sum(), x, use_reentrant=False), x)
        np.testing.assert_array_equal(g.numpy(), 2 * np.arange(6.0).reshape(2, 3))


def _region(a, b):
    return ember.tanh(a @ b).pow(2)


def test_non_reentrant_gradcheck_float64():
    ember.manual_seed(0)
    w = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    x = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, w: ecp.checkpoint(_region, x, w, use_reentrant=False), (x, w))


def test_reentrant_gradients_match_finite_differences_float64():
    """Reentrant checkpointing serves .backward() only (autograd.grad raises, as in PyTorch), so its gradients
    are checked against central differences of the loss directly."""
    ember.manual_seed(0)
    w = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    x = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    v = ember.randn(2, 4, dtype=ember.float64)
    (ecp.checkpoint(_region, x, w, use_reentrant=True) * v).sum().backward()
    for t in (x, w):
        num = np.zeros(t.shape)
        a = t.detach().numpy()
        for i in np.ndindex(a.shape):
            old = a[i]
            vals = []
            for h in (1e-6, -1e-6):
                a[i] = old + h
                vals.append((_region(x.detach(), w.detach()) * v).sum().item())
            a[i] = old
            num[i] = (vals[0] - vals[1]) / 2e-6
        np.testing.assert_allclose(t.grad.numpy(), num, rtol=1e-6, atol=1e-8)


# -- the non-reentrant variant recomputes, on saved-tensor hooks, as PyTorch's ------------------------------
def _calls(lib, early_stop, backwards):
    """When the region runs: once in forward, then once per backward pass, stopping (early_stop) once the last
    tensor it saves is recomputed."""
    calls = []

    def region(x):
        y = x.sin()
        calls.append('saved')
        z = y * 2 + 1
        calls.append('end')
        return z
    x = lib.tensor([1., 2.], requires_grad=True)
    out = lib.utils.checkpoint.checkpoint(region, x, use_reentrant=False, early_stop=early_stop)
    for i in range(backwards):
        out.sum().backward(retain_graph=i < backwards - 1)
    return calls, x.grad.tolist()


@pytest.mark.parametrize('early_stop,backwards', [(True, 1), (False, 1), (True, 2), (False, 2)])
def test_non_reentrant_recomputes_as_pytorch(early_stop, backwards):
    (calls, grad), (tcalls, tgrad) = _calls(ember, early_stop, backwards), _calls(torch, early_stop, backwards)
    assert calls == tcalls
    np.testing.assert_allclose(grad, tgrad, rtol=1e-6)


def test_set_checkpoint_early_stop_overrides():
    def calls(lib):
        with lib.utils.checkpoint.set_checkpoint_early_stop(False):
            return _calls(lib, True, 1)[0]
    assert calls(ember) == calls(torch)


def test_non_reentrant_keeps_no_activation():
    """What the region saved is a holder, not the tensor: the forward's activations are not kept."""
    x = ember.tensor([1., 2.], requires_grad=True)
    out = ecp.checkpoint(lambda t: t.sin().exp(), x, use_reentrant=False)
    saved = [e for e in out.grad_fn._saved] + [e for e in out.grad_fn.next_functions[0][0]._saved]
    assert len(saved) == 2 and all(type(e[3].packed).__name__ == '_Holder' and e[3].packed.value is None
                                   for e in saved)


def _recompute_errors(lib):
    out = []
    runs = [0]

    def grows(x):   # saves one tensor more on recomputation
        runs[0] += 1
        y = x.exp()
        return (y.exp() if runs[0] > 1 else y).sum()
    x = lib.tensor([1., 2.], requires_grad=True)
    try:
        lib.utils.checkpoint.checkpoint(grows, x, use_reentrant=False, early_stop=False).backward()
    except RuntimeError as e:
        out.append((type(e).__name__, str(e)))
    h = x * 1
    y = lib.utils.checkpoint.checkpoint(lambda t: t.exp().sum(), h, use_reentrant=False)
    with lib.no_grad():
        h.add_(1)
    try:
        y.backward()
    except RuntimeError as e:
        out.append((type(e).__name__, str(e).split(' Hint')[0]))
    return out


def test_recomputation_errors_match_pytorch():
    assert _recompute_errors(ember) == _recompute_errors(torch)


def _nested_and_double(lib):
    x = lib.tensor([1., 2.], dtype=lib.float64, requires_grad=True)
    inner = lambda t: t.sin().exp()   # noqa: E731
    out = lib.utils.checkpoint.checkpoint(
        lambda t: lib.utils.checkpoint.checkpoint(inner, t * 2, use_reentrant=False).cos(), x, use_reentrant=False)
    g, = lib.autograd.grad(out.sum(), x, create_graph=True)
    g.sum().backward()
    return g.tolist(), x.grad.tolist()


def test_nested_regions_and_double_backward():
    np.testing.assert_allclose(_nested_and_double(ember), _nested_and_double(torch), rtol=1e-12)
