"""Real public model code run on ember against PyTorch (session 31): openai/CLIP (ModifiedResNet's
AttentionPool2d through F.multi_head_attention_forward, QuickGELU in float16 after convert_weights),
openai/whisper (model.py's attention with a key/value cache, decoding.py's beam search, audio.py's
log_mel_spectrogram), karpathy/llama2.c and meta-llama/llama (RoPE, GQA, training with clip_grad_norm_, export),
johnma2006/mamba-minimal (the selective scan) and Blealtan/efficient-kan (B-splines, lstsq). Each is reduced to
the lines that found a defect and runs with the same seed on both libraries, compared value for value."""
import subprocess
import sys

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


def test_conv_same_padding_even_kernel_warns_once():
    """timm's ConvMixer-style ``nn.Conv2d(..., padding='same')`` with an even kernel: PyTorch warns once per process
    that the asymmetric padding copies the input; the values match either way."""
    script = """
import sys, warnings
T = __import__(sys.argv[1])
warnings.simplefilter('always')
with warnings.catch_warnings(record=True) as w:
    c = T.nn.Conv2d(4, 4, 4, padding='same', groups=4)
    c(T.ones(1, 4, 5, 5)); c(T.ones(1, 4, 5, 5))
    T.nn.functional.conv1d(T.ones(1, 2, 6), T.ones(2, 2, 3), padding='same')
print([str(x.message).split(' (Triggered')[0] for x in w], [x.category.__name__ for x in w])
"""
    outs = [subprocess.run([sys.executable, '-c', script, lib], capture_output=True, text=True, check=True).stdout
            for lib in ('torch', 'ember')]
    assert outs[1] == outs[0] and 'zero-padded copy' in outs[0]


# -- torch._foreach_* (karpathy/nanochat's MuonAdamW, timm's ModelEmaV3, lion-pytorch's foreach Lion) ------
def _lists(T):
    g = T.Generator().manual_seed(1)
    return [T.rand(3, generator=g) + 0.5, T.rand(2, 2, generator=g) + 0.5]


_UNARY = ['abs', 'acos', 'asin', 'atan', 'ceil', 'cos', 'cosh', 'erf', 'erfc', 'exp', 'expm1', 'floor', 'frac',
          'lgamma', 'log', 'log10', 'log1p', 'log2', 'neg', 'reciprocal', 'round', 'rsqrt', 'sigmoid', 'sign', 'sin',
          'sinh', 'sqrt', 'tan', 'tanh', 'trunc']
_OTHERS = [('number', lambda T: 0.7), ('int', lambda T: 2), ('scalars', lambda T: [0.5, 1.5]),
           ('tensors', _lists), ('0-d', lambda T: T.tensor(0.6)), ('1-d', lambda T: T.ones(2))]


def _outcome(call):
    """A call's results (tuple or list, their values and dtypes) or its error (type and first line)."""
    try:
        r = call()
    except Exception as e:
        return type(e).__name__, str(e).split('\n')[0]
    return type(r).__name__, [(str(t.dtype), tuple(t.shape), str(np.round(t.double().numpy(), 5).tolist())) for t in r]


