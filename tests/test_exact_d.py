"""Bit-for-bit agreement with PyTorch 2.13 of the ops where a seeded tutorial-style program first parted from
PyTorch's numbers (the programs: an MLP, a CNN with BatchNorm and dropout, RNN/LSTM/GRU classifiers, a
Transformer encoder, a VAE): batch_norm's channels-first forward (x * alpha + beta as one fused multiply-add,
with ember's exact kernels on); float32 math on an unpickled array (its dtype an equal but distinct object)."""
import pickle

import numpy as np
import pytest
import torch

import ember
from helpers import exact_like_torch  # noqa: F401 (a fixture)

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
