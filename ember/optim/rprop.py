"""Rprop: resilient backpropagation, per-coordinate step sizes adapted from the gradient's sign."""
import numpy as np

from ..tensor import Tensor
from ._checks import check_lr
from .adam import _steps_as_tensors
from .optimizer import (_as_real, Optimizer, _fill_group_flags, _functional_checks, _no_grad_step, _step_groups,
                        _scalar, _step_tensor)

__all__ = ['Rprop', 'rprop']


class Rprop(Optimizer):
    """Implements the resilient backpropagation algorithm (PyTorch's Rprop-, without weight backtracking)."""
    _sparse_error = 'Rprop does not support sparse gradients'   # raised for a sparse gradient

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f'Invalid eta values: {etas[0]}, {etas[1]}')
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        _fill_group_flags(self)
        for group in self.param_groups:
            _steps_as_tensors(self.state, group)

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        return _step_groups(self, closure, _rprop_group)


def _rprop_group(state, group):
    """Update every param of ``group`` that has a gradient (through ``rprop``, PyTorch's functional form)."""
    params, grads, prevs, step_sizes, steps = [], [], [], [], []
    for p in group['params']:
        if p._grad is None:
            continue
        st = state[p]
        if len(st) == 0:
            st['step'] = _step_tensor()
            st['prev'] = Tensor._make(np.zeros_like(p._data))
            lr = _scalar(group['lr'])   # a complex param's parts are two real entries: each starts at lr
            st['step_size'] = Tensor._make(np.full_like(p._grad._data, complex(lr, lr) if p.is_complex() else lr))
        params.append(p)
        grads.append(p._grad)
        prevs.append(st['prev'])
        step_sizes.append(st['step_size'])
        steps.append(st['step'])
    (etaminus, etaplus), (step_size_min, step_size_max) = group['etas'], group['step_sizes']
    rprop(params, grads, prevs, step_sizes, steps, maximize=group['maximize'], step_size_min=step_size_min,
          step_size_max=step_size_max, etaminus=etaminus, etaplus=etaplus)


def rprop(params, grads, prevs, step_sizes, state_steps, foreach=None, capturable=False, maximize=False,
          differentiable=False, has_complex=False, *, step_size_min, step_size_max, etaminus, etaplus):
    """PyTorch's functional Rprop (torch.optim.rprop.rprop): one step of each param and its state."""
    _functional_checks(None, differentiable)
    for p, g, prev_t, size_t, s_t in zip(params, grads, prevs, step_sizes, state_steps):
        pa, ga = _as_real(p._data), _as_real(g._data)
        if maximize:
            ga = np.negative(ga)
        s_t._data += 1
        prev, step_size = _as_real(prev_t._data), _as_real(size_t._data)
        sign = np.sign(np.multiply(ga, prev, dtype=pa.dtype))
        factor = np.where(sign > 0, sign.dtype.type(etaplus), sign)
        factor[sign < 0] = etaminus
        factor[sign == 0] = 1
        np.multiply(step_size, factor, out=step_size)
        np.clip(step_size, step_size_min, step_size_max, out=step_size)
        ga = np.array(ga, copy=True)
        ga[factor == factor.dtype.type(etaminus)] = 0
        np.add(pa, np.multiply(np.sign(ga), -1, dtype=pa.dtype) * step_size, out=pa)
        np.copyto(prev, ga)
        p._bump()