def _foreach_cases(T):
    cases = {}
    for op in _UNARY:
        cases[op] = lambda op=op: getattr(T, '_foreach_' + op)(_lists(T))
        a = _lists(T)
        cases[op + '_'] = lambda op=op, a=a: (getattr(T, f'_foreach_{op}_')(a), a)[1]
    for op in ['add', 'sub', 'mul', 'div', 'clamp_max', 'clamp_min', 'maximum', 'minimum', 'pow']:
        for what, other in _OTHERS:
            cases[f'{op} {what}'] = lambda op=op, o=other: getattr(T, '_foreach_' + op)(_lists(T), o(T))
            a = _lists(T)
            cases[f'{op}_ {what}'] = lambda op=op, o=other, a=a: (getattr(T, f'_foreach_{op}_')(a, o(T)), a)[1]
        cases[f'{op} alpha'] = lambda op=op: getattr(T, '_foreach_' + op)(_lists(T), _lists(T), alpha=0.5)
    cases['pow number base'] = lambda: T._foreach_pow(2.0, _lists(T))
    for op in ['addcdiv', 'addcmul']:
        for v in [1, 0.3, [0.2, 0.4], 'tensor']:
            cases[f'{op} {v}'] = lambda op=op, v=v: getattr(T, '_foreach_' + op)(
                _lists(T), _lists(T), _lists(T), T.tensor([0.2, 0.4]) if v == 'tensor' else v)
    for w in [0.3, [0.2, 0.9], 'tensors']:
        cases[f'lerp_ {w}'] = lambda w=w, a=_lists(T): (T._foreach_lerp_(
            a, [x * 2 for x in _lists(T)], _lists(T) if w == 'tensors' else w), a)[1]
    for o in [2, 1, float('inf'), 3.5]:
        cases[f'norm {o}'] = lambda o=o: T._foreach_norm(_lists(T), o)
        cases[f'powsum {o}'] = lambda o=o: T._foreach_powsum(_lists(T), o)
    cases.update({
        'norm float64': lambda: T._foreach_norm(_lists(T), dtype=T.float64),
        'max': lambda: T._foreach_max(_lists(T)),
        'mm': lambda: T._foreach_mm([T.ones(2, 3)], [T.ones(3, 2) * 2]),
        'clone': lambda: T._foreach_clone(_lists(T)),
        'copy_': lambda a=_lists(T): T._foreach_copy_(a, [T.zeros(3, dtype=T.float64), T.ones(2)]),
        'zero_': lambda a=_lists(T): T._foreach_zero_(a),
        'lengths differ': lambda: T._foreach_add(_lists(T), [T.ones(2)]),
        'empty': lambda: T._foreach_add([], 1),
        'scalars too few': lambda: T._foreach_add(_lists(T), [1.0]),
        'shapes differ': lambda: T._foreach_add(_lists(T), [T.ones(2), T.ones(4)]),
        'int in place': lambda: T._foreach_add_([T.ones(2, dtype=T.int64)], 1.5),
        'int promoted': lambda: T._foreach_add([T.ones(2, dtype=T.int64)], 1.5),
        'half dtypes': lambda: T._foreach_mul([T.ones(2, dtype=T.float16), T.ones(2, dtype=T.float64)], 1.702),
        'addcdiv bad scalars': lambda: T._foreach_addcdiv(_lists(T), _lists(T), _lists(T), T.tensor([0.2, 0.4, 0.5])),
    })
    return cases


def test_foreach_ops_against_pytorch():
    """Every ``torch._foreach_*`` overload (Scalar, ScalarList, List with alpha, 0-d Tensor; in place and not) and
    PyTorch's list errors: values, dtypes, the tuple/list returned, the error types and messages."""
    want, got = _foreach_cases(torch), _foreach_cases(ember)
    assert list(got) == list(want)
    for name in want:
        assert _outcome(got[name]) == _outcome(want[name]), name


def test_foreach_optimizer_updates():
    """nanochat's MuonAdamW writes stacked updates back with ``_foreach_copy_(params, list(stacked.unbind(0)))``,
    timm's ModelEmaV3 updates with ``_foreach_lerp_(ema, params, 1 - decay)``, and foreach optimizers scale
    with ``_foreach_mul_``/``_foreach_add_(alpha=...)`` under no_grad; with grad on ember refuses clearly."""
    def run(T):
        T.manual_seed(0)
        params = [T.nn.Parameter(T.randn(3, 4)) for _ in range(3)]
        ema = [p.detach().clone() for p in params]
        with T.no_grad():
            stacked = T.stack(params) * 0.5
            T._foreach_copy_(params, list(stacked.unbind(0)))
            T._foreach_lerp_(ema, params, 1 - 0.9)
            T._foreach_mul_(ema, 0.99)
            T._foreach_add_(ema, params, alpha=-0.01)
            norms = T._foreach_norm(ema)
        return params, ema, norms
    want, got = _both(run)
    _same(got, want)
    x = [ember.ones(2, requires_grad=True)]
    with pytest.raises(RuntimeError, match='no_grad'):
        ember._foreach_mul(x, 2.0)
    assert torch._foreach_mul([torch.ones(2, requires_grad=True)], 2.0)[0].requires_grad


