"""``ember.cpu`` (``torch.cpu``): the CPU device module; ember's only device, always available."""
import functools as _functools

from .. import aliasing as _aliasing
from . import amp

__all__ = ['amp', 'current_device', 'device_count', 'is_available', 'synchronize', 'set_device', 'is_initialized']


def is_available():
    return True


def is_initialized():
    return True


def device_count():
    return 1


def current_device():
    return 'cpu'


def set_device(device):
    """PyTorch ignores the CPU device index; so does ember."""


def synchronize(device=None):
    """CPU ops run synchronously: nothing to wait for."""


__getattr__ = _functools.partial(_aliasing.module_getattr, __name__)
