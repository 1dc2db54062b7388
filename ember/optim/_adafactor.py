"""Adafactor: Adam-like steps with a factored (row and column) second-moment estimate for matrices."""
import numpy as np

from ..tensor import Tensor
from .adam import _lerp, _steps_as_tensors
from .optimizer import Optimizer, _closure_loss, _no_grad_step, _scalar, _step_tensor

__all__ = ['Adafactor']


class Adafactor(Optimizer):
    """Implements Adafactor as PyTorch does (relative step size, update clipping with threshold ``d``)."""
    __module__ = 'ember.optim'   # where PyTorch's class says it lives (reprs, pickles)
    _sparse_error = 'Adafactor does not support sparse gradients'   # raised for a sparse gradient

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if hasattr(lr, 'numel') and lr.numel() != 1:
            raise ValueError('Tensor lr must be 1-element')
        if not 0.0 <= lr:
            raise ValueError(f'Learning rate should be >= 0 but is: {lr}')
        if not 0.0 >= beta2_decay:
            raise ValueError(f'beta2_decay should be <= 0 but is: {beta2_decay}')
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f'epsilon1 should be >= 0 but is: {eps[0]}')
        if not 0.0 <= eps[1]:
            raise ValueError(f'epsilon2 should be >= 0 but is: {eps[1]}')
        if not 1.0 <= d:
            raise ValueError(f'Clipping threshold d should be >= 1 but is: {d}')
        if not 0.0 <= weight_decay:
            raise ValueError(f'weight_decay should be >= 0 but is: {weight_decay}')
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault('foreach', None)
            _steps_as_tensors(self.state, group)

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            _adafactor_group(self.state, group)
        return loss


def _adafactor_state(state, p):
    """Step counter and either row/column variance factors (matrices and above) or a full variance."""
    st = state[p]
    if len(st) == 0:
        st['step'] = _step_tensor()
        ga = p._grad._data
        if ga.ndim > 1:
            st['row_var'] = Tensor._make(np.zeros(ga.shape[:-1] + (1,), ga.dtype))
            st['col_var'] = Tensor._make(np.zeros(ga.shape[:-2] + (1,) + ga.shape[-1:], ga.dtype))
        else:
            st['variance'] = Tensor._make(np.zeros_like(ga))
    return st


def _norm(a, axis=None):
    """The 2-norm in the array's dtype (over ``axis``, keeping it)."""
    return np.sqrt(np.sum(a * a, axis=axis, keepdims=axis is not None, dtype=a.dtype))


def _adafactor_group(state, group):
    """Update every param of ``group`` that has a gradient (PyTorch's single-tensor loop)."""
    lr, beta2_decay, (eps1, eps2) = _scalar(group['lr']), group['beta2_decay'], group['eps']
    d, wd = group['d'], group['weight_decay']
    for p in group['params']:
        if p._grad is None:
            continue
        st = _adafactor_state(state, p)
        pa, ga = p._data, p._grad._data
        if group['maximize']:
            ga = np.negative(ga)
        if eps1 is None:
            eps1 = float(np.finfo(pa.dtype).eps)
        st['step']._data += 1
        step = float(st['step']._data)
        one_minus_beta2_t = step ** beta2_decay
        rho_t = min(lr, 1 / (step ** 0.5))
        alpha = max(eps2, float(_norm(pa)) / (pa.size ** 0.5)) * rho_t
        if wd != 0:
            np.multiply(pa, 1 - lr * wd, out=pa)
        if ga.ndim > 1:
            row_var, col_var = st['row_var']._data, st['col_var']._data
            row_mean = _norm(ga, -1) ** 2 / ga.shape[-1]
            _lerp(row_var, row_mean, one_minus_beta2_t, np.empty_like(row_var))
            col_mean = _norm(ga, -2) ** 2 / ga.shape[-2]
            _lerp(col_var, col_mean, one_minus_beta2_t, np.empty_like(col_var))
            var_estimate = row_var @ col_var
            var_estimate /= np.maximum(row_var.mean(axis=-2, keepdims=True, dtype=pa.dtype), eps1)
        else:
            variance = st['variance']._data
            _lerp(variance, np.multiply(ga, ga, out=np.empty_like(pa)), one_minus_beta2_t, np.empty_like(pa))
            var_estimate = variance.copy()
        update = 1 / np.sqrt(np.maximum(var_estimate, eps1 * eps1, dtype=pa.dtype))
        update = np.multiply(update, ga, dtype=pa.dtype)
        denom = max(1.0, float(_norm(update)) / ((update.size ** 0.5) * d))
        np.add(pa, np.multiply(update, -alpha / denom, dtype=pa.dtype), out=pa)
        p._bump()
