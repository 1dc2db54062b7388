"""torch.bfloat16 tensors against PyTorch 2.13 on the CPU: every registry op on bf16 inputs (result dtype, and
values rounded once as PyTorch's kernels round), promotion, Python scalars, printing, conversions, views,
autograd, and PyTorch's checkpoint format (BFloat16Storage) both ways."""
import io
import sys
import warnings

import numpy as np
import pytest
import torch

import ember
from _isa import pytorch_avx512

sys.path.insert(0, __import__('os').path.dirname(__file__))
import registry as R  # noqa: E402

# Ops that ember composes from several ops, each rounding to bf16, where PyTorch's kernel rounds once (or
# accumulates in another order): their values may differ by a few bf16 units in the last place.
ROUNDED_PER_STEP = {
    'addmm', 'addmv', 'addbmm', 'baddbmm', 'index_reduce', 'ldexp', 'renorm', 'bilinear', 'dist', 'index_add', 'linalg.cross', 'logsumexp', 'prod',
    'rsqrt', 'std', 'var', 'xlogy', 'special.i0e', 'special.entr', 'nn.functional.batch_norm', 'nn.functional.bilinear',
    'nn.functional.binary_cross_entropy_with_logits', 'nn.functional.cross_entropy', 'nn.functional.embedding',
    'nn.functional.gelu', 'nn.functional.group_norm', 'nn.functional.huber_loss', 'nn.functional.instance_norm',
    'nn.functional.layer_norm', 'nn.functional.mse_loss', 'nn.functional.nll_loss',
    'nn.functional.rms_norm', 'nn.functional.scaled_dot_product_attention', 'nn.functional.smooth_l1_loss',
    'nn.functional.soft_margin_loss', 'nn.functional.softmax', 'nn.functional.cosine_embedding_loss',
    'nn.functional.multilabel_soft_margin_loss', 'nn.functional.triplet_margin_loss',
    'nn.functional.triplet_margin_with_distance_loss', 'nn.functional.multi_head_attention_forward',
    # torch-level forms of the above, and grid_sample's interpolation
    'cross', 'layer_norm', 'group_norm', 'batch_norm', 'instance_norm', 'embedding', 'binary_cross_entropy_with_logits',
    'cosine_embedding_loss', 'triplet_margin_loss', 'kl_div', 'nn.functional.affine_grid', 'rms_norm', 'addmv_',
    'rsqrt_', 'xlogy_'}


# known bf16 defects of registry entries, each with its reason: they must still fail (a fixed one is removed)
BF16_GAPS = {'normal': 'normal with bf16 mean/std gives float32 (and other values for a float mean)',
             'matrix_exp': 'PyTorch computes a bf16 matrix_exp in bf16 and overflows to inf/nan on these inputs; '
                           'ember computes it in float64 and rounds once',
             'linalg.matrix_exp': 'as matrix_exp',
             'nn.functional.grid_sample': 'bicubic sampling of bf16 rounds PyTorch\'s way only for bilinear and nearest: '
                                          'PyTorch keeps the cubic coefficients in bf16 (not reproduced yet)',
             'nn.functional.adaptive_avg_pool3d': 'sums each bin in float32 and rounds once; PyTorch\'s 3-D kernel rounds '
                                                  'otherwise (a few units in the last place; not reproduced yet)'}


def bf16(lib, v, dtype='bfloat16'):
    """Registry sample values in ``lib``: float32 arrays as ``dtype`` tensors."""
    if isinstance(v, R.View):
        return v.fn(bf16(lib, v.base, dtype))
    if isinstance(v, np.ndarray):
        t = lib.tensor(v)
        return t.to(getattr(lib, dtype)) if v.dtype == np.float32 else t
    if isinstance(v, list) and v and all(isinstance(x, np.ndarray) for x in v):
        return [bf16(lib, x, dtype) for x in v]
    return v


def flat(o):
    return [y for x in o for y in flat(x)] if isinstance(o, (tuple, list)) else [o]


def values(t):
    return np.array(t.detach().float().tolist(), dtype=np.float64).reshape(tuple(t.shape))


def has_float32(sample):
    return any(isinstance(a, R.View) or getattr(a, 'dtype', None) == np.float32 for a in sample.args)


