"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""
import math
import threading

import numpy as np

from .. import _parallel, _sparse
from ..ops import _fused
from ..tensor import Tensor
from .optimizer import Optimizer, _closure_loss, _functional_checks, _no_grad_step, _scalar

__all__ = ['SGD', 'sgd']


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum), PyTorch's formulation."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if hasattr(lr, 'numel') and lr.numel() != 1:
            raise ValueError('Tensor lr must be 1-element')
        if lr < 0.0:
            raise ValueError(f'Invalid learning rate: {lr}')
        if momentum < 0.0:
            raise ValueError(f'Invalid momentum value: {momentum}')
        if weight_decay < 0.0:
            raise ValueError(f'Invalid weight_decay value: {weight_decay}')
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError('Nesterov momentum requires a momentum and zero dampening')
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError('`fused` does not support `differentiable`')
            if foreach:
                raise RuntimeError('`fused` and `foreach` cannot be `True` together.')

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault('nesterov', False)
            group.setdefault('maximize', False)
            group.setdefault('foreach', None)
            group.setdefault('differentiable', False)
            group.setdefault('fused', False)

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            _sgd_group(self.state, group)
        return loss


def _sgd_group(state, group):
    """Update every param of ``group`` that has a gradient (the single-tensor loop of PyTorch)."""
    hyper = (_scalar(group['lr']), group['weight_decay'], group['momentum'], group['dampening'], group['nesterov'],
             group['maximize'])
    if group.get('fused') and any(p._grad is not None and p._grad.is_sparse for p in group['params']):
        raise RuntimeError('`_fused_sgd` does not support sparse gradients')
    large, small = [], {}
    for p in group['params']:
        g = p._grad
        if g is None:
            continue
        if g.is_sparse:
            _sparse_update(p, g, state[p] if hyper[2] != 0 else None, *hyper)   # no state entry without momentum
            continue
        pa, ga = p._data, g._data
        ba, first = None, False
        if hyper[2] != 0:
            st = state[p]
            buf = st.get('momentum_buffer')
            first = buf is None
            if first:   # PyTorch's clone of the first step's direction (in its layout: channels-last stays so),
                buf = st['momentum_buffer'] = Tensor._make(np.empty_like(ga))     # filled by _update
            ba = buf._data
        if group.get('fused'):
            pa, ga, ba = _fused_tail(pa, ga, ba, first, hyper)
        if pa.size <= _SMALL and _joinable(pa, ga, ba):
            small.setdefault((pa.dtype, first), []).append((pa, ga, ba))
        elif not _in_blocks(pa, ga, ba):
            _update(pa, ga, ba, first, None, *hyper)
        else:
            large.append((pa.reshape(-1), ga.reshape(-1), None if ba is None else ba.reshape(-1), first))
        p._bump()
    for (_, first), items in small.items():
        _update_joined(items, first, hyper)
    if large:
        _update_blocks(large, hyper)


def _sparse_update(p, g, st, lr, wd, momentum, dampening, nesterov, maximize):
    """PyTorch's SGD step on a sparse gradient (nn.Embedding(sparse=True)'s), by its tensor operations: the
    momentum buffer a sparse clone of the first gradient, then scaled and added to sparse + sparse (its entry
    list grows, uncoalesced, as PyTorch's does); weight decay raises PyTorch's error (sparse + dense)."""
    if maximize:
        g = -g
    if wd != 0:
        g = g.add(p, alpha=wd)
    if momentum != 0:
        buf = st.get('momentum_buffer')
        if buf is None:
            buf = st['momentum_buffer'] = g.clone()
        elif buf.is_sparse:
            buf.mul_(momentum).add_(g, alpha=1 - dampening)
        else:   # a dense buffer from earlier dense gradients stays dense
            np.multiply(buf._data, momentum, out=buf._data)
            _sparse.add_into(buf._data, g, 1 - dampening)
            buf._bump()
        g = g.add(buf, alpha=momentum) if nesterov else buf
    if g.is_sparse:
        _sparse.add_into(p._data, g, -lr)
    else:
        _add_alpha(p._data, g._data, -lr)
    p._bump()


def sgd(params, d_p_list, momentum_buffer_list, has_sparse_grad=False, foreach=None, fused=None, grad_scale=None,
        found_inf=None, *, weight_decay, momentum, lr, dampening, nesterov, maximize):
    """PyTorch's functional SGD (torch.optim.sgd.sgd): one step of each param in place, by the update the class
    runs (``_update``; the class cuts large params into blocks, the same arithmetic); a momentum buffer that is
    None is made from the first step's direction and put into ``momentum_buffer_list``."""
    _functional_checks(None, False)
    hyper = (_scalar(lr), weight_decay, momentum, dampening, nesterov, maximize)
    for i, (p, g) in enumerate(zip(params, d_p_list)):
        ba, first = None, False
        if momentum != 0:
            buf = momentum_buffer_list[i]
            first = buf is None
            if first:
                buf = momentum_buffer_list[i] = Tensor._make(np.empty(g._data.shape, g._data.dtype))
            ba = buf._data
        _update(p._data, g._data, ba, first, None, *hyper)
        p._bump()


