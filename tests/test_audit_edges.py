"""Values at inf, -inf, NaN, -0.0, huge and tiny inputs as PyTorch's, forward and gradient (found by a value fuzz over
the registry's samples with their float inputs filled by such values): each case runs ``fn(lib, x)`` on a leaf ``x``
of VALS (repeated to a length where it matters: PyTorch's vector loops and scalar tails differ at some edges) in
every float dtype, backward through the output's sum, and compares NaN positions, infinities, the sign of zeros and
the values."""
import warnings

import numpy as np
import pytest
import torch

import ember

INF, NAN = float('inf'), float('nan')
VALS = [INF, -INF, NAN, 0.0, -0.0, 6e4, -6e4, 1e-7, -1e-7, 1e-45, 1.0, -0.3]
DTYPES = ('float16', 'bfloat16', 'float32', 'float64')
F = 'nn.functional'


def _f(name, *a, **k):
    """``lib.nn.functional.name(x, *a, **k)``."""
    return lambda L, x: getattr(L.nn.functional, name)(x, *a, **k)


# name: (fn(lib, x), lengths of x to try)
CASES = {
    # PyTorch's softshrink: its scalar tail keeps -0.0 and passes NaN's gradient, its vector loop does neither
    'softshrink': (_f('softshrink'), (12, 16, 33, 70)),
    # its gradient z / (1 + z), z = exp(-y x): NaN where z overflows
    'soft_margin_loss': (lambda L, x: L.nn.functional.soft_margin_loss(x, L.ones_like(x)), (12,)),
    'soft_margin_loss_neg': (lambda L, x: L.nn.functional.soft_margin_loss(x, -L.ones_like(x), reduction='none'),
                             (12,)),
    # PyTorch's shrink_backward and hardtanh_backward: the same vector/tail split at NaN
    'hardshrink': (_f('hardshrink'), (12, 16, 33)),
    'hardtanh': (_f('hardtanh'), (12, 16, 33)),
    # sign(NaN) is 0 in PyTorch: abs's and l1_loss's gradient at NaN
    'abs': (lambda L, x: x.abs(), (12,)),
    'l1_loss': (lambda L, x: L.nn.functional.l1_loss(x, x.flip(0) * 0 + 1), (12,)),
    # (2 / numel) * (input - target) * grad: no overflow of 2 d; the target's gradient +0.0 where d is 0
    'mse_loss': (lambda L, x: L.nn.functional.mse_loss(x, x.detach().flip(0).nan_to_num(0.0).requires_grad_()), (12,)),
    'mse_loss_target': (lambda L, x: L.nn.functional.mse_loss(x.detach().flip(0).nan_to_num(0.0), x), (12,)),
    'huber_loss_target': (lambda L, x: L.nn.functional.huber_loss(L.zeros_like(x), x), (12,)),
    'smooth_l1_loss_target': (lambda L, x: L.nn.functional.smooth_l1_loss(L.zeros_like(x), x), (12,)),
    # running sums start at +0.0 in PyTorch: a leading -0.0 gives +0.0
    'cumsum': (lambda L, x: (x * 0 - 0.0).reshape(-1, 4).cumsum(1) + x.reshape(-1, 4).cumsum(1) * 0, (12,)),
    'cumsum_neg_zero': (lambda L, x: L.full((3, 4), -0.0, dtype=x.dtype).cumsum(1) + x.sum() * 0, (12,)),
    'cumsum_dim0': (lambda L, x: L.full((70, 3), -0.0, dtype=x.dtype).cumsum(0) + x.sum() * 0, (12,)),
    'logcumsumexp': (lambda L, x: L.full((3, 4), -0.0, dtype=x.dtype).logcumsumexp(1) + x.sum() * 0, (12,)),
    # oneDNN's GELU, which PyTorch runs contiguous float32 and bfloat16 arrays of 2+ elements through: NaN at +inf
    'gelu': (_f('gelu'), (1, 12)),
    'gelu_tanh': (_f('gelu', approximate='tanh'), (1, 12)),
    # clamp keeps x where x equals the bound: -0.0 clamped at min=0.0 stays -0.0
    'clamp_min_zero': (lambda L, x: x.clamp(min=0.0), (12,)),
    'clamp_max_neg_zero': (lambda L, x: x.clamp(max=-0.0), (12,)),
    'clip_inplace': (lambda L, x: x.detach().clone().clip_(min=0.0) + x * 0, (12,)),
    # nansum's gradient multiplies by (x is not NaN): NaN where nanmean's count is 0
    'nanmean_all_nan': (lambda L, x: (x * 0 + float('nan')).reshape(3, 4).nanmean(1) + x.reshape(3, 4).sum(1) * 0,
                        (12,)),
    'nansum': (lambda L, x: x.nansum() * -1, (12,)),
    # min(x, 0) - log1p(exp(-|x|)): +0.0 for large x
    'logsigmoid': (_f('logsigmoid'), (12,)),
    # elu_backward: NaN's gradient g * scale in the scalar tails, NaN in the vector loop (128 bytes a step)
    'elu': (_f('elu'), (1, 12, 33, 70)),
    'selu': (lambda L, x: L.nn.functional.selu(x), (12, 33)),
    'celu': (lambda L, x: L.nn.functional.celu(x, alpha=0.5), (1, 12, 33, 70)),   # (elu_backward with its input_scale)
    # renorm_backward passes g where a slice is kept: a NaN or inf norm there no longer leaks 0 * NaN
    'renorm': (lambda L, x: (x.reshape(3, 4).double() * 0.01).renorm(2, 0, 1.0), (12,)),   # (bf16's rounding: left)
    'renorm_inf': (lambda L, x: x.reshape(4, 3).double().renorm(float('inf'), 1, 5.0), (12,)),
    # round.decimals of float16 scales in float32: 60000 * 100 is no inf
    'round_decimals': (lambda L, x: L.stack([x.round(decimals=2), x.round(decimals=-1), (x * 1.37).round(decimals=1)]),
                       (12,)),
    # prod's gradient: prod / x with no zero (NaN at an infinite factor), else running products kept as cumprod's
    'prod_dim': (lambda L, x: x.reshape(3, 4).prod(1), (12,)),
    'prod_no_zero': (lambda L, x: (x[:3] + 2).prod(0), (12,)),
    'prod_huge_with_zero': (lambda L, x: L.stack([x[3], x[3] * 0 + 3e38, x[3] * 0 - 3e38, x[10]]).prod(0), (12,)),
    # norm_backward: sgn (0 at NaN) for p = 1; x |x|^(p-2) for p >= 2 (-0.0 kept); an inf-norm's NaN rows split the
    # gradient among their NaN entries (sign(NaN) = 0: zeros, where the count of ties was 0 and every entry NaN)
    'norm_p1': (lambda L, x: x.reshape(3, 4).norm(p=1, dim=1), (12,)),
    'norm_p3': (lambda L, x: x.reshape(3, 4).norm(p=3, dim=1), (12,)),
    'norm_inf': (lambda L, x: x.reshape(3, 4).norm(p=float('inf'), dim=1), (12,)),
    'vector_norm_ninf': (lambda L, x: L.linalg.vector_norm(x.reshape(3, 4), ord=-float('inf'), dim=1), (12,)),
    'pairwise_distance_p1': (lambda L, x: L.nn.functional.pairwise_distance(x.reshape(3, 4), x.reshape(3, 4).flip(1),
                                                                            p=1), (12,)),
    'dist_p1': (lambda L, x: L.dist(x, x.flip(0).detach(), p=1), (12,)),
    # pdist's own kernel: sign(NaN) is NaN there
    'pdist_p1': (lambda L, x: L.nn.functional.pdist(x.reshape(3, 4), p=1), (12,)),
    # clamp_min(norm, eps): x / inf is 0 (an infinite or overflowing norm gave inf - inf = NaN)
    'cosine_similarity': (lambda L, x: L.nn.functional.cosine_similarity(x.reshape(3, 4), x.reshape(3, 4).flip(0)),
                          (12,)),
    'cosine_similarity_huge': (lambda L, x: L.nn.functional.cosine_similarity(x.reshape(3, 4) * 1e36,
                                                                               x.reshape(3, 4).detach()), (12,)),
    # the margin losses' kernels add the terms with z > 0 only (a NaN or the target's inf - inf adds nothing);
    # their half types are refused
    'multi_margin': (lambda L, x: L.nn.functional.multi_margin_loss(x.reshape(3, 4), L.tensor([0, 1, 3]),
                                                                    reduction='none'), (12,)),
    'multi_margin_p2': (lambda L, x: L.nn.functional.multi_margin_loss(
        x.reshape(3, 4), L.tensor([0, 1, 3]), p=2, weight=L.tensor([1., 2., 3., 4.], dtype=x.dtype)), (12,)),
    'multilabel_margin': (lambda L, x: L.nn.functional.multilabel_margin_loss(
        x.reshape(3, 4), L.tensor([[0, 2, -1, 0], [1, -1, 0, 0], [3, 2, 1, 0]]), reduction='none'), (12,)),
    'multilabel_margin_huge': (lambda L, x: L.nn.functional.multilabel_margin_loss(
        (x * 0 + L.tensor([3e38, -3e38, 1.0, 2.0] * 3, dtype=x.dtype)).reshape(3, 4),
        L.tensor([[1, -1, 0, 0], [1, 2, -1, 0], [3, 0, -1, 0]])), (12,)),
    # the divisor's gradient -g * div(x, y, rounding_mode=floor/trunc): -0.3 // inf is -1, inf // 2 NaN
    'remainder_tensor': (lambda L, x: L.remainder(x, x.flip(0)), (12,)),
    'remainder_tiny': (lambda L, x: L.remainder(L.full_like(x, 1e-45).requires_grad_(), x), (12,)),
    'fmod_tensor': (lambda L, x: L.fmod(x, x.flip(0)), (12,)),
    # cdist's kernel: max(agg, |d|) from 0 passes NaN over (p = inf), and sums in the dtype (a float32 sum of
    # squares overflows); its inf-norm gradient is NaN where |d| and the distance are both inf
    'cdist_inf': (lambda L, x: L.cdist(x.reshape(3, 4), x.reshape(3, 4).flip(0).detach(), p=float('inf')), (12,)),
    'cdist_huge': (lambda L, x: L.cdist(x.reshape(3, 4) * 1e19, x.reshape(3, 4).flip(0).detach()), (12,)),
    'cdist_p1': (lambda L, x: L.cdist(x.reshape(3, 4), x.reshape(3, 4).flip(0).detach(), p=1), (12,)),
}


