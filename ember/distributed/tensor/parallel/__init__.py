"""``torch.distributed.tensor.parallel``: the tensor-parallel plans (``style``), which import and print as PyTorch's,
and ``parallelize_module``/``loss_parallel``, refused: ember has no DeviceMesh to shard a module over."""
from ....aliasing import unsupported_function
from .style import ColwiseParallel, ParallelStyle, RowwiseParallel, SequenceParallel

__all__ = ["ColwiseParallel", "ParallelStyle", "RowwiseParallel", "SequenceParallel", "parallelize_module",
           "loss_parallel"]

_NO_MESH = "ember has no DeviceMesh to shard a module over"
parallelize_module = unsupported_function("torch.distributed.tensor.parallel.parallelize_module", _NO_MESH)
loss_parallel = unsupported_function("torch.distributed.tensor.parallel.loss_parallel", _NO_MESH)