# elements up to which a param's update goes with the other small params' (biases, norms' weights): each of its
# passes (two through ?axpy, each ctypes call ~10 us on the loaded machine) is mostly per-call cost there
_SMALL = 4096


def _joinable(pa, ga, ba):
    """Whether a param's arrays (param, gradient, buffer or None) can be updated as a piece of joined ones:
    C-contiguous, of the param's dtype."""
    return all(a is None or (a.flags.c_contiguous and a.dtype == pa.dtype) for a in (pa, ga, ba))


def _update_joined(items, first, hyper):
    """_update once on the small params' (param, grad, buffer) arrays joined end to end, then the param and buffer
    pieces written back: elementwise, every element gets the value it gets alone, in one set of passes instead of
    one per param."""
    if len(items) == 1:
        _update(*items[0][:3], first, None, *hyper)
        return
    pa, ga = (np.concatenate([it[j].reshape(-1) for it in items]) for j in (0, 1))
    ba = None if items[0][2] is None else np.empty_like(pa) if first else \
        np.concatenate([it[2].reshape(-1) for it in items])
    _update(pa, ga, ba, first, None, *hyper)
    lo = 0
    for p, _, b in items:
        hi = lo + p.size
        p.reshape(-1)[...] = pa[lo:hi]
        if b is not None:
            b.reshape(-1)[...] = ba[lo:hi]
        lo = hi


_BLOCK = 1 << 16    # elements of a large parameter updated at a time
_SHARED = 8         # _BLOCKs in a block shared out between threads (see _update_blocks)
# bytes (parameters, gradients, buffers) a group's blocks move before they go on ember's threads: the MLP
# benchmark's blocks (its 784x256 weight, 2.4 MB) lost there, its step 0.13 -> 0.16 ms at 2 threads (min of 300)
_SPLIT_BYTES = 12 << 20


def _in_blocks(pa, ga, ba):
    """Whether to update a parameter block by block: its six passes then run on cache-resident blocks instead
    of streaming the whole arrays six times (same operations, same values). ResNet-18's convolutions'
    weights (8.6M, momentum and weight decay): 8.59 -> 6.73 ms a step (min of 15, interleaved)."""
    return pa.size > _BLOCK and pa.flags.c_contiguous and ga.flags.c_contiguous and ga.dtype == pa.dtype \
        and (ba is None or ba.flags.c_contiguous)


def _update_blocks(large, hyper):
    """The updates of ``large`` ((param, grad, buffer, first) flat views) block by block, the blocks shared out
    one at a time across ember's threads when they move enough bytes, each thread with its own scratch block.
    ResNet-18's SGD step (11.2M parameters, momentum, weight decay) at 2 threads on the loaded 2-core machine, min
    of 40 interleaved: 8.9 -> 7.5 ms wall, the calling thread's CPU 8.9 -> 5.0 ms (all threads' 8.9 -> 9.8).
    Shared blocks are _SHARED times _BLOCK: fewer NumPy calls, each a GIL round trip between the threads
    (ResNet-18's SGD step at 2 threads, min/median of 30 interleaved at real-time priority, ms: 2 * _BLOCK
    6.01/6.35, 4 * 4.89/5.19, 8 * 4.74/4.99, 16 * 5.21/5.35; an earlier 1 -> 2 measured 6.68 -> 5.89). At one
    thread the blocks stay at _BLOCK (2 * _BLOCK: 7.55/7.74 -> 7.75/7.94 ms)."""
    nbytes = sum(pf.nbytes for pf, _, _, _ in large) * 3
    split = nbytes >= _SPLIT_BYTES and len(_parallel.blocks(2, nbytes)) > 1
    step = _SHARED * _BLOCK if split else _BLOCK
    blocks = [(pf[i:i + step], gf[i:i + step], None if bf is None else bf[i:i + step], first)
              for pf, gf, bf, first in large for i in range(0, pf.size, step)]
    scratch = {}

    def update(lo, hi):
        for pf, gf, bf, first in blocks[lo:hi]:
            tmp = scratch.get(threading.get_ident())
            if tmp is None or tmp.dtype != pf.dtype:
                tmp = scratch[threading.get_ident()] = np.empty(step, pf.dtype)
            _update(pf, gf, bf, first, tmp[:pf.size], *hyper)
    _parallel.run(update, len(blocks), nbytes if split else 0, rows=1)


