"""float64 var/std/var_mean/std_mean bit for bit as PyTorch's CPU kernels (two passes for var/std of all elements,
split across threads past 32768; Welford per output otherwise), at 1 and 2 threads, over a table of shapes and dims:
the short passes by default, all of them with the exact kernels on; past the default limits NumPy's, within rounding."""
import numpy as np
import pytest
import torch

import ember
from ember import backend
from ember.ops import _moments64
from helpers import threads  # noqa: F401  (fixture)

CASES = [((1000,), None), ((40000,), None), ((70001,), None), ((7, 33), None), ((7, 33), 1), ((7, 33), 0),
         ((4, 5, 6), (0, 2)), ((4, 5, 6), (2, 0)), ((3, 1, 4), (0, 1)), ((100, 100), None), ((300, 400), (0, 1)),
         ((2, 3, 5, 7), (1, 3)), ((1, 9), 1), ((5, 1), 0), ((64, 3, 16, 4), (0, 2, 3))]


def _outs(lib, x, op, dim, kw):
    t = lib.tensor(x)
    args = {} if dim is None else {'dim': dim}
    r = getattr(lib, op)(t, **args, **kw)
    return [a.numpy() for a in (r if isinstance(r, tuple) else (r,))]



def _short(shape, dim, op):
    """Whether the default mode takes PyTorch's order here (_moments64's default limits)."""
    n = int(np.prod(shape))
    dims = range(len(shape)) if dim is None else (dim,) if isinstance(dim, int) else dim
    k = int(np.prod([shape[d] for d in dims]))
    if k == n:
        return n <= (_moments64._TWO_PASS_MAX[0] if op in ('var', 'std') else _moments64._SCALAR_MAX[0])
    return k <= _moments64._WELFORD_MAX[0]


@pytest.fixture(params=['default', 'exact'])
def mode(request):
    was = backend.exact_kernels()
    backend.exact_kernels(request.param == 'exact')
    yield request.param
    backend.exact_kernels(was)


@pytest.mark.parametrize('shape,dim', CASES, ids=str)
@pytest.mark.parametrize('op', ['var', 'std', 'var_mean', 'std_mean'])
@pytest.mark.parametrize('kw', [{}, {'correction': 0, 'keepdim': True}], ids=['default', 'c0-keep'])
def test_float64_moments(shape, dim, op, kw, threads, mode):
    if dim is None and kw:
        kw = {'correction': 0}
    x = np.random.RandomState(len(shape) + shape[0]).randn(*shape) * 3 + 1
    want, got = _outs(torch, x, op, dim, kw), _outs(ember, x, op, dim, kw)
    exact = mode == 'exact' or _short(shape, dim, op)
    for t, e in zip(want, got):
        assert e.dtype == t.dtype and e.shape == t.shape
        if exact:
            assert np.array_equal(e, t), f'{op}{shape} dim={dim}: {int(np.sum(e != t))} of {e.size} values differ'
        else:
            np.testing.assert_allclose(e, t, rtol=1e-13, atol=0)
