"""Connectionist temporal classification loss (``F.ctc_loss``, ``nn.CTCLoss``), computed as PyTorch's CPU kernel
computes it (aten/src/ATen/native/LossCTC.cpp): the log-space alpha recursion over the blank-extended targets for
the loss, the beta recursion for the gradient, each step's log-sum-exp in the kernel's order and rounding (every
exp and log rounded to the dtype, as std::exp/std::log on float), vectorised over the batch and the extended
target positions. Its gradient is PyTorch's: ``exp(lp) - exp(log(alpha*beta) + nll - lp)``, the gradient with
respect to the logits of a log_softmax (PyTorch documents log_probs as log_softmax outputs)."""
import numpy as np

from ... import ops
from ...autograd import dual, forward_refusal
from ...autograd.graph import Node
from ...ops._util import not_implemented, undifferentiable, check_tensor_args
from ...tensor import Tensor

__all__ = ['ctc_loss']

_F32 = np.dtype(np.float32)
_NOT_DIFFERENTIABLE = undifferentiable('NotImplemented', 'derivative for aten::_ctc_loss_backward is not implemented')


def _exp(x):
    """exp rounded once to x's dtype (float32 through float64, as a correctly rounded expf)."""
    with np.errstate(over='ignore', under='ignore'):
        return np.exp(x.astype(np.float64)).astype(x.dtype) if x.dtype == _F32 else np.exp(x)


def _log(x):
    with np.errstate(divide='ignore'):
        return np.log(x.astype(np.float64)).astype(x.dtype) if x.dtype == _F32 else np.log(x)


def _lse3(a, b, c):
    """log(exp(a-m) + exp(b-m) + exp(c-m)) + m, m the largest (0 when all are -inf), as the kernel's alpha and
    beta steps (b, c may be -inf)."""
    m = np.maximum(np.maximum(a, b), c)
    m[m == -np.inf] = 0
    with np.errstate(invalid='ignore'):
        s = _exp(a - m) + _exp(b - m)
        s += _exp(c - m)
    return _log(s) + m


def _lse2(a, b):
    """log(exp(a-m) + exp(b-m)) + m, m = max(a, b) (0 when both are -inf)."""
    return _lse3(a, b, np.full_like(a, -np.inf))


def _lengths(v, name, n):
    """Input or target lengths as a list of ints (a tensor, or a list/tuple of ints)."""
    if isinstance(v, Tensor):
        if v._data.dtype.kind not in 'iu':
            raise RuntimeError(f'{name} must be integral')
        return [int(x) for x in v._data.reshape(-1)]
    return [int(x) for x in v]


class CtcLossBackward0(Node):
    """PyTorch's _ctc_loss node: the per-sample negative log likelihoods' gradient to log_probs."""
    __slots__ = ('ctx',)

    def backward(self, g):
        if not dual.is_array(g):    # create_graph: PyTorch's _ctc_loss_backward has no derivative
            lp, = self.saved()
            return Tensor._make(_ctc_grad(g._data, *self.ctx), _NOT_DIFFERENTIABLE((g, lp)))
        return _ctc_grad(g, *self.ctx)


forward_refusal.refusing(CtcLossBackward0, '_ctc_loss')   # no forward-mode formula in PyTorch


def _extended(targets, tl, n, batched_2d):
    """The blank-extended targets l' as an (N, L) int array (blank at even positions, padded with blank), from
    padded (N, S) or concatenated 1-D targets; and its length 2*S_n + 1 per sample."""
    s_max = max(tl) if tl else 0
    lab = np.zeros((n, s_max), np.int64)
    if batched_2d:
        for i, k in enumerate(tl):
            lab[i, :k] = targets[i, :k]
    else:
        off = 0
        for i, k in enumerate(tl):
            lab[i, :k] = targets[off:off + k]
            off += k
    return lab


