"""Adafactor: Adam-like steps with a factored (row and column) second-moment estimate for matrices."""
import numpy as np

from ..tensor import Tensor
from .adam import _steps_as_tensors
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


def _adafactor_group(state, group):
    """Update every param of ``group`` that has a gradient (PyTorch's single-tensor loop). The update runs on
    ember's ops (norm, lerp_, rsqrt_, add_ with alpha), whose reduction orders and fused steps are PyTorch's:
    NumPy's pairwise sums and a separate multiply and add had the row variances of a 3-d param 1 ulp off."""
    lr, beta2_decay, (eps1, eps2) = _scalar(group['lr']), group['beta2_decay'], group['eps']
    d, wd = group['d'], group['weight_decay']
    params = [p for p in group['params'] if p._grad is not None]
    if any(p.is_complex() for p in params):   # checked before any param moves, as PyTorch's _init_group
        raise RuntimeError('Adafactor does not support complex parameters')
    for p in params:
        st = _adafactor_state(state, p)
        grad = -p._grad if group['maximize'] else p._grad
        if eps1 is None:
            eps1 = float(np.finfo(p._data.dtype).eps)
        st['step']._data += 1
        step = float(st['step']._data)
        one_minus_beta2_t = step ** beta2_decay
        rho_t = min(lr, 1 / (step ** 0.5))
        alpha = max(eps2, p.norm(2).item() / (p.numel() ** 0.5)) * rho_t
        if wd != 0:
            p.mul_(1 - lr * wd)
        if grad.dim() > 1:
            row_var, col_var = st['row_var'], st['col_var']
            row_var.lerp_(grad.norm(dim=-1, keepdim=True).square_().div_(grad.size(-1)), one_minus_beta2_t)
            col_var.lerp_(grad.norm(dim=-2, keepdim=True).square_().div_(grad.size(-2)), one_minus_beta2_t)
            var_estimate = row_var @ col_var
            var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
        else:
            variance = st['variance']
            variance.lerp_(grad * grad, one_minus_beta2_t)
            var_estimate = variance.clone()
        update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
        update.mul_(grad)
        denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
        if group['foreach']:    # PyTorch's _foreach_ form: the update scaled (rounded), then added
            p.add_(update.mul_(-alpha / denom))
        else:
            p.add_(update, alpha=-alpha / denom)
