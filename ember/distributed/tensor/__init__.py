"""``torch.distributed.tensor``: the DTensor names, so that code which checks ``isinstance(x, DTensor)`` or
names placements imports and runs.

ember has no DeviceMesh, so no DTensor can exist: ``isinstance`` answers False for every tensor, and making
one (``DTensor(...)``, ``distribute_tensor``, ``DTensor.from_local``...) raises NotImplementedError.
"""
from ...aliasing import unsupported, unsupported_function
from ...tensor import Tensor
from .placement_types import Partial, Placement, Replicate, Shard

__all__ = ["DTensor", "distribute_tensor", "distribute_module", "Shard", "Replicate", "Partial", "Placement",
           "ones", "empty", "full", "rand", "randn", "zeros"]

_NO_MESH = "ember has no DeviceMesh to place a tensor on"


class DTensor(Tensor):
    """A tensor laid out over a device mesh; ember cannot make one (it has no DeviceMesh)."""

    def __new__(cls, *args, **kwargs):
        raise NotImplementedError(unsupported("torch.distributed.tensor.DTensor", _NO_MESH))

    @staticmethod
    def from_local(*args, **kwargs):
        """Refused: a DTensor needs a DeviceMesh."""
        raise NotImplementedError(unsupported("torch.distributed.tensor.DTensor.from_local", _NO_MESH))


distribute_tensor = unsupported_function("torch.distributed.tensor.distribute_tensor", _NO_MESH)
distribute_module = unsupported_function("torch.distributed.tensor.distribute_module", _NO_MESH)
ones = unsupported_function("torch.distributed.tensor.ones", _NO_MESH)
empty = unsupported_function("torch.distributed.tensor.empty", _NO_MESH)
full = unsupported_function("torch.distributed.tensor.full", _NO_MESH)
rand = unsupported_function("torch.distributed.tensor.rand", _NO_MESH)
randn = unsupported_function("torch.distributed.tensor.randn", _NO_MESH)
zeros = unsupported_function("torch.distributed.tensor.zeros", _NO_MESH)
