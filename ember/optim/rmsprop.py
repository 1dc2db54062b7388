"""RMSprop: divide the gradient by a running average of its magnitude (optionally centered, with momentum)."""
import numpy as np

from ..ops._vml_sqrt import sqrt as _sqrt
from ..tensor import Tensor
from .adam import _lerp, _steps_as_tensors
from .optimizer import (_with_decay, _addcmul_, _as_real, Optimizer, _closure_loss, _functional_checks, _no_grad_step,
                        _scalar, _step_tensor)
from .sgd import _add_alpha

__all__ = ['RMSprop', 'rmsprop']


class RMSprop(Optimizer):
    """Implements the RMSprop algorithm as PyTorch does (eps added outside the square root)."""
    _sparse_error = 'RMSprop does not support sparse gradients'   # raised for a sparse gradient

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if hasattr(lr, 'numel') and lr.numel() != 1:
            raise ValueError('Tensor lr must be 1-element')
        for name, value in (('learning rate', lr), ('epsilon value', eps), ('momentum value', momentum),
                            ('weight_decay value', weight_decay), ('alpha value', alpha)):
            if not 0.0 <= value:
                raise ValueError(f'Invalid {name}: {value}')
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (('momentum', 0), ('centered', False), ('foreach', None), ('maximize', False),
                               ('differentiable', False), ('capturable', False)):
                group.setdefault(key, value)
            _steps_as_tensors(self.state, group)

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            _rmsprop_group(self.state, group)
        return loss


def _rmsprop_state(state, p, group):
    """The param's state, created on its first step."""
    st = state[p]
    if len(st) == 0:
        st['step'] = _step_tensor()
        st['square_avg'] = Tensor._make(np.zeros_like(p._data))
        if group['momentum'] > 0:
            st['momentum_buffer'] = Tensor._make(np.zeros_like(p._data))
        if group['centered']:
            st['grad_avg'] = Tensor._make(np.zeros_like(p._data))
    return st


def _rmsprop_group(state, group):
    """Update every param of ``group`` that has a gradient (through ``rmsprop``, PyTorch's functional form)."""
    params, grads, square_avgs, grad_avgs, bufs, steps = [], [], [], [], [], []
    for p in group['params']:
        if p._grad is None:
            continue
        st = _rmsprop_state(state, p, group)
        params.append(p)
        grads.append(p._grad)
        square_avgs.append(st['square_avg'])
        steps.append(st['step'])
        if group['momentum'] > 0:
            bufs.append(st['momentum_buffer'])
        if group['centered']:
            grad_avgs.append(st['grad_avg'])
    rmsprop(params, grads, square_avgs, grad_avgs, bufs, steps, foreach=group['foreach'], maximize=group['maximize'],
            lr=group['lr'], alpha=group['alpha'], eps=group['eps'], weight_decay=group['weight_decay'],
            momentum=group['momentum'], centered=group['centered'])


def rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffer_list, state_steps, foreach=None, maximize=False,
            differentiable=False, capturable=False, has_complex=False, *, lr, alpha, eps, weight_decay, momentum,
            centered):
    """PyTorch's functional RMSprop (torch.optim.rmsprop.rmsprop): one step of each param and its state
    (``grad_avgs`` used when centered, ``momentum_buffer_list`` when momentum > 0)."""
    _functional_checks(None, differentiable)
    lr, wd = _scalar(lr), weight_decay
    for i, (p, g, sq_t, s_t) in enumerate(zip(params, grads, square_avgs, state_steps)):
        pa, ga = _as_real(p._data), _as_real(g._data)
        if maximize:
            ga = np.negative(ga)
        s_t._data += 1
        if wd != 0:
            ga = _with_decay(ga, pa, wd, p._data.dtype.kind == 'c' and not foreach)
        sq = _as_real(sq_t._data)
        np.multiply(sq, alpha, out=sq)
        tmp = np.empty_like(pa)
        _addcmul_(sq, ga, ga, 1 - alpha, tmp)
        if centered:
            ga_avg = _as_real(grad_avgs[i]._data)
            _lerp(ga_avg, ga, 1 - alpha, tmp)
            avg = sq.copy()
            _addcmul_(avg, ga_avg, ga_avg, -1, tmp)
            avg = _sqrt(avg, out=avg)
        else:
            avg = _sqrt(sq, out=tmp)
        np.add(avg, eps, out=avg)
        if momentum > 0:
            buf = _as_real(momentum_buffer_list[i]._data)
            np.multiply(buf, momentum, out=buf)
            np.add(buf, np.divide(ga, avg, out=avg), out=buf)
            _add_alpha(pa, buf, -lr)                  # param.add_(buf, alpha=-lr): one fused multiply-add
        else:
            upd = np.multiply(ga, -lr, out=np.empty_like(pa))
            np.add(pa, np.divide(upd, avg, out=upd), out=pa)
        p._bump()