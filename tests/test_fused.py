"""Bit-exact add/sub(alpha), lerp and addcmul: PyTorch rounds these once (fused multiply-add)."""
import numpy as np
import pytest
import torch

import ember

DTYPES = [('float32', np.float32), ('float64', np.float64), ('bfloat16', np.float32), ('float16', np.float16)]
SPECIAL = [np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-45, -1e-45, 1e-39, 3e38, -3e38, 1e-30, 1.0]


def _data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, n)) * np.exp(rng.uniform(-3, 3, (3, n)))
    x[:, ::7] *= 1e-38      # subnormal-range results
    return x


def _pair(x, name):
    return torch.tensor(x).to(getattr(torch, name)), ember.tensor(x).to(getattr(ember, name))


def _same(r, e):
    r = r.detach().to(torch.float64).numpy()
    e = e.detach().to(ember.float64).numpy()
    assert r.shape == e.shape
    ok = (r == e) | (np.isnan(r) & np.isnan(e))
    assert ok.all(), (r[~ok][:5], e[~ok][:5])
    assert (np.signbit(r) == np.signbit(e))[~np.isnan(r)].all()


OPS = [
    ('add', lambda m, a, b, c: m.add(a, b, alpha=0.37)),
    ('sub', lambda m, a, b, c: m.sub(a, b, alpha=-1.3)),
    ('rsub', lambda m, a, b, c: m.rsub(a, b, alpha=0.37)),
    ('lerp_small', lambda m, a, b, c: m.lerp(a, b, 0.3)),
    ('lerp_large', lambda m, a, b, c: m.lerp(a, b, 0.7)),
    ('lerp_tensor', lambda m, a, b, c: m.lerp(a, b, c)),
    ('addcmul', lambda m, a, b, c: m.addcmul(a, b, c, value=0.37)),
    ('add_', lambda m, a, b, c: a.clone().add_(b, alpha=-0.01)),
    ('sub_', lambda m, a, b, c: a.clone().sub_(b, alpha=0.01)),
    ('lerp_', lambda m, a, b, c: a.clone().lerp_(b, 0.1)),
    ('addcmul_', lambda m, a, b, c: a.clone().addcmul_(b, c, value=0.001)),
]


@pytest.mark.parametrize('name', [d[0] for d in DTYPES])
@pytest.mark.parametrize('op', OPS, ids=[o[0] for o in OPS])
def test_fused_bit_exact(op, name):
    for n in list(range(1, 34)) + [2000]:
        x = _data(n, n)
        if n == 2000:
            k = len(SPECIAL)
            x[0, :k], x[1, k:2 * k], x[0, 2 * k:3 * k], x[1, 2 * k:3 * k] = SPECIAL, SPECIAL, SPECIAL, SPECIAL[::-1]
        (ta, ea), (tb, eb), (tc, ec) = (_pair(v, name) for v in x)
        if op[0] == 'lerp_tensor':
            tc, ec = _pair(np.clip(x[2], -2, 2), name)
        with np.errstate(all='ignore'):
            _same(op[1](torch, ta, tb, tc), op[1](ember, ea, eb, ec))


def test_fused_integer_unchanged():
    a, b = np.arange(-20, 20), np.arange(40) - 7
    _same(torch.add(torch.tensor(a), torch.tensor(b), alpha=3), ember.add(ember.tensor(a), ember.tensor(b), alpha=3))
    _same(torch.addcmul(torch.tensor(a), torch.tensor(b), torch.tensor(a), value=2),
          ember.addcmul(ember.tensor(a), ember.tensor(b), ember.tensor(a), value=2))


def test_fused_large_inplace_blocks():
    x = _data(70000, 5).astype(np.float32)
    (ta, ea), (tb, eb), (tc, ec) = (_pair(v, 'float32') for v in x)
    _same(ta.clone().add_(tb, alpha=-3e-3), ea.clone().add_(eb, alpha=-3e-3))


def test_fused_grads():
    dt = ember.float64
    a, b, c = (ember.randn(5, dtype=dt, requires_grad=True) for _ in range(3))
    assert ember.autograd.gradcheck(lambda a, b: ember.add(a, b, alpha=0.3), (a, b))
    assert ember.autograd.gradcheck(lambda a, b: ember.sub(a, b, alpha=0.3), (a, b))
    assert ember.autograd.gradcheck(lambda a, b, c: ember.lerp(a, b, c), (a, b, c))
    assert ember.autograd.gradcheck(lambda a, b: ember.lerp(a, b, 0.7), (a, b))
    assert ember.autograd.gradcheck(lambda a, b, c: ember.addcmul(a, b, c, value=0.5), (a, b, c))
    assert ember.add(a, b, alpha=0.3).grad_fn.name() == 'AddBackward0'
