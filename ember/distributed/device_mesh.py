"""``torch.distributed.device_mesh``: the names, so that code which annotates with ``DeviceMesh`` imports;
ember has no device meshes, so making one raises NotImplementedError."""
from ..aliasing import unsupported, unsupported_function

__all__ = ["init_device_mesh", "DeviceMesh"]


class DeviceMesh:
    """A grid of ranks for DTensor layouts; ember cannot make one."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(unsupported("torch.distributed.device_mesh.DeviceMesh",
                                              "ember has no device meshes (nor DTensor)"))


init_device_mesh = unsupported_function("torch.distributed.device_mesh.init_device_mesh",
                                        "ember has no device meshes (nor DTensor)")
