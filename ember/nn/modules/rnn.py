"""Recurrent layers (RNN, LSTM, GRU and their cells) composed of differentiable ember ops: the input
projection of every time step is one GEMM, then one small GEMM plus gate math per step; a float32 LSTM
layer is one node with a hand-written backward through time, as PyTorch's CPU kernel. Parameter names,
initialisation U(-1/sqrt(hidden), 1/sqrt(hidden)), gate order (LSTM i,f,g,o; GRU r,z,n), shapes and
reprs follow PyTorch; PackedSequence input runs with per-step masks."""
import math
import numbers
import threading
import warnings
import weakref

import numpy as np

from ... import _bf16, _parallel, backend, ops
from ...autograd.grad_mode import GRAD
from ...backend import col_sums, gemm, reused_operand
from ...amp import _state as _autocast
from ...tensor import Tensor
from .. import init
from ..functional._fused import fused
from ..utils.rnn import PackedSequence, pad_packed_sequence
from ._factory import empty_param
from .module import Module

__all__ = ['RNNBase', 'RNN', 'LSTM', 'GRU', 'RNNCellBase', 'RNNCell', 'LSTMCell', 'GRUCell']

_GATES = {'LSTM': 4, 'GRU': 3, 'RNN_TANH': 1, 'RNN_RELU': 1}


# -- one step of each cell ------------------------------------------------------------------------------------------
def _rnn_step(xw, h, c, w_hh, b_hh, mode):
    pre = xw + ops.linear(h, w_hh, b_hh)
    return (pre.tanh() if mode == 'RNN_TANH' else pre.relu()), None


def _lstm_step(xw, h, c, w_hh, b_hh, mode):
    i, f, g, o = (xw + ops.linear(h, w_hh, b_hh)).chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def _gru_step(xw, h, c, w_hh, b_hh, mode):
    xr, xz, xn = xw.chunk(3, -1)
    hr, hz, hn = ops.linear(h, w_hh, b_hh).chunk(3, -1)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return n + z * (h - n), None


_STEP = {'LSTM': _lstm_step, 'GRU': _gru_step, 'RNN_TANH': _rnn_step, 'RNN_RELU': _rnn_step}


def _run_direction(x, h, c, weights, mode, reverse, mask):
    """One layer in one direction over (T, B, I) input; returns (outputs (T, B, H), h_n, c_n). A float32
    or bfloat16 LSTM layer without projection or packing is one node (_lstm_layer), as in PyTorch."""
    if mode == 'LSTM' and weights[4] is None and mask is None and x._data.size and \
            (x._data.dtype == np.float32 or _bf16.is_bf16(x._data.dtype) or _autocast.STATE.enabled):
        return _mkldnn_rnn_layer(x, h, c, weights[:4], reverse)
    return _run_steps(x, h, c, weights, mode, reverse, mask)


@_autocast.lower_precision
def _mkldnn_rnn_layer(x, h, c, weights, reverse):
    """PyTorch's CPU LSTM layer (mkldnn_rnn_layer, on autocast's lower-precision list): one node in float32 and
    bfloat16 (oneDNN's kernel), per-step ops in float16."""
    if x._data.dtype == np.float32 or _bf16.is_bf16(x._data.dtype):
        return _lstm_layer(x, h, c, weights, reverse)
    return _run_steps(x, h, c, tuple(weights) + (None,), 'LSTM', reverse, None)


