"""group_norm's backward from per-plane sums (_gn_plane_grads) and max_pool3d's NaN rule and bincount backward,
against PyTorch and float64 finite differences."""
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


@pytest.mark.parametrize('kw', [dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), dict(kernel_size=2, stride=1),
                                dict(kernel_size=(2, 3, 2), stride=1, dilation=(1, 2, 1))], ids=str)
def test_max_pool3d_nan_windows(kw):
    """Overlapping windows holding several NaNs and ties: PyTorch's kernel lets a later NaN take over (the last NaN
    wins) and keeps the first of equal maxima; values, indices and the input's gradient match."""
    x = np.random.default_rng(6).standard_normal((2, 3, 7, 9, 8)).astype(np.float32)
    x.reshape(-1)[::17] = np.nan
    x.reshape(-1)[5::23] = 1.0
    g = np.random.default_rng(7).standard_normal(
        tuple(torch.nn.functional.max_pool3d(torch.tensor(x), **kw).shape)).astype(np.float32)
    out = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y, idx = F(lib).max_pool3d(t, return_indices=True, **kw)
        y.backward(lib.tensor(g))
        out.append((y.detach().numpy(), idx.numpy(), t.grad.numpy()))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
    np.testing.assert_allclose(out[0][2], out[1][2], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('kw', [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)], ids=str)
def test_max_pool3d_gradients(kw):
    """Disjoint and overlapping windows (an input element the maximum of several): forward, indices' use in the
    backward, float64 gradcheck."""
    check(lambda L, x: F(L).max_pool3d(x, **kw), (2, 3, 4, 6, 5), atol=1e-5)
