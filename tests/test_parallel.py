"""ember._parallel splits large NumPy passes across torch.set_num_threads's threads: results are bit-identical
to one thread's, nothing runs on the pool at one thread, errors reach the caller, and the pool survives
nesting and fork. Thresholds are lowered here so that small shapes take the split paths."""
import math
import os
import threading
import time

import numpy as np
import pytest
import torch

import ember
from ember import _parallel
from _isa import assert_cut_equal
from ember.nn.functional import _conv, _pool
from ember.optim import adadelta as _adadelta, adam as _adam, sgd as _sgd
from helpers import assert_same


@pytest.fixture
def split(monkeypatch):
    """Every pass splits, at two threads; set_num_threads's count is put back after."""
    before = ember.get_num_threads()
    monkeypatch.setattr(_parallel, 'MIN_BYTES', 0)
    ember.set_num_threads(2)
    yield
    ember.set_num_threads(before)


def _names(record):
    def fn(*args):
        record.append(threading.current_thread().name)
        time.sleep(0.002)       # lets the GIL go, as NumPy's loops do
        return args
    return fn


def test_each_keeps_order_and_uses_the_pool_only_above_one_thread(split):
    seen = []
    items = [(i,) for i in range(40)]
    assert _parallel.each(_names(seen), items) == items
    if ember.get_num_threads() > 1:    # no OpenBLAS here: one thread, nothing to check beyond order
        assert 'ember-pool' in seen
    ember.set_num_threads(1)
    seen.clear()
    assert _parallel.each(_names(seen), items) == items
    assert set(seen) == {threading.current_thread().name}


def test_copyto_and_ufunc_equal_numpy(split):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((7, 5, 6)).astype(np.float32)
    b = rng.standard_normal((5, 1)).astype(np.float32)
    out = np.empty_like(a)
    _parallel.ufunc(np.multiply, a, b, out=out)
    np.testing.assert_array_equal(out, a * b)
    _parallel.ufunc(np.add, out, a, out=out)                        # in place
    np.testing.assert_array_equal(out, a * b + a)
    t = np.empty((6, 5, 7), np.float32)
    _parallel.copyto(t, a.transpose(2, 1, 0))
    np.testing.assert_array_equal(t, a.transpose(2, 1, 0))


def test_a_workers_error_reaches_the_caller_and_the_pool_still_works(split):
    def fn(i):
        if i == 3:
            raise ValueError('chunk 3')
        return i
    with pytest.raises(ValueError, match='chunk 3'):
        _parallel.each(fn, [(i,) for i in range(8)])
    assert _parallel.each(fn, [(i,) for i in range(3)]) == [0, 1, 2]


@pytest.mark.parametrize('threads', [2, 1])
def test_each_then_adds_in_order_beside_the_items(split, threads):
    """each_then(fn, items, then): every then(i, fn(*items[i])) once, one at a time, in items' order, however the
    items finish (here the early ones last)."""
    ember.set_num_threads(threads)
    order, active = [], []

    def fn(i):
        time.sleep(0.001 * (8 - i))
        return i * 10

    def then(i, r):
        active.append(1)
        assert len(active) == 1
        order.append((i, r))
        time.sleep(0.0005)
        active.pop()
    _parallel.each_then(fn, [(i,) for i in range(8)], then)
    assert order == [(i, i * 10) for i in range(8)]


def test_each_then_error_reaches_the_caller(split):
    def then(i, r):
        if i == 2:
            raise ValueError('then 2')
    with pytest.raises(ValueError, match='then 2'):
        _parallel.each_then(lambda i: i, [(i,) for i in range(6)], then)
    assert _parallel.each(lambda i: i, [(1,), (2,)]) == [1, 2]


def test_a_worker_keeps_nothing_of_its_last_task(split):
    import weakref

    def task():
        a = np.zeros(1000)

        def fn(lo, hi):
            a[lo:hi] += 1
            time.sleep(0.002)
        _parallel.run(fn, 1000, a.nbytes)
        np.testing.assert_array_equal(a, 1)
        return weakref.ref(a)
    assert task()() is None     # the array went with the task, not with the worker's next wait


def test_nested_passes_run_on_their_own_thread(split):
    def outer(i):
        return sum(_parallel.each(lambda j: i * j, [(j,) for j in range(5)]))
    assert _parallel.each(outer, [(i,) for i in range(6)]) == [10 * i for i in range(6)]


def test_blas_settings_are_put_back(split):
    many = ember.backend.BLAS.many
    _parallel.each(lambda a: a @ a, [(np.ones((4, 4)),)] * 4)
    assert ember.backend.BLAS.many == many and ember.get_num_threads() == 2


def test_thread_count_reads_and_sets_as_usual_while_the_pool_runs(split):
    """Another thread sees set_num_threads's count during a split pass, and a count it sets then is kept."""
    seen = []

    def task(i):
        if i == 0:
            seen.append(ember.get_num_threads())
            ember.set_num_threads(3)
        time.sleep(0.002)
    _parallel.each(task, [(i,) for i in range(4)])
    assert seen == [2] and ember.get_num_threads() == 3 and ember.backend.BLAS.pinned == 0


def test_switch_interval_is_short_while_the_pool_runs_and_put_back_after(split):
    """The interpreter's switch interval is _parallel._SWITCH_S during a split pass and a later() task (so a woken
    worker gets the GIL in time), and the caller's value again after each, an error included."""
    import sys
    before = sys.getswitchinterval()
    seen = []
    _parallel.each(lambda i: seen.append(sys.getswitchinterval()), [(i,) for i in range(4)])
    assert seen == [pytest.approx(_parallel._SWITCH_S)] * 4 and sys.getswitchinterval() == before
    with pytest.raises(ZeroDivisionError):
        _parallel.each(lambda i: 1 / i, [(1,), (0,)])
    assert sys.getswitchinterval() == before
    out = np.empty(3)
    if _parallel.later(lambda: out.fill(sys.getswitchinterval()), out):
        assert sys.getswitchinterval() == pytest.approx(_parallel._SWITCH_S)
        _parallel.settle()
        assert out[0] == pytest.approx(_parallel._SWITCH_S)
    assert sys.getswitchinterval() == before


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork')
def test_pool_restarts_in_a_forked_child(split):
    _parallel.each(lambda i: i, [(0,), (1,)])     # the parent's workers exist
    _parallel.later(lambda: time.sleep(0.05), np.empty(1))     # and a later() task is running (at 2 threads)
    pid = os.fork()
    if pid == 0:
        ok = _parallel.LATER is None and _parallel.each(lambda i: i + 1, [(i,) for i in range(6)]) == list(range(1, 7))
        os._exit(0 if ok else 1)
    _parallel.settle()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def _conv_inputs(seed, x_shape, g_shape):
    """Random float32 input, (4, 3, 3, 3) weight, bias and output gradient for the conv tests."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    return x, w, b, rng.standard_normal(g_shape).astype(np.float32)


def _conv_grads(lib, x, w, b, g, **kwargs):
    """conv2d of arrays x, w (and bias b unless None) in ``lib``, backward from g: the value and the gradients
    as arrays."""
    ts = [lib.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    y = lib.nn.functional.conv2d(ts[0], ts[1], ts[2] if b is not None else None, **kwargs)
    y.backward(lib.tensor(g))
    return [y.detach().numpy()] + [t.grad.numpy() for t in ts]


@pytest.mark.parametrize('stride,padding', [(1, 0), (2, 1)])
def test_chunked_conv_is_bit_identical_across_threads(split, monkeypatch, stride, padding):
    monkeypatch.setattr(_conv, '_CHUNK_FROM', 0)
    monkeypatch.setattr(_conv, '_CHUNK_BYTES', 1)    # one sample a chunk
    x, w, b, g = _conv_inputs(1, (5, 3, 9, 9), (5, 4) + ((7, 7) if stride == 1 else (5, 5)))
    two = _conv_grads(ember, x, w, b, g, stride=stride, padding=padding)
    ember.set_num_threads(1)
    one = _conv_grads(ember, x, w, b, g, stride=stride, padding=padding)
    for a, c in zip(two, one):
        np.testing.assert_array_equal(a, c)
    torch_out = _conv_grads(torch, x, w, b, g, stride=stride, padding=padding)
    assert_same([ember.tensor(a) for a in two], [torch.tensor(a) for a in torch_out], atol=1e-4)


def test_lenet_convs_are_bit_identical_across_threads():
    """LeNet's batch-64 convs (columns rebuilt in backward: 14 and 3.7 MB) go in the same parts at one thread as at
    two, so their weight gradients are equal bit for bit (they differed when two threads made twice the parts)."""
    from ember.nn.functional import _conv
    rng = np.random.default_rng(7)
    before = ember.get_num_threads()
    try:
        for xs, ws in (((64, 3, 32, 32), (6, 3, 5, 5)), ((64, 6, 14, 14), (16, 6, 5, 5))):
            x, w = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)
            g = rng.standard_normal((xs[0], ws[0], xs[2] - 4, xs[3] - 4)).astype(np.float32)
            assert _conv._rebuilt(x, _conv._sample_column_bytes(x, w, g.shape[2:]))
            ember.set_num_threads(2)
            two = _both_regimes(lambda: _conv_grads(ember, x, w, None, g))
            want = _conv_grads(torch, x, w, None, g)
            for a, b in zip(two, want):   # float32 sums of up to 6400 products in another order: scaled to the largest
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * np.abs(b).max())
    finally:
        ember.set_num_threads(before)


@pytest.mark.parametrize('need_x', [True, False])
@pytest.mark.parametrize('chunked', [False, True])
def test_conv_in_parts_matches_torch(split, monkeypatch, need_x, chunked):
    """An im2col conv (LeNet's 5x5 kernels) runs its batch in parts, one per thread, or cache-sized parts, an even
    count of them at one thread and two (their columns rebuilt in backward): value and gradients match PyTorch's at
    both thread counts, with an input that needs no gradient too (LeNet's first conv)."""
    if chunked:
        monkeypatch.setattr(_conv, '_CHUNK_FROM', 0)
        monkeypatch.setattr(_conv, '_CHUNK_BYTES', 3 * 75 * 64 * 4)    # about three samples a part
    monkeypatch.setattr(_conv, '_FIRST_COLS', 0)     # the im2col path even where a first layer runs per sample
    seen = []
    parts = _conv._parts
    monkeypatch.setattr(_conv, '_parts', lambda x, w, o: seen.append(parts(x, w, o)) or seen[-1])
    rng = np.random.default_rng(4)
    x = rng.standard_normal((7, 3, 12, 12)).astype(np.float32)
    w, b = rng.standard_normal((6, 3, 5, 5)).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    g = rng.standard_normal((7, 6, 8, 8)).astype(np.float32)

    def run(lib):
        xt = lib.tensor(x, requires_grad=need_x)
        wt, bt = lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, wt, bt)
        y.backward(lib.tensor(g))
        return [y.detach().numpy(), wt.grad.numpy(), bt.grad.numpy()] + ([xt.grad.numpy()] if need_x else [])
    want = run(torch)
    counts = []
    for threads in (2, 1):
        ember.set_num_threads(threads)
        counts.append(_parallel.threads())      # 1 at both without OpenBLAS
        for a, c in zip(run(ember), want):
            np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-4)
    assert [len(p) for p in seen] == [4 if chunked else t for t in counts]    # chunked: three parts' worth, even


