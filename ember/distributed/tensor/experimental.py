"""``torch.distributed.tensor.experimental``: ``implicit_replication`` (a no-op here: ember has no DTensor for it
to mix plain tensors with) and the DTensor-only helpers, refused."""
import contextlib

from ...aliasing import unsupported_function

__all__ = ["context_parallel", "implicit_replication", "local_map", "register_sharding"]

_NO_MESH = "ember has no DeviceMesh (nor DTensor)"


@contextlib.contextmanager
def implicit_replication():
    """Let DTensor ops treat plain tensors as replicated; without DTensors there is nothing to change."""
    yield


context_parallel = unsupported_function("torch.distributed.tensor.experimental.context_parallel", _NO_MESH)
local_map = unsupported_function("torch.distributed.tensor.experimental.local_map", _NO_MESH)
register_sharding = unsupported_function("torch.distributed.tensor.experimental.register_sharding", _NO_MESH)
