"""Adamax: Adam with the infinity norm of past gradients in place of their second moment."""
import numpy as np

from ..tensor import Tensor
from ._checks import check_betas, check_lr, check_nonnegative
from .adam import _lerp, _steps_as_tensors
from .optimizer import (_with_decay, _as_real, _CAPTURABLE_NO_XLA, Optimizer, _fill_group_flags, _functional_checks,
                        _no_grad_step, _step_groups, _scalar, _step_tensor)

__all__ = ['Adamax', 'adamax']


class Adamax(Optimizer):
    """Implements the Adamax algorithm (PyTorch's single-tensor arithmetic)."""
    _sparse_error = 'Adamax does not support sparse gradients'   # raised for a sparse gradient
    _capturable_foreach = ('params and state_steps', _CAPTURABLE_NO_XLA)   # the foreach path's wording

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
    """Update every param of ``group`` that has a gradient (through ``adamax``, PyTorch's functional form)."""
    params, grads, exp_avgs, exp_infs, steps = [], [], [], [], []
    for p in group['params']:
        if p._grad is None:
            continue
        st = state[p]
        if len(st) == 0:
            st['step'] = _step_tensor()
            st['exp_avg'] = Tensor._make(np.zeros_like(p._data))
            st['exp_inf'] = Tensor._make(np.zeros_like(p._data))
        params.append(p)
        grads.append(p._grad)
        exp_avgs.append(st['exp_avg'])
        exp_infs.append(st['exp_inf'])
        steps.append(st['step'])
    (beta1, beta2) = group['betas']
    adamax(params, grads, exp_avgs, exp_infs, steps, foreach=group['foreach'], maximize=group['maximize'],
           eps=group['eps'], beta1=beta1, beta2=beta2, lr=group['lr'], weight_decay=group['weight_decay'])


def adamax(params, grads, exp_avgs, exp_infs, state_steps, foreach=None, maximize=False, differentiable=False,
           capturable=False, has_complex=False, *, eps, beta1, beta2, lr, weight_decay):
    """PyTorch's functional Adamax (torch.optim.adamax.adamax): one step of each param and its state, in place."""
    _functional_checks(state_steps, differentiable)
    lr, wd = _scalar(lr), weight_decay
    for p, g, m_t, u_t, s_t in zip(params, grads, exp_avgs, exp_infs, state_steps):
        pa, ga = _as_real(p._data), _as_real(g._data)
        if maximize:
            ga = np.negative(ga)
        step_arr = s_t._data
        step_arr += 1
        if wd != 0:
            ga = _with_decay(ga, pa, wd, p._data.dtype.kind == 'c' and not foreach)
        m, u = _as_real(m_t._data), _as_real(u_t._data)
        tmp = np.empty_like(pa)
        _lerp(m, ga, 1 - beta1, tmp)
        np.multiply(u, beta2, out=u)
        np.maximum(u, np.add(np.abs(ga), eps, out=tmp), out=u)
        clr = (float(lr) if foreach else lr) / (1 - beta1 ** float(step_arr))   # foreach: lr.item(), in float64
        np.multiply(m, pa.dtype.type(-clr), out=tmp)     # (addcdiv's value cast to the param's dtype)
        np.add(pa, np.divide(tmp, u, out=tmp), out=pa)
        p._bump()
