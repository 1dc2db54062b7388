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


@pytest.fixture(params=['axpy', 'emulated'])
def inplace_route(request, monkeypatch):
    """add_/sub_ with alpha by BLAS ?axpy where the loaded one rounds once, and by the float64 emulation (the route
    elsewhere): both must give PyTorch's values."""
    from ember.ops import _fused
    if request.param == 'emulated':
        monkeypatch.setattr(_fused, '_AXPY_FUSED', {np.dtype(np.float32): False, np.dtype(np.float64): False})
    return request.param


def test_fused_large_inplace_blocks(inplace_route):
    x = _data(70000, 5).astype(np.float32)
    (ta, ea), (tb, eb), (tc, ec) = (_pair(v, 'float32') for v in x)
    _same(ta.clone().add_(tb, alpha=-3e-3), ea.clone().add_(eb, alpha=-3e-3))


def test_fused_sgd_step_by_hand(inplace_route):
    """p.add_(g, alpha=-20) (word_language_model's update) over several blocks: alpha's 3 significant bits put
    1-7% of the float64 sums on a float32 midpoint, nearly all exact; with zero rows (an embedding's gradient)."""
    rng = np.random.default_rng(12)
    n = 300_000
    p = (rng.standard_normal(n) * 0.05).astype(np.float32)
    g = (rng.standard_normal(n) * np.exp(rng.uniform(-12, 0, n))).astype(np.float32)
    g[:n // 3] = 0
    (tp, ep), (tg, eg) = _pair(p, 'float32'), _pair(g, 'float32')
    _same(tp.clone().add_(tg, alpha=-20.0), ep.clone().add_(eg, alpha=-20.0))


@pytest.mark.parametrize('case', ['plain', 'negzero_grad', 'negzero_param', 'negzero_param_plus', 'negzero_both',
                                  'inf_alpha', 'dense', '3d', 'odd_width'])
def test_fused_sparse_rows_update(case, inplace_route):
    """add_(g, alpha) with most of g's rows zero (an embedding's gradient) updates only the nonzero rows
    (_rows_fma_), bit for bit PyTorch's: zero rows of -0.0, a -0.0 parameter (with a negative alpha and +0.0 zero
    rows every product there is -0.0: the rows path; with a positive alpha, or -0.0 zero rows, dense: -0 + +0 is
    +0), an infinite alpha (a * 0 is NaN: dense path), a dense g, a 3-D table, rows of an odd length."""
    from ember.ops import _fused
    rng = np.random.default_rng(13)
    shape = (2, 300, 120) if case == '3d' else (600, 121) if case == 'odd_width' else (600, 120)
    p = (rng.standard_normal(shape) * 0.05).astype(np.float32)
    g = np.zeros(shape, np.float32)
    rows = g.reshape(-1, shape[-1])
    pick = rng.choice(rows.shape[0], rows.shape[0] // 10, replace=False)
    rows[pick] = rng.standard_normal((pick.size, shape[-1])) * np.exp(rng.uniform(-12, 0, (pick.size, 1)))
    rows[pick[:3], ::7] = 0
    alpha = -20.0
    if case == 'negzero_grad':
        rows[::2] = np.where(rows[::2] == 0, np.float32(-0.0), rows[::2])
        p.reshape(-1)[::5] = 0.0
    if case in ('negzero_param', 'negzero_param_plus', 'negzero_both'):
        p.reshape(-1)[::5] = -0.0
    if case == 'negzero_param_plus':
        alpha = 20.0
    if case == 'negzero_both':
        rows[1::2] = np.where(rows[1::2] == 0, np.float32(-0.0), rows[1::2])
    if case == 'inf_alpha':
        alpha = float('inf')
    if case == 'dense':
        g = rng.standard_normal(shape).astype(np.float32)
    expect = {'plain': True, 'negzero_grad': True, 'negzero_param': True, 'negzero_param_plus': False,
              'negzero_both': False, 'inf_alpha': False, 'dense': False, '3d': True, 'odd_width': True}[case]
    assert _fused._rows_fma_(p.copy(), np.float32(alpha), g) == expect
    (tp, ep), (tg, eg) = _pair(p, 'float32'), _pair(g, 'float32')
    with np.errstate(all='ignore'):
        _same(tp.clone().add_(tg, alpha=alpha), ep.clone().add_(eg, alpha=alpha))
        _same(tp.clone().sub_(tg, alpha=-alpha), ep.clone().sub_(eg, alpha=-alpha))


@pytest.mark.parametrize('threads', [1, 2])
@pytest.mark.parametrize('name', ['float32', 'float64'])
def test_fused_axpy_route(name, threads, monkeypatch):
    """add_(alpha) of large contiguous arrays takes ?axpy exactly when the probe found it rounds once, in one span per
    thread past _AXPY_SPLIT (values PyTorch's either way); aliasing, a non-finite or zero alpha and strided arrays go
    to the emulation."""
    from ember.ops import _fused
    monkeypatch.setattr(_fused, '_AXPY_SPLIT', 1000)
    dt = np.dtype(name)
    x = _data(5000, 21).astype(dt)
    old = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        o = x[0].copy()
        assert _fused._axpy_(o, 0.37, x[1]) == bool(_fused._axpy_fused(dt))
        for alpha in (0.0, float('inf'), float('nan')):
            assert not _fused._axpy_(x[0].copy(), alpha, x[1])
        assert not _fused._axpy_(o, 0.37, o)
        assert not _fused._axpy_(x[0, ::2].copy(), 0.37, x[1, ::2])
        (ta, ea), (tb, eb) = _pair(x[0], name), _pair(x[1], name)
        _same(ta.clone().add_(tb, alpha=-0.01), ea.clone().add_(eb, alpha=-0.01))
        _same(ta.clone().add_(ta, alpha=3.0), ea.clone().add_(ea, alpha=3.0))
        with np.errstate(all='ignore'):
            for alpha in (0.0, float('inf')):
                _same(ta.clone().add_(tb, alpha=alpha), ea.clone().add_(eb, alpha=alpha))
    finally:
        ember.set_num_threads(old)


def test_fused_axpy_probe_rejects_double_rounding(monkeypatch):
    """A ?axpy that rounds the product first (OpenBLAS's Haswell kernels do, somewhere) fails the probe."""
    from ember import backend
    from ember.ops import _fused

    def twice(alpha, x, y):
        y += alpha * x
        return True
    monkeypatch.setattr(_fused, '_AXPY_FUSED', {})
    monkeypatch.setattr(backend, 'axpy', twice)
    assert not _fused._axpy_fused(np.dtype(np.float32))
    assert not _fused._axpy_fused(np.dtype(np.float64))


@pytest.mark.parametrize('threads', [1, 2])
@pytest.mark.parametrize('name', ['float32', 'float64'])
def test_fused_axpy_fused_on_block_multiples_only(name, threads, monkeypatch):
    """A ?axpy that rounds once only on multiples of 32 elements (OpenBLAS's Haswell saxpy: its vector loop fuses,
    its remainder loop rounds the product first) is probed as block 32: add_(alpha) takes it on the largest multiple
    of 32 (cut into spans of whole blocks at two threads) and the emulation past it, with PyTorch's values."""
    from ember import backend
    from ember.ops import _fused

    def haswell(alpha, x, y):
        k = y.size - y.size % 32
        y[:k] = _fused.fma(alpha, x[:k], y[:k], y.dtype)
        y[k:] += alpha * x[k:]
        return True
    monkeypatch.setattr(_fused, '_AXPY_FUSED', {})
    monkeypatch.setattr(_fused, '_AXPY_SPLIT', 1000)
    monkeypatch.setattr(backend, 'axpy', haswell)
    dt = np.dtype(name)
    assert _fused._axpy_fused(dt) == 32
    old = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        for n in (1, 31, 32, 33, 100, 5000, 70001):
            x = _data(n, 2).astype(dt)
            (ta, ea), (tb, eb) = _pair(x[0], name), _pair(x[1], name)
            _same(ta.clone().add_(tb, alpha=-0.37), ea.clone().add_(eb, alpha=-0.37))
            _same(ta.clone().sub_(tb, alpha=20.0), ea.clone().sub_(eb, alpha=20.0))
    finally:
        ember.set_num_threads(old)


def test_fused_grads():
    dt = ember.float64
    a, b, c = (ember.randn(5, dtype=dt, requires_grad=True) for _ in range(3))
    assert ember.autograd.gradcheck(lambda a, b: ember.add(a, b, alpha=0.3), (a, b))
    assert ember.autograd.gradcheck(lambda a, b: ember.sub(a, b, alpha=0.3), (a, b))
    assert ember.autograd.gradcheck(lambda a, b, c: ember.lerp(a, b, c), (a, b, c))
    assert ember.autograd.gradcheck(lambda a, b: ember.lerp(a, b, 0.7), (a, b))
    assert ember.autograd.gradcheck(lambda a, b, c: ember.addcmul(a, b, c, value=0.5), (a, b, c))
    assert ember.add(a, b, alpha=0.3).grad_fn.name() == 'AddBackward0'


def _ties(n, seed, alpha=None):
    """float32 (alpha, b, c) with alpha * b + c, in float64, on a float32 midpoint but not exact (the case that
    rounds twice): b = 2**(k-24) / alpha rounded, c in [2**k, 2**(k+1)); about 4% of random alphas give one,
    every element does for an ``alpha`` that gives one. k spans the subnormal range too."""
    rng = np.random.default_rng(seed)
    al = rng.uniform(0.5, 1, n).astype(np.float32) if alpha is None else np.full(n, alpha, np.float32)
    k = rng.integers(-150, 30, n)
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    b = (sign * np.ldexp(1.0, k - 24) / al).astype(np.float32)
    c = (sign * np.ldexp(1.0, k) * rng.uniform(1, 2, n)).astype(np.float32)
    return al, b, c


def _tie_alpha():
    al, b, c = _ties(400, 1)
    s = al.astype(np.float64) * b + c
    return float(al[np.flatnonzero((s.view(np.int64) & ((1 << 29) - 1)) == 1 << 28)[0]])


@pytest.mark.parametrize('scale', [0, 12])
@pytest.mark.parametrize('threads', [1, 2])
def test_fused_ties_tiny_specials_in_blocks(threads, scale, monkeypatch, inplace_route):
    """Several blocks (and, at 2 threads, two spans) of midpoint ties, subnormal-range sums and specials: add_,
    add and addcmul equal PyTorch's bit for bit. alpha scaled by 2**-scale (b by 2**scale, the same products):
    below 2**-7 the blocks test for subnormal-range sums too (_tiny_sums_exact)."""
    from ember import _parallel
    from ember.ops import _fused
    monkeypatch.setattr(_fused, 'BLOCK', 4096)
    monkeypatch.setattr(_parallel, 'MIN_BYTES', 1)
    n = 2 * _fused.BLOCK + 999
    alpha = _tie_alpha()
    _, b, c = _ties(n, 2, alpha)
    alpha, b = float(np.float32(alpha) * np.float32(2.0 ** -scale)), b * np.float32(2.0 ** scale)
    assert _fused._tiny_sums_exact(np.float32(alpha)) == (scale == 0)
    x = _data(n, 3).astype(np.float32)
    b[::5], c[::5] = x[1, ::5], x[0, ::5]
    k = len(SPECIAL)
    b[-k:], c[-2 * k:-k], c[-k:] = SPECIAL, SPECIAL, SPECIAL[::-1]
    al, b2, c2 = _ties(n, 4)
    old = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        with np.errstate(all='ignore'):
            (tb, eb), (tc, ec), (ta, ea) = _pair(b, 'float32'), _pair(c, 'float32'), _pair(al, 'float32')
            _same(tc.clone().add_(tb, alpha=alpha), ec.clone().add_(eb, alpha=alpha))
            _same(tc.clone().sub_(tb, alpha=-alpha), ec.clone().sub_(eb, alpha=-alpha))
            _same(torch.add(tc, tb, alpha=alpha), ember.add(ec, eb, alpha=alpha))
            (tb, eb), (tc, ec) = _pair(b2, 'float32'), _pair(c2, 'float32')
            _same(torch.addcmul(tc, ta, tb), ember.addcmul(ec, ea, eb))
    finally:
        ember.set_num_threads(old)


@pytest.mark.parametrize('name', ['float32', 'float64'])
def test_optimizer_moments_in_place_as_pytorch(name, inplace_route):
    """The optimizers' in-place moments (ember.optim.adam._lerp: exp_avg.lerp_ on both of its sides, by ?axpy on
    whole runs and a padded last one where ?axpy rounds once; optimizer._addcmul_: exp_avg_sq.addcmul_ through
    _fma32_span's blocks) equal PyTorch's lerp_ and addcmul_ bit for bit on every length up to 70 and past a
    block, over ties, subnormal-range sums, huge exponent gaps, infinities, NaN and -0.0. Weight 1 only on
    multiples of 16 elements: PyTorch's AVX2 lerp computes fma(w - 1, diff, end) 16 at a time and its scalar tail
    end - diff * (1 - w), whose zeros' signs differ there (w - 1 is +0.0); ember's is the vectorized one."""
    from ember.ops import _fused
    from ember.optim.adam import _lerp
    from ember.optim.optimizer import _addcmul_
    dt = np.dtype(name)
    alpha = _tie_alpha()
    n = 2 * 4096 + 77
    _, b, c = _ties(n, 5, alpha)
    x = _data(n, 6)
    x[:, 1::9] *= 1e30                              # exponent gaps past float32's 24 bits (and float64's 53)
    x[0, 2::11], x[1, 3::13] = -0.0, 0.0
    k = len(SPECIAL)
    x[0, -k:], x[1, -2 * k:-k], x[2, -k:] = SPECIAL, SPECIAL, SPECIAL[::-1]
    cols = [np.concatenate([c, x[0]]), np.concatenate([b * alpha, x[1]]), np.concatenate([b, x[2]])]
    a0, e0, t0 = (v.astype(dt) for v in cols)
    for m in list(range(1, 71)) + [4099, a0.size]:
        for lo in (0, a0.size - m):
            a, e, t = (v[lo:lo + m] for v in (a0, e0, t0))
            for w in (0.1, 0.3, 0.7, 0.999) + ((1.0,) if m % 16 == 0 else ()):
                want = torch.tensor(a).lerp_(torch.tensor(e), w).numpy()
                got = a.copy()
                with np.errstate(all='ignore'):
                    _lerp(got, e, w, np.empty_like(got))
                _same(torch.tensor(want), ember.tensor(got))
            for value in (1.0, 0.001, -1.0):
                want = torch.tensor(a).addcmul_(torch.tensor(e), torch.tensor(t), value=value).numpy()
                got = a.copy()
                with np.errstate(all='ignore'):
                    _addcmul_(got, e, t, value, np.empty_like(got))
                _same(torch.tensor(want), ember.tensor(got))
    assert bool(_fused._AXPY_FUSED.get(dt)) == (inplace_route == 'axpy' and bool(_fused._axpy_fused(dt)))


SGD_CONFIGS = [dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.3),
               dict(lr=0.05, momentum=0.9, nesterov=True), dict(lr=0.02, momentum=0.5, weight_decay=0.1),
               dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.01), dict(lr=0.01, weight_decay=1e-4),
               dict(lr=0.01, momentum=0.8, dampening=0.1, maximize=True),
               dict(lr=0.3, maximize=True, weight_decay=0.2, momentum=0.9, nesterov=True)]


