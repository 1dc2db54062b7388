"""``ember.accelerator`` (``torch.accelerator``): ember computes on the CPU, which PyTorch does not count
as an accelerator, so none is available and device queries fail as PyTorch's do."""

_NONE = 'Cannot access accelerator device when none is available.'


def is_available():
    return False


def current_accelerator(check_available=False):
    """None: there is no accelerator (``device = torch.accelerator.current_accelerator() or 'cpu'``)."""
    return None


def device_count():
    return 0


def current_device_index():
    raise RuntimeError(_NONE)


def set_device_index(device):
    raise RuntimeError(_NONE)


def synchronize(device=None):
    raise RuntimeError(_NONE)


def empty_cache():
    raise RuntimeError(_NONE)


def memory_allocated(device_index=None):
    raise RuntimeError(_NONE)


def max_memory_allocated(device_index=None):
    raise RuntimeError(_NONE)


class device_index:
    """Context manager setting the accelerator's device index for its block: ``device_index(None)`` does
    nothing (PyTorch's no-op); an index raises on entering, as there is no accelerator."""

    def __init__(self, device, /):
        self.idx = device

    def __enter__(self):
        if self.idx is not None:
            raise RuntimeError(_NONE)

    def __exit__(self, *exc_info):
        return None


current_device_idx, set_device_idx = current_device_index, set_device_index