def _both_regimes(fn):
    """fn() at two threads and at one, as lists of arrays: they must be equal bit for bit (within float32 rounding
    where OpenBLAS's kernels round a cut product otherwise: _isa.cuts_exact)."""
    two = [np.asarray(a) for a in fn()]
    ember.set_num_threads(1)
    one = [np.asarray(a) for a in fn()]
    ember.set_num_threads(2)
    for a, b in zip(two, one):
        assert_cut_equal(a, b)
    return two


def test_run_goes_in_pieces_only_when_the_pass_splits(split):
    def fn(lo, hi):
        return lo, hi
    if ember.get_num_threads() > 1:     # no OpenBLAS here: one thread, no split
        assert _parallel.run(fn, 10, 100, rows=3) == [(0, 3), (3, 6), (6, 9), (9, 10)]
        assert _parallel.run(fn, 10, 100) == [(0, 5), (5, 10)]
    ember.set_num_threads(1)
    assert _parallel.run(fn, 10, 100, rows=3) == [(0, 10)]
    assert _parallel.run(fn, 0, 0, rows=3) == [(0, 0)]


def test_beside_runs_first_with_the_blocks_and_returns_its_result(split):
    """beside(first, fn, n, nbytes): first() once and fn over run's blocks, first's result back; at two threads
    first() is one more item of the blocks' share-out, so it may run on a pool thread."""
    for t in (2, 1):
        ember.set_num_threads(t)
        seen, names = [], []

        def first():
            names.append(threading.current_thread().name)
            time.sleep(0.002)
            return 'u'
        assert _parallel.beside(first, lambda lo, hi: seen.append((lo, hi)), 10, 100) == 'u'
        assert len(names) == 1
        assert sorted(seen) == ([(0, 5), (5, 10)] if ember.get_num_threads() > 1 else [(0, 10)])


@pytest.mark.parametrize('kernel,stride,padding', [(2, 2, 0), (3, 2, 1)])
def test_split_max_pool_is_bit_identical_and_matches_torch(split, monkeypatch, kernel, stride, padding):
    monkeypatch.setattr(_pool, '_PIECE_BYTES', 700)     # pieces of two 9x9 planes
    x = np.random.default_rng(2).standard_normal((3, 4, 9, 9)).astype(np.float32)
    x[0, 1, 2, 3] = np.nan             # one block takes the NaN-exact path, the others the fast one
    g = np.random.default_rng(3).standard_normal((3, 4) + ((4, 4) if padding == 0 else (5, 5))).astype(np.float32)

    def run(lib):
        xs = lib.tensor(x, requires_grad=True)
        y, i = lib.nn.functional.max_pool2d(xs, kernel, stride, padding, return_indices=True)
        y.backward(lib.tensor(g))
        return y.detach().numpy(), i.numpy(), xs.grad.numpy()
    got, want = _both_regimes(lambda: run(ember)), run(torch)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[2], want[2], rtol=1e-6, atol=1e-7)   # overlaps add in another order


def test_tiling_max_pool_goes_by_tiles_piece_by_piece(split, monkeypatch):
    """A 2x2 max pool larger than a piece of planes (MNIST's) takes the window-major tiles piece by piece, a piece
    whose max has a NaN the running max: values, indices and the gradient (-0. as +0.) bit for bit one thread's
    and PyTorch's."""
    monkeypatch.setattr(_pool, '_PIECE_BYTES', 700)     # pieces of two 8x9 planes
    tiled, general, scatters = [], [], []
    for name, seen in (('_tiled_max', tiled), ('_max_pool_block', general), ('_tiled_scatter', scatters)):
        fn = getattr(_pool, name)
        monkeypatch.setattr(_pool, name, lambda x, *a, fn=fn, seen=seen: seen.append(x.shape[0]) or fn(x, *a))
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 8, 9)).astype(np.float32)
    x[2, 3, 5, 6] = np.nan             # the last piece's max has a NaN
    g = rng.standard_normal((3, 4, 4, 4)).astype(np.float32)
    g[0, 0, :2] = -0.0

    def run(lib):
        xs = lib.tensor(x, requires_grad=True)
        y, i = lib.nn.functional.max_pool2d(xs, 2, return_indices=True)
        y.backward(lib.tensor(g))
        return [y.detach().numpy().view(np.uint8), i.numpy(), xs.grad.numpy().view(np.uint8)]
    for a, t in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_array_equal(a, t)
    assert tiled == [2] * 6 + [12] and general == [2, 12]    # two threads: 6 pieces of 2 planes; one: 12 at once
    assert scatters == [2] * 6 + [12]


@pytest.mark.parametrize('make', [
    lambda ps: ember.optim.Adadelta(ps, lr=1.0, weight_decay=0.1),
    lambda ps: ember.optim.Adam(ps, lr=0.1, betas=(0.5, 0.9), amsgrad=True),
    lambda ps: ember.optim.AdamW(ps, lr=0.1, weight_decay=0.1, maximize=True),
], ids=['adadelta', 'adam-amsgrad', 'adamw'])
def test_split_optimizer_steps_are_bit_identical(split, monkeypatch, make):
    monkeypatch.setattr(_adam, 'SPLIT_BYTES', 0)
    monkeypatch.setattr(_adam, 'SMALL', 0)     # the param alone, split, not joined with others
    monkeypatch.setattr(_adadelta, 'SPLIT_BYTES', 0)
    rng = np.random.default_rng(4)
    w0 = rng.standard_normal((7, 5)).astype(np.float32)
    grads = [rng.standard_normal((7, 5)).astype(np.float32) for _ in range(3)]

    def run():
        w = ember.nn.Parameter(ember.tensor(w0.copy()))
        opt = make([w])
        for g in grads:
            w.grad = ember.tensor(g)
            opt.step()
        return [w.detach().numpy()] + [s.numpy() for s in opt.state[w].values() if s.dim()]
    _both_regimes(run)


@pytest.mark.parametrize('make', [
    lambda lib, ps: lib.optim.Adam(ps, lr=0.1, betas=(0.5, 0.9), weight_decay=0.1),
    lambda lib, ps: lib.optim.AdamW(ps, lr=0.1, amsgrad=True, maximize=True),
], ids=['adam-wd', 'adamw-amsgrad-maximize'])
def test_adam_params_shared_out_whole_are_bit_identical_and_match_torch(split, monkeypatch, make):
    """From two params of SHARE_BYTES, a group's updates are shared out between the threads, whole params each:
    params and state bit-identical to one thread's, and PyTorch's."""
    monkeypatch.setattr(_adam, 'SHARE_BYTES', 0)
    monkeypatch.setattr(_adam, 'SMALL', 0)      # no param joins the small ones
    calls = []
    each = _parallel.each
    monkeypatch.setattr(_parallel, 'each', lambda fn, items: calls.append(len(items)) or each(fn, items))
    rng = np.random.default_rng(6)
    w0 = [rng.standard_normal(s).astype(np.float32) for s in ((7, 5), (12,), (3, 2, 2))]
    grads = [[rng.standard_normal(a.shape).astype(np.float32) for a in w0] for _ in range(3)]

    def run(lib):
        ws = [lib.nn.Parameter(lib.tensor(a.copy())) for a in w0]
        opt = make(lib, ws)
        for gs in grads:
            for w, g in zip(ws, gs):
                w.grad = lib.tensor(g)
            opt.step()
        return [w.detach().numpy() for w in ws] + \
            [s.numpy() for w in ws for s in opt.state[w].values() if s.dim()]
    for a, b in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert calls == [3, 3, 3]      # at two threads, each step: the three params shared out