@pytest.mark.parametrize('name', ['float32', 'float64'])
@pytest.mark.parametrize('kw', SGD_CONFIGS, ids=[str(i) for i in range(len(SGD_CONFIGS))])
def test_sgd_steps_bit_exact(kw, name, inplace_route):
    """SGD's params and momentum buffers equal PyTorch's bit for bit over 4 steps: grad.add(param, alpha=wd),
    buf.mul_(m).add_(grad, alpha=1 - dampening), grad.add(buf, alpha=m) and param.add_(grad, alpha=-lr) each
    round once as PyTorch's add kernel (a fused multiply-add); params of 1 to 70000 elements (ember's blocks past
    65536), gradients over 10 decades."""
    from ember.optim import sgd
    dt = np.dtype(name)
    rng = np.random.default_rng(3)
    sizes = [1, 7, 33, 100, 4099, sgd._BLOCK + 4471]
    init = [(rng.standard_normal(n) * 0.1).astype(dt) for n in sizes]
    grads = [[(rng.standard_normal(n) * np.exp(rng.uniform(-16, 2, n))).astype(dt) for n in sizes]
             for _ in range(4)]
    out = []
    for L in (torch, ember):
        ps = [L.nn.Parameter(L.tensor(a)) for a in init]
        opt = L.optim.SGD(ps, **kw)
        for gs in grads:
            for p, g in zip(ps, gs):
                p.grad = L.tensor(g)
            opt.step()
        bufs = [opt.state[p].get('momentum_buffer') for p in ps]
        out.append([p.detach().numpy().copy() for p in ps] + [b.numpy().copy() for b in bufs if b is not None])
    for want, got in zip(*out):
        np.testing.assert_array_equal(got, want)


