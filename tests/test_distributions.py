"""ember.distributions against torch.distributions: log_prob, entropy, moments, KL divergences and their
gradients with the same parameters; reprs, shapes, validation errors; sampling checked statistically
(ember's random streams are not PyTorch's); a REINFORCE program under ``ember run``."""
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import ember

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(0)


def _pos(*shape):
    return RNG.uniform(0.5, 2.5, size=shape)


def _real(*shape):
    return RNG.standard_normal(shape)


def _spd(*batch, n=3):
    m = RNG.standard_normal(batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def _tril(*batch, n=3):
    return np.linalg.cholesky(_spd(*batch, n=n))


def _unit(*shape):
    return RNG.uniform(0.05, 0.95, size=shape)


# name: (constructor(lib, *params), parameter arrays, value arrays to score)
CASES = {
    'Normal': (lambda D, a, b: D.Normal(a, b), [_real(4), _pos(4)], [_real(4), _real(3, 4)]),
    'Normal-broadcast': (lambda D, a, b: D.Normal(a, b), [_real(2, 1), _pos(3)], [_real(2, 3)]),
    'Uniform': (lambda D, a, b: D.Uniform(a, a + b), [_real(4), _pos(4)], [None]),
    'Bernoulli-probs': (lambda D, p: D.Bernoulli(probs=p), [_unit(6)], [RNG.integers(0, 2, (6,)).astype(float)]),
    'Bernoulli-logits': (lambda D, p: D.Bernoulli(logits=p), [_real(2, 3)], [RNG.integers(0, 2, (2, 3)).astype(float)]),
    'Categorical-probs': (lambda D, p: D.Categorical(probs=p), [_pos(2, 5)], [RNG.integers(0, 5, (2,)).astype(float),
                                                                             RNG.integers(0, 5, (4, 2)).astype(float)]),
    'Categorical-logits': (lambda D, p: D.Categorical(logits=p), [_real(4)], [RNG.integers(0, 4, (3,)).astype(float)]),
    'Gamma': (lambda D, a, b: D.Gamma(a, b), [_pos(4), _pos(4)], [_pos(4)]),
    'Beta': (lambda D, a, b: D.Beta(a, b), [_pos(4), _pos(4)], [_unit(4), _unit(2, 4)]),
    'Dirichlet': (lambda D, a: D.Dirichlet(a), [_pos(2, 4)], [None]),
    'MultivariateNormal-cov': (lambda D, m, c: D.MultivariateNormal(m, covariance_matrix=c), [_real(3), _spd()],
                               [_real(3), _real(2, 3)]),
    'MultivariateNormal-tril': (lambda D, m, l: D.MultivariateNormal(m, scale_tril=l), [_real(2, 3), _tril(2)],
                                [_real(2, 3), _real(4, 1, 3)]),
    'MultivariateNormal-prec': (lambda D, m, p: D.MultivariateNormal(m, precision_matrix=p), [_real(3), _spd()],
                                [_real(3)]),
    'Independent': (lambda D, a, b: D.Independent(D.Normal(a, b), 1), [_real(2, 3), _pos(2, 3)], [_real(2, 3)]),
    'LogNormal': (lambda D, a, b: D.LogNormal(a, b), [_real(3), _pos(3)], [_pos(3)]),
    'Sigmoid-Normal': (lambda D, a, b: D.TransformedDistribution(D.Normal(a, b), [D.SigmoidTransform()]),
                       [_real(3), _pos(3)], [_unit(3)]),
    'Affine-Normal': (lambda D, a, b: D.TransformedDistribution(
        D.Normal(a, b), [D.AffineTransform(1.5, b), D.ExpTransform()]), [_real(3), _pos(3)], [_pos(3)]),
    'Exponential': (lambda D, r: D.Exponential(r), [_pos(4)], [_pos(4), _pos(2, 4)]),
    'Laplace': (lambda D, a, b: D.Laplace(a, b), [_real(4), _pos(4)], [_real(4)]),
    'Cauchy': (lambda D, a, b: D.Cauchy(a, b), [_real(4), _pos(4)], [_real(4), _real(3, 4)]),
    'Poisson': (lambda D, r: D.Poisson(r), [_pos(4)], [RNG.integers(0, 6, (4,)).astype(float)]),
    'Geometric-probs': (lambda D, p: D.Geometric(probs=p), [_unit(4)], [RNG.integers(0, 6, (4,)).astype(float)]),
    'Geometric-logits': (lambda D, p: D.Geometric(logits=p), [_real(4)], [RNG.integers(0, 6, (2, 4)).astype(float)]),
    'Gumbel': (lambda D, a, b: D.Gumbel(a, b), [_real(4), _pos(4)], [_real(4)]),
    'HalfNormal': (lambda D, s: D.HalfNormal(s), [_pos(4)], [_pos(4), _pos(2, 4)]),
    'StudentT': (lambda D, df, a, b: D.StudentT(df, a, b), [np.array([0.6, 1.5, 2.5, 7.0]), _real(4), _pos(4)],
                 [_real(4)]),
    'Chi2': (lambda D, df: D.Chi2(df), [_pos(4)], [_pos(4)]),
    'OneHotCategorical': (lambda D, p: D.OneHotCategorical(probs=p), [_pos(2, 4)],
                          [np.eye(4)[RNG.integers(0, 4, (2,))], np.eye(4)[RNG.integers(0, 4, (3, 2))]]),
    'RelaxedOneHotCategorical': (lambda D, t, p: D.RelaxedOneHotCategorical(t, logits=p), [np.array(0.7), _real(2, 4)],
                                 [None]),
    'RelaxedBernoulli': (lambda D, t, p: D.RelaxedBernoulli(t, probs=p), [np.array(0.5), _unit(3)], [_unit(3)]),
    'MixtureSameFamily': (lambda D, w, m, s: D.MixtureSameFamily(D.Categorical(logits=w), D.Normal(m, s)),
                          [_real(3), _real(3), _pos(3)], [_real(4)]),
    'MixtureSameFamily-event': (lambda D, w, m, s: D.MixtureSameFamily(D.Categorical(logits=w),
                                                                      D.Independent(D.Normal(m, s), 1)),
                                [_real(2, 3), _real(2, 3, 2), _pos(2, 3, 2)], [_real(2, 2), _real(4, 1, 2)]),
}
# counting distributions, from their own generator (so RNG's draws for the cases above and the tests stay as they were)
_C = np.random.default_rng(24)
CASES.update({
    'Binomial-probs': (lambda D, n, p: D.Binomial(n, probs=p), [np.full(4, 6.0), _C.uniform(0.05, 0.95, 4)],
                       [_C.integers(0, 7, (4,)).astype(float), _C.integers(0, 7, (3, 4)).astype(float)]),
    'Binomial-logits': (lambda D, p: D.Binomial(8, logits=p), [_C.standard_normal((2, 3))],
                        [_C.integers(0, 9, (2, 3)).astype(float)]),
    'Multinomial-probs': (lambda D, p: D.Multinomial(5, probs=p), [_C.uniform(0.5, 2.5, (2, 3))],
                          [np.array([[1.0, 2.0, 2.0], [5.0, 0.0, 0.0]]), np.array([[0.0, 0.0, 5.0]])]),
    'Multinomial-logits': (lambda D, p: D.Multinomial(4, logits=p), [_C.standard_normal(3)],
                           [np.array([1.0, 0.0, 3.0]), np.array([[2.0, 2.0, 0.0], [0.0, 4.0, 0.0]])]),
})
_SUPPORT_VALUES = {'Uniform': lambda p: p[0] + 0.3 * p[1], 'Dirichlet': lambda p: p[0] / p[0].sum(-1, keepdims=True),
                   'RelaxedOneHotCategorical': lambda p: np.exp(p[1]) / np.exp(p[1]).sum(-1, keepdims=True)}
_NO_ENTROPY = {'Sigmoid-Normal', 'Affine-Normal', 'Poisson', 'RelaxedOneHotCategorical', 'RelaxedBernoulli',
               'MixtureSameFamily', 'MixtureSameFamily-event'}
_NO_MOMENTS = {'Sigmoid-Normal', 'Affine-Normal', 'RelaxedOneHotCategorical', 'RelaxedBernoulli'}


def _make(lib, name, dtype, requires_grad=True):
    ctor, params, values = CASES[name]
    ps = [lib.tensor(p.astype(dtype), requires_grad=requires_grad) for p in params]
    if values[0] is None:
        values = [_SUPPORT_VALUES[name](params)]
    vs = [lib.tensor(v.astype(dtype)) for v in values]
    return ctor(lib.distributions, *ps), ps, vs


def _np(t):
    return t.detach().numpy()


def _quantities(dist, values, name):
    out = {f'log_prob{i}': dist.log_prob(v) for i, v in enumerate(values)}
    if name not in _NO_ENTROPY:
        out['entropy'] = dist.entropy()
    if name not in _NO_MOMENTS:
        out.update(mean=dist.mean, variance=dist.variance, stddev=dist.stddev)
    return out


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('name', list(CASES))
def test_values_and_gradients_match_torch(name, dtype):
    ed, eps, evs = _make(ember, name, dtype)
    td, tps, tvs = _make(torch, name, dtype)
    assert tuple(ed.batch_shape) == tuple(td.batch_shape) and tuple(ed.event_shape) == tuple(td.event_shape)
    assert ed.has_rsample == td.has_rsample
    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (2e-5, 2e-5)
    eq, tq = _quantities(ed, evs, name), _quantities(td, tvs, name)
    for key, tv in tq.items():
        ev = eq[key]
        assert str(ev.dtype) == str(tv.dtype) and tuple(ev.shape) == tuple(tv.shape), key
        np.testing.assert_allclose(_np(ev), _np(tv), rtol=rtol, atol=atol, err_msg=key)
    weights = {k: RNG.uniform(0.5, 1.5, size=tuple(v.shape)) for k, v in tq.items()}
    for lib, q, ps in ((ember, eq, eps), (torch, tq, tps)):
        total = sum((v * lib.tensor(weights[k].astype(dtype))).sum() for k, v in q.items() if v.requires_grad)
        total.backward()
    # float64: PyTorch's trigamma (the gradient of digamma) is accurate to ~1e-9 only
    rtol, atol = (1e-8, 1e-10) if dtype == np.float64 else (1e-4, 1e-4)
    for ep, tp in zip(eps, tps):
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize('name', list(CASES))
def test_repr_and_expand(name):
    ed, _, evs = _make(ember, name, np.float32)
    td, _, tvs = _make(torch, name, np.float32)
    assert repr(ed) == repr(td)
    new_batch = (2,) + tuple(td.batch_shape)
    ee, te = ed.expand(new_batch), td.expand(new_batch)
    assert type(ee) is type(ed) and tuple(ee.batch_shape) == tuple(te.batch_shape)
    assert tuple(ee.event_shape) == tuple(te.event_shape)
    value = te.sample()
    lp = ee.log_prob(ember.tensor(value.numpy()))
    assert tuple(lp.shape) == new_batch
    np.testing.assert_allclose(_np(lp), _np(te.log_prob(value)), rtol=2e-5, atol=2e-5)


# -- KL divergences ---------------------------------------------------------------------------------------
KL_PAIRS = [
    ('Normal', 'Normal'), ('Bernoulli-probs', 'Bernoulli-probs'), ('Bernoulli-logits', 'Bernoulli-logits'),
    ('Categorical-probs', 'Categorical-probs'), ('Categorical-logits', 'Categorical-logits'),
    ('Gamma', 'Gamma'), ('Beta', 'Beta'), ('Dirichlet', 'Dirichlet'),
    ('MultivariateNormal-cov', 'MultivariateNormal-tril'), ('MultivariateNormal-tril', 'MultivariateNormal-prec'),
    ('Independent', 'Independent'), ('LogNormal', 'LogNormal'), ('Uniform', 'Uniform'), ('Uniform', 'Normal'),
    ('Uniform', 'Gamma'), ('Beta', 'Normal'), ('Beta', 'Gamma'), ('Gamma', 'Normal'), ('Normal', 'Gamma'),
    ('Exponential', 'Exponential'), ('Laplace', 'Laplace'), ('Poisson', 'Poisson'), ('Geometric-probs', 'Geometric-logits'),
    ('OneHotCategorical', 'OneHotCategorical'), ('Gumbel', 'Gumbel'), ('HalfNormal', 'HalfNormal'), ('Cauchy', 'Cauchy'),
    ('Binomial-probs', 'Binomial-probs'), ('Poisson', 'Binomial-probs'),
    ('Poisson', 'Bernoulli-probs'),
]


def _kl_pair(lib, p_name, q_name, dtype, seed):
    global RNG
    RNG = np.random.default_rng(seed)
    p, pp, _ = _make(lib, p_name, dtype)
    RNG = np.random.default_rng(seed + 1)
    q, qp, _ = _make(lib, q_name, dtype)
    return p, q, pp + qp


@pytest.mark.parametrize('p_name,q_name', KL_PAIRS, ids=[f'{p}|{q}' for p, q in KL_PAIRS])
def test_kl_divergence_matches_torch(p_name, q_name):
    ep, eq, eparams = _kl_pair(ember, p_name, q_name, np.float64, 7)
    tp, tq, tparams = _kl_pair(torch, p_name, q_name, np.float64, 7)
    ekl, tkl = ember.distributions.kl_divergence(ep, eq), torch.distributions.kl_divergence(tp, tq)
    assert tuple(ekl.shape) == tuple(tkl.shape)
    np.testing.assert_allclose(_np(ekl), _np(tkl), rtol=1e-9, atol=1e-12)
    if not np.isfinite(_np(tkl)).all():
        return
    ekl.sum().backward()
    tkl.sum().backward()
    for e, t in zip(eparams, tparams):
        if t.grad is not None:
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_kl_uniform_outside_support_and_categorical_zero_probs():
    for lib in (ember, torch):
        D = lib.distributions
        kl = D.kl_divergence(D.Uniform(lib.tensor([0.0, 0.0]), lib.tensor([1.0, 2.0])),
                             D.Uniform(lib.tensor([0.0, 0.5]), lib.tensor([2.0, 3.0])))
        assert kl[1].item() == math.inf and kl[0].item() == pytest.approx(math.log(2))
        kl = D.kl_divergence(D.Categorical(probs=lib.tensor([0.5, 0.5, 0.0])),
                             D.Categorical(probs=lib.tensor([0.25, 0.25, 0.5])))
        assert kl.item() == pytest.approx(math.log(2), rel=1e-6)


def test_kl_errors_and_register_kl():
    D = ember.distributions
    with pytest.raises(NotImplementedError, match='No KL\\(p \\|\\| q\\) is implemented for p type Categorical and '
                                                  'q type Normal'):
        D.kl_divergence(D.Categorical(logits=ember.zeros(3)), D.Normal(0.0, 1.0))

    class MyNormal(D.Normal):
        pass
    calls = []

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        calls.append(1)
        return ember.zeros(())
    try:
        assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == 0.0 and calls == [1]
        assert D.kl_divergence(D.Normal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == pytest.approx(0.5)
    finally:
        del D.kl._KL_REGISTRY[MyNormal, D.Normal]
        D.kl._KL_MEMOIZE.clear()


# -- validation -------------------------------------------------------------------------------------------
@pytest.mark.parametrize('make', [
    lambda D, lib: D.Normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, -1.0])),
    lambda D, lib: D.Bernoulli(probs=lib.tensor([0.2, 1.5])),
    lambda D, lib: D.Categorical(probs=lib.tensor([-0.1, 0.5])),
    lambda D, lib: D.Beta(lib.tensor([1.0]), lib.tensor([0.0])),
    lambda D, lib: D.Uniform(lib.tensor(1.0), lib.tensor(0.0)),
    lambda D, lib: D.Normal(0.0, 1.0).log_prob(lib.zeros(2, 1, 1)[0, 0, 0].reshape(1)).new_zeros(1)
    if False else D.Categorical(logits=lib.zeros(3)).log_prob(lib.tensor([3.0])),
    lambda D, lib: D.Gamma(2.0, 1.0).log_prob(lib.tensor([-1.0])),
    lambda D, lib: D.Normal(lib.zeros(3), 1.0).log_prob(lib.zeros(2)),
    lambda D, lib: D.MultivariateNormal(lib.zeros(2), lib.eye(2)).log_prob(lib.zeros(3)),
    lambda D, lib: D.Categorical(probs=lib.tensor([0.5, 0.5]), logits=lib.tensor([0.0, 0.0])),
    lambda D, lib: D.MultivariateNormal(lib.zeros(2)),
    lambda D, lib: D.Independent(D.Normal(lib.zeros(3), 1.0), 2),
    lambda D, lib: D.Normal(0.0, 1.0).log_prob(1.0),
    lambda D, lib: D.Binomial(5, probs=lib.tensor([1.2])),
    lambda D, lib: D.Binomial(lib.tensor([-1.0]), probs=lib.tensor([0.2])),
    lambda D, lib: D.Binomial(2.5, probs=lib.tensor([0.2])),
    lambda D, lib: D.Binomial(5),
    lambda D, lib: D.Binomial(5, probs=lib.tensor([0.3]), logits=lib.tensor([0.3])),
    lambda D, lib: D.Binomial(5, probs=lib.tensor([0.3])).log_prob(lib.tensor([6.0])),
    lambda D, lib: D.Binomial(5, probs=lib.tensor([0.3])).log_prob(lib.tensor([1.5])),
    lambda D, lib: D.Binomial(lib.tensor([2.0, 3.0]), probs=lib.tensor([0.2, 0.3])).entropy(),
    lambda D, lib: D.Binomial(lib.tensor([2.0, 3.0]), probs=lib.tensor([0.2, 0.3])).enumerate_support(),
    lambda D, lib: D.Multinomial(2.0, probs=lib.tensor([0.5, 0.5])),
    lambda D, lib: D.Multinomial(3, probs=lib.tensor([0.5, 0.5])).log_prob(lib.tensor([-1.0, 4.0])),
    lambda D, lib: D.Multinomial(3, probs=lib.tensor([0.5, 0.5])).log_prob(lib.tensor([1.0, 1.0, 1.0])),
    lambda D, lib: D.kl_divergence(D.Binomial(2, probs=lib.tensor([0.5])), D.Binomial(3, probs=lib.tensor([0.5]))),
])
def test_validation_errors_match_torch(make):
    with pytest.raises(Exception) as t_info:
        make(torch.distributions, torch)
    with pytest.raises(type(t_info.value)) as e_info:
        make(ember.distributions, ember)
    assert str(e_info.value) == str(t_info.value)


