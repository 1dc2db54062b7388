"""PyTorch's accelerator error classes (``torch.OutOfMemoryError``, ``torch.AcceleratorError``; torch.cuda has the
same classes): ember raises neither, having no accelerator, but programs name them in ``except`` clauses."""

__all__ = ['OutOfMemoryError', 'AcceleratorError']


class OutOfMemoryError(RuntimeError):
    """An accelerator's allocation failed (PyTorch's CUDA out-of-memory error)."""


class AcceleratorError(RuntimeError):
    """An accelerator reported an error (PyTorch's CUDA runtime error)."""


OutOfMemoryError.__module__ = AcceleratorError.__module__ = 'torch'   # how PyTorch's classes print in tracebacks