def test_fused_clean_matches_suspects():
    """_clean's whole-block test (shift and minimums) says 'none' exactly when _suspects finds none."""
    from ember.ops import _fused
    tiny = 2.0 ** -126
    edge = [0.0, -0.0, tiny, -tiny, np.nextafter(tiny, 0), -np.nextafter(tiny, 0), 1e-300, -1e-300, np.nan, -np.nan,
            np.inf, -np.inf, 1 + 2.0 ** -24, -(1 + 2.0 ** -24), 1 + 2.0 ** -24 + 2.0 ** -52, 3.0, -3.0, 1e300]
    cases = [np.array([v]) for v in edge] + [np.array([3.0, -2.0, v, 5.0]) for v in edge] + [np.array(edge)]
    for s in cases:
        assert _fused._clean(s, np.empty(s.size, np.int64)) == (not _fused._suspects(s).any()), s


def test_fused_suspects_from_shifted_bits():
    """_suspects from _no_midpoint's shifted bits (and without the subnormal test where _no_tiny found none) marks
    the same elements as from s alone."""
    from ember.ops import _fused
    rng = np.random.default_rng(11)
    s = (rng.standard_normal(4000) * 0.05).astype(np.float32).astype(np.float64) + \
        (rng.standard_normal(4000) * 1e-6).astype(np.float32).astype(np.float64) * -20
    s[::97] = np.float32(0.75) + 2.0 ** -25      # float32 midpoints
    s[5::101] = [1e-39, -1e-39, 0.0, -0.0, 1e-300, np.nan, np.inf, -np.inf] * 5
    shifted = np.empty(s.size, np.int64)
    assert not _fused._no_midpoint(s, shifted) and not _fused._no_tiny(s)
    assert (_fused._suspects(s, shifted) == _fused._suspects(s)).all()
    normal = s[np.abs(s) >= 2.0 ** -126]
    shifted = np.empty(normal.size, np.int64)
    assert not _fused._no_midpoint(normal, shifted) and _fused._no_tiny(normal)
    assert (_fused._suspects(normal, shifted, False) == _fused._suspects(normal)).all()


