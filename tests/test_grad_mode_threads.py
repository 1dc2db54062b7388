"""Grad mode, inference mode and the backward pass's flags are per thread, as in PyTorch (issue 10: one
thread's no_grad() or backward turned recording off for every thread)."""
import threading

import pytest
import torch

import ember

LIBS = [ember, torch]


def _in_thread(fn):
    out = {}

    def run():
        try:
            out['value'] = fn()
        except BaseException as e:      # re-raised in the caller
            out['error'] = e
    t = threading.Thread(target=run)
    t.start()
    t.join(10)
    assert not t.is_alive()
    if 'error' in out:
        raise out['error']
    return out['value']


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_new_threads_start_with_grad_mode_on(lib):
    with lib.no_grad():
        assert _in_thread(lib.is_grad_enabled) is True
        x = lib.ones(2, requires_grad=True)
        assert _in_thread(lambda: (x * 2).grad_fn is not None)
    with lib.inference_mode():
        assert _in_thread(lib.is_inference_mode_enabled) is False


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_no_grad_in_one_thread_leaves_others_recording(lib):
    inside, done = threading.Event(), threading.Event()

    def worker():
        with lib.no_grad():
            inside.set()
            done.wait(10)
            return lib.is_grad_enabled()
    out = {}
    t = threading.Thread(target=lambda: out.setdefault('v', worker()))
    t.start()
    assert inside.wait(10)
    x = lib.ones(2, requires_grad=True)
    y = x * 3
    assert lib.is_grad_enabled() and y.grad_fn is not None
    done.set()
    t.join(10)
    assert out['v'] is False


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_set_grad_enabled_in_a_thread_does_not_leak(lib):
    _in_thread(lambda: lib.set_grad_enabled(False))
    assert lib.is_grad_enabled()
    assert _in_thread(lib.is_grad_enabled) is True


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_backward_in_one_thread_does_not_turn_grad_mode_off_elsewhere(lib):
    """A hook holds a backward pass open in a worker while the main thread records ops."""
    in_backward, release = threading.Event(), threading.Event()
    w = lib.ones(3, requires_grad=True)

    def hook(g):
        in_backward.set()
        release.wait(10)
        return g
    y = w * 2
    y.register_hook(hook)
    t = threading.Thread(target=lambda: y.sum().backward())
    t.start()
    assert in_backward.wait(10)
    z = w * 5
    recorded = lib.is_grad_enabled() and z.grad_fn is not None
    release.set()
    t.join(10)
    assert recorded
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


def test_create_graph_flag_is_per_thread():
    """While a create_graph backward runs in one thread, a plain backward in another gets arrays."""
    in_backward, release = threading.Event(), threading.Event()
    a = ember.ones(2, requires_grad=True)

    def hook(g):
        in_backward.set()
        release.wait(10)
        return g
    y = a * a
    y.register_hook(hook)
    t = threading.Thread(target=lambda: ember.autograd.grad(y.sum(), a, create_graph=True))
    t.start()
    assert in_backward.wait(10)
    b = ember.ones(2, requires_grad=True)
    (b * b).sum().backward()
    release.set()
    t.join(10)
    assert b.grad.grad_fn is None and b.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_ops_record_by_this_threads_grad_mode(lib):
    """Add, mul, tanh and sum record by this thread's grad mode alone: off in a backward pass's hook and under
    no_grad, on after an optimizer step and after another thread ended with grad mode off (ember's ops skip the
    thread-local read while no thread has grad mode off, see grad_mode.OFF)."""
    w = lib.ones(2, requires_grad=True)

    def recorded():
        return [t.grad_fn is not None for t in (w + w, w.mul(2), w.tanh(), w.sum())]
    seen = []
    y = w * 2
    y.register_hook(lambda g: seen.append(recorded() + [(g * w).grad_fn is not None]))
    y.sum().backward()
    with lib.no_grad():
        seen.append(recorded())
    lib.optim.SGD([w], lr=0.1).step()
    seen.append(recorded())
    _in_thread(lambda: lib.set_grad_enabled(False))
    seen.append(recorded())
    seen.append(_in_thread(recorded))
    assert seen == [[False] * 5, [False] * 4, [True] * 4, [True] * 4, [True] * 4]