def _run_steps(x, h, c, weights, mode, reverse, mask):
    """_run_direction composed of per-step differentiable ops."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    step = _STEP[mode]
    xs = ops.linear(x, w_ih, b_ih).unbind(0)
    order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
    outs = [None] * len(xs)
    for t in order:
        h_new, c_new = step(xs[t], h, c, w_hh, b_hh, mode)
        if w_hr is not None:
            h_new = ops.linear(h_new, w_hr)
        if mask is not None:
            m = mask[t]
            outs[t] = h_new * m
            h = ops.where(m, h_new, h)
            c = c_new if c_new is None else ops.where(m, c_new, c)
        else:
            outs[t] = h = h_new
            c = c_new
    return ops.stack(outs, 0), h, c


# -- an LSTM layer as one node --------------------------------------------------------------------------------------
def _gates(a, hid):
    """In place on one step's pre-activations ``a`` (B, 4H), blocks i, f, g, o: sigmoid of all, tanh of g.
    In a's dtype: float32 sigmoid as 1 / (1 + exp(-x)) keeps its relative accuracy for tiny values, within
    3 float32 ulps of the float64 evaluation rounded once (PyTorch's oneDNN kernel evaluates them in float32
    too); it took 28.7 -> 14.7 us a step of 20 x 800 (min of 300)."""
    g = np.tanh(a[:, 2 * hid:3 * hid])
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)
    a[:, 2 * hid:3 * hid] = g


# Whether the per-step recurrent products (20 x 200 by 200 x 800 in the LSTM LM benchmark, 35 in a row) run on
# set_num_threads's OpenBLAS threads (gemm(many=True)) instead of one. Off: OpenBLAS's threaded product waits
# for its worker whenever another process holds that core, 70 times a layer, and its threads then spin on the
# core ember._parallel's pool needs. LSTM LM step at 2 threads on the shared 2-core machine, interleaved in one
# process: min 998 / mean 3615 ms on OpenBLAS's threads against 305 / 575 on one (load 8-9, 8 steps each),
# 605 / 2652 against 211 / 427 (load 7, 6 each). A microbenchmark of 35 bare steps had shown 2.85 -> 2.23-2.65
# ms for them (min of 100), which the whole step's tail outweighs. At one thread nothing changes.
_STEP_THREADS = False


# Whether an LSTM layer's time loop runs per batch block, one per thread (_batch_blocks). Off: the two blocks' Python
# loops take turns at the GIL at every NumPy call, so they gain little, and when the pool's worker does not get the
# other core (it waits behind the main thread on one core, as in the slow runs on the loaded machine, which put the
# whole step's CPU time on the main thread: likely the idle benchmark run's 113 and 112 ms against 72 at 2 threads,
# 101 at 1) the main thread runs both blocks itself, each step's products at half the rows. The LSTM LM step at 2
# threads, min / median of 20 interleaved in-process (chrt -r 10, EMBER_KEEP_FREED_MEMORY=1), split against whole:
# on both cores (loaded machine) 58.7 / 60.1 against 60.6 / 61.9 ms, 58.9 / 60.8 against 60.3 / 62.1, 57.9 / 59.5
# against 59.4 / 61.2; the process held to one core (taskset -c 1, the slow runs' situation) 96.5 / 98.5 against
# 89.2 / 91.0 and 97.2 / 98.7 against 90.3 / 91.9 (1 thread: 85-88).
_SPLIT_BATCH = False


# rows a batch block of an LSTM layer's time loop holds at least: a layer's forward + backward at 2 threads, min of 15
# interleaved (chrt, loaded machine), whole against split (ms): batch 4 of 512 wide over 100 steps 54.1 against 61.2
# (two rows a block), batch 8 of 256 wide 23.3 against 18.8, batch 20 of 200 wide over 35 steps 10.5 against 9.3
_MIN_BLOCK_ROWS = 4


def _batch_blocks(acts):
    """Row blocks (lo, hi) of the batch that the time loop of a layer runs in, one per thread (_parallel.each): a
    sequence's steps depend on its own rows only. At 2 threads the two halves run side by side, each step's
    product and gate passes on half the rows (their calls share the GIL): a 200-wide layer over 35 steps of 20,
    min of 30 interleaved (chrt, loaded 2-core machine), forward 4.43 -> 3.87 ms, backward's time loop
    2.89 -> 2.42 ms; the LSTM LM step at 2 threads, min / median of 25 interleaved, 88.3 / 90.4 -> 84.6 / 87.9 ms
    (one run of three showed no change: OpenBLAS's threads, spinning after the decoder's products, hold the
    other core for a while). A product of fewer rows rounds differently in the last bits, so values depend on the
    thread count (as the products cut on the pool do); at one thread, for a layer's activations below
    _parallel.MIN_BYTES, or with fewer than _MIN_BLOCK_ROWS rows a block, one block of all rows; and always one
    while _SPLIT_BATCH is off."""
    n = acts.shape[1]
    if not _SPLIT_BATCH:
        return [(0, n)]
    return _parallel.spans(n, min(len(_parallel.blocks(n, acts.nbytes)), n // _MIN_BLOCK_ROWS))


def _lstm_forward(x, h, c, w_ih, w_hh, b_ih, b_hh, reverse, low=False):
    """The steps of _lstm_step on arrays: outputs (T, B, H), h_n, c_n, and what the backward reads
    (activations i, f, g, o; c and tanh(c) after each step; h before). Both biases are added to the input
    projection of all steps at once, each step adds its recurrent product and overwrites the sum with its
    activations in place. A 200-wide layer over 35 steps of 20: 6.38 -> 5.44 ms forward, 15.9 -> 15.1 ms
    with its backward (thread time, min of 40 interleaved runs). The time loop runs per batch block
    (_batch_blocks). ``low``: float32 arrays of a bfloat16 layer, as oneDNN's bf16 kernel: biases summed in bf16,
    each step in float32, its h and the c carried to the next step rounded (h_t from the unrounded c_t)."""
    steps, hid = x.shape[0], w_hh.shape[1]
    bias = b_ih if b_hh is None else b_hh if b_ih is None else b_ih + b_hh
    if low and bias is not None:
        bias = _bf16.round_f32(bias)
    acts, ready = _projection(x, w_ih, bias, reverse)
    w = reused_operand(w_hh.T)
    out, cs, tcs, hp = (np.empty((steps,) + h.shape, acts.dtype) for _ in range(4))
    order = range(steps - 1, -1, -1) if reverse else range(steps)

    def rows(lo, hi):
        hb, cb = h[lo:hi], c[lo:hi]
        ig = np.empty(hb.shape, acts.dtype)
        for t in order:
            if t == ready:      # the steps from here on are the pool thread's part of the projection
                _parallel.settle()
            hp[t, lo:hi] = hb
            a = acts[t, lo:hi]
            a += gemm(hb, w, _STEP_THREADS)
            _gates(a, hid)
            cb = np.multiply(a[:, hid:2 * hid], cb, out=cs[t, lo:hi])
            cb += np.multiply(a[:, :hid], a[:, 2 * hid:3 * hid], out=ig)
            np.tanh(cb, out=tcs[t, lo:hi])
            hb = np.multiply(a[:, 3 * hid:], tcs[t, lo:hi], out=out[t, lo:hi])
            if low:
                hb[...] = _bf16.round_f32(hb)
                cb[...] = _bf16.round_f32(cb)
        return hb, cb
    try:
        ends = _parallel.each(rows, _batch_blocks(acts))
    finally:
        _parallel.settle()
    hn = np.concatenate([e[0] for e in ends]) if len(ends) > 1 else ends[0][0].copy()
    cn = np.concatenate([e[1] for e in ends]) if len(ends) > 1 else ends[0][1].copy()
    return out, hn, cn, (acts, cs, tcs, hp)


# multiply-adds of a layer's input projection from which, at 2+ threads, it is cut by time steps: the first
# _FIRST_STEPS of the time loop's order by the caller, the rest by a pool thread while the loop runs its first steps
# (_projection). The LSTM LM's (700, 200) @ (200, 800) per layer: cut on the pool's two threads it took 2.4 ms of
# the 2-thread step before the loop could start (its halves 1.4 and 1.8 ms, one thread's whole 2.2).
_PIPELINE_MACS = 1 << 24
_FIRST_STEPS = 1 / 3


def _projection(x, w_ih, bias, reverse):
    """(acts, ready): every step's input projection x @ w_ih.T + bias, (T, B, 4H), and the step from which the
    time loop must settle the pool's task first (None: all done). At 2+ threads a large projection is made in two
    parts of whole steps: the pool thread starts on the steps the loop reaches last (_parallel.later), the caller
    makes the others on one thread and the loop starts on them, instead of waiting for the whole product cut on
    both threads. Row blocks of one product, each on one thread: the values are one thread's."""
    steps = x.shape[0]
    first = max(1, int(steps * _FIRST_STEPS))
    if _parallel.threads() < 2 or steps < 2 or x.size * w_ih.shape[0] < _PIPELINE_MACS or x.dtype != w_ih.dtype:
        return gemm(x, w_ih.T, bias=bias), None
    acts = np.empty(x.shape[:2] + w_ih.shape[:1], x.dtype)
    wt = w_ih.T
    mine, theirs = ((slice(steps - first, steps), slice(0, steps - first)) if reverse else
                    (slice(0, first), slice(first, steps)))

    def part(span):     # one 2-D product per part (a 3-D matmul would be one product per step)
        xs, a = x[span], acts[span]
        np.matmul(xs.reshape(-1, xs.shape[-1]), wt, out=a.reshape(-1, a.shape[-1]))
        if bias is not None:
            a += bias

    if not _parallel.later(lambda: part(theirs), acts):
        return gemm(x, w_ih.T, bias=bias), None
    part(mine)      # on one OpenBLAS thread: later() pinned ember's products to one while its task runs
    return acts, (steps - first - 1 if reverse else first)