def test_validate_args_false_and_default_switch():
    D = ember.distributions
    d = D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]), validate_args=False)
    assert d.scale.item() == -1.0
    D.Distribution.set_default_validate_args(False)
    try:
        D.Bernoulli(probs=ember.tensor([2.0]))
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Bernoulli(probs=ember.tensor([2.0]))


def test_constraints_reprs_and_checks():
    ec, tc = ember.distributions.constraints, torch.distributions.constraints
    for name in ('real', 'positive', 'nonnegative', 'unit_interval', 'simplex', 'real_vector', 'boolean',
                 'lower_cholesky', 'positive_definite', 'nonnegative_integer'):
        e, t = getattr(ec, name), getattr(tc, name)
        assert repr(e) == repr(t) and e.event_dim == t.event_dim and e.is_discrete == t.is_discrete
    assert repr(ec.interval(0, 2)) == repr(tc.interval(0, 2))
    assert repr(ec.independent(ec.positive, 2)) == repr(tc.independent(tc.positive, 2))
    x = np.array([[0.2, 0.8], [0.5, 0.6], [-0.1, 1.1]])
    for name in ('simplex', 'unit_interval', 'positive'):
        e = getattr(ec, name).check(ember.tensor(x))
        t = getattr(tc, name).check(torch.tensor(x))
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert ec.is_dependent(ember.distributions.Uniform.support)


