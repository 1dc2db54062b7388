"""Sums are added in PyTorch's CPU order, so they agree with torch to the last bit (what printed
``loss.item()`` values depend on). Oracle: PyTorch, on random data spanning many magnitudes."""
import numpy as np
import pytest
import torch

import ember
from helpers import threads  # noqa: F401 (fixture: 1 and 2 threads on both sides)

SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 63, 64, 100, 127, 128, 129, 255, 256,
         257, 500, 512, 513, 1000, 1024, 4097, 10000, 32768]


def _data(n, dtype, seed):
    """Values of mixed signs and magnitudes, so that the order of additions shows in the result."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 3, n)).astype(dtype)


def _same_bits(e, t):
    e, t = e.detach().numpy(), t.detach().numpy()
    assert e.dtype == t.dtype and e.shape == t.shape
    assert e.tobytes() == t.tobytes(), (e, t)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('n', SIZES)
def test_full_sum_bits(n, dtype):
    for seed in range(8):
        x = _data(n, dtype, seed)
        _same_bits(ember.from_numpy(x).sum(), torch.from_numpy(x).sum())


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_sum_of_negative_zeros_sign(dtype):
    """PyTorch's accumulators start at +0: a sum of -0s is +0 at every length (with +0s mixed in too)."""
    for n in range(1, 40):
        x = np.full(n, -0.0, dtype)
        x_mixed = x.copy()
        x_mixed[::3] = 0.0
        for a in (x, x_mixed):
            _same_bits(ember.from_numpy(a).sum(), torch.from_numpy(a).sum())
            _same_bits(ember.from_numpy(a.reshape(1, -1)).sum(-1), torch.from_numpy(a.reshape(1, -1)).sum(-1))


@pytest.mark.parametrize('shape', [(4, 4), (2, 8), (3, 5, 7), (16, 16), (64, 10), (30, 1), (8, 3, 2, 2), (200, 49),
                                   (8, 16, 7, 7)])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_sum_of_shapes_bits(shape, dtype):
    for seed in range(8):
        x = _data(int(np.prod(shape)), dtype, seed).reshape(shape)
        _same_bits(ember.from_numpy(x).sum(), torch.from_numpy(x).sum())
        _same_bits(ember.from_numpy(x).sum(-1), torch.from_numpy(x).sum(-1))
        _same_bits(ember.from_numpy(x).mean(), torch.from_numpy(x).mean())


@pytest.mark.parametrize('n', [4, 16, 100])
def test_sum_through_autograd_bits(n):
    """The fast path taken when the input requires grad gives the same bits, and its gradient is ones."""
    x = _data(n, np.float32, 0)
    e = ember.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    es, ts = (e * 2).sum(), (t * 2).sum()
    _same_bits(es, ts)
    es.backward()
    ts.backward()
    _same_bits(e.grad, t.grad)


@pytest.mark.parametrize('rows', [1, 3, 4, 7, 16, 17, 60, 64, 129, 257, 1000, 4097])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_outer_sum_bits(rows, dtype):
    """Sums over leading dims (batch sums: bias gradients, mean(0), BatchNorm1d statistics) in PyTorch's
    outer-reduction order: column blocks by the cascade, the rest by four interleaved row accumulators."""
    for cols in (1, 2, 3, 4, 5, 8, 9, 12, 31, 32, 33, 40, 100):
        if rows * cols > 32768:
            continue
        x = _data(rows * cols, dtype, rows + cols).reshape(rows, cols)
        _same_bits(ember.from_numpy(x).sum(0), torch.from_numpy(x).sum(0))
        _same_bits(ember.from_numpy(x).mean(0, keepdim=True), torch.from_numpy(x).mean(0, keepdim=True))
    x = _data(6 * 5 * 7, dtype, rows).reshape(6, 5, 7)
    _same_bits(ember.from_numpy(x).sum((0, 1)), torch.from_numpy(x).sum((0, 1)))


