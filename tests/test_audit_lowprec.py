"""Half-precision programs against PyTorch, bit for bit: CPU autocast's cast policies (an op on PyTorch's fp32 list
returns float32 from bfloat16/float16 inputs, a lower_precision one (linalg.vecdot) the autocast dtype from float32,
a promote op its widest input), with the values and gradients PyTorch gives."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import exact_like_torch  # noqa: F401 (fixture)

RNG = np.random.default_rng(0)


def arr(*shape, lo=-1.0):
    return RNG.uniform(lo, 1, shape).astype(np.float32)


def spd(n):
    a = arr(n, n)
    return (a @ a.T + n * np.eye(n)).astype(np.float32)


F, C = 'F', 'C'   # an input made float32; one without grad (the others: the autocast dtype, requiring grad)

# (name, fn(lib, tensors...), inputs): each runs under torch.autocast('cpu', dtype) in both libraries
CASES = [
    ('grid_sample', lambda L, a, g: L.nn.functional.grid_sample(a, g, align_corners=False),
     [arr(1, 2, 4, 4), arr(1, 3, 3, 2) * 0.9]),
    ('reflect_pad1d', lambda L, a: L.nn.functional.pad(a, (1, 2), mode='reflect'), [arr(1, 2, 5)]),
    ('reflect_pad2d', lambda L, a: L.nn.functional.pad(a, (1, 1, 2, 1), mode='reflect'), [arr(1, 2, 4, 4)]),
    ('reflect_pad3d_stays', lambda L, a: L.nn.functional.pad(a, (1,) * 6, mode='reflect'),
     [arr(1, 1, 3, 3, 3)]),
    ('replicate_pad1d', lambda L, a: L.nn.functional.pad(a, (2, 1), mode='replicate'), [arr(2, 4)]),
    ('replicate_pad3d', lambda L, a: L.nn.functional.pad(a, (1,) * 6, mode='replicate'), [arr(1, 1, 3, 3, 3)]),
    ('constant_pad_stays', lambda L, a: L.nn.functional.pad(a, (1, 1), value=0.5), [arr(2, 4)]),
    ('adaptive_max_pool3d', lambda L, a: L.nn.functional.adaptive_max_pool3d(a, 2), [arr(1, 1, 4, 4, 4)]),
    ('max_unpool1d', lambda L, a: L.nn.functional.max_unpool1d(*L.nn.functional.max_pool1d(a, 2, return_indices=True), 2),
     [arr(1, 2, 6)]),
    ('max_unpool3d', lambda L, a: L.nn.functional.max_unpool3d(*L.nn.functional.max_pool3d(a, 2, return_indices=True), 2),
     [arr(1, 1, 4, 4, 4)]),
    ('fractional_max_pool2d', lambda L, a, s: L.nn.functional.fractional_max_pool2d(a, 2, output_size=3,
                                                                                    _random_samples=s),
     [arr(1, 2, 6, 6), (C, arr(1, 2, 2, lo=0.0))]),
    ('polar', lambda L, a, b: L.view_as_real(L.polar(a, b)), [arr(3, lo=0.1), arr(3)]),
    ('quantile', lambda L, a: L.quantile(a, 0.3), [arr(7)]),
    ('nanquantile_dim', lambda L, a: L.nanquantile(a, 0.6, dim=1), [arr(3, 5)]),
    ('fft', lambda L, a: L.view_as_real(L.fft.fft(a)), [arr(4)]),   # (sizes 4: float32 sums exact)
    ('rfft2', lambda L, a: L.view_as_real(L.fft.rfft2(a)), [arr(4, 4)]),
    ('ihfft', lambda L, a: L.view_as_real(L.fft.ihfft(a).resolve_conj()), [arr(4)]),
    ('irfftn', lambda L, a: L.fft.irfftn(L.fft.rfftn(a.float())), [arr(4, 4)]),
    ('index_copy_promotes', lambda L, a, b: a.index_copy(0, L.tensor([2, 0]), b), [arr(3, 2), (F, arr(2, 2))]),
    ('index_copy_same', lambda L, a, b: a.index_copy(0, L.tensor([1, 0]), b), [arr(3, 2), arr(2, 2)]),
    ('vecdot_lower', lambda L, a, b: L.linalg.vecdot(a, b), [(F, arr(3, 4)), (F, arr(3, 4))]),
    ('vecdot_1d', lambda L, a, b: L.linalg.vecdot(a, b, dim=0), [(F, arr(5)), (F, arr(5))]),
    ('cat_promotes', lambda L, a, b: L.cat([a, b]), [arr(3), (F, arr(3))]),
]


# einsum under autocast: one bmm of its two operands runs in the autocast dtype (bfloat16 here: float16's
# einsum backward rounds differently from PyTorch's bmm backward, with or without autocast)
EINSUM = [
    ('einsum_mm', lambda L, a, b: L.einsum('ij,jk->ik', a, b), [(F, arr(3, 4)), (F, arr(4, 5))]),
    ('einsum_attn', lambda L, q, k: L.einsum('bhqd,bhkd->bhqk', q, k), [(F, arr(2, 2, 3, 4)), (F, arr(2, 2, 5, 4))]),
    ('einsum_dot', lambda L, a, b: L.einsum('i,i->', a, b), [(F, arr(6)), (F, arr(6))]),
]


def make(L, spec, dt):
    kind, a = spec if isinstance(spec, tuple) else (None, spec)
    return L.tensor(a, dtype=L.float32 if kind == F else getattr(L, dt)).requires_grad_(kind != C)


def run(L, fn, specs, dt):
    xs = [make(L, s, dt) for s in specs]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with L.autocast('cpu', dtype=getattr(L, dt)):
            out = fn(L, *xs)
    g = L.tensor(np.random.default_rng(1).uniform(-1, 1, tuple(out.shape)), dtype=out.dtype)
    grads = L.autograd.grad(out, [x for x in xs if x.requires_grad], g, allow_unused=True)
    return [out] + [x for x in grads if x is not None]


def same(t, e):
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(np.array(e.detach().double().tolist()), np.array(t.detach().double().tolist()))


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
@pytest.mark.parametrize('name,fn,specs', CASES, ids=[c[0] for c in CASES])
def test_autocast_policy(name, fn, specs, dt):
    t, e = run(torch, fn, specs, dt), run(ember, fn, specs, dt)
    assert len(t) == len(e)
    for a, b in zip(t, e):
        same(a, b)


@pytest.mark.parametrize('name,fn,specs', EINSUM, ids=[c[0] for c in EINSUM])
def test_autocast_einsum(name, fn, specs):
    test_autocast_policy(name, fn, specs, 'bfloat16')


def test_promote_refuses_a_second_lower_precision_dtype():
    """index_copy of bfloat16 and float16 under autocast(float16): PyTorch's prioritize refuses the pair."""
    for L in (torch, ember):
        a, b = L.zeros(3, 2, dtype=L.bfloat16), L.zeros(2, 2, dtype=L.float16)
        with L.autocast('cpu', dtype=L.float16), pytest.raises(RuntimeError, match='Unexpected floating ScalarType'):
            a.index_copy(0, L.tensor([2, 0]), b)