# -- sampling ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize('name', ['Normal', 'Uniform', 'Bernoulli-probs', 'Categorical-probs', 'Gamma', 'Beta',
                                  'Dirichlet', 'MultivariateNormal-cov', 'Independent', 'LogNormal'])
def test_sample_shapes_dtypes_support_and_moments(name):
    ember.manual_seed(0)
    ed, _, _ = _make(ember, name, np.float32)
    td, _, _ = _make(torch, name, np.float32)
    for shape in ((), (3,), (2, 3)):
        es, ts = ed.sample(shape), td.sample(shape)
        assert tuple(es.shape) == tuple(ts.shape) and str(es.dtype) == str(ts.dtype)
        assert not es.requires_grad
    n = 20000
    samples = ed.sample((n,))
    if not isinstance(ed, ember.distributions.Categorical):
        assert bool(ed.support.check(samples).all())
        mean, std = _np(ed.mean).astype(np.float64), _np(ed.stddev).astype(np.float64)
        err = np.abs(_np(samples).astype(np.float64).mean(0) - mean)
        assert (err < 5 * std / math.sqrt(n) + 1e-6).all(), (err, std)
    else:
        freq = np.stack([(_np(samples) == k).mean(0) for k in range(ed.param_shape[-1])], -1)
        np.testing.assert_allclose(freq, _np(ed.probs), atol=0.02)


