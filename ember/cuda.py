"""``ember.cuda``: ember computes on the CPU, so CUDA is never available (a GPU backend may come later)."""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Accepted for compatibility; there is no CUDA generator to seed."""


def manual_seed_all(seed):
    """Accepted for compatibility; there is no CUDA generator to seed."""


def synchronize(device=None):
    """Nothing to wait for on the CPU."""


def empty_cache():
    """Nothing to free on the CPU."""


def is_bf16_supported():
    return False


def current_device():
    raise RuntimeError('ember has no CUDA devices (torch.cuda.is_available() is False)')
