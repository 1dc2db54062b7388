"""BatchNorm's bits against PyTorch's (ember's exact kernels on): output, running statistics and the three gradients,
bit for bit, over a table of shapes (odd sizes, one channel, planes and batches past 32768 and 65536 values), train
and eval, momentum None, at 1 and 2 threads."""
import numpy as np
import pytest
import torch

import ember
from helpers import threads  # noqa: F401  (fixture)

SHAPES = [(4, 3, 5), (7, 5, 3), (8, 4, 5, 5), (2, 3, 7, 9), (5, 1, 9, 11), (3, 2, 3, 4, 5), (2, 16, 8, 8),
          (1, 3, 9, 9), (2, 2, 1, 17), (3, 2, 110, 110), (2, 1, 190, 190), (70, 2, 30, 33), (16, 8, 16, 16)]


@pytest.fixture
def exact():
    old = ember.backend.exact_kernels()
    ember.backend.exact_kernels(True)
    yield
    ember.backend.exact_kernels(old)


def _run(lib, x, g, train, momentum, dtype, seed, cl=False):
    C, nd = x.shape[1], x.ndim
    cls = {2: lib.nn.BatchNorm1d, 3: lib.nn.BatchNorm1d, 4: lib.nn.BatchNorm2d, 5: lib.nn.BatchNorm3d}[nd]
    m = cls(C, momentum=momentum).to(getattr(lib, dtype))
    rs = np.random.RandomState(seed)
    with lib.no_grad():
        for p in (m.weight, m.bias, m.running_mean):
            p.copy_(lib.tensor(rs.randn(C)))
        m.running_var.copy_(lib.tensor(rs.rand(C) + 0.5))
        if momentum is None:
            m.num_batches_tracked.fill_(3)
    m.train(train)
    xt, gt = lib.tensor(x), lib.tensor(g)
    if cl:      # input and gradient channels-last: PyTorch's channels-last kernels
        fmt = lib.channels_last if nd == 4 else lib.channels_last_3d
        xt, gt = xt.contiguous(memory_format=fmt), gt.contiguous(memory_format=fmt)
    xt.requires_grad_(True)
    y = m(xt)
    y.backward(gt)
    out = [y, m.running_mean, m.running_var, xt.grad, m.weight.grad, m.bias.grad]
    return [np.array(t.detach().numpy()) for t in out]


NAMES = ['output', 'running_mean', 'running_var', 'grad_input', 'grad_weight', 'grad_bias']


def _compare(shape, train, momentum, dtype, skip=(), cl=False):
    rs = np.random.RandomState(sum(shape))
    x = (rs.randn(*shape) * 3 + 1).astype(dtype)
    g = rs.randn(*shape).astype(dtype)
    want = _run(torch, x, g, train, momentum, dtype, 7, cl)
    got = _run(ember, x, g, train, momentum, dtype, 7, cl)
    for name, e, t in zip(NAMES, got, want):
        if name in skip:
            continue
        assert e.dtype == t.dtype and e.shape == t.shape, name
        bad = np.flatnonzero(e.reshape(-1) != t.reshape(-1))
        assert not bad.size, f'{name} of {shape} {dtype} train={train}: {bad.size} of {e.size} values differ'


@pytest.mark.parametrize('shape', SHAPES, ids=str)
@pytest.mark.parametrize('train', [True, False], ids=['train', 'eval'])
def test_float32_contiguous(shape, train, threads, exact):
    _compare(shape, train, 0.1, 'float32')


@pytest.mark.parametrize('shape', SHAPES[:8], ids=str)
def test_float32_momentum_none(shape, threads, exact):
    _compare(shape, True, None, 'float32')


@pytest.mark.parametrize('shape', SHAPES, ids=str)
@pytest.mark.parametrize('train', [True, False], ids=['train', 'eval'])
def test_float64_contiguous(shape, train, threads, exact):
    _compare(shape, train, 0.1, 'float64')


@pytest.mark.parametrize('shape', [s for s in SHAPES if len(s) > 3], ids=str)
@pytest.mark.parametrize('train', [True, False], ids=['train', 'eval'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_channels_last(shape, train, dtype, threads, exact):
    _compare(shape, train, 0.1, dtype, cl=True)


@pytest.mark.parametrize('shape', [(4, 3), (17, 33), (64, 9), (3, 1), (2, 5, 1, 1)], ids=str)
@pytest.mark.parametrize('train', [True, False], ids=['train', 'eval'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_rows(shape, train, dtype, threads, exact):
    """(N, C) inputs and (N, C, 1, 1): PyTorch's kernel for one value per channel and sample."""
    _compare(shape, train, 0.1, dtype)


@pytest.mark.parametrize('momentum', [1 / 3, 0.9, 0.01, 1 / 7], ids=str)
def test_float32_running_stats_default_mode(momentum, threads):
    """Without the exact kernels too: the running statistics' update takes 1 - momentum in float32, as PyTorch."""
    rs = np.random.RandomState(3)
    x, g = rs.randn(8, 300, 4, 4).astype('float32'), rs.randn(8, 300, 4, 4).astype('float32')
    want = _run(torch, x, g, True, momentum, 'float32', 5)
    got = _run(ember, x, g, True, momentum, 'float32', 5)
    for i in (1, 2):
        assert np.array_equal(got[i], want[i]), NAMES[i]


@pytest.mark.parametrize('momentum', [1 / 3, 0.9], ids=str)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_momentum(momentum, dtype, threads, exact):
    _compare((8, 30, 4, 5), True, momentum, dtype)
