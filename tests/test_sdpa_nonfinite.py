"""scaled_dot_product_attention with a NaN or infinity in its inputs, against PyTorch 2.13's CPU kernels: the flash
kernel (4-D, is_causal) fills the masked scores with -inf, so a NaN key in a future position leaves earlier queries
finite, while a NaN value reaches every query of a block that reads it; the math path (other shapes) and attn_mask
add the mask, so the NaN spreads. Values, NaN positions and gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ember
import ember.nn.functional as EF


def attend(lib, fn, arrays, dtype, grad_out=None, **kw):
    """Output and the three gradients (None without grad_out) of fn on tensors made from ``arrays``."""
    ts = [lib.tensor(a, dtype=dtype, requires_grad=grad_out is not None) for a in arrays]
    extra = {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    out = fn(*ts, **extra)
    if grad_out is None:
        return [out.detach().numpy()]
    out.backward(lib.tensor(grad_out, dtype=dtype))
    return [out.detach().numpy()] + [t.grad.numpy() for t in ts]


def check(arrays, dtype, grad_out=None, names=('out', 'dq', 'dk', 'dv'), **kw):
    want = attend(torch, F.scaled_dot_product_attention, arrays, getattr(torch, dtype), grad_out, **kw)
    got = attend(ember, EF.scaled_dot_product_attention, arrays, getattr(ember, dtype), grad_out, **kw)
    tol = 2e-5 if dtype == 'float32' else 1e-10
    for name, g, w in zip(('out', 'dq', 'dk', 'dv'), got, want):
        if name in names:
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True, err_msg=name)
    return want


def inputs(shape_q, shape_kv, seed=0):
    rs = np.random.RandomState(seed)
    return rs.randn(*shape_q), rs.randn(*shape_kv), rs.randn(*shape_kv[:-1], shape_q[-1])


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('which, bad', [('k', np.nan), ('k', np.inf), ('k', -np.inf), ('v', np.nan), ('v', np.inf)])
@pytest.mark.parametrize('L, S', [(4, 4), (40, 40), (7, 12), (12, 7), (1, 5)])
def test_causal_flash_kernel_nonfinite(dtype, which, bad, L, S):
    q, k, v = inputs((2, 2, L, 8), (2, 2, S, 8))
    target = {'q': q, 'k': k, 'v': v}[which]
    pos = target.shape[-2] - 1
    target[0, 1, pos, 3] = bad
    target[1, 0, pos // 2, :] = bad
    g = np.random.RandomState(1).randn(2, 2, L, 8)
    # PyTorch's float32 backward takes exp(inf - inf) in its vectorised exp, which gives no NaN where its float64
    # kernel (and ember) does: dV of an infinite key is compared in float64
    names = ('out', 'dq', 'dk') if (which, bad, dtype) == ('k', np.inf, 'float32') else ('out', 'dq', 'dk', 'dv')
    want = check((q, k, v), dtype, g, names, is_causal=True)
    if which == 'k' and L == S == 40:   # the point: earlier queries stay finite
        assert np.isfinite(want[0][0, 1, :pos]).all()


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('L', [16, 40])
def test_causal_flash_kernel_nan_query(L, dtype):
    """A NaN query: its output row NaN, its masked probabilities zero in the backward. Rows of at least 16 keys: for
    rows shorter than one of its SIMD vectors (16 float32 / 8 float64 lanes with AVX-512, half that with AVX2)
    PyTorch's kernel gives a row of zeros, from its vector max's NaN rule; ember keeps the NaN there."""
    q, k, v = inputs((1, 2, L, 8), (1, 2, L, 8))
    q[0, 0, 2, 3] = np.nan
    check((q, k, v), dtype, np.random.RandomState(1).randn(1, 2, L, 8), is_causal=True)


@pytest.mark.parametrize('L, pos', [(200, 150), (200, 10), (800, 700), (800, 300)])
def test_causal_flash_kernel_blocks(L, pos):
    """Long rows: the kernel's query blocks (64 from 192 queries, 256 from 768) and 512-key blocks decide which
    earlier queries a NaN value reaches."""
    q, k, v = inputs((1, 2, L, 4), (1, 2, L, 4), seed=2)
    v[0, 0, pos, 1] = np.nan
    k[0, 1, pos, 2] = np.nan
    g = np.random.RandomState(3).randn(1, 2, L, 4)
    check((q, k, v), 'float64', g, is_causal=True)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_causal_math_path_spreads_nan(dtype):
    """3-D inputs take PyTorch's math path, which adds the causal mask: a NaN key reaches every query (ember's
    skipped upper blocks from 16 queries must not hide it)."""
    for which in 'kv':
        q, k, v = inputs((2, 40, 8), (2, 40, 8))
        {'k': k, 'v': v}[which][1, 30, :] = np.nan
        check((q, k, v), dtype, np.random.RandomState(1).randn(2, 40, 8), is_causal=True)


@pytest.mark.parametrize('shape', [(2, 2, 40, 8), (2, 40, 8)])
def test_causal_nonfinite_output_gradient(shape):
    """A NaN in the output's gradient reaches the gradients as PyTorch's backward (blocked or full) spreads it."""
    q, k, v = inputs(shape, shape)
    g = np.random.RandomState(1).randn(*shape)
    g[(0,) * (len(shape) - 2) + (5, 2)] = np.nan
    check((q, k, v), 'float64', g, is_causal=True)


@pytest.mark.parametrize('kind', ['bool', 'float'])
def test_masks_add_and_fully_masked_rows_are_zero(kind):
    """An attn_mask is added (a NaN key behind it still spreads, as in PyTorch); a row with every key masked gives
    zeros and zero gradients."""
    q, k, v = inputs((1, 2, 5, 4), (1, 2, 6, 4))
    keep = np.tril(np.ones((5, 6), bool))
    keep[0] = False
    mask = keep if kind == 'bool' else np.where(keep, 0.0, -np.inf)
    g = np.random.RandomState(1).randn(1, 2, 5, 4)
    want = check((q, k, v), 'float64', g, attn_mask=mask)
    assert (want[0][..., 0, :] == 0).all()
    k[0, 0, 5] = np.nan
    check((q, k, v), 'float64', g, attn_mask=mask)


def test_multihead_attention_with_a_nan_padded_key():
    """nn.MultiheadAttention's key_padding_mask is added as the masks are: a NaN in a padded key spreads as in
    PyTorch."""
    rs = np.random.RandomState(0)
    x = rs.randn(2, 5, 8)
    x[1, 4] = np.nan
    pad = np.zeros((2, 5), bool)
    pad[1, 4] = True
    outs = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        mha = lib.nn.MultiheadAttention(8, 2, batch_first=True).double()
        t = lib.tensor(x)
        for need in (True, False):
            y, _ = mha(t, t, t, key_padding_mask=lib.tensor(pad), need_weights=need)
            outs.append(y.detach().numpy())
    for got, want in zip(outs[2:], outs[:2]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, equal_nan=True)
