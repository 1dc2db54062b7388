"""``torch.backends.opt_einsum``: ember's einsum does not use the opt_einsum package (as a PyTorch
without it installed: not available, disabled, no strategy)."""
from ._flags import flags_context

enabled = False
strategy = None


def is_available():
    return False


def get_opt_einsum():
    return None


def flags(enabled=None, strategy=None):
    """Set the opt_einsum flags inside a ``with`` block."""
    return flags_context(__name__, enabled=enabled, strategy=strategy)