def test_index_copy_names_bfloat16():
    """Outside autocast a bfloat16/float32 pair is refused, naming BFloat16 (its array is float32's)."""
    msg = 'but got (self) BFloat16 and (source) Float'
    for L in (torch, ember):
        with pytest.raises(RuntimeError, match=msg.replace('(', r'\(').replace(')', r'\)')):
            L.zeros(3, 2, dtype=L.bfloat16).index_copy(0, L.tensor([2, 0]), L.zeros(2, 2))


PADS = [((1, 2, 9), (3, 4)), ((1, 2, 5, 6), (2, 3, 3, 2)), ((2, 4, 5, 4), (2, 2, 3, 1, 2, 2)), ((3, 4, 5), (0, 2, 1, 3))]


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
@pytest.mark.parametrize('mode', ['reflect', 'replicate'])
@pytest.mark.parametrize('shape,pad', PADS, ids=[str(len(p) // 2) + 'd' + str(i) for i, (_, p) in enumerate(PADS)])
def test_pad_backward_rounds_each_add(shape, pad, mode, dt):
    """F.pad's reflection/replication gradient in float16/bfloat16: PyTorch's kernel adds each output position's
    gradient onto its source in output order, rounding every add (a sum rounded once differs in the last bit)."""
    a = arr(*shape)
    def run(L):
        x = L.tensor(a, dtype=getattr(L, dt)).requires_grad_(True)
        y = L.nn.functional.pad(x, pad, mode=mode)
        return [y] + list(L.autograd.grad(y, x, L.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)),
                                                          dtype=y.dtype)))
    for t, e in zip(run(torch), run(ember)):
        same(t, e)


def lstm_run(L, shape, autocast, bidirectional, layers, batch_first):
    """An LSTM's outputs (out, h_n, c_n) and the gradients of its input, initial state and parameters: a bfloat16
    module, or a float32 one under autocast(bfloat16)."""
    T, B, I, H = shape
    rng = np.random.default_rng(0)
    m = L.nn.LSTM(I, H, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    nd = layers * (2 if bidirectional else 1)
    with L.no_grad():
        for p in m.parameters():
            p.copy_(L.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape))))
    x, h0, c0 = (L.tensor(rng.uniform(-1, 1, s), dtype=L.float32)
                 for s in ((B, T, I) if batch_first else (T, B, I), (nd, B, H), (nd, B, H)))
    if not autocast:
        m, x, h0, c0 = m.bfloat16(), x.bfloat16(), h0.bfloat16(), c0.bfloat16()
    leaves = [x, h0, c0] + list(m.parameters())
    for t in leaves:
        t.requires_grad_(True)
    with L.autocast('cpu', dtype=L.bfloat16, enabled=autocast):
        out, (h, c) = m(x, (h0, c0))
    r = np.random.default_rng(1)
    outs = [out, h, c]
    gs = [L.tensor(r.uniform(-1, 1, tuple(o.shape)), dtype=o.dtype) for o in outs]
    return outs + list(L.autograd.grad(outs, leaves, gs))