@pytest.mark.parametrize('name', ['Normal', 'Uniform', 'MultivariateNormal-tril', 'LogNormal', 'Independent'])
def test_rsample_gradients_are_the_reparameterization(name):
    """The gradient of sum(rsample) w.r.t. loc-like parameters is the number of draws; w.r.t. scale it is the
    sum of the standardized draws (checked by recomputing them from the sample)."""
    ember.manual_seed(1)
    d, params, _ = _make(ember, name, np.float64)
    x = d.rsample((5,))
    assert x.requires_grad and x.shape == d._extended_shape((5,))
    x.sum().backward()
    grads = [p.grad for p in params]
    assert all(g is not None for g in grads)
    if name in ('Normal', 'Independent'):
        loc, scale = (p.detach().numpy() for p in params)
        eps = (_np(x) - loc) / scale
        np.testing.assert_allclose(grads[0].numpy(), np.broadcast_to(5.0, loc.shape), rtol=1e-12)
        np.testing.assert_allclose(grads[1].numpy(), eps.sum(0), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_gamma_beta_dirichlet_rsample_match_pytorch_bit_for_bit(dtype):
    """Same seed: the samples and the reparameterized gradients (PyTorch's own approximations,
    _standard_gamma_grad and _dirichlet_grad with _Dirichlet's simplex projection) equal PyTorch's."""
    def run(L):
        L.manual_seed(5)
        dt = getattr(L, dtype)
        conc = L.tensor([0.3, 1.0, 4.0, 30.0], dtype=dt, requires_grad=True)
        rate = L.tensor([1.0, 2.0, 0.5, 3.0], dtype=dt, requires_grad=True)
        g = L.distributions.Gamma(conc, rate).rsample((60,))
        c = L.tensor([[0.5, 2.0, 3.0], [7.0, 9.0, 0.2], [12.0, 15.0, 8.0]], dtype=dt, requires_grad=True)
        d = L.distributions.Dirichlet(c).rsample((40,))
        ab = L.tensor([2.0, 0.4], dtype=dt, requires_grad=True)
        beta = L.distributions.Beta(ab[0], ab[1]).rsample((50,))
        w = L.linspace(-1, 2, 9, dtype=dt).reshape(3, 3)
        ((g * g).sum() + (d * w).sum() + beta.sum()).backward()
        return [t.detach().numpy() for t in (g, d, beta, conc.grad, rate.grad, c.grad, ab.grad)], type(d.grad_fn).__name__
    (mine, node), (ref, ref_node) = run(ember), run(torch)
    assert node == ref_node == '_DirichletBackward'
    for m, r in zip(mine, ref):
        assert m.dtype == r.dtype
        np.testing.assert_array_equal(m, r)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_reparameterized_gradient_kernels_equal_pytorch(dtype):
    """torch._standard_gamma_grad and torch._dirichlet_grad over every branch of their approximations
    (Taylor series, saddle points, rational corrections), to the last bit."""
    rng = np.random.default_rng(1)
    alpha = np.concatenate([rng.uniform(0.01, 3, 300), rng.uniform(3, 40, 300)]).astype(dtype)
    x = np.maximum(rng.gamma(alpha), np.finfo(dtype).tiny).astype(dtype)
    mine = ember._standard_gamma_grad(ember.tensor(alpha), ember.tensor(x)).numpy()
    ref = torch._standard_gamma_grad(torch.tensor(alpha), torch.tensor(x)).numpy()
    np.testing.assert_array_equal(mine, ref)
    a, b = rng.uniform(0.05, 15, 600).astype(dtype), rng.uniform(0.05, 15, 600).astype(dtype)
    xs = np.clip(rng.beta(a, b), np.finfo(dtype).tiny, 1 - np.finfo(dtype).eps).astype(dtype)
    args = [xs, a, (a + b).astype(dtype)]
    mine = ember._dirichlet_grad(*map(ember.tensor, args)).numpy()
    np.testing.assert_array_equal(mine, torch._dirichlet_grad(*map(torch.tensor, args)).numpy())


def test_sample_dirichlet_refuses_what_pytorch_refuses():
    for L in (ember, torch):
        with pytest.raises(RuntimeError, match='^derivative for aten::_sample_dirichlet is not implemented$'):
            L._sample_dirichlet(L.ones(2, 3, requires_grad=True)).sum().backward()
        with pytest.raises((RuntimeError, NotImplementedError), match='"dirichlet" not implemented for \'Long\''):
            L._sample_dirichlet(L.ones(2, 3, dtype=L.int64))


def test_gamma_and_beta_rsample_gradients_average_to_the_mean_derivative():
    """The average of the per-sample gradients is the derivative of the mean (a check on the formulas
    that does not depend on PyTorch)."""
    ember.manual_seed(2)
    conc = ember.tensor([0.3, 1.0, 4.0, 30.0], dtype=ember.float64, requires_grad=True)
    rate = ember.tensor([1.0, 2.0, 0.5, 3.0], dtype=ember.float64, requires_grad=True)
    ember.distributions.Gamma(conc, rate).rsample((4000,)).mean(0).sum().backward()
    np.testing.assert_allclose(conc.grad.numpy(), 1 / rate.detach().numpy(), rtol=0.1)
    np.testing.assert_allclose(rate.grad.numpy(), -conc.detach().numpy() / rate.detach().numpy() ** 2, rtol=0.1)
    a = ember.tensor(2.0, dtype=ember.float64, requires_grad=True)
    b = ember.tensor(3.0, dtype=ember.float64, requires_grad=True)
    ember.distributions.Beta(a, b).rsample((6000,)).mean().backward()
    assert a.grad.item() == pytest.approx(3.0 / 25.0, rel=0.1)
    assert b.grad.item() == pytest.approx(-2.0 / 25.0, rel=0.1)


def test_categorical_sample_draws_through_multinomial(monkeypatch):
    """Categorical.sample calls torch.multinomial(probs_2d, n, True), as PyTorch does (so once ember's random
    streams equal PyTorch's, the samples do too)."""
    calls = []
    real = ember.multinomial

    def spy(input, num_samples, replacement=False, **kw):
        calls.append((tuple(input.shape), num_samples, replacement))
        return real(input, num_samples, replacement, **kw)
    monkeypatch.setattr(ember, 'multinomial', spy)
    s = ember.distributions.Categorical(probs=ember.ones(2, 3, 4)).sample((5,))
    assert calls == [((6, 4), 5, True)] and tuple(s.shape) == (5, 2, 3) and s.dtype == ember.int64


def test_enumerate_support_mode_perplexity():
    for lib in (ember, torch):
        D = lib.distributions
        c = D.Categorical(probs=lib.tensor([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]]))
        b = D.Bernoulli(probs=lib.tensor([0.2, 0.7]))
        out = (c.enumerate_support().tolist(), c.enumerate_support(expand=False).shape, c.mode.tolist(),
               b.enumerate_support().tolist(), b.mode.tolist(), round(c.perplexity()[0].item(), 5),
               D.Normal(lib.tensor(1.0), 2.0).cdf(lib.tensor(2.0)).item())
        if lib is ember:
            first = out
    assert first[:6] == out[:6] and first[6] == pytest.approx(out[6], rel=1e-6)


