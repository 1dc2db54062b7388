"""``torch.distributed.fsdp.fully_sharded_data_parallel``: FSDP1's wrapper class, which accelerate's
``unwrap_model`` checks every model against; ember cannot wrap a module in it."""
from ...aliasing import unsupported
from ...nn.modules.module import Module
from .api import StateDictType  # noqa: F401 (PyTorch's module exports it too)

_NO_SHARDING = "ember does not shard parameters; use DistributedDataParallel or one process"


class FullyShardedDataParallel(Module):
    """FSDP1's wrapper; ember cannot wrap a module in it."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(unsupported("torch.distributed.fsdp.FullyShardedDataParallel", _NO_SHARDING))