# elements per vector of the compiler's own vectorization of PyTorch's fused SGD's remainder loop (256-bit), by dtype:
# the last numel % these elements of a param take its scalar loop, whose momentum buffer is fma(buf, momentum,
# (1 - dampening) * grad) (elsewhere fma(grad, 1 - dampening, buf * momentum)); found by one-step per-element
# comparisons against _fused_sgd_ over lengths 7-70, as Adam's (adam._FUSED_TAIL)
_FUSED_TAIL = {np.dtype(np.float32): 8, np.dtype(np.float64): 4}


def _fused_tail(pa, ga, ba, first, hyper):
    """fused=True: update the param's scalar-loop tail (see _FUSED_TAIL) here and return the flat arrays of the rest
    (the vector loops' rounding, the unfused update's); the arrays unchanged where it has no tail or is not
    C-contiguous."""
    r = pa.size % _FUSED_TAIL.get(pa.dtype, 1)
    if not r or not (pa.flags.c_contiguous and (ba is None or ba.flags.c_contiguous)):
        return pa, ga, ba
    cut = pa.size - r
    pf, gf, bf = (None if a is None else a.reshape(-1) for a in (pa, ga, ba))
    _update(pf[cut:], gf[cut:], None if bf is None else bf[cut:], first, None, *hyper, tail=True)
    return pf[:cut], gf[:cut], None if bf is None else bf[:cut]


def _update(pa, ga, ba, first, tmp, lr, wd, momentum, dampening, nesterov, maximize, tail=False):
    """One SGD update of arrays ``pa`` (in place) and momentum buffer ``ba`` (in place; filled when ``first``);
    ``tmp``: a free buffer of pa's size for the temporaries, or None. Each add with alpha rounds once as PyTorch's
    kernel (a fused multiply-add, _add_alpha), the buffer's mul_ and an alpha of 1 (a plain add) as NumPy's."""
    add = _axpy_adder(pa, ga, ba, (wd, momentum, 1 - dampening, -lr))
    if maximize:
        ga = np.negative(ga)
    if wd != 0:                 # grad.add(param, alpha=wd)
        tmp = np.empty_like(pa) if tmp is None else tmp
        np.copyto(tmp, ga)
        ga = (add or _add_alpha)(tmp, pa, wd)
    add = add or _add_alpha
    if ba is not None:
        if first:
            np.copyto(ba, ga)
        elif tail:              # fused=True's scalar loop: buf * momentum + grad * (1 - dampening), the first fused
            ba[...] = _fused.fma(pa.dtype.type(momentum), ba, np.multiply(ga, 1 - dampening, dtype=pa.dtype), pa.dtype)
        else:                   # buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            np.multiply(ba, momentum, out=ba)
            add(ba, ga, 1 - dampening)
        if nesterov:            # grad.add(buf, alpha=momentum)
            if ga is not tmp:
                tmp = np.empty_like(pa) if tmp is None else tmp
                np.copyto(tmp, ga)
            ga = add(tmp, ba, momentum)
        else:
            ga = ba
    add(pa, ga, -lr)            # param.add_(grad, alpha=-lr)


def _axpy_adder(pa, ga, ba, alphas):
    """``add(out, b, alpha)``: out += alpha * b rounded once by ?axpy straight (_fused.axpy_runs), for a param
    whose arrays are C-contiguous float32/float64 of one dtype and alphas finite, where the loaded ?axpy rounds
    once; None otherwise. Checked once an update instead of at each add: GPT's 52 param shapes (momentum, weight
    decay), 1 thread, min of 30 interleaved, one 16384-element param's update 86 -> ~45 us."""
    dt = pa.dtype
    if (dt != np.float32 and dt != np.float64) or not all(math.isfinite(a) for a in alphas) or \
            not all(x is None or (x.dtype == dt and x.flags.c_contiguous) for x in (pa, ga, ba)) or \
            not _fused._axpy_fused(dt):
        return None
    flat = (lambda x: x.reshape(-1))

    def add(out, b, alpha):
        if alpha == 1:
            return np.add(out, b, out=out)
        if alpha != 0 and not np.may_share_memory(out, b):
            _fused._axpy_run(dt.type(alpha), flat(b), flat(out))
            return out
        return _add_alpha(out, b, alpha)
    return add


def _add_alpha(out, b, alpha):
    """``out.add_(b, alpha=alpha)`` rounded once (one fused multiply-add), as PyTorch's add kernel; an alpha of 1 is
    the plain sum. ``out``."""
    if alpha == 1:
        return np.add(out, b, out=out)
    if out.dtype.kind == 'c':   # complex: no fused multiply-add; the product, then the sum (as before)
        return np.add(out, np.multiply(b, alpha, dtype=out.dtype), out=out)
    return _fused.addmul_(out, alpha, b)
