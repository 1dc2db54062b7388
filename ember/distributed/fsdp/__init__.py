"""``torch.distributed.fsdp``: the policy types and the wrapper classes, so that code which checks
``isinstance(m, FullyShardedDataParallel)`` or builds a policy imports and runs.

ember does not shard parameters: ``isinstance`` answers False for every module, and wrapping one
(``FullyShardedDataParallel(m)``, ``fully_shard(m)``) raises NotImplementedError.
"""
from dataclasses import dataclass

from ...aliasing import unsupported, unsupported_function
from ...nn.modules.module import Module

__all__ = ["CPUOffloadPolicy", "FSDPModule", "FullyShardedDataParallel", "MixedPrecisionPolicy", "OffloadPolicy",
           "fully_shard"]

_NO_SHARDING = "ember does not shard parameters; use DistributedDataParallel or one process"


@dataclass(frozen=True)
class MixedPrecisionPolicy:
    """The dtypes ``fully_shard`` computes, reduces and returns in."""
    param_dtype: object = None
    reduce_dtype: object = None
    output_dtype: object = None
    cast_forward_inputs: bool = True


@dataclass
class OffloadPolicy:
    """No offloading (the base of the offload policies)."""


@dataclass
class CPUOffloadPolicy(OffloadPolicy):
    """Keep sharded parameters on the CPU between uses."""
    pin_memory: bool = True


class FSDPModule:
    """The class ``fully_shard`` mixes into a module; no ember module is one."""


class FullyShardedDataParallel(Module):
    """FSDP1's wrapper; ember cannot wrap a module in it."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(unsupported("torch.distributed.fsdp.FullyShardedDataParallel", _NO_SHARDING))


fully_shard = unsupported_function("torch.distributed.fsdp.fully_shard", _NO_SHARDING)
