"""Adam and AdamW (decoupled weight decay), with AMSGrad, following PyTorch's single-tensor arithmetic."""
import math

import numpy as np

from .. import _parallel
from ..ops import _fused
from ..ops._vml_sqrt import sqrt as _sqrt
from ..ops.pointwise import _lerp_values
from ..tensor import Tensor
from .optimizer import (_with_decay, _addcmul_, _CAPTURABLE_NO_XLA, Optimizer, _as_real, _closure_loss,
                        _decay_, _functional_checks, _no_grad_step, _scalar, _step_tensor)

__all__ = ['Adam', 'AdamW', 'adam', 'adamw']


# PyTorch's foreach kernels take a Python-number lr unless capturable (raised at construction and at step)
_FOREACH_TENSOR_LR = 'lr as a Tensor is not supported for capturable=False and foreach=True'


class Adam(Optimizer):
    """Implements the Adam algorithm (AdamW when ``decoupled_weight_decay=True``)."""
    # raised for a sparse gradient (AdamW's too, as PyTorch's subclass of Adam)
    _sparse_error = 'Adam does not support sparse gradients, please consider SparseAdam instead'
    _capturable_foreach = ('params and state_steps', _CAPTURABLE_NO_XLA)   # the foreach path's wording

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        if hasattr(lr, 'numel') and foreach and not capturable:
            raise ValueError(_FOREACH_TENSOR_LR)
        betas = tuple(_scalar(b) if hasattr(b, 'dim') and b.dim() != 0 else b for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError('`fused` does not support `differentiable`')
            if foreach:
                raise RuntimeError('`fused` and `foreach` cannot be `True` together.')

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (('amsgrad', False), ('maximize', False), ('foreach', None), ('capturable', False),
                               ('differentiable', False), ('decoupled_weight_decay', False), ('fused', None)):
                group.setdefault(key, value)
            _steps_as_tensors(self.state, group)

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            if (group['foreach'] and hasattr(group['lr'], 'numel') and not group['capturable']
                    and any(p._grad is not None for p in group['params'])):
                raise RuntimeError(_FOREACH_TENSOR_LR)
            _adam_group(self.state, group)
        return loss


class AdamW(Adam):
    """Implements AdamW: Adam whose weight decay shrinks the params directly (not through the moments)."""
    __module__ = 'ember.optim.adamw'   # its public home, as PyTorch's reprs, checks (higher) and pickles name it

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group['decoupled_weight_decay'] = True


def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, foreach=None, capturable=False,
         differentiable=False, fused=None, grad_scale=None, found_inf=None, has_complex=False,
         decoupled_weight_decay=False, *, amsgrad, beta1, beta2, lr, weight_decay, eps, maximize):
    """PyTorch's functional Adam (torch.optim.adam.adam): one step of each param and its state in place, by the
    per-param update the class runs (``_decay`` then ``_adam_update``; the class batches small params and shares
    large ones between threads, the same arithmetic); ``fused``: as PyTorch's fused CPU kernel (see _fused_parts)."""
    _functional_checks(state_steps, differentiable)
    lr, beta1, beta2 = _scalar(lr), _scalar(beta1), _scalar(beta2)
    for i, (p, g, m, v, s_t) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs, state_steps)):
        pa, ga = _as_real(p._data), _as_real(g._data)
        if maximize:
            ga = np.negative(ga)
        step_arr = s_t._data
        step_arr += 1
        ga = _decay(pa, ga, lr, weight_decay, decoupled_weight_decay, p._data.dtype.kind == 'c' and not foreach)
        arrays = (pa, ga, _as_real(m._data), _as_real(v._data)) + \
            ((_as_real(max_exp_avg_sqs[i]._data),) if amsgrad else ())
        for part, tail in _fused_parts(arrays) if fused else ((arrays, False),):
            _adam_update(float(step_arr), lr, beta1, beta2, eps, *part, fused=bool(fused), tail=tail)
        p._bump()


def adamw(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, foreach=None, capturable=False,
          differentiable=False, fused=None, grad_scale=None, found_inf=None, has_complex=False, *, amsgrad, beta1,
          beta2, lr, weight_decay, eps, maximize):
    """PyTorch's functional AdamW (torch.optim.adamw.adamw): ``adam`` with decoupled weight decay."""
    adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, foreach, capturable, differentiable,
         fused, grad_scale, found_inf, has_complex, True, amsgrad=amsgrad, beta1=beta1, beta2=beta2, lr=lr,
         weight_decay=weight_decay, eps=eps, maximize=maximize)