def test_registry_ops_on_bfloat16_inputs():
    """Each op's result has PyTorch's dtype, and PyTorch's values exactly (ops in ROUNDED_PER_STEP: within a
    few units in the last place); ember refuses a bf16 call only where it refuses the float32 one too."""
    checked, problems = 0, []
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for op in R.OPS:
            samples = op.samples() if callable(op.samples) else op.samples
            for s in [s for s in samples if not (s.error or s.unsupported) and has_float32(s)][:3]:
                try:
                    theirs = op.call(torch, *[bf16(torch, a) for a in s.args], **s.kwargs)
                except Exception:
                    continue
                try:
                    mine = op.call(ember, *[bf16(ember, a) for a in s.args], **s.kwargs)
                except Exception as e:
                    try:
                        op.call(ember, *[bf16(ember, a, 'float32') for a in s.args], **s.kwargs)
                    except Exception:
                        continue   # refused for float32 as well: not a bf16 matter
                    problems.append(f'{op.id} {s.desc}: {type(e).__name__}: {e}')
                    continue
                checked += 1
                for a, b in zip(flat(mine), flat(theirs)):
                    if not isinstance(b, torch.Tensor):
                        continue
                    if not isinstance(a, ember.Tensor) or str(a.dtype) != str(b.dtype):
                        problems.append(f'{op.id} {s.desc}: dtype {getattr(a, "dtype", type(a))}, PyTorch {b.dtype}')
                        break
                    if b.dtype != torch.bfloat16:
                        continue
                    x, y = values(a), values(b)
                    # (AVX2 PyTorch, no oneDNN bfloat16 path, rounds transposed convs' partial sums)
                    if op.id in ROUNDED_PER_STEP or (not pytorch_avx512() and 'conv_transpose' in op.id):
                        scale = np.abs(y[np.isfinite(y)]).max(initial=1.0)
                        ok = x.shape == y.shape and np.allclose(x, y, rtol=2 ** -6, atol=2 ** -6 * scale, equal_nan=True)
                    else:
                        ok = np.array_equal(x, y, equal_nan=True)
                    if not ok:
                        problems.append(f'{op.id} {s.desc}: values {x.ravel()[:6]} PyTorch {y.ravel()[:6]}')
                        break
    assert checked > 700
    gaps = [p for p in problems if p.split(' ')[0] in BF16_GAPS]
    stale = [g for g in BF16_GAPS if not any(p.split(' ')[0] == g for p in gaps)]
    assert not stale, f'stale BF16_GAPS (these pass now: remove them): {stale}'
    problems = [p for p in problems if p not in gaps]
    assert not problems, '\n'.join(problems)


PAIRS = [('bfloat16', 'float16'), ('bfloat16', 'float32'), ('bfloat16', 'float64'), ('bfloat16', 'int64'),
         ('bfloat16', 'bool'), ('bfloat16', 'bfloat16'), ('int32', 'bfloat16')]


@pytest.mark.parametrize('a,b', PAIRS)
@pytest.mark.parametrize('zero_d', [False, True])
def test_promotion(a, b, zero_d):
    x = np.array([1.5, -3.25, 250.0, 0.1])
    y = x[0] if zero_d else x[::-1].copy()
    ours = ember.tensor(x).to(getattr(ember, a)) + ember.tensor(y).to(getattr(ember, b))
    theirs = torch.tensor(x).to(getattr(torch, a)) + torch.tensor(y).to(getattr(torch, b))
    assert repr(ours) == repr(theirs)
    assert ember.promote_types(getattr(ember, a), getattr(ember, b)) == getattr(ember, str(theirs.dtype)[6:]) or zero_d


def test_python_scalars_round_as_pytorch_rounds_them():
    s = 1 + 2 ** -8 + 2 ** -10   # between two bf16 values: rounding it first changes the results below
    for lib in (ember, torch):
        one = lib.tensor([1.0, 3.0], dtype=lib.bfloat16)
        got = [one - s, s - one, one + s, one * s, one / s, s / one, (one * 2) ** s, one.clamp(min=s), one * 7,
               one + 2, lib.where(one > 2, one, s)]
        if lib is ember:
            mine = [repr(t) for t in got]
        else:
            assert mine == [repr(t) for t in got]


def test_printing():
    cases = ['lib.tensor([1.001, 2.3, 3e-3, -7.77], dtype=lib.bfloat16)', 'lib.tensor(1e30).bfloat16()',
             'lib.arange(12.).reshape(3, 4).bfloat16() / 7', 'lib.zeros(0, dtype=lib.bfloat16)',
             'lib.tensor([float("nan"), float("inf"), -0.0]).bfloat16()',
             'lib.ones(2, dtype=lib.bfloat16, requires_grad=True) * 3']
    for c in cases:
        assert repr(eval(c, {'lib': ember})) == repr(eval(c, {'lib': torch})), c


