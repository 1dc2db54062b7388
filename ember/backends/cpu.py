"""``torch.backends.cpu``."""


def get_cpu_capability():
    """ember's kernels are NumPy's, which choose their own SIMD: reported as PyTorch's 'DEFAULT'."""
    return 'DEFAULT'