def _check_adam_args(lr, betas, eps, weight_decay):
    """Raise PyTorch's errors for out-of-range Adam hyperparameters."""
    if hasattr(lr, 'numel') and lr.numel() != 1:
        raise ValueError('Tensor lr must be 1-element')
    if not 0.0 <= lr:
        raise ValueError(f'Invalid learning rate: {lr}')
    if not 0.0 <= eps:
        raise ValueError(f'Invalid epsilon value: {eps}')
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f'Invalid beta parameter at index 0: {betas[0]}')
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f'Invalid beta parameter at index 1: {betas[1]}')
    if not 0.0 <= weight_decay:
        raise ValueError(f'Invalid weight_decay value: {weight_decay}')
    tensors = [hasattr(b, 'numel') for b in betas]
    if not (all(isinstance(b, float) for b in betas) or all(tensors)):
        raise ValueError('betas must be either both floats or both Tensors')
    for i, b in enumerate(betas):
        if tensors[i] and b.numel() != 1:
            raise ValueError(f'Tensor betas[{i}] must be 1-element')


def _steps_as_tensors(state, group):
    """Turn old-style Python-number ``step`` entries into 0-d tensors (as PyTorch's ``__setstate__``)."""
    for p in group['params']:
        st = state.get(p)
        if st and not hasattr(st['step'], '_data'):
            st['step'] = _step_tensor(float(st['step']))


def _adam_state(state, p, amsgrad):
    """The param's state, created on its first step: step counter and zeroed moment estimates."""
    st = state[p]
    if len(st) == 0:
        st['step'] = _step_tensor()
        st['exp_avg'] = Tensor._make(np.zeros_like(p._data))
        st['exp_avg_sq'] = Tensor._make(np.zeros_like(p._data))
        if amsgrad:
            st['max_exp_avg_sq'] = Tensor._make(np.zeros_like(p._data))
    return st


def _adam_states(state, group, amsgrad):
    """(param, state) of each param with a gradient, every state's entries read first in PyTorch's order (a state
    lacking one raises its KeyError before any param moves, as PyTorch's ``_init_group``)."""
    out = []
    for p in group['params']:
        if p._grad is not None:
            st = _adam_state(state, p, amsgrad)
            for key in ('exp_avg', 'exp_avg_sq') + (('max_exp_avg_sq',) if amsgrad else ()) + ('step',):
                st[key]  # noqa: B018 - only its KeyError
            out.append((p, st))
    return out


def _adam_group(state, group):
    """Update every param of ``group`` that has a gradient (the single-tensor loop of PyTorch); small params go
    together (see _together)."""
    lr, (beta1, beta2) = _scalar(group['lr']), map(_scalar, group['betas'])
    wd, eps, amsgrad = group['weight_decay'], group['eps'], group['amsgrad']
    maximize, decoupled, fused = group['maximize'], group['decoupled_weight_decay'], bool(group['fused'])
    small = {}      # (step, dtype) -> [(param, its array, gradient, moments)] of the small params
    updates = []    # (update, arrays, param) of the others
    for p, st in _adam_states(state, group, amsgrad):
        pa, ga = _as_real(p._data), _as_real(p._grad._data)
        if maximize:
            ga = np.negative(ga)
        m, v = _as_real(st['exp_avg']._data), _as_real(st['exp_avg_sq']._data)
        step_arr = st['step']._data
        step_arr.fill(float(step_arr) + 1)      # (+= 1's 0-d ufunc call: ~2 us a param; the same value, rounded once)
        step = float(step_arr)
        if not (amsgrad or fused) and pa.size <= SMALL and p._data.dtype.kind != 'c' and _joinable(pa, ga, m, v):
            small.setdefault((step, pa.dtype), []).append((p, pa, ga, m, v))
            continue
        ga = _decay(pa, ga, lr, wd, decoupled, p._data.dtype.kind == 'c' and not group['foreach'])
        arrays = (pa, ga, m, v, _as_real(st['max_exp_avg_sq']._data)) if amsgrad else (pa, ga, m, v)
        for arrays, tail in _fused_parts(arrays) if fused else ((arrays, False),):
            updates.append((lambda *a, step=step, tail=tail: _adam_update(step, lr, beta1, beta2, eps, *a, fused=fused,
                                                                          tail=tail), arrays, p))
    joined = [(sum(it[1].nbytes for it in items) * 4, lambda items=items, step=step: _together(
        items, lambda pa, ga, m, v: _adam_update(step, lr, beta1, beta2, eps, pa, _decay(pa, ga, lr, wd, decoupled),
                                                 m, v))) for (step, _), items in small.items()]
    _run_updates(updates, joined)


