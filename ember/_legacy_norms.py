"""The norms PyTorch keeps at the top level for old code and TorchScript: ``torch.norm_except_dim`` (weight norm's
helper), ``torch.frobenius_norm`` and ``torch.nuclear_norm`` (both deprecated in favour of ``torch.linalg``).
Their graphs are PyTorch's: the norm is one NormBackward0/NormBackward1 node (see ``ops._composite``)."""
import warnings

from .ops import _composite, vector_norm
from .ops._util import check_tensor_args

NormBackward0 = _composite.node_class('NormBackward0', result=True)
NormBackward1 = _composite.node_class('NormBackward1', result=True)
_WARNED = set()   # PyTorch warns once per process (TORCH_WARN_ONCE)


def _warn_once(name, instead):
    if name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(f'at::{name} is deprecated and it is just left for JIT compatibility. It will be removed in a '
                      f'future PyTorch release. Please use `{instead}` instead', UserWarning, stacklevel=3)


def _norm1(x, p, dim, keepdim=False):
    """``x.norm(p, dim, keepdim)`` recorded as PyTorch's NormBackward1."""
    return _composite.composite(NormBackward1, vector_norm, (x,), ord=p, dim=dim, keepdim=keepdim)


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dim but ``dim``, shaped to broadcast against ``v`` (size 1 in the
    others); ``dim=-1`` is the norm of all of ``v``. ``pow`` is an int (PyTorch's schema)."""
    try:
        if not isinstance(pow, int):
            raise TypeError(f"norm_except_dim(): argument 'pow' (position 2) must be int, not {type(pow).__name__}")
        if dim == -1:
            return _composite.composite(NormBackward0, vector_norm, (v,), ord=pow)
        ones = [1] * (v.dim() - 1)
        if dim == 0:
            return _norm1(v.contiguous().view(v.size(0), -1), pow, 1).view([v.size(0)] + ones)
        if dim == v.dim() - 1:
            return _norm1(v.contiguous().view(-1, v.size(-1)), pow, 0).view(ones + [v.size(-1)])
        return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)
    except (AttributeError, TypeError):
        check_tensor_args('norm_except_dim', 'v')
        raise


def frobenius_norm(input, dim, keepdim=False):
    """The 2-norm over at most two dims (``dim=()``: all of them)."""
    try:
        dim = [dim] if isinstance(dim, int) else list(dim)
        if len(dim) > 2:
            raise RuntimeError(f'Expected at most 2 dimensions, but got {len(dim)} dimensions instead.')
        _warn_once('frobenius_norm', 'linalg.vector_norm(A, 2., dim, keepdim)')
        return _norm1(input, 2, dim, keepdim)
    except (AttributeError, TypeError):
        check_tensor_args('frobenius_norm', 'input')
        raise


def nuclear_norm(input, dim=None, keepdim=False):
    """The sum of the singular values of the matrices over ``dim`` (default the last two); a bool second argument
    is ``keepdim``, as PyTorch's two overloads read it."""
    from . import linalg
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    _warn_once('nuclear_norm', "linalg.matrix_norm(A, 'nuc', dim, keepdim)")
    try:
        return linalg.matrix_norm(input, 'nuc', (-2, -1) if dim is None else tuple(dim), keepdim)
    except (AttributeError, TypeError):
        check_tensor_args('nuclear_norm', 'input')
        raise
