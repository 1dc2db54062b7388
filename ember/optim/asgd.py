"""ASGD: averaged stochastic gradient descent (Polyak-Juditsky averaging, Bottou's step-size schedule)."""
import numpy as np

from ..ops import _fused
from ..tensor import Tensor
from ._checks import check_lr, check_nonnegative
from .optimizer import (_with_decay, _as_real, _CAPTURABLE_NO_XLA, Optimizer, _fill_group_flags, _functional_checks,
                        _no_grad_step, _step_groups, _scalar, _step_tensor)
from .sgd import _add_alpha

__all__ = ['ASGD', 'asgd']


class ASGD(Optimizer):
    """Implements averaged SGD; ``state['ax']`` holds the running average of the params."""
    _sparse_error = 'ASGD does not support sparse gradients'   # raised for a sparse gradient
    _capturable_foreach = ('params, mus, etas, and state_steps', _CAPTURABLE_NO_XLA)   # the foreach path's wording

    _capturable_what = 'params, mus, etas, and state_steps'

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_nonnegative(weight_decay=weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        _fill_group_flags(self)
        for group in self.param_groups:
            for p in group['params']:
                st = self.state.get(p)
                for key in ('step', 'eta', 'mu') if st else ():
                    if not hasattr(st[key], '_data'):
                        st[key] = _step_tensor(float(st[key]))

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        return _step_groups(self, closure, _asgd_group)


def _asgd_group(state, group):
    """Update every param of ``group`` that has a gradient (through ``asgd``, PyTorch's functional form)."""
    params, grads, axs, mus, etas, steps = [], [], [], [], [], []
    lr = _scalar(group['lr'])
    for p in group['params']:
        if p._grad is None:
            continue
        st = state[p]
        if len(st) == 0:
            st['step'] = _step_tensor()
            st['eta'] = _step_tensor(lr)
            st['mu'] = _step_tensor(1.0)
            st['ax'] = Tensor._make(np.zeros_like(p._data))
        params.append(p)
        grads.append(p._grad)
        axs.append(st['ax'])
        mus.append(st['mu'])
        etas.append(st['eta'])
        steps.append(st['step'])
    asgd(params, grads, axs, mus, etas, steps, foreach=group['foreach'], maximize=group['maximize'],
         lambd=group['lambd'], lr=lr, t0=group['t0'], alpha=group['alpha'], weight_decay=group['weight_decay'])


def asgd(params, grads, axs, mus, etas, state_steps, foreach=None, maximize=False, differentiable=False,
         capturable=False, has_complex=False, *, lambd, lr, t0, alpha, weight_decay):
    """PyTorch's functional ASGD (torch.optim.asgd.asgd): one step of each param, then its average, eta and mu."""
    _functional_checks(None, differentiable)
    lr, wd = _scalar(lr), weight_decay
    for p, g, ax_t, mu_t, eta_t, s_t in zip(params, grads, axs, mus, etas, state_steps):
        pa, ga = _as_real(p._data), _as_real(g._data)
        if maximize:
            ga = np.negative(ga)
        step_arr = s_t._data
        step_arr += 1
        if wd != 0:
            ga = _with_decay(ga, pa, wd)
        eta = float(eta_t._data)
        ax, mu = _as_real(ax_t._data), mu_t._data
        if foreach:
            _foreach_update(pa, ga, ax, eta, float(mu), lambd)
        else:
            np.multiply(pa, 1 - lambd * eta, out=pa)
            _add_alpha(pa, ga, -eta)                # param.add_(grad, alpha=-eta): one fused multiply-add
            if float(mu) != 1:
                np.add(ax, np.multiply(np.subtract(pa, ax), mu, dtype=pa.dtype), out=ax)
            else:
                np.copyto(ax, pa)
        step = float(step_arr)
        if foreach:
            eta_t._data[...] = _foreach_eta(eta_t._data.dtype.type, lr, lambd, step, alpha)
        else:
            eta_t._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
        mu_t._data[...] = 1 / max(1, step - t0)
        p._bump()


def _foreach_update(pa, ga, ax, eta, mu, lambd):
    """The param's and its average's moves as PyTorch's _foreach_ ASGD rounds them: param - (grad + lambd * param)
    * eta and ax + (param - ax) * mu, each a fused multiply-add (add with alpha, addcmul_), mu = 1 included."""
    inter = np.array(ga, dtype=pa.dtype, order='C')
    _add_alpha(inter, pa, lambd)
    np.negative(inter, out=inter)
    _fused.addmul_(pa, pa.dtype.type(eta), inter)
    np.subtract(pa, ax, out=inter)
    _fused.addmul_(ax, pa.dtype.type(mu), inter)


def _foreach_eta(ftype, lr, lambd, step, alpha):
    """The next eta as PyTorch's _foreach_ ASGD computes it: lr / ((1 + lambd * lr * step) ** alpha) on the step
    tensor, so in its dtype ``ftype`` (lambd * lr a number, the power computed in double and rounded, the number /
    tensor as the reciprocal times lr)."""
    base = ftype(1) + ftype(lambd * lr) * ftype(step)
    with np.errstate(all='ignore'):     # pow of float32 in double, rounded once (NumPy's powf missed near ties)
        return (ftype(1) / ftype(np.float64(base) ** np.float64(ftype(alpha)))) * ftype(lr)
