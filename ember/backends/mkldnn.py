"""``torch.backends.mkldnn``: ember does not use oneDNN, so it is not available; ``enabled`` is settable."""
from ._flags import flags_context

enabled = True
deterministic = False


def is_available():
    return False


def flags(enabled=False, deterministic=False):
    """Set the oneDNN flags inside a ``with`` block (as PyTorch's ``mkldnn.flags``)."""
    return flags_context(__name__, enabled=enabled, deterministic=deterministic)