def test_broadcast_gradient_bits():
    """The gradient of a broadcast operand (a bias added to a batch) is the batch sum of the incoming
    gradient, in PyTorch's order too."""
    x = _data(64 * 20, np.float32, 3).reshape(64, 20)
    w = _data(64 * 20, np.float32, 4).reshape(64, 20)
    grads = []
    for T in (ember, torch):
        b = T.zeros(20, requires_grad=True)
        ((T.from_numpy(x) + b) * T.from_numpy(w)).sum().backward()
        grads.append(b.grad)
    _same_bits(*grads)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_many_short_rows_bits(dtype):
    """Sums of many short rows end with their terms added column by column (_sumorder._in_order, from 64 rows):
    the bits of PyTorch's sums, signed zeros too, and AdaptiveAvgPool2d(1) (a mean over H, W) as PyTorch's."""
    x = _data(300 * 23, dtype, 3).reshape(300, 23)
    x[:40] = -0.0
    x[40:60, ::2] = 0.0
    _same_bits(ember.from_numpy(x).sum(-1), torch.from_numpy(x).sum(-1))
    p = _data(8 * 64 * 49, dtype, 4).reshape(8, 64, 7, 7)
    _same_bits(ember.nn.functional.adaptive_avg_pool2d(ember.from_numpy(p), 1),
               torch.nn.functional.adaptive_avg_pool2d(torch.from_numpy(p), 1))


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_few_short_rows_bits(dtype):
    """Sums of fewer than 64 short rows (_sumorder._in_order's running sums from the first term, then + 0.0): the
    bits of PyTorch's sums, rows of -0.0 and of mixed signed zeros giving +0.0, infinities and NaN."""
    x = _data(40 * 23, dtype, 5).reshape(40, 23)
    x[:5] = -0.0
    x[5:9, ::2] = 0.0
    x[5:9, 1::2] = -0.0
    x[9, 0], x[10, 3], x[11, :2], x[12, 7] = np.inf, -np.inf, (np.inf, -np.inf), np.nan
    _same_bits(ember.from_numpy(x).sum(-1), torch.from_numpy(x).sum(-1))


@pytest.mark.parametrize('n', [1, 2, 17, 18, 100, 768, 769, 4097, 70000])
@pytest.mark.parametrize('reduction', ['sum', 'mean'])
def test_nll_loss_cascade_bits(n, reduction):
    """nll_loss's sum of its losses in PyTorch's cascade (_sumorder.cascade_sum, every target kept), across the
    cascade's levels, with losses of -0.0 (log-probabilities of 0): the bits of PyTorch's loss."""
    rng = np.random.default_rng(n)
    x = _data(n * 3, np.float32, n).reshape(n, 3)
    t = rng.integers(0, 3, n)
    x[np.arange(n)[::5], t[::5]] = 0.0
    e = ember.nn.functional.nll_loss(ember.from_numpy(x), ember.from_numpy(t), reduction=reduction)
    _same_bits(e, torch.nn.functional.nll_loss(torch.from_numpy(x), torch.from_numpy(t), reduction=reduction))


def _layout(x, layout, rng):
    """``x``'s values in another memory layout: channels_last, a random dim order, or every other last element."""
    if layout == 'channels_last':
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    if layout == 'permuted':
        p = rng.permutation(x.ndim)
        return np.ascontiguousarray(x.transpose(p)).transpose(np.argsort(p))
    if layout == 'strided':
        wide = np.repeat(x, 2, axis=-1)
        wide[..., 1::2] = np.nan
        return wide[..., ::2]
    return x


# (shape, dims, layout): non-adjacent dims (BatchNorm-style (0, 2, 3), (0, 2) of 3-d and 4-d), past 32,768 elements
# (threads split the kept dim; for columns that are the kernel's inner dim, in 128-byte shares), dims of size 1
MULTI_DIM_CASES = [
    ((16, 64, 32, 32), (0, 2), 'contiguous'), ((16, 64, 32, 32), (0, 2, 3), 'contiguous'),
    ((32, 64, 16, 16), (0, 2, 3), 'contiguous'), ((64, 512, 7, 7), (0, 2, 3), 'contiguous'),
    ((8, 3, 5, 7), (0, 2), 'contiguous'), ((8, 3, 5, 7), (1, 3), 'contiguous'), ((300, 3, 50), (0, 2), 'contiguous'),
    ((2, 33, 17), (0, 2), 'contiguous'), ((16, 40, 24), (0, 2), 'contiguous'), ((5, 6, 7, 8), (0, 1, 3), 'contiguous'),
    ((2, 3, 4, 5, 6), (0, 2, 4), 'contiguous'), ((4, 1, 6, 1, 9), (0, 2, 4), 'contiguous'), ((1, 5, 1, 70), (0, 3), 'contiguous'),
    ((16, 64, 32, 32), (0, 2, 3), 'channels_last'), ((64, 512, 7, 7), (0, 2, 3), 'channels_last'),
    ((8, 3, 5, 7), (0, 2, 3), 'channels_last'), ((16, 64, 32, 32), (0, 2), 'channels_last'),
    ((4, 16, 9, 9), (0, 3), 'channels_last'), ((32, 64, 16, 16), (0, 2, 3), 'channels_last'),
    ((16, 64, 32, 32), (0, 1, 3), 'permuted'), ((16, 64, 32, 32), (3,), 'permuted'), ((300, 3, 50), (0, 2), 'permuted'),
    ((64, 512, 7, 7), (1, 3), 'permuted'), ((7, 9, 40), (1,), 'permuted'),
    ((64, 512, 7, 7), (0, 1, 2), 'strided'), ((300, 3, 50), (0, 1), 'strided'), ((32, 64, 16, 16), (0,), 'strided'),
    ((16, 64, 32, 32), (0, 2), 'strided'), ((5, 6, 7, 8), (1, 3), 'strided'),
]


