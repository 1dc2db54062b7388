"""Gradient clipping: rescale all gradients so their total norm is at most ``max_norm``, or clamp them."""
import math

import numpy as np

from ...tensor import Tensor

__all__ = ['clip_grad_norm_', 'clip_grad_norm', 'clip_grad_value_', 'get_total_norm', 'clip_grads_with_norm_']


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p._grad for p in parameters if p._grad is not None]


def _dense_only(tensors, op):
    """PyTorch's error for a norm or clamp of a sparse gradient (nn.Embedding(sparse=True)'s): those kernels
    have no sparse version."""
    if any(t.is_sparse for t in tensors):
        raise NotImplementedError(f"Could not run 'aten::{op}' with arguments from the 'SparseCPU' backend. This "
                                  "could be because the operator doesn't exist for this backend")


def _norm(a, norm_type):
    a = a.reshape(-1)
    if norm_type == math.inf:
        return np.abs(a).max() if a.size else np.zeros((), a.dtype)
    if norm_type == -math.inf:
        return np.abs(a).min() if a.size else np.zeros((), a.dtype)
    if norm_type == 2:
        return np.sqrt(np.dot(a, a))
    if norm_type == 0:
        return np.asarray((a != 0).sum(), a.dtype)
    return (np.abs(a) ** norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all the tensors together (as if concatenated), as a 0-d tensor."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = [t for t in tensors if t is not None]
    norm_type = float(norm_type)
    _dense_only(tensors, 'linalg_vector_norm')
    if not tensors:
        return Tensor._make(np.zeros((), np.float32))
    dtype = tensors[0]._data.dtype
    norms = np.array([_norm(t._data, norm_type) for t in tensors], dtype=dtype)
    total = np.asarray(_norm(norms, norm_type), dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f'The total norm of order {norm_type} for gradients from `parameters` is non-finite, '
                           'so it cannot be clipped. To disable this error and scale the gradients by the '
                           'non-finite norm anyway, set `error_if_nonfinite=False`')
    return Tensor._make(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by max_norm / (total_norm + 1e-6) when that is below 1."""
    grads = _grads(parameters)
    if not grads:
        return
    tn = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    coef = float(_clip_coef(tn, max_norm))
    for g in grads:
        if g.is_sparse:     # reached through clip_grads_with_norm_ alone (a norm of a sparse gradient raises)
            g.mul_(coef)
            continue
        g._data *= g._data.dtype.type(coef)
        g._bump()


def _clip_coef(tn, max_norm):
    """min(max_norm / (tn + 1e-6), 1) in the norm's dtype, as PyTorch's tensor arithmetic computes it: its
    ``number / tensor`` is ``tensor.reciprocal() * number``, each step rounded (a float64 quotient rounded once
    differed in the last bit for 24% of float32 norms)."""
    dt = tn.dtype if tn.dtype.kind == 'f' and tn.dtype.itemsize >= 4 else np.dtype(np.float32)
    t = dt.type(tn)
    with np.errstate(divide='ignore', over='ignore', invalid='ignore'):
        return np.minimum(np.reciprocal(t + dt.type(1e-6)) * dt.type(max_norm), dt.type(1.0))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients of ``parameters`` in place so their total norm is at most ``max_norm``;
    returns the total norm before clipping."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of ``clip_grad_norm_``."""
    import warnings
    warnings.warn('`torch.nn.utils.clip_grad_norm` is now deprecated in favor of '
                  '`torch.nn.utils.clip_grad_norm_`.', FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient of ``parameters`` into [-clip_value, clip_value] in place."""
    c = float(clip_value)
    grads = _grads(parameters)
    _dense_only(grads, 'clamp_' if foreach is False else 'clamp_min_')     # PyTorch's foreach path by default
    for g in grads:
        np.clip(g._data, -c, c, out=g._data)
        g._bump()
