"""Bit-for-bit agreement with PyTorch 2.13 of a float32 Linear with 1-11 outputs (a regression or classifier head) under
ember's exact kernels: MKL's summation order (ops/_mkl_narrow.py), which depends on each row's 16-byte alignment, so
the inputs share their memory with PyTorch's (the same addresses) and include row views at odd offsets."""
import numpy as np
import pytest
import torch

import ember
from helpers import exact_like_torch, threads  # noqa: F401 (fixtures)

ROWS = {2: [2, 3, 5, 7, 64, 256], 1: [4, 8, 12, 64, 256]}
INNER = [1, 3, 7, 8, 9, 13, 20, 31, 32, 64, 100, 129, 256, 1024]


def _pair(shape, rng, offset=0):
    """One float32 array seen by both libraries (shared memory), ``offset`` floats into its buffer."""
    n = int(np.prod(shape))
    a = rng.standard_normal(n + offset).astype(np.float32)[offset:].reshape(shape)
    return ember.from_numpy(a), torch.from_numpy(a)


def _check(ex, tx, ew, tw, eb, tb, what):
    got = ember.nn.functional.linear(ex, ew, eb).numpy()
    want = torch.nn.functional.linear(tx, tw, tb).numpy()
    assert got.dtype == want.dtype == np.float32 and got.shape == want.shape, what
    bad = np.flatnonzero(got.view(np.int32) != want.view(np.int32))
    assert bad.size == 0, f'{what}: {bad.size} of {got.size} values differ'


@pytest.mark.parametrize('bias', [False, True])
@pytest.mark.parametrize('n', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
def test_narrow_linear_bits(n, bias, threads, exact_like_torch):  # noqa: F811
    """Every (M, K) of ROWS x INNER, at 1 and 2 threads, with and without bias (addmm adds it after the sum); one
    output with a multiple of 4 rows; one row with 1, 4, 5, 8 or 9 outputs."""
    rng = np.random.default_rng(n * 10 + bias)
    for m in ROWS[min(n, 2)] + ([1] if n in (1, 4, 5, 8, 9) else []):
        for k in INNER:
            ex, tx = _pair((m, k), rng, offset=int(rng.integers(0, 4)))
            ew, tw = _pair((n, k), rng)
            eb, tb = _pair((n,), rng) if bias else (None, None)
            _check(ex, tx, ew, tw, eb, tb, f'linear ({m}, {k}) -> {n}, bias {bias}, {threads} threads')


@pytest.mark.parametrize('n', [1, 2, 10])
@pytest.mark.parametrize('offset', [0, 1, 2, 3])
def test_narrow_linear_views(offset, n, threads, exact_like_torch):  # noqa: F811
    """A 3-D input (flattened to one product) and a row slice starting ``offset`` floats into the buffer."""
    rng = np.random.default_rng(offset)
    ex, tx = _pair((4, 8, 37), rng, offset)
    ew, tw = _pair((n, 37), rng)
    eb, tb = _pair((n,), rng)
    _check(ex, tx, ew, tw, eb, tb, f'3-D, offset {offset}')
    _check(ex[1:], tx[1:], ew, tw, None, None, f'row slice, offset {offset}')


def test_narrow_linear_module_grad(exact_like_torch):  # noqa: F811
    """nn.Linear(50, 2) forward is PyTorch's bits and its gradients still flow (the graph is addmm's)."""
    torch.manual_seed(0)
    tl = torch.nn.Linear(50, 2)
    el = ember.nn.Linear(50, 2)
    el.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy()) for k, v in tl.state_dict().items()})
    ex, tx = _pair((16, 50), np.random.default_rng(5))
    ex.requires_grad_(True)
    tx.requires_grad_(True)
    eo, to = el(ex), tl(tx)
    assert np.array_equal(eo.detach().numpy(), to.detach().numpy())
    assert type(eo.grad_fn).__name__ == type(to.grad_fn).__name__ == 'AddmmBackward0'
    eo.sum().backward()
    to.sum().backward()
    np.testing.assert_allclose(el.weight.grad.numpy(), tl.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
