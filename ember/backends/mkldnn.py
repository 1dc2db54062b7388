"""``torch.backends.mkldnn``: ember does not use oneDNN, so it is not available; ``enabled`` is settable."""
import sys

from ._flags import FlagModule, flags_context

_FLAGS = ('enabled', 'deterministic')

enabled = True
deterministic = False


def is_available():
    return False


def flags(enabled=False, deterministic=False):
    """Set the oneDNN flags inside a ``with`` block (as PyTorch's ``mkldnn.flags``)."""
    return flags_context(__name__, enabled=enabled, deterministic=deterministic)


sys.modules[__name__].__class__ = FlagModule