def _values(n, dtype):
    return [VALS[i % len(VALS)] for i in range(n)]


def _run(L, fn, dtype, n):
    x = L.tensor(_values(n, dtype), dtype=getattr(L, dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        out = fn(L, x)
        if out.requires_grad:
            out.sum().backward()
    return out.detach(), x.grad


def _same(e, t, what):
    """NaN where PyTorch has NaN, the same infinities and signs of zero, values within float rounding."""
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape), what
    ev, tv = e.double().numpy(), t.double().numpy()
    assert (np.isnan(ev) == np.isnan(tv)).all(), f'{what}: NaN at {np.isnan(ev).nonzero()}, PyTorch {np.isnan(tv).nonzero()}'
    ok = ~np.isnan(tv)
    np.testing.assert_allclose(ev[ok], tv[ok], rtol=1e-2 if e.dtype in (ember.float16, ember.bfloat16) else 1e-5,
                               atol=0, err_msg=what)
    zero = ok & (tv == 0)
    assert (np.signbit(ev[zero]) == np.signbit(tv[zero])).all(), f'{what}: signs of zero {ev[zero]} vs {tv[zero]}'


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('name', list(CASES))
def test_edge_values(name, dtype):
    fn, lengths = CASES[name]
    for n in lengths:
        try:
            t_out, t_grad = _run(torch, fn, dtype, n)
        except (RuntimeError, NotImplementedError) as exc:   # (pdist of the half types): refused as PyTorch
            with pytest.raises(type(exc)):
                _run(ember, fn, dtype, n)
            continue
        e_out, e_grad = _run(ember, fn, dtype, n)
        _same(e_out, t_out, f'{name} {dtype} n={n}')
        assert (e_grad is None) == (t_grad is None)
        if t_grad is not None:
            _same(e_grad, t_grad, f'{name} {dtype} n={n} grad')


# Integer extremes: each case runs ``fn(lib, x, y)`` on every pair (x, y) of INT_VALS (its min, max, their neighbours
# and small values of either sign), in every integer dtype, and compares dtypes and bits (NaN positions and signs of
# zero where the result is float). PyTorch's int32/int64 min // -1 (and lcm's min / -1) trap (SIGFPE): left out.
def _int_vals(dt):
    info = np.iinfo(dt)
    vals = [info.min, info.max, info.min + 1, info.max - 1, 0, 1, 2, 3, 7, 63, -1, -2, -7, -8, -64]
    return [v for v in dict.fromkeys(vals) if info.min <= v <= info.max]


INT_DTYPES = ('uint8', 'int8', 'int16', 'int32', 'int64')
INT_CASES = {
    'add': lambda L, x, y: x + y, 'sub': lambda L, x, y: x - y, 'mul': lambda L, x, y: x * y,
    'add_alpha': lambda L, x, y: L.add(x, y, alpha=-2), 'div': lambda L, x, y: x / y,
    'floor_divide': lambda L, x, y: x // y.masked_fill(y == 0, 1),
    'remainder': lambda L, x, y: x % y.masked_fill(y == 0, 1),
    'fmod': lambda L, x, y: L.fmod(x, y.masked_fill(y == 0, 1)),
    'lshift': lambda L, x, y: x << y, 'rshift': lambda L, x, y: x >> y, 'xor': lambda L, x, y: x ^ y,
    'pow': lambda L, x, y: x ** y.clamp(min=0), 'maximum': lambda L, x, y: L.maximum(x, y),
    'clamp': lambda L, x, y: L.clamp(x, min=y), 'abs_neg': lambda L, x, y: (-x).abs() + y * 0,
    'sum_cumsum': lambda L, x, y: L.stack([x.cumsum(0), (x * y).sum(0).expand_as(x)]),
    'cumprod_prod': lambda L, x, y: L.stack([x.cumprod(0), x.prod(0).expand_as(x)]),
    'float_to': lambda L, x, y: (x.double() * 1e10).to(x.dtype),
    # PyTorch's addmm family wraps as its integer mm (int16 went through the half types' float32 accumulation: 0)
    'addmm': lambda L, x, y: L.addmm(x[:9].view(3, 3), x[:9].view(3, 3), y[:9].view(3, 3), beta=2, alpha=3),
    # ldexp of integers: x * pow(2, y) in float32 (NaN at 0 * 2 ** 255); of floats and an integer exponent: C's ldexp
    'ldexp': lambda L, x, y: L.ldexp(x, y), 'ldexp_float': lambda L, x, y: L.ldexp(x.float() * 0.75, y),
    'ldexp_double': lambda L, x, y: L.ldexp(x.double(), y), 'ldexp_bf16': lambda L, x, y: L.ldexp(x.bfloat16(), y),
    # pow(x, 0.5) is PyTorch's sqrt (MKL's where it is emulated), not IEEE's
    'pow_half': lambda L, x, y: x ** 0.5 + (x.double() * 4.5) ** 0.5,
}


def _int_pairs(L, dt):
    v = _int_vals(dt)
    a = [p for p in v for _ in v]
    b = [q for _ in v for q in v]
    return L.tensor(a, dtype=getattr(L, dt)), L.tensor(b, dtype=getattr(L, dt))


def _bits(t):
    return (t.float() if str(t.dtype).endswith('bfloat16') else t).numpy()


@pytest.mark.parametrize('dtype', INT_DTYPES)
@pytest.mark.parametrize('name', list(INT_CASES))
def test_integer_extremes(name, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        t = INT_CASES[name](torch, *_int_pairs(torch, dtype))
        e = INT_CASES[name](ember, *_int_pairs(ember, dtype))
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape), name
    ev, tv = _bits(e), _bits(t)
    if tv.dtype.kind == 'f':
        assert (np.isnan(ev) == np.isnan(tv)).all(), f'{name}: NaN at {np.isnan(ev).nonzero()}, PyTorch ' \
                                                     f'{np.isnan(tv).nonzero()}'
        ok = ~np.isnan(tv)
        assert (np.signbit(ev[ok]) == np.signbit(tv[ok])).all(), name
        ev, tv = ev[ok], tv[ok]
    np.testing.assert_array_equal(ev, tv, err_msg=name)


@pytest.mark.parametrize('dtype', ('float32', 'float64'))
@pytest.mark.parametrize('p', (0.0, 1.0, 2.0, float('inf')))
def test_cdist_bits(p, dtype):
    """cdist's direct path adds its terms one after another in the dtype (the 2-norm's last partial 16 bytes of a
    row fused as fma), so its distances are PyTorch's bits for any number of columns."""
    g = np.random.default_rng(0)
    for m in (0, 1, 2, 3, 4, 5, 7, 16, 17, 101):
        a, b = g.standard_normal((2, 7, m)).astype(dtype), g.standard_normal((2, 5, m)).astype(dtype)
        t = torch.cdist(torch.from_numpy(a), torch.from_numpy(b), p=p).numpy()
        e = ember.cdist(ember.tensor(a), ember.tensor(b), p=p).numpy()
        np.testing.assert_array_equal(e, t, err_msg=f'm={m}')
