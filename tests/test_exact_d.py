"""Bit-for-bit agreement with PyTorch 2.13 of the ops where a seeded tutorial-style program first parted from
PyTorch's numbers (the programs: an MLP, a CNN with BatchNorm and dropout, RNN/LSTM/GRU classifiers, a
Transformer encoder, a VAE): batch_norm's channels-first forward (x * alpha + beta as one fused multiply-add,
with ember's exact kernels on)."""
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