def test_adamw_updates_shared_with_the_joined_small_params_are_bit_identical_and_match_torch(split, monkeypatch):
    """From SHARE_ALL_BYTES moved in all (GPT's AdamW: many params of up to 65k elements), the whole params' updates
    and the joined small params' one are shared out between the threads: bit-identical to one thread's, PyTorch's."""
    monkeypatch.setattr(_adam, 'SHARE_ALL_BYTES', 0)
    monkeypatch.setattr(_adam, 'SMALL', 20)     # (7, 5) and (6, 4) whole, (12,) and (3, 2, 2) joined
    calls = []
    each = _parallel.each
    monkeypatch.setattr(_parallel, 'each', lambda fn, items: calls.append(len(items)) or each(fn, items))
    rng = np.random.default_rng(7)
    w0 = [rng.standard_normal(s).astype(np.float32) for s in ((7, 5), (12,), (6, 4), (3, 2, 2))]
    grads = [[rng.standard_normal(a.shape).astype(np.float32) for a in w0] for _ in range(3)]

    def run(lib):
        ws = [lib.nn.Parameter(lib.tensor(a.copy())) for a in w0]
        opt = lib.optim.AdamW(ws, lr=0.1, betas=(0.9, 0.99), weight_decay=0.1)
        for gs in grads:
            for w, g in zip(ws, gs):
                w.grad = lib.tensor(g)
            opt.step()
        return [w.detach().numpy() for w in ws] + \
            [s.numpy() for w in ws for s in opt.state[w].values() if s.dim()]
    for a, b in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    if ember.get_num_threads() > 1:     # no OpenBLAS here: one thread, nothing shared
        assert calls == [3, 3, 3]      # at two threads, each step: two whole params and the joined ones


@pytest.mark.parametrize('nesterov', [False, True])
def test_split_sgd_blocks_are_bit_identical_and_match_torch(split, monkeypatch, nesterov):
    monkeypatch.setattr(_sgd, '_BLOCK', 4)
    monkeypatch.setattr(_sgd, '_SHARED', 2)   # 35 and 12 elements: shared blocks of 8, a short last one
    monkeypatch.setattr(_sgd, '_SPLIT_BYTES', 0)
    rng = np.random.default_rng(5)
    w0 = [rng.standard_normal(s).astype(np.float32) for s in ((7, 5), (12,))]
    grads = [[rng.standard_normal(a.shape).astype(np.float32) for a in w0] for _ in range(3)]

    def run(lib):
        ws = [lib.nn.Parameter(lib.tensor(a.copy())) for a in w0]
        opt = lib.optim.SGD(ws, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=nesterov)
        for gs in grads:
            for w, g in zip(ws, gs):
                w.grad = lib.tensor(g)
            opt.step()
        return [w.detach().numpy() for w in ws] + [opt.state[w]['momentum_buffer'].numpy() for w in ws]
    for got, want in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('op', ['softmax', 'log_softmax'])
def test_split_softmax_rows_are_bit_identical_and_match_torch(split, monkeypatch, op):
    from ember.ops import reduction
    monkeypatch.setattr(reduction, '_BLOCK_BYTES', 1)    # one row a block, blocks shared between threads
    rng = np.random.default_rng(5)
    x = rng.standard_normal((7, 11)).astype(np.float32)
    g = rng.standard_normal((7, 11)).astype(np.float32)
    _check_unary_both_regimes(lambda lib, t: getattr(lib.nn.functional, op)(t, 1), x, g)


