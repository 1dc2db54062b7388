"""Muon: momentum SGD whose 2-D updates are orthogonalized by a Newton-Schulz iteration run in bfloat16,
as PyTorch runs it (the iteration rounds float32 values to bfloat16 after each operation, on plain
float32 arrays rather than ember's bf16 tensors; measured bit-equal to PyTorch's CPU iteration on 4x6 to 64x48 matrices, up to
float32 summation order in the largest)."""
import math

import numpy as np

from ..tensor import Tensor
from .adam import _lerp
from .optimizer import Optimizer, _closure_loss, _decay_, _no_grad_step, _scalar

__all__ = ['Muon']

EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5


class Muon(Optimizer):
    """Implements Muon for 2-D parameters (matrices); other parameters need another optimizer."""
    __module__ = 'ember.optim'   # where PyTorch's class says it lives (reprs, pickles)
    _sparse_error = 'Muon does not support sparse gradients'   # raised for a sparse gradient

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS, ns_steps=DEFAULT_NS_STEPS,
                 adjust_lr_fn=None):
        if hasattr(lr, 'numel') and lr.numel() != 1:
            raise ValueError('Tensor lr must be 1-element')
        if not 0.0 <= lr:
            raise ValueError(f'Learning rate should be >= 0 but is: {lr}')
        if not 0.0 <= momentum:
            raise ValueError(f'momentum should be >= 0 but is: {momentum}')
        if not 0.0 <= weight_decay:
            raise ValueError(f'weight decay should be >= 0 but is: {weight_decay}')
        if adjust_lr_fn is not None and adjust_lr_fn not in ['original', 'match_rms_adamw']:
            raise ValueError(f'Adjust learning rate function {adjust_lr_fn} is not supported')
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group['params']:
                if p.ndim != 2:
                    raise ValueError(f'Muon only supports 2D parameters whereas we found a parameter with size: '
                                     f'{p.size()}')

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            _muon_group(self.state, group)
        return loss


def _bf16(x):
    """Float32 values rounded to the nearest bfloat16 (ties to even), kept as float32."""
    u = np.ascontiguousarray(x, np.float32).view(np.uint32)
    r = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) & np.uint32(0xFFFF0000)
    return np.where(np.isnan(x), np.float32(np.nan), r.view(np.float32))


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """PyTorch's quintic Newton-Schulz orthogonalization of a 2-D gradient, in bfloat16 arithmetic."""
    if ns_steps >= 100:
        raise ValueError('Number of steps must be less than 100 for computational efficiency')
    if grad.ndim != 2:
        raise ValueError('Input tensor gradient must be a 2D matrix')
    if len(ns_coefficients) != 3:
        raise ValueError('Coefficients must be a tuple of exactly 3 values')
    a, b, c = (np.float32(v) for v in ns_coefficients)
    x = _bf16(grad.astype(np.float32))
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = _bf16(np.sqrt(np.sum(x * x, dtype=np.float32)))
    x = _bf16(x / np.maximum(norm, _bf16(np.float32(eps))))
    for _ in range(ns_steps):
        gram = _bf16(x @ x.T)
        update = _bf16(b * gram + c * (gram @ gram))
        x = _bf16(a * x + update @ x)
    return x.T if tall else x


def _adjust_lr(lr, adjust_lr_fn, param_shape):
    """The learning rate scaled for the matrix shape ('original' or 'match_rms_adamw')."""
    A, B = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == 'original':
        ratio = math.sqrt(max(1, A / B))
    elif adjust_lr_fn == 'match_rms_adamw':
        ratio = 0.2 * math.sqrt(max(A, B))
    else:
        ratio = 1.0
    return lr * ratio


def _muon_group(state, group):
    """Update every param of ``group`` that has a gradient (PyTorch's single-tensor loop)."""
    lr, wd, momentum = _scalar(group['lr']), group['weight_decay'], group['momentum']
    for p in group['params']:
        if p._grad is None:
            continue
        pa, ga = p._data, p._grad._data
        if ga.ndim != 2:
            raise ValueError('Param gradient must be a 2D matrix')
        st = state[p]
        if 'momentum_buffer' not in st:
            st['momentum_buffer'] = Tensor._make(np.zeros_like(ga))
        buf = st['momentum_buffer']._data
        _lerp(buf, ga, 1 - momentum, np.empty_like(buf))
        if group['nesterov']:
            update = ga.copy()
            _lerp(update, buf, momentum, np.empty_like(update))
        else:
            update = buf
        update = _zeropower_via_newtonschulz(update, group['ns_coefficients'], group['ns_steps'], group['eps'])
        adjusted_lr = _adjust_lr(lr, group['adjust_lr_fn'], pa.shape)
        _decay_(pa, lr, wd)
        np.add(pa, np.multiply(update.astype(pa.dtype), -adjusted_lr, dtype=pa.dtype), out=pa)
        p._bump()