def test_fused_no_tiny_but_zeros():
    """_no_tiny_but_zeros says 'none' exactly when no nonzero sum is below 2**-126 in magnitude (zeros of either
    sign, nan and inf are not), and _tiny without zeros marks the same elements less the zeros."""
    from ember.ops import _fused
    tiny = 2.0 ** -126
    edge = [0.0, -0.0, tiny, -tiny, np.nextafter(tiny, 0), -np.nextafter(tiny, 0), 5e-324, -5e-324, 1e-300, -1e-300,
            np.nan, -np.nan, np.inf, -np.inf, 2.0, -2.0, 1.5, 3.0, 1e300, -1e300]
    cases = [np.array([v]) for v in edge] + [np.array([3.0, -2.0, v, 0.0, -0.0]) for v in edge] + [np.array(edge)]
    for s in cases:
        want = not ((np.abs(s) < tiny) & (s != 0)).any()
        assert _fused._no_tiny_but_zeros(s, np.empty(s.size, np.int64)) == want, s
        assert (_fused._tiny(s, zeros=False) == (_fused._tiny(s) & (s != 0))).all(), s


@pytest.mark.parametrize('n', [1000, 70000])
def test_fused_addcmul_zero_state_matches_torch(n):
    """addcmul_ onto a state that is zero wherever the gradient is (an optimizer's square average of a layer with
    dead units), with -0.0 and midpoint sums (and at 1000 subnormal-range ones) among them: bit for bit PyTorch's
    (the zeros skip _to_odd; the rest still go through it)."""
    rng = np.random.default_rng(5)
    g = (rng.standard_normal(n) * 1e-3).astype(np.float32)
    g[rng.random(n) < 0.6] = 0
    sq = np.abs(rng.standard_normal(n) * 1e-6).astype(np.float32)
    sq[g == 0] = 0
    sq[1::211] = -0.0
    if n == 1000:           # subnormal-range sums here; none at 70000, where the zeros alone pass _no_tiny_but_zeros
        sq[7::503] = 1e-39
        g[7::503] = 1e-21
    sq[11::307] = np.float32(0.75)
    g[11::307] = np.float32(2.0 ** -13)
    for lib, to in ((torch, torch.tensor), (ember, ember.tensor)):
        st, gt = to(sq.copy()), to(g)
        st.mul_(0.9).addcmul_(gt, gt, value=0.1)
        if lib is torch:
            want = st.numpy()
        else:
            got = st.numpy()
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def test_fused_zero_dim_and_broadcast():
    """0-d tensors and broadcast operands take the one-pass path and the blocked one alike. Not here: (1, 40) +
    (3, 1), where PyTorch's value at [2, 36] for this data is the twice-rounded one (ember's is fused)."""
    from ember.ops import _fused
    x = _data(40, 7).astype(np.float32)
    for sa, sb in [((), ()), ((40,), ()), ((), (40,)), ((3, 3), (3,)), ((3, 1), (3, 3))]:
        a = x[0, :int(np.prod(sa))].reshape(sa)
        b = x[1, :int(np.prod(sb))].reshape(sb)
        (ta, ea), (tb, eb) = _pair(a, 'float32'), _pair(b, 'float32')
        _same(torch.add(ta, tb, alpha=0.37), ember.add(ea, eb, alpha=0.37))
        _same(torch.lerp(ta, tb, 0.3), ember.lerp(ea, eb, 0.3))
    m = _fused.BLOCK // 2 + 5
    big = _data(3 * m, 8).astype(np.float32)
    (ta, ea), (tb, eb) = _pair(big[0].reshape(m, 3), 'float32'), _pair(big[1, :3], 'float32')
    _same(torch.add(ta, tb, alpha=-1.3), ember.add(ea, eb, alpha=-1.3))
    _same(torch.add(tb, ta, alpha=-1.3), ember.add(eb, ea, alpha=-1.3))
    _same(torch.addcmul(ta, tb, ta, value=0.37), ember.addcmul(ea, eb, ea, value=0.37))