def _step_factors(acts, cs, tcs, c0, reverse, lo, hi):
    """For batch rows lo:hi, the factors of the backward's steps that do not depend on the incoming gradient, all
    steps at once: fo (d pre_o = dh * fo), fc (dc += dh * fc), f3 (d pre_(i, f, g) = dc * f3)."""
    hid = cs.shape[-1]
    i, f, g, o = (acts[:, lo:hi, k * hid:(k + 1) * hid] for k in range(4))
    c, tc = cs[:, lo:hi], tcs[:, lo:hi]
    cp = np.concatenate([c[1:], c0[None, lo:hi]] if reverse else [c0[None, lo:hi], c[:-1]])   # c before each step
    fo = tc * o * (1 - o)
    fc = o * (1 - tc * tc)
    f3 = np.stack([g * i * (1 - i), cp * f * (1 - f), i * (1 - g * g)], 2)
    return fo, fc, f3


def _lstm_backward(self, g_out, g_h, g_c):
    """Backpropagation through time: per step only the recurrent product and a few elementwise ops (the
    factors that do not depend on the incoming gradient are computed for all steps at once, _step_factors); the
    products with the input and the weights' gradients are one GEMM each over all steps. The time loop runs per
    batch block (_batch_blocks), each block's factors computed by its own thread. A bfloat16 layer's runs in float32 as
    oneDNN's bf16 kernel: from its rounded gates and c states, each step's gate gradients rounded to bfloat16 before
    the products; the gradients rounded once at the end."""
    x, w_ih, w_hh, _, _, _, c0 = self.saved()
    reverse, (acts, cs, tcs, hp), low = self.ctx
    if low:     # oneDNN's bf16 workspace: gates rounded, tanh(c) of the rounded c states
        x, w_ih, w_hh, c0, g_out, g_h, g_c = (_bf16.f32_in(np.asarray(a)) for a in (x, w_ih, w_hh, c0, g_out, g_h, g_c))
        acts, tcs = _bf16.round_f32(acts), np.tanh(cs)
    steps, hid = x.shape[0], w_hh.shape[1]
    f = acts[..., hid:2 * hid]
    dgates = np.empty(acts.shape, acts.dtype)
    order = range(steps) if reverse else range(steps - 1, -1, -1)

    need = self.need
    blocks = _batch_blocks(acts)
    beside = _InputGrad(dgates, w_ih, reverse) if need[0] and len(blocks) == 1 and _InputGrad.pays(dgates, w_ih, w_hh) \
        else None

    def rows(lo, hi):
        fo, fc, f3 = _step_factors(acts, cs, tcs, c0, reverse, lo, hi)
        dh, dc = np.array(g_h[lo:hi]), np.array(g_c[lo:hi])
        for n, t in enumerate(order, 1):
            dh += g_out[t, lo:hi]
            dc += dh * fc[t]
            d = dgates[t, lo:hi]
            np.multiply(dc[:, None, :], f3[t], out=d[:, :3 * hid].reshape(d.shape[0], 3, hid))
            np.multiply(dh, fo[t], out=d[:, 3 * hid:])
            if low:     # bf16 operands of the products
                d[...] = _bf16.round_f32(d)
            if beside is not None:
                beside.made(n)
            dh = gemm(d, w_hh, _STEP_THREADS)
            dc *= f[t, lo:hi]
        return dh, dc
    try:
        ends = _parallel.each(rows, blocks)
    finally:
        if beside is not None:
            beside.finish()
    dh, dc = ends[0] if len(ends) == 1 else (np.concatenate([e[k] for e in ends]) for k in (0, 1))
    d2 = dgates.reshape(-1, dgates.shape[-1])
    gx = (beside.gx if beside is not None and beside.started else gemm(dgates, w_ih)) if need[0] else None
    gw_ih, gw_hh = _weight_grads(d2, x.reshape(d2.shape[0], -1), hp.reshape(d2.shape[0], -1), need[1], need[2])
    gb = col_sums(d2) if need[3] or need[4] else None
    grads = (gx, gw_ih, gw_hh, gb if need[3] else None, gb if need[4] else None, dh if need[5] else None,
             dc if need[6] else None)
    return tuple(None if g is None else _bf16.from_f32(g) for g in grads) if low else grads


