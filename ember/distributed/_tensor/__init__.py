"""``torch.distributed._tensor``: the old home of ``torch.distributed.tensor``, kept (as PyTorch keeps it) so that
code importing from it, such as Opacus's ``_tensor.experimental.implicit_replication``, still imports."""
import sys

from .. import device_mesh
from ..device_mesh import DeviceMesh, init_device_mesh
from ..tensor import (DTensor, Partial, Placement, Replicate, Shard, distribute_module, distribute_tensor, empty,
                      experimental, full, ones, rand, randn, zeros)

for _name, _module in (("experimental", experimental), ("device_mesh", device_mesh)):
    sys.modules[f"{__name__}.{_name}"] = _module
del _name, _module