def test_group_tensors_by_device_and_dtype():
    """timm's ADOPT (foreach=True) groups its state lists with ``Optimizer._group_tensors_by_device_and_dtype``;
    ``torch.utils._foreach_utils`` imports under the alias. Groups compared by key (PyTorch's come in hash order)."""
    from ember import aliasing

    def run(T, fu):
        a = [T.ones(2), T.ones(2, dtype=T.float64), T.ones(3) * 2]
        b = [T.zeros(2), None, T.zeros(3)]
        out = []
        for groups in (T.optim.Optimizer._group_tensors_by_device_and_dtype([a, b], with_indices=True),
                       fu._group_tensors_by_device_and_dtype([a, b])):
            out.append(sorted((str(k), v) for k, v in groups.items()))
        return out, fu._has_foreach_support(a, T.device('cpu'))
    import torch.utils._foreach_utils as want_fu
    with aliasing.as_torch():
        import importlib
        got_fu = importlib.import_module('torch.utils._foreach_utils')
    assert got_fu.__name__ == 'ember.utils._foreach_utils'
    _same(run(ember, got_fu), run(torch, want_fu))


def test_backward_create_graph_warns_once():
    """timm's AdaHessian calls ``loss.backward(create_graph=True)``: PyTorch warns once per process about the
    reference cycle between the parameters and their gradients (autograd.grad does not warn)."""
    script = """
import sys, warnings
T = __import__(sys.argv[1])
warnings.simplefilter('always')
with warnings.catch_warnings(record=True) as w:
    y = T.ones(2, requires_grad=True)
    T.autograd.grad((y * y).sum(), y, create_graph=True)
    n = len(w)
    (y * y).sum().backward(create_graph=True)
    (y * y).sum().backward(create_graph=True)
print(n, [(str(x.message).split(' (Triggered')[0], x.category.__name__) for x in w])
"""
    outs = [subprocess.run([sys.executable, '-c', script, lib], capture_output=True, text=True, check=True).stdout
            for lib in ('torch', 'ember')]
    assert outs[1] == outs[0] and 'reference cycle' in outs[0]


@pytest.mark.parametrize('dtype', ['bfloat16', 'float16'])
def test_muon_newton_schulz_addmm_rounds_once(dtype):
    """timm's Muon orthogonalises in bfloat16 with ``addmm(A, A, A, beta=b, alpha=c, out=B)`` and
    ``baddbmm``: PyTorch adds ``beta * input`` to the float32 product and rounds once."""
    def run(T):
        T.manual_seed(0)
        X = T.randn(8, 16).to(getattr(T, dtype))
        X = X / (X.norm(dim=(-2, -1), keepdim=True) + 1e-7)
        a, b, c = (3.4445, -4.7750, 2.0315)
        outs = []
        for _ in range(3):
            A = X @ X.mT
            B = T.empty_like(A)
            T.addmm(A, A, A, beta=b, alpha=c, out=B)
            X = T.addmm(X, B, X, beta=a)
            outs += [B, X, T.baddbmm(A[None], A[None], A[None], beta=0.5, alpha=-1.5), T.addmm(A[0], A, A, beta=0.0)]
        return [(str(o.dtype), o.float()) for o in outs]
    want, got = _both(run)
    _same(got, want, atol=0, rtol=0)


def test_addmm_dtype_errors():
    """A float32 bias with bfloat16 weights (a half-converted checkpoint) in ``torch.addmm``: PyTorch checks input
    against mat2, then mat1 against mat2, and raises; ember promoted silently."""
    def msgs(T):
        b, f, d = T.ones(2, 2, dtype=T.bfloat16), T.ones(2, 2), T.ones(2, 2, dtype=T.float64)
        out = []
        for args in [(f, b, b), (b, b, f), (b, f, b), (f, f, d), (d, f, f), (f, d, f), (f[0], d, d)]:
            with pytest.raises(RuntimeError) as e:
                T.addmm(*args)
            out.append(str(e.value))
        return out
    assert msgs(ember) == msgs(torch)
