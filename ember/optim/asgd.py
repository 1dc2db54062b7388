"""ASGD: averaged stochastic gradient descent (Polyak-Juditsky averaging, Bottou's step-size schedule)."""
import numpy as np

from ..tensor import Tensor
from ._checks import check_lr, check_nonnegative
from .optimizer import Optimizer, _fill_group_flags, _no_grad_step, _step_groups, _scalar, _step_tensor

__all__ = ['ASGD']


class ASGD(Optimizer):
    """Implements averaged SGD; ``state['ax']`` holds the running average of the params."""

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
    """Update every param of ``group`` that has a gradient, then its average, eta and mu."""
    lr, lambd, alpha, t0, wd = _scalar(group['lr']), group['lambd'], group['alpha'], group['t0'], \
        group['weight_decay']
    for p in group['params']:
        if p._grad is None:
            continue
        st = state[p]
        if len(st) == 0:
            st['step'] = _step_tensor()
            st['eta'] = _step_tensor(lr)
            st['mu'] = _step_tensor(1.0)
            st['ax'] = Tensor._make(np.zeros_like(p._data))
        pa, ga = p._data, p._grad._data
        if group['maximize']:
            ga = np.negative(ga)
        step_arr = st['step']._data
        step_arr += 1
        if wd != 0:
            ga = np.multiply(pa, wd, dtype=pa.dtype) + ga
        eta = float(st['eta']._data)
        np.multiply(pa, 1 - lambd * eta, out=pa)
        np.add(pa, np.multiply(ga, -eta, dtype=pa.dtype), out=pa)
        ax, mu = st['ax']._data, st['mu']._data
        if float(mu) != 1:
            np.add(ax, np.multiply(np.subtract(pa, ax), mu, dtype=pa.dtype), out=ax)
        else:
            np.copyto(ax, pa)
        step = float(step_arr)
        st['eta']._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
        st['mu']._data[...] = 1 / max(1, step - t0)
        p._bump()