def _check_unary_both_regimes(fn, x, g):
    """fn(lib, tensor)'s value and input gradient: bit-identical at 1 and 2 threads, and PyTorch's."""
    def run(lib):
        xs = lib.tensor(x, requires_grad=True)
        y = fn(lib, xs)
        y.backward(lib.tensor(g))
        return y.detach().numpy(), xs.grad.numpy()
    for a, b in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_split_linear_bias_is_bit_identical_and_matches_torch(split):
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((2, 5, 3)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    run = lambda lib: [lib.nn.functional.linear(*(lib.tensor(a) for a in (x, w, b))).numpy()]
    np.testing.assert_allclose(_both_regimes(lambda: run(ember))[0], run(torch)[0], rtol=1e-5, atol=1e-6)


def _linear_pair(monkeypatch, seen):
    """Large products from 0 multiply-adds, and a record of gemm_pair's side-by-side runs."""
    from ember import backend
    monkeypatch.setattr(backend, 'BIG_GEMM', 0)
    monkeypatch.setattr(backend, '_PAIR_MACS', 0)
    each = _parallel.each
    monkeypatch.setattr(_parallel, 'each', lambda fn, items: seen.append(len(items)) or each(fn, items))


@pytest.mark.parametrize('bias', [True, False])
def test_linear_backward_side_by_side_is_one_threads_and_torchs(split, monkeypatch, bias):
    """At two threads F.linear's backward runs its input's and weight's products side by side, each whole on one
    thread: the gradients equal one thread's bit for bit and PyTorch's."""
    seen = []
    _linear_pair(monkeypatch, seen)
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((2, 5, 3)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
    b, g = rng.standard_normal(4).astype(np.float32), rng.standard_normal((2, 5, 4)).astype(np.float32)

    def run(lib):
        ts = [lib.tensor(a, requires_grad=True) for a in ((x, w, b) if bias else (x, w))]
        lib.nn.functional.linear(*ts).backward(lib.tensor(g))
        return [t.grad.numpy() for t in ts]
    for got, want in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    if ember.backend.BLAS.setter is not None:     # with OpenBLAS: the pair went to the pool once, at 2 threads
        assert 2 in seen


@pytest.mark.parametrize('hooked', [False, True])
def test_hooks_around_a_weight_gradient_still_running_on_the_pool(hooked, monkeypatch):
    """At 2 threads a Linear's weight gradient, bound for a leaf with no hooks, is a product still running on a pool
    thread (_parallel.later) while the backward goes on, and its .grad takes the unfinished array. Hooks of the other
    leaves, of an activation and (``hooked``) of that weight itself read it in PyTorch's order and see PyTorch's
    values bit for bit (small integers: every product exact in float32)."""
    started = []
    later = _parallel.later
    monkeypatch.setattr(_parallel, 'later', lambda fn, out: started.append(later(fn, out)) or started[-1])

    def run(T):
        old = T.get_num_threads()
        T.set_num_threads(2)
        try:
            rng = np.random.default_rng(9)
            l1, l2, l3 = T.nn.Linear(256, 256), T.nn.Linear(256, 256), T.nn.Linear(256, 8)
            with T.no_grad():
                for p in (*l1.parameters(), *l2.parameters(), *l3.parameters()):
                    p.copy_(T.tensor(rng.integers(-1, 2, tuple(p.shape)).astype(np.float32)))
            log = []

            def read(name, t):
                log.append((name, None if t.grad is None else t.grad.numpy().tobytes()))
            l2.bias.register_post_accumulate_grad_hook(lambda p: read('b2 sees w2', l2.weight))
            l1.weight.register_post_accumulate_grad_hook(lambda p: read('w1 sees w2', l2.weight))
            if hooked:
                l2.weight.register_post_accumulate_grad_hook(lambda p: read('w2', p))
            x = T.tensor(rng.integers(-2, 3, (64, 256)).astype(np.float32), requires_grad=True)
            h = T.relu(l1(x))
            h.register_hook(lambda g: read('h sees w2', l2.weight))
            y = l3(T.relu(l2(h)))
            y.retain_grad()
            (y * T.tensor(rng.integers(-2, 3, (64, 8)).astype(np.float32))).sum().backward()
            return log + [('end', [p.grad.numpy().tobytes() for p in (x, l1.weight, l2.weight, l3.weight, y)])]
        finally:
            T.set_num_threads(old)
    got = run(ember)
    assert got == run(torch)
    assert [name for name, _ in got] == ['b2 sees w2'] + ['w2'] * hooked + ['h sees w2', 'w1 sees w2', 'end']
    if ember.backend.BLAS.setter is not None:     # with OpenBLAS: the unhooked weight's product ran on (a hook's never)
        assert any(started) != hooked


def test_linear_backward_side_by_side_gradcheck(split, monkeypatch):
    seen = []
    _linear_pair(monkeypatch, seen)
    x = ember.randn(3, 2, 4, dtype=ember.float64, requires_grad=True)
    w = ember.randn(5, 4, dtype=ember.float64, requires_grad=True)
    b = ember.randn(5, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(ember.nn.functional.linear, (x, w, b))
    assert ember.autograd.gradgradcheck(ember.nn.functional.linear, (x, w, b))


@pytest.mark.parametrize('mask', ['causal', 'float', 'none'])
def test_split_attention_is_bit_identical_and_matches_torch(split, mask):
    rng = np.random.default_rng(7)
    q, k, v = (rng.standard_normal((3, 2, 5, 4)).astype(np.float32) for _ in range(3))
    m = rng.standard_normal((5, 5)).astype(np.float32)
    g = rng.standard_normal((3, 2, 5, 4)).astype(np.float32)

    def run(lib):
        ts = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        kw = {'is_causal': True} if mask == 'causal' else {'attn_mask': lib.tensor(m)} if mask == 'float' else {}
        y = lib.nn.functional.scaled_dot_product_attention(*ts, **kw)
        y.backward(lib.tensor(g))
        return [y.detach().numpy()] + [t.grad.numpy() for t in ts]
    for a, b in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_split_attention_of_transposed_heads_is_bit_identical_and_matches_torch(split):
    """nanoGPT's heads (transposed views of one projection): the split writes the output in PyTorch's (B, L, H, D)
    layout and the gradients in the heads' own."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((3, 5, 24)).astype(np.float32)
    g = rng.standard_normal((3, 2, 5, 4)).astype(np.float32)

    def run(lib):
        qkv = lib.tensor(x, requires_grad=True)
        q, k, v = (z.view(3, 5, 2, 4).transpose(1, 2) for z in qkv.split(8, dim=2))
        y = lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        assert y.transpose(1, 2).is_contiguous()
        y.backward(lib.tensor(g))
        return [y.detach().numpy(), qkv.grad.numpy()]
    for a, b in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_split_causal_blocks_are_bit_identical_and_match_torch(split):
    """Causal heads of 16 positions: each batch block skips the masked blocks of its products as the whole does."""
    rng = np.random.default_rng(14)
    q, k, v = (rng.standard_normal((3, 2, 16, 4)).astype(np.float32) for _ in range(3))
    g = rng.standard_normal((3, 2, 16, 4)).astype(np.float32)
    assert ember.nn.functional._attention._half(q, k, v, True) == 8

    def run(lib):
        ts = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        y = lib.nn.functional.scaled_dot_product_attention(*ts, is_causal=True)
        y.backward(lib.tensor(g))
        return [y.detach().numpy()] + [t.grad.numpy() for t in ts]
    for a, b in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_split_attention_gradcheck(split):
    q, k, v = (ember.randn(2, 3, 4, dtype=ember.float64, requires_grad=True) for _ in range(3))
    f = lambda q, k, v: ember.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert ember.nn.functional._attention._split(q._data, k._data, v._data, None)
    assert ember.autograd.gradcheck(f, (q, k, v))


def test_split_gelu_is_bit_identical_and_matches_torch(split):
    x = (np.random.default_rng(8).standard_normal((5, 7)) * 4).astype(np.float32)    # some beyond 2 sqrt 2
    g = np.random.default_rng(9).standard_normal((5, 7)).astype(np.float32)
    _check_unary_both_regimes(lambda lib, t: lib.nn.functional.gelu(t), x, g)


@pytest.mark.parametrize('shape,ns,block', [((12, 64, 128), (128,), 384), ((50, 7, 9), (7, 9), 32), ((70, 5), (5,), 48),
                                            ((33, 20), (20,), None), ((40, 5), (5,), None)], ids=str)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('affine', [True, False])
def test_split_layer_norm_rows_are_bit_identical_and_match_torch(split, monkeypatch, shape, ns, block, dtype, affine):
    """layer_norm's rows by blocks on the pool (_norm._ln_split): output and the three gradients equal one thread's
    (the rows whole) bit for bit, and PyTorch's to rounding; the weight's and bias's gradients are summed whole."""
    from ember.nn.functional import _norm
    monkeypatch.setattr(_norm, '_LN_SPLIT_FROM', 0)
    rng = np.random.default_rng(len(shape) + len(ns))
    x0, g0 = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype), rng.standard_normal(shape).astype(dtype)
    w0, b0 = rng.standard_normal(ns).astype(dtype), rng.standard_normal(ns).astype(dtype)
    rows = x0.reshape(-1, math.prod(ns))
    assert _norm._ln_split(rows) == block     # blocks of whole 16-row runs, none of fewer than 16 rows

    def run(lib):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        y = lib.nn.functional.layer_norm(x, ns, w, b) if affine else lib.nn.functional.layer_norm(x, ns)
        y.backward(lib.tensor(g0))
        return [a.detach().numpy() for a in ((y, x.grad, w.grad, b.grad) if affine else (y, x.grad))]
    for a, c in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('per_block', [False, True])
def test_lstm_layer_at_two_threads_matches_torch(split, monkeypatch, per_block):
    """The LSTM layer's time loop runs whole (rnn._SPLIT_BATCH off), or with it on per batch block on the pool's
    threads (rnn._batch_blocks: here rows 0-3 and 4-8; a batch of 7 stays whole, under 4 rows a block), forward
    and backward."""
    from ember.nn.modules import rnn
    assert rnn._batch_blocks(np.empty((6, 9, 28), np.float32)) == [(0, 9)]
    monkeypatch.setattr(rnn, '_SPLIT_BATCH', per_block)
    if per_block:
        assert rnn._batch_blocks(np.empty((6, 9, 28), np.float32)) == [(0, 4), (4, 9)]
        assert rnn._batch_blocks(np.empty((6, 7, 28), np.float32)) == [(0, 7)]
    rng = np.random.default_rng(10)
    x = rng.standard_normal((6, 9, 5)).astype(np.float32)
    ember.manual_seed(0)
    em = ember.nn.LSTM(5, 7, 2)
    tm = torch.nn.LSTM(5, 7, 2)
    tm.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in em.state_dict().items()})

    def run(lib, m):
        xs = lib.tensor(x, requires_grad=True)
        out, (h, c) = m(xs)
        (out.sum() + h.sum() + (c * c).sum()).backward()
        return [out.detach().numpy(), h.detach().numpy(), c.detach().numpy(), xs.grad.numpy()] + \
            [p.grad.numpy() for p in m.parameters()]
    for a, b in zip(run(ember, em), run(torch, tm)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('bias', [True, False])
def test_lstm_projection_made_beside_the_time_loop_is_one_threads_and_torchs(split, monkeypatch, bias):
    """At two threads an LSTM layer's input projection is made in two parts of whole steps, the steps the time loop
    reaches last on a pool thread while the loop starts (rnn._projection), both directions: outputs and gradients
    equal one thread's bit for bit and PyTorch's, the pool's part finishing late."""
    from ember.nn.modules import rnn
    monkeypatch.setattr(rnn, '_PIPELINE_MACS', 0)
    started, readies = [], []
    later, projection = _parallel.later, rnn._projection

    def slow(fn, out):      # the pool's part finishes late: a step read before settle() would see garbage
        started.append(later(lambda: (time.sleep(0.005), fn()), out))
        return started[-1]
    monkeypatch.setattr(_parallel, 'later', slow)
    monkeypatch.setattr(rnn, '_projection', lambda *a: (lambda r: readies.append(r[1]) or r)(projection(*a)))
    rng = np.random.default_rng(13)
    x = rng.standard_normal((7, 3, 5)).astype(np.float32)
    ember.manual_seed(0)
    em = ember.nn.LSTM(5, 6, 2, bias=bias, bidirectional=True)
    tm = torch.nn.LSTM(5, 6, 2, bias=bias, bidirectional=True)
    tm.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in em.state_dict().items()})

    def run(lib, m):
        for p in m.parameters():
            p.grad = None
        xs = lib.tensor(x, requires_grad=True)
        out, (h, c) = m(xs)
        (out.sum() + (c * c).sum()).backward()
        return [t.detach().numpy() for t in [out, h, c, xs.grad] + [p.grad for p in m.parameters()]]
    for a, b in zip(_both_regimes(lambda: run(ember, em)), run(torch, tm)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    if ember.get_num_threads() > 1:
        assert any(started) and 2 in readies and 4 in readies     # forward layers start at step 2, reverse at 4


@pytest.mark.parametrize('small', [True, False], ids=['small-kernels', 'no-small-kernels'])
@pytest.mark.parametrize('module,hw', [('_winograd', (7, 6)), ('_winograd4', (8, 4))])
def test_split_winograd_conv_is_bit_identical_and_matches_torch(split, monkeypatch, module, hw, small):
    """The Winograd convs' transforms split by channel, their products by tile position, and the backward's two
    gradients run side by side (sharing the input gradient's products): forward, input and weight gradients as on
    one thread; without small-matrix kernels (Haswell's) each product whole, by tile position, on either path."""
    from ember.nn import functional
    monkeypatch.setattr(functional._winograd, 'small_kernels', lambda: small)
    whole, side_grads_whole = [], functional._winograd._side_grads_whole
    monkeypatch.setattr(functional._winograd, '_side_grads_whole', lambda *a: whole.append(1) or side_grads_whole(*a))
    for name in ('_winograd', '_winograd4'):    # the other one off, this one on at any size
        monkeypatch.setattr(getattr(functional, name), '_MIN_CHANNELS', 1 if name == module else 1 << 30)
        monkeypatch.setattr(getattr(functional, name), '_MIN_TILES', 1)
    monkeypatch.setattr(functional._winograd, '_MIN_CHUNKED_CHANNELS', 1 if module == '_winograd' else 1 << 30)
    calls, besides = [], []
    side_by_side, beside = _parallel.side_by_side, _parallel.beside
    monkeypatch.setattr(_parallel, 'side_by_side', lambda *a: calls.append(1) or side_by_side(*a))
    monkeypatch.setattr(_parallel, 'beside', lambda *a: besides.append(ember.get_num_threads()) or beside(*a))
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 8) + hw).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    g = rng.standard_normal((2, 16) + hw).astype(np.float32)
    _check_conv_both_regimes(x, w, g)
    assert calls == [1]     # at two threads only
    assert len(besides) == 2     # the forward's weight transform beside its input transform, in both regimes
    assert whole == ([] if small else [1])


@pytest.mark.parametrize('op,xs,ws,weight_at', [('conv2d', (3, 4, 7, 6), (5, 4, 4, 4), at) for at in (0, 5, 9)]
                         + [('conv_transpose2d', (3, 5, 4, 3), (5, 4, 4, 4), 5)], ids=str)
