"""Figure 5: float32 square matmul at 256, 1024 and 2048 in GFLOP/s, with plain NumPy timed in the
same process as the reference (NumPy's BLAS is the ceiling for ember; the driver takes the reference
from the PyTorch-side run, where nothing has changed NumPy's BLAS threads)."""
import numpy as np
import torch

import _harness


def gflops(n, seconds):
    """GFLOP/s of an n x n by n x n matmul taking ``seconds``."""
    return 2 * n ** 3 / seconds / 1e9


def measure(n):
    """Report torch.matmul's and numpy.matmul's GFLOP/s at size ``n``."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a_np, b_np = a.numpy().copy(), b.numpy().copy()
    framework = _harness.seconds_per_call(lambda: torch.matmul(a, b))
    numpy = _harness.seconds_per_call(lambda: np.matmul(a_np, b_np))
    _harness.report(f"matmul {n}", gflops(n, framework), "GFLOP/s", numpy=gflops(n, numpy))


if __name__ == "__main__":
    _harness.start(torch)
    for size in (256, 1024, 2048):
        measure(size)
