"""An LSTM layer's backward at two threads: its input gradient made on a pool thread beside the time loop
(nn.modules.rnn._InputGrad), bit-identical to one thread's and equal to PyTorch's."""
import threading
import time

import numpy as np
import pytest
import torch

import ember
from ember import _parallel
from _isa import assert_cut_equal
from test_parallel import _both_regimes, split  # noqa: F401  (split: a fixture)


@pytest.mark.parametrize('bidirectional', [False, True])
def test_lstm_input_grad_made_beside_the_backward_loop_is_one_threads_and_torchs(split, monkeypatch, bidirectional):
    """At two threads an LSTM layer's input gradient is made on a pool thread while the backward's time loop runs, a
    few steps at a time as the loop finishes them (rnn._InputGrad), both directions: gradients equal one thread's bit
    for bit and PyTorch's, the pool thread's products late (each step's gate gradients must be there first)."""
    from ember.nn.modules import rnn
    monkeypatch.setattr(rnn, '_PIPELINE_MACS', 0)
    monkeypatch.setattr(rnn, '_GX_STEPS', 2)
    started, run_ = [], rnn._InputGrad.run

    def slow(self):
        started.append(1)
        time.sleep(0.003)
        run_(self)
    monkeypatch.setattr(rnn._InputGrad, 'run', slow)
    rng = np.random.default_rng(14)
    x = rng.standard_normal((7, 3, 5)).astype(np.float32)
    ember.manual_seed(0)
    em = ember.nn.LSTM(5, 6, 2, bidirectional=bidirectional)
    tm = torch.nn.LSTM(5, 6, 2, bidirectional=bidirectional)
    tm.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in em.state_dict().items()})

    def run(lib, m):
        for p in m.parameters():
            p.grad = None
        xs = lib.tensor(x, requires_grad=True)
        out, (h, c) = m(xs)
        (out.sum() + (c * c).sum()).backward()
        return [t.detach().numpy() for t in [xs.grad] + [p.grad for p in m.parameters()]]
    for a, b in zip(_both_regimes(lambda: run(ember, em)), run(torch, tm)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    if ember.get_num_threads() > 1:
        assert len(started) == (4 if bidirectional else 2)


@pytest.mark.parametrize('why', ['big', 'tall'])
def test_lstm_input_grad_not_beside_steps_that_want_the_pool(split, monkeypatch, why):
    """Steps whose recurrent products want the pool (from BIG_GEMM, or tall: backend._tall) would settle the pool
    thread's task, which waits for the loop (a hang): the input gradient is then made after the loop, the same.
    The backward runs on a thread of its own here, so that a hang fails the test instead of stopping the suite."""
    from ember import backend
    from ember.nn.modules import rnn
    monkeypatch.setattr(rnn, '_PIPELINE_MACS', 0)
    made = []
    init = rnn._InputGrad.__init__
    monkeypatch.setattr(rnn._InputGrad, '__init__', lambda self, *a: made.append(1) or init(self, *a))
    m = ember.nn.LSTM(8, 32, 1)
    x = ember.randn(4, 128, 8, requires_grad=True)      # steps (128, 128) @ (128, 32): 2^19 multiply-adds

    def grads():
        x.grad = None
        out, _ = m(x)
        out.sum().backward()
        return x.grad.numpy().copy()
    small = grads()
    assert made == ([1] if ember.get_num_threads() > 1 else [])
    if why == 'big':
        monkeypatch.setattr(backend, 'BIG_GEMM', 1 << 19)
    else:
        monkeypatch.setattr(backend, '_TALL_MACS', 1 << 19)
        monkeypatch.setattr(backend, '_TALL_ROWS', 128)
        monkeypatch.setattr(backend, '_TALL_INNER', 128)
    made.clear()
    got = []
    t = threading.Thread(target=lambda: got.append(grads()), daemon=True)
    t.start()
    t.join(60)
    assert got, 'the backward hung'
    assert_cut_equal(got[0], small)
    assert made == []


def test_lstm_input_grad_beside_a_failing_loop_stops(split, monkeypatch):
    """When the backward's time loop fails, the pool thread waiting for its steps is stopped and the error reaches
    the caller (no hang); the next backward runs as usual."""
    from ember.nn.modules import rnn
    monkeypatch.setattr(rnn, '_PIPELINE_MACS', 0)
    m = ember.nn.LSTM(4, 5, 1)
    x = ember.randn(6, 2, 4, requires_grad=True)
    gemm, calls = rnn.gemm, []

    def failing(a, b, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3 and a.shape == (2, 20):
            raise MemoryError('out of memory in the loop')
        return gemm(a, b, *args, **kwargs)
    monkeypatch.setattr(rnn, 'gemm', failing)
    out, _ = m(x)
    calls.clear()
    with pytest.raises(MemoryError):
        out.sum().backward()
    monkeypatch.setattr(rnn, 'gemm', gemm)
    assert _parallel.LATER is None
    out, _ = m(x)
    out.sum().backward()
    assert x.grad.shape == (6, 2, 4)


def test_lstm_weight_grads_side_by_side_are_one_threads_and_torchs(split, monkeypatch):
    """At two threads an LSTM layer's two weight gradients go side by side, each whole on one thread
    (backend.gemm_pair, rnn._weight_grads): equal to one thread's bit for bit on any kernel family (no product is
    cut) and to PyTorch's; with one of them not needed (a frozen w_hh) the other alone, the same."""
    from ember import backend
    monkeypatch.setattr(backend, '_PAIR_MACS', 0)
    pairs, gemm_pair = [], backend.gemm_pair

    def spy(*arrays, **kwargs):
        pairs.append(tuple(a.shape for a in arrays))
        return gemm_pair(*arrays, **kwargs)
    monkeypatch.setattr(backend, 'gemm_pair', spy)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((9, 4, 6)).astype(np.float32)
    ember.manual_seed(0)
    em = ember.nn.LSTM(6, 7, 2)
    tm = torch.nn.LSTM(6, 7, 2)
    tm.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in em.state_dict().items()})

    def run(lib, m):
        for p in m.parameters():
            p.grad = None
        out, (h, c) = m(lib.tensor(x))
        (out.sum() + (h * c).sum()).backward()
        return [p.grad.detach().numpy().copy() for p in m.parameters() if p.grad is not None]
    two = run(ember, em)
    layers = [((28, 36), (36, 6), (28, 36), (36, 7)), ((28, 36), (36, 7), (28, 36), (36, 7))]
    assert sorted(pairs) == layers      # (4 * hidden, steps * batch) @ (steps * batch, input or hidden)
    ember.set_num_threads(1)
    one = run(ember, em)
    ember.set_num_threads(2)
    for a, b, c in zip(two, one, run(torch, tm)):
        assert np.array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-5)
    em.weight_hh_l1.requires_grad_(False)
    tm.weight_hh_l1.requires_grad_(False)
    pairs.clear()
    alone = run(ember, em)
    assert len(alone) == len(two) - 1 and pairs == layers[:1]
    for a, c in zip(alone, run(torch, tm)):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-5)
