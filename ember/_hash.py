"""``torch.hash_tensor``: the xor of a tensor's elements (over some dims), each widened to its 64-bit float or
integer form and read as a uint64, as PyTorch's mode 0."""
import numpy as np

from . import _bf16
from ._dtype import scalar_name
from .ops._util import arg_error, wrap_dims
from .tensor import Tensor


def _words(a):
    """The elements as uint64 words: floats as float64 bits, signed integers sign-extended, the rest zero-extended."""
    if _bf16.is_bf16(a.dtype):
        a = _bf16.to_f32(a)
    if a.dtype.kind == 'c':
        raise NotImplementedError(f'"xor_sum_cpu" not implemented for \'{scalar_name(a.dtype)}\'')
    if a.dtype.kind == 'f':
        return a.astype(np.float64).view(np.uint64)
    return a.astype(np.int64).view(np.uint64) if a.dtype.kind == 'i' else a.astype(np.uint64)


def hash_tensor(input, dim=(), *, keepdim=False, mode=0):
    """The xor of ``input``'s elements as uint64 words, over ``dim`` (empty: all of them)."""
    if not isinstance(input, Tensor):
        raise arg_error('hash_tensor', 'input', 1, input)
    if mode != 0:
        raise RuntimeError(f'Unknown hash_tensor mode: {mode}')
    a = input._data
    every = dim is None or (not isinstance(dim, int) and not len(dim))
    dims = tuple(range(a.ndim)) if every else wrap_dims(dim, a.ndim)
    if every and a.size == 0:
        raise RuntimeError("hash_tensor: Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    for d in dims:
        if a.shape[d] == 0:
            raise IndexError(f'hash_tensor: Expected reduction dim {d} to have non-zero size.')
    words = _words(a)
    out = np.bitwise_xor.reduce(words, axis=dims, keepdims=keepdim) if dims else words.copy()
    return Tensor._make(np.asarray(out, np.uint64))