def _alpha(lp, prime, skip, valid, il):
    """log alpha (T, N, L): the kernel's forward recursion; positions past a sample's 2*S+1 stay -inf."""
    T, N, _ = lp.shape
    L = prime.shape[1]
    emit = np.take_along_axis(lp, np.broadcast_to(prime, (T, N, L)), axis=2)     # lp[t, n, l'_s]
    A = np.full((T, N, L), -np.inf, lp.dtype)
    A[0, :, 0] = emit[0, :, 0]
    A[0, :, 1:2] = np.where(valid[:, 1:2], emit[0, :, 1:2], -np.inf)
    ninf = np.full((N, 1), -np.inf, lp.dtype)
    for t in range(1, T):
        prev = A[t - 1]
        la2 = np.concatenate([ninf, prev[:, :-1]], axis=1)
        la3 = np.where(skip, np.concatenate([ninf, ninf, prev[:, :-2]], axis=1)[:, :L], -np.inf)
        A[t] = np.where(valid, _lse3(prev, la2, la3) + emit[t], -np.inf)
    return A, emit


def _nll(A, tl, il):
    """Each sample's -log p(target | input) from alpha at its last input step."""
    out = np.empty(A.shape[1], A.dtype)
    for i, (k, t) in enumerate(zip(tl, il)):
        last = A[t - 1, i]
        out[i] = -last[0] if k == 0 else -_lse2(last[2 * k:2 * k + 1], last[2 * k - 1:2 * k])[0]
    return out


def _ctc_grad(g, lp, A, emit, prime, skip2, valid, il, tl, nll, zero_infinity):
    """The kernel's backward: the beta recursion, the log-sum of alpha*beta per class in the kernel's order
    (positions descending), then (exp(lp) - exp(lcab + nll - lp)) * g; zero past each input length."""
    T, N, C = lp.shape
    L = prime.shape[1]
    B = np.full((T, N, L), -np.inf, lp.dtype)
    idx = np.arange(N)
    il_a = np.asarray(il)
    last = il_a - 1
    init = np.full((N, L), -np.inf, lp.dtype)
    tl_a = np.asarray(tl)
    init[idx, 2 * tl_a] = emit[last, idx, 2 * tl_a]
    has = tl_a > 0
    init[idx[has], 2 * tl_a[has] - 1] = emit[last[has], idx[has], 2 * tl_a[has] - 1]
    ninf = np.full((N, 1), -np.inf, lp.dtype)
    for t in range(T - 1, -1, -1):
        if t == T - 1:
            nxt = None
        else:
            nxt = B[t + 1]
        if nxt is None:
            comp = np.full((N, L), -np.inf, lp.dtype)
        else:
            lb2 = np.concatenate([nxt[:, 1:], ninf], axis=1)
            lb3 = np.where(skip2, np.concatenate([nxt[:, 2:], ninf, ninf], axis=1)[:, :L], -np.inf)
            lb2 = np.where(np.arange(L)[None, :] < 2 * tl_a[:, None], lb2, -np.inf)
            comp = np.where(valid, _lse3(nxt, lb2, lb3) + emit[t], -np.inf)
        here = np.where((t == last)[:, None], init, np.where((t < last)[:, None], comp, -np.inf))
        B[t] = here
    G = np.full((T, N, C), -np.inf, lp.dtype)
    tt = np.arange(T)[:, None]
    for s in range(L - 1, -1, -1):
        c = prime[:, s]
        ab = A[:, :, s] + B[:, :, s]                          # (T, N)
        cur = G[:, idx, c]
        with np.errstate(invalid='ignore'):
            mixed = _lse2(cur, ab)
        new = np.where(cur == -np.inf, ab, mixed)
        new = np.where(valid[:, s][None, :] & (tt < il_a[None, :]), new, cur)
        G[:, idx, c] = new
    with np.errstate(invalid='ignore', over='ignore'):
        res = (_exp(lp) - _exp((G + nll[None, :, None]) - lp)) * g.astype(lp.dtype)[None, :, None]
    res[np.arange(T)[:, None] >= il_a[None, :]] = 0
    if zero_infinity:
        res[:, nll == np.inf] = 0
    return res