def _weight_grads(d2, x2, h2, need_ih, need_hh):
    """(d2.T @ x2, d2.T @ h2), each None where not needed: a layer's two weight gradients over all steps. Both
    needed, they go side by side through backend.gemm_pair (at 2+ threads each whole on one thread: one hand-over
    instead of one per product, and one thread's values on every kernel family) instead of each cut on the pool. The
    LSTM LM's two (800, 700) @ (700, 200) at 2 threads, 300 interleaved on the loaded machine (load 4.2), us: min
    2943 -> 2567, p25 6038 -> 5306, median 8304 -> 7023."""
    if need_ih and need_hh:
        return backend.gemm_pair(d2.T, x2, d2.T, h2)
    return gemm(d2.T, x2) if need_ih else None, gemm(d2.T, h2) if need_hh else None


# steps of an LSTM layer's input gradient the pool thread makes in one product while the backward's time loop runs
# (_InputGrad). Forward + backward of the LSTM LM's two 200-wide layers over 35 steps of 20 at 2 threads, min / median
# of 60 interleaved (chrt, load 6-7), ms: the product after the loop 30.4 / 32.5 against 29.1 / 30.8 beside it (5 steps
# a product); 3 steps 27.3 / 29.2, 5 28.0 / 29.4, 9 28.4 / 29.7, 18 29.5 / 31.2
_GX_STEPS = 3


