"""``ember.mps`` (``torch.mps``): no Apple GPU in ember; seeding is accepted and does nothing."""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Accepted for compatibility; there is no MPS generator to seed."""


def seed():
    """Accepted for compatibility; there is no MPS generator to seed."""


def synchronize():
    raise RuntimeError('Cannot execute deviceSynchronize() without MPS backend.')


def empty_cache():
    """Nothing to free on the CPU."""
