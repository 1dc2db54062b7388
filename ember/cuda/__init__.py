"""``ember.cuda``: ember computes on the CPU, so it answers as a CPU-only PyTorch build does (CUDA is
never available; seeding is accepted and does nothing; device queries fail as PyTorch's do)."""
import functools

from .. import aliasing

# ``torch.cuda.amp`` is imported on first use (it is not needed to answer ``is_available``).
__getattr__ = functools.partial(aliasing.module_getattr, __name__)

_NO_CUDA = 'Torch not compiled with CUDA enabled (ember computes on the CPU only)'


def is_available():
    return False


def is_initialized():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Accepted for compatibility; there is no CUDA generator to seed."""


def manual_seed_all(seed):
    """Accepted for compatibility; there is no CUDA generator to seed."""


def seed():
    """Accepted for compatibility; there is no CUDA generator to seed."""


def seed_all():
    """Accepted for compatibility; there is no CUDA generator to seed."""


def synchronize(device=None):
    """Fails as in a CPU-only PyTorch: there is no CUDA device to wait for."""
    raise AssertionError(_NO_CUDA)


def empty_cache():
    """Nothing to free on the CPU."""


def is_bf16_supported(including_emulation=True):
    return False


def memory_allocated(device=None):
    return 0


def max_memory_allocated(device=None):
    return 0


def memory_reserved(device=None):
    return 0


def max_memory_reserved(device=None):
    return 0


def current_device():
    raise AssertionError(_NO_CUDA)


def get_device_name(device=None):
    raise AssertionError(_NO_CUDA)


def get_device_capability(device=None):
    raise AssertionError(_NO_CUDA)


def get_device_properties(device=None):
    raise AssertionError(_NO_CUDA)


def set_device(device):
    raise AssertionError(_NO_CUDA)