class _InputGrad:
    """An LSTM layer's input gradient dgates @ w_ih made on a pool thread (_parallel.later) while the backward's time
    loop runs, _GX_STEPS steps at a time as the loop finishes their gate gradients, instead of one product after the
    loop: row blocks of that product, so the same values. The loop reports each step (made); finish() waits for the
    rest, or stops the thread when the loop failed."""

    @staticmethod
    def pays(dgates, w_ih, w_hh):
        """Whether to: 2+ threads, 2+ steps, a product of at least _PIPELINE_MACS in one dtype, and steps whose
        recurrent products stay on the calling thread (backend.stays, not _STEP_THREADS): a product that wanted the
        pool would settle the thread's task first, which waits for the loop."""
        return _parallel.threads() > 1 and dgates.shape[0] > 1 and dgates.dtype == w_ih.dtype and \
            dgates.size * w_ih.shape[1] >= _PIPELINE_MACS and not _STEP_THREADS and backend.stays(dgates[0], w_hh)

    def __init__(self, dgates, w_ih, reverse):
        steps = dgates.shape[0]
        self.gx = np.empty(dgates.shape[:2] + w_ih.shape[1:], dgates.dtype)
        cuts = list(range(0, steps, _GX_STEPS)) + [steps]
        spans = list(zip(cuts[:-1], cuts[1:]))
        # (lo, hi, steps the loop must have made first) in the loop's order
        self.todo = [(lo, hi, hi) for lo, hi in spans] if reverse else [(lo, hi, steps - lo) for lo, hi in spans[::-1]]
        self.dgates, self.w_ih = dgates, w_ih
        self.count = self.want = 0
        self.stop = False
        self.cv = threading.Condition()
        self.started = _parallel.later(self.run, self.gx)

    def run(self):
        for lo, hi, need in self.todo:
            with self.cv:
                self.want = need
                while self.count < need and not self.stop:
                    self.cv.wait()
                if self.stop:
                    return
            d, g = self.dgates[lo:hi], self.gx[lo:hi]
            np.matmul(d.reshape(-1, d.shape[-1]), self.w_ih, out=g.reshape(-1, g.shape[-1]))

    def made(self, n):
        """The loop has made the gate gradients of its first n steps (a notice only when the thread waits on them)."""
        self.count = n
        if n >= self.want and self.started:
            with self.cv:
                self.cv.notify()

    def finish(self):
        """Wait for the thread's products (all made once the loop is done), or stop it if the loop stopped early."""
        if not self.started:
            return
        if self.count < self.dgates.shape[0]:
            with self.cv:
                self.stop = True
                self.cv.notify()
        _parallel.settle()


def _lstm_reference(ctx, x, w_ih, w_hh, b_ih, b_hh, h, c):
    """The layer composed of differentiable ops (for create_graph=True)."""
    return _run_steps(x, h, c, (w_ih, w_hh, b_ih, b_hh, None), 'LSTM', ctx[0], None)


MkldnnRnnLayerBackward0 = fused('MkldnnRnnLayerBackward0', _lstm_backward, _lstm_reference)


def _lstm_layer(x, h, c, weights, reverse):
    """One float32 LSTM layer in one direction as one node with three outputs (outputs, h_n, c_n), as
    PyTorch's CPU kernel records it. Forward + backward of the LSTM LM benchmark's two 200-wide layers over
    35 steps of 20: 46.8 -> 40.4 ms against per-step ops; its training step 146.3 -> 136.2 ms (min of
    interleaved runs)."""
    w_ih, w_hh, b_ih, b_hh = weights
    low = _bf16.is_bf16(x._data.dtype)
    arrs = [None if t is None else _bf16.f32_in(t._data) if low else t._data for t in (x, w_ih, w_hh, b_ih, b_hh, h, c)]
    out, hn, cn, saved = _lstm_forward(*arrs[:1], arrs[5], arrs[6], *arrs[1:5], reverse, low)
    if low:
        out, hn, cn = (_bf16.from_f32(a) for a in (out, hn, cn))
    inputs = (x, w_ih, w_hh, b_ih, b_hh, h, c)
    need = tuple(t is not None and t._requires_grad for t in inputs)
    if not (GRAD.enabled and any(need)):
        return Tensor._make(out), Tensor._make(hn), Tensor._make(cn)
    node = MkldnnRnnLayerBackward0(inputs)
    node.ctx = (reverse, saved, low)
    node.need = need
    node.save(*inputs)
    node._out_meta = [(a.shape, a.dtype) for a in (out, hn, cn)]
    outs = tuple(Tensor._make(a, node) for a in (out, hn, cn))
    for k, t in enumerate(outs):
        t._output_nr = k
    return outs

