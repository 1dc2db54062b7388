"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _closure_loss, _no_grad_step, _scalar

__all__ = ['SGD']


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum), PyTorch's formulation."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if hasattr(lr, 'numel') and lr.numel() != 1:
            raise ValueError('Tensor lr must be 1-element')
        if lr < 0.0:
            raise ValueError(f'Invalid learning rate: {lr}')
        if momentum < 0.0:
            raise ValueError(f'Invalid momentum value: {momentum}')
        if weight_decay < 0.0:
            raise ValueError(f'Invalid weight_decay value: {weight_decay}')
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError('Nesterov momentum requires a momentum and zero dampening')
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError('`fused` does not support `differentiable`')
            if foreach:
                raise RuntimeError('`fused` and `foreach` cannot be `True` together.')

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault('nesterov', False)
            group.setdefault('maximize', False)
            group.setdefault('foreach', None)
            group.setdefault('differentiable', False)
            group.setdefault('fused', False)

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            _sgd_group(self.state, group)
        return loss


def _sgd_group(state, group):
    """Update every param of ``group`` that has a gradient (the single-tensor loop of PyTorch)."""
    lr, wd, momentum = _scalar(group['lr']), group['weight_decay'], group['momentum']
    dampening, nesterov, maximize = group['dampening'], group['nesterov'], group['maximize']
    for p in group['params']:
        g = p._grad
        if g is None:
            continue
        pa, ga = p._data, g._data
        tmp = None      # a temporary this step made, reused for the update (one allocation, not three)
        if maximize:
            ga = np.negative(ga)
        if wd != 0:
            tmp = np.multiply(pa, wd, out=np.empty_like(pa))
            ga = np.add(tmp, ga, out=tmp)
        if momentum != 0:
            ga = _momentum(state[p], ga, momentum, dampening, nesterov)
        upd = np.multiply(ga, -lr, dtype=pa.dtype, out=tmp)
        np.add(pa, upd, out=pa)
        p._bump()


def _momentum(st, ga, momentum, dampening, nesterov):
    """Update the momentum buffer in ``st`` (a clone of the gradient on the first step); the step direction."""
    buf = st.get('momentum_buffer')
    if buf is None:
        buf = st['momentum_buffer'] = Tensor._make(np.array(ga, copy=True))
        ba = buf._data
    else:
        ba = buf._data
        np.multiply(ba, momentum, out=ba)
        if dampening == 0:
            np.add(ba, ga, out=ba)
        else:
            np.add(ba, np.multiply(ga, 1 - dampening, dtype=ba.dtype), out=ba)
    if nesterov:
        return np.multiply(ba, momentum, dtype=ba.dtype) + ga
    return ba
