"""ember's benchmark suite: PyTorch-API programs timed on ember and on PyTorch (``python -m benchmarks``)."""