# -- transforms -------------------------------------------------------------------------------------------
@pytest.mark.parametrize('make', [lambda D: D.ExpTransform(), lambda D: D.SigmoidTransform(),
                                  lambda D: D.TanhTransform(), lambda D: D.SoftplusTransform(),
                                  lambda D: D.AffineTransform(0.5, -2.0), lambda D: D.PowerTransform(3.0),
                                  lambda D: D.ComposeTransform([D.AffineTransform(1.0, 2.0), D.ExpTransform()])])
def test_transforms_match_torch(make):
    x = np.array([0.1, 0.5, 1.3])
    et, tt = make(ember.distributions), make(torch.distributions)
    ey, ty = et(ember.tensor(x)), tt(torch.tensor(x))
    np.testing.assert_allclose(_np(ey), _np(ty), rtol=1e-12)
    np.testing.assert_allclose(_np(et.inv(ey)), _np(tt.inv(ty)), rtol=1e-10)
    np.testing.assert_allclose(_np(et.log_abs_det_jacobian(ember.tensor(x), ey)),
                               _np(tt.log_abs_det_jacobian(torch.tensor(x), ty)), rtol=1e-10, atol=1e-12)
    assert repr(et.domain) == repr(tt.domain) and repr(et.codomain) == repr(tt.codomain)
    assert et == make(ember.distributions) and et.inv.inv is et


