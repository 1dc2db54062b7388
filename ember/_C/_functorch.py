"""``torch._C._functorch``: functorch's wrapper-tensor queries, which libraries import at load time (tensordict's
``is_batchedtensor``). ember's transforms hand the mapped function plain tensors, never wrappers, so each query
answers as PyTorch's does for a plain tensor, and the calls that make or unwrap a wrapper refuse."""
from ..aliasing import unsupported_function
from ..tensor import Tensor


def _query(name, answer):
    def query(tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f'{name}(): incompatible function arguments. The following argument types are supported:'
                            f'\n    1. (arg0: torch.Tensor) -> {type(answer).__name__}\n\nInvoked with: {tensor!r}')
        return answer
    query.__name__ = query.__qualname__ = name
    query.__doc__ = f'PyTorch\'s answer for a plain tensor ({answer!r}): ember makes no functorch wrapper tensors.'
    return query


is_batchedtensor = _query('is_batchedtensor', False)
is_gradtrackingtensor = _query('is_gradtrackingtensor', False)
is_functionaltensor = _query('is_functionaltensor', False)
is_functorch_wrapped_tensor = _query('is_functorch_wrapped_tensor', False)
maybe_get_level = _query('maybe_get_level', -1)

_WHY = "ember's vmap and grad run the function on plain tensors and make no functorch wrappers"
_add_batch_dim = unsupported_function('torch._C._functorch._add_batch_dim', _WHY)
_remove_batch_dim = unsupported_function('torch._C._functorch._remove_batch_dim', _WHY)
get_unwrapped = unsupported_function('torch._C._functorch.get_unwrapped', _WHY)


def __getattr__(name):
    from ..aliasing import missing_attribute
    missing_attribute(__name__, name)
