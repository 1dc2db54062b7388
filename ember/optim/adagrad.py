"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""
import numpy as np

from .. import _sparse
from ..ops._vml_sqrt import sqrt as _sqrt
from ..tensor import Tensor
from .optimizer import (_with_decay, _addcmul_, _as_real, Optimizer, _closure_loss, _functional_checks, _no_grad_step,
                        _scalar, _step_tensor)

__all__ = ['Adagrad', 'adagrad']


class Adagrad(Optimizer):
    """Implements the Adagrad algorithm (state is created for every param at construction, as in PyTorch)."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if hasattr(lr, 'numel') and lr.numel() != 1:
            raise ValueError('Tensor lr must be 1-element')
        for name, value in (('learning rate', lr), ('lr_decay value', lr_decay),
                            ('weight_decay value', weight_decay),
                            ('initial_accumulator_value value', initial_accumulator_value),
                            ('epsilon value', eps)):
            if not 0.0 <= value:
                raise ValueError(f'Invalid {name}: {value}')
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError('`fused` does not support `differentiable`')
            if foreach:
                raise RuntimeError('`fused` and `foreach` cannot be `True` together.')
        for group in self.param_groups:
            for p in group['params']:
                _init_state(self.state[p], p, initial_accumulator_value)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (('foreach', None), ('maximize', False), ('differentiable', False),
                               ('fused', None)):
                group.setdefault(key, value)
        for st in self.state.values():
            if st and 'step' in st and not hasattr(st['step'], '_data'):
                st['step'] = _step_tensor(float(st['step']))

    def share_memory(self):
        """No-op: NumPy arrays are not shared across processes."""

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            _adagrad_group(self.state, group, self.defaults['initial_accumulator_value'])
        return loss


def _init_state(st, p, initial_accumulator_value):
    """A zero step counter and the squared-gradient sum filled with the initial accumulator value (a complex
    param's in both its real and imaginary parts, as PyTorch fills it, since its steps run on the real view)."""
    st['step'] = _step_tensor()
    value = initial_accumulator_value
    if p._data.dtype.kind == 'c':
        value = complex(value, value)
    st['sum'] = Tensor._make(np.full_like(p._data, value))


def _adagrad_group(state, group, initial_accumulator_value):
    """Update every param of ``group`` that has a gradient (through ``adagrad``, PyTorch's functional form)."""
    params, grads, sums, steps = [], [], [], []
    for p in group['params']:
        if p._grad is None:
            continue
        st = state[p]
        if len(st) == 0:
            _init_state(st, p, initial_accumulator_value)
        params.append(p)
        grads.append(p._grad)
        sums.append(st['sum'])
        steps.append(st['step'])
    if group.get('fused') and any(g.is_sparse for g in grads):
        raise RuntimeError('`fused` does not support sparse grad or complex param')
    adagrad(params, grads, sums, steps, fused=group.get('fused'), foreach=group.get('foreach'), lr=group['lr'],
            weight_decay=group['weight_decay'], lr_decay=group['lr_decay'], eps=group['eps'],
            maximize=group['maximize'])


def adagrad(params, grads, state_sums, state_steps, fused=None, grad_scale=None, found_inf=None,
            has_sparse_grad=False, foreach=None, differentiable=False, has_complex=False, *, lr, weight_decay,
            lr_decay, eps, maximize):
    """PyTorch's functional Adagrad (torch.optim.adagrad.adagrad): one step of each param and its state (``fused``:
    as PyTorch's fused CPU kernel, the same roundings with IEEE's sqrt, its Vectorized sqrt, instead of MKL's)."""
    sqrt = np.sqrt if fused else _sqrt
    _functional_checks(state_steps, differentiable)
    lr, wd = _scalar(lr), weight_decay
    for p, g, sum_t, s_t in zip(params, grads, state_sums, state_steps):
        step_arr = s_t._data
        step_arr += 1
        step = float(step_arr)
        if g.is_sparse:
            _sparse_update(p, g, sum_t, lr / (1 + (step - 1) * lr_decay), wd, eps, maximize)
            continue
        pa, ga = _as_real(p._data), _as_real(g._data)
        if maximize:
            ga = np.negative(ga)
        if wd != 0:
            ga = _with_decay(ga, pa, wd, p._data.dtype.kind == 'c' and not foreach)
        clr = lr / (1 + (step - 1) * lr_decay)
        acc = _as_real(sum_t._data)
        tmp = np.empty_like(pa)
        _addcmul_(acc, ga, ga, 1, tmp)
        std = sqrt(acc, out=np.empty_like(pa))
        np.add(std, eps, out=std)
        np.multiply(ga, -clr, out=tmp)
        np.add(pa, np.divide(tmp, std, out=tmp), out=pa)
        p._bump()

def _sparse_update(p, g, sum_t, clr, wd, eps, maximize):
    """PyTorch's Adagrad step on a sparse gradient: coalesced, its squares added into the sum's rows, and the
    param's rows moved by -clr * grad / (sqrt(sum) + eps); weight decay raises PyTorch's error."""
    if maximize:
        g = -g
    if wd != 0:
        raise RuntimeError('weight_decay option is not compatible with sparse gradients')
    g = g.coalesce()
    at, gv = tuple(g._idx), g._vals
    acc, pa = sum_t._data, p._data
    acc[at] += gv * gv
    std = _sqrt(acc[at]) + acc.dtype.type(eps)
    _sparse.fused_add_at(pa, at, gv / std, -clr)
    sum_t._bump()
    p._bump()