# bytes (param, grad, moments) that two params' updates must each move, or all the updates together SHARE_ALL_BYTES,
# before the group's updates are shared out between ember's threads, whole params each (the largest first, each
# thread taking the next when free, the joined small params one more item): a thread's passes are then whole
# params', long enough to let the GIL go for a while. DCGAN's generator's Adam step (params of 205k, 131k, 33k and 2k
# elements and 6 of batch norm) at 2 threads, min of 100 interleaved on the loaded machine: 551 -> 468 us (its
# discriminator's, one param of 2 MiB, stays whole: 257 -> 262; one thread 525 -> 526). GPT's AdamW (52 params,
# the largest 65k elements, 13 MB moved in all), inside training steps at 2 threads, 80 interleaved on the loaded
# machine (us): min 2523 -> 1926, p25 2667 -> 2180, median 2769 -> 2601 (1 thread unchanged).
SHARE_BYTES, SHARE_ALL_BYTES = 2 << 20, 4 << 20


def _run_updates(updates, joined=()):
    """Run the (update, arrays, param) triples and the joined small params' (bytes, update) pairs, then bump each
    param's version: a param that moves SPLIT_BYTES cut into blocks on the threads (_parallel.flat), the others
    whole, shared out between the threads with the joined ones when enough bytes move (see SHARE_BYTES)."""
    sizes = [sum(a.nbytes for a in arrays) for _, arrays, _ in updates]
    work = [(n, lambda u=u: u[0](*u[1])) for n, u in zip(sizes, updates) if n < SPLIT_BYTES] + list(joined)
    if _parallel.threads() > 1 and len(work) > 1 and (sum(SHARE_BYTES <= n < SPLIT_BYTES for n in sizes) >= 2 or
                                                      sum(n for n, _ in work) >= SHARE_ALL_BYTES):
        _parallel.each(lambda fn: fn(), [(fn,) for _, fn in sorted(work, key=lambda w: -w[0])])
    else:
        for _, fn in work:
            fn()
    for n, (fn, arrays, _) in zip(sizes, updates):
        if n >= SPLIT_BYTES:
            _parallel.flat(fn, *arrays, min_bytes=SPLIT_BYTES)
    for p in {id(p): p for _, _, p in updates}.values():     # once a param (the fused kernel's are in pieces)
        p._bump()


def _decay(pa, ga, lr, wd, decoupled, cplx=False):
    """Weight decay: the param shrunk in place (decoupled, AdamW) or the gradient plus wd * param; the gradient."""
    if wd != 0:
        if decoupled:
            _decay_(pa, lr, wd)
        else:
            ga = _with_decay(ga, pa, wd, cplx)
    return ga


# elements up to which a param's update goes with the other small params' (biases, norms' weights): each of its ~15
# passes (and the ~20 of each block of the sqrt's) is mostly NumPy's per-call cost there, more than the join's copies
# (_together). From 4096 to 16384 GPT's four (128, 128) projections and its two embeddings join too: its AdamW step
# inside training steps, 1 thread, 120 interleaved (load ~10), three runs (us): min 6995 -> 6877, 7220 -> 6956,
# 6998 -> 6803, p25 7311 -> 7213, 7548 -> 7436, 7468 -> 7224; 2 threads, process CPU p25 7394 -> 7211. Joining all
# its params (65536) lost: 7072 -> 8883.
SMALL = 16384


def _joinable(pa, ga, m, v):
    """Whether a param's arrays (param, gradient, moments) can be updated as a piece of joined ones: C-contiguous,
    of the param's dtype (spelt out, not all() of a generator: GPT's AdamW step's Python, min of 400 interleaved:
    236 -> 219 us)."""
    dt = pa.dtype
    return (ga.dtype == dt and m.dtype == dt and v.dtype == dt and pa.flags.c_contiguous and ga.flags.c_contiguous
            and m.flags.c_contiguous and v.flags.c_contiguous)


def _together(items, update):
    """``update(pa, ga, m, v)`` once on the small params' arrays joined end to end, then their pieces written
    back (and each param's version bumped): an elementwise update gives every element the value it gets alone,
    in one set of passes instead of one per param. GPT's AdamW (36 of its 52 params join), min of 200 interleaved,
    1 thread: 1529 -> 1301 us alone, 1890 -> 1789 inside training steps (colder caches). The pieces are flattened by
    np.concatenate itself (axis=None), not by a reshape each: GPT's 34 small params, min of 300, 184 -> 165 us."""
    joined = [np.concatenate([it[j] for it in items], axis=None) for j in (1, 2, 3, 4)]
    update(*joined)
    pa, _, m, v = joined
    lo = 0
    for p, a, _, mm, vv in items:
        hi = lo + a.size
        for dst, src in ((a, pa), (mm, m), (vv, v)):
            dst.reshape(-1)[...] = src[lo:hi]
        p._bump()
        lo = hi


