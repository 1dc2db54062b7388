"""``torch.get_device_module``: the ``torch.<device type>`` module of a device (``torch.cpu``, ``torch.cuda``...),
which libraries use to reach a device's ``empty_cache``/``synchronize``/``manual_seed`` without naming it."""
import sys
import types

from .tensor import device as _device

# PyTorch's device types that ember's device() does not parse but that have a torch.<type> module (ember.xpu)
_OTHER_TYPES = ('xpu', 'mtia', 'hpu', 'ipu', 'xla', 'maia')


def get_device_module(device=None):
    """The module of ``device`` (a ``torch.device``, a string such as ``'cuda:0'``, or None: the current
    accelerator's, and ember has none, so ``torch.cpu``)."""
    ember = sys.modules[__package__]
    if device is None:
        return ember.cpu
    if isinstance(device, _device):
        kind = device.type
    elif isinstance(device, str):
        kind = device.partition(':')[0]
        if kind not in _OTHER_TYPES:
            kind = _device(device).type
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect torch.device, str, or None")
    module = getattr(ember, kind, None)
    if not isinstance(module, types.ModuleType):
        raise RuntimeError(f"Device '{kind}' does not have a corresponding module registered as 'torch.{kind}'.")
    return module
