"""The draws whose kernels call the C library in double precision (log, log1p, exp, tan) against PyTorch bit for
bit at sizes that take NumPy's scalar loop (``_distributions._behind``) rather than ``math`` element by element,
and that route itself against ``math`` (glibc's functions) on every size around its threshold; randperm around its
kept divisors' bound (``_distributions._divisors``), and the 64-bit draws around ``Generator._words64``'s bound."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.ops import _distributions as D

FUNCTIONS = [math.log, math.log1p, math.exp, math.tan]


def bits(x):
    """The raw bytes of a tensor's values (-0.0 != 0.0)."""
    a = x.detach().numpy()
    return a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes()


@pytest.mark.parametrize('fn', FUNCTIONS, ids=lambda f: f.__name__)
def test_numpy_scalar_loop_is_glibc(fn):
    """The fast route is taken on this NumPy, and gives math's values where NumPy's SIMD loop does not."""
    assert D._glibc(fn) is not None
    rng = np.random.default_rng(7)
    x = {math.log: rng.random(5000) + 1e-3, math.log1p: -rng.random(5000),
         math.exp: rng.uniform(-700, 700, 5000), math.tan: rng.uniform(-1.6, 1.6, 5000)}[fn]
    want = np.array([fn(v) for v in x.tolist()])
    assert (D._UFUNCS[fn](x) != want).any(), 'these inputs do not tell the SIMD loop from glibc'
    for n in (1, 2, 31, 32, 33, 100, 5000):
        assert np.array_equal(D.libm(fn, x[:n]), want[:n]), n
    assert np.array_equal(D.libm(fn, x[:4800].reshape(60, 80)[:, ::2]), want[:4800].reshape(60, 80)[:, ::2])


DRAWS = [
    ('exponential_f64', lambda T: T.empty(5000, dtype=T.float64).exponential_(0.7)),
    ('exponential_f32_many', lambda T: T.empty(5000).exponential_(1.5)),
    ('cauchy_f64', lambda T: T.empty(5000, dtype=T.float64).cauchy_(0.5, 2.0)),
    ('cauchy_f32', lambda T: T.empty(4000).cauchy_()),
    ('log_normal_f64', lambda T: T.empty(5000, dtype=T.float64).log_normal_(0.5, 0.7)),
    ('log_normal_f32', lambda T: T.empty(999).log_normal_()),
    ('randn_f64', lambda T: T.randn(10 ** 4 + 3, dtype=T.float64)),
    ('normal_strided_f64', lambda T: T.empty(3001, 2, dtype=T.float64)[:, 1].normal_(0.5, 2.0)),
    ('normal_strided_f32_33', lambda T: T.empty(33, 3)[:, 0].normal_()),
    ('geometric_f64', lambda T: T.empty(4000, dtype=T.float64).geometric_(0.02)),
    ('randperm_kept_twice', lambda T: T.stack([T.randperm(2 ** 18), T.randperm(2 ** 18)])),
    ('randperm_made', lambda T: T.randperm(2 ** 18 + 1)),
    ('randint_wide', lambda T: T.randint(-5, 2 ** 40, (20000,))),
    ('randint_wider_than_int64', lambda T: T.randint(-2 ** 62, 2 ** 62 + 5, (20000,))),
    ('randint_wide_few', lambda T: T.randint(-2 ** 62, 2 ** 62 + 5, (100,))),
    ('random_int64', lambda T: T.empty(20000, dtype=T.int64).random_()),
    ('rand_f64_on_both_sides_of_the_word_bound', lambda T: T.cat([T.rand(16383, dtype=T.float64),
                                                                  T.rand(16384, dtype=T.float64)])),
]


@pytest.mark.parametrize('name,draw', DRAWS, ids=[d[0] for d in DRAWS])
def test_draws_match_pytorch(name, draw):
    for seed in (3, 2 ** 32 + 11):
        torch.manual_seed(seed)
        ember.manual_seed(seed)
        t, e = draw(torch), draw(ember)
        assert bits(e) == bits(t), name
        assert bits(ember.get_rng_state()) == bits(torch.get_rng_state()), name
