"""Adadelta: steps scaled by the ratio of running RMS of past updates to running RMS of gradients."""
import numpy as np

from .. import _parallel
from ..ops import _fused
from ..ops._vml_sqrt import sqrt as _sqrt
from ..tensor import Tensor
from ._checks import check_lr, check_nonnegative
from .adam import SPLIT_BYTES, _joinable, _steps_as_tensors, _together
from .optimizer import (_with_decay, _addcmul_, _as_real, Optimizer, _fill_group_flags, _functional_checks,
                        _no_grad_step, _step_groups, _scalar, _step_tensor)
from .sgd import _add_alpha

__all__ = ['Adadelta', 'adadelta']


class Adadelta(Optimizer):
    """Implements the Adadelta algorithm (PyTorch's single-tensor arithmetic)."""
    _sparse_error = 'Adadelta does not support sparse gradients'   # raised for a sparse gradient

    _capturable_devices = "['cuda', 'xpu', 'hpu', 'privateuseone']"

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f'Invalid rho value: {rho}')
        check_nonnegative(eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        _fill_group_flags(self)
        for group in self.param_groups:
            _steps_as_tensors(self.state, group)

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        return _step_groups(self, closure, _adadelta_group)


def _adadelta_group(state, group):
    """Update every param of ``group`` that has a gradient (through ``adadelta``, PyTorch's functional form)."""
    params, grads, square_avgs, acc_deltas, steps = [], [], [], [], []
    for p in group['params']:
        if p._grad is None:
            continue
        st = state[p]
        if len(st) == 0:
            st['step'] = _step_tensor()
            st['square_avg'] = Tensor._make(np.zeros_like(p._data))
            st['acc_delta'] = Tensor._make(np.zeros_like(p._data))
        params.append(p)
        grads.append(p._grad)
        square_avgs.append(st['square_avg'])
        acc_deltas.append(st['acc_delta'])
        steps.append(st['step'])
    adadelta(params, grads, square_avgs, acc_deltas, steps, foreach=group['foreach'], lr=group['lr'], rho=group['rho'],
             eps=group['eps'], weight_decay=group['weight_decay'], maximize=group['maximize'])


def adadelta(params, grads, square_avgs, acc_deltas, state_steps, capturable=False, foreach=None,
             differentiable=False, has_complex=False, *, lr, rho, eps, weight_decay, maximize):
    """PyTorch's functional Adadelta (torch.optim.adadelta.adadelta): one step of each param and its state."""
    _functional_checks(None, differentiable)
    lr, wd = _scalar(lr), weight_decay
    small = {}      # dtype -> [(param, its array, gradient, square_avg, acc_delta)] of the small params
    join = len(set(map(id, params))) == len(params)     # a param listed twice is stepped twice, in order, alone
    for p, g, sq_t, acc_t, s_t in zip(params, grads, square_avgs, acc_deltas, state_steps):
        s_t._data += 1
        pa, ga = _as_real(p._data), _as_real(g._data)
        if maximize:
            ga = np.negative(ga)
        if wd != 0:
            ga = _with_decay(ga, pa, wd, p._data.dtype.kind == 'c' and not foreach)
        sq, acc = _as_real(sq_t._data), _as_real(acc_t._data)
        if join and pa.size <= SMALL and _joinable(pa, ga, sq, acc):
            small.setdefault(pa.dtype, []).append((p, pa, ga, sq, acc))
            continue
        if not (wd == 0 and _zero_rows_update(pa, ga, sq, acc, lr, rho, eps)):
            _update(pa, ga, sq, acc, lr, rho, eps)
        p._bump()
    for items in small.values():
        _together(items, lambda *a: _adadelta_update(*a, lr, rho, eps))


# elements up to which a param's update goes with the other small params' (adam._together): each update's ~60 NumPy
# calls (two emulated square roots, two fused multiply-adds) cost 0.1-0.3 ms a param there whatever its size
SMALL = (1 << 16) - 1     # (below _ZERO_ROWS_FROM)


def _update(pa, ga, sq, acc, lr, rho, eps):
    """_adadelta_update of whole arrays, in flat blocks on ember's threads when large."""
    _parallel.flat(lambda *a: _adadelta_update(*a, lr, rho, eps), pa, ga, sq, acc, min_bytes=SPLIT_BYTES)


_F32 = np.dtype(np.float32)
_ZERO_ROWS_FROM = 1 << 16     # elements of a param from which _zero_rows_update looks for zero gradient rows
_INT32_MIN = np.int32(-2 ** 31)     # -0.0's bits as int32


def _finite_nonnegative(v):
    """Whether the float32 array ``v`` holds only +0.0 and finite positives (-0.0's bits are negative as int32)."""
    return np.minimum.reduce(v.reshape(-1).view(np.int32), initial=0) >= 0 and v.max(initial=0) < np.inf


def _zero_rows_update(pa, ga, sq, acc, lr, rho, eps):
    """The step of a C-contiguous float32 param of 2+ dims whose gradient has a quarter or more of its rows zero
    (+-0.0 only; a layer's dead units), full on the other rows (gathered, updated, put back) and on the zero rows
    square_avg and acc_delta times rho only, which is PyTorch's arithmetic there: addcmul_ adds (+-0 * value) *
    +-0, a zero, to square_avg * rho; delta is a finite ratio times +-0, so acc_delta gets a zero added and the param
    +-0 * -lr. x + +-0 is x except -0.0 + +0.0, so that path needs no -0.0 in the param, square_avg or acc_delta
    (as also no inf or nan there, 0 <= rho <= 1, eps in [2**-100, 2**20] for a finite ratio, a finite lr). True
    when done.
    From SPLIT_BYTES the zero and nonzero rows are each shared out between ember's threads, gathers included.
    MNIST CNN's fc1 (48% of its 128 rows dead over a benchmark run), see the commits."""
    if pa.dtype != _F32 or pa.ndim < 2 or pa.size < _ZERO_ROWS_FROM or not 0 <= rho <= 1 or \
            not 2.0 ** -100 <= eps <= 2.0 ** 20 or not np.isfinite(lr) or \
            any(a.dtype != _F32 or a.shape != pa.shape or not a.flags.c_contiguous for a in (pa, ga, sq, acc)):
        return False
    g = ga.reshape(pa.shape[0], -1)
    bits, signs = _fused._row_bits(g)
    zero = (bits & ~signs) == 0
    nz = np.flatnonzero(~zero)
    if nz.size * 4 > 3 * g.shape[0]:
        return False
    z = np.flatnonzero(zero)
    p, s, a = (x.reshape(g.shape) for x in (pa, sq, acc))
    t = min(_parallel.threads() if 4 * pa.nbytes >= SPLIT_BYTES else 1, nz.size, z.size)
    parts = [(nz[i:j], z[k:m]) for (i, j), (k, m) in zip(_parallel.spans(nz.size, t), _parallel.spans(z.size, t))] \
        if t > 1 else [(nz, z)]
    zero_rows = _parallel.each(lambda _, zi: _zero_rows_state(p, s, a, zi), parts)
    if any(r is None for r in zero_rows):
        return False
    _parallel.each(lambda nzi, zi, state: _rows_step(p, g, s, a, nzi, zi, state, lr, rho, eps),
                   [part + (state,) for part, state in zip(parts, zero_rows)])
    return True


def _zero_rows_state(p, s, a, z):
    """square_avg's and acc_delta's rows ``z`` (copies), or None where they hold -0.0, inf or nan, or the param
    -0.0, there."""
    sz, az = s[z], a[z]
    if not (_finite_nonnegative(sz) and _finite_nonnegative(az)) or \
            np.minimum.reduce(p[z].reshape(-1).view(np.int32), initial=0) == _INT32_MIN:
        return None
    return sz, az


def _rows_step(p, g, s, a, nz, z, zero_state, lr, rho, eps):
    """One thread's part of _zero_rows_update: the full update of rows ``nz`` (gathered and put back), and
    square_avg and acc_delta times rho on rows ``z`` (``zero_state``: their copies)."""
    if nz.size:
        rows = [x[nz] for x in (p, g, s, a)]
        _adadelta_update(*rows, lr, rho, eps)
        p[nz], s[nz], a[nz] = rows[0], rows[2], rows[3]
    sz, az = zero_state
    s[z] = np.multiply(sz, rho, out=sz)
    a[z] = np.multiply(az, rho, out=az)


def _adadelta_update(pa, ga, sq, acc, lr, rho, eps):
    """The elementwise update of one param (or one block of it) in place, in PyTorch's order and roundings
    (addcmul_ and add_ with alpha fused; the _foreach_ form's arithmetic is the same)."""
    tmp = np.empty_like(pa)
    np.multiply(sq, rho, out=sq)
    _addcmul_(sq, ga, ga, 1 - rho, tmp)
    std = np.add(sq, eps, out=np.empty_like(pa))
    _sqrt(std, out=std)
    delta = np.add(acc, eps, out=np.empty_like(pa))
    _sqrt(delta, out=delta)
    np.divide(delta, std, out=delta)
    np.multiply(delta, ga, out=delta)
    np.multiply(acc, rho, out=acc)
    _addcmul_(acc, delta, delta, 1 - rho, tmp)
    _add_alpha(pa, delta, -lr)
