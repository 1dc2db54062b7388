"""RAdam: Adam whose adaptive step is rectified while the variance estimate is unreliable."""
import numpy as np

from ._checks import check_betas, check_lr, check_nonnegative
from .adam import _adam_state, _lerp, _steps_as_tensors
from .optimizer import Optimizer, _fill_group_flags, _no_grad_step, _step_groups, _scalar

__all__ = ['RAdam']


class RAdam(Optimizer):
    """Implements the RAdam algorithm (``decoupled_weight_decay=True`` gives RAdamW)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_lr(lr)
        check_nonnegative(eps=eps)
        check_betas(betas)
        check_nonnegative(weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        _fill_group_flags(self, (('decoupled_weight_decay', False),))
        for group in self.param_groups:
            _steps_as_tensors(self.state, group)

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        return _step_groups(self, closure, _radam_group)


def _radam_group(state, group):
    """Update every param of ``group`` that has a gradient (the single-tensor loop of PyTorch)."""
    lr, (beta1, beta2), eps, wd = _scalar(group['lr']), group['betas'], group['eps'], group['weight_decay']
    rho_inf = 2 / (1 - beta2) - 1
    for p in group['params']:
        if p._grad is None:
            continue
        st = _adam_state(state, p, False)
        pa, ga = p._data, p._grad._data
        if group['maximize']:
            ga = np.negative(ga)
        step_arr = st['step']._data
        step_arr += 1
        step = float(step_arr)
        if wd != 0:
            if group['decoupled_weight_decay']:
                np.multiply(pa, 1 - lr * wd, out=pa)
            else:
                ga = np.multiply(pa, wd, dtype=pa.dtype) + ga
        m, v = st['exp_avg']._data, st['exp_avg_sq']._data
        tmp = np.empty_like(pa)
        _lerp(m, ga, 1 - beta1, tmp)
        np.multiply(v, beta2, out=v)
        np.add(v, np.multiply(ga, 1 - beta2, out=tmp) * ga, out=v)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        update = np.divide(m, bias_correction1, out=np.empty_like(pa))
        np.multiply(update, lr, out=update)
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            adaptive = np.sqrt(v, out=np.empty_like(pa))
            np.add(adaptive, eps, out=adaptive)
            np.divide(bias_correction2 ** 0.5, adaptive, out=adaptive)
            np.multiply(update, adaptive, out=update)
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            np.multiply(update, rect, out=update)
        np.subtract(pa, update, out=pa)
        p._bump()