# -- special functions and linalg used by the distributions -------------------------------------------------
def test_special_functions_match_torch():
    x = np.array([-2.5, -0.3, 0.01, 0.5, 1.0, 2.5, 7.0, 30.0, 1e3])
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 2e-6)):
        for fn in ('lgamma', 'digamma'):
            e, t = getattr(ember, fn)(ember.tensor(x.astype(dtype))), getattr(torch, fn)(torch.tensor(x.astype(dtype)))
            np.testing.assert_allclose(_np(e), _np(t), rtol=rtol, atol=rtol)
        for n in (1, 2, 3):
            e, t = ember.polygamma(n, ember.tensor(x.astype(dtype))), torch.polygamma(n, torch.tensor(x.astype(dtype)))
            np.testing.assert_allclose(_np(e), _np(t), rtol=max(rtol, 1e-9))  # PyTorch's float64 trigamma
    assert ember.lgamma(ember.tensor([0.0, -1.0])).tolist() == [math.inf, math.inf]
    u = np.array([-1.0, -0.9, -0.5, 0.0, 0.3, 0.99, 0.9999999, 1.0, 1.5])
    for dtype, rtol in ((np.float64, 1e-10), (np.float32, 1e-6)):
        np.testing.assert_allclose(_np(ember.erfinv(ember.tensor(u.astype(dtype)))),
                                   _np(torch.erfinv(torch.tensor(u.astype(dtype)))), rtol=rtol)
    a, b = np.array([0.0, 0.0, 2.0, 3.0]), np.array([0.0, np.nan, 0.5, 4.0])
    np.testing.assert_array_equal(_np(ember.xlogy(ember.tensor(a), ember.tensor(b))),
                                  _np(torch.xlogy(torch.tensor(a), torch.tensor(b))))


