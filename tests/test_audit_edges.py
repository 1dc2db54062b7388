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
    # prod's gradient: prod / x with no zero (NaN at an infinite factor), else running products kept as cumprod's
    'prod_dim': (lambda L, x: x.reshape(3, 4).prod(1), (12,)),
    'prod_no_zero': (lambda L, x: (x[:3] + 2).prod(0), (12,)),
    'prod_huge_with_zero': (lambda L, x: L.stack([x[3], x[3] * 0 + 3e38, x[3] * 0 - 3e38, x[10]]).prod(0), (12,)),
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
        t_out, t_grad = _run(torch, fn, dtype, n)
        e_out, e_grad = _run(ember, fn, dtype, n)
        _same(e_out, t_out, f'{name} {dtype} n={n}')
        assert (e_grad is None) == (t_grad is None)
        if t_grad is not None:
            _same(e_grad, t_grad, f'{name} {dtype} n={n} grad')