def _graph(t):
    """grad_fn's name and its next_functions as (name or None, index), one level down."""
    return t.grad_fn.name(), [(None if f is None else f.name() if hasattr(f, 'name') else type(f).__name__, i)
                              for f, i in t.grad_fn.next_functions]


ALPHA_GRAPHS = [
    lambda m, a, b: m.add(a, b, alpha=2), lambda m, a, b: m.sub(a, b, alpha=2), lambda m, a, b: m.rsub(a, b, alpha=2),
    lambda m, a, b: m.add(a, 3.0, alpha=2), lambda m, a, b: m.sub(a, 3.0, alpha=2),
    lambda m, a, b: m.rsub(a, 3.0, alpha=2), lambda m, a, b: a.add(b, alpha=0.5),
    lambda m, a, b: m.add(a.detach(), b, alpha=2), lambda m, a, b: m.sub(a, b.detach(), alpha=-0.3),
    lambda m, a, b: m.add(a, b[:1], alpha=1.5), lambda m, a, b: m.rsub(a[:1], b, alpha=0.7),
]


@pytest.mark.parametrize('i', range(len(ALPHA_GRAPHS)))
def test_alpha_graph_and_grads_as_pytorch(i):
    """add/sub/rsub with alpha record PyTorch's one node (no MulBackward0), and their gradients are PyTorch's in
    float32 and the half types (alpha multiplied in float32, rounded once)."""
    f = ALPHA_GRAPHS[i]
    x = _data(6, 9)
    for name in ('float32', 'float16', 'bfloat16'):
        (ta, ea), (tb, eb) = _pair(x[0], name), _pair(x[1], name)
        for t in (ta, tb, ea, eb):
            t.requires_grad_()
        tr, er = f(torch, ta, tb), f(ember, ea, eb)
        assert _graph(tr) == _graph(er)
        _same(tr, er)
        g = x[2] * 3.3
        tr.backward(torch.tensor(g).to(tr.dtype))
        er.backward(ember.tensor(g).to(er.dtype))
        for t, e in ((ta, ea), (tb, eb)):
            assert (t.grad is None) == (e.grad is None)
            if t.grad is not None:
                _same(t.grad, e.grad)


