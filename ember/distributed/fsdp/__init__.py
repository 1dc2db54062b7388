"""``torch.distributed.fsdp``: the policy types and the wrapper classes, so that code which checks
``isinstance(m, FullyShardedDataParallel)`` or builds a policy imports and runs.

ember does not shard parameters: ``isinstance`` answers False for every module, and wrapping one
(``FullyShardedDataParallel(m)``, ``fully_shard(m)``) raises NotImplementedError.
"""
from dataclasses import dataclass

from ...aliasing import unsupported_function
from .api import BackwardPrefetch, CPUOffload, ShardingStrategy, StateDictType
from .fully_sharded_data_parallel import _NO_SHARDING, FullyShardedDataParallel

__all__ = ["BackwardPrefetch", "CPUOffload", "CPUOffloadPolicy", "FSDPModule", "FullyShardedDataParallel", "MixedPrecisionPolicy",
           "OffloadPolicy", "ShardingStrategy", "StateDictType", "fully_shard"]


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


fully_shard = unsupported_function("torch.distributed.fsdp.fully_shard", _NO_SHARDING)
