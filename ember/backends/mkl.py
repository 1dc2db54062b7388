"""``torch.backends.mkl``: ember's BLAS is NumPy's, so PyTorch's MKL is not available."""


def is_available():
    return False