def test_special_function_gradients():
    x = ember.tensor([0.7, 1.5, 4.0], dtype=ember.float64, requires_grad=True)
    y = ember.tensor([0.3, 2.0, 5.0], dtype=ember.float64, requires_grad=True)
    gc = ember.autograd.gradcheck
    assert gc(ember.lgamma, (x,)) and gc(ember.digamma, (x,)) and gc(lambda t: ember.polygamma(2, t), (x,))
    assert gc(ember.xlogy, (x, y)) and ember.autograd.gradgradcheck(ember.lgamma, (x,))
    assert gc(ember.erfinv, (ember.tensor([-0.5, 0.2, 0.9], dtype=ember.float64, requires_grad=True),))
    assert ember.lgamma(x).grad_fn.name() == 'LgammaBackward0'
    assert ember.xlogy(x, y).grad_fn.name() == torch.xlogy(torch.ones(1, requires_grad=True), torch.ones(1)).grad_fn.name()


def test_cholesky_and_solve_triangular_gradients():
    a = ember.tensor(_spd(2), requires_grad=True)
    b = ember.tensor(_real(2, 3, 2), requires_grad=True)
    gc = ember.autograd.gradcheck
    assert gc(lambda m: ember.linalg.cholesky(m @ m.mT + ember.eye(3, dtype=m.dtype)), (a,))
    assert gc(lambda m: ember.linalg.cholesky(m @ m.mT + ember.eye(3, dtype=m.dtype), upper=True), (a,))
    tri = ember.tensor(_tril(2), requires_grad=True)
    assert gc(lambda l, r: ember.linalg.solve_triangular(l, r, upper=False), (tri, b))
    assert gc(lambda l, r: ember.linalg.solve_triangular(l.mT, r.mT, upper=True, left=False), (tri, b))


# -- programs ---------------------------------------------------------------------------------------------
REINFORCE = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical

torch.manual_seed(0)
policy = nn.Linear(4, 2)
optimizer = optim.Adam(policy.parameters(), lr=1e-2)
eps = torch.finfo(torch.float32).eps if hasattr(torch, "finfo") else 1e-7
for episode in range(3):
    log_probs, rewards = [], []
    for t in range(5):
        state = torch.randn(4)
        probs = F.softmax(policy(state), dim=-1)
        m = Categorical(probs)
        action = m.sample()
        log_probs.append(m.log_prob(action))
        rewards.append(1.0 if action.item() == 0 else 0.0)
    returns = torch.tensor(rewards)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    loss = torch.cat([(-lp * r).unsqueeze(0) for lp, r in zip(log_probs, returns)]).sum()
    entropy = Categorical(logits=policy(torch.randn(4))).entropy()
    optimizer.zero_grad()
    (loss - 0.01 * entropy).backward()
    optimizer.step()
