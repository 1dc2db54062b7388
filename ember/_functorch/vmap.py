"""``torch._functorch.vmap``: the helpers of PyTorch's vmap that libraries import or patch (tensordict, at load).
ember's vmap (``ember.func``) runs the function once per entry on plain slices and reads nothing here, so what
patches these names changes nothing; the calls that make or unwrap a batched tensor refuse."""
import functools

from .._C._functorch import _add_batch_dim, _remove_batch_dim, is_batchedtensor  # noqa: F401 (torch's names)
from ..tensor import Tensor  # noqa: F401 (torch's name)
from ..utils._pytree import _broadcast_to_and_flatten, tree_flatten, tree_unflatten  # noqa: F401 (torch's names)


def _get_name(func):
    """``func``'s name as vmap's errors print it."""
    if hasattr(func, '__name__'):
        return func.__name__
    if isinstance(func, functools.partial):
        return f'functools.partial({_get_name(func.func)}, ...)'
    return repr(func)


def _maybe_remove_batch_dim(name, batched_output, vmap_level, batch_size, out_dim):
    """One output of the mapped function with its batch dimension moved to ``out_dim``: PyTorch's checks, then the
    refused unwrapping (ember makes no batched tensors)."""
    if out_dim is None:
        return batched_output
    if not isinstance(batched_output, Tensor):
        raise ValueError(f'vmap({name}, ...): `{name}` must only return Tensors, got type {type(batched_output)}. '
                         'Did you mean to set out_dims= to None for output?')
    return _remove_batch_dim(batched_output, vmap_level, batch_size, out_dim)


def __getattr__(name):
    from ..aliasing import missing_attribute
    missing_attribute(__name__, name)
