"""``torch.distributed.fsdp.api``: the enums and settings FSDP's configuration names (sharding strategy, backward
prefetch, state-dict type, CPU offload), which accelerate's FSDP plugin and diffusers' training_utils import."""
import dataclasses
import enum


class ShardingStrategy(enum.Enum):
    """How FSDP shards parameters, gradients and optimizer state."""
    FULL_SHARD = enum.auto()
    SHARD_GRAD_OP = enum.auto()
    NO_SHARD = enum.auto()
    HYBRID_SHARD = enum.auto()
    _HYBRID_SHARD_ZERO2 = enum.auto()


class BackwardPrefetch(enum.Enum):
    """When FSDP gathers the next parameters during backward."""
    BACKWARD_PRE = enum.auto()
    BACKWARD_POST = enum.auto()


class StateDictType(enum.Enum):
    """Which state dict an FSDP module gives: full, local shards, or sharded tensors."""
    FULL_STATE_DICT = enum.auto()
    LOCAL_STATE_DICT = enum.auto()
    SHARDED_STATE_DICT = enum.auto()


@dataclasses.dataclass
class CPUOffload:
    """FSDP1's setting: keep parameters (and gradients) on the CPU while they are not in use."""
    offload_params: bool = False
