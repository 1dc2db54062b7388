"""``torch.distributed.algorithms.ddp_comm_hooks``: the hooks ``DistributedDataParallel.register_comm_hook`` takes
(``default_hooks``: the all-reduce average, and the same on gradients compressed to float16)."""
from . import default_hooks
from . import default_hooks as default  # noqa: F401 (PyTorch's short name of the module)
