"""``torch.backends.openmp``: ember runs no OpenMP kernels of its own."""


def is_available():
    return False