LSTM_SHAPES = [(5, 2, 4, 3), (7, 3, 6, 8), (30, 2, 8, 8)]


@pytest.mark.parametrize('autocast', [True, False], ids=['autocast', 'bf16'])
@pytest.mark.parametrize('bidirectional,layers,batch_first', [(False, 1, False), (True, 1, False), (False, 2, True),
                                                              (True, 2, True)])
@pytest.mark.parametrize('shape', LSTM_SHAPES, ids=['x'.join(map(str, s)) for s in LSTM_SHAPES])
def test_lstm_bfloat16(shape, autocast, bidirectional, layers, batch_first):
    """nn.LSTM in bfloat16 (and under autocast, where PyTorch casts the layer's inputs to bf16) is oneDNN's bf16
    kernel: biases summed in bf16, steps in float32 with h and the carried c rounded, the backward from rounded gates
    and c states with bf16 gate gradients. Larger layers leave isolated gradient values a bf16 step off (the order of
    oneDNN's float32 sums)."""
    t = lstm_run(torch, shape, autocast, bidirectional, layers, batch_first)
    e = lstm_run(ember, shape, autocast, bidirectional, layers, batch_first)
    assert len(t) == len(e)
    for a, b in zip(t[:3], e[:3]):
        same(a, b)
    for a, b in zip(t[3:], e[3:]):     # gradients: at most 2% of values, a bf16 step off (or a cancelled sum's)
        assert str(a.dtype) == str(b.dtype) and tuple(a.shape) == tuple(b.shape)
        x, y = (np.array(v.detach().double().tolist()) for v in (a, b))
        off = x != y
        assert off.sum() <= max(2, x.size // 50)
        np.testing.assert_allclose(y[off], x[off], rtol=2 ** -7, atol=2 ** -8 * np.abs(x).max())


def grads_run(L, fn, arrays, dt, layout=None):
    """fn(L, *tensors) of float16/bfloat16 leaves (``layout``: 'cl' channels-last, a float32 array given as ('f32',
    a)) with the gradients of every leaf for a fixed random output gradient."""
    xs = []
    for a in arrays:
        kind, a = a if isinstance(a, tuple) else (None, a)
        x = L.tensor(a, dtype=L.float32 if kind == 'f32' else getattr(L, dt))
        if layout == 'cl' and x.dim() == 4:
            x = x.contiguous(memory_format=L.channels_last)
        xs.append(x.requires_grad_(True))
    out = fn(L, *xs)
    g = L.tensor(np.random.default_rng(1).uniform(-1, 1, tuple(out.shape)), dtype=out.dtype)
    if layout == 'cl' and g.dim() == 4:
        g = g.contiguous(memory_format=L.channels_last)
    return [out] + list(L.autograd.grad(out, xs, g))


RED_SHAPES = [(7,), (3, 5), (4, 6, 5), (2, 3, 17), (3, 40)]


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
@pytest.mark.parametrize('shape', RED_SHAPES, ids=['x'.join(map(str, s)) for s in RED_SHAPES])
def test_logsumexp_backward_rounds_each_op(shape, dt):
    """logsumexp's gradient grad * (self - result).exp() in bfloat16: each op of PyTorch's formula a bf16 tensor
    (ember left the float32 values of the difference and the exp unrounded: 4 of 7 to 84 of 120 values off)."""
    a = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    for d in range(len(shape)):
        for t, e in zip(grads_run(torch, lambda L, x: x.logsumexp(d), [a], dt),
                        grads_run(ember, lambda L, x: x.logsumexp(d), [a], dt)):
            same(t, e)


def _norm_args(shape, seed):
    r = np.random.default_rng(seed)
    return [r.standard_normal(shape).astype(np.float32), r.standard_normal(shape[1]).astype(np.float32),
            r.standard_normal(shape[1]).astype(np.float32)]


# (shape, layout): 'cl' a channels-last input and output gradient
NORM_SHAPES = [((4, 3, 5), 'c'), ((2, 4, 3, 3), 'c'), ((2, 4, 3, 3), 'cl'), ((2, 3, 2, 3, 2), 'c'), ((3, 4, 6, 5), 'c'),
               ((3, 4, 6, 5), 'cl')]


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
@pytest.mark.parametrize('shape,layout', NORM_SHAPES, ids=['x'.join(map(str, s)) + l for s, l in NORM_SHAPES])
def test_instance_norm_half_parameters(shape, layout, dt):
    """instance_norm of a float16/bfloat16 input and parameters: PyTorch repeats the parameters per sample, its
    batch_norm kernel rounds each sample's weight and bias gradient to the dtype, and RepeatBackward0 adds the samples
    in one float32 sum (ember concatenated them, adding unrounded bf16 values one sample at a time: 1-5 of 6 bf16
    and 1 of 3 float16 parameter gradients a step off; larger inputs leave an input gradient value in ~2000 a step off,
    from the float32 order of the kernel's sums)."""
    fn = lambda L, x, w, b: L.nn.functional.instance_norm(x, weight=w, bias=b)
    args = _norm_args(shape, 5)
    for t, e in zip(grads_run(torch, fn, args, dt, layout), grads_run(ember, fn, args, dt, layout)):
        same(t, e)


_T1, _T2 = np.arange(37) % 5, np.random.default_rng(4).integers(0, 3, (2, 5, 6))
NLL = [
    ('sum', lambda L, x: L.nn.functional.nll_loss(x, L.tensor(_T1), reduction='sum'), (37, 5)),
    ('mean', lambda L, x: L.nn.functional.nll_loss(x, L.tensor(_T1)), (37, 5)),
    ('ignore', lambda L, x: L.nn.functional.nll_loss(x, L.tensor(_T1), ignore_index=2), (37, 5)),
    ('weight', lambda L, x: L.nn.functional.nll_loss(x, L.tensor(_T1), weight=L.linspace(0.5, 1.5, 5, dtype=x.dtype)),
     (37, 5)),
    ('2d_sum', lambda L, x: L.nn.functional.nll_loss(x, L.tensor(_T2), reduction='sum'), (2, 3, 5, 6)),
    ('2d_mean', lambda L, x: L.nn.functional.nll_loss(x, L.tensor(_T2)), (2, 3, 5, 6)),
    ('2d_ignore', lambda L, x: L.nn.functional.nll_loss(x, L.tensor(_T2), ignore_index=1), (2, 3, 5, 6)),
    ('2d_ignore_sum', lambda L, x: L.nn.functional.nll_loss(x, L.tensor(_T2), ignore_index=0, reduction='sum'),
     (2, 3, 5, 6)),
    ('cross_entropy', lambda L, x: L.nn.functional.cross_entropy(x, L.tensor(_T1)), (37, 5)),
]


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
@pytest.mark.parametrize('name,fn,shape', NLL, ids=[c[0] for c in NLL])
def test_nll_loss_half_cascade(name, fn, shape, dt):
    """nll_loss of float16/bfloat16 sums its losses in PyTorch's cascade of partial sums held in the dtype (each add
    rounded; bf16's total weight a bf16 count, the mean a bf16 quotient): ember summed them pairwise in float32."""
    a = np.random.default_rng(6).standard_normal(shape).astype(np.float32)
    for t, e in zip(grads_run(torch, fn, [a], dt), grads_run(ember, fn, [a], dt)):
        same(t, e)


_T3 = np.random.default_rng(7).integers(0, 3, (2, 4, 5))
_W5 = np.linspace(0.5, 1.5, 5)
CE = [
    ('ls', lambda L, x: L.nn.functional.cross_entropy(x, L.tensor(_T1), label_smoothing=0.1), (37, 5)),
    ('ls_sum', lambda L, x: L.nn.functional.cross_entropy(x, L.tensor(_T1), label_smoothing=0.2, reduction='sum'),
     (37, 5)),
    ('ls_none', lambda L, x: L.nn.functional.cross_entropy(x, L.tensor(_T1), label_smoothing=0.2, reduction='none'),
     (37, 5)),
    ('ls_2d', lambda L, x: L.nn.functional.cross_entropy(x, L.tensor(_T3), label_smoothing=0.1), (2, 3, 4, 5)),
    ('ls_ignore', lambda L, x: L.nn.functional.cross_entropy(x, L.tensor(_T1), label_smoothing=0.1, ignore_index=1),
     (37, 5)),
    ('ls_weight', lambda L, x: L.nn.functional.cross_entropy(x, L.tensor(_T1), label_smoothing=0.1,
                                                             weight=L.tensor(_W5, dtype=x.dtype)), (37, 5)),
    ('weight', lambda L, x: L.nn.functional.cross_entropy(x, L.tensor(_T1), weight=L.tensor(_W5, dtype=x.dtype)),
     (37, 5)),
    ('prob', lambda L, x, t: L.nn.functional.cross_entropy(x, t.softmax(1)), (9, 5)),
    ('prob_2d', lambda L, x, t: L.nn.functional.cross_entropy(x, t.softmax(1)), (2, 3, 4, 5)),
    ('prob_ls', lambda L, x, t: L.nn.functional.cross_entropy(x, t.softmax(1), label_smoothing=0.1), (9, 5)),
    ('prob_sum', lambda L, x, t: L.nn.functional.cross_entropy(x, t.softmax(1), reduction='sum'), (9, 5)),
    ('prob_none_weight', lambda L, x, t: L.nn.functional.cross_entropy(x, t.softmax(1), reduction='none',
                                                                       weight=L.tensor(_W5, dtype=x.dtype)), (9, 5)),
]


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
@pytest.mark.parametrize('name,fn,shape', CE, ids=[c[0] for c in CE])
def test_cross_entropy_half_composed(name, fn, shape, dt):
    """cross_entropy of float16/bfloat16 with label smoothing or probability targets as PyTorch composes it
    (log_softmax, nll_loss, the smoothing term's sum, masked_fill, mul, div: each op rounded; ember's fused float32
    node left 8-40 of 45 gradient values a step off), and bf16 nll_loss's backward -(g / total_weight) * weight
    rounded per op; the same grad_fn."""
    r = np.random.default_rng(8)
    args = [r.standard_normal(shape).astype(np.float32) for _ in range(fn.__code__.co_argcount - 1)]
    t, e = grads_run(torch, fn, args, dt), grads_run(ember, fn, args, dt)
    assert type(t[0].grad_fn).__name__ == type(e[0].grad_fn).__name__
    for a, b in zip(t, e):
        same(a, b)


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
def test_bf16_sum_gradient_stays_bf16(dt):
    """A full sum's gradient broadcast back is still the dtype's array: bf16's was a plain array of its byte order,
    whose next formula (neg) gave unrounded float32, so two gradients met at log_softmax unrounded."""
    fn = lambda L, x: L.nn.functional.nll_loss(L.log_softmax(x, 1), L.tensor(_T1)) * 0.9 + (-(L.log_softmax(x, 1).sum(1))).sum() * 0.02
    a = np.random.default_rng(9).standard_normal((37, 5)).astype(np.float32)
    for t, e in zip(grads_run(torch, fn, [a], dt), grads_run(ember, fn, [a], dt)):
        same(t, e)


BICUBIC = [((1, 2, 5, 4), (11, 9), False), ((2, 1, 5, 4), (2, 2), False), ((1, 2, 6, 7), (13, 10), True),
           ((2, 2, 4, 4), (7, 5), True)]


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
@pytest.mark.parametrize('shape,size,align', BICUBIC, ids=[f'{s}to{z}' for s, z, _ in BICUBIC])
def test_bicubic_half_forward(shape, size, align, dt):
    """F.interpolate(mode='bicubic') of float16/bfloat16 as PyTorch's kernel: the cubic weights stored in the dtype,
    the 16 taps combined in float32 and rounded once (ember used float32 weights: 60-80 of 198 values a step off)."""
    a = np.random.default_rng(10).standard_normal(shape).astype(np.float32)
    run = lambda L: L.nn.functional.interpolate(L.tensor(a, dtype=getattr(L, dt)), size=size, mode='bicubic',
                                                align_corners=align)
    same(run(torch), run(ember))


CIRCULAR = [((2, 3, 6), (2, 3)), ((1, 2, 4, 5), (1, 2, 2, 1)), ((2, 4, 5), (0, 2, 1, 3)), ((3, 4, 5), (4, 5, 0, 0)),
            ((1, 2, 3, 4, 3), (1, 1, 2, 1, 1, 0)), ((2, 3, 3, 3), (3, 3, 3, 3))]


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
@pytest.mark.parametrize('shape,pad', CIRCULAR, ids=[str(len(p) // 2) + 'd' + str(i) for i, (_, p) in enumerate(CIRCULAR)])
def test_circular_pad_backward_rounds_each_slab(shape, pad, dt):
    """F.pad(mode='circular')'s gradient in float16/bfloat16 as PyTorch's CopySlices chain: each wrapped slab's
    gradient added onto its source in reverse order of the copies, one rounded add per slab."""
    a = arr(*shape)
    fn = lambda L, x: L.nn.functional.pad(x, pad, mode='circular')
    for t, e in zip(grads_run(torch, fn, [a], dt), grads_run(ember, fn, [a], dt)):
        same(t, e)


INTERP = [('nearest', (1, 2, 5, 4), (11, 9), {}), ('nearest', (1, 2, 5, 4), (2, 2), {}),
          ('nearest-exact', (1, 2, 5, 4), (11, 9), {}), ('bilinear', (1, 2, 5, 4), (11, 9), {'align_corners': False}),
          ('bilinear', (2, 2, 6, 5), (3, 2), {'align_corners': False}), ('bicubic', (1, 2, 5, 4), (11, 9), {}),
          ('bicubic', (2, 1, 6, 6), (3, 4), {'align_corners': True}), ('area', (1, 2, 6, 4), (3, 2), {})]


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
@pytest.mark.parametrize('mode,shape,size,kw', INTERP, ids=[f'{m}{s}to{z}' for m, s, z, _ in INTERP])
def test_interpolate_half_backward(mode, shape, size, kw, dt):
    """F.interpolate's gradient in float16 as bfloat16's: PyTorch adds each tap's share in float32 and rounds once
    (ember added float16 values: 6-26 of 40 gradient values a step off), with float32 weights (bicubic's backward
    too: its forward's weights are the dtype's)."""
    a = np.random.default_rng(11).standard_normal(shape).astype(np.float32)
    fn = lambda L, x: L.nn.functional.interpolate(x, size=size, mode=mode, **kw)
    for t, e in zip(grads_run(torch, fn, [a], dt), grads_run(ember, fn, [a], dt)):
        same(t, e)


LINEAR = [('linear', (2, 3, 7), (15,), False, None), ('linear', (2, 3, 7), (3,), False, None),
          ('linear', (2, 3, 7), (15,), True, None), ('trilinear', (1, 2, 3, 4, 3), (7, 9, 7), False, None),
          ('trilinear', (1, 2, 3, 4, 3), (7, 9, 7), True, None), ('bilinear', (1, 2, 9, 40), (20, 130), False, None),
          ('bilinear', (1, 3, 9, 40), (20, 130), True, None), ('bilinear', (1, 1, 40, 9), (130, 3), False, None),
          ('bilinear', (1, 5, 4, 4), (7, 9), False, 'channels_last'), ('bilinear', (1, 2, 5, 4), (11, 9), False, None)]


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
@pytest.mark.parametrize('mode,shape,size,align,layout', LINEAR, ids=[f'{m}{s}to{z}{a}{l}' for m, s, z, a, l in LINEAR])
def test_linear_half_forward(mode, shape, size, align, layout, dt):
    """Linear-family F.interpolate of float16/bfloat16 as PyTorch's kernels: the generic one stores lambda1 and
    1 - lambda1 in the dtype (each rounded) and adds the taps in float32, rounding once (20-457 values a step off);
    bilinear's channels-last vectorised one takes float32 weights and products and rounds once."""
    a = np.random.default_rng(12).standard_normal(shape).astype(np.float32)

    def run(L):
        x = L.tensor(a, dtype=getattr(L, dt))
        if layout:
            x = x.contiguous(memory_format=getattr(L, layout))
        return L.nn.functional.interpolate(x, size=size, mode=mode, align_corners=align)
    before = torch.get_num_threads()
    torch.set_num_threads(ember.get_num_threads())   # (both libraries pick a kernel by their thread count)
    try:
        same(run(torch), run(ember))
    finally:
        torch.set_num_threads(before)


BN_MIXED = [(4, 3, 5), (2, 4, 3, 3), (8, 6, 7, 5), (3, 2, 33), (2, 2, 64), (3, 2, 70), (2, 8, 17, 17)]


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
@pytest.mark.parametrize('shape', BN_MIXED, ids=['x'.join(map(str, s)) for s in BN_MIXED])
def test_batch_norm_mixed_parameter_sums(shape, dt):
    """A half input's batch_norm with float32 parameters sums its weight and bias gradients as PyTorch's mixed
    kernel: 8 float32 lanes over whole 16-value blocks (fused products), a scalar tail, the lanes added in turn
    (checked on PyTorch's own saved mean and invstd, which ember's forward does not yet reproduce bit for bit)."""
    from ember.nn.functional._norm import _lane_sums
    rng = np.random.default_rng(13)
    x = torch.tensor(rng.standard_normal(shape).astype(np.float32), dtype=getattr(torch, dt))
    w, b = torch.tensor(rng.standard_normal(shape[1]).astype(np.float32)), torch.zeros(shape[1])
    _, mean, invstd, *_ = torch.ops.aten.native_batch_norm(x, w, b, None, None, True, 0.1, 1e-5)
    g = torch.tensor(rng.uniform(-1, 1, shape), dtype=x.dtype)
    _, gw, gb = torch.ops.aten.native_batch_norm_backward(g, x, w, None, None, mean, invstd, True, 1e-5,
                                                          [True, True, True])
    s, d = _lane_sums(x.float().numpy(), g.float().numpy(), mean.numpy(), dt == 'float16')
    assert np.array_equal(s, gb.numpy()) and np.array_equal(d * invstd.numpy(), gw.numpy())


# (query shape, key/value shape, is_causal, float mask): PyTorch's CPU flash kernel on half inputs
SDPA = [((2, 3, 7, 16), (2, 3, 9, 16), False, False), ((2, 3, 32, 16), (2, 3, 32, 16), False, False),
        ((2, 3, 9, 16), (2, 3, 40, 16), False, False), ((2, 3, 40, 16), (2, 3, 40, 16), True, False),
        ((2, 4, 64, 32), (2, 4, 64, 32), False, False), ((2, 3, 7, 16), (2, 3, 40, 16), False, True),
        ((1, 2, 20, 64), (1, 2, 100, 64), False, False)]
# gradients bit for bit (left: float16's dQ flips in 1-3 of 3000 values, causal dQ, dK/dV flips at 40+ queries)
SDPA_GRADS = [SDPA[0] + ('bfloat16',), SDPA[2] + ('bfloat16',), SDPA[2] + ('float16',)]


def _sdpa(L, dt, qs, ks, causal, mask, grads):
    rng = np.random.default_rng(5)
    q, k, v = (L.tensor(rng.standard_normal(s).astype(np.float32), dtype=getattr(L, dt)).requires_grad_(grads)
               for s in (qs, ks, ks))
    m = L.tensor(rng.standard_normal(qs[-2:-1] + ks[-2:-1]).astype(np.float32)) if mask else None
    out = L.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=causal)
    if not grads:
        return [out]
    g = L.tensor(rng.uniform(-1, 1, tuple(out.shape)), dtype=out.dtype)
    return [out, *L.autograd.grad(out, (q, k, v), g)]


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
@pytest.mark.parametrize('qs,ks,causal,mask', SDPA, ids=[f'{q[-2]}x{k[-2]}{"c" * c}{"m" * m}' for q, k, c, m in SDPA])
def test_sdpa_half_flash_forward(qs, ks, causal, mask, dt, exact_like_torch):
    """Half attention's output as PyTorch's CPU flash kernel: fexp_u20 over whole 16-key vectors, glibc's exp on the
    rest, reduce_all's lane sums, times the sum's reciprocal (531 of 2048 float16 values off with NumPy's exp)."""
    for a, b in zip(_sdpa(torch, dt, qs, ks, causal, mask, False), _sdpa(ember, dt, qs, ks, causal, mask, False)):
        assert np.array_equal(np.array(a.float().tolist()), np.array(b.float().tolist()))


@pytest.mark.parametrize('qs,ks,causal,mask,dt', SDPA_GRADS,
                         ids=[f'{q[-2]}x{k[-2]}{d}' for q, k, _, _, d in SDPA_GRADS])
def test_sdpa_half_flash_backward(qs, ks, causal, mask, dt, exact_like_torch):
    """Its gradients as the flash backward's: probabilities recomputed by SLEEF's exp from the logsumexp."""
    for a, b in zip(_sdpa(torch, dt, qs, ks, causal, mask, True), _sdpa(ember, dt, qs, ks, causal, mask, True)):
        assert np.array_equal(np.array(a.float().tolist()), np.array(b.float().tolist()))


# (name, fn, input shapes): float16 3-D convolutions, PyTorch's slow_conv3d / slow_conv_transpose3d (no oneDNN float16
# on this CPU). Left: a wide conv_transpose3d's input gradient (24 -> 5 channels: 1 of 648 values, its GEMM's order)
CONV3 = [
    ('conv3d', lambda L, x, w: L.nn.functional.conv3d(x, w), [(2, 3, 5, 5, 5), (2, 3, 3, 3, 3)]),
    ('conv3d_24ch', lambda L, x, w: L.nn.functional.conv3d(x, w), [(1, 24, 4, 4, 4), (5, 24, 2, 2, 2)]),
    ('tconv3d', lambda L, x, w: L.nn.functional.conv_transpose3d(x, w), [(1, 2, 3, 3, 3), (2, 3, 2, 2, 2)]),
    ('tconv3d_s2', lambda L, x, w: L.nn.functional.conv_transpose3d(x, w, stride=2), [(2, 3, 3, 3, 3), (3, 2, 3, 3, 3)]),
    ('tconv3d_g2d2', lambda L, x, w: L.nn.functional.conv_transpose3d(x, w, groups=2, dilation=2),
     [(1, 4, 3, 3, 3), (4, 2, 2, 3, 2)]),
    ('tconv3d_bias', lambda L, x, w, b: L.nn.functional.conv_transpose3d(x, w, b), [(1, 3, 3, 3, 3), (3, 5, 2, 2, 2), (5,)]),
]


@pytest.mark.parametrize('name,fn,shapes', CONV3, ids=[c[0] for c in CONV3])
def test_conv3d_float16_rounds_as_slow_kernels(name, fn, shapes):
    """Float16 conv3d's input gradient and conv_transpose3d's output add each kernel tap into a float16 buffer
    (col2vol), rounding each add; the weight gradients round after each sample (119 of 162 values off before)."""
    rng = np.random.default_rng(21)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    g = None
    res = []
    for L in (torch, ember):
        xs = [L.tensor(a, dtype=L.float16).requires_grad_() for a in arrays]
        out = fn(L, *xs)
        g = rng.uniform(-1, 1, tuple(out.shape)) if g is None else g
        res.append([out, *L.autograd.grad(out, xs, L.tensor(g, dtype=out.dtype))])
    for a, b in zip(*res):
        assert np.array_equal(np.array(a.float().tolist()), np.array(b.float().tolist())), name


# (name, conv, input shape, weight shape, kwargs): float16 convolutions' weight gradients
CONV_W = [('conv2d', 'conv2d', (2, 3, 6, 6), (4, 3, 3, 3), {}), ('conv1d', 'conv1d', (2, 3, 9), (4, 3, 3), {}),
          ('groups', 'conv2d', (2, 4, 7, 7), (6, 2, 3, 3), {'groups': 2}),
          ('strided', 'conv2d', (3, 3, 11, 10), (5, 3, 3, 3), {'stride': 2, 'padding': 1, 'dilation': 2}),
          ('depthwise', 'conv2d', (2, 4, 8, 8), (4, 1, 3, 3), {'groups': 4, 'padding': 1}),
          ('conv1d_s2', 'conv1d', (3, 4, 20), (6, 4, 5), {'stride': 2, 'padding': 2}),
          ('pointwise', 'conv2d', (2, 8, 5, 5), (4, 8, 1, 1), {})]


@pytest.mark.parametrize('name,conv,xs,ws,kw', CONV_W, ids=[c[0] for c in CONV_W])
def test_conv_float16_weight_grad_per_sample(name, conv, xs, ws, kw):
    """A float16 conv's weight gradient as PyTorch's slow_conv2d: each sample's product summed in four float32 partial
    sums, added into the float16 gradient and rounded (402 of 1152 values off summing all samples at once; 11 to 52
    in these cases). Left: at most one value one float16 step off in grouped and strided cases (a last order detail)."""
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)
    g, res = None, []
    for L in (torch, ember):
        wt = L.tensor(w, dtype=L.float16).requires_grad_()
        out = getattr(L.nn.functional, conv)(L.tensor(x, dtype=L.float16), wt, **kw)
        g = rng.uniform(-1, 1, tuple(out.shape)) if g is None else g
        res.append(np.array(L.autograd.grad(out, wt, L.tensor(g, dtype=out.dtype))[0].float().tolist()))
    off = res[0] != res[1]
    step = np.spacing(np.abs(res[0][off]).astype(np.float16)).astype(np.float64)
    assert off.sum() <= (1 if name in ('groups', 'strided') else 0) and np.all(np.abs(res[0] - res[1])[off] <= step)


CONV_X = CONV_W[:5] + [('channels_last', 'conv2d', (2, 8, 9, 9), (16, 8, 3, 3), {}),
                       ('wide', 'conv2d', (4, 16, 12, 12), (32, 16, 3, 3), {'padding': 1})]


@pytest.mark.parametrize('name,conv,xs,ws,kw', CONV_X, ids=[c[0] for c in CONV_X])
def test_conv2d_float16_input_grad_col2im(name, conv, xs, ws, kw):
    """A float16 conv2d's input gradient as PyTorch's slow_conv2d: W^T g per sample rounded to float16, each tap added
    into the float16 gradient and rounded, taps reversed for channels-last (its kernel goes by output position):
    depthwise 283 of 512 values off before, channels-last 555 of 1296."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)
    g, res = None, []
    for L in (torch, ember):
        xt = L.tensor(x, dtype=L.float16)
        if name == 'channels_last':
            xt = xt.contiguous(memory_format=L.channels_last)
        xt.requires_grad_()
        out = getattr(L.nn.functional, conv)(xt, L.tensor(w, dtype=L.float16), **kw)
        g = rng.uniform(-1, 1, tuple(out.shape)) if g is None else g
        gx = L.autograd.grad(out, xt, L.tensor(g, dtype=out.dtype))[0]
        res.append((np.array(gx.float().tolist()), gx.is_contiguous(memory_format=L.channels_last), gx.stride()))
    assert np.array_equal(res[0][0], res[1][0]) and res[0][1:] == res[1][1:]


@pytest.mark.parametrize('dt', ['bfloat16', 'float16'])
@pytest.mark.parametrize('eq,shapes', [('ni,oij,nj->no', [(4, 5), (3, 5, 6), (4, 6)]),
                                       ('ab,bc,cd->ad', [(3, 7), (7, 5), (5, 4)]),
                                       ('bilinear', [(4, 5), (4, 6), (3, 5, 6)])], ids=['einsum3', 'chain', 'bilinear'])
def test_half_three_operand_einsum_without_grad_pairs(eq, shapes, dt):
    """Without gradients a half einsum of three operands still goes pairwise, each product rounded to the dtype, as
    PyTorch's (bilinear: 6 of 12 float16 values off from one float32 contraction)."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    res = []
    for L in (torch, ember):
        ts = [L.tensor(a, dtype=getattr(L, dt)) for a in arrays]
        out = L.nn.functional.bilinear(*ts) if eq == 'bilinear' else L.einsum(eq, *ts)
        res.append(np.array(out.float().tolist()))
    assert np.array_equal(*res)