def test_stride2_winograd_gradients_side_by_side(split, monkeypatch, op, xs, ws, weight_at):
    """The stride-2 Winograd transposed conv's two gradients run side by side on the pool, each thread one
    gradient's transforms, then the products shared; the conv's forward multiplies V's tile positions as they are
    made, and its gradients share their products in a queue (the weight gradient's first, among or after the input
    gradient's), the thread that ends the input gradient's running its passes: values and gradients as on one
    thread, and PyTorch's."""
    from ember.nn.functional import _winograd_s2
    monkeypatch.setattr(_winograd_s2, '_MIN_CHANNELS', 1)
    monkeypatch.setattr(_winograd_s2, '_MAX_ODD', 0)     # odd sides too
    monkeypatch.setattr(_winograd_s2, '_WEIGHT_AT', weight_at)
    calls = []
    names = [(_parallel, 'side_by_side')] if op == 'conv_transpose2d' else \
        [(_winograd_s2, '_pipelined'), (_winograd_s2, '_shared_grads')]
    for owner, name in names:
        fn = getattr(owner, name)
        monkeypatch.setattr(owner, name, lambda *a, fn=fn, name=name: calls.append(name) or fn(*a))
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)

    def run(lib):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = getattr(lib.nn.functional, op)(xt, wt, stride=2, padding=1)
        y.backward(lib.tensor(np.cos(np.arange(y.numel(), dtype=np.float32)).reshape(tuple(y.shape))))
        return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()
    for a, b in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    assert calls == [name for _, name in names]     # at two threads only


@pytest.mark.parametrize('small', [True, False], ids=['small-kernels', 'no-small-kernels'])
@pytest.mark.parametrize('xs,ws,dtype,lower', [((3, 5, 4, 3), (5, 4, 4, 4), np.float32, True),
                                             ((5, 6, 3, 5), (6, 2, 4, 4), np.float64, True),
                                             ((32, 64, 8, 8), (64, 32, 4, 4), np.float32, False)], ids=str)
def test_stride2_winograd_transposed_forward_in_batch_blocks(split, monkeypatch, xs, ws, dtype, lower, small):
    """The stride-2 Winograd transposed conv's forward at two threads goes in one batch block per thread where
    OpenBLAS has small-matrix kernels, each block's whole pass on its thread (DCGAN's generator shape with the real
    thresholds too), else whole: PyTorch's values, and one thread's to rounding (a block's products are column
    blocks of the whole batch's, which OpenBLAS's Haswell kernels round otherwise in the last bits)."""
    from ember.nn.functional import _winograd_s2
    monkeypatch.setattr(_winograd_s2, 'small_kernels', lambda: small)
    if lower:
        monkeypatch.setattr(_winograd_s2, '_MIN_CHANNELS', 1)
        monkeypatch.setattr(_winograd_s2, '_MAX_ODD', 0)     # odd sides too
    else:
        monkeypatch.setattr(_parallel, 'MIN_BYTES', 1 << 20)
    blocks = []
    block = _winograd_s2._grad_input_block
    monkeypatch.setattr(_winograd_s2, '_grad_input_block', lambda g, *a: blocks.append(len(g)) or block(g, *a))
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)

    def run():
        return ember.nn.functional.conv_transpose2d(ember.tensor(x), ember.tensor(w), stride=2, padding=1).numpy()
    two = run()
    split_blocks, blocks[:] = blocks[:], []
    ember.set_num_threads(1)
    one = run()
    ember.set_num_threads(2)
    np.testing.assert_allclose(two, one, **tol)
    want = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w), stride=2, padding=1).numpy()
    np.testing.assert_allclose(two, want, **tol)
    assert blocks == [xs[0]]    # one thread: the whole batch
    if ember.get_num_threads() > 1:     # no OpenBLAS here: one thread, no split
        want_blocks = [hi - lo for lo, hi in _parallel.spans(xs[0], 2)] if small else [xs[0]]
        assert sorted(split_blocks) == sorted(want_blocks)


@pytest.mark.parametrize('threads', [1, 2])
def test_pipeline_runs_each_use_after_its_step(split, threads):
    """_parallel.pipeline: the steps in order on one thread, each use once, after the step it needs (a use of k
    None needs none); at one thread the steps, then the uses, in turn."""
    ember.set_num_threads(threads)
    log, lock = [], threading.Lock()

    def step(k):
        def fn():
            time.sleep(0.001)       # lets the GIL go, as NumPy's loops do
            with lock:
                log.append(('step', k))
        return fn

    def use(i, k):
        def fn():
            with lock:
                assert ('step', k) in log
                log.append(('use', i))
        return fn
    def free():     # a use that needs no step (k None)
        with lock:
            log.append(('free',))
    _parallel.pipeline([step(k) for k in range(3)],
                       [(None, free)] + [(k, use(i, k)) for i, k in enumerate([0, 0, 1, 2, 2, 2])])
    assert [e for e in log if e[0] == 'step'] == [('step', k) for k in range(3)]
    assert sorted(e for e in log if e[0] == 'use') == [('use', i) for i in range(6)]
    assert log.count(('free',)) == 1
    if threads == 1:
        assert log == [('step', k) for k in range(3)] + [('free',)] + [('use', i) for i in range(6)]


@pytest.mark.parametrize('threads', [1, 2])
def test_stride2_winograd_then_runs_last_once_after_every_thunk(split, threads):
    """_winograd_s2._then: the thunks' last() runs once, after all of them, on whichever thread finished the last
    (here the thunks go on the pool's threads as side_by_side's shared thunks do)."""
    from ember.nn.functional import _winograd_s2
    ember.set_num_threads(threads)
    log, lock = [], threading.Lock()

    def thunk(i):
        def fn():
            time.sleep(0.001 * (3 - i))     # lets the GIL go; the first ones finish last
            with lock:
                log.append(i)
        return fn
    thunks = _winograd_s2._then([thunk(i) for i in range(3)], lambda: log.append('last'))
    _parallel.each(lambda fn: fn(), [(fn,) for fn in thunks])
    assert sorted(log[:3]) == [0, 1, 2] and log[3:] == ['last']


def test_stride2_winograd_weight_transform_error_reaches_the_caller(split, monkeypatch):
    """The stride-2 Winograd conv's forward makes U on the pool beside V at two threads: an error there reaches
    the caller (no product waits for a U that is not coming), and the pool works after."""
    from ember.nn.functional import _winograd_s2
    monkeypatch.setattr(_winograd_s2, '_MIN_CHANNELS', 1)

    def fail(*args):
        raise ValueError('transform failed')
    monkeypatch.setattr(_winograd_s2, 'weight_transform', fail)
    x, w = ember.randn(3, 4, 8, 8), ember.randn(5, 4, 4, 4)
    with pytest.raises(ValueError, match='transform failed'):
        ember.nn.functional.conv2d(x, w, stride=2, padding=1)
    assert _parallel.each(lambda i: i * 2, [(1,), (2,)]) == [2, 4]


def test_pipeline_step_error_reaches_the_caller(split):
    """An error in a step reaches the caller as raised, the uses that need it (or come later) do not run, and the
    pool still works after."""
    ran = []

    def fail():
        raise ValueError('step failed')
    with pytest.raises(ValueError, match='step failed'):
        _parallel.pipeline([lambda: ran.append('s0'), fail, lambda: ran.append('s2')],
                           [(0, lambda: time.sleep(0.01)), (1, lambda: ran.append('u1')), (2, lambda: ran.append('u2'))])
    assert 'u1' not in ran and 'u2' not in ran and 's2' not in ran
    assert _parallel.each(lambda i: i * 2, [(1,), (2,)]) == [2, 4]


def test_side_by_side_runs_in_turn_when_the_pool_is_busy(split):
    """With the pool busy (a nested call) both preparations and the thunks that need them run on the calling
    thread, each thunk after what it needs, and nothing waits for a thread that is not coming."""
    seen = []
    assert _parallel.POOL.busy.acquire(blocking=False)
    try:
        _parallel.side_by_side(lambda: seen.append('first'), lambda: seen.append('second'),
                                   [lambda: seen.append('a')], [lambda: seen.append('b')])
    finally:
        _parallel.POOL.busy.release()
    assert seen == ['first', 'a', 'second', 'b']


@pytest.mark.parametrize('failing', [0, 1])
def test_side_by_side_error_reaches_the_caller(split, failing):
    """An error in either preparation reaches the caller as raised (the thunks that needed it do not run), and
    the pool still works after."""
    ran = []

    def prep(i):
        def fn():
            if i == failing:
                raise ValueError(f'preparation {i} failed')
        return fn
    with pytest.raises(ValueError, match=f'preparation {failing} failed'):
        _parallel.side_by_side(prep(0), prep(1), [lambda: ran.append('a')], [lambda: ran.append('b')])
    assert 'b' not in ran and (failing == 1 or not ran)
    assert _parallel.each(lambda i: i * 2, [(1,), (2,)]) == [2, 4]


def test_split_per_tap_conv_is_bit_identical_and_matches_torch(split, monkeypatch):
    """The per-tap conv's products run on the pool and add up in tap order: forward, input gradient and weight
    gradient (its taps shared out, the transpose to w's layout split by rows) as on one thread."""
    from ember.nn.functional import _taps, _winograd, _winograd4
    monkeypatch.setattr(_taps, '_MIN_CHANNELS', 1)
    monkeypatch.setattr(_taps, '_MAX_SIZE', 99)
    for module in (_winograd, _winograd4):
        monkeypatch.setattr(module, '_MIN_CHANNELS', 1 << 30)
        monkeypatch.setattr(module, '_MIN_TILES', 1 << 30)
    calls = []
    each_then = _parallel.each_then
    monkeypatch.setattr(_parallel, 'each_then', lambda *a: calls.append(len(a[1])) or each_then(*a))
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 6, 4, 5)).astype(np.float32)
    w = rng.standard_normal((8, 6, 3, 3)).astype(np.float32)
    g = rng.standard_normal((2, 8, 4, 5)).astype(np.float32)
    _check_conv_both_regimes(x, w, g)
    assert calls == [9, 18]     # at two threads: the forward's taps, then both gradients' (adds beside products)


