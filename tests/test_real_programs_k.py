"""Real public model code run on ember against PyTorch (session 31): openai/CLIP (ModifiedResNet's
AttentionPool2d through F.multi_head_attention_forward, QuickGELU in float16 after convert_weights),
openai/whisper (model.py's attention with a key/value cache, decoding.py's beam search, audio.py's
log_mel_spectrogram), karpathy/llama2.c and meta-llama/llama (RoPE, GQA, training with clip_grad_norm_, export),
johnma2006/mamba-minimal (the selective scan) and Blealtan/efficient-kan (B-splines, lstsq). Each is reduced to
the lines that found a defect and runs with the same seed on both libraries, compared value for value."""
import numpy as np
import pytest
import torch

import ember
from helpers import assert_same


def _both(run, **kw):
    """``run(T, ...)`` on PyTorch and on ember; the two results."""
    return run(torch, **kw), run(ember, **kw)


def _same(got, want, atol=1e-5, rtol=1e-4):
    if isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w, atol, rtol)
    elif isinstance(want, torch.Tensor):
        assert_same(got, want, atol, rtol)
    else:
        assert str(got) == str(want), f'{got!r} != {want!r}'


# -- openai/CLIP -------------------------------------------------------------------------------------------
def test_clip_attention_pool_projects_to_output_dim():
    """CLIP's AttentionPool2d: F.multi_head_attention_forward with separate q/k/v projections whose out_proj
    (c_proj) maps embed_dim to a smaller output_dim; the result has out_proj's width, values and gradients."""
    def run(T):
        nn, F = T.nn, T.nn.functional
        T.manual_seed(0)
        pos = nn.Parameter(T.randn(4 * 4 + 1, 32) / 32 ** 0.5)
        kp, qp, vp, cp = nn.Linear(32, 32), nn.Linear(32, 32), nn.Linear(32, 32), nn.Linear(32, 12)
        x = T.randn(2, 32, 4, 4, requires_grad=True)
        h = x.flatten(start_dim=2).permute(2, 0, 1)
        h = T.cat([h.mean(dim=0, keepdim=True), h], dim=0) + pos[:, None, :]
        out, w = F.multi_head_attention_forward(
            query=h[:1], key=h, value=h, embed_dim_to_check=32, num_heads=4, q_proj_weight=qp.weight,
            k_proj_weight=kp.weight, v_proj_weight=vp.weight, in_proj_weight=None,
            in_proj_bias=T.cat([qp.bias, kp.bias, vp.bias]), bias_k=None, bias_v=None, add_zero_attn=False,
            dropout_p=0, out_proj_weight=cp.weight, out_proj_bias=cp.bias, use_separate_proj_weight=True,
            training=True, need_weights=False)
        out = out.squeeze(0)
        out.pow(2).sum().backward()
        return out, w, x.grad, pos.grad, cp.weight.grad
    want, got = _both(run)
    _same(got, want)


@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
def test_quick_gelu_half_scalar_in_float32(dtype):
    """CLIP's QuickGELU ``x * torch.sigmoid(1.702 * x)`` after convert_weights: PyTorch's float16/bfloat16 mul and
    div take a number (or a 0-d tensor of another dtype) second operand unrounded in float32."""
    def run(T):
        T.manual_seed(0)
        x = T.randn(4000).to(getattr(T, dtype))
        s32, s64 = T.tensor(1.702), T.tensor(0.3337, dtype=T.float64)
        outs = [x * T.sigmoid(1.702 * x), x * 1.702, x / 3.3, x.mul(s32), x / s64, x.div(s32), 2.5 / x,
                s32 * x, x * 3, x.mul(True)]
        return [(str(o.dtype), o.float()) for o in outs]
    want, got = _both(run)
    _same(got, want, atol=0, rtol=0)


# -- openai/whisper ----------------------------------------------------------------------------------------
def test_sdpa_batch_mismatch_error():
    """whisper's beam search over a batch of two audios feeds cross-attention keys of another batch size to
    scaled_dot_product_attention: PyTorch's broadcast RuntimeError, not NumPy's ValueError."""
    msgs = []
    for T in (torch, ember):
        q, k = T.randn(2, 4, 5, 8), T.randn(6, 4, 3, 8)
        for causal in (True, False):
            with pytest.raises(RuntimeError) as e:
                T.nn.functional.scaled_dot_product_attention(q, k, k, is_causal=causal)
            msgs.append(str(e.value))
    assert msgs[2:] == msgs[:2]


# -- huggingface/pytorch-image-models (timm) ---------------------------------------------------------------
def test_jit_annotations_import():
    """timm's densenet.py (as torchvision's) writes ``from torch.jit.annotations import List``: the module imports
    under the alias and its names are PyTorch's typing names; BroadcastingList2[int] annotates as None."""
    from ember import aliasing
    import torch.jit.annotations as want
    with aliasing.as_torch():
        import importlib
        got = importlib.import_module('torch.jit.annotations')
        from torch.jit.annotations import List, BroadcastingList2   # noqa: F401
    assert got.__name__ == 'ember.jit.annotations'
    for name in ('Any', 'Dict', 'List', 'Optional', 'Tuple', 'Union'):
        assert getattr(got, name) is getattr(want, name)
    assert got.BroadcastingList2[int] is want.BroadcastingList2[int] is None
    assert ember.jit.annotations is got
