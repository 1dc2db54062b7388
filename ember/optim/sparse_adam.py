"""SparseAdam: Adam masked to the entries of sparse gradients (``nn.Embedding(sparse=True)``'s), PyTorch's
algorithm (torch.optim._functional.sparse_adam): only the rows a gradient names are read and written."""
import math

import numpy as np

from ..ops._vml_sqrt import sqrt as _sqrt
from ..tensor import Tensor
from ._checks import check_betas, check_lr
from .optimizer import Optimizer, _closure_loss, _no_grad_step, _scalar

__all__ = ['SparseAdam']


class SparseAdam(Optimizer):
    """Adam on sparse gradients: the moments and the parameter change at the gradient's coalesced indices only;
    a dense gradient raises PyTorch's error."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        check_lr(lr, positive=True)
        if not 0.0 < eps:
            raise ValueError(f'Invalid epsilon value: {eps}')
        check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        where = {'Sparse': [], 'Complex': []}
        for i, group in enumerate(self.param_groups):
            for j, p in enumerate(group['params']):
                if p.is_sparse:
                    where['Sparse'].append([i, j])
                if p.is_complex():
                    where['Complex'].append([i, j])
        if where['Sparse']:
            raise ValueError(f"Sparse params at indices {where['Sparse']}: SparseAdam requires dense parameter "
                             'tensors')
        if where['Complex']:
            raise ValueError(f"Complex params at indices {where['Complex']}: SparseAdam does not support complex "
                             'parameters')

    @_no_grad_step
    def step(self, closure=None):
        """One step of every param with a (sparse) gradient; a dense gradient raises PyTorch's error once the
        params before it in its group have counted the step, as PyTorch's loop does."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            todo = []
            for p in group['params']:
                g = p._grad
                if g is None:
                    continue
                if not g.is_sparse:
                    raise RuntimeError('SparseAdam does not support dense gradients, please consider Adam instead')
                st = self.state[p]
                if len(st) == 0:
                    st['step'] = 0
                    st['exp_avg'] = Tensor._make(np.zeros_like(p._data))
                    st['exp_avg_sq'] = Tensor._make(np.zeros_like(p._data))
                st['step'] += 1
                todo.append((p, g, st))
            beta1, beta2 = group['betas']
            for p, g, st in todo:
                _update(p, g, st, _scalar(group['lr']), beta1, beta2, group['eps'], group.get('maximize', False))
        return loss


def _update(p, g, st, lr, beta1, beta2, eps, maximize):
    """PyTorch's sparse_adam on one param: the coalesced gradient's rows of both moments move by (1 - beta) of
    the difference, and the param by the bias-corrected ratio, each operation in the param's dtype."""
    g = (-g if maximize else g).coalesce()
    gv = g._vals
    if gv.size == 0:
        return
    at = tuple(g._idx)
    m, v, pa = st['exp_avg']._data, st['exp_avg_sq']._data, p._data
    old_m = m[at]
    upd_m = np.multiply(gv - old_m, 1 - beta1, dtype=pa.dtype)
    m[at] += upd_m
    old_v = v[at]
    upd_v = np.multiply(gv * gv - old_v, 1 - beta2, dtype=pa.dtype)
    v[at] += upd_v
    numer = upd_m + old_m
    denom = _sqrt(upd_v + old_v) + pa.dtype.type(eps)
    step = st['step']
    step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    pa[at] += np.multiply(numer / denom, -step_size, dtype=pa.dtype)
    st['exp_avg']._bump()
    st['exp_avg_sq']._bump()
    p._bump()