def test_creation_and_conversions():
    tricky = [1 + 2 ** -8 + 2 ** -30, 1 + 2 ** -8, 1.0 + 3 * 2 ** -9, 3e38, -1e-40, 65504.0]
    for c in ['lib.tensor(tricky, dtype=lib.bfloat16)', 'lib.tensor(tricky).bfloat16()',
              'lib.tensor(tricky, dtype=lib.float64).to(lib.bfloat16)', 'lib.zeros(2, 3, dtype=lib.bfloat16)',
              'lib.ones(2, dtype=lib.bfloat16)', 'lib.full((2,), 1.1, dtype=lib.bfloat16)',
              'lib.arange(3, dtype=lib.bfloat16)', 'lib.linspace(0, 1, 5, dtype=lib.bfloat16)',
              'lib.zeros_like(lib.ones(2).bfloat16())', 'lib.tensor(tricky).bfloat16().float()',
              'lib.tensor(tricky).bfloat16().double()', 'lib.tensor(tricky).bfloat16().half()',
              'lib.tensor([2.7, -2.7]).bfloat16().long()', 'lib.tensor([1, 2]).to(lib.bfloat16)']:
        mine, theirs = eval(c, {'lib': ember, 'tricky': tricky}), eval(c, {'lib': torch, 'tricky': tricky})
        assert repr(mine) == repr(theirs) and mine.tolist() == theirs.tolist(), c
    t = ember.tensor([1.5, 2.0]).bfloat16()
    assert (t.element_size(), t.itemsize, t.nbytes, t.type()) == (2, 2, 4, 'torch.BFloat16Tensor')
    assert t.type(ember.float32).dtype == ember.float32 and t.is_floating_point() and t.dtype.is_floating_point
    assert t[0].item() == 1.5 and t.tolist() == [1.5, 2.0]
    with pytest.raises(TypeError, match='Got unsupported ScalarType BFloat16'):
        t.numpy()
    with pytest.raises(TypeError, match='Got unsupported ScalarType BFloat16'):
        torch.tensor([1.0]).bfloat16().numpy()
    big_endian = np.array([1.001, 2.3], np.dtype(np.float32).newbyteorder('S'))   # how ember stores bf16
    for fn in ('from_numpy', 'tensor', 'as_tensor'):
        with pytest.raises(ValueError, match='byte order different from the native'):
            getattr(ember, fn)(big_endian)
        with pytest.raises(ValueError, match='byte order different from the native'):
            getattr(torch, fn)(big_endian)
    m = ember.nn.Linear(2, 3).bfloat16()
    assert m.weight.dtype == ember.bfloat16 and m.bias.dtype == ember.bfloat16


def test_views_and_in_place_ops_share_memory():
    for lib in (ember, torch):
        t = lib.tensor([1.001, 2.3, 3e-3, -7.77], dtype=lib.bfloat16)
        v = t[1:3]
        v.add_(1.0001)
        t.view(2, 2)[0].mul_(3)
        c = t.clone()
        c[0] = 1.0001
        out = [repr(x) for x in (t, v, c, t.expand(2, 4) + 1)]
        if lib is ember:
            mine = out
    assert mine == out


def test_autograd_through_bfloat16():
    x = np.array([[0.3, -1.2, 2.5], [1.1, 0.7, -0.4]], np.float32)
    w = np.array([[0.5, -0.25], [1.5, 0.75], [-2.0, 0.125]], np.float32)
    out = {}
    for lib in (ember, torch):
        xt = lib.tensor(x).bfloat16().requires_grad_()
        wt = lib.tensor(w).bfloat16().requires_grad_()
        y = (xt @ wt).relu() * 3
        loss = (y * y).sum() + (xt.exp() * 0.5).sum()
        loss.backward()
        out[lib] = [repr(loss), repr(y), xt.grad.dtype, wt.grad.dtype, values(xt.grad), values(wt.grad)]
    assert out[ember][:2] == out[torch][:2] and str(out[ember][2]) == str(out[torch][2]) == 'torch.bfloat16'
    for mine, theirs in zip(out[ember][4:], out[torch][4:]):   # gradients summed over two paths: within one ulp
        np.testing.assert_allclose(mine, theirs, rtol=2 ** -7, atol=0)
    assert ember.tensor(x).bfloat16().requires_grad_().sum().grad_fn.name() == 'SumBackward0'


def test_checkpoints_both_ways():
    base = ember.tensor([[1.001, 2.3], [3e-3, -7.77]]).bfloat16()
    param = ember.nn.Parameter(ember.ones(2).bfloat16())
    buf = io.BytesIO()
    ember.save({'t': base, 'row': base[1], 'tt': base.t(), 'p': param}, buf)
    theirs = torch.load(io.BytesIO(buf.getvalue()))
    assert repr(theirs['t']) == repr(torch.tensor([[1.001, 2.3], [3e-3, -7.77]]).bfloat16())
    assert theirs['p'].dtype == torch.bfloat16 and theirs['p'].requires_grad
    theirs['t'][1, 0] = 9
    assert theirs['row'][0].item() == 9 and theirs['tt'][0, 1].item() == 9   # one storage, as saved
    mine = ember.load(io.BytesIO(buf.getvalue()))
    assert repr(mine) == repr(ember.load(io.BytesIO(buf.getvalue()))) and mine['t'].dtype == ember.bfloat16
    tb = torch.tensor([[0.1, -2.5e-3], [3e38, 7.0]]).bfloat16()
    out = io.BytesIO()
    torch.save({'w': tb, 'col': tb[:, 1]}, out)
    loaded = ember.load(io.BytesIO(out.getvalue()))
    assert repr(loaded) == repr(torch.load(io.BytesIO(out.getvalue())))
    loaded['w'][0, 1] = 4.0
    assert loaded['col'].tolist() == [4.0, 7.0]
