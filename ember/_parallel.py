"""Large NumPy passes split across threads (torch.set_num_threads's count): NumPy releases the GIL inside
its copy, ufunc, reduction and matmul loops, so a pass cut into row blocks runs on several cores. Each block
is computed by the same loop as the whole pass would be, on rows no other block touches, so results are
bit-identical to one thread's; at one thread (or below the break-even size) nothing here runs.

The workers are a small persistent pool (one thread per extra core, started on first use, restarted in a
forked child). A nested or concurrent call, which would find the pool busy, runs its pass on its own thread."""
import os
import sys
import threading

from .backend import BLAS, blas_threads, xp

__all__ = ['threads', 'spans', 'blocks', 'run', 'beside', 'each', 'each_then', 'side_by_side', 'side_by_side_pays', 'pipeline', 'flat',
           'copyto', 'ufunc', 'product', 'later', 'settle', 'fresh', 'touches', 'blockwise']

# Bytes a pass must write before splitting it pays. A split costs 8-12 us (waking a worker, its GIL round trip);
# on the shared 2-core machine (load 5-7 from other processes), min of 2 minutes interleaved, 1 -> 2 threads
# in us: exp of 128 KiB float32 11 -> 23, 1 MiB 89 -> 75, 4 MiB 359 -> 237; a transposing copy of 1 MiB
# 122 -> 115, 4 MiB 719 -> 489; contiguous copies and adds gained nothing below 4 MiB (memory-bound). Splitting
# conv's 1-5 MiB im2col/transpose/col2im passes as well lost there (MNIST conv1, DCGAN's convs), so they stay
# whole. conv's cache-sized chunks on the pool lost too on an idle machine (the MNIST CNN step at 2 threads,
# min of 5-8 interleaved steps: 83-91 ms with them, 64-66 ms without; its convs have since left the im2col path,
# whose batch parts now go on the pool whole: see _conv._parts). What uses it,
# measured idle at 2 threads, min of 30: max_pool2d fwd+bwd of (64, 64, 24, 24) 9.5 -> 6.4 ms, Adam's step over
# 1.2M parameters 2.5 -> 1.8 ms. Also softmax/log_softmax's row blocks and F.linear's bias add when the output is
# large (an LSTM LM's decoder).
MIN_BYTES = 1 << 20

# The interpreter's switch interval while the pool's threads run (put back after). A thread that wants the GIL waits
# that long (5 ms by default) before it asks the holder to drop it; the holder, between its GIL-releasing NumPy calls,
# takes it straight back, so a worker woken for its block often waited milliseconds: in the ResNet-18 step at 2
# threads its start after the hand-over came to 33 ms a step at 5 ms, 11 ms at 0.2 ms. Steps at 2 threads, SkylakeX
# kernels, min/median of 15 interleaved in process at real-time priority on the loaded machine (ms): ResNet-18
# 105.5/111.5 -> 104.4/107.1 and 108.4/111.2 -> 102.0/106.8, LeNet batch 64 4.48/4.88 -> 3.92/4.05 (Haswell
# kernels 6.11/6.48 -> 5.34/5.68), DCGAN 26.2/27.0 -> 25.4/26.8, MNIST CNN 33.8/35.2 -> 32.8/34.2, GPT 24.7/25.5
# -> 24.2/25.0, LSTM LM 54.9/65.6 -> 54.6/56.9; 0.5 ms and 0.05 ms did no better than 0.2 on ResNet-18.
_SWITCH_S = 0.0002


class _Pool:
    """Worker threads, each waiting on its own lock for one (fn, args) task."""

    def __init__(self):
        self.busy = threading.Lock()
        self.workers = []
        self.pid = os.getpid()

    def reset(self):
        """Forget the workers (they do not exist in a forked child)."""
        self.busy = threading.Lock()
        self.workers = []
        self.pid = os.getpid()

    def grow(self, n):
        while len(self.workers) < n:
            self.workers.append(_Worker())


