"""SparseAdam: Adam for sparse-layout gradients; ember has no sparse tensors, so it refuses dense ones."""
from ._checks import check_betas, check_lr
from .optimizer import Optimizer, _closure_loss, _no_grad_step

__all__ = ['SparseAdam']


class SparseAdam(Optimizer):
    """Adam masked to the entries of sparse gradients (``nn.Embedding(sparse=True)``); a dense gradient
    raises PyTorch's error, and ember produces no sparse gradients yet."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        check_lr(lr, positive=True)
        if not 0.0 < eps:
            raise ValueError(f'Invalid epsilon value: {eps}')
        check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    @_no_grad_step
    def step(self, closure=None):
        """Refuse dense gradients as PyTorch does (every gradient ember computes is dense)."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            if any(p._grad is not None for p in group['params']):
                raise RuntimeError('SparseAdam does not support dense gradients, please consider Adam instead')
        return loss
