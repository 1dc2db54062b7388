"""Fast paths of issue 14's slow ops on real CNN shapes, against PyTorch (forward and backward) and float64 finite
differences: cross_entropy / nll_loss on (N, C, ...) segmentation logits read the class axis in place
(_loss._at_targets, _loss._targets_grad) over reductions, class weights, ignore_index, odd and empty shapes,
non-contiguous logits, and a double backward; sigmoid and its gradient on cache blocks (pointwise._sigmoid, _sigmoid_grad)."""
import numpy as np
import pytest
import torch

import ember
from helpers import check

torch.set_num_threads(1)


def F(lib):
    return lib.nn.functional


SPATIAL = [  # (logits shape, classes)
    ((2, 5, 7, 6), 5),          # 2-D segmentation, odd sides
    ((3, 4, 9), 4),             # 1-D (nll_loss_nd's (N, C, 1, -1) view)
    ((2, 3, 4, 3, 5), 3),       # volumetric
    ((1, 21, 11, 13), 21),      # VOC's 21 classes
    ((2, 1, 3, 3), 1),          # one class
]


def _targets(shape, C, seed, ignore=None):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, C, (shape[0],) + shape[2:])
    if ignore is not None:
        t.reshape(-1)[::3] = ignore
    return t


@pytest.mark.parametrize('shape,C', SPATIAL, ids=str)
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('loss', ['cross_entropy', 'nll_loss'])
def test_spatial_class_losses_as_pytorch(shape, C, reduction, loss):
    """Values, grad_fn names and the logits' gradient equal PyTorch's; gradients equal finite differences."""
    t = _targets(shape, C, 1)
    check(lambda L, x: getattr(F(L), loss)(x, L.tensor(t), reduction=reduction), shape, seed=2)


@pytest.mark.parametrize('shape,C', SPATIAL[:4], ids=str)
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_spatial_cross_entropy_weights_and_ignore_index(shape, C, reduction):
    """Class weights and ignore_index (every third pixel) take the same path: a weighted mean, zero gradient at
    ignored pixels."""
    t = _targets(shape, C, 3, ignore=-1)
    w = np.linspace(0.5, 2.0, C).astype(np.float32)
    check(lambda L, x: F(L).cross_entropy(x, L.tensor(t), weight=L.tensor(w).to(x.dtype), ignore_index=-1,
                                          reduction=reduction), shape, seed=4)


@pytest.mark.parametrize('reduction', ['mean', 'none'])
def test_spatial_cross_entropy_non_contiguous_logits(reduction):
    """Channels-last and sliced logits (not contiguous in (N, C, H, W) order) give PyTorch's values and gradient."""
    t = _targets((2, 6, 5, 4), 6, 5)

    def fn(L, x):
        cl = x.permute(0, 3, 1, 2)                   # (2, 6, 5, 4) with channels last in memory
        return F(L).cross_entropy(cl, L.tensor(t), reduction=reduction) + \
            F(L).cross_entropy(x.permute(0, 3, 1, 2)[:, :, :, 1:3], L.tensor(t[:, :, 1:3]), reduction=reduction).sum()
    check(fn, (2, 5, 4, 6), seed=6)


@pytest.mark.parametrize('shape', [(0, 3, 4, 4), (2, 3, 0, 4)], ids=str)
def test_spatial_cross_entropy_empty(shape):
    """Empty batches and empty images: PyTorch's values (NaN mean, 0 sum, empty 'none') and zero-size gradients."""
    t = np.zeros((shape[0],) + shape[2:], np.int64)
    for reduction in ('mean', 'sum', 'none'):
        check(lambda L, x: F(L).cross_entropy(x, L.tensor(t), reduction=reduction), shape, gradcheck=False)


def test_spatial_cross_entropy_large_matches_pytorch():
    """The benchmark's shape (8, 21, 64, 64): loss and gradient within float32 rounding of PyTorch's."""
    t = _targets((8, 21, 64, 64), 21, 7)
    check(lambda L, x: F(L).cross_entropy(x, L.tensor(t)), (8, 21, 64, 64), seed=8, gradcheck=False)


def test_spatial_nll_double_backward():
    """nll_loss of log_softmax on (N, C, H, W) is differentiable twice, as PyTorch's."""
    t = _targets((2, 4, 3, 5), 4, 9)
    check(lambda L, x: F(L).nll_loss(F(L).log_softmax(x * x, 1), L.tensor(t)), (2, 4, 3, 5), seed=10,
          gradgrad=True)


SIG_SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 100.0, -100.0, 89.0, -89.0, 88.5, -88.5, 20.0, -20.0, 1e-40, 17.0]


@pytest.mark.parametrize('shape', [(8, 32, 32, 32), (5, 7001), (3,), ()], ids=str)
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_sigmoid_blocks_as_pytorch(shape, dtype):
    """sigmoid on cache blocks (pointwise._sigmoid, _sigmoid_grad; a last block of fewer elements): float32
    as PyTorch rounds it (exp(-x) correctly rounded to float32, then the sum and the quotient in float32: 0 where
    exp(-x) overflows float32, as PyTorch's), bit for bit; within a few ulps of PyTorch's (its exp is Sleef's),
    NaN where PyTorch has NaN; and its backward."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    if x.ndim:
        x.reshape(-1)[:min(x.size, len(SIG_SPECIAL))] = SIG_SPECIAL[:x.size]
    g = rng.standard_normal(shape).astype(dtype)
    got = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y = t.sigmoid()
        y.backward(lib.tensor(g))
        got.append((y.grad_fn.name(), y.detach().numpy(), t.grad.numpy()))
    (ne, ye, ge), (nt, yt, gt) = got
    assert ne == nt
    with np.errstate(over='ignore'):
        e = np.exp(-x.astype(np.float64)).astype(dtype)
        once = (dtype(1) / (dtype(1) + e)).astype(dtype)
    np.testing.assert_array_equal(ye, once)
    eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny
    np.testing.assert_allclose(ye, yt, rtol=4 * eps, atol=tiny, equal_nan=True)
    np.testing.assert_allclose(ge, gt, rtol=8 * eps, atol=8 * eps * np.abs(g).max(), equal_nan=True)


def test_sigmoid_non_contiguous_and_gradcheck():
    """Transposed and strided inputs (the formula on a copy) and a broadcast gradient: PyTorch's values and
    gradients, float64 finite differences, and a double backward."""
    check(lambda L, x: L.sigmoid(x.transpose(0, 1)[:, ::2]), (6, 40), seed=12, gradgrad=True)
    check(lambda L, x: L.sigmoid(x).sum(), (3, 70000), seed=13, gradcheck=False)


@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
def test_sigmoid_half_types_as_pytorch(dtype):
    """float16 and bfloat16 (not on the blocks) keep PyTorch's values bit for bit, forward and backward."""
    x = (np.random.default_rng(14).standard_normal((4, 1000)) * 4).astype(np.float32)
    got = []
    for lib in (ember, torch):
        t = lib.tensor(x).to(getattr(lib, dtype)).requires_grad_()
        y = t.sigmoid()
        y.backward(lib.ones_like(y))
        got.append((y.detach().float().numpy(), t.grad.float().numpy()))
    np.testing.assert_array_equal(got[0][0], got[1][0])
    np.testing.assert_array_equal(got[0][1], got[1][1])
