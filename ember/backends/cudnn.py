"""``torch.backends.cudnn`` on a CPU-only build: cuDNN is not available; its flags are settable."""
import sys

from ._flags import FlagModule, flags_context

_FLAGS = ('enabled', 'deterministic', 'benchmark', 'allow_tf32')

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None


def is_acceptable(tensor):
    return False


def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """Set the cuDNN flags inside a ``with`` block (as PyTorch's ``cudnn.flags``)."""
    return flags_context(__name__, enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
                         deterministic=deterministic, allow_tf32=allow_tf32)


sys.modules[__name__].__class__ = FlagModule