@pytest.mark.parametrize('shape,dims,layout', MULTI_DIM_CASES)
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_sum_over_several_dims_bits(shape, dims, layout, dtype, threads):
    """Sums and means over several dims, adjacent or not, of any layout, in PyTorch's cascade_sum order (dims
    sorted and merged as TensorIterator does, its inner kernels, row results added into the output in order)."""
    rng = np.random.default_rng(len(shape) + sum(dims))
    x = _layout(_data(int(np.prod(shape)), dtype, sum(shape)).reshape(shape), layout, rng)
    e, t = ember.from_numpy(x), torch.from_numpy(x)
    _same_bits(e.sum(dims), t.sum(dims))
    _same_bits(e.sum(dims, keepdim=True), t.sum(dims, keepdim=True))
    _same_bits(e.mean(dims), t.mean(dims))


@pytest.mark.parametrize('shape', [(16, 64, 32, 32), (32, 64, 16, 16), (8, 16, 5, 5)])
def test_per_channel_gradient_bits(shape, threads):
    """The gradient of a per-channel (C, 1, 1) factor is its sum_to over (0, 2, 3): PyTorch's bits."""
    x = _data(int(np.prod(shape)), np.float32, 1).reshape(shape)
    g = _data(int(np.prod(shape)), np.float32, 2).reshape(shape)
    w = _data(shape[1], np.float32, 3).reshape(-1, 1, 1)
    grads = []
    for T in (ember, torch):
        p = T.from_numpy(w.copy()).requires_grad_(True)
        (T.from_numpy(x) * p).backward(T.from_numpy(g))
        grads.append(p.grad)
    _same_bits(*grads)


# (shape, dims, layout): whole sums of non-dense inputs (one thread's order below 32,768 elements; past it, the threads'
# even shares of the iteration, cut inside rows) and sums whose kept dims all have size 1
WHOLE_CASES = [
    ((8, 8, 25, 25), (0, 1, 2, 3), 'strided'), ((16, 17, 9, 16), (0, 1, 2, 3), 'strided'),
    ((8, 4, 17, 7, 100), (0, 1, 2, 3, 4), 'strided'), ((1, 50, 15, 8, 15), (0, 1, 2, 3, 4), 'strided'),
    ((5, 7, 9), (0, 1, 2), 'strided'), ((3000,), (0,), 'strided'), ((70001,), (0,), 'strided'),
    ((33, 1, 5, 4), (0, 2, 3), 'permuted'), ((100, 9, 1, 33), (0, 1, 3), 'strided'), ((1, 100, 17), (1, 2), 'strided'),
    ((17, 17, 17, 31, 1), (0, 1, 2, 3), 'permuted'),
]


@pytest.mark.parametrize('shape,dims,layout', WHOLE_CASES)
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_whole_sum_of_any_layout_bits(shape, dims, layout, dtype, threads):
    """Whole sums (all dims, or all but dims of size 1) of permuted and strided inputs: PyTorch's bits."""
    rng = np.random.default_rng(len(shape))
    x = _layout(_data(int(np.prod(shape)), dtype, sum(shape)).reshape(shape), layout, rng)
    e, t = ember.from_numpy(x), torch.from_numpy(x)
    _same_bits(e.sum(dims), t.sum(dims))
    _same_bits(e.mean(dims, keepdim=True), t.mean(dims, keepdim=True))