def _checks(lp, tgt, il, tl, blank, batched_2d):
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise RuntimeError('blank must be in label range')
    if len(il) != N:
        raise RuntimeError('input_lengths must be of size batch_size')
    if len(tl) != N:
        raise RuntimeError('target_lengths must be of size batch_size')
    for v in il:
        if v < 0:
            raise RuntimeError(f'Expected input_lengths to have value at least 0, but got value {v} (while checking '
                               'arguments for ctc_loss_allocate_outputs)')
        if v > T:
            raise RuntimeError(f'Expected input_lengths to have value at most {T}, but got value {v} (while '
                               'checking arguments for ctc_loss_allocate_outputs)')
    if batched_2d and tl and max(tl) > tgt.shape[1]:
        raise RuntimeError(f'Expected tensor to have size at least {max(tl)} at dimension 1, but got size '
                           f"{tgt.shape[1]} for argument #2 'targets' (while checking arguments for "
                           'ctc_loss_allocate_outputs)')


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean', zero_infinity=False):
    """The CTC loss of log_probs (T, N, C), or (T, C) unbatched, against padded (N, S) or concatenated targets;
    'mean' divides each loss by its target length (at least 1) and averages over the batch."""
    try:
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f'{reduction} is not a valid value for reduction')
        batched = log_probs.dim() == 3
        x = log_probs if batched else log_probs.unsqueeze(1)
        lp = x._data
        if lp.dtype.kind != 'f':
            raise not_implemented('ctc_loss_cpu', lp.dtype)
        T, N, C = lp.shape
        il = _lengths(input_lengths, 'input_lengths', N)
        tl = _lengths(target_lengths, 'target_lengths', N)
        tgt = targets._data
        batched_2d = tgt.ndim == 2
        _checks(lp, tgt, il, tl, blank, batched_2d)
        lab = _extended(tgt.astype(np.int64), tl, N, batched_2d)
        L = 2 * lab.shape[1] + 1
        prime = np.full((N, L), blank, np.int64)
        prime[:, 1::2] = lab
        pos = np.arange(L)[None, :]
        valid = pos <= 2 * np.asarray(tl, np.int64)[:, None]
        prev2 = np.concatenate([np.full((N, 2), -1, np.int64), prime[:, :-2]], axis=1)[:, :L]   # L = 1: all empty
        skip = (pos > 1) & (prev2 != prime)                                  # alpha may come from s-2
        next2 = np.concatenate([prime[:, 2:], np.full((N, 2), -1, np.int64)], axis=1)[:, -L:]
        skip2 = (pos < 2 * np.asarray(tl, np.int64)[:, None] - 1) & (next2 != prime)   # beta may come from s+2
        A, emit = _alpha(lp, prime, skip, valid, il)
        nll = _nll(A, tl, il)
        res = _record(x, nll, (lp, A, emit, prime, skip2, valid, il, tl, nll, zero_infinity), targets)
        if zero_infinity:
            res = ops.where(res == float('inf'), ops.zeros((), dtype=res.dtype), res)
        if reduction == 'mean':
            res = (res / ops.tensor(tl, dtype=res.dtype).clamp_min(1)).mean()
        elif reduction == 'sum':
            res = res.sum()
        return res if batched or reduction != 'none' else res.squeeze(0)
    except (AttributeError, TypeError):
        check_tensor_args('ctc_loss', 'log_probs', 'targets', 'input_lengths', 'target_lengths')
        raise


def _record(x, nll, ctx, targets=None):
    from ...autograd.grad_mode import GRAD
    if not (GRAD.enabled and x._requires_grad):
        return Tensor._make(nll)
    node = CtcLossBackward0((x,))
    node.ctx = ctx
    node.save(x)
    if isinstance(targets, Tensor):
        node.guard(targets)   # (PyTorch's node saves the targets; the backward reads ctx's arrays)
    return Tensor._make(nll, node)
