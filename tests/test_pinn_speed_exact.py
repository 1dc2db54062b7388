"""Float64 physics-informed training (DeepXDE-style PINNs: tanh MLPs differentiated twice with create_graph) on
ember's fast paths, bit for bit against PyTorch's tanh_backward, whose 1 - y*y is one fused multiply-add."""
import numpy as np
import pytest
import torch

import ember
from ember.ops import _fused


def _values(n=50_000, seed=0):
    """tanh outputs of many scales, values where 1 - y*y is a tie or near one (k * 2**-27), the edges."""
    rng = np.random.default_rng(seed)
    parts = [np.tanh(rng.standard_normal(n) * 3), rng.uniform(-1, 1, n),
             1 - rng.uniform(0, 1e-6, n) * rng.choice([1, 1e-5, 1e-9], n),
             np.sqrt(0.5) + rng.uniform(-1e-9, 1e-9, n),
             (2.0 ** 27 - rng.integers(1, 2 ** 20, n)) * 2.0 ** -27,
             rng.uniform(-1, 1, n) * 10.0 ** rng.uniform(-320, -5, n),
             np.array([0.0, 1.0, 2 ** -27, 5e-324, 1 - 2 ** -53, np.sqrt(0.5), 2 ** -0.5 * (1 + 2 ** -52)])]
    y = np.concatenate(parts)
    return np.concatenate([y, -y])


def _bits(a):
    return np.ascontiguousarray(a, np.float64).view(np.int64)


def test_one_minus_square_matches_torch_tanh_backward():
    y = _values()
    want = torch.ops.aten.tanh_backward(torch.ones(y.size, dtype=torch.float64), torch.from_numpy(y)).numpy()
    assert np.array_equal(_bits(_fused.one_minus_square64(y)), _bits(want))
    assert np.array_equal(_bits(_fused.one_minus_square64(y)), _bits(_fused._fma64(-y, y, 1.0)))


def test_one_minus_square_ties_are_fixed():
    """(2**27 - 1) * 2**-27 squared leaves 1 - y*y a midpoint's neighbour: t - e rounds onto 2**-54 and the plain
    sum would tie; PyTorch's fma rounds the exact value."""
    y = np.array([(2.0 ** 27 - k) * 2.0 ** -27 for k in range(1, 4000)])
    want = torch.ops.aten.tanh_backward(torch.ones(y.size, dtype=torch.float64), torch.from_numpy(y)).numpy()
    assert np.array_equal(_bits(_fused.one_minus_square64(y)), _bits(want))


@pytest.mark.parametrize('y', [[1.5, -2.0, 0.5], [np.nan, 0.25, 1.0], [np.inf, -0.0, -1.0], [0.3], []])
def test_one_minus_square_outside_tanh_range(y):
    y = np.array(y)
    got = _fused.one_minus_square64(y)
    assert got.shape == y.shape
    assert np.array_equal(_bits(got), _bits(_fused._fma64(-y, y, 1.0)))
    assert np.array_equal(_bits(_fused.one_minus_square64(y.reshape(-1, 1)).reshape(-1)), _bits(got))


def test_one_minus_square_block_outside_tanh_range():
    """One block of 2**14 holding a |y| > 1 goes to _fma64 whole, the others not: every value PyTorch's."""
    y = np.tanh(np.random.default_rng(9).standard_normal(40000) * 2)
    y[20000], y[39999] = 1.5, np.nan
    want = torch.ops.aten.tanh_backward(torch.ones(y.size, dtype=torch.float64), torch.from_numpy(y)).numpy()
    got = _fused.one_minus_square64(y)
    assert np.array_equal(_bits(got[:39999]), _bits(want[:39999])) and np.isnan(got[39999])


def test_one_minus_square_zero_dim():
    assert _fused.one_minus_square64(np.float64(0.3)) == _fused._fma64(-0.3, 0.3, 1.0)


