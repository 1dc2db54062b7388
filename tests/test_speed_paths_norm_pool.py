"""group_norm's backward from per-plane sums (_gn_plane_grads), against PyTorch and float64 finite differences."""
import numpy as np
import pytest
import torch

import ember
from helpers import check, assert_same

torch.set_num_threads(1)


def F(lib):
    return lib.nn.functional


GROUP_NORM = [  # (x shape, groups, affine)
    ((2, 6, 5, 4), 3, True),
    ((3, 8, 7), 2, True),            # 3-D input
    ((2, 4, 3, 3, 2), 4, False),     # 5-D, one channel a group, no affine
    ((4, 6), 3, True),               # planes of one value
    ((2, 8, 6, 6), 1, True),         # one group
]


@pytest.mark.parametrize('shape,groups,affine', GROUP_NORM, ids=str)
def test_group_norm_gradients(shape, groups, affine):
    c = shape[1]
    shapes = [shape] + ([(c,), (c,)] if affine else [])
    check(lambda L, x, *wb: F(L).group_norm(x, groups, *wb), *shapes, atol=1e-4)


@pytest.mark.parametrize('need', ['input', 'weight', 'bias'])
def test_group_norm_one_gradient(need):
    """One of input, weight and bias requires grad: its gradient matches PyTorch's, the others stay None."""
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((2, 6, 4, 5)).astype(np.float32) * 2 + 1, rng.standard_normal(6).astype(np.float32),
              rng.standard_normal(6).astype(np.float32)]
    g = rng.standard_normal((2, 6, 4, 5)).astype(np.float32)
    got = []
    for lib in (ember, torch):
        ts = [lib.tensor(a, requires_grad=n == need) for a, n in zip(arrays, ('input', 'weight', 'bias'))]
        F(lib).group_norm(ts[0], 3, ts[1], ts[2]).backward(lib.tensor(g))
        assert [t.grad is None for t in ts] == [n != need for n in ('input', 'weight', 'bias')]
        got.append(next(t.grad for t in ts if t.grad is not None))
    assert_same(got[0], got[1], 1e-4, 1e-4, f'grad of {need}')
