"""A float64 convolution's bias gradient bit for bit as PyTorch's (its slow kernel sums the output gradient over
(N, H, W) in at::sum's order), at 1 and 2 threads, over odd and large planes."""
import numpy as np
import pytest
import torch

import ember
from helpers import threads  # noqa: F401  (fixture)


@pytest.mark.parametrize('shape', [(2, 3, 7, 9), (8, 16, 8, 8), (4, 6, 33, 31), (16, 8, 64, 65), (3, 5, 9),
                                   (1, 1, 5, 5), (9, 2, 130, 70)], ids=str)
def test_float64_bias_grad(shape, threads):
    x = np.random.RandomState(0).randn(shape[0], 3, *shape[2:])
    grads = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        conv = (lib.nn.Conv2d if len(shape) == 4 else lib.nn.Conv1d)(3, shape[1], 3, padding=1).double()
        y = conv(lib.tensor(x))
        y.backward(lib.tensor(np.random.RandomState(1).randn(*y.shape)))
        grads.append(conv.bias.grad.numpy())
    assert grads[1].dtype == grads[0].dtype and np.array_equal(grads[1], grads[0])
