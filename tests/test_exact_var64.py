"""float64 var/std/var_mean/std_mean bit for bit as PyTorch's CPU kernels (two passes for var/std of all elements,
split across threads past 32768; Welford per output otherwise), at 1 and 2 threads, over a table of shapes and dims."""
import numpy as np
import pytest
import torch

import ember
from helpers import threads  # noqa: F401  (fixture)

CASES = [((1000,), None), ((40000,), None), ((70001,), None), ((7, 33), None), ((7, 33), 1), ((7, 33), 0),
         ((4, 5, 6), (0, 2)), ((4, 5, 6), (2, 0)), ((3, 1, 4), (0, 1)), ((100, 100), None), ((300, 400), (0, 1)),
         ((2, 3, 5, 7), (1, 3)), ((1, 9), 1), ((5, 1), 0), ((64, 3, 16, 4), (0, 2, 3))]


def _outs(lib, x, op, dim, kw):
    t = lib.tensor(x)
    args = {} if dim is None else {'dim': dim}
    r = getattr(lib, op)(t, **args, **kw)
    return [a.numpy() for a in (r if isinstance(r, tuple) else (r,))]


@pytest.mark.parametrize('shape,dim', CASES, ids=str)
@pytest.mark.parametrize('op', ['var', 'std', 'var_mean', 'std_mean'])
@pytest.mark.parametrize('kw', [{}, {'correction': 0, 'keepdim': True}], ids=['default', 'c0-keep'])
def test_float64_moments(shape, dim, op, kw, threads):
    if dim is None and kw:
        kw = {'correction': 0}
    x = np.random.RandomState(len(shape) + shape[0]).randn(*shape) * 3 + 1
    want, got = _outs(torch, x, op, dim, kw), _outs(ember, x, op, dim, kw)
    for t, e in zip(want, got):
        assert e.dtype == t.dtype and e.shape == t.shape
        assert np.array_equal(e, t), f'{op}{shape} dim={dim}: {int(np.sum(e != t))} of {e.size} values differ'
