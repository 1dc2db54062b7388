"""``ember.xpu`` (``torch.xpu``): no Intel GPU in ember, as in a PyTorch built without XPU. Programs probe it
(``torch.xpu.is_available()`` in pytorch/examples' device choice); the queries answer, the rest raise PyTorch's
AssertionError."""

from .cuda import (device_count, empty_cache, is_available, is_bf16_supported, is_initialized,   # noqa: F401
                   max_memory_allocated, max_memory_reserved, memory_allocated, memory_reserved)
# (cuda's answers, the same for any device ember lacks: nothing lives off the CPU)

_NO_XPU = 'Torch not compiled with XPU enabled'


def manual_seed(seed):
    """Accepted for compatibility; there is no XPU generator to seed."""


def manual_seed_all(seed):
    """Accepted for compatibility; there is no XPU generator to seed."""


def seed():
    """Accepted for compatibility; there is no XPU generator to seed."""


def seed_all():
    """Accepted for compatibility; there is no XPU generator to seed."""



def _no_xpu(name):
    """A function that raises PyTorch's AssertionError for a build without XPU."""
    def no_xpu(*args, **kwargs):
        raise AssertionError(_NO_XPU)
    no_xpu.__name__ = no_xpu.__qualname__ = name
    no_xpu.__doc__ = f'torch.xpu.{name}: raises AssertionError, as PyTorch built without XPU does.'
    return no_xpu


synchronize = _no_xpu('synchronize')
current_device = _no_xpu('current_device')
set_device = _no_xpu('set_device')
get_device_name = _no_xpu('get_device_name')
get_device_capability = _no_xpu('get_device_capability')
get_device_properties = _no_xpu('get_device_properties')
get_rng_state = _no_xpu('get_rng_state')
set_rng_state = _no_xpu('set_rng_state')
initial_seed = _no_xpu('initial_seed')
init = _no_xpu('init')
mem_get_info = _no_xpu('mem_get_info')