# -- the multi-layer modules ----------------------------------------------------------------------------------------
class RNNBase(Module):
    """Shared construction, parameters and the layer/direction loop of RNN, LSTM and GRU."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        _check_config(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        if mode not in _GATES:
            raise ValueError(f'Unrecognized RNN mode: {mode}')
        gate_size = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(dirs):
                layer_input = input_size if layer == 0 else real_hidden * dirs
                suffix = '_reverse' if direction == 1 else ''
                shapes = [('weight_ih', (gate_size, layer_input)), ('weight_hh', (gate_size, real_hidden))]
                if bias:
                    shapes += [('bias_ih', (gate_size,)), ('bias_hh', (gate_size,))]
                if proj_size > 0:
                    shapes += [('weight_hr', (proj_size, hidden_size))]
                names = []
                for base, shape in shapes:
                    name = f'{base}_l{layer}{suffix}'
                    setattr(self, name, empty_param(shape, device, dtype))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self._init_flat_weights()
        self.reset_parameters()

    def _init_flat_weights(self):
        """``_flat_weights``, the list forward reads the weights from (as PyTorch's: code that swaps an RNN's weights,
        as higher's patched modules, assigns it), and weak references to notice a weight replaced under its name."""
        self._flat_weights = [getattr(self, n) if hasattr(self, n) else None for n in self._flat_weights_names]
        self._flat_weight_refs = [None if w is None else weakref.ref(w) for w in self._flat_weights]

    def __setattr__(self, attr, value):
        if attr in self.__dict__.get('_flat_weights_names', ()):   # keep _flat_weights up to date, as PyTorch
            self._flat_weights[self._flat_weights_names.index(attr)] = value
        super().__setattr__(attr, value)

    def _apply(self, fn, recurse=True):
        self._flat_weight_refs = []
        out = super()._apply(fn, recurse)
        self._init_flat_weights()
        return out

    def _update_flat_weights(self):
        """Re-read ``_flat_weights`` when a weight's name now gives another tensor (``functional_call``,
        parametrizations), as PyTorch's forward does first."""
        for ref, name in zip(self._flat_weight_refs, self._flat_weights_names):
            weight = getattr(self, name) if hasattr(self, name) else None
            if weight is not None and ref is not None and ref() is not weight:
                self._init_flat_weights()
                return

    def __getstate__(self):
        self._update_flat_weights()
        state = super().__getstate__()
        state.pop('_flat_weight_refs', None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if '_flat_weights' in state:
            self._flat_weight_refs = [None if w is None else weakref.ref(w) for w in self._flat_weights]
        else:   # pickled by an ember that derived the list from the names on each use
            self._init_flat_weights()

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self):
        """No-op (cuDNN weight flattening has no CPU counterpart)."""

    def reset_parameters(self):
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f'{self.input_size}, {self.hidden_size}'
        if self.proj_size != 0:
            s += f', proj_size={self.proj_size}'
        if self.num_layers != 1:
            s += f', num_layers={self.num_layers}'
        if self.bias is not True:
            s += f', bias={self.bias}'
        if self.batch_first is not False:
            s += f', batch_first={self.batch_first}'
        if self.dropout != 0:
            s += f', dropout={self.dropout}'
        if self.bidirectional is not False:
            s += f', bidirectional={self.bidirectional}'
        return s

    def _weights(self, layer, direction):
        suffix = '_reverse' if direction == 1 else ''
        flat = dict(zip(self._flat_weights_names, self._flat_weights))
        get = lambda base: flat.get(f'{base}_l{layer}{suffix}')  # noqa: E731
        return get('weight_ih'), get('weight_hh'), get('bias_ih'), get('bias_hh'), get('weight_hr')

    def _hidden_sizes(self, batch):
        dirs = 2 if self.bidirectional else 1
        real = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * dirs, batch, real), (self.num_layers * dirs, batch, self.hidden_size)

    def _run(self, x, h0, c0, mask):
        """All layers and directions over time-major x; returns (output, h_n, c_n or None)."""
        return run_layers(x, h0, c0, mask, self.mode, self._weights, self.num_layers, 2 if self.bidirectional else 1,
                          self.dropout if self.training else 0)

    def _check_input(self, input):
        w = self._flat_weights[0]
        if input.dtype != w.dtype:
            raise ValueError(f'RNN input dtype ({input.dtype}) does not match weight dtype ({w.dtype}). Convert '
                             f'input: input.to({w.dtype}), or convert model: model.to({input.dtype})')
        if self.input_size != input.size(-1):
            raise RuntimeError(f'input.size(-1) must be equal to input_size. Expected {self.input_size}, got '
                               f'{input.size(-1)}')

    def _forward(self, input, hx=None):
        """RNN, LSTM and GRU's forward (RNNBase itself has none, as in PyTorch: calling one raises)."""
        self._update_flat_weights()
        lstm = self.mode == 'LSTM'
        name = {'LSTM': 'LSTM', 'GRU': 'GRU'}.get(self.mode, 'RNN')
        packed = isinstance(input, PackedSequence)
        mask = None
        if packed:
            sorted_idx = input.sorted_indices
            x, lengths = pad_packed_sequence(input)
            if sorted_idx is not None:
                x = x.index_select(1, sorted_idx)
                lengths = Tensor._make(lengths._data[sorted_idx._data])
            batched = True
            steps = np.arange(x.shape[0])[:, None, None]
            mask = Tensor._make(steps < lengths._data[None, :, None])
            hx = _permute_hidden(hx, sorted_idx)
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f'{name}: Expected input to be 2D or 3D, got {input.dim()}D '
                                 f'{"tensor instead" if name != "LSTM" else "instead"}')
            batched = input.dim() == 3
            x = input if batched else input.unsqueeze(0 if self.batch_first else 1)
            if self.batch_first:
                x = x.transpose(0, 1)
            hx = _batch_hidden(hx, batched, lstm)
        self._check_input(x)
        hsize, csize = self._hidden_sizes(x.shape[1])
        h0, c0 = _initial_state(hx, lstm, hsize, csize, x)
        out, h_n, c_n = self._run(x, h0, c0, mask)
        if packed:
            h_n = h_n if input.unsorted_indices is None else h_n.index_select(1, input.unsorted_indices)
            c_n = c_n if c_n is None or input.unsorted_indices is None else \
                c_n.index_select(1, input.unsorted_indices)
            out = _repack(out, input)
        else:
            if self.batch_first:   # PyTorch's RNN and GRU kernels transpose their output in place, LSTM's not
                out = out.transpose(0, 1) if lstm else out.transpose_(0, 1)
            if not batched:
                out = out.squeeze(0 if self.batch_first else 1)
                h_n = h_n.squeeze(1)
                c_n = None if c_n is None else c_n.squeeze(1)
        return (out, (h_n, c_n)) if lstm else (out, h_n)