def _derivatives(m, x, f):
    """f's first, second and third derivatives at x, each through autograd.grad(create_graph=True), as a PINN's
    residual takes them (the third: its loss's backward)."""
    x = m.tensor(x, requires_grad=True)
    g, = m.autograd.grad(f(m, x).sum(), x, create_graph=True)
    gg, = m.autograd.grad(g.sum(), x, create_graph=True)
    ggg, = m.autograd.grad(gg.sum(), x)
    return g.detach().numpy(), gg.detach().numpy(), ggg.numpy()


@pytest.mark.parametrize('depth', [1, 2])
def test_tanh_derivatives_bits_match_torch(depth):
    """On inputs whose forward tanh values are PyTorch's (its SLEEF tanh and NumPy's differ in the last bit for
    some), the derivatives are PyTorch's, bit for bit: all three of tanh, the first two of tanh(tanh(x) * 2.3)."""
    f = (lambda m, x: m.tanh(x)) if depth == 1 else (lambda m, x: m.tanh(m.tanh(x) * 2.3))
    x = np.random.default_rng(3).standard_normal(20000) * 2
    fwd = lambda m: f(m, m.tensor(x)).numpy()
    inner = lambda m: m.tanh(m.tensor(x)).numpy()
    x = x[(_bits(fwd(ember)) == _bits(fwd(torch))) & (_bits(inner(ember)) == _bits(inner(torch)))]
    assert x.size > 5000
    got, want = _derivatives(ember, x, f), _derivatives(torch, x, f)
    for e, t in list(zip(got, want))[:3 if depth == 1 else 2]:
        assert np.array_equal(_bits(e), _bits(t))
    np.testing.assert_allclose(got[2], want[2], rtol=1e-13, atol=1e-13)


def test_tanh_gradgradcheck():
    x = ember.tensor(np.random.default_rng(4).standard_normal(7) * 1.5, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda v: ember.tanh(v) * v, (x,))


def test_tanh_backward_after_output_changes_in_place():
    """tanh's gradient taken three times from one graph with create_graph=True (ember remembers the factor 1 - y*y
    of each output it differentiates so), its output's values changed in between through numpy() (which autograd
    does not see): each gradient is from the values then, as PyTorch reads its saved output."""
    x0 = np.random.default_rng(5).standard_normal((40, 30))
    g = np.random.default_rng(6).standard_normal((40, 30))
    runs = []
    for m in (ember, torch):
        x = m.tensor(x0, requires_grad=True)
        y = m.tanh(x)
        y.detach().numpy()[:] = np.tanh(x0)     # the same start on both (their tanh may differ in the last bit)
        out = []
        for step in range(3):
            out.append(m.autograd.grad(y, x, m.tensor(g), create_graph=True)[0].detach().numpy())
            y.detach().numpy()[step] *= 0.5
        runs.append(out)
    for e, t in zip(*runs):
        assert np.array_equal(_bits(e), _bits(t))
    assert not np.array_equal(runs[0][0], runs[0][1])


@pytest.mark.parametrize('shapes', [((300, 40), (300, 40), (300, 40)), ((5, 1, 40), (3, 1), (40,)), ((), (), ()),
                                    ((300, 90), (300, 90), ()), ((300, 1, 80), (7, 1), (80,)), ((0, 3), (3,), ())])
def test_fma64_in_place_steps_match_torch_addcmul(shapes):
    """_distributions.fma64 (float64 addcmul, lerp, add with alpha) with broadcast and 0-d operands, wide exponents and
    specials, whole and in blocks (above 2**14 elements), against PyTorch's addcmul, which rounds c + a * b once."""
    rng = np.random.default_rng(8)
    a, b, c = (rng.standard_normal(s) * np.exp(rng.uniform(-30, 30, s)) for s in shapes)
    if a.size:
        a.reshape(-1)[::7] = np.inf
    if c.size:
        c.reshape(-1)[::5] = np.nan
    want = torch.addcmul(torch.tensor(c), torch.tensor(a), torch.tensor(b)).numpy()
    got = ember.addcmul(ember.tensor(c), ember.tensor(a), ember.tensor(b)).numpy()
    assert np.array_equal(_bits(got), _bits(want))
    with np.errstate(all='ignore'):
        direct = _fused._fma64(a, b, c)
    assert np.array_equal(_bits(direct), _bits(want))
