"""Flatten parameters into one vector and write a vector back into parameters."""
from ... import ops
from ...tensor import Tensor

__all__ = ['parameters_to_vector', 'vector_to_parameters']


def parameters_to_vector(parameters):
    """One 1-D tensor holding every parameter, flattened, in order (differentiable)."""
    return ops.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of ``vec`` into the parameters' data (replacing their arrays)."""
    if not isinstance(vec, Tensor):
        from ..modules.module import _typename
        raise TypeError(f'expected torch.Tensor, but got: {_typename(vec)}')
    pointer = 0
    for param in parameters:
        n = param.numel()
        param._data = vec._data[pointer:pointer + n].reshape(param._data.shape)
        pointer += n