# bytes (param, grad, moments) one param's update moves before it is cut into blocks on ember's threads. A
# block's ~15 NumPy passes each hand the GIL back and forth, and a woken pool thread starts late, so small
# params lose there: GPT's AdamW (52 params, the largest 65k) at 2 threads, min of 200-300 interleaved steps,
# 2.68-2.99 ms back to back with its 64k-element params cut (the old 1 MiB threshold) against 1.75 whole, 1.80
# against 1.70 with 1 ms between steps (1 thread: 1.67); one param's update, 2 threads against 1: 65k elements
# 88 against 81 us, 262k 208 against 322.
SPLIT_BYTES = 8 << 20


def _adam_update(step, lr, beta1, beta2, eps, pa, ga, m, v, vmax=None, fused=False, tail=False):
    """The elementwise update of one param (or one block of it) in place, in PyTorch's order; ``vmax``
    is amsgrad's running maximum. ``fused``: as PyTorch's fused CPU kernel (_fused_adam_) rounds it: IEEE's sqrt (its
    Vectorized sqrt, not MKL's), sqrt(bc2) by sqrt; ``tail``: elements of its scalar remainder loop, whose
    exp_avg_sq is fma(v, beta2, (1 - beta2) * g * g) (the compiler fuses the other product there; see _fused_parts)."""
    tmp = np.empty_like(pa)
    _lerp(m, ga, 1 - beta1, tmp)
    if tail:
        np.multiply(ga, pa.dtype.type(1 - beta2), out=tmp)
        np.multiply(tmp, ga, out=tmp)
        v[...] = _fused.fma(pa.dtype.type(beta2), v, tmp, v.dtype)
    else:
        np.multiply(v, beta2, out=v)
        _addcmul_(v, ga, ga, 1 - beta2, tmp)
    if vmax is not None:
        v = np.maximum(vmax, v, out=vmax)
    bias_correction2_sqrt = math.sqrt(1 - beta2 ** step) if fused else (1 - beta2 ** step) ** 0.5
    denom = (np.sqrt if fused else _sqrt)(v, out=np.empty_like(pa))
    np.divide(denom, bias_correction2_sqrt, out=denom)
    np.add(denom, eps, out=denom)
    np.multiply(m, -(lr / (1 - beta1 ** step)), out=tmp)
    np.divide(tmp, denom, out=tmp)
    np.add(pa, tmp, out=pa)


# elements per vector of the compiler's own vectorization of PyTorch's fused Adam's remainder loop (256-bit), by dtype:
# past the kernel's 16-lane (float32) / 8-lane (float64) loop, whole groups of these take the vector path's rounding,
# and the last numel % these elements the scalar loop's (one-step per-element comparisons against _fused_adam_,
# lengths 7-70: exp_avg_sq's fused product differs between the two)
_FUSED_TAIL = {np.dtype(np.float32): 8, np.dtype(np.float64): 4}


def _fused_parts(arrays):
    """A param's arrays (param, gradient, moments) cut into (flat arrays, tail) pieces for the fused kernel: all
    but its last numel % _FUSED_TAIL elements, then those (scalar loop); whole where not C-contiguous or of another
    dtype."""
    pa = arrays[0]
    r = pa.size % _FUSED_TAIL.get(pa.dtype, 1)
    if not r or not all(a.flags.c_contiguous for a in arrays[:1] + arrays[2:]):
        return ((arrays, False),)
    flat = [a.reshape(-1) for a in arrays]
    cut = pa.size - r
    parts = [(tuple(a[cut:] for a in flat), True)]
    if cut:
        parts.insert(0, (tuple(a[:cut] for a in flat), False))
    return parts


def _lerp(a, end, weight, scratch):
    """``a.lerp_(end, weight)`` in place with PyTorch's two-sided formula, each side one fused multiply-add for
    float32/float64 as its kernel rounds (``scratch`` is overwritten); the fused sides in place through
    _fused.addmul_, not _lerp_values' new arrays."""
    fused = a.dtype.type in (np.float32, np.float64)
    if fused and (np.ndim(weight) or end.dtype != a.dtype or end.shape != a.shape or
                  not (a.flags.c_contiguous and scratch.flags.c_contiguous)):
        a[...] = _lerp_values(a, end, weight)
        return
    w = a.dtype.type(weight)
    diff = np.subtract(end, a, out=scratch)
    if fused and abs(w) < 0.5:
        _fused.addmul_(a, w, diff)
    elif fused:     # fma(w - 1, diff, end), PyTorch's vectorized lerp (its scalar tail's -(1 - w) is -0.0 at w = 1)
        _fused.addmul_(a, w - 1, diff, end)
    elif abs(w) < 0.5:
        np.add(a, np.multiply(diff, w, out=diff), out=a)
    else:
        np.add(end, np.multiply(diff, w - 1, out=diff), out=a)
