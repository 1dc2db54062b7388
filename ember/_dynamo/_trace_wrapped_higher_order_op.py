"""``torch._dynamo._trace_wrapped_higher_order_op``: ``TransformGetItemToIndex``, the mode mask builders
(transformers' masking_utils) run ``vmap``-ed mask functions under so that ``A[q_idx]`` indexes by tensor."""
from ..overrides import TorchFunctionMode
from ..tensor import Tensor
from ..utils._pytree import tree_leaves


class TransformGetItemToIndex(TorchFunctionMode):
    """Inside it, ``tensor[i, j]`` with tensor or int indices indexes by tensors (ints made 0-d int64
    tensors), as an ``index`` op, instead of turning a 0-d tensor index into a Python number."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is Tensor.__getitem__:
            indices = tree_leaves(args[1])
            if all(isinstance(i, (Tensor, int)) for i in indices):
                from .. import int64, tensor
                as_tensors = tuple(tensor(i, dtype=int64) if isinstance(i, int) else i for i in indices)
                return args[0][as_tensors]
        return func(*args, **(kwargs or {}))
