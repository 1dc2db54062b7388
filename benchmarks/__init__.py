"""ember's benchmarks: PyTorch-API programs timed on ember and on PyTorch (``python -m benchmarks``)."""