@pytest.mark.parametrize('shape', [(4, 6, 9, 9), (3, 7, 8, 9), (2, 33, 65), (4, 6, 5, 5), (3, 7, 2, 3), (2, 33, 4)],
                         ids=str)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_split_batch_norm_is_bit_identical_and_matches_torch(split, monkeypatch, shape, dtype):
    """Training batch_norm by channel blocks on the pool: output, running stats and the three gradients equal one
    thread's (the whole batch at once) bit for bit, and PyTorch's to rounding. Short planes (see _norm._SHORT_PLANE),
    whose sums are matrix-vector products, stay whole at two threads too."""
    from ember.nn.functional import _norm
    monkeypatch.setattr(_norm, '_SPLIT_BYTES', 0)
    rng = np.random.default_rng(len(shape))
    x0, g0 = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype), rng.standard_normal(shape).astype(dtype)
    w0, b0 = rng.standard_normal(shape[1]).astype(dtype), rng.standard_normal(shape[1]).astype(dtype)
    short = math.prod(shape[2:]) <= _norm._SHORT_PLANE
    assert _norm._bn_blocks(x0, shape[1]) == (None if short else [(0, shape[1] // 2), (shape[1] // 2, shape[1])])

    def run(lib):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        rm, rv = lib.zeros(shape[1], dtype=x.dtype), lib.ones(shape[1], dtype=x.dtype)
        y = lib.nn.functional.batch_norm(x, rm, rv, w, b, True)
        y.backward(lib.tensor(g0))
        return [a.detach().numpy() for a in (y, x.grad, w.grad, b.grad, rm, rv)]
    for a, c in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_split_relu_is_bit_identical_and_matches_torch(split, monkeypatch, dtype):
    """relu, relu_ and their gradient in blocks on the pool (from pointwise._SPLIT_RELU_BYTES, 0 here): values and
    gradients bit for bit one thread's and PyTorch's, -0., NaN and infinities included (masked gradients +0.)."""
    from ember.ops import pointwise
    monkeypatch.setattr(pointwise, '_SPLIT_RELU_BYTES', 0)
    split_calls = []
    for name in ('ufunc', 'flat'):
        fn = getattr(_parallel, name)
        monkeypatch.setattr(_parallel, name, lambda *a, fn=fn, name=name, **k: split_calls.append(name) or fn(*a, **k))
    rng = np.random.default_rng(7)
    x0 = rng.standard_normal((4, 5, 1024)).astype(dtype)      # two rows of pointwise._ZERO_ROW and a tail
    g0 = rng.standard_normal(x0.shape).astype(dtype)
    specials = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, -np.nan, 1e-40, -1e-40], dtype)
    x0.reshape(-1)[:8], x0.reshape(-1)[-8:] = specials, specials
    g0.reshape(-1)[:8], g0.reshape(-1)[-8:] = specials[::-1], specials

    def run(lib):
        x, x2 = lib.tensor(x0, requires_grad=True), lib.tensor(x0, requires_grad=True)
        y = lib.nn.functional.relu(x)
        y.backward(lib.tensor(g0))
        z = x2 * 1
        z.relu_()
        z.backward(lib.tensor(g0))
        return [a.detach().numpy().view(np.uint8) for a in (y, x.grad, z, x2.grad)]
    for a, t in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_array_equal(a, t)
    # the forwards (relu, relu_) by row blocks in both regimes (whole at one thread), the gradients' blocks at two only
    assert split_calls.count('ufunc') == 4 and split_calls.count('flat') == 2


def test_split_stride2_3x3_conv_is_bit_identical_and_matches_torch(split, monkeypatch):
    """The 3x3 stride-2 conv's nine products of a pass run on the pool, each whole on one thread: forward and
    both gradients as on one thread, and PyTorch's to float32 rounding."""
    from ember.nn.functional import _stride2
    monkeypatch.setattr(_stride2, '_MIN_CHANNELS', 1)
    monkeypatch.setattr(_stride2, '_MIN_TILES', 1)
    monkeypatch.setattr(_stride2, 'small_kernels', lambda: False)   # whichever kernels the run loaded
    x, w, b, g = _conv_inputs(7, (3, 3, 9, 10), (3, 4, 5, 5))
    kw = dict(stride=2, padding=1)
    y = ember.nn.functional.conv2d(ember.tensor(x, requires_grad=True), ember.tensor(w), **kw)
    assert isinstance(y.grad_fn.cols, _stride2.Saved)
    for a, c in zip(_both_regimes(lambda: _conv_grads(ember, x, w, b, g, **kw)), _conv_grads(torch, x, w, b, g, **kw)):
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('ashape,bshape', [((3, 5), (5, 40)), ((40, 5), (5, 3)), ((4, 6, 5), (4, 5, 7)),
                                           ((2, 3, 6, 5), (2, 3, 5, 7)), ((4, 6, 5), (5, 7)),
                                           ((6, 5), (3, 5, 7))], ids=str)
def test_large_products_split_on_the_pool(split, monkeypatch, ashape, bshape):
    """At two threads a large product is cut into column, row or stack blocks on the pool (each block on one
    OpenBLAS thread) and equals the one-thread product; OpenBLAS's own count is left as it was."""
    from ember import backend
    monkeypatch.setattr(backend, 'BIG_GEMM', 0)
    rng = np.random.default_rng(2)
    a = rng.standard_normal(ashape).astype(np.float32)
    b = rng.standard_normal(bshape).astype(np.float32)
    before = backend.BLAS.getter() if backend.BLAS.getter else None
    two = backend.gemm(a, b)
    assert (backend.BLAS.getter() if backend.BLAS.getter else None) == before
    ember.set_num_threads(1)
    np.testing.assert_allclose(two, backend.gemm(a, b), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(two, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('ashape,bshape', [((3, 5), (5, 40)), ((40, 5), (5, 3)), ((4, 6, 5), (4, 5, 7)),
                                           ((4, 6, 5), (5, 7)), ((6, 5), (3, 5, 7))], ids=str)
def test_large_products_with_a_bias_add_it_in_their_blocks(split, monkeypatch, ashape, bshape):
    """gemm's ``bias`` on the pool: each thread adds it to its own block, the same values as the product plus the
    bias after it, and one thread's ``a @ b + bias`` to float precision."""
    from ember import backend
    monkeypatch.setattr(backend, 'BIG_GEMM', 0)
    rng = np.random.default_rng(3)
    a = rng.standard_normal(ashape).astype(np.float32)
    b = rng.standard_normal(bshape).astype(np.float32)
    bias = rng.standard_normal(bshape[-1]).astype(np.float32)
    two = backend.gemm(a, b, bias=bias)
    after = backend.gemm(a, b)
    after += bias
    np.testing.assert_array_equal(two, after)
    ember.set_num_threads(1)
    np.testing.assert_allclose(two, backend.gemm(a, b, bias=bias), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(two, a.astype(np.float64) @ b + bias, rtol=1e-5, atol=1e-5)


def test_products_the_pool_does_not_cut():
    """Mixed dtypes, vectors and broadcast stacks are left to gemm's OpenBLAS path (product gives None)."""
    a32, a64 = np.ones((4, 3), np.float32), np.ones((3, 4))
    assert _parallel.product(a32, a64) is None
    assert _parallel.product(a32, np.ones(3, np.float32)) is None
    assert _parallel.product(np.ones((2, 4, 3), np.float32), np.ones((1, 3, 5), np.float32)) is None


def test_chunked_winograd_is_bit_identical_across_threads(split, monkeypatch):
    """The chunked Winograd conv runs its chunks on the pool: forward and gradients equal one thread's bit for
    bit, and PyTorch's to float32 rounding."""
    from ember.nn.functional import _winograd
    for name, value in (('_MIN_CHANNELS', 1 << 30), ('_MIN_CHUNKED_CHANNELS', 1), ('_MIN_TILES', 1),
                        ('_CHUNK_FROM', 0), ('_CHUNK_BYTES', 1)):
        monkeypatch.setattr(_winograd, name, value)
    x, w, b, g = _conv_inputs(3, (5, 3, 8, 7), (5, 4, 8, 7))
    y = ember.nn.functional.conv2d(ember.tensor(x, requires_grad=True), ember.tensor(w), padding=1)
    assert isinstance(y.grad_fn.cols, _winograd.Chunked) and len(y.grad_fn.cols.chunks) == 5
    two = _both_regimes(lambda: _conv_grads(ember, x, w, b, g, padding=1))
    assert_same([ember.tensor(a) for a in two], [torch.tensor(a) for a in _conv_grads(torch, x, w, b, g, padding=1)],
                atol=1e-4)


def test_chunked_winograd4_is_bit_identical_across_threads(split, monkeypatch):
    """The chunked F(4x4, 3x3) conv runs its chunks on the pool: forward and gradients equal one thread's bit for
    bit (the weight's partial sums add up in chunk order), and PyTorch's to float32 rounding."""
    from ember.nn.functional import _winograd4_chunked
    for name, value in (('_MIN_CHANNELS', 1), ('_CHUNK_FROM', 0), ('_CHUNK_BYTES', 1), ('_FORWARD_BYTES', 1)):
        monkeypatch.setattr(_winograd4_chunked, name, value)
    x, w, b, g = _conv_inputs(4, (5, 3, 6, 10), (5, 4, 4, 8))
    y = ember.nn.functional.conv2d(ember.tensor(x, requires_grad=True), ember.tensor(w))
    assert isinstance(y.grad_fn.cols, _winograd4_chunked.Saved) and len(y.grad_fn.cols.chunks) == 5
    for a, b in zip(_both_regimes(lambda: _conv_grads(ember, x, w, b, g)), _conv_grads(torch, x, w, b, g)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_large_products_route_by_shape_alone(split, monkeypatch):
    """gemm's routing of large products at two threads: ``many`` ones to OpenBLAS's threads, others cut on the
    pool, the same way every time (no timings), so a program's results repeat run to run."""
    from ember import backend
    if backend.BLAS.getter is None:
        pytest.skip('no OpenBLAS whose threads ember steers')      # nothing to route: gemm is a @ b
    monkeypatch.setattr(backend, 'BIG_GEMM', 0)
    seen = []
    product = _parallel.product
    monkeypatch.setattr(_parallel, 'product', lambda a, b, bias=None: seen.append(a.shape) or product(a, b, bias))
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    want = a @ a.T

    def route(many=False):
        seen.clear()
        np.testing.assert_array_equal(backend.gemm(a, a.T, many), want)
        return 'pool' if seen else 'openblas'
    assert route(many=True) == 'openblas'
    assert [route() for _ in range(3)] == ['pool'] * 3
    assert route(many=True) == 'openblas' and route() == 'pool'


def test_mid_size_square_products_run_on_openblas_threads(split, monkeypatch):
    """At two threads a 2-D product under 2**25 multiply-adds whose sides are all at least 256 runs on OpenBLAS's
    threads (the pool's hand-over cost a lone 256x256 product a fifth of its time); a side below 256, a larger
    product or a stack still goes to the pool. Every route gives the product to float32 rounding."""
    from ember import backend
    if backend.BLAS.getter is None:
        pytest.skip('no OpenBLAS whose threads ember steers')      # nothing to route: gemm is a @ b
    seen = []
    product = _parallel.product
    monkeypatch.setattr(_parallel, 'product', lambda a, b, bias=None: seen.append(a.shape) or product(a, b, bias))
    rng = np.random.default_rng(12)

    def route(sa, sb):
        seen.clear()
        a, b = rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)
        np.testing.assert_allclose(backend.gemm(a, b), a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)
        return 'pool' if seen else 'openblas'
    assert route((256, 256), (256, 256)) == 'openblas'
    assert route((256, 300), (300, 256)) == 'openblas'
    assert route((256, 512), (512, 128)) == 'pool'            # a side below 256 (an MLP's, GPT's widths)
    assert route((256, 256), (256, 128)) == 'openblas'        # under BIG_GEMM: one OpenBLAS thread, no pool
    assert route((512, 512), (512, 512)) == 'pool'            # 2**27 multiply-adds
    assert route((2, 256, 256), (2, 256, 256)) == 'pool'      # a stack


def test_tall_products_under_big_gemm_are_cut_by_rows_bit_identically(split, monkeypatch):
    """At two threads a 2-D product under BIG_GEMM with at least 512 rows, an inner dimension of at least 128 and
    2**23 multiply-adds (GPT's (768, 128) @ (128, 128) attention projection) is cut by rows on the pool, with its bias
    added in the blocks: the values of one thread's product bit for bit. Fewer rows, a shorter inner dimension or
    fewer multiply-adds stay on one OpenBLAS thread."""
    from ember import backend
    if backend.BLAS.getter is None:
        pytest.skip('no OpenBLAS whose threads ember steers')      # nothing to route: gemm is a @ b
    seen = []
    product = _parallel.product
    monkeypatch.setattr(_parallel, 'product', lambda a, b, bias=None: seen.append(a.shape) or product(a, b, bias))
    rng = np.random.default_rng(13)

    def route(sa, sb):
        a, b = rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)
        bias = rng.standard_normal(sb[-1]).astype(np.float32)
        seen.clear()
        two = backend.gemm(a, b.T.copy().T, bias=bias)
        where = 'pool' if seen else 'openblas'
        ember.set_num_threads(1)
        np.testing.assert_array_equal(two, backend.gemm(a, b.T.copy().T, bias=bias))
        ember.set_num_threads(2)
        np.testing.assert_allclose(two, a.astype(np.float64) @ b + bias, rtol=1e-4, atol=1e-4)
        return where
    assert route((768, 128), (128, 128)) == 'pool'
    assert route((12, 64, 128), (128, 128)) == 'pool'         # a stack times a matrix: one 2-D product
    assert route((511, 128), (128, 129)) == 'openblas'        # too few rows
    assert route((1024, 64), (64, 128)) == 'openblas'         # too short an inner dimension
    assert route((768, 128), (128, 64)) == 'openblas'         # too few multiply-adds


def test_spans_cover_the_range_in_near_equal_blocks():
    assert _parallel.spans(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert _parallel.spans(2, 4) == [(0, 1), (1, 2)]
    assert _parallel.spans(5, 1) == [(0, 5)] and _parallel.spans(0, 2) == [(0, 0)]


def test_a_worker_not_yet_awake_has_its_task_taken_back():
    """_join takes back, unrun, a task whose worker has not taken it (its ``go`` still released), and waits
    only for the workers that did."""
    from types import SimpleNamespace
    idle = SimpleNamespace(go=threading.Lock(), done=threading.Lock(), task=lambda: None, error=None)
    idle.done.acquire()                 # waiting on it would block for good
    busy = SimpleNamespace(go=threading.Lock(), done=threading.Lock(), task=None, error=ValueError('late'))
    busy.go.acquire()                   # taken: its thread runs the task and releases done
    errors = []

    def join():
        try:
            _parallel._join([idle, busy])
        except ValueError as e:
            errors.append(e)
    t = threading.Thread(target=join)
    t.start()
    t.join(timeout=10)
    assert not t.is_alive() and idle.go.locked() and idle.task is None
    assert [str(e) for e in errors] == ['late'] and busy.error is None


def _check_conv_both_regimes(x, w, g):
    """A padded 3x3 conv's value and gradients: bit-identical at 1 and 2 threads, and PyTorch's."""
    for a, b in zip(_both_regimes(lambda: _conv_grads(ember, x, w, None, g, padding=1)),
                    _conv_grads(torch, x, w, None, g, padding=1)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_max_pool_pieces_are_256_kib_or_an_eighth_of_a_large_pool():
    """Pieces of planes a split max pool goes in: 256 KiB of input (LeNet's sizes), or an eighth of a pool past
    2 MiB (fewer GIL round trips between the threads)."""
    small = np.broadcast_to(np.float32(0), (384, 28, 28))       # 1.2 MB: 83 planes of 3136 bytes in 256 KiB
    large = np.broadcast_to(np.float32(0), (4096, 24, 24))      # 9.4 MB: 4096 / 8 planes
    assert _pool._piece_planes(small) == (256 << 10) // (28 * 28 * 4)
    assert _pool._piece_planes(large) == 4096 // 8


@pytest.mark.parametrize('op,xs,ws,kw', [('conv2d', (5, 3, 9, 8), (4, 3, 4, 4), dict(stride=2, padding=1)),
                                         ('conv2d', (5, 2, 7, 7), (3, 2, 3, 3), dict(padding=1)),
                                         ('conv_transpose2d', (5, 4, 5, 4), (4, 3, 4, 4), dict(stride=2, padding=1)),
                                         ('conv_transpose2d', (5, 4, 5, 4), (4, 2, 3, 3), dict(padding=1))], ids=str)
def test_split_per_sample_conv_is_bit_identical_and_matches_torch(split, monkeypatch, op, xs, ws, kw):
    """Per-sample convs (forward and input gradient) and transposed convs (forward and input gradient) take their
    batch in blocks, one per thread, each block's columns and products on its thread: values and gradients as on
    one thread, bit for bit, and PyTorch's; with an input that needs no gradient too."""
    parts = []
    blocks = _conv._sample_blocks
    monkeypatch.setattr(_conv, '_sample_blocks', lambda n, nbytes: parts.append(blocks(n, nbytes)) or parts[-1])
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)

    def run(lib, need_x=True):
        xt, wt = lib.tensor(x, requires_grad=need_x), lib.tensor(w, requires_grad=True)
        y = getattr(lib.nn.functional, op)(xt, wt, **kw)
        y.backward(lib.tensor(np.cos(np.arange(y.numel(), dtype=np.float32)).reshape(tuple(y.shape))))
        return [y.detach().numpy(), wt.grad.numpy()] + ([xt.grad.numpy()] if need_x else [])
    for need_x in (True, False):
        for a, b in zip(_both_regimes(lambda: run(ember, need_x)), run(torch, need_x)):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    assert any(len(p) == 2 for p in parts) and any(len(p) == 1 for p in parts)


def test_per_sample_conv_weight_gradient_alone_goes_in_batch_blocks(split, monkeypatch):
    """A per-sample conv whose input needs no gradient (DCGAN's first discriminator conv on the real and the detached
    fake batch) makes its weight gradient in batch blocks, one per thread, the blocks' per-sample products added up
    in sample order after: as on one thread bit for bit, and PyTorch's (it ran whole on one thread)."""
    parts = []
    blocks = _conv._sample_blocks
    monkeypatch.setattr(_conv, '_sample_blocks', lambda n, nbytes: parts.append(blocks(n, nbytes)) or parts[-1])
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((6, 3, 10, 8)).astype(np.float32), rng.standard_normal((5, 3, 4, 4)).astype(np.float32)

    def run(lib):
        wt = lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(lib.tensor(x), wt, stride=2, padding=1)
        parts.clear()
        y.backward(lib.tensor(np.sin(np.arange(y.numel(), dtype=np.float32)).reshape(tuple(y.shape))))
        return [wt.grad.numpy()]
    got = _both_regimes(lambda: run(ember))
    np.testing.assert_allclose(got[0], run(torch)[0], rtol=1e-4, atol=1e-4)
    ember.set_num_threads(2)
    run(ember)
    assert len(parts) == 1 and len(parts[0]) == _parallel.threads()     # 1 without OpenBLAS


def test_later_runs_the_task_and_settle_joins_it(split):
    """later() starts a task on the pool and returns at once; settle() waits for it (or runs it, if no pool thread
    took it yet), raises its error, and touches/fresh know its array only while it is pending."""
    if ember.get_num_threads() < 2:     # no OpenBLAS here: later() declines
        assert not _parallel.later(lambda: None, np.empty(1))
        return
    out = np.empty(4)
    assert _parallel.later(lambda: np.copyto(out, np.arange(4.0)), out)
    assert _parallel.touches(None, out.T) and _parallel.fresh(out[None]) and not _parallel.fresh(out[:2])
    assert not _parallel.touches(np.empty(4))
    _parallel.settle()
    assert _parallel.LATER is None and not _parallel.touches(out) and not _parallel.fresh(out)
    np.testing.assert_array_equal(out, np.arange(4.0))
    assert _parallel.each(lambda i: i + 1, [(1,), (2,)]) == [2, 3]       # the pool is free again

    def boom():
        raise ValueError('in the task')
    assert _parallel.later(boom, out)
    with pytest.raises(ValueError, match='in the task'):
        _parallel.settle()
    assert _parallel.LATER is None and _parallel.POOL.busy.acquire(blocking=False)
    _parallel.POOL.busy.release()


def test_large_product_after_later_task_is_cut_again(split, monkeypatch):
    """A large product while this thread's later() task runs (a linear layer's weight gradient) waits for the task
    and is cut on both threads again, not run on one thread as the task had pinned it: the same values as one
    thread's, the task done first."""
    from ember import backend
    if ember.get_num_threads() < 2:     # no OpenBLAS here: later() declines, nothing to settle
        return
    monkeypatch.setattr(backend, 'BIG_GEMM', 0)
    seen = []
    each = _parallel.each
    monkeypatch.setattr(_parallel, 'each', lambda fn, items: seen.append(len(items)) or each(fn, items))
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((64, 48)).astype(np.float32), rng.standard_normal((48, 40)).astype(np.float32)
    out = np.empty(4)
    assert _parallel.later(lambda: (time.sleep(0.005), np.copyto(out, np.arange(4.0))), out)
    got = backend.gemm(a, b)
    assert _parallel.LATER is None and backend.BLAS.pinned == 0 and seen == [2]
    np.testing.assert_array_equal(out, np.arange(4.0))
    assert_cut_equal(got, backend._on_blas(a, b, 1))


def test_linear_backward_leaves_weight_gradients_running_safely(split, monkeypatch):
    """At two threads a linear layer's weight gradient goes on while the backward continues (_parallel.later): the
    gradients are one thread's bit for bit and PyTorch's, with a weight used twice (its sum reads the pending
    array), a .grad already there (added into), a hook reading a weight's .grad mid-pass, autograd.grad, a
    non-leaf weight (which waits) and a post-hook on the product's node (which gets the finished product)."""
    from ember import backend
    monkeypatch.setattr(backend, '_PAIR_MACS', 0)
    started = []
    later = _parallel.later

    def slow(fn, out):      # the product finishes late, as a large one would: a read before settle() sees garbage
        started.append(later(lambda: (time.sleep(0.005), fn()), out))
        return started[-1]
    monkeypatch.setattr(_parallel, 'later', slow)
    rng = np.random.default_rng(11)
    x0 = rng.standard_normal((6, 5)).astype(np.float32)
    w0, w1 = rng.standard_normal((7, 5)).astype(np.float32), rng.standard_normal((5, 7)).astype(np.float32)
    b0 = rng.standard_normal(7).astype(np.float32)

    def run(lib):
        x = lib.tensor(x0, requires_grad=True)
        w, v, b = (lib.nn.Parameter(lib.tensor(a)) for a in (w0, w1, b0))
        seen = []
        h = lib.nn.functional.linear(x, w, b)
        h.register_hook(lambda g: seen.append(None if v.grad is None else v.grad.clone()))
        y = lib.nn.functional.linear(lib.tanh(lib.nn.functional.linear(lib.tanh(h), v)), w)   # w twice
        y.backward(lib.ones_like(y))
        first = [w.grad.clone(), v.grad.clone(), b.grad.clone()]
        lib.nn.functional.linear(x, w, b).sum().backward()        # .grad added into
        lib.nn.functional.linear(x, w * 2, b).sum().backward()    # a non-leaf weight
        gw, = lib.autograd.grad(lib.nn.functional.linear(x, w).sum(), [w])
        z = lib.nn.functional.linear(x, w)        # a post-hook on the product's node reads its grad_inputs
        z.grad_fn.register_hook(lambda gi, go: seen.append(gi[-1].clone()))
        (z * 3).sum().backward()                  # (its memory must not hold a like product already)
        return [t.detach().numpy() for t in first + [w.grad, b.grad, x.grad, seen[0], gw, seen[1]]]
    for a, b in zip(_both_regimes(lambda: run(ember)), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    if ember.get_num_threads() > 1:
        assert any(started)


_HASWELL_CONVS = """
import numpy as np, ember
from ember.backend import small_kernels
assert not small_kernels()
rng = np.random.default_rng(3)
for n, c, h in [(8, 64, 32), (8, 128, 16), (8, 256, 8)]:     # ResNet-18's: F(4x4) twice, F(2x2) with a flipped U
    x = rng.standard_normal((n, c, h, h)).astype(np.float32)
    w = (rng.standard_normal((c, c, 3, 3)) * 0.05).astype(np.float32)
    got = []
    for threads in (1, 2):
        ember.set_num_threads(threads)
        xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        y = ember.nn.functional.conv2d(xt, wt, padding=1)
        y.backward(ember.ones_like(y))
        got.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()])
    for name, a, b in zip(('output', 'input gradient', 'weight gradient'), *got):
        assert np.array_equal(a, b), (n, c, h, name)
print('ok')
"""


def test_winograd_conv_bit_identical_across_threads_under_haswell_kernels():
    """Under OpenBLAS's Haswell kernels (no small-matrix kernels) a block of a product's rows rounds otherwise than
    the whole product, so the 3x3 Winograd convs' products at two threads go whole, by tile position: output and
    gradients bit for bit as at one thread (they differed in the last bits)."""
    import subprocess
    import sys
    env = dict(os.environ, OPENBLAS_CORETYPE='Haswell', OPENBLAS_NUM_THREADS='2')
    r = subprocess.run([sys.executable, '-c', _HASWELL_CONVS], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == 'ok', r.stderr[-2000:]



@pytest.mark.parametrize('name,dtype', [('tanh', 'float32'), ('exp', 'float32'), ('sin', 'float32'),
                                        ('erf', 'float32'), ('erf', 'float64')])
def test_float64_kernel_blocks_share_out_with_one_threads_bits(monkeypatch, name, dtype):
    """A transcendental computed in float64 by blocks (ops._special.blocked, 32768 values a block) shares its
    blocks out between the threads: the bits are one thread's and PyTorch's values, the blocks run on both
    threads at two and on the caller alone at one."""
    x = np.random.default_rng(0).standard_normal(3 * 32768 + 5).astype(dtype) * 3
    seen, each = [], _parallel.each

    def spy(fn, items):
        seen.append(set())
        return each(lambda *item: (seen[-1].add(threading.current_thread().name), fn(*item))[1], items)
    monkeypatch.setattr(_parallel, 'each', spy)
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        one = getattr(ember, name)(ember.tensor(x)).numpy()
        assert seen == [{threading.current_thread().name}]
        ember.set_num_threads(2)
        for _ in range(20):     # a pool thread wakes late on a loaded machine: the caller may take every block
            seen.clear()
            two = getattr(ember, name)(ember.tensor(x)).numpy()
            assert two.tobytes() == one.tobytes()
            if len(seen[0]) == 2:
                break
        assert seen == [{threading.current_thread().name, 'ember-pool'}]
    finally:
        ember.set_num_threads(before)
    assert_same(ember.tensor(one), getattr(torch, name)(torch.from_numpy(x)), atol=0,
                rtol=2e-7 if dtype == 'float32' else 1e-15)


def test_float64_kernel_blocks_keep_the_callers_error_state():
    """exp of a float32 array whose block on the pool thread overflows float32 (a float64 value past its range
    rounds to inf, silently as PyTorch's) warns and raises on neither thread, and gives PyTorch's values."""
    import warnings
    x = np.zeros(4 * 32768, np.float32)
    x[-2:] = [100.0, 89.0]
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(2)
        with np.errstate(over='raise'), warnings.catch_warnings():
            warnings.simplefilter('error')
            for _ in range(10):
                got = ember.exp(ember.tensor(x))
    finally:
        ember.set_num_threads(before)
    assert_same(got, torch.exp(torch.from_numpy(x)), atol=0, rtol=0)
