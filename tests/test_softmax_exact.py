"""float32 softmax / log_softmax / cross_entropy against PyTorch 2.13 bit for bit where it runs its AVX-512 kernels
(SLEEF's expf and logf, vec::reduce_all's lane sums: ember/ops/_sleef.py), within float32 rounding elsewhere."""
import numpy as np
import pytest
import torch

import ember
from helpers import exact_like_torch, threads  # noqa: F401 (fixtures)
from _isa import assert_bits_or_close

pytestmark = pytest.mark.usefixtures('exact_like_torch')


RNG = np.random.default_rng(41)
LENGTHS = list(range(1, 71)) + [127, 128, 1000, 4096]


def _both(fn, x, *args, **kw):
    """fn's float32 result from ember and from PyTorch, as arrays."""
    e = getattr(ember, fn)(ember.from_numpy(x), *args, **kw).numpy()
    t = getattr(torch, fn)(torch.from_numpy(x), *args, **kw).numpy()
    return e, t


@pytest.mark.parametrize('fn', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('n', LENGTHS)
def test_last_dim_lengths(fn, n):
    for lead in [(1,), (3,), (2, 5)]:
        x = (RNG.standard_normal(lead + (n,)) * 4).astype(np.float32)
        e, t = _both(fn, x, -1)
        assert_bits_or_close(e, t, err_msg=f'{fn} {lead + (n,)}', rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize('fn', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('shape', [(4, 7), (8, 16), (2, 768), (16384,), (12, 4, 64, 64), (768, 65), (3, 10000)])
def test_model_shapes(fn, shape):
    x = (RNG.standard_normal(shape) * 3).astype(np.float32)
    e, t = _both(fn, x, -1)
    assert_bits_or_close(e, t, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize('fn', ['softmax', 'log_softmax'])
def test_masks_and_extremes(fn):
    """-inf masks (causal, whole rows), large and tiny logits, NaN and inf: the same values and special values."""
    x = (RNG.standard_normal((6, 33)) * 50).astype(np.float32)
    x[np.triu_indices(6, 1, 33)] = -np.inf
    x[5] = -np.inf
    big = np.array([[1e30, 3e38, -3e38, 0], [1e-40, -1e-40, 1e-30, 0], [np.nan, 1, 2, 3], [np.inf, 1, 2, 3],
                    [-np.inf, 88, -20, 104], [-1e-7, 0, -2e-7, 1e-7]], np.float32)
    for a in (x, big, np.concatenate([big] * 5, axis=1)):
        e, t = _both(fn, a, 1)
        assert_bits_or_close(e, t, rtol=2e-6, atol=1e-6)


def test_noncontiguous_and_module():
    """A transposed input (computed contiguous, as PyTorch's kernel) and nn.Softmax / F.log_softmax."""
    x = (RNG.standard_normal((40, 24)) * 2).astype(np.float32)
    e = ember.from_numpy(x).t().softmax(-1).numpy()
    t = torch.from_numpy(x).t().softmax(-1).numpy()
    assert_bits_or_close(e, t, rtol=2e-6, atol=1e-6)
    e = ember.nn.functional.log_softmax(ember.from_numpy(x), dim=1).numpy()
    t = torch.nn.functional.log_softmax(torch.from_numpy(x), dim=1).numpy()
    assert_bits_or_close(e, t, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize('shape', [(768, 65), (5, 1000), (33, 10)])
def test_cross_entropy_value(shape):
    """cross_entropy's loss prints PyTorch's digits: its log_softmax's values, then nll_loss's mean."""
    x = (RNG.standard_normal(shape) * 2).astype(np.float32)
    y = RNG.integers(0, shape[1], shape[0])
    e = ember.nn.functional.cross_entropy(ember.from_numpy(x), ember.from_numpy(y))
    t = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(y))
    assert_bits_or_close(e.numpy(), t.numpy(), rtol=2e-6)
    if np.array_equal(e.numpy(), t.numpy()):
        assert repr(e) == repr(t)


def _grads(lib, fn, x, g):
    """The input's gradient of fn(x, -1) under the upstream gradient g (float32 arrays)."""
    t = lib.from_numpy(x.copy()).requires_grad_()
    getattr(lib, fn)(t, -1).backward(lib.from_numpy(g))
    return t.grad.numpy()


@pytest.mark.parametrize('fn', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('n', [1, 3, 7, 15, 16, 17, 33, 40, 64, 65, 100, 128, 1000])
def test_backward_last_dim(fn, n, threads):
    """At 1 and 2 threads (PyTorch's softmax backward adds the row's tail fused at 1 thread, unfused at 2)."""
    for lead in [(1,), (5,), (2, 3), (300,)]:
        x = (RNG.standard_normal(lead + (n,)) * 3).astype(np.float32)
        g = RNG.standard_normal(lead + (n,)).astype(np.float32)
        assert_bits_or_close(_grads(ember, fn, x, g), _grads(torch, fn, x, g), err_msg=f'{fn} {lead + (n,)}',
                             rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('n', [17, 31, 40])
def test_backward_one_row(n, threads):
    """One row runs PyTorch's inline (fused-tail) copy at 2 threads too: its parallel_for splits two rows or more.
    Seeded draws of their own (the shared RNG's draws depend on the tests before; 1 in 6 rows of 31 told it)."""
    rng = np.random.default_rng(n)
    for _ in range(40):
        x = (rng.standard_normal((1, n)) * 3).astype(np.float32)
        g = rng.standard_normal((1, n)).astype(np.float32)
        assert_bits_or_close(_grads(ember, 'softmax', x, g), _grads(torch, 'softmax', x, g), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('shape', [(768, 65), (5, 1000), (33, 10), (4, 3)])
@pytest.mark.parametrize('reduction', ['mean', 'sum'])
def test_cross_entropy_grad(shape, reduction):
    """cross_entropy's input gradient (nll_loss's one-hot gradient through log_softmax's backward)."""
    x = (RNG.standard_normal(shape) * 2).astype(np.float32)
    y = RNG.integers(0, shape[1], shape[0])
    grads = []
    for lib in (ember, torch):
        t = lib.from_numpy(x.copy()).requires_grad_()
        lib.nn.functional.cross_entropy(t, lib.from_numpy(y), reduction=reduction).backward()
        grads.append(t.grad.numpy())
    assert_bits_or_close(*grads, rtol=1e-5, atol=1e-7)


MID = [((4, 7, 5), 1), ((3, 10, 40), 1), ((8, 6), 0), ((2, 5, 3, 33), 1), ((2, 300, 70), 1), ((100, 17), 0),
       ((2, 3, 4, 5), 2), ((5, 7, 1), 1), ((2, 65, 16), 1), ((6, 3, 8, 8), 1)]


@pytest.mark.parametrize('shape,dim', MID)
def test_log_softmax_other_dims(shape, dim):
    """log_softmax over a dim that is not the last (vectors of 16 inner positions by SLEEF, the tails by glibc's
    expf), forward and backward."""
    x = (RNG.standard_normal(shape) * 3).astype(np.float32)
    g = RNG.standard_normal(shape).astype(np.float32)
    got = []
    for lib in (ember, torch):
        t = lib.from_numpy(x.copy()).requires_grad_()
        y = lib.log_softmax(t, dim)
        y.backward(lib.from_numpy(g))
        got.append((y.detach().numpy(), t.grad.numpy()))
    for e, t in zip(*got):
        assert_bits_or_close(e, t, rtol=1e-5, atol=1e-6)


def test_cross_entropy_spatial():
    """cross_entropy of (N, C, H, W) logits: log_softmax over dim 1, its input gradient bit for bit (the loss, summed
    by nll_loss2d's own order, is within an ulp: that order is not emulated)."""
    x = (RNG.standard_normal((2, 5, 6, 7)) * 2).astype(np.float32)
    y = RNG.integers(0, 5, (2, 6, 7))
    got = []
    for lib in (ember, torch):
        t = lib.from_numpy(x.copy()).requires_grad_()
        loss = lib.nn.functional.cross_entropy(t, lib.from_numpy(y))
        loss.backward()
        got.append((loss.detach().numpy(), t.grad.numpy()))
    np.testing.assert_allclose(got[0][0], got[1][0], rtol=3e-7)
    assert_bits_or_close(got[0][1], got[1][1], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('shape,dim', MID + [((3000, 50), 0), ((12, 4, 64, 64), 2), ((4, 100, 300), 1)])
def test_softmax_other_dims(shape, dim, threads):
    """softmax over a dim that is not the last: vectors of 16 positions by SLEEF's expf, the threads' spans' tails
    by glibc's, each divided by its sum."""
    x = (RNG.standard_normal(shape) * 3).astype(np.float32)
    x[(0,) * x.ndim] = -np.inf
    e, t = _both('softmax', x, dim)
    assert_bits_or_close(e, t, rtol=2e-6, atol=1e-7)


def test_glibc_expf():
    """The scalar tails' expf: glibc's own rounding (an all-tail softmax: 17 columns over 2 threads' spans of 9 and 8)
    where the float64 exp rounded once differs in ~0.05% of values."""
    from ember.ops import _sleef
    x = -np.abs(RNG.standard_normal(200000) * 20).astype(np.float32)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        want = torch.softmax(torch.from_numpy(x.reshape(-1, 1).repeat(17, 1)), 0).numpy()[:, 0]
    finally:
        torch.set_num_threads(before)
    e = _sleef.glibc_expf(x - x.max())
    got = e / np.cumsum(e, dtype=np.float32)[-1]        # (the kernel's sum runs down the dim, in order)
    assert_bits_or_close(got, want, rtol=2e-6, atol=1e-12)


@pytest.mark.parametrize('shape,dim', MID)
def test_softmax_backward_other_dims(shape, dim):
    """softmax's backward over a dim that is not the last: fused sums of g * y down the dim, y * (g - sum)."""
    x = (RNG.standard_normal(shape) * 3).astype(np.float32)
    g = RNG.standard_normal(shape).astype(np.float32)
    got = []
    for lib in (ember, torch):
        t = lib.from_numpy(x.copy()).requires_grad_()
        lib.softmax(t, dim).backward(lib.from_numpy(g))
        got.append(t.grad.numpy())
    assert_bits_or_close(*got, rtol=1e-5, atol=1e-6)


def test_exact_kernels_are_opt_in():
    """Off in a fresh process unless EMBER_EXACT_KERNELS=1; off, softmax takes NumPy's exp (ember's default values)."""
    import os
    import subprocess
    import sys
    code = 'import ember; print(ember.backend.exact_kernels())'
    for value, want in (('', 'False'), ('1', 'True')):
        env = dict(os.environ, EMBER_EXACT_KERNELS=value)
        out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == want
    x = (RNG.standard_normal((4, 40)) * 3).astype(np.float32)
    ember.backend.exact_kernels(False)
    e = np.exp(x - x.max(-1, keepdims=True))
    np.testing.assert_allclose(ember.softmax(ember.from_numpy(x), -1).numpy(), e / e.sum(-1, keepdims=True), rtol=1e-6)
    assert not ember.ops._sleef.emulated()
