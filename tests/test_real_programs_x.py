"""lucidrains' packages under ``ember.aliasing.as_torch()`` (session 35): x-transformers 2.31.10,
denoising-diffusion-pytorch 2.3.4, vector-quantize-pytorch 1.32.0, rotary-embedding-torch 0.9.1, ema-pytorch 0.8.3
and lion-pytorch 0.2.5, run at tiny sizes with the same seed and state on both libraries. Each test is the lines
that differed, reduced and checked against PyTorch; the libraries themselves are not needed here."""
import numpy as np
import pytest
import torch

import ember

# Two-operand einsums that contract (PyTorch runs them through bmm): the result's strides follow bmm's output,
# batch labels first, then one operand's free labels, then the other's.
_CONTRACTIONS = [
    ('... i d, j d -> ... i j', (1, 6, 1, 4), (7, 4)),   # vector_quantize_pytorch/lookup_free_quantization.py
    ('bid,jd->bij', (2, 3, 4), (5, 4)), ('bid,jd->bji', (2, 3, 4), (5, 4)), ('bid,jd->jbi', (2, 3, 4), (5, 4)),
    ('bid,bjd->bij', (2, 3, 4), (2, 5, 4)), ('bid,bjd->bji', (2, 3, 4), (2, 5, 4)),
    ('bid,bjd->ijb', (2, 3, 4), (2, 5, 4)), ('bid,bjd->jib', (2, 3, 4), (2, 5, 4)),
    ('ij,jk->ik', (3, 4), (4, 5)), ('ij,jk->ki', (3, 4), (4, 5)), ('ij,kj->ik', (3, 4), (5, 4)),
    ('bid,bkjd->bkij', (2, 3, 4), (2, 6, 5, 4)), ('bid,bkjd->kbji', (2, 3, 4), (2, 6, 5, 4)),
    ('bid,edk->kibe', (2, 3, 4), (7, 4, 6)), ('bid,edk->ekbi', (2, 3, 4), (7, 4, 6)),
    ('b h i d, b h j d -> b h i j', (2, 2, 3, 4), (2, 2, 5, 4)),   # x_transformers/attend.py's qk similarity
    ('b h i j, b h j d -> b h i d', (2, 2, 3, 5), (2, 2, 5, 4)),   # and its attention-weighted values
    ('bid,jd->ij', (2, 3, 4), (5, 4)), ('bid,bjd->bij', (2, 3, 4), (2, 1, 4)),
]


@pytest.mark.parametrize('eq,sa,sb', _CONTRACTIONS)
def test_einsum_contraction_lays_out_its_result_as_pytorch(eq, sa, sb):
    """vector_quantize_pytorch/lookup_free_quantization.py: ``einsum('... i d, j d -> ... i j', x, codebook)``
    came back transposed in memory (NumPy's einsum follows its operands), so ``.view`` of it raised where PyTorch's
    works, and the 65536-code softmax after it ran strided (a copy of 512 MB in LFQ's video test)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa, dtype=np.float32), rng.standard_normal(sb, dtype=np.float32)
    want = torch.einsum(eq, torch.tensor(a), torch.tensor(b))
    got = ember.einsum(eq, ember.tensor(a), ember.tensor(b))
    assert got.stride() == want.stride() and got.is_contiguous() == want.is_contiguous()
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    if want.is_contiguous():
        assert got.view(-1).shape == want.view(-1).shape


@pytest.mark.parametrize('eq,sa,sb', [
    ('de,ed->ed', (5, 6), (6, 5)), ('fbacd,bfad->dcbaf', (7, 3, 2, 4, 5), (3, 7, 2, 5)),
    ('fec,c->cf', (7, 6, 4), (4,)), ('cdbfae,cf->efbdc', (4, 5, 3, 7, 2, 6), (4, 7)),
    ('bid,d->dib', (2, 3, 4), (4,)), ('i,j->ji', (3,), (4,)), ('bhnd,bhnd->bhnd', (2, 2, 3, 4), (2, 2, 3, 4))])
def test_einsum_product_lays_out_its_result_as_pytorch(eq, sa, sb):
    """Two operands that only multiply: PyTorch sums an operand's own labels first (contiguous), permutes both to
    the output's order and multiplies, the result laid out as its mul lays it out."""
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(sa, dtype=np.float32), rng.standard_normal(sb, dtype=np.float32)
    want = torch.einsum(eq, torch.tensor(a), torch.tensor(b))
    got = ember.einsum(eq, ember.tensor(a), ember.tensor(b))
    assert got.stride() == want.stride()
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('eq,shape', [('bid->db', (2, 3, 4)), ('bid->ib', (2, 3, 4)), ('ij->', (3, 4)),
                                      ('ij->ji', (3, 4)), ('ii->i', (3, 3)), ('bid->dbi', (2, 3, 4))])
def test_einsum_one_operand_layout_as_pytorch(eq, shape):
    """One operand: a sum gives a contiguous result (as ``sum`` does), a pure permutation or diagonal a view."""
    a = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    want = torch.einsum(eq, torch.tensor(a))
    got = ember.einsum(eq, ember.tensor(a))
    assert got.stride() == want.stride()
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def _lfq_entropy(T, x, codebook):
    """lookup_free_quantization.py's per-sample and codebook entropies, reduced (inv_temperature 1 rather than
    its default 100, whose near one-hot probabilities sit on the clamp's kink, where float32 rounding decides)."""
    distance = -2 * T.einsum('... i d, j d -> ... i j', x, codebook)
    prob = (-distance * 1.).softmax(dim=-1)
    per_sample = (-prob * prob.clamp(min=1e-5).log()).sum(dim=-1).mean()
    avg = prob.reshape(-1, prob.shape[-1]).mean(dim=0)
    return per_sample - (-avg * avg.clamp(min=1e-5).log()).sum()


def test_lfq_entropy_loss_and_gradient():
    """LFQ's entropy auxiliary loss and its gradient to the input, as PyTorch's (float64 finite differences for
    the gradient of einsum's new layout)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 8, 1, 4)).astype(np.float32) * 0.1
    bits = ((np.arange(16)[:, None] >> np.arange(3, -1, -1)) & 1).astype(np.float32) * 2 - 1
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    tl, el = _lfq_entropy(torch, tx, torch.tensor(bits)), _lfq_entropy(ember, ex, ember.tensor(bits))
    tl.backward()
    el.backward()
    np.testing.assert_allclose(el.item(), tl.item(), rtol=1e-5)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)
    x64, b64 = ember.tensor(x.astype(np.float64), requires_grad=True), ember.tensor(bits.astype(np.float64))
    _lfq_entropy(ember, x64, b64).backward()
    eps, fd = 1e-6, np.zeros_like(x, dtype=np.float64)
    for k in range(x.size):
        d = np.zeros(x.size)
        d[k] = eps
        hi = _lfq_entropy(ember, ember.tensor(x.astype(np.float64) + d.reshape(x.shape)), b64).item()
        lo = _lfq_entropy(ember, ember.tensor(x.astype(np.float64) - d.reshape(x.shape)), b64).item()
        fd.flat[k] = (hi - lo) / (2 * eps)
    np.testing.assert_allclose(x64.grad.numpy(), fd, rtol=1e-5, atol=1e-7)