def run_layers(x, h0, c0, mask, mode, weights, num_layers, dirs, dropout_p):
    """All layers and directions of a recurrent net over time-major x (``weights(layer, direction)`` gives
    (w_ih, w_hh, b_ih, b_hh, w_hr)), with dropout ``dropout_p`` between layers; returns (output, h_n, c_n or None).
    The modules and torch.lstm/gru/rnn_tanh/rnn_relu (ember._rnn_ops) run through it."""
    from ..functional._dropout import dropout
    hs, cs = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            out, h, c = _run_direction(x, h0[k], None if c0 is None else c0[k], weights(layer, d), mode, d == 1, mask)
            outs.append(out)
            hs.append(h)
            cs.append(c)
        x = outs[0] if dirs == 1 else ops.cat(outs, -1)
        if dropout_p > 0 and layer < num_layers - 1:
            x = dropout(x, dropout_p, True) if mask is None else x * _packed_dropout(x, mask, dropout_p)
    return x, ops.stack(hs, 0), (None if c0 is None else ops.stack(cs, 0))


def _packed_dropout(x, mask, p):
    """The dropout factors of a packed sequence's padded steps ``x`` (T, B, F; ``mask`` marks the real steps):
    PyTorch drops out the packed data, (real steps, F) in time-major order, so the mask is drawn at that shape
    (the same random numbers and generator state after) and spread over the padded layout."""
    from ..functional._dropout import dropout
    real = np.broadcast_to(mask._data, x.shape[:2] + (1,))[..., 0]
    factors = np.zeros(x.shape, x._data.dtype)
    factors[real] = dropout(ops.ones(int(real.sum()), x.shape[2], dtype=x.dtype), p, True)._data
    return Tensor._make(factors)


def _check_config(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size):
    if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
        raise ValueError('dropout should be a number in range [0, 1] representing the probability of an element '
                         'being zeroed')
    if dropout > 0 and num_layers == 1:
        warnings.warn('dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects '
                      f'num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}',
                      stacklevel=3)
    if not isinstance(bias, bool):
        raise TypeError(f'bias should be of type bool, got: {type(bias).__name__}')
    if not isinstance(batch_first, bool):
        raise TypeError(f'batch_first should be of type bool, got: {type(batch_first).__name__}')
    if not isinstance(input_size, int):
        raise TypeError(f'input_size should be of type int, got: {type(input_size).__name__}')
    if input_size <= 0:
        raise ValueError('input_size must be greater than zero')
    if not isinstance(hidden_size, int):
        raise TypeError(f'hidden_size should be of type int, got: {type(hidden_size).__name__}')
    if hidden_size <= 0:
        raise ValueError('hidden_size must be greater than zero')
    if num_layers <= 0:
        raise ValueError('num_layers must be greater than zero')
    if proj_size < 0:
        raise ValueError('proj_size should be a positive integer or zero to disable projections')
    if proj_size >= hidden_size:
        raise ValueError('proj_size has to be smaller than hidden_size')


def _batch_hidden(hx, batched, lstm):
    """Check the initial state's rank against the input's and add the batch dim for unbatched input."""
    if hx is None:
        return None
    parts = (hx[0], hx[1]) if lstm else (hx,)   # (indexed as PyTorch does: a lone tensor's rows, then IndexError)
    want = 3 if batched else 2
    if any(p.dim() != want for p in parts):
        dims = ', '.join(f'{p.dim()}-D' for p in parts)
        kind = 'batched 3-D' if batched else 'unbatched 2-D'
        if lstm:
            raise RuntimeError(f'For {kind} input, hx and cx should also be {want}-D but got ({dims}) tensors')
        raise RuntimeError(f'For {kind} input, hx should also be {want}-D but got {dims} tensor')
    if not batched:
        parts = tuple(p.unsqueeze(1) for p in parts)
    return parts if lstm else parts[0]


