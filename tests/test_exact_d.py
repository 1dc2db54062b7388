"""Bit-for-bit agreement with PyTorch 2.13 of the ops where a seeded tutorial-style program first parted from
PyTorch's numbers (the programs: an MLP, a CNN with BatchNorm and dropout, RNN/LSTM/GRU classifiers, a
Transformer encoder, a VAE): batch_norm's channels-first forward (x * alpha + beta as one fused multiply-add,
with ember's exact kernels on); sigmoid and silu forward and backward (SLEEF's expf on whole vector pairs, glibc's on
each thread's remainder; silu's gradient with its fused step); float32 math on an unpickled array (its dtype an equal
but distinct object); a Linear's forward where OpenBLAS's small-matrix kernel summed otherwise (default settings)."""
import pickle

import numpy as np
import pytest
import torch

import ember
from helpers import exact_like_torch, threads  # noqa: F401 (fixtures)

BN_SHAPES = [(32, 8, 28, 28), (16, 3, 5, 5), (4, 16, 7, 7), (8, 4, 10), (5, 6, 3, 3), (2, 64, 16, 16),
             (3, 5, 4, 4, 4), (32, 128, 8, 8), (64, 32)]


def _bn_args(shape, seed):
    """Input, running mean, running variance, weight and bias float32 arrays for a batch_norm of ``shape``."""
    rng = np.random.default_rng(seed)
    C = shape[1]
    f32 = np.float32
    return (rng.standard_normal(shape).astype(f32) * 3 + 1, rng.standard_normal(C).astype(f32),
            (rng.random(C) + 0.2).astype(f32), (rng.random(C) + 0.5).astype(f32), (rng.random(C) - 0.5).astype(f32))


@pytest.mark.parametrize('training', [True, False])
@pytest.mark.parametrize('shape', BN_SHAPES)
def test_batch_norm_forward_bits(shape, training, exact_like_torch):  # noqa: F811
    """The output and the updated running statistics are PyTorch's bits, training and eval."""
    args = _bn_args(shape, len(shape) * 7 + shape[1])
    tt = [torch.tensor(a) for a in args]
    et = [ember.tensor(a) for a in args]
    want = torch.nn.functional.batch_norm(tt[0], tt[1], tt[2], tt[3], tt[4], training=training).numpy()
    got = ember.nn.functional.batch_norm(et[0], et[1], et[2], et[3], et[4], training=training).numpy()
    assert got.dtype == want.dtype and np.array_equal(got.view(np.int32), want.view(np.int32))
    for k in (1, 2):
        assert np.array_equal(et[k].numpy(), tt[k].numpy())


def test_batch_norm2d_module_bits(exact_like_torch):  # noqa: F811
    """A BatchNorm2d module's training forward without affine parameters, and with them, is PyTorch's."""
    x = _bn_args((8, 6, 9, 9), 3)[0]
    for affine in (False, True):
        torch.manual_seed(0)
        ember.manual_seed(0)
        want = torch.nn.BatchNorm2d(6, affine=affine)(torch.tensor(x)).detach().numpy()
        got = ember.nn.BatchNorm2d(6, affine=affine)(ember.tensor(x)).detach().numpy()
        assert np.array_equal(got.view(np.int32), want.view(np.int32))


def _unpickled(a):
    """``a`` through pickle: equal values with an equal but distinct dtype object (a DataLoader worker's batch)."""
    b = pickle.loads(pickle.dumps(a))
    assert b.dtype == a.dtype and b.dtype is not a.dtype
    return b


@pytest.mark.parametrize('make', ['from_numpy', 'tensor', 'as_tensor', 'asarray', 'pickled_tensor'])
@pytest.mark.parametrize('op', ['tanh', 'exp', 'log', 'sin'])
def test_unpickled_float32_keeps_precise_math(make, op):
    """A float32 array or tensor that went through pickle gets the float64-rounded-once results (those of
    float64 NumPy rounded to float32), as a fresh one does; NumPy's float32 loops had differed in 10-40%."""
    x = (np.random.default_rng(1).random((64, 128)) * 2 + 0.002).astype(np.float32)
    want = getattr(np, op)(x.astype(np.float64)).astype(np.float32)
    if make == 'pickled_tensor':
        t = pickle.loads(pickle.dumps(ember.tensor(x)))
    else:
        t = getattr(ember, make)(_unpickled(x))
    got = getattr(ember, op)(t).numpy()
    assert np.array_equal(got, want)


