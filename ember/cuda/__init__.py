"""``ember.cuda``: ember computes on the CPU, so it answers as a CPU-only PyTorch build does (CUDA is
never available; seeding is accepted and does nothing; device queries fail as PyTorch's do)."""
import functools

from .. import aliasing
from ..tensor import CUDA_LEGACY
from .._errors import AcceleratorError, OutOfMemoryError  # noqa: F401 (torch.cuda's names for them)

# the legacy CUDA tensor types exist in a CPU-only build (``torch.cuda.FloatTensor``), but cannot be made
globals().update(CUDA_LEGACY)

# ``torch.cuda.amp`` is imported on first use (it is not needed to answer ``is_available``).
__getattr__ = functools.partial(aliasing.module_getattr, __name__)

# PyTorch's module flag, read by reversible-layer code (RevTorch, performer/reformer) before saving GPU states
_initialized = False

_NO_CUDA = 'Torch not compiled with CUDA enabled'


def is_available():
    return False


def is_initialized():
    return _initialized


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


def init():
    """Fails as in a CPU-only PyTorch: there is no CUDA to initialise."""
    raise AssertionError(_NO_CUDA)


def initial_seed():
    """Fails as in a CPU-only PyTorch: there is no CUDA generator to have a seed."""
    raise AssertionError(_NO_CUDA)


def get_rng_state(device='cuda'):
    """Fails as in a CPU-only PyTorch: there is no CUDA generator."""
    raise AssertionError(_NO_CUDA)


def set_rng_state(new_state, device='cuda'):
    """PyTorch keeps the state to set when CUDA starts, which in a CPU-only build it never does: accepted (a
    tensor, as PyTorch's clone of it requires) and never used."""
    new_state.clone()


def get_rng_state_all():
    """One state per CUDA device: none here (Lightning saves them in every checkpoint)."""
    return []


def set_rng_state_all(new_states):
    """``set_rng_state`` for each CUDA device's state (Lightning restores them from every checkpoint)."""
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


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


def mem_get_info(device=None):
    raise AssertionError(_NO_CUDA)


def reset_peak_memory_stats(device=None):
    """Fails as in a CPU-only PyTorch (an AttributeError there too): there are no CUDA memory statistics."""
    raise AttributeError(f'torch.cuda.reset_peak_memory_stats: {_NO_CUDA}')


def reset_max_memory_allocated(device=None):
    raise AttributeError(f'torch.cuda.reset_max_memory_allocated: {_NO_CUDA}')


class _Dummy:
    """A CUDA class a CPU-only build defines only so that code naming it imports; making one fails."""

    def __new__(cls, *args, **kwargs):
        raise RuntimeError(f'Tried to instantiate dummy base class {cls.__name__}')


class Event(_Dummy):
    pass


class CUDAGraph(_Dummy):
    pass


class StreamContext:
    """``torch.cuda.StreamContext``: makes ``stream`` current inside the block; a CPU-only build has no stream
    to switch to, so entering and leaving it do nothing (as PyTorch's CPU build)."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return None


class graph:
    """``torch.cuda.graph``: captures CUDA work into a ``CUDAGraph``; making one fails without CUDA, at the side
    stream it makes, as in a CPU-only PyTorch."""

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode='global'):
        Stream()


def stream(stream):
    """``torch.cuda.stream``: a ``StreamContext`` for ``stream`` (a no-op without CUDA)."""
    return StreamContext(stream)


class Stream:
    """``torch.cuda.Stream``: making one fails as in a CPU-only PyTorch."""

    def __new__(cls, *args, **kwargs):
        raise RuntimeError('torch.cuda.Stream requires CUDA support')