def _initial_state(hx, lstm, hsize, csize, x):
    """(h0, c0) as given (checked) or zeros; c0 is None except for LSTM."""
    dt = x.dtype
    if hx is None:
        return ops.zeros(hsize, dtype=dt), (ops.zeros(csize, dtype=dt) if lstm else None)
    h0, c0 = hx if lstm else (hx, None)
    label = 'hidden[0]' if lstm else 'hidden'
    if tuple(h0.shape) != hsize:
        raise RuntimeError(f'Expected {label} size {hsize}, got {list(h0.shape)}')
    if lstm and tuple(c0.shape) != csize:
        raise RuntimeError(f'Expected hidden[1] size {csize}, got {list(c0.shape)}')
    return h0, c0


def _permute_hidden(hx, idx):
    if hx is None or idx is None:
        return hx
    if isinstance(hx, tuple):
        return tuple(h.index_select(1, idx) for h in hx)
    return hx.index_select(1, idx)


def _repack(out, packed):
    """Pack the (sorted-order) padded output with the input's batch sizes and permutation: the steps' live
    rows concatenated, as PyTorch's kernel does (grad_fn CatBackward0)."""
    bs = packed.batch_sizes._data
    data = ops.cat([out[t, :int(n)] for t, n in enumerate(bs)], 0)
    return PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu)."""

    def __init__(self, *args, **kwargs):
        if 'proj_size' in kwargs:
            raise ValueError('proj_size argument is only supported for LSTM, not RNN or GRU')
        if len(args) > 3:
            self.__dict__['nonlinearity'] = args[3]
            args = args[:3] + args[4:]
        else:
            self.__dict__['nonlinearity'] = kwargs.pop('nonlinearity', 'tanh')
        mode = {'tanh': 'RNN_TANH', 'relu': 'RNN_RELU'}.get(self.nonlinearity)
        if mode is None:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    forward = RNNBase._forward


class LSTM(RNNBase):
    """Long short-term memory; returns (output, (h_n, c_n)). Gates in PyTorch's order i, f, g, o."""

    def __init__(self, *args, **kwargs):
        super().__init__('LSTM', *args, **kwargs)

    forward = RNNBase._forward


class GRU(RNNBase):
    """Gated recurrent unit with PyTorch's n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); gates r, z, n."""

    def __init__(self, *args, **kwargs):
        if 'proj_size' in kwargs:
            raise ValueError('proj_size argument is only supported for LSTM, not RNN or GRU')
        super().__init__('GRU', *args, **kwargs)

    forward = RNNBase._forward


# -- cells --------------------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Shared parameters (weight_ih, weight_hh, bias_ih, bias_hh), initialisation and repr of the cells."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = empty_param((num_chunks * hidden_size, input_size), device, dtype)
        self.weight_hh = empty_param((num_chunks * hidden_size, hidden_size), device, dtype)
        if bias:
            self.bias_ih = empty_param((num_chunks * hidden_size,), device, dtype)
            self.bias_hh = empty_param((num_chunks * hidden_size,), device, dtype)
        else:
            self.register_parameter('bias_ih', None)
            self.register_parameter('bias_hh', None)
        self.reset_parameters()

    def extra_repr(self):
        s = f'{self.input_size}, {self.hidden_size}'
        if 'bias' in self.__dict__ and self.bias is not True:
            s += f', bias={self.bias}'
        if 'nonlinearity' in self.__dict__ and self.nonlinearity != 'tanh':
            s += f', nonlinearity={self.nonlinearity}'
        return s

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prep(self, input, hx, name, n_state):
        if input.dim() not in (1, 2):
            raise ValueError(f'{name}: Expected input to be 1D or 2D, got {input.dim()}D instead')
        states = () if hx is None else (tuple(hx) if n_state == 2 else (hx,))
        for i, s in enumerate(states):
            if s.dim() not in (1, 2):
                what = f'hx[{i}]' if n_state == 2 else 'hidden'
                raise ValueError(f'{name}: Expected {what} to be 1D or 2D, got {s.dim()}D instead')
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
            states = tuple(s.unsqueeze(0) for s in states)
        if not states:
            z = ops.zeros((input.size(0), self.hidden_size), dtype=input.dtype)
            states = (z,) * n_state
        return input, states, batched

    def _step(self, input, states, mode):
        xw = ops.linear(input, self.weight_ih, self.bias_ih)
        c = states[1] if len(states) == 2 else None
        return _STEP[mode](xw, states[0], c, self.weight_hh, self.bias_hh, mode)


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity='tanh', device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, states, batched = self._prep(input, hx, 'RNNCell', 1)
        mode = {'tanh': 'RNN_TANH', 'relu': 'RNN_RELU'}.get(self.nonlinearity)
        if mode is None:
            raise RuntimeError(f'Unknown nonlinearity: {self.nonlinearity}')
        h, _ = self._step(input, states, mode)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        input, states, batched = self._prep(input, hx, 'LSTMCell', 2)
        h, c = self._step(input, states, 'LSTM')
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        input, states, batched = self._prep(input, hx, 'GRUCell', 1)
        h, _ = self._step(input, states, 'GRU')
        return h if batched else h.squeeze(0)