def test_unpickled_array_still_shared():
    """from_numpy and asarray(copy=False) of an unpickled array still share its memory."""
    x = _unpickled(np.arange(6, dtype=np.float32))
    ember.from_numpy(x)[0] = 5.0
    ember.asarray(x, copy=False)[1] = 6.0
    assert x[0] == 5.0 and x[1] == 6.0
    assert np.array_equal(torch.from_numpy(x).numpy(), x)


ACT_SHAPES = [(31,), (16, 16), (64, 48), (100, 64), (1000,), (3, 5, 7), (8, 16, 32, 32), (70001,)]


@pytest.mark.parametrize('name', ['sigmoid', 'silu'])
@pytest.mark.parametrize('shape', ACT_SHAPES)
def test_sigmoid_silu_bits(shape, name, threads, exact_like_torch):  # noqa: F811
    """Forward and input gradient are PyTorch's bits at 1 and 2 threads, the arguments over [-20, 20] with
    ones past expf's cut-offs (-104, 88.7) mixed in."""
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 5).astype(np.float32)
    x.reshape(-1)[:4] = [-110.0, 95.0, 88.5, -0.0]
    g = rng.standard_normal(shape).astype(np.float32)
    fns = {'sigmoid': (torch.sigmoid, ember.sigmoid), 'silu': (torch.nn.functional.silu, ember.nn.functional.silu)}
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    ty, ey = fns[name][0](tx), fns[name][1](ex)
    tg, = torch.autograd.grad(ty, tx, torch.tensor(g))
    eg, = ember.autograd.grad(ey, ex, ember.tensor(g))
    assert np.array_equal(ey.detach().numpy().view(np.int32), ty.detach().numpy().view(np.int32))
    assert np.array_equal(eg.numpy().view(np.int32), tg.numpy().view(np.int32))


def test_sigmoid_module_and_inplace_bits(exact_like_torch):  # noqa: F811
    """nn.Sigmoid, nn.SiLU and the in-place forms give the same bits as PyTorch's."""
    x = (np.random.default_rng(5).standard_normal((40, 33)) * 4).astype(np.float32)
    pairs = [(torch.nn.Sigmoid()(torch.tensor(x)), ember.nn.Sigmoid()(ember.tensor(x))),
             (torch.nn.SiLU()(torch.tensor(x)), ember.nn.SiLU()(ember.tensor(x))),
             (torch.tensor(x).sigmoid_(), ember.tensor(x).sigmoid_()),
             (torch.nn.functional.silu(torch.tensor(x), inplace=True),
              ember.nn.functional.silu(ember.tensor(x), inplace=True))]
    for want, got in pairs:
        assert np.array_equal(got.numpy().view(np.int32), want.numpy().view(np.int32))


LINEAR_SHAPES = [(32, 64, 32), (8, 64, 32), (32, 128, 32), (16, 48, 16), (64, 32, 12), (4, 100, 64), (100, 192, 48),
                 (128, 64, 128), (17, 33, 15), (64, 10, 32), (32, 64, 64)]


@pytest.mark.parametrize('m, k, n', LINEAR_SHAPES)
def test_linear_forward_bits(m, k, n):
    """A float32 Linear's forward (the product with weight.T, then the bias) is PyTorch's bits with ember's default
    settings where OpenBLAS's small-matrix kernel summed otherwise (weight.T copied C-contiguous: backend._mkl_order)."""
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    x, w, b = (rng.random((m, k)).astype(np.float32), (rng.standard_normal((n, k)) * 0.2).astype(np.float32),
               rng.standard_normal(n).astype(np.float32))
    want = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w), torch.tensor(b)).numpy()
    got = ember.nn.functional.linear(ember.tensor(x), ember.tensor(w), ember.tensor(b)).numpy()
    assert np.array_equal(got.view(np.int32), want.view(np.int32))
    want = (torch.tensor(x) @ torch.tensor(w).t()).numpy()
    got = (ember.tensor(x) @ ember.tensor(w).t()).numpy()
    assert np.array_equal(got.view(np.int32), want.view(np.int32))