def test_alpha_gradcheck_float64():
    """Gradients and second derivatives of add/sub/rsub with alpha against float64 finite differences."""
    dt = ember.float64
    a, b = ember.randn(4, 3, dtype=dt, requires_grad=True), ember.randn(3, dtype=dt, requires_grad=True)
    for f in (lambda a, b: ember.add(a, b, alpha=0.3), lambda a, b: ember.sub(a, b, alpha=-1.7),
              lambda a, b: ember.rsub(a, b, alpha=2.5), lambda a, b: ember.rsub(a, 1.5, alpha=2.5) * b,
              lambda a, b: ember.add(a, b, alpha=0.3) ** 2):
        assert ember.autograd.gradcheck(f, (a, b))
        assert ember.autograd.gradgradcheck(f, (a, b))


@pytest.mark.parametrize('planted', [1, 3, 16, 17])
def test_fused_addcmul_few_double_roundings(planted):
    """A block of 65536 ordinary values with a few planted sums that round twice through float64 (1 + 2**-23 +
    2**-24 - 2**-70: the float64 sum is the float32 midpoint, whose tie goes up to 1 + 2**-22; the fma's is 1 + 2**-23)
    and their mirror images: addcmul_ and addcmul equal PyTorch's bit for bit, with at most _FEW
    suspects (_to_odd_few, Python floats) and with more (the array path)."""
    rng = np.random.default_rng(planted)
    n = 1 << 16
    c = rng.uniform(0.5, 2, n).astype(np.float32)
    a, b = (rng.standard_normal(n).astype(np.float32) * np.float32(1e-3) for _ in range(2))
    at = rng.choice(n, planted, replace=False)
    sign = np.where(np.arange(planted) % 2, np.float32(-1), np.float32(1))
    c[at] = np.float32(1 + 2.0 ** -23) * sign
    a[at] = np.float32(2.0 ** -24 * (1 + 2.0 ** -23)) * sign
    b[at] = np.float32(1 - 2.0 ** -23)
    (tc, ec), (ta, ea), (tb, eb) = _pair(c, 'float32'), _pair(a, 'float32'), _pair(b, 'float32')
    want = tc.clone().addcmul_(ta, tb)
    assert (want.numpy()[at] == np.float32(1 + 2.0 ** -23) * sign).all()     # the fma's, not the tie's
    _same(want, ec.clone().addcmul_(ea, eb))
    _same(torch.addcmul(tc, ta, tb), ember.addcmul(ec, ea, eb))
