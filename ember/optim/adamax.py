"""Adamax: Adam with the infinity norm of past gradients in place of their second moment."""
import numpy as np

from ..tensor import Tensor
from ._checks import check_betas, check_lr, check_nonnegative
from .adam import _lerp, _steps_as_tensors
from .optimizer import Optimizer, _fill_group_flags, _no_grad_step, _step_groups, _scalar, _step_tensor

__all__ = ['Adamax']


class Adamax(Optimizer):
    """Implements the Adamax algorithm (PyTorch's single-tensor arithmetic)."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_nonnegative(eps=eps)
        check_betas(betas)
        check_nonnegative(weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        _fill_group_flags(self)
        for group in self.param_groups:
            _steps_as_tensors(self.state, group)

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        return _step_groups(self, closure, _adamax_group)


def _adamax_group(state, group):
    """Update every param of ``group`` that has a gradient."""
    lr, (beta1, beta2), eps, wd = _scalar(group['lr']), group['betas'], group['eps'], group['weight_decay']
    for p in group['params']:
        if p._grad is None:
            continue
        st = state[p]
        if len(st) == 0:
            st['step'] = _step_tensor()
            st['exp_avg'] = Tensor._make(np.zeros_like(p._data))
            st['exp_inf'] = Tensor._make(np.zeros_like(p._data))
        pa, ga = p._data, p._grad._data
        if group['maximize']:
            ga = np.negative(ga)
        step_arr = st['step']._data
        step_arr += 1
        if wd != 0:
            ga = np.multiply(pa, wd, dtype=pa.dtype) + ga
        m, u = st['exp_avg']._data, st['exp_inf']._data
        tmp = np.empty_like(pa)
        _lerp(m, ga, 1 - beta1, tmp)
        np.multiply(u, beta2, out=u)
        np.maximum(u, np.add(np.abs(ga), eps, out=tmp), out=u)
        clr = lr / (1 - beta1 ** float(step_arr))
        np.multiply(m, -clr, out=tmp)
        np.add(pa, np.divide(tmp, u, out=tmp), out=pa)
        p._bump()
