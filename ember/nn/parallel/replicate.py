"""``torch.nn.parallel.replicate`` as a PyTorch built without GPUs runs it: a module with no tensors is replicated
(replica modules sharing the original's attributes, as PyTorch builds them); parameters or buffers, which would be
broadcast to the GPUs, are refused with PyTorch's errors."""
from collections import OrderedDict

from ._devices import device_index

__all__ = ['replicate']


def replicate(network, devices, detach=False):
    """One replica of ``network`` per device of ``devices``."""
    if not devices:
        return []
    devices = [device_index(d, cpu_error='Expected a non cpu device, but got: {}') for d in devices]
    if any(True for _ in network.parameters()) and not detach:
        raise AssertionError('Broadcast function not implemented for CPU tensors')
    if any(True for _ in network.parameters()) or any(b is not None for b in network.buffers()):
        raise AttributeError("module 'torch._C' has no attribute '_broadcast_coalesced'")
    modules = list(network.modules())
    index = {m: i for i, m in enumerate(modules)}
    copies = [[] for _ in devices]
    for module in modules:
        for j in range(len(devices)):
            replica = module._replicate_for_data_parallel()
            replica._former_parameters = OrderedDict()
            copies[j].append(replica)
    for i, module in enumerate(modules):
        for key, child in module._modules.items():
            for j in range(len(devices)):
                copies[j][i]._modules[key] = None if child is None else copies[j][index[child]]
        for key in module._parameters:
            for j in range(len(devices)):
                copies[j][i]._parameters[key] = None
    return [copies[j][0] for j in range(len(devices))]
