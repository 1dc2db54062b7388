"""RAdam: Adam whose adaptive step is rectified while the variance estimate is unreliable."""
import numpy as np

from ..ops import _fused
from ..ops._vml_sqrt import sqrt as _sqrt
from ._checks import check_betas, check_lr, check_nonnegative
from .adam import _adam_state, _lerp, _steps_as_tensors
from .optimizer import (_with_decay, _addcmul_, _as_real, _CAPTURABLE_NO_XLA, Optimizer, _fill_group_flags,
                        _decay_, _functional_checks, _no_grad_step, _step_groups, _scalar)

__all__ = ['RAdam', 'radam']


class RAdam(Optimizer):
    """Implements the RAdam algorithm (``decoupled_weight_decay=True`` gives RAdamW)."""
    _sparse_error = 'RAdam does not support sparse gradients'   # raised for a sparse gradient
    _capturable_foreach = ('params and state_steps', _CAPTURABLE_NO_XLA)   # the foreach path's wording

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
    """Update every param of ``group`` that has a gradient (through ``radam``, PyTorch's functional form)."""
    params, grads, exp_avgs, exp_avg_sqs, steps = [], [], [], [], []
    for p in group['params']:
        if p._grad is None:
            continue
        st = _adam_state(state, p, False)
        params.append(p)
        grads.append(p._grad)
        exp_avgs.append(st['exp_avg'])
        exp_avg_sqs.append(st['exp_avg_sq'])
        steps.append(st['step'])
    beta1, beta2 = group['betas']
    radam(params, grads, exp_avgs, exp_avg_sqs, steps, decoupled_weight_decay=group['decoupled_weight_decay'],
          foreach=group['foreach'], maximize=group['maximize'], beta1=beta1, beta2=beta2, lr=group['lr'],
          weight_decay=group['weight_decay'], eps=group['eps'])


def radam(params, grads, exp_avgs, exp_avg_sqs, state_steps, decoupled_weight_decay=False, foreach=None,
          differentiable=False, capturable=False, has_complex=False, maximize=False, *, beta1, beta2, lr,
          weight_decay, eps):
    """PyTorch's functional RAdam (torch.optim.radam.radam): one step of each param and its state."""
    _functional_checks(state_steps, differentiable)
    lr, wd = _scalar(lr), weight_decay
    rho_inf = 2 / (1 - beta2) - 1
    for p, g, m_t, v_t, s_t in zip(params, grads, exp_avgs, exp_avg_sqs, state_steps):
        pa, ga = _as_real(p._data), _as_real(g._data)
        if maximize:
            ga = np.negative(ga)
        step_arr = s_t._data
        step_arr += 1
        step = float(step_arr)
        if wd != 0:
            if decoupled_weight_decay:
                _decay_(pa, lr, wd)
            else:
                ga = _with_decay(ga, pa, wd)
        m, v = _as_real(m_t._data), _as_real(v_t._data)
        tmp = np.empty_like(pa)
        _lerp(m, ga, 1 - beta1, tmp)
        np.multiply(v, beta2, out=v)
        _addcmul_(v, ga, ga, 1 - beta2, tmp)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if foreach:
            _foreach_update(pa, m, v, tmp, step, lr, beta1, beta2, eps, rho_t, rho_inf)
            p._bump()
            continue
        update = np.divide(m, bias_correction1, out=np.empty_like(pa))
        np.multiply(update, lr, out=update)
        if rho_t > 5.0:
            adaptive = _sqrt(v, out=np.empty_like(pa))
            np.add(adaptive, eps, out=adaptive)
            np.reciprocal(adaptive, out=adaptive)        # a number / tensor is the tensor's reciprocal times it
            np.multiply(adaptive, bias_correction2 ** 0.5, out=adaptive)
            np.multiply(update, adaptive, out=update)
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            np.multiply(update, rect, out=update)
        np.subtract(pa, update, out=pa)
        p._bump()


def _foreach_update(pa, m, v, tmp, step, lr, beta1, beta2, eps, rho_t, rho_inf):
    """The param's move as PyTorch's _foreach_ RAdam rounds it: 1 / ((sqrt(v) + eps) / c) + u with the numbers
    c = -sqrt(bc2) * lr * rect / bc1 and u = -lr / bc1 unrectified (0 otherwise), then param + m * that fused
    (addcmul_); the single-tensor form multiplies m's correction out instead."""
    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5 if rho_t > 5 else 0
    bc1 = 1 - beta1 ** step
    unrect = (lr * (0 if rect > 0 else 1.0) / bc1) * -1
    scale = ((1 - beta2 ** step) ** 0.5) * (lr * rect / bc1) * -1
    buf = _sqrt(v, out=tmp)
    np.add(buf, eps, out=buf)
    with np.errstate(divide='ignore'):
        np.divide(buf, scale, out=buf)
        np.reciprocal(buf, out=buf)
    np.add(buf, unrect, out=buf)
    _fused.addmul_(pa, m, buf)
