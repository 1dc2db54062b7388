"""The device index PyTorch's data-parallel helpers ask for, on a machine with no GPU."""
from ...tensor import device as _device


def device_index(d, cpu_error):
    """``d``'s index (an int, 'cuda:1', a device); a CPU device raises ``cpu_error`` (PyTorch's two helpers word it
    differently), ``None`` (the current accelerator) PyTorch's no-accelerator error."""
    if d is None:
        raise RuntimeError('Cannot access accelerator device when none is available.')
    if isinstance(d, int):
        return d
    dev = _device(d)
    if dev.type == 'cpu':
        raise ValueError(cpu_error.format(dev))
    return 0 if dev.index is None else dev.index
