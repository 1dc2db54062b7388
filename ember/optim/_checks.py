"""Constructor checks shared by the optimizers, with PyTorch's messages."""

__all__ = ['check_lr', 'check_nonnegative', 'check_betas']


def check_lr(lr, positive=False):
    """A 1-element learning rate, non-negative (strictly positive for SparseAdam)."""
    if hasattr(lr, 'numel') and lr.numel() != 1:
        raise ValueError('Tensor lr must be 1-element')
    if not (0.0 < lr if positive else 0.0 <= lr):
        raise ValueError(f'Invalid learning rate: {lr}')


def check_nonnegative(**values):
    """``eps=1e-8, weight_decay=0`` -> PyTorch's 'Invalid epsilon value: ...' for negative ones."""
    names = {'eps': 'epsilon'}
    for name, value in values.items():
        if not 0.0 <= value:
            raise ValueError(f'Invalid {names.get(name, name)} value: {value}')


def check_betas(betas):
    """Both betas in [0, 1)."""
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f'Invalid beta parameter at index {i}: {betas[i]}')