class _Worker:
    """A thread running one task at a time: the caller hands a task over by releasing ``go``, and takes it
    back unrun by acquiring ``go`` again if the thread has not woken yet (see _join)."""
    __slots__ = ('go', 'done', 'task', 'error')

    def __init__(self):
        self.go, self.done = threading.Lock(), threading.Lock()
        self.go.acquire()
        self.done.acquire()
        self.task = self.error = None
        threading.Thread(target=self._loop, name='ember-pool', daemon=True).start()

    def _loop(self):
        while True:
            self.go.acquire()
            task, self.task = self.task, None
            try:
                task()
            except BaseException as e:  # handed to the caller, which raises it
                self.error = e
            # dropped before waiting: the last task's closure kept its arrays alive until the next task (the
            # max-pool gradient, 1.5 MB live between LeNet batch 64 steps at 2 threads)
            task = None
            self.done.release()


POOL = _Pool()


def _forked():
    """In a forked child: no workers, and no later() task (its thread is not there)."""
    global LATER
    POOL.reset()
    LATER = None


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_forked)


def threads():
    """Threads a split pass uses now: torch.get_num_threads()."""
    return blas_threads()


def spans(n, t):
    """``t`` near-equal row blocks (lo, hi) covering range(n), at most one per row; [(0, n)] for t <= 1."""
    t = min(n, t)
    return [(n * i // t, n * (i + 1) // t) for i in range(t)] if t > 1 else [(0, n)]


def blocks(n, nbytes):
    """Row blocks (lo, hi) covering range(n): one per thread when more than one is set and the pass moves at
    least MIN_BYTES, else [(0, n)]."""
    return spans(n, threads() if nbytes >= MIN_BYTES else 1)


def run(fn, n, nbytes, rows=None):
    """``[fn(lo, hi) for (lo, hi) in blocks(n, nbytes)]``, the blocks on the pool's threads. With ``rows``, a
    pass that splits goes in pieces of at most that many rows instead, which the threads share out: what a
    pool thread allocates stays in its own malloc arena, so a pass whose temporaries are as large as its
    block keeps a piece's worth there, not a block's."""
    parts = blocks(n, nbytes)
    if rows is not None and len(parts) > 1:
        parts = [(lo, min(lo + rows, n)) for lo in range(0, n, max(1, rows))]
    return each(fn, parts)


def beside(first, fn, n, nbytes):
    """first() and ``run(fn, n, nbytes)``, returning first()'s result: where the blocks split, first() is one more
    item of the same share-out, taken before them (one hand-over for both), so a pass that would stay on one
    thread (a short product, which OpenBLAS leaves whole) runs beside the blocks instead of before them."""
    parts = blocks(n, nbytes)
    if len(parts) == 1:
        result = first()
        fn(0, n)
        return result
    return each(lambda lo, hi: first() if lo is None else fn(lo, hi), [(None, None)] + parts)[0]


def each(fn, items):
    """``[fn(*item) for item in items]``, each thread (the caller too) taking the next item until none is
    left; results come back in items' order. Products inside fn run on one BLAS thread each."""
    t = min(len(items), threads()) if len(items) > 1 else 1
    if t > 1 and LATER is not None:
        settle()
    if t <= 1 or not POOL.busy.acquire(blocking=False):
        return [fn(*item) for item in items]
    try:
        return _spread(fn, items, t)
    finally:
        POOL.busy.release()


def each_then(fn, items, then):
    """``for i, item in enumerate(items): then(i, fn(*item))`` with the fn calls shared out as each()'s, and the then
    calls one at a time in items' order, each as soon as its result and those before it are in, by the thread that
    finds it ready, while the other takes the next item: an ordered reduction of products (their sums in a fixed
    order, so values do not depend on the thread count) overlaps the products still running instead of following
    them all."""
    lock, done, state = threading.Lock(), {}, {'next': 0, 'draining': False}

    def run(i):
        r = fn(*items[i])
        with lock:
            done[i] = r
            if state['draining']:     # the thread draining now takes it in turn
                return
            state['draining'] = True
        while True:
            with lock:
                k = state['next']
                if k not in done:
                    state['draining'] = False
                    return
                r = done.pop(k)
                state['next'] = k + 1
            then(k, r)
    each(run, [(i,) for i in range(len(items))])


# (owner thread ident, worker, task, restore, out) of the task later() started and settle() has not joined, else None
LATER = None


def later(fn, out):
    """Start ``fn()``, which fills the fresh array ``out``, on a pool thread and return at once (True); False, with
    nothing started, at one thread, when the pool is busy or a task of another thread is pending. Until settle()
    the caller must not read ``out``; it may hand it on to be stolen (see fresh). A linear layer's backward starts
    its weight gradient's product here and computes its input gradient meanwhile: the backward goes on to the
    next nodes while the pool thread finishes, where gemm_pair's side-by-side products waited for both (a
    hand-over's late start, 67 us a pair in GPT's step at 2 threads). One task at a time: the pool's next use
    (each), gemm_pair, the engine's end of a backward pass and any read of ``out`` settle it first."""
    global LATER
    if LATER is not None:
        settle()
    if threads() < 2 or LATER is not None or not POOL.busy.acquire(blocking=False):
        return False
    if POOL.pid != os.getpid():
        POOL.reset()
    POOL.grow(1)
    w = POOL.workers[0]
    LATER = (threading.get_ident(), w, fn, _pool_settings(), out)
    w.task = fn
    w.go.release()
    return True


def settle():
    """Wait for the task this thread started with later(), if any (running it here if no pool thread took it
    yet), and raise its error; other threads' tasks are left alone."""
    global LATER
    p = LATER
    if p is None or p[0] != threading.get_ident():
        return
    LATER = None
    _, w, fn, restore, _ = p
    try:
        if w.go.acquire(blocking=False):    # the pool thread has not woken: the task is this thread's
            w.task = None
            fn()
        else:
            _join([w])
    finally:
        restore()
        POOL.busy.release()


def fresh(g):
    """Whether array ``g`` is the pending later() task's ``out`` or a whole C-contiguous view of it: an array
    nothing but that task and ``g`` holds, which a first ``.grad`` may take without reading it."""
    p = LATER
    if p is None or type(g) is not xp.ndarray:
        return False
    out = p[4]
    if g is not out and g.base is not out:
        return False
    f = g.flags
    return f.c_contiguous and f.writeable and g.nbytes == out.nbytes


def touches(*arrays):
    """Whether any of ``arrays`` (None or anything else allowed) is the pending later() task's ``out`` or a view of
    it: what must be settled before it is read."""
    p = LATER
    if p is None:
        return False
    out = p[4]
    return any(a is out or type(a) is xp.ndarray and a.base is out for a in arrays)


def side_by_side_pays(nbytes):
    """Whether two gradients go side by side: more than one thread and a pass of at least MIN_BYTES."""
    return len(blocks(2, nbytes)) > 1


def side_by_side(first, second, after_first, after_both):
    """first() and second() on two threads (in turn at one), then the thunks after_first (which need first's
    result) and after_both (which need both results), shared: first's thread takes after_both's only once
    second is done, so nothing waits at one thread or when the pool is busy. An error in either preparation
    stops the thunks and reaches the caller. For a backward's two gradients when NumPy's passes are too short to
    split well (each pass a GIL round trip and a worker's wake-up): each thread runs one gradient's passes whole."""
    done, failed = (threading.Event(), threading.Event()), []
    todo_first, todo_both = iter(after_first), iter(after_both)

    def run(i):
        try:
            (first, second)[i]()
        except BaseException:
            failed.append(i)
            raise
        finally:
            done[i].set()
        if i:
            done[0].wait()
        for fn in todo_first:
            if failed:
                return
            fn()
        if i or done[1].is_set():
            for fn in todo_both:
                if failed:
                    return
                fn()
    each(run, [(0,), (1,)])


def pipeline(steps, uses):
    """The thunks ``steps`` in order on one thread, and ``uses``, (k, thunk) pairs whose thunk needs steps[:k + 1]
    (k None: no step), on both: each thread takes the next use in order, waiting until its step is done, the
    stepping thread once its steps are done. For operands made by short NumPy passes, which gain nothing split
    between two threads (they hand the GIL to and fro: 8 us strided subtractions ran no faster on two threads than
    on one), and products of each part as soon as it is made, beside them. At one thread (or with the pool busy) the steps, then the uses, in
    turn. An error in a step stops the uses not yet started and reaches the caller."""
    made, failed = [threading.Event() for _ in steps], []
    roles, todo = iter((True, False)), iter(uses)

    def work():
        if next(roles):
            try:
                for step, done in zip(steps, made):
                    step()
                    done.set()
            except BaseException:
                failed.append(1)
                raise
            finally:
                for done in made:
                    done.set()
        for k, use in todo:
            if k is not None:
                made[k].wait()
            if failed:
                return
            use()
    each(work, [(), ()])


def _spread(fn, items, t):
    if POOL.pid != os.getpid():
        POOL.reset()
    POOL.grow(t - 1)
    out = [None] * len(items)
    todo = iter(range(len(items)))      # shared: each thread takes the next item when it is free

    def share():
        for i in todo:
            out[i] = fn(*items[i])
    workers = POOL.workers[:t - 1]
    restore = _pool_settings()
    try:
        for w in workers:
            w.task = share
            w.go.release()
        try:
            share()
        finally:
            _join(workers)
    finally:
        restore()
    return out


def _join(workers):
    """Wait for the workers that took their task, and raise the first one's error. A worker not yet awake when
    the caller ran out of items gets its task taken back unrun, not waited for (two thread wake-ups: a Lock
    ping-pong between two threads took 40 us here). each() of two trivial items, loaded machine, min of 40
    interleaved runs of 100: 18.8 -> 3.1 us; under load, where the worker wakes late, the caller does the
    items it reaches first instead of waiting."""
    error = None
    for w in workers:
        if w.go.acquire(blocking=False):
            w.task = None
            continue
        w.done.acquire()
        if w.error is not None and error is None:
            error = w.error
        w.error = None
    if error is not None:
        raise error


def _pool_settings():
    """Pin ember's products to one OpenBLAS thread while the pool runs (the threads are the pool's), and shorten
    the interpreter's switch interval (see _SWITCH_S); returns the function that puts both back. set_num_threads's
    count is left as it is, so another thread reads and sets it as usual meanwhile."""
    setter = BLAS.setter
    switch = sys.getswitchinterval()
    if switch > _SWITCH_S:
        sys.setswitchinterval(_SWITCH_S)
    if setter is None:
        return lambda: sys.setswitchinterval(switch)
    n = BLAS.getter()
    BLAS.pinned = BLAS.many or n
    setter(1)

    def restore():
        BLAS.pinned = 0
        setter(n)
        sys.setswitchinterval(switch)
    return restore


def copyto(dst, src):
    """``dst[...] = src`` (same shape), split along the first axis."""
    if dst.ndim == 0 or dst.nbytes < MIN_BYTES:
        dst[...] = src
        return
    run(lambda lo, hi: xp.copyto(dst[lo:hi], src[lo:hi]), dst.shape[0], dst.nbytes)


def ufunc(f, *args, out):
    """``f(*args, out=out)`` for a NumPy ufunc, split along out's first axis; inputs broadcast to out."""
    if out.ndim == 0 or out.nbytes < MIN_BYTES or type(out) is not xp.ndarray:    # (a meta out: no data to split)
        return f(*args, out=out)
    n, nd = out.shape[0], out.ndim
    rows = [type(a) is xp.ndarray and a.ndim == nd and a.shape[0] == n for a in args]

    def block(lo, hi):
        f(*(a[lo:hi] if r else a for a, r in zip(args, rows)), out=out[lo:hi])
    run(block, n, out.nbytes)
    return out


def flat(fn, *arrays, min_bytes=MIN_BYTES):
    """``fn(*arrays)`` for an elementwise ``fn`` (an optimizer's update, in place): on flat blocks of the
    arrays, on the threads, when all are C-contiguous, of one size, and together at least ``min_bytes``."""
    a = arrays[0]
    nbytes = a.nbytes * len(arrays)
    if nbytes < min_bytes or a.ndim == 0 or not all(b.flags.c_contiguous and b.size == a.size for b in arrays):
        fn(*arrays)
        return
    views = [b.reshape(-1) for b in arrays]
    run(lambda lo, hi: fn(*(v[lo:hi] for v in views)), a.size, nbytes)


# Elements of one block of ``blockwise``: 128 KiB of float32, so that an activation's 5-8 passes over a block and
# its block-sized temporaries stay in L2 and come from the heap, not fresh pages. ELU's forward / backward on
# (8, 32, 32, 32) float32, one thread, min of 30 (us): whole arrays 294 / 1140, blocks of 8192 253 / 413, of 16384
# 233 / 378, of 32768 175 / 299, of 65536 209 / 338.
EW_BLOCK = 32768


def blockwise(kernel, *arrays, dtype=None):
    """A new array of arrays[0]'s shape (and ``dtype``, else its dtype) filled by ``kernel(out, *arrays)`` for an
    elementwise kernel, on flat blocks of EW_BLOCK elements when the arrays (same shape, C-contiguous) are larger,
    shared out between the threads as ``run``'s blocks (the same blocks at any thread count, so the same values),
    under the caller's np.errstate (a pool thread has its own). None when the arrays are not all C-contiguous
    ndarrays of one shape, or are 0-d (the caller then computes them whole)."""
    a = arrays[0]
    if not a.ndim:
        return None
    for b in arrays:
        if type(b) is not xp.ndarray or b.shape != a.shape or not b.flags.c_contiguous:
            return None
    out = xp.empty(a.shape, dtype or a.dtype)
    n = a.size
    if n <= EW_BLOCK:
        kernel(out, *arrays)
        return out
    flat_out, flats = out.reshape(-1), [b.reshape(-1) for b in arrays]
    err = xp.geterr()

    def part(lo, hi):
        with xp.errstate(**err):
            for i in range(lo * EW_BLOCK, min(hi * EW_BLOCK, n), EW_BLOCK):
                j = i + EW_BLOCK
                kernel(flat_out[i:j], *(f[i:j] for f in flats))
    run(part, -(-n // EW_BLOCK), out.nbytes * (1 + len(arrays)))
    return out


def product(a, b, bias=None):
    """``a @ b`` (plus ``bias``, added by each thread to its block) cut into one block per thread (output columns,
    rows, or a stack's matrices), each block a single-threaded product on the pool; None for shapes it does not cut
    (gemm then runs OpenBLAS's threads).
    OpenBLAS's own threads spin for about 0.1 s after each product, on the core the pool's workers and the
    caller need: at 2 threads on the loaded 2-core machine a LeNet batch-64 step took 7.8 ms of the process's
    CPU instead of 11.7-12.9 (min of 150; median 8.8 against 23.8-29.1), the MNIST CNN step 78-80 against
    221-273 (min of 25)."""
    if a.dtype != b.dtype or a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2] or \
            bias is not None and (bias.ndim != 1 or bias.shape[0] != b.shape[-1]) or \
            type(a) is not xp.ndarray or type(b) is not xp.ndarray:     # (meta operands: no data to split)
        return None
    if a.ndim == 2 and b.ndim > 2:      # one matrix times a stack
        out = xp.empty(b.shape[:-2] + (a.shape[0], b.shape[-1]), a.dtype)
        b3, o3 = (v.reshape((-1,) + v.shape[-2:]) for v in (b, out))

        def block(lo, hi):
            _plus(xp.matmul(a, b3[lo:hi], out=o3[lo:hi]), bias)
        cuts = b3.shape[0]
    elif a.ndim > 2 or b.ndim > 2:
        if a.shape[:-2] != b.shape[:-2] or a.ndim != b.ndim:
            return None
        out = xp.empty(a.shape[:-1] + b.shape[-1:], a.dtype)
        a3, b3, o3 = (v.reshape((-1,) + v.shape[-2:]) for v in (a, b, out))

        def block(lo, hi):
            _plus(xp.matmul(a3[lo:hi], b3[lo:hi], out=o3[lo:hi]), bias)
        cuts = a3.shape[0]
    else:
        out = xp.empty((a.shape[0], b.shape[1]), a.dtype)
        if b.shape[1] >= a.shape[0]:
            def block(lo, hi):
                _plus(xp.matmul(a, b[:, lo:hi], out=out[:, lo:hi]), None if bias is None else bias[lo:hi])
            cuts = b.shape[1]
        else:
            def block(lo, hi):
                _plus(xp.matmul(a[lo:hi], b, out=out[lo:hi]), bias)
            cuts = a.shape[0]
    parts = spans(cuts, threads())
    if len(parts) == 1:
        return None
    each(block, parts)
    return out


def _plus(r, bias):
    """r += bias in place (nothing for None); r."""
    if bias is not None:
        r += bias
    return r
