"""``torch.distributed.optim``: the names, so that code which imports them (pytorch-ignite's checkpoint
handlers test ``isinstance(obj, ZeroRedundancyOptimizer)``) runs; ember has none of these sharded or RPC
optimizers, so making one raises NotImplementedError."""
from ..aliasing import unsupported, unsupported_function

__all__ = ["as_functional_optim", "DistributedOptimizer", "PostLocalSGDOptimizer", "ZeroRedundancyOptimizer"]


def _refusing(name, detail):
    """A class standing for torch's ``torch.distributed.optim.name`` whose construction raises."""
    message = unsupported(f"torch.distributed.optim.{name}", detail)

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(message)
    return type(name, (), {"__init__": __init__, "__module__": __name__,
                           "__doc__": f"torch.distributed.optim.{name}; ember cannot make one ({detail})."})


ZeroRedundancyOptimizer = _refusing("ZeroRedundancyOptimizer", "ember does not shard optimizer state; use a "
                                    "torch.optim optimizer on every rank")
DistributedOptimizer = _refusing("DistributedOptimizer", "ember has no RPC remote references")
PostLocalSGDOptimizer = _refusing("PostLocalSGDOptimizer", "ember has no model averagers")
as_functional_optim = unsupported_function("torch.distributed.optim.as_functional_optim",
                                           "ember has no functional optimizers")
