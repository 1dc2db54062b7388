"""``torch.distributed.tensor._utils``: the layout helpers that need a DeviceMesh, refused (ember has none)."""
from ...aliasing import unsupported_function

compute_local_shape_and_global_offset = unsupported_function(
    "torch.distributed.tensor._utils.compute_local_shape_and_global_offset",
    "ember has no DeviceMesh to lay a tensor out on")