print("ok", tuple(policy.weight.grad.shape), type(m).__name__, m.sample((3,)).shape)
'''


def test_reinforce_program_runs_under_ember_run(tmp_path):
    (tmp_path / 'reinforce.py').write_text(REINFORCE)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
    r = subprocess.run([sys.executable, '-m', 'ember', 'run', 'reinforce.py'], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'ok (2, 4) Categorical torch.Size([3])'


@pytest.mark.parametrize('make', [
    lambda D, lib: D.Normal(lib.tensor([0.0, 1.0, 2.0]), lib.tensor([1.0, 2.0, 3.0])).sample((4,)),
    lambda D, lib: D.Normal(lib.tensor([0.0, 1.0], dtype=lib.float64), 2.0).rsample((5,)),
    lambda D, lib: D.Uniform(lib.tensor([0.0, 1.0]), 3.0).rsample((5,)),
    lambda D, lib: D.Bernoulli(lib.tensor([[0.2, 0.7, 0.5]] * 4)).sample(),
    lambda D, lib: D.Categorical(logits=lib.tensor([[0.2, -0.7, 0.5], [1.0, 2.0, 3.0]])).sample((7,)),
    lambda D, lib: D.Categorical(probs=lib.tensor([0.2, 0.3, 0.5])).sample(),
    lambda D, lib: D.MultivariateNormal(lib.zeros(3), lib.tensor([[2.0, 0.5, 0.0], [0.5, 1.0, 0.0],
                                                                  [0.0, 0.0, 1.0]])).rsample((4,)),
    lambda D, lib: D.LogNormal(0.0, 1.0).sample((5,)),
    lambda D, lib: D.Independent(D.Normal(lib.zeros(3), 1.0), 1).sample((2,)),
    lambda D, lib: D.Exponential(lib.tensor([0.5, 2.0])).rsample((3,)),
    lambda D, lib: D.Laplace(0.0, lib.tensor([1.0, 2.0])).rsample((4,)),
    lambda D, lib: D.Cauchy(lib.tensor([0.0, 1.0]), 2.0).sample((3,)),
    lambda D, lib: D.Poisson(lib.tensor([0.5, 3.0, 15.0])).sample((4,)),
    lambda D, lib: D.Geometric(lib.tensor([0.3, 0.8])).sample((5,)),
    lambda D, lib: D.Gumbel(0.0, 1.0).sample((3,)),
    lambda D, lib: D.HalfNormal(lib.tensor([1.0, 2.0])).rsample((3,)),
    lambda D, lib: D.StudentT(lib.tensor([2.0, 5.0]), 1.0).rsample((3,)),
    lambda D, lib: D.Chi2(lib.tensor([2.0, 5.0], dtype=lib.float64)).rsample((3,)),
    lambda D, lib: D.OneHotCategorical(lib.tensor([0.2, 0.3, 0.5])).sample((4,)),
    lambda D, lib: D.OneHotCategoricalStraightThrough(logits=lib.tensor([0.2, 0.3, 0.5])).rsample((2,)),
    lambda D, lib: D.MixtureSameFamily(D.Categorical(lib.ones(2)), D.Normal(lib.tensor([-1.0, 1.0]), 0.5)).sample((5,)),
    lambda D, lib: D.MixtureSameFamily(D.Categorical(lib.ones(2, 3)), D.Independent(
        D.Normal(lib.zeros(2, 3, 2), 1.0), 1)).sample((4,)),
    lambda D, lib: D.Binomial(lib.tensor([[5.0, 20.0, 100.0], [1000.0, 3.0, 0.0]]),
                              probs=lib.tensor([[0.2, 0.7, 0.5], [0.9, 0.05, 0.3]])).sample((4,)),
    lambda D, lib: D.Binomial(lib.tensor(40.0, dtype=lib.float64), logits=lib.tensor([-2.0, 0.1, 3.0], dtype=lib.float64)).sample((3,)),
    lambda D, lib: D.Multinomial(10, probs=lib.tensor([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]])).sample((3,)),
    lambda D, lib: D.Multinomial(4, logits=lib.tensor([0.0, 1.0, -1.0, 2.0])).expand((2,)).sample(),
])
def test_samples_equal_torch_after_manual_seed(make):
    """Drawn as PyTorch draws them (same calls, same order), so with PyTorch's streams the samples are
    PyTorch's bit for bit."""
    out = []
    for lib in (ember, torch):
        lib.manual_seed(123)
        out.append(_np(make(lib.distributions, lib)))
    np.testing.assert_array_equal(out[0], out[1])


@pytest.mark.parametrize('make', [
    lambda D, lib: D.RelaxedOneHotCategorical(lib.tensor(0.5), logits=lib.tensor([0.2, 0.3, 0.5])).rsample((2,)),
    lambda D, lib: D.RelaxedBernoulli(lib.tensor(0.5), probs=lib.tensor([0.2, 0.9])).rsample((3,)),
    lambda D, lib: D.Gumbel(lib.tensor([0.0, 1.0]), 2.0).rsample((3,)),
])
def test_relaxed_samples_equal_torch_to_rounding(make):
    """The same uniforms as PyTorch's, through logs: PyTorch's float32 log is not correctly rounded (ember's
    is), so a value may differ in its last bit."""
    out = []
    for lib in (ember, torch):
        lib.manual_seed(123)
        out.append(_np(make(lib.distributions, lib)))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_binomial_draws_equal_pytorch(dtype):
    """torch.binomial element by element as PyTorch's CPU kernel draws (inversion below count * p = 10, BTRS
    above, on min(p, 1 - p); float32 intermediates rounded as its scalar_t), bit for bit, and the stream after."""
    rng = np.random.default_rng(5)
    count = rng.choice([0, 1, 3, 10, 25, 40, 100, 1000, 1e5, -2], 200).astype(dtype)
    prob = np.concatenate([rng.choice([0.0, 0.01, 0.05, 0.2, 0.5, 0.51, 0.95, 0.999, 1.0, 1.2, np.nan], 100),
                           rng.random(100)]).astype(dtype)
    out = []
    for lib in (ember, torch):
        lib.manual_seed(7)
        out.append((_np(lib.binomial(lib.tensor(count), lib.tensor(prob))), _np(lib.rand(3))))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_binomial_checks_and_graph():
    """PyTorch's refusals (integer count, mixed dtypes), its broadcast of prob (with the out= resize warning)
    and its grad_fn, whose backward raises."""
    for lib in (ember, torch):
        with pytest.raises(ValueError, match='binomial only supports floating-point dtypes for count, got: Long'):
            lib.binomial(lib.tensor([5]), lib.tensor([0.5]))
        with pytest.raises(RuntimeError, match='Found dtype Double but expected Float'):
            lib.binomial(lib.tensor([5.0]), lib.tensor([0.5], dtype=lib.float64))
        with pytest.warns(UserWarning, match='An output with one or more elements was resized'):
            assert tuple(lib.binomial(lib.tensor([5.0]), lib.tensor([0.3, 0.4])).shape) == (2,)
        r = lib.binomial(lib.tensor([5.0, 10.0], requires_grad=True), lib.tensor([0.5, 0.5]))
        assert r.grad_fn.name() == 'torch::autograd::NotImplemented'
        with pytest.raises(RuntimeError, match='derivative for aten::binomial is not implemented'):
            r.sum().backward()
